/* config.h - the matrix: matrix.yaml loaded (libyaml) and validated into plain
 * structs. Only config/ includes yaml.h. Every error carries file:line:col. */
#ifndef MFBENCH_CONFIG_H
#define MFBENCH_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "common.h"

enum cfg_think_kind {
    CFG_THINK_BETWEEN,  /* uniform in [min,max] after each response (Locust `between`) */
    CFG_THINK_CONSTANT, /* always min (Locust `constant`) */
    CFG_THINK_PACING,   /* one request per min per user, whatever the latency (`constant_pacing`) */
};

struct cfg_think {
    enum cfg_think_kind kind;
    int64_t min_ms, max_ms;
};

struct cfg_users {
    int start, step, max;
    int factor; /* > 1: levels grow geometrically (start, start*factor, ...); step unused */
};

/* A phase fails when ANY set criterion holds. */
struct cfg_stop_when {
    int64_t failures; /* failures >= N; 0 = unset */
    double ratio;     /* failures/requests >= r; 0 = unset */
    double p99_ms;    /* p99 >= T; 0 = unset */
};

/* Bits of struct cfg_settings.set: which fields a layer (defaults, profile,
 * framework) gave explicitly. Resolution overlays layers by these bits. */
enum {
    CFG_SET_DURATION = 1u << 0,
    CFG_SET_WARMUP = 1u << 1,
    CFG_SET_SPAWN_RATE = 1u << 2,
    CFG_SET_THINK = 1u << 3,
    CFG_SET_USERS = 1u << 4,
    CFG_SET_STOP_WHEN = 1u << 5,
    CFG_SET_TIMEOUT = 1u << 6,
    CFG_SET_REPEATS = 1u << 7,
    CFG_SET_RATE = 1u << 8,
    CFG_SET_PIPELINE = 1u << 9,
    CFG_SET_REFINE = 1u << 10,
    CFG_SET_READY_TIMEOUT = 1u << 11,
    CFG_SET_SPREAD = 1u << 12,
    CFG_SET_MAX_REPEATS = 1u << 13,
    CFG_SET_CLIENT_BOUND = 1u << 14,
    CFG_SET_LOAD_POINTS = 1u << 15,
    CFG_SET_HELD = 1u << 16,
    CFG_SET_SLO = 1u << 17,
};

/* Bisection is on unless a profile says otherwise (the methodology promises
 * it): the default resolution, as a share of the passing level. */
#define CFG_DEFAULT_REFINE_PCT 5.0
#define CFG_DEFAULT_REFINE "5%"

/* Latency at load: open-loop phases at these shares of the measured peak. */
#define CFG_MAX_LOAD_POINTS 4
struct cfg_load_points {
    int n;
    double pct[CFG_MAX_LOAD_POINTS]; /* each in (0, 100] */
};

/* The concurrency number: the think-time user model at levels start, start *
 * factor, ... up to max, the think stretched so the users never offer more
 * than max_offered_pct of the measured peak; then bisection. A level passes
 * with no failure, no failed connect and p99 <= p99_ms. on = 0: off. */
struct cfg_held {
    int on;
    struct cfg_users users;
    struct cfg_think think;
    int64_t duration_ms, warmup_ms;
    double spawn_rate;
    double max_offered_pct;
    int64_t p99_ms; /* 0 = 4 x slo.bounds_ms[0], or 100 ms without an slo */
};

/* SLO capacity: open-loop Poisson probes searched for the highest rate whose
 * p99 stays within each bound (bounds[0] is the headline). on = 0: off. The
 * probe's shape and the search's rules are search/slo.h's struct slo_plan. */
#define CFG_MAX_SLO_BOUNDS 4
struct cfg_slo {
    int on;
    int nbounds;
    int64_t bounds_ms[CFG_MAX_SLO_BOUNDS];
    double failures_pct;   /* 0.1 */
    double resolution_pct; /* 5 */
    double max_rps;        /* the search's ceiling (a result there is a lower bound) */
    double min_rps;        /* and its floor (nothing passing there: a measured 0) */
    int64_t warmup_ms;     /* 2s */
    int64_t window_min_ms, window_max_ms; /* 8s, 20s */
    int64_t samples;                      /* 20000 */
};

struct cfg_settings {
    unsigned set;
    int64_t duration_ms; /* one load phase, warm-up included */
    int64_t warmup_ms;   /* excluded from statistics; < duration */
    double spawn_rate;   /* users started per second; > 0 */
    struct cfg_think think;
    struct cfg_users users;
    struct cfg_stop_when stop_when;
    int64_t timeout_ms;       /* per request */
    int repeats;              /* >= 1; 0 = auto */
    double rate;              /* open-loop requests per second per phase; 0 = closed loop */
    int pipeline;             /* >= 1 */
    double refine_pct;        /* bisection resolution as % of the level; 0 = no bisection */
    int refine_abs;           /* or as an absolute user count; 0 = unset */
    int64_t ready_timeout_ms; /* readiness probe limit (default 30s) */
    /* repeats: auto stops once the relative spread of peak req/s over the
     * repeats, (max - min) / median, is under spread_pct (default 5), after
     * at least 3 and at most max_repeats (default 5, >= 3) searches. */
    double spread_pct;
    int max_repeats;
    /* A phase whose load engine used more than this % of its core is
     * client_bound (default 90). Hidden knob: tests lower it to provoke one. */
    double client_bound_pct;
    struct cfg_load_points load_points;
    struct cfg_held held;
    struct cfg_slo slo;
};

/* A database payload's rule (TechEmpower's definitions): the answer is checked by it, not
 * byte for byte. CFG_VERIFY_NONE: an ordinary payload (body, body_file or length). */
enum cfg_verify {
    CFG_VERIFY_NONE = 0,
    CFG_VERIFY_DB,       /* {"id":N,"randomNumber":M}, both in 1..10000 */
    CFG_VERIFY_QUERIES,  /* an array of exactly `queries` such objects */
    CFG_VERIFY_FORTUNES, /* the exact fortunes page of the table's rows plus the runtime one */
    CFG_VERIFY_UPDATES,  /* as queries, the rows written back */
};
/* "db", "queries", "fortunes", "updates" ("" for CFG_VERIFY_NONE); static. */
const char *cfg_verify_name(enum cfg_verify v);

struct cfg_payload {
    char *name;
    enum cfg_verify verify; /* CFG_VERIFY_NONE unless a database payload */
    int queries;            /* queries and updates: N of ?queries=N (1..500); else 0 */
    char *path;             /* "/json" */
    char *body;             /* exact expected body, or NULL */
    size_t body_len;
    int64_t length;     /* exact expected length, or -1 */
    char *content_type; /* expected Content-Type prefix, or NULL */
    char *body_file;    /* exact expected body read from this file (relative paths are in the
                           targets/ folder), or NULL; the executor loads it */
    int body_file_line, body_file_col; /* where body_file stands in the matrix (1-based) */
};

/* A server setting that caps connections below the node's limits (issue 20):
 * waitress connection_limit, uvicorn limit_concurrency, ... What a report calls
 * it, and its value: from the matrix (frameworks.NAME.limits.connections, then
 * passed to the server: the built-in targets take --connections N, a start
 * template {connections}), else the server's known default. */
struct cfg_limit {
    char *setting; /* "waitress connection_limit"; NULL when none is known */
    int64_t value; /* the cap; 0 = none (the server's default has none, or unknown) */
    int given;     /* value came from the matrix: it reaches the server's command line */
    int line, col; /* where value stands in the matrix (1-based), 0 when not given */
};

struct cfg_limits {
    struct cfg_limit connections;
};

/* The connection settings mfbench knows for server (NULL: none): the name a
 * report gives it, the server's default (0: no cap) and, when a built-in
 * target cannot pass a value to it, why not. Static. */
struct cfg_known_limit {
    const char *server, *setting;
    int64_t def;
    const char *unsettable;
};
const struct cfg_known_limit *cfg_known_connection_limit(const char *server);

struct cfg_framework {
    char *name;
    char *server; /* werkzeug, gunicorn, uvicorn, ... (informational, selects the start template) */
    int workers;  /* for gunicorn-like servers; >= 1 */
    char *app;    /* targets/ subfolder, default = name */
    char *start;  /* start command template, or NULL for the built-in one of targets/<app>/ */
    char *dir;    /* user's own target folder (uploaded), or NULL; relative to the matrix file */
    int dir_line, dir_col;    /* where dir stands in the matrix (1-based) */
    int system_site_packages; /* -1 = the node's, else an enum cfg_venv */
    struct cfg_limits limits; /* server settings that cap what held users can reach */
    struct cfg_settings over; /* framework-level overrides */
    /* The interpreter (issue 22): the venv is made from python (NULL = node.python), and
     * the cell is skipped before pip when its version does not satisfy requires_python
     * (NULL = any; clauses "OP VERSION" joined by ",", checked by cfg_requires_python_ok). */
    char *python;
    char *requires_python;
};

enum cfg_transport { CFG_TRANSPORT_LOCAL, CFG_TRANSPORT_SSH, CFG_TRANSPORT_SLURM };

/* node.slurm (issue 23): each cell on one whole node that Slurm allocates. */
#define CFG_SLURM_MAX_PARALLEL 1024
#define CFG_SLURM_MAX_ARGS 64
struct cfg_slurm {
    char *partition;       /* salloc -p; NULL: the cluster's default partition */
    int64_t time_limit_ms; /* salloc -t, in whole minutes rounded up (default 30m) */
    int max_parallel;      /* cells at once, 1..CFG_SLURM_MAX_PARALLEL (default 1) */
    char **args;           /* extra salloc arguments, each one argv item (never a shell) */
    size_t nargs;
    char *mfbench; /* the mfbench binary on the nodes; NULL: uploaded */
};

/* How a venv is made (system_site_packages: false | true | with_pip). */
enum cfg_venv {
    CFG_VENV_PIP = 0,        /* isolated: pip installs all of requirements.txt */
    CFG_VENV_SYSTEM = 1,     /* the node's python3-* packages, no pip */
    CFG_VENV_SYSTEM_PIP = 2, /* the node's packages, and pip for the requirements they lack */
};

struct cfg_node {
    enum cfg_transport transport;
    char *host; /* ssh: address; also where load goes (local: 127.0.0.1) */
    int port;   /* ssh port, default 22 */
    char *user;
    char *identity;             /* private key path, ~ expanded */
    char *known_hosts;          /* default ~/.ssh/known_hosts */
    char *workdir;              /* NULL: the per-user default, resolved on the node */
    char *cpus;                 /* server CPUs for taskset, default "1"; NULL/"" = no pinning */
    int64_t nofile;             /* ulimit -n for the server, default 999999 */
    char *python;               /* default /usr/bin/python3 */
    int server_port;            /* port the server listens on, default 8000 */
    char *listen;               /* address the server binds, default = host (local: 127.0.0.1) */
    int system_site_packages;   /* an enum cfg_venv (default CFG_VENV_SYSTEM) */
    int64_t command_timeout_ms; /* limit for one remote command (default 120s) */
    /* node.pip: where a venv without system site packages installs from. */
    char *pip_index_url;    /* pip --index-url, or NULL (pip's default) */
    char *pip_find_links;   /* pip --find-links (a folder or URL), or NULL */
    char *pip_args;         /* extra pip install arguments, split on spaces, or NULL */
    struct cfg_slurm slurm; /* transport slurm only (the loader refuses node.slurm otherwise) */
};

/* database: where the database payloads' PostgreSQL is (issue 24). */
enum cfg_db_provision {
    CFG_DB_LOCAL, /* a private cluster mfbench makes in the node's workdir */
    CFG_DB_DSN,   /* an existing database (dsn) */
};

struct cfg_database {
    enum cfg_db_provision provision;
    char *dsn;                /* provision dsn: "postgresql://..."; else NULL */
    char *cpus;               /* CPUs PostgreSQL is pinned to; NULL = cfg_database_cpus() picks */
    int pool;                 /* connections per server process (--db-pool) */
    int port;                 /* the local cluster's port; 0 = a free one */
    int64_t start_timeout_ms; /* initdb, start, the schema's load, each */
    /* PostgreSQL's settings, stored with the run (cfg_database_describe). */
    char *shared_buffers;     /* "128MB" */
    int max_connections;      /* 100 */
    char *synchronous_commit; /* on | off | local | remote_write | remote_apply */
    char *fsync;              /* on | off */
    int line, col;            /* where the section stands (1-based); 0 when not given */
};

struct cfg_profile {
    char *name;
    struct cfg_settings over;
};

struct cfg_matrix {
    char *path;      /* file name used in messages ("<embedded>" for the default) */
    char *dir;       /* folder of the file, for relative paths; "." when embedded */
    char sha256[65]; /* of the file's bytes */
    /* The file's bytes as loaded (owned, NUL-terminated): cfg_node_matrix rewrites
     * them for a Slurm node. */
    char *text;
    size_t text_len;
    int version;
    struct cfg_node node;
    char *load_cpus; /* CPUs of the load engine, default "0" */
    /* load.source_addrs: the load machine's addresses its connections leave
     * from, as the engine takes them (run_opts.source_addrs): IP literals
     * joined by commas; NULL when not given. */
    char *load_source_addrs;
    struct cfg_settings defaults;
    struct cfg_payload *payloads;
    size_t npayloads;
    struct cfg_framework *frameworks;
    size_t nframeworks;
    struct cfg_profile *profiles;
    size_t nprofiles;
    struct cfg_database database;
    /* The longest a whole-matrix job may take (the nightly's night); 0 =
     * none. The daemon stores the cells that cannot fit as skipped (budget). */
    int64_t budget_ms;
};

/* A matrix cell: indexes into frameworks and payloads. */
struct cfg_cell {
    size_t framework, payload;
};

/* The default matrix compiled into the binary (the repository's matrix.yaml). */
extern const char cfg_default_matrix[];

/* Loads and validates. On success *out is a new matrix the caller frees with
 * cfg_free(). On failure returns -EINVAL (invalid input, e has file:line:col),
 * -ENOENT (missing file) or -ENOMEM. */
MF_MUST_CHECK int cfg_load_file(const char *path, struct cfg_matrix **out, struct err *e);
/* Same for text in memory; name is used in messages. */
MF_MUST_CHECK int cfg_load_string(const char *name, const char *text, size_t len,
                                  struct cfg_matrix **out, struct err *e);
void cfg_free(struct cfg_matrix *m);

/* Where mfbench reads a payload's body_file: as written when absolute (or when there is no
 * targets_dir), else in targets_dir. Where a framework's dir is on this machine: as written
 * when absolute, else beside the matrix file. Both write out (cut to n) and return it. */
const char *cfg_body_file_path(const struct cfg_payload *p, const char *targets_dir, char *out,
                               size_t n);
const char *cfg_framework_dir_path(const struct cfg_matrix *m, const struct cfg_framework *fw,
                                   char *out, size_t n);

/* What the loader cannot see in the text: every payload's body_file is a regular file
 * mfbench can open, at most MF_MAX_BODY_BYTES long, and every framework's dir a folder
 * it can open, as a run reads them. Relative body files are looked up in targets_dir,
 * and not checked when it is NULL. Returns 0, or -EINVAL with e at the value's
 * FILE:LINE:COL. */
MF_MUST_CHECK int cfg_check_files(const struct cfg_matrix *m, const char *targets_dir,
                                  struct err *e);

/* What cfg_node_matrix changes: the matrix a cell runs with on its Slurm node. */
struct cfg_node_rewrite {
    const char *workdir;   /* node.workdir there (absolute or ~/PATH) */
    const char *cpus;      /* node.cpus there (machine CPU numbers); "" = no pinning */
    const char *load_cpus; /* load.cpus there; "" = none */
    int server_port;       /* node.server_port there */
};
/* m's text with its node made a local one for a cell that runs on the node itself
 * (`mfbench run -m -` in a Slurm allocation): node.transport local, the ssh and slurm
 * keys, host and listen dropped, workdir, cpus and server_port replaced, load.cpus
 * replaced, and every frameworks.NAME.dir made absolute (the node reads it where this
 * machine does: a shared filesystem). The rest as written. *out is malloc'd
 * (caller frees), NUL-terminated, its length in *len. The text is loaded again to
 * check it: -EINVAL with e naming the problem, or -ENOMEM. */
MF_MUST_CHECK int cfg_node_matrix(const struct cfg_matrix *m, const struct cfg_node_rewrite *rw,
                                  char **out, size_t *len, struct err *e);

/* The placeholders of a start template ("python", "dir", ...), NULL-terminated. */
extern const char *const cfg_start_placeholders[];

/* Checks start template t: every '{' opens a known placeholder closed by '}', and none
 * stands inside '...' or "..." (mfbench single-quotes every value: inside double quotes
 * those single quotes are literal and $(...) in the value would run). Returns 0, or
 * -EINVAL with msg set ("{workdir} inside quotes: ...") and *at the byte offset of the
 * offending '{' in t. */
int cfg_start_check(const char *t, size_t *at, char *msg, size_t n);

/* One clause of frameworks.NAME.requires_python: "<=3.7" is {"<=", {3, 7}, 2}. A version is
 * compared on as many parts as the clause gives, so "<=3.7" admits 3.7.17. */
#define CFG_PY_MAX_CLAUSES 4
struct cfg_py_clause {
    char op[3]; /* "<=", "<", ">=", ">", "==", "!=" */
    int v[3];
    int nv; /* 1..3 */
};
/* Parses spec ("<=3.7", ">=3.6, <3.8"; spaces allowed around each clause) into out (at
 * most CFG_PY_MAX_CLAUSES). Returns the number of clauses, or -EINVAL with msg set. */
int cfg_requires_python_parse(const char *spec, struct cfg_py_clause *out, char *msg, size_t n);

const struct cfg_framework *cfg_find_framework(const struct cfg_matrix *m, const char *name);
const struct cfg_payload *cfg_find_payload(const struct cfg_matrix *m, const char *name);
const struct cfg_profile *cfg_find_profile(const struct cfg_matrix *m, const char *name);

/* The p99 a held level must stay within: held.p99, else 4 x the headline SLO
 * bound (slo.bounds_ms[0]), else 100 ms. */
int64_t cfg_held_p99_ms(const struct cfg_settings *s);

/* Whether payload p is a database payload (verify set). */
static inline int cfg_payload_is_db(const struct cfg_payload *p)
{
    return p->verify != CFG_VERIFY_NONE;
}
/* Whether any payload of m is one: the run needs the database. */
int cfg_has_db_payload(const struct cfg_matrix *m);

/* The CPUs PostgreSQL runs on for a node with CPUs 0..ncpus-1 (ncpus <= 0: unknown): database.cpus
 * when given; else the lowest CPU that is neither node.cpus nor (local node) load.cpus; else ""
 * (no pinning: shared with the server and the load), and *shared = 1 (warn). Into out. */
void cfg_database_cpus(const struct cfg_matrix *m, int ncpus, char *out, size_t n, int *shared);

/* One line of the database settings, stored with the run: "postgresql local, pool 4,
 * shared_buffers=128MB max_connections=100 synchronous_commit=off fsync=on" (dsn: "postgresql
 * dsn, pool 4" and no server settings: they are the lab's). Cut at n. */
void cfg_database_describe(const struct cfg_database *d, char *out, size_t n);

/* Effective settings of a framework under a profile (profile may be NULL):
 * built-in defaults < matrix defaults < profile < framework. Returns -EINVAL
 * with a message for an unknown profile or a combination that is invalid
 * (e.g. warmup >= duration after overlaying). */
MF_MUST_CHECK int cfg_resolve(const struct cfg_matrix *m, const char *profile,
                              const struct cfg_framework *fw, struct cfg_settings *out,
                              struct err *e);

/* One line of what settings s ask for: "phases 6s (warm-up 2s), users 8 x2 to
 * 512, spawn 1000/s, think 0s, timeout 2s, ready 5s, stop at failures >= 1,
 * refine 10%, 1 search, latency at 50%, 90% of peak, held users 1000 x2 to 8000
 * (think 5s-15s, phases 15s, at most 50% of peak, p99 <= 100ms)"; cut with "..." at
 * n. */
void cfg_settings_describe(const struct cfg_settings *s, char *out, size_t n);

/* Expands cell patterns ("flask/json", "flask/ *", "* /text", "*", "all") into
 * cells in matrix order, without duplicates. *cells is malloc'd; caller frees.
 * -EINVAL for a malformed pattern or one that matches nothing (message names it). */
MF_MUST_CHECK int cfg_select(const struct cfg_matrix *m, const char *const *patterns,
                             size_t npatterns, struct cfg_cell **cells, size_t *ncells,
                             struct err *e);

/* ---- the key table ----
 * Every key the loader accepts is one entry of cfg_keys[] (config/keys.c): its type,
 * range, default, help text and where it is stored. The loader walks YAML mappings
 * through it, `mfbench check --explain` prints it and the build turns it into the key
 * list of mfbench-matrix(5), so parsing, defaults, errors and docs cannot drift. */

/* Where a key lives; each scope's values are stored in one struct (offset below). */
enum cfg_scope {
    CFG_SCOPE_ROOT,      /* top level; struct cfg_matrix */
    CFG_SCOPE_NODE,      /* node.*; struct cfg_node */
    CFG_SCOPE_LOAD,      /* load.*; struct cfg_matrix */
    CFG_SCOPE_SETTINGS,  /* defaults.*, profiles.NAME.*, frameworks.NAME.*; struct cfg_settings */
    CFG_SCOPE_PAYLOAD,   /* payloads.NAME.*; struct cfg_payload */
    CFG_SCOPE_FRAMEWORK, /* frameworks.NAME.* (its own keys); struct cfg_framework */
    CFG_SCOPE_DATABASE,  /* database.*; struct cfg_database */
};

enum cfg_type {
    CFG_T_MAP,     /* a mapping of further keys (entries named "this.sub") */
    CFG_T_STR,     /* a string without control characters; stored as a malloc'd char * */
    CFG_T_NAME,    /* [a-z0-9][a-z0-9_.-]*, at most 64 characters; char * */
    CFG_T_ABSPATH, /* a string starting with / or ~/ (the home folder); char * */
    CFG_T_INT,     /* integer in [min, max]; int or int64_t (by size) */
    CFG_T_NUM,     /* finite number in [fmin, fmax] ((fmin, fmax] with CFG_K_MIN_OPEN); double */
    CFG_T_PCT,     /* percentage "5%" or 5, in (fmin, fmax]; double */
    CFG_T_DUR, /* duration "60s" (dur_parse) in [min, max] ms; int64_t (double with CFG_K_DOUBLE) */
    CFG_T_BOOL,     /* true/false, yes/no, on/off, 1/0; int */
    CFG_T_CPUS,     /* CPU list "1", "0-3,6" (mf_cpus_parse) or "" (no pinning); char * */
    CFG_T_COMPOUND, /* parsed by the entry's own function (think, refine, path, ...) */
};

enum {
    CFG_K_HIDDEN = 1u << 0,   /* accepted and documented, not listed among allowed keys */
    CFG_K_MIN_OPEN = 1u << 1, /* CFG_T_NUM: the minimum itself is refused */
    CFG_K_DOUBLE = 1u << 2,   /* CFG_T_DUR: stored as double ms */
    CFG_K_AUTO = 1u << 3,     /* CFG_T_INT: the word "auto" is accepted, stored as 0 */
    CFG_K_DOC_DEF = 1u << 4,  /* def is a description (set in code), not a value to parse */
    CFG_K_REQUIRED = 1u << 5, /* must be given (checked where its section is parsed) */
    CFG_K_NAMED = 1u << 6,    /* CFG_T_MAP: a mapping NAME -> {...} (payloads, frameworks, ...) */
};

struct cfg_key;
struct cfg__ctx;    /* the loader's state (config.c) */
struct yaml_node_s; /* libyaml's node; only config/ includes yaml.h */
/* Parses value v of key k (full path `path`) into base, the scope's struct (at k->offset
 * and wherever else the key keeps its parts). 0 or negative with the error set. */
typedef int (*cfg_parse_fn)(struct cfg__ctx *c, const struct cfg_key *k, struct yaml_node_s *v,
                            const char *path, void *base);

struct cfg_key {
    enum cfg_scope scope;
    const char *name; /* below the scope: "port", "pip.index_url", "users.start" */
    enum cfg_type type;
    unsigned flags;
    int64_t min, max;    /* CFG_T_INT, CFG_T_DUR (ms) */
    double fmin, fmax;   /* CFG_T_NUM, CFG_T_PCT */
    const char *def;     /* the default as written in a matrix ("60s"), or its description */
    const char *help;    /* what it does, one or two sentences */
    const char *syntax;  /* CFG_T_COMPOUND and CFG_T_MAP: the forms accepted */
    const char *note;    /* appended to a range error ("repeats: auto runs at least 3") */
    size_t offset, size; /* the field in the scope's struct; size 0 = not stored directly */
    unsigned set_bit;    /* CFG_SCOPE_SETTINGS: its CFG_SET_* bit */
    cfg_parse_fn parse;  /* CFG_T_COMPOUND (required) and CFG_T_MAP (optional) */
};

extern const struct cfg_key cfg_keys[];
extern const size_t cfg_nkeys;

/* The key's path as a user writes it: "node.port", "defaults.users.start",
 * "payloads.NAME.path". Returns buf. */
const char *cfg_key_path(const struct cfg_key *k, char *buf, size_t n);
/* Its type in words: "duration", "integer", ... (static). */
const char *cfg_key_type(const struct cfg_key *k);
/* Its range in words: "> 0", "in [1, 65535]", "in (0%, 100%]", or "" when any value of
 * its type goes. Returns buf. */
const char *cfg_key_range(const struct cfg_key *k, char *buf, size_t n);
/* Parses a scalar value of a scalar-typed key (not CFG_T_MAP/COMPOUND) and, when base
 * is not NULL, stores it at base + k->offset (a string replaces and frees the old one).
 * On a bad value returns -EINVAL with msg "PATH must be ..." naming the range; -ENOMEM. */
int cfg_key_parse(const struct cfg_key *k, const char *path, const char *text, void *base,
                  char *msg, size_t n);
/* The same, storing at field itself (NULL: only check): for values that come from
 * elsewhere than a matrix (mfbench load's flags) and must pass the same range. */
int cfg_key_parse_field(const struct cfg_key *k, const char *path, const char *text, void *field,
                        char *msg, size_t n);
/* Whether s is a valid name: [a-z0-9][a-z0-9_.-]*, at most CFG_MAX_NAME characters (framework,
 * payload and profile names, also as the daemon receives them). */
#define CFG_MAX_NAME 64
int cfg_name_ok(const char *s);
/* Stores the parsed defaults of every key of scope that has one (not CFG_K_DOC_DEF) into
 * base. 0 or -ENOMEM/-EINVAL (a table default that does not parse). */
int cfg_key_defaults(enum cfg_scope scope, void *base, char *msg, size_t n);
/* The entry for a path as cfg_key_path writes it; a NAME segment may be any name, and
 * settings are also found under profiles.NAME. and frameworks.NAME. NULL if none. */
const struct cfg_key *cfg_key_find(const char *path);
/* Keys near an unknown path: those within a small edit distance of it (*near = 1), or
 * else the keys of the section it names or is in (*near = 0). Fills out[] (at most max);
 * returns how many. */
size_t cfg_key_suggest(const char *path, const struct cfg_key **out, size_t max, int *near);

#endif
