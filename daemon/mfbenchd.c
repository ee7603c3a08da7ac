/* mfbenchd.c - the mfbench daemon's entry: options, the matrix it loads, and
 * the wiring of the loop (events, signals, watchdog, control socket) and the
 * worker thread; startup and shutdown order. The parts are the mfdaemon library
 * (matrix.c holds the references jobs keep to the matrix). */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "control.h"
#include "daemon_int.h"
#include "mfbench-config.h"

_Static_assert(DMN_MAX_CLIENTS == 64 && DMN_MAX_CLIENTS_PER_UID == 16 &&
                   DMN_CLIENT_IDLE_TIMEOUT_S == 10 && DMN_STOP_DEADLINE_MS == 8000,
               "the usage text below names the client limits and the stop deadline");
static const char usage[] =
    "usage: mfbenchd [-m FILE] [--store DB] [--socket PATH] [--targets DIR]\n"
    "\n"
    "The mfbench daemon: runs benchmark jobs one at a time on the matrix's node and\n"
    "serves `mfbench trigger|status|cancel` on a control socket. Logs go to stderr\n"
    "(journald priority prefixes). SIGHUP reloads the matrix; SIGTERM stops the\n"
    "running job (marked interrupted) and exits; a job that has not stopped 8 s\n"
    "later is left to the next start's recovery (the daemon exits 1). The control\n"
    "socket takes at most 64 clients, 16 per uid; one that has neither sent a\n"
    "complete request nor subscribed for 10 s is closed.\n"
    "\n"
    "  -m, --matrix FILE   the matrix (default: $MFBENCH_MATRIX, else " MFBENCH_SYSCONF_MATRIX "\n"
    "                      when it exists, else the built-in one)\n"
    "      --store DB      the result store (default: $MFBENCH_STORE, else\n"
    "                      $STATE_DIRECTORY/results.db, else $XDG_STATE_HOME/mfbench/results.db)\n"
    "      --socket PATH   the control socket (default: $MFBENCH_SOCKET, else\n"
    "                      $RUNTIME_DIRECTORY/control.sock, else\n"
    "                      $XDG_RUNTIME_DIR/mfbench/control.sock)\n"
    "      --targets DIR   the targets/ folder to upload (default: the installed one)\n"
    "  -h, --help          this text\n"
    "  -V, --version       the version\n";

int main(int argc, char **argv)
{
    static const struct option opts[] = {{"matrix", required_argument, NULL, 'm'},
                                         {"store", required_argument, NULL, 's'},
                                         {"socket", required_argument, NULL, 'S'},
                                         {"targets", required_argument, NULL, 't'},
                                         {"client-idle-timeout", required_argument, NULL, 'I'},
                                         {"clients-per-uid", required_argument, NULL, 'U'},
                                         {"stop-deadline", required_argument, NULL, 'D'},
                                         {"reload-delay", required_argument, NULL, 'R'},
                                         {"help", no_argument, NULL, 'h'},
                                         {"version", no_argument, NULL, 'V'},
                                         {NULL, 0, NULL, 0}};
    static struct daemon dd; /* large; lives for the whole process */
    struct daemon *d = &dd;
    const char *matrix = NULL, *store = NULL, *sock = NULL, *targets = NULL;
    struct err e;
    char msg[1200];
    int c, rc = 1;
    err_clear(&e);
    while ((c = getopt_long(argc, argv, "m:hV", opts, NULL)) != -1) {
        switch (c) {
        case 'm':
            matrix = optarg;
            break;
        case 's':
            store = optarg;
            break;
        case 'S':
            sock = optarg;
            break;
        case 't':
            targets = optarg;
            break;
        case 'D': /* hidden, for tests: the forced stop's deadline, SECONDS */
        case 'R': /* hidden, for tests: a reload's parse first sleeps SECONDS */ {
            char *end;
            double v = strtod(optarg, &end);
            if (end == optarg || *end || !(v > 0) || v > 3600) {
                fprintf(stderr, "mfbenchd: bad value '%s' for --%s\n", optarg,
                        c == 'D' ? "stop-deadline" : "reload-delay");
                return 2;
            }
            *(c == 'D' ? &d->stop_deadline_ms : &d->reload_delay_ms) = (uint64_t)(v * 1000 + 0.5);
            break;
        }
        case 'I': /* hidden, for tests: SECONDS (fractions allowed) */
        case 'U': /* hidden, for tests: connections per uid */ {
            char *end;
            double v = strtod(optarg, &end);
            if (end == optarg || *end || !(v > 0) || v > (c == 'I' ? 86400 : DMN_MAX_CLIENTS) ||
                (c == 'U' && v != (double)(size_t)v)) {
                fprintf(stderr, "mfbenchd: bad value '%s' for --%s\n", optarg,
                        c == 'I' ? "client-idle-timeout" : "clients-per-uid");
                return 2;
            }
            if (c == 'I')
                d->idle_timeout_ms = (uint64_t)(v * 1000 + 0.5);
            else
                d->max_clients_per_uid = (size_t)v;
            break;
        }
        case 'h':
            fputs(usage, stdout);
            return 0;
        case 'V':
            printf("mfbenchd %s\n", MFBENCH_VERSION);
            return 0;
        default:
            fputs(usage, stderr);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "mfbenchd: unexpected argument '%s'\n%s", argv[optind], usage);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    /* A file size limit is a store write error (the run ends interrupted), not death. */
    signal(SIGXFSZ, SIG_IGN);
    if (!matrix) {
        const char *env = getenv("MFBENCH_MATRIX");
        if (env && *env)
            matrix = env;
        else if (access(MFBENCH_SYSCONF_MATRIX, F_OK) == 0)
            matrix = MFBENCH_SYSCONF_MATRIX;
    }
    d->matrix_path = matrix;

    struct cfg_matrix *m = NULL;
    if (dmn__load_matrix(matrix, &m, &e) != 0) {
        dmn__log(3, "event=matrix_invalid error=%s",
                 dmn__kv(err_format(&e, msg, sizeof(msg)), (char[1400]){0}, 1400));
        return 2;
    }
    if (!(d->matrix = calloc(1, sizeof(*d->matrix)))) {
        cfg_free(m);
        return 1;
    }
    d->matrix->m = m;
    d->matrix->refs = 1;
    if (!(d->targets_dir = exec_targets_dir(targets))) {
        dmn__log(3, "event=no_targets msg=\"no targets/ folder found (use --targets DIR or "
                    "$MFBENCH_TARGETS)\"");
        rc = 2;
        goto out_matrix;
    }
    if (!dmn_socket_path(sock, d->socket_path, sizeof(d->socket_path))) {
        dmn__log(3, "event=bad_socket_path msg=\"the socket path is too long\"");
        rc = 2;
        goto out_matrix;
    }
    if (!store_default_path(store, d->store_path, sizeof(d->store_path))) {
        dmn__log(3, "event=bad_store_path msg=\"no store path: pass --store or set "
                    "$MFBENCH_STORE\"");
        rc = 2;
        goto out_matrix;
    }
    if (store_path_check(d->store_path, store_path_is_default(store), &e) != 0 ||
        store_open(d->store_path, &d->store, &e) != 0) {
        dmn__log(3, "event=store_error error=%s", dmn__kv(e.msg, msg, sizeof(msg)));
        goto out_matrix;
    }
    if (dmn__recover_runs(d, &e) != 0) {
        dmn__log(3, "event=store_error error=%s", dmn__kv(e.msg, msg, sizeof(msg)));
        goto out_store;
    }

    /* Each step below that fails is logged naming the call, and startup stops. */
    dmn_queue_init(&d->queue, 1000);
    int urc;
    if ((urc = uv_mutex_init(&d->mu))) {
        dmn__log(3, "event=startup_failed error=\"uv_mutex_init: %s\"", uv_strerror(urc));
        goto out_store;
    }
    if ((urc = uv_cond_init(&d->cv))) {
        dmn__log(3, "event=startup_failed error=\"uv_cond_init: %s\"", uv_strerror(urc));
        goto out_mutex;
    }
    if ((urc = uv_loop_init(&d->loop))) {
        dmn__log(3, "event=startup_failed error=\"uv_loop_init: %s\"", uv_strerror(urc));
        goto out_cond;
    }
    if (dmn__events_init(d, &e) != 0 || dmn__signals_init(d, &e) != 0 ||
        dmn__watchdog_start(d, &e) != 0) {
        dmn__log(3, "event=startup_failed error=%s", dmn__kv(e.msg, msg, sizeof(msg)));
        goto out_close;
    }
    if (dmn__listen(d, &e) != 0) {
        dmn__log(3, "event=listen_failed error=%s", dmn__kv(e.msg, msg, sizeof(msg)));
        goto out_close;
    }
    if (dmn__worker_start(d, &e) != 0) {
        dmn__log(3, "event=startup_failed error=%s", dmn__kv(e.msg, msg, sizeof(msg)));
        dmn__stop_listening(d);
        goto out_close;
    }
    dmn__log(6, "event=ready version=%s socket=%s store=%s matrix=%s node=%s", MFBENCH_VERSION,
             dmn__kv(d->socket_path, (char[300]){0}, 300), dmn__kv(d->store_path, msg, sizeof(msg)),
             dmn__kv(m->path, (char[600]){0}, 600),
             m->node.transport == CFG_TRANSPORT_SSH     ? "ssh"
             : m->node.transport == CFG_TRANSPORT_SLURM ? "slurm"
                                                        : "local");
    dmn__notify("READY=1\nSTATUS=idle");
    uv_run(&d->loop, UV_RUN_DEFAULT);
    rc = 0;
    goto out_loop;
out_close: /* a step of startup failed: close what was opened */
    dmn__close_all(d);
    uv_run(&d->loop, UV_RUN_DEFAULT);
out_loop:
    if (d->worker_started)
        uv_thread_join(&d->worker);
    /* Events posted after the last wake-up. */
    for (size_t i = 0; i < d->nevents; i++)
        free(d->events[i]);
    uv_run(&d->loop, UV_RUN_NOWAIT);
    if (uv_loop_close(&d->loop) != 0)
        dmn__log(4, "event=loop_not_closed");
out_cond:
    uv_cond_destroy(&d->cv);
out_mutex:
    uv_mutex_destroy(&d->mu);
    for (struct dmn_job *j; (j = dmn_queue_pop(&d->queue));) {
        dmn__mref_put(j->matrix);
        dmn_job_free(j);
    }
    if (rc == 0)
        dmn__log(6, "event=stopped");
out_store:
    store_close(d->store);
out_matrix:
    dmn__mref_put(d->matrix);
    return rc;
}
