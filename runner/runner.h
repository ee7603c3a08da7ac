/* runner.h - the load engine: HTTP/1.1 client users on libuv, one loop per
 * thread, closed-loop (Locust's user model) or open-loop (constant arrival rate,
 * latency from the intended send time), log-linear histograms, failures counted
 * by kind. Never prints; the caller decides where results go. */
#ifndef MFBENCH_RUNNER_H
#define MFBENCH_RUNNER_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "common.h"
#include "result.h"

/* ---- histogram: log-linear, fixed size, relative error < 1% ---- */

/* Values are microseconds, 0 .. ~2^40 us. Fixed-size: no allocation per sample. */
struct run_hist;
struct run_hist *run_hist_new(void); /* caller frees with run_hist_free; NULL on ENOMEM */
void run_hist_free(struct run_hist *h);
void run_hist_reset(struct run_hist *h);
void run_hist_record(struct run_hist *h, uint64_t us);
void run_hist_merge(struct run_hist *dst, const struct run_hist *src);
uint64_t run_hist_count(const struct run_hist *h);
/* q in [0,100]; value at that percentile in us (0 when empty). */
double run_hist_percentile(const struct run_hist *h, double q);
double run_hist_mean(const struct run_hist *h);
uint64_t run_hist_max(const struct run_hist *h);
uint64_t run_hist_min(const struct run_hist *h);
/* Fills mean/p50/p90/p99/p999/max in milliseconds. */
void run_hist_summary(const struct run_hist *h, struct latency_ms *out);

/* ---- a phase ---- */

enum run_think_kind {
    RUN_THINK_NONE,     /* back to back */
    RUN_THINK_BETWEEN,  /* uniform [min,max] after each response */
    RUN_THINK_CONSTANT, /* min after each response */
    RUN_THINK_PACING,   /* one request per min per user, from the previous send */
};

struct run_progress {
    double elapsed_s;  /* since the phase started (warm-up included) */
    int users;         /* users started so far */
    uint64_t requests; /* total so far, warm-up included */
    uint64_t failures;
    double rps;            /* over the last second */
    double p50_ms, p99_ms; /* over the last second */
    /* Appended (SLO probes), over the measured window so far: the latency
     * samples (every completed request, failures included), those slower
     * than opts.bound_us (failures included), and the backlog now: requests
     * outstanding plus open-loop sends due and not yet sent. */
    uint64_t window_samples, over_bound, backlog;
};

/* Open-loop arrivals: exponential gaps with mean 1/rate (a Poisson process,
 * the default) or an even grid. */
enum run_arrivals { RUN_ARRIVALS_POISSON, RUN_ARRIVALS_UNIFORM };
const char *run_arrivals_name(enum run_arrivals a);
/* The gap to the next send, in ns, drawn from *rng (splitmix64) for a total
 * rate of `rate` sends/s. Pure: the schedule is replayed from the seed. */
uint64_t run_arrival_gap_ns(enum run_arrivals a, double rate, uint64_t *rng);

/* Open loop: how late a send may leave before it counts in missed_schedule:
 * max(2 ms, a tenth of the mean gap of one thread's schedule, a fifth of the
 * latency bound when the phase has one). The floor covers what a VM's vCPU
 * wake-up costs (2-9 ms now and then on the test machines, with nothing else
 * running); a fifth of the bound is lateness that cannot by itself carry a
 * request over it. A late send is charged from its intended time either way:
 * lateness never flatters the server. */
uint64_t run_missed_late_ns(uint64_t mean_gap_ns, uint64_t bound_us);

struct run_series_point {
    double t_s; /* end of the second, since phase start */
    int users;
    uint64_t requests, failures; /* in that second */
    double p50_ms, p99_ms;
};

struct run_opts {
    const char *url;     /* http://host[:port]/path; only http */
    int users;           /* connections / simulated users; >= 1 */
    double spawn_rate;   /* users started per second; <= 0 = all at once */
    int64_t duration_ms; /* whole phase, warm-up included */
    int64_t warmup_ms;   /* excluded from statistics */
    enum run_think_kind think;
    int64_t think_min_ms, think_max_ms;
    double rate;             /* > 0: open loop at this many requests/s over all users */
    int pipeline;            /* requests in flight per connection; >= 1 */
    int threads;             /* event-loop threads; >= 1 */
    int64_t timeout_ms;      /* per request; the request is aborted and counted */
    const char *expect_body; /* exact body, or NULL */
    size_t expect_body_len;
    int64_t expect_length;   /* exact body length, or -1 */
    const char *cpus;        /* pin engine threads to these CPUs ("0", "0-1"), or NULL */
    size_t max_header_bytes; /* 0 = 8 KiB */
    size_t max_body_bytes;   /* 0 = 16 MiB */
    uint64_t seed;           /* think-time RNG seed; 0 = from the clock */
    int sndbuf;              /* SO_SNDBUF of every connection; 0 = the kernel's
                              * autotuning (the tests set it to force partial sends) */
    /* Called on the calling thread about once a second. May be NULL. */
    void (*progress)(void *arg, const struct run_progress *p);
    void *progress_arg;
    /* Appended: open-loop arrivals (default poisson; seeded by seed). */
    enum run_arrivals arrivals;
    /* > 0: count the window's requests slower than this (failures included)
     * in result.over_bound and run_progress.over_bound. */
    int64_t bound_us;
    /* Called on the calling thread about once a second (after progress) in
     * the measured window; nonzero ends the phase early (result.stopped_early),
     * its outstanding requests drained as at its normal end. May be NULL. */
    int (*early_stop)(void *arg, const struct run_progress *p);
    void *early_stop_arg;
    /* Set nonzero (from any thread or a signal handler) to end the phase early. */
    const atomic_int *cancel;
    /* Appended: addresses of this machine the users' connections leave from,
     * comma-separated IPv4 or IPv6 literals of the target's family
     * ("10.0.0.2,10.0.0.3"), user i from the (i mod n)th, so each gives the
     * whole ephemeral port range again. NULL: on an IPv4 loopback target the
     * engine spreads over as many 127.0.0.K as the users need (see
     * run_source_count); elsewhere the kernel's one source address, whose
     * port range is then the engine's limit (client:ports). */
    const char *source_addrs;
    /* Appended (issue 24): a rule every answer must pass beyond status and
     * framing (the database payloads' node_db_check), or NULL. The engine
     * then keeps a sample of whole 2xx answers spread over the measured window
     * (the first of every `stride` answers, the stride doubling whenever the
     * sample fills: between sample_max / 2 and sample_max answers, evenly
     * spread, in memory allocated once per phase) and checks each with
     * check(check_arg, body, len, content_type, why, n) after the phase (0: right).
     * A wrong one is a body failure of the phase (result.verified_wrong). */
    int (*check)(void *arg, const char *body, size_t len, const char *ctype, char *why, size_t n);
    void *check_arg;
    int sample_max;      /* answers kept per phase, at most; 0 = RUN_SAMPLE_MAX */
    size_t sample_bytes; /* of one body; 0 = RUN_SAMPLE_BYTES; a longer body is not checked */
};

#define RUN_SAMPLE_MAX 32
#define RUN_SAMPLE_BYTES (64 * 1024)

/* Defaults: 1 user, all at once, 10s, no warm-up, no think, closed loop,
 * pipeline 1, 1 thread, 10s timeout, no body check, expect_length -1. */
void run_opts_init(struct run_opts *o);

struct run_report {
    struct phase_result result; /* requests, failures, rps, latency_ms, bytes_read,
                                   offered_rps, missed_schedule, client_cpu_pct,
                                   offered, sent, completed, unsent_due, over_bound,
                                   seed, arrivals, connections_max, connect_failures,
                                   retries, stopped_early, in_flight */
    /* Latency counts every request of the window: answers, failures at the
     * time they took to fail (a timeout at about the timeout; the requests a
     * drain gave up on at their age then), and open-loop sends still due at
     * the phase's end from their intended time (unsent_due; these are in hist
     * but not in the per-second series). Not FAIL_CLIENT: such a request never
     * reached the server, its phase is client-bound and judged inconclusive.
     * connections_max is the sum of the workers' maxima (exact with one
     * thread, an upper bound with more). */
    struct run_hist *hist;           /* merged latency histogram of the window; owned */
    struct run_series_point *series; /* one per second of the whole phase; owned */
    size_t nseries;
    uint64_t reconnects; /* connections re-opened (server close, Connection: close) */
    int cancelled;       /* the phase was ended by opts->cancel */
    /* Appended: the client's own limit that binds below the users asked
     * (run_client_limit, checked before the phase), or NULL; why it binds. */
    const char *client_limit;
    char client_limit_why[384];
    int source_count; /* source addresses the users were spread over (1: none bound) */
    /* Appended: why the first wrong sampled answer was wrong (opts.check), "" if none. */
    char wrong_why[400];
};

/* Runs one phase, blocking the caller until it ends. Returns 0 when the phase
 * ran (failures of requests are results, not errors), or a negative code with
 * e set for a bad URL, a descriptor limit that cannot be raised for the users
 * asked, or a libuv setup failure. */
MF_MUST_CHECK int run_phase(const struct run_opts *o, struct run_report *out, struct err *e);
void run_report_free(struct run_report *r);

/* The offered-load model: the requests one closed-loop user, started at
 * born_ns, would send in the window [t0_ns, t1_ns) against a server that
 * answers instantly: a batch of o->pipeline at its start, then one after each
 * think time. Thinks are drawn from the stream seeded with rng, the same one
 * the user drew its real thinks from, so the count is exact for any think
 * distribution and any phase length (closed form for a fixed think). 0 when
 * the users do not think (unbounded). *budget caps the draws (decremented);
 * past it the rest is estimated from the mean think. Pure: no I/O. */
double run_offered_requests(const struct run_opts *o, uint64_t born_ns, uint64_t t0_ns,
                            uint64_t t1_ns, uint64_t rng, uint64_t *budget);

/* Raises RLIMIT_NOFILE's soft limit as far as the hard limit allows (to the
 * hard limit; to `needed` when that is unlimited). 0 when `needed` descriptors
 * then fit, or -EMFILE with a message saying how many are needed and how to
 * allow them. */
MF_MUST_CHECK int run_ensure_nofile(uint64_t needed, struct err *e);

/* What keeps the engine from holding `users` connections of a phase like *o
 * (its url, source_addrs and threads) on this machine, or NULL: the one of
 * these that binds at the fewest users, with why it binds in why[n]:
 *   "client:descriptors" RLIMIT_NOFILE's hard limit (the soft one is raised)
 *   "client:ports"       the ephemeral port range (net.ipv4.ip_local_port_range,
 *                        per network namespace) times the source addresses,
 *                        less the TIME_WAIT sockets (/proc/net/sockstat) that
 *                        cannot be reused (tcp_tw_reuse) towards that target
 *   "client:conntrack"   nf_conntrack_max less nf_conntrack_count, when
 *                        conntrack is loaded
 *   "client:memory"      MemAvailable against RUN_USER_MEM_BYTES per user
 *                        (twice on loopback: the server's end is this kernel's)
 * Reads /proc and getrlimit, resolves the url's host; changes nothing. A limit
 * it cannot read (no /proc, an unresolvable host) is not reported. */
const char *run_client_limit(int users, const struct run_opts *o, char *why, size_t n);

/* The memory one connected idle user costs this machine: the engine's state,
 * the socket, its file, the epoll item and small buffers (a generous figure). */
#define RUN_USER_MEM_BYTES (8 * 1024)

/* The source addresses the engine spreads `users` over towards an IPv4
 * loopback target: enough that each address keeps three quarters of
 * `ports` (the ephemeral range) for users and `tw` TIME_WAIT sockets are
 * room to spare; at least 1. Pure. */
int run_source_count(int users, long ports, uint64_t tw);

#endif
