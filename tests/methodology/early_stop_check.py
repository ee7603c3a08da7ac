#!/usr/bin/env python3
"""early_stop_check.py RUN.json - every SLO probe of the run's cells judged again
by MLPerf's early-stopping rule, computed here on its own (no mfbench code): a
probe that passed must have at most t(n) of its n samples (completed + unsent
due) over the bound, and a probe that failed on latency (not stopped early)
more than t(n), where t(n) is the largest t with P[Binomial(n, 0.01) <= t] <
0.01 (p99 at 99% confidence). Prints one line per disagreement and the count
of probes checked; exit 1 on any disagreement, or when no probe was checked."""
import json
import math
import sys


def t_max(n, q=0.01, alpha=0.01):
    cdf, t = 0.0, -1
    lq, lp = math.log(q), math.log1p(-q)
    for k in range(n + 1):
        cdf += math.exp(math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)
                        + k * lq + (n - k) * lp)
        if cdf < alpha:
            t = k
        else:
            return t
    return n


d = json.load(open(sys.argv[1]))
checked, bad = 0, 0
for c in d["cells"]:
    for p in c["phases"]:
        if p["kind"] != "slo" or p.get("stopped_early"):
            continue
        n = p["completed"] + p["unsent_due"]
        over = p["over_bound"]
        why = p["stop_reason"]
        if not why:
            ok = over <= t_max(n)
        elif why == "latency":
            ok = over > t_max(n)
        else:
            continue
        checked += 1
        if not ok:
            bad += 1
            print(f"{c['framework']}/{c['payload']} probe at {p['offered_rps']} req/s: "
                  f"{over} of {n} over {p['bound_ms']} ms, t(n) = {t_max(n)}, "
                  f"stored {why or 'pass'}")
print(f"{checked} probes checked, {bad} judged otherwise")
sys.exit(1 if bad or not checked else 0)
