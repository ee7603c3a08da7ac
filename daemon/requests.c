/* requests.c - one request line from a control client: trigger (select cells,
 * queue a job unless its cells are already queued), status (the running job's
 * progress and an upper bound of its time left), cancel and subscribe. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon_int.h"

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

cJSON *dmn__status_json(struct daemon *d)
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
            if (p->slurm) { /* a Slurm node: every cell holding or awaiting a node */
                cJSON *sc = cJSON_AddArrayToObject(r, "slurm_cells");
                for (int i = 0; sc && i < p->nslurm; i++) {
                    const struct dmn_slurm_cell *c = &p->slurm[i];
                    if (!c->cell[0])
                        continue;
                    cJSON *x = cJSON_CreateObject();
                    cJSON_AddStringToObject(x, "cell", c->cell);
                    cJSON_AddStringToObject(x, "state", c->state);
                    cJSON_AddStringToObject(x, "host", c->host);
                    if (c->job > 0)
                        cJSON_AddNumberToObject(x, "slurm_job_id", (double)c->job);
                    else
                        cJSON_AddNullToObject(x, "slurm_job_id");
                    cJSON_AddItemToArray(sc, x);
                }
            }
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
            /* The worst cases were computed once when the job started. */
            const struct cfg_matrix *m = ((struct mref *)p->job->matrix)->m;
            double rest = 0;
            int lv = p->cell_levels_max > 0 ? p->cell_levels_max : 1;
            if (p->cell_max_s) {
                rest += p->cell_max_s[p->cell_index] / lv * (lv - p->cell_levels_done);
                for (size_t i = p->cell_index + 1; i < p->job->ncells; i++)
                    rest += p->cell_max_s[i];
            }
            if (strcmp(p->state, "phase") == 0)
                rest -= p->elapsed_s < p->duration_s ? p->elapsed_s : p->duration_s;
            cJSON_AddNumberToObject(r, "eta_max_s", rest > 0 ? rest : 0);
            /* The job's worst case as a whole, as its job_start event said. */
            if (p->job_max_s > 0) /* a bound: rounded up */
                cJSON_AddNumberToObject(r, "max_duration_s", ceil(p->job_max_s));
            else /* the worker has not worked it out yet: unknown, not 0 */
                cJSON_AddNullToObject(r, "max_duration_s");
            if (m->budget_ms > 0)
                cJSON_AddNumberToObject(r, "budget_s", (double)m->budget_ms / 1000.0);
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
        dmn__client_send(c, dmn_answer_error("the daemon is stopping"));
        return;
    }
    struct mref *mr = dmn__mref_get(d);
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
    /* Once the lock is released a queued job is the worker's: it may run,
     * end and be freed before this thread logs it (a job that fails at once,
     * such as "node busy"), so what is logged is copied here. */
    long long job_id = (long long)job->id;
    size_t job_ncells = job->ncells;
    if (rc == 0)
        uv_cond_signal(&d->cv);
    uv_mutex_unlock(&d->mu);
    if (rc < 0) {
        cJSON_Delete(o);
        err_set(&e, rc, "the queue is full");
        goto fail;
    }
    if (rc == 1) {
        dmn__log(6, "event=trigger_dedup job=%lld", (long long)existing);
        uv_mutex_lock(&d->mu);
        dmn__mref_put(mr);
        uv_mutex_unlock(&d->mu);
        dmn_job_free(job);
        if (o)
            cJSON_AddNumberToObject(o, "job", (double)existing);
    } else {
        dmn__log(6, "event=trigger job=%lld cells=%zu profile=%s trigger=%s", job_id, job_ncells,
                 prof ? dmn__kv(prof, (char[160]){0}, 160) : "-", rq->trigger);
    }
    if (o) {
        cJSON_AddBoolToObject(o, "ok", 1);
        cJSON_AddBoolToObject(o, "queued", rc == 0);
    }
    if (rq->follow)
        c->subscribed = 1;
    dmn__send_json(c, o);
    return;
fail:
    free(sel);
    if (job) {
        job->matrix = NULL;
        dmn_job_free(job);
    }
    uv_mutex_lock(&d->mu);
    dmn__mref_put(mr);
    uv_mutex_unlock(&d->mu);
    dmn__client_send(c, dmn_answer_error(e.msg));
}

static void do_cancel(struct client *c, const struct dmn_request *rq)
{
    char msg[128];
    int64_t id = rq->job;
    int was_running = 0;
    if (dmn__job_cancel(c->d, &id, &was_running) != 0) {
        if (id == 0)
            mf_strlcpy(msg, "no job is running", sizeof(msg));
        else
            snprintf(msg, sizeof(msg), "no job %lld is queued or running", (long long)id);
        dmn__client_send(c, dmn_answer_error(msg));
        return;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddTrueToObject(o, "ok");
    cJSON_AddNumberToObject(o, "job", (double)id);
    cJSON_AddStringToObject(o, "was", was_running ? "running" : "queued");
    dmn__send_json(c, o);
}

void dmn__handle_line(struct client *c, const char *line, size_t len)
{
    struct dmn_request rq;
    struct err e;
    err_clear(&e);
    while (len > 0 && (line[len - 1] == '\r' || line[len - 1] == ' '))
        len--;
    if (len == 0)
        return;
    if (dmn_request_parse(line, len, &rq, &e) != 0) {
        dmn__client_send(c, dmn_answer_error(e.msg));
        return;
    }
    switch (rq.cmd) {
    case DMN_CMD_TRIGGER:
        do_trigger(c, &rq);
        break;
    case DMN_CMD_STATUS:
        uv_mutex_lock(&c->d->mu);
        cJSON *o = dmn__status_json(c->d);
        uv_mutex_unlock(&c->d->mu);
        dmn__send_json(c, o);
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
        dmn__send_json(c, s);
        break;
    }
    }
    dmn_request_free(&rq);
}
