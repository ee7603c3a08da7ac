/* svg.c - the drawing side of the report's inline SVG charts: bar charts, and
 * a plot area (linear, log2 or "nines" x scale) with axes, ticks, markers and
 * hatch patterns that charts.c draws on. Each chart is one self-contained
 * <svg> with a viewBox and width 100%. No scripts, no external assets. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "charts.h"
#include "review.h"

#define W 440.0 /* narrow, so its 13px text stays legible on a phone */
#define H 340.0
#define ML 60.0
#define MT 36.0
#define MB 52.0

static const char *const palette[] = {"#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
                                      "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"};
#define NPAL (sizeof(palette) / sizeof(palette[0]))

static void open_svg(FILE *f, const char *id, const char *kind, const char *title)
{
    fprintf(f,
            "<figure class=\"chart\"><svg id=\"%s\" class=\"chart %s\" viewBox=\"0 0 %.0f %.0f\" "
            "width=\"100%%\" preserveAspectRatio=\"xMidYMid meet\" role=\"img\" "
            "xmlns=\"http://www.w3.org/2000/svg\"><title>",
            id, kind, W, H);
    rv_html_escape(f, title);
    fprintf(f, "</title><rect x=\"0\" y=\"0\" width=\"%.0f\" height=\"%.0f\" fill=\"#fff\"/>", W,
            H);
    fprintf(f, "<text x=\"%.0f\" y=\"22\" text-anchor=\"middle\" class=\"ttl\">", W / 2);
    rv_html_escape(f, title);
    fputs("</text>", f);
}

static void close_svg(FILE *f)
{
    fputs("</svg></figure>\n", f);
}

static void fmt_tick(char *buf, size_t n, double v)
{
    if (fabs(v) >= 10000)
        snprintf(buf, n, "%.0fk", v / 1000);
    else
        snprintf(buf, n, "%.6g", v);
}

/* Axes, grid and y tick labels of the plot area [ML, ML+pw] x [MT, MT+ph]. */
static void axes(FILE *f, double pw, double ph, const double *yt, size_t nyt, const char *xlabel,
                 const char *ylabel)
{
    char b[32];
    for (size_t i = 0; i < nyt; i++) {
        double y = MT + ph - (yt[i] - yt[0]) / (yt[nyt - 1] - yt[0]) * ph;
        fprintf(f,
                "<line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                "stroke=\"#ddd\"/>",
                ML, y, ML + pw, y);
        fmt_tick(b, sizeof(b), yt[i]);
        fprintf(f, "<text class=\"tick\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%s</text>",
                ML - 6, y + 4, b);
    }
    fprintf(f,
            "<line class=\"axis\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
            "stroke=\"#333\"/>",
            ML, MT + ph, ML + pw, MT + ph);
    fprintf(f,
            "<line class=\"axis\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
            "stroke=\"#333\"/>",
            ML, MT, ML, MT + ph);
    fprintf(f, "<text class=\"lbl\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">", ML + pw / 2,
            H - 10);
    rv_html_escape(f, xlabel);
    fprintf(f,
            "</text><text class=\"lbl\" transform=\"translate(16 %.1f) rotate(-90)\" "
            "text-anchor=\"middle\">",
            MT + ph / 2);
    rv_html_escape(f, ylabel);
    fputs("</text>", f);
}

void svg_bar_chart(FILE *f, const char *id, const char *title, const char *ylabel,
                   const char *const *labels, const double *values, size_t n)
{
    open_svg(f, id, "bar", title);
    double y1 = 0;
    size_t bars = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(values[i])) {
            y1 = fmax(y1, values[i]);
            bars++;
        }
    if (!bars) {
        fprintf(f, "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"middle\">no data</text>", W / 2,
                H / 2);
        close_svg(f);
        return;
    }
    double pw = W - ML - 16, ph = H - MT - MB;
    double yt[16];
    size_t nyt = rv_ticks(0, y1 * 1.1, 6, yt); /* room for the value labels */
    axes(f, pw, ph, yt, nyt, "", ylabel);
    double ya = yt[0], yb = yt[nyt - 1], band = pw / (double)n;
    for (size_t i = 0; i < n; i++) {
        double cx = ML + band * ((double)i + 0.5), bw = fmin(band * 0.7, 80);
        fputs("<g class=\"series\" data-name=\"", f);
        rv_html_escape(f, labels[i]);
        fprintf(f, "\" fill=\"%s\">", palette[i % NPAL]);
        if (isfinite(values[i])) {
            double h = (values[i] - ya) / (yb - ya) * ph;
            char b[32];
            fmt_tick(b, sizeof(b), round(values[i] * 10) / 10);
            fprintf(f,
                    "<rect class=\"bar\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"/>"
                    "<text class=\"val\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" "
                    "fill=\"#333\">%s</text>",
                    cx - bw / 2, MT + ph - h, bw, h, cx, MT + ph - h - 4, b);
        } else {
            fprintf(f,
                    "<text class=\"val\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" "
                    "fill=\"#999\">n/a</text>",
                    cx, MT + ph - 4);
        }
        /* Many bars: slant the names so they do not overlap. */
        if (n > 6)
            fprintf(f,
                    "<text class=\"tick\" transform=\"translate(%.1f %.1f) rotate(-30)\" "
                    "text-anchor=\"end\" fill=\"#333\">",
                    cx, MT + ph + 14);
        else
            fprintf(f,
                    "<text class=\"tick\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" "
                    "fill=\"#333\">",
                    cx, MT + ph + 18);
        rv_html_escape(f, labels[i]);
        fputs("</text></g>", f);
    }
    close_svg(f);
}

/* ---- the plot area of charts.c ---- */

void svg_fmt_num(char *buf, size_t n, double v)
{
    fmt_tick(buf, n, v);
}

const char *svg_color(size_t k)
{
    return palette[k % NPAL];
}

/* Dash patterns of the series lines, so lines differ without colour. */
static const char *const dashes[] = {"", "9 4", "3 3", "12 3 3 3", "6 2", "1 4"};
#define NDASH (sizeof(dashes) / sizeof(dashes[0]))

const char *svg_dash(size_t k)
{
    return dashes[k % NDASH];
}

static double scale_x(enum svg_xscale xs, double x)
{
    switch (xs) {
    case SVG_X_LOG2:
        return x > 0 ? log2(x) : NAN;
    case SVG_X_NINES:
        return x < 1 ? -log10(1 - x) : NAN;
    default:
        return x;
    }
}

void svg_plot_open(struct svg_plot *p, FILE *f, const char *id, const char *kind, const char *title,
                   double h, double legend_h)
{
    p->f = f;
    p->w = W;
    p->h = h + legend_h;
    p->left = ML;
    p->top = MT;
    p->pw = W - ML - 24;
    p->ph = h - MT - MB;
    p->legend_y = h;
    fprintf(f,
            "<figure class=\"chart\"><svg id=\"%s\" class=\"chart %s\" viewBox=\"0 0 %.0f %.0f\" "
            "width=\"100%%\" preserveAspectRatio=\"xMidYMid meet\" role=\"img\" "
            "xmlns=\"http://www.w3.org/2000/svg\"><title>",
            id, kind, p->w, p->h);
    rv_html_escape(f, title);
    fprintf(f, "</title><rect x=\"0\" y=\"0\" width=\"%.0f\" height=\"%.0f\" fill=\"#fff\"/>", p->w,
            p->h);
    fprintf(f, "<text x=\"%.0f\" y=\"22\" text-anchor=\"middle\" class=\"ttl\">", W / 2);
    rv_html_escape(f, title);
    fputs("</text>", f);
}

void svg_plot_close(struct svg_plot *p)
{
    close_svg(p->f);
}

void svg_plot_range(struct svg_plot *p, enum svg_xscale xs, double x0, double x1, double y0,
                    double y1)
{
    p->xs = xs;
    p->x0 = scale_x(xs, x0);
    p->x1 = scale_x(xs, x1);
    if (!(p->x1 > p->x0))
        p->x1 = p->x0 + 1;
    p->y0 = y0;
    p->y1 = y1 > y0 ? y1 : y0 + 1;
}

double svg_x(const struct svg_plot *p, double x)
{
    return p->left + (scale_x(p->xs, x) - p->x0) / (p->x1 - p->x0) * p->pw;
}

double svg_y(const struct svg_plot *p, double y)
{
    return p->top + p->ph - (y - p->y0) / (p->y1 - p->y0) * p->ph;
}

void svg_plot_yaxis(struct svg_plot *p, double ymax, const char *ylabel)
{
    double yt[16];
    size_t n = rv_ticks(0, ymax > 0 ? ymax * 1.05 : 1, 6, yt);
    p->y0 = yt[0];
    p->y1 = yt[n - 1] > yt[0] ? yt[n - 1] : yt[0] + 1;
    char b[32];
    for (size_t i = 0; i < n; i++) {
        double y = svg_y(p, yt[i]);
        fmt_tick(b, sizeof(b), yt[i]);
        fprintf(p->f,
                "<line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                "stroke=\"#ddd\"/><text class=\"tick tick-y\" data-value=\"%.6g\" x=\"%.1f\" "
                "y=\"%.1f\" text-anchor=\"end\">%s</text>",
                p->left, y, p->left + p->pw, y, yt[i], p->left - 6, y + 4, b);
    }
    fprintf(
        p->f,
        "<line class=\"axis\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#333\"/>"
        "<line class=\"axis\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#333\"/>",
        p->left, p->top + p->ph, p->left + p->pw, p->top + p->ph, p->left, p->top, p->left,
        p->top + p->ph);
    fprintf(p->f,
            "<text class=\"lbl\" transform=\"translate(16 %.1f) rotate(-90)\" "
            "text-anchor=\"middle\">",
            p->top + p->ph / 2);
    rv_html_escape(p->f, ylabel);
    fputs("</text>", p->f);
}

void svg_plot_xtick(struct svg_plot *p, double x, const char *label, const char *cls,
                    const char *attr)
{
    double px = svg_x(p, x), y = p->top + p->ph;
    fprintf(p->f,
            "<g class=\"%s\" %s><line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
            "stroke=\"#333\"/><line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" "
            "y2=\"%.1f\" stroke=\"#eee\"/>",
            cls, attr ? attr : "", px, y, px, y + 5, px, p->top, px, y);
    if (label && *label) {
        fprintf(p->f, "<text class=\"tick\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">", px,
                y + 18);
        rv_html_escape(p->f, label);
        fputs("</text>", p->f);
    }
    fputs("</g>", p->f);
}

void svg_plot_xlabel(struct svg_plot *p, const char *xlabel)
{
    fprintf(p->f, "<text class=\"lbl\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">",
            p->left + p->pw / 2, p->top + p->ph + 38);
    rv_html_escape(p->f, xlabel);
    fputs("</text>", p->f);
}

void svg_hatch_defs(FILE *f, const char *id, size_t n)
{
    /* One hatch angle per series, so overlapping bands differ without colour. */
    static const int angle[] = {45, -45, 0, 90, 20, -70};
    fputs("<defs>", f);
    for (size_t k = 0; k < n; k++)
        fprintf(f,
                "<pattern id=\"%s-h%zu\" patternUnits=\"userSpaceOnUse\" width=\"7\" "
                "height=\"7\" patternTransform=\"rotate(%d)\"><rect width=\"7\" height=\"7\" "
                "fill=\"%s\" fill-opacity=\"0.10\"/><line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"7\" "
                "stroke=\"%s\" stroke-width=\"1.6\" stroke-opacity=\"0.45\"/></pattern>",
                id, k, angle[k % 6], svg_color(k), svg_color(k));
    fputs("</defs>", f);
}

void svg_marker(FILE *f, enum svg_shape shape, double x, double y, double r, int hollow,
                const char *color, const char *attrs)
{
    const char *fill = hollow ? "#fff" : color;
    switch (shape) {
    case SVG_SQUARE:
        fprintf(f, "<rect %s x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"", attrs, x - r,
                y - r, 2 * r, 2 * r);
        break;
    case SVG_TRIANGLE:
        fprintf(f, "<polygon %s points=\"%.1f,%.1f %.1f,%.1f %.1f,%.1f\"", attrs, x, y - r * 1.2,
                x - r * 1.1, y + r * 0.8, x + r * 1.1, y + r * 0.8);
        break;
    case SVG_TRIANGLE_DOWN:
        fprintf(f, "<polygon %s points=\"%.1f,%.1f %.1f,%.1f %.1f,%.1f\"", attrs, x, y + r * 1.2,
                x - r * 1.1, y - r * 0.8, x + r * 1.1, y - r * 0.8);
        break;
    case SVG_DIAMOND:
        fprintf(f, "<polygon %s points=\"%.1f,%.1f %.1f,%.1f %.1f,%.1f %.1f,%.1f\"", attrs, x,
                y - r * 1.3, x + r * 1.3, y, x, y + r * 1.3, x - r * 1.3, y);
        break;
    default:
        fprintf(f, "<circle %s cx=\"%.1f\" cy=\"%.1f\" r=\"%.1f\"", attrs, x, y, r);
        break;
    }
    fprintf(f, " fill=\"%s\" stroke=\"%s\" stroke-width=\"1.6\"/>", fill, color);
}
