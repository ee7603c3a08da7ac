/* recovery.c - what an earlier mfbenchd that was killed (or forced to stop) left
 * behind: runs still marked running in the store (marked interrupted at startup)
 * and a server still up on the node (stopped before the first job). */
#include <stdlib.h>
#include <string.h>

#include "daemon_int.h"
#include "slurm.h"

int dmn__recover_runs(struct daemon *d, struct err *e)
{
    int count = 0;
    int rc = store_mark_interrupted(d->store, &count, e);
    if (rc != 0)
        return rc;
    count += store_open_repaired(d->store); /* those the open found already */
    if (count > 0)
        dmn__log(4,
                 "event=runs_interrupted count=%d msg=\"runs left running by an earlier "
                 "daemon\"",
                 count);
    return 0;
}

void dmn__recover_slurm(struct daemon *d)
{
    uv_mutex_lock(&d->mu);
    struct mref *mr = dmn__mref_get(d);
    uv_mutex_unlock(&d->mu);
    const struct cfg_matrix *m = mr->m;
    if (m->node.transport == CFG_TRANSPORT_SLURM) {
        struct node_slurm_opts o;
        node_slurm_opts_from_cfg(&m->node, &o);
        struct node_slurm_orphan *orph = NULL;
        size_t n = 0;
        struct err e;
        err_clear(&e);
        if (node_slurm_orphans(&o, NODE_SLURM_NAME_PREFIX, &orph, &n, &e) != 0)
            dmn__log(4, "event=slurm_orphans_failed error=%s",
                     dmn__kv(e.msg, (char[1024]){0}, 1024));
        for (size_t i = 0; i < n; i++) {
            /* mfbench-RUN-CELL: ours when RUN is no longer running in this store (the
             * runs a dead daemon left were marked interrupted before the worker started);
             * a live `mfbench run`'s jobs are its own. */
            long long run = strtoll(orph[i].name + strlen(NODE_SLURM_NAME_PREFIX), NULL, 10);
            struct run_record r;
            memset(&r, 0, sizeof r);
            err_clear(&e);
            int live = run > 0 && store_load_run(d->store, run, &r, &e) == 0 &&
                       strcmp(r.status, "running") == 0;
            run_record_free(&r);
            if (run <= 0 || live)
                continue;
            err_clear(&e);
            int rc = node_slurm_cancel(&o, orph[i].job, &e);
            dmn__log(rc ? 3 : 4, "event=slurm_orphan_cancelled slurm_job=%lld name=%s state=%s%s%s",
                     (long long)orph[i].job, dmn__kv(orph[i].name, (char[600]){0}, 600),
                     orph[i].state, rc ? " error=" : "",
                     rc ? dmn__kv(e.msg, (char[1024]){0}, 1024) : "");
        }
        free(orph);
    }
    uv_mutex_lock(&d->mu);
    dmn__mref_put(mr);
    uv_mutex_unlock(&d->mu);
}

void dmn__recover_node(struct daemon *d)
{
    uv_mutex_lock(&d->mu);
    struct mref *mr = dmn__mref_get(d);
    uv_mutex_unlock(&d->mu);
    if (mr->m->node.transport == CFG_TRANSPORT_SLURM) { /* no node of its own */
        uv_mutex_lock(&d->mu);
        dmn__mref_put(mr);
        uv_mutex_unlock(&d->mu);
        return;
    }
    struct node *node = NULL;
    struct err e;
    err_clear(&e);
    struct exec_run x = {.matrix = mr->m};
    int found = 0;
    if (node_open(&mr->m->node, &node, &e) == 0) {
        x.node = node;
        if (exec_cleanup_node(&x, &found, &e) != 0)
            dmn__log(4, "event=cleanup_failed error=%s", dmn__kv(e.msg, (char[1024]){0}, 1024));
        else if (found)
            dmn__log(4, "event=stale_server_stopped workdir=%s",
                     dmn__kv(node_workdir(node), (char[1100]){0}, 1100));
        node_close(node);
    } else {
        dmn__log(4, "event=node_unreachable error=%s", dmn__kv(e.msg, (char[1024]){0}, 1024));
    }
    uv_mutex_lock(&d->mu);
    dmn__mref_put(mr);
    uv_mutex_unlock(&d->mu);
}
