# lib.sh - shared by the integration test scripts: temp folders, a test matrix,
# checks that print what differed, and the closing verdict.
# Usage: . "$(dirname "$0")/lib.sh"  (needs MFBENCH=path/to/mfbench, SRC=source root)
set -u
: "${MFBENCH:?set MFBENCH to the mfbench binary}"
: "${SRC:?set SRC to the source root}"
PY=/usr/bin/python3
T=$(mktemp -d /tmp/mfbench-test.XXXXXX)
export MFBENCH_STORE="$T/results.db"
export XDG_STATE_HOME="$T/state"
fails=0
checks=0
cleanup_hooks=""
at_exit() { for h in $cleanup_hooks; do $h || true; done; rm -rf "$T"; }
trap at_exit EXIT
trap 'exit 130' INT TERM

ok() { checks=$((checks + 1)); }
bad() { checks=$((checks + 1)); fails=$((fails + 1)); echo "FAIL: $*" >&2; }
expect_eq() { # what actual expected
  if [ "$2" = "$3" ]; then ok; else bad "$1: got '$2', expected '$3'"; fi
}
expect_contains() { # what haystack needle
  case "$2" in *"$3"*) ok ;; *) bad "$1: '$3' not in: $2" ;; esac
}
finish() {
  echo "$checks checks, $fails failed" >&2
  [ "$checks" -gt 0 ] && [ "$fails" -eq 0 ]
  exit $?
}

# A free TCP port on 127.0.0.1 (asked of the kernel, then released).
free_port() {
  $PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# write_matrix FILE NODE_YAML [FRAMEWORKS_YAML]: a small matrix with short phases.
write_matrix() {
  file=$1 node=$2
  fws=${3:-"  flask: {server: werkzeug}
  tornado: {server: tornado}"}
  cat >"$file" <<YAML
version: 1
node:
$node
load:
  cpus: "0"
defaults:
  duration: 2s
  warmup: 500ms
  spawn_rate: 1000
  think: {min: 0s, max: 0s}
  users: {start: 2, step: 4, max: 6}
  stop_when: {failures: 1}
  timeout: 5s
  ready_timeout: 20s
payloads:
  text: {path: /text, body: "Hello World!", content_type: text/plain}
  json:
    path: /json
    body: '{"test":true,"date":1553700000,"values":[1,2,3,4,5],"sub_attributes":{"attribute1":1,"attribute2":"True"}}'
    content_type: application/json
frameworks:
$fws
YAML
}

# json_get FILE EXPR: evaluates a Python expression over the JSON document `d`.
json_get() {
  $PY -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}

# No process of ours is left serving from WORKDIR.
expect_no_server() { # workdir
  left=$(pgrep -f "$1/(targets|user)/" 2>/dev/null | tr '\n' ' ')
  expect_eq "no server process left under $1" "$left" ""
}

# poll_until TIMEOUT_S CMD...: runs CMD every 0.1 s until it succeeds (0) or
# TIMEOUT_S seconds have passed (1). Bounded in time and in count.
poll_until() {
  pu_end=$(($(date +%s) + $1)) pu_max=$(($1 * 10 + 10)) pu_n=0
  shift
  while :; do
    "$@" && return 0
    pu_n=$((pu_n + 1))
    [ "$(date +%s)" -lt "$pu_end" ] && [ $pu_n -lt $pu_max ] || return 1
    sleep 0.1
  done
}

# wait_for TIMEOUT_S CMD...: poll_until, and a failed check naming CMD on timeout.
wait_for() {
  wf_t=$1
  poll_until "$@" && return 0
  shift
  bad "gave up after ${wf_t} s waiting for: $*"
  return 1
}

# nobody_bin: copies $MFBENCH (and $MFBENCHD when set) and the targets/ folder
# into $T/bin, and makes $T and $T/bin mode 755, for the checks that run them as
# nobody (setpriv): the build and the source may be in a clone nobody can
# enter (a CI checkout in a 0700 folder). The binaries link their own libraries
# statically. Sets NOBODY_MFBENCH (and NOBODY_MFBENCHD), and NOBODY_ENV, to put
# before the command after setpriv: "env MFBENCH_TARGETS=<the copy>".
nobody_bin() {
  chmod 755 "$T" && mkdir -m 755 "$T/bin" && cp "$MFBENCH" "$T/bin/mfbench" &&
    cp -R "$SRC/targets" "$T/bin/targets" && chmod -R a+rX "$T/bin" || return 1
  NOBODY_MFBENCH=$T/bin/mfbench
  NOBODY_ENV="env MFBENCH_TARGETS=$T/bin/targets"
  if [ -n "${MFBENCHD:-}" ]; then
    cp "$MFBENCHD" "$T/bin/mfbenchd" && chmod 755 "$T/bin/mfbenchd" || return 1
    NOBODY_MFBENCHD=$T/bin/mfbenchd
  fi
  # shellcheck disable=SC2034 # read by the tests that source this
  : "$NOBODY_MFBENCH" "$NOBODY_ENV" "${NOBODY_MFBENCHD:-}"
}
