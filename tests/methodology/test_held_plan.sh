#!/bin/sh
# A held level is judged only when every user can send in its window (issue
# 20): users think 1-3 s, stretched so they offer at most 5% of the passing
# peak (a target of ~400 req/s: 10 ms a request, 4 users); held.duration 3 s
# with a 1 s warm-up leaves a 2 s window. Each level's phase grows to hold the
# longest think after stretching plus the 1 s timeout (up to 4 x 3 s); the
# first level that would need more is not judged. Never a server failure: the
# target holds any number of connections.
. "$SRC/tests/methodology/mlib.sh"
{ matrix_head; cat <<YAML; } >"$T/m.yaml"
defaults:
  duration: 1s
  warmup: 300ms
  spawn_rate: 10000
  think: 0s
  users: {start: 2, factor: 2, max: 4}
  refine: 5%
  timeout: 1s
  ready_timeout: 20s
payloads:
  text: {path: /text, body: "Hello World!", content_type: text/plain}
frameworks:
  wide:
    start: "$start --mode aconn --k 100000 --delay-ms 10"
    dir: ./tgt
    held: {users: {start: 20, factor: 2, max: 100000}, think: {min: 1s, max: 3s},
           duration: 3s, warmup: 1s, spawn_rate: 1000, max_offered: 5%, p99: 500ms}
YAML
"$MFBENCH" run -m "$T/m.yaml" --json wide/text >"$T/r.json" 2>"$T/r.err"
expect_eq "exit status (stderr: $(tail -3 "$T/r.err"))" "$?" 0
j() { json_get "$T/r.json" "$1"; }
c="d['cells'][0]"
held="[p for p in $c['phases'] if p['kind'] == 'held']"
expect_eq "status" "$(j "$c['status']")" ok
expect_eq "held limit" "$(j "$c['held_limit']")" not_judged
expect_eq "held users: the last level run" "$(j "$c['held_users'] == max(p['users'] for p in $held)")" True
expect_eq "every level run passed" \
  "$(j "all(not p['stop_reason'] for p in $held) or [(p['users'], p['stop_reason'], p['requests']) for p in $held]")" True
# the 2 s window grew: at least the 3 s think + the 1 s timeout
expect_eq "each window was replanned to hold a think and a response" \
  "$(j "all(p['duration_s'] >= 3.9 for p in $held) or [(p['users'], p['duration_s']) for p in $held]")" True
# offered_rps replays each user's own random thinks over the window: a count
# of ~80 sends whose mean the plan holds at 5% of the peak. The bound is that
# mean plus 3 standard deviations of a Poisson count (uniform thinks vary
# less). Unstretched (think 1-3 s), 80 users offer 40 req/s, 10.6% of the
# peak: far over it.
expect_eq "offered load under 5% of the passing peak (3 sigma of the count)" \
  "$(j "all(p['offered_rps'] * p['duration_s'] <= 0.05 * $c['peak_rps_passing'] * p['duration_s'] + 3 * (0.05 * $c['peak_rps_passing'] * p['duration_s']) ** 0.5 for p in $held) or [(p['users'], p['offered_rps'], p['duration_s'], $c['peak_rps_passing']) for p in $held]")" True
expect_eq "the highest level offers more than 3% (the plan stretches think no further than the cap)" \
  "$(j "max(p['offered_rps'] for p in $held) >= 0.03 * $c['peak_rps_passing'] or [(p['users'], p['offered_rps']) for p in $held]")" True
expect_contains "the note says why" "$(j "$c['note']")" "not judged"
finish
