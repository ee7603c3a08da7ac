/* mfbenchd.c - the mfbench daemon: owns the node, runs queued jobs one at a time
 * through the cell executor (a worker thread), and serves the control socket on
 * a libuv loop (trigger, status, cancel, subscribe). Logs one key=value line
 * per event on stderr with a journald priority prefix; talks to systemd via
 * sd_notify when built with libsystemd. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "control.h"
#include "daemon.h"
#include "exec.h"
#include "mfbench-config.h"
#include "node.h"
#include "store.h"

#if HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#else
static int sd_notify(int unset, const char *state)
{
    (void)unset;
    (void)state;
    return 0;
}
#endif

#define MAX_CLIENTS 64
#define MAX_EVENTS 4096              /* undelivered event lines kept for the loop */
#define MAX_CLIENT_BACKLOG (4 << 20) /* a subscriber this far behind is dropped */
#define NRECENT 16
#define STOP_DEADLINE_MS 8000 /* after SIGTERM; systemd's TimeoutStopSec is longer */

/* A loaded matrix; jobs hold a reference so SIGHUP can swap it under them. */
struct mref {
    struct cfg_matrix *m;
    int refs;
};

struct recent {
    int64_t job, run;
    char status[16];
};

/* What `status` reports about the running job. */
struct progress {
    struct dmn_job *job;
    int64_t run_id;
    int64_t started_ms;
    size_t cell_index;
    char cell[DMN_MAX_NAME];
    char state[16]; /* preparing, starting, phase, stopping */
    int seq, users, users_started;
    double elapsed_s, duration_s, rps, p99_ms;
    uint64_t requests, failures;
    int cell_levels_done;
    int cell_levels_max;
    size_t ok, not_ok;
};

struct client;

struct daemon {
    uv_loop_t loop;
    uv_pipe_t server;
    uv_signal_t sigterm, sigint, sighup;
    uv_async_t wake;
    uv_timer_t watchdog, deadline;
    uv_thread_t worker;
    int worker_started, watchdog_on, server_open, shutting;

    const char *matrix_path; /* NULL = the embedded default */
    char socket_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
    char store_path[4096];
    const char *targets_dir;
    struct store *store; /* the worker's once it runs */

    /* Shared with the worker, under mu. */
    uv_mutex_t mu;
    uv_cond_t cv;
    struct mref *matrix;
    struct dmn_queue queue;
    struct progress prog;
    struct recent recent[NRECENT];
    size_t nrecent;
    char *events[MAX_EVENTS];
    size_t nevents;
    int stopping;    /* SIGTERM/SIGINT: the running job ends "interrupted" */
    int worker_done; /* the worker has returned */
    atomic_int cancel;

    /* Loop thread only. */
    struct client *clients;
    size_t nclients;
};

struct client {
    uv_pipe_t h;
    uv_shutdown_t shut;
    struct daemon *d;
    struct buf in;
    int subscribed, closing, finishing;
    struct client *next, *prev;
};

/* ---- logging ---- */

/* Quotes a value for a key=value line when it needs it; never emits a newline. */
static const char *kv(const char *s, char *out, size_t n)
{
    if (!s)
        s = "";
    int plain = *s != '\0';
    for (const char *p = s; *p; p++)
        if (*p == ' ' || *p == '"' || *p == '=' || *p == '\\' || (unsigned char)*p < 0x20)
            plain = 0;
    if (plain)
        return s;
    size_t o = 0;
    out[o++] = '"';
    for (const char *p = s; *p && o + 4 < n; p++) {
        if (*p == '"' || *p == '\\') {
            out[o++] = '\\';
            out[o++] = *p;
        } else if (*p == '\n') {
            out[o++] = '\\';
            out[o++] = 'n';
        } else if ((unsigned char)*p < 0x20) {
            out[o++] = ' ';
        } else {
            out[o++] = *p;
        }
    }
    out[o++] = '"';
    out[o] = '\0';
    return out;
}

/* One line on stderr, "<level>" first; written with one write() so lines of
 * the loop and the worker never interleave. */
static void logline(int level, const char *fmt, ...) MF_PRINTF(2, 3);
static void logline(int level, const char *fmt, ...)
{
    char b[4096];
    int n = snprintf(b, sizeof(b), "<%d>", level);
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(b + n, sizeof(b) - (size_t)n - 1, fmt, ap);
    va_end(ap);
    size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
    if (len > sizeof(b) - 2)
        len = sizeof(b) - 2;
    for (size_t i = (size_t)n; i < len; i++)
        if (b[i] == '\n' || b[i] == '\r')
            b[i] = ' ';
    b[len++] = '\n';
    ssize_t w = write(2, b, len);
    (void)w;
}

/* ---- matrix references (callers hold d->mu) ---- */

static struct mref *mref_get(struct daemon *d)
{
    d->matrix->refs++;
    return d->matrix;
}

static void mref_put(struct mref *r)
{
    if (r && --r->refs == 0) {
        cfg_free(r->m);
        free(r);
    }
}

static int load_matrix(const char *path, struct cfg_matrix **m, struct err *e)
{
    if (path)
        return cfg_load_file(path, m, e);
    return cfg_load_string("<embedded>", cfg_default_matrix, strlen(cfg_default_matrix), m, e);
}

/* ---- events: worker -> loop ---- */

/* Queues a JSON event line for subscribers (takes o) and wakes the loop. Any thread. */
static void post_event(struct daemon *d, cJSON *o)
{
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (!s)
        return;
    size_t n = strlen(s);
    char *line = realloc(s, n + 2);
    if (!line) {
        free(s);
        return;
    }
    line[n] = '\n';
    line[n + 1] = '\0';
    uv_mutex_lock(&d->mu);
    if (d->nevents == MAX_EVENTS) { /* the loop is far behind: drop the oldest */
        free(d->events[0]);
        memmove(d->events, d->events + 1, (MAX_EVENTS - 1) * sizeof(char *));
        d->nevents--;
    }
    d->events[d->nevents++] = line;
    uv_mutex_unlock(&d->mu);
    uv_async_send(&d->wake);
}

static cJSON *event_new(const char *name, int64_t job)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    cJSON_AddStringToObject(o, "event", name);
    cJSON_AddNumberToObject(o, "job", (double)job);
    return o;
}

static void notify_status(const char *fmt, ...) MF_PRINTF(1, 2);
static void notify_status(const char *fmt, ...)
{
    char b[512];
    int n = snprintf(b, sizeof(b), "STATUS=");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(b + n, sizeof(b) - (size_t)n, fmt, ap);
    va_end(ap);
    sd_notify(0, b);
}

/* ---- the worker: runs jobs one at a time ---- */

struct jobctx {
    struct daemon *d;
    struct dmn_job *job;
    const char *cell; /* "framework/payload" of the running cell */
};

static void on_exec_event(void *arg, const struct dmn_event *ev)
{
    struct jobctx *jc = arg;
    struct daemon *d = jc->d;
    struct progress *p = &d->prog;
    int64_t job = jc->job->id;
    char q1[1200], q2[256];
    const char *cell = jc->cell ? jc->cell : "";
    cJSON *o = NULL;

    switch (ev->kind) {
    case DMN_EV_LOG:
        logline(ev->level, "event=log job=%lld cell=%s msg=%s", (long long)job, kv(cell, q2, 256),
                kv(ev->message, q1, sizeof(q1)));
        if ((o = event_new("log", job))) {
            cJSON_AddStringToObject(o, "cell", cell);
            cJSON_AddNumberToObject(o, "level", ev->level);
            cJSON_AddStringToObject(o, "message", ev->message ? ev->message : "");
        }
        break;
    case DMN_EV_CELL_START:
        uv_mutex_lock(&d->mu);
        mf_strlcpy(p->state, "starting", sizeof(p->state));
        uv_mutex_unlock(&d->mu);
        logline(6, "event=cell_start job=%lld cell=%s", (long long)job, kv(cell, q2, 256));
        notify_status("job %lld: %s (cell %zu of %zu)", (long long)job, cell, p->cell_index + 1,
                      jc->job->ncells);
        if ((o = event_new("cell_start", job))) {
            cJSON_AddStringToObject(o, "cell", cell);
            cJSON_AddNumberToObject(o, "index", (double)p->cell_index);
            cJSON_AddNumberToObject(o, "total", (double)jc->job->ncells);
        }
        break;
    case DMN_EV_PHASE_START:
        uv_mutex_lock(&d->mu);
        mf_strlcpy(p->state, "phase", sizeof(p->state));
        p->seq = ev->seq;
        p->users = ev->users;
        p->users_started = 0;
        p->elapsed_s = p->rps = p->p99_ms = 0;
        p->requests = p->failures = 0;
        p->duration_s = ev->phase_duration_s;
        uv_mutex_unlock(&d->mu);
        logline(6, "event=phase_start job=%lld cell=%s seq=%d users=%d duration_s=%.1f",
                (long long)job, kv(cell, q2, 256), ev->seq, ev->users, ev->phase_duration_s);
        if ((o = event_new("phase_start", job))) {
            cJSON_AddStringToObject(o, "cell", cell);
            cJSON_AddNumberToObject(o, "seq", ev->seq);
            cJSON_AddNumberToObject(o, "users", ev->users);
            cJSON_AddNumberToObject(o, "duration_s", ev->phase_duration_s);
        }
        break;
    case DMN_EV_PROGRESS:
        if (!ev->progress)
            return;
        uv_mutex_lock(&d->mu);
        p->users_started = ev->progress->users;
        p->elapsed_s = ev->progress->elapsed_s;
        p->rps = ev->progress->rps;
        p->p99_ms = ev->progress->p99_ms;
        p->requests = ev->progress->requests;
        p->failures = ev->progress->failures;
        uv_mutex_unlock(&d->mu);
        if ((o = event_new("progress", job))) {
            cJSON_AddStringToObject(o, "cell", cell);
            cJSON_AddNumberToObject(o, "seq", ev->seq);
            cJSON_AddNumberToObject(o, "users", ev->users);
            cJSON_AddNumberToObject(o, "users_started", ev->progress->users);
            cJSON_AddNumberToObject(o, "elapsed_s", ev->progress->elapsed_s);
            cJSON_AddNumberToObject(o, "duration_s", ev->phase_duration_s);
            cJSON_AddNumberToObject(o, "rps", ev->progress->rps);
            cJSON_AddNumberToObject(o, "p99_ms", ev->progress->p99_ms);
            cJSON_AddNumberToObject(o, "requests", (double)ev->progress->requests);
            cJSON_AddNumberToObject(o, "failures", (double)ev->progress->failures);
        }
        break;
    case DMN_EV_PHASE_END: {
        const struct phase_result *ph = ev->phase;
        uv_mutex_lock(&d->mu);
        mf_strlcpy(p->state, "between", sizeof(p->state));
        p->cell_levels_done++;
        uv_mutex_unlock(&d->mu);
        logline(6,
                "event=phase_end job=%lld cell=%s seq=%d users=%d requests=%llu rps=%.1f "
                "p99_ms=%.2f failures=%llu stop_reason=%s kind=%s repeat=%d load_bound=%d "
                "client_bound=%d",
                (long long)job, kv(cell, q2, 256), ev->seq, ph->users,
                (unsigned long long)ph->requests, ph->rps, ph->latency_ms.p99,
                (unsigned long long)ph->failures, ph->stop_reason[0] ? ph->stop_reason : "-",
                ph->kind[0] ? ph->kind : "linear", ph->repeat, ph->load_bound, ph->client_bound);
        if ((o = event_new("phase_end", job))) {
            cJSON_AddStringToObject(o, "cell", cell);
            cJSON_AddNumberToObject(o, "seq", ev->seq);
            cJSON_AddNumberToObject(o, "users", ph->users);
            cJSON_AddNumberToObject(o, "requests", (double)ph->requests);
            cJSON_AddNumberToObject(o, "failures", (double)ph->failures);
            cJSON_AddNumberToObject(o, "rps", ph->rps);
            cJSON_AddNumberToObject(o, "p50_ms", ph->latency_ms.p50);
            cJSON_AddNumberToObject(o, "p99_ms", ph->latency_ms.p99);
            cJSON_AddStringToObject(o, "stop_reason", ph->stop_reason);
            /* the search's own fields, as the store and `show --json` have them */
            cJSON_AddStringToObject(o, "kind", ph->kind[0] ? ph->kind : "linear");
            cJSON_AddNumberToObject(o, "repeat", ph->repeat);
            cJSON_AddNumberToObject(o, "offered_rps", ph->offered_rps);
            cJSON_AddBoolToObject(o, "load_bound", ph->load_bound);
            cJSON_AddBoolToObject(o, "client_bound", ph->client_bound);
            cJSON_AddNumberToObject(o, "client_cpu_pct", ph->client_cpu_pct);
        }
        break;
    }
    case DMN_EV_CELL_END:
        /* Reported by the worker once the final status (cancelled or
         * interrupted) is known. */
        return;
    }
    if (o)
        post_event(d, o);
}

/* The upper bound of a cell's phase time: every user level at its duration. */
static double cell_max_s(const struct cfg_matrix *m, const char *profile, const struct cfg_cell *c,
                         int *levels)
{
    struct cfg_settings st;
    struct err e;
    err_clear(&e);
    *levels = 1;
    if (cfg_resolve(m, profile, &m->frameworks[c->framework], &st, &e) != 0)
        return 0;
    int n = 1;
    if (st.users.step > 0 && st.users.max > st.users.start)
        n += (st.users.max - st.users.start + st.users.step - 1) / st.users.step;
    *levels = n;
    return (double)n * (double)st.duration_ms / 1000.0;
}

static void finish_cell_event(struct jobctx *jc, const struct cell_result *c)
{
    char q1[1200], q2[256];
    logline(c->status == CELL_OK ? 6 : 4,
            "event=cell_end job=%lld cell=%s status=%s capacity_users=%d breaking_users=%d "
            "peak_rps=%.1f error=%s",
            (long long)jc->job->id, kv(jc->cell, q2, 256), cell_status_name(c->status),
            c->capacity_users, c->breaking_users, c->peak_rps, kv(c->error, q1, sizeof(q1)));
    cJSON *o = event_new("cell_end", jc->job->id);
    if (!o)
        return;
    cJSON_AddStringToObject(o, "cell", jc->cell);
    cJSON_AddStringToObject(o, "status", cell_status_name(c->status));
    if (c->error)
        cJSON_AddStringToObject(o, "error", c->error);
    else
        cJSON_AddNullToObject(o, "error");
    cJSON_AddNumberToObject(o, "capacity_users", c->capacity_users);
    cJSON_AddNumberToObject(o, "breaking_users", c->breaking_users);
    cJSON_AddNumberToObject(o, "peak_rps", c->peak_rps);
    cJSON_AddNumberToObject(o, "phases", (double)c->nphases);
    post_event(jc->d, o);
}

static void job_end(struct daemon *d, int64_t job, int64_t run, const char *status)
{
    logline(strcmp(status, "ok") == 0 ? 6 : 4, "event=job_end job=%lld run=%lld status=%s",
            (long long)job, (long long)run, status);
    uv_mutex_lock(&d->mu);
    if (d->nrecent == NRECENT) {
        memmove(d->recent, d->recent + 1, (NRECENT - 1) * sizeof(d->recent[0]));
        d->nrecent--;
    }
    struct recent *r = &d->recent[d->nrecent++];
    r->job = job;
    r->run = run;
    mf_strlcpy(r->status, status, sizeof(r->status));
    uv_mutex_unlock(&d->mu);
    cJSON *o = event_new("job_end", job);
    if (o) {
        cJSON_AddNumberToObject(o, "run", (double)run);
        cJSON_AddStringToObject(o, "status", status);
        post_event(d, o);
    }
}

/* Records cells of the job that never started, so the run lists every cell asked for. */
static void record_unstarted(struct daemon *d, struct dmn_exec *x, struct jobctx *jc, size_t from,
                             enum cell_status st)
{
    const struct cfg_matrix *m = x->matrix;
    for (size_t i = from; i < jc->job->ncells; i++) {
        struct cell_result c;
        struct err e;
        err_clear(&e);
        memset(&c, 0, sizeof(c));
        mf_strlcpy(c.framework, m->frameworks[jc->job->sel[i].framework].name, sizeof(c.framework));
        mf_strlcpy(c.payload, m->payloads[jc->job->sel[i].payload].name, sizeof(c.payload));
        c.capacity_users = c.breaking_users = -1;
        c.status = CELL_RUNNING;
        if (store_cell_begin(d->store, x->run_id, &c, &e) == 0) {
            c.status = st;
            store_cell_finish(d->store, &c, &e);
        }
        if (e.code)
            logline(3, "event=store_error job=%lld error=%s", (long long)jc->job->id,
                    kv(e.msg, (char[1024]){0}, 1024));
        cell_result_free(&c);
    }
}

static void run_job(struct daemon *d, struct dmn_job *job)
{
    struct mref *mr = job->matrix;
    const struct cfg_matrix *m = mr->m;
    struct node *node = NULL;
    struct run_record run;
    struct err e;
    struct jobctx jc = {.d = d, .job = job};
    const char *profile = job->profile[0] ? job->profile : NULL;
    const char *status = "error";
    memset(&run, 0, sizeof(run));
    err_clear(&e);

    struct dmn_exec x = {.matrix = m,
                         .profile = profile,
                         .targets_dir = d->targets_dir,
                         .store = d->store,
                         .cancel = &d->cancel,
                         .on_event = on_exec_event,
                         .arg = &jc};
    logline(6, "event=job_start job=%lld cells=%zu profile=%s trigger=%s", (long long)job->id,
            job->ncells, profile ? profile : "-", job->trigger);
    notify_status("job %lld: preparing the node", (long long)job->id);
    if (node_open(&m->node, &node, &e) != 0 || (x.node = node, dmn_prepare_node(&x, &run, &e))) {
        logline(3, "event=node_error job=%lld error=%s", (long long)job->id,
                kv(e.msg, (char[1024]){0}, 1024));
        goto out;
    }
    mf_strlcpy(run.trigger, job->trigger, sizeof(run.trigger));
    mf_strlcpy(run.profile, job->profile, sizeof(run.profile));
    mf_strlcpy(run.matrix_sha256, m->sha256, sizeof(run.matrix_sha256));
    if (store_run_begin(d->store, &run, &e) != 0) {
        logline(3, "event=store_error job=%lld error=%s", (long long)job->id,
                kv(e.msg, (char[1024]){0}, 1024));
        goto out;
    }
    x.run_id = run.id;
    uv_mutex_lock(&d->mu);
    d->prog.run_id = run.id;
    uv_mutex_unlock(&d->mu);
    {
        cJSON *o = event_new("job_start", job->id);
        if (o) {
            cJSON_AddNumberToObject(o, "run", (double)run.id);
            cJSON *cells = cJSON_AddArrayToObject(o, "cells");
            for (size_t i = 0; cells && i < job->ncells; i++)
                cJSON_AddItemToArray(cells, cJSON_CreateString(job->cells[i]));
            cJSON_AddStringToObject(o, "profile", job->profile);
            cJSON_AddStringToObject(o, "trigger", job->trigger);
            post_event(d, o);
        }
    }
    int found = 0;
    if (dmn_cleanup_node(&x, &found, &e) == 0 && found)
        logline(4, "event=stale_server_stopped job=%lld", (long long)job->id);
    err_clear(&e);

    int all_ok = 1, stopped = 0, broken = 0;
    size_t i = 0;
    for (; i < job->ncells; i++) {
        if (atomic_load(&d->cancel)) {
            stopped = 1;
            break;
        }
        int levels = 1;
        cell_max_s(m, profile, &job->sel[i], &levels);
        uv_mutex_lock(&d->mu);
        d->prog.cell_index = i;
        mf_strlcpy(d->prog.cell, job->cells[i], sizeof(d->prog.cell));
        d->prog.cell_levels_done = 0;
        d->prog.cell_levels_max = levels;
        uv_mutex_unlock(&d->mu);
        jc.cell = job->cells[i];
        struct cell_result c;
        int rc = dmn_exec_cell(&x, &job->sel[i], &c, &e);
        if (c.status == CELL_CANCELLED) {
            stopped = 1;
            uv_mutex_lock(&d->mu);
            int interrupted = d->stopping;
            uv_mutex_unlock(&d->mu);
            if (interrupted && c.id > 0) {
                struct err e2;
                err_clear(&e2);
                c.status = CELL_INTERRUPTED;
                store_cell_finish(d->store, &c, &e2);
            }
        }
        finish_cell_event(&jc, &c);
        if (c.status != CELL_OK)
            all_ok = 0;
        uv_mutex_lock(&d->mu);
        if (c.status == CELL_OK)
            d->prog.ok++;
        else
            d->prog.not_ok++;
        uv_mutex_unlock(&d->mu);
        cell_result_free(&c);
        if (rc != 0) {
            logline(3, "event=exec_error job=%lld cell=%s error=%s", (long long)job->id,
                    job->cells[i], kv(e.msg, (char[1024]){0}, 1024));
            broken = 1;
            i++;
            break;
        }
        if (stopped) {
            i++;
            break;
        }
    }
    uv_mutex_lock(&d->mu);
    int interrupted = d->stopping;
    uv_mutex_unlock(&d->mu);
    if (i < job->ncells)
        record_unstarted(d, &x, &jc, i,
                         broken        ? CELL_ERROR
                         : interrupted ? CELL_INTERRUPTED
                                       : CELL_CANCELLED);
    status = broken    ? "error"
             : stopped ? (interrupted ? "interrupted" : "cancelled")
             : all_ok  ? "ok"
                       : "failed";
    err_clear(&e);
    if (store_run_finish(d->store, run.id, broken ? "failed" : status, &e) != 0)
        logline(3, "event=store_error job=%lld error=%s", (long long)job->id,
                kv(e.msg, (char[1024]){0}, 1024));
out:
    if (node)
        node_close(node);
    job_end(d, job->id, run.id, status);
    run_record_free(&run);
}

static void worker_main(void *arg)
{
    struct daemon *d = arg;

    /* A server left on the node by a daemon that was killed. */
    uv_mutex_lock(&d->mu);
    struct mref *mr = mref_get(d);
    uv_mutex_unlock(&d->mu);
    {
        struct node *node = NULL;
        struct err e;
        err_clear(&e);
        struct dmn_exec x = {.matrix = mr->m};
        int found = 0;
        if (node_open(&mr->m->node, &node, &e) == 0) {
            x.node = node;
            if (dmn_cleanup_node(&x, &found, &e) != 0)
                logline(4, "event=cleanup_failed error=%s", kv(e.msg, (char[1024]){0}, 1024));
            else if (found)
                logline(4, "event=stale_server_stopped workdir=%s",
                        kv(mr->m->node.workdir, (char[1100]){0}, 1100));
            node_close(node);
        } else {
            logline(4, "event=node_unreachable error=%s", kv(e.msg, (char[1024]){0}, 1024));
        }
    }
    uv_mutex_lock(&d->mu);
    mref_put(mr);
    for (;;) {
        while (!d->stopping && !d->queue.head)
            uv_cond_wait(&d->cv, &d->mu);
        if (d->stopping)
            break;
        struct dmn_job *job = dmn_queue_pop(&d->queue);
        memset(&d->prog, 0, sizeof(d->prog));
        d->prog.job = job;
        d->prog.started_ms = mono_ms();
        mf_strlcpy(d->prog.state, "preparing", sizeof(d->prog.state));
        atomic_store(&d->cancel, 0);
        uv_mutex_unlock(&d->mu);

        run_job(d, job);

        uv_mutex_lock(&d->mu);
        d->prog.job = NULL;
        mref_put(job->matrix);
        dmn_job_free(job);
        if (!d->stopping)
            notify_status("idle, %zu job(s) queued", d->queue.n);
    }
    d->worker_done = 1;
    uv_mutex_unlock(&d->mu);
    uv_async_send(&d->wake);
}

/* ---- clients ---- */

struct wreq {
    uv_write_t w;
    char *data;
};

static void on_client_closed(uv_handle_t *h)
{
    struct client *c = h->data;
    struct daemon *d = c->d;
    if (c->prev)
        c->prev->next = c->next;
    else
        d->clients = c->next;
    if (c->next)
        c->next->prev = c->prev;
    d->nclients--;
    buf_free(&c->in);
    free(c);
}

static void client_close(struct client *c)
{
    if (c->closing)
        return;
    c->closing = 1;
    uv_close((uv_handle_t *)&c->h, on_client_closed);
}

static void on_shutdown(uv_shutdown_t *s, int status)
{
    client_close(s->data);
}

/* Closes after the answers already queued have been written. */
static void client_finish(struct client *c)
{
    if (c->closing || c->finishing)
        return;
    c->finishing = 1;
    uv_read_stop((uv_stream_t *)&c->h);
    c->shut.data = c;
    if (uv_shutdown(&c->shut, (uv_stream_t *)&c->h, on_shutdown) != 0)
        client_close(c);
}

static void on_written(uv_write_t *w, int status)
{
    struct wreq *r = (struct wreq *)w;
    free(r->data);
    free(r);
}

/* Sends a line (takes line). */
static void client_send(struct client *c, char *line)
{
    if (!line)
        return;
    if (c->closing || c->finishing) {
        free(line);
        return;
    }
    if (uv_stream_get_write_queue_size((uv_stream_t *)&c->h) > MAX_CLIENT_BACKLOG) {
        free(line);
        client_close(c);
        return;
    }
    struct wreq *r = malloc(sizeof(*r));
    if (!r) {
        free(line);
        client_close(c);
        return;
    }
    r->data = line;
    uv_buf_t b = uv_buf_init(line, (unsigned)strlen(line));
    if (uv_write(&r->w, (uv_stream_t *)&c->h, &b, 1, on_written) != 0) {
        free(line);
        free(r);
        client_close(c);
    }
}

static void send_json(struct client *c, cJSON *o)
{
    char *s = o ? cJSON_PrintUnformatted(o) : NULL;
    cJSON_Delete(o);
    if (!s) {
        client_send(c, dmn_answer_error("out of memory"));
        return;
    }
    size_t n = strlen(s);
    char *line = realloc(s, n + 2);
    if (!line) {
        free(s);
        return;
    }
    line[n] = '\n';
    line[n + 1] = '\0';
    client_send(c, line);
}

static cJSON *job_json(const struct dmn_job *j)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    cJSON_AddNumberToObject(o, "job", (double)j->id);
    cJSON *cells = cJSON_AddArrayToObject(o, "cells");
    for (size_t i = 0; cells && i < j->ncells; i++)
        cJSON_AddItemToArray(cells, cJSON_CreateString(j->cells[i]));
    cJSON_AddStringToObject(o, "profile", j->profile);
    cJSON_AddStringToObject(o, "trigger", j->trigger);
    return o;
}

/* Caller holds d->mu. */
static cJSON *status_json(struct daemon *d)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    const struct progress *p = &d->prog;
    cJSON_AddTrueToObject(o, "ok");
    cJSON_AddStringToObject(o, "version", MFBENCH_VERSION);
    cJSON_AddNumberToObject(o, "pid", (double)getpid());
    cJSON_AddStringToObject(o, "matrix", d->matrix->m->path);
    cJSON_AddStringToObject(o, "state", d->stopping ? "stopping" : p->job ? "running" : "idle");
    if (p->job) {
        cJSON *r = job_json(p->job);
        if (r) {
            double elapsed = (double)(mono_ms() - p->started_ms) / 1000.0;
            cJSON_AddNumberToObject(r, "run", (double)p->run_id);
            cJSON_AddNumberToObject(r, "elapsed_s", elapsed);
            cJSON_AddNumberToObject(r, "cell_index", (double)p->cell_index);
            cJSON_AddStringToObject(r, "cell", p->cell);
            cJSON_AddStringToObject(r, "state", p->state);
            cJSON_AddNumberToObject(r, "cells_ok", (double)p->ok);
            cJSON_AddNumberToObject(r, "cells_not_ok", (double)p->not_ok);
            if (strcmp(p->state, "phase") == 0) {
                cJSON *ph = cJSON_AddObjectToObject(r, "phase");
                double eta = p->duration_s - p->elapsed_s;
                if (ph) {
                    cJSON_AddNumberToObject(ph, "seq", p->seq);
                    cJSON_AddNumberToObject(ph, "users", p->users);
                    cJSON_AddNumberToObject(ph, "users_started", p->users_started);
                    cJSON_AddNumberToObject(ph, "rps", p->rps);
                    cJSON_AddNumberToObject(ph, "p99_ms", p->p99_ms);
                    cJSON_AddNumberToObject(ph, "requests", (double)p->requests);
                    cJSON_AddNumberToObject(ph, "failures", (double)p->failures);
                    cJSON_AddNumberToObject(ph, "elapsed_s", p->elapsed_s);
                    cJSON_AddNumberToObject(ph, "duration_s", p->duration_s);
                    cJSON_AddNumberToObject(ph, "eta_s", eta > 0 ? eta : 0);
                }
            }
            /* An upper bound: the remaining levels of this cell and every
             * level of the cells after it, at their phase length. */
            const struct cfg_matrix *m = ((struct mref *)p->job->matrix)->m;
            const char *prof = p->job->profile[0] ? p->job->profile : NULL;
            double rest = 0;
            int lv = 1;
            double cur = cell_max_s(m, prof, &p->job->sel[p->cell_index], &lv);
            if (lv > 0)
                rest += cur / lv * (lv - p->cell_levels_done);
            if (strcmp(p->state, "phase") == 0)
                rest -= p->elapsed_s < p->duration_s ? p->elapsed_s : p->duration_s;
            for (size_t i = p->cell_index + 1; i < p->job->ncells; i++)
                rest += cell_max_s(m, prof, &p->job->sel[i], &lv);
            cJSON_AddNumberToObject(r, "eta_max_s", rest > 0 ? rest : 0);
            cJSON_AddItemToObject(o, "running", r);
        }
    } else {
        cJSON_AddNullToObject(o, "running");
    }
    cJSON *q = cJSON_AddArrayToObject(o, "queue");
    for (const struct dmn_job *j = d->queue.head; q && j; j = j->next)
        cJSON_AddItemToArray(q, job_json(j));
    cJSON *rec = cJSON_AddArrayToObject(o, "recent");
    for (size_t i = d->nrecent; rec && i-- > 0;) {
        cJSON *r = cJSON_CreateObject();
        if (!r)
            break;
        cJSON_AddNumberToObject(r, "job", (double)d->recent[i].job);
        cJSON_AddNumberToObject(r, "run", (double)d->recent[i].run);
        cJSON_AddStringToObject(r, "status", d->recent[i].status);
        cJSON_AddItemToArray(rec, r);
    }
    return o;
}

static void do_trigger(struct client *c, struct dmn_request *rq)
{
    struct daemon *d = c->d;
    struct err e;
    struct cfg_cell *sel = NULL;
    size_t nsel = 0;
    err_clear(&e);

    uv_mutex_lock(&d->mu);
    if (d->stopping) {
        uv_mutex_unlock(&d->mu);
        client_send(c, dmn_answer_error("the daemon is stopping"));
        return;
    }
    struct mref *mr = mref_get(d);
    uv_mutex_unlock(&d->mu);
    const struct cfg_matrix *m = mr->m;
    const char *all[] = {"*"};
    const char *prof = rq->profile[0] ? rq->profile : NULL;
    struct dmn_job *job = NULL;
    if (cfg_select(m, rq->all ? all : (const char *const *)rq->cells, rq->all ? 1 : rq->ncells,
                   &sel, &nsel, &e) != 0)
        goto fail;
    for (size_t i = 0; i < nsel; i++) {
        struct cfg_settings st;
        if (cfg_resolve(m, prof, &m->frameworks[sel[i].framework], &st, &e) != 0)
            goto fail;
    }
    if (!(job = calloc(1, sizeof(*job))) || !(job->cells = calloc(nsel, sizeof(char *)))) {
        err_set(&e, -ENOMEM, "out of memory");
        goto fail;
    }
    job->sel = sel;
    sel = NULL;
    for (size_t i = 0; i < nsel; i++) {
        char name[DMN_MAX_NAME * 2];
        snprintf(name, sizeof(name), "%s/%s", m->frameworks[job->sel[i].framework].name,
                 m->payloads[job->sel[i].payload].name);
        if (!(job->cells[i] = strdup(name))) {
            err_set(&e, -ENOMEM, "out of memory");
            goto fail;
        }
        job->ncells++;
    }
    mf_strlcpy(job->profile, rq->profile, sizeof(job->profile));
    mf_strlcpy(job->trigger, rq->trigger, sizeof(job->trigger));
    job->matrix = mr;

    int64_t existing = 0;
    uv_mutex_lock(&d->mu);
    int rc = dmn_queue_push(&d->queue, job, &existing);
    cJSON *o = rc == 0 ? job_json(job) : cJSON_CreateObject();
    if (rc == 0)
        uv_cond_signal(&d->cv);
    uv_mutex_unlock(&d->mu);
    if (rc < 0) {
        cJSON_Delete(o);
        err_set(&e, rc, "the queue is full");
        goto fail;
    }
    if (rc == 1) {
        logline(6, "event=trigger_dedup job=%lld", (long long)existing);
        uv_mutex_lock(&d->mu);
        mref_put(mr);
        uv_mutex_unlock(&d->mu);
        dmn_job_free(job);
        if (o)
            cJSON_AddNumberToObject(o, "job", (double)existing);
    } else {
        logline(6, "event=trigger job=%lld cells=%zu profile=%s trigger=%s", (long long)job->id,
                job->ncells, prof ? kv(prof, (char[160]){0}, 160) : "-", rq->trigger);
    }
    if (o) {
        cJSON_AddBoolToObject(o, "ok", 1);
        cJSON_AddBoolToObject(o, "queued", rc == 0);
    }
    if (rq->follow)
        c->subscribed = 1;
    send_json(c, o);
    return;
fail:
    free(sel);
    if (job) {
        job->matrix = NULL;
        dmn_job_free(job);
    }
    uv_mutex_lock(&d->mu);
    mref_put(mr);
    uv_mutex_unlock(&d->mu);
    client_send(c, dmn_answer_error(e.msg));
}

static void do_cancel(struct client *c, const struct dmn_request *rq)
{
    struct daemon *d = c->d;
    char msg[128];
    uv_mutex_lock(&d->mu);
    int64_t id = rq->job;
    int64_t running = d->prog.job ? d->prog.job->id : 0;
    if (id == 0)
        id = running;
    if (id == 0) {
        uv_mutex_unlock(&d->mu);
        client_send(c, dmn_answer_error("no job is running"));
        return;
    }
    if (id == running) {
        atomic_store(&d->cancel, 1);
        uv_mutex_unlock(&d->mu);
        logline(6, "event=cancel job=%lld state=running", (long long)id);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddTrueToObject(o, "ok");
        cJSON_AddNumberToObject(o, "job", (double)id);
        cJSON_AddStringToObject(o, "was", "running");
        send_json(c, o);
        return;
    }
    struct dmn_job *j = dmn_queue_remove(&d->queue, id);
    if (j) {
        mref_put(j->matrix);
        dmn_job_free(j);
    }
    uv_mutex_unlock(&d->mu);
    if (!j) {
        snprintf(msg, sizeof(msg), "no job %lld is queued or running", (long long)id);
        client_send(c, dmn_answer_error(msg));
        return;
    }
    logline(6, "event=cancel job=%lld state=queued", (long long)id);
    job_end(d, id, 0, "cancelled");
    cJSON *o = cJSON_CreateObject();
    cJSON_AddTrueToObject(o, "ok");
    cJSON_AddNumberToObject(o, "job", (double)id);
    cJSON_AddStringToObject(o, "was", "queued");
    send_json(c, o);
}

static void handle_line(struct client *c, const char *line, size_t len)
{
    struct dmn_request rq;
    struct err e;
    err_clear(&e);
    while (len > 0 && (line[len - 1] == '\r' || line[len - 1] == ' '))
        len--;
    if (len == 0)
        return;
    if (dmn_request_parse(line, len, &rq, &e) != 0) {
        client_send(c, dmn_answer_error(e.msg));
        return;
    }
    switch (rq.cmd) {
    case DMN_CMD_TRIGGER:
        do_trigger(c, &rq);
        break;
    case DMN_CMD_STATUS:
        uv_mutex_lock(&c->d->mu);
        cJSON *o = status_json(c->d);
        uv_mutex_unlock(&c->d->mu);
        send_json(c, o);
        break;
    case DMN_CMD_CANCEL:
        do_cancel(c, &rq);
        break;
    case DMN_CMD_SUBSCRIBE: {
        c->subscribed = 1;
        cJSON *s = cJSON_CreateObject();
        if (s) {
            cJSON_AddTrueToObject(s, "ok");
            cJSON_AddTrueToObject(s, "subscribed");
        }
        send_json(c, s);
        break;
    }
    }
    dmn_request_free(&rq);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
    (void)suggested;
    b->base = malloc(65536);
    b->len = b->base ? 65536 : 0;
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *b)
{
    struct client *c = s->data;
    if (nread < 0) {
        client_close(c);
        free(b->base);
        return;
    }
    const char *p = b->base;
    size_t left = (size_t)nread;
    while (left > 0 && !c->closing && !c->finishing) {
        const char *nl = memchr(p, '\n', left);
        size_t n = nl ? (size_t)(nl - p) : left;
        if (c->in.len + n > DMN_CTL_MAX_LINE) {
            logline(4, "event=request_too_long");
            client_send(c, dmn_answer_error("request too long"));
            client_finish(c);
            break;
        }
        if (buf_append(&c->in, p, n) != 0) {
            client_close(c);
            break;
        }
        if (!nl)
            break;
        handle_line(c, c->in.data, c->in.len);
        buf_reset(&c->in);
        p = nl + 1;
        left -= n + 1;
    }
    free(b->base);
}

static void on_connection(uv_stream_t *server, int status)
{
    struct daemon *d = server->data;
    if (status < 0)
        return;
    struct client *c = calloc(1, sizeof(*c));
    if (!c)
        return;
    c->d = d;
    buf_init(&c->in, DMN_CTL_MAX_LINE + 64);
    if (uv_pipe_init(&d->loop, &c->h, 0) != 0) {
        free(c);
        return;
    }
    c->h.data = c;
    c->next = d->clients;
    if (d->clients)
        d->clients->prev = c;
    d->clients = c;
    d->nclients++;
    if (uv_accept(server, (uv_stream_t *)&c->h) != 0) {
        client_close(c);
        return;
    }
    if (d->nclients > MAX_CLIENTS || d->shutting) {
        client_send(
            c, dmn_answer_error(d->shutting ? "the daemon is stopping" : "too many connections"));
        client_finish(c);
        return;
    }
    if (uv_read_start((uv_stream_t *)&c->h, on_alloc, on_read) != 0)
        client_close(c);
}

/* ---- the loop: wake-ups, signals, shutdown ---- */

static void close_all(struct daemon *d)
{
    uv_handle_t *hs[] = {(uv_handle_t *)&d->sigterm,  (uv_handle_t *)&d->sigint,
                         (uv_handle_t *)&d->sighup,   (uv_handle_t *)&d->wake,
                         (uv_handle_t *)&d->watchdog, (uv_handle_t *)&d->deadline};
    for (size_t i = 0; i < sizeof(hs) / sizeof(hs[0]); i++)
        if (!uv_is_closing(hs[i]))
            uv_close(hs[i], NULL);
    if (d->server_open && !uv_is_closing((uv_handle_t *)&d->server))
        uv_close((uv_handle_t *)&d->server, NULL);
    for (struct client *c = d->clients; c; c = c->next)
        client_close(c);
}

static void on_wake(uv_async_t *a)
{
    struct daemon *d = a->data;
    char *evs[MAX_EVENTS];
    uv_mutex_lock(&d->mu);
    size_t n = d->nevents;
    memcpy(evs, d->events, n * sizeof(char *));
    d->nevents = 0;
    int done = d->worker_done;
    uv_mutex_unlock(&d->mu);
    for (size_t i = 0; i < n; i++) {
        for (struct client *c = d->clients; c; c = c->next)
            if (c->subscribed && !c->closing && !c->finishing)
                client_send(c, strdup(evs[i]));
        free(evs[i]);
    }
    if (done && !d->shutting) {
        d->shutting = 1;
        close_all(d);
    } else if (done) {
        close_all(d);
    }
}

static void stop_listening(struct daemon *d)
{
    if (d->server_open && !uv_is_closing((uv_handle_t *)&d->server)) {
        uv_close((uv_handle_t *)&d->server, NULL);
        unlink(d->socket_path);
    }
}

/* The executor did not stop in time: mark the store and stop the server from
 * here, with handles of our own, then leave. */
static void on_deadline(uv_timer_t *t)
{
    struct daemon *d = t->data;
    struct store *s = NULL;
    struct node *node = NULL;
    struct err e;
    int count = 0, found = 0;
    err_clear(&e);
    logline(3, "event=stop_deadline msg=\"the job did not stop in time; forcing\"");
    if (store_open(d->store_path, &s, &e) == 0) {
        store_mark_interrupted(s, &count, &e);
        store_close(s);
    }
    uv_mutex_lock(&d->mu);
    const struct cfg_matrix *m = d->matrix->m;
    uv_mutex_unlock(&d->mu);
    struct dmn_exec x = {.matrix = m};
    if (node_open(&m->node, &node, &e) == 0) {
        x.node = node;
        dmn_cleanup_node(&x, &found, &e);
        node_close(node);
    }
    unlink(d->socket_path);
    logline(4, "event=stopped forced=1 runs_interrupted=%d server_stopped=%d", count, found);
    _exit(1);
}

static void on_signal(uv_signal_t *s, int signum)
{
    struct daemon *d = s->data;
    if (signum == SIGHUP) {
        struct cfg_matrix *m = NULL;
        struct err e;
        char msg[1200];
        err_clear(&e);
        if (load_matrix(d->matrix_path, &m, &e) != 0) {
            logline(3, "event=reload_failed error=%s",
                    kv(err_format(&e, msg, sizeof(msg)), (char[1400]){0}, 1400));
            return;
        }
        struct mref *r = calloc(1, sizeof(*r));
        if (!r) {
            cfg_free(m);
            return;
        }
        r->m = m;
        r->refs = 1;
        uv_mutex_lock(&d->mu);
        mref_put(d->matrix);
        d->matrix = r;
        uv_mutex_unlock(&d->mu);
        logline(6, "event=reloaded matrix=%s sha256=%s", kv(m->path, msg, sizeof(msg)), m->sha256);
        return;
    }
    uv_mutex_lock(&d->mu);
    int again = d->stopping;
    d->stopping = 1;
    atomic_store(&d->cancel, 1);
    /* Queued jobs never started: nothing of theirs is in the store. */
    for (struct dmn_job *j; (j = dmn_queue_pop(&d->queue));) {
        logline(4, "event=job_dropped job=%lld", (long long)j->id);
        mref_put(j->matrix);
        dmn_job_free(j);
    }
    uv_cond_broadcast(&d->cv);
    uv_mutex_unlock(&d->mu);
    if (again)
        return;
    logline(6, "event=stopping signal=%s", signum == SIGTERM ? "TERM" : "INT");
    sd_notify(0, "STOPPING=1\nSTATUS=stopping");
    stop_listening(d);
    uv_timer_start(&d->deadline, on_deadline, STOP_DEADLINE_MS, 0);
}

static void on_watchdog(uv_timer_t *t)
{
    sd_notify(0, "WATCHDOG=1");
}

/* Binds the control socket with mode 0660. A live daemon on the path is an
 * error; a stale socket file is replaced. */
static int listen_socket(struct daemon *d, struct err *e)
{
    const char *path = d->socket_path;
    char dir[sizeof(d->socket_path)];
    mf_strlcpy(dir, path, sizeof(dir));
    char *slash = strrchr(dir, '/');
    if (slash && slash != dir) {
        *slash = '\0';
        if (mkdir(dir, 0750) != 0 && errno != EEXIST)
            return err_set(e, -errno, "cannot create %s: %s", dir, strerror(errno));
    }
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd >= 0) {
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        mf_strlcpy(sa.sun_path, path, sizeof(sa.sun_path));
        int live = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
        close(fd);
        if (live)
            return err_set(e, -EADDRINUSE, "another mfbenchd is listening on %s", path);
    }
    unlink(path);
    int rc = uv_pipe_init(&d->loop, &d->server, 0);
    if (rc)
        return err_set(e, rc, "%s: %s", path, uv_strerror(rc));
    d->server_open = 1;
    d->server.data = d;
    mode_t old = umask(0117); /* the socket is created 0660: no window with wider rights */
    rc = uv_pipe_bind(&d->server, path);
    umask(old);
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)&d->server, 64, on_connection);
    if (rc)
        return err_set(e, rc, "%s: %s", path, uv_strerror(rc));
    chmod(path, 0660);
    return 0;
}

static const char usage[] =
    "usage: mfbenchd [-m FILE] [--store DB] [--socket PATH] [--targets DIR]\n"
    "\n"
    "The mfbench daemon: runs benchmark jobs one at a time on the matrix's node and\n"
    "serves `mfbench trigger|status|cancel` on a control socket. Logs go to stderr\n"
    "(journald priority prefixes). SIGHUP reloads the matrix; SIGTERM stops the\n"
    "running job (marked interrupted) and exits.\n"
    "\n"
    "  -m, --matrix FILE   the matrix (default: $MFBENCH_MATRIX, else " MFBENCH_SYSCONF_MATRIX "\n"
    "                      when it exists, else the built-in one)\n"
    "      --store DB      the result store (default: $MFBENCH_STORE, else\n"
    "                      $STATE_DIRECTORY/results.db, else $XDG_STATE_HOME/mfbench/results.db)\n"
    "      --socket PATH   the control socket (default: $MFBENCH_SOCKET, else\n"
    "                      $RUNTIME_DIRECTORY/control.sock, else\n"
    "                      $XDG_RUNTIME_DIR/mfbench/control.sock)\n"
    "      --targets DIR   the targets/ folder to upload (default: the installed one)\n"
    "  -h, --help          this text\n"
    "  -V, --version       the version\n";

int main(int argc, char **argv)
{
    static const struct option opts[] = {{"matrix", required_argument, NULL, 'm'},
                                         {"store", required_argument, NULL, 's'},
                                         {"socket", required_argument, NULL, 'S'},
                                         {"targets", required_argument, NULL, 't'},
                                         {"help", no_argument, NULL, 'h'},
                                         {"version", no_argument, NULL, 'V'},
                                         {NULL, 0, NULL, 0}};
    static struct daemon dd; /* large; lives for the whole process */
    struct daemon *d = &dd;
    const char *matrix = NULL, *store = NULL, *sock = NULL, *targets = NULL;
    struct err e;
    char msg[1200];
    int c, rc = 1;
    err_clear(&e);
    while ((c = getopt_long(argc, argv, "m:hV", opts, NULL)) != -1) {
        switch (c) {
        case 'm':
            matrix = optarg;
            break;
        case 's':
            store = optarg;
            break;
        case 'S':
            sock = optarg;
            break;
        case 't':
            targets = optarg;
            break;
        case 'h':
            fputs(usage, stdout);
            return 0;
        case 'V':
            printf("mfbenchd %s\n", MFBENCH_VERSION);
            return 0;
        default:
            fputs(usage, stderr);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "mfbenchd: unexpected argument '%s'\n%s", argv[optind], usage);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    if (!matrix) {
        const char *env = getenv("MFBENCH_MATRIX");
        if (env && *env)
            matrix = env;
        else if (access(MFBENCH_SYSCONF_MATRIX, F_OK) == 0)
            matrix = MFBENCH_SYSCONF_MATRIX;
    }
    d->matrix_path = matrix;

    struct cfg_matrix *m = NULL;
    if (load_matrix(matrix, &m, &e) != 0) {
        logline(3, "event=matrix_invalid error=%s",
                kv(err_format(&e, msg, sizeof(msg)), (char[1400]){0}, 1400));
        return 2;
    }
    if (!(d->matrix = calloc(1, sizeof(*d->matrix)))) {
        cfg_free(m);
        return 1;
    }
    d->matrix->m = m;
    d->matrix->refs = 1;
    if (!(d->targets_dir = dmn_targets_dir(targets))) {
        logline(3, "event=no_targets msg=\"no targets/ folder found (use --targets DIR or "
                   "$MFBENCH_TARGETS)\"");
        rc = 2;
        goto out_matrix;
    }
    if (!dmn_socket_path(sock, d->socket_path, sizeof(d->socket_path))) {
        logline(3, "event=bad_socket_path msg=\"the socket path is too long\"");
        rc = 2;
        goto out_matrix;
    }
    if (!store_default_path(store, d->store_path, sizeof(d->store_path))) {
        logline(3, "event=bad_store_path msg=\"no store path: pass --store or set "
                   "$MFBENCH_STORE\"");
        rc = 2;
        goto out_matrix;
    }
    if (store_open(d->store_path, &d->store, &e) != 0) {
        logline(3, "event=store_error error=%s", kv(e.msg, msg, sizeof(msg)));
        goto out_matrix;
    }
    int count = 0;
    if (store_mark_interrupted(d->store, &count, &e) != 0) {
        logline(3, "event=store_error error=%s", kv(e.msg, msg, sizeof(msg)));
        goto out_store;
    }
    if (count > 0)
        logline(4,
                "event=runs_interrupted count=%d msg=\"runs left running by an earlier "
                "daemon\"",
                count);

    dmn_queue_init(&d->queue, 1000);
    uv_mutex_init(&d->mu);
    uv_cond_init(&d->cv);
    uv_loop_init(&d->loop);
    uv_async_init(&d->loop, &d->wake, on_wake);
    d->wake.data = d;
    uv_timer_init(&d->loop, &d->watchdog);
    uv_timer_init(&d->loop, &d->deadline);
    d->deadline.data = d;
    uv_signal_t *sigs[] = {&d->sigterm, &d->sigint, &d->sighup};
    int signums[] = {SIGTERM, SIGINT, SIGHUP};
    for (int i = 0; i < 3; i++) {
        uv_signal_init(&d->loop, sigs[i]);
        sigs[i]->data = d;
        uv_signal_start(sigs[i], on_signal, signums[i]);
    }
    if (listen_socket(d, &e) != 0) {
        logline(3, "event=listen_failed error=%s", kv(e.msg, msg, sizeof(msg)));
        close_all(d);
        uv_run(&d->loop, UV_RUN_DEFAULT);
        goto out_loop;
    }
    if (uv_thread_create(&d->worker, worker_main, d) != 0) {
        logline(3, "event=thread_failed");
        stop_listening(d);
        close_all(d);
        uv_run(&d->loop, UV_RUN_DEFAULT);
        goto out_loop;
    }
    d->worker_started = 1;
#if HAVE_SYSTEMD
    uint64_t wd_usec = 0;
    if (sd_watchdog_enabled(0, &wd_usec) > 0 && wd_usec >= 2000) {
        uint64_t every = wd_usec / 2000; /* half the interval, in ms */
        uv_timer_start(&d->watchdog, on_watchdog, every, every);
    }
#else
    (void)on_watchdog;
#endif
    logline(6, "event=ready version=%s socket=%s store=%s matrix=%s node=%s", MFBENCH_VERSION,
            kv(d->socket_path, (char[300]){0}, 300), kv(d->store_path, msg, sizeof(msg)),
            kv(m->path, (char[600]){0}, 600),
            m->node.transport == CFG_TRANSPORT_SSH ? "ssh" : "local");
    sd_notify(0, "READY=1\nSTATUS=idle");
    uv_run(&d->loop, UV_RUN_DEFAULT);
    rc = 0;
out_loop:
    if (d->worker_started)
        uv_thread_join(&d->worker);
    /* Events posted after the last wake-up. */
    for (size_t i = 0; i < d->nevents; i++)
        free(d->events[i]);
    uv_run(&d->loop, UV_RUN_NOWAIT);
    if (uv_loop_close(&d->loop) != 0)
        logline(4, "event=loop_not_closed");
    uv_cond_destroy(&d->cv);
    uv_mutex_destroy(&d->mu);
    for (struct dmn_job *j; (j = dmn_queue_pop(&d->queue));) {
        mref_put(j->matrix);
        dmn_job_free(j);
    }
    if (rc == 0)
        logline(6, "event=stopped");
out_store:
    store_close(d->store);
out_matrix:
    mref_put(d->matrix);
    return rc;
}
