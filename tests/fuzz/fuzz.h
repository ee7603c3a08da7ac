/* fuzz.h - shared by the libFuzzer harnesses (fuzz_*.c) and replay.c: the one
 * entry point each harness defines, and FUZZ_ASSERT, which aborts (a crash for
 * libFuzzer, a failed test for the replay) naming the broken invariant. */
#ifndef MFBENCH_FUZZ_H
#define MFBENCH_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_ASSERT(cond)                                                                          \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__, __LINE__, #cond);           \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

#endif
