#!/bin/sh
# mfbenchd's control-socket clients (issue 13): silent clients are closed after
# the idle timeout so 64 of them cannot lock everyone out, subscribed ones
# (subscribe, trigger --wait) are kept, and one uid holds at most 16 connections
# (root too) while another uid still gets through; a SIGHUP with deeply nested
# YAML does not block the loop.
. "$SRC/tests/daemon/dlib.sh"

# start_with ARGS...: start_daemon with mfbenchd's hidden test options.
start_with() {
  "$MFBENCHD" -m "$T/m.yaml" --store "$DB" --socket "$SOCK" "$@" 2>>"$T/daemon.log" &
  DPID=$!
  poll_until 10 test -S "$SOCK" || { bad "daemon did not start: $(tail -5 "$T/daemon.log")"; return 1; }
}

daemon_matrix 2s

# 1. Idle timeout 1 s, no per-uid cap to speak of: 64 silent clients (one with
#    half a request) and 2 subscribers fill every slot; the silent ones go.
start_with --client-idle-timeout 1 --clients-per-uid 64 || finish
$CTL "$SOCK" idle 1 flask/text >"$T/idle.txt" 2>&1
expect_eq "idle scenario ($(cat "$T/idle.txt"))" "$?" 0
expect_eq "silent clients logged closed" \
  "$(grep -c 'event=client_idle_closed' "$T/daemon.log" | awk '{print ($1 >= 61)}')" 1
expect_contains "the half line is in the log" "$(cat "$T/daemon.log")" "partial_bytes=11"
expect_contains "the client that does not read is cut" "$(cat "$T/daemon.log")" "event=client_cut uid=$(id -u)"
expect_contains "the 65th client logged refused" "$(cat "$T/daemon.log")" "event=client_refused uid=$(id -u) reason=total"
# trigger --wait subscribes: kept through a job longer than the idle timeout.
"$MFBENCH" trigger --socket "$SOCK" --wait tornado/text >"$T/w.txt" 2>"$T/w.err"
expect_eq "trigger --wait past the idle timeout ($(tail -3 "$T/w.err"))" "$?" 0
expect_contains "trigger --wait outcome" "$(cat "$T/w.txt")" ": ok"
$CTL "$SOCK" wait-idle 60 >/dev/null
stop_daemon

# 2. The per-uid cap at its default (16), with a long idle timeout.
rm -f "$T/daemon.log"
start_with --client-idle-timeout 60 || finish
if [ "$(id -u)" = 0 ]; then
  chmod 0711 "$T"
  chmod 0666 "$SOCK"
  cp "$SRC/tests/daemon/ctl.py" "$T/ctl.py"
  chmod 0644 "$T/ctl.py"
fi
$CTL "$SOCK" hold 16 60 "$T/release" >"$T/hold.txt" 2>&1 &
hpid=$!
wait_for 30 grep -q "held 16" "$T/hold.txt"
out=$($CTL "$SOCK" send '{"cmd":"status"}' 2>&1)
expect_contains "17th connection of uid $(id -u) refused" "$out" \
  "too many connections from uid $(id -u) (at most 16 per user)"
expect_contains "the refusal is logged" "$(cat "$T/daemon.log")" \
  "event=client_refused uid=$(id -u) reason=per_uid"
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
  out=$(setpriv --reuid=65534 --regid=65534 --clear-groups $PY "$T/ctl.py" "$SOCK" send '{"cmd":"status"}' 2>&1)
  expect_contains "uid 65534 gets through while root is capped" "$out" '"ok":true'
  out=$($CTL "$SOCK" send '{"cmd":"status"}' 2>&1)
  expect_contains "root still capped" "$out" "at most 16 per user"
else
  echo "SKIP: another uid's connection (needs root and setpriv; running as uid $(id -u))" >&2
fi
touch "$T/release"
wait $hpid
expect_eq "the 16 held clients are kept ($(cat "$T/hold.txt"))" "$?" 0
# Once they are gone, the uid is let in again.
out=$($CTL "$SOCK" send '{"cmd":"status"}' 2>&1)
expect_contains "let in after the others closed" "$out" '"ok":true'

# 2b. Other uids cannot lock the service out (issue 25): four uids in the socket's
#     group hold 16, 16, 16 and 15 quiet clients (63 of 64); a fifth uid's client is
#     refused, the last slot being kept for the service's own uid (root here), whose
#     trigger, as the nightly timer's, still gets in.
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
  rm -f "$T/release2"
  hpids=""
  for u in 65531:16 65532:16 65533:16 65534:15; do
    setpriv --reuid="${u%:*}" --regid="${u%:*}" --clear-groups $PY "$T/ctl.py" "$SOCK" \
      hold "${u#*:}" 60 "$T/release2" >"$T/hold${u%:*}.txt" 2>&1 &
    hpids="$hpids $!"
    wait_for 30 grep -q "held ${u#*:}" "$T/hold${u%:*}.txt"
  done
  setpriv --reuid=65530 --regid=65530 --clear-groups $PY "$T/ctl.py" "$SOCK" \
    hold 1 60 "$T/release2" >"$T/hold65530.txt" 2>&1 &
  h5=$!
  # Refused: answered and closed at once (the client may see the answer or a reset).
  wait_for 30 sh -c "grep -q 'held 1' '$T/hold65530.txt' || ! kill -0 $h5 2>/dev/null"
  expect_eq "a fifth uid is refused the reserved slot ($(tail -1 "$T/hold65530.txt"))" \
    "$(grep -c 'held 1' "$T/hold65530.txt")" 0
  expect_contains "the refusal is logged" "$(cat "$T/daemon.log")" \
    "event=client_refused uid=65530 reason=reserved"
  "$MFBENCH" trigger --socket "$SOCK" tornado/text >"$T/t5.txt" 2>&1
  expect_eq "the service's uid triggers with 63 slots held by others ($(cat "$T/t5.txt"))" "$?" 0
  touch "$T/release2"
  # shellcheck disable=SC2086 # the pids, one word each
  wait $hpids
  expect_eq "the other uids' clients were kept" "$?" 0
  wait $h5 2>/dev/null
  $CTL "$SOCK" wait-idle 60 >/dev/null
else
  echo "SKIP: other uids filling the slots (needs root and setpriv; running as uid $(id -u))" >&2
fi

# 3. SIGHUP with 100 KB of nested '[' (libyaml took 26 s on it): refused at
#    once by the loader's nesting cap, the old matrix kept, the loop answering.
cp "$T/m.yaml" "$T/m.good"
$PY -c 'import sys; sys.stdout.write("x: " + "[" * 100000 + "\n")' >"$T/m.yaml"
kill -HUP "$DPID"
wait_for 3 log_count_ge event=reload_failed 1
expect_contains "reload names the nesting" "$(grep event=reload_failed "$T/daemon.log")" \
  "m.yaml:1:68: nesting deeper than 64 levels"
# shellcheck disable=SC2086 # CTL is "python3 ctl.py"
out=$(timeout 2 $CTL "$SOCK" send '{"cmd":"status"}' 2>&1)
expect_contains "status right after the reload" "$out" '"ok":true'
cp "$T/m.good" "$T/m.yaml"
stop_daemon
finish
