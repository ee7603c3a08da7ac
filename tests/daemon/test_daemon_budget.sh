#!/bin/sh
# The matrix's budget (issue 12): a job whose worst case does not fit runs its
# cheapest cells first, and a cell that cannot fit in what is left is stored
# skipped with reason budget (never dropped); the job_start event and
# `mfbench check --json` carry the worst case. What is left is the budget less
# the time the job has taken (issue 21): tornado's worst case (248 s) fits in
# the budget (250 s) on its own but not after flask has run (>= 2.5 s).
# The worst case counts every command on the node at its timeout (issue 21
# item 5): node.command_timeout is 5 s here so the numbers stay readable.
. "$SRC/tests/daemon/dlib.sh"
port=$(free_port)
cat >"$T/m.yaml" <<YAML
version: 1
budget: 250s
node: {transport: local, workdir: $T/node, cpus: "1", server_port: $port, command_timeout: 5s}
load: {cpus: "0"}
defaults: {duration: 2s, warmup: 500ms, spawn_rate: 1000, think: 0s, users: {start: 2, max: 2},
           timeout: 1s, ready_timeout: 5s, refine: 0}
payloads:
  text: {path: /text, body: "Hello World!", content_type: text/plain}
frameworks:
  tornado: {server: tornado, users: {start: 2, factor: 2, max: 4}}
  flask: {server: werkzeug}
profiles:
  nightly: {}
YAML
# The estimate, by hand from exec/worst.c's list (a command: 5 s + 1.5 s for a
# local node to end one that outlived it = 6.5 s; a stop: 5 s grace + 15 s +
# 5 s / 4, + 1.5 s = 22.75 s; with 1 s grace 18.75 s):
#   the run, once: node facts 6.5 + targets upload 2 x 6.5 + a left server's
#     stop 22.75 = 42.25 s;
#   a cell, once: venv 6.5 + versions 6.5 + the last stop 22.75 + a failed
#     start's stop 18.75 + the log's tail 6.5 = 61 s;
#   a phase: 2 s + 1 s drain + sampler start, finish and alive check 3 x 6.5
#     + 1 s local + a fresh server (two stops 2 x 22.75, port check, start and
#     an alive check 3 x 6.5, readiness 5 s) 70 = 93.5 s.
# flask/text, 1 level: 61 + 93.5 = 154.5 s; tornado/text, 2 levels (2, 4):
# 61 + 2 x 93.5 = 248 s; the matrix: 42.25 + 154.5 + 248 = 444.75, 445 s.
"$MFBENCH" check -m "$T/m.yaml" --json >"$T/check.json" 2>"$T/check.err"
expect_eq "check --json exit ($(cat "$T/check.err"))" "$?" 0
expect_eq "check: nightly worst case" "$(json_get "$T/check.json" 'd["nightly"]["max_duration_s"]')" 445
expect_eq "check: nightly profile" "$(json_get "$T/check.json" 'd["nightly"]["profile"]')" nightly
expect_eq "check: budget" "$(json_get "$T/check.json" 'd["nightly"]["budget_s"] == 250')" True
expect_eq "check: profile cells" "$(json_get "$T/check.json" 'd["profiles"]["nightly"]["cells"]')" 2

start_daemon || finish
"$MFBENCH" trigger --socket "$SOCK" --wait --all -p nightly >"$T/w.txt" 2>"$T/w.err" &
tpid=$!
# While the job runs, status carries the same worst case as the job_start event
# (null in the moment before the worker has worked it out).
running() { "$MFBENCH" status --socket "$SOCK" --json >"$T/st.json" 2>/dev/null &&
  json_get "$T/st.json" 'd["running"] is not None and d["running"]["max_duration_s"] is not None' |
  grep -q True; }
wait_for 20 running
expect_eq "status: the job's worst case" "$(json_get "$T/st.json" 'd["running"]["max_duration_s"]')" 445
expect_eq "status: the budget" "$(json_get "$T/st.json" 'd["running"]["budget_s"]')" 250
expect_eq "status: eta within the worst case" \
  "$(json_get "$T/st.json" '0 <= d["running"]["eta_max_s"] <= d["running"]["max_duration_s"]')" True
wait "$tpid"
expect_eq "trigger --wait exit (a skipped cell is not ok)" "$?" 1
expect_eq "cells in cheapest-first order" \
  "$(sq "select group_concat(framework, ',') from (select framework from cells where run_id = 1 order by seq)")" \
  "flask,tornado"
expect_eq "flask ran" "$(sq "select status from cells where run_id = 1 and framework = 'flask'")" ok
expect_eq "tornado skipped for the budget" \
  "$(sq "select status || ':' || substr(error, 1, 7) from cells where run_id = 1 and framework = 'tornado'")" \
  "skipped:budget:"
expect_contains "job_start logs the worst case" "$(cat "$T/daemon.log")" "max_duration_s=445 budget_s=250"
expect_contains "the skip is logged" "$(cat "$T/daemon.log")" "event=cell_skipped job=1 cell=tornado/text reason=budget"
# What was left: the budget less at least flask's phase (2.5 s), and more than
# the budget less the whole job so far (the run's steps and flask's worst
# case bound it: 250 - 42.25 - 154.5 = 53.25).
left=$(sed -n 's/.*event=cell_skipped job=1 cell=tornado\/text reason=budget need_s=248 left_s=\([0-9]*\).*/\1/p' "$T/daemon.log")
[ -n "$left" ] && [ "$left" -lt 248 ] && [ "$left" -ge 53 ] && ok ||
  bad "left_s '$left' of a 250 s budget after flask ran: expected 53-247 ($(grep event=cell_skipped "$T/daemon.log"))"
expect_contains "the stored reason says what was left" \
  "$(sq "select error from cells where run_id = 1 and framework = 'tornado'")" \
  "may take up to 248 s and $left s of the matrix's budget (250 s) are left"
expect_store_ok
finish
