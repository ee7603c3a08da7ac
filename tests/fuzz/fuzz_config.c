/* fuzz_config.c - libFuzzer harness for the matrix loader (config/config.c,
 * cfg_load_string): any bytes load or fail cleanly with file:line:col. A matrix
 * that loads resolves every framework under no profile and under each of its
 * profiles, gets a bounded worst-case estimate quickly, selects its cells, and
 * frees without a leak (what `check` and `run` do next with it). The same rules
 * as tests/config/test_config_fuzz.c, and more. */
#include <errno.h>
#include <string.h>

#include "config.h"
#include "fuzz.h"
#include "search.h"

/* The worst-case estimate `check --json` and the daemon make of a cell (the
 * plans as exec/exec.c fills them): bounded, and quick for any range. */
static void check_estimate(const struct cfg_settings *s)
{
    struct search_plan p = {.start = s->users.start,
                            .step = s->users.step,
                            .max = s->users.max,
                            .factor = s->users.factor,
                            .refine_pct = s->refine_pct,
                            .refine_abs = s->refine_abs,
                            .repeats = s->repeats,
                            .max_repeats = s->max_repeats,
                            .spread_pct = s->spread_pct};
    int n = search_max_probes(&p);
    FUZZ_ASSERT(n >= 1 && n <= 100001);
    FUZZ_ASSERT(search_repeats_most(&p) >= 1);
    if (s->held.on) {
        struct search_plan h = {.start = s->held.users.start,
                                .step = s->held.users.start,
                                .max = s->held.users.max,
                                .factor = s->held.users.factor > 1 ? s->held.users.factor : 2,
                                .refine_pct = s->refine_pct,
                                .refine_abs = s->refine_abs,
                                .repeats = 1};
        n = search_max_probes(&h);
        FUZZ_ASSERT(n >= 1 && n <= 100001);
    }
}

static void check_loaded(const struct cfg_matrix *m)
{
    struct err e;
    err_clear(&e);
    FUZZ_ASSERT(m->npayloads > 0 && m->nframeworks > 0);
    FUZZ_ASSERT(m->version == 1);
    for (size_t i = 0; i < m->npayloads; i++)
        FUZZ_ASSERT(m->payloads[i].name && m->payloads[i].path && m->payloads[i].path[0] == '/');
    for (size_t p = 0; p <= m->nprofiles; p++) {
        const char *prof = p < m->nprofiles ? m->profiles[p].name : NULL;
        for (size_t i = 0; i < m->nframeworks; i++) {
            struct cfg_settings s;
            int rc = cfg_resolve(m, prof, &m->frameworks[i], &s, &e);
            /* A layer may be fine alone and clash once overlaid (warmup >= duration):
             * then an error with a message, never a crash. */
            FUZZ_ASSERT(rc == 0 || (rc == -EINVAL && e.msg[0]));
            if (rc == 0) {
                FUZZ_ASSERT(s.duration_ms > 0 && s.warmup_ms >= 0 && s.warmup_ms < s.duration_ms);
                FUZZ_ASSERT(s.spawn_rate > 0 && s.pipeline >= 1);
                FUZZ_ASSERT(s.users.start >= 1 && s.users.start <= s.users.max);
                check_estimate(&s);
            }
            err_clear(&e);
        }
    }
    struct cfg_cell *cells = NULL;
    size_t n = 0;
    const char *all[] = {"all"};
    FUZZ_ASSERT(cfg_select(m, all, 1, &cells, &n, &e) == 0);
    FUZZ_ASSERT(n == m->npayloads * m->nframeworks);
    free(cells);
    FUZZ_ASSERT(cfg_find_framework(m, m->frameworks[0].name) == &m->frameworks[0]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cfg_matrix *m = NULL;
    struct err e;
    err_clear(&e);
    int rc = cfg_load_string("fuzz.yaml", (const char *)data, size, &m, &e);
    if (rc == 0) {
        FUZZ_ASSERT(m != NULL);
        check_loaded(m);
        cfg_free(m);
        return 0;
    }
    FUZZ_ASSERT(m == NULL);
    FUZZ_ASSERT(rc == -EINVAL || rc == -ENOMEM);
    FUZZ_ASSERT(e.code == rc && e.msg[0] != '\0');
    if (rc == -EINVAL && size <= 1024 * 1024) /* a positioned message, as `check` prints it */
        FUZZ_ASSERT(e.line > 0 && e.col > 0 && strcmp(e.file, "fuzz.yaml") == 0);
    return 0;
}
