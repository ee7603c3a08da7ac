#!/usr/bin/env bash
# bench/idle_users.sh - the load engine's memory per idle user (issue 20: at most
# 1 KiB): peak RSS of `mfbench load` holding N users that think 60 s (each sends
# one request, then holds its connection), against nginx when installed, else the
# repo's tests/runner/testserver. Also a 1-user run (the engine's fixed cost) and,
# when wrk is installed, wrk's peak RSS at N connections (wrk has no think time:
# its connections are busy, the nearest figure it has). Installs nothing; traffic
# goes only to 127.0.0.1; every step is bounded by `timeout`; a trap cleans up.
set -u

USERS=19000
SECS=20
PORT=18081
MFBENCH=${MFBENCH:-build/mfbench}
TESTSERVER=${TESTSERVER:-build/tests/runner/testserver}

usage() {
    cat <<EOF
usage: bench/idle_users.sh [-c USERS] [-d SECS] [--mfbench PATH] [--testserver PATH] [--port P]
  -c USERS        idle users (default $USERS; the descriptor hard limit must exceed it)
  -d SECS         length of the mfbench and wrk runs (default $SECS)
  --mfbench PATH  the mfbench binary (default \$MFBENCH or build/mfbench)
  --testserver PATH  the server when nginx is not installed (default $TESTSERVER)
  --port P        the local port the server listens on (default $PORT)
Prints one markdown table: users, requests, failures, peak RSS, bytes per user.
EOF
}

while [ $# -gt 0 ]; do
    case $1 in
    -c) USERS=$2; shift 2 ;;
    -d) SECS=$2; shift 2 ;;
    --mfbench) MFBENCH=$2; shift 2 ;;
    --testserver) TESTSERVER=$2; shift 2 ;;
    --port) PORT=$2; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
    esac
done
for v in USERS SECS PORT; do
    case ${!v} in '' | *[!0-9]*) echo "idle_users.sh: $v must be a whole number" >&2; exit 2 ;; esac
done
[ -x "$MFBENCH" ] || { echo "idle_users.sh: no $MFBENCH (build first, or --mfbench)" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "idle_users.sh: needs /usr/bin/time (Debian: time)" >&2; exit 2; }

T=$(mktemp -d)
SRV=
cleanup() {
    [ -n "$SRV" ] && kill "$SRV" 2>/dev/null && wait "$SRV" 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT
ulimit -n "$(ulimit -Hn)" 2>/dev/null
hard=$(ulimit -Hn)
if [ "$hard" != unlimited ] && [ "$hard" -lt $((USERS + 100)) ]; then
    echo "idle_users.sh: the descriptor hard limit $hard is below $USERS users + 100" >&2
    exit 2
fi

NGINX=$(command -v nginx || { [ -x /usr/sbin/nginx ] && echo /usr/sbin/nginx; })
if [ -n "$NGINX" ]; then
    cat >"$T/nginx.conf" <<EOF
daemon off;
master_process off;
worker_processes 1;
worker_rlimit_nofile $((USERS * 2 + 1024));
pid $T/nginx.pid;
error_log $T/error.log warn;
events { worker_connections $((USERS + 1024)); }
http {
    access_log off;
    keepalive_timeout 300s;
    keepalive_requests 10000000;
    client_body_temp_path $T;
    proxy_temp_path $T;
    fastcgi_temp_path $T;
    uwsgi_temp_path $T;
    scgi_temp_path $T;
    server {
        listen 127.0.0.1:$PORT backlog=8192;
        location / { default_type text/plain; return 200 "Hello World!"; }
    }
}
EOF
    timeout -k 5 $((SECS * 4 + 120)) "$NGINX" -p "$T" -c "$T/nginx.conf" &
    SRV=$!
    SERVER="nginx ($NGINX)"
    sleep 1
else
    [ -x "$TESTSERVER" ] || { echo "idle_users.sh: no nginx and no $TESTSERVER" >&2; exit 2; }
    "$TESTSERVER" $((SECS * 4 + 120)) >"$T/port" &
    SRV=$!
    for _ in 1 2 3 4 5 6 7 8 9 10; do [ -s "$T/port" ] && break; sleep 0.2; done
    PORT=$(head -n1 "$T/port")
    SERVER="tests/runner/testserver (a thread per connection)"
fi
URL="http://127.0.0.1:$PORT/text"

# one mfbench run: users -> "requests failures client_failures connections_max peak_rss_kib"
mf_run() {
    /usr/bin/time -o "$T/mf.$1.time" -f "%M" timeout -k 5 $((SECS + 60)) \
        "$MFBENCH" load "$URL" -c "$1" -d "${SECS}s" --think 60s --timeout 30s --threads 1 \
        --json >"$T/mf.$1.json" 2>"$T/mf.$1.err"
    python3 - "$T/mf.$1.json" "$(tail -n1 "$T/mf.$1.time")" <<'EOF'
import json, sys
try:
    j = json.load(open(sys.argv[1]))
    print(j["requests"], j["failures"], j["failures_by_kind"]["client"], j["connections_max"],
          sys.argv[2])
except Exception:
    print("? ? ? ?", sys.argv[2])
EOF
}

read -r r1 f1 c1 m1 rss1 < <(mf_run 1)
read -r rn fn cn mn rssn < <(mf_run "$USERS")

wrk_line=
if command -v wrk >/dev/null; then
    /usr/bin/time -o "$T/wrk.time" -f "%M" timeout -k 5 $((SECS + 60)) \
        wrk -t 1 -c "$USERS" -d "${SECS}s" "$URL" >"$T/wrk.out" 2>&1
    wrk_rss=$(tail -n1 "$T/wrk.time")
    wrk_req=$(awk '/requests in/ {print $1}' "$T/wrk.out")
    wrk_err=$(awk '/Socket errors/ {print $0}' "$T/wrk.out")
    wrk_line=$(python3 -c 'import sys; n, r = int(sys.argv[1]), int(sys.argv[2]); print(f"| wrk -t1 -c{n} (busy, no think) | {n} | - | {sys.argv[3] or "?"} | {sys.argv[4] or "0 socket errors"} | {r/1024:.1f} | {r*1024/n:.0f} |")' \
        "$USERS" "$wrk_rss" "$wrk_req" "$wrk_err")
fi

python3 - "$USERS" "$SECS" "$SERVER" "$r1 $f1 $c1 $m1 $rss1" "$rn $fn $cn $mn $rssn" "$wrk_line" <<'EOF'
import sys
n, secs, server = int(sys.argv[1]), sys.argv[2], sys.argv[3]
one, many = sys.argv[4].split(), sys.argv[5].split()
print(f"Idle users: `bench/idle_users.sh -c {n} -d {secs}` against {server}; "
      f"`mfbench load URL -c N -d {secs}s --think 60s --timeout 30s --threads 1`, "
      "peak RSS by /usr/bin/time.\n")
print("| client | users | connections max | requests | failures | peak RSS MiB | bytes per user |")
print("|---|---:|---:|---:|---:|---:|---:|")
for row, users in ((one, 1), (many, n)):
    req, fails, client, conns, rss = row
    rss_k = int(rss) if rss.isdigit() else 0
    per = f"{rss_k * 1024 / users:.0f}" if rss_k else "?"
    print(f"| mfbench load | {users} | {conns} | {req} | {fails} (client {client}) | "
          f"{rss_k / 1024:.1f} | {per} |")
if one[4].isdigit() and many[4].isdigit():
    d = (int(many[4]) - int(one[4])) * 1024 / (n - 1)
    print(f"\nAbove the 1-user run: {d:.0f} bytes per additional user.")
if sys.argv[6]:
    print("\n| client | connections | | requests | errors | peak RSS MiB | bytes per connection |")
    print("|---|---:|---:|---:|---|---:|---:|")
    print(sys.argv[6])
EOF
