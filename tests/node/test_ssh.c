/* test_ssh.c - the ssh transport against a real sshd on 127.0.0.1 (the fixture
 * tests/fixtures/sshd-node.sh, given as argv[1]): the workdir rules, exec, timeouts,
 * files, tree sync, host key and auth failures, and a server's whole life on the node. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "node.h"
#include "t.h"
#include "node_test.h"
#include "workdir_test.h"

static char tmpdir[256];
static const char *fixture;
static char port_s[16], user[64], identity[512], known_hosts[512];

static void stop_fixture(void)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "%s stop %s/sshd; rm -rf %s", fixture, tmpdir, tmpdir);
    if (system(cmd) != 0)
        fprintf(stderr, "fixture stop failed\n");
}

static int start_fixture(void)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "%s start %s/sshd", fixture, tmpdir);
    FILE *p = popen(cmd, "r");
    if (!p)
        return -1;
    char line[2048] = "";
    if (!fgets(line, sizeof line, p))
        line[0] = '\0';
    int st = pclose(p);
    if (st != 0 || sscanf(line, "port=%15s user=%63s identity=%511s known_hosts=%511s", port_s,
                          user, identity, known_hosts) != 4) {
        fprintf(stderr, "fixture start failed: %s\n", line);
        return -1;
    }
    return 0;
}

/* The fingerprint OpenSSH prints for the fixture's host key. */
static void expected_fingerprint(char *out, size_t n)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "ssh-keygen -l -E sha256 -f %s/sshd/host_ed25519.pub | cut -d' ' -f2",
             tmpdir);
    FILE *p = popen(cmd, "r");
    out[0] = '\0';
    if (p) {
        if (!fgets(out, (int)n, p))
            out[0] = '\0';
        pclose(p);
    }
    out[strcspn(out, "\n")] = '\0';
}

static struct cfg_node base_cfg(void)
{
    struct cfg_node c = {.transport = CFG_TRANSPORT_SSH,
                         .host = "127.0.0.1",
                         .port = (int)strtol(port_s, NULL, 10),
                         .user = user,
                         .identity = identity,
                         .known_hosts = known_hosts,
                         .command_timeout_ms = 20000};
    return c;
}

static void test_exec(struct node *n)
{
    struct err e;
    struct buf out;
    buf_init(&out, 0);
    int st = -1;
    err_clear(&e);
    CHECK_INT(node_exec(n, "echo hello; echo err >&2; exit 3", 10000, &out, &st, &e), ==, 0);
    CHECK_INT(st, ==, 3);
    CHECK_CONTAINS(out.data, "hello\n");
    CHECK_CONTAINS(out.data, "err\n");

    buf_reset(&out);
    CHECK_INT(node_exec(n, "echo \"it's\" '$HOME'", 10000, &out, &st, &e), ==, 0);
    CHECK_STR(out.data, "it's $HOME\n");

    buf_reset(&out);
    CHECK_INT(node_exec(n, "kill -9 $$", 10000, &out, &st, &e), ==, 0);
    CHECK_INT(st, ==, 137);

    buf_reset(&out);
    err_clear(&e);
    CHECK_INT(node_exec_ok(n, "echo boom; exit 4", 10000, &out, &e), ==, -EIO);
    CHECK_CONTAINS(e.msg, "command failed (exit 4): boom");

    /* output cap */
    struct buf small;
    buf_init(&small, 1000);
    CHECK_INT(node_exec(n, "head -c 300000 /dev/zero", 10000, &small, &st, &e), ==, 0);
    CHECK_INT(small.len, ==, 1000);
    CHECK_INT(st, ==, 0);
    buf_free(&small);

    /* stdin larger than the channel window */
    size_t big = 3u << 20;
    char *data = malloc(big);
    for (size_t i = 0; data && i < big; i++)
        data[i] = (char)('a' + i % 26);
    buf_reset(&out);
    err_clear(&e);
    CHECK_INT(node_exec_stdin(n, "wc -c", data, big, 20000, &out, &st, &e), ==, 0);
    CHECK_INT(atol(out.data ? out.data : "0"), ==, (long)big);
    free(data);

    /* timeout: -ETIMEDOUT, the node kills the command, the session still works */
    char pidf[300], cmd[1024];
    snprintf(pidf, sizeof pidf, "%s/sleep.pid", tmpdir);
    snprintf(cmd, sizeof cmd, "sleep 100 & echo $! > %s; wait", pidf);
    err_clear(&e);
    int64_t t0 = mono_ms();
    CHECK_INT(node_exec(n, cmd, 1000, &out, &st, &e), ==, -ETIMEDOUT);
    /* Back within the deadline plus the wait for the node's own kill (2 s
     * after, SIGKILL 2 s later, plus a late remote start): bounded, not hung. */
    CHECK_INT(mono_ms() - t0, <, 10000);
    CHECK_CONTAINS(e.msg, "timed out after 1000ms");
    CHECK_CONTAINS(e.msg, "sleep 100");
    long child = read_long_file(pidf);
    CHECK_INT(child, >, 1);
    CHECK(child > 1 && wait_until(pid_gone, &child, 10000));
    buf_reset(&out);
    err_clear(&e);
    CHECK_INT(node_exec(n, "echo still", 10000, &out, &st, &e), ==, 0);
    CHECK_STR(out.data, "still\n");

    /* put_file */
    char p[512];
    snprintf(p, sizeof p, "%s/put/a b/it's.txt", tmpdir);
    err_clear(&e);
    CHECK_INT(n->ops->put_file(n, p, "line\n", 5, 0600, &e), ==, 0);
    struct buf b;
    buf_init(&b, 0);
    CHECK_INT(mf_read_file(p, 100, &b, &e), ==, 0);
    CHECK_STR(b.data, "line\n");
    struct stat sst;
    CHECK_INT(stat(p, &sst), ==, 0);
    CHECK_INT(sst.st_mode & 0777, ==, 0600);
    buf_free(&b);
    buf_free(&out);
}

static void test_sync(struct node *n)
{
    struct err e;
    char src[300], dst[300], cmd[4096];
    snprintf(src, sizeof src, "%s/src", tmpdir);
    snprintf(dst, sizeof dst, "%s/node/targets", tmpdir);
    snprintf(cmd, sizeof cmd,
             "mkdir -p %s/app/__pycache__ && echo 'print(1)' > %s/app/main.py && "
             "echo x > %s/app/__pycache__/main.pyc && echo r > %s/README",
             src, src, src, src);
    CHECK_INT(system(cmd), ==, 0);
    int up = -1;
    err_clear(&e);
    CHECK_INT(node_sync_tree(n, src, dst, &up, &e), ==, 0);
    if (e.code)
        fprintf(stderr, "sync: %s\n", e.msg);
    CHECK_INT(up, ==, 1);
    CHECK_INT(n->files_uploaded, ==, 2);
    snprintf(cmd, sizeof cmd,
             "test \"$(cat %s/app/main.py)\" = 'print(1)' && test ! -e %s/app/__pycache__", dst,
             dst);
    CHECK_INT(system(cmd), ==, 0);
    uint64_t bytes = n->bytes_uploaded, files = n->files_uploaded;
    CHECK_INT(node_sync_tree(n, src, dst, &up, &e), ==, 0);
    CHECK_INT(up, ==, 0);
    CHECK_INT(n->bytes_uploaded - bytes, ==, 0);
    CHECK_INT(n->files_uploaded - files, ==, 0);
    snprintf(cmd, sizeof cmd, "echo 'print(2)' > %s/app/main.py", src);
    CHECK_INT(system(cmd), ==, 0);
    CHECK_INT(node_sync_tree(n, src, dst, &up, &e), ==, 0);
    CHECK_INT(up, ==, 1);
    snprintf(cmd, sizeof cmd, "test \"$(cat %s/app/main.py)\" = 'print(2)'", dst);
    CHECK_INT(system(cmd), ==, 0);
}

static void test_refusals(void)
{
    struct err e;
    struct node *n = NULL;
    char fp[128], where[64], cmd[4096], other[300], empty[300];
    expected_fingerprint(fp, sizeof fp);
    CHECK(strncmp(fp, "SHA256:", 7) == 0);
    snprintf(where, sizeof where, "127.0.0.1:%s", port_s);

    /* a known_hosts with another key for this host */
    snprintf(other, sizeof other, "%s/other_known_hosts", tmpdir);
    snprintf(cmd, sizeof cmd,
             "ssh-keygen -q -t ed25519 -N '' -f %s/otherkey && "
             "printf '[127.0.0.1]:%s %%s\\n' \"$(cut -d' ' -f1,2 %s/otherkey.pub)\" > %s",
             tmpdir, port_s, tmpdir, other);
    CHECK_INT(system(cmd), ==, 0);
    struct cfg_node c = base_cfg();
    c.known_hosts = other;
    err_clear(&e);
    CHECK_INT(node_open(&c, &n, &e), ==, -EPERM);
    CHECK(n == NULL);
    CHECK_CONTAINS(e.msg, "SHA256:");
    CHECK_CONTAINS(e.msg, fp);
    CHECK_CONTAINS(e.msg, where);
    CHECK_CONTAINS(e.msg, other);
    CHECK_CONTAINS(e.msg, "CHANGED");

    /* an empty known_hosts: unknown host */
    snprintf(empty, sizeof empty, "%s/empty_known_hosts", tmpdir);
    FILE *f = fopen(empty, "w");
    if (f)
        fclose(f);
    c = base_cfg();
    c.known_hosts = empty;
    err_clear(&e);
    CHECK_INT(node_open(&c, &n, &e), ==, -EPERM);
    CHECK_CONTAINS(e.msg, "unknown host key");
    CHECK_CONTAINS(e.msg, fp);
    CHECK_CONTAINS(e.msg, where);

    /* a missing known_hosts file: refused too */
    c.known_hosts = "/nonexistent/known_hosts";
    err_clear(&e);
    CHECK_INT(node_open(&c, &n, &e), ==, -EPERM);
    CHECK_CONTAINS(e.msg, "/nonexistent/known_hosts");

    /* a key the server does not know */
    char wrong[512];
    snprintf(wrong, sizeof wrong, "%s/otherkey", tmpdir);
    c = base_cfg();
    c.identity = wrong;
    err_clear(&e);
    CHECK_INT(node_open(&c, &n, &e), ==, -EACCES);
    CHECK_CONTAINS(e.msg, "authentication as");
    CHECK_CONTAINS(e.msg, wrong);

    /* a closed port: refused at once */
    c = base_cfg();
    c.port = free_port();
    err_clear(&e);
    int64_t t0 = mono_ms();
    CHECK_INT(node_open(&c, &n, &e), ==, -ECONNREFUSED);
    CHECK_INT(mono_ms() - t0, <, 2000);
    CHECK_CONTAINS(e.msg, "127.0.0.1");

    /* a peer that accepts but never speaks SSH: the handshake has a deadline */
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    CHECK_INT(bind(lfd, (struct sockaddr *)&a, sizeof a), ==, 0);
    CHECK_INT(listen(lfd, 4), ==, 0);
    CHECK_INT(getsockname(lfd, (struct sockaddr *)&a, &al), ==, 0);
    c = base_cfg();
    c.port = ntohs(a.sin_port);
    c.command_timeout_ms = 1500;
    err_clear(&e);
    t0 = mono_ms();
    CHECK_INT(node_open(&c, &n, &e), ==, -ETIMEDOUT);
    CHECK_INT(mono_ms() - t0, <, 5000);
    CHECK_CONTAINS(e.msg, "handshake");
    close(lfd);
}

struct alive_arg {
    struct node *n;
    struct node_server *srv;
};

static int alive(void *arg)
{
    struct alive_arg *a = arg;
    struct err e;
    err_clear(&e);
    return node_server_alive(a->n, a->srv, &e) == 1;
}

static void test_server(struct node *n)
{
    struct err e;
    struct node_server srv;
    char www[300], pidf[300], logf[300], cmd[1024], url[256];
    snprintf(www, sizeof www, "%s/www", tmpdir);
    snprintf(pidf, sizeof pidf, "%s/run/http.pid", tmpdir);
    snprintf(logf, sizeof logf, "%s/log/http.log", tmpdir);
    char file[600];
    snprintf(file, sizeof file, "%s/ping.txt", www);
    err_clear(&e);
    CHECK_INT(n->ops->put_file(n, file, "pong-0123456789", 15, 0644, &e), ==, 0);

    struct buf out;
    buf_init(&out, 0);
    CHECK_INT(node_exec_ok(n, "ulimit -Hn", 10000, &out, &e), ==, 0);
    long long hard = !out.data || strncmp(out.data, "unlimited", 9) == 0 ? -1 : atoll(out.data);

    int port = free_port();
    snprintf(cmd, sizeof cmd, "exec /usr/bin/python3 -m http.server %d --bind 127.0.0.1", port);
    err_clear(&e);
    int rc = node_server_start(n, cmd, www, "0", 999999, pidf, logf, &srv, &e);
    CHECK_INT(rc, ==, 0);
    if (rc) {
        fprintf(stderr, "start: %s\n", e.msg);
        return;
    }
    CHECK_INT(read_long_file(pidf), ==, srv.pid);
    CHECK_INT(getpgid((pid_t)srv.pid), ==, srv.pid);
    if (hard > 0 && hard < 999999) {
        CHECK_INT(srv.nofile, ==, hard);
        char want[128];
        snprintf(want, sizeof want, "nofile 999999 clamped to the node's hard limit %lld", hard);
        CHECK_STR(srv.warning, want);
    } else {
        CHECK_INT(srv.nofile, ==, 999999);
    }
    snprintf(url, sizeof url, "http://127.0.0.1:%d/ping.txt", port);
    struct alive_arg aa = {n, &srv};
    struct probe_expect x = {
        .body = "pong-0123456789", .body_len = 15, .length = 15, .content_type = "text/plain"};
    err_clear(&e);
    CHECK_INT(probe_wait(url, &x, 20000, NULL, alive, &aa, &e), ==, 0);
    if (e.code)
        fprintf(stderr, "probe: %s\n", e.msg);

    snprintf(cmd, sizeof cmd, "grep -q \"^Max open files *%lld \" /proc/%ld/limits",
             (long long)srv.nofile, srv.pid);
    CHECK_INT(system(cmd), ==, 0);
    snprintf(cmd, sizeof cmd, "taskset -p %ld | grep -q ': 1$'", srv.pid);
    CHECK_INT(system(cmd), ==, 0);

    struct probe_expect wrong = x;
    wrong.body = "pong-0123456780";
    err_clear(&e);
    CHECK_INT(probe_wait(url, &wrong, 10000, NULL, NULL, NULL, &e), ==, -EPROTO);
    CHECK_CONTAINS(e.msg, "body differs at byte 14: expected \"0\" got \"9\"");

    buf_reset(&out);
    CHECK_INT(node_server_log_tail(n, &srv, 3, &out, &e), ==, 0);
    CHECK_CONTAINS(out.data, "GET /ping.txt");

    long pid = srv.pid;
    err_clear(&e);
    CHECK_INT(node_server_stop(n, &srv, 3000, &e), ==, 0);
    CHECK_INT(pid_running(pid), ==, 0);
    snprintf(cmd, sizeof cmd, "ps -o stat= -g %ld 2>/dev/null | grep -qv Z", pid);
    CHECK(system(cmd) != 0);
    CHECK(access(pidf, F_OK) != 0);

    /* never listens: the probe gives up at its limit */
    err_clear(&e);
    CHECK_INT(node_server_start(n, "exec sleep 1000", www, "0", 4096, pidf, logf, &srv, &e), ==, 0);
    err_clear(&e);
    int64_t t0 = mono_ms();
    CHECK_INT(probe_wait(url, &x, 3000, NULL, alive, &aa, &e), ==, -ETIMEDOUT);
    CHECK_INT(mono_ms() - t0, <, 6000);
    CHECK_CONTAINS(e.msg, "server not ready after 3s");

    /* left behind, found again by a new connection from the pid file */
    pid = srv.pid;
    struct cfg_node c = base_cfg();
    struct node *n2 = NULL;
    err_clear(&e);
    CHECK_INT(node_open(&c, &n2, &e), ==, 0);
    if (n2) {
        int found = -1;
        CHECK_INT(node_server_stop_pidfile(n2, pidf, 1000, &found, &e), ==, 0);
        CHECK_INT(found, ==, 1);
        CHECK_INT(pid_running(pid), ==, 0);
        CHECK_INT(node_server_stop_pidfile(n2, pidf, 1000, &found, &e), ==, 0);
        CHECK_INT(found, ==, 0);
        node_close(n2);
    }
    buf_free(&out);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s path/to/sshd-node.sh\n", argv[0]);
        return 2;
    }
    fixture = argv[1];
    snprintf(tmpdir, sizeof tmpdir, "/tmp/mfbench-ssh-test-XXXXXX");
    if (!mkdtemp(tmpdir))
        return 1;
    atexit(stop_fixture);
    char home[300];
    snprintf(home, sizeof home, "%s/home", tmpdir);
    CHECK_INT(mkdir(home, 0700), ==, 0);
    setenv("SSHD_NODE_HOME", home, 1); /* the node's $HOME (the fixture's SetEnv) */
    if (start_fixture()) {
        T_FAIL("sshd fixture did not start");
        T_DONE();
    }
    struct cfg_node cfg = base_cfg();
    struct node *n = NULL;
    struct err e;
    err_clear(&e);
    int rc = node_open(&cfg, &n, &e);
    CHECK_INT(rc, ==, 0);
    if (rc) {
        fprintf(stderr, "open: %s\n", e.msg);
        T_DONE();
    }
    CHECK_STR(n->host, "127.0.0.1");
    CHECK_STR(n->ops->name, "ssh");
    /* The workdir rules, checked on the node by its shell (the node is this machine). */
    char wbase[300];
    snprintf(wbase, sizeof wbase, "%s/wd", tmpdir);
    CHECK_INT(mkdir(wbase, 0700), ==, 0);
    check_workdir_rules(n, wbase);
    /* Without node.workdir: the ssh user's ~/.cache/mfbench/node, $HOME expanded on the
     * node (not here); ~/PATH likewise. */
    char want[400];
    CHECK_INT(wd_open(n, NULL, &e), ==, 0);
    snprintf(want, sizeof want, "%s/.cache/mfbench/node", home);
    CHECK_STR(node_workdir(n), want);
    CHECK_INT(wd_mode(want), ==, 0700);
    CHECK_INT(wd_open(n, "~/elsewhere", &e), ==, 0);
    snprintf(want, sizeof want, "%s/elsewhere", home);
    CHECK_STR(node_workdir(n), want);
    n->workdir[0] = '\0';
    test_exec(n);
    test_sync(n);
    test_refusals();
    test_server(n);
    node_close(n);
    T_DONE();
}
