/* test_review.c - unit tests of cli/review.c: median, MAD, quantiles,
 * Mann-Whitney U against hand-computed values, compare marks, the regression
 * noise band (a 20% drop flagged, a 2% wobble not), sparklines, ticks. */
#include <math.h>

#include "review.h"
#include "t.h"

static void test_location(void)
{
    double v[] = {5, 1, 3, 2, 4};
    CHECK_DBL(rv_median(v, 5), ==, 3);
    CHECK_DBL(rv_median(v, 4), ==, 2.5); /* 5 1 3 2 -> 1 2 3 5 */
    CHECK(isnan(rv_median(v, 0)));
    CHECK_DBL(v[0], ==, 5); /* input untouched */
    double w[] = {1, 1, 2, 2, 4, 6, 9};
    CHECK_DBL(rv_mad(w, 7), ==, 1); /* median 2; deviations 1 1 0 0 2 4 7 -> 1 */
    CHECK_DBL(rv_quantile(w, 7, 0.25), ==, 1.5);
    CHECK_DBL(rv_quantile(w, 7, 0.75), ==, 5);
    CHECK_DBL(rv_iqr(w, 7), ==, 3.5);
    CHECK_DBL(rv_quantile(w, 7, 0), ==, 1);
    CHECK_DBL(rv_quantile(w, 7, 1), ==, 9);
}

static void test_mann_whitney(void)
{
    double a[] = {1, 2, 3, 4, 5}, b[] = {6, 7, 8, 9, 10}, u;
    double p = rv_mann_whitney(a, 5, b, 5, &u);
    CHECK_DBL(u, ==, 0);
    CHECK_DBL(fabs(p - 0.01219), <, 1e-4); /* scipy.stats.mannwhitneyu, asymptotic */
    p = rv_mann_whitney(b, 5, a, 5, &u);
    CHECK_DBL(u, ==, 25);
    CHECK_DBL(fabs(p - 0.01219), <, 1e-4);
    double c[] = {1, 3, 5, 7, 9}, d[] = {2, 4, 6, 8, 10};
    p = rv_mann_whitney(c, 5, d, 5, &u);
    CHECK_DBL(p, >, 0.5);
    double t1[] = {3, 3, 3, 3}, t2[] = {3, 3, 3, 3};
    CHECK_DBL(rv_mann_whitney(t1, 4, t2, 4, &u), ==, 1);
    CHECK(isnan(rv_mann_whitney(a, 0, b, 5, &u)));
}

static void test_compare(void)
{
    double r;
    double a = 1000, b = 800, b2 = 1050;
    CHECK_INT(rv_compare(&a, 1, &b, 1, 1.10, RV_HIGHER_BETTER, &r), ==, RV_WORSE);
    CHECK_DBL(fabs(r - 0.8), <, 1e-12);
    CHECK_INT(rv_compare(&a, 1, &b2, 1, 1.10, RV_HIGHER_BETTER, &r), ==, RV_SAME);
    CHECK_INT(rv_compare(&a, 1, &b, 1, 1.10, RV_LOWER_BETTER, &r), ==, RV_BETTER);
    CHECK_INT(rv_compare(&a, 0, &b, 1, 1.10, RV_LOWER_BETTER, &r), ==, RV_NC);
    /* repeats, n >= 4: Mann-Whitney decides */
    double x[] = {100, 101, 99, 100, 102}, y[] = {80, 81, 79, 80, 82};
    CHECK_INT(rv_compare(x, 5, y, 5, 1.10, RV_HIGHER_BETTER, &r), ==, RV_WORSE);
    double noisy[] = {60, 130, 70, 140, 65}; /* median 70: ratio 0.7 but overlapping */
    CHECK_INT(rv_compare(x, 5, noisy, 5, 1.10, RV_HIGHER_BETTER, &r), ==, RV_SAME);
    CHECK_DBL(r, <, 0.75);
    /* repeats, n < 4: min-max intervals */
    double i1[] = {100, 110, 105}, i2[] = {80, 85, 82}, i3[] = {80, 101, 82};
    CHECK_INT(rv_compare(i1, 3, i2, 3, 1.10, RV_HIGHER_BETTER, &r), ==, RV_WORSE);
    CHECK_INT(rv_compare(i1, 3, i3, 3, 1.10, RV_HIGHER_BETTER, &r), ==, RV_SAME);
    /* from zero */
    double z = 0, one = 500;
    CHECK_INT(rv_compare(&z, 1, &one, 1, 1.10, RV_HIGHER_BETTER, &r), ==, RV_BETTER);
    CHECK_INT(rv_compare(&z, 1, &z, 1, 1.10, RV_HIGHER_BETTER, &r), ==, RV_SAME);
    CHECK_DBL(r, ==, 1);
}

static void test_band(void)
{
    struct rv_band b;
    double flat[] = {2000, 2000, 2000, 2000, 2000, 2000, 2000};
    /* a 20% drop flagged, a 2% wobble not, even on a perfectly flat history */
    CHECK_INT(rv_band_check(flat, 7, 3, 3, 0.01, 1600, RV_HIGHER_BETTER, &b), ==, RV_WORSE);
    CHECK_DBL(b.median, ==, 2000);
    CHECK_DBL(b.lo, ==, 1940);
    CHECK_DBL(b.hi, ==, 2060);
    CHECK_INT(rv_band_check(flat, 7, 3, 3, 0.01, 1960, RV_HIGHER_BETTER, &b), ==, RV_SAME);
    CHECK_INT(rv_band_check(flat, 7, 3, 3, 0.01, 2040, RV_HIGHER_BETTER, &b), ==, RV_SAME);
    CHECK_INT(rv_band_check(flat, 7, 3, 3, 0.01, 2400, RV_HIGHER_BETTER, &b), ==, RV_BETTER);
    /* p99: higher is worse */
    double p99[] = {10, 11, 10, 12, 10, 11, 10};
    CHECK_INT(rv_band_check(p99, 7, 3, 3, 0.01, 20, RV_LOWER_BETTER, &b), ==, RV_WORSE);
    /* more than half equal: MAD 0, the 1% floor makes the band 9.7..10.3 */
    CHECK_INT(rv_band_check(p99, 7, 3, 3, 0.01, 10.2, RV_LOWER_BETTER, &b), ==, RV_SAME);
    CHECK_DBL(b.mad, ==, 0);
    CHECK_DBL(fabs(b.hi - 10.3), <, 1e-9);
    CHECK_INT(rv_band_check(p99, 7, 3, 3, 0.01, 9, RV_LOWER_BETTER, &b), ==, RV_BETTER);
    /* too few previous runs: not comparable */
    CHECK_INT(rv_band_check(flat, 2, 3, 3, 0.01, 100, RV_HIGHER_BETTER, &b), ==, RV_NC);
    /* noisy history widens the band */
    double noisy[] = {2000, 1800, 2200, 1900, 2100, 1700, 2300};
    CHECK_INT(rv_band_check(noisy, 7, 3, 3, 0.01, 1600, RV_HIGHER_BETTER, &b), ==, RV_SAME);
}

static void test_sparkline(void)
{
    char out[64];
    double v[] = {1, 2, 3, 4, 5, 6, 7, 8};
    CHECK_STR(rv_sparkline(v, 8, 1, out, sizeof(out)), "▁▂▃▄▅▆▇█");
    CHECK_STR(rv_sparkline(v, 8, 0, out, sizeof(out)), " .:-=+*#");
    double flat[] = {5, 5, 5};
    CHECK_STR(rv_sparkline(flat, 3, 1, out, sizeof(out)), "▄▄▄");
    /* a 2% dip is a small step, not a cliff */
    double dip[] = {1000, 1000, 980};
    CHECK_STR(rv_sparkline(dip, 3, 1, out, sizeof(out)), "▅▅▄");
    double gap[] = {1, NAN, 8};
    CHECK_STR(rv_sparkline(gap, 3, 1, out, sizeof(out)), "▁ █");
    /* too long: keeps the newest values (scaled among themselves), stays terminated */
    char small[7];
    CHECK_STR(rv_sparkline(v, 8, 1, small, sizeof(small)), "▁█");
    char tiny[3];
    CHECK_STR(rv_sparkline(v, 8, 1, tiny, sizeof(tiny)), "");
    CHECK_STR(rv_sparkline(v, 0, 1, out, sizeof(out)), "");
}

static void test_ticks(void)
{
    double t[16];
    size_t n = rv_ticks(0, 1937, 6, t);
    CHECK_INT(n, >=, 2);
    CHECK_INT(n, <=, 6);
    CHECK_DBL(t[0], <=, 0);
    CHECK_DBL(t[n - 1], >=, 1937);
    CHECK_DBL(t[1] - t[0], ==, 500);
    n = rv_ticks(0, 0, 6, t);
    CHECK_INT(n, >=, 2);
    CHECK_DBL(t[n - 1], >, 0);
    n = rv_ticks(3.2, 7.9, 10, t);
    CHECK_DBL(t[0], <=, 3.2);
    CHECK_DBL(t[n - 1], >=, 7.9);
}

int main(void)
{
    test_location();
    test_mann_whitney();
    test_compare();
    test_band();
    test_sparkline();
    test_ticks();
    T_DONE();
}
