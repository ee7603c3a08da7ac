#!/bin/sh
# No false "ok" (issue 12), through the real executor (mfbench run, local node):
# a target that answers 3 requests and then hangs, with phases shorter and
# longer than the request timeout; one that answers a request with 200
# responses; one that exits mid-phase; and ten users at a constant 1 s think
# for 3 s, whose offered load is exactly 10 req/s (load bound).
. "$SRC/tests/methodology/mlib.sh"
{ matrix_head; cat <<YAML; } >"$T/m.yaml"
defaults:
  duration: 2s
  warmup: 0s
  spawn_rate: 10000
  think: {min: 0s, max: 0s}
  users: {start: 5, step: 5, max: 10}
  refine: 0
  timeout: 3s
  ready_timeout: 20s
payloads:
  text: {path: /text, body: "Hello World!", content_type: text/plain}
frameworks:
  hang: {start: "$start --mode hangafter --n 3", dir: ./tgt}
  spew: {start: "$start --mode spew --n 200", dir: ./tgt}
  exits: {start: "$start --mode exitafter --n 300", dir: ./tgt}
  idle: {start: "$start --mode rate --rate 100000", dir: ./tgt}
profiles:
  short: {}
  long: {duration: 3s, timeout: 1s}
  think: {think: {constant: 1s}, users: {start: 10, max: 10}, duration: 3s, timeout: 2s}
  uniform: {think: {min: 1s, max: 1500ms}, users: {start: 10, max: 10}, duration: 2s, timeout: 2s}
YAML

# Each line of stdin with a millisecond monotonic clock in front.
stamp() {
  $PY -u -c 'import sys, time
for l in sys.stdin: sys.stdout.write("%d %s" % (time.monotonic_ns() // 1000000, l))'
}
run() { # NAME PROFILE CELL EXPECTED_EXIT; stderr lines stamped in $T/NAME.err
  { "$MFBENCH" run -m "$T/m.yaml" -p "$2" --json "$3" 2>&1 >"$T/$1.json"; echo "exit $?"; } |
    stamp >"$T/$1.err"
  rc=$(sed -n 's/^[0-9]* exit //p' "$T/$1.err")
  expect_eq "$1: exit status (stderr: $(tail -3 "$T/$1.err"))" "$rc" "$4"
}
# between NAME TEXT1 TEXT2: milliseconds from the first stderr line holding
# TEXT1 to the first holding TEXT2 (empty when either is missing).
between() {
  a=$(grep -m1 -F -- "$2" "$T/$1.err" | cut -d' ' -f1)
  b=$(grep -m1 -F -- "$3" "$T/$1.err" | cut -d' ' -f1)
  [ -n "$a" ] && [ -n "$b" ] && echo $((b - a))
}
j() { json_get "$T/$1.json" "$2"; }
cell='d["cells"][0]'
ph0="$cell[\"phases\"][0]"

# 1. Hangs after 3 answers, phase (2 s) shorter than the timeout (3 s): the 5
#    requests in flight at the end are waited for and counted as timeouts.
run hang_short short hang/text 1
expect_eq "hang short: status" "$(j hang_short "$cell[\"status\"]")" failed
expect_eq "hang short: no capacity" "$(j hang_short "$cell[\"capacity_users\"]")" None
expect_eq "hang short: breaking" "$(j hang_short "$cell[\"breaking_users\"]")" 5
expect_eq "hang short: in flight at the end" "$(j hang_short "$ph0[\"in_flight\"]")" 5
expect_eq "hang short: timeouts" "$(j hang_short "$ph0[\"failures_by_kind\"][\"timeout\"]")" 5
# 3 answers, less those the readiness probe took
expect_eq "hang short: answered" "$(j hang_short "0 < $ph0[\"requests\"] - $ph0[\"failures\"] <= 3")" True
expect_eq "hang short: stop reason" "$(j hang_short "$ph0[\"stop_reason\"]")" in_flight
expect_contains "hang short: error names the first level" "$(j hang_short "$cell[\"error\"]")" \
  "failed already at 5 users"
# It did wait, and did not hang: the requests that hang were sent after the
# phase began, so their 3 s timeout ends the phase no sooner than 3 s after its
# line, and no later than the 2 s phase plus that 3 s wait (and 1.5 s for the
# sampler and the store on a busy machine). Milliseconds, not whole seconds.
w=$(between hang_short "phase 1: 5 users for 2s" "hang/text: 5 users: ")
[ -n "$w" ] && [ "$w" -ge 3000 ] && [ "$w" -le 6500 ] && ok ||
  bad "hang short: the phase and its wait took '${w}' ms, not 3000-6500 ms ($(cat "$T/hang_short.err"))"

# 2. The same with phases (3 s) longer than the timeout (1 s).
run hang_long long hang/text 1
expect_eq "hang long: status" "$(j hang_long "$cell[\"status\"]")" failed
expect_eq "hang long: no capacity" "$(j hang_long "$cell[\"capacity_users\"]")" None
expect_eq "hang long: timeouts >= 5" "$(j hang_long "$ph0[\"failures_by_kind\"][\"timeout\"] >= 5")" True

# 3. 200 responses to one request: the surplus is a protocol failure.
run spew short spew/text 1
expect_eq "spew: status" "$(j spew "$cell[\"status\"]")" failed
expect_eq "spew: protocol failures" "$(j spew "$ph0[\"failures_by_kind\"][\"protocol\"] > 0")" True

# 4. Exits after 300 answers, in the first phase.
run exits short exits/text 1
expect_eq "exits: status" "$(j exits "$cell[\"status\"]")" failed
expect_eq "exits: stop reason" "$(j exits "$ph0[\"stop_reason\"] in ('server_exited', 'failures', 'in_flight')")" True

# 5. Ten users, constant 1 s think, 3 s: exactly 3 sends each, 10 req/s offered,
#    all taken: load bound. Uniform 1-1.5 s over 2 s: exactly 2 sends each.
run think think idle/text 0
expect_eq "think: offered" "$(j think "$ph0[\"offered_rps\"] == 10")" True
expect_eq "think: requests" "$(j think "$ph0[\"requests\"]")" 30
expect_eq "think: load bound" "$(j think "$ph0[\"load_bound\"]")" True
run uniform uniform idle/text 0
expect_eq "uniform: offered" "$(j uniform "$ph0[\"offered_rps\"] == 10")" True
expect_eq "uniform: requests" "$(j uniform "$ph0[\"requests\"]")" 20
expect_eq "uniform: load bound" "$(j uniform "$ph0[\"load_bound\"]")" True
finish
