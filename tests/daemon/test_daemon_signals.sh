#!/bin/sh
# mfbenchd stopped during a load phase: SIGTERM ends it within 10 s with the run
# and cell "interrupted" and the server stopped; after SIGKILL the server is left
# on the node, and the next start stops it and marks the run interrupted. The
# phases measured before are kept in both cases.
. "$SRC/tests/daemon/dlib.sh"

daemon_matrix 3s "{start: 2, step: 2, max: 20}"

# wait_second_phase RUN: a phase of the run is stored and the next one runs.
wait_second_phase() {
  wait_for 30 run_phases_eq "$1" 1 || return 1
  $CTL "$SOCK" wait-phase 30 >/dev/null
}

# SIGTERM.
start_daemon || finish
"$MFBENCH" trigger --socket "$SOCK" flask/text tornado/text >/dev/null 2>&1
wait_second_phase 1
expect_eq "in the second phase" "$?" 0
t0=$(date +%s)
kill -TERM "$DPID"
wait_gone "$DPID" 10
expect_eq "stopped within 10 s" "$?" 0
wait "$DPID"
expect_eq "exit status after SIGTERM" "$?" 0
DPID=""
echo "SIGTERM took $(($(date +%s) - t0)) s" >&2
expect_eq "run interrupted" "$(sq 'select status from runs where id=1')" interrupted
expect_eq "cells interrupted" "$(sq "select group_concat(framework||':'||status, ' ') from cells where run_id=1")" "flask:interrupted tornado:interrupted"
expect_eq "measured phase kept" "$(sq 'select count(*) from phases p join cells c on p.cell_id=c.id where c.run_id=1')" 1
expect_store_ok
expect_no_server "$T/node"
expect_eq "socket removed" "$(test -e "$SOCK" && echo yes || echo no)" no

# SIGKILL, then start again.
start_daemon || finish
"$MFBENCH" trigger --socket "$SOCK" flask/text >/dev/null 2>&1
wait_second_phase 2
expect_eq "in the second phase (2)" "$?" 0
kill -KILL "$DPID"
wait "$DPID" 2>/dev/null
DPID=""
left=$(pgrep -f "$T/node/(targets|user)/" | tr '\n' ' ')
case "$left" in "") bad "a server should be left on the node after SIGKILL" ;; *) ok ;; esac
expect_eq "run still running in the store" "$(sq 'select status from runs where id=2')" running
start_daemon || finish
wait_for 15 log_count_ge event=stale_server_stopped 1
expect_no_server "$T/node"
expect_eq "run marked interrupted at start" "$(sq 'select status from runs where id=2')" interrupted
expect_eq "cell marked interrupted" "$(sq 'select status from cells where run_id=2')" interrupted
expect_eq "phase kept after SIGKILL" "$(sq 'select count(*) from phases p join cells c on p.cell_id=c.id where c.run_id=2')" 1
expect_contains "restart logged the interrupted run" "$(cat "$T/daemon.log")" "event=runs_interrupted count=1"
expect_contains "restart stopped the left server" "$(cat "$T/daemon.log")" "event=stale_server_stopped"
expect_store_ok
st=$($CTL "$SOCK" send '{"cmd":"status"}')
expect_contains "answers after restart" "$st" '"state":"idle"'
stop_daemon
finish
