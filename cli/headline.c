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
           (p->noisy ? HL_NOISY : 0u);
}

/* The load point at pct of the peak, with the marks of the "load" phase that
 * measured it (same offered rate within 1%, else the same rank among them). */
static void latency_at(const struct cell_result *c, double pct, struct hl_latency *out)
{
    out->pct = pct;
    out->p50_ms = out->p99_ms = -1;
    out->flags = 0;
    int rank = -1;
    const struct load_point *lp = NULL;
    for (int i = 0; i < c->nload_points && i < CELL_MAX_LOAD_POINTS; i++)
        if (fabs(c->load_points[i].pct_of_peak - pct) < 0.5) {
            lp = &c->load_points[i];
            rank = i;
            break;
        }
    if (!lp)
        return;
    out->p50_ms = lp->latency_ms.p50;
    out->p99_ms = lp->latency_ms.p99;
    const struct phase_result *by_rate = NULL, *by_rank = NULL;
    int nth = 0;
    for (size_t k = 0; k < c->nphases; k++) {
        const struct phase_result *p = &c->phases[k];
        if (strcmp(p->kind, "load") != 0)
            continue;
        if (nth++ == rank)
            by_rank = p;
        if (!by_rate && lp->offered_rps > 0 &&
            fabs(p->offered_rps - lp->offered_rps) <= 0.01 * lp->offered_rps)
            by_rate = p;
    }
    const struct phase_result *p = by_rate ? by_rate : by_rank;
    /* An open-loop point is load-bound by design: only the other marks count. */
    if (p)
        out->flags = phase_flags(p) & ~HL_LOAD_BOUND;
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
    h->held_users = c->held_users;
    h->rss_mib = h->cpu_pct = -1;
    mf_strlcpy(h->held_limit, c->held_limit, sizeof(h->held_limit));
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

    /* The seed's phase at capacity, else the first one tried. */
    for (size_t k = 0; k < c->nphases; k++) {
        const struct phase_result *p = &c->phases[k];
        if (c->capacity_users >= 0 && p->users == c->capacity_users && !p->stop_reason[0] &&
            phase_in_search(p))
            h->capacity_phase = p;
    }
    if (!h->capacity_phase && c->nphases && phase_in_search(&c->phases[0]))
        h->capacity_phase = &c->phases[0];
    if (c->capacity_users >= 0 && h->capacity_phase &&
        h->capacity_phase->users == c->capacity_users)
        h->capacity_flags = phase_flags(h->capacity_phase) & ~HL_LOAD_BOUND;
    if (c->repeats > 1 && c->capacity_min >= 0) {
        h->capacity_min = c->capacity_min;
        h->capacity_max = c->capacity_max;
    }

    latency_at(c, 50, &h->at50);
    latency_at(c, 90, &h->at90);

    if (c->held_users >= 0) {
        for (size_t k = 0; k < c->nphases; k++)
            if (!strcmp(c->phases[k].kind, "held") && c->phases[k].users == c->held_users)
                h->held_flags |= phase_flags(&c->phases[k]) & ~HL_LOAD_BOUND;
        if (!strcmp(c->held_limit, "descriptors") || !strcmp(c->held_limit, "ports"))
            h->held_flags |= HL_CLIENT_BOUND;
    }
    h->flags = h->peak_flags | h->capacity_flags | h->at50.flags | h->at90.flags | h->held_flags;
}

const char *headline_marks(unsigned flags, char *buf, size_t n)
{
    snprintf(buf, n, "%s%s%s", flags & HL_LOAD_BOUND ? HL_MARK_LOAD : "",
             flags & HL_CLIENT_BOUND ? HL_MARK_CLIENT : "", flags & HL_NOISY ? HL_MARK_NOISY : "");
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
        return HL_MARK_NOISY " noisy: steal or other processes took over 5% of the server's "
                             "CPUs during that phase; the figure is not to be trusted";
    default:
        return "";
    }
}
