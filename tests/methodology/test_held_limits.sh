#!/bin/sh
# Held users find the server's own limit (issue 20): targets that hold at most
# N connections (N = 300 and N = 3,000; one more is reset) give held users
# within the bisection's resolution below N, limited by the server; so does
# N = 30 under a first level of 100 with refine: 0 (no 0 held users). The levels
# double from N / 3, then bisect to 5%; users think 1-3 s, their offered load
# kept under half the passing peak; each level's window is long enough for
# every user to send (think + timeout), so none is judged on a silent user.
# p99 1 s: the rule under test is the connection limit, not latency (which a
# busy shared machine makes noisy; test_held_p99.sh tests that one).
. "$SRC/tests/methodology/mlib.sh"
{ matrix_head; cat <<YAML; } >"$T/m.yaml"
defaults:
  duration: 1s
  warmup: 300ms
  spawn_rate: 10000
  think: 0s
  users: {start: 2, factor: 2, max: 8}
  refine: 5%
  timeout: 1s
  ready_timeout: 20s
payloads:
  text: {path: /text, body: "Hello World!", content_type: text/plain}
frameworks:
  k300:
    start: "$start --mode aconn --k 300"
    dir: ./tgt
    held: {users: {start: 100, factor: 2, max: 100000}, think: {min: 1s, max: 3s},
           duration: 5s, warmup: 1s, spawn_rate: 4000, p99: 1s}
  k3000:
    start: "$start --mode aconn --k 3000"
    dir: ./tgt
    held: {users: {start: 1000, factor: 2, max: 100000}, think: {min: 1s, max: 3s},
           duration: 5s, warmup: 1s, spawn_rate: 4000, p99: 1s}
  # The nightly's case: no bisection in the profile (refine: 0) and a server
  # that fails the first level (waitress's 100 against 1,000 users).
  k30:
    start: "$start --mode aconn --k 30"
    dir: ./tgt
    refine: 0
    held: {users: {start: 100, factor: 2, max: 100000}, think: {min: 1s, max: 3s},
           duration: 5s, warmup: 1s, spawn_rate: 4000, p99: 1s}
YAML
"$MFBENCH" run -m "$T/m.yaml" --json k300/text k3000/text k30/text >"$T/r.json" 2>"$T/r.err"
expect_eq "exit status (stderr: $(tail -3 "$T/r.err"))" "$?" 0
j() { json_get "$T/r.json" "$1"; }
for i in 0 1; do
  c="d['cells'][$i]"
  n=$(j "[300, 3000][$i]")
  held="[p for p in $c['phases'] if p['kind'] == 'held']"
  expect_eq "$n: status" "$(j "$c['status']")" ok
  expect_eq "$n: held limit" "$(j "$c['held_limit']")" server
  # within the resolution (5% of the passing level) below N
  expect_eq "$n: held users in [0.95 N, N]" \
    "$(j "0.95 * $n <= $c['held_users'] <= $n or $c['held_users']")" True
  expect_eq "$n: every level at most N passed" \
    "$(j "all(not p['stop_reason'] for p in $held if p['users'] <= $n) or [(p['users'], p['stop_reason']) for p in $held]")" True
  expect_eq "$n: every level above N failed" \
    "$(j "all(p['stop_reason'] for p in $held if p['users'] > $n)")" True
  # every user sent in the window: requests answered >= users at passing levels
  expect_eq "$n: every user sent in a passing level's window" \
    "$(j "all(p['requests'] >= p['users'] for p in $held if not p['stop_reason']) or [(p['users'], p['requests']) for p in $held]")" True
  expect_eq "$n: offered load under half the passing peak" \
    "$(j "all(p['offered_rps'] <= 0.5 * $c['peak_rps_passing'] * 1.05 for p in $held) or [(p['users'], p['offered_rps'], $c['peak_rps_passing']) for p in $held]")" True
done
# A first level that fails still gives a number below it: the held search
# bisects (to 5% when the profile has no resolution of its own), never 0.
c="d['cells'][2]"
expect_eq "30, first level fails: held limit" "$(j "$c['held_limit']")" server
expect_eq "30, first level fails: held users in [0.95 x 30 - 1, 30], not 0" \
  "$(j "28 <= $c['held_users'] <= 30 or $c['held_users']")" True
finish
