#!/bin/sh
# SLO capacity against a known answer (issue 19). mdserver serves each request
# in S ms of its CPU, one at a time, first come first served: with mfbench's
# Poisson arrivals that is an M/D/1 queue, whose SLO capacity for a p99 bound B
# md1.py computes on its own (Lindley's recursion, no mfbench code). The S of
# the queue is the server's own measured cost per request (the nominal S plus
# answering and reading: mdserver --stats), checked within 15% of nominal. mfbench's
# answer must lie in [0.80, 1.13] x it, for S = 2 ms, B = 25 ms (6 s probes) and
# for S = 5 ms, B = 100 ms (8 s probes); an unconfirmed search is judged by the
# highest rate that passed once, as the README's tables show it.
# Why so wide: a queue's latencies are not independent samples, so the rule's
# 99% confidence does not hold over a probe of a few seconds. bench/slo_accuracy
# runs mfbench's own search and judge against simulated M/D/1 probes of these
# lengths (8,000 searches each, bench/README.md): a probe at the true capacity
# passes 75% (md5) of the time, and the answers range over 0.59 .. 1.13 (md2)
# and 0.76 .. 1.13 (md5) x the capacity, outside [0.80, 1.13] in under 0.25%.
# The old [0.85, 1.02] failed 29% of correct md5 searches (CI: 1.037).
# What this still catches: a search that stops at the closed-loop seed (md2:
# 1/S is 1.23 x) and, about half the time, a judge with no latency rule at all
# (the backlog rule alone: simulated md2 answers have median 1.13, p95 1.23 x;
# broken once that way, md2 gave 451.8 of 397.8 req/s, 1.14 x, and failed here).
# A rule that is merely lenient (4 x t(n)) lands inside the band; what catches
# it is the check of every stored probe against t(n) computed here on its own
# (early_stop_check.py: a passing probe with more than t(n) samples over B, or a
# latency failure with at most t(n), fails it), beside the table in test_slo.c.
. "$SRC/tests/methodology/mlib.sh"
cp "$MDSERVER" "$T/tgt/mdserver"
{ matrix_head; cat <<YAML; } >"$T/m.yaml"
defaults:
  duration: 2s
  warmup: 500ms
  spawn_rate: 10000
  think: 0s
  users: {start: 1, factor: 2, max: 4}
  refine: 0
  timeout: 2s
  ready_timeout: 20s
payloads:
  text: {path: /text, body: "Hello World!", content_type: text/plain}
frameworks:
  md2: {start: "{dir}/mdserver --host {host} --port {port} --service-ms 2 --stats $T/md2.stats", dir: ./tgt}
  lossy: {start: "{dir}/mdserver --host {host} --port {port} --service-ms 1 --hang-every 20", dir: ./tgt}
  md5: {start: "{dir}/mdserver --host {host} --port {port} --service-ms 5 --stats $T/md5.stats", dir: ./tgt}
profiles:
  a: {slo: {p99: 25ms, resolution: 5%, warmup: 1s, window: {min: 6s, max: 6s}, samples: 2000}}
  c: {timeout: 1s, stop_when: {ratio: 0.5}, slo: {p99: 25ms, min_rps: 100, warmup: 1s, window: {min: 3s, max: 3s}, samples: 500}}
  b: {slo: {p99: 100ms, resolution: 5%, warmup: 1s, window: {min: 8s, max: 8s}, samples: 1000}}
YAML
noisy_runs=""
check_cell() { # profile cell S_MS B_MS
  "$MFBENCH" run -m "$T/m.yaml" -p "$1" --json "$2" >"$T/$1.json" 2>"$T/$1.err"
  expect_eq "$2 exit status (stderr: $(tail -3 "$T/$1.err"))" "$?" 0
  # A probe during which other work took the server's or the engine's CPU is
  # not a measurement of the queue: such a run may miss the answer.
  noisy=$(json_get "$T/$1.json" "sum(1 for p in d['cells'][0]['phases'] if p['kind'] == 'slo' and p['noisy'])")
  [ "${noisy:-0}" -gt 0 ] && noisy_runs="$noisy_runs $2($noisy noisy probes)"
  fw=${2%/*}
  s_eff=$(awk '{printf "%.4f", $2 / 1000}' "$T/$fw.stats" 2>/dev/null)
  expect_eq "$2 server's own cost per request ($s_eff ms) within 15% of $3 ms" \
    "$(python3 -c "print(abs(float('${s_eff:-0}') - $3) <= 0.15 * $3)")" True
  want=$(python3 "$SRC/tests/methodology/md1.py" "${s_eff:-$3}" "$4")
  # unconfirmed (rps null): the highest rate that passed once
  got=$(json_get "$T/$1.json" '(lambda c: c["slo"]["rps"] if (c["slo"]["rps"] or -1) > 0 else max([p["offered_rps"] for p in c["phases"] if p["kind"] == "slo" and not p["stop_reason"]] or [None]))(d["cells"][0])')
  lim=$(json_get "$T/$1.json" 'd["cells"][0]["slo"]["limit"]')
  echo "$2: S=$3 ms (measured $s_eff) B=$4 ms: M/D/1 capacity $want req/s, mfbench $got req/s (limit $lim)" >&2
  # A probe the engine could not keep on schedule is inconclusive (limit client) and
  # fails the check below: with a 2 ms lateness floor whatever the bound, a VM's
  # vCPU wake-ups (2-5 ms late now and then) made md2 and md5 'client' in a CI-like
  # run; the floor is now a fifth of the bound (5 ms, 20 ms), and a 'client' here
  # is the engine's own failure to keep a few hundred sends a second on time.
  expect_eq "$2 slo rps within [0.80, 1.13] x $want (got $got)" \
    "$(python3 -c "print(0.80 * $want <= float('$got' if '$got' != 'None' else 'nan') <= 1.13 * $want)")" True
  # what failed above it: the tail (latency) or the queue it leaves (backlog)
  expect_eq "$2 limit is the server's queue" "$(case $lim in latency | backlog) echo yes ;; *) echo "$lim" ;; esac)" yes
  # Each probe's verdict against the early-stopping rule computed on its own
  # (early_stop_check.py): deterministic, where the answer above is statistics.
  es=$(/usr/bin/python3 "$SRC/tests/methodology/early_stop_check.py" "$T/$1.json")
  es_rc=$? # before the message's own $(...) resets $?
  expect_eq "$2 every probe judged by the rule ($(echo "$es" | tr '\n' ' '))" "$es_rc" 0
  expect_eq "$2 probes are open-loop Poisson, every one seeded" \
    "$(json_get "$T/$1.json" "all(p['arrivals'] == 'poisson' and p['seed'] for p in d['cells'][0]['phases'] if p['kind'] == 'slo')")" True
}
# Every request counted: a server that never answers one request in 20 fails
# every probe (its timeouts count as failures and as samples over the bound),
# down to min_rps: SLO capacity 0, never a pass. (Leaving the timed-out
# requests out of the latency and the counts, as before, passed it.)
# PART (the first argument): "lossy" runs only this, "md1" only the known
# answers below (tests/methodology/meson.build runs them as two tests).
if [ "${1:-lossy}" = lossy ]; then
"$MFBENCH" run -m "$T/m.yaml" -p c --json lossy/text >"$T/c.json" 2>"$T/c.err"
expect_eq "lossy exit status (stderr: $(tail -3 "$T/c.err"))" "$?" 0
expect_eq "lossy: no probe passed" \
  "$(json_get "$T/c.json" "[p['stop_reason'] for p in d['cells'][0]['phases'] if p['kind'] == 'slo' and not p['stop_reason']]")" "[]"
# 0 limited by the server; or, when the bottom probes could not keep their
# schedule (a loaded machine, a sanitizer build: inconclusive, limit client),
# not found (null). Never a rate above 0: leaving the lost requests out, as
# before, passed the low probes and gave one.
expect_eq "lossy: slo 0 req/s limited by the server (failures, latency or the backlog of lost requests), or not found for the client" \
  "$(json_get "$T/c.json" "(lambda s: (s['rps'] == 0 and s['limit'] in ('failures', 'latency', 'backlog')) or (s['rps'] is None and s['limit'] == 'client') or (s['rps'], s['limit']))(d['cells'][0]['slo'])")" True
expect_eq "lossy: the probes' timeouts are in their latency (p99 >= the 1 s timeout)" \
  "$(json_get "$T/c.json" "all(p['latency_ms']['p99'] >= 1000 or p['stopped_early'] for p in d['cells'][0]['phases'] if p['kind'] == 'slo' and p['failures_by_kind']['timeout'] > 0) and any(p['failures_by_kind']['timeout'] > 0 for p in d['cells'][0]['phases'] if p['kind'] == 'slo')")" True
finish
fi
check_cell a md2/text 2 25
check_cell b md5/text 5 100
if [ "$fails" -gt 0 ] && [ -n "$noisy_runs" ]; then
  echo "SKIP: other work took the server's or the engine's CPU during the probes:$noisy_runs; the known answer was not judged" >&2
  exit 77
fi
finish
