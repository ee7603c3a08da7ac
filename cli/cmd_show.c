/* cmd_show.c - `mfbench show RUN`: one stored run as a table, the result JSON,
 * seed-style markdown tables (one per payload) or CSV; and the results table
 * `mfbench run` prints. */
#include <cjson/cJSON.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "node.h"
#include "store.h"

/* The phase a cell's headline figures come from: the one at capacity (the
 * highest level without failure), else the first one tried. */
const struct phase_result *cli_headline_phase(const struct cell_result *c)
{
    const struct phase_result *best = NULL;
    for (size_t i = 0; i < c->nphases; i++)
        if (c->capacity_users >= 0 && c->phases[i].users == c->capacity_users &&
            !c->phases[i].stop_reason[0] && phase_in_search(&c->phases[i]))
            best = &c->phases[i];
    if (!best && c->nphases && phase_in_search(&c->phases[0]))
        best = &c->phases[0];
    return best;
}

double cli_cell_rss_max(const struct cell_result *c)
{
    double m = -1;
    for (size_t i = 0; i < c->nphases; i++)
        if (c->phases[i].server_rss_max_kb > m)
            m = c->phases[i].server_rss_max_kb;
    return m;
}

static const char *users_str(int u, char *buf, size_t n)
{
    if (u < 0)
        snprintf(buf, n, "-");
    else
        snprintf(buf, n, "%d", u);
    return buf;
}

static const char *opt_num(double v, const char *fmt, char *buf, size_t n)
{
    if (v < 0)
        snprintf(buf, n, "-");
    else
        snprintf(buf, n, fmt, v);
    return buf;
}

/* " (python 3.11.2, flask 2.2.2, ...)": the versions the cell measured. */
static void print_versions(FILE *f, const struct cell_result *c)
{
    cJSON *v = c->versions_json ? cJSON_Parse(c->versions_json) : NULL;
    if (cJSON_IsObject(v) && v->child) {
        const char *sep = " (";
        for (cJSON *it = v->child; it; it = it->next) {
            if (cJSON_IsString(it)) {
                fprintf(f, "%s%s %s", sep, it->string, it->valuestring);
                sep = ", ";
            }
        }
        if (sep[0] == ',')
            fputc(')', f);
    }
    cJSON_Delete(v);
}

void cli_print_run_table(FILE *f, const struct run_record *r)
{
    char fp[512];
    cli_node_describe(r, fp, sizeof(fp));
    fprintf(f, "run %lld  %s  trigger %s  profile %s  node %s (%s) cpus %s  status %s\n",
            (long long)r->id, r->started_at, r->trigger, r->profile[0] ? r->profile : "-",
            r->node_host, r->node_kernel, r->node_cpus[0] ? r->node_cpus : "-", r->status);
    fprintf(f, "node: %s\n\n", fp);
    fprintf(f, "%-24s %-8s %8s %8s %10s %9s %9s %10s %6s\n", "cell", "status", "capacity",
            "breaking", "peak rps", "p50 ms", "p99 ms", "rss MiB", "cpu%");
    for (size_t i = 0; i < r->ncells; i++) {
        const struct cell_result *c = &r->cells[i];
        const struct phase_result *h = cli_headline_phase(c);
        char name[160], cap[16], brk[16], p50[32], p99[32], rss[32], cpu[32];
        snprintf(name, sizeof(name), "%s/%s", c->framework, c->payload);
        double rssk = cli_cell_rss_max(c);
        fprintf(f, "%-24s %-8s %8s %8s %10.1f %9s %9s %10s %6s\n", name,
                cell_status_name(c->status), users_str(c->capacity_users, cap, sizeof(cap)),
                users_str(c->breaking_users, brk, sizeof(brk)), c->peak_rps,
                opt_num(h ? h->latency_ms.p50 : -1, "%.2f", p50, sizeof(p50)),
                opt_num(h ? h->latency_ms.p99 : -1, "%.2f", p99, sizeof(p99)),
                opt_num(rssk < 0 ? -1 : rssk / 1024.0, "%.1f", rss, sizeof(rss)),
                opt_num(h ? h->server_cpu_pct : -1, "%.0f", cpu, sizeof(cpu)));
    }
    for (size_t i = 0; i < r->ncells; i++) {
        const struct cell_result *c = &r->cells[i];
        if (c->error) {
            /* First line only here; `mfbench show RUN --json` has all of it. */
            const char *nl = strchr(c->error, '\n');
            fprintf(f, "\n%s/%s %s: %.*s", c->framework, c->payload, cell_status_name(c->status),
                    nl ? (int)(nl - c->error) : (int)strlen(c->error), c->error);
        }
        if (c->note[0])
            fprintf(f, "\n%s/%s note: %s", c->framework, c->payload, c->note);
        size_t noisy = 0;
        for (size_t k = 0; k < c->nphases; k++)
            noisy += c->phases[k].noisy != 0;
        if (noisy)
            fprintf(f,
                    "\n%s/%s: %zu of %zu phases noisy (steal or other processes over %d%% of the "
                    "server's CPUs: the figures are not to be trusted)",
                    c->framework, c->payload, noisy, c->nphases, NOISY_PCT);
        if (c->repeats > 1 && c->peak_rps_median >= 0)
            fprintf(f,
                    "\n%s/%s %d searches: capacity median %.0f (IQR %.0f, %.0f-%.0f), "
                    "peak req/s median %.1f (IQR %.1f, %.1f-%.1f, spread %.1f%%)",
                    c->framework, c->payload, c->repeats, c->capacity_median, c->capacity_iqr,
                    c->capacity_min, c->capacity_max, c->peak_rps_median, c->peak_rps_iqr,
                    c->peak_rps_min, c->peak_rps_max, c->peak_rps_spread * 100.0);
        if (!c->nphases)
            continue;
        fprintf(f, "\n%s/%s phases", c->framework, c->payload);
        print_versions(f, c);
        fputs(":\n", f);
        fprintf(f, "  %6s %9s %8s %10s %9s %9s %9s %9s %7s %9s  %s\n", "users", "requests",
                "failures", "req/s", "p50 ms", "p90 ms", "p99 ms", "max ms", "cpu%", "rss MiB",
                "note");
        for (size_t k = 0; k < c->nphases; k++) {
            const struct phase_result *p = &c->phases[k];
            char cpu[32], rss[32], note[160] = "";
            if (p->stop_reason[0])
                snprintf(note, sizeof(note), "failed: %s", p->stop_reason);
            if (p->load_bound)
                strncat(note, note[0] ? ", load-bound" : "load-bound",
                        sizeof(note) - strlen(note) - 1);
            if (p->client_bound)
                strncat(note, note[0] ? ", client-bound" : "client-bound",
                        sizeof(note) - strlen(note) - 1);
            if (p->noisy) {
                char nz[80];
                snprintf(nz, sizeof(nz), "%snoisy (steal %.1f%%, neighbours %.1f%%)",
                         note[0] ? ", " : "", p->steal_pct, p->neighbour_cpu_pct);
                strncat(note, nz, sizeof(note) - strlen(note) - 1);
            }
            if (!strcmp(p->kind, "bisect"))
                strncat(note, note[0] ? ", bisect" : "bisect", sizeof(note) - strlen(note) - 1);
            if (c->repeats > 1) {
                char rp[24];
                snprintf(rp, sizeof(rp), "%ssearch %d", note[0] ? ", " : "", p->repeat + 1);
                strncat(note, rp, sizeof(note) - strlen(note) - 1);
            }
            fprintf(f, "  %6d %9llu %8llu %10.1f %9.2f %9.2f %9.2f %9.2f %7s %9s  %s\n", p->users,
                    (unsigned long long)p->requests, (unsigned long long)p->failures, p->rps,
                    p->latency_ms.p50, p->latency_ms.p90, p->latency_ms.p99, p->latency_ms.max,
                    opt_num(p->server_cpu_pct, "%.0f", cpu, sizeof(cpu)),
                    opt_num(p->server_rss_max_kb < 0 ? -1 : p->server_rss_max_kb / 1024.0, "%.1f",
                            rss, sizeof(rss)),
                    note);
        }
    }
    fputc('\n', f);
}

static void md_cell_name(FILE *f, const char *s)
{
    /* A '|' would split the markdown row; markdown renders inline HTML. */
    for (; *s; s++) {
        if (*s == '<')
            fputs("&lt;", f);
        else if (*s == '>')
            fputs("&gt;", f);
        else if (*s == '&')
            fputs("&amp;", f);
        else if (*s == '|')
            fputs("\\|", f);
        else
            fputc(*s, f);
    }
}

/* The seed README's tables, one per payload ("#### Json", then Framework |
 * Total Request | Median Response Time (ms) | Request Per Second | Failed
 * Requests), with capacity, p99, RSS and CPU added. Figures are those of the
 * phase at capacity. Cells that are not ok are listed below with their reason. */
void cli_print_run_md(FILE *f, const struct run_record *r)
{
    char fp[512];
    cli_node_describe(r, fp, sizeof(fp));
    fprintf(f, "Run %lld, %s, profile %s, node %s (%s), status %s.\n", (long long)r->id,
            r->started_at, r->profile[0] ? r->profile : "-", r->node_host[0] ? r->node_host : "-",
            r->node_kernel[0] ? r->node_kernel : "-", r->status);
    fprintf(f, "Node: %s.\n", fp);
    if (r->ncells == 0)
        fprintf(f, "\nThis run has no cells.\n");
    for (size_t i = 0; i < r->ncells; i++) {
        const char *pl = r->cells[i].payload;
        int seen = 0;
        for (size_t j = 0; j < i; j++)
            if (strcmp(r->cells[j].payload, pl) == 0)
                seen = 1;
        if (seen)
            continue;
        fprintf(f, "\n#### %c%s\n\n", pl[0] >= 'a' && pl[0] <= 'z' ? pl[0] - 'a' + 'A' : pl[0],
                pl[0] ? pl + 1 : "");
        fprintf(f, "| Framework | Total Request | Median Response Time (ms) | Request Per Second "
                   "| Failed Requests | Capacity (users) | p99 (ms) | Server RSS (MiB) | Server "
                   "CPU (%%) |\n");
        fprintf(f, "|------------|:--------------:|:-------------------:|:---------------------:|:"
                   "---:|:---:|:---:|:---:|:---:|\n");
        int rows = 0, load_bound = 0, noisy = 0;
        for (size_t j = i; j < r->ncells; j++) {
            const struct cell_result *c = &r->cells[j];
            if (strcmp(c->payload, pl) != 0 || c->status == CELL_SKIPPED || !c->nphases)
                continue;
            const struct phase_result *h = cli_headline_phase(c);
            char cap[16], rss[32], cpu[32];
            double rssk = cli_cell_rss_max(c);
            fputs("| ", f);
            md_cell_name(f, c->framework);
            if (h->noisy)
                fputs(" \\*", f);
            fprintf(f, " | %llu | %.2f | %.2f | %llu | %s | %.2f | %s | %s |\n",
                    (unsigned long long)h->requests, h->latency_ms.p50, h->rps,
                    (unsigned long long)h->failures, users_str(c->capacity_users, cap, sizeof(cap)),
                    h->latency_ms.p99,
                    opt_num(rssk < 0 ? -1 : rssk / 1024.0, "%.1f", rss, sizeof(rss)),
                    opt_num(h->server_cpu_pct, "%.0f", cpu, sizeof(cpu)));
            rows++;
            load_bound += h->load_bound != 0;
            noisy += h->noisy != 0;
        }
        if (!rows)
            fprintf(f, "| (no measured cell) | | | | | | | | |\n");
        if (load_bound) {
            fprintf(f, "\nNote: req/s measures the load shape, not the server's limit, for");
            int k = 0;
            for (size_t j = i; j < r->ncells; j++) {
                const struct cell_result *c = &r->cells[j];
                const struct phase_result *h = cli_headline_phase(c);
                if (strcmp(c->payload, pl) != 0 || c->status == CELL_SKIPPED || !h ||
                    !h->load_bound)
                    continue;
                fprintf(f, "%s %s", k++ ? "," : "", c->framework);
            }
            fprintf(f, " (load-bound: the server kept up with everything the users offered).\n");
        }
        if (noisy)
            fprintf(f,
                    "\n\\* noisy: during that phase, steal or other processes took over %d%% "
                    "of the server's CPUs; the figures are not to be trusted.\n",
                    NOISY_PCT);
        int listed = 0;
        for (size_t j = i; j < r->ncells; j++) {
            const struct cell_result *c = &r->cells[j];
            if (strcmp(c->payload, pl) != 0 || c->status == CELL_OK)
                continue;
            if (!listed++)
                fputc('\n', f);
            const char *nl = c->error ? strchr(c->error, '\n') : NULL;
            fprintf(f, "- %s: %s%s%.*s\n", c->framework, cell_status_name(c->status),
                    c->error ? ": " : "",
                    c->error ? (nl ? (int)(nl - c->error) : (int)strlen(c->error)) : 0,
                    c->error ? c->error : "");
        }
    }
}

static void print_csv(FILE *f, const struct run_record *r)
{
    fprintf(f, "run,framework,payload,status,users,duration_s,requests,failures,rps,p50_ms,p90_ms,"
               "p99_ms,p999_ms,max_ms,server_rss_max_kb,server_cpu_pct,client_cpu_pct,"
               "stop_reason\n");
    for (size_t i = 0; i < r->ncells; i++) {
        const struct cell_result *c = &r->cells[i];
        for (size_t k = 0; k < c->nphases; k++) {
            const struct phase_result *p = &c->phases[k];
            fprintf(f,
                    "%lld,%s,%s,%s,%d,%.3f,%llu,%llu,%.2f,%.3f,%.3f,%.3f,%.3f,%.3f,%.0f,%.1f,"
                    "%.1f,%s\n",
                    (long long)r->id, c->framework, c->payload, cell_status_name(c->status),
                    p->users, p->duration_s, (unsigned long long)p->requests,
                    (unsigned long long)p->failures, p->rps, p->latency_ms.p50, p->latency_ms.p90,
                    p->latency_ms.p99, p->latency_ms.p999, p->latency_ms.max, p->server_rss_max_kb,
                    p->server_cpu_pct, p->client_cpu_pct, p->stop_reason);
        }
    }
}

/* The result JSON of r with, per phase, "series": its stored per-second points
 * ([] for a phase stored before the series existed). The default JSON is built
 * by cli_run_json and only extended here. Returns a malloc'd string, or NULL
 * (the error printed). */
static char *run_json_with_series(struct store *s, const struct run_record *r)
{
    char *txt = cli_run_json(r, 0);
    cJSON *root = txt ? cJSON_Parse(txt) : NULL;
    free(txt);
    if (!root) {
        fprintf(stderr, "mfbench show: out of memory\n");
        return NULL;
    }
    cJSON *cells = cJSON_GetObjectItemCaseSensitive(root, "cells");
    for (size_t i = 0; i < r->ncells; i++) {
        cJSON *phs = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(cells, (int)i), "phases");
        for (size_t k = 0; k < r->cells[i].nphases; k++) {
            cJSON *ph = cJSON_GetArrayItem(phs, (int)k);
            cJSON *arr = ph ? cJSON_AddArrayToObject(ph, "series") : NULL;
            int64_t pid = r->cells[i].phases[k].id;
            if (!arr || pid <= 0)
                continue;
            struct store_series_point *pts = NULL;
            size_t n = 0;
            struct err e;
            err_clear(&e);
            if (store_phase_series_load(s, pid, &pts, &n, &e)) {
                cli_print_err(&e);
                cJSON_Delete(root);
                return NULL;
            }
            for (size_t j = 0; j < n; j++) {
                cJSON *o = cJSON_CreateObject();
                cJSON_AddNumberToObject(o, "t_s", pts[j].t_s);
                cJSON_AddNumberToObject(o, "users", pts[j].users);
                cJSON_AddNumberToObject(o, "requests", (double)pts[j].requests);
                cJSON_AddNumberToObject(o, "failures", (double)pts[j].failures);
                if (pts[j].p50_ms < 0)
                    cJSON_AddNullToObject(o, "p50_ms");
                else
                    cJSON_AddNumberToObject(o, "p50_ms", pts[j].p50_ms);
                if (pts[j].p99_ms < 0)
                    cJSON_AddNullToObject(o, "p99_ms");
                else
                    cJSON_AddNumberToObject(o, "p99_ms", pts[j].p99_ms);
                cJSON_AddItemToArray(arr, o);
            }
            free(pts);
        }
    }
    char *out = cJSON_Print(root);
    cJSON_Delete(root);
    return out;
}

static const char show_usage[] =
    "usage: mfbench show RUN [--store DB] [--json | --format table|md|csv|json] [--series]\n"
    "\n"
    "Shows one stored run (RUN is its id, or 'last').\n"
    "\n"
    "      --store DB       the result store (default: $MFBENCH_STORE, else\n"
    "                       $XDG_STATE_HOME/mfbench/results.db)\n"
    "      --json           the result JSON (same as --format json)\n"
    "      --format F       table (default), md (the seed's README tables), csv, json\n"
    "      --series         with json: each phase also gets \"series\", its stored\n"
    "                       per-second points [{t_s, users, requests, failures,\n"
    "                       p50_ms, p99_ms}] (t_s from the phase start, warm-up\n"
    "                       included; [] for runs stored before series existed)\n"
    "  -h, --help           this text\n";

int cli_cmd_show(int argc, char **argv)
{
    static const struct option opts[] = {
        {"store", required_argument, NULL, 's'},  {"json", no_argument, NULL, 'j'},
        {"format", required_argument, NULL, 'f'}, {"series", no_argument, NULL, 'S'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0}};
    const char *store_path = NULL, *format = "table";
    int c, series = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 's':
            store_path = optarg;
            break;
        case 'j':
            format = "json";
            break;
        case 'f':
            format = optarg;
            break;
        case 'S':
            series = 1;
            break;
        case 'h':
            fputs(show_usage, stdout);
            return CLI_OK;
        default:
            fputs(show_usage, stderr);
            return CLI_USAGE;
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, "mfbench show: name one RUN\n%s", show_usage);
        return CLI_USAGE;
    }
    if (strcmp(format, "table") && strcmp(format, "md") && strcmp(format, "csv") &&
        strcmp(format, "json")) {
        fprintf(stderr, "mfbench show: unknown format '%s' (table, md, csv, json)\n", format);
        return CLI_USAGE;
    }
    if (series && strcmp(format, "json")) {
        fprintf(stderr, "mfbench show: --series goes with --json (or --format json)\n");
        return CLI_USAGE;
    }
    struct store *s = NULL;
    int rc = cli_open_store_reader(store_path, &s);
    if (rc)
        return rc;
    int64_t id;
    if ((rc = cli_parse_run_id(s, argv[optind], &id)) != 0) {
        store_close(s);
        return rc;
    }
    struct run_record r;
    struct err e;
    err_clear(&e);
    memset(&r, 0, sizeof(r));
    if (store_load_run(s, id, &r, &e)) {
        fprintf(stderr, "mfbench: no run %lld in the store (`mfbench history` lists them)\n",
                (long long)id);
        store_close(s);
        return CLI_FAILED;
    }
    if (strcmp(format, "json") == 0) {
        char *j = series ? run_json_with_series(s, &r) : cli_run_json(&r, 1);
        if (j)
            puts(j);
        else
            rc = CLI_FAILED;
        free(j);
    } else if (strcmp(format, "md") == 0) {
        cli_print_run_md(stdout, &r);
    } else if (strcmp(format, "csv") == 0) {
        print_csv(stdout, &r);
    } else {
        cli_print_run_table(stdout, &r);
    }
    run_record_free(&r);
    store_close(s);
    return rc ? rc : CLI_OK;
}
