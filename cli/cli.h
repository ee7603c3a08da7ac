/* cli.h - the mfbench subcommands. Each takes the arguments after its name
 * (argv[0] is the subcommand) and returns the process exit code:
 * 0 success, 1 the work ran and something failed, 2 bad usage or invalid matrix. */
#ifndef MFBENCH_CLI_H
#define MFBENCH_CLI_H

#include "common.h"
#include "result.h"

#define CLI_OK 0
#define CLI_FAILED 1
#define CLI_USAGE 2

int cli_cmd_check(int argc, char **argv);
int cli_cmd_run(int argc, char **argv);
int cli_cmd_load(int argc, char **argv);
int cli_cmd_history(int argc, char **argv);
int cli_cmd_show(int argc, char **argv);

/* Prints "mfbench: <formatted err>" on stderr. */
void cli_print_err(const struct err *e);

#endif
