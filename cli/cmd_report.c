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
#include <fcntl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "charts.h"
#include "cli.h"
#include "headline.h"
#include "review.h"
#include "store.h"

#define MAX_LEVELS 256

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
    char nm[80];
    snprintf(nm, sizeof(nm), "/%s", payload);
    fprintf(f, "%lld,%d,GET,", ts, users);
    rv_csv_field(f, nm); /* the payload's name comes from the store */
    fprintf(f, ",%.2f,%.2f,", rps, fps);
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
        const struct phase_result *h = cell_capacity_phase(c);
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
            char nm[sizeof(((struct cell_result *)0)->payload) + 16];
            snprintf(nm, sizeof(nm), "%s%s", row ? "Aggregated" : "/", row ? "" : c->payload);
            fprintf(f, "%s,", row ? "" : "GET");
            rv_csv_field(f, nm); /* the payload's name comes from the store */
            fprintf(f, ",%llu,%llu,%.2f,%.2f,,%.2f,%.0f,%.2f,%.2f,",
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

/* The headline tables, marks and page header: readable without colour and at
 * 360 px (tables scroll inside their wrapper, long words break). */
static const char css_headline[] =
    ".meta,dl.node dd,.note,.bad,.empty,summary{overflow-wrap:anywhere}"
    "table.headline th,table.headline td{overflow-wrap:normal;word-break:normal}"
    "main>*{max-width:100%}"
    ".tablewrap{overflow-x:auto;max-width:100%;-webkit-overflow-scrolling:touch}"
    "table.headline th{white-space:normal;vertical-align:bottom}"
    "td.versions{white-space:normal;text-align:left;min-width:10em}"
    ".mark{font-weight:700;padding-left:.15em}"
    "dl.node{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px;margin:8px 0}"
    "dl.node dt{font-weight:600}dl.node dd{margin:0}"
    "details.seed summary{cursor:pointer;margin:6px 0}"
    ".legend{margin:4px 0 10px;padding-left:1.2em}"
    ".empty{font-size:1.15em;font-weight:600;border:2px dashed #888;padding:12px}";

/* A figure with its marks as <span class="mark" title="...">. */
static void html_marked(FILE *f, const char *text)
{
    /* text is "1600.0 †~" as the md/table helpers write it: the marks after a space. */
    const char *sp = strchr(text, ' ');
    if (!sp || !(strstr(sp, HL_MARK_LOAD) || strstr(sp, HL_MARK_CLIENT) || strchr(sp, '~') ||
                 strstr(sp, HL_MARK_DB))) {
        rv_html_escape(f, text);
        return;
    }
    /* "1500 (1400–1600)" or "1200 (server)": no marks, a qualifier. */
    char num[64];
    snprintf(num, sizeof(num), "%.*s", (int)(sp - text), text);
    rv_html_escape(f, num);
    const char *m = sp + 1;
    const char *rest = strchr(m, ' ');
    size_t mlen = rest ? (size_t)(rest - m) : strlen(m);
    char mk[32];
    snprintf(mk, sizeof(mk), "%.*s", (int)mlen, m);
    fputs("<span class=\"mark\" title=\"", f);
    int first = 1;
    if (strstr(mk, HL_MARK_LOAD))
        fputs("load-bound", f), first = 0;
    if (strstr(mk, HL_MARK_CLIENT))
        fputs(first ? "client-bound" : ", client-bound", f), first = 0;
    if (strchr(mk, '~'))
        fputs(first ? "noisy" : ", noisy", f), first = 0;
    if (strchr(mk, '!'))
        fputs(first ? "not clean" : ", not clean", f), first = 0;
    if (strstr(mk, HL_MARK_DB))
        fputs(first ? "db-bound" : ", db-bound", f);
    fputs("\">", f);
    rv_html_escape(f, mk);
    fputs("</span>", f);
    if (rest)
        rv_html_escape(f, rest);
}

static void html_legend(FILE *f, unsigned flags)
{
    if (!flags)
        return;
    fputs("<ul class=\"legend note\">", f);
    for (unsigned b = HL_LOAD_BOUND; b <= HL_LAST; b <<= 1)
        if (flags & b) {
            fputs("<li>", f);
            rv_html_escape(f, headline_legend(b));
            fputs("</li>", f);
        }
    fputs("</ul>\n", f);
}

/* The headline table of payload pl (as in md), then the seed's table of the
 * phase at capacity folded in a <details>. */
static void html_table(FILE *f, const struct run_record *r, const char *pl)
{
    char heads[CLI_HL_NFIG][32];
    cli_hl_heads(r, heads, 1);
    fputs("<div class=\"tablewrap\"><table class=\"headline\"><thead><tr><th>Framework</th>", f);
    for (int k = 0; k < CLI_HL_NFIG; k++) {
        fputs("<th>", f);
        rv_html_escape(f, heads[k]);
        fputs("</th>", f);
    }
    fputs("<th>Versions</th></tr></thead><tbody>\n", f);
    unsigned flags = 0;
    for (size_t i = 0; i < r->ncells; i++) {
        const struct cell_result *c = &r->cells[i];
        if (strcmp(c->payload, pl))
            continue;
        struct headline h;
        headline_compute(c, &h);
        if (!h.measured)
            continue;
        flags |= h.flags;
        char label[160], v[CLI_HL_NFIG][CLI_HL_FIGLEN];
        cli_cell_label(r, i, label, sizeof(label));
        cli_hl_figures(&h, v);
        static const char *const cls[CLI_HL_NFIG] = {"slo",   "slo-band", "p50-a", "p99-a",
                                                     "p50-b", "p99-b",    "peak",  "spread",
                                                     "held",  "rss",      "cpu"};
        fputs("<tr><td class=\"framework\">", f);
        rv_html_escape(f, label);
        fputs("</td>", f);
        for (int k = 0; k < CLI_HL_NFIG; k++) {
            fprintf(f, "<td class=\"%s\">", cls[k]);
            html_marked(f, v[k]);
            fputs("</td>", f);
        }
        fputs("<td class=\"versions\">", f);
        rv_html_escape(f, h.versions[0] ? h.versions : "-");
        fputs("</td></tr>\n", f);
    }
    fputs("</tbody></table></div>\n", f);
    html_legend(f, flags);

    /* The seed's columns: the phase at capacity. */
    fputs("<details class=\"seed\"><summary>The seed's table (figures of the phase at "
          "capacity)</summary><div class=\"tablewrap\"><table class=\"seed\"><thead><tr>"
          "<th>Framework</th><th>Total Request</th><th>Median Response Time (ms)</th>"
          "<th>Request Per Second</th><th>Failed Requests</th><th>Capacity (users)</th>"
          "<th>p99 (ms)</th><th>Server RSS (MiB)</th><th>Server CPU (%)</th></tr></thead>"
          "<tbody>\n",
          f);
    unsigned sflags = 0;
    for (size_t i = 0; i < r->ncells; i++) {
        const struct cell_result *c = &r->cells[i];
        const struct phase_result *h = cell_capacity_phase(c);
        if (strcmp(c->payload, pl) || c->status == CELL_SKIPPED || !h)
            continue;
        unsigned m = (h->load_bound ? HL_LOAD_BOUND : 0u) |
                     (h->client_bound ? HL_CLIENT_BOUND : 0u) | (h->noisy ? HL_NOISY : 0u) |
                     (h->db_bound ? HL_DB_BOUND : 0u);
        sflags |= m;
        char label[160], mk[16], rps[64];
        cli_cell_label(r, i, label, sizeof(label));
        double rss = cli_cell_rss_max(c);
        fputs("<tr><td>", f);
        rv_html_escape(f, label);
        headline_marks(m, mk, sizeof(mk));
        snprintf(rps, sizeof(rps), "%.2f%s%s", h->rps, mk[0] ? " " : "", mk);
        fprintf(f, "</td><td>%llu</td><td>%.2f</td><td>", (unsigned long long)h->requests,
                h->latency_ms.p50);
        html_marked(f, rps);
        fprintf(f, "</td><td>%llu</td>", (unsigned long long)h->failures);
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
    html_legend(f, sflags);
    fputs("</details>\n", f);
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

static void html_head(FILE *f, const char *title)
{
    fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>",
          f);
    rv_html_escape(f, title);
    fprintf(f, "</title><style>%s%s</style></head>\n<body><main>\n", css, css_headline);
}

static void dl_item(FILE *f, const char *term, const char *text)
{
    fputs("<dt>", f);
    rv_html_escape(f, term);
    fputs("</dt><dd>", f);
    rv_html_escape(f, text);
    fputs("</dd>", f);
}

/* The run, its node's fingerprint, the profile and its settings as measured. */
static void html_header(FILE *f, const struct run_record *r)
{
    char buf[1600], fp[512];
    fprintf(f, "<h1>mfbench report: run %lld</h1>\n<dl class=\"node meta\">", (long long)r->id);
    snprintf(buf, sizeof(buf), "started %s, finished %s, status %s, trigger %s", r->started_at,
             r->finished_at[0] ? r->finished_at : "-", r->status, r->trigger);
    dl_item(f, "Run", buf);
    cli_node_describe(r, fp, sizeof(fp));
    snprintf(buf, sizeof(buf), "%s (%s), server CPUs %s; %s", r->node_host[0] ? r->node_host : "-",
             r->node_kernel[0] ? r->node_kernel : "-", r->node_cpus[0] ? r->node_cpus : "-", fp);
    dl_item(f, "Node", buf);
    dl_item(f, "Profile", r->profile[0] ? r->profile : "- (the matrix defaults)");
    if (r->settings[0])
        dl_item(f, "Asked for", r->settings);
    cli_run_settings(r, buf, sizeof(buf));
    dl_item(f, "Settings", buf);
    fputs("</dl>\n<p class=\"meta\">Peak: the median over searches of each one's highest "
          "req/s, with its spread (min\u2013max). Latency at load: p50 and p99 of open-loop "
          "phases at 50% and 90% of the peak. Server RSS and CPU: in the phase of the peak. "
          "Marks: \u2020 load-bound, \u2021 client-bound, ~ noisy (explained under each "
          "table).</p>\n",
          f);
}

/* The page of a store or run without a measured cell: a clear statement,
 * the run's header and its cells' reasons when there is a run. */
static void html_empty(FILE *f, const struct run_record *r, const char *why)
{
    fputs("<p class=\"empty\">no measured cells: ", f);
    rv_html_escape(f, why);
    fputs(".</p>\n", f);
    if (!r || !r->ncells)
        return;
    fputs("<ul class=\"bad\">", f);
    for (size_t i = 0; i < r->ncells; i++) {
        const struct cell_result *c = &r->cells[i];
        fputs("<li>", f);
        rv_html_escape(f, c->framework);
        fputc('/', f);
        rv_html_escape(f, c->payload);
        fprintf(f, ": %s", cell_status_name(c->status));
        if (c->error) {
            fputs(": ", f);
            rv_html_escape(f, c->error);
        }
        fputs("</li>", f);
    }
    fputs("</ul>\n", f);
}

static void html_foot(FILE *f)
{
    fputs("<p class=\"note\">Generated by mfbench. No scripts, no external assets.</p>\n"
          "</main></body></html>\n",
          f);
}

/* The report of a store without runs: index.html or report.md saying so. */
static int write_no_runs(const char *dir, int html, char *path, size_t n)
{
    static const char why[] = "the store has no runs yet (`mfbench run CELL` or the nightly "
                              "timer fills it)";
    FILE *f = open_out(dir, html ? "index.html" : "report.md", path, n);
    if (!f)
        return -EIO;
    if (html) {
        html_head(f, "mfbench report: no runs");
        fputs("<h1>mfbench report</h1>\n", f);
        html_empty(f, NULL, why);
        html_foot(f);
    } else {
        fprintf(f, "# mfbench report\n\nno measured cells: %s.\n", why);
    }
    return close_out(f, path);
}

static int write_html(const char *dir, struct store *st, const struct run_record *r, int depth,
                      char *path, size_t n)
{
    FILE *f = open_out(dir, "index.html", path, n);
    if (!f)
        return -EIO;
    char title[64];
    snprintf(title, sizeof(title), "mfbench report, run %lld", (long long)r->id);
    html_head(f, title);
    html_header(f, r);
    const char *none = cli_no_measured_cells(r);
    if (none) {
        html_empty(f, r, none);
        html_foot(f);
        return close_out(f, path);
    }
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
    html_foot(f);
    return close_out(f, path);
}

/* --open: xdg-open FILE when there is a display; else says why not. 0 or -1. */
static int open_in_browser(const char *file)
{
    const char *x = getenv("DISPLAY"), *w = getenv("WAYLAND_DISPLAY");
    if ((!x || !*x) && (!w || !*w)) {
        printf("not opened: no display ($DISPLAY and $WAYLAND_DISPLAY are unset); open %s in a "
               "browser\n",
               file);
        return 0;
    }
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "mfbench report: cannot start xdg-open: %s\n", strerror(errno));
        return -1;
    }
    if (pid == 0) {
        int dn = open("/dev/null", O_RDWR);
        if (dn >= 0) {
            dup2(dn, 0);
            dup2(dn, 1);
            if (dn > 1)
                close(dn);
        }
        execlp("xdg-open", "xdg-open", file, (char *)NULL);
        fprintf(stderr, "mfbench report: cannot run xdg-open: %s\n", strerror(errno));
        _exit(127);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "mfbench report: xdg-open %s failed (status %d); open it in a browser\n",
                file, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
        return -1;
    }
    printf("opened %s\n", file);
    return 0;
}

static const char report_usage[] =
    "usage: mfbench report --format html|md|csv -o DIR [--run RUN] [--history N] [--store DB]\n"
    "                      [--seed] [--open]\n"
    "\n"
    "Writes a report of a stored run (default: the newest) into DIR:\n"
    "  html  DIR/index.html: one self-contained page (inline CSS and SVG, no scripts):\n"
    "        the node's fingerprint, the profile and its settings; per payload the\n"
    "        headline table (peak req/s: median over searches with the spread\n"
    "        min-max; p50/p99 at 50% and 90% of the peak; capacity and held users;\n"
    "        server RSS and CPU at the peak; versions), figures of load-bound (\u2020),\n"
    "        client-bound (\u2021) or noisy (~) phases marked; the seed's table;\n"
    "        peak req/s of each framework x payload relative to the best; req/s and\n"
    "        p99 against users per framework (the median of the repeats, their\n"
    "        min-max as a band, a log2 axis when users double, bisection probes as\n"
    "        diamonds, load-bound, client-bound or noisy phases hollow), the latency\n"
    "        spectrum at 90% of peak (p50 to p99.9), capacity and server memory, and\n"
    "        each cell's peak req/s over the last N ok runs by date, with the\n"
    "        regression band of `history` and node changes marked\n"
    "  md    DIR/report.md: the same header and headline tables, one per payload\n"
    "        (--seed: the seed's README tables, figures of the phase at capacity)\n"
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
    "      --seed           md: the seed's columns instead of the headline\n"
    "      --open           html: open the page with xdg-open when $DISPLAY or\n"
    "                       $WAYLAND_DISPLAY is set (else say why not)\n"
    "  -h, --help           this text\n"
    "\n"
    "A store without runs, or a run without a measured cell, gives a page saying\n"
    "so (exit 0).\n";

int cli_cmd_report(int argc, char **argv)
{
    static const struct option opts[] = {{"format", required_argument, NULL, 'f'},
                                         {"output", required_argument, NULL, 'o'},
                                         {"run", required_argument, NULL, 'r'},
                                         {"history", required_argument, NULL, 'H'},
                                         {"store", required_argument, NULL, 's'},
                                         {"seed", no_argument, NULL, 'E'},
                                         {"open", no_argument, NULL, 'O'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *store_path = NULL, *format = NULL, *dir = NULL, *run = "last";
    int64_t depth = 30;
    int c, seed = 0, open_page = 0;
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
        case 'E':
            seed = 1;
            break;
        case 'O':
            open_page = 1;
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
    if (seed && strcmp(format, "md")) {
        fprintf(stderr, "mfbench report: --seed goes with --format md\n");
        return CLI_USAGE;
    }
    if (open_page && strcmp(format, "html")) {
        fprintf(stderr, "mfbench report: --open goes with --format html\n");
        return CLI_USAGE;
    }
    struct store *s = NULL;
    int rc = cli_open_store_reader(store_path, &s);
    if (rc)
        return rc;
    int64_t id;
    char path[4200] = "";
    struct err e;
    err_clear(&e);
    if (!strcmp(run, "last") || !strcmp(run, "latest")) {
        rc = store_last_run(s, &id, &e);
        if (rc == -ENOENT && strcmp(format, "csv")) {
            /* An empty store: a page saying so, not an error. */
            int w = mkdirs(dir);
            if (w < 0)
                fprintf(stderr, "mfbench report: cannot create %s: %s\n", dir, strerror(-w));
            else
                w = write_no_runs(dir, !strcmp(format, "html"), path, sizeof(path));
            store_close(s);
            if (w == 0 && open_page && open_in_browser(path))
                return CLI_FAILED;
            return w < 0 ? CLI_FAILED : CLI_OK;
        }
        if (rc == -ENOENT) {
            printf("the store has no runs yet: no CSV written\n");
            store_close(s);
            return CLI_OK;
        }
        if (rc) {
            cli_print_err(&e);
            store_close(s);
            return CLI_FAILED;
        }
    } else if ((rc = cli_parse_run_id(s, run, &id)) != 0) {
        store_close(s);
        return rc;
    }
    struct run_record r;
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
        FILE *f = open_out(dir, "report.md", path, sizeof(path));
        if (!f) {
            w = -EIO;
        } else {
            fprintf(f, "# mfbench report: run %lld\n\n", (long long)r.id);
            cli_print_run_md(f, &r, seed);
            w = close_out(f, path);
        }
    } else {
        w = write_html(dir, s, &r, (int)depth, path, sizeof(path));
    }
    run_record_free(&r);
    store_close(s);
    if (w == 0 && open_page && open_in_browser(path))
        return CLI_FAILED;
    return w < 0 ? CLI_FAILED : CLI_OK;
}
