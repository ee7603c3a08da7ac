/* server.c - a framework server's life on the node: started by one shell command
 * in its own session (pid == process group id) with ulimit -n raised and CPUs
 * pinned, stopped by signalling the whole group, found again from its pid file.
 * Every process of the server also carries MFBENCH_SERVER=<pid file> in its
 * environment, so one that left the group (setsid, a daemonizing fork) is
 * found by it and stopped too. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node.h"

/* A group is alive when it has a process that is not a zombie: kill -0 alone
 * also counts zombies nobody reaped (a container's PID 1 may not). */
static const char ALIVE_FN[] =
    "mf_alive() { kill -0 -\"$1\" 2>/dev/null || return 1; mf_g=$1; "
    "for mf_f in /proc/[0-9]*/stat; do "
    "{ read -r mf_l < \"$mf_f\"; } 2>/dev/null || continue; "
    "mf_r=${mf_l##*\") \"}; set -- $mf_r; "
    "if [ \"$3\" = \"$mf_g\" ] && [ \"$1\" != Z ]; then return 0; fi; done; return 1; }\n";

/* mf_strays: pids (space-separated) of the live processes whose environment
 * holds "$mf_tag" (MFBENCH_SERVER=<pid file>): run once the group is gone, they
 * are the server's processes that left it. One grep for all of /proc. Only a
 * process this user owns (-O: root reads every user's environ) and that sees
 * this file system (its mount namespace: another container's server may have
 * a pid file of the same path) can be ours. */
static const char STRAYS_FN[] =
    "mf_strays() { mf_ns=$(readlink /proc/self/ns/mnt 2>/dev/null); "
    "for mf_d in $(grep -lzxF -e \"$mf_tag\" /proc/[0-9]*/environ 2>/dev/null); do "
    "mf_d=${mf_d%/environ}; [ -O \"$mf_d\" ] || continue; "
    "[ \"$(readlink \"$mf_d/ns/mnt\" 2>/dev/null)\" = \"$mf_ns\" ] || continue; "
    "{ read -r mf_l < \"$mf_d/stat\"; } 2>/dev/null || continue; "
    "mf_r=${mf_l##*\") \"}; set -- $mf_r; [ \"$1\" = Z ] && continue; "
    "printf '%s ' \"${mf_d#/proc/}\"; done; }\n";

/* MFBENCH_SERVER=<pid file>: the environment entry every server process has. */
static int put_tag(struct buf *c, const char *var, const char *pidfile)
{
    char t[600];
    if ((size_t)snprintf(t, sizeof t, "MFBENCH_SERVER=%s", pidfile) >= sizeof t)
        return -ENAMETOOLONG;
    return buf_puts(c, var) || buf_shquote(c, t);
}

static int oom(struct err *e)
{
    return err_set(e, -ENOMEM, "out of memory");
}

/* dirname into a new string; "." when there is no slash. */
static int append_dirname(struct buf *b, const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return buf_shquote(b, ".");
    if (slash == path)
        return buf_shquote(b, "/");
    char *d = strndup(path, (size_t)(slash - path));
    if (!d)
        return -ENOMEM;
    int rc = buf_shquote(b, d);
    free(d);
    return rc;
}

/* Finds "key=" at a line start in s and parses the integer after it. */
static int find_kv(const char *s, const char *key, int64_t *v)
{
    size_t kl = strlen(key);
    for (const char *p = s; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
        if (strncmp(p, key, kl) == 0 && p[kl] == '=') {
            char num[32];
            size_t i = 0;
            const char *q = p + kl + 1;
            while (i + 1 < sizeof num && q[i] && q[i] != '\n')
                num[i] = q[i], i++;
            num[i] = '\0';
            return parse_i64(num, INT64_MIN, INT64_MAX, v);
        }
    }
    return -ENOENT;
}

#define START_MARK "mfbench-start "

int node__parse_start(const char *out, struct node__start_report *r)
{
    memset(r, 0, sizeof *r);
    const char *line = NULL;
    for (const char *p = out; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
        if (!strncmp(p, START_MARK, strlen(START_MARK)))
            line = p + strlen(START_MARK);
    if (!line)
        return -EPROTO;
    int have = 0;
    r->hard = -1;
    while (*line && *line != '\n') {
        while (*line == ' ' || *line == '\r')
            line++;
        size_t tl = strcspn(line, " \r\n");
        char tok[64];
        if (tl == 0 || tl >= sizeof tok) {
            if (tl == 0)
                break;
            return -EPROTO;
        }
        memcpy(tok, line, tl);
        tok[tl] = '\0';
        line += tl;
        char *eq = strchr(tok, '=');
        if (!eq)
            return -EPROTO;
        *eq++ = '\0';
        int64_t v;
        if (!strcmp(tok, "hard") && !strcmp(eq, "unlimited"))
            continue;
        if (parse_i64(eq, 0, INT64_MAX, &v))
            return -EPROTO;
        if (!strcmp(tok, "pid"))
            r->pid = v, have |= 1;
        else if (!strcmp(tok, "nofile"))
            r->nofile = v, have |= 2;
        else if (!strcmp(tok, "hard"))
            r->hard = v;
        else if (!strcmp(tok, "notaskset"))
            r->notaskset = v == 1;
    }
    return have == 3 && r->pid > 1 ? 0 : -EPROTO;
}

int node_server_start(struct node *n, const char *cmd, const char *dir, const char *cpus,
                      int64_t nofile, const char *pidfile, const char *logfile,
                      struct node_server *srv, struct err *e)
{
    memset(srv, 0, sizeof *srv);
    if (mf_strlcpy(srv->pidfile, pidfile, sizeof srv->pidfile) >= sizeof srv->pidfile ||
        mf_strlcpy(srv->logfile, logfile, sizeof srv->logfile) >= sizeof srv->logfile)
        return err_set(e, -ENAMETOOLONG, "pid or log file path too long");
    struct buf c, out;
    buf_init(&c, 0);
    buf_init(&out, 64 << 10);
    int rc = 0;
    char want[32];
    if (nofile > 0)
        snprintf(want, sizeof want, "%lld", (long long)nofile);
    else
        mf_strlcpy(want, "", sizeof want);
    /* Every interpolated value is quoted; the inner script gets the values as
     * positional parameters so nothing is quoted twice. */
    if (buf_puts(&c, "mkdir -p ") || append_dirname(&c, pidfile) || buf_puts(&c, " ") ||
        append_dirname(&c, logfile) || buf_puts(&c, " && cd ") || buf_shquote(&c, dir) ||
        buf_puts(&c, " || exit 1\nhard=$(ulimit -Hn); want=") || buf_shquote(&c, want) ||
        buf_puts(&c, "\nif [ -z \"$want\" ]; then want=$(ulimit -n); fi\n"
                     "case $hard in unlimited) ;; *) if [ \"$hard\" -lt \"$want\" ]; then "
                     "want=$hard; fi ;; esac\n"
                     "mf_nt=0\ncpus=") ||
        buf_shquote(&c, cpus ? cpus : "") ||
        buf_puts(&c, "\nif [ -n \"$cpus\" ] && ! command -v taskset >/dev/null 2>&1; then "
                     "cpus=; mf_nt=1; fi\n"
                     "export ") ||
        put_tag(&c, "", pidfile) ||
        buf_puts(&c, "\nsetsid sh -c 'ulimit -n \"$1\" || exit 111; if [ -n \"$2\" ]; then "
                     "exec taskset -c \"$2\" sh -c \"$3\"; else exec sh -c \"$3\"; fi' "
                     "mfbench-server \"$want\" \"$cpus\" ") ||
        buf_shquote(&c, cmd) || buf_puts(&c, " >") || buf_shquote(&c, logfile) ||
        buf_puts(&c, " 2>&1 </dev/null &\nmf_pid=$!\n"
                     /* $! is known before the child has run setsid: wait (2 s at
                      * most) until it leads its group, so a stop right away works.
                      * That pid is what the pid file names: the process group (and
                      * session) leader. It starts as the `sh -c` wrapper, which execs
                      * taskset, which execs `sh -c CMD`, which execs the server when
                      * CMD ends in one command; either way every process of the
                      * server is in its group, and the stop signals the group. */
                     "mf_i=0; while [ $mf_i -lt 100 ]; do "
                     "{ read -r mf_l < /proc/$mf_pid/stat; } 2>/dev/null || break; "
                     "mf_r=${mf_l##*\") \"}; set -- $mf_r; [ \"$3\" = \"$mf_pid\" ] && break; "
                     "sleep 0.02; mf_i=$((mf_i+1)); done\n"
                     "echo $mf_pid >") ||
        buf_shquote(&c, pidfile) ||
        buf_puts(&c, " || exit 1\necho \"" START_MARK
                     "pid=$mf_pid nofile=$want hard=$hard notaskset=$mf_nt\"\n")) {
        rc = oom(e);
        goto done;
    }
    rc = node_exec_ok(n, c.data, node__cmd_timeout(n), &out, e);
    if (rc)
        goto done;
    struct node__start_report r;
    if (node__parse_start(out.data ? out.data : "", &r)) {
        rc = err_set(e, -EPROTO, "server start on %s: unexpected output: %.300s", n->host,
                     out.data ? out.data : "");
        /* The script exited 0, so it wrote the pid file: whatever it started is stopped
         * (best effort; the error above is the one that counts). */
        struct err se;
        int found = 0;
        err_clear(&se);
        if (node_server_stop_pidfile(n, pidfile, 1000, &found, &se))
            snprintf(srv->warning, sizeof srv->warning, "stopping it: %.200s", se.msg);
        goto done;
    }
    srv->pid = (long)r.pid;
    srv->nofile = r.nofile;
    if (nofile > 0 && r.nofile < nofile && r.hard >= 0)
        snprintf(srv->warning, sizeof srv->warning,
                 "nofile %lld clamped to the node's hard limit %lld", (long long)nofile,
                 (long long)r.hard);
    else if (cpus && *cpus && r.notaskset)
        snprintf(srv->warning, sizeof srv->warning,
                 "taskset not found on %.120s: server not pinned", n->host);
done:
    buf_free(&c);
    buf_free(&out);
    return rc;
}

/* The TERM, wait, KILL loop on the group in $mf_pg, every 100 ms, bounded;
 * then the same for the server's processes that left the group (mf_strays).
 * "left=1" and exit 3 when some survive SIGKILL for 10 s. */
static int append_stop_loop(struct buf *c, int64_t grace_ms, const char *pidfile)
{
    long grace = grace_ms > 0 ? (long)((grace_ms + 99) / 100) : 0;
    long limit = grace + 100; /* 10 s after SIGKILL: give up, report */
    return buf_puts(c, STRAYS_FN) || put_tag(c, "mf_tag=", pidfile) ||
           buf_printf(c,
                      "\nmf_i=0\n"
                      /* $mf_pg is 0 when only strays are left: never kill -0 */
                      "[ \"$mf_pg\" -gt 1 ] && kill -TERM -\"$mf_pg\" 2>/dev/null\n"
                      "while [ \"$mf_pg\" -gt 1 ] && mf_alive \"$mf_pg\"; do\n"
                      "  if [ $mf_i -ge %ld ]; then kill -KILL -\"$mf_pg\" 2>/dev/null; fi\n"
                      "  if [ $mf_i -ge %ld ]; then echo left=1; exit 3; fi\n"
                      "  sleep 0.1; mf_i=$((mf_i+1))\n"
                      "done\n"
                      "mf_s=$(mf_strays)\n"
                      "if [ -n \"$mf_s\" ]; then\n"
                      "  echo strays=$mf_s; kill -TERM $mf_s 2>/dev/null; mf_i=0\n"
                      "  while mf_s=$(mf_strays); [ -n \"$mf_s\" ]; do\n"
                      "    if [ $mf_i -ge %ld ]; then kill -KILL $mf_s 2>/dev/null; fi\n"
                      "    if [ $mf_i -ge %ld ]; then echo left=1; exit 3; fi\n"
                      "    sleep 0.1; mf_i=$((mf_i+1))\n"
                      "  done\n"
                      "fi\n"
                      "rm -f ",
                      grace, limit, grace, limit) ||
           buf_shquote(c, pidfile) || buf_puts(c, "\necho stopped=1\n");
}

static int64_t stop_timeout(const struct cfg_node *cfg, int64_t grace_ms)
{
    return (grace_ms > 0 ? grace_ms : 0) + 15000 + node_cmd_timeout_ms(cfg) / 4;
}

int64_t node_server_stop_max_ms(const struct cfg_node *cfg, int64_t grace_ms)
{
    return node_cmd_max_ms(cfg, stop_timeout(cfg, grace_ms));
}

int node_server_stop(struct node *n, struct node_server *srv, int64_t grace_ms, struct err *e)
{
    if (srv->pid <= 1)
        return 0;
    struct buf c, out;
    buf_init(&c, 0);
    buf_init(&out, 64 << 10);
    int rc = 0;
    if (buf_puts(&c, ALIVE_FN) || buf_printf(&c, "mf_pg=%ld\n", srv->pid) ||
        append_stop_loop(&c, grace_ms, srv->pidfile)) {
        rc = oom(e);
        goto done;
    }
    rc = node_exec_ok(n, c.data, stop_timeout(n->cfg, grace_ms), &out, e);
    if (rc == 0)
        srv->pid = 0;
done:
    buf_free(&c);
    buf_free(&out);
    return rc;
}

int node_server_stop_pidfile(struct node *n, const char *pidfile, int64_t grace_ms, int *found,
                             struct err *e)
{
    *found = 0;
    struct buf c, out;
    buf_init(&c, 0);
    buf_init(&out, 64 << 10);
    int rc = 0;
    /* A pid whose /proc entry has an empty cmdline is a kernel thread or a
     * zombie: never ours. A reused pid that leads no group fails mf_alive.
     * With no live group, processes that left it (mf_strays) are still ours. */
    if (buf_puts(&c, ALIVE_FN) || buf_puts(&c, STRAYS_FN) || put_tag(&c, "mf_tag=", pidfile) ||
        buf_puts(&c, "\nmf_f=") || buf_shquote(&c, pidfile) ||
        buf_puts(&c, "\nmf_pg=$(cat \"$mf_f\" 2>/dev/null)\n"
                     "case $mf_pg in ''|*[!0-9]*) mf_pg=0 ;; esac\n"
                     "if [ \"$mf_pg\" -gt 1 ] && [ -e /proc/$mf_pg ] && [ -z \"$(tr -d '\\000' "
                     "< /proc/$mf_pg/cmdline 2>/dev/null)\" ]; then mf_pg=0; fi\n"
                     "if [ \"$mf_pg\" -le 1 ] || ! mf_alive \"$mf_pg\"; then mf_pg=0; fi\n"
                     "if [ \"$mf_pg\" = 0 ] && [ -z \"$(mf_strays)\" ]; then "
                     "rm -f \"$mf_f\"; echo found=0; exit 0; fi\n"
                     "echo found=1\n") ||
        append_stop_loop(&c, grace_ms, pidfile)) {
        rc = oom(e);
        goto done;
    }
    rc = node_exec_ok(n, c.data, stop_timeout(n->cfg, grace_ms), &out, e);
    if (rc)
        goto done;
    int64_t f = 0;
    if (find_kv(out.data, "found", &f) == 0 && f == 1)
        *found = 1;
done:
    buf_free(&c);
    buf_free(&out);
    return rc;
}

/* The listening sockets of the node's network namespace are in /proc/net/tcp
 * and tcp6: "sl local rem st ... uid timeout inode", local as HEXADDR:HEXPORT,
 * st 0A for LISTEN. The process holding the socket is found by its inode among
 * the /proc/PID/fd links this user may read (all of them for root). */
static const char LISTENER_SH[] =
    /* grep picks the listener's line: a shell loop over every socket took over 10 s
     * (the command timeout) beside another cell's 19,000 held connections on one host. */
    "for mf_t in /proc/net/tcp /proc/net/tcp6; do\n"
    "  [ -r \"$mf_t\" ] || continue\n"
    "  mf_hit=$(grep -E \"^ *[0-9]+: [0-9A-Fa-f]+:$mf_p [0-9A-Fa-f]+:0000 0A \" \"$mf_t\" "
    "2>/dev/null | head -n 1)\n"
    "  [ -n \"$mf_hit\" ] || continue\n"
    "  set -- $mf_hit; mf_la=$2; mf_uid=$8; mf_in=${10}\n"
    "  mf_pid=-; mf_comm=\n"
    "  for mf_fd in $(find /proc/[0-9]*/fd -maxdepth 1 -lname \"socket:\\[$mf_in\\]\" "
    "2>/dev/null); do\n"
    "    mf_pid=${mf_fd#/proc/}; mf_pid=${mf_pid%%/*}\n"
    "    mf_comm=$(cat /proc/$mf_pid/comm 2>/dev/null); break\n"
    "  done\n"
    "  echo \"listener=${mf_la%:*} uid=$mf_uid pid=$mf_pid comm=$mf_comm\"; exit 0\n"
    "done\n"
    "echo listener=none\n";

/* /proc/net/tcp prints each 32-bit word of an address as the kernel holds it
 * in memory, in %08X: on a little-endian node (x86, arm64) the bytes of the
 * word are reversed. */
static void listener_addr(const char *hex, size_t len, int port, char *out, size_t n)
{
    unsigned char a[16];
    size_t words = len / 8;
    if ((len != 8 && len != 32) || strspn(hex, "0123456789abcdefABCDEF") < len) {
        snprintf(out, n, "%.*s:%d", (int)(len < 40 ? len : 40), hex, port);
        return;
    }
    for (size_t w = 0; w < words; w++) {
        char word[9];
        memcpy(word, hex + 8 * w, 8);
        word[8] = '\0';
        unsigned long v = strtoul(word, NULL, 16);
        for (int b = 0; b < 4; b++)
            a[4 * w + (size_t)b] = (unsigned char)(v >> (8 * b));
    }
    char ip[INET6_ADDRSTRLEN];
    if (!inet_ntop(words == 1 ? AF_INET : AF_INET6, a, ip, sizeof ip))
        snprintf(ip, sizeof ip, "?");
    snprintf(out, n, words == 1 ? "%s:%d" : "[%s]:%d", ip, port);
}

int node__parse_listener(const char *out, int port, char *who, size_t who_len)
{
    const char *line = NULL;
    for (const char *p = out; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
        if (!strncmp(p, "listener=", 9))
            line = p + 9;
    if (!line)
        return -EPROTO;
    size_t al = strcspn(line, " \r\n");
    if (al == 4 && !strncmp(line, "none", 4))
        return 0;
    char addr[96], uid[24] = "?", pid[24] = "-", comm[64] = "";
    listener_addr(line, al, port, addr, sizeof addr);
    const char *u = strstr(line, " uid="), *p = strstr(line, " pid="), *c = strstr(line, " comm=");
    const char *eol = line + strcspn(line, "\r\n");
    if (u && u < eol)
        snprintf(uid, sizeof uid, "%.*s", (int)strcspn(u + 5, " \r\n"), u + 5);
    if (p && p < eol)
        snprintf(pid, sizeof pid, "%.*s", (int)strcspn(p + 5, " \r\n"), p + 5);
    if (c && c < eol)
        snprintf(comm, sizeof comm, "%.*s", (int)strcspn(c + 6, "\r\n"), c + 6);
    /* The process name is the other process's choice: printable ASCII only. */
    for (char *q = comm; *q; q++)
        if ((unsigned char)*q < 0x20 || (unsigned char)*q > 0x7e)
            *q = '?';
    if (strcmp(pid, "-"))
        snprintf(who, who_len, "%s, uid %s, pid %s (%s)", addr, uid, pid, comm);
    else
        snprintf(who, who_len, "%s, uid %s (its process is not visible to this user)", addr, uid);
    return 1;
}

int node_port_listener(struct node *n, int port, char *who, size_t who_len, struct err *e)
{
    if (who_len)
        who[0] = '\0';
    if (port < 1 || port > 65535)
        return err_set(e, -EINVAL, "port %d out of range", port);
    struct buf c, out;
    buf_init(&c, 0);
    buf_init(&out, 4096);
    int rc;
    if (buf_printf(&c, "mf_p=%04X\n", (unsigned)port) || buf_puts(&c, LISTENER_SH)) {
        rc = oom(e);
        goto done;
    }
    rc = node_exec_ok(n, c.data, node__cmd_timeout(n), &out, e);
    if (rc)
        goto done;
    rc = node__parse_listener(out.data ? out.data : "", port, who, who_len);
    if (rc < 0)
        rc = err_set(e, rc, "port check on %s: unexpected output: %.200s", n->host,
                     out.data ? out.data : "");
done:
    buf_free(&c);
    buf_free(&out);
    return rc;
}

int node_server_alive(struct node *n, const struct node_server *srv, struct err *e)
{
    if (srv->pid <= 1)
        return 0;
    struct buf c, out;
    buf_init(&c, 0);
    buf_init(&out, 4096);
    int rc;
    /* A server whose leader exited but whose process that left the group
     * still runs (a daemonizing fork) is alive: it may be what answers. */
    if (buf_puts(&c, ALIVE_FN) || buf_puts(&c, STRAYS_FN) || put_tag(&c, "mf_tag=", srv->pidfile) ||
        buf_printf(&c,
                   "\nif mf_alive %ld; then echo alive=1; elif [ -n \"$(mf_strays)\" ]; then "
                   "echo alive=1; else echo alive=0; fi\n",
                   srv->pid)) {
        rc = oom(e);
        goto done;
    }
    rc = node_exec_ok(n, c.data, node__cmd_timeout(n), &out, e);
    if (rc)
        goto done;
    int64_t a = 0;
    if (find_kv(out.data, "alive", &a)) {
        rc = err_set(e, -EPROTO, "alive check on %s: unexpected output: %.200s", n->host,
                     out.data ? out.data : "");
        goto done;
    }
    rc = a == 1 ? 1 : 0;
done:
    buf_free(&c);
    buf_free(&out);
    return rc;
}

int node_server_log_tail(struct node *n, const struct node_server *srv, int lines, struct buf *out,
                         struct err *e)
{
    struct buf c;
    buf_init(&c, 0);
    int status = 0, rc;
    if (buf_printf(&c, "tail -n %d ", lines > 0 ? lines : 10) || buf_shquote(&c, srv->logfile) ||
        buf_puts(&c, " 2>&1")) {
        buf_free(&c);
        return oom(e);
    }
    rc = node_exec(n, c.data, node__cmd_timeout(n), out, &status, e);
    buf_free(&c);
    return rc;
}
