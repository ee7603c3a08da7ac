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

/* Opens (creating the file, its parent folders and the schema, or migrating an
 * older schema) the store at path. *out is freed with store_close(). */
int store_open(const char *path, struct store **out, struct err *e);
void store_close(struct store *s);

/* The path rules of DESIGN.md: explicit, else $MFBENCH_STORE, else
 * $STATE_DIRECTORY/results.db, else $XDG_STATE_HOME/mfbench/results.db, else
 * ~/.local/state/mfbench/results.db. Writes into buf. */
const char *store_default_path(const char *explicit_path, char *buf, size_t n);

/* A run: r->started_at, trigger, profile, matrix_sha256, node_* are read;
 * status is set to "running". r->id is set. */
int store_run_begin(struct store *s, struct run_record *r, struct err *e);
/* Sets finished_at (now) and status. */
int store_run_finish(struct store *s, int64_t run_id, const char *status, struct err *e);

/* A cell of a run, status "running"; c->id is set. */
int store_cell_begin(struct store *s, int64_t run_id, struct cell_result *c, struct err *e);
/* Appends one finished phase to a cell, committed before returning. seq is its
 * index in the cell, in the order tried. */
int store_phase_add(struct store *s, int64_t cell_id, int seq, const struct phase_result *p,
                    struct err *e);
/* Final status, error, versions, capacity, breaking, peak of the cell. */
int store_cell_finish(struct store *s, const struct cell_result *c, struct err *e);
/* Stores the per-second series of a phase (optional). */

/* Marks every run still "running" (and its running cells) as "interrupted";
 * used at daemon start after a crash. Sets *count to how many runs. */
int store_mark_interrupted(struct store *s, int *count, struct err *e);

/* Loads a whole run with its cells and phases. -ENOENT when there is none. */
int store_load_run(struct store *s, int64_t run_id, struct run_record *out, struct err *e);
/* The newest run id, or -ENOENT. */
int store_last_run(struct store *s, int64_t *run_id, struct err *e);

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
int store_history(struct store *s, const char *framework, const char *payload, int limit,
                  struct store_history_row **rows, size_t *nrows, struct err *e);

/* PRAGMA integrity_check == "ok": 0, else -EIO with the message. */
int store_check(struct store *s, struct err *e);

#endif
