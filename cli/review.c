/* review.c - statistics for the review commands (see review.h): robust
 * location and spread, Mann-Whitney U, the regression noise band, sparklines,
 * axis ticks and HTML escaping. No state; scratch memory is malloc'd per call. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "review.h"

/* A sorted copy of v, caller frees; NULL when n is 0, too big or out of memory. */
static double *sorted_copy(const double *v, size_t n)
{
    if (n == 0 || n > RV_MAX_N)
        return NULL;
    double *s = malloc(n * sizeof(*s));
    if (!s)
        return NULL;
    memcpy(s, v, n * sizeof(*s));
    mf_sort_doubles(s, n);
    return s;
}

double rv_quantile(const double *v, size_t n, double q)
{
    double *s = sorted_copy(v, n);
    if (!s)
        return NAN;
    double r = mf_quantile(s, n, q);
    free(s);
    return r;
}

double rv_median(const double *v, size_t n)
{
    return rv_quantile(v, n, 0.5);
}

double rv_iqr(const double *v, size_t n)
{
    double *s = sorted_copy(v, n);
    if (!s)
        return NAN;
    double r = mf_quantile(s, n, 0.75) - mf_quantile(s, n, 0.25);
    free(s);
    return r;
}

double rv_mad(const double *v, size_t n)
{
    double m = rv_median(v, n);
    if (isnan(m))
        return NAN;
    double *d = malloc(n * sizeof(*d));
    if (!d)
        return NAN;
    for (size_t i = 0; i < n; i++)
        d[i] = fabs(v[i] - m);
    double r = rv_median(d, n);
    free(d);
    return r;
}

struct ranked {
    double v;
    int from_a;
};

static int cmp_ranked(const void *a, const void *b)
{
    double x = ((const struct ranked *)a)->v, y = ((const struct ranked *)b)->v;
    return (x > y) - (x < y);
}

double rv_mann_whitney(const double *a, size_t na, const double *b, size_t nb, double *u)
{
    *u = NAN;
    if (na == 0 || nb == 0 || na > RV_MAX_N || nb > RV_MAX_N)
        return NAN;
    size_t n = na + nb;
    struct ranked *r = malloc(n * sizeof(*r));
    if (!r)
        return NAN;
    for (size_t i = 0; i < na; i++)
        r[i] = (struct ranked){a[i], 1};
    for (size_t i = 0; i < nb; i++)
        r[na + i] = (struct ranked){b[i], 0};
    qsort(r, n, sizeof(*r), cmp_ranked);
    /* Average ranks over ties; the tie term corrects the variance. */
    double rank_a = 0, ties = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j + 1 < n && r[j + 1].v == r[i].v)
            j++;
        double avg = ((double)(i + 1) + (double)(j + 1)) / 2.0, t = (double)(j - i + 1);
        for (size_t k = i; k <= j; k++)
            if (r[k].from_a)
                rank_a += avg;
        ties += t * t * t - t;
        i = j + 1;
    }
    free(r);
    double dna = (double)na, dnb = (double)nb, dn = (double)n;
    *u = rank_a - dna * (dna + 1) / 2.0;
    double mean = dna * dnb / 2.0;
    double var = dna * dnb / 12.0 * ((dn + 1) - (n > 1 ? ties / (dn * (dn - 1)) : 0));
    if (var <= 0)
        return 1.0; /* every value tied: no evidence of a difference */
    double z = (fabs(*u - mean) - 0.5) / sqrt(var);
    if (z < 0)
        z = 0;
    return erfc(z / sqrt(2.0));
}

const char *rv_mark_name(enum rv_mark m)
{
    switch (m) {
    case RV_SAME:
        return "same";
    case RV_BETTER:
        return "better";
    case RV_WORSE:
        return "worse";
    default:
        return "not comparable";
    }
}

static void min_max(const double *v, size_t n, double *lo, double *hi)
{
    *lo = *hi = v[0];
    for (size_t i = 1; i < n; i++) {
        if (v[i] < *lo)
            *lo = v[i];
        if (v[i] > *hi)
            *hi = v[i];
    }
}

enum rv_mark rv_compare(const double *a, size_t na, const double *b, size_t nb, double factor,
                        enum rv_dir dir, double *ratio)
{
    *ratio = NAN;
    double ma = rv_median(a, na), mb = rv_median(b, nb);
    if (isnan(ma) || isnan(mb))
        return RV_NC;
    if (ma != 0)
        *ratio = mb / ma;
    else if (mb == 0)
        *ratio = 1;
    if (factor < 1)
        factor = 1;
    int changed = ma != 0 ? (*ratio > factor || *ratio < 1.0 / factor) : mb != 0;
    if (!changed)
        return RV_SAME;
    int significant;
    if (na == 1 && nb == 1) {
        significant = 1;
    } else if (na >= 4 && nb >= 4) {
        double u, p = rv_mann_whitney(a, na, b, nb, &u);
        significant = !isnan(p) && p < 0.05;
    } else {
        double alo, ahi, blo, bhi;
        min_max(a, na, &alo, &ahi);
        min_max(b, nb, &blo, &bhi);
        significant = ahi < blo || bhi < alo;
    }
    if (!significant)
        return RV_SAME;
    int up = mb > ma;
    return (up == (dir == RV_HIGHER_BETTER)) ? RV_BETTER : RV_WORSE;
}

enum rv_mark rv_band_check(const double *prev, size_t n, size_t min_n, double k, double floor_frac,
                           double x, enum rv_dir dir, struct rv_band *b)
{
    memset(b, 0, sizeof(*b));
    b->n = n;
    b->median = b->mad = b->lo = b->hi = NAN;
    if (n == 0 || n < min_n || isnan(x))
        return RV_NC;
    b->median = rv_median(prev, n);
    b->mad = rv_mad(prev, n);
    if (isnan(b->median) || isnan(b->mad))
        return RV_NC;
    double spread = b->mad;
    if (spread < floor_frac * fabs(b->median))
        spread = floor_frac * fabs(b->median);
    b->lo = b->median - k * spread;
    b->hi = b->median + k * spread;
    if (x < b->lo)
        return dir == RV_HIGHER_BETTER ? RV_WORSE : RV_BETTER;
    if (x > b->hi)
        return dir == RV_HIGHER_BETTER ? RV_BETTER : RV_WORSE;
    return RV_SAME;
}

char *rv_sparkline(const double *v, size_t n, int utf8, char *out, size_t cap)
{
    static const char *const blocks[8] = {"\u2581", "\u2582", "\u2583", "\u2584",
                                          "\u2585", "\u2586", "\u2587", "\u2588"};
    static const char ascii[8] = {' ', '.', ':', '-', '=', '+', '*', '#'};
    if (cap == 0)
        return out;
    out[0] = '\0';
    size_t width = utf8 ? 3 : 1;
    size_t fit = (cap - 1) / width;
    size_t first = n > fit ? n - fit : 0;
    double lo = INFINITY, hi = -INFINITY;
    for (size_t i = first; i < n; i++) {
        if (!isfinite(v[i]))
            continue;
        if (v[i] < lo)
            lo = v[i];
        if (v[i] > hi)
            hi = v[i];
    }
    /* The scale spans at least 10% of the largest value, so a 1% wobble does
     * not look like a cliff. */
    double span = 0.1 * fmax(fabs(lo), fabs(hi));
    if (hi > lo && hi - lo < span) {
        double mid = (hi + lo) / 2;
        lo = mid - span / 2;
        hi = mid + span / 2;
    }
    size_t len = 0;
    for (size_t i = first; i < n; i++) {
        int level = -1;
        if (isfinite(v[i]))
            level = hi > lo ? (int)lround((v[i] - lo) / (hi - lo) * 7.0) : 3;
        if (level < 0) {
            out[len++] = ' ';
        } else if (utf8) {
            memcpy(out + len, blocks[level], 3);
            len += 3;
        } else {
            out[len++] = ascii[level];
        }
    }
    out[len] = '\0';
    return out;
}

void rv_html_escape(FILE *f, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&':
            fputs("&amp;", f);
            break;
        case '<':
            fputs("&lt;", f);
            break;
        case '>':
            fputs("&gt;", f);
            break;
        case '"':
            fputs("&quot;", f);
            break;
        case '\'':
            fputs("&#39;", f);
            break;
        default:
            fputc(*s, f);
        }
    }
}

void rv_md_escape(FILE *f, const char *s)
{
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '&')
            fputs("&amp;", f);
        else if (ch == '<')
            fputs("&lt;", f);
        else if (ch == '>')
            fputs("&gt;", f);
        else if (strchr("|`*_[]\\", ch))
            fprintf(f, "\\%c", ch);
        else if (ch < 0x20 || ch == 0x7f)
            fputc(' ', f);
        else
            fputc(ch, f);
    }
}

void rv_csv_field(FILE *f, const char *s)
{
    if (!strpbrk(s, ",\"\n\r")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

size_t rv_ticks(double lo, double hi, size_t max_ticks, double *ticks)
{
    if (max_ticks < 2 || !isfinite(lo) || !isfinite(hi))
        return 0;
    if (hi < lo) {
        double t = lo;
        lo = hi;
        hi = t;
    }
    if (hi - lo <= 0)
        hi = lo + (lo != 0 ? fabs(lo) : 1);
    double raw = (hi - lo) / (double)(max_ticks - 1);
    double mag = pow(10, floor(log10(raw)));
    static const double steps[] = {1, 2, 2.5, 5, 10, 20};
    for (size_t si = 0; si < sizeof(steps) / sizeof(steps[0]); si++) {
        double step = steps[si] * mag;
        double start = floor(lo / step) * step, end = ceil(hi / step) * step;
        size_t count = (size_t)llround((end - start) / step) + 1;
        if (count > max_ticks)
            continue;
        for (size_t i = 0; i < count; i++)
            ticks[i] = start + (double)i * step;
        return count;
    }
    ticks[0] = lo;
    ticks[1] = hi;
    return 2;
}
