#!/usr/bin/python3
"""charts_fixture.py - a result store with known values for the report's charts:
the schema is made by the real binary (`mfbench history --store DB` creates and
migrates it), the rows are written here with sqlite3. 30 runs, one a day from
2026-11-01 with a gap of three days after run 20, on two node fingerprints (runs
1-15 and 16-30); the newest run has
flask and tornado on payloads json and plain, json with repeats=3 (a spread),
bisection probes, a load-bound and a noisy phase, and load points at 50% and 90%
of peak. EXPECT holds what the charts must show.

Usage as a module: build(mfbench, db_path) -> EXPECT; as a script: charts_fixture.py MFBENCH DB."""
import datetime
import sqlite3
import subprocess
import sys

LEVELS = [8, 16, 32, 64, 128, 256, 512]
SPREAD = [0.9, 1.0, 1.1]  # the three repeats: min, median, max
# req/s at each level of the median repeat (the last level fails)
BASE = {"flask": [300, 560, 800, 950, 1000, 980, 700],
        "tornado": [700, 1400, 2300, 2900, 3000, 2950, 2000]}
P99 = {"flask": [5, 8, 15, 40, 90, 200, 900], "tornado": [2, 3, 5, 9, 20, 60, 400]}
PROBES = {"flask": [(320, 990), (384, 985), (448, 960)],
          "tornado": [(320, 2990), (384, 2970), (448, 2930)]}
# (framework, level index, repeat) of the marked phases
LOAD_BOUND = ("flask", 0, 0)
NOISY = ("tornado", 3, 1)
LOAD_POINTS = {"flask": [(50, 500, (4, 7, 20, 45, 80)), (90, 900, (6, 12, 40, 95, 160))],
               "tornado": [(50, 1500, (2, 3, 8, 15, 30)), (90, 2700, (3, 5, 15, 33, 70))]}
# the peak of the plain payload (one repeat)
PLAIN = {"flask": 1200, "tornado": 4800}
NODES = [("Intel(R) Xeon(R) A", 4, "performance", "3.11.2"),
         ("AMD EPYC B", 8, "schedutil", "3.12.1")]
FLAGGED_RUN = 9  # flask/json drops far below its band on the same node
NODE_FLAG_RUN = 18  # tornado/json drops too, judged against runs on the other node
GAP_AFTER = 20  # no run for three days after run 20: dates, not run numbers


def started(run):
    day = datetime.datetime(2026, 10, 31, 2, 0) + datetime.timedelta(
        days=run + (3 if run > GAP_AFTER else 0))
    return day.strftime("%Y-%m-%dT%H:%M:%SZ")

EXPECT = {
    "frameworks": ["flask", "tornado"],
    "peak_median": {"flask": 1000, "tornado": 3000},
    "log2_ticks": LEVELS,
    "probes": {fw: len(p) for fw, p in PROBES.items()},
    "hollow": [("flask", 8, "load-bound"), ("tornado", 64, "noisy")],
    "fp_change_run": 16,
    "flagged_run": FLAGGED_RUN,
    "node_flag_run": NODE_FLAG_RUN,
    "runs": 30,
    "gap_after": GAP_AFTER,
    "heat_best": {"json": "tornado", "plain": "tornado"},
    "heat_pct": {("flask", "json"): 33, ("flask", "plain"): 25},
}


def history_peak(fw, pl, run):
    base = (BASE[fw][4] if pl == "json" else PLAIN[fw])
    wobble = [0.0, 0.01, -0.01, 0.02, -0.02][run % 5]
    v = base * (1 + wobble)
    if run < 16:
        v *= 0.8  # the older, slower node
    if run == FLAGGED_RUN and fw == "flask" and pl == "json":
        v = base * 0.5
    if run == NODE_FLAG_RUN and fw == "tornado" and pl == "json":
        v = base * 0.5
    return v


def phase(db, cell, seq, users, rps, p99, kind="ladder", repeat=0, load_bound=0, noisy=0,
          failures=0, stop=""):
    dur = 10.0
    req = int(rps * dur) + failures
    db.execute(
        "INSERT INTO phases(cell_id, seq, users, duration_s, requests, failures, fail_connect,"
        " fail_timeout, fail_reset, fail_status, fail_body, fail_protocol, fail_client,"
        " bytes_read, rps, lat_mean, lat_p50, lat_p90, lat_p99, lat_p999, lat_max, offered_rps,"
        " missed_schedule, client_cpu_pct, server_rss_max_kb, server_rss_mean_kb,"
        " server_cpu_pct, server_cpu_max_pct, load_bound, client_bound, stop_reason, kind,"
        " repeat, noisy, steal_pct, neighbour_cpu_pct)"
        " VALUES (?,?,?,?,?,?,0,?,0,0,0,0,0,?,?,?,?,?,?,?,?,0,0,20,?,?,80,95,?,0,?,?,?,?,?,?)",
        (cell, seq, users, dur, req, failures, failures, req * 200, rps, p99 / 3, p99 / 4,
         p99 / 2, p99, p99 * 1.5, p99 * 2, 30000 + users, 28000, load_bound, stop, kind, repeat,
         noisy, 6.0 if noisy else 0.1, 0.5))


def cell(db, run, seq, fw, pl, peak, repeats=1, cap=256, median=None, mn=None, mx=None):
    cur = db.execute(
        "INSERT INTO cells(run_id, seq, framework, payload, status, versions_json, capacity_users,"
        " breaking_users, peak_rps, repeats, peak_rps_median, peak_rps_min, peak_rps_max)"
        " VALUES (?,?,?,?,'ok',?,?,?,?,?,?,?,?)",
        (run, seq, fw, pl, '{"python":"3.11.2","%s":"1.0"}' % fw, cap, cap * 2, peak, repeats,
         median, mn, mx))
    return cur.lastrowid


def build(mfbench, path):
    subprocess.run([mfbench, "history", "--store", path], check=True, capture_output=True,
                   timeout=60)
    db = sqlite3.connect(path)
    for run in range(1, 31):
        model, cpus, gov, py = NODES[0 if run < 16 else 1]
        db.execute(
            "INSERT INTO runs(id, started_at, finished_at, trigger, status, profile, node_host,"
            " node_cpus, node_kernel, node_cpu_model, node_cpu_count, node_governor, node_python,"
            " node_loadavg) VALUES (?,?,?,'nightly','ok','capacity','node1','0-3','6.1.0',?,?,?,"
            "?,0.2)",
            (run, started(run), started(run).replace("T02", "T03"), model, cpus, gov, py))
        last = run == 30
        seq = 0
        for pl in ("json", "plain"):
            for fw in ("flask", "tornado"):
                peak = history_peak(fw, pl, run)
                if not last:
                    c = cell(db, run, seq, fw, pl, peak, cap=256 if pl == "json" else 128)
                    phase(db, c, 0, 256 if pl == "json" else 128, peak,
                          P99[fw][5] if pl == "json" else 50)
                    seq += 1
                    continue
                if pl == "plain":
                    c = cell(db, run, seq, fw, pl, PLAIN[fw], cap=128)
                    for i, u in enumerate(LEVELS[:5]):
                        phase(db, c, i, u, PLAIN[fw] * (i + 1) / 5, 10 * (i + 1))
                    seq += 1
                    continue
                med = BASE[fw][4]
                c = cell(db, run, seq, fw, pl, med, repeats=3, cap=448, median=med,
                         mn=med * SPREAD[0], mx=med * SPREAD[2])
                s = 0
                for rep in range(3):
                    for i, u in enumerate(LEVELS):
                        fail = i == len(LEVELS) - 1
                        phase(db, c, s, u, BASE[fw][i] * SPREAD[rep], P99[fw][i] * SPREAD[rep],
                              repeat=rep, load_bound=int(LOAD_BOUND == (fw, i, rep)),
                              noisy=int(NOISY == (fw, i, rep)), failures=50 if fail else 0,
                              stop="failures" if fail else "")
                        s += 1
                    u, v = PROBES[fw][rep]
                    phase(db, c, s, u, v, P99[fw][5], kind="bisect", repeat=rep)
                    s += 1
                for pct, rps, lat in LOAD_POINTS[fw]:
                    db.execute(
                        "INSERT INTO load_points(cell_id, pct_of_peak, offered_rps, rps, lat_mean,"
                        " lat_p50, lat_p90, lat_p99, lat_p999, lat_max, failures)"
                        " VALUES (?,?,?,?,?,?,?,?,?,?,0)",
                        (c, pct, rps, rps, lat[0], *lat))
                seq += 1
    db.commit()
    db.close()
    return EXPECT


if __name__ == "__main__":
    build(sys.argv[1], sys.argv[2])
