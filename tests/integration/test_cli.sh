#!/bin/sh
# The CLI contract: --help and --version everywhere, exit 2 for bad usage and an
# invalid matrix with FILE:LINE:COL, clear messages on an empty store.
. "$(dirname "$0")/lib.sh"
for c in check run load history show compare report trigger status cancel; do
  expect_contains "$c --version" "$("$MFBENCH" $c --version)" "mfbench "
  "$MFBENCH" $c --help >"$T/h.txt" 2>&1
  expect_eq "$c --help exit" "$?" 0
  expect_contains "$c --help" "$(cat "$T/h.txt")" "usage: mfbench $c"
done
expect_contains "--version" "$("$MFBENCH" --version)" "mfbench "
"$MFBENCH" frobnicate 2>/dev/null; expect_eq "unknown command" "$?" 2
"$MFBENCH" check -m "$SRC/matrix.yaml" >"$T/check.txt"; expect_eq "shipped matrix valid" "$?" 0
# The shipped matrix keeps each server's cap at its default; check names them.
expect_contains "check: waitress's cap" "$(cat "$T/check.txt")" \
  "pyramid-waitress     waitress connection_limit 100 (the server's default)"
"$MFBENCH" check >/dev/null; expect_eq "embedded matrix valid" "$?" 0
printf 'version: 1\ndefaults:\n  users: {start: 10, step: 0, max: 20}\n' >"$T/bad.yaml"
err=$("$MFBENCH" check -m "$T/bad.yaml" 2>&1); rc=$?
expect_eq "invalid matrix exit" "$rc" 2
expect_contains "error names the place" "$err" "$T/bad.yaml:3:"
"$MFBENCH" check -m "$T/missing.yaml" 2>"$T/e.txt"; expect_eq "missing file exit" "$?" 2
expect_contains "missing file message" "$(cat "$T/e.txt")" "missing.yaml"
"$MFBENCH" run 2>/dev/null; expect_eq "run without cells" "$?" 2
"$MFBENCH" run nope/text 2>"$T/e.txt"; expect_eq "unknown framework exit" "$?" 2
expect_contains "unknown framework message" "$(cat "$T/e.txt")" "nope"
"$MFBENCH" run flask 2>"$T/e.txt"; expect_eq "malformed cell exit" "$?" 2
"$MFBENCH" run -p nosuchprofile flask/text 2>"$T/e.txt"; expect_eq "unknown profile exit" "$?" 2
expect_contains "unknown profile message" "$(cat "$T/e.txt")" "nosuchprofile"
expect_contains "empty store history" "$("$MFBENCH" history)" "no stored results"
"$MFBENCH" show 42 2>"$T/e.txt"; expect_eq "show unknown run exit" "$?" 1
"$MFBENCH" history --limit x 2>/dev/null; expect_eq "bad --limit" "$?" 2
# check names the database of the database payloads, and where it runs.
out=$("$MFBENCH" check -m "$SRC/tests/config/good/database.yaml")
expect_eq "check database matrix exit" "$?" 0
expect_contains "check: database" "$out" "database: postgresql local, pool 3, shared_buffers=64MB max_connections=60 synchronous_commit=off fsync=off, CPUs "
sed 's/^  provision: local/  provision: local\n  cpus: "3"/' "$SRC/tests/config/good/database.yaml" >"$T/db.yaml"
expect_contains "check: database.cpus" "$("$MFBENCH" check -m "$T/db.yaml")" "fsync=off, CPUs 3
"
finish
