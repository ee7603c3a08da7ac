/* search.h - the breaking-point search as pure functions: which user level to
 * probe next from the outcomes so far (linear or geometric levels, then
 * bisection), when to repeat the search, the summary of the repeats, the stop
 * rules that classify a phase. No I/O: the
 * executor (exec/) runs each phase and reports its outcome here. */
#ifndef MFBENCH_SEARCH_H
#define MFBENCH_SEARCH_H

#include <stdint.h>

#include "common.h"
#include "result.h"

/* The most searches one cell keeps (repeats above it are clamped). */
#define SEARCH_MAX_REPEATS 64

/* What the matrix asks of one cell's searches (filled from its settings). */
struct search_plan {
    int start, step, max; /* user levels: start, start+step, ... capped at max */
    int factor;           /* > 1: levels grow geometrically (start, start*factor, ...) */
    double refine_pct;    /* bisection resolution as % of the passing level; 0 = none */
    int refine_abs;       /* or as an absolute user count; 0 = unset */
    int repeats;          /* >= 1: that many searches; 0 = auto */
    int max_repeats;      /* auto: at most this many (at least 3) */
    double spread_pct;    /* auto: stop once the peaks' spread is under this % */
};

/* What one search (one repeat) found. */
struct search_result {
    int capacity, breaking; /* -1 = none */
    double peak_rps;
    int peak_load_bound;
    int client_stopped; /* a failure came while the client was the bottleneck */
};

/* How a probed level went. */
enum search_outcome {
    SEARCH_PASS,
    SEARCH_FAIL,
    SEARCH_CLIENT_FAIL, /* failed while the load engine was the bottleneck: not a breaking point */
    SEARCH_END,         /* the cell ended (cancelled, error): the search stops where it is */
};

/* One search in progress; embedded by the caller, no heap. Read `result` and
 * `ended` after search_next() returned 0. */
struct search {
    struct search_plan plan;
    struct search_result result;
    int ended;  /* SEARCH_END was reported: result holds what was seen so far */
    int stage;  /* private */
    int users;  /* private: the level handed out last */
    int lo, hi; /* private: the bisection bracket */
};

/* One search: levels start, then +step (or x factor) up to max, until the
 * first failing level F (the last passing one P); then, with refine_pct or
 * refine_abs, bisection between P (0 when even the first level failed) and F
 * until F - P is within the resolution. A client-bound failure or an END stops
 * the search with the bracket found so far. The peak is the highest req/s of
 * any reported phase, passing or failing. */
void search_init(struct search *s, const struct search_plan *plan);
/* The next level to probe: returns 1 and sets *users and *kind ("ladder":
 * the ladder of levels, x factor or +step; or "bisect"; static strings), or 0 when the search is
 * done. Until the outcome is reported, it hands out the same level again. */
int search_next(struct search *s, int *users, const char **kind);
/* The outcome of the level search_next() handed out, with the phase's req/s
 * and load_bound flag (both ignored for SEARCH_END). */
void search_report(struct search *s, enum search_outcome outcome, double rps, int load_bound);

/* Bisection stops when failing - passing <= this (at least 1). */
int search_resolution(const struct search_plan *p, int lo, int hi);
/* The level after cur: cur*factor or cur+step, capped at max. */
int search_next_level(const struct search_plan *p, int cur);

/* ---- repeats ---- */

/* How many searches at most: repeats, or with auto max(max_repeats, 3); capped
 * at SEARCH_MAX_REPEATS. */
int search_repeats_most(const struct search_plan *p);
/* Whether another search should run after the n finished ones in r: not past
 * the most, not after a client-stopped search, and with auto repeats not once
 * 3 or more have a peak spread under spread_pct. */
int search_repeat_again(const struct search_plan *p, const struct search_result *r, int n);
/* Auto repeats that ended with 3 or more searches, the last not client
 * stopped, and the peaks still spread by spread_pct or more. */
int search_repeats_unsettled(const struct search_plan *p, const struct search_result *r, int n);

/* Relative spread of the peaks: (max - min) / median; 0 when the median is 0
 * or n is 0. The range rather than the IQR: with 3 to 5 repeats the IQR hides
 * one outlier of 3. */
double search_peak_spread(const struct search_result *r, int n);

/* The cell's figures from its n searches (at most SEARCH_MAX_REPEATS used):
 * sets c->repeats; with n > 0 the median, IQR, min and max of the capacity
 * (when any search found one; a missing capacity counts as 0) and of the peak
 * req/s, peak_rps (the median), the spread, capacity_users and breaking_users
 * as lower medians (values some search found; a missing breaking point counts
 * as above every found one, a missing capacity as below), and the load_bound
 * flag of the search whose peak is the lower median. Other fields untouched. */
void search_summarize(struct cell_result *c, const struct search_result *r, int n);

/* ---- how long a cell can take ---- */

/* The most phases one search of this plan can run, over every place the
 * server could start failing (found by running the search against each such
 * threshold, so it cannot drift from the search itself). */
int search_max_probes(const struct search_plan *p);

/* What a cell's worst case is made of, in seconds. */
struct search_cost {
    struct search_plan plan; /* the throughput search (repeats included) */
    double phase_s;          /* one phase at full length */
    double drain_s;          /* the wait for requests in flight at its end (the timeout) */
    double start_s;          /* one fresh server at its worst (stops, start, readiness) */
    double overhead_s;       /* per phase: the node's commands around it, local work */
    double once_s;           /* once per cell: provisioning, the cell's end */
    int load_points;         /* open-loop phases after the search */
    int held;                /* the held users' search runs */
    struct search_plan held_plan;
    double held_phase_s;
};
/* The worst case of one cell: once_s, every search at its most phases, each
 * phase at full length plus its drain and overhead, a fresh server before
 * every phase, then the load points and the held search the same way. *phases (may be
 * NULL) gets the most phases. */
double search_cell_max_s(const struct search_cost *c, int *phases);

/* ---- classifying a phase ---- */

/* A phase fails when ANY set criterion holds; with none set, any failure.
 * Whatever is set, a phase in which the server answered no request
 * ("no_response"), or answered fewer than were left outstanding at its end
 * ("in_flight"), never passes: a server that stopped answering must not look
 * healthy because its requests had not timed out yet. */
struct search_stop {
    int64_t failures; /* failures >= N; 0 = unset */
    double ratio;     /* failures/requests >= r; 0 = unset */
    double p99_ms;    /* p99 >= T; 0 = unset */
};
/* The criterion this phase meets ("no_response", "in_flight", "failures",
 * "failure_ratio", "p99"), else "client" when connections failed on the load
 * engine's own limits (FAIL_CLIENT: the executor then takes the phase as a
 * client failure, SEARCH_CLIENT_FAIL, never a pass nor a breaking point), or
 * NULL. */
const char *search_phase_fails(const struct search_stop *sw, const struct phase_result *ph);

/* ---- the held users' levels ---- */

/* A held level's phase may grow to this many times held.duration to fit its
 * window; a level that needs more is not judged. */
#define SEARCH_HELD_CAP_FACTOR 4

/* What one held level is planned from (the cell's settings and figures). */
struct held_level_in {
    int users;
    int64_t think_min_ms, think_max_ms; /* as configured (constant: min = max) */
    double sustainable_rps;             /* the cell's (exec__sustainable_rps); <= 0 unknown */
    double max_offered_pct;             /* the users offer at most this share of it */
    int64_t duration_ms, warmup_ms;     /* held.duration (warm-up included), held.warmup */
    double spawn_rate;                  /* users started per second (0: all at once) */
    int64_t timeout_ms;                 /* one response at its longest */
    int64_t phase_max_ms;               /* the longest phase anyone may run (0: no limit) */
};

/* One held level's plan. The think is stretched by the same factor at both
 * ends until users / mean think <= max_offered of the sustainable rate; the
 * warm-up covers the ramp (users / spawn_rate) and one response after it (the
 * timeout: the ramp's first answers stay out of the window); the measured
 * window holds the longest think after stretching plus one response, so that every
 * user sends at least once in it; the phase grows past held.duration when it
 * must (replanned), up to SEARCH_HELD_CAP_FACTOR x it. judged = 0: even that is
 * too short (or the sustainable rate is unknown), the level is not run. */
struct held_level_plan {
    int64_t think_min_ms, think_max_ms;
    int64_t duration_ms, warmup_ms;
    int64_t window_ms, window_needed_ms; /* planned, and the least that will do */
    int64_t cap_ms;                      /* the longest this level's phase may be */
    double offered_rps;                  /* users / mean think: the most they offer */
    double cap_rps;                      /* max_offered of the sustainable rate */
    int replanned;                       /* the phase is longer than held.duration */
    int judged;
};
void search_held_plan(const struct held_level_in *in, struct held_level_plan *out);

/* A held level's verdict: "connect" when any connect over the whole phase
 * (its ramp included) was refused, reset or timed out; then "no_response" and
 * "in_flight" as search_phase_fails; "failures" at any failure; "p99" when p99
 * exceeds p99_ms. NULL: it passed. */
const char *search_held_fails(double p99_ms, const struct phase_result *ph);

/* A phase is load_bound when the server achieved at least this share of the
 * req/s its users could offer: it kept up with everything, so its req/s
 * describes the load shape (users / think), not the framework. 5% leaves room
 * for the latency a closed-loop user adds to its think time. */
#define SEARCH_LOAD_BOUND_SHARE 0.95
int search_load_bound(double rps, double offered_rps);

/* The offered-load model itself (what the users would have sent against an
 * instant server) is runner/'s run_offered_requests: it replays each user's
 * own think draws, which only the engine has. */

#endif
