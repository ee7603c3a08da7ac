/* store.h - the SQLite result store: schema and migrations (PRAGMA user_version),
 * one transaction per write so every finished phase is durable at once, and the
 * queries the review commands need. Only store/ includes sqlite3.h. */
#ifndef MFBENCH_STORE_H
#define MFBENCH_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "common.h"
#include "result.h"

struct store;

/* The schema version this build writes (PRAGMA user_version). Older files are
 * migrated on open; newer ones are refused with -ENOTSUP. */
#define STORE_SCHEMA_VERSION 3

/* Opens (creating the file, its parent folders with mode 0700 and the schema, or
 * migrating an older schema) the store at path. A newer schema is refused with
 * -ENOTSUP. Several processes may open one file (WAL, busy timeout 5 s); one
 * struct store is used by one thread at a time. *out is freed with store_close(). */
MF_MUST_CHECK int store_open(const char *path, struct store **out, struct err *e);
/* For readers (the review commands): store_open, and when this user may not
 * write the file or its folder (the daemon's store, readable by its group), the
 * same file read-only: it is never migrated then, so an older schema is refused
 * with a message saying who can upgrade it. */
MF_MUST_CHECK int store_open_reader(const char *path, struct store **out, struct err *e);
void store_close(struct store *s);

/* The path rules of DESIGN.md: explicit, else $MFBENCH_STORE, else
 * $STATE_DIRECTORY/results.db, else $XDG_STATE_HOME/mfbench/results.db, else
 * ~/.local/state/mfbench/results.db. Writes into buf and returns it; NULL when
 * the path does not fit in n or no home folder is known. */
const char *store_default_path(const char *explicit_path, char *buf, size_t n);

/* A run: r->started_at, trigger, profile, matrix_sha256, node_* are read;
 * status is set to "running". r->id is set. */
MF_MUST_CHECK int store_run_begin(struct store *s, struct run_record *r, struct err *e);
/* Sets finished_at (now) and status. */
MF_MUST_CHECK int store_run_finish(struct store *s, int64_t run_id, const char *status,
                                   struct err *e);

/* A cell of a run, status "running"; c->id is set. */
MF_MUST_CHECK int store_cell_begin(struct store *s, int64_t run_id, struct cell_result *c,
                                   struct err *e);
/* Appends one finished phase to a cell, committed before returning. seq is its
 * index in the cell, in the order tried. */
MF_MUST_CHECK int store_phase_add(struct store *s, int64_t cell_id, int seq,
                                  const struct phase_result *p, struct err *e);
/* Final status, error, versions, capacity, breaking, peak of the cell, and the
 * summary of its repeats (schema v2). */
MF_MUST_CHECK int store_cell_finish(struct store *s, const struct cell_result *c, struct err *e);
/* Like store_phase_add, and sets *phase_id (for store_phase_series_add). */
MF_MUST_CHECK int store_phase_add_id(struct store *s, int64_t cell_id, int seq,
                                     const struct phase_result *p, int64_t *phase_id,
                                     struct err *e);

/* One point of a phase's time series, as the runner reports it each second. */
struct store_series_point {
    double t_s; /* seconds since the phase started */
    int users;
    uint64_t requests, failures;
    double p50_ms, p99_ms; /* -1 = none */
};
/* Stores the per-second series of a phase (optional), all points in one transaction. */
MF_MUST_CHECK int store_phase_series_add(struct store *s, int64_t phase_id,
                                         const struct store_series_point *pts, size_t n,
                                         struct err *e);
/* Loads it ordered by t_s. *pts is malloc'd (NULL when n is 0), caller frees. */
MF_MUST_CHECK int store_phase_series_load(struct store *s, int64_t phase_id,
                                          struct store_series_point **pts, size_t *n,
                                          struct err *e);

/* Marks every run still "running" (and its running cells) as "interrupted";
 * used at daemon start after a crash. Sets *count to how many runs. */
MF_MUST_CHECK int store_mark_interrupted(struct store *s, int *count, struct err *e);

/* Loads a whole run with its cells (by seq) and phases (by seq). *out is
 * overwritten; free it with run_record_free(), also after an error. NULL
 * columns load as -1 (error and versions_json stay NULL). -ENOENT when there is none. */
MF_MUST_CHECK int store_load_run(struct store *s, int64_t run_id, struct run_record *out,
                                 struct err *e);
/* The newest run id, or -ENOENT. */
MF_MUST_CHECK int store_last_run(struct store *s, int64_t *run_id, struct err *e);

/* Deleting old runs, with their cells, phases and series (ON DELETE CASCADE).
 * A run goes when it started before `before` (ISO 8601 UTC; NULL = any age) and
 * is not among the `keep` newest (keep < 0 = no such guard); a run still
 * "running" never goes. At least one of before and keep must be given. With
 * dry_run nothing is deleted; the counts say what would be. One transaction. */
struct store_prune_stats {
    int64_t runs, cells, phases;
};
MF_MUST_CHECK int store_prune(struct store *s, const char *before, int64_t keep, int dry_run,
                              struct store_prune_stats *out, struct err *e);

/* One line of history: a cell of a run. */
struct store_history_row {
    int64_t run_id, cell_id;
    char started_at[32];
    char framework[64], payload[64];
    char status[16];
    char profile[64];
    int capacity_users, breaking_users; /* -1 = null */
    double peak_rps;
    double p50_ms, p99_ms; /* of the phase at capacity (or the first phase); -1 = none */
    double rss_max_kb;     /* server RSS max over the cell's phases; -1 = none */
};

/* Newest first. framework/payload may be NULL or "*" for any. limit <= 0 = all.
 * *rows is malloc'd, caller frees. */
MF_MUST_CHECK int store_history(struct store *s, const char *framework, const char *payload,
                                int limit, struct store_history_row **rows, size_t *nrows,
                                struct err *e);

/* PRAGMA integrity_check == "ok": 0, else -EIO with the message. */
MF_MUST_CHECK int store_check(struct store *s, struct err *e);

#endif
