/* keys.c - the one table of matrix.yaml keys (type, range, default, help, storage) and
 * what is derived from it without YAML: scalar parsing with range errors, the built-in
 * defaults, paths, range texts, lookup and suggestions for `mfbench check --explain`. */
#include "config_int.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Where a field is, for the table: offset and size in the scope's struct. */
#define AT(st, f) .offset = offsetof(struct st, f), .size = sizeof(((struct st *)0)->f)

#define S_ROOT CFG_SCOPE_ROOT
#define S_NODE CFG_SCOPE_NODE
#define S_LOAD CFG_SCOPE_LOAD
#define S_SET CFG_SCOPE_SETTINGS
#define S_PAY CFG_SCOPE_PAYLOAD
#define S_FW CFG_SCOPE_FRAMEWORK
#define S_DB CFG_SCOPE_DATABASE

/* Listed in the order messages list allowed keys and the man page documents them. */
/* A few lines an entry read better than clang-format's one field a line. */
/* clang-format off */
const struct cfg_key cfg_keys[] = {
    /* ---- top level ---- */
    {.scope = S_ROOT, .name = "version", .type = CFG_T_INT, .flags = CFG_K_DOC_DEF | CFG_K_REQUIRED,
     .min = 1, .max = 1, .def = "none (required)", .help = "Version of the matrix format.",
     AT(cfg_matrix, version)},
    {.scope = S_ROOT, .name = "node", .type = CFG_T_MAP, .flags = CFG_K_DOC_DEF,
     .def = "a local node", .help = "Where the framework servers run.",
     .syntax = "{transport, host, ...}"},
    {.scope = S_ROOT, .name = "load", .type = CFG_T_MAP, .flags = CFG_K_DOC_DEF,
     .def = "{cpus: \"0\"}", .help = "Where the load engine runs.", .syntax = "{cpus, source_addrs}"},
    {.scope = S_ROOT, .name = "defaults", .type = CFG_T_MAP, .flags = CFG_K_DOC_DEF,
     .def = "the built-in settings", .help = "Settings for every cell: the keys defaults.* below.",
     .syntax = "SETTINGS"},
    {.scope = S_ROOT, .name = "payloads", .type = CFG_T_MAP,
     .flags = CFG_K_DOC_DEF | CFG_K_REQUIRED | CFG_K_NAMED, .def = "none (required)",
     .help = "The HTTP routes and their expected answers; a non-empty mapping.",
     .syntax = "NAME: {path, body | body_file | length, content_type}"},
    {.scope = S_ROOT, .name = "frameworks", .type = CFG_T_MAP,
     .flags = CFG_K_DOC_DEF | CFG_K_REQUIRED | CFG_K_NAMED, .def = "none (required)",
     .help = "The frameworks under test; a non-empty mapping.",
     .syntax = "NAME: {server, workers, app, start, dir, system_site_packages, python, "
     "requires_python, SETTINGS...}"},
    {.scope = S_ROOT, .name = "profiles", .type = CFG_T_MAP, .flags = CFG_K_DOC_DEF | CFG_K_NAMED,
     .def = "none",
     .help = "Named settings chosen with mfbench run -p NAME; each takes the keys defaults.* "
     "takes.", .syntax = "NAME: SETTINGS"},
    {.scope = S_ROOT, .name = "budget", .type = CFG_T_DUR, .flags = CFG_K_DOC_DEF, .min = 1,
     .max = MF_DUR_MAX_MS, .def = "none",
     .help = "The longest a whole-matrix job of the daemon may take (the nightly's night, e.g. "
     "6h). A cell whose worst case no longer fits in what is left is stored skipped with reason "
     "budget, never silently dropped; mfbench check prints each profile's worst case.",
     AT(cfg_matrix, budget_ms)},

    {.scope = S_ROOT, .name = "database", .type = CFG_T_MAP, .flags = CFG_K_DOC_DEF,
     .def = "{provision: local}",
     .help = "The PostgreSQL the database payloads (payloads.NAME.verify) talk to: a private "
     "cluster mfbench makes on the node (local), or an existing database (dsn). Unused by a "
     "matrix without database payloads.",
     .syntax = "{provision, dsn, cpus, pool, port, start_timeout, settings}"},

    /* ---- node ---- */
    {.scope = S_NODE, .name = "transport", .type = CFG_T_COMPOUND, .flags = CFG_K_DOC_DEF,
     .def = "local",
     .help = "How the node is reached: local, ssh, or slurm (each cell on one whole node a "
     "Slurm cluster allocates, see node.slurm). With ssh, host, user and identity are "
     "required.", .syntax = "local | ssh | slurm", AT(cfg_node, transport), .parse = cfg__parse_transport},
    {.scope = S_NODE, .name = "host", .type = CFG_T_STR, .flags = CFG_K_DOC_DEF, .def = "127.0.0.1",
     .help = "The node's address; load is sent there.", AT(cfg_node, host)},
    {.scope = S_NODE, .name = "port", .type = CFG_T_INT, .min = 1, .max = 65535, .def = "22",
     .help = "SSH port.", AT(cfg_node, port)},
    {.scope = S_NODE, .name = "user", .type = CFG_T_STR, .flags = CFG_K_DOC_DEF, .def = "none",
     .help = "SSH user.", AT(cfg_node, user)},
    {.scope = S_NODE, .name = "identity", .type = CFG_T_STR, .flags = CFG_K_DOC_DEF, .def = "none",
     .help = "SSH private key file; a leading ~/ is replaced by $HOME.", AT(cfg_node, identity)},
    {.scope = S_NODE, .name = "known_hosts", .type = CFG_T_STR, .def = "~/.ssh/known_hosts",
     .help = "Host keys the node is checked against; ~/ expanded.", AT(cfg_node, known_hosts)},
    {.scope = S_NODE, .name = "workdir", .type = CFG_T_ABSPATH, .flags = CFG_K_DOC_DEF,
     .def = "per user: local node: $STATE_DIRECTORY/node (the service), else "
            "$XDG_RUNTIME_DIR/mfbench/node, else ~/.cache/mfbench/node; ssh node: "
            "~/.cache/mfbench/node of the ssh user",
     .help = "Folder on the node for targets, virtual environments and logs: absolute, or ~/PATH "
             "in the home folder of the user on the node. It must "
             "be owned by the user mfbench runs as (the ssh user on an ssh node), writable by "
             "no one else, not a symbolic link, and below folders only that user or root can "
             "change; a missing one is created with mode 0700.",
     AT(cfg_node, workdir)},
    {.scope = S_NODE, .name = "cpus", .type = CFG_T_CPUS, .def = "1",
     .help = "CPUs the server is pinned to.", AT(cfg_node, cpus)},
    {.scope = S_NODE, .name = "nofile", .type = CFG_T_INT, .min = 1, .max = INT64_C(1) << 30,
     .def = "999999", .help = "ulimit -n for the server, clamped to the node's hard limit.",
     AT(cfg_node, nofile)},
    {.scope = S_NODE, .name = "python", .type = CFG_T_STR, .def = "/usr/bin/python3",
     .help = "Interpreter the virtual environments are made from.", AT(cfg_node, python)},
    {.scope = S_NODE, .name = "server_port", .type = CFG_T_INT, .min = 1, .max = 65535,
     .def = "8000", .help = "Port the server listens on.", AT(cfg_node, server_port)},
    {.scope = S_NODE, .name = "listen", .type = CFG_T_STR, .flags = CFG_K_DOC_DEF,
     .def = "node.host", .help = "Address the server binds.",
     AT(cfg_node, listen)},
    {.scope = S_NODE, .name = "system_site_packages", .type = CFG_T_COMPOUND,
     .flags = CFG_K_DOC_DEF, .def = "true",
     .help = "How the virtual environments are made: true sees the node's python3-* packages "
     "(no pip); false is isolated, pip installs each target's requirements.txt; with_pip sees "
     "the node's packages and pip installs only the requirements they do not satisfy (from "
     "node.pip; without index_url or find_links the cell is skipped naming what is missing).",
     .syntax = "true | false | with_pip", AT(cfg_node, system_site_packages),
     .parse = cfg__parse_venv},
    {.scope = S_NODE, .name = "command_timeout", .type = CFG_T_DUR, .min = 1,
     .max = MF_PHASE_MAX_MS,
     .def = "120s", .help = "Limit for one command run on the node.",
     AT(cfg_node, command_timeout_ms)},
    {.scope = S_NODE, .name = "pip", .type = CFG_T_MAP, .flags = CFG_K_DOC_DEF, .def = "pip's own",
     .help = "Where a virtual environment without system site packages installs from.",
     .syntax = "{index_url, find_links, args}"},
    {.scope = S_NODE, .name = "pip.index_url", .type = CFG_T_STR, .flags = CFG_K_DOC_DEF,
     .def = "pip's default", .help = "pip --index-url.", AT(cfg_node, pip_index_url)},
    {.scope = S_NODE, .name = "pip.find_links", .type = CFG_T_STR, .flags = CFG_K_DOC_DEF,
     .def = "none", .help = "pip --find-links: a folder or URL of wheels.",
     AT(cfg_node, pip_find_links)},
    {.scope = S_NODE, .name = "pip.args", .type = CFG_T_STR, .flags = CFG_K_DOC_DEF, .def = "none",
     .help = "Extra pip install arguments, split on spaces.", AT(cfg_node, pip_args)},
    {.scope = S_NODE, .name = "slurm", .type = CFG_T_MAP, .flags = CFG_K_DOC_DEF,
     .def = "the defaults below",
     .help = "With transport: slurm, how cells get their nodes: each cell asks Slurm for one "
     "whole node (salloc --no-shell --exclusive -N1), runs there and releases it (scancel). "
     "Refused with another transport.",
     .syntax = "{partition, time_limit, max_parallel, args, mfbench}"},
    {.scope = S_NODE, .name = "slurm.partition", .type = CFG_T_STR, .flags = CFG_K_DOC_DEF,
     .def = "the cluster's default partition", .help = "salloc -p: the partition the nodes come "
     "from.", AT(cfg_node, slurm.partition)},
    {.scope = S_NODE, .name = "slurm.time_limit", .type = CFG_T_DUR, .min = 1,
     .max = MF_DUR_MAX_MS, .def = "30m",
     .help = "salloc -t: the longest one cell's allocation may hold its node, in whole minutes "
     "(rounded up); Slurm ends the allocation then and the cell ends error with that reason.",
     AT(cfg_node, slurm.time_limit_ms)},
    {.scope = S_NODE, .name = "slurm.max_parallel", .type = CFG_T_INT, .min = 1,
     .max = CFG_SLURM_MAX_PARALLEL, .def = "1",
     .help = "How many cells may hold a node at once; Slurm queues the rest. mfbench check "
     "packs the cells' worst cases on this many slots.", AT(cfg_node, slurm.max_parallel)},
    {.scope = S_NODE, .name = "slurm.args", .type = CFG_T_COMPOUND, .flags = CFG_K_DOC_DEF,
     .def = "none",
     .help = "Extra salloc arguments, e.g. [\"--constraint=epyc\", \"--account=lab\"]: each item "
     "one argument, passed as it is (no shell, no splitting).", .syntax = "[STRING, ...]",
     AT(cfg_node, slurm.args), .parse = cfg__parse_str_list},
    {.scope = S_NODE, .name = "slurm.mfbench", .type = CFG_T_ABSPATH, .flags = CFG_K_DOC_DEF,
     .def = "this mfbench, uploaded",
     .help = "The mfbench binary on the nodes (a path they see, used as is, checked with "
     "--version through srun before each cell); by default the mfbench that dispatches, "
     "uploaded through srun to WORKDIR/bin/mfbench-SHA256 on each node that lacks it (checked "
     "by sha256sum there, replaced when its bytes differ).",
     AT(cfg_node, slurm.mfbench)},

    /* ---- load ---- */
    {.scope = S_LOAD, .name = "cpus", .type = CFG_T_CPUS, .def = "0",
     .help = "CPUs the load engine is pinned to (with the local node, not the server's).",
     AT(cfg_matrix, load_cpus)},
    {.scope = S_LOAD, .name = "source_addrs", .type = CFG_T_COMPOUND, .flags = CFG_K_DOC_DEF,
     .def = "none",
     .help = "Addresses of the load machine its connections leave from, each giving the whole "
     "ephemeral port range again towards the node (a remote node; towards 127.0.0.0/8 the engine "
     "spreads over 127.0.0.K itself). Without them the port range is the engine's limit "
     "(client:ports).", .syntax = "[ADDRESS, ...]", AT(cfg_matrix, load_source_addrs),
     .parse = cfg__parse_addr_list},

    /* ---- settings: defaults.*, profiles.NAME.*, frameworks.NAME.* ---- */
    {.scope = S_SET, .name = "duration", .type = CFG_T_DUR, .min = 1, .max = MF_PHASE_MAX_MS,
     .def = "60s", .help = "One load phase, warm-up included.", AT(cfg_settings, duration_ms),
     .set_bit = CFG_SET_DURATION},
    {.scope = S_SET, .name = "warmup", .type = CFG_T_DUR, .max = MF_PHASE_MAX_MS, .def = "5s",
     .help = "Start of each phase excluded from its statistics; must be < duration.",
     AT(cfg_settings, warmup_ms), .set_bit = CFG_SET_WARMUP},
    {.scope = S_SET, .name = "spawn_rate", .type = CFG_T_NUM, .fmin = MF_MIN_SPAWN_RATE,
     .fmax = MF_MAX_SPAWN_RATE, .def = "500",
     .help = "Users started per second (Locust's hatch rate).",
     AT(cfg_settings, spawn_rate), .set_bit = CFG_SET_SPAWN_RATE},
    {.scope = S_SET, .name = "think", .type = CFG_T_COMPOUND, .flags = CFG_K_DOC_DEF,
     .def = "{min: 5s, max: 15s}",
     .help = "Wait of each user between requests: uniform in [min, max] after each response, "
     "always D ({constant: D} or a plain duration), or one request per D per user ({pacing: D}).",
     .syntax = "{min: D, max: D} | {constant: D} | {pacing: D} | D", AT(cfg_settings, think),
     .set_bit = CFG_SET_THINK, .parse = cfg__parse_think},
    {.scope = S_SET, .name = "think.min", .type = CFG_T_DUR, .max = MF_WAIT_MAX_MS, .def = "5s",
     .help = "Shortest wait after a response; <= think.max.", AT(cfg_settings, think.min_ms),
     .set_bit = CFG_SET_THINK},
    {.scope = S_SET, .name = "think.max", .type = CFG_T_DUR, .max = MF_WAIT_MAX_MS, .def = "15s",
     .help = "Longest wait after a response; >= think.min.", AT(cfg_settings, think.max_ms),
     .set_bit = CFG_SET_THINK},
    {.scope = S_SET, .name = "think.constant", .type = CFG_T_DUR, .flags = CFG_K_DOC_DEF,
     .max = MF_WAIT_MAX_MS, .def = "unset",
     .help = "Always wait this long after a response (Locust constant).", .set_bit = CFG_SET_THINK},
    {.scope = S_SET, .name = "think.pacing", .type = CFG_T_DUR, .flags = CFG_K_DOC_DEF, .min = 1,
     .max = MF_WAIT_MAX_MS, .def = "unset",
     .help = "One request per this long per user, whatever the latency (Locust constant_pacing).",
     .set_bit = CFG_SET_THINK},
    {.scope = S_SET, .name = "users", .type = CFG_T_MAP, .flags = CFG_K_DOC_DEF,
     .def = "{start: 500, step: 500, max: 10000}",
     .help = "The ramp of user levels: start, start+step, ... up to max (or geometric with "
     "factor). Merged field by field over lower layers.",
     .syntax = "{start, step, max, factor} (at least one)", AT(cfg_settings, users),
     .set_bit = CFG_SET_USERS, .parse = cfg__parse_users},
    {.scope = S_SET, .name = "users.start", .type = CFG_T_INT, .min = 1, .max = MF_MAX_USERS,
     .def = "500", .help = "First user level; <= users.max.", AT(cfg_settings, users.start),
     .set_bit = CFG_SET_USERS},
    {.scope = S_SET, .name = "users.step", .type = CFG_T_INT, .min = 1, .max = MF_MAX_USERS,
     .def = "500", .help = "Users added per level.", AT(cfg_settings, users.step),
     .set_bit = CFG_SET_USERS},
    {.scope = S_SET, .name = "users.max", .type = CFG_T_INT, .min = 1, .max = MF_MAX_USERS,
     .def = "10000", .help = "Last user level (the ramp ends there).", AT(cfg_settings, users.max),
     .set_bit = CFG_SET_USERS},
    {.scope = S_SET, .name = "users.factor", .type = CFG_T_INT, .flags = CFG_K_DOC_DEF, .min = 2,
     .max = 1000, .def = "unset (levels grow by step)",
     .help = "Levels grow geometrically instead: start, start*F, ... up to max (the last level is "
     "max).", AT(cfg_settings, users.factor), .set_bit = CFG_SET_USERS},
    {.scope = S_SET, .name = "stop_when", .type = CFG_T_MAP, .flags = CFG_K_DOC_DEF,
     .def = "{failures: 1}",
     .help = "A level fails when any given criterion holds; the ramp stops there. Replaces the "
     "lower layers' criteria whole.", .syntax = "{failures, ratio, p99} (at least one)",
     AT(cfg_settings, stop_when), .set_bit = CFG_SET_STOP_WHEN, .parse = cfg__parse_stop_when},
    {.scope = S_SET, .name = "stop_when.failures", .type = CFG_T_INT, .min = 1,
     .max = INT64_C(1000000000000),
     .def = "1", .help = "A level fails at this many failed requests.",
     AT(cfg_settings, stop_when.failures), .set_bit = CFG_SET_STOP_WHEN},
    {.scope = S_SET, .name = "stop_when.ratio", .type = CFG_T_NUM,
     .flags = CFG_K_DOC_DEF | CFG_K_MIN_OPEN, .fmax = 1, .def = "unset",
     .help = "A level fails when failures/requests reaches this.",
     AT(cfg_settings, stop_when.ratio), .set_bit = CFG_SET_STOP_WHEN},
    {.scope = S_SET, .name = "stop_when.p99", .type = CFG_T_DUR,
     .flags = CFG_K_DOC_DEF | CFG_K_DOUBLE, .min = 1, .max = MF_WAIT_MAX_MS, .def = "unset",
     .help = "A level fails when its p99 latency reaches this.", AT(cfg_settings, stop_when.p99_ms),
     .set_bit = CFG_SET_STOP_WHEN},
    {.scope = S_SET, .name = "timeout", .type = CFG_T_DUR, .min = 1, .max = MF_WAIT_MAX_MS,
     .def = "10s",
     .help = "Per request.", AT(cfg_settings, timeout_ms), .set_bit = CFG_SET_TIMEOUT},
    {.scope = S_SET, .name = "repeats", .type = CFG_T_INT, .flags = CFG_K_AUTO, .min = 1,
     .max = 100, .def = "1",
     .help = "Searches of each cell, each on freshly started servers; auto: at least 3, then more "
     "until the relative spread of peak req/s is under spread or max_repeats ran.",
     .syntax = "COUNT | auto", AT(cfg_settings, repeats), .set_bit = CFG_SET_REPEATS},
    {.scope = S_SET, .name = "rate", .type = CFG_T_NUM, .fmax = MF_MAX_RATE, .def = "0",
     .help = "Open-loop requests per second per phase; 0 means closed loop.",
     AT(cfg_settings, rate), .set_bit = CFG_SET_RATE},
    {.scope = S_SET, .name = "pipeline", .type = CFG_T_INT, .min = 1, .max = MF_MAX_PIPELINE,
     .def = "1",
     .help = "HTTP/1.1 requests in flight per connection.", AT(cfg_settings, pipeline),
     .set_bit = CFG_SET_PIPELINE},
    {.scope = S_SET, .name = "refine", .type = CFG_T_COMPOUND, .flags = CFG_K_DOC_DEF,
     .def = CFG_DEFAULT_REFINE " (bisection on; refine: 0 turns it off)",
     .help = "Bisection between the last good and the first failing level, down to a resolution "
     "given as a percentage of the level or as a user count; each probe runs on a fresh server.",
     .syntax = "PERCENT% in (0%, 100%] | USERS in [0, 1000000]", .set_bit = CFG_SET_REFINE,
     .parse = cfg__parse_refine},
    {.scope = S_SET, .name = "ready_timeout", .type = CFG_T_DUR, .min = 1, .max = MF_WAIT_MAX_MS,
     .def = "30s", .help = "How long the readiness probe waits for the server.",
     AT(cfg_settings, ready_timeout_ms), .set_bit = CFG_SET_READY_TIMEOUT},
    {.scope = S_SET, .name = "spread", .type = CFG_T_PCT, .fmax = 100, .def = "5%",
     .help = "Target relative spread of peak req/s, (max - min) / median, for repeats: auto.",
     AT(cfg_settings, spread_pct), .set_bit = CFG_SET_SPREAD},
    {.scope = S_SET, .name = "max_repeats", .type = CFG_T_INT, .min = 3, .max = 100, .def = "5",
     .help = "Most searches repeats: auto runs.", .note = "repeats: auto runs at least 3",
     AT(cfg_settings, max_repeats), .set_bit = CFG_SET_MAX_REPEATS},
    {.scope = S_SET, .name = "load_points", .type = CFG_T_COMPOUND, .flags = CFG_K_DOC_DEF,
     .def = "[] (none)",
     .help = "Latency at load: after the search, one open-loop phase (rate) at each of these "
     "shares of the measured peak req/s, latency counted from the intended send time "
     "(coordinated-omission free). Stored as the cell's load_points.",
     .syntax = "[PERCENT, ...] (at most 4, each in (0, 100])", AT(cfg_settings, load_points),
     .set_bit = CFG_SET_LOAD_POINTS, .parse = cfg__parse_load_points},
    {.scope = S_SET, .name = "held", .type = CFG_T_MAP, .flags = CFG_K_DOC_DEF, .def = "off",
     .help = "The concurrency number: how many users of the think-time model the server holds. "
     "Levels double from held.users.start up to held.users.max, then bisection as refine. The "
     "think is stretched so the users offer at most held.max_offered of the sustainable "
     "throughput (slo capacity, else the passing peak); the warm-up covers the ramp (users / "
     "held.spawn_rate) and one response after it, and the measured window the longest think after stretching plus one "
     "response (timeout), so every user sends in it: a level's phase grows past held.duration "
     "when it must, up to 4 x it; a level that needs more is not judged. A level passes with "
     "no failure, no failed connect over the whole phase (ramp included) and p99 <= held.p99. "
     "Stored as held_users and held_limit: server (measured), max (the top level held), "
     "not_judged, client:ports|descriptors|memory|conntrack (the load engine's limit), "
     "node:descriptors (the server's nofile clamped below the level); all but server are "
     "lower bounds.",
     .syntax = "{users, think, duration, warmup, spawn_rate, max_offered, p99}",
     AT(cfg_settings, held), .set_bit = CFG_SET_HELD, .parse = cfg__parse_held},
    {.scope = S_SET, .name = "held.users", .type = CFG_T_MAP, .flags = CFG_K_DOC_DEF,
     .def = "{start: 1000, factor: 2, max: 16000}", .help = "The held users' levels.",
     .syntax = "{start, factor, max}", AT(cfg_settings, held.users), .parse = cfg__parse_users},
    {.scope = S_SET, .name = "held.users.start", .type = CFG_T_INT, .flags = CFG_K_DOC_DEF,
     .min = 1, .max = MF_MAX_USERS, .def = "1000", .help = "First held level.",
     AT(cfg_settings, held.users.start)},
    {.scope = S_SET, .name = "held.users.factor", .type = CFG_T_INT, .flags = CFG_K_DOC_DEF,
     .min = 2, .max = 16, .def = "2", .help = "Each held level is the last one times this.",
     AT(cfg_settings, held.users.factor)},
    {.scope = S_SET, .name = "held.users.max", .type = CFG_T_INT, .flags = CFG_K_DOC_DEF,
     .min = 1, .max = MF_MAX_USERS, .def = "16000", .help = "Last held level.",
     AT(cfg_settings, held.users.max)},
    {.scope = S_SET, .name = "held.think", .type = CFG_T_COMPOUND, .flags = CFG_K_DOC_DEF,
     .def = "{min: 5s, max: 15s}", .help = "The held users' think time (the seed's locustfile).",
     .syntax = "{min: D, max: D} | {constant: D} | D", AT(cfg_settings, held.think),
     .parse = cfg__parse_think},
    {.scope = S_SET, .name = "held.think.min", .type = CFG_T_DUR, .flags = CFG_K_DOC_DEF,
     .max = MF_WAIT_MAX_MS, .def = "5s", .help = "Shortest think.",
     AT(cfg_settings, held.think.min_ms)},
    {.scope = S_SET, .name = "held.think.max", .type = CFG_T_DUR, .flags = CFG_K_DOC_DEF,
     .max = MF_WAIT_MAX_MS, .def = "15s", .help = "Longest think.",
     AT(cfg_settings, held.think.max_ms)},
    {.scope = S_SET, .name = "held.think.constant", .type = CFG_T_DUR, .flags = CFG_K_DOC_DEF,
     .max = MF_WAIT_MAX_MS, .def = "unset", .help = "Always this think."},
    {.scope = S_SET, .name = "held.think.pacing", .type = CFG_T_DUR, .flags = CFG_K_DOC_DEF,
     .min = 1, .max = MF_WAIT_MAX_MS, .def = "unset",
     .help = "One request per this long per user."},
    {.scope = S_SET, .name = "held.duration", .type = CFG_T_DUR, .flags = CFG_K_DOC_DEF, .min = 1,
     .max = MF_PHASE_MAX_MS, .def = "60s", .help = "One held phase, warm-up included.",
     AT(cfg_settings, held.duration_ms)},
    {.scope = S_SET, .name = "held.warmup", .type = CFG_T_DUR, .flags = CFG_K_DOC_DEF,
     .max = MF_PHASE_MAX_MS, .def = "20s", .help = "Excluded from a held phase's statistics.",
     AT(cfg_settings, held.warmup_ms)},
    {.scope = S_SET, .name = "held.spawn_rate", .type = CFG_T_NUM, .flags = CFG_K_DOC_DEF,
     .fmin = MF_MIN_SPAWN_RATE, .fmax = MF_MAX_SPAWN_RATE, .def = "1000",
     .help = "Held users started per second.",
     AT(cfg_settings, held.spawn_rate)},
    {.scope = S_SET, .name = "held.max_offered", .type = CFG_T_PCT, .flags = CFG_K_DOC_DEF,
     .fmax = 100, .def = "50%",
     .help = "The most the held users may offer, as a share of the measured peak req/s: the "
     "think is stretched past it, so the level measures connections held, not throughput.",
     AT(cfg_settings, held.max_offered_pct)},
    {.scope = S_SET, .name = "held.p99", .type = CFG_T_DUR, .flags = CFG_K_DOC_DEF, .min = 1,
     .max = MF_WAIT_MAX_MS, .def = "4 x slo.p99, or 100ms without slo",
     .help = "A held level fails when p99 of its users' requests exceeds this: a server whose "
     "cost per connection grows fails on latency before it fails on errors.",
     AT(cfg_settings, held.p99_ms)},
    {.scope = S_SET, .name = "slo", .type = CFG_T_MAP, .flags = CFG_K_DOC_DEF, .def = "off",
     .help = "SLO capacity, the headline: the most req/s the server sustains with its p99 within "
     "the bound. Each probe is an open-loop Poisson phase at one rate; it passes when p99 <= the "
     "bound by MLPerf's early-stopping rule at 99% confidence, failures <= slo.failures (and no "
     "wrong answer), completed >= 98% of offered with at most rate x bound in flight, and the load "
     "engine kept its schedule (else the probe is inconclusive). The search seeds from the "
     "closed-loop peak of passing phases, brackets at 1 and 0.5 x it doubling outward, bisects "
     "geometrically to slo.resolution, then confirms with one more probe. Stored per cell as slo "
     "{bound_ms, rps, bracket, limit, latency_ms, probes}; load_points become shares of slo.rps.",
     .syntax = "{p99, bounds, failures, resolution, min_rps, max_rps, warmup, window, samples} | off",
     AT(cfg_settings, slo), .set_bit = CFG_SET_SLO, .parse = cfg__parse_slo},
    {.scope = S_SET, .name = "slo.p99", .type = CFG_T_DUR, .flags = CFG_K_DOC_DEF, .min = 1,
     .max = 60000, .def = "25ms", .help = "The bound on p99 (the headline's bound).",
     AT(cfg_settings, slo.bounds_ms[0])},
    {.scope = S_SET, .name = "slo.bounds", .type = CFG_T_COMPOUND, .flags = CFG_K_DOC_DEF,
     .def = "[slo.p99]",
     .help = "Several bounds, each searched on its own; the first is the headline. Instead of "
     "slo.p99.", .syntax = "[DURATION, ...] (at most 4, each in [1ms, 60s])",
     .parse = cfg__parse_slo},
    {.scope = S_SET, .name = "slo.failures", .type = CFG_T_PCT, .flags = CFG_K_DOC_DEF,
     .fmax = 100, .def = "0.1%",
     .help = "A probe fails with more failed requests than this share of its completed ones; "
     "a wrong body or protocol error makes the cell an error whatever this says.",
     AT(cfg_settings, slo.failures_pct)},
    {.scope = S_SET, .name = "slo.resolution", .type = CFG_T_PCT, .flags = CFG_K_DOC_DEF,
     .fmin = 0.5, .fmax = 100, .def = "5%",
     .help = "The bisection stops when the failing rate is within this share above the passing "
     "one: the band the result promises.", AT(cfg_settings, slo.resolution_pct)},
    {.scope = S_SET, .name = "slo.max_rps", .type = CFG_T_NUM, .flags = CFG_K_DOC_DEF,
     .fmin = 1, .fmax = 10000000, .def = "200000",
     .help = "The highest rate the search probes; a pass there is stored with limit max, a lower "
     "bound.", AT(cfg_settings, slo.max_rps)},
    {.scope = S_SET, .name = "slo.min_rps", .type = CFG_T_NUM, .flags = CFG_K_DOC_DEF,
     .fmin = 1, .fmax = 10000000, .def = "25",
     .help = "The lowest rate the search probes; nothing passing there is stored as 0 req/s. "
     "Below about 23 req/s a 20 s window cannot hold the 459 samples the p99 rule needs to "
     "pass at all.", AT(cfg_settings, slo.min_rps)},
    {.scope = S_SET, .name = "slo.warmup", .type = CFG_T_DUR, .flags = CFG_K_DOC_DEF,
     .max = 60000, .def = "2s", .help = "Before each probe's measured window.",
     AT(cfg_settings, slo.warmup_ms)},
    {.scope = S_SET, .name = "slo.window", .type = CFG_T_MAP, .flags = CFG_K_DOC_DEF,
     .def = "{min: 8s, max: 20s}",
     .help = "A probe's measured window: long enough for slo.samples requests, within these.",
     .syntax = "{min, max}"},
    {.scope = S_SET, .name = "slo.window.min", .type = CFG_T_DUR, .flags = CFG_K_DOC_DEF,
     .min = 100, .max = MF_PHASE_MAX_MS, .def = "8s", .help = "The shortest measured window.",
     AT(cfg_settings, slo.window_min_ms)},
    {.scope = S_SET, .name = "slo.window.max", .type = CFG_T_DUR, .flags = CFG_K_DOC_DEF,
     .min = 100, .max = MF_PHASE_MAX_MS, .def = "20s", .help = "The longest measured window.",
     AT(cfg_settings, slo.window_max_ms)},
    {.scope = S_SET, .name = "slo.samples", .type = CFG_T_INT, .flags = CFG_K_DOC_DEF, .min = 100,
     .max = 100000000, .def = "20000",
     .help = "The requests a probe's window should hold (within slo.window).",
     AT(cfg_settings, slo.samples)},
    {.scope = S_SET, .name = "client_bound_pct", .type = CFG_T_PCT, .flags = CFG_K_HIDDEN,
     .fmax = 100, .def = "90",
     .help = "A phase whose load engine used more than this % of its core is client_bound: its "
     "failures are never taken as a breaking point. A test knob; leave it alone.",
     AT(cfg_settings, client_bound_pct), .set_bit = CFG_SET_CLIENT_BOUND},

    /* ---- payloads.NAME ---- */
    {.scope = S_PAY, .name = "path", .type = CFG_T_COMPOUND,
     .flags = CFG_K_DOC_DEF | CFG_K_REQUIRED, .def = "none (required)",
     .help = "The route requested; starts with /, no spaces or control characters.",
     .syntax = "/ROUTE", AT(cfg_payload, path), .parse = cfg__parse_url_path},
    {.scope = S_PAY, .name = "body", .type = CFG_T_COMPOUND, .flags = CFG_K_DOC_DEF, .def = "none",
     .help = "The exact expected body. Exactly one of body, body_file and length is required.",
     .syntax = "a string", AT(cfg_payload, body), .parse = cfg__parse_body},
    {.scope = S_PAY, .name = "body_file", .type = CFG_T_COMPOUND, .flags = CFG_K_DOC_DEF,
     .def = "none",
     .help = "The exact expected body, read from this file where mfbench runs; a relative path is "
     "in the targets/ folder. For bodies that are not text.", .syntax = "a file name",
     AT(cfg_payload, body_file), .parse = cfg__parse_body_file},
    {.scope = S_PAY, .name = "length", .type = CFG_T_INT, .flags = CFG_K_DOC_DEF,
     .max = MF_MAX_BODY_BYTES,
     .def = "none", .help = "The exact expected body length in bytes.", AT(cfg_payload, length)},
    {.scope = S_PAY, .name = "content_type", .type = CFG_T_STR, .flags = CFG_K_DOC_DEF,
     .def = "none (not checked)", .help = "Expected prefix of the Content-Type header.",
     AT(cfg_payload, content_type)},

    {.scope = S_PAY, .name = "verify", .type = CFG_T_COMPOUND, .flags = CFG_K_DOC_DEF,
     .def = "none (an ordinary payload)",
     .help = "A database payload, TechEmpower's test of that name: the answer is checked by its "
     "rule, not byte for byte (db: {id, randomNumber} both in 1..10000; queries and updates: an "
     "array of exactly queries such objects; fortunes: the exact HTML page of the Fortune rows "
     "plus the one added at request time, sorted and escaped). The path is derived (/db, "
     "/queries?queries=N, /fortunes, /updates?queries=N); body, body_file, length and path are "
     "not given. The server gets --db-dsn and --db-pool.",
     .syntax = "db | queries | fortunes | updates", AT(cfg_payload, verify),
     .parse = cfg__parse_verify},
    {.scope = S_PAY, .name = "queries", .type = CFG_T_INT, .flags = CFG_K_DOC_DEF, .min = 1,
     .max = 500, .def = "20 (verify: queries and updates only)",
     .help = "Rows per request of a queries or updates payload (?queries=N), one query each.",
     AT(cfg_payload, queries)},

    /* ---- database ---- */
    {.scope = S_DB, .name = "provision", .type = CFG_T_COMPOUND, .flags = CFG_K_DOC_DEF,
     .def = "local",
     .help = "local: mfbench makes a private cluster in the node's workdir with the node's "
     "PostgreSQL binaries (initdb, its own port and socket folder; as the postgres user when the "
     "node's user is root), loads World and Fortune, starts it before the first database cell "
     "and stops it after the last. dsn: an existing database at database.dsn, whose tables are "
     "checked.", .syntax = "local | dsn", AT(cfg_database, provision),
     .parse = cfg__parse_provision},
    {.scope = S_DB, .name = "dsn", .type = CFG_T_COMPOUND, .flags = CFG_K_DOC_DEF,
     .def = "none (required with provision: dsn)",
     .help = "The existing database, as libpq takes it; psql on the node connects with it. "
     "Only with provision: dsn.", .syntax = "postgresql://USER[:PASSWORD]@HOST[:PORT]/DB[?...]",
     AT(cfg_database, dsn), .parse = cfg__parse_dsn},
    {.scope = S_DB, .name = "cpus", .type = CFG_T_CPUS, .flags = CFG_K_DOC_DEF,
     .def = "the lowest CPU that is neither node.cpus nor load.cpus, else none (shared, warned)",
     .help = "CPUs the local cluster is pinned to (taskset); never the server's (node.cpus).",
     AT(cfg_database, cpus)},
    {.scope = S_DB, .name = "pool", .type = CFG_T_INT, .min = 1, .max = 1000, .def = "4",
     .help = "Database connections per server process, the same for every framework: passed as "
     "--db-pool N.", AT(cfg_database, pool)},
    {.scope = S_DB, .name = "port", .type = CFG_T_INT, .min = 0, .max = 65535, .def = "0",
     .help = "Port of the local cluster on 127.0.0.1; 0 picks a free one.",
     AT(cfg_database, port)},
    {.scope = S_DB, .name = "start_timeout", .type = CFG_T_DUR, .min = 1,
     .max = MF_PHASE_MAX_MS, .def = "60s",
     .help = "Limit for each of the local cluster's initdb, start, schema load and stop.",
     AT(cfg_database, start_timeout_ms)},
    {.scope = S_DB, .name = "settings", .type = CFG_T_MAP, .flags = CFG_K_DOC_DEF,
     .def = "{shared_buffers: 128MB, max_connections: 100, synchronous_commit: \"off\", "
     "fsync: \"on\"}",
     .help = "The local cluster's PostgreSQL settings, stored with the run.",
     .syntax = "{shared_buffers, max_connections, synchronous_commit, fsync}"},
    {.scope = S_DB, .name = "settings.shared_buffers", .type = CFG_T_STR, .def = "128MB",
     .help = "PostgreSQL shared_buffers: a size in kB, MB, GB or TB (at least 128kB).",
     AT(cfg_database, shared_buffers), .parse = cfg__parse_pg_word},
    {.scope = S_DB, .name = "settings.max_connections", .type = CFG_T_INT, .min = 1,
     .max = 10000, .def = "100",
     .help = "PostgreSQL max_connections: at least database.pool x the server's processes.",
     AT(cfg_database, max_connections)},
    {.scope = S_DB, .name = "settings.synchronous_commit", .type = CFG_T_STR, .def = "off",
     .help = "PostgreSQL synchronous_commit: on, off, local, remote_write or remote_apply.",
     AT(cfg_database, synchronous_commit), .parse = cfg__parse_pg_word},
    {.scope = S_DB, .name = "settings.fsync", .type = CFG_T_STR, .def = "on",
     .help = "PostgreSQL fsync: on or off (off loses the cluster on a crash; it is rebuilt).",
     AT(cfg_database, fsync), .parse = cfg__parse_pg_word},

    /* ---- frameworks.NAME (plus every settings key as an override) ---- */
    {.scope = S_FW, .name = "server", .type = CFG_T_NAME, .flags = CFG_K_DOC_DEF, .def = "none",
     .help = "The server that runs the app (werkzeug, gunicorn, uvicorn, ...).",
     AT(cfg_framework, server)},
    {.scope = S_FW, .name = "workers", .type = CFG_T_INT, .min = 1, .max = 1024, .def = "1",
     .help = "Worker processes for servers that have them.", AT(cfg_framework, workers)},
    {.scope = S_FW, .name = "app", .type = CFG_T_NAME, .flags = CFG_K_DOC_DEF,
     .def = "the framework's NAME", .help = "Folder under targets/ holding the app.",
     AT(cfg_framework, app)},
    {.scope = S_FW, .name = "start", .type = CFG_T_COMPOUND, .flags = CFG_K_DOC_DEF,
     .def = "the built-in one of targets/APP/",
     .help = "A start command template replacing the built-in one: \"{python} {dir}/app.py --host "
     "{host} --port {port}\". Placeholders: {python} {dir} {host} {port} {workers} {name} "
     "{workdir}; each value is shell-quoted, so a placeholder is written bare, never inside "
     "quotes.", .syntax = "a shell command template", AT(cfg_framework, start),
     .parse = cfg__parse_start},
    {.scope = S_FW, .name = "dir", .type = CFG_T_STR, .flags = CFG_K_DOC_DEF, .def = "none",
     .help = "The user's own target folder, relative to the matrix file; uploaded to the node.",
     AT(cfg_framework, dir), .parse = cfg__parse_dir},
    {.scope = S_FW, .name = "system_site_packages", .type = CFG_T_COMPOUND,
     .flags = CFG_K_DOC_DEF, .def = "node.system_site_packages",
     .help = "This framework's virtual environment sees the node's python3-* packages (true), "
     "installs targets/APP/requirements.txt with pip (false), or sees the node's packages and "
     "pip-installs only the requirements they do not satisfy (with_pip).",
     .syntax = "true | false | with_pip", AT(cfg_framework, system_site_packages),
     .parse = cfg__parse_venv},

    /* ---- frameworks.NAME: the interpreter ---- */
    {.scope = S_FW, .name = "python", .type = CFG_T_STR, .flags = CFG_K_DOC_DEF,
     .def = "node.python",
     .help = "Interpreter on the node this framework's virtual environment is made from (a "
     "CPython 3.7 for japronto 0.1.2).", AT(cfg_framework, python)},
    {.scope = S_FW, .name = "requires_python", .type = CFG_T_COMPOUND, .flags = CFG_K_DOC_DEF,
     .def = "any",
     .help = "The Python versions the framework runs on, checked on the node before the venv is "
     "made: a cell whose interpreter does not satisfy it is skipped, saying so and what to set. "
     "A version is compared on as many parts as a clause gives (<=3.7 admits 3.7.17).",
     .syntax = "\"OP VERSION[, OP VERSION...]\", OP one of <= < >= > == != (\"<=3.7\")",
     AT(cfg_framework, requires_python), .parse = cfg__parse_requires_python},
    {.scope = S_FW, .name = "limits", .type = CFG_T_MAP, .flags = CFG_K_DOC_DEF,
     .def = "the server's own settings",
     .help = "Server settings that cap connections below the node's limits. Held users that stop "
     "at or just under (within the search's resolution) a known cap name it: \"server: waitress "
     "connection_limit 100\".", .syntax = "{connections}"},
    {.scope = S_FW, .name = "limits.connections", .type = CFG_T_MAP, .flags = CFG_K_DOC_DEF,
     .def = "waitress: {setting: waitress connection_limit, value: 100}; uvicorn: {setting: "
     "uvicorn limit_concurrency} (no cap); gunicorn: {setting: gunicorn worker_connections} (its "
     "sync workers have no cap); others: none",
     .help = "The most connections the server holds at once: the setting's name and its value. "
     "A value given here reaches the server: the built-in targets take it as --connections N "
     "(waitress connection_limit, uvicorn --limit-concurrency), a start template as "
     "{connections}. Without one the server keeps its default, which is what its users run.",
     .syntax = "{setting, value}"},
    {.scope = S_FW, .name = "limits.connections.setting", .type = CFG_T_STR,
     .flags = CFG_K_DOC_DEF, .def = "the server's, when known, else \"SERVER connections\"",
     .help = "What reports call the setting (\"waitress connection_limit\").",
     AT(cfg_framework, limits.connections.setting)},
    {.scope = S_FW, .name = "limits.connections.value", .type = CFG_T_INT, .flags = CFG_K_DOC_DEF,
     .min = 1, .max = 10000000, .def = "the server's default (waitress 100; uvicorn none)",
     .help = "The cap, passed to the server: a built-in target whose server has no such setting, "
     "or a start template without {connections}, is refused.",
     AT(cfg_framework, limits.connections.value), .parse = cfg__parse_limit_value},
};
/* clang-format on */

const size_t cfg_nkeys = sizeof(cfg_keys) / sizeof(cfg_keys[0]);

static const char *const scope_prefix[] = {
    [CFG_SCOPE_ROOT] = "",
    [CFG_SCOPE_NODE] = "node.",
    [CFG_SCOPE_LOAD] = "load.",
    [CFG_SCOPE_SETTINGS] = "defaults.",
    [CFG_SCOPE_PAYLOAD] = "payloads.NAME.",
    [CFG_SCOPE_FRAMEWORK] = "frameworks.NAME.",
    [CFG_SCOPE_DATABASE] = "database.",
};

const char *cfg_key_path(const struct cfg_key *k, char *buf, size_t n)
{
    snprintf(buf, n, "%s%s", scope_prefix[k->scope], k->name);
    return buf;
}

const char *cfg_key_type(const struct cfg_key *k)
{
    switch (k->type) {
    case CFG_T_MAP:
        return (k->flags & CFG_K_NAMED) ? "mapping of NAME to mapping" : "mapping";
    case CFG_T_STR:
        return "string";
    case CFG_T_NAME:
        return "name";
    case CFG_T_ABSPATH:
        return "absolute path or ~/PATH";
    case CFG_T_INT:
        return (k->flags & CFG_K_AUTO) ? "integer or auto" : "integer";
    case CFG_T_NUM:
        return "number";
    case CFG_T_PCT:
        return "percentage";
    case CFG_T_DUR:
        return "duration";
    case CFG_T_BOOL:
        return "boolean";
    case CFG_T_CPUS:
        return "CPU list";
    case CFG_T_COMPOUND:
        break;
    }
    return "compound";
}

/* A duration of the table in its plainest form: "0", "1ms", "1h", "7d", "1m30s". */
static const char *dur_text(int64_t ms, char *buf, size_t n)
{
    static const struct {
        const char *u;
        int64_t ms;
    } units[] = {{"d", 86400000}, {"h", 3600000}, {"m", 60000}, {"s", 1000}, {"ms", 1}};
    size_t len = 0;
    buf[0] = '\0';
    if (ms == 0)
        snprintf(buf, n, "0");
    for (size_t i = 0; i < sizeof units / sizeof units[0] && ms > 0; i++) {
        if (ms < units[i].ms)
            continue;
        int w = snprintf(buf + len, n - len, "%lld%s", (long long)(ms / units[i].ms), units[i].u);
        if (w < 0 || (size_t)w >= n - len)
            break;
        len += (size_t)w;
        ms %= units[i].ms;
    }
    return buf;
}

const char *cfg_key_range(const struct cfg_key *k, char *buf, size_t n)
{
    char lo[32], hi[32];
    buf[0] = '\0';
    switch (k->type) {
    case CFG_T_INT:
        if (k->min == k->max)
            snprintf(buf, n, "%lld", (long long)k->min);
        else
            snprintf(buf, n, "in [%lld, %lld]", (long long)k->min, (long long)k->max);
        break;
    case CFG_T_DUR:
        snprintf(buf, n, "in [%s, %s]", dur_text(k->min, lo, sizeof lo),
                 dur_text(k->max, hi, sizeof hi));
        break;
    case CFG_T_NUM:
        snprintf(buf, n, "in %c%.10g, %.10g]", (k->flags & CFG_K_MIN_OPEN) ? '(' : '[', k->fmin,
                 k->fmax);
        break;
    case CFG_T_PCT:
        snprintf(buf, n, "in (%g%%, %g%%]", k->fmin, k->fmax);
        break;
    case CFG_T_NAME:
        snprintf(buf, n, "[a-z0-9][a-z0-9_.-]*, at most %d characters", CFG_MAX_NAME);
        break;
    case CFG_T_CPUS:
        snprintf(buf, n, "CPUs in [0, %d], ranges ascending (\"1\", \"0-3\", \"0,2\")",
                 CPU_SETSIZE - 1);
        break;
    case CFG_T_STR:
    case CFG_T_ABSPATH:
        snprintf(buf, n, "no control characters");
        break;
    case CFG_T_COMPOUND:
    case CFG_T_MAP:
    case CFG_T_BOOL:
        break;
    }
    return buf;
}

int cfg_name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > CFG_MAX_NAME)
        return 0;
    /* ASCII by hand: islower() follows the locale. */
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        bool alnum = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9');
        if (!(alnum || (i > 0 && (ch == '_' || ch == '.' || ch == '-'))))
            return 0;
    }
    return 1;
}

static int store_str(const char *text, void *field)
{
    char *s = strdup(text);
    if (!s)
        return -ENOMEM;
    char **dst = field;
    free(*dst);
    *dst = s;
    return 0;
}

static void store_int(const struct cfg_key *k, int64_t v, void *field)
{
    if (k->size == sizeof(int64_t))
        *(int64_t *)field = v;
    else
        *(int *)field = (int)v;
}

#define BADF(...) (snprintf(msg, n, __VA_ARGS__), -EINVAL)

/* Integers are plain decimal: no sign but '-', no space, no hex (strtoll would take " +0x"). */
static bool decimal_int(const char *t)
{
    if (*t == '-')
        t++;
    if (!*t)
        return false;
    for (; *t; t++)
        if (*t < '0' || *t > '9')
            return false;
    return true;
}

static int parse_int(const struct cfg_key *k, const char *path, const char *text, void *field,
                     char *msg, size_t n)
{
    char range[64];
    cfg_key_range(k, range, sizeof range);
    if ((k->flags & CFG_K_AUTO) && !strcmp(text, "auto")) {
        if (field)
            store_int(k, 0, field);
        return 0;
    }
    int64_t v;
    if (!decimal_int(text) || parse_i64(text, INT64_MIN, INT64_MAX, &v) == -EINVAL)
        return BADF("%s must be an integer, got '%s'", path, text);
    if (parse_i64(text, k->min, k->max, &v) == 0) {
        if (field)
            store_int(k, v, field);
        return 0;
    }
    return BADF("%s must be %s, got '%s'%s%s%s", path, range, text, k->note ? " (" : "",
                k->note ? k->note : "", k->note ? ")" : "");
}

/* Numbers are decimal, with a fraction or an exponent ("0.5", "1e3"); no hex, inf or
 * space, which strtod would take. */
static bool decimal_num(const char *t)
{
    if (!((*t >= '0' && *t <= '9') || *t == '-' || *t == '.'))
        return false;
    for (; *t; t++)
        if (!((*t >= '0' && *t <= '9') || *t == '.' || *t == 'e' || *t == 'E' || *t == '-' ||
              *t == '+'))
            return false;
    return true;
}

static int parse_num(const struct cfg_key *k, const char *path, const char *text, void *field,
                     char *msg, size_t n)
{
    char range[64];
    cfg_key_range(k, range, sizeof range);
    double v;
    if (!decimal_num(text) || parse_double(text, &v))
        return BADF("%s must be a number, got '%s'", path, text);
    bool low = (k->flags & CFG_K_MIN_OPEN) ? !(v > k->fmin) : !(v >= k->fmin);
    if (low || v > k->fmax)
        return BADF("%s must be %s, got '%s'", path, range, text);
    if (field)
        *(double *)field = v;
    return 0;
}

/* "5%" or a bare number of percent. */
static int parse_pct(const struct cfg_key *k, const char *path, const char *text, void *field,
                     char *msg, size_t n)
{
    char range[64], tmp[64];
    cfg_key_range(k, range, sizeof range);
    size_t len = strlen(text);
    double v = 0;
    bool ok = len > 0 && len < sizeof(tmp);
    if (ok) {
        memcpy(tmp, text, len + 1);
        if (tmp[len - 1] == '%')
            tmp[len - 1] = '\0';
        ok = decimal_num(tmp) && !parse_double(tmp, &v) && v > k->fmin && v <= k->fmax;
    }
    if (!ok)
        return BADF("%s must be a percentage %s, got '%s'", path, range, text);
    if (field)
        *(double *)field = v;
    return 0;
}

static int parse_dur(const struct cfg_key *k, const char *path, const char *text, void *field,
                     char *msg, size_t n)
{
    char range[64];
    int64_t ms = 0;
    int rc = dur_parse(text, &ms);
    if (rc == -EINVAL)
        return BADF("%s: bad duration \"%.40s%s\" (" DUR_HINT ")", path, text,
                    strlen(text) > 40 ? "..." : "");
    if (rc || ms < k->min || ms > k->max)
        return BADF("%s must be %s, got '%.40s%s'", path, cfg_key_range(k, range, sizeof range),
                    text, strlen(text) > 40 ? "..." : "");
    if (field) {
        if (k->flags & CFG_K_DOUBLE)
            *(double *)field = (double)ms;
        else
            *(int64_t *)field = ms;
    }
    return 0;
}

static int parse_bool(const char *path, const char *text, void *field, char *msg, size_t n)
{
    static const char *const yes[] = {"true", "yes", "on", "1"};
    static const char *const no[] = {"false", "no", "off", "0"};
    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        if (!strcasecmp(text, yes[i]) || !strcasecmp(text, no[i])) {
            if (field)
                *(int *)field = !strcasecmp(text, yes[i]);
            return 0;
        }
    }
    return BADF("%s must be true or false, got '%s'", path, text);
}

int cfg_key_parse(const struct cfg_key *k, const char *path, const char *text, void *base,
                  char *msg, size_t n)
{
    return cfg__key_parse_at(k, path, text, (base && k->size) ? (char *)base + k->offset : NULL,
                             msg, n);
}

int cfg_key_parse_field(const struct cfg_key *k, const char *path, const char *text, void *field,
                        char *msg, size_t n)
{
    return cfg__key_parse_at(k, path, text, field, msg, n);
}

int cfg__key_parse_at(const struct cfg_key *k, const char *path, const char *text, void *field,
                      char *msg, size_t n)
{
    switch (k->type) {
    case CFG_T_INT:
        return parse_int(k, path, text, field, msg, n);
    case CFG_T_NUM:
        return parse_num(k, path, text, field, msg, n);
    case CFG_T_PCT:
        return parse_pct(k, path, text, field, msg, n);
    case CFG_T_DUR:
        return parse_dur(k, path, text, field, msg, n);
    case CFG_T_BOOL:
        return parse_bool(path, text, field, msg, n);
    case CFG_T_NAME:
        if (!cfg_name_ok(text))
            return BADF("%s: '%s' is not a valid name (use [a-z0-9][a-z0-9_.-]*, at most %d "
                        "characters)",
                        path, text, CFG_MAX_NAME);
        break;
    case CFG_T_ABSPATH:
    case CFG_T_STR:
        for (const char *p = text; *p; p++)
            if ((unsigned char)*p < 0x20 || *p == 0x7f)
                return BADF("%s must not contain control characters (byte 0x%02x at %zu)", path,
                            (unsigned char)*p, (size_t)(p - text) + 1);
        if (k->type == CFG_T_ABSPATH && text[0] != '/' && !(text[0] == '~' && text[1] == '/'))
            return BADF("%s must be an absolute path (or ~/PATH, in the home folder), got '%s'",
                        path, text);
        break;
    case CFG_T_CPUS: {
        char why[160];
        if (*text && mf_cpus_parse(text, NULL, why, sizeof why) < 0)
            return BADF("%s: %s", path, why);
        break;
    }
    case CFG_T_MAP:
    case CFG_T_COMPOUND:
        return BADF("%s is not a scalar key", path);
    }
    if (field && store_str(text, field)) {
        snprintf(msg, n, "out of memory");
        return -ENOMEM;
    }
    return 0;
}

int cfg_key_defaults(enum cfg_scope scope, void *base, char *msg, size_t n)
{
    char path[128];
    for (size_t i = 0; i < cfg_nkeys; i++) {
        const struct cfg_key *k = &cfg_keys[i];
        if (k->scope != scope || (k->flags & CFG_K_DOC_DEF) || !k->size)
            continue;
        int rc = cfg_key_parse(k, cfg_key_path(k, path, sizeof path), k->def, base, msg, n);
        if (rc)
            return rc;
    }
    return 0;
}

/* ---- lookup and suggestions ---- */

/* Rewrites a user's path into the table's form: the segment after payloads., frameworks.
 * or profiles. becomes NAME; profiles.NAME.KEY and a framework's settings key become
 * defaults.KEY. */
static void normalize(const char *path, char *out, size_t n, bool fw_own)
{
    static const char *const named[] = {"payloads.", "frameworks.", "profiles."};
    snprintf(out, n, "%s", path);
    for (size_t i = 0; i < 3; i++) {
        size_t l = strlen(named[i]);
        if (strncmp(path, named[i], l))
            continue;
        const char *rest = strchr(path + l, '.');
        if (!rest)
            return;
        rest++;
        if (i == 0) {
            snprintf(out, n, "payloads.NAME.%s", rest);
            return;
        }
        if (i == 1 && fw_own) {
            snprintf(out, n, "frameworks.NAME.%s", rest);
            return;
        }
        if (i == 1) {
            for (size_t j = 0; j < cfg_nkeys; j++)
                if (cfg_keys[j].scope == CFG_SCOPE_FRAMEWORK && !strcmp(cfg_keys[j].name, rest)) {
                    snprintf(out, n, "frameworks.NAME.%s", rest);
                    return;
                }
        }
        snprintf(out, n, "defaults.%s", rest);
        return;
    }
}

const struct cfg_key *cfg_key_find(const char *path)
{
    char want[256], p[256];
    if (!path || !*path)
        return NULL;
    normalize(path, want, sizeof want, false);
    for (size_t i = 0; i < cfg_nkeys; i++)
        if (!strcmp(cfg_key_path(&cfg_keys[i], p, sizeof p), want))
            return &cfg_keys[i];
    /* A name without its section ("spawn_rate", "held.max_offered") finds
     * the one key of that name. */
    const struct cfg_key *only = NULL;
    for (size_t i = 0; i < cfg_nkeys; i++) {
        if (strcmp(cfg_keys[i].name, path))
            continue;
        if (only)
            return NULL;
        only = &cfg_keys[i];
    }
    return only;
}

/* Levenshtein distance of two short strings, capped at 9. */
static size_t distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 63 || lb > 63)
        return 9;
    size_t row[64];
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t best = diag + (a[i - 1] != b[j - 1]);
            if (row[j] + 1 < best)
                best = row[j] + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb] > 9 ? 9 : row[lb];
}

static const char *last_segment(const char *p)
{
    const char *dot = strrchr(p, '.');
    return dot ? dot + 1 : p;
}

static size_t dots(const char *s)
{
    size_t n = 0;
    while ((s = strchr(s, '.')) != NULL) {
        n++;
        s++;
    }
    return n;
}

/* Appends the keys near want (one normalized form of the user's path) to out. */
static size_t near_keys(const char *path, const char *want, const struct cfg_key **out, size_t n,
                        size_t max)
{
    char p[256];
    const char *leaf = last_segment(want);
    size_t parent = (size_t)(leaf - want); /* "node." */
    for (size_t i = 0; i < cfg_nkeys && n < max; i++) {
        const char *kp = cfg_key_path(&cfg_keys[i], p, sizeof p);
        const char *kl = last_segment(kp);
        bool same_parent = (size_t)(kl - kp) == parent && !strncmp(kp, want, parent);
        bool dup = false;
        for (size_t j = 0; j < n; j++)
            dup = dup || out[j] == &cfg_keys[i];
        if (!dup && ((same_parent && distance(kl, leaf) <= 2) ||
                     (dots(kp) == dots(want) && distance(kp, want) <= 2) ||
                     (!strchr(path, '.') && distance(kl, leaf) <= 1)))
            out[n++] = &cfg_keys[i];
    }
    return n;
}

/* Appends the keys directly under prefix pre ("node.", "" for the top level). */
static size_t section_keys(const char *pre, const struct cfg_key **out, size_t n, size_t max)
{
    char p[256];
    size_t pl = strlen(pre);
    for (size_t i = 0; i < cfg_nkeys && n < max; i++) {
        const char *kp = cfg_key_path(&cfg_keys[i], p, sizeof p);
        if (!strncmp(kp, pre, pl) && kp[pl] && !strchr(kp + pl, '.'))
            out[n++] = &cfg_keys[i];
    }
    return n;
}

size_t cfg_key_suggest(const char *path, const struct cfg_key **out, size_t max, int *near)
{
    char want[2][256];
    size_t n = 0;
    *near = 0;
    if (!path)
        return 0;
    /* A framework's unknown key may be near one of its own keys or a settings key. */
    normalize(path, want[0], sizeof want[0], false);
    normalize(path, want[1], sizeof want[1], true);
    int forms = strcmp(want[0], want[1]) ? 2 : 1;
    for (int f = 0; f < forms; f++)
        n = near_keys(path, want[f], out, n, max);
    *near = n > 0;
    if (n)
        return n;
    /* Else the keys of the section the path names, else of the one it is in, else the top
     * level. */
    char pre[sizeof want + 2]; /* gcc cannot tell want[f] from all of want */
    for (int f = 0; f < forms; f++) {
        snprintf(pre, sizeof pre, "%s.", want[f]);
        n = section_keys(pre, out, n, max);
    }
    if (n == 0) {
        for (int f = forms - 1; f >= 0; f--) {
            const char *leaf = last_segment(want[f]);
            snprintf(pre, sizeof pre, "%.*s", (int)(leaf - want[f]), want[f]);
            n = section_keys(pre, out, n, max);
        }
    }
    return n ? n : section_keys("", out, 0, max);
}
