/* cmd_check.c - `mfbench check`: validate a matrix; errors as FILE:LINE:COL. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "config.h"

static const char check_usage[] =
    "usage: mfbench check [-m FILE] [-p PROFILE]\n"
    "\n"
    "Validates a matrix and prints what it would run. Errors are printed on stderr as\n"
    "FILE:LINE:COL: message, and the exit status is 2.\n"
    "\n"
    "  -m, --matrix FILE    the matrix (default: $MFBENCH_MATRIX, else the built-in one)\n"
    "  -p, --profile NAME   also resolve every framework under this profile\n"
    "  -h, --help           this text\n";

int cli_cmd_check(int argc, char **argv)
{
    static const struct option opts[] = {{"matrix", required_argument, NULL, 'm'},
                                         {"profile", required_argument, NULL, 'p'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *path = NULL, *profile = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "m:p:h", opts, NULL)) != -1) {
        switch (c) {
        case 'm':
            path = optarg;
            break;
        case 'p':
            profile = optarg;
            break;
        case 'h':
            fputs(check_usage, stdout);
            return CLI_OK;
        default:
            fputs(check_usage, stderr);
            return CLI_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "mfbench check: unexpected argument '%s'\n%s", argv[optind], check_usage);
        return CLI_USAGE;
    }
    struct cfg_matrix *m = NULL;
    int rc = cli_load_matrix(path, &m);
    if (rc)
        return rc;
    struct err e;
    err_clear(&e);
    for (size_t i = 0; i < m->nframeworks; i++) {
        struct cfg_settings st;
        if (cfg_resolve(m, profile, &m->frameworks[i], &st, &e)) {
            cli_print_err(&e);
            cfg_free(m);
            return CLI_USAGE;
        }
    }
    printf("%s: ok: %zu frameworks x %zu payloads = %zu cells, node %s", m->path, m->nframeworks,
           m->npayloads, m->nframeworks * m->npayloads,
           m->node.transport == CFG_TRANSPORT_SSH ? "ssh" : "local");
    if (m->node.transport == CFG_TRANSPORT_SSH)
        printf(" %s@%s:%d", m->node.user, m->node.host, m->node.port);
    printf("\nprofiles:");
    for (size_t i = 0; i < m->nprofiles; i++)
        printf(" %s", m->profiles[i].name);
    printf("%s\n", m->nprofiles ? "" : " (none)");
    cfg_free(m);
    return CLI_OK;
}
