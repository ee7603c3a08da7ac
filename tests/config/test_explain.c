/* test_explain.c - `mfbench check --explain` through the real front end (cli_main): a
 * key's path, type, default, range and help; the list of all keys; an unknown key is
 * exit 2 with close matches. Also: the generated mfbench-matrix(5) documents every key.
 * Usage: test_explain MAN_PAGE */
#include "cli.h"
#include "config.h"
#include "t.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Runs mfbench ARGS... with stdout and stderr into strings (caller frees both). */
static int run(const char **args, char **out, char **errout)
{
    char *argv[16];
    int argc = 0;
    argv[argc++] = (char *)"mfbench";
    while (args[argc - 1] && argc < 15) {
        argv[argc] = (char *)args[argc - 1];
        argc++;
    }
    argv[argc] = NULL;
    fflush(stdout);
    fflush(stderr);
    FILE *fo = tmpfile(), *fe = tmpfile();
    if (!fo || !fe)
        abort();
    int so = dup(1), se = dup(2);
    dup2(fileno(fo), 1);
    dup2(fileno(fe), 2);
    int rc = cli_main(argc, argv);
    fflush(stdout);
    fflush(stderr);
    dup2(so, 1);
    dup2(se, 2);
    close(so);
    close(se);
    char **dst[2] = {out, errout};
    FILE *src[2] = {fo, fe};
    for (int i = 0; i < 2; i++) {
        fseek(src[i], 0, SEEK_END);
        long len = ftell(src[i]);
        rewind(src[i]);
        *dst[i] = calloc((size_t)len + 1, 1);
        if (!*dst[i] || fread(*dst[i], 1, (size_t)len, src[i]) != (size_t)len)
            abort();
        fclose(src[i]);
    }
    return rc;
}

static void check_explain(void)
{
    char *out, *err;
    const char *a1[] = {"check", "--explain", "node.server_port", NULL};
    CHECK_INT(run(a1, &out, &err), ==, CLI_OK);
    CHECK_STR(out, "key:     node.server_port\n"
                   "type:    integer\n"
                   "default: 8000\n"
                   "range:   in [1, 65535]\n"
                   "help:    Port the server listens on.\n");
    free(out);
    free(err);

    /* A settings key under a profile's name; its other places are named. */
    const char *a2[] = {"check", "--explain", "profiles.quick.users.max", NULL};
    CHECK_INT(run(a2, &out, &err), ==, CLI_OK);
    CHECK_CONTAINS(out, "key:     defaults.users.max (also profiles.NAME.users.max, "
                        "frameworks.NAME.users.max)\n");
    CHECK_CONTAINS(out, "default: 10000\n");
    CHECK_CONTAINS(out, "range:   in [1, 1000000]\n");
    free(out);
    free(err);

    const char *a3[] = {"check", "-e", "think", NULL};
    CHECK_INT(run(a3, &out, &err), ==, CLI_OK);
    CHECK_CONTAINS(out, "form:    {min: D, max: D} | {constant: D} | {pacing: D} | D\n");
    CHECK_CONTAINS(out, "default: {min: 5s, max: 15s}\n");
    free(out);
    free(err);

    /* A dotted name without its section, as the README writes it. */
    const char *a9[] = {"check", "--explain", "held.max_offered", NULL};
    CHECK_INT(run(a9, &out, &err), ==, CLI_OK);
    CHECK_CONTAINS(out, "key:     defaults.held.max_offered (also profiles.NAME.held.max_offered");
    free(out);
    free(err);

    /* Unknown: exit 2, the close match on stderr, nothing on stdout. */
    const char *a4[] = {"check", "--explain", "frameworks.flask.worker", NULL};
    CHECK_INT(run(a4, &out, &err), ==, CLI_USAGE);
    CHECK_STR(out, "");
    CHECK_CONTAINS(err, "unknown key 'frameworks.flask.worker'; close matches: "
                        "frameworks.NAME.workers\n");
    free(out);
    free(err);
    /* Control and high bytes of the key come back escaped, never raw (issue 25). */
    const char *a10[] = {"check", "--explain", "node.\x1b[31mho\xffst\\", NULL};
    CHECK_INT(run(a10, &out, &err), ==, CLI_USAGE);
    CHECK_CONTAINS(err, "unknown key 'node.\\x1b[31mho\\xffst\\\\'");
    CHECK(strchr(err, 0x1b) == NULL);
    CHECK(strchr(err, (char)0xff) == NULL);
    free(out);
    free(err);
    const char *a5[] = {"check", "--explain", "node.hostnames", NULL};
    CHECK_INT(run(a5, &out, &err), ==, CLI_USAGE);
    CHECK_CONTAINS(err, "keys there: node.transport, node.host, node.port,");
    free(out);
    free(err);

    /* Without a key: every key, one a line, with a short help. */
    const char *a6[] = {"check", "--explain", NULL};
    CHECK_INT(run(a6, &out, &err), ==, CLI_OK);
    size_t lines = 0;
    for (const char *p = out; (p = strchr(p, '\n')) != NULL; p++)
        lines++;
    CHECK_INT(lines, ==, cfg_nkeys);
    CHECK_CONTAINS(out, "\nnode.pip.index_url                    pip --index-url\n");
    CHECK_CONTAINS(out, "\ndefaults.pipeline                     HTTP/1.1 requests in flight per "
                        "connection\n");
    free(out);
    free(err);

    const char *a7[] = {"check", "--help", NULL};
    CHECK_INT(run(a7, &out, &err), ==, CLI_OK);
    CHECK_CONTAINS(out, "--explain [KEY]");
    free(out);
    free(err);
}

/* Each key of the table has its entry in the generated page (".BR name ..."). */
static void check_man(const char *page)
{
    FILE *f = fopen(page, "r");
    CHECK(f != NULL);
    if (!f)
        return;
    static char text[1 << 17];
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    CHECK(strstr(text, "@VERSION@") == NULL && strstr(text, "@KEYS") == NULL);
    CHECK_CONTAINS(text, "mfbench " MFBENCH_VERSION);
    /* As many entries of each name as the table has keys of that name (cpus: node, load). */
    for (size_t i = 0; i < cfg_nkeys; i++) {
        char want[128];
        snprintf(want, sizeof want, "\n.BR %s \" (", cfg_keys[i].name);
        size_t keys = 0, entries = 0;
        for (size_t j = 0; j < cfg_nkeys; j++)
            keys += !strcmp(cfg_keys[j].name, cfg_keys[i].name);
        for (const char *p = text; (p = strstr(p, want)) != NULL; p++)
            entries++;
        t_checks++;
        if (entries != keys)
            T_FAIL("%s: %zu entries for key '%s', want %zu", page, entries, cfg_keys[i].name, keys);
    }
    CHECK_CONTAINS(text, ".BR port \" (22)\"\n\\&\\fIinteger\\fR, in [1, 65535].\nSSH port.\n");
}

/* check warns where a profile's SLO floor is below the least rate at which a probe
 * can pass (459 samples for p99 at 99%: 230 req/s with 2 s windows), and only there. */
static void check_slo_floor(void)
{
    char dir[] = "/tmp/mfbench-explain-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char path[64];
    snprintf(path, sizeof path, "%s/m.yaml", dir);
    const char *floors[] = {"100", "230"};
    for (int i = 0; i < 2; i++) {
        FILE *f = fopen(path, "w");
        CHECK(f != NULL);
        fprintf(f,
                "version: 1\n"
                "node: {transport: local, cpus: \"1\"}\n"
                "load: {cpus: \"0\"}\n"
                "payloads:\n  text: {path: /text, body: \"Hello World!\"}\n"
                "frameworks:\n  flask: {server: werkzeug}\n"
                "profiles:\n"
                "  fast: {slo: {p99: 25ms, min_rps: %s, window: {min: 1s, max: 2s}, "
                "samples: 2000}}\n"
                "  long: {slo: {p99: 25ms, min_rps: 25}}\n",
                floors[i]);
        fclose(f);
        char *out, *err;
        const char *a[] = {"check", "-m", path, NULL};
        CHECK_INT(run(a, &out, &err), ==, CLI_OK);
        if (i == 0) {
            CHECK_CONTAINS(out, "warning: profile fast (flask): slo.min_rps 100 is below 230 "
                                "req/s, the least rate at which a probe can pass: the "
                                "early-stopping rule needs 459 samples and a probe at 100 req/s "
                                "holds at most 200");
            CHECK_CONTAINS(out, "raise slo.min_rps to 230 or slo.window.max to 5s");
        } else {
            CHECK(strstr(out, "warning: profile") == NULL);
        }
        CHECK(strstr(out, "warning: profile long") == NULL); /* 25 x 20 s = 500 */
        free(out);
        free(err);
    }
    unlink(path);
    rmdir(dir);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s MAN_PAGE\n", argv[0]);
        return 2;
    }
    check_explain();
    check_slo_floor();
    check_man(argv[1]);
    T_DONE();
}
