#!/usr/bin/python3
"""test_review_hostile.py - a store whose texts carry markup (issue 25): the profile,
the node's host, kernel, CPU model and the asked-for settings, a framework, a payload
and an error, written with sqlite3 over the store test_review_cmds --fill builds (a
hostile ssh node reports its own hostname). show --format md|csv and report --format
md|csv print no raw markup, the escaped text is there, and every CSV row keeps its
columns."""
import csv
import glob
import io
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile

MFBENCH = os.environ["MFBENCH"]
FILL = os.environ["REVIEW_FILL"]
fails = 0


def check(cond, what):
    global fails
    if not cond:
        fails += 1
        print("FAIL: " + what, file=sys.stderr)


PROFILE = "</title><script>alert(1)</script>"
HOST = "<img src=x onerror=alert(2)>|h`o*s_t[x](y)"
FW = "fl,a\"sk<b>"
PAYLOAD = "js<i>on,x"

top = tempfile.mkdtemp(prefix="mfbench-hostile-")
try:
    db = os.path.join(top, "results.db")
    subprocess.run([FILL, "--fill", db], check=True, timeout=60)
    con = sqlite3.connect(db)
    run = con.execute("SELECT id FROM runs ORDER BY id DESC LIMIT 1").fetchone()[0]
    con.execute("UPDATE runs SET profile = ?, node_host = ?, node_kernel = ?, node_cpu_model = ?,"
                " settings = ? WHERE id = ?",
                (PROFILE, HOST, "<svg onload=alert(3)>", "<script>cpu</script>",
                 "<script>asked</script>", run))
    cell = con.execute("SELECT id FROM cells WHERE run_id = ? ORDER BY id LIMIT 1",
                       (run,)).fetchone()[0]
    con.execute("UPDATE cells SET framework = ?, payload = ? WHERE id = ?", (FW, PAYLOAD, cell))
    con.execute("UPDATE cells SET status = 'error', error = '<script>err</script>' WHERE id = "
                "(SELECT id FROM cells WHERE run_id = ? AND id != ? ORDER BY id LIMIT 1)",
                (run, cell))
    con.commit()
    con.close()

    def mf(*args):
        p = subprocess.run([MFBENCH, *args, "--store", db], capture_output=True, text=True,
                           timeout=60)
        check(p.returncode == 0, "%r exits 0: %d %s" % (args, p.returncode, p.stderr))
        return p.stdout

    def md_ok(text, what):
        check("<script" not in text.lower(), what + ": no raw <script: " + text[:2000])
        check("<img" not in text and "<svg" not in text and "<b>" not in text
              and "<i>" not in text, what + ": no raw tag")
        check("&lt;/title&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in text,
              what + ": the profile escaped")
        check("&lt;img src=x onerror=alert(2)&gt;\\|h\\`o\\*s\\_t\\[x\\](y)" in text,
              what + ": the node host escaped")
        check("#### Js&lt;i&gt;on,x" in text, what + ": the payload heading escaped")
        check("fl,a\"sk&lt;b&gt;" in text, what + ": the framework escaped")
        check("&lt;script&gt;err&lt;/script&gt;" in text, what + ": the error escaped")

    md_ok(mf("show", str(run), "--format", "md"), "show md")

    def csv_ok(text, what):
        rows = list(csv.reader(io.StringIO(text)))
        check(len(rows) > 1, what + ": rows")
        width = len(rows[0])
        check(all(len(r) == width for r in rows), what + ": every row has %d columns" % width)
        check(any(FW in r and PAYLOAD in r for r in rows), what + ": the texts kept whole")

    csv_ok(mf("show", str(run), "--format", "csv"), "show csv")

    rep = os.path.join(top, "md")
    mf("report", "--format", "md", "-o", rep, "--run", str(run))
    with open(os.path.join(rep, "report.md")) as f:
        md_ok(f.read(), "report md")

    rep = os.path.join(top, "csv")
    mf("report", "--format", "csv", "-o", rep, "--run", str(run))
    found = 0
    for name in sorted(glob.glob(os.path.join(rep, "*.csv"))):
        with open(name) as f:
            text = f.read()
        rows = list(csv.reader(io.StringIO(text)))
        check(all(len(r) == len(rows[0]) for r in rows), name + ": every row keeps its columns")
        if any("/" + PAYLOAD in r for r in rows):
            found += 1
    check(found >= 1, "report csv: the payload's name is one quoted field (%d files)" % found)
finally:
    shutil.rmtree(top, ignore_errors=True)
print("%s" % ("ok" if not fails else "%d failed" % fails), file=sys.stderr)
sys.exit(1 if fails else 0)
