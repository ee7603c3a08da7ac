/* judge.c - comparability of two runs and the judging rules of compare,
 * history and the report (see judge.h). The figures come from headline.c, the
 * one module that computes them; the statistics from review.c. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "headline.h"
#include "judge.h"

const char *const cli_fig_names[CLI_FIG__COUNT] = {
    "slo_rps", "p99_a_ms", "p99_b_ms", "peak_rps_passing", "held_users", "capacity", "peak_rps"};
const char *const cli_fig_labels[CLI_FIG__COUNT] = {
    "slo req/s",  "p99 ms at load A", "p99 ms at load B",       "peak req/s (passing)",
    "held users", "capacity (users)", "peak req/s (all phases)"};
const enum rv_dir cli_fig_dirs[CLI_FIG__COUNT] = {
    RV_HIGHER_BETTER, RV_LOWER_BETTER,  RV_LOWER_BETTER, RV_HIGHER_BETTER,
    RV_HIGHER_BETTER, RV_HIGHER_BETTER, RV_HIGHER_BETTER};

/* The first item (", "-separated) where two settings lines differ, as
 * "x vs y"; the whole lines when the lists differ only in length. */
static void first_difference(const char *a, const char *b, char *out, size_t n)
{
    while (*a || *b) {
        size_t la = strcspn(a, ","), lb = strcspn(b, ",");
        if (la != lb || strncmp(a, b, la) != 0) {
            snprintf(out, n, "%.*s vs %.*s", (int)(la ? la : 1), la ? a : "-", (int)(lb ? lb : 1),
                     lb ? b : "-");
            return;
        }
        a += la;
        b += lb;
        while (*a == ',' || *a == ' ')
            a++;
        while (*b == ',' || *b == ' ')
            b++;
    }
    snprintf(out, n, "%s", "");
}

enum cli_comparable cli_runs_comparable(const struct run_record *a, const struct run_record *b,
                                        char *why, size_t n)
{
    char d[300] = "";
    if (n)
        why[0] = '\0';
    if (a->profile[0] && b->profile[0] && strcmp(a->profile, b->profile) != 0)
        snprintf(d, sizeof(d), "profile %s vs %s", a->profile, b->profile);
    else if (a->settings[0] && b->settings[0] && strcmp(a->settings, b->settings) != 0)
        first_difference(a->settings, b->settings, d, sizeof(d));
    if (d[0]) {
        if (n)
            snprintf(why, n, "settings differ (%s)", d);
        return CLI_NOT_COMPARABLE;
    }
    char node[512];
    if (cli_node_changes(a, b, node, sizeof(node)) <= 0)
        return CLI_COMPARABLE;
    if (n)
        snprintf(why, n, "%s", node);
    return CLI_NODE_CHANGED;
}

static void none(struct cli_fig_value *v)
{
    v->v = v->lo = v->hi = v->at_rps = v->pct = NAN;
    v->qualifier = HL_Q_NOT_JUDGED;
    v->lower_bound = 0;
}

static void measured(struct cli_fig_value *v, double x)
{
    if (x < 0 || isnan(x))
        return;
    v->v = x;
    v->qualifier = HL_Q_MEASURED;
}

void cli_cell_figures(const struct cell_result *c, struct cli_fig_value out[CLI_FIG__COUNT])
{
    for (int f = 0; f < CLI_FIG__COUNT; f++)
        none(&out[f]);
    if (c->status != CELL_OK || !c->nphases)
        return;
    struct headline h;
    headline_compute(c, &h);
    struct cli_fig_value *s = &out[CLI_FIG_SLO];
    /* An upper bound (below the profile's min_rps) is not a value to compare. */
    if (h.slo.has && h.slo.rps >= 0 && strcmp(h.slo.qualifier, HL_Q_BELOW_MIN)) {
        s->v = h.slo.rps;
        s->lo = h.slo.lo >= 0 ? h.slo.lo : NAN;
        s->hi = h.slo.hi >= 0 ? h.slo.hi : NAN;
        s->qualifier = h.slo.qualifier;
        s->lower_bound = !strcmp(h.slo.qualifier, HL_Q_MAX) ||
                         !strcmp(h.slo.qualifier, HL_Q_CLIENT) ||
                         !strcmp(h.slo.qualifier, HL_Q_SHARED);
    }
    for (int i = 0; i < 2; i++) {
        struct cli_fig_value *l = &out[CLI_FIG_P99_A + i];
        if (h.load[i].p99_ms < 0)
            continue;
        measured(l, h.load[i].p99_ms);
        l->at_rps = c->load_points[i].offered_rps;
        l->pct = h.load[i].pct;
    }
    measured(&out[CLI_FIG_PEAK_PASSING], h.peak_passing);
    struct cli_fig_value *u = &out[CLI_FIG_HELD];
    if (h.held_users >= 0 && strcmp(h.held_qualifier, HL_Q_NOT_JUDGED) != 0) {
        u->v = h.held_users;
        u->qualifier = h.held_qualifier;
        u->lower_bound = strcmp(h.held_qualifier, HL_Q_MEASURED) != 0;
    }
    /* A cell that ran but failed even its first level has capacity 0. */
    measured(&out[CLI_FIG_CAPACITY], c->capacity_users < 0 ? 0 : c->capacity_users);
    measured(&out[CLI_FIG_PEAK_RPS], c->peak_rps);
}

/* The top of a measured figure's band: SLO its bracket_hi, else its value
 * stretched by factor (the resolution a change must exceed). */
static double top_of(enum cli_fig f, const struct cli_fig_value *m, double factor)
{
    if (f == CLI_FIG_SLO && isfinite(m->hi) && m->hi >= m->v)
        return m->hi;
    return m->v * factor;
}

enum rv_mark cli_fig_judge(enum cli_fig f, const double *a, size_t na,
                           const struct cli_fig_value *sa, const double *b, size_t nb,
                           const struct cli_fig_value *sb, double factor, double *ratio, char *why,
                           size_t n)
{
    if (n)
        why[0] = '\0';
    *ratio = NAN;
    if (!na || !nb || isnan(sa->v) || isnan(sb->v)) {
        snprintf(why, n, "not measured in %s", !na || isnan(sa->v) ? "A" : "B");
        return RV_NC;
    }
    double ma = rv_median(a, na), mb = rv_median(b, nb);
    *ratio = ma != 0 ? mb / ma : (mb == 0 ? 1 : NAN);
    if (factor < 1)
        factor = 1;
    if (sa->lower_bound && sb->lower_bound) {
        snprintf(why, n, "both lower bounds");
        return RV_NC;
    }
    if (sa->lower_bound || sb->lower_bound) {
        /* Only a bound above what the other side measured says something:
         * that side is better. A bound at or below a measurement says nothing. */
        const struct cli_fig_value *lb = sa->lower_bound ? sa : sb, *m = sa->lower_bound ? sb : sa;
        double bound = sa->lower_bound ? ma : mb, meas = sa->lower_bound ? mb : ma;
        struct cli_fig_value mm = *m;
        mm.v = meas;
        if (bound > top_of(f, &mm, factor))
            return sb->lower_bound ? RV_BETTER : RV_WORSE;
        snprintf(why, n, "lower bound (%s) against a measurement", lb->qualifier);
        return RV_NC;
    }
    if (f == CLI_FIG_SLO && isfinite(sa->lo) && isfinite(sa->hi) && isfinite(sb->lo) &&
        isfinite(sb->hi)) {
        if (sb->lo <= sa->hi && sa->lo <= sb->hi)
            return RV_SAME;
        return sb->lo > sa->hi ? RV_BETTER : RV_WORSE;
    }
    if ((f == CLI_FIG_P99_A || f == CLI_FIG_P99_B) && isfinite(sa->at_rps) &&
        isfinite(sb->at_rps) && sa->at_rps > 0 &&
        (sb->at_rps / sa->at_rps > factor || sa->at_rps / sb->at_rps > factor)) {
        snprintf(why, n, "load points at %.0f vs %.0f req/s", sa->at_rps, sb->at_rps);
        return RV_NC;
    }
    double r;
    enum rv_mark m = rv_compare(a, na, b, nb, factor, cli_fig_dirs[f], &r);
    return m;
}

enum rv_mark cli_fig_band_judge(enum cli_fig f, const struct cli_fig_value *const *prev, size_t n,
                                const struct cli_fig_value *x, size_t min_n, double k,
                                double floor_frac, struct rv_band *b)
{
    double v[256];
    size_t nv = 0;
    int any_bound = 0;
    for (size_t i = 0; i < n && nv < 256; i++) {
        const struct cli_fig_value *p = prev[i];
        if (isnan(p->v))
            continue;
        if ((f == CLI_FIG_P99_A || f == CLI_FIG_P99_B) && isfinite(p->at_rps) &&
            isfinite(x->at_rps) && x->at_rps > 0 && fabs(p->at_rps / x->at_rps - 1) > 0.10)
            continue;
        any_bound |= p->lower_bound;
        v[nv++] = p->v;
    }
    enum rv_mark m = rv_band_check(v, nv, min_n, k, floor_frac, x->v, cli_fig_dirs[f], b);
    if (m == RV_NC || m == RV_SAME)
        return m;
    /* SLO: the run's own band must clear the noise band. */
    if (f == CLI_FIG_SLO && isfinite(x->lo) && isfinite(x->hi) &&
        ((m == RV_WORSE && x->hi >= b->lo) || (m == RV_BETTER && x->lo <= b->hi)))
        return RV_SAME;
    if (m == RV_WORSE && x->lower_bound)
        return RV_NC;
    if (m == RV_BETTER && any_bound)
        return RV_NC;
    return m;
}
