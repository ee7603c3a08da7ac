#!/usr/bin/env python3
"""nightly_table.py - the README's nightly table (markdown) from one stored run.

usage: tools/nightly_table.py RUN.json...   (each from: build/mfbench show RUN --json --store DB)

Several runs may be given (a night measured in parts): a cell's last ok result
wins, else its last one.

One row per cell: closed-loop peak (passing phases), SLO capacity with its band,
limit and probes, p50 / p99 at 50% and 80% of the SLO capacity, held users with
what stopped them, the server's RSS at the peak. Marks: a lower bound is printed
">= N (limit)"; "~" after a figure whose phases include a noisy one (other work
took the server's or the engine's CPU); "*" after a load point that was not clean.
"""
import json
import sys


def num(v):
    return f"{round(v):,}" if v is not None else ""


def held_cell(c):
    h = c["headline"].get("held_users") or {}
    v, lim, setting = h.get("value"), h.get("limit"), h.get("setting")
    if v is None:
        return f"not judged ({lim})" if lim else ""
    if lim == "server":
        if setting:
            return f"{num(v)} (server: {setting})"
        # what failed at the first level above it: the held phases' stop reasons
        why = [p["stop_reason"] for p in c["phases"] if p["kind"] == "held" and p["stop_reason"]]
        return f"{num(v)} (server: {why[0] if why else '?'})"
    return f">= {num(v)} ({lim})"


def row(c):
    cell = f"{c['framework']}/{c['payload']}"
    if c["status"] != "ok":
        return f"| {cell} | {c['status']} | | | | | | | | |"
    hl = c["headline"]
    peak = num((hl.get("peak_rps_passing") or {}).get("value"))
    s = c.get("slo") or {}
    lim = s.get("limit")
    rps = s.get("rps")
    passed = [p["offered_rps"] for p in c["phases"] if p["kind"] == "slo" and not p["stop_reason"]]
    if (rps is None or rps < 0) and passed:
        # every confirming probe failed: the search's answer is "not found"
        slo = f"unconfirmed ({num(max(passed))} passed once)"
    elif rps is None or rps < 0:
        slo = f"none ({lim})"
    elif lim in ("max", "client"):
        slo = f">= {num(rps)} ({lim})"
    else:
        slo = num(rps)
    if any(p["noisy"] for p in c["phases"] if p["kind"] == "slo"):
        slo += " ~"
    br = s.get("bracket") or []
    band = "–".join(num(b) for b in br if b is not None and b >= 0)
    pts = {}
    for lp in c.get("load_points") or []:
        lat = lp.get("latency_ms") or {}
        mark = "" if lp.get("clean") else " *"
        if lp.get("pct_of_slo") is None:
            mark += " (of the peak)"  # no SLO capacity: shares of the closed-loop peak
        pts[lp.get("pct_of_slo") or lp.get("pct_of_peak")] = f"{lat.get('p50', 0):.2f} / {lat.get('p99', 0):.2f} ms{mark}"
    held = held_cell(c)
    if any(p["noisy"] for p in c["phases"] if p["kind"] == "held"):
        held += " ~"
    rss = (hl.get("server_at_peak") or {}).get("rss_max_mib")
    rss = f"{rss:.0f} MiB" if rss is not None else ""
    return (f"| {cell} | {peak} | {slo} | {band} | {lim or ''} | {s.get('probes', '')} | "
            f"{pts.get(50, '')} | {pts.get(80, '')} | {held} | {rss} |")


def main():
    cells = {}
    for path in sys.argv[1:] or ["/dev/stdin"]:
        with open(path) as f:
            for c in json.load(f)["cells"]:
                key = (c["payload"], c["framework"])
                if c["status"] == "ok" or cells.get(key, {}).get("status") != "ok":
                    cells[key] = c
    print("| cell | closed-loop peak | SLO capacity (p99 <= 25 ms) | band | limit | probes | "
          "p50 / p99 at 50% | at 80% | held users (limit) | RSS at peak |")
    print("|---|---:|---:|---|---|---:|---|---|---|---:|")
    for key in sorted(cells):
        print(row(cells[key]))


if __name__ == "__main__":
    main()
