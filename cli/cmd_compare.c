/* cmd_compare.c - `mfbench compare RUN_A RUN_B`: per cell, B against A on the
 * headline figures in their order (SLO capacity with its band, p99 at the load
 * points, the passing peak, held users), each marked better / worse / same /
 * not comparable by judge.c's rules; capacity_users and the all-phase peak are
 * kept for reference. Runs of other settings are not comparable at all; on
 * another node a change is "node changed", never a regression. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "headline.h"
#include "judge.h"
#include "review.h"
#include "store.h"

#define MAX_SAMPLES 256

/* The samples of one figure of a cell in a run, and their summary. */
struct fig_samples {
    double v[MAX_SAMPLES];
    size_t n;
    struct cli_fig_value sum; /* median, band min..max, a lower bound if any sample is */
};

struct samples {
    struct fig_samples f[CLI_FIG__COUNT];
    size_t ncells, nok;
    char status[16]; /* of the first cell not ok, for the reason */
};

static void add(struct fig_samples *s, double v)
{
    if (s->n < MAX_SAMPLES && !isnan(v))
        s->v[s->n++] = v;
}

/* Folds one cell's figure into the summary (its band widens to hold both). */
static void fold(struct cli_fig_value *sum, const struct cli_fig_value *x, int first)
{
    if (isnan(x->v))
        return;
    if (first || isnan(sum->v)) {
        *sum = *x;
        return;
    }
    sum->lo = isnan(sum->lo) ? x->lo : fmin(sum->lo, x->lo);
    sum->hi = isnan(sum->hi) ? x->hi : fmax(sum->hi, x->hi);
    if (x->lower_bound && !sum->lower_bound) {
        sum->lower_bound = 1;
        sum->qualifier = x->qualifier;
    }
}

/* The samples of framework/payload in run r. Repeats are either several cells
 * of the cell in one run (a value per cell) or, in one cell, several phases at
 * the same user level (a value per phase at that level: the peaks). */
static void gather(const struct run_record *r, const char *fw, const char *pl, struct samples *s)
{
    memset(s, 0, sizeof(*s));
    const struct cell_result *ok[MAX_SAMPLES];
    for (size_t i = 0; i < r->ncells; i++) {
        const struct cell_result *c = &r->cells[i];
        if (strcmp(c->framework, fw) || strcmp(c->payload, pl))
            continue;
        s->ncells++;
        if (c->status == CELL_OK && c->nphases && s->nok < MAX_SAMPLES)
            ok[s->nok++] = c;
        else if (!s->status[0])
            snprintf(s->status, sizeof(s->status), "%s",
                     c->status == CELL_OK ? "no phases" : cell_status_name(c->status));
    }
    for (int f = 0; f < CLI_FIG__COUNT; f++) {
        struct cli_fig_value none = {NAN, NAN, NAN, NAN, NAN, HL_Q_NOT_JUDGED, 0};
        s->f[f].sum = none;
    }
    for (size_t i = 0; i < s->nok; i++) {
        const struct cell_result *c = ok[i];
        struct cli_fig_value fv[CLI_FIG__COUNT];
        cli_cell_figures(c, fv);
        for (int f = 0; f < CLI_FIG__COUNT; f++)
            fold(&s->f[f].sum, &fv[f], i == 0);
        if (s->nok > 1) {
            for (int f = 0; f < CLI_FIG__COUNT; f++)
                add(&s->f[f], fv[f].v);
            continue;
        }
        for (int f = 0; f < CLI_FIG__COUNT; f++)
            if (f != CLI_FIG_PEAK_RPS && f != CLI_FIG_PEAK_PASSING)
                add(&s->f[f], fv[f].v);
        /* One cell: the peaks' repeats are the phases at the level of the best
         * phase (of passing phases only, for the passing peak). */
        for (int passing = 0; passing < 2; passing++) {
            struct fig_samples *fs = &s->f[passing ? CLI_FIG_PEAK_PASSING : CLI_FIG_PEAK_RPS];
            int users = -1;
            double best = -1;
            for (size_t k = 0; k < c->nphases; k++) {
                const struct phase_result *p = &c->phases[k];
                if (phase_in_search(p) && (!passing || !p->stop_reason[0]) && p->rps > best) {
                    best = p->rps;
                    users = p->users;
                }
            }
            for (size_t k = 0; k < c->nphases; k++) {
                const struct phase_result *p = &c->phases[k];
                if (phase_in_search(p) && (!passing || !p->stop_reason[0]) && p->users == users)
                    add(fs, p->rps);
            }
            if (!fs->n)
                add(fs, passing ? fv[CLI_FIG_PEAK_PASSING].v : fv[CLI_FIG_PEAK_RPS].v);
        }
    }
    for (int f = 0; f < CLI_FIG__COUNT; f++)
        if (s->f[f].n)
            s->f[f].sum.v = rv_median(s->f[f].v, s->f[f].n);
}

struct cmp_row {
    char fw[64], pl[64];
    enum rv_mark verdict, mark[CLI_FIG__COUNT];
    int node_changed; /* better or worse, but measured on another node */
    double ratio[CLI_FIG__COUNT];
    struct cli_fig_value a[CLI_FIG__COUNT], b[CLI_FIG__COUNT];
    size_t na[CLI_FIG__COUNT], nb[CLI_FIG__COUNT];
    char why[CLI_FIG__COUNT][64]; /* of a figure's "not comparable" */
    char reason[160];
};

/* The first ok cell fw/pl of r with phases (the one whose node is judged), or NULL. */
static const struct cell_result *first_ok(const struct run_record *r, const char *fw,
                                          const char *pl)
{
    for (size_t i = 0; i < r->ncells; i++) {
        const struct cell_result *c = &r->cells[i];
        if (!strcmp(c->framework, fw) && !strcmp(c->payload, pl) && c->status == CELL_OK &&
            c->nphases)
            return c;
    }
    return NULL;
}

/* settings: "" when the runs are comparable, else why not (nothing is judged). A cell
 * whose node model differs between the runs (each on a node of its own) is not judged
 * either: "node changed (cpu model: A -> B)". */
static void compare_cell(const struct run_record *ra, const struct run_record *rb, const char *fw,
                         const char *pl, double factor, const char *settings, struct cmp_row *row)
{
    struct samples *sa = calloc(2, sizeof(*sa)), *sb = sa ? sa + 1 : NULL;
    memset(row, 0, sizeof(*row));
    snprintf(row->fw, sizeof(row->fw), "%s", fw);
    snprintf(row->pl, sizeof(row->pl), "%s", pl);
    for (int m = 0; m < CLI_FIG__COUNT; m++) {
        row->mark[m] = RV_NC;
        row->ratio[m] = NAN;
        row->a[m] = row->b[m] = (struct cli_fig_value){NAN, NAN, NAN, NAN, NAN, HL_Q_NOT_JUDGED, 0};
    }
    row->verdict = RV_NC;
    if (!sa) {
        snprintf(row->reason, sizeof(row->reason), "out of memory");
        return;
    }
    gather(ra, fw, pl, sa);
    gather(rb, fw, pl, sb);
    if (!sa->ncells || !sb->ncells) {
        snprintf(row->reason, sizeof(row->reason), "missing in run %lld",
                 (long long)(!sa->ncells ? ra->id : rb->id));
        goto out;
    }
    if (!sa->nok || !sb->nok) {
        snprintf(row->reason, sizeof(row->reason), "%s in run %lld",
                 !sa->nok ? sa->status : sb->status, (long long)(!sa->nok ? ra->id : rb->id));
        goto out;
    }
    /* Each cell on a node of its own (Slurm): two node models are not compared at all. */
    char node[200] = "";
    const struct cell_result *ca = first_ok(ra, fw, pl), *cb = first_ok(rb, fw, pl);
    char moved[sizeof node - 20];
    if (!settings[0] && ca && cb && cli_cells_node_changed(ra, ca, rb, cb, moved, sizeof moved))
        snprintf(node, sizeof node, "node changed (%s)", moved);
    int worse = 0, better = 0, nc = 0;
    char decided[96] = "";
    for (int m = 0; m < CLI_FIG__COUNT; m++) {
        row->na[m] = sa->f[m].n;
        row->nb[m] = sb->f[m].n;
        row->a[m] = sa->f[m].sum;
        row->b[m] = sb->f[m].sum;
        row->mark[m] = cli_fig_judge((enum cli_fig)m, sa->f[m].v, sa->f[m].n, &sa->f[m].sum,
                                     sb->f[m].v, sb->f[m].n, &sb->f[m].sum, factor, &row->ratio[m],
                                     row->why[m], sizeof(row->why[m]));
        if (settings[0]) {
            row->mark[m] = RV_NC; /* values shown, nothing judged */
            snprintf(row->why[m], sizeof(row->why[m]), "settings differ");
        } else if (node[0]) {
            row->mark[m] = RV_NC;
            snprintf(row->why[m], sizeof(row->why[m]), "node changed");
        }
        if (m >= CLI_FIG_JUDGED)
            continue; /* kept for reference: never decides the verdict */
        worse += row->mark[m] == RV_WORSE;
        better += row->mark[m] == RV_BETTER;
        nc += row->mark[m] == RV_NC;
        if (row->mark[m] == RV_WORSE || row->mark[m] == RV_BETTER) {
            size_t len = strlen(decided);
            snprintf(decided + len, sizeof(decided) - len, "%s%s %s", len ? ", " : "",
                     cli_fig_names[m], rv_mark_name(row->mark[m]));
        }
    }
    row->verdict = worse ? RV_WORSE : better ? RV_BETTER : nc == CLI_FIG_JUDGED ? RV_NC : RV_SAME;
    if (settings[0])
        snprintf(row->reason, sizeof(row->reason), "%s", settings);
    else if (node[0])
        snprintf(row->reason, sizeof(row->reason), "%s", node);
    else if (row->verdict == RV_NC)
        snprintf(row->reason, sizeof(row->reason), "no comparable figure");
    else if (decided[0])
        snprintf(row->reason, sizeof(row->reason), "%s", decided);
out:
    free(sa);
}

/* A figure as text: ">= 8000 (max)" for a lower bound. */
static void fmt_value(char *buf, size_t n, const struct cli_fig_value *v, int f)
{
    const char *q = !v->lower_bound ? "" : !strcmp(v->qualifier, HL_Q_MAX) ? " (max)" : " (client)";
    snprintf(buf, n, f == CLI_FIG_P99_A || f == CLI_FIG_P99_B ? "%s%.2f%s" : "%s%.0f%s",
             v->lower_bound ? ">= " : "", v->v, q);
}

static void fmt_metric(char *buf, size_t n, const struct cmp_row *r, int m)
{
    if (isnan(r->a[m].v) || isnan(r->b[m].v)) {
        snprintf(buf, n, "-");
        return;
    }
    char a[48], b[48];
    fmt_value(a, sizeof(a), &r->a[m], m);
    fmt_value(b, sizeof(b), &r->b[m], m);
    snprintf(buf, n, "%s -> %s x%.2f %s", a, b, r->ratio[m], rv_mark_name(r->mark[m]));
}

static cJSON *num_or_null(double v)
{
    return isfinite(v) ? cJSON_CreateNumber(v) : cJSON_CreateNull();
}

static const char compare_usage[] =
    "usage: mfbench compare RUN_A RUN_B [--factor F] [--only-changed] [--fail-on-regression]\n"
    "                       [--json] [--store DB]\n"
    "\n"
    "Compares two stored runs (ids, or 'last'), cell by cell, B against A, on the\n"
    "headline figures in this order:\n"
    "  slo req/s   SLO capacity at the first bound; its band [bracket_lo, bracket_hi]\n"
    "              is its uncertainty: bands that overlap are \"same\"\n"
    "  p99 A, B    p99 at the two load points; \"not comparable\" when the points\n"
    "              ran at rates more than F apart\n"
    "  peak        the closed-loop peak of passing phases\n"
    "  held        held users\n"
    "A ratio beyond F (or below 1/F) is a change; with repeats (several cells of one\n"
    "framework/payload in a run, or phases at the same user level) only a\n"
    "significant one: Mann-Whitney U p < 0.05 with 4 or more values each, else\n"
    "non-overlapping min-max ranges. Higher req/s and held users are better, higher\n"
    "p99 is worse. A cell is worse when any of these figures is worse, better when\n"
    "one is better and none worse. capacity_users (throughput x timeout) and the\n"
    "peak over all phases are in --json for reference and decide nothing.\n"
    "\n"
    "Lower bounds are never regressions: an SLO capacity stopped by the profile's\n"
    "max or by the load engine (\">= N (max)\", \">= N (client)\"), and held users not\n"
    "limited by the server, against another lower bound or a higher measurement\n"
    "are \"not comparable\"; a bound above the other run's measurement (its band, or\n"
    "beyond F for held users) is better.\n"
    "\n"
    "Runs are comparable when their profile and stored settings match; otherwise\n"
    "every cell is \"not comparable: settings differ (profile quick vs nightly)\".\n"
    "When the nodes differ (CPU model or count, kernel, cpufreq governor or\n"
    "python), a cell that got better or worse is \"node changed\", not a regression.\n"
    "A cell missing from one run, not ok, or without phases is not comparable.\n"
    "A cell that ran on a node of its own (Slurm) is \"not comparable: node changed\"\n"
    "when the two nodes' CPU model or CPU count differ (each cell's node fingerprint).\n"
    "\n"
    "      --factor F            change threshold (default 1.10)\n"
    "      --only-changed        list only cells that got better or worse\n"
    "      --fail-on-regression  exit 1 when any cell got worse (same settings, same node)\n"
    "      --json                a JSON object instead of the table: per cell its verdict\n"
    "                            and per figure a, b, their qualifiers, ratio and mark\n"
    "      --store DB            the result store\n"
    "  -h, --help                this text\n";

int cli_cmd_compare(int argc, char **argv)
{
    static const struct option opts[] = {{"factor", required_argument, NULL, 'f'},
                                         {"only-changed", no_argument, NULL, 'c'},
                                         {"fail-on-regression", no_argument, NULL, 'F'},
                                         {"json", no_argument, NULL, 'j'},
                                         {"store", required_argument, NULL, 's'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *store_path = NULL;
    double factor = 1.10;
    int only_changed = 0, fail_on_regression = 0, json = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'f': {
            char *end;
            errno = 0;
            factor = strtod(optarg, &end);
            if (errno || end == optarg || *end || !(factor >= 1) || factor > 1000) {
                fprintf(stderr, "mfbench compare: --factor must be a number >= 1, not '%s'\n",
                        optarg);
                return CLI_USAGE;
            }
            break;
        }
        case 'c':
            only_changed = 1;
            break;
        case 'F':
            fail_on_regression = 1;
            break;
        case 'j':
            json = 1;
            break;
        case 's':
            store_path = optarg;
            break;
        case 'h':
            fputs(compare_usage, stdout);
            return CLI_OK;
        default:
            fputs(compare_usage, stderr);
            return CLI_USAGE;
        }
    }
    if (argc - optind != 2) {
        fprintf(stderr, "mfbench compare: name two runs\n%s", compare_usage);
        return CLI_USAGE;
    }
    struct store *s = NULL;
    int rc = cli_open_store_reader(store_path, &s);
    if (rc)
        return rc;
    int64_t ida, idb;
    if ((rc = cli_parse_run_id(s, argv[optind], &ida)) ||
        (rc = cli_parse_run_id(s, argv[optind + 1], &idb))) {
        store_close(s);
        return rc;
    }
    struct run_record ra, rb;
    struct err e;
    err_clear(&e);
    memset(&ra, 0, sizeof(ra));
    memset(&rb, 0, sizeof(rb));
    struct cmp_row *rows = NULL;
    size_t nrows = 0;
    rc = CLI_FAILED;
    for (int k = 0; k < 2; k++) {
        int64_t id = k ? idb : ida;
        if (store_load_run(s, id, k ? &rb : &ra, &e)) {
            if (e.code == -ENOENT)
                fprintf(stderr,
                        "mfbench: no run %lld in the store (`mfbench history` lists them)\n",
                        (long long)id);
            else
                cli_print_err(&e);
            goto out;
        }
    }
    rows = calloc(ra.ncells + rb.ncells + 1, sizeof(*rows));
    if (!rows) {
        fprintf(stderr, "mfbench compare: out of memory\n");
        goto out;
    }
    /* Like with like: other settings are not compared at all, another node
     * explains a difference (judge.c decides both). */
    char why[512], settings[512] = "", changed[512] = "";
    enum cli_comparable cmp = cli_runs_comparable(&ra, &rb, why, sizeof(why));
    if (cmp == CLI_NOT_COMPARABLE)
        snprintf(settings, sizeof(settings), "%s", why);
    else if (cmp == CLI_NODE_CHANGED)
        snprintf(changed, sizeof(changed), "%s", why);
    int node_changed = cmp == CLI_NODE_CHANGED;
    /* Cells in A's order, then those only in B. */
    for (int pass = 0; pass < 2; pass++) {
        const struct run_record *r = pass ? &rb : &ra;
        for (size_t i = 0; i < r->ncells; i++) {
            int dup = 0;
            for (size_t k = 0; k < nrows && !dup; k++)
                dup = !strcmp(rows[k].fw, r->cells[i].framework) &&
                      !strcmp(rows[k].pl, r->cells[i].payload);
            if (!dup)
                compare_cell(&ra, &rb, r->cells[i].framework, r->cells[i].payload, factor, settings,
                             &rows[nrows++]);
        }
    }
    size_t count[4] = {0}, count_node = 0;
    for (size_t i = 0; i < nrows; i++) {
        rows[i].node_changed =
            node_changed && (rows[i].verdict == RV_BETTER || rows[i].verdict == RV_WORSE);
        if (rows[i].node_changed)
            count_node++;
        else
            count[rows[i].verdict]++;
    }
    if (json) {
        cJSON *root = cJSON_CreateObject();
        cJSON_AddNumberToObject(root, "run_a", (double)ra.id);
        cJSON_AddNumberToObject(root, "run_b", (double)rb.id);
        cJSON_AddNumberToObject(root, "factor", factor);
        if (node_changed)
            cJSON_AddStringToObject(root, "node_changed", changed);
        else
            cJSON_AddNullToObject(root, "node_changed");
        if (settings[0])
            cJSON_AddStringToObject(root, "not_comparable", settings);
        else
            cJSON_AddNullToObject(root, "not_comparable");
        cJSON *cells = cJSON_AddArrayToObject(root, "cells");
        for (size_t i = 0; i < nrows; i++) {
            const struct cmp_row *r = &rows[i];
            if (only_changed && r->verdict != RV_BETTER && r->verdict != RV_WORSE)
                continue;
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "framework", r->fw);
            cJSON_AddStringToObject(o, "payload", r->pl);
            /* verdict: "node changed" for a change on another node; then
             * verdict_same_node says what it would have been. */
            cJSON_AddStringToObject(o, "verdict",
                                    r->node_changed ? "node changed" : rv_mark_name(r->verdict));
            if (r->node_changed)
                cJSON_AddStringToObject(o, "verdict_same_node", rv_mark_name(r->verdict));
            if (r->reason[0])
                cJSON_AddStringToObject(o, "reason", r->reason);
            else
                cJSON_AddNullToObject(o, "reason");
            /* metrics: the figures in the order judged ("judged": true), then
             * the two kept for reference. */
            cJSON *ms = cJSON_AddObjectToObject(o, "metrics");
            for (int m = 0; m < CLI_FIG__COUNT; m++) {
                cJSON *mo = cJSON_AddObjectToObject(ms, cli_fig_names[m]);
                cJSON_AddItemToObject(mo, "a", num_or_null(r->a[m].v));
                cJSON_AddItemToObject(mo, "b", num_or_null(r->b[m].v));
                cJSON_AddStringToObject(mo, "qualifier_a", r->a[m].qualifier);
                cJSON_AddStringToObject(mo, "qualifier_b", r->b[m].qualifier);
                if (m == CLI_FIG_SLO) {
                    cJSON *ba = cJSON_AddArrayToObject(mo, "band_a");
                    cJSON_AddItemToArray(ba, num_or_null(r->a[m].lo));
                    cJSON_AddItemToArray(ba, num_or_null(r->a[m].hi));
                    cJSON *bb = cJSON_AddArrayToObject(mo, "band_b");
                    cJSON_AddItemToArray(bb, num_or_null(r->b[m].lo));
                    cJSON_AddItemToArray(bb, num_or_null(r->b[m].hi));
                }
                if (m == CLI_FIG_P99_A || m == CLI_FIG_P99_B) {
                    cJSON_AddItemToObject(mo, "at_rps_a", num_or_null(r->a[m].at_rps));
                    cJSON_AddItemToObject(mo, "at_rps_b", num_or_null(r->b[m].at_rps));
                    cJSON_AddItemToObject(mo, "pct_a", num_or_null(r->a[m].pct));
                    cJSON_AddItemToObject(mo, "pct_b", num_or_null(r->b[m].pct));
                }
                cJSON_AddNumberToObject(mo, "n_a", (double)r->na[m]);
                cJSON_AddNumberToObject(mo, "n_b", (double)r->nb[m]);
                cJSON_AddItemToObject(mo, "ratio", num_or_null(r->ratio[m]));
                cJSON_AddStringToObject(mo, "mark", rv_mark_name(r->mark[m]));
                if (r->why[m][0])
                    cJSON_AddStringToObject(mo, "why", r->why[m]);
                cJSON_AddBoolToObject(mo, "judged", m < CLI_FIG_JUDGED);
            }
            cJSON_AddItemToArray(cells, o);
        }
        cJSON *sum = cJSON_AddObjectToObject(root, "summary");
        cJSON_AddNumberToObject(sum, "better", (double)count[RV_BETTER]);
        cJSON_AddNumberToObject(sum, "worse", (double)count[RV_WORSE]);
        cJSON_AddNumberToObject(sum, "same", (double)count[RV_SAME]);
        cJSON_AddNumberToObject(sum, "not_comparable", (double)count[RV_NC]);
        cJSON_AddNumberToObject(sum, "node_changed", (double)count_node);
        char *j = cJSON_Print(root);
        if (j)
            puts(j);
        free(j);
        cJSON_Delete(root);
    } else if (nrows == 0) {
        printf("runs %lld and %lld have no cells to compare\n", (long long)ra.id, (long long)rb.id);
    } else {
        printf("run %lld (%s, %s) -> run %lld (%s, %s), change threshold x%.2f\n\n",
               (long long)ra.id, ra.started_at, ra.status, (long long)rb.id, rb.started_at,
               rb.status, factor);
        if (settings[0])
            printf("not comparable: %s: nothing is judged\n\n", settings);
        else if (node_changed)
            printf("node changed (%s): a difference is not called a regression\n\n", changed);
        printf("%-22s %-34s %-30s %-30s %-32s %-34s %s\n", "cell", "slo req/s", "p99 ms at A",
               "p99 ms at B", "peak req/s (passing)", "held users", "verdict");
        for (size_t i = 0; i < nrows; i++) {
            const struct cmp_row *r = &rows[i];
            if (only_changed && r->verdict != RV_BETTER && r->verdict != RV_WORSE)
                continue;
            char cell[140], mt[CLI_FIG_JUDGED][140];
            snprintf(cell, sizeof(cell), "%s/%s", r->fw, r->pl);
            for (int m = 0; m < CLI_FIG_JUDGED; m++)
                fmt_metric(mt[m], sizeof(mt[m]), r, m);
            char verdict[64];
            snprintf(verdict, sizeof(verdict), r->node_changed ? "node changed (%s)" : "%s",
                     rv_mark_name(r->verdict));
            printf("%-22s %-34s %-30s %-30s %-32s %-34s %s%s%s\n", cell, mt[0], mt[1], mt[2], mt[3],
                   mt[4], verdict, r->reason[0] ? ": " : "", r->reason);
        }
        printf("\n%zu better, %zu worse, %zu same, %zu not comparable", count[RV_BETTER],
               count[RV_WORSE], count[RV_SAME], count[RV_NC]);
        if (node_changed)
            printf(", %zu changed on another node", count_node);
        putchar('\n');
    }
    rc = fail_on_regression && count[RV_WORSE] ? CLI_FAILED : CLI_OK;
out:
    free(rows);
    run_record_free(&ra);
    run_record_free(&rb);
    store_close(s);
    return rc;
}
