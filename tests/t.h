/* t.h - the test harness: asserts that print both values with file and line,
 * and a count of checks. Each test is its own executable with a meson timeout. */
#ifndef MFBENCH_T_H
#define MFBENCH_T_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int t_failures;
static int t_checks;

#define T_FAIL(...)                                                                                \
    do {                                                                                           \
        fprintf(stderr, "%s:%d: ", __FILE__, __LINE__);                                            \
        fprintf(stderr, __VA_ARGS__);                                                              \
        fputc('\n', stderr);                                                                       \
        t_failures++;                                                                              \
    } while (0)

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        t_checks++;                                                                                \
        if (!(cond))                                                                               \
            T_FAIL("check failed: %s", #cond);                                                     \
    } while (0)

#define CHECK_INT(a, op, b)                                                                        \
    do {                                                                                           \
        long long t_a_ = (long long)(a), t_b_ = (long long)(b);                                    \
        t_checks++;                                                                                \
        if (!(t_a_ op t_b_))                                                                       \
            T_FAIL("%s %s %s: %lld vs %lld", #a, #op, #b, t_a_, t_b_);                             \
    } while (0)

#define CHECK_DBL(a, op, b)                                                                        \
    do {                                                                                           \
        double t_a_ = (double)(a), t_b_ = (double)(b);                                             \
        t_checks++;                                                                                \
        if (!(t_a_ op t_b_))                                                                       \
            T_FAIL("%s %s %s: %.6g vs %.6g", #a, #op, #b, t_a_, t_b_);                             \
    } while (0)

#define CHECK_STR(a, b)                                                                            \
    do {                                                                                           \
        const char *t_a_ = (a), *t_b_ = (b);                                                       \
        t_checks++;                                                                                \
        if (!t_a_ || !t_b_ || strcmp(t_a_, t_b_) != 0)                                             \
            T_FAIL("%s == %s: \"%s\" vs \"%s\"", #a, #b, t_a_ ? t_a_ : "(null)",                   \
                   t_b_ ? t_b_ : "(null)");                                                        \
    } while (0)

#define CHECK_CONTAINS(hay, needle)                                                                \
    do {                                                                                           \
        const char *t_h_ = (hay), *t_n_ = (needle);                                                \
        t_checks++;                                                                                \
        if (!t_h_ || !strstr(t_h_, t_n_))                                                          \
            T_FAIL("%s does not contain \"%s\": \"%s\"", #hay, t_n_, t_h_ ? t_h_ : "(null)");      \
    } while (0)

/* Polls pred(arg) every 10 ms until it returns nonzero (1) or timeout_ms has
 * passed (0): for waiting on a state (a process gone, a line in a log) instead
 * of sleeping a guessed time. */
static inline int wait_until(int (*pred)(void *), void *arg, int timeout_ms)
{
    struct timespec t0, now, tick = {0, 10 * 1000 * 1000};
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i <= timeout_ms / 10 + 1; i++) {
        if (pred(arg))
            return 1;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if ((now.tv_sec - t0.tv_sec) * 1000 + (now.tv_nsec - t0.tv_nsec) / 1000000 >= timeout_ms)
            break;
        nanosleep(&tick, NULL);
    }
    return pred(arg) != 0;
}

/* Ends main: prints a summary, exit status 1 when any check failed or none ran. */
#define T_DONE()                                                                                   \
    do {                                                                                           \
        fprintf(stderr, "%d checks, %d failed\n", t_checks, t_failures);                           \
        return (t_failures || t_checks == 0) ? 1 : 0;                                              \
    } while (0)

#endif
