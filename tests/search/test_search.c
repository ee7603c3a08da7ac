/* test_search.c - the breaking-point search driven by scripted phase outcomes:
 * each row of a table is a plan, a script (which levels pass, fail, fail while
 * client bound, or end the cell) and the expected probes and summary. Also the
 * summary's medians, the stop rules and the offered-load model. */
#include "search.h"
#include "t.h"

#include <math.h>

/* What the pretend server does at a level. Probes are counted from 1 over the
 * whole cell (all repeats). */
struct script {
    int fail_at;                  /* users >= fail_at fail; 0 = never */
    int client_probe;             /* this probe fails while client bound; 0 = never */
    int end_probe;                /* this probe ends the cell (cancel, error); 0 = never */
    double rps_per_user, rps_cap; /* rps = min(users * rps_per_user, rps_cap) x scale */
    double scale[8];              /* per repeat (0 = 1.0): the noise between searches */
};

struct row {
    const char *name;
    struct search_plan plan;
    struct script sc;
    const char *probes; /* "L10 L20 B15 / L10 ...": L a level of the ladder (kind ladder),
                         * B bisect, then users; " /" between searches */
    int capacity, breaking;
    double peak;
    int repeats;   /* searches summarized */
    int ended;     /* the last search was cut short */
    int unsettled; /* auto repeats still spread at the end */
};

/* Plans: linear or geometric levels, one search unless said otherwise. */
#define LIN(s, st, mx) .start = (s), .step = (st), .max = (mx)
#define GEO(s, f, mx) .start = (s), .factor = (f), .max = (mx)
#define ONCE .repeats = 1

/* A table reads best as one: clang-format would put every field on a line. */
/* clang-format off */
static const struct row rows[] = {
    {"linear", {LIN(10, 10, 100), ONCE},
     {.fail_at = 35, .rps_per_user = 10, .rps_cap = 300},
     "L10 L20 L30 L40", 30, 40, 300, 1, 0, 0},
    {"ladder", {GEO(10, 2, 100), ONCE},
     {.fail_at = 50, .rps_per_user = 1, .rps_cap = 1e9},
     "L10 L20 L40 L80", 40, 80, 80, 1, 0, 0},
    {"doubling capped at max, never fails", {GEO(10, 2, 50), ONCE},
     {.rps_per_user = 1, .rps_cap = 1e9},
     "L10 L20 L40 L50", 50, -1, 50, 1, 0, 0},
    {"linear capped at max, never fails", {LIN(10, 30, 60), ONCE},
     {.rps_per_user = 1, .rps_cap = 1e9},
     "L10 L40 L60", 60, -1, 60, 1, 0, 0},
    {"start above max: one level", {LIN(80, 10, 50), ONCE},
     {.rps_per_user = 1, .rps_cap = 1e9},
     "L80", 80, -1, 80, 1, 0, 0},
    /* 300 passes, 400 fails; resolution 10% of the passing level. */
    {"bisect pct", {LIN(100, 100, 1000), ONCE, .refine_pct = 10},
     {.fail_at = 347, .rps_per_user = 1, .rps_cap = 1e9},
     "L100 L200 L300 L400 B350 B325", 325, 350, 400, 1, 0, 0},
    {"bisect abs", {LIN(100, 100, 1000), ONCE, .refine_abs = 5},
     {.fail_at = 347, .rps_per_user = 1, .rps_cap = 1e9},
     "L100 L200 L300 L400 B350 B325 B337 B343 B346", 346, 350, 400, 1, 0, 0},
    {"bisect after doubling", {GEO(8, 2, 1000), ONCE, .refine_abs = 1},
     {.fail_at = 21, .rps_per_user = 1, .rps_cap = 1e9},
     "L8 L16 L32 B24 B20 B22 B21", 20, 21, 32, 1, 0, 0},
    /* The first level fails: bisection from 0, the resolution from the failing level. */
    {"first level fails, bisect", {LIN(100, 100, 1000), ONCE, .refine_pct = 10},
     {.fail_at = 30, .rps_per_user = 1, .rps_cap = 1e9},
     "L100 B50 B25 B37 B31 B28 B29", 29, 31, 100, 1, 0, 0},
    {"first level fails, no bisect", {LIN(100, 100, 1000), ONCE},
     {.fail_at = 30, .rps_per_user = 1, .rps_cap = 1e9},
     "L100", -1, 100, 100, 1, 0, 0},
    /* Client bound: not a breaking point; the search ends with what it has,
     * and so do auto repeats. */
    {"client bound at a linear level", {LIN(10, 10, 100), .repeats = 0, .max_repeats = 5},
     {.fail_at = 50, .client_probe = 3, .rps_per_user = 1, .rps_cap = 1e9},
     "L10 L20 L30", 20, -1, 30, 1, 0, 0},
    {"client bound during bisection", {LIN(100, 100, 1000), ONCE, .refine_pct = 10},
     {.fail_at = 347, .client_probe = 6, .rps_per_user = 1, .rps_cap = 1e9},
     "L100 L200 L300 L400 B350 B325", 300, 350, 400, 1, 0, 0},
    /* END: nothing summarized; the partial search is checked in test_table. */
    {"end mid-search", {LIN(10, 10, 100), ONCE},
     {.fail_at = 50, .end_probe = 3, .rps_per_user = 1, .rps_cap = 1e9},
     "L10 L20 L30", -1, -1, -1, 0, 1, 0},
    {"end in the second of 3 repeats", {LIN(10, 10, 100), .repeats = 3},
     {.fail_at = 25, .end_probe = 5, .rps_per_user = 1, .rps_cap = 1e9},
     "L10 L20 L30 / L10 L20", 20, 30, 30, 1, 1, 0},
    /* Repeats. */
    {"fixed repeats", {LIN(10, 10, 100), .repeats = 3},
     {.fail_at = 25, .rps_per_user = 10, .rps_cap = 1e9, .scale = {1.0, 1.5, 0.5}},
     "L10 L20 L30 / L10 L20 L30 / L10 L20 L30", 20, 30, 300, 3, 0, 0},
    {"auto repeats, spread reached at 3",
     {LIN(10, 10, 100), .repeats = 0, .max_repeats = 5, .spread_pct = 5},
     {.fail_at = 25, .rps_per_user = 10, .rps_cap = 1e9, .scale = {1.0, 1.02, 0.99, 1.5}},
     "L10 L20 L30 / L10 L20 L30 / L10 L20 L30", 20, 30, 300, 3, 0, 0},
    {"auto repeats, spread not reached",
     {LIN(10, 10, 100), .repeats = 0, .max_repeats = 5, .spread_pct = 5},
     {.fail_at = 25, .rps_per_user = 10, .rps_cap = 1e9, .scale = {1.0, 1.2, 0.9, 1.1, 0.95, 1.0}},
     "L10 L20 L30 / L10 L20 L30 / L10 L20 L30 / L10 L20 L30 / L10 L20 L30", 20, 30, 300, 5, 0, 1},
    {"auto repeats, max_repeats below 3 means 3",
     {LIN(10, 10, 100), .repeats = 0, .max_repeats = 2, .spread_pct = 5},
     {.fail_at = 25, .rps_per_user = 10, .rps_cap = 1e9, .scale = {1.0, 1.2, 0.8, 1.0}},
     "L10 L20 L30 / L10 L20 L30 / L10 L20 L30", 20, 30, 300, 3, 0, 1},
};
/* clang-format on */

/* Runs one row the way exec/ drives the search; appends probes to out. */
static void drive(const struct row *w, char *out, size_t cap, struct cell_result *c,
                  struct search *cur, int *nres_out)
{
    struct search_result res[SEARCH_MAX_REPEATS];
    int nres = 0, probe = 0, ended = 0;
    size_t len = 0;
    out[0] = '\0';
    while (!ended && search_repeat_again(&w->plan, res, nres) && nres < 16) {
        int users, guard = 0;
        const char *kind;
        double scale = w->sc.scale[nres < 8 ? nres : 7];
        if (scale == 0)
            scale = 1.0;
        if (nres > 0)
            len += (size_t)snprintf(out + len, cap - len, " /");
        search_init(cur, &w->plan);
        while (search_next(cur, &users, &kind) && guard++ < 100 && len < cap - 16) {
            probe++;
            len += (size_t)snprintf(out + len, cap - len, "%s%c%d", len ? " " : "",
                                    kind[0] == 'l' ? 'L' : 'B', users);
            double rps = users * w->sc.rps_per_user;
            if (rps > w->sc.rps_cap)
                rps = w->sc.rps_cap;
            rps *= scale;
            enum search_outcome o = SEARCH_PASS;
            if (probe == w->sc.end_probe)
                o = SEARCH_END;
            else if (probe == w->sc.client_probe)
                o = SEARCH_CLIENT_FAIL;
            else if (w->sc.fail_at > 0 && users >= w->sc.fail_at)
                o = SEARCH_FAIL;
            search_report(cur, o, rps, users < 20);
        }
        if (cur->ended)
            ended = 1;
        else
            res[nres++] = cur->result;
    }
    memset(c, 0, sizeof(*c));
    c->capacity_users = c->breaking_users = -1;
    c->peak_rps = c->capacity_median = -1;
    search_summarize(c, res, nres);
    *nres_out = nres;
    CHECK_INT(search_repeats_unsettled(&w->plan, res, nres), ==, w->unsettled);
}

static void test_table(void)
{
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        const struct row *w = &rows[i];
        char probes[1024];
        struct cell_result c;
        struct search cur;
        int nres = 0;
        int f0 = t_failures;
        drive(w, probes, sizeof(probes), &c, &cur, &nres);
        CHECK_STR(probes, w->probes);
        CHECK_INT(nres, ==, w->repeats);
        CHECK_INT(c.repeats, ==, w->repeats);
        CHECK_INT(cur.ended, ==, w->ended);
        if (w->repeats > 0) {
            CHECK_INT(c.capacity_users, ==, w->capacity);
            CHECK_INT(c.breaking_users, ==, w->breaking);
            CHECK_DBL(c.peak_rps, ==, w->peak);
        } else {
            /* Cut short in its first search: what it had seen so far. */
            CHECK_INT(cur.result.capacity, ==, 20);
            CHECK_INT(cur.result.breaking, ==, -1);
            CHECK_DBL(cur.result.peak_rps, ==, 20); /* the ended phase is not a measurement */
        }
        if (t_failures != f0)
            fprintf(stderr, "  in row \"%s\"\n", w->name);
    }
}

/* The step API's contract beyond the table. */
static void test_steps(void)
{
    struct search_plan p = {LIN(10, 10, 30), ONCE};
    struct search s;
    int users = 0;
    const char *kind = NULL;
    search_init(&s, &p);
    CHECK_INT(search_next(&s, &users, &kind), ==, 1);
    CHECK_INT(users, ==, 10);
    CHECK_STR(kind, "ladder");
    /* Asked again before a report: the same level. */
    CHECK_INT(search_next(&s, &users, &kind), ==, 1);
    CHECK_INT(users, ==, 10);
    search_report(&s, SEARCH_PASS, 100, 1);
    CHECK_INT(s.result.capacity, ==, 10);
    CHECK_INT(s.result.peak_load_bound, ==, 1);
    search_next(&s, &users, &kind);
    search_report(&s, SEARCH_FAIL, 150, 0); /* a failing phase still sets the peak */
    CHECK_INT(search_next(&s, &users, &kind), ==, 0);
    CHECK_DBL(s.result.peak_rps, ==, 150);
    CHECK_INT(s.result.peak_load_bound, ==, 0);
    CHECK_INT(s.result.breaking, ==, 20);
    /* Reports after the end change nothing. */
    search_report(&s, SEARCH_PASS, 999, 1);
    CHECK_INT(search_next(&s, &users, &kind), ==, 0);
    CHECK_DBL(s.result.peak_rps, ==, 150);

    CHECK_INT(search_resolution(&(struct search_plan){.refine_pct = 10}, 0, 5), ==, 1);
    CHECK_INT(search_resolution(&(struct search_plan){.refine_pct = 10}, 300, 400), ==, 30);
    CHECK_INT(search_resolution(&(struct search_plan){.refine_pct = 10, .refine_abs = 7}, 300, 400),
              ==, 7);
    CHECK_INT(search_next_level(&(struct search_plan){.step = 0, .max = 100}, 10), ==, 11);
    CHECK_INT(search_next_level(&(struct search_plan){.factor = 3, .max = 100}, 40), ==, 100);
    CHECK_INT(search_repeats_most(&(struct search_plan){.repeats = 1000}), ==, SEARCH_MAX_REPEATS);
    CHECK_INT(search_repeats_most(&(struct search_plan){.repeats = 0, .max_repeats = 7}), ==, 7);
}

static void test_summarize(void)
{
    /* A missing breaking point counts as above every found one. */
    struct search_result r[] = {{30, 40, 300, 0, 0}, {50, -1, 500, 1, 0}, {40, 50, 400, 1, 0}};
    struct cell_result c;
    memset(&c, 0, sizeof(c));
    search_summarize(&c, r, 3);
    CHECK_INT(c.repeats, ==, 3);
    CHECK_INT(c.capacity_users, ==, 40);
    CHECK_INT(c.breaking_users, ==, 50);
    CHECK_DBL(c.capacity_median, ==, 40);
    CHECK_DBL(c.capacity_iqr, ==, 10); /* 45 - 35 */
    CHECK_DBL(c.capacity_min, ==, 30);
    CHECK_DBL(c.capacity_max, ==, 50);
    CHECK_DBL(c.peak_rps, ==, 400);
    CHECK_DBL(c.peak_rps_median, ==, 400);
    CHECK_DBL(c.peak_rps_iqr, ==, 100);
    CHECK_DBL(c.peak_rps_min, ==, 300);
    CHECK_DBL(c.peak_rps_max, ==, 500);
    CHECK_DBL(c.peak_rps_spread, ==, 0.5); /* (500 - 300) / 400 */
    CHECK_INT(c.peak_rps_load_bound, ==, 1);

    /* Two of three found no breaking point: the median has none. */
    struct search_result r2[] = {{30, -1, 300, 0, 0}, {50, -1, 500, 0, 0}, {-1, 10, 100, 1, 0}};
    memset(&c, 0, sizeof(c));
    c.capacity_median = -1;
    search_summarize(&c, r2, 3);
    CHECK_INT(c.breaking_users, ==, -1);
    CHECK_INT(c.capacity_users, ==, 30);
    CHECK_DBL(c.capacity_min, ==, 0); /* a missing capacity counts as 0 in the figures */
    CHECK_DBL(c.capacity_median, ==, 30);

    /* Even count: lower medians for users, interpolated medians for figures;
     * the load-bound flag is that of the search whose peak is the lower median. */
    struct search_result r4[] = {
        {10, 20, 100, 0, 0}, {40, 50, 400, 0, 0}, {20, 30, 200, 1, 0}, {30, 40, 300, 0, 0}};
    memset(&c, 0, sizeof(c));
    search_summarize(&c, r4, 4);
    CHECK_INT(c.capacity_users, ==, 20);
    CHECK_INT(c.breaking_users, ==, 30);
    CHECK_DBL(c.capacity_median, ==, 25);
    CHECK_DBL(c.peak_rps_median, ==, 250);
    CHECK_INT(c.peak_rps_load_bound, ==, 1);

    /* No capacity anywhere: the capacity figures stay as they were. */
    struct search_result r1[] = {{-1, 10, 50, 0, 0}};
    memset(&c, 0, sizeof(c));
    c.capacity_median = c.capacity_iqr = -1;
    search_summarize(&c, r1, 1);
    CHECK_INT(c.capacity_users, ==, -1);
    CHECK_INT(c.breaking_users, ==, 10);
    CHECK_DBL(c.capacity_median, ==, -1);
    CHECK_DBL(c.capacity_iqr, ==, -1);
    CHECK_DBL(c.peak_rps_spread, ==, 0);

    /* None: only the count. */
    memset(&c, 0, sizeof(c));
    c.capacity_users = -1;
    search_summarize(&c, r1, 0);
    CHECK_INT(c.repeats, ==, 0);
    CHECK_INT(c.capacity_users, ==, -1);
    CHECK_DBL(search_peak_spread(r4, 4), ==, 300.0 / 250.0);
    CHECK_DBL(search_peak_spread(r1, 0), ==, 0);
}

static void test_stop_rules(void)
{
    static const struct {
        struct search_stop sw;
        uint64_t requests, failures;
        double p99;
        const char *why; /* NULL = passes */
    } cases[] = {
        {{.failures = 5}, 1000, 4, 1, NULL},
        {{.failures = 5}, 1000, 5, 1, "failures"},
        {{.ratio = 0.01}, 1000, 9, 1, NULL},
        {{.ratio = 0.01}, 1000, 10, 1, "failure_ratio"},
        {{.ratio = 0.01}, 0, 0, 1, "no_response"}, /* nothing answered: never a pass */
        {{.p99_ms = 100}, 1000, 0, 99.9, NULL},
        {{.p99_ms = 100}, 1000, 0, 100, "p99"},
        {{.p99_ms = 100}, 1000, 3, 50, NULL}, /* a criterion is set: failures alone pass */
        {{.failures = 1, .p99_ms = 100}, 1000, 1, 500, "failures"},
        {{.ratio = 0.5, .p99_ms = 100}, 10, 6, 500, "failure_ratio"},
        {{0}, 1000, 0, 1e6, NULL}, /* default: any failure, latency ignored */
        {{0}, 1000, 1, 1, "failures"},
        /* A server that answered nothing never passes, whatever is set. */
        {{0}, 0, 0, 0, "no_response"},
        {{.p99_ms = 100}, 5, 5, 1, "no_response"},
        {{.ratio = 0.9}, 10, 10, 1, "no_response"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct phase_result ph;
        memset(&ph, 0, sizeof(ph));
        ph.requests = cases[i].requests;
        ph.failures = cases[i].failures;
        ph.latency_ms.p99 = cases[i].p99;
        const char *why = search_phase_fails(&cases[i].sw, &ph);
        if (cases[i].why)
            CHECK_STR(why, cases[i].why);
        else
            CHECK(why == NULL);
        if ((cases[i].why == NULL) != (why == NULL))
            fprintf(stderr, "  in stop case %zu\n", i);
    }
    /* Fewer answers than requests left outstanding at the end: never passes. */
    {
        struct phase_result ph;
        memset(&ph, 0, sizeof(ph));
        ph.requests = 3;
        ph.in_flight = 10;
        const struct search_stop loose = {.ratio = 0.99};
        CHECK_STR(search_phase_fails(&loose, &ph), "in_flight");
        ph.requests = 10;
        CHECK(search_phase_fails(&loose, &ph) == NULL);
    }
    /* Connections that failed on the engine's own limits (FAIL_CLIENT, not in
     * failures): no pass, whatever the server did with the rest (issue 21). */
    {
        struct phase_result ph;
        memset(&ph, 0, sizeof(ph));
        ph.requests = 1000;
        ph.failures_by_kind[FAIL_CLIENT] = 3;
        const struct search_stop any = {0}, loose = {.ratio = 0.5};
        CHECK_STR(search_phase_fails(&any, &ph), "client");
        CHECK_STR(search_phase_fails(&loose, &ph), "client");
        ph.failures = ph.failures_by_kind[FAIL_TIMEOUT] = 1; /* the server's own comes first */
        CHECK_STR(search_phase_fails(&any, &ph), "failures");
        ph.failures = ph.failures_by_kind[FAIL_TIMEOUT] = ph.failures_by_kind[FAIL_CLIENT] = 0;
        CHECK(search_phase_fails(&any, &ph) == NULL);
    }
    CHECK_INT(search_load_bound(95, 100), ==, 1);
    CHECK_INT(search_load_bound(94.9, 100), ==, 0);
    CHECK_INT(search_load_bound(10, 0), ==, 0);
}

/* The worst-case estimate as it was first written: every probe of every search
 * run (quadratic in the levels); search_max_probes must give the same counts. */
static int ref_probes_at(const struct search_plan *p, long threshold)
{
    struct search s;
    int users, n = 0;
    const char *kind;
    search_init(&s, p);
    while (search_next(&s, &users, &kind) && n < 100000) {
        search_report(&s, users >= threshold ? SEARCH_FAIL : SEARCH_PASS, 1, 0);
        n++;
    }
    return n;
}

static int ref_max_probes(const struct search_plan *p)
{
    if (p->start < 1 || p->max < p->start)
        return 1;
    int most = 0;
    for (int lv = p->start;;) {
        for (int d = -1; d <= 1; d++) {
            int n = ref_probes_at(p, (long)lv + d);
            most = n > most ? n : most;
        }
        if (lv >= p->max)
            break;
        lv = search_next_level(p, lv);
    }
    int stride = p->max / 5000 > 1 ? p->max / 5000 : 1;
    for (long t = 1; t <= (long)p->max + 1; t += stride) {
        int n = ref_probes_at(p, t);
        most = n > most ? n : most;
    }
    return most + (stride > 1);
}

/* The estimate counts the passing levels instead of running them: equal to the
 * plain simulation, and fast on huge ranges (20000 levels of step 1 took 14 s
 * in `check --json`; 2^31 levels never ended). */
static void test_max_probes(void)
{
    static const int starts[] = {1, 3, 100}, steps[] = {1, 4, 50}, maxs[] = {1, 9, 250, 1200};
    static const double pcts[] = {0, 5, 50};
    static const int abss[] = {0, 2}, factors[] = {0, 2};
    for (size_t a = 0; a < 3; a++)
        for (size_t b = 0; b < 3; b++)
            for (size_t c = 0; c < 4; c++)
                for (size_t d = 0; d < 3; d++)
                    for (size_t e = 0; e < 2; e++)
                        for (size_t f = 0; f < 2; f++) {
                            struct search_plan p = {.start = starts[a],
                                                    .step = steps[b],
                                                    .max = maxs[c],
                                                    .factor = factors[f],
                                                    .refine_pct = pcts[d],
                                                    .refine_abs = abss[e],
                                                    .repeats = 1};
                            int got = search_max_probes(&p), want = ref_max_probes(&p);
                            t_checks++;
                            if (got != want)
                                T_FAIL("max probes of start %d step %d max %d factor %d refine "
                                       "%g%%/%d: %d, the simulation says %d",
                                       p.start, p.step, p.max, p.factor, p.refine_pct, p.refine_abs,
                                       got, want);
                        }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    struct search_plan big = {.start = 1, .step = 1, .max = 20000, .refine_pct = 5, .repeats = 1};
    CHECK_INT(search_max_probes(&big), ==, 20001); /* every level passes, +1 for the stride */
    big.max = 2147483647;
    CHECK_INT(search_max_probes(&big), ==, 100001);
    big.start = 2147483000;
    CHECK_INT(search_max_probes(&big), >, 1);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    CHECK_DBL(s, <, 3.0);
}

/* A held level's plan: the think stretched under the share of the sustainable
 * rate, the warm-up over the ramp, a window holding the longest think plus one
 * response, the phase grown up to the cap and past it not judged (issue 20). */
static void test_held_plan(void)
{
    struct held_level_in in = {.users = 1000,
                               .think_min_ms = 5000,
                               .think_max_ms = 15000,
                               .sustainable_rps = 400,
                               .max_offered_pct = 50,
                               .duration_ms = 15000,
                               .warmup_ms = 6000,
                               .spawn_rate = 2000,
                               .timeout_ms = 2000};
    struct held_level_plan p;
    /* 1000 users / 10 s = 100 req/s <= 200: not stretched; 15 s + 2 s do not
     * fit the 9 s window: the phase grows to 6 + 17 s. */
    search_held_plan(&in, &p);
    CHECK_INT(p.think_max_ms, ==, 15000);
    CHECK_INT(p.window_needed_ms, ==, 17000);
    CHECK_INT(p.duration_ms, ==, 23000);
    CHECK_INT(p.warmup_ms, ==, 6000);
    CHECK_INT(p.replanned, ==, 1);
    CHECK_INT(p.judged, ==, 1);
    CHECK_DBL(p.offered_rps, <=, 200);
    /* 4000 users: 400 req/s, stretched x2 to 10-30 s: 6 + 32 s <= 60 s. */
    in.users = 4000;
    search_held_plan(&in, &p);
    CHECK_INT(p.think_min_ms, ==, 10000);
    CHECK_INT(p.think_max_ms, ==, 30000);
    CHECK_INT(p.duration_ms, ==, 38000);
    CHECK_INT(p.judged, ==, 1);
    CHECK_DBL(p.offered_rps, <=, 200);
    /* 8000 users: x4, 60 s of think: 6 + 62 s > 4 x 15 s: not judged. */
    in.users = 8000;
    search_held_plan(&in, &p);
    CHECK_INT(p.think_max_ms, ==, 60000);
    CHECK_INT(p.judged, ==, 0);
    /* The ramp longer than the warm-up: the warm-up covers it. */
    in.users = 1000;
    in.spawn_rate = 50;
    search_held_plan(&in, &p);
    CHECK_INT(p.warmup_ms, ==, 22000); /* 20 s of ramp + the 2 s timeout */
    CHECK_INT(p.duration_ms, ==, 39000);
    CHECK_INT(p.window_ms, >=, p.window_needed_ms);
    /* A long enough phase is kept as planned. */
    in.spawn_rate = 2000;
    in.duration_ms = 30000;
    search_held_plan(&in, &p);
    CHECK_INT(p.duration_ms, ==, 30000);
    CHECK_INT(p.replanned, ==, 0);
    /* No think: a constant one that offers exactly the share. */
    in.think_min_ms = in.think_max_ms = 0;
    search_held_plan(&in, &p);
    CHECK_INT(p.think_min_ms, ==, 5000);
    CHECK_INT(p.think_max_ms, ==, 5000);
    /* No sustainable rate: the offered load cannot be bounded, not judged. */
    in.sustainable_rps = -1;
    search_held_plan(&in, &p);
    CHECK_INT(p.judged, ==, 0);
}

static void test_held_fails(void)
{
    struct phase_result ph;
    phase_result_init(&ph);
    ph.requests = 1000;
    ph.latency_ms.p99 = 40;
    CHECK(search_held_fails(100, &ph) == NULL);
    ph.latency_ms.p99 = 100.5;
    CHECK_STR(search_held_fails(100, &ph), "p99");
    ph.latency_ms.p99 = 40;
    ph.failures = 1;
    CHECK_STR(search_held_fails(100, &ph), "failures");
    ph.failures = 0;
    ph.connect_failures = 1; /* in the ramp: no failure in the window */
    CHECK_STR(search_held_fails(100, &ph), "connect");
    ph.connect_failures = 0;
    ph.requests = 0;
    CHECK_STR(search_held_fails(100, &ph), "no_response");
}

int main(void)
{
    test_table();
    test_steps();
    test_summarize();
    test_stop_rules();
    test_max_probes();
    test_held_plan();
    test_held_fails();
    T_DONE();
}
