/* cmd_compare.c - `mfbench compare RUN_A RUN_B`: per cell, the ratio B/A of
 * capacity, peak req/s, p99 and held users, each marked better / worse / same / not
 * comparable. With repeats a change counts only when significant (review.h).
 * When the two runs' nodes differ (fingerprint.c), a change is "node changed",
 * never a regression. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "review.h"
#include "store.h"

enum { M_CAPACITY, M_PEAK_RPS, M_P99, M_HELD, M__COUNT };
static const char *const m_names[M__COUNT] = {"capacity", "peak_rps", "p99_ms", "held_users"};
static const enum rv_dir m_dirs[M__COUNT] = {RV_HIGHER_BETTER, RV_HIGHER_BETTER, RV_LOWER_BETTER,
                                             RV_HIGHER_BETTER};
#define MAX_SAMPLES 256

struct samples {
    double v[M__COUNT][MAX_SAMPLES];
    size_t n[M__COUNT];
    size_t ncells, nok;
    char status[16]; /* of the first cell not ok, for the reason */
};

static void add(struct samples *s, int m, double v)
{
    if (s->n[m] < MAX_SAMPLES && !isnan(v))
        s->v[m][s->n[m]++] = v;
}

/* The samples of framework/payload in run r. Repeats are either several cells
 * of the cell in one run (a value per cell) or, in one cell, several phases at
 * the same user level (a value per phase at that level). */
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
    for (size_t i = 0; i < s->nok; i++) {
        const struct cell_result *c = ok[i];
        add(s, M_CAPACITY, c->capacity_users < 0 ? 0 : c->capacity_users);
        /* The concurrency number, when the cell measured it (held_limit says by what). */
        if (c->held_users >= 0 && c->held_limit[0])
            add(s, M_HELD, c->held_users);
        const struct phase_result *h = cli_headline_phase(c);
        if (s->nok > 1) {
            add(s, M_PEAK_RPS, c->peak_rps);
            add(s, M_P99, h ? h->latency_ms.p99 : NAN);
            continue;
        }
        /* One cell: its repeats are the phases at the peak's and capacity's level. */
        int peak_users = -1;
        double best = -1;
        for (size_t k = 0; k < c->nphases; k++)
            if (phase_in_search(&c->phases[k]) && c->phases[k].rps > best) {
                best = c->phases[k].rps;
                peak_users = c->phases[k].users;
            }
        for (size_t k = 0; k < c->nphases; k++) {
            if (!phase_in_search(&c->phases[k]))
                continue;
            if (c->phases[k].users == peak_users)
                add(s, M_PEAK_RPS, c->phases[k].rps);
            if (h && c->phases[k].users == h->users &&
                (h->stop_reason[0] != 0) == (c->phases[k].stop_reason[0] != 0))
                add(s, M_P99, c->phases[k].latency_ms.p99);
        }
    }
}

struct cmp_row {
    char fw[64], pl[64];
    enum rv_mark verdict, mark[M__COUNT];
    int node_changed; /* better or worse, but measured on another node */
    double a[M__COUNT], b[M__COUNT], ratio[M__COUNT];
    size_t na[M__COUNT], nb[M__COUNT];
    char reason[96];
};

static void compare_cell(const struct run_record *ra, const struct run_record *rb, const char *fw,
                         const char *pl, double factor, struct cmp_row *row)
{
    struct samples sa, sb; /* 12 KiB together: fine on the stack */
    memset(row, 0, sizeof(*row));
    snprintf(row->fw, sizeof(row->fw), "%s", fw);
    snprintf(row->pl, sizeof(row->pl), "%s", pl);
    gather(ra, fw, pl, &sa);
    gather(rb, fw, pl, &sb);
    for (int m = 0; m < M__COUNT; m++) {
        row->mark[m] = RV_NC;
        row->a[m] = row->b[m] = row->ratio[m] = NAN;
    }
    row->verdict = RV_NC;
    if (!sa.ncells || !sb.ncells) {
        snprintf(row->reason, sizeof(row->reason), "missing in run %lld",
                 (long long)(!sa.ncells ? ra->id : rb->id));
        return;
    }
    if (!sa.nok || !sb.nok) {
        snprintf(row->reason, sizeof(row->reason), "%s in run %lld",
                 !sa.nok ? sa.status : sb.status, (long long)(!sa.nok ? ra->id : rb->id));
        return;
    }
    int worse = 0, better = 0, nc = 0;
    for (int m = 0; m < M__COUNT; m++) {
        row->na[m] = sa.n[m];
        row->nb[m] = sb.n[m];
        row->a[m] = rv_median(sa.v[m], sa.n[m]);
        row->b[m] = rv_median(sb.v[m], sb.n[m]);
        row->mark[m] =
            rv_compare(sa.v[m], sa.n[m], sb.v[m], sb.n[m], factor, m_dirs[m], &row->ratio[m]);
        worse += row->mark[m] == RV_WORSE;
        better += row->mark[m] == RV_BETTER;
        nc += row->mark[m] == RV_NC;
    }
    row->verdict = worse ? RV_WORSE : better ? RV_BETTER : nc == M__COUNT ? RV_NC : RV_SAME;
    if (row->verdict == RV_NC)
        snprintf(row->reason, sizeof(row->reason), "no comparable figure");
}

static void fmt_metric(char *buf, size_t n, const struct cmp_row *r, int m)
{
    const char *fmt =
        m == M_CAPACITY || m == M_HELD ? "%.0f -> %.0f x%.2f %s" : "%.1f -> %.1f x%.2f %s";
    if (m == M_P99)
        fmt = "%.2f -> %.2f x%.2f %s";
    if (r->mark[m] == RV_NC || isnan(r->a[m]))
        snprintf(buf, n, "-");
    else
        snprintf(buf, n, fmt, r->a[m], r->b[m], r->ratio[m], rv_mark_name(r->mark[m]));
}

static cJSON *num_or_null(double v)
{
    return isfinite(v) ? cJSON_CreateNumber(v) : cJSON_CreateNull();
}

static const char compare_usage[] =
    "usage: mfbench compare RUN_A RUN_B [--factor F] [--only-changed] [--fail-on-regression]\n"
    "                       [--json] [--store DB]\n"
    "\n"
    "Compares two stored runs (ids, or 'last'), cell by cell: capacity, peak req/s,\n"
    "p99 and, where both runs measured it, held users, of B against A. A ratio\n"
    "beyond F (or below 1/F) is a change; with repeats (several cells of one\n"
    "framework/payload in a run, or phases at the same user level) only a\n"
    "significant one: Mann-Whitney U p < 0.05 with 4 or more values each, else\n"
    "non-overlapping min-max ranges. Higher capacity, req/s and held users are\n"
    "better, higher p99 is worse. A cell missing from one run, not ok, or without\n"
    "phases is not comparable. When the nodes differ (CPU model or count, kernel,\n"
    "cpufreq governor or python), a cell that got better or worse is \"node\n"
    "changed\", not a regression.\n"
    "\n"
    "      --factor F            change threshold (default 1.10)\n"
    "      --only-changed        list only cells that got better or worse\n"
    "      --fail-on-regression  exit 1 when any cell got worse on the same node\n"
    "      --json                a JSON object instead of the table\n"
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
    /* Cells in A's order, then those only in B. */
    for (int pass = 0; pass < 2; pass++) {
        const struct run_record *r = pass ? &rb : &ra;
        for (size_t i = 0; i < r->ncells; i++) {
            int dup = 0;
            for (size_t k = 0; k < nrows && !dup; k++)
                dup = !strcmp(rows[k].fw, r->cells[i].framework) &&
                      !strcmp(rows[k].pl, r->cells[i].payload);
            if (!dup)
                compare_cell(&ra, &rb, r->cells[i].framework, r->cells[i].payload, factor,
                             &rows[nrows++]);
        }
    }
    /* Another node explains a difference: it is not called better or worse. */
    char changed[512];
    int node_changed = cli_node_changes(&ra, &rb, changed, sizeof(changed)) > 0;
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
            cJSON *ms = cJSON_AddObjectToObject(o, "metrics");
            for (int m = 0; m < M__COUNT; m++) {
                cJSON *mo = cJSON_AddObjectToObject(ms, m_names[m]);
                cJSON_AddItemToObject(mo, "a", num_or_null(r->a[m]));
                cJSON_AddItemToObject(mo, "b", num_or_null(r->b[m]));
                cJSON_AddNumberToObject(mo, "n_a", (double)r->na[m]);
                cJSON_AddNumberToObject(mo, "n_b", (double)r->nb[m]);
                cJSON_AddItemToObject(mo, "ratio", num_or_null(r->ratio[m]));
                cJSON_AddStringToObject(mo, "mark", rv_mark_name(r->mark[m]));
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
        if (node_changed)
            printf("node changed (%s): a difference is not called a regression\n\n", changed);
        printf("%-22s %-32s %-34s %-30s %-30s %s\n", "cell", "capacity (users)", "peak req/s",
               "p99 ms", "held users", "verdict");
        for (size_t i = 0; i < nrows; i++) {
            const struct cmp_row *r = &rows[i];
            if (only_changed && r->verdict != RV_BETTER && r->verdict != RV_WORSE)
                continue;
            char cell[140], mt[M__COUNT][80];
            snprintf(cell, sizeof(cell), "%s/%s", r->fw, r->pl);
            for (int m = 0; m < M__COUNT; m++)
                fmt_metric(mt[m], sizeof(mt[m]), r, m);
            char verdict[64];
            snprintf(verdict, sizeof(verdict), r->node_changed ? "node changed (%s)" : "%s",
                     rv_mark_name(r->verdict));
            printf("%-22s %-32s %-34s %-30s %-30s %s%s%s\n", cell, mt[0], mt[1], mt[2], mt[3],
                   verdict, r->reason[0] ? ": " : "", r->reason);
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
