# Sourced by scripts/test.sh and scripts/bench.sh: run the calling script inside a loopback-only network
# namespace, and clean up what was left running in it.
#
#   tk_enter_loopback_netns "$@"   re-exec "$TK_SELF" (the calling script, absolute path) under `unshare -n` (root) / `unshare -rn` (otherwise) when
#                                  any interface but lo is visible; then bring lo up. Returns when isolated.
#   tk_sweep_netns                 kill -9 every process left in the namespace THIS script created
#                                  (nothing when the namespace was already there, e.g. `ip netns exec`).
#   tk_private_tmpdir NAME         export TMPDIR as a fresh directory for this run, and on exit (also on
#                                  INT/TERM/HUP/PIPE) sweep the namespace and delete it (KEEP_TMP=1 keeps it),
#                                  so an interrupted run leaves neither processes nor temp files behind.

tk_other_ifaces() { awk -F: 'NR > 2 { gsub(/ /, "", $1); if ($1 != "lo") print $1 }' /proc/net/dev; }

tk_enter_loopback_netns() {
  local -a un
  if [ -n "$(tk_other_ifaces)" ]; then
    if [ -n "${TK_NETNS_CREATED:-}" ]; then
      echo "$(basename "$0"): still not isolated after unshare (interfaces: $(tk_other_ifaces | tr '\n' ' '))" >&2
      exit 1
    fi
    if [ "$(id -u)" = 0 ]; then un=(unshare -n); else un=(unshare -rn); fi
    if ! "${un[@]}" true 2>/dev/null; then
      echo "$(basename "$0"): cannot create a network namespace with '${un[*]}'." >&2
      echo "  Run as root, or enable unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1)." >&2
      exit 1
    fi
    export TK_NETNS_CREATED=1
    exec "${un[@]}" -- bash "${TK_SELF:?set TK_SELF to the calling script}" "$@"
  fi
  command -v ip >/dev/null || { echo "$(basename "$0"): 'ip' not found (apt-get install iproute2)" >&2; exit 1; }
  ip link set lo up || { echo "$(basename "$0"): cannot bring lo up" >&2; exit 1; }
}

tk_sweep_netns() {
  [ -n "${TK_NETNS_CREATED:-}" ] || return 0
  local me ns p pid left=""
  me=$$
  ns=$(readlink /proc/$me/ns/net)
  for p in /proc/[0-9]*; do
    pid=${p#/proc/}
    [ "$pid" = "$me" ] && continue
    [ "$(readlink "$p/ns/net" 2>/dev/null)" = "$ns" ] || continue
    left+=" $pid($(cat "$p/comm" 2>/dev/null))"
    kill -9 "$pid" 2>/dev/null
  done
  [ -z "$left" ] || echo "$(basename "$0"): WARNING: killed processes left running in the namespace:$left" >&2
}

tk_private_tmpdir() {
  TK_RUN_TMP=$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX") || exit 1
  export TMPDIR=$TK_RUN_TMP
  trap tk_cleanup_run EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  trap 'exit 129' HUP
  trap 'exit 141' PIPE
}

tk_cleanup_run() {
  tk_sweep_netns
  if [ -n "${KEEP_TMP:-}" ]; then
    echo "$(basename "$0"): kept $TK_RUN_TMP" >&2
  else
    rm -rf "$TK_RUN_TMP"
  fi
}
