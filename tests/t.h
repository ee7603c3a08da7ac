/* t.h - the test harness: asserts that print both values with file and line,
 * and a count of checks. Each test is its own executable with a meson timeout. */
#ifndef MFBENCH_T_H
#define MFBENCH_T_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* Ends main: prints a summary, exit status 1 when any check failed or none ran. */
#define T_DONE()                                                                                   \
    do {                                                                                           \
        fprintf(stderr, "%d checks, %d failed\n", t_checks, t_failures);                           \
        return (t_failures || t_checks == 0) ? 1 : 0;                                              \
    } while (0)

#endif
