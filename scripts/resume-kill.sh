#!/usr/bin/env bash
# Issue 14 acceptance, the long form: a 256 MiB download from a libtorrent seeder SIGKILLed at 10 random moments
# and restarted each time; prints per kill the pieces trusted / re-checked / found and the verified pieces lost
# (must be 0). Runs inside the loopback namespace through scripts/test.sh. Builds first.
#
#   scripts/resume-kill.sh [sequential|rarest] [RATE (default 8M)] [RESUME_INTERVAL_S (default 5)]
set -euo pipefail
cd "$(dirname "$0")/.."
npm run build >/dev/null
TK_RESUME_LONG=1 TK_RESUME_ORDER="${1:-sequential}" TK_RESUME_RATE="${2:-8M}" TK_RESUME_INTERVAL="${3:-5}" \
  TK_TEST_VERBOSE=1 exec bash scripts/test.sh interop resume-kill-long
