/* engine_int.h - what the load engine's files share (engine.c: a phase from its
 * options to its report; worker.c: one thread's loop; conn.c, exchange.c: a
 * user's connection and the HTTP on it; timers.c, think.c: the users' timers
 * and think times; schedule.c: the open loop; summary.c: what a phase counts;
 * limits.c: the client's own limits and source addresses). Private to runner/. */
#ifndef MFBENCH_ENGINE_INT_H
#define MFBENCH_ENGINE_INT_H

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <uv.h>

#include "runner.h"
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
/* Replayed think draws over all users of a phase, at most: past it a user's
 * remaining sends are estimated from the mean think (only a phase of tens of
 * millions of sends at sub-millisecond thinks gets there). */
#define OFFERED_REPLAY_BUDGET (UINT64_C(50) * 1000 * 1000)

enum { U_OFF, U_CONNECTING, U_READY, U_CLOSING };
enum { TK_NONE, TK_THINK, TK_TIMEOUT, TK_RECONNECT };

struct worker;
struct user;

/* sample.c: the answers kept for run_opts.check, per worker. m + 1 slots of
 * `bytes` each, allocated once: kept[] holds the sample in answer order, slot
 * is the one the next capture goes to, holder the user whose parser writes it. */
struct sample_slot {
    struct http_capture c;
    uint8_t ok; /* the answer passed status and framing (not yet a failure) */
};
struct sampler {
    struct sample_slot *s;
    char *data;
    uint32_t *kept, *spare;
    uint32_t m, nkept, nspare, slot;
    uint64_t stride;
    struct user *holder;
};

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
     * are resent once on a fresh connection (exchange.c's user_dropped). */
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
    uint64_t seed; /* users' think streams derive from it (see run__user_seed) */
    int stopping;
    /* The phase's time is up: no new requests; the ones outstanding are
     * waited for up to the request timeout (see worker_drain, worker.c). */
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
     * window; unsent: those still due at the phase's end (run__account_unsent). */
    uint64_t interval_ns, sched_off, next_due, arr_rng;
    double rate_w;
    uint64_t offered, unsent;
    int unsent_done;
    uint32_t *freeq;
    uint32_t fq_head, fq_len;
    /* Responses until the next answer is sampled (0: the next to start is;
     * UINT64_MAX: no sampling), and the sample (sample.c). */
    uint64_t smp_due;
    struct sampler smp;
    /* the responses completed by one read, scored once the read is parsed */
    uint8_t done[MAX_PIPELINE];
    char rbuf[READ_BUF_SIZE];
};

/* User i of worker w (users are ustride bytes apart: the pipeline's timestamps follow each). */
static inline struct user *run__user_at(struct worker *w, int i)
{
    return (struct user *)(void *)(w->users + (size_t)i * w->ustride);
}

/* A user's index in its worker, the inverse of run__user_at. */
static inline uint32_t run__user_id(struct worker *w, struct user *u)
{
    return (uint32_t)(((char *)u - w->users) / (ptrdiff_t)w->ustride);
}

/* splitmix64: the users' think streams, the arrival streams, the backoff draws. */
static inline uint64_t run__rng_next(uint64_t *s)
{
    uint64_t z = (*s += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

/* In the measured window (after the warm-up). */
static inline int run__in_window(const struct worker *w, uint64_t now)
{
    return now >= w->sh->warm_end;
}

/* ---- summary.c: what a phase counts, per second and over its window ---- */

/* n requests failed with k at now (FAIL_CLIENT counts in the window's
 * failures by kind, not in the second's: it is not the server's). */
void run__count_fail(struct worker *w, enum fail_kind k, uint64_t n, uint64_t now);
void run__sample(struct worker *w, uint64_t lat_ns, int over, uint64_t now);
/* An answer that ended at now, ok or failed with k. */
void run__count_response(struct worker *w, int ok, enum fail_kind k, uint64_t lat_ns, uint64_t now);
void run__fail_samples(struct user *u, enum fail_kind k, uint64_t now);
/* Closes the worker's current second into its slot (the coordinator reads it). */
void run__sec_finalize(struct worker *w);
/* Second s of every worker, merged into *pt (tmp: a scratch histogram), *ok its answers. */
void run__merge_second(struct worker **ws, int nw, int s, struct run_hist *tmp,
                       struct run_series_point *pt, uint64_t *ok);
/* How the phase ended, as the coordinator saw it. */
struct phase_end {
    uint64_t t_end; /* every worker finished */
    int early;      /* early_stop asked to stop, at early_ns */
    uint64_t early_ns;
    double cpu_s; /* this process's CPU time over the phase */
};
/* The workers' counts merged into out (hist, series, result). Returns 0, or a
 * negative code (e set): out of memory, a loop that did not close. */
MF_MUST_CHECK int run__summarize(const struct shared *sh, struct worker **ws, int nw,
                                 const struct phase_end *pe, struct run_hist *tmp,
                                 struct run_report *out, struct err *e);

/* ---- think.c: think times, and the closed loop's offered load ---- */

uint64_t run__think_draw(const struct run_opts *o, uint64_t *rng);
uint64_t run__user_seed(const struct worker *w, int i);
int run__think_unbounded(const struct run_opts *o);

/* ---- timers.c: each user's one timer, in its worker's heap ---- */

/* Arms u's timer (kind TK_*) for deadline on the uv_hrtime clock, rounded to
 * the loop's milliseconds (up when round_up); re-arming moves it. */
void run__timer_arm(struct user *u, int kind, uint64_t deadline, uint64_t now, int round_up);
void run__timer_disarm(struct user *u);

/* ---- conn.c: a user's connection, and the closed loop's users ---- */

void run__user_connect(struct user *u, uint64_t now);
void run__user_connected(struct user *u);
void run__connect_fail(struct user *u, enum fail_kind k, uint64_t now);
void run__user_fail(struct user *u, enum fail_kind k, uint64_t now);
/* Closes u's socket; retry: the open loop reconnects after a backoff. */
void run__user_close(struct user *u, int retry);
void run__user_recycle(struct user *u, uint64_t now);
/* uv_close's callback of a user's poll handle: reconnects when the phase still wants it. */
void run__on_sock_close(uv_handle_t *h);
/* Open loop: u (index id) has room for a request. */
void run__freeq_push(struct worker *w, struct user *u, uint32_t id);
void run__want_set(struct user *u, int on, uint64_t now);
void run__user_go(struct user *u, uint64_t now);
void run__user_next(struct user *u, uint64_t now);

/* ---- exchange.c: HTTP on a user's connection ---- */

void run__user_send(struct user *u, int n, uint64_t lat_start, uint64_t now, int resend);
/* A user's poll handle: connect done, writable, readable. */
void run__on_poll(uv_poll_t *p, int status, int events);

/* ---- schedule.c: the open loop's arrivals ---- */

/* Sends what is due on free connections (never spins). */
void run__rate_pump(struct worker *w, uint64_t now);
void run__sched_init(struct worker *w);
/* The schedule's timerfd fired. */
void run__on_sched_poll(uv_poll_t *p, int status, int events);
void run__account_unsent(struct worker *w, uint64_t end);
uint64_t run__sched_backlog(struct worker *w, uint64_t now);

/* ---- worker.c: one thread's loop, its users' spawn, its end ---- */

/* A worker of nusers users (phase-wide index idx); *out freed with run__worker_free. */
MF_MUST_CHECK int run__worker_new(struct shared *sh, int idx, int nusers, struct worker **out,
                                  struct err *e);
void run__worker_free(struct worker *w); /* NULL is fine */
/* The thread's body: runs the loop until the phase ends, then closes it. */
void *run__worker_main(void *arg);
/* Ends the phase for w now: stops its users and closes its handles. */
void run__worker_stop(struct worker *w);
/* Draining: ends the phase once nothing is outstanding (deferred to the loop). */
void run__drain_check(struct worker *w);

/* ---- sample.c: whole answers kept for run_opts.check ---- */

/* Allocates w's sample when the phase has a check (smp_due UINT64_MAX when not). */
MF_MUST_CHECK int run__sample_init(struct worker *w, struct err *e);
void run__sample_free(struct worker *w);
/* w->smp_due is 0 and u's parser is between responses: the next one is captured
 * (when in the window and no other capture is under way). */
void run__sample_arm(struct user *u, uint64_t now);
/* u's captured response ended: kept when its status is 2xx (ok: it passed framing). */
void run__sample_done(struct user *u, int status2xx, int ok);
/* After the phase: each kept answer checked by o->check, wrong ones counted as
 * body failures in out->result (verified_sampled, verified_wrong, wrong_why). */
void run__sample_verify(const struct shared *sh, struct worker **ws, int nw,
                        struct run_report *out);

/* ---- limits.c and engine.c: the phase's setup ---- */

MF_MUST_CHECK int run__sources_plan(const struct run_opts *o, const struct sockaddr_storage *target,
                                    struct sockaddr_storage **src, int *nsrc, struct err *e);
MF_MUST_CHECK int run__parse_url(const char *url, struct sockaddr_storage *addr, char *host_hdr,
                                 size_t hn, char *path, size_t pn, struct err *e);

#endif
