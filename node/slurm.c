/* slurm.c - Slurm's command-line tools (salloc, squeue, scontrol, srun, scancel)
 * driven by posix_spawn, no shell and no libslurm: allocations of one whole node, their
 * state, commands run in them and their release (slurm.h says why each choice). Every
 * child has a timeout, is killed in its own process group when it outlives it, and
 * has its output captured with a cap. */
#include "slurm.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* ---- a child process: spawned, its pipes pumped, its timeout enforced ---- */

struct child {
    pid_t pid;             /* 0 once reaped */
    int in, out, errfd;    /* our ends, -1 when closed or not piped */
    int capture_out;       /* stdout read into outb (else the caller reads it) */
    struct buf outb, errb; /* capped at NODE_SLURM_OUTPUT_CAP; the rest read and dropped */
    int status;            /* the wait status once reaped */
    int64_t deadline;      /* mono ms: TERM then; 0 = none */
    int64_t kill_at;       /* mono ms: KILL then; 0 = TERM not sent yet */
    int timed_out;
    const char *what; /* the tool's name, for messages */
};

static void child_init(struct child *c)
{
    memset(c, 0, sizeof *c);
    c->in = c->out = c->errfd = -1;
    buf_init(&c->outb, NODE_SLURM_OUTPUT_CAP);
    buf_init(&c->errb, NODE_SLURM_OUTPUT_CAP);
}

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

static int nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    return fl < 0 ? -errno : fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 ? -errno : 0;
}

/* Spawns argv with stdin a pipe (want_in) or /dev/null, stdout and stderr pipes; in a
 * process group of its own, default signal dispositions, nothing blocked. */
static int child_spawn(struct child *c, const char *const *argv, int want_in, int capture_out,
                       int64_t timeout_ms, struct err *e)
{
    int pin[2] = {-1, -1}, pout[2] = {-1, -1}, perr[2] = {-1, -1};
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    int rc = 0, fa_ok = 0, at_ok = 0;
    c->what = argv[0];
    c->capture_out = capture_out;
    if ((want_in && pipe2(pin, O_CLOEXEC)) || pipe2(pout, O_CLOEXEC) || pipe2(perr, O_CLOEXEC)) {
        rc = err_set(e, -errno, "%s: pipe: %s", argv[0], strerror(errno));
        goto out;
    }
    if (posix_spawn_file_actions_init(&fa) != 0) {
        rc = err_set(e, -ENOMEM, "out of memory");
        goto out;
    }
    fa_ok = 1;
    if (posix_spawnattr_init(&at) != 0) {
        rc = err_set(e, -ENOMEM, "out of memory");
        goto out;
    }
    at_ok = 1;
    sigset_t none, def;
    sigemptyset(&none);
    sigemptyset(&def);
    sigaddset(&def, SIGPIPE);
    sigaddset(&def, SIGINT);
    sigaddset(&def, SIGTERM);
    sigaddset(&def, SIGHUP);
    sigaddset(&def, SIGCHLD);
    if ((want_in ? posix_spawn_file_actions_adddup2(&fa, pin[0], 0)
                 : posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0)) ||
        posix_spawn_file_actions_adddup2(&fa, pout[1], 1) ||
        posix_spawn_file_actions_adddup2(&fa, perr[1], 2) || posix_spawnattr_setpgroup(&at, 0) ||
        posix_spawnattr_setsigmask(&at, &none) || posix_spawnattr_setsigdefault(&at, &def) ||
        posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                          POSIX_SPAWN_SETSIGDEF)) {
        rc = err_set(e, -ENOMEM, "%s: cannot set up its spawn", argv[0]);
        goto out;
    }
    int r = posix_spawnp(&c->pid, argv[0], &fa, &at, (char *const *)argv, environ);
    if (r != 0) {
        c->pid = 0;
        rc = err_set(e, r == ENOENT ? -ENOENT : -r, "%s: cannot start it: %s%s", argv[0],
                     strerror(r), r == ENOENT ? " (Slurm's client tools are not on PATH)" : "");
        goto out;
    }
    if (want_in) {
        c->in = pin[1];
        pin[1] = -1;
    }
    c->out = pout[0];
    c->errfd = perr[0];
    pout[0] = perr[0] = -1;
    if (nonblock(c->out) || nonblock(c->errfd) || (c->in >= 0 && nonblock(c->in))) {
        /* Blocking ends still work for the pump (poll says when to read); say nothing. */
    }
    c->deadline = timeout_ms > 0 ? mono_ms() + timeout_ms : 0;
out:
    if (fa_ok)
        posix_spawn_file_actions_destroy(&fa);
    if (at_ok)
        posix_spawnattr_destroy(&at);
    close_fd(&pin[0]);
    close_fd(&pin[1]);
    close_fd(&pout[0]);
    close_fd(&pout[1]);
    close_fd(&perr[0]);
    close_fd(&perr[1]);
    return rc;
}

/* Reads what fd has into b (kept up to its cap, the rest dropped); closes fd at EOF. */
static void drain(int *fd, struct buf *b)
{
    char tmp[4096];
    for (;;) {
        ssize_t r = read(*fd, tmp, sizeof tmp);
        if (r > 0) {
            if (b) {
                size_t room = b->max > b->len + 1 ? b->max - b->len - 1 : 0;
                if (room && buf_append(b, tmp, (size_t)r < room ? (size_t)r : room) != 0) {
                    /* out of memory: the output is cut, the child still drained */
                }
            }
            continue;
        }
        if (r < 0 && errno == EINTR)
            continue;
        if (r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
            close_fd(fd);
        return;
    }
}

static void child_signal(struct child *c, int sig)
{
    if (c->pid > 0)
        kill(-c->pid, sig); /* its group: pgid = its pid, reserved while it is not reaped */
}

/* The timeout: TERM at the deadline, KILL a grace later. */
static void child_deadline(struct child *c, int64_t now)
{
    if (c->pid <= 0 || !c->deadline)
        return;
    if (!c->kill_at && now >= c->deadline) {
        c->timed_out = 1;
        child_signal(c, SIGTERM);
        c->kill_at = now + NODE_SLURM_KILL_GRACE_MS;
    } else if (c->kill_at && now >= c->kill_at) {
        child_signal(c, SIGKILL);
        c->kill_at = INT64_MAX; /* once */
    }
}

static void child_reap(struct child *c)
{
    int st;
    if (c->pid > 0 && waitpid(c->pid, &st, WNOHANG) == c->pid) {
        c->pid = 0;
        c->status = st;
    }
}

/* One round: waits up to wait_ms (cut at the next deadline step) for the child's
 * pipes, or for user_fd (may be -1; *user_ready says it is readable), reads stdout
 * (when captured) and stderr, reaps, enforces the timeout. */
static void child_pump(struct child *c, int wait_ms, int user_fd, int *user_ready)
{
    struct pollfd p[3];
    int n = 0, iu = -1, io = -1, ie = -1;
    if (user_ready)
        *user_ready = 0;
    if (user_fd >= 0) {
        iu = n;
        p[n++] = (struct pollfd){.fd = user_fd, .events = POLLIN};
    }
    if (c->capture_out && c->out >= 0) {
        io = n;
        p[n++] = (struct pollfd){.fd = c->out, .events = POLLIN};
    }
    if (c->errfd >= 0) {
        ie = n;
        p[n++] = (struct pollfd){.fd = c->errfd, .events = POLLIN};
    }
    int64_t now = mono_ms();
    int64_t next = c->kill_at && c->kill_at != INT64_MAX ? c->kill_at
                   : !c->kill_at && c->deadline          ? c->deadline
                                                         : 0;
    if (c->pid > 0 && next && next - now < wait_ms)
        wait_ms = next - now < 0 ? 0 : (int)(next - now);
    /* A reaped child whose pipes are all closed has nothing to wait for. */
    if (c->pid > 0 && n == (iu >= 0) && wait_ms > 50)
        wait_ms = 50; /* only the exit to notice: poll it often */
    if (poll(p, (nfds_t)n, wait_ms) > 0) {
        if (iu >= 0 && (p[iu].revents & (POLLIN | POLLHUP | POLLERR)) && user_ready)
            *user_ready = 1;
        if (io >= 0 && p[io].revents)
            drain(&c->out, &c->outb);
        if (ie >= 0 && p[ie].revents)
            drain(&c->errfd, &c->errb);
    }
    child_reap(c);
    child_deadline(c, mono_ms());
}

/* Until it exits and its captured pipes are closed (its timeout enforced). After
 * the exit, pipes a grandchild still holds are drained for a second at most. */
static void child_finish(struct child *c)
{
    int64_t after_exit = 0;
    while (c->pid > 0 || (c->capture_out && c->out >= 0) || c->errfd >= 0) {
        child_pump(c, 100, -1, NULL);
        if (c->pid == 0) {
            int64_t now = mono_ms();
            if (!after_exit)
                after_exit = now;
            else if (now - after_exit > 1000)
                break;
        }
    }
    if (!c->capture_out && c->out >= 0)
        drain(&c->out, NULL);
}

static void child_close(struct child *c)
{
    if (c->pid > 0) {
        child_signal(c, SIGKILL);
        int st;
        while (waitpid(c->pid, &st, 0) < 0 && errno == EINTR) {
        }
        c->pid = 0;
    }
    close_fd(&c->in);
    close_fd(&c->out);
    close_fd(&c->errfd);
    buf_free(&c->outb);
    buf_free(&c->errb);
}

/* Exit status as a shell reports it: the code, or 128+N when killed by signal N. */
static int exit_code(int st)
{
    return WIFEXITED(st) ? WEXITSTATUS(st) : WIFSIGNALED(st) ? 128 + WTERMSIG(st) : 255;
}

/* The last line of s that holds "error" (or else its last line), trimmed, into out. */
static void last_error_line(const char *s, char *out, size_t n)
{
    const char *best = NULL, *last = NULL;
    size_t best_len = 0, last_len = 0;
    for (const char *p = s; *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        if (len) {
            last = p;
            last_len = len;
            if (memmem(p, len, "error", 5)) {
                best = p;
                best_len = len;
            }
        }
        p += len + (nl ? 1 : 0);
    }
    if (!best) {
        best = last;
        best_len = last_len;
    }
    char raw[512];
    snprintf(raw, sizeof raw, "%.*s", best ? (int)best_len : 0, best ? best : "");
    mf_printable(raw[0] ? raw : "(nothing on stderr)", out, n);
}

/* Runs argv to its end with captured output; *code its exit code. 0, -ETIMEDOUT,
 * or the spawn's error. */
static int run_tool(const struct node_slurm_opts *o, const char *const *argv, struct child *c,
                    int *code, struct err *e)
{
    int64_t t = o->cmd_timeout_ms > 0 ? o->cmd_timeout_ms : NODE_SLURM_CMD_TIMEOUT_MS;
    child_init(c);
    int rc = child_spawn(c, argv, 0, 1, t, e);
    if (rc)
        return rc;
    child_finish(c);
    *code = exit_code(c->status);
    if (c->timed_out)
        return err_set(e, -ETIMEDOUT, "%s did not answer in %lld ms (killed)", argv[0],
                       (long long)t);
    return 0;
}

/* ---- options, names, bounds ---- */

void node_slurm_opts_from_cfg(const struct cfg_node *cfg, struct node_slurm_opts *o)
{
    memset(o, 0, sizeof *o);
    o->partition = cfg->slurm.partition;
    o->time_limit_ms = cfg->slurm.time_limit_ms;
    o->args = (const char *const *)cfg->slurm.args;
    o->nargs = cfg->slurm.nargs;
    o->cmd_timeout_ms = NODE_SLURM_CMD_TIMEOUT_MS;
}

int64_t node_slurm_handoff_max_ms(const struct node_slurm_opts *o)
{
    int64_t t = (o && o->cmd_timeout_ms > 0 ? o->cmd_timeout_ms : NODE_SLURM_CMD_TIMEOUT_MS) +
                NODE_SLURM_KILL_GRACE_MS;
    return 4 * t; /* salloc once granted, squeue, srun's start and end, scancel */
}

const char *node_slurm_job_name(int64_t run_id, const char *framework, const char *payload,
                                char *buf, size_t n)
{
    snprintf(buf, n, NODE_SLURM_NAME_PREFIX "%lld-%s/%s", (long long)run_id, framework, payload);
    return buf;
}

static int64_t cmd_timeout(const struct node_slurm_opts *o)
{
    return o->cmd_timeout_ms > 0 ? o->cmd_timeout_ms : NODE_SLURM_CMD_TIMEOUT_MS;
}

/* ---- allocations ---- */

struct node_slurm_alloc {
    struct node_slurm_opts o;
    struct child c;
    int64_t job;
    int granted;
    int64_t started;
};

/* "salloc: Pending job allocation 12", "salloc: Granted job allocation 12". */
static int64_t find_job(const char *s, const char *tag)
{
    const char *p = strstr(s, tag);
    if (!p)
        return 0;
    p += strlen(tag);
    int64_t v = 0;
    while (*p >= '0' && *p <= '9' && v < INT64_MAX / 10)
        v = v * 10 + (*p++ - '0');
    return v;
}

static void alloc_parse(struct node_slurm_alloc *a)
{
    const char *s = a->c.errb.data ? a->c.errb.data : "";
    int64_t g = find_job(s, "Granted job allocation ");
    if (g) {
        a->job = g;
        a->granted = 1;
    } else if (!a->job) {
        a->job = find_job(s, "Pending job allocation ");
    }
}

int node_slurm_alloc_start(const struct node_slurm_opts *o, const char *name,
                           struct node_slurm_alloc **out, struct err *e)
{
    *out = NULL;
    if (!name || strncmp(name, NODE_SLURM_NAME_PREFIX, strlen(NODE_SLURM_NAME_PREFIX)) != 0 ||
        strlen(name) > 200)
        return err_set(e, -EINVAL, "a Slurm job name of mfbench starts with %s (got '%s')",
                       NODE_SLURM_NAME_PREFIX, name ? name : "");
    struct node_slurm_alloc *a = calloc(1, sizeof *a);
    if (!a)
        return err_set(e, -ENOMEM, "out of memory");
    a->o = *o;
    child_init(&a->c);
    long long minutes = o->time_limit_ms > 0 ? (o->time_limit_ms + 59999) / 60000 : 30;
    char tl[32];
    snprintf(tl, sizeof tl, "%lld", minutes < 1 ? 1 : minutes);
    size_t max = 12 + o->nargs + 1, n = 0;
    const char **argv = calloc(max, sizeof *argv);
    if (!argv) {
        free(a);
        return err_set(e, -ENOMEM, "out of memory");
    }
    argv[n++] = "salloc";
    argv[n++] = "--no-shell";
    argv[n++] = "--exclusive";
    argv[n++] = "-N1";
    argv[n++] = "-t";
    argv[n++] = tl;
    argv[n++] = "-J";
    argv[n++] = name;
    if (o->partition && *o->partition) {
        argv[n++] = "-p";
        argv[n++] = o->partition;
    }
    for (size_t i = 0; i < o->nargs; i++)
        argv[n++] = o->args[i];
    argv[n] = NULL;
    /* No timeout on the child itself: it waits in Slurm's queue for as long as the
     * caller lets it (grant_timeout_ms, enforced by node_slurm_alloc_poll). */
    int rc = child_spawn(&a->c, argv, 0, 1, 0, e);
    free(argv);
    if (rc) {
        child_close(&a->c);
        free(a);
        return rc;
    }
    a->started = mono_ms();
    *out = a;
    return 0;
}

int node_slurm_alloc_poll(struct node_slurm_alloc *a, int wait_ms, struct err *e)
{
    if (a->granted && a->c.pid == 0)
        return 0;
    int64_t end = mono_ms() + (wait_ms > 0 ? wait_ms : 0);
    for (;;) {
        int64_t left = end - mono_ms();
        child_pump(&a->c, left > 0 ? (int)left : 0, -1, NULL);
        alloc_parse(a);
        if (a->granted) {
            /* salloc --no-shell ends right after the grant: wait for it (bounded). */
            a->c.deadline = mono_ms() + cmd_timeout(&a->o);
            child_finish(&a->c);
            return 0;
        }
        if (a->c.pid == 0) { /* ended without a grant */
            child_finish(&a->c);
            alloc_parse(a);
            if (a->granted)
                return 0;
            char line[512];
            last_error_line(a->c.errb.data ? a->c.errb.data : "", line, sizeof line);
            return err_set(e, -EIO, "salloc ended (exit %d) without an allocation: %s",
                           exit_code(a->c.status), line);
        }
        if (a->o.grant_timeout_ms > 0 && mono_ms() - a->started >= a->o.grant_timeout_ms) {
            struct err ce;
            err_clear(&ce);
            int64_t job = a->job;
            if (node_slurm_alloc_cancel(a, &ce) != 0)
                return err_set(e, -ETIMEDOUT,
                               "Slurm job %lld still queued after %lld ms; its cancel failed: %s",
                               (long long)job, (long long)a->o.grant_timeout_ms, ce.msg);
            return err_set(e, -ETIMEDOUT, "Slurm job %lld still queued after %lld ms: cancelled",
                           (long long)job, (long long)a->o.grant_timeout_ms);
        }
        if (mono_ms() >= end)
            return 1;
    }
}

int64_t node_slurm_alloc_job(const struct node_slurm_alloc *a)
{
    return a->job;
}

int node_slurm_alloc_fd(const struct node_slurm_alloc *a)
{
    return a->c.errfd;
}

int node_slurm_alloc_cancel(struct node_slurm_alloc *a, struct err *e)
{
    int rc = 0;
    if (a->c.pid > 0) {
        /* A pending salloc revokes its request on SIGINT; it may not have said its
         * job id yet, so this comes first. TERM and KILL after the tool timeout. */
        kill(a->c.pid, SIGINT);
        a->c.deadline = mono_ms() + cmd_timeout(&a->o);
        a->c.kill_at = 0;
        child_finish(&a->c);
        alloc_parse(a);
    }
    if (a->job)
        rc = node_slurm_cancel(&a->o, a->job, e);
    return rc;
}

void node_slurm_alloc_free(struct node_slurm_alloc *a)
{
    if (!a)
        return;
    child_close(&a->c);
    free(a);
}

/* ---- a job's state ---- */

static int unknown_job(const struct child *c)
{
    const char *s = c->errb.data ? c->errb.data : "";
    return strstr(s, "Invalid job id") != NULL;
}

static void field(const char **p, char *out, size_t n)
{
    const char *bar = strpbrk(*p, "|\n");
    size_t len = bar ? (size_t)(bar - *p) : strlen(*p);
    snprintf(out, n, "%.*s", (int)len, *p);
    *p += len + (bar && *bar == '|' ? 1 : 0);
    if (bar && *bar == '\n')
        *p = bar; /* the line ends: later fields stay empty */
}

int node_slurm_job_info(const struct node_slurm_opts *o, int64_t job, struct node_slurm_job *out,
                        struct err *e)
{
    memset(out, 0, sizeof *out);
    char id[32];
    snprintf(id, sizeof id, "%lld", (long long)job);
    const char *argv[] = {"squeue", "-h", "-j", id, "-o", "%N|%T|%r", NULL};
    struct child c;
    int code = 0;
    int rc = run_tool(o, argv, &c, &code, e);
    if (!rc && code != 0) {
        char line[512];
        last_error_line(c.errb.data ? c.errb.data : "", line, sizeof line);
        rc = unknown_job(&c) ? err_set(e, -ENOENT, "Slurm job %s is not known to Slurm", id)
                             : err_set(e, -EIO, "squeue -j %s: exit %d: %s", id, code, line);
    }
    if (!rc) {
        const char *p = c.outb.data ? c.outb.data : "";
        if (!*p) {
            rc = err_set(e, -ENOENT, "Slurm job %s is not known to Slurm", id);
        } else {
            field(&p, out->nodes, sizeof out->nodes);
            field(&p, out->state, sizeof out->state);
            field(&p, out->reason, sizeof out->reason);
        }
    }
    child_close(&c);
    return rc;
}

/* The value of KEY= in a `scontrol -o` line (up to the next space), or "". */
static void kv(const char *line, const char *key, char *out, size_t n)
{
    size_t kl = strlen(key);
    out[0] = '\0';
    for (const char *p = line; (p = strstr(p, key)) != NULL; p += kl) {
        if ((p == line || p[-1] == ' ') && p[kl] == '=') {
            const char *v = p + kl + 1;
            size_t len = strcspn(v, " \n");
            snprintf(out, n, "%.*s", (int)len, v);
            return;
        }
    }
}

void node_slurm_end_text(int64_t job, const char *line, char *out, size_t n)
{
    char st[64], reason[128], ec[32], nodes[256], tl[64];
    kv(line, "JobState", st, sizeof st);
    kv(line, "Reason", reason, sizeof reason);
    kv(line, "ExitCode", ec, sizeof ec);
    kv(line, "NodeList", nodes, sizeof nodes);
    kv(line, "TimeLimit", tl, sizeof tl);
    char why[320];
    if (!strcmp(st, "CANCELLED"))
        snprintf(why, sizeof why, "cancelled from outside mfbench (scancel, or an administrator)");
    else if (!strcmp(st, "TIMEOUT"))
        snprintf(why, sizeof why, "reached its time limit (TimeLimit=%s: node.slurm.time_limit)",
                 tl);
    else if (!strcmp(st, "NODE_FAIL"))
        snprintf(why, sizeof why, "its node %s failed", nodes[0] ? nodes : "(unknown)");
    else if (!strcmp(st, "PREEMPTED"))
        snprintf(why, sizeof why, "preempted by another job");
    else if (!strcmp(st, "BOOT_FAIL"))
        snprintf(why, sizeof why, "its node failed to boot");
    else if (!strcmp(st, "DEADLINE"))
        snprintf(why, sizeof why, "reached its deadline");
    else if (!strcmp(st, "OUT_OF_MEMORY"))
        snprintf(why, sizeof why, "ran out of memory");
    else if (!strcmp(st, "FAILED") || !strcmp(st, "COMPLETED"))
        snprintf(why, sizeof why, "ended (ExitCode=%s)", ec[0] ? ec : "?");
    else if (st[0])
        snprintf(why, sizeof why, "is still %s", st);
    else
        snprintf(why, sizeof why, "state unknown (scontrol gave no JobState)");
    char raw[600];
    if (reason[0] && strcmp(reason, "None") != 0)
        snprintf(raw, sizeof raw, "Slurm job %lld %s: %s (Reason=%s)", (long long)job,
                 st[0] ? st : "?", why, reason);
    else
        snprintf(raw, sizeof raw, "Slurm job %lld %s: %s", (long long)job, st[0] ? st : "?", why);
    mf_printable(raw, out, n);
}

int node_slurm_end_reason(const struct node_slurm_opts *o, int64_t job, char *out, size_t n,
                          struct err *e)
{
    char id[32];
    snprintf(id, sizeof id, "%lld", (long long)job);
    const char *argv[] = {"scontrol", "show", "job", id, "-o", NULL};
    /* A job being cleaned up shows COMPLETING, not how it ended: asked again until it
     * says (Slurm's KillWait, bounded by the tool timeout). */
    int64_t end = mono_ms() + cmd_timeout(o);
    for (;;) {
        struct child c;
        int code = 0;
        int rc = run_tool(o, argv, &c, &code, e);
        if (!rc && code != 0) {
            if (unknown_job(&c)) {
                snprintf(out, n,
                         "Slurm job %s ended and is no longer known to Slurm (no accounting to "
                         "ask)",
                         id);
            } else {
                char line[512];
                last_error_line(c.errb.data ? c.errb.data : "", line, sizeof line);
                rc = err_set(e, -EIO, "scontrol show job %s: exit %d: %s", id, code, line);
            }
        } else if (!rc) {
            char st[64];
            kv(c.outb.data ? c.outb.data : "", "JobState", st, sizeof st);
            if (!strcmp(st, "COMPLETING") && mono_ms() < end) {
                child_close(&c);
                usleep(200 * 1000);
                continue;
            }
            node_slurm_end_text(job, c.outb.data ? c.outb.data : "", out, n);
        }
        child_close(&c);
        return rc;
    }
}

/* ---- a command in an allocation ---- */

struct node_slurm_step {
    struct child c;
    int64_t timeout_ms;
};

int node_slurm_step_start(const struct node_slurm_opts *o, int64_t job, const char *const *argv,
                          int64_t timeout_ms, unsigned flags, struct node_slurm_step **out,
                          struct err *e)
{
    *out = NULL;
    size_t na = 0;
    while (argv && argv[na])
        na++;
    if (!na || job <= 0)
        return err_set(e, -EINVAL, "srun: no command or no job");
    struct node_slurm_step *s = calloc(1, sizeof *s);
    const char **av = calloc(na + 12, sizeof *av);
    if (!s || !av) {
        free(s);
        free(av);
        return err_set(e, -ENOMEM, "out of memory");
    }
    (void)o;
    char jb[48];
    snprintf(jb, sizeof jb, "--jobid=%lld", (long long)job);
    size_t n = 0;
    av[n++] = "srun";
    av[n++] = jb;
    av[n++] = "--overlap";
    av[n++] = "-N1";
    av[n++] = "-n1";
    av[n++] = "--unbuffered";
    av[n++] = "--quiet";
    if (flags & NODE_SLURM_CPU_BIND_NONE)
        av[n++] = "--cpu-bind=none";
    av[n++] = "--";
    for (size_t i = 0; i < na; i++)
        av[n++] = argv[i];
    av[n] = NULL;
    child_init(&s->c);
    s->timeout_ms = timeout_ms;
    int rc = child_spawn(&s->c, av, 1, 0, timeout_ms, e);
    free(av);
    if (rc) {
        child_close(&s->c);
        free(s);
        return rc;
    }
    *out = s;
    return 0;
}

int node_slurm_step_stdin(const struct node_slurm_step *s)
{
    return s->c.in;
}

void node_slurm_step_close_stdin(struct node_slurm_step *s)
{
    close_fd(&s->c.in);
}

int node_slurm_step_stdout(const struct node_slurm_step *s)
{
    return s->c.out;
}

ssize_t node_slurm_step_read(struct node_slurm_step *s, char *buf, size_t n, int wait_ms,
                             struct err *e)
{
    int64_t end = mono_ms() + (wait_ms > 0 ? wait_ms : 0);
    for (;;) {
        if (s->c.timed_out && s->c.pid == 0)
            return err_set(e, -ETIMEDOUT, "srun: killed after %lld ms", (long long)s->timeout_ms);
        if (s->c.out < 0)
            return 0;
        ssize_t r = read(s->c.out, buf, n);
        if (r > 0)
            return r;
        if (r == 0) {
            close_fd(&s->c.out);
            return 0;
        }
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
            close_fd(&s->c.out);
            return 0;
        }
        int64_t left = end - mono_ms();
        if (left <= 0)
            return -EAGAIN;
        int ready = 0;
        child_pump(&s->c, (int)left, s->c.out, &ready);
    }
}

void node_slurm_step_pump(struct node_slurm_step *s)
{
    child_pump(&s->c, 0, -1, NULL);
}

int node_slurm_step_wait(struct node_slurm_step *s, int *status, struct err *e)
{
    close_fd(&s->c.in);
    while (s->c.pid > 0 || s->c.out >= 0 || s->c.errfd >= 0) {
        int ready = 0;
        child_pump(&s->c, 100, s->c.out, &ready);
        if (ready && s->c.out >= 0)
            drain(&s->c.out, NULL);
        if (s->c.pid == 0) {
            child_finish(&s->c);
            break;
        }
    }
    *status = exit_code(s->c.status);
    if (s->c.timed_out)
        return err_set(e, -ETIMEDOUT, "srun: killed after %lld ms (exit %d)",
                       (long long)s->timeout_ms, *status);
    return 0;
}

const char *node_slurm_step_stderr(const struct node_slurm_step *s)
{
    return s->c.errb.data ? s->c.errb.data : "";
}

void node_slurm_step_free(struct node_slurm_step *s)
{
    if (!s)
        return;
    if (s->c.pid > 0) { /* TERM first: srun passes it on and ends its step */
        child_signal(&s->c, SIGTERM);
        s->c.deadline = mono_ms();
        s->c.kill_at = mono_ms() + NODE_SLURM_KILL_GRACE_MS;
        while (s->c.pid > 0) {
            child_pump(&s->c, 100, -1, NULL);
            if (s->c.out >= 0)
                drain(&s->c.out, NULL);
        }
    }
    child_close(&s->c);
    free(s);
}

/* ---- release and orphans ---- */

int node_slurm_cancel(const struct node_slurm_opts *o, int64_t job, struct err *e)
{
    char id[32];
    snprintf(id, sizeof id, "%lld", (long long)job);
    const char *argv[] = {"scancel", id, NULL};
    struct child c;
    int code = 0;
    int rc = run_tool(o, argv, &c, &code, e);
    const char *s = c.errb.data ? c.errb.data : "";
    /* Already over: nothing left to release. */
    if (!rc && (code != 0 || strstr(s, "error")) && !strstr(s, "already completing or completed") &&
        !strstr(s, "Invalid job id")) {
        char line[512];
        last_error_line(s, line, sizeof line);
        rc = err_set(e, -EIO, "scancel %s: exit %d: %s", id, code, line);
    }
    child_close(&c);
    return rc;
}

int node_slurm_orphans(const struct node_slurm_opts *o, const char *prefix,
                       struct node_slurm_orphan **out, size_t *n, struct err *e)
{
    *out = NULL;
    *n = 0;
    if (!prefix || strncmp(prefix, NODE_SLURM_NAME_PREFIX, strlen(NODE_SLURM_NAME_PREFIX)) != 0)
        return err_set(e, -EINVAL, "orphans: the name prefix must start with %s (got '%s')",
                       NODE_SLURM_NAME_PREFIX, prefix ? prefix : "");
    char user[256];
    struct passwd pw, *res = NULL;
    char pwbuf[4096];
    if (getpwuid_r(geteuid(), &pw, pwbuf, sizeof pwbuf, &res) == 0 && res)
        mf_strlcpy(user, res->pw_name, sizeof user);
    else
        snprintf(user, sizeof user, "%u", (unsigned)geteuid());
    const char *argv[] = {"squeue", "-h", "-u", user, "-o", "%i|%j|%T", NULL};
    struct child c;
    int code = 0;
    int rc = run_tool(o, argv, &c, &code, e);
    if (!rc && code != 0) {
        char line[512];
        last_error_line(c.errb.data ? c.errb.data : "", line, sizeof line);
        rc = err_set(e, -EIO, "squeue -u %s: exit %d: %s", user, code, line);
    }
    size_t cap = 0;
    for (const char *p = c.outb.data ? c.outb.data : ""; !rc && *p;) {
        const char *nl = strchr(p, '\n');
        const char *next = nl ? nl + 1 : p + strlen(p);
        char id[32], name[256], state[32];
        field(&p, id, sizeof id);
        field(&p, name, sizeof name);
        field(&p, state, sizeof state);
        p = next;
        int64_t job;
        if (parse_i64(id, 1, INT64_MAX, &job) != 0 || strncmp(name, prefix, strlen(prefix)) != 0)
            continue;
        if (*n == cap) {
            size_t nc = cap ? cap * 2 : 8;
            struct node_slurm_orphan *g = realloc(*out, nc * sizeof *g);
            if (!g) {
                rc = err_set(e, -ENOMEM, "out of memory");
                break;
            }
            *out = g;
            cap = nc;
        }
        struct node_slurm_orphan *r = &(*out)[(*n)++];
        r->job = job;
        mf_strlcpy(r->name, name, sizeof r->name);
        mf_strlcpy(r->state, state, sizeof r->state);
    }
    if (rc) {
        free(*out);
        *out = NULL;
        *n = 0;
    }
    child_close(&c);
    return rc;
}
