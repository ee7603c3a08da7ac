#!/bin/sh
# Known answers for the breaking-point search, through the real executor
# (mfbench run, local node, SQLite store): a target that holds at most K=12
# connections (capacity must be 12 within resolution 1), one that answers at
# most 110 req/s to users pacing one request per 100 ms (true capacity 11 users,
# resolution 2), a load_bound phase, a client_bound failure (the threshold
# lowered with the hidden knob client_bound_pct), a repeat of 3 with its
# spread, and the sampler summing a process group of two workers.
. "$SRC/tests/methodology/mlib.sh"
{ matrix_head; cat <<YAML; } >"$T/m.yaml"
defaults:
  duration: 2s
  warmup: 500ms
  spawn_rate: 10000
  think: {min: 0s, max: 0s}
  users: {start: 4, step: 4, max: 40}
  stop_when: {failures: 1}
  timeout: 1s
  ready_timeout: 20s
payloads:
  text: {path: /text, body: "Hello World!", content_type: text/plain}
frameworks:
  kconn: {start: "$start --mode kconn --k 12 --delay-ms 2", dir: ./tgt}
  rate: {start: "$start --mode rate --rate 110", dir: ./tgt}
  fork: {start: "$start --mode fork --mb 40 --child-mb 60", dir: ./tgt}
profiles:
  search: {refine: 1}
  ratesearch: {think: {pacing: 100ms}, duration: 4s, warmup: 1s, timeout: 500ms, refine: 2}
  loadbound: {think: {constant: 1s}, users: {start: 40, max: 40}, duration: 2500ms, warmup: 500ms}
  client: {client_bound_pct: 0.001, refine: 1}
  repeat: {users: {start: 10, step: 2, max: 16}, refine: 1, repeats: 3, duration: 1500ms}
  sample: {users: {start: 2, max: 2}, duration: 3s, warmup: 1s}
  autowide: {users: {start: 4, max: 4}, think: {pacing: 20ms}, duration: 1s, warmup: 200ms, repeats: auto, spread: 100%, max_repeats: 5}
  autotight: {users: {start: 4, max: 4}, duration: 1s, warmup: 200ms, repeats: auto, spread: 0.001%, max_repeats: 4}
YAML

run() { # NAME PROFILE CELL
  "$MFBENCH" run -m "$T/m.yaml" -p "$2" --json "$3" >"$T/$1.json" 2>"$T/$1.err"
  expect_eq "$1: exit status (stderr: $(tail -3 "$T/$1.err"))" "$?" 0
}
j() { json_get "$T/$1.json" "$2"; }

# 1. K concurrent connections: linear 4, 8, 12, 16 (fails), then bisection
#    14, 13 on fresh servers; capacity 12, breaking 13.
run kconn search kconn/text
expect_eq "kconn: status" "$(j kconn 'd["cells"][0]["status"]')" ok
expect_eq "kconn: capacity" "$(j kconn 'd["cells"][0]["capacity_users"]')" 12
expect_eq "kconn: breaking" "$(j kconn 'd["cells"][0]["breaking_users"]')" 13
expect_eq "kconn: levels in order" "$(j kconn '[p["users"] for p in d["cells"][0]["phases"]]')" \
  "[4, 8, 12, 16, 14, 13]"
expect_eq "kconn: kinds" "$(j kconn '[p["kind"] for p in d["cells"][0]["phases"]]')" \
  "['ladder', 'ladder', 'ladder', 'ladder', 'bisect', 'bisect']"
expect_eq "kconn: failing phases say why" \
  "$(j kconn '[p["stop_reason"] for p in d["cells"][0]["phases"]]')" \
  "[None, None, None, 'failures', 'failures', 'failures']"
expect_eq "kconn: resets counted" \
  "$(j kconn 'd["cells"][0]["phases"][3]["failures_by_kind"]["reset"] + d["cells"][0]["phases"][3]["failures_by_kind"]["connect"] > 0')" True
expect_eq "kconn: think 0 offers no bound" "$(j kconn '[p["load_bound"] for p in d["cells"][0]["phases"]]')" \
  "[False, False, False, False, False, False]"
# Every probe after a failing phase ran on a fresh server: the first start, then
# one before 14 (after 16 failed) and one before 13 (after 14 failed).
starts=$(grep -c "server ready" "$T/kconn.err")
expect_eq "kconn: servers started (stderr)" "$starts" 3
# The stored phases carry their kind.
expect_eq "kconn: stored kinds" "$(sqlite3 "$MFBENCH_STORE" "select group_concat(kind) from (select kind from phases where cell_id = (select max(id) from cells) order by seq)")" \
  "ladder,ladder,ladder,ladder,bisect,bisect"

# 2. At most 110 answers a second, users pacing 10 req/s each: 4, 8 pass, 12 fails (timeouts),
#    bisection to resolution 2: 10 passes. True capacity 11 lies in [capacity, breaking].
run rate ratesearch rate/text
expect_eq "rate: capacity" "$(j rate 'd["cells"][0]["capacity_users"]')" 10
expect_eq "rate: breaking" "$(j rate 'd["cells"][0]["breaking_users"]')" 12
expect_eq "rate: timeouts at the breaking point" \
  "$(j rate '[p["failures_by_kind"]["timeout"] > 0 for p in d["cells"][0]["phases"] if p["users"] == 12]')" "[True]"
expect_eq "rate: offered = users / pacing" "$(j rate '[round(p["offered_rps"]) for p in d["cells"][0]["phases"]]')" \
  "[40, 80, 120, 100]"
expect_eq "rate: kinds" "$(j rate '[p["kind"] for p in d["cells"][0]["phases"]]')" \
  "['ladder', 'ladder', 'ladder', 'bisect']"

# 3. load_bound: 40 users waiting 1 s offer 40 req/s to a server good for 110.
#    They start together, so each answers at about k * (1 s + latency): the
#    window [0.5 s, 2.5 s] holds exactly two answers per user (80 in 2 s = the
#    offered 40/s) for any latency under ~160 ms; load_bound (>= 95% of offered)
#    then holds on a busy machine too. The rps is asserted as well, so a flag
#    that is wrong for the measured rps fails.
run lb loadbound rate/text
expect_eq "load_bound: all answered in the window" "$(j lb 'round(d["cells"][0]["phases"][0]["rps"])')" 40
expect_eq "load_bound: phase marked" "$(j lb 'd["cells"][0]["phases"][0]["load_bound"]')" True
expect_eq "load_bound: peak flagged" "$(j lb 'd["cells"][0]["peak_rps_load_bound"]')" True
expect_eq "load_bound: offered" "$(j lb 'round(d["cells"][0]["phases"][0]["offered_rps"])')" 40

# 4. client_bound: with the threshold at 0.001% every phase is client bound, so the
#    failure at 16 users is not a breaking point: the search stops, with a note.
run cb client kconn/text
expect_eq "client_bound: phases marked" "$(j cb 'all(p["client_bound"] for p in d["cells"][0]["phases"])')" True
expect_eq "client_bound: no breaking point" "$(j cb 'd["cells"][0]["breaking_users"]')" None
expect_eq "client_bound: capacity still the last pass" "$(j cb 'd["cells"][0]["capacity_users"]')" 12
expect_eq "client_bound: no bisection" "$(j cb '[p["kind"] for p in d["cells"][0]["phases"]]')" \
  "['ladder', 'ladder', 'ladder', 'ladder']"
expect_contains "client_bound: note" "$(j cb 'd["cells"][0]["note"]')" "client bound"

# 5. Three searches on the stable K target: a summary with its spread.
run rep repeat kconn/text
expect_eq "repeat: searches" "$(j rep 'd["cells"][0]["repeats"]')" 3
expect_eq "repeat: phases tagged" "$(j rep 'sorted(set(p["repeat"] for p in d["cells"][0]["phases"]))')" "[0, 1, 2]"
expect_eq "repeat: capacity summary" \
  "$(j rep '[d["cells"][0]["summary"]["capacity_users"][k] for k in ("median", "iqr", "min", "max")]')" \
  "[12, 0, 12, 12]"
expect_eq "repeat: peak spread reported" \
  "$(j rep '(lambda s: s["spread"] is not None and s["min"] <= s["median"] <= s["max"] and s["iqr"] >= 0)(d["cells"][0]["summary"]["peak_rps"])')" True
expect_eq "repeat: spread = (max - min) / median" \
  "$(j rep '(lambda s: abs(s["spread"] - (s["max"] - s["min"]) / s["median"]) < 1e-3)(d["cells"][0]["summary"]["peak_rps"])')" True
expect_eq "repeat: stored summary" \
  "$(sqlite3 "$MFBENCH_STORE" "select repeats, capacity_median, capacity_iqr from cells where id = (select max(id) from cells)")" "3|12.0|0.0"

# 5b. repeats: auto stops at 3 once the spread is under its target, and at
#     max_repeats when the target is out of reach. The wide case paces its
#     users (4 x 50/s, answers in 2 ms), so its peak is set by the client and
#     stays within 100% on a busy machine; the tight one (think 0) is noisy.
run aw autowide kconn/text
expect_eq "auto: a spread reached stops at 3" "$(j aw 'd["cells"][0]["repeats"]')" 3
expect_eq "auto: its spread is under 100%" "$(j aw 'd["cells"][0]["summary"]["peak_rps"]["spread"] < 1.0')" True
run at autotight kconn/text
expect_eq "auto: an unreachable spread stops at max_repeats" "$(j at 'd["cells"][0]["repeats"]')" 4
expect_eq "auto: every search stored" "$(j at 'sorted(set(p["repeat"] for p in d["cells"][0]["phases"]))')" "[0, 1, 2, 3]"

# 6. The sampler sums the group: the server holds 40 MiB, its forked worker 60 MiB.
run smp sample fork/text
expect_eq "sampler: rss of both workers" "$(j smp 'd["cells"][0]["phases"][0]["server"]["rss_max_kb"] >= 100 * 1024')" True
expect_eq "sampler: threads of both" "$(j smp 'd["cells"][0]["phases"][0]["server"]["threads_max"] >= 2')" True
expect_eq "sampler: fds counted" "$(j smp 'd["cells"][0]["phases"][0]["server"]["fds_max"] >= 3')" True
expect_eq "sampler: own cost measured" "$(j smp 'd["cells"][0]["phases"][0]["sampler_cpu_pct"] is not None')" True
expect_no_server "$T/node"
finish
