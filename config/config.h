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
};

struct cfg_payload {
    char *name;
    char *path; /* "/json" */
    char *body; /* exact expected body, or NULL */
    size_t body_len;
    int64_t length;     /* exact expected length, or -1 */
    char *content_type; /* expected Content-Type prefix, or NULL */
    char *body_file;    /* exact expected body read from this file (relative paths are in the
                           targets/ folder), or NULL; the executor loads it */
};

struct cfg_framework {
    char *name;
    char *server; /* werkzeug, gunicorn, uvicorn, ... (informational, selects the start template) */
    int workers;  /* for gunicorn-like servers; >= 1 */
    char *app;    /* targets/ subfolder, default = name */
    char *start;  /* start command template, or NULL for the built-in one of targets/<app>/ */
    char *dir;    /* user's own target folder (uploaded), or NULL; relative to the matrix file */
    int system_site_packages; /* -1 = the node's; 0 = pip from requirements.txt; 1 = python3-* */
    struct cfg_settings over; /* framework-level overrides */
};

enum cfg_transport { CFG_TRANSPORT_LOCAL, CFG_TRANSPORT_SSH };

struct cfg_node {
    enum cfg_transport transport;
    char *host; /* ssh: address; also where load goes (local: 127.0.0.1) */
    int port;   /* ssh port, default 22 */
    char *user;
    char *identity;             /* private key path, ~ expanded */
    char *known_hosts;          /* default ~/.ssh/known_hosts */
    char *workdir;              /* default /tmp/mfbench-node */
    char *cpus;                 /* server CPUs for taskset, default "1"; NULL/"" = no pinning */
    int64_t nofile;             /* ulimit -n for the server, default 999999 */
    char *python;               /* default /usr/bin/python3 */
    int server_port;            /* port the server listens on, default 8000 */
    char *listen;               /* address the server binds, default = host (local: 127.0.0.1) */
    int system_site_packages;   /* venvs see the node's python3-* packages (default 1) */
    int64_t command_timeout_ms; /* limit for one remote command (default 120s) */
    /* node.pip: where a venv without system site packages installs from. */
    char *pip_index_url;  /* pip --index-url, or NULL (pip's default) */
    char *pip_find_links; /* pip --find-links (a folder or URL), or NULL */
    char *pip_args;       /* extra pip install arguments, split on spaces, or NULL */
};

struct cfg_profile {
    char *name;
    struct cfg_settings over;
};

struct cfg_matrix {
    char *path;      /* file name used in messages ("<embedded>" for the default) */
    char *dir;       /* folder of the file, for relative paths; "." when embedded */
    char sha256[65]; /* of the file's bytes */
    int version;
    struct cfg_node node;
    char *load_cpus; /* CPUs of the load engine, default "0" */
    struct cfg_settings defaults;
    struct cfg_payload *payloads;
    size_t npayloads;
    struct cfg_framework *frameworks;
    size_t nframeworks;
    struct cfg_profile *profiles;
    size_t nprofiles;
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
int cfg_load_file(const char *path, struct cfg_matrix **out, struct err *e);
/* Same for text in memory; name is used in messages. */
int cfg_load_string(const char *name, const char *text, size_t len, struct cfg_matrix **out,
                    struct err *e);
void cfg_free(struct cfg_matrix *m);

const struct cfg_framework *cfg_find_framework(const struct cfg_matrix *m, const char *name);
const struct cfg_payload *cfg_find_payload(const struct cfg_matrix *m, const char *name);
const struct cfg_profile *cfg_find_profile(const struct cfg_matrix *m, const char *name);

/* Effective settings of a framework under a profile (profile may be NULL):
 * built-in defaults < matrix defaults < profile < framework. Returns -EINVAL
 * with a message for an unknown profile or a combination that is invalid
 * (e.g. warmup >= duration after overlaying). */
int cfg_resolve(const struct cfg_matrix *m, const char *profile, const struct cfg_framework *fw,
                struct cfg_settings *out, struct err *e);

/* Expands cell patterns ("flask/json", "flask/ *", "* /text", "*", "all") into
 * cells in matrix order, without duplicates. *cells is malloc'd; caller frees.
 * -EINVAL for a malformed pattern or one that matches nothing (message names it). */
int cfg_select(const struct cfg_matrix *m, const char *const *patterns, size_t npatterns,
               struct cfg_cell **cells, size_t *ncells, struct err *e);

#endif
