/* cmd_history.c - `mfbench history [CELL]`: stored runs over time, a line per
 * cell with capacity, peak req/s, p50/p99 at capacity and server RSS; a
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
#include "review.h"
#include "store.h"

/* Fewer previous runs than this and a cell is not judged: one or two runs are
 * no noise estimate. */
#define REGRESS_MIN_RUNS 3
/* The band's spread is at least this fraction of the median, so a perfectly
 * flat history does not flag a 1% wobble. */
#define REGRESS_MAD_FLOOR 0.01
#define MAX_FLAGS 5

enum metric { MET_CAPACITY, MET_PEAK_RPS, MET_P99, MET_HELD, MET__COUNT, MET_STATUS = MET__COUNT };

static const char *const metric_names[] = {"capacity", "peak_rps", "p99_ms", "held_users",
                                           "status"};
static const char *const metric_labels[] = {"capacity (users)", "peak req/s", "p99 ms",
                                            "held users", "status"};
static const enum rv_dir metric_dirs[] = {RV_HIGHER_BETTER, RV_HIGHER_BETTER, RV_LOWER_BETTER,
                                          RV_HIGHER_BETTER};

struct regress_opts {
    int window;
    double k;
};

struct flag {
    enum metric metric;
    double value;
    struct rv_band band;
    char prev_status[16];
    char node[256]; /* what changed on the node ("" = same node: a regression) */
};

/* The value of a metric in a history row; NAN when it has none. A cell that
 * ran but failed even its first level has capacity 0. */
static double metric_value(const struct store_history_row *r, enum metric m)
{
    switch (m) {
    case MET_CAPACITY:
        return r->capacity_users < 0 ? 0 : r->capacity_users;
    case MET_PEAK_RPS:
        return r->peak_rps;
    case MET_P99:
        return r->p99_ms < 0 ? NAN : r->p99_ms;
    case MET_HELD:
        return r->held_users < 0 ? NAN : r->held_users;
    default:
        return NAN;
    }
}

static int judged(const struct store_history_row *r)
{
    return strcmp(r->status, "ok") == 0;
}

/* Metric m of chron[i] (rows of one cell, oldest first) against the band of
 * the up to o->window previous "ok" rows of other runs (rv_band_check). */
static enum rv_mark metric_judge(struct store_history_row *const *chron, size_t i,
                                 const struct regress_opts *o, enum metric m, struct rv_band *b)
{
    double prev[256];
    size_t np = 0;
    for (size_t j = i; j-- > 0 && np < (size_t)o->window && np < 256;) {
        if (chron[j]->run_id == chron[i]->run_id || !judged(chron[j]))
            continue;
        double v = metric_value(chron[j], m);
        if (!isnan(v))
            prev[np++] = v;
    }
    return rv_band_check(prev, np, REGRESS_MIN_RUNS, o->k, REGRESS_MAD_FLOOR,
                         metric_value(chron[i], m), metric_dirs[m], b);
}

enum rv_mark cli_history_peak_band(struct store_history_row *const *chron, size_t i, int window,
                                   double k, struct rv_band *b)
{
    struct regress_opts o = {.window = window, .k = k};
    return metric_judge(chron, i, &o, MET_PEAK_RPS, b);
}

/* The regressions of chron[i] (rows of one cell, oldest first) against the
 * up to o->window previous "ok" rows of other runs. Returns how many flags. */
static size_t row_flags(struct store_history_row *const *chron, size_t i,
                        const struct regress_opts *o, struct flag *out)
{
    const struct store_history_row *r = chron[i];
    size_t nf = 0;
    /* A cell that ran fine last time and now fails is the loudest regression. */
    if (strcmp(r->status, "failed") == 0 || strcmp(r->status, "error") == 0) {
        for (size_t j = i; j-- > 0;) {
            if (chron[j]->run_id == r->run_id)
                continue;
            if (judged(chron[j])) {
                out[nf].metric = MET_STATUS;
                out[nf].value = NAN;
                memset(&out[nf].band, 0, sizeof(out[nf].band));
                snprintf(out[nf].prev_status, sizeof(out[nf].prev_status), "%s", chron[j]->status);
                nf++;
            }
            break;
        }
        return nf;
    }
    if (!judged(r))
        return 0;
    for (int m = 0; m < MET__COUNT; m++) {
        struct rv_band b;
        double x = metric_value(r, (enum metric)m);
        if (metric_judge(chron, i, o, (enum metric)m, &b) == RV_WORSE) {
            out[nf].metric = (enum metric)m;
            out[nf].value = x;
            out[nf].band = b;
            out[nf].prev_status[0] = '\0';
            nf++;
        }
    }
    return nf;
}

void cli_fp_cache_free(struct cli_fp_cache *c)
{
    free(c->r);
    memset(c, 0, sizeof(*c));
}

const struct run_record *cli_fp_get(struct store *s, struct cli_fp_cache *c, int64_t id)
{
    for (size_t i = 0; i < c->n; i++)
        if (c->r[i].id == id)
            return &c->r[i];
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 16;
        struct run_record *nr = realloc(c->r, cap * sizeof(*nr));
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
    struct run_record *out = &c->r[c->n++];
    *out = full;
    out->cells = NULL;
    out->ncells = 0;
    out->id = id;
    run_record_free(&full);
    return out;
}

int cli_history_node_changed(struct store *s, struct cli_fp_cache *fc,
                             struct store_history_row *const *chron, size_t i, int window,
                             char *what, size_t n)
{
    if (n)
        what[0] = '\0';
    /* A copy: cli_fp_get may move the cache. */
    const struct run_record *c = cli_fp_get(s, fc, chron[i]->run_id);
    if (!c)
        return 0;
    struct run_record cur = *c;
    size_t np = 0;
    for (size_t j = i; j-- > 0 && np < (size_t)window;) {
        if (chron[j]->run_id == chron[i]->run_id || !judged(chron[j]))
            continue;
        np++;
        const struct run_record *prev = cli_fp_get(s, fc, chron[j]->run_id);
        if (prev && cli_node_changes(prev, &cur, what, n) > 0)
            return 1;
        if (n)
            what[0] = '\0';
    }
    return 0;
}

/* The flags of chron[i] (row_flags), each marked "node changed" when the run
 * was on another node than one of the previous ok runs its values were judged
 * against (up to o->window of other runs). */
static size_t judge_row(struct store *s, struct cli_fp_cache *fc,
                        struct store_history_row *const *chron, size_t i,
                        const struct regress_opts *o, struct flag *out)
{
    size_t nf = row_flags(chron, i, o, out);
    for (size_t f = 0; f < nf; f++)
        out[f].node[0] = '\0';
    if (!nf)
        return 0;
    char what[256];
    cli_history_node_changed(s, fc, chron, i, o->window, what, sizeof(what));
    for (size_t f = 0; f < nf; f++)
        snprintf(out[f].node, sizeof(out[f].node), "%s", what);
    return nf;
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
            (long long)r->run_id, r->framework, r->payload, metric_labels[fl->metric], fl->value,
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
                size_t nf = judge_row(s, &fc, cells[k].rows, i, &o, fl);
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
    "cell's peak req/s trend as a sparkline (oldest to newest) when stdout is a terminal.\n"
    "A value is a regression when it lies outside median +- K x MAD of the previous\n"
    "N runs of the same cell (status ok; at least 3 runs; the MAD is at least 1% of\n"
    "the median): capacity, peak req/s or held users below the band, p99 above it.\n"
    "A cell that fails after an ok run is a regression too. When those runs were\n"
    "not all on the same node (CPU model or count, kernel, cpufreq governor,\n"
    "python), the flag says \"node changed\" instead: the difference is not a\n"
    "regression. \"held\" is the users the cell held (its concurrency number),\n"
    "\"-\" when it did not measure them.\n"
    "\n"
    "  CELL                 FRAMEWORK/PAYLOAD; flask/* or */json select several\n"
    "  -n, --limit N        at most N lines (default 50; 0 = all)\n"
    "      --json           a JSON array instead of the table\n"
    "      --regressions    list only the regressions (newest first)\n"
    "      --window N       previous runs the band is made of (default 7)\n"
    "      --k K            width of the band in MADs (default 3)\n"
    "      --sparkline      print the trend lines even when stdout is not a terminal\n"
    "      --store DB       the result store (default: $MFBENCH_STORE, else\n"
    "                       $XDG_STATE_HOME/mfbench/results.db)\n"
    "  -h, --help           this text\n";

static cJSON *num_or_null(double v)
{
    return v < 0 || isnan(v) ? cJSON_CreateNull() : cJSON_CreateNumber(v);
}

static cJSON *row_json(const struct store_history_row *r, const struct flag *fl, size_t nf)
{
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
    cJSON_AddItemToObject(o, "p50_ms", num_or_null(r->p50_ms));
    cJSON_AddItemToObject(o, "p99_ms", num_or_null(r->p99_ms));
    cJSON_AddItemToObject(o, "rss_max_kb", num_or_null(r->rss_max_kb));
    cJSON_AddItemToObject(o, "held_users", num_or_null(r->held_users));
    /* regressions: on the same node; node_changed: the same flags, but the
     * node differed from the runs judged against ("what": the change). */
    cJSON *regs = cJSON_AddArrayToObject(o, "regressions");
    cJSON *moved = cJSON_AddArrayToObject(o, "node_changed");
    for (size_t i = 0; i < nf; i++) {
        cJSON *g = cJSON_CreateObject();
        if (fl[i].node[0])
            cJSON_AddStringToObject(g, "what", fl[i].node);
        cJSON_AddStringToObject(g, "metric", metric_names[fl[i].metric]);
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

static void print_trends(FILE *f, const struct cell_rows *cells, size_t ncells, int utf8)
{
    fprintf(f, "\ntrend of peak req/s per cell (oldest to newest, ok runs):\n");
    for (size_t k = 0; k < ncells; k++) {
        double v[64];
        size_t n = 0;
        /* The newest 64 ok runs: what fits on a line. */
        for (size_t i = cells[k].n; i-- > 0 && n < 64;)
            if (judged(cells[k].rows[i]))
                v[n++] = cells[k].rows[i]->peak_rps;
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
        fprintf(f, "  %-22s %s  last %.1f, min %.1f, max %.1f (%zu runs)\n", cell,
                rv_sparkline(v, n, utf8, line, sizeof(line)), v[n - 1], rv_quantile(v, n, 0),
                rv_quantile(v, n, 1), n);
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
    if (!flags || !nflags) {
        fprintf(stderr, "mfbench history: out of memory\n");
        rc = CLI_FAILED;
        goto out;
    }
    struct regress_opts o = {.window = (int)window, .k = k};
    for (size_t ci = 0; ci < ncells; ci++)
        for (size_t i = 0; i < cells[ci].n; i++) {
            size_t idx = (size_t)(cells[ci].rows[i] - rows);
            nflags[idx] = judge_row(s, &fc, cells[ci].rows, i, &o, flags[idx]);
        }
    int any_filter = strcmp(fw, "*") || strcmp(pl, "*");
    if (json) {
        cJSON *arr = cJSON_CreateArray();
        size_t shown = 0;
        for (size_t i = 0; i < n && (limit == 0 || shown < (size_t)limit); i++) {
            if (only_regressions && !nflags[i])
                continue;
            cJSON_AddItemToArray(arr, row_json(&rows[i], flags[i], nflags[i]));
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
        printf("%5s  %-20s  %-22s %-11s %-8s %8s %10s %8s %8s %8s %6s  %s\n", "run",
               "started (UTC)", "cell", "status", "profile", "capacity", "peak rps", "p50 ms",
               "p99 ms", "rss MiB", "held", "regression");
        for (size_t i = 0; i < n && (limit == 0 || i < (size_t)limit); i++) {
            const struct store_history_row *r = &rows[i];
            char cell[140], cap[16], p50[24], p99[24], rss[24], held[16], reg[80] = "";
            snprintf(cell, sizeof(cell), "%s/%s", r->framework, r->payload);
            if (r->capacity_users < 0)
                snprintf(cap, sizeof(cap), "-");
            else
                snprintf(cap, sizeof(cap), "%d", r->capacity_users);
            snprintf(p50, sizeof(p50), r->p50_ms < 0 ? "-" : "%.2f", r->p50_ms);
            snprintf(p99, sizeof(p99), r->p99_ms < 0 ? "-" : "%.2f", r->p99_ms);
            snprintf(rss, sizeof(rss), r->rss_max_kb < 0 ? "-" : "%.1f", r->rss_max_kb / 1024.0);
            if (r->held_users < 0)
                snprintf(held, sizeof(held), "-");
            else
                snprintf(held, sizeof(held), "%d", r->held_users);
            for (size_t f = 0; f < nflags[i]; f++) {
                size_t len = strlen(reg);
                snprintf(reg + len, sizeof(reg) - len, "%s%s%s", len ? "," : "",
                         flags[i][f].node[0] ? "node changed:" : "",
                         metric_names[flags[i][f].metric]);
            }
            printf("%5lld  %-20s  %-22s %-11s %-8s %8s %10.1f %8s %8s %8s %6s  %s\n",
                   (long long)r->run_id, r->started_at, cell, r->status,
                   r->profile[0] ? r->profile : "-", cap, r->peak_rps, p50, p99, rss, held, reg);
        }
        if (sparkline)
            print_trends(stdout, cells, ncells, utf8_locale());
    }
    rc = CLI_OK;
out:
    cli_fp_cache_free(&fc);
    free(flags);
    free(nflags);
    cells_free(cells, ncells);
    free(rows);
    store_close(s);
    return rc;
}
