# dlib.sh - for the daemon tests: lib.sh plus starting and stopping mfbenchd
# with its own socket, store, node workdir and server port.
# Needs MFBENCH, MFBENCHD, SRC.
. "$SRC/tests/integration/lib.sh"
: "${MFBENCHD:?set MFBENCHD to the mfbenchd binary}"
CTL="$PY $SRC/tests/daemon/ctl.py"
SOCK="$T/control.sock"
DB="$T/results.db"
DPID=""

# daemon_matrix [DURATION] [USERS_YAML]: a local-node matrix under $T.
daemon_matrix() {
  port=$(free_port)
  node="  transport: local
  workdir: $T/node
  cpus: \"1\"
  server_port: $port"
  write_matrix "$T/m.yaml" "$node"
  if [ -n "${1:-}" ]; then
    sed -i "s/^  duration: .*/  duration: $1/" "$T/m.yaml"
  fi
  if [ -n "${2:-}" ]; then
    sed -i "s/^  users: .*/  users: $2/" "$T/m.yaml"
  fi
}

start_daemon() { # [matrix file]; DAEMON_ARGS: more options (words)
  # shellcheck disable=SC2086 # DAEMON_ARGS is a list of words
  "$MFBENCHD" -m "${1:-$T/m.yaml}" --store "$DB" --socket "$SOCK" ${DAEMON_ARGS:-} 2>>"$T/daemon.log" &
  DPID=$!
  poll_until 10 test -S "$SOCK" || { bad "daemon did not start: $(tail -5 "$T/daemon.log")"; return 1; }
}

# wait_gone PID SECONDS: 0 when the process ended within the time.
gone() { ! kill -0 "$1" 2>/dev/null; }
wait_gone() { poll_until "$2" gone "$1"; }

stop_daemon() {
  [ -n "$DPID" ] || return 0
  kill -TERM "$DPID" 2>/dev/null
  wait_gone "$DPID" 15 || kill -KILL "$DPID" 2>/dev/null
  wait "$DPID" 2>/dev/null
  DPID=""
  # Under -Db_sanitize the daemon's reports land in its log.
  if grep -q "Sanitizer\|runtime error" "$T/daemon.log"; then
    bad "sanitizer report from mfbenchd: $(grep -A12 "Sanitizer\|runtime error" "$T/daemon.log" | head -30)"
  fi
}
cleanup_hooks="stop_daemon"

sq() { sqlite3 "$DB" "$1"; }

# Predicates for wait_for: the daemon's status names job N (queued, running or
# recent); the log has at least N lines matching PATTERN; run N has N2 phases.
job_known() { $CTL "$SOCK" send '{"cmd":"status"}' 2>/dev/null | grep -Eq "\"job\":$1[,}]"; }
log_count_ge() { [ "$(grep -c -- "$1" "$T/daemon.log")" -ge "$2" ]; }
run_phases_eq() {
  [ "$(sq "select count(*) from phases p join cells c on p.cell_id=c.id where c.run_id=$1" 2>/dev/null)" = "$2" ]
}
expect_store_ok() {
  expect_eq "PRAGMA integrity_check" "$(sqlite3 "$DB" 'PRAGMA integrity_check')" ok
}
