#!/bin/sh
# test.sh - README command 2: install what is missing, build twice (plain, and
# with AddressSanitizer + UndefinedBehaviorSanitizer), run every suite in both,
# and end with one line "N passed, N failed". Exit status 1 on any failure.
set -u
cd "$(dirname "$0")/.."
tools/deps.sh --test || { echo "0 passed, 1 failed"; exit 1; }
# sshd needs its privilege-separation folder; the fixture starts its own sshd.
[ -d /run/sshd ] || { mkdir -p /run/sshd 2>/dev/null || sudo mkdir -p /run/sshd; }

status=0
summary=""
run_suite() { # name builddir [meson setup args...]
  name=$1 dir=$2; shift 2
  if [ ! -d "$dir" ]; then
    meson setup "$dir" "$@" >/dev/null || { status=1; return; }
  fi
  if ! meson compile -C "$dir" >"$dir.compile.log" 2>&1; then
    cat "$dir.compile.log"; status=1; return
  fi
  meson test -C "$dir" --print-errorlogs --num-processes 2 --timeout-multiplier "${TIMEOUT_MULT:-1}" \
    --no-rebuild || status=1
  summary="$summary $dir/meson-logs/testlog.json"
}
run_suite plain build-test
ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
TIMEOUT_MULT=2 run_suite sanitize build-test-asan -Db_sanitize=address,undefined -Db_lundef=false

# One closing line for CI, counted from meson's own JSON logs.
/usr/bin/python3 - $summary <<'PY'
import json, sys
passed = failed = skipped = 0
for path in sys.argv[1:]:
    try:
        lines = open(path).read().splitlines()
    except OSError:
        failed += 1
        continue
    for line in lines:
        r = json.loads(line)
        res = r.get("result")
        if res in ("OK", "EXPECTEDFAIL"):
            passed += 1
        elif res == "SKIP":
            skipped += 1
        else:
            failed += 1
            print("FAILED:", path.split("/")[0], r.get("name"), res)
print(f"{passed} passed, {failed} failed, {skipped} skipped")
sys.exit(1 if failed else 0)
PY
[ $? -eq 0 ] || status=1
exit $status
