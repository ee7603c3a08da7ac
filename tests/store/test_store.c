/* test_store.c - the SQLite store on real files in a mkdtemp folder: a run written
 * and reloaded field by field, history queries, interrupted runs, migrations and
 * refusals, durability across a SIGKILL, the default path rules, runs left by a
 * dead process repaired on open, one live run per store, a write error. */
#include "store.h"
#include "t.h"

/* Only to forge rows (a dead or reused pid, another host, an older schema)
 * that the store's API rightly cannot write. */
#include <sqlite3.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char tmpdir[256];

static void path_in(char *buf, size_t n, const char *name)
{
    snprintf(buf, n, "%s/%s", tmpdir, name);
}

/* A phase whose every field differs from its neighbours', so a swapped column shows. */
static void make_phase(struct phase_result *p, int users, int k, int failing)
{
    phase_result_init(p);
    p->users = users;
    p->duration_s = 3.0 + k;
    p->requests = 1000u + (uint64_t)k;
    for (int f = 0; f < FAIL__COUNT; f++)
        p->failures_by_kind[f] = failing ? (uint64_t)(10 * k + f + 1) : 0;
    p->failures = 0;
    for (int f = 0; f < FAIL_CLIENT; f++)
        p->failures += p->failures_by_kind[f];
    p->bytes_read = 123456789012ull + (uint64_t)k;
    p->rps = 500.25 + k;
    p->latency_ms.mean = 1.5 + k;
    p->latency_ms.p50 = 1.25 + k;
    p->latency_ms.p90 = 2.5 + k;
    p->latency_ms.p99 = 5.125 + k;
    p->latency_ms.p999 = 9.0 + k;
    p->latency_ms.max = 12.75 + k;
    p->offered_rps = k ? 600.0 + k : 0;
    p->missed_schedule = 7u + (uint64_t)k;
    p->in_flight = 3u + (uint64_t)k;
    p->client_cpu_pct = 12.5 + k;
    if (k != 1) { /* phase 1 is "not sampled": every -1 must survive as -1 */
        p->server_rss_max_kb = 30000.0 + 100 * k;
        p->server_rss_mean_kb = 29000.0 + 100 * k;
        p->server_cpu_pct = 41.5 + k;
        p->server_cpu_max_pct = 88.0 + k;
        p->server_threads_max = 3 + k;
        p->server_fds_max = 20 + k;
        p->steal_pct = 0.5 + k;
        p->neighbour_cpu_pct = 6.25 + k;
        p->db_cpu_pct = 85.5 + k;
        p->db_cpu_max_pct = 97.25 + k;
        p->db_rss_max_kb = 150000.0 + k;
    }
    p->noisy = k == 2;
    p->verified_sampled = 20u + (uint64_t)k; /* schema v12 */
    p->verified_wrong = (uint64_t)k;
    p->db_bound = k == 2;
    p->load_bound = k % 2;
    p->client_bound = (k + 1) % 2;
    snprintf(p->stop_reason, sizeof(p->stop_reason), "%s", failing ? "failures>=1" : "");
}

static void check_phase_eq(const struct phase_result *a, const struct phase_result *b)
{
    CHECK_INT(a->users, ==, b->users);
    CHECK_DBL(a->duration_s, ==, b->duration_s);
    CHECK_INT(a->requests, ==, b->requests);
    CHECK_INT(a->failures, ==, b->failures);
    for (int f = 0; f < FAIL__COUNT; f++)
        CHECK_INT(a->failures_by_kind[f], ==, b->failures_by_kind[f]);
    CHECK_INT(a->bytes_read, ==, b->bytes_read);
    CHECK_DBL(a->rps, ==, b->rps);
    CHECK_DBL(a->latency_ms.mean, ==, b->latency_ms.mean);
    CHECK_DBL(a->latency_ms.p50, ==, b->latency_ms.p50);
    CHECK_DBL(a->latency_ms.p90, ==, b->latency_ms.p90);
    CHECK_DBL(a->latency_ms.p99, ==, b->latency_ms.p99);
    CHECK_DBL(a->latency_ms.p999, ==, b->latency_ms.p999);
    CHECK_DBL(a->latency_ms.max, ==, b->latency_ms.max);
    CHECK_DBL(a->offered_rps, ==, b->offered_rps);
    CHECK_INT(a->missed_schedule, ==, b->missed_schedule);
    CHECK_INT(a->in_flight, ==, b->in_flight);
    CHECK_DBL(a->client_cpu_pct, ==, b->client_cpu_pct);
    CHECK_DBL(a->server_rss_max_kb, ==, b->server_rss_max_kb);
    CHECK_DBL(a->server_rss_mean_kb, ==, b->server_rss_mean_kb);
    CHECK_DBL(a->server_cpu_pct, ==, b->server_cpu_pct);
    CHECK_DBL(a->server_cpu_max_pct, ==, b->server_cpu_max_pct);
    CHECK_INT(a->server_threads_max, ==, b->server_threads_max);
    CHECK_INT(a->server_fds_max, ==, b->server_fds_max);
    CHECK_INT(a->load_bound, ==, b->load_bound);
    CHECK_INT(a->client_bound, ==, b->client_bound);
    CHECK_STR(a->stop_reason, b->stop_reason);
    CHECK_DBL(a->steal_pct, ==, b->steal_pct);
    CHECK_DBL(a->neighbour_cpu_pct, ==, b->neighbour_cpu_pct);
    CHECK_INT(a->noisy, ==, b->noisy);
    CHECK_INT(a->verified_sampled, ==, b->verified_sampled);
    CHECK_INT(a->verified_wrong, ==, b->verified_wrong);
    CHECK_DBL(a->db_cpu_pct, ==, b->db_cpu_pct);
    CHECK_DBL(a->db_cpu_max_pct, ==, b->db_cpu_max_pct);
    CHECK_DBL(a->db_rss_max_kb, ==, b->db_rss_max_kb);
    CHECK_INT(a->db_bound, ==, b->db_bound);
}

static void init_run(struct run_record *r, const char *started_at, const char *profile)
{
    memset(r, 0, sizeof(*r));
    snprintf(r->started_at, sizeof(r->started_at), "%s", started_at);
    snprintf(r->trigger, sizeof(r->trigger), "nightly");
    snprintf(r->profile, sizeof(r->profile), "%s", profile);
    memset(r->matrix_sha256, 'a', 64);
    snprintf(r->node_host, sizeof(r->node_host), "bench-1");
    snprintf(r->node_cpus, sizeof(r->node_cpus), "1");
    snprintf(r->node_kernel, sizeof(r->node_kernel), "6.1.0-13-amd64");
    snprintf(r->node_cpu_model, sizeof(r->node_cpu_model), "AMD EPYC 7B13");
    r->node_cpu_count = 2;
    snprintf(r->node_governor, sizeof(r->node_governor), "performance");
    snprintf(r->node_python, sizeof(r->node_python), "3.11.2");
    r->node_loadavg = 0.25;
}

static void init_cell(struct cell_result *c, const char *fw, const char *pl)
{
    memset(c, 0, sizeof(*c));
    snprintf(c->framework, sizeof(c->framework), "%s", fw);
    snprintf(c->payload, sizeof(c->payload), "%s", pl);
    c->capacity_users = c->breaking_users = -1;
    c->held_users = -1;
}

/* Reads the 4-byte big-endian field of the SQLite file header at off. */
static long header_u32(const char *path, long off)
{
    unsigned char b[4];
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return -1;
    ssize_t n = pread(fd, b, 4, off);
    close(fd);
    if (n != 4)
        return -1;
    return (long)b[0] << 24 | (long)b[1] << 16 | (long)b[2] << 8 | b[3];
}

static int set_header_u32(const char *path, long off, uint32_t v)
{
    unsigned char b[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16),
                          (unsigned char)(v >> 8), (unsigned char)v};
    int fd = open(path, O_WRONLY);
    if (fd < 0)
        return -1;
    ssize_t n = pwrite(fd, b, 4, off);
    close(fd);
    return n == 4 ? 0 : -1;
}

#define HDR_USER_VERSION 60
#define HDR_APP_ID 68

/* Run 1 (older): flask/json fails at 300 users, django/text has no phases.
 * Run 2 (newer): flask/json never fails, flask/text fails at the first phase. */
static void test_roundtrip_and_history(void)
{
    char path[512];
    path_in(path, sizeof(path), "sub/dir/results.db");
    struct err e;
    err_clear(&e);
    struct store *s = NULL;
    CHECK_INT(store_path_check(path, 1, &e), ==, 0); /* a default location: folders made */
    CHECK_INT(store_open(path, &s, &e), ==, 0);
    if (!s) {
        fprintf(stderr, "open: %s\n", e.msg);
        return;
    }
    struct stat st;
    CHECK_INT(stat(tmpdir, &st), ==, 0);
    char sub[512];
    path_in(sub, sizeof(sub), "sub/dir");
    CHECK_INT(stat(sub, &st), ==, 0);
    CHECK_INT(st.st_mode & 0777, ==, 0700);

    struct run_record r1;
    init_run(&r1, "2026-11-27T02:00:00Z", "quick");
    CHECK_INT(store_run_begin(s, &r1, &e), ==, 0);
    CHECK(r1.id > 0);
    CHECK_STR(r1.status, "running");

    struct cell_result c1, c2;
    init_cell(&c1, "flask", "json");
    init_cell(&c2, "django", "text");
    CHECK_INT(store_cell_begin(s, r1.id, &c1, &e), ==, 0);
    CHECK_INT(store_cell_begin(s, r1.id, &c2, &e), ==, 0);
    CHECK(c1.id > 0 && c2.id > c1.id);
    CHECK_INT(c1.status, ==, CELL_RUNNING);

    /* 100, 200 pass; 200 again (repeat) passes with other numbers; 300 fails. */
    struct phase_result ph[4];
    make_phase(&ph[0], 100, 0, 0);
    make_phase(&ph[1], 200, 1, 0);
    make_phase(&ph[2], 200, 2, 0);
    make_phase(&ph[3], 300, 3, 1);
    for (int i = 0; i < 4; i++) {
        CHECK_INT(store_phase_add(s, c1.id, i, &ph[i], &e), ==, 0);
        CHECK_INT(cell_result_add_phase(&c1, &ph[i]), ==, 0);
    }
    /* Two phases with the same seq in a cell are a bug of the caller. */
    struct err e2;
    err_clear(&e2);
    CHECK_INT(store_phase_add(s, c1.id, 0, &ph[0], &e2), ==, -EINVAL);
    CHECK_CONTAINS(e2.msg, "UNIQUE");
    /* A phase of a cell that does not exist is refused by the foreign key. */
    err_clear(&e2);
    CHECK_INT(store_phase_add(s, 999999, 0, &ph[0], &e2), <, 0);
    CHECK_CONTAINS(e2.msg, "FOREIGN KEY");

    c1.status = CELL_FAILED;
    c1.capacity_users = 200;
    c1.breaking_users = 300;
    c1.peak_rps = 702.5;
    c1.versions_json = strdup("{\"python\":\"3.11.2\",\"flask\":\"2.2.2\"}");
    c1.held_users = 3000;
    snprintf(c1.held_limit, sizeof(c1.held_limit), "server");
    c1.nload_points = 2;
    c1.load_points[0] = (struct load_point){.pct_of_peak = 50,
                                            .offered_rps = 351.25,
                                            .rps = 350.5,
                                            .latency_ms = {1, 2, 3, 4, 5, 6},
                                            .failures = 0};
    c1.load_points[1] = (struct load_point){.pct_of_peak = 90,
                                            .offered_rps = 632.25,
                                            .rps = 630.5,
                                            .latency_ms = {2, 3, 4, 8, 9, 10},
                                            .failures = 7};
    CHECK_INT(store_cell_finish(s, &c1, &e), ==, 0);
    /* Finishing again replaces the load points, never adds to them. */
    CHECK_INT(store_cell_finish(s, &c1, &e), ==, 0);
    c2.status = CELL_ERROR;
    c2.error = strdup("server did not start: exit 1");
    CHECK_INT(store_cell_finish(s, &c2, &e), ==, 0);
    CHECK_INT(store_run_finish(s, r1.id, "failed", &e), ==, 0);
    err_clear(&e2);
    CHECK_INT(store_run_finish(s, 424242, "ok", &e2), ==, -ENOENT);

    /* Series of one phase. */
    int64_t pid = 0;
    struct phase_result extra;
    make_phase(&extra, 50, 4, 0);
    struct cell_result c3;
    init_cell(&c3, "bottle", "json");
    CHECK_INT(store_cell_begin(s, r1.id, &c3, &e), ==, 0);
    CHECK_INT(store_phase_add_id(s, c3.id, 0, &extra, &pid, &e), ==, 0);
    CHECK(pid > 0);
    struct store_series_point pts[3] = {
        {1.0, 50, 100, 0, 1.5, 4.0}, {2.0, 50, 210, 1, 1.6, -1}, {3.0, 50, 330, 1, 1.7, 4.5}};
    CHECK_INT(store_phase_series_add(s, pid, pts, 3, &e), ==, 0);
    struct store_series_point *got = NULL;
    size_t ngot = 0;
    CHECK_INT(store_phase_series_load(s, pid, &got, &ngot, &e), ==, 0);
    CHECK_INT(ngot, ==, 3);
    if (ngot == 3) {
        CHECK_DBL(got[1].t_s, ==, 2.0);
        CHECK_INT(got[1].requests, ==, 210);
        CHECK_INT(got[1].failures, ==, 1);
        CHECK_DBL(got[1].p99_ms, ==, -1);
        CHECK_DBL(got[2].p50_ms, ==, 1.7);
    }
    free(got);
    c3.status = CELL_OK;
    c3.capacity_users = 50;
    CHECK_INT(store_cell_finish(s, &c3, &e), ==, 0);

    /* Reload run 1 and compare every field. */
    struct run_record l;
    CHECK_INT(store_load_run(s, r1.id, &l, &e), ==, 0);
    CHECK_INT(l.id, ==, r1.id);
    CHECK_STR(l.started_at, "2026-11-27T02:00:00Z");
    CHECK(l.finished_at[0] != '\0');
    CHECK_STR(l.trigger, "nightly");
    CHECK_STR(l.status, "failed");
    CHECK_STR(l.profile, "quick");
    CHECK_STR(l.matrix_sha256, r1.matrix_sha256);
    CHECK_STR(l.node_host, "bench-1");
    CHECK_STR(l.node_cpus, "1");
    CHECK_STR(l.node_kernel, "6.1.0-13-amd64");
    CHECK_STR(l.node_cpu_model, "AMD EPYC 7B13");
    CHECK_INT(l.node_cpu_count, ==, 2);
    CHECK_STR(l.node_governor, "performance");
    CHECK_STR(l.node_python, "3.11.2");
    CHECK_DBL(l.node_loadavg, ==, 0.25);
    CHECK_INT(l.ncells, ==, 3);
    if (l.ncells == 3) {
        struct cell_result *a = &l.cells[0], *b = &l.cells[1];
        CHECK_INT(a->id, ==, c1.id);
        CHECK_STR(a->framework, "flask");
        CHECK_STR(a->payload, "json");
        CHECK_INT(a->status, ==, CELL_FAILED);
        CHECK(a->error == NULL);
        CHECK_STR(a->versions_json, "{\"python\":\"3.11.2\",\"flask\":\"2.2.2\"}");
        CHECK_INT(a->capacity_users, ==, 200);
        CHECK_INT(a->breaking_users, ==, 300);
        CHECK_DBL(a->peak_rps, ==, 702.5);
        CHECK_INT(a->held_users, ==, 3000);
        CHECK_STR(a->held_limit, "server");
        CHECK_INT(a->nload_points, ==, 2);
        for (int i = 0; i < a->nload_points && i < 2; i++) {
            CHECK_DBL(a->load_points[i].pct_of_peak, ==, c1.load_points[i].pct_of_peak);
            CHECK_DBL(a->load_points[i].offered_rps, ==, c1.load_points[i].offered_rps);
            CHECK_DBL(a->load_points[i].rps, ==, c1.load_points[i].rps);
            CHECK_DBL(a->load_points[i].latency_ms.p99, ==, c1.load_points[i].latency_ms.p99);
            CHECK_DBL(a->load_points[i].latency_ms.p999, ==, c1.load_points[i].latency_ms.p999);
            CHECK_INT(a->load_points[i].failures, ==, c1.load_points[i].failures);
        }
        CHECK_INT(a->nphases, ==, 4);
        for (size_t i = 0; i < a->nphases && i < 4; i++)
            check_phase_eq(&a->phases[i], &ph[i]);
        CHECK_INT(b->id, ==, c2.id);
        CHECK_STR(b->framework, "django");
        CHECK_INT(b->status, ==, CELL_ERROR);
        CHECK_STR(b->error, "server did not start: exit 1");
        CHECK(b->versions_json == NULL);
        CHECK_INT(b->capacity_users, ==, -1);
        CHECK_INT(b->breaking_users, ==, -1);
        CHECK_INT(b->held_users, ==, -1);
        CHECK_STR(b->held_limit, "");
        CHECK_INT(b->nload_points, ==, 0);
        CHECK_INT(b->nphases, ==, 0);
        CHECK_STR(l.cells[2].framework, "bottle");
        /* Every loaded phase carries its row id: distinct, in seq order, and
         * the one store_phase_add_id returned. */
        for (size_t i = 0; i < a->nphases; i++) {
            CHECK(a->phases[i].id > 0);
            if (i)
                CHECK(a->phases[i].id > a->phases[i - 1].id);
        }
        struct cell_result *c3l = &l.cells[2];
        CHECK_INT(c3l->nphases, ==, 1);
        if (c3l->nphases == 1) {
            CHECK_INT(c3l->phases[0].id, ==, pid);
            /* The series is reached from the loaded run alone. */
            struct store_series_point *lp = NULL;
            size_t nlp = 0;
            CHECK_INT(store_phase_series_load(s, c3l->phases[0].id, &lp, &nlp, &e), ==, 0);
            CHECK_INT(nlp, ==, 3);
            for (size_t i = 0; i < nlp && i < 3; i++) {
                CHECK_DBL(lp[i].t_s, ==, pts[i].t_s);
                CHECK_INT(lp[i].users, ==, pts[i].users);
                CHECK_INT(lp[i].requests, ==, pts[i].requests);
                CHECK_INT(lp[i].failures, ==, pts[i].failures);
                CHECK_DBL(lp[i].p50_ms, ==, pts[i].p50_ms);
                CHECK_DBL(lp[i].p99_ms, ==, pts[i].p99_ms);
            }
            free(lp);
        }
        /* A phase without a series loads as none (the report's fallback). */
        if (a->nphases) {
            struct store_series_point *none = NULL;
            size_t nnone = 1;
            CHECK_INT(store_phase_series_load(s, a->phases[0].id, &none, &nnone, &e), ==, 0);
            CHECK_INT(nnone, ==, 0);
            CHECK(none == NULL);
        }
    }
    run_record_free(&l);
    err_clear(&e2);
    CHECK_INT(store_load_run(s, 424242, &l, &e2), ==, -ENOENT);
    CHECK_INT(l.ncells, ==, 0);

    /* Run 2, newer; empty started_at is filled with now. */
    struct run_record r2;
    init_run(&r2, "", "");
    r2.trigger[0] = '\0';
    CHECK_INT(store_run_begin(s, &r2, &e), ==, 0);
    CHECK_INT(strlen(r2.started_at), ==, 20);
    CHECK(strcmp(r2.started_at, "2026-01-01") > 0);
    struct cell_result d1, d2;
    init_cell(&d1, "flask", "json");
    init_cell(&d2, "flask", "text");
    CHECK_INT(store_cell_begin(s, r2.id, &d1, &e), ==, 0);
    CHECK_INT(store_cell_begin(s, r2.id, &d2, &e), ==, 0);
    struct phase_result q[3];
    make_phase(&q[0], 100, 5, 0);
    make_phase(&q[1], 200, 6, 0);
    make_phase(&q[2], 100, 7, 1);
    CHECK_INT(store_phase_add(s, d1.id, 0, &q[0], &e), ==, 0);
    CHECK_INT(store_phase_add(s, d1.id, 1, &q[1], &e), ==, 0);
    CHECK_INT(store_phase_add(s, d2.id, 0, &q[2], &e), ==, 0);
    d1.status = CELL_OK;
    d1.capacity_users = 200;
    d1.peak_rps = 800;
    CHECK_INT(store_cell_finish(s, &d1, &e), ==, 0);
    d2.status = CELL_FAILED;
    d2.breaking_users = 100; /* capacity stays null: history uses the first phase */
    CHECK_INT(store_cell_finish(s, &d2, &e), ==, 0);
    CHECK_INT(store_run_finish(s, r2.id, "failed", &e), ==, 0);

    int64_t last = 0;
    CHECK_INT(store_last_run(s, &last, &e), ==, 0);
    CHECK_INT(last, ==, r2.id);

    /* History: all rows, newest run first then cell seq. */
    struct store_history_row *h = NULL;
    size_t nh = 0;
    CHECK_INT(store_history(s, NULL, "*", 0, &h, &nh, &e), ==, 0);
    CHECK_INT(nh, ==, 5);
    if (nh == 5) {
        CHECK_INT(h[0].run_id, ==, r2.id);
        CHECK_INT(h[0].cell_id, ==, d1.id);
        CHECK_STR(h[0].started_at, r2.started_at);
        CHECK_STR(h[0].status, "ok");
        CHECK_INT(h[0].capacity_users, ==, 200);
        CHECK_INT(h[0].breaking_users, ==, -1);
        CHECK_DBL(h[0].peak_rps, ==, 800);
        CHECK_INT(h[1].cell_id, ==, d2.id);
        CHECK_STR(h[1].payload, "text");
        CHECK_INT(h[1].capacity_users, ==, -1);
        CHECK_INT(h[1].breaking_users, ==, 100);
        CHECK_INT(h[2].cell_id, ==, c1.id);
        CHECK_STR(h[2].profile, "quick");
        /* Rows only: the figures of the phases are the review commands'
         * (cell_capacity_phase and the headline; tests/review). */
        CHECK_INT(h[3].cell_id, ==, c2.id);
        CHECK_STR(h[3].status, "error");
        CHECK_INT(h[3].capacity_users, ==, -1);
        CHECK_INT(h[4].cell_id, ==, c3.id);
    }
    free(h);

    /* Filters. */
    CHECK_INT(store_history(s, "flask", "json", 0, &h, &nh, &e), ==, 0);
    CHECK_INT(nh, ==, 2);
    if (nh == 2) {
        CHECK_INT(h[0].cell_id, ==, d1.id);
        CHECK_INT(h[1].cell_id, ==, c1.id);
    }
    free(h);
    CHECK_INT(store_history(s, "flask", NULL, 0, &h, &nh, &e), ==, 0);
    CHECK_INT(nh, ==, 3);
    free(h);
    CHECK_INT(store_history(s, "*", "text", 0, &h, &nh, &e), ==, 0);
    CHECK_INT(nh, ==, 2);
    if (nh == 2) {
        CHECK_STR(h[0].framework, "flask");
        CHECK_STR(h[1].framework, "django");
    }
    free(h);
    CHECK_INT(store_history(s, "nosuch", NULL, 0, &h, &nh, &e), ==, 0);
    CHECK_INT(nh, ==, 0);
    free(h);
    /* Limit counts rows. */
    CHECK_INT(store_history(s, NULL, NULL, 3, &h, &nh, &e), ==, 0);
    CHECK_INT(nh, ==, 3);
    if (nh == 3)
        CHECK_INT(h[2].cell_id, ==, c1.id);
    free(h);

    CHECK_INT(store_check(s, &e), ==, 0);
    CHECK_INT(e.code, ==, 0);
    if (e.code)
        fprintf(stderr, "unexpected error: %s\n", e.msg);

    cell_result_free(&c1);
    cell_result_free(&c2);
    cell_result_free(&c3);
    cell_result_free(&d1);
    cell_result_free(&d2);
    store_close(s);

    /* Reopening a current file changes nothing. */
    CHECK_INT(store_open(path, &s, &e), ==, 0);
    CHECK_INT(store_history(s, NULL, NULL, 0, &h, &nh, &e), ==, 0);
    CHECK_INT(nh, ==, 5);
    free(h);
    store_close(s);
    CHECK_INT(header_u32(path, HDR_USER_VERSION), ==, STORE_SCHEMA_VERSION);
}

static void test_mark_interrupted(void)
{
    char path[512];
    path_in(path, sizeof(path), "interrupted.db");
    struct err e;
    err_clear(&e);
    struct store *s = NULL;
    CHECK_INT(store_open(path, &s, &e), ==, 0);
    if (!s)
        return;
    struct run_record a, b;
    init_run(&a, "2026-11-27T02:00:00Z", "");
    init_run(&b, "2026-11-28T02:00:00Z", "");
    CHECK_INT(store_run_begin(s, &a, &e), ==, 0);
    CHECK_INT(store_run_begin(s, &b, &e), ==, 0);
    struct cell_result done, running, other;
    init_cell(&done, "flask", "json");
    init_cell(&running, "flask", "text");
    init_cell(&other, "bottle", "json");
    CHECK_INT(store_cell_begin(s, a.id, &done, &e), ==, 0);
    done.status = CELL_OK;
    CHECK_INT(store_cell_finish(s, &done, &e), ==, 0);
    CHECK_INT(store_cell_begin(s, a.id, &running, &e), ==, 0);
    CHECK_INT(store_cell_begin(s, b.id, &other, &e), ==, 0);
    CHECK_INT(store_run_finish(s, b.id, "ok", &e), ==, 0); /* a finished run keeps its cells */

    int count = -1;
    CHECK_INT(store_mark_interrupted(s, &count, &e), ==, 0);
    CHECK_INT(count, ==, 1);
    struct run_record l;
    CHECK_INT(store_load_run(s, a.id, &l, &e), ==, 0);
    CHECK_STR(l.status, "interrupted");
    CHECK(l.finished_at[0] != '\0');
    CHECK_INT(l.ncells, ==, 2);
    if (l.ncells == 2) {
        CHECK_INT(l.cells[0].status, ==, CELL_OK);
        CHECK_INT(l.cells[1].status, ==, CELL_INTERRUPTED);
    }
    run_record_free(&l);
    CHECK_INT(store_load_run(s, b.id, &l, &e), ==, 0);
    CHECK_STR(l.status, "ok");
    if (l.ncells == 1)
        CHECK_INT(l.cells[0].status, ==, CELL_RUNNING);
    run_record_free(&l);
    CHECK_INT(store_mark_interrupted(s, &count, &e), ==, 0);
    CHECK_INT(count, ==, 0);
    store_close(s);
}

static void test_migrations(void)
{
    struct err e;
    struct store *s = NULL;
    char path[512];

    /* An empty file is an SQLite database at user_version 0: it gets the schema. */
    path_in(path, sizeof(path), "empty.db");
    int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0600);
    CHECK(fd >= 0);
    if (fd >= 0)
        close(fd);
    err_clear(&e);
    CHECK_INT(store_open(path, &s, &e), ==, 0);
    if (s) {
        struct run_record r;
        init_run(&r, "2026-11-28T02:00:00Z", "");
        CHECK_INT(store_run_begin(s, &r, &e), ==, 0);
        int64_t last = 0;
        CHECK_INT(store_last_run(s, &last, &e), ==, 0);
        CHECK_INT(last, ==, r.id);
        CHECK_INT(store_check(s, &e), ==, 0);
        store_close(s);
    }
    CHECK_INT(header_u32(path, HDR_USER_VERSION), ==, STORE_SCHEMA_VERSION);
    CHECK_INT(header_u32(path, HDR_APP_ID), ==, 0x6d666273);

    /* A newer schema is refused, and the file is left alone. */
    char newer[512];
    path_in(newer, sizeof(newer), "newer.db");
    err_clear(&e);
    CHECK_INT(store_open(newer, &s, &e), ==, 0);
    store_close(s);
    CHECK_INT(set_header_u32(newer, HDR_USER_VERSION, 999), ==, 0);
    err_clear(&e);
    s = NULL;
    CHECK_INT(store_open(newer, &s, &e), ==, -ENOTSUP);
    CHECK(s == NULL);
    CHECK_CONTAINS(e.msg, "schema version 999 is newer");
    CHECK_CONTAINS(e.msg, newer);
    CHECK_INT(header_u32(newer, HDR_USER_VERSION), ==, 999);
    /* Refused before any write: no journal switch, no -wal file left behind. */
    char wal[600];
    snprintf(wal, sizeof(wal), "%s-wal", newer);
    CHECK_INT(access(wal, F_OK), ==, -1);

    /* A failing migration step rolls back: the version stays where it was. */
    char half[512];
    path_in(half, sizeof(half), "half.db");
    err_clear(&e);
    CHECK_INT(store_open(half, &s, &e), ==, 0);
    store_close(s);
    CHECK_INT(set_header_u32(half, HDR_USER_VERSION, 0), ==, 0);
    err_clear(&e);
    s = NULL;
    CHECK(store_open(half, &s, &e) < 0);
    CHECK(s == NULL);
    CHECK_CONTAINS(e.msg, "migration 0 -> 1");
    CHECK_CONTAINS(e.msg, "already exists");
    CHECK_INT(header_u32(half, HDR_USER_VERSION), ==, 0);

    /* Another application's database is not ours to migrate. */
    char foreign[512];
    path_in(foreign, sizeof(foreign), "foreign.db");
    err_clear(&e);
    CHECK_INT(store_open(foreign, &s, &e), ==, 0);
    store_close(s);
    CHECK_INT(set_header_u32(foreign, HDR_APP_ID, 0x12345678), ==, 0);
    err_clear(&e);
    s = NULL;
    CHECK_INT(store_open(foreign, &s, &e), ==, -EILSEQ);
    CHECK_CONTAINS(e.msg, "not an mfbench store");

    /* Not a database at all. */
    char junk[512];
    path_in(junk, sizeof(junk), "junk.db");
    fd = open(junk, O_CREAT | O_WRONLY | O_TRUNC, 0600);
    if (fd >= 0) {
        char text[512];
        memset(text, 'x', sizeof(text));
        CHECK_INT(write(fd, text, sizeof(text)), ==, (long)sizeof(text));
        close(fd);
    }
    err_clear(&e);
    s = NULL;
    CHECK(store_open(junk, &s, &e) < 0);
    CHECK(s == NULL);
    CHECK_CONTAINS(e.msg, "not a database");

    /* A parent that is a file cannot hold the store. */
    char under[600];
    snprintf(under, sizeof(under), "%s/x.db", junk);
    err_clear(&e);
    CHECK(store_open(under, &s, &e) < 0);
    CHECK_CONTAINS(e.msg, junk);
}

/* Two handles on one file, like the CLI reading while the daemon writes: each
 * committed phase is visible to the reader at once, and a read does not block
 * the writer. */
static void test_two_handles(void)
{
    char path[512];
    path_in(path, sizeof(path), "shared.db");
    struct err e;
    err_clear(&e);
    struct store *w = NULL, *rd = NULL;
    CHECK_INT(store_open(path, &w, &e), ==, 0);
    CHECK_INT(store_open(path, &rd, &e), ==, 0);
    if (!w || !rd) {
        store_close(w);
        store_close(rd);
        return;
    }
    struct run_record r;
    init_run(&r, "2026-11-28T02:00:00Z", "");
    struct cell_result c;
    init_cell(&c, "falcon", "json");
    CHECK_INT(store_run_begin(w, &r, &e), ==, 0);
    CHECK_INT(store_cell_begin(w, r.id, &c, &e), ==, 0);
    for (int i = 0; i < 3; i++) {
        struct phase_result p;
        make_phase(&p, 10 * (i + 1), i, 0);
        CHECK_INT(store_phase_add(w, c.id, i, &p, &e), ==, 0);
        struct run_record l;
        CHECK_INT(store_load_run(rd, r.id, &l, &e), ==, 0);
        CHECK_INT(l.ncells, ==, 1);
        if (l.ncells == 1)
            CHECK_INT(l.cells[0].nphases, ==, i + 1);
        run_record_free(&l);
    }
    struct store_history_row *h = NULL;
    size_t nh = 0;
    CHECK_INT(store_history(rd, "falcon", NULL, 1, &h, &nh, &e), ==, 0);
    CHECK_INT(nh, ==, 1);
    if (nh == 1)
        CHECK_STR(h[0].framework, "falcon");
    free(h);
    CHECK_INT(store_run_finish(w, r.id, "ok", &e), ==, 0);
    int64_t last = 0;
    CHECK_INT(store_last_run(rd, &last, &e), ==, 0);
    CHECK_INT(last, ==, r.id);
    CHECK_INT(e.code, ==, 0);
    store_close(rd);
    store_close(w);
}

/* The child writes a run, a cell and 3 phases and dies by SIGKILL without
 * closing anything; every phase must be in the file for the parent. */
static void test_durability(void)
{
    char path[512];
    path_in(path, sizeof(path), "killed.db");
    fflush(NULL);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        struct err e;
        err_clear(&e);
        struct store *s = NULL;
        if (store_open(path, &s, &e) < 0)
            _exit(3);
        struct run_record r;
        init_run(&r, "2026-11-28T02:00:00Z", "quick");
        struct cell_result c;
        init_cell(&c, "flask", "json");
        if (store_run_begin(s, &r, &e) < 0 || store_cell_begin(s, r.id, &c, &e) < 0)
            _exit(4);
        for (int i = 0; i < 3; i++) {
            struct phase_result p;
            make_phase(&p, 100 * (i + 1), i, 0);
            if (store_phase_add(s, c.id, i, &p, &e) < 0)
                _exit(5);
        }
        raise(SIGKILL);
        _exit(6);
    }
    int status = 0;
    CHECK_INT(waitpid(pid, &status, 0), ==, pid);
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);

    struct err e;
    err_clear(&e);
    struct store *s = NULL;
    CHECK_INT(store_open(path, &s, &e), ==, 0);
    if (!s)
        return;
    int64_t id = 0;
    CHECK_INT(store_last_run(s, &id, &e), ==, 0);
    struct run_record l;
    CHECK_INT(store_load_run(s, id, &l, &e), ==, 0);
    /* Its process is gone: the open repaired the run. */
    CHECK_STR(l.status, "interrupted");
    CHECK(l.finished_at[0] != '\0');
    CHECK_INT(l.ncells, ==, 1);
    if (l.ncells == 1) {
        CHECK_INT(l.cells[0].status, ==, CELL_INTERRUPTED);
        CHECK_INT(l.cells[0].nphases, ==, 3);
        for (size_t i = 0; i < l.cells[0].nphases && i < 3; i++) {
            struct phase_result p;
            make_phase(&p, 100 * ((int)i + 1), (int)i, 0);
            check_phase_eq(&l.cells[0].phases[i], &p);
        }
    }
    run_record_free(&l);
    int count = -1;
    CHECK_INT(store_mark_interrupted(s, &count, &e), ==, 0);
    CHECK_INT(count, ==, 0);
    CHECK_INT(store_check(s, &e), ==, 0);
    store_close(s);
}

/* Runs one SQL statement on the file behind the store's back; 0 or -1. */
static int forge(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    int rc = sqlite3_open(path, &db);
    if (rc == SQLITE_OK) {
        sqlite3_busy_timeout(db, 5000);
        rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
        if (rc != SQLITE_OK)
            fprintf(stderr, "forge: %s: %s\n", sql, sqlite3_errmsg(db));
    }
    sqlite3_close(db);
    return rc == SQLITE_OK ? 0 : -1;
}

static void run_status(struct store *s, int64_t id, char *out, size_t n)
{
    struct err e;
    err_clear(&e);
    struct run_record l;
    out[0] = '\0';
    if (store_load_run(s, id, &l, &e) == 0)
        snprintf(out, n, "%s", l.status);
    run_record_free(&l);
}

/* A child begins a run and waits; while it lives the run is left alone by
 * open and by mark_interrupted, and a second run is refused naming its pid;
 * once it is dead, the next open repairs the run and a new one may begin.
 * Forged rows: a dead pid, a live pid whose start time differs (reused), a
 * dead pid of another host, a row without owner (before schema v4). */
static void test_owner_repair_and_busy(void)
{
    char path[512], sql[512], st[32];
    path_in(path, sizeof(path), "owner.db");
    int go[2], ready[2];
    CHECK_INT(pipe(go), ==, 0);
    CHECK_INT(pipe(ready), ==, 0);
    fflush(NULL);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        struct err e;
        err_clear(&e);
        struct store *s = NULL;
        struct run_record r;
        init_run(&r, "2026-11-28T02:00:00Z", "");
        char c = 'x';
        if (store_open(path, &s, &e) < 0 || store_run_begin(s, &r, &e) < 0)
            c = 'e';
        if (write(ready[1], &c, 1) != 1 || read(go[0], &c, 1) < 0)
            _exit(3);
        _exit(0); /* without finishing the run, as a crash would */
    }
    char c = 0;
    CHECK_INT(read(ready[0], &c, 1), ==, 1);
    CHECK_INT(c, ==, 'x');

    struct err e;
    err_clear(&e);
    struct store *s = NULL;
    CHECK_INT(store_open(path, &s, &e), ==, 0);
    if (!s) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        return;
    }
    run_status(s, 1, st, sizeof(st));
    CHECK_STR(st, "running"); /* the child is alive: left alone */
    CHECK_INT(store_open_repaired(s), ==, 0);
    int count = -1;
    CHECK_INT(store_repair(s, &count, &e), ==, 0);
    CHECK_INT(count, ==, 0);
    CHECK_INT(store_mark_interrupted(s, &count, &e), ==, 0);
    CHECK_INT(count, ==, 0);
    run_status(s, 1, st, sizeof(st));
    CHECK_STR(st, "running");
    /* Busy, naming the child's run and pid; no row was added. */
    char want[64];
    snprintf(want, sizeof(want), "store busy: run 1 (pid %lld)", (long long)pid);
    err_clear(&e);
    CHECK_INT(store_busy(s, &e), ==, -EBUSY);
    CHECK_CONTAINS(e.msg, want);
    struct run_record r;
    init_run(&r, "2026-11-28T03:00:00Z", "");
    err_clear(&e);
    CHECK_INT(store_run_begin(s, &r, &e), ==, -EBUSY);
    CHECK_CONTAINS(e.msg, want);
    CHECK_CONTAINS(e.msg, path);
    int64_t last = 0;
    CHECK_INT(store_last_run(s, &last, &e), ==, 0);
    CHECK_INT(last, ==, 1);
    store_close(s);
    s = NULL;

    /* The child ends; the next open repairs its run, and a run may begin. */
    CHECK_INT(write(go[1], "g", 1), ==, 1);
    int status = 0;
    CHECK_INT(waitpid(pid, &status, 0), ==, pid);
    close(go[0]), close(go[1]), close(ready[0]), close(ready[1]);
    err_clear(&e);
    CHECK_INT(store_open(path, &s, &e), ==, 0);
    if (!s)
        return;
    run_status(s, 1, st, sizeof(st));
    CHECK_STR(st, "interrupted");
    CHECK_INT(store_open_repaired(s), ==, 1);
    err_clear(&e);
    CHECK_INT(store_busy(s, &e), ==, 0);
    init_run(&r, "2026-11-28T03:00:00Z", "");
    CHECK_INT(store_run_begin(s, &r, &e), ==, 0);
    CHECK_INT(r.id, ==, 2);
    CHECK_INT(store_run_finish(s, r.id, "ok", &e), ==, 0);
    store_close(s);
    s = NULL;

    /* Forged rows, each copied from run 2's owner (this host, this boot):
     * 3: pid of the exited child (dead); 4: pid 1 with another start time
     * (a reused pid); 5: the dead pid on another host; 6: no owner at all;
     * 7: pid 1 with its own start time (alive, left alone). */
    snprintf(sql, sizeof(sql),
             "INSERT INTO runs(started_at, status, owner_pid, owner_start, owner_boot, owner_host)"
             " SELECT '2026-11-29T00:00:00Z', 'running', %lld, NULL, owner_boot, owner_host"
             " FROM runs WHERE id = 2",
             (long long)pid);
    CHECK_INT(forge(path, sql), ==, 0);
    CHECK_INT(forge(path, "INSERT INTO runs(started_at, status, owner_pid, owner_start, owner_boot,"
                          " owner_host) SELECT '2026-11-29T00:00:01Z', 'running', 1, 123456789012,"
                          " owner_boot, owner_host FROM runs WHERE id = 2"),
              ==, 0);
    snprintf(sql, sizeof(sql),
             "INSERT INTO runs(started_at, status, owner_pid, owner_boot, owner_host)"
             " SELECT '2026-11-29T00:00:02Z', 'running', %lld, owner_boot, 'elsewhere.example'"
             " FROM runs WHERE id = 2",
             (long long)pid);
    CHECK_INT(forge(path, sql), ==, 0);
    CHECK_INT(forge(path, "INSERT INTO runs(started_at, status) VALUES('2026-11-29T00:00:03Z',"
                          " 'running')"),
              ==, 0);
    /* pid 1's start time as /proc says it (field 22), through a row the store wrote. */
    FILE *f = fopen("/proc/1/stat", "r");
    long long start1 = -1;
    if (f) {
        char buf[1024];
        size_t n = fread(buf, 1, sizeof(buf) - 1, f);
        buf[n] = '\0';
        fclose(f);
        char *p = strrchr(buf, ')');
        for (int field = 3; p && field <= 22; field++) {
            p = strchr(p + 1, ' ');
            if (p && field == 22)
                start1 = strtoll(p + 1, NULL, 10);
        }
    }
    CHECK(start1 >= 0);
    snprintf(sql, sizeof(sql),
             "INSERT INTO runs(started_at, status, owner_pid, owner_start, owner_boot, owner_host)"
             " SELECT '2026-11-29T00:00:04Z', 'running', 1, %lld, owner_boot, owner_host"
             " FROM runs WHERE id = 2",
             start1);
    CHECK_INT(forge(path, sql), ==, 0);
    err_clear(&e);
    CHECK_INT(store_open(path, &s, &e), ==, 0);
    if (!s)
        return;
    static const char *const want_after_open[] = {
        "", "interrupted", "ok", "interrupted", "interrupted", "running", "running", "running"};
    for (int64_t id = 1; id <= 7; id++) {
        run_status(s, id, st, sizeof(st));
        if (strcmp(st, want_after_open[id]) != 0)
            fprintf(stderr, "run %lld after open:\n", (long long)id);
        CHECK_STR(st, want_after_open[id]);
    }
    /* pid 1 is alive on this host: the store is busy with run 7. */
    err_clear(&e);
    CHECK_INT(store_busy(s, &e), ==, -EBUSY);
    CHECK_CONTAINS(e.msg, "store busy: run 7 (pid 1)");
    /* mark_interrupted (the daemon's start): the ownerless run too, not the
     * live one nor the other host's. */
    CHECK_INT(store_mark_interrupted(s, &count, &e), ==, 0);
    CHECK_INT(count, ==, 1);
    run_status(s, 6, st, sizeof(st));
    CHECK_STR(st, "interrupted");
    run_status(s, 5, st, sizeof(st));
    CHECK_STR(st, "running");
    run_status(s, 7, st, sizeof(st));
    CHECK_STR(st, "running");
    store_close(s);
}

/* What schema v13 added, dropped again to forge an older store. */
#define V13_DROPS                                                                                  \
    "ALTER TABLE phases DROP COLUMN database_cpu_pct;"                                             \
    "ALTER TABLE phases DROP COLUMN database_cpu_max_pct;"                                         \
    "ALTER TABLE phases DROP COLUMN database_rss_max_kb;"                                          \
    "ALTER TABLE phases DROP COLUMN db_bound;"
/* What schemas v12 (verified samples) and v11 (node_fingerprint) added, and v13 after them,
 * dropped again to forge an older store. */
#define V12_DROPS                                                                                  \
    V13_DROPS                                                                                      \
    "ALTER TABLE phases DROP COLUMN verified_sampled;"                                             \
    "ALTER TABLE phases DROP COLUMN verified_wrong;"
#define V11_DROPS V12_DROPS "ALTER TABLE cells DROP COLUMN node_fingerprint;"

/* What schema v10 added (and v11 after it), dropped again to forge an older store. */
#define V10_DROPS                                                                                  \
    V11_DROPS                                                                                      \
    "ALTER TABLE cells DROP COLUMN node_host;"                                                     \
    "ALTER TABLE cells DROP COLUMN slurm_job_id;"

/* What schema v9 added (and v10 after it), dropped again to forge an older store (v8 added
 * no column: it rewrote phases.kind). */
#define V9_DROPS V10_DROPS "ALTER TABLE cells DROP COLUMN held_setting;"

/* What schema v7 added (and v9 after it), dropped again to forge an older store. */
#define V7_DROPS                                                                                   \
    V9_DROPS                                                                                       \
    "ALTER TABLE phases DROP COLUMN client_steal_pct;"                                             \
    "ALTER TABLE phases DROP COLUMN client_neighbour_cpu_pct;"

/* What schema v6 added (and v7 after it), dropped again to forge an older store. */
#define V6_DROPS                                                                                   \
    V7_DROPS                                                                                       \
    "DROP TABLE cell_slo;"                                                                         \
    "ALTER TABLE phases DROP COLUMN offered; ALTER TABLE phases DROP COLUMN sent;"                 \
    "ALTER TABLE phases DROP COLUMN completed; ALTER TABLE phases DROP COLUMN unsent_due;"         \
    "ALTER TABLE phases DROP COLUMN over_bound; ALTER TABLE phases DROP COLUMN bound_ms;"          \
    "ALTER TABLE phases DROP COLUMN seed; ALTER TABLE phases DROP COLUMN arrivals;"                \
    "ALTER TABLE phases DROP COLUMN connections_max;"                                              \
    "ALTER TABLE phases DROP COLUMN connect_failures; ALTER TABLE phases DROP COLUMN retries;"     \
    "ALTER TABLE phases DROP COLUMN stopped_early; ALTER TABLE phases DROP COLUMN pct_of;"         \
    "ALTER TABLE cells DROP COLUMN peak_rps_passing;"                                              \
    "ALTER TABLE load_points DROP COLUMN of_slo; ALTER TABLE load_points DROP COLUMN offered;"     \
    "ALTER TABLE load_points DROP COLUMN completed;"                                               \
    "ALTER TABLE load_points DROP COLUMN in_flight;"

/* A store of schema v7 whose search phases are kind 'linear' (and '' from a
 * writer that left it empty) migrates to v8 (and on to v9): those rows read 'ladder' in the
 * file, other kinds are kept, and a row later inserted with the column's
 * default ('linear') still loads as the ladder. */
static void test_migration_kind_ladder(void)
{
    char path[512];
    path_in(path, sizeof(path), "v7.db");
    struct err e;
    err_clear(&e);
    struct store *s = NULL;
    CHECK_INT(store_open(path, &s, &e), ==, 0);
    store_close(s);
    s = NULL;
#define PHASE_V7(seq, kind)                                                                        \
    "INSERT INTO phases(cell_id, seq, users, duration_s, requests, failures, fail_connect,"        \
    " fail_timeout, fail_reset, fail_status, fail_body, fail_protocol, fail_client, bytes_read,"   \
    " missed_schedule, load_bound, client_bound, kind) VALUES(1, " #seq ", 10, 1, 100, 0, 0, 0,"   \
    " 0, 0, 0, 0, 0, 0, 0, 0, 0, " kind ");"
    CHECK_INT(forge(path, V9_DROPS "INSERT INTO runs(started_at, status)"
                                   " VALUES('2026-01-01T00:00:00Z', 'ok');"
                                   "INSERT INTO cells(run_id, seq, framework, payload, status)"
                                   " VALUES(1, 0, 'flask', 'json', 'ok');" PHASE_V7(0, "'linear'")
                                       PHASE_V7(1, "''") PHASE_V7(2, "'bisect'")
                                           PHASE_V7(3, "'load'") "PRAGMA user_version = 7;"),
              ==, 0);
    CHECK_INT(store_open(path, &s, &e), ==, 0);
    store_close(s);
    s = NULL;
    CHECK_INT(header_u32(path, HDR_USER_VERSION), ==, STORE_SCHEMA_VERSION);
    /* Fails unless every search row was rewritten and the rest kept. */
    CHECK_INT(forge(path, "CREATE TEMP TABLE t(x INTEGER CHECK (x = 1));"
                          "INSERT INTO t SELECT group_concat(kind, ',') ="
                          " 'ladder,ladder,bisect,load' FROM (SELECT kind FROM phases"
                          " ORDER BY seq);"),
              ==, 0);
    /* The column's default is still 'linear': a load reads it as the ladder. */
    CHECK_INT(forge(path, "INSERT INTO phases(cell_id, seq, users, duration_s, requests, failures,"
                          " fail_connect, fail_timeout, fail_reset, fail_status, fail_body,"
                          " fail_protocol, fail_client, bytes_read, missed_schedule, load_bound,"
                          " client_bound) VALUES(1, 4, 20, 1, 100, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,"
                          " 0, 0);"),
              ==, 0);
    CHECK_INT(store_open(path, &s, &e), ==, 0);
    if (!s)
        return;
    struct run_record r;
    CHECK_INT(store_load_run(s, 1, &r, &e), ==, 0);
    CHECK_INT(r.ncells, ==, 1);
    if (r.ncells == 1 && r.cells[0].nphases == 5) {
        static const char *const want[] = {"ladder", "ladder", "bisect", "load", "ladder"};
        for (int i = 0; i < 5; i++)
            CHECK_STR(r.cells[0].phases[i].kind, want[i]);
    } else {
        CHECK(0 && "five phases");
    }
    run_record_free(&r);
    store_close(s);
#undef PHASE_V7
}

/* A store of schema v12 (forged: v13's database columns dropped) with a phase migrates to
 * v13: the phase loads with the database not sampled (-1) and not db_bound, and a phase
 * written after carries them. */
static void test_migration_from_v12(void)
{
    char path[512];
    path_in(path, sizeof(path), "v12.db");
    struct err e;
    err_clear(&e);
    struct store *s = NULL;
    CHECK_INT(store_open(path, &s, &e), ==, 0);
    store_close(s);
    s = NULL;
    CHECK_INT(forge(path, V13_DROPS "INSERT INTO runs(started_at, status)"
                                    " VALUES('2026-01-01T00:00:00Z', 'ok');"
                                    "INSERT INTO cells(run_id, seq, framework, payload, status)"
                                    " VALUES(1, 0, 'flask', 'db', 'ok');"
                                    "INSERT INTO phases(cell_id, seq, users, duration_s, requests,"
                                    " failures, fail_connect, fail_timeout, fail_reset,"
                                    " fail_status, fail_body, fail_protocol, fail_client,"
                                    " bytes_read, missed_schedule, load_bound, client_bound,"
                                    " kind) VALUES(1, 0, 10, 1, 100, 0, 0, 0, 0, 0, 0, 0, 0, 0,"
                                    " 0, 0, 0, 'ladder');"
                                    "PRAGMA user_version = 12;"),
              ==, 0);
    CHECK_INT(header_u32(path, HDR_USER_VERSION), ==, 12);
    CHECK_INT(store_open(path, &s, &e), ==, 0);
    if (!s)
        return;
    store_close(s);
    s = NULL;
    CHECK_INT(header_u32(path, HDR_USER_VERSION), ==, STORE_SCHEMA_VERSION);
    CHECK_INT(store_open(path, &s, &e), ==, 0);
    if (!s)
        return;
    struct run_record r;
    CHECK_INT(store_load_run(s, 1, &r, &e), ==, 0);
    if (r.ncells == 1 && r.cells[0].nphases == 1) {
        const struct phase_result *p = &r.cells[0].phases[0];
        CHECK_DBL(p->db_cpu_pct, ==, -1);
        CHECK_DBL(p->db_cpu_max_pct, ==, -1);
        CHECK_DBL(p->db_rss_max_kb, ==, -1);
        CHECK_INT(p->db_bound, ==, 0);
        CHECK_INT(p->users, ==, 10);
    } else {
        CHECK(0 && "one cell, one phase");
    }
    run_record_free(&r);
    store_close(s);
}

/* A store written by schema v3 (forged: the columns of v4 to v7 dropped)
 * migrates to the current version on open, keeps its rows, and its "running" run, which has no
 * owner, is not taken for a dead one; a run begun after records its owner. */
static void test_migration_from_v3(void)
{
    char path[512];
    path_in(path, sizeof(path), "v3.db");
    struct err e;
    err_clear(&e);
    struct store *s = NULL;
    CHECK_INT(store_open(path, &s, &e), ==, 0);
    store_close(s);
    s = NULL;
    CHECK_INT(forge(path,
                    V6_DROPS "ALTER TABLE runs DROP COLUMN settings;"
                             "ALTER TABLE runs DROP COLUMN owner_pid;"
                             "ALTER TABLE runs DROP COLUMN owner_start;"
                             "ALTER TABLE runs DROP COLUMN owner_boot;"
                             "ALTER TABLE runs DROP COLUMN owner_host;"
                             "INSERT INTO runs(started_at, status) VALUES('2026-01-01T00:00:00Z',"
                             " 'running');"
                             "INSERT INTO runs(started_at, status) VALUES('2026-01-02T00:00:00Z',"
                             " 'ok');"
                             "PRAGMA user_version = 3;"),
              ==, 0);
    CHECK_INT(header_u32(path, HDR_USER_VERSION), ==, 3);
    CHECK_INT(store_open(path, &s, &e), ==, 0);
    if (!s)
        return;
    char st[32];
    run_status(s, 1, st, sizeof(st));
    CHECK_STR(st, "running");
    run_status(s, 2, st, sizeof(st));
    CHECK_STR(st, "ok");
    struct run_record r;
    init_run(&r, "2026-11-28T03:00:00Z", "");
    CHECK_INT(store_run_begin(s, &r, &e), ==, 0); /* an ownerless run does not lock */
    CHECK_INT(r.id, ==, 3);
    CHECK_INT(store_check(s, &e), ==, 0);
    store_close(s);
    CHECK_INT(header_u32(path, HDR_USER_VERSION), ==,
              STORE_SCHEMA_VERSION); /* checkpointed at close */
    char sql[256];
    snprintf(sql, sizeof(sql),
             "UPDATE runs SET trigger = 'checked' WHERE id = 3 AND owner_pid = %lld"
             " AND owner_host <> '' AND owner_start IS NOT NULL",
             (long long)getpid());
    CHECK_INT(forge(path, sql), ==, 0);
    CHECK_INT(forge(path, "SELECT 1"), ==, 0);
    err_clear(&e);
    CHECK_INT(store_open(path, &s, &e), ==, 0);
    if (s) {
        CHECK_INT(store_load_run(s, 3, &r, &e), ==, 0);
        CHECK_STR(r.trigger, "checked"); /* the owner was recorded */
        run_record_free(&r);
        store_close(s);
    }
}

/* A write that fails mid-run (a file size limit: EFBIG, as a full disk gives
 * ENOSPC) is reported with the store and the system error; store_run_abort
 * then gives back the WAL's space and ends the run "interrupted" with the
 * cells not run. Done in a child: the limit is per process. */
static void test_write_error(void)
{
    char path[512], wal[600];
    path_in(path, sizeof(path), "full.db");
    snprintf(wal, sizeof(wal), "%s-wal", path);
    fflush(NULL);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        struct err e;
        err_clear(&e);
        struct store *s = NULL;
        struct run_record r;
        init_run(&r, "2026-11-28T02:00:00Z", "");
        struct cell_result c;
        init_cell(&c, "flask", "json");
        if (store_open(path, &s, &e) < 0 || store_run_begin(s, &r, &e) < 0 ||
            store_cell_begin(s, r.id, &c, &e) < 0)
            _exit(3);
        signal(SIGXFSZ, SIG_IGN);
        struct stat st;
        if (stat(wal, &st) != 0)
            _exit(4);
        /* Room for a few phases in the WAL, not for fifty. */
        rlim_t lim = (rlim_t)st.st_size + 64 * 1024;
        struct rlimit rl = {lim, lim};
        if (setrlimit(RLIMIT_FSIZE, &rl) != 0)
            _exit(5);
        int failed = 0;
        for (int i = 0; i < 50 && !failed; i++) {
            struct phase_result p;
            make_phase(&p, 10 * (i + 1), i, 0);
            failed = store_phase_add(s, c.id, i, &p, &e) < 0;
        }
        if (!failed)
            _exit(6);
        if (!strstr(e.msg, path) || !strstr(e.msg, "disk I/O error (a write failed")) {
            fprintf(stderr, "unexpected message: %s\n", e.msg);
            _exit(7);
        }
        struct store_cell_name rest[] = {{"flask", "text"}, {"bottle", "json"}};
        err_clear(&e);
        if (store_run_abort(s, r.id, rest, 2, "not run: store", &e) != 0) {
            fprintf(stderr, "abort: %s\n", e.msg);
            _exit(8);
        }
        store_close(s);
        _exit(0);
    }
    int status = -1;
    CHECK_INT(waitpid(pid, &status, 0), ==, pid);
    CHECK(WIFEXITED(status));
    CHECK_INT(WEXITSTATUS(status), ==, 0);
    struct err e;
    err_clear(&e);
    struct store *s = NULL;
    CHECK_INT(store_open(path, &s, &e), ==, 0);
    if (!s)
        return;
    struct run_record l;
    CHECK_INT(store_load_run(s, 1, &l, &e), ==, 0);
    CHECK_STR(l.status, "interrupted");
    CHECK_INT(l.ncells, ==, 3);
    if (l.ncells == 3) {
        CHECK_INT(l.cells[0].status, ==, CELL_INTERRUPTED);
        CHECK(l.cells[0].nphases > 0); /* the phases written before the error are kept */
        CHECK_STR(l.cells[1].framework, "flask");
        CHECK_STR(l.cells[1].payload, "text");
        CHECK_INT(l.cells[2].status, ==, CELL_INTERRUPTED);
        CHECK_STR(l.cells[2].error ? l.cells[2].error : "", "not run: store");
    }
    run_record_free(&l);
    CHECK_INT(store_check(s, &e), ==, 0);
    store_close(s);
}

/* store_path_check: a missing folder is an error and is not created, unless
 * asked (the default locations); a FIFO or a folder is not a store file. */
static void test_path_check(void)
{
    char path[600], dir[512];
    struct err e;
    err_clear(&e);
    path_in(dir, sizeof(dir), "no/such");
    snprintf(path, sizeof(path), "%s/x.db", dir);
    CHECK_INT(store_path_check(path, 0, &e), ==, -ENOENT);
    CHECK_CONTAINS(e.msg, "not created");
    CHECK_INT(access(dir, F_OK), ==, -1);
    struct store *s = NULL;
    err_clear(&e);
    CHECK(store_open(path, &s, &e) < 0); /* nor by the open */
    CHECK_INT(access(dir, F_OK), ==, -1);
    err_clear(&e);
    CHECK_INT(store_path_check(path, 1, &e), ==, 0);
    CHECK_INT(access(dir, F_OK), ==, 0);
    path_in(path, sizeof(path), "fifo.db");
    CHECK_INT(mkfifo(path, 0600), ==, 0);
    err_clear(&e);
    CHECK_INT(store_path_check(path, 0, &e), ==, -EINVAL);
    CHECK_CONTAINS(e.msg, "not a regular file");
    err_clear(&e);
    CHECK_INT(store_path_check(tmpdir, 0, &e), ==, -EINVAL);
}

static void test_default_path(void)
{
    char buf[512];
    unsetenv("MFBENCH_STORE");
    unsetenv("STATE_DIRECTORY");
    unsetenv("XDG_STATE_HOME");
    setenv("HOME", "/home/bench", 1);
    CHECK_STR(store_default_path(NULL, buf, sizeof(buf)),
              "/home/bench/.local/state/mfbench/results.db");
    setenv("XDG_STATE_HOME", "relative/ignored", 1);
    CHECK_STR(store_default_path(NULL, buf, sizeof(buf)),
              "/home/bench/.local/state/mfbench/results.db");
    setenv("XDG_STATE_HOME", "/xdg/state", 1);
    CHECK_STR(store_default_path(NULL, buf, sizeof(buf)), "/xdg/state/mfbench/results.db");
    setenv("STATE_DIRECTORY", "/var/lib/mfbench", 1);
    CHECK_STR(store_default_path(NULL, buf, sizeof(buf)), "/var/lib/mfbench/results.db");
    setenv("STATE_DIRECTORY", "/var/lib/mfbench:/var/lib/other", 1);
    CHECK_STR(store_default_path(NULL, buf, sizeof(buf)), "/var/lib/mfbench/results.db");
    setenv("MFBENCH_STORE", "/srv/r.db", 1);
    CHECK_STR(store_default_path(NULL, buf, sizeof(buf)), "/srv/r.db");
    CHECK_STR(store_default_path("", buf, sizeof(buf)), "/srv/r.db");
    CHECK_STR(store_default_path("./mine.db", buf, sizeof(buf)), "./mine.db");
    setenv("MFBENCH_STORE", "", 1); /* empty counts as unset */
    CHECK_STR(store_default_path(NULL, buf, sizeof(buf)), "/var/lib/mfbench/results.db");
    char tiny[8];
    CHECK(store_default_path(NULL, tiny, sizeof(tiny)) == NULL);
    unsetenv("MFBENCH_STORE");
    unsetenv("STATE_DIRECTORY");
    unsetenv("XDG_STATE_HOME");
}

/* Where a cell ran (schema v10): a Slurm cell's node and job id round-trip; a cell on its
 * run's node has none ("" and 0). */
static void test_cell_node(void)
{
    char path[512];
    path_in(path, sizeof(path), "node.db");
    struct err e;
    err_clear(&e);
    struct store *s = NULL;
    CHECK_INT(store_open(path, &s, &e), ==, 0);
    if (!s)
        return;
    struct run_record r, back;
    init_run(&r, "2026-12-07T12:00:00Z", "quick");
    CHECK_INT(store_run_begin(s, &r, &e), ==, 0);
    struct cell_result a, b;
    init_cell(&a, "flask", "json");
    init_cell(&b, "flask", "text");
    CHECK_INT(store_cell_begin(s, r.id, &a, &e), ==, 0);
    CHECK_INT(store_cell_begin(s, r.id, &b, &e), ==, 0);
    CHECK_INT(store_cell_set_node(s, a.id, "n7", INT64_C(4294967301), &e), ==, 0);
    CHECK_INT(store_cell_set_node(s, 999999, "n7", 5, &e), <, 0); /* no such cell: said */
    static const char fp[] = "{\"cpu_model\":\"EPYC 7763\",\"cpus\":64,\"kernel\":\"6.1.0\","
                             "\"governor\":\"performance\",\"python\":\"3.11.2\",\"loadavg\":0.1}";
    err_clear(&e);
    CHECK_INT(store_cell_set_fingerprint(s, a.id, fp, &e), ==, 0);
    CHECK_INT(store_cell_set_fingerprint(s, 999999, fp, &e), <, 0);
    err_clear(&e);
    CHECK_INT(store_load_run(s, r.id, &back, &e), ==, 0);
    CHECK_INT(back.ncells, ==, 2);
    if (back.ncells == 2) {
        CHECK_STR(back.cells[0].node_host, "n7");
        CHECK_INT(back.cells[0].slurm_job_id, ==, INT64_C(4294967301));
        CHECK_STR(back.cells[1].node_host, "");
        CHECK_INT(back.cells[1].slurm_job_id, ==, 0);
        CHECK_STR(back.cells[0].node_fingerprint, fp);
        CHECK_STR(back.cells[1].node_fingerprint, "");
    }
    run_record_free(&back);
    cell_result_free(&a);
    cell_result_free(&b);
    run_record_free(&r);
    store_close(s);
}

int main(void)
{
    snprintf(tmpdir, sizeof(tmpdir), "%s/mfbench-store-XXXXXX",
             getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    test_roundtrip_and_history();
    test_mark_interrupted();
    test_migrations();
    test_durability();
    test_two_handles();
    test_default_path();
    test_owner_repair_and_busy();
    test_migration_from_v3();
    test_migration_from_v12();
    test_migration_kind_ladder();
    test_write_error();
    test_path_check();
    test_cell_node();

    if (t_failures == 0) {
        char cmd[600];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", tmpdir);
    } else {
        fprintf(stderr, "files kept in %s\n", tmpdir);
    }
    T_DONE();
}
