/* headline.c - the headline figures of a cell (see headline.h): the peak as
 * the median over repeats of each search's highest req/s, the figures of the
 * phase of that peak, latency at load from the stored load points, and the
 * marks of load-bound, client-bound and noisy phases. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "common.h"
#include "headline.h"

#define HL_MAX_REPEATS 64

static unsigned phase_flags(const struct phase_result *p)
{
    return (p->load_bound ? HL_LOAD_BOUND : 0u) | (p->client_bound ? HL_CLIENT_BOUND : 0u) |
           (p->noisy ? HL_NOISY : 0u) | (p->db_bound ? HL_DB_BOUND : 0u);
}

/* A phase that is not a clean point: failures, or fewer than 98% of the
 * requests it intended completed (a backlog, or sends never made). */
int headline_load_point_unclean(const struct load_point *lp)
{
    return lp->failures > 0 ||
           (lp->offered > 0 && (double)lp->completed < HL_CLEAN_SHARE * (double)lp->offered);
}

int headline_phase_unclean(const struct phase_result *p)
{
    return p->failures > 0 ||
           (p->offered > 0 && (double)p->completed < HL_CLEAN_SHARE * (double)p->offered);
}

/* Load point i of the cell, with the marks of the "load" phase that measured
 * it (same offered rate within 1%, else the same rank among them). */
static void latency_at(const struct cell_result *c, int i, struct hl_latency *out)
{
    memset(out, 0, sizeof(*out));
    out->p50_ms = out->p99_ms = -1;
    if (i >= c->nload_points || i >= CELL_MAX_LOAD_POINTS)
        return;
    const struct load_point *lp = &c->load_points[i];
    out->pct = lp->pct_of_peak;
    out->of_slo = lp->of_slo;
    out->p50_ms = lp->latency_ms.p50;
    out->p99_ms = lp->latency_ms.p99;
    out->unclean =
        lp->failures > 0 || (lp->offered > 0 && (double)lp->completed < 0.98 * (double)lp->offered);
    const struct phase_result *by_rate = NULL, *by_rank = NULL;
    int nth = 0;
    for (size_t k = 0; k < c->nphases; k++) {
        const struct phase_result *p = &c->phases[k];
        if (strcmp(p->kind, "load") != 0)
            continue;
        if (nth++ == i)
            by_rank = p;
        if (!by_rate && lp->offered_rps > 0 &&
            fabs(p->offered_rps - lp->offered_rps) <= 0.01 * lp->offered_rps)
            by_rate = p;
    }
    const struct phase_result *p = by_rate ? by_rate : by_rank;
    /* An open-loop point is load-bound by design: only the other marks count. */
    if (p)
        out->flags = phase_flags(p) & ~HL_LOAD_BOUND;
    if (out->unclean)
        out->flags |= HL_UNCLEAN;
}

/* The headline's SLO: the cell's first bound, with what its value is. */
static void slo_of(const struct cell_result *c, struct hl_slo *s)
{
    memset(s, 0, sizeof(*s));
    s->rps = s->lo = s->hi = -1;
    s->qualifier = HL_Q_NOT_JUDGED;
    if (c->nslo <= 0)
        return;
    const struct cell_slo *o = &c->slo[0];
    s->has = 1;
    s->bound_ms = o->bound_ms;
    s->rps = o->rps;
    s->lo = o->bracket_lo;
    s->hi = o->bracket_hi;
    s->latency_ms = o->latency_ms;
    s->probes = o->probes;
    s->resolution_pct = o->resolution_pct;
    mf_strlcpy(s->limit, o->limit, sizeof(s->limit));
    if (o->rps < 0)
        s->qualifier = HL_Q_NOT_JUDGED;
    else if (o->rps == 0 && o->bracket_hi > 0)
        s->qualifier = HL_Q_BELOW_MIN;
    else if (!strcmp(o->limit, "max"))
        s->qualifier = HL_Q_MAX;
    else if (!strcmp(o->limit, "client"))
        s->qualifier = HL_Q_CLIENT;
    else if (!strcmp(o->limit, "shared"))
        s->qualifier = HL_Q_SHARED;
    else
        s->qualifier = HL_Q_MEASURED;
}

static void versions_text(const struct cell_result *c, char *out, size_t n)
{
    out[0] = '\0';
    cJSON *v = c->versions_json ? cJSON_Parse(c->versions_json) : NULL;
    size_t len = 0;
    if (cJSON_IsObject(v))
        for (cJSON *it = v->child; it; it = it->next) {
            if (!cJSON_IsString(it) || len >= n)
                continue;
            int w = snprintf(out + len, n - len, "%s%s %s", len ? ", " : "", it->string,
                             it->valuestring);
            if (w < 0 || (size_t)w >= n - len) {
                out[len] = '\0'; /* what does not fit is left out whole */
                break;
            }
            len += (size_t)w;
        }
    cJSON_Delete(v);
}

void headline_compute(const struct cell_result *c, struct headline *h)
{
    memset(h, 0, sizeof(*h));
    h->peak_rps = h->peak_min = h->peak_max = -1;
    h->capacity_users = c->capacity_users;
    h->capacity_min = h->capacity_max = -1;
    /* Held users come with what limited them; a count without one was not
     * measured (the writer sets both, exec/figures.c). */
    h->held_users = c->held_limit[0] ? c->held_users : -1;
    h->rss_mib = h->cpu_pct = -1;
    mf_strlcpy(h->held_limit, c->held_limit, sizeof(h->held_limit));
    mf_strlcpy(h->held_setting, c->held_setting, sizeof(h->held_setting));
    versions_text(c, h->versions, sizeof(h->versions));

    /* The best phase of each search (repeat index), in the order first seen. */
    const struct phase_result *best[HL_MAX_REPEATS];
    int rep[HL_MAX_REPEATS], n = 0;
    for (size_t k = 0; k < c->nphases; k++) {
        const struct phase_result *p = &c->phases[k];
        if (!phase_in_search(p))
            continue;
        int j = 0;
        while (j < n && rep[j] != p->repeat)
            j++;
        if (j == n) {
            if (n == HL_MAX_REPEATS)
                continue;
            rep[n] = p->repeat;
            best[n++] = p;
        } else if (p->rps > best[j]->rps) {
            best[j] = p;
        }
    }
    h->measured = n > 0;
    h->repeats = n;
    if (n > 0) {
        double pk[HL_MAX_REPEATS];
        for (int j = 0; j < n; j++)
            pk[j] = best[j]->rps;
        mf_sort_doubles(pk, (size_t)n);
        h->peak_rps = mf_quantile(pk, (size_t)n, 0.5);
        h->peak_min = pk[0];
        h->peak_max = pk[n - 1];
        double lower = pk[(n - 1) / 2];
        for (int j = 0; j < n && !h->peak_phase; j++)
            if (best[j]->rps == lower)
                h->peak_phase = best[j];
        h->peak_flags = phase_flags(h->peak_phase);
        h->rss_mib =
            h->peak_phase->server_rss_max_kb < 0 ? -1 : h->peak_phase->server_rss_max_kb / 1024.0;
        h->cpu_pct = h->peak_phase->server_cpu_pct < 0 ? -1 : h->peak_phase->server_cpu_pct;
    }

    /* The seed's phase at capacity, else the first one tried (common/result.c). */
    h->capacity_phase = cell_capacity_phase(c);
    if (c->capacity_users >= 0 && h->capacity_phase &&
        h->capacity_phase->users == c->capacity_users)
        h->capacity_flags = phase_flags(h->capacity_phase) & ~HL_LOAD_BOUND;
    if (c->repeats > 1 && c->capacity_min >= 0) {
        h->capacity_min = c->capacity_min;
        h->capacity_max = c->capacity_max;
    }

    latency_at(c, 0, &h->load[0]);
    latency_at(c, 1, &h->load[1]);
    slo_of(c, &h->slo);
    /* One definition (common/result.c), whatever the stored row holds. */
    h->peak_passing = cell_peak_passing(c);
    if (h->peak_phase && headline_phase_unclean(h->peak_phase))
        h->peak_flags |= HL_UNCLEAN;

    if (h->held_users >= 0) {
        for (size_t k = 0; k < c->nphases; k++)
            if (!strcmp(c->phases[k].kind, "held") && c->phases[k].users == h->held_users)
                h->held_flags |= phase_flags(&c->phases[k]) & ~HL_LOAD_BOUND;
        if (!strcmp(c->held_limit, "descriptors") || !strcmp(c->held_limit, "ports") ||
            !strncmp(c->held_limit, "client", 6))
            h->held_flags |= HL_CLIENT_BOUND;
    }
    /* server: measured; max: the top level held; client:RESOURCE (older rows:
     * "ports", "descriptors", "client") and node:descriptors (the server's
     * nofile clamped below the level): lower bounds of another's limit;
     * not_judged: the next level's window could not be planned. */
    h->held_qualifier = HL_Q_NOT_JUDGED;
    if (h->held_users >= 0) {
        if (!strcmp(c->held_limit, "server"))
            h->held_qualifier = HL_Q_MEASURED;
        else if (!strcmp(c->held_limit, "max"))
            h->held_qualifier = HL_Q_MAX;
        else if (strcmp(c->held_limit, "not_judged") != 0)
            h->held_qualifier = HL_Q_CLIENT;
    }
    h->flags =
        h->peak_flags | h->capacity_flags | h->load[0].flags | h->load[1].flags | h->held_flags;
}

const char *headline_marks(unsigned flags, char *buf, size_t n)
{
    snprintf(buf, n, "%s%s%s%s%s", flags & HL_LOAD_BOUND ? HL_MARK_LOAD : "",
             flags & HL_CLIENT_BOUND ? HL_MARK_CLIENT : "", flags & HL_NOISY ? HL_MARK_NOISY : "",
             flags & HL_UNCLEAN ? HL_MARK_UNCLEAN : "", flags & HL_DB_BOUND ? HL_MARK_DB : "");
    return buf;
}

const char *headline_legend(unsigned flag)
{
    switch (flag) {
    case HL_LOAD_BOUND:
        return HL_MARK_LOAD " load-bound: the server kept up with everything the users offered, "
                            "so the figure measures the load shape, not the server's limit";
    case HL_CLIENT_BOUND:
        return HL_MARK_CLIENT " client-bound: the load engine (its CPU, descriptors or ports) "
                              "limited the figure, not the server";
    case HL_NOISY:
        return HL_MARK_NOISY " noisy: steal or other processes took over 5% of the server's or "
                             "the load engine's "
                             "CPUs during that phase; the figure is not to be trusted";
    case HL_UNCLEAN:
        return HL_MARK_UNCLEAN " not clean: that phase had failures or completed fewer than 98% "
                               "of the requests it offered (latency counts every one of them)";
    case HL_DB_BOUND:
        return HL_MARK_DB " db-bound: the run's database used 90% or more of the CPUs it may use "
                          "during that phase: the database, not the server, was the limit";
    default:
        return "";
    }
}
