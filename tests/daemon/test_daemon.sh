#!/bin/sh
# mfbenchd on a local node: trigger a cell and follow it to its end (status and
# trigger --wait), the same cell twice runs once, garbage on the socket while a
# job runs, cancel a queued and a running job, SIGHUP with a broken matrix, and
# the CLI without a daemon. The store is checked after each.
. "$SRC/tests/daemon/dlib.sh"

# No daemon: a clear message naming the socket, exit 1.
"$MFBENCH" status --socket "$T/none.sock" >/dev/null 2>"$T/e0.txt"
expect_eq "status without daemon exit" "$?" 1
expect_contains "no-daemon message" "$(cat "$T/e0.txt")" "no daemon at $T/none.sock"
expect_contains "no-daemon hint" "$(cat "$T/e0.txt")" "mfbench run"

daemon_matrix 2s
start_daemon || finish
"$MFBENCH" status --socket "$SOCK" >"$T/s0.txt" 2>&1
expect_eq "status exit" "$?" 0
expect_contains "idle status" "$(cat "$T/s0.txt")" "idle"

# 1. Trigger and follow: trigger --wait in the background, status polled meanwhile.
"$MFBENCH" trigger --socket "$SOCK" --wait flask/text >"$T/w1.txt" 2>"$T/w1.err" &
wpid=$!
wait_for 10 job_known 1
$CTL "$SOCK" follow 1 120 >"$T/f1.txt"
expect_eq "follow job 1" "$?" 0
expect_contains "status showed a load phase" "$(head -1 "$T/f1.txt")" "phase"
expect_eq "job 1 outcome in status" "$(sed -n 2p "$T/f1.txt" | cut -d' ' -f1)" ok
wait $wpid
expect_eq "trigger --wait exit" "$?" 0
expect_contains "trigger --wait output" "$(cat "$T/w1.txt")" "job 1: ok"
expect_contains "trigger --wait progress lines" "$(cat "$T/w1.err")" "flask/text: 2 users:"
expect_eq "run 1 stored" "$(sq "select status||','||trigger from runs where id=1")" "ok,daemon"
expect_eq "cell of run 1" "$(sq "select framework||'/'||payload||','||status from cells where run_id=1")" "flask/text,ok"
expect_eq "phases of run 1" "$(sq "select count(*) >= 1 from phases p join cells c on p.cell_id=c.id where c.run_id=1")" 1
expect_store_ok
expect_no_server "$T/node"
expect_contains "log line per phase" "$(cat "$T/daemon.log")" "<6>event=phase_end job=1 cell=flask/text"
expect_contains "the phase log line has the search's fields" \
    "$(grep -m1 'event=phase_end job=1' "$T/daemon.log")" " kind=ladder repeat=0 load_bound="

# 2. The same cell twice while another job runs: one run for it.
"$MFBENCH" trigger --socket "$SOCK" tornado/text >/dev/null 2>&1
a=$("$MFBENCH" trigger --socket "$SOCK" flask/text 2>&1)
b=$("$MFBENCH" trigger --socket "$SOCK" flask/text 2>&1)
expect_eq "first trigger queued" "$a" "job 3 queued"
expect_eq "second trigger answers the queued job" "$b" "job 3 (those cells were already queued)"
$CTL "$SOCK" wait-idle 120 >/dev/null
expect_eq "idle after the jobs" "$?" 0
expect_eq "runs after dedup" "$(sq 'select count(*) from runs')" 3
expect_eq "flask/text ran once more" "$(sq "select count(*) from cells where framework='flask' and run_id > 1")" 1
expect_store_ok

# 3. A long job: garbage on the socket while it runs, a queued job cancelled,
#    then the running one cancelled during its second phase.
daemon_matrix 4s "{start: 2, step: 2, max: 20}"
kill -HUP "$DPID"
wait_for 10 log_count_ge event=reloaded 1
out=$("$MFBENCH" trigger --socket "$SOCK" flask/text 2>&1)
expect_eq "long job" "$out" "job 4 queued"
"$MFBENCH" trigger --socket "$SOCK" tornado/text >/dev/null 2>&1
wait_for 30 run_phases_eq 4 1
$CTL "$SOCK" wait-phase 30 >/dev/null
expect_eq "second phase running" "$?" 0
marker="$T/pwned"
$CTL "$SOCK" garbage "$marker"
expect_eq "garbage answered with errors" "$?" 0
expect_eq "no marker file" "$(test -e "$marker" && echo yes || echo no)" no
st=$($CTL "$SOCK" send '{"cmd":"status"}')
expect_contains "job 4 still running after the garbage" "$st" '"job":4'
expect_contains "job 5 queued" "$st" '"queue":[{"job":5'
"$MFBENCH" cancel --socket "$SOCK" 5 >"$T/c5.txt" 2>&1
expect_eq "cancel queued exit" "$?" 0
expect_contains "cancel queued" "$(cat "$T/c5.txt")" "had not started"
"$MFBENCH" cancel --socket "$SOCK" >"$T/c4.txt" 2>&1
expect_eq "cancel running exit" "$?" 0
expect_contains "cancel running" "$(cat "$T/c4.txt")" "job 4: cancelled"
$CTL "$SOCK" wait-idle 30 >/dev/null
expect_eq "idle after cancel" "$?" 0
expect_eq "run 4 cancelled" "$(sq 'select status from runs where id=4')" cancelled
expect_eq "cell of run 4 cancelled" "$(sq 'select status from cells where run_id=4')" cancelled
expect_eq "measured phase kept" "$(sq 'select count(*) >= 1 from phases p join cells c on p.cell_id=c.id where c.run_id=4')" 1
expect_eq "no run for the cancelled queued job" "$(sq 'select count(*) from runs')" 4
expect_store_ok
expect_no_server "$T/node"
"$MFBENCH" cancel --socket "$SOCK" >/dev/null 2>"$T/c6.txt"
expect_eq "cancel with nothing running" "$?" 1
expect_contains "nothing running" "$(cat "$T/c6.txt")" "no job is running"

# 4. Unknown cells and profiles are bad usage; nothing queued.
"$MFBENCH" trigger --socket "$SOCK" 'flask/json;touch /tmp/x' >/dev/null 2>"$T/u.txt"
expect_eq "unknown cell exit" "$?" 2
"$MFBENCH" trigger --socket "$SOCK" -p nosuch flask/text >/dev/null 2>"$T/u2.txt"
expect_eq "unknown profile exit" "$?" 2

# 5. SIGHUP with a broken matrix: logged with file:line:col, the old one stays.
printf 'version: 1\nnode: [\n' >"$T/m.yaml"
kill -HUP "$DPID"
wait_for 10 log_count_ge event=reload_failed 1
expect_contains "reload error logged" "$(grep reload_failed "$T/daemon.log")" "<3>event=reload_failed error=\"$T/m.yaml:"
st=$($CTL "$SOCK" send '{"cmd":"status"}')
expect_contains "still answering after a bad reload" "$st" '"ok":true'

stop_daemon
expect_eq "socket removed at stop" "$(test -e "$SOCK" && echo yes || echo no)" no
finish
