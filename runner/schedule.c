/* schedule.c - the open loop: each worker's Poisson or evenly spaced arrivals,
 * sent on a free connection at their intended time (a timerfd, then a short
 * spin), its backlog, and the sends the phase's end left unsent. */
#include "engine_int.h"

#include <errno.h>
#include <math.h>
#include <string.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

/* Open loop: a send counts in missed_schedule when it leaves more than
 * run_missed_late_ns() after its intended time. The floor is 2 ms because
 * libuv timers have 1 ms granularity (a send batched on the next millisecond
 * tick is on time) and a VM's idle vCPU wakes late now and then: on the test
 * machines (firecracker, 2 vCPUs, nothing else running) a bare timerfd loop at
 * 5,000 wake-ups a second woke 0.2-0.4% of them more than 2 ms late, 0.07%
 * more than 3 ms, 0.007-0.06% more than 5 ms (bench/wakeup_jitter); with the executor and the
 * node's sampler beside it, up to 1.1% of a probe's sends were over 2 ms late, two of a
 * cell's probes inconclusive (from 3,800 req/s up) while the engine used half its CPU. With a
 * bound, lateness under a fifth of it cannot by itself carry a request over the bound: 5 ms for the
 * nightly's 25 ms. */
#define MISSED_MIN_NS (2 * NS_MS)

uint64_t run_missed_late_ns(uint64_t mean_gap_ns, uint64_t bound_us)
{
    uint64_t late = mean_gap_ns / 10;
    if (late < MISSED_MIN_NS)
        late = MISSED_MIN_NS;
    if (bound_us && bound_us < UINT64_MAX / 1000 && bound_us * 1000 / 5 > late)
        late = bound_us * 1000 / 5;
    return late;
}

/* Open loop with the timerfd: it fires this early and the rest is a busy wait,
 * so a wake-up from an idle CPU (tens of us in a VM) is not added to latency. */
#define SCHED_SPIN_NS (150 * UINT64_C(1000))

const char *run_arrivals_name(enum run_arrivals a)
{
    switch (a) {
    case RUN_ARRIVALS_POISSON:
        return "poisson";
    case RUN_ARRIVALS_UNIFORM:
        return "uniform";
    }
    return "?";
}

uint64_t run_arrival_gap_ns(enum run_arrivals a, double rate, uint64_t *rng)
{
    if (!(rate > 0))
        return UINT64_MAX;
    double mean = 1e9 / rate;
    if (a == RUN_ARRIVALS_UNIFORM) {
        /* Truncated as the even grid always was: rate 400 is exactly 2.5 ms. */
        uint64_t g = mean < 1.8e19 ? (uint64_t)mean : UINT64_MAX;
        return g ? g : 1;
    }
    /* U in (0, 1] from 53 bits: never 0, so -ln(U) is finite (at most ~36.7). */
    double u = (double)((run__rng_next(rng) >> 11) + 1) * 0x1p-53;
    double g = -log(u) * mean + 0.5;
    return g < 1.8e19 ? (uint64_t)g : UINT64_MAX;
}

static void rate_pump_spin(struct worker *w, uint64_t now, int may_spin);

static void on_sched_timer(uv_timer_t *t)
{
    struct worker *w = t->data;
    if (!w->stopping)
        rate_pump_spin(w, uv_hrtime(), 1);
}

void run__on_sched_poll(uv_poll_t *p, int status, int events)
{
    struct worker *w = p->data;
    uint64_t expirations;
    if (read(w->sched_fd, &expirations, sizeof(expirations)) < 0 && errno != EAGAIN)
        return;
    w->sched_armed = 0;
    if (!w->stopping)
        rate_pump_spin(w, uv_hrtime(), 1);
}

/* Wakes the loop at `due` (uv_hrtime's clock is CLOCK_MONOTONIC). */
static void sched_at(struct worker *w, uint64_t due, uint64_t now)
{
    if (w->sched_fd >= 0) {
        due = due > SCHED_SPIN_NS ? due - SCHED_SPIN_NS : 1;
        if (w->sched_armed == due)
            return;
        struct itimerspec it;
        memset(&it, 0, sizeof(it));
        it.it_value.tv_sec = (time_t)(due / NS_S);
        it.it_value.tv_nsec = (long)(due % NS_S);
        if (timerfd_settime(w->sched_fd, TFD_TIMER_ABSTIME, &it, NULL) == 0) {
            w->sched_armed = due;
            return;
        }
    }
    uint64_t ms = (due - now + NS_MS - 1) / NS_MS;
    uv_timer_start(&w->sched_timer, on_sched_timer, ms, 0);
}

/* Sends the requests that are due. Called from the schedule's timer, which may
 * spin the last SCHED_SPIN_NS to the due time, and from the I/O callbacks
 * (a connection became free), which never spin. Each call sends what is due
 * now plus at most one spun-for request, and at most PUMP_BURST: then it goes
 * back to the loop, so answers that arrived meanwhile are read at once. (A pump
 * that spun from one due time to the next kept the loop from reading answers
 * until every connection was busy: above ~6,700 req/s a thread, each latency
 * grew by users x interval.) */
#define PUMP_BURST 64
static void rate_pump_spin(struct worker *w, uint64_t now, int may_spin)
{
    struct shared *sh = w->sh;
    uint64_t late_ok = run_missed_late_ns(w->interval_ns, sh->bound_us);
    if (w->draining)
        return;
    /* An early stop ends the schedule at stop_ns, as the normal end does at
     * end, even before this worker's wake-up drains it. */
    uint64_t end = sh->end;
    if (atomic_load_explicit(&sh->wake_drain, memory_order_acquire)) {
        uint64_t stop = atomic_load(&sh->stop_ns);
        if (stop < end)
            end = stop;
    }
    for (int sent = 0;; sent++) {
        uint64_t due = w->next_due;
        if (due >= end)
            return;
        if (due > now) {
            w->backlogged = 0; /* caught up with the schedule */
            if (!may_spin || sent > 0 || w->sched_fd < 0 || due - now > SCHED_SPIN_NS) {
                sched_at(w, due, now);
                return;
            }
            while (due > now) /* at most SCHED_SPIN_NS: see sched_at */
                now = uv_hrtime();
        } else if (sent >= PUMP_BURST) {
            sched_at(w, now, now); /* late: the rest after the loop's I/O */
            return;
        }
        struct user *u = NULL;
        while (w->fq_len && !u) {
            uint32_t id = w->freeq[w->fq_head];
            w->fq_head = (w->fq_head + 1) % (uint32_t)w->nusers;
            w->fq_len--;
            struct user *c = run__user_at(w, (int)id);
            c->in_freeq = 0;
            if (c->state == U_READY && c->inflight < sh->pipeline)
                u = c;
        }
        if (!u) {
            /* A backlog: every connection is busy (the server is slower than
             * the rate). The send waits in the schedule, the client-side
             * queue, charged from its intended time; the next free
             * connection pumps again. */
            w->backlogged = 1;
            return;
        }
        /* Late because no connection was free is the server's backlog, not
         * the engine missing its schedule: missed_schedule counts only sends
         * that were late with the pump caught up (a busy or descheduled
         * engine), which is what makes a probe inconclusive. */
        if (now - due > late_ok && run__in_window(w, now) && !w->backlogged)
            w->missed++;
        if (due >= sh->warm_end)
            w->offered++;
        w->next_due = due + run_arrival_gap_ns(sh->arrivals, w->rate_w, &w->arr_rng);
        if (w->next_due < due)
            w->next_due = UINT64_MAX; /* a gap past the clock's range: no more sends */
        run__user_send(u, 1, due, now, 0);
        if (u->state == U_READY && u->inflight < sh->pipeline)
            run__freeq_push(w, u, run__user_id(w, u));
    }
}

void run__rate_pump(struct worker *w, uint64_t now)
{
    rate_pump_spin(w, now, 0);
}

/* The schedule's first send: the even grid staggers the workers so their
 * sends interleave; Poisson arrivals start a gap after t0 (memoryless). */
void run__sched_init(struct worker *w)
{
    struct shared *sh = w->sh;
    if (sh->arrivals == RUN_ARRIVALS_UNIFORM)
        w->next_due = sh->t0 + w->sched_off;
    else
        w->next_due = sh->t0 + run_arrival_gap_ns(sh->arrivals, w->rate_w, &w->arr_rng);
}

/* The sends of the schedule from next_due up to (not including) t, walked
 * on a copy of the stream, at most `cap` of them. Calls fn for each (may be
 * NULL). Returns how many; *more set when the cap cut the walk short. */
static uint64_t sched_walk(struct worker *w, uint64_t t, uint64_t cap,
                           void (*fn)(struct worker *, uint64_t due, uint64_t t), int *more)
{
    uint64_t rng = w->arr_rng, due = w->next_due, n = 0;
    *more = 0;
    while (due < t) {
        if (n == cap) {
            *more = 1;
            break;
        }
        if (fn)
            fn(w, due, t);
        n++;
        uint64_t next = due + run_arrival_gap_ns(w->sh->arrivals, w->rate_w, &rng);
        if (next < due)
            break;
        due = next;
    }
    return n;
}

/* A send due at `due` and never sent by the phase's end `end`: part of what
 * was offered, and a latency sample from its intended time (it was waiting in
 * the client's queue for a free connection all that while). */
static void unsent_one(struct worker *w, uint64_t due, uint64_t end)
{
    if (due < w->sh->warm_end)
        return;
    uint64_t us = (end - due) / 1000;
    w->offered++;
    w->unsent++;
    run_hist_record(w->hist, us);
    w->samples++;
    if (w->sh->bound_us && us > w->sh->bound_us)
        w->over++;
}

/* Open loop, once at the phase's end (`end`: its normal end, the early stop,
 * or the cancel): the sends due in the window and never sent (unsent_due).
 * The walk is as long as the schedule left, at most its rate times its
 * length plus a margin no Poisson count reaches. Their samples go to the
 * window's histogram only: the per-second series counts requests. */
void run__account_unsent(struct worker *w, uint64_t end)
{
    struct shared *sh = w->sh;
    /* next_due 0: the schedule never started (a worker torn down unlaunched) */
    if (!sh->rate_mode || w->unsent_done || w->next_due == 0)
        return;
    w->unsent_done = 1;
    if (end > sh->end)
        end = sh->end;
    if (end <= sh->warm_end || w->next_due >= end)
        return;
    double expect = w->rate_w * (double)(end - w->next_due) / 1e9;
    uint64_t cap = (uint64_t)(expect + 10 * sqrt(expect) + 1000);
    int more;
    sched_walk(w, end, cap, unsent_one, &more);
}

/* The backlog of the open-loop schedule now: sends due and not sent (they wait
 * for a free connection). Exact up to a cap, then estimated from the rate. */
#define BACKLOG_WALK_MAX 100000
uint64_t run__sched_backlog(struct worker *w, uint64_t now)
{
    if (!w->sh->rate_mode || w->draining || w->stopping)
        return 0;
    uint64_t t = now < w->sh->end ? now + 1 : w->sh->end;
    int more;
    uint64_t n = sched_walk(w, t, BACKLOG_WALK_MAX, NULL, &more);
    if (more) {
        uint64_t est = (uint64_t)(w->rate_w * (double)(t - w->next_due) / 1e9);
        if (est > n)
            n = est;
    }
    return n;
}
