/* dispatch.h - a run's cells on a Slurm node (issue 23): up to node.slurm.max_parallel
 * cells at once, each on a whole node Slurm allocates for it alone. Each cell runs
 * there as `mfbench run --json-events --no-store -m -` with the local transport (its
 * server and its load engine on the allocation's CPUs), and this process stores what
 * it streams back, phase by phase, through the events replayer: the store sees one
 * writer, this thread. */
#ifndef MFBENCH_EXEC_DISPATCH_H
#define MFBENCH_EXEC_DISPATCH_H

#include <stdatomic.h>

#include "config.h"
#include "exec.h"
#include "store.h"

struct exec_dispatch {
    const struct cfg_matrix *matrix; /* borrowed; node.transport slurm */
    const char *profile;             /* may be NULL */
    /* The mfbench the nodes run when node.slurm.mfbench names none: this binary's own
     * path. It is read here and uploaded to each node that lacks it, into
     * WORKDIR/bin/mfbench-SHA256 (checked by sha256sum there), through srun. */
    const char *self_path;
    /* targets/ for the node's mfbench when it is this binary (same filesystem); NULL:
     * the node's mfbench finds its own. */
    const char *targets_dir;
    struct store *store;      /* not NULL: the replayer stores each cell's stream */
    int64_t run_id;           /* the run the cells are stored in (begun by the caller) */
    const atomic_int *cancel; /* nonzero: every allocation cancelled, cells interrupted */
    /* Each cell's events as a local run gives them (may be NULL), plus EXEC_EV_LOG
     * lines of the dispatcher's own (queued, granted on NODE, released). */
    void (*on_event)(void *arg, const struct exec_event *ev);
    void *arg;
    /* May be NULL: called with arg whenever slot index (0..max_parallel-1) changes:
     * state "queued" (salloc asked, job may still be 0), "running" (granted on host),
     * or "free" (released; framework and payload ""). For `status`. */
    void (*on_slot)(void *arg, int index, const char *framework, const char *payload,
                    const char *state, const char *host, int64_t job);
    /* The matrix's budget (0: none). A cell starts (asks Slurm for its node) only when
     * the time since budget_t0_ms (mono_ms) plus its own worst case cell_max_s[i] (for
     * cells[i]; exec_cell_max_s with the Slurm hand-off) fits in it; else it is stored
     * skipped "budget: ...". That bounds the job: a cell starts only on a free slot, so
     * nothing in flight delays it, and it ends by its start plus its worst case; the job
     * ends when its last cell does, so every cell's end, and the job's, is within the
     * budget (time queued in Slurm behind other users' jobs aside, as in the worst case). */
    int64_t budget_ms;
    int64_t budget_t0_ms;
    const double *cell_max_s;
};

/* node.workdir when the matrix names none: the node's slot folders and bin/. */
#define EXEC_DISPATCH_WORKDIR "~/.cache/mfbench/slurm"
/* The upload of this binary to a node (one srun step): counted in exec/worst.c. */
#define EXEC_DISPATCH_UPLOAD_TIMEOUT_MS 120000
/* The largest binary uploaded (an ASan build is tens of MiB). */
#define EXEC_DISPATCH_BIN_MAX ((size_t)512 << 20)

/* How long an interrupted dispatch waits for its cells' streams to end after their
 * allocations are cancelled, before their srun are killed. */
#define EXEC_DISPATCH_STOP_MS 15000

/* Runs cells[0..n) as said above and returns once every one has ended and its
 * allocation is released (scancel, whatever happened). Each cell is stored in
 * d->run_id with node {host, slurm_job_id}; a cell whose allocation was lost
 * (cancelled from outside, time limit, node failure) is stored error with Slurm's
 * reason, never ok; the others go on. *interrupted (may be NULL) is set when d->cancel
 * stopped it (cells not started are not stored, as a local run's). 0 when every cell
 * came to an outcome; negative for a failure of mfbench itself (a store write), with
 * every allocation released all the same. */
MF_MUST_CHECK int exec_dispatch_run(const struct exec_dispatch *d, const struct cfg_cell *cells,
                                    size_t n, int *interrupted, struct err *e);

/* The CPUs of cpus (a list of indexes: "0", "1-2", "0,3") picked in the allocated set
 * allowed (Cpus_allowed_list, machine numbers: "4-7"), as a list into out. An index past
 * the set is -ERANGE with msg saying so, unless the set has one CPU: then every index is
 * that CPU. "" stays "" (no pinning). Pure. */
MF_MUST_CHECK int exec_dispatch_map_cpus(const char *cpus, const char *allowed, char *out, size_t n,
                                         char *msg, size_t msgn);

#endif
