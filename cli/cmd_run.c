/* cmd_run.c - `mfbench run`: run matrix cells in the foreground (no daemon),
 * storing every phase as it finishes, with live progress on a TTY and a results
 * table (or the result JSON) at the end. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "exec.h"
#include "node.h"
#include "store.h"

static const char run_usage[] =
    "usage: mfbench run [-m FILE] [-p PROFILE] [--store DB] [--wait-lock SECONDS] [--json] [-q]\n"
    "                   CELL... | --all\n"
    "\n"
    "Runs matrix cells in the foreground on the matrix's node: provisions each framework,\n"
    "starts its server, verifies its answers, raises users phase by phase until the stop\n"
    "criteria hold, and stores every phase. Prints a results table (or --json) at the end.\n"
    "\n"
    "  -m, --matrix FILE    the matrix (default: $MFBENCH_MATRIX, else the built-in one)\n"
    "  -p, --profile NAME   a profile of the matrix (e.g. quick)\n"
    "      --store DB       the result store (default: $MFBENCH_STORE, else\n"
    "                       $XDG_STATE_HOME/mfbench/results.db); its folder must exist\n"
    "      --wait-lock SECONDS  when another run holds the node or the store, wait for it\n"
    "                       up to SECONDS (default 0: fail at once, exit 1, naming its pid)\n"
    "      --targets DIR    the targets/ folder to upload (default: the installed one)\n"
    "      --all            every cell of the matrix\n"
    "      --json           print the result JSON instead of the table\n"
    "  -q, --quiet          no progress on stderr\n"
    "  -h, --help           this text\n"
    "\n"
    "CELL is FRAMEWORK/PAYLOAD; flask/* and */text select several.\n"
    "Exit status: 0 every cell ok, 1 a cell failed or was skipped, 2 bad usage or matrix.\n";

struct run_ui {
    int tty, quiet;
    char cell[160];
};

static void on_event(void *arg, const struct exec_event *ev)
{
    struct run_ui *ui = arg;
    if (ui->quiet)
        return;
    switch (ev->kind) {
    case EXEC_EV_LOG:
        if (ui->tty)
            fputs("\r\033[K", stderr);
        fprintf(stderr, "%s%s%s%s%s%s\n", ev->level <= 4 ? "warning: " : "",
                ev->framework ? ev->framework : "", ev->payload ? "/" : "",
                ev->payload ? ev->payload : "", ev->framework ? ": " : "", ev->message);
        break;
    case EXEC_EV_CELL_START:
        snprintf(ui->cell, sizeof(ui->cell), "%s/%s", ev->framework, ev->payload);
        fprintf(stderr, "%s%s: provisioning and starting the server\n", ui->tty ? "\r\033[K" : "",
                ui->cell);
        break;
    case EXEC_EV_PHASE_START:
        if (!ui->tty)
            fprintf(stderr, "%s: phase %d: %d users for %.0fs\n", ui->cell, ev->seq + 1, ev->users,
                    ev->phase_duration_s);
        break;
    case EXEC_EV_PROGRESS:
        if (ui->tty && ev->progress) {
            const struct run_progress *p = ev->progress;
            fprintf(stderr,
                    "\r\033[K%s  phase %d  users %d/%d  %4.0f/%.0fs  %.0f req/s  p99 %.1f ms  "
                    "failures %llu",
                    ui->cell, ev->seq + 1, p->users, ev->users, p->elapsed_s, ev->phase_duration_s,
                    p->rps, p->p99_ms, (unsigned long long)p->failures);
            fflush(stderr);
        }
        break;
    case EXEC_EV_PHASE_END: {
        const struct phase_result *ph = ev->phase;
        fprintf(stderr,
                "%s%s: %d users: %llu requests, %.1f req/s, p50 %.2f ms, p99 %.2f ms, "
                "%llu failures%s%s\n",
                ui->tty ? "\r\033[K" : "", ui->cell, ph->users, (unsigned long long)ph->requests,
                ph->rps, ph->latency_ms.p50, ph->latency_ms.p99, (unsigned long long)ph->failures,
                ph->stop_reason[0] ? " -> breaking point: " : "", ph->stop_reason);
        break;
    }
    case EXEC_EV_CELL_END:
        fprintf(stderr, "%s%s: %s%s%s\n", ui->tty ? "\r\033[K" : "", ui->cell,
                cell_status_name(ev->cell->status), ev->cell->error ? ": " : "",
                ev->cell->error ? ev->cell->error : "");
        break;
    }
}

static int add_cell(struct run_record *r, struct cell_result *c)
{
    struct cell_result *n = realloc(r->cells, (r->ncells + 1) * sizeof(*n));
    if (!n)
        return -ENOMEM;
    r->cells = n;
    r->cells[r->ncells++] = *c;
    return 0;
}

/* -EBUSY (e filled) while another live process has a run going in the store,
 * after waiting up to wait_s seconds for it to end. */
static int wait_store(struct store *store, int wait_s, struct err *e)
{
    for (long tries = (long)wait_s * 10;; tries--) {
        err_clear(e);
        int r = store_busy(store, e);
        if (r != -EBUSY || tries <= 0 || atomic_load(&cli_interrupted))
            return r;
        usleep(100 * 1000);
    }
}

/* After mfbench itself failed mid-run: the run ends "interrupted" in the store
 * and the n cells not run are stored as such (see store_run_abort); they are
 * added to r for the summary. What could not be stored is said on stderr. */
static void abort_run(struct store *store, struct run_record *r, const struct cfg_matrix *m,
                      const struct cfg_cell *rest, size_t n, const struct err *why)
{
    struct store_cell_name *names = n ? calloc(n, sizeof(*names)) : NULL;
    char reason[sizeof(why->msg) + 64], list[2048] = "";
    size_t len = 0;
    snprintf(reason, sizeof(reason), "not run: the run stopped at an error: %s", why->msg);
    for (size_t i = 0; i < n; i++) {
        const char *fw = m->frameworks[rest[i].framework].name;
        const char *pl = m->payloads[rest[i].payload].name;
        if (names)
            names[i] = (struct store_cell_name){fw, pl};
        int w = snprintf(list + len, sizeof(list) - len, "%s%s/%s", i ? ", " : "", fw, pl);
        if (w > 0 && (size_t)w < sizeof(list) - len)
            len += (size_t)w;
        struct cell_result c;
        memset(&c, 0, sizeof(c));
        mf_strlcpy(c.framework, fw, sizeof(c.framework));
        mf_strlcpy(c.payload, pl, sizeof(c.payload));
        c.capacity_users = c.breaking_users = c.held_users = -1;
        c.status = CELL_INTERRUPTED;
        c.error = strdup(reason);
        if (add_cell(r, &c))
            cell_result_free(&c);
    }
    struct err e;
    err_clear(&e);
    if (store_run_abort(store, r->id, names, names ? n : 0, reason, &e) == 0) {
        fprintf(stderr, "mfbench: run %lld stopped; it is marked interrupted in the store%s%s\n",
                (long long)r->id, n ? ", with the cells not run: " : "", list);
    } else {
        cli_print_err(&e);
        fprintf(stderr,
                "mfbench: run %lld stopped; the store could not record it (the next open of the "
                "store marks it interrupted)%s%s\n",
                (long long)r->id, n ? "; cells not run: " : "", list);
    }
    free(names);
}

int cli_cmd_run(int argc, char **argv)
{
    static const struct option opts[] = {
        {"matrix", required_argument, NULL, 'm'}, {"profile", required_argument, NULL, 'p'},
        {"store", required_argument, NULL, 's'},  {"targets", required_argument, NULL, 't'},
        {"all", no_argument, NULL, 'a'},          {"json", no_argument, NULL, 'j'},
        {"quiet", no_argument, NULL, 'q'},        {"wait-lock", required_argument, NULL, 'w'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0}};
    const char *path = NULL, *profile = NULL, *store_path = NULL, *targets = NULL;
    int all = 0, json = 0, quiet = 0, wait_s = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "m:p:qh", opts, NULL)) != -1) {
        switch (c) {
        case 'm':
            path = optarg;
            break;
        case 'p':
            profile = optarg;
            break;
        case 's':
            store_path = optarg;
            break;
        case 't':
            targets = optarg;
            break;
        case 'a':
            all = 1;
            break;
        case 'j':
            json = 1;
            break;
        case 'q':
            quiet = 1;
            break;
        case 'w': {
            char *end;
            errno = 0;
            long v = strtol(optarg, &end, 10);
            if (errno || end == optarg || *end || v < 0 || v > 86400) {
                fprintf(stderr, "mfbench run: --wait-lock takes seconds, 0 to 86400\n");
                return CLI_USAGE;
            }
            wait_s = (int)v;
            break;
        }
        case 'h':
            fputs(run_usage, stdout);
            return CLI_OK;
        default:
            fputs(run_usage, stderr);
            return CLI_USAGE;
        }
    }
    if (!all && optind >= argc) {
        fprintf(stderr, "mfbench run: name at least one CELL (e.g. flask/json), or --all\n%s",
                run_usage);
        return CLI_USAGE;
    }
    if (all && optind < argc) {
        fprintf(stderr, "mfbench run: --all and CELL arguments are exclusive\n");
        return CLI_USAGE;
    }

    struct cfg_matrix *m = NULL;
    struct store *store = NULL;
    struct node *node = NULL;
    struct exec_node_lock *lock = NULL;
    struct cfg_cell *cells = NULL;
    size_t ncells = 0;
    struct run_record run;
    struct err e;
    int rc = cli_load_matrix(path, &m);
    if (rc)
        return rc;
    memset(&run, 0, sizeof(run));
    run.node_cpu_count = -1, run.node_loadavg = -1; /* unknown until the node says */
    err_clear(&e);

    const char *all_pat[] = {"*"};
    if (cfg_select(m, all ? all_pat : (const char *const *)argv + optind,
                   all ? 1 : (size_t)(argc - optind), &cells, &ncells, &e)) {
        cli_print_err(&e);
        rc = CLI_USAGE;
        goto out;
    }
    for (size_t i = 0; i < ncells; i++) {
        struct cfg_settings st;
        if (cfg_resolve(m, profile, &m->frameworks[cells[i].framework], &st, &e)) {
            cli_print_err(&e);
            rc = CLI_USAGE;
            goto out;
        }
    }
    const char *tdir = exec_targets_dir(targets);
    if (!tdir) {
        fprintf(stderr,
                "mfbench: no targets/ folder found%s%s (use --targets DIR or "
                "$MFBENCH_TARGETS)\n",
                targets ? " at " : "", targets ? targets : "");
        rc = CLI_USAGE;
        goto out;
    }
    if (cfg_check_files(m, tdir, &e)) { /* as check refuses them, before the node */
        cli_print_err(&e);
        rc = CLI_USAGE;
        goto out;
    }
    if ((rc = cli_open_store(store_path, &store)) != 0)
        goto out;
    cli_install_signals();

    /* One run at a time per store and per node, checked before the node is
     * touched; store_run_begin checks the store again, race-free. */
    if ((rc = wait_store(store, wait_s, &e)) != 0 ||
        (rc = exec_node_lock(&m->node, wait_s, &cli_interrupted, &lock, &e)) != 0) {
        cli_print_err(&e);
        rc = CLI_FAILED;
        goto out;
    }

    struct run_ui ui = {.tty = isatty(2), .quiet = quiet};
    if (node_open(&m->node, &node, &e)) {
        cli_print_err(&e);
        rc = CLI_FAILED;
        goto out;
    }
    struct exec_run x = {.matrix = m,
                         .profile = profile,
                         .targets_dir = tdir,
                         .node = node,
                         .store = store,
                         .cancel = &cli_interrupted,
                         .on_event = on_event,
                         .arg = &ui};
    mf_strlcpy(run.trigger, "cli", sizeof(run.trigger));
    mf_strlcpy(run.profile, profile ? profile : "", sizeof(run.profile));
    mf_strlcpy(run.matrix_sha256, m->sha256, sizeof(run.matrix_sha256));
    if (exec_prepare_node(&x, &run, &e)) {
        cli_print_err(&e);
        rc = CLI_FAILED;
        goto out;
    }
    if (store_run_begin(store, &run, &e)) {
        cli_print_err(&e);
        rc = CLI_FAILED;
        goto out;
    }
    x.run_id = run.id;
    if (exec_node_lock_set_run(lock, run.id, &e))
        cli_print_err(&e); /* only the busy message of another run is poorer */
    err_clear(&e);
    int found = 0;
    if (exec_cleanup_node(&x, &found, &e) == 0 && found && !quiet)
        fprintf(stderr, "stopped a server left on the node by an earlier run\n");
    err_clear(&e);

    int all_ok = 1, interrupted = 0, aborted = 0;
    for (size_t i = 0; i < ncells; i++) {
        if (atomic_load(&cli_interrupted)) {
            interrupted = 1;
            break;
        }
        struct cell_result cell;
        if (exec_cell(&x, &cells[i], &cell, &e)) {
            /* mfbench itself failed (a store write, the node): the later
             * cells are not run, and stored as such where the store allows. */
            cli_print_err(&e);
            if (cell.status == CELL_RUNNING)
                cell.status = CELL_INTERRUPTED;
            add_cell(&run, &cell);
            abort_run(store, &run, m, cells + i + 1, ncells - i - 1, &e);
            all_ok = 0;
            interrupted = 1;
            aborted = 1;
            break;
        }
        exec_db_release(&x, cells + i + 1, ncells - i - 1); /* after the last database cell */
        if (cell.status == CELL_CANCELLED)
            interrupted = 1;
        if (cell.status != CELL_OK)
            all_ok = 0;
        if (add_cell(&run, &cell)) {
            cell_result_free(&cell);
            all_ok = 0;
        }
    }
    exec_run_close(&x);
    const char *status = interrupted ? "interrupted" : all_ok ? "ok" : "failed";
    err_clear(&e);
    if (!aborted && store_run_finish(store, run.id, status, &e))
        cli_print_err(&e);
    mf_strlcpy(run.status, status, sizeof(run.status));
    iso8601_utc(time(NULL), run.finished_at, sizeof(run.finished_at));

    if (json) {
        char *s = cli_run_json(&run, 1);
        if (s) {
            puts(s);
            free(s);
        }
    } else {
        cli_print_run_table(stdout, &run);
    }
    rc = (all_ok && !interrupted) ? CLI_OK : CLI_FAILED;
out:
    run_record_free(&run);
    if (node)
        node_close(node);
    exec_node_unlock(lock);
    if (store)
        store_close(store);
    free(cells);
    cfg_free(m);
    return rc;
}
