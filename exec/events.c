/* events.c - the event stream of `mfbench run --json-events` (events.h): the
 * schema as tables of members (one per struct, so the encoder and the decoder
 * cannot drift apart), the encoder, the decoder and the replayer into a store.
 * Numbers are written so they read back exactly: doubles in the shortest form
 * strtod gives back bit for bit, integers as integers, a non-finite double as
 * null; a 64-bit count past 2^53 (and every seed) as a decimal string. */
#include "events.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- the schema: (group, member, type, field) ----
 * group NULL: a member of the object itself, else of its sub-object `group`.
 * Types: INT (int), U64 (uint64_t), DBL (double; null = not finite), BOOL
 * (int 0/1), STR (a char array: too long is an error), SEED (uint64_t, always a
 * decimal string). Every member is required when read. */

#define LATENCY_FIELDS(X, l)                                                                       \
    X("latency_ms", "mean", DBL, (l).mean)                                                         \
    X("latency_ms", "p50", DBL, (l).p50)                                                           \
    X("latency_ms", "p90", DBL, (l).p90)                                                           \
    X("latency_ms", "p99", DBL, (l).p99)                                                           \
    X("latency_ms", "p999", DBL, (l).p999)                                                         \
    X("latency_ms", "max", DBL, (l).max)

/* Every member of struct phase_result but its row id (the store's). */
#define PHASE_FIELDS(X)                                                                            \
    X(NULL, "users", INT, p->users)                                                                \
    X(NULL, "duration_s", DBL, p->duration_s)                                                      \
    X(NULL, "requests", U64, p->requests)                                                          \
    X(NULL, "failures", U64, p->failures)                                                          \
    X("failures_by_kind", "connect", U64, p->failures_by_kind[FAIL_CONNECT])                       \
    X("failures_by_kind", "timeout", U64, p->failures_by_kind[FAIL_TIMEOUT])                       \
    X("failures_by_kind", "reset", U64, p->failures_by_kind[FAIL_RESET])                           \
    X("failures_by_kind", "status", U64, p->failures_by_kind[FAIL_STATUS])                         \
    X("failures_by_kind", "body", U64, p->failures_by_kind[FAIL_BODY])                             \
    X("failures_by_kind", "protocol", U64, p->failures_by_kind[FAIL_PROTOCOL])                     \
    X("failures_by_kind", "client", U64, p->failures_by_kind[FAIL_CLIENT])                         \
    X(NULL, "bytes_read", U64, p->bytes_read)                                                      \
    X(NULL, "rps", DBL, p->rps)                                                                    \
    LATENCY_FIELDS(X, p->latency_ms)                                                               \
    X(NULL, "offered_rps", DBL, p->offered_rps)                                                    \
    X(NULL, "missed_schedule", U64, p->missed_schedule)                                            \
    X(NULL, "client_cpu_pct", DBL, p->client_cpu_pct)                                              \
    X("server", "rss_max_kb", DBL, p->server_rss_max_kb)                                           \
    X("server", "rss_mean_kb", DBL, p->server_rss_mean_kb)                                         \
    X("server", "cpu_pct", DBL, p->server_cpu_pct)                                                 \
    X("server", "cpu_max_pct", DBL, p->server_cpu_max_pct)                                         \
    X("server", "threads_max", INT, p->server_threads_max)                                         \
    X("server", "fds_max", INT, p->server_fds_max)                                                 \
    X(NULL, "load_bound", BOOL, p->load_bound)                                                     \
    X(NULL, "client_bound", BOOL, p->client_bound)                                                 \
    X(NULL, "stop_reason", STR, p->stop_reason)                                                    \
    X(NULL, "kind", STR, p->kind)                                                                  \
    X(NULL, "repeat", INT, p->repeat)                                                              \
    X(NULL, "sampler_cpu_pct", DBL, p->sampler_cpu_pct)                                            \
    X(NULL, "in_flight", U64, p->in_flight)                                                        \
    X(NULL, "steal_pct", DBL, p->steal_pct)                                                        \
    X(NULL, "neighbour_cpu_pct", DBL, p->neighbour_cpu_pct)                                        \
    X(NULL, "noisy", BOOL, p->noisy)                                                               \
    X(NULL, "offered", U64, p->offered)                                                            \
    X(NULL, "sent", U64, p->sent)                                                                  \
    X(NULL, "completed", U64, p->completed)                                                        \
    X(NULL, "unsent_due", U64, p->unsent_due)                                                      \
    X(NULL, "over_bound", U64, p->over_bound)                                                      \
    X(NULL, "bound_ms", DBL, p->bound_ms)                                                          \
    X(NULL, "seed", SEED, p->seed)                                                                 \
    X(NULL, "arrivals", STR, p->arrivals)                                                          \
    X(NULL, "connections_max", U64, p->connections_max)                                            \
    X(NULL, "connect_failures", U64, p->connect_failures)                                          \
    X(NULL, "retries", U64, p->retries)                                                            \
    X(NULL, "stopped_early", BOOL, p->stopped_early)                                               \
    X(NULL, "pct_of", DBL, p->pct_of)                                                              \
    X(NULL, "client_steal_pct", DBL, p->client_steal_pct)                                          \
    X(NULL, "client_neighbour_cpu_pct", DBL, p->client_neighbour_cpu_pct)                          \
    X("verified", "sampled", U64, p->verified_sampled)                                             \
    X("verified", "wrong", U64, p->verified_wrong)                                                 \
    X("database", "cpu_pct", DBL, p->db_cpu_pct)                                                   \
    X("database", "cpu_max_pct", DBL, p->db_cpu_max_pct)                                           \
    X("database", "rss_max_kb", DBL, p->db_rss_max_kb)                                             \
    X(NULL, "db_bound", BOOL, p->db_bound)

/* One point of a phase's series (struct store_series_point). */
#define SERIES_FIELDS(X)                                                                           \
    X(NULL, "t_s", DBL, p->t_s)                                                                    \
    X(NULL, "users", INT, p->users)                                                                \
    X(NULL, "requests", U64, p->requests)                                                          \
    X(NULL, "failures", U64, p->failures)                                                          \
    X(NULL, "p50_ms", DBL, p->p50_ms)                                                              \
    X(NULL, "p99_ms", DBL, p->p99_ms)

/* struct cell_result's figures; status, error, versions, load_points and slo
 * are written beside them (events.c: cell_json), framework and payload with
 * the event, id and phases never (the store's, and the phase_end lines). */
#define CELL_FIELDS(X)                                                                             \
    X(NULL, "capacity_users", INT, p->capacity_users)                                              \
    X(NULL, "breaking_users", INT, p->breaking_users)                                              \
    X(NULL, "peak_rps", DBL, p->peak_rps)                                                          \
    X(NULL, "repeats", INT, p->repeats)                                                            \
    X(NULL, "capacity_median", DBL, p->capacity_median)                                            \
    X(NULL, "capacity_iqr", DBL, p->capacity_iqr)                                                  \
    X(NULL, "capacity_min", DBL, p->capacity_min)                                                  \
    X(NULL, "capacity_max", DBL, p->capacity_max)                                                  \
    X(NULL, "peak_rps_median", DBL, p->peak_rps_median)                                            \
    X(NULL, "peak_rps_iqr", DBL, p->peak_rps_iqr)                                                  \
    X(NULL, "peak_rps_min", DBL, p->peak_rps_min)                                                  \
    X(NULL, "peak_rps_max", DBL, p->peak_rps_max)                                                  \
    X(NULL, "peak_rps_spread", DBL, p->peak_rps_spread)                                            \
    X(NULL, "peak_rps_load_bound", BOOL, p->peak_rps_load_bound)                                   \
    X(NULL, "note", STR, p->note)                                                                  \
    X(NULL, "held_users", INT, p->held_users)                                                      \
    X(NULL, "held_limit", STR, p->held_limit)                                                      \
    X(NULL, "held_setting", STR, p->held_setting)                                                  \
    X(NULL, "peak_rps_passing", DBL, p->peak_rps_passing)

#define LOAD_POINT_FIELDS(X)                                                                       \
    X(NULL, "pct_of_peak", DBL, p->pct_of_peak)                                                    \
    X(NULL, "offered_rps", DBL, p->offered_rps)                                                    \
    X(NULL, "rps", DBL, p->rps)                                                                    \
    LATENCY_FIELDS(X, p->latency_ms)                                                               \
    X(NULL, "failures", U64, p->failures)                                                          \
    X(NULL, "of_slo", BOOL, p->of_slo)                                                             \
    X(NULL, "offered", U64, p->offered)                                                            \
    X(NULL, "completed", U64, p->completed)                                                        \
    X(NULL, "in_flight", U64, p->in_flight)

#define SLO_FIELDS(X)                                                                              \
    X(NULL, "bound_ms", DBL, p->bound_ms)                                                          \
    X(NULL, "rps", DBL, p->rps)                                                                    \
    X(NULL, "bracket_lo", DBL, p->bracket_lo)                                                      \
    X(NULL, "bracket_hi", DBL, p->bracket_hi)                                                      \
    X(NULL, "limit", STR, p->limit)                                                                \
    LATENCY_FIELDS(X, p->latency_ms)                                                               \
    X(NULL, "probes", INT, p->probes)                                                              \
    X(NULL, "resolution_pct", DBL, p->resolution_pct)                                              \
    X(NULL, "failures_pct", DBL, p->failures_pct)

/* run_start: the run record's node and what the run was asked for. */
#define RUN_FIELDS(X)                                                                              \
    X(NULL, "started_at", STR, p->started_at)                                                      \
    X(NULL, "trigger", STR, p->trigger)                                                            \
    X(NULL, "profile", STR, p->profile)                                                            \
    X(NULL, "matrix_sha256", STR, p->matrix_sha256)                                                \
    X(NULL, "settings", STR, p->settings)                                                          \
    X("node", "host", STR, p->node_host)                                                           \
    X("node", "cpus", STR, p->node_cpus)                                                           \
    X("node", "kernel", STR, p->node_kernel)                                                       \
    X("node", "cpu_model", STR, p->node_cpu_model)                                                 \
    X("node", "cpu_count", INT, p->node_cpu_count)                                                 \
    X("node", "governor", STR, p->node_governor)                                                   \
    X("node", "python", STR, p->node_python)                                                       \
    X("node", "loadavg", DBL, p->node_loadavg)

/* ---- encoding ---- */

#define U64_EXACT (UINT64_C(1) << 53) /* the largest count a JSON number holds exactly */

static cJSON *enc_dbl(double v)
{
    if (!isfinite(v))
        return cJSON_CreateNull();
    char b[40];
    /* The shortest of %.15g..%.17g that reads back bit for bit. */
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(b, sizeof b, "%.*g", prec, v);
        if (strtod(b, NULL) == v)
            break;
    }
    return cJSON_CreateRaw(b);
}

static cJSON *enc_u64(uint64_t v)
{
    char b[24];
    snprintf(b, sizeof b, "%" PRIu64, v);
    return v <= U64_EXACT ? cJSON_CreateRaw(b) : cJSON_CreateString(b);
}

static cJSON *enc_int(int v)
{
    char b[16];
    snprintf(b, sizeof b, "%d", v);
    return cJSON_CreateRaw(b);
}

static cJSON *enc_seed(uint64_t v)
{
    char b[24];
    snprintf(b, sizeof b, "%" PRIu64, v);
    return cJSON_CreateString(b);
}

#define ENC_INT(v) enc_int(v)
#define ENC_U64(v) enc_u64(v)
#define ENC_DBL(v) enc_dbl(v)
#define ENC_BOOL(v) cJSON_CreateBool((v) != 0)
#define ENC_STR(v) cJSON_CreateString(v)
#define ENC_SEED(v) enc_seed(v)

/* The object a member goes in: o, or its sub-object group (made on first use). */
static cJSON *enc_group(cJSON *o, const char *group)
{
    if (!group)
        return o;
    cJSON *g = cJSON_GetObjectItemCaseSensitive(o, group);
    return g ? g : cJSON_AddObjectToObject(o, group);
}

/* cJSON_AddItemToObject refuses NULL items and objects: a failed allocation is
 * then seen once, when the line is printed (cJSON_Print* of a tree missing a
 * member still prints, so every add is checked through this flag). */
struct enc {
    int oom;
};

static void enc_add(struct enc *en, cJSON *o, const char *key, cJSON *item)
{
    if (!o || !item || !cJSON_AddItemToObject(o, key, item)) {
        cJSON_Delete(item);
        en->oom = 1;
    }
}

#define ENC_FIELD(group, key, type, field) enc_add(en, enc_group(o, group), key, ENC_##type(field));

static void phase_fields(struct enc *en, cJSON *o, const struct phase_result *p)
{
    PHASE_FIELDS(ENC_FIELD)
}

static void series_fields(struct enc *en, cJSON *o, const struct store_series_point *p)
{
    SERIES_FIELDS(ENC_FIELD)
}

static void cell_fields(struct enc *en, cJSON *o, const struct cell_result *p)
{
    CELL_FIELDS(ENC_FIELD)
}

static void load_point_fields(struct enc *en, cJSON *o, const struct load_point *p)
{
    LOAD_POINT_FIELDS(ENC_FIELD)
}

static void slo_fields(struct enc *en, cJSON *o, const struct cell_slo *p)
{
    SLO_FIELDS(ENC_FIELD)
}

static void run_fields(struct enc *en, cJSON *o, const struct run_record *p)
{
    RUN_FIELDS(ENC_FIELD)
}

static cJSON *str_or_null(const char *s)
{
    return s ? cJSON_CreateString(s) : cJSON_CreateNull();
}

/* The event's object with "event" first (a reader greps for it). */
static cJSON *event_new(struct enc *en, const char *kind)
{
    cJSON *o = cJSON_CreateObject();
    enc_add(en, o, "event", cJSON_CreateString(kind));
    return o;
}

static void enc_cell_names(struct enc *en, cJSON *o, const char *fw, const char *pl)
{
    enc_add(en, o, "framework", cJSON_CreateString(fw ? fw : ""));
    enc_add(en, o, "payload", cJSON_CreateString(pl ? pl : ""));
}

/* Prints o unformatted into *line and frees o. */
static int finish_line(struct enc *en, cJSON *o, char **line)
{
    *line = NULL;
    if (!en->oom && o)
        *line = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return *line ? 0 : -ENOMEM;
}

int exec_events_fingerprint(const struct run_record *r, char *out, size_t n)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return -ENOMEM;
    cJSON_AddStringToObject(o, "cpu_model", r->node_cpu_model);
    cJSON_AddItemToObject(o, "cpus",
                          r->node_cpu_count >= 0 ? cJSON_CreateNumber(r->node_cpu_count)
                                                 : cJSON_CreateNull());
    cJSON_AddStringToObject(o, "kernel", r->node_kernel);
    cJSON_AddStringToObject(o, "governor", r->node_governor);
    cJSON_AddStringToObject(o, "python", r->node_python);
    cJSON_AddItemToObject(o, "loadavg", enc_dbl(r->node_loadavg >= 0 ? r->node_loadavg : NAN));
    char *t = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (!t)
        return -ENOMEM;
    int rc = strlen(t) < n ? 0 : -E2BIG;
    if (!rc)
        memcpy(out, t, strlen(t) + 1);
    else if (n)
        out[0] = '\0';
    free(t);
    return rc;
}

int exec_events_run_start(const struct run_record *r, char **line)
{
    struct enc en = {0};
    cJSON *o = event_new(&en, "run_start");
    enc_add(&en, o, "version", enc_int(EXEC_EVENTS_VERSION));
    run_fields(&en, o, r);
    return finish_line(&en, o, line);
}

int exec_events_run_end(const char *status, char **line)
{
    struct enc en = {0};
    cJSON *o = event_new(&en, "run_end");
    enc_add(&en, o, "status", cJSON_CreateString(status ? status : ""));
    return finish_line(&en, o, line);
}

static cJSON *cell_json(struct enc *en, const struct cell_result *c)
{
    cJSON *o = cJSON_CreateObject();
    enc_add(en, o, "status", cJSON_CreateString(cell_status_name(c->status)));
    enc_add(en, o, "error", str_or_null(c->error));
    /* The versions as the object they are; text that is not one, as text. */
    cJSON *v = c->versions_json ? cJSON_Parse(c->versions_json) : NULL;
    if (c->versions_json && !cJSON_IsObject(v)) {
        cJSON_Delete(v);
        v = cJSON_CreateString(c->versions_json);
    }
    enc_add(en, o, "versions", v ? v : cJSON_CreateNull());
    cell_fields(en, o, c);
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; a && i < c->nload_points && i < CELL_MAX_LOAD_POINTS; i++) {
        cJSON *x = cJSON_CreateObject();
        load_point_fields(en, x, &c->load_points[i]);
        if (!x || !cJSON_AddItemToArray(a, x))
            en->oom = 1;
    }
    enc_add(en, o, "load_points", a);
    a = cJSON_CreateArray();
    for (int i = 0; a && i < c->nslo && i < CELL_MAX_SLO; i++) {
        cJSON *x = cJSON_CreateObject();
        slo_fields(en, x, &c->slo[i]);
        if (!x || !cJSON_AddItemToArray(a, x))
            en->oom = 1;
    }
    enc_add(en, o, "slo", a);
    return o;
}

static cJSON *series_json(struct enc *en, const struct store_series_point *pts, size_t n)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; a && i < n; i++) {
        cJSON *x = cJSON_CreateObject();
        series_fields(en, x, &pts[i]);
        if (!x || !cJSON_AddItemToArray(a, x))
            en->oom = 1;
    }
    return a;
}

int exec_events_encode(const struct exec_event *ev, char **line)
{
    struct enc en = {0};
    cJSON *o = NULL;
    *line = NULL;
    switch (ev->kind) {
    case EXEC_EV_PROGRESS:
        return 0;
    case EXEC_EV_LOG:
        o = event_new(&en, "log");
        enc_add(&en, o, "level", enc_int(ev->level));
        enc_add(&en, o, "framework", str_or_null(ev->framework));
        enc_add(&en, o, "payload", str_or_null(ev->payload));
        enc_add(&en, o, "message", cJSON_CreateString(ev->message ? ev->message : ""));
        break;
    case EXEC_EV_CELL_START:
        o = event_new(&en, "cell_start");
        enc_cell_names(&en, o, ev->framework, ev->payload);
        break;
    case EXEC_EV_PHASE_START:
        o = event_new(&en, "phase_start");
        enc_cell_names(&en, o, ev->framework, ev->payload);
        enc_add(&en, o, "seq", enc_int(ev->seq));
        enc_add(&en, o, "users", enc_int(ev->users));
        enc_add(&en, o, "duration_s", enc_dbl(ev->phase_duration_s));
        break;
    case EXEC_EV_PHASE_END: {
        if (!ev->phase)
            return -EINVAL;
        o = event_new(&en, "phase_end");
        enc_cell_names(&en, o, ev->framework, ev->payload);
        enc_add(&en, o, "seq", enc_int(ev->seq));
        cJSON *p = cJSON_CreateObject();
        phase_fields(&en, p, ev->phase);
        enc_add(&en, o, "phase", p);
        enc_add(&en, o, "series", series_json(&en, ev->series, ev->series ? ev->nseries : 0));
        int rc = finish_line(&en, o, line);
        if (rc || strlen(*line) <= EXEC_EVENTS_LINE_MAX)
            return rc;
        /* Too long for a reader: the phase without its series, which is optional. */
        free(*line);
        struct exec_event e2 = *ev;
        e2.series = NULL;
        e2.nseries = 0;
        rc = exec_events_encode(&e2, line);
        if (rc)
            return rc;
        char tail[48];
        snprintf(tail, sizeof tail, ",\"series_dropped\":%zu}", ev->nseries);
        size_t n = strlen(*line);
        char *l2 = realloc(*line, n + strlen(tail)); /* the '}' replaced */
        if (!l2) {
            free(*line);
            *line = NULL;
            return -ENOMEM;
        }
        memcpy(l2 + n - 1, tail, strlen(tail) + 1);
        *line = l2;
        return 0;
    }
    case EXEC_EV_CELL_END:
        if (!ev->cell)
            return -EINVAL;
        o = event_new(&en, "cell_end");
        enc_cell_names(&en, o, ev->framework ? ev->framework : ev->cell->framework,
                       ev->payload ? ev->payload : ev->cell->payload);
        enc_add(&en, o, "phases", enc_u64(ev->cell->nphases));
        enc_add(&en, o, "cell", cell_json(&en, ev->cell));
        break;
    }
    return finish_line(&en, o, line);
}

/* ---- decoding ---- */

struct dec {
    const char *name;
    long line;
    const char *event; /* for messages */
    struct err *e;
};

static int dec_fail(struct dec *d, const char *fmt, ...) MF_PRINTF(2, 3);
static int dec_fail(struct dec *d, const char *fmt, ...)
{
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return err_set_at(d->e, -EINVAL, d->name, (int)(d->line > INT_MAX ? INT_MAX : d->line), 1,
                      "%s%s%s", d->event ? d->event : "", d->event ? ": " : "", msg);
}

/* "phase.latency_ms.p99" for messages. */
static const char *dpath(char *b, size_t n, const char *where, const char *group, const char *key)
{
    snprintf(b, n, "%s%s%s%s%s", where ? where : "", where && (group || key) ? "." : "",
             group ? group : "", group && key ? "." : "", key ? key : "");
    return b;
}

/* The member key of o (of its sub-object group), or NULL with the error set. */
static const cJSON *dec_get(struct dec *d, const cJSON *o, const char *where, const char *group,
                            const char *key)
{
    char b[160];
    if (group) {
        o = cJSON_GetObjectItemCaseSensitive(o, group);
        if (!o)
            return dec_fail(d, "missing %s", dpath(b, sizeof b, where, group, NULL)), NULL;
        if (!cJSON_IsObject(o))
            return dec_fail(d, "%s: not an object", dpath(b, sizeof b, where, group, NULL)), NULL;
    }
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!v)
        dec_fail(d, "missing %s", dpath(b, sizeof b, where, group, key));
    return v;
}

static int dec_bad(struct dec *d, const char *where, const char *group, const char *key,
                   const char *what)
{
    char b[160];
    return dec_fail(d, "%s: %s", dpath(b, sizeof b, where, group, key), what);
}

static int dec_dbl(struct dec *d, const cJSON *o, const char *where, const char *group,
                   const char *key, double *out)
{
    const cJSON *v = dec_get(d, o, where, group, key);
    if (!v)
        return -EINVAL;
    if (cJSON_IsNull(v)) {
        *out = NAN;
        return 0;
    }
    if (!cJSON_IsNumber(v))
        return dec_bad(d, where, group, key, "not a number");
    *out = v->valuedouble;
    return 0;
}

static int dec_int(struct dec *d, const cJSON *o, const char *where, const char *group,
                   const char *key, int *out)
{
    const cJSON *v = dec_get(d, o, where, group, key);
    if (!v)
        return -EINVAL;
    double x = v->valuedouble;
    if (!cJSON_IsNumber(v) || x != floor(x) || x < INT_MIN || x > INT_MAX)
        return dec_bad(d, where, group, key, "not an integer");
    *out = (int)x;
    return 0;
}

static int u64_of_string(const char *s, uint64_t *out)
{
    if (!s || *s < '0' || *s > '9')
        return -EINVAL;
    char *end;
    errno = 0;
    unsigned long long x = strtoull(s, &end, 10);
    if (errno || *end || end - s > 20)
        return -EINVAL;
    *out = x;
    return 0;
}

static int dec_u64(struct dec *d, const cJSON *o, const char *where, const char *group,
                   const char *key, uint64_t *out)
{
    const cJSON *v = dec_get(d, o, where, group, key);
    if (!v)
        return -EINVAL;
    if (cJSON_IsString(v) && u64_of_string(v->valuestring, out) == 0)
        return 0;
    double x = v->valuedouble;
    if (!cJSON_IsNumber(v) || x != floor(x) || x < 0 || x > (double)U64_EXACT)
        return dec_bad(d, where, group, key,
                       "not a count (an integer 0 to 2^53, or a decimal string)");
    *out = (uint64_t)x;
    return 0;
}

static int dec_seed(struct dec *d, const cJSON *o, const char *where, const char *group,
                    const char *key, uint64_t *out)
{
    const cJSON *v = dec_get(d, o, where, group, key);
    if (!v)
        return -EINVAL;
    if (!cJSON_IsString(v) || u64_of_string(v->valuestring, out) != 0)
        return dec_bad(d, where, group, key, "not a 64-bit decimal string");
    return 0;
}

static int dec_bool(struct dec *d, const cJSON *o, const char *where, const char *group,
                    const char *key, int *out)
{
    const cJSON *v = dec_get(d, o, where, group, key);
    if (!v)
        return -EINVAL;
    if (!cJSON_IsBool(v))
        return dec_bad(d, where, group, key, "not true or false");
    *out = cJSON_IsTrue(v);
    return 0;
}

static int dec_strn(struct dec *d, const cJSON *o, const char *where, const char *group,
                    const char *key, char *out, size_t n)
{
    const cJSON *v = dec_get(d, o, where, group, key);
    if (!v)
        return -EINVAL;
    if (!cJSON_IsString(v))
        return dec_bad(d, where, group, key, "not a string");
    if (strlen(v->valuestring) >= n) {
        char b[160], what[64];
        snprintf(what, sizeof what, "longer than %zu bytes", n - 1);
        return dec_fail(d, "%s: %s", dpath(b, sizeof b, where, group, key), what);
    }
    memcpy(out, v->valuestring, strlen(v->valuestring) + 1);
    return 0;
}

/* A string or null into *out (malloc'd; NULL for null). */
static int dec_ostr(struct dec *d, const cJSON *o, const char *where, const char *key, char **out)
{
    const cJSON *v = dec_get(d, o, where, NULL, key);
    if (!v)
        return -EINVAL;
    if (cJSON_IsNull(v))
        return 0;
    if (!cJSON_IsString(v))
        return dec_bad(d, where, NULL, key, "not a string or null");
    if (!(*out = strdup(v->valuestring)))
        return err_set(d->e, -ENOMEM, "out of memory");
    return 0;
}

#define DEC_INT(d, o, w, g, k, f) dec_int(d, o, w, g, k, &(f))
#define DEC_U64(d, o, w, g, k, f) dec_u64(d, o, w, g, k, &(f))
#define DEC_DBL(d, o, w, g, k, f) dec_dbl(d, o, w, g, k, &(f))
#define DEC_BOOL(d, o, w, g, k, f) dec_bool(d, o, w, g, k, &(f))
#define DEC_STR(d, o, w, g, k, f) dec_strn(d, o, w, g, k, f, sizeof(f))
#define DEC_SEED(d, o, w, g, k, f) dec_seed(d, o, w, g, k, &(f))
#define DEC_FIELD(group, key, type, field)                                                         \
    if (DEC_##type(d, o, where, group, key, field) != 0)                                           \
        return -EINVAL;

static int dec_phase(struct dec *d, const cJSON *o, const char *where, struct phase_result *p)
{
    PHASE_FIELDS(DEC_FIELD)
    return 0;
}

static int dec_series_point(struct dec *d, const cJSON *o, const char *where,
                            struct store_series_point *p)
{
    SERIES_FIELDS(DEC_FIELD)
    return 0;
}

static int dec_cell_fields(struct dec *d, const cJSON *o, const char *where, struct cell_result *p)
{
    CELL_FIELDS(DEC_FIELD)
    return 0;
}

static int dec_load_point(struct dec *d, const cJSON *o, const char *where, struct load_point *p)
{
    LOAD_POINT_FIELDS(DEC_FIELD)
    return 0;
}

static int dec_slo(struct dec *d, const cJSON *o, const char *where, struct cell_slo *p)
{
    SLO_FIELDS(DEC_FIELD)
    return 0;
}

static int dec_run(struct dec *d, const cJSON *o, const char *where, struct run_record *p)
{
    RUN_FIELDS(DEC_FIELD)
    return 0;
}

/* An array member of at most max objects; its length in *n. */
static const cJSON *dec_array(struct dec *d, const cJSON *o, const char *where, const char *key,
                              size_t max, size_t *n)
{
    const cJSON *a = dec_get(d, o, where, NULL, key);
    if (!a)
        return NULL;
    if (!cJSON_IsArray(a))
        return dec_bad(d, where, NULL, key, "not an array"), NULL;
    *n = (size_t)cJSON_GetArraySize(a);
    if (*n > max) {
        char b[160];
        dec_fail(d, "%s: %zu items, at most %zu", dpath(b, sizeof b, where, NULL, key), *n, max);
        return NULL;
    }
    const cJSON *x;
    cJSON_ArrayForEach(x, a)
    {
        if (!cJSON_IsObject(x))
            return dec_bad(d, where, NULL, key, "an item is not an object"), NULL;
    }
    return a;
}

static int dec_cell(struct dec *d, const cJSON *o, struct cell_result *c)
{
    const char *where = "cell";
    char st[16];
    if (DEC_STR(d, o, where, NULL, "status", st) != 0)
        return -EINVAL;
    if (cell_status_parse(st, &c->status) != 0)
        return dec_bad(d, where, NULL, "status", "not a cell status");
    if (dec_ostr(d, o, where, "error", &c->error) != 0)
        return d->e->code;
    const cJSON *v = dec_get(d, o, where, NULL, "versions");
    if (!v)
        return -EINVAL;
    if (cJSON_IsObject(v))
        c->versions_json = cJSON_PrintUnformatted(v);
    else if (cJSON_IsString(v))
        c->versions_json = strdup(v->valuestring);
    else if (!cJSON_IsNull(v))
        return dec_bad(d, where, NULL, "versions", "not an object, a string or null");
    if (!cJSON_IsNull(v) && !c->versions_json)
        return err_set(d->e, -ENOMEM, "out of memory");
    if (dec_cell_fields(d, o, where, c) != 0)
        return -EINVAL;
    size_t n = 0;
    const cJSON *a = dec_array(d, o, where, "load_points", CELL_MAX_LOAD_POINTS, &n);
    if (!a)
        return -EINVAL;
    c->nload_points = (int)n;
    for (size_t i = 0; i < n; i++)
        if (dec_load_point(d, cJSON_GetArrayItem(a, (int)i), "cell.load_points[]",
                           &c->load_points[i]) != 0)
            return -EINVAL;
    if (!(a = dec_array(d, o, where, "slo", CELL_MAX_SLO, &n)))
        return -EINVAL;
    c->nslo = (int)n;
    for (size_t i = 0; i < n; i++)
        if (dec_slo(d, cJSON_GetArrayItem(a, (int)i), "cell.slo[]", &c->slo[i]) != 0)
            return -EINVAL;
    return 0;
}

static int dec_names(struct dec *d, const cJSON *o, struct exec_events_msg *m)
{
    if (DEC_STR(d, o, NULL, NULL, "framework", m->framework) != 0 ||
        DEC_STR(d, o, NULL, NULL, "payload", m->payload) != 0)
        return -EINVAL;
    if (!m->framework[0] || !m->payload[0])
        return dec_fail(d, "framework and payload must not be empty");
    return 0;
}

static const struct {
    const char *name;
    enum exec_events_kind kind;
} event_kinds[] = {
    {"run_start", EXEC_EVS_RUN_START},
    {"cell_start", EXEC_EVS_CELL_START},
    {"log", EXEC_EVS_LOG},
    {"phase_start", EXEC_EVS_PHASE_START},
    {"phase_end", EXEC_EVS_PHASE_END},
    {"cell_end", EXEC_EVS_CELL_END},
    {"run_end", EXEC_EVS_RUN_END},
};

static void msg_init(struct exec_events_msg *m)
{
    memset(m, 0, sizeof(*m));
    phase_result_init(&m->phase);
    m->cell.capacity_users = m->cell.breaking_users = m->cell.held_users = -1;
    m->run.node_cpu_count = -1;
    m->run.node_loadavg = -1;
}

static int decode_obj(struct dec *d, const cJSON *o, struct exec_events_msg *m)
{
    const cJSON *ev = cJSON_GetObjectItemCaseSensitive(o, "event");
    if (!ev || !cJSON_IsString(ev))
        return dec_fail(d, "no \"event\" member (a string)");
    m->kind = EXEC_EVS_OTHER;
    for (size_t i = 0; i < sizeof(event_kinds) / sizeof(event_kinds[0]); i++)
        if (strcmp(ev->valuestring, event_kinds[i].name) == 0) {
            m->kind = event_kinds[i].kind;
            d->event = event_kinds[i].name;
        }
    switch (m->kind) {
    case EXEC_EVS_OTHER:
        return 0; /* a newer writer's event: skipped */
    case EXEC_EVS_RUN_START: {
        int version = 0;
        if (dec_int(d, o, NULL, NULL, "version", &version) != 0)
            return -EINVAL;
        if (version != EXEC_EVENTS_VERSION)
            return dec_fail(d, "event stream version %d is not supported (this mfbench reads %d)",
                            version, EXEC_EVENTS_VERSION);
        return dec_run(d, o, NULL, &m->run);
    }
    case EXEC_EVS_RUN_END:
        return DEC_STR(d, o, NULL, NULL, "status", m->status);
    case EXEC_EVS_LOG: {
        if (dec_int(d, o, NULL, NULL, "level", &m->level) != 0)
            return -EINVAL;
        if (m->level < 0 || m->level > 7)
            return dec_bad(d, NULL, NULL, "level", "not a level 0 to 7");
        char *fw = NULL, *pl = NULL;
        int rc = dec_ostr(d, o, NULL, "framework", &fw);
        rc = rc ? rc : dec_ostr(d, o, NULL, "payload", &pl);
        if (!rc && ((fw && strlen(fw) >= sizeof(m->framework)) ||
                    (pl && strlen(pl) >= sizeof(m->payload))))
            rc = dec_fail(d, "framework or payload too long");
        if (!rc) {
            mf_strlcpy(m->framework, fw ? fw : "", sizeof(m->framework));
            mf_strlcpy(m->payload, pl ? pl : "", sizeof(m->payload));
        }
        free(fw);
        free(pl);
        return rc ? rc : dec_ostr(d, o, NULL, "message", &m->message);
    }
    case EXEC_EVS_CELL_START:
        return dec_names(d, o, m);
    case EXEC_EVS_PHASE_START:
        if (dec_names(d, o, m) != 0 || dec_int(d, o, NULL, NULL, "seq", &m->seq) != 0 ||
            dec_int(d, o, NULL, NULL, "users", &m->users) != 0 ||
            dec_dbl(d, o, NULL, NULL, "duration_s", &m->duration_s) != 0)
            return -EINVAL;
        return 0;
    case EXEC_EVS_PHASE_END: {
        if (dec_names(d, o, m) != 0 || dec_int(d, o, NULL, NULL, "seq", &m->seq) != 0)
            return -EINVAL;
        if (m->seq < 0)
            return dec_bad(d, NULL, NULL, "seq", "negative");
        const cJSON *p = dec_get(d, o, NULL, NULL, "phase");
        if (!p)
            return -EINVAL;
        if (!cJSON_IsObject(p))
            return dec_bad(d, NULL, NULL, "phase", "not an object");
        if (dec_phase(d, p, "phase", &m->phase) != 0)
            return -EINVAL;
        size_t n = 0;
        const cJSON *a = dec_array(d, o, NULL, "series", EXEC_EVENTS_LINE_MAX, &n);
        if (!a)
            return -EINVAL;
        if (n && !(m->series = calloc(n, sizeof(*m->series))))
            return err_set(d->e, -ENOMEM, "out of memory");
        m->nseries = n;
        for (size_t i = 0; i < n; i++)
            if (dec_series_point(d, cJSON_GetArrayItem(a, (int)i), "series[]", &m->series[i]))
                return -EINVAL;
        return 0;
    }
    case EXEC_EVS_CELL_END: {
        uint64_t n = 0;
        if (dec_names(d, o, m) != 0 || dec_u64(d, o, NULL, NULL, "phases", &n) != 0)
            return -EINVAL;
        m->nphases = (size_t)n;
        const cJSON *c = dec_get(d, o, NULL, NULL, "cell");
        if (!c)
            return -EINVAL;
        if (!cJSON_IsObject(c))
            return dec_bad(d, NULL, NULL, "cell", "not an object");
        if (dec_cell(d, c, &m->cell) != 0)
            return d->e->code ? d->e->code : -EINVAL;
        mf_strlcpy(m->cell.framework, m->framework, sizeof(m->cell.framework));
        mf_strlcpy(m->cell.payload, m->payload, sizeof(m->cell.payload));
        if (m->cell.status == CELL_RUNNING)
            return dec_bad(d, "cell", NULL, "status", "a cell's end cannot be running");
        return 0;
    }
    }
    return 0;
}

int exec_events_decode(const char *line, size_t len, const char *name, long lineno,
                       struct exec_events_msg *out, struct err *e)
{
    struct dec d = {.name = name ? name : "<events>", .line = lineno, .e = e};
    msg_init(out);
    if (len > EXEC_EVENTS_LINE_MAX)
        return dec_fail(&d, "line longer than %zu bytes", EXEC_EVENTS_LINE_MAX);
    if (memchr(line, '\0', len))
        return dec_fail(&d, "a NUL byte in the line");
    const char *end = NULL;
    cJSON *o = cJSON_ParseWithLengthOpts(line, len, &end, 0);
    if (!o) {
        /* On failure the parse end is where the JSON went wrong (and, unlike
         * cJSON_GetErrorPtr, not a global). */
        const char *at = end;
        long col = at && at >= line && at <= line + len ? (long)(at - line) + 1 : 1;
        return err_set_at(e, -EINVAL, d.name, (int)(lineno > INT_MAX ? INT_MAX : lineno),
                          (int)(col > INT_MAX ? INT_MAX : col), "not a JSON object: bad JSON");
    }
    /* Only white space may follow the object. */
    while (end && end < line + len && (*end == ' ' || *end == '\t' || *end == '\r'))
        end++;
    int rc;
    if (!cJSON_IsObject(o))
        rc = dec_fail(&d, "not a JSON object");
    else if (end && end < line + len)
        rc = dec_fail(&d, "more after the JSON object");
    else
        rc = decode_obj(&d, o, out);
    cJSON_Delete(o);
    return rc;
}

void exec_events_msg_free(struct exec_events_msg *m)
{
    if (!m)
        return;
    free(m->message);
    free(m->series);
    cell_result_free(&m->cell);
    run_record_free(&m->run);
    m->message = NULL;
    m->series = NULL;
    m->nseries = 0;
}

/* ---- the replayer ---- */

struct exec_replay {
    struct store *s;
    int64_t run_id; /* given, or 0: begun here */
    char name[256];
    void (*on_event)(void *arg, const struct exec_event *ev);
    void *arg;
    long line;
    int started, ended, failed, run_begun, finished;
    long open; /* index of the open cell in run.cells, -1 = none */
    struct run_record run;
    char status[16]; /* run_end's */
};

int exec_replay_new(struct store *s, int64_t run_id, const char *name, struct exec_replay **out,
                    struct err *e)
{
    *out = NULL;
    struct exec_replay *r = calloc(1, sizeof(*r));
    if (!r)
        return err_set(e, -ENOMEM, "out of memory");
    r->s = s;
    r->run_id = run_id;
    r->open = -1;
    mf_strlcpy(r->name, name ? name : "<events>", sizeof(r->name));
    r->run.node_cpu_count = -1;
    r->run.node_loadavg = -1;
    *out = r;
    return 0;
}

void exec_replay_on_event(struct exec_replay *r, void (*fn)(void *arg, const struct exec_event *ev),
                          void *arg)
{
    r->on_event = fn;
    r->arg = arg;
}

static void replay_emit(struct exec_replay *r, const struct exec_event *ev)
{
    if (r->on_event)
        r->on_event(r->arg, ev);
}

static int rfail(struct exec_replay *r, struct err *e, const char *fmt, ...) MF_PRINTF(3, 4);
static int rfail(struct exec_replay *r, struct err *e, const char *fmt, ...)
{
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    r->failed = 1;
    return err_set_at(e, -EINVAL, r->name, (int)(r->line > INT_MAX ? INT_MAX : r->line), 1, "%s",
                      msg);
}

static struct cell_result *open_cell(struct exec_replay *r)
{
    return r->open >= 0 ? &r->run.cells[r->open] : NULL;
}

/* The open cell when it is fw/pl, else NULL with the error set. */
static struct cell_result *cell_of(struct exec_replay *r, const struct exec_events_msg *m,
                                   const char *what, struct err *e)
{
    struct cell_result *c = open_cell(r);
    if (!c)
        return rfail(r, e, "%s of %s/%s outside a cell (no cell_start before it)", what,
                     m->framework, m->payload),
               NULL;
    if (strcmp(c->framework, m->framework) != 0 || strcmp(c->payload, m->payload) != 0)
        return rfail(r, e, "%s of %s/%s inside cell %s/%s", what, m->framework, m->payload,
                     c->framework, c->payload),
               NULL;
    return c;
}

static int replay_cell_start(struct exec_replay *r, const struct exec_events_msg *m, struct err *e)
{
    const struct cell_result *o = open_cell(r);
    if (o)
        return rfail(r, e, "cell_start of %s/%s before the end of cell %s/%s", m->framework,
                     m->payload, o->framework, o->payload);
    struct cell_result *cells = realloc(r->run.cells, (r->run.ncells + 1) * sizeof(*cells));
    if (!cells)
        return r->failed = 1, err_set(e, -ENOMEM, "out of memory");
    r->run.cells = cells;
    /* As the executor begins one (exec_cell). */
    struct cell_result *c = &cells[r->run.ncells];
    memset(c, 0, sizeof(*c));
    mf_strlcpy(c->framework, m->framework, sizeof(c->framework));
    mf_strlcpy(c->payload, m->payload, sizeof(c->payload));
    c->capacity_users = c->breaking_users = c->held_users = -1;
    c->capacity_median = c->capacity_iqr = c->capacity_min = c->capacity_max = -1;
    c->peak_rps_median = c->peak_rps_iqr = c->peak_rps_min = c->peak_rps_max = -1;
    c->peak_rps_spread = -1;
    c->peak_rps_passing = -1;
    c->status = CELL_RUNNING;
    int rc = store_cell_begin(r->s, r->run.id, c, e);
    if (rc)
        return r->failed = 1, rc;
    r->open = (long)r->run.ncells++;
    struct exec_event ev = {
        .kind = EXEC_EV_CELL_START, .framework = c->framework, .payload = c->payload};
    replay_emit(r, &ev);
    return 0;
}

static int replay_phase_end(struct exec_replay *r, struct exec_events_msg *m, struct err *e)
{
    struct cell_result *c = cell_of(r, m, "phase_end", e);
    if (!c)
        return -EINVAL;
    if ((size_t)m->seq != c->nphases)
        return rfail(r, e, "phase_end seq %d of %s/%s, expected %zu (a phase line missing?)",
                     m->seq, c->framework, c->payload, c->nphases);
    struct phase_result ph = m->phase;
    int rc = store_phase_add_id(r->s, c->id, m->seq, &ph, &ph.id, e);
    if (rc)
        return r->failed = 1, rc;
    if (m->nseries) {
        /* Optional, as in a local run: a failure is said and the phase stands. */
        struct err se;
        err_clear(&se);
        if (store_phase_series_add(r->s, ph.id, m->series, m->nseries, &se) != 0) {
            char msg[900];
            snprintf(msg, sizeof msg, "phase series not stored: %s", se.msg);
            struct exec_event ev = {.kind = EXEC_EV_LOG,
                                    .level = 4,
                                    .message = msg,
                                    .framework = c->framework,
                                    .payload = c->payload};
            replay_emit(r, &ev);
        }
    }
    if ((rc = cell_result_add_phase(c, &ph)) != 0)
        return r->failed = 1, err_set(e, rc, "out of memory");
    if (phase_in_search(&ph) && ph.rps > c->peak_rps) /* the live value, as exec keeps it */
        c->peak_rps = ph.rps;
    struct exec_event ev = {.kind = EXEC_EV_PHASE_END,
                            .framework = c->framework,
                            .payload = c->payload,
                            .users = ph.users,
                            .seq = m->seq,
                            .phase = &c->phases[c->nphases - 1],
                            .series = m->series,
                            .nseries = m->nseries};
    replay_emit(r, &ev);
    return 0;
}

static int replay_cell_end(struct exec_replay *r, struct exec_events_msg *m, struct err *e)
{
    struct cell_result *c = cell_of(r, m, "cell_end", e);
    if (!c)
        return -EINVAL;
    if (m->nphases != c->nphases)
        return rfail(r, e, "cell_end of %s/%s counts %zu phases, %zu came (a phase line missing?)",
                     c->framework, c->payload, m->nphases, c->nphases);
    /* The stream's figures, the replayer's id and phases. */
    struct cell_result keep = *c;
    free(c->error);
    free(c->versions_json);
    *c = m->cell;
    c->id = keep.id;
    c->phases = keep.phases;
    c->nphases = keep.nphases;
    c->phases_cap = keep.phases_cap;
    m->cell.error = m->cell.versions_json = NULL; /* moved */
    r->open = -1;
    int rc = store_cell_finish(r->s, c, e);
    if (rc)
        return r->failed = 1, rc;
    struct exec_event ev = {
        .kind = EXEC_EV_CELL_END, .framework = c->framework, .payload = c->payload, .cell = c};
    replay_emit(r, &ev);
    return 0;
}

int exec_replay_line(struct exec_replay *r, const char *line, size_t len, struct err *e)
{
    r->line++;
    if (r->failed || r->finished)
        return rfail(r, e, "the replay already ended");
    struct exec_events_msg m;
    int rc = exec_events_decode(line, len, r->name, r->line, &m, e);
    if (rc) {
        r->failed = 1;
        exec_events_msg_free(&m);
        return rc;
    }
    if (m.kind == EXEC_EVS_OTHER) {
        exec_events_msg_free(&m);
        return 0;
    }
    if (!r->started && m.kind != EXEC_EVS_RUN_START) {
        exec_events_msg_free(&m);
        return rfail(r, e, "the stream must open with run_start");
    }
    if (r->ended) {
        exec_events_msg_free(&m);
        return rfail(r, e, "an event after run_end");
    }
    switch (m.kind) {
    case EXEC_EVS_RUN_START: {
        if (r->started) {
            rc = rfail(r, e, "a second run_start");
            break;
        }
        r->started = 1;
        struct cell_result *cells = r->run.cells;
        size_t ncells = r->run.ncells;
        r->run = m.run;
        memset(&m.run, 0, sizeof(m.run)); /* moved (it owns no cells) */
        r->run.cells = cells;
        r->run.ncells = ncells;
        if (!r->run.trigger[0])
            mf_strlcpy(r->run.trigger, "cli", sizeof(r->run.trigger));
        if (r->run_id > 0) {
            r->run.id = r->run_id;
        } else if ((rc = store_run_begin(r->s, &r->run, e)) != 0) {
            r->failed = 1;
        } else {
            r->run_begun = 1;
        }
        break;
    }
    case EXEC_EVS_CELL_START:
        rc = replay_cell_start(r, &m, e);
        break;
    case EXEC_EVS_LOG: {
        struct exec_event ev = {.kind = EXEC_EV_LOG,
                                .level = m.level,
                                .message = m.message ? m.message : "",
                                .framework = m.framework[0] ? m.framework : NULL,
                                .payload = m.payload[0] ? m.payload : NULL};
        replay_emit(r, &ev);
        break;
    }
    case EXEC_EVS_PHASE_START: {
        if (!cell_of(r, &m, "phase_start", e)) {
            rc = -EINVAL;
            break;
        }
        struct exec_event ev = {.kind = EXEC_EV_PHASE_START,
                                .framework = m.framework,
                                .payload = m.payload,
                                .users = m.users,
                                .seq = m.seq,
                                .phase_duration_s = m.duration_s};
        replay_emit(r, &ev);
        break;
    }
    case EXEC_EVS_PHASE_END:
        rc = replay_phase_end(r, &m, e);
        break;
    case EXEC_EVS_CELL_END:
        rc = replay_cell_end(r, &m, e);
        break;
    case EXEC_EVS_RUN_END: {
        const struct cell_result *c = open_cell(r);
        if (c) {
            rc = rfail(r, e, "run_end before the end of cell %s/%s", c->framework, c->payload);
            break;
        }
        if (strcmp(m.status, "ok") != 0 && strcmp(m.status, "failed") != 0 &&
            strcmp(m.status, "interrupted") != 0 && strcmp(m.status, "cancelled") != 0) {
            rc = rfail(r, e, "run_end: status '%s' is not ok, failed, interrupted or cancelled",
                       m.status);
            break;
        }
        r->ended = 1;
        mf_strlcpy(r->status, m.status, sizeof(r->status));
        break;
    }
    case EXEC_EVS_OTHER:
        break;
    }
    exec_events_msg_free(&m);
    return rc;
}

int exec_replay_finish(struct exec_replay *r, enum cell_status open_status, const char *why,
                       struct err *e)
{
    int rc = 0;
    if (r->finished)
        return 0;
    r->finished = 1;
    struct cell_result *c = open_cell(r);
    if (c) {
        /* Never ok: what its stored phases say, and why it ended here. */
        char msg[256];
        snprintf(msg, sizeof msg, "the event stream ended at line %ld before the cell's end",
                 r->line);
        c->status = open_status == CELL_INTERRUPTED || open_status == CELL_CANCELLED ? open_status
                                                                                     : CELL_ERROR;
        free(c->error);
        c->error = strdup(why ? why : msg);
        c->peak_rps_passing = cell_peak_passing(c);
        r->open = -1;
        struct err se;
        err_clear(&se);
        if ((rc = store_cell_finish(r->s, c, &se)) != 0)
            err_set(e, rc, "%s", se.msg);
        struct exec_event ev = {
            .kind = EXEC_EV_CELL_END, .framework = c->framework, .payload = c->payload, .cell = c};
        replay_emit(r, &ev);
    }
    if (r->run_begun) {
        struct err se;
        err_clear(&se);
        const char *st = r->ended && !r->failed ? r->status : "interrupted";
        int frc = store_run_finish(r->s, r->run.id, st, &se);
        if (frc) {
            err_set(e, frc, "%s", se.msg);
            rc = rc ? rc : frc;
        } else {
            mf_strlcpy(r->run.status, st, sizeof(r->run.status));
        }
    }
    if (rc)
        return rc;
    if (!r->started)
        return err_set(e, -EPROTO, "%s: the event stream has no run_start (%ld lines)", r->name,
                       r->line);
    if (!r->ended)
        return err_set(e, -EPROTO, "%s: the event stream ended at line %ld without run_end",
                       r->name, r->line);
    return 0;
}

int exec_replay_stream(struct exec_replay *r, FILE *in, struct err *e)
{
    struct buf b;
    buf_init(&b, EXEC_EVENTS_LINE_MAX + 1);
    char chunk[4096];
    int rc = 0, eof = 0;
    while (!rc && !eof) {
        /* One line, byte by byte (a NUL byte stays in it, for the decoder to
         * refuse), up to the bound: what lies past it is never kept. */
        size_t n = 0, total = 0;
        int ch = 0;
        buf_reset(&b);
        while ((ch = getc(in)) != EOF && ch != '\n') {
            total++;
            if (total > EXEC_EVENTS_LINE_MAX)
                continue;
            chunk[n++] = (char)ch;
            if (n == sizeof chunk) {
                if ((rc = buf_append(&b, chunk, n)) != 0)
                    break;
                n = 0;
            }
        }
        if (!rc && n)
            rc = buf_append(&b, chunk, n);
        if (rc) {
            rc = err_set(e, rc, "%s: line %ld: %s", r->name, r->line + 1, strerror(-rc));
            break;
        }
        eof = ch == EOF;
        if (ferror(in)) {
            rc = err_set(e, -EIO, "%s: read error after line %ld", r->name, r->line);
            break;
        }
        if (eof && total == 0)
            break;
        if (total > EXEC_EVENTS_LINE_MAX) {
            r->line++;
            rc = rfail(r, e, "line longer than %zu bytes", EXEC_EVENTS_LINE_MAX);
            break;
        }
        size_t len = b.len;
        while (len && (b.data[len - 1] == '\r' || b.data[len - 1] == ' '))
            len--;
        if (len == 0) {
            r->line++; /* a blank line: nothing */
            continue;
        }
        rc = exec_replay_line(r, b.data, len, e);
    }
    buf_free(&b);
    char why[1100];
    err_format(e, why, sizeof why);
    struct err fe;
    err_clear(&fe);
    int frc = exec_replay_finish(r, CELL_ERROR, rc ? why : NULL, &fe);
    if (rc)
        return rc;
    if (frc)
        *e = fe;
    return frc;
}

const struct run_record *exec_replay_run(const struct exec_replay *r)
{
    return &r->run;
}

long exec_replay_lineno(const struct exec_replay *r)
{
    return r->line;
}

void exec_replay_free(struct exec_replay *r)
{
    if (!r)
        return;
    run_record_free(&r->run);
    free(r);
}
