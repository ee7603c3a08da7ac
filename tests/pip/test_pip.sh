#!/bin/sh
# The pip path without PyPI: a framework with system_site_packages: false gets
# its venv from requirements.txt through node.pip, from a local PEP 503 index
# (python3 -m http.server on 127.0.0.1) and from a find_links folder. The venv
# is reused while requirements.txt and node.pip are unchanged, rebuilt when
# either changes; a requirement pip cannot satisfy, or a build that fails, skips
# the cell with pip's (or the build's) error lines.
. "$SRC/tests/integration/lib.sh"
HERE="$SRC/tests/pip"
# pip sees only what the matrix says (and, in step 4, the trap below).
unset PIP_INDEX_URL PIP_EXTRA_INDEX_URL PIP_FIND_LINKS PIP_NO_INDEX PIP_REQUIRE_VIRTUALENV
export PIP_CONFIG_FILE=/dev/null

# Wheels of tinypkg 1.0 and 2.0, built by hand; a simple index and a find_links folder.
mkdir -p "$T/index/simple/tinypkg" "$T/index/files" "$T/find links" "$T/target"
for v in 1.0 2.0; do
  $PY "$HERE/make_wheel.py" tinypkg "$v" "$T/index/files" >/dev/null || bad "make_wheel $v"
  cp "$T/index/files/tinypkg-$v-py3-none-any.whl" "$T/find links/"
done
{
  echo '<!DOCTYPE html><html><body>'
  for v in 1.0 2.0; do
    echo "<a href=\"../../files/tinypkg-$v-py3-none-any.whl\">tinypkg-$v-py3-none-any.whl</a>"
  done
  echo '</body></html>'
} >"$T/index/simple/tinypkg/index.html"
echo '<!DOCTYPE html><html><body><a href="tinypkg/">tinypkg</a></body></html>' \
  >"$T/index/simple/index.html"
cp "$HERE/target/app.py" "$T/target/app.py"

# The index: http.server logs each request on stderr.
iport=$(free_port)
$PY -u -m http.server "$iport" --bind 127.0.0.1 --directory "$T/index" >"$T/http.out" 2>"$T/http.log" &
http_pid=$!
stop_http() { kill "$http_pid" 2>/dev/null; wait "$http_pid" 2>/dev/null; }
cleanup_hooks="stop_http $cleanup_hooks"
i=0
until $PY -c 'import sys,urllib.request; urllib.request.urlopen(sys.argv[1], timeout=1)' \
  "http://127.0.0.1:$iport/simple/" 2>/dev/null; do
  i=$((i + 1))
  [ "$i" -lt 50 ] || { bad "the index server did not start: $(cat "$T/http.log")"; finish; }
  sleep 0.1
done
requests() { grep -c '"GET ' "$T/http.log"; }

port=$(free_port)
# write_pip_matrix PIP_YAML
write_pip_matrix() {
  cat >"$T/m.yaml" <<YAML
version: 1
node:
  transport: local
  workdir: $T/node
  cpus: ""
  server_port: $port
  system_site_packages: true
$1
defaults:
  duration: 1s
  warmup: 200ms
  spawn_rate: 1000
  think: {min: 0s, max: 0s}
  users: {start: 2, step: 2, max: 2}
  stop_when: {failures: 1}
  timeout: 5s
  ready_timeout: 20s
payloads:
  text: {path: /text, body: "Hello World!", content_type: text/plain}
frameworks:
  tiny: {system_site_packages: false, dir: $T/target}
profiles:
  quick: {duration: 1s, warmup: 200ms, users: {start: 2, step: 2, max: 2}}
YAML
}
marker="$T/node/venvs/tiny/.mfbench-venv"
run() { # NAME: runs tiny/text, output in $T/NAME.json and $T/NAME.err, status in $rc
  "$MFBENCH" run -m "$T/m.yaml" -p quick --store "$T/r.db" --json tiny/text \
    >"$T/$1.json" 2>"$T/$1.err"
  rc=$?
}
cell() { json_get "$T/$1.json" "d['cells'][0]$2"; }

# 1. From the index: pip installs tinypkg 1.0, the cell is ok and records it.
write_pip_matrix "  pip: {index_url: \"http://127.0.0.1:$iport/simple/\", args: \"--no-cache-dir  --disable-pip-version-check\"}"
printf 'tinypkg==1.0\n' >"$T/target/requirements.txt"
run first
expect_eq "first: exit status ($(tail -5 "$T/first.err"))" "$rc" 0
expect_eq "first: cell status" "$(cell first "['status']")" ok
expect_eq "first: tinypkg version" "$(cell first "['versions']['tinypkg']")" 1.0
expect_contains "first: log" "$(cat "$T/first.err")" "venv built"
n1=$(requests)
expect_eq "first: the index was asked" "$([ "$n1" -gt 0 ] && echo yes)" yes
expect_eq "first: marker written" "$(test -s "$marker" && echo yes)" yes
m1=$(stat -c %Y.%i "$marker" 2>/dev/null)

# 2. Nothing changed: the venv is reused, pip does not run.
sleep 1
run second
expect_eq "second: exit status ($(tail -5 "$T/second.err"))" "$rc" 0
expect_eq "second: cell status" "$(cell second "['status']")" ok
expect_eq "second: tinypkg version" "$(cell second "['versions']['tinypkg']")" 1.0
expect_contains "second: log" "$(cat "$T/second.err")" "venv reused"
expect_eq "second: the index was not asked" "$(requests)" "$n1"
expect_eq "second: marker untouched" "$(stat -c %Y.%i "$marker" 2>/dev/null)" "$m1"

# 3. requirements.txt pins 2.0: rebuilt, and the versions say so.
printf 'tinypkg==2.0\n' >"$T/target/requirements.txt"
run third
expect_eq "third: exit status ($(tail -5 "$T/third.err"))" "$rc" 0
expect_eq "third: cell status" "$(cell third "['status']")" ok
expect_eq "third: tinypkg version" "$(cell third "['versions']['tinypkg']")" 2.0
expect_contains "third: log" "$(cat "$T/third.err")" "venv built"
n3=$(requests)
expect_eq "third: the index was asked again" "$([ "$n3" -gt "$n1" ] && echo yes)" yes

# 4. The find_links form (a folder with a space in its name), no index: a
# changed pip setting rebuilds, and pip never reaches out, not even to the
# index a pip environment variable names.
write_pip_matrix "  pip: {find_links: \"$T/find links\"}"
export PIP_INDEX_URL="http://127.0.0.1:$iport/trap/"
run fourth
unset PIP_INDEX_URL
expect_eq "fourth: exit status ($(tail -5 "$T/fourth.err"))" "$rc" 0
expect_eq "fourth: cell status" "$(cell fourth "['status']")" ok
expect_eq "fourth: tinypkg version" "$(cell fourth "['versions']['tinypkg']")" 2.0
expect_contains "fourth: log" "$(cat "$T/fourth.err")" "venv built"
expect_eq "fourth: no index was asked" "$(requests)" "$n3"

# 5. A requirement nobody serves: skipped, with pip's own lines, exit status 1,
# and no venv (so no marker) left behind.
printf 'tinypkg==2.0\nnosuchpkg==9\n' >"$T/target/requirements.txt"
run fifth
expect_eq "fifth: exit status" "$rc" 1
expect_eq "fifth: cell status" "$(cell fifth "['status']")" skipped
err=$(cell fifth "['error']")
expect_contains "fifth: error leads with pip's error" "$(echo "$err" | head -1)" "cannot install $T/node/user/tiny/requirements.txt: ERROR: No matching distribution found for nosuchpkg==9"
expect_contains "fifth: error has pip's other lines" "$err" "Could not find a version that satisfies the requirement nosuchpkg==9"
expect_eq "fifth: no venv left" "$(test -e "$T/node/venvs/tiny" && echo left)" ""

# 6. A source package whose build fails (as japronto's does on a modern
# Python): the cell's error carries the build's own error lines.
mkdir -p "$T/src/brokenpkg-1.0"
cat >"$T/src/brokenpkg-1.0/setup.py" <<'PY'
import sys
sys.stderr.write("brokenpkg/fast.c:12:10: fatal error: Python.h: No such file or directory\n")
sys.stderr.write("error: command '/usr/bin/gcc' failed with exit code 1\n")
sys.exit(1)
PY
printf 'Metadata-Version: 1.0\nName: brokenpkg\nVersion: 1.0\n' >"$T/src/brokenpkg-1.0/PKG-INFO"
tar -C "$T/src" -czf "$T/find links/brokenpkg-1.0.tar.gz" brokenpkg-1.0
printf 'brokenpkg==1.0\n' >"$T/target/requirements.txt"
run sixth
expect_eq "sixth: exit status" "$rc" 1
expect_eq "sixth: cell status" "$(cell sixth "['status']")" skipped
err=$(cell sixth "['error']")
expect_contains "sixth: error leads with the build's error" "$(echo "$err" | head -1)" \
  "cannot install $T/node/user/tiny/requirements.txt: brokenpkg/fast.c:12:10: fatal error: Python.h"
expect_contains "sixth: error has the build's lines" "$err" "error: command '/usr/bin/gcc' failed"
expect_eq "sixth: no venv left" "$(test -e "$T/node/venvs/tiny" && echo left)" ""
expect_no_server "$T/node"
finish
