#!/bin/sh
# mfbenchd with a real OpenSSH sshd on 127.0.0.1 as its node: a triggered cell is
# provisioned and run there; status is followed to the end; the store and the
# node are checked.
. "$SRC/tests/daemon/dlib.sh"
FIX="$SRC/tests/fixtures/sshd-node.sh"
eval "$(sh "$FIX" start "$T/sshd")" || { bad "sshd fixture did not start"; finish; }
stop_sshd() { sh "$FIX" stop "$T/sshd"; }
cleanup_hooks="stop_daemon stop_sshd"
port_ssh=${port_ssh:-$port}
port=$(free_port)
write_matrix "$T/m.yaml" "  transport: ssh
  host: 127.0.0.1
  port: $port_ssh
  user: $user
  identity: $identity
  known_hosts: $known_hosts
  workdir: $T/node
  cpus: \"1\"
  server_port: $port"
start_daemon || finish
out=$("$MFBENCH" trigger --socket "$SOCK" flask/text 2>&1)
expect_eq "trigger" "$out" "job 1 queued"
$CTL "$SOCK" follow 1 240 >"$T/f.txt"
expect_eq "followed to the end" "$?" 0
expect_contains "a phase was seen" "$(head -1 "$T/f.txt")" "phase"
expect_eq "outcome" "$(sed -n 2p "$T/f.txt" | cut -d' ' -f1)" ok
expect_eq "run stored" "$(sq 'select status from runs where id=1')" ok
expect_eq "cell stored" "$(sq 'select status from cells where run_id=1')" ok
expect_eq "phases stored" "$(sq 'select count(*) >= 1 from phases')" 1
expect_eq "provisioned over ssh" "$(test -f "$T/node/targets/flask/app.py" && echo yes)" yes
expect_store_ok
expect_no_server "$T/node"
stop_daemon
finish
