#!/usr/bin/python3
"""headline_fixture.py - a store with known headline values, written with
sqlite3 into a store that `mfbench history` created (so the schema is the
build's own). Run 1 (profile nightly, a known node fingerprint):
  flask/json: three searches with bisection probes; each search's peak is
    2900 (a failing level), 2200 (noisy, steal 7.5%) and 2400 (a load-bound
    bisect probe, server 40 MiB, 88% CPU): the headline peak is their median
    2400, spread 2200-2900. Latency at load: 50% p50 1.5 / p99 4.0 ms, 90% p50
    3.0 / p99 12.0 ms (its phase noisy). Held 800 users (server).
  tornado/json: one search, its peak 4000 in a noisy phase.
  bottle/json: skipped.
Run 2: only skipped cells.
`python3 headline_fixture.py MFBENCH DB` builds it by hand."""
import json
import subprocess
import sqlite3
import sys

FLASK = {"peak": 2400.0, "min": 2200.0, "max": 2900.0, "p50_50": 1.5, "p99_50": 4.0,
         "p50_90": 3.0, "p99_90": 12.0, "capacity": 24, "held": 800, "rss_mib": 40.0,
         "cpu": 88.0}
TORNADO = {"peak": 4000.0}
NODE = {"cpu_model": "Fixture CPU 1234", "cpus": 2, "kernel": "6.1.0-fixture",
        "governor": "schedutil", "python": "3.11.2", "loadavg": 0.42}

PHASE_COLS = ("cell_id, seq, users, duration_s, requests, failures, fail_connect, fail_timeout,"
              " fail_reset, fail_status, fail_body, fail_protocol, fail_client, bytes_read, rps,"
              " lat_mean, lat_p50, lat_p90, lat_p99, lat_p999, lat_max, offered_rps,"
              " missed_schedule, client_cpu_pct, server_rss_max_kb, server_rss_mean_kb,"
              " server_cpu_pct, server_cpu_max_pct, server_threads_max, server_fds_max,"
              " load_bound, client_bound, stop_reason, kind, repeat, sampler_cpu_pct,"
              " in_flight, steal_pct, neighbour_cpu_pct, noisy")


def phase(con, cell, seq, users, rps, repeat=0, kind="ladder", failed=False, noisy=False,
          load_bound=False, offered=None, rss_kb=None, cpu=None, p99=None):
    fails = 5 if failed else 0
    req = int(rps * 60) + fails
    p99 = p99 if p99 is not None else users / 2.0
    row = (cell, seq, users, 60.0, req, fails, 0, fails, 0, 0, 0, 0, 0, req * 250, rps,
           p99 / 4, p99 / 5, p99 / 2, p99, p99 * 1.5, p99 * 2, offered, 0, 10.0,
           rss_kb if rss_kb is not None else 30000.0 + users, 29000.0,
           cpu if cpu is not None else 50.0, 100.0, 4, 20, int(load_bound), 0,
           "failures" if failed else "", kind, repeat, 0.5, 0,
           7.5 if noisy else 0.1, 0.2, int(noisy))
    con.execute(f"INSERT INTO phases({PHASE_COLS}) VALUES({','.join('?' * len(row))})", row)


def build(mfbench, db):
    """Creates db with the known values; returns nothing (the constants above
    are the expectations)."""
    subprocess.run([mfbench, "history", "--store", db], check=True, capture_output=True,
                   timeout=60)
    con = sqlite3.connect(db)
    run = ("2026-11-20T02:00:00Z", "2026-11-20T03:00:00Z", "nightly", "ok", "nightly",
           "ab" * 32, "node-a", "1", NODE["kernel"], NODE["cpu_model"], NODE["cpus"],
           NODE["governor"], NODE["python"], NODE["loadavg"])
    cols = ("started_at, finished_at, trigger, status, profile, matrix_sha256, node_host,"
            " node_cpus, node_kernel, node_cpu_model, node_cpu_count, node_governor,"
            " node_python, node_loadavg")
    con.execute(f"INSERT INTO runs(id, {cols}) VALUES(1, {','.join('?' * 14)})", run)
    ccols = ("id, run_id, seq, framework, payload, status, error, versions_json,"
             " capacity_users, breaking_users, peak_rps, repeats, capacity_median, capacity_iqr,"
             " capacity_min, capacity_max, peak_rps_median, peak_rps_iqr, peak_rps_min,"
             " peak_rps_max, peak_rps_spread, peak_rps_load_bound, note, held_users, held_limit")
    con.execute(f"INSERT INTO cells({ccols}) VALUES({','.join('?' * 25)})",
                (1, 1, 0, "flask", "json", "ok", None,
                 json.dumps({"flask": "3.0.0", "python": "3.11.2"}), 24, 32, 2400.0, 3,
                 24, 0, 24, 24, 2400.0, 350.0, 2200.0, 2900.0, 0.29, 1, "", 800, "server"))
    seq = iter(range(100))
    # search 0: 8, 16, 32 (fails, yet its 2900 req/s is this search's peak), bisect 24
    phase(con, 1, next(seq), 8, 1000.0, 0)
    phase(con, 1, next(seq), 16, 2000.0, 0)
    phase(con, 1, next(seq), 32, 2900.0, 0, failed=True)
    phase(con, 1, next(seq), 24, 2500.0, 0, kind="bisect")
    # search 1: its peak 2200 in a noisy phase
    phase(con, 1, next(seq), 8, 1100.0, 1)
    phase(con, 1, next(seq), 16, 2200.0, 1, noisy=True)
    phase(con, 1, next(seq), 32, 2000.0, 1, failed=True)
    # search 2: its peak 2400, a load-bound bisect probe: the median search
    phase(con, 1, next(seq), 8, 900.0, 2)
    phase(con, 1, next(seq), 16, 1800.0, 2)
    phase(con, 1, next(seq), 32, 1500.0, 2, failed=True)
    phase(con, 1, next(seq), 24, 2400.0, 2, kind="bisect", load_bound=True, rss_kb=40960.0,
          cpu=88.0)
    # latency at load (open loop), the 90% point noisy; held users
    phase(con, 1, next(seq), 24, 1200.0, 0, kind="load", load_bound=True, offered=1200.0)
    phase(con, 1, next(seq), 24, 2150.0, 0, kind="load", load_bound=True, noisy=True,
          offered=2160.0)
    phase(con, 1, next(seq), 800, 80.0, 0, kind="held")
    lcols = ("cell_id, pct_of_peak, offered_rps, rps, lat_mean, lat_p50, lat_p90, lat_p99,"
             " lat_p999, lat_max, failures")
    con.execute(f"INSERT INTO load_points({lcols}) VALUES({','.join('?' * 11)})",
                (1, 50, 1200.0, 1200.0, 1.4, 1.5, 2.5, 4.0, 6.0, 9.0, 0))
    con.execute(f"INSERT INTO load_points({lcols}) VALUES({','.join('?' * 11)})",
                (1, 90, 2160.0, 2150.0, 2.9, 3.0, 6.0, 12.0, 20.0, 30.0, 0))

    con.execute(f"INSERT INTO cells({ccols}) VALUES({','.join('?' * 25)})",
                (2, 1, 1, "tornado", "json", "ok", None, json.dumps({"tornado": "6.4"}), 16,
                 32, 4000.0, 1, None, None, None, None, 4000.0, 0, 4000.0, 4000.0, 0, 0, "",
                 None, ""))
    phase(con, 2, 0, 8, 3000.0)
    phase(con, 2, 1, 16, 4000.0, noisy=True)
    phase(con, 2, 2, 32, 3500.0, failed=True)
    con.execute(f"INSERT INTO cells({ccols}) VALUES({','.join('?' * 25)})",
                (3, 1, 2, "bottle", "json", "skipped", "bottle is not installed", None, None,
                 None, 0, 0, None, None, None, None, None, None, None, None, None, 0, "", None,
                 ""))

    # run 2: every cell skipped
    con.execute(f"INSERT INTO runs(id, {cols}) VALUES(2, {','.join('?' * 14)})",
                ("2026-11-21T02:00:00Z", "2026-11-21T02:00:05Z", "nightly", "failed",
                 "nightly", "ab" * 32, "node-a", "1", NODE["kernel"], NODE["cpu_model"],
                 NODE["cpus"], NODE["governor"], NODE["python"], NODE["loadavg"]))
    for i, fw in enumerate(("bottle", "falcon")):
        con.execute(f"INSERT INTO cells({ccols}) VALUES({','.join('?' * 25)})",
                    (10 + i, 2, i, fw, "json", "skipped", f"{fw} is not installed", None, None,
                     None, 0, 0, None, None, None, None, None, None, None, None, None, 0, "",
                     None, ""))
    con.commit()
    con.close()


if __name__ == "__main__":
    build(sys.argv[1], sys.argv[2])
