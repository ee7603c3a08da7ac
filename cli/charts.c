/* charts.c - the figures of the HTML report, drawn honestly: the median of the
 * repeats as the line and their min-max as a band (probes and flagged phases
 * marked apart), the latency spectrum at 90% of peak, each cell's history by
 * date with the regression band of `history`, and a heatmap relative to the best. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "charts.h"
#include "cli.h"
#include "review.h"
#include "store.h"

#define MAX_LEVELS 256
#define MAX_VALS 64
#define MAX_PROBES 256
#define MAX_SERIES 16

/* Why a figure is not to be trusted as the server's limit. */
enum { FL_LOAD_BOUND = 1, FL_CLIENT_BOUND = 2, FL_NOISY = 4 };

static const enum svg_shape shapes[] = {SVG_CIRCLE, SVG_SQUARE, SVG_TRIANGLE, SVG_TRIANGLE_DOWN};
#define NSHAPE (sizeof(shapes) / sizeof(shapes[0]))

/* s escaped for an attribute value, into out (truncated to fit). */
static void esc(char *out, size_t n, const char *s)
{
    size_t i = 0;
    for (; *s && i + 7 < n; s++) {
        const char *rep = *s == '&'    ? "&amp;"
                          : *s == '<'  ? "&lt;"
                          : *s == '>'  ? "&gt;"
                          : *s == '"'  ? "&quot;"
                          : *s == '\'' ? "&#39;"
                                       : NULL;
        if (rep) {
            size_t l = strlen(rep);
            memcpy(out + i, rep, l);
            i += l;
        } else {
            out[i++] = *s;
        }
    }
    out[i] = '\0';
}

static void flags_text(char *out, size_t n, int fl)
{
    snprintf(out, n, "%s%s%s", fl & FL_LOAD_BOUND ? "load-bound " : "",
             fl & FL_CLIENT_BOUND ? "client-bound " : "", fl & FL_NOISY ? "noisy" : "");
    size_t l = strlen(out);
    if (l && out[l - 1] == ' ')
        out[l - 1] = '\0';
}

static int phase_flags(const struct phase_result *p)
{
    return (p->load_bound ? FL_LOAD_BOUND : 0) | (p->client_bound ? FL_CLIENT_BOUND : 0) |
           (p->noisy ? FL_NOISY : 0);
}

/* The series name of cell i: its framework, with "#2" on a repeated cell. */
void cli_cell_label(const struct run_record *r, size_t i, char *out, size_t n)
{
    int nth = 1;
    for (size_t j = 0; j < i; j++)
        nth += !strcmp(r->cells[j].framework, r->cells[i].framework) &&
               !strcmp(r->cells[j].payload, r->cells[i].payload);
    if (nth > 1)
        snprintf(out, n, "%s #%d", r->cells[i].framework, nth);
    else
        snprintf(out, n, "%s", r->cells[i].framework);
}

/* ---- req/s and p99 against users ---- */

struct level {
    double users, v[MAX_VALS];
    size_t n;
    int flags;
};

struct probe {
    double users, v;
    int flags;
};

/* One framework's figures at each user level of the linear ladder (every
 * repeat's value), and its bisection probes apart. */
struct curve {
    char name[160];
    struct level lv[MAX_LEVELS];
    size_t nlv;
    struct probe pr[MAX_PROBES];
    size_t npr;
};

static int cmp_level(const void *a, const void *b)
{
    const struct level *x = a, *y = b;
    return (x->users > y->users) - (x->users < y->users);
}

/* what: 0 req/s, 1 p99. */
static void collect(const struct cell_result *c, int what, struct curve *cv)
{
    cv->nlv = cv->npr = 0;
    for (size_t k = 0; k < c->nphases; k++) {
        const struct phase_result *p = &c->phases[k];
        if (!phase_in_search(p))
            continue; /* load points and held levels are not the search */
        double v = what ? p->latency_ms.p99 : p->rps;
        if (!isfinite(v) || v < 0 || p->users <= 0)
            continue;
        if (!strcmp(p->kind, "bisect")) {
            if (cv->npr < MAX_PROBES)
                cv->pr[cv->npr++] = (struct probe){p->users, v, phase_flags(p)};
            continue;
        }
        size_t j = 0;
        while (j < cv->nlv && cv->lv[j].users != p->users)
            j++;
        if (j == cv->nlv) {
            if (j == MAX_LEVELS)
                continue;
            memset(&cv->lv[j], 0, sizeof(cv->lv[j]));
            cv->lv[j].users = p->users;
            cv->nlv++;
        }
        if (cv->lv[j].n < MAX_VALS)
            cv->lv[j].v[cv->lv[j].n++] = v;
        cv->lv[j].flags |= phase_flags(p);
    }
    qsort(cv->lv, cv->nlv, sizeof(cv->lv[0]), cmp_level);
}

static double vmin(const double *v, size_t n)
{
    double m = INFINITY;
    for (size_t i = 0; i < n; i++)
        m = fmin(m, v[i]);
    return m;
}

static double vmax(const double *v, size_t n)
{
    double m = -INFINITY;
    for (size_t i = 0; i < n; i++)
        m = fmax(m, v[i]);
    return m;
}

/* Users double from level to level (8, 16, 32 ...): a log2 axis then, else
 * everything below a tenth of the top level is one blob. */
static int levels_double(const struct curve *cv, size_t ns)
{
    size_t levels = 0;
    for (size_t k = 0; k < ns; k++) {
        for (size_t i = 1; i < cv[k].nlv; i++) {
            double ratio = cv[k].lv[i].users / cv[k].lv[i - 1].users;
            if (ratio < 1.9 || ratio > 2.1)
                return 0;
        }
        levels += cv[k].nlv;
    }
    return levels >= 3;
}

static void legend_row(FILE *f, const struct svg_plot *p, int row, const char *text)
{
    double y = p->legend_y + 14 + 20.0 * row;
    fprintf(f, "<text class=\"legend-text\" x=\"56\" y=\"%.1f\">", y + 4);
    rv_html_escape(f, text);
    fputs("</text>", f);
}

/* The swatch of a legend row: a line sample with the series' dash and marker. */
static void legend_swatch(FILE *f, const struct svg_plot *p, int row, size_t k,
                          enum svg_shape shape, int hollow, int line)
{
    double x = 20, y = p->legend_y + 14 + 20.0 * row;
    if (line)
        fprintf(f,
                "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
                "stroke-width=\"2\" stroke-dasharray=\"%s\"/>",
                x, y, x + 30, y, svg_color(k), svg_dash(k));
    svg_marker(f, shape, x + 15, y, 4.5, hollow, line ? svg_color(k) : "#333", "");
}

static void users_chart(FILE *f, const char *id, const char *title, const char *ylabel,
                        struct curve *cv, size_t ns, int repeats)
{
    double x0 = INFINITY, x1 = -INFINITY, ymax = 0;
    size_t points = 0;
    int any_flag = 0, any_probe = 0;
    for (size_t k = 0; k < ns; k++) {
        for (size_t i = 0; i < cv[k].nlv; i++) {
            x0 = fmin(x0, cv[k].lv[i].users);
            x1 = fmax(x1, cv[k].lv[i].users);
            ymax = fmax(ymax, vmax(cv[k].lv[i].v, cv[k].lv[i].n));
            any_flag |= cv[k].lv[i].flags;
            points++;
        }
        for (size_t i = 0; i < cv[k].npr; i++) {
            x0 = fmin(x0, cv[k].pr[i].users);
            x1 = fmax(x1, cv[k].pr[i].users);
            ymax = fmax(ymax, cv[k].pr[i].v);
            any_flag |= cv[k].pr[i].flags;
            any_probe = 1;
            points++;
        }
    }
    int rows = (int)ns + 2;
    struct svg_plot p;
    svg_plot_open(&p, f, id, "line users", title, 340, 20.0 * rows + 10);
    if (!points) {
        fprintf(f, "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"middle\">no data</text>", p.w / 2,
                p.h / 2);
        svg_plot_close(&p);
        return;
    }
    int log2x = levels_double(cv, ns);
    char b[240], attr[96];
    if (log2x) {
        double e0 = floor(log2(x0)), e1 = ceil(log2(x1));
        if (e1 <= e0)
            e1 = e0 + 1;
        svg_plot_range(&p, SVG_X_LOG2, exp2(e0), exp2(e1), 0, 1);
        int step = e1 - e0 > 10 ? 2 : 1;
        for (double e = e0; e <= e1; e++) {
            double v = exp2(e);
            snprintf(b, sizeof(b), "%.0f", v);
            snprintf(attr, sizeof(attr), "data-value=\"%.0f\"", v);
            svg_plot_xtick(&p, v, ((int)(e - e0)) % step ? "" : b, "tick-x log2", attr);
        }
    } else {
        double xt[16];
        size_t nxt = rv_ticks(x0 > 0 && x0 < x1 / 4 ? 0 : x0, x1, 7, xt);
        svg_plot_range(&p, SVG_X_LINEAR, xt[0], xt[nxt - 1], 0, 1);
        for (size_t i = 0; i < nxt; i++) {
            svg_fmt_num(b, sizeof(b), xt[i]);
            snprintf(attr, sizeof(attr), "data-value=\"%.6g\"", xt[i]);
            svg_plot_xtick(&p, xt[i], b, "tick-x linear", attr);
        }
    }
    svg_plot_yaxis(&p, ymax, ylabel);
    svg_plot_xlabel(&p, log2x ? "users (log2 scale)" : "users");
    svg_hatch_defs(f, id, ns);
    char name[200], fl[64];
    for (size_t k = 0; k < ns; k++) {
        const struct curve *c = &cv[k];
        const char *col = svg_color(k);
        esc(name, sizeof(name), c->name);
        fprintf(f, "<g class=\"series\" data-name=\"%s\">", name);
        if (c->nlv) {
            /* min-max of the repeats: along the maxima, back along the minima */
            fprintf(f,
                    "<polygon class=\"band\" data-framework=\"%s\" data-repeats=\"%d\" "
                    "fill=\"url(#%s-h%zu)\" stroke=\"%s\" stroke-opacity=\"0.35\" points=\"",
                    name, repeats, id, k, col);
            for (size_t i = 0; i < c->nlv; i++)
                fprintf(f, "%.1f,%.1f ", svg_x(&p, c->lv[i].users),
                        svg_y(&p, vmax(c->lv[i].v, c->lv[i].n)));
            for (size_t i = c->nlv; i-- > 0;)
                fprintf(f, "%.1f,%.1f ", svg_x(&p, c->lv[i].users),
                        svg_y(&p, vmin(c->lv[i].v, c->lv[i].n)));
            fprintf(f,
                    "\"/><polyline class=\"median\" data-framework=\"%s\" fill=\"none\" "
                    "stroke=\"%s\" stroke-width=\"2.2\" stroke-dasharray=\"%s\" points=\"",
                    name, col, svg_dash(k));
            for (size_t i = 0; i < c->nlv; i++)
                fprintf(f, "%.1f,%.1f ", svg_x(&p, c->lv[i].users),
                        svg_y(&p, rv_median(c->lv[i].v, c->lv[i].n)));
            fputs("\"/>", f);
        }
        for (size_t i = 0; i < c->nlv; i++) {
            const struct level *l = &c->lv[i];
            char a[512];
            double med = rv_median(l->v, l->n);
            flags_text(fl, sizeof(fl), l->flags);
            snprintf(a, sizeof(a),
                     "class=\"pt%s\" data-framework=\"%s\" data-users=\"%.0f\" "
                     "data-value=\"%.6g\" data-min=\"%.6g\" data-max=\"%.6g\" data-n=\"%zu\" "
                     "data-flags=\"%s\"",
                     l->flags ? " hollow" : "", name, l->users, med, vmin(l->v, l->n),
                     vmax(l->v, l->n), l->n, fl);
            svg_marker(f, shapes[k % NSHAPE], svg_x(&p, l->users), svg_y(&p, med), 4, l->flags, col,
                       a);
        }
        for (size_t i = 0; i < c->npr; i++) {
            const struct probe *pr = &c->pr[i];
            char a[400];
            flags_text(fl, sizeof(fl), pr->flags);
            snprintf(a, sizeof(a),
                     "class=\"probe%s\" data-framework=\"%s\" data-users=\"%.0f\" "
                     "data-value=\"%.6g\" data-flags=\"%s\"",
                     pr->flags ? " hollow" : "", name, pr->users, pr->v, fl);
            svg_marker(f, SVG_DIAMOND, svg_x(&p, pr->users), svg_y(&p, pr->v), 3.5, pr->flags, col,
                       a);
        }
        if (c->nlv) {
            /* The name at the line's end: the series reads without the legend. */
            const struct level *l = &c->lv[c->nlv - 1];
            double x = svg_x(&p, l->users);
            fprintf(f,
                    "<text class=\"direct-label\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\">%s"
                    "</text>",
                    x > p.left + p.pw - 60 ? x - 6 : x + 6,
                    svg_y(&p, rv_median(l->v, l->n)) - 8 - 12.0 * (double)k,
                    x > p.left + p.pw - 60 ? "end" : "start", name);
        }
        fputs("</g>", f);
    }
    fputs("<g class=\"legend\">", f);
    int row = 0;
    for (size_t k = 0; k < ns; k++, row++) {
        legend_swatch(f, &p, row, k, shapes[k % NSHAPE], 0, 1);
        snprintf(b, sizeof(b), "%s: median%s", cv[k].name, repeats > 1 ? ", band min-max" : "");
        legend_row(f, &p, row, b);
    }
    if (any_probe) {
        legend_swatch(f, &p, row, 0, SVG_DIAMOND, 0, 0);
        legend_row(f, &p, row++, "bisection probe");
    }
    if (any_flag) {
        legend_swatch(f, &p, row, 0, SVG_CIRCLE, 1, 0);
        legend_row(f, &p, row++, "hollow: load-bound, client-bound or noisy");
    }
    fputs("</g>", f);
    svg_plot_close(&p);
}

/* ---- the latency spectrum at the highest load point (90% of peak, or 80% of
 * the SLO capacity) ---- */

static const struct load_point *load_point_near(const struct cell_result *c, double pct)
{
    const struct load_point *best = NULL;
    for (int i = 0; i < c->nload_points && i < CELL_MAX_LOAD_POINTS; i++) {
        const struct load_point *lp = &c->load_points[i];
        if (fabs(lp->pct_of_peak - pct) <= 10 &&
            (!best || fabs(lp->pct_of_peak - pct) < fabs(best->pct_of_peak - pct)))
            best = lp;
    }
    return best;
}

static void spectrum_chart(FILE *f, const struct run_record *r, const char *pl, const char *id)
{
    static const double qs[] = {0.5, 0.9, 0.99, 0.999};
    static const char *const qlabel[] = {"50%", "90%", "99%", "99.9%"};
    const struct load_point *lps[MAX_SERIES];
    char names[MAX_SERIES][160];
    size_t ns = 0;
    double ymax = 0;
    int of_slo = 0;
    for (size_t i = 0; i < r->ncells && ns < MAX_SERIES; i++) {
        const struct cell_result *c = &r->cells[i];
        if (strcmp(c->payload, pl) || c->status == CELL_SKIPPED)
            continue;
        /* The highest load point within 10 points of 90% (80% of the SLO capacity). */
        const struct load_point *lp = load_point_near(c, 90);
        if (lp)
            of_slo |= lp->of_slo;
        if (!lp)
            continue;
        lps[ns] = lp;
        cli_cell_label(r, i, names[ns], sizeof(names[ns]));
        ymax = fmax(ymax, fmax(fmax(lp->latency_ms.p50, lp->latency_ms.p90),
                               fmax(lp->latency_ms.p99, lp->latency_ms.p999)));
        ns++;
    }
    char title[200];
    snprintf(title, sizeof(title), "%s: latency spectrum, top load point%s", pl,
             of_slo ? " (slo)" : "");
    struct svg_plot p;
    svg_plot_open(&p, f, id, "spectrum", title, 340, 20.0 * (double)ns + 10);
    if (!ns) {
        fprintf(f,
                "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"middle\">no latency-at-load point "
                "(the profile measured none)</text>",
                p.w / 2, p.h / 2);
        svg_plot_close(&p);
        return;
    }
    svg_plot_range(&p, SVG_X_NINES, 0.4, 0.9992, 0, 1);
    char attr[64];
    for (size_t i = 0; i < 4; i++) {
        snprintf(attr, sizeof(attr), "data-q=\"%g\"", qs[i]);
        svg_plot_xtick(&p, qs[i], qlabel[i], "spectrum-tick", attr);
    }
    svg_plot_yaxis(&p, ymax, "latency (ms)");
    svg_plot_xlabel(&p, "percentile (log scale of nines)");
    char name[200];
    for (size_t k = 0; k < ns; k++) {
        const struct load_point *lp = lps[k];
        const double v[] = {lp->latency_ms.p50, lp->latency_ms.p90, lp->latency_ms.p99,
                            lp->latency_ms.p999};
        esc(name, sizeof(name), names[k]);
        fprintf(f,
                "<g class=\"series\" data-name=\"%s\" data-pct-of-peak=\"%g\" "
                "data-rps=\"%.6g\"><polyline class=\"spectrum\" fill=\"none\" stroke=\"%s\" "
                "stroke-width=\"2.2\" stroke-dasharray=\"%s\" points=\"",
                name, lp->pct_of_peak, lp->rps, svg_color(k), svg_dash(k));
        for (size_t i = 0; i < 4; i++)
            if (v[i] >= 0)
                fprintf(f, "%.1f,%.1f ", svg_x(&p, qs[i]), svg_y(&p, v[i]));
        fputs("\"/>", f);
        for (size_t i = 0; i < 4; i++) {
            if (v[i] < 0)
                continue;
            char a[300];
            snprintf(a, sizeof(a),
                     "class=\"pt\" data-framework=\"%s\" data-q=\"%g\" data-value=\"%.6g\"", name,
                     qs[i], v[i]);
            svg_marker(f, shapes[k % NSHAPE], svg_x(&p, qs[i]), svg_y(&p, v[i]), 4, 0, svg_color(k),
                       a);
        }
        fputs("</g>", f);
    }
    fputs("<g class=\"legend\">", f);
    for (size_t k = 0; k < ns; k++) {
        char b[240], rate[32];
        svg_fmt_num(rate, sizeof(rate), round(lps[k]->rps));
        legend_swatch(f, &p, (int)k, k, shapes[k % NSHAPE], 0, 1);
        snprintf(b, sizeof(b), "%.150s at %g%% of %s (%s req/s)", names[k], lps[k]->pct_of_peak,
                 lps[k]->of_slo ? "slo" : "peak", rate);
        legend_row(f, &p, (int)k, b);
    }
    fputs("</g>", f);
    svg_plot_close(&p);
}

/* ---- history by date ---- */

static time_t utc(const char *s)
{
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    const char *end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
    return end ? timegm(&tm) : 0;
}

/* Date ticks over [t0, t1]: a step of hours or days giving at most 7 ticks. */
static void date_ticks(struct svg_plot *p, double t0, double t1)
{
    static const double steps[] = {3600,       3 * 3600,   6 * 3600,   12 * 3600,
                                   86400,      2 * 86400,  7 * 86400,  14 * 86400,
                                   28 * 86400, 91 * 86400, 365 * 86400};
    double step = steps[sizeof(steps) / sizeof(steps[0]) - 1];
    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
        if ((t1 - t0) / steps[i] <= 6) {
            step = steps[i];
            break;
        }
    for (double t = ceil(t0 / step) * step; t <= t1; t += step) {
        time_t tt = (time_t)t;
        struct tm tm;
        char label[32], attr[64], day[16];
        gmtime_r(&tt, &tm);
        strftime(label, sizeof(label), step >= 86400 ? "%b %d" : "%d %H:%M", &tm);
        strftime(day, sizeof(day), "%Y-%m-%d", &tm);
        snprintf(attr, sizeof(attr), "data-value=\"%s\"", day);
        svg_plot_xtick(p, t, label, "tick-x date", attr);
    }
}

struct hpoint {
    double t, v;
    size_t idx; /* in chron */
    int64_t run_id;
    enum rv_mark mark;
    struct rv_band band;
    int lower_bound;
    char node[256], brk[256]; /* as history says them (cli_history_judge) */
    size_t nprev;
};

/* The history of one cell: the headline figure history judges first (SLO
 * capacity when the newest ok run measured it, else the passing peak) by
 * date, the band each run was judged against (only comparable runs: same
 * profile and settings), a break where the settings change, and node changes. */
static void history_cell_chart(FILE *f, struct store *st, struct cli_fp_cache *fc, const char *fw,
                               const char *pl, const char *id, int depth)
{
    struct store_history_row *rows = NULL, **chron = NULL;
    struct hpoint *pt = NULL;
    size_t n = 0, np = 0;
    struct err e;
    err_clear(&e);
    if (store_history(st, fw, pl, 0, &rows, &n, &e)) {
        fputs("<p class=\"bad\">", f);
        rv_html_escape(f, e.msg);
        fputs("</p>", f);
        return;
    }
    chron = calloc(n + 1, sizeof(*chron));
    pt = calloc(n + 1, sizeof(*pt));
    if (!chron || !pt) {
        fputs("<p class=\"bad\">out of memory drawing the history</p>", f);
        goto out;
    }
    for (size_t i = 0; i < n; i++)
        chron[i] = &rows[n - 1 - i]; /* oldest first, as history judges */
    size_t ok = 0, skip;
    for (size_t i = 0; i < n; i++)
        ok += !strcmp(chron[i]->status, "ok");
    skip = ok > (size_t)depth ? ok - (size_t)depth : 0;
    /* The figure: SLO capacity when the newest ok run has one. */
    enum cli_fig fig = CLI_FIG_PEAK_PASSING;
    for (size_t i = n; i-- > 0;)
        if (!strcmp(chron[i]->status, "ok")) {
            const struct cli_fig_value *x =
                cli_fp_figures(st, fc, chron[i]->run_id, chron[i]->cell_id);
            if (x && !isnan(x[CLI_FIG_SLO].v))
                fig = CLI_FIG_SLO;
            break;
        }
    double ymax = 0;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(chron[i]->status, "ok") || (skip && skip--))
            continue;
        struct cli_history_verdict v;
        cli_history_judge(st, fc, chron, i, CLI_REGRESS_WINDOW, CLI_REGRESS_K, &v);
        if (isnan(v.x[fig].v))
            continue;
        struct hpoint *h = &pt[np++];
        h->t = (double)utc(chron[i]->started_at);
        h->v = v.x[fig].v;
        h->lower_bound = v.x[fig].lower_bound;
        h->run_id = chron[i]->run_id;
        h->idx = i;
        h->mark = v.mark[fig];
        h->band = v.band[fig];
        h->nprev = v.nprev;
        snprintf(h->node, sizeof(h->node), "%s", v.node);
        snprintf(h->brk, sizeof(h->brk), "%s", v.brk);
        ymax = fmax(ymax, h->v);
        if (h->mark != RV_NC && isfinite(h->band.hi))
            ymax = fmax(ymax, h->band.hi);
    }
    const char *what = fig == CLI_FIG_SLO ? "slo req/s" : "peak req/s";
    char title[240];
    snprintf(title, sizeof(title), "%s / %s: %s by date", fw, pl,
             fig == CLI_FIG_SLO ? "SLO capacity (req/s)" : "peak req/s");
    struct svg_plot p;
    svg_plot_open(&p, f, id, "history", title, 340, 70);
    if (!np) {
        fprintf(f, "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"middle\">no ok run</text>", p.w / 2,
                p.h / 2);
        svg_plot_close(&p);
        goto out;
    }
    double t0 = pt[0].t, t1 = pt[np - 1].t, pad = (t1 - t0) * 0.04;
    if (pad < 3600)
        pad = 3600;
    svg_plot_range(&p, SVG_X_LINEAR, t0 - pad, t1 + pad, 0, 1);
    date_ticks(&p, t0 - pad, t1 + pad);
    svg_plot_yaxis(&p, ymax, what);
    svg_plot_xlabel(&p, "date of the run (UTC)");
    char name[200];
    esc(name, sizeof(name), fw);
    /* The band each run was judged against, one polygon per stretch of judged
     * runs; a change of settings ends a stretch. */
    for (size_t i = 0; i < np;) {
        if (pt[i].mark == RV_NC) {
            i++;
            continue;
        }
        size_t j = i + 1;
        while (j < np && pt[j].mark != RV_NC && !pt[j].brk[0])
            j++;
        fprintf(f,
                "<polygon class=\"reg-band\" data-framework=\"%s\" fill=\"url(#%s-h0)\" "
                "stroke=\"#888\" stroke-dasharray=\"4 3\" points=\"",
                name, id);
        for (size_t k = i; k < j; k++)
            fprintf(f, "%.1f,%.1f ", svg_x(&p, pt[k].t), svg_y(&p, pt[k].band.hi));
        for (size_t k = j; k-- > i;)
            fprintf(f, "%.1f,%.1f ", svg_x(&p, pt[k].t), svg_y(&p, fmax(pt[k].band.lo, 0)));
        fputs("\"/>", f);
        i = j;
    }
    svg_hatch_defs(f, id, 1);
    /* Between two runs: the node changed, or the settings did (a break: the
     * runs on either side are not compared). */
    for (size_t i = 1; i < np; i++) {
        const struct run_record *a = cli_fp_get(st, fc, pt[i - 1].run_id);
        if (!a)
            continue;
        struct run_record prev = *a; /* cli_fp_get may move the cache */
        const struct run_record *cur = cli_fp_get(st, fc, pt[i].run_id);
        char why[512];
        enum cli_comparable cmp =
            cur ? cli_runs_comparable(&prev, cur, why, sizeof(why)) : CLI_COMPARABLE;
        if (cmp == CLI_COMPARABLE)
            continue;
        int settings = cmp == CLI_NOT_COMPARABLE;
        double x = (svg_x(&p, pt[i - 1].t) + svg_x(&p, pt[i].t)) / 2;
        fprintf(f, "<g class=\"%s\" data-run=\"%lld\"><title>%s: ",
                settings ? "settings-change" : "fp-change", (long long)pt[i].run_id,
                settings ? "not comparable" : "node changed");
        rv_html_escape(f, why);
        fprintf(f,
                "</title><line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#333\" "
                "stroke-width=\"1.5\" stroke-dasharray=\"%s\"/><text x=\"%.1f\" y=\"%.1f\" "
                "text-anchor=\"start\" class=\"fp-label\">%s</text></g>",
                x, p.top, x, p.top + p.ph, settings ? "6 2" : "2 3", x + 3, p.top + 12,
                settings ? "settings changed" : "node changed");
    }
    fprintf(f, "<g class=\"series\" data-name=\"%s\">", name);
    /* The line, broken where the settings change. */
    for (size_t i = 0; i < np;) {
        size_t j = i + 1;
        while (j < np && !pt[j].brk[0])
            j++;
        fprintf(f,
                "<polyline class=\"history-line\" fill=\"none\" stroke=\"%s\" stroke-width=\"2\" "
                "points=\"",
                svg_color(0));
        for (size_t k = i; k < j; k++)
            fprintf(f, "%.1f,%.1f ", svg_x(&p, pt[k].t), svg_y(&p, pt[k].v));
        fputs("\"/>", f);
        i = j;
    }
    /* A flag judged against runs on another node is "node changed", as
     * history says it: hollow, and not counted as a regression. */
    size_t flagged = 0, moved = 0;
    for (size_t i = 0; i < np; i++) {
        char a[300];
        int bad = pt[i].mark == RV_WORSE;
        int node = bad && pt[i].node[0];
        flagged += bad && !node;
        moved += node;
        snprintf(a, sizeof(a),
                 "class=\"pt%s%s%s\" data-run=\"%lld\" data-value=\"%.6g\" data-band-lo=\"%.6g\" "
                 "data-band-hi=\"%.6g\" data-qualifier=\"%s\"",
                 bad ? " flagged" : "", node ? " node-changed" : "",
                 pt[i].brk[0] && !pt[i].nprev ? " not-comparable" : "", (long long)pt[i].run_id,
                 pt[i].v, pt[i].mark == RV_NC ? NAN : pt[i].band.lo,
                 pt[i].mark == RV_NC ? NAN : pt[i].band.hi,
                 pt[i].lower_bound ? "lower_bound" : "measured");
        svg_marker(f, bad ? SVG_TRIANGLE_DOWN : SVG_CIRCLE, svg_x(&p, pt[i].t), svg_y(&p, pt[i].v),
                   bad ? 7 : 3, node, bad ? "#a00" : svg_color(0), a);
        if (bad)
            fprintf(f,
                    "<text class=\"flag-label\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">"
                    "run %lld%s</text>",
                    svg_x(&p, pt[i].t), svg_y(&p, pt[i].v) + 22, (long long)pt[i].run_id,
                    node ? " (node changed)" : "");
    }
    fputs("</g><g class=\"legend\">", f);
    char b[200];
    snprintf(b, sizeof(b), "band: median \xc2\xb1 %g\xc3\x97MAD of %d previous like runs",
             CLI_REGRESS_K, CLI_REGRESS_WINDOW);
    fprintf(f,
            "<rect x=\"20\" y=\"%.1f\" width=\"30\" height=\"10\" fill=\"url(#%s-h0)\" "
            "stroke=\"#888\"/>",
            p.legend_y + 9, id);
    legend_row(f, &p, 0, b);
    svg_marker(f, SVG_TRIANGLE_DOWN, 35, p.legend_y + 34, 6, 0, "#a00", "");
    snprintf(b, sizeof(b), "regression (%zu): outside the band; hollow (%zu): node changed",
             flagged, moved);
    legend_row(f, &p, 1, b);
    fprintf(f,
            "<line x1=\"35\" y1=\"%.1f\" x2=\"35\" y2=\"%.1f\" stroke=\"#333\" "
            "stroke-dasharray=\"2 3\"/>",
            p.legend_y + 46, p.legend_y + 62);
    legend_row(f, &p, 2, "node (dots) / settings (dashes) changed");
    fputs("</g>", f);
    svg_plot_close(&p);
out:
    free(pt);
    free(chron);
    free(rows);
}

/* ---- the page's parts ---- */

void cli_charts_payload(FILE *f, struct store *st, const struct run_record *r, const char *pl,
                        int pi, int depth)
{
    struct curve *cv = calloc(MAX_SERIES, sizeof(*cv));
    const char **labels = calloc(r->ncells + 1, sizeof(*labels));
    char(*names)[160] = calloc(r->ncells + 1, sizeof(*names));
    double *cap = calloc(r->ncells + 1, sizeof(*cap)), *rss = calloc(r->ncells + 1, sizeof(*rss));
    char id[64], title[200];
    if (!cv || !labels || !names || !cap || !rss) {
        fputs("<p class=\"bad\">out of memory drawing the charts</p>", f);
        goto out;
    }
    for (int what = 0; what < 2; what++) {
        size_t ns = 0;
        int repeats = 1;
        for (size_t i = 0; i < r->ncells && ns < MAX_SERIES; i++) {
            const struct cell_result *c = &r->cells[i];
            if (strcmp(c->payload, pl) || !c->nphases)
                continue;
            cli_cell_label(r, i, cv[ns].name, sizeof(cv[ns].name));
            collect(c, what, &cv[ns]);
            repeats = c->repeats > repeats ? c->repeats : repeats;
            ns++;
        }
        snprintf(id, sizeof(id), "p%d-%s", pi, what ? "p99" : "rps");
        snprintf(title, sizeof(title), "%s: %s vs users", pl,
                 what ? "p99 latency (ms)" : "requests per second");
        users_chart(f, id, title, what ? "p99 (ms)" : "req/s", cv, ns, repeats);
    }
    snprintf(id, sizeof(id), "p%d-spectrum", pi);
    spectrum_chart(f, r, pl, id);

    size_t nb = 0;
    for (size_t i = 0; i < r->ncells; i++) {
        const struct cell_result *c = &r->cells[i];
        if (strcmp(c->payload, pl) || c->status == CELL_SKIPPED)
            continue;
        cli_cell_label(r, i, names[nb], sizeof(names[nb]));
        labels[nb] = names[nb];
        cap[nb] = c->nphases ? (c->capacity_users < 0 ? 0 : c->capacity_users) : NAN;
        double kb = cli_cell_rss_max(c);
        rss[nb] = kb < 0 ? NAN : kb / 1024.0;
        nb++;
    }
    snprintf(id, sizeof(id), "p%d-capacity", pi);
    snprintf(title, sizeof(title), "%s: capacity (users without failure)", pl);
    svg_bar_chart(f, id, title, "users", labels, cap, nb);
    snprintf(id, sizeof(id), "p%d-rss", pi);
    snprintf(title, sizeof(title), "%s: server memory (RSS max, MiB)", pl);
    svg_bar_chart(f, id, title, "MiB", labels, rss, nb);

    struct cli_fp_cache fc = {0};
    int nh = 0;
    for (size_t i = 0; i < r->ncells; i++) {
        const struct cell_result *c = &r->cells[i];
        int seen = 0;
        for (size_t j = 0; j < i; j++)
            seen |= !strcmp(r->cells[j].framework, c->framework) &&
                    !strcmp(r->cells[j].payload, c->payload);
        if (strcmp(c->payload, pl) || seen)
            continue;
        snprintf(id, sizeof(id), "p%d-history-%d", pi, nh++);
        history_cell_chart(f, st, &fc, c->framework, pl, id, depth);
    }
    cli_fp_cache_free(&fc);
out:
    free(cv);
    free(labels);
    free(names);
    free(cap);
    free(rss);
}

/* A cell's peak: the median of its repeats when it has them. */
static double cell_peak(const struct cell_result *c)
{
    return c->repeats > 1 && c->peak_rps_median >= 0 ? c->peak_rps_median : c->peak_rps;
}

void cli_charts_heatmap(FILE *f, const struct run_record *r)
{
    const char *fws[MAX_SERIES], *pls[MAX_SERIES];
    size_t nfw = 0, npl = 0;
    for (size_t i = 0; i < r->ncells; i++) {
        const struct cell_result *c = &r->cells[i];
        if (c->status == CELL_SKIPPED || !c->nphases)
            continue;
        size_t a = 0, b = 0;
        while (a < nfw && strcmp(fws[a], c->framework))
            a++;
        while (b < npl && strcmp(pls[b], c->payload))
            b++;
        if (a == nfw && nfw < MAX_SERIES)
            fws[nfw++] = c->framework;
        if (b == npl && npl < MAX_SERIES)
            pls[npl++] = c->payload;
    }
    if (!nfw || !npl)
        return;
    double v[MAX_SERIES][MAX_SERIES], best[MAX_SERIES];
    for (size_t b = 0; b < npl; b++) {
        best[b] = 0;
        for (size_t a = 0; a < nfw; a++) {
            v[a][b] = NAN;
            for (size_t i = 0; i < r->ncells && isnan(v[a][b]); i++) {
                const struct cell_result *c = &r->cells[i];
                if (c->status != CELL_SKIPPED && c->nphases && !strcmp(c->framework, fws[a]) &&
                    !strcmp(c->payload, pls[b]))
                    v[a][b] = cell_peak(c);
            }
            if (v[a][b] > best[b])
                best[b] = v[a][b];
        }
    }
    const double lw = 110, top = 64, rh = 46, w = 440, cw = (w - lw - 10) / (double)npl;
    /* Few rows: a capped width keeps its text the size of the other charts'. */
    fputs("<div class=\"heatmap-wrap\" style=\"max-width:640px\">", f);
    struct svg_plot p;
    svg_plot_open(&p, f, "heatmap", "heatmap", "peak req/s relative to the best of each payload",
                  top + rh * (double)nfw + 8, 0);
    char name[200], pay[200];
    for (size_t b = 0; b < npl; b++) {
        esc(pay, sizeof(pay), pls[b]);
        fprintf(f,
                "<text class=\"heat-col\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>",
                lw + cw * ((double)b + 0.5), top - 10, pay);
    }
    for (size_t a = 0; a < nfw; a++) {
        double y = top + rh * (double)a;
        esc(name, sizeof(name), fws[a]);
        fprintf(f, "<text class=\"heat-row\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%s</text>",
                lw - 8, y + rh / 2 + 5, name);
        for (size_t b = 0; b < npl; b++) {
            double x = lw + cw * (double)b;
            esc(pay, sizeof(pay), pls[b]);
            if (!(v[a][b] >= 0) || !(best[b] > 0)) {
                fprintf(f,
                        "<rect class=\"heat-cell none\" data-framework=\"%s\" data-payload=\"%s\" "
                        "x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#fff\" "
                        "stroke=\"#ccc\"/><text x=\"%.1f\" y=\"%.1f\" "
                        "text-anchor=\"middle\">-</text>",
                        name, pay, x + 1, y + 1, cw - 2, rh - 2, x + cw / 2, y + rh / 2 + 5);
                continue;
            }
            double pct = v[a][b] / best[b] * 100;
            /* Darker for faster; the figure written inside says it without colour. */
            double light = 96 - 50 * pct / 100;
            char rate[32];
            svg_fmt_num(rate, sizeof(rate), round(v[a][b]));
            fprintf(f,
                    "<g class=\"heat-cell%s\" data-framework=\"%s\" data-payload=\"%s\" "
                    "data-pct=\"%.0f\" data-rps=\"%.6g\"><rect x=\"%.1f\" y=\"%.1f\" "
                    "width=\"%.1f\" height=\"%.1f\" fill=\"hsl(210,45%%,%.0f%%)\" "
                    "stroke=\"#fff\"/><text class=\"heat-pct\" x=\"%.1f\" y=\"%.1f\" "
                    "text-anchor=\"middle\" font-weight=\"600\" style=\"fill:%s\">%.0f%%</text>"
                    "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"11\" "
                    "style=\"fill:%s\">%s req/s</text></g>",
                    pct >= 99.95 ? " best" : "", name, pay, pct, v[a][b], x + 1, y + 1, cw - 2,
                    rh - 2, light, x + cw / 2, y + rh / 2 - 2, light < 60 ? "#fff" : "#222", pct,
                    x + cw / 2, y + rh / 2 + 14, light < 60 ? "#fff" : "#222", rate);
        }
    }
    svg_plot_close(&p);
    fputs("</div>\n", f);
}
