/* result.c - names and memory handling of the shared result structs. */
#include "result.h"
#include "common.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char *const fail_names[FAIL__COUNT] = {"connect", "timeout",  "reset", "status",
                                                    "body",    "protocol", "client"};

const char *fail_kind_name(enum fail_kind k)
{
    return (unsigned)k < FAIL__COUNT ? fail_names[k] : "unknown";
}

static const char *const cell_names[CELL__COUNT] = {"ok",        "failed",      "error",  "skipped",
                                                    "cancelled", "interrupted", "running"};

const char *cell_status_name(enum cell_status s)
{
    return (unsigned)s < CELL__COUNT ? cell_names[s] : "unknown";
}

int cell_status_parse(const char *s, enum cell_status *out)
{
    for (int i = 0; i < CELL__COUNT; i++)
        if (strcmp(s, cell_names[i]) == 0) {
            *out = (enum cell_status)i;
            return 0;
        }
    return -EINVAL;
}

int phase_in_search(const struct phase_result *p)
{
    return !p->kind[0] || !strcmp(p->kind, "ladder") || !strcmp(p->kind, "bisect");
}

double cell_peak_passing(const struct cell_result *c)
{
    enum { MAX_SEARCHES = 64 };
    double best[MAX_SEARCHES];
    int rep[MAX_SEARCHES], n = 0;
    for (size_t k = 0; k < c->nphases; k++) {
        const struct phase_result *p = &c->phases[k];
        if (!phase_in_search(p) || p->stop_reason[0])
            continue;
        int j = 0;
        while (j < n && rep[j] != p->repeat)
            j++;
        if (j == n) {
            if (n == MAX_SEARCHES)
                continue;
            rep[n] = p->repeat;
            best[n++] = p->rps;
        } else if (p->rps > best[j]) {
            best[j] = p->rps;
        }
    }
    if (n == 0)
        return -1;
    mf_sort_doubles(best, (size_t)n);
    return mf_quantile(best, (size_t)n, 0.5);
}

const struct phase_result *cell_capacity_phase(const struct cell_result *c)
{
    const struct phase_result *best = NULL;
    for (size_t k = 0; k < c->nphases; k++) {
        const struct phase_result *p = &c->phases[k];
        if (c->capacity_users >= 0 && p->users == c->capacity_users && !p->stop_reason[0] &&
            phase_in_search(p))
            best = p;
    }
    if (!best && c->nphases && phase_in_search(&c->phases[0]))
        best = &c->phases[0];
    return best;
}

void phase_result_init(struct phase_result *p)
{
    memset(p, 0, sizeof(*p));
    p->server_rss_max_kb = p->server_rss_mean_kb = -1;
    p->server_cpu_pct = p->server_cpu_max_pct = -1;
    p->server_threads_max = p->server_fds_max = -1;
    p->steal_pct = p->neighbour_cpu_pct = -1;
    p->client_steal_pct = p->client_neighbour_cpu_pct = -1;
    p->db_cpu_pct = p->db_cpu_max_pct = p->db_rss_max_kb = -1;
}

int cell_result_add_phase(struct cell_result *c, const struct phase_result *p)
{
    if (c->nphases == c->phases_cap) {
        size_t cap = c->phases_cap ? c->phases_cap * 2 : 8;
        struct phase_result *n = realloc(c->phases, cap * sizeof(*n));
        if (!n)
            return -ENOMEM;
        c->phases = n;
        c->phases_cap = cap;
    }
    c->phases[c->nphases++] = *p;
    return 0;
}

void cell_result_free(struct cell_result *c)
{
    free(c->error);
    free(c->versions_json);
    free(c->phases);
    c->error = c->versions_json = NULL;
    c->phases = NULL;
    c->nphases = c->phases_cap = 0;
}

void run_record_free(struct run_record *r)
{
    for (size_t i = 0; i < r->ncells; i++)
        cell_result_free(&r->cells[i]);
    free(r->cells);
    r->cells = NULL;
    r->ncells = 0;
}
