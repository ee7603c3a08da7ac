/* daemon_int.h - mfbenchd's private wiring: the one struct daemon its files share
 * (the loop's handles on the loop thread; the queue, progress and events under mu)
 * and the dmn__ functions they call across each other. Nothing outside daemon/. */
#ifndef MFBENCH_DAEMON_INT_H
#define MFBENCH_DAEMON_INT_H

#include <cjson/cJSON.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/un.h>
#include <uv.h>

#include "common.h"
#include "config.h"
#include "daemon.h"
#include "exec.h"

#define DMN_MAX_EVENTS 4096 /* undelivered event lines kept for the loop */
#define DMN_NRECENT 16      /* finished jobs `status` lists */
/* Control-socket clients: at most DMN_MAX_CLIENTS at once, DMN_MAX_CLIENTS_PER_UID
 * of them from one uid (root included), and a client that has neither completed
 * a request line nor subscribed for DMN_CLIENT_IDLE_TIMEOUT_S seconds is closed. */
#define DMN_MAX_CLIENTS 64
#define DMN_MAX_CLIENTS_PER_UID 16
/* Of DMN_MAX_CLIENTS, kept for root and the daemon's own uid: group members that fill
 * every other slot with quiet subscribers cannot lock the nightly trigger out. */
#define DMN_RESERVED_CLIENTS 1
#define DMN_CLIENT_IDLE_TIMEOUT_S 10
/* After SIGTERM the running job has this long to stop before the forced exit
 * (systemd's TimeoutStopSec, 15 s, is longer). */
#define DMN_STOP_DEADLINE_MS 8000

/* A loaded matrix; jobs hold a reference so SIGHUP can swap it under them. */
struct mref {
    struct cfg_matrix *m;
    int refs;
};

struct recent {
    int64_t job, run;
    char status[16];
};

/* What `status` reports about the running job. */
/* A cell of a job on a Slurm node, in its dispatcher slot (for `status`). */
struct dmn_slurm_cell {
    char cell[DMN_MAX_NAME]; /* "" when the slot is free */
    char state[16];          /* queued, running */
    char host[64];
    int64_t job;
};

struct progress {
    struct dmn_job *job;
    /* On a Slurm node: one per dispatcher slot (owned by the worker; NULL otherwise). */
    struct dmn_slurm_cell *slurm;
    int nslurm;
    int64_t run_id;
    int64_t started_ms;
    size_t cell_index;
    char cell[DMN_MAX_NAME];
    char state[16]; /* preparing, starting, phase, stopping */
    int seq, users, users_started;
    double elapsed_s, duration_s, rps, p99_ms;
    uint64_t requests, failures;
    int cell_levels_done;
    int cell_levels_max;
    /* Each cell's worst case, in the job's order, computed once when the job
     * starts (owned by the worker; NULL when out of memory), and their sum. */
    const double *cell_max_s;
    double job_max_s;
    size_t ok, not_ok;
};

struct client;

struct daemon {
    uv_loop_t loop;
    uv_pipe_t server;
    uv_signal_t sigterm, sigint, sighup;
    uv_async_t wake;
    uv_timer_t watchdog, deadline;
    uv_thread_t worker;
    int worker_started, server_open, shutting;
    uv_handle_t *handles[8]; /* initialised handles but the server: closed at exit */
    size_t nhandles;

    const char *matrix_path; /* NULL = the embedded default */
    char socket_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
    char store_path[4096];
    const char *targets_dir;
    struct store *store; /* the worker's once it runs */

    /* Shared with the worker, under mu. */
    uv_mutex_t mu;
    uv_cond_t cv;
    struct mref *matrix;
    struct dmn_queue queue;
    struct progress prog;
    struct recent recent[DMN_NRECENT];
    size_t nrecent;
    char *events[DMN_MAX_EVENTS];
    size_t nevents;
    int stopping; /* SIGTERM/SIGINT: the running job ends "interrupted" */
    /* The process group of the server the running cell started (0 = none), set by
     * the executor: the forced stop kills it when the node is local. */
    atomic_long server_pgid;
    int worker_done; /* the worker has returned */
    atomic_int cancel;

    /* Loop thread only. */
    struct client *clients;
    size_t nclients;
    uv_timer_t idle_sweep;      /* closes idle clients */
    uint64_t idle_timeout_ms;   /* DMN_CLIENT_IDLE_TIMEOUT_S unless a test set it */
    size_t max_clients_per_uid; /* DMN_MAX_CLIENTS_PER_UID unless a test set it */
    int reloading;              /* a SIGHUP's parse is on the thread pool */
    uint64_t reload_delay_ms;   /* tests: the reload's parse first sleeps this long */
    uint64_t stop_deadline_ms;  /* DMN_STOP_DEADLINE_MS unless a test set it */
};

/* Records a handle uv_*_init() opened, so that dmn__close_all() closes it. */
static inline void dmn__handle_opened(struct daemon *d, uv_handle_t *h)
{
    if (d->nhandles < sizeof(d->handles) / sizeof(d->handles[0]))
        d->handles[d->nhandles++] = h;
}

/* One connection on the control socket (loop thread only). */
struct client {
    uv_pipe_t h;
    uv_shutdown_t shut;
    struct daemon *d;
    struct buf in;
    int subscribed, closing, finishing;
    int refused;       /* over a limit: answered and closing, not counted for its uid */
    long long uid;     /* the peer's (SO_PEERCRED), -1 when unknown */
    uint64_t since_ms; /* uv_now() at accept or at its last complete request line */
    struct client *next, *prev;
};

/* ---- matrix.c: the matrix and its references ---- */

/* Loads path, or the embedded default when path is NULL. */
MF_MUST_CHECK int dmn__load_matrix(const char *path, struct cfg_matrix **m, struct err *e);
/* A reference to the current matrix / drops one (frees the last). Caller holds d->mu. */
struct mref *dmn__mref_get(struct daemon *d);
void dmn__mref_put(struct mref *r);

/* ---- events.c: the log on stderr and events for subscribers ---- */

/* Quotes a value for a key=value line when it needs it (into out, n bytes);
 * never emits a newline. */
const char *dmn__kv(const char *s, char *out, size_t n);
/* Cancels this user's allocations left by an earlier mfbench (jobs named mfbench-RUN-...
 * whose run is not running in the store any more: that process is gone), logging each.
 * Only with a Slurm node. (jobs_slurm.c) */
void dmn__recover_slurm(struct daemon *d);
/* One line on stderr, "<level>" first, in one write(). Any thread. */
void dmn__log(int level, const char *fmt, ...) MF_PRINTF(2, 3);
/* {"event":name,"job":job}, or NULL on ENOMEM. */
cJSON *dmn__event_new(const char *name, int64_t job);
/* o as one line of JSON with its newline (takes o; NULL when out of memory). */
char *dmn__json_line(cJSON *o);
/* Queues o (taken) as a line for subscribers and wakes the loop. Any thread. */
void dmn__post_event(struct daemon *d, cJSON *o);
/* Opens the wake-up handle: it delivers queued events to subscribers and closes
 * the loop once the worker is done. */
MF_MUST_CHECK int dmn__events_init(struct daemon *d, struct err *e);

/* ---- notify.c: systemd's sd_notify ---- */

void dmn__notify(const char *state);
void dmn__notify_status(const char *fmt, ...) MF_PRINTF(1, 2);
/* Opens the watchdog timer and, when systemd's watchdog is enabled, pets it at
 * half its interval. */
MF_MUST_CHECK int dmn__watchdog_start(struct daemon *d, struct err *e);

/* ---- signals.c ---- */

/* Opens the forced-stop timer and starts watching SIGTERM/SIGINT (stop) and
 * SIGHUP (reload). */
MF_MUST_CHECK int dmn__signals_init(struct daemon *d, struct err *e);

/* ---- recovery.c: what an earlier daemon left behind ---- */

/* Marks runs an earlier daemon left running as interrupted (startup). */
MF_MUST_CHECK int dmn__recover_runs(struct daemon *d, struct err *e);
/* Stops a server left on the node (the worker, before its first job). */
void dmn__recover_node(struct daemon *d);

/* ---- jobs.c: the worker thread ---- */

/* Starts the worker thread; it stops a left server, then waits for jobs. */
MF_MUST_CHECK int dmn__worker_start(struct daemon *d, struct err *e);
/* A cell's worst case in seconds (exec_cell_max_s) and, in *levels, its most
 * phases (at least 1: the status's progress divides by it). */
double dmn__cell_worst_s(const struct cfg_matrix *m, const char *profile, const struct cfg_cell *c,
                         int *levels);
/* Each cell's worst case, once per job (returned, caller frees; NULL when out
 * of memory), and the job's (their sum and the run's own steps,
 * exec_run_max_s). With a budget the whole job may not fit in, the
 * job's cells are reordered cheapest worst case first (stable), so the fewest
 * are skipped; the reorder takes d->mu (status reads the running job). The
 * worker only: it is the job's one writer. */
double *dmn__order_for_budget(struct daemon *d, const struct cfg_matrix *m, const char *profile,
                              struct dmn_job *job, double *total_s);
/* Cancels job *id (0 = the running one; *id is then set to its id): the running
 * job is asked to stop, a queued one is dropped and reported cancelled. Sets
 * *was_running. Returns 0, or -ENOENT when there is no such job. */
MF_MUST_CHECK int dmn__job_cancel(struct daemon *d, int64_t *id, int *was_running);

/* ---- socket.c: the control socket and its clients ---- */

/* Binds the control socket (mode 0660), listens and starts the idle sweep. */
MF_MUST_CHECK int dmn__listen(struct daemon *d, struct err *e);
/* Closes the listening socket and removes its file. */
void dmn__stop_listening(struct daemon *d);
/* Sends a line (taken) / a JSON object (taken) plus a newline. */
void dmn__client_send(struct client *c, char *line);
void dmn__send_json(struct client *c, cJSON *o);
/* Sends a copy of line to every subscribed client. */
void dmn__broadcast(struct daemon *d, const char *line);
void dmn__clients_close(struct daemon *d);
/* Closes every handle of the loop and every client, so uv_run returns. */
void dmn__close_all(struct daemon *d);

/* ---- requests.c: one request line ---- */

void dmn__handle_line(struct client *c, const char *line, size_t len);
/* The answer to `status` (NULL when out of memory; caller frees). Caller holds d->mu. */
cJSON *dmn__status_json(struct daemon *d);

#endif
