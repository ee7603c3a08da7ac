#!/bin/sh
# mfbenchd and the store's guards (issue 13, item 5): a job meeting a foreground
# `mfbench run` on its node and store fails at once naming that run and pid; a
# write error mid-job (a file size limit put on the daemon with prlimit: EFBIG,
# as a full disk gives ENOSPC) ends the run interrupted with the cells not run
# stored as such, and the daemon lives on.
. "$SRC/tests/daemon/dlib.sh"
command -v prlimit >/dev/null || { echo "SKIP: prlimit (util-linux) not found" >&2; exit 77; }
port=$(free_port)
mkdir -p "$T/tgt"
cp "$SRC/tests/methodology/target.py" "$T/tgt/"
start='{python} {dir}/target.py --host {host} --port {port} --mode rate --rate 100000'
cat >"$T/m.yaml" <<YAML
version: 1
node: {transport: local, workdir: $T/node, cpus: "1", server_port: $port}
load: {cpus: "0"}
defaults: {duration: 1s, warmup: 0s, spawn_rate: 10000, think: 0s, refine: 0, timeout: 2s,
           users: {start: 2, step: 2, max: 16}, ready_timeout: 20s}
payloads:
  text: {path: /text, body: "Hello World!", content_type: text/plain}
frameworks:
  a: {start: "$start", dir: ./tgt}
  b: {start: "$start", dir: ./tgt}
  c: {start: "$start", dir: ./tgt}
YAML
export XDG_RUNTIME_DIR="$T/run"
mkdir -m 700 "$XDG_RUNTIME_DIR"
running_pid() { sq "SELECT owner_pid FROM runs WHERE status = 'running'" 2>/dev/null; }
has_running() { [ -n "$(running_pid)" ]; }
has_phase_of() { [ -n "$(sq "SELECT 1 FROM phases p JOIN cells c ON p.cell_id = c.id WHERE c.run_id = $1 LIMIT 1" 2>/dev/null)" ]; }
start_daemon "$T/m.yaml" || finish

# 1. A foreground run holds the node and the store: the job fails at once.
"$MFBENCH" run -m "$T/m.yaml" --store "$DB" -q a/text >/dev/null 2>"$T/fg.err" &
fg=$!
wait_for 30 has_running
mpid=$(running_pid)
rid=$(sq "SELECT id FROM runs WHERE status = 'running'")
timeout 60 "$MFBENCH" trigger --socket "$SOCK" --wait a/text >"$T/t1.out" 2>"$T/t1.err"
expect_eq "job beside a foreground run: trigger --wait exit" "$?" 1
expect_contains "the daemon says why" "$(grep event=busy "$T/daemon.log")" \
  "node busy: run $rid (pid $mpid, user $(id -un))"
expect_eq "the foreground run still runs" "$(sq "SELECT status FROM runs WHERE id = $rid")" running
wait "$fg"
expect_eq "the foreground run: exit ($(tail -3 "$T/fg.err"))" "$?" 0

# 2. A write error mid-job.
"$MFBENCH" trigger --socket "$SOCK" a/text b/text c/text >"$T/t2.out" 2>&1
run=$((rid + 1))
wait_for 60 has_phase_of "$run"
prlimit --pid "$DPID" --fsize="$(stat -c %s "$DB-wal")"
expect_eq "prlimit on the daemon" "$?" 0
wait_for 90 log_count_ge "event=job_end job=2 run=$run" 1
expect_contains "the write error is logged with the store" "$(grep event=exec_error "$T/daemon.log")" \
  "$DB: "
expect_eq "run interrupted" "$(sq "SELECT status FROM runs WHERE id = $run")" interrupted
expect_eq "every cell listed, none running" \
  "$(sq "SELECT group_concat(framework || ':' || status, ' ') FROM (SELECT * FROM cells WHERE run_id = $run ORDER BY seq)")" \
  "a:interrupted b:interrupted c:interrupted"
expect_contains "cells not run say so" \
  "$(sq "SELECT error FROM cells WHERE run_id = $run AND framework = 'c'")" "not run: the job stopped"
expect_eq "the daemon lives on" "$(kill -0 "$DPID" 2>/dev/null && echo alive)" alive
expect_store_ok
stop_daemon
expect_no_server "$T/node"
finish
