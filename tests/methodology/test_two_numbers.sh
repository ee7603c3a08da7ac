#!/bin/sh
# Two numbers per cell (issue 12), through the real executor on the local node,
# against a target that holds at most K=12 connections: the throughput search
# (think 0, users doubling, then bisection) finds capacity 12 and a peak; the
# load points run open loop at 50% and 90% of that peak; the held users (a
# think-time model, levels doubling, offered load capped at a share of the peak)
# come out within the bisection's resolution of K, limited by the server.
. "$SRC/tests/methodology/mlib.sh"
{ matrix_head; cat <<YAML; } >"$T/m.yaml"
defaults:
  duration: 1500ms
  warmup: 300ms
  spawn_rate: 10000
  think: 0s
  users: {start: 2, factor: 2, max: 32}
  refine: 1
  timeout: 1s
  ready_timeout: 20s
payloads:
  text: {path: /text, body: "Hello World!", content_type: text/plain}
frameworks:
  kconn: {start: "$start --mode kconn --k 12 --delay-ms 2", dir: ./tgt}
profiles:
  two:
    load_points: [50, 90]
    held: {users: {start: 4, factor: 2, max: 32}, think: {constant: 200ms}, duration: 2s,
           warmup: 500ms, spawn_rate: 1000, max_offered: 10%}
YAML
"$MFBENCH" run -m "$T/m.yaml" -p two --json kconn/text >"$T/r.json" 2>"$T/r.err"
expect_eq "exit status (stderr: $(tail -3 "$T/r.err"))" "$?" 0
j() { json_get "$T/r.json" "$1"; }
c='d["cells"][0]'
expect_eq "status" "$(j "$c[\"status\"]")" ok
expect_eq "capacity" "$(j "$c[\"capacity_users\"]")" 12
expect_eq "peak > 0" "$(j "$c[\"peak_rps\"] > 0")" True
expect_eq "the later figures are measured against the passing peak" "$(j "0 < $c[\"peak_rps_passing\"] <= $c[\"peak_rps\"]")" True
expect_eq "two load points" "$(j "[p['pct_of_peak'] for p in $c['load_points']] == [50, 90]")" True
# What the engine sent, counted (requests over the phase's length), against
# what was asked (the share of the stored peak); not offered_rps, which the
# code sets to the asked rate itself. At half the peak within 5%; at 90%,
# where a busy machine (2 shared cores) falls a little behind, within 15%.
lp="[p for p in $c['phases'] if p['kind'] == 'load']"
expect_eq "load points sent the share of the peak" \
  "$(j "len($lp) == 2 and all(abs(p['requests'] / p['duration_s'] - a / 100 * $c['peak_rps_passing']) <= tol * a / 100 * $c['peak_rps_passing'] for p, a, tol in zip($lp, [50, 90], [0.05, 0.15])) or [(a, p['requests'], p['duration_s'], $c['peak_rps_passing']) for p, a in zip($lp, [50, 90])]")" True
# Each point achieved its rate (the same bounds), without failures.
expect_eq "load points achieved their rate" \
  "$(j "all(p['rps'] >= (1 - tol) * a / 100 * $c['peak_rps_passing'] and p['failures'] == 0 for p, a, tol in zip($c['load_points'], [50, 90], [0.05, 0.15])) or [(p['pct_of_peak'], p['offered_rps'], p['rps'], p['failures']) for p in $c['load_points']]")" True
expect_eq "load points have latency" \
  "$(j "all(0 < p['latency_ms']['p50'] <= p['latency_ms']['p99'] for p in $c['load_points'])")" True
expect_eq "load phases stored with kind load" \
  "$(j "len([p for p in $c['phases'] if p['kind'] == 'load'])")" 2
# held: 4, 8 pass, 16 fails (connections past 12 are reset), bisection 12, 14, 13
expect_eq "held users" "$(j "$c[\"held_users\"]")" 12
expect_eq "held limit" "$(j "$c[\"held_limit\"]")" server
expect_eq "held levels" "$(j "[p['users'] for p in $c['phases'] if p['kind'] == 'held']")" \
  "[4, 8, 16, 12, 14, 13]"
# the held users' offered load stays under max_offered (10%) of the peak:
# their constant 200 ms think is stretched where it would exceed it
expect_eq "held offered <= 10% of peak" \
  "$(j "all(p['offered_rps'] <= 0.1 * $c['peak_rps_passing'] * 1.05 for p in $c['phases'] if p['kind'] == 'held')")" True
# The headline (history) is the search's phase at capacity, never a load or held one.
MFBENCH_STORE="$MFBENCH_STORE" "$MFBENCH" history --json >"$T/h.json" 2>"$T/h.err"
expect_eq "history exit ($(cat "$T/h.err"))" "$?" 0
h() { json_get "$T/h.json" "$1"; }
expect_eq "history: one row" "$(h 'len(d)')" 1
expect_eq "history: capacity" "$(h 'd[0]["capacity_users"]')" 12
expect_eq "history: held users" "$(h 'd[0]["held_users"]')" 12
peak=$(h 'd[0]["peak_rps"]')
expect_eq "history: the run's peak" "$(j "abs($peak - $c['peak_rps']) < 0.01")" True
expect_eq "history: the peak is a search phase's" \
  "$(j "any(abs($peak - p['rps']) < 0.01 for p in $c['phases'] if p['kind'] in ('ladder', 'bisect'))")" True
expect_eq "history: the peak is above every load and held phase" \
  "$(j "all($peak > p['rps'] for p in $c['phases'] if p['kind'] in ('load', 'held'))")" True
finish
