#!/bin/sh
# A server that never becomes ready: the cell fails with "server not ready" and
# the last lines of the server's log; no process is left; the run exits 1.
# Also a user's own start: framework, and a target that answers a wrong body.
# And a port another process already listens on: the cell is an error naming
# that process, and no request reaches it (it would answer for the server).
. "$(dirname "$0")/lib.sh"
port=$(free_port)
mkdir -p "$T/mine"
cat >"$T/mine/app.py" <<'PY'
import sys, time
print("mine: starting, but never listening", flush=True)
time.sleep(600)  # the test: a server that never listens
PY
mkdir -p "$T/wrong"
cp "$SRC/tests/fixtures/hello_server.py" "$T/wrong/app.py"
write_matrix "$T/m.yaml" "  transport: local
  workdir: $T/node
  cpus: \"1\"
  server_port: $port" "  sleepy:
    start: \"{python} {dir}/app.py\"
    dir: $T/mine
    ready_timeout: 3s
  wrong:
    start: \"{python} {dir}/app.py {host} {port} --body 'Hello World?'\"
    dir: $T/wrong"
# A payload whose exact body comes from a file (as the shipped 64 KiB `file`).
printf 'Hello World!' >"$T/expected.bin"
sed -i "s|^payloads:|payloads:\\n  bin: {path: /bin, body_file: $T/expected.bin, content_type: text/plain}|" "$T/m.yaml"
start=$(date +%s)
"$MFBENCH" run -m "$T/m.yaml" --json sleepy/text wrong/text wrong/bin >"$T/out.json" 2>"$T/err.txt"
rc=$?
took=$(( $(date +%s) - start ))
expect_eq "exit status" "$rc" 1
expect_eq "sleepy status" "$(json_get "$T/out.json" "d['cells'][0]['status']")" failed
expect_contains "sleepy error" "$(json_get "$T/out.json" "d['cells'][0]['error']")" "server not ready"
expect_contains "sleepy log tail" "$(json_get "$T/out.json" "d['cells'][0]['error']")" "never listening"
expect_eq "sleepy phases" "$(json_get "$T/out.json" "len(d['cells'][0]['phases'])")" 0
expect_eq "wrong status" "$(json_get "$T/out.json" "d['cells'][1]['status']")" error
expect_contains "wrong error names the difference" "$(json_get "$T/out.json" "d['cells'][1]['error']")" "byte 11"
expect_eq "wrong/bin status" "$(json_get "$T/out.json" "d['cells'][2]['status']")" error
expect_contains "body_file compared byte for byte" "$(json_get "$T/out.json" "d['cells'][2]['error']")" "byte 11"
expect_eq "bounded by the ready timeout" "$([ "$took" -lt 40 ] && echo yes)" yes
expect_eq "stored statuses" "$(sqlite3 "$MFBENCH_STORE" "select group_concat(status) from cells order by id")" "failed,error,error"
expect_no_server "$T/node"
left=$(pgrep -f "$T/node/user/sleepy" | tr '\n' ' ')
expect_eq "sleepy process gone" "$left" ""
# Another process already serves the right answer on the port: ours would fail
# to bind while that one answered the probe and the load. The cell must not
# measure it.
port2=$(free_port)
mkdir -p "$T/squat"
cp "$SRC/tests/fixtures/hello_server.py" "$T/squat/app.py"
$PY "$T/squat/app.py" 127.0.0.1 "$port2" --hits "$T/squat/hits" &
squat=$!
stop_squat() { kill "$squat" 2>/dev/null; wait "$squat" 2>/dev/null; }
cleanup_hooks="$cleanup_hooks stop_squat"
listening() { $PY -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1).close()' "$port2" 2>/dev/null; }
wait_for 10 listening
rm -f "$T/squat/hits"
write_matrix "$T/m2.yaml" "  transport: local
  workdir: $T/node
  cpus: \"1\"
  server_port: $port2" "  right:
    start: \"{python} {dir}/app.py {host} {port}\"
    dir: $T/squat"
"$MFBENCH" run -m "$T/m2.yaml" --json right/text >"$T/out2.json" 2>"$T/err2.txt"
expect_eq "port in use: exit status" "$?" 1
expect_eq "port in use: status" "$(json_get "$T/out2.json" "d['cells'][0]['status']")" error
err2=$(json_get "$T/out2.json" "d['cells'][0]['error']")
expect_contains "port in use: named" "$err2" "port $port2 on the node is already in use"
expect_contains "port in use: the process named" "$err2" "pid $squat ("
expect_eq "port in use: no phase" "$(json_get "$T/out2.json" "len(d['cells'][0]['phases'])")" 0
expect_eq "no request reached the other process" "$(cat "$T/squat/hits" 2>/dev/null | wc -l)" 0
finish
