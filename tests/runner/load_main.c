/* load_main.c - test-only front end for cli/cmd_load.c, so `mfbench load` can be
 * tested without the rest of the CLI: the bits of cli/main.c that it uses. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

atomic_int cli_interrupted;

static void on_signal(int sig)
{
    (void)sig;
    atomic_fetch_add(&cli_interrupted, 1);
}

void cli_install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

void cli_print_err(const struct err *e)
{
    char b[1200];
    fprintf(stderr, "mfbench: %s\n", err_format(e, b, sizeof b));
}

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    if (argc < 2 || strcmp(argv[1], "load") != 0) {
        fprintf(stderr, "usage: %s load ...\n", argv[0]);
        return 2;
    }
    return cli_cmd_load(argc - 1, argv + 1);
}
