#!/bin/sh
# The matrix's budget (issue 12): a job whose worst case does not fit runs its
# cheapest cells first, and a cell that cannot fit in what is left is stored
# skipped with reason budget (never dropped); the job_start event and
# `mfbench check --json` carry the worst case.
. "$SRC/tests/daemon/dlib.sh"
port=$(free_port)
cat >"$T/m.yaml" <<YAML
version: 1
budget: 60s
node: {transport: local, workdir: $T/node, cpus: "1", server_port: $port}
load: {cpus: "0"}
defaults: {duration: 2s, warmup: 500ms, spawn_rate: 1000, think: 0s, users: {start: 2, max: 2},
           timeout: 1s, ready_timeout: 5s, refine: 0}
payloads:
  text: {path: /text, body: "Hello World!", content_type: text/plain}
frameworks:
  tornado: {server: tornado, users: {start: 2, factor: 2, max: 64}}
  flask: {server: werkzeug}
profiles:
  nightly: {}
YAML
# The estimate: flask/text 30 s of provisioning + 1 phase x (2 + 1 + 2 + 5) s;
# tornado/text 6 levels (2 ... 64): 30 + 6 x 10 s.
"$MFBENCH" check -m "$T/m.yaml" --json >"$T/check.json" 2>"$T/check.err"
expect_eq "check --json exit ($(cat "$T/check.err"))" "$?" 0
expect_eq "check: nightly worst case" "$(json_get "$T/check.json" 'd["nightly"]["max_duration_s"]')" 130
expect_eq "check: nightly profile" "$(json_get "$T/check.json" 'd["nightly"]["profile"]')" nightly
expect_eq "check: budget" "$(json_get "$T/check.json" 'd["nightly"]["budget_s"] == 60')" True
expect_eq "check: profile cells" "$(json_get "$T/check.json" 'd["profiles"]["nightly"]["cells"]')" 2

start_daemon || finish
"$MFBENCH" trigger --socket "$SOCK" --wait --all -p nightly >"$T/w.txt" 2>"$T/w.err" &
tpid=$!
# While the job runs, status carries the same worst case as the job_start event.
running() { "$MFBENCH" status --socket "$SOCK" --json >"$T/st.json" 2>/dev/null &&
  json_get "$T/st.json" 'd["running"] is not None' | grep -q True; }
wait_for 20 running
expect_eq "status: the job's worst case" "$(json_get "$T/st.json" 'd["running"]["max_duration_s"]')" 130
expect_eq "status: the budget" "$(json_get "$T/st.json" 'd["running"]["budget_s"]')" 60
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
expect_contains "job_start logs the worst case" "$(cat "$T/daemon.log")" "max_duration_s=130 budget_s=60"
expect_contains "the skip is logged" "$(cat "$T/daemon.log")" "event=cell_skipped job=1 cell=tornado/text reason=budget"
expect_store_ok
finish
