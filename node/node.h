/* node.h - the node: where framework servers run. A transport (local, or ssh via
 * libssh2) runs commands with a timeout and puts files into the workdir; on top
 * of it the server lifecycle (start in its own process group with raised
 * ulimit and pinned CPUs, stop by group), the /proc sampler and the readiness
 * probe (libcurl).
 * Only node/transport_ssh.c includes libssh2.h; only node/probe.c curl.h. */
#ifndef MFBENCH_NODE_H
#define MFBENCH_NODE_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "common.h"
#include "config.h"

/* ---- transport ---- */

struct node;

/* A transport is a tiny vtable; node_open() picks one from cfg->transport. */
struct node_ops {
    const char *name;
    /* Runs `cmd` with /bin/sh -c on the node. Output (stdout and stderr merged)
     * goes into out (may be NULL), capped by out->max. *status gets the exit
     * status (128+signal when killed). After timeout_ms the command is killed
     * and -ETIMEDOUT returned. */
    int (*exec)(struct node *n, const char *cmd, int64_t timeout_ms, struct buf *out, int *status,
                struct err *e);
    /* Writes `len` bytes to remote_path (mode is applied), creating it. */
    int (*put_file)(struct node *n, const char *remote_path, const void *data, size_t len, int mode,
                    struct err *e);
    void (*close)(struct node *n);
    /* Like exec, with `in` (in_len bytes, may be NULL/0) written to the
     * command's stdin, then EOF. Used for tar streams and put_file. */
    int (*exec_in)(struct node *n, const char *cmd, const void *in, size_t in_len,
                   int64_t timeout_ms, struct buf *out, int *status, struct err *e);
    /* Resolves the workdir on the node (path NULL or "": the per-user default, see
     * node_workdir_open), creates what is missing of it and of node__workdir_subdirs
     * (mode 0700) and checks them; the absolute path into out. */
    int (*workdir)(struct node *n, const char *path, char *out, size_t outn, struct err *e);
};

struct node {
    const struct node_ops *ops;
    const struct cfg_node *cfg; /* borrowed; must outlive the node */
    char host[256];             /* address load goes to */
    uint64_t bytes_uploaded;    /* counters for tests and logs */
    uint64_t files_uploaded;
    char workdir[1024]; /* set by node_workdir_open(); "" before */
    void *impl;
};

/* Opens the transport (ssh: connects, checks the host key against known_hosts,
 * authenticates with the identity). -ECONNREFUSED/-ETIMEDOUT/-EACCES/-EPERM
 * with a message naming the host; a host key that is unknown or changed is
 * -EPERM and the message names the host and the SHA256 fingerprint.
 * *out is freed with node_close(). */
MF_MUST_CHECK int node_open(const struct cfg_node *cfg, struct node **out, struct err *e);
void node_close(struct node *n);
MF_MUST_CHECK int node_exec(struct node *n, const char *cmd, int64_t timeout_ms, struct buf *out,
                            int *status, struct err *e);
/* node_exec with `in` fed to the command's stdin. */
MF_MUST_CHECK int node_exec_stdin(struct node *n, const char *cmd, const void *in, size_t in_len,
                                  int64_t timeout_ms, struct buf *out, int *status, struct err *e);
/* Runs cmd and fails (-EIO with the output's last lines) unless it exits 0. */
MF_MUST_CHECK int node_exec_ok(struct node *n, const char *cmd, int64_t timeout_ms, struct buf *out,
                               struct err *e);

/* Copies the local folder `local_dir` into `remote_dir` on the node (created),
 * skipping the upload when the tree's hash equals the one recorded on the node
 * in remote_dir/.mfbench-tree-sha256. __pycache__ and dot files are skipped.
 * *uploaded is set to 1 when files were sent. */
MF_MUST_CHECK int node_sync_tree(struct node *n, const char *local_dir, const char *remote_dir,
                                 int *uploaded, struct err *e);

/* The workdir: where targets, virtual environments, logs and pid files live on the node.
 * Resolves cfg_workdir, or when it is NULL or "" the per-user default: local node:
 * $STATE_DIRECTORY/node (the systemd service's own state folder), else
 * $XDG_RUNTIME_DIR/mfbench/node when that variable names a folder of ours that no one
 * else may write, else $HOME/.cache/mfbench/node; ssh node: $HOME/.cache/mfbench/node
 * of the ssh user, expanded on the node. Creates what is missing (mode 0700), then
 * refuses (-EPERM, the message naming the folder, its owner and mode) a workdir, or one
 * of the folders mfbench makes in it, that is a symbolic link, is not owned by the user
 * mfbench runs as (the ssh user on an ssh node) or may be written by group or others,
 * and a workdir below a folder that another user than root owns or may write (unless
 * sticky, as /tmp). Done once per node: later calls return the first answer. */
MF_MUST_CHECK int node_workdir_open(struct node *n, const char *cfg_workdir, struct err *e);
/* The workdir node_workdir_open() resolved ("" before). */
const char *node_workdir(const struct node *n);
/* The folders mfbench makes in the workdir and checks with it. */
extern const char *const node__workdir_subdirs[];
/* Internal: the name of a temporary beside path for put_file ("DIR/.BASE.XXXXXX"). */
MF_MUST_CHECK int node__tmp_template(const char *path, char *out, size_t n);

/* ---- how long the node's calls can take (the worst case's parts) ---- */

/* The timeout the node's own calls give one command (node.command_timeout,
 * else 60 s): node_server_start, node_port_listener, node_server_alive,
 * node_server_log_tail, node_sync_tree (two commands), an ssh put_file and
 * workdir. */
int64_t node_cmd_timeout_ms(const struct cfg_node *cfg);
/* The longest a command run with timeout_ms holds its caller on cfg's
 * transport: the timeout, then the transport's end of a command that outlived
 * it (local: SIGTERM to its group, 1 s, SIGKILL; ssh: the node's own
 * `timeout -k 2`, then the channel's close). */
int64_t node_cmd_max_ms(const struct cfg_node *cfg, int64_t timeout_ms);
/* node_open, node_workdir_open and node_close at their longest: ssh: connect,
 * handshake and authentication, each up to min(command_timeout, 10 s), the
 * workdir's command and the disconnect; local: 0 (no command runs). Name
 * resolution is not bounded by mfbench. */
int64_t node_session_max_ms(const struct cfg_node *cfg);
/* One put_file at its longest (ssh: a command; local: 0, a local write). */
int64_t node_put_file_max_ms(const struct cfg_node *cfg);
/* node_sync_tree at its longest: the hash read and the upload. */
int64_t node_sync_tree_max_ms(const struct cfg_node *cfg);

/* Internal: what each transport takes past a command's timeout, in ms. */
int64_t node__local_after_timeout_ms(int64_t timeout_ms);
int64_t node__ssh_after_timeout_ms(int64_t timeout_ms);
int64_t node__ssh_session_ms(const struct cfg_node *cfg);

/* Internal: the transports' constructors, called by node_open(). */
MF_MUST_CHECK int node__open_local(const struct cfg_node *cfg, struct node *n, struct err *e);
MF_MUST_CHECK int node__open_ssh(const struct cfg_node *cfg, struct node *n, struct err *e);
/* Internal: the timeout for one command (cfg->command_timeout_ms, else 60 s). */
int64_t node__cmd_timeout(const struct node *n);
/* Transports: appends a command's output up to out->max (64 MiB when 0); the
 * excess is dropped, as node_exec promises (out may be NULL). */
void node__out_append(struct buf *out, const char *p, size_t n);

/* ---- server lifecycle ---- */

struct node_server {
    long pid; /* process group leader; 0 when not running */
    char pidfile[512];
    char logfile[512];
    int64_t nofile;    /* effective ulimit -n */
    char warning[256]; /* e.g. nofile clamped to the hard limit; "" when none */
};

/* What the start script reports on a line of its own, "mfbench-start pid=N nofile=N
 * hard=N|unlimited notaskset=0|1", so that other lines a node's shell prints (a motd, a
 * stray "pid=1") cannot be taken for it. */
struct node__start_report {
    int64_t pid, nofile;
    int64_t hard;  /* -1: unlimited */
    int notaskset; /* 1: taskset was not found, the server is not pinned */
};
/* Internal: parses the last such line of out into r. 0, or -EPROTO when there is none or
 * its pid or nofile is missing or malformed. */
MF_MUST_CHECK int node__parse_start(const char *out, struct node__start_report *r);

/* Starts `cmd` (already expanded) on the node: cwd `dir`, own session/process
 * group (setsid), `ulimit -n` raised to nofile (clamped to the hard limit, with
 * srv->warning saying so), pinned to `cpus` with taskset (NULL/"" = no pin),
 * stdout+stderr to `logfile`, pid written to `pidfile`. */
MF_MUST_CHECK int node_server_start(struct node *n, const char *cmd, const char *dir,
                                    const char *cpus, int64_t nofile, const char *pidfile,
                                    const char *logfile, struct node_server *srv, struct err *e);
/* SIGTERM to the group, SIGKILL after grace_ms, waits until no process of the
 * group is left; removes the pid file. Safe to call when not running. */
MF_MUST_CHECK int node_server_stop(struct node *n, struct node_server *srv, int64_t grace_ms,
                                   struct err *e);
/* Stops a server left by an earlier process, from its pid file. *found = 1 if one was running. */
MF_MUST_CHECK int node_server_stop_pidfile(struct node *n, const char *pidfile, int64_t grace_ms,
                                           int *found, struct err *e);
/* node_server_stop and node_server_stop_pidfile with grace_ms at their longest:
 * the command's timeout (grace_ms + 15 s + command_timeout / 4, over the stop
 * script's grace, then up to 10 s after SIGKILL for the group and as long for
 * processes that left it) and the transport's end of it. */
int64_t node_server_stop_max_ms(const struct cfg_node *cfg, int64_t grace_ms);
/* 1 when the group still has a process, 0 when not, negative on error. */
MF_MUST_CHECK int node_server_alive(struct node *n, const struct node_server *srv, struct err *e);
/* Whether a socket on the node already listens on TCP `port` (any address,
 * IPv4 or IPv6): checked before a server starts, because a process already
 * there would answer the probe and the load in the server's place. 0 = none;
 * 1 = one does, described in who ("127.0.0.1:8000, uid 1000, pid 4242
 * (python3)"); negative on a transport failure. */
MF_MUST_CHECK int node_port_listener(struct node *n, int port, char *who, size_t who_len,
                                     struct err *e);
/* Internal: the description of the script's "listener=..." line, as above. */
MF_MUST_CHECK int node__parse_listener(const char *out, int port, char *who, size_t who_len);
/* Last `lines` lines of the server's log into out. */
MF_MUST_CHECK int node_server_log_tail(struct node *n, const struct node_server *srv, int lines,
                                       struct buf *out, struct err *e);

/* ---- the node's PostgreSQL (pg.c) ---- */

/* The database the payloads talk to: a private cluster of ours (local) or database.dsn. */
struct node_pg {
    int local;         /* 1: provision local (ours to stop); 0: provision dsn */
    int claimed;       /* local: WORKDIR/pg/PORT is ours (node_pg_stop removes it) */
    int running;       /* local: the postmaster was started and not stopped */
    int port;          /* local: its port on 127.0.0.1 */
    long step_s;       /* each step's timeout (database.start_timeout), seconds */
    int stats;         /* pg_stat_statements is loaded and created in hello_world */
    char bin[256];     /* the node's /usr/lib/postgresql/N/bin (highest N), or psql's folder */
    char top[1024];    /* local: WORKDIR/pg/PORT, the claim (owner, home) */
    char home[1024];   /* local: data/, sock/, postgres.log: top, or when the node's user is root
                        * a folder the postgres user owns (mktemp -d, /tmp/mfbench-pg-PORT.*) */
    char cpus[64];     /* local: where it runs (taskset -c); "" = not pinned */
    long pid;          /* local: the postmaster's pid once started (what the sampler follows) */
    int ncpus;         /* local: the CPUs it may use: cpus's count, or the node's online CPUs
                        * when not pinned; 0 = unknown */
    char dsn[1024];    /* what the servers get (--db-dsn) and psql connects with */
    char warning[256]; /* not pinned, CPUs shared, ...; "" when none */
};

/* Starts the database of m->database on the node (the workdir open): provision local finds the
 * highest /usr/lib/postgresql/N/bin, claims WORKDIR/pg/PORT (database.port, or a free one:
 * probed with node_port_listener; a folder of a live or young cluster is another run's and is
 * never shared), runs initdb (as the postgres user via runuser when the node's user is root, in
 * a folder it owns), writes the matrix's settings (listen_addresses 127.0.0.1, own port and
 * socket folder, pg_stat_statements preloaded when installed), starts it with taskset -c
 * database.cpus (or the CPU cfg_database_cpus picks), creates hello_world, loads schema (a path
 * on the node), creates pg_stat_statements and checks World (10,000 rows) and Fortune (12).
 * provision dsn checks the tables with psql. Every step is bounded by database.start_timeout.
 * Returns 0; -EBUSY (the port is another's), -ETIMEDOUT, or -EIO with PostgreSQL's own message
 * (the tail of its log or psql's output). A failed local start is stopped and removed. owner
 * (may be NULL) is written in the claim: what node_pg_stop_stale finds it by. */
MF_MUST_CHECK int node_pg_start(struct node *n, const struct cfg_matrix *m, const char *schema,
                                const char *owner, struct node_pg *pg, struct err *e);
/* Stops a local cluster (pg_ctl stop -m fast, then -m immediate, then SIGKILL, bounded) and
 * removes its folders. Safe when not started, and for provision dsn (nothing to stop). */
MF_MUST_CHECK int node_pg_stop(struct node *n, const struct cfg_matrix *m, struct node_pg *pg,
                               struct err *e);
/* Stops and removes the local clusters an earlier run of owner left in the workdir (it was
 * killed: its owner, the node's lock key, is held by the caller now). *found: how many. */
MF_MUST_CHECK int node_pg_stop_stale(struct node *n, const struct cfg_matrix *m, const char *owner,
                                     int *found, struct err *e);
int64_t node_pg_stop_stale_max_ms(const struct cfg_matrix *m);
/* Runs one SQL statement with psql on the node against pg->dsn; its unaligned rows
 * (psql -At) into out (may be NULL; capped by out->max, else 1 MiB). -EIO with psql's message. */
MF_MUST_CHECK int node_pg_query(struct node *n, const struct node_pg *pg, const char *sql,
                                struct buf *out, struct err *e);
/* The longest each can hold its caller (worst.c): node_pg_start (every port tried, the stop of
 * a failed one), node_pg_stop, one node_pg_query. */
int64_t node_pg_start_max_ms(const struct cfg_matrix *m);
int64_t node_pg_stop_max_ms(const struct cfg_matrix *m);
int64_t node_pg_query_max_ms(const struct cfg_matrix *m);

/* ---- the database payloads' rules (verify.c; pure) ---- */

#define NODE_PG_WORLD_ROWS 10000
#define NODE_PG_FORTUNE_ROWS 12
#define NODE_FORTUNE_EXTRA "Additional fortune added at request time."

struct node_fortune {
    int id;
    char *message;
};
/* Each returns 0 when the answer passes TechEmpower's rule, else -EPROTO with why (n bytes)
 * saying what is wrong. ctype: the Content-Type (may be NULL). db: application/json, exactly
 * {"id", "randomNumber"}, both integers in 1..10000. queries (and updates): an array of exactly
 * rows such objects. fortunes: text/html; charset=utf-8 and the exact page (the quote spellings
 * HTML reads alike taken as one). */
int node_verify_db(const char *body, size_t len, const char *ctype, char *why, size_t n);
int node_verify_queries(const char *body, size_t len, const char *ctype, int rows, char *why,
                        size_t n);
int node_verify_fortunes(const char *body, size_t len, const char *ctype, const char *page,
                         size_t page_len, char *why, size_t n);
/* TechEmpower's fortunes page for rows plus NODE_FORTUNE_EXTRA (id 0), sorted by message,
 * escaped (& < > " '), into out. 0 or -ENOMEM. */
int node_fortunes_page(const struct node_fortune *rows, size_t nrows, struct buf *out);
/* Parses psql's json_agg of [id, message] pairs into *rows (freed with node_fortunes_free).
 * -EPROTO with e naming what is wrong, -ENOMEM. */
MF_MUST_CHECK int node_fortunes_parse(const char *json, struct node_fortune **rows, size_t *nrows,
                                      struct err *e);
void node_fortunes_free(struct node_fortune *rows, size_t nrows);
/* The rule of one database payload, for probe_expect.check (node_db_check(rule, ...)). */
struct node_db_rule {
    enum cfg_verify verify;
    int queries;      /* queries and updates: the rows each answer has */
    const char *page; /* fortunes: the exact page (node_fortunes_page), or NULL */
    size_t page_len;
    /* Set by node_db_check: the length of the last answer that passed (a fortunes page is
     * the same bytes every time for one server, its quote spelling included). */
    size_t passed_len;
};
int node_db_check(void *rule, const char *body, size_t len, const char *ctype, char *why, size_t n);

/* ---- the sampler ---- */

/* The node-side sampler script: one line per second for a process group,
 * "uptime rss_pages cpu_ticks threads fds self_ticks cpu_total cpu_idle
 * cpu_steal cpu_irq db_ticks db_rss_pages", from /proc; cpu_* are the cumulative
 * jiffies of the server's CPUs in /proc/stat (idle includes iowait, irq softirq;
 * -1 when unreadable); db_* the run's PostgreSQL, its postmaster and every child
 * of it, summed (-1 -1 when the sampler has no database or it is gone). */
extern const char node_sampler_sh[];
/* Writes the script to WORKDIR/sampler.sh (mode 0755). */
MF_MUST_CHECK int node_sampler_install(struct node *n, const char *workdir, struct err *e);
/* Starts WORKDIR/sampler.sh detached for process group pgid, writing
 * samples_path, for at most max_s seconds. cpus: the server's CPU list
 * ("1", "0-3,6"), whose /proc/stat lines are summed; NULL or "" = all CPUs
 * (the aggregate line). db_pid: the run's postmaster (node_pg.pid), whose
 * processes are sampled too; 0 = none. *pid gets its pid (0 = unknown). */
MF_MUST_CHECK int node_sampler_start(struct node *n, const char *workdir, long pgid,
                                     const char *cpus, long db_pid, const char *samples_path,
                                     int64_t max_s, int64_t timeout_ms, long *pid, struct err *e);

/* A phase is noisy when the steal or the neighbours' CPU on the server's CPUs,
 * or on the load engine's, exceeds this share (percent) of those CPUs' time. */
#define NOISY_PCT 5

/* Cumulative jiffies (USER_HZ) of a set of CPUs in /proc/stat: total
 * (user..steal; guest is inside user), idle + iowait, steal, irq + softirq;
 * -1 = unknown (irq alone may be unknown: then counted as busy). */
struct node_cpu_times {
    long long total, idle, steal, irq;
};
/* Pure: the steal and the neighbours' share (percent) of the time of a set of
 * CPUs between two readings a and b; own_ticks (USER_HZ) is the CPU the
 * measured processes used there over the same window, which is not a
 * neighbour's. Busy leaves out irq and softirq time: mostly the kernel
 * carrying the measured processes' own traffic, which no process is charged
 * for. Returns 1 when either share is over NOISY_PCT, 0 when not, -1 (both
 * shares -1) when a reading is unknown or inconsistent. */
int node_cpu_share(const struct node_cpu_times *a, const struct node_cpu_times *b, double own_ticks,
                   double *steal_pct, double *neighbour_pct);
/* Pure: sums the cpuN lines of /proc/stat text for the CPU list cpus ("0",
 * "0-3,6"; NULL or "" = the aggregate "cpu" line) into out. 0, or -ENOENT when
 * no line matched or the list does not parse (then all -1). */
int node_cpu_times_parse(const char *stat_text, const char *cpus, struct node_cpu_times *out);
/* Pure: 1 when CPU lists a and b ("0", "0-3,6") share a CPU; NULL or "" stands
 * for every CPU (not pinned), so it overlaps anything. A list that does not
 * parse overlaps too (the safe side: the database's ticks are not counted as
 * a neighbour's where it may have run). */
int node_cpus_overlap(const char *a, const char *b);
/* Pure: how many CPUs a list names; 0 for NULL, "" or a list that does not parse. */
int node_cpus_count(const char *cpus);
/* node_cpu_times_parse of this machine's /proc/stat: where the load engine
 * runs (sampler_local.c). 0, or a negative code with e set. */
MF_MUST_CHECK int node_cpu_times_read(const char *cpus, struct node_cpu_times *out, struct err *e);

/* A phase's server figures from the samples; -1 = not measured. */
struct node_samples {
    double rss_max_kb, rss_mean_kb; /* over the samples in the window */
    double cpu_pct;                 /* mean over the window, % of one CPU */
    double cpu_max_pct;             /* highest one-second value */
    double sampler_cpu_pct;         /* the sampler's own cost */
    int threads_max, fds_max;
    /* Of the server's CPUs' time over the window: stolen by the hypervisor,
     * and busy with processes other than the server and the sampler (irq and
     * softirq time left out: mostly the server's own traffic). */
    double steal_pct, neighbour_cpu_pct;
    int noisy; /* either over NOISY_PCT; 0 when unknown */
    /* The run's database (the postmaster and its children, summed), over the
     * same window: mean and highest one-second CPU (% of one CPU), highest RSS.
     * -1 when not sampled. */
    double db_cpu_pct, db_cpu_max_pct, db_rss_max_kb;
    /* Its mean CPU (% of one CPU) from the first sample to the last, warm-up
     * included: the load engine's side takes this rate over its own span (the
     * samples, a second apart, miss up to the phase's last second). -1 = unknown. */
    double db_phase_cpu_pct;
};
/* A phase is db_bound when the database's mean CPU over the window reached
 * this share (percent) of the CPUs it may use. */
#define DB_BOUND_PCT 90
/* Pure: 1 when db_cpu_pct (% of one CPU) is at least DB_BOUND_PCT of ncpus
 * CPUs' time; 0 when not or unknown (db_cpu_pct < 0, ncpus < 1). */
int node_db_bound(double db_cpu_pct, int ncpus);
/* Pure: folds the samples text of one run (lines as above; malformed lines
 * skipped; lines without the cpu_* fields leave steal and neighbours unknown,
 * lines without db_* the database's figures) into out, keeping only samples
 * at least warmup_ms after the first (the last warm-up sample is the baseline
 * of the window). page_kb converts rss pages, clk_tck cpu ticks (<= 0: 100).
 * db_shares: the database may run on the server's CPUs (unpinned, or its CPUs
 * overlap them), so its ticks are not a neighbour's there: they are taken out
 * of the neighbours' share like the server's own. NULL text = none. */
void node_sampler_parse(const char *text, int64_t warmup_ms, long page_kb, long clk_tck,
                        int db_shares, struct node_samples *out);
/* Pure: 1 when the sampler's output says it could not sample (a line
 * "error: WHY"), with WHY in msg (n bytes); 0 otherwise. */
int node_sampler_problem(const char *text, char *msg, size_t n);
/* Stops the sampler (pid > 0), reads and removes samples_path, and parses it
 * into out (all -1 when nothing could be read; then the error is returned; an
 * error too when the sampler said it could not sample). */
MF_MUST_CHECK int node_sampler_finish(struct node *n, long pid, const char *samples_path,
                                      int64_t timeout_ms, int64_t warmup_ms, long page_kb,
                                      long clk_tck, int db_shares, struct node_samples *out,
                                      struct err *e);

/* ---- readiness probe (libcurl) ---- */

struct probe_expect {
    const char *body; /* exact body, or NULL */
    size_t body_len;
    int64_t length;           /* exact length, or -1 */
    const char *content_type; /* expected Content-Type prefix, or NULL */
    /* A rule instead of body and length (the database payloads: node_db_check), or NULL:
     * 0 when the answer (status 200, framed) passes, else -EPROTO with why. */
    int (*check)(void *arg, const char *body, size_t len, const char *ctype, char *why, size_t n);
    void *check_arg;
};

/* GETs url every 100 ms until a response verifies (status 200, Content-Type,
 * Content-Length or chunked framing, body byte-exact) or timeout_ms passes.
 * -ETIMEDOUT: "server not ready after Ns" plus the last attempt's outcome;
 * -EPROTO: the server answered but wrongly (message names what differed; it is
 * not retried once a full response arrived `wrong_limit` times in a row).
 * alive_cb, when set, is asked between attempts; returning 0 (server died)
 * ends the wait with -ESRCH. */
MF_MUST_CHECK int probe_wait(const char *url, const struct probe_expect *x, int64_t timeout_ms,
                             const atomic_int *cancel, int (*alive_cb)(void *arg), void *alive_arg,
                             struct err *e);
/* One GET: the status, the Content-Type into ctype (ctype_n bytes; "" when none) and the body
 * into out; -EFBIG past 1 MiB. */
MF_MUST_CHECK int probe_fetch(const char *url, int64_t timeout_ms, long *status, char *ctype,
                              size_t ctype_n, struct buf *out, struct err *e);
/* One GET; body (capped at 1 MiB) into out. */
MF_MUST_CHECK int probe_get(const char *url, int64_t timeout_ms, long *status, struct buf *out,
                            struct err *e);

#endif
