#!/usr/bin/env bash
# Install the npm test tools that cannot be project dependencies: the `bittorrent-tracker` server (its
# WebRTC dependency, node-datachannel, downloads a native binary at install time, which fails offline; the
# server never loads it). Installed with --ignore-scripts into .tools/npm (or $TK_NPM_TOOLS), which the
# interop tests look in. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
dir="${TK_NPM_TOOLS:-$PWD/.tools/npm}"
if [ -f "$dir/node_modules/bittorrent-tracker/server.js" ]; then
  echo "bittorrent-tracker already in $dir"; exit 0
fi
mkdir -p "$dir"
[ -f "$dir/package.json" ] || echo '{"name":"torrentkit-test-tools","private":true}' > "$dir/package.json"
(cd "$dir" && npm install --no-audit --no-fund --ignore-scripts --loglevel=error bittorrent-tracker@11.2.3)
node -e "console.log('bittorrent-tracker', require('$dir/node_modules/bittorrent-tracker/package.json').version)"
