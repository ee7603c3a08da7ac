/* events.h - the event stream of `mfbench run --json-events`: one JSON object
 * per line (its schema is defined once, in events.c, and documented in
 * mfbench(1)), the encoder `run` prints it with, and the other half: a decoder
 * into the executor's own structs and a replayer that stores a stream into a
 * struct store exactly as the local run would have stored it. So a cell can
 * run elsewhere (a Slurm node) and an orchestrator store what it streams back.
 * cJSON stays inside events.c. */
#ifndef MFBENCH_EXEC_EVENTS_H
#define MFBENCH_EXEC_EVENTS_H

#include <stdio.h>

#include "exec.h"

/* The stream's version, in run_start; a reader refuses any other. */
#define EXEC_EVENTS_VERSION 1
/* The longest line a reader takes, '\n' excluded. A phase_end with its series
 * is a few KiB per minute of phase; a line the encoder would make longer is
 * written without its series ("series_dropped": N points). */
#define EXEC_EVENTS_LINE_MAX ((size_t)4 << 20)

enum exec_events_kind {
    EXEC_EVS_RUN_START,
    EXEC_EVS_CELL_START,
    EXEC_EVS_LOG,
    EXEC_EVS_PHASE_START,
    EXEC_EVS_PHASE_END,
    EXEC_EVS_CELL_END,
    EXEC_EVS_RUN_END,
    EXEC_EVS_OTHER /* an event kind this reader does not know: skipped */
};

/* ---- the encoder: each gives one line without its '\n' ---- */

/* run_start: version, started_at, trigger, profile, matrix_sha256, settings
 * and the node with its fingerprint, from r (its cells are not read). *line
 * is malloc'd (caller frees). 0 or -ENOMEM. */
MF_MUST_CHECK int exec_events_run_start(const struct run_record *r, char **line);
/* run_end with the run's status ("ok", "failed", "interrupted"). */
MF_MUST_CHECK int exec_events_run_end(const char *status, char **line);
/* The node fingerprint of r (its node_* fields, as a node's run_start says them) as one
 * JSON object {cpu_model, cpus, kernel, governor, python, loadavg} into out (unknown
 * numbers null), the form cells.node_fingerprint keeps. 0, or -E2BIG / -ENOMEM. */
MF_MUST_CHECK int exec_events_fingerprint(const struct run_record *r, char *out, size_t n);
/* An executor event: log, cell_start, phase_start, phase_end (the complete
 * phase and its series), cell_end (the complete cell but its phases, which
 * came one by one: their count). EXEC_EV_PROGRESS is not streamed: 0 with
 * *line NULL. 0 or -ENOMEM. */
MF_MUST_CHECK int exec_events_encode(const struct exec_event *ev, char **line);

/* ---- the decoder ---- */

/* One decoded line: kind says which members are set. */
struct exec_events_msg {
    enum exec_events_kind kind;
    char framework[64],
        payload[64];           /* cell_start, phase_start, phase_end, cell_end; log: may be "" */
    struct run_record run;     /* run_start (cells NULL) */
    int level;                 /* log */
    char *message;             /* log, owned */
    int users, seq;            /* phase_start, phase_end (users: phase_start) */
    double duration_s;         /* phase_start: the planned length */
    struct phase_result phase; /* phase_end (id 0) */
    struct store_series_point *series; /* phase_end, owned; NULL when nseries is 0 */
    size_t nseries;
    struct cell_result cell; /* cell_end: every member but id and phases (owned strings) */
    size_t nphases;          /* cell_end: how many phase_end the cell sent */
    char status[16];         /* run_end */
};

/* Decodes one line (len bytes, no '\n') into *out (overwritten; free it with
 * exec_events_msg_free, also after an error). Unknown members are ignored,
 * unknown event kinds give EXEC_EVS_OTHER; a missing or mistyped member, a
 * value out of range, a string too long for its field, bad JSON, a line over
 * EXEC_EVENTS_LINE_MAX or a run_start of another version is -EINVAL with e at
 * name:lineno:col. */
MF_MUST_CHECK int exec_events_decode(const char *line, size_t len, const char *name, long lineno,
                                     struct exec_events_msg *out, struct err *e);
void exec_events_msg_free(struct exec_events_msg *m);

/* ---- the replayer: a stream into a store ---- */

struct exec_replay;
/* A replayer into store s (borrowed, not NULL). run_id > 0: the stream's cells
 * are stored in that run (the orchestrator's), its run_start and run_end are
 * checked and kept, not stored. run_id 0: the run is begun from the stream's
 * run_start (store_run_begin: its started_at, trigger, profile, settings and
 * node) and finished at its run_end. name is used in messages ("<stdin>").
 * *out is freed with exec_replay_free. 0 or -ENOMEM. */
MF_MUST_CHECK int exec_replay_new(struct store *s, int64_t run_id, const char *name,
                                  struct exec_replay **out, struct err *e);
/* Each decoded event is passed on as the executor's own (may be NULL): the
 * same progress a local run shows. */
void exec_replay_on_event(struct exec_replay *r, void (*fn)(void *arg, const struct exec_event *ev),
                          void *arg);
/* Replays the next line (len bytes, no '\n'): cell_start is store_cell_begin,
 * phase_end store_phase_add_id and store_phase_series_add, cell_end
 * store_cell_finish. The stream must open with run_start; a phase or a cell's
 * end must belong to the open cell, phases come in seq order, a cell's end
 * counts the phases it sent, nothing follows run_end. -EINVAL (e at
 * name:LINE:COL) for anything else, a store error as the store gives it;
 * after an error, only exec_replay_finish. */
MF_MUST_CHECK int exec_replay_line(struct exec_replay *r, const char *line, size_t len,
                                   struct err *e);
/* Ends the stream. A cell begun without its end is stored with status
 * open_status (CELL_ERROR or CELL_INTERRUPTED, never ok) and the error why
 * (NULL: "the event stream ended at line N before the cell's end"), with the
 * figures its stored phases give. A run begun here is finished with its
 * run_end's status, else "interrupted". Returns 0 when the stream was whole
 * (it ended with run_end), else -EPROTO with e saying what was missing (the
 * store written as said all the same), or a store error. */
MF_MUST_CHECK int exec_replay_finish(struct exec_replay *r, enum cell_status open_status,
                                     const char *why, struct err *e);
/* Reads lines from in until EOF (each at most EXEC_EVENTS_LINE_MAX bytes),
 * replays them and finishes: at the first error the open cell is stored as
 * error with that error's message. Returns the first error. */
MF_MUST_CHECK int exec_replay_stream(struct exec_replay *r, FILE *in, struct err *e);
/* What was replayed so far: the run of run_start (id: the run the cells went
 * to) with every cell (ended or not) and its phases. Owned by r. */
const struct run_record *exec_replay_run(const struct exec_replay *r);
/* The last line read (0 before the first). */
long exec_replay_lineno(const struct exec_replay *r);
void exec_replay_free(struct exec_replay *r); /* NULL is fine */

#endif
