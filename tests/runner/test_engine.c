/* test_engine.c - the load engine against tests/runner/testserver: counts, body
 * checks, failure kinds, open-loop rate and coordinated omission, timeouts,
 * chunked/split/closing answers, pacing, threads, warm-up, cancel. A phase
 * returning 0 also proves uv_loop_close() == 0 on every loop. */
#include "runner.h"
#include "t.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <netinet/in.h>
#include <signal.h>
#include <string.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *server_bin;

struct server {
    pid_t pid;
    int port;
};

/* rcvbuf: 0, or a small SO_RCVBUF for the server's connections. */
static int server_start_rcvbuf(struct server *s, int rcvbuf)
{
    int p[2];
    if (pipe(p) < 0)
        return -1;
    s->pid = fork();
    if (s->pid == 0) {
        dup2(p[1], 1);
        close(p[0]);
        close(p[1]);
        char rb[16];
        snprintf(rb, sizeof(rb), "%d", rcvbuf);
        if (rcvbuf > 0)
            execl(server_bin, server_bin, "120", rb, (char *)NULL);
        else
            execl(server_bin, server_bin, "120", (char *)NULL);
        _exit(127);
    }
    close(p[1]);
    char buf[32] = "";
    ssize_t n = read(p[0], buf, sizeof(buf) - 1);
    close(p[0]);
    if (n <= 0)
        return -1;
    s->port = (int)strtol(buf, NULL, 10);
    return s->port > 0 ? 0 : -1;
}

static int server_start(struct server *s)
{
    return server_start_rcvbuf(s, 0);
}

static void server_stop(struct server *s)
{
    kill(s->pid, SIGTERM);
    waitpid(s->pid, NULL, 0);
}

static char url_buf[4096];
static const char *url(const struct server *s, const char *path)
{
    snprintf(url_buf, sizeof(url_buf), "http://127.0.0.1:%d%s", s->port, path);
    return url_buf;
}

static int run(struct run_opts *o, struct run_report *r)
{
    struct err e;
    err_clear(&e);
    int rc = run_phase(o, r, &e);
    if (rc != 0)
        fprintf(stderr, "run_phase: %s\n", e.msg);
    return rc;
}

static void base(struct run_opts *o, const char *u)
{
    run_opts_init(o);
    o->url = u;
    o->users = 4;
    o->duration_ms = 1500;
    o->timeout_ms = 2000;
    o->seed = 7;
}

/* Client limits are the client's: a process short of descriptors (EMFILE at
 * connect) counts `client` failures, apart from the server's. Runs in a child,
 * since it lowers RLIMIT_NOFILE and fills the descriptor table. Fills out[3]:
 * client failures, server failures, successful requests; -1 if it could not run. */
static int client_limit_run(const char *u, long long out[3])
{
    int p[2];
    if (pipe(p) < 0)
        return -1;
    pid_t pid = fork();
    if (pid == 0) {
        close(p[0]);
        long long res[3] = {-1, -1, -1};
        struct rlimit rl;
        getrlimit(RLIMIT_NOFILE, &rl);
        /* The hard limit too: the engine raises the soft one up to it. */
        rl.rlim_cur = rl.rlim_max = 200;
        if (setrlimit(RLIMIT_NOFILE, &rl) == 0) {
            /* leave ~12 free: the loop's own descriptors and a few users */
            int fd;
            while ((fd = open("/dev/null", O_RDONLY)) >= 0 && fd < 188)
                ;
            struct run_opts o;
            run_opts_init(&o);
            o.url = u;
            o.users = 40;
            o.duration_ms = 1000;
            o.timeout_ms = 2000;
            struct run_report r;
            struct err e;
            err_clear(&e);
            if (run_phase(&o, &r, &e) == 0) {
                res[0] = (long long)r.result.failures_by_kind[FAIL_CLIENT];
                res[1] = (long long)r.result.failures;
                res[2] = (long long)(r.result.requests - r.result.failures);
                run_report_free(&r);
            } else {
                fprintf(stderr, "client_limit_run: %s\n", e.msg);
            }
        }
        ssize_t w = write(p[1], res, sizeof(res));
        _exit(w == (ssize_t)sizeof(res) ? 0 : 1);
    }
    close(p[1]);
    ssize_t n = read(p[0], out, 3 * sizeof(long long));
    close(p[0]);
    waitpid(pid, NULL, 0);
    return n == (ssize_t)(3 * sizeof(long long)) && out[0] >= 0 ? 0 : -1;
}

static uint64_t series_requests(const struct run_report *r)
{
    uint64_t n = 0;
    for (size_t i = 0; i < r->nseries; i++)
        n += r->series[i].requests;
    return n;
}

/* A raw GET for the test server's stats. */
static int raw_get(int port, const char *path, char *out, size_t n)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
        close(fd);
        return -1;
    }
    char req[128];
    int k = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", path);
    if (write(fd, req, (size_t)k) != k) {
        close(fd);
        return -1;
    }
    size_t len = 0;
    while (len + 1 < n) {
        ssize_t r = read(fd, out + len, n - 1 - len);
        if (r <= 0)
            break;
        len += (size_t)r;
        out[len] = 0;
        if (strstr(out, "mean_us="))
            break;
    }
    out[len] = 0;
    close(fd);
    return 0;
}

/* For wait_until: the server's /pacestats counts at least 3 closed /pace connections. */
struct pacestats {
    int port;
    char st[512];
};
static int pace_closed(void *arg)
{
    struct pacestats *p = arg;
    p->st[0] = 0;
    if (raw_get(p->port, "/pacestats", p->st, sizeof(p->st)) != 0)
        return 0;
    const char *c = strstr(p->st, "conns=");
    return c && strtol(c + 6, NULL, 10) >= 3;
}

/* run_opts.check for /count: the answer's number, wrong when a multiple of 3. */
struct count_rule {
    uint64_t calls, wrong, first_n, max_n;
    char ctype[128];
};
static int count_check(void *arg, const char *body, size_t len, const char *ctype, char *why,
                       size_t n)
{
    struct count_rule *cr = arg;
    char b[32];
    snprintf(b, sizeof(b), "%.*s", (int)(len < 31 ? len : 31), body);
    uint64_t v = strtoull(b, NULL, 10);
    if (cr->calls++ == 0)
        cr->first_n = v;
    if (v > cr->max_n)
        cr->max_n = v;
    snprintf(cr->ctype, sizeof(cr->ctype), "%s", ctype);
    if (v % 3)
        return 0;
    cr->wrong++;
    snprintf(why, n, "answer %llu is a multiple of 3", (unsigned long long)v);
    return -1;
}

static int progress_calls;
static void on_progress(void *arg, const struct run_progress *p)
{
    progress_calls++;
    if (arg && p->elapsed_s >= 1.0)
        atomic_store((atomic_int *)arg, 1);
}

struct stopper {
    int calls;
    double first_elapsed;
    uint64_t samples, over, backlog;
};
static int stop_when_samples(void *arg, const struct run_progress *p)
{
    struct stopper *st = arg;
    if (st->calls++ == 0)
        st->first_elapsed = p->elapsed_s;
    st->samples = p->window_samples;
    st->over = p->over_bound;
    return p->window_samples > 0;
}
static int stop_when_backlog(void *arg, const struct run_progress *p)
{
    struct stopper *st = arg;
    st->calls++;
    st->backlog = p->backlog;
    return p->backlog > 100;
}

static void set_tiny_spawn(struct run_opts *o)
{
    o->spawn_rate = 1e-11;
}
static void set_long_phase(struct run_opts *o)
{
    o->duration_ms = (INT64_C(1) << 31) * 1000;
}
static void set_deep_pipeline(struct run_opts *o)
{
    o->pipeline = INT_MAX;
}
static void set_many_users(struct run_opts *o)
{
    o->users = MF_MAX_USERS + 1;
}
static void set_long_timeout(struct run_opts *o)
{
    o->timeout_ms = MF_WAIT_MAX_MS + 1;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: test_engine TESTSERVER\n");
        return 2;
    }
    server_bin = argv[1];
    signal(SIGPIPE, SIG_IGN);
    struct server s;
    if (server_start(&s) < 0) {
        fprintf(stderr, "cannot start %s\n", server_bin);
        return 1;
    }
    struct run_opts o;
    struct run_report r;

    /* Closed loop, back to back, exact body check; progress once a second. */
    base(&o, url(&s, "/text"));
    o.expect_body = "Hello World!";
    o.expect_body_len = 12;
    o.progress = on_progress;
    CHECK_INT(run(&o, &r), ==, 0);
    CHECK_INT(r.result.requests, >, 100);
    CHECK_INT(r.result.failures, ==, 0);
    CHECK_INT(run_hist_count(r.hist), ==, r.result.requests);
    CHECK_INT(r.result.bytes_read, >=, r.result.requests * 12);
    CHECK_DBL(fabs(r.result.duration_s - 1.5), <, 1e-9);
    CHECK_DBL(r.result.rps, >, 0);
    CHECK_DBL(r.result.offered_rps, ==, 0);
    CHECK_INT(r.nseries, ==, 2);
    CHECK_INT(r.series[1].users, ==, 4);
    CHECK_DBL(r.series[1].t_s, ==, 1.5);
    CHECK_INT(series_requests(&r), >=, r.result.requests);
    CHECK_INT(progress_calls, >=, 1);
    CHECK(r.result.latency_ms.p50 > 0 && r.result.latency_ms.p99 >= r.result.latency_ms.p50);
    run_report_free(&r);

    /* Body mismatch -> body failures; non-2xx -> status failures. */
    base(&o, url(&s, "/other"));
    o.duration_ms = 500;
    o.expect_body = "Hello World!";
    o.expect_body_len = 12;
    CHECK_INT(run(&o, &r), ==, 0);
    CHECK_INT(r.result.failures_by_kind[FAIL_BODY], >, 0);
    CHECK_INT(r.result.failures_by_kind[FAIL_BODY], ==, r.result.requests);
    CHECK_DBL(r.result.rps, ==, 0);
    run_report_free(&r);
    base(&o, url(&s, "/len/100"));
    o.duration_ms = 500;
    o.expect_length = 100;
    CHECK_INT(run(&o, &r), ==, 0);
    CHECK_INT(r.result.failures, ==, 0);
    CHECK_INT(r.result.requests, >, 0);
    run_report_free(&r);
    base(&o, url(&s, "/len/100"));
    o.duration_ms = 500;
    o.expect_length = 99;
    CHECK_INT(run(&o, &r), ==, 0);
    CHECK_INT(r.result.failures_by_kind[FAIL_BODY], ==, r.result.requests);
    run_report_free(&r);
    base(&o, url(&s, "/status/503"));
    o.duration_ms = 500;
    CHECK_INT(run(&o, &r), ==, 0);
    CHECK_INT(r.result.failures_by_kind[FAIL_STATUS], >, 0);
    CHECK_INT(r.result.failures, ==, r.result.requests);
    run_report_free(&r);

    /* Chunked, split and closing answers. */
    const char *ok_paths[] = {"/chunked", "/split", "/close"};
    for (int i = 0; i < 3; i++) {
        base(&o, url(&s, ok_paths[i]));
        o.duration_ms = 700;
        o.expect_body = "Hello World!";
        o.expect_body_len = 12;
        CHECK_INT(run(&o, &r), ==, 0);
        CHECK_INT(r.result.requests, >, 4);
        CHECK_INT(r.result.failures, ==, 0);
        if (i == 2)
            CHECK_INT(r.reconnects, >=, r.result.requests - 4);
        run_report_free(&r);
    }

    /* Pipelining: 4 in flight per connection, answers parsed in order. */
    base(&o, url(&s, "/text"));
    o.duration_ms = 700;
    o.pipeline = 4;
    o.expect_body = "Hello World!";
    o.expect_body_len = 12;
    CHECK_INT(run(&o, &r), ==, 0);
    CHECK_INT(r.result.requests, >, 16);
    CHECK_INT(r.result.failures, ==, 0);
    run_report_free(&r);

    /* A batch of requests larger than the socket buffers (4 KiB to send, 4 KiB
     * at the server): 1024 pipelined requests of ~2 KiB (2 MiB) leave over many
     * sends, the rest on POLLOUT while answers already come back; every request
     * is answered, in order. */
    {
        struct server small;
        CHECK_INT(server_start_rcvbuf(&small, 4096), ==, 0);
        static char big[2000];
        memcpy(big, "/len/12?pad=", 12);
        memset(big + 12, 'a', sizeof(big) - 13);
        base(&o, url(&small, big));
        o.users = 2;
        o.duration_ms = 1500;
        o.pipeline = 1024;
        o.expect_length = 12;
        o.sndbuf = 4096;
        CHECK_INT(run(&o, &r), ==, 0);
        CHECK_INT(r.result.requests, >=, 2 * 1024);
        CHECK_INT(r.result.failures, ==, 0);
        run_report_free(&r);
        server_stop(&small);
    }

    /* Two threads: counters and histograms merged. */
    base(&o, url(&s, "/text"));
    o.threads = 2;
    o.duration_ms = 1000;
    CHECK_INT(run(&o, &r), ==, 0);
    CHECK_INT(r.result.requests, >, 100);
    CHECK_INT(r.result.failures, ==, 0);
    CHECK_INT(run_hist_count(r.hist), ==, r.result.requests);
    CHECK_INT(r.series[0].users, ==, 4);
    CHECK_INT(series_requests(&r), >=, r.result.requests);
    run_report_free(&r);

    /* Open loop: the asked rate within 2%, warm-up excluded. */
    base(&o, url(&s, "/text"));
    o.rate = 400;
    o.users = 8;
    o.threads = 2;
    o.duration_ms = 3000;
    o.warmup_ms = 1000;
    CHECK_INT(run(&o, &r), ==, 0);
    CHECK_DBL(r.result.duration_s, ==, 2.0);
    /* Poisson arrivals (the default): the sends intended in the window are a
     * Poisson count of mean 800, within 4 standard deviations (113); the
     * answers keep up with what was offered within 5% (a busy machine that
     * delays the last ~100 ms of answers past the end still passes; a rate
     * that is not kept, closed loop or a wrong interval, does not). */
    CHECK_STR(r.result.arrivals, "poisson");
    CHECK_INT(r.result.seed, ==, 7);
    CHECK_DBL(fabs((double)r.result.offered - 800), <, 113);
    CHECK_DBL(fabs(r.result.rps - (double)r.result.offered / 2) / ((double)r.result.offered / 2), <,
              0.05);
    CHECK_INT(r.result.sent + r.result.unsent_due, >=, r.result.offered - 2);
    CHECK_INT(r.result.unsent_due, <=, 2);
    CHECK_INT(r.result.completed, ==, r.result.requests);
    CHECK_INT(r.result.failures, ==, 0);
    CHECK_INT(r.result.connections_max, ==, 8);
    CHECK_INT(series_requests(&r), >, r.result.requests + 300); /* the warm-up second */
    uint64_t offered7 = r.result.offered;
    run_report_free(&r);
    /* The same seed replays the same schedule; the even grid offers exactly
     * rate x window (two workers at 200/s, 5 ms apart, staggered). */
    CHECK_INT(run(&o, &r), ==, 0);
    CHECK_INT(r.result.offered, ==, offered7);
    run_report_free(&r);
    o.arrivals = RUN_ARRIVALS_UNIFORM;
    CHECK_INT(run(&o, &r), ==, 0);
    CHECK_STR(r.result.arrivals, "uniform");
    CHECK_INT(r.result.offered, ==, 800);
    CHECK_DBL(fabs(r.result.rps - 400) / 400, <, 0.05);
    run_report_free(&r);

    /* Open loop above the spin window: at 8,000 req/s on one thread the sends
     * are 125 us apart, closer than the schedule's spin (150 us). The pump must
     * still let the loop read answers between sends: when it spun from one due
     * time to the next until no connection was free, each answer waited for
     * up to the other 511 sends (p50 about 32 ms, with the schedule kept)
     * against a server that answers in tens of microseconds. Judged on a run
     * that mostly kept its schedule: a machine too busy to send on time (CI,
     * sanitizers) gets up to three tries. */
    {
        int judged = 0;
        for (int attempt = 0; attempt < 3 && !judged; attempt++) {
            base(&o, url(&s, "/text"));
            o.rate = 8000;
            o.users = 512;
            o.threads = 1;
            o.duration_ms = 2500;
            o.warmup_ms = 500;
            CHECK_INT(run(&o, &r), ==, 0);
            for (int k = 0; k < FAIL__COUNT; k++)
                if (r.result.failures_by_kind[k])
                    fprintf(stderr, "note: 8000 req/s: %llu %s failures\n",
                            (unsigned long long)r.result.failures_by_kind[k],
                            fail_kind_name((enum fail_kind)k));
            /* A server that fell behind (timeouts: a TSan-built testserver beside
             * other tests took 2 s for 47 requests in CI) says nothing of the
             * pump either: tried again like a late schedule. */
            if (r.result.missed_schedule * 4 < r.result.requests && r.result.failures == 0) {
                judged = 1;
                CHECK_DBL(r.result.latency_ms.p50, <, 10.0);
            } else {
                fprintf(stderr,
                        "note: 8000 req/s: %llu of %llu sends late, %llu failures, trying again\n",
                        (unsigned long long)r.result.missed_schedule,
                        (unsigned long long)r.result.requests,
                        (unsigned long long)r.result.failures);
            }
            run_report_free(&r);
        }
        CHECK_INT(judged, ==, 1);
    }

    /* Hang: requests time out, are aborted, and the phase still ends on time. */
    base(&o, url(&s, "/hang"));
    o.users = 2;
    o.timeout_ms = 300;
    o.duration_ms = 1500;
    uint64_t t0 = mono_ns();
    CHECK_INT(run(&o, &r), ==, 0);
    double took = (double)(mono_ns() - t0) / 1e9;
    CHECK_DBL(took, <, 2.5); /* 1.5 s, plus up to the 0.3 s timeout for the last requests */
    CHECK_INT(r.result.failures_by_kind[FAIL_TIMEOUT], >=, 4);
    CHECK_INT(r.result.requests, ==, r.result.failures_by_kind[FAIL_TIMEOUT]);
    /* Every timeout is in latency at the time it took: the timeout. */
    CHECK_INT(run_hist_count(r.hist), ==, r.result.requests);
    CHECK_DBL(r.result.latency_ms.p50, >=, 299);
    CHECK_STR(r.result.arrivals, ""); /* closed loop */
    CHECK_INT(r.result.offered, ==, r.result.sent);
    run_report_free(&r);

    /* Reset by the server. */
    base(&o, url(&s, "/reset"));
    o.users = 2;
    o.duration_ms = 500;
    CHECK_INT(run(&o, &r), ==, 0);
    CHECK_INT(r.result.failures_by_kind[FAIL_RESET], >, 0);
    run_report_free(&r);

    /* Refused: connect failures, with a backoff (no spinning). */
    {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a;
        memset(&a, 0, sizeof(a));
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        bind(fd, (struct sockaddr *)&a, sizeof(a));
        socklen_t al = sizeof(a);
        getsockname(fd, (struct sockaddr *)&a, &al);
        close(fd);
        char u[64];
        snprintf(u, sizeof(u), "http://127.0.0.1:%d/", ntohs(a.sin_port));
        base(&o, u);
        o.users = 2;
        o.duration_ms = 1000;
        CHECK_INT(run(&o, &r), ==, 0);
        CHECK_INT(r.result.failures_by_kind[FAIL_CONNECT], >, 2);
        CHECK_INT(r.result.failures_by_kind[FAIL_CONNECT], <, 40);
        CHECK_INT(r.result.connect_failures, ==, r.result.failures_by_kind[FAIL_CONNECT]);
        CHECK_INT(r.result.connections_max, ==, 0);
        run_report_free(&r);
        /* connect_failures is the whole phase's (issue 20: the ramp is in
         * the warm-up): refused connects all during a warm-up still count. */
        o.duration_ms = 1000;
        o.warmup_ms = 800;
        CHECK_INT(run(&o, &r), ==, 0);
        CHECK_INT(r.result.connect_failures, >, 2);
        CHECK_INT(r.result.connect_failures, >, r.result.failures_by_kind[FAIL_CONNECT]);
        run_report_free(&r);
    }

    /* A server that accepts and resets every fresh connection before its
     * first answer refuses connections too: connect_failures counts them. */
    base(&o, url(&s, "/reset"));
    o.users = 2;
    o.duration_ms = 500;
    o.warmup_ms = 250;
    CHECK_INT(run(&o, &r), ==, 0);
    CHECK_INT(r.result.connect_failures, >, r.result.failures_by_kind[FAIL_RESET]);
    CHECK_INT(r.result.retries, ==, 0); /* never kept alive: nothing to resend */
    run_report_free(&r);

    /* A keep-alive timeout shorter than the think time (uvicorn closes an
     * idle connection after 5 s; the seed's users think 5-15 s): every user
     * reconnects for its next request and goes on. 4 users, 150 ms of think,
     * an idle close after 50 ms, 1.5 s: about 10 requests each. The engine
     * once lost such a user for good after its first answer (4 requests). */
    base(&o, url(&s, "/idle/50"));
    o.users = 4;
    o.think = RUN_THINK_CONSTANT;
    o.think_min_ms = 150;
    o.think_max_ms = 150;
    o.duration_ms = 1500;
    CHECK_INT(run(&o, &r), ==, 0);
    CHECK_INT(r.result.failures, ==, 0);
    CHECK_INT(r.result.requests, >=, 24);
    CHECK_INT(r.reconnects, >=, 16);
    run_report_free(&r);

    /* Users thinking just about the server's keep-alive timeout send as it
     * closes: the close crosses the request (EOF or reset before any byte of
     * the answer). HTTP clients resend such a GET once on a fresh connection
     * (RFC 9112 9.3.1, urllib3), and so does the engine: retries, no reset
     * failure (issue 20: fastapi held 2,250 users in one run, 6,500 in
     * another). Without the resend this run counts reset failures. */
    {
        uint64_t retries = 0, resets = 0, fails = 0, reqs = 0;
        for (int round = 0; round < 4 && retries < 5; round++) {
            base(&o, url(&s, "/idle/50"));
            o.users = 100;
            o.think = RUN_THINK_BETWEEN;
            o.think_min_ms = 49;
            o.think_max_ms = 51;
            o.duration_ms = 2500;
            o.seed = 11 + (uint64_t)round;
            CHECK_INT(run(&o, &r), ==, 0);
            retries += r.result.retries;
            resets += r.result.failures_by_kind[FAIL_RESET];
            fails += r.result.failures;
            reqs += r.result.requests;
            run_report_free(&r);
        }
        fprintf(stderr, "idle-close race: %llu requests, %llu retries, %llu resets\n",
                (unsigned long long)reqs, (unsigned long long)retries, (unsigned long long)resets);
        CHECK_INT(retries, >, 0);
        CHECK_INT(resets, ==, 0);
        CHECK_INT(fails, ==, 0);
    }

    /* Pacing: one request per 50 ms per user, measured by the server. */
    base(&o, url(&s, "/pace"));
    o.users = 3;
    o.think = RUN_THINK_PACING;
    o.think_min_ms = 50;
    o.duration_ms = 2000;
    CHECK_INT(run(&o, &r), ==, 0);
    CHECK_INT(r.result.failures, ==, 0);
    CHECK_DBL(r.result.offered_rps, ==, 60);
    run_report_free(&r);
    {
        /* the server sees the closes a moment after the phase ends */
        struct pacestats ps = {.port = s.port};
        CHECK(wait_until(pace_closed, &ps, 3000));
        const char *c = strstr(ps.st, "conns="), *m = strstr(ps.st, "mean_us=");
        CHECK(c && m);
        if (c && m) {
            CHECK_INT((int)strtol(c + 6, NULL, 10), ==, 3);
            /* The mean interval is (last - first) / (n - 1) over ~40 requests:
             * a late last request moves it by its delay / 39. 2.5 ms (5%)
             * allows a ~100 ms hiccup on a busy machine, and still fails a
             * pacing of 0 (think 0) or of 2 x 50 ms. */
            double mean_us = atof(m + 8);
            CHECK_DBL(fabs(mean_us - 50000), <, 2500);
        }
    }

    /* Pacing keeps its grid whatever the answer time: answers that take 20 ms
     * leave 3 users pacing 50 ms at 60 req/s (40 sends each in 2 s), where a
     * think of 50 ms after each answer gives 3 / 70 ms = 43. 50 is between,
     * with room for ~10 sends lost to a busy machine. */
    base(&o, url(&s, "/delay/20"));
    o.users = 3;
    o.think = RUN_THINK_PACING;
    o.think_min_ms = 50;
    o.duration_ms = 2000;
    CHECK_INT(run(&o, &r), ==, 0);
    CHECK_INT(r.result.failures, ==, 0);
    CHECK_DBL(r.result.rps, >, 50);
    CHECK_DBL(r.result.rps, <=, 61);
    run_report_free(&r);

    /* Think between 10-30 ms for 1 s: each user offers between 34 and 100
     * sends, and a fast server takes nearly all of them. */
    base(&o, url(&s, "/text"));
    o.users = 10;
    o.think = RUN_THINK_BETWEEN;
    o.think_min_ms = 10;
    o.think_max_ms = 30;
    o.duration_ms = 1000;
    CHECK_INT(run(&o, &r), ==, 0);
    CHECK_DBL(r.result.offered_rps, >=, 340);
    CHECK_DBL(r.result.offered_rps, <=, 1000);
    CHECK_DBL(r.result.offered_rps, >=, r.result.rps);
    CHECK_DBL(r.result.rps, >, 250);
    run_report_free(&r);

    /* The plain cases the asymptotic estimate got wrong (issue 12): ten users
     * at a constant 1 s think for 3 s offer exactly 3 sends each, 10 req/s, and
     * an idle server takes them all (load bound). Uniform 1-1.5 s over 2 s:
     * exactly 2 sends each whatever the draws (the third comes at >= 2 s). */
    base(&o, url(&s, "/text"));
    o.users = 10;
    o.think = RUN_THINK_CONSTANT;
    o.think_min_ms = 1000;
    o.duration_ms = 3000;
    o.timeout_ms = 1000;
    CHECK_INT(run(&o, &r), ==, 0);
    CHECK_DBL(r.result.offered_rps, ==, 10);
    CHECK_INT((int)r.result.requests, ==, 30);
    CHECK_DBL(r.result.rps, ==, 10);
    run_report_free(&r);
    o.think = RUN_THINK_BETWEEN;
    o.think_max_ms = 1500;
    o.duration_ms = 2000;
    CHECK_INT(run(&o, &r), ==, 0);
    CHECK_DBL(r.result.offered_rps, ==, 10);
    CHECK_INT((int)r.result.requests, ==, 20);
    run_report_free(&r);

    /* A server that answers 3 requests and then hangs, on a phase shorter than
     * the timeout: the requests outstanding at the end are waited for up to
     * the timeout and counted as timeouts, and reported in flight. */
    base(&o, url(&s, "/hangafter/3"));
    o.users = 5;
    o.duration_ms = 500;
    o.timeout_ms = 1500;
    {
        uint64_t h0 = mono_ns();
        CHECK_INT(run(&o, &r), ==, 0);
        double took_ms = (double)(mono_ns() - h0) / 1e6;
        CHECK_INT((int)r.result.in_flight, ==, 5);
        CHECK_INT((int)r.result.failures_by_kind[FAIL_TIMEOUT], ==, 5);
        CHECK_INT((int)(r.result.requests - r.result.failures), ==, 3);
        /* The ones the drain gave up on are in latency at their age then. */
        CHECK_INT(run_hist_count(r.hist), ==, r.result.requests);
        CHECK_DBL(r.result.latency_ms.max, >=, 1400);
        CHECK_DBL(took_ms, >=, 1400); /* it did wait for them */
        CHECK_DBL(took_ms, <, 6000);
        run_report_free(&r);
    }

    /* A server that answers one request with 200 responses: the surplus is a
     * protocol failure and the phase fails. How many of the first responses on
     * each connection still look like answers depends on how the client's
     * reads split the stream (a slow client, e.g. under ASan, reads smaller
     * chunks), so only the failure is asserted, not a ratio. */
    base(&o, url(&s, "/spew/200"));
    o.users = 2;
    o.duration_ms = 500;
    o.timeout_ms = 500;
    CHECK_INT(run(&o, &r), ==, 0);
    CHECK_INT((int)r.result.failures_by_kind[FAIL_PROTOCOL], >, 0);
    CHECK_INT((int)r.result.failures, >=, (int)r.result.failures_by_kind[FAIL_PROTOCOL]);
    run_report_free(&r);

    /* A server that stops answering, at a rate the two connections cannot
     * carry: each takes one request that times out after 1 s and another
     * after it that hangs past the end. The sends due meanwhile wait in the
     * client's queue and are never sent: they count in offered and
     * unsent_due, and in latency from their intended time to the end (about
     * uniform over the 1.5 s window: p50 near 750 ms). Left out, latency would
     * be that of the 2-4 timeouts alone. */
    base(&o, url(&s, "/hang"));
    o.users = 2;
    o.rate = 500;
    o.duration_ms = 1500;
    o.timeout_ms = 1000;
    o.bound_us = 10 * 1000 * 1000; /* 10 s: only the timeouts are over it */
    CHECK_INT(run(&o, &r), ==, 0);
    CHECK_DBL(fabs((double)r.result.offered - 750), <, 110);
    CHECK_INT(r.result.unsent_due, >, 600);
    CHECK_INT(r.result.offered, ==, r.result.sent + r.result.unsent_due);
    CHECK_INT(r.result.requests, ==, r.result.failures_by_kind[FAIL_TIMEOUT]);
    CHECK_INT(run_hist_count(r.hist), ==, r.result.completed + r.result.unsent_due);
    CHECK_DBL(r.result.latency_ms.p50, >, 400);
    CHECK_DBL(r.result.latency_ms.p50, <, 1100);
    CHECK_DBL(r.result.latency_ms.p99, >, 1000);
    CHECK_INT(r.result.over_bound, ==, r.result.failures_by_kind[FAIL_TIMEOUT]);
    run_report_free(&r);

    /* Early stop: asked once a second from the end of the warm-up on, with
     * the window's figures; stopping drains like the normal end, and the
     * window is what ran. */
    {
        struct stopper st = {0};
        base(&o, url(&s, "/text"));
        o.rate = 200;
        o.duration_ms = 6000;
        o.warmup_ms = 1000;
        o.bound_us = 1; /* every sample is over 1 us */
        o.early_stop = stop_when_samples;
        o.early_stop_arg = &st;
        uint64_t e0 = mono_ns();
        CHECK_INT(run(&o, &r), ==, 0);
        CHECK_DBL((double)(mono_ns() - e0) / 1e9, <, 4.0);
        CHECK_INT(r.result.stopped_early, ==, 1);
        CHECK_INT(st.calls, ==, 1);
        CHECK_DBL(st.first_elapsed, ==, 2.0); /* the second 1-2 s, after the warm-up */
        CHECK_INT(st.samples, >, 100);
        CHECK_INT(st.over, ==, st.samples);
        CHECK_DBL(fabs(r.result.duration_s - 1.0), <, 0.1);
        CHECK_DBL(fabs((double)r.result.offered - 200), <, 60);
        CHECK_INT(r.result.failures, ==, 0);
        CHECK_INT(r.result.over_bound, ==, run_hist_count(r.hist));
        run_report_free(&r);
        /* The backlog: a hung server's queue of sends due. */
        struct stopper bl = {0};
        base(&o, url(&s, "/hang"));
        o.users = 2;
        o.rate = 200;
        o.duration_ms = 10000;
        o.timeout_ms = 500;
        o.early_stop = stop_when_backlog;
        o.early_stop_arg = &bl;
        e0 = mono_ns();
        CHECK_INT(run(&o, &r), ==, 0);
        CHECK_DBL((double)(mono_ns() - e0) / 1e9, <, 3.0);
        CHECK_INT(r.result.stopped_early, ==, 1);
        CHECK_INT(bl.backlog, >, 100);
        CHECK_INT(r.result.unsent_due, >, 100);
        CHECK_INT(r.result.failures_by_kind[FAIL_TIMEOUT], >=, 2);
        run_report_free(&r);
        /* Never asked before the window: a warm-up as long as the phase
         * but one second. */
        struct stopper never = {0};
        base(&o, url(&s, "/text"));
        o.duration_ms = 1500;
        o.warmup_ms = 1400;
        o.early_stop = stop_when_samples;
        o.early_stop_arg = &never;
        CHECK_INT(run(&o, &r), ==, 0);
        CHECK_INT(never.calls, ==, 0);
        CHECK_INT(r.result.stopped_early, ==, 0);
        run_report_free(&r);
    }

    /* Spawn rate: 20 users at 20/s take a second to start. */
    base(&o, url(&s, "/text"));
    o.users = 20;
    o.spawn_rate = 20;
    o.think = RUN_THINK_CONSTANT;
    o.think_min_ms = 100;
    o.duration_ms = 2000;
    CHECK_INT(run(&o, &r), ==, 0);
    CHECK_INT(r.nseries, ==, 2);
    CHECK_INT(r.series[0].users, >=, 19);
    CHECK_INT(r.series[0].users, <=, 20);
    CHECK_INT(r.series[0].requests, <, r.series[1].requests);
    run_report_free(&r);

    /* Cancel: ends the phase early. */
    atomic_int cancel = 0;
    base(&o, url(&s, "/text"));
    o.duration_ms = 10000;
    o.cancel = &cancel;
    o.progress = on_progress;
    o.progress_arg = &cancel;
    t0 = mono_ns();
    CHECK_INT(run(&o, &r), ==, 0);
    CHECK_DBL((double)(mono_ns() - t0) / 1e9, <, 3.0);
    CHECK_INT(r.cancelled, ==, 1);
    CHECK_INT(r.result.requests, >, 0);
    run_report_free(&r);

    /* Bad input. */
    {
        struct err e;
        err_clear(&e);
        base(&o, "https://127.0.0.1/");
        CHECK_INT(run_phase(&o, &r, &e), ==, -EINVAL);
        CHECK_CONTAINS(e.msg, "http://");
        /* User information is refused, never taken for a host name (issue 25). */
        err_clear(&e);
        char uurl[128];
        snprintf(uurl, sizeof(uurl), "http://u:secret@127.0.0.1:%d/text", s.port);
        base(&o, uurl);
        CHECK_INT(run_phase(&o, &r, &e), ==, -EINVAL);
        CHECK_CONTAINS(e.msg, "user information (user:password@host) is not supported");
        CHECK(strstr(e.msg, "secret") == NULL);
        err_clear(&e);
        base(&o, url(&s, "/text"));
        o.cpus = "0-x";
        CHECK_INT(run_phase(&o, &r, &e), ==, -EINVAL);
        err_clear(&e);
        o.cpus = "5-2"; /* the shared parser: a descending range is refused */
        CHECK_INT(run_phase(&o, &r, &e), ==, -EINVAL);
        CHECK_CONTAINS(e.msg, "goes down");
        /* The engine holds common.h's limits whatever its caller checked: a spawn rate of
         * 1e-11 once spun the spawn timer forever, 2^31 s of phase overflowed an allocation. */
        struct {
            const char *what;
            void (*set)(struct run_opts *);
        } const limits[] = {
            {"spawn rate 1e-11", set_tiny_spawn},   {"2^31 s", set_long_phase},
            {"pipeline 2^31-1", set_deep_pipeline}, {"users 10^6+1", set_many_users},
            {"timeout 1h+1ms", set_long_timeout},
        };
        for (size_t i = 0; i < sizeof limits / sizeof limits[0]; i++) {
            base(&o, url(&s, "/text"));
            limits[i].set(&o);
            err_clear(&e);
            uint64_t t1 = mono_ns();
            if (run_phase(&o, &r, &e) != -EINVAL || !strstr(e.msg, "bad phase options"))
                T_FAIL("%s: not refused (%s)", limits[i].what, e.msg);
            t_checks++;
            CHECK_DBL((double)(mono_ns() - t1) / 1e9, <, 1.0);
        }
        /* Source addresses towards loopback: three quarters of the range each
         * (issue 20's namespace: 5,000 users over 1,000 ports need 7). */
        CHECK_INT(run_source_count(5000, 1000, 0), ==, 7);
        CHECK_INT(run_source_count(19000, 28232, 0), ==, 1);
        CHECK_INT(run_source_count(250000, 28232, 0), ==, 12);
        CHECK_INT(run_source_count(20000, 28232, 2000), ==, 2); /* TIME_WAIT takes room */
        CHECK_INT(run_source_count(10, -1, 0), ==, 1);          /* range unknown */
        /* The client's limit, named: more users than the hard descriptor limit. */
        {
            struct rlimit rl;
            char why[256];
            base(&o, url(&s, "/text"));
            CHECK(run_client_limit(4, &o, why, sizeof why) == NULL);
            CHECK_STR(why, "");
            if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_max != RLIM_INFINITY &&
                rl.rlim_max < 500000) {
                CHECK_STR(run_client_limit(500000, &o, why, sizeof why), "client:descriptors");
                CHECK_CONTAINS(why, "hard limit (RLIMIT_NOFILE)");
            }
        }
        err_clear(&e);
        CHECK_INT(run_ensure_nofile(16, &e), ==, 0);
        CHECK_INT(run_ensure_nofile(UINT64_C(1) << 40, &e), ==, -EMFILE);
        CHECK_CONTAINS(e.msg, "ulimit -n");
        CHECK_CONTAINS(e.msg, "1099511627776 file descriptors are needed");
        CHECK_CONTAINS(e.msg, "LimitNOFILE=1099511627776");
    }

    /* Out of descriptors on our side: client failures, not the server's. */
    {
        long long res[3];
        CHECK_INT(client_limit_run(url(&s, "/text"), res), ==, 0);
        CHECK_INT(res[0], >, 0);  /* EMFILE counted as client */
        CHECK_INT(res[1], ==, 0); /* ... and never as a server failure */
        CHECK_INT(res[2], >, 0);  /* the users that got a descriptor worked */
    }
    /* A rule on whole answers (run_opts.check, issue 24): a sample spread over the
     * window, each answer checked after the phase; a wrong one is a body failure. */
    {
        struct count_rule cr = {0};
        base(&o, url(&s, "/count"));
        o.duration_ms = 1500;
        o.check = count_check;
        o.check_arg = &cr;
        CHECK_INT(run(&o, &r), ==, 0);
        uint64_t answers = r.result.requests;
        CHECK_INT(answers, >, 200);
        /* Between half the sample and all of it (32), each once. */
        CHECK_INT(r.result.verified_sampled, >=, RUN_SAMPLE_MAX / 2);
        CHECK_INT(r.result.verified_sampled, <=, RUN_SAMPLE_MAX);
        CHECK_INT(cr.calls, ==, r.result.verified_sampled);
        /* The first 64 bytes of a Content-Type longer than that. */
        CHECK_STR(cr.ctype, "application/x-count; comment=\"longer than the parser's 64-byte l");
        /* Spread: the sample reaches the last quarter of the answers, and its first is
         * early (not the first 32 answers only, nor the last). */
        CHECK_INT(cr.max_n, >=, cr.first_n + answers * 3 / 4);
        CHECK_INT(cr.first_n, <, answers / 4);
        /* Every 3rd answer is wrong: so is about a third of the sample. */
        CHECK_INT(r.result.verified_wrong, ==, cr.wrong);
        CHECK_INT(r.result.verified_wrong, >, 0);
        CHECK_INT(r.result.verified_wrong, <, r.result.verified_sampled);
        CHECK_INT(r.result.failures_by_kind[FAIL_BODY], ==, r.result.verified_wrong);
        CHECK_INT(r.result.failures, ==, r.result.verified_wrong);
        CHECK_INT(r.result.requests, ==, answers);
        CHECK_CONTAINS(r.wrong_why, "is a multiple of 3");
        run_report_free(&r);
        /* Bodies longer than sample_bytes are not judged; no check, no sample. */
        base(&o, url(&s, "/count"));
        o.duration_ms = 500;
        o.check = count_check;
        o.check_arg = &cr;
        o.sample_bytes = 1;
        CHECK_INT(run(&o, &r), ==, 0);
        CHECK_INT(r.result.verified_sampled, ==, 0);
        CHECK_INT(r.result.failures, ==, 0);
        run_report_free(&r);
        base(&o, url(&s, "/count"));
        o.duration_ms = 300;
        CHECK_INT(run(&o, &r), ==, 0);
        CHECK_INT(r.result.verified_sampled, ==, 0);
        CHECK_INT(r.result.verified_wrong, ==, 0);
        run_report_free(&r);
    }
    server_stop(&s);

    /* Coordinated omission: the whole server stalls once for 1 s. In closed
     * loop the users simply wait, so only `users` samples see the stall and p99
     * stays low; in open loop the requests due during the stall count their
     * wait from the intended send time, so p99 shows it. This is why rate mode
     * exists: closed-loop latency hides server stalls. */
    if (server_start(&s) < 0)
        return 1;
    base(&o, url(&s, "/stall/700"));
    o.users = 4;
    o.duration_ms = 3000;
    CHECK_INT(run(&o, &r), ==, 0);
    CHECK_DBL(r.result.latency_ms.max, >, 800); /* the stall happened */
    CHECK_DBL(r.result.latency_ms.p99, <, 100); /* ... and closed loop hides it */
    run_report_free(&r);
    server_stop(&s);
    if (server_start(&s) < 0)
        return 1;
    base(&o, url(&s, "/stall/700"));
    o.users = 8;
    o.rate = 1000;
    o.duration_ms = 3000;
    CHECK_INT(run(&o, &r), ==, 0);
    CHECK_DBL(r.result.latency_ms.max, >, 800);
    CHECK_DBL(r.result.latency_ms.p99, >, 500); /* open loop shows it */
    /* The sends wait for a connection the stall holds: the server's backlog,
     * not the engine missing its schedule (that would make a probe inconclusive).
     * Counted as missed, the stall's sends would be about 700; a busy machine
     * (a sanitizer build beside other work) adds a few dozen late ones of its
     * own (26 seen in one CI-like run beside compiles), so the bound is 100. */
    CHECK_INT(r.result.missed_schedule, <, 100);
    CHECK_INT(r.result.sent + r.result.unsent_due, >, 1500);
    run_report_free(&r);
    server_stop(&s);
    T_DONE();
}
