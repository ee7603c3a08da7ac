/* hist_int.h - private view of the log-linear histogram for the engine: bucket
 * indexes, so per-second histograms can be stored sparsely and merged later. */
#ifndef MFBENCH_HIST_INT_H
#define MFBENCH_HIST_INT_H

#include <stddef.h>
#include <stdint.h>

#include "runner.h"

/* Values below 2^SUB_BITS are exact; above, each power of two is cut into
 * 2^(SUB_BITS-1) linear sub-buckets, so a bucket is < 1/128 of its value wide. */
#define RUN_HIST_SUB_BITS 8
#define RUN_HIST_MAX_EXP 41 /* values >= 2^41 us (25 days) are clamped */
#define RUN_HIST_NBUCKETS                                                                          \
    ((1u << RUN_HIST_SUB_BITS) +                                                                   \
     (RUN_HIST_MAX_EXP - RUN_HIST_SUB_BITS) * (1u << (RUN_HIST_SUB_BITS - 1)))

size_t run__hist_index(uint64_t us);
/* Representative value (midpoint) of bucket i, in us. */
double run__hist_value(size_t i);
uint64_t run__hist_bucket(const struct run_hist *h, size_t i);
/* Adds count samples at bucket i (sum/min/max updated from the bucket's value). */
void run__hist_add_bucket(struct run_hist *h, size_t i, uint64_t count);

#endif
