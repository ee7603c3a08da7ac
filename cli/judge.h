/* judge.h - what compare, history and the report's history charts judge, and
 * when they may: whether two runs are comparable at all (same profile and
 * settings; a node change is said apart), the figures of a cell in the order
 * they are judged (issue 19: SLO capacity, latency at its load points, the
 * passing peak, held users), and the rules that turn two figures, or a figure
 * and its history, into better / worse / same / not comparable. Lower bounds
 * are never regressions (issue 20). Pure functions over results; no I/O. */
#ifndef MFBENCH_JUDGE_H
#define MFBENCH_JUDGE_H

#include <stddef.h>
#include <stdint.h>

#include "result.h"
#include "review.h"

/* Whether runs a (before) and b (after) may be compared. */
enum cli_comparable {
    CLI_COMPARABLE,    /* same settings, same node */
    CLI_NODE_CHANGED,  /* same settings, another node: a change is "node changed" */
    CLI_NOT_COMPARABLE /* the profile or its settings differ: nothing is judged */
};

/* The one decision of comparability for compare, history and report. The
 * profile names and the settings lines (runs.settings, cfg_settings_describe)
 * must match where both sides know them (a run stored before they were kept
 * has "" and matches anything); the node (cli_node_changes) decides between
 * CLI_COMPARABLE and CLI_NODE_CHANGED. why gets what differs: "settings differ
 * (profile quick vs nightly)", "settings differ (phases 2 s vs phases 60 s)",
 * or the node's changes ("kernel: 6.1.0 -> 6.5.0"); "" when comparable. */
enum cli_comparable cli_runs_comparable(const struct run_record *a, const struct run_record *b,
                                        char *why, size_t n);

/* The figures of a cell, in the order they are judged. The first
 * CLI_FIG_JUDGED decide a verdict; capacity_users (throughput x timeout, not a
 * server limit) and the peak over every phase, failing ones included, are kept
 * for reference and never decide one. */
enum cli_fig {
    CLI_FIG_SLO,          /* SLO capacity at the first bound, req/s; band [bracket_lo, hi] */
    CLI_FIG_P99_A,        /* p99 at the first load point, ms */
    CLI_FIG_P99_B,        /* p99 at the second load point, ms */
    CLI_FIG_PEAK_PASSING, /* closed-loop peak of passing phases, req/s */
    CLI_FIG_HELD,         /* held users */
    CLI_FIG_JUDGED,
    CLI_FIG_CAPACITY = CLI_FIG_JUDGED, /* capacity_users */
    CLI_FIG_PEAK_RPS,                  /* the stored peak over all phases */
    CLI_FIG__COUNT
};
/* JSON names ("slo_rps", "p99_a_ms", ...) and table labels. */
extern const char *const cli_fig_names[CLI_FIG__COUNT];
extern const char *const cli_fig_labels[CLI_FIG__COUNT];
extern const enum rv_dir cli_fig_dirs[CLI_FIG__COUNT];

struct cli_fig_value {
    double v;              /* NAN = the cell has none */
    double lo, hi;         /* SLO: its band [bracket_lo, bracket_hi]; else NAN */
    double at_rps;         /* latency: the load point's offered rate; else NAN */
    double pct;            /* latency: its share (% of slo or peak); else NAN */
    const char *qualifier; /* HL_Q_* (headline.h) */
    int lower_bound;       /* qualifier is lower_bound_max or lower_bound_client */
};

/* The figures of cell c (headline_compute), indexed by enum cli_fig. A cell
 * not ok, or without phases, has every v NAN. */
void cli_cell_figures(const struct cell_result *c, struct cli_fig_value out[CLI_FIG__COUNT]);

/* Figure f of A (samples a[0..na), summary sa: median, band min..max, lower
 * bound when any sample is one) against B's. *ratio = median(b)/median(a).
 *  - none on either side: RV_NC;
 *  - a lower bound on both sides: RV_NC; a lower bound against a measurement:
 *    the bound's side is better only when the bound lies above the
 *    measurement's band (SLO) or beyond factor (held users), else RV_NC, never
 *    worse for the side that is a bound;
 *  - SLO, both measured: bands that overlap are RV_SAME, else the direction;
 *  - latency: RV_NC when the two load points ran at rates more than factor
 *    apart (the latency of other loads), else rv_compare;
 *  - the rest: rv_compare (factor, significance with repeats).
 * why gets a short reason for an RV_NC ("" otherwise). */
enum rv_mark cli_fig_judge(enum cli_fig f, const double *a, size_t na,
                           const struct cli_fig_value *sa, const double *b, size_t nb,
                           const struct cli_fig_value *sb, double factor, double *ratio, char *why,
                           size_t n);

/* Figure f of x against the up to n previous comparable values prev (oldest
 * first is not required), as history judges it: the noise band median +- k x
 * max(MAD, floor x |median|) of their values (rv_band_check, at least min_n).
 * SLO: x's own band must lie wholly outside the noise band to change. Worse
 * only when x is a measurement (a lower bound below the band is RV_NC); better
 * only when no previous value is a lower bound. Latency: only previous points
 * at a rate within 10% of x's count. Fills *b. */
enum rv_mark cli_fig_band_judge(enum cli_fig f, const struct cli_fig_value *const *prev, size_t n,
                                const struct cli_fig_value *x, size_t min_n, double k,
                                double floor_frac, struct rv_band *b);

#endif
