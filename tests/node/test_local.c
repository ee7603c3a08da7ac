/* test_local.c - the local transport: exec, timeouts that kill the group,
 * output cap, put_file, sync_tree (and its ustar stream read back by tar), the
 * workdir (its rules and its per-user default), and the server lifecycle with
 * `sleep` as the server. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "node.h"
#include "t.h"
#include "node_test.h"
#include "workdir_test.h"

static char tmpdir[256];

static void write_file(const char *rel, const char *text, int mode)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", tmpdir, rel);
    FILE *f = fopen(p, "w");
    if (!f) {
        T_FAIL("fopen %s", p);
        return;
    }
    fputs(text, f);
    fclose(f);
    chmod(p, (mode_t)mode);
}

/* For wait_until: the file at path holds the server's first line. */
static int file_has_its2(void *path)
{
    char b[256] = "";
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    size_t k = fread(b, 1, sizeof b - 1, f);
    fclose(f);
    b[k] = '\0';
    return strstr(b, "it's 2") != NULL;
}

/* For wait_until: the file at path exists. */
static int file_exists(void *path)
{
    return access(path, F_OK) == 0;
}

static void test_exec(struct node *n)
{
    struct err e;
    struct buf out;
    buf_init(&out, 0);
    int st = -1;
    err_clear(&e);
    CHECK_INT(node_exec(n, "echo hello; echo err >&2; exit 3", 5000, &out, &st, &e), ==, 0);
    CHECK_INT(st, ==, 3);
    CHECK_CONTAINS(out.data, "hello\n");
    CHECK_CONTAINS(out.data, "err\n");

    buf_reset(&out);
    err_clear(&e);
    CHECK_INT(node_exec_ok(n,
                           "for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22; "
                           "do echo line$i; done; exit 7",
                           5000, &out, &e),
              ==, -EIO);
    CHECK_CONTAINS(e.msg, "command failed (exit 7)");
    CHECK_CONTAINS(e.msg, "line22");
    CHECK(strstr(e.msg, "line2\n") == NULL); /* only the last 20 lines */

    /* killed by a signal: 128+n */
    buf_reset(&out);
    err_clear(&e);
    CHECK_INT(node_exec(n, "kill -9 $$", 5000, &out, &st, &e), ==, 0);
    CHECK_INT(st, ==, 128 + 9);

    /* stdin */
    buf_reset(&out);
    err_clear(&e);
    CHECK_INT(node_exec_stdin(n, "tr a-z A-Z", "abc", 3, 5000, &out, &st, &e), ==, 0);
    CHECK_STR(out.data, "ABC");

    /* output cap: excess dropped, not an error */
    struct buf small;
    buf_init(&small, 100);
    err_clear(&e);
    CHECK_INT(
        node_exec(n, "head -c 100000 /dev/zero | tr '\\0' x; echo done", 5000, &small, &st, &e), ==,
        0);
    CHECK_INT(st, ==, 0);
    CHECK_INT(small.len, ==, 100);
    buf_free(&small);

    /* a background child keeping the pipe open does not hold us until the deadline */
    buf_reset(&out);
    err_clear(&e);
    int64_t t0 = mono_ms();
    CHECK_INT(node_exec(n, "sleep 3 & echo started", 10000, &out, &st, &e), ==, 0);
    CHECK_INT(mono_ms() - t0, <, 2500);
    CHECK_CONTAINS(out.data, "started");
    buf_free(&out);
}

static void test_timeout(struct node *n)
{
    struct err e;
    struct buf out;
    buf_init(&out, 0);
    char pidf[512], cmd[1024];
    snprintf(pidf, sizeof pidf, "%s/sleep.pid", tmpdir);
    snprintf(cmd, sizeof cmd, "sleep 100 & echo $! > %s; wait", pidf);
    int st = 0;
    err_clear(&e);
    int64_t t0 = mono_ms();
    CHECK_INT(node_exec(n, cmd, 500, &out, &st, &e), ==, -ETIMEDOUT);
    CHECK_INT(mono_ms() - t0, <, 4000);
    CHECK_CONTAINS(e.msg, "500ms");
    CHECK_CONTAINS(e.msg, "sleep 100");
    long child = read_long_file(pidf);
    CHECK_INT(child, >, 1);
    /* the group got SIGTERM; the kernel may take a moment */
    CHECK(child > 1 && wait_until(pid_gone, &child, 2000));

    /* SIGTERM goes to the whole group first, not only its leader: a child
     * that handles it leaves a mark (SIGKILL, 1 s later, would leave none).
     * Its output goes to /dev/null: the pipe is closed before the SIGTERM,
     * and its shell's "Terminated" would die of SIGPIPE. */
    char sigf[512];
    snprintf(sigf, sizeof sigf, "%s/term.sig", tmpdir);
    snprintf(cmd, sizeof cmd,
             "sh -c 'trap \"echo term > %s; exit 0\" TERM; while :; do sleep 0.05; done' "
             ">/dev/null 2>&1 & wait",
             sigf);
    err_clear(&e);
    CHECK_INT(node_exec(n, cmd, 1500, &out, &st, &e), ==, -ETIMEDOUT); /* time to set its trap */
    CHECK(wait_until(file_exists, sigf, 3000));

    /* a child that ignores SIGTERM gets SIGKILL after 1 s */
    snprintf(cmd, sizeof cmd, "sh -c 'trap \"\" TERM; echo $$ > %s; while :; do sleep 0.05; done'",
             pidf);
    err_clear(&e);
    unlink(pidf);
    CHECK_INT(node_exec(n, cmd, 300, &out, &st, &e), ==, -ETIMEDOUT);
    child = read_long_file(pidf);
    CHECK_INT(child, >, 1);
    CHECK(child > 1 && wait_until(pid_gone, &child, 2000));
    buf_free(&out);
}

static void test_put_file(struct node *n)
{
    struct err e;
    char p[512];
    snprintf(p, sizeof p, "%s/a/b/c/file.txt", tmpdir);
    err_clear(&e);
    CHECK_INT(n->ops->put_file(n, p, "data\n", 5, 0640, &e), ==, 0);
    struct buf b;
    buf_init(&b, 0);
    CHECK_INT(mf_read_file(p, 1000, &b, &e), ==, 0);
    CHECK_STR(b.data, "data\n");
    struct stat st;
    CHECK_INT(stat(p, &st), ==, 0);
    CHECK_INT(st.st_mode & 0777, ==, 0640);
    buf_free(&b);
}

static void test_sync(struct node *n)
{
    struct err e;
    char src[512], dst[512], cmd[2048];
    snprintf(src, sizeof src, "%s/src", tmpdir);
    snprintf(dst, sizeof dst, "%s/node/targets", tmpdir);
    mkdir(src, 0755);
    write_file("src/app.py", "print('hi')\n", 0644);
    write_file("src/run.sh", "#!/bin/sh\necho run\n", 0755);
    snprintf(cmd, sizeof cmd,
             "mkdir -p %s/src/sub/__pycache__ %s/src/.git %s/src/"
             "a-very-long-folder-name-that-goes-on-and-on-and-on-for-quite-a-while-yes/"
             "another-long-folder-name-to-pass-one-hundred-bytes",
             tmpdir, tmpdir, tmpdir);
    CHECK_INT(system(cmd), ==, 0);
    write_file("src/sub/x.txt", "x", 0600);
    write_file("src/sub/__pycache__/x.pyc", "junk", 0644);
    write_file("src/.git/config", "junk", 0644);
    write_file("src/.hidden", "junk", 0644);
    write_file("src/a-very-long-folder-name-that-goes-on-and-on-and-on-for-quite-a-while-yes/"
               "another-long-folder-name-to-pass-one-hundred-bytes/deep.txt",
               "deep", 0644);

    int up = -1;
    err_clear(&e);
    CHECK_INT(node_sync_tree(n, src, dst, &up, &e), ==, 0);
    if (e.code)
        fprintf(stderr, "sync: %s\n", e.msg);
    CHECK_INT(up, ==, 1);
    CHECK_INT(n->files_uploaded, ==, 4);
    CHECK_INT(n->bytes_uploaded, >, 0);
    snprintf(cmd, sizeof cmd,
             "cd %s && test \"$(cat app.py)\" = \"print('hi')\" && test -x run.sh && "
             "test \"$(cat sub/x.txt)\" = x && test ! -e sub/__pycache__ && test ! -e .git && "
             "test ! -e .hidden && test \"$(stat -c %%a sub/x.txt)\" = 600 && "
             "test \"$(cat a-very-long-*/another-*/deep.txt)\" = deep && "
             "test -s .mfbench-tree-sha256",
             dst);
    CHECK_INT(system(cmd), ==, 0);

    /* the second time nothing is sent */
    uint64_t bytes = n->bytes_uploaded, files = n->files_uploaded;
    up = -1;
    err_clear(&e);
    CHECK_INT(node_sync_tree(n, src, dst, &up, &e), ==, 0);
    CHECK_INT(up, ==, 0);
    CHECK_INT(n->bytes_uploaded - bytes, ==, 0);
    CHECK_INT(n->files_uploaded - files, ==, 0);

    /* a changed file, a removed file: uploads again, the stale one is gone */
    write_file("src/app.py", "print('changed')\n", 0644);
    snprintf(cmd, sizeof cmd, "rm %s/src/run.sh", tmpdir);
    CHECK_INT(system(cmd), ==, 0);
    err_clear(&e);
    CHECK_INT(node_sync_tree(n, src, dst, &up, &e), ==, 0);
    CHECK_INT(up, ==, 1);
    CHECK_INT(n->files_uploaded - files, ==, 3);
    snprintf(cmd, sizeof cmd,
             "cd %s && test \"$(cat app.py)\" = \"print('changed')\" && test ! -e run.sh", dst);
    CHECK_INT(system(cmd), ==, 0);

    /* a mode change alone changes the hash */
    write_file("src/app.py", "print('changed')\n", 0755);
    err_clear(&e);
    CHECK_INT(node_sync_tree(n, src, dst, &up, &e), ==, 0);
    CHECK_INT(up, ==, 1);

    /* the node folder is emptied first: / and relative paths are refused */
    err_clear(&e);
    CHECK_INT(node_sync_tree(n, src, "/", &up, &e), ==, -EINVAL);
    err_clear(&e);
    CHECK_INT(node_sync_tree(n, src, "targets", &up, &e), ==, -EINVAL);

    /* a missing local folder is an error naming it */
    err_clear(&e);
    CHECK_INT(node_sync_tree(n, "/nonexistent-mfbench", dst, &up, &e), ==, -ENOENT);
    CHECK_CONTAINS(e.msg, "/nonexistent-mfbench");
}

static void test_server(struct node *n)
{
    struct err e;
    struct node_server srv;
    char pidf[512], logf[512], hard_s[64] = "";
    snprintf(pidf, sizeof pidf, "%s/run/srv.pid", tmpdir);
    snprintf(logf, sizeof logf, "%s/log/srv.log", tmpdir);
    FILE *p = popen("ulimit -Hn", "r");
    if (p) {
        if (!fgets(hard_s, sizeof hard_s, p))
            hard_s[0] = '\0';
        pclose(p);
    }
    long long hard = strncmp(hard_s, "unlimited", 9) == 0 ? -1 : atoll(hard_s);

    err_clear(&e);
    /* the command has quotes and a $ that must reach the server's shell intact */
    int rc = node_server_start(n, "echo \"it's $((1+1))\"; exec sleep 1000", tmpdir, "0", 999999,
                               pidf, logf, &srv, &e);
    CHECK_INT(rc, ==, 0);
    if (rc) {
        fprintf(stderr, "start: %s\n", e.msg);
        return;
    }
    CHECK_INT(srv.pid, >, 1);
    CHECK_INT(read_long_file(pidf), ==, srv.pid);
    CHECK_INT(getpgid((pid_t)srv.pid), ==, srv.pid);
    CHECK_INT(getsid((pid_t)srv.pid), ==, srv.pid);
    if (hard > 0 && hard < 999999) {
        CHECK_INT(srv.nofile, ==, hard);
        char want[128];
        snprintf(want, sizeof want, "nofile 999999 clamped to the node's hard limit %lld", hard);
        CHECK_STR(srv.warning, want);
    } else {
        CHECK_INT(srv.nofile, ==, 999999);
        CHECK_STR(srv.warning, "");
    }
    /* start returns once the server leads its group; its ulimit, taskset and
     * echo run after: wait for the echo, the last of them */
    CHECK(wait_until(file_has_its2, logf, 5000));
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "grep -q \"^Max open files *%lld \" /proc/%ld/limits",
             (long long)srv.nofile, srv.pid);
    CHECK_INT(system(cmd), ==, 0);
    snprintf(cmd, sizeof cmd, "taskset -p %ld | grep -q ': 1$'", srv.pid);
    CHECK_INT(system(cmd), ==, 0);
    CHECK_INT(node_server_alive(n, &srv, &e), ==, 1);

    struct buf tail;
    buf_init(&tail, 0);
    CHECK_INT(node_server_log_tail(n, &srv, 5, &tail, &e), ==, 0);
    CHECK_CONTAINS(tail.data, "it's 2");
    buf_free(&tail);

    long pid = srv.pid;
    err_clear(&e);
    CHECK_INT(node_server_stop(n, &srv, 2000, &e), ==, 0);
    CHECK_INT(srv.pid, ==, 0);
    CHECK_INT(pid_running(pid), ==, 0);
    CHECK(access(pidf, F_OK) != 0);
    struct node_server gone = {.pid = pid};
    CHECK_INT(node_server_alive(n, &gone, &e), ==, 0);
    CHECK_INT(node_server_stop(n, &srv, 2000, &e), ==, 0); /* not running: fine */

    /* a server that ignores SIGTERM, with a child: the group goes after grace */
    err_clear(&e);
    rc = node_server_start(n, "trap '' TERM; sleep 1000 & while :; do sleep 0.1; done", tmpdir, "",
                           0, pidf, logf, &srv, &e);
    CHECK_INT(rc, ==, 0);
    pid = srv.pid;
    int64_t t0 = mono_ms();
    CHECK_INT(node_server_stop(n, &srv, 300, &e), ==, 0);
    CHECK_INT(mono_ms() - t0, <, 5000);
    CHECK_INT(pid_running(pid), ==, 0);
    snprintf(cmd, sizeof cmd, "pgrep -g %ld >/dev/null && ps -o stat= -g %ld | grep -qv Z", pid,
             pid);
    CHECK(system(cmd) != 0);

    /* a leftover, found from its pid file */
    err_clear(&e);
    rc = node_server_start(n, "exec sleep 1000", tmpdir, NULL, 1024, pidf, logf, &srv, &e);
    CHECK_INT(rc, ==, 0);
    CHECK_INT(srv.nofile, ==, 1024);
    pid = srv.pid;
    int found = -1;
    CHECK_INT(node_server_stop_pidfile(n, pidf, 1000, &found, &e), ==, 0);
    CHECK_INT(found, ==, 1);
    CHECK_INT(pid_running(pid), ==, 0);
    CHECK(access(pidf, F_OK) != 0);
    CHECK_INT(node_server_stop_pidfile(n, pidf, 1000, &found, &e), ==, 0);
    CHECK_INT(found, ==, 0);
    /* a stale pid file naming a live process that leads no group (a pid
     * reused by someone else's process) is not signalled: a child of ours,
     * left in our group, so this holds whether or not we lead one */
    pid_t other = fork();
    if (other == 0) {
        for (int i = 0; i < 300; i++) /* bounded: 30 s at most, killed below */
            usleep(100000);
        _exit(0);
    }
    CHECK_INT(other, >, 0);
    if (other <= 0)
        return;
    CHECK(getpgid(other) != other);
    char txt[32];
    snprintf(txt, sizeof txt, "%ld\n", (long)other);
    FILE *f = fopen(pidf, "w");
    if (f) {
        fputs(txt, f);
        fclose(f);
    }
    found = -1;
    err_clear(&e);
    CHECK_INT(node_server_stop_pidfile(n, pidf, 300, &found, &e), ==, 0);
    CHECK_INT(found, ==, 0);
    int wst = 0;
    CHECK_INT(waitpid(other, &wst, WNOHANG), ==, 0); /* still running, not signalled */
    CHECK(access(pidf, F_OK) != 0);                  /* the stale file is gone */
    kill(other, SIGKILL);
    CHECK_INT(waitpid(other, &wst, 0), ==, other);
    CHECK(WIFSIGNALED(wst) && WTERMSIG(wst) == SIGKILL);
}

/* The start report is its own marker line: other lines a node's shell prints (a motd,
 * "pid=1", "nofile=5") are not taken for it, and the last marker line wins. */
static void test_parse_start(void)
{
    struct node__start_report r;
    CHECK_INT(node__parse_start("Welcome to node7\npid=1\nnofile=5\nhard=7\nnotaskset=1\n"
                                "mfbench-start pid=4242 nofile=1024 hard=4096 notaskset=0\n",
                                &r),
              ==, 0);
    CHECK_INT(r.pid, ==, 4242);
    CHECK_INT(r.nofile, ==, 1024);
    CHECK_INT(r.hard, ==, 4096);
    CHECK_INT(r.notaskset, ==, 0);
    /* a motd may even quote the marker: the last one is the script's */
    CHECK_INT(node__parse_start("mfbench-start pid=1 nofile=5\r\n"
                                "mfbench-start pid=77 nofile=999999 hard=unlimited "
                                "notaskset=1\r\n",
                                &r),
              ==, 0);
    CHECK_INT(r.pid, ==, 77);
    CHECK_INT(r.nofile, ==, 999999);
    CHECK_INT(r.hard, ==, -1);
    CHECK_INT(r.notaskset, ==, 1);
    /* the old key lines alone, a marker not at a line start, or one without nofile or
     * with a pid of 1 are not a report */
    CHECK_INT(node__parse_start("pid=4242\nnofile=1024\n", &r), ==, -EPROTO);
    CHECK_INT(node__parse_start("motd: mfbench-start pid=9 nofile=9\n", &r), ==, -EPROTO);
    CHECK_INT(node__parse_start("mfbench-start pid=9\n", &r), ==, -EPROTO);
    CHECK_INT(node__parse_start("mfbench-start pid=1 nofile=9\n", &r), ==, -EPROTO);
    CHECK_INT(node__parse_start("mfbench-start pid=9x nofile=9\n", &r), ==, -EPROTO);
    CHECK_INT(node__parse_start("", &r), ==, -EPROTO);
}

/* Without node.workdir: $STATE_DIRECTORY/node, else $XDG_RUNTIME_DIR/mfbench/node
 * when that folder is ours alone, else ~/.cache/mfbench/node; ~/ is $HOME. */
static void test_workdir_default(struct node *n, const char *base)
{
    struct err e;
    char state[600], xdg[600], home[600], want[700];
    WD_PATH(state, "%s/state", base);
    WD_PATH(xdg, "%s/xdg", base);
    WD_PATH(home, "%s/home", base);
    CHECK_INT(mkdir(xdg, 0700), ==, 0);
    setenv("HOME", home, 1);
    setenv("XDG_RUNTIME_DIR", xdg, 1);
    setenv("STATE_DIRECTORY", state, 1);
    CHECK_INT(wd_open(n, NULL, &e), ==, 0);
    WD_PATH(want, "%s/node", state);
    CHECK_STR(node_workdir(n), want);
    CHECK_INT(wd_mode(want), ==, 0700);
    unsetenv("STATE_DIRECTORY");
    CHECK_INT(wd_open(n, "", &e), ==, 0);
    WD_PATH(want, "%s/mfbench/node", xdg);
    CHECK_STR(node_workdir(n), want);
    CHECK_INT(wd_mode(want), ==, 0700);
    CHECK_INT(chmod(xdg, 0777), ==, 0); /* not usable: the home folder instead */
    CHECK_INT(wd_open(n, NULL, &e), ==, 0);
    WD_PATH(want, "%s/.cache/mfbench/node", home);
    CHECK_STR(node_workdir(n), want);
    CHECK_INT(wd_mode(want), ==, 0700);
    CHECK_INT(wd_open(n, "~/elsewhere", &e), ==, 0);
    WD_PATH(want, "%s/elsewhere", home);
    CHECK_STR(node_workdir(n), want);
    unsetenv("XDG_RUNTIME_DIR");
    n->workdir[0] = '\0';
}

/* The port check's line: the address decoded (little-endian words), the
 * uid, the pid and a process name made printable; "none" is a free port, and
 * output without the line is a protocol error. */
static void test_parse_listener(void)
{
    char who[256];
    CHECK_INT(node__parse_listener("motd\nlistener=none\n", 8000, who, sizeof who), ==, 0);
    CHECK_INT(node__parse_listener("listener=0100007F uid=1000 pid=4242 comm=python3\n", 8000, who,
                                   sizeof who),
              ==, 1);
    CHECK_STR(who, "127.0.0.1:8000, uid 1000, pid 4242 (python3)");
    CHECK_INT(node__parse_listener("listener=00000000 uid=0 pid=- comm=\n", 80, who, sizeof who),
              ==, 1);
    CHECK_STR(who, "0.0.0.0:80, uid 0 (its process is not visible to this user)");
    CHECK_INT(node__parse_listener("listener=00000000000000000000000001000000 uid=7 pid=9 "
                                   "comm=web \x1b[2Jserver\r\n",
                                   8080, who, sizeof who),
              ==, 1);
    CHECK_STR(who, "[::1]:8080, uid 7, pid 9 (web ?[2Jserver)");
    CHECK_INT(node__parse_listener("pid=1\n", 8000, who, sizeof who), ==, -EPROTO);
}

/* A socket of this process listening on a free port of 127.0.0.1 is found,
 * with this pid; once closed, the port is free again. Close-on-exec: else the
 * check's own shell inherits the socket and may be found first (by /proc's
 * order of pids), as it was once in CI. */
static void test_port_listener(struct node *n)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    CHECK(fd >= 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = 0};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t sl = sizeof sa;
    CHECK_INT(bind(fd, (struct sockaddr *)&sa, sizeof sa), ==, 0);
    CHECK_INT(getsockname(fd, (struct sockaddr *)&sa, &sl), ==, 0);
    int port = ntohs(sa.sin_port);
    char who[256], want[96];
    struct err e;
    err_clear(&e);
    /* bound but not listening: free */
    CHECK_INT(node_port_listener(n, port, who, sizeof who, &e), ==, 0);
    CHECK_INT(listen(fd, 8), ==, 0);
    CHECK_INT(node_port_listener(n, port, who, sizeof who, &e), ==, 1);
    snprintf(want, sizeof want, "127.0.0.1:%d, uid %u, pid %ld (", port, (unsigned)getuid(),
             (long)getpid());
    if (strncmp(who, want, strlen(want)))
        T_FAIL("listener: %s, expected it to start with %s", who, want);
    close(fd);
    CHECK_INT(node_port_listener(n, port, who, sizeof who, &e), ==, 0);
    CHECK_INT(node_port_listener(n, 0, who, sizeof who, &e), ==, -EINVAL);
}

int main(void)
{
    test_parse_start();
    test_parse_listener();
    snprintf(tmpdir, sizeof tmpdir, "/tmp/mfbench-node-test-XXXXXX");
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
    CHECK_STR(n->host, "127.0.0.1");
    char wbase[600];
    WD_PATH(wbase, "%s/wd", tmpdir);
    CHECK_INT(mkdir(wbase, 0700), ==, 0);
    check_workdir_rules(n, wbase);
    test_workdir_default(n, wbase);
    test_exec(n);
    test_timeout(n);
    test_put_file(n);
    test_sync(n);
    test_server(n);
    test_port_listener(n);
    node_close(n);
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    CHECK_INT(system(cmd), ==, 0);
    T_DONE();
}
