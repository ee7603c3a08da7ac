#!/bin/sh
# Folders another user made are never trusted (issue 13, item 1), end to end through
# the binaries, as an unprivileged user (nobody, through setpriv) and as root: a node
# workdir root made with mode 0777 or 0755 is refused by nobody's `mfbench run`, naming
# the folder, its owner and mode, with nothing written in it; a workdir below another
# user's folder is refused; a control socket folder another user made is refused by
# `mfbench status`, `mfbench trigger` and by mfbenchd before it binds. Needs root (to
# make folders for another user) and setpriv: else a skip (77) saying so.
. "$(dirname "$0")/lib.sh"
if [ "$(id -u)" != 0 ] || ! command -v setpriv >/dev/null 2>&1; then
  echo "SKIP: needs root and setpriv to act as two users (running as uid $(id -u))" >&2
  exit 77
fi
: "${MFBENCHD:=$(dirname "$MFBENCH")/mfbenchd}"
# nobody runs a copy of the binary and targets/: the clone may be in a folder
# nobody cannot enter (a CI checkout in a 0700 folder).
nobody_bin || { echo "cannot copy the binaries for nobody" >&2; exit 1; }
chmod 711 "$T" # nobody may reach what is made for it below, not list the rest
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
mkdir -m 700 "$T/u"
chown 65534:65534 "$T/u" # nobody's own home, store and state
port=$(free_port)

# matrix FILE WORKDIR: a one-cell matrix on the local node.
matrix() {
  write_matrix "$1" "  transport: local
  workdir: $2
  cpus: \"1\"
  server_port: $port" "  flask: {server: werkzeug}"
  chmod 644 "$1"
}
run_nobody() { # matrix -> exit status; stderr in $T/u/err.txt
  as_nobody $NOBODY_ENV HOME="$T/u" MFBENCH_STORE="$T/u/r.db" XDG_STATE_HOME="$T/u/state" \
    XDG_RUNTIME_DIR= "$NOBODY_MFBENCH" run -m "$1" flask/text >"$T/u/out.txt" 2>"$T/u/err.txt"
}

# 1. Root's folder with mode 0777 (anyone may write): refused, nothing written.
mkdir "$T/shared" && chmod 0777 "$T/shared"
matrix "$T/m1.yaml" "$T/shared"
run_nobody "$T/m1.yaml"
expect_eq "0777 workdir of root's: exit" "$?" 1
expect_contains "0777 workdir of root's: the refusal" "$(cat "$T/u/err.txt")" \
  "node workdir $T/shared: owned by uid 0 (root) (not you, uid 65534) and mode 0777: refusing (not yours, writable by others)"
expect_eq "nothing written in the 0777 workdir" "$(ls -A "$T/shared")" ""

# 2. Root's folder with mode 0755: nobody cannot write there, still not its own.
mkdir -m 755 "$T/rootdir"
matrix "$T/m2.yaml" "$T/rootdir"
run_nobody "$T/m2.yaml"
expect_eq "0755 workdir of root's: exit" "$?" 1
expect_contains "0755 workdir of root's: the refusal" "$(cat "$T/u/err.txt")" \
  "node workdir $T/rootdir: owned by uid 0 (root) (not you, uid 65534) and mode 0755: refusing (not yours)"
expect_eq "nothing written in the 0755 workdir" "$(ls -A "$T/rootdir")" ""

# 3. As root: a workdir below a folder nobody owns and anyone may write (nobody could
# rename the workdir away and put its own in its place): refused, nothing made.
mkdir -m 777 "$T/theirs" && chown 65534:65534 "$T/theirs" && chmod 0777 "$T/theirs"
matrix "$T/m3.yaml" "$T/theirs/node"
"$MFBENCH" run -m "$T/m3.yaml" flask/text >/dev/null 2>"$T/e3.txt"
expect_eq "workdir below another user's folder: exit" "$?" 1
expect_contains "workdir below another user's folder: the refusal" "$(cat "$T/e3.txt")" \
  "node workdir $T/theirs/node: the folder $T/theirs above it is owned by uid 65534 (nobody) (not you, uid 0) and mode 0777: refusing"
expect_eq "no workdir made below it" "$(ls -A "$T/theirs")" ""

# 4. A control socket folder that another user made first (as /tmp/mfbench-UID could
# be): trigger and status refuse it, naming it; so does mfbenchd, before it binds.
mkdir -m 777 "$T/sock" && chown 65534:65534 "$T/sock" && chmod 0777 "$T/sock"
want="socket folder $T/sock: owned by uid 65534 (nobody) (not you, uid 0) and mode 0777: refusing (not yours, writable by others)"
"$MFBENCH" status --socket "$T/sock/control.sock" >/dev/null 2>"$T/s1.txt"
expect_eq "status, another user's socket folder: exit" "$?" 1
expect_contains "status names the socket folder" "$(cat "$T/s1.txt")" "$want"
MFBENCH_SOCKET="$T/sock/control.sock" "$MFBENCH" trigger flask/text >/dev/null 2>"$T/s2.txt"
expect_eq "trigger, another user's socket folder: exit" "$?" 1
expect_contains "trigger names the socket folder" "$(cat "$T/s2.txt")" "$want"
matrix "$T/md.yaml" "$T/dnode"
timeout 60 "$MFBENCHD" -m "$T/md.yaml" --store "$T/d.db" --socket "$T/sock/control.sock" \
  >/dev/null 2>"$T/d.txt"
expect_eq "mfbenchd, another user's socket folder: exit" "$?" 1
expect_contains "mfbenchd names the socket folder" "$(cat "$T/d.txt")" "socket folder $T/sock"
expect_eq "mfbenchd bound nothing there" "$(ls -A "$T/sock")" ""
# Nobody, for its part, refuses root's group-writable folder but not root's 0755 one.
mkdir -m 775 "$T/gsock" && chmod 0775 "$T/gsock"
as_nobody "$NOBODY_MFBENCH" status --socket "$T/gsock/control.sock" >/dev/null 2>"$T/u/s3.txt"
expect_eq "status, root's 0775 socket folder: exit" "$?" 1
expect_contains "status names the group-writable folder" "$(cat "$T/u/s3.txt")" \
  "socket folder $T/gsock: owned by uid 0 (root) (not you, uid 65534) and mode 0775: refusing (writable by its group)"
as_nobody "$NOBODY_MFBENCH" status --socket "$T/rootdir/control.sock" >/dev/null 2>"$T/u/s4.txt"
expect_contains "root's 0755 socket folder is trusted (no daemon there)" "$(cat "$T/u/s4.txt")" \
  "no daemon at $T/rootdir/control.sock"
finish
