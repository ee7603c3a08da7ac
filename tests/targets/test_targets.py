#!/usr/bin/python3
"""Integration test of targets/: for every framework, --versions, then start the app on
127.0.0.1, check /text /json /file byte for byte (type, framing) and /about, and stop
it by its process group. Run with Debian's /usr/bin/python3 (it sees the python3-* packages)."""
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TARGETS = os.environ.get("MFBENCH_TARGETS") or os.path.normpath(os.path.join(HERE, "..", "..", "targets"))
sys.path.insert(0, TARGETS)
from _shared import payloads  # noqa: E402

PYTHON = os.environ.get("MFBENCH_PYTHON", "/usr/bin/python3")
READY_S = 20.0
STOP_S = 10.0

# name -> (framework key, server key or None when the framework serves itself)
EXPECT = {
    "aiohttp": ("aiohttp", None),
    "bottle": ("bottle", None),
    "bottle-gunicorn": ("bottle", "gunicorn"),
    "django": ("django", "gunicorn"),
    "falcon": ("falcon", "gunicorn"),
    "fastapi": ("fastapi", "uvicorn"),
    "flask": ("flask", "werkzeug"),
    "flask-gunicorn": ("flask", "gunicorn"),
    "japronto": ("japronto", None),
    "pyramid": ("pyramid", None),
    "pyramid-waitress": ("pyramid", "waitress"),
    "sanic": ("sanic", None),
    "starlette": ("starlette", "uvicorn"),
    "tornado": ("tornado", None),
}
# Listen backlog each server is expected to use (capped by net.core.somaxconn);
# japronto's app.run cannot set it (asyncio's default 100).
BACKLOG = {name: 2048 for name in EXPECT}
BACKLOG["japronto"] = 100

# Targets also run with --workers 2 (several processes in the group to stop).
MULTI_PROCESS = {"flask-gunicorn", "tornado"}

# Stacks that cannot be installed here (no PyPI): --versions must fail cleanly.
MAY_BE_ABSENT = {"sanic", "japronto"}

passed = 0
failed = 0
SS = None  # path of iproute2's ss, found by main()


def check(cond, what):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print("FAIL: %s" % what, flush=True)
    return cond


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(port, path, timeout=5.0):
    """GET path; returns (status, headers as list of (name, value), body)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        r = conn.getresponse()
        body = r.read()
        return r.status, r.getheaders(), body
    finally:
        conn.close()


def header(headers, name):
    vals = [v for k, v in headers if k.lower() == name.lower()]
    return vals[0] if len(vals) == 1 else (None if not vals else vals)


def group_alive(pgid):
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


def group_members(pgid):
    """Pids whose process group is pgid, read from /proc (zombies included)."""
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2:].split()
        if int(fields[2]) == pgid:
            out.append(int(d))
    return out


def check_versions(name):
    app = os.path.join(TARGETS, name, "app.py")
    p = subprocess.run([PYTHON, app, "--versions"], capture_output=True, text=True, timeout=30)
    fw, server = EXPECT[name]
    if p.returncode == 3 and name in MAY_BE_ABSENT:
        check(p.stdout == "", "%s --versions: stdout empty on failure" % name)
        check(p.stderr == "%s: No module named '%s'\n" % (name, fw),
              "%s --versions: stderr %r" % (name, p.stderr))
        print("%-17s absent here: %s" % (name, p.stderr.strip()), flush=True)
        # Serving fails the same way, before binding anything.
        p = subprocess.run([PYTHON, app, "--host", "127.0.0.1", "--port", str(free_port())],
                           capture_output=True, text=True, timeout=30)
        check(p.returncode == 3 and p.stderr == "%s: No module named '%s'\n" % (name, fw),
              "%s serve without %s: exit %d %r" % (name, fw, p.returncode, p.stderr))
        return None
    if not check(p.returncode == 0, "%s --versions exit %d: %s" % (name, p.returncode, p.stderr)):
        return None
    lines = p.stdout.splitlines()
    check(len(lines) == 1, "%s --versions: one line, got %r" % (name, p.stdout))
    try:
        v = json.loads(p.stdout)
    except ValueError:
        check(False, "%s --versions: not JSON: %r" % (name, p.stdout))
        return None
    keys = ["python", fw, "ujson"] + ([server] if server else [])
    for k in keys:
        check(isinstance(v.get(k), str) and v[k], "%s --versions: key %s in %r" % (name, k, v))
    check(v.get("python") == "%d.%d.%d" % sys.version_info[:3] or PYTHON != sys.executable,
          "%s --versions: python %r" % (name, v.get("python")))
    return v


def check_response(name, port, path, body, ctype, ctype_exact):
    try:
        status, headers, got = get(port, path)
    except (OSError, http.client.HTTPException) as e:
        check(False, "%s %s: %r" % (name, path, e))
        return
    check(status == 200, "%s %s: status %d" % (name, path, status))
    check(got == body, "%s %s: body %d bytes %r... differs from expected %d bytes"
          % (name, path, len(got), got[:40], len(body)))
    ct = header(headers, "Content-Type")
    ok = isinstance(ct, str) and (ct.lower() == ctype or
                                  (not ctype_exact and ct.lower() == ctype + "; charset=utf-8"))
    check(ok, "%s %s: Content-Type %r" % (name, path, ct))
    cl = header(headers, "Content-Length")
    te = header(headers, "Transfer-Encoding")
    if cl is not None:
        check(te is None, "%s %s: both Content-Length and Transfer-Encoding" % (name, path))
        check(cl == str(len(body)), "%s %s: Content-Length %r" % (name, path, cl))
    else:
        check(isinstance(te, str) and te.lower() == "chunked",
              "%s %s: neither Content-Length nor chunked (close-delimited)" % (name, path))


def listen_backlog(port):
    """Backlog of the socket listening on 127.0.0.1:port (ss shows it as Send-Q),
    -1 when ss fails (main() made sure it is there)."""
    try:
        p = subprocess.run([SS, "-Hltn", "sport = :%d" % port], capture_output=True,
                           text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return -1
    fields = p.stdout.split()
    return int(fields[2]) if p.returncode == 0 and len(fields) >= 3 else -1


def somaxconn():
    try:
        with open("/proc/sys/net/core/somaxconn") as f:
            return int(f.read())
    except (OSError, ValueError):
        return 4096


def wait_ready(proc, port):
    deadline = time.monotonic() + READY_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return "exited with %d" % proc.returncode
        try:
            status, _, body = get(port, "/text", timeout=1.0)
            if status == 200 and body == payloads.TEXT_BYTES:
                return None
        except (OSError, http.client.HTTPException):
            pass
        time.sleep(0.1)
    return "no answer in %.0f s" % READY_S


def stop(proc):
    """SIGTERM the group, wait (bounded), SIGKILL what is left. Returns True if
    SIGTERM alone emptied the group."""
    pgid = proc.pid
    try:
        os.killpg(pgid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    graceful = False
    deadline = time.monotonic() + STOP_S
    while time.monotonic() < deadline:
        proc.poll()
        if not group_alive(pgid):
            graceful = True
            break
        time.sleep(0.05)
    if not graceful:
        try:
            os.killpg(pgid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        end = time.monotonic() + 5
        while group_alive(pgid) and time.monotonic() < end:
            time.sleep(0.05)
    return graceful


def run_target(name, versions, workers=1):
    port = free_port()
    app = os.path.join(TARGETS, name, "app.py")
    extra = ["--workers", str(workers)] if workers > 1 else []
    with tempfile.TemporaryFile() as errf:
        # cwd elsewhere: the app must find its files from its own path, as on a node.
        proc = subprocess.Popen([PYTHON, app, "--host", "127.0.0.1", "--port", str(port)] + extra,
                                stdin=subprocess.DEVNULL, stdout=errf, stderr=errf,
                                start_new_session=True, cwd="/")
        try:
            t0 = time.monotonic()
            why = wait_ready(proc, port)
            if check(why is None, "%s: not ready: %s" % (name, why)):
                ready_s = time.monotonic() - t0
                check_response(name, port, "/text", payloads.TEXT_BYTES, "text/plain", False)
                check_response(name, port, "/json", payloads.JSON_EXPECTED, "application/json",
                               name != "japronto")
                check_response(name, port, "/file", FILE_BYTES, payloads.FILE_CONTENT_TYPE,
                               name != "japronto")
                for _ in range(3):  # repeated requests on fresh connections still answer
                    check_response(name, port, "/json", payloads.JSON_EXPECTED,
                                   "application/json", name != "japronto")
                try:
                    status, _, about = get(port, "/about")
                    check(status == 200 and about.strip(), "%s /about: %d %r" % (name, status, about))
                except (OSError, http.client.HTTPException) as e:
                    check(False, "%s /about: %r" % (name, e))
                if workers > 1:
                    # gunicorn spawns its workers up to 0.1 s apart (a random sleep between
                    # forks), so the first one may answer before the last exists: wait, bounded.
                    deadline = time.monotonic() + 5
                    n = len(group_members(proc.pid))
                    while n < workers + 1 and time.monotonic() < deadline:
                        time.sleep(0.05)
                        n = len(group_members(proc.pid))
                    check(n >= workers + 1, "%s -w %d: %d processes in the group" % (name, workers, n))
                bl = listen_backlog(port)
                want = min(BACKLOG[name], somaxconn())
                check(bl == want, "%s: listen backlog %r, want %d" % (name, bl, want))
                check(proc.poll() is None, "%s: server still running after requests" % name)
                print("%-17s ready in %.1fs  %s  about=%r" % (
                    name + ("" if workers == 1 else " -w%d" % workers), ready_s, json.dumps(versions), about.decode(errors="replace")), flush=True)
        finally:
            pgid = proc.pid
            graceful = stop(proc)
            check(graceful, "%s: SIGTERM did not stop the process group in %.0f s" % (name, STOP_S))
            left = group_members(pgid)
            check(not left, "%s: processes left in group %d: %r" % (name, pgid, left))
            errf.seek(0)
            log = errf.read().decode(errors="replace")
        # Quiet logs: no per-request access line.
        quiet = "/json" not in log and "/file" not in log
        check(quiet, "%s: access log lines on stderr" % name)
        if failed and os.environ.get("VERBOSE", "1") != "0" and (not quiet or why):
            print("---- %s stderr ----\n%s\n----" % (name, log[-3000:]), flush=True)


def main():
    global FILE_BYTES, SS
    SS = shutil.which("ss")
    if not SS:
        # The listen backlog is read with ss; without it that check could not fail.
        print("SKIP: ss not found (apt-get install iproute2)", file=sys.stderr)
        return 77
    with open(payloads.FILE_PATH, "rb") as f:
        FILE_BYTES = f.read()
    check(len(FILE_BYTES) == payloads.FILE_SIZE, "file.bin is %d bytes" % len(FILE_BYTES))
    check(FILE_BYTES == payloads.file_pattern(), "file.bin matches its formula")
    check(payloads.json_body() == payloads.JSON_EXPECTED and len(payloads.JSON_EXPECTED) == 106,
          "json_body() is the 106-byte document")
    check(len(payloads.TEXT_BYTES) == 12, "TEXT is 12 bytes")
    only = sys.argv[1:] or sorted(EXPECT)
    present = sorted(d for d in os.listdir(TARGETS) if not d.startswith(("_", ".")) and
                     os.path.isdir(os.path.join(TARGETS, d)))
    check(present == sorted(EXPECT), "targets/ folders %r" % present)
    t0 = time.monotonic()
    for name in only:
        v = check_versions(name)
        if v is not None:
            run_target(name, v)
            if name in MULTI_PROCESS:
                run_target(name, v, workers=2)
    print("%d passed, %d failed (%.1fs)" % (passed, failed, time.monotonic() - t0))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
