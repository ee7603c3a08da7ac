/* search.c - the breaking-point search, its repeats and summary, the stop
 * rules (see search.h). Pure functions over plain
 * structs: the executor runs the phases, this decides what they mean. */
#include "search.h"

#include <math.h>
#include <string.h>

enum { STAGE_LINEAR, STAGE_BISECT, STAGE_DONE };

int search_next_level(const struct search_plan *p, int cur)
{
    long n = p->factor > 1 ? (long)cur * p->factor : (long)cur + (p->step > 0 ? p->step : 1);
    return n > p->max ? p->max : (int)n;
}

int search_resolution(const struct search_plan *p, int lo, int hi)
{
    if (p->refine_abs > 0)
        return p->refine_abs;
    int r = (int)(p->refine_pct / 100.0 * (double)(lo > 0 ? lo : hi));
    return r < 1 ? 1 : r;
}

void search_init(struct search *s, const struct search_plan *plan)
{
    memset(s, 0, sizeof(*s));
    s->plan = *plan;
    s->result.capacity = s->result.breaking = -1;
    s->stage = STAGE_LINEAR;
    s->users = plan->start;
}

int search_next(struct search *s, int *users, const char **kind)
{
    switch (s->stage) {
    case STAGE_LINEAR:
        *users = s->users;
        *kind = "ladder";
        return 1;
    case STAGE_BISECT:
        if (s->hi - s->lo <= search_resolution(&s->plan, s->lo, s->hi)) {
            s->stage = STAGE_DONE;
            return 0;
        }
        s->users = s->lo + (s->hi - s->lo) / 2;
        *users = s->users;
        *kind = "bisect";
        return 1;
    default:
        return 0;
    }
}

void search_report(struct search *s, enum search_outcome outcome, double rps, int load_bound)
{
    struct search_result *r = &s->result;
    if (s->stage == STAGE_DONE)
        return;
    if (outcome == SEARCH_END) {
        s->ended = 1;
        s->stage = STAGE_DONE;
        return;
    }
    if (rps > r->peak_rps) {
        r->peak_rps = rps;
        r->peak_load_bound = load_bound;
    }
    if (outcome == SEARCH_CLIENT_FAIL) {
        /* Says nothing of the server: the search ends with the bracket it has. */
        r->client_stopped = 1;
        s->stage = STAGE_DONE;
        return;
    }
    if (s->stage == STAGE_BISECT) {
        if (outcome == SEARCH_PASS)
            s->lo = r->capacity = s->users;
        else
            s->hi = r->breaking = s->users;
        return;
    }
    if (outcome == SEARCH_FAIL) {
        r->breaking = s->users;
        if (s->plan.refine_abs <= 0 && s->plan.refine_pct <= 0) {
            s->stage = STAGE_DONE;
            return;
        }
        s->stage = STAGE_BISECT;
        s->lo = r->capacity > 0 ? r->capacity : 0;
        s->hi = r->breaking;
        return;
    }
    r->capacity = s->users;
    if (s->users >= s->plan.max)
        s->stage = STAGE_DONE;
    else
        s->users = search_next_level(&s->plan, s->users);
}

/* ---- repeats ---- */

#define MAX_PROBES 100000 /* what probes_at counts at most */

/* Phases one search runs when every level at or above `threshold` fails. The
 * linear levels below the threshold (and below max) all pass: they are counted
 * at once, not run one by one, which made the estimate quadratic in the number
 * of levels (20000 levels of step 1 took 14 s in `check`); the rest is run. */
static int probes_at(const struct search_plan *p, long threshold)
{
    struct search s;
    int users, n = 0;
    const char *kind;
    search_init(&s, p);
    long step = p->step > 0 ? p->step : 1, lim = threshold < p->max ? threshold : p->max;
    if (p->factor <= 1 && p->start >= 1 && lim > p->start) {
        long k = (lim - p->start + step - 1) / step; /* levels start + i * step < lim */
        if (k >= MAX_PROBES)
            return MAX_PROBES;
        long last = p->start + (k - 1) * step; /* the highest of them: it passed */
        s.result.capacity = (int)last;
        s.users = search_next_level(p, (int)last);
        n = (int)k;
    }
    while (n < MAX_PROBES && search_next(&s, &users, &kind)) {
        search_report(&s, users >= threshold ? SEARCH_FAIL : SEARCH_PASS, 1, 0);
        n++;
    }
    return n;
}

int search_max_probes(const struct search_plan *p)
{
    if (p->start < 1 || p->max < p->start)
        return 1;
    int most = 0;
    /* Every threshold around each level, and a sweep between them (strided
     * on huge ranges: neighbouring thresholds differ by one probe at most,
     * which the +1 covers). */
    for (int lv = p->start;;) {
        for (int d = -1; d <= 1; d++) {
            int n = probes_at(p, (long)lv + d);
            most = n > most ? n : most;
        }
        if (lv >= p->max || most >= MAX_PROBES) /* nothing counts more than the cap */
            break;
        lv = search_next_level(p, lv);
    }
    int stride = p->max / 5000 > 1 ? p->max / 5000 : 1;
    for (long t = 1; t <= (long)p->max + 1 && most < MAX_PROBES; t += stride) {
        int n = probes_at(p, t);
        most = n > most ? n : most;
    }
    return most + (stride > 1);
}

double search_cell_max_s(const struct search_cost *c, int *phases)
{
    double per = c->phase_s + c->drain_s + c->overhead_s + c->start_s;
    int n = search_max_probes(&c->plan) * search_repeats_most(&c->plan);
    double s = c->once_s + n * per + c->load_points * per;
    int total = n + c->load_points;
    if (c->held) {
        int h = search_max_probes(&c->held_plan);
        s += h * (c->held_phase_s + c->drain_s + c->overhead_s + c->start_s);
        total += h;
    }
    if (phases)
        *phases = total;
    return s;
}

int search_repeats_most(const struct search_plan *p)
{
    int most = p->repeats > 0 ? p->repeats : (p->max_repeats >= 3 ? p->max_repeats : 3);
    return most > SEARCH_MAX_REPEATS ? SEARCH_MAX_REPEATS : most;
}

double search_peak_spread(const struct search_result *r, int n)
{
    double v[SEARCH_MAX_REPEATS];
    if (n <= 0)
        return 0;
    if (n > SEARCH_MAX_REPEATS)
        n = SEARCH_MAX_REPEATS;
    for (int i = 0; i < n; i++)
        v[i] = r[i].peak_rps;
    mf_sort_doubles(v, (size_t)n);
    double med = mf_quantile(v, (size_t)n, 0.5);
    return med > 0 ? (v[n - 1] - v[0]) / med : 0;
}

static int spread_reached(const struct search_plan *p, const struct search_result *r, int n)
{
    return search_peak_spread(r, n) * 100.0 < p->spread_pct;
}

int search_repeat_again(const struct search_plan *p, const struct search_result *r, int n)
{
    if (n >= search_repeats_most(p))
        return 0;
    if (n > 0 && r[n - 1].client_stopped)
        return 0;
    if (p->repeats <= 0 && n >= 3 && spread_reached(p, r, n))
        return 0;
    return 1;
}

int search_repeats_unsettled(const struct search_plan *p, const struct search_result *r, int n)
{
    return p->repeats <= 0 && n >= 3 && !r[n - 1].client_stopped && !spread_reached(p, r, n);
}

void search_summarize(struct cell_result *c, const struct search_result *r, int n)
{
    double cap[SEARCH_MAX_REPEATS], brk[SEARCH_MAX_REPEATS], pk[SEARCH_MAX_REPEATS];
    int have_cap = 0;
    if (n < 0)
        n = 0;
    if (n > SEARCH_MAX_REPEATS)
        n = SEARCH_MAX_REPEATS;
    c->repeats = n;
    if (n == 0)
        return;
    size_t z = (size_t)n;
    for (int i = 0; i < n; i++) {
        cap[i] = r[i].capacity;
        brk[i] = r[i].breaking < 0 ? 1e18 : r[i].breaking;
        pk[i] = r[i].peak_rps;
        have_cap |= r[i].capacity >= 0;
    }
    mf_sort_doubles(cap, z);
    mf_sort_doubles(brk, z);
    mf_sort_doubles(pk, z);
    int mid = (n - 1) / 2;
    c->capacity_users = (int)cap[mid];
    c->breaking_users = brk[mid] >= 1e18 ? -1 : (int)brk[mid];
    if (have_cap) {
        double cz[SEARCH_MAX_REPEATS];
        for (int i = 0; i < n; i++)
            cz[i] = cap[i] < 0 ? 0 : cap[i];
        c->capacity_median = mf_quantile(cz, z, 0.5);
        c->capacity_iqr = mf_quantile(cz, z, 0.75) - mf_quantile(cz, z, 0.25);
        c->capacity_min = cz[0];
        c->capacity_max = cz[n - 1];
    }
    c->peak_rps_median = mf_quantile(pk, z, 0.5);
    c->peak_rps_iqr = mf_quantile(pk, z, 0.75) - mf_quantile(pk, z, 0.25);
    c->peak_rps_min = pk[0];
    c->peak_rps_max = pk[n - 1];
    c->peak_rps_spread = search_peak_spread(r, n);
    c->peak_rps = c->peak_rps_median;
    /* The load-bound flag of the search whose peak is the lower median. */
    for (int i = 0; i < n; i++)
        if (r[i].peak_rps == pk[mid]) {
            c->peak_rps_load_bound = r[i].peak_load_bound;
            break;
        }
}

/* ---- classifying a phase ---- */

const char *search_phase_fails(const struct search_stop *sw, const struct phase_result *ph)
{
    uint64_t ok = ph->requests > ph->failures ? ph->requests - ph->failures : 0;
    if (ok == 0)
        return "no_response";
    if (ok < ph->in_flight)
        return "in_flight";
    if (sw->failures > 0 && ph->failures >= (uint64_t)sw->failures)
        return "failures";
    if (sw->ratio > 0 && ph->requests > 0 &&
        (double)ph->failures / (double)ph->requests >= sw->ratio)
        return "failure_ratio";
    if (sw->p99_ms > 0 && ph->latency_ms.p99 >= sw->p99_ms)
        return "p99";
    if (sw->failures <= 0 && sw->ratio <= 0 && sw->p99_ms <= 0 && ph->failures > 0)
        return "failures";
    /* Not the server's failures (not in ph->failures), but a phase whose load
     * did not all reach it is no pass: it says nothing of the server. */
    if (ph->failures_by_kind[FAIL_CLIENT] > 0)
        return "client";
    return NULL;
}

int search_load_bound(double rps, double offered_rps)
{
    return offered_rps > 0 && rps >= SEARCH_LOAD_BOUND_SHARE * offered_rps;
}

/* ---- the held users' levels ---- */

void search_held_plan(const struct held_level_in *in, struct held_level_plan *out)
{
    memset(out, 0, sizeof(*out));
    out->think_min_ms = in->think_min_ms;
    out->think_max_ms = in->think_max_ms;
    out->cap_rps = in->sustainable_rps * in->max_offered_pct / 100.0;
    double mean_s = (double)(in->think_min_ms + in->think_max_ms) / 2000.0;
    if (out->cap_rps > 0 && in->users > 0) {
        double need_s = (double)in->users / out->cap_rps; /* the least mean think */
        if (mean_s <= 0) {
            /* Users that never think offer unbounded load: a constant think. */
            out->think_min_ms = out->think_max_ms = (int64_t)ceil(need_s * 1000.0);
        } else if (need_s > mean_s) {
            double f = need_s / mean_s;
            out->think_min_ms = (int64_t)ceil((double)in->think_min_ms * f);
            out->think_max_ms = (int64_t)ceil((double)in->think_max_ms * f);
        }
        mean_s = (double)(out->think_min_ms + out->think_max_ms) / 2000.0;
    }
    out->offered_rps = mean_s > 0 ? (double)in->users / mean_s : 0;
    /* The ramp and one response after it: what the ramp's connects and first
     * sends leave late must not land in the window. */
    int64_t ramp =
        in->spawn_rate > 0 ? (int64_t)ceil((double)in->users / in->spawn_rate * 1000.0) : 0;
    ramp += in->timeout_ms;
    out->warmup_ms = in->warmup_ms > ramp ? in->warmup_ms : ramp;
    out->window_needed_ms = out->think_max_ms + in->timeout_ms;
    out->duration_ms = in->duration_ms;
    if (out->duration_ms - out->warmup_ms < out->window_needed_ms) {
        out->duration_ms = out->warmup_ms + out->window_needed_ms;
        out->replanned = 1;
    }
    out->window_ms = out->duration_ms - out->warmup_ms;
    out->cap_ms = in->duration_ms * SEARCH_HELD_CAP_FACTOR;
    if (in->phase_max_ms > 0 && out->cap_ms > in->phase_max_ms)
        out->cap_ms = in->phase_max_ms;
    out->judged = out->cap_rps > 0 && out->duration_ms <= out->cap_ms;
}

const char *search_held_fails(double p99_ms, const struct phase_result *ph)
{
    if (ph->connect_failures > 0)
        return "connect";
    struct search_stop sw = {.failures = 1};
    const char *why = search_phase_fails(&sw, ph);
    if (why)
        return why;
    if (p99_ms > 0 && ph->latency_ms.p99 > p99_ms)
        return "p99";
    return NULL;
}
