/* recovery.c - what an earlier mfbenchd that was killed (or forced to stop) left
 * behind: runs still marked running in the store (marked interrupted at startup)
 * and a server still up on the node (stopped before the first job). */
#include "daemon_int.h"

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

void dmn__recover_node(struct daemon *d)
{
    uv_mutex_lock(&d->mu);
    struct mref *mr = dmn__mref_get(d);
    uv_mutex_unlock(&d->mu);
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
