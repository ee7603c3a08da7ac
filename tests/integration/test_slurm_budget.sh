#!/bin/sh
# The matrix's budget on a Slurm node (issue 23): mfbenchd starts a cell only when the
# time the job has taken plus that cell's own worst case fits in the budget (each cell on
# a free slot of its own ends by then: exec/dispatch.h says why this bounds the job). On
# the private cluster (2 logical nodes), 3 cells of the same worst case W on
# max_parallel 2, budget W + 3 s: the packing of 2 cells on 2 slots (W) fits, of 3 (2 W)
# does not. The first two start at once and run (ok); when a slot frees, more than 3 s
# have gone by, so the third is stored skipped with reason budget, never asked of Slurm.
# A skip (77) without Slurm.
. "$(dirname "$0")/lib.sh"
: "${MFBENCHD:?set MFBENCHD to the mfbenchd binary}"
. "$(dirname "$0")/slurmlib.sh"
slurm_need slurmctld slurmd munged salloc srun squeue scancel scontrol sinfo
SOCK=$T/control.sock
DB=$T/d.db
slurm_up 2

mkdir -p "$T/tgt"
cp "$SRC/tests/methodology/target.py" "$T/tgt/"
port=$(free_ports 3)
matrix() { # FILE BUDGET FRAMEWORKS...
  f=$1 b=$2
  shift 2
  {
    cat <<YAML
version: 1
$([ -n "$b" ] && echo "budget: $b")
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
  users: {start: 2, step: 2, max: 2}
  refine: 0
  timeout: 1s
  ready_timeout: 5s
payloads:
  text: {path: /text, body: "Hello World!", content_type: text/plain}
profiles:
  nightly: {}
frameworks:
YAML
    for fw in "$@"; do
      echo "  $fw: {dir: ./tgt, start: \"{python} {dir}/target.py --host {host} --port {port} --mode rate --rate 100000\"}"
    done
  } >"$f"
}
# W: one cell's worst case on this node, as check gives it.
matrix "$T/one.yaml" "" ta
"$MFBENCH" check -m "$T/one.yaml" --json >"$T/one.json" 2>"$T/one.err"
expect_eq "check of one cell ($(cat "$T/one.err"))" "$?" 0
W=$(json_get "$T/one.json" 'd["nightly"]["max_duration_s"]')
budget=$((W + 3))
echo "one cell's worst case W = ${W} s; budget ${budget} s" >&2
matrix "$T/m.yaml" "${budget}s" ta tb tc
"$MFBENCH" check -m "$T/m.yaml" --json >"$T/check.json" 2>"$T/check.err"
expect_eq "check of three cells ($(cat "$T/check.err"))" "$?" 0
expect_eq "check: three cells on 2 slots pack to 2 W, past the budget" \
  "$(json_get "$T/check.json" 'd["nightly"]["max_duration_s"] >= 2 * '"$W"' - 2 and d["nightly"]["max_duration_s"] > '"$budget")" True

"$MFBENCHD" -m "$T/m.yaml" --store "$DB" --socket "$SOCK" 2>>"$T/daemon.log" &
DPID=$!
poll_until 10 test -S "$SOCK" || bad "daemon did not start: $(tail -5 "$T/daemon.log")"
timeout 250 "$MFBENCH" trigger --socket "$SOCK" --wait -p nightly ta/text tb/text tc/text \
  >"$T/w.out" 2>"$T/w.err"
expect_eq "trigger --wait exit 1 (a skipped cell is not ok) ($(tail -3 "$T/w.err"))" "$?" 1
expect_eq "two cells ran ok, the third skipped ($(sqlite3 "$DB" "select error from cells where status = 'error'"))" \
  "$(sqlite3 "$DB" "select framework || ':' || status from cells order by framework" | tr '\n' ' ')" \
  "ta:ok tb:ok tc:skipped "
expect_contains "the third's reason is the budget" \
  "$(sqlite3 "$DB" "select error from cells where framework = 'tc'")" \
  "budget: this cell may take up to"
expect_eq "the skipped cell never had a Slurm job" \
  "$(sqlite3 "$DB" "select coalesce(slurm_job_id, 'none') from cells where framework = 'tc'")" none
expect_eq "the two that ran had a job each" \
  "$(sqlite3 "$DB" "select count(distinct slurm_job_id) from cells where status = 'ok'")" 2
expect_contains "the daemon logged the skip" "$(cat "$T/daemon.log")" "skipped: budget"

kill -TERM "$DPID" 2>/dev/null
wait "$DPID" 2>/dev/null
DPID=""
sh "$FIX" stop "$D" >"$D.stop" 2>&1
expect_eq "cluster stop" "$?" 0
STOPPED=yes
finish
