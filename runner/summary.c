/* summary.c - what a phase counts: every answer and failure into the current
 * second's and the window's counts and histograms, the seconds merged for
 * progress and the series, and the workers merged into the phase's report. */
#include "engine_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void run__count_fail(struct worker *w, enum fail_kind k, uint64_t n, uint64_t now)
{
    if (k != FAIL_CLIENT) {
        w->sec_req += n;
        w->sec_fail += n;
    }
    if (run__in_window(w, now))
        w->fails[k] += n;
}

/* One latency sample of a request that ended at now: in that second's
 * histogram, and in the window's with the bound's count. over: over the bound
 * whatever its time (a timeout is, even under a bound longer than the timeout). */
void run__sample(struct worker *w, uint64_t lat_ns, int over, uint64_t now)
{
    uint64_t us = lat_ns / 1000;
    run_hist_record(w->sec_hist, us);
    if (!run__in_window(w, now))
        return;
    run_hist_record(w->hist, us);
    w->samples++;
    if (w->sh->bound_us && (over || us > w->sh->bound_us))
        w->over++;
}

void run__count_response(struct worker *w, int ok, enum fail_kind k, uint64_t lat_ns, uint64_t now)
{
    w->sec_req++;
    run__sample(w, lat_ns, 0, now);
    if (ok)
        w->sec_ok++;
    else
        w->sec_fail++;
    if (!run__in_window(w, now))
        return;
    if (ok)
        w->ok++;
    else
        w->fails[k]++;
}

/* The latency samples of the requests a failure ends, at the time they took
 * to fail: those in flight from their latency start, a closed-loop batch
 * still waiting for its connection from when it was wanted. An open-loop
 * connection that failed with no request on it has no sample (nothing was
 * asked). FAIL_CLIENT has none either: the request never reached the server,
 * so its time says nothing about the server; such a phase is client-bound and
 * judged inconclusive, not slow. */
void run__fail_samples(struct user *u, enum fail_kind k, uint64_t now)
{
    struct worker *w = u->w;
    if (k == FAIL_CLIENT)
        return;
    int over = k == FAIL_TIMEOUT;
    if (u->inflight) {
        for (int i = 0; i < u->inflight; i++) {
            uint64_t t = u->ts[2 * ((u->head + i) % w->sh->pipeline)];
            run__sample(w, now > t ? now - t : 0, over, now);
        }
    } else if (u->want_send) {
        run__sample(w, now > u->want_ns ? now - u->want_ns : 0, over, now);
    }
}

void run__sec_finalize(struct worker *w)
{
    if (w->cur_sec >= w->sh->nsec)
        return;
    struct sec_slot *s = &w->slots[w->cur_sec];
    s->requests = w->sec_req;
    s->failures = w->sec_fail;
    s->ok = w->sec_ok;
    s->users = w->started;
    s->win_samples = w->samples;
    s->over_bound = w->over;
    s->backlog = w->outstanding + w->pending + run__sched_backlog(w, uv_hrtime());
    uint32_t nb = 0;
    for (size_t i = 0; i < RUN_HIST_NBUCKETS; i++)
        nb += run__hist_bucket(w->sec_hist, i) != 0;
    if (nb) {
        s->b = malloc(nb * sizeof(*s->b)); /* once a second, not per request */
        if (s->b) {
            uint32_t j = 0;
            for (size_t i = 0; i < RUN_HIST_NBUCKETS; i++) {
                uint64_t c = run__hist_bucket(w->sec_hist, i);
                if (c) {
                    s->b[j][0] = (uint32_t)i;
                    s->b[j][1] = c > UINT32_MAX ? UINT32_MAX : (uint32_t)c;
                    j++;
                }
            }
            s->nb = nb;
        }
    }
    run_hist_reset(w->sec_hist);
    w->sec_req = w->sec_fail = w->sec_ok = 0;
    w->cur_sec++;
    atomic_store_explicit(&w->secs_done, w->cur_sec, memory_order_release);
}

void run__merge_second(struct worker **ws, int nw, int s, struct run_hist *tmp,
                       struct run_series_point *pt, uint64_t *ok)
{
    run_hist_reset(tmp);
    memset(pt, 0, sizeof(*pt));
    *ok = 0;
    for (int i = 0; i < nw; i++) {
        struct sec_slot *sl = &ws[i]->slots[s];
        pt->requests += sl->requests;
        pt->failures += sl->failures;
        pt->users += sl->users;
        *ok += sl->ok;
        for (uint32_t j = 0; j < sl->nb; j++)
            run__hist_add_bucket(tmp, sl->b[j][0], sl->b[j][1]);
    }
    pt->p50_ms = run_hist_percentile(tmp, 50) / 1000.0;
    pt->p99_ms = run_hist_percentile(tmp, 99) / 1000.0;
}

/* Merges the workers once they are joined: the window's counts, latency and
 * offered load, the client's CPU, and the series of the seconds the phase ran. */
int run__summarize(const struct shared *sh, struct worker **ws, int nw, const struct phase_end *pe,
                   struct run_hist *tmp, struct run_report *out, struct err *e)
{
    const struct run_opts *o = sh->o;
    int rc = 0;
    struct phase_result *res = &out->result;
    out->hist = run_hist_new();
    out->series = calloc((size_t)sh->nsec, sizeof(*out->series));
    if (!out->hist || !out->series) {
        return err_set(e, -ENOMEM, "out of memory");
    }
    uint64_t ok = 0, ok_drain = 0;
    for (int i = 0; i < nw; i++) {
        struct worker *w = ws[i];
        if (w->loop_close_rc != 0 && rc == 0)
            rc = err_set(e, w->loop_close_rc, "uv_loop_close: %s", uv_strerror(w->loop_close_rc));
        run_hist_merge(out->hist, w->hist);
        ok += w->ok;
        ok_drain += w->ok_drain;
        res->in_flight += w->in_flight;
        for (int k = 0; k < FAIL__COUNT; k++)
            res->failures_by_kind[k] += w->fails[k];
        res->bytes_read += w->bytes;
        res->missed_schedule += w->missed;
        out->reconnects += w->reconnects;
        res->sent += w->sent;
        res->offered += w->offered;
        res->unsent_due += w->unsent;
        res->over_bound += w->over;
        /* The sum of the workers' maxima: an upper bound of the true maximum
         * (they need not peak at once), exact with one thread. */
        res->connections_max += w->conns_max;
        res->connect_failures += w->conn_fails;
        res->retries += w->retries;
    }
    if (rc < 0)
        return rc;
    for (int k = 0; k < FAIL__COUNT; k++)
        if (k != FAIL_CLIENT)
            res->failures += res->failures_by_kind[k];
    res->users = o->users;
    res->requests = ok + res->failures;
    res->completed = res->requests;
    res->seed = sh->seed;
    mf_strlcpy(res->arrivals, sh->rate_mode ? run_arrivals_name(sh->arrivals) : "",
               sizeof(res->arrivals));
    res->bound_ms = (double)sh->bound_us / 1000.0;
    res->stopped_early = pe->early && !out->cancelled;
    double wall_end = out->cancelled ? (double)(pe->t_end - sh->t0) : (double)(sh->end - sh->t0);
    if (res->stopped_early && pe->early_ns < sh->end)
        wall_end = (double)(pe->early_ns - sh->t0);
    double window = (wall_end - (double)o->warmup_ms * 1e6) / 1e9;
    if (window < 0)
        window = 0;
    res->duration_s = window;
    /* Answers that came while draining are outcomes of the phase (requests,
     * latency) but not throughput of its window. */
    res->rps = window > 0 ? (double)(ok - ok_drain) / window : 0;
    run_hist_summary(out->hist, &res->latency_ms);
    if (o->rate > 0) {
        res->offered_rps = o->rate;
    } else if (!run__think_unbounded(o) && window > 0) {
        /* Each user's schedule against an instant server, from its own draws. */
        uint64_t budget = OFFERED_REPLAY_BUDGET;
        double offered = 0;
        for (int i = 0; i < nw; i++)
            for (int j = 0; j < ws[i]->nusers; j++) {
                const struct user *u = run__user_at(ws[i], j);
                if (u->started)
                    offered += run_offered_requests(o, u->born_ns, sh->warm_end, sh->end,
                                                    run__user_seed(ws[i], j), &budget);
            }
        res->offered_rps = offered / window;
    }
    if (!sh->rate_mode)
        res->offered =
            res->offered_rps > 0 ? (uint64_t)llround(res->offered_rps * window) : res->sent;
    double wall = (double)(pe->t_end - sh->t0) / 1e9;
    res->client_cpu_pct = wall > 0 ? pe->cpu_s / wall * 100.0 : 0;
    res->client_bound = res->client_cpu_pct > 90.0 * nw;
    int nsec = (out->cancelled || res->stopped_early)
                   ? (int)((pe->t_end - sh->t0 + NS_S - 1) / NS_S)
                   : sh->nsec;
    if (nsec > sh->nsec)
        nsec = sh->nsec;
    for (int s = 0; s < nsec; s++) {
        uint64_t sok;
        run__merge_second(ws, nw, s, tmp, &out->series[s], &sok);
        double t = (double)(s + 1);
        if (t * 1000 > (double)o->duration_ms)
            t = (double)o->duration_ms / 1000.0;
        out->series[s].t_s = t;
    }
    out->nseries = (size_t)nsec;
    return 0;
}
