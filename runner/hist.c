/* hist.c - log-linear latency histogram (HdrHistogram's layout, simplified):
 * exact below 256 us, then 128 linear sub-buckets per power of two, so any
 * value is reported within 0.4% (bucket midpoint). Fixed size, O(1) record. */
#include "hist_int.h"

#include <stdlib.h>
#include <string.h>

#define SUB_HALF (1u << (RUN_HIST_SUB_BITS - 1))
#define MAX_VALUE ((UINT64_C(1) << RUN_HIST_MAX_EXP) - 1)

struct run_hist {
    uint64_t total;
    uint64_t min, max;
    double sum; /* exact up to 2^53 us in total; a double keeps it overflow-free */
    uint64_t counts[RUN_HIST_NBUCKETS];
};

size_t run__hist_index(uint64_t us)
{
    if (us > MAX_VALUE)
        us = MAX_VALUE;
    if (us < (1u << RUN_HIST_SUB_BITS))
        return (size_t)us;
    unsigned k = 63u - (unsigned)__builtin_clzll(us); /* >= SUB_BITS */
    unsigned shift = k - (RUN_HIST_SUB_BITS - 1);
    uint64_t sub = us >> shift; /* in [SUB_HALF, 2*SUB_HALF) */
    return (1u << RUN_HIST_SUB_BITS) + (size_t)(k - RUN_HIST_SUB_BITS) * SUB_HALF +
           (size_t)(sub - SUB_HALF);
}

static void bucket_range(size_t i, uint64_t *lo, uint64_t *hi)
{
    if (i < (1u << RUN_HIST_SUB_BITS)) {
        *lo = *hi = i;
        return;
    }
    size_t j = i - (1u << RUN_HIST_SUB_BITS);
    unsigned k = (unsigned)(j / SUB_HALF) + RUN_HIST_SUB_BITS;
    uint64_t sub = SUB_HALF + j % SUB_HALF;
    unsigned shift = k - (RUN_HIST_SUB_BITS - 1);
    *lo = sub << shift;
    *hi = *lo + (UINT64_C(1) << shift) - 1;
}

double run__hist_value(size_t i)
{
    uint64_t lo, hi;
    bucket_range(i, &lo, &hi);
    return ((double)lo + (double)hi) / 2.0;
}

struct run_hist *run_hist_new(void)
{
    struct run_hist *h = malloc(sizeof(*h));
    if (h)
        run_hist_reset(h);
    return h;
}

void run_hist_free(struct run_hist *h)
{
    free(h);
}

void run_hist_reset(struct run_hist *h)
{
    memset(h, 0, sizeof(*h));
    h->min = UINT64_MAX;
}

void run_hist_record(struct run_hist *h, uint64_t us)
{
    h->counts[run__hist_index(us)]++;
    h->total++;
    h->sum += (double)us;
    if (us < h->min)
        h->min = us;
    if (us > h->max)
        h->max = us;
}

uint64_t run__hist_bucket(const struct run_hist *h, size_t i)
{
    return i < RUN_HIST_NBUCKETS ? h->counts[i] : 0;
}

void run__hist_add_bucket(struct run_hist *h, size_t i, uint64_t count)
{
    if (i >= RUN_HIST_NBUCKETS || count == 0)
        return;
    uint64_t lo, hi;
    bucket_range(i, &lo, &hi);
    h->counts[i] += count;
    h->total += count;
    h->sum += run__hist_value(i) * (double)count;
    if (lo < h->min)
        h->min = lo;
    if (hi > h->max)
        h->max = hi;
}

void run_hist_merge(struct run_hist *dst, const struct run_hist *src)
{
    if (src->total == 0)
        return;
    for (size_t i = 0; i < RUN_HIST_NBUCKETS; i++)
        dst->counts[i] += src->counts[i];
    dst->total += src->total;
    dst->sum += src->sum;
    if (src->min < dst->min)
        dst->min = src->min;
    if (src->max > dst->max)
        dst->max = src->max;
}

uint64_t run_hist_count(const struct run_hist *h)
{
    return h->total;
}

/* The value at rank ceil(q/100 * n) (nearest-rank definition), as the midpoint
 * of its bucket clamped to the exact min and max. */
double run_hist_percentile(const struct run_hist *h, double q)
{
    if (h->total == 0)
        return 0;
    if (q <= 0)
        return (double)h->min;
    if (q >= 100)
        return (double)h->max;
    double want = q / 100.0 * (double)h->total;
    uint64_t rank = (uint64_t)want;
    if ((double)rank < want)
        rank++;
    if (rank < 1)
        rank = 1;
    uint64_t cum = 0;
    for (size_t i = 0; i < RUN_HIST_NBUCKETS; i++) {
        cum += h->counts[i];
        if (cum >= rank) {
            double v = run__hist_value(i);
            if (v < (double)h->min)
                v = (double)h->min;
            if (v > (double)h->max)
                v = (double)h->max;
            return v;
        }
    }
    return (double)h->max;
}

double run_hist_mean(const struct run_hist *h)
{
    return h->total ? h->sum / (double)h->total : 0;
}

uint64_t run_hist_max(const struct run_hist *h)
{
    return h->max;
}

uint64_t run_hist_min(const struct run_hist *h)
{
    return h->total ? h->min : 0;
}

void run_hist_summary(const struct run_hist *h, struct latency_ms *out)
{
    out->mean = run_hist_mean(h) / 1000.0;
    out->p50 = run_hist_percentile(h, 50) / 1000.0;
    out->p90 = run_hist_percentile(h, 90) / 1000.0;
    out->p99 = run_hist_percentile(h, 99) / 1000.0;
    out->p999 = run_hist_percentile(h, 99.9) / 1000.0;
    out->max = (double)run_hist_max(h) / 1000.0;
}
