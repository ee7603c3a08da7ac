/* test_config.c - the matrix loader: the repository's matrix.yaml and the embedded
 * default load with the expected values, layers resolve in order, cell patterns
 * select the right cells, and every fixture in bad/ fails with its exact message.
 * Usage: test_config MATRIX.yaml BAD_DIR
 * A fixture's first line is "# expect: LINE:COL: message"; the loader's formatted
 * error, without the leading "FILE:", must equal it (or, when the expectation ends
 * with "...", start with it). */
#include "config.h"
#include "t.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>

static void check_seed(const struct cfg_matrix *m)
{
    CHECK_INT(m->version, ==, 1);
    CHECK_INT(m->node.transport, ==, CFG_TRANSPORT_LOCAL);
    CHECK_STR(m->node.host, "127.0.0.1");
    CHECK_STR(m->node.listen, "127.0.0.1");
    CHECK_INT(m->node.port, ==, 22);
    CHECK_STR(m->node.workdir, "/tmp/mfbench-node");
    CHECK_STR(m->node.cpus, "1");
    CHECK_INT(m->node.nofile, ==, 999999);
    CHECK_STR(m->node.python, "/usr/bin/python3");
    CHECK_INT(m->node.server_port, ==, 8000);
    CHECK_INT(m->node.system_site_packages, ==, 1);
    CHECK_INT(m->node.command_timeout_ms, ==, 120000);
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

    struct err e;
    err_clear(&e);
    struct cfg_settings s;
    CHECK_INT(cfg_resolve(m, "quick", flask, &s, &e), ==, 0);
    CHECK_INT(s.duration_ms, ==, 2000);
    CHECK_INT(s.warmup_ms, ==, 500);
    CHECK_INT(s.users.start, ==, 10);
    CHECK_INT(s.users.step, ==, 10);
    CHECK_INT(s.users.max, ==, 50);
    CHECK_INT(s.think.min_ms, ==, 0);
    CHECK_INT(s.think.max_ms, ==, 0);
    CHECK_DBL(s.spawn_rate, ==, 100);
    CHECK_INT(s.timeout_ms, ==, 10000);       /* from matrix defaults */
    CHECK_INT(s.ready_timeout_ms, ==, 30000); /* built in */
    CHECK_INT(s.pipeline, ==, 1);

    CHECK_INT(cfg_resolve(m, NULL, flask, &s, &e), ==, 0);
    CHECK_INT(s.duration_ms, ==, 60000);
    CHECK_INT(s.users.start, ==, 500);

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
    check_repeat_keys();

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

    int n = check_bad_dir(argv[2]);
    CHECK_INT(n, >=, 20);
    fprintf(stderr, "%d bad matrices checked\n", n);
    T_DONE();
}
