/* dispatch.c - the Slurm dispatcher (issue 23): a run's cells on allocations of their
 * own, up to node.slurm.max_parallel at once, from one thread. Per cell: salloc (a
 * pollable child), its node from squeue, the node's mfbench checked (--version) and its
 * CPU set read (Cpus_allowed_list) through srun, then `srun -- MFBENCH run --json-events
 * --no-store -m - CELL` with the matrix rewritten for the node on its stdin; every line
 * it streams back is replayed into the store as it comes (the replayer of events.c), so
 * each phase is stored when it ends. scancel when the cell ends, whatever happened; an
 * allocation Slurm ended under the cell makes it error with Slurm's reason. */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dispatch.h"
#include "events.h"
#include "slurm.h"

#define CPU_MAX 4096 /* CPUs in one allocation's set that the mapping reads */

/* ---- CPU lists ---- */

/* "0-3,8" into cpu[] (ascending as written); the count, or -1 when malformed. */
static int cpu_list(const char *s, int *cpu, int max)
{
    int n = 0;
    while (*s == ' ' || *s == '\t')
        s++;
    while (*s && *s != '\n') {
        char *end;
        long a = strtol(s, &end, 10), b;
        if (end == s || a < 0 || a >= 1 << 20)
            return -1;
        s = end;
        b = a;
        if (*s == '-') {
            b = strtol(s + 1, &end, 10);
            if (end == s + 1 || b < a || b >= 1 << 20)
                return -1;
            s = end;
        }
        for (long c = a; c <= b; c++) {
            if (n >= max)
                return -1;
            cpu[n++] = (int)c;
        }
        if (*s == ',')
            s++;
        else if (*s && *s != '\n' && *s != ' ')
            return -1;
        while (*s == ' ')
            s++;
    }
    return n;
}

int exec_dispatch_map_cpus(const char *cpus, const char *allowed, char *out, size_t n, char *msg,
                           size_t msgn)
{
    int set[CPU_MAX], idx[CPU_MAX]; /* 32 KiB of stack: no state kept between calls */
    out[0] = '\0';
    msg[0] = '\0';
    if (!cpus || !*cpus)
        return 0;
    int ns = cpu_list(allowed, set, CPU_MAX), ni = cpu_list(cpus, idx, CPU_MAX);
    if (ns <= 0) {
        snprintf(msg, msgn, "the allocation's CPU set '%s' cannot be read", allowed);
        return -EINVAL;
    }
    if (ni <= 0) {
        snprintf(msg, msgn, "'%s' is not a list of CPU indexes", cpus);
        return -EINVAL;
    }
    size_t len = 0;
    for (int i = 0; i < ni; i++) {
        int c;
        if (idx[i] < ns)
            c = set[idx[i]];
        else if (ns == 1)
            c = set[0];
        else {
            snprintf(msg, msgn,
                     "CPU index %d is past the allocation's %d CPUs (%s): indexes count from 0 "
                     "in the allocated set",
                     idx[i], ns, allowed);
            return -ERANGE;
        }
        int dup = 0; /* one CPU named twice (two indexes on a one-CPU set) once */
        for (int j = 0; j < i && !dup; j++)
            dup = (idx[j] < ns ? set[idx[j]] : set[0]) == c;
        if (dup)
            continue;
        int w = snprintf(out + len, n - len, "%s%d", len ? "," : "", c);
        if (w < 0 || (size_t)w >= n - len) {
            snprintf(msg, msgn, "too many CPUs");
            return -E2BIG;
        }
        len += (size_t)w;
    }
    return 0;
}

/* 1 when the lists a and b ("0,3", "2-5") name a CPU in common. */
static int cpus_overlap(const char *a, const char *b)
{
    int x[CPU_MAX], y[CPU_MAX];
    int nx = a && *a ? cpu_list(a, x, CPU_MAX) : 0, ny = b && *b ? cpu_list(b, y, CPU_MAX) : 0;
    for (int i = 0; i < nx; i++)
        for (int j = 0; j < ny; j++)
            if (x[i] == y[j])
                return 1;
    return 0;
}

/* Appends s to the string in out (size n), cut to fit. */
static void append(char *out, size_t n, const char *s)
{
    size_t len = strnlen(out, n);
    if (len + 1 < n)
        mf_strlcpy(out + len, s, n - len);
}

/* The last non-empty line of s into out. */
static void last_line(const char *s, char *out, size_t n)
{
    const char *end = s + strlen(s);
    while (end > s && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' '))
        end--;
    const char *start = end;
    while (start > s && start[-1] != '\n')
        start--;
    snprintf(out, n, "%.*s", (int)(end - start), start);
}

/* ---- one cell on its allocation ---- */

enum slot_state { SLOT_FREE, SLOT_QUEUED, SLOT_RUNNING };

/* The hand-off's steps, in order. */
enum slot_step {
    T_ASK,      /* salloc started */
    T_GRANTED,  /* Slurm granted the node */
    T_INFO,     /* the node known (squeue) */
    T_BIN,      /* the node's mfbench checked (or uploaded) */
    T_VERSION,  /* it ran (--version) */
    T_CPUS,     /* the allocation's CPU set read */
    T_STARTED,  /* the cell's run started, its matrix handed over */
    T_FIRST,    /* its first line back */
    T_CELL,     /* cell_start replayed */
    T_CELL_END, /* cell_end replayed */
    T_EOF,      /* its stream ended */
    T_ENDED,    /* its end judged (squeue, sacct) and stored */
    T_RELEASED, /* scancel returned */
    T_N
};

struct slot {
    enum slot_state state;
    int index; /* which of max_parallel: the node's port and workdir on a shared host */
    const struct cfg_cell *cell;
    char fw[64], pl[64], name[256];
    struct node_slurm_alloc *alloc;
    int64_t job;
    char host[256];
    struct node_slurm_step *step;
    struct exec_replay *replay;
    struct buf line;      /* the stream's line being read */
    char stream_err[512]; /* the first problem of the stream ("" when none) */
    int64_t cell_id;      /* the cell's row once its cell_start was stored */
    char shared_note[200];
    int cancelled;      /* we cancelled it (run stopped): interrupted, not lost */
    char mfbench[4096]; /* the mfbench this cell runs on its node */
    struct disp *x;     /* back, for the replay's events */
    /* When each step of the hand-off ended (mono ms, 0 until it did): what a cell
     * costs beside its phases, said when the slot is released. */
    int64_t t[T_N];
    int64_t phase_t0, phase_ms; /* the phase running since (0: none), and the phases' sum */
};

struct disp {
    const struct exec_dispatch *d;
    struct node_slurm_opts o;
    const char *mfbench; /* node.slurm.mfbench, or NULL: this binary, uploaded */
    struct buf bin;      /* this binary's bytes when it is uploaded */
    char bin_sha[65];    /* and their SHA-256: the copy's name and its check */
    struct slot *slots;
    int nslots;
    struct pollfd *pfd; /* one per slot: what the loop waits on */
    int stopping;
    int fatal; /* a store write failed: rc */
    struct err fatal_e;
};

static void say(struct disp *x, const struct slot *s, int level, const char *fmt, ...)
    MF_PRINTF(4, 5);
static void say(struct disp *x, const struct slot *s, int level, const char *fmt, ...)
{
    if (!x->d->on_event)
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    struct exec_event ev = {.kind = EXEC_EV_LOG,
                            .level = level,
                            .message = msg,
                            .framework = s ? s->fw : NULL,
                            .payload = s ? s->pl : NULL};
    x->d->on_event(x->d->arg, &ev);
}

/* e said again with what was being done before it (err_set keeps the first error, so
 * a wrapped message is set anew). */
static int rewrap(struct err *e, int rc, const char *fmt, ...) MF_PRINTF(3, 4);
static int rewrap(struct err *e, int rc, const char *fmt, ...)
{
    char what[512], inner[sizeof e->msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    mf_strlcpy(inner, e->msg, sizeof inner);
    err_clear(e);
    return err_set(e, rc ? rc : -EIO, "%s: %s", what, inner);
}

/* A short command in the allocation (srun --overlap), its stdout into out (capped).
 * 0 with *status its exit status, or negative with e set. */
static int step_capture(struct disp *x, int64_t job, const char *const *argv, char *out, size_t n,
                        int *status, struct err *e)
{
    struct node_slurm_step *st = NULL;
    int64_t limit = x->o.cmd_timeout_ms > 0 ? x->o.cmd_timeout_ms : NODE_SLURM_CMD_TIMEOUT_MS;
    int rc = node_slurm_step_start(&x->o, job, argv, limit, 0, &st, e);
    if (rc)
        return rc;
    size_t len = 0;
    char chunk[4096];
    for (;;) {
        ssize_t r = node_slurm_step_read(st, chunk, sizeof chunk, 500, e);
        if (r == -EAGAIN)
            continue;
        if (r <= 0) {
            if (r < 0)
                rc = (int)r;
            break;
        }
        size_t k = (size_t)r < n - 1 - len ? (size_t)r : n - 1 - len;
        memcpy(out + len, chunk, k);
        len += k;
    }
    out[len] = '\0';
    err_clear(e);
    int w = node_slurm_step_wait(st, status, e);
    if (!rc && w)
        rc = w;
    if (!rc && *status != 0) {
        char tail[300];
        last_line(node_slurm_step_stderr(st), tail, sizeof tail);
        rc = err_set(e, -EIO, "srun -- %s: exit %d%s%s", argv[0], *status, tail[0] ? ": " : "",
                     tail);
    }
    node_slurm_step_free(st);
    return rc;
}

/* Tells d->on_slot the slot's state: "queued", "running" or "free". */
static void slot_said(struct disp *x, const struct slot *s, const char *state)
{
    if (!x->d->on_slot)
        return;
    int free_ = strcmp(state, "free") == 0;
    x->d->on_slot(x->d->arg, s->index, free_ ? "" : s->fw, free_ ? "" : s->pl, state,
                  free_ ? "" : s->host, free_ ? 0 : s->job);
}

static void forward(void *arg, const struct exec_event *ev)
{
    struct disp *x = arg;
    if (x->d->on_event)
        x->d->on_event(x->d->arg, ev);
}

/* A replayed event of the slot's cell: its times noted, then passed on. */
static void slot_event(void *arg, const struct exec_event *ev)
{
    struct slot *s = arg;
    int64_t now = mono_ms();
    if (ev->kind == EXEC_EV_CELL_START && !s->t[T_CELL])
        s->t[T_CELL] = now;
    else if (ev->kind == EXEC_EV_CELL_END)
        s->t[T_CELL_END] = now;
    else if (ev->kind == EXEC_EV_PHASE_START)
        s->phase_t0 = now;
    else if (ev->kind == EXEC_EV_PHASE_END && s->phase_t0) {
        s->phase_ms += now - s->phase_t0;
        s->phase_t0 = 0;
    }
    forward(s->x, ev);
}

/* Seconds from step a's end to step b's, or -1 when either did not happen. */
static double step_s(const struct slot *s, enum slot_step a, enum slot_step b)
{
    return s->t[a] && s->t[b] ? (double)(s->t[b] - s->t[a]) / 1000.0 : -1;
}

/* One line of what the slot's cell cost, step by step (steps that did not happen are
 * left out): where the time beside the phases goes. */
static void say_steps(struct disp *x, const struct slot *s)
{
    static const struct {
        enum slot_step from, to;
        const char *what;
    } part[] = {
        {T_ASK, T_GRANTED, "queued"},        {T_GRANTED, T_INFO, "squeue"},
        {T_INFO, T_BIN, "mfbench checked"},  {T_BIN, T_VERSION, "--version"},
        {T_VERSION, T_CPUS, "CPU set"},      {T_CPUS, T_STARTED, "run started"},
        {T_STARTED, T_FIRST, "first event"}, {T_FIRST, T_CELL, "to cell start"},
        {T_CELL, T_CELL_END, "cell"},        {T_CELL_END, T_EOF, "to the stream's end"},
        {T_EOF, T_ENDED, "end judged"},      {T_ENDED, T_RELEASED, "scancel"},
    };
    char line[900];
    size_t len = 0;
    line[0] = '\0';
    for (size_t i = 0; i < sizeof part / sizeof part[0]; i++) {
        double v = step_s(s, part[i].from, part[i].to);
        if (v < 0)
            continue;
        int w = snprintf(line + len, sizeof line - len, "%s%s %.2f s", len ? ", " : "",
                         part[i].what, v);
        if (w < 0 || (size_t)w >= sizeof line - len)
            break;
        len += (size_t)w;
        if (part[i].to == T_CELL_END) {
            w = snprintf(line + len, sizeof line - len, " (phases %.2f s)",
                         (double)s->phase_ms / 1000.0);
            if (w < 0 || (size_t)w >= sizeof line - len)
                break;
            len += (size_t)w;
        }
    }
    double all = step_s(s, T_ASK, T_RELEASED);
    say(x, s, 6, "Slurm job %lld on %s: %.2f s in all: %s", (long long)s->job,
        s->host[0] ? s->host : "-", all, line);
}

/* A cell with no stream to replay (its allocation or its start failed): one row, ended
 * with status and why. */
static int store_plain_cell(struct disp *x, struct slot *s, enum cell_status status,
                            const char *why)
{
    struct cell_result c;
    memset(&c, 0, sizeof c);
    mf_strlcpy(c.framework, s->fw, sizeof c.framework);
    mf_strlcpy(c.payload, s->pl, sizeof c.payload);
    c.capacity_users = c.breaking_users = c.held_users = -1;
    c.peak_rps_median = c.peak_rps_iqr = c.peak_rps_min = c.peak_rps_max = -1;
    c.capacity_median = c.capacity_iqr = c.capacity_min = c.capacity_max = -1;
    c.peak_rps_spread = c.peak_rps_passing = -1;
    struct err e;
    err_clear(&e);
    int rc = store_cell_begin(x->d->store, x->d->run_id, &c, &e);
    if (!rc && (s->job > 0 || s->host[0]))
        rc = store_cell_set_node(x->d->store, c.id, s->host, s->job, &e);
    c.status = status;
    c.error = (char *)why;
    if (!rc)
        rc = store_cell_finish(x->d->store, &c, &e);
    if (rc && !x->fatal) {
        x->fatal = rc;
        x->fatal_e = e;
    }
    struct exec_event ev = {
        .kind = EXEC_EV_CELL_END, .framework = s->fw, .payload = s->pl, .cell = &c};
    forward(x, &ev);
    return rc;
}

/* Releases what the slot holds (scancel of its job, bounded) and frees it. */
static void slot_release(struct disp *x, struct slot *s)
{
    struct err e;
    err_clear(&e);
    node_slurm_step_free(s->step);
    s->step = NULL;
    if (s->alloc) {
        if (node_slurm_alloc_cancel(s->alloc, &e) != 0)
            say(x, s, 4, "Slurm job %lld: its cancel failed: %s", (long long)s->job, e.msg);
        node_slurm_alloc_free(s->alloc);
        s->alloc = NULL;
    } else if (s->job > 0 && node_slurm_cancel(&x->o, s->job, &e) != 0) {
        say(x, s, 4, "Slurm job %lld: its cancel failed: %s", (long long)s->job, e.msg);
    }
    s->t[T_RELEASED] = mono_ms();
    if (s->t[T_ASK])
        say_steps(x, s);
    memset(s->t, 0, sizeof s->t);
    s->phase_t0 = s->phase_ms = 0;
    exec_replay_free(s->replay);
    s->replay = NULL;
    buf_free(&s->line);
    s->state = SLOT_FREE;
    s->job = 0;
    s->host[0] = s->stream_err[0] = s->shared_note[0] = '\0';
    s->cell_id = 0;
    s->cancelled = 0;
    slot_said(x, s, "free");
}

/* The cell's cpus for node and load from the allocation's CPU set. */
static int plan_cpus(struct disp *x, struct slot *s, char *node_cpus, char *load_cpus, size_t n,
                     struct err *e)
{
    const char *argv[] = {"cat", "/proc/self/status", NULL};
    char out[16384], msg[256];
    int status;
    int rc = step_capture(x, s->job, argv, out, sizeof out, &status, e);
    if (rc)
        return rewrap(e, rc, "reading the allocation's CPU set on %s", s->host);
    const char *p = strstr(out, "Cpus_allowed_list:");
    if (!p)
        return err_set(e, -EIO, "no Cpus_allowed_list in /proc/self/status on %s", s->host);
    char allowed[1024];
    p += strlen("Cpus_allowed_list:");
    p += strspn(p, " \t");
    size_t k = strcspn(p, "\n");
    snprintf(allowed, sizeof allowed, "%.*s", (int)k, p);
    const struct cfg_matrix *m = x->d->matrix;
    if ((rc = exec_dispatch_map_cpus(m->node.cpus, allowed, node_cpus, n, msg, sizeof msg)) != 0)
        return err_set(e, rc, "node.cpus on %s: %s", s->host, msg);
    if ((rc = exec_dispatch_map_cpus(m->load_cpus, allowed, load_cpus, n, msg, sizeof msg)) != 0)
        return err_set(e, rc, "load.cpus on %s: %s", s->host, msg);
    int set[CPU_MAX];
    /* One CPU allocated: server and engine share it, pinned or not. */
    if (cpu_list(allowed, set, CPU_MAX) == 1 || cpus_overlap(node_cpus, load_cpus)) {
        mf_strlcpy(s->shared_note, "server and load engine shared CPU ", sizeof s->shared_note);
        append(s->shared_note, sizeof s->shared_note, node_cpus[0] ? node_cpus : allowed);
        append(s->shared_note, sizeof s->shared_note, " on ");
        append(s->shared_note, sizeof s->shared_note, s->host);
        append(s->shared_note, sizeof s->shared_note, " (the allocation has CPUs ");
        append(s->shared_note, sizeof s->shared_note, allowed);
        append(s->shared_note, sizeof s->shared_note, "): the figures are not comparable");
    }
    return 0;
}

/* ---- this binary on the node ----
 * Named by its SHA-256 in WORKDIR/bin (a folder only the user can write, checked), so a
 * copy of another build never runs in its place. Whether the node has it is asked of
 * sha256sum over the copy's bytes through srun, not of `mfbench --version`: a version
 * string is what a binary says of itself, and a copy cut short or overwritten would
 * still say it (or crash); the hash of the bytes is what the upload is checked by too.
 * The upload is one srun step with the binary on its stdin, written to a temporary name,
 * its hash checked there, then made executable and renamed into place (atomic: two
 * cells uploading at once on one host leave one good copy). */

/* Shared by both scripts: $1 the workdir ("~" is the node user's home: no shell
 * expands an argv item), $2 the hash; b the folder, f the copy. A folder is trusted
 * when the user owns it and neither group nor others may write it. */
#define BIN_SH_HEAD                                                                                \
    "d=$1; case $d in '~') d=$HOME ;; '~/'*) d=$HOME/${d#'~/'} ;; esac; b=$d/bin; "                \
    "f=$b/mfbench-$2; "                                                                            \
    "trusted() { [ -n \"$(find \"$1\" -maxdepth 0 -type d -user \"$(id -u)\" ! -perm /022 "        \
    "2>/dev/null)\" ]; }; "
static const char bin_check_sh[] =
    BIN_SH_HEAD "if trusted \"$d\" && trusted \"$b\" && [ -f \"$f\" ] && [ -x \"$f\" ] && "
                "[ \"$(sha256sum <\"$f\" | cut -c1-64)\" = \"$2\" ]; then echo \"have $f\"; "
                "elif [ -e \"$f\" ]; then echo \"bad $f\"; else echo \"need $f\"; fi";
static const char bin_upload_sh[] =
    BIN_SH_HEAD "umask 077; mkdir -p \"$b\" && chmod 700 \"$b\" || exit 3; "
                "for t in \"$d\" \"$b\"; do trusted \"$t\" || { echo \"$t is not a folder only "
                "$(id -un) can write\" >&2; exit 3; }; done; "
                "t=$b/.mfbench-$2.$$; cat >\"$t\" || { rm -f \"$t\"; exit 4; }; "
                "h=$(sha256sum <\"$t\" | cut -c1-64); if [ \"$h\" != \"$2\" ]; then rm -f \"$t\"; "
                "echo \"the copy received has sha256 $h\" >&2; exit 5; fi; "
                "chmod 700 \"$t\" && mv -f \"$t\" \"$f\" && echo \"ok $f\"";

/* The mfbench the slot's cell runs into s->mfbench: the matrix's as named, else this
 * binary's copy in the node's workdir, uploaded when it is missing or not this build. */
static int node_mfbench(struct disp *x, struct slot *s, struct err *e)
{
    if (x->mfbench) {
        mf_strlcpy(s->mfbench, x->mfbench, sizeof s->mfbench);
        return 0;
    }
    const char *wd =
        x->d->matrix->node.workdir ? x->d->matrix->node.workdir : EXEC_DISPATCH_WORKDIR;
    const char *cargv[] = {"sh", "-c", bin_check_sh, "sh", wd, x->bin_sha, NULL};
    char out[4200];
    int status;
    int rc = step_capture(x, s->job, cargv, out, sizeof out, &status, e);
    if (rc)
        return rewrap(e, rc, "checking mfbench on %s", s->host);
    out[strcspn(out, "\n")] = '\0';
    if (!strncmp(out, "have /", 6)) {
        mf_strlcpy(s->mfbench, out + 5, sizeof s->mfbench);
        say(x, s, 6, "mfbench on %s: %s already there (sha256 %.12s matches)", s->host, s->mfbench,
            x->bin_sha);
        return 0;
    }
    if (strncmp(out, "need /", 6) != 0 && strncmp(out, "bad /", 5) != 0)
        return err_set(e, -EIO, "checking mfbench on %s: unexpected answer '%.200s'", s->host, out);
    int bad = out[0] == 'b';

    const char *uargv[] = {"sh", "-c", bin_upload_sh, "sh", wd, x->bin_sha, NULL};
    struct node_slurm_step *st = NULL;
    if ((rc = node_slurm_step_start(&x->o, s->job, uargv, EXEC_DISPATCH_UPLOAD_TIMEOUT_MS, 0, &st,
                                    e)) != 0)
        return rewrap(e, rc, "uploading mfbench to %s", s->host);
    /* The binary on stdin while stdout and stderr are kept drained (a step that says
     * much must not block on its pipes while we write). */
    int fd = node_slurm_step_stdin(st);
    size_t off = 0;
    char got[4200];
    size_t glen = 0;
    int64_t until = mono_ms() + EXEC_DISPATCH_UPLOAD_TIMEOUT_MS;
    while (off < x->bin.len && fd >= 0 && mono_ms() < until) {
        ssize_t w = write(fd, x->bin.data + off, x->bin.len - off);
        if (w > 0) {
            off += (size_t)w;
            continue;
        }
        if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
            struct pollfd p = {.fd = fd, .events = POLLOUT};
            (void)poll(&p, 1, 100);
            char chunk[512];
            ssize_t r = node_slurm_step_read(st, chunk, sizeof chunk, 0, e);
            if (r > 0 && glen + (size_t)r < sizeof got) {
                memcpy(got + glen, chunk, (size_t)r);
                glen += (size_t)r;
            }
            continue;
        }
        break;
    }
    node_slurm_step_close_stdin(st);
    for (;;) {
        char chunk[512];
        ssize_t r = node_slurm_step_read(st, chunk, sizeof chunk, 500, e);
        if (r == -EAGAIN)
            continue;
        if (r <= 0)
            break;
        if (glen + (size_t)r < sizeof got) {
            memcpy(got + glen, chunk, (size_t)r);
            glen += (size_t)r;
        }
    }
    got[glen] = '\0';
    got[strcspn(got, "\n")] = '\0';
    err_clear(e);
    int w = node_slurm_step_wait(st, &status, e);
    char tail[300];
    last_line(node_slurm_step_stderr(st), tail, sizeof tail);
    node_slurm_step_free(st);
    if (w || status != 0 || off < x->bin.len || strncmp(got, "ok /", 4) != 0)
        return err_set(e, w ? w : -EIO,
                       "uploading mfbench to %s: %zu of %zu bytes written, exit %d%s%s", s->host,
                       off, x->bin.len, status, tail[0] ? ": " : "", tail);
    mf_strlcpy(s->mfbench, got + 3, sizeof s->mfbench);
    say(x, s, 6, "mfbench uploaded to %s: %s (%zu bytes, sha256 %.12s)%s", s->host, s->mfbench,
        x->bin.len, x->bin_sha, bad ? ", replacing a copy whose hash did not match" : "");
    return 0;
}

/* Granted: the node, the mfbench there, its CPUs, then the cell's run started with its
 * matrix on stdin. */
static int slot_start_cell(struct disp *x, struct slot *s, struct err *e)
{
    const struct exec_dispatch *d = x->d;
    struct node_slurm_job info;
    int rc = node_slurm_job_info(&x->o, s->job, &info, e);
    if (rc)
        return rewrap(e, rc, "Slurm job %lld", (long long)s->job);
    mf_strlcpy(s->host, info.nodes, sizeof s->host);
    s->t[T_INFO] = mono_ms();
    say(x, s, 6, "Slurm job %lld granted on %s", (long long)s->job, s->host);
    slot_said(x, s, "running");

    if ((rc = node_mfbench(x, s, e)) != 0)
        return rc;
    s->t[T_BIN] = mono_ms();
    char version[512];
    int status;
    const char *vargv[] = {s->mfbench, "--version", NULL};
    if ((rc = step_capture(x, s->job, vargv, version, sizeof version, &status, e)) != 0)
        return rewrap(e, rc, "mfbench is not runnable on %s as %s%s", s->host, s->mfbench,
                      x->mfbench ? " (node.slurm.mfbench must name a path the nodes see)" : "");
    s->t[T_VERSION] = mono_ms();

    char node_cpus[512], load_cpus[512];
    if ((rc = plan_cpus(x, s, node_cpus, load_cpus, sizeof node_cpus, e)) != 0)
        return rc;
    s->t[T_CPUS] = mono_ms();
    const struct cfg_matrix *m = d->matrix;
    char workdir[4096];
    snprintf(workdir, sizeof workdir, "%s/slot-%d",
             m->node.workdir ? m->node.workdir : EXEC_DISPATCH_WORKDIR, s->index);
    struct cfg_node_rewrite rw = {.workdir = workdir,
                                  .cpus = node_cpus,
                                  .load_cpus = load_cpus,
                                  .server_port = m->node.server_port + s->index};
    char *text = NULL;
    size_t len = 0;
    if ((rc = cfg_node_matrix(m, &rw, &text, &len, e)) != 0)
        return rc;

    char cellname[160];
    snprintf(cellname, sizeof cellname, "%s/%s", s->fw, s->pl);
    const char *argv[16];
    size_t n = 0;
    argv[n++] = s->mfbench;
    argv[n++] = "run";
    argv[n++] = "--json-events";
    argv[n++] = "--no-store";
    argv[n++] = "-q";
    argv[n++] = "-m";
    argv[n++] = "-";
    if (d->profile) {
        argv[n++] = "-p";
        argv[n++] = d->profile;
    }
    if (d->targets_dir && !m->node.slurm.mfbench) {
        argv[n++] = "--targets";
        argv[n++] = d->targets_dir;
    }
    argv[n++] = "--";
    argv[n++] = cellname;
    argv[n] = NULL;
    /* Slurm ends the allocation at its time limit; the step's own limit is after it. */
    int64_t limit =
        (m->node.slurm.time_limit_ms + 59999) / 60000 * 60000 + node_slurm_handoff_max_ms(&x->o);
    if ((rc = node_slurm_step_start(&x->o, s->job, argv, limit, 0, &s->step, e)) != 0) {
        free(text);
        return rc;
    }
    /* The matrix on stdin (a few KiB: the pipe takes it; a slow reader is waited for). */
    int fd = node_slurm_step_stdin(s->step);
    size_t off = 0;
    int64_t until = (int64_t)time(NULL) + 20;
    while (off < len && fd >= 0) {
        ssize_t w = write(fd, text + off, len - off);
        if (w > 0) {
            off += (size_t)w;
            continue;
        }
        if (w < 0 && (errno == EAGAIN || errno == EINTR) && time(NULL) < until) {
            struct pollfd p = {.fd = fd, .events = POLLOUT};
            (void)poll(&p, 1, 100);
            continue;
        }
        break;
    }
    free(text);
    node_slurm_step_close_stdin(s->step);
    if (off < len)
        return err_set(e, -EIO,
                       "the matrix could not be handed to mfbench on %s (%zu of %zu "
                       "bytes)",
                       s->host, off, len);
    char rname[300];
    snprintf(rname, sizeof rname, "%s:job %lld", s->host, (long long)s->job);
    if ((rc = exec_replay_new(d->store, d->run_id, rname, &s->replay, e)) != 0)
        return rc;
    exec_replay_on_event(s->replay, slot_event, s);
    buf_init(&s->line, EXEC_EVENTS_LINE_MAX + 1);
    s->t[T_STARTED] = mono_ms();
    s->state = SLOT_RUNNING;
    return 0;
}

/* Once the replayed stream has begun the cell: where it runs, stored. */
static void note_node(struct disp *x, struct slot *s)
{
    if (s->cell_id || !s->replay)
        return;
    const struct run_record *r = exec_replay_run(s->replay);
    if (!r || r->ncells == 0 || r->cells[r->ncells - 1].id <= 0)
        return;
    s->cell_id = r->cells[r->ncells - 1].id;
    struct err e;
    err_clear(&e);
    if (store_cell_set_node(x->d->store, s->cell_id, s->host, s->job, &e) != 0 && !x->fatal) {
        x->fatal = e.code ? e.code : -EIO;
        x->fatal_e = e;
    }
    /* And what that node is (its run_start's fingerprint): compare tells cells of two
     * node models apart by it. */
    char fp[sizeof r->cells[0].node_fingerprint];
    err_clear(&e);
    if (exec_events_fingerprint(r, fp, sizeof fp) == 0 &&
        store_cell_set_fingerprint(x->d->store, s->cell_id, fp, &e) != 0 && !x->fatal) {
        x->fatal = e.code ? e.code : -EIO;
        x->fatal_e = e;
    }
}

static void replay_lines(struct disp *x, struct slot *s, const char *p, size_t n)
{
    if (n && !s->t[T_FIRST])
        s->t[T_FIRST] = mono_ms();
    while (n) {
        const char *nl = memchr(p, '\n', n);
        size_t k = nl ? (size_t)(nl - p) : n;
        if (!s->stream_err[0] && buf_append(&s->line, p, k) != 0)
            snprintf(s->stream_err, sizeof s->stream_err,
                     "a line of the event stream from %s is longer than %zu bytes", s->host,
                     (size_t)EXEC_EVENTS_LINE_MAX);
        p += k + (nl ? 1 : 0);
        n -= k + (nl ? 1 : 0);
        if (!nl)
            break;
        if (!s->stream_err[0]) {
            struct err e;
            err_clear(&e);
            int rc = exec_replay_line(s->replay, s->line.data ? s->line.data : "", s->line.len, &e);
            if (rc == -EINVAL)
                mf_strlcpy(s->stream_err, e.msg, sizeof s->stream_err);
            else if (rc) {
                mf_strlcpy(s->stream_err, e.msg, sizeof s->stream_err);
                if (!x->fatal) {
                    x->fatal = rc;
                    x->fatal_e = e;
                }
            }
            note_node(x, s);
        }
        buf_reset(&s->line);
    }
}

/* The cell's stream has ended: its outcome stored, then the allocation released. */
static void slot_end(struct disp *x, struct slot *s)
{
    struct err e;
    err_clear(&e);
    int status = 0;
    int wrc = node_slurm_step_wait(s->step, &status, &e);
    char srun_err[300];
    last_line(node_slurm_step_stderr(s->step), srun_err, sizeof srun_err);

    /* Lost: Slurm ended the allocation under the cell (we did not cancel it). */
    char lost[512] = "";
    if (!s->cancelled) {
        struct node_slurm_job info;
        err_clear(&e);
        int jr = node_slurm_job_info(&x->o, s->job, &info, &e);
        if (jr == -ENOENT || (jr == 0 && strcmp(info.state, "RUNNING") != 0)) {
            err_clear(&e);
            if (node_slurm_end_reason(&x->o, s->job, lost, sizeof lost, &e) != 0 || !lost[0])
                snprintf(lost, sizeof lost, "Slurm job %lld ended (%s) under the cell",
                         (long long)s->job, jr == 0 ? info.state : "gone");
        }
    }
    char why[1200];
    if (lost[0])
        snprintf(why, sizeof why, "%s", lost);
    else if (s->stream_err[0])
        snprintf(why, sizeof why, "the event stream from %s: %s", s->host, s->stream_err);
    else if (s->cancelled)
        snprintf(why, sizeof why, "interrupted: the run was stopped (Slurm job %lld cancelled)",
                 (long long)s->job);
    else
        snprintf(why, sizeof why, "mfbench on %s ended (exit %d%s) before the cell's end%s%s",
                 s->host, status, wrc == -ETIMEDOUT ? ", killed at its time limit" : "",
                 srun_err[0] ? ": " : "", srun_err);
    enum cell_status open = s->cancelled && !lost[0] ? CELL_INTERRUPTED : CELL_ERROR;
    err_clear(&e);
    int frc = exec_replay_finish(s->replay, open, why, &e);
    if (frc && frc != -EPROTO && frc != -EINVAL && !x->fatal) {
        x->fatal = frc;
        x->fatal_e = e;
    }
    note_node(x, s);
    const struct run_record *r = exec_replay_run(s->replay);
    if (!r || r->ncells == 0) { /* nothing of the cell came: say why it did not */
        char what[1500];
        snprintf(what, sizeof what, "%s", why);
        if (!lost[0] && !s->stream_err[0] && srun_err[0] && !strstr(why, srun_err))
            if (snprintf(what, sizeof what, "%s: %s", why, srun_err) < 0)
                mf_strlcpy(what, why, sizeof what);
        store_plain_cell(x, s, open, what);
    } else {
        /* The cell as the stream left it, corrected where this side knows better: an
         * allocation lost is error with Slurm's reason (never ok, whatever the node's
         * mfbench made of its SIGTERM), and a shared CPU is said. */
        struct cell_result c = r->cells[r->ncells - 1];
        char note[sizeof c.note];
        int change = 0;
        char stopped[1400];
        if (lost[0] && c.status != CELL_OK) {
            c.status = CELL_ERROR;
            c.error = lost;
            change = 1;
        } else if (s->cancelled && c.status != CELL_OK && c.status != CELL_CANCELLED &&
                   c.status != CELL_INTERRUPTED) {
            /* Our stop's SIGTERM ended what the cell was doing (a venv being made reads
             * as skipped there): the stop is why. */
            snprintf(stopped, sizeof stopped, "%s", why);
            if (c.error) {
                append(stopped, sizeof stopped, " (the node said: ");
                append(stopped, sizeof stopped, c.error);
                append(stopped, sizeof stopped, ")");
            }
            c.status = CELL_INTERRUPTED;
            c.error = stopped;
            change = 1;
        }
        if (s->shared_note[0] && !strstr(c.note, "shared CPU")) {
            mf_strlcpy(note, c.note, sizeof note);
            if (note[0])
                append(note, sizeof note, "; ");
            append(note, sizeof note, s->shared_note);
            memcpy(c.note, note, sizeof c.note);
            change = 1;
        }
        if (change && c.status != CELL_RUNNING) {
            err_clear(&e);
            if (store_cell_finish(x->d->store, &c, &e) != 0 && !x->fatal) {
                x->fatal = e.code ? e.code : -EIO;
                x->fatal_e = e;
            }
            if (lost[0])
                say(x, s, 3, "%s", lost);
        }
    }
    s->t[T_ENDED] = mono_ms();
    say(x, s, 6, "Slurm job %lld on %s released", (long long)s->job, s->host);
    slot_release(x, s);
}

/* 1 when cell i may start now within the budget; else it is stored skipped (budget). */
static int fits_budget(struct disp *x, struct slot *s, const struct cfg_cell *c, size_t i)
{
    const struct exec_dispatch *d = x->d;
    if (d->budget_ms <= 0 || !d->cell_max_s)
        return 1;
    double need = d->cell_max_s[i],
           left = (double)(d->budget_ms - (mono_ms() - d->budget_t0_ms)) / 1000.0;
    if (need <= left)
        return 1;
    const struct cfg_matrix *m = d->matrix;
    mf_strlcpy(s->fw, m->frameworks[c->framework].name, sizeof s->fw);
    mf_strlcpy(s->pl, m->payloads[c->payload].name, sizeof s->pl);
    s->job = 0;
    s->host[0] = '\0';
    char why[300];
    snprintf(why, sizeof why,
             "budget: this cell may take up to %.0f s and %.0f s of the matrix's budget (%.0f s) "
             "are left",
             need, left > 0 ? left : 0, (double)d->budget_ms / 1000.0);
    say(x, s, 4, "skipped: %s", why);
    store_plain_cell(x, s, CELL_SKIPPED, why);
    return 0;
}

/* A free slot takes the next cell: its allocation requested. */
static void slot_take(struct disp *x, struct slot *s, const struct cfg_cell *c)
{
    const struct cfg_matrix *m = x->d->matrix;
    memset(&s->line, 0, sizeof s->line);
    s->cell = c;
    mf_strlcpy(s->fw, m->frameworks[c->framework].name, sizeof s->fw);
    mf_strlcpy(s->pl, m->payloads[c->payload].name, sizeof s->pl);
    node_slurm_job_name(x->d->run_id, s->fw, s->pl, s->name, sizeof s->name);
    struct exec_event ev = {.kind = EXEC_EV_CELL_START, .framework = s->fw, .payload = s->pl};
    (void)ev; /* the node's stream says when the cell starts */
    struct err e;
    err_clear(&e);
    s->t[T_ASK] = mono_ms();
    if (node_slurm_alloc_start(&x->o, s->name, &s->alloc, &e) != 0) {
        char why[sizeof e.msg + 64];
        snprintf(why, sizeof why, "no Slurm allocation: %s", e.msg);
        store_plain_cell(x, s, CELL_ERROR, why);
        slot_release(x, s);
        return;
    }
    s->state = SLOT_QUEUED;
    say(x, s, 6, "asked Slurm for a node (job name %s)", s->name);
    slot_said(x, s, "queued");
}

static void slot_poll_alloc(struct disp *x, struct slot *s)
{
    struct err e;
    err_clear(&e);
    int r = node_slurm_alloc_poll(s->alloc, 0, &e);
    int64_t was = s->job;
    s->job = node_slurm_alloc_job(s->alloc);
    if (r == 1) {
        if (s->job != was)
            slot_said(x, s, "queued"); /* now with its job id */
        return;
    }
    if (r < 0) {
        char why[sizeof e.msg + 64];
        snprintf(why, sizeof why, "no Slurm allocation: %s", e.msg);
        store_plain_cell(x, s, CELL_ERROR, why);
        slot_release(x, s);
        return;
    }
    s->t[T_GRANTED] = mono_ms();
    err_clear(&e);
    if (slot_start_cell(x, s, &e) != 0) {
        store_plain_cell(x, s, CELL_ERROR, e.msg);
        slot_release(x, s);
    }
}

static void slot_read(struct disp *x, struct slot *s)
{
    char chunk[65536];
    for (int rounds = 0; rounds < 64; rounds++) {
        struct err e;
        err_clear(&e);
        ssize_t r = node_slurm_step_read(s->step, chunk, sizeof chunk, 0, &e);
        if (r == -EAGAIN)
            return;
        if (r <= 0) {
            s->t[T_EOF] = mono_ms();
            slot_end(x, s);
            return;
        }
        replay_lines(x, s, chunk, (size_t)r);
    }
}

/* The run stopped: every allocation cancelled (queued ones revoked), the running
 * cells' streams read until they end (bounded), then their srun killed. */
static void stop_all(struct disp *x)
{
    x->stopping = 1;
    for (int i = 0; i < x->nslots; i++) {
        struct slot *s = &x->slots[i];
        if (s->state == SLOT_QUEUED) {
            say(x, s, 6, "the run stopped: the queued request %s withdrawn", s->name);
            slot_release(x, s); /* not started: not stored, as a local run's */
        } else if (s->state == SLOT_RUNNING) {
            struct err e;
            err_clear(&e);
            s->cancelled = 1;
            if (node_slurm_cancel(&x->o, s->job, &e) != 0)
                say(x, s, 4, "scancel %lld: %s", (long long)s->job, e.msg);
        }
    }
}

static int64_t mono_now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

int exec_dispatch_run(const struct exec_dispatch *d, const struct cfg_cell *cells, size_t n,
                      int *interrupted, struct err *e)
{
    if (interrupted)
        *interrupted = 0;
    const struct cfg_matrix *m = d->matrix;
    if (m->node.transport != CFG_TRANSPORT_SLURM || !d->store || d->run_id <= 0)
        return err_set(e, -EINVAL, "dispatch: a Slurm node, a store and a run are needed");
    struct disp x = {.d = d};
    node_slurm_opts_from_cfg(&m->node, &x.o);
    x.mfbench = m->node.slurm.mfbench;
    buf_init(&x.bin, EXEC_DISPATCH_BIN_MAX);
    if (!x.mfbench) { /* this binary, uploaded to each node that lacks it */
        if (!d->self_path || !*d->self_path)
            return err_set(e, -EINVAL, "dispatch: no mfbench for the nodes (node.slurm.mfbench)");
        int rc = mf_read_file(d->self_path, EXEC_DISPATCH_BIN_MAX, &x.bin, e);
        if (rc) {
            buf_free(&x.bin);
            return rewrap(e, rc, "dispatch: reading mfbench to upload to the nodes");
        }
        sha256_string(x.bin.data, x.bin.len, x.bin_sha);
    }
    x.nslots = m->node.slurm.max_parallel > 0 ? m->node.slurm.max_parallel : 1;
    if ((size_t)x.nslots > n)
        x.nslots = n ? (int)n : 1;
    x.slots = calloc((size_t)x.nslots, sizeof *x.slots);
    x.pfd = calloc((size_t)x.nslots, sizeof *x.pfd);
    if (!x.slots || !x.pfd) {
        free(x.slots);
        free(x.pfd);
        buf_free(&x.bin);
        return err_set(e, -ENOMEM, "out of memory");
    }
    for (int i = 0; i < x.nslots; i++) {
        x.slots[i].index = i;
        x.slots[i].x = &x;
    }
    err_clear(&x.fatal_e);

    size_t next = 0;
    int64_t stop_deadline = 0;
    for (;;) {
        if (!x.stopping && ((d->cancel && atomic_load(d->cancel)) || x.fatal)) {
            if (interrupted)
                *interrupted = 1;
            stop_all(&x);
            stop_deadline = mono_now_ms() + EXEC_DISPATCH_STOP_MS;
        }
        int busy = 0;
        for (int i = 0; i < x.nslots; i++) {
            struct slot *s = &x.slots[i];
            while (s->state == SLOT_FREE && !x.stopping && !x.fatal && next < n)
                if (fits_budget(&x, s, &cells[next], next)) {
                    slot_take(&x, s, &cells[next++]);
                } else {
                    next++;
                }
            if (s->state == SLOT_QUEUED)
                slot_poll_alloc(&x, s);
            if (s->state == SLOT_RUNNING)
                slot_read(&x, s);
            busy += s->state != SLOT_FREE;
        }
        if (!busy && (x.stopping || next >= n))
            break;
        if (x.stopping && mono_now_ms() > stop_deadline) {
            for (int i = 0; i < x.nslots; i++)
                if (x.slots[i].state == SLOT_RUNNING) {
                    /* srun did not end after the scancel: killed, the cell ended here. */
                    struct slot *s = &x.slots[i];
                    node_slurm_step_free(s->step);
                    s->step = NULL;
                    struct err fe;
                    err_clear(&fe);
                    if (exec_replay_finish(s->replay, CELL_INTERRUPTED,
                                           "interrupted: the run was stopped", &fe) != 0)
                        say(&x, s, 6, "%s", fe.msg);
                    if (!exec_replay_run(s->replay)->ncells)
                        store_plain_cell(&x, s, CELL_INTERRUPTED,
                                         "interrupted: the run was stopped");
                    slot_release(&x, s);
                }
            break;
        }
        /* Wait for any stream or salloc to say something (bounded: Slurm's tools are
         * also polled for their timeouts on each round). */
        nfds_t np = 0;
        for (int i = 0; i < x.nslots; i++) {
            const struct slot *s = &x.slots[i];
            int fd = s->state == SLOT_QUEUED    ? node_slurm_alloc_fd(s->alloc)
                     : s->state == SLOT_RUNNING ? node_slurm_step_stdout(s->step)
                                                : -1;
            if (fd >= 0)
                x.pfd[np++] = (struct pollfd){.fd = fd, .events = POLLIN};
        }
        (void)poll(x.pfd, np, 200);
        for (int i = 0; i < x.nslots; i++)
            if (x.slots[i].state == SLOT_RUNNING)
                node_slurm_step_pump(x.slots[i].step);
    }
    for (int i = 0; i < x.nslots; i++)
        if (x.slots[i].state != SLOT_FREE)
            slot_release(&x, &x.slots[i]);
    free(x.slots);
    free(x.pfd);
    buf_free(&x.bin);
    if (x.fatal) {
        *e = x.fatal_e;
        return x.fatal;
    }
    return 0;
}
