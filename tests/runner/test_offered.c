/* test_offered.c - the offered-load model (run_offered_requests) against
 * closed-form counts: constant thinks at every alignment of birth, warm-up and
 * end; uniform thinks whose count the bounds fix whatever the draws; no think;
 * pipelining; the draw budget. Pure arithmetic, milliseconds. */
#include "runner.h"
#include "t.h"

#define MS UINT64_C(1000000)
#define S (1000 * MS)

static double count(enum run_think_kind k, int64_t lo_ms, int64_t hi_ms, int pipeline,
                    uint64_t born, uint64_t t0, uint64_t t1, uint64_t rng)
{
    struct run_opts o;
    run_opts_init(&o);
    o.think = k;
    o.think_min_ms = lo_ms;
    o.think_max_ms = hi_ms;
    o.pipeline = pipeline;
    uint64_t budget = UINT64_C(1) << 40;
    return run_offered_requests(&o, born, t0, t1, rng, &budget);
}

int main(void)
{
    /* Constant 1 s over [0, 3 s): sends at 0, 1, 2. */
    CHECK_DBL(count(RUN_THINK_CONSTANT, 1000, 0, 1, 0, 0, 3 * S, 1), ==, 3);
    /* Born 1 ns late: still 0+, 1+, 2+ (the third is before 3 s). */
    CHECK_DBL(count(RUN_THINK_CONSTANT, 1000, 0, 1, 1, 0, 3 * S, 1), ==, 3);
    /* A send exactly at the end is outside [t0, t1). */
    CHECK_DBL(count(RUN_THINK_CONSTANT, 1000, 0, 1, 0, 0, 2 * S, 1), ==, 2);
    /* Warm-up 1 s: the send at 0 is not in the window, those at 1 and 2 are. */
    CHECK_DBL(count(RUN_THINK_CONSTANT, 1000, 0, 1, 0, 1 * S, 3 * S, 1), ==, 2);
    /* Warm-up 1.5 s: only the send at 2. */
    CHECK_DBL(count(RUN_THINK_CONSTANT, 1000, 0, 1, 0, 3 * S / 2, 3 * S, 1), ==, 1);
    /* Born in the window at 2.5 s: one send. Born at or after the end: none. */
    CHECK_DBL(count(RUN_THINK_CONSTANT, 1000, 0, 1, 5 * S / 2, 0, 3 * S, 1), ==, 1);
    CHECK_DBL(count(RUN_THINK_CONSTANT, 1000, 0, 1, 3 * S, 0, 3 * S, 1), ==, 0);
    /* 300 ms over 1 s: 0, 300, 600, 900 -> 4; pipelined by 3 -> 12. */
    CHECK_DBL(count(RUN_THINK_CONSTANT, 300, 0, 1, 0, 0, 1 * S, 1), ==, 4);
    CHECK_DBL(count(RUN_THINK_CONSTANT, 300, 0, 3, 0, 0, 1 * S, 1), ==, 12);
    /* Pacing keeps the same grid. */
    CHECK_DBL(count(RUN_THINK_PACING, 250, 0, 1, 0, 0, 1 * S, 1), ==, 4);
    /* A long phase: 60 s at 5 s from a birth at 12.3 s -> 12.3, 17.3 ... 57.3: 10. */
    CHECK_DBL(count(RUN_THINK_CONSTANT, 5000, 0, 1, 12300 * MS, 0, 60 * S, 1), ==, 10);

    /* Uniform 1-1.5 s over 2 s: 0 and T1 are in, T1 + T2 >= 2 s is not: 2,
     * for every seed. Uniform 5-15 s over 4 s: only the first send. */
    for (uint64_t seed = 1; seed < 200; seed++) {
        CHECK_DBL(count(RUN_THINK_BETWEEN, 1000, 1500, 1, 0, 0, 2 * S, seed), ==, 2);
        CHECK_DBL(count(RUN_THINK_BETWEEN, 5000, 15000, 1, 0, 0, 4 * S, seed), ==, 1);
    }
    /* Uniform 10-30 ms over 1 s: between ceil(1000/30) = 34 and 1000/10 = 100
     * sends, and over many users near 1000/20 = 50 on average. */
    double sum = 0;
    for (uint64_t seed = 1; seed <= 400; seed++) {
        double c = count(RUN_THINK_BETWEEN, 10, 30, 1, 0, 0, 1 * S, seed);
        CHECK_DBL(c, >=, 34);
        CHECK_DBL(c, <=, 100);
        sum += c;
    }
    CHECK_DBL(sum / 400, >, 49);
    CHECK_DBL(sum / 400, <, 52);
    /* The count is a replay of the user's own draws: it varies with the seed
     * (a model from the mean think, or one ignoring the seed, gives one count
     * for all seeds), and the same seed gives the same count (a model drawing
     * from anything but the seed, a clock or a shared stream, does not). */
    double c77 = count(RUN_THINK_BETWEEN, 10, 30, 1, 0, 0, 1 * S, 77);
    int differ = 0, same = 0;
    for (uint64_t seed = 1; seed <= 50; seed++) {
        double c = count(RUN_THINK_BETWEEN, 10, 30, 1, 0, 0, 1 * S, seed);
        differ += c != c77;
        same += c == count(RUN_THINK_BETWEEN, 10, 30, 1, 0, 0, 1 * S, seed);
    }
    CHECK_INT(differ, >=, 25);
    CHECK_INT(same, ==, 50);
    CHECK_DBL(count(RUN_THINK_BETWEEN, 10, 30, 1, 0, 0, 1 * S, 77), ==, c77);

    /* No think: unbounded, reported as 0. Uniform 0-0 too. */
    CHECK_DBL(count(RUN_THINK_NONE, 0, 0, 1, 0, 0, 1 * S, 1), ==, 0);
    CHECK_DBL(count(RUN_THINK_BETWEEN, 0, 0, 1, 0, 0, 1 * S, 1), ==, 0);

    /* The budget: past it the rest comes from the mean think (20 ms). */
    {
        struct run_opts o;
        run_opts_init(&o);
        o.think = RUN_THINK_BETWEEN;
        o.think_min_ms = 10;
        o.think_max_ms = 30;
        uint64_t budget = 0;
        CHECK_DBL(run_offered_requests(&o, 0, 0, 1 * S, 5, &budget), ==, 50);
        budget = 10;
        double c = run_offered_requests(&o, 0, 0, 1 * S, 5, &budget);
        CHECK_INT((int)budget, ==, 0);
        CHECK_DBL(c, >, 40);
        CHECK_DBL(c, <, 60);
    }
    T_DONE();
}
