#!/bin/sh
# An ssh node whose sshd dies mid-cell (issue 12): the cell is an error, never
# ok, and exit status 1; the server it left on the node is stopped by the next
# run's first contact with that node.
. "$(dirname "$0")/lib.sh"
FIX="$SRC/tests/fixtures/sshd-node.sh"
eval "$(sh "$FIX" start "$T/sshd")" || { bad "sshd fixture did not start"; finish; }
stop_sshd() { sh "$FIX" stop "$T/sshd"; }
cleanup_hooks="stop_sshd"
port_srv=$(free_port)
matrix() { # writes $T/m.yaml for the sshd on port $port
  cat >"$T/m.yaml" <<YAML
version: 1
node: {transport: ssh, host: 127.0.0.1, port: $port, user: $user, identity: $identity,
       known_hosts: $known_hosts, workdir: $T/node, cpus: "1", server_port: $port_srv,
       command_timeout: 10s}
load: {cpus: "0"}
defaults: {duration: 10s, warmup: 1s, spawn_rate: 1000, think: 0s, users: {start: 2, max: 2},
           timeout: 1s, refine: 0}
payloads:
  text: {path: /text, body: "Hello World!", content_type: text/plain}
frameworks:
  flask: {server: werkzeug}
YAML
}
matrix
"$MFBENCH" run -m "$T/m.yaml" --json flask/text >"$T/r1.json" 2>"$T/r1.err" &
rpid=$!
# The phase has begun once the node's sampler writes its samples (bounded wait).
i=0
while [ $i -lt 600 ] && ! [ -s "$T/node/run/samples.txt" ]; do sleep 0.1; i=$((i + 1)); done
expect_eq "the phase began" "$(test -s "$T/node/run/samples.txt" && echo yes)" yes
srv=$(cat "$T/node/run/server.pid" 2>/dev/null)
# sshd dies: the listener and every session it serves.
spid=$(cat "$T/sshd/sshd.pid")
pkill -KILL -P "$spid" 2>/dev/null
kill -KILL "$spid" 2>/dev/null
i=0
while [ $i -lt 900 ] && kill -0 "$rpid" 2>/dev/null; do sleep 0.1; i=$((i + 1)); done
if kill -0 "$rpid" 2>/dev/null; then
  bad "mfbench run still running 90 s after the node was lost"
  kill -KILL "$rpid"
fi
wait "$rpid"
expect_eq "exit status with the node lost (stderr: $(tail -3 "$T/r1.err"))" "$?" 1
expect_eq "cell status" "$(json_get "$T/r1.json" 'd["cells"][0]["status"]')" error
expect_contains "cell error" "$(json_get "$T/r1.json" 'd["cells"][0]["error"]')" "lost the node"
expect_eq "stored as error" "$(sqlite3 "$MFBENCH_STORE" 'select status from cells order by id desc limit 1')" error
expect_eq "the server was left running" "$(kill -0 "$srv" 2>/dev/null && echo yes)" yes

# The node comes back (a new sshd, another port): the next run stops the old
# server before its own, and measures.
rm -f "$T/sshd/sshd.pid"
eval "$(sh "$FIX" start "$T/sshd")" || { bad "sshd fixture did not restart"; finish; }
matrix
sed -i 's/duration: 10s/duration: 2s/' "$T/m.yaml"
"$MFBENCH" run -m "$T/m.yaml" --json flask/text >"$T/r2.json" 2>"$T/r2.err"
expect_eq "next run exit (stderr: $(tail -3 "$T/r2.err"))" "$?" 0
expect_eq "next run ok" "$(json_get "$T/r2.json" 'd["cells"][0]["status"]')" ok
i=0
while [ $i -lt 50 ] && kill -0 "$srv" 2>/dev/null && ! grep -q '^State:.*Z' "/proc/$srv/status" 2>/dev/null; do
  sleep 0.1; i=$((i + 1))
done
expect_eq "the old server was stopped" "$(kill -0 "$srv" 2>/dev/null && ! grep -q '^State:.*Z' "/proc/$srv/status" && echo running || echo gone)" gone
expect_no_server "$T/node"
finish
