#!/bin/sh
# The server's side of test_slo_shared.sh: an SLO probe that fails (latency,
# backlog) while other processes take more than 5% of the server's CPUs
# (neighbour_cpu_pct from the node's sampler) says nothing of the rate. The
# search probes the same rate again, at most twice, then stops with limit
# "shared" and a note naming the server's CPUs: the highest passing rate is a
# lower bound (qualifier lower_bound_shared), or nothing is judged. Before
# this, a compile beside a nightly left one cell's SLO capacity "not found":
# every probe after it failed with 20-26% of the server's CPU taken by others.
# Three busy loops on the server's CPU 1 (normal priority) for the whole run.
. "$SRC/tests/methodology/mlib.sh"
slo_beside_hogs 1
expect_eq "exit status (stderr: $(tail -3 "$T/s.err"))" "$rc" 0
slo='[p for p in d["cells"][0]["phases"] if p["kind"] == "slo"]'
n=$(json_get "$T/s.json" "len($slo)")
probes="$(json_get "$T/s.json" "[(round(p['offered_rps']), p['stop_reason'], round(p['neighbour_cpu_pct'] or -1)) for p in $slo]")"
failed=$(json_get "$T/s.json" "sum(1 for p in $slo if p['stop_reason'] in ('latency', 'backlog'))")
if [ "${failed:-0}" -eq 0 ]; then
  # Every probe passed beside the hogs: nothing to judge here.
  echo "SKIP: no SLO probe failed beside 3 busy loops on CPU 1 ($n probes: $probes)" >&2
  exit 77
fi
expect_eq "the last 3 probes failed at one rate (probes: $probes)" \
  "$(json_get "$T/s.json" "len(set(round(p['offered_rps'], -1) for p in $slo[-3:])) == 1 and all(p['stop_reason'] in ('latency', 'backlog') for p in $slo[-3:])")" True
expect_eq "slo limit shared" "$(json_get "$T/s.json" 'd["cells"][0]["slo"]["limit"]')" shared
passing="[p['offered_rps'] for p in $slo if not p['stop_reason']]"
expect_eq "slo rps: none when no probe passed, else the highest passing rate (offered within 10%)" \
  "$(json_get "$T/s.json" "(lambda r, ps: r is None if not ps else (r is not None and abs(r - max(ps)) <= 0.1 * max(ps)))(d['cells'][0]['slo']['rps'], $passing)")" True
expect_eq "a lower bound or not judged, never measured" \
  "$(json_get "$T/s.json" 'd["cells"][0]["headline"]["slo"]["qualifier"]')" \
  "$(json_get "$T/s.json" "'lower_bound_shared' if $passing else 'not_judged'")"
expect_eq "probes counted (stored phases $n)" "$(json_get "$T/s.json" 'd["cells"][0]["slo"]["probes"]')" "$n"
expect_contains "the note names the server's CPUs" "$(json_get "$T/s.json" 'd["cells"][0]["note"]')" "server's CPUs shared"
expect_contains "stderr says the rate is probed again" "$(cat "$T/s.err")" "the same rate again"
echo "probes (rate, stop reason, neighbours %): $probes" >&2
finish
