/* test_review_cmds.c - the review commands against a store built here with
 * known values (via store.h): history values and regression flags (a 20% drop
 * flagged, a 2% wobble not), show md parsed back, compare ratios, marks and
 * exit codes, report files, an empty store, and runs on two nodes (a
 * difference across a node change is "node changed", not a regression). `--fill DB` only builds the
 * store, for the script tests that drive the mfbench binary. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "store.h"
#include "t.h"

#define NRUNS 8
static const double flask_wobble[NRUNS - 1] = {0, 5, -5, 3, -3, 2, -2};

static void phase(struct cell_result *c, int users, double rps, double p99, uint64_t failures)
{
    struct phase_result p;
    phase_result_init(&p);
    p.users = users;
    p.duration_s = 60;
    p.rps = rps;
    p.requests = (uint64_t)(rps * 60) + failures;
    p.failures = failures;
    p.failures_by_kind[FAIL_TIMEOUT] = failures;
    p.bytes_read = p.requests * 250;
    p.latency_ms = (struct latency_ms){.mean = p99 / 4,
                                       .p50 = p99 / 5,
                                       .p90 = p99 / 2,
                                       .p99 = p99,
                                       .p999 = p99 * 1.5,
                                       .max = p99 * 2};
    p.server_rss_max_kb = 30000 + users;
    p.server_rss_mean_kb = 29000;
    p.server_cpu_pct = users >= 1500 ? 97 : 50;
    p.server_cpu_max_pct = 100;
    p.client_cpu_pct = 10;
    if (failures)
        snprintf(p.stop_reason, sizeof(p.stop_reason), "failures >= 1");
    if (cell_result_add_phase(c, &p))
        abort();
}

/* A ramp 500..2000 users, failing at 2000; the capacity phase has `peak` req/s. */
static void ramp(struct cell_result *c, double peak, double p99)
{
    phase(c, 500, peak / 4, p99 / 2, 0);
    phase(c, 1000, peak / 2, p99 / 1.5, 0);
    phase(c, 1500, peak, p99, 0);
    phase(c, 2000, peak * 0.9, p99 * 3, 12);
    c->capacity_users = 1500;
    c->breaking_users = 2000;
    c->peak_rps = peak;
}

/* The per-second series of phase p (60 s): `rps` requests each second, its
 * failures in the last one; with `idle_first`, a first second without a
 * response (no percentiles) whose requests move to the second. */
static void add_series(struct store *s, int64_t phase_id, const struct phase_result *p,
                       int idle_first)
{
    struct store_series_point pts[60];
    for (int j = 0; j < 60; j++)
        pts[j] = (struct store_series_point){.t_s = j + 1,
                                             .users = p->users,
                                             .requests = (uint64_t)p->rps,
                                             .failures = j == 59 ? p->failures : 0,
                                             .p50_ms = p->latency_ms.p50,
                                             .p99_ms = p->latency_ms.p99};
    pts[59].requests += p->failures;
    if (idle_first) {
        pts[1].requests += pts[0].requests;
        pts[0].requests = 0;
        pts[0].p50_ms = pts[0].p99_ms = -1;
    }
    struct err e;
    err_clear(&e);
    if (store_phase_series_add(s, phase_id, pts, 60, &e)) {
        fprintf(stderr, "series: %s\n", e.msg);
        abort();
    }
}

static void add_cell_ex(struct store *s, int64_t run, const char *fw, const char *pl,
                        enum cell_status st, const char *error, double peak, double p99,
                        int load_bound, int series)
{
    struct err e;
    err_clear(&e);
    struct cell_result c;
    memset(&c, 0, sizeof(c));
    snprintf(c.framework, sizeof(c.framework), "%s", fw);
    snprintf(c.payload, sizeof(c.payload), "%s", pl);
    c.capacity_users = c.breaking_users = -1;
    c.peak_rps_passing = -1; /* as stored before schema v6: the phases say it */
    if (store_cell_begin(s, run, &c, &e)) {
        fprintf(stderr, "cell_begin: %s\n", e.msg);
        abort();
    }
    if (peak > 0)
        ramp(&c, peak, p99);
    if (load_bound)
        c.phases[2].load_bound = 1;
    for (size_t i = 0; i < c.nphases; i++) {
        int64_t pid = 0;
        if (store_phase_add_id(s, c.id, (int)i, &c.phases[i], &pid, &e))
            abort();
        if (series)
            add_series(s, pid, &c.phases[i], i == 0);
    }
    c.status = st;
    c.error = error ? strdup(error) : NULL;
    c.versions_json = strdup("{\"python\":\"3.11.2\"}");
    if (store_cell_finish(s, &c, &e)) {
        fprintf(stderr, "cell_finish: %s\n", e.msg);
        abort();
    }
    cell_result_free(&c);
}

static void add_cell(struct store *s, int64_t run, const char *fw, const char *pl,
                     enum cell_status st, const char *error, double peak, double p99,
                     int load_bound)
{
    add_cell_ex(s, run, fw, pl, st, error, peak, p99, load_bound, 0);
}

/* The node of a run: fingerprint A, or B (another kernel and python). */
static void node_a(struct run_record *r)
{
    snprintf(r->node_host, sizeof(r->node_host), "node1");
    snprintf(r->node_cpus, sizeof(r->node_cpus), "1");
    snprintf(r->node_kernel, sizeof(r->node_kernel), "6.1.0");
    snprintf(r->node_cpu_model, sizeof(r->node_cpu_model), "Test CPU 3000");
    r->node_cpu_count = 2;
    snprintf(r->node_governor, sizeof(r->node_governor), "performance");
    snprintf(r->node_python, sizeof(r->node_python), "3.11.2");
    r->node_loadavg = 0.25;
}

static void node_b(struct run_record *r)
{
    node_a(r);
    snprintf(r->node_kernel, sizeof(r->node_kernel), "6.5.0");
    snprintf(r->node_python, sizeof(r->node_python), "3.12.1");
}

/* Runs 1..8. flask/json ~2000 req/s, then 1600 in run 8 (a 20% drop);
 * bottle/json 1000 then 980 (2%); django/json ok then failed; run 8 also has
 * skipped, cancelled and interrupted cells and a framework name needing escapes.
 * Only run 8's flask/text has per-second series (the others are stored as
 * before the series existed: the report's fallback). */
static void fill(const char *path)
{
    struct store *s;
    struct err e;
    err_clear(&e);
    if (store_open(path, &s, &e)) {
        fprintf(stderr, "store_open: %s\n", e.msg);
        abort();
    }
    for (int i = 1; i <= NRUNS; i++) {
        struct run_record r;
        memset(&r, 0, sizeof(r));
        snprintf(r.started_at, sizeof(r.started_at), "2026-11-%02dT02:00:00Z", i);
        snprintf(r.trigger, sizeof(r.trigger), "nightly");
        snprintf(r.profile, sizeof(r.profile), "default");
        node_a(&r);
        r.node_loadavg = i; /* the load average is no change of node */
        if (store_run_begin(s, &r, &e))
            abort();
        int last = i == NRUNS;
        add_cell(s, r.id, "flask", "json", CELL_OK, NULL, last ? 1600 : 2000 + flask_wobble[i - 1],
                 20, 0);
        add_cell(s, r.id, "bottle", "json", CELL_OK, NULL, last ? 980 : 1000, 40, last);
        add_cell(s, r.id, "django", "json", last ? CELL_FAILED : CELL_OK,
                 last ? "server exited with status 1\nTraceback (most recent call last)" : NULL,
                 last ? 0 : 500, 100, 0);
        add_cell_ex(s, r.id, "flask", "text", CELL_OK, NULL, 3000, 10, 0, last);
        if (last) {
            add_cell(s, r.id, "falcon", "json", CELL_SKIPPED, "falcon is not installed", 0, 0, 0);
            add_cell(s, r.id, "pyramid", "json", CELL_CANCELLED, "cancelled by the user", 0, 0, 0);
            add_cell(s, r.id, "tornado", "text", CELL_INTERRUPTED, NULL, 0, 0, 0);
            add_cell(s, r.id, "<b>x&y</b>", "json", CELL_OK, NULL, 700, 30, 0);
        }
        if (store_run_finish(s, r.id, last ? "failed" : "ok", &e))
            abort();
    }
    store_close(s);
}

/* Runs fn(argv) with stdout into a string (caller frees); returns its exit code. */
static int capture(int (*fn)(int, char **), const char **args, char **out)
{
    char *argv[32];
    int argc = 0;
    while (args[argc] && argc < 31) {
        argv[argc] = (char *)args[argc];
        argc++;
    }
    argv[argc] = NULL;
    fflush(stdout);
    char tmpl[] = "/tmp/mfbench-review-XXXXXX";
    int fd = mkstemp(tmpl);
    if (fd < 0)
        abort();
    unlink(tmpl);
    int saved = dup(1);
    dup2(fd, 1);
    int rc = fn(argc, argv);
    fflush(stdout);
    dup2(saved, 1);
    close(saved);
    off_t len = lseek(fd, 0, SEEK_END);
    *out = calloc((size_t)len + 1, 1);
    if (pread(fd, *out, (size_t)len, 0) != len)
        abort();
    close(fd);
    return rc;
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    char *b = calloc(1 << 20, 1);
    size_t n = fread(b, 1, (1 << 20) - 1, f);
    b[n] = '\0';
    fclose(f);
    return b;
}

static void test_regressions(const char *db)
{
    struct store *s;
    struct err e;
    err_clear(&e);
    CHECK_INT(store_open(db, &s, &e), ==, 0);
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    int n = cli_regressions_for_run(s, NRUNS, m);
    fclose(m);
    CHECK_INT(n, ==, 2);
    CHECK_CONTAINS(buf, "run 8 flask/json: peak req/s (passing) 1600.00 below");
    CHECK_CONTAINS(buf, "django/json: status failed (was ok)");
    CHECK(!strstr(buf, "bottle"));
    CHECK(!strstr(buf, "flask/text"));
    free(buf);
    /* run 7 is within its band */
    buf = NULL;
    m = open_memstream(&buf, &len);
    CHECK_INT(cli_regressions_for_run(s, 7, m), ==, 0);
    fclose(m);
    free(buf);
    m = open_memstream(&buf, &len);
    CHECK_INT(cli_regressions_for_run(s, 99, m), ==, -ENOENT);
    fclose(m);
    free(buf);
    store_close(s);
}

static void test_history(const char *db)
{
    char *out;
    const char *a1[] = {"history", "flask/json", "--json", "--store", db, NULL};
    CHECK_INT(capture(cli_cmd_history, a1, &out), ==, 0);
    cJSON *j = cJSON_Parse(out);
    CHECK(cJSON_IsArray(j));
    CHECK_INT(cJSON_GetArraySize(j), ==, NRUNS);
    cJSON *first = cJSON_GetArrayItem(j, 0), *second = cJSON_GetArrayItem(j, 1);
    CHECK_DBL(cJSON_GetObjectItem(first, "run")->valuedouble, ==, 8);
    CHECK_DBL(cJSON_GetObjectItem(first, "peak_rps")->valuedouble, ==, 1600);
    CHECK_DBL(cJSON_GetObjectItem(first, "capacity_users")->valuedouble, ==, 1500);
    CHECK_DBL(cJSON_GetObjectItem(first, "p99_ms")->valuedouble, ==, 20);
    CHECK_DBL(cJSON_GetObjectItem(first, "rss_max_kb")->valuedouble, ==, 32000);
    cJSON *regs = cJSON_GetObjectItem(first, "regressions");
    CHECK_INT(cJSON_GetArraySize(regs), ==, 1);
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetArrayItem(regs, 0), "metric")),
              "peak_rps_passing");
    CHECK_DBL(cJSON_GetObjectItem(cJSON_GetArrayItem(regs, 0), "median")->valuedouble, ==, 2000);
    CHECK_DBL(cJSON_GetObjectItem(second, "peak_rps")->valuedouble, ==, 1998);
    CHECK_INT(cJSON_GetArraySize(cJSON_GetObjectItem(second, "regressions")), ==, 0);
    cJSON_Delete(j);
    free(out);

    const char *a2[] = {"history", "--regressions", "--store", db, NULL};
    CHECK_INT(capture(cli_cmd_history, a2, &out), ==, 0);
    CHECK_CONTAINS(out, "flask/json: peak req/s (passing) 1600.00 below");
    CHECK_CONTAINS(out, "django/json: status failed");
    CHECK(!strstr(out, "bottle"));
    free(out);

    /* a wide band (k = 30) swallows the drop */
    const char *a3[] = {"history", "--regressions", "--k", "30", "flask/json", "--store", db, NULL};
    CHECK_INT(capture(cli_cmd_history, a3, &out), ==, 0);
    CHECK_CONTAINS(out, "no regressions");
    free(out);

    const char *a4[] = {"history", "--sparkline", "--limit", "3", "--store", db, NULL};
    CHECK_INT(capture(cli_cmd_history, a4, &out), ==, 0);
    CHECK_CONTAINS(out, "trend of peak req/s");
    CHECK_CONTAINS(out, "flask/json");
    CHECK_CONTAINS(out, "last 1600.0, min 1600.0, max 2005.0 (8 runs)");
    CHECK_CONTAINS(out, "peak_rps"); /* the regression column of run 8 */
    free(out);

    const char *a5[] = {"history", "--window", "0", "--store", db, NULL};
    CHECK_INT(capture(cli_cmd_history, a5, &out), ==, CLI_USAGE);
    free(out);
}

/* Splits a markdown row "| a | b |" into trimmed cells; returns how many. */
static int md_cells(const char *line, char cells[][64], int max)
{
    int n = 0;
    const char *p = strchr(line, '|');
    while (p && n < max) {
        const char *q = strchr(p + 1, '|');
        if (!q)
            break;
        const char *a = p + 1, *b = q;
        while (a < b && *a == ' ')
            a++;
        while (b > a && b[-1] == ' ')
            b--;
        snprintf(cells[n++], 64, "%.*s", (int)(b - a), a);
        p = q;
    }
    return n;
}

static void test_show_md(const char *db)
{
    char *out;
    const char *a[] = {"show", "8", "--format", "md", "--seed", "--store", db, NULL};
    CHECK_INT(capture(cli_cmd_show, a, &out), ==, 0);
    CHECK_CONTAINS(out, "#### Json\n");
    CHECK_CONTAINS(out, "Node: Test CPU 3000, 2 CPUs, kernel 6.1.0, governor performance, python "
                        "3.11.2, load average 8.00 at start.\n");
    CHECK_CONTAINS(out, "#### Text\n");
    CHECK_CONTAINS(out, "| Framework | Total Request | Median Response Time (ms) | Request Per "
                        "Second | Failed Requests | Capacity (users) | p99 (ms) | Server RSS "
                        "(MiB) | Server CPU (%) |");
    int rows = 0, flask = 0, bottle = 0;
    char *save = NULL;
    for (char *line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char c[16][64];
        if (line[0] != '|' || strstr(line, "Framework") || strstr(line, "---"))
            continue;
        int n = md_cells(line, c, 16);
        CHECK_INT(n, ==, 9);
        rows++;
        if (!strcmp(c[0], "flask") && !strcmp(c[1], "96000")) {
            flask++;
            CHECK_STR(c[2], "4.00");    /* p50 = p99 / 5 */
            CHECK_STR(c[3], "1600.00"); /* req/s at capacity */
            CHECK_STR(c[4], "0");
            CHECK_STR(c[5], "1500");
            CHECK_STR(c[6], "20.00");
            CHECK_STR(c[7], "31.2"); /* 32000 KiB */
            CHECK_STR(c[8], "97");
        }
        if (!strcmp(c[0], "bottle")) {
            bottle++;
            CHECK_STR(c[3], "980.00 \u2020"); /* load-bound at capacity: marked */
        }
    }
    /* json: flask, bottle, pyramid (cancelled, no phases: listed only), escaped name; text: flask
     */
    CHECK_INT(rows, ==, 4);
    CHECK_INT(flask, ==, 1);
    CHECK_INT(bottle, ==, 1);
    free(out);
    CHECK_INT(capture(cli_cmd_show, a, &out), ==, 0);
    CHECK_CONTAINS(out, "- django: failed: server exited with status 1\n");
    CHECK(!strstr(out, "Traceback"));
    CHECK_CONTAINS(out, "- falcon: skipped: falcon is not installed");
    CHECK_CONTAINS(out, "- pyramid: cancelled: cancelled by the user");
    CHECK_CONTAINS(out, "- tornado: interrupted");
    CHECK_CONTAINS(out, "req/s measures the load shape, not the server's limit, for bottle");
    free(out);
}

static cJSON *find_cell(cJSON *cells, const char *fw, const char *pl)
{
    cJSON *c;
    cJSON_ArrayForEach(c, cells)
    {
        if (!strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(c, "framework")), fw) &&
            !strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(c, "payload")), pl))
            return c;
    }
    return NULL;
}

static void test_compare(const char *db)
{
    char *out;
    const char *a[] = {"compare", "7", "8", "--json", "--store", db, NULL};
    CHECK_INT(capture(cli_cmd_compare, a, &out), ==, 0);
    cJSON *j = cJSON_Parse(out);
    cJSON *cells = cJSON_GetObjectItem(j, "cells");
    cJSON *fl = find_cell(cells, "flask", "json");
    CHECK(fl != NULL);
    if (fl) {
        CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(fl, "verdict")), "worse");
        cJSON *pr = cJSON_GetObjectItem(cJSON_GetObjectItem(fl, "metrics"), "peak_rps");
        CHECK_DBL(fabs(cJSON_GetObjectItem(pr, "ratio")->valuedouble - 1600.0 / 1998.0), <, 1e-9);
        CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(pr, "mark")), "worse");
        cJSON *cap = cJSON_GetObjectItem(cJSON_GetObjectItem(fl, "metrics"), "capacity");
        CHECK_DBL(cJSON_GetObjectItem(cap, "ratio")->valuedouble, ==, 1);
        CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(cap, "mark")), "same");
    }
    cJSON *bo = find_cell(cells, "bottle", "json");
    CHECK(bo && !strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(bo, "verdict")), "same"));
    cJSON *dj = find_cell(cells, "django", "json");
    CHECK(dj &&
          !strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(dj, "verdict")), "not comparable"));
    CHECK(dj && strstr(cJSON_GetStringValue(cJSON_GetObjectItem(dj, "reason")), "failed"));
    cJSON *fa = find_cell(cells, "falcon", "json");
    CHECK(fa && strstr(cJSON_GetStringValue(cJSON_GetObjectItem(fa, "reason")), "missing"));
    cJSON *sum = cJSON_GetObjectItem(j, "summary");
    CHECK_DBL(cJSON_GetObjectItem(sum, "worse")->valuedouble, ==, 1);
    CHECK_DBL(cJSON_GetObjectItem(sum, "same")->valuedouble, ==, 2); /* bottle, flask/text */
    cJSON_Delete(j);
    free(out);

    const char *b[] = {"compare",        "7",       "8", "--fail-on-regression",
                       "--only-changed", "--store", db,  NULL};
    CHECK_INT(capture(cli_cmd_compare, b, &out), ==, 1);
    CHECK_CONTAINS(out, "flask/json");
    CHECK_CONTAINS(out, "x0.80 worse");
    CHECK(!strstr(out, "bottle/json"));
    free(out);
    const char *c[] = {"compare", "6", "7", "--fail-on-regression", "--store", db, NULL};
    CHECK_INT(capture(cli_cmd_compare, c, &out), ==, 0);
    CHECK_CONTAINS(out, "0 better, 0 worse, 4 same, 0 not comparable");
    free(out);
    const char *d[] = {"compare", "8", "7", "--fail-on-regression", "--store", db, NULL};
    CHECK_INT(capture(cli_cmd_compare, d, &out), ==, 0);
    CHECK_CONTAINS(out, "better");
    free(out);
    const char *e2[] = {"compare", "7", "42", "--store", db, NULL};
    CHECK_INT(capture(cli_cmd_compare, e2, &out), ==, 1);
    free(out);
}

/* show --json stays as it was; --series adds each phase's stored points. */
static void test_show_series(const char *db)
{
    char *out;
    const char *a[] = {"show", "8", "--json", "--store", db, NULL};
    CHECK_INT(capture(cli_cmd_show, a, &out), ==, 0);
    CHECK(!strstr(out, "\"series\""));
    free(out);
    const char *b[] = {"show", "8", "--format", "md", "--series", "--store", db, NULL};
    CHECK_INT(capture(cli_cmd_show, b, &out), ==, CLI_USAGE);
    free(out);
    const char *c[] = {"show", "8", "--json", "--series", "--store", db, NULL};
    CHECK_INT(capture(cli_cmd_show, c, &out), ==, 0);
    cJSON *j = cJSON_Parse(out);
    free(out);
    CHECK(j != NULL);
    cJSON *cells = cJSON_GetObjectItemCaseSensitive(j, "cells");
    cJSON *text = find_cell(cells, "flask", "text");
    cJSON *json = find_cell(cells, "flask", "json");
    CHECK(text != NULL && json != NULL);
    if (text && json) {
        cJSON *ph = cJSON_GetObjectItemCaseSensitive(text, "phases");
        CHECK_INT(cJSON_GetArraySize(ph), ==, 4);
        cJSON *s0 = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(ph, 0), "series");
        cJSON *s3 = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(ph, 3), "series");
        CHECK_INT(cJSON_GetArraySize(s0), ==, 60);
        cJSON *p0 = cJSON_GetArrayItem(s0, 0), *p1 = cJSON_GetArrayItem(s0, 1);
        CHECK(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(p0, "p50_ms")));
        CHECK_DBL(cJSON_GetObjectItemCaseSensitive(p1, "t_s")->valuedouble, ==, 2);
        CHECK_DBL(cJSON_GetObjectItemCaseSensitive(p1, "requests")->valuedouble, ==, 1500);
        CHECK_DBL(cJSON_GetObjectItemCaseSensitive(p1, "p99_ms")->valuedouble, ==, 5);
        cJSON *last = cJSON_GetArrayItem(s3, 59);
        CHECK_DBL(cJSON_GetObjectItemCaseSensitive(last, "failures")->valuedouble, ==, 12);
        CHECK_DBL(cJSON_GetObjectItemCaseSensitive(last, "users")->valuedouble, ==, 2000);
        /* stored before the series existed: an empty series */
        cJSON *jph = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(json, "phases"), 0);
        cJSON *js = cJSON_GetObjectItemCaseSensitive(jph, "series");
        CHECK(cJSON_IsArray(js) && cJSON_GetArraySize(js) == 0);
    }
    cJSON_Delete(j);
}

static void test_report(const char *db, const char *dir)
{
    char *out, path[512];
    const char *a[] = {"report", "--format", "csv", "-o", dir, "--store", db, NULL};
    CHECK_INT(capture(cli_cmd_report, a, &out), ==, 0);
    free(out);
    snprintf(path, sizeof(path), "%s/flask_json_stats.csv", dir);
    char *csv = slurp(path);
    CHECK(csv != NULL);
    CHECK_CONTAINS(csv, "Type,Name,Request Count,Failure Count,Median Response Time,Average "
                        "Response Time,Min Response Time,Max Response Time,Average Content "
                        "Size,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,99.9%,"
                        "99.99%,100%\n");
    CHECK_CONTAINS(csv, "GET,/json,96000,0,4.00,5.00,,40.00,250,1600.00,0.00,4.00,,,,10.00,,,"
                        "20.00,30.00,,40.00\n");
    CHECK_CONTAINS(csv, ",Aggregated,96000,");
    free(csv);
    snprintf(path, sizeof(path), "%s/flask_json_stats_history.csv", dir);
    csv = slurp(path);
    CHECK_CONTAINS(csv, "Timestamp,User Count,Type,Name,Requests/s,Failures/s,50%");
    CHECK_CONTAINS(csv, ",2000,,Aggregated,"); /* no series: a row per phase */
    free(csv);
    /* flask/text has series: a row per second, after flask/json's and
     * bottle/json's 8 phases of 60 s (2026-11-08T02:00:00Z + 480 + t_s). */
    snprintf(path, sizeof(path), "%s/flask_text_stats_history.csv", dir);
    csv = slurp(path);
    CHECK(csv != NULL);
    if (csv) {
        int lines = 0;
        for (const char *q = csv; *q; q++)
            lines += *q == '\n';
        CHECK_INT(lines, ==, 1 + 4 * 60);
        CHECK_CONTAINS(csv, "\n1794103681,500,GET,/text,0.00,0.00,N/A,N/A,N/A,N/A,N/A,N/A,N/A,"
                            "N/A,N/A,N/A,N/A,0,0,N/A,N/A,N/A,N/A,N/A\n");
        CHECK_CONTAINS(csv, "\n1794103682,500,GET,/text,1500.00,0.00,1.00,N/A,N/A,N/A,N/A,N/A,"
                            "N/A,5.00,N/A,N/A,N/A,1500,0,N/A,N/A,N/A,N/A,N/A\n");
        CHECK_CONTAINS(csv, "\n1794103920,2000,GET,/text,2712.00,12.00,6.00,N/A,N/A,N/A,N/A,"
                            "N/A,N/A,30.00,N/A,N/A,N/A,477012,12,N/A,N/A,N/A,N/A,N/A\n");
        CHECK(!strstr(csv, "Aggregated"));
    }
    free(csv);
    snprintf(path, sizeof(path), "%s/django_json_stats.csv", dir);
    CHECK(access(path, F_OK) != 0); /* failed without phases: nothing to write */

    const char *b[] = {"report", "--format", "md",      "-o", dir, "--run",
                       "8",      "--seed",   "--store", db,   NULL};
    CHECK_INT(capture(cli_cmd_report, b, &out), ==, 0);
    free(out);
    snprintf(path, sizeof(path), "%s/report.md", dir);
    char *md = slurp(path);
    CHECK_CONTAINS(md, "| flask | 96000 | 4.00 | 1600.00 | 0 | 1500 | 20.00 | 31.2 | 97 |");
    free(md);

    const char *c[] = {"report", "--format", "html", "-o", dir, "--store", db, NULL};
    CHECK_INT(capture(cli_cmd_report, c, &out), ==, 0);
    free(out);
    snprintf(path, sizeof(path), "%s/index.html", dir);
    char *html = slurp(path);
    CHECK_CONTAINS(html, "<!DOCTYPE html>");
    CHECK_CONTAINS(html, "id=\"p0-rps\"");
    CHECK_CONTAINS(html, "id=\"p0-p99\"");
    CHECK_CONTAINS(html, "id=\"p0-capacity\"");
    CHECK_CONTAINS(html, "id=\"p0-rss\"");
    CHECK_CONTAINS(html, "id=\"p0-history-0\"");
    CHECK_CONTAINS(html, "id=\"p0-spectrum\"");
    CHECK_CONTAINS(html, "id=\"heatmap\"");
    CHECK_CONTAINS(html, "data-name=\"flask\"");
    CHECK_CONTAINS(html, "&lt;b&gt;x&amp;y&lt;/b&gt;");
    CHECK(html && !strstr(html, "<b>x"));
    CHECK(html && !strstr(html, "<script"));
    CHECK(html && !strstr(html, " src=") && !strstr(html, "<link")); /* self-contained */
    free(html);

    const char *d[] = {"report", "--format", "pdf", "-o", dir, "--store", db, NULL};
    CHECK_INT(capture(cli_cmd_report, d, &out), ==, CLI_USAGE);
    free(out);
}

/* Repeats: one cell with three phases at 500 users per run; held users as
 * measured (held < 0: not measured). */
static int64_t repeat_run(struct store *s, const double rps[3], int held, const char *limit)
{
    struct err e;
    err_clear(&e);
    struct run_record r;
    memset(&r, 0, sizeof(r));
    snprintf(r.started_at, sizeof(r.started_at), "2026-12-01T02:00:00Z");
    snprintf(r.trigger, sizeof(r.trigger), "cli");
    if (store_run_begin(s, &r, &e))
        abort();
    struct cell_result c;
    memset(&c, 0, sizeof(c));
    snprintf(c.framework, sizeof(c.framework), "flask");
    snprintf(c.payload, sizeof(c.payload), "json");
    c.peak_rps_passing = -1; /* as stored before schema v6: the phases say it */
    if (store_cell_begin(s, r.id, &c, &e))
        abort();
    for (int i = 0; i < 3; i++)
        phase(&c, 500, rps[i], 10, 0);
    for (size_t i = 0; i < c.nphases; i++)
        if (store_phase_add(s, c.id, (int)i, &c.phases[i], &e))
            abort();
    c.status = CELL_OK;
    c.capacity_users = 500;
    c.breaking_users = -1;
    c.held_users = held;
    snprintf(c.held_limit, sizeof(c.held_limit), "%s", limit);
    c.peak_rps =
        rps[0] > rps[1] ? (rps[0] > rps[2] ? rps[0] : rps[2]) : (rps[1] > rps[2] ? rps[1] : rps[2]);
    if (store_cell_finish(s, &c, &e) || store_run_finish(s, r.id, "ok", &e))
        abort();
    cell_result_free(&c);
    return r.id;
}

static void test_compare_repeats(const char *dir)
{
    char db[512], ids[5][24], *out;
    snprintf(db, sizeof(db), "%s/repeats.db", dir);
    struct store *s;
    struct err e;
    err_clear(&e);
    if (store_open(db, &s, &e))
        abort();
    const double a[3] = {1000, 1010, 990}, b[3] = {850, 860, 840}, c[3] = {850, 1005, 840};
    snprintf(ids[0], sizeof(ids[0]), "%lld", (long long)repeat_run(s, a, 8000, "max"));
    snprintf(ids[1], sizeof(ids[1]), "%lld", (long long)repeat_run(s, b, -1, ""));
    snprintf(ids[2], sizeof(ids[2]), "%lld", (long long)repeat_run(s, c, -1, ""));
    snprintf(ids[3], sizeof(ids[3]), "%lld", (long long)repeat_run(s, a, 4000, "server"));
    snprintf(ids[4], sizeof(ids[4]), "%lld", (long long)repeat_run(s, a, 7600, "server"));
    store_close(s);
    /* medians 1000 -> 850, ranges apart: worse */
    const char *x[] = {"compare", ids[0], ids[1], "--json", "--store", db, NULL};
    CHECK_INT(capture(cli_cmd_compare, x, &out), ==, 0);
    cJSON *j = cJSON_Parse(out);
    cJSON *pr = cJSON_GetObjectItem(
        cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "cells"), 0), "metrics"),
        "peak_rps");
    CHECK_DBL(cJSON_GetObjectItem(pr, "n_a")->valuedouble, ==, 3);
    CHECK_DBL(cJSON_GetObjectItem(pr, "a")->valuedouble, ==, 1000);
    CHECK_DBL(cJSON_GetObjectItem(pr, "b")->valuedouble, ==, 850);
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(pr, "mark")), "worse");
    cJSON_Delete(j);
    free(out);
    /* medians 1000 -> 850 too, but the ranges overlap: not significant */
    const char *y[] = {"compare", ids[0], ids[2], "--json", "--store", db, NULL};
    CHECK_INT(capture(cli_cmd_compare, y, &out), ==, 0);
    j = cJSON_Parse(out);
    pr = cJSON_GetObjectItem(
        cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "cells"), 0), "metrics"),
        "peak_rps");
    CHECK_DBL(cJSON_GetObjectItem(pr, "ratio")->valuedouble, ==, 0.85);
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(pr, "mark")), "same");
    cJSON_Delete(j);
    free(out);
    /* The same throughput, but half the users held: the concurrency number
     * alone makes the cell worse, in JSON, in the table and in the exit status. */
    const char *h[] = {"compare", ids[0], ids[3], "--json", "--store", db, NULL};
    CHECK_INT(capture(cli_cmd_compare, h, &out), ==, 0);
    j = cJSON_Parse(out);
    cJSON *cell = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "cells"), 0);
    cJSON *hu = cJSON_GetObjectItem(cJSON_GetObjectItem(cell, "metrics"), "held_users");
    CHECK(hu != NULL);
    if (hu) {
        CHECK_DBL(cJSON_GetObjectItem(hu, "a")->valuedouble, ==, 8000);
        CHECK_DBL(cJSON_GetObjectItem(hu, "b")->valuedouble, ==, 4000);
        CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(hu, "mark")), "worse");
    }
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(cell, "verdict")), "worse");
    cJSON_Delete(j);
    free(out);
    const char *t[] = {"compare", ids[0], ids[3], "--fail-on-regression", "--store", db, NULL};
    CHECK_INT(capture(cli_cmd_compare, t, &out), ==, 1);
    CHECK_CONTAINS(out, ">= 8000 (max) -> 4000 x0.50 worse");
    free(out);
    /* At least 8000 against 7600 measured is within the factor: not
     * comparable (the bound says nothing of how far above it the server was),
     * never "same"; a run that did not measure held users is not comparable on
     * it, and that alone changes nothing. */
    const char *u[] = {"compare", ids[0], ids[4], "--fail-on-regression", "--store", db, NULL};
    CHECK_INT(capture(cli_cmd_compare, u, &out), ==, 0);
    CHECK_CONTAINS(out, ">= 8000 (max) -> 7600 x0.95 not comparable");
    free(out);
    const char *v[] = {"compare", ids[2], ids[3], "--json", "--store", db, NULL};
    CHECK_INT(capture(cli_cmd_compare, v, &out), ==, 0);
    j = cJSON_Parse(out);
    hu = cJSON_GetObjectItem(
        cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "cells"), 0), "metrics"),
        "held_users");
    CHECK(hu && cJSON_IsNull(cJSON_GetObjectItem(hu, "a")));
    CHECK(hu && !strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(hu, "mark")), "not comparable"));
    cJSON_Delete(j);
    free(out);
}

/* The concurrency number in history: four runs holding 8000 users, then one
 * holding 4000 with the same req/s: a held_users regression, and only that;
 * a run that did not measure held users shows "-" and null. */
static void test_history_held(const char *dir)
{
    char db[512], *out;
    snprintf(db, sizeof(db), "%s/held.db", dir);
    struct store *s;
    struct err e;
    err_clear(&e);
    if (store_open(db, &s, &e))
        abort();
    const double a[3] = {1000, 1010, 990};
    for (int i = 0; i < 4; i++)
        (void)repeat_run(s, a, 8000, "max");
    int64_t last = repeat_run(s, a, 4000, "server");
    int64_t none = repeat_run(s, a, -1, "");
    store_close(s);
    const char *r[] = {"history", "--regressions", "--store", db, NULL};
    CHECK_INT(capture(cli_cmd_history, r, &out), ==, 0);
    char want[128];
    snprintf(want, sizeof(want), "run %lld flask/json: held users 4000.00 below", (long long)last);
    CHECK_CONTAINS(out, want);
    CHECK(!strstr(out, "peak req/s"));
    free(out);
    const char *j[] = {"history", "--json", "--store", db, NULL};
    CHECK_INT(capture(cli_cmd_history, j, &out), ==, 0);
    cJSON *arr = cJSON_Parse(out);
    CHECK_INT(cJSON_GetArraySize(arr), ==, 6);
    cJSON *r0 = cJSON_GetArrayItem(arr, 0), *r1 = cJSON_GetArrayItem(arr, 1);
    CHECK_DBL(cJSON_GetObjectItem(r0, "run")->valuedouble, ==, (double)none);
    CHECK(cJSON_IsNull(cJSON_GetObjectItem(r0, "held_users")));
    CHECK_DBL(cJSON_GetObjectItem(r1, "held_users")->valuedouble, ==, 4000);
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(
                  cJSON_GetArrayItem(cJSON_GetObjectItem(r1, "regressions"), 0), "metric")),
              "held_users");
    cJSON_Delete(arr);
    free(out);
    const char *t[] = {"history", "--limit", "2", "--store", db, NULL};
    CHECK_INT(capture(cli_cmd_history, t, &out), ==, 0);
    CHECK_CONTAINS(out, "  held  regression");
    CHECK_CONTAINS(out, "   4000  held_users");
    free(out);
}

/* Runs 1..4 on node A (flask/json ~2000 req/s, django/json ok); run 5 on
 * node B (1600 req/s, django failed); run 6 on node A with another load
 * average and its governor, CPU model and count unknown (1600 req/s). */
static void fill_nodes(const char *db)
{
    struct store *s;
    struct err e;
    err_clear(&e);
    if (store_open(db, &s, &e))
        abort();
    const double peak[6] = {2000, 2010, 1990, 2005, 1600, 1600};
    for (int i = 1; i <= 6; i++) {
        struct run_record r;
        memset(&r, 0, sizeof(r));
        snprintf(r.started_at, sizeof(r.started_at), "2026-11-%02dT02:00:00Z", i);
        snprintf(r.trigger, sizeof(r.trigger), "nightly");
        if (i == 5)
            node_b(&r);
        else
            node_a(&r);
        if (i == 6) {
            r.node_loadavg = 3.5;
            r.node_governor[0] = r.node_cpu_model[0] = '\0';
            r.node_cpu_count = -1;
        }
        if (store_run_begin(s, &r, &e))
            abort();
        add_cell(s, r.id, "flask", "json", CELL_OK, NULL, peak[i - 1], 20, 0);
        add_cell(s, r.id, "django", "json", i == 5 ? CELL_FAILED : CELL_OK,
                 i == 5 ? "server exited with status 1" : NULL, i == 5 ? 0 : 500, 100, 0);
        if (store_run_finish(s, r.id, "ok", &e))
            abort();
    }
    store_close(s);
}

static void test_node_changed(const char *dir)
{
    char db[512], *out;
    snprintf(db, sizeof(db), "%s/nodes.db", dir);
    fill_nodes(db);
    const char *changed = "kernel: 6.1.0 -> 6.5.0; python: 3.11.2 -> 3.12.1";

    /* 4 -> 5: 20% fewer req/s on another node: node changed, no regression. */
    const char *a[] = {"compare", "4", "5", "--fail-on-regression", "--store", db, NULL};
    CHECK_INT(capture(cli_cmd_compare, a, &out), ==, 0);
    CHECK_CONTAINS(out, "node changed (kernel: 6.1.0 -> 6.5.0; python: 3.11.2 -> 3.12.1)");
    CHECK_CONTAINS(out, "x0.80 worse");
    CHECK_CONTAINS(out, "node changed (worse)");
    CHECK_CONTAINS(out, "0 better, 0 worse, 0 same, 1 not comparable, 1 changed on another node");
    free(out);
    const char *b[] = {"compare", "4", "5", "--json", "--store", db, NULL};
    CHECK_INT(capture(cli_cmd_compare, b, &out), ==, 0);
    cJSON *j = cJSON_Parse(out);
    free(out);
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(j, "node_changed")), changed);
    cJSON *fl = find_cell(cJSON_GetObjectItem(j, "cells"), "flask", "json");
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(fl, "verdict")), "node changed");
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(fl, "verdict_same_node")), "worse");
    cJSON *sum = cJSON_GetObjectItem(j, "summary");
    CHECK_DBL(cJSON_GetObjectItem(sum, "worse")->valuedouble, ==, 0);
    CHECK_DBL(cJSON_GetObjectItem(sum, "node_changed")->valuedouble, ==, 1);
    cJSON_Delete(j);

    /* 4 -> 6: the same node (the load average, and fields unknown on one
     * side, are no change): a regression, and --fail-on-regression fails. */
    const char *c[] = {"compare", "4", "6", "--fail-on-regression", "--store", db, NULL};
    CHECK_INT(capture(cli_cmd_compare, c, &out), ==, 1);
    CHECK_CONTAINS(out, "x0.80 worse");
    CHECK(!strstr(out, "node changed"));
    free(out);
    const char *d[] = {"compare", "4", "6", "--json", "--store", db, NULL};
    CHECK_INT(capture(cli_cmd_compare, d, &out), ==, 0);
    j = cJSON_Parse(out);
    free(out);
    CHECK(cJSON_IsNull(cJSON_GetObjectItem(j, "node_changed")));
    cJSON_Delete(j);

    /* history: run 5's drop and failure are node changed, not regressions. */
    struct store *s;
    struct err e;
    err_clear(&e);
    CHECK_INT(store_open(db, &s, &e), ==, 0);
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    CHECK_INT(cli_regressions_for_run(s, 5, m), ==, 0);
    fclose(m);
    CHECK_CONTAINS(buf, "node changed (kernel: 6.1.0 -> 6.5.0; python: 3.11.2 -> 3.12.1): run 5 "
                        "flask/json: peak req/s (passing) 1600.00 below");
    CHECK_CONTAINS(buf, "run 5 django/json: status failed (was ok)");
    CHECK(!strstr(buf, "regression"));
    free(buf);
    store_close(s);

    const char *h[] = {"history", "--regressions", "--store", db, NULL};
    CHECK_INT(capture(cli_cmd_history, h, &out), ==, 0);
    CHECK_CONTAINS(out, "node changed (kernel: 6.1.0 -> 6.5.0; python: 3.11.2 -> 3.12.1): run 5 "
                        "flask/json: peak req/s (passing) 1600.00 below");
    CHECK(!strstr(out, "regression: run 5"));
    /* run 6 is judged against runs 5 (node B) and 1..4 (A): still another node */
    CHECK_CONTAINS(out, "node changed (kernel: 6.5.0 -> 6.1.0; python: 3.12.1 -> 3.11.2): run 6 "
                        "flask/json");
    free(out);
    const char *hj[] = {"history", "flask/json", "--json", "--store", db, NULL};
    CHECK_INT(capture(cli_cmd_history, hj, &out), ==, 0);
    j = cJSON_Parse(out);
    free(out);
    cJSON *r5 = cJSON_GetArrayItem(j, 1); /* newest first: run 6, run 5, ... */
    CHECK_DBL(cJSON_GetObjectItem(r5, "run")->valuedouble, ==, 5);
    CHECK_INT(cJSON_GetArraySize(cJSON_GetObjectItem(r5, "regressions")), ==, 0);
    cJSON *moved = cJSON_GetArrayItem(cJSON_GetObjectItem(r5, "node_changed"), 0);
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(moved, "metric")), "peak_rps_passing");
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(moved, "what")), changed);
    cJSON_Delete(j);
}

/* Like with like (issue 21 item 2) and SLO capacity first (issue 19 item 6):
 * a run of profile `profile` with settings line `settings`, one cell
 * flask/json whose closed-loop peak is `peak` and whose SLO capacity is `slo`
 * with band [slo, hi] and limit `limit` ("latency" measured; "max" a lower
 * bound), and a load point at 50% of it with p99 `p99`. */
#define NIGHTLY_SETTINGS                                                                           \
    "phases 30 s (warm-up 5 s), users 25 x2 to 512, timeout 2 s, latency at 50% of slo capacity"
#define QUICK_SETTINGS                                                                             \
    "phases 2 s (warm-up 1 s), users 25 x2 to 50, timeout 2 s, latency at 50% of slo capacity"
static int64_t slo_run(struct store *s, const char *profile, const char *settings, int node,
                       double peak, double slo, double hi, const char *limit, double p99)
{
    struct err e;
    err_clear(&e);
    struct run_record r;
    memset(&r, 0, sizeof(r));
    snprintf(r.started_at, sizeof(r.started_at), "2026-12-02T02:00:00Z");
    snprintf(r.trigger, sizeof(r.trigger), "nightly");
    snprintf(r.profile, sizeof(r.profile), "%s", profile);
    snprintf(r.settings, sizeof(r.settings), "%s", settings);
    if (node)
        node_b(&r);
    else
        node_a(&r);
    if (store_run_begin(s, &r, &e))
        abort();
    struct cell_result c;
    memset(&c, 0, sizeof(c));
    snprintf(c.framework, sizeof(c.framework), "flask");
    snprintf(c.payload, sizeof(c.payload), "json");
    c.capacity_users = c.breaking_users = c.held_users = -1;
    if (store_cell_begin(s, r.id, &c, &e))
        abort();
    ramp(&c, peak, 20);
    for (size_t i = 0; i < c.nphases; i++)
        if (store_phase_add(s, c.id, (int)i, &c.phases[i], &e))
            abort();
    c.status = CELL_OK;
    c.peak_rps_passing = peak;
    c.nslo = 1;
    c.slo[0] = (struct cell_slo){.bound_ms = 25,
                                 .rps = slo,
                                 .bracket_lo = slo,
                                 .bracket_hi = hi,
                                 .probes = 7,
                                 .resolution_pct = 5,
                                 .failures_pct = 0.1};
    snprintf(c.slo[0].limit, sizeof(c.slo[0].limit), "%s", limit);
    c.nload_points = 1;
    c.load_points[0] = (struct load_point){.pct_of_peak = 50,
                                           .offered_rps = slo / 2,
                                           .rps = slo / 2,
                                           .latency_ms = {.p50 = p99 / 5, .p99 = p99},
                                           .of_slo = 1,
                                           .offered = (uint64_t)(slo * 15),
                                           .completed = (uint64_t)(slo * 15)};
    if (store_cell_finish(s, &c, &e) || store_run_finish(s, r.id, "ok", &e))
        abort();
    cell_result_free(&c);
    return r.id;
}

/* The verdict of flask/json in `compare A B --json`, and the mark of metric m. */
static void compare_json(const char *db, int64_t a, int64_t b, const char *m, char *verdict,
                         char *mark, char *reason)
{
    char ia[24], ib[24], *out;
    snprintf(ia, sizeof(ia), "%lld", (long long)a);
    snprintf(ib, sizeof(ib), "%lld", (long long)b);
    const char *x[] = {"compare", ia, ib, "--json", "--store", db, NULL};
    CHECK_INT(capture(cli_cmd_compare, x, &out), ==, 0);
    cJSON *j = cJSON_Parse(out);
    cJSON *cell = find_cell(cJSON_GetObjectItem(j, "cells"), "flask", "json");
    const char *v = cJSON_GetStringValue(cJSON_GetObjectItem(cell, "verdict"));
    const char *r = cJSON_GetStringValue(cJSON_GetObjectItem(cell, "reason"));
    const char *k = cJSON_GetStringValue(
        cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(cell, "metrics"), m), "mark"));
    snprintf(verdict, 64, "%s", v ? v : "?");
    snprintf(mark, 64, "%s", k ? k : "?");
    snprintf(reason, 160, "%s", r ? r : "");
    cJSON_Delete(j);
    free(out);
}

static void test_compare_like(const char *dir)
{
    char db[512], *out, verdict[64], mark[64], reason[160];
    snprintf(db, sizeof(db), "%s/like.db", dir);
    struct store *s;
    struct err e;
    err_clear(&e);
    if (store_open(db, &s, &e))
        abort();
    int64_t nightly = slo_run(s, "nightly", NIGHTLY_SETTINGS, 0, 2000, 1000, 1200, "latency", 5);
    int64_t quick = slo_run(s, "quick", QUICK_SETTINGS, 0, 900, 500, 600, "latency", 9);
    int64_t other = slo_run(s, "nightly", QUICK_SETTINGS, 0, 900, 500, 600, "latency", 9);
    int64_t overlap = slo_run(s, "nightly", NIGHTLY_SETTINGS, 0, 2000, 1150, 1300, "latency", 5);
    int64_t drop = slo_run(s, "nightly", NIGHTLY_SETTINGS, 0, 2000, 700, 735, "latency", 5);
    int64_t bound_lo = slo_run(s, "nightly", NIGHTLY_SETTINGS, 0, 2000, 800, -1, "max", 5);
    int64_t bound_hi = slo_run(s, "nightly", NIGHTLY_SETTINGS, 0, 2000, 2000, -1, "client", 5);
    int64_t moved = slo_run(s, "nightly", NIGHTLY_SETTINGS, 1, 2000, 700, 735, "latency", 5);
    store_close(s);

    /* A quick run against a nightly: not comparable, never a regression. */
    compare_json(db, nightly, quick, "slo_rps", verdict, mark, reason);
    CHECK_STR(verdict, "not comparable");
    CHECK_STR(reason, "settings differ (profile nightly vs quick)");
    CHECK_STR(mark, "not comparable");
    char ia[24], ib[24];
    snprintf(ia, sizeof(ia), "%lld", (long long)nightly);
    snprintf(ib, sizeof(ib), "%lld", (long long)quick);
    const char *q[] = {"compare", ia, ib, "--fail-on-regression", "--store", db, NULL};
    CHECK_INT(capture(cli_cmd_compare, q, &out), ==, 0);
    CHECK_CONTAINS(out, "not comparable: settings differ (profile nightly vs quick)");
    CHECK_CONTAINS(out, "0 better, 0 worse, 0 same, 1 not comparable");
    free(out);
    /* The same profile name with other settings: the first setting that differs. */
    compare_json(db, nightly, other, "slo_rps", verdict, mark, reason);
    CHECK_STR(verdict, "not comparable");
    CHECK_STR(reason, "settings differ (phases 30 s (warm-up 5 s) vs phases 2 s (warm-up 1 s))");

    /* SLO bands that overlap are the same, even 15% apart (beyond --factor: the
     * band is the uncertainty); a clear drop is worse. */
    compare_json(db, nightly, overlap, "slo_rps", verdict, mark, reason);
    CHECK_STR(mark, "same");
    CHECK_STR(verdict, "same");
    compare_json(db, nightly, drop, "slo_rps", verdict, mark, reason);
    CHECK_STR(mark, "worse");
    CHECK_STR(verdict, "worse");
    CHECK_STR(reason, "slo_rps worse");
    /* The latency of a load point at another rate is not judged. */
    compare_json(db, nightly, drop, "p99_a_ms", verdict, mark, reason);
    CHECK_STR(mark, "not comparable");

    /* A lower bound below a measurement is no regression; above it, the
     * bound's side is better; two bounds are not comparable. */
    compare_json(db, nightly, bound_lo, "slo_rps", verdict, mark, reason);
    CHECK_STR(mark, "not comparable");
    CHECK(strcmp(verdict, "worse") != 0);
    snprintf(ib, sizeof(ib), "%lld", (long long)bound_lo);
    const char *lb[] = {"compare", ia, ib, "--fail-on-regression", "--store", db, NULL};
    CHECK_INT(capture(cli_cmd_compare, lb, &out), ==, 0);
    CHECK_CONTAINS(out, "1000 -> >= 800 (max)");
    free(out);
    compare_json(db, nightly, bound_hi, "slo_rps", verdict, mark, reason);
    CHECK_STR(mark, "better");
    compare_json(db, bound_hi, nightly, "slo_rps", verdict, mark, reason);
    CHECK_STR(mark, "worse");
    compare_json(db, bound_lo, bound_hi, "slo_rps", verdict, mark, reason);
    CHECK_STR(mark, "not comparable");

    /* The same settings on another node: node changed, not a regression. */
    compare_json(db, nightly, moved, "slo_rps", verdict, mark, reason);
    CHECK_STR(verdict, "node changed");
    CHECK_STR(mark, "worse");
}

/* history: like with like, SLO capacity first, lower bounds never regressions.
 * Four nightlies near 1000 req/s; a quick run (not comparable, not judged);
 * a nightly after it (judged against the nightlies only: a break, no flag);
 * a lower bound (max) at 600 (no regression); a measured 700 (a regression
 * on slo_rps); a measured 960 whose own band [960, 1100] reaches into the
 * noise band (same). */
static void test_history_like(const char *dir)
{
    char db[512], *out, want[160];
    snprintf(db, sizeof(db), "%s/history-like.db", dir);
    struct store *s;
    struct err e;
    err_clear(&e);
    if (store_open(db, &s, &e))
        abort();
    const double base[4] = {1000, 1010, 990, 1005};
    for (int i = 0; i < 4; i++)
        (void)slo_run(s, "nightly", NIGHTLY_SETTINGS, 0, 2000, base[i], base[i] * 1.05, "latency",
                      5);
    int64_t quick = slo_run(s, "quick", QUICK_SETTINGS, 0, 900, 500, 525, "latency", 9);
    int64_t after = slo_run(s, "nightly", NIGHTLY_SETTINGS, 0, 2000, 1002, 1052, "latency", 5);
    int64_t bound = slo_run(s, "nightly", NIGHTLY_SETTINGS, 0, 2000, 600, -1, "max", 5);
    int64_t drop = slo_run(s, "nightly", NIGHTLY_SETTINGS, 0, 2000, 700, 735, "latency", 5);
    int64_t wide = slo_run(s, "nightly", NIGHTLY_SETTINGS, 0, 2000, 960, 1100, "latency", 5);
    store_close(s);

    const char *r[] = {"history", "--regressions", "--store", db, NULL};
    CHECK_INT(capture(cli_cmd_history, r, &out), ==, 0);
    snprintf(want, sizeof(want), "regression: run %lld flask/json: slo req/s 700.00 below",
             (long long)drop);
    CHECK_CONTAINS(out, want);
    const int64_t clean[] = {quick, after, bound, wide};
    for (int i = 0; i < 4; i++) {
        snprintf(want, sizeof(want), "run %lld flask/json", (long long)clean[i]);
        CHECK(!strstr(out, want));
    }
    free(out);

    const char *j[] = {"history", "--json", "--store", db, NULL};
    CHECK_INT(capture(cli_cmd_history, j, &out), ==, 0);
    cJSON *arr = cJSON_Parse(out);
    free(out);
    cJSON *row;
    cJSON_ArrayForEach(row, arr)
    {
        int64_t run = (int64_t)cJSON_GetObjectItem(row, "run")->valuedouble;
        cJSON *slo = cJSON_GetObjectItem(cJSON_GetObjectItem(row, "figures"), "slo_rps");
        const char *mark = cJSON_GetStringValue(cJSON_GetObjectItem(slo, "mark"));
        const char *nc = cJSON_GetStringValue(cJSON_GetObjectItem(row, "not_comparable"));
        const char *brk = cJSON_GetStringValue(cJSON_GetObjectItem(row, "break"));
        int nregs = cJSON_GetArraySize(cJSON_GetObjectItem(row, "regressions"));
        if (run == quick) {
            CHECK_STR(nc ? nc : "(null)", "settings differ (profile nightly vs quick)");
            CHECK_STR(mark, "not comparable");
            CHECK_INT(nregs, ==, 0);
        } else if (run == after) {
            CHECK(nc == NULL);
            CHECK_STR(brk ? brk : "(null)", "settings differ (profile quick vs nightly)");
            CHECK_STR(mark, "same");
            CHECK_DBL(cJSON_GetObjectItem(row, "comparable_runs")->valuedouble, ==, 4);
        } else if (run == bound) {
            CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(slo, "qualifier")),
                      "lower_bound_max");
            CHECK_STR(mark, "not comparable");
            CHECK_INT(nregs, ==, 0);
        } else if (run == drop) {
            CHECK_STR(mark, "worse");
            CHECK_INT(nregs, ==, 1);
        } else if (run == wide) {
            CHECK_STR(mark, "same");
            CHECK_INT(nregs, ==, 0);
        }
    }
    cJSON_Delete(arr);

    const char *t[] = {"history", "--store", db, NULL};
    CHECK_INT(capture(cli_cmd_history, t, &out), ==, 0);
    CHECK_CONTAINS(out, "not comparable: settings differ (profile nightly vs quick)");
    CHECK_CONTAINS(out, "break: settings differ (profile quick vs nightly)");
    CHECK_CONTAINS(out, ">=600");
    free(out);
}

static void test_empty(const char *dir)
{
    char db[512], out_dir[512], *out;
    snprintf(db, sizeof(db), "%s/empty.db", dir);
    snprintf(out_dir, sizeof(out_dir), "%s/empty-report", dir);
    /* a zero-length file: schema version 0, migrated on open */
    int fd = open(db, O_CREAT | O_WRONLY | O_TRUNC, 0600);
    close(fd);
    const char *a[] = {"history", "--store", db, NULL};
    CHECK_INT(capture(cli_cmd_history, a, &out), ==, 0);
    CHECK_CONTAINS(out, "no stored results");
    free(out);
    const char *a2[] = {"history", "--regressions", "--store", db, NULL};
    CHECK_INT(capture(cli_cmd_history, a2, &out), ==, 0);
    CHECK_CONTAINS(out, "no stored results");
    free(out);
    const char *b[] = {"show", "last", "--store", db, NULL};
    CHECK_INT(capture(cli_cmd_show, b, &out), ==, CLI_FAILED);
    free(out);
    const char *c[] = {"compare", "last", "1", "--store", db, NULL};
    CHECK_INT(capture(cli_cmd_compare, c, &out), ==, CLI_FAILED);
    free(out);
    /* A report of an empty store is a page saying so, not an error. */
    const char *d[] = {"report", "--format", "html", "-o", out_dir, "--store", db, NULL};
    CHECK_INT(capture(cli_cmd_report, d, &out), ==, CLI_OK);
    free(out);
}

/* Slurm runs (issue 23): every run on node A's "cluster" row, each cell on a node of its
 * own whose fingerprint is stored per cell. Run 1: EPYC, 64 CPUs, 2000 req/s; run 2: the
 * same model on another kernel and load (1600 req/s: judged, worse); run 3: another CPU
 * model; run 4: the same model with 32 CPUs. 3 and 4 against 1: not comparable, node
 * changed. */
static void fill_cell_nodes(const char *db)
{
    struct store *s;
    struct err e;
    err_clear(&e);
    if (store_open(db, &s, &e))
        abort();
    static const char *const fp[4] = {
        "{\"cpu_model\":\"EPYC "
        "7763\",\"cpus\":64,\"kernel\":\"6.1.0\",\"governor\":\"performance\","
        "\"python\":\"3.11.2\",\"loadavg\":0.1}",
        "{\"cpu_model\":\"EPYC "
        "7763\",\"cpus\":64,\"kernel\":\"6.5.0\",\"governor\":\"performance\","
        "\"python\":\"3.11.2\",\"loadavg\":2.5}",
        "{\"cpu_model\":\"Xeon "
        "8375C\",\"cpus\":64,\"kernel\":\"6.1.0\",\"governor\":\"performance\","
        "\"python\":\"3.11.2\",\"loadavg\":0.1}",
        "{\"cpu_model\":\"EPYC "
        "7763\",\"cpus\":32,\"kernel\":\"6.1.0\",\"governor\":\"performance\","
        "\"python\":\"3.11.2\",\"loadavg\":0.1}"};
    const double peak[4] = {2000, 1600, 1600, 1600};
    for (int i = 0; i < 4; i++) {
        struct run_record r, back;
        memset(&r, 0, sizeof(r));
        snprintf(r.started_at, sizeof(r.started_at), "2026-12-%02dT02:00:00Z", i + 1);
        snprintf(r.trigger, sizeof(r.trigger), "nightly");
        node_a(&r);
        if (store_run_begin(s, &r, &e))
            abort();
        add_cell(s, r.id, "flask", "json", CELL_OK, NULL, peak[i], 20, 0);
        if (store_load_run(s, r.id, &back, &e) || back.ncells != 1 ||
            store_cell_set_node(s, back.cells[0].id, "n1", 100 + i, &e) ||
            store_cell_set_fingerprint(s, back.cells[0].id, fp[i], &e))
            abort();
        run_record_free(&back);
        if (store_run_finish(s, r.id, "ok", &e))
            abort();
    }
    store_close(s);
}

static void test_cell_node_changed(const char *dir)
{
    char db[512], *out;
    snprintf(db, sizeof(db), "%s/cellnodes.db", dir);
    fill_cell_nodes(db);
    /* The same model, another kernel and load: judged. */
    const char *a[] = {"compare", "1", "2", "--store", db, NULL};
    CHECK_INT(capture(cli_cmd_compare, a, &out), ==, 0);
    CHECK_CONTAINS(out, "x0.80 worse");
    CHECK(!strstr(out, "node changed"));
    free(out);
    /* Another CPU model: not comparable, node changed, nothing judged. */
    const char *b[] = {"compare", "1", "3", "--fail-on-regression", "--store", db, NULL};
    CHECK_INT(capture(cli_cmd_compare, b, &out), ==, 0);
    CHECK_CONTAINS(out, "not comparable: node changed (cpu model: EPYC 7763 -> Xeon 8375C)");
    CHECK_CONTAINS(out, "0 better, 0 worse, 0 same, 1 not comparable");
    free(out);
    const char *c[] = {"compare", "1", "4", "--json", "--store", db, NULL};
    CHECK_INT(capture(cli_cmd_compare, c, &out), ==, 0);
    cJSON *j = cJSON_Parse(out);
    free(out);
    cJSON *fl = find_cell(cJSON_GetObjectItem(j, "cells"), "flask", "json");
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(fl, "verdict")), "not comparable");
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(fl, "reason")),
              "node changed (cpus: 64 -> 32)");
    cJSON *pk = cJSON_GetObjectItem(cJSON_GetObjectItem(fl, "metrics"), "peak_rps_passing");
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(pk, "why")), "node changed");
    cJSON_Delete(j);
    /* show --json: each cell's node carries its own fingerprint. */
    const char *d[] = {"show", "3", "--json", "--store", db, NULL};
    CHECK_INT(capture(cli_cmd_show, d, &out), ==, 0);
    j = cJSON_Parse(out);
    free(out);
    cJSON *c0 = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "cells"), 0);
    cJSON *nfp = cJSON_GetObjectItem(cJSON_GetObjectItem(c0, "node"), "fingerprint");
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(nfp, "cpu_model")), "Xeon 8375C");
    CHECK_DBL(cJSON_GetNumberValue(cJSON_GetObjectItem(nfp, "cpus")), ==, 64);
    cJSON_Delete(j);
}

int main(int argc, char **argv)
{
    if (argc == 3 && !strcmp(argv[1], "--fill")) {
        fill(argv[2]);
        return 0;
    }
    char dir[] = "/tmp/mfbench-review-test-XXXXXX";
    if (!mkdtemp(dir))
        return 1;
    char db[256], rep[256];
    snprintf(db, sizeof(db), "%s/results.db", dir);
    snprintf(rep, sizeof(rep), "%s/report", dir);
    fill(db);
    test_regressions(db);
    test_history(db);
    test_show_md(db);
    test_compare(db);
    test_show_series(db);
    test_report(db, rep);
    test_compare_repeats(dir);
    test_history_held(dir);
    test_node_changed(dir);
    test_cell_node_changed(dir);
    test_compare_like(dir);
    test_history_like(dir);
    test_empty(dir);
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    T_DONE();
}
