/* signals.c - the CLI's one piece of process-wide state: how many times SIGINT
 * or SIGTERM arrived. A sigaction handler can reach nothing else, so this flag
 * is the exception to "no mutable globals"; commands poll it. */
#include <signal.h>
#include <string.h>

#include "cli.h"

atomic_int cli_interrupted;

static void on_signal(int sig)
{
    /* A second ^C while stopping ends the process at once. */
    if (atomic_fetch_add(&cli_interrupted, 1) > 0) {
        signal(sig, SIG_DFL);
        raise(sig);
    }
}

void cli_install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    /* A file size limit (ulimit -f) is a write error the store reports and the
     * run survives (as interrupted), not a signal that kills the process. */
    signal(SIGXFSZ, SIG_IGN);
}
