/* test_arrivals.c - open-loop arrivals (run_arrival_gap_ns): Poisson gaps pass
 * a one-sample Kolmogorov-Smirnov test against the exponential distribution of
 * their rate, an even grid does not (so the test can fail); the same seed
 * replays the same gaps, another seed gives others; how late a send may leave
 * before it counts as missed. Pure arithmetic. */
#include "runner.h"
#include "t.h"

#include <math.h>

#define N 10000

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* D = sup |F_n(x) - F(x)| for F(x) = 1 - exp(-rate x), x in ns. */
static double ks_exponential(uint64_t *g, size_t n, double rate)
{
    qsort(g, n, sizeof(*g), cmp_u64);
    double d = 0;
    for (size_t i = 0; i < n; i++) {
        double f = 1 - exp(-rate * (double)g[i] / 1e9);
        double lo = f - (double)i / (double)n, hi = (double)(i + 1) / (double)n - f;
        if (lo > d)
            d = lo;
        if (hi > d)
            d = hi;
    }
    return d;
}

static uint64_t gaps[N], again[N];

static void draw(enum run_arrivals a, double rate, uint64_t seed, uint64_t *out)
{
    uint64_t rng = seed;
    for (size_t i = 0; i < N; i++)
        out[i] = run_arrival_gap_ns(a, rate, &rng);
}

int main(void)
{
    CHECK_STR(run_arrivals_name(RUN_ARRIVALS_POISSON), "poisson");
    CHECK_STR(run_arrivals_name(RUN_ARRIVALS_UNIFORM), "uniform");
    struct run_opts o;
    run_opts_init(&o);
    CHECK_INT(o.arrivals, ==, RUN_ARRIVALS_POISSON); /* the default */

    /* The 5% critical value of D for n = 10,000 is 1.36 / sqrt(n) = 0.0136.
     * Fixed seeds, so the outcome is the same on every run. */
    double crit = 1.36 / sqrt((double)N);
    const double rates[] = {1000, 200, 37.5, 50000};
    for (size_t k = 0; k < sizeof rates / sizeof rates[0]; k++) {
        draw(RUN_ARRIVALS_POISSON, rates[k], 42 + k, gaps);
        double sum = 0;
        for (size_t i = 0; i < N; i++)
            sum += (double)gaps[i];
        /* the mean within 4 standard errors (1/rate/sqrt(n) each) */
        CHECK_DBL(fabs(sum / N - 1e9 / rates[k]) / (1e9 / rates[k]), <, 4 / sqrt((double)N));
        double d = ks_exponential(gaps, N, rates[k]);
        if (d >= crit)
            T_FAIL("poisson at %g/s: KS D = %.5f >= %.5f", rates[k], d, crit);
        t_checks++;
    }
    /* An even grid has the right mean and fails the same test: D is near
     * 1 - 1/e (all the mass at the mean). */
    draw(RUN_ARRIVALS_UNIFORM, 1000, 42, gaps);
    CHECK_INT(gaps[0], ==, 1000000);
    CHECK_INT(gaps[N - 1], ==, 1000000);
    CHECK_DBL(ks_exponential(gaps, N, 1000), >, 0.5);

    /* The same seed replays the same gaps; another seed gives others. */
    draw(RUN_ARRIVALS_POISSON, 1000, 7, gaps);
    draw(RUN_ARRIVALS_POISSON, 1000, 7, again);
    CHECK_INT(memcmp(gaps, again, sizeof gaps), ==, 0);
    draw(RUN_ARRIVALS_POISSON, 1000, 8, again);
    size_t same = 0;
    for (size_t i = 0; i < N; i++)
        same += gaps[i] == again[i];
    CHECK_INT(same, <, N / 100);
    /* The stream advances: consecutive gaps differ. */
    CHECK(gaps[0] != gaps[1] || gaps[1] != gaps[2]);

    /* U is never 0: the longest gap is finite, at most 53 ln 2 mean gaps. */
    uint64_t rng = 1, mx = 0;
    for (int i = 0; i < 1000000; i++) {
        uint64_t g = run_arrival_gap_ns(RUN_ARRIVALS_POISSON, 1e6, &rng);
        if (g > mx)
            mx = g;
    }
    CHECK_INT(mx, <=, (uint64_t)(53 * log(2) * 1000) + 1);
    CHECK_INT(mx, >, 5000); /* ~14 mean gaps is the usual maximum of 10^6 */
    /* No rate: no next send. */
    CHECK_INT(run_arrival_gap_ns(RUN_ARRIVALS_POISSON, 0, &rng) == UINT64_MAX, ==, 1);

    /* How late a send may leave before it is missed: max(2 ms, a tenth of the
     * mean gap, a fifth of the bound). */
    CHECK_INT(run_missed_late_ns(200000, 0), ==, 2000000);         /* 5,000/s, no bound: 2 ms */
    CHECK_INT(run_missed_late_ns(200000, 25000), ==, 5000000);     /* bound 25 ms: 5 ms */
    CHECK_INT(run_missed_late_ns(200000, 5000), ==, 2000000);      /* bound 5 ms: the floor */
    CHECK_INT(run_missed_late_ns(100000000, 25000), ==, 10000000); /* 10/s: a tenth of 100 ms */
    CHECK_INT(run_missed_late_ns(1000000, 100000), ==, 20000000);  /* bound 100 ms: 20 ms */
    CHECK_INT(run_missed_late_ns(0, UINT64_MAX), ==, 2000000);     /* no overflow */
    T_DONE();
}
