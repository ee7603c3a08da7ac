/* test_jobs.c - the worker's budget order against `status`: the job's cells
 * are reordered cheapest worst case first (stable, names and matrix indexes
 * kept together), and the reorder holds d->mu while status reads the running
 * job from another thread. The plain build checks the order; the
 * ThreadSanitizer build (tools/test.sh) reports the race when the lock is left
 * out (issue 21 item 7). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "daemon_int.h"
#include "t.h"

/* Six cells whose worst cases differ by their number of user levels; the
 * budget is smaller than their sum, so the worker reorders them. */
static const char matrix_yaml[] =
    "version: 1\n"
    "budget: 60s\n"
    "node: {transport: local, workdir: /nonexistent/mfbench-test, cpus: \"1\", server_port: 1}\n"
    "load: {cpus: \"0\"}\n"
    "defaults: {duration: 2s, warmup: 500ms, spawn_rate: 1000, think: 0s, users: {start: 2, max: "
    "2},\n"
    "           timeout: 1s, ready_timeout: 5s, refine: 0}\n"
    "payloads:\n"
    "  text: {path: /text, body: \"Hello World!\", content_type: text/plain}\n"
    "  json: {path: /json, body: '{\"a\":1}', content_type: application/json}\n"
    "frameworks:\n"
    "  tornado: {server: tornado, users: {start: 2, factor: 2, max: 64}}\n"
    "  flask: {server: werkzeug}\n"
    "  falcon: {server: werkzeug, users: {start: 2, factor: 2, max: 8}}\n";

#define ROUNDS 3000

struct shared {
    struct daemon *d;
    const struct cfg_matrix *m;
    struct dmn_job *job;
    int bad_order;
};

/* The name a cell must have for its matrix indexes. */
static int cell_matches(const struct cfg_matrix *m, const struct dmn_job *job, size_t i)
{
    char name[DMN_MAX_NAME * 2];
    snprintf(name, sizeof(name), "%s/%s", m->frameworks[job->sel[i].framework].name,
             m->payloads[job->sel[i].payload].name);
    return strcmp(name, job->cells[i]) == 0;
}

/* The worker's side: undo the order under the lock (as a new job would come),
 * then order it the way run_job does. */
static void worker(void *arg)
{
    struct shared *s = arg;
    struct dmn_job *job = s->job;
    for (int r = 0; r < ROUNDS; r++) {
        uv_mutex_lock(&s->d->mu);
        for (size_t i = 0, k = job->ncells - 1; i < k; i++, k--) {
            char *tc = job->cells[i];
            job->cells[i] = job->cells[k];
            job->cells[k] = tc;
            struct cfg_cell ts = job->sel[i];
            job->sel[i] = job->sel[k];
            job->sel[k] = ts;
        }
        uv_mutex_unlock(&s->d->mu);
        double total = 0;
        double *w = dmn__order_for_budget(s->d, s->m, NULL, job, &total);
        for (size_t i = 1; w && i < job->ncells; i++)
            if (w[i - 1] > w[i])
                s->bad_order++;
        free(w);
    }
}

int main(void)
{
    struct err e;
    err_clear(&e);
    struct cfg_matrix *m = NULL;
    if (cfg_load_string("jobs.yaml", matrix_yaml, strlen(matrix_yaml), &m, &e) != 0) {
        fprintf(stderr, "matrix: %s\n", e.msg);
        return 1;
    }
    struct daemon d;
    memset(&d, 0, sizeof(d));
    CHECK_INT(uv_mutex_init(&d.mu), ==, 0);
    dmn_queue_init(&d.queue, 8);
    struct mref mr = {.m = m, .refs = 1};
    d.matrix = &mr;

    /* The job, in matrix order, as a trigger of "*" makes it. */
    const char *all[] = {"*"};
    struct dmn_job *job = calloc(1, sizeof(*job));
    CHECK(job != NULL);
    CHECK_INT(cfg_select(m, all, 1, &job->sel, &job->ncells, &e), ==, 0);
    CHECK_INT(job->ncells, ==, 6);
    job->cells = calloc(job->ncells, sizeof(char *));
    for (size_t i = 0; i < job->ncells; i++) {
        char name[DMN_MAX_NAME * 2];
        snprintf(name, sizeof(name), "%s/%s", m->frameworks[job->sel[i].framework].name,
                 m->payloads[job->sel[i].payload].name);
        job->cells[i] = strdup(name);
    }
    job->matrix = &mr;
    mf_strlcpy(job->trigger, "daemon", sizeof(job->trigger));

    /* Alone first: the order is by worst case, stable, and each name stays
     * with its indexes; the weights are returned in the new order. */
    double total = 0;
    int lv;
    double *w = dmn__order_for_budget(&d, m, NULL, job, &total);
    CHECK(w != NULL);
    double sum = 0;
    for (size_t i = 0; w && i < job->ncells; i++) {
        CHECK(cell_matches(m, job, i));
        CHECK_DBL(w[i], ==, dmn__cell_worst_s(m, NULL, &job->sel[i], &lv));
        if (i > 0)
            CHECK_DBL(w[i - 1], <=, w[i]);
        sum += w[i];
    }
    CHECK_DBL(total, ==, sum + exec_run_max_s(m));    /* and the run's own steps, once */
    CHECK_DBL(total * 1000, >, (double)m->budget_ms); /* so the order was the budget's */
    /* flask (one level) first, text before json (stable), tornado (six levels) last. */
    CHECK_STR(job->cells[0], "flask/text");
    CHECK_STR(job->cells[1], "flask/json");
    CHECK_STR(job->cells[5], "tornado/json");
    free(w);

    /* Concurrently: the worker reorders while this thread answers `status`
     * under d->mu, as requests.c does for a control client. */
    d.prog.job = job;
    d.prog.started_ms = mono_ms();
    mf_strlcpy(d.prog.state, "preparing", sizeof(d.prog.state));
    struct shared s = {.d = &d, .m = m, .job = job};
    uv_thread_t t;
    CHECK_INT(uv_thread_create(&t, worker, &s), ==, 0);
    int answers = 0, whole = 0;
    for (int r = 0; r < ROUNDS; r++) {
        uv_mutex_lock(&d.mu);
        cJSON *o = dmn__status_json(&d);
        uv_mutex_unlock(&d.mu);
        if (!o)
            continue;
        answers++;
        cJSON *cells = cJSON_GetObjectItem(cJSON_GetObjectItem(o, "running"), "cells");
        if (cJSON_GetArraySize(cells) == 6)
            whole++;
        cJSON_Delete(o);
    }
    CHECK_INT(uv_thread_join(&t), ==, 0);
    CHECK_INT(s.bad_order, ==, 0);
    CHECK_INT(answers, ==, ROUNDS);
    CHECK_INT(whole, ==, ROUNDS);
    for (size_t i = 0; i < job->ncells; i++)
        CHECK(cell_matches(m, job, i));

    d.prog.job = NULL;
    dmn_job_free(job);
    uv_mutex_destroy(&d.mu);
    cfg_free(m);
    T_DONE();
}
