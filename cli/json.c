/* json.c - the result JSON of DESIGN.md (`mfbench run --json`, `mfbench show
 * RUN --json`), built with cJSON from the plain result structs. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "headline.h"

static cJSON *num_or_null(double v)
{
    return v < 0 || !isfinite(v) ? cJSON_CreateNull() : cJSON_CreateNumber(v);
}

static cJSON *round_num(double v, int digits)
{
    double f = pow(10, digits);
    return cJSON_CreateNumber(round(v * f) / f);
}

static cJSON *rounded_or_null(double v, int digits);

static cJSON *phase_json(const struct phase_result *p)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "users", p->users);
    cJSON_AddItemToObject(o, "duration_s", round_num(p->duration_s, 3));
    cJSON_AddNumberToObject(o, "requests", (double)p->requests);
    cJSON_AddNumberToObject(o, "failures", (double)p->failures);
    cJSON *fk = cJSON_AddObjectToObject(o, "failures_by_kind");
    for (int k = 0; k < FAIL__COUNT; k++)
        cJSON_AddNumberToObject(fk, fail_kind_name((enum fail_kind)k),
                                (double)p->failures_by_kind[k]);
    cJSON_AddItemToObject(o, "rps", round_num(p->rps, 2));
    cJSON *l = cJSON_AddObjectToObject(o, "latency_ms");
    cJSON_AddItemToObject(l, "mean", round_num(p->latency_ms.mean, 3));
    cJSON_AddItemToObject(l, "p50", round_num(p->latency_ms.p50, 3));
    cJSON_AddItemToObject(l, "p90", round_num(p->latency_ms.p90, 3));
    cJSON_AddItemToObject(l, "p99", round_num(p->latency_ms.p99, 3));
    cJSON_AddItemToObject(l, "p999", round_num(p->latency_ms.p999, 3));
    cJSON_AddItemToObject(l, "max", round_num(p->latency_ms.max, 3));
    cJSON_AddNumberToObject(o, "bytes_read", (double)p->bytes_read);
    cJSON *s = cJSON_AddObjectToObject(o, "server");
    cJSON_AddItemToObject(s, "rss_max_kb", num_or_null(p->server_rss_max_kb));
    cJSON_AddItemToObject(s, "rss_mean_kb", num_or_null(p->server_rss_mean_kb));
    cJSON_AddItemToObject(
        s, "cpu_pct", num_or_null(p->server_cpu_pct < 0 ? -1 : round(p->server_cpu_pct * 10) / 10));
    cJSON_AddItemToObject(
        s, "cpu_max_pct",
        num_or_null(p->server_cpu_max_pct < 0 ? -1 : round(p->server_cpu_max_pct * 10) / 10));
    cJSON_AddItemToObject(s, "threads_max", num_or_null(p->server_threads_max));
    cJSON_AddItemToObject(s, "fds_max", num_or_null(p->server_fds_max));
    cJSON_AddItemToObject(o, "client_cpu_pct", round_num(p->client_cpu_pct, 1));
    cJSON_AddItemToObject(o, "offered_rps",
                          p->offered_rps > 0 ? round_num(p->offered_rps, 2) : cJSON_CreateNull());
    cJSON_AddNumberToObject(o, "missed_schedule", (double)p->missed_schedule);
    cJSON_AddNumberToObject(o, "in_flight", (double)p->in_flight);
    cJSON_AddNumberToObject(o, "offered", (double)p->offered);
    cJSON_AddNumberToObject(o, "sent", (double)p->sent);
    cJSON_AddNumberToObject(o, "completed", (double)p->completed);
    cJSON_AddNumberToObject(o, "unsent_due", (double)p->unsent_due);
    cJSON_AddBoolToObject(
        o, "clean",
        p->failures == 0 && !(p->offered > 0 && (double)p->completed < 0.98 * (double)p->offered));
    if (p->bound_ms > 0) {
        cJSON_AddItemToObject(o, "bound_ms", round_num(p->bound_ms, 3));
        cJSON_AddNumberToObject(o, "over_bound", (double)p->over_bound);
    }
    if (p->arrivals[0]) {
        char seed[24];
        snprintf(seed, sizeof seed, "%llu", (unsigned long long)p->seed);
        cJSON_AddStringToObject(o, "arrivals", p->arrivals);
        cJSON_AddStringToObject(o, "seed", seed); /* a string: 64 bits do not fit a double */
    }
    if (p->pct_of > 0)
        cJSON_AddItemToObject(o, "pct_of", round_num(p->pct_of, 1));
    cJSON_AddNumberToObject(o, "connections_max", (double)p->connections_max);
    cJSON_AddNumberToObject(o, "connect_failures", (double)p->connect_failures);
    cJSON_AddNumberToObject(o, "retries", (double)p->retries);
    cJSON_AddBoolToObject(o, "stopped_early", p->stopped_early);
    cJSON *vf = cJSON_AddObjectToObject(o, "verified"); /* sampled answers and the rule */
    cJSON_AddNumberToObject(vf, "sampled", (double)p->verified_sampled);
    cJSON_AddNumberToObject(vf, "wrong", (double)p->verified_wrong);
    cJSON_AddBoolToObject(o, "load_bound", p->load_bound);
    cJSON_AddBoolToObject(o, "client_bound", p->client_bound);
    if (p->stop_reason[0])
        cJSON_AddStringToObject(o, "stop_reason", p->stop_reason);
    else
        cJSON_AddNullToObject(o, "stop_reason");
    cJSON_AddStringToObject(o, "kind", p->kind[0] ? p->kind : "ladder");
    cJSON_AddNumberToObject(o, "repeat", p->repeat);
    cJSON_AddItemToObject(o, "sampler_cpu_pct",
                          p->sampler_cpu_pct < 0 || !isfinite(p->sampler_cpu_pct)
                              ? cJSON_CreateNull()
                              : round_num(p->sampler_cpu_pct, 3));
    cJSON_AddBoolToObject(o, "noisy", p->noisy);
    cJSON_AddItemToObject(o, "steal_pct",
                          p->steal_pct < 0 ? cJSON_CreateNull() : round_num(p->steal_pct, 2));
    cJSON_AddItemToObject(o, "neighbour_cpu_pct",
                          p->neighbour_cpu_pct < 0 ? cJSON_CreateNull()
                                                   : round_num(p->neighbour_cpu_pct, 2));
    cJSON_AddItemToObject(o, "client_steal_pct",
                          p->client_steal_pct < 0 ? cJSON_CreateNull()
                                                  : round_num(p->client_steal_pct, 2));
    cJSON_AddItemToObject(o, "client_neighbour_cpu_pct",
                          p->client_neighbour_cpu_pct < 0
                              ? cJSON_CreateNull()
                              : round_num(p->client_neighbour_cpu_pct, 2));
    /* The run's own database beside the server (null when not sampled: not a database
     * payload, or a database that is not ours to sample). */
    if (p->db_cpu_pct >= 0 || p->db_rss_max_kb >= 0) {
        cJSON *db = cJSON_AddObjectToObject(o, "database");
        cJSON_AddItemToObject(db, "cpu_pct", rounded_or_null(p->db_cpu_pct, 2));
        cJSON_AddItemToObject(db, "cpu_max_pct", rounded_or_null(p->db_cpu_max_pct, 2));
        cJSON_AddItemToObject(db, "rss_max_kb", rounded_or_null(p->db_rss_max_kb, 0));
    } else {
        cJSON_AddNullToObject(o, "database");
    }
    cJSON_AddBoolToObject(o, "db_bound", p->db_bound);
    return o;
}

static cJSON *latency_json(const struct latency_ms *l)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "mean", round_num(l->mean, 3));
    cJSON_AddItemToObject(o, "p50", round_num(l->p50, 3));
    cJSON_AddItemToObject(o, "p90", round_num(l->p90, 3));
    cJSON_AddItemToObject(o, "p99", round_num(l->p99, 3));
    cJSON_AddItemToObject(o, "p999", round_num(l->p999, 3));
    cJSON_AddItemToObject(o, "max", round_num(l->max, 3));
    return o;
}

static cJSON *marks_json(unsigned m)
{
    cJSON *a = cJSON_CreateArray();
    if (m & HL_LOAD_BOUND)
        cJSON_AddItemToArray(a, cJSON_CreateString("load-bound"));
    if (m & HL_CLIENT_BOUND)
        cJSON_AddItemToArray(a, cJSON_CreateString("client-bound"));
    if (m & HL_NOISY)
        cJSON_AddItemToArray(a, cJSON_CreateString("noisy"));
    if (m & HL_DB_BOUND)
        cJSON_AddItemToArray(a, cJSON_CreateString("db-bound"));
    return a;
}

static cJSON *rounded_or_null(double v, int digits)
{
    return v < 0 || !isfinite(v) ? cJSON_CreateNull() : round_num(v, digits);
}

/* The headline figures of a cell (headline.h), null where unknown. */
static cJSON *headline_json(const struct cell_result *c)
{
    struct headline h;
    headline_compute(c, &h);
    cJSON *o = cJSON_CreateObject();
    cJSON *sl = cJSON_AddObjectToObject(o, "slo");
    cJSON_AddItemToObject(sl, "value", rounded_or_null(h.slo.rps, 2));
    cJSON_AddStringToObject(sl, "qualifier", h.slo.qualifier);
    cJSON_AddItemToObject(sl, "bound_ms", rounded_or_null(h.slo.has ? h.slo.bound_ms : -1, 3));
    cJSON *band = cJSON_AddArrayToObject(sl, "band");
    cJSON_AddItemToArray(band, rounded_or_null(h.slo.lo, 2));
    cJSON_AddItemToArray(band, rounded_or_null(h.slo.hi, 2));
    if (h.slo.limit[0])
        cJSON_AddStringToObject(sl, "limit", h.slo.limit);
    else
        cJSON_AddNullToObject(sl, "limit");
    cJSON *pp = cJSON_AddObjectToObject(o, "peak_rps_passing");
    cJSON_AddItemToObject(pp, "value", rounded_or_null(h.peak_passing, 2));
    cJSON_AddStringToObject(pp, "qualifier", h.peak_passing >= 0 ? HL_Q_MEASURED : HL_Q_NOT_JUDGED);
    cJSON *pk = cJSON_AddObjectToObject(o, "peak_rps");
    cJSON_AddItemToObject(pk, "median", rounded_or_null(h.peak_rps, 2));
    cJSON_AddItemToObject(pk, "min", rounded_or_null(h.peak_min, 2));
    cJSON_AddItemToObject(pk, "max", rounded_or_null(h.peak_max, 2));
    cJSON_AddNumberToObject(pk, "searches", h.repeats);
    cJSON_AddItemToObject(pk, "marks", marks_json(h.peak_flags));
    cJSON *lat = cJSON_AddArrayToObject(o, "latency_at_load");
    const struct hl_latency *ls[2] = {&h.load[0], &h.load[1]};
    for (int i = 0; i < 2; i++) {
        if (ls[i]->pct <= 0)
            continue;
        cJSON *x = cJSON_CreateObject();
        cJSON_AddNumberToObject(x, ls[i]->of_slo ? "pct_of_slo" : "pct_of_peak", ls[i]->pct);
        cJSON_AddBoolToObject(x, "clean", !ls[i]->unclean);
        cJSON_AddItemToObject(x, "p50_ms", rounded_or_null(ls[i]->p50_ms, 3));
        cJSON_AddItemToObject(x, "p99_ms", rounded_or_null(ls[i]->p99_ms, 3));
        cJSON_AddItemToObject(x, "marks", marks_json(ls[i]->flags));
        cJSON_AddItemToArray(lat, x);
    }
    cJSON *cap = cJSON_AddObjectToObject(o, "capacity_users");
    cJSON_AddItemToObject(cap, "value", num_or_null(h.capacity_users));
    cJSON_AddItemToObject(cap, "min", num_or_null(h.capacity_min));
    cJSON_AddItemToObject(cap, "max", num_or_null(h.capacity_max));
    cJSON_AddItemToObject(cap, "marks", marks_json(h.capacity_flags));
    cJSON_AddStringToObject(cap, "meaning",
                            "the most closed-loop users with no failure: with users that never "
                            "think this is throughput x timeout (Little's law), not a server "
                            "limit");
    cJSON *held = cJSON_AddObjectToObject(o, "held_users");
    cJSON_AddItemToObject(held, "value", num_or_null(h.held_users));
    cJSON_AddStringToObject(held, "qualifier", h.held_qualifier);
    if (h.held_users >= 0 && h.held_limit[0])
        cJSON_AddStringToObject(held, "limit", h.held_limit);
    else
        cJSON_AddNullToObject(held, "limit");
    if (h.held_users >= 0 && h.held_setting[0])
        cJSON_AddStringToObject(held, "setting", h.held_setting);
    else
        cJSON_AddNullToObject(held, "setting");
    cJSON_AddItemToObject(held, "marks", marks_json(h.held_flags));
    cJSON *sv = cJSON_AddObjectToObject(o, "server_at_peak");
    cJSON_AddItemToObject(sv, "rss_max_mib", rounded_or_null(h.rss_mib, 1));
    cJSON_AddItemToObject(sv, "cpu_pct", rounded_or_null(h.cpu_pct, 1));
    if (h.peak_phase)
        cJSON_AddNumberToObject(sv, "users", h.peak_phase->users);
    else
        cJSON_AddNullToObject(sv, "users");
    cJSON_AddStringToObject(o, "versions", h.versions);
    return o;
}

/* A run's node fingerprint as the JSON object run.node.fingerprint. */
static cJSON *run_fingerprint_json(const struct run_record *r)
{
    cJSON *fp = cJSON_CreateObject();
    cJSON_AddStringToObject(fp, "cpu_model", r->node_cpu_model);
    cJSON_AddItemToObject(fp, "cpus", num_or_null(r->node_cpu_count));
    cJSON_AddStringToObject(fp, "kernel", r->node_kernel);
    cJSON_AddStringToObject(fp, "governor", r->node_governor);
    cJSON_AddStringToObject(fp, "python", r->node_python);
    cJSON_AddItemToObject(fp, "loadavg", num_or_null(r->node_loadavg));
    return fp;
}

static cJSON *cell_json(const struct cell_result *c, const struct run_record *r)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "framework", c->framework);
    cJSON_AddStringToObject(o, "payload", c->payload);
    cJSON_AddStringToObject(o, "status", cell_status_name(c->status));
    if (c->error)
        cJSON_AddStringToObject(o, "error", c->error);
    else
        cJSON_AddNullToObject(o, "error");
    cJSON *v = c->versions_json ? cJSON_Parse(c->versions_json) : NULL;
    cJSON_AddItemToObject(o, "versions", v && cJSON_IsObject(v) ? v : cJSON_CreateObject());
    if (v && !cJSON_IsObject(v))
        cJSON_Delete(v);
    cJSON_AddItemToObject(o, "capacity_users", num_or_null(c->capacity_users));
    cJSON_AddItemToObject(o, "breaking_users", num_or_null(c->breaking_users));
    cJSON_AddItemToObject(o, "peak_rps", round_num(c->peak_rps, 2));
    cJSON_AddBoolToObject(o, "peak_rps_load_bound", c->peak_rps_load_bound);
    cJSON_AddNumberToObject(o, "repeats", c->repeats);
    cJSON *sm = cJSON_AddObjectToObject(o, "summary");
    cJSON *cap = cJSON_AddObjectToObject(sm, "capacity_users");
    cJSON_AddItemToObject(cap, "median", num_or_null(c->capacity_median));
    cJSON_AddItemToObject(cap, "iqr", num_or_null(c->capacity_iqr));
    cJSON_AddItemToObject(cap, "min", num_or_null(c->capacity_min));
    cJSON_AddItemToObject(cap, "max", num_or_null(c->capacity_max));
    cJSON *pk = cJSON_AddObjectToObject(sm, "peak_rps");
    cJSON_AddItemToObject(pk, "median",
                          c->peak_rps_median < 0 ? cJSON_CreateNull()
                                                 : round_num(c->peak_rps_median, 2));
    cJSON_AddItemToObject(pk, "iqr",
                          c->peak_rps_iqr < 0 ? cJSON_CreateNull() : round_num(c->peak_rps_iqr, 2));
    cJSON_AddItemToObject(pk, "min",
                          c->peak_rps_min < 0 ? cJSON_CreateNull() : round_num(c->peak_rps_min, 2));
    cJSON_AddItemToObject(pk, "max",
                          c->peak_rps_max < 0 ? cJSON_CreateNull() : round_num(c->peak_rps_max, 2));
    cJSON_AddItemToObject(pk, "spread",
                          c->peak_rps_spread < 0 ? cJSON_CreateNull()
                                                 : round_num(c->peak_rps_spread, 4));
    if (c->note[0])
        cJSON_AddStringToObject(o, "note", c->note);
    else
        cJSON_AddNullToObject(o, "note");
    cJSON_AddItemToObject(o, "peak_rps_passing", rounded_or_null(c->peak_rps_passing, 2));
    cJSON *slos = cJSON_AddArrayToObject(o, "slo_bounds");
    for (int i = 0; i < c->nslo && i < CELL_MAX_SLO; i++) {
        const struct cell_slo *s = &c->slo[i];
        cJSON *x = cJSON_CreateObject();
        cJSON_AddItemToObject(x, "bound_ms", round_num(s->bound_ms, 3));
        cJSON_AddItemToObject(x, "rps", rounded_or_null(s->rps, 2));
        cJSON *br = cJSON_AddArrayToObject(x, "bracket");
        cJSON_AddItemToArray(br, rounded_or_null(s->bracket_lo, 2));
        cJSON_AddItemToArray(br, rounded_or_null(s->bracket_hi, 2));
        if (s->limit[0])
            cJSON_AddStringToObject(x, "limit", s->limit);
        else
            cJSON_AddNullToObject(x, "limit");
        cJSON_AddItemToObject(x, "latency_ms", latency_json(&s->latency_ms));
        cJSON_AddNumberToObject(x, "probes", s->probes);
        cJSON_AddItemToObject(x, "resolution_pct", round_num(s->resolution_pct, 2));
        cJSON_AddItemToObject(x, "failures_pct", round_num(s->failures_pct, 3));
        cJSON_AddItemToArray(slos, x);
    }
    if (c->nslo > 0)
        cJSON_AddItemToObject(o, "slo", cJSON_Duplicate(cJSON_GetArrayItem(slos, 0), 1));
    else
        cJSON_AddNullToObject(o, "slo");
    cJSON *lps = cJSON_AddArrayToObject(o, "load_points");
    for (int i = 0; i < c->nload_points && i < CELL_MAX_LOAD_POINTS; i++) {
        const struct load_point *lp = &c->load_points[i];
        cJSON *x = cJSON_CreateObject();
        cJSON_AddItemToObject(x, "pct_of_peak", round_num(lp->pct_of_peak, 1));
        if (lp->of_slo)
            cJSON_AddItemToObject(x, "pct_of_slo", round_num(lp->pct_of_peak, 1));
        cJSON_AddNumberToObject(x, "offered", (double)lp->offered);
        cJSON_AddNumberToObject(x, "completed", (double)lp->completed);
        cJSON_AddNumberToObject(x, "in_flight", (double)lp->in_flight);
        cJSON_AddBoolToObject(x, "clean",
                              lp->failures == 0 &&
                                  !(lp->offered > 0 && (double)lp->completed < 0.98 * lp->offered));
        cJSON_AddItemToObject(x, "offered_rps", num_or_null(lp->offered_rps));
        cJSON_AddItemToObject(x, "rps", round_num(lp->rps, 2));
        cJSON_AddItemToObject(x, "latency_ms", latency_json(&lp->latency_ms));
        cJSON_AddNumberToObject(x, "failures", (double)lp->failures);
        cJSON_AddItemToArray(lps, x);
    }
    cJSON_AddItemToObject(o, "held_users", num_or_null(c->held_users));
    if (c->held_limit[0])
        cJSON_AddStringToObject(o, "held_limit", c->held_limit);
    else
        cJSON_AddNullToObject(o, "held_limit");
    cJSON_AddBoolToObject(o, "held_censored",
                          c->held_users >= 0 && c->held_limit[0] &&
                              strcmp(c->held_limit, "server") != 0);
    /* The server setting held users stopped at: "waitress connection_limit 100". */
    if (c->held_setting[0])
        cJSON_AddStringToObject(o, "held_setting", c->held_setting);
    else
        cJSON_AddNullToObject(o, "held_setting");
    cJSON_AddItemToObject(o, "headline", headline_json(c));
    /* Where the cell ran: its own node (a Slurm allocation) or its run's. */
    cJSON *nd = cJSON_AddObjectToObject(o, "node");
    cJSON_AddStringToObject(nd, "host", c->node_host[0] ? c->node_host : r->node_host);
    if (c->slurm_job_id > 0)
        cJSON_AddNumberToObject(nd, "slurm_job_id", (double)c->slurm_job_id);
    else
        cJSON_AddNullToObject(nd, "slurm_job_id");
    /* The fingerprint of that node: its own when it had one (stored from the node's
     * run_start), else its run's; the same keys either way. */
    cJSON *fp = c->node_fingerprint[0] ? cJSON_Parse(c->node_fingerprint) : NULL;
    if (!cJSON_IsObject(fp)) {
        cJSON_Delete(fp);
        fp = run_fingerprint_json(r);
    }
    cJSON_AddItemToObject(nd, "fingerprint", fp);
    cJSON *ph = cJSON_AddArrayToObject(o, "phases");
    for (size_t i = 0; i < c->nphases; i++)
        cJSON_AddItemToArray(ph, phase_json(&c->phases[i]));
    return o;
}

char *cli_run_json(const struct run_record *r, int pretty)
{
    cJSON *root = cJSON_CreateObject();
    cJSON *run = cJSON_AddObjectToObject(root, "run");
    cJSON_AddNumberToObject(run, "id", (double)r->id);
    cJSON_AddStringToObject(run, "started_at", r->started_at);
    if (r->finished_at[0])
        cJSON_AddStringToObject(run, "finished_at", r->finished_at);
    else
        cJSON_AddNullToObject(run, "finished_at");
    cJSON_AddStringToObject(run, "trigger", r->trigger);
    cJSON_AddStringToObject(run, "status", r->status);
    if (r->profile[0])
        cJSON_AddStringToObject(run, "profile", r->profile);
    else
        cJSON_AddNullToObject(run, "profile");
    cJSON_AddStringToObject(run, "matrix_sha256", r->matrix_sha256);
    if (r->settings[0])
        cJSON_AddStringToObject(run, "settings", r->settings);
    cJSON *node = cJSON_AddObjectToObject(run, "node");
    cJSON_AddStringToObject(node, "host", r->node_host);
    cJSON_AddStringToObject(node, "cpus", r->node_cpus);
    cJSON_AddStringToObject(node, "kernel", r->node_kernel);
    cJSON_AddItemToObject(node, "fingerprint", run_fingerprint_json(r));
    cJSON *cells = cJSON_AddArrayToObject(root, "cells");
    for (size_t i = 0; i < r->ncells; i++)
        cJSON_AddItemToArray(cells, cell_json(&r->cells[i], r));
    char *s = pretty ? cJSON_Print(root) : cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    return s;
}
