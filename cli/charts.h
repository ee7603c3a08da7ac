/* charts.h - the figures of `mfbench report --format html` (charts.c): req/s
 * and p99 against users with the spread of repeats, the latency spectrum at
 * 90% of peak, each cell's history by date, and the framework x payload
 * heatmap; and the SVG plot area they are drawn on (svg.c). */
#ifndef MFBENCH_CHARTS_H
#define MFBENCH_CHARTS_H

#include <stddef.h>
#include <stdio.h>

#include "result.h"

struct store;

/* The charts of payload pl of run r, each a <figure class="chart">: req/s and
 * p99 against users, the latency spectrum, capacity and server memory, and
 * the history of each of its cells over the newest `depth` ok runs (read from
 * st). pi numbers the payload (the chart ids are "p<pi>-..."). Problems
 * reading the store are written into the page, never fatal. */
void cli_charts_payload(FILE *f, struct store *st, const struct run_record *r, const char *pl,
                        int pi, int depth);
/* The framework x payload heatmap of peak req/s relative to the best framework
 * of each payload; nothing when r has no measured cell. */
void cli_charts_heatmap(FILE *f, const struct run_record *r);
/* The series name of cell i of r: its framework, with "#2" on a repeated cell
 * (the charts' legends and the report's tables use the same name). */
void cli_cell_label(const struct run_record *r, size_t i, char *out, size_t n);

/* ---- svg.c: the plot area ---- */

enum svg_xscale { SVG_X_LINEAR, SVG_X_LOG2, SVG_X_NINES };
enum svg_shape { SVG_CIRCLE, SVG_SQUARE, SVG_TRIANGLE, SVG_TRIANGLE_DOWN, SVG_DIAMOND };

/* One <svg> chart: the viewBox is w x h, the plot area [left, left+pw] x
 * [top, top+ph]; data x are mapped through the x scale (log2 of users,
 * -log10(1-q) for a quantile q), y linearly. The legend goes below legend_y. */
struct svg_plot {
    FILE *f;
    double w, h, left, top, pw, ph, legend_y;
    double x0, x1, y0, y1; /* x0, x1 already scaled */
    enum svg_xscale xs;
};
/* Opens <figure><svg id class="chart KIND"> of height h plus legend_h. */
void svg_plot_open(struct svg_plot *p, FILE *f, const char *id, const char *kind, const char *title,
                   double h, double legend_h);
void svg_plot_close(struct svg_plot *p);
/* The data range: x0..x1 in data units (users, q), y0..y1. */
void svg_plot_range(struct svg_plot *p, enum svg_xscale xs, double x0, double x1, double y0,
                    double y1);
/* Data to viewBox coordinates. */
double svg_x(const struct svg_plot *p, double x);
double svg_y(const struct svg_plot *p, double y);
/* Grid, ticks (class "tick-y", data-value) from 0 to a nice value above ymax
 * (which becomes the y range), both axes and the y label. */
void svg_plot_yaxis(struct svg_plot *p, double ymax, const char *ylabel);
/* A tick at data x, as <g class="CLS" ATTR> with its grid line and label. */
void svg_plot_xtick(struct svg_plot *p, double x, const char *label, const char *cls,
                    const char *attr);
void svg_plot_xlabel(struct svg_plot *p, const char *xlabel);
/* <defs> with hatch patterns ID-h0 .. ID-h(n-1), one angle per series. */
void svg_hatch_defs(FILE *f, const char *id, size_t n);
/* A marker of radius r at (x, y), filled or hollow (white inside); attrs is
 * written into the element (class, data-*). */
void svg_marker(FILE *f, enum svg_shape shape, double x, double y, double r, int hollow,
                const char *color, const char *attrs);
/* Series styles: a colour and a dash pattern ("" = solid) per series index. */
const char *svg_color(size_t k);
const char *svg_dash(size_t k);
/* A short number for a tick or a label ("12k" from 10000 up). */
void svg_fmt_num(char *buf, size_t n, double v);

#endif
