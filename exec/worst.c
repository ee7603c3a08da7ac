/* worst.c - how long a run can take: every step the executor takes, each at
 * the timeout it is given, added up in one place. `mfbench check` prints it and
 * the daemon skips cells by it, so it must be an upper bound: a step added to
 * exec.c or node/ without its line here breaks that promise.
 *
 * Once per run (exec_prepare_node, exec_cleanup_node): the node's session (ssh:
 * connect, handshake, authentication, workdir, disconnect), the node facts
 * (command timeout), the sampler's install (a put_file), the targets' and each
 * user folder's upload (node_sync_tree: two commands), the stop of a server an
 * earlier run left.
 * Once per cell: the venv (the command timeout; at least 600 s when pip builds
 * it), `app.py --versions` (at most 60 s), the last server stop; when the start
 * fails, the stop of what it started (1 s grace) and the log's tail.
 * Per fresh server (before every phase: any phase may fail, and a failed phase
 * restarts the server): the stop of the one before, the stop of one left by
 * its pid file, the port check, the start, the readiness timeout and one alive
 * check that began just before it ran out.
 * Per phase: its length, the drain (the request timeout), the sampler's start
 * and finish (command timeout each), the alive check after it, and a margin
 * for the engine's and the store's local work (PHASE_LOCAL_S: not a timeout).
 * Each command counts its timeout and what the transport takes to end a
 * command that outlived it (node_cmd_max_ms); a stop counts its own
 * (node_server_stop_max_ms: 5 s grace, 10 s after SIGKILL, the same for
 * processes that left the group). Waiting for the node lock (--wait-lock) is
 * the caller's choice and not counted.
 * On a Slurm node (issue 23) each cell runs on a node of its own: the run's once-only
 * steps happen per cell, plus the allocation's hand-off (salloc, squeue, srun, scancel at
 * their timeouts, node_slurm_handoff_max_ms) and the dispatcher's steps before the
 * cell (the node's mfbench --version, its CPU set; without node.slurm.mfbench the hash of
 * this binary's copy there and its upload); max_parallel cells run at once, so a job's
 * worst case is the packing of its cells' worst cases on that many slots (exec_pack_max_s). Time
 * queued behind other users' jobs is Slurm's, not counted.
 *
 * With database payloads, once per run: PostgreSQL's start (node_pg_start_max_ms: the
 * probe, every port tried with its listener check and setup script, each of initdb, start,
 * createdb, schema, extension and check at database.start_timeout, the stop of a failed
 * one), the Fortune rows' query, the stop (fast at the timeout, immediate, SIGKILL); once per
 * database cell: the verification burst (EXEC_DB_BURST requests at the request timeout) and
 * its two statement counts. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "exec_int.h"
#include "dispatch.h"
#include "search.h"
#include "slurm.h"

/* The engine's setup and teardown and the store's writes around a phase:
 * local work no timeout bounds, measured in tens of ms; a margin. */
#define PHASE_LOCAL_S 1.0

static double sec(int64_t ms)
{
    return (double)ms / 1000.0;
}

double exec_run_max_s(const struct cfg_matrix *m)
{
    const struct cfg_node *nc = &m->node;
    int64_t ms = node_session_max_ms(nc) +                        /* open, workdir, close */
                 node_cmd_max_ms(nc, exec__cmd_timeout_ms(nc)) +  /* node facts */
                 node_put_file_max_ms(nc) +                       /* sampler.sh */
                 node_sync_tree_max_ms(nc) +                      /* targets/ */
                 node_server_stop_max_ms(nc, EXEC_STOP_GRACE_MS); /* exec_cleanup_node */
    for (size_t i = 0; i < m->nframeworks; i++)
        if (m->frameworks[i].dir) /* a user's own folder */
            ms += node_sync_tree_max_ms(nc);
    if (cfg_has_db_payload(m))
        ms += node_pg_start_max_ms(m) + node_pg_query_max_ms(m) +    /* the Fortune rows */
              node_pg_stop_max_ms(m) + node_pg_stop_stale_max_ms(m); /* exec_cleanup_node */
    return sec(ms);
}

void exec_worst_parts(const struct cfg_matrix *m, const struct cfg_framework *fw,
                      struct exec_worst_parts *w)
{
    const struct cfg_node *nc = &m->node;
    int64_t node_cmd = node_cmd_max_ms(nc, node_cmd_timeout_ms(nc)); /* node/'s own commands */
    int64_t exec_cmd = node_cmd_max_ms(nc, exec__cmd_timeout_ms(nc));
    int64_t stop = node_server_stop_max_ms(nc, EXEC_STOP_GRACE_MS);
    w->run_s = exec_run_max_s(m);
    w->provision_s = sec(node_cmd_max_ms(nc, exec__pip_timeout_ms(m, fw)) +
                         node_cmd_max_ms(nc, exec__versions_timeout_ms(nc)));
    /* The last stop; or a start whose output was not understood (its stop, 1 s
     * grace) or a server not ready (the log's tail): the cell ends then. */
    w->cell_end_s = sec(stop + node_server_stop_max_ms(nc, 1000) + node_cmd);
    w->server_s = sec(2 * stop +    /* the server before, one left by its pid file */
                      node_cmd +    /* the port check */
                      node_cmd +    /* the start */
                      node_cmd);    /* an alive check begun as the readiness timeout ran out */
    w->phase_s = sec(2 * exec_cmd + /* the sampler's start and finish */
                     node_cmd) +    /* the alive check */
                 PHASE_LOCAL_S;
}

double exec_cell_max_s(const struct cfg_matrix *m, const char *profile, const struct cfg_cell *c,
                       int *phases)
{
    struct cfg_settings st;
    struct err e;
    err_clear(&e);
    if (phases)
        *phases = 0;
    const struct cfg_framework *fw = &m->frameworks[c->framework];
    if (cfg_resolve(m, profile, fw, &st, &e) != 0)
        return 0;
    struct exec_worst_parts w;
    exec_worst_parts(m, fw, &w);
    struct search_cost sc = {
        .phase_s = sec(st.duration_ms),
        .drain_s = sec(st.timeout_ms),
        .start_s = w.server_s + sec(exec__ready_timeout_ms(&st)),
        .overhead_s = w.phase_s,
        .once_s = w.provision_s + w.cell_end_s,
        .load_points = st.load_points.n,
        .held = st.held.on,
        /* A held level's phase may grow to fit its window (search_held_plan). */
        .held_phase_s = sec(st.held.duration_ms) * SEARCH_HELD_CAP_FACTOR};
    exec__plan_of(&st, &sc.plan);
    exec__held_plan_of(&st, &sc.held_plan);
    double total = search_cell_max_s(&sc, phases);
    if (cfg_payload_is_db(&m->payloads[c->payload])) /* the verification burst, once */
        total += EXEC_DB_BURST * sec(st.timeout_ms) + 2 * sec(node_pg_query_max_ms(m));
    if (st.slo.on) {
        /* Each bound's search at its worst, every probe with its drain, a
         * fresh server and the per-phase overhead. */
        for (int i = 0; i < st.slo.nbounds; i++) {
            struct slo_plan sp;
            exec__slo_plan_of(&st, st.slo.bounds_ms[i], &sp);
            int probes = 0;
            double per = sc.drain_s + sc.start_s + sc.overhead_s;
            total += slo_worst_s(&sp, per, &probes);
            /* The probes repeated on a shared engine, each at full length. */
            total += EXEC_SLO_SHARED_RETRIES * (sp.warmup_s + sp.probe_max_s + per);
            probes += EXEC_SLO_SHARED_RETRIES;
            if (phases)
                *phases += probes;
        }
    }
    return total;
}

int exec_slots(const struct cfg_matrix *m)
{
    return m->node.transport == CFG_TRANSPORT_SLURM && m->node.slurm.max_parallel > 0
               ? m->node.slurm.max_parallel
               : 1;
}

double exec_slurm_cell_extra_s(const struct cfg_matrix *m)
{
    if (m->node.transport != CFG_TRANSPORT_SLURM)
        return 0;
    struct node_slurm_opts o;
    node_slurm_opts_from_cfg(&m->node, &o);
    int64_t ms = node_slurm_handoff_max_ms(&o);
    /* The dispatcher's short steps before the cell (exec/dispatch.c): mfbench --version
     * on the node and its CPU set, each an srun at the tool timeout plus the kill grace;
     * with no node.slurm.mfbench also the check of this binary's copy on the node
     * (sha256sum, a short step) and its upload (a step of its own timeout). */
    int64_t tool = o.cmd_timeout_ms > 0 ? o.cmd_timeout_ms : NODE_SLURM_CMD_TIMEOUT_MS;
    ms += 2 * (tool + NODE_SLURM_KILL_GRACE_MS);
    if (!m->node.slurm.mfbench)
        ms += tool + NODE_SLURM_KILL_GRACE_MS +                           /* the copy's hash */
              EXEC_DISPATCH_UPLOAD_TIMEOUT_MS + NODE_SLURM_KILL_GRACE_MS; /* the upload */
    return exec_run_max_s(m) + sec(ms);
}

double exec_slurm_cell_cap_s(const struct cfg_matrix *m)
{
    struct node_slurm_opts o;
    node_slurm_opts_from_cfg(&m->node, &o);
    /* Slurm counts the limit in whole minutes, from the grant; the end's steps after it */
    int64_t limit = (m->node.slurm.time_limit_ms + 59999) / 60000 * 60000;
    return sec(limit + node_slurm_handoff_max_ms(&o));
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double exec_pack_max_s(const double *cell_s, size_t n, int slots)
{
    if (n == 0)
        return 0;
    size_t k = slots < 1 ? 1 : (size_t)slots;
    if (k > n)
        k = n;
    double *sorted = malloc(n * sizeof *sorted), *ends = calloc(k, sizeof *ends), worst = 0;
    if (!sorted || !ends) { /* no memory: the sum, still a bound */
        for (size_t i = 0; i < n; i++)
            worst += cell_s[i];
        free(sorted);
        free(ends);
        return worst;
    }
    memcpy(sorted, cell_s, n * sizeof *sorted);
    qsort(sorted, n, sizeof *sorted, cmp_double);
    for (size_t i = 0; i < n; i++) {
        size_t first = 0; /* the slot that frees first (the lowest index on a tie) */
        for (size_t j = 1; j < k; j++)
            if (ends[j] < ends[first])
                first = j;
        ends[first] += sorted[i];
    }
    for (size_t j = 0; j < k; j++)
        worst = ends[j] > worst ? ends[j] : worst;
    free(sorted);
    free(ends);
    return worst;
}
