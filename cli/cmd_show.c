/* cmd_show.c - `mfbench show RUN`: one stored run as a table, the result JSON,
 * seed-style markdown tables (one per payload) or CSV; and the results table
 * `mfbench run` prints. */
#include <cjson/cJSON.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "headline.h"
#include "node.h"
#include "review.h"
#include "store.h"

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

/* Display width of UTF-8 text (a code point counts 1). */
static int text_width(const char *s)
{
    int w = 0;
    for (; *s; s++)
        w += ((unsigned char)*s & 0xC0) != 0x80;
    return w;
}

/* s left-aligned (or right-aligned) in width columns, then a space. */
static void pad(FILE *f, const char *s, int width, int right)
{
    int fill = width - text_width(s);
    if (right)
        for (int i = 0; i < fill; i++)
            fputc(' ', f);
    fputs(s, f);
    if (!right)
        for (int i = 0; i < fill; i++)
            fputc(' ', f);
    fputc(' ', f);
}

/* A right-aligned figure with its marks ("389.0 ~") kept in a 2-column
 * suffix, so the digits of a column line up whether marked or not. */
static void pad_figure(FILE *f, const char *s, int width)
{
    const char *sp = strchr(s, ' ');
    char num[64];
    snprintf(num, sizeof(num), "%.*s", sp ? (int)(sp - s) : (int)strlen(s), s);
    int fill = width - 3 - text_width(num);
    for (int i = 0; i < fill; i++)
        fputc(' ', f);
    fputs(num, f);
    fputc(' ', f);
    const char *mk = sp ? sp + 1 : "";
    fputs(mk, f);
    for (int i = text_width(mk); i < 2; i++)
        fputc(' ', f);
    fputc(' ', f);
}

/* "1600.0" with its marks ("1600.0 †~"), or "-" when v < 0. */
static const char *marked(double v, const char *fmt, unsigned flags, char *buf, size_t n)
{
    char num[48], mk[16];
    if (v < 0 || v != v) {
        snprintf(buf, n, "-");
        return buf;
    }
    snprintf(num, sizeof(num), fmt, v);
    headline_marks(flags, mk, sizeof(mk));
    /* A buffer too short keeps the number and drops marks (callers size it). */
    if (snprintf(buf, n, "%s%s%s", num, mk[0] ? " " : "", mk) >= (int)n && n > 0)
        buf[n - 1] = '\0';
    return buf;
}

void cli_hl_figures(const struct headline *h, char v[][CLI_HL_FIGLEN])
{
    cli_hl_slo(h, v[0], CLI_HL_FIGLEN);
    cli_hl_slo_band(h, v[1], CLI_HL_FIGLEN);
    cli_hl_latency(&h->load[0], 0, v[2], CLI_HL_FIGLEN);
    cli_hl_latency(&h->load[0], 1, v[3], CLI_HL_FIGLEN);
    cli_hl_latency(&h->load[1], 0, v[4], CLI_HL_FIGLEN);
    cli_hl_latency(&h->load[1], 1, v[5], CLI_HL_FIGLEN);
    cli_hl_peak(h, v[6], CLI_HL_FIGLEN);
    cli_hl_spread(h, v[7], CLI_HL_FIGLEN);
    cli_hl_held(h, v[8], CLI_HL_FIGLEN);
    cli_hl_server(h, 0, v[9], CLI_HL_FIGLEN);
    cli_hl_server(h, 1, v[10], CLI_HL_FIGLEN);
}

static const struct headline *first_measured(const struct run_record *r, struct headline *h)
{
    for (size_t i = 0; i < r->ncells; i++) {
        headline_compute(&r->cells[i], h);
        if (h->measured && h->load[0].pct > 0)
            return h;
    }
    return NULL;
}

void cli_hl_heads(const struct run_record *r, char heads[][32], int long_form)
{
    struct headline h;
    const struct headline *m = first_measured(r, &h);
    double a = m ? m->load[0].pct : 50, b = m && m->load[1].pct > 0 ? m->load[1].pct : 80;
    static const char *const brief[CLI_HL_NFIG] = {
        "slo req/s",  "slo band", "p50@%g%%",   "p99@%g%%", "p50@%g%%", "p99@%g%%",
        "peak req/s", "spread",   "held users", "rss MiB",  "cpu%%"};
    static const char *const words[CLI_HL_NFIG] = {"SLO capacity (req/s)",
                                                   "SLO band (req/s)",
                                                   "p50 at %g%% (ms)",
                                                   "p99 at %g%% (ms)",
                                                   "p50 at %g%% (ms)",
                                                   "p99 at %g%% (ms)",
                                                   "Peak req/s",
                                                   "Spread (min\u2013max)",
                                                   "Held (users)",
                                                   "Server RSS at peak (MiB)",
                                                   "Server CPU at peak (%%)"};
    for (int k = 0; k < CLI_HL_NFIG; k++)
        snprintf(heads[k], 32, long_form ? words[k] : brief[k], k < 4 ? a : b);
}

void cli_hl_explain(const struct run_record *r, char *buf, size_t n)
{
    struct headline h;
    double bound = -1, res = 0;
    for (size_t i = 0; i < r->ncells && bound < 0; i++) {
        headline_compute(&r->cells[i], &h);
        if (h.slo.has) {
            bound = h.slo.bound_ms;
            res = h.slo.resolution_pct;
        }
    }
    const struct headline *m = first_measured(r, &h);
    int of_slo = m && m->load[0].of_slo;
    char slo[400];
    if (bound > 0)
        snprintf(slo, sizeof slo,
                 "slo: the most req/s with p99 <= %g ms (open-loop Poisson probes, every request "
                 "counted, resolution %g%%%s; band: last passing to first failing rate; \">= N "
                 "(max)\" is a lower bound); ",
                 bound, res, res > 10 ? ", a coarse first look" : "");
    else
        snprintf(slo, sizeof slo, "slo: not measured by this profile; ");
    snprintf(buf, n,
             "%sp50/p99 in ms at shares of the %s; peak: closed-loop, passing phases only, median "
             "over searches (spread: min-max); rss and cpu: the server at the peak",
             slo, of_slo ? "slo capacity" : "peak");
}

void cli_hl_slo(const struct headline *h, char *buf, size_t n)
{
    unsigned fl = 0;
    if (!h->slo.has || h->slo.rps < 0) {
        snprintf(buf, n, "%s", h->slo.has && h->slo.limit[0] ? "- (not found)" : "-");
        return;
    }
    if (!strcmp(h->slo.qualifier, HL_Q_MEASURED)) {
        marked(h->slo.rps, "%.1f", fl, buf, n);
        return;
    }
    if (!strcmp(h->slo.qualifier, HL_Q_BELOW_MIN)) {
        snprintf(buf, n, "< %.1f (min_rps)", h->slo.hi);
        return;
    }
    snprintf(buf, n, ">= %.1f (%s)", h->slo.rps, h->slo.limit);
}

void cli_hl_slo_band(const struct headline *h, char *buf, size_t n)
{
    if (h->slo.has && h->slo.lo >= 0 && h->slo.hi > 0)
        snprintf(buf, n, "%.1f\u2013%.1f", h->slo.lo, h->slo.hi);
    else
        snprintf(buf, n, "-");
}

void cli_hl_peak(const struct headline *h, char *buf, size_t n)
{
    marked(h->peak_passing, "%.1f", h->peak_flags & ~HL_UNCLEAN, buf, n);
}

void cli_hl_spread(const struct headline *h, char *buf, size_t n)
{
    if (h->repeats > 1 && h->peak_min >= 0)
        snprintf(buf, n, "%.1f\u2013%.1f", h->peak_min, h->peak_max);
    else
        snprintf(buf, n, "-");
}

void cli_hl_latency(const struct hl_latency *l, int p99, char *buf, size_t n)
{
    marked(p99 ? l->p99_ms : l->p50_ms, "%.2f", l->flags, buf, n);
}

void cli_hl_capacity(const struct headline *h, char *buf, size_t n)
{
    char v[48];
    marked(h->capacity_users, "%.0f", h->capacity_flags, v, sizeof(v));
    if (h->capacity_users >= 0 && h->capacity_min >= 0 && h->capacity_min != h->capacity_max)
        snprintf(buf, n, "%s (%.0f\u2013%.0f)", v, h->capacity_min, h->capacity_max);
    else
        snprintf(buf, n, "%s", v);
}

void cli_hl_held(const struct headline *h, char *buf, size_t n)
{
    char v[48];
    if (h->held_users >= 0 && h->held_qualifier && strcmp(h->held_qualifier, HL_Q_MEASURED) &&
        strcmp(h->held_qualifier, HL_Q_NOT_JUDGED)) {
        /* A lower bound is never printed as a plain number. */
        snprintf(buf, n, ">= %d (%s)", h->held_users, h->held_limit);
        return;
    }
    marked(h->held_users, "%.0f", h->held_flags, v, sizeof(v));
    if (h->held_users >= 0 && h->held_limit[0] && h->held_setting[0])
        snprintf(buf, n, "%s (%s: %s)", v, h->held_limit, h->held_setting);
    else if (h->held_users >= 0 && h->held_limit[0])
        snprintf(buf, n, "%s (%s)", v, h->held_limit);
    else
        snprintf(buf, n, "%s", v);
}

void cli_hl_server(const struct headline *h, int cpu, char *buf, size_t n)
{
    marked(cpu ? h->cpu_pct : h->rss_mib, cpu ? "%.0f" : "%.1f", h->peak_flags & HL_NOISY, buf, n);
}

void cli_print_run_table(FILE *f, const struct run_record *r)
{
    char fp[512], st[512];
    cli_node_describe(r, fp, sizeof(fp));
    cli_run_settings(r, st, sizeof(st));
    char id[32] = "(not stored)"; /* run --no-store */
    if (r->id > 0)
        snprintf(id, sizeof(id), "%lld", (long long)r->id);
    fprintf(f, "run %s  %s  trigger %s  profile %s  node %s (%s) cpus %s  status %s\n", id,
            r->started_at, r->trigger, r->profile[0] ? r->profile : "-", r->node_host,
            r->node_kernel, r->node_cpus[0] ? r->node_cpus : "-", r->status);
    fprintf(f, "node: %s\n", fp);
    if (r->settings[0])
        fprintf(f, "profile asked for: %s\n", r->settings);
    fprintf(f, "settings: %s\n\n", st);
    char heads[CLI_HL_NFIG][32];
    cli_hl_heads(r, heads, 0);
    const char *head[2 + CLI_HL_NFIG] = {"cell", "status"};
    for (int k = 0; k < CLI_HL_NFIG; k++)
        head[2 + k] = heads[k];
    static const int width[] = {24, 11, 22, 18, 10, 10, 10, 10, 13, 14, 18, 10, 7};
    static const int right[] = {0, 0, 0, 0, 1, 1, 1, 1, 1, 0, 0, 1, 1};
    /* The table goes through a buffer so its lines lose their trailing padding. */
    char *tb = NULL;
    size_t tn = 0;
    FILE *t = open_memstream(&tb, &tn);
    if (!t)
        t = f;
    /* A right-aligned head ends over the figures' digits, before their marks. */
    for (size_t k = 0; k < 2 + CLI_HL_NFIG; k++) {
        pad(t, head[k], right[k] ? width[k] - 3 : width[k], right[k]);
        if (right[k])
            fputs("   ", t);
    }
    fputs("\n", t);
    unsigned flags = 0;
    for (size_t i = 0; i < r->ncells; i++) {
        const struct cell_result *c = &r->cells[i];
        struct headline h;
        headline_compute(c, &h);
        flags |= h.flags;
        char v[2 + CLI_HL_NFIG][CLI_HL_FIGLEN];
        snprintf(v[0], sizeof(v[0]), "%s/%s", c->framework, c->payload);
        snprintf(v[1], sizeof(v[1]), "%s", cell_status_name(c->status));
        cli_hl_figures(&h, v + 2);
        for (size_t k = 0; k < 2 + CLI_HL_NFIG; k++) {
            if (right[k])
                pad_figure(t, v[k], width[k]);
            else
                pad(t, v[k], width[k], 0);
        }
        fputs("\n", t);
    }
    if (t != f) {
        fclose(t);
        for (char *line = tb, *nl; line && *line; line = nl ? nl + 1 : NULL) {
            nl = strchr(line, '\n');
            size_t len = nl ? (size_t)(nl - line) : strlen(line);
            while (len && line[len - 1] == ' ')
                len--;
            fprintf(f, "%.*s\n", (int)len, line);
        }
        free(tb);
    }
    if (flags)
        fputs("\n", f);
    for (unsigned b = HL_LOAD_BOUND; b <= HL_LAST; b <<= 1)
        if (flags & b)
            fprintf(f, "%s\n", headline_legend(b));
    char ex[600];
    cli_hl_explain(r, ex, sizeof ex);
    fprintf(f, "%s\n", ex);
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
                    "server's or the load engine's CPUs: the figures are not to be trusted)",
                    c->framework, c->payload, noisy, c->nphases, NOISY_PCT);
        size_t db_bound = 0;
        for (size_t k = 0; k < c->nphases; k++)
            db_bound += c->phases[k].db_bound != 0;
        if (db_bound)
            fprintf(f,
                    "\n%s/%s: %zu of %zu phases db-bound (the run's database used %d%% or more "
                    "of the CPUs it may use: the database, not the server, was the limit)",
                    c->framework, c->payload, db_bound, c->nphases, DB_BOUND_PCT);
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
            char cpu[32], rss[32], note[256] = "";
            if (p->stop_reason[0])
                snprintf(note, sizeof(note), "failed: %s", p->stop_reason);
            if (p->verified_sampled || p->verified_wrong) {
                /* the answers sampled during the phase and checked by the payload's rule */
                char vf[64];
                snprintf(vf, sizeof(vf), "%s%llu of %llu sampled wrong", note[0] ? ", " : "",
                         (unsigned long long)p->verified_wrong,
                         (unsigned long long)p->verified_sampled);
                strncat(note, vf, sizeof(note) - strlen(note) - 1);
            }
            if (p->load_bound)
                strncat(note, note[0] ? ", load-bound" : "load-bound",
                        sizeof(note) - strlen(note) - 1);
            if (p->client_bound)
                strncat(note, note[0] ? ", client-bound" : "client-bound",
                        sizeof(note) - strlen(note) - 1);
            if (p->noisy) {
                char nz[120];
                snprintf(nz, sizeof(nz), "%snoisy (steal %.1f%%, neighbours %.1f%%",
                         note[0] ? ", " : "", p->steal_pct, p->neighbour_cpu_pct);
                if (p->client_steal_pct >= 0)
                    snprintf(nz + strlen(nz), sizeof(nz) - strlen(nz),
                             "; load CPUs: steal %.1f%%, neighbours %.1f%%", p->client_steal_pct,
                             p->client_neighbour_cpu_pct);
                strncat(nz, ")", sizeof(nz) - strlen(nz) - 1);
                strncat(note, nz, sizeof(note) - strlen(note) - 1);
            }
            if (p->db_bound)
                strncat(note, note[0] ? ", db-bound" : "db-bound", sizeof(note) - strlen(note) - 1);
            if (p->db_cpu_pct >= 0) {
                char db[80];
                snprintf(db, sizeof(db), "%sdatabase cpu %.0f%%", note[0] ? ", " : "",
                         p->db_cpu_pct);
                if (p->db_rss_max_kb >= 0)
                    snprintf(db + strlen(db), sizeof(db) - strlen(db), " rss %.1f MiB",
                             p->db_rss_max_kb / 1024.0);
                strncat(note, db, sizeof(note) - strlen(note) - 1);
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

/* Every text from the store or the node goes through here in md (issue 25). */
static void md_cell_name(FILE *f, const char *s)
{
    rv_md_escape(f, s);
}

void cli_run_settings(const struct run_record *r, char *out, size_t n)
{
    double dmin = -1, dmax = -1, pcts[8];
    int umin = -1, umax = -1, reps = 0, held = 0, of_slo = 0, levels = 0, seen[64];
    size_t np = 0, len = 0;
    for (size_t i = 0; i < r->ncells; i++) {
        const struct cell_result *c = &r->cells[i];
        struct headline h;
        headline_compute(c, &h);
        if (h.repeats > reps)
            reps = h.repeats;
        held |= c->held_users >= 0;
        for (size_t k = 0; k < c->nphases; k++) {
            const struct phase_result *p = &c->phases[k];
            if (!phase_in_search(p))
                continue;
            if (dmin < 0 || p->duration_s < dmin)
                dmin = p->duration_s;
            if (p->duration_s > dmax)
                dmax = p->duration_s;
            if (umin < 0 || p->users < umin)
                umin = p->users;
            if (p->users > umax)
                umax = p->users;
            int j = 0;
            while (j < levels && seen[j] != p->users)
                j++;
            if (j == levels && levels < 64)
                seen[levels++] = p->users;
        }
        for (int k = 0; k < c->nload_points && k < CELL_MAX_LOAD_POINTS; k++) {
            size_t j = 0;
            while (j < np && pcts[j] != c->load_points[k].pct_of_peak)
                j++;
            if (j == np && np < 8)
                pcts[np++] = c->load_points[k].pct_of_peak;
            of_slo |= c->load_points[k].of_slo;
        }
    }
#define ADD(...)                                                                                   \
    do {                                                                                           \
        if (len < n) {                                                                             \
            int w_ = snprintf(out + len, n - len, __VA_ARGS__);                                    \
            len = w_ < 0 ? n : len + (size_t)w_;                                                   \
        }                                                                                          \
    } while (0)
    out[0] = '\0';
    if (dmin < 0) {
        ADD("no measured phase");
    } else {
        if (dmax - dmin < 0.5)
            ADD("phases of %.0f s", dmax);
        else
            ADD("phases of %.0f-%.0f s", dmin, dmax);
        ADD(" (warm-up excluded), users %d to %d (%d level%s%s)", umin, umax, levels,
            levels == 1 ? "" : "s", levels == 64 ? " or more" : "");
        ADD(", %d search%s per cell", reps, reps == 1 ? "" : "es");
    }
    if (np) {
        ADD(", latency at");
        for (size_t j = 0; j < np; j++)
            ADD("%s %.0f%%", j == 0 ? "" : j + 1 == np ? " and" : ",", pcts[j]);
        ADD(of_slo ? " of slo capacity" : " of peak");
    }
    if (held)
        ADD(", held users measured");
    if (r->matrix_sha256[0])
        ADD(", matrix sha256 %.12s", r->matrix_sha256);
#undef ADD
    if (len >= n && n > 0)
        out[n - 1] = '\0';
}

static unsigned phase_marks(const struct phase_result *p)
{
    return (p->load_bound ? HL_LOAD_BOUND : 0u) | (p->client_bound ? HL_CLIENT_BOUND : 0u) |
           (p->noisy ? HL_NOISY : 0u) | (p->db_bound ? HL_DB_BOUND : 0u);
}

/* A measured cell: one with a phase of the throughput search. */
static int cell_measured(const struct cell_result *c)
{
    for (size_t k = 0; k < c->nphases; k++)
        if (phase_in_search(&c->phases[k]))
            return 1;
    return 0;
}

const char *cli_no_measured_cells(const struct run_record *r)
{
    size_t skipped = 0;
    for (size_t i = 0; i < r->ncells; i++) {
        if (cell_measured(&r->cells[i]))
            return NULL;
        skipped += r->cells[i].status == CELL_SKIPPED;
    }
    if (!r->ncells)
        return "this run has no cells";
    if (skipped == r->ncells)
        return "every cell of this run was skipped";
    return "no cell of this run measured a phase";
}

/* The seed README's table for payload pl ("#### Json", then Framework | Total
 * Request | Median Response Time (ms) | Request Per Second | Failed Requests),
 * with capacity, p99, RSS and CPU added: the figures of the phase at capacity. */
static unsigned md_seed_table(FILE *f, const struct run_record *r, size_t first, const char *pl)
{
    fprintf(f, "| Framework | Total Request | Median Response Time (ms) | Request Per Second "
               "| Failed Requests | Capacity (users) | p99 (ms) | Server RSS (MiB) | Server "
               "CPU (%%) |\n");
    fprintf(f, "|------------|:--------------:|:-------------------:|:---------------------:|:"
               "---:|:---:|:---:|:---:|:---:|\n");
    int rows = 0;
    unsigned flags = 0;
    for (size_t j = first; j < r->ncells; j++) {
        const struct cell_result *c = &r->cells[j];
        if (strcmp(c->payload, pl) != 0 || c->status == CELL_SKIPPED || !c->nphases)
            continue;
        const struct phase_result *h = cell_capacity_phase(c);
        if (!h)
            continue;
        unsigned m = phase_marks(h);
        flags |= m;
        char cap[16], rss[32], cpu[32], p50[48], rps[48], p99[48];
        double rssk = cli_cell_rss_max(c);
        fputs("| ", f);
        md_cell_name(f, c->framework);
        fprintf(f, " | %llu | %s | %s | %llu | %s | %s | %s | %s |\n",
                (unsigned long long)h->requests,
                marked(h->latency_ms.p50, "%.2f", m & ~HL_LOAD_BOUND, p50, sizeof(p50)),
                marked(h->rps, "%.2f", m, rps, sizeof(rps)), (unsigned long long)h->failures,
                users_str(c->capacity_users, cap, sizeof(cap)),
                marked(h->latency_ms.p99, "%.2f", m & ~HL_LOAD_BOUND, p99, sizeof(p99)),
                opt_num(rssk < 0 ? -1 : rssk / 1024.0, "%.1f", rss, sizeof(rss)),
                opt_num(h->server_cpu_pct, "%.0f", cpu, sizeof(cpu)));
        rows++;
    }
    if (!rows)
        fprintf(f, "| (no measured cell) | | | | | | | | |\n");
    if (flags & HL_LOAD_BOUND) {
        fprintf(f, "\nNote: req/s measures the load shape, not the server's limit, for");
        int k = 0;
        for (size_t j = first; j < r->ncells; j++) {
            const struct cell_result *c = &r->cells[j];
            const struct phase_result *h = cell_capacity_phase(c);
            if (strcmp(c->payload, pl) != 0 || c->status == CELL_SKIPPED || !h || !h->load_bound)
                continue;
            fprintf(f, "%s ", k++ ? "," : "");
            md_cell_name(f, c->framework);
        }
        fprintf(f, " (load-bound: the server kept up with everything the users offered).\n");
    }
    return flags;
}

/* The headline table for payload pl: peak, its spread, latency at load,
 * capacity, held users, the server at the peak, versions. */
static unsigned md_headline_table(FILE *f, const struct run_record *r, size_t first, const char *pl)
{
    char heads[CLI_HL_NFIG][32];
    cli_hl_heads(r, heads, 1);
    fputs("| Framework", f);
    for (int k = 0; k < CLI_HL_NFIG; k++)
        fprintf(f, " | %s", heads[k]);
    fputs(" | Versions |\n|---|", f);
    for (int k = 0; k < CLI_HL_NFIG; k++)
        fputs(k == 1 || k == 7 ? ":-:|" : "--:|", f);
    fputs("---|\n", f);
    int rows = 0;
    unsigned flags = 0;
    for (size_t j = first; j < r->ncells; j++) {
        const struct cell_result *c = &r->cells[j];
        if (strcmp(c->payload, pl) != 0)
            continue;
        struct headline h;
        headline_compute(c, &h);
        if (!h.measured)
            continue;
        flags |= h.flags;
        char v[CLI_HL_NFIG][CLI_HL_FIGLEN];
        cli_hl_figures(&h, v);
        fputs("| ", f);
        md_cell_name(f, c->framework);
        for (int k = 0; k < CLI_HL_NFIG; k++)
            fprintf(f, " | %s", v[k]);
        fputs(" | ", f);
        md_cell_name(f, h.versions[0] ? h.versions : "-");
        fputs(" |\n", f);
        rows++;
    }
    if (!rows)
        fputs("| (no measured cell) | | | | | | | | | | | | |\n", f);
    return flags;
}

/* The page header of md and html (md form): the run, the node's fingerprint,
 * the profile and its settings as measured. */
static void md_header(FILE *f, const struct run_record *r)
{
    char fp[512], st[512];
    cli_node_describe(r, fp, sizeof(fp));
    cli_run_settings(r, st, sizeof(st));
    /* Each field from the store or the node escaped: a profile or a host name may hold
     * markup (a hostile node reports its own hostname). */
    fprintf(f, "Run %lld, ", (long long)r->id);
    md_cell_name(f, r->started_at);
    fputs(", profile ", f);
    md_cell_name(f, r->profile[0] ? r->profile : "-");
    fputs(", node ", f);
    md_cell_name(f, r->node_host[0] ? r->node_host : "-");
    fputs(" (", f);
    md_cell_name(f, r->node_kernel[0] ? r->node_kernel : "-");
    fputs("), status ", f);
    md_cell_name(f, r->status);
    fputs(".\nNode: ", f);
    md_cell_name(f, fp);
    fputs(".\nProfile: ", f);
    md_cell_name(f, r->profile[0] ? r->profile : "-");
    fputs("; settings as measured: ", f);
    md_cell_name(f, st);
    fputs(".\n", f);
    if (r->settings[0]) {
        fputs("The profile asked for: ", f);
        md_cell_name(f, r->settings);
        fputs(".\n", f);
    }
}

/* One table per payload: the headline (default) or the seed's (seed != 0).
 * Cells that are not ok are listed below with their reason. */
void cli_print_run_md(FILE *f, const struct run_record *r, int seed)
{
    md_header(f, r);
    if (!seed)
        fputs("Peak: the median over searches of each one's highest req/s, its spread min\u2013max"
              "; latency at 50% and 90% of the peak from open-loop phases; server RSS and CPU in "
              "the phase of the peak. `--seed` gives the seed's table (figures of the phase at "
              "capacity).\n",
              f);
    const char *none = cli_no_measured_cells(r);
    if (none)
        fprintf(f, "\nno measured cells: %s.\n", none);
    for (size_t i = 0; i < r->ncells; i++) {
        const char *pl = r->cells[i].payload;
        int seen = 0;
        for (size_t j = 0; j < i; j++)
            if (strcmp(r->cells[j].payload, pl) == 0)
                seen = 1;
        if (seen)
            continue;
        char head[2] = {pl[0] >= 'a' && pl[0] <= 'z' ? (char)(pl[0] - 'a' + 'A') : pl[0], 0};
        fputs("\n#### ", f);
        md_cell_name(f, head);
        md_cell_name(f, pl[0] ? pl + 1 : "");
        fputc('\n', f);
        if (!none) {
            fputc('\n', f);
            unsigned flags = seed ? md_seed_table(f, r, i, pl) : md_headline_table(f, r, i, pl);
            if (flags)
                fputc('\n', f);
            for (unsigned b = HL_LOAD_BOUND; b <= HL_LAST; b <<= 1)
                if (flags & b)
                    fprintf(f, "%s  \n", headline_legend(b));
        }
        int listed = 0;
        for (size_t j = i; j < r->ncells; j++) {
            const struct cell_result *c = &r->cells[j];
            if (strcmp(c->payload, pl) != 0 || c->status == CELL_OK)
                continue;
            if (!listed++)
                fputc('\n', f);
            const char *nl = c->error ? strchr(c->error, '\n') : NULL;
            fputs("- ", f);
            md_cell_name(f, c->framework);
            fprintf(f, ": %s%s", cell_status_name(c->status), c->error ? ": " : "");
            if (c->error) {
                char line[1024];
                snprintf(line, sizeof(line), "%.*s",
                         nl ? (int)(nl - c->error) : (int)strlen(c->error), c->error);
                md_cell_name(f, line);
            }
            fputc('\n', f);
        }
    }
}

/* A CSV field: quoted when it holds a comma, quote or line break. */
static void csv_field(FILE *f, const char *s)
{
    rv_csv_field(f, s);
}

static void csv_num(FILE *f, double v, const char *fmt)
{
    fputc(',', f);
    if (v >= 0 && v == v)
        fprintf(f, fmt, v);
}

/* "load-bound;noisy": the marks of a phase as words. */
static const char *mark_words(unsigned m, char *buf, size_t n)
{
    snprintf(buf, n, "%s%s%s%s%s", m & HL_LOAD_BOUND ? "load-bound" : "",
             (m & HL_LOAD_BOUND) && (m & (HL_CLIENT_BOUND | HL_NOISY)) ? ";" : "",
             m & HL_CLIENT_BOUND ? "client-bound" : "",
             (m & HL_CLIENT_BOUND) && (m & HL_NOISY) ? ";" : "", m & HL_NOISY ? "noisy" : "");
    if (m & HL_DB_BOUND) {
        size_t len = strlen(buf);
        snprintf(buf + len, len < n ? n - len : 0, "%sdb-bound", len ? ";" : "");
    }
    return buf;
}

/* A row per phase; the cell's headline figures repeated on each of its rows
 * (empty when unknown), and which row is the phase of the peak. */
static void print_csv(FILE *f, const struct run_record *r)
{
    fprintf(f, "run,framework,payload,status,users,duration_s,requests,failures,rps,p50_ms,p90_ms,"
               "p99_ms,p999_ms,max_ms,server_rss_max_kb,server_cpu_pct,client_cpu_pct,"
               "stop_reason,kind,repeat,marks,is_peak_phase,peak_rps,peak_rps_min,peak_rps_max,"
               "load_a_pct,p50_at_a_ms,p99_at_a_ms,load_b_pct,p50_at_b_ms,p99_at_b_ms,"
               "capacity_users,held_users,held_limit,peak_server_rss_mib,peak_server_cpu_pct,"
               "versions,offered,sent,completed,unsent_due,clean,slo_bound_ms,slo_rps,"
               "slo_qualifier,slo_lo,slo_hi,slo_limit,peak_rps_passing,held_qualifier\n");
    for (size_t i = 0; i < r->ncells; i++) {
        const struct cell_result *c = &r->cells[i];
        struct headline h;
        headline_compute(c, &h);
        for (size_t k = 0; k < c->nphases; k++) {
            const struct phase_result *p = &c->phases[k];
            char mk[48];
            /* Texts from the store quoted as fields: a comma or a quote in one would
             * shift every column after it. */
            fprintf(f, "%lld,", (long long)r->id);
            csv_field(f, c->framework);
            fputc(',', f);
            csv_field(f, c->payload);
            fprintf(f, ",%s,%d,%.3f,%llu,%llu,%.2f,%.3f,%.3f,%.3f,%.3f,%.3f,%.0f,%.1f,%.1f,",
                    cell_status_name(c->status), p->users, p->duration_s,
                    (unsigned long long)p->requests, (unsigned long long)p->failures, p->rps,
                    p->latency_ms.p50, p->latency_ms.p90, p->latency_ms.p99, p->latency_ms.p999,
                    p->latency_ms.max, p->server_rss_max_kb, p->server_cpu_pct, p->client_cpu_pct);
            csv_field(f, p->stop_reason);
            fputc(',', f);
            csv_field(f, p->kind[0] ? p->kind : "ladder");
            fprintf(f, ",%d,%s,%d", p->repeat, mark_words(phase_marks(p), mk, sizeof(mk)),
                    p == h.peak_phase);
            csv_num(f, h.peak_rps, "%.2f");
            csv_num(f, h.repeats > 1 ? h.peak_min : -1, "%.2f");
            csv_num(f, h.repeats > 1 ? h.peak_max : -1, "%.2f");
            for (int j = 0; j < 2; j++) {
                csv_num(f, h.load[j].pct > 0 ? h.load[j].pct : -1, "%g");
                csv_num(f, h.load[j].p50_ms, "%.3f");
                csv_num(f, h.load[j].p99_ms, "%.3f");
            }
            csv_num(f, h.capacity_users, "%.0f");
            csv_num(f, h.held_users, "%.0f");
            fputc(',', f);
            csv_field(f, h.held_users >= 0 ? h.held_limit : "");
            csv_num(f, h.rss_mib, "%.1f");
            csv_num(f, h.cpu_pct, "%.1f");
            fputc(',', f);
            csv_field(f, h.versions);
            fprintf(f, ",%llu,%llu,%llu,%llu,%d", (unsigned long long)p->offered,
                    (unsigned long long)p->sent, (unsigned long long)p->completed,
                    (unsigned long long)p->unsent_due, !headline_phase_unclean(p));
            csv_num(f, h.slo.has ? h.slo.bound_ms : -1, "%g");
            csv_num(f, h.slo.rps, "%.2f");
            fprintf(f, ",%s", h.slo.qualifier);
            csv_num(f, h.slo.lo, "%.2f");
            csv_num(f, h.slo.hi, "%.2f");
            fputc(',', f);
            csv_field(f, h.slo.limit);
            csv_num(f, h.peak_passing, "%.2f");
            fprintf(f, ",%s\n", h.held_qualifier);
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
    "usage: mfbench show RUN [--store DB] [--json | --format table|md|csv|json] [--seed]\n"
    "                        [--series]\n"
    "\n"
    "Shows one stored run (RUN is its id, or 'last').\n"
    "\n"
    "      --store DB       the result store (default: $MFBENCH_STORE, else\n"
    "                       $XDG_STATE_HOME/mfbench/results.db)\n"
    "      --json           the result JSON (same as --format json)\n"
    "      --format F       table (default), md, csv, json. table and md: per cell\n"
    "                       the headline: peak req/s (median over searches, spread\n"
    "                       min-max), p50/p99 at 50% and 90% of the peak, capacity\n"
    "                       and held users, server RSS and CPU at the peak, versions;\n"
    "                       figures of load-bound (\u2020), client-bound (\u2021) or\n"
    "                       noisy (~) phases marked. csv: a row per phase, with the\n"
    "                       cell's headline columns\n"
    "      --seed           with md: the seed's README tables instead (figures of\n"
    "                       the phase at capacity)\n"
    "      --series         with json: each phase also gets \"series\", its stored\n"
    "                       per-second points [{t_s, users, requests, failures,\n"
    "                       p50_ms, p99_ms}] (t_s from the phase start, warm-up\n"
    "                       included; [] for runs stored before series existed)\n"
    "  -h, --help           this text\n";

int cli_cmd_show(int argc, char **argv)
{
    static const struct option opts[] = {{"store", required_argument, NULL, 's'},
                                         {"json", no_argument, NULL, 'j'},
                                         {"format", required_argument, NULL, 'f'},
                                         {"series", no_argument, NULL, 'S'},
                                         {"seed", no_argument, NULL, 'E'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *store_path = NULL, *format = "table";
    int c, series = 0, seed = 0;
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
        case 'E':
            seed = 1;
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
    if (seed && strcmp(format, "md")) {
        fprintf(stderr, "mfbench show: --seed goes with --format md\n");
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
        cli_print_run_md(stdout, &r, seed);
    } else if (strcmp(format, "csv") == 0) {
        print_csv(stdout, &r);
    } else {
        cli_print_run_table(stdout, &r);
    }
    run_record_free(&r);
    store_close(s);
    return rc ? rc : CLI_OK;
}
