/* slurm.h - Slurm's command-line tools driven from C (issue 23): one whole node per
 * allocation (salloc --no-shell), what squeue and scontrol say of it, commands run in
 * it (srun --jobid --overlap) with their stdin and stdout handed to the caller, its
 * release (scancel) and this user's orphaned allocations. Every tool is started by
 * posix_spawn (no shell: matrix values are argv items), in a process group of its
 * own, with a timeout after which it is killed (TERM, then KILL), and its output
 * captured with a cap. No libslurm: its ABI changes every major release. */
#ifndef MFBENCH_NODE_SLURM_H
#define MFBENCH_NODE_SLURM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common.h"
#include "config.h"

/* Each squeue/scontrol/scancel call, and salloc once it is granted: Slurm's own
 * MessageTimeout is 10 s by default, twice that is a stuck controller. */
#define NODE_SLURM_CMD_TIMEOUT_MS 20000
/* A tool that outlived its timeout gets SIGTERM (srun passes it to its step), then
 * SIGKILL after this long. */
#define NODE_SLURM_KILL_GRACE_MS 2000
/* What a tool's stdout/stderr keeps (the rest is read and dropped). */
#define NODE_SLURM_OUTPUT_CAP (64 * 1024)
/* Every name mfbench gives its jobs starts with this; orphans are found by it. */
#define NODE_SLURM_NAME_PREFIX "mfbench-"

struct node_slurm_opts {
    const char *partition;   /* salloc -p; NULL: the cluster's default */
    int64_t time_limit_ms;   /* salloc -t, rounded up to whole minutes (at least 1) */
    const char *const *args; /* extra salloc arguments, each one argv item; may be NULL */
    size_t nargs;
    int64_t cmd_timeout_ms;   /* each squeue/scontrol/scancel call; 0: NODE_SLURM_CMD_TIMEOUT_MS */
    int64_t grant_timeout_ms; /* how long an allocation may stay queued; 0: no limit (the
                               * caller cancels it) */
};

/* The options of a matrix's node.slurm (borrowed pointers: cfg must outlive o). */
void node_slurm_opts_from_cfg(const struct cfg_node *cfg, struct node_slurm_opts *o);

/* The most one cell's hand-off to Slurm can add to its run, in ms: salloc once
 * granted, squeue for its node, srun's start and end around the cell, scancel; each
 * at its timeout plus the kill grace. Waiting in Slurm's queue is not counted. */
int64_t node_slurm_handoff_max_ms(const struct node_slurm_opts *o);

/* "mfbench-RUN-FRAMEWORK/PAYLOAD" into buf (cut to n). */
const char *node_slurm_job_name(int64_t run_id, const char *framework, const char *payload,
                                char *buf, size_t n);

/* ---- allocations ----
 * `salloc --no-shell --exclusive -N1 -t MIN -J NAME [-p PART] [ARGS...]` runs as a
 * child process: it returns once Slurm grants the node, and blocks while the job
 * is queued. A child (rather than `sbatch --wrap 'sleep infinity'` polled with
 * squeue) because salloc --no-shell holds the node with no process on it (nothing
 * of ours competes with the cell for the node's CPUs), needs no batch script in the
 * nodes' spool, and says on stderr both the job id as soon as it is queued ("Pending
 * job allocation N") and the grant ("Granted job allocation N"): the caller learns
 * both from a pipe it can poll, and never polls squeue for the transition. */
struct node_slurm_alloc;

/* Starts salloc for one whole node named name (must start with NODE_SLURM_NAME_PREFIX).
 * *out is freed with node_slurm_alloc_free. -EINVAL (bad name), -ENOENT (no salloc),
 * -ENOMEM. */
MF_MUST_CHECK int node_slurm_alloc_start(const struct node_slurm_opts *o, const char *name,
                                         struct node_slurm_alloc **out, struct err *e);
/* Reads what salloc said, waiting up to wait_ms (0: not at all). 0 once granted (the
 * job id is node_slurm_alloc_job), 1 while still queued (or not yet answered),
 * negative when the request failed (e names salloc's error), or -ETIMEDOUT when it
 * stayed queued past grant_timeout_ms (it is cancelled then). */
MF_MUST_CHECK int node_slurm_alloc_poll(struct node_slurm_alloc *a, int wait_ms, struct err *e);
/* The job id, 0 until salloc has said it. */
int64_t node_slurm_alloc_job(const struct node_slurm_alloc *a);
/* salloc's stderr, for an event loop's poll (readable when it says something); -1
 * once it has ended. */
int node_slurm_alloc_fd(const struct node_slurm_alloc *a);
/* Cancels the request, queued or granted: scancel of its job (when its id is known)
 * and salloc ended (SIGINT revokes a pending request; TERM/KILL after the timeout).
 * Bounded; 0, or negative with e set when scancel failed. */
MF_MUST_CHECK int node_slurm_alloc_cancel(struct node_slurm_alloc *a, struct err *e);
/* Frees a; a salloc still running is killed (the caller cancels the job first). */
void node_slurm_alloc_free(struct node_slurm_alloc *a);

/* ---- a job's state ---- */
struct node_slurm_job {
    char nodes[256];  /* squeue %N: the node list ("" while queued) */
    char state[32];   /* %T: PENDING, RUNNING, COMPLETING, CANCELLED, TIMEOUT, ... */
    char reason[128]; /* %r: Resources, Priority, None, ... */
};
/* `squeue -h -j JOB -o '%N|%T|%r'`. -ENOENT when Slurm no longer knows the job. */
MF_MUST_CHECK int node_slurm_job_info(const struct node_slurm_opts *o, int64_t job,
                                      struct node_slurm_job *out, struct err *e);
/* Why a job ended, for a cell's error ("Slurm job 12 CANCELLED: cancelled from outside
 * mfbench (scancel) ..."), from `scontrol show job JOB -o` (no accounting: sacct is not
 * there). A job Slurm forgot says so. 0, or negative when scontrol failed. */
MF_MUST_CHECK int node_slurm_end_reason(const struct node_slurm_opts *o, int64_t job, char *out,
                                        size_t n, struct err *e);
/* The text of node_slurm_end_reason from one line of `scontrol show job -o` (pure). */
void node_slurm_end_text(int64_t job, const char *scontrol_line, char *out, size_t n);

/* ---- a command in an allocation ----
 * `srun --jobid=JOB --overlap -N1 -n1 [--cpu-bind=none] --unbuffered -- ARGV...`: its
 * stdin and stdout are pipes the caller holds; its stderr is kept (capped). */
enum { NODE_SLURM_CPU_BIND_NONE = 1u << 0 };
struct node_slurm_step;
/* Starts argv (argv[0] the command, NULL-terminated) in job's allocation, killed after
 * timeout_ms (0: none). *out is freed with node_slurm_step_free. */
MF_MUST_CHECK int node_slurm_step_start(const struct node_slurm_opts *o, int64_t job,
                                        const char *const *argv, int64_t timeout_ms, unsigned flags,
                                        struct node_slurm_step **out, struct err *e);
/* The command's stdin (write end; -1 once closed) and stdout (read end). */
int node_slurm_step_stdin(const struct node_slurm_step *s);
void node_slurm_step_close_stdin(struct node_slurm_step *s);
int node_slurm_step_stdout(const struct node_slurm_step *s);
/* Reads stdout into buf, waiting up to wait_ms, keeping stderr drained and the timeout
 * enforced: bytes read (> 0), 0 at end of stdout, -EAGAIN when nothing came in wait_ms,
 * -ETIMEDOUT once the step was killed at its timeout. */
ssize_t node_slurm_step_read(struct node_slurm_step *s, char *buf, size_t n, int wait_ms,
                             struct err *e);
/* For a caller that reads stdout itself (an event loop): drains stderr and enforces
 * the timeout; never blocks. */
void node_slurm_step_pump(struct node_slurm_step *s);
/* Waits for srun to end (stdout is read and dropped if the caller left it): 0 with
 * *status the exit status (128+N when killed by signal N), or -ETIMEDOUT when it was
 * killed at its timeout (*status set too). */
MF_MUST_CHECK int node_slurm_step_wait(struct node_slurm_step *s, int *status, struct err *e);
/* What srun said on stderr so far (capped). */
const char *node_slurm_step_stderr(const struct node_slurm_step *s);
void node_slurm_step_free(struct node_slurm_step *s); /* kills a step still running */

/* ---- release and orphans ---- */
/* `scancel JOB`, bounded; a job that already ended is not an error. */
MF_MUST_CHECK int node_slurm_cancel(const struct node_slurm_opts *o, int64_t job, struct err *e);

struct node_slurm_orphan {
    int64_t job;
    char name[256];
    char state[32];
};
/* This user's jobs whose name starts with prefix (which must start with
 * NODE_SLURM_NAME_PREFIX: mfbench never touches another tool's jobs), from `squeue -h
 * -u USER -o '%i|%j|%T'`. *out is malloc'd (caller frees; NULL when none). */
MF_MUST_CHECK int node_slurm_orphans(const struct node_slurm_opts *o, const char *prefix,
                                     struct node_slurm_orphan **out, size_t *n, struct err *e);

#endif
