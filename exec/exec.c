/* exec.c - the cell executor: provision, start, verify, ramp, sample, store, stop.
 * Every command sent to the node is built here with each interpolated value
 * shell-quoted; names from the matrix are validated by config/ as well. */
#include "exec.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mfbench-config.h"
#include "search.h"

#define STOP_GRACE_MS 5000
#define LOG_TAIL_LINES 15

static void emit(struct dmn_exec *x, struct dmn_event *ev)
{
    if (x->on_event)
        x->on_event(x->arg, ev);
}

static void logf_(struct dmn_exec *x, int level, const char *fw, const char *pl, const char *fmt,
                  ...) MF_PRINTF(5, 6);
static void logf_(struct dmn_exec *x, int level, const char *fw, const char *pl, const char *fmt,
                  ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    struct dmn_event ev = {
        .kind = DMN_EV_LOG, .level = level, .message = msg, .framework = fw, .payload = pl};
    emit(x, &ev);
}

static int cancelled(const struct dmn_exec *x)
{
    return x->cancel && atomic_load(x->cancel);
}

const char *dmn_targets_dir(const char *explicit_dir)
{
    struct stat st;
    if (explicit_dir)
        return stat(explicit_dir, &st) == 0 && S_ISDIR(st.st_mode) ? explicit_dir : NULL;
    const char *env = getenv("MFBENCH_TARGETS");
    if (env && *env)
        return stat(env, &st) == 0 && S_ISDIR(st.st_mode) ? env : NULL;
    if (stat(MFBENCH_SOURCE_TARGETS, &st) == 0 && S_ISDIR(st.st_mode))
        return MFBENCH_SOURCE_TARGETS;
    if (stat(MFBENCH_DATA_TARGETS, &st) == 0 && S_ISDIR(st.st_mode))
        return MFBENCH_DATA_TARGETS;
    return NULL;
}

static int64_t cmd_timeout(const struct dmn_exec *x)
{
    int64_t t = x->matrix->node.command_timeout_ms;
    return t > 0 ? t : 120000;
}

/* One line of a command's output, trimmed. */
static void first_line(const char *s, char *out, size_t n)
{
    while (*s == ' ' || *s == '\n')
        s++;
    size_t i = 0;
    while (s[i] && s[i] != '\n' && i + 1 < n) {
        out[i] = s[i];
        i++;
    }
    out[i] = '\0';
}

/* Remote commands are built by chains of appends that keep the first error
 * (curl-style): no check per call, one check before the command runs. */
static void cmd_puts(int *rc, struct buf *b, const char *s)
{
    if (!*rc)
        *rc = buf_puts(b, s);
}

static void cmd_quote(int *rc, struct buf *b, const char *s)
{
    if (!*rc)
        *rc = buf_shquote(b, s);
}

static int cmd_failed(int rc, struct err *e)
{
    if (!rc)
        return 0;
    return err_set(e, rc, "building a command for the node: %s",
                   rc == -E2BIG ? "too long" : "out of memory");
}

/* A cell's error text: truncated to max bytes rather than lost when longer
 * (a pip error can be long); NULL only when memory ran out. Caller frees. */
static char *msg_vformat(size_t max, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        return NULL;
    size_t len = (size_t)n < max ? (size_t)n : max;
    char *m = malloc(len + 1);
    if (m)
        vsnprintf(m, len + 1, fmt, ap);
    return m;
}

/* Sets the cell's status and error message (replacing an earlier one). */
static void set_error(struct cell_result *c, enum cell_status st, const char *fmt, ...)
    MF_PRINTF(3, 4);
static void set_error(struct cell_result *c, enum cell_status st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *m = msg_vformat(1 << 17, fmt, ap);
    va_end(ap);
    free(c->error);
    c->error = m;
    c->status = st;
}

/* The node's facts, one "key=value" line each, read by key: a probe that
 * fails (no such file, no lscpu, no cpufreq) prints an empty value and the
 * others still count. The CPU model is /proc/cpuinfo's "model name" (x86),
 * else lscpu's (ARM); the governor is that of the server's first CPU. The
 * workdir is made last: its failure is the command's exit status. */
static int node_facts_cmd(struct buf *cmd, const struct cfg_node *nc)
{
    int rc = 0;
    long cpu0 = 0;
    if (nc->cpus && nc->cpus[0] >= '0' && nc->cpus[0] <= '9')
        cpu0 = strtol(nc->cpus, NULL, 10);
    char gov[128];
    snprintf(gov, sizeof(gov), "/sys/devices/system/cpu/cpu%ld/cpufreq/scaling_governor", cpu0);
    cmd_puts(&rc, cmd,
             "echo \"host=$(uname -n 2>/dev/null)\"; echo \"kernel=$(uname -r 2>/dev/null)\"; "
             "echo \"page=$(getconf PAGESIZE 2>/dev/null)\"; "
             "echo \"tck=$(getconf CLK_TCK 2>/dev/null)\"; "
             "echo \"cpus=$(getconf _NPROCESSORS_ONLN 2>/dev/null)\"; "
             "mf_m=$(awk '/^model name/{sub(/^[^:]*: */,\"\");print;exit}' /proc/cpuinfo "
             "2>/dev/null); [ -n \"$mf_m\" ] || mf_m=$(LC_ALL=C lscpu 2>/dev/null | "
             "sed -n 's/^Model name:[[:space:]]*//p' | head -n 1); echo \"cpu_model=$mf_m\"; "
             "echo \"governor=$(cat ");
    cmd_quote(&rc, cmd, gov);
    cmd_puts(&rc, cmd, " 2>/dev/null)\"; echo \"python=$(");
    cmd_quote(&rc, cmd, nc->python && nc->python[0] ? nc->python : "python3");
    cmd_puts(&rc, cmd,
             " -c 'import platform;print(platform.python_version())' 2>/dev/null </dev/null)\"; "
             "echo \"loadavg=$(cut -d ' ' -f 1 /proc/loadavg 2>/dev/null)\"; mkdir -p ");
    cmd_quote(&rc, cmd, nc->workdir);
    cmd_puts(&rc, cmd, " && echo workdir-ok");
    return rc;
}

/* The value of `key` in node_facts_cmd's output, trimmed, into out ("" when
 * absent). */
static void node_fact(const char *text, const char *key, char *out, size_t n)
{
    size_t klen = strlen(key);
    out[0] = '\0';
    for (const char *l = text ? text : ""; *l;) {
        const char *nl = strchr(l, '\n');
        size_t len = nl ? (size_t)(nl - l) : strlen(l);
        if (len > klen && strncmp(l, key, klen) == 0 && l[klen] == '=') {
            const char *v = l + klen + 1, *end = l + len;
            while (v < end && (*v == ' ' || *v == '\t'))
                v++;
            while (end > v && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
                end--;
            size_t vl = (size_t)(end - v) < n - 1 ? (size_t)(end - v) : n - 1;
            memcpy(out, v, vl);
            out[vl] = '\0';
            return;
        }
        l = nl ? nl + 1 : l + len;
    }
}

int dmn_prepare_node(struct dmn_exec *x, struct run_record *run, struct err *e)
{
    const struct cfg_node *nc = &x->matrix->node;
    struct buf cmd, out;
    buf_init(&cmd, 0);
    buf_init(&out, 1 << 16);
    int rc;
    char dir[1024];

    rc = node_facts_cmd(&cmd, nc);
    if (rc) {
        err_set(e, rc, "out of memory");
        goto fail;
    }
    rc = node_exec_ok(x->node, cmd.data, cmd_timeout(x), &out, e);
    if (rc)
        goto fail;
    {
        char v[256];
        char *end;
        node_fact(out.data, "page", v, sizeof(v));
        long page = strtol(v, NULL, 10);
        node_fact(out.data, "tck", v, sizeof(v));
        long tck = strtol(v, NULL, 10);
        x->node_page_kb = page > 0 ? page / 1024 : 4;
        x->node_clk_tck = tck > 0 ? tck : 100;
        if (run) {
            node_fact(out.data, "host", run->node_host, sizeof(run->node_host));
            node_fact(out.data, "kernel", run->node_kernel, sizeof(run->node_kernel));
            mf_strlcpy(run->node_cpus, nc->cpus ? nc->cpus : "", sizeof(run->node_cpus));
            node_fact(out.data, "cpu_model", run->node_cpu_model, sizeof(run->node_cpu_model));
            node_fact(out.data, "governor", run->node_governor, sizeof(run->node_governor));
            node_fact(out.data, "python", run->node_python, sizeof(run->node_python));
            node_fact(out.data, "cpus", v, sizeof(v));
            long ncpu = strtol(v, &end, 10);
            run->node_cpu_count =
                end != v && *end == '\0' && ncpu > 0 && ncpu < 1 << 20 ? (int)ncpu : -1;
            node_fact(out.data, "loadavg", v, sizeof(v));
            double la = strtod(v, &end);
            run->node_loadavg = end != v && *end == '\0' && la >= 0 ? la : -1;
        }
    }

    rc = node_sampler_install(x->node, nc->workdir, e);
    if (rc)
        goto fail;

    if (x->targets_dir) {
        int uploaded = 0;
        snprintf(dir, sizeof(dir), "%s/targets", nc->workdir);
        rc = node_sync_tree(x->node, x->targets_dir, dir, &uploaded, e);
        if (rc)
            goto fail;
        logf_(x, 6, NULL, NULL, "targets %s on the node (%s)", uploaded ? "uploaded" : "unchanged",
              dir);
    }
    /* Users' own target folders. */
    for (size_t i = 0; i < x->matrix->nframeworks; i++) {
        const struct cfg_framework *fw = &x->matrix->frameworks[i];
        if (!fw->dir)
            continue;
        char local[1024];
        if (fw->dir[0] == '/')
            snprintf(local, sizeof(local), "%s", fw->dir);
        else
            snprintf(local, sizeof(local), "%s/%s", x->matrix->dir, fw->dir);
        int uploaded = 0;
        snprintf(dir, sizeof(dir), "%s/user/%s", nc->workdir, fw->name);
        rc = node_sync_tree(x->node, local, dir, &uploaded, e);
        if (rc)
            goto fail;
    }
    rc = 0;
fail:
    buf_free(&cmd);
    buf_free(&out);
    return rc;
}

/* ---- paths and templates ---- */

struct cell_paths {
    char dir[1024]; /* the app's folder on the node */
    char venv[1024];
    char python[1100]; /* the venv's python */
    char pidfile[1024];
    char logfile[1024];
    char samples[1024];
};

static void cell_paths(const struct dmn_exec *x, const struct cfg_framework *fw,
                       struct cell_paths *p)
{
    const char *wd = x->matrix->node.workdir;
    if (fw->dir)
        snprintf(p->dir, sizeof(p->dir), "%s/user/%s", wd, fw->name);
    else
        snprintf(p->dir, sizeof(p->dir), "%s/targets/%s", wd, fw->app ? fw->app : fw->name);
    snprintf(p->venv, sizeof(p->venv), "%s/venvs/%s", wd, fw->name);
    snprintf(p->python, sizeof(p->python), "%s/bin/python", p->venv);
    snprintf(p->pidfile, sizeof(p->pidfile), "%s/run/server.pid", wd);
    snprintf(p->logfile, sizeof(p->logfile), "%s/logs/%s.log", wd, fw->name);
    snprintf(p->samples, sizeof(p->samples), "%s/run/samples.txt", wd);
}

/* Expands {python} {dir} {host} {port} {workers} {name} {workdir}; every value
 * is shell-quoted. An unknown placeholder is an error naming it. */
static int expand_start(const struct dmn_exec *x, const struct cfg_framework *fw,
                        const struct cell_paths *p, struct buf *out, struct err *e)
{
    static const char builtin[] = "{python} {dir}/app.py --host {host} --port {port} "
                                  "--workers {workers}";
    const char *t = fw->start ? fw->start : builtin;
    const struct cfg_node *nc = &x->matrix->node;
    char port[16], workers[16];
    snprintf(port, sizeof(port), "%d", nc->server_port);
    snprintf(workers, sizeof(workers), "%d", fw->workers > 0 ? fw->workers : 1);
    const char *listen = nc->listen ? nc->listen : (nc->host ? nc->host : "127.0.0.1");
    while (*t) {
        if (*t != '{') {
            const char *next = strchr(t, '{');
            size_t n = next ? (size_t)(next - t) : strlen(t);
            if (buf_append(out, t, n))
                return err_set(e, -ENOMEM, "out of memory");
            t += n;
            continue;
        }
        const char *close = strchr(t, '}');
        if (!close)
            return err_set(e, -EINVAL, "frameworks.%s.start: unclosed '{'", fw->name);
        size_t n = (size_t)(close - t - 1);
        const char *v = NULL;
#define IS(k) (n == sizeof(k) - 1 && strncmp(t + 1, k, n) == 0)
        if (IS("python"))
            v = p->python;
        else if (IS("dir"))
            v = p->dir;
        else if (IS("host"))
            v = listen;
        else if (IS("port"))
            v = port;
        else if (IS("workers"))
            v = workers;
        else if (IS("name"))
            v = fw->name;
        else if (IS("workdir"))
            v = nc->workdir;
#undef IS
        if (!v)
            return err_set(e, -EINVAL,
                           "frameworks.%s.start: unknown placeholder {%.*s} (have {python} {dir} "
                           "{host} {port} {workers} {name} {workdir})",
                           fw->name, (int)n, t + 1);
        if (buf_shquote(out, v))
            return err_set(e, -ENOMEM, "out of memory");
        t = close + 1;
    }
    return 0;
}

/* ---- provisioning ---- */

/* Creates the venv and asks the app for its versions. Returns 0 ready,
 * 1 skipped (reason in c->error), negative on transport failure. */
static int provision(struct dmn_exec *x, const struct cfg_framework *fw, const struct cell_paths *p,
                     struct cell_result *c, struct err *e)
{
    const struct cfg_node *nc = &x->matrix->node;
    struct buf cmd, out;
    buf_init(&cmd, 0);
    buf_init(&out, 1 << 16);
    int rc = 0, status = 0;

    /* venv: created once, reused; with system site packages when the node's
     * python3-* packages are what is measured, else pip from requirements.txt. */
    cmd_puts(&rc, &cmd, "set -e; if [ ! -x ");
    cmd_quote(&rc, &cmd, p->python);
    cmd_puts(&rc, &cmd, " ]; then mkdir -p ");
    cmd_quote(&rc, &cmd, nc->workdir);
    cmd_puts(&rc, &cmd, "/venvs; ");
    cmd_quote(&rc, &cmd, nc->python);
    if (nc->system_site_packages) {
        cmd_puts(&rc, &cmd, " -m venv --system-site-packages --without-pip ");
        cmd_quote(&rc, &cmd, p->venv);
    } else {
        cmd_puts(&rc, &cmd, " -m venv ");
        cmd_quote(&rc, &cmd, p->venv);
        cmd_puts(&rc, &cmd, " && ");
        cmd_quote(&rc, &cmd, p->python);
        cmd_puts(&rc, &cmd, " -m pip install -q -r ");
        cmd_quote(&rc, &cmd, p->dir);
        cmd_puts(&rc, &cmd, "/requirements.txt || { rm -rf ");
        cmd_quote(&rc, &cmd, p->venv);
        cmd_puts(&rc, &cmd, "; exit 1; }");
    }
    cmd_puts(&rc, &cmd, "; fi; mkdir -p ");
    cmd_quote(&rc, &cmd, nc->workdir);
    cmd_puts(&rc, &cmd, "/run ");
    cmd_quote(&rc, &cmd, nc->workdir);
    cmd_puts(&rc, &cmd, "/logs");
    if ((rc = cmd_failed(rc, e)) != 0)
        goto done;
    rc = node_exec(x->node, cmd.data, cmd_timeout(x), &out, &status, e);
    if (rc)
        goto done;
    if (status != 0) {
        buf_tail_lines(&out, 5);
        set_error(c, CELL_SKIPPED, "%s: cannot create venv: %s", fw->name,
                  out.data ? out.data : "");
        rc = 1;
        goto done;
    }

    /* Versions: the app itself says what it will run, or why it cannot. A
     * user's own start command without an app.py records the python only. */
    buf_reset(&cmd);
    buf_reset(&out);
    cmd_puts(&rc, &cmd, "cd ");
    cmd_quote(&rc, &cmd, p->dir);
    if (fw->start) {
        /* A user's own server: its app.py is not ours to run with flags. */
        cmd_puts(&rc, &cmd, " && exec ");
        cmd_quote(&rc, &cmd, p->python);
        cmd_puts(&rc, &cmd,
                 " -c 'import json,platform;print(json.dumps({\"python\":"
                 "platform.python_version()}))'");
    } else {
        cmd_puts(&rc, &cmd, " && exec ");
        cmd_quote(&rc, &cmd, p->python);
        cmd_puts(&rc, &cmd, " app.py --versions");
    }
    if ((rc = cmd_failed(rc, e)) != 0)
        goto done;
    rc = node_exec(x->node, cmd.data, cmd_timeout(x) < 60000 ? cmd_timeout(x) : 60000, &out,
                   &status, e);
    if (rc)
        goto done;
    if (status != 0) {
        char line[512];
        buf_tail_lines(&out, 1);
        first_line(out.data ? out.data : "", line, sizeof(line));
        if (line[0])
            set_error(c, CELL_SKIPPED, "%s", line);
        else
            set_error(c, CELL_SKIPPED, "%s: app.py --versions exited with status %d", fw->name,
                      status);
        rc = 1;
        goto done;
    }
    {
        /* The last line that looks like a JSON object. */
        char *s = out.data ? out.data : "";
        char *obj = NULL;
        for (char *l = s; l && *l;) {
            char *nl = strchr(l, '\n');
            if (nl)
                *nl = '\0';
            while (*l == ' ')
                l++;
            if (*l == '{')
                obj = l;
            l = nl ? nl + 1 : NULL;
        }
        free(c->versions_json);
        c->versions_json = obj ? strdup(obj) : NULL;
    }
    rc = 0;
done:
    buf_free(&cmd);
    buf_free(&out);
    return rc;
}

/* ---- the ramp ---- */

struct progress_ctx {
    struct dmn_exec *x;
    const char *fw, *pl;
    int users, seq;
    double planned_s;
};

static void on_progress(void *arg, const struct run_progress *p)
{
    struct progress_ctx *pc = arg;
    struct dmn_event ev = {.kind = DMN_EV_PROGRESS,
                           .framework = pc->fw,
                           .payload = pc->pl,
                           .users = pc->users,
                           .seq = pc->seq,
                           .progress = p,
                           .phase_duration_s = pc->planned_s};
    emit(pc->x, &ev);
}

static enum run_think_kind think_kind(const struct cfg_think *t)
{
    if (t->min_ms == 0 && t->max_ms == 0)
        return RUN_THINK_NONE;
    switch (t->kind) {
    case CFG_THINK_CONSTANT:
        return RUN_THINK_CONSTANT;
    case CFG_THINK_PACING:
        return RUN_THINK_PACING;
    case CFG_THINK_BETWEEN:
    default:
        return RUN_THINK_BETWEEN;
    }
}

static int server_alive_cb(void *arg)
{
    void **a = arg;
    struct err e;
    err_clear(&e);
    return node_server_alive(a[0], a[1], &e) != 0; /* errors count as alive: keep probing */
}

static void append_log_tail(struct dmn_exec *x, struct node_server *srv, struct cell_result *c)
{
    struct buf tail;
    struct err e;
    err_clear(&e);
    buf_init(&tail, 1 << 16);
    if (node_server_log_tail(x->node, srv, LOG_TAIL_LINES, &tail, &e) == 0 && tail.len) {
        set_error(c, c->status, "%s\n--- last lines of the server's log ---\n%s",
                  c->error ? c->error : "", tail.data);
    }
    buf_free(&tail);
}

/* ---- the breaking-point search ---- */

/* Everything one cell's searches share. */
struct cell_ctx {
    struct dmn_exec *x;
    const struct cfg_framework *fw;
    const struct cfg_payload *pl;
    const char *body; /* the exact expected body (the payload's, or its body_file's), or NULL */
    size_t body_len;
    struct cfg_settings st;
    struct cell_paths p;
    struct node_server srv;
    const char *cmd;
    char url[1200];
    int server_up, need_start;
    int seq;    /* phase index in the cell, over all repeats */
    int repeat; /* current search */
    struct err cerr;
};

/* Starts (or restarts) the server and waits until it answers correctly.
 * 0 = ready; 1 = the cell ended (status and error set). */
static int server_fresh(struct cell_ctx *k, struct cell_result *c)
{
    struct dmn_exec *x = k->x;
    const struct cfg_node *nc = &x->matrix->node;
    if (k->server_up) {
        node_server_stop(x->node, &k->srv, STOP_GRACE_MS, &k->cerr);
        err_clear(&k->cerr);
        k->server_up = 0;
    }
    /* A server left by an earlier, killed mfbench on this port. */
    node_server_stop_pidfile(x->node, k->p.pidfile, STOP_GRACE_MS, &(int){0}, &k->cerr);
    err_clear(&k->cerr);
    if (node_server_start(x->node, k->cmd, k->p.dir, nc->cpus, nc->nofile, k->p.pidfile,
                          k->p.logfile, &k->srv, &k->cerr) != 0) {
        set_error(c, CELL_FAILED, "server did not start: %s", k->cerr.msg);
        return 1;
    }
    k->server_up = 1;
    if (k->srv.warning[0])
        logf_(x, 4, k->fw->name, k->pl->name, "%s", k->srv.warning);
    struct probe_expect pe = {.body = k->body,
                              .body_len = k->body_len,
                              .length = k->pl->length,
                              .content_type = k->pl->content_type};
    void *alive_arg[2] = {x->node, &k->srv};
    int64_t ready = k->st.ready_timeout_ms > 0 ? k->st.ready_timeout_ms : 30000;
    int prc = probe_wait(k->url, &pe, ready, x->cancel, server_alive_cb, alive_arg, &k->cerr);
    if (prc != 0) {
        if (cancelled(x)) {
            c->status = CELL_CANCELLED;
        } else if (prc == -EPROTO) {
            set_error(c, CELL_ERROR, "wrong response from %s: %s", k->url, k->cerr.msg);
        } else if (prc == -ESRCH) {
            set_error(c, CELL_FAILED, "server exited before it was ready");
            append_log_tail(x, &k->srv, c);
        } else {
            set_error(c, CELL_FAILED, "server not ready: %s", k->cerr.msg);
            append_log_tail(x, &k->srv, c);
        }
        err_clear(&k->cerr);
        return 1;
    }
    k->need_start = 0;
    logf_(x, 6, k->fw->name, k->pl->name, "server ready pid=%ld nofile=%lld url=%s", k->srv.pid,
          (long long)k->srv.nofile, k->url);
    return 0;
}

/* Stores the per-second series of a stored phase (its own transaction, after
 * the phase row is committed). The series is optional: a failure is logged and
 * the phase stands. A second without a response has no percentiles (-1). */
static void store_series(struct cell_ctx *k, int64_t phase_id, const struct run_report *rep)
{
    struct dmn_exec *x = k->x;
    if (!rep->nseries)
        return;
    struct store_series_point *pts = calloc(rep->nseries, sizeof(*pts));
    if (!pts) {
        logf_(x, 4, k->fw->name, k->pl->name, "phase series not stored: out of memory");
        return;
    }
    for (size_t i = 0; i < rep->nseries; i++) {
        const struct run_series_point *sp = &rep->series[i];
        int none = sp->requests == 0;
        pts[i] = (struct store_series_point){.t_s = sp->t_s,
                                             .users = sp->users,
                                             .requests = sp->requests,
                                             .failures = sp->failures,
                                             .p50_ms = none ? -1 : sp->p50_ms,
                                             .p99_ms = none ? -1 : sp->p99_ms};
    }
    struct err se;
    err_clear(&se);
    if (store_phase_series_add(x->store, phase_id, pts, rep->nseries, &se) != 0)
        logf_(x, 4, k->fw->name, k->pl->name, "phase series not stored: %s", se.msg);
    free(pts);
}

/* Runs, samples, classifies, stores and reports one phase at `users`. Returns
 * a search_outcome (with the phase's req/s and load_bound flag), or a
 * negative code (e set) when the store failed. */
static int run_level(struct cell_ctx *k, struct cell_result *c, int users, const char *kind,
                     double *rps, int *load_bound, struct err *e)
{
    struct dmn_exec *x = k->x;
    const struct cfg_settings *st = &k->st;
    if (cancelled(x)) {
        c->status = CELL_CANCELLED;
        return SEARCH_END;
    }
    if (k->need_start && server_fresh(k, c) != 0)
        return SEARCH_END;

    struct run_opts o;
    struct run_report rep;
    run_opts_init(&o);
    o.url = k->url;
    o.users = users;
    o.spawn_rate = st->spawn_rate;
    o.duration_ms = st->duration_ms;
    o.warmup_ms = st->warmup_ms;
    o.think = think_kind(&st->think);
    o.think_min_ms = st->think.min_ms;
    o.think_max_ms = st->think.max_ms;
    o.rate = st->rate;
    o.pipeline = st->pipeline > 0 ? st->pipeline : 1;
    o.threads = 1;
    o.timeout_ms = st->timeout_ms;
    o.expect_body = k->body;
    o.expect_body_len = k->body_len;
    o.expect_length = k->pl->length;
    o.cpus = x->matrix->load_cpus;
    o.cancel = x->cancel;
    struct progress_ctx pc = {x,     k->fw->name, k->pl->name,
                              users, k->seq,      (double)st->duration_ms / 1000.0};
    o.progress = on_progress;
    o.progress_arg = &pc;
    {
        struct dmn_event ev = {.kind = DMN_EV_PHASE_START,
                               .framework = k->fw->name,
                               .payload = k->pl->name,
                               .users = users,
                               .seq = k->seq,
                               .phase_duration_s = pc.planned_s};
        emit(x, &ev);
    }
    long sampler_pid = 0;
    if (node_sampler_start(x->node, x->matrix->node.workdir, k->srv.pid, x->matrix->node.cpus,
                           k->p.samples, st->duration_ms / 1000 + 5, cmd_timeout(x), &sampler_pid,
                           &k->cerr) != 0) {
        logf_(x, 4, k->fw->name, k->pl->name, "server sampler not started: %s", k->cerr.msg);
        err_clear(&k->cerr);
    }
    memset(&rep, 0, sizeof(rep));
    int prc = run_phase(&o, &rep, &k->cerr);
    struct phase_result ph = rep.result;
    {
        /* A sampler that could not be read leaves the server figures unknown (-1). */
        struct node_samples sm;
        struct err se;
        err_clear(&se);
        node_sampler_finish(x->node, sampler_pid, k->p.samples, cmd_timeout(x), st->warmup_ms,
                            x->node_page_kb, x->node_clk_tck, &sm, &se);
        ph.server_rss_max_kb = sm.rss_max_kb;
        ph.server_rss_mean_kb = sm.rss_mean_kb;
        ph.server_cpu_pct = sm.cpu_pct;
        ph.server_cpu_max_pct = sm.cpu_max_pct;
        ph.server_threads_max = sm.threads_max;
        ph.server_fds_max = sm.fds_max;
        ph.sampler_cpu_pct = sm.sampler_cpu_pct;
        ph.steal_pct = sm.steal_pct;
        ph.neighbour_cpu_pct = sm.neighbour_cpu_pct;
        ph.noisy = sm.noisy;
    }
    int was_cancelled = rep.cancelled || cancelled(x);
    if (prc != 0) {
        run_report_free(&rep);
        set_error(c, CELL_ERROR, "load engine: %s", k->cerr.msg);
        err_clear(&k->cerr);
        return SEARCH_END;
    }
    if (was_cancelled) {
        /* A phase cut short is not a measurement: it is not stored. */
        run_report_free(&rep);
        c->status = CELL_CANCELLED;
        return SEARCH_END;
    }
    ph.users = users;
    mf_strlcpy(ph.kind, kind, sizeof(ph.kind));
    ph.repeat = k->repeat;
    /* offered_rps is the runner's: the requests the users would have sent
     * against an instant server in the window, from their own think draws. */
    ph.client_bound = ph.client_cpu_pct > st->client_bound_pct;
    ph.load_bound = search_load_bound(ph.rps, ph.offered_rps);
    int alive = node_server_alive(x->node, &k->srv, &k->cerr);
    char lost[512] = "";
    if (alive < 0) {
        /* The node did not answer: what the phase measured is kept, but the
         * cell cannot be judged (nor its server stopped): error, never ok. */
        mf_strlcpy(lost, k->cerr.msg, sizeof(lost));
        alive = 1;
    }
    err_clear(&k->cerr);
    const struct search_stop sw = {.failures = st->stop_when.failures,
                                   .ratio = st->stop_when.ratio,
                                   .p99_ms = st->stop_when.p99_ms};
    const char *why = search_phase_fails(&sw, &ph);
    if (alive == 0)
        why = "server_exited";
    if (lost[0])
        why = "node_lost";
    if (why)
        mf_strlcpy(ph.stop_reason, why, sizeof(ph.stop_reason));
    int rc = x->store ? store_phase_add_id(x->store, c->id, k->seq, &ph, &ph.id, e) : 0;
    if (!rc && x->store)
        store_series(k, ph.id, &rep);
    run_report_free(&rep);
    int arc = cell_result_add_phase(c, &ph);
    if (rc)
        return rc;
    if (arc) {
        /* Stored, but the cell's result cannot hold it: end the cell here. */
        set_error(c, CELL_ERROR, "phase at %d users: %s", users, strerror(-arc));
        return SEARCH_END;
    }
    *rps = ph.rps;
    *load_bound = ph.load_bound;
    if (ph.rps > c->peak_rps)
        c->peak_rps = ph.rps; /* live value; the summary replaces it */
    {
        struct dmn_event ev = {.kind = DMN_EV_PHASE_END,
                               .framework = k->fw->name,
                               .payload = k->pl->name,
                               .users = users,
                               .seq = k->seq,
                               .phase = &c->phases[c->nphases - 1]};
        emit(x, &ev);
    }
    k->seq++;
    if (lost[0]) {
        set_error(c, CELL_ERROR,
                  "lost the node during the phase at %d users: %s (a server may be left "
                  "running there; the next run on this node stops it)",
                  users, lost);
        k->server_up = 0; /* a stop would only wait for the same dead transport */
        return SEARCH_END;
    }
    if (!why)
        return SEARCH_PASS;
    /* The next probe must not meet a server this phase damaged. */
    k->need_start = 1;
    if (alive == 0) {
        logf_(x, 4, k->fw->name, k->pl->name, "server exited during the phase at %d users", users);
        k->server_up = 0;
    }
    if (ph.client_bound) {
        snprintf(c->note, sizeof(c->note),
                 "the phase at %d users failed (%s) while the load engine's core was %.0f%% busy "
                 "(client bound, limit %.0f%%): not taken as a breaking point; search stopped",
                 users, why, ph.client_cpu_pct, st->client_bound_pct);
        logf_(x, 4, k->fw->name, k->pl->name, "%s", c->note);
        return SEARCH_CLIENT_FAIL;
    }
    return SEARCH_FAIL;
}

/* The search's plan from the cell's settings. */
static void plan_of(const struct cfg_settings *st, struct search_plan *p)
{
    *p = (struct search_plan){.start = st->users.start,
                              .step = st->users.step,
                              .max = st->users.max,
                              .factor = st->users.factor,
                              .refine_pct = st->refine_pct,
                              .refine_abs = st->refine_abs,
                              .repeats = st->repeats,
                              .max_repeats = st->max_repeats,
                              .spread_pct = st->spread_pct};
}

/* One search on a fresh server, driven level by level by search/. Returns 0
 * when it ran to a result, 1 when the cell ended (s->result holds what it had
 * seen), negative on store errors. */
static int search_once(struct cell_ctx *k, struct cell_result *c, const struct search_plan *plan,
                       struct search *s, struct err *e)
{
    int users;
    const char *kind;
    search_init(s, plan);
    k->need_start = 1; /* each search starts on a fresh server */
    while (search_next(s, &users, &kind)) {
        double rps = 0;
        int load_bound = 0;
        int r = run_level(k, c, users, kind, &rps, &load_bound, e);
        if (r < 0)
            return r;
        search_report(s, (enum search_outcome)r, rps, load_bound);
    }
    return s->ended ? 1 : 0;
}

int dmn_exec_cell(struct dmn_exec *x, const struct cfg_cell *cell, struct cell_result *c,
                  struct err *e)
{
    const struct cfg_matrix *m = x->matrix;
    const struct cfg_framework *fw = &m->frameworks[cell->framework];
    const struct cfg_payload *pl = &m->payloads[cell->payload];
    const struct cfg_node *nc = &m->node;
    struct cell_ctx k;
    struct buf cmd, body;
    struct search_result res[SEARCH_MAX_REPEATS];
    struct search_plan plan;
    struct search cur;
    int rc = 0, nres = 0;

    memset(c, 0, sizeof(*c));
    memset(&k, 0, sizeof(k));
    k.x = x;
    k.fw = fw;
    k.pl = pl;
    mf_strlcpy(c->framework, fw->name, sizeof(c->framework));
    mf_strlcpy(c->payload, pl->name, sizeof(c->payload));
    c->capacity_users = c->breaking_users = -1;
    c->capacity_median = c->capacity_iqr = c->capacity_min = c->capacity_max = -1;
    c->peak_rps_median = c->peak_rps_iqr = c->peak_rps_min = c->peak_rps_max = -1;
    c->peak_rps_spread = -1;
    c->status = CELL_RUNNING;
    buf_init(&cmd, 0);
    buf_init(&body, 0);
    err_clear(&k.cerr);
    k.body = pl->body;
    k.body_len = pl->body_len;

    if (x->store && (rc = store_cell_begin(x->store, x->run_id, c, e)) != 0)
        goto out;
    {
        struct dmn_event ev = {
            .kind = DMN_EV_CELL_START, .framework = fw->name, .payload = pl->name};
        emit(x, &ev);
    }
    if (cfg_resolve(m, x->profile, fw, &k.st, &k.cerr) != 0) {
        set_error(c, CELL_ERROR, "%s", k.cerr.msg);
        goto finish;
    }
    cell_paths(x, fw, &k.p);
    if (pl->body_file) {
        /* The exact bytes every answer is compared with, read where the engine runs. */
        char path[2048];
        if (pl->body_file[0] == '/' || !x->targets_dir)
            snprintf(path, sizeof(path), "%s", pl->body_file);
        else
            snprintf(path, sizeof(path), "%s/%s", x->targets_dir, pl->body_file);
        if (mf_read_file(path, 64u << 20, &body, &k.cerr) != 0) {
            set_error(c, CELL_ERROR, "payloads.%s.body_file: %s", pl->name, k.cerr.msg);
            goto finish;
        }
        k.body = body.data;
        k.body_len = body.len;
    }

    rc = provision(x, fw, &k.p, c, &k.cerr);
    if (rc < 0) {
        set_error(c, CELL_ERROR, "provisioning failed: %s", k.cerr.msg);
        rc = 0;
        goto finish;
    }
    if (rc == 1) {
        logf_(x, 4, fw->name, pl->name, "skipped: %s", c->error);
        rc = 0;
        goto finish;
    }
    if (expand_start(x, fw, &k.p, &cmd, &k.cerr) != 0) {
        set_error(c, CELL_ERROR, "%s", k.cerr.msg);
        goto finish;
    }
    k.cmd = cmd.data;
    snprintf(k.url, sizeof(k.url), "http://%s:%d%s", x->node->host, nc->server_port, pl->path);

    plan_of(&k.st, &plan);
    {
        int most = search_repeats_most(&plan);
        const char *upto = plan.repeats > 0 ? "" : "at most ";
        int ended = 0;
        memset(&cur, 0, sizeof(cur));
        while (!ended && search_repeat_again(&plan, res, nres)) {
            k.repeat = nres;
            if (most > 1)
                logf_(x, 6, fw->name, pl->name, "search %d of %s%d", nres + 1, upto, most);
            int r = search_once(&k, c, &plan, &cur, e);
            if (r < 0) {
                rc = r;
                goto out;
            }
            if (r == 1)
                ended = 1;
            else
                res[nres++] = cur.result;
        }
        if (search_repeats_unsettled(&plan, res, nres))
            logf_(x, 4, fw->name, pl->name,
                  "peak req/s still spread by %.1f%% after %d searches (target %.1f%%)",
                  search_peak_spread(res, nres) * 100.0, nres, plan.spread_pct);
    }
    search_summarize(c, res, nres);
    if (nres == 0 && c->nphases > 0) {
        /* Cut short in its first search: what that search had seen so far. */
        c->capacity_users = cur.result.capacity;
        c->breaking_users = cur.result.breaking;
    }
    if (c->status == CELL_RUNNING && nres > 0 && c->capacity_users < 0 && c->breaking_users > 0 &&
        !res[nres - 1].client_stopped) {
        /* Not even the first level held: there is no capacity to report, and
         * the reason (the first phase's stop reason) is what the user needs. */
        const char *why = c->nphases > 0 ? c->phases[0].stop_reason : "";
        set_error(c, CELL_FAILED, "the server failed already at %d users (%s)",
                  c->breaking_users, why[0] ? why : "failures");
    }
    if (c->status == CELL_RUNNING)
        c->status = nres > 0 ? CELL_OK : CELL_ERROR;

finish:
    if (k.server_up) {
        err_clear(&k.cerr);
        if (node_server_stop(x->node, &k.srv, STOP_GRACE_MS, &k.cerr) != 0)
            logf_(x, 3, fw->name, pl->name, "stopping the server: %s", k.cerr.msg);
        k.server_up = 0;
    }
    if (c->status == CELL_RUNNING)
        c->status = CELL_ERROR;
    if (x->store && (rc = store_cell_finish(x->store, c, e)) != 0)
        goto out;
    {
        struct dmn_event ev = {
            .kind = DMN_EV_CELL_END, .framework = fw->name, .payload = pl->name, .cell = c};
        emit(x, &ev);
    }
    rc = 0;
out:
    if (rc && k.server_up) {
        struct err e2;
        err_clear(&e2);
        node_server_stop(x->node, &k.srv, STOP_GRACE_MS, &e2);
    }
    buf_free(&cmd);
    buf_free(&body);
    return rc;
}

int dmn_cleanup_node(struct dmn_exec *x, int *found, struct err *e)
{
    char pidfile[1100];
    snprintf(pidfile, sizeof(pidfile), "%s/run/server.pid", x->matrix->node.workdir);
    return node_server_stop_pidfile(x->node, pidfile, STOP_GRACE_MS, found, e);
}
