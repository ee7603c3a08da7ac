/* run_slurm.c - `mfbench run` on a Slurm node (issue 23): the run is begun in the store
 * here, its cells dispatched on allocations of their own, max_parallel at once
 * (exec/dispatch.c), each streamed back and stored as it goes; then the usual table.
 * SIGINT/SIGTERM cancel every allocation before the exit. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "dispatch.h"

/* Progress of cells that run at once: every line names its cell. */
static void on_event(void *arg, const struct exec_event *ev)
{
    const int *quiet = arg;
    if (*quiet)
        return;
    const char *fw = ev->framework ? ev->framework : "", *pl = ev->payload ? ev->payload : "";
    const char *sep = ev->framework ? ": " : "";
    switch (ev->kind) {
    case EXEC_EV_LOG:
        fprintf(stderr, "%s%s%s%s%s%s\n", ev->level <= 4 ? "warning: " : "", fw,
                ev->payload ? "/" : "", ev->payload ? pl : "", sep, ev->message);
        break;
    case EXEC_EV_CELL_START:
        fprintf(stderr, "%s/%s: provisioning and starting the server\n", fw, pl);
        break;
    case EXEC_EV_PHASE_START:
        fprintf(stderr, "%s/%s: phase %d: %d users for %.0fs\n", fw, pl, ev->seq + 1, ev->users,
                ev->phase_duration_s);
        break;
    case EXEC_EV_PHASE_END: {
        const struct phase_result *ph = ev->phase;
        fprintf(stderr,
                "%s/%s: %d users: %llu requests, %.1f req/s, p99 %.2f ms, %llu failures%s%s\n", fw,
                pl, ph->users, (unsigned long long)ph->requests, ph->rps, ph->latency_ms.p99,
                (unsigned long long)ph->failures, ph->stop_reason[0] ? " -> breaking point: " : "",
                ph->stop_reason);
        break;
    }
    case EXEC_EV_CELL_END:
        fprintf(stderr, "%s/%s: %s%s%s\n", fw, pl, cell_status_name(ev->cell->status),
                ev->cell->error ? ": " : "", ev->cell->error ? ev->cell->error : "");
        break;
    default:
        break;
    }
}

int cli_run_slurm(const struct cfg_matrix *m, const char *profile, const char *targets_dir,
                  struct store *store, const struct cfg_cell *cells, size_t ncells, int json,
                  int quiet)
{
    struct run_record run, loaded;
    struct err e;
    memset(&run, 0, sizeof run);
    memset(&loaded, 0, sizeof loaded);
    err_clear(&e);
    run.node_cpu_count = -1, run.node_loadavg = -1;
    mf_strlcpy(run.trigger, "cli", sizeof run.trigger);
    mf_strlcpy(run.profile, profile ? profile : "", sizeof run.profile);
    mf_strlcpy(run.matrix_sha256, m->sha256, sizeof run.matrix_sha256);
    /* The run's node is the cluster; each cell records its own. */
    snprintf(run.node_host, sizeof run.node_host, "slurm:%s",
             m->node.slurm.partition ? m->node.slurm.partition : "default");
    mf_strlcpy(run.node_cpus, m->node.cpus ? m->node.cpus : "", sizeof run.node_cpus);
    /* What the profile asks for, stored with the run, as a local run stores it. */
    struct cfg_settings st;
    if (cfg_resolve(m, profile, NULL, &st, &e) == 0)
        cfg_settings_describe(&st, run.settings, sizeof run.settings);
    err_clear(&e);
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    self[n > 0 ? n : 0] = '\0';
    int rc = CLI_FAILED;
    if (store_run_begin(store, &run, &e) != 0) {
        cli_print_err(&e);
        goto out;
    }
    if (!quiet)
        fprintf(stderr, "run %lld: %zu cell(s) on Slurm, %d at once\n", (long long)run.id, ncells,
                m->node.slurm.max_parallel);
    struct exec_dispatch d = {.matrix = m,
                              .profile = profile,
                              .self_path = self,
                              .targets_dir = targets_dir,
                              .store = store,
                              .run_id = run.id,
                              .cancel = &cli_interrupted,
                              .on_event = on_event,
                              .arg = &quiet};
    int interrupted = 0;
    int drc = exec_dispatch_run(&d, cells, ncells, &interrupted, &e);
    if (drc)
        cli_print_err(&e);
    err_clear(&e);
    if (store_load_run(store, run.id, &loaded, &e) != 0) {
        cli_print_err(&e);
        goto out;
    }
    int all_ok = !drc && !interrupted && loaded.ncells == ncells;
    for (size_t i = 0; i < loaded.ncells; i++)
        all_ok = all_ok && loaded.cells[i].status == CELL_OK;
    const char *status = interrupted || drc ? "interrupted" : all_ok ? "ok" : "failed";
    err_clear(&e);
    if (store_run_finish(store, run.id, status, &e) != 0)
        cli_print_err(&e);
    mf_strlcpy(loaded.status, status, sizeof loaded.status);
    iso8601_utc(time(NULL), loaded.finished_at, sizeof loaded.finished_at);
    if (json) {
        char *s = cli_run_json(&loaded, 1);
        if (s) {
            puts(s);
            free(s);
        }
    } else {
        cli_print_run_table(stdout, &loaded);
    }
    rc = all_ok ? CLI_OK : CLI_FAILED;
out:
    run_record_free(&run);
    run_record_free(&loaded);
    return rc;
}
