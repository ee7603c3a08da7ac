/* config.c - loads matrix.yaml with libyaml's document API and validates it into
 * struct cfg_matrix, walking each mapping through the key table (keys.c). Every
 * rejection names the full key path and its file:line:col; cfg_resolve/cfg_select
 * turn the loaded matrix into the settings and cells of a run. */
#include "config_int.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <yaml.h>

#define CFG_MAX_FILE ((size_t)1 << 20) /* a matrix is a few KiB; refuse anything silly */
#define CFG_MAX_NESTING 64             /* flow [ { levels: libyaml is quadratic on deep nesting */
#define CFG_MAX_PAIRS 1024             /* entries in one mapping */
#define CFG_KEY_MAX 320                /* "frameworks.NAME.stop_when.failures" */
#define CFG_LIST_MAX 512               /* "allowed: ..." lists */

struct cfg__ctx {
    yaml_document_t *doc;
    struct cfg_matrix *m;
    struct err *e;
    /* Marks of each framework/profile mapping and of defaults, to place errors
     * found when the layers are combined. */
    int *fw_line, *fw_col, *pr_line, *pr_col;
    int def_line, def_col;
};
typedef struct cfg__ctx ctx_t;

/* ---- errors and small helpers ---- */

static int bad_at(ctx_t *c, const yaml_mark_t *mk, const char *fmt, ...) MF_PRINTF(3, 4);
static int bad_at(ctx_t *c, const yaml_mark_t *mk, const char *fmt, ...)
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

static yaml_node_t *node_at(ctx_t *c, int id)
{
    return yaml_document_get_node(c->doc, id);
}

/* A scalar value (not null). what names the expected kind for the message. */
static int want_scalar(ctx_t *c, yaml_node_t *n, const char *key, const char *what)
{
    if (n->type != YAML_SCALAR_NODE)
        return bad(c, n, "%s must be %s, got %s", key, what, kind_name(n));
    if (is_null(n))
        return bad(c, n, "%s has no value (expected %s)", key, what);
    return 0;
}

static int get_str(ctx_t *c, yaml_node_t *n, const char *key, char **out)
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

/* Replaces *field with a copy of value. */
static int set_word(ctx_t *c, char **field, const char *value)
{
    char *w = strdup(value);
    if (!w)
        return err_set(c->e, -ENOMEM, "out of memory");
    free(*field);
    *field = w;
    return 0;
}

/* What a scalar of the key's type is, for "must be X, got a mapping". */
static const char *scalar_what(const struct cfg_key *k)
{
    switch (k->type) {
    case CFG_T_INT:
        return "an integer";
    case CFG_T_NUM:
        return "a number";
    case CFG_T_PCT:
        return "a percentage (5%)";
    case CFG_T_DUR:
        return "a duration (like 60s)";
    case CFG_T_BOOL:
        return "true or false";
    default:
        return "a string";
    }
}

/* A scalar-typed key's value, parsed and range-checked by the table, stored at field. */
static int get_key_at(ctx_t *c, const struct cfg_key *k, yaml_node_t *v, const char *path,
                      void *field)
{
    if (!((k->flags & CFG_K_AUTO) && v->type == YAML_SCALAR_NODE && !strcmp(sval(v), "auto"))) {
        int rc = want_scalar(c, v, path, scalar_what(k));
        if (rc)
            return rc;
    }
    char msg[sizeof(c->e->msg)];
    int rc = cfg__key_parse_at(k, path, sval(v), field, msg, sizeof msg);
    if (rc == -ENOMEM)
        return err_set(c->e, -ENOMEM, "out of memory");
    return rc ? bad(c, v, "%s", msg) : 0;
}

/* A mapping (or, when null_ok, nothing, treated as empty) whose keys are unique
 * scalars. Returns 0 with *npairs set. */
static int check_map(ctx_t *c, yaml_node_t *n, const char *key, bool null_ok, size_t *npairs)
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

#define PAIR_KEY(c, n, i) node_at((c), (n)->data.mapping.pairs.start[i].key)
#define PAIR_VAL(c, n, i) node_at((c), (n)->data.mapping.pairs.start[i].value)

/* ---- walking mappings through the key table ---- */

/* The entry of scope named rel.key (key alone when rel is ""). A key with a dot is
 * none: "users.max" is written nested, never flat. */
static const struct cfg_key *find_key(enum cfg_scope scope, const char *rel, const char *key)
{
    size_t rl = strlen(rel);
    if (strchr(key, '.'))
        return NULL;
    for (size_t i = 0; i < cfg_nkeys; i++) {
        const struct cfg_key *k = &cfg_keys[i];
        if (k->scope != scope)
            continue;
        if (rl ? (!strncmp(k->name, rel, rl) && k->name[rl] == '.' &&
                  !strcmp(k->name + rl + 1, key))
               : !strcmp(k->name, key))
            return k;
    }
    return NULL;
}

/* Appends "a, b, c": the keys directly under rel in scope, in table order, without the
 * hidden ones. */
static void list_keys(char *out, size_t n, enum cfg_scope scope, const char *rel)
{
    size_t rl = strlen(rel), len = strlen(out);
    for (size_t i = 0; i < cfg_nkeys && len < n; i++) {
        const struct cfg_key *k = &cfg_keys[i];
        if (k->scope != scope || (k->flags & CFG_K_HIDDEN))
            continue;
        const char *leaf = k->name;
        if (rl) {
            if (strncmp(leaf, rel, rl) || leaf[rl] != '.')
                continue;
            leaf += rl + 1;
        }
        if (strchr(leaf, '.'))
            continue;
        int w = snprintf(out + len, n - len, "%s%s", len ? ", " : "", leaf);
        len += w > 0 ? (size_t)w : 0;
    }
}

static int unknown_key(ctx_t *c, yaml_node_t *k, const char *prefix, const char *allowed)
{
    char kp[CFG_KEY_MAX];
    return bad(c, k, "unknown key '%s' (allowed: %s)", join(kp, prefix, sval(k)), allowed);
}

static int parse_keys(ctx_t *c, yaml_node_t *n, const char *prefix, bool null_ok,
                      enum cfg_scope scope, const char *rel, void *base, void *settings);

/* One key's value: its own parser, a nested mapping, or a scalar by type. */
static int parse_value(ctx_t *c, const struct cfg_key *k, yaml_node_t *v, const char *path,
                       void *base)
{
    if (k->parse)
        return k->parse(c, k, v, path, base);
    if (k->type == CFG_T_MAP)
        return parse_keys(c, v, path, true, k->scope, k->name, base, NULL);
    return get_key_at(c, k, v, path, k->size ? (char *)base + k->offset : NULL);
}

/* Parses mapping n (path prefix) whose keys are the table's entries of scope under rel,
 * stored into base. With settings, the settings keys are accepted too, into it (a
 * framework's overrides). */
static int parse_keys(ctx_t *c, yaml_node_t *n, const char *prefix, bool null_ok,
                      enum cfg_scope scope, const char *rel, void *base, void *settings)
{
    size_t np;
    int rc = check_map(c, n, prefix, null_ok, &np);
    char kp[CFG_KEY_MAX];
    for (size_t i = 0; !rc && i < np; i++) {
        yaml_node_t *k = PAIR_KEY(c, n, i), *v = PAIR_VAL(c, n, i);
        const struct cfg_key *key = find_key(scope, rel, sval(k));
        void *b = base;
        if (!key && settings) {
            key = find_key(CFG_SCOPE_SETTINGS, "", sval(k));
            b = settings;
        }
        if (!key) {
            char allowed[CFG_LIST_MAX] = "";
            list_keys(allowed, sizeof allowed, scope, rel);
            if (settings)
                list_keys(allowed, sizeof allowed, CFG_SCOPE_SETTINGS, "");
            return unknown_key(c, k, prefix, allowed);
        }
        rc = parse_value(c, key, v, join(kp, prefix, sval(k)), b);
        if (!rc && key->scope == CFG_SCOPE_SETTINGS)
            ((struct cfg_settings *)b)->set |= key->set_bit;
    }
    return rc;
}

/* A nested mapping that must give at least one of its keys. */
static int parse_group(ctx_t *c, const struct cfg_key *k, yaml_node_t *v, const char *path,
                       void *base)
{
    int rc = parse_keys(c, v, path, false, k->scope, k->name, base, NULL);
    if (!rc && v->data.mapping.pairs.top == v->data.mapping.pairs.start) {
        char keys[CFG_LIST_MAX] = "";
        list_keys(keys, sizeof keys, k->scope, k->name);
        rc = bad(c, v, "%s must give at least one of %s", path, keys);
    }
    return rc;
}

/* ---- the type-specific parsers the table names ---- */

int cfg__parse_transport(ctx_t *c, const struct cfg_key *k, yaml_node_t *v, const char *path,
                         void *base)
{
    enum cfg_transport *t = (enum cfg_transport *)((char *)base + k->offset);
    int rc = want_scalar(c, v, path, "local, ssh or slurm");
    if (rc)
        return rc;
    if (!strcmp(sval(v), "local"))
        *t = CFG_TRANSPORT_LOCAL;
    else if (!strcmp(sval(v), "ssh"))
        *t = CFG_TRANSPORT_SSH;
    else if (!strcmp(sval(v), "slurm"))
        *t = CFG_TRANSPORT_SLURM;
    else
        return bad(c, v, "%s must be local, ssh or slurm, got '%s'", path, sval(v));
    return 0;
}

/* node.system_site_packages and frameworks.NAME.system_site_packages: a boolean, or
 * with_pip (the node's packages, and pip for what they lack). */
int cfg__parse_venv(ctx_t *c, const struct cfg_key *k, yaml_node_t *v, const char *path, void *base)
{
    int *mode = (int *)((char *)base + k->offset);
    int rc = want_scalar(c, v, path, "true, false or with_pip");
    if (rc)
        return rc;
    if (!strcmp(sval(v), "with_pip")) {
        *mode = CFG_VENV_SYSTEM_PIP;
        return 0;
    }
    struct cfg_key kb = *k;
    kb.type = CFG_T_BOOL;
    char msg[sizeof(c->e->msg)];
    int b = 0;
    if (cfg__key_parse_at(&kb, path, sval(v), &b, msg, sizeof msg))
        return bad(c, v, "%s must be true, false or with_pip, got '%s'", path, sval(v));
    *mode = b ? CFG_VENV_SYSTEM : CFG_VENV_PIP;
    return 0;
}

int cfg_requires_python_parse(const char *spec, struct cfg_py_clause *out, char *msg, size_t n)
{
    static const char *const ops[] = {"<=", ">=", "==", "!=", "<", ">"};
    int nc = 0;
    const char *s = spec;
    for (;;) {
        while (*s == ' ')
            s++;
        if (nc == CFG_PY_MAX_CLAUSES) {
            snprintf(msg, n, "at most %d clauses", CFG_PY_MAX_CLAUSES);
            return -EINVAL;
        }
        struct cfg_py_clause *cl = &out[nc];
        memset(cl, 0, sizeof(*cl));
        for (size_t i = 0; i < sizeof ops / sizeof ops[0] && !cl->op[0]; i++)
            if (!strncmp(s, ops[i], strlen(ops[i])))
                memcpy(cl->op, ops[i], strlen(ops[i]) + 1);
        if (!cl->op[0]) {
            snprintf(msg, n, "clause %d must start with <=, <, >=, >, == or != (like \"<=3.7\")",
                     nc + 1);
            return -EINVAL;
        }
        s += strlen(cl->op);
        while (*s == ' ')
            s++;
        for (;;) {
            if (cl->nv == 3 || *s < '0' || *s > '9') {
                snprintf(msg, n, "clause %d: a version is 1 to 3 numbers joined by dots (3.7)",
                         nc + 1);
                return -EINVAL;
            }
            long x = 0;
            while (*s >= '0' && *s <= '9' && x < 100000)
                x = x * 10 + (*s++ - '0');
            if (x >= 100000) {
                snprintf(msg, n, "clause %d: version number too large", nc + 1);
                return -EINVAL;
            }
            cl->v[cl->nv++] = (int)x;
            if (*s != '.')
                break;
            s++;
        }
        nc++;
        while (*s == ' ')
            s++;
        if (!*s)
            return nc;
        if (*s != ',') {
            snprintf(msg, n, "unexpected '%c' after clause %d (clauses are joined by commas)", *s,
                     nc);
            return -EINVAL;
        }
        s++;
    }
}

/* frameworks.NAME.requires_python: a string cfg_requires_python_parse takes. */
int cfg__parse_requires_python(ctx_t *c, const struct cfg_key *k, yaml_node_t *v, const char *path,
                               void *base)
{
    int rc = want_scalar(c, v, path, "a Python version bound (like \"<=3.7\")");
    if (rc)
        return rc;
    struct cfg_py_clause cl[CFG_PY_MAX_CLAUSES];
    char msg[200];
    if (cfg_requires_python_parse(sval(v), cl, msg, sizeof msg) < 0)
        return bad(c, v, "%s: %s, got '%s'", path, msg, sval(v));
    return get_str(c, v, path, (char **)((char *)base + k->offset));
}

int cfg__parse_think(ctx_t *c, const struct cfg_key *k, yaml_node_t *n, const char *key, void *base)
{
    struct cfg_think *t = (struct cfg_think *)((char *)base + k->offset);
    const struct cfg_key *kmin = find_key(k->scope, k->name, "min"),
                         *kmax = find_key(k->scope, k->name, "max"),
                         *kcons = find_key(k->scope, k->name, "constant"),
                         *kpace = find_key(k->scope, k->name, "pacing");
    char kp[CFG_KEY_MAX];
    int rc;
    int64_t ms, lo, hi;
    if (n->type == YAML_SCALAR_NODE) { /* think: 2s means constant 2s */
        if ((rc = get_key_at(c, kcons, n, key, &ms)))
            return rc;
        *t = (struct cfg_think){CFG_THINK_CONSTANT, ms, ms};
        return 0;
    }
    size_t np;
    if ((rc = check_map(c, n, key, false, &np)))
        return rc;
    yaml_node_t *min = NULL, *max = NULL, *cons = NULL, *pace = NULL;
    for (size_t i = 0; i < np; i++) {
        yaml_node_t *pk = PAIR_KEY(c, n, i), *v = PAIR_VAL(c, n, i);
        const struct cfg_key *sub = find_key(k->scope, k->name, sval(pk));
        if (sub == kmin)
            min = v;
        else if (sub == kmax)
            max = v;
        else if (sub == kcons)
            cons = v;
        else if (sub == kpace)
            pace = v;
        if (!sub) {
            char allowed[CFG_LIST_MAX] = "";
            list_keys(allowed, sizeof allowed, k->scope, k->name);
            return unknown_key(c, pk, key, allowed);
        }
    }
    int forms = (min || max) + !!cons + !!pace;
    if (forms != 1)
        return bad(c, n, "%s must be %s", key, "{min: D, max: D}, {constant: D} or {pacing: D}");
    if (cons || pace) {
        if ((rc = get_key_at(c, cons ? kcons : kpace, cons ? cons : pace,
                             join(kp, key, cons ? "constant" : "pacing"), &ms)))
            return rc;
        *t = (struct cfg_think){cons ? CFG_THINK_CONSTANT : CFG_THINK_PACING, ms, ms};
        return 0;
    }
    /* A bad value is named where it stands before a missing half is. */
    if ((min && (rc = get_key_at(c, kmin, min, join(kp, key, "min"), &lo))) ||
        (max && (rc = get_key_at(c, kmax, max, join(kp, key, "max"), &hi))))
        return rc;
    if (!min || !max)
        return bad(c, n, "%s needs both min and max", key);
    if (lo > hi) {
        char a[32], b[32];
        return bad(c, min, "%s.min (%s) must be <= %s.max (%s)", key, dur_format(lo, a, sizeof a),
                   key, dur_format(hi, b, sizeof b));
    }
    *t = (struct cfg_think){CFG_THINK_BETWEEN, lo, hi};
    return 0;
}

/* Fields not given stay 0 and are taken from the lower layers by cfg_resolve. */
int cfg__parse_users(ctx_t *c, const struct cfg_key *k, yaml_node_t *n, const char *key, void *base)
{
    struct cfg_users *u = (struct cfg_users *)((char *)base + k->offset);
    int rc = parse_group(c, k, n, key, base);
    if (!rc && u->start && u->max && u->start > u->max) {
        yaml_node_t *start = n;
        for (size_t i = 0; i < (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
             i++)
            if (!strcmp(sval(PAIR_KEY(c, n, i)), "start"))
                start = PAIR_VAL(c, n, i);
        rc = bad(c, start, "%s.start (%d) must be <= %s.max (%d)", key, u->start, key, u->max);
    }
    return rc;
}

/* Replaces the lower layers' criteria whole. */
int cfg__parse_stop_when(ctx_t *c, const struct cfg_key *k, yaml_node_t *n, const char *key,
                         void *base)
{
    struct cfg_stop_when *sw = (struct cfg_stop_when *)((char *)base + k->offset);
    *sw = (struct cfg_stop_when){0, 0, 0};
    return parse_group(c, k, n, key, base);
}

static yaml_node_t *find_value(ctx_t *c, yaml_node_t *n, const char *key);

/* [50, 90] or [50%, 90%]: shares of the peak, each in (0, 100], at most
 * CFG_MAX_LOAD_POINTS; [] turns them off. */
int cfg__parse_load_points(ctx_t *c, const struct cfg_key *k, yaml_node_t *n, const char *key,
                           void *base)
{
    struct cfg_load_points *lp = (struct cfg_load_points *)((char *)base + k->offset);
    if (n->type != YAML_SEQUENCE_NODE)
        return bad(c, n, "%s must be a list of percentages like [50, 90], got %s", key,
                   kind_name(n));
    lp->n = 0;
    for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top;
         it++) {
        yaml_node_t *v = node_at(c, *it);
        int rc = want_scalar(c, v, key, "a percentage");
        if (rc)
            return rc;
        if (lp->n >= CFG_MAX_LOAD_POINTS)
            return bad(c, v, "%s: at most %d load points", key, CFG_MAX_LOAD_POINTS);
        char tmp[64];
        const char *s = sval(v);
        size_t len = strlen(s);
        if (len == 0 || len >= sizeof(tmp))
            return bad(c, v, "%s: malformed percentage '%s'", key, s);
        memcpy(tmp, s, len + 1);
        if (tmp[len - 1] == '%')
            tmp[len - 1] = '\0';
        double pct;
        if (parse_double(tmp, &pct) || !(pct > 0 && pct <= 100))
            return bad(c, v, "%s: each load point must be a percentage in (0, 100], got '%s'", key,
                       s);
        for (int i = 0; i < lp->n; i++)
            if (lp->pct[i] == pct)
                return bad(c, v, "%s: %s is given twice", key, s);
        lp->pct[lp->n++] = pct;
    }
    return 0;
}

/* [10.0.0.2, "fd00::2"]: IPv4 or IPv6 literals, at most 4096, stored joined
 * by commas (the load engine's form); [] is none. */
int cfg__parse_addr_list(ctx_t *c, const struct cfg_key *k, yaml_node_t *n, const char *key,
                         void *base)
{
    char **out = (char **)(void *)((char *)base + k->offset);
    if (n->type != YAML_SEQUENCE_NODE)
        return bad(c, n, "%s must be a list of IP addresses like [10.0.0.2, 10.0.0.3], got %s", key,
                   kind_name(n));
    struct buf b;
    buf_init(&b, 256 * 1024);
    int count = 0, rc = 0;
    for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top;
         it++) {
        yaml_node_t *v = node_at(c, *it);
        unsigned char a6[16];
        if ((rc = want_scalar(c, v, key, "an IP address")))
            break;
        if (inet_pton(AF_INET, sval(v), a6) != 1 && inet_pton(AF_INET6, sval(v), a6) != 1) {
            rc = bad(c, v, "%s: '%s' is not an IPv4 or IPv6 address", key, sval(v));
            break;
        }
        if (++count > 4096) {
            rc = bad(c, v, "%s: at most 4096 addresses", key);
            break;
        }
        if (buf_printf(&b, "%s%s", count > 1 ? "," : "", sval(v)) < 0) {
            rc = err_set(c->e, -ENOMEM, "out of memory");
            break;
        }
    }
    if (rc == 0) {
        free(*out);
        *out = count ? strdup(b.data) : NULL;
        if (count && !*out)
            rc = err_set(c->e, -ENOMEM, "out of memory");
    }
    buf_free(&b);
    return rc;
}

/* node.slurm.args: a list of strings, each kept as one argv item (stored as a malloc'd
 * NULL-terminated char ** beside its count, the size_t after it in struct cfg_slurm). */
_Static_assert(offsetof(struct cfg_slurm, nargs) ==
                   offsetof(struct cfg_slurm, args) + sizeof(char **),
               "cfg__parse_str_list finds the count right after the list");
int cfg__parse_str_list(ctx_t *c, const struct cfg_key *k, yaml_node_t *n, const char *key,
                        void *base)
{
    char ***out = (char ***)(void *)((char *)base + k->offset);
    size_t *count = (size_t *)(void *)((char *)base + k->offset + sizeof(char **));
    if (n->type != YAML_SEQUENCE_NODE)
        return bad(c, n, "%s must be a list of strings like [\"--constraint=epyc\"], got %s", key,
                   kind_name(n));
    size_t len = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
    if (len > CFG_SLURM_MAX_ARGS)
        return bad(c, n, "%s: at most %d items, got %zu", key, CFG_SLURM_MAX_ARGS, len);
    char **list = calloc(len + 1, sizeof *list);
    if (!list)
        return err_set(c->e, -ENOMEM, "out of memory");
    int rc = 0;
    size_t i = 0;
    for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top;
         it++, i++) {
        yaml_node_t *v = node_at(c, *it);
        if (v->type != YAML_SCALAR_NODE) {
            rc = bad(c, v, "%s: item %zu must be a string, got %s", key, i + 1, kind_name(v));
            break;
        }
        const char *sv = sval(v);
        for (const char *p = sv; *p && !rc; p++)
            if ((unsigned char)*p < 0x20 || *p == 0x7f)
                rc = bad(c, v, "%s: item %zu holds a control character", key, i + 1);
        if (!rc && !*sv)
            rc = bad(c, v, "%s: item %zu is empty", key, i + 1);
        if (rc)
            break;
        if (!(list[i] = strdup(sv))) {
            rc = err_set(c->e, -ENOMEM, "out of memory");
            break;
        }
    }
    if (rc) {
        for (size_t j = 0; j < len; j++)
            free(list[j]);
        free(list);
        return rc;
    }
    if (*out)
        for (size_t j = 0; j < *count; j++)
            free((*out)[j]);
    free(*out);
    *out = list;
    *count = len;
    return 0;
}

/* slo: {p99 | bounds, failures, resolution, max_rps, warmup, window, samples},
 * each defaulted when not given (the whole block replaces lower layers'); slo:
 * off (or false) turns it off. Also the parser of slo.bounds itself. */
/* Whether mapping n gives key (find_value returns n itself when it does not). */
static int has_key(ctx_t *c, yaml_node_t *n, const char *key)
{
    return find_value(c, n, key) != n;
}

int cfg__parse_slo(ctx_t *c, const struct cfg_key *k, yaml_node_t *n, const char *key, void *base)
{
    if (!strcmp(k->name, "slo.bounds")) {
        struct cfg_settings *s = base;
        if (n->type != YAML_SEQUENCE_NODE)
            return bad(c, n, "%s must be a list of durations like [10ms, 25ms], got %s", key,
                       kind_name(n));
        s->slo.nbounds = 0;
        for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top;
             it++) {
            yaml_node_t *v = node_at(c, *it);
            int rc = want_scalar(c, v, key, "a duration");
            if (rc)
                return rc;
            if (s->slo.nbounds >= CFG_MAX_SLO_BOUNDS)
                return bad(c, v, "%s: at most %d bounds", key, CFG_MAX_SLO_BOUNDS);
            int64_t ms;
            if (dur_parse(sval(v), &ms) != 0 || ms < 1 || ms > 60000)
                return bad(c, v, "%s: each bound must be a duration in [1ms, 60s], got '%s'", key,
                           sval(v));
            for (int i = 0; i < s->slo.nbounds; i++)
                if (s->slo.bounds_ms[i] == ms)
                    return bad(c, v, "%s: %s is given twice", key, sval(v));
            s->slo.bounds_ms[s->slo.nbounds++] = ms;
        }
        if (s->slo.nbounds == 0)
            return bad(c, n, "%s must list at least one bound", key);
        return 0;
    }
    struct cfg_slo *o = (struct cfg_slo *)((char *)base + k->offset);
    memset(o, 0, sizeof(*o));
    if (n->type == YAML_SCALAR_NODE && (!strcmp(sval(n), "off") || !strcmp(sval(n), "false")))
        return 0;
    if (n->type != YAML_MAPPING_NODE)
        return bad(c, n, "%s must be a mapping or off, got %s", key, kind_name(n));
    if (has_key(c, n, "p99") && has_key(c, n, "bounds"))
        return bad(c, n, "%s: give p99 or bounds, not both", key);
    int rc = parse_keys(c, n, key, true, k->scope, k->name, base, NULL);
    if (rc)
        return rc;
    o->on = 1;
    if (o->nbounds == 0) {
        if (!o->bounds_ms[0])
            o->bounds_ms[0] = 25;
        o->nbounds = 1;
    }
    if (!has_key(c, n, "failures"))
        o->failures_pct = 0.1;
    if (!o->resolution_pct)
        o->resolution_pct = 5;
    if (!o->max_rps)
        o->max_rps = 200000;
    if (!o->min_rps)
        o->min_rps = 25;
    if (o->min_rps >= o->max_rps)
        return bad(c, n, "%s.min_rps (%g) must be < %s.max_rps (%g)", key, o->min_rps, key,
                   o->max_rps);
    if (!has_key(c, n, "warmup"))
        o->warmup_ms = 2000;
    if (!o->window_min_ms)
        o->window_min_ms = 8000;
    if (!o->window_max_ms)
        o->window_max_ms = 20000;
    if (!o->samples)
        o->samples = 20000;
    if (o->window_min_ms > o->window_max_ms)
        return bad(c, n, "%s.window.min must be <= %s.window.max", key, key);
    return 0;
}

/* held: {users, think, duration, warmup, spawn_rate, max_offered, p99}, each
 * defaulted when not given (p99 at use: cfg_held_p99_ms) (the whole block replaces lower layers');
 * held: off (or false) turns it off. */
int64_t cfg_held_p99_ms(const struct cfg_settings *s)
{
    if (s->held.p99_ms > 0)
        return s->held.p99_ms;
    if (s->slo.on && s->slo.nbounds > 0 && s->slo.bounds_ms[0] > 0)
        return 4 * s->slo.bounds_ms[0];
    return 100;
}

int cfg__parse_held(ctx_t *c, const struct cfg_key *k, yaml_node_t *n, const char *key, void *base)
{
    struct cfg_held *h = (struct cfg_held *)((char *)base + k->offset);
    memset(h, 0, sizeof(*h));
    if (n->type == YAML_SCALAR_NODE && (!strcmp(sval(n), "off") || !strcmp(sval(n), "false")))
        return 0;
    if (n->type != YAML_MAPPING_NODE)
        return bad(c, n, "%s must be a mapping or off, got %s", key, kind_name(n));
    int rc = parse_keys(c, n, key, true, k->scope, k->name, base, NULL);
    if (rc)
        return rc;
    h->on = 1;
    if (!h->users.start)
        h->users.start = 1000;
    if (!h->users.factor)
        h->users.factor = 2;
    if (!h->users.max)
        h->users.max = h->users.start > 16000 ? h->users.start : 16000;
    if (h->think.min_ms == 0 && h->think.max_ms == 0)
        h->think = (struct cfg_think){CFG_THINK_BETWEEN, 5000, 15000};
    if (!h->duration_ms)
        h->duration_ms = 60000;
    if (!h->warmup_ms && !has_key(c, n, "warmup"))
        h->warmup_ms = h->duration_ms / 3;
    if (!h->spawn_rate)
        h->spawn_rate = 1000;
    if (!h->max_offered_pct)
        h->max_offered_pct = 50;
    if (h->users.start > h->users.max)
        return bad(c, n, "%s.users.start (%d) must be <= %s.users.max (%d)", key, h->users.start,
                   key, h->users.max);
    if (h->warmup_ms >= h->duration_ms)
        return bad(c, n, "%s.warmup must be < %s.duration", key, key);
    return 0;
}

int cfg__parse_refine(ctx_t *c, const struct cfg_key *k, yaml_node_t *n, const char *key,
                      void *base)
{
    struct cfg_settings *s = base;
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
    if ((v[0] < '0' || v[0] > '9') || parse_i64(v, 0, MF_MAX_USERS, &abs))
        return bad(c, n, "%s must be a percentage (like 5%%) or a user count in [0, %d], got '%s'",
                   key, MF_MAX_USERS, v);
    s->refine_abs = (int)abs;
    return 0;
}

int cfg__parse_url_path(ctx_t *c, const struct cfg_key *k, yaml_node_t *v, const char *kp,
                        void *base)
{
    char **path = (char **)((char *)base + k->offset);
    int rc = get_str(c, v, kp, path);
    if (rc)
        return rc;
    if ((*path)[0] != '/')
        return bad(c, v, "%s must start with /, got '%s'", kp, *path);
    for (const char *q = *path; *q; q++)
        if ((unsigned char)*q <= ' ' || *q == 0x7f)
            return bad(c, v, "%s must not contain spaces or control characters", kp);
    return 0;
}

int cfg__parse_body(ctx_t *c, const struct cfg_key *k, yaml_node_t *v, const char *kp, void *base)
{
    struct cfg_payload *p = base;
    int rc = get_str(c, v, kp, &p->body);
    if (!rc)
        p->body_len = strlen(p->body);
    return rc;
}

/* ---- database payloads and the database section ---- */

static const char *const verify_names[] = {
    [CFG_VERIFY_NONE] = "",           [CFG_VERIFY_DB] = "db",
    [CFG_VERIFY_QUERIES] = "queries", [CFG_VERIFY_FORTUNES] = "fortunes",
    [CFG_VERIFY_UPDATES] = "updates",
};

const char *cfg_verify_name(enum cfg_verify v)
{
    return (unsigned)v < sizeof verify_names / sizeof verify_names[0] ? verify_names[v] : "";
}

int cfg__parse_verify(ctx_t *c, const struct cfg_key *k, yaml_node_t *v, const char *path,
                      void *base)
{
    enum cfg_verify *out = (enum cfg_verify *)((char *)base + k->offset);
    int rc = want_scalar(c, v, path, "db, queries, fortunes or updates");
    if (rc)
        return rc;
    for (int i = CFG_VERIFY_DB; i <= CFG_VERIFY_UPDATES; i++)
        if (!strcmp(sval(v), verify_names[i])) {
            *out = (enum cfg_verify)i;
            return 0;
        }
    return bad(c, v, "%s must be db, queries, fortunes or updates, got '%s'", path, sval(v));
}

int cfg__parse_provision(ctx_t *c, const struct cfg_key *k, yaml_node_t *v, const char *path,
                         void *base)
{
    enum cfg_db_provision *out = (enum cfg_db_provision *)((char *)base + k->offset);
    int rc = want_scalar(c, v, path, "local or dsn");
    if (rc)
        return rc;
    if (!strcmp(sval(v), "local"))
        *out = CFG_DB_LOCAL;
    else if (!strcmp(sval(v), "dsn"))
        *out = CFG_DB_DSN;
    else
        return bad(c, v, "%s must be local or dsn, got '%s'", path, sval(v));
    return 0;
}

/* A URI libpq and psql take: postgresql:// or postgres://, no spaces or control
 * characters (it reaches a shell quoted, and a log). */
int cfg__parse_dsn(ctx_t *c, const struct cfg_key *k, yaml_node_t *v, const char *path, void *base)
{
    char **dsn = (char **)((char *)base + k->offset);
    int rc = get_str(c, v, path, dsn);
    if (rc)
        return rc;
    if (strncmp(*dsn, "postgresql://", 13) && strncmp(*dsn, "postgres://", 11))
        return bad(c, v, "%s must be a URI starting with postgresql:// or postgres://, got '%.60s'",
                   path, *dsn);
    for (const char *q = *dsn; *q; q++)
        if ((unsigned char)*q <= ' ' || *q == 0x7f)
            return bad(c, v, "%s must not contain spaces or control characters (byte %zu)", path,
                       (size_t)(q - *dsn) + 1);
    return 0;
}

/* "128MB": digits and one of PostgreSQL's memory units; at least 128kB. */
static bool pg_size_ok(const char *t)
{
    static const struct {
        const char *u;
        long long kb;
    } units[] = {{"kB", 1}, {"MB", 1024}, {"GB", 1024 * 1024}, {"TB", 1024LL * 1024 * 1024}};
    long long v = 0;
    const char *p = t;
    for (; *p >= '0' && *p <= '9'; p++) {
        if (v > 1000000000LL)
            return false;
        v = v * 10 + (*p - '0');
    }
    if (p == t)
        return false;
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (!strcmp(p, units[i].u))
            return v * units[i].kb >= 128 && v <= 1000000000LL / units[i].kb * 1024;
    return false;
}

/* database.settings' words: shared_buffers a size, synchronous_commit and fsync one of
 * PostgreSQL's values (fsync also a YAML boolean, stored as on/off). */
int cfg__parse_pg_word(ctx_t *c, const struct cfg_key *k, yaml_node_t *v, const char *path,
                       void *base)
{
    char **field = (char **)((char *)base + k->offset);
    int rc = get_key_at(c, k, v, path, field);
    if (rc)
        return rc;
    const char *t = *field;
    if (!strcmp(k->name, "settings.shared_buffers")) {
        if (!pg_size_ok(t))
            return bad(c, v,
                       "%s must be a size like 128MB (kB, MB, GB or TB; at least 128kB), "
                       "got '%s'",
                       path, t);
        return 0;
    }
    if (!strcmp(k->name, "settings.fsync")) {
        static const char *const on[] = {"on", "true", "yes"}, *const off[] = {"off", "false",
                                                                               "no"};
        for (size_t i = 0; i < 3; i++)
            if (!strcasecmp(t, on[i]) || !strcasecmp(t, off[i]))
                return set_word(c, field, !strcasecmp(t, on[i]) ? "on" : "off");
        return bad(c, v, "%s must be on or off, got '%s'", path, t);
    }
    static const char *const sync[] = {"on", "off", "local", "remote_write", "remote_apply"};
    for (size_t i = 0; i < sizeof sync / sizeof sync[0]; i++)
        if (!strcmp(t, sync[i]))
            return 0;
    return bad(c, v, "%s must be on, off, local, remote_write or remote_apply, got '%s'", path, t);
}

int cfg_has_db_payload(const struct cfg_matrix *m)
{
    for (size_t i = 0; i < m->npayloads; i++)
        if (cfg_payload_is_db(&m->payloads[i]))
            return 1;
    return 0;
}

void cfg_database_cpus(const struct cfg_matrix *m, int ncpus, char *out, size_t n, int *shared)
{
    *shared = 0;
    if (m->database.cpus) {
        snprintf(out, n, "%s", m->database.cpus);
        return;
    }
    cpu_set_t busy;
    char msg[128];
    CPU_ZERO(&busy);
    if (m->node.cpus && *m->node.cpus && mf_cpus_parse(m->node.cpus, &busy, msg, sizeof msg))
        CPU_ZERO(&busy);
    if (m->node.transport == CFG_TRANSPORT_LOCAL && m->load_cpus && *m->load_cpus) {
        cpu_set_t load;
        if (!mf_cpus_parse(m->load_cpus, &load, msg, sizeof msg))
            CPU_OR(&busy, &busy, &load);
    }
    for (int i = 0; i < ncpus && i < CPU_SETSIZE; i++)
        if (!CPU_ISSET(i, &busy)) {
            snprintf(out, n, "%d", i);
            return;
        }
    snprintf(out, n, "%s", "");
    *shared = 1;
}

void cfg_database_describe(const struct cfg_database *d, char *out, size_t n)
{
    if (d->provision == CFG_DB_DSN)
        snprintf(out, n, "postgresql dsn, pool %d", d->pool);
    else
        snprintf(out, n,
                 "postgresql local, pool %d, shared_buffers=%s max_connections=%d "
                 "synchronous_commit=%s fsync=%s",
                 d->pool, d->shared_buffers ? d->shared_buffers : "?", d->max_connections,
                 d->synchronous_commit ? d->synchronous_commit : "?", d->fsync ? d->fsync : "?");
}

const char *const cfg_start_placeholders[] = {"python", "dir",     "host",        "port", "workers",
                                              "name",   "workdir", "connections", NULL};

int cfg_start_check(const char *t, size_t *at, char *msg, size_t n)
{
    char q = 0; /* the quote we are inside: 0, '\'' or '"' */
    for (size_t i = 0; t[i]; i++) {
        char ch = t[i];
        if (q != '\'' && ch == '\\' && t[i + 1] && t[i + 1] != '{') {
            i++; /* an escaped character is no quote */
            continue;
        }
        if (ch == '\'' || ch == '"') {
            q = !q ? ch : (q == ch ? 0 : q);
            continue;
        }
        if (ch != '{')
            continue;
        *at = i;
        const char *close = strchr(t + i, '}');
        if (!close) {
            snprintf(msg, n, "unclosed '{'");
            return -EINVAL;
        }
        size_t len = (size_t)(close - t - i - 1);
        bool known = false;
        for (const char *const *p = cfg_start_placeholders; *p && !known; p++)
            known = strlen(*p) == len && !strncmp(*p, t + i + 1, len);
        if (!known) {
            snprintf(msg, n,
                     "unknown placeholder {%.*s} (have {python} {dir} {host} {port} {workers} "
                     "{name} {workdir} {connections})",
                     (int)(len > 40 ? 40 : len), t + i + 1);
            return -EINVAL;
        }
        /* A value is '...'-quoted where it stands, which nests wrongly in quotes or after
         * a backslash (the expansion does not know \{ as an escape). */
        if (q || (i > 0 && t[i - 1] == '\\')) {
            snprintf(msg, n, "{%.*s} %s: write it bare, mfbench quotes every value", (int)len,
                     t + i + 1, q ? "inside quotes" : "after a backslash");
            return -EINVAL;
        }
        i = (size_t)(close - t);
    }
    return 0;
}

/* The column of byte offset off of scalar v's value, when the value is on one line and
 * its source length can be rebuilt (plain, '...' with '' doubled, "..." with \" \\ and
 * control characters escaped); else the column of the value's start. Columns count
 * characters, as libyaml's marks do. */
static int value_col(const yaml_node_t *v, size_t off)
{
    int col0 = (int)v->start_mark.column + 1;
    if (v->start_mark.line != v->end_mark.line)
        return col0;
    yaml_scalar_style_t st = v->data.scalar.style;
    if (st != YAML_PLAIN_SCALAR_STYLE && st != YAML_SINGLE_QUOTED_SCALAR_STYLE &&
        st != YAML_DOUBLE_QUOTED_SCALAR_STYLE)
        return col0;
    int quote = st == YAML_PLAIN_SCALAR_STYLE ? 0 : 1;
    const unsigned char *s = v->data.scalar.value;
    long src = 0, at = -1;
    for (size_t i = 0; i < v->data.scalar.length; i++) {
        if (i == off)
            at = src;
        if ((s[i] & 0xC0) == 0x80)
            continue; /* a UTF-8 continuation byte: same character */
        if (st == YAML_SINGLE_QUOTED_SCALAR_STYLE && s[i] == '\'')
            src += 2;
        else if (st == YAML_DOUBLE_QUOTED_SCALAR_STYLE &&
                 (s[i] == '"' || s[i] == '\\' || s[i] < ' '))
            src += 2;
        else
            src++;
    }
    /* Only trust the rebuilt offsets when they add up to the scalar's real length. */
    if (at < 0 || src + 2 * quote != (long)(v->end_mark.column - v->start_mark.column))
        return col0;
    return col0 + quote + (int)at;
}

int cfg__parse_start(ctx_t *c, const struct cfg_key *k, yaml_node_t *v, const char *kp, void *base)
{
    char **start = (char **)((char *)base + k->offset);
    int rc = get_str(c, v, kp, start);
    if (rc)
        return rc;
    char msg[200];
    size_t at = 0;
    if (cfg_start_check(*start, &at, msg, sizeof msg))
        return err_set_at(c->e, -EINVAL, c->m->path, (int)v->start_mark.line + 1, value_col(v, at),
                          "%s: %s", kp, msg);
    return 0;
}

int cfg__parse_body_file(ctx_t *c, const struct cfg_key *k, yaml_node_t *v, const char *kp,
                         void *base)
{
    char **file = (char **)((char *)base + k->offset);
    int rc = get_str(c, v, kp, file);
    if (!rc && !(*file)[0])
        rc = bad(c, v, "%s must name a file", kp);
    /* Kept for cfg_check_files: the file is looked at where mfbench runs, not here. */
    struct cfg_payload *p = base;
    p->body_file_line = (int)v->start_mark.line + 1;
    p->body_file_col = (int)v->start_mark.column + 1;
    return rc;
}

int cfg__parse_limit_value(ctx_t *c, const struct cfg_key *k, yaml_node_t *v, const char *kp,
                           void *base)
{
    int rc = get_key_at(c, k, v, kp, (char *)base + k->offset);
    struct cfg_framework *fw = base;
    fw->limits.connections.given = rc == 0;
    fw->limits.connections.line = (int)v->start_mark.line + 1;
    fw->limits.connections.col = (int)v->start_mark.column + 1;
    return rc;
}

/* What the built-in targets' servers cap connections with. The shipped matrix
 * keeps these defaults: they are what users run. */
static const struct cfg_known_limit known_connection_limits[] = {
    {"waitress", "waitress connection_limit", 100, NULL},
    {"uvicorn", "uvicorn limit_concurrency", 0, NULL},
    {"gunicorn", "gunicorn worker_connections", 0,
     "the built-in targets run gunicorn's sync workers, which worker_connections does not cap "
     "(it caps gthread, gevent and eventlet workers): give a start template with -k and "
     "--worker-connections {connections}"},
};

const struct cfg_known_limit *cfg_known_connection_limit(const char *server)
{
    for (size_t i = 0;
         server && i < sizeof known_connection_limits / sizeof known_connection_limits[0]; i++)
        if (!strcmp(known_connection_limits[i].server, server))
            return &known_connection_limits[i];
    return NULL;
}

/* limits.connections of framework f (prefix "frameworks.NAME"), once its keys are
 * parsed: a value given must reach the server, {connections} in a start template
 * needs one, and the known server's setting and default fill what is not given. */
static int check_limits(ctx_t *c, struct cfg_framework *f, yaml_node_t *fv, const char *pre)
{
    struct cfg_limit *l = &f->limits.connections;
    const struct cfg_known_limit *kn = cfg_known_connection_limit(f->server);
    bool templ = f->start && strstr(f->start, "{connections}");
    yaml_mark_t at = {.line = (size_t)(l->line > 0 ? l->line - 1 : 0),
                      .column = (size_t)(l->col > 0 ? l->col - 1 : 0)};
    if (l->given && f->start && !templ)
        return bad_at(c, &at,
                      "%s.limits.connections.value: the start template has no {connections}, "
                      "so the value would not reach the server",
                      pre);
    if (l->given && !f->start && (!kn || kn->unsettable)) {
        if (kn)
            return bad_at(c, &at, "%s.limits.connections.value: %s", pre, kn->unsettable);
        return bad_at(c, &at,
                      "%s.limits.connections.value: server %s has no connection cap the built-in "
                      "targets can set (waitress connection_limit and uvicorn limit_concurrency "
                      "can be set; a start template takes {connections})",
                      pre, f->server ? f->server : "(none given)");
    }
    if (templ && !l->given)
        return bad(c, find_value(c, fv, "start"),
                   "%s.start: {connections} needs limits.connections.value", pre);
    if (!l->given && kn)
        l->value = kn->def;
    if (!l->setting && (kn || l->given)) {
        char name[CFG_MAX_NAME + 16];
        snprintf(name, sizeof name, "%s connections", f->server ? f->server : f->name);
        if ((l->setting = strdup(kn ? kn->setting : name)) == NULL)
            return err_set(c->e, -ENOMEM, "out of memory");
    }
    return 0;
}

int cfg__parse_dir(ctx_t *c, const struct cfg_key *k, yaml_node_t *v, const char *kp, void *base)
{
    int rc = get_key_at(c, k, v, kp, (char *)base + k->offset);
    struct cfg_framework *fw = base;
    fw->dir_line = (int)v->start_mark.line + 1;
    fw->dir_col = (int)v->start_mark.column + 1;
    return rc;
}

const char *cfg_body_file_path(const struct cfg_payload *p, const char *targets_dir, char *out,
                               size_t n)
{
    if (p->body_file[0] == '/' || !targets_dir)
        snprintf(out, n, "%s", p->body_file);
    else
        snprintf(out, n, "%s/%s", targets_dir, p->body_file);
    return out;
}

const char *cfg_framework_dir_path(const struct cfg_matrix *m, const struct cfg_framework *fw,
                                   char *out, size_t n)
{
    if (fw->dir[0] == '/')
        snprintf(out, n, "%s", fw->dir);
    else
        snprintf(out, n, "%s/%s", m->dir, fw->dir);
    return out;
}

/* Opens path as mf_read_file does (a FIFO must not block); NULL when it reads, else why not. */
static const char *body_file_problem(const char *path, char *why, size_t n)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0)
        return strerror(errno);
    struct stat st;
    const char *r = NULL;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
        r = "not a regular file";
    else if (st.st_size > (off_t)MF_MAX_BODY_BYTES)
        r = (snprintf(why, n, "larger than %zu bytes", (size_t)MF_MAX_BODY_BYTES), why);
    close(fd);
    return r;
}

int cfg_check_files(const struct cfg_matrix *m, const char *targets_dir, struct err *e)
{
    char path[4096], why[64];
    for (size_t i = 0; i < m->npayloads; i++) {
        const struct cfg_payload *p = &m->payloads[i];
        if (!p->body_file || (p->body_file[0] != '/' && !targets_dir))
            continue;
        cfg_body_file_path(p, targets_dir, path, sizeof path);
        const char *bad = body_file_problem(path, why, sizeof why);
        if (bad)
            return err_set_at(e, -EINVAL, m->path, p->body_file_line, p->body_file_col,
                              "payloads.%s.body_file: %s: %s%s%s%s", p->name, p->body_file, bad,
                              p->body_file[0] == '/' ? "" : " (in ",
                              p->body_file[0] == '/' ? "" : targets_dir,
                              p->body_file[0] == '/' ? "" : ")");
    }
    for (size_t i = 0; i < m->nframeworks; i++) {
        const struct cfg_framework *fw = &m->frameworks[i];
        if (!fw->dir)
            continue;
        cfg_framework_dir_path(m, fw, path, sizeof path);
        DIR *d = opendir(path); /* what the upload opens first */
        if (d) {
            closedir(d);
            continue;
        }
        int err = errno;
        return err_set_at(e, -EINVAL, m->path, fw->dir_line, fw->dir_col,
                          "frameworks.%s.dir: %s: %s%s%s%s", fw->name, fw->dir, strerror(err),
                          fw->dir[0] == '/' ? "" : " (beside the matrix: ",
                          fw->dir[0] == '/' ? "" : path, fw->dir[0] == '/' ? "" : ")");
    }
    return 0;
}

/* ---- settings: defaults, profiles and framework overrides ---- */

static yaml_node_t *find_value(ctx_t *c, yaml_node_t *n, const char *key)
{
    if (!n || n->type != YAML_MAPPING_NODE)
        return n;
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++)
        if (!strcmp(sval(node_at(c, p->key)), key))
            return node_at(c, p->value);
    return n;
}

/* The key node of key in mapping n (for errors about the key itself), or n. */
static yaml_node_t *find_key_node(ctx_t *c, yaml_node_t *n, const char *key)
{
    if (!n || n->type != YAML_MAPPING_NODE)
        return n;
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++)
        if (!strcmp(sval(node_at(c, p->key)), key))
            return node_at(c, p->key);
    return n;
}

/* Checks a layer on its own: what it gives must agree with itself. */
static int check_layer(ctx_t *c, yaml_node_t *n, const char *prefix, const struct cfg_settings *s)
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

static int parse_settings_map(ctx_t *c, yaml_node_t *n, const char *prefix, struct cfg_settings *s)
{
    int rc = parse_keys(c, n, prefix, true, CFG_SCOPE_SETTINGS, "", s, NULL);
    return rc ? rc : check_layer(c, n, prefix, s);
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

static int set_default(ctx_t *c, char **field, const char *value)
{
    if (*field)
        return 0;
    *field = strdup(value);
    return *field ? 0 : err_set(c->e, -ENOMEM, "out of memory");
}

/* The table's defaults of a scope into base; a default that does not parse is a bug in
 * the table, reported rather than ignored. */
static int apply_defaults(struct err *e, enum cfg_scope scope, void *base)
{
    char msg[256];
    int rc = cfg_key_defaults(scope, base, msg, sizeof msg);
    if (rc == -ENOMEM)
        return err_set(e, rc, "out of memory");
    return rc ? err_set(e, rc, "built-in default: %s", msg) : 0;
}

static int parse_node(ctx_t *c, yaml_node_t *n)
{
    struct cfg_node *nd = &c->m->node;
    int rc = n ? parse_keys(c, n, "node", true, CFG_SCOPE_NODE, "", nd, NULL) : 0;
    if (rc)
        return rc;
    if (nd->transport == CFG_TRANSPORT_SSH && (!nd->host || !nd->user || !nd->identity)) {
        char missing[64];
        snprintf(missing, sizeof(missing), "%s%s%s", nd->host ? "" : ", host",
                 nd->user ? "" : ", user", nd->identity ? "" : ", identity");
        return bad(c, find_value(c, n, "transport"),
                   "node.transport ssh needs host, user and identity (missing: %s)", missing + 2);
    }
    if (n && nd->transport != CFG_TRANSPORT_SLURM && has_key(c, n, "slurm"))
        return bad(c, find_key_node(c, n, "slurm"),
                   "node.slurm is only for node.transport slurm (transport is %s)",
                   nd->transport == CFG_TRANSPORT_SSH ? "ssh" : "local");
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
    /* The server listens where the load is sent: node.host, so a local node on "::1" (or
     * on a LAN address) is reached. */
    if ((rc = set_default(c, &nd->host, "127.0.0.1")) ||
        (rc = set_default(c, &nd->listen, nd->host)))
        return rc;
    return 0;
}

/* database: the keys, then what the keys cannot say alone. */
static int parse_database(ctx_t *c, yaml_node_t *n)
{
    struct cfg_database *d = &c->m->database;
    d->line = (int)n->start_mark.line + 1;
    d->col = (int)n->start_mark.column + 1;
    int rc = parse_keys(c, n, "database", true, CFG_SCOPE_DATABASE, "", d, NULL);
    if (rc || is_null(n))
        return rc;
    if (d->provision == CFG_DB_DSN) {
        if (!d->dsn)
            return bad(c, find_value(c, n, "provision"),
                       "database.provision dsn needs database.dsn (postgresql://...)");
        static const char *const local_only[] = {"cpus", "port", "settings"};
        for (size_t i = 0; i < 3; i++)
            if (has_key(c, n, local_only[i]))
                return bad(c, find_value(c, n, local_only[i]),
                           "database.%s applies to provision: local only (the database at dsn "
                           "is run by its own host)",
                           local_only[i]);
        return 0;
    }
    if (d->dsn)
        return bad(c, find_value(c, n, "dsn"),
                   "database.dsn is only for provision: dsn (this database is provision: local)");
    if (d->cpus && *d->cpus && c->m->node.cpus && *c->m->node.cpus) {
        cpu_set_t a, b, both;
        char msg[128];
        if (!mf_cpus_parse(d->cpus, &a, msg, sizeof msg) &&
            !mf_cpus_parse(c->m->node.cpus, &b, msg, sizeof msg)) {
            CPU_AND(&both, &a, &b);
            if (CPU_COUNT(&both))
                return bad(c, find_value(c, n, "cpus"),
                           "database.cpus \"%s\" shares a CPU with node.cpus \"%s\": the database "
                           "never runs on the server's CPUs",
                           d->cpus, c->m->node.cpus);
        }
    }
    return 0;
}

/* A named section (payloads, frameworks, profiles): a mapping of name -> mapping. */
static int section_names(ctx_t *c, yaml_node_t *n, const char *key, bool required, size_t elem,
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
        if (!cfg_name_ok(sval(k)))
            return bad(c, k,
                       "%s: '%s' is not a valid name (use [a-z0-9][a-z0-9_.-]*, at most %d "
                       "characters; names reach paths and shell commands)",
                       join(kp, key, sval(k)), sval(k), CFG_MAX_NAME);
    }
    return 0;
}

/* A database payload: the rule replaces body, body_file and length, the path is derived
 * from it, and queries is N of the queries and updates tests (20 by default). */
static int db_payload(ctx_t *c, yaml_node_t *pv, const char *pre, struct cfg_payload *p)
{
    static const char *const not_with[] = {"path", "body", "body_file", "length"};
    for (size_t i = 0; i < sizeof not_with / sizeof not_with[0]; i++)
        if (has_key(c, pv, not_with[i]))
            return bad(c, find_value(c, pv, not_with[i]),
                       "%s.%s is not given with verify: %s (the answer is checked by the rule; "
                       "the path is derived)",
                       pre, not_with[i], cfg_verify_name(p->verify));
    bool n_rows = p->verify == CFG_VERIFY_QUERIES || p->verify == CFG_VERIFY_UPDATES;
    if (!n_rows && p->queries)
        return bad(c, find_value(c, pv, "queries"),
                   "%s.queries is only for verify: queries or updates (this is verify: %s)", pre,
                   cfg_verify_name(p->verify));
    if (n_rows && !p->queries)
        p->queries = 20;
    char path[64];
    if (n_rows)
        snprintf(path, sizeof path, "/%s?queries=%d", cfg_verify_name(p->verify), p->queries);
    else
        snprintf(path, sizeof path, "/%s", cfg_verify_name(p->verify));
    int rc = set_word(c, &p->path, path);
    if (!rc && !p->content_type)
        rc = set_word(c, &p->content_type,
                      p->verify == CFG_VERIFY_FORTUNES ? "text/html; charset=utf-8"
                                                       : "application/json");
    return rc;
}

static int parse_payloads(ctx_t *c, yaml_node_t *n)
{
    struct cfg_matrix *m = c->m;
    int rc = section_names(c, n, "payloads", true, sizeof(*m->payloads), (void **)&m->payloads,
                           &m->npayloads);
    if (rc)
        return rc;
    char pre[CFG_KEY_MAX];
    for (size_t i = 0; i < m->npayloads; i++) {
        struct cfg_payload *p = &m->payloads[i];
        yaml_node_t *pk = PAIR_KEY(c, n, i), *pv = PAIR_VAL(c, n, i);
        p->length = -1;
        if ((rc = apply_defaults(c->e, CFG_SCOPE_PAYLOAD, p)) ||
            (rc = get_str(c, pk, "payloads", &p->name)))
            return rc;
        join(pre, "payloads", p->name);
        if ((rc = parse_keys(c, pv, pre, false, CFG_SCOPE_PAYLOAD, "", p, NULL)))
            return rc;
        if (p->verify != CFG_VERIFY_NONE) {
            if ((rc = db_payload(c, pv, pre, p)))
                return rc;
            continue;
        }
        if (p->queries)
            return bad(c, find_value(c, pv, "queries"),
                       "%s.queries is only for a database payload (verify: queries or updates)",
                       pre);
        if (!p->path)
            return bad(c, pk, "%s needs a path", pre);
        int given = !!p->body + (p->length >= 0) + !!p->body_file;
        if (given != 1)
            return bad(c, pk, "%s needs exactly one of body, body_file or length (%s)", pre,
                       given ? "got more than one" : "got neither");
    }
    return 0;
}

static int parse_frameworks(ctx_t *c, yaml_node_t *n)
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
    char pre[CFG_KEY_MAX];
    for (size_t i = 0; i < m->nframeworks; i++) {
        struct cfg_framework *f = &m->frameworks[i];
        yaml_node_t *fk = PAIR_KEY(c, n, i), *fv = PAIR_VAL(c, n, i);
        f->system_site_packages = -1; /* the node's */
        c->fw_line[i] = (int)fk->start_mark.line + 1;
        c->fw_col[i] = (int)fk->start_mark.column + 1;
        if ((rc = apply_defaults(c->e, CFG_SCOPE_FRAMEWORK, f)) ||
            (rc = get_str(c, fk, "frameworks", &f->name)))
            return rc;
        join(pre, "frameworks", f->name);
        if ((rc = parse_keys(c, fv, pre, true, CFG_SCOPE_FRAMEWORK, "", f, &f->over)) ||
            (rc = check_layer(c, fv, pre, &f->over)) || (rc = set_default(c, &f->app, f->name)) ||
            (rc = check_limits(c, f, fv, pre)))
            return rc;
    }
    return 0;
}

static int parse_profiles(ctx_t *c, yaml_node_t *n)
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
static int check_combinations(ctx_t *c)
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

/* PostgreSQL keeps 3 connections for superusers, and the verification opens one: every
 * framework's processes x database.pool must fit in the rest of max_connections, or its
 * servers fail on connections, not on load. */
#define CFG_PG_RESERVED_CONNECTIONS 4
static int check_db_connections(ctx_t *c)
{
    const struct cfg_matrix *m = c->m;
    const struct cfg_database *d = &m->database;
    if (d->provision != CFG_DB_LOCAL || !cfg_has_db_payload(m))
        return 0;
    for (size_t i = 0; i < m->nframeworks; i++) {
        const struct cfg_framework *f = &m->frameworks[i];
        long long need = (long long)(f->workers > 0 ? f->workers : 1) * d->pool;
        if (need + CFG_PG_RESERVED_CONNECTIONS > d->max_connections)
            return err_set_at(c->e, -EINVAL, m->path, c->fw_line[i], c->fw_col[i],
                              "frameworks.%s: %d workers x database.pool %d = %lld connections, "
                              "more than database.settings.max_connections %d leaves (%d are "
                              "PostgreSQL's and mfbench's own)",
                              f->name, f->workers > 0 ? f->workers : 1, d->pool, need,
                              d->max_connections, CFG_PG_RESERVED_CONNECTIONS);
    }
    return 0;
}

static int parse_root(ctx_t *c, yaml_node_t *root)
{
    /* The sections, in the order they are parsed (each is a ROOT entry of the table). */
    enum { VERSION, NODE, LOAD, DEFAULTS, PAYLOADS, FRAMEWORKS, PROFILES, BUDGET, DATABASE, NSEC };
    static const char *const names[NSEC] = {"version",  "node",     "load",
                                            "defaults", "payloads", "frameworks",
                                            "profiles", "budget",   "database"};
    size_t np;
    int rc = check_map(c, root, "", false, &np);
    if (rc)
        return rc;
    yaml_node_t *sec[NSEC] = {0};
    for (size_t i = 0; i < np; i++) {
        yaml_node_t *k = PAIR_KEY(c, root, i);
        size_t j = 0;
        while (j < NSEC && strcmp(sval(k), names[j]))
            j++;
        if (j == NSEC || !find_key(CFG_SCOPE_ROOT, "", names[j])) {
            char allowed[CFG_LIST_MAX] = "";
            list_keys(allowed, sizeof allowed, CFG_SCOPE_ROOT, "");
            return unknown_key(c, k, "", allowed);
        }
        sec[j] = PAIR_VAL(c, root, i);
    }
    if (!sec[VERSION])
        return bad(c, root, "missing key 'version' (must be 1)");
    if ((rc = get_key_at(c, find_key(CFG_SCOPE_ROOT, "", "version"), sec[VERSION], "version",
                         &c->m->version)))
        return rc;
    if ((rc = parse_node(c, sec[NODE])))
        return rc;
    if (sec[LOAD] && (rc = parse_keys(c, sec[LOAD], "load", true, CFG_SCOPE_LOAD, "", c->m, NULL)))
        return rc;
    if (sec[DATABASE] && (rc = parse_database(c, sec[DATABASE])))
        return rc;
    yaml_node_t *def = sec[DEFAULTS] ? sec[DEFAULTS] : root;
    c->def_line = (int)def->start_mark.line + 1;
    c->def_col = (int)def->start_mark.column + 1;
    if (sec[DEFAULTS] && (rc = parse_settings_map(c, sec[DEFAULTS], "defaults", &c->m->defaults)))
        return rc;
    if (!sec[PAYLOADS])
        return bad(c, root, "missing section 'payloads' (a mapping of NAME: {path, body|length})");
    if ((rc = parse_payloads(c, sec[PAYLOADS])))
        return rc;
    if (!sec[FRAMEWORKS])
        return bad(c, root, "missing section 'frameworks' (a mapping of NAME: {server, ...})");
    if ((rc = parse_frameworks(c, sec[FRAMEWORKS])))
        return rc;
    if (sec[PROFILES] && (rc = parse_profiles(c, sec[PROFILES])))
        return rc;
    if (sec[BUDGET] && (rc = get_key_at(c, find_key(CFG_SCOPE_ROOT, "", "budget"), sec[BUDGET],
                                        "budget", &c->m->budget_ms)))
        return rc;
    if ((rc = check_db_connections(c)))
        return rc;
    return check_combinations(c);
}

/* ---- loading ---- */

static int parser_error(ctx_t *c, yaml_parser_t *p, const char *text, size_t len)
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

/* A linear pre-scan of the raw text before libyaml sees it: counts flow nesting
 * ('[' and '{' outside quotes and comments) and refuses more than
 * CFG_MAX_NESTING levels at the bracket that goes one too deep. A quote opens
 * only where YAML can start a quoted scalar (after a space, a line start or an
 * indicator), so "don't" in a plain scalar does not hide the brackets after it. */
static int check_nesting(const char *path, const char *text, size_t len, struct err *e)
{
    int depth = 0, line = 1, col = 0;
    char quote = 0, prev = '\n';
    for (size_t i = 0; i < len; i++) {
        char ch = text[i];
        col++;
        if (ch == '\n') {
            line++;
            col = 0;
        }
        if (quote == '\'') {
            if (ch == '\'' && i + 1 < len && text[i + 1] == '\'') {
                i++; /* '' is an escaped quote */
                col++;
            } else if (ch == '\'') {
                quote = 0;
            }
        } else if (quote == '"') {
            if (ch == '\\' && i + 1 < len) {
                i++;
                col++;
                if (text[i] == '\n') {
                    line++;
                    col = 0;
                }
            } else if (ch == '"') {
                quote = 0;
            }
        } else if (ch == '#' && (prev == ' ' || prev == '\t' || prev == '\n')) {
            while (i + 1 < len && text[i + 1] != '\n')
                i++;
        } else if ((ch == '\'' || ch == '"') && memchr(" \t\n[{,:-?", prev, 10)) {
            quote = ch;
        } else if (ch == '[' || ch == '{') {
            if (++depth > CFG_MAX_NESTING)
                return err_set_at(e, -EINVAL, path, line, col, "nesting deeper than %d levels",
                                  CFG_MAX_NESTING);
        } else if ((ch == ']' || ch == '}') && depth > 0) {
            depth--;
        }
        prev = ch;
    }
    return 0;
}

static bool has_nul(const yaml_node_t *n)
{
    return n->type == YAML_SCALAR_NODE && strlen(sval(n)) != n->data.scalar.length;
}

/* A "\0" escape in a double-quoted scalar would cut a name or a value short where C reads
 * it ("fl\0ask" checked as "fl"): refused where it stands, naming the key. */
static int refuse_nul(ctx_t *c)
{
    for (yaml_node_t *n = c->doc->nodes.start; n < c->doc->nodes.top; n++) {
        if (n->type != YAML_MAPPING_NODE)
            continue;
        for (size_t i = 0; i < (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
             i++) {
            yaml_node_t *k = PAIR_KEY(c, n, i), *v = PAIR_VAL(c, n, i);
            if (has_nul(k))
                return bad(c, k,
                           "the key '%s\\0...' holds a NUL character (names are printable "
                           "ASCII)",
                           sval(k));
            if (has_nul(v))
                return bad(c, v, "%s: a NUL character inside the value is not allowed",
                           k->type == YAML_SCALAR_NODE ? sval(k) : "value");
        }
    }
    for (yaml_node_t *n = c->doc->nodes.start; n < c->doc->nodes.top; n++)
        if (has_nul(n))
            return bad(c, n, "a NUL character inside a value is not allowed");
    return 0;
}

static int load(struct cfg_matrix *m, const char *text, size_t len, struct err *e)
{
    int nrc = check_nesting(m->path, text, len, e);
    if (nrc)
        return nrc;

    ctx_t c = {.m = m, .e = e};
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
    if ((rc = refuse_nul(&c)))
        goto fail;
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

/* A matrix holding the table's node and load defaults; NULL with e set on failure. */
static struct cfg_matrix *matrix_new(const char *path, const char *dir, struct err *e)
{
    struct cfg_matrix *m = calloc(1, sizeof(*m));
    if (!m) {
        err_set(e, -ENOMEM, "out of memory");
        return NULL;
    }
    m->path = strdup(path);
    m->dir = strdup(dir);
    m->node.transport = CFG_TRANSPORT_LOCAL;
    if (!m->path || !m->dir) {
        err_set(e, -ENOMEM, "out of memory");
        cfg_free(m);
        return NULL;
    }
    if (apply_defaults(e, CFG_SCOPE_NODE, &m->node) || apply_defaults(e, CFG_SCOPE_LOAD, m) ||
        apply_defaults(e, CFG_SCOPE_DATABASE, &m->database)) {
        cfg_free(m);
        return NULL;
    }
    m->node.system_site_packages = CFG_VENV_SYSTEM; /* a compound key: its default is here */
    return m;
}

static int load_text(struct cfg_matrix *m, const char *text, size_t len, struct cfg_matrix **out,
                     struct err *e)
{
    sha256_string(text, len, m->sha256);
    if (!(m->text = malloc(len + 1))) {
        cfg_free(m);
        return err_set(e, -ENOMEM, "out of memory");
    }
    memcpy(m->text, text, len);
    m->text[len] = '\0';
    m->text_len = len;
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
    struct cfg_matrix *m = matrix_new(name ? name : "<embedded>", ".", e);
    if (!m)
        return e->code;
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
    struct cfg_matrix *m = matrix_new(path, dir, e);
    if (!m) {
        buf_free(&b);
        return e->code;
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
    free(m->text);
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
    free(n->slurm.partition);
    free(n->slurm.mfbench);
    for (size_t i = 0; i < n->slurm.nargs; i++)
        free(n->slurm.args[i]);
    free(n->slurm.args);
    free(m->load_cpus);
    free(m->load_source_addrs);
    free(m->database.dsn);
    free(m->database.cpus);
    free(m->database.shared_buffers);
    free(m->database.synchronous_commit);
    free(m->database.fsync);
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
        free(f->limits.connections.setting);
        free(f->python);
        free(f->requires_python);
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
    if (b & CFG_SET_LOAD_POINTS)
        s->load_points = l->load_points;
    if (b & CFG_SET_HELD)
        s->held = l->held;
    if (b & CFG_SET_SLO)
        s->slo = l->slo;
    s->set |= b;
}

static int resolve(const struct cfg_matrix *m, const struct cfg_profile *pr,
                   const struct cfg_framework *fw, struct cfg_settings *out, struct err *e,
                   int line, int col)
{
    /* The bottom layer: the table's defaults (the seed benchmark's settings). */
    struct cfg_settings s = {0};
    int rc = apply_defaults(e, CFG_SCOPE_SETTINGS, &s);
    if (rc)
        return rc;
    s.refine_pct = CFG_DEFAULT_REFINE_PCT; /* compound: its table entry describes it */
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

/* ---- describing resolved settings ---- */

/* Appends to out (size n, at *len) like snprintf, keeping it terminated. */
static void app(char *out, size_t n, size_t *len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void app(char *out, size_t n, size_t *len, const char *fmt, ...)
{
    if (*len >= n)
        return;
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(out + *len, n - *len, fmt, ap);
    va_end(ap);
    *len = w < 0 ? n : *len + (size_t)w;
}

static void app_think(char *out, size_t n, size_t *len, const struct cfg_think *t)
{
    char a[32], b[32];
    if (t->kind != CFG_THINK_PACING && t->max_ms <= 0)
        app(out, n, len, "no think time");
    else if (t->kind == CFG_THINK_PACING)
        app(out, n, len, "pacing %s", dur_format(t->min_ms, a, sizeof a));
    else if (t->kind == CFG_THINK_CONSTANT || t->min_ms == t->max_ms)
        app(out, n, len, "think %s", dur_format(t->min_ms, a, sizeof a));
    else
        app(out, n, len, "think %s-%s", dur_format(t->min_ms, a, sizeof a),
            dur_format(t->max_ms, b, sizeof b));
}

static void app_users(char *out, size_t n, size_t *len, const struct cfg_users *u)
{
    if (u->factor > 1)
        app(out, n, len, "users %d x%d to %d", u->start, u->factor, u->max);
    else
        app(out, n, len, "users %d +%d to %d", u->start, u->step, u->max);
}

void cfg_settings_describe(const struct cfg_settings *s, char *out, size_t n)
{
    size_t len = 0;
    char a[32], b[32];
    if (!n)
        return;
    out[0] = '\0';
    app(out, n, &len, "phases %s (warm-up %s), ", dur_format(s->duration_ms, a, sizeof a),
        dur_format(s->warmup_ms, b, sizeof b));
    app_users(out, n, &len, &s->users);
    app(out, n, &len, ", spawn %g/s, ", s->spawn_rate);
    app_think(out, n, &len, &s->think);
    if (s->rate > 0)
        app(out, n, &len, ", open loop %g req/s", s->rate);
    if (s->pipeline > 1)
        app(out, n, &len, ", pipeline %d", s->pipeline);
    app(out, n, &len, ", timeout %s, ready %s, stop at", dur_format(s->timeout_ms, a, sizeof a),
        dur_format(s->ready_timeout_ms, b, sizeof b));
    const char *sep = " ";
    if (s->stop_when.failures > 0) {
        app(out, n, &len, "%sfailures >= %lld", sep, (long long)s->stop_when.failures);
        sep = " or ";
    }
    if (s->stop_when.ratio > 0) {
        app(out, n, &len, "%sfailure ratio >= %g%%", sep, s->stop_when.ratio * 100);
        sep = " or ";
    }
    if (s->stop_when.p99_ms > 0)
        app(out, n, &len, "%sp99 >= %s", sep,
            dur_format((int64_t)s->stop_when.p99_ms, a, sizeof a));
    if (s->refine_abs > 0)
        app(out, n, &len, ", refine %d users", s->refine_abs);
    else if (s->refine_pct > 0)
        app(out, n, &len, ", refine %g%%", s->refine_pct);
    else
        app(out, n, &len, ", no bisection");
    if (s->repeats > 0)
        app(out, n, &len, ", %d search%s", s->repeats, s->repeats == 1 ? "" : "es");
    else
        app(out, n, &len, ", searches until spread < %g%% (at most %d)", s->spread_pct,
            s->max_repeats);
    if (s->load_points.n > 0) {
        app(out, n, &len, ", latency at");
        for (int i = 0; i < s->load_points.n; i++)
            app(out, n, &len, "%s %g%%", i ? "," : "", s->load_points.pct[i]);
        app(out, n, &len, s->slo.on ? " of slo capacity" : " of peak");
    }
    if (s->slo.on) {
        app(out, n, &len, ", slo p99 <=");
        for (int i = 0; i < s->slo.nbounds; i++)
            app(out, n, &len, "%s %s", i ? "," : "", dur_format(s->slo.bounds_ms[i], a, sizeof a));
        app(out, n, &len, " (failures <= %g%%, resolution %g%%, max %g req/s, probes %s + ",
            s->slo.failures_pct, s->slo.resolution_pct, s->slo.max_rps,
            dur_format(s->slo.warmup_ms, a, sizeof a));
        app(out, n, &len, "%s..", dur_format(s->slo.window_min_ms, a, sizeof a));
        app(out, n, &len, "%s, %lld samples)", dur_format(s->slo.window_max_ms, a, sizeof a),
            (long long)s->slo.samples);
    }
    if (s->held.on) {
        app(out, n, &len, ", held ");
        app_users(out, n, &len, &s->held.users);
        app(out, n, &len, " (");
        app_think(out, n, &len, &s->held.think);
        app(out, n, &len, ", phases %s, at most %g%% of peak, p99 <= ",
            dur_format(s->held.duration_ms, a, sizeof a), s->held.max_offered_pct);
        app(out, n, &len, "%s)", dur_format(cfg_held_p99_ms(s), a, sizeof a));
    }
    if (len >= n && n > 4)
        memcpy(out + n - 4, "...", 4);
}
