/* test_config.c - the matrix loader: the repository's matrix.yaml and the embedded
 * default load with the expected values, layers resolve in order, cell patterns
 * select the right cells, and every fixture in bad/ fails with its exact message.
 * Usage: test_config MATRIX.yaml BAD_DIR
 * A fixture's first line is "# expect: LINE:COL: message"; the loader's formatted
 * error, without the leading "FILE:", must equal it (or, when the expectation ends
 * with "...", start with it). The key table is checked entry by entry: help and
 * default present, defaults that parse, and each numeric key's range at its edges. */
#include "config.h"
#include "t.h"

#include <stdbool.h>

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <time.h>

static void check_seed(const struct cfg_matrix *m)
{
    CHECK_INT(m->version, ==, 1);
    CHECK_INT(m->node.transport, ==, CFG_TRANSPORT_LOCAL);
    CHECK_STR(m->node.host, "127.0.0.1");
    CHECK_STR(m->node.listen, "127.0.0.1");
    CHECK_INT(m->node.port, ==, 22);
    CHECK(m->node.workdir == NULL); /* the per-user default, resolved on the node */
    CHECK_STR(m->node.cpus, "1");
    CHECK_INT(m->node.nofile, ==, 999999);
    CHECK_STR(m->node.python, "/usr/bin/python3");
    CHECK_INT(m->node.server_port, ==, 8000);
    CHECK_INT(m->node.system_site_packages, ==, 1);
    CHECK_INT(m->node.command_timeout_ms, ==,
              10000); /* the shipped matrix: a local node answers in ms */
    CHECK_STR(m->load_cpus, "0");

    const struct cfg_settings *d = &m->defaults;
    CHECK(d->set & CFG_SET_THINK);
    CHECK_INT(d->think.kind, ==, CFG_THINK_BETWEEN);
    CHECK_INT(d->think.min_ms, ==, 5000);
    CHECK_INT(d->think.max_ms, ==, 15000);
    CHECK_INT(d->users.start, ==, 500);
    CHECK_INT(d->users.step, ==, 500);
    CHECK_INT(d->users.max, ==, 10000);
    CHECK_INT(d->duration_ms, ==, 60000);
    CHECK_INT(d->warmup_ms, ==, 5000);
    CHECK_INT(d->stop_when.failures, ==, 1);
    CHECK(!(d->set & CFG_SET_PIPELINE));

    const struct cfg_payload *json = cfg_find_payload(m, "json");
    CHECK(json != NULL);
    if (json) {
        CHECK_STR(json->path, "/json");
        CHECK_INT(json->body_len, ==, 106);
        CHECK_INT(json->length, ==, -1);
        CHECK_STR(json->content_type, "application/json");
        CHECK(json->body && json->body[0] == '{' && json->body[105] == '}');
    }
    const struct cfg_payload *text = cfg_find_payload(m, "text");
    CHECK(text && text->body_len == 12 && !strcmp(text->body, "Hello World!"));
    CHECK(cfg_find_payload(m, "nope") == NULL);

    const struct cfg_framework *flask = cfg_find_framework(m, "flask");
    CHECK(flask != NULL);
    if (!flask)
        return;
    CHECK_STR(flask->server, "werkzeug");
    CHECK_STR(flask->app, "flask");
    CHECK_INT(flask->workers, ==, 1);
    CHECK(flask->start == NULL);
    /* The shipped matrix keeps each server's own cap (issue 20): named, not passed. */
    CHECK(flask->limits.connections.setting == NULL && flask->limits.connections.value == 0);
    const struct cfg_framework *pw = cfg_find_framework(m, "pyramid-waitress");
    CHECK(pw && pw->limits.connections.setting &&
          !strcmp(pw->limits.connections.setting, "waitress connection_limit"));
    CHECK(pw && pw->limits.connections.value == 100 && !pw->limits.connections.given);
    const struct cfg_framework *fa = cfg_find_framework(m, "fastapi");
    CHECK(fa && fa->limits.connections.setting &&
          !strcmp(fa->limits.connections.setting, "uvicorn limit_concurrency"));
    CHECK(fa && fa->limits.connections.value == 0 && !fa->limits.connections.given);

    struct err e;
    err_clear(&e);
    struct cfg_settings s;
    CHECK_INT(cfg_resolve(m, "quick", flask, &s, &e), ==, 0);
    CHECK_INT(s.duration_ms, ==, 2000);
    CHECK_INT(s.warmup_ms, ==, 500);
    CHECK_INT(s.users.start, ==, 8);
    CHECK_INT(s.users.factor, ==, 2);
    CHECK_INT(s.users.max, ==, 32);
    /* The first look measures a short SLO capacity (issue 19 item 5). */
    CHECK_INT(s.slo.on, ==, 1);
    CHECK_INT(s.slo.nbounds, ==, 1);
    CHECK_INT(s.slo.bounds_ms[0], ==, 25);
    CHECK_DBL(s.slo.resolution_pct, ==, 25);
    CHECK_INT(s.slo.window_max_ms, ==, 2000);
    CHECK_INT(s.slo.samples, ==, 2000);
    CHECK_DBL(s.slo.min_rps, ==, 250);
    CHECK_INT(s.think.min_ms, ==, 0);
    CHECK_INT(s.think.max_ms, ==, 0);
    CHECK_DBL(s.spawn_rate, ==, 100);
    CHECK_INT(s.timeout_ms, ==, 2000);        /* the profile's */
    CHECK_DBL(s.refine_pct, ==, 0);           /* the profile turns bisection off */
    CHECK_INT(s.ready_timeout_ms, ==, 30000); /* built in */
    CHECK_INT(s.pipeline, ==, 1);
    CHECK_INT(cfg_resolve(m, "seed-local", flask, &s, &e), ==, 0);
    CHECK_INT(s.timeout_ms, ==, 10000);                  /* from matrix defaults */
    CHECK_DBL(s.refine_pct, ==, CFG_DEFAULT_REFINE_PCT); /* built in: bisection on */

    CHECK_INT(cfg_resolve(m, NULL, flask, &s, &e), ==, 0);
    CHECK_INT(s.duration_ms, ==, 60000);
    CHECK_INT(s.users.start, ==, 500);
    /* What a run stores as the profile's settings: one line, every rule. */
    {
        char d[1024];
        cfg_settings_describe(&s, d, sizeof(d));
        CHECK_STR(d, "phases 1m (warm-up 5s), users 500 +500 to 10000, spawn 500/s, think 5s-15s, "
                     "timeout 10s, ready 30s, stop at failures >= 1, refine 5%, 1 search");
        CHECK_INT(cfg_resolve(m, "nightly", flask, &s, &e), ==, 0);
        cfg_settings_describe(&s, d, sizeof(d));
        CHECK_CONTAINS(d, "users 8 x2 to 512");
        CHECK_CONTAINS(d, "spawn 20000/s, no think time, timeout 2s");
        CHECK_CONTAINS(d, "no bisection");
        CHECK_CONTAINS(d, "latency at 50%, 80% of slo capacity");
        CHECK_CONTAINS(d, "slo p99 <= 25ms (failures <= 0.1%, resolution 5%, max 50000 req/s");
        CHECK_CONTAINS(d, "held users 1000 x2 to 19000 (think 5s-15s");
        CHECK_CONTAINS(d, "p99 <= 100ms)");
        char cut[40];
        cfg_settings_describe(&s, cut, sizeof(cut));
        CHECK_INT(strlen(cut), ==, sizeof(cut) - 1);
        CHECK_STR(cut + sizeof(cut) - 4, "...");
        CHECK_INT(cfg_resolve(m, NULL, flask, &s, &e), ==, 0);
    }

    CHECK_INT(cfg_resolve(m, "slow", flask, &s, &e), ==, -EINVAL);
    CHECK_CONTAINS(e.msg, "no profile 'slow'");
    CHECK_CONTAINS(e.msg, "(have: "); /* the shipped profiles */
}

/* Framework overrides win over the profile, which wins over defaults and the built-ins. */
static void check_layers(void)
{
    static const char text[] =
        "version: 1\n"
        "node:\n"
        "  transport: ssh\n"
        "  host: 10.0.0.2\n"
        "  user: bench\n"
        "  identity: ~/.ssh/id_ed25519\n"
        "  cpus: 0-1\n"
        "  system_site_packages: no\n"
        "  command_timeout: 1m30s\n"
        "defaults:\n"
        "  duration: 60s\n"
        "  think: 2s\n"
        "  users: {start: 100, step: 100, max: 1000}\n"
        "  refine: 5%\n"
        "payloads:\n"
        "  blob: {path: /blob, length: 4096}\n"
        "frameworks:\n"
        "  django:\n"
        "    server: gunicorn\n"
        "    workers: 4\n"
        "    duration: 20s\n"
        "    users: {max: 400}\n"
        "    think: {pacing: 1s}\n"
        "    stop_when: {ratio: 0.01, p99: 500ms}\n"
        "    repeats: auto\n"
        "  mine:\n"
        "    app: custom\n"
        "    start: \"{python} {dir}/app.py --port {port}\"\n"
        "    dir: ./my-target\n"
        "    refine: 50\n"
        "  w:\n"
        "    server: waitress\n"
        "    limits: {connections: {value: 40}}\n"
        "  own:\n"
        "    start: \"{python} {dir}/app.py --max-conns {connections}\"\n"
        "    dir: ./my-target\n"
        "    limits: {connections: {setting: own max_conns, value: 300}}\n"
        "profiles:\n"
        "  quick: {duration: 10s, warmup: 1s, pipeline: 4, rate: 250, think: {constant: 0}}\n";
    struct cfg_matrix *m = NULL;
    struct err e;
    err_clear(&e);
    int rc = cfg_load_string("layers.yaml", text, sizeof(text) - 1, &m, &e);
    CHECK_INT(rc, ==, 0);
    if (rc) {
        fprintf(stderr, "  %s:%d:%d: %s\n", e.file, e.line, e.col, e.msg);
        return;
    }
    CHECK_STR(m->path, "layers.yaml");
    CHECK_STR(m->dir, ".");
    CHECK_INT(m->node.transport, ==, CFG_TRANSPORT_SSH);
    CHECK_STR(m->node.listen, "10.0.0.2");
    CHECK_STR(m->node.cpus, "0-1");
    CHECK_INT(m->node.system_site_packages, ==, 0);
    CHECK_INT(m->node.command_timeout_ms, ==, 90000);
    const char *home = getenv("HOME");
    if (home && *home) {
        char want[512];
        snprintf(want, sizeof want, "%s/.ssh/id_ed25519", home);
        CHECK_STR(m->node.identity, want);
        snprintf(want, sizeof want, "%s/.ssh/known_hosts", home);
        CHECK_STR(m->node.known_hosts, want);
    }
    CHECK_INT(m->payloads[0].length, ==, 4096);
    CHECK(m->payloads[0].body == NULL);

    const struct cfg_framework *dj = cfg_find_framework(m, "django");
    const struct cfg_framework *mine = cfg_find_framework(m, "mine");
    CHECK(dj && mine);
    if (!dj || !mine) {
        cfg_free(m);
        return;
    }
    CHECK_INT(dj->workers, ==, 4);
    CHECK_STR(dj->limits.connections.setting, "gunicorn worker_connections");
    CHECK_INT(dj->limits.connections.value, ==, 0); /* sync workers: no cap */
    const struct cfg_framework *w = cfg_find_framework(m, "w");
    const struct cfg_framework *own = cfg_find_framework(m, "own");
    CHECK(w && w->limits.connections.setting && w->limits.connections.value == 40 &&
          w->limits.connections.given && w->limits.connections.line > 0 &&
          !strcmp(w->limits.connections.setting, "waitress connection_limit"));
    CHECK(own && own->limits.connections.setting && own->limits.connections.value == 300 &&
          own->limits.connections.given &&
          !strcmp(own->limits.connections.setting, "own max_conns"));
    CHECK_STR(mine->app, "custom");
    CHECK_STR(mine->dir, "./my-target");

    struct cfg_settings s;
    CHECK_INT(cfg_resolve(m, "quick", dj, &s, &e), ==, 0);
    CHECK_INT(s.duration_ms, ==, 20000);           /* framework beats profile */
    CHECK_INT(s.warmup_ms, ==, 1000);              /* profile */
    CHECK_INT(s.pipeline, ==, 4);                  /* profile */
    CHECK_DBL(s.rate, ==, 250);                    /* profile */
    CHECK_INT(s.think.kind, ==, CFG_THINK_PACING); /* framework beats profile's constant */
    CHECK_INT(s.think.min_ms, ==, 1000);
    CHECK_INT(s.users.start, ==, 100); /* defaults, merged field by field */
    CHECK_INT(s.users.max, ==, 400);   /* framework */
    CHECK_DBL(s.stop_when.ratio, ==, 0.01);
    CHECK_DBL(s.stop_when.p99_ms, ==, 500);
    CHECK_INT(s.stop_when.failures, ==, 0);
    CHECK_INT(s.repeats, ==, 0);
    CHECK_DBL(s.refine_pct, ==, 5);

    CHECK_INT(cfg_resolve(m, "quick", mine, &s, &e), ==, 0);
    CHECK_INT(s.duration_ms, ==, 10000);
    CHECK_INT(s.think.kind, ==, CFG_THINK_CONSTANT);
    CHECK_INT(s.think.min_ms, ==, 0);
    CHECK_INT(s.refine_abs, ==, 50);
    CHECK_DBL(s.refine_pct, ==, 0);
    CHECK_INT(s.repeats, ==, 1);

    CHECK_INT(cfg_resolve(m, NULL, mine, &s, &e), ==, 0);
    CHECK_INT(s.think.kind, ==, CFG_THINK_CONSTANT); /* `think: 2s` */
    CHECK_INT(s.think.min_ms, ==, 2000);
    CHECK_INT(s.think.max_ms, ==, 2000);
    CHECK_INT(s.warmup_ms, ==, 5000); /* built in */
    cfg_free(m);
}

/* The repeat and client-health keys (added with the breaking-point search). */
static void check_repeat_keys(void)
{
    static const char text[] = "version: 1\n"
                               "defaults: {repeats: auto}\n"
                               "payloads:\n"
                               "  text: {path: /text, body: x}\n"
                               "frameworks:\n"
                               "  a: {}\n"
                               "  b: {spread: 2.5%, max_repeats: 7, client_bound_pct: 0.5}\n";
    struct cfg_matrix *m = NULL;
    struct err e;
    err_clear(&e);
    CHECK_INT(cfg_load_string("r.yaml", text, sizeof(text) - 1, &m, &e), ==, 0);
    if (!m)
        return;
    struct cfg_settings s;
    CHECK_INT(cfg_resolve(m, NULL, cfg_find_framework(m, "a"), &s, &e), ==, 0);
    CHECK_INT(s.repeats, ==, 0);
    CHECK_DBL(s.spread_pct, ==, 5);
    CHECK_INT(s.max_repeats, ==, 5);
    CHECK_DBL(s.client_bound_pct, ==, 90);
    CHECK_INT(cfg_resolve(m, NULL, cfg_find_framework(m, "b"), &s, &e), ==, 0);
    CHECK_DBL(s.spread_pct, ==, 2.5);
    CHECK_INT(s.max_repeats, ==, 7);
    CHECK_DBL(s.client_bound_pct, ==, 0.5);
    cfg_free(m);
}

/* Every entry documents itself: help text, a default (or its description), a form for
 * the keys parsed by their own function, and a default that parses when it is a value. */
static void check_table_docs(void)
{
    char path[128], msg[256];
    CHECK_INT(cfg_nkeys, >=, 60);
    for (size_t i = 0; i < cfg_nkeys; i++) {
        const struct cfg_key *k = &cfg_keys[i];
        cfg_key_path(k, path, sizeof path);
        if (!k->help || strlen(k->help) < 8 || !k->def || !k->def[0])
            T_FAIL("%s: no help text or default description", path);
        t_checks++;
        if (k->type == CFG_T_COMPOUND && (!k->parse || !k->syntax))
            T_FAIL("%s: a compound key needs its parser and a form", path);
        if (!(k->flags & CFG_K_DOC_DEF) && k->type != CFG_T_MAP && k->type != CFG_T_COMPOUND) {
            if (cfg_key_parse(k, path, k->def, NULL, msg, sizeof msg))
                T_FAIL("%s: default '%s' does not parse: %s", path, k->def, msg);
        }
        /* Each key is found by its own path, and by the paths of its other places. */
        CHECK(cfg_key_find(path) == k);
        for (size_t j = 0; j < i; j++)
            if (cfg_keys[j].scope == k->scope && !strcmp(cfg_keys[j].name, k->name))
                T_FAIL("%s: listed twice", path);
    }
    const struct cfg_key *k = cfg_key_find("profiles.quick.users.max");
    CHECK(k && k->scope == CFG_SCOPE_SETTINGS && !strcmp(k->name, "users.max"));
    k = cfg_key_find("frameworks.flask.workers");
    CHECK(k && k->scope == CFG_SCOPE_FRAMEWORK);
    k = cfg_key_find("frameworks.flask.think.pacing");
    CHECK(k && k->scope == CFG_SCOPE_SETTINGS);
    CHECK(cfg_key_find("payloads.json.length") == cfg_key_find("payloads.NAME.length"));
    CHECK(cfg_key_find("spawn_rate") == cfg_key_find("defaults.spawn_rate"));
    CHECK(cfg_key_find("cpus") == NULL); /* node.cpus or load.cpus */
    CHECK(cfg_key_find("defaults.durration") == NULL);
    const struct cfg_key *near[64];
    int close = 0;
    size_t n = cfg_key_suggest("defaults.durration", near, 64, &close);
    CHECK(n == 1 && close && near[0] == cfg_key_find("defaults.duration"));
    n = cfg_key_suggest("node.zzz", near, 64, &close);
    CHECK(!close && n >= 15 && near[0] == cfg_key_find("node.transport"));

    /* The built-in layer is the table's defaults. */
    struct cfg_matrix *m = NULL;
    struct err e;
    err_clear(&e);
    static const char min[] =
        "version: 1\npayloads: {t: {path: /t, body: x}}\nframeworks: {f: {}}\n";
    CHECK_INT(cfg_load_string("min.yaml", min, strlen(min), &m, &e), ==, 0);
    if (!m)
        return;
    struct cfg_settings s;
    CHECK_INT(cfg_resolve(m, NULL, &m->frameworks[0], &s, &e), ==, 0);
    CHECK_INT(s.duration_ms, ==, 60000);
    CHECK_INT(s.think.kind, ==, CFG_THINK_BETWEEN);
    CHECK_INT(s.think.max_ms, ==, 15000);
    CHECK_INT(s.users.max, ==, 10000);
    CHECK_INT(s.stop_when.failures, ==, 1);
    CHECK_DBL(s.spread_pct, ==, 5);
    CHECK_DBL(s.client_bound_pct, ==, 90);
    CHECK_INT(m->frameworks[0].workers, ==, 1);
    CHECK_INT(m->frameworks[0].system_site_packages, ==, -1);
    CHECK_STR(m->load_cpus, "0");
    cfg_free(m);
}

static bool numeric(const struct cfg_key *k)
{
    return k->type == CFG_T_INT || k->type == CFG_T_NUM || k->type == CFG_T_PCT ||
           k->type == CFG_T_DUR;
}

/* A value of k written as in a matrix; i for INT/DUR (ms), d for NUM/PCT. */
static void value_text(const struct cfg_key *k, long long i, double d, char *out, size_t n)
{
    if (k->type == CFG_T_INT)
        snprintf(out, n, "%lld", i);
    else if (k->type == CFG_T_DUR)
        snprintf(out, n, "%lldms", i);
    else if (k->type == CFG_T_PCT)
        snprintf(out, n, "%.3f%%", d);
    else
        snprintf(out, n, "%.3f", d);
}

/* A minimal matrix with `value` at k's place: "node: {pip: {args: V}}", ... */
static void matrix_with(const struct cfg_key *k, const char *value, char *out, size_t n)
{
    /* Every dot of the name is a level: held.users.start -> {held: {users: {start: V}}}. */
    char nested[256] = "";
    size_t len = 0, depth = 0;
    for (const char *p = k->name; len < sizeof nested - 8;) {
        const char *dot = strchr(p, '.');
        size_t seg = dot ? (size_t)(dot - p) : strlen(p);
        int w = snprintf(nested + len, sizeof nested - len, "{%.*s: ", (int)seg, p);
        len += w > 0 ? (size_t)w : 0;
        depth++;
        if (!dot)
            break;
        p = dot + 1;
    }
    snprintf(nested + len, sizeof nested - len, "%s", value);
    len = strlen(nested);
    while (depth-- && len + 1 < sizeof nested)
        nested[len++] = '}';
    nested[len] = '\0';
    const char *pay = "{t: {path: /t, body: x}}", *fw = "{f: {}}";
    char pbuf[300], fbuf[300];
    if (k->scope == CFG_SCOPE_PAYLOAD) {
        snprintf(pbuf, sizeof pbuf, "{t: {path: /t, %.*s}}", (int)strlen(nested) - 2, nested + 1);
        pay = pbuf;
    }
    if (k->scope == CFG_SCOPE_FRAMEWORK) {
        snprintf(fbuf, sizeof fbuf, "{f: %s}", nested);
        fw = fbuf;
    }
    const char *sec = k->scope == CFG_SCOPE_NODE       ? "node"
                      : k->scope == CFG_SCOPE_LOAD     ? "load"
                      : k->scope == CFG_SCOPE_SETTINGS ? "defaults"
                                                       : NULL;
    char extra[300] = "";
    if (sec)
        snprintf(extra, sizeof extra, "%s: %s\n", sec, nested);
    if (k->scope == CFG_SCOPE_ROOT)
        snprintf(out, n, "%s%s: %s\npayloads: %s\nframeworks: %s\n",
                 strcmp(k->name, "version") ? "version: 1\n" : "", k->name, value, pay, fw);
    else
        snprintf(out, n, "version: 1\n%spayloads: %s\nframeworks: %s\n", extra, pay, fw);
}

/* Just outside the range: rejected, by the table's parser and by the loader, with a
 * message naming the key and the range (or the limit it passed). */
static void check_outside(const struct cfg_key *k, const char *value, const char *bound)
{
    char path[128], msg[256], text[1024], full[128];
    cfg_key_path(k, path, sizeof path);
    int rc = cfg_key_parse(k, path, value, NULL, msg, sizeof msg);
    if (rc != -EINVAL || !strstr(msg, path) || !strstr(msg, bound))
        T_FAIL("%s = %s: rc %d, want -EINVAL and a message naming '%s': %s", path, value, rc, bound,
               msg);
    t_checks++;
    matrix_with(k, value, text, sizeof text);
    /* The path as the loader names it: the NAME of the test matrix. */
    snprintf(full, sizeof full, "%s", path);
    char *name = strstr(full, "NAME");
    if (name)
        memcpy(name, k->scope == CFG_SCOPE_PAYLOAD ? "t\0\0\0" : "f\0\0\0", 4);
    if (name)
        memmove(name + 1, name + 4, strlen(name + 4) + 1);
    struct cfg_matrix *m = NULL;
    struct err e;
    err_clear(&e);
    rc = cfg_load_string("edge.yaml", text, strlen(text), &m, &e);
    if (rc != -EINVAL || e.line < 1 || !strstr(e.msg, full) || !strstr(e.msg, bound))
        T_FAIL("%s = %s in a matrix: rc %d, %d:%d: %s\n%s", path, value, rc, e.line, e.col, e.msg,
               text);
    t_checks++;
    cfg_free(m);
}

/* Just inside: accepted and stored where the table says, as the value given. */
static void check_inside(const struct cfg_key *k, const char *value, long long i, double d)
{
    union {
        struct cfg_matrix m;
        struct cfg_node n;
        struct cfg_settings s;
        struct cfg_payload p;
        struct cfg_framework f;
    } u;
    memset(&u, 0, sizeof u);
    char path[128], msg[256];
    cfg_key_path(k, path, sizeof path);
    int rc = cfg_key_parse(k, path, value, &u, msg, sizeof msg);
    if (rc) {
        T_FAIL("%s = %s refused: %s", path, value, msg);
        return;
    }
    const char *at = (const char *)&u + k->offset;
    bool ok;
    if (k->type == CFG_T_INT && k->size == sizeof(int))
        ok = *(const int *)at == i;
    else if (k->type == CFG_T_INT || (k->type == CFG_T_DUR && !(k->flags & CFG_K_DOUBLE)))
        ok = *(const int64_t *)at == i;
    else if (k->type == CFG_T_DUR)
        ok = *(const double *)at == (double)i;
    else {
        double got = *(const double *)at, tol = 1e-9 * (d > 1 ? d : 1);
        ok = got > d - tol && got < d + tol;
    }
    if (!ok)
        T_FAIL("%s = %s: not stored at its field", path, value);
    t_checks++;
}

/* Table-driven edges of every numeric key, so a range cannot drift from its check. */
static int check_ranges(void)
{
    char v[64], bound[96];
    int keys = 0;
    for (size_t i = 0; i < cfg_nkeys; i++) {
        const struct cfg_key *k = &cfg_keys[i];
        if (!numeric(k) || !k->size)
            continue;
        keys++;
        if (k->type == CFG_T_INT || k->type == CFG_T_DUR) {
            cfg_key_range(k, bound, sizeof bound);
            if (k->type == CFG_T_INT || k->min > 0) { /* no negative duration to write */
                value_text(k, (long long)k->min - 1, 0, v, sizeof v);
                check_outside(k, v, bound);
            }
            value_text(k, (long long)k->min, 0, v, sizeof v);
            check_inside(k, v, (long long)k->min, 0);
            /* Every number has a real ceiling (issue 13): none is "any int64". */
            if (k->max == INT64_MAX || (k->size == sizeof(int) && k->max >= INT_MAX))
                T_FAIL("%s has no real maximum (%lld)", k->name, (long long)k->max);
            t_checks++;
            value_text(k, (long long)k->max + 1, 0, v, sizeof v);
            check_outside(k, v, bound);
            value_text(k, (long long)k->max, 0, v, sizeof v);
            check_inside(k, v, (long long)k->max, 0);
        } else {
            cfg_key_range(k, bound, sizeof bound);
            bool open = k->type == CFG_T_PCT || (k->flags & CFG_K_MIN_OPEN);
            double below = open ? k->fmin : k->fmin - 0.001, low = open ? k->fmin + 0.001 : k->fmin;
            value_text(k, 0, below, v, sizeof v);
            check_outside(k, v, bound);
            value_text(k, 0, low, v, sizeof v);
            check_inside(k, v, 0, low);
            if (k->fmax >= 1e9)
                T_FAIL("%s has no real maximum (%g)", k->name, k->fmax);
            t_checks++;
            value_text(k, 0, k->fmax + 0.001, v, sizeof v);
            check_outside(k, v, bound);
            value_text(k, 0, k->fmax, v, sizeof v);
            check_inside(k, v, 0, k->fmax);
        }
    }
    return keys;
}

static void check_select(const struct cfg_matrix *m)
{
    struct cfg_cell *cells = NULL;
    size_t n = 0;
    struct err e;

    const char *one[] = {"tornado/json"};
    err_clear(&e);
    CHECK_INT(cfg_select(m, one, 1, &cells, &n, &e), ==, 0);
    CHECK_INT(n, ==, 1);
    if (n == 1) {
        CHECK_STR(m->frameworks[cells[0].framework].name, "tornado");
        CHECK_STR(m->payloads[cells[0].payload].name, "json");
    }
    free(cells);

    /* Matrix order, framework-major, without duplicates. */
    const char *mixed[] = {"*/json", "flask/*", "tornado/json"};
    CHECK_INT(cfg_select(m, mixed, 3, &cells, &n, &e), ==, 0);
    CHECK_INT(n, ==, 3);
    if (n == 3) {
        CHECK(cells[0].framework == 0 && cells[0].payload == 0); /* flask/text */
        CHECK(cells[1].framework == 0 && cells[1].payload == 1); /* flask/json */
        CHECK(cells[2].framework == 1 && cells[2].payload == 1); /* tornado/json */
    }
    free(cells);

    const char *all[] = {"all"};
    CHECK_INT(cfg_select(m, all, 1, &cells, &n, &e), ==, 0);
    CHECK_INT(n, ==, 4);
    free(cells);
    const char *star[] = {"*", "flask/text"};
    CHECK_INT(cfg_select(m, star, 2, &cells, &n, &e), ==, 0);
    CHECK_INT(n, ==, 4);
    if (n == 4)
        CHECK(cells[3].framework == 1 && cells[3].payload == 1);
    free(cells);

    const char *bad1[] = {"flask"};
    err_clear(&e);
    CHECK_INT(cfg_select(m, bad1, 1, &cells, &n, &e), ==, -EINVAL);
    CHECK_CONTAINS(e.msg, "cell 'flask' must be FRAMEWORK/PAYLOAD");
    CHECK(cells == NULL && n == 0);

    const char *bad2[] = {"flask/json", "nope/json"};
    err_clear(&e);
    CHECK_INT(cfg_select(m, bad2, 2, &cells, &n, &e), ==, -EINVAL);
    CHECK_CONTAINS(e.msg, "no framework 'nope' in sel.yaml");
    CHECK_CONTAINS(e.msg, "(have: flask, tornado)");
    CHECK(cells == NULL);

    const char *bad3[] = {"flask/xml"};
    err_clear(&e);
    CHECK_INT(cfg_select(m, bad3, 1, &cells, &n, &e), ==, -EINVAL);
    CHECK_CONTAINS(e.msg, "no payload 'xml'");
    CHECK_CONTAINS(e.msg, "(have: text, json)");

    const char *bad4[] = {"flask/json/x"};
    err_clear(&e);
    CHECK_INT(cfg_select(m, bad4, 1, &cells, &n, &e), ==, -EINVAL);
    CHECK_CONTAINS(e.msg, "must be FRAMEWORK/PAYLOAD");
    const char *bad5[] = {"/json"};
    err_clear(&e);
    CHECK_INT(cfg_select(m, bad5, 1, &cells, &n, &e), ==, -EINVAL);
    err_clear(&e);
    CHECK_INT(cfg_select(m, NULL, 0, &cells, &n, &e), ==, -EINVAL);
}

static int check_fixture(const char *dir, const char *name)
{
    char path[1024], first[1024] = "";
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "r");
    CHECK(f != NULL);
    if (!f)
        return 0;
    if (!fgets(first, sizeof first, f))
        first[0] = '\0';
    fclose(f);
    first[strcspn(first, "\n")] = '\0';
    const char *tag = "# expect: ";
    if (strncmp(first, tag, strlen(tag)) != 0) {
        T_FAIL("%s: first line must be '# expect: LINE:COL: message'", path);
        return 0;
    }
    const char *want = first + strlen(tag);

    struct cfg_matrix *m = NULL;
    struct err e;
    err_clear(&e);
    int rc = cfg_load_file(path, &m, &e);
    /* What check also refuses on this machine: files a run reads (bad/ is the targets/). */
    if (rc == 0 && (rc = cfg_check_files(m, dir, &e)) != 0) {
        cfg_free(m);
        m = NULL;
    }
    if (rc != -EINVAL) {
        T_FAIL("%s: expected -EINVAL, got %d", path, rc);
        cfg_free(m);
        return 1;
    }
    CHECK(m == NULL);
    CHECK_STR(e.file, path);
    char full[1200];
    err_format(&e, full, sizeof full);
    size_t plen = strlen(path);
    const char *got = full;
    if (!strncmp(full, path, plen) && full[plen] == ':')
        got = full + plen + 1;
    size_t wl = strlen(want);
    int ok = (wl > 3 && !strcmp(want + wl - 3, "...")) ? !strncmp(got, want, wl - 3)
                                                       : !strcmp(got, want);
    t_checks++;
    if (!ok)
        T_FAIL("%s:\n  want: %s\n  got:  %s", name, want, got);
    return 1;
}

static int check_bad_dir(const char *dir)
{
    DIR *d = opendir(dir);
    CHECK(d != NULL);
    if (!d)
        return 0;
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        size_t l = strlen(de->d_name);
        if (l > 5 && !strcmp(de->d_name + l - 5, ".yaml"))
            n += check_fixture(dir, de->d_name);
    }
    closedir(d);
    return n;
}

/* A local node on "::1": the server listens where the load goes (node.listen defaults to
 * node.host), and a start template with its placeholders bare loads. */
static void check_ipv6_local(void)
{
    static const char text[] = "version: 1\n"
                               "node: {host: \"::1\"}\n"
                               "payloads:\n"
                               "  text: {path: /text, body: hi}\n"
                               "frameworks:\n"
                               "  app: {dir: ./d, start: \"cd {workdir} && {python} x.py\"}\n";
    struct cfg_matrix *m = NULL;
    struct err e;
    err_clear(&e);
    CHECK_INT(cfg_load_string("v6.yaml", text, sizeof(text) - 1, &m, &e), ==, 0);
    if (!m)
        return;
    CHECK_STR(m->node.host, "::1");
    CHECK_STR(m->node.listen, "::1");
    cfg_free(m);
}

/* The files check looks at are found as a run finds them: body_file absolute or in the
 * targets/ folder (unchecked without one), dir beside the matrix. */
static void check_files_ok(const char *matrix, const char *bad_dir)
{
    char text[4096];
    snprintf(text, sizeof text,
             "version: 1\n"
             "payloads:\n"
             "  abs: {path: /a, body_file: \"%s\"}\n"
             "  rel: {path: /r, body_file: empty.yaml}\n"
             "frameworks:\n"
             "  mine: {dir: \"%s\", start: \"{python} {dir}/app.py\"}\n"
             "  here: {dir: ., start: \"{python} {dir}/app.py\"}\n",
             matrix, bad_dir);
    struct cfg_matrix *m = NULL;
    struct err e;
    err_clear(&e);
    CHECK_INT(cfg_load_string("files.yaml", text, strlen(text), &m, &e), ==, 0);
    if (!m)
        return;
    CHECK_INT(cfg_check_files(m, bad_dir, &e), ==, 0);
    CHECK_INT(cfg_check_files(m, NULL, &e), ==, 0);
    CHECK_INT(cfg_check_files(m, "/nonexistent", &e), ==, -EINVAL);
    CHECK_STR(e.file, "files.yaml");
    CHECK_INT(e.line, ==, 4);
    CHECK_CONTAINS(e.msg, "payloads.rel.body_file: empty.yaml: No such file or directory");
    char path[256];
    CHECK_STR(cfg_body_file_path(&m->payloads[1], "/t", path, sizeof path), "/t/empty.yaml");
    CHECK_STR(cfg_framework_dir_path(m, &m->frameworks[1], path, sizeof path), "./.");
    cfg_free(m);
}

/* The three venv modes, a framework's own interpreter and its Python bound (issue 22). */
static void check_venv_modes(void)
{
    static const char text[] =
        "version: 1\n"
        "node: {system_site_packages: with_pip}\n"
        "payloads:\n"
        "  text: {path: /text, body: hi}\n"
        "frameworks:\n"
        "  a: {}\n"
        "  b: {system_site_packages: no}\n"
        "  c: {system_site_packages: true, python: /opt/py37/bin/python3.7,\n"
        "      requires_python: \" >=3.5 ,<=3.7 \"}\n";
    struct cfg_matrix *m = NULL;
    struct err e;
    err_clear(&e);
    CHECK_INT(cfg_load_string("venv.yaml", text, sizeof(text) - 1, &m, &e), ==, 0);
    if (!m)
        return;
    CHECK_INT(m->node.system_site_packages, ==, CFG_VENV_SYSTEM_PIP);
    CHECK_INT(m->frameworks[0].system_site_packages, ==, -1);
    CHECK(m->frameworks[0].python == NULL && m->frameworks[0].requires_python == NULL);
    CHECK_INT(m->frameworks[1].system_site_packages, ==, CFG_VENV_PIP);
    CHECK_INT(m->frameworks[2].system_site_packages, ==, CFG_VENV_SYSTEM);
    CHECK_STR(m->frameworks[2].python, "/opt/py37/bin/python3.7");
    CHECK_STR(m->frameworks[2].requires_python, " >=3.5 ,<=3.7 ");
    cfg_free(m);

    struct cfg_py_clause cl[CFG_PY_MAX_CLAUSES];
    char msg[200];
    CHECK_INT(cfg_requires_python_parse(" >=3.5 ,<=3.7 ", cl, msg, sizeof msg), ==, 2);
    CHECK_STR(cl[0].op, ">=");
    CHECK_INT(cl[0].nv, ==, 2);
    CHECK_INT(cl[0].v[1], ==, 5);
    CHECK_STR(cl[1].op, "<=");
    CHECK_INT(cl[1].v[0], ==, 3);
    CHECK_INT(cl[1].v[1], ==, 7);
    CHECK_INT(cfg_requires_python_parse("!=3.11.2", cl, msg, sizeof msg), ==, 1);
    CHECK_INT(cl[0].nv, ==, 3);
    CHECK_INT(cl[0].v[2], ==, 2);
    CHECK_INT(cfg_requires_python_parse("<3", cl, msg, sizeof msg), ==, 1);
    CHECK_INT(cfg_requires_python_parse("", cl, msg, sizeof msg), ==, -EINVAL);
    CHECK_INT(cfg_requires_python_parse("<=3.7,", cl, msg, sizeof msg), ==, -EINVAL);
    CHECK_INT(cfg_requires_python_parse("<=3.7.1.2", cl, msg, sizeof msg), ==, -EINVAL);
    CHECK_INT(cfg_requires_python_parse("<=3.7;", cl, msg, sizeof msg), ==, -EINVAL);
    CHECK_INT(cfg_requires_python_parse(">1,>1,>1,>1,>1", cl, msg, sizeof msg), ==, -EINVAL);
    CHECK_INT(cfg_requires_python_parse("<=9999999", cl, msg, sizeof msg), ==, -EINVAL);
}

/* node.slurm (issue 23): given values, the defaults, args kept item by item. */
static void check_slurm(void)
{
    static const char text[] = "version: 1\n"
                               "node:\n"
                               "  transport: slurm\n"
                               "  slurm:\n"
                               "    partition: bench\n"
                               "    time_limit: 90s\n"
                               "    max_parallel: 8\n"
                               "    args: [\"--constraint=epyc\", \"--comment=a b; rm -rf /\"]\n"
                               "    mfbench: /shared/bin/mfbench\n"
                               "payloads:\n"
                               "  text: {path: /text, body: x}\n"
                               "frameworks:\n"
                               "  flask: {}\n";
    struct cfg_matrix *m = NULL;
    struct err e;
    err_clear(&e);
    CHECK_INT(cfg_load_string("slurm.yaml", text, strlen(text), &m, &e), ==, 0);
    if (m) {
        const struct cfg_slurm *s = &m->node.slurm;
        CHECK_INT(m->node.transport, ==, CFG_TRANSPORT_SLURM);
        CHECK_STR(s->partition, "bench");
        CHECK_INT(s->time_limit_ms, ==, 90000);
        CHECK_INT(s->max_parallel, ==, 8);
        CHECK_INT(s->nargs, ==, 2);
        if (s->nargs == 2) {
            CHECK_STR(s->args[0], "--constraint=epyc");
            CHECK_STR(s->args[1], "--comment=a b; rm -rf /");
            CHECK(s->args[2] == NULL);
        }
        CHECK_STR(s->mfbench, "/shared/bin/mfbench");
        cfg_free(m);
    }
    static const char bare[] = "version: 1\n"
                               "node: {transport: slurm}\n"
                               "payloads:\n"
                               "  text: {path: /text, body: x}\n"
                               "frameworks:\n"
                               "  flask: {}\n";
    m = NULL;
    CHECK_INT(cfg_load_string("bare.yaml", bare, strlen(bare), &m, &e), ==, 0);
    if (m) {
        const struct cfg_slurm *s = &m->node.slurm;
        CHECK_INT(m->node.transport, ==, CFG_TRANSPORT_SLURM);
        CHECK(s->partition == NULL);
        CHECK_INT(s->time_limit_ms, ==, 30 * 60 * 1000);
        CHECK_INT(s->max_parallel, ==, 1);
        CHECK_INT(s->nargs, ==, 0);
        CHECK(s->mfbench == NULL);
        cfg_free(m);
    }
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s MATRIX.yaml BAD_DIR\n", argv[0]);
        return 2;
    }
    struct cfg_matrix *m = NULL;
    struct err e;
    err_clear(&e);
    int rc = cfg_load_file(argv[1], &m, &e);
    CHECK_INT(rc, ==, 0);
    if (rc == 0) {
        CHECK_STR(m->path, argv[1]);
        CHECK_INT(strlen(m->sha256), ==, 64);
        check_seed(m);

        /* The embedded default is the same file: same values, same hash. */
        struct cfg_matrix *d = NULL;
        CHECK_INT(
            cfg_load_string("<embedded>", cfg_default_matrix, strlen(cfg_default_matrix), &d, &e),
            ==, 0);
        if (d) {
            CHECK_STR(d->path, "<embedded>");
            CHECK_STR(d->dir, ".");
            CHECK_STR(d->sha256, m->sha256);
            check_seed(d);
            cfg_free(d);
        }
        cfg_free(m);
    } else {
        fprintf(stderr, "  %s:%d:%d: %s\n", e.file, e.line, e.col, e.msg);
    }

    check_layers();
    check_ipv6_local();
    check_repeat_keys();
    check_slurm();
    check_table_docs();
    int nranges = check_ranges();
    CHECK_INT(nranges, >=, 25);
    fprintf(stderr, "%d numeric keys checked at their edges\n", nranges);

    /* Selection on a small matrix of its own, so the shipped one can grow. */
    static const char sel[] = "version: 1\n"
                              "payloads:\n"
                              "  text: {path: /text, body: x}\n"
                              "  json: {path: /json, body: y}\n"
                              "frameworks:\n"
                              "  flask: {}\n"
                              "  tornado: {}\n";
    struct cfg_matrix *sm = NULL;
    err_clear(&e);
    CHECK_INT(cfg_load_string("sel.yaml", sel, strlen(sel), &sm, &e), ==, 0);
    if (sm) {
        check_select(sm);
        cfg_free(sm);
    }

    /* A missing file. */
    err_clear(&e);
    m = (struct cfg_matrix *)&e; /* must be reset to NULL */
    CHECK_INT(cfg_load_file("/nonexistent/matrix.yaml", &m, &e), ==, -ENOENT);
    CHECK(m == NULL);
    CHECK_STR(e.msg, "/nonexistent/matrix.yaml: No such file or directory");

    /* Embedded text with a NUL byte inside is a YAML error, not a crash. */
    err_clear(&e);
    CHECK_INT(cfg_load_string("nul", "version: 1\0x", 12, &m, &e), ==, -EINVAL);

    /* 100 KB of nested '[' (libyaml is quadratic there: 26 s once) is refused by
     * the loader's pre-scan at the 65th level, in well under a second; 64 levels
     * in a comment or a quoted string are no nesting at all. */
    {
        size_t deep = 100 * 1024;
        char *text = malloc(deep + 16);
        CHECK(text != NULL);
        if (text) {
            memcpy(text, "x: ", 3);
            memset(text + 3, '[', deep);
            text[deep + 3] = '\n';
            struct timespec t0, t1;
            clock_gettime(CLOCK_MONOTONIC, &t0);
            err_clear(&e);
            CHECK_INT(cfg_load_string("deep.yaml", text, deep + 4, &m, &e), ==, -EINVAL);
            clock_gettime(CLOCK_MONOTONIC, &t1);
            double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
            CHECK(secs < 0.5);
            CHECK_INT(e.line, ==, 1);
            CHECK_INT(e.col, ==, 3 + 65);
            CHECK_STR(e.msg, "nesting deeper than 64 levels");
            free(text);
        }
        char quoted[400];
        char br[100];
        memset(br, '[', 80);
        br[80] = '\0';
        snprintf(quoted, sizeof quoted, "# %s\nx: '%s'\ny: \"%s\"\n", br, br, br);
        err_clear(&e);
        m = NULL;
        rc = cfg_load_string("quoted.yaml", quoted, strlen(quoted), &m, &e);
        CHECK(rc != 0 && !strstr(e.msg, "nesting"));
        cfg_free(m);
        m = NULL;
    }

    /* DESIGN.md's sketch loads too (good/ is beside bad/). */
    char design[1024];
    snprintf(design, sizeof design, "%s/../good/design.yaml", argv[2]);
    err_clear(&e);
    rc = cfg_load_file(design, &m, &e);
    CHECK_INT(rc, ==, 0);
    if (rc == 0) {
        const struct cfg_payload *json = cfg_find_payload(m, "json");
        const struct cfg_framework *mine = cfg_find_framework(m, "mine");
        CHECK(json && json->length == 106 && json->body == NULL);
        CHECK(mine && mine->server == NULL && mine->start && !strcmp(mine->dir, "./my-target"));
        const struct cfg_framework *dj = cfg_find_framework(m, "django");
        CHECK(dj && dj->workers == 1);
        CHECK_STR(m->dir + strlen(m->dir) - 4, "good");
        cfg_free(m);
    } else {
        fprintf(stderr, "  %s:%d:%d: %s\n", e.file, e.line, e.col, e.msg);
    }

    check_venv_modes();
    check_files_ok(argv[1], argv[2]);
    int n = check_bad_dir(argv[2]);
    CHECK_INT(n, >=, 20);
    fprintf(stderr, "%d bad matrices checked\n", n);
    T_DONE();
}
