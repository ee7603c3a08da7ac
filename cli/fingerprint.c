/* fingerprint.c - the node a run measured on, for the review commands: one
 * line describing it (show, run), and what changed between two runs' nodes
 * (compare, history), so a difference on another node is not called a regression. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

void cli_node_describe(const struct run_record *r, char *out, size_t n)
{
    char cpus[32] = "? CPUs", load[32] = "-";
    if (r->node_cpu_count > 0)
        snprintf(cpus, sizeof(cpus), "%d CPU%s", r->node_cpu_count,
                 r->node_cpu_count == 1 ? "" : "s");
    if (r->node_loadavg >= 0)
        snprintf(load, sizeof(load), "%.2f", r->node_loadavg);
    snprintf(out, n, "%s, %s, kernel %s, governor %s, python %s, load average %s at start",
             r->node_cpu_model[0] ? r->node_cpu_model : "CPU model unknown", cpus,
             r->node_kernel[0] ? r->node_kernel : "-", r->node_governor[0] ? r->node_governor : "-",
             r->node_python[0] ? r->node_python : "-", load);
}

/* Appends "what: a -> b" to out when both are known and differ. */
static int change(char *out, size_t n, const char *what, const char *a, const char *b)
{
    if (!a[0] || !b[0] || strcmp(a, b) == 0)
        return 0;
    size_t len = strlen(out);
    if (len < n)
        snprintf(out + len, n - len, "%s%s: %s -> %s", len ? "; " : "", what, a, b);
    return 1;
}

int cli_node_changes(const struct run_record *a, const struct run_record *b, char *out, size_t n)
{
    int k = 0;
    char ca[16] = "", cb[16] = "";
    if (n)
        out[0] = '\0';
    if (a->node_cpu_count > 0)
        snprintf(ca, sizeof(ca), "%d", a->node_cpu_count);
    if (b->node_cpu_count > 0)
        snprintf(cb, sizeof(cb), "%d", b->node_cpu_count);
    k += change(out, n, "cpu model", a->node_cpu_model, b->node_cpu_model);
    k += change(out, n, "cpus", ca, cb);
    k += change(out, n, "kernel", a->node_kernel, b->node_kernel);
    k += change(out, n, "governor", a->node_governor, b->node_governor);
    k += change(out, n, "python", a->node_python, b->node_python);
    return k;
}

void cli_cell_node_model(const struct run_record *r, const struct cell_result *c, char *model,
                         size_t n, int *cpus)
{
    snprintf(model, n, "%s", r->node_cpu_model);
    *cpus = r->node_cpu_count;
    if (!c->node_fingerprint[0])
        return;
    cJSON *fp = cJSON_Parse(c->node_fingerprint);
    if (cJSON_IsObject(fp)) { /* the cell's own node: what it said, unknown stays unknown */
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(fp, "cpu_model");
        const cJSON *k = cJSON_GetObjectItemCaseSensitive(fp, "cpus");
        snprintf(model, n, "%s", cJSON_IsString(m) ? m->valuestring : "");
        *cpus = cJSON_IsNumber(k) && k->valuedouble >= 1 && k->valuedouble < 1e7
                    ? (int)k->valuedouble
                    : -1;
    }
    cJSON_Delete(fp);
}

int cli_cells_node_changed(const struct run_record *ra, const struct cell_result *ca,
                           const struct run_record *rb, const struct cell_result *cb, char *out,
                           size_t n)
{
    if (n)
        out[0] = '\0';
    if (!ca->node_fingerprint[0] && !cb->node_fingerprint[0])
        return 0; /* both on their runs' nodes: the runs' comparison says it */
    char ma[128], mb[128], na[16] = "", nb[16] = "";
    int pa, pb;
    cli_cell_node_model(ra, ca, ma, sizeof(ma), &pa);
    cli_cell_node_model(rb, cb, mb, sizeof(mb), &pb);
    if (pa > 0)
        snprintf(na, sizeof(na), "%d", pa);
    if (pb > 0)
        snprintf(nb, sizeof(nb), "%d", pb);
    int k = change(out, n, "cpu model", ma, mb);
    k += change(out, n, "cpus", na, nb);
    return k > 0;
}
