/* test_events.c - the event stream of `run --json-events` (exec/events.h): every
 * member of a fully populated phase, series, cell and run survives encode ->
 * decode, compared field by field; malformed, incomplete, over-long and
 * other-version input is refused with its line; a stream replayed into a real
 * store (a mkdtemp folder) loads back exactly as the same results stored
 * directly, and a cut stream never leaves a cell ok. */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <unistd.h>

#include "events.h"
#include "store.h"
#include "t.h"

/* Every member of a phase_result set, each to a value of its own (no zero, no
 * default): a member the codec drops reads back different. */
static void fill_phase(struct phase_result *p, int k)
{
    memset(p, 0, sizeof(*p));
    p->users = 1000 + k;
    p->duration_s = 59.987654321 + k;
    p->requests = (UINT64_C(1) << 60) + 7 + (uint64_t)k; /* past 2^53: written as a string */
    p->failures = 11 + (uint64_t)k;
    for (int i = 0; i < FAIL__COUNT; i++)
        p->failures_by_kind[i] = 100 + (uint64_t)(10 * i + k);
    p->bytes_read = 123456789012ULL + (uint64_t)k;
    p->rps = 2031.4000000000001 + k; /* needs 17 digits */
    p->latency_ms = (struct latency_ms){0.1 + k, 1.0 / 3.0, 2.5e-7, 5.1, 9.0001, 1e300};
    p->offered_rps = 2222.25 + k;
    p->missed_schedule = 3 + (uint64_t)k;
    p->client_cpu_pct = 12.345 + k;
    p->server_rss_max_kb = 30120.5 + k;
    p->server_rss_mean_kb = 30000.25 + k;
    p->server_cpu_pct = 41.5 + k;
    p->server_cpu_max_pct = 99.75 + k;
    p->server_threads_max = 17 + k;
    p->server_fds_max = 33 + k;
    p->load_bound = 1;
    p->client_bound = 1;
    snprintf(p->stop_reason, sizeof p->stop_reason, "p99 \"over\"\n\\%d", k);
    snprintf(p->kind, sizeof p->kind, "bisect%d", k);
    p->repeat = 2 + k;
    p->sampler_cpu_pct = 0.125 + k;
    p->id = 0; /* the store's: never streamed */
    p->in_flight = 4 + (uint64_t)k;
    p->steal_pct = 0.5 + k;
    p->neighbour_cpu_pct = 6.25 + k;
    p->noisy = 1;
    p->offered = 120000 + (uint64_t)k;
    p->sent = 119999 + (uint64_t)k;
    p->completed = 119998 + (uint64_t)k;
    p->unsent_due = 5 + (uint64_t)k;
    p->over_bound = 6 + (uint64_t)k;
    p->bound_ms = 25.5 + k;
    p->seed = UINT64_MAX - 5 - (uint64_t)k; /* 64 bits: a string */
    snprintf(p->arrivals, sizeof p->arrivals, "poisson");
    p->connections_max = 2001 + (uint64_t)k;
    p->connect_failures = 7 + (uint64_t)k;
    p->retries = 8 + (uint64_t)k;
    p->stopped_early = 1;
    p->pct_of = 90.5 + k;
    p->client_steal_pct = 1.75 + k;
    p->client_neighbour_cpu_pct = 2.125 + k;
    p->db_cpu_pct = 91.5 + k;
    p->db_cpu_max_pct = 99.25 + k;
    p->db_rss_max_kb = 123456 + k;
    p->db_bound = 1;
}

#define SAME_F(a, b, f) CHECK_DBL((a)->f, ==, (b)->f)
#define SAME_I(a, b, f) CHECK_INT((a)->f, ==, (b)->f)
#define SAME_U(a, b, f)                                                                            \
    do {                                                                                           \
        t_checks++;                                                                                \
        if ((a)->f != (b)->f)                                                                      \
            T_FAIL("%s: %" PRIu64 " vs %" PRIu64, #f, (uint64_t)(a)->f, (uint64_t)(b)->f);         \
    } while (0)
#define SAME_S(a, b, f) CHECK_STR((a)->f, (b)->f)

static void same_latency(const struct latency_ms *a, const struct latency_ms *b)
{
    SAME_F(a, b, mean);
    SAME_F(a, b, p50);
    SAME_F(a, b, p90);
    SAME_F(a, b, p99);
    SAME_F(a, b, p999);
    SAME_F(a, b, max);
}

/* Field by field, every member but the row id. */
static void same_phase(const struct phase_result *a, const struct phase_result *b)
{
    SAME_I(a, b, users);
    SAME_F(a, b, duration_s);
    SAME_U(a, b, requests);
    SAME_U(a, b, failures);
    for (int i = 0; i < FAIL__COUNT; i++)
        SAME_U(a, b, failures_by_kind[i]);
    SAME_U(a, b, bytes_read);
    SAME_F(a, b, rps);
    same_latency(&a->latency_ms, &b->latency_ms);
    SAME_F(a, b, offered_rps);
    SAME_U(a, b, missed_schedule);
    SAME_F(a, b, client_cpu_pct);
    SAME_F(a, b, server_rss_max_kb);
    SAME_F(a, b, server_rss_mean_kb);
    SAME_F(a, b, server_cpu_pct);
    SAME_F(a, b, server_cpu_max_pct);
    SAME_I(a, b, server_threads_max);
    SAME_I(a, b, server_fds_max);
    SAME_I(a, b, load_bound);
    SAME_I(a, b, client_bound);
    SAME_S(a, b, stop_reason);
    SAME_S(a, b, kind);
    SAME_I(a, b, repeat);
    SAME_F(a, b, sampler_cpu_pct);
    SAME_U(a, b, in_flight);
    SAME_F(a, b, steal_pct);
    SAME_F(a, b, neighbour_cpu_pct);
    SAME_I(a, b, noisy);
    SAME_U(a, b, offered);
    SAME_U(a, b, sent);
    SAME_U(a, b, completed);
    SAME_U(a, b, unsent_due);
    SAME_U(a, b, over_bound);
    SAME_F(a, b, bound_ms);
    SAME_U(a, b, seed);
    SAME_S(a, b, arrivals);
    SAME_U(a, b, connections_max);
    SAME_U(a, b, connect_failures);
    SAME_U(a, b, retries);
    SAME_I(a, b, stopped_early);
    SAME_F(a, b, pct_of);
    SAME_F(a, b, client_steal_pct);
    SAME_F(a, b, client_neighbour_cpu_pct);
    SAME_F(a, b, db_cpu_pct);
    SAME_F(a, b, db_cpu_max_pct);
    SAME_F(a, b, db_rss_max_kb);
    SAME_I(a, b, db_bound);
}

static void fill_cell(struct cell_result *c, struct phase_result *ph, size_t nph)
{
    memset(c, 0, sizeof(*c));
    snprintf(c->framework, sizeof c->framework, "flask");
    snprintf(c->payload, sizeof c->payload, "json");
    c->status = CELL_FAILED;
    c->error = strdup("the server failed already at 10 users (\"reset\")\n\ttab \xc3\xa9");
    c->versions_json = strdup("{\"python\":\"3.11.2\",\"flask\":\"2.2.2\"}");
    c->capacity_users = 1500;
    c->breaking_users = 2000;
    c->peak_rps = 2031.4000000000001;
    c->phases = ph;
    c->nphases = c->phases_cap = nph;
    c->repeats = 3;
    c->capacity_median = 1500.5;
    c->capacity_iqr = 250.25;
    c->capacity_min = 1000.125;
    c->capacity_max = 2000.0625;
    c->peak_rps_median = 2000.5;
    c->peak_rps_iqr = 12.75;
    c->peak_rps_min = 1990.25;
    c->peak_rps_max = 2031.4000000000001;
    c->peak_rps_spread = 0.0205;
    c->peak_rps_load_bound = 1;
    snprintf(c->note, sizeof c->note, "client bound at 2000 users");
    for (int i = 0; i < 3; i++) {
        struct load_point *lp = &c->load_points[i];
        lp->pct_of_peak = 50 + 20 * i;
        lp->offered_rps = 1000.5 + i;
        lp->rps = 999.25 + i;
        lp->latency_ms = (struct latency_ms){1.5 + i, 1.25, 2.5, 3.75, 4.125, 9.5 + i};
        lp->failures = 2 + (uint64_t)i;
        lp->of_slo = 1;
        lp->offered = 30000 + (uint64_t)i;
        lp->completed = 29999 + (uint64_t)i;
        lp->in_flight = 1 + (uint64_t)i;
    }
    c->nload_points = 3;
    c->held_users = 4321;
    snprintf(c->held_limit, sizeof c->held_limit, "client:ports");
    snprintf(c->held_setting, sizeof c->held_setting, "waitress connection_limit 100");
    for (int i = 0; i < 2; i++) {
        struct cell_slo *s = &c->slo[i];
        s->bound_ms = 25 + 75 * i;
        s->rps = 1234.5 + i;
        s->bracket_lo = 1234.5 + i;
        s->bracket_hi = 1296.2 + i;
        snprintf(s->limit, sizeof s->limit, i ? "max" : "latency");
        s->latency_ms = (struct latency_ms){0.5, 0.75 + i, 1.5, 24.5, 30.25, 41.0625};
        s->probes = 7 + i;
        s->resolution_pct = 5.5;
        s->failures_pct = 0.1;
    }
    c->nslo = 2;
    c->peak_rps_passing = 2001.75;
}

/* The cell's own figures (its phases compared apart). */
static void same_cell(const struct cell_result *a, const struct cell_result *b)
{
    SAME_S(a, b, framework);
    SAME_S(a, b, payload);
    SAME_I(a, b, status);
    CHECK(!a->error == !b->error);
    if (a->error && b->error)
        SAME_S(a, b, error);
    CHECK(!a->versions_json == !b->versions_json);
    if (a->versions_json && b->versions_json)
        SAME_S(a, b, versions_json);
    SAME_I(a, b, capacity_users);
    SAME_I(a, b, breaking_users);
    SAME_F(a, b, peak_rps);
    SAME_I(a, b, repeats);
    SAME_F(a, b, capacity_median);
    SAME_F(a, b, capacity_iqr);
    SAME_F(a, b, capacity_min);
    SAME_F(a, b, capacity_max);
    SAME_F(a, b, peak_rps_median);
    SAME_F(a, b, peak_rps_iqr);
    SAME_F(a, b, peak_rps_min);
    SAME_F(a, b, peak_rps_max);
    SAME_F(a, b, peak_rps_spread);
    SAME_I(a, b, peak_rps_load_bound);
    SAME_S(a, b, note);
    SAME_I(a, b, nload_points);
    for (int i = 0; i < a->nload_points && i < b->nload_points; i++) {
        const struct load_point *x = &a->load_points[i], *y = &b->load_points[i];
        SAME_F(x, y, pct_of_peak);
        SAME_F(x, y, offered_rps);
        SAME_F(x, y, rps);
        same_latency(&x->latency_ms, &y->latency_ms);
        SAME_U(x, y, failures);
        SAME_I(x, y, of_slo);
        SAME_U(x, y, offered);
        SAME_U(x, y, completed);
        SAME_U(x, y, in_flight);
    }
    SAME_I(a, b, held_users);
    SAME_S(a, b, held_limit);
    SAME_S(a, b, held_setting);
    SAME_I(a, b, nslo);
    for (int i = 0; i < a->nslo && i < b->nslo; i++) {
        const struct cell_slo *x = &a->slo[i], *y = &b->slo[i];
        SAME_F(x, y, bound_ms);
        SAME_F(x, y, rps);
        SAME_F(x, y, bracket_lo);
        SAME_F(x, y, bracket_hi);
        SAME_S(x, y, limit);
        same_latency(&x->latency_ms, &y->latency_ms);
        SAME_I(x, y, probes);
        SAME_F(x, y, resolution_pct);
        SAME_F(x, y, failures_pct);
    }
    SAME_F(a, b, peak_rps_passing);
}

static void fill_run(struct run_record *r)
{
    memset(r, 0, sizeof(*r));
    snprintf(r->started_at, sizeof r->started_at, "2026-11-28T02:00:00Z");
    snprintf(r->trigger, sizeof r->trigger, "nightly");
    snprintf(r->profile, sizeof r->profile, "quick");
    memset(r->matrix_sha256, 'a', 64);
    snprintf(r->node_host, sizeof r->node_host, "node-7.example");
    snprintf(r->node_cpus, sizeof r->node_cpus, "1");
    snprintf(r->node_kernel, sizeof r->node_kernel, "6.1.0-13-amd64");
    snprintf(r->node_cpu_model, sizeof r->node_cpu_model, "AMD EPYC 7B13");
    r->node_cpu_count = 4;
    snprintf(r->node_governor, sizeof r->node_governor, "performance");
    snprintf(r->node_python, sizeof r->node_python, "3.11.2");
    r->node_loadavg = 0.37;
    snprintf(r->settings, sizeof r->settings, "phases 3s (warm-up 1s), users 10 +10 to 50");
}

static void same_run(const struct run_record *a, const struct run_record *b)
{
    SAME_S(a, b, started_at);
    SAME_S(a, b, trigger);
    SAME_S(a, b, profile);
    SAME_S(a, b, matrix_sha256);
    SAME_S(a, b, node_host);
    SAME_S(a, b, node_cpus);
    SAME_S(a, b, node_kernel);
    SAME_S(a, b, node_cpu_model);
    SAME_I(a, b, node_cpu_count);
    SAME_S(a, b, node_governor);
    SAME_S(a, b, node_python);
    SAME_F(a, b, node_loadavg);
    SAME_S(a, b, settings);
}

static const struct store_series_point series3[3] = {{0.999, 10, 1000, 0, 1.25, 3.5},
                                                     {2.0, 20, 2000, 1, -1, -1},
                                                     {3.0000001, 30, 2999, 2, 0.1, 0.3}};

static char *enc(const struct exec_event *ev)
{
    char *line = NULL;
    CHECK_INT(exec_events_encode(ev, &line), ==, 0);
    CHECK(line != NULL);
    CHECK(!line || !strchr(line, '\n'));
    return line;
}

static char *phase_end_line(const struct phase_result *p, int seq, const char *fw, const char *pl)
{
    struct exec_event ev = {.kind = EXEC_EV_PHASE_END,
                            .framework = fw,
                            .payload = pl,
                            .users = p->users,
                            .seq = seq,
                            .phase = p,
                            .series = series3,
                            .nseries = 3};
    return enc(&ev);
}

static int decode(const char *line, long lineno, struct exec_events_msg *m, struct err *e)
{
    err_clear(e);
    return exec_events_decode(line, strlen(line), "ev.jsonl", lineno, m, e);
}

static void test_round_trip(void)
{
    struct phase_result p;
    fill_phase(&p, 1);
    char *line = phase_end_line(&p, 4, "flask", "json");
    struct exec_events_msg m;
    struct err e;
    CHECK_INT(decode(line, 3, &m, &e), ==, 0);
    CHECK_INT(m.kind, ==, EXEC_EVS_PHASE_END);
    CHECK_STR(m.framework, "flask");
    CHECK_STR(m.payload, "json");
    CHECK_INT(m.seq, ==, 4);
    same_phase(&p, &m.phase);
    CHECK_INT(m.phase.id, ==, 0);
    CHECK_INT(m.nseries, ==, 3);
    for (size_t i = 0; i < 3 && i < m.nseries; i++) {
        SAME_F(&series3[i], &m.series[i], t_s);
        SAME_I(&series3[i], &m.series[i], users);
        SAME_U(&series3[i], &m.series[i], requests);
        SAME_U(&series3[i], &m.series[i], failures);
        SAME_F(&series3[i], &m.series[i], p50_ms);
        SAME_F(&series3[i], &m.series[i], p99_ms);
    }
    exec_events_msg_free(&m);
    free(line);

    /* Unknown phase (-1) and non-finite figures: -1 stays -1, NaN is null is NaN. */
    fill_phase(&p, 2);
    p.server_rss_max_kb = -1;
    p.server_threads_max = -1;
    p.latency_ms.p999 = NAN;
    p.requests = 0;
    line = phase_end_line(&p, 0, "flask", "json");
    CHECK_CONTAINS(line, "\"p999\":null");
    CHECK_INT(decode(line, 1, &m, &e), ==, 0);
    CHECK_DBL(m.phase.server_rss_max_kb, ==, -1);
    CHECK_INT(m.phase.server_threads_max, ==, -1);
    CHECK(isnan(m.phase.latency_ms.p999));
    CHECK_INT(m.phase.requests, ==, 0);
    exec_events_msg_free(&m);
    free(line);

    /* The cell: every figure; its phases only as their count. */
    struct phase_result phs[2];
    fill_phase(&phs[0], 0);
    fill_phase(&phs[1], 1);
    struct cell_result c;
    fill_cell(&c, phs, 2);
    struct exec_event ev = {
        .kind = EXEC_EV_CELL_END, .framework = "flask", .payload = "json", .cell = &c};
    line = enc(&ev);
    CHECK_INT(decode(line, 9, &m, &e), ==, 0);
    CHECK_INT(m.kind, ==, EXEC_EVS_CELL_END);
    CHECK_INT(m.nphases, ==, 2);
    same_cell(&c, &m.cell);
    CHECK(m.cell.phases == NULL);
    exec_events_msg_free(&m);
    free(line);
    /* Versions that are not a JSON object travel as their text; none is null. */
    free(c.versions_json);
    c.versions_json = strdup("not json {");
    free(c.error);
    c.error = NULL;
    c.status = CELL_OK;
    line = enc(&ev);
    CHECK_INT(decode(line, 9, &m, &e), ==, 0);
    same_cell(&c, &m.cell);
    exec_events_msg_free(&m);
    free(line);
    c.phases = NULL;
    cell_result_free(&c);

    /* run_start and run_end. */
    struct run_record r;
    fill_run(&r);
    CHECK_INT(exec_events_run_start(&r, &line), ==, 0);
    CHECK_CONTAINS(line, "{\"event\":\"run_start\",\"version\":1,");
    CHECK_INT(decode(line, 1, &m, &e), ==, 0);
    CHECK_INT(m.kind, ==, EXEC_EVS_RUN_START);
    same_run(&r, &m.run);
    exec_events_msg_free(&m);
    free(line);
    CHECK_INT(exec_events_run_end("failed", &line), ==, 0);
    CHECK_INT(decode(line, 1, &m, &e), ==, 0);
    CHECK_INT(m.kind, ==, EXEC_EVS_RUN_END);
    CHECK_STR(m.status, "failed");
    exec_events_msg_free(&m);
    free(line);

    /* log, cell_start, phase_start; progress is not streamed. */
    struct exec_event lg = {.kind = EXEC_EV_LOG, .level = 4, .message = "nofile \"clamped\""};
    line = enc(&lg);
    CHECK_INT(decode(line, 1, &m, &e), ==, 0);
    CHECK_INT(m.kind, ==, EXEC_EVS_LOG);
    CHECK_INT(m.level, ==, 4);
    CHECK_STR(m.message, "nofile \"clamped\"");
    CHECK_STR(m.framework, "");
    exec_events_msg_free(&m);
    free(line);
    struct exec_event ps = {.kind = EXEC_EV_PHASE_START,
                            .framework = "flask",
                            .payload = "json",
                            .users = 77,
                            .seq = 3,
                            .phase_duration_s = 2.5};
    line = enc(&ps);
    CHECK_INT(decode(line, 1, &m, &e), ==, 0);
    CHECK_INT(m.kind, ==, EXEC_EVS_PHASE_START);
    CHECK_INT(m.users, ==, 77);
    CHECK_INT(m.seq, ==, 3);
    CHECK_DBL(m.duration_s, ==, 2.5);
    exec_events_msg_free(&m);
    free(line);
    struct exec_event pr = {.kind = EXEC_EV_PROGRESS};
    line = (char *)"x";
    CHECK_INT(exec_events_encode(&pr, &line), ==, 0);
    CHECK(line == NULL);
}

/* line with the first `from` replaced by `to` (caller frees). */
static char *edit(const char *line, const char *from, const char *to)
{
    const char *at = strstr(line, from);
    CHECK(at != NULL);
    if (!at)
        return strdup(line);
    size_t n = strlen(line) - strlen(from) + strlen(to) + 1;
    char *s = malloc(n);
    snprintf(s, n, "%.*s%s%s", (int)(at - line), line, to, at + strlen(from));
    return s;
}

static void expect_bad(const char *line, long lineno, const char *msg)
{
    struct exec_events_msg m;
    struct err e;
    CHECK_INT(decode(line, lineno, &m, &e), ==, -EINVAL);
    CHECK_INT(e.line, ==, lineno);
    CHECK_STR(e.file, "ev.jsonl");
    CHECK_CONTAINS(e.msg, msg);
    exec_events_msg_free(&m);
}

static void test_refused(void)
{
    struct phase_result p;
    fill_phase(&p, 0);
    char *line = phase_end_line(&p, 0, "flask", "json");
    char *bad;
    expect_bad("{\"event\":\"phase_end\",", 7, "bad JSON");
    expect_bad("[1,2]", 8, "not a JSON object");
    expect_bad("{\"event\":\"log\"} {}", 8, "more after the JSON object");
    expect_bad("{\"level\":3}", 9, "no \"event\"");
    bad = edit(line, "\"rps\":", "\"rpx\":");
    expect_bad(bad, 10, "missing phase.rps");
    free(bad);
    bad = edit(line, "\"p99\":", "\"p98\":");
    expect_bad(bad, 10, "missing phase.latency_ms.p99");
    free(bad);
    bad = edit(line, "\"kind\":\"bisect0\"", "\"kind\":5");
    expect_bad(bad, 11, "phase.kind: not a string");
    free(bad);
    bad = edit(line, "\"users\":1000", "\"users\":10.5");
    expect_bad(bad, 11, "phase.users: not an integer");
    free(bad);
    bad = edit(line, "\"kind\":\"bisect0\"", "\"kind\":\"a kind far too long to fit\"");
    expect_bad(bad, 12, "phase.kind: longer than 15 bytes");
    free(bad);
    bad = edit(line, "\"retries\":8", "\"retries\":-8");
    expect_bad(bad, 13, "phase.retries: not a count");
    free(bad);
    bad = edit(line, "\"seq\":0", "\"seq\":\"0\"");
    expect_bad(bad, 14, "seq: not an integer");
    free(bad);
    bad = edit(line, "\"framework\":\"flask\",", "");
    expect_bad(bad, 15, "missing framework");
    free(bad);

    /* Unknown members and events: ignored (a newer writer). */
    struct exec_events_msg m;
    struct err e;
    bad = edit(line, "\"phase\":{", "\"later\":[1,{\"x\":null}],\"phase\":{\"also\":\"new\",");
    CHECK_INT(decode(bad, 1, &m, &e), ==, 0);
    same_phase(&p, &m.phase);
    exec_events_msg_free(&m);
    free(bad);
    CHECK_INT(decode("{\"event\":\"heartbeat\",\"t\":1}", 1, &m, &e), ==, 0);
    CHECK_INT(m.kind, ==, EXEC_EVS_OTHER);
    exec_events_msg_free(&m);
    free(line);

    /* Another version. */
    struct run_record r;
    fill_run(&r);
    CHECK_INT(exec_events_run_start(&r, &line), ==, 0);
    bad = edit(line, "\"version\":1", "\"version\":2");
    expect_bad(bad, 1, "event stream version 2 is not supported (this mfbench reads 1)");
    free(bad);
    bad = edit(line, "\"version\":1,", "");
    expect_bad(bad, 1, "missing version");
    free(bad);
    free(line);

    /* A line over the bound, by length alone. */
    size_t n = EXEC_EVENTS_LINE_MAX + 1;
    char *huge = malloc(n + 1);
    memset(huge, ' ', n);
    huge[0] = '{';
    huge[n - 1] = '}';
    huge[n] = '\0';
    CHECK_INT(exec_events_decode(huge, n, "ev.jsonl", 42, &m, &e), ==, -EINVAL);
    CHECK_INT(e.line, ==, 42);
    CHECK_CONTAINS(e.msg, "line longer than");
    exec_events_msg_free(&m);
    free(huge);
}

/* ---- replaying into a real store ---- */

static char tmpdir[256];

static struct store *open_store(const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    struct store *s = NULL;
    struct err e;
    err_clear(&e);
    CHECK_INT(store_open(path, &s, &e), ==, 0);
    return s;
}

/* The lines of a whole run: two cells, the first with two phases. */
struct stream {
    char *lines[16];
    size_t n;
    struct phase_result ph[2];
    struct cell_result cell[2];
    struct run_record run;
};

static void stream_build(struct stream *s)
{
    memset(s, 0, sizeof(*s));
    fill_run(&s->run);
    fill_phase(&s->ph[0], 0);
    fill_phase(&s->ph[1], 1);
    s->ph[0].requests = 30000; /* the store keeps 63 bits */
    s->ph[1].requests = 31000;
    s->ph[0].seed = 1234567;
    s->ph[1].seed = INT64_MAX - 3;
    fill_cell(&s->cell[0], s->ph, 2);
    fill_cell(&s->cell[1], NULL, 0);
    snprintf(s->cell[1].framework, sizeof s->cell[1].framework, "tornado");
    s->cell[1].status = CELL_OK;
    free(s->cell[1].error);
    s->cell[1].error = NULL;
    CHECK_INT(exec_events_run_start(&s->run, &s->lines[s->n++]), ==, 0);
    struct exec_event ev = {.kind = EXEC_EV_LOG, .level = 6, .message = "targets unchanged"};
    s->lines[s->n++] = enc(&ev);
    for (int c = 0; c < 2; c++) {
        const char *fw = s->cell[c].framework, *pl = s->cell[c].payload;
        ev = (struct exec_event){.kind = EXEC_EV_CELL_START, .framework = fw, .payload = pl};
        s->lines[s->n++] = enc(&ev);
        for (size_t i = 0; i < s->cell[c].nphases; i++) {
            ev = (struct exec_event){.kind = EXEC_EV_PHASE_START,
                                     .framework = fw,
                                     .payload = pl,
                                     .users = s->ph[i].users,
                                     .seq = (int)i,
                                     .phase_duration_s = 2};
            s->lines[s->n++] = enc(&ev);
            s->lines[s->n++] = phase_end_line(&s->ph[i], (int)i, fw, pl);
        }
        ev = (struct exec_event){
            .kind = EXEC_EV_CELL_END, .framework = fw, .payload = pl, .cell = &s->cell[c]};
        s->lines[s->n++] = enc(&ev);
    }
    CHECK_INT(exec_events_run_end("failed", &s->lines[s->n++]), ==, 0);
}

static void stream_free(struct stream *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->lines[i]);
    for (int c = 0; c < 2; c++) {
        s->cell[c].phases = NULL;
        cell_result_free(&s->cell[c]);
    }
}

/* The first n lines of s (with line `bad` replaced by text when bad > 0), as a FILE. */
static FILE *stream_file(const struct stream *s, size_t n, size_t bad, const char *text)
{
    FILE *f = tmpfile();
    for (size_t i = 0; i < n && i < s->n; i++)
        fprintf(f, "%s\n", i + 1 == bad ? text : s->lines[i]);
    rewind(f);
    return f;
}

/* The same results stored directly, as a local run stores them. */
static int64_t store_directly(struct store *st, struct stream *s)
{
    struct err e;
    err_clear(&e);
    struct run_record r = s->run;
    r.cells = NULL;
    CHECK_INT(store_run_begin(st, &r, &e), ==, 0);
    for (int c = 0; c < 2; c++) {
        struct cell_result cell = s->cell[c];
        CHECK_INT(store_cell_begin(st, r.id, &cell, &e), ==, 0);
        for (size_t i = 0; i < cell.nphases; i++) {
            int64_t id = 0;
            CHECK_INT(store_phase_add_id(st, cell.id, (int)i, &s->ph[i], &id, &e), ==, 0);
            CHECK_INT(store_phase_series_add(st, id, series3, 3, &e), ==, 0);
        }
        cell.status = s->cell[c].status;
        CHECK_INT(store_cell_finish(st, &cell, &e), ==, 0);
    }
    CHECK_INT(store_run_finish(st, r.id, "failed", &e), ==, 0);
    return r.id;
}

static void same_series(struct store *st, int64_t a, int64_t b)
{
    struct store_series_point *pa = NULL, *pb = NULL;
    size_t na = 0, nb = 0;
    struct err e;
    err_clear(&e);
    CHECK_INT(store_phase_series_load(st, a, &pa, &na, &e), ==, 0);
    CHECK_INT(store_phase_series_load(st, b, &pb, &nb, &e), ==, 0);
    CHECK_INT(na, ==, nb);
    CHECK_INT(na, ==, 3);
    for (size_t i = 0; i < na && i < nb; i++) {
        SAME_F(&pa[i], &pb[i], t_s);
        SAME_I(&pa[i], &pb[i], users);
        SAME_U(&pa[i], &pb[i], requests);
        SAME_U(&pa[i], &pb[i], failures);
        SAME_F(&pa[i], &pb[i], p50_ms);
        SAME_F(&pa[i], &pb[i], p99_ms);
    }
    free(pa);
    free(pb);
}

static void test_replay_whole(void)
{
    struct stream s;
    stream_build(&s);
    struct store *st = open_store("whole.db");
    int64_t direct = store_directly(st, &s);

    struct exec_replay *r = NULL;
    struct err e;
    err_clear(&e);
    CHECK_INT(exec_replay_new(st, 0, "ev.jsonl", &r, &e), ==, 0);
    FILE *f = stream_file(&s, s.n, 0, NULL);
    CHECK_INT(exec_replay_stream(r, f, &e), ==, 0);
    fclose(f);
    CHECK_INT(exec_replay_lineno(r), ==, s.n);
    int64_t replayed = exec_replay_run(r)->id;
    CHECK(replayed > 0 && replayed != direct);
    CHECK_STR(exec_replay_run(r)->status, "failed");
    exec_replay_free(r);

    struct run_record a, b;
    CHECK_INT(store_load_run(st, direct, &a, &e), ==, 0);
    CHECK_INT(store_load_run(st, replayed, &b, &e), ==, 0);
    same_run(&a, &b);
    same_run(&s.run, &b);
    CHECK_STR(b.status, "failed");
    CHECK_INT(a.ncells, ==, 2);
    CHECK_INT(b.ncells, ==, a.ncells);
    for (size_t c = 0; c < a.ncells && c < b.ncells; c++) {
        same_cell(&a.cells[c], &b.cells[c]);
        same_cell(&s.cell[c], &b.cells[c]);
        CHECK_INT(b.cells[c].nphases, ==, a.cells[c].nphases);
        for (size_t i = 0; i < a.cells[c].nphases && i < b.cells[c].nphases; i++) {
            same_phase(&a.cells[c].phases[i], &b.cells[c].phases[i]);
            same_phase(&s.ph[i], &b.cells[c].phases[i]);
            same_series(st, a.cells[c].phases[i].id, b.cells[c].phases[i].id);
        }
    }
    run_record_free(&a);
    run_record_free(&b);

    /* Into a run the caller owns: the cells go there, the run stays its own. */
    struct run_record own = s.run;
    own.cells = NULL;
    CHECK_INT(store_run_begin(st, &own, &e), ==, 0);
    CHECK_INT(exec_replay_new(st, own.id, "ev.jsonl", &r, &e), ==, 0);
    f = stream_file(&s, s.n, 0, NULL);
    CHECK_INT(exec_replay_stream(r, f, &e), ==, 0);
    fclose(f);
    CHECK_INT(exec_replay_run(r)->id, ==, own.id);
    exec_replay_free(r);
    CHECK_INT(store_load_run(st, own.id, &b, &e), ==, 0);
    CHECK_STR(b.status, "running"); /* the caller finishes it */
    CHECK_INT(b.ncells, ==, 2);
    run_record_free(&b);
    CHECK_INT(store_run_finish(st, own.id, "ok", &e), ==, 0);
    store_close(st);
    stream_free(&s);
}

/* Replays the first n lines (line bad replaced by text) into a fresh store;
 * returns the replay's result, the loaded run in *out. */
static int replay_cut(const char *db, struct stream *s, size_t n, size_t bad, const char *text,
                      struct run_record *out, struct err *e)
{
    struct store *st = open_store(db);
    struct exec_replay *r = NULL;
    err_clear(e);
    CHECK_INT(exec_replay_new(st, 0, "ev.jsonl", &r, e), ==, 0);
    FILE *f = stream_file(s, n, bad, text);
    int rc = exec_replay_stream(r, f, e);
    fclose(f);
    int64_t id = exec_replay_run(r)->id;
    exec_replay_free(r);
    memset(out, 0, sizeof(*out));
    struct err le;
    err_clear(&le);
    if (id > 0)
        CHECK_INT(store_load_run(st, id, out, &le), ==, 0);
    store_close(st);
    return rc;
}

static void test_replay_cut(void)
{
    struct stream s;
    stream_build(&s);
    struct run_record r;
    struct err e;
    /* Lines: 1 run_start, 2 log, 3 cell_start, 4 phase_start, 5 phase_end,
     * 6 phase_start, 7 phase_end, 8 cell_end, 9 cell_start, 10 cell_end, 11 run_end. */
    CHECK_INT(s.n, ==, 11);

    /* Cut after the first phase: no cell_end, no run_end. */
    CHECK_INT(replay_cut("cut.db", &s, 5, 0, NULL, &r, &e), ==, -EPROTO);
    CHECK_CONTAINS(e.msg, "ended at line 5 without run_end");
    CHECK_STR(r.status, "interrupted");
    CHECK_INT(r.ncells, ==, 1);
    if (r.ncells == 1) {
        CHECK_INT(r.cells[0].status, ==, CELL_ERROR);
        CHECK_INT(r.cells[0].nphases, ==, 1);
        CHECK_CONTAINS(r.cells[0].error, "ended at line 5 before the cell's end");
        if (r.cells[0].nphases == 1)
            same_phase(&s.ph[0], &r.cells[0].phases[0]);
    }
    run_record_free(&r);

    /* Cells whole, run_end missing: the cells as they ended, the run interrupted. */
    CHECK_INT(replay_cut("norunend.db", &s, 10, 0, NULL, &r, &e), ==, -EPROTO);
    CHECK_STR(r.status, "interrupted");
    CHECK_INT(r.ncells, ==, 2);
    run_record_free(&r);

    /* A malformed line inside a cell: refused with its line, the cell error. */
    CHECK_INT(replay_cut("bad.db", &s, s.n, 7, "{\"event\":\"phase_end\",\"framework\"", &r, &e),
              ==, -EINVAL);
    CHECK_INT(e.line, ==, 7);
    CHECK_STR(e.file, "ev.jsonl");
    CHECK_INT(r.ncells, ==, 1);
    if (r.ncells == 1) {
        CHECK_INT(r.cells[0].status, ==, CELL_ERROR);
        CHECK_CONTAINS(r.cells[0].error, "ev.jsonl:7:");
    }
    CHECK_STR(r.status, "interrupted");
    run_record_free(&r);

    /* A lost phase line: seq out of order. */
    CHECK_INT(replay_cut("gap.db", &s, s.n, 5,
                         "{\"event\":\"log\",\"level\":6,\"framework\":null,"
                         "\"payload\":null,\"message\":\"x\"}",
                         &r, &e),
              ==, -EINVAL);
    CHECK_INT(e.line, ==, 7);
    CHECK_CONTAINS(e.msg, "seq 1 of flask/json, expected 0");
    run_record_free(&r);

    /* A cell_end that counts more phases than came (line 5 dropped as a log). */
    CHECK_INT(replay_cut("count.db", &s, 8, 7,
                         "{\"event\":\"log\",\"level\":6,\"framework\":null,"
                         "\"payload\":null,\"message\":\"x\"}",
                         &r, &e),
              ==, -EINVAL);
    CHECK_INT(e.line, ==, 8);
    CHECK_CONTAINS(e.msg, "counts 2 phases, 1 came");
    CHECK(r.ncells == 1 && r.cells[0].status == CELL_ERROR);
    run_record_free(&r);

    /* Not opened by run_start: nothing stored. */
    CHECK_INT(replay_cut("nostart.db", &s, s.n, 1, s.lines[1], &r, &e), ==, -EINVAL);
    CHECK_INT(e.line, ==, 1);
    CHECK_CONTAINS(e.msg, "must open with run_start");
    CHECK_INT(r.ncells, ==, 0);
    run_record_free(&r);

    /* Another version: refused at line 1. */
    char *v2 = edit(s.lines[0], "\"version\":1", "\"version\":9");
    CHECK_INT(replay_cut("v2.db", &s, s.n, 1, v2, &r, &e), ==, -EINVAL);
    CHECK_INT(e.line, ==, 1);
    CHECK_CONTAINS(e.msg, "version 9 is not supported");
    run_record_free(&r);
    free(v2);

    /* A NUL byte inside a line: refused, not cut there. */
    {
        struct store *st = open_store("nul.db");
        struct exec_replay *rp = NULL;
        FILE *f = tmpfile();
        fprintf(f, "%s\n", s.lines[0]);
        static const char nul[] = "{\"event\":\"heartbeat\"}\0{\"x\":1}\n";
        CHECK_INT(fwrite(nul, 1, sizeof nul - 1, f), ==, sizeof nul - 1);
        rewind(f);
        err_clear(&e);
        CHECK_INT(exec_replay_new(st, 0, "ev.jsonl", &rp, &e), ==, 0);
        CHECK_INT(exec_replay_stream(rp, f, &e), ==, -EINVAL);
        CHECK_INT(e.line, ==, 2);
        CHECK_CONTAINS(e.msg, "a NUL byte");
        exec_replay_free(rp);
        fclose(f);
        store_close(st);
    }

    /* An empty stream. */
    CHECK_INT(replay_cut("empty.db", &s, 0, 0, NULL, &r, &e), ==, -EPROTO);
    CHECK_CONTAINS(e.msg, "no run_start");
    run_record_free(&r);

    /* A huge line (past EXEC_EVENTS_LINE_MAX) inside a cell: refused by its
     * number without reading it whole into memory; the cell error. */
    char *huge = malloc(EXEC_EVENTS_LINE_MAX + 100);
    memset(huge, 'x', EXEC_EVENTS_LINE_MAX + 99);
    huge[EXEC_EVENTS_LINE_MAX + 99] = '\0';
    CHECK_INT(replay_cut("huge.db", &s, s.n, 4, huge, &r, &e), ==, -EINVAL);
    CHECK_INT(e.line, ==, 4);
    CHECK_CONTAINS(e.msg, "line longer than");
    CHECK(r.ncells == 1 && r.cells[0].status == CELL_ERROR);
    run_record_free(&r);
    free(huge);
    stream_free(&s);
}

/* The line a phase with a series too long for a reader is written as. */
static void test_series_dropped(void)
{
    struct phase_result p;
    fill_phase(&p, 0);
    size_t n = EXEC_EVENTS_LINE_MAX / 40;
    struct store_series_point *pts = calloc(n, sizeof(*pts));
    for (size_t i = 0; i < n; i++)
        pts[i] = series3[i % 3];
    struct exec_event ev = {.kind = EXEC_EV_PHASE_END,
                            .framework = "flask",
                            .payload = "json",
                            .seq = 0,
                            .phase = &p,
                            .series = pts,
                            .nseries = n};
    char *line = enc(&ev);
    CHECK(line && strlen(line) <= EXEC_EVENTS_LINE_MAX);
    CHECK_CONTAINS(line, "\"series_dropped\":");
    struct exec_events_msg m;
    struct err e;
    CHECK_INT(decode(line, 1, &m, &e), ==, 0);
    same_phase(&p, &m.phase);
    CHECK_INT(m.nseries, ==, 0);
    exec_events_msg_free(&m);
    free(line);
    free(pts);
}

static void rm_tmpdir(void)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", tmpdir);
}

int main(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/mfbench-events.XXXXXX");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    test_round_trip();
    test_refused();
    test_replay_whole();
    test_replay_cut();
    test_series_dropped();
    rm_tmpdir();
    T_DONE();
}
