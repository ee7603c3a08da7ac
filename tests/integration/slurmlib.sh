# slurmlib.sh - what the Slurm tests share (issue 23), sourced after lib.sh:
#   slurm_need TOOL...   skip (77) unless every Slurm tool is on PATH or in /usr/sbin;
#                        /usr/sbin is added to PATH
#   slurm_up [NODES]     the private cluster (tests/fixtures/slurm-cluster.sh) in
#                        $T/cluster ($D), its SLURM_CONF exported; stopped on exit
#                        unless STOPPED=yes (set it once a test stopped it itself)
#   free_ports N         the first of N consecutive ports free on 127.0.0.1 (slot K's
#                        server listens on server_port + K: two logical nodes share
#                        this host)
#   passed / check / check_has   a PASS line for what held, FAIL for what did not
#   stop_daemon          a daemon started as $DPID: SIGTERM, SIGKILL after 30 s
slurm_need() {
  for p in "$@"; do
    command -v "$p" >/dev/null 2>&1 || PATH=$PATH:/usr/sbin command -v "$p" >/dev/null 2>&1 || {
      echo "SKIP: no $p (packages slurm-wlm munge)" >&2
      exit 77
    }
  done
  PATH=$PATH:/usr/sbin
}

passed() { ok; echo "PASS: $*" >&2; }
check() { # what actual expected
  if [ "$2" = "$3" ]; then passed "$1 ($2)"; else bad "$1: got '$2', expected '$3'"; fi
}
check_has() { # what haystack needle
  case "$2" in *"$3"*) passed "$1" ;; *) bad "$1: '$3' not in: $2" ;; esac
}

FIX=$SRC/tests/fixtures/slurm-cluster.sh
STOPPED=yes
DPID=""
stop_daemon() {
  [ -n "$DPID" ] || return 0
  kill -TERM "$DPID" 2>/dev/null
  poll_until 30 sh -c "! kill -0 $DPID 2>/dev/null" || kill -KILL "$DPID" 2>/dev/null
  wait "$DPID" 2>/dev/null
  DPID=""
}
slurm_cleanup() {
  stop_daemon
  [ "$STOPPED" = yes ] || sh "$FIX" stop "$D" >/dev/null 2>&1
}
slurm_up() {
  D=$T/cluster
  mkdir -m 700 "$D"
  cleanup_hooks="$cleanup_hooks slurm_cleanup"
  STOPPED=no
  if ! sh "$FIX" start "$D" "${1:-2}" >"$D.start" 2>&1; then
    bad "cluster start: $(cat "$D.start")"
    finish
  fi
  eval "$(sh "$FIX" env "$D")"
  export SLURM_CONF
}

free_ports() {
  $PY -c 'import socket, sys
n = int(sys.argv[1])
for _ in range(100):
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close()
    try:
        for q in range(p, p + n):
            t = socket.socket(); t.bind(("127.0.0.1", q)); t.close()
    except OSError:
        continue
    print(p); break' "$1"
}
