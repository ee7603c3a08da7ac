/* cmd_report.c - `mfbench report --format html|md|csv -o DIR`: a stored run
 * (and its cells' history) as one self-contained HTML page with inline SVG
 * charts, as the seed's markdown tables, or as Locust-compatible CSV files. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "charts.h"
#include "cli.h"
#include "review.h"
#include "store.h"

/* mkdir -p with mode 0755; 0 or -errno. */
static int mkdirs(const char *path)
{
    char p[4096];
    if (snprintf(p, sizeof(p), "%s", path) >= (int)sizeof(p))
        return -ENAMETOOLONG;
    for (char *c = p + 1; *c; c++) {
        if (*c != '/')
            continue;
        *c = '\0';
        if (mkdir(p, 0755) && errno != EEXIST)
            return -errno;
        *c = '/';
    }
    if (mkdir(p, 0755) && errno != EEXIST)
        return -errno;
    return 0;
}

static FILE *open_out(const char *dir, const char *name, char *path, size_t n)
{
    if (snprintf(path, n, "%s/%s", dir, name) >= (int)n) {
        fprintf(stderr, "mfbench report: path too long: %s/%s\n", dir, name);
        return NULL;
    }
    FILE *f = fopen(path, "w");
    if (!f)
        fprintf(stderr, "mfbench report: cannot write %s: %s\n", path, strerror(errno));
    return f;
}

static int close_out(FILE *f, const char *path)
{
    int bad = ferror(f);
    if (fclose(f) || bad) {
        fprintf(stderr, "mfbench report: cannot write %s\n", path);
        return -EIO;
    }
    printf("%s\n", path);
    return 0;
}

/* A file-name-safe copy of s. */
static void safe_name(char *out, size_t n, const char *s)
{
    size_t i = 0;
    for (; *s && i + 1 < n; s++)
        out[i++] = (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
                           (*s >= '0' && *s <= '9') || *s == '-' || *s == '.'
                       ? *s
                       : '_';
    out[i] = '\0';
}

/* The series name of cell i: its framework, with "#2" on a repeated cell. */
static void cell_label(const struct run_record *r, size_t i, char *out, size_t n)
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

/* ---- csv ---- */

/* Locust 2.x (locust/stats.py, PERCENTILES_TO_REPORT). */
static const char locust_pcts[] = "50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%";

/* The percentiles we measure; the others stay empty (we keep p50, p90, p99,
 * p99.9 and max, nothing between them worth interpolating). */
static void write_pcts(FILE *f, const struct phase_result *p)
{
    fprintf(f, "%.2f,,,,%.2f,,,%.2f,%.2f,,%.2f", p->latency_ms.p50, p->latency_ms.p90,
            p->latency_ms.p99, p->latency_ms.p999, p->latency_ms.max);
}

static double per_s(uint64_t v, double dur)
{
    return dur > 0 ? (double)v / dur : 0;
}

static time_t parse_utc(const char *s)
{
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    const char *end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
    return end ? timegm(&tm) : 0;
}

/* Locust's history columns after the percentiles, cumulative over the cell.
 * The per-second series has no running median, mean, min, max or content
 * size: those stay N/A, as Locust writes what it does not know. */
static void history_totals_na(FILE *f, uint64_t req, uint64_t fail)
{
    fprintf(f, ",%llu,%llu,N/A,N/A,N/A,N/A,N/A\n", (unsigned long long)req,
            (unsigned long long)fail);
}

/* A ms value, or N/A when unknown (< 0). */
static void ms_or_na(FILE *f, double v)
{
    if (v < 0 || !isfinite(v))
        fputs("N/A", f);
    else
        fprintf(f, "%.2f", v);
}

/* One history row as Locust writes with --csv-full-history for the request
 * (Type GET, Name /PAYLOAD): 50% and 99% from p50/p99, the other percentiles
 * N/A (all of them when the second had no request). */
static void history_row(FILE *f, long long ts, int users, const char *payload, double rps,
                        double fps, double p50, double p99, uint64_t req, uint64_t fail)
{
    fprintf(f, "%lld,%d,GET,/%s,%.2f,%.2f,", ts, users, payload, rps, fps);
    ms_or_na(f, p50);
    fputs(",N/A,N/A,N/A,N/A,N/A,N/A,", f);
    ms_or_na(f, p99);
    fputs(",N/A,N/A,N/A", f);
    history_totals_na(f, req, fail);
}

/* The stored per-second series of each phase of c (pts[k], np[k]; NULL/0 for
 * a phase without one). Sets *any when one phase has points. 0 or -errno,
 * the message printed; the arrays are freed by the caller in every case. */
static int load_cell_series(struct store *st, const struct cell_result *c,
                            struct store_series_point **pts, size_t *np, int *any)
{
    *any = 0;
    for (size_t k = 0; k < c->nphases; k++) {
        if (c->phases[k].id <= 0)
            continue;
        struct err e;
        err_clear(&e);
        if (store_phase_series_load(st, c->phases[k].id, &pts[k], &np[k], &e)) {
            cli_print_err(&e);
            return e.code ? e.code : -EIO;
        }
        *any |= np[k] > 0;
    }
    return 0;
}

/* A phase's whole length (warm-up included) as its series saw it, else its
 * measured window: how far the next phase starts after it. */
static double phase_length(const struct phase_result *p, const struct store_series_point *pts,
                           size_t n)
{
    return n ? pts[n - 1].t_s : p->duration_s;
}

/* _stats_history.csv from the series: a row per second of every phase, its
 * Timestamp the run start plus the lengths of the run's earlier phases (*off,
 * advanced here) plus the second's t_s. A phase stored without a series gets
 * one row of its own figures at its end. */
static void write_history_series(FILE *f, const struct cell_result *c, double t0, double *off,
                                 struct store_series_point *const *pts, const size_t *np)
{
    uint64_t req = 0, fail = 0;
    for (size_t k = 0; k < c->nphases; k++) {
        const struct phase_result *p = &c->phases[k];
        if (!np[k]) {
            req += p->requests;
            fail += p->failures;
            history_row(f, (long long)floor(t0 + *off + p->duration_s), p->users, c->payload,
                        per_s(p->requests, p->duration_s), per_s(p->failures, p->duration_s),
                        p->latency_ms.p50, p->latency_ms.p99, req, fail);
            *off += p->duration_s;
            continue;
        }
        double prev = 0;
        for (size_t j = 0; j < np[k]; j++) {
            const struct store_series_point *pt = &pts[k][j];
            double dt = pt->t_s - prev > 0 ? pt->t_s - prev : 1;
            prev = pt->t_s;
            req += pt->requests;
            fail += pt->failures;
            int none = pt->requests == 0;
            history_row(f, (long long)floor(t0 + *off + pt->t_s), pt->users, c->payload,
                        (double)pt->requests / dt, (double)pt->failures / dt,
                        none ? -1 : pt->p50_ms, none ? -1 : pt->p99_ms, req, fail);
        }
        *off += phase_length(p, pts[k], np[k]);
    }
}

static void free_series(struct store_series_point **pts, size_t *np, size_t n)
{
    for (size_t k = 0; pts && k < n; k++)
        free(pts[k]);
    free(pts);
    free(np);
}

static int write_csv(const char *dir, struct store *st, const struct run_record *r)
{
    double run_off = 0; /* seconds of the run's phases before this cell */
    int rc = 0, written = 0;
    for (size_t i = 0; i < r->ncells && !rc; i++) {
        const struct cell_result *c = &r->cells[i];
        const struct phase_result *h = cli_headline_phase(c);
        if (!h)
            continue;
        char fw[80], pl[80], base[200], name[240], path[4400];
        safe_name(fw, sizeof(fw), c->framework);
        safe_name(pl, sizeof(pl), c->payload);
        int nth = 1;
        for (size_t j = 0; j < i; j++)
            nth += !strcmp(r->cells[j].framework, c->framework) &&
                   !strcmp(r->cells[j].payload, c->payload);
        if (nth > 1)
            snprintf(base, sizeof(base), "%s_%s_%d", fw, pl, nth);
        else
            snprintf(base, sizeof(base), "%s_%s", fw, pl);

        /* _stats.csv: the phase at capacity, as the request row and the total. */
        snprintf(name, sizeof(name), "%s_stats.csv", base);
        FILE *f = open_out(dir, name, path, sizeof(path));
        if (!f)
            return -EIO;
        fprintf(f,
                "Type,Name,Request Count,Failure Count,Median Response Time,Average Response "
                "Time,Min Response Time,Max Response Time,Average Content Size,Requests/s,"
                "Failures/s,%s\n",
                locust_pcts);
        for (int row = 0; row < 2; row++) {
            fprintf(f, "%s,%s%s,%llu,%llu,%.2f,%.2f,,%.2f,%.0f,%.2f,%.2f,", row ? "" : "GET",
                    row ? "Aggregated" : "/", row ? "" : c->payload,
                    (unsigned long long)h->requests, (unsigned long long)h->failures,
                    h->latency_ms.p50, h->latency_ms.mean, h->latency_ms.max,
                    h->requests ? (double)h->bytes_read / (double)h->requests : 0,
                    per_s(h->requests, h->duration_s), per_s(h->failures, h->duration_s));
            write_pcts(f, h);
            fputc('\n', f);
        }
        if ((rc = close_out(f, path)) < 0)
            return rc;

        /* _stats_history.csv: a row per second from the stored series; for a
         * run stored before the series existed, a row per phase with Locust's
         * running totals. */
        struct store_series_point **pts = calloc(c->nphases, sizeof(*pts));
        size_t *np = calloc(c->nphases, sizeof(*np));
        int any = 0;
        if (!pts || !np) {
            fprintf(stderr, "mfbench report: out of memory\n");
            rc = -ENOMEM;
        } else {
            rc = load_cell_series(st, c, pts, np, &any);
        }
        snprintf(name, sizeof(name), "%s_stats_history.csv", base);
        if (!rc && !(f = open_out(dir, name, path, sizeof(path))))
            rc = -EIO;
        if (rc) {
            free_series(pts, np, c->nphases);
            return rc;
        }
        fprintf(f,
                "Timestamp,User Count,Type,Name,Requests/s,Failures/s,%s,Total Request Count,"
                "Total Failure Count,Total Median Response Time,Total Average Response Time,"
                "Total Min Response Time,Total Max Response Time,Total Average Content Size\n",
                locust_pcts);
        double t = (double)parse_utc(r->started_at);
        uint64_t req = 0, fail = 0, bytes = 0;
        if (any)
            write_history_series(f, c, t, &run_off, pts, np);
        for (size_t k = 0; !any && k < c->nphases; k++) {
            const struct phase_result *p = &c->phases[k];
            run_off += p->duration_s;
            t += p->duration_s;
            req += p->requests;
            fail += p->failures;
            bytes += p->bytes_read;
            fprintf(f, "%lld,%d,,Aggregated,%.2f,%.2f,", (long long)t, p->users,
                    per_s(p->requests, p->duration_s), per_s(p->failures, p->duration_s));
            write_pcts(f, p);
            fprintf(f, ",%llu,%llu,%.2f,%.2f,,%.2f,%.0f\n", (unsigned long long)req,
                    (unsigned long long)fail, p->latency_ms.p50, p->latency_ms.mean,
                    p->latency_ms.max, req ? (double)bytes / (double)req : 0);
        }
        free_series(pts, np, c->nphases);
        rc = close_out(f, path);
        written++;
    }
    if (!rc && !written)
        printf("run %lld has no measured cell: no CSV written\n", (long long)r->id);
    return rc;
}

/* ---- html ---- */

static const char css[] =
    "body{font:15px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;color:#222;margin:0;"
    "background:#f6f7f9}"
    "main{max-width:1240px;margin:0 auto;padding:16px 20px;box-sizing:border-box}"
    "h1{font-size:1.6em;margin:.3em 0}h2{margin-top:1.6em;border-bottom:1px solid #ccc}"
    ".meta{color:#555}"
    ".charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,420px),1fr));"
    "gap:12px}"
    "figure.chart{margin:0;background:#fff;border:1px solid #ddd;border-radius:6px;"
    "padding:4px;min-width:0}"
    "svg.chart{display:block;width:100%;height:auto;max-width:100%}"
    "svg text{font-size:13px;fill:#333}svg .ttl{font-weight:600;font-size:16px}"
    "svg .lbl{font-size:13px;fill:#555}"
    ".tablewrap{overflow-x:auto;max-width:100%}"
    "table{border-collapse:collapse;margin:10px 0;background:#fff}"
    "th,td{border:1px solid #ccc;padding:4px 8px;text-align:right}"
    "td{white-space:nowrap}"
    "th:first-child,td:first-child{text-align:left}"
    "th{background:#eef}"
    ".bad{color:#a00}.note{color:#555;font-size:.92em}";

static void html_table(FILE *f, const struct run_record *r, const char *pl)
{
    fputs("<div class=\"tablewrap\"><table class=\"seed\"><thead><tr><th>Framework</th>"
          "<th>Total Request</th><th>Median Response Time (ms)</th><th>Request Per Second</th>"
          "<th>Failed Requests</th><th>Capacity (users)</th><th>p99 (ms)</th>"
          "<th>Server RSS (MiB)</th><th>Server CPU (%)</th></tr></thead><tbody>\n",
          f);
    for (size_t i = 0; i < r->ncells; i++) {
        const struct cell_result *c = &r->cells[i];
        const struct phase_result *h = cli_headline_phase(c);
        if (strcmp(c->payload, pl) || c->status == CELL_SKIPPED || !h)
            continue;
        char label[160];
        cell_label(r, i, label, sizeof(label));
        double rss = cli_cell_rss_max(c);
        fputs("<tr><td>", f);
        rv_html_escape(f, label);
        fprintf(f, "</td><td>%llu</td><td>%.2f</td><td>%.2f%s</td><td>%llu</td>",
                (unsigned long long)h->requests, h->latency_ms.p50, h->rps,
                h->load_bound ? " *" : "", (unsigned long long)h->failures);
        if (c->capacity_users < 0)
            fputs("<td>-</td>", f);
        else
            fprintf(f, "<td>%d</td>", c->capacity_users);
        fprintf(f, "<td>%.2f</td>", h->latency_ms.p99);
        if (rss < 0)
            fputs("<td>-</td>", f);
        else
            fprintf(f, "<td>%.1f</td>", rss / 1024.0);
        if (h->server_cpu_pct < 0)
            fputs("<td>-</td>", f);
        else
            fprintf(f, "<td>%.0f</td>", h->server_cpu_pct);
        fputs("</tr>\n", f);
    }
    fputs("</tbody></table></div>\n", f);
    int lb = 0;
    for (size_t i = 0; i < r->ncells; i++) {
        const struct phase_result *h = cli_headline_phase(&r->cells[i]);
        lb |= !strcmp(r->cells[i].payload, pl) && h && h->load_bound;
    }
    if (lb)
        fputs("<p class=\"note\">* load-bound: the server kept up with everything the users "
              "offered, so req/s measures the load shape, not the server's limit.</p>\n",
              f);
    int listed = 0;
    for (size_t i = 0; i < r->ncells; i++) {
        const struct cell_result *c = &r->cells[i];
        if (strcmp(c->payload, pl) || c->status == CELL_OK)
            continue;
        if (!listed++)
            fputs("<ul class=\"bad\">", f);
        fputs("<li>", f);
        rv_html_escape(f, c->framework);
        fprintf(f, ": %s", cell_status_name(c->status));
        if (c->error) {
            fputs(": ", f);
            rv_html_escape(f, c->error);
        }
        fputs("</li>", f);
    }
    if (listed)
        fputs("</ul>\n", f);
}

static int write_html(const char *dir, struct store *st, const struct run_record *r, int depth)
{
    char path[4200];
    FILE *f = open_out(dir, "index.html", path, sizeof(path));
    if (!f)
        return -EIO;
    fprintf(f,
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            "<title>mfbench report, run %lld</title><style>%s</style></head>\n<body><main>\n",
            (long long)r->id, css);
    fprintf(f, "<h1>mfbench report: run %lld</h1>\n<p class=\"meta\">started ", (long long)r->id);
    rv_html_escape(f, r->started_at);
    fputs(", finished ", f);
    rv_html_escape(f, r->finished_at[0] ? r->finished_at : "-");
    fputs(", status ", f);
    rv_html_escape(f, r->status);
    fputs(", trigger ", f);
    rv_html_escape(f, r->trigger);
    fputs(", profile ", f);
    rv_html_escape(f, r->profile[0] ? r->profile : "-");
    fputs("; node ", f);
    rv_html_escape(f, r->node_host[0] ? r->node_host : "-");
    fputs(" (", f);
    rv_html_escape(f, r->node_kernel[0] ? r->node_kernel : "-");
    fputs("), CPUs ", f);
    rv_html_escape(f, r->node_cpus[0] ? r->node_cpus : "-");
    fputs(". Figures of a cell are those of its phase at capacity (the highest user level "
          "without failure).</p>\n",
          f);
    if (!r->ncells)
        fputs("<p>This run has no cells.</p>\n", f);
    cli_charts_heatmap(f, r);
    int pi = 0;
    for (size_t i = 0; i < r->ncells; i++) {
        const char *pl = r->cells[i].payload;
        int seen = 0;
        for (size_t j = 0; j < i; j++)
            seen |= !strcmp(r->cells[j].payload, pl);
        if (seen)
            continue;
        fputs("<section class=\"payload\"><h2>Payload: ", f);
        rv_html_escape(f, pl);
        fputs("</h2>\n", f);
        html_table(f, r, pl);
        fputs("<div class=\"charts\">\n", f);
        cli_charts_payload(f, st, r, pl, pi, depth);
        fputs("</div></section>\n", f);
        pi++;
    }
    fputs("<p class=\"note\">Generated by mfbench. No scripts, no external assets.</p>\n"
          "</main></body></html>\n",
          f);
    return close_out(f, path);
}

static const char report_usage[] =
    "usage: mfbench report --format html|md|csv -o DIR [--run RUN] [--history N] [--store DB]\n"
    "\n"
    "Writes a report of a stored run (default: the newest) into DIR:\n"
    "  html  DIR/index.html: one self-contained page (inline CSS and SVG, no scripts):\n"
    "        peak req/s of each framework x payload relative to the best; per payload\n"
    "        the tables, req/s and p99 against users per framework (the median of\n"
    "        the repeats, their min-max as a band, a log2 axis when users double,\n"
    "        bisection probes as diamonds, load-bound, client-bound or noisy phases\n"
    "        hollow), the latency spectrum at 90% of peak (p50 to p99.9), capacity\n"
    "        and server memory, and each cell's peak req/s over the last N ok runs\n"
    "        by date, with the regression band of `history` and node changes marked\n"
    "  md    DIR/report.md: the seed's README tables, one per payload\n"
    "  csv   per cell DIR/FRAMEWORK_PAYLOAD_stats.csv and _stats_history.csv with\n"
    "        Locust 2.x headers. _stats.csv holds the phase at capacity (Name is\n"
    "        /PAYLOAD; Requests/s counts every completed request as Locust does;\n"
    "        Average Content Size is bytes read per response, headers included).\n"
    "        Percentiles we measure are filled there (50%, 90%, 99%, 99.9%, 100% =\n"
    "        max); 66%, 75%, 80%, 95%, 98%, 99.99% and the min response time stay\n"
    "        empty.\n"
    "        _stats_history.csv has a row per second of each phase (warm-up\n"
    "        included), as Locust writes one with --csv-full-history: Timestamp\n"
    "        (unix seconds) is the run start plus the lengths of the run's earlier\n"
    "        phases plus the second; User Count, Type GET, Name /PAYLOAD,\n"
    "        Requests/s and Failures/s of that second; 50% and 99% of that second,\n"
    "        the other percentiles N/A (all N/A in a second without a response);\n"
    "        Total Request Count and Total Failure Count cumulative over the cell;\n"
    "        the other Total columns N/A. Runs stored before the per-second series\n"
    "        existed get a row per phase instead (Type empty, Name Aggregated,\n"
    "        Timestamp the run start plus the measured phase durations, the\n"
    "        phase's percentiles and running totals).\n"
    "\n"
    "  -f, --format F       html, md or csv (required)\n"
    "  -o, --output DIR     the folder to write (created)\n"
    "      --run RUN        a run id or 'last' (default)\n"
    "      --history N      runs drawn in the history charts (default 30)\n"
    "      --store DB       the result store\n"
    "  -h, --help           this text\n";

int cli_cmd_report(int argc, char **argv)
{
    static const struct option opts[] = {{"format", required_argument, NULL, 'f'},
                                         {"output", required_argument, NULL, 'o'},
                                         {"run", required_argument, NULL, 'r'},
                                         {"history", required_argument, NULL, 'H'},
                                         {"store", required_argument, NULL, 's'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *store_path = NULL, *format = NULL, *dir = NULL, *run = "last";
    int64_t depth = 30;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "f:o:h", opts, NULL)) != -1) {
        switch (c) {
        case 'f':
            format = optarg;
            break;
        case 'o':
            dir = optarg;
            break;
        case 'r':
            run = optarg;
            break;
        case 'H':
            if (parse_i64(optarg, 1, 1000, &depth)) {
                fprintf(stderr, "mfbench report: --history must be 1..1000, not '%s'\n", optarg);
                return CLI_USAGE;
            }
            break;
        case 's':
            store_path = optarg;
            break;
        case 'h':
            fputs(report_usage, stdout);
            return CLI_OK;
        default:
            fputs(report_usage, stderr);
            return CLI_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "mfbench report: unexpected argument '%s'\n%s", argv[optind], report_usage);
        return CLI_USAGE;
    }
    if (!format || (strcmp(format, "html") && strcmp(format, "md") && strcmp(format, "csv"))) {
        fprintf(stderr, "mfbench report: --format must be html, md or csv\n%s", report_usage);
        return CLI_USAGE;
    }
    if (!dir || !*dir) {
        fprintf(stderr, "mfbench report: name the output folder with -o DIR\n%s", report_usage);
        return CLI_USAGE;
    }
    struct store *s = NULL;
    int rc = cli_open_store_reader(store_path, &s);
    if (rc)
        return rc;
    int64_t id;
    if ((rc = cli_parse_run_id(s, run, &id)) != 0) {
        store_close(s);
        return rc;
    }
    struct run_record r;
    struct err e;
    err_clear(&e);
    if (store_load_run(s, id, &r, &e)) {
        if (e.code == -ENOENT)
            fprintf(stderr, "mfbench: no run %lld in the store (`mfbench history` lists them)\n",
                    (long long)id);
        else
            cli_print_err(&e);
        store_close(s);
        return CLI_FAILED;
    }
    int w = mkdirs(dir);
    if (w < 0) {
        fprintf(stderr, "mfbench report: cannot create %s: %s\n", dir, strerror(-w));
    } else if (!strcmp(format, "csv")) {
        w = write_csv(dir, s, &r);
    } else if (!strcmp(format, "md")) {
        char path[4200];
        FILE *f = open_out(dir, "report.md", path, sizeof(path));
        if (!f) {
            w = -EIO;
        } else {
            cli_print_run_md(f, &r);
            w = close_out(f, path);
        }
    } else {
        w = write_html(dir, s, &r, (int)depth);
    }
    run_record_free(&r);
    store_close(s);
    return w < 0 ? CLI_FAILED : CLI_OK;
}
