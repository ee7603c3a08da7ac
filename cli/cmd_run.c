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
#include "events.h"
#include "exec.h"
#include "node.h"
#include "store.h"

static const char run_usage[] =
    "usage: mfbench run [-m FILE|-] [-p PROFILE] [--store DB | --no-store]\n"
    "                   [--wait-lock SECONDS] [--json | --json-events] [-q] CELL... | --all\n"
    "\n"
    "Runs matrix cells in the foreground on the matrix's node: provisions each framework,\n"
    "starts its server, verifies its answers, raises users phase by phase until the stop\n"
    "criteria hold, and stores every phase. Prints a results table (or --json) at the end.\n"
    "\n"
    "  -m, --matrix FILE    the matrix (default: $MFBENCH_MATRIX, else the built-in one);\n"
    "                       - reads it from stdin (errors then name <stdin>:LINE:COL)\n"
    "  -p, --profile NAME   a profile of the matrix (e.g. quick)\n"
    "      --store DB       the result store (default: $MFBENCH_STORE, else\n"
    "                       $XDG_STATE_HOME/mfbench/results.db); its folder must exist\n"
    "      --no-store       store nothing anywhere (a cell whose orchestrator stores\n"
    "                       what --json-events streams)\n"
    "      --wait-lock SECONDS  when another run holds the node or the store, wait for it\n"
    "                       up to SECONDS (default 0: fail at once, exit 1, naming its pid)\n"
    "      --targets DIR    the targets/ folder to upload (default: the installed one)\n"
    "      --all            every cell of the matrix\n"
    "      --json           print the result JSON instead of the table\n"
    "      --json-events    stream the run on stdout, one JSON object per line, flushed\n"
    "                       per line, nothing else there (the table goes to stderr):\n"
    "                       run_start {version: 1, node, profile, ...}, cell_start,\n"
    "                       log, phase_start, phase_end {seq, phase, series},\n"
    "                       cell_end {phases, cell}, run_end {status}; see mfbench(1).\n"
    "                       `mfbench store-events [--store DB] < FILE` stores such a\n"
    "                       stream as a run, as this run would have stored it\n"
    "  -q, --quiet          no progress on stderr\n"
    "  -h, --help           this text\n"
    "\n"
    "CELL is FRAMEWORK/PAYLOAD; flask/* and */text select several.\n"
    "Exit status: 0 every cell ok, 1 a cell failed or was skipped, 2 bad usage or matrix.\n";

struct run_ui {
    int tty, quiet;
    char cell[160];
    /* --json-events: each event is a line on stdout; those before run_start
     * (the node's preparation logs) wait in pending until it is written. */
    int events, started, broken;
    struct buf pending;
};

/* Writes one event line on stdout, flushed. A reader gone (EPIPE) stops the
 * run: nobody would store what it measures. */
static void events_write(struct run_ui *ui, const char *line)
{
    if (ui->broken)
        return;
    if (fputs(line, stdout) == EOF || fputc('\n', stdout) == EOF || fflush(stdout) == EOF) {
        ui->broken = 1;
        fprintf(stderr, "mfbench: the event stream's reader is gone (stdout: %s); stopping\n",
                strerror(errno));
        atomic_store(&cli_interrupted, 1);
    }
}

static void events_emit(struct run_ui *ui, const struct exec_event *ev)
{
    char *line = NULL;
    if (exec_events_encode(ev, &line) != 0) {
        ui->broken = 1;
        fprintf(stderr, "mfbench: an event could not be encoded: out of memory; stopping\n");
        atomic_store(&cli_interrupted, 1);
        return;
    }
    if (!line)
        return;
    if (ui->started)
        events_write(ui, line);
    else if (buf_puts(&ui->pending, line) != 0 || buf_puts(&ui->pending, "\n") != 0)
        fprintf(stderr, "mfbench: an event before run_start was dropped (too many)\n");
    free(line);
}

/* run_start, then the events that waited for it. */
static void events_start(struct run_ui *ui, const struct run_record *run)
{
    char *line = NULL;
    if (exec_events_run_start(run, &line) != 0) {
        ui->broken = 1;
        fprintf(stderr, "mfbench: run_start could not be encoded: out of memory\n");
        return;
    }
    ui->started = 1;
    events_write(ui, line);
    free(line);
    if (ui->pending.len && !ui->broken &&
        (fwrite(ui->pending.data, 1, ui->pending.len, stdout) != ui->pending.len ||
         fflush(stdout) == EOF)) {
        ui->broken = 1;
        fprintf(stderr, "mfbench: the event stream's reader is gone (stdout: %s)\n",
                strerror(errno));
    }
    buf_free(&ui->pending);
}

static void events_end(struct run_ui *ui, const char *status)
{
    char *line = NULL;
    if (!ui->started || exec_events_run_end(status, &line) != 0)
        return;
    events_write(ui, line);
    free(line);
}

static void on_event(void *arg, const struct exec_event *ev)
{
    struct run_ui *ui = arg;
    if (ui->events)
        events_emit(ui, ev);
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
    if (!store) {
        fprintf(stderr, "mfbench: the run stopped%s%s\n", n ? "; cells not run: " : "", list);
    } else if (store_run_abort(store, r->id, names, names ? n : 0, reason, &e) == 0) {
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
        {"json-events", no_argument, NULL, 'e'},  {"no-store", no_argument, NULL, 'n'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0}};
    const char *path = NULL, *profile = NULL, *store_path = NULL, *targets = NULL;
    int all = 0, json = 0, quiet = 0, wait_s = 0, events = 0, no_store = 0, c;
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
        case 'e':
            events = 1;
            break;
        case 'n':
            no_store = 1;
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
    if (json && events) {
        fprintf(stderr, "mfbench run: --json and --json-events are exclusive\n");
        return CLI_USAGE;
    }
    if (no_store && store_path) {
        fprintf(stderr, "mfbench run: --store and --no-store are exclusive\n");
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
    struct run_ui ui = {.tty = isatty(2), .quiet = quiet, .events = events};
    buf_init(&ui.pending, 1 << 20);
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
    if (m->node.transport == CFG_TRANSPORT_SLURM && (no_store || events)) {
        /* This process is the orchestrator: it stores what the nodes stream. */
        fprintf(stderr, "mfbench run: a Slurm node (node.transport slurm) takes neither "
                        "--no-store nor --json-events\n");
        rc = CLI_USAGE;
        goto out;
    }
    if (!no_store && (rc = cli_open_store(store_path, &store)) != 0)
        goto out;
    cli_install_signals();
    if (m->node.transport == CFG_TRANSPORT_SLURM) {
        /* Each cell on an allocation of its own (the node's lock is taken there). */
        if ((rc = wait_store(store, wait_s, &e)) != 0) {
            cli_print_err(&e);
            rc = CLI_FAILED;
            goto out;
        }
        rc = cli_run_slurm(m, profile, tdir, store, cells, ncells, json, quiet);
        goto out;
    }

    /* One run at a time per store and per node, checked before the node is
     * touched; store_run_begin checks the store again, race-free. */
    if ((store && (rc = wait_store(store, wait_s, &e)) != 0) ||
        (rc = exec_node_lock(&m->node, wait_s, &cli_interrupted, &lock, &e)) != 0) {
        cli_print_err(&e);
        rc = CLI_FAILED;
        goto out;
    }

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
    if (store && store_run_begin(store, &run, &e)) {
        cli_print_err(&e);
        rc = CLI_FAILED;
        goto out;
    }
    if (!store) {
        iso8601_utc(time(NULL), run.started_at, sizeof(run.started_at));
        mf_strlcpy(run.status, "running", sizeof(run.status));
    }
    if (events)
        events_start(&ui, &run);
    x.run_id = run.id;
    if (store && exec_node_lock_set_run(lock, run.id, &e))
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
            if (events) {
                /* The executor ended it without its cell_end: a reader needs one. */
                if (!cell.error)
                    cell.error = strdup(e.msg);
                struct exec_event ev = {.kind = EXEC_EV_CELL_END,
                                        .framework = cell.framework,
                                        .payload = cell.payload,
                                        .cell = &cell};
                events_emit(&ui, &ev);
            }
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
    if (store && !aborted && store_run_finish(store, run.id, status, &e))
        cli_print_err(&e);
    mf_strlcpy(run.status, status, sizeof(run.status));
    iso8601_utc(time(NULL), run.finished_at, sizeof(run.finished_at));
    if (events)
        events_end(&ui, status);

    if (events) {
        if (!quiet)
            cli_print_run_table(stderr, &run); /* stdout is the stream's alone */
    } else if (json) {
        char *s = cli_run_json(&run, 1);
        if (s) {
            puts(s);
            free(s);
        }
    } else {
        cli_print_run_table(stdout, &run);
    }
    rc = (all_ok && !interrupted && !ui.broken) ? CLI_OK : CLI_FAILED;
out:
    buf_free(&ui.pending);
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

static const char store_events_usage[] =
    "usage: mfbench store-events [--store DB] [--json] [-q] [FILE]\n"
    "\n"
    "Stores the event stream of `mfbench run --json-events` (FILE, else stdin) as a new\n"
    "run, as that run would have stored itself: its node, its cells, every phase with its\n"
    "per-second series and each cell's figures. A cell the stream does not end (a line\n"
    "cut or malformed, no cell_end) is stored as error, never ok, and the run as\n"
    "interrupted. Prints the stored run's table (or --json, as `show --json` does).\n"
    "\n"
    "      --store DB       the result store (default: $MFBENCH_STORE, else\n"
    "                       $XDG_STATE_HOME/mfbench/results.db)\n"
    "      --json           print the stored run's result JSON instead of the table\n"
    "  -q, --quiet          no progress on stderr\n"
    "  -h, --help           this text\n"
    "\n"
    "Exit status: 0 a whole stream and every cell ok, 1 a cell not ok or the stream cut\n"
    "short (stored as said), 2 bad usage or a malformed line (FILE:LINE:COL: message).\n";

int cli_cmd_store_events(int argc, char **argv)
{
    static const struct option opts[] = {{"store", required_argument, NULL, 's'},
                                         {"json", no_argument, NULL, 'j'},
                                         {"quiet", no_argument, NULL, 'q'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *store_path = NULL;
    int json = 0, quiet = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "qh", opts, NULL)) != -1) {
        switch (c) {
        case 's':
            store_path = optarg;
            break;
        case 'j':
            json = 1;
            break;
        case 'q':
            quiet = 1;
            break;
        case 'h':
            fputs(store_events_usage, stdout);
            return CLI_OK;
        default:
            fputs(store_events_usage, stderr);
            return CLI_USAGE;
        }
    }
    if (argc - optind > 1) {
        fprintf(stderr, "mfbench store-events: one FILE at most\n%s", store_events_usage);
        return CLI_USAGE;
    }
    const char *name = optind < argc ? argv[optind] : "-";
    FILE *in = stdin;
    if (strcmp(name, "-") != 0 && !(in = fopen(name, "re"))) {
        fprintf(stderr, "mfbench: %s: %s\n", name, strerror(errno));
        return CLI_USAGE;
    }
    struct store *store = NULL;
    struct exec_replay *r = NULL;
    struct run_record loaded;
    struct err e;
    struct run_ui ui = {.tty = isatty(2), .quiet = quiet};
    memset(&loaded, 0, sizeof(loaded));
    err_clear(&e);
    int rc = cli_open_store(store_path, &store);
    if (rc)
        goto out;
    if (exec_replay_new(store, 0, in == stdin ? "<stdin>" : name, &r, &e) != 0) {
        cli_print_err(&e);
        rc = CLI_FAILED;
        goto out;
    }
    exec_replay_on_event(r, on_event, &ui);
    int src = exec_replay_stream(r, in, &e);
    if (src)
        cli_print_err(&e);
    const struct run_record *run = exec_replay_run(r);
    int all_ok = src == 0 && strcmp(run->status, "ok") == 0;
    for (size_t i = 0; i < run->ncells; i++)
        all_ok = all_ok && run->cells[i].status == CELL_OK;
    rc = src == -EINVAL ? CLI_USAGE : all_ok ? CLI_OK : CLI_FAILED;
    if (run->id <= 0)
        goto out; /* nothing stored */
    err_clear(&e);
    if (store_load_run(store, run->id, &loaded, &e) != 0) {
        cli_print_err(&e);
        rc = CLI_FAILED;
        goto out;
    }
    if (!quiet)
        fprintf(stderr, "stored as run %lld\n", (long long)run->id);
    if (json) {
        char *s = cli_run_json(&loaded, 1);
        if (s) {
            puts(s);
            free(s);
        }
    } else {
        cli_print_run_table(stdout, &loaded);
    }
out:
    run_record_free(&loaded);
    exec_replay_free(r);
    if (store)
        store_close(store);
    if (in != stdin)
        fclose(in);
    return rc;
}
