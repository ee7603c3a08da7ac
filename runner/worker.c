/* worker.c - one engine thread: its loop and timers (the phase's end, each
 * second, the users' spawn), the drain of the requests still outstanding when
 * the phase's time is up, and the stop that closes every handle. */
#include "engine_int.h"

#include <stdlib.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

static void user_start(struct worker *w, struct user *u, uint64_t now)
{
    u->started = 1;
    u->born_ns = now;
    if (w->sh->rate_mode)
        run__user_connect(u, now);
    else {
        u->pace_target = now;
        run__user_go(u, now);
    }
}

static void on_spawn_timer(uv_timer_t *t)
{
    struct worker *w = t->data;
    if (w->stopping || w->draining)
        return;
    uint64_t now = uv_hrtime();
    int due = w->nusers;
    if (w->spawn_rate > 0) {
        double el = (double)(now - w->sh->t0) / 1e9;
        double d = 1 + el * w->spawn_rate;
        if (d < due)
            due = (int)d;
    }
    while (w->started < due && !w->stopping)
        user_start(w, run__user_at(w, w->started++), now);
    if (w->started < w->nusers && !w->stopping) {
        uint64_t next = w->sh->t0 + (uint64_t)((double)w->started / w->spawn_rate * 1e9);
        uint64_t ms = next > now ? (next - now + NS_MS - 1) / NS_MS : 0;
        uv_timer_start(&w->spawn_timer, on_spawn_timer, ms, 0);
    }
}

static void on_tick(uv_timer_t *t)
{
    struct worker *w = t->data;
    if (w->stopping)
        return;
    uint64_t now = uv_hrtime();
    if (w->cur_sec < w->sh->nsec - 1)
        run__sec_finalize(w);
    uint64_t next = w->sh->t0 + (uint64_t)(w->cur_sec + 1) * NS_S;
    uint64_t ms = next > now ? (next - now + NS_MS - 1) / NS_MS : 0;
    if (w->cur_sec < w->sh->nsec - 1)
        uv_timer_start(&w->tick_timer, on_tick, ms, 0);
}

static void close_if(uv_handle_t *h)
{
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

void run__worker_stop(struct worker *w)
{
    if (w->stopping)
        return;
    uint64_t now = uv_hrtime();
    if (!w->draining)
        run__account_unsent(w, now); /* cancelled: the phase ends now */
    w->stopping = 1;
    if (w->draining && w->outstanding + w->pending > 0) {
        /* Still unanswered a timeout after the phase's end (see worker_drain):
         * older than the request timeout, so they are timeouts, each in
         * latency at its age now. */
        run__count_fail(w, FAIL_TIMEOUT, w->outstanding + w->pending, now);
        for (int i = 0; i < w->started; i++) {
            struct user *u = run__user_at(w, i);
            if (u->state == U_READY || u->state == U_CONNECTING)
                run__fail_samples(u, FAIL_TIMEOUT, now);
            else if (u->want_send)
                run__sample(w, now > u->want_ns ? now - u->want_ns : 0, 1, now);
        }
        w->outstanding = w->pending = 0;
    }
    while (w->cur_sec < w->sh->nsec)
        run__sec_finalize(w);
    for (int i = 0; i < w->nusers; i++) {
        struct user *u = run__user_at(w, i);
        if (!u->started)
            continue;
        u->timer_kind = TK_NONE;
        u->hpos = 0;
        if (u->state == U_CONNECTING || u->state == U_READY) {
            u->state = U_CLOSING;
            uv_close((uv_handle_t *)&u->poll, run__on_sock_close);
        }
    }
    w->tn = 0;
    close_if((uv_handle_t *)&w->user_timer);
    close_if((uv_handle_t *)&w->stop_timer);
    close_if((uv_handle_t *)&w->tick_timer);
    close_if((uv_handle_t *)&w->spawn_timer);
    close_if((uv_handle_t *)&w->sched_timer);
    if (w->sched_fd >= 0)
        close_if((uv_handle_t *)&w->sched_poll);
    close_if((uv_handle_t *)&w->wake);
}

static void on_stop_timer(uv_timer_t *t);

/* The phase's time is up. Requests still outstanding are part of it: a server
 * that stopped answering must not pass because its phase ended first. No new
 * request goes out; the phase ends when every outstanding one is answered or
 * failed, at the latest a request timeout (plus timer slack) from now, when
 * the rest count as timeouts. */
static void worker_drain(struct worker *w, uint64_t end)
{
    run__account_unsent(w, end);
    w->draining = 1;
    w->in_flight = w->outstanding + w->pending;
    uv_timer_stop(&w->spawn_timer);
    uv_timer_stop(&w->sched_timer);
    if (w->sched_fd >= 0)
        uv_poll_stop(&w->sched_poll);
    for (int i = 0; i < w->started; i++) {
        struct user *u = run__user_at(w, i);
        if (u->timer_kind == TK_THINK || u->timer_kind == TK_RECONNECT)
            run__timer_disarm(u);
    }
    if (w->in_flight == 0) {
        run__worker_stop(w);
        return;
    }
    uint64_t ms = (w->sh->timeout_ns + NS_MS - 1) / NS_MS + 20;
    uv_timer_start(&w->stop_timer, on_stop_timer, ms, 0);
}

void run__drain_check(struct worker *w)
{
    /* Deferred to the loop: the caller may still use its user. */
    if (w->draining && !w->stopping && w->outstanding + w->pending == 0)
        uv_timer_start(&w->stop_timer, on_stop_timer, 0, 0);
}

static void on_stop_timer(uv_timer_t *t)
{
    struct worker *w = t->data;
    if (w->stopping)
        return;
    if (!w->draining)
        worker_drain(w, w->sh->end);
    else
        run__worker_stop(w);
}

/* The coordinator: end the phase now (cancel) or drain it as at its end
 * (early stop, at stop_ns). */
static void on_wake(uv_async_t *a)
{
    struct worker *w = a->data;
    struct shared *sh = w->sh;
    if (atomic_load(&sh->wake_stop) || !atomic_load(&sh->wake_drain)) {
        run__worker_stop(w);
    } else if (!w->draining && !w->stopping) {
        uv_timer_stop(&w->stop_timer);
        worker_drain(w, atomic_load(&sh->stop_ns));
    }
}

void *run__worker_main(void *arg)
{
    struct worker *w = arg;
    struct shared *sh = w->sh;
    if (w->pin)
        sched_setaffinity(0, sizeof(w->cpuset), &w->cpuset); /* checked beforehand */
    uv_update_time(&w->loop);
    uint64_t now = uv_hrtime();
    uint64_t ms = sh->end > now ? (sh->end - now + NS_MS - 1) / NS_MS : 0;
    uv_timer_start(&w->stop_timer, on_stop_timer, ms, 0);
    uint64_t first = sh->t0 + NS_S;
    uv_timer_start(&w->tick_timer, on_tick, first > now ? (first - now + NS_MS - 1) / NS_MS : 0, 0);
    if (w->nusers)
        on_spawn_timer(&w->spawn_timer);
    if (sh->rate_mode) {
        run__sched_init(w);
        run__rate_pump(w, uv_hrtime());
    }
    uv_run(&w->loop, UV_RUN_DEFAULT);
    w->loop_close_rc = uv_loop_close(&w->loop);
    atomic_store(&w->finished, 1);
    return NULL;
}

void run__worker_free(struct worker *w)
{
    if (!w)
        return;
    if (w->slots) {
        for (int i = 0; i < w->sh->nsec; i++)
            free(w->slots[i].b);
        free(w->slots);
    }
    run_hist_free(w->hist);
    run_hist_free(w->sec_hist);
    if (w->sched_fd >= 0)
        close(w->sched_fd);
    free(w->users);
    free(w->freeq);
    free(w->theap);
    run__sample_free(w);
    free(w);
}

int run__worker_new(struct shared *sh, int idx, int nusers, struct worker **out, struct err *e)
{
    struct worker *w = calloc(1, sizeof(*w));
    if (!w)
        return err_set(e, -ENOMEM, "out of memory");
    w->sh = sh;
    w->idx = idx;
    w->nusers = nusers;
    w->sched_fd = -1;
    w->ustride =
        (sizeof(struct user) + 2 * (size_t)sh->pipeline * sizeof(uint64_t) + 15) & ~(size_t)15;
    w->users = nusers ? calloc((size_t)nusers, w->ustride) : NULL;
    w->freeq = nusers ? calloc((size_t)nusers, sizeof(uint32_t)) : NULL;
    w->theap = nusers ? calloc((size_t)nusers, sizeof(uint32_t)) : NULL;
    w->tarmed = UINT64_MAX;
    w->slots = calloc((size_t)sh->nsec, sizeof(*w->slots));
    w->hist = run_hist_new();
    w->sec_hist = run_hist_new();
    if ((nusers && (!w->users || !w->freeq || !w->theap)) || !w->slots || !w->hist ||
        !w->sec_hist) {
        run__worker_free(w);
        return err_set(e, -ENOMEM, "out of memory for %d users", nusers);
    }
    for (int i = 0; i < nusers; i++) {
        struct user *u = run__user_at(w, i);
        u->w = w;
        u->fd = -1;
        http_resp_init(&u->parser, &sh->hcfg);
    }
    if (run__sample_init(w, e) != 0) {
        run__worker_free(w);
        return e->code;
    }
    uint64_t seed = sh->o->seed ? sh->o->seed : sh->seed;
    w->seed = seed;
    w->rng = seed + (uint64_t)idx * UINT64_C(0x9E3779B97F4A7C15);
    for (int i = 0; i < nusers; i++)
        run__user_at(w, i)->rng = run__user_seed(w, i);
    if (sh->o->spawn_rate > 0 && sh->o->users > 0)
        w->spawn_rate = sh->o->spawn_rate * (double)nusers / (double)sh->o->users;
    if (sh->rate_mode) {
        /* Each worker keeps its share of the rate (the workers, not the
         * threads asked for: fewer users than threads run fewer workers). */
        w->rate_w = sh->o->rate / (double)sh->nworkers;
        w->interval_ns = run_arrival_gap_ns(RUN_ARRIVALS_UNIFORM, w->rate_w, NULL);
        /* Its own arrival stream, from the phase seed and its index. */
        uint64_t s = seed ^ UINT64_C(0xA0761D6478BD642F);
        s += (uint64_t)(idx + 1) * UINT64_C(0xE7037ED1A0B428DB);
        w->arr_rng = run__rng_next(&s);
    }
    if (w->interval_ns == 0)
        w->interval_ns = 1;
    /* Stagger the threads' schedules so their sends interleave. */
    w->sched_off = w->interval_ns * (uint64_t)idx / (uint64_t)sh->nworkers;
    int rc = uv_loop_init(&w->loop);
    if (rc < 0) {
        run__worker_free(w);
        return err_set(e, rc, "uv_loop_init: %s", uv_strerror(rc));
    }
    uv_timer_init(&w->loop, &w->stop_timer);
    uv_timer_init(&w->loop, &w->tick_timer);
    uv_timer_init(&w->loop, &w->spawn_timer);
    uv_timer_init(&w->loop, &w->sched_timer);
    uv_timer_init(&w->loop, &w->user_timer);
    w->user_timer.data = w;
    rc = uv_async_init(&w->loop, &w->wake, on_wake);
    if (rc < 0) {
        /* close what exists so the loop can close */
        uv_close((uv_handle_t *)&w->user_timer, NULL);
        uv_close((uv_handle_t *)&w->stop_timer, NULL);
        uv_close((uv_handle_t *)&w->tick_timer, NULL);
        uv_close((uv_handle_t *)&w->spawn_timer, NULL);
        uv_close((uv_handle_t *)&w->sched_timer, NULL);
        uv_run(&w->loop, UV_RUN_DEFAULT);
        uv_loop_close(&w->loop);
        run__worker_free(w);
        return err_set(e, rc, "uv_async_init: %s", uv_strerror(rc));
    }
    w->stop_timer.data = w->tick_timer.data = w->spawn_timer.data = w->sched_timer.data = w;
    w->wake.data = w;
    if (sh->rate_mode) {
        w->sched_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
        if (w->sched_fd >= 0 && uv_poll_init(&w->loop, &w->sched_poll, w->sched_fd) < 0) {
            close(w->sched_fd);
            w->sched_fd = -1;
        }
        if (w->sched_fd >= 0) {
            w->sched_poll.data = w;
            uv_poll_start(&w->sched_poll, UV_READABLE, run__on_sched_poll);
        }
    }
    *out = w;
    return 0;
}
