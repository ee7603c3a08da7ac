/* slo.h - SLO capacity as pure functions: the most requests per second a
 * server sustains with its p99 within a latency bound. One probe is an
 * open-loop Poisson phase at rate lambda; slo_judge() says whether it passed,
 * slo_probe_hopeless() whether it can still pass while it runs, and the search
 * (slo_search_*) picks the next rate from the outcomes so far: bracket at 1.0
 * and 0.5 x the seed, doubling outward while an end surprises, geometric
 * bisection to the resolution, then one confirming probe (stepping down by the
 * resolution, at most twice, when it fails). No I/O: exec/ runs each probe.
 * Anchors: MLPerf Inference's Server scenario and its early-stopping rule
 * (LoadGen's early_stopping.cc, reimplemented here), SPECjbb2015's
 * critical-jOPS, mutilate's --search. */
#ifndef MFBENCH_SLO_H
#define MFBENCH_SLO_H

#include <stdint.h>

/* What a profile's slo asks (config fills it; slo_plan_defaults the rest). */
struct slo_plan {
    double bound_ms;           /* the p99 bound, > 0 */
    double percentile;         /* 99: the bound is on this percentile */
    double confidence;         /* 0.99: the early-stopping rule's confidence */
    double failures_pct;       /* a probe fails with more failures than this % of its requests */
    double resolution_pct;     /* bisection stops when hi / lo <= 1 + this / 100 */
    double min_rps;            /* the search never probes below this (> 0) */
    double max_rps;            /* nor above this: the profile's ceiling ("max") */
    double warmup_s;           /* before each probe's window (2) */
    double probe_min_s;        /* a probe's window lasts at least this (8) */
    double probe_max_s;        /* and at most this (20) */
    int64_t probe_min_samples; /* and, within those, at least this many requests (20000) */
    int confirm_steps;         /* step-downs after a failed confirmation (2) */
    double backlog_pct;        /* a probe fails when completed < this % of offered (98) */
    double missed_pct;         /* the engine missed its schedule for more than this % (1):
                                  the probe is inconclusive (client-bound) */
};

/* Sets every field of p to the documented defaults: p99 within 25 ms, 99%
 * confidence, 0.1% failures, 5% resolution, 1 .. 1e6 req/s, probes of 2 s
 * warm-up + 8..20 s and 20,000 samples, 2 step-downs, backlog 98%, missed 1%. */
void slo_plan_defaults(struct slo_plan *p);

/* ---- the early-stopping rule ---- */

/* The most requests out of n that may exceed the bound while the claim "the
 * true `percentile` latency is within the bound" still holds at `confidence`:
 * the largest t with P[Binomial(n, 1 - percentile/100) <= t] < 1 - confidence
 * (MLPerf LoadGen's early stopping, for a percentile bound: its Server run
 * passes when n - t >= the least h with BetaRegularized(p, h, 1 + t) < 1 - c,
 * and that is this binomial CDF; strictly below, as LoadGen's search for h
 * compares). -1 when even t = 0 does not hold (too few samples to pass at
 * all: fewer than 459 at p99 and 99%). Non-decreasing in n; n up to 10^7 and
 * beyond (log space, about 2 x sqrt(n x q x 33) terms). */
int64_t slo_max_over(uint64_t n, double percentile, double confidence);

/* ---- one probe ---- */

/* The measured window of a probe at `rate`: samples / rate seconds, clamped
 * to [probe_min_s, probe_max_s]. */
double slo_probe_window_s(const struct slo_plan *p, double rate);

/* What one finished probe measured (from its phase). */
struct slo_probe {
    double rate;              /* the rate asked for */
    double window_s;          /* its measured window */
    uint64_t offered;         /* sends intended in the window */
    uint64_t completed;       /* requests that ended (answered or failed) */
    uint64_t samples;         /* latency samples: completed + sends due never sent */
    uint64_t over_bound;      /* samples over the bound (failures included) */
    uint64_t failures;        /* the server's failures (every kind but client) */
    uint64_t wrong;           /* body + protocol failures: the server answered wrongly */
    uint64_t client_failures; /* the engine's own limits */
    uint64_t missed_schedule; /* sends that left late */
    uint64_t in_flight;       /* outstanding at the window's end */
    int stopped_early;        /* slo_probe_hopeless ended it */
};

enum slo_outcome {
    SLO_PASS,
    SLO_FAIL_LATENCY,  /* too many samples over the bound */
    SLO_FAIL_FAILURES, /* failures over the limit */
    SLO_FAIL_BACKLOG,  /* completed < backlog_pct of offered, or in flight > rate x bound */
    SLO_INCONCLUSIVE,  /* the engine did not keep its schedule: says nothing of the server */
    SLO_WRONG,         /* body or protocol failures: the cell is an error */
    SLO_END,           /* cancelled or the cell ended: the search stops where it is */
};
const char *slo_outcome_name(enum slo_outcome o); /* "pass", "latency", ... */

/* Judges a finished probe. Order: wrong answers, then the engine (client
 * failures, or missed schedule over missed_pct: inconclusive), then failures,
 * backlog, latency (over_bound > slo_max_over(samples)). A probe stopped
 * early fails by what stopped it: latency when over_bound > slo_max_over of
 * its planned count (rate x window_s), else backlog; its partial samples are
 * never held to the rule on their own. */
enum slo_outcome slo_judge(const struct slo_plan *p, const struct slo_probe *pr);

/* While a probe runs: 1 when it can no longer pass, so it may end now: more
 * samples over the bound than slo_max_over allows at the planned count
 * (rate x window), or a backlog above 4 x rate x bound. */
int slo_probe_hopeless(const struct slo_plan *p, double rate, uint64_t over_so_far,
                       uint64_t backlog);

/* ---- the search ---- */

struct slo_result {
    double rps;        /* the confirmed rate; -1 = none (cut short, or unconfirmed);
                          0 = measured: min_rps failed, nothing passes; after a
                          client-bound (inconclusive) lowest failing probe, limit
                          "client": rps is a lower bound */
    double lo, hi;     /* the bracket: last passing, lowest failing (-1 = none);
                          lo = -1 when unconfirmed (nothing at or below hi held) */
    const char *limit; /* "latency" | "failures" | "backlog" | "client" | "max" | NULL */
    int probes;        /* probes run */
    int unconfirmed;   /* every confirming probe failed: rps is -1 */
};

struct slo_search {
    struct slo_plan plan;
    struct slo_result result;
    int ended; /* SLO_END or SLO_WRONG was reported */
    /* private */
    int stage, confirms;
    double seed, cur, lo, hi;
    enum slo_outcome hi_why;
};

/* seed_rps: the closed-loop peak of passing phases (> 0). */
void slo_search_init(struct slo_search *s, const struct slo_plan *p, double seed_rps);
/* The next rate to probe: 1 and *rate, *kind ("bracket" | "bisect" |
 * "confirm", static strings), or 0 when done (read s->result). Until the
 * outcome is reported it hands out the same rate again. */
int slo_search_next(struct slo_search *s, double *rate, const char **kind);
void slo_search_report(struct slo_search *s, enum slo_outcome o);

/* ---- the worst case ---- */

/* The most probes and the longest total time one search can take, over every
 * seed in [min_rps, max_rps] and every place the server could start failing
 * (the search run against each outcome, as search_max_probes does), with
 * every confirmation failing. per_probe_s is added to each probe's
 * warm-up + window (the drain, a server start, overhead). */
double slo_worst_s(const struct slo_plan *p, double per_probe_s, int *probes);
/* The same, and a seed and threshold (the server passes below it) whose
 * search takes that longest time, for a test to replay. */
double slo_worst_case(const struct slo_plan *p, double per_probe_s, int *probes, double *seed,
                      double *threshold);

#endif
