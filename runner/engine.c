/* engine.c - the load engine: one libuv loop per thread, each user one keep-alive
 * TCP connection with a pre-built request, closed loop with think times (Locust's
 * user model) or open loop at a rate (Poisson or evenly spaced arrivals) with
 * latency from the intended send time (wrk2). Latency counts every request:
 * failures at the time they took to fail, open-loop sends never sent from their
 * intended time. A coordinator thread polls cancel, reports progress and asks
 * early_stop. This file is a phase from its options to its report (run_phase);
 * engine_int.h says which file holds the rest. */
#include "engine_int.h"

#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

void run_opts_init(struct run_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->users = 1;
    o->spawn_rate = 0;
    o->duration_ms = 10000;
    o->think = RUN_THINK_NONE;
    o->pipeline = 1;
    o->threads = 1;
    o->timeout_ms = 10000;
    o->expect_length = -1;
    o->arrivals = RUN_ARRIVALS_POISSON;
}

/* http://host[:port][/path] -> address, Host header value, path. */
int run__parse_url(const char *url, struct sockaddr_storage *addr, char *host_hdr, size_t hn,
                   char *path, size_t pn, struct err *e)
{
    if (!url || strncmp(url, "http://", 7) != 0)
        return err_set(e, -EINVAL, "%s: only http:// URLs are supported", url ? url : "(null)");
    const char *h = url + 7;
    const char *slash = strchr(h, '/');
    size_t hl = slash ? (size_t)(slash - h) : strlen(h);
    if (hl == 0 || hl >= hn)
        return err_set(e, -EINVAL, "%s: bad host", url);
    if (memchr(h, '@', hl)) /* never echoed: the URL holds a password */
        return err_set(e, -EINVAL,
                       "a URL with user information (user:password@host) is not "
                       "supported: no credentials are sent");
    memcpy(host_hdr, h, hl);
    host_hdr[hl] = 0;
    const char *p = slash ? slash : "/";
    if (strlen(p) >= pn)
        return err_set(e, -EINVAL, "%.64s...: the path is longer than %zu bytes", url, pn - 1);
    if (strpbrk(p, " \r\n"))
        return err_set(e, -EINVAL, "%s: bad path (a space or line break)", url);
    mf_strlcpy(path, p, pn);

    char name[256];
    const char *port = "80";
    if (host_hdr[0] == '[') {
        const char *end = strchr(host_hdr, ']');
        if (!end || (size_t)(end - host_hdr - 1) >= sizeof(name))
            return err_set(e, -EINVAL, "%s: bad IPv6 host", url);
        memcpy(name, host_hdr + 1, (size_t)(end - host_hdr - 1));
        name[end - host_hdr - 1] = 0;
        if (end[1] == ':')
            port = end + 2;
        else if (end[1])
            return err_set(e, -EINVAL, "%s: bad host", url);
    } else {
        const char *c = strrchr(host_hdr, ':');
        size_t nl = c ? (size_t)(c - host_hdr) : strlen(host_hdr);
        if (nl >= sizeof(name))
            return err_set(e, -EINVAL, "%s: bad host", url);
        memcpy(name, host_hdr, nl);
        name[nl] = 0;
        if (c)
            port = c + 1;
    }
    int64_t pv;
    if (parse_i64(port, 1, 65535, &pv) < 0)
        return err_set(e, -EINVAL, "%s: bad port", url);
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    int rc = getaddrinfo(name, port, &hints, &res);
    if (rc != 0 || !res)
        return err_set(e, -EHOSTUNREACH, "%s: cannot resolve %s: %s", url, name, gai_strerror(rc));
    memcpy(addr, res->ai_addr, res->ai_addrlen);
    freeaddrinfo(res);
    return 0;
}

/* "0", "0-3", "0,2,4-5" -> set (common's parser, the one config checks node.cpus and
 * load.cpus with); each CPU must be one this process may use. */
static int parse_cpus(const char *s, cpu_set_t *set, struct err *e)
{
    cpu_set_t allowed;
    char msg[160];
    if (mf_cpus_parse(s, set, msg, sizeof msg) < 0)
        return err_set(e, -EINVAL, "%s", msg);
    if (sched_getaffinity(0, sizeof(allowed), &allowed) != 0)
        return err_set(e, -errno, "sched_getaffinity: %s", strerror(errno));
    for (int c = 0; c < CPU_SETSIZE; c++)
        if (CPU_ISSET(c, set) && !CPU_ISSET(c, &allowed))
            return err_set(e, -EINVAL, "CPU %d of '%s' is not available to this process", c, s);
    return 0;
}

static double cpu_seconds(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return 0;
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

int run_phase(const struct run_opts *o, struct run_report *out, struct err *e)
{
    memset(out, 0, sizeof(*out));
    phase_result_init(&out->result);
    /* The limits of common.h, which the matrix and mfbench load check first: whatever
     * caller, no tiny spawn rate spins the spawn timer, no huge count reaches calloc. */
    if (o->users < 1 || o->users > MF_MAX_USERS || o->threads < 1 || o->pipeline < 1 ||
        o->pipeline > MAX_PIPELINE || o->duration_ms <= 0 || o->duration_ms > MF_PHASE_MAX_MS ||
        o->warmup_ms < 0 || o->warmup_ms >= o->duration_ms || o->timeout_ms <= 0 ||
        o->timeout_ms > MF_WAIT_MAX_MS || o->think_min_ms < 0 || o->think_max_ms < 0 ||
        (o->think == RUN_THINK_PACING && o->think_min_ms <= 0) ||
        (o->spawn_rate > 0 &&
         (o->spawn_rate < MF_MIN_SPAWN_RATE || o->spawn_rate > MF_MAX_SPAWN_RATE)) ||
        !(o->rate <= MF_MAX_RATE))
        return err_set(e, -EINVAL,
                       "bad phase options (users 1..%d, threads >= 1, pipeline 1..%d, 1d >= "
                       "duration > warm-up >= 0, 1h >= timeout > 0, pacing > 0, "
                       "spawn rate %g..%g, rate <= %g)",
                       MF_MAX_USERS, MAX_PIPELINE, MF_MIN_SPAWN_RATE, MF_MAX_SPAWN_RATE,
                       MF_MAX_RATE);
    struct shared sh;
    memset(&sh, 0, sizeof(sh));
    sh.o = o;
    char host[300], path[2048];
    int rc = run__parse_url(o->url, &sh.addr, host, sizeof(host), path, sizeof(path), e);
    if (rc < 0)
        return rc;
    cpu_set_t cpus;
    if (o->cpus && *o->cpus && (rc = parse_cpus(o->cpus, &cpus, e)) < 0)
        return rc;
    rc = run_ensure_nofile((uint64_t)o->users + NOFILE_SLACK, e);
    if (rc < 0)
        return rc;
    rc = run__sources_plan(o, &sh.addr, &sh.src, &sh.nsrc, e);
    if (rc < 0)
        return rc;
    out->source_count = sh.nsrc ? sh.nsrc : 1;
    out->client_limit =
        run_client_limit(o->users, o, out->client_limit_why, sizeof(out->client_limit_why));

    int threads = o->threads > o->users ? o->users : o->threads;
    sh.pipeline = o->pipeline;
    sh.rate_mode = o->rate > 0;
    sh.nworkers = threads;
    sh.arrivals = o->arrivals == RUN_ARRIVALS_UNIFORM ? RUN_ARRIVALS_UNIFORM : RUN_ARRIVALS_POISSON;
    sh.bound_us = o->bound_us > 0 ? (uint64_t)o->bound_us : 0;
    atomic_init(&sh.wake_drain, 0);
    atomic_init(&sh.wake_stop, 0);
    atomic_init(&sh.stop_ns, 0);
    sh.timeout_ns = (uint64_t)o->timeout_ms * NS_MS;
    sh.seed = o->seed ? o->seed : uv_hrtime();
    sh.nsec = (int)((o->duration_ms + 999) / 1000);
    sh.hcfg.max_header_bytes = o->max_header_bytes;
    sh.hcfg.max_body_bytes = o->max_body_bytes;
    sh.hcfg.expect_body = o->expect_body;
    sh.hcfg.expect_body_len = o->expect_body ? o->expect_body_len : 0;
    sh.hcfg.expect_length = o->expect_body ? -1 : o->expect_length;

    struct buf one;
    buf_init(&one, 8192);
    rc = buf_printf(&one,
                    "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: mfbench/%s\r\nAccept: */*\r\n\r\n",
                    path, host, MFBENCH_VERSION);
    if (rc < 0) {
        buf_free(&one);
        free(sh.src);
        return err_set(e, rc, "request too long");
    }
    sh.req_len = one.len;
    sh.req = malloc(one.len * (size_t)o->pipeline);
    if (!sh.req) {
        buf_free(&one);
        free(sh.src);
        return err_set(e, -ENOMEM, "out of memory");
    }
    for (int i = 0; i < o->pipeline; i++)
        memcpy(sh.req + (size_t)i * one.len, one.data, one.len);
    buf_free(&one);

    struct worker **ws = calloc((size_t)threads, sizeof(*ws));
    struct run_hist *tmp = run_hist_new();
    if (!ws || !tmp) {
        rc = err_set(e, -ENOMEM, "out of memory");
        goto fail;
    }
    for (int i = 0, ubase = 0; i < threads; i++) {
        int n = o->users / threads + (i < o->users % threads);
        rc = run__worker_new(&sh, i, n, &ws[i], e);
        if (rc < 0)
            goto fail;
        ws[i]->ubase = ubase;
        ubase += n;
        if (o->cpus && *o->cpus) {
            ws[i]->pin = 1;
            if (threads == 1) {
                ws[i]->cpuset = cpus;
            } else {
                /* the thread's own CPU, round robin over the list */
                int k = i % CPU_COUNT(&cpus), c = 0;
                CPU_ZERO(&ws[i]->cpuset);
                for (int cpu = 0; cpu < CPU_SETSIZE; cpu++)
                    if (CPU_ISSET(cpu, &cpus) && c++ == k) {
                        CPU_SET(cpu, &ws[i]->cpuset);
                        break;
                    }
            }
        }
    }

    double cpu0 = cpu_seconds();
    sh.t0 = uv_hrtime();
    sh.warm_end = sh.t0 + (uint64_t)o->warmup_ms * NS_MS;
    sh.end = sh.t0 + (uint64_t)o->duration_ms * NS_MS;
    int launched = 0;
    for (; launched < threads; launched++) {
        rc = pthread_create(&ws[launched]->th, NULL, run__worker_main, ws[launched]);
        if (rc != 0) {
            rc = err_set(e, -rc, "pthread_create: %s", strerror(rc));
            break;
        }
    }
    if (launched < threads) {
        /* stop the ones that run, tear down the rest */
        atomic_store(&sh.wake_stop, 1);
        for (int i = 0; i < launched; i++)
            uv_async_send(&ws[i]->wake);
        for (int i = 0; i < launched; i++)
            pthread_join(ws[i]->th, NULL);
        for (int i = launched; i < threads; i++) {
            run__worker_stop(ws[i]);
            uv_run(&ws[i]->loop, UV_RUN_DEFAULT);
            uv_loop_close(&ws[i]->loop);
        }
        goto fail;
    }

    /* Coordinator: poll cancel every 20 ms, report each completed second and
     * ask early_stop about it once the window has begun. */
    int reported = 0, cancel_sent = 0, early = 0;
    uint64_t cum_req = 0, cum_fail = 0, early_ns = 0;
    for (;;) {
        int alldone = 1, secs = INT_MAX;
        for (int i = 0; i < threads; i++) {
            if (!atomic_load(&ws[i]->finished))
                alldone = 0;
            int d = atomic_load_explicit(&ws[i]->secs_done, memory_order_acquire);
            if (d < secs)
                secs = d;
        }
        while (reported < secs) {
            struct run_series_point pt;
            uint64_t ok;
            run__merge_second(ws, threads, reported, tmp, &pt, &ok);
            cum_req += pt.requests;
            cum_fail += pt.failures;
            reported++;
            if ((o->progress || o->early_stop) && reported == secs) {
                struct run_progress pr;
                memset(&pr, 0, sizeof(pr));
                double end_s = (double)reported;
                if (end_s * 1000 > (double)o->duration_ms)
                    end_s = (double)o->duration_ms / 1000.0;
                pr.elapsed_s = end_s;
                pr.users = pt.users;
                pr.requests = cum_req;
                pr.failures = cum_fail;
                pr.rps = (double)ok;
                pr.p50_ms = pt.p50_ms;
                pr.p99_ms = pt.p99_ms;
                for (int i = 0; i < threads; i++) {
                    const struct sec_slot *sl = &ws[i]->slots[reported - 1];
                    pr.window_samples += sl->win_samples;
                    pr.over_bound += sl->over_bound;
                    pr.backlog += sl->backlog;
                }
                if (o->progress)
                    o->progress(o->progress_arg, &pr);
                /* Only while the phase runs: a second reported after its end
                 * (the last ones, or the drain) has nothing left to stop. */
                uint64_t now = uv_hrtime();
                if (o->early_stop && !early && !cancel_sent &&
                    end_s * 1000 > (double)o->warmup_ms && now < sh.end &&
                    o->early_stop(o->early_stop_arg, &pr)) {
                    early = 1;
                    early_ns = now;
                    atomic_store(&sh.stop_ns, now);
                    atomic_store(&sh.wake_drain, 1);
                    for (int i = 0; i < threads; i++)
                        uv_async_send(&ws[i]->wake);
                }
            }
        }
        if (alldone)
            break;
        if (!cancel_sent && o->cancel && atomic_load(o->cancel)) {
            cancel_sent = 1;
            out->cancelled = 1;
            atomic_store(&sh.wake_stop, 1);
            for (int i = 0; i < threads; i++)
                uv_async_send(&ws[i]->wake);
        }
        sleep_ms(20);
    }
    uint64_t t_end = uv_hrtime();
    for (int i = 0; i < threads; i++)
        pthread_join(ws[i]->th, NULL);
    double cpu1 = cpu_seconds();
    struct phase_end pe = {
        .t_end = t_end, .early = early, .early_ns = early_ns, .cpu_s = cpu1 - cpu0};
    rc = run__summarize(&sh, ws, threads, &pe, tmp, out, e);
    if (rc == 0)
        run__sample_verify(&sh, ws, threads, out);
fail:
    if (ws)
        for (int i = 0; i < threads; i++)
            run__worker_free(ws[i]);
    free(ws);
    run_hist_free(tmp);
    free(sh.req);
    free(sh.src);
    if (rc < 0) {
        run_report_free(out);
        phase_result_init(&out->result);
    }
    return rc;
}

void run_report_free(struct run_report *r)
{
    if (!r)
        return;
    run_hist_free(r->hist);
    free(r->series);
    r->hist = NULL;
    r->series = NULL;
    r->nseries = 0;
}
