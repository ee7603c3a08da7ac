/* signals.c - mfbenchd's signals on the loop: SIGHUP reloads the matrix, parsed on
 * libuv's thread pool and swapped in on the loop (running and queued jobs keep the
 * one they started with); SIGTERM/SIGINT drop the queue, stop the running job (it
 * ends "interrupted") and arm a deadline that forces the exit. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include "daemon_int.h"

/* One reload in flight: parsed off the loop, so the loop keeps answering clients
 * and feeding the watchdog whatever the file holds. */
struct reload {
    uv_work_t req;
    struct daemon *d;
    struct cfg_matrix *m;
    struct err e;
    int rc;
};

/* The executor did not stop in time. Leave at once, with no I/O that could hang
 * on the loop thread: the run stays "running" in the store and the next start's
 * recovery marks it interrupted and stops whatever is left on the node. A local
 * server's process group is killed here (a plain kill()); an ssh node's server
 * is left for that recovery. */
static void on_deadline(uv_timer_t *t)
{
    struct daemon *d = t->data;
    long pgid = atomic_load(&d->server_pgid);
    int killed = pgid > 1 && kill((pid_t)-pgid, SIGKILL) == 0;
    unlink(d->socket_path);
    dmn__log(3, "event=stop_deadline msg=\"the job did not stop in time; forcing\"");
    dmn__log(4,
             "event=stopped forced=1 server_killed=%d msg=\"the next start recovers the run and "
             "the node\"",
             killed);
    _exit(1);
}

static void reload_work(uv_work_t *req)
{
    struct reload *r = req->data;
    if (r->d->reload_delay_ms > 0) /* tests: a parse that takes this long */
        uv_sleep((unsigned)r->d->reload_delay_ms);
    r->rc = dmn__load_matrix(r->d->matrix_path, &r->m, &r->e);
}

/* On the loop: swap the new matrix in, or keep the old one and log why. */
static void reload_done(uv_work_t *req, int status)
{
    struct reload *r = req->data;
    struct daemon *d = r->d;
    char msg[1200];
    d->reloading = 0;
    struct mref *ref = NULL;
    if (status == 0 && r->rc == 0 && (ref = calloc(1, sizeof(*ref))) != NULL) {
        ref->m = r->m;
        ref->refs = 1;
        uv_mutex_lock(&d->mu);
        dmn__mref_put(d->matrix);
        d->matrix = ref;
        uv_mutex_unlock(&d->mu);
        dmn__log(6, "event=reloaded matrix=%s sha256=%s", dmn__kv(r->m->path, msg, sizeof(msg)),
                 r->m->sha256);
    } else {
        if (status != 0)
            err_set(&r->e, status, "the reload did not run: %s", uv_strerror(status));
        else if (r->rc == 0)
            err_set(&r->e, -ENOMEM, "out of memory");
        cfg_free(r->m);
        dmn__log(3, "event=reload_failed error=%s",
                 dmn__kv(err_format(&r->e, msg, sizeof(msg)), (char[1400]){0}, 1400));
    }
    free(r);
}

static void reload(struct daemon *d)
{
    if (d->reloading) {
        dmn__log(4, "event=reload_refused msg=\"a reload is already in progress\"");
        return;
    }
    struct reload *r = calloc(1, sizeof(*r));
    if (!r) {
        dmn__log(3, "event=reload_failed error=\"out of memory\"");
        return;
    }
    r->d = d;
    r->req.data = r;
    err_clear(&r->e);
    int rc = uv_queue_work(&d->loop, &r->req, reload_work, reload_done);
    if (rc) {
        dmn__log(3, "event=reload_failed error=\"uv_queue_work: %s\"", uv_strerror(rc));
        free(r);
        return;
    }
    d->reloading = 1;
    dmn__log(6, "event=reload_started");
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
    uint64_t ms = d->stop_deadline_ms ? d->stop_deadline_ms : DMN_STOP_DEADLINE_MS;
    int rc = uv_timer_start(&d->deadline, on_deadline, ms, 0);
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
