#!/bin/sh
# Placeholders and quotes (issue 13, item 6), through the real executor (mfbench run, local
# node): a workdir holding $(...), `...` and a ' runs no shell code, and check refuses a
# template that puts a placeholder inside quotes, with its line and column.
. "$SRC/tests/integration/lib.sh"
port=$(free_port)
mkdir -p "$T/tgt" "$T/cwd"
cp "$SRC/tests/methodology/target.py" "$T/tgt/"
# Each of these would create a PWNED file in whatever folder a shell runs it from.
wd="$T/node/it's \$(touch PWNED) \`touch PWNED2\`"
write() { # FILE START
  cat >"$1" <<YAML
version: 1
node:
  transport: local
  workdir: "$(printf '%s' "$wd" | sed 's/\\/\\\\/g; s/"/\\"/g')"
  cpus: "1"
  server_port: $port
load:
  cpus: "0"
defaults:
  duration: 1s
  warmup: 0s
  spawn_rate: 10000
  think: {min: 0s, max: 0s}
  users: {start: 2, step: 2, max: 2}
  refine: 0
  timeout: 2s
  ready_timeout: 20s
payloads:
  text: {path: /text, body: "Hello World!", content_type: text/plain}
frameworks:
  app:
    dir: ../tgt
    start: $2
YAML
}
# The user's own template: cd into the workdir, then the server; every value bare.
write "$T/cwd/m.yaml" "'cd {workdir} && exec {python} {dir}/target.py --host {host} --port {port} --mode rate --rate 100000'"
cd "$T/cwd" || exit 1
"$MFBENCH" run -m "$T/cwd/m.yaml" --json app/text >"$T/run.json" 2>"$T/run.err"
expect_eq "run: exit status (stderr: $(tail -3 "$T/run.err"))" "$?" 0
expect_eq "run: cell ok" "$(json_get "$T/run.json" 'd["cells"][0]["status"]')" ok
[ -d "$wd/venvs/app" ] && ok || bad "the workdir was not used as named: $(ls "$T/node")"
pwned=$(find "$T" "$HOME" -maxdepth 6 -name 'PWNED*' -type f 2>/dev/null)
expect_eq "no shell code ran from the workdir's name" "$pwned" ""

# The same with the placeholder inside double quotes is refused before anything runs.
write "$T/cwd/q.yaml" "'cd \"{workdir}\" && exec {python} {dir}/target.py --port {port}'"
out=$("$MFBENCH" check -m "$T/cwd/q.yaml" 2>&1)
expect_eq "check: exit status" "$?" 2
expect_contains "check: names line, column and the fix" "$out" \
  "q.yaml:23:17: frameworks.app.start: {workdir} inside quotes: write it bare, mfbench quotes every value"
# and run refuses it too, running nothing (with the check undone, the "$(touch PWNED)" of the
# workdir would run inside the double quotes).
"$MFBENCH" run -m "$T/cwd/q.yaml" --json app/text >"$T/q.json" 2>"$T/q.err"
expect_eq "run quoted: exit status" "$?" 2
pwned=$(find "$T" "$HOME" -maxdepth 6 -name 'PWNED*' -type f 2>/dev/null)
expect_eq "no shell code ran from a quoted placeholder" "$pwned" ""
finish
