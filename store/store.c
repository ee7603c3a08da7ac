/* store.c - the SQLite result store: opening (folders, pragmas, migrations kept as
 * an ordered list of SQL steps under PRAGMA user_version), one committed write per
 * run/cell/phase event, and the loads and history queries the review commands use. */
#include "store.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <pwd.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

/* 'mfbs' in PRAGMA application_id: a file of another application is refused
 * instead of being "migrated". */
#define STORE_APP_ID 0x6d666273

#define STORE_BUSY_MS 5000

/* ---- schema ---- */

/* Migration i brings user_version i to i+1. Each step runs in its own
 * transaction together with the user_version bump, so a crash mid-migration
 * leaves the previous version intact. Steps are history: never edit one that
 * has shipped, append a new one (ALTER TABLE ...) and bump STORE_SCHEMA_VERSION.
 * The SQL is spelled out rather than generated from the column table below for
 * the same reason. */
static const char *const migrations[] = {
    /* 0 -> 1: the first schema. */
    "PRAGMA application_id = 1835426419;" /* STORE_APP_ID */
    "CREATE TABLE runs ("
    "  id INTEGER PRIMARY KEY,"
    "  started_at TEXT NOT NULL,"
    "  finished_at TEXT,"
    "  trigger TEXT NOT NULL DEFAULT '',"
    "  status TEXT NOT NULL,"
    "  profile TEXT NOT NULL DEFAULT '',"
    "  matrix_sha256 TEXT NOT NULL DEFAULT '',"
    "  node_host TEXT NOT NULL DEFAULT '',"
    "  node_cpus TEXT NOT NULL DEFAULT '',"
    "  node_kernel TEXT NOT NULL DEFAULT '');"
    "CREATE INDEX runs_by_started ON runs(started_at, id);"
    "CREATE INDEX runs_by_status ON runs(status);"
    "CREATE TABLE cells ("
    "  id INTEGER PRIMARY KEY,"
    "  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
    "  seq INTEGER NOT NULL,"
    "  framework TEXT NOT NULL,"
    "  payload TEXT NOT NULL,"
    "  status TEXT NOT NULL,"
    "  error TEXT,"
    "  versions_json TEXT,"
    "  capacity_users INTEGER,"
    "  breaking_users INTEGER,"
    "  peak_rps REAL NOT NULL DEFAULT 0,"
    "  UNIQUE (run_id, seq));"
    "CREATE INDEX cells_by_cell ON cells(framework, payload, run_id);"
    "CREATE INDEX cells_by_payload ON cells(payload, run_id);"
    "CREATE TABLE phases ("
    "  id INTEGER PRIMARY KEY,"
    "  cell_id INTEGER NOT NULL REFERENCES cells(id) ON DELETE CASCADE,"
    "  seq INTEGER NOT NULL,"
    "  users INTEGER NOT NULL,"
    "  duration_s REAL NOT NULL,"
    "  requests INTEGER NOT NULL,"
    "  failures INTEGER NOT NULL,"
    "  fail_connect INTEGER NOT NULL,"
    "  fail_timeout INTEGER NOT NULL,"
    "  fail_reset INTEGER NOT NULL,"
    "  fail_status INTEGER NOT NULL,"
    "  fail_body INTEGER NOT NULL,"
    "  fail_protocol INTEGER NOT NULL,"
    "  fail_client INTEGER NOT NULL,"
    "  bytes_read INTEGER NOT NULL,"
    "  rps REAL,"
    "  lat_mean REAL, lat_p50 REAL, lat_p90 REAL, lat_p99 REAL, lat_p999 REAL, lat_max REAL,"
    "  offered_rps REAL,"
    "  missed_schedule INTEGER NOT NULL,"
    "  client_cpu_pct REAL,"
    "  server_rss_max_kb REAL,"
    "  server_rss_mean_kb REAL,"
    "  server_cpu_pct REAL,"
    "  server_cpu_max_pct REAL,"
    "  server_threads_max INTEGER,"
    "  server_fds_max INTEGER,"
    "  load_bound INTEGER NOT NULL,"
    "  client_bound INTEGER NOT NULL,"
    "  stop_reason TEXT NOT NULL DEFAULT '',"
    "  UNIQUE (cell_id, seq));"
    "CREATE TABLE phase_series ("
    "  phase_id INTEGER NOT NULL REFERENCES phases(id) ON DELETE CASCADE,"
    "  t_s REAL NOT NULL,"
    "  users INTEGER NOT NULL,"
    "  requests INTEGER NOT NULL,"
    "  failures INTEGER NOT NULL,"
    "  p50_ms REAL,"
    "  p99_ms REAL);"
    "CREATE INDEX phase_series_by_phase ON phase_series(phase_id, t_s);",
    /* 1 -> 2: the breaking-point search (phase kind, repeat, sampler cost) and
     * the summary of a cell's repeats. */
    "ALTER TABLE phases ADD COLUMN kind TEXT NOT NULL DEFAULT 'linear';"
    "ALTER TABLE phases ADD COLUMN repeat INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE phases ADD COLUMN sampler_cpu_pct REAL;"
    "ALTER TABLE cells ADD COLUMN repeats INTEGER NOT NULL DEFAULT 1;"
    "ALTER TABLE cells ADD COLUMN capacity_median REAL;"
    "ALTER TABLE cells ADD COLUMN capacity_iqr REAL;"
    "ALTER TABLE cells ADD COLUMN capacity_min REAL;"
    "ALTER TABLE cells ADD COLUMN capacity_max REAL;"
    "ALTER TABLE cells ADD COLUMN peak_rps_median REAL;"
    "ALTER TABLE cells ADD COLUMN peak_rps_iqr REAL;"
    "ALTER TABLE cells ADD COLUMN peak_rps_min REAL;"
    "ALTER TABLE cells ADD COLUMN peak_rps_max REAL;"
    "ALTER TABLE cells ADD COLUMN peak_rps_spread REAL;"
    "ALTER TABLE cells ADD COLUMN peak_rps_load_bound INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE cells ADD COLUMN note TEXT NOT NULL DEFAULT '';",
    /* 2 -> 3: the nightly's answer: requests outstanding when a phase's time
     * ran out, the node's steal and neighbours per phase, the node's
     * fingerprint per run, latency at load and held users per cell. */
    "ALTER TABLE phases ADD COLUMN in_flight INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE phases ADD COLUMN steal_pct REAL;"
    "ALTER TABLE phases ADD COLUMN neighbour_cpu_pct REAL;"
    "ALTER TABLE phases ADD COLUMN noisy INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE cells ADD COLUMN held_users INTEGER;"
    "ALTER TABLE cells ADD COLUMN held_limit TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE runs ADD COLUMN node_cpu_model TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE runs ADD COLUMN node_cpu_count INTEGER;"
    "ALTER TABLE runs ADD COLUMN node_governor TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE runs ADD COLUMN node_python TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE runs ADD COLUMN node_loadavg REAL;"
    "CREATE TABLE load_points ("
    "  cell_id INTEGER NOT NULL REFERENCES cells(id) ON DELETE CASCADE,"
    "  pct_of_peak REAL NOT NULL,"
    "  offered_rps REAL,"
    "  rps REAL NOT NULL,"
    "  lat_mean REAL, lat_p50 REAL, lat_p90 REAL, lat_p99 REAL, lat_p999 REAL, lat_max REAL,"
    "  failures INTEGER NOT NULL,"
    "  UNIQUE (cell_id, pct_of_peak));",
    /* 3 -> 4: the process writing a run (pid, its start time in clock ticks
     * since boot, the boot and the host), so that a run left "running" by a
     * process that is gone can be told from one still being written. NULL
     * owner_pid: a run written before v4. */
    "ALTER TABLE runs ADD COLUMN owner_pid INTEGER;"
    "ALTER TABLE runs ADD COLUMN owner_start INTEGER;"
    "ALTER TABLE runs ADD COLUMN owner_boot TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE runs ADD COLUMN owner_host TEXT NOT NULL DEFAULT '';",
    /* 4 -> 5: the settings the run's profile asked for (think time, timeout,
     * stop rules...), as one line of text; the phases only show what ran. */
    "ALTER TABLE runs ADD COLUMN settings TEXT NOT NULL DEFAULT '';",
    /* 5 -> 6: SLO capacity and latency that counts every request. Per phase:
     * what was intended against what happened (offered, sent, completed,
     * unsent_due), samples over the bound, the seed and arrivals that replay
     * it; per cell the passing peak and one slo row per bound; load points
     * say what they are a share of. Rows of older runs keep NULLs (unknown). */
    "ALTER TABLE phases ADD COLUMN offered INTEGER;"
    "ALTER TABLE phases ADD COLUMN sent INTEGER;"
    "ALTER TABLE phases ADD COLUMN completed INTEGER;"
    "ALTER TABLE phases ADD COLUMN unsent_due INTEGER;"
    "ALTER TABLE phases ADD COLUMN over_bound INTEGER;"
    "ALTER TABLE phases ADD COLUMN bound_ms REAL;"
    "ALTER TABLE phases ADD COLUMN seed TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE phases ADD COLUMN arrivals TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE phases ADD COLUMN connections_max INTEGER;"
    "ALTER TABLE phases ADD COLUMN connect_failures INTEGER;"
    "ALTER TABLE phases ADD COLUMN retries INTEGER;"
    "ALTER TABLE phases ADD COLUMN stopped_early INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE phases ADD COLUMN pct_of REAL;"
    "ALTER TABLE cells ADD COLUMN peak_rps_passing REAL;"
    "ALTER TABLE load_points ADD COLUMN of_slo INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE load_points ADD COLUMN offered INTEGER;"
    "ALTER TABLE load_points ADD COLUMN completed INTEGER;"
    "ALTER TABLE load_points ADD COLUMN in_flight INTEGER;"
    "CREATE TABLE cell_slo ("
    "  cell_id INTEGER NOT NULL REFERENCES cells(id) ON DELETE CASCADE,"
    "  idx INTEGER NOT NULL,"
    "  bound_ms REAL NOT NULL,"
    "  rps REAL,"
    "  bracket_lo REAL, bracket_hi REAL,"
    "  limit_ TEXT NOT NULL DEFAULT '',"
    "  lat_mean REAL, lat_p50 REAL, lat_p90 REAL, lat_p99 REAL, lat_p999 REAL, lat_max REAL,"
    "  probes INTEGER NOT NULL DEFAULT 0,"
    "  resolution_pct REAL, failures_pct REAL,"
    "  UNIQUE (cell_id, idx));",
    /* 6 -> 7: the load engine's side per phase (issue 21): steal and other
     * processes on the load CPUs; noisy is set from either side. Rows of older
     * runs keep NULLs (unknown). */
    ("ALTER TABLE phases ADD COLUMN client_steal_pct REAL;"
     "ALTER TABLE phases ADD COLUMN client_neighbour_cpu_pct REAL;"),
    /* 7 -> 8: the search's ladder of levels is kind 'ladder', not 'linear'
     * (issue 21). The column's default stays 'linear' (SQLite cannot change a
     * default without rebuilding the table): every write names the kind, and
     * a load reads 'linear' and '' as the ladder. */
    "UPDATE phases SET kind = 'ladder' WHERE kind IN ('linear', '');",
    /* 8 -> 9: the server setting held users stopped at (issue 20), "waitress
     * connection_limit 100"; '' when none is known or it did not stop them. */
    "ALTER TABLE cells ADD COLUMN held_setting TEXT NOT NULL DEFAULT '';",
    /* 9 -> 10: the node each cell ran on (issue 23): on a Slurm node every cell
     * has an allocation of its own, its node's name and the Slurm job id. ''
     * and NULL for a cell that ran on its run's node. */
    "ALTER TABLE cells ADD COLUMN node_host TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE cells ADD COLUMN slurm_job_id INTEGER;",
    /* 10 -> 11: the fingerprint of the node a cell ran on when it had one of its own (issue
     * 23), as the node's run_start said it: a JSON object {cpu_model, cpus, kernel,
     * governor, python, loadavg}; '' for a cell that ran on its run's node (the run's
     * fingerprint is its). */
    "ALTER TABLE cells ADD COLUMN node_fingerprint TEXT NOT NULL DEFAULT '';",
    /* 11 -> 12: the answers each phase sampled and checked by its payload's rule, and the
     * wrong ones among them (issue 24); 0 for older rows and ordinary payloads. */
    ("ALTER TABLE phases ADD COLUMN verified_sampled INTEGER NOT NULL DEFAULT 0;"
     "ALTER TABLE phases ADD COLUMN verified_wrong INTEGER NOT NULL DEFAULT 0;"),
    /* 12 -> 13: the run's own database beside the server per phase (issue 24): its
     * CPU (mean and highest second) and RSS, and whether it was the limit
     * (db_bound). Rows of older runs keep NULLs (not sampled) and 0. */
    ("ALTER TABLE phases ADD COLUMN database_cpu_pct REAL;"
     "ALTER TABLE phases ADD COLUMN database_cpu_max_pct REAL;"
     "ALTER TABLE phases ADD COLUMN database_rss_max_kb REAL;"
     "ALTER TABLE phases ADD COLUMN db_bound INTEGER NOT NULL DEFAULT 0;"),
};

_Static_assert(sizeof(migrations) / sizeof(migrations[0]) == STORE_SCHEMA_VERSION,
               "one migration step per schema version");

/* The phase columns in one table, so the INSERT, the SELECT, the binds and the
 * loads cannot drift apart. Kinds: INT (not null), OINT (-1 <-> NULL), DBL
 * (NaN <-> NULL, loads as -1), ODBL (negative <-> NULL), U64, BOOL, TEXT. */
#define PHASE_COLUMNS(X)                                                                           \
    X("users", INT, p->users)                                                                      \
    X("duration_s", DBL, p->duration_s)                                                            \
    X("requests", U64, p->requests)                                                                \
    X("failures", U64, p->failures)                                                                \
    X("fail_connect", U64, p->failures_by_kind[FAIL_CONNECT])                                      \
    X("fail_timeout", U64, p->failures_by_kind[FAIL_TIMEOUT])                                      \
    X("fail_reset", U64, p->failures_by_kind[FAIL_RESET])                                          \
    X("fail_status", U64, p->failures_by_kind[FAIL_STATUS])                                        \
    X("fail_body", U64, p->failures_by_kind[FAIL_BODY])                                            \
    X("fail_protocol", U64, p->failures_by_kind[FAIL_PROTOCOL])                                    \
    X("fail_client", U64, p->failures_by_kind[FAIL_CLIENT])                                        \
    X("bytes_read", U64, p->bytes_read)                                                            \
    X("rps", DBL, p->rps)                                                                          \
    X("lat_mean", DBL, p->latency_ms.mean)                                                         \
    X("lat_p50", DBL, p->latency_ms.p50)                                                           \
    X("lat_p90", DBL, p->latency_ms.p90)                                                           \
    X("lat_p99", DBL, p->latency_ms.p99)                                                           \
    X("lat_p999", DBL, p->latency_ms.p999)                                                         \
    X("lat_max", DBL, p->latency_ms.max)                                                           \
    X("offered_rps", DBL, p->offered_rps)                                                          \
    X("missed_schedule", U64, p->missed_schedule)                                                  \
    X("client_cpu_pct", DBL, p->client_cpu_pct)                                                    \
    X("server_rss_max_kb", ODBL, p->server_rss_max_kb)                                             \
    X("server_rss_mean_kb", ODBL, p->server_rss_mean_kb)                                           \
    X("server_cpu_pct", ODBL, p->server_cpu_pct)                                                   \
    X("server_cpu_max_pct", ODBL, p->server_cpu_max_pct)                                           \
    X("server_threads_max", OINT, p->server_threads_max)                                           \
    X("server_fds_max", OINT, p->server_fds_max)                                                   \
    X("load_bound", BOOL, p->load_bound)                                                           \
    X("client_bound", BOOL, p->client_bound)                                                       \
    X("stop_reason", TEXT, p->stop_reason)                                                         \
    X("kind", KIND, p->kind)                                                                       \
    X("repeat", INT, p->repeat)                                                                    \
    X("sampler_cpu_pct", ODBL, p->sampler_cpu_pct)                                                 \
    X("in_flight", U64, p->in_flight)                                                              \
    X("offered", U64, p->offered)                                                                  \
    X("sent", U64, p->sent)                                                                        \
    X("completed", U64, p->completed)                                                              \
    X("unsent_due", U64, p->unsent_due)                                                            \
    X("over_bound", U64, p->over_bound)                                                            \
    X("bound_ms", DBL, p->bound_ms)                                                                \
    X("seed", SEED, p->seed)                                                                       \
    X("arrivals", TEXT, p->arrivals)                                                               \
    X("connections_max", U64, p->connections_max)                                                  \
    X("connect_failures", U64, p->connect_failures)                                                \
    X("retries", U64, p->retries)                                                                  \
    X("stopped_early", BOOL, p->stopped_early)                                                     \
    X("pct_of", DBL, p->pct_of)                                                                    \
    X("steal_pct", ODBL, p->steal_pct)                                                             \
    X("neighbour_cpu_pct", ODBL, p->neighbour_cpu_pct)                                             \
    X("noisy", BOOL, p->noisy)                                                                     \
    X("client_steal_pct", ODBL, p->client_steal_pct)                                               \
    X("client_neighbour_cpu_pct", ODBL, p->client_neighbour_cpu_pct)                               \
    X("verified_sampled", U64, p->verified_sampled)                                                \
    X("verified_wrong", U64, p->verified_wrong)                                                    \
    X("database_cpu_pct", ODBL, p->db_cpu_pct)                                                     \
    X("database_cpu_max_pct", ODBL, p->db_cpu_max_pct)                                             \
    X("database_rss_max_kb", ODBL, p->db_rss_max_kb)                                               \
    X("db_bound", BOOL, p->db_bound)

#define COL_NAME(name, kind, field) ", " name
#define COL_PARAM(name, kind, field) ", ?"

/* ---- cached statements ---- */

enum stmt_id {
    ST_RUN_INSERT,
    ST_RUN_FINISH,
    ST_CELL_INSERT,
    ST_CELL_FINISH,
    ST_PHASE_INSERT,
    ST_SERIES_INSERT,
    ST_SERIES_SELECT,
    ST_RUN_SELECT,
    ST_CELLS_SELECT,
    ST_PHASES_SELECT,
    ST_LAST_RUN,
    ST_HISTORY,
    ST_LOAD_POINT_DELETE,
    ST_LOAD_POINT_INSERT,
    ST_LOAD_POINTS_SELECT,
    ST_SLO_DELETE,
    ST_SLO_INSERT,
    ST_SLO_SELECT,
    ST_CELL_NODE,
    ST_CELL_FINGERPRINT,
    ST__COUNT
};

static const char *const stmt_sql[ST__COUNT] = {
    [ST_RUN_INSERT] = "INSERT INTO runs(started_at, trigger, status, profile, matrix_sha256,"
                      " node_host, node_cpus, node_kernel, node_cpu_model, node_cpu_count,"
                      " node_governor, node_python, node_loadavg, owner_pid, owner_start,"
                      " owner_boot, owner_host, settings)"
                      " VALUES(?, ?, 'running', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    [ST_RUN_FINISH] = "UPDATE runs SET finished_at = ?, status = ? WHERE id = ?",
    /* seq is assigned inside the INSERT itself, so two writers cannot pick the same one. */
    [ST_CELL_INSERT] = "INSERT INTO cells(run_id, seq, framework, payload, status, error,"
                       " versions_json, peak_rps)"
                       " SELECT ?1, COALESCE(MAX(seq) + 1, 0), ?2, ?3, 'running', ?4, ?5, 0"
                       " FROM cells WHERE run_id = ?1",
    [ST_CELL_FINISH] = "UPDATE cells SET status = ?, error = ?, versions_json = ?,"
                       " capacity_users = ?, breaking_users = ?, peak_rps = ?, repeats = ?,"
                       " capacity_median = ?, capacity_iqr = ?, capacity_min = ?,"
                       " capacity_max = ?, peak_rps_median = ?, peak_rps_iqr = ?,"
                       " peak_rps_min = ?, peak_rps_max = ?, peak_rps_spread = ?,"
                       " peak_rps_load_bound = ?, note = ?, held_users = ?, held_limit = ?,"
                       " peak_rps_passing = ?, held_setting = ? WHERE id = ?",
    [ST_PHASE_INSERT] = "INSERT INTO phases(cell_id, seq" PHASE_COLUMNS(
        COL_NAME) ")"
                  " VALUES(?, ?" PHASE_COLUMNS(COL_PARAM) ")",
    [ST_SERIES_INSERT] = "INSERT INTO phase_series(phase_id, t_s, users, requests, failures,"
                         " p50_ms, p99_ms) VALUES(?, ?, ?, ?, ?, ?, ?)",
    [ST_SERIES_SELECT] = "SELECT t_s, users, requests, failures, p50_ms, p99_ms"
                         " FROM phase_series WHERE phase_id = ? ORDER BY t_s, rowid",
    [ST_RUN_SELECT] = "SELECT id, started_at, finished_at, trigger, status, profile,"
                      " matrix_sha256, node_host, node_cpus, node_kernel, node_cpu_model,"
                      " node_cpu_count, node_governor, node_python, node_loadavg, settings"
                      " FROM runs WHERE id = ?",
    [ST_CELLS_SELECT] = "SELECT id, framework, payload, status, error, versions_json,"
                        " capacity_users, breaking_users, peak_rps, repeats, capacity_median,"
                        " capacity_iqr, capacity_min, capacity_max, peak_rps_median,"
                        " peak_rps_iqr, peak_rps_min, peak_rps_max, peak_rps_spread,"
                        " peak_rps_load_bound, note, held_users, held_limit, peak_rps_passing,"
                        " held_setting, node_host, slurm_job_id, node_fingerprint FROM cells"
                        " WHERE run_id = ?"
                        " ORDER BY seq",
    [ST_PHASES_SELECT] = "SELECT id" PHASE_COLUMNS(COL_NAME) " FROM phases WHERE cell_id = ?"
                                                             " ORDER BY seq",
    [ST_CELL_NODE] = "UPDATE cells SET node_host = ?, slurm_job_id = ? WHERE id = ?",
    [ST_CELL_FINGERPRINT] = "UPDATE cells SET node_fingerprint = ? WHERE id = ?",
    [ST_SLO_DELETE] = "DELETE FROM cell_slo WHERE cell_id = ?",
    [ST_SLO_INSERT] = "INSERT INTO cell_slo(cell_id, idx, bound_ms, rps, bracket_lo, bracket_hi,"
                      " limit_, lat_mean, lat_p50, lat_p90, lat_p99, lat_p999, lat_max, probes,"
                      " resolution_pct, failures_pct)"
                      " VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    [ST_SLO_SELECT] = "SELECT bound_ms, rps, bracket_lo, bracket_hi, limit_, lat_mean, lat_p50,"
                      " lat_p90, lat_p99, lat_p999, lat_max, probes, resolution_pct, failures_pct"
                      " FROM cell_slo WHERE cell_id = ? ORDER BY idx",
    [ST_LAST_RUN] = "SELECT id FROM runs ORDER BY started_at DESC, id DESC LIMIT 1",
    [ST_LOAD_POINT_DELETE] = "DELETE FROM load_points WHERE cell_id = ?",
    [ST_LOAD_POINT_INSERT] = "INSERT INTO load_points(cell_id, pct_of_peak, offered_rps, rps,"
                             " lat_mean, lat_p50, lat_p90, lat_p99, lat_p999, lat_max, failures,"
                             " of_slo, offered, completed, in_flight)"
                             " VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    [ST_LOAD_POINTS_SELECT] = "SELECT pct_of_peak, offered_rps, rps, lat_mean, lat_p50, lat_p90,"
                              " lat_p99, lat_p999, lat_max, failures, of_slo, offered, completed,"
                              " in_flight FROM load_points"
                              " WHERE cell_id = ? ORDER BY pct_of_peak",
    /* Rows only: each cell with its run. What history shows of a cell is
     * computed from its loaded phases by the review commands' one definition
     * of each figure (cli/headline.c, common/result.c), never here. */
    [ST_HISTORY] = "SELECT r.id, c.id, r.started_at, c.framework, c.payload, c.status, r.profile,"
                   "   c.capacity_users, c.breaking_users, c.peak_rps"
                   " FROM cells c JOIN runs r ON r.id = c.run_id"
                   " WHERE (?1 IS NULL OR c.framework = ?1) AND (?2 IS NULL OR c.payload = ?2)"
                   " ORDER BY r.started_at DESC, r.id DESC, c.seq ASC"
                   " LIMIT ?3",
};

struct store {
    sqlite3 *db;
    int repaired; /* runs store_open marked interrupted */
    char path[PATH_MAX];
    sqlite3_stmt *stmt[ST__COUNT];
};

/* ---- errors ---- */

static int sqlite_to_errno(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_NOMEM:
        return -ENOMEM;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return -EBUSY;
    case SQLITE_PERM:
    case SQLITE_READONLY:
    case SQLITE_AUTH:
        return -EACCES;
    case SQLITE_CANTOPEN:
        return -ENOENT;
    case SQLITE_FULL:
        return -ENOSPC;
    case SQLITE_CONSTRAINT:
    case SQLITE_MISMATCH:
    case SQLITE_RANGE:
        return -EINVAL;
    case SQLITE_NOTADB:
    case SQLITE_CORRUPT:
    case SQLITE_FORMAT:
        return -EILSEQ;
    default:
        return -EIO;
    }
}

/* Copies sqlite3_errmsg into e with what we were doing; returns the code. */
static int db_fail(struct store *s, int rc, struct err *e, const char *what)
{
    /* "disk I/O error" alone does not say a file hit its size limit or the disk
     * is full: the errno of the failed system call does. */
    int prim = rc & 0xff, sys = sqlite3_system_errno(s->db);
    if (sys > 0 && (prim == SQLITE_IOERR || prim == SQLITE_FULL || prim == SQLITE_CANTOPEN ||
                    prim == SQLITE_READONLY))
        return err_set(e, sqlite_to_errno(rc), "%s: %s: %s (%s)", s->path, what,
                       sqlite3_errmsg(s->db), strerror(sys));
    /* SQLite keeps no errno for a failed write(2) (EFBIG, EIO); its code says which call. */
    if (rc == SQLITE_IOERR_WRITE || prim == SQLITE_FULL)
        return err_set(e, sqlite_to_errno(rc),
                       "%s: %s: %s (a write failed: the disk is full, a file size limit was "
                       "reached, or the device failed)",
                       s->path, what, sqlite3_errmsg(s->db));
    return err_set(e, sqlite_to_errno(rc), "%s: %s: %s", s->path, what, sqlite3_errmsg(s->db));
}

static int exec(struct store *s, const char *sql, struct err *e, const char *what)
{
    int rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? 0 : db_fail(s, rc, e, what);
}

static sqlite3_stmt *stmt_get(struct store *s, enum stmt_id id, struct err *e)
{
    if (!s->stmt[id]) {
        int rc = sqlite3_prepare_v3(s->db, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT,
                                    &s->stmt[id], NULL);
        if (rc != SQLITE_OK) {
            db_fail(s, rc, e, "prepare");
            s->stmt[id] = NULL;
            return NULL;
        }
    }
    return s->stmt[id];
}

/* Leaves a cached statement ready for its next use. */
static void stmt_done(sqlite3_stmt *st)
{
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
}

/* Runs a statement that returns no rows. */
static int stmt_run(struct store *s, sqlite3_stmt *st, struct err *e, const char *what)
{
    int rc = sqlite3_step(st);
    stmt_done(st);
    return rc == SQLITE_DONE ? 0 : db_fail(s, rc, e, what);
}

/* ---- binding and reading values ---- */

static void bind_text(sqlite3_stmt *st, int i, const char *v)
{
    sqlite3_bind_text(st, i, v ? v : "", -1, SQLITE_TRANSIENT);
}

static void bind_text_or_null(sqlite3_stmt *st, int i, const char *v)
{
    if (v)
        sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, i);
}

static void bind_opt_int(sqlite3_stmt *st, int i, int v)
{
    if (v < 0)
        sqlite3_bind_null(st, i);
    else
        sqlite3_bind_int(st, i, v);
}

static void bind_opt_dbl(sqlite3_stmt *st, int i, double v)
{
    if (isnan(v) || v < 0)
        sqlite3_bind_null(st, i);
    else
        sqlite3_bind_double(st, i, v);
}

/* SQLite stores NaN as NULL anyway; saying so keeps the intent visible. */
static void bind_dbl(sqlite3_stmt *st, int i, double v)
{
    if (isnan(v))
        sqlite3_bind_null(st, i);
    else
        sqlite3_bind_double(st, i, v);
}

/* Counters never pass INT64_MAX in practice; clamp rather than wrap. */
static void bind_u64(sqlite3_stmt *st, int i, uint64_t v)
{
    sqlite3_bind_int64(st, i, v > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)v);
}

static int col_int(sqlite3_stmt *st, int i)
{
    return sqlite3_column_type(st, i) == SQLITE_NULL ? -1 : sqlite3_column_int(st, i);
}

static double col_dbl(sqlite3_stmt *st, int i)
{
    return sqlite3_column_type(st, i) == SQLITE_NULL ? -1.0 : sqlite3_column_double(st, i);
}

static uint64_t col_u64(sqlite3_stmt *st, int i)
{
    int64_t v = sqlite3_column_int64(st, i);
    return v < 0 ? 0 : (uint64_t)v;
}

static void col_text(sqlite3_stmt *st, int i, char *dst, size_t n)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    mf_strlcpy(dst, t ? (const char *)t : "", n);
}

/* A phase's kind: '' (older rows) and 'linear' (its name before schema v8,
 * still the column's default) are the search's ladder. */
static void col_kind(sqlite3_stmt *st, int i, char *dst, size_t n)
{
    col_text(st, i, dst, n);
    if (!dst[0] || !strcmp(dst, "linear"))
        mf_strlcpy(dst, "ladder", n);
}

/* A 64-bit seed as decimal text: SQLite's integers are signed. */
static void bind_seed(sqlite3_stmt *st, int i, uint64_t v)
{
    char b[24];
    snprintf(b, sizeof b, "%llu", (unsigned long long)v);
    sqlite3_bind_text(st, i, b, -1, SQLITE_TRANSIENT);
}

static uint64_t col_seed(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return t && *t ? strtoull((const char *)t, NULL, 10) : 0;
}

/* NULL stays NULL; -ENOMEM when the copy fails. */
static int col_strdup(sqlite3_stmt *st, int i, char **out)
{
    *out = NULL;
    if (sqlite3_column_type(st, i) == SQLITE_NULL)
        return 0;
    const unsigned char *t = sqlite3_column_text(st, i);
    if (!t)
        return -ENOMEM;
    *out = strdup((const char *)t);
    return *out ? 0 : -ENOMEM;
}

#define BIND_INT(st, i, v) sqlite3_bind_int(st, i, v)
#define BIND_OINT(st, i, v) bind_opt_int(st, i, v)
#define BIND_DBL(st, i, v) bind_dbl(st, i, v)
#define BIND_ODBL(st, i, v) bind_opt_dbl(st, i, v)
#define BIND_U64(st, i, v) bind_u64(st, i, v)
#define BIND_BOOL(st, i, v) sqlite3_bind_int(st, i, (v) != 0)
#define BIND_TEXT(st, i, v) bind_text(st, i, v)
#define BIND_KIND(st, i, v) bind_text(st, i, (v)[0] ? (v) : "ladder")
#define BIND_SEED(st, i, v) bind_seed(st, i, v)

#define LOAD_SEED(st, i, f) f = col_seed(st, i)
#define LOAD_INT(st, i, f) f = col_int(st, i)
#define LOAD_OINT(st, i, f) f = col_int(st, i)
#define LOAD_DBL(st, i, f) f = col_dbl(st, i)
#define LOAD_ODBL(st, i, f) f = col_dbl(st, i)
#define LOAD_U64(st, i, f) f = col_u64(st, i)
#define LOAD_BOOL(st, i, f) f = sqlite3_column_int(st, i)
#define LOAD_TEXT(st, i, f) col_text(st, i, f, sizeof(f))
#define LOAD_KIND(st, i, f) col_kind(st, i, f, sizeof(f))

static void now_iso(char *buf, size_t n)
{
    iso8601_utc(time(NULL), buf, n);
}

/* ---- the process writing a run ---- */

/* Who writes a run, as recorded in its row (schema v4). start: the process's
 * start time in clock ticks since boot (/proc/PID/stat field 22), which tells
 * a reused pid from the writer; boot: /proc/sys/kernel/random/boot_id, which
 * tells a pid of an earlier boot. Either is -1 / "" where /proc does not say. */
struct owner {
    long long pid, start;
    char boot[40];
    char host[256];
};

/* Field 22 of /proc/PID/stat, -1 when unreadable; *zombie set for state Z. */
static long long proc_start(long long pid, int *zombie)
{
    char path[64], buf[1024];
    *zombie = 0;
    snprintf(path, sizeof(path), "/proc/%lld/stat", pid);
    FILE *f = fopen(path, "re");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    /* comm (field 2) may hold spaces and parentheses: fields 3.. follow the last ')'. */
    char *p = strrchr(buf, ')');
    if (!p)
        return -1;
    p++;
    for (int field = 3; field <= 22; field++) {
        while (*p == ' ')
            p++;
        if (!*p)
            return -1;
        if (field == 3)
            *zombie = *p == 'Z' || *p == 'X';
        if (field == 22) {
            char *end;
            errno = 0;
            long long v = strtoll(p, &end, 10);
            return (errno || end == p) ? -1 : v;
        }
        while (*p && *p != ' ')
            p++;
    }
    return -1;
}

static void owner_self(struct owner *o)
{
    int zombie;
    memset(o, 0, sizeof(*o));
    o->pid = (long long)getpid();
    o->start = proc_start(o->pid, &zombie);
    FILE *f = fopen("/proc/sys/kernel/random/boot_id", "re");
    if (f) {
        if (fgets(o->boot, sizeof(o->boot), f))
            o->boot[strcspn(o->boot, "\n")] = '\0';
        fclose(f);
    }
    if (gethostname(o->host, sizeof(o->host) - 1) != 0)
        o->host[0] = '\0';
    o->host[sizeof(o->host) - 1] = '\0';
}

enum owner_kind {
    OWNER_LEGACY,    /* written before schema v4: no owner recorded */
    OWNER_SELF,      /* this process */
    OWNER_GONE,      /* same host, the process no longer exists */
    OWNER_LIVE,      /* same host, another process that is still running */
    OWNER_ELSEWHERE, /* another host: cannot be checked from here */
};

static enum owner_kind owner_classify(const struct owner *row, const struct owner *self)
{
    if (row->pid <= 0)
        return OWNER_LEGACY;
    if (strcmp(row->host, self->host) != 0)
        return OWNER_ELSEWHERE;
    if (row->boot[0] && self->boot[0] && strcmp(row->boot, self->boot) != 0)
        return OWNER_GONE; /* written before the last reboot */
    if (row->pid == self->pid && (row->start < 0 || row->start == self->start))
        return OWNER_SELF;
    if (row->pid > INT32_MAX || (kill((pid_t)row->pid, 0) != 0 && errno == ESRCH))
        return OWNER_GONE;
    int zombie;
    long long start = proc_start(row->pid, &zombie);
    if (zombie)
        return OWNER_GONE;
    if (row->start >= 0 && start >= 0 && start != row->start)
        return OWNER_GONE; /* the pid now names another process */
    return OWNER_LIVE;
}

/* Runs still "running", each classified by its owner (at most 4096: more
 * running runs than that are a store no process should meet). */
struct running_run {
    int64_t id;
    long long pid;
    enum owner_kind kind;
};

/* Fills *out (malloc'd, caller frees) with the running runs. */
static int scan_running(struct store *s, struct running_run **out, size_t *n, struct err *e)
{
    *out = NULL;
    *n = 0;
    struct owner self, row;
    owner_self(&self);
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(s->db,
                                "SELECT id, owner_pid, owner_start, owner_boot, owner_host"
                                " FROM runs WHERE status = 'running' ORDER BY id LIMIT 4096",
                                -1, &st, NULL);
    if (rc != SQLITE_OK)
        return db_fail(s, rc, e, "find running runs");
    struct running_run *v = NULL;
    size_t len = 0, cap = 0;
    int r = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (len == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            struct running_run *nv = realloc(v, ncap * sizeof(*nv));
            if (!nv) {
                r = err_set(e, -ENOMEM, "%s: find running runs: out of memory", s->path);
                break;
            }
            v = nv;
            cap = ncap;
        }
        memset(&row, 0, sizeof(row));
        row.pid = sqlite3_column_type(st, 1) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, 1);
        row.start = sqlite3_column_type(st, 2) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, 2);
        col_text(st, 3, row.boot, sizeof(row.boot));
        col_text(st, 4, row.host, sizeof(row.host));
        v[len].id = sqlite3_column_int64(st, 0);
        v[len].pid = row.pid;
        v[len].kind = owner_classify(&row, &self);
        len++;
    }
    if (!r && rc != SQLITE_DONE)
        r = db_fail(s, rc, e, "find running runs");
    sqlite3_finalize(st);
    if (r < 0) {
        free(v);
        return r;
    }
    *out = v;
    *n = len;
    return 0;
}

/* Marks one run and its running cells interrupted (inside the caller's transaction). */
static int mark_run_interrupted(struct store *s, int64_t id, struct err *e)
{
    static const char *const sql[] = {
        "UPDATE cells SET status = 'interrupted' WHERE run_id = ?1 AND status = 'running'",
        "UPDATE runs SET status = 'interrupted', finished_at = ?2 WHERE id = ?1 AND status = "
        "'running'"};
    char now[32];
    now_iso(now, sizeof(now));
    for (size_t i = 0; i < sizeof(sql) / sizeof(sql[0]); i++) {
        sqlite3_stmt *st = NULL;
        int rc = sqlite3_prepare_v2(s->db, sql[i], -1, &st, NULL);
        if (rc == SQLITE_OK) {
            sqlite3_bind_int64(st, 1, id);
            if (i == 1)
                bind_text(st, 2, now);
            rc = sqlite3_step(st);
        }
        int r = rc == SQLITE_DONE ? 0 : db_fail(s, rc, e, "mark run interrupted");
        sqlite3_finalize(st);
        if (r < 0)
            return r;
    }
    return 0;
}

#define KIND_BIT(k) (1u << (k))

/* Inside the caller's transaction: marks the running runs whose owner kind is
 * in mask as interrupted, and counts them in *count. With busy set, the first
 * run of another live process on this host is reported there (id, pid; id 0
 * when none). */
static int mark_running(struct store *s, unsigned mask, int *count, int64_t *busy_id,
                        long long *busy_pid, struct err *e)
{
    struct running_run *v = NULL;
    size_t n = 0;
    int r = scan_running(s, &v, &n, e);
    if (busy_id)
        *busy_id = 0, *busy_pid = 0;
    if (count)
        *count = 0;
    for (size_t i = 0; r == 0 && i < n; i++) {
        if (busy_id && v[i].kind == OWNER_LIVE && !*busy_id)
            *busy_id = v[i].id, *busy_pid = v[i].pid;
        if (!(mask & KIND_BIT(v[i].kind)))
            continue;
        r = mark_run_interrupted(s, v[i].id, e);
        if (r == 0 && count)
            (*count)++;
    }
    free(v);
    return r;
}

static int busy_err(struct store *s, int64_t id, long long pid, struct err *e)
{
    return err_set(e, -EBUSY, "store busy: run %lld (pid %lld) is still running on %s",
                   (long long)id, pid, s->path);
}

int store_repair(struct store *s, int *count, struct err *e)
{
    if (count)
        *count = 0;
    /* Look first without the write lock: a reader that may not write the file
     * (or has nothing to repair) takes no lock at all. */
    struct running_run *v = NULL;
    size_t n = 0;
    int r = scan_running(s, &v, &n, e), gone = 0;
    for (size_t i = 0; r == 0 && i < n; i++)
        gone += v[i].kind == OWNER_GONE;
    free(v);
    if (r < 0 || gone == 0)
        return r;
    if ((r = exec(s, "BEGIN IMMEDIATE", e, "begin repair")) < 0)
        return r;
    if ((r = mark_running(s, KIND_BIT(OWNER_GONE), count, NULL, NULL, e)) < 0 ||
        (r = exec(s, "COMMIT", e, "commit repair")) < 0) {
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        if (count)
            *count = 0;
        return r;
    }
    return 0;
}

int store_open_repaired(const struct store *s)
{
    return s->repaired;
}

int store_busy(struct store *s, struct err *e)
{
    struct running_run *v = NULL;
    size_t n = 0;
    int r = scan_running(s, &v, &n, e);
    for (size_t i = 0; r == 0 && i < n; i++)
        if (v[i].kind == OWNER_LIVE) {
            r = busy_err(s, v[i].id, v[i].pid, e);
            break;
        }
    free(v);
    return r;
}

/* ---- paths ---- */

static const char *env_nonempty(const char *name);

/* mkdir -p of the folder holding path; new folders get 0700 (results may name
 * hosts and kernels). Existing folders are left as they are. */
static int mkdir_parents(const char *path, struct err *e)
{
    char dir[PATH_MAX];
    if (mf_strlcpy(dir, path, sizeof(dir)) >= sizeof(dir))
        return err_set(e, -ENAMETOOLONG, "%s: path too long", path);
    char *slash = strrchr(dir, '/');
    if (!slash || slash == dir)
        return 0;
    *slash = '\0';
    for (char *p = dir + 1;; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char c = *p;
        *p = '\0';
        if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
            int code = -errno;
            return err_set(e, code, "%s: cannot create folder: %s", dir, strerror(-code));
        }
        *p = c;
        if (c == '\0')
            break;
    }
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return err_set(e, -ENOTDIR, "%s: not a folder", dir);
    return 0;
}

int store_path_check(const char *path, int create_folders, struct err *e)
{
    if (!path || !*path)
        return err_set(e, -EINVAL, "store: empty path");
    if (strcmp(path, ":memory:") == 0)
        return 0;
    int r;
    if (create_folders && (r = mkdir_parents(path, e)) < 0)
        return r;
    char dir[PATH_MAX];
    if (mf_dirname(path, dir, sizeof(dir)) != 0)
        return err_set(e, -ENAMETOOLONG, "%s: path too long", path);
    struct stat st;
    if (stat(dir, &st) != 0) {
        int code = -errno;
        return err_set(e, code, "%s: the store's folder %s: %s (it is not created: make it first)",
                       path, dir, strerror(-code));
    }
    if (!S_ISDIR(st.st_mode))
        return err_set(e, -ENOTDIR, "%s: %s is not a folder", path, dir);
    if (access(dir, W_OK | X_OK) != 0) {
        int code = -errno;
        return err_set(e, code, "%s: the store's folder %s is not writable: %s", path, dir,
                       strerror(-code));
    }
    if (stat(path, &st) == 0) {
        if (!S_ISREG(st.st_mode))
            return err_set(e, -EINVAL, "%s: not a regular file", path);
        if (access(path, R_OK | W_OK) != 0) {
            int code = -errno;
            return err_set(e, code, "%s: %s", path, strerror(-code));
        }
    } else if (errno != ENOENT) {
        int code = -errno;
        return err_set(e, code, "%s: %s", path, strerror(-code));
    }
    return 0;
}

int store_path_is_default(const char *explicit_path)
{
    return !(explicit_path && *explicit_path) && !env_nonempty("MFBENCH_STORE");
}

static const char *env_nonempty(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

static const char *fit(char *buf, size_t n, int len)
{
    return len < 0 || (size_t)len >= n ? NULL : buf;
}

const char *store_default_path(const char *explicit_path, char *buf, size_t n)
{
    const char *v;
    if (!buf || n == 0)
        return NULL;
    if (explicit_path && *explicit_path)
        return fit(buf, n, snprintf(buf, n, "%s", explicit_path));
    if ((v = env_nonempty("MFBENCH_STORE")))
        return fit(buf, n, snprintf(buf, n, "%s", v));
    if ((v = env_nonempty("STATE_DIRECTORY"))) {
        /* systemd joins several StateDirectory= entries with ':'; ours is the first. */
        size_t len = strcspn(v, ":");
        return fit(buf, n, snprintf(buf, n, "%.*s/results.db", (int)len, v));
    }
    /* The XDG spec says relative values are invalid and must be ignored. */
    if ((v = env_nonempty("XDG_STATE_HOME")) && v[0] == '/')
        return fit(buf, n, snprintf(buf, n, "%s/mfbench/results.db", v));
    const char *home = env_nonempty("HOME");
    char pwbuf[4096];
    struct passwd pw, *res = NULL;
    if (!home && getpwuid_r(getuid(), &pw, pwbuf, sizeof(pwbuf), &res) == 0 && res && res->pw_dir &&
        *res->pw_dir)
        home = res->pw_dir;
    if (!home)
        return NULL;
    return fit(buf, n, snprintf(buf, n, "%s/.local/state/mfbench/results.db", home));
}

/* ---- open and migrate ---- */

static int pragma_int(struct store *s, const char *sql, int *out, struct err *e)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK)
        return db_fail(s, rc, e, sql);
    rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        int r = db_fail(s, rc, e, sql); /* before finalize: it resets the message */
        sqlite3_finalize(st);
        return r;
    }
    *out = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return 0;
}

static int check_version(struct store *s, int version, struct err *e)
{
    if (version > STORE_SCHEMA_VERSION)
        return err_set(e, -ENOTSUP,
                       "%s: schema version %d is newer than this mfbench knows (%d);"
                       " use a newer mfbench to read it",
                       s->path, version, STORE_SCHEMA_VERSION);
    if (version < 0)
        return err_set(e, -EILSEQ, "%s: invalid schema version %d", s->path, version);
    return 0;
}

/* Refuses, before anything writes to it, a file of a newer schema or of
 * another application. Sets *version. */
static int check_file(struct store *s, int *version, struct err *e)
{
    int app = 0, r;
    if ((r = pragma_int(s, "PRAGMA user_version", version, e)) < 0)
        return r;
    if ((r = check_version(s, *version, e)) < 0)
        return r;
    if ((r = pragma_int(s, "PRAGMA application_id", &app, e)) < 0)
        return r;
    if (app != 0 && app != STORE_APP_ID)
        return err_set(e, -EILSEQ, "%s: not an mfbench store (application_id %#x)", s->path,
                       (unsigned)app);
    return 0;
}

static int migrate(struct store *s, int version, struct err *e)
{
    int r;
    while (version < STORE_SCHEMA_VERSION) {
        /* IMMEDIATE takes the write lock first, so two processes opening an old
         * file at once migrate it once: the second re-reads the version. */
        if ((r = exec(s, "BEGIN IMMEDIATE", e, "begin migration")) < 0)
            return r;
        if ((r = pragma_int(s, "PRAGMA user_version", &version, e)) < 0 ||
            (r = check_version(s, version, e)) < 0)
            goto rollback;
        if (version >= STORE_SCHEMA_VERSION) {
            if ((r = exec(s, "COMMIT", e, "commit")) < 0)
                goto rollback;
            break;
        }
        char what[64], bump[64];
        snprintf(what, sizeof(what), "migration %d -> %d", version, version + 1);
        snprintf(bump, sizeof(bump), "PRAGMA user_version = %d", version + 1);
        if ((r = exec(s, migrations[version], e, what)) < 0 || (r = exec(s, bump, e, what)) < 0 ||
            (r = exec(s, "COMMIT", e, what)) < 0)
            goto rollback;
        version++;
    }
    return 0;
rollback:
    sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    return r;
}

int store_open(const char *path, struct store **out, struct err *e)
{
    *out = NULL;
    if (!path || !*path)
        return err_set(e, -EINVAL, "store: empty path");
    struct store *s = calloc(1, sizeof(*s));
    if (!s)
        return err_set(e, -ENOMEM, "store: out of memory");
    int r;
    if (mf_strlcpy(s->path, path, sizeof(s->path)) >= sizeof(s->path)) {
        r = err_set(e, -ENAMETOOLONG, "%s: path too long", path);
        goto fail;
    }
    /* Folders are not created here: store_path_check does, for the default
     * locations only; a path the user gave names a folder that must exist. */
    int rc = sqlite3_open_v2(
        path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        if (!s->db) {
            r = err_set(e, -ENOMEM, "%s: cannot open: out of memory", path);
            goto fail;
        }
        r = db_fail(s, rc, e, "cannot open");
        goto fail;
    }
    sqlite3_extended_result_codes(s->db, 1);
    /* A reader (the CLI) and the writer (the daemon) share the file: wait for
     * each other's locks rather than failing at once. */
    sqlite3_busy_timeout(s->db, STORE_BUSY_MS);
    /* Durability: in WAL mode every COMMIT appends its pages to the -wal file
     * with write(2) before sqlite3_step returns. With synchronous=NORMAL the WAL
     * is not fsync'd on each commit, but the data is already in the kernel's page
     * cache, so it survives the process dying in any way (SIGKILL, abort, OOM
     * kill): the next open replays the WAL. Only a power loss or kernel crash
     * can drop the last commits (the database never becomes corrupt, it rolls
     * back to an earlier commit). For a benchmark that is an acceptable trade
     * against an fsync per phase; tests/store checks the SIGKILL case. */
    int version = 0, fk = 0;
    if ((r = check_file(s, &version, e)) < 0)
        goto fail;
    if ((r = exec(s, "PRAGMA journal_mode = WAL", e, "journal_mode")) < 0 ||
        (r = exec(s, "PRAGMA synchronous = NORMAL", e, "synchronous")) < 0 ||
        (r = exec(s, "PRAGMA foreign_keys = ON", e, "foreign_keys")) < 0 ||
        (r = pragma_int(s, "PRAGMA foreign_keys", &fk, e)) < 0)
        goto fail;
    if (fk != 1) {
        r = err_set(e, -ENOTSUP, "%s: this SQLite cannot enforce foreign keys", path);
        goto fail;
    }
    if ((r = migrate(s, version, e)) < 0)
        goto fail;
    /* Runs left "running" by a process that is gone (killed, disk full, host
     * rebooted) are marked interrupted. Best effort: a handle that may not
     * write, or a lock held too long, leaves it to the next open. */
    struct err re;
    err_clear(&re);
    if (store_repair(s, &s->repaired, &re) < 0)
        err_clear(&re);
    *out = s;
    return 0;
fail:
    store_close(s);
    return r;
}

/* "file:" URI of path with everything but [A-Za-z0-9/._-] percent-encoded. */
static int file_uri(const char *path, const char *query, char *buf, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;
    int w = snprintf(buf, n, "file:");
    if (w < 0 || (size_t)w >= n)
        return -1;
    o = (size_t)w;
    for (const unsigned char *c = (const unsigned char *)path; *c; c++) {
        int plain = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
                    (*c >= '0' && *c <= '9') || *c == '/' || *c == '.' || *c == '_' || *c == '-';
        if (o + 4 >= n)
            return -1;
        if (plain) {
            buf[o++] = (char)*c;
        } else {
            buf[o++] = '%';
            buf[o++] = hex[*c >> 4];
            buf[o++] = hex[*c & 15];
        }
    }
    w = snprintf(buf + o, n - o, "%s", query);
    return (w < 0 || (size_t)w >= n - o) ? -1 : 0;
}

/* Read-only, never migrating: a store this user may read but not write.
 * immutable: no locks and no -shm, for a file nobody has open for writing (no
 * -wal file) in a folder where the -shm file cannot be created. */
static int open_ro(const char *path, int immutable, struct store **out, struct err *e)
{
    *out = NULL;
    struct store *s = calloc(1, sizeof(*s));
    if (!s)
        return err_set(e, -ENOMEM, "store: out of memory");
    int r;
    char uri[sizeof(s->path) * 3 + 32];
    if (mf_strlcpy(s->path, path, sizeof(s->path)) >= sizeof(s->path) ||
        file_uri(path, immutable ? "?immutable=1" : "?mode=ro", uri, sizeof(uri)) < 0) {
        r = err_set(e, -ENAMETOOLONG, "%s: path too long", path);
        goto fail;
    }
    int rc = sqlite3_open_v2(uri, &s->db,
                             SQLITE_OPEN_READONLY | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        r = s->db ? db_fail(s, rc, e, "cannot open read-only")
                  : err_set(e, -ENOMEM, "%s: cannot open: out of memory", path);
        goto fail;
    }
    sqlite3_extended_result_codes(s->db, 1);
    sqlite3_busy_timeout(s->db, STORE_BUSY_MS);
    int version = 0;
    if ((r = check_file(s, &version, e)) < 0)
        goto fail;
    if (version < STORE_SCHEMA_VERSION) {
        r = err_set(e, -EACCES,
                    "%s: schema version %d is older than this mfbench's (%d), and the file is "
                    "read-only to this user; let its owner open it once (mfbenchd does at "
                    "start) to upgrade it",
                    path, version, STORE_SCHEMA_VERSION);
        goto fail;
    }
    *out = s;
    return 0;
fail:
    store_close(s);
    return r;
}

int store_open_reader(const char *path, struct store **out, struct err *e)
{
    int r = store_open(path, out, e);
    if (r == 0 || (r != -EACCES && r != -EPERM && r != -EROFS && r != -ENOENT))
        return r;
    if (!path || strcmp(path, ":memory:") == 0 || access(path, F_OK) != 0)
        return r; /* nothing to read: keep store_open's error */
    struct err e2;
    err_clear(&e2);
    if (open_ro(path, 0, out, &e2) == 0)
        return 0;
    char wal[sizeof(((struct store *)0)->path) + 8];
    if (e2.code != -ENOTSUP && e2.code != -EILSEQ &&
        snprintf(wal, sizeof(wal), "%s-wal", path) < (int)sizeof(wal) && access(wal, F_OK) != 0) {
        err_clear(&e2);
        if (open_ro(path, 1, out, &e2) == 0)
            return 0;
    }
    *e = e2;
    return e2.code;
}

/* ---- pruning ---- */

/* The runs to prune: ?1 = before (NULL = any age), ?2 = keep (< 0 = none). */
#define PRUNE_SET                                                                                  \
    "SELECT id FROM runs WHERE status <> 'running'"                                                \
    " AND (?1 IS NULL OR started_at < ?1)"                                                         \
    " AND (?2 < 0 OR id NOT IN (SELECT id FROM runs ORDER BY started_at DESC, id DESC"             \
    " LIMIT ?2))"

static int prune_step(struct store *s, const char *sql, const char *before, int64_t keep,
                      int64_t *count, struct err *e)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK)
        return db_fail(s, rc, e, "prune");
    if (before)
        sqlite3_bind_text(st, 1, before, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, 1);
    sqlite3_bind_int64(st, 2, keep);
    rc = sqlite3_step(st);
    if (count && rc == SQLITE_ROW)
        *count = sqlite3_column_int64(st, 0);
    int r = (rc == SQLITE_ROW || rc == SQLITE_DONE) ? 0 : db_fail(s, rc, e, "prune");
    sqlite3_finalize(st);
    return r;
}

int store_prune(struct store *s, const char *before, int64_t keep, int dry_run,
                struct store_prune_stats *out, struct err *e)
{
    memset(out, 0, sizeof(*out));
    if (!before && keep < 0)
        return err_set(e, -EINVAL, "prune: give an age, a number of runs to keep, or both");
    int r;
    if ((r = exec(s, "BEGIN IMMEDIATE", e, "begin prune")) < 0)
        return r;
    if ((r = prune_step(s, "SELECT count(*) FROM (" PRUNE_SET ")", before, keep, &out->runs, e)) <
            0 ||
        (r = prune_step(s, "SELECT count(*) FROM cells WHERE run_id IN (" PRUNE_SET ")", before,
                        keep, &out->cells, e)) < 0 ||
        (r = prune_step(s,
                        "SELECT count(*) FROM phases WHERE cell_id IN (SELECT id FROM cells"
                        " WHERE run_id IN (" PRUNE_SET "))",
                        before, keep, &out->phases, e)) < 0)
        goto rollback;
    if (!dry_run && out->runs > 0 &&
        (r = prune_step(s, "DELETE FROM runs WHERE id IN (" PRUNE_SET ")", before, keep, NULL, e)) <
            0)
        goto rollback;
    if ((r = exec(s, dry_run ? "ROLLBACK" : "COMMIT", e, "commit prune")) < 0)
        goto rollback;
    return 0;
rollback:
    sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    return r;
}

void store_close(struct store *s)
{
    if (!s)
        return;
    for (int i = 0; i < ST__COUNT; i++)
        sqlite3_finalize(s->stmt[i]);
    /* close_v2 would defer; every statement is finalized above, so plain close succeeds. */
    sqlite3_close(s->db);
    free(s);
}

/* ---- writes ---- */

int store_run_begin(struct store *s, struct run_record *r, struct err *e)
{
    sqlite3_stmt *st = stmt_get(s, ST_RUN_INSERT, e);
    if (!st)
        return e->code;
    if (!r->started_at[0])
        now_iso(r->started_at, sizeof(r->started_at));
    bind_text(st, 1, r->started_at);
    bind_text(st, 2, r->trigger);
    bind_text(st, 3, r->profile);
    bind_text(st, 4, r->matrix_sha256);
    bind_text(st, 5, r->node_host);
    bind_text(st, 6, r->node_cpus);
    bind_text(st, 7, r->node_kernel);
    bind_text(st, 8, r->node_cpu_model);
    bind_opt_int(st, 9, r->node_cpu_count);
    bind_text(st, 10, r->node_governor);
    bind_text(st, 11, r->node_python);
    bind_opt_dbl(st, 12, r->node_loadavg);
    struct owner self;
    owner_self(&self);
    sqlite3_bind_int64(st, 13, self.pid);
    if (self.start >= 0)
        sqlite3_bind_int64(st, 14, self.start);
    else
        sqlite3_bind_null(st, 14);
    bind_text(st, 15, self.boot);
    bind_text(st, 16, self.host);
    bind_text(st, 17, r->settings);
    /* The check and the insert in one IMMEDIATE transaction: of two processes
     * beginning a run at once, the second sees the first's row. */
    int64_t busy_id = 0;
    long long busy_pid = 0;
    int ret = exec(s, "BEGIN IMMEDIATE", e, "begin run");
    if (ret < 0) {
        stmt_done(st);
        return ret;
    }
    if ((ret = mark_running(s, KIND_BIT(OWNER_GONE), NULL, &busy_id, &busy_pid, e)) < 0)
        goto rollback;
    if (busy_id) {
        ret = busy_err(s, busy_id, busy_pid, e);
        goto rollback;
    }
    if ((ret = stmt_run(s, st, e, "insert run")) < 0)
        goto rollback;
    r->id = sqlite3_last_insert_rowid(s->db);
    if ((ret = exec(s, "COMMIT", e, "commit run")) < 0)
        goto rollback;
    mf_strlcpy(r->status, "running", sizeof(r->status));
    r->finished_at[0] = '\0';
    return 0;
rollback:
    stmt_done(st);
    sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    r->id = 0;
    return ret;
}

static int expect_one_change(struct store *s, struct err *e, const char *what, int64_t id)
{
    if (sqlite3_changes(s->db) == 0)
        return err_set(e, -ENOENT, "%s: %s: no row with id %lld", s->path, what, (long long)id);
    return 0;
}

int store_run_finish(struct store *s, int64_t run_id, const char *status, struct err *e)
{
    if (!status || !*status)
        return err_set(e, -EINVAL, "%s: finish run %lld: empty status", s->path, (long long)run_id);
    sqlite3_stmt *st = stmt_get(s, ST_RUN_FINISH, e);
    if (!st)
        return e->code;
    char now[32];
    now_iso(now, sizeof(now));
    bind_text(st, 1, now);
    bind_text(st, 2, status);
    sqlite3_bind_int64(st, 3, run_id);
    int r = stmt_run(s, st, e, "finish run");
    if (r == -EIO || r == -ENOSPC) {
        /* A full disk or a size limit: once more after giving back the WAL's
         * space (see store_run_abort), so the run does not stay "running". */
        sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
        bind_text(st, 1, now);
        bind_text(st, 2, status);
        sqlite3_bind_int64(st, 3, run_id);
        err_clear(e);
        r = stmt_run(s, st, e, "finish run");
    }
    return r < 0 ? r : expect_one_change(s, e, "finish run", run_id);
}

int store_cell_begin(struct store *s, int64_t run_id, struct cell_result *c, struct err *e)
{
    sqlite3_stmt *st = stmt_get(s, ST_CELL_INSERT, e);
    if (!st)
        return e->code;
    sqlite3_bind_int64(st, 1, run_id);
    bind_text(st, 2, c->framework);
    bind_text(st, 3, c->payload);
    bind_text_or_null(st, 4, c->error);
    bind_text_or_null(st, 5, c->versions_json);
    int r = stmt_run(s, st, e, "insert cell");
    if (r < 0)
        return r;
    c->id = sqlite3_last_insert_rowid(s->db);
    c->status = CELL_RUNNING;
    return 0;
}

/* Replaces the cell's load points (inside the caller's transaction). */
static int store_load_points(struct store *s, const struct cell_result *c, struct err *e)
{
    sqlite3_stmt *st = stmt_get(s, ST_LOAD_POINT_DELETE, e);
    if (!st)
        return e->code;
    sqlite3_bind_int64(st, 1, c->id);
    int r = stmt_run(s, st, e, "delete load points");
    for (int i = 0; r == 0 && i < c->nload_points && i < CELL_MAX_LOAD_POINTS; i++) {
        const struct load_point *lp = &c->load_points[i];
        if (!(st = stmt_get(s, ST_LOAD_POINT_INSERT, e)))
            return e->code;
        sqlite3_bind_int64(st, 1, c->id);
        bind_dbl(st, 2, lp->pct_of_peak);
        bind_opt_dbl(st, 3, lp->offered_rps);
        bind_dbl(st, 4, lp->rps);
        bind_dbl(st, 5, lp->latency_ms.mean);
        bind_dbl(st, 6, lp->latency_ms.p50);
        bind_dbl(st, 7, lp->latency_ms.p90);
        bind_dbl(st, 8, lp->latency_ms.p99);
        bind_dbl(st, 9, lp->latency_ms.p999);
        bind_dbl(st, 10, lp->latency_ms.max);
        bind_u64(st, 11, lp->failures);
        sqlite3_bind_int(st, 12, lp->of_slo != 0);
        bind_u64(st, 13, lp->offered);
        bind_u64(st, 14, lp->completed);
        bind_u64(st, 15, lp->in_flight);
        r = stmt_run(s, st, e, "insert load point");
    }
    return r;
}

static void bind_latency(sqlite3_stmt *st, int i, const struct latency_ms *l)
{
    bind_opt_dbl(st, i, l->mean);
    bind_opt_dbl(st, i + 1, l->p50);
    bind_opt_dbl(st, i + 2, l->p90);
    bind_opt_dbl(st, i + 3, l->p99);
    bind_opt_dbl(st, i + 4, l->p999);
    bind_opt_dbl(st, i + 5, l->max);
}

/* Replaces the cell's SLO rows (inside the caller's transaction). */
static int store_slo(struct store *s, const struct cell_result *c, struct err *e)
{
    sqlite3_stmt *st = stmt_get(s, ST_SLO_DELETE, e);
    if (!st)
        return e->code;
    sqlite3_bind_int64(st, 1, c->id);
    int r = stmt_run(s, st, e, "delete slo");
    for (int i = 0; r == 0 && i < c->nslo && i < CELL_MAX_SLO; i++) {
        const struct cell_slo *o = &c->slo[i];
        if (!(st = stmt_get(s, ST_SLO_INSERT, e)))
            return e->code;
        sqlite3_bind_int64(st, 1, c->id);
        sqlite3_bind_int(st, 2, i);
        bind_dbl(st, 3, o->bound_ms);
        bind_opt_dbl(st, 4, o->rps);
        bind_opt_dbl(st, 5, o->bracket_lo);
        bind_opt_dbl(st, 6, o->bracket_hi);
        bind_text(st, 7, o->limit);
        bind_latency(st, 8, &o->latency_ms);
        sqlite3_bind_int(st, 14, o->probes);
        bind_dbl(st, 15, o->resolution_pct);
        bind_dbl(st, 16, o->failures_pct);
        r = stmt_run(s, st, e, "insert slo");
    }
    return r;
}

int store_cell_set_node(struct store *s, int64_t cell_id, const char *host, int64_t slurm_job_id,
                        struct err *e)
{
    sqlite3_stmt *st = stmt_get(s, ST_CELL_NODE, e);
    if (!st)
        return e->code;
    bind_text(st, 1, host ? host : "");
    if (slurm_job_id > 0)
        sqlite3_bind_int64(st, 2, slurm_job_id);
    else
        sqlite3_bind_null(st, 2);
    sqlite3_bind_int64(st, 3, cell_id);
    int r = stmt_run(s, st, e, "cell node");
    return r ? r : expect_one_change(s, e, "cell node", cell_id);
}

int store_cell_set_fingerprint(struct store *s, int64_t cell_id, const char *json, struct err *e)
{
    sqlite3_stmt *st = stmt_get(s, ST_CELL_FINGERPRINT, e);
    if (!st)
        return e->code;
    bind_text(st, 1, json ? json : "");
    sqlite3_bind_int64(st, 2, cell_id);
    int r = stmt_run(s, st, e, "cell fingerprint");
    return r ? r : expect_one_change(s, e, "cell fingerprint", cell_id);
}

int store_cell_finish(struct store *s, const struct cell_result *c, struct err *e)
{
    sqlite3_stmt *st = stmt_get(s, ST_CELL_FINISH, e);
    if (!st)
        return e->code;
    bind_text(st, 1, cell_status_name(c->status));
    bind_text_or_null(st, 2, c->error);
    bind_text_or_null(st, 3, c->versions_json);
    bind_opt_int(st, 4, c->capacity_users);
    bind_opt_int(st, 5, c->breaking_users);
    bind_dbl(st, 6, c->peak_rps);
    sqlite3_bind_int(st, 7, c->repeats);
    bind_opt_dbl(st, 8, c->capacity_median);
    bind_opt_dbl(st, 9, c->capacity_iqr);
    bind_opt_dbl(st, 10, c->capacity_min);
    bind_opt_dbl(st, 11, c->capacity_max);
    bind_opt_dbl(st, 12, c->peak_rps_median);
    bind_opt_dbl(st, 13, c->peak_rps_iqr);
    bind_opt_dbl(st, 14, c->peak_rps_min);
    bind_opt_dbl(st, 15, c->peak_rps_max);
    bind_opt_dbl(st, 16, c->peak_rps_spread);
    sqlite3_bind_int(st, 17, c->peak_rps_load_bound != 0);
    bind_text(st, 18, c->note);
    bind_opt_int(st, 19, c->held_users);
    bind_text(st, 20, c->held_limit);
    bind_opt_dbl(st, 21, c->peak_rps_passing);
    bind_text(st, 22, c->held_setting);
    sqlite3_bind_int64(st, 23, c->id);
    /* The cell's row and its load points in one transaction. */
    int r = exec(s, "BEGIN IMMEDIATE", e, "begin");
    if (r < 0)
        return r;
    r = stmt_run(s, st, e, "finish cell");
    if (r == 0)
        r = expect_one_change(s, e, "finish cell", c->id);
    if (r == 0)
        r = store_load_points(s, c, e);
    if (r == 0)
        r = store_slo(s, c, e);
    if (r == 0)
        return exec(s, "COMMIT", e, "commit");
    sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    return r;
}

int store_phase_add_id(struct store *s, int64_t cell_id, int seq, const struct phase_result *p,
                       int64_t *phase_id, struct err *e)
{
    sqlite3_stmt *st = stmt_get(s, ST_PHASE_INSERT, e);
    if (!st)
        return e->code;
    int i = 1;
    sqlite3_bind_int64(st, i++, cell_id);
    sqlite3_bind_int(st, i++, seq);
#define BIND_COL(name, kind, field) BIND_##kind(st, i++, field);
    PHASE_COLUMNS(BIND_COL)
#undef BIND_COL
    /* One INSERT in autocommit mode is its own transaction: committed (in the
     * WAL, see store_open) when the step returns. */
    int r = stmt_run(s, st, e, "insert phase");
    if (r < 0)
        return r;
    if (phase_id)
        *phase_id = sqlite3_last_insert_rowid(s->db);
    return 0;
}

int store_phase_add(struct store *s, int64_t cell_id, int seq, const struct phase_result *p,
                    struct err *e)
{
    return store_phase_add_id(s, cell_id, seq, p, NULL, e);
}

int store_phase_series_add(struct store *s, int64_t phase_id, const struct store_series_point *pts,
                           size_t n, struct err *e)
{
    if (n == 0)
        return 0;
    sqlite3_stmt *st = stmt_get(s, ST_SERIES_INSERT, e);
    if (!st)
        return e->code;
    int r = exec(s, "BEGIN IMMEDIATE", e, "begin series");
    if (r < 0)
        return r;
    for (size_t k = 0; k < n; k++) {
        const struct store_series_point *pt = &pts[k];
        sqlite3_bind_int64(st, 1, phase_id);
        bind_dbl(st, 2, pt->t_s);
        sqlite3_bind_int(st, 3, pt->users);
        bind_u64(st, 4, pt->requests);
        bind_u64(st, 5, pt->failures);
        bind_opt_dbl(st, 6, pt->p50_ms);
        bind_opt_dbl(st, 7, pt->p99_ms);
        if ((r = stmt_run(s, st, e, "insert series point")) < 0)
            goto rollback;
    }
    if ((r = exec(s, "COMMIT", e, "commit series")) < 0)
        goto rollback;
    return 0;
rollback:
    sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    return r;
}

int store_mark_interrupted(struct store *s, int *count, struct err *e)
{
    if (count)
        *count = 0;
    int r = exec(s, "BEGIN IMMEDIATE", e, "begin");
    if (r < 0)
        return r;
    /* Not the runs of another live process on this host (a foreground run
     * beside the daemon), nor those of another host, which cannot be checked. */
    int n = 0;
    if ((r = mark_running(s, KIND_BIT(OWNER_LEGACY) | KIND_BIT(OWNER_SELF) | KIND_BIT(OWNER_GONE),
                          &n, NULL, NULL, e)) < 0 ||
        (r = exec(s, "COMMIT", e, "commit")) < 0) {
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        return r;
    }
    if (count)
        *count = n;
    return 0;
}

/* One attempt of store_run_abort, in one transaction. */
static int abort_once(struct store *s, int64_t run_id, const struct store_cell_name *not_run,
                      size_t n, const char *why, struct err *e)
{
    int r = exec(s, "BEGIN IMMEDIATE", e, "begin");
    if (r < 0)
        return r;
    for (size_t i = 0; r == 0 && i < n; i++) {
        sqlite3_stmt *st = NULL;
        int rc = sqlite3_prepare_v2(s->db,
                                    "INSERT INTO cells(run_id, seq, framework, payload, status,"
                                    " error, peak_rps)"
                                    " SELECT ?1, COALESCE(MAX(seq) + 1, 0), ?2, ?3,"
                                    " 'interrupted', ?4, 0 FROM cells WHERE run_id = ?1",
                                    -1, &st, NULL);
        if (rc == SQLITE_OK) {
            sqlite3_bind_int64(st, 1, run_id);
            bind_text(st, 2, not_run[i].framework);
            bind_text(st, 3, not_run[i].payload);
            bind_text_or_null(st, 4, why);
            rc = sqlite3_step(st);
        }
        r = rc == SQLITE_DONE ? 0 : db_fail(s, rc, e, "store a cell not run");
        sqlite3_finalize(st);
    }
    if (r == 0)
        r = mark_run_interrupted(s, run_id, e);
    if (r == 0)
        r = exec(s, "COMMIT", e, "commit");
    if (r < 0)
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    return r;
}

int store_run_abort(struct store *s, int64_t run_id, const struct store_cell_name *not_run,
                    size_t n, const char *why, struct err *e)
{
    int r = abort_once(s, run_id, not_run, n, why, e);
    if (r == 0)
        return 0;
    /* Give back what can be given back, then try again: the pages of the WAL
     * go into the database and the WAL is truncated (on a full disk that frees
     * its space; under a file size limit the next write starts at offset 0). */
    sqlite3_db_release_memory(s->db);
    sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
    err_clear(e);
    if ((r = abort_once(s, run_id, not_run, n, why, e)) == 0 || n == 0)
        return r;
    /* The least that says the run ended: its own row. */
    err_clear(e);
    if ((r = abort_once(s, run_id, NULL, 0, NULL, e)) == 0)
        return err_set(e, -ENOSPC,
                       "%s: run %lld marked interrupted, but the cells not run could "
                       "not be stored",
                       s->path, (long long)run_id);
    return r;
}

/* ---- reads ---- */

static int load_phases(struct store *s, struct cell_result *c, struct err *e)
{
    sqlite3_stmt *st = stmt_get(s, ST_PHASES_SELECT, e);
    if (!st)
        return e->code;
    sqlite3_bind_int64(st, 1, c->id);
    int rc, r = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct phase_result ph, *p = &ph;
        phase_result_init(p);
        p->id = sqlite3_column_int64(st, 0); /* ordered by seq in the query */
        int i = 1;
#define LOAD_COL(name, kind, field) LOAD_##kind(st, i, field), i++;
        PHASE_COLUMNS(LOAD_COL)
#undef LOAD_COL
        if (cell_result_add_phase(c, p) < 0) {
            r = err_set(e, -ENOMEM, "%s: load phases: out of memory", s->path);
            break;
        }
    }
    if (!r && rc != SQLITE_DONE)
        r = db_fail(s, rc, e, "load phases");
    stmt_done(st);
    return r;
}

static int load_load_points(struct store *s, struct cell_result *c, struct err *e)
{
    sqlite3_stmt *st = stmt_get(s, ST_LOAD_POINTS_SELECT, e);
    if (!st)
        return e->code;
    sqlite3_bind_int64(st, 1, c->id);
    int rc;
    c->nload_points = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (c->nload_points >= CELL_MAX_LOAD_POINTS)
            continue;
        struct load_point *lp = &c->load_points[c->nload_points++];
        lp->pct_of_peak = col_dbl(st, 0);
        lp->offered_rps = col_dbl(st, 1);
        lp->rps = col_dbl(st, 2);
        lp->latency_ms.mean = col_dbl(st, 3);
        lp->latency_ms.p50 = col_dbl(st, 4);
        lp->latency_ms.p90 = col_dbl(st, 5);
        lp->latency_ms.p99 = col_dbl(st, 6);
        lp->latency_ms.p999 = col_dbl(st, 7);
        lp->latency_ms.max = col_dbl(st, 8);
        lp->failures = col_u64(st, 9);
        lp->of_slo = sqlite3_column_int(st, 10);
        lp->offered = col_u64(st, 11);
        lp->completed = col_u64(st, 12);
        lp->in_flight = col_u64(st, 13);
    }
    int r = rc == SQLITE_DONE ? 0 : db_fail(s, rc, e, "load points");
    stmt_done(st);
    return r;
}

static int load_slo(struct store *s, struct cell_result *c, struct err *e)
{
    sqlite3_stmt *st = stmt_get(s, ST_SLO_SELECT, e);
    if (!st)
        return e->code;
    sqlite3_bind_int64(st, 1, c->id);
    int rc;
    c->nslo = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (c->nslo >= CELL_MAX_SLO)
            continue;
        struct cell_slo *o = &c->slo[c->nslo++];
        o->bound_ms = col_dbl(st, 0);
        o->rps = col_dbl(st, 1);
        o->bracket_lo = col_dbl(st, 2);
        o->bracket_hi = col_dbl(st, 3);
        col_text(st, 4, o->limit, sizeof(o->limit));
        o->latency_ms.mean = col_dbl(st, 5);
        o->latency_ms.p50 = col_dbl(st, 6);
        o->latency_ms.p90 = col_dbl(st, 7);
        o->latency_ms.p99 = col_dbl(st, 8);
        o->latency_ms.p999 = col_dbl(st, 9);
        o->latency_ms.max = col_dbl(st, 10);
        o->probes = sqlite3_column_int(st, 11);
        o->resolution_pct = col_dbl(st, 12);
        o->failures_pct = col_dbl(st, 13);
    }
    int r = rc == SQLITE_DONE ? 0 : db_fail(s, rc, e, "load slo");
    stmt_done(st);
    return r;
}

static int load_cells(struct store *s, struct run_record *out, struct err *e)
{
    sqlite3_stmt *st = stmt_get(s, ST_CELLS_SELECT, e);
    if (!st)
        return e->code;
    sqlite3_bind_int64(st, 1, out->id);
    size_t cap = 0;
    int rc, r = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (out->ncells == cap) {
            size_t ncap = cap ? cap * 2 : 8;
            struct cell_result *n = realloc(out->cells, ncap * sizeof(*n));
            if (!n) {
                r = err_set(e, -ENOMEM, "%s: load cells: out of memory", s->path);
                break;
            }
            out->cells = n;
            cap = ncap;
        }
        struct cell_result *c = &out->cells[out->ncells++];
        memset(c, 0, sizeof(*c));
        c->id = sqlite3_column_int64(st, 0);
        col_text(st, 1, c->framework, sizeof(c->framework));
        col_text(st, 2, c->payload, sizeof(c->payload));
        char status[32];
        col_text(st, 3, status, sizeof(status));
        /* A status this build does not know is shown as an error, not hidden. */
        if (cell_status_parse(status, &c->status) < 0)
            c->status = CELL_ERROR;
        if (col_strdup(st, 4, &c->error) < 0 || col_strdup(st, 5, &c->versions_json) < 0) {
            r = err_set(e, -ENOMEM, "%s: load cells: out of memory", s->path);
            break;
        }
        c->capacity_users = col_int(st, 6);
        c->breaking_users = col_int(st, 7);
        c->peak_rps = col_dbl(st, 8);
        c->repeats = col_int(st, 9);
        c->capacity_median = col_dbl(st, 10);
        c->capacity_iqr = col_dbl(st, 11);
        c->capacity_min = col_dbl(st, 12);
        c->capacity_max = col_dbl(st, 13);
        c->peak_rps_median = col_dbl(st, 14);
        c->peak_rps_iqr = col_dbl(st, 15);
        c->peak_rps_min = col_dbl(st, 16);
        c->peak_rps_max = col_dbl(st, 17);
        c->peak_rps_spread = col_dbl(st, 18);
        c->peak_rps_load_bound = sqlite3_column_int(st, 19);
        col_text(st, 20, c->note, sizeof(c->note));
        c->held_users = col_int(st, 21);
        col_text(st, 22, c->held_limit, sizeof(c->held_limit));
        c->peak_rps_passing = col_dbl(st, 23);
        col_text(st, 24, c->held_setting, sizeof(c->held_setting));
        col_text(st, 25, c->node_host, sizeof(c->node_host));
        c->slurm_job_id =
            sqlite3_column_type(st, 26) == SQLITE_NULL ? 0 : sqlite3_column_int64(st, 26);
        col_text(st, 27, c->node_fingerprint, sizeof(c->node_fingerprint));
    }
    if (!r && rc != SQLITE_DONE)
        r = db_fail(s, rc, e, "load cells");
    stmt_done(st);
    /* Phases after the cells' statement is reset: one statement active at a time. */
    for (size_t i = 0; !r && i < out->ncells; i++)
        r = load_phases(s, &out->cells[i], e);
    for (size_t i = 0; !r && i < out->ncells; i++)
        r = load_load_points(s, &out->cells[i], e);
    for (size_t i = 0; !r && i < out->ncells; i++)
        r = load_slo(s, &out->cells[i], e);
    return r;
}

int store_load_run(struct store *s, int64_t run_id, struct run_record *out, struct err *e)
{
    memset(out, 0, sizeof(*out));
    sqlite3_stmt *st = stmt_get(s, ST_RUN_SELECT, e);
    if (!st)
        return e->code;
    /* One read transaction, so a concurrent writer cannot show us half a cell. */
    int r = exec(s, "BEGIN", e, "begin");
    if (r < 0)
        return r;
    sqlite3_bind_int64(st, 1, run_id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        out->id = sqlite3_column_int64(st, 0);
        col_text(st, 1, out->started_at, sizeof(out->started_at));
        col_text(st, 2, out->finished_at, sizeof(out->finished_at));
        col_text(st, 3, out->trigger, sizeof(out->trigger));
        col_text(st, 4, out->status, sizeof(out->status));
        col_text(st, 5, out->profile, sizeof(out->profile));
        col_text(st, 6, out->matrix_sha256, sizeof(out->matrix_sha256));
        col_text(st, 7, out->node_host, sizeof(out->node_host));
        col_text(st, 8, out->node_cpus, sizeof(out->node_cpus));
        col_text(st, 9, out->node_kernel, sizeof(out->node_kernel));
        col_text(st, 10, out->node_cpu_model, sizeof(out->node_cpu_model));
        out->node_cpu_count = col_int(st, 11);
        col_text(st, 12, out->node_governor, sizeof(out->node_governor));
        col_text(st, 13, out->node_python, sizeof(out->node_python));
        out->node_loadavg = col_dbl(st, 14);
        col_text(st, 15, out->settings, sizeof(out->settings));
    } else if (rc == SQLITE_DONE) {
        r = err_set(e, -ENOENT, "%s: no run %lld", s->path, (long long)run_id);
    } else {
        r = db_fail(s, rc, e, "load run");
    }
    stmt_done(st);
    if (!r)
        r = load_cells(s, out, e);
    sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
    if (r < 0)
        run_record_free(out);
    return r;
}

int store_last_run(struct store *s, int64_t *run_id, struct err *e)
{
    sqlite3_stmt *st = stmt_get(s, ST_LAST_RUN, e);
    if (!st)
        return e->code;
    int rc = sqlite3_step(st), r = 0;
    if (rc == SQLITE_ROW)
        *run_id = sqlite3_column_int64(st, 0);
    else if (rc == SQLITE_DONE)
        r = err_set(e, -ENOENT, "%s: no runs stored yet", s->path);
    else
        r = db_fail(s, rc, e, "last run");
    stmt_done(st);
    return r;
}

/* Rows; a history far larger is a mistake, not a request. */
#define HISTORY_MAX_ROWS ((size_t)1 << 20)

int store_history(struct store *s, const char *framework, const char *payload, int limit,
                  struct store_history_row **rows, size_t *nrows, struct err *e)
{
    *rows = NULL;
    *nrows = 0;
    sqlite3_stmt *st = stmt_get(s, ST_HISTORY, e);
    if (!st)
        return e->code;
    if (framework && *framework && strcmp(framework, "*") != 0)
        bind_text(st, 1, framework);
    if (payload && *payload && strcmp(payload, "*") != 0)
        bind_text(st, 2, payload);
    sqlite3_bind_int(st, 3, limit > 0 ? limit : -1);
    struct store_history_row *v = NULL;
    size_t n = 0, cap = 0;
    int rc, r = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            struct store_history_row *nv = NULL;
            if (n < HISTORY_MAX_ROWS)
                nv = realloc(v, ncap * sizeof(*nv));
            if (!nv) {
                r = err_set(e, n < HISTORY_MAX_ROWS ? -ENOMEM : -E2BIG,
                            "%s: history: too many rows (%zu); use a limit", s->path, n);
                break;
            }
            v = nv;
            cap = ncap;
        }
        struct store_history_row *h = &v[n++];
        memset(h, 0, sizeof(*h));
        h->run_id = sqlite3_column_int64(st, 0);
        h->cell_id = sqlite3_column_int64(st, 1);
        col_text(st, 2, h->started_at, sizeof(h->started_at));
        col_text(st, 3, h->framework, sizeof(h->framework));
        col_text(st, 4, h->payload, sizeof(h->payload));
        col_text(st, 5, h->status, sizeof(h->status));
        col_text(st, 6, h->profile, sizeof(h->profile));
        h->capacity_users = col_int(st, 7);
        h->breaking_users = col_int(st, 8);
        h->peak_rps = col_dbl(st, 9);
    }
    if (!r && rc != SQLITE_DONE)
        r = db_fail(s, rc, e, "history");
    stmt_done(st);
    if (r < 0) {
        free(v);
        return r;
    }
    *rows = v;
    *nrows = n;
    return 0;
}

int store_phase_series_load(struct store *s, int64_t phase_id, struct store_series_point **pts,
                            size_t *n, struct err *e)
{
    *pts = NULL;
    *n = 0;
    sqlite3_stmt *st = stmt_get(s, ST_SERIES_SELECT, e);
    if (!st)
        return e->code;
    sqlite3_bind_int64(st, 1, phase_id);
    struct store_series_point *v = NULL;
    size_t len = 0, cap = 0;
    int rc, r = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (len == cap) {
            size_t ncap = cap ? cap * 2 : 64;
            struct store_series_point *nv = realloc(v, ncap * sizeof(*nv));
            if (!nv) {
                r = err_set(e, -ENOMEM, "%s: load series: out of memory", s->path);
                break;
            }
            v = nv;
            cap = ncap;
        }
        struct store_series_point *pt = &v[len++];
        pt->t_s = col_dbl(st, 0);
        pt->users = col_int(st, 1);
        pt->requests = col_u64(st, 2);
        pt->failures = col_u64(st, 3);
        pt->p50_ms = col_dbl(st, 4);
        pt->p99_ms = col_dbl(st, 5);
    }
    if (!r && rc != SQLITE_DONE)
        r = db_fail(s, rc, e, "load series");
    stmt_done(st);
    if (r < 0) {
        free(v);
        return r;
    }
    *pts = v;
    *n = len;
    return 0;
}

int store_check(struct store *s, struct err *e)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(s->db, "PRAGMA integrity_check(20)", -1, &st, NULL);
    if (rc != SQLITE_OK)
        return db_fail(s, rc, e, "integrity_check");
    struct buf msg;
    buf_init(&msg, 4096);
    int ok = 0, rows = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const unsigned char *t = sqlite3_column_text(st, 0);
        const char *line = t ? (const char *)t : "";
        if (rows++ == 0 && strcmp(line, "ok") == 0)
            ok = 1;
        /* The message is capped (4 KiB): past it, the rest is left out. */
        if ((msg.len && buf_puts(&msg, "; ")) || buf_puts(&msg, line))
            continue;
    }
    int r = 0;
    if (rc != SQLITE_DONE)
        r = db_fail(s, rc, e, "integrity_check");
    else if (!ok || rows != 1)
        r = err_set(e, -EIO, "%s: integrity check failed: %s", s->path, msg.data ? msg.data : "");
    sqlite3_finalize(st);
    buf_free(&msg);
    return r;
}
