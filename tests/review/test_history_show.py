#!/usr/bin/python3
"""test_history_show.py - `mfbench history` and `mfbench show` print the same
figures for the same cell (issue 21: one definition per figure). A store
written with sqlite3 into one `mfbench history` created holds cells on which a
rule computed in SQL and the headline's rule (cli/headline.c,
common/result.c) disagree:
  flask/json    capacity 16, but the only search phase at 16 failed (a
                latency-at-load phase at 16 passed): the phase at capacity is
                the first one tried (p50 1.0, p99 2.0), not the failing one;
  tornado/json  SLO only: its first phase is an SLO probe ("bracket"), so it
                has no phase at capacity (no p50/p99), though an SLO "bisect"
                probe follows; its headline is the SLO capacity 700 req/s;
  bottle/json   held_users 300 stored without a held_limit: not measured;
  django/json   phases of kind "" (older rows: the search's): capacity 16 is
                the passing phase at 16 (p50 4.0, p99 8.0).
Then history (--json, the table, --regressions) is checked against show
(--json headline, the table, md --seed) cell by cell, and against the known
values above."""
import json
import os
import re
import sqlite3
import subprocess
import sys

MFBENCH = os.environ["MFBENCH"]
failures = 0


def check(cond, what):
    global failures
    if not cond:
        failures += 1
        print(f"FAIL: {what}", file=sys.stderr)


def mf(*args, db):
    p = subprocess.run([MFBENCH, *args, "--store", db], capture_output=True, text=True,
                       timeout=60, env={**os.environ, "LC_ALL": "C.UTF-8"})
    check(p.returncode == 0, f"mfbench {' '.join(args)}: exit {p.returncode}: {p.stderr}")
    return p.stdout


PHASE_COLS = ("cell_id, seq, users, duration_s, requests, failures, fail_connect, fail_timeout,"
              " fail_reset, fail_status, fail_body, fail_protocol, fail_client, bytes_read, rps,"
              " lat_mean, lat_p50, lat_p90, lat_p99, lat_p999, lat_max, offered_rps,"
              " missed_schedule, client_cpu_pct, server_rss_max_kb, server_rss_mean_kb,"
              " server_cpu_pct, server_cpu_max_pct, server_threads_max, server_fds_max,"
              " load_bound, client_bound, stop_reason, kind, repeat, sampler_cpu_pct,"
              " in_flight, steal_pct, neighbour_cpu_pct, noisy")
CELL_COLS = ("id, run_id, seq, framework, payload, status, versions_json, capacity_users,"
             " breaking_users, peak_rps, repeats, held_users, held_limit")


def phase(con, cell, seq, users, rps, p50, kind, failed=False, rss_kb=30000.0):
    fails = 5 if failed else 0
    req = int(rps * 60) + fails
    row = (cell, seq, users, 60.0, req, fails, 0, fails, 0, 0, 0, 0, 0, req * 100, rps,
           p50, p50, p50 * 1.5, p50 * 2, p50 * 3, p50 * 4, None, 0, 10.0, rss_kb, rss_kb,
           50.0, 60.0, 4, 20, 0, 0, "failures" if failed else "", kind, 0, 0.5, 0, 0.1, 0.2, 0)
    con.execute(f"INSERT INTO phases({PHASE_COLS}) VALUES({','.join('?' * len(row))})", row)


def build(db):
    subprocess.run([MFBENCH, "history", "--store", db], check=True, capture_output=True,
                   timeout=60)
    con = sqlite3.connect(db)
    con.execute("INSERT INTO runs(id, started_at, finished_at, trigger, status, profile)"
                " VALUES(1, '2026-11-20T02:00:00Z', '2026-11-20T03:00:00Z', 'nightly', 'ok',"
                " 'nightly')")

    def cell(cid, seq, fw, cap, brk, peak, held=None, limit=""):
        con.execute(f"INSERT INTO cells({CELL_COLS}) VALUES({','.join('?' * 13)})",
                    (cid, 1, seq, fw, "json", "ok", json.dumps({fw: "1.0"}), cap, brk, peak, 1,
                     held, limit))

    # The search's levels: the store's own name for them (the column default).
    (doubling,) = con.execute("SELECT dflt_value FROM pragma_table_info('phases')"
                              " WHERE name = 'kind'").fetchone()
    doubling = doubling.strip("'")
    cell(1, 0, "flask", 16, 16, 1900.0)
    phase(con, 1, 0, 8, 1000.0, 1.0, doubling, rss_kb=20480.0)
    phase(con, 1, 1, 16, 1900.0, 9.0, doubling, failed=True, rss_kb=51200.0)
    phase(con, 1, 2, 16, 800.0, 0.5, "load")
    cell(2, 1, "tornado", None, None, 750.0)
    phase(con, 2, 0, 0, 500.0, 2.0, "bracket")
    phase(con, 2, 1, 0, 750.0, 3.0, "bisect")
    phase(con, 2, 2, 0, 700.0, 2.5, "confirm")
    con.execute("INSERT INTO cell_slo(cell_id, idx, bound_ms, rps, bracket_lo, bracket_hi,"
                " limit_, lat_p50, lat_p99, probes) VALUES(2, 0, 25, 700, 700, 750, 'latency',"
                " 2.5, 20, 3)")
    cell(3, 2, "bottle", 8, 16, 600.0, held=300)
    phase(con, 3, 0, 8, 600.0, 1.5, doubling)
    phase(con, 3, 1, 16, 500.0, 7.0, doubling, failed=True)
    cell(4, 3, "django", 16, 32, 1200.0)
    phase(con, 4, 0, 8, 700.0, 2.0, "")
    phase(con, 4, 1, 16, 1200.0, 4.0, "")
    phase(con, 4, 2, 32, 1100.0, 30.0, "", failed=True)
    con.commit()
    con.close()


# What the one definition gives (p50, p99 of the phase at capacity; RSS max
# over the phases in KiB; held users).
WANT = {"flask": (1.0, 2.0, 51200.0, None), "tornado": (None, None, 30000.0, None),
        "bottle": (1.5, 3.0, 30000.0, None), "django": (4.0, 8.0, 30000.0, None)}


def seed_rows(md):
    """{framework: row dict} of `show --format md --seed`'s table."""
    rows, header = {}, None
    for line in md.splitlines():
        if not line.startswith("|"):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if header is None:
            header = cells
        elif not set(line) <= set("|-: "):
            rows[cells[0]] = dict(zip(header, cells))
    return rows


def number(s):
    m = re.match(r"^(-?\d+(?:\.\d+)?)", s or "")
    return float(m.group(1)) if m else None


def close(a, b, eps):
    if a is None or b is None:
        return a is None and b is None
    return abs(a - b) <= eps


def main():
    db = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"history_show_{os.getpid()}.db")
    try:
        build(db)
        hist = {r["framework"]: r for r in json.loads(mf("history", "--json", db=db))}
        show = {c["framework"]: c for c in json.loads(mf("show", "1", "--json", db=db))["cells"]}
        seed = seed_rows(mf("show", "1", "--format", "md", "--seed", db=db))
        table = mf("history", db=db)
        check(set(hist) == set(WANT), f"a history row per cell: {sorted(hist)}")
        for fw, (p50, p99, rss, held) in WANT.items():
            h, s, hl = hist.get(fw, {}), show.get(fw, {}), show.get(fw, {}).get("headline", {})
            # the known values
            check(close(h.get("p50_ms"), p50, 1e-9), f"{fw}: history p50 {h.get('p50_ms')}"
                  f" != {p50}")
            check(close(h.get("p99_ms"), p99, 1e-9), f"{fw}: history p99 {h.get('p99_ms')}"
                  f" != {p99}")
            check(close(h.get("rss_max_kb"), rss, 1e-9), f"{fw}: history rss"
                  f" {h.get('rss_max_kb')}")
            check(h.get("held_users") == held, f"{fw}: history held {h.get('held_users')}"
                  f" != {held}")
            # show's seed table: the phase at capacity, RSS max over the phases
            sr = seed.get(fw)
            if p50 is None:
                check(sr is None, f"{fw}: show --seed has a row, history has no phase: {sr}")
            else:
                check(sr is not None, f"{fw}: no row in show --seed")
                sr = sr or {}
                check(close(number(sr.get("Median Response Time (ms)")), h.get("p50_ms"), 0.005),
                      f"{fw}: p50 show --seed {sr.get('Median Response Time (ms)')} vs history"
                      f" {h.get('p50_ms')}")
                check(close(number(sr.get("p99 (ms)")), h.get("p99_ms"), 0.005),
                      f"{fw}: p99 show --seed {sr.get('p99 (ms)')} vs history {h.get('p99_ms')}")
                check(close(number(sr.get("Server RSS (MiB)")), (h.get("rss_max_kb") or 0) / 1024,
                            0.05), f"{fw}: rss show --seed {sr.get('Server RSS (MiB)')} vs history"
                      f" {h.get('rss_max_kb')}")
            # show's headline: held users, the server at the peak, the judged figures
            check(h.get("held_users") == hl.get("held_users", {}).get("value"),
                  f"{fw}: held history {h.get('held_users')} vs show {hl.get('held_users')}")
            check(close(h.get("rss_at_peak_mib"), hl.get("server_at_peak", {}).get("rss_max_mib"),
                        0.05), f"{fw}: rss at peak history {h.get('rss_at_peak_mib')} vs show"
                  f" {hl.get('server_at_peak')}")
            figs = h.get("figures", {})
            check(close(figs.get("peak_rps_passing", {}).get("value"),
                        hl.get("peak_rps_passing", {}).get("value"), 0.005),
                  f"{fw}: passing peak history {figs.get('peak_rps_passing')} vs show"
                  f" {hl.get('peak_rps_passing')}")
            check(close(figs.get("slo_rps", {}).get("value"), hl.get("slo", {}).get("value"),
                        0.005),
                  f"{fw}: slo history {figs.get('slo_rps')} vs show {hl.get('slo')}")
            # the table: slo, peak and rss as show --json has them
            line = next((ln for ln in table.splitlines() if f" {fw}/json " in ln), "")
            tok = line.split()
            check(len(tok) >= 10, f"{fw}: a table line: {line!r}")
            if len(tok) >= 10:
                slo, peak, rss_t, held_t = tok[5], tok[7], tok[8], tok[9]
                want_slo = hl.get("slo", {}).get("value")
                check((slo == "-") == (want_slo is None) and close(number(slo), want_slo, 0.05),
                      f"{fw}: table slo {slo} vs show {want_slo}")
                check(close(number(peak), hl.get("peak_rps_passing", {}).get("value"), 0.05),
                      f"{fw}: table peak {peak} vs show {hl.get('peak_rps_passing')}")
                check(close(number(rss_t), hl.get("server_at_peak", {}).get("rss_max_mib"), 0.05),
                      f"{fw}: table rss {rss_t} vs show {hl.get('server_at_peak')}")
                check(held_t == "-", f"{fw}: table held {held_t}")
        check(hist.get("tornado", {}).get("figures", {}).get("slo_rps", {}).get("value") == 700,
              "tornado: its headline is the SLO capacity 700")
        out = mf("history", "--regressions", db=db)
        check("no regressions" in out, f"history --regressions: {out!r}")
    finally:
        for suffix in ("", "-wal", "-shm"):
            try:
                os.unlink(db + suffix)
            except FileNotFoundError:
                pass
    if failures:
        print(f"{failures} check(s) failed", file=sys.stderr)
        return 1
    print("history and show agree on every cell")
    return 0


if __name__ == "__main__":
    sys.exit(main())
