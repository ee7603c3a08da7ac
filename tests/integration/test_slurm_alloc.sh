#!/bin/sh
# node/slurm.c on the private Slurm cluster of tests/fixtures/slurm-cluster.sh (issue 23,
# part 3), through tests/node/slurm_tool, as root and as nobody (setpriv, in a folder
# nobody owns): two allocations requested at once get two nodes; a third queues
# (PENDING Resources) and is cancelled while queued, leaving nothing in squeue and no
# salloc; a command in an allocation gets its stdin and streams its stdout back line by
# line before it ends, with its exit status; a job scancelled from outside is reported
# with Slurm's reason; an orphan is found by its name prefix (and only it) and
# cancelled. A skip (77) without the Slurm tools.
# With the argument "timelimit" (a test of its own: it waits for Slurm's time limit, a
# minute at least, checked every 30 s): a job whose time limit passes under a step is
# reported "TIMEOUT: reached its time limit", as the invoking user only.
. "$(dirname "$0")/lib.sh"
: "${SLURM_TOOL:?set SLURM_TOOL to tests/node/slurm_tool}"
. "$(dirname "$0")/slurmlib.sh"
slurm_need slurmctld slurmd munged salloc srun squeue scancel scontrol sinfo
# Copies anyone may read and run: the clone may sit in a folder nobody cannot enter.
chmod 711 "$T"
mkdir -m 755 "$T/bin" && cp "$SRC/tests/fixtures/slurm-cluster.sh" "$SLURM_TOOL" "$T/bin/" &&
  chmod 755 "$T/bin/slurm-cluster.sh" "$T/bin/slurm_tool" || {
  echo "cannot copy the fixture and the tool" >&2
  exit 1
}
FIX=$T/bin/slurm-cluster.sh
TOOL=$T/bin/slurm_tool

AS=""
D=""
STOPPED=yes
as() { $AS env SLURM_CONF="$D/etc/slurm.conf" PATH="$PATH" "$@"; }
sl() { as timeout 20 "$@"; }           # a Slurm client call, bounded
tool() { as timeout 60 "$TOOL" "$@"; } # the tool, bounded
cleanup() {
  [ "$STOPPED" = yes ] || $AS sh "$FIX" stop "$D" >/dev/null 2>&1
}
cleanup_hooks="cleanup"
gone() { ! kill -0 "$1" 2>/dev/null || [ "$(ps -o stat= -p "$1" 2>/dev/null | cut -c1)" = Z ]; }
proc_by_cmd() { pgrep -x -f "$1" 2>/dev/null | head -1; }
proc_running() { [ -n "$(proc_by_cmd "$1")" ]; }
named() { sl squeue -h -n "$1" -o '%i %T' 2>/dev/null; }

scenario() { # WHO
  who=$1
  echo "--- as $who" >&2
  STOPPED=no
  if ! $AS sh "$FIX" start "$D" 2 >"$D.start" 2>&1; then
    bad "$who: start: $(cat "$D.start")"
    return 1
  fi
  passed "$who: start: $(cat "$D.start")"
  run=$$

  # Two allocations requested at once: each granted, on two different nodes.
  tool alloc "mfbench-$run-a/text" 30000 >"$D.a" 2>&1 &
  pa=$!
  tool alloc "mfbench-$run-b/json" 30000 >"$D.b" 2>&1 &
  pb=$!
  wait "$pa"
  ra=$?
  wait "$pb"
  rb=$?
  check "$who: both allocations granted (exit codes)" "$ra $rb" "0 0"
  set -- $(cat "$D.a")
  ja=${2:-} na=${3:-} sa=${4:-}
  set -- $(cat "$D.b")
  jb=${2:-} nb=${3:-} sb=${4:-}
  check "$who: a and b RUNNING" "$sa $sb" "RUNNING RUNNING"
  check "$who: a and b on two different nodes ($na, $nb)" \
    "$(test -n "$na" && test -n "$nb" && test "$na" != "$nb" && echo yes)" yes

  # A third must queue: it is seen PENDING (Resources), then cancelled while queued.
  out=$(tool queue-cancel "mfbench-$run-c/text" 20000 2>&1)
  jc=$(echo "$out" | sed -n 's/^queued \([0-9]*\) .*/\1/p')
  check "$who: the third request is queued" "$(echo "$out" | sed -n 's/^queued [0-9]* //p')" \
    "PENDING Resources"
  check "$who: the queued request cancelled" "$(echo "$out" | sed -n 's/^cancelled //p')" \
    "${jc:-(no job id)}"
  check "$who: nothing of the queued job left in squeue" "$(named "mfbench-$run-c/text")" ""
  check "$who: no salloc left" "$(pgrep -f "salloc.*mfbench-$run-c" 2>/dev/null)" ""

  # A command in allocation a: its stdin arrives, its stdout streams back before it
  # ends (the first line at least 1.5 s before the second), its exit status.
  out=$(tool run "$ja" 30000 sh -c \
    'read x; echo "got $x on $SLURMD_NODENAME"; sleep 2; echo second; exit 7' 2>"$D.run.err")
  echo "$out" | sed 's/^/  run: /' >&2
  l1=$(echo "$out" | sed -n '1s/^+[0-9]* //p')
  t1=$(echo "$out" | sed -n '1s/^+\([0-9]*\) .*/\1/p')
  t2=$(echo "$out" | sed -n 's/^+\([0-9]*\) second$/\1/p')
  check "$who: the step read its stdin and ran on a's node" "$l1" "got in on $na"
  check "$who: the first line streamed back >= 1.5 s before the second (at ${t1:-?} and ${t2:-?} ms)" \
    "$(test -n "$t1" && test -n "$t2" && test $((t2 - t1)) -ge 1500 && echo yes)" yes
  check "$who: the step's exit status" "$(echo "$out" | grep '^exit')" "exit 7"
  check "$who: a job still running is not reported lost" "$(echo "$out" | grep -c '^lost')" 0

  # Job b cancelled from outside while a step runs in it: the step ends, the reason said.
  marker="sleep 300.$run"
  tool run "$jb" 60000 $marker >"$D.lost" 2>&1 &
  pl=$!
  wait_for 15 proc_running "(.*/)?$marker"
  sl scancel "$jb"
  if poll_until 20 gone "$pl"; then
    passed "$who: the step's srun ended after scancel $jb from outside"
  else
    bad "$who: slurm_tool run $jb still runs 20 s after scancel"
  fi
  wait "$pl" 2>/dev/null
  check_has "$who: the lost job's reason" "$(cat "$D.lost")" \
    "lost: Slurm job $jb CANCELLED: cancelled from outside mfbench"
  check "$who: the step's process is gone" "$(proc_by_cmd "(.*/)?$marker")" ""

  # An orphan (an allocation nobody holds any more, named by an earlier run) is found
  # by its prefix, and only it, then cancelled.
  orun=$((run + 1))
  out=$(tool alloc "mfbench-$orun-flask/text" 30000 2>&1)
  jo=$(echo "$out" | sed -n 's/^granted \([0-9]*\) .*/\1/p')
  check "$who: the orphan-to-be is granted b's freed node" "$(echo "$out" | cut -d' ' -f3)" "$nb"
  out=$(tool orphans "mfbench-$orun-" cancel 2>&1)
  check "$who: the orphan found by its prefix, and only it" "$out" \
    "orphan $jo mfbench-$orun-flask/text RUNNING"
  if poll_until 10 sh -c "[ -z \"\$($AS env SLURM_CONF=$D/etc/slurm.conf timeout 5 squeue -h -j $jo -t R,PD -o %i 2>/dev/null)\" ]"; then
    passed "$who: the orphan $jo no longer runs"
  else
    bad "$who: the orphan $jo still runs after its cancel"
  fi
  tool orphans "other-" >/dev/null 2>&1
  check "$who: a prefix other than mfbench- is refused" "$?" 1

  # Release a; nothing of this user is left running.
  tool cancel "$ja"
  check "$who: scancel of a" "$?" 0
  tool cancel "$ja"
  check "$who: a second scancel of a is not an error" "$?" 0
  poll_until 10 sh -c "[ -z \"\$($AS env SLURM_CONF=$D/etc/slurm.conf timeout 5 squeue -h -t R,PD -o %i 2>/dev/null)\" ]"
  check "$who: no job left running or queued" \
    "$(sl squeue -h -t R,PD -o %i 2>/dev/null)" ""

  $AS sh "$FIX" stop "$D" >"$D.stop" 2>&1
  check "$who: stop exits 0 $(cat "$D.stop")" "$?" 0
  STOPPED=yes
}

# The time limit: Slurm's smallest is a minute (TimeLimit=0:1 is rounded up to it),
# enforced at its next periodic check (30 s): 60-90 s.
timelimit() {
  who=$(id -un)
  STOPPED=no
  if ! sh "$FIX" start "$D" 1 >"$D.start" 2>&1; then
    bad "$who: start: $(cat "$D.start")"
    return 1
  fi
  out=$(tool alloc "mfbench-$$-t/text" 30000 2>&1)
  jt=$(echo "$out" | sed -n 's/^granted \([0-9]*\) .*/\1/p')
  check "$who: granted" "$(test -n "$jt" && echo yes)" yes
  sl scontrol update "JobId=$jt" TimeLimit=0:1
  check "$who: the job's time limit lowered to a minute" "$?" 0
  t0=$(date +%s)
  out=$(as timeout 150 "$TOOL" run "$jt" 140000 sleep "300.$$" 2>&1)
  echo "$out" | sed 's/^/  run: /' >&2
  check_has "$who: the step ended by the time limit, reported with the reason" "$out" \
    "lost: Slurm job $jt TIMEOUT: reached its time limit"
  echo "the time limit ended job $jt after $(($(date +%s) - t0)) s" >&2
  sh "$FIX" stop "$D" >"$D.stop" 2>&1
  check "$who: stop exits 0 $(cat "$D.stop")" "$?" 0
  STOPPED=yes
}

D=$T/root
mkdir -m 700 "$D"
if [ "${1:-}" = timelimit ]; then
  timelimit
  finish
fi
scenario "$(id -un)"

if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null 2>&1; then
  D=$T/nobody
  mkdir -m 700 "$D" && chown 65534:65534 "$D"
  AS="setpriv --reuid=65534 --regid=65534 --clear-groups"
  scenario nobody
else
  echo "NOTE: not root: the unprivileged run (setpriv nobody) is skipped" >&2
fi

finish
