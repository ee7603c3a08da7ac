/* signals.c - mfbenchd's signals on the loop: SIGHUP reloads the matrix (running
 * and queued jobs keep the one they started with); SIGTERM/SIGINT drop the queue,
 * stop the running job (it ends "interrupted") and arm a deadline that forces it. */
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include "daemon_int.h"

#define STOP_DEADLINE_MS 8000 /* after SIGTERM; systemd's TimeoutStopSec is longer */

/* The executor did not stop in time: mark the store and stop the server from
 * here, with handles of our own, then leave. */
static void on_deadline(uv_timer_t *t)
{
    struct daemon *d = t->data;
    int count = 0, found = 0;
    dmn__log(3, "event=stop_deadline msg=\"the job did not stop in time; forcing\"");
    dmn__recover_forced(d, &count, &found);
    unlink(d->socket_path);
    dmn__log(4, "event=stopped forced=1 runs_interrupted=%d server_stopped=%d", count, found);
    _exit(1);
}

static void reload(struct daemon *d)
{
    struct cfg_matrix *m = NULL;
    struct err e;
    char msg[1200];
    err_clear(&e);
    if (dmn__load_matrix(d->matrix_path, &m, &e) != 0) {
        dmn__log(3, "event=reload_failed error=%s",
                 dmn__kv(err_format(&e, msg, sizeof(msg)), (char[1400]){0}, 1400));
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
    dmn__mref_put(d->matrix);
    d->matrix = r;
    uv_mutex_unlock(&d->mu);
    dmn__log(6, "event=reloaded matrix=%s sha256=%s", dmn__kv(m->path, msg, sizeof(msg)),
             m->sha256);
}

static void on_signal(uv_signal_t *s, int signum)
{
    struct daemon *d = s->data;
    if (signum == SIGHUP) {
        reload(d);
        return;
    }
    uv_mutex_lock(&d->mu);
    int again = d->stopping;
    d->stopping = 1;
    atomic_store(&d->cancel, 1);
    /* Queued jobs never started: nothing of theirs is in the store. */
    for (struct dmn_job *j; (j = dmn_queue_pop(&d->queue));) {
        dmn__log(4, "event=job_dropped job=%lld", (long long)j->id);
        dmn__mref_put(j->matrix);
        dmn_job_free(j);
    }
    uv_cond_broadcast(&d->cv);
    uv_mutex_unlock(&d->mu);
    if (again)
        return;
    dmn__log(6, "event=stopping signal=%s", signum == SIGTERM ? "TERM" : "INT");
    dmn__notify("STOPPING=1\nSTATUS=stopping");
    dmn__stop_listening(d);
    int rc = uv_timer_start(&d->deadline, on_deadline, STOP_DEADLINE_MS, 0);
    if (rc) /* the worker still stops; only the forced stop is lost */
        dmn__log(3, "event=deadline_failed error=\"uv_timer_start(deadline): %s\"",
                 uv_strerror(rc));
}

int dmn__signals_init(struct daemon *d, struct err *e)
{
    int rc = uv_timer_init(&d->loop, &d->deadline);
    if (rc)
        return err_set(e, rc, "uv_timer_init(deadline): %s", uv_strerror(rc));
    dmn__handle_opened(d, (uv_handle_t *)&d->deadline);
    d->deadline.data = d;
    uv_signal_t *sigs[] = {&d->sigterm, &d->sigint, &d->sighup};
    int signums[] = {SIGTERM, SIGINT, SIGHUP};
    const char *names[] = {"SIGTERM", "SIGINT", "SIGHUP"};
    for (int i = 0; i < 3; i++) {
        if ((rc = uv_signal_init(&d->loop, sigs[i])))
            return err_set(e, rc, "uv_signal_init(%s): %s", names[i], uv_strerror(rc));
        dmn__handle_opened(d, (uv_handle_t *)sigs[i]);
        sigs[i]->data = d;
        if ((rc = uv_signal_start(sigs[i], on_signal, signums[i])))
            return err_set(e, rc, "uv_signal_start(%s): %s", names[i], uv_strerror(rc));
    }
    return 0;
}
