#!/bin/sh
# mfbenchd's signals. SIGHUP: the matrix is parsed off the loop, which keeps
# answering `status` during a slow parse of a ~1 MB matrix; a second SIGHUP meanwhile is
# refused; the new matrix is then in use. Stopped during a load phase: SIGTERM
# ends it within 10 s with the run and cell "interrupted" and the server stopped;
# after SIGKILL the server is left on the node, and the next start stops it and
# marks the run interrupted. The phases measured before are kept in both cases.
# A job that does not stop by the deadline (a server that ignores SIGTERM, the
# deadline shortened to 1 s): the daemon exits at once (status 1) with the local
# server's group killed, the run left running; the next start marks it interrupted.
. "$SRC/tests/daemon/dlib.sh"

daemon_matrix 3s "{start: 2, step: 2, max: 20}"

# ms: a monotonic-enough clock in milliseconds.
ms() { date +%s%3N; }

# SIGHUP with a slow parse (--reload-delay stands in for a slow file) of a valid
# matrix padded to ~1 MB: the loop answers meanwhile.
DAEMON_ARGS="--reload-delay 8" start_daemon || finish
cp "$T/m.yaml" "$T/m.orig"
{
  cat "$T/m.orig"
  $PY -c 'import sys; sys.stdout.write(("# " + "x" * 97 + "\n") * 10000)'
} >"$T/m.yaml"
want_sha=$(sha256sum "$T/m.yaml" | cut -d' ' -f1)
kill -HUP "$DPID"
wait_for 3 log_count_ge event=reload_started 1
expect_eq "reload started" "$?" 0
kill -HUP "$DPID"
wait_for 3 log_count_ge event=reload_refused 1
expect_eq "a second SIGHUP during the parse is refused" "$?" 0
worst=0
for i in 1 2 3 4; do
  t0=$(ms)
  st=$($CTL "$SOCK" send '{"cmd":"status"}' 2>&1)
  dt=$(($(ms) - t0))
  [ "$dt" -gt "$worst" ] && worst=$dt
  expect_contains "status answered during the reload ($i)" "$st" '"ok":true'
done
echo "slowest status during the reload: $worst ms" >&2
# The parse sleeps 8 s: a loop that parsed would answer after it.
[ "$worst" -lt 2000 ] && ok || bad "status took $worst ms during the reload (the loop was held)"
expect_eq "not yet reloaded while the status calls ran" "$(grep -c event=reloaded "$T/daemon.log")" 0
wait_for 15 log_count_ge event=reloaded 1
expect_eq "reloaded after the parse" "$?" 0
expect_contains "the new matrix is in use" "$(grep event=reloaded "$T/daemon.log")" "sha256=$want_sha"
stop_daemon
cp "$T/m.orig" "$T/m.yaml"
: >"$T/daemon.log"

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

# The forced stop: a server that ignores SIGTERM holds the executor in its stop
# grace (5 s) past a deadline of 1 s.
mkdir -p "$T/stubborn"
cat >"$T/stubborn/app.py" <<'PY'
import argparse, signal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
signal.signal(signal.SIGTERM, signal.SIG_IGN)
ap = argparse.ArgumentParser()
ap.add_argument("--host")
ap.add_argument("--port", type=int)
a = ap.parse_args()
class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        b = b"Hello World!"
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(b)))
        self.end_headers()
        self.wfile.write(b)
    def log_message(self, *args):
        pass
ThreadingHTTPServer((a.host, a.port), H).serve_forever()
PY
cat >>"$T/m.yaml" <<'YAML'
  stubborn: {start: "{python} {dir}/app.py --host {host} --port {port}", dir: ./stubborn}
YAML
: >"$T/daemon.log"
DAEMON_ARGS="--stop-deadline 1" start_daemon || finish
"$MFBENCH" trigger --socket "$SOCK" stubborn/text >/dev/null 2>&1
$CTL "$SOCK" wait-phase 60 >/dev/null
expect_eq "the stubborn server is in a phase" "$?" 0
run=$(sq "select max(id) from runs")
stubborn_gone() { ! pgrep -f "$T/node/(targets|user)/.*stubborn.*app.py" >/dev/null; }
stubborn_gone
expect_eq "the stubborn server runs" "$?" 1
t0=$(ms)
kill -TERM "$DPID"
wait_gone "$DPID" 4
expect_eq "forced stop within 4 s" "$?" 0
wait "$DPID"
expect_eq "exit status of a forced stop" "$?" 1
DPID=""
echo "forced stop took $(($(ms) - t0)) ms" >&2
expect_contains "forced stop logged" "$(cat "$T/daemon.log")" "event=stopped forced=1 server_killed=1"
expect_eq "run left running for the next start" "$(sq "select status from runs where id=$run")" running
poll_until 5 stubborn_gone
expect_eq "no server left after the forced stop" "$?" 0
expect_eq "socket removed (forced)" "$(test -e "$SOCK" && echo yes || echo no)" no
start_daemon || finish
wait_for 10 log_count_ge "event=runs_interrupted count=1" 1
expect_eq "the next start recovered the run" "$?" 0
expect_eq "run interrupted after the forced stop" "$(sq "select status from runs where id=$run")" interrupted
expect_no_server "$T/node"
expect_store_ok
stop_daemon
finish
