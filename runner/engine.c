/* engine.c - the load engine: one libuv loop per thread, each user one keep-alive
 * TCP connection with a pre-built request, closed loop with think times (Locust's
 * user model) or open loop at a rate (Poisson or evenly spaced arrivals) with
 * latency from the intended send time (wrk2). Latency counts every request:
 * failures at the time they took to fail, open-loop sends never sent from their
 * intended time. A coordinator thread polls cancel, reports progress and asks
 * early_stop. */
#include "runner.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "hist_int.h"
#include "http.h"

#ifndef IP_BIND_ADDRESS_NO_PORT /* linux/in.h has it, glibc's netinet/in.h not always */
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

#define READ_BUF_SIZE (64 * 1024)
#define NOFILE_SLACK 64
#define MAX_PIPELINE MF_MAX_PIPELINE
#define NS_MS UINT64_C(1000000)
#define NS_S UINT64_C(1000000000)
/* Open loop: a send counts in missed_schedule when it leaves more than
 * max(MISSED_MIN_NS, 10% of the per-thread interval) after its intended time.
 * The floor is 2 ms because libuv timers have 1 ms granularity: a send batched
 * on the next millisecond tick is on time. */
#define MISSED_MIN_NS (2 * NS_MS)
/* Open loop with the timerfd: it fires this early and the rest is a busy wait,
 * so a wake-up from an idle CPU (tens of us in a VM) is not added to latency. */
#define SCHED_SPIN_NS (150 * UINT64_C(1000))

enum { U_OFF, U_CONNECTING, U_READY, U_CLOSING };
enum { TK_NONE, TK_THINK, TK_TIMEOUT, TK_RECONNECT };

struct worker;

/* A user owns its socket: libuv's poll handle says when it is ready, and the
 * engine calls send and recv itself. Against a loopback server the client's
 * CPU goes mostly to the kernel, so the path per request is kept to one send,
 * one recv and a share of one epoll_wait: no VFS read/write layer, no write
 * request, no epoll_ctl while the connection is healthy. */
struct user {
    uv_poll_t poll;
    struct worker *w;
    /* The user's one timer (think, timeout, reconnect: timer_kind), in the
     * worker's heap: due on the loop's millisecond clock, hpos its place + 1
     * (0: not armed). A uv_timer_t per user cost 152 bytes (issue 20: an
     * idle user stays under 1 KiB with everything the engine holds for it). */
    uint64_t due;
    uint32_t hpos;
    struct http_resp parser;
    int fd;
    uint32_t woff, wend; /* write_busy: bytes [woff, wend) of shared.req are unsent */
    uint8_t state, timer_kind;
    uint8_t started, write_busy, want_send, in_freeq, retry_after_close;
    /* kept: this connection has had an answer (it is a kept-alive one).
     * sent_idle: the requests in flight went out at once on a kept-alive
     * connection that had nothing in flight, so an EOF or reset before any
     * byte of their answer is the server's idle close crossing them: they
     * are resent once on a fresh connection (user_dropped). */
    uint8_t kept, sent_idle;
    uint8_t retrying; /* closed loop: the batch waiting for a connection is a resend */
    uint16_t inflight, head, wq;
    uint16_t fails_row;
    uint64_t want_ns;     /* latency start of the batch waiting for a connection */
    uint64_t pace_target; /* pacing: intended time of the last send */
    uint64_t rng;         /* this user's think times: replayed for the offered load */
    uint64_t born_ns;     /* when the user started (its first send, closed loop) */
    uint64_t ts[];        /* per slot of the pipeline ring: latency start, actual send */
};

struct shared {
    const struct run_opts *o;
    struct sockaddr_storage addr;
    char *req; /* pipeline copies of the request, back to back */
    size_t req_len;
    struct http_cfg hcfg;
    uint64_t t0, warm_end, end;
    uint64_t timeout_ns;
    uint64_t seed; /* o->seed, or the clock's when that is 0 */
    int pipeline, nsec, rate_mode, nworkers;
    enum run_arrivals arrivals;
    uint64_t bound_us; /* 0 = none */
    /* The users' source addresses (user i binds src[i % nsrc] with port 0,
     * then connects: IP_BIND_ADDRESS_NO_PORT leaves the port to connect, so
     * each address has the whole ephemeral range towards the target);
     * nsrc 0: no bind, the kernel's one address. */
    struct sockaddr_storage *src;
    int nsrc;
    /* Set by the coordinator before it wakes the workers: wake_drain ends the
     * phase like its normal end, at stop_ns (early stop); wake_stop ends it at
     * once (cancel, or a failed launch). */
    atomic_int wake_drain, wake_stop;
    _Atomic uint64_t stop_ns;
};

struct sec_slot {
    uint64_t requests, failures, ok;
    uint64_t win_samples, over_bound, backlog; /* the window so far, the backlog now */
    int users;
    uint32_t nb;
    uint32_t (*b)[2]; /* sparse histogram: bucket index, count */
};

struct worker {
    uv_loop_t loop;
    uv_timer_t stop_timer, tick_timer, spawn_timer, sched_timer;
    /* The users' timers: a binary min-heap of user indexes by due, and one
     * libuv timer at its top (armed for tarmed, UINT64_MAX when not).
     * tfloor: while due timers run, a timer armed for now or earlier is
     * due at tfloor (the next pass), as libuv runs a 0 ms timer started
     * from a timer callback on the loop's next turn. */
    uv_timer_t user_timer;
    uint32_t *theap, tn;
    uint64_t tarmed, tfloor;
    uv_async_t wake;
    /* Open loop: libuv timers have 1 ms granularity, and latency counts from the
     * intended send time, so a send up to 1 ms late would add up to 1 ms to every
     * sample. A timerfd at an absolute time wakes the loop to the microsecond.
     * sched_fd < 0: fall back to sched_timer. */
    uv_poll_t sched_poll;
    int sched_fd;
    uint64_t sched_armed;
    struct shared *sh;
    int idx, pin;
    cpu_set_t cpuset;
    pthread_t th;
    char *users; /* nusers * ustride bytes */
    size_t ustride;
    int nusers, started;
    uint64_t rng;  /* backoff draws after failures; users draw thinks from their own */
    uint64_t seed; /* users' think streams derive from it (see user_seed) */
    int stopping;
    /* The phase's time is up: no new requests; the ones outstanding are
     * waited for up to the request timeout (see worker_drain). */
    int draining;
    uint64_t outstanding; /* requests sent and not yet answered or failed */
    uint64_t in_flight;   /* outstanding when the phase's time ran out */
    uint64_t ok_drain;    /* answered while draining: in requests, not in rps */
    uint64_t pending;     /* users whose batch waits for a connection (want_send) */
    atomic_int finished;
    int loop_close_rc;
    /* the measured window */
    uint64_t ok, fails[FAIL__COUNT], bytes, reconnects, missed;
    int backlogged; /* open loop: sends wait for a free connection until the pump catches up */
    uint64_t sent, samples, over;
    /* the whole phase, warm-up and drain included: connects refused, reset
     * or timed out (the client's own limits too), and idle-close resends */
    uint64_t conn_fails, retries;
    int ubase; /* the phase-wide index of this worker's first user */
    struct run_hist *hist;
    /* sockets connected now and at most (the whole phase) */
    uint64_t conns, conns_max;
    /* the current second */
    struct run_hist *sec_hist;
    uint64_t sec_req, sec_fail, sec_ok;
    int cur_sec;
    struct sec_slot *slots;
    atomic_int secs_done;
    /* spawn */
    double spawn_rate;
    /* open loop: this worker's schedule is next_due, then gaps drawn from
     * arr_rng (seeded from the phase seed and idx, so a seed replays it) at
     * rate_w; interval_ns is the mean gap. offered: sends intended in the
     * window; unsent: those still due at the phase's end (account_unsent). */
    uint64_t interval_ns, sched_off, next_due, arr_rng;
    double rate_w;
    uint64_t offered, unsent;
    int unsent_done;
    uint32_t *freeq;
    uint32_t fq_head, fq_len;
    /* the responses completed by one read, scored once the read is parsed */
    uint8_t done[MAX_PIPELINE];
    char rbuf[READ_BUF_SIZE];
};

static struct user *user_at(struct worker *w, int i)
{
    return (struct user *)(void *)(w->users + (size_t)i * w->ustride);
}

static uint64_t rng_next(uint64_t *s)
{
    /* splitmix64 */
    uint64_t z = (*s += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

void run_opts_init(struct run_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->users = 1;
    o->spawn_rate = 0;
    o->duration_ms = 10000;
    o->think = RUN_THINK_NONE;
    o->pipeline = 1;
    o->threads = 1;
    o->timeout_ms = 10000;
    o->expect_length = -1;
    o->arrivals = RUN_ARRIVALS_POISSON;
}

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
    double u = (double)((rng_next(rng) >> 11) + 1) * 0x1p-53;
    double g = -log(u) * mean + 0.5;
    return g < 1.8e19 ? (uint64_t)g : UINT64_MAX;
}

/* ---- counting ---- */

static int in_window(const struct worker *w, uint64_t now)
{
    return now >= w->sh->warm_end;
}

static void count_fail(struct worker *w, enum fail_kind k, uint64_t n, uint64_t now)
{
    if (k != FAIL_CLIENT) {
        w->sec_req += n;
        w->sec_fail += n;
    }
    if (in_window(w, now))
        w->fails[k] += n;
}

/* One latency sample of a request that ended at now: in that second's
 * histogram, and in the window's with the bound's count. over: over the bound
 * whatever its time (a timeout is, even under a bound longer than the timeout). */
static void sample(struct worker *w, uint64_t lat_ns, int over, uint64_t now)
{
    uint64_t us = lat_ns / 1000;
    run_hist_record(w->sec_hist, us);
    if (!in_window(w, now))
        return;
    run_hist_record(w->hist, us);
    w->samples++;
    if (w->sh->bound_us && (over || us > w->sh->bound_us))
        w->over++;
}

static void count_response(struct worker *w, int ok, enum fail_kind k, uint64_t lat_ns,
                           uint64_t now)
{
    w->sec_req++;
    sample(w, lat_ns, 0, now);
    if (ok)
        w->sec_ok++;
    else
        w->sec_fail++;
    if (!in_window(w, now))
        return;
    if (ok)
        w->ok++;
    else
        w->fails[k]++;
}

/* The latency samples of the requests a failure ends, at the time they took
 * to fail: those in flight from their latency start, a closed-loop batch
 * still waiting for its connection from when it was wanted. An open-loop
 * connection that failed with no request on it has no sample (nothing was
 * asked). FAIL_CLIENT has none either: the request never reached the server,
 * so its time says nothing about the server; such a phase is client-bound and
 * judged inconclusive, not slow. */
static void fail_samples(struct user *u, enum fail_kind k, uint64_t now)
{
    struct worker *w = u->w;
    if (k == FAIL_CLIENT)
        return;
    int over = k == FAIL_TIMEOUT;
    if (u->inflight) {
        for (int i = 0; i < u->inflight; i++) {
            uint64_t t = u->ts[2 * ((u->head + i) % w->sh->pipeline)];
            sample(w, now > t ? now - t : 0, over, now);
        }
    } else if (u->want_send) {
        sample(w, now > u->want_ns ? now - u->want_ns : 0, over, now);
    }
}

static enum fail_kind connect_kind(int status)
{
    switch (status) {
    case UV_EMFILE:
    case UV_ENFILE:
    case UV_EADDRNOTAVAIL:
    case UV_ENOBUFS:
    case UV_ENOMEM:
        return FAIL_CLIENT;
    default:
        return FAIL_CONNECT;
    }
}

/* ---- timers ---- */

static void on_user_timer(struct user *u);
static void on_users_timer(uv_timer_t *t);
static uint32_t user_id(struct worker *w, struct user *u);

static uint64_t theap_due(struct worker *w, uint32_t i)
{
    return user_at(w, (int)w->theap[i])->due;
}

static void theap_set(struct worker *w, uint32_t i, uint32_t id)
{
    w->theap[i] = id;
    user_at(w, (int)id)->hpos = i + 1;
}

static void theap_up(struct worker *w, uint32_t i)
{
    uint32_t id = w->theap[i];
    uint64_t due = user_at(w, (int)id)->due;
    while (i > 0) {
        uint32_t p = (i - 1) / 2;
        if (theap_due(w, p) <= due)
            break;
        theap_set(w, i, w->theap[p]);
        i = p;
    }
    theap_set(w, i, id);
}

static void theap_down(struct worker *w, uint32_t i)
{
    uint32_t id = w->theap[i];
    uint64_t due = user_at(w, (int)id)->due;
    for (;;) {
        uint32_t c = 2 * i + 1;
        if (c >= w->tn)
            break;
        if (c + 1 < w->tn && theap_due(w, c + 1) < theap_due(w, c))
            c++;
        if (theap_due(w, c) >= due)
            break;
        theap_set(w, i, w->theap[c]);
        i = c;
    }
    theap_set(w, i, id);
}

static void theap_remove(struct worker *w, struct user *u)
{
    uint32_t i = u->hpos - 1;
    u->hpos = 0;
    if (--w->tn == i)
        return;
    theap_set(w, i, w->theap[w->tn]);
    theap_down(w, i);
    theap_up(w, i);
}

/* The libuv timer at the heap's top, when that is earlier than it is armed
 * for (a removed top leaves it early: it finds nothing due and re-arms). */
static void theap_sync(struct worker *w)
{
    if (w->tn == 0 || w->tfloor)
        return; /* on_users_timer arms it when it is done */
    uint64_t due = theap_due(w, 0);
    if (due >= w->tarmed)
        return;
    uint64_t now = uv_now(&w->loop);
    w->tarmed = due;
    uv_timer_start(&w->user_timer, on_users_timer, due > now ? due - now : 0, 0);
}

/* Runs the users' timers that are due, as libuv ran their own. */
static void on_users_timer(uv_timer_t *t)
{
    struct worker *w = t->data;
    w->tarmed = UINT64_MAX;
    if (w->stopping)
        return;
    uint64_t now = uv_now(&w->loop);
    w->tfloor = now + 1;
    while (w->tn && theap_due(w, 0) <= now && !w->stopping) {
        struct user *u = user_at(w, (int)w->theap[0]);
        theap_remove(w, u);
        on_user_timer(u);
    }
    w->tfloor = 0;
    if (!w->stopping)
        theap_sync(w);
}

static void arm(struct user *u, int kind, uint64_t deadline, uint64_t now, int round_up)
{
    struct worker *w = u->w;
    uint64_t d = deadline > now ? deadline - now : 0;
    uint64_t ms = round_up ? (d + NS_MS - 1) / NS_MS : (d + NS_MS / 2) / NS_MS;
    uint64_t due = uv_now(&w->loop) + ms;
    if (due < w->tfloor)
        due = w->tfloor;
    u->timer_kind = (uint8_t)kind;
    if (u->hpos) {
        uint64_t old = u->due;
        u->due = due;
        if (due < old)
            theap_up(w, u->hpos - 1);
        else
            theap_down(w, u->hpos - 1);
    } else {
        u->due = due;
        theap_set(w, w->tn++, user_id(w, u));
        theap_up(w, w->tn - 1);
    }
    theap_sync(w);
}

static void disarm(struct user *u)
{
    u->timer_kind = TK_NONE;
    if (u->hpos)
        theap_remove(u->w, u);
}

static uint64_t backoff_ns(const struct user *u)
{
    if (u->fails_row == 0)
        return 0;
    unsigned sh = u->fails_row > 7 ? 7 : u->fails_row - 1;
    uint64_t ms = UINT64_C(10) << sh; /* 10 ms .. 1.28 s */
    if (ms > 1000)
        ms = 1000;
    return ms * NS_MS;
}

/* One think time drawn from the stream *rng. A user's thinks after its
 * responses come from its own stream, so the schedule it would have kept
 * against an instant server can be replayed at the end (run_offered_requests). */
static uint64_t think_draw(const struct run_opts *o, uint64_t *rng)
{
    switch (o->think) {
    case RUN_THINK_BETWEEN: {
        uint64_t lo = (uint64_t)o->think_min_ms * NS_MS, hi = (uint64_t)o->think_max_ms * NS_MS;
        if (hi <= lo)
            return lo;
        return lo + rng_next(rng) % (hi - lo + 1);
    }
    case RUN_THINK_CONSTANT:
    case RUN_THINK_PACING:
        return (uint64_t)o->think_min_ms * NS_MS;
    default:
        return 0;
    }
}

/* The start of user i's think stream in worker w: depends only on the seed
 * and the user's place, so the replay needs nothing stored per user. */
static uint64_t user_seed(const struct worker *w, int i)
{
    uint64_t s = w->seed ^ (((uint64_t)(uint32_t)w->idx << 32) | (uint32_t)i);
    return rng_next(&s);
}

/* ---- connections ---- */

static void user_connect(struct user *u, uint64_t now);
static void user_go(struct user *u, uint64_t now);
static void user_dropped(struct user *u, uint64_t now);
static void rate_pump(struct worker *w, uint64_t now);
static void rate_pump_spin(struct worker *w, uint64_t now, int may_spin);

static void freeq_push(struct worker *w, struct user *u, uint32_t id)
{
    if (u->in_freeq || w->fq_len >= (uint32_t)w->nusers)
        return;
    w->freeq[(w->fq_head + w->fq_len) % (uint32_t)w->nusers] = id;
    w->fq_len++;
    u->in_freeq = 1;
}

/* A batch waits for a connection (want_send): counted in the worker's pending
 * so a draining phase knows when nothing it sent is left unanswered. */
static void want_set(struct user *u, int on, uint64_t now)
{
    if (on && !u->want_send) {
        u->w->pending++;
        u->want_ns = now;
    } else if (!on && u->want_send) {
        u->w->pending--;
    }
    u->want_send = (uint8_t)(on != 0);
}

static void drain_check(struct worker *w);

static uint32_t user_id(struct worker *w, struct user *u)
{
    return (uint32_t)(((char *)u - w->users) / (ptrdiff_t)w->ustride);
}

static void on_sock_close(uv_handle_t *h)
{
    struct user *u = h->data;
    struct worker *w = u->w;
    if (u->fd >= 0)
        close(u->fd);
    u->fd = -1;
    u->state = U_OFF;
    /* While draining only a resend (user_dropped) reconnects: its request
     * was asked for before the end. */
    if (w->stopping || (w->draining && !u->want_send))
        return;
    uint64_t now = uv_hrtime();
    if (w->sh->rate_mode) {
        if (u->retry_after_close && !u->want_send)
            arm(u, TK_RECONNECT, now + backoff_ns(u), now, 1);
        else
            user_connect(u, now);
    } else if (u->want_send) {
        user_connect(u, now);
    }
}

static void user_close(struct user *u, int retry)
{
    if (u->state == U_OFF || u->state == U_CLOSING)
        return;
    if (u->state == U_READY)
        u->w->conns--;
    u->state = U_CLOSING;
    u->retry_after_close = (uint8_t)retry;
    u->w->outstanding -= u->inflight;
    u->inflight = 0;
    u->wq = 0;
    u->write_busy = 0;
    http_resp_reset(&u->parser);
    uv_close((uv_handle_t *)&u->poll, on_sock_close);
}

/* The server closed a healthy connection (idle close, Connection: close). */
static void user_recycle(struct user *u, uint64_t now)
{
    if (in_window(u->w, now))
        u->w->reconnects++;
    user_close(u, 0);
}

/* A request (or the connection under it) failed: count, close, retry after the
 * think time plus a backoff that grows while failures repeat. */
static void user_fail(struct user *u, enum fail_kind k, uint64_t now)
{
    struct worker *w = u->w;
    uint64_t n = u->inflight ? u->inflight : 1;
    count_fail(w, k, n, now);
    fail_samples(u, k, now);
    if (u->fails_row < UINT16_MAX)
        u->fails_row++;
    want_set(u, 0, now);
    u->retrying = 0;
    disarm(u);
    if (u->state == U_OFF) {
        /* No handle to close (see connect_failed_early): the open loop's
         * reconnect, which on_sock_close would arm, is armed here. */
        if (w->sh->rate_mode && !w->draining)
            arm(u, TK_RECONNECT, now + backoff_ns(u), now, 1);
    } else {
        user_close(u, 1);
    }
    if (w->draining) {
        drain_check(w);
        return;
    }
    if (!w->sh->rate_mode) {
        /* The worker's stream, not the user's: an instant server never fails,
         * so the replayed schedule has no such draw. */
        uint64_t t = think_draw(w->sh->o, &w->rng);
        uint64_t d = t + backoff_ns(u);
        if (w->sh->o->think == RUN_THINK_PACING)
            u->pace_target = now + d - t; /* next send at now + d */
        arm(u, TK_THINK, now + d, now, 0);
    }
}

/* Sends bytes [woff, wend) of the shared request buffer. Returns the bytes
 * sent (0 when the socket buffer is full) or -1 after failing the user. */
static ssize_t user_send_bytes(struct user *u, size_t woff, size_t wend)
{
    ssize_t n;
    do
        n = send(u->fd, u->w->sh->req + woff, wend - woff, MSG_DONTWAIT | MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    if (n >= 0)
        return n;
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)
        return 0;
    user_dropped(u, uv_hrtime());
    return -1;
}

static void on_poll(uv_poll_t *p, int status, int events);

/* Writes the queued requests. A request is far smaller than the socket buffer,
 * so it almost always leaves at once; what does not fit waits for POLLOUT. */
static void user_flush(struct user *u)
{
    size_t len = u->w->sh->req_len * u->wq;
    u->wq = 0;
    ssize_t n = user_send_bytes(u, 0, len);
    if (n < 0 || (size_t)n == len)
        return;
    u->write_busy = 1;
    u->woff = (uint32_t)n;
    u->wend = (uint32_t)len;
    uv_poll_start(&u->poll, UV_READABLE | UV_WRITABLE, on_poll);
}

/* POLLOUT while write_busy: the rest of the batch, then the requests queued
 * behind it. */
static void user_writable(struct user *u)
{
    ssize_t n = user_send_bytes(u, u->woff, u->wend);
    if (n < 0)
        return;
    u->woff += (uint32_t)n;
    if (u->woff < u->wend)
        return;
    u->write_busy = 0;
    uv_poll_start(&u->poll, UV_READABLE, on_poll);
    if (u->wq)
        user_flush(u);
}

/* Puts n requests on the wire; latency counts from lat_start. resend: they
 * were sent before (user_dropped), so they are not counted in `sent` again. */
static void user_send(struct user *u, int n, uint64_t lat_start, uint64_t now, int resend)
{
    struct worker *w = u->w;
    int p = w->sh->pipeline;
    u->sent_idle = (uint8_t)(u->kept && u->inflight == 0);
    for (int i = 0; i < n; i++) {
        int slot = (u->head + u->inflight) % p;
        u->ts[2 * slot] = lat_start;
        u->ts[2 * slot + 1] = now;
        u->inflight++;
    }
    w->outstanding += (uint64_t)n;
    if (in_window(w, now) && !resend)
        w->sent += (uint64_t)n;
    u->wq = (uint16_t)(u->wq + n);
    /* The timeout timer is lazy: one armed for an earlier request fires early,
     * and on_user_timer re-arms it for the request in flight then. This keeps
     * timer heap operations off the per-request path. */
    if (u->timer_kind != TK_TIMEOUT)
        arm(u, TK_TIMEOUT, u->ts[2 * u->head + 1] + w->sh->timeout_ns, now, 1);
    if (!u->write_busy)
        user_flush(u);
}

/* A connect failed: FAIL_CONNECT (the server's), or the client's own limit.
 * Either counts in connect_failures, over the whole phase: the ramp is in the
 * warm-up, and a server that refuses connections while they arrive must not
 * pass because the window began after them. */
static void connect_fail(struct user *u, enum fail_kind k, uint64_t now)
{
    u->w->conn_fails++;
    user_fail(u, k, now);
}

/* The non-blocking connect finished (POLLOUT, or an error). */
static void user_connected(struct user *u)
{
    struct worker *w = u->w;
    uint64_t now = uv_hrtime();
    int err = 0;
    socklen_t len = sizeof(err);
    if (getsockopt(u->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
        err = errno;
    if (err) {
        connect_fail(u, connect_kind(-err), now);
        return;
    }
    u->state = U_READY;
    if (++w->conns > w->conns_max)
        w->conns_max = w->conns;
    int rc = uv_poll_start(&u->poll, UV_READABLE, on_poll);
    if (rc < 0) {
        user_fail(u, FAIL_CLIENT, now);
        return;
    }
    disarm(u);
    if (w->sh->rate_mode) {
        if (u->want_send) {
            /* A resend after an idle close (user_dropped): one request,
             * also while draining, its latency from its intended time. */
            uint64_t t = u->want_ns;
            want_set(u, 0, now);
            user_send(u, 1, t, now, 1);
            if (u->state != U_READY)
                return;
        }
        if (w->draining)
            return;
        if (u->inflight < w->sh->pipeline)
            freeq_push(w, u, user_id(w, u));
        rate_pump(w, now);
    } else if (u->want_send) {
        /* Also while draining: the batch was asked for before the end, its
         * latency counts from then. A resend (u->retrying) is not counted as
         * sent again. */
        uint64_t t = u->want_ns;
        int resend = u->retrying;
        u->retrying = 0;
        want_set(u, 0, now);
        user_send(u, w->sh->pipeline, t, now, resend);
    }
}

/* No socket or no poll handle (EMFILE, ENFILE, ENOBUFS: the client's own
 * limits): no handle to close; user_fail counts it and arms the retry. */
static void connect_failed_early(struct user *u, enum fail_kind k, uint64_t now)
{
    u->state = U_OFF;
    connect_fail(u, k, now);
}

static void user_connect(struct user *u, uint64_t now)
{
    struct worker *w = u->w;
    const struct sockaddr *sa = (const struct sockaddr *)&w->sh->addr;
    socklen_t salen =
        sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
    u->in_freeq = 0;
    u->write_busy = 0;
    u->kept = 0;
    u->sent_idle = 0;
    http_resp_reset(&u->parser);
    int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        connect_failed_early(u, connect_kind(-errno), now);
        return;
    }
    int one = 1;
    if (w->sh->nsrc) {
        /* The port is left to connect(), which picks one free for this
         * 4-tuple: each source address has the whole ephemeral range. */
        const struct sockaddr_storage *src =
            &w->sh->src[(uint32_t)(w->ubase + (int)user_id(w, u)) % (uint32_t)w->sh->nsrc];
        setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
        if (bind(fd, (const struct sockaddr *)src, salen) < 0) {
            close(fd); /* checked at the start: only the client's own limits */
            connect_failed_early(u, FAIL_CLIENT, now);
            return;
        }
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (w->sh->o->sndbuf > 0)
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &w->sh->o->sndbuf, sizeof(w->sh->o->sndbuf));
    int rc = uv_poll_init_socket(&w->loop, &u->poll, fd);
    if (rc < 0) {
        close(fd);
        connect_failed_early(u, FAIL_CLIENT, now);
        return;
    }
    u->fd = fd;
    u->poll.data = u;
    u->state = U_CONNECTING;
    rc = 0;
    if (connect(fd, sa, salen) < 0 && errno != EINPROGRESS)
        rc = -errno;
    if (rc == 0)
        rc = uv_poll_start(&u->poll, UV_WRITABLE, on_poll);
    if (rc < 0) {
        connect_fail(u, connect_kind(rc), now);
        return;
    }
    /* The connect timeout; in the closed loop it is the request's timeout. */
    uint64_t start = (!w->sh->rate_mode && u->want_send) ? u->want_ns : now;
    arm(u, TK_TIMEOUT, start + w->sh->timeout_ns, now, 1);
}

/* Closed loop: the user's next task, now. */
static void user_go(struct user *u, uint64_t now)
{
    struct worker *w = u->w;
    if (u->timer_kind == TK_THINK)
        disarm(u); /* a lazy timeout stays (see user_send) */
    if (w->draining)
        return; /* the phase's time is up: no new requests */
    switch (u->state) {
    case U_READY:
        user_send(u, w->sh->pipeline, now, now, 0);
        break;
    case U_OFF:
        want_set(u, 1, now);
        user_connect(u, now);
        break;
    default: /* connecting or closing: the callback sends */
        want_set(u, 1, now);
        break;
    }
}

/* Closed loop: all answers of a batch are in; think, then go again. */
static void user_next(struct user *u, uint64_t now)
{
    struct worker *w = u->w;
    const struct run_opts *o = w->sh->o;
    if (o->think == RUN_THINK_NONE) {
        user_go(u, now);
        return;
    }
    if (o->think == RUN_THINK_PACING) {
        /* A grid from the previous intended send, so timer jitter does not drift. */
        uint64_t next = u->pace_target + (uint64_t)o->think_min_ms * NS_MS;
        if (next <= now) {
            u->pace_target = now;
            user_go(u, now);
        } else {
            u->pace_target = next;
            arm(u, TK_THINK, next, now, 0);
        }
        return;
    }
    arm(u, TK_THINK, now + think_draw(o, &u->rng), now, 0);
}

static void on_user_timer(struct user *u)
{
    struct worker *w = u->w;
    if (w->stopping)
        return;
    uint64_t now = uv_hrtime();
    int kind = u->timer_kind;
    u->timer_kind = TK_NONE;
    switch (kind) {
    case TK_THINK:
        user_go(u, now);
        break;
    case TK_RECONNECT:
        if (u->state == U_OFF && !w->draining)
            user_connect(u, now);
        break;
    case TK_TIMEOUT:
        if (u->state == U_CONNECTING)
            connect_fail(u, FAIL_CONNECT, now);
        else if (u->state == U_READY && u->inflight) {
            uint64_t deadline = u->ts[2 * u->head + 1] + w->sh->timeout_ns;
            if (now >= deadline)
                user_fail(u, FAIL_TIMEOUT, now); /* abort: close, count, reconnect */
            else
                arm(u, TK_TIMEOUT, deadline, now, 1); /* armed for an earlier request */
        }
        break;
    default:
        break;
    }
}

/* A complete response, as one byte: what scoring it needs once the parser has
 * moved on to the next one. */
enum { RESP_OK = 1, RESP_STATUS = 2, RESP_CLOSE = 4 };

static uint8_t resp_outcome(struct http_resp *r)
{
    uint8_t o = (uint8_t)((http_resp_ok(r) ? RESP_OK : 0) |
                          ((r->status < 200 || r->status >= 300) ? RESP_STATUS : 0) |
                          (r->conn_close ? RESP_CLOSE : 0));
    http_resp_reset(r);
    return o;
}

/* The answer to the oldest request in flight (outcome from resp_outcome).
 * Returns 0 to keep going, -1 when the connection was closed. */
static int user_response(struct user *u, uint8_t outcome, uint64_t now)
{
    struct worker *w = u->w;
    struct shared *sh = w->sh;
    int ok = outcome & RESP_OK;
    enum fail_kind k = (outcome & RESP_STATUS) ? FAIL_STATUS : FAIL_BODY;
    uint64_t lat_start = u->ts[2 * u->head];
    count_response(w, ok, k, now > lat_start ? now - lat_start : 0, now);
    if (ok && w->draining)
        w->ok_drain++;
    u->head = (uint16_t)((u->head + 1) % sh->pipeline);
    u->inflight--;
    w->outstanding--;
    u->kept = 1;
    u->sent_idle = 0;
    int close = (outcome & RESP_CLOSE) != 0;
    u->fails_row = 0;
    if (close) {
        if (u->inflight) {
            user_fail(u, FAIL_RESET, now); /* the rest will never be answered */
            return -1;
        }
        disarm(u);
        user_recycle(u, now);
    }
    /* Otherwise the timeout timer stays armed (lazy, see user_send): it is at or
     * before the next request's deadline, and finds nothing to do if idle. */
    if (sh->rate_mode) {
        if (u->state == U_READY && u->inflight < sh->pipeline)
            freeq_push(w, u, user_id(w, u));
        rate_pump(w, now);
    } else if (u->inflight == 0) {
        user_next(u, now);
    }
    if (w->draining)
        drain_check(w);
    return close ? -1 : 0;
}

/* The server closed or reset the connection with requests in flight, before
 * their answers. When they went out at once on a kept-alive connection that
 * had nothing in flight and no byte of their answer came, it is the server's
 * idle close crossing them on the wire: HTTP clients resend such a GET once
 * on a fresh connection (RFC 9112 section 9.3.1, as urllib3 does), and so does
 * the engine, latency still from the first send (counted in retries). A fresh
 * connection dropped before its first answer is a failed connect as well
 * (connect_failures): the server accepted it and would not serve it. */
static void user_dropped(struct user *u, uint64_t now)
{
    struct worker *w = u->w;
    if (u->sent_idle && !u->parser.started && u->inflight) {
        w->retries += u->inflight;
        uint64_t start = u->ts[2 * u->head];
        want_set(u, 1, now);
        u->want_ns = start;
        u->retrying = 1;
        user_close(u, 0); /* on_sock_close reconnects, user_connected resends */
        return;
    }
    if (!u->kept)
        w->conn_fails++;
    user_fail(u, FAIL_RESET, now);
}

/* nread bytes in buf, or UV_EOF, or a negative errno: the response stream. */
static void user_input(struct user *u, ssize_t nread, const char *buf)
{
    struct worker *w = u->w;
    uint64_t now = uv_hrtime();
    if (nread > 0) {
        if (in_window(w, now))
            w->bytes += (uint64_t)nread;
        size_t off = 0, n = (size_t)nread;
        /* Only requests sent before these bytes were read can be answered by
         * them: one sent while scoring them (the closed loop's next request)
         * cannot. Bytes while nothing is outstanding (before the first
         * request, or between answers) were asked by nobody. A read holding
         * more than the answers to the requests outstanding is from a server
         * that writes responses nobody asked for: none of them is an answer
         * (taking the first as one scored a server that answers no request
         * at all, issue 21), so the read is parsed whole before any is scored
         * and the outstanding requests fail with protocol. */
        uint32_t answerable = u->inflight, ndone = 0;
        int bad = 0, surplus = 0;
        if (answerable == 0) {
            user_fail(u, FAIL_PROTOCOL, now);
            return;
        }
        while (off < n) {
            if (ndone == answerable) {
                surplus = 1;
                break;
            }
            size_t used = 0;
            int rc = http_resp_parse(&u->parser, buf + off, n - off, &used);
            off += used;
            if (rc == HTTP_EPROTO) {
                bad = 1;
                break;
            }
            if (rc == HTTP_DONE) {
                uint8_t oc = resp_outcome(&u->parser);
                w->done[ndone++] = oc;
                if (oc & RESP_CLOSE)
                    break; /* the server closes: what follows is not read */
            }
        }
        if (surplus) {
            user_fail(u, FAIL_PROTOCOL, now);
            return;
        }
        for (uint32_t i = 0; i < ndone; i++)
            if (u->state != U_READY || u->inflight == 0 || user_response(u, w->done[i], now) < 0)
                return;
        if (bad && u->state == U_READY)
            user_fail(u, FAIL_PROTOCOL, now); /* after the answers before it */
        return;
    }
    if (nread == 0)
        return;
    if (nread == UV_EOF) {
        int rc = http_resp_eof(&u->parser);
        if (rc == HTTP_DONE && u->inflight) {
            if (user_response(u, resp_outcome(&u->parser), now) < 0)
                return;
        } else if (rc == HTTP_EPROTO) {
            user_fail(u, FAIL_RESET, now);
            return;
        }
        if (u->state != U_READY)
            return;
    }
    if (u->inflight) {
        user_dropped(u, now); /* reset, or EOF before the answer */
    } else {
        /* Idle: the server closed a kept-alive connection (its keep-alive
         * timeout, shorter than the think time). A thinking user's timer
         * stays: its next request reconnects (user_go). Stopping it left the
         * user with neither a connection nor a timer, silent for the rest of
         * the run. */
        if (u->timer_kind != TK_THINK)
            disarm(u);
        user_recycle(u, now);
    }
}

/* Reads until the socket is drained (a short read), at most 32 buffers per
 * wake-up so one busy connection cannot starve the others. */
static void user_readable(struct user *u)
{
    struct worker *w = u->w;
    for (int i = 0; i < 32 && u->state == U_READY && !w->stopping; i++) {
        ssize_t n = recv(u->fd, w->rbuf, READ_BUF_SIZE, 0);
        if (n > 0) {
            user_input(u, n, w->rbuf);
            if (n < READ_BUF_SIZE)
                return;
        } else if (n == 0) {
            user_input(u, UV_EOF, NULL);
            return;
        } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
            return;
        } else if (errno != EINTR) {
            user_input(u, -errno, NULL);
            return;
        }
    }
}

static void on_poll(uv_poll_t *p, int status, int events)
{
    struct user *u = p->data;
    if (u->w->stopping)
        return;
    if (u->state == U_CONNECTING) {
        user_connected(u); /* SO_ERROR tells success from the error */
        return;
    }
    if (u->state != U_READY)
        return;
    if (status < 0) {
        /* POLLERR: libuv stopped the handle. recv reports the socket's error
         * (ECONNRESET and the like), after any bytes still queued. */
        user_readable(u);
        if (u->state == U_READY)
            user_input(u, UV_ECONNRESET, NULL);
        return;
    }
    if ((events & UV_WRITABLE) && u->write_busy) {
        user_writable(u);
        if (u->state != U_READY)
            return;
    }
    if (events & (UV_READABLE | UV_DISCONNECT))
        user_readable(u);
}

/* ---- open loop ---- */

static void on_sched_timer(uv_timer_t *t)
{
    struct worker *w = t->data;
    if (!w->stopping)
        rate_pump_spin(w, uv_hrtime(), 1);
}

static void on_sched_poll(uv_poll_t *p, int status, int events)
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
    uint64_t late_ok = w->interval_ns / 10;
    if (late_ok < MISSED_MIN_NS)
        late_ok = MISSED_MIN_NS;
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
            struct user *c = user_at(w, (int)id);
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
        if (now - due > late_ok && in_window(w, now) && !w->backlogged)
            w->missed++;
        if (due >= sh->warm_end)
            w->offered++;
        w->next_due = due + run_arrival_gap_ns(sh->arrivals, w->rate_w, &w->arr_rng);
        if (w->next_due < due)
            w->next_due = UINT64_MAX; /* a gap past the clock's range: no more sends */
        user_send(u, 1, due, now, 0);
        if (u->state == U_READY && u->inflight < sh->pipeline)
            freeq_push(w, u, user_id(w, u));
    }
}

static void rate_pump(struct worker *w, uint64_t now)
{
    rate_pump_spin(w, now, 0);
}

/* The schedule's first send: the even grid staggers the workers so their
 * sends interleave; Poisson arrivals start a gap after t0 (memoryless). */
static void sched_init(struct worker *w)
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
static void account_unsent(struct worker *w, uint64_t end)
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
static uint64_t sched_backlog(struct worker *w, uint64_t now)
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

/* ---- spawn, seconds, stop ---- */

static void user_start(struct worker *w, struct user *u, uint64_t now)
{
    u->started = 1;
    u->born_ns = now;
    if (w->sh->rate_mode)
        user_connect(u, now);
    else {
        u->pace_target = now;
        user_go(u, now);
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
        user_start(w, user_at(w, w->started++), now);
    if (w->started < w->nusers && !w->stopping) {
        uint64_t next = w->sh->t0 + (uint64_t)((double)w->started / w->spawn_rate * 1e9);
        uint64_t ms = next > now ? (next - now + NS_MS - 1) / NS_MS : 0;
        uv_timer_start(&w->spawn_timer, on_spawn_timer, ms, 0);
    }
}

static void sec_finalize(struct worker *w)
{
    if (w->cur_sec >= w->sh->nsec)
        return;
    struct sec_slot *s = &w->slots[w->cur_sec];
    s->requests = w->sec_req;
    s->failures = w->sec_fail;
    s->ok = w->sec_ok;
    s->users = w->started;
    s->win_samples = w->samples;
    s->over_bound = w->over;
    s->backlog = w->outstanding + w->pending + sched_backlog(w, uv_hrtime());
    uint32_t nb = 0;
    for (size_t i = 0; i < RUN_HIST_NBUCKETS; i++)
        nb += run__hist_bucket(w->sec_hist, i) != 0;
    if (nb) {
        s->b = malloc(nb * sizeof(*s->b)); /* once a second, not per request */
        if (s->b) {
            uint32_t j = 0;
            for (size_t i = 0; i < RUN_HIST_NBUCKETS; i++) {
                uint64_t c = run__hist_bucket(w->sec_hist, i);
                if (c) {
                    s->b[j][0] = (uint32_t)i;
                    s->b[j][1] = c > UINT32_MAX ? UINT32_MAX : (uint32_t)c;
                    j++;
                }
            }
            s->nb = nb;
        }
    }
    run_hist_reset(w->sec_hist);
    w->sec_req = w->sec_fail = w->sec_ok = 0;
    w->cur_sec++;
    atomic_store_explicit(&w->secs_done, w->cur_sec, memory_order_release);
}

static void on_tick(uv_timer_t *t)
{
    struct worker *w = t->data;
    if (w->stopping)
        return;
    uint64_t now = uv_hrtime();
    if (w->cur_sec < w->sh->nsec - 1)
        sec_finalize(w);
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

static void worker_stop(struct worker *w)
{
    if (w->stopping)
        return;
    uint64_t now = uv_hrtime();
    if (!w->draining)
        account_unsent(w, now); /* cancelled: the phase ends now */
    w->stopping = 1;
    if (w->draining && w->outstanding + w->pending > 0) {
        /* Still unanswered a timeout after the phase's end (see worker_drain):
         * older than the request timeout, so they are timeouts, each in
         * latency at its age now. */
        count_fail(w, FAIL_TIMEOUT, w->outstanding + w->pending, now);
        for (int i = 0; i < w->started; i++) {
            struct user *u = user_at(w, i);
            if (u->state == U_READY || u->state == U_CONNECTING)
                fail_samples(u, FAIL_TIMEOUT, now);
            else if (u->want_send)
                sample(w, now > u->want_ns ? now - u->want_ns : 0, 1, now);
        }
        w->outstanding = w->pending = 0;
    }
    while (w->cur_sec < w->sh->nsec)
        sec_finalize(w);
    for (int i = 0; i < w->nusers; i++) {
        struct user *u = user_at(w, i);
        if (!u->started)
            continue;
        u->timer_kind = TK_NONE;
        u->hpos = 0;
        if (u->state == U_CONNECTING || u->state == U_READY) {
            u->state = U_CLOSING;
            uv_close((uv_handle_t *)&u->poll, on_sock_close);
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
    account_unsent(w, end);
    w->draining = 1;
    w->in_flight = w->outstanding + w->pending;
    uv_timer_stop(&w->spawn_timer);
    uv_timer_stop(&w->sched_timer);
    if (w->sched_fd >= 0)
        uv_poll_stop(&w->sched_poll);
    for (int i = 0; i < w->started; i++) {
        struct user *u = user_at(w, i);
        if (u->timer_kind == TK_THINK || u->timer_kind == TK_RECONNECT)
            disarm(u);
    }
    if (w->in_flight == 0) {
        worker_stop(w);
        return;
    }
    uint64_t ms = (w->sh->timeout_ns + NS_MS - 1) / NS_MS + 20;
    uv_timer_start(&w->stop_timer, on_stop_timer, ms, 0);
}

static void drain_check(struct worker *w)
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
        worker_stop(w);
}

/* The coordinator: end the phase now (cancel) or drain it as at its end
 * (early stop, at stop_ns). */
static void on_wake(uv_async_t *a)
{
    struct worker *w = a->data;
    struct shared *sh = w->sh;
    if (atomic_load(&sh->wake_stop) || !atomic_load(&sh->wake_drain)) {
        worker_stop(w);
    } else if (!w->draining && !w->stopping) {
        uv_timer_stop(&w->stop_timer);
        worker_drain(w, atomic_load(&sh->stop_ns));
    }
}

static void *worker_main(void *arg)
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
        sched_init(w);
        rate_pump(w, uv_hrtime());
    }
    uv_run(&w->loop, UV_RUN_DEFAULT);
    w->loop_close_rc = uv_loop_close(&w->loop);
    atomic_store(&w->finished, 1);
    return NULL;
}

/* ---- setup and the coordinator ---- */

int run_ensure_nofile(uint64_t needed, struct err *e)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return err_set(e, -errno, "getrlimit(RLIMIT_NOFILE): %s", strerror(errno));
    if (rl.rlim_cur == RLIM_INFINITY)
        return 0;
    /* As far as the hard limit allows, not just to `needed`: sockets still
     * closing, the loop's own descriptors and a caller's files share it. */
    rlim_t want = rl.rlim_max != RLIM_INFINITY ? rl.rlim_max : (rlim_t)needed;
    if (want > rl.rlim_cur) {
        struct rlimit nl = {want, rl.rlim_max};
        if (setrlimit(RLIMIT_NOFILE, &nl) == 0)
            rl.rlim_cur = want;
    }
    if (rl.rlim_cur >= needed)
        return 0;
    return err_set(e, -EMFILE,
                   "%llu file descriptors are needed but the hard limit is %llu: raise it "
                   "(ulimit -n %llu as root, LimitNOFILE=%llu in a systemd unit, or nofile in "
                   "/etc/security/limits.conf)",
                   (unsigned long long)needed, (unsigned long long)rl.rlim_max,
                   (unsigned long long)needed, (unsigned long long)needed);
}

/* http://host[:port][/path] -> address, Host header value, path. */
static int parse_url(const char *url, struct sockaddr_storage *addr, char *host_hdr, size_t hn,
                     char *path, size_t pn, struct err *e)
{
    if (!url || strncmp(url, "http://", 7) != 0)
        return err_set(e, -EINVAL, "%s: only http:// URLs are supported", url ? url : "(null)");
    const char *h = url + 7;
    const char *slash = strchr(h, '/');
    size_t hl = slash ? (size_t)(slash - h) : strlen(h);
    if (hl == 0 || hl >= hn)
        return err_set(e, -EINVAL, "%s: bad host", url);
    if (memchr(h, '@', hl)) /* never echoed: the URL holds a password */
        return err_set(e, -EINVAL,
                       "a URL with user information (user:password@host) is not "
                       "supported: no credentials are sent");
    memcpy(host_hdr, h, hl);
    host_hdr[hl] = 0;
    const char *p = slash ? slash : "/";
    if (strlen(p) >= pn)
        return err_set(e, -EINVAL, "%.64s...: the path is longer than %zu bytes", url, pn - 1);
    if (strpbrk(p, " \r\n"))
        return err_set(e, -EINVAL, "%s: bad path (a space or line break)", url);
    mf_strlcpy(path, p, pn);

    char name[256];
    const char *port = "80";
    if (host_hdr[0] == '[') {
        const char *end = strchr(host_hdr, ']');
        if (!end || (size_t)(end - host_hdr - 1) >= sizeof(name))
            return err_set(e, -EINVAL, "%s: bad IPv6 host", url);
        memcpy(name, host_hdr + 1, (size_t)(end - host_hdr - 1));
        name[end - host_hdr - 1] = 0;
        if (end[1] == ':')
            port = end + 2;
        else if (end[1])
            return err_set(e, -EINVAL, "%s: bad host", url);
    } else {
        const char *c = strrchr(host_hdr, ':');
        size_t nl = c ? (size_t)(c - host_hdr) : strlen(host_hdr);
        if (nl >= sizeof(name))
            return err_set(e, -EINVAL, "%s: bad host", url);
        memcpy(name, host_hdr, nl);
        name[nl] = 0;
        if (c)
            port = c + 1;
    }
    int64_t pv;
    if (parse_i64(port, 1, 65535, &pv) < 0)
        return err_set(e, -EINVAL, "%s: bad port", url);
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    int rc = getaddrinfo(name, port, &hints, &res);
    if (rc != 0 || !res)
        return err_set(e, -EHOSTUNREACH, "%s: cannot resolve %s: %s", url, name, gai_strerror(rc));
    memcpy(addr, res->ai_addr, res->ai_addrlen);
    freeaddrinfo(res);
    return 0;
}

/* "0", "0-3", "0,2,4-5" -> set (common's parser, the one config checks node.cpus and
 * load.cpus with); each CPU must be one this process may use. */
static int parse_cpus(const char *s, cpu_set_t *set, struct err *e)
{
    cpu_set_t allowed;
    char msg[160];
    if (mf_cpus_parse(s, set, msg, sizeof msg) < 0)
        return err_set(e, -EINVAL, "%s", msg);
    if (sched_getaffinity(0, sizeof(allowed), &allowed) != 0)
        return err_set(e, -errno, "sched_getaffinity: %s", strerror(errno));
    for (int c = 0; c < CPU_SETSIZE; c++)
        if (CPU_ISSET(c, set) && !CPU_ISSET(c, &allowed))
            return err_set(e, -EINVAL, "CPU %d of '%s' is not available to this process", c, s);
    return 0;
}

/* ---- the client's own limits, and the source addresses ---- */

/* The ephemeral port range of this network namespace: its size, or -1. */
static long port_range(void)
{
    long lo = 0, hi = 0;
    FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "re");
    if (!f)
        return -1;
    int got = fscanf(f, "%ld %ld", &lo, &hi);
    fclose(f);
    return got == 2 && lo > 0 && hi >= lo ? hi - lo + 1 : -1;
}

/* The first number of a /proc file, or -1. */
static long long proc_num(const char *path)
{
    long long v = -1;
    FILE *f = fopen(path, "re");
    if (!f)
        return -1;
    if (fscanf(f, "%lld", &v) != 1)
        v = -1;
    fclose(f);
    return v;
}

/* The number after `key` on the line of `file` starting with `prefix`, or -1:
 * "tw" of /proc/net/sockstat's TCP line, MemAvailable of /proc/meminfo. */
static long long proc_field(const char *file, const char *prefix, const char *key)
{
    char line[512];
    long long v = -1;
    FILE *f = fopen(file, "re");
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, prefix, strlen(prefix)) != 0)
            continue;
        const char *p = strstr(line, key);
        if (p) {
            char *end;
            long long x = strtoll(p + strlen(key), &end, 10);
            if (end != p + strlen(key))
                v = x;
        }
        break;
    }
    fclose(f);
    return v;
}

/* TIME_WAIT sockets of this network namespace. */
static uint64_t time_wait_count(void)
{
    long long tw = proc_field("/proc/net/sockstat", "TCP:", " tw ");
    return tw > 0 ? (uint64_t)tw : 0;
}

static int is_loopback_v4(const struct sockaddr_storage *a)
{
    return a->ss_family == AF_INET &&
           (ntohl(((const struct sockaddr_in *)(const void *)a)->sin_addr.s_addr) >> 24) == 127;
}

static int is_loopback(const struct sockaddr_storage *a)
{
    if (is_loopback_v4(a))
        return 1;
    if (a->ss_family != AF_INET6)
        return 0;
    const struct in6_addr *x = &((const struct sockaddr_in6 *)(const void *)a)->sin6_addr;
    return IN6_IS_ADDR_LOOPBACK(x) || (IN6_IS_ADDR_V4MAPPED(x) && x->s6_addr[12] == 127);
}

/* At most this many source addresses: 127.0.0.0/8 holds 2^24, a list in
 * load.source_addrs is typed by hand. */
#define SOURCES_MAX (1 << 20)

int run_source_count(int users, long ports, uint64_t tw)
{
    if (users < 1 || ports <= 0)
        return 1;
    uint64_t per = (uint64_t)ports - (uint64_t)ports / 4;
    if (per == 0)
        per = 1;
    uint64_t k = ((uint64_t)users + tw + per - 1) / per;
    return k < 1 ? 1 : k > SOURCES_MAX ? SOURCES_MAX : (int)k;
}

/* The comma- or space-separated addresses of list, each of the target's
 * family and each one this machine can bind (a source address it owns).
 * Fills *out (caller frees) and *n; with out NULL only counts them. */
static int sources_parse(const char *list, int family, struct sockaddr_storage **out, int *n,
                         struct err *e)
{
    static const char sep[] = ", \t";
    int cap = 0, k = 0, rc = 0;
    for (const char *p = list + strspn(list, sep); *p; p += strspn(p, sep)) {
        p += strcspn(p, sep);
        cap++;
    }
    *n = 0;
    if (cap == 0 || cap > 4096)
        return err_set(e, -EINVAL, "source addresses '%.80s': give 1 to 4096 of them", list);
    if (!out) {
        *n = cap;
        return 0;
    }
    struct sockaddr_storage *a = calloc((size_t)cap, sizeof(*a));
    if (!a)
        return err_set(e, -ENOMEM, "out of memory");
    for (const char *p = list + strspn(list, sep); *p && k < cap; p += strspn(p, sep)) {
        size_t l = strcspn(p, sep);
        char t[INET6_ADDRSTRLEN + 1];
        if (l >= sizeof(t)) {
            rc = err_set(e, -EINVAL, "source address '%.40s...': not an IP address", p);
            goto fail;
        }
        memcpy(t, p, l);
        t[l] = 0;
        p += l;
        struct sockaddr_storage *s = &a[k];
        socklen_t sl = sizeof(struct sockaddr_in6);
        if (inet_pton(AF_INET, t, &((struct sockaddr_in *)(void *)s)->sin_addr) == 1) {
            s->ss_family = AF_INET;
            sl = sizeof(struct sockaddr_in);
        } else if (inet_pton(AF_INET6, t, &((struct sockaddr_in6 *)(void *)s)->sin6_addr) == 1) {
            s->ss_family = AF_INET6;
        } else {
            rc = err_set(e, -EINVAL, "source address '%s': not an IPv4 or IPv6 address", t);
            goto fail;
        }
        if (s->ss_family != family) {
            rc = err_set(e, -EINVAL, "source address '%s': not of the target's family (IPv%d)", t,
                         family == AF_INET ? 4 : 6);
            goto fail;
        }
        int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
        if (fd < 0) {
            rc = err_set(e, -errno, "socket: %s", strerror(errno));
            goto fail;
        }
        setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
        int brc = bind(fd, (struct sockaddr *)s, sl), berr = errno;
        close(fd);
        if (brc < 0) {
            rc = err_set(e, -EINVAL,
                         "source address '%s': %s (it must be an address of this machine)", t,
                         strerror(berr));
            goto fail;
        }
        k++;
    }
    *out = a;
    *n = k;
    return 0;
fail:
    free(a);
    return rc;
}

/* The users' source addresses: o->source_addrs, or on an IPv4 loopback
 * target 127.0.0.1, 127.0.0.2, ... as many as run_source_count asks (none
 * when one does: the kernel picks 127.0.0.1 itself). *src is the caller's. */
static int sources_plan(const struct run_opts *o, const struct sockaddr_storage *target,
                        struct sockaddr_storage **src, int *nsrc, struct err *e)
{
    *src = NULL;
    *nsrc = 0;
    if (o->source_addrs && *o->source_addrs)
        return sources_parse(o->source_addrs, target->ss_family, src, nsrc, e);
    if (!is_loopback_v4(target))
        return 0;
    int k = run_source_count(o->users, port_range(), time_wait_count());
    if (k <= 1)
        return 0;
    struct sockaddr_storage *a = calloc((size_t)k, sizeof(*a));
    if (!a)
        return err_set(e, -ENOMEM, "out of memory");
    for (int i = 0; i < k; i++) {
        struct sockaddr_in *s = (struct sockaddr_in *)(void *)&a[i];
        s->sin_family = AF_INET;
        /* 127.0.0.1 .. 127.0.0.254, then 127.0.1.1 ...: no .0 or .255 */
        s->sin_addr.s_addr =
            htonl(UINT32_C(0x7f000000) | ((uint32_t)(i / 254) << 8) | (uint32_t)(i % 254 + 1));
    }
    *src = a;
    *nsrc = k;
    return 0;
}

struct limit_pick {
    const char *name;
    uint64_t cap;
    char why[384];
};

/* Keeps the limit that binds at the fewest users. */
static void limit_consider(struct limit_pick *b, int users, const char *name, uint64_t cap,
                           const char *fmt, ...) MF_PRINTF(5, 6);
static void limit_consider(struct limit_pick *b, int users, const char *name, uint64_t cap,
                           const char *fmt, ...)
{
    if (cap >= (uint64_t)users || (b->name && cap >= b->cap))
        return;
    b->name = name;
    b->cap = cap;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(b->why, sizeof(b->why), fmt, ap);
    va_end(ap);
}

const char *run_client_limit(int users, const struct run_opts *o, char *why, size_t n)
{
    struct limit_pick b = {NULL, 0, ""};
    if (why && n)
        why[0] = 0;
    if (users < 1)
        return NULL;
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_max != RLIM_INFINITY) {
        uint64_t cap = rl.rlim_max > NOFILE_SLACK ? (uint64_t)rl.rlim_max - NOFILE_SLACK : 0;
        limit_consider(&b, users, "client:descriptors", cap,
                       "%d users need %llu descriptors but the hard limit (RLIMIT_NOFILE) is "
                       "%llu: raise it (LimitNOFILE= in a systemd unit, nofile in "
                       "/etc/security/limits.conf, or ulimit -Hn as root)",
                       users, (unsigned long long)users + NOFILE_SLACK,
                       (unsigned long long)rl.rlim_max);
    }
    struct sockaddr_storage addr;
    char host[300], path[2048];
    struct err pe;
    err_clear(&pe);
    int have_addr =
        o && o->url && parse_url(o->url, &addr, host, sizeof host, path, sizeof path, &pe) == 0;
    int loop = have_addr && is_loopback(&addr);
    long ports = port_range();
    if (have_addr && ports > 0) {
        uint64_t tw = time_wait_count();
        long long reuse = proc_num("/proc/sys/net/ipv4/tcp_tw_reuse");
        /* TIME_WAIT holds its 4-tuple unless the kernel may reuse it for a
         * new connect: tcp_tw_reuse 1, or 2 (the default) on loopback. */
        uint64_t held = (reuse == 1 || (reuse == 2 && loop)) ? 0 : tw;
        int naddr = 1;
        struct err se;
        if (o->source_addrs && *o->source_addrs &&
            sources_parse(o->source_addrs, addr.ss_family, NULL, &naddr, &se) < 0)
            naddr = 1;
        int spread = !(o->source_addrs && *o->source_addrs) && is_loopback_v4(&addr);
        uint64_t total = (uint64_t)(spread ? SOURCES_MAX : naddr) * (uint64_t)ports;
        uint64_t cap = total > held ? total - held : 0;
        if (naddr == 1 && !spread)
            limit_consider(&b, users, "client:ports", cap,
                           "%d users need as many connections to %s from one source "
                           "address, whose ephemeral port range (net.ipv4.ip_local_port_range) "
                           "gives %ld ports (%llu held in TIME_WAIT): list more of this "
                           "machine's addresses in load.source_addrs, or widen the range",
                           users, host, ports, (unsigned long long)held);
        else
            limit_consider(&b, users, "client:ports", cap,
                           "%d users need as many connections to %s, and %d source addresses "
                           "x %ld ephemeral ports (net.ipv4.ip_local_port_range) less %llu in "
                           "TIME_WAIT give %llu: list more addresses in load.source_addrs",
                           users, host, spread ? SOURCES_MAX : naddr, ports,
                           (unsigned long long)held, (unsigned long long)cap);
    }
    long long ct_max = proc_num("/proc/sys/net/netfilter/nf_conntrack_max");
    if (ct_max > 0) {
        long long ct = proc_num("/proc/sys/net/netfilter/nf_conntrack_count");
        if (ct < 0)
            ct = 0;
        limit_consider(&b, users, "client:conntrack", ct_max > ct ? (uint64_t)(ct_max - ct) : 0,
                       "%d users need as many conntrack entries but nf_conntrack_max is %lld "
                       "with %lld in use: raise net.netfilter.nf_conntrack_max",
                       users, ct_max, ct);
    }
    long long avail_kb = proc_field("/proc/meminfo", "MemAvailable:", ":");
    if (avail_kb > 0) {
        uint64_t per = (uint64_t)RUN_USER_MEM_BYTES * (loop ? 2 : 1);
        limit_consider(&b, users, "client:memory", (uint64_t)avail_kb * 1024 / per,
                       "%d users need about %llu MiB (%llu KiB each%s) but %lld MiB are "
                       "available (MemAvailable)",
                       users, (unsigned long long)((uint64_t)users * per >> 20),
                       (unsigned long long)(per >> 10),
                       loop ? ", both ends of a loopback connection" : "", avail_kb >> 10);
    }
    if (b.name && why && n)
        mf_strlcpy(why, b.why, n);
    return b.name;
}

/* No think time: the users offer as much as any server takes. */
static int think_unbounded(const struct run_opts *o)
{
    return o->think == RUN_THINK_NONE ||
           (o->think == RUN_THINK_BETWEEN ? o->think_max_ms : o->think_min_ms) <= 0;
}

/* Replayed think draws over all users of a phase, at most: past it a user's
 * remaining sends are estimated from the mean think (only a phase of tens of
 * millions of sends at sub-millisecond thinks gets there). */
#define OFFERED_REPLAY_BUDGET (UINT64_C(50) * 1000 * 1000)

double run_offered_requests(const struct run_opts *o, uint64_t born_ns, uint64_t t0_ns,
                            uint64_t t1_ns, uint64_t rng, uint64_t *budget)
{
    if (born_ns >= t1_ns || think_unbounded(o))
        return 0;
    double per = o->pipeline > 1 ? (double)o->pipeline : 1.0;
    if (o->think == RUN_THINK_CONSTANT || o->think == RUN_THINK_PACING) {
        uint64_t T = (uint64_t)o->think_min_ms * NS_MS;
        uint64_t k0 = born_ns >= t0_ns ? 0 : (t0_ns - born_ns + T - 1) / T; /* first in window */
        uint64_t k1 = (t1_ns - born_ns + T - 1) / T;                        /* sends before t1 */
        return k1 > k0 ? (double)(k1 - k0) * per : 0;
    }
    uint64_t t = born_ns;
    double n = 0;
    while (t < t1_ns) {
        if (*budget == 0) {
            double mean = (double)(o->think_min_ms + o->think_max_ms) / 2.0 * (double)NS_MS;
            uint64_t from = t > t0_ns ? t : t0_ns;
            n += (double)(t1_ns - from) / mean;
            break;
        }
        (*budget)--;
        if (t >= t0_ns)
            n += 1;
        t += think_draw(o, &rng);
    }
    return n * per;
}

static double cpu_seconds(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return 0;
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static void worker_free(struct worker *w)
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
    free(w);
}

static int worker_new(struct shared *sh, int idx, int nusers, struct worker **out, struct err *e)
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
        worker_free(w);
        return err_set(e, -ENOMEM, "out of memory for %d users", nusers);
    }
    for (int i = 0; i < nusers; i++) {
        struct user *u = user_at(w, i);
        u->w = w;
        u->fd = -1;
        http_resp_init(&u->parser, &sh->hcfg);
    }
    uint64_t seed = sh->o->seed ? sh->o->seed : sh->seed;
    w->seed = seed;
    w->rng = seed + (uint64_t)idx * UINT64_C(0x9E3779B97F4A7C15);
    for (int i = 0; i < nusers; i++)
        user_at(w, i)->rng = user_seed(w, i);
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
        w->arr_rng = rng_next(&s);
    }
    if (w->interval_ns == 0)
        w->interval_ns = 1;
    /* Stagger the threads' schedules so their sends interleave. */
    w->sched_off = w->interval_ns * (uint64_t)idx / (uint64_t)sh->nworkers;
    int rc = uv_loop_init(&w->loop);
    if (rc < 0) {
        worker_free(w);
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
        worker_free(w);
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
            uv_poll_start(&w->sched_poll, UV_READABLE, on_sched_poll);
        }
    }
    *out = w;
    return 0;
}

static void merge_second(struct worker **ws, int nw, int s, struct run_hist *tmp,
                         struct run_series_point *pt, uint64_t *ok)
{
    run_hist_reset(tmp);
    memset(pt, 0, sizeof(*pt));
    *ok = 0;
    for (int i = 0; i < nw; i++) {
        struct sec_slot *sl = &ws[i]->slots[s];
        pt->requests += sl->requests;
        pt->failures += sl->failures;
        pt->users += sl->users;
        *ok += sl->ok;
        for (uint32_t j = 0; j < sl->nb; j++)
            run__hist_add_bucket(tmp, sl->b[j][0], sl->b[j][1]);
    }
    pt->p50_ms = run_hist_percentile(tmp, 50) / 1000.0;
    pt->p99_ms = run_hist_percentile(tmp, 99) / 1000.0;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

int run_phase(const struct run_opts *o, struct run_report *out, struct err *e)
{
    memset(out, 0, sizeof(*out));
    phase_result_init(&out->result);
    /* The limits of common.h, which the matrix and mfbench load check first: whatever
     * caller, no tiny spawn rate spins the spawn timer, no huge count reaches calloc. */
    if (o->users < 1 || o->users > MF_MAX_USERS || o->threads < 1 || o->pipeline < 1 ||
        o->pipeline > MAX_PIPELINE || o->duration_ms <= 0 || o->duration_ms > MF_PHASE_MAX_MS ||
        o->warmup_ms < 0 || o->warmup_ms >= o->duration_ms || o->timeout_ms <= 0 ||
        o->timeout_ms > MF_WAIT_MAX_MS || o->think_min_ms < 0 || o->think_max_ms < 0 ||
        (o->think == RUN_THINK_PACING && o->think_min_ms <= 0) ||
        (o->spawn_rate > 0 &&
         (o->spawn_rate < MF_MIN_SPAWN_RATE || o->spawn_rate > MF_MAX_SPAWN_RATE)) ||
        !(o->rate <= MF_MAX_RATE))
        return err_set(e, -EINVAL,
                       "bad phase options (users 1..%d, threads >= 1, pipeline 1..%d, 1d >= "
                       "duration > warm-up >= 0, 1h >= timeout > 0, pacing > 0, "
                       "spawn rate %g..%g, rate <= %g)",
                       MF_MAX_USERS, MAX_PIPELINE, MF_MIN_SPAWN_RATE, MF_MAX_SPAWN_RATE,
                       MF_MAX_RATE);
    struct shared sh;
    memset(&sh, 0, sizeof(sh));
    sh.o = o;
    char host[300], path[2048];
    int rc = parse_url(o->url, &sh.addr, host, sizeof(host), path, sizeof(path), e);
    if (rc < 0)
        return rc;
    cpu_set_t cpus;
    if (o->cpus && *o->cpus && (rc = parse_cpus(o->cpus, &cpus, e)) < 0)
        return rc;
    rc = run_ensure_nofile((uint64_t)o->users + NOFILE_SLACK, e);
    if (rc < 0)
        return rc;
    rc = sources_plan(o, &sh.addr, &sh.src, &sh.nsrc, e);
    if (rc < 0)
        return rc;
    out->source_count = sh.nsrc ? sh.nsrc : 1;
    out->client_limit =
        run_client_limit(o->users, o, out->client_limit_why, sizeof(out->client_limit_why));

    int threads = o->threads > o->users ? o->users : o->threads;
    sh.pipeline = o->pipeline;
    sh.rate_mode = o->rate > 0;
    sh.nworkers = threads;
    sh.arrivals = o->arrivals == RUN_ARRIVALS_UNIFORM ? RUN_ARRIVALS_UNIFORM : RUN_ARRIVALS_POISSON;
    sh.bound_us = o->bound_us > 0 ? (uint64_t)o->bound_us : 0;
    atomic_init(&sh.wake_drain, 0);
    atomic_init(&sh.wake_stop, 0);
    atomic_init(&sh.stop_ns, 0);
    sh.timeout_ns = (uint64_t)o->timeout_ms * NS_MS;
    sh.seed = o->seed ? o->seed : uv_hrtime();
    sh.nsec = (int)((o->duration_ms + 999) / 1000);
    sh.hcfg.max_header_bytes = o->max_header_bytes;
    sh.hcfg.max_body_bytes = o->max_body_bytes;
    sh.hcfg.expect_body = o->expect_body;
    sh.hcfg.expect_body_len = o->expect_body ? o->expect_body_len : 0;
    sh.hcfg.expect_length = o->expect_body ? -1 : o->expect_length;

    struct buf one;
    buf_init(&one, 8192);
    rc = buf_printf(&one,
                    "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: mfbench/%s\r\nAccept: */*\r\n\r\n",
                    path, host, MFBENCH_VERSION);
    if (rc < 0) {
        buf_free(&one);
        free(sh.src);
        return err_set(e, rc, "request too long");
    }
    sh.req_len = one.len;
    sh.req = malloc(one.len * (size_t)o->pipeline);
    if (!sh.req) {
        buf_free(&one);
        free(sh.src);
        return err_set(e, -ENOMEM, "out of memory");
    }
    for (int i = 0; i < o->pipeline; i++)
        memcpy(sh.req + (size_t)i * one.len, one.data, one.len);
    buf_free(&one);

    struct worker **ws = calloc((size_t)threads, sizeof(*ws));
    struct run_hist *tmp = run_hist_new();
    if (!ws || !tmp) {
        rc = err_set(e, -ENOMEM, "out of memory");
        goto fail;
    }
    for (int i = 0, ubase = 0; i < threads; i++) {
        int n = o->users / threads + (i < o->users % threads);
        rc = worker_new(&sh, i, n, &ws[i], e);
        if (rc < 0)
            goto fail;
        ws[i]->ubase = ubase;
        ubase += n;
        if (o->cpus && *o->cpus) {
            ws[i]->pin = 1;
            if (threads == 1) {
                ws[i]->cpuset = cpus;
            } else {
                /* the thread's own CPU, round robin over the list */
                int k = i % CPU_COUNT(&cpus), c = 0;
                CPU_ZERO(&ws[i]->cpuset);
                for (int cpu = 0; cpu < CPU_SETSIZE; cpu++)
                    if (CPU_ISSET(cpu, &cpus) && c++ == k) {
                        CPU_SET(cpu, &ws[i]->cpuset);
                        break;
                    }
            }
        }
    }

    double cpu0 = cpu_seconds();
    sh.t0 = uv_hrtime();
    sh.warm_end = sh.t0 + (uint64_t)o->warmup_ms * NS_MS;
    sh.end = sh.t0 + (uint64_t)o->duration_ms * NS_MS;
    int launched = 0;
    for (; launched < threads; launched++) {
        rc = pthread_create(&ws[launched]->th, NULL, worker_main, ws[launched]);
        if (rc != 0) {
            rc = err_set(e, -rc, "pthread_create: %s", strerror(rc));
            break;
        }
    }
    if (launched < threads) {
        /* stop the ones that run, tear down the rest */
        atomic_store(&sh.wake_stop, 1);
        for (int i = 0; i < launched; i++)
            uv_async_send(&ws[i]->wake);
        for (int i = 0; i < launched; i++)
            pthread_join(ws[i]->th, NULL);
        for (int i = launched; i < threads; i++) {
            worker_stop(ws[i]);
            uv_run(&ws[i]->loop, UV_RUN_DEFAULT);
            uv_loop_close(&ws[i]->loop);
        }
        goto fail;
    }

    /* Coordinator: poll cancel every 20 ms, report each completed second and
     * ask early_stop about it once the window has begun. */
    int reported = 0, cancel_sent = 0, early = 0;
    uint64_t cum_req = 0, cum_fail = 0, early_ns = 0;
    for (;;) {
        int alldone = 1, secs = INT_MAX;
        for (int i = 0; i < threads; i++) {
            if (!atomic_load(&ws[i]->finished))
                alldone = 0;
            int d = atomic_load_explicit(&ws[i]->secs_done, memory_order_acquire);
            if (d < secs)
                secs = d;
        }
        while (reported < secs) {
            struct run_series_point pt;
            uint64_t ok;
            merge_second(ws, threads, reported, tmp, &pt, &ok);
            cum_req += pt.requests;
            cum_fail += pt.failures;
            reported++;
            if ((o->progress || o->early_stop) && reported == secs) {
                struct run_progress pr;
                memset(&pr, 0, sizeof(pr));
                double end_s = (double)reported;
                if (end_s * 1000 > (double)o->duration_ms)
                    end_s = (double)o->duration_ms / 1000.0;
                pr.elapsed_s = end_s;
                pr.users = pt.users;
                pr.requests = cum_req;
                pr.failures = cum_fail;
                pr.rps = (double)ok;
                pr.p50_ms = pt.p50_ms;
                pr.p99_ms = pt.p99_ms;
                for (int i = 0; i < threads; i++) {
                    const struct sec_slot *sl = &ws[i]->slots[reported - 1];
                    pr.window_samples += sl->win_samples;
                    pr.over_bound += sl->over_bound;
                    pr.backlog += sl->backlog;
                }
                if (o->progress)
                    o->progress(o->progress_arg, &pr);
                /* Only while the phase runs: a second reported after its end
                 * (the last ones, or the drain) has nothing left to stop. */
                uint64_t now = uv_hrtime();
                if (o->early_stop && !early && !cancel_sent &&
                    end_s * 1000 > (double)o->warmup_ms && now < sh.end &&
                    o->early_stop(o->early_stop_arg, &pr)) {
                    early = 1;
                    early_ns = now;
                    atomic_store(&sh.stop_ns, now);
                    atomic_store(&sh.wake_drain, 1);
                    for (int i = 0; i < threads; i++)
                        uv_async_send(&ws[i]->wake);
                }
            }
        }
        if (alldone)
            break;
        if (!cancel_sent && o->cancel && atomic_load(o->cancel)) {
            cancel_sent = 1;
            out->cancelled = 1;
            atomic_store(&sh.wake_stop, 1);
            for (int i = 0; i < threads; i++)
                uv_async_send(&ws[i]->wake);
        }
        sleep_ms(20);
    }
    uint64_t t_end = uv_hrtime();
    for (int i = 0; i < threads; i++)
        pthread_join(ws[i]->th, NULL);
    double cpu1 = cpu_seconds();

    /* Merge. */
    struct phase_result *res = &out->result;
    out->hist = run_hist_new();
    out->series = calloc((size_t)sh.nsec, sizeof(*out->series));
    if (!out->hist || !out->series) {
        rc = err_set(e, -ENOMEM, "out of memory");
        goto fail;
    }
    uint64_t ok = 0, ok_drain = 0;
    for (int i = 0; i < threads; i++) {
        struct worker *w = ws[i];
        if (w->loop_close_rc != 0 && rc == 0)
            rc = err_set(e, w->loop_close_rc, "uv_loop_close: %s", uv_strerror(w->loop_close_rc));
        run_hist_merge(out->hist, w->hist);
        ok += w->ok;
        ok_drain += w->ok_drain;
        res->in_flight += w->in_flight;
        for (int k = 0; k < FAIL__COUNT; k++)
            res->failures_by_kind[k] += w->fails[k];
        res->bytes_read += w->bytes;
        res->missed_schedule += w->missed;
        out->reconnects += w->reconnects;
        res->sent += w->sent;
        res->offered += w->offered;
        res->unsent_due += w->unsent;
        res->over_bound += w->over;
        /* The sum of the workers' maxima: an upper bound of the true maximum
         * (they need not peak at once), exact with one thread. */
        res->connections_max += w->conns_max;
        res->connect_failures += w->conn_fails;
        res->retries += w->retries;
    }
    if (rc < 0)
        goto fail;
    for (int k = 0; k < FAIL__COUNT; k++)
        if (k != FAIL_CLIENT)
            res->failures += res->failures_by_kind[k];
    res->users = o->users;
    res->requests = ok + res->failures;
    res->completed = res->requests;
    res->seed = sh.seed;
    mf_strlcpy(res->arrivals, sh.rate_mode ? run_arrivals_name(sh.arrivals) : "",
               sizeof(res->arrivals));
    res->bound_ms = (double)sh.bound_us / 1000.0;
    res->stopped_early = early && !out->cancelled;
    double wall_end = out->cancelled ? (double)(t_end - sh.t0) : (double)(sh.end - sh.t0);
    if (res->stopped_early && early_ns < sh.end)
        wall_end = (double)(early_ns - sh.t0);
    double window = (wall_end - (double)o->warmup_ms * 1e6) / 1e9;
    if (window < 0)
        window = 0;
    res->duration_s = window;
    /* Answers that came while draining are outcomes of the phase (requests,
     * latency) but not throughput of its window. */
    res->rps = window > 0 ? (double)(ok - ok_drain) / window : 0;
    run_hist_summary(out->hist, &res->latency_ms);
    if (o->rate > 0) {
        res->offered_rps = o->rate;
    } else if (!think_unbounded(o) && window > 0) {
        /* Each user's schedule against an instant server, from its own draws. */
        uint64_t budget = OFFERED_REPLAY_BUDGET;
        double offered = 0;
        for (int i = 0; i < threads; i++)
            for (int j = 0; j < ws[i]->nusers; j++) {
                const struct user *u = user_at(ws[i], j);
                if (u->started)
                    offered += run_offered_requests(o, u->born_ns, sh.warm_end, sh.end,
                                                    user_seed(ws[i], j), &budget);
            }
        res->offered_rps = offered / window;
    }
    if (!sh.rate_mode)
        res->offered =
            res->offered_rps > 0 ? (uint64_t)llround(res->offered_rps * window) : res->sent;
    double wall = (double)(t_end - sh.t0) / 1e9;
    res->client_cpu_pct = wall > 0 ? (cpu1 - cpu0) / wall * 100.0 : 0;
    res->client_bound = res->client_cpu_pct > 90.0 * threads;
    int nsec =
        (out->cancelled || res->stopped_early) ? (int)((t_end - sh.t0 + NS_S - 1) / NS_S) : sh.nsec;
    if (nsec > sh.nsec)
        nsec = sh.nsec;
    for (int s = 0; s < nsec; s++) {
        uint64_t sok;
        merge_second(ws, threads, s, tmp, &out->series[s], &sok);
        double t = (double)(s + 1);
        if (t * 1000 > (double)o->duration_ms)
            t = (double)o->duration_ms / 1000.0;
        out->series[s].t_s = t;
    }
    out->nseries = (size_t)nsec;
    rc = 0;
fail:
    if (ws)
        for (int i = 0; i < threads; i++)
            worker_free(ws[i]);
    free(ws);
    run_hist_free(tmp);
    free(sh.req);
    free(sh.src);
    if (rc < 0) {
        run_report_free(out);
        phase_result_init(&out->result);
    }
    return rc;
}

void run_report_free(struct run_report *r)
{
    if (!r)
        return;
    run_hist_free(r->hist);
    free(r->series);
    r->hist = NULL;
    r->series = NULL;
    r->nseries = 0;
}
