#!/usr/bin/python3
"""test_load_cli.py - `mfbench load` end to end against the test server: exit
codes, the JSON object's fields, Locust-compatible CSV headers and rows."""
import csv, json, os, subprocess, sys, tempfile

load, server = sys.argv[1], sys.argv[2]
fails = 0


def check(cond, what):
    global fails
    if not cond:
        fails += 1
        print("FAIL:", what, file=sys.stderr)


srv = subprocess.Popen([server, "60"], stdout=subprocess.PIPE)
port = int(srv.stdout.readline())
base = "http://127.0.0.1:%d" % port
try:
    def run(*args):
        return subprocess.run([load, "load", *args], capture_output=True, text=True, timeout=30)

    r = run(base + "/text", "-c", "4", "-d", "1s", "--expect-body", "Hello World!")
    check(r.returncode == 0, "ok run exits 0: %r" % r.stderr)
    check("Requests/sec:" in r.stdout and "Latency" in r.stdout, "human summary")

    # Closed loop without think offers no bound: offered_rps 0, not the measured rps
    # (an open-loop run that keeps its rate has rps == offered and cannot tell them apart).
    r = run(base + "/text", "-c", "2", "-d", "500ms", "--json")
    check(r.returncode == 0, "closed-loop run exits 0: %r" % r.stderr)
    j = json.loads(r.stdout or "{}")
    check(j.get("rps", 0) > 0 and j.get("offered_rps") == 0, "closed loop: rps > 0, offered 0: %r"
          % {k: j.get(k) for k in ("rps", "offered_rps")})

    with tempfile.TemporaryDirectory() as d:
        pre = os.path.join(d, "run")
        r = run(base + "/text", "-c", "4", "-d", "2s", "--warmup", "500ms", "--rate", "200",
                "--json", "--csv", pre)
        check(r.returncode == 0, "rate run exits 0: %r" % r.stderr)
        j = json.loads(r.stdout)
        for k in ["requests", "failures", "failures_by_kind", "rps", "duration_s", "bytes_read",
                  "latency_ms", "offered_rps", "missed_schedule", "client_cpu_pct", "reconnects",
                  "series"]:
            check(k in j, "json has " + k)
        check(set(j["failures_by_kind"]) == {"connect", "timeout", "reset", "status", "body",
                                             "protocol", "client"}, "all failure kinds")
        check(set(j["latency_ms"]) >= {"mean", "p50", "p90", "p99", "p999", "max"}, "latency keys")
        check(abs(j["duration_s"] - 1.5) < 1e-9, "window excludes warm-up")
        check(j["offered_rps"] == 200, "offered = rate")
        check(len(j["series"]) == 2 and set(j["series"][0]) == {"t_s", "users", "requests",
                                                                "failures", "p50_ms", "p99_ms"},
              "series points")
        pct = ["50%", "66%", "75%", "80%", "90%", "95%", "98%", "99%", "99.9%", "99.99%", "100%"]
        with open(pre + "_stats.csv") as f:
            rows = list(csv.reader(f))
        check(rows[0] == ["Type", "Name", "Request Count", "Failure Count", "Median Response Time",
                          "Average Response Time", "Min Response Time", "Max Response Time",
                          "Average Content Size", "Requests/s", "Failures/s"] + pct,
              "stats.csv header")
        check(rows[1][:2] == ["GET", "/text"] and rows[2][:2] == ["", "Aggregated"], "stats rows")
        check(int(rows[1][2]) == j["requests"], "stats request count")
        with open(pre + "_stats_history.csv") as f:
            rows = list(csv.reader(f))
        check(rows[0] == ["Timestamp", "User Count", "Type", "Name", "Requests/s", "Failures/s"]
              + pct + ["Total Request Count", "Total Failure Count", "Total Median Response Time",
                       "Total Average Response Time", "Total Min Response Time",
                       "Total Max Response Time", "Total Average Content Size"],
              "history header")
        check(len(rows) == 3 and all(len(x) == len(rows[0]) for x in rows), "history rows")
        with open(pre + "_failures.csv") as f:
            rows = list(csv.reader(f))
        check(rows == [["Method", "Name", "Error", "Occurrences"]], "no failures")

        r = run(base + "/status/500", "-c", "2", "-d", "500ms", "--csv", pre)
        check(r.returncode == 1, "failures exit 1")
        with open(pre + "_failures.csv") as f:
            rows = list(csv.reader(f))
        check(len(rows) == 2 and rows[1][0] == "GET" and rows[1][2].startswith("status"),
              "failure row")

    for bad in (["--bogus", base + "/"], [], ["-c", "x", base + "/"], ["-d", "10", base + "/"],
                ["--think", "2s:1s", base + "/"], ["--expect-body", "a", "--expect-length", "1",
                                                   base + "/"], ["https://x/"],
                ["--cpus", "0-x", base + "/"], [base + "/", "extra"]):
        r = run(*bad)
        check(r.returncode == 2, "usage error exits 2 for %r (got %d)" % (bad, r.returncode))
        check("mfbench" in r.stderr, "usage on stderr for %r" % (bad,))
    r = run("--help")
    check(r.returncode == 0 and "usage: mfbench load" in r.stdout, "--help")
finally:
    srv.terminate()
    srv.wait()
print("%s" % ("ok" if not fails else "%d failed" % fails), file=sys.stderr)
sys.exit(1 if fails else 0)
