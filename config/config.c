/* config.c - loads matrix.yaml with libyaml's document API and validates it into
 * struct cfg_matrix. Every rejection names the full key path and its file:line:col;
 * cfg_resolve/cfg_select turn the loaded matrix into the settings and cells of a run. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#define CFG_MAX_FILE ((size_t)1 << 20) /* a matrix is a few KiB; refuse anything silly */
#define CFG_MAX_PAIRS 1024             /* entries in one mapping */
#define CFG_MAX_NAME 64                /* framework, payload and profile names */
#define CFG_KEY_MAX 320                /* "frameworks.NAME.stop_when.failures" */

/* The built-in bottom layer of cfg_resolve (the seed benchmark's settings). */
static const struct cfg_settings builtin_settings = {
    .set = 0,
    .duration_ms = 60000,
    .warmup_ms = 5000,
    .spawn_rate = 500,
    .think = {CFG_THINK_BETWEEN, 5000, 15000},
    .users = {500, 500, 10000},
    .stop_when = {1, 0, 0},
    .timeout_ms = 10000,
    .repeats = 1,
    .rate = 0,
    .pipeline = 1,
    .refine_pct = 0,
    .refine_abs = 0,
    .ready_timeout_ms = 30000,
    .spread_pct = 5,
    .max_repeats = 5,
    .client_bound_pct = 90,
};

#define SETTINGS_KEYS                                                                              \
    "duration, warmup, spawn_rate, think, users, stop_when, timeout, repeats, rate, pipeline, "    \
    "refine, ready_timeout, spread, max_repeats"

struct ctx {
    yaml_document_t *doc;
    struct cfg_matrix *m;
    struct err *e;
    /* Marks of each framework/profile mapping and of defaults, to place errors
     * found when the layers are combined. */
    int *fw_line, *fw_col, *pr_line, *pr_col;
    int def_line, def_col;
};

/* ---- errors and small helpers ---- */

static int bad_at(struct ctx *c, const yaml_mark_t *mk, const char *fmt, ...) MF_PRINTF(3, 4);
static int bad_at(struct ctx *c, const yaml_mark_t *mk, const char *fmt, ...)
{
    char msg[sizeof(c->e->msg)];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return err_set_at(c->e, -EINVAL, c->m->path, (int)mk->line + 1, (int)mk->column + 1, "%s", msg);
}

#define bad(c, n, ...) bad_at((c), &(n)->start_mark, __VA_ARGS__)

static const char *join(char out[CFG_KEY_MAX], const char *prefix, const char *key)
{
    int n = (!prefix || !*prefix) ? snprintf(out, CFG_KEY_MAX, "%s", key)
                                  : snprintf(out, CFG_KEY_MAX, "%s.%s", prefix, key);
    if (n >= CFG_KEY_MAX) /* only a fuzzed key gets here: show that it was cut */
        memcpy(out + CFG_KEY_MAX - 4, "...", 4);
    return out;
}

static const char *sval(const yaml_node_t *n)
{
    return (const char *)n->data.scalar.value;
}

static bool is_null(const yaml_node_t *n)
{
    if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return false;
    const char *s = sval(n);
    return !*s || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") || !strcmp(s, "NULL");
}

static const char *kind_name(const yaml_node_t *n)
{
    if (n->type == YAML_MAPPING_NODE)
        return "a mapping";
    if (n->type == YAML_SEQUENCE_NODE)
        return "a sequence";
    if (is_null(n))
        return "nothing";
    return "a scalar";
}

static yaml_node_t *node_at(struct ctx *c, int id)
{
    return yaml_document_get_node(c->doc, id);
}

/* A scalar value (not null). what names the expected kind for the message. */
static int want_scalar(struct ctx *c, yaml_node_t *n, const char *key, const char *what)
{
    if (n->type != YAML_SCALAR_NODE)
        return bad(c, n, "%s must be %s, got %s", key, what, kind_name(n));
    if (is_null(n))
        return bad(c, n, "%s has no value (expected %s)", key, what);
    return 0;
}

static int get_str(struct ctx *c, yaml_node_t *n, const char *key, char **out)
{
    int rc = want_scalar(c, n, key, "a string");
    if (rc)
        return rc;
    char *s = strdup(sval(n));
    if (!s)
        return err_set(c->e, -ENOMEM, "out of memory");
    free(*out);
    *out = s;
    return 0;
}

static int get_int(struct ctx *c, yaml_node_t *n, const char *key, int64_t min, int64_t max,
                   int64_t *out)
{
    int rc = want_scalar(c, n, key, "an integer");
    if (rc)
        return rc;
    int64_t v;
    rc = parse_i64(sval(n), INT64_MIN, INT64_MAX, &v);
    if (rc == -EINVAL)
        return bad(c, n, "%s must be an integer, got '%s'", key, sval(n));
    if (rc || v > max)
        return bad(c, n, "%s is too large (at most %lld)", key, (long long)max);
    if (v < min) {
        if (min == 1)
            return bad(c, n, "%s must be > 0", key);
        return bad(c, n, "%s must be >= %lld", key, (long long)min);
    }
    *out = v;
    return 0;
}

static int get_count(struct ctx *c, yaml_node_t *n, const char *key, int *out)
{
    int64_t v;
    int rc = get_int(c, n, key, 1, INT_MAX, &v);
    if (!rc)
        *out = (int)v;
    return rc;
}

/* A finite number; positive says whether 0 is refused too. */
static int get_num(struct ctx *c, yaml_node_t *n, const char *key, bool positive, double *out)
{
    int rc = want_scalar(c, n, key, "a number");
    if (rc)
        return rc;
    double v;
    if (parse_double(sval(n), &v))
        return bad(c, n, "%s must be a number, got '%s'", key, sval(n));
    if (positive && v <= 0)
        return bad(c, n, "%s must be > 0", key);
    if (v < 0)
        return bad(c, n, "%s must be >= 0", key);
    if (v > 1e9)
        return bad(c, n, "%s is too large", key);
    *out = v;
    return 0;
}

static int get_dur(struct ctx *c, yaml_node_t *n, const char *key, bool positive, int64_t *out)
{
    int rc = want_scalar(c, n, key, "a duration (like 60s)");
    if (rc)
        return rc;
    int64_t ms;
    /* The length cap keeps dur_parse's sum of parts far from overflowing. */
    if (strlen(sval(n)) > 32 || dur_parse(sval(n), &ms))
        return bad(c, n, "%s: malformed duration '%s' (use e.g. 60s, 2m, 500ms, 1m30s or 0)", key,
                   sval(n));
    if (positive && ms <= 0)
        return bad(c, n, "%s must be > 0", key);
    *out = ms;
    return 0;
}

static int get_bool(struct ctx *c, yaml_node_t *n, const char *key, int *out)
{
    static const char *const yes[] = {"true", "yes", "on", "1"};
    static const char *const no[] = {"false", "no", "off", "0"};
    int rc = want_scalar(c, n, key, "true or false");
    if (rc)
        return rc;
    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        if (!strcasecmp(sval(n), yes[i])) {
            *out = 1;
            return 0;
        }
        if (!strcasecmp(sval(n), no[i])) {
            *out = 0;
            return 0;
        }
    }
    return bad(c, n, "%s must be true or false, got '%s'", key, sval(n));
}

/* Names reach shell commands and paths on the node: keep them boring. */
static bool name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > CFG_MAX_NAME)
        return false;
    if (!(islower((unsigned char)s[0]) || isdigit((unsigned char)s[0])))
        return false;
    for (size_t i = 1; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (!(islower(ch) || isdigit(ch) || ch == '_' || ch == '.' || ch == '-'))
            return false;
    }
    return true;
}

static int get_name(struct ctx *c, yaml_node_t *n, const char *key, char **out)
{
    int rc = get_str(c, n, key, out);
    if (!rc && !name_ok(*out))
        rc = bad(c, n,
                 "%s: '%s' is not a valid name (use [a-z0-9][a-z0-9_.-]*, at most %d characters)",
                 key, sval(n), CFG_MAX_NAME);
    return rc;
}

/* "1", "0-3,6", or "" (no pinning): what taskset -c takes. */
static int get_cpus(struct ctx *c, yaml_node_t *n, const char *key, char **out)
{
    if (n->type == YAML_SCALAR_NODE && n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE &&
        !*sval(n)) {
        char *s = strdup("");
        if (!s)
            return err_set(c->e, -ENOMEM, "out of memory");
        free(*out);
        *out = s;
        return 0;
    }
    int rc = get_str(c, n, key, out);
    if (rc)
        return rc;
    for (const char *p = *out; *p; p++)
        if (!isdigit((unsigned char)*p) && *p != ',' && *p != '-')
            return bad(c, n, "%s must be a CPU list like \"1\" or \"0-3,6\", got '%s'", key, *out);
    return 0;
}

/* A mapping (or, when null_ok, nothing, treated as empty) whose keys are unique
 * scalars. Returns 0 with *npairs set. */
static int check_map(struct ctx *c, yaml_node_t *n, const char *key, bool null_ok, size_t *npairs)
{
    *npairs = 0;
    if (null_ok && is_null(n))
        return 0;
    if (n->type != YAML_MAPPING_NODE)
        return bad(c, n, "%s must be a mapping, got %s", key[0] ? key : "the matrix", kind_name(n));
    yaml_node_pair_t *start = n->data.mapping.pairs.start, *top = n->data.mapping.pairs.top;
    size_t count = (size_t)(top - start);
    if (count > CFG_MAX_PAIRS)
        return bad(c, n, "%s has more than %d entries", key[0] ? key : "the matrix", CFG_MAX_PAIRS);
    char kp[CFG_KEY_MAX];
    for (size_t i = 0; i < count; i++) {
        yaml_node_t *k = node_at(c, start[i].key);
        if (!k || k->type != YAML_SCALAR_NODE || is_null(k))
            return bad(c, k ? k : n, "%s: keys must be plain names, got %s",
                       key[0] ? key : "the matrix", k ? kind_name(k) : "nothing");
        for (size_t j = 0; j < i; j++) {
            yaml_node_t *o = node_at(c, start[j].key);
            if (!strcmp(sval(o), sval(k)))
                return bad(c, k, "duplicate key '%s' (first at line %d)", join(kp, key, sval(k)),
                           (int)o->start_mark.line + 1);
        }
    }
    *npairs = count;
    return 0;
}

static int unknown_key(struct ctx *c, yaml_node_t *k, const char *prefix, const char *allowed)
{
    char kp[CFG_KEY_MAX];
    return bad(c, k, "unknown key '%s' (allowed: %s)", join(kp, prefix, sval(k)), allowed);
}

#define PAIR_KEY(c, n, i) node_at((c), (n)->data.mapping.pairs.start[i].key)
#define PAIR_VAL(c, n, i) node_at((c), (n)->data.mapping.pairs.start[i].value)

/* ---- settings: defaults, profiles and framework overrides ---- */

static int parse_think(struct ctx *c, yaml_node_t *n, const char *key, struct cfg_think *t)
{
    char kp[CFG_KEY_MAX];
    int rc;
    if (n->type == YAML_SCALAR_NODE) { /* think: 2s means constant 2s */
        int64_t ms;
        if ((rc = get_dur(c, n, key, false, &ms)))
            return rc;
        *t = (struct cfg_think){CFG_THINK_CONSTANT, ms, ms};
        return 0;
    }
    size_t np;
    if ((rc = check_map(c, n, key, false, &np)))
        return rc;
    yaml_node_t *min = NULL, *max = NULL, *cons = NULL, *pace = NULL;
    for (size_t i = 0; i < np; i++) {
        yaml_node_t *k = PAIR_KEY(c, n, i), *v = PAIR_VAL(c, n, i);
        const char *s = sval(k);
        if (!strcmp(s, "min"))
            min = v;
        else if (!strcmp(s, "max"))
            max = v;
        else if (!strcmp(s, "constant"))
            cons = v;
        else if (!strcmp(s, "pacing"))
            pace = v;
        else
            return unknown_key(c, k, key, "min, max, constant, pacing");
    }
    int forms = (min || max) + !!cons + !!pace;
    if (forms != 1)
        return bad(c, n, "%s must be {min: D, max: D}, {constant: D} or {pacing: D}", key);
    if (cons) {
        int64_t ms;
        if ((rc = get_dur(c, cons, join(kp, key, "constant"), false, &ms)))
            return rc;
        *t = (struct cfg_think){CFG_THINK_CONSTANT, ms, ms};
        return 0;
    }
    if (pace) {
        int64_t ms;
        if ((rc = get_dur(c, pace, join(kp, key, "pacing"), true, &ms)))
            return rc;
        *t = (struct cfg_think){CFG_THINK_PACING, ms, ms};
        return 0;
    }
    if (!min || !max)
        return bad(c, n, "%s needs both min and max", key);
    int64_t lo, hi;
    if ((rc = get_dur(c, min, join(kp, key, "min"), false, &lo)) ||
        (rc = get_dur(c, max, join(kp, key, "max"), false, &hi)))
        return rc;
    if (lo > hi) {
        char a[32], b[32];
        return bad(c, min, "%s.min (%s) must be <= %s.max (%s)", key, dur_format(lo, a, sizeof a),
                   key, dur_format(hi, b, sizeof b));
    }
    *t = (struct cfg_think){CFG_THINK_BETWEEN, lo, hi};
    return 0;
}

/* Fields not given stay 0 and are taken from the lower layers by cfg_resolve. */
static int parse_users(struct ctx *c, yaml_node_t *n, const char *key, struct cfg_users *u)
{
    char kp[CFG_KEY_MAX];
    size_t np;
    int rc = check_map(c, n, key, false, &np);
    if (rc)
        return rc;
    if (np == 0)
        return bad(c, n, "%s must give at least one of start, step, max", key);
    yaml_node_t *start = NULL;
    for (size_t i = 0; i < np; i++) {
        yaml_node_t *k = PAIR_KEY(c, n, i), *v = PAIR_VAL(c, n, i);
        const char *s = sval(k);
        int *dst;
        if (!strcmp(s, "start")) {
            dst = &u->start;
            start = v;
        } else if (!strcmp(s, "step")) {
            dst = &u->step;
        } else if (!strcmp(s, "max")) {
            dst = &u->max;
        } else if (!strcmp(s, "factor")) {
            dst = &u->factor;
        } else {
            return unknown_key(c, k, key, "start, step, max, factor");
        }
        if ((rc = get_count(c, v, join(kp, key, s), dst)))
            return rc;
        if (dst == &u->factor && u->factor < 2)
            return bad(c, v, "%s must be >= 2", join(kp, key, s));
    }
    if (u->start && u->max && u->start > u->max)
        return bad(c, start, "%s.start (%d) must be <= %s.max (%d)", key, u->start, key, u->max);
    return 0;
}

static int parse_stop_when(struct ctx *c, yaml_node_t *n, const char *key, struct cfg_stop_when *sw)
{
    char kp[CFG_KEY_MAX];
    size_t np;
    int rc = check_map(c, n, key, false, &np);
    if (rc)
        return rc;
    if (np == 0)
        return bad(c, n, "%s must give at least one of failures, ratio, p99", key);
    *sw = (struct cfg_stop_when){0, 0, 0};
    for (size_t i = 0; i < np; i++) {
        yaml_node_t *k = PAIR_KEY(c, n, i), *v = PAIR_VAL(c, n, i);
        const char *s = sval(k);
        join(kp, key, s);
        if (!strcmp(s, "failures")) {
            rc = get_int(c, v, kp, 1, INT64_MAX, &sw->failures);
        } else if (!strcmp(s, "ratio")) {
            rc = get_num(c, v, kp, true, &sw->ratio);
            if (!rc && sw->ratio > 1)
                rc = bad(c, v, "%s must be in (0, 1], got %s", kp, sval(v));
        } else if (!strcmp(s, "p99")) {
            int64_t ms;
            rc = get_dur(c, v, kp, true, &ms);
            sw->p99_ms = (double)ms;
        } else {
            rc = unknown_key(c, k, key, "failures, ratio, p99");
        }
        if (rc)
            return rc;
    }
    return 0;
}

static int parse_refine(struct ctx *c, yaml_node_t *n, const char *key, struct cfg_settings *s)
{
    int rc = want_scalar(c, n, key, "a percentage (5%) or a user count");
    if (rc)
        return rc;
    const char *v = sval(n);
    size_t len = strlen(v);
    s->refine_pct = 0;
    s->refine_abs = 0;
    if (len > 1 && v[len - 1] == '%') {
        char tmp[64];
        double pct;
        if (len >= sizeof(tmp))
            return bad(c, n, "%s: malformed percentage '%s'", key, v);
        memcpy(tmp, v, len - 1);
        tmp[len - 1] = '\0';
        if (parse_double(tmp, &pct) || pct <= 0 || pct > 100)
            return bad(c, n, "%s must be a percentage in (0%%, 100%%] or a user count, got '%s'",
                       key, v);
        s->refine_pct = pct;
        return 0;
    }
    int64_t abs;
    if (parse_i64(v, 0, INT_MAX, &abs))
        return bad(c, n, "%s must be a percentage (like 5%%) or a user count >= 0, got '%s'", key,
                   v);
    s->refine_abs = (int)abs;
    return 0;
}

/* A percentage "5%" or a bare number of percent, in (0, 100]. */
static int parse_pct(struct ctx *c, yaml_node_t *n, const char *key, double *out)
{
    int rc = want_scalar(c, n, key, "a percentage (5%)");
    if (rc)
        return rc;
    const char *v = sval(n);
    size_t len = strlen(v);
    char tmp[64];
    if (len == 0 || len >= sizeof(tmp))
        return bad(c, n, "%s must be a percentage in (0%%, 100%%], got '%s'", key, v);
    memcpy(tmp, v, len + 1);
    if (tmp[len - 1] == '%')
        tmp[len - 1] = '\0';
    double pct;
    if (parse_double(tmp, &pct) || !(pct > 0) || pct > 100)
        return bad(c, n, "%s must be a percentage in (0%%, 100%%], got '%s'", key, v);
    *out = pct;
    return 0;
}

/* One settings key; returns 1 when key is not a settings key. */
static int parse_setting(struct ctx *c, yaml_node_t *k, yaml_node_t *v, const char *prefix,
                         struct cfg_settings *s)
{
    char kp[CFG_KEY_MAX];
    const char *name = sval(k);
    join(kp, prefix, name);
    int rc;
    unsigned bit;
    if (!strcmp(name, "duration")) {
        bit = CFG_SET_DURATION;
        rc = get_dur(c, v, kp, true, &s->duration_ms);
    } else if (!strcmp(name, "warmup")) {
        bit = CFG_SET_WARMUP;
        rc = get_dur(c, v, kp, false, &s->warmup_ms);
    } else if (!strcmp(name, "spawn_rate")) {
        bit = CFG_SET_SPAWN_RATE;
        rc = get_num(c, v, kp, true, &s->spawn_rate);
    } else if (!strcmp(name, "think")) {
        bit = CFG_SET_THINK;
        rc = parse_think(c, v, kp, &s->think);
    } else if (!strcmp(name, "users")) {
        bit = CFG_SET_USERS;
        rc = parse_users(c, v, kp, &s->users);
    } else if (!strcmp(name, "stop_when")) {
        bit = CFG_SET_STOP_WHEN;
        rc = parse_stop_when(c, v, kp, &s->stop_when);
    } else if (!strcmp(name, "timeout")) {
        bit = CFG_SET_TIMEOUT;
        rc = get_dur(c, v, kp, true, &s->timeout_ms);
    } else if (!strcmp(name, "repeats")) {
        bit = CFG_SET_REPEATS;
        if (v->type == YAML_SCALAR_NODE && !strcmp(sval(v), "auto")) {
            s->repeats = 0;
            rc = 0;
        } else {
            rc = get_count(c, v, kp, &s->repeats);
        }
    } else if (!strcmp(name, "rate")) {
        bit = CFG_SET_RATE;
        rc = get_num(c, v, kp, false, &s->rate);
    } else if (!strcmp(name, "pipeline")) {
        bit = CFG_SET_PIPELINE;
        rc = get_count(c, v, kp, &s->pipeline);
    } else if (!strcmp(name, "refine")) {
        bit = CFG_SET_REFINE;
        rc = parse_refine(c, v, kp, s);
    } else if (!strcmp(name, "ready_timeout")) {
        bit = CFG_SET_READY_TIMEOUT;
        rc = get_dur(c, v, kp, true, &s->ready_timeout_ms);
    } else if (!strcmp(name, "spread")) {
        bit = CFG_SET_SPREAD;
        rc = parse_pct(c, v, kp, &s->spread_pct);
    } else if (!strcmp(name, "max_repeats")) {
        bit = CFG_SET_MAX_REPEATS;
        rc = get_count(c, v, kp, &s->max_repeats);
        if (!rc && s->max_repeats < 3)
            rc = bad(c, v, "%s must be >= 3 (repeats: auto runs at least 3)", kp);
    } else if (!strcmp(name, "client_bound_pct")) {
        /* Not listed in SETTINGS_KEYS: a test knob, documented in mfbench-matrix(5). */
        bit = CFG_SET_CLIENT_BOUND;
        rc = parse_pct(c, v, kp, &s->client_bound_pct);
    } else {
        return 1;
    }
    if (!rc)
        s->set |= bit;
    return rc;
}

static yaml_node_t *find_value(struct ctx *c, yaml_node_t *n, const char *key)
{
    if (n->type != YAML_MAPPING_NODE)
        return n;
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++)
        if (!strcmp(sval(node_at(c, p->key)), key))
            return node_at(c, p->value);
    return n;
}

/* Checks a layer on its own: what it gives must agree with itself. */
static int check_layer(struct ctx *c, yaml_node_t *n, const char *prefix,
                       const struct cfg_settings *s)
{
    unsigned both = CFG_SET_DURATION | CFG_SET_WARMUP;
    if ((s->set & both) == both && s->warmup_ms >= s->duration_ms) {
        n = find_value(c, n, "warmup");
        char a[32], b[32];
        return bad(c, n, "%s%swarmup (%s) must be < %s%sduration (%s)", prefix, *prefix ? "." : "",
                   dur_format(s->warmup_ms, a, sizeof a), prefix, *prefix ? "." : "",
                   dur_format(s->duration_ms, b, sizeof b));
    }
    return 0;
}

static int parse_settings_map(struct ctx *c, yaml_node_t *n, const char *prefix,
                              struct cfg_settings *s)
{
    size_t np;
    int rc = check_map(c, n, prefix, true, &np);
    if (rc)
        return rc;
    for (size_t i = 0; i < np; i++) {
        rc = parse_setting(c, PAIR_KEY(c, n, i), PAIR_VAL(c, n, i), prefix, s);
        if (rc == 1)
            return unknown_key(c, PAIR_KEY(c, n, i), prefix, SETTINGS_KEYS);
        if (rc)
            return rc;
    }
    return check_layer(c, n, prefix, s);
}

/* ---- sections ---- */

static char *expand_home(const char *p)
{
    const char *home = getenv("HOME");
    if (!p || p[0] != '~' || (p[1] != '/' && p[1] != '\0') || !home || !*home)
        return mf_strdup(p);
    size_t n = strlen(home) + strlen(p);
    char *s = malloc(n);
    if (s)
        snprintf(s, n, "%s%s", home, p + 1);
    return s;
}

static int set_default(struct ctx *c, char **field, const char *value)
{
    if (*field)
        return 0;
    *field = strdup(value);
    return *field ? 0 : err_set(c->e, -ENOMEM, "out of memory");
}

/* node.pip: {index_url, find_links, args}, all strings. */
static int parse_pip(struct ctx *c, yaml_node_t *n, const char *pre, struct cfg_node *nd)
{
    char kp[CFG_KEY_MAX];
    size_t np = 0;
    int rc = check_map(c, n, pre, true, &np);
    for (size_t i = 0; !rc && i < np; i++) {
        yaml_node_t *k = PAIR_KEY(c, n, i), *v = PAIR_VAL(c, n, i);
        const char *s = sval(k);
        join(kp, pre, s);
        if (!strcmp(s, "index_url"))
            rc = get_str(c, v, kp, &nd->pip_index_url);
        else if (!strcmp(s, "find_links"))
            rc = get_str(c, v, kp, &nd->pip_find_links);
        else if (!strcmp(s, "args"))
            rc = get_str(c, v, kp, &nd->pip_args);
        else
            rc = unknown_key(c, k, pre, "index_url, find_links, args");
    }
    return rc;
}

static int parse_node(struct ctx *c, yaml_node_t *n)
{
    static const char allowed[] = "transport, host, port, user, identity, known_hosts, workdir, "
                                  "cpus, nofile, python, server_port, listen, "
                                  "system_site_packages, command_timeout, pip";
    struct cfg_node *nd = &c->m->node;
    yaml_node_t *transport = NULL;
    char kp[CFG_KEY_MAX];
    size_t np = 0;
    int rc = n ? check_map(c, n, "node", true, &np) : 0;
    if (rc)
        return rc;
    for (size_t i = 0; i < np; i++) {
        yaml_node_t *k = PAIR_KEY(c, n, i), *v = PAIR_VAL(c, n, i);
        const char *s = sval(k);
        join(kp, "node", s);
        int64_t x;
        if (!strcmp(s, "transport")) {
            transport = v;
            if (!(rc = want_scalar(c, v, kp, "local or ssh"))) {
                if (!strcmp(sval(v), "local"))
                    nd->transport = CFG_TRANSPORT_LOCAL;
                else if (!strcmp(sval(v), "ssh"))
                    nd->transport = CFG_TRANSPORT_SSH;
                else
                    rc = bad(c, v, "%s must be local or ssh, got '%s'", kp, sval(v));
            }
        } else if (!strcmp(s, "host")) {
            rc = get_str(c, v, kp, &nd->host);
        } else if (!strcmp(s, "port")) {
            if (!(rc = get_int(c, v, kp, 1, 65535, &x)))
                nd->port = (int)x;
        } else if (!strcmp(s, "user")) {
            rc = get_str(c, v, kp, &nd->user);
        } else if (!strcmp(s, "identity")) {
            rc = get_str(c, v, kp, &nd->identity);
        } else if (!strcmp(s, "known_hosts")) {
            rc = get_str(c, v, kp, &nd->known_hosts);
        } else if (!strcmp(s, "workdir")) {
            rc = get_str(c, v, kp, &nd->workdir);
            if (!rc && nd->workdir[0] != '/')
                rc = bad(c, v, "%s must be an absolute path, got '%s'", kp, nd->workdir);
        } else if (!strcmp(s, "cpus")) {
            rc = get_cpus(c, v, kp, &nd->cpus);
        } else if (!strcmp(s, "nofile")) {
            rc = get_int(c, v, kp, 1, INT64_MAX, &nd->nofile);
        } else if (!strcmp(s, "python")) {
            rc = get_str(c, v, kp, &nd->python);
        } else if (!strcmp(s, "server_port")) {
            if (!(rc = get_int(c, v, kp, 1, 65535, &x)))
                nd->server_port = (int)x;
        } else if (!strcmp(s, "listen")) {
            rc = get_str(c, v, kp, &nd->listen);
        } else if (!strcmp(s, "system_site_packages")) {
            rc = get_bool(c, v, kp, &nd->system_site_packages);
        } else if (!strcmp(s, "command_timeout")) {
            rc = get_dur(c, v, kp, true, &nd->command_timeout_ms);
        } else if (!strcmp(s, "pip")) {
            rc = parse_pip(c, v, kp, nd);
        } else {
            rc = unknown_key(c, k, "node", allowed);
        }
        if (rc)
            return rc;
    }
    if (nd->transport == CFG_TRANSPORT_SSH && (!nd->host || !nd->user || !nd->identity)) {
        char missing[64];
        snprintf(missing, sizeof(missing), "%s%s%s", nd->host ? "" : ", host",
                 nd->user ? "" : ", user", nd->identity ? "" : ", identity");
        return bad(c, transport, "node.transport ssh needs host, user and identity (missing: %s)",
                   missing + 2);
    }
    /* ~/ expansion of the key paths. */
    char **paths[2] = {&nd->identity, &nd->known_hosts};
    for (size_t i = 0; i < 2; i++) {
        if (!*paths[i])
            continue;
        char *x = expand_home(*paths[i]);
        if (!x)
            return err_set(c->e, -ENOMEM, "out of memory");
        free(*paths[i]);
        *paths[i] = x;
    }
    if (!nd->known_hosts) {
        nd->known_hosts = expand_home("~/.ssh/known_hosts");
        if (!nd->known_hosts)
            return err_set(c->e, -ENOMEM, "out of memory");
    }
    if ((rc = set_default(c, &nd->host, "127.0.0.1")) ||
        (rc = set_default(c, &nd->listen,
                          nd->transport == CFG_TRANSPORT_LOCAL ? "127.0.0.1" : nd->host)) ||
        (rc = set_default(c, &nd->workdir, "/tmp/mfbench-node")) ||
        (rc = set_default(c, &nd->cpus, "1")) ||
        (rc = set_default(c, &nd->python, "/usr/bin/python3")))
        return rc;
    return 0;
}

static int parse_load(struct ctx *c, yaml_node_t *n)
{
    size_t np;
    int rc = check_map(c, n, "load", true, &np);
    if (rc)
        return rc;
    for (size_t i = 0; i < np; i++) {
        yaml_node_t *k = PAIR_KEY(c, n, i), *v = PAIR_VAL(c, n, i);
        if (strcmp(sval(k), "cpus"))
            return unknown_key(c, k, "load", "cpus");
        if ((rc = get_cpus(c, v, "load.cpus", &c->m->load_cpus)))
            return rc;
    }
    return 0;
}

/* A named section (payloads, frameworks, profiles): a mapping of name -> mapping. */
static int section_names(struct ctx *c, yaml_node_t *n, const char *key, bool required, size_t elem,
                         void **arr, size_t *count)
{
    size_t np;
    int rc = check_map(c, n, key, !required, &np);
    if (rc)
        return rc;
    if (required && np == 0)
        return bad(c, n, "%s must not be empty", key);
    if (np == 0)
        return 0;
    *arr = calloc(np, elem);
    if (!*arr)
        return err_set(c->e, -ENOMEM, "out of memory");
    *count = np; /* calloc'd: cfg_free copes with entries left half-filled by an error */
    char kp[CFG_KEY_MAX];
    for (size_t i = 0; i < np; i++) {
        yaml_node_t *k = PAIR_KEY(c, n, i);
        if (!name_ok(sval(k)))
            return bad(c, k,
                       "%s: '%s' is not a valid name (use [a-z0-9][a-z0-9_.-]*, at most %d "
                       "characters; names reach paths and shell commands)",
                       join(kp, key, sval(k)), sval(k), CFG_MAX_NAME);
    }
    return 0;
}

static int parse_payloads(struct ctx *c, yaml_node_t *n)
{
    struct cfg_matrix *m = c->m;
    int rc = section_names(c, n, "payloads", true, sizeof(*m->payloads), (void **)&m->payloads,
                           &m->npayloads);
    if (rc)
        return rc;
    char pre[CFG_KEY_MAX], kp[CFG_KEY_MAX];
    for (size_t i = 0; i < m->npayloads; i++) {
        struct cfg_payload *p = &m->payloads[i];
        yaml_node_t *pk = PAIR_KEY(c, n, i), *pv = PAIR_VAL(c, n, i);
        p->length = -1;
        if ((rc = get_str(c, pk, "payloads", &p->name)))
            return rc;
        join(pre, "payloads", p->name);
        size_t np;
        if ((rc = check_map(c, pv, pre, false, &np)))
            return rc;
        bool has_body = false, has_len = false, has_file = false;
        for (size_t j = 0; j < np; j++) {
            yaml_node_t *k = PAIR_KEY(c, pv, j), *v = PAIR_VAL(c, pv, j);
            const char *s = sval(k);
            join(kp, pre, s);
            if (!strcmp(s, "path")) {
                if (!(rc = get_str(c, v, kp, &p->path))) {
                    if (p->path[0] != '/')
                        rc = bad(c, v, "%s must start with /, got '%s'", kp, p->path);
                    for (const char *q = p->path; !rc && *q; q++)
                        if ((unsigned char)*q <= ' ' || *q == 0x7f)
                            rc = bad(c, v, "%s must not contain spaces or control characters", kp);
                }
            } else if (!strcmp(s, "body")) {
                has_body = true;
                if (v->type == YAML_SCALAR_NODE && !is_null(v)) {
                    p->body = strdup(sval(v));
                    if (!p->body)
                        return err_set(c->e, -ENOMEM, "out of memory");
                    p->body_len = strlen(p->body);
                } else {
                    rc = want_scalar(c, v, kp, "a string");
                }
            } else if (!strcmp(s, "length")) {
                has_len = true;
                rc = get_int(c, v, kp, 0, INT64_MAX, &p->length);
            } else if (!strcmp(s, "body_file")) {
                has_file = true;
                if (!(rc = get_str(c, v, kp, &p->body_file)) && !p->body_file[0])
                    rc = bad(c, v, "%s must name a file", kp);
            } else if (!strcmp(s, "content_type")) {
                rc = get_str(c, v, kp, &p->content_type);
            } else {
                rc = unknown_key(c, k, pre, "path, body, body_file, length, content_type");
            }
            if (rc)
                return rc;
        }
        if (!p->path)
            return bad(c, pk, "%s needs a path", pre);
        int given = has_body + has_len + has_file;
        if (given != 1)
            return bad(c, pk, "%s needs exactly one of body, body_file or length (%s)", pre,
                       given ? "got more than one" : "got neither");
    }
    return 0;
}

static int parse_frameworks(struct ctx *c, yaml_node_t *n)
{
    struct cfg_matrix *m = c->m;
    int rc = section_names(c, n, "frameworks", true, sizeof(*m->frameworks),
                           (void **)&m->frameworks, &m->nframeworks);
    if (rc)
        return rc;
    c->fw_line = calloc(m->nframeworks, sizeof(int));
    c->fw_col = calloc(m->nframeworks, sizeof(int));
    if (!c->fw_line || !c->fw_col)
        return err_set(c->e, -ENOMEM, "out of memory");
    char pre[CFG_KEY_MAX], kp[CFG_KEY_MAX];
    for (size_t i = 0; i < m->nframeworks; i++) {
        struct cfg_framework *f = &m->frameworks[i];
        yaml_node_t *fk = PAIR_KEY(c, n, i), *fv = PAIR_VAL(c, n, i);
        f->workers = 1;
        f->system_site_packages = -1;
        c->fw_line[i] = (int)fk->start_mark.line + 1;
        c->fw_col[i] = (int)fk->start_mark.column + 1;
        if ((rc = get_str(c, fk, "frameworks", &f->name)))
            return rc;
        join(pre, "frameworks", f->name);
        size_t np;
        if ((rc = check_map(c, fv, pre, true, &np)))
            return rc;
        for (size_t j = 0; j < np; j++) {
            yaml_node_t *k = PAIR_KEY(c, fv, j), *v = PAIR_VAL(c, fv, j);
            const char *s = sval(k);
            join(kp, pre, s);
            if (!strcmp(s, "server"))
                rc = get_name(c, v, kp, &f->server);
            else if (!strcmp(s, "workers"))
                rc = get_count(c, v, kp, &f->workers);
            else if (!strcmp(s, "app"))
                rc = get_name(c, v, kp, &f->app);
            else if (!strcmp(s, "start"))
                rc = get_str(c, v, kp, &f->start);
            else if (!strcmp(s, "dir"))
                rc = get_str(c, v, kp, &f->dir);
            else if (!strcmp(s, "system_site_packages"))
                rc = get_bool(c, v, kp, &f->system_site_packages);
            else if ((rc = parse_setting(c, k, v, pre, &f->over)) == 1)
                rc = unknown_key(
                    c, k, pre,
                    "server, workers, app, start, dir, system_site_packages, " SETTINGS_KEYS);
            if (rc)
                return rc;
        }
        if ((rc = check_layer(c, fv, pre, &f->over)) || (rc = set_default(c, &f->app, f->name)))
            return rc;
    }
    return 0;
}

static int parse_profiles(struct ctx *c, yaml_node_t *n)
{
    struct cfg_matrix *m = c->m;
    int rc = section_names(c, n, "profiles", false, sizeof(*m->profiles), (void **)&m->profiles,
                           &m->nprofiles);
    if (rc || m->nprofiles == 0)
        return rc;
    c->pr_line = calloc(m->nprofiles, sizeof(int));
    c->pr_col = calloc(m->nprofiles, sizeof(int));
    if (!c->pr_line || !c->pr_col)
        return err_set(c->e, -ENOMEM, "out of memory");
    char pre[CFG_KEY_MAX];
    for (size_t i = 0; i < m->nprofiles; i++) {
        struct cfg_profile *p = &m->profiles[i];
        yaml_node_t *pk = PAIR_KEY(c, n, i);
        c->pr_line[i] = (int)pk->start_mark.line + 1;
        c->pr_col[i] = (int)pk->start_mark.column + 1;
        if ((rc = get_str(c, pk, "profiles", &p->name)))
            return rc;
        join(pre, "profiles", p->name);
        if ((rc = parse_settings_map(c, PAIR_VAL(c, n, i), pre, &p->over)))
            return rc;
    }
    return 0;
}

static int resolve(const struct cfg_matrix *m, const struct cfg_profile *pr,
                   const struct cfg_framework *fw, struct cfg_settings *out, struct err *e,
                   int line, int col);

/* Every framework under no profile and under each profile must resolve. */
static int check_combinations(struct ctx *c)
{
    struct cfg_matrix *m = c->m;
    struct cfg_settings s;
    for (size_t p = 0; p <= m->nprofiles; p++) {
        const struct cfg_profile *pr = p < m->nprofiles ? &m->profiles[p] : NULL;
        for (size_t f = 0; f < m->nframeworks; f++) {
            const struct cfg_framework *fw = &m->frameworks[f];
            int line = c->def_line, col = c->def_col;
            if (fw->over.set) {
                line = c->fw_line[f];
                col = c->fw_col[f];
            } else if (pr && pr->over.set) {
                line = c->pr_line[p];
                col = c->pr_col[p];
            }
            int rc = resolve(m, pr, fw, &s, c->e, line, col);
            if (rc)
                return rc;
        }
    }
    return 0;
}

static int parse_root(struct ctx *c, yaml_node_t *root)
{
    static const char allowed[] = "version, node, load, defaults, payloads, frameworks, profiles";
    size_t np;
    int rc = check_map(c, root, "", false, &np);
    if (rc)
        return rc;
    yaml_node_t *sec[7] = {0};
    static const char *const names[7] = {"version",  "node",       "load",    "defaults",
                                         "payloads", "frameworks", "profiles"};
    for (size_t i = 0; i < np; i++) {
        yaml_node_t *k = PAIR_KEY(c, root, i);
        size_t j = 0;
        while (j < 7 && strcmp(sval(k), names[j]))
            j++;
        if (j == 7)
            return unknown_key(c, k, "", allowed);
        sec[j] = PAIR_VAL(c, root, i);
    }
    if (!sec[0])
        return bad(c, root, "missing key 'version' (must be 1)");
    int64_t v;
    if ((rc = want_scalar(c, sec[0], "version", "1")))
        return rc;
    if (parse_i64(sval(sec[0]), 1, 1, &v))
        return bad(c, sec[0], "version must be 1, got '%s'", sval(sec[0]));
    c->m->version = 1;
    if ((rc = parse_node(c, sec[1])))
        return rc;
    if (sec[2] && (rc = parse_load(c, sec[2])))
        return rc;
    if ((rc = set_default(c, &c->m->load_cpus, "0")))
        return rc;
    yaml_node_t *def = sec[3] ? sec[3] : root;
    c->def_line = (int)def->start_mark.line + 1;
    c->def_col = (int)def->start_mark.column + 1;
    if (sec[3] && (rc = parse_settings_map(c, sec[3], "defaults", &c->m->defaults)))
        return rc;
    if (!sec[4])
        return bad(c, root, "missing section 'payloads' (a mapping of NAME: {path, body|length})");
    if ((rc = parse_payloads(c, sec[4])))
        return rc;
    if (!sec[5])
        return bad(c, root, "missing section 'frameworks' (a mapping of NAME: {server, ...})");
    if ((rc = parse_frameworks(c, sec[5])))
        return rc;
    if (sec[6] && (rc = parse_profiles(c, sec[6])))
        return rc;
    return check_combinations(c);
}

/* ---- loading ---- */

static int parser_error(struct ctx *c, yaml_parser_t *p, const char *text, size_t len)
{
    if (p->error == YAML_MEMORY_ERROR)
        return err_set(c->e, -ENOMEM, "%s: out of memory while parsing", c->m->path);
    yaml_mark_t mk = p->problem_mark;
    if (p->error == YAML_READER_ERROR) { /* only an offset is known: count lines up to it */
        mk.line = mk.column = 0;
        for (size_t i = 0; i < p->problem_offset && i < len; i++) {
            if (text[i] == '\n') {
                mk.line++;
                mk.column = 0;
            } else {
                mk.column++;
            }
        }
    }
    const char *problem = p->problem ? p->problem : "unknown error";
    if (p->context)
        return bad_at(c, &mk, "invalid YAML: %s (%s at line %d)", problem, p->context,
                      (int)p->context_mark.line + 1);
    return bad_at(c, &mk, "invalid YAML: %s", problem);
}

static int load(struct cfg_matrix *m, const char *text, size_t len, struct err *e)
{
    struct ctx c = {.m = m, .e = e};
    yaml_parser_t parser;
    yaml_document_t doc, extra;
    int rc = 0;
    bool have_doc = false, have_extra = false;

    if (!yaml_parser_initialize(&parser))
        return err_set(e, -ENOMEM, "out of memory");
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    if (!yaml_parser_load(&parser, &doc)) {
        rc = parser_error(&c, &parser, text, len);
        goto fail;
    }
    have_doc = true;
    c.doc = &doc;
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    if (!root || is_null(root)) {
        rc = err_set_at(e, -EINVAL, m->path, 1, 1,
                        "empty matrix (expected version: 1, payloads, "
                        "frameworks)");
        goto fail;
    }
    if (!yaml_parser_load(&parser, &extra)) {
        rc = parser_error(&c, &parser, text, len);
        goto fail;
    }
    have_extra = true;
    yaml_node_t *second = yaml_document_get_root_node(&extra);
    if (second) {
        rc = bad(&c, second, "only one YAML document is allowed in a matrix");
        goto fail;
    }
    rc = parse_root(&c, root);
fail:
    free(c.fw_line);
    free(c.fw_col);
    free(c.pr_line);
    free(c.pr_col);
    if (have_extra)
        yaml_document_delete(&extra);
    if (have_doc)
        yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    return rc;
}

static struct cfg_matrix *matrix_new(const char *path, const char *dir)
{
    struct cfg_matrix *m = calloc(1, sizeof(*m));
    if (!m)
        return NULL;
    m->path = strdup(path);
    m->dir = strdup(dir);
    if (!m->path || !m->dir) {
        cfg_free(m);
        return NULL;
    }
    m->node = (struct cfg_node){
        .transport = CFG_TRANSPORT_LOCAL,
        .port = 22,
        .nofile = 999999,
        .server_port = 8000,
        .system_site_packages = 1,
        .command_timeout_ms = 120000,
    };
    return m;
}

static int load_text(struct cfg_matrix *m, const char *text, size_t len, struct cfg_matrix **out,
                     struct err *e)
{
    sha256_string(text, len, m->sha256);
    int rc = load(m, text, len, e);
    if (rc) {
        cfg_free(m);
        return rc;
    }
    *out = m;
    return 0;
}

int cfg_load_string(const char *name, const char *text, size_t len, struct cfg_matrix **out,
                    struct err *e)
{
    *out = NULL;
    if (len > CFG_MAX_FILE)
        return err_set(e, -EINVAL, "%s: larger than %zu bytes", name, CFG_MAX_FILE);
    struct cfg_matrix *m = matrix_new(name ? name : "<embedded>", ".");
    if (!m)
        return err_set(e, -ENOMEM, "out of memory");
    return load_text(m, text, len, out, e);
}

int cfg_load_file(const char *path, struct cfg_matrix **out, struct err *e)
{
    *out = NULL;
    struct buf b;
    buf_init(&b, CFG_MAX_FILE + 1);
    int rc = mf_read_file(path, CFG_MAX_FILE, &b, e);
    if (rc) {
        buf_free(&b);
        return rc == -E2BIG ? -EINVAL : rc;
    }
    /* dirname without modifying path: everything before the last '/'. */
    const char *slash = strrchr(path, '/');
    char dir[4096];
    if (!slash)
        snprintf(dir, sizeof(dir), ".");
    else if (slash == path)
        snprintf(dir, sizeof(dir), "/");
    else
        snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
    struct cfg_matrix *m = matrix_new(path, dir);
    if (!m) {
        buf_free(&b);
        return err_set(e, -ENOMEM, "out of memory");
    }
    rc = load_text(m, b.data, b.len, out, e);
    buf_free(&b);
    return rc;
}

void cfg_free(struct cfg_matrix *m)
{
    if (!m)
        return;
    free(m->path);
    free(m->dir);
    struct cfg_node *n = &m->node;
    free(n->host);
    free(n->user);
    free(n->identity);
    free(n->known_hosts);
    free(n->workdir);
    free(n->cpus);
    free(n->python);
    free(n->listen);
    free(n->pip_index_url);
    free(n->pip_find_links);
    free(n->pip_args);
    free(m->load_cpus);
    for (size_t i = 0; i < m->npayloads; i++) {
        free(m->payloads[i].name);
        free(m->payloads[i].path);
        free(m->payloads[i].body);
        free(m->payloads[i].content_type);
        free(m->payloads[i].body_file);
    }
    free(m->payloads);
    for (size_t i = 0; i < m->nframeworks; i++) {
        struct cfg_framework *f = &m->frameworks[i];
        free(f->name);
        free(f->server);
        free(f->app);
        free(f->start);
        free(f->dir);
    }
    free(m->frameworks);
    for (size_t i = 0; i < m->nprofiles; i++)
        free(m->profiles[i].name);
    free(m->profiles);
    free(m);
}

/* ---- lookups, resolution, selection ---- */

const struct cfg_framework *cfg_find_framework(const struct cfg_matrix *m, const char *name)
{
    for (size_t i = 0; m && name && i < m->nframeworks; i++)
        if (!strcmp(m->frameworks[i].name, name))
            return &m->frameworks[i];
    return NULL;
}

const struct cfg_payload *cfg_find_payload(const struct cfg_matrix *m, const char *name)
{
    for (size_t i = 0; m && name && i < m->npayloads; i++)
        if (!strcmp(m->payloads[i].name, name))
            return &m->payloads[i];
    return NULL;
}

const struct cfg_profile *cfg_find_profile(const struct cfg_matrix *m, const char *name)
{
    for (size_t i = 0; m && name && i < m->nprofiles; i++)
        if (!strcmp(m->profiles[i].name, name))
            return &m->profiles[i];
    return NULL;
}

/* Lays `l` over `s` by its set bits. users is merged field by field (a layer may
 * give only users.max); every other group is replaced whole. */
static void overlay(struct cfg_settings *s, const struct cfg_settings *l)
{
    unsigned b = l->set;
    if (b & CFG_SET_DURATION)
        s->duration_ms = l->duration_ms;
    if (b & CFG_SET_WARMUP)
        s->warmup_ms = l->warmup_ms;
    if (b & CFG_SET_SPAWN_RATE)
        s->spawn_rate = l->spawn_rate;
    if (b & CFG_SET_THINK)
        s->think = l->think;
    if (b & CFG_SET_USERS) {
        if (l->users.start)
            s->users.start = l->users.start;
        if (l->users.step)
            s->users.step = l->users.step;
        if (l->users.max)
            s->users.max = l->users.max;
        if (l->users.factor)
            s->users.factor = l->users.factor;
    }
    if (b & CFG_SET_STOP_WHEN)
        s->stop_when = l->stop_when;
    if (b & CFG_SET_TIMEOUT)
        s->timeout_ms = l->timeout_ms;
    if (b & CFG_SET_REPEATS)
        s->repeats = l->repeats;
    if (b & CFG_SET_RATE)
        s->rate = l->rate;
    if (b & CFG_SET_PIPELINE)
        s->pipeline = l->pipeline;
    if (b & CFG_SET_REFINE) {
        s->refine_pct = l->refine_pct;
        s->refine_abs = l->refine_abs;
    }
    if (b & CFG_SET_READY_TIMEOUT)
        s->ready_timeout_ms = l->ready_timeout_ms;
    if (b & CFG_SET_SPREAD)
        s->spread_pct = l->spread_pct;
    if (b & CFG_SET_MAX_REPEATS)
        s->max_repeats = l->max_repeats;
    if (b & CFG_SET_CLIENT_BOUND)
        s->client_bound_pct = l->client_bound_pct;
    s->set |= b;
}

static int resolve(const struct cfg_matrix *m, const struct cfg_profile *pr,
                   const struct cfg_framework *fw, struct cfg_settings *out, struct err *e,
                   int line, int col)
{
    struct cfg_settings s = builtin_settings;
    overlay(&s, &m->defaults);
    if (pr)
        overlay(&s, &pr->over);
    if (fw)
        overlay(&s, &fw->over);
    char who[200];
    if (pr && fw)
        snprintf(who, sizeof(who), "profile '%s' with framework '%s'", pr->name, fw->name);
    else if (pr || fw)
        snprintf(who, sizeof(who), "%s '%s'", pr ? "profile" : "framework",
                 pr ? pr->name : fw->name);
    else
        snprintf(who, sizeof(who), "defaults");
    char a[32], b[32];
    if (s.warmup_ms >= s.duration_ms)
        return err_set_at(e, -EINVAL, m->path, line, col, "%s: warmup (%s) must be < duration (%s)",
                          who, dur_format(s.warmup_ms, a, sizeof a),
                          dur_format(s.duration_ms, b, sizeof b));
    if (s.think.min_ms > s.think.max_ms)
        return err_set_at(
            e, -EINVAL, m->path, line, col, "%s: think.min (%s) must be <= think.max (%s)", who,
            dur_format(s.think.min_ms, a, sizeof a), dur_format(s.think.max_ms, b, sizeof b));
    if (s.users.start > s.users.max)
        return err_set_at(e, -EINVAL, m->path, line, col,
                          "%s: users.start (%d) must be <= users.max (%d)", who, s.users.start,
                          s.users.max);
    *out = s;
    return 0;
}

/* Appends "a, b, c" of names to a message buffer, stopping before it overflows. */
static void name_list(char *out, size_t n, const char *(*get)(const struct cfg_matrix *, size_t),
                      const struct cfg_matrix *m, size_t count)
{
    size_t len = 0;
    out[0] = '\0';
    for (size_t i = 0; i < count; i++) {
        const char *s = get(m, i);
        size_t need = strlen(s) + (i ? 2 : 0);
        if (len + need + 5 >= n) {
            snprintf(out + len, n - len, ", ...");
            return;
        }
        len += (size_t)snprintf(out + len, n - len, "%s%s", i ? ", " : "", s);
    }
}

static const char *fw_name(const struct cfg_matrix *m, size_t i)
{
    return m->frameworks[i].name;
}

static const char *pl_name(const struct cfg_matrix *m, size_t i)
{
    return m->payloads[i].name;
}

static const char *pr_name(const struct cfg_matrix *m, size_t i)
{
    return m->profiles[i].name;
}

int cfg_resolve(const struct cfg_matrix *m, const char *profile, const struct cfg_framework *fw,
                struct cfg_settings *out, struct err *e)
{
    const struct cfg_profile *pr = NULL;
    if (profile) {
        pr = cfg_find_profile(m, profile);
        if (!pr) {
            char have[300];
            name_list(have, sizeof(have), pr_name, m, m->nprofiles);
            return err_set(e, -EINVAL, "no profile '%s' in %s (have: %s)", profile, m->path,
                           m->nprofiles ? have : "none");
        }
    }
    return resolve(m, pr, fw, out, e, 0, 0);
}

int cfg_select(const struct cfg_matrix *m, const char *const *patterns, size_t npatterns,
               struct cfg_cell **cells, size_t *ncells, struct err *e)
{
    *cells = NULL;
    *ncells = 0;
    if (npatterns == 0)
        return err_set(e, -EINVAL,
                       "no cell given (use FRAMEWORK/PAYLOAD, FRAMEWORK/*, "
                       "*/PAYLOAD or all)");
    size_t nf = m->nframeworks, np = m->npayloads, total = nf * np;
    unsigned char *pick = calloc(total ? total : 1, 1);
    if (!pick)
        return err_set(e, -ENOMEM, "out of memory");
    char have[300];
    int rc = 0;
    for (size_t i = 0; i < npatterns; i++) {
        const char *pat = patterns[i];
        if (!strcmp(pat, "*") || !strcmp(pat, "all")) {
            memset(pick, 1, total);
            continue;
        }
        const char *slash = strchr(pat, '/');
        if (!slash || slash == pat || !slash[1] || strchr(slash + 1, '/') ||
            (size_t)(slash - pat) > CFG_MAX_NAME) {
            rc = err_set(e, -EINVAL,
                         "cell '%s' must be FRAMEWORK/PAYLOAD (or FRAMEWORK/*, "
                         "*/PAYLOAD, all)",
                         pat);
            goto fail;
        }
        char fname[CFG_MAX_NAME + 1];
        snprintf(fname, sizeof(fname), "%.*s", (int)(slash - pat), pat);
        const char *pname = slash + 1;
        bool fall = !strcmp(fname, "*"), pall = !strcmp(pname, "*");
        const struct cfg_framework *f = fall ? NULL : cfg_find_framework(m, fname);
        const struct cfg_payload *p = pall ? NULL : cfg_find_payload(m, pname);
        if (!fall && !f) {
            name_list(have, sizeof(have), fw_name, m, nf);
            rc = err_set(e, -EINVAL, "no framework '%s' in %s (have: %s)", fname, m->path, have);
            goto fail;
        }
        if (!pall && !p) {
            name_list(have, sizeof(have), pl_name, m, np);
            rc = err_set(e, -EINVAL, "no payload '%s' in %s (have: %s)", pname, m->path, have);
            goto fail;
        }
        for (size_t fi = 0; fi < nf; fi++)
            for (size_t pi = 0; pi < np; pi++)
                if ((fall || f == &m->frameworks[fi]) && (pall || p == &m->payloads[pi]))
                    pick[fi * np + pi] = 1;
    }
    size_t n = 0;
    for (size_t i = 0; i < total; i++)
        n += pick[i];
    if (n == 0) {
        rc = err_set(e, -EINVAL, "no cells selected");
        goto fail;
    }
    *cells = malloc(n * sizeof(**cells));
    if (!*cells) {
        rc = err_set(e, -ENOMEM, "out of memory");
        goto fail;
    }
    for (size_t i = 0; i < total; i++)
        if (pick[i])
            (*cells)[(*ncells)++] = (struct cfg_cell){i / np, i % np};
fail:
    free(pick);
    return rc;
}
