/* exec_int.h - what the executor's files share (exec.c: provisioning, the
 * server, one phase and the throughput search; figures.c: SLO capacity,
 * latency at load and held users, measured after the search; worst.c: how
 * long all of it can take). Private to exec/. */
#ifndef MFBENCH_EXEC_INT_H
#define MFBENCH_EXEC_INT_H

#include "exec.h"
#include "search.h"
#include "slo.h"

struct cell_paths {
    char dir[1024]; /* the app's folder on the node */
    char venv[1024];
    char python[1100]; /* the venv's python */
    char pidfile[1024];
    char logfile[1024];
    char samples[1024];
};

/* Everything one cell's phases share. */
struct cell_ctx {
    struct exec_run *x;
    const struct cfg_framework *fw;
    const struct cfg_payload *pl;
    const char *body; /* the exact expected body (the payload's, or its body_file's), or NULL */
    size_t body_len;
    struct cfg_settings st;
    struct cell_paths p;
    struct node_server srv;
    const char *cmd;
    char url[1200];
    int server_up, need_start;
    int db_checked;           /* a database payload's verification burst passed */
    struct node_db_rule rule; /* a database payload's rule for the probe */
    int seq;                  /* phase index in the cell, over all repeats */
    int repeat;               /* current search */
    struct err cerr;
};

/* One phase's load shape: the search's levels use the cell's settings; the
 * SLO probes, the load points and the held users set their own. */
struct phase_spec {
    int users;
    double rate; /* > 0: open loop */
    struct cfg_think think;
    int64_t duration_ms, warmup_ms;
    double spawn_rate;
    /* An SLO probe: judged by slo_judge against this plan (bound, early stop)
     * instead of the search's stop rules; NULL otherwise. */
    const struct slo_plan *slo;
    double pct_of; /* stored with the phase (load points: % of slo.rps or of the peak) */
    /* > 0: a held level, judged by search_held_fails against this p99 instead
     * of the search's stop rules. */
    double held_p99_ms;
};

/* ---- the timeouts the executor gives the node (worst.c adds them up) ---- */

/* A server gets SIGTERM, then SIGKILL this long after (node_server_stop). */
#define EXEC_STOP_GRACE_MS 5000
/* A venv built by pip (no system site packages) may compile: at least this long. */
#define EXEC_PIP_TIMEOUT_MS 600000
/* `app.py --versions` at most this long (or node.command_timeout when shorter). */
#define EXEC_VERSIONS_TIMEOUT_MS 60000
/* The readiness timeout when the settings have none. */
#define EXEC_READY_DEFAULT_MS 30000
/* The executor's own commands (node facts, the sampler's start and finish):
 * node.command_timeout, else 120 s. */
int64_t exec__cmd_timeout_ms(const struct cfg_node *nc);
/* The venv's command: the command timeout, at least EXEC_PIP_TIMEOUT_MS when pip builds it. */
int64_t exec__pip_timeout_ms(const struct cfg_matrix *m, const struct cfg_framework *fw);
int64_t exec__versions_timeout_ms(const struct cfg_node *nc);
/* Whether the framework's venv sees the node's packages (its own choice, else the node's). */
int exec__site_packages(const struct cfg_matrix *m, const struct cfg_framework *fw);
static inline int64_t exec__ready_timeout_ms(const struct cfg_settings *st)
{
    return st->ready_timeout_ms > 0 ? st->ready_timeout_ms : EXEC_READY_DEFAULT_MS;
}
/* The throughput search's plan from the cell's settings. */
void exec__plan_of(const struct cfg_settings *st, struct search_plan *p);

void exec__logf(struct exec_run *x, int level, const char *fw, const char *pl, const char *fmt, ...)
    MF_PRINTF(5, 6);
/* The search's phase shape at `users` from the cell's settings. */
void exec__spec_of(const struct cfg_settings *st, int users, struct phase_spec *ps);
/* Runs, samples, classifies, stores and reports one phase. Returns a
 * search_outcome (SEARCH_PASS, SEARCH_FAIL, SEARCH_CLIENT_FAIL, SEARCH_END;
 * the phase in *out when out is not NULL), or a negative code (e set) when
 * the store failed. */
int exec__run_phase(struct cell_ctx *k, struct cell_result *c, const struct phase_spec *ps,
                    const char *kind, double *rps, int *load_bound, struct phase_result *out,
                    struct err *e);

/* The SLO search's plan for one bound, from the profile's slo settings. */
void exec__slo_plan_of(const struct cfg_settings *st, int64_t bound_ms, struct slo_plan *p);
/* An SLO probe is repeated at the same rate at most this many times per search
 * when it was inconclusive with the engine's CPUs shared (exec__slo_shared);
 * then the search stops (limit client). exec/worst.c counts them. */
#define EXEC_SLO_SHARED_RETRIES 2
/* 1 when a probe's engine was not busy itself (not client-bound, no failure
 * on its own limits) while steal or other processes took over NOISY_PCT of
 * its CPUs: an inconclusive outcome is the neighbours', not the rate's. */
int exec__slo_shared(const struct phase_result *ph);
/* figures.c: each returns 0, or a negative store error. */
int exec__run_slo(struct cell_ctx *k, struct cell_result *c, struct err *e);
int exec__run_load_points(struct cell_ctx *k, struct cell_result *c, struct err *e);
int exec__run_held(struct cell_ctx *k, struct cell_result *c, struct err *e);
/* The held search's resolution when the profile gives none (refine: 0). */
#define EXEC_HELD_REFINE_PCT 5.0
void exec__held_plan_of(const struct cfg_settings *st, struct search_plan *p);
/* The sustainable throughput the later figures are measured against: the SLO
 * capacity when measured, else the closed-loop peak of passing phases (-1). */
double exec__sustainable_rps(const struct cell_result *c);

/* ---- the database payloads (db.c) ---- */

/* Requests of a cell's verification burst, each checked by the payload's rule while
 * pg_stat_statements counts the statements they make. */
#define EXEC_DB_BURST 20
/* The run's database: started at the first call (node_pg_start, the Fortune rows read); 0 when
 * up, else -1 with *why (static in x, the same for every later database cell). */
int exec__db_ready(struct exec_run *x, const char **why);
/* Stops it (when ours) and frees what the run kept; exec_run_close calls it. */
void exec__db_stop(struct exec_run *x);
/* Appends " --db-dsn 'DSN' --db-pool N" to a start command. -EINVAL when the database is not
 * up, -ENOMEM. */
int exec__db_start_args(const struct exec_run *x, struct buf *cmd);
/* The run's database as the sampler follows it: the postmaster's pid (0 when the database is
 * not up, or not ours: provision dsn runs elsewhere), the CPUs it is pinned to into *cpus ("" =
 * not pinned; static in x) and how many it may use into *ncpus (0 = unknown). */
long exec__db_watch(const struct exec_run *x, const char **cpus, int *ncpus);
/* The payload's rule for node_db_check (the fortunes page from the run's database). */
void exec__db_rule(const struct exec_run *x, const struct cfg_payload *pl, struct node_db_rule *r);
/* The verification burst on a ready server: EXEC_DB_BURST answers checked by the rule, and
 * with pg_stat_statements at least EXEC_DB_BURST x N statements reading the payload's table.
 * 0, or -1 with why ("cached or batched: 20 requests of /queries?queries=20 made 41 queries,
 * want 400"). */
int exec__db_burst(struct cell_ctx *k, struct cell_result *c, char *why, size_t n);

#endif
