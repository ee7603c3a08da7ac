#!/bin/sh
# mfbenchd on the private Slurm cluster (2 logical nodes): a job on a Slurm node runs
# through the dispatcher; `status` shows each running cell with its node and Slurm job
# id; `cancel` cancels the allocations (nothing left in squeue, the job cancelled); a
# daemon killed (SIGKILL) with allocations held, restarted: its orphaned allocations are
# cancelled (by the name prefix, only its dead run's) and the run and its cells are marked
# interrupted. A skip (77) without Slurm.
. "$(dirname "$0")/lib.sh"
: "${MFBENCHD:?set MFBENCHD to the mfbenchd binary}"
. "$(dirname "$0")/slurmlib.sh"
slurm_need slurmctld slurmd munged salloc srun squeue scancel scontrol sinfo
SOCK=$T/control.sock
DB=$T/d.db
slurm_up 2
sl() { timeout 20 "$@"; }
jobs_left() { sl squeue -h -t R,PD -o '%i %j' 2>/dev/null; }
no_jobs() { [ -z "$(sl squeue -h -t R,PD,CG -o %i 2>/dev/null)" ]; }

mkdir -p "$T/tgt"
cp "$SRC/tests/methodology/target.py" "$T/tgt/"
port=$(free_ports 3)
cat >"$T/m.yaml" <<YAML
version: 1
node:
  transport: slurm
  workdir: $T/node
  cpus: ""
  server_port: $port
  slurm: {partition: bench, time_limit: 5m, max_parallel: 2}
load:
  cpus: ""
defaults:
  duration: 4s
  warmup: 0s
  spawn_rate: 10000
  think: {min: 0s, max: 0s}
  users: {start: 2, step: 2, max: 10}
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
YAML
start_daemon() {
  "$MFBENCHD" -m "$T/m.yaml" --store "$DB" --socket "$SOCK" 2>>"$T/daemon.log" &
  DPID=$!
  poll_until 10 test -S "$SOCK" || bad "daemon did not start: $(tail -5 "$T/daemon.log")"
}
status_json() { "$MFBENCH" status --socket "$SOCK" --json 2>/dev/null; }
two_running() {
  status_json >"$T/st.json" &&
    [ "$($PY -c 'import json,sys; r=json.load(open(sys.argv[1]))["running"] or {}; print(sum(1 for c in r.get("slurm_cells", []) if c["state"] == "running" and c["host"] and c["slurm_job_id"]))' "$T/st.json")" = 2 ]
}

# ---- a job, its status, its cancel
start_daemon
"$MFBENCH" trigger --socket "$SOCK" ta/text tb/text >"$T/trig.out" 2>&1
check "trigger exit status ($(cat "$T/trig.out"))" "$?" 0
wait_for 60 two_running
check "status --json: two cells running, each with its node and job id" \
  "$($PY -c 'import json,sys; r=json.load(open(sys.argv[1]))["running"]; print(" ".join(sorted(c["cell"] + "@" + c["host"] for c in r["slurm_cells"])))' "$T/st.json" | sed 's/@n[12]/@n/g')" \
  "ta/text@n tb/text@n"
jobs=$($PY -c 'import json,sys; r=json.load(open(sys.argv[1]))["running"]; print(" ".join(sorted(str(c["slurm_job_id"]) for c in r["slurm_cells"])))' "$T/st.json")
check "the job ids are squeue's" "$(sl squeue -h -t R -o %i | sort | tr '\n' ' ' | sed 's/ $//')" "$jobs"
"$MFBENCH" status --socket "$SOCK" >"$T/st.txt" 2>&1
case "$(cat "$T/st.txt")" in
*"ta/text: running on n"*", Slurm job "*) passed "status shows the cell, its node and its job" ;;
*) bad "status: $(cat "$T/st.txt")" ;;
esac
"$MFBENCH" cancel --socket "$SOCK" >/dev/null 2>&1
check "cancel exit status" "$?" 0
ended() {
  status_json >"$T/st2.json" &&
    [ "$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["state"])' "$T/st2.json")" = idle ]
}
wait_for 40 ended
poll_until 10 no_jobs
check "after cancel: no job left in squeue" "$(jobs_left)" ""
check "the run cancelled" "$(sqlite3 "$DB" 'select status from runs order by id desc limit 1')" cancelled
check "its cells cancelled or interrupted, never ok ($(sqlite3 "$DB" "select group_concat(framework || ':' || status || ':' || coalesce(error, ''), '; ') from cells"))" \
  "$(sqlite3 "$DB" "select count(*) from cells where status in ('cancelled', 'interrupted')")" 2

# ---- killed with allocations held, restarted
"$MFBENCH" trigger --socket "$SOCK" ta/text tb/text >/dev/null 2>&1
wait_for 60 two_running
run=$(sqlite3 "$DB" 'select max(id) from runs')
cells_stored() { [ "$(sqlite3 "$DB" "select count(*) from cells where run_id = $run")" = 2 ]; }
wait_for 60 cells_stored # both streams begun: their cells have rows
kill -KILL "$DPID"
wait "$DPID" 2>/dev/null
DPID=""
check "killed: its allocations still held" "$(sl squeue -h -t R -o %j | grep -c "^mfbench-$run-")" 2
start_daemon
poll_until 30 no_jobs
check "restarted: the orphaned allocations cancelled" "$(jobs_left)" ""
check "the daemon said so" "$(grep -c 'event=slurm_orphan_cancelled' "$T/daemon.log")" 2
check "the dead run marked interrupted" "$(sqlite3 "$DB" "select status from runs where id = $run")" \
  interrupted
check "its cells not ok (interrupted)" \
  "$(sqlite3 "$DB" "select count(*) from cells where run_id = $run and status = 'interrupted'")" 2
stop_daemon
# Under -Db_sanitize the daemon's reports land in its log.
check "no sanitizer report from mfbenchd" "$(grep -c 'Sanitizer\|runtime error' "$T/daemon.log")" 0
sh "$FIX" stop "$D" >/dev/null 2>&1
STOPPED=yes
finish
