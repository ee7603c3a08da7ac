#!/bin/sh
# This mfbench on the Slurm nodes (issue 23): with no node.slurm.mfbench the dispatcher
# uploads this binary through an srun step into WORKDIR/bin/mfbench-SHA256, checked by
# sha256sum there. On the private cluster (tests/fixtures/slurm-cluster.sh, 2 logical
# nodes on this host, so one filesystem):
#   1. two cells one after the other (max_parallel 1): the first uploads (its log line
#      says "uploaded"), the second finds the copy ("already there") and the copy's inode
#      is unchanged; the folder and the copy are the user's only (700);
#   2. a copy overwritten with other bytes is replaced (log "replacing", a new inode, the
#      hash of this binary again);
#      each cell's node fingerprint (the node's run_start) is stored with it;
#   3. node.slurm.mfbench names a path: used as is, nothing uploaded; a path the nodes do
#      not have ends the cell error "mfbench is not runnable".
# Known-answer targets (tests/methodology/target.py), no pip. A skip (77) without Slurm.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/slurmlib.sh"
slurm_need slurmctld slurmd munged salloc srun squeue scancel scontrol sinfo
slurm_up 2

mkdir -p "$T/tgt"
cp "$SRC/tests/methodology/target.py" "$T/tgt/"
port=$(free_ports 2)
matrix() { # FILE [MFBENCH_PATH]
  cat >"$1" <<YAML
version: 1
node:
  transport: slurm
  workdir: $T/node
  cpus: ""
  server_port: $port
  slurm: {partition: bench, time_limit: 5m, max_parallel: 1$([ -n "${2:-}" ] && echo ", mfbench: $2")}
load:
  cpus: ""
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
  ta:
    dir: ./tgt
    start: "{python} {dir}/target.py --host {host} --port {port} --mode rate --rate 100000"
  tb:
    dir: ./tgt
    start: "{python} {dir}/target.py --host {host} --port {port} --mode rate --rate 100000"
YAML
}
sha=$(sha256sum <"$MFBENCH" | cut -c1-64)
copy=$T/node/bin/mfbench-$sha

# ---- 1. uploaded once, found the second time
matrix "$T/m.yaml"
timeout 200 "$MFBENCH" run -m "$T/m.yaml" --store "$T/s1.db" --json ta/text tb/text \
  >"$T/r1.json" 2>"$T/r1.err"
expect_eq "1: run exit status (stderr: $(tail -5 "$T/r1.err"))" "$?" 0
expect_eq "1: both cells ok" "$(json_get "$T/r1.json" '" ".join(c["status"] for c in d["cells"])')" "ok ok"
expect_eq "1: one upload, by the first cell" \
  "$(grep 'mfbench uploaded to' "$T/r1.err" | cut -d: -f1 | tr '\n' ' ')" "ta/text "
expect_eq "1: the second cell found the copy" \
  "$(grep 'already there (sha256' "$T/r1.err" | cut -d: -f1 | tr '\n' ' ')" "tb/text "
expect_eq "1: the copy is this binary" "$(sha256sum <"$copy" | cut -c1-64)" "$sha"
expect_eq "1: folder and copy are the user's only" \
  "$(stat -c '%a %u' "$T/node/bin" "$copy" | tr '\n' ' ')" "700 $(id -u) 700 $(id -u) "
ino1=$(stat -c %i "$copy")
# Each cell's node fingerprint, from the node's run_start, stored per cell (schema 11).
expect_eq "1: each cell's node fingerprint stored" \
  "$(sqlite3 "$T/s1.db" "select count(*) from cells where json_extract(node_fingerprint, '\$.cpu_model') = '$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1 | sed "s/'/''/g")'")" 2
expect_eq "1: ... and in the JSON" \
  "$(json_get "$T/r1.json" 'all(c["node"]["fingerprint"]["cpu_model"] for c in d["cells"])')" True

# ---- 2. a copy with other bytes is replaced
cat /bin/true >"$copy" # same name and inode, other bytes, still executable
timeout 200 "$MFBENCH" run -m "$T/m.yaml" --store "$T/s2.db" --json ta/text \
  >"$T/r2.json" 2>"$T/r2.err"
expect_eq "2: run exit status (stderr: $(tail -5 "$T/r2.err"))" "$?" 0
expect_contains "2: the copy was replaced" "$(cat "$T/r2.err")" \
  "ta/text: mfbench uploaded to"
expect_contains "2: ... and said so" "$(cat "$T/r2.err")" "replacing a copy whose hash did not match"
expect_eq "2: the copy is this binary again" "$(sha256sum <"$copy" | cut -c1-64)" "$sha"
expect_eq "2: a new file (renamed into place)" "$([ "$(stat -c %i "$copy")" != "$ino1" ] && echo yes)" yes
expect_eq "2: no temporary copy left" "$(ls -A "$T/node/bin" | grep -c '^\.mfbench-')" 0

# ---- 3. a path the matrix names
matrix "$T/mp.yaml" "$MFBENCH"
timeout 200 "$MFBENCH" run -m "$T/mp.yaml" --store "$T/s3.db" --json ta/text \
  >"$T/r3.json" 2>"$T/r3.err"
expect_eq "3: run exit status (stderr: $(tail -5 "$T/r3.err"))" "$?" 0
expect_eq "3: nothing uploaded nor checked by hash" \
  "$(grep -c 'mfbench uploaded to\|already there (sha256' "$T/r3.err")" 0
matrix "$T/mn.yaml" "$T/no/such/mfbench"
timeout 200 "$MFBENCH" run -m "$T/mn.yaml" --store "$T/s4.db" --json ta/text \
  >"$T/r4.json" 2>"$T/r4.err"
expect_eq "3: a missing path: exit 1" "$?" 1
expect_contains "3: ... the cell's error names it" \
  "$(json_get "$T/r4.json" 'd["cells"][0]["status"] + ": " + d["cells"][0]["error"]')" \
  "error: mfbench is not runnable on n"

sh "$FIX" stop "$D" >"$D.stop" 2>&1
expect_eq "cluster stop" "$?" 0
STOPPED=yes
finish
