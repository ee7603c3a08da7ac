#!/usr/bin/python3
"""test_review_cli.py - drives the real mfbench binary over a store with known
values (built by test_review_cmds --fill), then of two real quick runs on
the local node: history, regressions, show md parsed
back, show json, compare exit codes, report csv read with Locust's own header
(from the installed locust package), md and html files, an empty store, an
older (version 0) schema, and prune. With --readonly: a store read by a user
who may not write it (needs root and setpriv; else a skip, exit 77)."""
import csv
import json
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile

MFBENCH = os.environ["MFBENCH"]
FILL = os.environ["REVIEW_FILL"]
SRC = os.environ["SRC"]
failures = 0
checks = 0


def check(cond, what):
    global failures, checks
    checks += 1
    if not cond:
        failures += 1
        print(f"FAIL: {what}", file=sys.stderr)


def mf(*args, db):
    p = subprocess.run([MFBENCH, *args, "--store", db], capture_output=True, text=True,
                       timeout=60, env={**os.environ, "LC_ALL": "C.UTF-8"})
    return p.returncode, p.stdout, p.stderr


def locust_header():
    """Locust 2.x's _stats.csv header, from the installed package when it imports."""
    base = ["Type", "Name", "Request Count", "Failure Count", "Median Response Time",
            "Average Response Time", "Min Response Time", "Max Response Time",
            "Average Content Size", "Requests/s", "Failures/s"]
    try:
        p = subprocess.run(["/usr/bin/python3", "-c",
                            "from locust.stats import PERCENTILES_TO_REPORT as P, "
                            "get_readable_percentiles as g; print(','.join(g(P)))"],
                           capture_output=True, text=True, timeout=60)
        pct = p.stdout.strip().split(",") if p.returncode == 0 and p.stdout.strip() else None
    except (OSError, subprocess.TimeoutExpired):
        pct = None
    return base + (pct or ["50%", "66%", "75%", "80%", "90%", "95%", "98%", "99%", "99.9%",
                           "99.99%", "100%"])


def locust_history_header():
    """Locust 2.x's _stats_history.csv header (locust/stats.py StatsCSVFileWriter)."""
    pct = locust_header()[11:]
    return (["Timestamp", "User Count", "Type", "Name", "Requests/s", "Failures/s"] + pct
            + ["Total Request Count", "Total Failure Count", "Total Median Response Time",
               "Total Average Response Time", "Total Min Response Time",
               "Total Max Response Time", "Total Average Content Size"])


def md_tables(text):
    """{payload heading: [row dicts]} from the seed-style markdown."""
    tables, heading, header = {}, None, None
    for line in text.splitlines():
        if line.startswith("#### "):
            heading, header = line[5:].strip(), None
            tables[heading] = []
        elif line.startswith("|") and heading:
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if header is None:
                header = cells
            elif not set(line) <= set("|-: "):
                tables[heading].append(dict(zip(header, cells)))
    return tables


def real_runs(tmp):
    """Two real quick runs of flask/text on the local node, then every review command."""
    db = os.path.join(tmp, "real.db")
    # The shipped matrix, on a node of the test's own: its own workdir and a
    # free port (another mfbench on this machine may use the default 8000).
    with open(os.path.join(os.environ["SRC"], "matrix.yaml")) as f:
        text = f.read()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    text = re.sub(r"(?m)^(  workdir:) .*$", r"\1 " + os.path.join(tmp, "node"), text, count=1)
    text = re.sub(r"(?m)^(  server_port:) .*$", r"\g<1> %d" % port, text, count=1)
    matrix = os.path.join(tmp, "matrix.yaml")
    with open(matrix, "w") as f:
        f.write(text)
    for _ in range(2):
        p = subprocess.run([MFBENCH, "run", "-m", matrix, "-p", "quick", "--store", db, "flask/text"],
                           capture_output=True, text=True, timeout=150)
        check(p.returncode == 0, f"mfbench run exits 0: {p.returncode} {p.stderr[-400:]}")
    rc, out, _ = mf("history", "flask/text", "--json", db=db)
    rows = json.loads(out) if rc == 0 else []
    check(len(rows) == 2 and all(r["status"] == "ok" and r["peak_rps"] > 0 for r in rows),
          f"two real runs in the history: {rows}")
    rc, out, _ = mf("show", "last", "--format", "md", db=db)
    t = md_tables(out)
    check(rc == 0 and "Text" in t, f"show md of a real run: {out[:300]}")
    rc, out, _ = mf("compare", "1", "2", "--json", db=db)
    check(rc == 0 and json.loads(out)["cells"][0]["framework"] == "flask", "compare real runs")
    for fmt in ("html", "md", "csv"):
        rc, out, err = mf("report", "--format", fmt, "-o", os.path.join(tmp, "real-" + fmt),
                          db=db)
        check(rc == 0, f"report {fmt} of real runs: {err}")
    # The run stored what its profile asked for (schema v5), and every view says it.
    asked = ("phases 2s (warm-up 500ms), users 8 x2 to 32, spawn 100/s, no think time, "
             "timeout 2s")
    rc, out, _ = mf("show", "last", "--json", db=db)
    check(rc == 0 and json.loads(out)["run"].get("settings", "").startswith(asked),
          f"show --json: the profile's settings stored: {out[:600]}")
    rc, out, _ = mf("show", "last", db=db)
    check(rc == 0 and ("profile asked for: " + asked) in out, f"show: the profile's settings: {out[:600]}")
    with open(os.path.join(tmp, "real-md", "report.md")) as f:
        check(("The profile asked for: " + asked) in f.read(), "report md: the profile's settings")
    with open(os.path.join(tmp, "real-html", "index.html")) as f:
        check(("<dt>Asked for</dt><dd>" + asked) in f.read(), "report html: the profile's settings")
    with open(os.path.join(tmp, "real-csv", "flask_text_stats.csv"), newline="") as f:
        check(next(csv.reader(f)) == locust_header(), "real run csv header")
    # The executor stored each phase's series: a row per second of the quick
    # profile's phases, read back with Locust's history header.
    with open(os.path.join(tmp, "real-csv", "flask_text_stats_history.csv"), newline="") as f:
        check(next(csv.reader(f)) == locust_history_header(), "real run history header")
        f.seek(0)
        hist = list(csv.DictReader(f))
    con = sqlite3.connect(db)
    nphases = con.execute("select count(*) from phases p join cells c on c.id = p.cell_id"
                          " where c.run_id = (select max(id) from runs)").fetchone()[0]
    npts, nwith = con.execute(
        "select count(*), count(distinct s.phase_id) from phase_series s"
        " join phases p on p.id = s.phase_id join cells c on c.id = p.cell_id"
        " where c.run_id = (select max(id) from runs)").fetchone()
    con.close()
    check(nphases > 0 and nwith == nphases and len(hist) == npts,
          f"real run: every phase has a series, a history row per stored second "
          f"({len(hist)} rows, {npts} points, {nwith} of {nphases} phases)")
    check(all(r["Type"] == "GET" and r["Name"] == "/text" for r in hist), "real rows GET /text")
    tot = [int(r["Total Request Count"]) for r in hist]
    check(tot == sorted(tot) and tot and tot[-1] > 0, "real running totals grow")
    ts = [int(r["Timestamp"]) for r in hist]
    check(ts == sorted(ts), "real timestamps in order")


def readonly_store():
    """The daemon's store read by another user: a folder and file this user may
    not write. Run as `nobody` (setpriv): once with no -wal file (nobody is
    writing: read immutable), once while a writer holds it open with a change
    still only in the -wal file (read-only through the existing -shm).
    Returns 77 (a skip, its reason printed) when it cannot run as another user."""
    if os.geteuid() != 0:
        print("SKIP: reading a store as another user needs root (setpriv)", file=sys.stderr)
        return 77
    if not os.path.exists("/usr/bin/setpriv"):
        print("SKIP: /usr/bin/setpriv not found (util-linux)", file=sys.stderr)
        return 77
    top = tempfile.mkdtemp(prefix="mfbench-ro-")
    os.chmod(top, 0o755)
    # nobody may not reach the build folder (a clone under /root): a copy it can run
    mfbench = os.path.join(top, "mfbench")
    shutil.copy(MFBENCH, mfbench)
    d = os.path.join(top, "state")
    os.mkdir(d)
    db = os.path.join(d, "results.db")
    subprocess.run([FILL, "--fill", db], check=True, timeout=60)
    rc, mine, _ = mf("history", db=db)
    os.chmod(db, 0o444)
    os.chmod(d, 0o555)

    def as_nobody(*args):
        p = subprocess.run(["/usr/bin/setpriv", "--reuid=65534", "--regid=65534",
                            "--clear-groups", mfbench, *args, "--store", db],
                           capture_output=True, text=True, timeout=60,
                           env={**os.environ, "LC_ALL": "C.UTF-8"})
        return p.returncode, p.stdout, p.stderr

    rc, out, err = as_nobody("history")
    check(rc == 0 and out == mine, "another user reads a read-only store: " + err)
    rc, out, err = as_nobody("show", "last", "--format", "md")
    check(rc == 0 and "| Framework |" in out, "show from a read-only store: " + err)
    check(sorted(os.listdir(d)) == ["results.db"], "the reader created no file")

    con = sqlite3.connect(db)  # root: the writer, as the daemon would be
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA wal_autocheckpoint=0")
    con.execute("UPDATE runs SET profile = 'walonly' WHERE id = 8")
    con.commit()
    for f in ("results.db-wal", "results.db-shm"):
        os.chmod(os.path.join(d, f), 0o444)
    rc, out, err = as_nobody("history")
    check(rc == 0 and "walonly" in out,
          "a reader sees a change still in the -wal file: " + err)
    con.close()

    # An older schema read-only cannot be migrated: a clear refusal, not a crash.
    os.chmod(d, 0o755)
    os.chmod(db, 0o644)
    old = sqlite3.connect(db)
    old.execute("PRAGMA user_version = 1")
    old.close()
    os.chmod(db, 0o444)
    os.chmod(d, 0o555)
    rc, _, err = as_nobody("history")
    check(rc == 1 and "older" in err and "upgrade" in err, "older schema, read-only: " + err)
    os.chmod(d, 0o755)
    subprocess.run(["rm", "-rf", top], check=False)
    return 0


def prune(tmp):
    """mfbench prune over the known store (8 runs): usage errors, a dry run that
    deletes nothing, --keep, a running run that is never deleted, no orphans."""
    db = os.path.join(tmp, "prune.db")
    subprocess.run([FILL, "--fill", db], check=True, timeout=60)

    def count(sql):
        con = sqlite3.connect(db)
        n = con.execute(sql).fetchone()[0]
        con.close()
        return n

    phases0 = count("SELECT count(*) FROM phases")
    rc, _, err = mf("prune", db=db)
    check(rc == 2 and "--older-than AGE, --keep N, or both" in err, "prune without a rule")
    rc, _, err = mf("prune", "--older-than", "5x", db=db)
    check(rc == 2 and "not '5x'" in err, "prune with a bad age")
    rc, out, _ = mf("prune", "--keep", "3", "--dry-run", db=db)
    check(rc == 0 and out.startswith("would delete 5 runs"), "dry run says 5: " + out)
    check(count("SELECT count(*) FROM runs") == 8, "a dry run deletes nothing")
    rc, out, _ = mf("prune", "--older-than", "5200w", db=db)
    check(rc == 0 and out.startswith("deleted 0 runs"), "nothing is 100 years old: " + out)
    rc, out, _ = mf("prune", "--keep", "3", db=db)
    check(rc == 0 and out.startswith("deleted 5 runs") and "the newest 3 kept" in out,
          "prune --keep 3: " + out)
    check(count("SELECT group_concat(id) FROM (SELECT id FROM runs ORDER BY id)") == "6,7,8",
          "the 3 newest runs stay")
    check(count("SELECT count(*) FROM phases") < phases0, "their phases went too")
    check(count("SELECT count(*) FROM phases WHERE cell_id NOT IN (SELECT id FROM cells)") == 0
          and count("SELECT count(*) FROM phase_series WHERE phase_id NOT IN "
                    "(SELECT id FROM phases)") == 0, "no orphan phases or series")
    con = sqlite3.connect(db)
    # Still being written by a live process of this host (this one): a run
    # whose process is gone would be repaired (interrupted) by the next open.
    con.execute("UPDATE runs SET status = 'running', started_at = '2000-01-01T00:00:00Z', "
                "owner_pid = ?, owner_start = NULL WHERE id = 6", (os.getpid(),))
    con.commit()
    con.close()
    rc, out, _ = mf("prune", "--keep", "0", db=db)
    check(rc == 0 and out.startswith("deleted 2 runs"), "keep 0 deletes the finished: " + out)
    check(count("SELECT group_concat(id) FROM runs") == "6", "a running run is never deleted")


def schema_version():
    """STORE_SCHEMA_VERSION from store/store.h: the version this build writes."""
    with open(os.path.join(SRC, "store", "store.h")) as f:
        m = re.search(r"^#define STORE_SCHEMA_VERSION (\d+)$", f.read(), re.M)
    return int(m.group(1)) if m else -1


def main():
    if sys.argv[1:] == ["--readonly"]:
        rc = readonly_store()
        print(f"{checks} checks, {failures} failed", file=sys.stderr)
        return rc if rc == 77 else 1 if failures or not checks else 0
    tmp = tempfile.mkdtemp(prefix="mfbench-review-cli-")
    db = os.path.join(tmp, "results.db")
    subprocess.run([FILL, "--fill", db], check=True, timeout=60)

    rc, out, _ = mf("history", db=db)
    check(rc == 0, "history exit 0")
    check("flask/json" in out and "1600.0" in out, "history lists run 8's flask/json")
    rc, out, _ = mf("history", "flask/json", "--json", db=db)
    rows = json.loads(out)
    check(len(rows) == 8, f"8 flask/json rows, got {len(rows)}")
    check([r["peak_rps"] for r in rows][:2] == [1600, 1998], "peak req/s newest first")
    check(rows[0]["regressions"][0]["metric"] == "peak_rps_passing",
          "run 8 flagged on the passing peak")
    check(all(not r["regressions"] for r in rows[1:]), "no earlier run flagged")
    rc, out, _ = mf("history", "bottle/json", "--regressions", db=db)
    check(rc == 0 and "no regressions" in out, "a 2% wobble is not flagged: " + out)
    rc, out, _ = mf("history", "--regressions", "--json", db=db)
    flagged = {(r["framework"], r["payload"], r["run"]) for r in json.loads(out)}
    check(flagged == {("flask", "json", 8), ("django", "json", 8)}, f"flagged {flagged}")
    rc, out, _ = mf("history", "--sparkline", db=db)
    check("\u2581" in out and "\u2588" in out, "a unicode sparkline in a UTF-8 locale")

    rc, out, _ = mf("show", "8", "--format", "md", "--seed", db=db)
    check(rc == 0, "show md --seed exit 0")
    t = md_tables(out)
    check(set(t) == {"Json", "Text"}, f"one table per payload: {list(t)}")
    flask = [r for r in t.get("Json", []) if r.get("Framework") == "flask"]
    check(len(flask) == 1, "a flask row")
    if flask:
        r = flask[0]
        check(list(r)[:5] == ["Framework", "Total Request", "Median Response Time (ms)",
                              "Request Per Second", "Failed Requests"], "seed columns first")
        check(r["Request Per Second"] == "1600.00" and r["Total Request"] == "96000",
              f"flask row values {r}")
        check(r["Capacity (users)"] == "1500" and r["p99 (ms)"] == "20.00", "added columns")
    check("- falcon: skipped: falcon is not installed" in out, "skipped cell listed")
    check("- django: failed: server exited with status 1" in out, "failed cell listed")
    rc, out, _ = mf("show", "8", "--json", db=db)
    j = json.loads(out)
    check(j["run"]["id"] == 8 and len(j["cells"]) == 8, "show json")
    rc, out, _ = mf("show", "8", "--format", "csv", db=db)
    check(rc == 0 and out.startswith("run,framework,payload,status,users"), "show csv")

    rc, out, _ = mf("compare", "7", "8", "--fail-on-regression", db=db)
    check(rc == 1, f"compare 7 8 --fail-on-regression exits 1, got {rc}")
    check("x0.80 worse" in out, "the 20% drop is marked worse")
    rc, out, _ = mf("compare", "6", "7", "--fail-on-regression", db=db)
    check(rc == 0, f"compare 6 7 --fail-on-regression exits 0, got {rc}")
    rc, out, _ = mf("compare", "7", "8", "--json", "--only-changed", db=db)
    j = json.loads(out)
    check([(c["framework"], c["verdict"]) for c in j["cells"]] == [("flask", "worse")],
          f"only changed: {j['cells']}")
    rc, _, err = mf("compare", "7", db=db)
    check(rc == 2, "compare with one run is a usage error")

    rep = os.path.join(tmp, "csv")
    rc, out, _ = mf("report", "--format", "csv", "-o", rep, db=db)
    check(rc == 0, "report csv exit 0")
    header = locust_header()
    with open(os.path.join(rep, "flask_json_stats.csv"), newline="") as f:
        rd = csv.reader(f)
        check(next(rd) == header, "the Locust _stats.csv header")
        f.seek(0)
        rows = list(csv.DictReader(f))
    check(len(rows) == 2 and rows[1]["Name"] == "Aggregated", "a request row and Aggregated")
    check(rows[0]["Request Count"] == "96000" and float(rows[0]["99%"]) == 20.0
          and float(rows[0]["Requests/s"]) == 1600.0 and rows[0]["66%"] == "",
          f"stats values {rows[0]}")
    with open(os.path.join(rep, "flask_json_stats_history.csv"), newline="") as f:
        hist = list(csv.DictReader(f))
    check([int(r["User Count"]) for r in hist] == [500, 1000, 1500, 2000], "a row per phase")
    check(int(hist[-1]["Total Failure Count"]) == 12, "running totals")
    check(int(hist[1]["Timestamp"]) - int(hist[0]["Timestamp"]) == 60, "timestamps by duration")
    check("Total Average Content Size" in hist[0], "the history header")
    check(hist[0]["Type"] == "" and hist[0]["Name"] == "Aggregated", "fallback rows (no series)")

    # run 8's flask/text has per-second series: a row per second, Locust's header
    with open(os.path.join(rep, "flask_text_stats_history.csv"), newline="") as f:
        check(next(csv.reader(f)) == locust_history_header(), "the Locust history header")
        f.seek(0)
        sec = list(csv.DictReader(f))
    check(len(sec) == 4 * 60, f"a row per second: {len(sec)}")
    if len(sec) == 240:
        t0 = 1794103200  # 2026-11-08T02:00:00Z; flask/json and bottle/json ran 8 x 60 s first
        check([int(r["Timestamp"]) for r in sec] == list(range(t0 + 481, t0 + 721)),
              "one second apart, after the run's earlier phases")
        check([int(r["User Count"]) for r in sec[::60]] == [500, 1000, 1500, 2000],
              "users per phase")
        check(all(r["Type"] == "GET" and r["Name"] == "/text" for r in sec), "GET /text")
        check(all(sec[0][k] == "N/A" for k in header[11:]), "a second without a response: N/A")
        r = sec[1]
        check(float(r["Requests/s"]) == 1500 and float(r["50%"]) == 1.0
              and float(r["99%"]) == 5.0 and r["66%"] == "N/A" and r["100%"] == "N/A",
              f"a second's values {r}")
        check(float(sec[-1]["Failures/s"]) == 12 and int(sec[-1]["Total Failure Count"]) == 12,
              "failures in the last second")
        check(int(sec[-1]["Total Request Count"]) == 477012, "cumulative over the cell")
        tot = [int(r["Total Request Count"]) for r in sec]
        check(tot == sorted(tot), "running totals never fall")

    rc, out, _ = mf("report", "--format", "md", "-o", os.path.join(tmp, "md"), db=db)
    with open(os.path.join(tmp, "md", "report.md")) as f:
        check(md_tables(f.read()).keys() == {"Json", "Text"}, "report md tables")
    rc, out, _ = mf("report", "--format", "html", "-o", os.path.join(tmp, "html"), db=db)
    check(rc == 0 and os.path.getsize(os.path.join(tmp, "html", "index.html")) > 5000,
          "report html")

    # an empty store, and one of schema version 0 (an older one), migrated on open
    empty = os.path.join(tmp, "empty.db")
    rc, out, _ = mf("history", db=empty)
    check(rc == 0 and "no stored results" in out, "empty store history")
    rc, _, err = mf("show", "last", db=empty)
    check(rc == 1 and "no runs yet" in err, "empty store show")
    rc, _, err = mf("report", "--format", "html", "-o", os.path.join(tmp, "e"), db=empty)
    with open(os.path.join(tmp, "e", "index.html"), encoding="utf-8") as f:
        check(rc == 0 and "no measured cells: the store has no runs yet" in f.read(),
              "empty store report: a page saying so")
    old = os.path.join(tmp, "old.db")
    con = sqlite3.connect(old)
    con.execute("PRAGMA user_version = 0")
    con.close()
    rc, out, _ = mf("history", db=old)
    check(rc == 0 and "no stored results" in out, "a version 0 store is migrated")
    con = sqlite3.connect(old)
    ver = con.execute("PRAGMA user_version").fetchone()[0]
    check(ver == schema_version(), f"user_version raised to {schema_version()}: {ver}")
    con.close()

    prune(tmp)
    real_runs(tmp)
    subprocess.run(["rm", "-rf", tmp], check=False)
    print(f"{checks} checks, {failures} failed", file=sys.stderr)
    return 1 if failures or not checks else 0


if __name__ == "__main__":
    sys.exit(main())
