/* test_pack.c - the worst case of a job on N slots (issue 23): exec_pack_max_s packs
 * the cells' worst cases cheapest first, each to the slot that frees first, and the
 * job's worst is the latest slot end. A table of cases, then the slot count and the
 * per-cell cap a Slurm matrix gives. */
#include <string.h>

#include "exec.h"
#include "t.h"

struct pack_case {
    const char *what;
    double cells[8];
    size_t n;
    int slots;
    double want;
};

static const struct pack_case cases[] = {
    {"the issue's example: 10->s1, 20->s2, 30->s1 ends 40, 40->s2 ends 60",
     {10, 20, 30, 40},
     4,
     2,
     60},
    {"given in any order, packed cheapest first", {40, 10, 30, 20}, 4, 2, 60},
    {"1 slot: the sum", {10, 20, 30, 40}, 4, 1, 100},
    {"as many slots as cells: the largest", {10, 20, 30, 40}, 4, 4, 40},
    {"more slots than cells: the largest", {10, 20, 30, 40}, 4, 1024, 40},
    {"3 slots: 5,5,5 then 10 on s1 ends 15, 50 on s2 ends 55", {50, 5, 10, 5, 5}, 5, 3, 55},
    {"equal cells on 2 slots: half the sum", {7, 7, 7, 7, 7, 7}, 6, 2, 21},
    {"an odd count on 2 slots", {7, 7, 7}, 3, 2, 14},
    {"no cells: 0", {0}, 0, 4, 0},
    {"slots below 1 count as 1", {1, 2}, 2, 0, 3},
};

int main(void)
{
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct pack_case *c = &cases[i];
        double got = exec_pack_max_s(c->cells, c->n, c->slots);
        if (got != c->want)
            T_FAIL("%s: %zu cells on %d slots: got %g, want %g", c->what, c->n, c->slots, got,
                   c->want);
        t_checks++;
    }

    /* A Slurm matrix: its slots, what each cell adds, and the time limit's cap. */
    static const char text[] =
        "version: 1\n"
        "node: {transport: slurm, slurm: {max_parallel: 3, time_limit: 90s}}\n"
        "payloads:\n"
        "  text: {path: /text, body: x}\n"
        "frameworks:\n"
        "  flask: {}\n";
    struct cfg_matrix *m = NULL;
    struct err e;
    err_clear(&e);
    CHECK_INT(cfg_load_string("slurm.yaml", text, strlen(text), &m, &e), ==, 0);
    if (m) {
        CHECK_INT(exec_slots(m), ==, 3);
        CHECK(exec_slurm_cell_extra_s(m) > exec_run_max_s(m)); /* the hand-off on top */
        /* 90 s is two whole minutes for Slurm, then the hand-off. */
        CHECK(exec_slurm_cell_cap_s(m) >= 120.0);
        CHECK(exec_slurm_cell_cap_s(m) < 120.0 + exec_slurm_cell_extra_s(m));
        /* No node.slurm.mfbench: this binary's copy is checked (a tool step: 20 s + 2 s
         * grace) and uploaded (its own 120 s + 2 s) before each cell; a path the matrix
         * names skips both. */
        double uploaded = exec_slurm_cell_extra_s(m);
        m->node.slurm.mfbench = (char *)"/shared/bin/mfbench"; /* not freed: reset below */
        CHECK_DBL(uploaded - exec_slurm_cell_extra_s(m), ==, 144.0);
        m->node.slurm.mfbench = NULL;
        m->node.transport = CFG_TRANSPORT_LOCAL;
        CHECK_INT(exec_slots(m), ==, 1);
        CHECK(exec_slurm_cell_extra_s(m) == 0);
        cfg_free(m);
    }
    T_DONE();
}
