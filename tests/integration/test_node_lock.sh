#!/bin/sh
# The node lock excludes everyone who drives the node (issue 21 item 6): root's
# `mfbench run` and nobody's (setpriv), each with its own store and workdir, on
# the same local node and server port: the second is refused at once, naming
# the first's run, pid and user; then the other way round. The lock file is
# node-wide (/run/lock, else /tmp): a symbolic link planted in its place, and
# another user's file this user cannot write, are refused with a message.
. "$SRC/tests/methodology/mlib.sh"
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root, to run a second user with setpriv" >&2; exit 77; }
command -v setpriv >/dev/null || { echo "SKIP: setpriv (util-linux) not found" >&2; exit 77; }
command -v sqlite3 >/dev/null || { echo "SKIP: sqlite3 (the CLI) not found" >&2; exit 77; }
nobody_bin || { bad "copying the binaries for nobody"; finish; }
# nobody with a home of its own, as a second person on the machine would have.
mkdir -m 700 "$T/home" && chown 65534:65534 "$T/home"
NB="setpriv --reuid=65534 --regid=65534 --clear-groups $NOBODY_ENV HOME=$T/home XDG_RUNTIME_DIR="
TO="timeout -k 10 120"

# write_m DIR PORT: a matrix in DIR (workdir DIR/node) serving target.py on PORT.
write_m() {
  mkdir -p "$1/tgt"
  cp "$SRC/tests/methodology/target.py" "$1/tgt/"
  {
    matrix_head | sed "s|workdir: .*|workdir: $1/node|; s|server_port: .*|server_port: $2|"
    cat <<YAML
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
profiles:
  long: {users: {start: 2, step: 2, max: 16}}
YAML
  } >"$1/m.yaml"
}
write_m "$T/root" "$port"
write_m "$T/nobody" "$port"
chown -R 65534:65534 "$T/nobody"
# q DB SQL: a query as the store's user ($qwho): sqlite3 creates a missing
# file, and root's -wal or -shm file in nobody's folder would lock nobody out.
qwho=""
q() { $qwho sqlite3 -cmd '.timeout 5000' "$@"; }
has_phase() { [ -f "$1" ] && [ -n "$(q "$1" "SELECT 1 FROM phases LIMIT 1" 2>/dev/null)" ]; }

# holds WHO BIN DIR OTHER_WHO OTHER_BIN OTHER_DIR OTHER_USER_NAME
# WHO runs a long cell from DIR; while it runs OTHER_WHO's run on the same port
# is refused at once naming it; then WHO's run ends ok.
holds() {
  who=$1 bin=$2 dir=$3 owho=$4 obin=$5 odir=$6 name=$7 qwho=$1
  $who $TO "$bin" run -m "$dir/m.yaml" -p long --store "$dir/r.db" -q a/text \
    >"$dir/first.out" 2>"$dir/first.err" &
  first=$!
  wait_for 30 has_phase "$dir/r.db"
  mpid=$(q "$dir/r.db" "SELECT owner_pid FROM runs WHERE status = 'running'")
  rid=$(q "$dir/r.db" "SELECT id FROM runs WHERE status = 'running'")
  [ -n "$mpid" ] && ok || bad "$name's run: no running run in its store"
  t0=$(date +%s)
  $owho $TO "$obin" run -m "$odir/m.yaml" --store "$odir/other.db" a/text >"$odir/out" 2>"$odir/err"
  expect_eq "$name holds the node: the other user's run exits ($(cat "$odir/err"))" "$?" 1
  expect_contains "$name holds the node: the other is told who" "$(cat "$odir/err")" \
    "node busy: run $rid (pid $mpid, user $name) holds node local:server_port=$port"
  [ $(($(date +%s) - t0)) -lt 10 ] && ok || bad "$name holds the node: the other did not fail at once"
  qwho=$owho
  expect_eq "$name holds the node: the other stored no run" \
    "$(q "$odir/other.db" "SELECT count(*) FROM runs" 2>/dev/null || echo 0)" 0
  qwho=$who
  expect_eq "$name holds the node: its run still runs" \
    "$(q "$dir/r.db" "SELECT status FROM runs WHERE id = $rid")" running
  wait "$first"
  expect_eq "$name's run: exit ($(tail -3 "$dir/first.err"))" "$?" 0
  rm -f "$odir/other.db"*
}
holds "" "$MFBENCH" "$T/root" "$NB" "$NOBODY_MFBENCH" "$T/nobody" root
holds "$NB" "$NOBODY_MFBENCH" "$T/nobody" "" "$MFBENCH" "$T/root" nobody

# The lock file of a port, where mfbench puts it.
lockdir=/tmp
[ "$(stat -c '%u %a' /run/lock 2>/dev/null)" = "0 1777" ] && lockdir=/run/lock
lockfile() { echo "$lockdir/mfbench-node-$(printf 'local:server_port=%s' "$1" | sha256sum | cut -c1-16).lock"; }
expect_eq "the lock file is node-wide and shared (mode 666)" "$(stat -c %a "$(lockfile "$port")")" 666

# A symbolic link in its place: refused, its target untouched.
p2=$(free_port)
write_m "$T/link" "$p2"
echo keep >"$T/victim"
lf=$(lockfile "$p2")
# Lock files stay behind (node-wide, one per port ever used): an earlier test that
# used this port left one, and `ln -s` onto it would fail and plant nothing.
rm -f "$lf"
ln -s "$T/victim" "$lf" || bad "planting the link $lf"
"$MFBENCH" run -m "$T/link/m.yaml" --store "$T/link/r.db" a/text >"$T/out" 2>"$T/err"
[ "$?" -ne 0 ] && ok || bad "a link as lock file: the run went ahead"
expect_contains "a link as lock file: refused" "$(cat "$T/err")" "is a symbolic link: refused"
expect_eq "a link as lock file: its target untouched" "$(cat "$T/victim")" keep
rm -f "$lf"

# Root's file that nobody cannot write: nobody is refused, told whose it is.
p3=$(free_port)
write_m "$T/nobody3" "$p3"
chown -R 65534:65534 "$T/nobody3"
lf=$(lockfile "$p3")
rm -f "$lf" # one an earlier run as nobody left would be nobody's, and writable by it
: >"$lf"
chmod 644 "$lf"
$NB "$NOBODY_MFBENCH" run -m "$T/nobody3/m.yaml" --store "$T/nobody3/r.db" a/text >"$T/out" 2>"$T/err"
[ "$?" -ne 0 ] && ok || bad "root's 644 lock file: nobody's run went ahead"
expect_contains "root's 644 lock file: refused, saying whose" "$(cat "$T/err")" \
  "owned by uid 0 with mode 644, not writable by uid 65534"
rm -f "$lf"
finish
