#!/bin/sh
# The run's own PostgreSQL sampled beside the server (issue 24, item 4), end to end on the
# local transport with the node's real PostgreSQL (skipped, 77, without initdb): a database
# payload's phases (flask's, targets/ as shipped) carry database {cpu_pct, cpu_max_pct,
# rss_max_kb} (JSON, show, the store),
# the database's CPU is not a neighbour's, so on a quiet machine its phases are not noisy
# although PostgreSQL shares the server's and the engine's CPUs; a server whose every
# request makes PostgreSQL count millions of rows (db_server.py --burn) with the database
# pinned to one CPU is db_bound, marked in JSON, show and the cell's note. The "not noisy" and
# "db_bound" checks need CPUs nobody else keeps busy: when CPU 0 or 1 was over 10% busy just
# before or after a run, those checks are skipped and the test ends 77 saying so.
. "$(dirname "$0")/lib.sh"
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || {
  echo "SKIP: no PostgreSQL binaries (apt-get install postgresql)" >&2; exit 77; }
[ "$(getconf _NPROCESSORS_ONLN)" -ge 2 ] || { echo "SKIP: needs 2 CPUs" >&2; exit 77; }
port=$(free_port)
cp -R "$SRC/targets" "$T/targets" && mkdir -p "$T/targets/_shared/db" || exit 1
[ -f "$T/targets/_shared/db/create-postgres.sql" ] ||
  cp "$SRC/tests/fixtures/pg/create-postgres.sql" "$T/targets/_shared/db/"
export MFBENCH_TARGETS="$T/targets"
mkdir -p "$T/app" && cp "$SRC/tests/fixtures/db_server.py" "$T/app/app.py" || exit 1
matrix() { # FILE DATABASE_YAML
  cat >"$1" <<YAML
version: 1
node: {transport: local, workdir: $T/node, cpus: "1", server_port: $port}
load: {cpus: "0"}
database: $2
defaults:
  duration: 3s
  warmup: 1s
  spawn_rate: 1000
  think: {min: 0s, max: 0s}
  users: {start: 4, step: 4, max: 4}
  refine: 0
  timeout: 10s
  ready_timeout: 30s
payloads:
  db: {verify: db}
  queries: {verify: queries, queries: 5}
frameworks:
  flask: {server: werkzeug}
  burn:
    start: "{python} {dir}/app.py --host {host} --port {port} --burn 3000000"
    dir: $T/app
YAML
}
# The busiest of CPUs 0 and 1 (% of their time, all processes) over one second.
busy01() {
  a=$(grep -E '^cpu[01] ' /proc/stat); sleep 1; b=$(grep -E '^cpu[01] ' /proc/stat)
  printf '%s\n%s\n' "$a" "$b" | awk '{t=$2+$3+$4+$5+$6+$7+$8+$9; f=$5+$6+$7+$8+$9}
    NR<=2{t0[$1]=t; f0[$1]=f} NR>2{d=t-t0[$1]; p=d>0?int(100*(d-(f-f0[$1]))/d):0; if(p>m)m=p}
    END{print m+0}'
}
skip_reason=""
j() { json_get "$T/$1.json" "$2"; }

# 1. PostgreSQL not pinned (no CPU is free of the server's and the load's on 2 CPUs): it
#    shares both; its figures are there and its CPU is no neighbour's. (flask, not
#    db_server.py: that one runs psql per request, whose CPU the server's figure does not
#    hold once reaped, so it would be a neighbour's.)
matrix "$T/m.yaml" "{pool: 2, start_timeout: 60s, settings: {shared_buffers: 16MB, max_connections: 40}}"
quiet0=$(busy01)
"$MFBENCH" run -m "$T/m.yaml" --json flask/db flask/queries >"$T/shared.json" 2>"$T/shared.err"
expect_eq "shared: exit status ($(tail -n 3 "$T/shared.err"))" "$?" 0
quiet1=$(busy01)
for c in 0 1; do
  cell="flask/$(j shared "d['cells'][$c]['payload']")"
  expect_eq "$cell: status" "$(j shared "d['cells'][$c]['status']")" ok
  expect_eq "$cell: phases" "$(j shared "len(d['cells'][$c]['phases']) > 0")" True
  expect_eq "$cell: database CPU > 0 in every phase" \
    "$(j shared "all(p['database']['cpu_pct'] > 0 for p in d['cells'][$c]['phases'])")" True
  expect_eq "$cell: database RSS > 0 in every phase" \
    "$(j shared "all(p['database']['rss_max_kb'] > 0 for p in d['cells'][$c]['phases'])")" True
  expect_eq "$cell: database highest second >= its mean" \
    "$(j shared "all(p['database']['cpu_max_pct'] >= p['database']['cpu_pct'] for p in d['cells'][$c]['phases'])")" True
  if [ "$quiet0" -le 10 ] && [ "$quiet1" -le 10 ]; then
    expect_eq "$cell: not noisy (neighbours $(j shared "[(p['neighbour_cpu_pct'], p['client_neighbour_cpu_pct']) for p in d['cells'][$c]['phases']]"))" \
      "$(j shared "any(p['noisy'] for p in d['cells'][$c]['phases'])")" False
  else
    skip_reason="${skip_reason:+$skip_reason; }$cell: CPU 0 or 1 was ${quiet0}%/${quiet1}% busy before/after the run: 'not noisy' not checked"
  fi
done
id=$(j shared 'd["run"]["id"]')
expect_eq "store: database columns" \
  "$(sqlite3 "$MFBENCH_STORE" "select count(*) from phases where database_cpu_pct > 0 and database_rss_max_kb > 0 and database_cpu_max_pct > 0")" \
  "$(sqlite3 "$MFBENCH_STORE" "select count(*) from phases")"
"$MFBENCH" show "$id" --json >"$T/show.json"
expect_eq "show --json: the same database figures" \
  "$(json_get "$T/show.json" "[p['database'] for c in d['cells'] for p in c['phases']]")" \
  "$(j shared "[p['database'] for c in d['cells'] for p in c['phases']]")"
"$MFBENCH" show "$id" >"$T/show.txt"
expect_contains "show: the database's CPU and RSS" "$(cat "$T/show.txt")" "database cpu "

# 2. Every request makes PostgreSQL count 3,000,000 rows, PostgreSQL pinned to CPU 0: it
#    saturates its one CPU while the server waits: db_bound, and the note says so.
matrix "$T/b.yaml" "{pool: 2, cpus: \"0\", start_timeout: 60s, settings: {shared_buffers: 16MB}}"
quiet0=$(busy01)
"$MFBENCH" run -m "$T/b.yaml" --json burn/db >"$T/burn.json" 2>"$T/burn.err"
expect_eq "burn: exit status ($(tail -n 3 "$T/burn.err"))" "$?" 0
quiet1=$(busy01)
expect_eq "burn: status" "$(j burn "d['cells'][0]['status']")" ok
expect_contains "burn: PostgreSQL pinned" "$(cat "$T/burn.err")" "CPUs 0,"
if [ "$(j burn "all(p['db_bound'] for p in d['cells'][0]['phases'])")" = True ]; then
  ok
  expect_contains "burn: the cell's note" "$(j burn "d['cells'][0]['note']")" \
    "the database, not the server, was the limit"
  expect_eq "burn: headline mark" \
    "$(j burn "'db-bound' in d['cells'][0]['headline']['peak_rps']['marks']")" True
  "$MFBENCH" show "$(j burn 'd["run"]["id"]')" >"$T/burn.txt"
  expect_contains "burn: show marks the phase" "$(cat "$T/burn.txt")" "db-bound"
  expect_contains "burn: show's legend" "$(cat "$T/burn.txt")" "the database, not the server, was the limit"
  "$MFBENCH" report --format html -o "$T/rep" >/dev/null 2>&1
  expect_contains "burn: report marks the peak" "$(cat "$T/rep/index.html")" 'db-bound">'
  expect_eq "burn: store" "$(sqlite3 "$MFBENCH_STORE" "select min(db_bound) from phases where cell_id = (select max(id) from cells)")" 1
elif [ "$(j burn "any(p['database']['cpu_pct'] >= 90 and not p['db_bound'] for p in d['cells'][0]['phases'])")" = True ]; then
  bad "burn: PostgreSQL used 90% or more of its one CPU and the phase is not db_bound: $(j burn "[(p['database'], p['db_bound']) for p in d['cells'][0]['phases']]")"
elif [ "$quiet0" -gt 10 ] || [ "$quiet1" -gt 10 ]; then
  skip_reason="${skip_reason:+$skip_reason; }CPU 0 or 1 was ${quiet0}%/${quiet1}% busy around the burn run: PostgreSQL had \
$(j burn "[p['database']['cpu_pct'] for p in d['cells'][0]['phases']]")% of CPU 0, db_bound not checked"
else
  bad "burn: not db_bound on a quiet machine: database $(j burn "[p['database'] for p in d['cells'][0]['phases']]")"
fi
expect_eq "burn: server not the limit (its CPU under 50%)" \
  "$(j burn "all(p['server']['cpu_pct'] < 50 for p in d['cells'][0]['phases'])")" True
expect_eq "no cluster folder left" "$(ls "$T/node/pg" 2>/dev/null)" ""
if [ -n "$skip_reason" ] && [ "$fails" -eq 0 ]; then
  echo "$checks checks, $fails failed" >&2
  echo "SKIP: $skip_reason" >&2
  exit 77
fi
finish
