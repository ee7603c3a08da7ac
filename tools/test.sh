#!/bin/sh
# test.sh - README command 2: install what is missing, build twice (plain, and
# with AddressSanitizer + UndefinedBehaviorSanitizer), run every test once (the
# suites timing and stacks in the plain build, every other under ASan+UBSan),
# run the daemon's and the load engine's tests under ThreadSanitizer (a third,
# partial build), run each libFuzzer harness for a bounded time
# (tools/fuzz.sh), and end with one line "N passed, N failed, N skipped".
# Exit status 1 on any failure.
# A build that does not set up or compile counts as one failed test; so does a
# build that ran no test, a missing test log, and each sanitizer report.
# MFBENCH_TEST_ARGS (optional) is passed to `meson test`: test names or --suite X.
set -u
cd "$(dirname "$0")/.." || exit 1
# Each stage prints its wall time, so CI's log shows where the time goes.
t_start=$(date +%s) t_stage=$(date +%s)
stage_done() { echo "== $1: $(($(date +%s) - t_stage)) s (total $(($(date +%s) - t_start)) s)"; }
tools/deps.sh --test || { echo "tools/deps.sh --test failed"; echo "0 passed, 1 failed, 0 skipped"; exit 1; }
# sshd needs its privilege-separation folder; the fixture starts its own sshd.
[ -d /run/sshd ] || { mkdir -p /run/sshd 2>/dev/null || sudo mkdir -p /run/sshd; }
stage_done "packages"

# Each suite adds NAME=LOG (a meson testlog.json) or NAME!why to the list counted below.
results=""
run_suite() { # name builddir [meson setup args...]
  name=$1 dir=$2; shift 2
  if [ ! -f "$dir/build.ninja" ]; then
    rm -rf "$dir"
    if ! meson setup "$dir" "$@" >"$dir.setup.log" 2>&1; then
      echo "== $name: meson setup failed; the end of $dir.setup.log:"
      tail -n 30 "$dir.setup.log"
      results="$results $name!setup"
      return
    fi
  fi
  if ! meson compile -C "$dir" >"$dir.compile.log" 2>&1; then
    echo "== $name: meson compile failed; the end of $dir.compile.log:"
    tail -n 40 "$dir.compile.log"
    results="$results $name!compile"
    return
  fi
  # A log left by an earlier run must not be counted as this one's.
  rm -f "$dir/meson-logs/testlog.json"
  # shellcheck disable=SC2086 # MFBENCH_TEST_ARGS is a list of words on purpose
  meson test -C "$dir" --print-errorlogs --num-processes 2 --timeout-multiplier "${TIMEOUT_MULT:-1}" \
    --no-rebuild ${SUITE_ARGS:-} ${MFBENCH_TEST_ARGS:-}
  results="$results $name=$dir/meson-logs/testlog.json"
}

# Every test runs once, in the strictest build it can run in: under ASan+UBSan
# (below), but for the suites `timing` (known answers that judge time, which
# the sanitizers' slowdown would skew) and `stacks` (all_stacks, one cell per stack:
# the same C paths as run_local and run_ssh, 15 times over), which run here in
# the plain build, and `nosan`: tests with no C code of their own under test
# (targets, targets_db: Python; slurm_cluster: the fixture's shell) or whose C
# paths another test runs under the sanitizers (slurm_alloc_timelimit sleeps a
# minute for Slurm's time limit on node/slurm.c, which slurm_alloc covers; pip,
# whose venv-through-pip path pip_mixed covers; held_limits, whose held search
# held_plan and held_caps cover); the parallel ones fill the second slot while
# all_stacks runs. Named tests (MFBENCH_TEST_ARGS) run in both.
if [ -n "${MFBENCH_TEST_ARGS:-}" ]; then plain_args=""; else plain_args="--suite timing --suite stacks --suite nosan"; fi
t_stage=$(date +%s)
SUITE_ARGS=$plain_args run_suite plain build-test
stage_done "plain build, suites timing, stacks and nosan"

# The release build (what tools/quickstart.sh builds, -O3) must compile too:
# its optimiser sees warnings (-Wformat-truncation) the debug build does not.
# One test: passed when it compiles.
t_stage=$(date +%s)
rm -rf build-test-release
if meson setup build-test-release --buildtype=release >build-test-release.setup.log 2>&1 &&
  meson compile -C build-test-release >build-test-release.compile.log 2>&1; then
  results="$results release+compile"
else
  echo "== release: setup or compile failed; the end of its log:"
  tail -n 40 build-test-release.compile.log 2>/dev/null || tail -n 30 build-test-release.setup.log
  results="$results release!compile"
fi
stage_done "release build"

# Sanitizer findings exit with codes no test expects (86 ASan and LSan, 87
# UBSan), and each report is also written under $san so that one in a process
# whose status a test ignores still fails the run. Exported: meson passes its
# environment to the tests, and they to mfbench and mfbenchd. The folder is
# world-writable: a test runs mfbench as nobody.
san=$(mktemp -d /tmp/mfbench-san.XXXXXX) || { echo "mktemp failed"; echo "0 passed, 1 failed, 0 skipped"; exit 1; }
chmod 1777 "$san"
ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:exitcode=86:log_path=$san/asan"
UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:exitcode=87:log_path=$san/ubsan"
export ASAN_OPTIONS UBSAN_OPTIONS
# The sanitizer build runs every test but the suites the plain build ran:
# `timing` (an M/D/1 queue's p99, whose C paths slo_lossy runs here) and
# `stacks` (all_stacks, whose C paths run_local and run_ssh run here).
t_stage=$(date +%s)
SUITE_ARGS="--no-suite stacks --no-suite timing --no-suite nosan" TIMEOUT_MULT=2 \
  run_suite sanitize build-test-asan -Db_sanitize=address,undefined -Db_lundef=false
stage_done "ASan+UBSan build, every other suite"
unset ASAN_OPTIONS UBSAN_OPTIONS
for f in "$san"/*; do
  [ -f "$f" ] && results="$results sanitize~$f"
done

# ThreadSanitizer: the tests of the parts whose threads share state, the
# daemon (its worker against `status` and the loop) and the load engine (its
# loops), so the next data race fails here. Only these tests and what they
# link are built (`meson test` NAME rebuilds just that), which keeps this third
# build to a minute or so. A report exits 66, and is also written under $tsan.
t_stage=$(date +%s)
TSAN_TESTS="daemon_ctl daemon_jobs runner_hist runner_http runner_offered runner_engine"
tsan=$(mktemp -d /tmp/mfbench-tsan.XXXXXX) || { echo "mktemp failed"; echo "0 passed, 1 failed, 0 skipped"; exit 1; }
if [ ! -f build-test-tsan/build.ninja ]; then
  rm -rf build-test-tsan
  meson setup build-test-tsan -Db_sanitize=thread >build-test-tsan.setup.log 2>&1 ||
    { echo "== tsan: meson setup failed; the end of build-test-tsan.setup.log:";
      tail -n 30 build-test-tsan.setup.log; results="$results tsan!setup"; }
fi
if [ -f build-test-tsan/build.ninja ]; then
  rm -f build-test-tsan/meson-logs/testlog.json
  # shellcheck disable=SC2086 # a list of test names on purpose
  TSAN_OPTIONS="halt_on_error=1:exitcode=66:log_path=$tsan/tsan" \
    meson test -C build-test-tsan --print-errorlogs --num-processes 2 \
    --timeout-multiplier "${TIMEOUT_MULT:-2}" $TSAN_TESTS
  results="$results tsan=build-test-tsan/meson-logs/testlog.json"
fi
for f in "$tsan"/*; do
  [ -f "$f" ] && results="$results tsan~$f"
done
stage_done "ThreadSanitizer build"

# The fuzzers (tools/fuzz.sh: clang, ASan+UBSan, folder build-fuzz), FUZZ_SECONDS
# (default 8) each; each counts as one test: a finding fails it, a build that
# fails fails all three, and no result line (bad FUZZ_SECONDS) fails the suite.
# FUZZ_SECONDS=0 leaves them out.
t_stage=$(date +%s)
if [ "${FUZZ_SECONDS:-8}" != 0 ]; then
  rm -f build-fuzz.results.json
  FUZZ_RESULTS=build-fuzz.results.json tools/fuzz.sh "${FUZZ_SECONDS:-8}"
  results="$results fuzz=build-fuzz.results.json"
fi
stage_done "libFuzzer"

# One closing line for CI, counted from meson's own JSON logs.
# shellcheck disable=SC2086 # one argument per suite result
/usr/bin/python3 - $results <<'PY'
import json, sys
passed = failed = skipped = 0
skips = []


def fail(suite, what):
    global failed
    failed += 1
    print(f"FAILED: {suite}: {what}")


def reason(r):
    """The last line a skipped test printed (stderr first): its reason."""
    for field in ("stderr", "stdout"):
        lines = [l for l in (r.get(field) or "").splitlines() if l.strip()]
        if lines:
            last = lines[-1].strip()
            return last[5:].strip() if last.startswith("SKIP:") else last
    return "(no reason printed)"


for arg in sys.argv[1:]:
    if "~" in arg:  # a sanitizer report file
        suite, path = arg.split("~", 1)
        try:
            text = open(path, errors="replace").read()
        except OSError as e:
            text = str(e)
        fail(suite, f"sanitizer report {path}:\n{text[:4000]}")
        continue
    if "+" in arg:  # a build that compiled (the release build: no tests of its own)
        passed += 1
        continue
    if "!" in arg:  # a build that did not set up or compile
        suite, stage = arg.split("!", 1)
        fail(suite, f"meson {stage} failed (its log's end is printed above)")
        continue
    suite, path = arg.split("=", 1)
    try:
        lines = [l for l in open(path).read().splitlines() if l.strip()]
    except OSError as e:
        fail(suite, f"no test log: {e}")
        continue
    if not lines:
        fail(suite, f"no test ran ({path} is empty)")
        continue
    for line in lines:
        try:
            r = json.loads(line)
        except ValueError:
            fail(suite, f"unreadable line in {path}: {line[:200]}")
            continue
        res = r.get("result")
        if res in ("OK", "EXPECTEDFAIL"):
            passed += 1
        elif res == "SKIP":
            skipped += 1
            skips.append(f"{suite}: {r.get('name')}: {reason(r)}")
        else:
            # CI keeps the end of the log: the failing checks' own lines go here too.
            out = [l for l in ((r.get("stdout") or "") + "\n" + (r.get("stderr") or "")).splitlines()
                   if l.strip()]
            tail = "\n".join("    " + l[:300] for l in out[-12:])
            fail(suite, f"{r.get('name')} {res} (exit {r.get('returncode')}); its last lines:\n{tail}")
for s in skips:
    print("SKIPPED:", s)
print(f"{passed} passed, {failed} failed, {skipped} skipped")
sys.exit(1 if failed else 0)
PY
status=$?
rm -rf "$san" "$tsan"
[ "$status" -eq 0 ] || exit 1
exit 0
