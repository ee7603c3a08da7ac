/* fuzz_events.c - libFuzzer harness for the decoder of `run --json-events`
 * (exec/events.c): one line as a node streams it back. A line decodes into
 * bounded, consistent structs that encode again into a line decoding to the
 * same values, or fails with a message naming its line; nothing leaks. */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "events.h"
#include "fuzz.h"

#define FUZZ_LINE 41

/* The same double, NaN included (null both ways). */
static int same_dbl(double a, double b)
{
    return (isnan(a) && isnan(b)) || a == b || (!isfinite(a) && !isfinite(b));
}

static void same_phase(const struct phase_result *a, const struct phase_result *b)
{
    FUZZ_ASSERT(a->users == b->users && a->requests == b->requests && a->seed == b->seed);
    FUZZ_ASSERT(same_dbl(a->rps, b->rps) && same_dbl(a->latency_ms.p99, b->latency_ms.p99));
    FUZZ_ASSERT(same_dbl(a->duration_s, b->duration_s) && same_dbl(a->pct_of, b->pct_of));
    FUZZ_ASSERT(memcmp(a->failures_by_kind, b->failures_by_kind, sizeof(a->failures_by_kind)) == 0);
    FUZZ_ASSERT(strcmp(a->stop_reason, b->stop_reason) == 0 && strcmp(a->kind, b->kind) == 0);
    FUZZ_ASSERT(strcmp(a->arrivals, b->arrivals) == 0);
}

static void reencode(const struct exec_events_msg *m)
{
    struct exec_event ev = {.framework = m->framework, .payload = m->payload, .seq = m->seq};
    char *line = NULL;
    switch (m->kind) {
    case EXEC_EVS_PHASE_END:
        ev.kind = EXEC_EV_PHASE_END;
        ev.phase = &m->phase;
        ev.series = m->series;
        ev.nseries = m->nseries;
        break;
    case EXEC_EVS_CELL_END:
        ev.kind = EXEC_EV_CELL_END;
        ev.cell = &m->cell;
        break;
    case EXEC_EVS_RUN_START:
        FUZZ_ASSERT(exec_events_run_start(&m->run, &line) == 0);
        break;
    default:
        return;
    }
    if (!line)
        FUZZ_ASSERT(exec_events_encode(&ev, &line) == 0 && line != NULL);
    struct exec_events_msg m2;
    struct err e;
    err_clear(&e);
    int rc = exec_events_decode(line, strlen(line), "again", 1, &m2, &e);
    if (rc != 0)
        fprintf(stderr, "re-encoded line refused: %s\n%s\n", e.msg, line);
    FUZZ_ASSERT(rc == 0 && m2.kind == m->kind);
    if (m->kind == EXEC_EVS_PHASE_END) {
        same_phase(&m->phase, &m2.phase);
        FUZZ_ASSERT(m2.nseries == m->nseries && m2.seq == m->seq);
    } else if (m->kind == EXEC_EVS_CELL_END) {
        FUZZ_ASSERT(m2.cell.status == m->cell.status && m2.nphases == 0);
        FUZZ_ASSERT(m2.cell.capacity_users == m->cell.capacity_users);
        FUZZ_ASSERT(m2.cell.nslo == m->cell.nslo && m2.cell.nload_points == m->cell.nload_points);
        FUZZ_ASSERT(!m2.cell.error == !m->cell.error);
        FUZZ_ASSERT(!m->cell.error || strcmp(m2.cell.error, m->cell.error) == 0);
    } else {
        FUZZ_ASSERT(strcmp(m2.run.settings, m->run.settings) == 0);
        FUZZ_ASSERT(same_dbl(m2.run.node_loadavg, m->run.node_loadavg));
    }
    exec_events_msg_free(&m2);
    free(line);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct exec_events_msg m;
    struct err e;
    err_clear(&e);
    int rc = exec_events_decode((const char *)data, size, "fuzz", FUZZ_LINE, &m, &e);
    if (rc == 0) {
        FUZZ_ASSERT(m.kind >= EXEC_EVS_RUN_START && m.kind <= EXEC_EVS_OTHER);
        FUZZ_ASSERT(memchr(m.framework, '\0', sizeof(m.framework)) != NULL);
        FUZZ_ASSERT(memchr(m.payload, '\0', sizeof(m.payload)) != NULL);
        FUZZ_ASSERT(memchr(m.phase.stop_reason, '\0', sizeof(m.phase.stop_reason)) != NULL);
        FUZZ_ASSERT(m.cell.nslo >= 0 && m.cell.nslo <= CELL_MAX_SLO);
        FUZZ_ASSERT(m.cell.nload_points >= 0 && m.cell.nload_points <= CELL_MAX_LOAD_POINTS);
        FUZZ_ASSERT(m.nseries == 0 || m.series != NULL);
        if (m.kind == EXEC_EVS_CELL_END)
            FUZZ_ASSERT(m.cell.status != CELL_RUNNING && m.cell.status < CELL__COUNT);
        if (m.kind == EXEC_EVS_LOG)
            FUZZ_ASSERT(m.level >= 0 && m.level <= 7);
        reencode(&m);
    } else {
        FUZZ_ASSERT(rc == -EINVAL || rc == -ENOMEM);
        FUZZ_ASSERT(e.code == rc && e.msg[0] != '\0');
        FUZZ_ASSERT(rc == -ENOMEM || (e.line == FUZZ_LINE && strcmp(e.file, "fuzz") == 0));
    }
    exec_events_msg_free(&m);
    return 0;
}
