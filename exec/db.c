/* db.c - the run's database for the database payloads (issue 24): PostgreSQL started on the
 * node before the first database cell (node/pg.c) and stopped when the run closes, the Fortune
 * rows read once to compute the exact fortunes page, and each cell's verification burst: K
 * requests whose answers are checked by the payload's rule while pg_stat_statements counts the
 * statements they made, so a framework that caches, batches or skips queries is an error. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "exec_int.h"

/* The schema the local cluster loads: uploaded with targets/. */
#define DB_SCHEMA_REL "targets/_shared/db/create-postgres.sql"

struct exec_db {
    struct node_pg pg;
    int state; /* 0: not tried; 1: up; -1: failed (error says why) */
    char error[1024];
    struct buf page; /* the exact fortunes page */
};

static void db_fail(struct exec_db *db, const char *fmt, const char *msg)
{
    db->state = -1;
    snprintf(db->error, sizeof db->error, fmt, msg);
}

/* The fortunes page from the rows PostgreSQL holds. */
static int read_fortunes(struct exec_run *x, struct exec_db *db, struct err *e)
{
    struct buf out;
    buf_init(&out, 1 << 20);
    struct node_fortune *rows = NULL;
    size_t nrows = 0;
    int rc = node_pg_query(x->node, &db->pg,
                           "SELECT json_agg(json_build_array(id, message) ORDER BY id) FROM "
                           "fortune",
                           &out, e);
    if (!rc)
        rc = node_fortunes_parse(out.data, &rows, &nrows, e);
    if (!rc && node_fortunes_page(rows, nrows, &db->page))
        rc = err_set(e, -ENOMEM, "out of memory");
    node_fortunes_free(rows, nrows);
    buf_free(&out);
    return rc;
}

int exec__db_ready(struct exec_run *x, const char **why)
{
    struct exec_db *db = x->db;
    if (!db) {
        db = x->db = calloc(1, sizeof *db);
        if (!db) {
            *why = "out of memory";
            return -1;
        }
        buf_init(&db->page, 1 << 20);
    }
    if (db->state == 0) {
        struct err e;
        err_clear(&e);
        char schema[1200];
        snprintf(schema, sizeof schema, "%s/%s", node_workdir(x->node), DB_SCHEMA_REL);
        int64_t t0 = mono_ms();
        char owner[600];
        if (exec_node_lock_key(&x->matrix->node, owner, sizeof owner) < 0)
            owner[0] = '\0';
        if (node_pg_start(x->node, x->matrix, schema, owner, &db->pg, &e) != 0)
            db_fail(db, "%s", e.msg);
        else if (read_fortunes(x, db, &e) != 0)
            db_fail(db, "reading the Fortune rows: %s", e.msg);
        else
            db->state = 1;
        if (db->pg.warning[0])
            exec__logf(x, 4, NULL, NULL, "%s", db->pg.warning);
        const char *nostats = db->pg.stats ? "" : " (no pg_stat_statements: queries not counted)";
        double took = (double)(mono_ms() - t0) / 1000.0;
        if (db->state == 1 && db->pg.local)
            exec__logf(x, 6, NULL, NULL, "PostgreSQL up in %.1fs: port %d, CPUs %s, %s%s", took,
                       db->pg.port, db->pg.cpus[0] ? db->pg.cpus : "not pinned", db->pg.top,
                       nostats);
        else if (db->state == 1)
            exec__logf(x, 6, NULL, NULL, "PostgreSQL at database.dsn checked in %.1fs%s", took,
                       nostats);
        else
            exec__logf(x, 3, NULL, NULL, "PostgreSQL not available: %s", db->error);
    }
    *why = db->error;
    return db->state == 1 ? 0 : -1;
}

void exec__db_stop(struct exec_run *x)
{
    struct exec_db *db = x->db;
    if (!db)
        return;
    if (x->node && db->pg.claimed) {
        struct err e;
        err_clear(&e);
        if (node_pg_stop(x->node, x->matrix, &db->pg, &e) != 0)
            exec__logf(x, 3, NULL, NULL, "stopping PostgreSQL: %s", e.msg);
        else
            exec__logf(x, 6, NULL, NULL, "PostgreSQL stopped");
    }
    buf_free(&db->page);
    free(db);
    x->db = NULL;
}

void exec_db_release(struct exec_run *x, const struct cfg_cell *rest, size_t nrest)
{
    if (!x->db)
        return;
    for (size_t i = 0; i < nrest; i++)
        if (rest[i].payload < x->matrix->npayloads &&
            cfg_payload_is_db(&x->matrix->payloads[rest[i].payload]))
            return;
    exec__db_stop(x);
}

long exec__db_watch(const struct exec_run *x, const char **cpus, int *ncpus)
{
    const struct exec_db *db = x->db;
    *cpus = "";
    *ncpus = 0;
    if (!db || db->state != 1 || !db->pg.local || !db->pg.running)
        return 0;
    *cpus = db->pg.cpus;
    *ncpus = db->pg.ncpus;
    return db->pg.pid;
}

int exec__db_start_args(const struct exec_run *x, struct buf *cmd)
{
    const struct exec_db *db = x->db;
    if (!db || db->state != 1)
        return -EINVAL;
    return buf_puts(cmd, " --db-dsn ") || buf_shquote(cmd, db->pg.dsn) ||
                   buf_printf(cmd, " --db-pool %d", x->matrix->database.pool)
               ? -ENOMEM
               : 0;
}

void exec__db_rule(const struct exec_run *x, const struct cfg_payload *pl, struct node_db_rule *r)
{
    memset(r, 0, sizeof *r);
    r->verify = pl->verify;
    r->queries = pl->queries;
    if (x->db && x->db->page.len) {
        r->page = x->db->page.data;
        r->page_len = x->db->page.len;
    }
}

/* The statements of the payload's kind pg_stat_statements counted in hello_world so far:
 * reads of World (db, queries, updates: batched writes are allowed, reads are not) or of
 * Fortune. The counting query itself reads neither. */
static int count_statements(struct exec_run *x, const struct cfg_payload *pl, long long *n,
                            struct err *e)
{
    const char *table = pl->verify == CFG_VERIFY_FORTUNES ? "fortune" : "world";
    char sql[512];
    snprintf(sql, sizeof sql,
             "SELECT coalesce(sum(calls), 0) FROM pg_stat_statements s JOIN pg_database d ON "
             "d.oid = s.dbid WHERE d.datname = current_database() AND s.query ~* "
             "'^\\s*select' AND s.query ~* '\\m%s\\M' AND s.query !~* 'pg_stat_statements'",
             table);
    struct buf out;
    buf_init(&out, 4096);
    int rc = node_pg_query(x->node, &x->db->pg, sql, &out, e);
    char *end = NULL;
    if (!rc && out.data) {
        errno = 0;
        *n = strtoll(out.data, &end, 10);
    }
    if (!rc && (!out.data || end == out.data || errno || (*end && *end != '\n')))
        rc = err_set(e, -EPROTO, "pg_stat_statements: unexpected answer \"%.80s\"",
                     out.data ? out.data : "");
    buf_free(&out);
    return rc;
}

/* An updates answer's rows are in the table as answered: a server that answers new numbers
 * without writing them is caught (the burst runs alone: nothing else writes World). */
static int check_written(struct exec_run *x, const char *body, size_t len, char *why, size_t n)
{
    cJSON *a = cJSON_ParseWithLength(body, len);
    struct buf sql, out;
    buf_init(&sql, 0);
    buf_init(&out, 1 << 20);
    int rc = 0, rows = 0;
    if (buf_puts(&sql, "SELECT count(*) FROM world WHERE (id, randomnumber) IN ("))
        rc = -1;
    for (const cJSON *w = a ? a->child : NULL; w && !rc; w = w->next, rows++)
        if (buf_printf(&sql, "%s(%d, %d)", rows ? ", " : "",
                       cJSON_GetObjectItemCaseSensitive(w, "id")->valueint,
                       cJSON_GetObjectItemCaseSensitive(w, "randomNumber")->valueint))
            rc = -1;
    if (rc || buf_puts(&sql, ")")) {
        snprintf(why, n, "out of memory");
        rc = -1;
        goto out;
    }
    struct err e;
    err_clear(&e);
    if (node_pg_query(x->node, &x->db->pg, sql.data, &out, &e)) {
        snprintf(why, n, "reading the updated rows back: %s", e.msg);
        rc = -1;
        goto out;
    }
    long long found = out.data ? strtoll(out.data, NULL, 10) : -1;
    if (found != rows) {
        snprintf(why, n,
                 "an update that does not write: %lld of the %d rows answered are in the "
                 "table with the new number",
                 found, rows);
        rc = -1;
    }
out:
    cJSON_Delete(a);
    buf_free(&sql);
    buf_free(&out);
    return rc;
}

int exec__db_burst(struct cell_ctx *k, struct cell_result *c, char *why, size_t n)
{
    struct exec_run *x = k->x;
    const struct cfg_payload *pl = k->pl;
    struct node_db_rule *rule = &k->rule; /* its passed_len is the load's expected length */
    exec__db_rule(x, pl, rule);
    int per =
        pl->verify == CFG_VERIFY_QUERIES || pl->verify == CFG_VERIFY_UPDATES ? pl->queries : 1;
    long long before = 0, after = 0;
    struct err e;
    err_clear(&e);
    int counted = x->db && x->db->pg.stats;
    if (counted && count_statements(x, pl, &before, &e) != 0) {
        snprintf(why, n, "counting queries: %s", e.msg);
        return -1;
    }
    struct buf body;
    buf_init(&body, 1 << 20);
    int rc = 0;
    for (int i = 0; i < EXEC_DB_BURST && !rc; i++) {
        long status = 0;
        char ctype[256] = "", w[400];
        buf_reset(&body);
        err_clear(&e);
        if (probe_fetch(k->url, k->st.timeout_ms, &status, ctype, sizeof ctype, &body, &e)) {
            snprintf(why, n, "verification request %d of %d: %s", i + 1, EXEC_DB_BURST, e.msg);
            rc = -1;
        } else if (status != 200) {
            snprintf(why, n, "verification request %d of %d: status %ld", i + 1, EXEC_DB_BURST,
                     status);
            rc = -1;
        } else if (node_db_check(rule, body.data ? body.data : "", body.len, ctype, w, sizeof w)) {
            snprintf(why, n, "wrong answer to verification request %d of %d: %s", i + 1,
                     EXEC_DB_BURST, w);
            rc = -1;
        } else if (pl->verify == CFG_VERIFY_UPDATES && i == EXEC_DB_BURST - 1 &&
                   check_written(x, body.data, body.len, why, n)) {
            rc = -1; /* the rule held, so the answer is an array of {id, randomNumber} */
        }
    }
    buf_free(&body);
    if (rc || !counted)
        return rc;
    err_clear(&e);
    if (count_statements(x, pl, &after, &e) != 0) {
        snprintf(why, n, "counting queries: %s", e.msg);
        return -1;
    }
    long long made = after - before, want = (long long)EXEC_DB_BURST * per;
    (void)c;
    if (made < want) {
        snprintf(why, n, "cached or batched: %d requests of %s made %lld queries, want %lld",
                 EXEC_DB_BURST, pl->path, made, want);
        return -1;
    }
    exec__logf(x, 6, k->fw->name, pl->name, "%d verified answers made %lld queries (want >= %lld)",
               EXEC_DB_BURST, made, want);
    return 0;
}
