/* util.c - pieces the subcommands share: error printing, matrix and store
 * opening by DESIGN.md's rules, run ids. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "config.h"
#include "store.h"

/* The most `-m -` reads from stdin: the loader's own cap (config.c). */
#define CLI_MATRIX_STDIN_MAX (1 << 20)

void cli_print_err(const struct err *e)
{
    char msg[2048];
    err_format(e, msg, sizeof(msg));
    /* Input errors already start with FILE:LINE:COL, the form editors jump to. */
    if (e->file[0] && e->line > 0)
        fprintf(stderr, "%s\n", msg);
    else
        fprintf(stderr, "mfbench: %s\n", msg);
}

int cli_load_matrix(const char *path, struct cfg_matrix **m)
{
    struct err e;
    err_clear(&e);
    if (!path) {
        const char *env = getenv("MFBENCH_MATRIX");
        if (env && *env)
            path = env;
    }
    int rc;
    if (path && strcmp(path, "-") == 0) {
        /* From stdin (a pipe, a here-document): the loader's cap holds, plus one
         * byte so a larger text is refused by it rather than cut. */
        struct buf b;
        char tmp[65536];
        size_t n;
        buf_init(&b, CLI_MATRIX_STDIN_MAX + 1);
        rc = 0;
        while (!rc && (n = fread(tmp, 1, sizeof(tmp), stdin)) > 0)
            rc = buf_append(&b, tmp, n);
        if (rc == -E2BIG)
            rc = err_set(&e, -EINVAL, "<stdin>: larger than %d bytes", CLI_MATRIX_STDIN_MAX);
        else if (rc)
            rc = err_set(&e, rc, "<stdin>: %s", strerror(-rc));
        else if (ferror(stdin))
            rc = err_set(&e, -EIO, "<stdin>: read error");
        else
            rc = cfg_load_string("<stdin>", b.data ? b.data : "", b.len, m, &e);
        buf_free(&b);
    } else {
        rc = path ? cfg_load_file(path, m, &e)
                  : cfg_load_string("<embedded>", cfg_default_matrix, strlen(cfg_default_matrix), m,
                                    &e);
    }
    if (rc) {
        cli_print_err(&e);
        return CLI_USAGE;
    }
    return CLI_OK;
}

static int open_store(const char *path, struct store **s, int reader)
{
    char p[4096];
    struct err e;
    err_clear(&e);
    if (!store_default_path(path, p, sizeof(p))) {
        fprintf(stderr, "mfbench: no store path: pass --store DB or set $MFBENCH_STORE\n");
        return CLI_USAGE;
    }
    /* A folder the user named is never created: a typo would hide the results. */
    if (store_path_check(p, store_path_is_default(path), &e) != 0 && !reader) {
        cli_print_err(&e);
        return CLI_USAGE;
    }
    err_clear(&e);
    if (reader ? store_open_reader(p, s, &e) : store_open(p, s, &e)) {
        cli_print_err(&e);
        return CLI_FAILED;
    }
    return CLI_OK;
}

int cli_open_store(const char *path, struct store **s)
{
    return open_store(path, s, 0);
}

int cli_open_store_reader(const char *path, struct store **s)
{
    return open_store(path, s, 1);
}

int cli_parse_run_id(struct store *s, const char *arg, int64_t *id)
{
    struct err e;
    err_clear(&e);
    if (strcmp(arg, "last") == 0 || strcmp(arg, "latest") == 0) {
        if (store_last_run(s, id, &e)) {
            fprintf(stderr, "mfbench: the store has no runs yet\n");
            return CLI_FAILED;
        }
        return CLI_OK;
    }
    if (parse_i64(arg, 1, INT64_MAX, id)) {
        fprintf(stderr, "mfbench: '%s' is not a run id (a positive number, or 'last')\n", arg);
        return CLI_USAGE;
    }
    return CLI_OK;
}
