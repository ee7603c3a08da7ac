#!/bin/sh
# The server's own connection cap, set by the matrix and named by the report
# (issue 20 item 4): the built-in pyramid-waitress target (real waitress) with
# limits.connections.value 40 gets --connections 40, which it passes to waitress
# as connection_limit; waitress counts its listener and trigger against it, so
# it answers 38 connections and leaves the next in the backlog. Held users
# double from 10 and bisect to 10%: they stop within the resolution below 40,
# limited by the server, and the run's JSON, show (text and JSON), the report
# and the cell's note name "waitress connection_limit 40". Users think 0.5-1 s,
# a level's phase is 3 s: the whole run takes about 30 s.
. "$SRC/tests/methodology/mlib.sh"
{ matrix_head; cat <<YAML; } >"$T/m.yaml"
defaults:
  duration: 1s
  warmup: 300ms
  spawn_rate: 10000
  think: 0s
  users: {start: 2, factor: 2, max: 8}
  refine: 10%
  timeout: 1s
  ready_timeout: 20s
payloads:
  text: {path: /text, body: "Hello World!", content_type: text/plain}
frameworks:
  pyramid-waitress:
    server: waitress
    limits: {connections: {value: 40}}
    held: {users: {start: 10, factor: 2, max: 80}, think: {min: 500ms, max: 1s},
           duration: 3s, warmup: 500ms, spawn_rate: 4000, p99: 1s}
YAML
"$MFBENCH" run -m "$T/m.yaml" --json pyramid-waitress/text >"$T/r.json" 2>"$T/r.err"
expect_eq "exit status (stderr: $(tail -3 "$T/r.err"))" "$?" 0
j() { json_get "$T/r.json" "$1"; }
c="d['cells'][0]"
echo "held levels: $(j "[(p['users'], p['stop_reason'] or 'ok') for p in $c['phases'] if p['kind'] == 'held']")"
expect_eq "status" "$(j "$c['status']")" ok
expect_contains "the value reached waitress (server log)" \
  "$(cat "$T/node/logs/pyramid-waitress.log" 2>&1)" "waitress connection_limit 40"
expect_eq "held limit" "$(j "$c['held_limit']")" server
expect_eq "held users within the resolution (10%) below 40" \
  "$(j "36 <= $c['held_users'] < 40 or $c['held_users']")" True
expect_eq "held setting (run --json)" "$(j "$c['held_setting']")" "waitress connection_limit 40"
expect_eq "headline's held setting" "$(j "$c['headline']['held_users']['setting']")" \
  "waitress connection_limit 40"
expect_contains "note" "$(j "$c['note']")" "held users: server: waitress connection_limit 40"
run_id=$(j 'd["run"]["id"]')
"$MFBENCH" show "$run_id" --json >"$T/show.json"
expect_eq "held setting (show --json)" "$(json_get "$T/show.json" "$c['held_setting']")" \
  "waitress connection_limit 40"
show=$("$MFBENCH" show "$run_id" 2>&1)
echo "$show" | grep -E "pyramid-waitress|note"
expect_contains "show: held users column" "$show" "(server: waitress connection_limit 40)"
expect_contains "show: the cell's note" "$show" \
  "pyramid-waitress/text note: held users: server: waitress connection_limit 40"
"$MFBENCH" report --format md -o "$T/report" >/dev/null 2>&1
expect_contains "report (md)" "$(cat "$T"/report/*.md 2>&1)" "server: waitress connection_limit 40"
expect_no_server "$T/node"
finish
