/* test_hist.c - the log-linear histogram against exact percentiles of known
 * samples, exact merges, exact mean and max. */
#include "runner.h"
#include "t.h"

#include <math.h>

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of sorted v. */
static double exact_pct(const uint64_t *v, size_t n, double q)
{
    if (q >= 100)
        return (double)v[n - 1];
    size_t rank = (size_t)ceil(q / 100.0 * (double)n);
    if (rank < 1)
        rank = 1;
    return (double)v[rank - 1];
}

static const double qs[] = {1, 10, 25, 50, 66, 75, 90, 95, 99, 99.9, 99.99, 100};

static void check_set(const char *name, uint64_t *v, size_t n)
{
    struct run_hist *h = run_hist_new();
    double sum = 0;
    uint64_t mx = 0;
    for (size_t i = 0; i < n; i++) {
        run_hist_record(h, v[i]);
        sum += (double)v[i];
        if (v[i] > mx)
            mx = v[i];
    }
    qsort(v, n, sizeof(*v), cmp_u64);
    CHECK_INT(run_hist_count(h), ==, n);
    for (size_t i = 0; i < sizeof(qs) / sizeof(qs[0]); i++) {
        double ex = exact_pct(v, n, qs[i]);
        double got = run_hist_percentile(h, qs[i]);
        double rel = ex > 0 ? fabs(got - ex) / ex : fabs(got);
        if (rel >= 0.01)
            fprintf(stderr, "%s q=%g exact=%g got=%g\n", name, qs[i], ex, got);
        CHECK_DBL(rel, <, 0.01);
    }
    CHECK_DBL(fabs(run_hist_mean(h) - sum / (double)n), <, 1e-6 * (sum / (double)n) + 1e-9);
    CHECK_INT(run_hist_max(h), ==, mx);
    CHECK_INT(run_hist_min(h), ==, v[0]);
    run_hist_free(h);
}

int main(void)
{
    enum { N = 100000 };
    static uint64_t v[N];
    uint64_t s = 42;
    /* uniform 0..50 ms */
    for (size_t i = 0; i < N; i++) {
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        v[i] = (s >> 33) % 50000;
    }
    check_set("uniform", v, N);
    /* exponential-ish, mean 2 ms */
    for (size_t i = 0; i < N; i++) {
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        double u = ((double)(s >> 11) + 0.5) / 9007199254740992.0;
        v[i] = (uint64_t)(-log(u) * 2000.0);
    }
    check_set("exponential", v, N);
    /* constant */
    for (size_t i = 0; i < N; i++)
        v[i] = 1234;
    check_set("constant", v, N);
    /* wide: 1 us .. 100 s, log-uniform */
    for (size_t i = 0; i < N; i++) {
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        double u = (double)(s >> 11) / 9007199254740992.0;
        v[i] = (uint64_t)pow(10.0, u * 8.0);
        if (v[i] < 1)
            v[i] = 1;
    }
    v[0] = 1;
    v[1] = 100000000;
    check_set("wide", v, N);

    /* merge of per-thread histograms == one histogram of all samples */
    struct run_hist *all = run_hist_new(), *a = run_hist_new(), *b = run_hist_new(),
                    *m = run_hist_new();
    for (size_t i = 0; i < N; i++) {
        run_hist_record(all, v[i]);
        run_hist_record(i % 3 ? a : b, v[i]);
    }
    run_hist_merge(m, a);
    run_hist_merge(m, b);
    CHECK_INT(run_hist_count(m), ==, run_hist_count(all));
    for (size_t i = 0; i < sizeof(qs) / sizeof(qs[0]); i++)
        CHECK_DBL(run_hist_percentile(m, qs[i]), ==, run_hist_percentile(all, qs[i]));
    CHECK_DBL(run_hist_mean(m), ==, run_hist_mean(all));
    CHECK_INT(run_hist_max(m), ==, run_hist_max(all));
    CHECK_INT(run_hist_min(m), ==, run_hist_min(all));

    /* empty, reset, summary in ms */
    run_hist_reset(m);
    CHECK_INT(run_hist_count(m), ==, 0);
    CHECK_DBL(run_hist_percentile(m, 50), ==, 0);
    CHECK_DBL(run_hist_mean(m), ==, 0);
    run_hist_record(m, 1000);
    run_hist_record(m, 3000);
    struct latency_ms l;
    run_hist_summary(m, &l);
    CHECK_DBL(l.mean, ==, 2.0);
    CHECK_DBL(l.max, ==, 3.0);
    CHECK_DBL(fabs(l.p50 - 1.0), <, 0.01);
    /* huge values are clamped, not out of bounds */
    run_hist_record(m, UINT64_MAX / 2);
    CHECK_INT(run_hist_count(m), ==, 3);
    run_hist_free(all);
    run_hist_free(a);
    run_hist_free(b);
    run_hist_free(m);
    T_DONE();
}
