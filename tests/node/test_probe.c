/* test_probe.c - the readiness probe against real servers on 127.0.0.1 started
 * through the local node: exact body, wrong body/type/status/framing, refused,
 * never listening, server death, cancel. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "node.h"
#include "t.h"
#include "node_test.h"

static char tmpdir[256];

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

static int start(struct node *n, const char *cmd, const char *name, struct node_server *srv)
{
    char pidf[512], logf[512];
    snprintf(pidf, sizeof pidf, "%s/%s.pid", tmpdir, name);
    snprintf(logf, sizeof logf, "%s/%s.log", tmpdir, name);
    struct err e;
    err_clear(&e);
    int rc = node_server_start(n, cmd, tmpdir, NULL, 4096, pidf, logf, srv, &e);
    if (rc)
        fprintf(stderr, "start %s: %s\n", name, e.msg);
    return rc;
}

int main(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/mfbench-probe-test-XXXXXX");
    if (!mkdtemp(tmpdir))
        return 1;
    struct cfg_node cfg = {.transport = CFG_TRANSPORT_LOCAL, .command_timeout_ms = 20000};
    struct node *n = NULL;
    struct err e;
    err_clear(&e);
    CHECK_INT(node_open(&cfg, &n, &e), ==, 0);
    if (!n)
        T_DONE();
    char path[512];
    snprintf(path, sizeof path, "%s/hello.json", tmpdir);
    CHECK_INT(n->ops->put_file(n, path, "{\"msg\":\"hello world\"}", 21, 0644, &e), ==, 0);

    /* refused: keeps trying until the limit, then says why */
    int port = free_port();
    char url[256];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/hello.json", port);
    struct probe_expect x = {.body = "{\"msg\":\"hello world\"}",
                             .body_len = 21,
                             .length = -1,
                             .content_type = "application/json"};
    err_clear(&e);
    int64_t t0 = mono_ms();
    CHECK_INT(probe_wait(url, &x, 1000, NULL, NULL, NULL, &e), ==, -ETIMEDOUT);
    CHECK_INT(mono_ms() - t0, <, 3000);
    CHECK_CONTAINS(e.msg, "server not ready after 1s");
    CHECK_CONTAINS(e.msg, "connection refused");

    long status = 0;
    struct buf body;
    buf_init(&body, 0);
    err_clear(&e);
    CHECK_INT(probe_get(url, 1000, &status, &body, &e), ==, -ECONNREFUSED);
    CHECK_CONTAINS(e.msg, url);

    /* a real server */
    struct node_server srv;
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "exec /usr/bin/python3 -m http.server %d --bind 127.0.0.1", port);
    CHECK_INT(start(n, cmd, "http", &srv), ==, 0);
    struct alive_arg aa = {n, &srv};
    err_clear(&e);
    CHECK_INT(probe_wait(url, &x, 15000, NULL, alive, &aa, &e), ==, 0);
    if (e.code)
        fprintf(stderr, "probe: %s\n", e.msg);

    buf_reset(&body);
    CHECK_INT(probe_get(url, 2000, &status, &body, &e), ==, 0);
    CHECK_INT(status, ==, 200);
    CHECK_STR(body.data, "{\"msg\":\"hello world\"}");

    struct probe_expect wrong = x;
    wrong.body = "{\"msg\":\"hello World\"}";
    err_clear(&e);
    CHECK_INT(probe_wait(url, &wrong, 5000, NULL, NULL, NULL, &e), ==, -EPROTO);
    CHECK_CONTAINS(e.msg, "body differs at byte 14: expected \"World\\\"}\" got \"world\\\"}\"");

    /* a body that only begins with the expected one is wrong too */
    wrong = x;
    wrong.body_len = 20;
    err_clear(&e);
    CHECK_INT(probe_wait(url, &wrong, 5000, NULL, NULL, NULL, &e), ==, -EPROTO);
    CHECK_CONTAINS(e.msg, "body differs at byte 20");
    CHECK_CONTAINS(e.msg, "(20 vs 21 bytes)");

    wrong = x;
    wrong.body = NULL;
    wrong.length = 5;
    err_clear(&e);
    CHECK_INT(probe_wait(url, &wrong, 5000, NULL, NULL, NULL, &e), ==, -EPROTO);
    CHECK_CONTAINS(e.msg, "body is 21 bytes, expected 5");

    wrong = x;
    wrong.content_type = "text/html";
    err_clear(&e);
    CHECK_INT(probe_wait(url, &wrong, 5000, NULL, NULL, NULL, &e), ==, -EPROTO);
    CHECK_CONTAINS(e.msg, "Content-Type is application/json, expected text/html");

    char url404[300];
    snprintf(url404, sizeof url404, "http://127.0.0.1:%d/missing", port);
    err_clear(&e);
    CHECK_INT(probe_wait(url404, &x, 5000, NULL, NULL, NULL, &e), ==, -EPROTO);
    CHECK_CONTAINS(e.msg, "status 404");

    atomic_int cancel = 1;
    err_clear(&e);
    CHECK_INT(probe_wait(url, &x, 5000, &cancel, NULL, NULL, &e), ==, -ECANCELED);

    CHECK_INT(node_server_stop(n, &srv, 2000, &e), ==, 0);

    /* a server that dies: alive_cb ends the wait */
    CHECK_INT(start(n, "sleep 0.3; exit 1", "dies", &srv), ==, 0);
    err_clear(&e);
    t0 = mono_ms();
    CHECK_INT(probe_wait(url, &x, 10000, NULL, alive, &aa, &e), ==, -ESRCH);
    CHECK_INT(mono_ms() - t0, <, 5000);
    CHECK_CONTAINS(e.msg, "server exited");

    /* a server that never listens */
    CHECK_INT(start(n, "exec sleep 1000", "mute", &srv), ==, 0);
    err_clear(&e);
    t0 = mono_ms();
    CHECK_INT(probe_wait(url, &x, 3000, NULL, alive, &aa, &e), ==, -ETIMEDOUT);
    CHECK_INT(mono_ms() - t0, <, 5000);
    CHECK_CONTAINS(e.msg, "server not ready after 3s (last: connection refused)");
    CHECK_INT(node_server_stop(n, &srv, 1000, &e), ==, 0);

    /* a response with neither Content-Length nor chunked framing */
    snprintf(cmd, sizeof cmd,
             "exec /usr/bin/python3 -c 'import socket\n"
             "s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
             "s.bind((\"127.0.0.1\", %d)); s.listen(8)\n"
             "for i in range(50):\n"
             "    c,_=s.accept(); c.recv(65536)\n"
             "    c.sendall(b\"HTTP/1.0 200 OK\\r\\nContent-Type: application/json\\r\\n\\r\\n"
             "{\\\"msg\\\":\\\"hello world\\\"}\"); c.close()'",
             port);
    CHECK_INT(start(n, cmd, "noframe", &srv), ==, 0);
    err_clear(&e);
    CHECK_INT(probe_wait(url, &x, 10000, NULL, NULL, NULL, &e), ==, -EPROTO);
    CHECK_CONTAINS(e.msg, "neither Content-Length nor chunked");
    CHECK_INT(node_server_stop(n, &srv, 1000, &e), ==, 0);

    /* chunked framing is fine */
    snprintf(cmd, sizeof cmd,
             "exec /usr/bin/python3 -c 'import socket\n"
             "s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
             "s.bind((\"127.0.0.1\", %d)); s.listen(8)\n"
             "for i in range(50):\n"
             "    c,_=s.accept(); c.recv(65536)\n"
             "    c.sendall(b\"HTTP/1.1 200 OK\\r\\nContent-Type: application/json\\r\\n"
             "Transfer-Encoding: chunked\\r\\nConnection: close\\r\\n\\r\\n"
             "7\\r\\n{\\\"msg\\\":\\r\\ne\\r\\n\\\"hello world\\\"}\\r\\n"
             "0\\r\\n\\r\\n\"); c.close()'",
             port);
    CHECK_INT(start(n, cmd, "chunked", &srv), ==, 0);
    err_clear(&e);
    CHECK_INT(probe_wait(url, &x, 10000, NULL, NULL, NULL, &e), ==, 0);
    if (e.code)
        fprintf(stderr, "chunked: %s\n", e.msg);
    CHECK_INT(node_server_stop(n, &srv, 1000, &e), ==, 0);

    buf_free(&body);
    node_close(n);
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    CHECK_INT(system(cmd), ==, 0);
    T_DONE();
}
