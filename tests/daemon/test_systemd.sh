#!/bin/sh
# The systemd units: `systemd-analyze verify` passes (with the built binaries in
# place of the installed ones), and mfbenchd.service rates 2.5 or lower in
# `systemd-analyze security --offline=true`.
. "$SRC/tests/daemon/dlib.sh"
command -v systemd-analyze >/dev/null || { echo "SKIP: no systemd-analyze" >&2; exit 77; }
mkdir -p "$T/units"
for f in mfbenchd.service mfbench-nightly.service; do
  sed -e "s|@sbindir@/mfbenchd|$MFBENCHD|; s|@bindir@/mfbench|$MFBENCH|; s|@sysconfdir@|/etc|" \
    "$UNITS/$f.in" >"$T/units/$f"
done
cp "$UNITS/mfbench-nightly.timer" "$T/units/"
expect_eq "no placeholder left" "$(cat "$T/units/"*.service | grep -c "@[a-z]*@")" 0
systemd-analyze verify --man=no "$T/units/mfbenchd.service" "$T/units/mfbench-nightly.service" \
  "$T/units/mfbench-nightly.timer" >"$T/verify.txt" 2>&1
expect_eq "systemd-analyze verify ($(cat "$T/verify.txt"))" "$?" 0
expect_eq "verify says nothing" "$(grep -v 'Failed to connect\|not running\|not been booted' "$T/verify.txt")" ""
if systemd-analyze security --help 2>&1 | grep -q -- --offline; then
  systemd-analyze security --offline=true --no-pager "$T/units/mfbenchd.service" >"$T/sec.txt" 2>&1
  level=$(sed -n 's/.*Overall exposure level for mfbenchd.service: \([0-9.]*\).*/\1/p' "$T/sec.txt")
  expect_eq "exposure level found" "$(test -n "$level" && echo yes)" yes
  expect_eq "exposure level $level <= 2.5" "$(awk -v l="$level" 'BEGIN{print (l != "" && l <= 2.5) ? "yes" : "no"}')" yes
fi
grep -q '^Type=notify' "$T/units/mfbenchd.service"; expect_eq "Type=notify" "$?" 0
grep -q '^User=mfbench' "$T/units/mfbenchd.service"; expect_eq "own user" "$?" 0
grep -q '^OnCalendar=\*-\*-\* 02:00:00' "$T/units/mfbench-nightly.timer"; expect_eq "02:00" "$?" 0
grep -q '^Persistent=true' "$T/units/mfbench-nightly.timer"; expect_eq "Persistent" "$?" 0
finish
