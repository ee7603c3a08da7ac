#!/usr/bin/python3
"""test_spread_ns.py - issue 20: the load engine spreads its connections over
source addresses in 127.0.0.0/8, so the ephemeral port range is no limit on a
loopback target. In a network namespace of its own (unshare -n: the port range
is per namespace) whose range is 1,000 ports, `mfbench load -c 5000` with think
20-40 s holds all 5,000 connections to a local server: connections_max 5000, no
failure of any kind. From one source address at most 1,000 would connect.

The server is nginx (nginx-light, installed by tools/deps.sh --test): one
process, worker_connections and worker_rlimit_nofile set for 5,000 connections
under the descriptor hard limit (20,000 on the test machines). Without nginx,
tests/runner/testserver (a thread per connection). Skipped (77, with the
reason) only when it cannot make a namespace of its own (not root, no unshare
or ip, or `unshare -n` refused); a server that cannot hold 5,000 connections
fails the test. Every run is bounded by a timeout and load goes only to
127.0.0.1 inside the namespace.
usage: test_spread_ns.py MFBENCH_LOAD TESTSERVER"""
import json, os, resource, shutil, signal, socket, subprocess, sys, tempfile, time

USERS = 5000
RANGE = "40000 40999"


def skip(why):
    print("SKIP:", why)
    sys.exit(77)


def outer(load, server):
    if os.geteuid() != 0:
        skip("not root: a network namespace of its own (unshare -n) needs CAP_SYS_ADMIN")
    if not shutil.which("unshare") or not shutil.which("ip"):
        skip("unshare (util-linux) or ip (iproute2) is not installed")
    r = subprocess.run(["unshare", "-n", "true"], capture_output=True, text=True, timeout=10)
    if r.returncode != 0:
        skip("unshare -n is not available here: %s" % r.stderr.strip())
    r = subprocess.run(["unshare", "-n", sys.executable, os.path.abspath(__file__), "--inner",
                        load, server], timeout=150)
    sys.exit(r.returncode)


def fail(why):
    print("FAIL:", why, file=sys.stderr)
    sys.exit(1)


def start_nginx(nginx, d, nofile):
    """nginx in the foreground, one process (as root it stays root: no master to
    hand the connections to a worker user). worker_connections counts every
    connection of the process (the listener too); worker_rlimit_nofile raises
    its own descriptor limit, at most to the hard limit it inherited."""
    conf = os.path.join(d, "nginx.conf")
    with open(conf, "w") as f:
        f.write("""daemon off;
master_process off;
worker_processes 1;
worker_rlimit_nofile %d;
pid %s/nginx.pid;
error_log %s/error.log warn;
events { worker_connections %d; }
http {
    access_log off;
    keepalive_timeout 120s;
    keepalive_requests 1000000;
    client_body_temp_path %s;
    proxy_temp_path %s;
    fastcgi_temp_path %s;
    uwsgi_temp_path %s;
    scgi_temp_path %s;
    server {
        listen 127.0.0.1:18090 backlog=8192;
        location / { default_type text/plain; return 200 "Hello World!"; }
    }
}
""" % (nofile, d, d, USERS + 500, d, d, d, d, d))
    # -e: its log from the start, before it reads the configuration.
    p = subprocess.Popen([nginx, "-p", d, "-e", os.path.join(d, "error.log"), "-c", conf],
                         stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    for _ in range(50):
        time.sleep(0.1)
        if p.poll() is not None:
            break
        try:
            socket.create_connection(("127.0.0.1", 18090), timeout=1).close()
            return p, 18090
        except OSError:
            pass
    if p.poll() is None:
        p.kill()
        p.wait(timeout=10)
    try:
        with open(os.path.join(d, "error.log")) as f:
            log = f.read()[-2000:]
    except OSError:
        log = "(no error.log)"
    fail("%s did not start (exit %s): %s" % (nginx, p.returncode, log))


def inner(load, server):
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True, timeout=10)
    with open("/proc/sys/net/ipv4/ip_local_port_range", "w") as f:
        f.write(RANGE)
    with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
        got = " ".join(f.read().split())
    if got != RANGE:
        print("FAIL: the namespace's port range is %r, not %r" % (got, RANGE), file=sys.stderr)
        return 1
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    # The load engine and the server each hold USERS descriptors and a few more.
    if hard != resource.RLIM_INFINITY and hard < USERS + 500:
        fail("the descriptor hard limit %d is below the %d users' needs" % (hard, USERS + 500))
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # the server's, inherited
    nofile = USERS * 2 + 100
    if hard != resource.RLIM_INFINITY and hard < nofile:
        nofile = hard
    nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx")
                                      else None)
    with tempfile.TemporaryDirectory() as d:
        if nginx:
            srv, port = start_nginx(nginx, d, nofile)
            what = "nginx (worker_connections %d, worker_rlimit_nofile %d, hard limit %s)" % (
                USERS + 500, nofile, "unlimited" if hard == resource.RLIM_INFINITY else hard)
        else:
            nproc = resource.getrlimit(resource.RLIMIT_NPROC)[0]
            with open("/proc/sys/kernel/threads-max") as f:
                tmax = int(f.read())
            if (nproc != resource.RLIM_INFINITY and nproc < USERS + 200) or tmax < USERS + 200:
                fail("no nginx (tools/deps.sh --test installs nginx-light), and the test "
                     "server's thread per connection cannot reach %d (RLIMIT_NPROC %s, "
                     "threads-max %d)" % (USERS, nproc, tmax))
            srv = subprocess.Popen([server, "90"], stdout=subprocess.PIPE)
            port = int(srv.stdout.readline())
            what = "testserver"
        print("server: %s on 127.0.0.1:%d, port range %s" % (what, port, RANGE))
        try:
            t0 = time.monotonic()
            r = subprocess.run([load, "load", "http://127.0.0.1:%d/text" % port, "-c", str(USERS),
                                "--think", "20s:40s", "-d", "15s", "--timeout", "10s",
                                "--expect-body", "Hello World!", "--json"],
                               capture_output=True, text=True, timeout=90)
            took = time.monotonic() - t0
            # ::1 is one address: without source addresses its limit is the
            # port range, named before the phase (no server needed for that).
            r6 = subprocess.run([load, "load", "http://[::1]:9/", "-c", "1500", "-d", "1s",
                                 "--timeout", "2s", "--json"], capture_output=True, text=True,
                                timeout=30)
        finally:
            srv.send_signal(signal.SIGTERM)
            try:
                srv.wait(timeout=10)
            except subprocess.TimeoutExpired:
                srv.kill()
    try:
        j = json.loads(r.stdout)
    except ValueError:
        print("FAIL: no JSON from mfbench load (exit %d): %s" % (r.returncode, r.stderr),
              file=sys.stderr)
        return 1
    fk = j.get("failures_by_kind", {})
    print("took %.1f s: connections_max %s, failures %s, client %s, connect_failures %s, "
          "source_addresses %s, requests %s, client_limit %s" %
          (took, j.get("connections_max"), j.get("failures"), fk.get("client"),
           j.get("connect_failures"), j.get("source_addresses"), j.get("requests"),
           j.get("client_limit")))
    try:
        j6 = json.loads(r6.stdout)
    except ValueError:
        j6 = {}
    print("[::1] 1500 users: client_limit %s: %s" % (j6.get("client_limit"),
                                                    j6.get("client_limit_why")))
    fails = 0
    for ok, what in [
            (j6.get("client_limit") == "client:ports" and
             "ip_local_port_range" in (j6.get("client_limit_why") or ""),
             "one source address: the port range named as the limit (client:ports)"),
            (j.get("connections_max") == USERS, "all %d connections held at once" % USERS),
            (j.get("failures") == 0, "no failure"),
            (fk.get("client") == 0, "no failure on the client's own limits (ports)"),
            (j.get("connect_failures") == 0, "no failed connect"),
            (j.get("requests") == USERS, "each user's first request answered"),
            ((j.get("source_addresses") or 0) > 1, "spread over source addresses"),
            (j.get("client_limit") is None, "no client limit named"),
            (r.returncode == 0, "exit status 0")]:
        if not ok:
            fails += 1
            print("FAIL:", what, file=sys.stderr)
    return 1 if fails else 0


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--inner":
        sys.exit(inner(sys.argv[2], sys.argv[3]))
    if len(sys.argv) != 3:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        sys.exit(2)
    outer(sys.argv[1], sys.argv[2])
