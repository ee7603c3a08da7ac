/* recovery.c - what an earlier mfbenchd that was killed left behind: runs still
 * marked running in the store (marked interrupted at startup) and a server still
 * up on the node (stopped before the first job); also the forced stop's cleanup. */
#include "daemon_int.h"

int dmn__recover_runs(struct daemon *d, struct err *e)
{
    int count = 0;
    int rc = store_mark_interrupted(d->store, &count, e);
    if (rc != 0)
        return rc;
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
    struct dmn_exec x = {.matrix = mr->m};
    int found = 0;
    if (node_open(&mr->m->node, &node, &e) == 0) {
        x.node = node;
        if (dmn_cleanup_node(&x, &found, &e) != 0)
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

void dmn__recover_forced(struct daemon *d, int *runs, int *servers)
{
    struct store *s = NULL;
    struct node *node = NULL;
    struct err e;
    err_clear(&e);
    *runs = *servers = 0;
    if (store_open(d->store_path, &s, &e) == 0) {
        /* Best effort, we are leaving; the next start's recovery repeats it. */
        if (store_mark_interrupted(s, runs, &e) != 0)
            dmn__log(3, "event=store_error error=%s", dmn__kv(e.msg, (char[1024]){0}, 1024));
        store_close(s);
    }
    uv_mutex_lock(&d->mu);
    const struct cfg_matrix *m = d->matrix->m;
    uv_mutex_unlock(&d->mu);
    struct dmn_exec x = {.matrix = m};
    if (node_open(&m->node, &node, &e) == 0) {
        x.node = node;
        if (dmn_cleanup_node(&x, servers, &e) != 0)
            dmn__log(3, "event=node_error error=%s", dmn__kv(e.msg, (char[1024]){0}, 1024));
        node_close(node);
    }
}
