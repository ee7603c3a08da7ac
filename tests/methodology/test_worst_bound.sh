#!/bin/sh
# The worst case is an upper bound (issue 21 item 5): a run of the
# worst-behaved target we can build finishes within what `mfbench check` says
# for the same matrix and profile. The target listens only 2 s after its start
# (the readiness timeout is 3 s), answers the readiness probe and then nothing
# (every level fails, with the full drain: the search's most phases, two
# searches), ignores SIGTERM and leaves a child outside its process group that
# ignores it too (each stop waits its grace twice, then SIGKILL). The run must
# also take longer than the estimate before issue 21 allowed (phases, drains
# and readiness timeouts, 2 s per phase and 30 s per cell): otherwise the
# target would not exercise what that estimate left out.
. "$SRC/tests/methodology/mlib.sh"
cat >"$T/m.yaml" <<YAML
version: 1
node: {transport: local, workdir: $T/node, cpus: "1", server_port: $port, command_timeout: 5s}
load: {cpus: "0"}
defaults:
  duration: 1s
  warmup: 200ms
  spawn_rate: 1000
  think: 0s
  users: {start: 4, max: 4}
  refine: 1
  repeats: 2
  timeout: 1s
  ready_timeout: 3s
payloads:
  text: {path: /text, body: "Hello World!", content_type: text/plain}
frameworks:
  worst: {start: "$start --mode hangafter --n 1 --listen-after 2 --ignore-term --stray $T/strays",
          dir: ./tgt}
profiles:
  tiny: {}
YAML
# The strays mfbench must have stopped; killed here by pid should a check fail.
strays() { [ -r "$T/strays" ] && while read -r p; do kill -KILL "$p" 2>/dev/null; done <"$T/strays"; true; }
cleanup_hooks="$cleanup_hooks strays"
"$MFBENCH" check -m "$T/m.yaml" --json >"$T/check.json" 2>"$T/check.err"
expect_eq "check exit ($(cat "$T/check.err"))" "$?" 0
max=$(json_get "$T/check.json" 'd["profiles"]["tiny"]["max_duration_s"]')

ms() { date +%s%3N; }
t0=$(ms)
"$MFBENCH" run -m "$T/m.yaml" -p tiny --json --all >"$T/run.json" 2>"$T/run.err"
rc=$?
t1=$(ms)
took=$((t1 - t0))
# Alive: a process that is not a zombie (a killed stray's new parent may not reap it at once).
alive() { s=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1); [ -n "$s" ] && [ "$s" != Z ]; }
expect_eq "every stray was stopped" \
  "$(cat "$T/strays" 2>/dev/null | while read -r p; do alive "$p" && echo "$p"; done)" ""
expect_eq "a stray per start" "$(wc -l <"$T/strays" | tr -d ' ')" 6
expect_eq "run exit: the cell failed ($(tail -3 "$T/run.err"))" "$rc" 1
c='d["cells"][0]'
expect_eq "cell failed" "$(json_get "$T/run.json" "$c[\"status\"]")" failed
# 4 fails, then bisection 2, 1: 3 phases per search, 2 searches: the most.
expect_eq "phases: the search's most" "$(json_get "$T/run.json" "len($c[\"phases\"])")" 6
expect_eq "every phase failed: no response" \
  "$(json_get "$T/run.json" "sorted(set(p[\"stop_reason\"] for p in $c[\"phases\"]))")" "['no_response']"
# The bound: the whole run, in ms, within check's worst case.
[ "$took" -le $((max * 1000)) ] && ok ||
  bad "the run took ${took} ms, more than check's worst case ${max} s"
# What the estimate before issue 21 allowed for this matrix: 30 s of
# provisioning and per phase 1 s + 1 s drain + 3 s readiness + 2 s overhead.
old=$((30 + 6 * (1 + 1 + 3 + 2)))
[ "$took" -gt $((old * 1000)) ] && ok ||
  bad "the run took ${took} ms, within the old estimate's ${old} s: the target is not the worst"
echo "worst-behaved run: ${took} ms; check's worst case ${max} s; the old estimate ${old} s" >&2
finish
