#!/usr/bin/python3
"""ctl.py - a test client of mfbenchd's control socket.
  ctl.py SOCK send JSON            one request, prints the answer line
  ctl.py SOCK wait-phase TIMEOUT   until status shows a job in a load phase (exit 1 on timeout)
  ctl.py SOCK wait-idle TIMEOUT    until nothing runs and nothing is queued
  ctl.py SOCK follow JOB TIMEOUT   polls status to the job's end; prints the states seen, then its status
  ctl.py SOCK garbage MARKER       malformed, oversized, unknown and hostile requests; each must be
                                   answered with an error (prints FAIL lines, exit 1 on any)
  ctl.py SOCK idle TIMEOUT CELL    fills every slot (2 subscribers, silent clients, one half a
                                   line, one that never reads its answers), sees a request refused, then let in after the idle
                                   timeout; triggers CELL; the subscribers are kept and get its
                                   events, the silent ones were closed (FAIL lines, exit 1)
  ctl.py SOCK hold N SECONDS FILE  opens N clients (each answered once), prints "held N", keeps
                                   them until FILE exists or SECONDS pass, then exits 0 if all
                                   N are still open"""
import json, os, socket, sys, time

def conn(path, timeout=10):
    # A full listen backlog answers EAGAIN at once: retry, bounded.
    for attempt in range(100):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(timeout)
        try:
            s.connect(path)
            return s
        except BlockingIOError:
            s.close()
            time.sleep(0.05)
    raise TimeoutError("listen backlog stayed full")

def readline(s, buf=b""):
    while b"\n" not in buf:
        chunk = s.recv(65536)
        if not chunk:
            raise EOFError("closed")
        buf += chunk
    line, _, rest = buf.partition(b"\n")
    return json.loads(line), rest

def send(path, req):
    s = conn(path)
    try:
        s.sendall((req if isinstance(req, str) else json.dumps(req)).encode() + b"\n")
    except BrokenPipeError:
        pass  # refused at once: the answer saying why is still to be read
    a, _ = readline(s)
    s.close()
    return a

def status(path):
    return send(path, {"cmd": "status"})

def main():
    path, what = sys.argv[1], sys.argv[2]
    if what == "send":
        print(json.dumps(send(path, sys.argv[3]), separators=(",", ":")))
        return 0
    if what in ("wait-phase", "wait-idle"):
        end = time.time() + float(sys.argv[3])
        while time.time() < end:
            st = status(path)
            r = st.get("running")
            if what == "wait-phase" and r and r.get("state") == "phase" and r.get("phase"):
                print(json.dumps(st))
                return 0
            if what == "wait-idle" and not r and not st["queue"]:
                print(json.dumps(st))
                return 0
            time.sleep(0.1)
        return 1
    if what == "follow":
        job, end = int(sys.argv[3]), time.time() + float(sys.argv[4])
        seen = []
        while time.time() < end:
            st = status(path)
            r = st.get("running")
            if r and r["job"] == job:
                tag = r["state"]
                if r.get("phase"):
                    p = r["phase"]
                    assert p["users"] > 0 and p["duration_s"] > 0 and p["eta_s"] >= 0, p
                    assert r["eta_max_s"] >= 0, r
                if not seen or seen[-1] != tag:
                    seen.append(tag)
            done = [x for x in st["recent"] if x["job"] == job]
            if done:
                print(" ".join(seen))
                print(done[0]["status"], done[0]["run"])
                return 0
            time.sleep(0.1)
        print(" ".join(seen))
        print("timeout")
        return 1
    if what == "garbage":
        return garbage(path, sys.argv[3])
    if what == "idle":
        return idle(path, float(sys.argv[3]), sys.argv[4])
    if what == "hold":
        return hold(path, int(sys.argv[3]), float(sys.argv[4]), sys.argv[5])
    return 2

def try_status(path):
    """status, or {"refused": why} when the daemon refuses or drops us."""
    try:
        return status(path)
    except (BrokenPipeError, ConnectionResetError, EOFError, socket.timeout) as e:
        return {"refused": repr(e)}

def idle(path, timeout, cell):
    fails = 0
    def bad(msg):
        nonlocal fails
        fails += 1
        print("FAIL: " + msg)
    t0 = time.time()
    subs = []
    for _ in range(2):
        s = conn(path)
        s.sendall(b'{"cmd":"subscribe"}\n')
        a, rest = readline(s)
        if a.get("subscribed") is not True:
            bad("subscribe: %r" % a)
        subs.append([s, rest])
    silent = [conn(path) for _ in range(60)]
    # One asks 5000 times and reads nothing: answered to a full socket, then
    # idle; it must be cut even though its last answer cannot be written.
    stuffed = conn(path)
    stuffed.sendall(b'{"cmd":"status"}\n' * 5000)
    silent.append(stuffed)
    half = conn(path)
    half.sendall(b'{"cmd":"sta')  # never completed
    silent.append(half)
    # Every slot is taken: a request now is refused (as before the timeout existed).
    st = try_status(path)
    if st.get("ok") is not False or "too many connections" not in st.get("error", ""):
        bad("a 65th client was not refused: %r" % st)
    # Let in once the silent clients are closed: not before the timeout, and
    # within it plus the sweep's period and some slack.
    end = time.time() + timeout * 2 + 5
    while time.time() < end:
        st = try_status(path)
        if st.get("ok") is True:
            break
        time.sleep(0.05)
    waited = time.time() - t0
    if st.get("ok") is not True:
        bad("still refused %.1f s after the idle timeout: %r" % (waited, st))
    elif waited < timeout * 0.9:
        bad("let in after %.2f s, before the idle timeout %.2f s" % (waited, timeout))
    a = send(path, {"cmd": "trigger", "cells": [cell]})
    if a.get("ok") is not True:
        bad("trigger after the idle timeout: %r" % a)
    # The silent clients were told and closed (the stuffed one cut a timeout later).
    time.sleep(max(0.0, t0 + timeout * 2.5 + 0.5 - time.time()))
    closed, until = 0, time.time() + 5  # bounded whatever the daemon does
    for s in silent:
        s.settimeout(max(0.01, until - time.time()))
        try:
            data = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    closed += 1
                    break
                data += chunk
        except ConnectionResetError:
            closed += 1
        except socket.timeout:
            pass
        s.close()
    if closed != len(silent):
        bad("%d of %d silent clients closed" % (closed, len(silent)))
    # The subscribers, kept past twice the idle timeout by now, get the job's events.
    for s, rest in subs:
        try:
            ev, rest = readline(s, rest)
            if "event" not in ev:
                bad("subscriber got %r, not an event" % ev)
        except (EOFError, ConnectionResetError, socket.timeout) as e:
            bad("subscriber closed or silent after %.1f s: %r" % (time.time() - t0, e))
        s.close()
    return 1 if fails else 0

def hold(path, n, secs, release):
    held = []
    for _ in range(n):
        s = conn(path)
        s.sendall(b'{"cmd":"status"}\n')
        a, _ = readline(s)
        if a.get("ok") is not True:
            print("FAIL: client %d of %d refused: %r" % (len(held) + 1, n, a))
            return 1
        held.append(s)
    print("held %d" % n, flush=True)
    end = time.time() + secs
    while time.time() < end and not os.path.exists(release):
        time.sleep(0.05)
    alive = 0
    for s in held:
        s.sendall(b'{"cmd":"status"}\n')
        try:
            a, _ = readline(s)
            alive += a.get("ok") is True
        except (EOFError, ConnectionResetError, socket.timeout):
            pass
        s.close()
    print("alive %d" % alive)
    return 0 if alive == n else 1

def garbage(path, marker):
    fails = 0
    def bad(msg):
        nonlocal fails
        fails += 1
        print("FAIL: " + msg)
    # Several bad lines on one connection: each answered, the connection stays usable.
    s = conn(path)
    lines = [
        '{"cmd":"trigger","cells":["flask/text"',          # truncated JSON
        '{"cmd":"reboot"}',                                 # unknown command
        '{"cmd":"trigger","cells":"flask/text"}',           # wrong type
        '{"cmd":"cancel","job":"1; rm -rf /"}',             # wrong type
        '\x00\x01\x02 binary',                              # not JSON
        '{"cmd":"trigger","cells":["flask/text;touch %s"]}' % marker,
        '{"cmd":"trigger","cells":["$(touch %s)/text"]}' % marker,
        '{"cmd":"trigger","cells":["`touch %s`"]}' % marker,
        '{"cmd":"trigger","cells":["flask/text"],"profile":"quick; touch %s"}' % marker,
        '{"cmd":"trigger","cells":["../../etc/passwd"]}',
        '[]', '42', 'null',
    ]
    buf = b""
    for l in lines:
        s.sendall(l.encode() + b"\n")
        a, buf = readline(s, buf)
        if a.get("ok") is not False or not a.get("error"):
            bad("no error for %r: %r" % (l, a))
    s.sendall(b'{"cmd":"status"}\n')
    a, buf = readline(s, buf)
    if a.get("ok") is not True or a.get("state") != "running":
        bad("status after garbage (a job should be running): %r" % a)
    s.close()
    # A 10 MB line: an error, then the connection is closed.
    s = conn(path)
    try:
        s.sendall(b'{"cmd":"status","x":"' + b"A" * (10 << 20) + b'"}\n')
    except (BrokenPipeError, ConnectionResetError):
        pass
    try:
        a, _ = readline(s)
        if a.get("error") != "request too long":
            bad("10 MB line: %r" % a)
    except (EOFError, ConnectionResetError) as e:
        bad("10 MB line: no answer (%s)" % e)
    s.close()
    # Half a request, then the client goes away.
    s = conn(path)
    s.sendall(b'{"cmd":"trig')
    s.close()
    # Many connections at once, then still answering.
    many = [conn(path) for _ in range(80)]
    for m in many:
        m.close()
    # The daemon refuses connections over its limit until it has seen these close:
    # a refusal (an error answer, or the connection closed on us) means not yet.
    st = {}
    for _ in range(100):
        try:
            st = status(path)
        except (BrokenPipeError, ConnectionResetError, EOFError) as e:
            st = {"refused": repr(e)}
        if st.get("ok") is True:
            break
        time.sleep(0.1)
    if st.get("ok") is not True:
        bad("status after many connections: %r" % st)
    if os.path.exists(marker):
        bad("marker %s exists: a cell name reached a shell" % marker)
    return 1 if fails else 0

if __name__ == "__main__":
    sys.exit(main())
