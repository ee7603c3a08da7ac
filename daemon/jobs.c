/* jobs.c - the worker thread: takes queued jobs one at a time, runs their cells
 * through the cell executor, turns its events into progress for `status`, log
 * lines and subscriber events, and records how each job ended; also cancel. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "daemon_int.h"
#include "dispatch.h"

struct jobctx {
    struct daemon *d;
    struct dmn_job *job;
    const char *cell; /* "framework/payload" of the running cell */
};

static void on_exec_event(void *arg, const struct exec_event *ev)
{
    struct jobctx *jc = arg;
    struct daemon *d = jc->d;
    struct progress *p = &d->prog;
    int64_t job = jc->job->id;
    char q1[1200], q2[256];
    const char *cell = jc->cell ? jc->cell : "";
    cJSON *o = NULL;

    switch (ev->kind) {
    case EXEC_EV_LOG:
        dmn__log(ev->level, "event=log job=%lld cell=%s msg=%s", (long long)job,
                 dmn__kv(cell, q2, 256), dmn__kv(ev->message, q1, sizeof(q1)));
        if ((o = dmn__event_new("log", job))) {
            cJSON_AddStringToObject(o, "cell", cell);
            cJSON_AddNumberToObject(o, "level", ev->level);
            cJSON_AddStringToObject(o, "message", ev->message ? ev->message : "");
        }
        break;
    case EXEC_EV_CELL_START:
        uv_mutex_lock(&d->mu);
        mf_strlcpy(p->state, "starting", sizeof(p->state));
        uv_mutex_unlock(&d->mu);
        dmn__log(6, "event=cell_start job=%lld cell=%s", (long long)job, dmn__kv(cell, q2, 256));
        dmn__notify_status("job %lld: %s (cell %zu of %zu)", (long long)job, cell,
                           p->cell_index + 1, jc->job->ncells);
        if ((o = dmn__event_new("cell_start", job))) {
            cJSON_AddStringToObject(o, "cell", cell);
            cJSON_AddNumberToObject(o, "index", (double)p->cell_index);
            cJSON_AddNumberToObject(o, "total", (double)jc->job->ncells);
        }
        break;
    case EXEC_EV_PHASE_START:
        uv_mutex_lock(&d->mu);
        mf_strlcpy(p->state, "phase", sizeof(p->state));
        p->seq = ev->seq;
        p->users = ev->users;
        p->users_started = 0;
        p->elapsed_s = p->rps = p->p99_ms = 0;
        p->requests = p->failures = 0;
        p->duration_s = ev->phase_duration_s;
        uv_mutex_unlock(&d->mu);
        dmn__log(6, "event=phase_start job=%lld cell=%s seq=%d users=%d duration_s=%.1f",
                 (long long)job, dmn__kv(cell, q2, 256), ev->seq, ev->users, ev->phase_duration_s);
        if ((o = dmn__event_new("phase_start", job))) {
            cJSON_AddStringToObject(o, "cell", cell);
            cJSON_AddNumberToObject(o, "seq", ev->seq);
            cJSON_AddNumberToObject(o, "users", ev->users);
            cJSON_AddNumberToObject(o, "duration_s", ev->phase_duration_s);
        }
        break;
    case EXEC_EV_PROGRESS:
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
        if ((o = dmn__event_new("progress", job))) {
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
    case EXEC_EV_PHASE_END: {
        const struct phase_result *ph = ev->phase;
        uv_mutex_lock(&d->mu);
        mf_strlcpy(p->state, "between", sizeof(p->state));
        p->cell_levels_done++;
        uv_mutex_unlock(&d->mu);
        dmn__log(6,
                 "event=phase_end job=%lld cell=%s seq=%d users=%d requests=%llu rps=%.1f "
                 "p99_ms=%.2f failures=%llu stop_reason=%s kind=%s repeat=%d load_bound=%d "
                 "client_bound=%d",
                 (long long)job, dmn__kv(cell, q2, 256), ev->seq, ph->users,
                 (unsigned long long)ph->requests, ph->rps, ph->latency_ms.p99,
                 (unsigned long long)ph->failures, ph->stop_reason[0] ? ph->stop_reason : "-",
                 ph->kind[0] ? ph->kind : "ladder", ph->repeat, ph->load_bound, ph->client_bound);
        if ((o = dmn__event_new("phase_end", job))) {
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
            cJSON_AddStringToObject(o, "kind", ph->kind[0] ? ph->kind : "ladder");
            cJSON_AddNumberToObject(o, "repeat", ph->repeat);
            cJSON_AddNumberToObject(o, "offered_rps", ph->offered_rps);
            cJSON_AddBoolToObject(o, "load_bound", ph->load_bound);
            cJSON_AddBoolToObject(o, "client_bound", ph->client_bound);
            cJSON_AddNumberToObject(o, "client_cpu_pct", ph->client_cpu_pct);
        }
        break;
    }
    case EXEC_EV_CELL_END:
        /* Reported by the worker once the final status (cancelled or
         * interrupted) is known. */
        return;
    }
    if (o)
        dmn__post_event(d, o);
}

double dmn__cell_worst_s(const struct cfg_matrix *m, const char *profile, const struct cfg_cell *c,
                         int *levels)
{
    int n = 0;
    double s = exec_cell_max_s(m, profile, c, &n);
    *levels = n > 0 ? n : 1;
    return s;
}

static void finish_cell_event(struct jobctx *jc, const struct cell_result *c);

/* Stores cell i of the job as one that did not run: status st, error text
 * (may be NULL). Store errors are logged. c is left for the caller to report
 * and free. */
static void store_unrun_cell(struct daemon *d, struct exec_run *x, struct jobctx *jc, size_t i,
                             enum cell_status st, const char *error, struct cell_result *c)
{
    const struct cfg_matrix *m = x->matrix;
    struct err e;
    err_clear(&e);
    memset(c, 0, sizeof(*c));
    mf_strlcpy(c->framework, m->frameworks[jc->job->sel[i].framework].name, sizeof(c->framework));
    mf_strlcpy(c->payload, m->payloads[jc->job->sel[i].payload].name, sizeof(c->payload));
    c->capacity_users = c->breaking_users = c->held_users = -1;
    c->error = error ? strdup(error) : NULL;
    c->status = CELL_RUNNING;
    int rc = store_cell_begin(d->store, x->run_id, c, &e);
    c->status = st;
    if (rc == 0)
        rc = store_cell_finish(d->store, c, &e);
    if (rc != 0)
        dmn__log(3, "event=store_error job=%lld error=%s", (long long)jc->job->id,
                 dmn__kv(e.msg, (char[1024]){0}, 1024));
}

/* A cell that cannot fit in what is left of the matrix's budget: stored
 * skipped with the reason "budget: ...", never silently dropped. */
static void record_budget_skip(struct daemon *d, struct exec_run *x, struct jobctx *jc, size_t i,
                               double need_s, double left_s)
{
    const struct cfg_matrix *m = x->matrix;
    struct cell_result c;
    char msg[256];
    snprintf(msg, sizeof(msg),
             "budget: this cell may take up to %.0f s and %.0f s of the matrix's budget (%.0f s) "
             "are left",
             need_s, left_s > 0 ? left_s : 0, (double)m->budget_ms / 1000.0);
    store_unrun_cell(d, x, jc, i, CELL_SKIPPED, msg, &c);
    dmn__log(4, "event=cell_skipped job=%lld cell=%s reason=budget need_s=%.0f left_s=%.0f",
             (long long)jc->job->id, jc->job->cells[i], need_s, left_s > 0 ? left_s : 0);
    finish_cell_event(jc, &c);
    cell_result_free(&c);
}

double *dmn__order_for_budget(struct daemon *d, const struct cfg_matrix *m, const char *profile,
                              struct dmn_job *job, double *total_s)
{
    double *w = calloc(job->ncells ? job->ncells : 1, sizeof(double));
    int lv;
    *total_s = 0;
    if (!w)
        return NULL;
    /* Reads only: the worker is the job's one writer. */
    for (size_t i = 0; i < job->ncells; i++)
        *total_s += w[i] = dmn__cell_worst_s(m, profile, &job->sel[i], &lv);
    *total_s += exec_run_max_s(m); /* the node's preparation and the left server's stop */
    if (m->budget_ms > 0 && *total_s * 1000.0 > (double)m->budget_ms) {
        /* `status` lists the running job's cells (requests.c) while this runs:
         * the swaps happen under d->mu. */
        uv_mutex_lock(&d->mu);
        for (size_t i = 1; i < job->ncells; i++) /* insertion sort: stable, small n */
            for (size_t k = i; k > 0 && w[k - 1] > w[k]; k--) {
                double tw = w[k];
                w[k] = w[k - 1];
                w[k - 1] = tw;
                char *tc = job->cells[k];
                job->cells[k] = job->cells[k - 1];
                job->cells[k - 1] = tc;
                struct cfg_cell ts = job->sel[k];
                job->sel[k] = job->sel[k - 1];
                job->sel[k - 1] = ts;
            }
        uv_mutex_unlock(&d->mu);
    }
    return w;
}

static void finish_cell_event(struct jobctx *jc, const struct cell_result *c)
{
    char q1[1200], q2[256];
    dmn__log(c->status == CELL_OK ? 6 : 4,
             "event=cell_end job=%lld cell=%s status=%s capacity_users=%d breaking_users=%d "
             "peak_rps=%.1f error=%s",
             (long long)jc->job->id, dmn__kv(jc->cell, q2, 256), cell_status_name(c->status),
             c->capacity_users, c->breaking_users, c->peak_rps, dmn__kv(c->error, q1, sizeof(q1)));
    cJSON *o = dmn__event_new("cell_end", jc->job->id);
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
    dmn__post_event(jc->d, o);
}

static void job_end(struct daemon *d, int64_t job, int64_t run, const char *status)
{
    dmn__log(strcmp(status, "ok") == 0 ? 6 : 4, "event=job_end job=%lld run=%lld status=%s",
             (long long)job, (long long)run, status);
    uv_mutex_lock(&d->mu);
    if (d->nrecent == DMN_NRECENT) {
        memmove(d->recent, d->recent + 1, (DMN_NRECENT - 1) * sizeof(d->recent[0]));
        d->nrecent--;
    }
    struct recent *r = &d->recent[d->nrecent++];
    r->job = job;
    r->run = run;
    mf_strlcpy(r->status, status, sizeof(r->status));
    uv_mutex_unlock(&d->mu);
    cJSON *o = dmn__event_new("job_end", job);
    if (o) {
        cJSON_AddNumberToObject(o, "run", (double)run);
        cJSON_AddStringToObject(o, "status", status);
        dmn__post_event(d, o);
    }
}

/* Records cells of the job that never started, so the run lists every cell asked for. */
static void record_unstarted(struct daemon *d, struct exec_run *x, struct jobctx *jc, size_t from,
                             enum cell_status st)
{
    for (size_t i = from; i < jc->job->ncells; i++) {
        struct cell_result c;
        store_unrun_cell(d, x, jc, i, st, NULL, &c);
        cell_result_free(&c);
    }
}

/* After mfbench itself failed mid-job (a store write): the run ends
 * "interrupted" with cells from..ncells stored as not run, where the store
 * still allows (store_run_abort gives back the WAL's space first). */
static void abort_job_run(struct daemon *d, struct exec_run *x, struct jobctx *jc, size_t from,
                          const struct err *why)
{
    const struct cfg_matrix *m = x->matrix;
    size_t n = jc->job->ncells > from ? jc->job->ncells - from : 0;
    struct store_cell_name *names = calloc(n ? n : 1, sizeof(*names));
    char reason[sizeof(why->msg) + 64];
    snprintf(reason, sizeof(reason), "not run: the job stopped at an error: %s", why->msg);
    for (size_t k = 0; names && k < n; k++)
        names[k] = (struct store_cell_name){m->frameworks[jc->job->sel[from + k].framework].name,
                                            m->payloads[jc->job->sel[from + k].payload].name};
    struct err e;
    err_clear(&e);
    if (store_run_abort(d->store, x->run_id, names, names ? n : 0, reason, &e) != 0)
        dmn__log(3, "event=store_error job=%lld run=%lld error=%s", (long long)jc->job->id,
                 (long long)x->run_id, dmn__kv(e.msg, (char[1024]){0}, 1024));
    else
        dmn__log(4, "event=run_interrupted job=%lld run=%lld not_run=%zu", (long long)jc->job->id,
                 (long long)x->run_id, n);
    free(names);
}

/* ---- a job on a Slurm node: its cells dispatched, max_parallel at once ---- */

/* The dispatcher's slot changes, for `status`. */
static void on_slurm_slot(void *arg, int index, const char *framework, const char *payload,
                          const char *state, const char *host, int64_t job)
{
    struct jobctx *jc = arg;
    struct daemon *d = jc->d;
    uv_mutex_lock(&d->mu);
    if (index >= 0 && index < d->prog.nslurm) {
        struct dmn_slurm_cell *c = &d->prog.slurm[index];
        if (strcmp(state, "free") == 0) {
            memset(c, 0, sizeof *c);
        } else {
            snprintf(c->cell, sizeof c->cell, "%s/%s", framework, payload);
            mf_strlcpy(c->state, state, sizeof c->state);
            mf_strlcpy(c->host, host, sizeof c->host);
            c->job = job;
        }
    }
    uv_mutex_unlock(&d->mu);
    dmn__log(6, "event=slurm_slot job=%lld slot=%d state=%s cell=%s/%s host=%s slurm_job=%lld",
             (long long)jc->job->id, index, state, framework, payload, *host ? host : "-",
             (long long)job);
}

/* Events of cells running at once: each names its own cell; no single-cell progress. */
static void on_slurm_event(void *arg, const struct exec_event *ev)
{
    struct jobctx *jc = arg;
    char cell[DMN_MAX_NAME];
    snprintf(cell, sizeof cell, "%s%s%s", ev->framework ? ev->framework : "",
             ev->payload ? "/" : "", ev->payload ? ev->payload : "");
    struct jobctx one = {.d = jc->d, .job = jc->job, .cell = cell};
    if (ev->kind == EXEC_EV_CELL_END) {
        finish_cell_event(&one, ev->cell);
        uv_mutex_lock(&jc->d->mu);
        if (ev->cell->status == CELL_OK)
            jc->d->prog.ok++;
        else
            jc->d->prog.not_ok++;
        uv_mutex_unlock(&jc->d->mu);
        return;
    }
    if (ev->kind == EXEC_EV_PROGRESS || ev->kind == EXEC_EV_CELL_START ||
        ev->kind == EXEC_EV_PHASE_START)
        return; /* the shared progress is one cell's: the log and phase ends say enough */
    on_exec_event(&one, ev);
    uv_mutex_lock(&jc->d->mu);
    mf_strlcpy(jc->d->prog.state, "dispatching", sizeof jc->d->prog.state);
    uv_mutex_unlock(&jc->d->mu);
}

/* Runs the job's cells through the dispatcher (exec/dispatch.c); the store's writer is
 * this thread. Returns the job's status. */
static const char *run_job_slurm(struct daemon *d, struct dmn_job *job, struct jobctx *jc,
                                 struct run_record *run, int64_t job_t0)
{
    const struct cfg_matrix *m = ((struct mref *)job->matrix)->m;
    const char *profile = job->profile[0] ? job->profile : NULL;
    struct err e;
    err_clear(&e);
    if (store_busy(d->store, &e) != 0) {
        dmn__log(3, "event=busy job=%lld error=%s", (long long)job->id,
                 dmn__kv(e.msg, (char[1024]){0}, 1024));
        return "error";
    }
    mf_strlcpy(run->trigger, job->trigger, sizeof run->trigger);
    mf_strlcpy(run->profile, job->profile, sizeof run->profile);
    mf_strlcpy(run->matrix_sha256, m->sha256, sizeof run->matrix_sha256);
    snprintf(run->node_host, sizeof run->node_host, "slurm:%s",
             m->node.slurm.partition ? m->node.slurm.partition : "default");
    mf_strlcpy(run->node_cpus, m->node.cpus ? m->node.cpus : "", sizeof run->node_cpus);
    struct cfg_settings st;
    if (cfg_resolve(m, profile, NULL, &st, &e) == 0)
        cfg_settings_describe(&st, run->settings, sizeof run->settings);
    err_clear(&e);
    if (store_run_begin(d->store, run, &e) != 0) {
        dmn__log(3, "event=store_error job=%lld error=%s", (long long)job->id,
                 dmn__kv(e.msg, (char[1024]){0}, 1024));
        return "error";
    }
    int nslots = m->node.slurm.max_parallel > 0 ? m->node.slurm.max_parallel : 1;
    struct dmn_slurm_cell *slots = calloc((size_t)nslots, sizeof *slots);
    /* The job's worst case as check gives it: each cell's, with its hand-off and capped
     * at the time limit, packed on max_parallel slots. */
    double *each = calloc(job->ncells ? job->ncells : 1, sizeof *each), job_max = 0;
    if (each) {
        for (size_t i = 0; i < job->ncells; i++) {
            double c = exec_cell_max_s(m, profile, &job->sel[i], NULL) + exec_slurm_cell_extra_s(m);
            each[i] = c < exec_slurm_cell_cap_s(m) ? c : exec_slurm_cell_cap_s(m);
        }
        job_max = exec_pack_max_s(each, job->ncells, nslots);
    }
    uv_mutex_lock(&d->mu);
    d->prog.run_id = run->id;
    d->prog.slurm = slots;
    d->prog.nslurm = slots ? nslots : 0;
    d->prog.job_max_s = job_max;
    d->prog.cell_max_s = NULL; /* no per-cell ETA: cells run at once */
    mf_strlcpy(d->prog.state, "dispatching", sizeof d->prog.state);
    uv_mutex_unlock(&d->mu);
    cJSON *o = dmn__event_new("job_start", job->id);
    if (o) {
        cJSON_AddNumberToObject(o, "run", (double)run->id);
        cJSON *cells = cJSON_AddArrayToObject(o, "cells");
        for (size_t i = 0; cells && i < job->ncells; i++)
            cJSON_AddItemToArray(cells, cJSON_CreateString(job->cells[i]));
        cJSON_AddStringToObject(o, "profile", job->profile);
        cJSON_AddStringToObject(o, "trigger", job->trigger);
        cJSON_AddNumberToObject(o, "slots", nslots);
        dmn__post_event(d, o);
    }
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    self[n > 0 ? n : 0] = '\0';
    /* mfbench, beside mfbenchd, runs the cells on the nodes. */
    char *slash = strrchr(self, '/');
    if (slash && (size_t)(slash - self) + 9 < sizeof self)
        memcpy(slash + 1, "mfbench", 8);
    struct exec_dispatch dx = {.matrix = m,
                               .profile = profile,
                               .self_path = self,
                               .targets_dir = d->targets_dir,
                               .store = d->store,
                               .run_id = run->id,
                               .cancel = &d->cancel,
                               .on_event = on_slurm_event,
                               .on_slot = on_slurm_slot,
                               .arg = jc,
                               /* Each cell starts only when its own worst case fits in
                                * what is left (exec/dispatch.h says why that bounds the
                                * job on max_parallel slots). */
                               .budget_ms = each ? m->budget_ms : 0,
                               .budget_t0_ms = job_t0,
                               .cell_max_s = each};
    int stopped = 0;
    int rc = exec_dispatch_run(&dx, job->sel, job->ncells, &stopped, &e);
    if (rc)
        dmn__log(3, "event=dispatch_error job=%lld error=%s", (long long)job->id,
                 dmn__kv(e.msg, (char[1024]){0}, 1024));
    free(each);
    uv_mutex_lock(&d->mu);
    d->prog.slurm = NULL;
    d->prog.nslurm = 0;
    int interrupted = d->stopping;
    size_t not_ok = d->prog.not_ok, ok = d->prog.ok;
    uv_mutex_unlock(&d->mu);
    free(slots);
    const char *status = rc                           ? "error"
                         : stopped                    ? (interrupted ? "interrupted" : "cancelled")
                         : not_ok || ok < job->ncells ? "failed"
                                                      : "ok";
    err_clear(&e);
    if (store_run_finish(d->store, run->id, status, &e) != 0)
        dmn__log(3, "event=store_error job=%lld error=%s", (long long)job->id,
                 dmn__kv(e.msg, (char[1024]){0}, 1024));
    return status;
}

static void run_job(struct daemon *d, struct dmn_job *job)
{
    struct mref *mr = job->matrix;
    const struct cfg_matrix *m = mr->m;
    struct node *node = NULL;
    struct exec_node_lock *lock = NULL;
    struct run_record run;
    struct err e;
    struct jobctx jc = {.d = d, .job = job};
    const char *profile = job->profile[0] ? job->profile : NULL;
    const char *status = "error";
    memset(&run, 0, sizeof(run));
    run.node_cpu_count = -1, run.node_loadavg = -1; /* unknown until the node says */
    err_clear(&e);

    struct exec_run x = {.matrix = m,
                         .profile = profile,
                         .targets_dir = d->targets_dir,
                         .store = d->store,
                         .cancel = &d->cancel,
                         /* A local server's group, for the forced stop's kill(). */
                         .server_pgid =
                             m->node.transport == CFG_TRANSPORT_LOCAL ? &d->server_pgid : NULL,
                         .on_event = on_exec_event,
                         .arg = &jc};
    double job_max_s = 0;
    double *cell_max = dmn__order_for_budget(d, m, profile, job, &job_max_s);
    uv_mutex_lock(&d->mu);
    d->prog.cell_max_s = cell_max;
    d->prog.job_max_s = job_max_s;
    uv_mutex_unlock(&d->mu);
    int64_t job_t0 = mono_ms();
    dmn__log(6,
             "event=job_start job=%lld cells=%zu profile=%s trigger=%s max_duration_s=%.0f "
             "budget_s=%.0f",
             (long long)job->id, job->ncells, profile ? profile : "-", job->trigger,
             ceil(job_max_s), (double)m->budget_ms / 1000.0);
    if (m->node.transport == CFG_TRANSPORT_SLURM) {
        dmn__notify_status("job %lld: dispatching on Slurm", (long long)job->id);
        status = run_job_slurm(d, job, &jc, &run, job_t0);
        goto out;
    }
    dmn__notify_status("job %lld: preparing the node", (long long)job->id);
    /* A foreground `mfbench run` of this user on the same node or store: the
     * job fails at once, naming it, rather than both failing in odd ways. */
    if (exec_node_lock(&m->node, 0, NULL, &lock, &e) != 0 || store_busy(d->store, &e) != 0) {
        dmn__log(3, "event=busy job=%lld error=%s", (long long)job->id,
                 dmn__kv(e.msg, (char[1024]){0}, 1024));
        goto out;
    }
    if (node_open(&m->node, &node, &e) != 0 || (x.node = node, exec_prepare_node(&x, &run, &e))) {
        dmn__log(3, "event=node_error job=%lld error=%s", (long long)job->id,
                 dmn__kv(e.msg, (char[1024]){0}, 1024));
        goto out;
    }
    mf_strlcpy(run.trigger, job->trigger, sizeof(run.trigger));
    mf_strlcpy(run.profile, job->profile, sizeof(run.profile));
    mf_strlcpy(run.matrix_sha256, m->sha256, sizeof(run.matrix_sha256));
    if (store_run_begin(d->store, &run, &e) != 0) {
        dmn__log(3, "event=store_error job=%lld error=%s", (long long)job->id,
                 dmn__kv(e.msg, (char[1024]){0}, 1024));
        goto out;
    }
    x.run_id = run.id;
    if (exec_node_lock_set_run(lock, run.id, &e) != 0)
        dmn__log(4, "event=lock_error job=%lld error=%s", (long long)job->id,
                 dmn__kv(e.msg, (char[1024]){0}, 1024));
    err_clear(&e);
    uv_mutex_lock(&d->mu);
    d->prog.run_id = run.id;
    uv_mutex_unlock(&d->mu);
    {
        cJSON *o = dmn__event_new("job_start", job->id);
        if (o) {
            cJSON_AddNumberToObject(o, "run", (double)run.id);
            cJSON_AddNumberToObject(o, "max_duration_s", ceil(job_max_s)); /* a bound */
            if (m->budget_ms > 0)
                cJSON_AddNumberToObject(o, "budget_s", (double)m->budget_ms / 1000.0);
            cJSON *cells = cJSON_AddArrayToObject(o, "cells");
            for (size_t i = 0; cells && i < job->ncells; i++)
                cJSON_AddItemToArray(cells, cJSON_CreateString(job->cells[i]));
            cJSON_AddStringToObject(o, "profile", job->profile);
            cJSON_AddStringToObject(o, "trigger", job->trigger);
            dmn__post_event(d, o);
        }
    }
    int found = 0;
    if (exec_cleanup_node(&x, &found, &e) == 0 && found)
        dmn__log(4, "event=stale_server_stopped job=%lld", (long long)job->id);
    err_clear(&e);

    int all_ok = 1, stopped = 0, broken = 0;
    size_t i = 0;
    for (; i < job->ncells; i++) {
        if (atomic_load(&d->cancel)) {
            stopped = 1;
            break;
        }
        int levels = 1;
        double need = dmn__cell_worst_s(m, profile, &job->sel[i], &levels);
        if (m->budget_ms > 0) {
            double left = (double)(m->budget_ms - (mono_ms() - job_t0)) / 1000.0;
            if (need > left) {
                record_budget_skip(d, &x, &jc, i, need, left);
                all_ok = 0;
                uv_mutex_lock(&d->mu);
                d->prog.not_ok++;
                uv_mutex_unlock(&d->mu);
                continue;
            }
        }
        uv_mutex_lock(&d->mu);
        d->prog.cell_index = i;
        mf_strlcpy(d->prog.cell, job->cells[i], sizeof(d->prog.cell));
        d->prog.cell_levels_done = 0;
        d->prog.cell_levels_max = levels;
        uv_mutex_unlock(&d->mu);
        jc.cell = job->cells[i];
        struct cell_result c;
        int rc = exec_cell(&x, &job->sel[i], &c, &e);
        exec_db_release(&x, job->sel + i + 1, job->ncells - i - 1); /* after the last db cell */
        if (c.status == CELL_CANCELLED) {
            stopped = 1;
            uv_mutex_lock(&d->mu);
            int interrupted = d->stopping;
            uv_mutex_unlock(&d->mu);
            if (interrupted && c.id > 0) {
                struct err e2;
                err_clear(&e2);
                c.status = CELL_INTERRUPTED;
                if (store_cell_finish(d->store, &c, &e2) != 0)
                    dmn__log(3, "event=store_error job=%lld error=%s", (long long)job->id,
                             dmn__kv(e2.msg, (char[1024]){0}, 1024));
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
            dmn__log(3, "event=exec_error job=%lld cell=%s error=%s", (long long)job->id,
                     job->cells[i], dmn__kv(e.msg, (char[1024]){0}, 1024));
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
    status = broken    ? "error"
             : stopped ? (interrupted ? "interrupted" : "cancelled")
             : all_ok  ? "ok"
                       : "failed";
    if (broken) {
        abort_job_run(d, &x, &jc, i, &e);
    } else {
        if (i < job->ncells)
            record_unstarted(d, &x, &jc, i, interrupted ? CELL_INTERRUPTED : CELL_CANCELLED);
        err_clear(&e);
        if (store_run_finish(d->store, run.id, status, &e) != 0)
            dmn__log(3, "event=store_error job=%lld error=%s", (long long)job->id,
                     dmn__kv(e.msg, (char[1024]){0}, 1024));
    }
out:
    exec_run_close(&x);
    if (node)
        node_close(node);
    exec_node_unlock(lock);
    uv_mutex_lock(&d->mu);
    d->prog.cell_max_s = NULL;
    uv_mutex_unlock(&d->mu);
    free(cell_max);
    job_end(d, job->id, run.id, status);
    run_record_free(&run);
}

static void worker_main(void *arg)
{
    struct daemon *d = arg;

    /* A server left on the node by a daemon that was killed; on a Slurm node, its
     * allocations. */
    dmn__recover_node(d);
    dmn__recover_slurm(d);
    uv_mutex_lock(&d->mu);
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
        dmn__mref_put(job->matrix);
        dmn_job_free(job);
        if (!d->stopping)
            dmn__notify_status("idle, %zu job(s) queued", d->queue.n);
    }
    d->worker_done = 1;
    uv_mutex_unlock(&d->mu);
    uv_async_send(&d->wake);
}

int dmn__worker_start(struct daemon *d, struct err *e)
{
    int rc = uv_thread_create(&d->worker, worker_main, d);
    if (rc)
        return err_set(e, rc, "uv_thread_create(worker): %s", uv_strerror(rc));
    d->worker_started = 1;
    return 0;
}

int dmn__job_cancel(struct daemon *d, int64_t *id, int *was_running)
{
    uv_mutex_lock(&d->mu);
    int64_t running = d->prog.job ? d->prog.job->id : 0;
    if (*id == 0)
        *id = running;
    if (*id == 0) {
        uv_mutex_unlock(&d->mu);
        return -ENOENT;
    }
    if (*id == running) {
        atomic_store(&d->cancel, 1);
        uv_mutex_unlock(&d->mu);
        *was_running = 1;
        dmn__log(6, "event=cancel job=%lld state=running", (long long)*id);
        return 0;
    }
    struct dmn_job *j = dmn_queue_remove(&d->queue, *id);
    if (j) {
        dmn__mref_put(j->matrix);
        dmn_job_free(j);
    }
    uv_mutex_unlock(&d->mu);
    if (!j)
        return -ENOENT;
    *was_running = 0;
    dmn__log(6, "event=cancel job=%lld state=queued", (long long)*id);
    job_end(d, *id, 0, "cancelled");
    return 0;
}
