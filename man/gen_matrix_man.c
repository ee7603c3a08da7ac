/* gen_matrix_man.c - writes mfbench-matrix(5) at build time: copies the hand-written
 * page, fills @VERSION@, and replaces each marker line `.\" @KEYS SCOPE@` (and
 * `.\" @SYNOPSIS@`) with the loader's key table as troff, so the page cannot drift.
 * Usage: gen_matrix_man IN OUT VERSION */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "config.h"

/* Text for troff: backslashes escaped, hyphens as \- (they are often options), double
 * quotes as \(dq (names sit in quoted .BR arguments). */
static void put_text(FILE *out, const char *s)
{
    for (; *s; s++) {
        if (*s == '\\')
            fputs("\\e", out);
        else if (*s == '-')
            fputs("\\-", out);
        else if (*s == '"')
            fputs("\\(dq", out);
        else
            fputc(*s, out);
    }
}

static const char *scope_name[] = {
    [CFG_SCOPE_ROOT] = "root",         [CFG_SCOPE_NODE] = "node",
    [CFG_SCOPE_LOAD] = "load",         [CFG_SCOPE_SETTINGS] = "settings",
    [CFG_SCOPE_PAYLOAD] = "payload",   [CFG_SCOPE_FRAMEWORK] = "framework",
    [CFG_SCOPE_DATABASE] = "database",
};

/* One .TP entry per key of the scope: name (default), then type, range, help. */
static void put_keys(FILE *out, enum cfg_scope scope)
{
    char range[96];
    for (size_t i = 0; i < cfg_nkeys; i++) {
        const struct cfg_key *k = &cfg_keys[i];
        if (k->scope != scope)
            continue;
        fputs(".TP\n.BR ", out);
        put_text(out, k->name);
        fputs(" \" (", out);
        put_text(out, k->def);
        fputs(")\"\n\\&\\fI", out);
        put_text(out, cfg_key_type(k));
        fputs("\\fR", out);
        if (k->syntax) {
            fputs(": \\fB", out);
            put_text(out, k->syntax);
            fputs("\\fR", out);
        }
        cfg_key_range(k, range, sizeof range);
        if (range[0]) {
            fputs(", ", out);
            put_text(out, range);
        }
        if (k->flags & CFG_K_REQUIRED)
            fputs(", required", out);
        fputs(".\n", out);
        put_text(out, k->help);
        fputc('\n', out);
    }
}

/* "node: {transport, host, ...}" for each top-level section. */
static void put_synopsis(FILE *out)
{
    fputs(".nf\n", out);
    for (size_t i = 0; i < cfg_nkeys; i++) {
        const struct cfg_key *k = &cfg_keys[i];
        if (k->scope != CFG_SCOPE_ROOT)
            continue;
        fprintf(out, "%-12s", k->name);
        put_text(out, k->type == CFG_T_MAP && k->syntax ? k->syntax : "1");
        fputc('\n', out);
    }
    fputs(".fi\n", out);
}

static int generate(FILE *in, FILE *out, const char *version)
{
    char line[4096];
    int markers = 0;
    while (fgets(line, sizeof line, in)) {
        char scope[32];
        if (!strcmp(line, ".\\\" @SYNOPSIS@\n")) {
            put_synopsis(out);
            markers++;
            continue;
        }
        if (sscanf(line, ".\\\" @KEYS %31[a-z]@", scope) == 1) {
            size_t s = 0;
            while (s < sizeof scope_name / sizeof scope_name[0] && strcmp(scope_name[s], scope))
                s++;
            if (s == sizeof scope_name / sizeof scope_name[0]) {
                fprintf(stderr, "gen_matrix_man: unknown scope in marker: %s", line);
                return -EINVAL;
            }
            put_keys(out, (enum cfg_scope)s);
            markers++;
            continue;
        }
        for (const char *p = line; *p;) {
            const char *at = strstr(p, "@VERSION@");
            if (!at) {
                fputs(p, out);
                break;
            }
            fwrite(p, 1, (size_t)(at - p), out);
            fputs(version, out);
            p = at + strlen("@VERSION@");
        }
    }
    if (markers == 0) {
        fprintf(stderr, "gen_matrix_man: no @KEYS SCOPE@ marker in the input\n");
        return -EINVAL;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: %s IN OUT VERSION\n", argv[0]);
        return 2;
    }
    FILE *in = fopen(argv[1], "r");
    if (!in) {
        perror(argv[1]);
        return 1;
    }
    FILE *out = fopen(argv[2], "w");
    if (!out) {
        perror(argv[2]);
        fclose(in);
        return 1;
    }
    int rc = generate(in, out, argv[3]);
    fclose(in);
    if (fclose(out) != 0 || rc) {
        remove(argv[2]);
        return 1;
    }
    return 0;
}
