/* figures.c - what a cell measures after its throughput search, each against
 * the sustainable throughput found before it: SLO capacity (the headline: the
 * open-loop Poisson search of search/slo.h, one per bound), latency at shares
 * of it (load points), and the users it holds (held users). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exec_int.h"
#include "search.h"

double exec__sustainable_rps(const struct cell_result *c)
{
    if (c->nslo > 0 && c->slo[0].rps > 0)
        return c->slo[0].rps;
    return c->peak_rps_passing > 0 ? c->peak_rps_passing : -1;
}

/* Connections for an open-loop phase at `rate`: enough that requests within
 * twice the bound never wait for one (Little's law: rate x latency in flight),
 * at least 8, at most 1024; a server slower than that queues them client-side,
 * charged from their intended time. */
static int open_loop_conns(double rate, double bound_ms)
{
    double n = ceil(rate * 2.0 * bound_ms / 1000.0) + 8;
    return n > 1024 ? 1024 : (int)n;
}

/* The search's plan for one bound, from the profile's slo settings. */
void exec__slo_plan_of(const struct cfg_settings *st, int64_t bound_ms, struct slo_plan *p)
{
    slo_plan_defaults(p);
    p->bound_ms = (double)bound_ms;
    p->failures_pct = st->slo.failures_pct;
    p->resolution_pct = st->slo.resolution_pct;
    p->max_rps = st->slo.max_rps;
    p->min_rps = st->slo.min_rps;
    p->warmup_s = (double)st->slo.warmup_ms / 1000.0;
    p->probe_min_s = (double)st->slo.window_min_ms / 1000.0;
    p->probe_max_s = (double)st->slo.window_max_ms / 1000.0;
    p->probe_min_samples = st->slo.samples;
}

/* The outcome of a stored probe, from its stop reason (slo_outcome_name's). */
static enum slo_outcome slo_outcome_of(const struct phase_result *ph)
{
    static const enum slo_outcome all[] = {SLO_FAIL_LATENCY, SLO_FAIL_FAILURES, SLO_FAIL_BACKLOG,
                                           SLO_INCONCLUSIVE, SLO_WRONG};
    if (!ph->stop_reason[0])
        return SLO_PASS;
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
        if (!strcmp(ph->stop_reason, slo_outcome_name(all[i])))
            return all[i];
    return SLO_FAIL_FAILURES; /* the server exited under the probe */
}

/* One SLO search for one bound: probes driven by slo_search_*, each an
 * open-loop Poisson phase (kind "slo") on a fresh server after a failure.
 * Fills *out. Returns 0, 1 when the cell ended, or a negative store error. */
static int slo_once(struct cell_ctx *k, struct cell_result *c, int64_t bound_ms, double seed,
                    struct cell_slo *out, struct err *e)
{
    struct slo_plan plan;
    exec__slo_plan_of(&k->st, bound_ms, &plan);
    struct slo_search s;
    slo_search_init(&s, &plan, seed);
    double rate;
    const char *kind;
    struct latency_ms lat = {-1, -1, -1, -1, -1, -1};
    k->need_start = 1;
    while (slo_search_next(&s, &rate, &kind)) {
        struct phase_spec ps = {
            .users = open_loop_conns(rate, plan.bound_ms),
            .rate = rate,
            .think = {CFG_THINK_CONSTANT, 0, 0},
            .duration_ms = (int64_t)((plan.warmup_s + slo_probe_window_s(&plan, rate)) * 1000.0),
            .warmup_ms = (int64_t)(plan.warmup_s * 1000.0),
            .spawn_rate = 0, /* every connection at once: the schedule, not the ramp */
            .slo = &plan,
        };
        double rps = 0;
        int lb = 0;
        struct phase_result ph;
        phase_result_init(&ph);
        int r = exec__run_phase(k, c, &ps, "slo", &rps, &lb, &ph, e);
        if (r < 0)
            return r;
        if (r == SEARCH_END) {
            slo_search_report(&s, SLO_END);
            break;
        }
        enum slo_outcome o = slo_outcome_of(&ph);
        exec__logf(k->x, 6, k->fw->name, k->pl->name,
                   "slo %g ms %s probe at %.1f req/s: %s (p99 %.2f ms, %llu of %llu over, "
                   "%llu failures%s)",
                   plan.bound_ms, kind, rate, slo_outcome_name(o), ph.latency_ms.p99,
                   (unsigned long long)ph.over_bound,
                   (unsigned long long)(ph.completed + ph.unsent_due),
                   (unsigned long long)ph.failures, ph.stopped_early ? ", stopped early" : "");
        if (o == SLO_WRONG) {
            c->status = CELL_ERROR;
            free(c->error);
            char msg[300];
            snprintf(msg, sizeof msg,
                     "wrong answers under load: %llu body and %llu protocol failures at %.1f "
                     "req/s",
                     (unsigned long long)ph.failures_by_kind[FAIL_BODY],
                     (unsigned long long)ph.failures_by_kind[FAIL_PROTOCOL], rate);
            c->error = strdup(msg);
        }
        if (!strcmp(kind, "confirm") && o == SLO_PASS)
            lat = ph.latency_ms;
        slo_search_report(&s, o);
    }
    *out = (struct cell_slo){.bound_ms = plan.bound_ms,
                             .rps = s.result.rps,
                             .bracket_lo = s.result.lo,
                             .bracket_hi = s.result.hi,
                             .latency_ms = lat,
                             .probes = s.result.probes,
                             .resolution_pct = plan.resolution_pct,
                             .failures_pct = plan.failures_pct};
    mf_strlcpy(out->limit, s.result.limit ? s.result.limit : "", sizeof(out->limit));
    return s.ended ? 1 : 0;
}

int exec__run_slo(struct cell_ctx *k, struct cell_result *c, struct err *e)
{
    const struct cfg_slo *so = &k->st.slo;
    double seed = c->peak_rps_passing;
    if (!so->on)
        return 0;
    if (seed <= 0) {
        exec__logf(k->x, 4, k->fw->name, k->pl->name,
                   "slo capacity not measured: no phase of the throughput search passed");
        return 0;
    }
    c->nslo = 0;
    for (int i = 0; i < so->nbounds && i < CELL_MAX_SLO; i++) {
        struct cell_slo r;
        int rc = slo_once(k, c, so->bounds_ms[i], seed, &r, e);
        if (rc < 0)
            return rc;
        c->slo[c->nslo++] = r;
        if (r.rps >= 0)
            exec__logf(k->x, 6, k->fw->name, k->pl->name,
                       "slo capacity (p99 <= %g ms): %.1f req/s, bracket [%.1f, %.1f], limit %s, "
                       "%d probes",
                       r.bound_ms, r.rps, r.bracket_lo, r.bracket_hi, r.limit, r.probes);
        else
            exec__logf(k->x, 4, k->fw->name, k->pl->name,
                       "slo capacity (p99 <= %g ms) not found: limit %s, %d probes%s", r.bound_ms,
                       r.limit[0] ? r.limit : "-", r.probes,
                       rc ? " (the cell ended)"
                       : !strcmp(r.limit, "client")
                           ? " (the load engine could not keep the schedule)"
                           : " (every confirming probe failed)");
        if (rc || c->status != CELL_OK)
            break;
    }
    return 0;
}

/* Latency at load: an open-loop Poisson phase at each share of the cell's
 * sustainable throughput (the SLO capacity when measured, else the peak of
 * passing phases), latency counted from the intended send times and every
 * request counted. With an SLO the connections are as for its probes; without,
 * as many as the search phase that reached the peak had (at least 4: a server
 * may serve fewer connections faster, as tornado does). A failing point is
 * recorded, not a verdict on the cell. Returns 0, or a negative store error. */
int exec__run_load_points(struct cell_ctx *k, struct cell_result *c, struct err *e)
{
    const struct cfg_settings *st = &k->st;
    double base = exec__sustainable_rps(c);
    int of_slo = c->nslo > 0 && c->slo[0].rps > 0;
    if (base <= 0 || st->load_points.n == 0)
        return 0;
    int conns = c->capacity_users;
    double best = -1;
    for (size_t i = 0; i < c->nphases; i++)
        if (phase_in_search(&c->phases[i]) && !c->phases[i].stop_reason[0] &&
            c->phases[i].rps > best) {
            best = c->phases[i].rps;
            conns = c->phases[i].users;
        }
    if (conns < 4)
        conns = 4;
    for (int i = 0; i < st->load_points.n && i < CELL_MAX_LOAD_POINTS; i++) {
        struct phase_spec ps;
        exec__spec_of(st, conns, &ps);
        ps.rate = base * st->load_points.pct[i] / 100.0;
        if (of_slo)
            ps.users = open_loop_conns(ps.rate, c->slo[0].bound_ms);
        ps.think = (struct cfg_think){CFG_THINK_CONSTANT, 0, 0};
        ps.spawn_rate = 0; /* every connection at once: the schedule, not the ramp */
        ps.pct_of = st->load_points.pct[i];
        k->need_start = 1; /* each point on a fresh server, like each search */
        double rps = 0;
        int lb = 0;
        struct phase_result ph;
        phase_result_init(&ph);
        int r = exec__run_phase(k, c, &ps, "load", &rps, &lb, &ph, e);
        if (r < 0)
            return r;
        if (r == SEARCH_END)
            return 0;
        struct load_point *lp = &c->load_points[c->nload_points++];
        *lp = (struct load_point){.pct_of_peak = st->load_points.pct[i],
                                  .offered_rps = ps.rate,
                                  .rps = ph.rps,
                                  .latency_ms = ph.latency_ms,
                                  .failures = ph.failures,
                                  .of_slo = of_slo,
                                  .offered = ph.offered,
                                  .completed = ph.completed,
                                  .in_flight = ph.in_flight};
        exec__logf(k->x, 6, k->fw->name, k->pl->name,
                   "latency at %.0f%% of %s (%.1f req/s): p50 %.2f ms, p99 %.2f ms, %llu "
                   "failures",
                   lp->pct_of_peak, of_slo ? "slo capacity" : "peak", ps.rate, lp->latency_ms.p50,
                   lp->latency_ms.p99, (unsigned long long)lp->failures);
    }
    return 0;
}

/* What keeps the load engine from holding `users` connections to this cell's
 * server (run_client_limit: client:descriptors, client:ports, client:memory,
 * client:conntrack, the one that binds first), or NULL; why in e. */
static const char *client_limit(const struct cell_ctx *k, int users, struct err *e)
{
    struct run_opts o;
    run_opts_init(&o);
    o.url = k->url;
    o.users = users;
    o.source_addrs = k->x->matrix->load_source_addrs;
    char why[256];
    const char *limit = run_client_limit(users, &o, why, sizeof why);
    if (limit)
        err_set(e, -EADDRNOTAVAIL, "%s", why);
    return limit;
}

/* The concurrency number: the think-time users at doubling levels (then
 * bisection), each think stretched so the users offer at most max_offered of
 * the measured peak: a level measures connections held, not throughput. Sets
 * held_users (-1 when even the first level failed) and held_limit. Returns 0,
 * or a negative store error. */
int exec__run_held(struct cell_ctx *k, struct cell_result *c, struct err *e)
{
    const struct cfg_settings *st = &k->st;
    const struct cfg_held *h = &st->held;
    double peak = exec__sustainable_rps(c);
    struct search_plan plan = {.start = h->users.start,
                               .step = h->users.start,
                               .max = h->users.max,
                               .factor = h->users.factor > 1 ? h->users.factor : 2,
                               .refine_pct = st->refine_pct,
                               .refine_abs = st->refine_abs,
                               .repeats = 1};
    struct search s;
    search_init(&s, &plan);
    k->need_start = 1;
    int users;
    const char *kind;
    const char *limit = NULL;
    char why[300] = "";
    while (search_next(&s, &users, &kind)) {
        struct err le;
        err_clear(&le);
        if ((limit = client_limit(k, users, &le)) != NULL) {
            mf_strlcpy(why, le.msg, sizeof(why));
            search_report(&s, SEARCH_CLIENT_FAIL, 0, 0);
            break;
        }
        struct phase_spec ps = {.users = users,
                                .think = h->think,
                                .duration_ms = h->duration_ms,
                                .warmup_ms = h->warmup_ms,
                                .spawn_rate = h->spawn_rate};
        double mean_s = (double)(h->think.min_ms + h->think.max_ms) / 2000.0;
        double cap = peak * h->max_offered_pct / 100.0;
        if (mean_s > 0 && cap > 0 && (double)users / mean_s > cap) {
            double f = (double)users / mean_s / cap;
            ps.think.min_ms = (int64_t)((double)h->think.min_ms * f);
            ps.think.max_ms = (int64_t)((double)h->think.max_ms * f);
        }
        double rps = 0;
        int lb = 0;
        struct phase_result ph;
        phase_result_init(&ph);
        int r = exec__run_phase(k, c, &ps, "held", &rps, &lb, &ph, e);
        if (r < 0)
            return r;
        if (r == SEARCH_PASS && ph.failures_by_kind[FAIL_CLIENT] > 0) {
            snprintf(why, sizeof(why), "%llu connections failed on the client's own limits",
                     (unsigned long long)ph.failures_by_kind[FAIL_CLIENT]);
            limit = "client";
            r = SEARCH_CLIENT_FAIL;
        }
        search_report(&s, (enum search_outcome)r, rps, lb);
        if (r == SEARCH_CLIENT_FAIL && !limit)
            limit = "client";
    }
    if (s.ended)
        return 0; /* cancelled or the cell failed: held is not known */
    /* Even the first level (and the bisection below it) failed: the server
     * held no users, a measured 0, not an unknown. */
    c->held_users = s.result.capacity < 0 ? 0 : s.result.capacity;
    if (limit)
        mf_strlcpy(c->held_limit, limit, sizeof(c->held_limit));
    else if (s.result.breaking > 0)
        mf_strlcpy(c->held_limit, "server", sizeof(c->held_limit));
    else
        mf_strlcpy(c->held_limit, "max", sizeof(c->held_limit));
    exec__logf(k->x, 6, k->fw->name, k->pl->name, "held %d users (limit: %s%s%s)", c->held_users,
               c->held_limit, why[0] ? ": " : "", why);
    return 0;
}
