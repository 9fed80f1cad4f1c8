#!/usr/bin/env bash
# npm run bench: the download benchmark (bench/download.ts, compiled to dist/bench/download.js) inside a
# loopback-only network namespace. Not part of the tests. Knobs (see bench/download.ts): BENCH_SIZE_MIB,
# BENCH_PIECE, BENCH_RUNS, BENCH_CLIENTS, BENCH_VERIFY, BENCH_JSON.
set -uo pipefail
TK_SELF="$(cd "$(dirname "$0")" && pwd)/$(basename "$0")"
cd "$(dirname "$TK_SELF")/.." || exit 1
. scripts/lib/netns.sh
tk_enter_loopback_netns "$@"
tk_private_tmpdir tk-bench
[ -f dist/bench/download.js ] || { echo "bench.sh: dist/bench/download.js missing (npm run build)" >&2; exit 1; }
node dist/bench/download.js "$@"
