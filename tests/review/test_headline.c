/* test_headline.c - unit tests of cli/headline.c against known values: the
 * peak as the median over repeats (odd and even counts) with its spread,
 * bisection probes and failing phases counted as the search counts them, the
 * phase of the peak (RSS, CPU, marks), latency at 50% and 90% of peak from the
 * load points with the marks of their phases, held users, versions, and cells
 * without a measured phase. */
#include <math.h>
#include <string.h>

#include "cli.h"
#include "headline.h"
#include "t.h"

static struct phase_result *add(struct cell_result *c, int repeat, const char *kind, int users,
                                double rps, int failed)
{
    struct phase_result p;
    phase_result_init(&p);
    p.users = users;
    p.duration_s = 60;
    p.rps = rps;
    p.requests = (uint64_t)(rps * 60);
    p.latency_ms = (struct latency_ms){1, 2, 3, 4, 5, 6};
    p.server_rss_max_kb = 1024.0 * users / 10;
    p.server_cpu_pct = users / 4.0;
    p.repeat = repeat;
    snprintf(p.kind, sizeof(p.kind), "%s", kind);
    if (failed) {
        p.failures = 3;
        snprintf(p.stop_reason, sizeof(p.stop_reason), "failures");
    }
    if (cell_result_add_phase(c, &p))
        abort();
    return &c->phases[c->nphases - 1];
}

static void init_cell(struct cell_result *c)
{
    memset(c, 0, sizeof(*c));
    snprintf(c->framework, sizeof(c->framework), "flask");
    snprintf(c->payload, sizeof(c->payload), "json");
    c->capacity_users = c->breaking_users = c->held_users = -1;
    c->capacity_median = c->capacity_min = c->capacity_max = -1;
    c->peak_rps_median = c->peak_rps_min = c->peak_rps_max = -1;
}

/* Three searches with bisection probes: peaks 2900 (a failing level), 2200
 * (noisy, not the peak) and 2400 (a load-bound bisect probe): median 2400. */
static void test_three_repeats(void)
{
    struct cell_result c;
    init_cell(&c);
    add(&c, 0, "ladder", 100, 1000, 0);
    add(&c, 0, "ladder", 200, 2000, 0);
    add(&c, 0, "ladder", 300, 2900, 1);
    add(&c, 0, "bisect", 250, 2500, 0);
    add(&c, 1, "ladder", 100, 1100, 0);
    add(&c, 1, "ladder", 200, 2200, 0)->noisy = 1;
    add(&c, 1, "ladder", 300, 2000, 1);
    add(&c, 2, "ladder", 100, 900, 0);
    add(&c, 2, "ladder", 200, 1800, 0);
    add(&c, 2, "ladder", 300, 1500, 1);
    struct phase_result *pk = add(&c, 2, "bisect", 250, 2400, 0);
    pk->load_bound = 1;
    pk->server_rss_max_kb = 40960;
    pk->server_cpu_pct = 88;
    size_t ipk = c.nphases - 1; /* later adds may move the array */
    /* latency at load: open-loop phases, the 90% one noisy; load-bound by design */
    struct phase_result *l50 = add(&c, 0, "load", 250, 1200, 0);
    l50->offered_rps = 1200, l50->load_bound = 1;
    struct phase_result *l90 = add(&c, 0, "load", 250, 2150, 0);
    l90->offered_rps = 2160, l90->noisy = 1, l90->load_bound = 1;
    add(&c, 0, "held", 800, 80, 0)->client_bound = 0;
    c.nload_points = 2;
    c.load_points[0] = (struct load_point){.pct_of_peak = 50,
                                           .offered_rps = 1200,
                                           .rps = 1200,
                                           .latency_ms = {.p50 = 1.5, .p99 = 4.0}};
    c.load_points[1] = (struct load_point){.pct_of_peak = 90,
                                           .offered_rps = 2160,
                                           .rps = 2150,
                                           .latency_ms = {.p50 = 3.0, .p99 = 12.0}};
    c.capacity_users = 250;
    c.repeats = 3;
    c.capacity_min = 200, c.capacity_median = 250, c.capacity_max = 250;
    c.held_users = 800;
    snprintf(c.held_limit, sizeof(c.held_limit), "ports");
    c.versions_json = strdup("{\"flask\":\"3.0.0\",\"python\":\"3.11.2\",\"n\":1}");

    struct headline h;
    headline_compute(&c, &h);
    CHECK_INT(h.measured, ==, 1);
    CHECK_INT(h.repeats, ==, 3);
    CHECK_DBL(h.peak_rps, ==, 2400);
    CHECK_DBL(h.peak_min, ==, 2200);
    CHECK_DBL(h.peak_max, ==, 2900);
    CHECK(h.peak_phase == &c.phases[ipk]);
    CHECK_INT(h.peak_flags, ==, HL_LOAD_BOUND);
    CHECK_DBL(h.rss_mib, ==, 40);
    CHECK_DBL(h.cpu_pct, ==, 88);
    CHECK_DBL(h.load[0].p50_ms, ==, 1.5);
    CHECK_DBL(h.load[0].p99_ms, ==, 4.0);
    CHECK_INT(h.load[0].flags, ==, 0); /* its phase is load-bound: expected of an open loop */
    CHECK_DBL(h.load[1].p50_ms, ==, 3.0);
    CHECK_DBL(h.load[1].p99_ms, ==, 12.0);
    CHECK_INT(h.load[1].flags, ==, HL_NOISY);
    CHECK_INT(h.capacity_users, ==, 250);
    CHECK_DBL(h.capacity_min, ==, 200);
    CHECK_DBL(h.capacity_max, ==, 250);
    CHECK(h.capacity_phase ==
          &c.phases[ipk]); /* the last search phase at capacity without failure */
    CHECK_INT(h.capacity_flags, ==, 0);
    CHECK_INT(h.held_users, ==, 800);
    CHECK_STR(h.held_limit, "ports");
    CHECK_INT(h.held_flags, ==, HL_CLIENT_BOUND); /* the client's ports, not the server */
    CHECK_INT(h.flags, ==, HL_LOAD_BOUND | HL_CLIENT_BOUND | HL_NOISY);
    CHECK_STR(h.versions, "flask 3.0.0, python 3.11.2"); /* non-strings left out */

    char buf[128];
    cli_hl_peak(&h, buf, sizeof(buf));
    CHECK_STR(buf, "2400.0 \u2020");
    cli_hl_spread(&h, buf, sizeof(buf));
    CHECK_STR(buf, "2200.0\u20132900.0");
    cli_hl_latency(&h.load[1], 1, buf, sizeof(buf));
    CHECK_STR(buf, "12.00 ~");
    cli_hl_capacity(&h, buf, sizeof(buf));
    CHECK_STR(buf, "250 (200\u2013250)");
    cli_hl_held(&h, buf, sizeof(buf));
    CHECK_STR(buf, ">= 800 (ports)"); /* a lower bound is never a plain number */
    CHECK_STR(h.held_qualifier, HL_Q_CLIENT);
    cli_hl_server(&h, 0, buf, sizeof(buf));
    CHECK_STR(buf, "40.0");
    cell_result_free(&c);
}

/* Two searches: the median is the mean of both; the phase of the peak is the
 * lower one's, here noisy. */
static void test_even_repeats_noisy(void)
{
    struct cell_result c;
    init_cell(&c);
    add(&c, 0, "ladder", 10, 500, 0);
    struct phase_result *low = add(&c, 0, "ladder", 20, 1000, 0);
    low->noisy = 1;
    size_t ilow = c.nphases - 1;
    add(&c, 1, "ladder", 10, 600, 0);
    add(&c, 1, "ladder", 20, 2000, 0);
    add(&c, 1, "ladder", 30, 100, 1);
    c.capacity_users = 20;
    struct headline h;
    headline_compute(&c, &h);
    CHECK_INT(h.repeats, ==, 2);
    CHECK_DBL(h.peak_rps, ==, 1500);
    CHECK_DBL(h.peak_min, ==, 1000);
    CHECK_DBL(h.peak_max, ==, 2000);
    CHECK(h.peak_phase == &c.phases[ilow]);
    CHECK_INT(h.peak_flags, ==, HL_NOISY);
    CHECK_DBL(h.load[0].p50_ms, ==, -1); /* no load points */
    CHECK_INT(h.held_users, ==, -1);
    CHECK_STR(h.versions, "");
    char buf[64];
    cli_hl_server(&h, 1, buf, sizeof(buf));
    CHECK_STR(buf, "5 ~"); /* CPU at the peak: users / 4, from a noisy phase */
    cli_hl_latency(&h.load[0], 0, buf, sizeof(buf));
    CHECK_STR(buf, "-");
    cli_hl_capacity(&h, buf, sizeof(buf));
    CHECK_STR(buf, "20"); /* one search's capacity: no range */
    cell_result_free(&c);
}

/* One search: no spread; a client-bound peak. */
static void test_one_search(void)
{
    struct cell_result c;
    init_cell(&c);
    add(&c, 0, "", 50, 700, 0); /* older rows: kind "" is the ladder */
    add(&c, 0, "ladder", 100, 900, 0)->client_bound = 1;
    struct headline h;
    headline_compute(&c, &h);
    CHECK_INT(h.repeats, ==, 1);
    CHECK_DBL(h.peak_rps, ==, 900);
    CHECK_INT(h.peak_flags, ==, HL_CLIENT_BOUND);
    char buf[64];
    cli_hl_spread(&h, buf, sizeof(buf));
    CHECK_STR(buf, "-");
    cli_hl_peak(&h, buf, sizeof(buf));
    CHECK_STR(buf, "900.0 \u2021");
    cell_result_free(&c);
}

/* No phase, or only latency-at-load phases: nothing measured. */
static void test_unmeasured(void)
{
    struct cell_result c;
    init_cell(&c);
    struct headline h;
    headline_compute(&c, &h);
    CHECK_INT(h.measured, ==, 0);
    CHECK_DBL(h.peak_rps, ==, -1);
    CHECK(h.peak_phase == NULL && h.capacity_phase == NULL);
    CHECK_DBL(h.rss_mib, ==, -1);
    char buf[64];
    cli_hl_peak(&h, buf, sizeof(buf));
    CHECK_STR(buf, "-");
    add(&c, 0, "load", 10, 100, 0);
    headline_compute(&c, &h);
    CHECK_INT(h.measured, ==, 0);
    cell_result_free(&c);
}

/* The phase at capacity (cell_capacity_phase, which history and show's seed
 * table print): the last passing search phase at capacity_users, never a
 * failing one nor another kind at that level; else the first phase when it is
 * a search phase; held users without a limit are not measured. */
static void test_capacity_phase(void)
{
    struct cell_result c;
    init_cell(&c);
    c.capacity_users = 200;
    struct phase_result *first = add(&c, 0, "ladder", 100, 500, 0);
    add(&c, 0, "ladder", 200, 900, 0);
    struct phase_result *last = add(&c, 1, "bisect", 200, 950, 0);
    add(&c, 1, "ladder", 200, 990, 1);
    add(&c, 0, "load", 200, 400, 0);
    CHECK(cell_capacity_phase(&c) == last);
    struct headline h;
    headline_compute(&c, &h);
    CHECK(h.capacity_phase == last);
    c.capacity_users = 400; /* no phase passed there: the first one tried */
    CHECK(cell_capacity_phase(&c) == first);
    snprintf(first->kind, sizeof(first->kind), "bracket"); /* an SLO probe first: none */
    CHECK(cell_capacity_phase(&c) == NULL);
    snprintf(first->kind, sizeof(first->kind), "%s", ""); /* older rows: "" is the search's */
    CHECK(cell_capacity_phase(&c) == first);
    c.held_users = 300; /* no held_limit: not measured */
    headline_compute(&c, &h);
    CHECK_INT(h.held_users, ==, -1);
    CHECK_STR(h.held_qualifier, HL_Q_NOT_JUDGED);
    snprintf(c.held_limit, sizeof(c.held_limit), "server");
    headline_compute(&c, &h);
    CHECK_INT(h.held_users, ==, 300);
    cell_result_free(&c);
}

static void test_marks(void)
{
    char buf[32];
    CHECK_STR(headline_marks(0, buf, sizeof(buf)), "");
    CHECK_STR(headline_marks(HL_LOAD_BOUND | HL_NOISY, buf, sizeof(buf)), "\u2020~");
    CHECK_STR(headline_marks(HL_LOAD_BOUND | HL_CLIENT_BOUND | HL_NOISY, buf, sizeof(buf)),
              "\u2020\u2021~");
    CHECK(strncmp(headline_legend(HL_NOISY), "~ noisy", 7) == 0);
    CHECK(strncmp(headline_legend(HL_UNCLEAN), "! not clean", 11) == 0);
    CHECK(strncmp(headline_legend(HL_DB_BOUND), HL_MARK_DB " db-bound", 11) == 0);
    CHECK_STR(headline_marks(HL_NOISY | HL_DB_BOUND, buf, sizeof(buf)), "~" HL_MARK_DB);
    CHECK_STR(headline_legend(HL_LAST << 1), "");
}

/* SLO capacity's qualifier: a measurement, a lower bound at the ceiling, and
 * below the profile's min_rps (rps 0, band [none, min_rps]): an upper bound,
 * printed "< 250.0 (min_rps)", never "0". */
static void test_slo_qualifier(void)
{
    struct cell_result c;
    struct headline h;
    char buf[64];
    init_cell(&c);
    add(&c, 0, "ladder", 8, 300, 0);
    c.nslo = 1;
    c.slo[0] = (struct cell_slo){.bound_ms = 25,
                                 .rps = 1585.4,
                                 .bracket_lo = 1585.4,
                                 .bracket_hi = 1885.3,
                                 .limit = "latency",
                                 .probes = 5};
    headline_compute(&c, &h);
    CHECK_STR(h.slo.qualifier, HL_Q_MEASURED);
    cli_hl_slo(&h, buf, sizeof(buf));
    CHECK_STR(buf, "1585.4");
    c.slo[0] = (struct cell_slo){.bound_ms = 25,
                                 .rps = 0,
                                 .bracket_lo = -1,
                                 .bracket_hi = 250,
                                 .limit = "backlog",
                                 .probes = 1};
    headline_compute(&c, &h);
    CHECK_STR(h.slo.qualifier, HL_Q_BELOW_MIN);
    cli_hl_slo(&h, buf, sizeof(buf));
    CHECK_STR(buf, "< 250.0 (min_rps)");
    c.slo[0] = (struct cell_slo){.bound_ms = 25,
                                 .rps = 50000,
                                 .bracket_lo = 50000,
                                 .bracket_hi = -1,
                                 .limit = "max",
                                 .probes = 4};
    headline_compute(&c, &h);
    CHECK_STR(h.slo.qualifier, HL_Q_MAX);
    /* A search stopped because others took the server's CPUs: a lower bound. */
    c.slo[0] = (struct cell_slo){.bound_ms = 25,
                                 .rps = 1200,
                                 .bracket_lo = 1200,
                                 .bracket_hi = 1500,
                                 .limit = "shared",
                                 .probes = 6};
    headline_compute(&c, &h);
    CHECK_STR(h.slo.qualifier, HL_Q_SHARED);
    cli_hl_slo(&h, buf, sizeof(buf));
    CHECK_STR(buf, ">= 1200.0 (shared)");
    cell_result_free(&c);
}

int main(void)
{
    test_slo_qualifier();
    test_three_repeats();
    test_even_repeats_noisy();
    test_one_search();
    test_unmeasured();
    test_capacity_phase();
    test_marks();
    T_DONE();
}
