#!/bin/sh
# An IPv6 node (issue 13, item 4): host "::1" through the real executor (mfbench run, local
# node): the server is told --host ::1 (node.listen's default), the readiness probe and the
# engine reach http://[::1]:PORT/, and the cell comes out ok.
. "$SRC/tests/integration/lib.sh"
if ! err=$($PY -c 'import socket; s=socket.socket(socket.AF_INET6); s.bind(("::1",0))' 2>&1); then
  echo "SKIP: this machine has no ::1 ($err)" >&2
  exit 77
fi
port=$($PY -c 'import socket; s=socket.socket(socket.AF_INET6); s.bind(("::1",0)); print(s.getsockname()[1])')
mkdir -p "$T/tgt"
cp "$SRC/tests/methodology/target.py" "$T/tgt/"
cat >"$T/m.yaml" <<YAML
version: 1
node:
  transport: local
  host: "::1"
  workdir: $T/node
  cpus: "1"
  server_port: $port
load:
  cpus: "0"
defaults:
  duration: 1s
  warmup: 0s
  spawn_rate: 10000
  think: {min: 0s, max: 0s}
  users: {start: 2, step: 2, max: 2}
  refine: 0
  timeout: 2s
  ready_timeout: 20s
payloads:
  text: {path: /text, body: "Hello World!", content_type: text/plain}
frameworks:
  v6:
    dir: ./tgt
    start: "{python} {dir}/target.py --host {host} --port {port} --mode rate --rate 100000"
YAML
"$MFBENCH" run -m "$T/m.yaml" --json v6/text >"$T/run.json" 2>"$T/run.err"
expect_eq "run: exit status (stderr: $(tail -3 "$T/run.err"))" "$?" 0
c='d["cells"][0]'
expect_eq "cell ok" "$(json_get "$T/run.json" "$c[\"status\"]")" ok
expect_eq "answered over IPv6" \
  "$(json_get "$T/run.json" "$c[\"phases\"][0][\"requests\"] > 0 and $c[\"phases\"][0][\"failures\"] == 0")" True
finish
