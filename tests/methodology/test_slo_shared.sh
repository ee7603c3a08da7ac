#!/bin/sh
# An SLO probe that is inconclusive because other processes took the load
# engine's CPU (the engine itself not busy: not client-bound) says nothing of
# the rate: a lower rate meets the same neighbours. The search probes the same
# rate again, at most twice, then stops with limit "client" and a note naming
# the shared CPU: the highest passing rate is a lower bound, or nothing is
# judged. Before this, a nightly beside a compile walked one search from
# 9,309 down to 25 req/s in 14 probes and stored ">= 27 req/s".
# Three busy loops on the engine's CPU 0 (normal priority) for the whole run.
. "$SRC/tests/methodology/mlib.sh"
slo_beside_hogs 0
expect_eq "exit status (stderr: $(tail -3 "$T/s.err"))" "$rc" 0
slo='[p for p in d["cells"][0]["phases"] if p["kind"] == "slo"]'
n=$(json_get "$T/s.json" "len($slo)")
inc=$(json_get "$T/s.json" "sum(1 for p in $slo if p['stop_reason'] == 'client')")
if [ "${inc:-0}" -eq 0 ]; then
  # Every probe kept its schedule beside the hogs: nothing to judge here.
  echo "SKIP: no SLO probe was inconclusive beside 3 busy loops on CPU 0 ($n probes)" >&2
  exit 77
fi
expect_eq "the last 3 probes inconclusive at one rate (probes: $(json_get "$T/s.json" "[(round(p['offered_rps']), p['stop_reason']) for p in $slo]"))" \
  "$(json_get "$T/s.json" "len(set(round(p['offered_rps'], -1) for p in $slo[-3:])) == 1 and all(p['stop_reason'] == 'client' for p in $slo[-3:])")" True
expect_eq "no lower rate probed after an inconclusive one" \
  "$(json_get "$T/s.json" "(lambda r: all(r[i + 1] >= r[i] * 0.9 for i in range(len(r) - 1) if $slo[i]['stop_reason'] == 'client'))([p['offered_rps'] for p in $slo])")" True
expect_eq "slo limit client" "$(json_get "$T/s.json" 'd["cells"][0]["slo"]["limit"]')" client
passing="[p['offered_rps'] for p in $slo if not p['stop_reason']]"
expect_eq "slo rps: none when no probe passed, else the highest passing rate (offered within 10%)" \
  "$(json_get "$T/s.json" "(lambda r, ps: r is None if not ps else (r is not None and abs(r - max(ps)) <= 0.1 * max(ps)))(d['cells'][0]['slo']['rps'], $passing)")" True
expect_eq "probes counted (stored phases $n)" "$(json_get "$T/s.json" 'd["cells"][0]["slo"]["probes"]')" "$n"
expect_contains "the note names the shared CPU" "$(json_get "$T/s.json" 'd["cells"][0]["note"]')" "engine's CPUs shared"
expect_contains "stderr says the rate is probed again" "$(cat "$T/s.err")" "the same rate again"
finish
