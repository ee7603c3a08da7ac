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

    # Open loop against a keep-alive timeout of 50 ms that the connections'
    # idle gaps straddle: a close crossing a request resends it once on a
    # fresh connection (issue 20), never a reset failure.
    retries = resets = 0
    for _ in range(3):
        r = run(base + "/idle/50", "-c", "40", "--rate", "800", "-d", "3s", "--json")
        j = json.loads(r.stdout or "{}")
        retries += j.get("retries", 0)
        resets += j.get("failures_by_kind", {}).get("reset", 0)
        if retries >= 3:
            break
    check(retries > 0 and resets == 0,
          "open loop: idle closes resent (retries %d), no reset failure (%d)" % (retries, resets))

    with tempfile.TemporaryDirectory() as d:
        pre = os.path.join(d, "run")
        r = run(base + "/text", "-c", "4", "-d", "2s", "--warmup", "500ms", "--rate", "200",
                "--json", "--csv", pre)
        check(r.returncode == 0, "rate run exits 0: %r" % r.stderr)
        j = json.loads(r.stdout)
        for k in ["requests", "failures", "failures_by_kind", "rps", "duration_s", "bytes_read",
                  "latency_ms", "offered_rps", "missed_schedule", "client_cpu_pct", "reconnects",
                  "series", "offered", "sent", "completed", "in_flight", "unsent_due",
                  "over_bound", "seed", "arrivals", "connections_max", "connect_failures",
                  "retries", "client_limit", "source_addresses"]:
            check(k in j, "json has " + k)
        check(j.get("arrivals") == "poisson", "open loop: poisson by default: %r" % j.get("arrivals"))
        check(j.get("completed") == j.get("requests"), "completed == requests")
        check(j.get("connections_max") == 4, "4 connections: %r" % j.get("connections_max"))
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
    # The limits are the matrix keys' (config/keys.c): the same syntax, range and message as
    # `mfbench check`, refused before any connection (issue 13).
    refusals = [
        (["-d", "0x10s"], '--duration: bad duration "0x10s" (use e.g. 500ms, 2s, 1m30s)'),
        (["-d", "1e3ms"], '--duration: bad duration "1e3ms" (use e.g. 500ms, 2s, 1m30s)'),
        (["-d", "1h1h"], '--duration: bad duration "1h1h" (use e.g. 500ms, 2s, 1m30s)'),
        (["-d", "1s1m"], '--duration: bad duration "1s1m" (use e.g. 500ms, 2s, 1m30s)'),
        (["-d", "2147483648s"], "--duration must be in [1ms, 1d], got '2147483648s'"),
        (["-d", "1d1ms"], "--duration must be in [1ms, 1d], got '1d1ms'"),
        (["--pipeline", "2147483647"], "--pipeline must be in [1, 1024], got '2147483647'"),
        (["--pipeline", "1025"], "--pipeline must be in [1, 1024], got '1025'"),
        (["-c", "2147483648"], "--users must be in [1, 1000000], got '2147483648'"),
        (["-c", "1000001"], "--users must be in [1, 1000000], got '1000001'"),
        (["-r", "1e-11"], "--spawn-rate must be in [0.01, 1000000], got '1e-11'"),
        (["-r", "0.0099"], "--spawn-rate must be in [0.01, 1000000], got '0.0099'"),
        (["--rate", "0x10"], "--rate must be a number, got '0x10'"),
        (["--timeout", "1h1ms"], "--timeout must be in [1ms, 1h], got '1h1ms'"),
        (["--think", "1s:2h"], "--think must be in [0, 1h], got '2h'"),
        (["--pacing", "0"], "--pacing must be in [1ms, 1h], got '0'"),
        (["--cpus", "5-2"], '--cpus: CPU list "5-2": range 5-2 goes down (write 2-5)'),
        (["--cpus", "1024"], '--cpus: CPU list "1024": CPUs go from 0 to 1023'),
        (["--expect-length", "16777217"],
         "--expect-length must be in [0, 16777216], got '16777217'"),
    ]
    # User information in the URL: bad usage, not a host name to resolve (issue 25).
    r = run("-d", "1s", "http://u:p@" + base[len("http://"):] + "/text")
    first = r.stderr.splitlines()[0] if r.stderr else ""
    check(r.returncode == 2 and first == "mfbench load: a URL with user information "
          "(user:password@host) is refused: no credentials are sent",
          "userinfo URL: want exit 2, got %d %r" % (r.returncode, first))
    r = run("--help")
    check("user information" in r.stdout, "--help says a URL with user information is refused")
    for args, msg in refusals:
        r = run(*args, base + "/text")
        first = r.stderr.splitlines()[0] if r.stderr else ""
        check(r.returncode == 2 and first == "mfbench load: " + msg,
              "%r: want exit 2 and %r, got %d %r" % (args, msg, r.returncode, first))
    # The boundaries themselves run.
    for args in (["--pipeline", "1024"], ["-r", "0.01"], ["-r", "1000000"], ["-d", "0.3s"]):
        r = run(base + "/text", "-c", "1", "-d", "300ms", *args)
        check(r.returncode == 0, "%r at its limit runs: %d %r" % (args, r.returncode, r.stderr))
    # Arrivals and the seed: the seed is reported and replays; the even grid offers exactly
    # rate x window (200/s over [0.5 s, 2 s): 300); closed loop has no arrivals.
    r = run(base + "/text", "-c", "4", "-d", "2s", "--warmup", "500ms", "--rate", "200",
            "--arrivals", "uniform", "--seed", "12345", "--json")
    j = json.loads(r.stdout or "{}")
    check(r.returncode == 0 and j.get("arrivals") == "uniform" and j.get("seed") == 12345
          and j.get("offered") == 300, "uniform, seed 12345, offered 300: %r"
          % {k: j.get(k) for k in ("arrivals", "seed", "offered")})
    seeded = []
    for _ in range(2):
        r = run(base + "/text", "-c", "4", "-d", "1s", "--rate", "300", "--seed", "99", "--json")
        seeded.append(json.loads(r.stdout or "{}").get("offered"))
    check(seeded[0] == seeded[1] and seeded[0] is not None and abs(seeded[0] - 300) < 70,
          "the same seed offers the same schedule: %r" % seeded)
    r = run(base + "/text", "-c", "2", "-d", "300ms", "--json")
    j = json.loads(r.stdout or "{}")
    check(j.get("arrivals") == "" and j.get("offered") == j.get("sent"), "closed loop: %r"
          % {k: j.get(k) for k in ("arrivals", "offered", "sent")})
    # --bound: over-bound counted, in JSON and in the summary.
    r = run(base + "/delay/20", "-c", "2", "-d", "500ms", "--bound", "5ms", "--json")
    j = json.loads(r.stdout or "{}")
    check(j.get("bound_ms") == 5 and j.get("over_bound") == j.get("requests") > 0,
          "every 20 ms answer is over 5 ms: %r" % {k: j.get(k) for k in ("over_bound", "requests")})
    r = run(base + "/text", "-c", "2", "-d", "300ms", "--rate", "100", "--bound", "25ms")
    check(r.returncode == 0 and "Over 25.00ms:" in r.stdout and "Offered " in r.stdout
          and "Arrivals: poisson" in r.stdout, "summary: bound, offered, arrivals: %r" % r.stdout)
    for bad in (["--arrivals", "gamma", "--rate", "10"], ["--arrivals", "uniform"],
                ["--seed", "-1"], ["--seed", "0"], ["--seed", "18446744073709551616"],
                ["--bound", "0"], ["--bound", "fast"]):
        r = run(base + "/text", *bad)
        check(r.returncode == 2 and r.stderr.startswith("mfbench load: "),
              "usage error for %r: %d %r" % (bad, r.returncode, r.stderr[:80]))

    # Every request counts in latency: one request in 20 never answered, at 200/s with a 1 s
    # timeout, is 5% of the samples at the timeout, so p99 is at least the timeout. With the
    # failures left out of the histogram p99 was a few milliseconds.
    r = run(base + "/hangevery/20", "--rate", "200", "--timeout", "1s", "-d", "5s", "-c", "50",
            "--json")
    j = json.loads(r.stdout or "{}")
    lat = j.get("latency_ms", {})
    check(r.returncode == 1 and j.get("failures", 0) > 0
          and j.get("failures_by_kind", {}).get("timeout", 0) > 0, "hangevery: timeouts: %r"
          % j.get("failures_by_kind"))
    check(lat.get("p99", 0) >= 1000, "hangevery: p99 >= 1000 ms: %r" % lat)
    check(lat.get("p50", 1e9) < 100, "hangevery: p50 stays low: %r" % lat)
finally:
    srv.terminate()
    srv.wait()

# An answer nobody asked for is never a success (issue 21 item 8): a server that writes 2,000
# responses as soon as a connection opens and answers no request got 375 "ok" in 2 s, the first
# response of each read taken as the answer.
srv = subprocess.Popen([server, "60", "0", "2000"], stdout=subprocess.PIPE)
port = int(srv.stdout.readline())
base = "http://127.0.0.1:%d" % port
try:
    for args in (["-c", "2", "-d", "2s"], ["-c", "2", "-d", "1s", "--rate", "50"]):
        r = run(base + "/text", *args, "--json")
        j = json.loads(r.stdout or "{}")
        fk = j.get("failures_by_kind", {})
        check(r.returncode == 1 and j.get("requests", -1) == j.get("failures", -2)
              and j.get("rps", 1) == 0 and fk.get("protocol", 0) > 0,
              "greeting server %r: no answer is ok: %r" % (args, {k: j.get(k) for k in (
                  "requests", "failures", "rps", "failures_by_kind")}))
    r = run("--help")
    check(r.returncode == 0 and "usage: mfbench load" in r.stdout, "--help")
finally:
    srv.terminate()
    srv.wait()
print("%s" % ("ok" if not fails else "%d failed" % fails), file=sys.stderr)
sys.exit(1 if fails else 0)
