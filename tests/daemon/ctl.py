#!/usr/bin/python3
"""ctl.py - a test client of mfbenchd's control socket.
  ctl.py SOCK send JSON            one request, prints the answer line
  ctl.py SOCK wait-phase TIMEOUT   until status shows a job in a load phase (exit 1 on timeout)
  ctl.py SOCK wait-idle TIMEOUT    until nothing runs and nothing is queued
  ctl.py SOCK follow JOB TIMEOUT   polls status to the job's end; prints the states seen, then its status
  ctl.py SOCK garbage MARKER       malformed, oversized, unknown and hostile requests; each must be
                                   answered with an error (prints FAIL lines, exit 1 on any)"""
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
    s.sendall((req if isinstance(req, str) else json.dumps(req)).encode() + b"\n")
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
    return 2

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
