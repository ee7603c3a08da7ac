/* test_strays.c - a server process that leaves the server's process group (a
 * daemonizing `setsid` grandchild) is still the server's: alive while it runs,
 * stopped with the group, and stopped from the pid file after the process
 * that started it is gone. Local transport, `sleep` as the server. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "node.h"
#include "t.h"
#include "node_test.h"

static char tmpdir[256];

/* Polls (bounded) until the file holds a pid; -1 on timeout. */
static long wait_pid_file(const char *path, int timeout_ms)
{
    for (int waited = 0; waited <= timeout_ms; waited += 20) {
        long v = read_long_file(path);
        if (v > 1)
            return v;
        struct timespec ts = {0, 20 * 1000000L};
        nanosleep(&ts, NULL);
    }
    return -1;
}

/* The server: a grandchild that leaves the group (setsid in a subshell) and
 * records its pid, and a leader that sleeps. `leader_exits`: the leader ends
 * at once, leaving only the grandchild (a daemonizing server). */
static int start(struct node *n, const char *pidfile, const char *gcfile, int leader_exits,
                 struct node_server *srv)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "(exec setsid sh -c 'echo $$ > %s; exec sleep 300') & %s", gcfile,
             leader_exits ? "exit 0" : "exec sleep 300");
    char log[512];
    snprintf(log, sizeof log, "%s/server.log", tmpdir);
    struct err e;
    err_clear(&e);
    int rc = node_server_start(n, cmd, tmpdir, NULL, 0, pidfile, log, srv, &e);
    if (rc)
        fprintf(stderr, "start: %s\n", e.msg);
    return rc;
}

int main(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/mfbench-strays-XXXXXX");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    struct cfg_node cfg = {.transport = CFG_TRANSPORT_LOCAL, .command_timeout_ms = 20000};
    struct node *n = NULL;
    struct err e;
    err_clear(&e);
    CHECK_INT(node_open(&cfg, &n, &e), ==, 0);
    if (!n)
        T_DONE();
    char pidfile[512], gc[512];
    snprintf(pidfile, sizeof pidfile, "%s/run/server.pid", tmpdir);

    /* 1. Stopped with its group. */
    {
        struct node_server srv;
        snprintf(gc, sizeof gc, "%s/gc1", tmpdir);
        CHECK_INT(start(n, pidfile, gc, 0, &srv), ==, 0);
        long g = wait_pid_file(gc, 5000);
        CHECK(g > 1);
        CHECK(g != srv.pid);
        CHECK(pid_running(g));
        CHECK(getpgid((pid_t)g) != (pid_t)srv.pid); /* it did leave the group */
        err_clear(&e);
        CHECK_INT(node_server_stop(n, &srv, 2000, &e), ==, 0);
        CHECK(!pid_running(g));
        if (pid_running(g))
            kill((pid_t)g, SIGKILL);
    }

    /* 2. The leader exits, the grandchild serves on: alive, then stopped. */
    {
        struct node_server srv;
        snprintf(gc, sizeof gc, "%s/gc2", tmpdir);
        CHECK_INT(start(n, pidfile, gc, 1, &srv), ==, 0);
        long g = wait_pid_file(gc, 5000);
        CHECK(g > 1);
        for (int i = 0; i < 250 && pid_running(srv.pid); i++) {
            struct timespec ts = {0, 20 * 1000000L};
            nanosleep(&ts, NULL);
        }
        CHECK(!pid_running(srv.pid));
        err_clear(&e);
        CHECK_INT(node_server_alive(n, &srv, &e), ==, 1);
        err_clear(&e);
        CHECK_INT(node_server_stop(n, &srv, 2000, &e), ==, 0);
        CHECK(!pid_running(g));
        err_clear(&e);
        if (pid_running(g))
            kill((pid_t)g, SIGKILL);
    }

    /* 3. Recovery: the starter is gone (only the pid file is left), the group
     * is dead, the grandchild runs: stop_pidfile finds and stops it. */
    {
        struct node_server srv;
        snprintf(gc, sizeof gc, "%s/gc3", tmpdir);
        CHECK_INT(start(n, pidfile, gc, 1, &srv), ==, 0);
        long g = wait_pid_file(gc, 5000);
        CHECK(g > 1);
        int found = 0;
        err_clear(&e);
        CHECK_INT(node_server_stop_pidfile(n, pidfile, 2000, &found, &e), ==, 0);
        CHECK_INT(found, ==, 1);
        CHECK(!pid_running(g));
        if (pid_running(g))
            kill((pid_t)g, SIGKILL);
        /* nothing left: found = 0 */
        err_clear(&e);
        CHECK_INT(node_server_stop_pidfile(n, pidfile, 2000, &found, &e), ==, 0);
        CHECK_INT(found, ==, 0);
    }

    /* 4. Not ours, though they carry the same tag: a process of another user,
     * and one in another mount namespace (another container's server, whose
     * pid file has the same path in its own file system). Root reads every
     * environ, so the tag alone would stop them. */
    if (geteuid() == 0) {
        char tag[600];
        snprintf(tag, sizeof tag, "MFBENCH_SERVER=%s", pidfile);
        pid_t other[2];
        for (int i = 0; i < 2; i++) {
            other[i] = fork();
            if (other[i] == 0) {
                if (i == 0)
                    execlp("setpriv", "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                           "env", tag, "sleep", "60", (char *)NULL);
                else
                    execlp("unshare", "unshare", "-m", "env", tag, "sleep", "60", (char *)NULL);
                _exit(127);
            }
        }
        /* Both have exec'd sleep (the tag is in their environ) within 5 s. */
        for (int i = 0; i < 2; i++) {
            char path[64], comm[64] = "";
            snprintf(path, sizeof path, "/proc/%ld/comm", (long)other[i]);
            for (int w = 0; w < 250; w++) {
                FILE *f = fopen(path, "r");
                if (f) {
                    if (!fgets(comm, sizeof comm, f))
                        comm[0] = 0;
                    fclose(f);
                }
                if (strncmp(comm, "sleep", 5) == 0)
                    break;
                struct timespec ts = {0, 20 * 1000000L};
                nanosleep(&ts, NULL);
            }
            CHECK_STR(comm, "sleep\n");
        }
        int found = -1;
        err_clear(&e);
        CHECK_INT(node_server_stop_pidfile(n, pidfile, 1000, &found, &e), ==, 0);
        CHECK_INT(found, ==, 0);
        CHECK(pid_running(other[0])); /* another user's */
        CHECK(pid_running(other[1])); /* another mount namespace's */
        for (int i = 0; i < 2; i++) {
            kill(other[i], SIGKILL);
            waitpid(other[i], NULL, 0);
        }
    } else {
        fprintf(stderr, "note: case 4 (other users' and namespaces' processes) needs root\n");
    }

    node_close(n);
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    CHECK_INT(system(cmd), ==, 0);
    T_DONE();
}
