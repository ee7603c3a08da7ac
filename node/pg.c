/* pg.c - the node's PostgreSQL for the database payloads (issue 24): a private cluster made,
 * loaded, started and stopped through the node's transport (so ssh and local nodes alike), or
 * an existing database (provision: dsn) checked with psql on the node. libpq is no dependency:
 * every step is a psql, initdb or pg_ctl command with a timeout, every value shell-quoted, and
 * every failure carries PostgreSQL's own words (the tail of its log or of psql's output). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "node.h"

/* A claimed cluster folder younger than this many start timeouts, without a live postmaster, is
 * another run's still being made; older, a dead run's, removed. */
#define PG_CLAIM_STALE_TIMEOUTS 6
/* Ports tried for database.port: 0, from a random start in [PG_PORT_LO, PG_PORT_LO + 10000). */
#define PG_PORT_LO 20000
#define PG_PORT_TRIES 3
/* Clusters of earlier runs node_pg_stop_stale stops in one call at most. */
#define PG_STALE_MAX 4

static int oom(struct err *e)
{
    return err_set(e, -ENOMEM, "out of memory");
}

static int64_t timeout_ms_of(const struct cfg_database *d)
{
    return d->start_timeout_ms > 0 ? d->start_timeout_ms : 60000;
}

/* Seconds for initdb, pg_ctl -t and each psql step, at least 1. */
static long step_s(const struct cfg_database *d)
{
    return (long)((timeout_ms_of(d) + 999) / 1000);
}

/* The setup script's own limit: probe, initdb, start, createdb, load, extension, check (each at
 * most the step's timeout) and a margin for the shell. */
static int64_t setup_timeout_ms(const struct cfg_database *d)
{
    return 7 * timeout_ms_of(d) + 30000;
}

/* The stop script: pg_ctl -m fast (the step's timeout), -m immediate (10 s), SIGKILL (5 s). */
static int64_t stop_timeout_ms(const struct cfg_database *d)
{
    return timeout_ms_of(d) + 30000;
}

int64_t node_pg_start_max_ms(const struct cfg_matrix *m)
{
    const struct cfg_node *nc = &m->node;
    int64_t probe = node_cmd_max_ms(nc, node_cmd_timeout_ms(nc));
    if (m->database.provision == CFG_DB_DSN) /* the probe and the tables' check */
        return 2 * probe;
    /* The probe; per port tried a listener check and the setup; the stop of a failed setup. */
    return probe + PG_PORT_TRIES * (probe + node_cmd_max_ms(nc, setup_timeout_ms(&m->database))) +
           node_pg_stop_max_ms(m);
}

int64_t node_pg_stop_max_ms(const struct cfg_matrix *m)
{
    if (m->database.provision == CFG_DB_DSN)
        return 0;
    return node_cmd_max_ms(&m->node, stop_timeout_ms(&m->database));
}

int64_t node_pg_query_max_ms(const struct cfg_matrix *m)
{
    return node_cmd_max_ms(&m->node, timeout_ms_of(&m->database) + 5000);
}

/* The shell functions every script shares: mf_bin (the highest /usr/lib/postgresql/N/bin with
 * initdb, else the folder of psql on PATH) and mf_to (timeout(1) when the node has it). */
static const char PG_FN[] =
    "mf_bin=\nfor mf_d in /usr/lib/postgresql/*/bin; do [ -x \"$mf_d/initdb\" ] || continue\n"
    "  mf_v=${mf_d%/bin}; mf_v=${mf_v##*/}\n"
    "  case $mf_v in ''|*[!0-9]*) continue ;; esac\n"
    "  if [ -z \"$mf_bin\" ] || [ \"$mf_v\" -gt \"$mf_best\" ]; then mf_bin=$mf_d; "
    "mf_best=$mf_v; fi\ndone\n"
    "if [ -z \"$mf_bin\" ] && mf_p=$(command -v psql 2>/dev/null); then mf_bin=${mf_p%/*}; fi\n"
    /* A zombie nobody reaps (a container's PID 1 may not) is no live postmaster. */
    "mf_live() { { read -r mf_l < \"/proc/$1/stat\"; } 2>/dev/null || return 1; "
    "mf_r=${mf_l##*\") \"}; set -- $mf_r; [ \"$1\" != Z ]; }\n"
    "export PGCLIENTENCODING=UTF8\n"
    "mf_to() { if command -v timeout >/dev/null 2>&1; then timeout -k 2 \"$@\"; else shift; "
    "\"$@\"; fi; }\n";

/* What "mfbench-pg-fail STEP: WHAT" and the lines after it say, as one line: "STEP: WHAT | line".
 */
static void fail_message(const char *out, char *msg, size_t n)
{
    const char *p = out ? strstr(out, "mfbench-pg-fail ") : NULL;
    if (!p) {
        struct buf t;
        buf_init(&t, 0);
        if (out && !buf_puts(&t, out)) {
            buf_tail_lines(&t, 6);
            snprintf(msg, n, "%s", t.data ? t.data : "");
        } else {
            snprintf(msg, n, "no output");
        }
        buf_free(&t);
    } else {
        snprintf(msg, n, "%s", p + strlen("mfbench-pg-fail "));
    }
    /* One line: newlines become " | ", a trailing one is dropped. */
    char tmp[1024];
    size_t j = 0;
    for (size_t i = 0; msg[i] && j + 4 < sizeof tmp; i++) {
        if (msg[i] == '\n') {
            if (msg[i + 1] == '\0')
                break;
            memcpy(tmp + j, " | ", 3);
            j += 3;
        } else if (msg[i] != '\r') {
            tmp[j++] = msg[i];
        }
    }
    tmp[j] = '\0';
    snprintf(msg, n, "%s", tmp);
}

/* The value after "key=" on the line starting with mark in out; "" when absent. */
static void report_value(const char *out, const char *mark, const char *key, char *v, size_t n)
{
    v[0] = '\0';
    const char *line = NULL;
    for (const char *p = out; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
        if (!strncmp(p, mark, strlen(mark)))
            line = p;
    if (!line)
        return;
    size_t kl = strlen(key);
    for (const char *p = line; *p && *p != '\n'; p++) {
        if ((p == line || p[-1] == ' ') && !strncmp(p, key, kl) && p[kl] == '=') {
            p += kl + 1;
            size_t l = strcspn(p, " \n");
            snprintf(v, n, "%.*s", (int)l, p);
            return;
        }
    }
}

/* "mfbench-pg-probe uid=0 cpus=4 bin=/usr/lib/postgresql/15/bin stats=1 runas=postgres" */
struct pg_probe {
    int uid, ncpus, stats;
    char bin[256];
};

static int probe(struct node *n, struct pg_probe *pr, struct err *e)
{
    struct buf c, out;
    buf_init(&c, 0);
    buf_init(&out, 64 << 10);
    int rc = 0, status = 0;
    if (buf_puts(&c, PG_FN) ||
        buf_puts(&c, "mf_st=0; [ -n \"$mf_bin\" ] && [ -f \"${mf_bin%/bin}/lib/"
                     "pg_stat_statements.so\" ] && mf_st=1\n"
                     "echo \"mfbench-pg-probe uid=$(id -u) cpus=$(getconf _NPROCESSORS_ONLN "
                     "2>/dev/null) stats=$mf_st bin=$mf_bin\"\n")) {
        rc = oom(e);
        goto done;
    }
    rc = node_exec(n, c.data, node__cmd_timeout(n), &out, &status, e);
    if (rc)
        goto done;
    char v[256];
    const char *o = out.data ? out.data : "";
    report_value(o, "mfbench-pg-probe ", "uid", v, sizeof v);
    int64_t x = -1;
    if (status != 0 || parse_i64(v, 0, INT32_MAX, &x)) {
        rc = err_set(e, -EPROTO, "PostgreSQL on %s: the probe failed (exit %d): %.300s", n->host,
                     status, o);
        goto done;
    }
    pr->uid = (int)x;
    report_value(o, "mfbench-pg-probe ", "cpus", v, sizeof v);
    pr->ncpus = parse_i64(v, 1, CPU_SETSIZE, &x) ? 0 : (int)x;
    report_value(o, "mfbench-pg-probe ", "stats", v, sizeof v);
    pr->stats = !strcmp(v, "1");
    report_value(o, "mfbench-pg-probe ", "bin", pr->bin, sizeof pr->bin);
done:
    buf_free(&c);
    buf_free(&out);
    return rc;
}

/* psql's arguments for the database at dsn into c: the binary, no psqlrc, quiet, stop on the
 * first error, unaligned tuples only. */
static int put_psql(struct buf *c, const struct node_pg *pg)
{
    return buf_puts(c, "mf_to ") || buf_printf(c, "%ld ", pg->step_s) ||
           buf_shquote(c, pg->bin[0] ? pg->bin : "/usr/bin") ||
           buf_puts(c, "/psql -X -q -At -v ON_ERROR_STOP=1 -d ") || buf_shquote(c, pg->dsn);
}

/* The tables the payloads read: World's 10,000 rows, Fortune's 12. The script's lines. */
static int put_check(struct buf *c, const struct node_pg *pg)
{
    return buf_puts(c, "mf_n=$(") || put_psql(c, pg) ||
           buf_puts(c, " -c 'SELECT (SELECT count(*) FROM world) || chr(32) || (SELECT count(*) "
                       "FROM fortune)' 2>&1) || { echo \"mfbench-pg-fail tables: $mf_n\"; "
                       "exit 1; }\n"
                       "case $mf_n in \"10000 12\") ;; *) echo \"mfbench-pg-fail tables: world "
                       "and fortune have ${mf_n% *} and ${mf_n#* } rows, want 10000 and 12\"; "
                       "exit 1 ;; esac\n");
}

/* Makes, starts and loads the cluster at pg->port (script below). 0; -EBUSY when the port or its
 * folder is another cluster's (try another); else -EIO with PostgreSQL's message. */
static int setup_local(struct node *n, const struct cfg_matrix *m, const char *schema,
                       const char *owner, struct node_pg *pg, struct err *e)
{
    const struct cfg_database *d = &m->database;
    struct buf c, out;
    buf_init(&c, 0);
    buf_init(&out, 256 << 10);
    int rc = 0, status = 0;
    char port[16], stale[32];
    snprintf(port, sizeof port, "%d", pg->port);
    snprintf(stale, sizeof stale, "%ld", PG_CLAIM_STALE_TIMEOUTS * pg->step_s);
    /* Values first, each quoted once; the script uses only the variables. */
    if (buf_puts(&c, PG_FN) || buf_puts(&c, "W=") || buf_shquote(&c, node_workdir(n)) ||
        buf_puts(&c, "\nP=") || buf_shquote(&c, port) ||
        buf_printf(&c, "\nT=%ld\nSTALE=", pg->step_s) || buf_shquote(&c, stale) ||
        buf_puts(&c, "\nCPUS=") || buf_shquote(&c, pg->cpus) || buf_puts(&c, "\nSCHEMA=") ||
        buf_shquote(&c, schema) || buf_puts(&c, "\nSB=") ||
        buf_shquote(&c, d->shared_buffers ? d->shared_buffers : "128MB") ||
        buf_printf(&c, "\nMC=%d\nSC=", d->max_connections > 0 ? d->max_connections : 100) ||
        buf_shquote(&c, d->synchronous_commit ? d->synchronous_commit : "off") ||
        buf_puts(&c, "\nFS=") || buf_shquote(&c, d->fsync ? d->fsync : "on") ||
        buf_printf(&c, "\nSTATS=%d\nOWNER=", pg->stats) ||
        buf_shquote(&c, owner && *owner ? owner : "-") || buf_puts(&c, "\n")) {
        rc = oom(e);
        goto done;
    }
    if (buf_puts(
            &c,
            "[ -x \"$mf_bin/initdb\" ] || { echo \"mfbench-pg-fail binaries: no "
            "/usr/lib/postgresql/*/bin/initdb on this node (apt-get install postgresql)\"; "
            "exit 1; }\n"
            "top=$W/pg/$P\n"
            "mkdir -p -m 0700 \"$W/pg\" || { echo \"mfbench-pg-fail folder: cannot make $W/pg\"; "
            "exit 1; "
            "}\n"
            /* The claim: mkdir is atomic. A folder there is another run's cluster (its
             * postmaster lives, or it is being made: young) or a dead run's (removed). */
            "if ! mkdir -m 0700 \"$top\" 2>/dev/null; then\n"
            "  mf_h=$(cat \"$top/home\" 2>/dev/null); mf_pid=\n"
            "  [ -n \"$mf_h\" ] && mf_pid=$(head -n 1 \"$mf_h/data/postmaster.pid\" 2>/dev/null)\n"
            "  case $mf_pid in ''|*[!0-9]*) mf_pid= ;; esac\n"
            "  if [ -n \"$mf_pid\" ] && mf_live \"$mf_pid\"; then\n"
            "    echo \"mfbench-pg-busy a cluster runs in $mf_h/data (postmaster pid $mf_pid)\"; "
            "exit 2; fi\n"
            "  mf_age=$(( $(date +%s) - $(stat -c %Y \"$top/owner\" 2>/dev/null || echo 0) ))\n"
            "  if [ \"$mf_age\" -lt \"$STALE\" ]; then\n"
            "    echo \"mfbench-pg-busy $top was claimed ${mf_age}s ago by another run\"; exit 2; "
            "fi\n"
            "  case $mf_h in /*/mfbench-pg-*) rm -rf \"$mf_h\" ;; esac\n"
            "  rm -rf \"$top\"; mkdir -m 0700 \"$top\" || { echo \"mfbench-pg-busy $top\"; exit 2; "
            "}\n"
            "fi\n"
            "printf '%s\\n' \"$OWNER\" > \"$top/owner\"\n"
            /* PostgreSQL refuses to run as root: as postgres, in a folder it owns and can
             * reach (the workdir is 0700, below root's home; $TMPDIR may be root's own). */
            "if [ \"$(id -u)\" = 0 ]; then\n"
            "  id postgres >/dev/null 2>&1 || { echo \"mfbench-pg-fail user: the node runs as "
            "root and has no postgres user to run PostgreSQL as\"; exit 1; }\n"
            "  home=$(mktemp -d \"/tmp/mfbench-pg-$P.XXXXXX\") && chmod 0755 \"$home\" "
            "&& chown postgres: \"$home\" || { echo \"mfbench-pg-fail folder: no folder for "
            "the postgres user\"; exit 1; }\n"
            "  mf_ra='runuser -u postgres --'\n"
            "else\n"
            "  home=$top; mf_ra=\n"
            "fi\n"
            "echo \"$home\" > \"$top/home\"\n"
            "echo \"mfbench-pg-home home=$home\"\n"
            "$mf_ra mkdir -m 0700 \"$home/data\" && $mf_ra mkdir -m 0755 \"$home/sock\" || "
            "{ echo \"mfbench-pg-fail folder: cannot make $home/data\"; exit 1; }\n"
            "if ! mf_o=$(mf_to \"$T\" $mf_ra \"$mf_bin/initdb\" -D \"$home/data\" -U mfbench "
            "-A trust -E UTF8 --locale=C --no-sync 2>&1); then\n"
            "  echo \"mfbench-pg-fail initdb: $(printf '%s\\n' \"$mf_o\" | tail -n 8)\"; exit 1; "
            "fi\n"
            "mf_q() { printf '%s' \"$1\" | sed \"s/'/''/g\"; }\n"
            "mf_pre=; [ \"$STATS\" = 1 ] && mf_pre=pg_stat_statements\n"
            "{ echo \"# mfbench (database: in the matrix)\"; echo \"port = $P\";\n"
            "  echo \"listen_addresses = '127.0.0.1'\";\n"
            "  echo \"unix_socket_directories = '$(mf_q \"$home/sock\")'\";\n"
            "  echo \"shared_buffers = '$SB'\"; echo \"max_connections = $MC\";\n"
            "  echo \"synchronous_commit = $SC\"; echo \"fsync = $FS\";\n"
            "  echo \"shared_preload_libraries = '$mf_pre'\"; } | $mf_ra tee -a "
            "\"$home/data/postgresql.conf\" >/dev/null || { echo \"mfbench-pg-fail settings: "
            "cannot write postgresql.conf\"; exit 1; }\n"
            "mf_ts=; if [ -n \"$CPUS\" ]; then if command -v taskset >/dev/null 2>&1; then "
            "mf_ts=\"taskset -c $CPUS\"; else echo \"mfbench-pg-notaskset\"; fi; fi\n"
            "if ! mf_o=$($mf_ra $mf_ts \"$mf_bin/pg_ctl\" -D \"$home/data\" -l "
            "\"$home/postgres.log\" -w -t \"$T\" start 2>&1); then\n"
            "  echo \"mfbench-pg-fail start: $(tail -n 8 \"$home/postgres.log\" 2>/dev/null || "
            "printf '%s\\n' \"$mf_o\")\"; exit 1; fi\n"
            "echo \"mfbench-pg-started pid=$(head -n 1 \"$home/data/postmaster.pid\" "
            "2>/dev/null)\"\n"
            "mf_psql() { mf_to \"$T\" \"$mf_bin/psql\" -X -q -At -v ON_ERROR_STOP=1 -h 127.0.0.1 "
            "-p \"$P\" -U mfbench \"$@\"; }\n"
            "mf_o=$(mf_psql -d postgres -c 'CREATE DATABASE hello_world' 2>&1) || { echo "
            "\"mfbench-pg-fail createdb: $mf_o\"; exit 1; }\n"
            "[ -r \"$SCHEMA\" ] || { echo \"mfbench-pg-fail schema: $SCHEMA is missing on the "
            "node (uploaded with targets/)\"; exit 1; }\n"
            "mf_o=$(mf_psql -d hello_world -f \"$SCHEMA\" 2>&1) || { echo \"mfbench-pg-fail "
            "schema: $(printf '%s\\n' \"$mf_o\" | tail -n 6)\"; exit 1; }\n"
            "if [ \"$STATS\" = 1 ]; then mf_o=$(mf_psql -d hello_world -c 'CREATE EXTENSION IF "
            "NOT EXISTS pg_stat_statements' 2>&1) || { echo \"mfbench-pg-fail "
            "pg_stat_statements: $mf_o\"; exit 1; }; fi\n")) {
        rc = oom(e);
        goto done;
    }
    if (put_check(&c, pg) || buf_puts(&c, "echo \"mfbench-pg-ok\"\n")) {
        rc = oom(e);
        goto done;
    }
    rc = node_exec(n, c.data, setup_timeout_ms(d), &out, &status, e);
    const char *o = out.data ? out.data : "";
    char v[1024];
    report_value(o, "mfbench-pg-home ", "home", v, sizeof v);
    if (v[0])
        snprintf(pg->home, sizeof pg->home, "%s", v);
    if (strstr(o, "mfbench-pg-home "))
        pg->claimed = 1;
    if (strstr(o, "mfbench-pg-started")) {
        pg->running = 1;
        int64_t pid = 0;
        report_value(o, "mfbench-pg-started ", "pid", v, sizeof v);
        if (!parse_i64(v, 1, INT32_MAX, &pid))
            pg->pid = (long)pid;
    }
    if (strstr(o, "mfbench-pg-notaskset"))
        snprintf(pg->warning, sizeof pg->warning,
                 "taskset not found on %.120s: PostgreSQL not pinned", n->host);
    if (rc == -ETIMEDOUT) {
        rc = err_set(e, -ETIMEDOUT, "PostgreSQL on %s: setting up the cluster took over %llds",
                     n->host, (long long)(setup_timeout_ms(d) / 1000));
        goto done;
    }
    if (rc)
        goto done;
    const char *busy = strstr(o, "mfbench-pg-busy ");
    if (status == 2 && busy) {
        char msg[512];
        snprintf(msg, sizeof msg, "%.*s", (int)strcspn(busy + 16, "\n"), busy + 16);
        rc = err_set(e, -EBUSY, "PostgreSQL on %s: port %d taken: %s", n->host, pg->port, msg);
        goto done;
    }
    if (status != 0 || !strstr(o, "mfbench-pg-ok")) {
        char msg[1024];
        fail_message(o, msg, sizeof msg);
        rc = err_set(e, -EIO, "PostgreSQL on %s: %s", n->host, msg);
        goto done;
    }
done:
    buf_free(&c);
    buf_free(&out);
    return rc;
}

/* provision: dsn: psql on the node reaches the database and finds the tables. */
static int check_dsn(struct node *n, const struct cfg_matrix *m, struct node_pg *pg, struct err *e)
{
    struct buf c, out;
    buf_init(&c, 0);
    buf_init(&out, 64 << 10);
    int rc = 0, status = 0;
    if (buf_puts(&c, PG_FN) ||
        buf_puts(&c, "[ -n \"$mf_bin\" ] && [ -x \"$mf_bin/psql\" ] || { echo \"mfbench-pg-fail "
                     "psql: not found on this node (apt-get install postgresql-client)\"; exit "
                     "1; }\n") ||
        put_check(&c, pg) || buf_puts(&c, "echo \"mfbench-pg-ok\"\n")) {
        rc = oom(e);
        goto done;
    }
    rc = node_exec(n, c.data, node_pg_query_max_ms(m), &out, &status, e);
    if (rc)
        goto done;
    const char *o = out.data ? out.data : "";
    if (status != 0 || !strstr(o, "mfbench-pg-ok")) {
        char msg[1024];
        fail_message(o, msg, sizeof msg);
        rc = err_set(e, -EIO, "PostgreSQL at database.dsn from %s: %s", n->host, msg);
    }
done:
    buf_free(&c);
    buf_free(&out);
    return rc;
}

int node_pg_start(struct node *n, const struct cfg_matrix *m, const char *schema, const char *owner,
                  struct node_pg *pg, struct err *e)
{
    const struct cfg_database *d = &m->database;
    memset(pg, 0, sizeof *pg);
    pg->step_s = step_s(d);
    pg->local = d->provision == CFG_DB_LOCAL;
    struct pg_probe pr;
    memset(&pr, 0, sizeof pr);
    int rc = probe(n, &pr, e);
    if (rc)
        return rc;
    snprintf(pg->bin, sizeof pg->bin, "%s", pr.bin);
    if (!pg->local) {
        snprintf(pg->dsn, sizeof pg->dsn, "%s", d->dsn ? d->dsn : "");
        if (strlen(d->dsn ? d->dsn : "") >= sizeof pg->dsn)
            return err_set(e, -ENAMETOOLONG, "database.dsn: longer than %zu bytes",
                           sizeof pg->dsn - 1);
        /* Whether pg_stat_statements is there is asked of the database itself. */
        rc = check_dsn(n, m, pg, e);
        if (rc)
            return rc;
        struct buf out;
        buf_init(&out, 4096);
        struct err qe;
        err_clear(&qe);
        if (node_pg_query(n, pg,
                          "SELECT count(*) FROM pg_extension WHERE extname = "
                          "'pg_stat_statements'",
                          &out, &qe) == 0 &&
            out.data && !strncmp(out.data, "1", 1))
            pg->stats = 1;
        buf_free(&out);
        return 0;
    }
    if (!node_workdir(n)[0])
        return err_set(e, -EINVAL, "PostgreSQL on %s: the node's workdir is not open", n->host);
    pg->stats = pr.stats;
    int shared = 0;
    cfg_database_cpus(m, pr.ncpus, pg->cpus, sizeof pg->cpus, &shared);
    pg->ncpus = pg->cpus[0] ? node_cpus_count(pg->cpus) : pr.ncpus;
    if (shared)
        snprintf(pg->warning, sizeof pg->warning,
                 "no CPU of %.100s is free of the server's and the load's: PostgreSQL shares "
                 "them (set database.cpus)",
                 n->host);
    int tries = d->port ? 1 : PG_PORT_TRIES;
    unsigned seed = (unsigned)time(NULL) ^ ((unsigned)getpid() << 8);
    for (int t = 0; t < tries; t++) {
        pg->port = d->port ? d->port : PG_PORT_LO + (int)(rand_r(&seed) % 10000);
        char who[256];
        err_clear(e);
        rc = node_port_listener(n, pg->port, who, sizeof who, e);
        if (rc < 0)
            return rc;
        if (rc == 1) {
            rc = err_set(e, -EBUSY, "PostgreSQL on %s: port %d is taken: %s", n->host, pg->port,
                         who);
            continue;
        }
        snprintf(pg->top, sizeof pg->top, "%s/pg/%d", node_workdir(n), pg->port);
        snprintf(pg->dsn, sizeof pg->dsn, "postgresql://mfbench@127.0.0.1:%d/hello_world",
                 pg->port);
        rc = setup_local(n, m, schema, owner, pg, e);
        if (rc != -EBUSY)
            break;
    }
    if (rc && pg->claimed) {
        /* Whatever was made is removed; the setup's error is the one that counts. */
        struct err se;
        err_clear(&se);
        if (node_pg_stop(n, m, pg, &se) && !pg->warning[0])
            snprintf(pg->warning, sizeof pg->warning, "stopping it: %.200s", se.msg);
    }
    return rc;
}

/* The stop of the cluster in $home claimed by $top: fast, then immediate, then SIGKILL to the
 * postmaster (a zombie is none); then the folders go. "mfbench-pg-fail stop: ..." and exit 1
 * when the postmaster survives. */
static const char STOP_SH[] =
    "mf_stop() {\n"
    "mf_ra=; [ \"$(id -u)\" = 0 ] && mf_ra='runuser -u postgres --'\n"
    "mf_pid=$(head -n 1 \"$home/data/postmaster.pid\" 2>/dev/null)\n"
    "case $mf_pid in ''|*[!0-9]*) mf_pid= ;; esac\n"
    "if [ -n \"$mf_pid\" ] && mf_live \"$mf_pid\"; then\n"
    "  mf_o=$($mf_ra \"$mf_bin/pg_ctl\" -D \"$home/data\" -m fast -w -t \"$T\" stop 2>&1) ||\n"
    "  mf_o=$($mf_ra \"$mf_bin/pg_ctl\" -D \"$home/data\" -m immediate -w -t 10 stop 2>&1) || "
    "{ kill -KILL \"$mf_pid\" 2>/dev/null; sleep 1; }\n"
    "  if mf_live \"$mf_pid\"; then echo \"mfbench-pg-fail stop: postmaster $mf_pid still "
    "runs: $mf_o\"; return 1; fi\n"
    "fi\n"
    "case $home in \"$top\") ;; /*/mfbench-pg-*) rm -rf \"$home\" ;; esac\n"
    "rm -rf \"$top\"\n}\n";

int node_pg_stop(struct node *n, const struct cfg_matrix *m, struct node_pg *pg, struct err *e)
{
    if (!pg->local || !pg->claimed)
        return 0;
    const struct cfg_database *d = &m->database;
    struct buf c, out;
    buf_init(&c, 0);
    buf_init(&out, 64 << 10);
    int rc = 0, status = 0;
    if (buf_puts(&c, PG_FN) || buf_puts(&c, STOP_SH) || buf_puts(&c, "top=") ||
        buf_shquote(&c, pg->top) || buf_puts(&c, "\nhome=") ||
        buf_shquote(&c, pg->home[0] ? pg->home : pg->top) ||
        buf_printf(&c, "\nT=%ld\n", pg->step_s) ||
        buf_puts(&c, "mf_stop || exit 1\necho mfbench-pg-stopped\n")) {
        rc = oom(e);
        goto done;
    }
    rc = node_exec(n, c.data, stop_timeout_ms(d), &out, &status, e);
    if (rc)
        goto done;
    const char *o = out.data ? out.data : "";
    if (status != 0 || !strstr(o, "mfbench-pg-stopped")) {
        char msg[1024];
        fail_message(o, msg, sizeof msg);
        rc = err_set(e, -EIO, "PostgreSQL on %s: %s", n->host, msg);
        goto done;
    }
    pg->running = 0;
    pg->claimed = 0;
    pg->pid = 0;
done:
    buf_free(&c);
    buf_free(&out);
    return rc;
}

int node_pg_query(struct node *n, const struct node_pg *pg, const char *sql, struct buf *out,
                  struct err *e)
{
    struct buf c, o;
    buf_init(&c, 0);
    buf_init(&o, out && out->max ? out->max : (1 << 20));
    int rc = 0, status = 0;
    if (buf_puts(&c, PG_FN) || put_psql(&c, pg) || buf_puts(&c, " -c ") || buf_shquote(&c, sql) ||
        buf_puts(&c, " 2>&1")) {
        rc = oom(e);
        goto done;
    }
    rc = node_exec(n, c.data, pg->step_s * 1000 + 5000, &o, &status, e);
    if (rc)
        goto done;
    if (status != 0) {
        char msg[1024];
        fail_message(o.data, msg, sizeof msg);
        rc = err_set(e, -EIO, "PostgreSQL from %s: %s", n->host, msg);
        goto done;
    }
    if (out) {
        buf_reset(out);
        if (o.len && buf_append(out, o.data, o.len))
            rc = oom(e);
    }
done:
    buf_free(&c);
    buf_free(&o);
    return rc;
}

int node_pg_stop_stale(struct node *n, const struct cfg_matrix *m, const char *owner, int *found,
                       struct err *e)
{
    *found = 0;
    if (!owner || !*owner || !node_workdir(n)[0])
        return 0;
    const struct cfg_database *d = &m->database;
    struct buf c, out;
    buf_init(&c, 0);
    buf_init(&out, 64 << 10);
    int rc = 0, status = 0;
    /* Every claim of this owner: the run that made it is gone (its owner holds the node's
     * lock now). At most PG_STALE_MAX of them, each stop bounded. */
    if (buf_puts(&c, PG_FN) || buf_puts(&c, STOP_SH) || buf_puts(&c, "W=") ||
        buf_shquote(&c, node_workdir(n)) || buf_puts(&c, "\nOWNER=") || buf_shquote(&c, owner) ||
        buf_printf(&c, "\nT=%ld\nmf_n=0\n", step_s(d)) ||
        buf_printf(&c,
                   "for top in \"$W\"/pg/*; do\n"
                   "  [ -d \"$top\" ] && [ ! -L \"$top\" ] || continue\n"
                   "  [ \"$(head -n 1 \"$top/owner\" 2>/dev/null)\" = \"$OWNER\" ] || continue\n"
                   "  [ $mf_n -lt %d ] || break\n"
                   "  home=$(cat \"$top/home\" 2>/dev/null); [ -n \"$home\" ] || home=$top\n"
                   "  mf_stop || exit 1\n"
                   "  mf_n=$((mf_n+1)); echo \"mfbench-pg-stale $top\"\n"
                   "done\necho mfbench-pg-stopped\n",
                   PG_STALE_MAX)) {
        rc = oom(e);
        goto done;
    }
    rc = node_exec(n, c.data, PG_STALE_MAX * stop_timeout_ms(d), &out, &status, e);
    if (rc)
        goto done;
    const char *o = out.data ? out.data : "";
    for (const char *p = o; (p = strstr(p, "mfbench-pg-stale ")) != NULL; p++)
        (*found)++;
    if (status != 0 || !strstr(o, "mfbench-pg-stopped")) {
        char msg[1024];
        fail_message(o, msg, sizeof msg);
        rc = err_set(e, -EIO, "PostgreSQL on %s: a cluster an earlier run left: %s", n->host, msg);
    }
done:
    buf_free(&c);
    buf_free(&out);
    return rc;
}

int64_t node_pg_stop_stale_max_ms(const struct cfg_matrix *m)
{
    return node_cmd_max_ms(&m->node, PG_STALE_MAX * stop_timeout_ms(&m->database));
}
