/* test_dispatch.c - the pure pieces of the Slurm dispatcher (issue 23): node.cpus and
 * load.cpus as indexes into an allocation's CPU set (exec_dispatch_map_cpus), and the
 * matrix rewritten for the node (cfg_node_matrix): a local node with the allocation's
 * CPUs, its own workdir and port, the slurm and ssh keys gone, a framework's dir made
 * absolute, the rest as written; it loads again. */
#include <errno.h>
#include <unistd.h>

#include "config.h"
#include "dispatch.h"
#include "t.h"

static void test_map_cpus(void)
{
    char out[256], msg[256];
    CHECK_INT(exec_dispatch_map_cpus("0", "4-7", out, sizeof out, msg, sizeof msg), ==, 0);
    CHECK_STR(out, "4");
    CHECK_INT(exec_dispatch_map_cpus("1-2", "4-7", out, sizeof out, msg, sizeof msg), ==, 0);
    CHECK_STR(out, "5,6");
    CHECK_INT(exec_dispatch_map_cpus("0,3", "2,9,11,13", out, sizeof out, msg, sizeof msg), ==, 0);
    CHECK_STR(out, "2,13");
    /* One CPU allocated: every index is it (server and engine share it). */
    CHECK_INT(exec_dispatch_map_cpus("1", "3", out, sizeof out, msg, sizeof msg), ==, 0);
    CHECK_STR(out, "3");
    CHECK_INT(exec_dispatch_map_cpus("0-1", "3", out, sizeof out, msg, sizeof msg), ==, 0);
    CHECK_STR(out, "3");
    /* Past the set of several: refused, saying so. */
    CHECK_INT(exec_dispatch_map_cpus("4", "0-3", out, sizeof out, msg, sizeof msg), ==, -ERANGE);
    CHECK_CONTAINS(msg, "CPU index 4 is past the allocation's 4 CPUs (0-3)");
    /* No pinning stays none. */
    CHECK_INT(exec_dispatch_map_cpus("", "0-3", out, sizeof out, msg, sizeof msg), ==, 0);
    CHECK_STR(out, "");
    CHECK_INT(exec_dispatch_map_cpus("0", "x", out, sizeof out, msg, sizeof msg), ==, -EINVAL);
    CHECK_CONTAINS(msg, "cannot be read");
}

static const char matrix[] = "version: 1\n"
                             "node:\n"
                             "  transport: slurm\n"
                             "  workdir: /srv/bench\n"
                             "  cpus: \"1\"\n"
                             "  nofile: 4096\n"
                             "  slurm: {partition: bench, time_limit: 10m, max_parallel: 4,\n"
                             "          args: [\"--constraint=epyc\"]}\n"
                             "load:\n"
                             "  cpus: \"0\"\n"
                             "defaults:\n"
                             "  duration: 2s\n  warmup: 1s\n"
                             "payloads:\n"
                             "  text: {path: /text, body: \"Hello World!\"}\n"
                             "frameworks:\n"
                             "  flask: {server: werkzeug}\n"
                             "  mine:\n"
                             "    start: \"{python} {dir}/app.py --port {port}\"\n"
                             "    dir: ./tgt\n";

static void test_node_matrix(void)
{
    struct cfg_matrix *m = NULL, *n = NULL;
    struct err e;
    err_clear(&e);
    /* A matrix "file" in /tmp, so dir ./tgt is relative to /tmp. */
    char path[] = "/tmp/mfbench-dispatch.XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    if (fd < 0)
        return;
    CHECK_INT(write(fd, matrix, sizeof matrix - 1), ==, (long long)(sizeof matrix - 1));
    close(fd);
    CHECK_INT(cfg_load_file(path, &m, &e), ==, 0);
    unlink(path);
    if (!m) {
        T_FAIL("load: %s", e.msg);
        return;
    }
    struct cfg_node_rewrite rw = {
        .workdir = "/srv/bench/slot-2", .cpus = "9", .load_cpus = "8", .server_port = 8002};
    char *text = NULL;
    size_t len = 0;
    CHECK_INT(cfg_node_matrix(m, &rw, &text, &len, &e), ==, 0);
    CHECK(text && strlen(text) == len);
    CHECK(text && !strstr(text, "slurm"));
    CHECK(text && !strstr(text, "epyc"));
    CHECK_INT(cfg_load_string("<node>", text ? text : "", len, &n, &e), ==, 0);
    if (n) {
        CHECK_INT(n->node.transport, ==, CFG_TRANSPORT_LOCAL);
        CHECK_STR(n->node.workdir, "/srv/bench/slot-2");
        CHECK_STR(n->node.cpus, "9");
        CHECK_STR(n->load_cpus, "8");
        CHECK_INT(n->node.server_port, ==, 8002);
        CHECK_INT(n->node.nofile, ==, 4096); /* the rest as written */
        CHECK_INT(n->defaults.duration_ms, ==, 2000);
        CHECK_INT(n->nframeworks, ==, 2);
        CHECK_INT(n->npayloads, ==, 1);
        const struct cfg_framework *mine = cfg_find_framework(n, "mine");
        CHECK(mine && mine->dir && strcmp(mine->dir, "/tmp/tgt") == 0);
        CHECK(mine && mine->start && strstr(mine->start, "{dir}/app.py"));
    }
    cfg_free(n);
    free(text);
    cfg_free(m);
}

int main(void)
{
    test_map_cpus();
    test_node_matrix();
    T_DONE();
}
