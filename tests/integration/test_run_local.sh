#!/bin/sh
# A real run on the local transport: flask/text and tornado/json, short phases;
# the run, its cells and phases are stored; the JSON has DESIGN.md's fields.
. "$(dirname "$0")/lib.sh"
port=$(free_port)
write_matrix "$T/m.yaml" "  transport: local
  workdir: $T/node
  cpus: \"1\"
  server_port: $port"
"$MFBENCH" run -m "$T/m.yaml" --json flask/text tornado/json >"$T/out.json" 2>"$T/err.txt"
rc=$?
expect_eq "exit status (stderr: $(tail -5 "$T/err.txt"))" "$rc" 0
expect_eq "cells" "$(json_get "$T/out.json" 'len(d["cells"])')" 2
expect_eq "run status" "$(json_get "$T/out.json" 'd["run"]["status"]')" ok
expect_eq "trigger" "$(json_get "$T/out.json" 'd["run"]["trigger"]')" cli
expect_eq "sha256 length" "$(json_get "$T/out.json" 'len(d["run"]["matrix_sha256"])')" 64
for i in 0 1; do
  expect_eq "cell $i status" "$(json_get "$T/out.json" "d['cells'][$i]['status']")" ok
  expect_eq "cell $i has phases" "$(json_get "$T/out.json" "len(d['cells'][$i]['phases']) > 0")" True
  expect_eq "cell $i requests > 0" "$(json_get "$T/out.json" "d['cells'][$i]['phases'][0]['requests'] > 0")" True
  expect_eq "cell $i no failure at the lowest level" "$(json_get "$T/out.json" "d['cells'][$i]['phases'][0]['failures']")" 0
  expect_eq "cell $i lowest level" "$(json_get "$T/out.json" "d['cells'][$i]['phases'][0]['users']")" 2
  expect_eq "cell $i python version" "$(json_get "$T/out.json" "'python' in d['cells'][$i]['versions']")" True
  expect_eq "cell $i failures_by_kind" "$(json_get "$T/out.json" "sorted(d['cells'][$i]['phases'][0]['failures_by_kind'])")" "['body', 'client', 'connect', 'protocol', 'reset', 'status', 'timeout']"
  expect_eq "cell $i latency keys" "$(json_get "$T/out.json" "sorted(d['cells'][$i]['phases'][0]['latency_ms'])")" "['max', 'mean', 'p50', 'p90', 'p99', 'p999']"
  expect_eq "cell $i server rss sampled" "$(json_get "$T/out.json" "(d['cells'][$i]['phases'][0]['server']['rss_max_kb'] or 0) > 1000")" True
done
expect_eq "capacity is the highest passing level" "$(json_get "$T/out.json" "d['cells'][0]['capacity_users']")" 6
expect_eq "flask versions" "$(json_get "$T/out.json" "'flask' in d['cells'][0]['versions']")" True
# The store has it, and history lists it.
run_id=$(json_get "$T/out.json" 'd["run"]["id"]')
"$MFBENCH" show "$run_id" --json >"$T/show.json"
expect_eq "show: same phases" "$(json_get "$T/show.json" 'sum(len(c["phases"]) for c in d["cells"])')" \
  "$(json_get "$T/out.json" 'sum(len(c["phases"]) for c in d["cells"])')"
hist=$("$MFBENCH" history)
expect_contains "history" "$hist" "flask/text"
expect_contains "history" "$hist" "tornado/json"
expect_eq "integrity" "$(sqlite3 "$MFBENCH_STORE" 'PRAGMA integrity_check')" ok
expect_eq "stored phases" "$(sqlite3 "$MFBENCH_STORE" 'select count(*) > 0 from phases')" 1
expect_eq "stored per-second series" "$(sqlite3 "$MFBENCH_STORE" 'select count(*) > 0 from phase_series')" 1
expect_no_server "$T/node"
finish
