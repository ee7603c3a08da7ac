/* cmd_history.c - `mfbench history [CELL]`: stored runs over time, a line per
 * cell with its headline figures (computed from the loaded phases by show's
 * own definitions: headline.c, result.c; the store only fetches rows); a
 * sparkline of each cell's trend; and regression detection: a value outside
 * median +- k x MAD of the previous N runs of the same cell is flagged; when
 * those runs were not all on the same node (fingerprint.c), the flag says
 * "node changed" instead of "regression". */
#include <cjson/cJSON.h>
#include <errno.h>
#include <getopt.h>
#include <langinfo.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "headline.h"
#include "review.h"
#include "store.h"

/* Fewer previous runs than this and a cell is not judged: one or two runs are
 * no noise estimate. */
#define REGRESS_MIN_RUNS 3
/* The band's spread is at least this fraction of the median, so a perfectly
 * flat history does not flag a 1% wobble. */
#define REGRESS_MAD_FLOOR 0.01
/* A flag per judged figure, or one for a failure after an ok run. */
#define MAX_FLAGS (CLI_FIG_JUDGED + 1)
#define MET_STATUS CLI_FIG_JUDGED

struct regress_opts {
    int window;
    double k;
};

struct flag {
    int metric; /* enum cli_fig below CLI_FIG_JUDGED, or MET_STATUS */
    double value;
    struct rv_band band;
    char prev_status[16];
    char node[256]; /* what changed on the node ("" = same node: a regression) */
};

static int judged(const struct store_history_row *r)
{
    return strcmp(r->status, "ok") == 0;
}

/* One run met so far: its record without cells, and its cells' figures. */
struct cli_fp_run {
    struct run_record r;
    int64_t *cell_id;
    struct cli_fig_value (*fig)[CLI_FIG__COUNT];
    struct cli_cell_shown *shown;
    size_t ncells;
};

void cli_fp_cache_free(struct cli_fp_cache *c)
{
    for (size_t i = 0; i < c->n; i++) {
        free(c->r[i].cell_id);
        free(c->r[i].fig);
        free(c->r[i].shown);
    }
    free(c->r);
    memset(c, 0, sizeof(*c));
}

static struct cli_fp_run *fp_run(struct store *s, struct cli_fp_cache *c, int64_t id)
{
    for (size_t i = 0; i < c->n; i++)
        if (c->r[i].r.id == id)
            return &c->r[i];
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 16;
        struct cli_fp_run *nr = realloc(c->r, cap * sizeof(*nr));
        if (!nr)
            return NULL;
        c->r = nr;
        c->cap = cap;
    }
    struct run_record full;
    struct err e;
    err_clear(&e);
    if (store_load_run(s, id, &full, &e) < 0) {
        run_record_free(&full);
        return NULL;
    }
    struct cli_fp_run *out = &c->r[c->n];
    memset(out, 0, sizeof(*out));
    out->cell_id = calloc(full.ncells + 1, sizeof(*out->cell_id));
    out->fig = calloc(full.ncells + 1, sizeof(*out->fig));
    out->shown = calloc(full.ncells + 1, sizeof(*out->shown));
    if (!out->cell_id || !out->fig || !out->shown) {
        free(out->cell_id);
        free(out->fig);
        free(out->shown);
        run_record_free(&full);
        return NULL;
    }
    for (size_t k = 0; k < full.ncells; k++) {
        out->cell_id[k] = full.cells[k].id;
        cli_cell_figures(&full.cells[k], out->fig[k]);
        cli_cell_shown_of(&full.cells[k], &out->shown[k]);
    }
    out->ncells = full.ncells;
    out->r = full;
    out->r.cells = NULL;
    out->r.ncells = 0;
    out->r.id = id;
    run_record_free(&full);
    c->n++;
    return out;
}

const struct run_record *cli_fp_get(struct store *s, struct cli_fp_cache *c, int64_t id)
{
    struct cli_fp_run *r = fp_run(s, c, id);
    return r ? &r->r : NULL;
}

const struct cli_fig_value *cli_fp_figures(struct store *s, struct cli_fp_cache *c, int64_t id,
                                           int64_t cell_id)
{
    struct cli_fp_run *r = fp_run(s, c, id);
    for (size_t k = 0; r && k < r->ncells; k++)
        if (r->cell_id[k] == cell_id)
            return r->fig[k];
    return NULL;
}

const struct cli_cell_shown *cli_fp_shown(struct store *s, struct cli_fp_cache *c, int64_t id,
                                          int64_t cell_id)
{
    struct cli_fp_run *r = fp_run(s, c, id);
    for (size_t k = 0; r && k < r->ncells; k++)
        if (r->cell_id[k] == cell_id)
            return &r->shown[k];
    return NULL;
}

void cli_cell_shown_of(const struct cell_result *c, struct cli_cell_shown *out)
{
    struct headline h;
    headline_compute(c, &h);
    const struct phase_result *cap = h.capacity_phase;
    out->p50_ms = cap ? cap->latency_ms.p50 : -1;
    out->p99_ms = cap ? cap->latency_ms.p99 : -1;
    out->rss_max_kb = cli_cell_rss_max(c);
    out->rss_at_peak_mib = h.rss_mib;
    out->held_users = h.held_users;
}

void cli_history_judge(struct store *s, struct cli_fp_cache *fc,
                       struct store_history_row *const *chron, size_t i, int window, double k,
                       struct cli_history_verdict *v)
{
    memset(v, 0, sizeof(*v));
    const struct cli_fig_value *xf = cli_fp_figures(s, fc, chron[i]->run_id, chron[i]->cell_id);
    for (int f = 0; f < CLI_FIG_JUDGED; f++) {
        v->mark[f] = RV_NC;
        v->x[f] = (struct cli_fig_value){NAN, NAN, NAN, NAN, NAN, HL_Q_NOT_JUDGED, 0};
        if (xf)
            v->x[f] = xf[f];
    }
    /* A copy: the cache may move. */
    const struct run_record *c = cli_fp_get(s, fc, chron[i]->run_id);
    if (!c)
        return;
    struct run_record cur = *c;
    /* The comparable previous ok rows, newest first. */
    size_t idx[256], np = 0;
    int seen_ok = 0, fail_judged = 0;
    for (size_t j = i; j-- > 0 && np < (size_t)window && np < 256;) {
        if (chron[j]->run_id == chron[i]->run_id)
            continue;
        const struct run_record *prev = cli_fp_get(s, fc, chron[j]->run_id);
        char why[256];
        enum cli_comparable cmp =
            prev ? cli_runs_comparable(prev, &cur, why, sizeof(why)) : CLI_COMPARABLE;
        if (cmp == CLI_NOT_COMPARABLE) {
            if (judged(chron[j]) && !seen_ok)
                snprintf(v->brk, sizeof(v->brk), "%s", why);
            seen_ok |= judged(chron[j]);
            continue;
        }
        /* A failure is judged against the newest comparable row before it. */
        if (!fail_judged) {
            fail_judged = 1;
            if (judged(chron[j]))
                snprintf(v->failed, sizeof(v->failed), "%s", chron[j]->status);
        }
        if (!judged(chron[j]))
            continue;
        seen_ok = 1;
        if (cmp == CLI_NODE_CHANGED && !v->node[0])
            snprintf(v->node, sizeof(v->node), "%s", why);
        idx[np++] = j;
    }
    v->nprev = np;
    if (!judged(chron[i]))
        return;
    v->failed[0] = '\0';
    const struct cli_fig_value *prev[CLI_FIG_JUDGED][256];
    size_t nprev[CLI_FIG_JUDGED] = {0};
    for (size_t p = 0; p < np; p++) {
        const struct cli_fig_value *pf =
            cli_fp_figures(s, fc, chron[idx[p]]->run_id, chron[idx[p]]->cell_id);
        for (int f = 0; pf && f < CLI_FIG_JUDGED; f++)
            prev[f][nprev[f]++] = &pf[f];
    }
    /* The pointers above stay valid: every run was loaded before the first. */
    for (int f = 0; f < CLI_FIG_JUDGED; f++)
        v->mark[f] = cli_fig_band_judge((enum cli_fig)f, prev[f], nprev[f], &v->x[f],
                                        REGRESS_MIN_RUNS, k, REGRESS_MAD_FLOOR, &v->band[f]);
}

/* The flags of chron[i]: each figure worse than its band, or a failure after
 * a comparable ok run, each marked "node changed" when one of the runs it was
 * judged against was on another node. Fills *v. Returns how many flags. */
static size_t judge_row(struct store *s, struct cli_fp_cache *fc,
                        struct store_history_row *const *chron, size_t i,
                        const struct regress_opts *o, struct flag *out,
                        struct cli_history_verdict *v)
{
    const struct store_history_row *r = chron[i];
    cli_history_judge(s, fc, chron, i, o->window, o->k, v);
    size_t nf = 0;
    if ((strcmp(r->status, "failed") == 0 || strcmp(r->status, "error") == 0) && v->failed[0]) {
        out[nf].metric = MET_STATUS;
        out[nf].value = NAN;
        memset(&out[nf].band, 0, sizeof(out[nf].band));
        snprintf(out[nf].prev_status, sizeof(out[nf].prev_status), "%s", v->failed);
        nf++;
    }
    for (int f = 0; f < CLI_FIG_JUDGED && judged(r); f++)
        if (v->mark[f] == RV_WORSE) {
            out[nf].metric = f;
            out[nf].value = v->x[f].v;
            out[nf].band = v->band[f];
            out[nf].prev_status[0] = '\0';
            nf++;
        }
    for (size_t f = 0; f < nf; f++)
        snprintf(out[f].node, sizeof(out[f].node), "%s", v->node);
    return nf;
}

static const char *flag_name(int m)
{
    return m == MET_STATUS ? "status" : cli_fig_names[m];
}

static size_t count_regressions(const struct flag *fl, size_t nf)
{
    size_t n = 0;
    for (size_t i = 0; i < nf; i++)
        n += fl[i].node[0] == '\0';
    return n;
}

static void print_flag(FILE *f, const struct store_history_row *r, const struct flag *fl)
{
    if (fl->node[0])
        fprintf(f, "node changed (%s): ", fl->node);
    else
        fputs("regression: ", f);
    if (fl->metric == MET_STATUS) {
        fprintf(f, "run %lld %s/%s: status %s (was %s)\n", (long long)r->run_id, r->framework,
                r->payload, r->status, fl->prev_status);
        return;
    }
    fprintf(f,
            "run %lld %s/%s: %s %.2f %s the band %.2f..%.2f (median %.2f, MAD %.2f of %zu "
            "previous runs)\n",
            (long long)r->run_id, r->framework, r->payload, cli_fig_labels[fl->metric], fl->value,
            fl->value < fl->band.lo ? "below" : "above", fl->band.lo, fl->band.hi, fl->band.median,
            fl->band.mad, fl->band.n);
}

/* Groups rows (newest first, as the store gives them) by cell: cells[k] points
 * at the rows of one framework/payload, oldest first. */
struct cell_rows {
    struct store_history_row **rows;
    size_t n;
};

static void cells_free(struct cell_rows *cells, size_t ncells)
{
    for (size_t i = 0; i < ncells; i++)
        free(cells[i].rows);
    free(cells);
}

static int cmp_newest(const void *a, const void *b)
{
    const struct cell_rows *x = a, *y = b;
    const struct store_history_row *nx = x->rows[x->n - 1], *ny = y->rows[y->n - 1];
    return (nx > ny) - (nx < ny);
}

static int group_cells(struct store_history_row *rows, size_t n, struct cell_rows **out,
                       size_t *nout)
{
    struct cell_rows *cells = NULL;
    size_t ncells = 0;
    for (size_t i = n; i-- > 0;) {
        size_t k = 0;
        for (; k < ncells; k++)
            if (strcmp(cells[k].rows[0]->framework, rows[i].framework) == 0 &&
                strcmp(cells[k].rows[0]->payload, rows[i].payload) == 0)
                break;
        if (k == ncells) {
            struct cell_rows *nc = realloc(cells, (ncells + 1) * sizeof(*nc));
            if (!nc)
                goto fail;
            cells = nc;
            cells[ncells].rows = malloc(n * sizeof(*cells[ncells].rows));
            cells[ncells].n = 0;
            if (!cells[ncells].rows)
                goto fail;
            ncells++;
        }
        cells[k].rows[cells[k].n++] = &rows[i];
    }
    /* Cells in the order of their newest line, as the table lists them. */
    if (ncells > 1)
        qsort(cells, ncells, sizeof(*cells), cmp_newest);
    *out = cells;
    *nout = ncells;
    return 0;
fail:
    cells_free(cells, ncells);
    return -ENOMEM;
}

int cli_regressions_for_run(struct store *s, int64_t run_id, FILE *out)
{
    struct run_record run;
    struct err e;
    err_clear(&e);
    int rc = store_load_run(s, run_id, &run, &e);
    if (rc < 0)
        return rc;
    struct regress_opts o = {.window = CLI_REGRESS_WINDOW, .k = CLI_REGRESS_K};
    struct cli_fp_cache fc = {0};
    int count = 0;
    for (size_t c = 0; c < run.ncells && count >= 0; c++) {
        int dup = 0;
        for (size_t j = 0; j < c; j++)
            dup |= strcmp(run.cells[j].framework, run.cells[c].framework) == 0 &&
                   strcmp(run.cells[j].payload, run.cells[c].payload) == 0;
        if (dup)
            continue;
        struct store_history_row *rows = NULL;
        size_t n = 0;
        struct cell_rows *cells = NULL;
        size_t ncells = 0;
        if ((rc = store_history(s, run.cells[c].framework, run.cells[c].payload, 0, &rows, &n,
                                &e)) < 0 ||
            (rc = group_cells(rows, n, &cells, &ncells)) < 0) {
            free(rows);
            count = rc;
            break;
        }
        for (size_t k = 0; k < ncells; k++)
            for (size_t i = 0; i < cells[k].n; i++) {
                if (cells[k].rows[i]->run_id != run_id)
                    continue;
                struct flag fl[MAX_FLAGS];
                struct cli_history_verdict v;
                size_t nf = judge_row(s, &fc, cells[k].rows, i, &o, fl, &v);
                for (size_t f = 0; f < nf; f++)
                    print_flag(out, cells[k].rows[i], &fl[f]);
                count += (int)count_regressions(fl, nf);
            }
        cells_free(cells, ncells);
        free(rows);
    }
    run_record_free(&run);
    cli_fp_cache_free(&fc);
    return count;
}

static const char history_usage[] =
    "usage: mfbench history [CELL] [--limit N] [--json] [--regressions] [--window N] [--k K]\n"
    "                       [--sparkline] [--store DB]\n"
    "\n"
    "Lists stored results, newest first, a line per cell of each run, then each\n"
    "cell's peak req/s trend as a sparkline (oldest to newest) when stdout is a\n"
    "terminal, of the runs comparable with the newest one.\n"
    "\n"
    "Like is compared with like: a run is judged only against the previous N ok runs\n"
    "of the same cell whose profile and stored settings match its own. A run with\n"
    "none is \"not comparable: settings differ (profile quick vs nightly)\" and is not\n"
    "judged; where the settings change between two runs the table says \"break\".\n"
    "\n"
    "The figures are judged in this order: SLO capacity (slo req/s), p99 at the two\n"
    "load points, the closed-loop peak of passing phases, held users. A value is a\n"
    "regression when it lies outside median +- K x MAD of the comparable runs' values\n"
    "(at least 3 runs; the MAD is at least 1% of the median): req/s or held users\n"
    "below the band, p99 above it. SLO capacity counts only when its own band\n"
    "[bracket_lo, bracket_hi] lies wholly outside. p99 is judged only against points\n"
    "at a rate within 10%. Lower bounds are never regressions: an SLO capacity\n"
    "stopped by the profile's max or the load engine, or held users not limited by\n"
    "the server (shown \">=N\"), is never flagged below the band, and a value above\n"
    "a band that holds lower bounds is not called better. A cell that fails after\n"
    "a comparable ok run is a regression too. When one of the runs judged against\n"
    "was on another node (CPU model or count, kernel, cpufreq governor, python),\n"
    "the flag says \"node changed\" instead: the difference is not a regression.\n"
    "capacity (users) is throughput x timeout, kept in --json, never judged.\n"
    "Every figure is show's own: peak rps is show's peak req/s (passing phases),\n"
    "rss MiB the server at the peak; --json has p50_ms and p99_ms of the phase at\n"
    "capacity (show --format md --seed), rss_max_kb over the cell's phases and\n"
    "rss_at_peak_mib.\n"
    "\n"
    "  CELL                 FRAMEWORK/PAYLOAD; flask/* or */json select several\n"
    "  -n, --limit N        at most N lines (default 50; 0 = all)\n"
    "      --json           a JSON array instead of the table; each row has its\n"
    "                       figures with value, qualifier and mark, and\n"
    "                       not_comparable / break when the settings differ\n"
    "      --regressions    list only the regressions (newest first)\n"
    "      --window N       previous comparable runs the band is made of (default 7)\n"
    "      --k K            width of the band in MADs (default 3)\n"
    "      --sparkline      print the trend lines even when stdout is not a terminal\n"
    "      --store DB       the result store (default: $MFBENCH_STORE, else\n"
    "                       $XDG_STATE_HOME/mfbench/results.db)\n"
    "  -h, --help           this text\n";

static cJSON *num_or_null(double v)
{
    return v < 0 || isnan(v) ? cJSON_CreateNull() : cJSON_CreateNumber(v);
}

static cJSON *row_json(const struct store_history_row *r, const struct cli_cell_shown *sh,
                       const struct flag *fl, size_t nf, const struct cli_history_verdict *v)
{
    static const struct cli_cell_shown unknown = {-1, -1, -1, -1, -1};
    if (!sh)
        sh = &unknown;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "run", (double)r->run_id);
    cJSON_AddStringToObject(o, "started_at", r->started_at);
    cJSON_AddStringToObject(o, "framework", r->framework);
    cJSON_AddStringToObject(o, "payload", r->payload);
    cJSON_AddStringToObject(o, "status", r->status);
    cJSON_AddStringToObject(o, "profile", r->profile);
    cJSON_AddItemToObject(o, "capacity_users", num_or_null(r->capacity_users));
    cJSON_AddItemToObject(o, "breaking_users", num_or_null(r->breaking_users));
    cJSON_AddNumberToObject(o, "peak_rps", r->peak_rps);
    /* p50/p99 of the phase at capacity, RSS max over the phases and at the
     * peak, held users: cli_cell_shown_of, show's own definitions. */
    cJSON_AddItemToObject(o, "p50_ms", num_or_null(sh->p50_ms));
    cJSON_AddItemToObject(o, "p99_ms", num_or_null(sh->p99_ms));
    cJSON_AddItemToObject(o, "rss_max_kb", num_or_null(sh->rss_max_kb));
    cJSON_AddItemToObject(o, "rss_at_peak_mib", num_or_null(sh->rss_at_peak_mib));
    cJSON_AddItemToObject(o, "held_users", num_or_null(sh->held_users));
    /* figures: the headline figures in the order judged, each with what it
     * is (qualifier) and its mark against the comparable runs. */
    cJSON *figs = cJSON_AddObjectToObject(o, "figures");
    for (int f = 0; f < CLI_FIG_JUDGED; f++) {
        cJSON *g = cJSON_AddObjectToObject(figs, cli_fig_names[f]);
        cJSON_AddItemToObject(g, "value", num_or_null(v->x[f].v));
        cJSON_AddStringToObject(g, "qualifier", v->x[f].qualifier);
        if (f == CLI_FIG_SLO) {
            cJSON *b = cJSON_AddArrayToObject(g, "band");
            cJSON_AddItemToArray(b, num_or_null(v->x[f].lo));
            cJSON_AddItemToArray(b, num_or_null(v->x[f].hi));
        }
        cJSON_AddStringToObject(g, "mark", rv_mark_name(v->mark[f]));
    }
    cJSON_AddNumberToObject(o, "comparable_runs", (double)v->nprev);
    /* not_comparable: no previous ok run had these settings (nothing judged);
     * break: the previous ok run had other settings. */
    if (v->brk[0] && !v->nprev)
        cJSON_AddStringToObject(o, "not_comparable", v->brk);
    else
        cJSON_AddNullToObject(o, "not_comparable");
    if (v->brk[0])
        cJSON_AddStringToObject(o, "break", v->brk);
    else
        cJSON_AddNullToObject(o, "break");
    /* regressions: on the same node; node_changed: the same flags, but the
     * node differed from the runs judged against ("what": the change). */
    cJSON *regs = cJSON_AddArrayToObject(o, "regressions");
    cJSON *moved = cJSON_AddArrayToObject(o, "node_changed");
    for (size_t i = 0; i < nf; i++) {
        cJSON *g = cJSON_CreateObject();
        if (fl[i].node[0])
            cJSON_AddStringToObject(g, "what", fl[i].node);
        cJSON_AddStringToObject(g, "metric", flag_name(fl[i].metric));
        if (fl[i].metric == MET_STATUS) {
            cJSON_AddStringToObject(g, "previous_status", fl[i].prev_status);
        } else {
            cJSON_AddNumberToObject(g, "value", fl[i].value);
            cJSON_AddNumberToObject(g, "median", fl[i].band.median);
            cJSON_AddNumberToObject(g, "mad", fl[i].band.mad);
            cJSON_AddNumberToObject(g, "low", fl[i].band.lo);
            cJSON_AddNumberToObject(g, "high", fl[i].band.hi);
            cJSON_AddNumberToObject(g, "runs", (double)fl[i].band.n);
        }
        cJSON_AddItemToArray(fl[i].node[0] ? moved : regs, g);
    }
    return o;
}

static int utf8_locale(void)
{
    setlocale(LC_CTYPE, "");
    const char *cs = nl_langinfo(CODESET);
    return cs && (strcmp(cs, "UTF-8") == 0 || strcmp(cs, "utf8") == 0);
}

/* The trend of each cell over the ok runs comparable with its newest ok run
 * (like with like: other settings are left out and counted). */
static void print_trends(FILE *f, struct store *s, struct cli_fp_cache *fc,
                         const struct cell_rows *cells, size_t ncells, int utf8)
{
    fprintf(f, "\ntrend of peak req/s (passing phases) per cell (oldest to newest, ok runs):\n");
    for (size_t k = 0; k < ncells; k++) {
        double v[64];
        size_t n = 0, other = 0;
        struct run_record newest;
        int have = 0;
        /* The newest 64 ok runs: what fits on a line. */
        for (size_t i = cells[k].n; i-- > 0 && n < 64;) {
            const struct store_history_row *r = cells[k].rows[i];
            /* The table's peak: the headline's, over passing phases. */
            const struct cli_fig_value *x = cli_fp_figures(s, fc, r->run_id, r->cell_id);
            if (!judged(r) || !x || isnan(x[CLI_FIG_PEAK_PASSING].v))
                continue;
            double peak = x[CLI_FIG_PEAK_PASSING].v;
            const struct run_record *rr = cli_fp_get(s, fc, r->run_id);
            if (rr && !have) {
                newest = *rr;
                have = 1;
            } else if (rr && cli_runs_comparable(rr, &newest, NULL, 0) == CLI_NOT_COMPARABLE) {
                other++;
                continue;
            }
            v[n++] = peak;
        }
        for (size_t i = 0; i < n / 2; i++) {
            double t = v[i];
            v[i] = v[n - 1 - i];
            v[n - 1 - i] = t;
        }
        char cell[140], line[64 * 3 + 1];
        snprintf(cell, sizeof(cell), "%s/%s", cells[k].rows[0]->framework,
                 cells[k].rows[0]->payload);
        if (n == 0) {
            fprintf(f, "  %-22s (no ok run)\n", cell);
            continue;
        }
        fprintf(f, "  %-22s %s  last %.1f, min %.1f, max %.1f (%zu runs)", cell,
                rv_sparkline(v, n, utf8, line, sizeof(line)), v[n - 1], rv_quantile(v, n, 0),
                rv_quantile(v, n, 1), n);
        if (other)
            fprintf(f, ", %zu of other settings left out", other);
        fputc('\n', f);
    }
}

int cli_cmd_history(int argc, char **argv)
{
    static const struct option opts[] = {{"limit", required_argument, NULL, 'n'},
                                         {"json", no_argument, NULL, 'j'},
                                         {"regressions", no_argument, NULL, 'r'},
                                         {"window", required_argument, NULL, 'w'},
                                         {"k", required_argument, NULL, 'k'},
                                         {"sparkline", no_argument, NULL, 'S'},
                                         {"store", required_argument, NULL, 's'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *store_path = NULL;
    int64_t limit = 50, window = CLI_REGRESS_WINDOW;
    double k = CLI_REGRESS_K;
    int json = 0, only_regressions = 0, sparkline = isatty(STDOUT_FILENO), c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "n:h", opts, NULL)) != -1) {
        switch (c) {
        case 'n':
            if (parse_i64(optarg, 0, 1000000, &limit)) {
                fprintf(stderr, "mfbench history: --limit must be a number >= 0, not '%s'\n",
                        optarg);
                return CLI_USAGE;
            }
            break;
        case 'w':
            if (parse_i64(optarg, 1, 256, &window)) {
                fprintf(stderr, "mfbench history: --window must be 1..256, not '%s'\n", optarg);
                return CLI_USAGE;
            }
            break;
        case 'k': {
            char *end;
            errno = 0;
            k = strtod(optarg, &end);
            if (errno || end == optarg || *end || !(k > 0) || k > 1000) {
                fprintf(stderr, "mfbench history: --k must be a number > 0, not '%s'\n", optarg);
                return CLI_USAGE;
            }
            break;
        }
        case 'j':
            json = 1;
            break;
        case 'r':
            only_regressions = 1;
            break;
        case 'S':
            sparkline = 1;
            break;
        case 's':
            store_path = optarg;
            break;
        case 'h':
            fputs(history_usage, stdout);
            return CLI_OK;
        default:
            fputs(history_usage, stderr);
            return CLI_USAGE;
        }
    }
    char fw[64] = "*", pl[64] = "*";
    if (optind < argc) {
        const char *cell = argv[optind++];
        const char *slash = strchr(cell, '/');
        if (!slash || slash == cell || !slash[1] || (size_t)(slash - cell) >= sizeof(fw) ||
            strlen(slash + 1) >= sizeof(pl)) {
            fprintf(stderr, "mfbench history: cell '%s' must be FRAMEWORK/PAYLOAD\n", cell);
            return CLI_USAGE;
        }
        snprintf(fw, sizeof(fw), "%.*s", (int)(slash - cell), cell);
        snprintf(pl, sizeof(pl), "%s", slash + 1);
    }
    if (optind < argc) {
        fprintf(stderr, "mfbench history: unexpected argument '%s'\n", argv[optind]);
        return CLI_USAGE;
    }
    struct store *s = NULL;
    int rc = cli_open_store_reader(store_path, &s);
    if (rc)
        return rc;
    struct store_history_row *rows = NULL;
    size_t n = 0;
    struct cell_rows *cells = NULL;
    size_t ncells = 0;
    struct cli_fp_cache fc = {0};
    struct err e;
    err_clear(&e);
    /* All rows: the bands of the newest lines need the older ones. */
    if (store_history(s, fw, pl, 0, &rows, &n, &e)) {
        cli_print_err(&e);
        store_close(s);
        return CLI_FAILED;
    }
    if (group_cells(rows, n, &cells, &ncells) < 0) {
        fprintf(stderr, "mfbench history: out of memory\n");
        free(rows);
        store_close(s);
        return CLI_FAILED;
    }
    /* Flags per row, indexed like rows (newest first). */
    struct flag(*flags)[MAX_FLAGS] = calloc(n ? n : 1, sizeof(*flags));
    size_t *nflags = calloc(n ? n : 1, sizeof(*nflags));
    struct cli_history_verdict *verdicts = calloc(n ? n : 1, sizeof(*verdicts));
    if (!flags || !nflags || !verdicts) {
        fprintf(stderr, "mfbench history: out of memory\n");
        rc = CLI_FAILED;
        goto out;
    }
    struct regress_opts o = {.window = (int)window, .k = k};
    for (size_t ci = 0; ci < ncells; ci++)
        for (size_t i = 0; i < cells[ci].n; i++) {
            size_t idx = (size_t)(cells[ci].rows[i] - rows);
            nflags[idx] = judge_row(s, &fc, cells[ci].rows, i, &o, flags[idx], &verdicts[idx]);
        }
    int any_filter = strcmp(fw, "*") || strcmp(pl, "*");
    if (json) {
        cJSON *arr = cJSON_CreateArray();
        size_t shown = 0;
        for (size_t i = 0; i < n && (limit == 0 || shown < (size_t)limit); i++) {
            if (only_regressions && !nflags[i])
                continue;
            const struct cli_cell_shown *sh = cli_fp_shown(s, &fc, rows[i].run_id, rows[i].cell_id);
            cJSON_AddItemToArray(arr, row_json(&rows[i], sh, flags[i], nflags[i], &verdicts[i]));
            shown++;
        }
        char *j = cJSON_Print(arr);
        if (j)
            puts(j);
        free(j);
        cJSON_Delete(arr);
    } else if (n == 0) {
        printf("no stored results%s%s%s%s (`mfbench run` stores one)\n", any_filter ? " for " : "",
               any_filter ? fw : "", any_filter ? "/" : "", any_filter ? pl : "");
    } else if (only_regressions) {
        size_t shown = 0;
        for (size_t i = 0; i < n && (limit == 0 || shown < (size_t)limit); i++)
            for (size_t f = 0; f < nflags[i]; f++, shown++)
                print_flag(stdout, &rows[i], &flags[i][f]);
        if (!shown)
            printf("no regressions in %zu stored results (window %lld runs, k %.3g)\n", n,
                   (long long)window, k);
    } else {
        printf("%5s  %-20s  %-22s %-11s %-8s %10s %8s %10s %8s %6s  %s\n", "run", "started (UTC)",
               "cell", "status", "profile", "slo rps", "p99@A ms", "peak rps", "rss MiB", "held",
               "regression");
        for (size_t i = 0; i < n && (limit == 0 || i < (size_t)limit); i++) {
            const struct store_history_row *r = &rows[i];
            const struct cli_history_verdict *v = &verdicts[i];
            const struct cli_fig_value *x = v->x;
            char cell[140], slo[24], p99[24], peak[24], rss[24], held[16], reg[400] = "";
            snprintf(cell, sizeof(cell), "%s/%s", r->framework, r->payload);
            /* A lower bound is ">=N", never a plain number. */
            snprintf(slo, sizeof(slo), isnan(x[CLI_FIG_SLO].v) ? "-" : "%s%.0f",
                     x[CLI_FIG_SLO].lower_bound ? ">=" : "", x[CLI_FIG_SLO].v);
            snprintf(p99, sizeof(p99), isnan(x[CLI_FIG_P99_A].v) ? "-" : "%.2f",
                     x[CLI_FIG_P99_A].v);
            snprintf(peak, sizeof(peak), isnan(x[CLI_FIG_PEAK_PASSING].v) ? "-" : "%.1f",
                     x[CLI_FIG_PEAK_PASSING].v);
            /* The server at the peak, as show's "rss MiB". */
            const struct cli_cell_shown *sh = cli_fp_shown(s, &fc, r->run_id, r->cell_id);
            double mib = sh ? sh->rss_at_peak_mib : -1;
            snprintf(rss, sizeof(rss), mib < 0 ? "-" : "%.1f", mib);
            snprintf(held, sizeof(held), isnan(x[CLI_FIG_HELD].v) ? "-" : "%s%.0f",
                     x[CLI_FIG_HELD].lower_bound ? ">=" : "", x[CLI_FIG_HELD].v);
            for (size_t f = 0; f < nflags[i]; f++) {
                size_t len = strlen(reg);
                snprintf(reg + len, sizeof(reg) - len, "%s%s%s", len ? "," : "",
                         flags[i][f].node[0] ? "node changed:" : "", flag_name(flags[i][f].metric));
            }
            if (v->brk[0]) {
                size_t len = strlen(reg);
                snprintf(reg + len, sizeof(reg) - len, "%s%s: %s", len ? "; " : "",
                         v->nprev ? "break" : "not comparable", v->brk);
            }
            printf("%5lld  %-20s  %-22s %-11s %-8s %10s %8s %10s %8s %6s  %s\n",
                   (long long)r->run_id, r->started_at, cell, r->status,
                   r->profile[0] ? r->profile : "-", slo, p99, peak, rss, held, reg);
        }
        if (sparkline)
            print_trends(stdout, s, &fc, cells, ncells, utf8_locale());
    }
    rc = CLI_OK;
out:
    cli_fp_cache_free(&fc);
    free(flags);
    free(nflags);
    free(verdicts);
    cells_free(cells, ncells);
    free(rows);
    store_close(s);
    return rc;
}
