#!/usr/bin/python3
"""Integration test of the database payloads of targets/ (TechEmpower's /db, /queries,
/fortunes, /updates) against a real private PostgreSQL: initdb and pg_ctl in a mktemp
folder (its own port and socket folder; as the postgres user when run as root), the
schema loaded twice from targets/_shared/db/create-postgres.sql, then every framework
that runs here started three times: without --db-dsn (503), with a DSN whose database
does not exist (500 with PostgreSQL's message), with the real one (every answer checked
by the verifier below, which shares no code with the targets). The verifier is first
shown to reject wrong answers. Run with Debian's /usr/bin/python3.
Arguments: framework names to test only those (default: all)."""
import glob
import http.client
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TARGETS = os.environ.get("MFBENCH_TARGETS") or os.path.normpath(os.path.join(HERE, "..", "..", "targets"))
SQL = os.path.join(TARGETS, "_shared", "db", "create-postgres.sql")
PYTHON = os.environ.get("MFBENCH_PYTHON", "/usr/bin/python3")
FRAMEWORKS = ["aiohttp", "bottle", "bottle-gunicorn", "django", "falcon", "fastapi", "flask",
              "flask-gunicorn", "japronto", "pyramid", "pyramid-waitress", "sanic", "starlette",
              "tornado"]
READY_S = 30.0   # generous: the test may run at SCHED_IDLE beside a benchmark
STOP_S = 10.0
HTTP_S = 20.0
PG_START_S = 60
POOL = 3         # not the default (4): the connection count shows --db-pool reached the pool
BURST = 16       # concurrent requests, more than POOL: the pool must make them wait, not fail
ROWS = 10000
EXTRA = "Additional fortune added at request time."

passed = 0
failed = 0


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


# ---- the verifier: TechEmpower's rules, written here from their definition ----------

def escape(s):
    return (s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;").replace("'", "&#39;"))


def html(rows):
    """TechEmpower's fortunes page for these (id, message) rows, in this order."""
    return ("<!DOCTYPE html><html><head><title>Fortunes</title></head><body><table>"
            "<tr><th>id</th><th>message</th></tr>"
            + "".join("<tr><td>%d</td><td>%s</td></tr>" % (i, escape(m)) for i, m in rows)
            + "</table></body></html>").encode("utf-8")


def expected_fortunes(rows):
    """The exact page for the Fortune rows plus the one added at request time, sorted
    by message, escaped."""
    return html(sorted(list(rows) + [(0, EXTRA)], key=lambda r: r[1]))


# The spellings of an escaped quote that HTML reads alike: the engines differ only there
# (jinja2 writes &#34; and &#39;, Django &quot; and &#x27;, bottle &#039;).
QUOTES = ((b"&#34;", b"&quot;"), (b"&#x22;", b"&quot;"), (b"&#039;", b"&#39;"),
          (b"&#x27;", b"&#39;"), (b"&apos;", b"&#39;"))


def verify_fortunes(body, ctype, rows):
    if ctype is None or ctype.lower().replace(" ", "") != "text/html;charset=utf-8":
        return "Content-Type %r, want text/html; charset=utf-8" % (ctype,)
    for alt, canon in QUOTES:
        body = body.replace(alt, canon)
    want = expected_fortunes(rows)
    if body != want:
        i = next((k for k in range(min(len(body), len(want))) if body[k] != want[k]),
                 min(len(body), len(want)))
        return "HTML differs at byte %d: got %r, want %r" % (i, body[max(0, i - 20):i + 40],
                                                             want[max(0, i - 20):i + 40])
    return None


def verify_world(obj):
    if not isinstance(obj, dict) or sorted(obj) != ["id", "randomNumber"]:
        return "not {id, randomNumber}: %r" % (obj,)
    for k in ("id", "randomNumber"):
        v = obj[k]
        if type(v) is not int or not 1 <= v <= ROWS:
            return "%s %r not an integer in 1..%d" % (k, v, ROWS)
    return None


def verify_json_type(ctype):
    if ctype is None or ctype.lower().replace(" ", "") not in ("application/json",
                                                               "application/json;charset=utf-8"):
        return "Content-Type %r, want application/json" % (ctype,)
    return None


def verify_db(body, ctype):
    why = verify_json_type(ctype)
    if why:
        return why
    try:
        obj = json.loads(body)
    except ValueError:
        return "not JSON: %r" % body[:80]
    return verify_world(obj)


def verify_queries(body, ctype, n):
    why = verify_json_type(ctype)
    if why:
        return why
    try:
        arr = json.loads(body)
    except ValueError:
        return "not JSON: %r" % body[:80]
    if not isinstance(arr, list):
        return "not a JSON array: %r" % body[:80]
    if len(arr) != n:
        return "%d rows, want %d" % (len(arr), n)
    for w in arr:
        why = verify_world(w)
        if why:
            return why
    return None


def verify_updates(body, ctype, n, before, now):
    """before and now: {id: randomnumber} of the whole table before and after the request."""
    why = verify_queries(body, ctype, n)
    if why:
        return why
    arr = json.loads(body)
    if len({w["id"] for w in arr}) != n:
        return "an id twice in %r" % arr
    for w in arr:
        i = w["id"]
        if now[i] != w["randomNumber"]:
            return "row %d is %d in the table, the answer says %d" % (i, now[i], w["randomNumber"])
        if before[i] == now[i]:
            return "row %d not changed (%d)" % (i, now[i])
    changed = sum(1 for i in before if before[i] != now[i])
    if changed != n:
        return "%d rows changed in the table, want %d" % (changed, n)
    return None


def verify_self(rows):
    """The verifier must reject wrong answers, else its passes prove nothing."""
    good = expected_fortunes(rows)
    check(verify_fortunes(good, "text/html; charset=utf-8", rows) is None, "verifier: good HTML")
    jinja_style = good.replace(b"&quot;", b"&#34;")
    check(verify_fortunes(jinja_style, "text/html; charset=utf-8", rows) is None,
          "verifier: &#34; is &quot;")
    script = next(m for _, m in rows if "<" in m)
    unescaped = good.replace(escape(script).encode(), script.encode())
    check(unescaped != good and verify_fortunes(unescaped, "text/html; charset=utf-8", rows),
          "verifier: accepts an unescaped fortune")
    in_order = sorted(list(rows) + [(0, EXTRA)], key=lambda r: r[1])
    check(verify_fortunes(html(in_order[::-1]), "text/html; charset=utf-8", rows) is not None,
          "verifier: accepts an unsorted list")
    check(verify_fortunes(html(sorted(rows, key=lambda r: r[1])), "text/html; charset=utf-8",
                          rows) is not None, "verifier: accepts a list without the runtime fortune")
    check(verify_fortunes(good, "text/plain", rows) is not None, "verifier: accepts text/plain")
    twenty = [{"id": i, "randomNumber": i} for i in range(1, 21)]
    check(verify_queries(json.dumps(twenty), "application/json", 20) is None,
          "verifier: 20 good rows")
    check(verify_queries(json.dumps(twenty[:19]), "application/json", 20) is not None,
          "verifier: accepts 19 rows for queries=20")
    check(verify_queries(json.dumps([{"id": 0, "randomNumber": 5}]), "application/json", 1),
          "verifier: accepts id 0")
    check(verify_db(b'{"id":1,"randomnumber":5}', "application/json"),
          "verifier: accepts the column's lower-case name")
    before = {i: i for i in range(1, ROWS + 1)}
    answer = json.dumps([{"id": 7, "randomNumber": 99}])
    after = dict(before)
    after[7] = 99
    check(verify_updates(answer, "application/json", 1, before, after) is None,
          "verifier: a written update")
    check(verify_updates(answer, "application/json", 1, before, before) is not None,
          "verifier: accepts an update that did not write")


# ---- PostgreSQL ----------------------------------------------------------------------

class Postgres:
    def __init__(self, top):
        bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                      key=lambda p: int(p.split("/")[4]) if p.split("/")[4].isdigit() else 0)
        self.bin = os.path.dirname(bins[-1])
        self.top = top
        self.data = os.path.join(top, "data")
        self.sock = os.path.join(top, "sock")
        self.log = os.path.join(top, "postgres.log")
        self.port = free_port()
        self.user = "mfbench"
        self.started = False
        # PostgreSQL refuses to run as root: run it as postgres, in a folder it owns.
        self.runas = []
        if os.getuid() == 0:
            pw = pwd.getpwnam("postgres")
            os.chown(top, pw.pw_uid, pw.pw_gid)
            self.runas = ["runuser", "-u", "postgres", "--"]
        os.chmod(top, 0o755)

    def run(self, argv, timeout=PG_START_S, as_owner=True):
        p = subprocess.run((self.runas if as_owner else []) + argv, capture_output=True,
                           text=True, timeout=timeout, stdin=subprocess.DEVNULL)
        if p.returncode != 0:
            raise RuntimeError("%s: exit %d: %s%s" % (argv[0], p.returncode, p.stdout, p.stderr))
        return p.stdout

    def start(self):
        self.run(["mkdir", "-m", "0700", self.data])
        self.run(["mkdir", "-m", "0755", self.sock])
        self.run([self.bin + "/initdb", "-D", self.data, "-U", self.user, "-A", "trust",
                  "-E", "UTF8", "--locale=C", "--no-sync"])
        opts = ("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off "
                "-c synchronous_commit=off -c max_connections=60" % (self.port, self.sock))
        self.started = True
        self.run([self.bin + "/pg_ctl", "-D", self.data, "-l", self.log, "-w", "-t",
                  str(PG_START_S), "-o", opts, "start"], timeout=PG_START_S + 10)

    def stop(self):
        if self.started:
            try:
                self.run([self.bin + "/pg_ctl", "-D", self.data, "-m", "immediate", "-w", "-t",
                          "30", "stop"], timeout=40)
            except (RuntimeError, subprocess.TimeoutExpired) as e:
                print("pg_ctl stop: %s" % e, flush=True)
            self.started = False

    def psql(self, db, *args):
        return self.run([self.bin + "/psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h",
                         self.sock, "-p", str(self.port), "-U", self.user, "-d", db] + list(args),
                        as_owner=False)

    def dsn_socket(self, db="hello_world"):
        return "postgresql://%s@/%s?host=%s&port=%d" % (self.user, db, self.sock, self.port)

    def dsn_tcp(self, db="hello_world"):
        return "postgresql://%s:not-checked@127.0.0.1:%d/%s" % (self.user, self.port, db)


def connect(pg):
    import psycopg2

    conn = psycopg2.connect(host=pg.sock, port=pg.port, user=pg.user, dbname="hello_world")
    conn.autocommit = True
    return conn


def table(conn):
    with conn.cursor() as cur:
        cur.execute("SELECT id, randomnumber FROM world")
        return dict(cur.fetchall())


def check_schema(pg):
    conn = connect(pg)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT count(*), min(id), max(id), min(randomnumber), max(randomnumber),"
                        " count(DISTINCT randomnumber) FROM world")
            n, lo, hi, rlo, rhi, distinct = cur.fetchone()
            check((n, lo, hi) == (ROWS, 1, ROWS), "world: %d rows, ids %d..%d" % (n, lo, hi))
            check(1 <= rlo and rhi <= ROWS and distinct > ROWS // 2,
                  "world: randomnumber %d..%d, %d distinct" % (rlo, rhi, distinct))
            cur.execute("SELECT id, message FROM fortune ORDER BY id")
            rows = cur.fetchall()
        check([r[0] for r in rows] == list(range(1, 13)), "fortune: ids %r" % [r[0] for r in rows])
        msgs = [r[1] for r in rows]
        check("<script>alert(\"This should not be displayed in a browser alert box.\");</script>"
              in msgs, "fortune: the <script> row")
        check("フレームワークのベンチマーク" in msgs, "fortune: the Japanese row, %r" % msgs[-1:])
        check("A computer scientist is someone who fixes things that aren't broken." in msgs,
              "fortune: the quote row")
        return rows
    finally:
        conn.close()


# ---- the servers ---------------------------------------------------------------------

def get(port, path, timeout=HTTP_S):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        r = conn.getresponse()
        return r.status, r.getheader("Content-Type"), r.read()
    finally:
        conn.close()


def group_alive(pgid):
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False


class Server:
    """One framework's app.py in a process group of its own, stopped by stop()."""
    live = []

    def __init__(self, name, extra):
        self.name = name
        self.port = free_port()
        self.errf = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            [PYTHON, os.path.join(TARGETS, name, "app.py"), "--host", "127.0.0.1",
             "--port", str(self.port)] + extra, stdin=subprocess.DEVNULL, stdout=self.errf,
            stderr=self.errf, start_new_session=True, cwd="/")
        Server.live.append(self)

    def ready(self):
        deadline = time.monotonic() + READY_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return "exited with %d" % self.proc.returncode
            try:
                if get(self.port, "/text", timeout=2.0)[0] == 200:
                    return None
            except (OSError, http.client.HTTPException):
                pass
            time.sleep(0.1)
        return "no answer in %.0f s" % READY_S

    def log(self):
        self.errf.seek(0)
        return self.errf.read().decode(errors="replace")[-3000:]

    def stop(self):
        pgid = self.proc.pid
        for sig, wait in ((signal.SIGTERM, STOP_S), (signal.SIGKILL, 5)):
            try:
                os.killpg(pgid, sig)
            except ProcessLookupError:
                break
            end = time.monotonic() + wait
            while group_alive(pgid) and time.monotonic() < end:
                self.proc.poll()
                time.sleep(0.05)
            if not group_alive(pgid):
                break
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        self.errf.close()
        if self in Server.live:
            Server.live.remove(self)


def fetch(name, port, path):
    try:
        return get(port, path)
    except (OSError, http.client.HTTPException) as e:
        check(False, "%s %s: %r" % (name, path, e))
        return None, None, b""


def runs_here(name):
    p = subprocess.run([PYTHON, os.path.join(TARGETS, name, "app.py"), "--versions"],
                       capture_output=True, text=True, timeout=60)
    if p.returncode == 3:
        print("%-17s absent here: %s" % (name, p.stderr.strip()), flush=True)
        return False
    return check(p.returncode == 0, "%s --versions: exit %d %s" % (name, p.returncode, p.stderr))


def with_server(name, extra, body):
    srv = Server(name, extra)
    try:
        why = srv.ready()
        if check(why is None, "%s %s: not ready: %s" % (name, " ".join(extra), why)):
            f0 = failed
            body(srv.port)
            check(srv.proc.poll() is None, "%s: server died" % name)
            if failed != f0:
                print("---- %s stderr ----\n%s\n----" % (name, srv.log()), flush=True)
        else:
            print("---- %s stderr ----\n%s\n----" % (name, srv.log()), flush=True)
    finally:
        srv.stop()


PATHS = ("/db", "/queries?queries=3", "/fortunes", "/updates?queries=3")


def test_no_dsn(name):
    def body(port):
        for path in PATHS:
            status, ctype, text = fetch(name, port, path)
            check(status == 503 and b"--db-dsn" in text and (ctype or "").startswith("text/plain"),
                  "%s %s without --db-dsn: %r %r %r" % (name, path, status, ctype, text[:100]))
        status, _, text = fetch(name, port, "/text")
        check(status == 200 and text == b"Hello World!", "%s /text without --db-dsn" % name)
    with_server(name, [], body)


def test_bad_db(name, dsn):
    def body(port):
        for path in PATHS:
            status, ctype, text = fetch(name, port, path)
            check(status == 500 and b'database "nope" does not exist' in text,
                  "%s %s with a missing database: %r %r" % (name, path, status, text[:200]))
        status, _, text = fetch(name, port, "/text")
        check(status == 200 and text == b"Hello World!", "%s /text with a missing database" % name)
    with_server(name, ["--db-dsn", dsn, "--db-pool", str(POOL)], body)


def server_connections(conn):
    with conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = 'hello_world'"
                    " AND pid <> pg_backend_pid()")
        return cur.fetchone()[0]


def burst(name, port):
    """BURST requests at once, half /queries, half /updates (concurrent batch updates
    must not deadlock): every answer 200 and well formed."""
    results = [None] * BURST

    def one(k):
        path = "/queries?queries=10" if k % 2 else "/updates?queries=10"
        try:
            status, ctype, b = get(port, path)
            results[k] = verify_queries(b, ctype, 10) if status == 200 else \
                "status %r %r" % (status, b[:200])
        except (OSError, http.client.HTTPException) as e:
            results[k] = repr(e)

    threads = [threading.Thread(target=one, args=(k,)) for k in range(BURST)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(HTTP_S + 5)
    bad = [r for r in results if r is not None]
    check(not bad, "%s: %d of %d concurrent requests failed: %s" % (name, len(bad), BURST,
                                                                    bad[:2]))


# One of each kind of pool; the others take the same error path, run by test_bad_db.
DOWN = {"flask", "aiohttp", "django"}


def test_down(name):
    """Nothing listens at the DSN's port: the server starts all the same, and each
    database request answers 500 with the driver's message, which names the port."""
    port = free_port()

    def body(srv_port):
        for path in ("/db", "/fortunes"):
            status, _, text = fetch(name, srv_port, path)
            check(status == 500 and str(port).encode() in text,
                  "%s %s with the database down: %r %r" % (name, path, status, text[:200]))
    with_server(name, ["--db-dsn", "postgresql://mfbench@127.0.0.1:%d/hello_world" % port], body)


def test_real(name, pg, dsn, rows, conn):
    def body(port):
        ids = set()
        for _ in range(5):
            status, ctype, b = fetch(name, port, "/db")
            why = verify_db(b, ctype) if status == 200 else "status %r" % status
            if check(why is None, "%s /db: %s: %r" % (name, why, b[:200])):
                ids.add(json.loads(b)["id"])
        check(len(ids) > 1, "%s /db: the same row five times: %r" % (name, ids))
        for q, n in (("20", 20), ("0", 1), ("501", 500), ("foo", 1), (None, 1), ("-3", 1)):
            path = "/queries" + ("" if q is None else "?queries=" + q)
            status, ctype, b = fetch(name, port, path)
            why = verify_queries(b, ctype, n) if status == 200 else "status %r" % status
            check(why is None, "%s %s: %s: %r" % (name, path, why, b[:200]))
        for _ in range(2):
            status, ctype, b = fetch(name, port, "/fortunes")
            why = verify_fortunes(b, ctype, rows) if status == 200 else "status %r" % status
            check(why is None, "%s /fortunes: %s" % (name, why))
        for q, n in (("20", 20), ("foo", 1), ("501", 500)):
            before = table(conn)
            status, ctype, b = fetch(name, port, "/updates?queries=" + q)
            now = table(conn)
            why = verify_updates(b, ctype, n, before, now) if status == 200 else "status %r" % status
            check(why is None, "%s /updates?queries=%s: %s: %r" % (name, q, why, b[:200]))
        burst(name, port)
        # The server holds --db-pool connections (Django: one per worker thread, and
        # gunicorn's sync worker has one); a stopped server's may take a moment to go.
        want = 1 if name == "django" else POOL
        deadline = time.monotonic() + 10
        have = server_connections(conn)
        while have != want and time.monotonic() < deadline:
            time.sleep(0.1)
            have = server_connections(conn)
        check(have == want, "%s: %d connections to hello_world, want %d" % (name, have, want))
    with_server(name, ["--db-dsn", dsn, "--db-pool", str(POOL)], body)


def main():
    only = sys.argv[1:] or FRAMEWORKS
    for name in only:
        if name not in FRAMEWORKS:
            print("unknown framework %r" % name, file=sys.stderr)
            return 2
    if not glob.glob("/usr/lib/postgresql/*/bin/initdb"):
        print("SKIP: no /usr/lib/postgresql/*/bin/initdb (apt-get install postgresql)",
              file=sys.stderr)
        return 77
    try:
        import psycopg2  # noqa: F401
    except ImportError:
        print("SKIP: no psycopg2 (apt-get install python3-psycopg2)", file=sys.stderr)
        return 77
    if os.getuid() == 0 and (shutil.which("runuser") is None or not any(
            p.pw_name == "postgres" for p in pwd.getpwall())):
        print("SKIP: root without runuser or a postgres user", file=sys.stderr)
        return 77
    # SIGTERM (meson's timeout) and SIGINT unwind through the finally below.
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(143))
    t0 = time.monotonic()
    top = tempfile.mkdtemp(prefix="mfbench-dbtest-")
    pg = Postgres(top)
    conn = None
    try:
        pg.start()
        pg.psql("postgres", "-c", "CREATE DATABASE hello_world ENCODING 'UTF8' TEMPLATE template0")
        pg.psql("hello_world", "-f", SQL)
        first = sorted(check_schema(pg))
        pg.psql("hello_world", "-f", SQL)  # twice: the file is idempotent
        rows = check_schema(pg)
        check(sorted(rows) == first, "the second load has the same fortunes")
        verify_self(rows)
        conn = connect(pg)
        print("postgres on port %d, socket %s: loaded in %.1fs" % (pg.port, pg.sock,
                                                                 time.monotonic() - t0), flush=True)
        for name in only:
            if not runs_here(name):
                continue
            t1 = time.monotonic()
            f0 = failed
            # Both forms of DSN, a socket folder and host:port, each framework one of them
            # for the real database and the other for the missing one.
            tcp = FRAMEWORKS.index(name) % 2 == 1
            dsn = pg.dsn_tcp() if tcp else pg.dsn_socket()
            test_no_dsn(name)
            test_bad_db(name, pg.dsn_socket("nope") if tcp else pg.dsn_tcp("nope"))
            if name in DOWN:
                test_down(name)
            test_real(name, pg, dsn, rows, conn)
            print("%-17s %s in %.1fs (%s)" % (name, "ok" if failed == f0 else "FAILED",
                                             time.monotonic() - t1, dsn), flush=True)
    except (RuntimeError, subprocess.TimeoutExpired) as e:
        check(False, "setup: %s" % e)
        if os.path.exists(pg.log):
            with open(pg.log, errors="replace") as f:
                print("---- postgres.log ----\n%s\n----" % f.read()[-3000:])
    finally:
        for srv in list(Server.live):
            srv.stop()
        if conn is not None:
            conn.close()
        pg.stop()
        shutil.rmtree(top, ignore_errors=True)
    print("%d passed, %d failed (%.1fs)" % (passed, failed, time.monotonic() - t0))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
