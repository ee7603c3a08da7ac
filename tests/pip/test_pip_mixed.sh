#!/bin/sh
# The third venv mode and pip's clean environment (issue 22), without PyPI:
# (a) system_site_packages: with_pip installs only what the node's packages
#     lack (flask at the node's own version stays the node's; tinypkg comes
#     from a find_links folder of hand-built wheels), and without a pip source
#     the cell is skipped with one line naming what is missing;
# (b) the caller's PIP_FIND_LINKS (and a pip.conf it names) does not change
#     what the node installs;
# (c) a framework whose interpreter is too new (requires_python) is skipped
#     with one line per cell, checked once per run, and a framework whose
#     requirements fail runs pip once per run, not once per cell.
. "$SRC/tests/integration/lib.sh"
HERE="$SRC/tests/pip"

flask_v=$($PY -c 'import importlib.metadata as m; print(m.version("flask"))' 2>/dev/null) ||
  { echo "python3-flask is needed (tools/deps.sh)" >&2; exit 77; }

# tinypkg 1.0 where the matrix points, 2.0 (and a flask that is not the
# node's) where the caller's environment points.
mkdir -p "$T/wheels" "$T/other" "$T/target" "$T/iso" "$T/oldpy" "$T/broken" "$T/bin"
$PY "$HERE/make_wheel.py" tinypkg 1.0 "$T/wheels" >/dev/null || bad "make_wheel 1.0"
$PY "$HERE/make_wheel.py" tinypkg 2.0 "$T/other" >/dev/null || bad "make_wheel 2.0"
$PY "$HERE/make_wheel.py" flask 99.0 "$T/other" >/dev/null || bad "make_wheel flask"
for d in target iso oldpy broken; do cp "$HERE/target/app.py" "$T/$d/app.py"; done
printf '# the node has flask %s\nflask==%s\ntinypkg==1.0\n' "$flask_v" "$flask_v" \
  >"$T/target/requirements.txt"
printf 'oldpy==0.1.2\ntinypkg==1.0\n' >"$T/oldpy/requirements.txt"
printf 'tinypkg==1.0\nnosuchpkg==9\n' >"$T/broken/requirements.txt"
# An interpreter that says each time it is started (the venv script starts it
# once per attempt: the version check, or python -m venv).
cat >"$T/bin/py" <<SH
#!/bin/sh
echo "\$*" >>"$T/py.log"
exec $PY "\$@"
SH
chmod +x "$T/bin/py"
: >"$T/py.log"

port=$(free_port)
# write_matrix2 NODE_PIP_YAML FRAMEWORKS_YAML
write_matrix2() {
  cat >"$T/m.yaml" <<YAML
version: 1
node:
  transport: local
  workdir: $T/node
  cpus: ""
  server_port: $port
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
  again: {path: /text, body: "Hello World!", content_type: text/plain}
frameworks:
$2
YAML
}
run() { # NAME CELL...: output in $T/NAME.json and $T/NAME.err, status in $rc
  n=$1
  shift
  "$MFBENCH" run -m "$T/m.yaml" --store "$T/r.db" --json "$@" >"$T/$n.json" 2>"$T/$n.err"
  rc=$?
}
cell() { json_get "$T/$1.json" "d['cells'][$2]$3"; }
site="$T/node/venvs/tiny/lib/python3*/site-packages"

# (a) with_pip: flask from the node, tinypkg from the wheels.
write_matrix2 "  pip: {find_links: \"$T/wheels\", args: --no-cache-dir}" \
  "  tiny: {system_site_packages: with_pip, dir: $T/target}"
run mixed tiny/text
expect_eq "mixed: exit status ($(tail -3 "$T/mixed.err"))" "$rc" 0
expect_eq "mixed: cell status" "$(cell mixed 0 "['status']")" ok
expect_eq "mixed: tinypkg version" "$(cell mixed 0 "['versions']['tinypkg']")" 1.0
expect_contains "mixed: log" "$(cat "$T/mixed.err")" \
  "venv built (system site packages, pip for what they lack: 1 of 2 requirements from the node, 1 by pip)"
# shellcheck disable=SC2086 # the glob is meant
expect_eq "mixed: tinypkg in the venv" "$(ls -d $site/tinypkg-1.0.dist-info 2>/dev/null | wc -l)" 1
# shellcheck disable=SC2086
expect_eq "mixed: no flask in the venv" "$(ls -d $site/flask $site/[Ff]lask-*.dist-info 2>/dev/null)" ""
expect_eq "mixed: flask is the node's" "$("$T/node/venvs/tiny/bin/python" -c \
  'import flask, sys; print(flask.__file__.startswith(sys.base_prefix) or "/dist-packages/" in flask.__file__)')" True
run mixed2 tiny/text
expect_eq "mixed2: cell status" "$(cell mixed2 0 "['status']")" ok
expect_contains "mixed2: log" "$(cat "$T/mixed2.err")" "venv reused"

# (a) with_pip and no pip source: one line naming what is missing, no pip.
write_matrix2 "" "  tiny: {system_site_packages: with_pip, dir: $T/target}"
run nosource tiny/text
expect_eq "nosource: exit status" "$rc" 1
expect_eq "nosource: cell status" "$(cell nosource 0 "['status']")" skipped
expect_eq "nosource: error" "$(cell nosource 0 "['error']")" \
  "tiny: the node's Python packages lack tinypkg==1.0: install them, or put their wheels in a folder and set node.pip.find_links to it (README: \"Frameworks that Debian does not package\")"
expect_eq "nosource: said once" "$(grep -c 'lack tinypkg' "$T/nosource.err")" 1
expect_eq "nosource: no venv left" "$(test -e "$T/node/venvs/tiny" && echo left)" ""

# (b) The caller's PIP_FIND_LINKS offers tinypkg 2.0 (and flask 99.0) and a
# pip.conf of the caller's adds the same folder: the node installs what the
# matrix's find_links has, 1.0, and keeps the node's flask.
printf 'flask\ntinypkg\n' >"$T/target/requirements.txt"
printf 'tinypkg\n' >"$T/iso/requirements.txt"
printf '[global]\nfind-links = %s\n' "$T/other" >"$T/pip.conf"
write_matrix2 "  pip: {find_links: \"$T/wheels\", args: --no-cache-dir}" \
  "  tiny: {system_site_packages: with_pip, dir: $T/target}
  iso: {system_site_packages: false, dir: $T/iso}"
PIP_FIND_LINKS="$T/other" PIP_CONFIG_FILE="$T/pip.conf" run env tiny/text iso/text
expect_eq "env: exit status ($(tail -3 "$T/env.err"))" "$rc" 0
expect_eq "env: with_pip tinypkg version" "$(cell env 0 "['versions']['tinypkg']")" 1.0
expect_eq "env: isolated tinypkg version" "$(cell env 1 "['versions']['tinypkg']")" 1.0
# shellcheck disable=SC2086
expect_eq "env: no flask in the with_pip venv" "$(ls -d $site/[Ff]lask-*.dist-info 2>/dev/null)" ""

# (c) A too-new interpreter: one line per cell, the check run once in the run;
# requirements pip cannot meet: pip once in the run, one line per cell.
write_matrix2 "  pip: {find_links: \"$T/wheels\", args: --no-cache-dir}" \
  "  oldpy: {system_site_packages: false, dir: $T/oldpy, python: $T/bin/py, requires_python: \"<=3.7\"}
  broken: {system_site_packages: false, dir: $T/broken, python: $T/bin/py}"
: >"$T/py.log"
run once oldpy/text oldpy/again broken/text broken/again
have=$($PY -c 'import sys; print("%d.%d" % sys.version_info[:2])')
expect_eq "once: exit status" "$rc" 1
why="oldpy 0.1.2 needs Python <= 3.7; this node has $have ($T/bin/py): set frameworks.oldpy.python to a Python <= 3.7 on the node"
expect_eq "once: oldpy/text error" "$(cell once 0 "['error']")" "$why"
expect_eq "once: oldpy/again error" "$(cell once 1 "['error']")" "$why"
expect_eq "once: oldpy/text status" "$(cell once 0 "['status']")" skipped
expect_eq "once: a line per cell" "$(grep -c 'needs Python <= 3.7' "$T/once.err")" 2
expect_eq "once: oldpy/text's line" "$(grep -c "^oldpy/text: skipped: $why" "$T/once.err")" 1
expect_eq "once: oldpy/again's line" "$(grep -c "^oldpy/again: skipped: $why" "$T/once.err")" 1
expect_eq "once: the interpreter checked once" "$(grep -c 'mfbench-python' "$T/py.log")" 1
expect_eq "once: oldpy got no venv" "$(grep -c 'venvs/oldpy' "$T/py.log")" 0
expect_eq "once: pip once for broken" "$(grep -c -- '-m venv .*venvs/broken' "$T/py.log")" 1
expect_eq "once: broken skipped twice" "$(cell once 2 "['status']") $(cell once 3 "['status']")" \
  "skipped skipped"
expect_eq "once: the same reason" "$(cell once 3 "['error']")" "$(cell once 2 "['error']")"
expect_contains "once: pip's error" "$(cell once 3 "['error']")" \
  "No matching distribution found for nosuchpkg==9"
expect_eq "once: one line per broken cell" "$(grep -c 'skipped: broken: cannot install' "$T/once.err")" 2
expect_no_server "$T/node"
finish
