#!/bin/sh
# The database payloads end to end on the local transport, with the node's real PostgreSQL
# (skipped, 77, without /usr/lib/postgresql/N/bin/initdb): the run starts a private cluster
# before the first database cell and stops it at the end (also when the run is stopped with
# SIGTERM); each server gets --db-dsn and --db-pool; good answers pass, a framework that
# caches queries and one that does not escape its fortunes are errors saying why; a database
# that is down makes the database cells errors with PostgreSQL's message while the others run.
# The server is tests/fixtures/db_server.py (standard library + psql), not targets/.
. "$(dirname "$0")/lib.sh"
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || {
  echo "SKIP: no PostgreSQL binaries (apt-get install postgresql)" >&2; exit 77; }
port=$(free_port)
# targets/ as shipped, plus TechEmpower's schema where the run looks for it (until targets/
# has its own).
cp -R "$SRC/targets" "$T/targets" && mkdir -p "$T/targets/_shared/db" || exit 1
[ -f "$T/targets/_shared/db/create-postgres.sql" ] ||
  cp "$SRC/tests/fixtures/pg/create-postgres.sql" "$T/targets/_shared/db/"
export MFBENCH_TARGETS="$T/targets"
mkdir -p "$T/app" && cp "$SRC/tests/fixtures/db_server.py" "$T/app/app.py" &&
  cp "$SRC/tests/fixtures/hello_server.py" "$T/app/hello.py" || exit 1
matrix() { # FILE DATABASE_YAML
  cat >"$1" <<YAML
version: 1
node: {transport: local, workdir: $T/node, cpus: "1", server_port: $port}
load: {cpus: "0"}
database: $2
defaults:
  duration: 2s
  warmup: 500ms
  spawn_rate: 1000
  think: {min: 0s, max: 0s}
  users: {start: 2, step: 2, max: 2}
  refine: 0
  timeout: 10s
  ready_timeout: 30s
payloads:
  text: {path: /text, body: "Hello World!"}
  db: {verify: db}
  queries: {verify: queries, queries: 5}
  fortunes: {verify: fortunes}
  updates: {verify: updates, queries: 3}
frameworks:
  good:
    start: "{python} {dir}/app.py --host {host} --port {port} --hits {workdir}/good.args"
    dir: $T/app
  cache:
    start: "{python} {dir}/app.py --host {host} --port {port} --fake cache"
    dir: $T/app
  unescaped:
    start: "{python} {dir}/app.py --host {host} --port {port} --fake unescaped"
    dir: $T/app
  nowrite:
    start: "{python} {dir}/app.py --host {host} --port {port} --fake nowrite"
    dir: $T/app
  drift:
    start: "{python} {dir}/app.py --host {host} --port {port} --fake drift"
    dir: $T/app
  late:
    start: "{python} {dir}/app.py --host {host} --port {port} --fake late --late-after 25 --late-every 5"
    dir: $T/app
  hello:
    start: "{python} {dir}/hello.py {host} {port} --threads"
    dir: $T/app
YAML
}
matrix "$T/m.yaml" "{pool: 3, start_timeout: 60s, settings: {shared_buffers: 16MB, max_connections: 40}}"
"$MFBENCH" run -m "$T/m.yaml" --json good/db good/queries good/fortunes good/updates \
  cache/queries unescaped/fortunes nowrite/updates drift/fortunes late/queries late/fortunes \
  hello/text >"$T/out.json" 2>"$T/err.txt"
rc=$?
expect_eq "exit status (1: six cells are errors)" "$rc" 1
cell() { # FILE NAME FIELD: a cell's field, by framework/payload
  json_get "$1" "[c['$3'] for c in d['cells'] if c['framework'] + '/' + c['payload'] == '$2'][0]"
}
i=0
for p in db queries fortunes updates; do
  expect_eq "good/$p status (error: $(json_get "$T/out.json" "d['cells'][$i]['error']"))" \
    "$(json_get "$T/out.json" "d['cells'][$i]['status']")" ok
  expect_eq "good/$p ran a phase without failure" \
    "$(json_get "$T/out.json" "d['cells'][$i]['phases'][0]['failures'] == 0 and d['cells'][$i]['phases'][0]['requests'] > 0")" True
  # Answers sampled during every phase, checked by the rule afterwards: none wrong.
  expect_eq "good/$p: every phase sampled answers, none wrong" \
    "$(json_get "$T/out.json" "all(p['verified']['sampled'] > 0 and p['verified']['wrong'] == 0 for p in d['cells'][$i]['phases'])")" True
  i=$((i + 1))
done
expect_eq "good/queries: verified stored with the phase" \
  "$(sqlite3 "$MFBENCH_STORE" "select verified_sampled > 0, verified_wrong from phases p join cells c on c.id = p.cell_id where c.framework = 'good' and c.payload = 'queries' order by p.id desc limit 1")" "1|0"
# Right through the readiness probe and the verification burst, then every 5th answer
# wrong: the sample taken during the phase catches it, and the cell is an error naming
# the rule; its wrong samples are body failures of the phase.
expect_eq "late/queries status" "$(cell "$T/out.json" late/queries status)" error
expect_contains "late/queries error" "$(cell "$T/out.json" late/queries error)" \
  "sampled answers at 2 users fail the queries rule: 4 rows, want 5"
expect_eq "late/queries: wrong samples are body failures" \
  "$(cell "$T/out.json" late/queries phases | $PY -c 'import ast,sys; p = ast.literal_eval(sys.stdin.read())[-1]; print(p["failures_by_kind"]["body"] >= p["verified"]["wrong"] > 0)')" True
# mfbench show: each phase of a database cell that ran (good x4, drift, late x2) says its sample.
expect_eq "show: the phases' notes say their sample" \
  "$("$MFBENCH" show 1 | grep -c ' [0-9]* of [0-9]* sampled wrong')" 7
expect_eq "late/fortunes status" "$(cell "$T/out.json" late/fortunes status)" error
expect_contains "late/fortunes error" "$(cell "$T/out.json" late/fortunes error)" \
  "fail the fortunes rule: the page differs at byte"
expect_eq "cache/queries status" "$(json_get "$T/out.json" "d['cells'][4]['status']")" error
expect_contains "cache/queries error" "$(json_get "$T/out.json" "d['cells'][4]['error']")" \
  "cached or batched: 20 requests of /queries?queries=5 made 0 queries, want 100"
expect_eq "unescaped/fortunes status" "$(json_get "$T/out.json" "d['cells'][5]['status']")" error
expect_contains "unescaped/fortunes error" "$(json_get "$T/out.json" "d['cells'][5]['error']")" \
  "answered wrongly: the page differs at byte"
expect_eq "nowrite/updates status" "$(json_get "$T/out.json" "d['cells'][6]['status']")" error
expect_contains "nowrite/updates error" "$(json_get "$T/out.json" "d['cells'][6]['error']")" \
  "an update that does not write: 0 of the 3 rows answered are in the table"
# A page that changes under load (the runtime fortune dropped after 30 answers): the load
# checks the verified page's length, so those answers are wrong bodies, and the sampled
# ones fail the rule: an error saying what is wrong.
expect_eq "drift/fortunes status" "$(json_get "$T/out.json" "d['cells'][7]['status']")" error
expect_contains "drift/fortunes error" "$(json_get "$T/out.json" "d['cells'][7]['error']")" \
  "fail the fortunes rule: the page differs at byte"
expect_eq "drift/fortunes: body failures in its phase" \
  "$(json_get "$T/out.json" "d['cells'][7]['phases'][0]['failures_by_kind']['body'] > 0")" True
args=$(cat "$T/node/good.args" 2>/dev/null)
expect_contains "the server got --db-dsn" "$args" "--db-dsn postgresql://mfbench@127.0.0.1:"
expect_contains "the server got --db-pool" "$args" "--db-pool 3"
expect_contains "log: PostgreSQL up" "$(cat "$T/err.txt")" "PostgreSQL up in"
expect_contains "log: PostgreSQL stopped" "$(cat "$T/err.txt")" "PostgreSQL stopped"
expect_eq "hello/text status" "$(cell "$T/out.json" hello/text status)" ok
expect_eq "hello/text: no rule, nothing sampled" \
  "$(cell "$T/out.json" hello/text phases | $PY -c 'import ast,sys; print(all(p["verified"] == {"sampled": 0, "wrong": 0} for p in ast.literal_eval(sys.stdin.read())))')" True
# Stopped after the last database cell, before the cells after it run.
stopped_at=$(grep -n "PostgreSQL stopped" "$T/err.txt" | head -n 1 | cut -d: -f1)
hello_at=$(grep -n "hello/text" "$T/err.txt" | head -n 1 | cut -d: -f1)
expect_eq "stopped before hello/text ($stopped_at < $hello_at)" \
  "$([ "${stopped_at:-0}" -gt 0 ] && [ "$stopped_at" -lt "${hello_at:-0}" ] && echo yes)" yes
expect_contains "settings stored with the run" \
  "$(sqlite3 "$MFBENCH_STORE" 'select settings from runs order by id desc limit 1')" \
  "postgresql local, pool 3, shared_buffers=16MB max_connections=40"
expect_eq "no cluster folder left" "$(ls "$T/node/pg" 2>/dev/null)" ""
# The run's own cluster only (the port its log names): node_pg and other runs on this
# machine may have clusters of theirs under /tmp/mfbench-pg-PORT.* at the same time.
pg_pat() { # ERR_FILE: a pgrep pattern for the cluster that run started
  pg_port=$(sed -n 's/.*PostgreSQL up in [0-9.]*s: port \([0-9][0-9]*\),.*/\1/p' "$1" | head -n 1)
  echo "$T/node/pg/|/mfbench-pg-${pg_port:-none}\."
}
expect_eq "no postmaster left" "$(pgrep -f "$(pg_pat "$T/err.txt")" | tr '\n' ' ')" ""
expect_no_server "$T/node"

# A database that is down: its cells are errors with PostgreSQL's message; the others run.
dead=$(free_port)
matrix "$T/d.yaml" "{provision: dsn, dsn: \"postgresql://mfbench@127.0.0.1:$dead/hello_world\"}"
"$MFBENCH" run -m "$T/d.yaml" --json good/db hello/text good/fortunes >"$T/down.json" 2>"$T/err2.txt"
expect_eq "down: exit status" "$?" 1
expect_eq "down: good/db error" "$(cell "$T/down.json" good/db status)" error
expect_contains "down: PostgreSQL's message" "$(cell "$T/down.json" good/db error)" \
  "database: PostgreSQL at database.dsn from 127.0.0.1: tables: psql: error: connection to server at \"127.0.0.1\", port $dead failed: Connection refused"
expect_eq "down: hello/text runs" "$(cell "$T/down.json" hello/text status)" ok
expect_eq "down: good/fortunes error too" "$(cell "$T/down.json" good/fortunes status)" error
expect_eq "down: the same message" "$(cell "$T/down.json" good/fortunes error)" \
  "$(cell "$T/down.json" good/db error)"

# one attempt for the run: the log says it once, not per cell
expect_eq "down: one attempt for the run" "$(grep -c 'PostgreSQL not available: ' "$T/err2.txt")" 1

# SIGTERM while a database cell runs: the run ends interrupted and the cluster is stopped.
matrix "$T/s.yaml" "{start_timeout: 60s}"
sed -i 's/duration: 2s/duration: 60s/' "$T/s.yaml"
"$MFBENCH" run -m "$T/s.yaml" good/db >"$T/s.out" 2>"$T/s.err" &
pid=$!
has_postmaster() { pgrep -f "$(pg_pat "$T/s.err")" >/dev/null; }
phase_running() { grep -q "server ready" "$T/s.err" 2>/dev/null; }
wait_for 90 phase_running
kill -TERM "$pid"
wait "$pid"
expect_eq "SIGTERM: exit status" "$?" 1
expect_eq "SIGTERM: no postmaster left" "$(has_postmaster && echo left)" ""
expect_eq "SIGTERM: no cluster folder left" "$(ls "$T/node/pg" 2>/dev/null)" ""

# SIGKILL: nothing stops the cluster then; the next run on the node (its lock) does.
: >"$T/s.err"
"$MFBENCH" run -m "$T/s.yaml" good/db >"$T/s.out" 2>"$T/s.err" &
pid=$!
wait_for 90 phase_running
kill -KILL "$pid"
wait "$pid"
expect_eq "SIGKILL: the cluster is left" "$(has_postmaster && echo left)" left
sed -i 's/duration: 60s/duration: 2s/' "$T/s.yaml"
"$MFBENCH" run -m "$T/s.yaml" hello/text >"$T/k.out" 2>"$T/k.err"
expect_eq "next run: exit status" "$?" 0
expect_contains "next run: says so" "$(cat "$T/k.err")" "stopped 1 PostgreSQL cluster an earlier run left"
expect_eq "next run: no postmaster left" "$(has_postmaster && echo left)" ""
expect_eq "next run: no cluster folder left" "$(ls "$T/node/pg" 2>/dev/null)" ""
finish
