/* result.h - plain structs for measured results, shared by runner, store, daemon
 * and cli. They carry no library types so every part can include them. */
#ifndef MFBENCH_RESULT_H
#define MFBENCH_RESULT_H

#include <stddef.h>
#include <stdint.h>

#ifndef MF_MUST_CHECK /* as in common.h, which this header does not need */
#if defined(__GNUC__)
#define MF_MUST_CHECK __attribute__((warn_unused_result))
#else
#define MF_MUST_CHECK
#endif
#endif

/* Failure kinds of a request. FAIL_CLIENT is the load engine's own limit
 * (EMFILE, ENFILE, EADDRNOTAVAIL) and is never blamed on the server. */
enum fail_kind {
    FAIL_CONNECT,
    FAIL_TIMEOUT,
    FAIL_RESET,
    FAIL_STATUS,
    FAIL_BODY,
    FAIL_PROTOCOL,
    FAIL_CLIENT,
    FAIL__COUNT
};
const char *fail_kind_name(enum fail_kind k);

struct latency_ms {
    double mean, p50, p90, p99, p999, max;
};

/* One load phase at a fixed number of users. */
struct phase_result {
    int users;
    double duration_s; /* measured window, warm-up excluded */
    uint64_t requests; /* completed (ok + failed) in the window */
    uint64_t failures; /* sum of failures_by_kind except FAIL_CLIENT */
    uint64_t failures_by_kind[FAIL__COUNT];
    uint64_t bytes_read;
    double rps; /* successful responses per second */
    struct latency_ms latency_ms;
    double offered_rps;       /* what the users could offer; 0 = unbounded */
    uint64_t missed_schedule; /* open loop: sends that could not go out on time */
    double client_cpu_pct;    /* the load engine's user+sys over wall time */
    double server_rss_max_kb, server_rss_mean_kb; /* -1 = not sampled */
    double server_cpu_pct, server_cpu_max_pct;    /* -1 = not sampled */
    int server_threads_max, server_fds_max;       /* -1 = not sampled */
    int load_bound;                               /* server kept up with everything offered */
    int client_bound;                             /* load engine's core > 90% busy */
    char stop_reason[48]; /* criterion that marked this phase failing, "" if it passed */
    /* Appended by the breaking-point search (exec/exec.c). */
    char kind[16];          /* "ladder" | "bisect" | ...; "" = ladder (older rows) */
    int repeat;             /* which search of the cell (0-based) with repeats */
    double sampler_cpu_pct; /* the node sampler's own CPU over the phase; -1 = unknown */
    /* Appended: the phase's row id in the store (0 = not stored / unknown), for
     * store_phase_series_load. Set by store_load_run and by the executor. */
    int64_t id;
    /* Appended: requests outstanding when the phase's time ran out. The phase
     * then waits for them up to the request timeout; those still unanswered
     * are counted as timeout failures. */
    uint64_t in_flight;
    /* Appended: the node during the phase, from /proc/stat on the server's
     * CPUs: steal, and CPU used there by processes other than the server
     * (-1 = unknown). noisy: either over 5%, on the server's CPUs or on the
     * load engine's (client_*, below): the figure is not to be trusted. */
    double steal_pct, neighbour_cpu_pct;
    int noisy;
    /* Appended (SLO capacity): what was intended against what happened, all
     * in the measured window. offered: sends the schedule intended (open
     * loop), or the offered-load model's count (closed loop with think; the
     * sends themselves when the users never think). sent: requests put on the
     * wire. completed: requests that ended, answered or failed (== requests).
     * Latency counts every one of them: a failure at the time it took to fail,
     * and a send still due at the phase's end from its intended time. */
    uint64_t offered, sent, completed;
    uint64_t unsent_due; /* open loop: sends due in the window never sent */
    uint64_t over_bound; /* requests slower than bound_ms, failures included */
    double bound_ms;     /* the latency bound this phase was judged by; 0 = none */
    uint64_t seed;       /* the arrivals' and thinks' seed: the run replays */
    char arrivals[8];    /* "poisson" | "uniform" | "" (closed loop) */
    /* connections_max: the most connections open at once, over the whole
     * phase (warm-up and ramp included). connect_failures: connects
     * refused, reset or timed out over the WHOLE phase, warm-up included
     * (unlike the request counts above, which are the window's): the ramp
     * is in the warm-up and a refused connect there is a failure of the
     * level. Also a fresh connection the server dropped before its first
     * answer, and the client's own limits (FAIL_CLIENT). retries: GETs
     * resent once on a fresh connection because a kept-alive connection's
     * idle close crossed them (no byte of the answer), whole phase. */
    uint64_t connections_max;
    uint64_t connect_failures;
    uint64_t retries;
    int stopped_early; /* an SLO probe ended early: it could not pass */
    /* Appended (figures): the share of a figure this phase was run at (load
     * points: % of the SLO capacity or of the peak), 0 when none. */
    double pct_of;
    /* Appended (issue 21): the load engine's side during the phase, from
     * /proc/stat of the machine it runs on, on the load CPUs (load.cpus; -1 =
     * unknown, as when load.cpus is not set): steal, and CPU used there by
     * processes other than mfbench. noisy above is set from either side. */
    double client_steal_pct, client_neighbour_cpu_pct;
    /* Appended (issue 24): the answers the engine sampled during the phase and
     * checked by the payload's rule afterwards (run_opts.check), and how many
     * of those were wrong (each also a body failure); 0 and 0 without a rule. */
    uint64_t verified_sampled, verified_wrong;
    /* Appended (issue 24): the run's own PostgreSQL (its postmaster and every
     * child of it, summed) over the same window as server_*, on a database
     * payload with a local database: mean and highest one-second CPU (% of one
     * CPU), highest RSS (-1 = not sampled). It is part of the system under
     * test, not a neighbour. db_bound: its mean CPU reached DB_BOUND_PCT (90%)
     * of the CPUs it may use (database.cpus, or all the node's when unpinned):
     * the database, not the server, was the limit. */
    double db_cpu_pct, db_cpu_max_pct, db_rss_max_kb;
    int db_bound;
};

/* Latency at load: an open-loop phase at a share of the cell's measured peak,
 * coordinated-omission free (latency from the intended send time). */
struct load_point {
    double pct_of_peak; /* 50, 90 (of the peak, or of slo.rps when pct_of_slo) */
    double offered_rps; /* the rate asked for */
    double rps;         /* achieved */
    struct latency_ms latency_ms;
    uint64_t failures;
    /* Appended: the point is a share of the SLO capacity (1) or of the
     * closed-loop peak (0); what was intended against what completed. */
    int of_slo;
    uint64_t offered, completed, in_flight;
};
#define CELL_MAX_LOAD_POINTS 4

/* SLO capacity: the highest open-loop Poisson rate whose probe passed every
 * rule (p99 within bound_ms by the early-stopping rule, failures within the
 * limit, no backlog, the engine on schedule), confirmed by a full-length
 * probe. rps < 0: not measured. limit: what stopped the search above rps
 * ("latency", "failures", "backlog": measured; "client", "max": rps is a lower
 * bound). latency_ms: the confirming probe's. */
struct cell_slo {
    double bound_ms;
    double rps;
    double bracket_lo, bracket_hi; /* the last passing and the lowest failing rate */
    char limit[16];
    struct latency_ms latency_ms;
    int probes;
    double resolution_pct; /* the search's resolution (the band it promises) */
    double failures_pct;   /* the failure limit it judged by */
};
#define CELL_MAX_SLO 4

enum cell_status {
    CELL_OK,
    CELL_FAILED,
    CELL_ERROR,
    CELL_SKIPPED,
    CELL_CANCELLED,
    CELL_INTERRUPTED,
    CELL_RUNNING,
    CELL__COUNT
};
const char *cell_status_name(enum cell_status s);
MF_MUST_CHECK int cell_status_parse(const char *s, enum cell_status *out);

struct cell_result {
    int64_t id;
    char framework[64];
    char payload[64];
    enum cell_status status;
    char *error;         /* NULL when none; owned */
    char *versions_json; /* JSON object text, e.g. {"python":"3.11.2"}; owned; may be NULL */
    int capacity_users;  /* -1 = null */
    int breaking_users;  /* -1 = null */
    double peak_rps;
    struct phase_result *phases; /* owned */
    size_t nphases, phases_cap;
    /* Appended: repeats of the search and their summary (-1 = null). With
     * repeats, capacity_users/breaking_users/peak_rps are those of the median
     * repeat (lower median for an even count). */
    int repeats; /* searches run (0 when none ran) */
    double capacity_median, capacity_iqr, capacity_min, capacity_max;
    double peak_rps_median, peak_rps_iqr, peak_rps_min, peak_rps_max;
    double peak_rps_spread;  /* (max - min) / median of peak req/s over the repeats */
    int peak_rps_load_bound; /* the phase of peak_rps was load_bound: it measured the load shape */
    char note[256];          /* why a result is qualified (e.g. client bound), "" when none */
    /* Appended: the two numbers per cell. load_points: latency at shares of
     * the peak. held_users: most users of the think-time model held without
     * failure (-1 = not measured); held_limit: "server", or what limited the
     * client ("descriptors", "ports", "max"), "" when not measured. */
    struct load_point load_points[CELL_MAX_LOAD_POINTS];
    int nload_points;
    int held_users;
    char held_limit[32];
    /* Appended: the server setting held users stopped at, "waitress
     * connection_limit 100" (frameworks.NAME.limits.connections, when held_limit
     * is server and the level is within the search's resolution of it); "". */
    char held_setting[96];
    /* Appended: SLO capacity, one per bound (the first is the headline); nslo
     * = 0 when the profile has no slo. */
    struct cell_slo slo[CELL_MAX_SLO];
    int nslo;
    /* The closed-loop peak over passing search phases only (-1 = none passed). */
    double peak_rps_passing;
    /* Appended (issue 23): the node the cell ran on when it had one of its own (a
     * Slurm allocation): its name and the Slurm job id; "" and 0 on the run's node. */
    char node_host[256];
    int64_t slurm_job_id;
    /* Appended (issue 23): that node's fingerprint, a JSON object {cpu_model, cpus, kernel,
     * governor, python, loadavg} as its run_start said it; "" on the run's node. */
    char node_fingerprint[1024];
};

struct run_record {
    int64_t id;
    char started_at[32], finished_at[32];
    char trigger[16]; /* cli | nightly | daemon */
    char status[16];  /* running | ok | failed | interrupted | cancelled */
    char profile[64];
    char matrix_sha256[65];
    char node_host[256], node_cpus[64], node_kernel[256];
    /* Appended: the node's fingerprint (a change explains a difference).
     * node_cpu_count and node_loadavg: -1 = unknown. */
    char node_cpu_model[128];
    int node_cpu_count;
    char node_governor[32]; /* cpufreq governor of the server's CPU, "" = not readable */
    char node_python[32];   /* the node's python version */
    double node_loadavg;    /* 1-minute load average when the run started */
    /* What the run's profile asked for, as cfg_settings_describe writes it
     * ("" for runs stored before schema v5). */
    char settings[1024];
    struct cell_result *cells; /* owned */
    size_t ncells;
};

/* A phase of the throughput search (kind ladder or bisect), as opposed to a
 * latency-at-load point ("load") or a held-users level ("held"). */
int phase_in_search(const struct phase_result *p);

/* The closed-loop peak of passing phases: per search (repeat), the highest
 * req/s of its search phases that passed; the median over searches (the mean
 * of the two middle ones for an even count). -1 when no search phase passed. */
double cell_peak_passing(const struct cell_result *c);

/* The phase at capacity, whose latency history and the seed's tables show:
 * the last passing search phase at capacity_users, else the cell's first
 * phase when that is a search phase; NULL when neither (no capacity phase
 * passed and the cell opened with another kind, or it has no phase). */
const struct phase_result *cell_capacity_phase(const struct cell_result *c);

/* Appends a copy of p. 0 or -ENOMEM. */
MF_MUST_CHECK int cell_result_add_phase(struct cell_result *c, const struct phase_result *p);
void cell_result_free(struct cell_result *c); /* frees members, not c itself */
void run_record_free(struct run_record *r);   /* frees members and cells */
void phase_result_init(struct phase_result *p);

#endif
