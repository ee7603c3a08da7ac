/* test_slo.c - SLO capacity: the early-stopping table against exact integer
 * sums, the probe judge and its order, the probe window and the hopeless
 * rule, the rate search against scripted servers (pass below a threshold T),
 * and its worst case against a separate small simulator of the search. */
#include "slo.h"
#include "t.h"

#include <math.h>

/* ---- the early-stopping rule ---- */

/* Largest t with P[Binomial(n, q) <= t] < 1/100, from exact integer sums
 * (q = 1/100 and 1/10), made by:
 *   python3 -c 'import sys
 *   def mo(n,a,b):
 *     tot=(a+b)**n; c,ak,bk,s=1,1,b**n,0
 *     for k in range(n+1):
 *       s+=c*ak*bk
 *       if s*100>=tot: return k-1
 *       c=c*(n-k)//(k+1); ak*=a; bk//=b
 *     return n
 *   for n in map(int,sys.argv[1:]): print(n,mo(n,1,99),mo(n,1,9))' \
 *     100 458 459 460 1000 20000 100000 */
static const struct {
    uint64_t n;
    int64_t p99, p90;
} es_table[] = {
    {100, -1, 3},  {458, -1, 30},      {459, 0, 31},        {460, 0, 31},
    {1000, 2, 78}, {20000, 167, 1901}, {100000, 927, 9779},
};

/* P[Binomial(n, q) <= t] by the pmf recurrence in long double: a second
 * reference for small n. */
static long double binom_cdf(int n, long double q, int t)
{
    long double pmf = powl(1 - q, n), sum = 0;
    for (int k = 0; k <= t && k <= n; k++) {
        sum += pmf;
        pmf = pmf * (n - k) / (k + 1) * q / (1 - q);
    }
    return sum;
}

static void test_max_over(void)
{
    for (size_t i = 0; i < sizeof(es_table) / sizeof(es_table[0]); i++) {
        CHECK_INT(slo_max_over(es_table[i].n, 99, 0.99), ==, es_table[i].p99);
        CHECK_INT(slo_max_over(es_table[i].n, 90, 0.99), ==, es_table[i].p90);
    }
    /* LoadGen's own numbers: with no overlatency query a p99 Server run needs
     * ceil(log(0.01) / log(0.99)) = 459 queries (early_stopping.cc's first
     * point), and its summaries say "Processed 21 queries ... at least 438
     * more" and "Processed 300 ... at least 159 more". */
    CHECK_INT((int)ceil(log(0.01) / log(0.99)), ==, 459);
    CHECK_INT(slo_max_over(21, 99, 0.99), ==, -1);
    CHECK_INT(slo_max_over(300, 99, 0.99), ==, -1);
    CHECK_INT(slo_max_over(21 + 438, 99, 0.99), ==, 0);
    CHECK_INT(slo_max_over(0, 99, 0.99), ==, -1);
    /* Strictly below 1 - confidence, as LoadGen compares: at the median with
     * 50% confidence one sample gives P[X <= 0] = 0.5 exactly, not enough.
     * (At p99 the CDF never equals 1/100: the sum is 0 mod 99, 100^(n-1) is
     * 1 mod 99.) */
    CHECK_INT(slo_max_over(1, 50, 0.5), ==, -1);
    CHECK_INT(slo_max_over(2, 50, 0.5), ==, 0);
    CHECK_INT(slo_max_over(3, 50, 0.5), ==, 0); /* 1/8, then 1/2 */
    /* The definition, against the long double recurrence, for small n. */
    for (int n = 1; n <= 1500; n += 7) {
        for (int pi = 0; pi < 2; pi++) {
            long double q = pi ? 0.1L : 0.01L;
            int64_t t = slo_max_over((uint64_t)n, pi ? 90 : 99, 0.99);
            if (t >= 0)
                CHECK(binom_cdf(n, q, (int)t) < 0.01L);
            CHECK(t >= n || binom_cdf(n, q, (int)t + 1) >= 0.01L);
        }
    }
    /* Non-decreasing in n: every n to 30000, then strides to 10^7. */
    int64_t prev99 = -1, prev90 = -1, bad = 0;
    for (uint64_t n = 0; n <= 30000; n++) {
        int64_t a = slo_max_over(n, 99, 0.99), b = slo_max_over(n, 90, 0.99);
        bad += a < prev99 || b < prev90 || a > prev99 + 1 || b > prev90 + 1;
        prev99 = a;
        prev90 = b;
    }
    CHECK_INT(bad, ==, 0);
    int64_t prev = -1;
    for (uint64_t n = 30000; n <= 10000000; n = n * 11 / 10) {
        int64_t a = slo_max_over(n, 99, 0.99), b = slo_max_over(n + 1, 99, 0.99);
        bad += a < prev || b < a;
        prev = b;
    }
    CHECK_INT(bad, ==, 0);
    /* 10^7 at p99: near the normal quantile n q - 2.326 sqrt(n q (1 - q)). */
    double approx = 1e5 - 2.3263 * sqrt(1e7 * 0.01 * 0.99);
    CHECK_DBL(fabs((double)slo_max_over(10000000, 99, 0.99) - approx), <, 10);
    CHECK_DBL(fabs((double)slo_max_over(10000000, 90, 0.99) - (1e6 - 2.3263 * sqrt(9e5))), <, 10);
}

/* ---- one probe ---- */

static struct slo_plan plan(void)
{
    struct slo_plan p;
    slo_plan_defaults(&p);
    return p;
}

static void test_defaults(void)
{
    struct slo_plan p = plan();
    CHECK_DBL(p.bound_ms, ==, 25);
    CHECK_DBL(p.percentile, ==, 99);
    CHECK_DBL(p.confidence, ==, 0.99);
    CHECK_DBL(p.failures_pct, ==, 0.1);
    CHECK_DBL(p.resolution_pct, ==, 5);
    CHECK_DBL(p.min_rps, ==, 1);
    CHECK_DBL(p.max_rps, ==, 1e6);
    CHECK_DBL(p.warmup_s, ==, 2);
    CHECK_DBL(p.probe_min_s, ==, 8);
    CHECK_DBL(p.probe_max_s, ==, 20);
    CHECK_INT(p.probe_min_samples, ==, 20000);
    CHECK_INT(p.confirm_steps, ==, 2);
    CHECK_DBL(p.backlog_pct, ==, 98);
    CHECK_DBL(p.missed_pct, ==, 1);
    const char *names[] = {"pass", "latency", "failures", "backlog", "client", "wrong", "end"};
    for (int o = SLO_PASS; o <= SLO_END; o++)
        CHECK_STR(slo_outcome_name((enum slo_outcome)o), names[o]);
}

static void test_window(void)
{
    struct slo_plan p = plan();
    CHECK_DBL(slo_probe_window_s(&p, 100), ==, 20);   /* 200 s: at most 20 */
    CHECK_DBL(slo_probe_window_s(&p, 2000), ==, 10);  /* 20000 samples */
    CHECK_DBL(slo_probe_window_s(&p, 100000), ==, 8); /* 0.2 s: at least 8 */
    CHECK_DBL(slo_probe_window_s(&p, 1000), ==, 20);  /* exactly the top */
    CHECK_DBL(slo_probe_window_s(&p, 2500), ==, 8);   /* exactly the bottom */
    CHECK_DBL(slo_probe_window_s(&p, 0), ==, 20);
}

/* A probe at 1000 req/s over 10 s that passes. */
static struct slo_probe good(void)
{
    struct slo_probe pr = {.rate = 1000,
                           .window_s = 10,
                           .offered = 10000,
                           .completed = 10000,
                           .samples = 10000,
                           .over_bound = 50};
    return pr;
}

static void test_judge(void)
{
    struct slo_plan p = plan();
    struct slo_probe pr = good();
    int64_t most = slo_max_over(10000, 99, 0.99);
    CHECK_INT(slo_judge(&p, &pr), ==, SLO_PASS);
    /* Latency: one over what the rule allows. */
    pr.over_bound = (uint64_t)most;
    CHECK_INT(slo_judge(&p, &pr), ==, SLO_PASS);
    pr.over_bound = (uint64_t)most + 1;
    CHECK_INT(slo_judge(&p, &pr), ==, SLO_FAIL_LATENCY);
    pr = good();
    pr.samples = 400; /* too few to pass at all */
    pr.over_bound = 0;
    CHECK_INT(slo_judge(&p, &pr), ==, SLO_FAIL_LATENCY);
    /* Failures: 0.1% of 10000 is 10. */
    pr = good();
    pr.failures = 10;
    CHECK_INT(slo_judge(&p, &pr), ==, SLO_PASS);
    pr.failures = 11;
    CHECK_INT(slo_judge(&p, &pr), ==, SLO_FAIL_FAILURES);
    p.failures_pct = 0; /* any failure fails */
    pr.failures = 1;
    CHECK_INT(slo_judge(&p, &pr), ==, SLO_FAIL_FAILURES);
    p = plan();
    /* Backlog: completed under 98% of offered, or more in flight than rate x bound. */
    pr = good();
    pr.completed = 9800;
    CHECK_INT(slo_judge(&p, &pr), ==, SLO_PASS);
    pr.completed = 9799;
    CHECK_INT(slo_judge(&p, &pr), ==, SLO_FAIL_BACKLOG);
    pr = good();
    pr.in_flight = 25; /* 1000 x 0.025 */
    CHECK_INT(slo_judge(&p, &pr), ==, SLO_PASS);
    pr.in_flight = 26;
    CHECK_INT(slo_judge(&p, &pr), ==, SLO_FAIL_BACKLOG);
    /* The engine: client failures, or missed schedule over 1% of offered. */
    pr = good();
    pr.missed_schedule = 100;
    CHECK_INT(slo_judge(&p, &pr), ==, SLO_PASS);
    pr.missed_schedule = 101;
    CHECK_INT(slo_judge(&p, &pr), ==, SLO_INCONCLUSIVE);
    pr = good();
    pr.client_failures = 1;
    CHECK_INT(slo_judge(&p, &pr), ==, SLO_INCONCLUSIVE);
    pr = good();
    pr.wrong = 1;
    CHECK_INT(slo_judge(&p, &pr), ==, SLO_WRONG);

    /* The order: every fault at once, then taken away one by one. */
    pr = good();
    pr.wrong = 1;
    pr.client_failures = 1;
    pr.failures = 500;
    pr.completed = 9000;
    pr.over_bound = 9000;
    CHECK_INT(slo_judge(&p, &pr), ==, SLO_WRONG);
    pr.wrong = 0;
    CHECK_INT(slo_judge(&p, &pr), ==, SLO_INCONCLUSIVE);
    pr.client_failures = 0;
    pr.missed_schedule = 5000;
    CHECK_INT(slo_judge(&p, &pr), ==, SLO_INCONCLUSIVE);
    pr.missed_schedule = 0;
    CHECK_INT(slo_judge(&p, &pr), ==, SLO_FAIL_FAILURES);
    pr.failures = 0;
    CHECK_INT(slo_judge(&p, &pr), ==, SLO_FAIL_BACKLOG);
    pr.completed = 10000;
    pr.in_flight = 1000;
    CHECK_INT(slo_judge(&p, &pr), ==, SLO_FAIL_BACKLOG);
    pr.in_flight = 0;
    CHECK_INT(slo_judge(&p, &pr), ==, SLO_FAIL_LATENCY);
    pr.over_bound = 0;
    CHECK_INT(slo_judge(&p, &pr), ==, SLO_PASS);

    /* Stopped early: by what stopped it, at the planned count (1000 x 10). */
    pr = good();
    pr.stopped_early = 1;
    pr.samples = 300;
    pr.over_bound = 0;
    CHECK_INT(slo_judge(&p, &pr), ==, SLO_FAIL_BACKLOG);
    pr.over_bound = (uint64_t)most;
    CHECK_INT(slo_judge(&p, &pr), ==, SLO_FAIL_BACKLOG);
    pr.over_bound = (uint64_t)most + 1;
    CHECK_INT(slo_judge(&p, &pr), ==, SLO_FAIL_LATENCY);
    pr.failures = 200; /* the order still holds before it */
    CHECK_INT(slo_judge(&p, &pr), ==, SLO_FAIL_FAILURES);
}

static void test_hopeless(void)
{
    struct slo_plan p = plan();
    /* 1000 req/s: window 20 s, 20000 planned. */
    int64_t most = slo_max_over(20000, 99, 0.99);
    CHECK_INT(most, ==, 167);
    CHECK_INT(slo_probe_hopeless(&p, 1000, 0, 0), ==, 0);
    CHECK_INT(slo_probe_hopeless(&p, 1000, (uint64_t)most, 0), ==, 0);
    CHECK_INT(slo_probe_hopeless(&p, 1000, (uint64_t)most + 1, 0), ==, 1);
    /* Backlog above 4 x 1000 x 0.025 = 100. */
    CHECK_INT(slo_probe_hopeless(&p, 1000, 0, 100), ==, 0);
    CHECK_INT(slo_probe_hopeless(&p, 1000, 0, 101), ==, 1);
    /* 10 req/s x 20 s = 200 planned: can never pass at p99. */
    CHECK_INT(slo_probe_hopeless(&p, 10, 0, 0), ==, 1);
    /* 100000 req/s x 8 s = 800000 planned. */
    most = slo_max_over(800000, 99, 0.99);
    CHECK_INT(slo_probe_hopeless(&p, 100000, (uint64_t)most, 0), ==, 0);
    CHECK_INT(slo_probe_hopeless(&p, 100000, (uint64_t)most + 1, 0), ==, 1);
}

/* ---- the search ---- */

/* A pretend server: passes below T; the probes numbered in `noise` fail
 * anyway (1-based), probe `client` is inconclusive, probe `end` ends. */
struct server {
    double t;
    int noise[8];
    int client, end;
    int client_all; /* every probe inconclusive */
};

struct run {
    char trace[4096]; /* "b100 b50 s70.7 c70.7": kind's first letter, rate */
    int confirms;
    struct slo_search s;
};

static void drive(const struct slo_plan *p, double seed, const struct server *sv, struct run *r)
{
    double rate;
    const char *kind;
    size_t len = 0;
    int n = 0;
    r->trace[0] = '\0';
    r->confirms = 0;
    slo_search_init(&r->s, p, seed);
    while (slo_search_next(&r->s, &rate, &kind) && n < 200) {
        n++;
        if (len < sizeof(r->trace) - 40)
            len += (size_t)snprintf(r->trace + len, sizeof(r->trace) - len, "%s%c%.4g",
                                    len ? " " : "", kind[1] == 'i' ? 's' : kind[0], rate);
        r->confirms += kind[0] == 'c';
        enum slo_outcome o = rate < sv->t ? SLO_PASS : SLO_FAIL_LATENCY;
        for (int i = 0; i < 8; i++)
            if (sv->noise[i] == n)
                o = SLO_FAIL_BACKLOG;
        if (n == sv->client || sv->client_all)
            o = SLO_INCONCLUSIVE;
        if (n == sv->end)
            o = SLO_END;
        slo_search_report(&r->s, o);
    }
    CHECK_INT(r->s.result.probes, ==, n);
}

static struct slo_plan small_plan(void)
{
    struct slo_plan p = plan();
    p.min_rps = 10;
    p.max_rps = 100000;
    return p;
}

static void test_search_steps(void)
{
    struct slo_plan p = small_plan();
    struct slo_search s;
    double rate = 0;
    const char *kind = NULL;
    slo_search_init(&s, &p, 1000);
    CHECK_INT(slo_search_next(&s, &rate, &kind), ==, 1);
    CHECK_DBL(rate, ==, 1000);
    CHECK_STR(kind, "bracket");
    CHECK_INT(slo_search_next(&s, &rate, &kind), ==, 1); /* asked again: the same */
    CHECK_DBL(rate, ==, 1000);
    slo_search_report(&s, SLO_PASS);
    slo_search_next(&s, &rate, &kind);
    CHECK_DBL(rate, ==, 2000);
    slo_search_report(&s, SLO_FAIL_FAILURES);
    slo_search_next(&s, &rate, &kind);
    CHECK_STR(kind, "bisect");
    CHECK_DBL(fabs(rate - sqrt(2e6)), <, 1e-9);
    slo_search_next(&s, &rate, &kind);
    CHECK_DBL(fabs(rate - sqrt(2e6)), <, 1e-9);
    CHECK_INT(s.result.probes, ==, 2);
    CHECK_DBL(s.result.lo, ==, 1000);
    CHECK_DBL(s.result.hi, ==, 2000);
    CHECK_STR(s.result.limit, "failures");
}

/* The exact sequences for a few servers, and the result. */
static void test_search_sequences(void)
{
    struct slo_plan p = small_plan();
    struct run r;
    struct server sv = {.t = 3000};
    /* Seed below T: doubling, then 4 geometric bisections of [2000, 4000]
     * (2^(1/16) = 1.044 <= 1.05), then one confirming probe. */
    drive(&p, 1000, &sv, &r);
    CHECK_STR(r.trace, "b1000 b2000 b4000 s2828 s3364 s3084 s2954 c2954");
    CHECK_DBL(r.s.result.rps, ==, r.s.result.lo);
    CHECK_STR(r.s.result.limit, "latency");
    CHECK_INT(r.s.result.unconfirmed, ==, 0);
    CHECK_INT(r.s.ended, ==, 0);
    /* Seed above T: halving. */
    drive(&p, 10000, &sv, &r);
    CHECK_STR(r.trace, "b1e+04 b5000 b2500 s3536 s2973 s3242 s3105 c2973");
    /* The seed is clamped into [min, max]. */
    drive(&p, 1e9, &sv, &r);
    CHECK_CONTAINS(r.trace, "b1e+05 b5e+04");
    CHECK_DBL(r.s.seed, ==, 100000);
    drive(&p, 0.5, &sv, &r);
    CHECK_CONTAINS(r.trace, "b10 b20 b40");
    CHECK_DBL(r.s.seed, ==, 10);
}

/* Wherever T lies relative to the seed: the result is below T and within
 * the resolution of it. */
static void test_search_thresholds(void)
{
    struct slo_plan p = small_plan();
    double step = 1 + p.resolution_pct / 100;
    double seeds[] = {10, 37, 1000, 2345, 99999, 100000};
    double ts[] = {10.5, 11, 60, 999, 1000, 1000.0001, 2000, 2345, 77777, 99000, 100000};
    for (size_t i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++) {
        for (size_t j = 0; j < sizeof(ts) / sizeof(ts[0]); j++) {
            struct server sv = {.t = ts[j]};
            struct run r;
            int f0 = t_failures;
            drive(&p, seeds[i], &sv, &r);
            const struct slo_result *res = &r.s.result;
            CHECK_DBL(res->rps, <, ts[j]);
            CHECK_DBL(res->rps * step, >=, ts[j]);
            CHECK_DBL(res->hi, >=, ts[j]);
            CHECK_DBL(res->hi / res->lo, <=, step);
            CHECK_STR(res->limit, "latency");
            CHECK_INT(r.confirms, ==, 1);
            CHECK_INT(res->unconfirmed, ==, 0);
            if (t_failures != f0)
                fprintf(stderr, "  seed %g T %g: %s\n", seeds[i], ts[j], r.trace);
        }
    }
    /* T above max: max passes and is confirmed. */
    struct server sv = {.t = 1e9};
    struct run r;
    drive(&p, 1000, &sv, &r);
    CHECK_STR(r.trace, "b1000 b2000 b4000 b8000 b1.6e+04 b3.2e+04 b6.4e+04 b1e+05 c1e+05");
    CHECK_DBL(r.s.result.rps, ==, 100000);
    CHECK_STR(r.s.result.limit, "max");
    CHECK_DBL(r.s.result.hi, ==, -1);
    drive(&p, 100000, &sv, &r);
    CHECK_STR(r.trace, "b1e+05 c1e+05");
    CHECK_STR(r.s.result.limit, "max");
    /* T at or below min: nothing passes, a measured 0 with its reason. */
    sv.t = 10;
    drive(&p, 1000, &sv, &r);
    CHECK_STR(r.trace, "b1000 b500 b250 b125 b62.5 b31.25 b15.62 b10");
    CHECK_DBL(r.s.result.rps, ==, 0);
    CHECK_DBL(r.s.result.lo, ==, -1);
    CHECK_DBL(r.s.result.hi, ==, 10);
    CHECK_STR(r.s.result.limit, "latency");
    drive(&p, 10, &sv, &r);
    CHECK_STR(r.trace, "b10");
    CHECK_DBL(r.s.result.rps, ==, 0);
}

/* Confirmations that fail (noise): a step down by the resolution each, at
 * most confirm_steps of them. */
static void test_search_confirm(void)
{
    struct slo_plan p = small_plan();
    double step = 1 + p.resolution_pct / 100;
    struct server sv = {.t = 3000, .noise = {8}}; /* the first confirm, c2954 */
    struct run r;
    drive(&p, 1000, &sv, &r);
    CHECK_INT(r.confirms, ==, 2);
    CHECK_DBL(fabs(r.s.result.rps - 2954.0 / step), <, 1);
    CHECK_DBL(fabs(r.s.result.hi - 2954), <, 1);
    CHECK_STR(r.s.result.limit, "backlog"); /* the lowest failing probe's */
    CHECK_INT(r.s.result.unconfirmed, ==, 0);
    /* Every confirmation fails: 3 of them, then no rate. */
    struct server all = {.t = 3000, .noise = {8, 9, 10, 11, 12}};
    drive(&p, 1000, &all, &r);
    CHECK_INT(r.confirms, ==, 3);
    CHECK_INT(r.s.result.probes, ==, 10);
    CHECK_DBL(r.s.result.rps, ==, -1);
    CHECK_DBL(r.s.result.lo, ==, -1);
    CHECK_INT(r.s.result.unconfirmed, ==, 1);
    CHECK_DBL(fabs(r.s.result.hi - 2954 / step / step), <, 1);
    p.confirm_steps = 0;
    drive(&p, 1000, &all, &r);
    CHECK_INT(r.confirms, ==, 1);
    CHECK_INT(r.s.result.unconfirmed, ==, 1);
    /* A failed confirmation of max: the limit is its reason, not "max". */
    p = small_plan();
    struct server top = {.t = 1e9, .noise = {2}};
    drive(&p, 100000, &top, &r);
    CHECK_STR(r.trace, "b1e+05 c1e+05 c9.524e+04");
    CHECK_STR(r.s.result.limit, "backlog");
    CHECK_DBL(fabs(r.s.result.rps - 1e5 / step), <, 1e-6);
    /* Step-downs stop at min. */
    struct server low = {.t = 10.4, .noise = {7}};
    drive(&p, 10, &low, &r);
    CHECK_STR(r.trace, "b10 b20 s14.14 s11.89 s10.91 s10.44 c10");
    CHECK_INT(r.s.result.unconfirmed, ==, 1);
}

static void test_search_stops(void)
{
    struct slo_plan p = small_plan();
    struct run r;
    /* Inconclusive (the client) at 2828: the search goes on below it as
     * after a failure; it stays the lowest failing rate, so the limit is
     * client and the result a lower bound. */
    struct server sv = {.t = 3000, .client = 4};
    drive(&p, 1000, &sv, &r);
    CHECK_STR(r.trace, "b1000 b2000 b4000 s2828 s2378 s2594 s2709 c2709");
    CHECK_STR(r.s.result.limit, "client");
    CHECK(fabs(r.s.result.rps - 2708.51) < 0.01);
    CHECK_INT(r.s.ended, ==, 0);
    /* The very first probe inconclusive: still a figure, below it. */
    sv.client = 1;
    drive(&p, 1000, &sv, &r);
    CHECK_STR(r.s.result.limit, "client");
    CHECK(fabs(r.s.result.rps - 957.603) < 0.01);
    /* Inconclusive all the way down to min_rps: not found (-1), never ">= 0". */
    struct server blind = {.t = 3000, .client = 1, .client_all = 1};
    drive(&p, 1000, &blind, &r);
    CHECK_STR(r.s.result.limit, "client");
    CHECK_DBL(r.s.result.rps, ==, -1);
    /* END: stops where it is. */
    struct server end = {.t = 3000, .end = 5};
    drive(&p, 1000, &end, &r);
    CHECK_STR(r.trace, "b1000 b2000 b4000 s2828 s3364");
    CHECK_INT(r.s.ended, ==, 1);
    CHECK_DBL(r.s.result.rps, ==, -1);
    CHECK_DBL(r.s.result.lo, ==, 2828.4271247461902);
    CHECK_DBL(r.s.result.hi, ==, 4000);
    CHECK_INT(r.s.result.probes, ==, 5);
    double rate;
    const char *kind;
    CHECK_INT(slo_search_next(&r.s, &rate, &kind), ==, 0);
    /* WRONG: the same. */
    struct slo_search s;
    slo_search_init(&s, &p, 1000);
    slo_search_next(&s, &rate, &kind);
    slo_search_report(&s, SLO_WRONG);
    CHECK_INT(s.ended, ==, 1);
    CHECK_INT(slo_search_next(&s, &rate, &kind), ==, 0);
    slo_search_report(&s, SLO_PASS); /* after the end: nothing */
    CHECK_INT(s.result.probes, ==, 1);
}

/* ---- the worst case ---- */

/* The search as the spec tells it, written apart from slo.c: the probes it
 * runs against a server passing below t, every confirmation failing when
 * `confirm_fails`. Returns the total time; *n the probes, rates[] each rate. */
static double window(const struct slo_plan *p, double rate)
{
    double w = (double)p->probe_min_samples / rate;
    return w < p->probe_min_s ? p->probe_min_s : w > p->probe_max_s ? p->probe_max_s : w;
}

struct sim {
    const struct slo_plan *p;
    double per, t, cost, rates[256];
    int n;
};

static int sim_probe(struct sim *m, double rate)
{
    if (m->n < 256)
        m->rates[m->n] = rate;
    m->n++;
    m->cost += m->p->warmup_s + window(m->p, rate) + m->per;
    return rate < m->t;
}

static double simulate(const struct slo_plan *p, double per, double seed, double t,
                       int confirm_fails, int *n, double *rps)
{
    struct sim m = {.p = p, .per = per, .t = t};
    double mn = p->min_rps, mx = p->max_rps, step = 1 + p->resolution_pct / 100;
    double s = seed < mn ? mn : seed > mx ? mx : seed, lo = -1, hi = -1;
    *rps = -1;
    if (sim_probe(&m, s)) {
        lo = s;
        while (lo < mx && m.n < 200) {
            double r = 2 * lo < mx ? 2 * lo : mx;
            if (!sim_probe(&m, r)) {
                hi = r;
                break;
            }
            lo = r;
        }
    } else {
        hi = s;
        while (lo < 0 && m.n < 200) {
            if (hi <= mn) {
                *n = m.n;
                *rps = 0;
                return m.cost;
            }
            double r = hi / 2 > mn ? hi / 2 : mn;
            if (sim_probe(&m, r))
                lo = r;
            else
                hi = r;
        }
    }
    while (hi > 0 && hi / lo > step && m.n < 200) {
        double r = sqrt(lo * hi);
        if (sim_probe(&m, r))
            lo = r;
        else
            hi = r;
    }
    for (int j = 0; j <= p->confirm_steps; j++) {
        int pass = sim_probe(&m, lo) && !confirm_fails;
        if (pass) {
            *rps = lo;
            break;
        }
        if (lo <= mn)
            break;
        lo = lo / step > mn ? lo / step : mn;
    }
    *n = m.n;
    return m.cost;
}

static double rnd(void) /* [0, 1) from a fixed sequence */
{
    static uint64_t x = 88172645463325252ULL;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return (double)(x >> 11) / 9007199254740992.0;
}

static double log_uniform(double a, double b)
{
    return a * exp(rnd() * log(b / a));
}

/* The simulator agrees with slo_search on random servers (confirmations
 * that pass when below T), so it is a fair judge of the worst case. */
static void test_simulator_agrees(void)
{
    struct slo_plan p = small_plan();
    int bad = 0;
    for (int i = 0; i < 3000; i++) {
        double seed = log_uniform(5, 2e5), t = log_uniform(2, 4e5), rps;
        int n;
        simulate(&p, 0, seed, t, 0, &n, &rps);
        struct server sv = {.t = t};
        struct run r;
        drive(&p, seed, &sv, &r);
        int ok = n == r.s.result.probes &&
                 (rps < 0 ? r.s.result.rps < 0 : fabs(rps - r.s.result.rps) <= 1e-9 * rps);
        if (!ok && bad++ < 3)
            fprintf(stderr, "  seed %g T %g: sim %d probes rps %g; %s\n", seed, t, n, rps, r.trace);
    }
    CHECK_INT(bad, ==, 0);
}

static void check_worst(struct slo_plan p, double per, const char *name)
{
    int most = 0, f0 = t_failures;
    double seed = 0, t = 0;
    double worst = slo_worst_case(&p, per, &most, &seed, &t);
    CHECK_DBL(worst, ==, slo_worst_s(&p, per, NULL));
    /* Closed-form bound on the probes: the bracket walks at most
     * log2(max/min) + 1 rates, bisection of a ratio <= 2 takes at most
     * ceil(log2(ln 2 / ln step)), then confirm_steps + 1 confirmations. */
    double step = 1 + p.resolution_pct / 100;
    int bound = (int)ceil(log2(p.max_rps / p.min_rps)) + 1 + (int)ceil(log2(log(2) / log(step))) +
                p.confirm_steps + 1;
    CHECK_INT(most, <=, bound);
    /* Its own example takes that long. */
    int n;
    double rps, got = simulate(&p, per, seed, t, 1, &n, &rps);
    CHECK_DBL(fabs(got - worst), <=, 1e-6 * worst);
    /* Nothing the simulator finds takes longer: random seeds and thresholds,
     * and seeds just around min x 2^k and max / 2^k. */
    double far = 0;
    int far_n = 0, over = 0;
    for (int i = 0; i < 40000; i++) {
        double s = log_uniform(p.min_rps, p.max_rps),
               th = log_uniform(p.min_rps / 3, p.max_rps * 3);
        if (i % 4 == 1) {
            int k = (int)(rnd() * 25);
            double d[] = {1, 1 + 1e-9, 1 - 1e-9, 1 + 1e-6};
            s = (i % 8 == 1 ? p.min_rps * ldexp(1, k) : p.max_rps / ldexp(1, k)) * d[i / 4 % 4];
            if (s < p.min_rps || s > p.max_rps)
                continue;
        }
        double c = simulate(&p, per, s, th, 1, &n, &rps);
        if (c > worst * (1 + 1e-9) && over++ < 3)
            fprintf(stderr, "  seed %.17g T %.17g takes %g > %g\n", s, th, c, worst);
        far = c > far ? c : far;
        far_n = n > far_n ? n : far_n;
    }
    CHECK_INT(over, ==, 0);
    CHECK_INT(far_n, <=, most);
    CHECK_INT(far_n, ==, most); /* the most probes are common enough to be found */
    CHECK_DBL(far, >, 0.9 * worst);
    if (t_failures != f0)
        fprintf(stderr, "  in plan %s: worst %g s, %d probes, seed %g T %g\n", name, worst, most,
                seed, t);
}

static void test_worst(void)
{
    struct slo_plan p = plan();
    check_worst(p, 3, "defaults");
    p = small_plan();
    check_worst(p, 0, "10..100000");
    p.min_rps = 3;
    p.max_rps = 700;
    p.resolution_pct = 20;
    p.confirm_steps = 1;
    p.probe_min_samples = 1000;
    p.probe_min_s = 1;
    p.probe_max_s = 60;
    check_worst(p, 0.5, "3..700, 20%");
    p.min_rps = 1;
    p.max_rps = 1024; /* a power of 2: flips coincide */
    p.resolution_pct = 3;
    p.confirm_steps = 3;
    check_worst(p, 1, "1..1024, 3%");
    p.confirm_steps = 0; /* no step-downs: nothing else flips where bisection does */
    p.min_rps = 7;
    check_worst(p, 1, "7..1024, 3%, no step-down");
    /* By hand: one rate only (min = max), every confirmation failing. */
    p = plan();
    p.min_rps = p.max_rps = 100;
    int most;
    double w = slo_worst_s(&p, 1, &most);
    CHECK_INT(most, ==, 2); /* 100 fails (nothing passes), or passes + 1 confirm at 100 */
    CHECK_DBL(w, ==, 2 * (2 + 20 + 1));
}

int main(void)
{
    test_max_over();
    test_defaults();
    test_window();
    test_judge();
    test_hopeless();
    test_search_steps();
    test_search_sequences();
    test_search_thresholds();
    test_search_confirm();
    test_search_stops();
    test_simulator_agrees();
    test_worst();
    T_DONE();
}
