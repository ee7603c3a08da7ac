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

double exec_slo_least_passable_rps(const struct cfg_settings *st, int64_t bound_ms,
                                   uint64_t *least_samples)
{
    if (least_samples)
        *least_samples = 0;
    if (!st->slo.on)
        return 0;
    struct slo_plan p;
    exec__slo_plan_of(st, bound_ms, &p);
    /* t(n) >= 0 exactly when P[Binomial(n, q) = 0] = (1 - q)^n < 1 - confidence, q the
     * share allowed over: n > ln(1 - c) / ln(1 - q); then checked against the rule
     * itself against rounding (t(459) = 0 for p99 at 99%). */
    double q = 1.0 - p.percentile / 100.0;
    uint64_t n = (uint64_t)floor(log(1.0 - p.confidence) / log(1.0 - q)) + 1;
    while (n > 1 && slo_max_over(n - 1, p.percentile, p.confidence) >= 0)
        n--;
    while (slo_max_over(n, p.percentile, p.confidence) < 0)
        n++;
    if (least_samples)
        *least_samples = n;
    /* A probe's window is samples / rate clamped to [window.min, window.max], so it
     * holds R x window.max at the lowest rates and slo.samples (or R x window.min)
     * above: with slo.samples >= n the least rate is n / window.max, else n / window.min. */
    return (double)n / ((uint64_t)p.probe_min_samples >= n ? p.probe_max_s : p.probe_min_s);
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

int exec__slo_shared(const struct phase_result *ph)
{
    return !ph->client_bound && ph->failures_by_kind[FAIL_CLIENT] == 0 &&
           (ph->client_neighbour_cpu_pct > NOISY_PCT || ph->client_steal_pct > NOISY_PCT);
}

/* A probe failed on latency or backlog while other processes (or the hypervisor's steal)
 * took more than NOISY_PCT of the server's CPUs: the neighbours' doing, not the rate's.
 * Judged only where those CPUs are apart from the load engine's (an ssh node, or a local
 * node with node.cpus and load.cpus both set and disjoint): where they overlap, the
 * engine itself is one of the "neighbours" (a Slurm node of one CPU is, and says so). */
static int slo_node_shared(const struct cfg_matrix *m, const struct phase_result *ph)
{
    if (m->node.transport != CFG_TRANSPORT_SSH &&
        (!m->node.cpus || !*m->node.cpus || !m->load_cpus || !*m->load_cpus ||
         node_cpus_overlap(m->node.cpus, m->load_cpus)))
        return 0;
    return ph->neighbour_cpu_pct > NOISY_PCT || ph->steal_pct > NOISY_PCT;
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
    int shared = 0; /* probes repeated because the engine's or the server's CPUs were shared */
    int gave_up = 0, node_side = 0;
    double best_pass = -1; /* the highest rate a probe passed at */
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
        if (o == SLO_PASS && rate > best_pass)
            best_pass = rate;
        if (o == SLO_INCONCLUSIVE && exec__slo_shared(&ph)) {
            /* The engine missed its schedule while other processes took its
             * CPUs and it was not busy itself: the neighbours, not the rate.
             * A lower rate would measure them again (a shared machine walked
             * one search down to 25 req/s in 14 probes), so the same rate is
             * probed again, and after EXEC_SLO_SHARED_RETRIES the search
             * stops: a lower bound at the last pass, or not judged. */
            if (shared < EXEC_SLO_SHARED_RETRIES) {
                shared++;
                exec__logf(k->x, 4, k->fw->name, k->pl->name,
                           "slo %g ms probe at %.1f req/s inconclusive with the load engine's "
                           "CPUs shared (neighbours %.0f%%, steal %.0f%%, the engine %.0f%%): "
                           "the same rate again",
                           plan.bound_ms, rate, ph.client_neighbour_cpu_pct, ph.client_steal_pct,
                           ph.client_cpu_pct);
                continue;
            }
            gave_up = 1;
            snprintf(c->note, sizeof(c->note),
                     "slo %g ms: %d probes at %.1f req/s were inconclusive with the load "
                     "engine's CPUs shared (neighbours %.0f%%): search stopped%s",
                     plan.bound_ms, shared + 1, rate, ph.client_neighbour_cpu_pct,
                     best_pass > 0 ? ", the highest passing rate is a lower bound"
                                   : ", not judged");
            exec__logf(k->x, 4, k->fw->name, k->pl->name, "%s", c->note);
            break;
        }
        if ((o == SLO_FAIL_LATENCY || o == SLO_FAIL_BACKLOG) &&
            slo_node_shared(k->x->matrix, &ph)) {
            /* The server's side of the same rule: a failure while neighbours took
             * its CPUs is probed again at the same rate, and after
             * EXEC_SLO_SHARED_RETRIES the search stops ("shared"): stored as the
             * server's limit, a compile beside a nightly made one cell's SLO
             * capacity "not found" (every probe after it failed with 20-26% of the
             * server's CPU taken by others). */
            if (shared < EXEC_SLO_SHARED_RETRIES) {
                shared++;
                exec__logf(k->x, 4, k->fw->name, k->pl->name,
                           "slo %g ms probe at %.1f req/s failed (%s) with the server's CPUs "
                           "shared (neighbours %.0f%%, steal %.0f%%): the same rate again",
                           plan.bound_ms, rate, slo_outcome_name(o), ph.neighbour_cpu_pct,
                           ph.steal_pct);
                continue;
            }
            gave_up = node_side = 1;
            snprintf(c->note, sizeof(c->note),
                     "slo %g ms: %d probes at %.1f req/s failed with the server's CPUs shared "
                     "(neighbours %.0f%%, steal %.0f%%): search stopped%s",
                     plan.bound_ms, shared + 1, rate, ph.neighbour_cpu_pct, ph.steal_pct,
                     best_pass > 0 ? ", the highest passing rate is a lower bound"
                                   : ", not judged");
            exec__logf(k->x, 4, k->fw->name, k->pl->name, "%s", c->note);
            break;
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
    out->probes += shared + gave_up; /* the probes never reported to the search */
    if (gave_up) {
        /* Every probe that passed held the SLO at its rate: the highest is a
         * lower bound; the lowest that did not pass bounds the bracket. */
        out->rps = best_pass;
        out->bracket_lo = best_pass;
        out->bracket_hi = rate;
        mf_strlcpy(out->limit, node_side ? "shared" : "client", sizeof(out->limit));
    }
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
                       : !strcmp(r.limit, "shared") ? " (other processes took the server's CPUs)"
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

/* Descriptors a server needs beside one per held connection (its listener,
 * stdio, logs, the modules it opened). */
#define HELD_SERVER_FDS_SPARE 64

/* "client:RESOURCE" for what client_limit() named (the engine may name it so
 * already). */
static void client_limit_name(const char *lim, char *out, size_t n)
{
    if (!strncmp(lim, "client", 6))
        mf_strlcpy(out, lim, n);
    else
        snprintf(out, n, "client:%s", lim);
}

/* Whether the server that ran the last level had fewer descriptors than
 * `users` need because of the node: its nofile (as the start reported it)
 * below the level and below what the matrix asked for (clamped to the node's
 * hard limit), or never raised. Then a failure says nothing of the framework. */
static int node_descriptors_short(const struct cell_ctx *k, int users)
{
    int64_t got = k->srv.nofile, asked = k->x->matrix->node.nofile;
    return got > 0 && got < (int64_t)users + HELD_SERVER_FDS_SPARE && (asked <= 0 || got < asked);
}

/* Whether the server's known connection cap (frameworks.NAME.limits.connections)
 * explains where held users stopped: held at or under the cap by at most twice
 * the search's resolution there (a server counts a few sockets of its own
 * against it: waitress its listener and trigger), and the first failing level
 * not past the cap by more than once the resolution. The resolution is the
 * held search's at the cap (exec__held_plan_of), or the bracket [held, breaking) the search ended
 * with when that is wider (no bisection). Then held_setting is "SETTING VALUE" and the note says
 * "held users: server: SETTING VALUE". */
static void held_setting(const struct cell_ctx *k, struct cell_result *c, int breaking)
{
    const struct cfg_limit *cap = &k->fw->limits.connections;
    if (!cap->setting || cap->value <= 0 || c->held_users < 0 || breaking <= c->held_users)
        return;
    struct search_plan plan;
    exec__held_plan_of(&k->st, &plan);
    int64_t res = plan.refine_abs > 0 ? plan.refine_abs
                                      : (int64_t)ceil((double)cap->value * plan.refine_pct / 100.0);
    if (res < breaking - c->held_users)
        res = breaking - c->held_users;
    if (c->held_users > cap->value || cap->value - c->held_users > 2 * res ||
        breaking > cap->value + res)
        return;
    snprintf(c->held_setting, sizeof(c->held_setting), "%s %lld", cap->setting,
             (long long)cap->value);
    size_t len = strlen(c->note);
    if (len + 1 < sizeof(c->note))
        snprintf(c->note + len, sizeof(c->note) - len, "%sheld users: server: %s", len ? "; " : "",
                 c->held_setting);
}

/* The concurrency number: the think-time users at doubling levels (then
 * bisection), each level planned by search_held_plan (think stretched so the
 * users offer at most max_offered of the sustainable throughput, a warm-up
 * over the ramp, a window in which every user sends, the phase grown up to 4 x
 * held.duration) and judged by search_held_fails (no failure, no failed
 * connect, p99 <= held.p99). Sets held_users (-1 when not measured; 0 when
 * even the first level failed) and held_limit: server, max, not_judged,
 * client:RESOURCE or node:descriptors. Returns 0, or a negative store error. */
int exec__run_held(struct cell_ctx *k, struct cell_result *c, struct err *e)
{
    const struct cfg_settings *st = &k->st;
    const struct cfg_held *h = &st->held;
    double sustainable = exec__sustainable_rps(c);
    double p99 = (double)cfg_held_p99_ms(st);
    struct search_plan plan;
    exec__held_plan_of(st, &plan);
    if (sustainable <= 0) {
        /* Without it the offered load cannot be kept under half of it: the
         * level would measure throughput, not connections. */
        mf_strlcpy(c->held_limit, "not_judged", sizeof(c->held_limit));
        exec__logf(k->x, 4, k->fw->name, k->pl->name,
                   "held users not judged: no sustainable throughput to keep the users under");
        return 0;
    }
    struct search s;
    search_init(&s, &plan);
    k->need_start = 1;
    int users;
    const char *kind;
    char limit[32] = "";
    char why[400] = "";
    while (search_next(&s, &users, &kind)) {
        struct err le;
        err_clear(&le);
        const char *cl = client_limit(k, users, &le);
        if (cl) {
            client_limit_name(cl, limit, sizeof(limit));
            mf_strlcpy(why, le.msg, sizeof(why));
            search_report(&s, SEARCH_CLIENT_FAIL, 0, 0);
            break;
        }
        struct held_level_in in = {.users = users,
                                   .think_min_ms = h->think.min_ms,
                                   .think_max_ms = h->think.max_ms,
                                   .sustainable_rps = sustainable,
                                   .max_offered_pct = h->max_offered_pct,
                                   .duration_ms = h->duration_ms,
                                   .warmup_ms = h->warmup_ms,
                                   .spawn_rate = h->spawn_rate,
                                   .timeout_ms = st->timeout_ms,
                                   .phase_max_ms = MF_PHASE_MAX_MS};
        struct held_level_plan hp;
        search_held_plan(&in, &hp);
        if (!hp.judged) {
            /* A window too short for every user to send once would count a
             * silent user as the server's failure: the level is not run. */
            mf_strlcpy(limit, "not_judged", sizeof(limit));
            snprintf(why, sizeof(why),
                     "%d users not judged: a %.1f s warm-up and a %.1f s window (think up to "
                     "%.1f s at %.1f req/s, plus the timeout) exceed %.1f s (%d x held.duration)",
                     users, (double)hp.warmup_ms / 1000.0, (double)hp.window_needed_ms / 1000.0,
                     (double)hp.think_max_ms / 1000.0, hp.cap_rps, (double)hp.cap_ms / 1000.0,
                     SEARCH_HELD_CAP_FACTOR);
            if (!c->note[0])
                snprintf(c->note, sizeof(c->note), "held users: %s", why);
            search_report(&s, SEARCH_CLIENT_FAIL, 0, 0);
            break;
        }
        if (hp.replanned)
            exec__logf(k->x, 6, k->fw->name, k->pl->name,
                       "held %d users: phase %.1f s (warm-up %.1f s), longer than held.duration "
                       "for a %.1f s window (think %.1f-%.1f s, timeout %.1f s)",
                       users, (double)hp.duration_ms / 1000.0, (double)hp.warmup_ms / 1000.0,
                       (double)hp.window_needed_ms / 1000.0, (double)hp.think_min_ms / 1000.0,
                       (double)hp.think_max_ms / 1000.0, (double)st->timeout_ms / 1000.0);
        struct phase_spec ps = {.users = users,
                                .think = h->think,
                                .duration_ms = hp.duration_ms,
                                .warmup_ms = hp.warmup_ms,
                                .spawn_rate = h->spawn_rate,
                                .held_p99_ms = p99};
        ps.think.min_ms = hp.think_min_ms;
        ps.think.max_ms = hp.think_max_ms;
        if (h->think.min_ms == 0 && h->think.max_ms == 0)
            ps.think.kind = CFG_THINK_CONSTANT;
        double rps = 0;
        int lb = 0;
        struct phase_result ph;
        phase_result_init(&ph);
        int r = exec__run_phase(k, c, &ps, "held", &rps, &lb, &ph, e);
        if (r < 0)
            return r;
        if (r != SEARCH_END && ph.failures_by_kind[FAIL_CLIENT] > 0) {
            /* Connections the load engine itself could not make: its limit. */
            snprintf(why, sizeof(why), "%llu connections failed on the client's own limits",
                     (unsigned long long)ph.failures_by_kind[FAIL_CLIENT]);
            mf_strlcpy(limit, "client", sizeof(limit));
            r = SEARCH_CLIENT_FAIL;
        } else if (r == SEARCH_FAIL && node_descriptors_short(k, users)) {
            snprintf(why, sizeof(why),
                     "the level at %d users failed (%s) with the server's nofile at %lld, "
                     "below the level: the node's limit (node.nofile %lld)",
                     users, ph.stop_reason, (long long)k->srv.nofile,
                     (long long)k->x->matrix->node.nofile);
            mf_strlcpy(limit, "node:descriptors", sizeof(limit));
            r = SEARCH_CLIENT_FAIL;
        } else if (r == SEARCH_FAIL) {
            exec__logf(k->x, 6, k->fw->name, k->pl->name,
                       "held %d users failed (%s): p99 %.2f ms (bound %.0f ms), %llu failures, "
                       "%llu failed connects, %llu retries",
                       users, ph.stop_reason, ph.latency_ms.p99, p99,
                       (unsigned long long)ph.failures, (unsigned long long)ph.connect_failures,
                       (unsigned long long)ph.retries);
        }
        if (r == SEARCH_CLIENT_FAIL && !limit[0])
            mf_strlcpy(limit, "client", sizeof(limit));
        search_report(&s, (enum search_outcome)r, rps, lb);
    }
    if (s.ended)
        return 0; /* cancelled or the cell failed: held is not known */
    /* Even the first level (and the bisection below it) failed: the server
     * held no users, a measured 0, not an unknown. */
    c->held_users = s.result.capacity < 0 ? 0 : s.result.capacity;
    if (limit[0])
        mf_strlcpy(c->held_limit, limit, sizeof(c->held_limit));
    else if (s.result.breaking > 0)
        mf_strlcpy(c->held_limit, "server", sizeof(c->held_limit));
    else
        mf_strlcpy(c->held_limit, "max", sizeof(c->held_limit));
    if (!strcmp(c->held_limit, "not_judged") && s.result.capacity < 0)
        c->held_users = -1; /* not even the first level could be judged */
    if (!strcmp(c->held_limit, "server"))
        held_setting(k, c, s.result.breaking);
    if (c->held_setting[0])
        snprintf(why, sizeof(why), "%s", c->held_setting);
    exec__logf(k->x, 6, k->fw->name, k->pl->name, "held %d users (limit: %s%s%s)", c->held_users,
               c->held_limit, why[0] ? ": " : "", why);
    return 0;
}
