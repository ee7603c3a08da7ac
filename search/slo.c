/* slo.c - SLO capacity (see slo.h): the early-stopping rule, judging a probe,
 * and the rate search with its worst case. Pure functions over plain structs;
 * exec/ runs the probes. */
#include "slo.h"

#include <math.h>
#include <string.h>

void slo_plan_defaults(struct slo_plan *p)
{
    memset(p, 0, sizeof(*p));
    p->bound_ms = 25;
    p->percentile = 99;
    p->confidence = 0.99;
    p->failures_pct = 0.1;
    p->resolution_pct = 5;
    p->min_rps = 1;
    p->max_rps = 1e6;
    p->warmup_s = 2;
    p->probe_min_s = 8;
    p->probe_max_s = 20;
    p->probe_min_samples = 20000;
    p->confirm_steps = 2;
    p->backlog_pct = 98;
    p->missed_pct = 1;
}

/* ---- the early-stopping rule ---- */

static double log_add(double a, double b) /* log(e^a + e^b) */
{
    if (a == -INFINITY)
        return b;
    if (b > a) {
        double t = a;
        a = b;
        b = t;
    }
    return a + log1p(exp(b - a));
}

/* LoadGen passes a Server run with t overlatency queries out of n when
 * n - t >= the least h with BetaRegularized(p, h, 1 + t) < 1 - c, and that
 * regularized beta is P[Binomial(n, 1 - p) <= t]: so the run passes when that
 * CDF is below 1 - c (strictly: its search for h takes `prob < 1 - c`). Each
 * pmf term comes from lgamma, not from the previous term, so no error builds
 * up over 10^7 terms; the scan starts where the Chernoff bound
 * exp(-a^2 / 2 mu) on everything below mu - a is e^-60 of 1 - c. */
int64_t slo_max_over(uint64_t n, double percentile, double confidence)
{
    double q = 1 - percentile / 100, alpha = 1 - confidence;
    if (!(q > 0) || !(alpha > 0))
        return -1; /* no share may exceed the bound, or certainty asked */
    if (q >= 1 || alpha >= 1)
        return (int64_t)n; /* any count holds */
    double dn = (double)n, mu = dn * q, lalpha = log(alpha);
    double a = sqrt(2 * mu * (-lalpha + 60));
    uint64_t k = mu - a > 0 ? (uint64_t)(mu - a) : 0;
    double lq = log(q), lp = log1p(-q), lnf = lgamma(dn + 1), cdf = -INFINITY;
    for (; k <= n; k++) {
        double dk = (double)k;
        double term = lnf - lgamma(dk + 1) - lgamma(dn - dk + 1) + dk * lq + (dn - dk) * lp;
        cdf = log_add(cdf, term);
        if (cdf >= lalpha - 1e-12) /* a CDF equal to 1 - c but for rounding does not pass */
            return (int64_t)k - 1;
    }
    return (int64_t)n;
}

/* ---- one probe ---- */

double slo_probe_window_s(const struct slo_plan *p, double rate)
{
    double w = rate > 0 ? (double)p->probe_min_samples / rate : p->probe_max_s;
    if (w > p->probe_max_s)
        w = p->probe_max_s;
    if (w < p->probe_min_s)
        w = p->probe_min_s;
    return w;
}

const char *slo_outcome_name(enum slo_outcome o)
{
    switch (o) {
    case SLO_PASS:
        return "pass";
    case SLO_FAIL_LATENCY:
        return "latency";
    case SLO_FAIL_FAILURES:
        return "failures";
    case SLO_FAIL_BACKLOG:
        return "backlog";
    case SLO_INCONCLUSIVE:
        return "client";
    case SLO_WRONG:
        return "wrong";
    case SLO_END:
        return "end";
    }
    return "?";
}

static uint64_t planned_count(double rate, double window_s)
{
    double n = rate * window_s;
    return n > 0 ? (uint64_t)llround(n) : 0;
}

/* count > pct % of of: exact for counts up to 2^53. */
static int over_pct(uint64_t count, double pct, uint64_t of)
{
    return (double)count * 100.0 > pct * (double)of;
}

enum slo_outcome slo_judge(const struct slo_plan *p, const struct slo_probe *pr)
{
    if (pr->wrong > 0)
        return SLO_WRONG;
    if (pr->client_failures > 0 || over_pct(pr->missed_schedule, p->missed_pct, pr->offered))
        return SLO_INCONCLUSIVE;
    if (p->failures_pct > 0 ? over_pct(pr->failures, p->failures_pct, pr->completed)
                            : pr->failures > 0)
        return SLO_FAIL_FAILURES;
    if ((double)pr->completed * 100.0 < p->backlog_pct * (double)pr->offered ||
        (double)pr->in_flight > pr->rate * p->bound_ms / 1000)
        return SLO_FAIL_BACKLOG;
    /* Stopped early, its samples are a part of the plan: what stopped it was
     * either the latency rule at the planned count, or the backlog. */
    uint64_t n = pr->stopped_early ? planned_count(pr->rate, pr->window_s) : pr->samples;
    int64_t most = slo_max_over(n, p->percentile, p->confidence);
    if (most < 0 || pr->over_bound > (uint64_t)most)
        return SLO_FAIL_LATENCY;
    return pr->stopped_early ? SLO_FAIL_BACKLOG : SLO_PASS;
}

int slo_probe_hopeless(const struct slo_plan *p, double rate, uint64_t over_so_far,
                       uint64_t backlog)
{
    uint64_t n = planned_count(rate, slo_probe_window_s(p, rate));
    int64_t most = slo_max_over(n, p->percentile, p->confidence);
    if (most < 0 || over_so_far > (uint64_t)most)
        return 1;
    return (double)backlog > 4 * rate * p->bound_ms / 1000;
}

/* ---- the search ----
 *
 * The machine runs on rates that also carry their logarithm as an affine
 * function of log(seed): every rate it probes is the seed times powers of 2
 * and of 1 + resolution, clamped to min or max, or a geometric mean of two
 * such. slo_worst_s() uses that to find each seed where the probed sequence
 * can change (a comparison flips); slo_search_* carry only the value. */

enum { ST_FIRST, ST_UP, ST_DOWN, ST_BISECT, ST_CONFIRM, ST_DONE };

struct rate {
    double v;    /* the rate; -1 = none */
    double b, c; /* log(v) = b * log(seed) + c */
};

struct mach {
    struct slo_plan plan;
    struct slo_result result;
    int ended, stage, confirms;
    struct rate cur, lo, hi;
    enum slo_outcome hi_why;
    double *next_u; /* not NULL: the least log(seed) above *now_u where a comparison flips */
    double now_u;
};

static const struct rate none = {-1, 0, 0};

static struct rate konst(double v)
{
    struct rate r = {v, 0, log(v)};
    return r;
}

static struct rate times(struct rate r, double f)
{
    r.v *= f;
    r.c += log(f);
    return r;
}

static double min_rps(const struct slo_plan *p)
{
    return p->min_rps > 0 ? p->min_rps : 1;
}

static double max_rps(const struct slo_plan *p)
{
    return p->max_rps > min_rps(p) ? p->max_rps : min_rps(p);
}

static double step_up(const struct slo_plan *p) /* 1 + the resolution, at least 0.01% */
{
    return 1 + (p->resolution_pct > 0.01 ? p->resolution_pct : 0.01) / 100;
}

/* Every comparison of a rate with a constant goes through these: the
 * log(seed) where log(r) = b u + c crosses log(k) is noted when it lies above
 * now_u. */
static void note(struct mach *m, struct rate r, double k)
{
    if (m->next_u && r.b != 0) {
        double u = (log(k) - r.c) / r.b;
        if (u > m->now_u && u < *m->next_u)
            *m->next_u = u;
    }
}

static int at_least(struct mach *m, struct rate r, double k)
{
    note(m, r, k);
    return r.v >= k;
}

static int at_most(struct mach *m, struct rate r, double k)
{
    note(m, r, k);
    return r.v <= k;
}

static int above(struct mach *m, struct rate r, double k)
{
    note(m, r, k);
    return r.v > k;
}

/* r x f, at least min_rps. */
static struct rate scaled_down(struct mach *m, struct rate r, double f)
{
    struct rate d = times(r, f);
    return at_most(m, d, min_rps(&m->plan)) ? konst(min_rps(&m->plan)) : d;
}

static void sync(struct mach *m)
{
    m->result.lo = m->lo.v;
    m->result.hi = m->hi.v;
    if (m->result.limit == NULL || m->stage != ST_DONE)
        m->result.limit = m->hi.v > 0 ? slo_outcome_name(m->hi_why) : NULL;
}

static void finish(struct mach *m, double rps, const char *limit)
{
    m->stage = ST_DONE;
    m->result.rps = rps;
    m->result.limit = limit;
    sync(m);
}

static void m_init(struct mach *m, const struct slo_plan *p, struct rate seed)
{
    memset(m, 0, sizeof(*m));
    m->plan = *p;
    m->result.rps = m->result.lo = m->result.hi = -1;
    m->lo = m->hi = none;
    m->stage = ST_FIRST;
    if (at_most(m, seed, min_rps(p)))
        seed = konst(min_rps(p));
    else if (at_least(m, seed, max_rps(p)))
        seed = konst(max_rps(p));
    m->cur = seed;
}

static int m_next(struct mach *m, double *rate, const char **kind)
{
    if (m->stage == ST_BISECT) {
        struct rate ratio = {m->hi.v / m->lo.v, m->hi.b - m->lo.b, m->hi.c - m->lo.c};
        if (above(m, ratio, step_up(&m->plan))) {
            m->cur.v = sqrt(m->lo.v * m->hi.v);
            m->cur.b = (m->lo.b + m->hi.b) / 2;
            m->cur.c = (m->lo.c + m->hi.c) / 2;
        } else {
            m->stage = ST_CONFIRM;
            m->cur = m->lo;
        }
    }
    if (m->stage == ST_DONE)
        return 0;
    *rate = m->cur.v;
    *kind = m->stage == ST_BISECT ? "bisect" : m->stage == ST_CONFIRM ? "confirm" : "bracket";
    return 1;
}

/* A failure at min: nothing passes at or above min_rps, a measured 0. */
static void none_pass(struct mach *m)
{
    m->lo = none;
    /* 0 is a measurement only when the server failed at min_rps; an
     * inconclusive probe there (the engine missed its schedule) says nothing:
     * not found, never a lower bound of 0. */
    finish(m, m->hi_why == SLO_INCONCLUSIVE ? -1 : 0, slo_outcome_name(m->hi_why));
}

static void m_report(struct mach *m, enum slo_outcome o)
{
    const struct slo_plan *p = &m->plan;
    double lo_rps = min_rps(p), hi_rps = max_rps(p);
    if (m->stage == ST_DONE)
        return;
    m->result.probes++;
    if (o == SLO_END || o == SLO_WRONG) {
        m->ended = 1;
        m->stage = ST_DONE;
        sync(m);
        return;
    }
    /* An inconclusive probe (the engine missed its schedule) says nothing of
     * the server at that rate: the search goes on below it like after a
     * failure, and if it stays the lowest failing rate the limit is "client",
     * the result a lower bound. (Ending the search there left a cell whose
     * first probe was inconclusive with no figure at all.) */
    int pass = o == SLO_PASS;
    if (!pass) {
        m->hi = m->cur;
        m->hi_why = o;
    }
    switch (m->stage) {
    case ST_FIRST:
    case ST_UP:
        if (pass) {
            m->lo = m->cur;
            if (at_least(m, m->cur, hi_rps)) {
                m->stage = ST_CONFIRM;
            } else {
                m->stage = ST_UP;
                m->cur = at_least(m, times(m->cur, 2), hi_rps) ? konst(hi_rps) : times(m->cur, 2);
            }
        } else if (m->stage == ST_UP) {
            m->stage = ST_BISECT;
        } else if (!at_most(m, m->cur, lo_rps)) {
            m->stage = ST_DOWN;
            m->cur = scaled_down(m, m->cur, 0.5);
        } else {
            none_pass(m);
            return;
        }
        break;
    case ST_DOWN:
        if (pass) {
            m->lo = m->cur;
            m->stage = ST_BISECT;
        } else if (!at_most(m, m->cur, lo_rps)) {
            m->cur = scaled_down(m, m->cur, 0.5);
        } else {
            none_pass(m);
            return;
        }
        break;
    case ST_BISECT:
        if (pass)
            m->lo = m->cur;
        break;
    case ST_CONFIRM:
        if (pass) {
            finish(m, m->cur.v, m->hi.v > 0 ? slo_outcome_name(m->hi_why) : "max");
            return;
        }
        if (m->confirms >= m->plan.confirm_steps || at_most(m, m->cur, lo_rps)) {
            m->result.unconfirmed = 1;
            m->lo = none;
            finish(m, -1, slo_outcome_name(m->hi_why));
            return;
        }
        m->confirms++;
        m->lo = m->cur = scaled_down(m, m->cur, 1 / step_up(p));
        break;
    }
    sync(m);
}

/* The public search keeps only the values. */
static void load(struct mach *m, const struct slo_search *s)
{
    memset(m, 0, sizeof(*m));
    m->plan = s->plan;
    m->result = s->result;
    m->ended = s->ended;
    m->stage = s->stage;
    m->confirms = s->confirms;
    m->cur = s->cur > 0 ? konst(s->cur) : none;
    m->lo = s->lo > 0 ? konst(s->lo) : none;
    m->hi = s->hi > 0 ? konst(s->hi) : none;
    m->hi_why = s->hi_why;
}

static void store(struct slo_search *s, const struct mach *m)
{
    s->result = m->result;
    s->ended = m->ended;
    s->stage = m->stage;
    s->confirms = m->confirms;
    s->cur = m->cur.v;
    s->lo = m->lo.v;
    s->hi = m->hi.v;
    s->hi_why = m->hi_why;
}

void slo_search_init(struct slo_search *s, const struct slo_plan *p, double seed_rps)
{
    struct mach m;
    m_init(&m, p, seed_rps > 0 ? konst(seed_rps) : konst(min_rps(p)));
    memset(s, 0, sizeof(*s));
    s->plan = *p;
    s->seed = m.cur.v;
    store(s, &m);
}

int slo_search_next(struct slo_search *s, double *rate, const char **kind)
{
    struct mach m;
    load(&m, s);
    int r = m_next(&m, rate, kind);
    store(s, &m);
    return r;
}

void slo_search_report(struct slo_search *s, enum slo_outcome o)
{
    struct mach m;
    load(&m, s);
    m_report(&m, o);
    store(s, &m);
}

/* ---- the worst case ---- */

#define MOST_PROBES 1000 /* a search never runs this many; a guard against a loop */

struct worst {
    double per_s;      /* warm-up + per_probe_s */
    double s, seed, t; /* the longest time, and a seed and threshold that take it */
    int n;             /* the most probes */
};

/* Every outcome from here: a bracket or bisect probe passes when the
 * threshold T lies above its rate (T in (t_lo, t_hi] so far), a confirming
 * probe always fails. */
static void walk(struct mach *m, double t_lo, double t_hi, double spent, int n, double seed,
                 struct worst *w)
{
    double rate;
    const char *kind;
    if (n >= MOST_PROBES || !m_next(m, &rate, &kind)) {
        if (n > w->n)
            w->n = n;
        if (spent > w->s) {
            w->s = spent;
            w->seed = seed;
            w->t = t_hi < INFINITY ? t_hi : 2 * t_lo; /* T = t_hi fails at t_hi */
        }
        return;
    }
    spent += w->per_s + slo_probe_window_s(&m->plan, rate);
    if (m->stage == ST_CONFIRM) {
        m_report(m, SLO_FAIL_LATENCY);
        walk(m, t_lo, t_hi, spent, n + 1, seed, w);
        return;
    }
    if (rate > t_lo) { /* T <= rate: it fails */
        struct mach f = *m;
        m_report(&f, SLO_FAIL_LATENCY);
        walk(&f, t_lo, rate < t_hi ? rate : t_hi, spent, n + 1, seed, w);
    }
    if (rate < t_hi) {
        m_report(m, SLO_PASS);
        walk(m, rate > t_lo ? rate : t_lo, t_hi, spent, n + 1, seed, w);
    }
}

/* Every search from one seed; returns the least log(seed) above u where one
 * of them can change. */
static double walk_seed(const struct slo_plan *p, double u, struct worst *w)
{
    double next = INFINITY;
    struct mach m;
    struct rate seed = {exp(u), 1, 0};
    m_init(&m, p, seed);
    m.next_u = &next;
    m.now_u = u;
    walk(&m, 0, INFINITY, 0, 0, seed.v, w);
    return next;
}

/* Along the seeds between two places where a comparison flips, the search
 * makes the same moves at rates that grow with the seed, so its probes get
 * shorter: the longest search of each stretch starts at its low end. So the
 * seeds to try are min_rps, each flip, and just above each flip. */
double slo_worst_case(const struct slo_plan *p, double per_probe_s, int *probes, double *seed,
                      double *threshold)
{
    struct worst w = {p->warmup_s + per_probe_s, 0, -1, -1, 0};
    double u = log(min_rps(p)), top = log(max_rps(p)), eps = 1e-11;
    for (int i = 0; i < 1000000 && u <= top; i++) {
        walk_seed(p, u, &w);
        double after = u + eps < top ? u + eps : top;
        double next = walk_seed(p, after, &w);
        if (!(next > after))
            next = after + eps;
        u = next < top || u >= top ? next : top;
    }
    if (probes)
        *probes = w.n;
    if (seed)
        *seed = w.seed;
    if (threshold)
        *threshold = w.t;
    return w.s;
}

double slo_worst_s(const struct slo_plan *p, double per_probe_s, int *probes)
{
    return slo_worst_case(p, per_probe_s, probes, NULL, NULL);
}
