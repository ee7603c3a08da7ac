/* review.h - the statistics behind history, compare and report: median, MAD,
 * quartiles, the Mann-Whitney U test, the noise band of regression detection,
 * sparklines, and HTML/SVG text helpers. Pure functions, no I/O except the
 * FILE * writers; every array is bounded by RV_MAX_N. */
#ifndef MFBENCH_REVIEW_H
#define MFBENCH_REVIEW_H

#include <stddef.h>
#include <stdio.h>

/* Arrays longer than this are refused (the functions return NAN / RV_NC). */
#define RV_MAX_N 4096

/* NAN when n is 0 or above RV_MAX_N. v is not modified. */
double rv_median(const double *v, size_t n);
/* Median absolute deviation from the median (unscaled). */
double rv_mad(const double *v, size_t n);
/* Quantile q in [0,1] with linear interpolation between order statistics (type 7). */
double rv_quantile(const double *v, size_t n, double q);
/* Third minus first quartile. */
double rv_iqr(const double *v, size_t n);

/* Two-sided Mann-Whitney U test with the normal approximation (tie-corrected,
 * continuity-corrected). Sets *u to U of sample a and returns p in [0,1]; NAN
 * when a sample is empty or too long. */
double rv_mann_whitney(const double *a, size_t na, const double *b, size_t nb, double *u);

/* Which direction of a metric is good. */
enum rv_dir { RV_HIGHER_BETTER, RV_LOWER_BETTER };

enum rv_mark { RV_SAME, RV_BETTER, RV_WORSE, RV_NC };
const char *rv_mark_name(enum rv_mark m);

/* Compares samples a (before) and b (after). *ratio = median(b)/median(a)
 * (NAN when median(a) is 0). A change beyond factor (e.g. 1.10) counts only
 * when it is significant: with one value each, the ratio alone; with repeats,
 * Mann-Whitney p < 0.05 when both have >= 4 values, else non-overlapping
 * min-max intervals. RV_NC when a sample is empty. */
enum rv_mark rv_compare(const double *a, size_t na, const double *b, size_t nb, double factor,
                        enum rv_dir dir, double *ratio);

/* The noise band of regression detection: median +- k x max(MAD, floor x
 * |median|) of the previous values prev[0..n). */
struct rv_band {
    double median, mad, lo, hi;
    size_t n;
};
/* Fills *b; returns RV_NC when n < min_n, else RV_WORSE / RV_BETTER when x is
 * outside the band on the bad / good side, else RV_SAME. */
enum rv_mark rv_band_check(const double *prev, size_t n, size_t min_n, double k, double floor_frac,
                           double x, enum rv_dir dir, struct rv_band *b);

/* A sparkline of v (oldest first) in out: one block of ▁▂▃▄▅▆▇█ per value with
 * utf8, else one of " .:-=+*#", scaled from min to max (a span of at least
 * 10% of the largest value; a flat line is mid-height). NAN values show as a space. Returns out,
 * always NUL-terminated (values that do not fit are dropped from the front, keeping the newest). */
char *rv_sparkline(const double *v, size_t n, int utf8, char *out, size_t cap);

/* Writes s to f with & < > " ' escaped for HTML text and attributes. */
void rv_html_escape(FILE *f, const char *s);
/* Writes s (a name or text from the store or the node) to f for Markdown: & < > as HTML
 * entities (renderers pass inline HTML through), | ` * _ [ ] \ backslash-escaped (a
 * table cell, code, emphasis, a link), and line breaks and other control bytes as a
 * space (they would end the row or heading). */
void rv_md_escape(FILE *f, const char *s);
/* Writes s to f as one CSV field (RFC 4180): as is, or in double quotes (inner ones
 * doubled) when it holds a comma, a double quote or a line break. */
void rv_csv_field(FILE *f, const char *s);

/* "Nice" axis ticks covering [lo, hi]: at most max_ticks values, written to
 * ticks; returns how many. */
size_t rv_ticks(double lo, double hi, size_t max_ticks, double *ticks);

/* A bar chart (svg.c; the report's other charts are in charts.h): one
 * self-contained <svg> with a viewBox, width 100%, axes with ticks; every text
 * is HTML-escaped; each bar is drawn as <g class="series" data-name="NAME">. */
void svg_bar_chart(FILE *f, const char *id, const char *title, const char *ylabel,
                   const char *const *labels, const double *values, size_t n);

#endif
