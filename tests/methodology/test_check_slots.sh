#!/bin/sh
# `mfbench check` on a Slurm node (issue 23): a job's worst case is its cells' worst
# cases packed on node.slurm.max_parallel slots. Four cells of the same settings: on 1
# slot the sum (4 cells), on 2 half of it, on 4 or more one cell; the text says "on N
# slots", --json keeps max_duration_s and adds slots (1 on a local node).
. "$SRC/tests/integration/lib.sh"
matrix() { # FILE NODE_LINE
  cat >"$1" <<YAML
version: 1
node: $2
defaults: {duration: 2s, warmup: 500ms, users: {start: 2, step: 2, max: 4}, timeout: 1s,
           think: 0s, refine: 1}
payloads:
  text: {path: /text, body: "Hello World!"}
  json: {path: /json, length: 106}
frameworks:
  flask: {server: werkzeug}
  tornado: {server: tornado}
profiles:
  nightly: {}
YAML
}
for n in 1 2 4 8; do
  matrix "$T/m$n.yaml" "{transport: slurm, slurm: {max_parallel: $n, time_limit: 2h}}"
  "$MFBENCH" check -m "$T/m$n.yaml" --json >"$T/c$n.json" 2>"$T/c$n.err"
  expect_eq "check --json on $n slots exits 0 ($(cat "$T/c$n.err"))" "$?" 0
  expect_eq "slots on $n slots" "$(json_get "$T/c$n.json" 'd["nightly"]["slots"]')" "$n"
  expect_eq "the profile's slots on $n slots" \
    "$(json_get "$T/c$n.json" 'd["profiles"]["nightly"]["slots"]')" "$n"
  eval "d$n=\$(json_get \"\$T/c\$n.json\" 'd[\"nightly\"][\"max_duration_s\"]')"
done
echo "worst cases: 1 slot ${d1}s, 2 slots ${d2}s, 4 slots ${d4}s, 8 slots ${d8}s" >&2
# Each bound is rounded up to a whole second: compare within 1 s per cell.
near() { [ $(($1 - $2)) -le "$3" ] && [ $(($2 - $1)) -le "$3" ]; }
expect_eq "1 slot: the sum of 4 equal cells (4 x the 4-slot bound)" "$(near "$d1" $((4 * d4)) 4 && echo yes)" yes
expect_eq "2 slots: half the sum" "$(near "$d2" $((2 * d4)) 2 && echo yes)" yes
expect_eq "8 slots, 4 cells: one cell" "$d8" "$d4"
"$MFBENCH" check -m "$T/m2.yaml" >"$T/c2.txt" 2>&1
expect_contains "check's text names the slots" "$(cat "$T/c2.txt")" "at most"
expect_contains "check's nightly line says on 2 slots" "$(grep '^nightly:' "$T/c2.txt")" "on 2 slots"
# A local node: one slot, the same fields.
matrix "$T/local.yaml" "{transport: local}"
"$MFBENCH" check -m "$T/local.yaml" --json >"$T/local.json"
expect_eq "a local node has 1 slot" "$(json_get "$T/local.json" 'd["nightly"]["slots"]')" 1
finish
