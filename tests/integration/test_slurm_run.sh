#!/bin/sh
# mfbench run on the private Slurm cluster (tests/fixtures/slurm-cluster.sh, 2 logical
# nodes of one core each), through the dispatcher (exec/dispatch.c): each cell on an
# allocation of its own, run there as `run --json-events -m -`, stored here. The
# orchestration is judged, not the figures (a node's server and engine share its core).
#   1. three cells, max_parallel 3: two run at once on the two nodes (their phases
#      overlap), the third queues (PENDING) until a node frees; all ok, each with its
#      node and job id; nothing left in squeue;
#   2. a job scancelled from outside: its cell ends error with Slurm's reason, the
#      other ok; run exit 1;
#   3. SIGTERM of mfbench run: it exits within the bound, no job left in squeue, no
#      server left, the cells stored cancelled (or interrupted), the run interrupted;
#   4. a Slurm run and a local run of the same cell have the same JSON keys;
#   5. as nobody (when root): a cluster, a run and a store of nobody's, two cells ok.
# Known-answer targets (tests/methodology/target.py), no pip. A skip (77) without Slurm.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/slurmlib.sh"
slurm_need slurmctld slurmd munged salloc srun squeue scancel scontrol sinfo
slurm_up 2
sl() { timeout 20 "$@"; }
our_jobs() { sl squeue -h -t R,PD,CG -o '%i %j %T' 2>/dev/null | grep ' mfbench-' || true; }
no_jobs() { [ -z "$(sl squeue -h -t R,PD,CG -o %i 2>/dev/null)" ]; }
servers_left() { pgrep -f "$T/node/slot-[0-9]+/(targets|user)/" 2>/dev/null | tr '\n' ' '; }

mkdir -p "$T/tgt"
cp "$SRC/tests/methodology/target.py" "$T/tgt/"
port=$(free_ports 3)
# slurm_matrix FILE MAX_PARALLEL DURATION LEVELS: three known-answer targets. No CPU is
# pinned (cpus ""): the nodes' cores are this machine's, and CPU 1 is not ours to pin.
slurm_matrix() {
  cat >"$1" <<YAML
version: 1
node:
  transport: ${5:-slurm}
  workdir: $T/node
  cpus: ""
  server_port: $port
$([ "${5:-slurm}" = slurm ] && echo "  slurm: {partition: bench, time_limit: 5m, max_parallel: $2}")
load:
  cpus: ""
defaults:
  duration: $3
  warmup: 0s
  spawn_rate: 10000
  think: {min: 0s, max: 0s}
  users: {start: 2, step: 2, max: $((2 * $4))}
  refine: 0
  timeout: 2s
  ready_timeout: 20s
payloads:
  text: {path: /text, body: "Hello World!", content_type: text/plain}
frameworks:
  ta:
    dir: ./tgt
    start: "{python} {dir}/target.py --host {host} --port {port} --mode rate --rate 100000 --delay-ms 2"
  tb:
    dir: ./tgt
    start: "{python} {dir}/target.py --host {host} --port {port} --mode rate --rate 100000 --delay-ms 2"
  tc:
    dir: ./tgt
    start: "{python} {dir}/target.py --host {host} --port {port} --mode rate --rate 100000 --delay-ms 2"
YAML
}

# squeue sampled every 0.2 s while a run goes: "STATE NAME" lines, one sample a line.
sample_squeue() { # OUT
  while :; do
    echo "$(sl squeue -h -o '%T:%j:%N' 2>/dev/null | tr '\n' ' ')" >>"$1"
    sleep 0.2
  done
}

# ---- 1. two at once, a third queued
echo "--- 1. three cells on two nodes, max_parallel 3" >&2
slurm_matrix "$T/m3.yaml" 3 2s 2
sample_squeue "$T/q1" &
sq=$!
timeout 200 "$MFBENCH" run -m "$T/m3.yaml" --store "$T/s1.db" --json ta/text tb/text tc/text \
  >"$T/r1.json" 2>"$T/r1.err"
rc=$?
kill "$sq" 2>/dev/null
wait "$sq" 2>/dev/null
check "1: run exit status (stderr: $(tail -5 "$T/r1.err"))" "$rc" 0
check "1: three cells ok" "$(json_get "$T/r1.json" '" ".join(c["status"] for c in d["cells"])')" \
  "ok ok ok"
check "1: every cell has its node and its own job id" \
  "$(json_get "$T/r1.json" 'len(set(c["node"]["slurm_job_id"] for c in d["cells"] if c["node"]["slurm_job_id"])) == 3 and all(c["node"]["host"] in ("n1", "n2") for c in d["cells"])')" \
  True
check "1: the cells ran on both nodes" \
  "$(json_get "$T/r1.json" '" ".join(sorted(set(c["node"]["host"] for c in d["cells"])))')" "n1 n2"
check "1: every cell says its CPU is shared" \
  "$(json_get "$T/r1.json" 'all("shared CPU" in (c["note"] or "") for c in d["cells"])')" True
# Two running at once, seen by squeue, and a third queued while they ran.
check "1: two jobs RUNNING at once on two nodes (squeue)" \
  "$(grep -c 'RUNNING:mfbench-[0-9]*-t./text:n1 .*RUNNING:mfbench-[0-9]*-t./text:n2\|RUNNING:mfbench-[0-9]*-t./text:n2 .*RUNNING:mfbench-[0-9]*-t./text:n1' "$T/q1" | awk '{print ($1 > 0) ? "yes" : "no"}')" yes
check "1: a third job PENDING while two ran (squeue)" \
  "$(grep 'PENDING:mfbench-' "$T/q1" | grep -c 'RUNNING:mfbench-.*RUNNING:mfbench-' | awk '{print ($1 > 0) ? "yes" : "no"}')" yes
# Phases overlap: both first cells started their first phase before either ended.
first_end=$(grep -n ': ok$' "$T/r1.err" | head -1 | cut -d: -f1)
starts=$(grep -n 'phase 1: ' "$T/r1.err" | cut -d: -f1 | head -2 | tr '\n' ' ')
set -- $starts
check "1: two cells' phases overlap (phase 1 of both at lines ${1:-?} ${2:-?}, first end at ${first_end:-?})" \
  "$(test -n "${2:-}" && test -n "$first_end" && test "$2" -lt "$first_end" && echo yes)" yes
poll_until 10 no_jobs
check "1: no job left in squeue" "$(our_jobs)" ""
check "1: no server left" "$(servers_left)" ""

# ---- 2. a job cancelled from outside
echo "--- 2. a job scancelled from outside" >&2
slurm_matrix "$T/m2.yaml" 2 3s 3
timeout 200 "$MFBENCH" run -m "$T/m2.yaml" --store "$T/s2.db" --json ta/text tb/text \
  >"$T/r2.json" 2>"$T/r2.err" &
pr=$!
ja=""
job_of_ta() {
  ja=$(sl squeue -h -t R -o '%i %j' 2>/dev/null | awk '$2 ~ /^mfbench-[0-9]+-ta\/text$/ {print $1}')
  [ -n "$ja" ]
}
wait_for 60 job_of_ta
# Into its measured phases: the first phase line of ta on stderr.
wait_for 60 grep -q '^ta/text: phase 1' "$T/r2.err"
[ -n "$ja" ] && sl scancel "$ja"
wait "$pr"
rc=$?
check "2: run exit status 1 (a cell not ok)" "$rc" 1
check "2: ta error, tb ok" "$(json_get "$T/r2.json" '" ".join(c["framework"] + ":" + c["status"] for c in d["cells"])' | tr ' ' '\n' | sort | tr '\n' ' ')" \
  "ta:error tb:ok "
check_has "2: ta's error is Slurm's reason" \
  "$(json_get "$T/r2.json" '[c["error"] for c in d["cells"] if c["framework"] == "ta"][0]')" \
  "Slurm job $ja CANCELLED: cancelled from outside mfbench"
check "2: ta's job id recorded" \
  "$(json_get "$T/r2.json" '[c["node"]["slurm_job_id"] for c in d["cells"] if c["framework"] == "ta"][0]')" "$ja"
poll_until 10 no_jobs
check "2: no job left in squeue" "$(our_jobs)" ""
check "2: no server left" "$(servers_left)" ""

# ---- 3. SIGTERM of mfbench run
echo "--- 3. SIGTERM while two cells run" >&2
slurm_matrix "$T/m4.yaml" 2 5s 4
"$MFBENCH" run -m "$T/m4.yaml" --store "$T/s3.db" ta/text tb/text >"$T/r3.out" 2>"$T/r3.err" &
pr=$!
two_running() { [ "$(sl squeue -h -t R -o %j 2>/dev/null | grep -c '^mfbench-')" -ge 2 ]; }
wait_for 60 two_running
# Both cells in their first phase (each stored as begun): a cell whose node-side run had not
# begun when SIGTERM came is not stored at all, as in a local run (seen once under ASan).
both_in_phase() { grep -q 'ta/text: phase 1' "$T/r3.err" && grep -q 'tb/text: phase 1' "$T/r3.err"; }
wait_for 60 both_in_phase
kill -TERM "$pr"
t0=$(date +%s)
exited() { ! kill -0 "$pr" 2>/dev/null; }
if poll_until 40 exited; then
  passed "3: mfbench run exited $(($(date +%s) - t0)) s after SIGTERM"
else
  bad "3: mfbench run still runs 40 s after SIGTERM"
  kill -KILL "$pr" 2>/dev/null
fi
wait "$pr"
check "3: exit status 1" "$?" 1
check "3: no job left in squeue right after the exit" "$(our_jobs | grep -v COMPLETING)" ""
poll_until 10 no_jobs
check "3: no server left" "$(servers_left)" ""
# The node's mfbench got Slurm's SIGTERM: cancelled as a local run's, or interrupted when
# its stream did not end; never ok nor error.
check "3: the cells stored cancelled or interrupted" \
  "$(sqlite3 "$T/s3.db" "select count(*) from cells where status in ('cancelled', 'interrupted')")" 2
check "3: the run stored interrupted" "$(sqlite3 "$T/s3.db" 'select status from runs')" interrupted

# ---- 4. the same JSON keys as a local run
echo "--- 4. a Slurm run's JSON keys = a local run's" >&2
slurm_matrix "$T/ml.yaml" 1 1s 1 local
timeout 120 "$MFBENCH" run -m "$T/ml.yaml" --store "$T/s4.db" ta/text >/dev/null 2>"$T/r4.err"
check "4: local run exit status (stderr: $(tail -3 "$T/r4.err"))" "$?" 0
"$MFBENCH" show last --store "$T/s4.db" --json >"$T/local.json"
"$MFBENCH" show last --store "$T/s1.db" --json >"$T/slurm.json"
keys() { # FILE: every key path of the run and of its first cell (first phase only)
  $PY - "$1" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
out = set()
def walk(x, p):
    if isinstance(x, dict):
        for k, v in x.items():
            out.add(p + "." + k)
            walk(v, p + "." + k)
    elif isinstance(x, list) and x:
        walk(x[0], p + "[]")
walk(d["run"], "run")
walk(d["cells"][0], "cell")
print(" ".join(sorted(out)))
PY
}
keys "$T/slurm.json" | tr ' ' '\n' >"$T/k.slurm"
keys "$T/local.json" | tr ' ' '\n' >"$T/k.local"
check "4: show --json keys, Slurm run = local run ($(wc -l <"$T/k.local") keys)" \
  "$(diff "$T/k.local" "$T/k.slurm" | grep '^[<>]' | tr '\n' ' ')" ""
check "4: a local cell's node is its run's, no job id" \
  "$(json_get "$T/local.json" 'd["cells"][0]["node"]["host"] == d["run"]["node"]["host"] and d["cells"][0]["node"]["slurm_job_id"] is None')" True

sh "$FIX" stop "$D" >"$D.stop" 2>&1
check "cluster stop" "$?" 0
STOPPED=yes

# ---- 5. as nobody: a cluster of nobody's, two cells at once, stored in nobody's store
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null 2>&1 && nobody_bin; then
  echo "--- 5. as nobody" >&2
  AS="setpriv --reuid=65534 --regid=65534 --clear-groups"
  N=$T/nobody
  mkdir -m 700 "$N" && cp "$FIX" "$T/bin/slurm-cluster.sh" && mkdir -p "$N/tgt" &&
    cp "$SRC/tests/methodology/target.py" "$N/tgt/" && chown -R 65534:65534 "$N" &&
    chmod 755 "$T/bin/slurm-cluster.sh"
  D=$N/cluster
  STOPPED=no
  slurm_cleanup() { [ "$STOPPED" = yes ] || $AS sh "$T/bin/slurm-cluster.sh" stop "$D" >/dev/null 2>&1; }
  if $AS sh "$T/bin/slurm-cluster.sh" start "$D" 2 >"$T/n.start" 2>&1; then
    sed "s|$T/node|$N/node|; s|\./tgt|$N/tgt|" "$T/m3.yaml" >"$N/m.yaml" && chown 65534 "$N/m.yaml"
    $AS env SLURM_CONF="$D/etc/slurm.conf" PATH="$PATH" HOME="$N" XDG_STATE_HOME="$N/state" \
      MFBENCH_TARGETS="$T/bin/targets" timeout 200 "$NOBODY_MFBENCH" run -m "$N/m.yaml" \
      --store "$N/s.db" --json ta/text tb/text >"$T/r5.json" 2>"$T/r5.err"
    check "5: nobody's run exit status (stderr: $(tail -3 "$T/r5.err"))" "$?" 0
    check "5: both cells ok, on both nodes" \
      "$(json_get "$T/r5.json" '" ".join(sorted(c["status"] + "@" + c["node"]["host"] for c in d["cells"]))')" \
      "ok@n1 ok@n2"
    check "5: nobody's jobs all released" \
      "$(SLURM_CONF="$D/etc/slurm.conf" timeout 20 squeue -h -t R,PD -o %i 2>/dev/null)" ""
    $AS sh "$T/bin/slurm-cluster.sh" stop "$D" >/dev/null 2>&1
    check "5: nobody's cluster stops" "$?" 0
  else
    bad "5: nobody's cluster did not start: $(cat "$T/n.start")"
  fi
  STOPPED=yes
else
  echo "NOTE: not root (or no setpriv): the run as nobody is skipped" >&2
fi
finish
