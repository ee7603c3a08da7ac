#!/bin/sh
# Every stack Debian ships here, provisioned on the sshd node and run with one
# short phase of one payload (text, json and file in turn, each on four stacks:
# tests/targets checks every stack's three answers byte for byte already, and 36
# cells here took three minutes of CI): byte-exact bodies (the probe compares
# them, the engine checks every response), no failure, versions stored. A stack
# whose packages do not import here (sanic and japronto have no Debian package)
# is reported skipped with its reason, and only those: the run exits 0 when every
# cell can run, 1 when some are skipped. A user's own `start:` framework runs. A
# second run uploads nothing.
. "$(dirname "$0")/lib.sh"
FIX="$SRC/tests/fixtures/sshd-node.sh"
eval "$(sh "$FIX" start "$T/sshd")" || { bad "sshd fixture did not start"; finish; }
stop_sshd() { sh "$FIX" stop "$T/sshd"; }
cleanup_hooks="stop_sshd"
srv=$(free_port)
mkdir -p "$T/mine"
# A user's own server, started by a `start:` template.
cp "$SRC/tests/fixtures/hello_server.py" "$T/mine/server.py"
stacks="aiohttp bottle bottle-gunicorn django falcon fastapi flask flask-gunicorn pyramid pyramid-waitress starlette tornado"
fws=""
for s in $stacks sanic japronto; do fws="$fws  $s: {}
"; done
fws="$fws  mine:
    start: \"{python} {dir}/server.py {host} {port} --threads\"
    dir: $T/mine"
write_matrix "$T/m.yaml" "  transport: ssh
  host: 127.0.0.1
  port: $port
  user: $user
  identity: $identity
  known_hosts: $known_hosts
  workdir: $T/node
  cpus: \"1\"
  server_port: $srv" "$fws"
cat >>"$T/m.yaml" <<'YAML'
  # (payloads and frameworks above; one short phase per cell)
YAML
sed -i 's|^  users: .*|  users: {start: 2, step: 2, max: 2}|; s|^  duration: .*|  duration: 1500ms|; s|^  warmup: .*|  warmup: 300ms|' "$T/m.yaml"
sed -i "s|^payloads:|payloads:\\n  file: {path: /file, body_file: _shared/static/file.bin, content_type: application/octet-stream}|" "$T/m.yaml"
"$MFBENCH" check -m "$T/m.yaml" >/dev/null || bad "test matrix invalid"

# Which stacks can run here, asked the way the run asks (the target's own
# --versions, Debian's python: the venv has its site packages): exit 3 and
# "NAME: No module named 'X'" when a package is missing.
absent=""
for s in $stacks sanic japronto; do
  why=$($PY "$SRC/targets/$s/app.py" --versions 2>&1 >/dev/null)
  st=$?
  why=$(printf '%s\n' "$why" | tail -n 1) # the run keeps the last line as the reason
  case $st in
    0) ;;
    3) absent="$absent $s"; printf '%s\n' "$why" >"$T/why.$s"; echo "absent here: $why" >&2 ;;
    *) bad "$s --versions exit $st: $why" ;;
  esac
done
absent=${absent# }

# payload_of STACK: its payload here, text, json and file in turn down the list.
payload_of() {
  i=0
  for x in $stacks; do
    [ "$x" = "$1" ] && { set -- text json file; shift $((i % 3)); echo "$1"; return; }
    i=$((i + 1))
  done
}
cells=""
for s in $stacks; do cells="$cells $s/$(payload_of "$s")"; done
# shellcheck disable=SC2086
"$MFBENCH" run -m "$T/m.yaml" --json $cells sanic/text japronto/json mine/text >"$T/out.json" 2>"$T/err.txt"
rc=$?
if [ -z "$absent" ]; then
  expect_eq "exit status is 0 (every stack installed)" "$rc" 0
else
  expect_eq "exit status is 1 (skipped: $absent)" "$rc" 1
fi
skipped=$(json_get "$T/out.json" "' '.join(sorted({c['framework'] for c in d['cells'] if c['status']=='skipped'}))")
want=$(for s in $absent; do echo "$s"; done | sort | tr '\n' ' ')
expect_eq "skipped stacks are the absent ones" "$skipped" "${want% }"
for s in $absent; do
  q="[c for c in d['cells'] if c['framework']=='$s'][0]"
  expect_eq "$s skip reason" "$(json_get "$T/out.json" "$q['error']")" "$(cat "$T/why.$s")"
done
n=0
for s in $stacks; do
  case " $absent " in *" $s "*) continue ;; esac
  for p in $(payload_of "$s"); do
    q="[c for c in d['cells'] if c['framework']=='$s' and c['payload']=='$p'][0]"
    st=$(json_get "$T/out.json" "$q['status']")
    expect_eq "$s/$p status (error: $(json_get "$T/out.json" "$q['error']" | head -3))" "$st" ok
    expect_eq "$s/$p requests > 0" "$(json_get "$T/out.json" "$q['phases'][0]['requests'] > 0 if $q['phases'] else False")" True
    expect_eq "$s/$p no failure" "$(json_get "$T/out.json" "$q['phases'][0]['failures'] if $q['phases'] else -1")" 0
    expect_eq "$s/$p versions" "$(json_get "$T/out.json" "'python' in $q['versions'] and 'ujson' in $q['versions'] and len($q['versions']) >= 3")" True
    n=$((n + 1))
  done
done
# Each installed stack of the 12 runs its payload; sanic and japronto one each.
present=0
for s in $stacks; do case " $absent " in *" $s "*) ;; *) present=$((present + 1)) ;; esac; done
expect_eq "stacks measured" "$n" "$present"
expect_eq "each payload on four stacks" \
  "$(json_get "$T/out.json" "sorted(sum(1 for c in d['cells'] if c['payload'] == p and c['framework'] not in ('sanic', 'japronto', 'mine')) for p in ('text', 'json', 'file'))")" "[4, 4, 4]"
for s in sanic japronto; do
  case " $absent " in *" $s "*) continue ;; esac
  q="[c for c in d['cells'] if c['framework']=='$s'][0]"
  expect_eq "$s runs where installed" "$(json_get "$T/out.json" "$q['status']")" ok
done
q="[c for c in d['cells'] if c['framework']=='mine'][0]"
expect_eq "own start: framework" "$(json_get "$T/out.json" "$q['status']")" ok
expect_eq "own start: versions" "$(json_get "$T/out.json" "'python' in $q['versions']")" True
run_id=$(json_get "$T/out.json" 'd["run"]["id"]')
show=$("$MFBENCH" show "$run_id")
for s in $absent; do
  expect_contains "show lists $s's skip reason" "$show" "$(cat "$T/why.$s")"
done
expect_contains "show lists the versions measured" "$show" "tornado/$(payload_of tornado) phases (python 3."
# every cell that ran (the 12 stacks' one each, sanic's and japronto's, mine) stored its versions
ran=$((n + 1))
for s in sanic japronto; do case " $absent " in *" $s "*) ;; *) ran=$((ran + 1)) ;; esac; done
expect_eq "versions stored" "$(sqlite3 "$MFBENCH_STORE" "select count(*) from cells where versions_json like '%\"python\"%'")" "$ran"
expect_contains "first run uploaded" "$(cat "$T/err.txt")" "targets uploaded"

# Unchanged tree: nothing is uploaded again.
"$MFBENCH" run -m "$T/m.yaml" flask/text >/dev/null 2>"$T/err2.txt"
expect_eq "second run" "$?" 0
expect_contains "second run uploads nothing" "$(cat "$T/err2.txt")" "targets unchanged"
expect_no_server "$T/node"
finish
