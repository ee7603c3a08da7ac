#!/usr/bin/env python3
"""nightly_table.py - the README's nightly table (markdown) from one stored run.

usage: tools/nightly_table.py [--db] RUN.json...   (each from: build/mfbench show RUN --json --store DB)

Several runs may be given (a night measured in parts): a cell's last ok result
wins, else its last one.

One row per cell: closed-loop peak (passing phases), SLO capacity with its band,
limit and probes, p50 / p99 at 50% and 80% of the SLO capacity, held users with
what stopped them, the server's RSS at the peak. Marks: a lower bound is printed
">= N (limit)", a capacity below the profile's min_rps "< N (min_rps)"; "~" after a figure whose phases include a noisy one (other work
took the server's or the engine's CPU); "*" after a load point that was not clean.

--db (database payloads): the last two columns are PostgreSQL's CPU instead, the
most any phase of the cell used (its postmaster and backends, % of one CPU; "§"
when a phase was db-bound: PostgreSQL used 90% of the CPUs it may use), and the
answers sampled whole and checked by the payload's rule over all phases (wrong
ones in brackets).
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
    elif lim in ("max", "client", "shared"):
        slo = f">= {num(rps)} ({lim})"
    elif rps == 0 and (s.get("bracket") or [None, None])[1]:
        # the profile's min_rps failed: the capacity is below it, not 0
        slo = f"< {num(s['bracket'][1])} (min_rps)"
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
    if DB:
        cpus = [(p.get("database") or {}).get("cpu_pct") for p in c["phases"]]
        cpus = [v for v in cpus if v is not None and v >= 0]
        dbc = f"{max(cpus):.0f}%" if cpus else ""
        if any(p.get("db_bound") for p in c["phases"]):
            dbc += " §"
        sampled = sum((p.get("verified") or {}).get("sampled", 0) for p in c["phases"])
        wrong = sum((p.get("verified") or {}).get("wrong", 0) for p in c["phases"])
        at80 = f" {pts.get(80, '')} |" if HAS80 else ""
        return (f"| {cell} | {peak} | {slo} | {band} | {lim or ''} | {s.get('probes', '')} | "
                f"{pts.get(50, '')} |{at80} {dbc} | {sampled:,} ({wrong}) |")
    held = held_cell(c)
    if any(p["noisy"] for p in c["phases"] if p["kind"] == "held"):
        held += " ~"
    rss = (hl.get("server_at_peak") or {}).get("rss_max_mib")
    rss = f"{rss:.0f} MiB" if rss is not None else ""
    return (f"| {cell} | {peak} | {slo} | {band} | {lim or ''} | {s.get('probes', '')} | "
            f"{pts.get(50, '')} | {pts.get(80, '')} | {held} | {rss} |")


DB = False
HAS80 = True  # with --db, the 80% column only when some cell has that load point


def main():
    global DB, HAS80
    args = sys.argv[1:]
    if args and args[0] == "--db":
        DB = True
        args = args[1:]
    cells = {}
    for path in args or ["/dev/stdin"]:
        with open(path) as f:
            for c in json.load(f)["cells"]:
                key = (c["payload"], c["framework"])
                if c["status"] == "ok" or cells.get(key, {}).get("status") != "ok":
                    cells[key] = c
    if DB:
        HAS80 = any((lp.get("pct_of_slo") or lp.get("pct_of_peak")) == 80
                    for c in cells.values() for lp in c.get("load_points") or [])
    last = "PostgreSQL CPU | answers verified (wrong)" if DB else "held users (limit) | RSS at peak"
    at80 = " at 80% |" if HAS80 else ""
    print("| cell | closed-loop peak | SLO capacity (p99 <= 25 ms) | band | limit | probes | "
          f"p50 / p99 at 50% |{at80} {last} |")
    print("|---|---:|---:|---|---|---:|---|" + ("---|" if HAS80 else "") + "---|---:|")
    for key in sorted(cells):
        print(row(cells[key]))


if __name__ == "__main__":
    main()
