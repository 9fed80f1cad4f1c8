#!/usr/bin/env bash
# Run torrentkit's compiled tests (npm run build puts them in dist/test/**) with node:test.
#
#   scripts/test.sh [all|unit|interop|sim] [FILTER]
#
# FILTER (optional) keeps only test files whose path contains it (e.g. `scripts/test.sh interop resume`).
#
# Safety: the tests run inside a loopback-only network namespace. When this shell can see any interface
# other than lo, the script re-executes itself under `unshare -n` (as root) or `unshare -rn` (otherwise),
# brings lo up and runs there: anything aimed off the machine (a DHT router, a public tracker, multicast
# without an interface) fails with ENETUNREACH. When it created the namespace, it kills whatever a test
# left running in it at the end.
#
# Environment: CI=true makes interop tests fail (not skip) when a peer program is missing;
# TK_TEST_TIMEOUT (s, default 1080) bounds the whole node --test run; KEEP_TMP=1 keeps temp dirs;
# TK_TEST_VERBOSE=1 echoes the tests' progress notes on stderr; LT_PY picks the libtorrent python.
set -uo pipefail
TK_SELF="$(cd "$(dirname "$0")" && pwd)/$(basename "$0")"
cd "$(dirname "$TK_SELF")/.." || exit 1

mode=${1:-all}
filter=${2:-}
case "$mode" in
  all | unit | interop | sim) ;;
  -h | --help) sed -n '2,17p' "$0"; exit 0 ;;
  *) echo "usage: scripts/test.sh [all|unit|interop|sim] [FILTER]" >&2; exit 2 ;;
esac

# ---- 1. loopback-only network namespace ------------------------------------------------------------
. scripts/lib/netns.sh
tk_enter_loopback_netns "$@"
tk_private_tmpdir tk-test

# ---- 2. which compiled test files ------------------------------------------------------------------
case "$mode" in
  all) dirs=(unit sim interop) ;;
  *) dirs=("$mode") ;;
esac
files=()
for d in "${dirs[@]}"; do
  [ -d "dist/test/$d" ] || continue
  while IFS= read -r f; do
    src="${f#dist/}"
    src="${src%.js}.ts"
    [ -f "$src" ] || continue # stale output of a deleted test
    [ -z "$filter" ] || [[ "$f" == *"$filter"* ]] || continue
    files+=("$f")
  done < <(find "dist/test/$d" -name '*.test.js' | sort)
done
if [ ${#files[@]} -eq 0 ]; then
  echo "test.sh: no compiled test files for '$mode'${filter:+ matching '$filter'} under dist/test (run npm run build)" >&2
  exit 1
fi

echo "test.sh: $mode, ${#files[@]} test files, node $(node --version), network namespace: lo only$([ -n "${CI:-}" ] && echo ', CI')"

# ---- 3. run ----------------------------------------------------------------------------------------
results=$(mktemp -d)
tap="$results/results.tap"
# One file at a time: interop tests start real clients and time them; 2-core machines.
# Run in the background and wait, so INT/TERM reach this script at once; they are forwarded to the run,
# and whatever it leaves behind is swept from the namespace on exit.
timeout --foreground --signal=TERM --kill-after=20 "${TK_TEST_TIMEOUT:-1080}" \
  node --test --test-concurrency=1 --test-timeout=600000 \
  --test-reporter=spec --test-reporter-destination=stdout \
  --test-reporter=tap --test-reporter-destination="$tap" \
  "${files[@]}" &
child=$!
interrupted=""
trap 'interrupted=130; kill -TERM "$child" 2>/dev/null' INT
trap 'interrupted=143; kill -TERM "$child" 2>/dev/null' TERM HUP
rc=0
wait "$child" || rc=$?
while kill -0 "$child" 2>/dev/null; do # a trapped signal interrupts wait: wait for the real status
  rc=0
  wait "$child" || rc=$?
done
trap 'exit 130' INT
trap 'exit 143' TERM HUP
[ $rc -eq 124 ] && echo "test.sh: the test run exceeded ${TK_TEST_TIMEOUT:-1080} s and was stopped" >&2
[ -n "$interrupted" ] && { echo "test.sh: interrupted" >&2; rc=$interrupted; }

# ---- 4. summary (from the TAP stream) --------------------------------------------------------------
count() { local v; v=$(grep -E "^# $1 [0-9.]+$" "$tap" | tail -1 | awk '{print $3}'); echo "${v:-0}"; }
if grep -qE "^# tests [0-9]+$" "$tap" 2>/dev/null; then
  echo
  echo "SUMMARY: tests $(count tests), pass $(count pass), fail $(count fail), skipped $(count skipped), todo $(count todo), cancelled $(count cancelled), $(count duration_ms | cut -d. -f1) ms"
  if [ "$(count skipped)" != 0 ]; then
    grep -E '^ *ok .* # SKIP' "$tap" | sed -E 's/^ *ok [0-9]+ - /  skipped: /' | sort -u
  fi
  echo "$(count pass) passed, $(count fail) failed"
else
  echo "test.sh: no summary: the run did not finish (rc $rc)" >&2
  [ $rc -ne 0 ] || rc=1
fi
rm -rf "$results"
exit $rc
