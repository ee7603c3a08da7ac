#!/bin/sh
# A store written by schema v1 (its SQL read from store.c's first migration
# step) opens with this build: migrated to the current version, old rows kept,
# new columns at their defaults, the JSON carries the new fields; the search's
# phases, kind 'linear' from v2 to v7, are rewritten 'ladder' by v8.
# v10 adds the database per phase: null (not sampled) and db_bound false on old rows.
. "$SRC/tests/integration/lib.sh"
db="$T/v1.db"
$PY - "$SRC/store/store.c" "$db" <<'PY' || bad "could not build a v1 store"
import ast, re, sqlite3, sys
src = open(sys.argv[1]).read()
a = src.index("static const char *const migrations[] = {")
b = src.index("/* 1 -> 2", a)
sql = "".join(ast.literal_eval('"' + p + '"') for p in re.findall(r'"((?:[^"\\]|\\.)*)"', src[a:b]))
db = sqlite3.connect(sys.argv[2])
db.executescript(sql + "PRAGMA user_version = 1;"
                 "INSERT INTO runs(started_at, status) VALUES('2020-01-01T00:00:00Z', 'ok');"
                 "INSERT INTO cells(run_id, seq, framework, payload, status, capacity_users,"
                 " peak_rps) VALUES(1, 0, 'flask', 'text', 'ok', 5, 100);"
                 "INSERT INTO phases(cell_id, seq, users, duration_s, requests, failures,"
                 " fail_connect, fail_timeout, fail_reset, fail_status, fail_body, fail_protocol,"
                 " fail_client, bytes_read, missed_schedule, load_bound, client_bound)"
                 " VALUES(1, 0, 5, 1.0, 100, 0, 0, 0, 0, 0, 0, 0, 0, 1200, 0, 0, 0);")
db.close()
PY
expect_eq "v1 file" "$(sqlite3 "$db" 'PRAGMA user_version')" 1
MFBENCH_STORE="$db" "$MFBENCH" show 1 --json >"$T/show.json" 2>"$T/err.txt"
expect_eq "show exit status ($(cat "$T/err.txt"))" "$?" 0
expect_eq "migrated" "$(sqlite3 "$db" 'PRAGMA user_version')" 13
expect_eq "phase kind rewritten" "$(sqlite3 "$db" 'SELECT kind FROM phases')" ladder
expect_eq "no settings on an old run" "$(json_get "$T/show.json" 'd["run"].get("settings")')" None
expect_eq "old cell kept" "$(json_get "$T/show.json" 'd["cells"][0]["capacity_users"]')" 5
expect_eq "repeats default" "$(json_get "$T/show.json" 'd["cells"][0]["repeats"]')" 1
expect_eq "phase kind default" "$(json_get "$T/show.json" 'd["cells"][0]["phases"][0]["kind"]')" ladder
expect_eq "sampler cost unknown" "$(json_get "$T/show.json" 'd["cells"][0]["phases"][0]["sampler_cpu_pct"]')" None
expect_eq "client steal unknown" "$(json_get "$T/show.json" 'd["cells"][0]["phases"][0]["client_steal_pct"]')" None
expect_eq "no held setting on an old cell" "$(json_get "$T/show.json" 'd["cells"][0]["held_setting"]')" None
expect_eq "an old cell ran on its run's node, no Slurm job" \
  "$(json_get "$T/show.json" '(d["cells"][0]["node"]["host"] == d["run"]["node"]["host"], d["cells"][0]["node"]["slurm_job_id"])')" "(True, None)"
expect_eq "an old cell's node fingerprint is its run's" \
  "$(json_get "$T/show.json" 'd["cells"][0]["node"]["fingerprint"] == d["run"]["node"]["fingerprint"]')" True
expect_eq "database not sampled" "$(json_get "$T/show.json" 'd["cells"][0]["phases"][0]["database"]')" None
expect_eq "not db-bound" "$(json_get "$T/show.json" 'd["cells"][0]["phases"][0]["db_bound"]')" False
expect_eq "in flight default" "$(json_get "$T/show.json" 'd["cells"][0]["phases"][0]["in_flight"]')" 0
expect_eq "integrity" "$(sqlite3 "$db" 'PRAGMA integrity_check')" ok
finish
