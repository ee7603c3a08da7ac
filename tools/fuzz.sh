#!/bin/sh
# fuzz.sh - builds the libFuzzer harnesses (tests/fuzz/) with clang, ASan and
# UBSan in their own build folder and runs each for a bounded time, one after
# the other, one process each. A crash (or leak, timeout, OOM) is copied to the
# findings folder, its log's end printed, and the exit status is 1.
# Usage: tools/fuzz.sh [SECONDS] [NAME...]
#   SECONDS  per fuzzer (default 60; 0 = until interrupted or a crash)
#   NAME     http, control, config (default: all three)
# Environment: FUZZ_BUILD (build folder, default build-fuzz), FUZZ_FINDINGS
# (default $FUZZ_BUILD/findings), FUZZ_ARGS (more libFuzzer flags, e.g.
# -jobs=2), FUZZ_RESULTS (a file that gets one JSON line per fuzzer in the shape
# of meson's testlog.json, for tools/test.sh). Exit 0 all ran clean, 1 a fuzzer
# failed, 2 bad usage or the build failed.
set -u
cd "$(dirname "$0")/.." || exit 2
usage() { sed -n '6,9p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

secs=60
case "${1:-}" in
  '') ;;
  -h | --help) usage ;;
  *[!0-9]*) usage ;;
  *) secs=$1; shift ;;
esac
names=${*:-http control config events}
for n in $names; do
  case "$n" in http | control | config | events) ;; *) echo "fuzz.sh: unknown fuzzer '$n'" >&2; usage ;; esac
done
build=${FUZZ_BUILD:-build-fuzz}
findings=${FUZZ_FINDINGS:-$build/findings}
results=${FUZZ_RESULTS:-}
[ -z "$results" ] || : >"$results" || exit 2

# record NAME RESULT RETURNCODE TEXT: one testlog.json line into $FUZZ_RESULTS.
record() {
  [ -n "$results" ] || return 0
  /usr/bin/python3 -c 'import json, sys
print(json.dumps({"name": "fuzz_" + sys.argv[1], "result": sys.argv[2],
                  "returncode": int(sys.argv[3]), "stderr": sys.argv[4]}))' "$@" >>"$results"
}
# build_failed WHAT LOG: every fuzzer asked for counts as failed.
build_failed() {
  echo "== fuzz: $1; the end of $2:" >&2
  tail -n 30 "$2" >&2
  for n in $names; do record "$n" FAIL 2 "$1 (see $2)"; done
  exit 2
}

command -v clang >/dev/null 2>&1 || build_failed "clang is not installed (tools/deps.sh --test)" /dev/null
if [ ! -f "$build/build.ninja" ]; then
  rm -rf "$build"
  mkdir -p "$(dirname "$build")"
  CC=clang meson setup "$build" -Dfuzz=true -Db_sanitize=address,undefined -Db_lundef=false \
    >"$build.setup.log" 2>&1 || build_failed "meson setup failed" "$build.setup.log"
fi
targets=""
for n in $names; do targets="$targets fuzz_$n"; done
# shellcheck disable=SC2086 # one target per word
meson compile -C "$build" $targets >"$build.compile.log" 2>&1 ||
  build_failed "meson compile failed" "$build.compile.log"

# A finding aborts at once (UBSan too) and prints its stack.
ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:allocator_may_return_null=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
export ASAN_OPTIONS UBSAN_OPTIONS

status=0
for n in $names; do
  work="$build/corpus/$n" # grows from run to run; the seeds stay as committed
  mkdir -p "$work" "$findings/$n" || exit 2
  seeds="tests/fuzz/$n/corpus"
  case "$n" in
    http) max_len=8192 ;;
    control) max_len=4096 ;;
    events) max_len=16384 ;;
    config) max_len=16384 seeds="$seeds tests/config/fuzz tests/config/good tests/config/bad" ;;
  esac
  dict="tests/fuzz/$n/dict" # tokens of the format, for the mutator
  log="$build/fuzz-$n.log"
  before=$(ls "$findings/$n" | wc -l)
  echo "== fuzz_$n: ${secs}s, corpus $work, findings $findings/$n" >&2
  # shellcheck disable=SC2086 # FUZZ_ARGS and seeds are lists of words
  "$build/tests/fuzz/fuzz_$n" -max_total_time="$secs" -timeout=10 -rss_limit_mb=1024 \
    -max_len="$max_len" -dict="$dict" -print_final_stats=1 -artifact_prefix="$findings/$n/" \
    ${FUZZ_ARGS:-} "$work" $seeds >"$log" 2>&1
  rc=$?
  after=$(ls "$findings/$n" | wc -l)
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  if [ "$rc" -eq 0 ] && [ "$after" -eq "$before" ]; then
    echo "   ok: ${runs:-?} inputs, no finding" >&2
    record "$n" OK 0 "${runs:-?} inputs in ${secs}s, no finding"
  else
    status=1
    echo "== fuzz_$n FAILED (exit $rc); new in $findings/$n:" >&2
    ls -t "$findings/$n" | head -n $((after - before > 0 ? after - before : 1)) >&2
    echo "-- the end of $log:" >&2
    tail -n 40 "$log" >&2
    echo "-- reproduce: $build/tests/fuzz/fuzz_$n FILE; once fixed, add FILE to tests/fuzz/$n/corpus/" >&2
    record "$n" FAIL "$rc" "$(tail -n 40 "$log")"
  fi
done
exit "$status"
