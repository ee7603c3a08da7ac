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
#define STORE_SCHEMA_VERSION 13

/* Opens (creating the file and the schema, or migrating an older schema) the
 * store at path; its folder must exist (see store_path_check). A newer schema
 * is refused with -ENOTSUP. Runs left "running" by a process of this host that
 * no longer exists are marked interrupted (best effort, see store_repair).
 * Several processes may open one file (WAL, busy timeout 5 s); one struct
 * store is used by one thread at a time. *out is freed with store_close(). */
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
/* 1 when store_default_path would pick a default location (no explicit path,
 * no $MFBENCH_STORE): the one case where missing folders are created. */
int store_path_is_default(const char *explicit_path);
/* Checks, before any work starts, that a store can be kept at path: its folder
 * exists (with create_folders, missing folders are made first, mode 0700), is a
 * folder and is writable; the file is a regular file this user may read and
 * write, or absent. -ENOENT, -ENOTDIR, -EACCES, -EINVAL with the path named. */
MF_MUST_CHECK int store_path_check(const char *path, int create_folders, struct err *e);

/* A run: r->started_at, trigger, profile, matrix_sha256, node_* are read;
 * status is set to "running", the row records this process (pid, start time,
 * boot, host name). r->id is set. The store is one run's at a time: while
 * another live process of this host has a run "running" here, -EBUSY with
 * "store busy: run N (pid P) ..."; the check and the insert are one IMMEDIATE
 * transaction, so of two beginning at once one gets -EBUSY. Runs of this
 * process, of another host or written before schema v4 do not count. */
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
/* Where cell cell_id ran when not on its run's node (a Slurm allocation): the node's
 * name and the Slurm job id (0: none). */
MF_MUST_CHECK int store_cell_set_node(struct store *s, int64_t cell_id, const char *host,
                                      int64_t slurm_job_id, struct err *e);
/* The fingerprint of the node cell cell_id ran on (schema v11): a JSON object {cpu_model,
 * cpus, kernel, governor, python, loadavg} as text (capped at the cell_result field). */
MF_MUST_CHECK int store_cell_set_fingerprint(struct store *s, int64_t cell_id, const char *json,
                                             struct err *e);
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

/* Marks the runs still "running" (and their running cells) as "interrupted",
 * except those of another live process of this host and those of another
 * host; used at daemon start after a crash and at its forced stop. Sets *count
 * to how many runs. */
MF_MUST_CHECK int store_mark_interrupted(struct store *s, int *count, struct err *e);
/* Marks only the runs whose process is gone (same host; a pid that now names
 * another process counts as gone) as "interrupted"; store_open does it. */
MF_MUST_CHECK int store_repair(struct store *s, int *count, struct err *e);
/* How many runs store_open repaired so (for the daemon's log). */
int store_open_repaired(const struct store *s);
/* -EBUSY with "store busy: run N (pid P) ..." while another live process of
 * this host has a run "running" here, else 0 (a look without a lock: the
 * check that counts is store_run_begin's). */
MF_MUST_CHECK int store_busy(struct store *s, struct err *e);

/* After a write error: ends run_id as "interrupted", its running cells too,
 * and stores each of the n cells of not_run (may be NULL) as "interrupted"
 * with the error why, so the run lists every cell asked for. When the first
 * attempt fails it gives back what SQLite can (memory; the WAL, checkpointed
 * and truncated) and tries again, then tries the run's row alone. Returns the
 * last attempt's error (-ENOSPC when only the run's row could be written). */
struct store_cell_name {
    const char *framework, *payload;
};
MF_MUST_CHECK int store_run_abort(struct store *s, int64_t run_id,
                                  const struct store_cell_name *not_run, size_t n, const char *why,
                                  struct err *e);

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

/* One line of history: a cell of a run, its stored columns only. Figures
 * computed from its phases (latency at capacity, RSS, held users) are the
 * review commands' (store_load_run gives the phases). */
struct store_history_row {
    int64_t run_id, cell_id;
    char started_at[32];
    char framework[64], payload[64];
    char status[16];
    char profile[64];
    int capacity_users, breaking_users; /* -1 = null */
    double peak_rps;                    /* the stored peak over all phases */
};

/* Newest first. framework/payload may be NULL or "*" for any. limit <= 0 = all.
 * *rows is malloc'd, caller frees. */
MF_MUST_CHECK int store_history(struct store *s, const char *framework, const char *payload,
                                int limit, struct store_history_row **rows, size_t *nrows,
                                struct err *e);

/* PRAGMA integrity_check == "ok": 0, else -EIO with the message. */
MF_MUST_CHECK int store_check(struct store *s, struct err *e);

#endif
