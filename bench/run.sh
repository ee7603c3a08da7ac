#!/usr/bin/env bash
# bench/run.sh - mfbench's load engine against public peers (wrk, h2load, Locust)
# on one machine: nginx serves the 12-byte text on CPU 1, every client runs on
# CPU 0 with the same connections and duration, runs alternate over R rounds, and
# one markdown report is printed: the throughput table (median of the rounds),
# RSS at many idle users (mfbench and Locust), memory over a long phase, and p50
# against a server that answers after exactly 10 ms. Installs nothing; traffic
# goes only to 127.0.0.1; every step is bounded by `timeout`; a trap cleans up.
set -u

CONNS=50
SECS=10
ROUNDS=3
IDLE_USERS=10000
IDLE_SECS=20
LOCUST_IDLE_SECS=90
LONG_SECS=30
PORT=18080
MFBENCH=${MFBENCH:-build/mfbench}
OUT=
SKIP_IDLE=0
ARGS="$*"

usage() {
    cat <<EOF
usage: bench/run.sh [options]
  -c N              connections (users) of every client (default $CONNS)
  -d SECS           duration of every throughput run (default $SECS)
  -r ROUNDS         rounds of alternating runs (default $ROUNDS)
  --idle-users N    users of the idle-memory runs (default $IDLE_USERS)
  --idle-secs S     mfbench idle run length (default $IDLE_SECS; think time is 60 s)
  --locust-idle-secs S  Locust idle run length, spawning included (default $LOCUST_IDLE_SECS)
  --long-secs S     the long phase whose RSS is sampled every second (default $LONG_SECS)
  --no-idle         skip the idle-users runs
  --mfbench PATH    the mfbench binary (default \$MFBENCH or build/mfbench)
  --port P          first of the two local ports used (default $PORT)
  -o FILE           also write the report to FILE
Needs: wrk, h2load (nghttp2-client), locust (python3-locust), nginx (nginx-light),
taskset (util-linux), /usr/bin/time (time), cc, python3, 2 CPUs.
EOF
}

while [ $# -gt 0 ]; do
    case "$1" in
    -c) CONNS=$2; shift 2 ;;
    -d) SECS=$2; shift 2 ;;
    -r) ROUNDS=$2; shift 2 ;;
    --idle-users) IDLE_USERS=$2; shift 2 ;;
    --idle-secs) IDLE_SECS=$2; shift 2 ;;
    --locust-idle-secs) LOCUST_IDLE_SECS=$2; shift 2 ;;
    --long-secs) LONG_SECS=$2; shift 2 ;;
    --no-idle) SKIP_IDLE=1; shift ;;
    --mfbench) MFBENCH=$2; shift 2 ;;
    --port) PORT=$2; shift 2 ;;
    -o) OUT=$2; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) echo "run.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
    esac
done
for v in CONNS SECS ROUNDS IDLE_USERS IDLE_SECS LOCUST_IDLE_SECS LONG_SECS PORT; do
    case "${!v}" in '' | *[!0-9]*) echo "run.sh: $v must be a positive integer" >&2; exit 2 ;; esac
done

# ---- prerequisites: say what is missing, install nothing ----
missing_pkgs=""
need() { # command package
    command -v "$1" >/dev/null 2>&1 || [ -x "$1" ] || missing_pkgs="$missing_pkgs $2"
}
need wrk wrk
need h2load nghttp2-client
need locust python3-locust
need nginx nginx-light
[ -x /usr/sbin/nginx ] && missing_pkgs=${missing_pkgs/ nginx-light/}
need taskset util-linux
need /usr/bin/time time
need cc gcc
need /usr/bin/python3 python3
if [ -n "$missing_pkgs" ]; then
    echo "run.sh: missing tools; install them with: apt-get install$missing_pkgs" >&2
    exit 2
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
if [ "$(nproc)" -lt 2 ]; then
    echo "run.sh: needs 2 CPUs (server on CPU 1, clients on CPU 0); nproc is $(nproc)" >&2
    exit 2
fi
if ! "$MFBENCH" load --help >/dev/null 2>&1; then
    echo "run.sh: $MFBENCH is not an mfbench binary; build it (meson setup build &&" \
        "meson compile -C build) or pass --mfbench PATH" >&2
    exit 2
fi
MFBENCH=$(readlink -f "$MFBENCH")
HERE=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3

# ---- temp dir, servers, cleanup ----
T=$(mktemp -d /tmp/mfbench-bench.XXXXXX)
SERVER_PIDS=""
cleanup() {
    for p in $SERVER_PIDS; do
        kill "$p" 2>/dev/null
    done
    for p in $SERVER_PIDS; do
        for _ in 1 2 3 4 5 6 7 8 9 10; do
            kill -0 "$p" 2>/dev/null || break
            sleep 0.2
        done
        kill -9 "$p" 2>/dev/null
    done
    rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The clients and nginx need descriptors for the idle users.
ulimit -n "$(ulimit -Hn)" 2>/dev/null

URL="http://127.0.0.1:$PORT/text"
DPORT=$((PORT + 1))
mkdir -p "$T/nginx/tmp"
cat >"$T/nginx/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $T/nginx/nginx.pid;
error_log $T/nginx/error.log warn;
worker_rlimit_nofile $(ulimit -Hn);
events { worker_connections $((IDLE_USERS + 1024)); }
http {
    access_log off;
    client_body_temp_path $T/nginx/tmp;
    proxy_temp_path $T/nginx/tmp;
    fastcgi_temp_path $T/nginx/tmp;
    uwsgi_temp_path $T/nginx/tmp;
    scgi_temp_path $T/nginx/tmp;
    keepalive_timeout 300s;
    keepalive_requests 1000000000;
    server {
        listen 127.0.0.1:$PORT backlog=4096;
        location = /text {
            default_type text/plain;
            return 200 "Hello World!";
        }
    }
}
EOF
taskset -c 1 "$NGINX" -p "$T/nginx" -c "$T/nginx/nginx.conf" >"$T/nginx/out.log" 2>&1 &
SERVER_PIDS="$SERVER_PIDS $!"
ok=0
for _ in $(seq 50); do
    if "$PY" - "$PORT" <<'EOF' 2>/dev/null; then ok=1; break; fi
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=1)
s.sendall(b"GET /text HTTP/1.1\r\nHost: x\r\n\r\n")
assert s.recv(4096).endswith(b"Hello World!")
EOF
    sleep 0.1
done
if [ $ok = 0 ]; then
    echo "run.sh: nginx did not start on 127.0.0.1:$PORT:" >&2
    cat "$T/nginx/out.log" "$T/nginx/error.log" >&2 2>/dev/null
    exit 1
fi

cat >"$T/locust_busy.py" <<'EOF'
from locust import FastHttpUser, task, constant
class Busy(FastHttpUser):
    wait_time = constant(0)
    @task
    def text(self):
        self.client.get("/text")
EOF
cat >"$T/locust_idle.py" <<'EOF'
import os, time
from locust import FastHttpUser, task, constant, events
started = [0, 0.0, 0.0]  # users started, first and last start time
class Idle(FastHttpUser):
    wait_time = constant(60)
    def on_start(self):
        now = time.monotonic()
        if started[0] == 0:
            started[1] = now
        started[0] += 1
        started[2] = now
    @task
    def text(self):
        self.client.get("/text")
@events.quitting.add_listener
def _report(environment, **kw):
    with open(os.environ["MF_USERS_FILE"], "w") as f:
        f.write(f"{started[0]} {started[2] - started[1]:.1f}\n")
EOF

say() { echo "run.sh: $*" >&2; }
LIM=$((SECS + 60)) # hard bound of one client run

# run_client TOOL ROUND: one measured run on CPU 0; appends a row to $T/runs.tsv
run_client() {
    local tool=$1 r=$2 o="$T/$1.$2.out" tf="$T/$1.$2.time" reqs="" rps=""
    case $tool in
    mfbench)
        /usr/bin/time -o "$tf" -f "%U %S %M" timeout -k 5 $LIM taskset -c 0 "$MFBENCH" load "$URL" \
            -c "$CONNS" -d "${SECS}s" --threads 1 --expect-body "Hello World!" --json >"$o" 2>&1
        read -r reqs rps < <("$PY" -c 'import json,sys
j=json.loads([l for l in open(sys.argv[1]) if l.startswith("{")][-1])
print(j["requests"]-j["failures"], j["rps"])' "$o" 2>/dev/null)
        ;;
    wrk)
        /usr/bin/time -o "$tf" -f "%U %S %M" timeout -k 5 $LIM taskset -c 0 wrk -t1 -c "$CONNS" \
            -d "${SECS}s" "$URL" >"$o" 2>&1
        reqs=$(awk '/requests in/ {print $1}' "$o")
        rps=$(awk '/^Requests\/sec:/ {print $2}' "$o")
        ;;
    h2load)
        /usr/bin/time -o "$tf" -f "%U %S %M" timeout -k 5 $LIM taskset -c 0 h2load --h1 -c "$CONNS" \
            -t 1 -D "$SECS" "$URL" >"$o" 2>&1
        reqs=$(awk '/^requests:/ {print $8}' "$o")
        rps=$(awk '/^finished in/ {print $4}' "$o")
        ;;
    locust)
        (cd "$T" && /usr/bin/time -o "$tf" -f "%U %S %M" timeout -k 5 $LIM taskset -c 0 locust \
            -f "$T/locust_busy.py" --headless -H "http://127.0.0.1:$PORT" --users "$CONNS" \
            --spawn-rate "$CONNS" -t "${SECS}s" --only-summary --csv "$T/locust.$r" \
            --loglevel WARNING >"$o" 2>&1)
        read -r reqs rps < <("$PY" -c 'import csv,sys
for row in csv.DictReader(open(sys.argv[1])):
    if row["Name"] == "Aggregated":
        print(int(row["Request Count"]) - int(row["Failure Count"]), row["Requests/s"])' \
            "$T/locust.${r}_stats.csv" 2>/dev/null)
        ;;
    esac
    local u s m
    read -r u s m <"$tf" 2>/dev/null || true
    if [ -z "$reqs" ] || [ -z "$rps" ] || [ -z "${m:-}" ] || [ "$reqs" = 0 ]; then
        say "$tool round $r produced no result; its output:"
        tail -5 "$o" >&2
        return
    fi
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$tool" "$r" "$rps" "$reqs" "$u" "$s" "$m" >>"$T/runs.tsv"
    say "$tool round $r: $rps req/s, $reqs requests, user ${u}s sys ${s}s, max RSS ${m} KiB"
}

# ---- 1. alternating throughput runs ----
: >"$T/runs.tsv"
TOOLS="mfbench wrk h2load locust"
for r in $(seq "$ROUNDS"); do
    for tool in $TOOLS; do
        run_client "$tool" "$r"
        sleep 1 # let TIME_WAIT and the server settle between tools
    done
done

# ---- 2. memory over a long phase (mfbench, RSS sampled every second) ----
: >"$T/long.tsv"
taskset -c 0 "$MFBENCH" load "$URL" -c "$CONNS" -d "${LONG_SECS}s" --threads 1 \
    --expect-body "Hello World!" --json >"$T/long.out" 2>&1 &
LP=$! # taskset execs mfbench: this is mfbench's pid
for s in $(seq "$LONG_SECS"); do
    sleep 1
    rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$LP/status" 2>/dev/null)
    [ -z "$rss" ] && break
    printf '%s\t%s\n' "$s" "$rss" >>"$T/long.tsv"
done
for _ in $(seq 30); do kill -0 "$LP" 2>/dev/null || break; sleep 1; done
kill "$LP" 2>/dev/null
wait "$LP" 2>/dev/null

# ---- 3. idle users: RSS at IDLE_USERS users thinking 60 s ----
: >"$T/idle.tsv"
if [ "$SKIP_IDLE" = 0 ]; then
    for n in 1 "$IDLE_USERS"; do
        /usr/bin/time -o "$T/idle.mf.$n.time" -f "%U %S %M" timeout -k 5 $((IDLE_SECS + 60)) \
            taskset -c 0 "$MFBENCH" load "$URL" -c "$n" -d "${IDLE_SECS}s" --think 60s \
            --timeout 30s --threads 1 --json >"$T/idle.mf.$n.out" 2>&1
        read -r _ _ m <"$T/idle.mf.$n.time"
        read -r users reqs fails < <("$PY" -c 'import json,sys
j=json.loads([l for l in open(sys.argv[1]) if l.startswith("{")][-1])
print(max([p["users"] for p in j["series"]] or [0]), j["requests"], j["failures"])' \
            "$T/idle.mf.$n.out" 2>/dev/null)
        printf 'mfbench\t%s\t%s\t%s\t%s\t%s\n' "$n" "${users:-?}" "${reqs:-?}" "${fails:-?}" "$m" >>"$T/idle.tsv"
        say "mfbench idle $n users: reached ${users:-?}, requests ${reqs:-?}, failures ${fails:-?}, max RSS $m KiB"
    done
    (cd "$T" && MF_USERS_FILE="$T/idle.locust.users" /usr/bin/time -o "$T/idle.locust.time" -f "%U %S %M" \
        timeout -k 5 $((LOCUST_IDLE_SECS + 60)) taskset -c 0 locust -f "$T/locust_idle.py" \
        --headless -H "http://127.0.0.1:$PORT" --users "$IDLE_USERS" --spawn-rate "$IDLE_USERS" \
        -t "${LOCUST_IDLE_SECS}s" --only-summary --csv "$T/idle.locust" --loglevel INFO \
        >"$T/idle.locust.out" 2>&1)
    read -r _ _ m <"$T/idle.locust.time"
    read -r users spawn_s <"$T/idle.locust.users" 2>/dev/null
    read -r reqs fails < <("$PY" -c 'import csv,sys
agg=[r for r in csv.DictReader(open(sys.argv[1]+"_stats.csv")) if r["Name"]=="Aggregated"][0]
print(agg["Request Count"], agg["Failure Count"])' "$T/idle.locust" 2>/dev/null)
    printf 'locust\t%s\t%s\t%s\t%s\t%s\t%s\n' "$IDLE_USERS" "${users:-?}" "${reqs:-?}" "${fails:-?}" "$m" "${spawn_s:-?}" >>"$T/idle.tsv"
    say "locust idle $IDLE_USERS users: reached ${users:-?} in ${spawn_s:-?} s, requests ${reqs:-?}, max RSS $m KiB"
fi

# ---- 4. the 10 ms server ----
cc -O2 -std=c11 -D_GNU_SOURCE -o "$T/delay_server" "$HERE/delay_server.c" || exit 1
taskset -c 1 "$T/delay_server" "$DPORT" 10000 300 >"$T/delay.log" 2>&1 &
SERVER_PIDS="$SERVER_PIDS $!"
sleep 0.5
timeout -k 5 $((SECS + 60)) taskset -c 0 "$MFBENCH" load "http://127.0.0.1:$DPORT/text" -c 20 \
    --rate 200 -d "${SECS}s" --threads 1 --expect-body "Hello World!" --json >"$T/delay.out" 2>&1
timeout -k 5 $((SECS + 60)) taskset -c 0 "$MFBENCH" load "http://127.0.0.1:$DPORT/text" -c 1 \
    -d "${SECS}s" --threads 1 --expect-body "Hello World!" --json >"$T/delay1.out" 2>&1

# ---- the report ----
"$PY" - "$T" "$CONNS" "$SECS" "$ROUNDS" "$IDLE_USERS" "$LONG_SECS" "$ARGS" "$IDLE_SECS" "$LOCUST_IDLE_SECS" <<'EOF' | tee "$T/report.md"
import json, os, platform, statistics, subprocess, sys
T, conns, secs, rounds, idle_users, long_secs, args = sys.argv[1:8]
idle_secs = sys.argv[8:10]
conns, secs, idle_users = int(conns), int(secs), int(idle_users)

def model():
    for l in open("/proc/cpuinfo"):
        if l.startswith("model name"):
            return l.split(":", 1)[1].strip()
    return "?"

def ver(cmd):
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=10)
        txt = (out.stdout + out.stderr).strip().splitlines()
        return txt[0] if txt else "?"
    except Exception:
        return "?"

runs = {}
for line in open(os.path.join(T, "runs.tsv")):
    tool, r, rps, reqs, u, s, m = line.split("\t")
    runs.setdefault(tool, []).append(
        dict(rps=float(rps), us=(float(u) + float(s)) * 1e6 / int(reqs), rss=int(m) / 1024))
med = {t: {k: statistics.median(x[k] for x in v) for k in ("rps", "us", "rss")}
       for t, v in runs.items()}

print("## mfbench load engine vs wrk, h2load, Locust\n")
print(f"Machine: {os.cpu_count()} CPUs, {model()}, Linux {platform.release()}; "
      f"nginx ({ver(['nginx', '-v'])}) worker_processes 1 on CPU 1, clients on CPU 0.")
print(f"Tools: {ver(['wrk', '-v'])} / {ver(['h2load', '--version'])} / Locust "
      f"{ver(['dpkg-query', '-W', '-f', '${Version}', 'python3-locust'])} (Debian).")
cmd = ("bench/run.sh " + args).strip()
print(f"Command: `{cmd}` ({conns} connections, {secs} s per run, {rounds} alternating rounds; "
      "each figure is the median of the rounds).\n")
print("| client | req/s | client CPU us/req | requests per client CPU-second | peak RSS MiB "
      "| us/req vs wrk | req/s vs Locust | requests per CPU-second vs Locust |")
print("|---|---:|---:|---:|---:|---:|---:|---:|")
names = {"mfbench": "mfbench load (1 thread)", "wrk": "wrk -t1", "h2load": "h2load --h1 -t1",
         "locust": "Locust FastHttpUser (1 process)"}
for t in ("mfbench", "wrk", "h2load", "locust"):
    if t not in med:
        print(f"| {names[t]} | no result | | | | | | |")
        continue
    m = med[t]
    vw = f"{m['us'] / med['wrk']['us']:.2f}x" if "wrk" in med else "-"
    vl = f"{m['rps'] / med['locust']['rps']:.1f}x" if "locust" in med else "-"
    vc = f"{med['locust']['us'] / m['us']:.1f}x" if "locust" in med else "-"
    print(f"| {names[t]} | {m['rps']:,.0f} | {m['us']:.2f} | {1e6 / m['us']:,.0f} | {m['rss']:.1f} "
          f"| {vw} | {vl} | {vc} |")
print()
print("Per run, in run order (req/s, us/req): " + "; ".join(
    f"{t} " + ", ".join(f"{x['rps']:,.0f} {x['us']:.2f}" for x in v) for t, v in runs.items()) + ".\n")
# Other load on the machine moves the server's speed between runs, and CPU per
# request falls as throughput rises (more events per wake-up), so pair each
# mfbench run with the wrk run next to it in time as well.
if "mfbench" in runs and "wrk" in runs:
    pairs = [m["us"] / w["us"] for m, w in zip(runs["mfbench"], runs["wrk"])]
    print(f"mfbench/wrk CPU per request, paired by round: "
          + ", ".join(f"{x:.2f}" for x in pairs) + f" (median {statistics.median(pairs):.3f}).")
if "mfbench" in med and "locust" in med:
    cap = med["locust"]["us"] / med["mfbench"]["us"]
    print(f"Requests per CPU-second on the client's one core: mfbench "
          f"{1e6 / med['mfbench']['us']:,.0f}, Locust {1e6 / med['locust']['us']:,.0f} "
          f"({cap:.1f}x). Locust saturates CPU 0; mfbench does not (nginx on one core is the "
          f"limit), so the req/s ratio understates what mfbench can drive on one core, and "
          f"requests per CPU-second is its one-core throughput.")
print()

idle = [l.rstrip("\n").split("\t") for l in open(os.path.join(T, "idle.tsv"))]
if idle:
    print(f"### Idle users (think 60 s: connection open, one request a minute)\n")
    print("| client | users asked | users reached | requests | failures | peak RSS MiB | KiB per user |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    base = None
    locust_note = None
    for tool, n, users, reqs, fails, m, *spawn in idle:
        kib = int(m)
        if tool == "mfbench" and n == "1":
            base = kib
            continue
        extra = ""
        if tool == "mfbench" and base is not None and users.isdigit() and int(users) > 0:
            extra = f" ({(kib - base) / int(users):.2f} above the 1-user run's {base / 1024:.1f} MiB)"
        per = kib / int(users) if users.isdigit() and int(users) else float("nan")
        name = "mfbench load" if tool == "mfbench" else "Locust FastHttpUser"
        print(f"| {name} | {n} | {users} | {reqs} | {fails} | {kib / 1024:.1f} | {per:.2f}{extra} |")
        if spawn:
            locust_note = (f"Locust started {users} of {n} users in {spawn[0]} s of its {idle_secs[1]} s "
                           f"run (one process, spawn rate {n}/s asked).")
    print()
    if locust_note:
        print(locust_note + f" mfbench ran {idle_secs[0]} s with all users started at once.\n")

long = [l.split() for l in open(os.path.join(T, "long.tsv"))]
if len(long) >= 3:
    r = [int(x[1]) for x in long]
    print(f"Memory over a {long_secs} s phase ({conns} users back to back): VmRSS "
          f"{r[1] / 1024:.1f} MiB at 2 s, {max(r) / 1024:.1f} MiB peak, {r[-1] / 1024:.1f} MiB at "
          f"{len(r)} s.\n")

def lat(f):
    try:
        j = json.loads([l for l in open(os.path.join(T, f)) if l.startswith("{")][-1])
        return j
    except Exception:
        return None
j = lat("delay.out")
if j:
    l = j["latency_ms"]
    print(f"10 ms server, open loop --rate 200 (20 users, {secs} s): p50 {l['p50']:.3f} ms "
          f"(off by {l['p50'] - 10:+.3f} ms), p90 {l['p90']:.3f}, p99 {l['p99']:.3f} ms, "
          f"{j['requests']} requests, {j['failures']} failures, "
          f"{j['missed_schedule']} sends missed their schedule.")
j = lat("delay1.out")
if j:
    l = j["latency_ms"]
    print(f"10 ms server, closed loop 1 user: p50 {l['p50']:.3f} ms (off by {l['p50'] - 10:+.3f} ms), "
          f"p99 {l['p99']:.3f} ms.")
print("(Latency histogram buckets are 64 us wide around 10 ms; values are bucket midpoints.)")
EOF
if [ -n "$OUT" ]; then
    cp "$T/report.md" "$OUT"
fi
