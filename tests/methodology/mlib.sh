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
