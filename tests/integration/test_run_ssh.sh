#!/bin/sh
# The whole path over SSH: a real OpenSSH sshd on 127.0.0.1 is the node; flask/text
# and tornado/json are provisioned and run there; the run is stored. Then a workdir
# another user made is refused on the node, and a node whose host key does not match
# known_hosts is refused, naming host and fingerprint.
. "$(dirname "$0")/lib.sh"
FIX="$SRC/tests/fixtures/sshd-node.sh"
eval "$(sh "$FIX" start "$T/sshd")" || { bad "sshd fixture did not start"; finish; }
stop_sshd() { sh "$FIX" stop "$T/sshd"; }
cleanup_hooks="stop_sshd"
port_srv=$(free_port)
node="  transport: ssh
  host: 127.0.0.1
  port: $port
  user: $user
  identity: $identity
  known_hosts: $known_hosts
  workdir: $T/node
  cpus: \"1\"
  server_port: $port_srv"
write_matrix "$T/m.yaml" "$node"
"$MFBENCH" run -m "$T/m.yaml" --json flask/text tornado/json >"$T/out.json" 2>"$T/err.txt"
expect_eq "exit status (stderr: $(tail -5 "$T/err.txt"))" "$?" 0
expect_eq "cells" "$(json_get "$T/out.json" 'len(d["cells"])')" 2
for i in 0 1; do
  expect_eq "cell $i status" "$(json_get "$T/out.json" "d['cells'][$i]['status']")" ok
  expect_eq "cell $i requests > 0" "$(json_get "$T/out.json" "d['cells'][$i]['phases'][0]['requests'] > 0")" True
  expect_eq "cell $i no failure at the lowest level" "$(json_get "$T/out.json" "d['cells'][$i]['phases'][0]['failures']")" 0
done
# The node's fingerprint and the /proc/stat figures come over ssh as well.
fp='d["run"]["node"]["fingerprint"]'
expect_eq "fingerprint kernel" "$(json_get "$T/out.json" "$fp['kernel']")" "$(uname -r)"
expect_eq "fingerprint cpus" "$(json_get "$T/out.json" "$fp['cpus']")" "$(getconf _NPROCESSORS_ONLN)"
expect_eq "fingerprint python" "$(json_get "$T/out.json" "$fp['python']")" \
  "$($PY -c 'import platform;print(platform.python_version())')"
expect_eq "neighbours measured" \
  "$(json_get "$T/out.json" "d['cells'][0]['phases'][0]['neighbour_cpu_pct'] >= 0")" True
expect_eq "stored phases" "$(sqlite3 "$MFBENCH_STORE" 'select count(*) > 1 from phases')" 1
expect_eq "provisioned over ssh" "$(test -f "$T/node/targets/flask/app.py" && echo yes)" yes
expect_no_server "$T/node"

# A workdir that another user made and anyone may write is refused on the node, by
# its shell, naming the folder, its owner and mode; nothing is written in it.
if [ "$(id -u)" = 0 ]; then
  mkdir -m 777 "$T/shared" && chown 65534:65534 "$T/shared" && chmod 0777 "$T/shared"
  sed "s|workdir: .*|workdir: $T/shared|" "$T/m.yaml" >"$T/shared.yaml"
  "$MFBENCH" run -m "$T/shared.yaml" flask/text >/dev/null 2>"$T/e1.txt"
  expect_eq "another user's workdir over ssh: exit" "$?" 1
  expect_contains "another user's workdir over ssh: the refusal" "$(cat "$T/e1.txt")" \
    "node workdir $T/shared: owned by uid 65534 (nobody) (not you, uid 0) and mode 0777: refusing (not yours, writable by others)"
  expect_eq "nothing written in it" "$(ls -A "$T/shared")" ""
else
  echo "SKIP: another user's workdir over ssh (needs root to make one; uid $(id -u))" >&2
fi

# A changed host key: known_hosts names another key for the same host.
ssh-keygen -q -t ed25519 -N '' -f "$T/other" >/dev/null
printf "[127.0.0.1]:%s %s\n" "$port" "$(cut -d' ' -f1,2 "$T/other.pub")" >"$T/wrong_known_hosts"
sed "s|known_hosts: .*|known_hosts: $T/wrong_known_hosts|" "$T/m.yaml" >"$T/wrong.yaml"
"$MFBENCH" run -m "$T/wrong.yaml" flask/text >"$T/o2.txt" 2>"$T/e2.txt"
expect_eq "mismatched host key exit" "$?" 1
expect_contains "message names the host" "$(cat "$T/e2.txt")" "127.0.0.1"
expect_contains "message names the fingerprint" "$(cat "$T/e2.txt")" "SHA256:"
# An unknown host: empty known_hosts.
: >"$T/empty_known_hosts"
sed "s|known_hosts: .*|known_hosts: $T/empty_known_hosts|" "$T/m.yaml" >"$T/unknown.yaml"
"$MFBENCH" run -m "$T/unknown.yaml" flask/text >/dev/null 2>"$T/e3.txt"
expect_eq "unknown host key exit" "$?" 1
expect_contains "unknown host message" "$(cat "$T/e3.txt")" "SHA256:"
finish
