/* exec.h - the cell executor: for one matrix cell, provision the framework on
 * the node, start its server, verify it answers, raise users phase by phase
 * until the stop criteria hold, sample the server, store every phase as it
 * finishes, and stop the server whatever happened. Shared by `mfbench run`
 * (foreground) and mfbenchd. */
#ifndef MFBENCH_EXEC_H
#define MFBENCH_EXEC_H

#include <stdatomic.h>

#include "common.h"
#include "config.h"
#include "node.h"
#include "result.h"
#include "runner.h"
#include "store.h"

enum exec_event_kind {
    EXEC_EV_LOG,         /* message, level (journald 0..7) */
    EXEC_EV_CELL_START,  /* framework, payload */
    EXEC_EV_PHASE_START, /* users, seq */
    EXEC_EV_PROGRESS,    /* users, seq, progress */
    EXEC_EV_PHASE_END,   /* phase, series */
    EXEC_EV_CELL_END,    /* cell */
};

struct exec_event {
    enum exec_event_kind kind;
    int level; /* for EXEC_EV_LOG: 3 err, 4 warning, 6 info, 7 debug */
    const char *message;
    const char *framework, *payload;
    int users, seq;
    double phase_duration_s; /* planned length of the current phase */
    const struct run_progress *progress;
    const struct phase_result *phase;
    /* EXEC_EV_PHASE_END: the phase's per-second series, as stored (may be NULL). */
    const struct store_series_point *series;
    size_t nseries;
    const struct cell_result *cell;
};

struct exec_db; /* db.c: the run's database */

/* One run on one node, as the executor sees it: what all of the run's cells
 * share. The caller fills it and owns everything it points to. */
struct exec_run {
    const struct cfg_matrix *matrix; /* borrowed */
    const char *profile;             /* may be NULL */
    const char *targets_dir;         /* local targets/ folder to upload */
    struct node *node;               /* opened by the caller */
    struct store *store;             /* may be NULL: nothing stored */
    int64_t run_id;
    const atomic_int *cancel; /* nonzero: stop the cell (measured phases kept) */
    /* May be NULL. Holds the process group of the server while one is up, else 0:
     * the daemon's forced stop kills a local server with it, without any I/O. */
    atomic_long *server_pgid;
    void (*on_event)(void *arg, const struct exec_event *ev);
    void *arg;
    /* Filled by exec_prepare_node(): node facts the sampler needs. */
    long node_page_kb;
    long node_clk_tck;
    /* Owned, per run (exec_run_close frees it): per framework of the matrix, why its
     * venv could not be made, so its later cells are skipped without pip again. */
    char **venv_skips;
    /* Owned, per run: the database payloads' PostgreSQL, started before the first database
     * cell and stopped by exec_run_close (which the caller runs on every path, while the node
     * is still open). */
    struct exec_db *db;
};

/* After a cell: stops the run's database when none of the cells still to run (rest, nrest) is
 * a database cell, so it runs from before the first database cell to after the last. Errors
 * are logged (on_event), not returned. */
void exec_db_release(struct exec_run *x, const struct cfg_cell *rest, size_t nrest);

/* Stops the run's database when it started one, and frees what the executor kept for the run
 * (x itself is the caller's). Called before the node is closed. */
void exec_run_close(struct exec_run *x);

/* Finds the targets/ folder: explicit, else $MFBENCH_TARGETS, else the source
 * tree's, else the installed one. Returns NULL when none exists. */
const char *exec_targets_dir(const char *explicit_dir);

/* Uploads targets/ (only when changed) and the sampler to the node's workdir.
 * Fills node facts for the run record (host name, kernel). */
MF_MUST_CHECK int exec_prepare_node(struct exec_run *x, struct run_record *run, struct err *e);

/* Runs one cell. out is initialised here (framework/payload set); the caller
 * frees it with cell_result_free. Returns 0 when the cell ran to an outcome
 * (ok, failed, error, skipped, cancelled: see out->status), negative only for
 * a failure of mfbench itself (store write failed, node lost). */
MF_MUST_CHECK int exec_cell(struct exec_run *x, const struct cfg_cell *cell,
                            struct cell_result *out, struct err *e);

/* The worst case (worst.c lists every step and the timeout it counts): an
 * upper bound on how long a run can take, so the daemon can skip what cannot
 * fit in the budget. What it is made of, in seconds: */
struct exec_worst_parts {
    double run_s;       /* once per run: exec_run_max_s */
    double provision_s; /* once per cell: the venv (pip: at least 600 s), versions */
    double cell_end_s;  /* once per cell: the last stop; a failed start's stop, log tail */
    double server_s;    /* per fresh server, beside the readiness timeout: two stops,
                         * the port check, the start, one alive check */
    double phase_s;     /* per phase, beside its length and drain: the sampler's start and
                         * finish, the alive check, a margin for local work */
};
/* The parts for one framework of the matrix (the venv depends on it). */
void exec_worst_parts(const struct cfg_matrix *m, const struct cfg_framework *fw,
                      struct exec_worst_parts *out);
/* Once per run, in seconds: the node's session (ssh), exec_prepare_node (facts,
 * sampler, uploads) and exec_cleanup_node (a left server's stop). */
double exec_run_max_s(const struct cfg_matrix *m);
/* The worst case of one cell under a profile, in seconds (0 when the
 * settings do not resolve): every search at its most phases, each at full
 * length plus the drain of requests in flight (the timeout), the node's
 * commands around it and a fresh server at the readiness timeout, plus load
 * points, SLO probes, held users, provisioning and the cell's end. Not the
 * run's once-only part (exec_run_max_s). *phases (may be NULL): the most phases. */
double exec_cell_max_s(const struct cfg_matrix *m, const char *profile, const struct cfg_cell *c,
                       int *phases);
/* The least rate at which one SLO probe for bound_ms can pass at all under st's slo:
 * the early-stopping rule needs a least sample count (459 for p99 at 99%), and a probe
 * at rate R holds R x its window (at most slo.window.max). When that rate is above
 * slo.min_rps, the search's floor can never pass. 0 when st has no slo. */
double exec_slo_least_passable_rps(const struct cfg_settings *st, int64_t bound_ms,
                                   uint64_t *least_samples);
/* How many cells of a job run at once: node.slurm.max_parallel on a Slurm node, else 1. */
int exec_slots(const struct cfg_matrix *m);
/* On a Slurm node, what each cell adds to exec_cell_max_s, in seconds: the run's once-only
 * steps (each cell's node is its own), the allocation's hand-off and the dispatcher's two
 * steps before the cell (the node's mfbench --version, its CPU set). 0 on another node. */
double exec_slurm_cell_extra_s(const struct cfg_matrix *m);
/* On a Slurm node, the most one cell can take whatever its settings: Slurm ends the
 * allocation at node.slurm.time_limit (whole minutes), plus the hand-off. */
double exec_slurm_cell_cap_s(const struct cfg_matrix *m);
/* The worst case of n cells (cell_s[i] seconds each) on slots slots: cheapest first,
 * each to the slot that frees first; the latest slot end. 1 slot: the sum; as many
 * slots as cells or more: the largest. Pure. */
double exec_pack_max_s(const double *cell_s, size_t n, int slots);

/* One run at a time per node, whoever drives it (lock.c): the daemon, a
 * person's `mfbench run` and root's exclude each other. A lock file in a folder
 * all users of the driving machine share (/run/lock, else /tmp: owned by root,
 * mode 1777), named after the node's key (exec_node_lock_key:
 * "local:server_port=N" or "ssh:HOST:PORT:server_port=N"), mode 0666, held with
 * flock(2): a holder that dies frees it. A link, a FIFO, a file with several
 * links, or another user's file this user cannot write is refused with a
 * message. An ssh node is locked on the driving machine only: runs driven from
 * another machine are not seen. When it is held, waits up to wait_s seconds
 * (0: not at all; cancel, may be NULL, ends the wait), then -EBUSY with
 * "node busy: run N (pid P, user U) holds node KEY (lock PATH)". *out is
 * released with exec_node_unlock. */
struct exec_node_lock;
MF_MUST_CHECK int exec_node_lock(const struct cfg_node *n, int wait_s, const atomic_int *cancel,
                                 struct exec_node_lock **out, struct err *e);
/* Records the run id in the lock file ("run N pid P user U"), for the next one turned away. */
MF_MUST_CHECK int exec_node_lock_set_run(struct exec_node_lock *l, int64_t run_id, struct err *e);
void exec_node_unlock(struct exec_node_lock *l); /* NULL is fine */
/* The node's key into buf; -ENAMETOOLONG when it does not fit. */
MF_MUST_CHECK int exec_node_lock_key(const struct cfg_node *n, char *buf, size_t size);

/* Stops a server left on the node by an earlier, killed process. */
MF_MUST_CHECK int exec_cleanup_node(struct exec_run *x, int *found, struct err *e);

#endif
