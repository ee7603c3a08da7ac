#!/bin/sh
# The units under a real systemd: boots a container (systemd-nspawn, the host's
# /usr, the build installed with `meson install` on /usr/local), then drives
# mfbenchd.service, mfbench-nightly.service/.timer and a stop during a phase.
# Needs MFBENCH, MFBENCHD, SRC, BUILD (the build folder to install from).
. "$SRC/tests/daemon/dlib.sh"
: "${BUILD:?set BUILD to the meson build folder}"
skip() { echo "SKIP: $*" >&2; exit 77; }
[ "$(id -u)" -eq 0 ] || skip "not root: systemd-nspawn needs root"
command -v systemd-nspawn >/dev/null || skip "no systemd-nspawn (package systemd-container)"
command -v nsenter >/dev/null || skip "no nsenter (package util-linux)"
[ -x /usr/lib/systemd/systemd ] || skip "no /usr/lib/systemd/systemd to boot"

NPID="" P1=""
# in_ct [-u USER] CMD...: CMD inside the container (as USER), bounded to $TMO s.
in_ct() {
  if [ "$1" = -u ]; then
    u=$2
    shift 2
    set -- setpriv --reuid="$u" --regid="$u" --init-groups env HOME=/var/lib/mfbench "$@"
  fi
  # A sanitizer's log_path names a host folder: inside, reports go to stderr.
  timeout -k 2 "${TMO:-30}" nsenter -t "$P1" -a env -u ASAN_OPTIONS -u UBSAN_OPTIONS "$@"
}
teardown() {
  [ -n "$NPID" ] || return 0
  # nspawn powers the container off on SIGTERM; killing its PID 1 ends every
  # process of its pid namespace.
  kill -TERM "$NPID" 2>/dev/null
  if ! wait_gone "$NPID" 15; then
    [ -n "$P1" ] && kill -KILL "$P1" 2>/dev/null
    kill -KILL "$NPID" 2>/dev/null
  fi
  wait "$NPID" 2>/dev/null
  NPID=""
}
cleanup_hooks="teardown"

# The build, installed as `meson install` would on /usr/local (bound there in
# the container: /usr is the host's, read-only).
prefix=$(meson introspect --buildoptions "$BUILD" |
  $PY -c 'import json,sys; print([o["value"] for o in json.load(sys.stdin) if o["name"]=="prefix"][0])')
case "$prefix" in
  /usr | /) skip "prefix $prefix: the container's /usr is the host's; configure with the default /usr/local" ;;
esac
meson install -C "$BUILD" --destdir "$T/dest" --no-rebuild --quiet >"$T/install.log" 2>&1
expect_eq "meson install ($(tail -5 "$T/install.log"))" "$?" 0
sysconf=$(meson introspect --buildoptions "$BUILD" |
  $PY -c 'import json,sys; print([o["value"] for o in json.load(sys.stdin) if o["name"]=="sysconfdir"][0])')
case "$sysconf" in /*) ;; *) sysconf="$prefix/$sysconf" ;; esac
for f in lib/systemd/system/mfbenchd.service lib/systemd/system/mfbench-nightly.service \
  lib/systemd/system/mfbench-nightly.timer lib/sysusers.d/mfbench.conf lib/tmpfiles.d/mfbench.conf \
  bin/mfbench sbin/mfbenchd share/mfbench/targets/flask/app.py; do
  expect_eq "installed $prefix/$f" "$(test -e "$T/dest$prefix/$f" && echo yes)" yes
done

# A sanitized build: LeakSanitizer stops the world with ptrace, which the
# units' SystemCallFilter forbids (the binaries hang at exit); leak checks are
# off inside the units, ASan and UBSan stay on, their reports in the journal.
sanitize=$(meson introspect --buildoptions "$BUILD" |
  $PY -c 'import json,sys; print([o["value"] for o in json.load(sys.stdin) if o["name"]=="b_sanitize"][0])')
if [ "$sanitize" != none ]; then
  for u in mfbenchd.service mfbench-nightly.service; do
    mkdir -p "$T/dest$prefix/lib/systemd/system/$u.d"
    printf '[Service]\nEnvironment=ASAN_OPTIONS=detect_leaks=0 UBSAN_OPTIONS=print_stacktrace=1\n' \
      >"$T/dest$prefix/lib/systemd/system/$u.d/sanitizer.conf"
  done
fi

# The matrix the service reads: one framework, one payload, a default profile
# of two 2 s phases, a one-phase `nightly` and a `long` one to stop in. The
# node's workdir is not the default /tmp/mfbench-node: a mfbench on the host
# using that one would take this server (same MFBENCH_SERVER tag, visible from
# the host's pid namespace) for one of its strays and stop it.
mkdir -p "$T/dest$sysconf/mfbench"
cat >"$T/dest$sysconf/mfbench/matrix.yaml" <<YAML
version: 1
node:
  transport: local
  workdir: /var/lib/mfbench/node
  cpus: "1"
  server_port: 18080
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
frameworks:
  flask: {server: werkzeug}
profiles:
  nightly: {duration: 2s, users: {start: 2, step: 2, max: 2}}
  long: {duration: 60s, users: {start: 2, step: 2, max: 2}}
YAML
"$MFBENCH" check -m "$T/dest$sysconf/mfbench/matrix.yaml" >"$T/check.txt" 2>&1
expect_eq "the test matrix checks ($(cat "$T/check.txt"))" "$?" 0

# Boot. The host's ssh and avahi would fail without a network of their own;
# wait-online would wait for one; nginx (deps.sh --test installs nginx-light
# for runner_spread_ns, and its package enables it) would too.
masks=""
for u in ssh.service ssh.socket avahi-daemon.service avahi-daemon.socket \
  systemd-networkd-wait-online.service nginx.service; do
  masks="$masks systemd.mask=$u"
done
# shellcheck disable=SC2086 # one argument per mask
systemd-nspawn -D / --volatile=yes --register=no --keep-unit --private-network \
  --console=passive --bind-ro="$T/dest$prefix:$prefix" -b -- systemd.firstboot=off $masks \
  </dev/null >"$T/nspawn.log" 2>&1 &
NPID=$!
boot_t0=$(date +%s)
find_p1() { P1=$(pgrep -P "$NPID" -x systemd | head -1); [ -n "$P1" ]; }
booted() { # running or degraded: the boot is over
  st=$(TMO=5 in_ct systemctl is-system-running 2>/dev/null)
  [ "$st" = running ] || [ "$st" = degraded ]
}
if ! poll_until 30 find_p1 || ! poll_until 60 booted; then
  echo "systemd-nspawn output:" >&2
  cat "$T/nspawn.log" >&2
  skip "the container did not boot within 60 s (output above)"
fi
echo "container booted in $(($(date +%s) - boot_t0)) s (PID 1 is host pid $P1)" >&2
# Judge mfbench's own units only: the host's packages bring units that fail in a
# container (munge.service, for the Slurm tests' munge); name them as information.
failed=$(in_ct systemctl --failed --plain --no-legend --no-pager | awk '{print $1}')
others=$(echo "$failed" | grep -v '^mfbench' | tr '\n' ' ')
[ -z "${others% }" ] || echo "failed units at boot, not mfbench's (information only): $others" >&2
expect_eq "mfbench's failed units at boot" "$(echo "$failed" | grep '^mfbench' | tr '\n' ' ')" ""
# The container's private /dev with the modes a host has.
in_ct sh -c 'chmod 0666 /dev/null /dev/zero /dev/full /dev/random /dev/urandom /dev/tty; chmod 1777 /dev/shm'

# sysusers and tmpfiles, as a package's postinst would.
in_ct systemd-sysusers >"$T/sysusers.txt" 2>&1
expect_eq "systemd-sysusers ($(cat "$T/sysusers.txt"))" "$?" 0
in_ct systemd-tmpfiles --create mfbench.conf >"$T/tmpfiles.txt" 2>&1
expect_eq "systemd-tmpfiles --create ($(cat "$T/tmpfiles.txt"))" "$?" 0
expect_eq "user mfbench" "$(in_ct id -un mfbench)" mfbench
expect_eq "/var/lib/mfbench" "$(in_ct stat -c '%U %G %a' /var/lib/mfbench)" "mfbench mfbench 750"
in_ct systemctl daemon-reload

# The daemon, as the unit ships it.
in_ct systemctl start mfbenchd.service >"$T/start.txt" 2>&1
expect_eq "systemctl start mfbenchd ($(cat "$T/start.txt"))" "$?" 0
expect_eq "mfbenchd active" "$(in_ct systemctl is-active mfbenchd.service)" active
mpid=$(in_ct systemctl show -P MainPID mfbenchd.service)
expect_eq "mfbenchd runs as mfbench" "$(in_ct ps -o user= -p "$mpid" | tr -d ' ')" mfbench
expect_eq "control socket" "$(in_ct stat -c '%U %a' /run/mfbench/control.sock)" "mfbench 660"

# One cell, triggered as the mfbench user, measured in the store.
in_ct -u mfbench /usr/local/bin/mfbench trigger --wait flask/text \
  --socket /run/mfbench/control.sock >"$T/trigger.txt" 2>&1
expect_eq "trigger --wait flask/text ($(cat "$T/trigger.txt"))" "$?" 0
in_ct /usr/local/bin/mfbench show 1 --json --store /var/lib/mfbench/results.db >"$T/run1.json" 2>&1
expect_eq "run 1 status" "$(json_get "$T/run1.json" 'd["run"]["status"]')" ok
expect_eq "run 1 cell" "$(json_get "$T/run1.json" 'd["cells"][0]["status"]')" ok
expect_eq "run 1 phases" "$(json_get "$T/run1.json" 'len(d["cells"][0]["phases"])')" 2
expect_eq "server CPU and RSS in every phase" \
  "$(json_get "$T/run1.json" 'all((p["server"]["cpu_pct"] or -1) > 0 and (p["server"]["rss_max_kb"] or -1) > 1000 for p in d["cells"][0]["phases"])')" True
echo "run 1 phases (server): $(json_get "$T/run1.json" '[p["server"] for p in d["cells"][0]["phases"]]')" >&2

# The nightly service on the same matrix (its `nightly` profile), and the timer.
TMO=120 in_ct systemctl start mfbench-nightly.service >"$T/nightly.txt" 2>&1
expect_eq "mfbench-nightly.service ($(cat "$T/nightly.txt"))" "$?" 0
expect_eq "nightly result" "$(in_ct systemctl show -P Result mfbench-nightly.service)" success
in_ct /usr/local/bin/mfbench show 2 --json --store /var/lib/mfbench/results.db >"$T/run2.json" 2>&1
expect_eq "run 2 is the nightly" "$(json_get "$T/run2.json" 'd["run"]["trigger"]')" nightly
expect_eq "run 2 status" "$(json_get "$T/run2.json" 'd["run"]["status"]')" ok
in_ct systemctl start mfbench-nightly.timer
in_ct systemctl list-timers --all --no-pager >"$T/timers.txt" 2>&1
expect_contains "list-timers" "$(cat "$T/timers.txt")" "mfbench-nightly.timer"

# The exposure level from the running manager.
in_ct systemd-analyze security --no-pager mfbenchd.service >"$T/sec.txt" 2>&1
level=$(sed -n 's/.*Overall exposure level for mfbenchd.service: \([0-9.]*\).*/\1/p' "$T/sec.txt")
echo "systemd-analyze security mfbenchd.service (live): $(grep 'Overall exposure' "$T/sec.txt")" >&2
expect_eq "exposure level $level <= 2.5" "$(awk -v l="$level" 'BEGIN{print (l != "" && l <= 2.5) ? "yes" : "no"}')" yes

# A stop while a phase runs: within TimeoutStopSec, no server left.
in_ct -u mfbench /usr/local/bin/mfbench trigger -p long flask/text \
  --socket /run/mfbench/control.sock >"$T/trigger3.txt" 2>&1
expect_eq "trigger -p long ($(cat "$T/trigger3.txt"))" "$?" 0
server_up() { in_ct pgrep -f "/targets/flask/" >/dev/null; }
phase_running() { # a phase row is not written yet; the status shows one running
  in_ct /usr/local/bin/mfbench status --socket /run/mfbench/control.sock 2>/dev/null | grep -q "phase [0-9]*: users"
}
wait_for 60 server_up
wait_for 30 phase_running
sleep 2
stop_t0=$(date +%s)
TMO=40 in_ct systemctl stop mfbenchd.service
stop_s=$(($(date +%s) - stop_t0))
echo "systemctl stop mfbenchd took $stop_s s during a phase" >&2
expect_eq "stopped within TimeoutStopSec=15s (took $stop_s s)" "$([ "$stop_s" -le 16 ] && echo yes)" yes
expect_eq "mfbenchd result" "$(in_ct systemctl show -P Result mfbenchd.service)" success
expect_eq "no server left" "$(in_ct pgrep -af '/targets/' | tr '\n' ' ')" ""
in_ct journalctl -u mfbenchd.service --no-pager -o cat >"$T/journal.txt" 2>&1
# The daemon stopped its server itself: systemd had nothing left to kill.
expect_eq "systemd killed nothing left over" "$(grep -i 'killing process\|left-over process' "$T/journal.txt")" ""
in_ct /usr/local/bin/mfbench show 3 --json --store /var/lib/mfbench/results.db >"$T/run3.json" 2>&1
expect_eq "run 3 (stopped mid-phase) in the store" "$(json_get "$T/run3.json" 'd["run"]["status"]')" interrupted
expect_eq "no phase without server figures" "$(grep 'server figures unknown' "$T/journal.txt")" ""
in_ct journalctl -u mfbenchd.service -u mfbench-nightly.service --no-pager -o cat >"$T/journal.txt" 2>&1
if grep -q "Sanitizer\|runtime error" "$T/journal.txt"; then
  bad "sanitizer report from mfbenchd: $(grep -A12 "Sanitizer\|runtime error" "$T/journal.txt" | head -30)"
fi
if [ "$fails" -ne 0 ]; then
  echo "the journal of mfbenchd and mfbench-nightly:" >&2
  in_ct journalctl -u mfbenchd.service -u mfbench-nightly.service --no-pager -o cat | tail -60 >&2
fi
finish
