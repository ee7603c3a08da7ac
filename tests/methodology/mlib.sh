# mlib.sh - for the tests that run known-answer targets through the executor:
# lib.sh, a copy of target.py in $T/tgt, a free port, the start template of
# the target ($start), and matrix_head: the version, node (local, pinned to
# CPU 1, workdir under $T) and load (CPU 0) sections, on stdout.
# Usage: . "$SRC/tests/methodology/mlib.sh"; { matrix_head; cat <<YAML ... YAML; } >"$T/m.yaml"
. "$SRC/tests/integration/lib.sh"
port=$(free_port)
mkdir -p "$T/tgt"
cp "$SRC/tests/methodology/target.py" "$T/tgt/"
# shellcheck disable=SC2034 # used by the tests that source this
start='{python} {dir}/target.py --host {host} --port {port}'
matrix_head() {
  cat <<YAML
version: 1
node:
  transport: local
  workdir: $T/node
  cpus: "1"
  server_port: $port
load:
  cpus: "0"
YAML
}

# slo_beside_hogs CPU: one SLO search of md1/text (mdserver, 1 ms a request, short
# probes) with three busy loops on CPU for the whole run; $T/s.json and $T/s.err
# hold its output, $rc its exit status. For test_slo_shared.sh (the engine's CPU)
# and test_slo_node_shared.sh (the server's).
slo_beside_hogs() {
  cp "$MDSERVER" "$T/tgt/mdserver"
  { matrix_head; cat <<YAML; } >"$T/m.yaml"
defaults:
  duration: 2s
  warmup: 500ms
  spawn_rate: 10000
  think: 0s
  users: {start: 1, factor: 2, max: 2}
  refine: 0
  timeout: 2s
  ready_timeout: 20s
payloads:
  text: {path: /text, body: "Hello World!", content_type: text/plain}
frameworks:
  md1: {start: "{dir}/mdserver --host {host} --port {port} --service-ms 1", dir: ./tgt}
profiles:
  s: {slo: {p99: 25ms, min_rps: 50, warmup: 1s, window: {min: 3s, max: 3s}, samples: 500}}
YAML
  hogs=""
  for _ in 1 2 3; do
    taskset -c "$1" sh -c 'while :; do :; done' &
    hogs="$hogs $!"
  done
  cleanup_hooks="$cleanup_hooks stop_hogs"
  "$MFBENCH" run -m "$T/m.yaml" -p s --json md1/text >"$T/s.json" 2>"$T/s.err"
  rc=$?
  stop_hogs
}
stop_hogs() { for h in $hogs; do kill "$h" 2>/dev/null; wait "$h" 2>/dev/null; done; hogs=""; }
