#!/bin/sh
# Guards around `mfbench run` (issue 13, item 5), through the binary on a local
# node serving target.py: a FIFO as matrix is refused at once; --store and --csv
# into a missing folder fail before any work and create nothing; a second run
# on the same store or node fails at once naming the first's run and pid (or
# waits with --wait-lock); a run killed by SIGKILL is repaired (interrupted) by
# the next open; a write error mid-run (a file size limit put on the running
# process with prlimit) ends the run interrupted with the later cells stored as
# not run. As root, all of it again as nobody (setpriv), with a copy of the
# binary in a folder nobody can read.
. "$SRC/tests/methodology/mlib.sh"
command -v sqlite3 >/dev/null || { echo "SKIP: sqlite3 (the CLI) not found" >&2; exit 77; }
command -v prlimit >/dev/null || { echo "SKIP: prlimit (util-linux) not found" >&2; exit 77; }
chmod 755 "$T"
# Each run is bounded by `timeout`; SIGTERM first, then mfbench's own stop.
TO="timeout -k 10 120"

# write_m DIR PORT: a matrix in DIR (node workdir DIR/node, server port PORT),
# three cells of a target that answers everything, and a profile of many levels.
write_m() {
  mkdir -p "$1/tgt"
  cp "$SRC/tests/methodology/target.py" "$1/tgt/"
  cat >"$1/m.yaml" <<YAML
version: 1
node:
  transport: local
  workdir: $1/node
  cpus: "1"
  server_port: $2
load:
  cpus: "0"
defaults:
  duration: 1s
  warmup: 0s
  spawn_rate: 10000
  think: {min: 0s, max: 0s}
  users: {start: 2, step: 2, max: 4}
  refine: 0
  timeout: 2s
  ready_timeout: 20s
payloads:
  text: {path: /text, body: "Hello World!", content_type: text/plain}
frameworks:
  a: {start: "$start --mode rate --rate 100000", dir: ./tgt}
  b: {start: "$start --mode rate --rate 100000", dir: ./tgt}
  c: {start: "$start --mode rate --rate 100000", dir: ./tgt}
profiles:
  long: {users: {start: 2, step: 2, max: 16}}
YAML
}

# q DB SQL: a query, as the suite's user (no -wal or -shm file of root's in nobody's folder).
q() { $who sqlite3 -cmd '.timeout 5000' "$@"; }
has_phase() { [ -n "$(q "$1" "SELECT 1 FROM phases LIMIT 1" 2>/dev/null)" ]; }
has_running() { [ -n "$(q "$1" "SELECT owner_pid FROM runs WHERE status = 'running'" 2>/dev/null)" ]; }

# suite WHO DIR: WHO is "" (this user) or "setpriv ..."; DIR a folder WHO owns.
suite() {
  who=$1 d=$2 tag=${1:+nobody: } mf=$MFBENCH uname=$(id -un)
  [ -z "$who" ] || mf=$NOBODY_MFBENCH uname=nobody
  p2=$(free_port)
  write_m "$d/one" "$port"
  write_m "$d/two" "$p2"
  [ -z "$who" ] || chown -R 65534:65534 "$d"
  export XDG_RUNTIME_DIR="$d/run"
  $who mkdir -m 700 -p "$XDG_RUNTIME_DIR"

  # 1. A FIFO as matrix: refused at once, for check and for run.
  $who mkfifo "$d/fifo.yaml"
  for cmd in check run; do
    set -- -m "$d/fifo.yaml"
    [ $cmd = run ] && set -- "$@" --store "$d/fifo.db" a/text
    timeout 5 $who "$mf" $cmd "$@" >"$d/out" 2>"$d/err"
    expect_eq "${tag}$cmd -m FIFO: exit status ($(cat "$d/err"))" "$?" 2
    expect_contains "${tag}$cmd -m FIFO: message" "$(cat "$d/err")" "fifo.yaml: not a regular file"
  done

  # 2. --store into a missing folder: an error naming it, nothing created.
  $who "$mf" run -m "$d/one/m.yaml" --store "$d/missing/dir/x.db" a/text >"$d/out" 2>"$d/err"
  expect_eq "${tag}--store missing folder: exit status" "$?" 2
  expect_contains "${tag}--store missing folder: message" "$(cat "$d/err")" "$d/missing/dir: No such file"
  [ ! -e "$d/missing" ] && ok || bad "${tag}--store created $d/missing"
  expect_eq "${tag}--store missing folder: no server started" "$(ls "$d/one/node" 2>/dev/null)" ""
  # a store that is a folder or a FIFO is no store either
  $who "$mf" run -m "$d/one/m.yaml" --store "$d/fifo.yaml" a/text >"$d/out" 2>"$d/err"
  expect_eq "${tag}--store FIFO: exit status" "$?" 2
  expect_contains "${tag}--store FIFO: message" "$(cat "$d/err")" "not a regular file"

  # 3. --csv into a missing folder: refused before the (20 s) load phase.
  t0=$(date +%s)
  $who "$mf" load "http://127.0.0.1:$p2/" -d 20s --csv "$d/nodir/out" >"$d/out" 2>"$d/err"
  expect_eq "${tag}--csv missing folder: exit status" "$?" 2
  expect_contains "${tag}--csv missing folder: message" "$(cat "$d/err")" "$d/nodir: No such file"
  [ $(($(date +%s) - t0)) -lt 10 ] && ok || bad "${tag}--csv: the load ran before the check"
  [ ! -e "$d/nodir" ] && ok || bad "${tag}--csv created $d/nodir"

  # 4. Two runs at once. The first: many levels, in the background.
  db="$d/results.db"
  $who $TO "$mf" run -m "$d/one/m.yaml" -p long --store "$db" -q a/text \
    >"$d/first.out" 2>"$d/first.err" &
  first=$!
  # $! is timeout's pid; the run's is its child's.
  wait_for 30 has_phase "$db"
  mpid=$(q "$db" "SELECT owner_pid FROM runs WHERE status = 'running'")
  rid=$(q "$db" "SELECT id FROM runs WHERE status = 'running'")
  [ -n "$mpid" ] && kill -0 "$mpid" 2>/dev/null && ok || bad "${tag}first run's pid ($mpid) not recorded"
  # 4a. The same store, another node: store busy, at once.
  t0=$(date +%s)
  $who $TO "$mf" run -m "$d/two/m.yaml" --store "$db" a/text >"$d/out" 2>"$d/err"
  expect_eq "${tag}same store: exit status ($(cat "$d/err"))" "$?" 1
  expect_contains "${tag}same store: message" "$(cat "$d/err")" "store busy: run $rid (pid $mpid)"
  [ $(($(date +%s) - t0)) -lt 10 ] && ok || bad "${tag}same store: did not fail at once"
  # 4b. Another store, the same node: node busy, at once; its store gets no run.
  $who $TO "$mf" run -m "$d/one/m.yaml" --store "$d/other.db" a/text >"$d/out" 2>"$d/err"
  expect_eq "${tag}same node: exit status ($(cat "$d/err"))" "$?" 1
  expect_contains "${tag}same node: message" "$(cat "$d/err")" "node busy: run $rid (pid $mpid, user $uname)"
  expect_eq "${tag}same node: no run stored" "$(q "$d/other.db" "SELECT count(*) FROM runs")" 0
  expect_eq "${tag}same store: the first run still runs" \
    "$(q "$db" "SELECT status FROM runs WHERE id = $rid")" running
  # 4c. With --wait-lock: waits for the first, then runs.
  $who $TO "$mf" run -m "$d/one/m.yaml" --store "$db" --wait-lock 100 -q a/text \
    >"$d/third.out" 2>"$d/third.err"
  expect_eq "${tag}--wait-lock: exit status ($(tail -3 "$d/third.err"))" "$?" 0
  wait "$first"
  expect_eq "${tag}first run: exit status ($(tail -3 "$d/first.err"))" "$?" 0
  expect_eq "${tag}first run: ok" "$(q "$db" "SELECT status FROM runs WHERE id = $rid")" ok
  expect_eq "${tag}--wait-lock: began after the first ended" \
    "$(q "$db" "SELECT (SELECT started_at FROM runs WHERE id = $rid + 1) >= finished_at FROM runs WHERE id = $rid")" 1

  # 5. A run killed by SIGKILL stays "running" until the next open repairs it.
  $who $TO "$mf" run -m "$d/one/m.yaml" -p long --store "$db" -q a/text >/dev/null 2>&1 &
  bg=$!
  wait_for 30 has_running "$db"
  kpid=$(q "$db" "SELECT owner_pid FROM runs WHERE status = 'running'")
  krid=$(q "$db" "SELECT id FROM runs WHERE status = 'running'")
  [ -n "$kpid" ] && kill -KILL "$kpid"
  wait "$bg"
  expect_eq "${tag}killed: left running" "$(q "$db" "SELECT status FROM runs WHERE id = $krid")" running
  $who "$mf" history --store "$db" >/dev/null 2>&1
  expect_eq "${tag}killed: repaired by the next open" \
    "$(q "$db" "SELECT status FROM runs WHERE id = $krid")" interrupted

  # 6. A write error mid-run: after the first stored phase the run's files may
  #    not grow (RLIMIT_FSIZE at the WAL's size; mfbench ignores SIGXFSZ, so
  #    write(2) fails with EFBIG as it would with ENOSPC on a full disk).
  wdb="$d/werr.db"
  $who $TO "$mf" run -m "$d/one/m.yaml" -p long --store "$wdb" -q a/text b/text c/text \
    >"$d/werr.out" 2>"$d/werr.err" &
  bg=$!
  wait_for 30 has_phase "$wdb"
  wpid=$(q "$wdb" "SELECT owner_pid FROM runs WHERE status = 'running'")
  $who prlimit --pid "$wpid" --fsize="$(stat -c %s "$wdb-wal")"
  expect_eq "${tag}write error: prlimit" "$?" 0
  wait "$bg"
  expect_eq "${tag}write error: exit status ($(tail -3 "$d/werr.err"))" "$?" 1
  err=$(cat "$d/werr.err")
  expect_contains "${tag}write error: names the store" "$err" "mfbench: $wdb: "
  expect_contains "${tag}write error: says the error" "$err" "disk I/O error (a write failed"
  expect_contains "${tag}write error: says what became of the run" "$err" \
    "marked interrupted in the store, with the cells not run: b/text, c/text"
  expect_eq "${tag}write error: run interrupted" "$(q "$wdb" "SELECT status FROM runs")" interrupted
  expect_eq "${tag}write error: every cell listed, none running" \
    "$(q "$wdb" "SELECT group_concat(framework || ':' || status, ' ') FROM (SELECT * FROM cells ORDER BY seq)")" \
    "a:interrupted b:interrupted c:interrupted"
  expect_contains "${tag}write error: cells not run say so" \
    "$(q "$wdb" "SELECT error FROM cells WHERE framework = 'c'")" "not run: the run stopped at an error"
  expect_eq "${tag}write error: integrity" "$(q "$wdb" "PRAGMA integrity_check")" ok
  expect_no_server "$d/one/node"
  expect_no_server "$d/two/node"
}

suite "" "$T/me"
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
  # nobody runs a copy of the binary: this build may be in a folder nobody
  # cannot enter (a CI clone in a 0700 folder).
  nobody_bin || { bad "copying the binary for nobody"; finish; }
  mkdir -p "$T/nobody"
  chown 65534:65534 "$T/nobody"
  suite "setpriv --reuid=65534 --regid=65534 --clear-groups $NOBODY_ENV" "$T/nobody"
else
  echo "note: the unprivileged pass needs root and setpriv; ran as uid $(id -u) only" >&2
fi
finish
