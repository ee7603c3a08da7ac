#!/bin/sh
# run --json-events and its other half, store-events: one real cell on the local
# transport streams its run on stdout (nothing else there); the stream stored by
# store-events gives the same `show --json` as the run stored directly (the same
# run, with --store and --json-events at once), ids and end times aside, and the
# same per-second series; --no-store writes no store anywhere; -m - reads the
# matrix from stdin; a cut stream leaves the cell error, never ok.
. "$(dirname "$0")/lib.sh"
port=$(free_port)
write_matrix "$T/m.yaml" "  transport: local
  workdir: $T/node
  cpus: \"1\"
  server_port: $port" "  flask: {server: werkzeug}"

# 1. With a store and the stream at once: the reference.
"$MFBENCH" run -m "$T/m.yaml" --store "$T/direct.db" --json-events flask/text \
  >"$T/direct.jsonl" 2>"$T/direct.err"
rc=$?
expect_eq "run --json-events exit status (stderr: $(tail -5 "$T/direct.err"))" "$rc" 0
# stdout is the stream alone: every line one JSON object with an event, in order.
check_stream() { # FILE
  $PY - "$1" <<'PY'
import json, sys
kinds = []
for n, line in enumerate(open(sys.argv[1]), 1):
    d = json.loads(line)
    assert isinstance(d, dict) and "event" in d, "line %d: %r" % (n, line[:80])
    kinds.append(d["event"])
    if d["event"] == "run_start":
        assert d["version"] == 1 and d["node"]["host"], line
    if d["event"] == "phase_end":
        p = d["phase"]
        assert p["requests"] > 0 and "p99" in p["latency_ms"] and len(d["series"]) > 0, line[:200]
seq = [k for k in kinds if k != "log" and k != "phase_start"]
ends = seq.count("phase_end")
assert seq == ["run_start", "cell_start"] + ["phase_end"] * ends + ["cell_end", "run_end"], seq
assert ends >= 2, seq
print("ok")
PY
}
expect_eq "the stream's shape" "$(check_stream "$T/direct.jsonl" 2>&1)" ok
expect_contains "progress stays on stderr" "$(cat "$T/direct.err")" "flask/text: ok"

# 2. The stream stored by store-events equals the run stored directly.
"$MFBENCH" store-events --store "$T/replay.db" --json <"$T/direct.jsonl" >"$T/replay.json" \
  2>"$T/replay.err"
expect_eq "store-events exit status (stderr: $(tail -3 "$T/replay.err"))" "$?" 0
"$MFBENCH" show last --store "$T/direct.db" --json >"$T/direct.json"
"$MFBENCH" show last --store "$T/replay.db" --json >"$T/replayed.json"
same_runs() { # A B: the result JSON of two runs, ids and end times aside
  $PY - "$1" "$2" <<'PY'
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:3])
for d in (a, b):
    d["run"].pop("id"); d["run"].pop("finished_at")
diffs = []
def cmp(x, y, path):
    if isinstance(x, dict) and isinstance(y, dict):
        for k in sorted(set(x) | set(y)):
            cmp(x.get(k, "<missing>"), y.get(k, "<missing>"), path + "." + k)
    elif isinstance(x, list) and isinstance(y, list) and len(x) == len(y):
        for i, (p, q) in enumerate(zip(x, y)):
            cmp(p, q, "%s[%d]" % (path, i))
    elif x != y:
        diffs.append("%s: %r != %r" % (path, x, y))
cmp(a, b, "")
n = sum(len(c["phases"]) for c in a["cells"])
print("same, %d phases" % n if not diffs and n >= 2 else "; ".join(diffs[:8]) or "no phases")
PY
}
expect_contains "show --json: replayed = stored directly" "$(same_runs "$T/direct.json" "$T/replayed.json")" "same,"
expect_eq "store-events --json is show --json" \
  "$(same_runs "$T/replay.json" "$T/replayed.json")" "$(same_runs "$T/direct.json" "$T/replayed.json")"
series() { # DB: every per-second point of every phase, in order
  sqlite3 "$1" "select p.seq, s.t_s, s.users, s.requests, s.failures, s.p50_ms, s.p99_ms
    from phase_series s join phases p on p.id = s.phase_id order by p.seq, s.t_s, s.rowid"
}
expect_eq "per-second series: replayed = stored directly" "$(series "$T/replay.db")" "$(series "$T/direct.db")"
expect_eq "per-second series stored" "$(series "$T/replay.db" | wc -l | tr -d ' ')" \
  "$(sqlite3 "$T/direct.db" 'select count(*) from phase_series')"
expect_eq "replayed series not empty" "$(sqlite3 "$T/replay.db" 'select count(*) > 0 from phase_series')" 1

# 3. --no-store and -m -: nothing written anywhere, the matrix from stdin.
export MFBENCH_STORE="$T/never/results.db"
mkdir -p "$T/never"
"$MFBENCH" run -m - --json-events --no-store flask/text <"$T/m.yaml" >"$T/nostore.jsonl" 2>"$T/nostore.err"
expect_eq "run --no-store -m - exit status (stderr: $(tail -5 "$T/nostore.err"))" "$?" 0
expect_eq "the stream's shape (--no-store)" "$(check_stream "$T/nostore.jsonl" 2>&1)" ok
expect_contains "the table on stderr says so" "$(cat "$T/nostore.err")" "run (not stored)"
expect_eq "no store written (\$MFBENCH_STORE's folder)" "$(ls -A "$T/never")" ""
expect_eq "no store written (\$XDG_STATE_HOME)" "$(find "$T/state" -name '*.db*' 2>/dev/null)" ""
# Every phase and cell figure of that stream is what store-events stores.
"$MFBENCH" store-events --store "$T/replay2.db" --json -q <"$T/nostore.jsonl" >"$T/replay2.json"
expect_eq "store-events (--no-store's stream)" "$?" 0
expect_eq "phases and cell figures match the stream" "$($PY - "$T/nostore.jsonl" "$T/replay2.json" <<'PY'
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
run = json.load(open(sys.argv[2]))
cell = run["cells"][0]
phases = [e["phase"] for e in ev if e["event"] == "phase_end"]
end = [e for e in ev if e["event"] == "cell_end"][0]["cell"]
bad = []
if len(cell["phases"]) != len(phases): bad.append("phase count")
for p, q in zip(phases, cell["phases"]):
    for k in ("users", "requests", "failures", "bytes_read", "in_flight", "offered", "sent", "completed"):
        if p[k] != q[k]: bad.append("phase %s: %r != %r" % (k, p[k], q[k]))
    if p["failures_by_kind"] != q["failures_by_kind"]: bad.append("failures_by_kind")
    if abs(p["rps"] - q["rps"]) > 0.006: bad.append("rps")
    for k in p["latency_ms"]:
        if abs(p["latency_ms"][k] - q["latency_ms"][k]) > 0.0006: bad.append("latency " + k)
    if (p["stop_reason"] or None) != q["stop_reason"]: bad.append("stop_reason")
for k in ("status", "error", "versions", "repeats", "peak_rps_load_bound"):
    if end[k] != cell[k]: bad.append("cell %s: %r != %r" % (k, end[k], cell[k]))
for k in ("capacity_users", "breaking_users", "held_users"):
    if (end[k] if end[k] >= 0 else None) != cell[k]: bad.append("cell " + k)
if abs(end["peak_rps"] - cell["peak_rps"]) > 0.006: bad.append("peak_rps")
print("; ".join(bad) or "match")
PY
)" match

# 4. A cut stream (no cell_end, no run_end): the cell error, the run interrupted, exit 1.
head -n "$(($(grep -n '"event":"cell_end"' "$T/nostore.jsonl" | cut -d: -f1) - 1))" "$T/nostore.jsonl" \
  >"$T/cut.jsonl"
"$MFBENCH" store-events --store "$T/cut.db" --json -q <"$T/cut.jsonl" >"$T/cut.json" 2>"$T/cut.err"
expect_eq "store-events of a cut stream: exit status" "$?" 1
expect_contains "cut stream: said" "$(cat "$T/cut.err")" "without run_end"
expect_eq "cut stream: the cell" "$(json_get "$T/cut.json" 'd["cells"][0]["status"]')" error
expect_eq "cut stream: the run" "$(json_get "$T/cut.json" 'd["run"]["status"]')" interrupted
expect_eq "cut stream: its phases kept" "$(json_get "$T/cut.json" 'len(d["cells"][0]["phases"])')" \
  "$(grep -c '"event":"phase_end"' "$T/cut.jsonl")"
# A malformed line: named by its number, exit 2.
sed '3s/.*/{"event":"cell_start",/' "$T/nostore.jsonl" >"$T/bad.jsonl"
"$MFBENCH" store-events --store "$T/bad.db" -q <"$T/bad.jsonl" >/dev/null 2>"$T/bad.err"
expect_eq "store-events of a malformed line: exit status" "$?" 2
expect_contains "malformed line named" "$(cat "$T/bad.err")" "<stdin>:3:"

# 5. The reader gone (EPIPE): the run stops (exit 1, said), its server stopped.
{
  "$MFBENCH" run -m "$T/m.yaml" --no-store --json-events flask/text 2>"$T/pipe.err"
  echo $? >"$T/pipe.rc"
} | head -n 1 >/dev/null
expect_eq "reader gone: exit status" "$(cat "$T/pipe.rc")" 1
expect_contains "reader gone: said" "$(cat "$T/pipe.err")" "the event stream's reader is gone"
expect_contains "reader gone: the cell stopped" "$(cat "$T/pipe.err")" "flask/text: cancelled"
expect_no_server "$T/node"

# 6. -m - with a bad matrix: the error at <stdin>:LINE:COL.
printf 'version: 1\nnode: {transport: local}\nbogus_key: 1\n' |
  "$MFBENCH" run -m - --no-store flask/text >/dev/null 2>"$T/stdin.err"
expect_eq "run -m - (bad matrix): exit status" "$?" 2
expect_contains "run -m - names <stdin>" "$(cat "$T/stdin.err")" "<stdin>:3:"
"$MFBENCH" check -m - <"$T/m.yaml" >/dev/null 2>&1
expect_eq "check -m -" "$?" 0
# Usage: exclusive flags.
"$MFBENCH" run -m "$T/m.yaml" --json --json-events flask/text >/dev/null 2>&1
expect_eq "--json with --json-events" "$?" 2
"$MFBENCH" run -m "$T/m.yaml" --store "$T/x.db" --no-store flask/text >/dev/null 2>&1
expect_eq "--store with --no-store" "$?" 2
expect_no_server "$T/node"
finish
