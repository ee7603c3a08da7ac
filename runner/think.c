/* think.c - think times, drawn from each user's own random stream, and the
 * closed loop's offered load: each user's schedule replayed from that same
 * stream against an instant server (run_offered_requests). */
#include "engine_int.h"

/* One think time drawn from the stream *rng. A user's thinks after its
 * responses come from its own stream, so the schedule it would have kept
 * against an instant server can be replayed at the end (run_offered_requests). */
uint64_t run__think_draw(const struct run_opts *o, uint64_t *rng)
{
    switch (o->think) {
    case RUN_THINK_BETWEEN: {
        uint64_t lo = (uint64_t)o->think_min_ms * NS_MS, hi = (uint64_t)o->think_max_ms * NS_MS;
        if (hi <= lo)
            return lo;
        return lo + run__rng_next(rng) % (hi - lo + 1);
    }
    case RUN_THINK_CONSTANT:
    case RUN_THINK_PACING:
        return (uint64_t)o->think_min_ms * NS_MS;
    default:
        return 0;
    }
}

/* The start of user i's think stream in worker w: depends only on the seed
 * and the user's place, so the replay needs nothing stored per user. */
uint64_t run__user_seed(const struct worker *w, int i)
{
    uint64_t s = w->seed ^ (((uint64_t)(uint32_t)w->idx << 32) | (uint32_t)i);
    return run__rng_next(&s);
}

/* No think time: the users offer as much as any server takes. */
int run__think_unbounded(const struct run_opts *o)
{
    return o->think == RUN_THINK_NONE ||
           (o->think == RUN_THINK_BETWEEN ? o->think_max_ms : o->think_min_ms) <= 0;
}

double run_offered_requests(const struct run_opts *o, uint64_t born_ns, uint64_t t0_ns,
                            uint64_t t1_ns, uint64_t rng, uint64_t *budget)
{
    if (born_ns >= t1_ns || run__think_unbounded(o))
        return 0;
    double per = o->pipeline > 1 ? (double)o->pipeline : 1.0;
    if (o->think == RUN_THINK_CONSTANT || o->think == RUN_THINK_PACING) {
        uint64_t T = (uint64_t)o->think_min_ms * NS_MS;
        uint64_t k0 = born_ns >= t0_ns ? 0 : (t0_ns - born_ns + T - 1) / T; /* first in window */
        uint64_t k1 = (t1_ns - born_ns + T - 1) / T;                        /* sends before t1 */
        return k1 > k0 ? (double)(k1 - k0) * per : 0;
    }
    uint64_t t = born_ns;
    double n = 0;
    while (t < t1_ns) {
        if (*budget == 0) {
            double mean = (double)(o->think_min_ms + o->think_max_ms) / 2.0 * (double)NS_MS;
            uint64_t from = t > t0_ns ? t : t0_ns;
            n += (double)(t1_ns - from) / mean;
            break;
        }
        (*budget)--;
        if (t >= t0_ns)
            n += 1;
        t += run__think_draw(o, &rng);
    }
    return n * per;
}
