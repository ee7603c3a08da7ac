/* dispatch.c - mfbench's command table: cli_main() picks the subcommand in
 * cli/cmd_*.c. Part of the cli library, so tests run the real front end. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const char usage[] =
    "usage: mfbench COMMAND [ARGS]\n"
    "\n"
    "Benchmark Python web frameworks on a small node, raising users until they fail.\n"
    "\n"
    "commands:\n"
    "  check   [-m FILE]                       validate a matrix (errors as FILE:LINE:COL)\n"
    "  run     [-m FILE] [-p PROFILE] [--store DB] [--json] CELL... | --all\n"
    "                                          run cells in the foreground, print a table\n"
    "  load    URL [-c USERS] [-d DURATION] ... the load engine alone, like wrk\n"
    "  history [CELL] [--limit N] [--json]     stored runs, a line per cell\n"
    "  show    RUN [--json | --format md|csv]  one stored run\n"
    "  compare RUN_A RUN_B [--factor F] [--fail-on-regression]\n"
    "                                          two stored runs, cell by cell\n"
    "  report  --format html|md|csv -o DIR [--run RUN]\n"
    "                                          a report of a stored run and its history\n"
    "  prune   [--older-than AGE] [--keep N] [--dry-run]\n"
    "                                          delete old runs from the store\n"
    "  trigger [-p PROFILE] [--wait] CELL... | --all\n"
    "                                          ask mfbenchd to run cells (a queued job)\n"
    "  status  [--json]                        what mfbenchd runs and has queued\n"
    "  cancel  [JOB]                           cancel a queued job or the running one\n"
    "\n"
    "A CELL is FRAMEWORK/PAYLOAD (flask/json); flask/* and */text select several.\n"
    "`mfbench COMMAND --help` describes each command. Exit status: 0 success,\n"
    "1 the work ran and something failed, 2 bad usage or an invalid matrix.\n";

int cli_main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    if (argc < 2) {
        fputs(usage, stderr);
        return CLI_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "help") == 0) {
        fputs(usage, stdout);
        return CLI_OK;
    }
    if (strcmp(cmd, "-V") == 0 || strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
        printf("mfbench %s\n", MFBENCH_VERSION);
        return CLI_OK;
    }
    /* store-events is not in the usage above: the other half of `run
     * --json-events`, for orchestrators and tests (mfbench(1) describes it). */
    static const struct {
        const char *name;
        int (*fn)(int, char **);
    } cmds[] = {
        {"check", cli_cmd_check},   {"run", cli_cmd_run},
        {"load", cli_cmd_load},     {"history", cli_cmd_history},
        {"show", cli_cmd_show},     {"compare", cli_cmd_compare},
        {"report", cli_cmd_report}, {"trigger", cli_cmd_trigger},
        {"status", cli_cmd_status}, {"cancel", cli_cmd_cancel},
        {"prune", cli_cmd_prune},   {"store-events", cli_cmd_store_events},
    };
    for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
        if (strcmp(cmd, cmds[i].name) != 0)
            continue;
        /* `mfbench COMMAND --version` answers like `mfbench --version`. */
        for (int a = 2; a < argc && strcmp(argv[a], "--") != 0; a++)
            if (strcmp(argv[a], "--version") == 0) {
                printf("mfbench %s\n", MFBENCH_VERSION);
                return CLI_OK;
            }
        return cmds[i].fn(argc - 1, argv + 1);
    }
    fprintf(stderr, "mfbench: unknown command '%s'\n\n%s", cmd, usage);
    return CLI_USAGE;
}
