/* cli.h - the mfbench subcommands. Each takes the arguments after its name
 * (argv[0] is the subcommand) and returns the process exit code:
 * 0 success, 1 the work ran and something failed, 2 bad usage or invalid matrix. */
#ifndef MFBENCH_CLI_H
#define MFBENCH_CLI_H

#include "common.h"
#include "result.h"
#include "review.h"
#include "judge.h"

#define CLI_OK 0
#define CLI_FAILED 1
#define CLI_USAGE 2

int cli_cmd_check(int argc, char **argv);
int cli_cmd_run(int argc, char **argv);
/* `mfbench store-events`: a `run --json-events` stream stored as a run (cmd_run.c). */
int cli_cmd_store_events(int argc, char **argv);
int cli_cmd_load(int argc, char **argv);
int cli_cmd_history(int argc, char **argv);
int cli_cmd_show(int argc, char **argv);
/* cmd_trigger.c: clients of mfbenchd's control socket. */
int cli_cmd_trigger(int argc, char **argv);
int cli_cmd_status(int argc, char **argv);
int cli_cmd_cancel(int argc, char **argv);

/* Prints "mfbench: <formatted err>" on stderr (input errors as FILE:LINE:COL: msg). */
void cli_print_err(const struct err *e);

/* The whole front end (dispatch.c): what `mfbench ARGS...` does; returns the exit status. */
int cli_main(int argc, char **argv);

/* Set by SIGINT/SIGTERM (signals.c installs the handlers); the engine polls it. */
#include <stdatomic.h>
extern atomic_int cli_interrupted;
void cli_install_signals(void);

struct cfg_matrix;
struct store;
struct run_record;
/* Loads -m FILE ("-": stdin, named <stdin> in errors), else $MFBENCH_MATRIX,
 * else the embedded default. Prints the error and returns CLI_USAGE on failure. */
int cli_load_matrix(const char *path, struct cfg_matrix **m);
/* Opens the store by DESIGN.md's path rules; prints the error on failure. */
int cli_open_store(const char *path, struct store **s);
/* The same for the review commands: read-only when the store is not this
 * user's to write (store_open_reader). */
int cli_open_store_reader(const char *path, struct store **s);
/* The result JSON of DESIGN.md for a run. Caller frees. */
char *cli_run_json(const struct run_record *r, int pretty);
/* The results table of a run: a summary line per cell, then its phases. */
#include <stdio.h>
void cli_print_run_table(FILE *f, const struct run_record *r);
struct cfg_matrix;
struct cfg_cell;
struct store;
/* `mfbench run` on a Slurm node (run_slurm.c): begins the run in store, dispatches
 * the cells (exec/dispatch.c), finishes the run and prints its table (or --json). A
 * CLI_ exit code. */
int cli_run_slurm(const struct cfg_matrix *m, const char *profile, const char *targets_dir,
                  struct store *store, const struct cfg_cell *cells, size_t ncells, int json,
                  int quiet);
/* Parses a run id ("7" or "last"). */
int cli_parse_run_id(struct store *s, const char *arg, int64_t *id);

/* Review (cmd_history.c, cmd_show.c, cmd_compare.c, cmd_report.c). */
int cli_cmd_compare(int argc, char **argv);
int cli_cmd_prune(int argc, char **argv);
int cli_cmd_report(int argc, char **argv);
/* Prints a line per regression of the cells of run_id (a value outside median
 * +- 3 x MAD of the previous 7 ok runs of the same cell, or ok -> failed) to
 * out. Returns how many, or a negative errno (-ENOENT: no such run). */
int cli_regressions_for_run(struct store *s, int64_t run_id, FILE *out);
/* The regression band of `history --regressions` (cmd_history.c): window
 * previous comparable ok runs, median +- k x MAD. */
struct store_history_row;
#define CLI_REGRESS_WINDOW 7
#define CLI_REGRESS_K 3.0
/* The runs met so far, for history and the report's charts: each run's record
 * without its cells (its settings and node fingerprint) and the figures of its
 * cells (judge.h). Zero-initialise; free with cli_fp_cache_free. */
struct cli_fp_run;
struct cli_fp_cache {
    struct cli_fp_run *r;
    size_t n, cap;
};
/* Run id's record without its cells, owned by the cache (valid until the next
 * call); NULL when it cannot be read (its node is then unknown, never a change). */
const struct run_record *cli_fp_get(struct store *s, struct cli_fp_cache *c, int64_t id);
/* The figures (CLI_FIG__COUNT of them) of cell cell_id of run id, owned by the
 * cache (valid until the next call); NULL when unknown. */
const struct cli_fig_value *cli_fp_figures(struct store *s, struct cli_fp_cache *c, int64_t id,
                                           int64_t cell_id);
/* What history shows of a cell beside its judged figures, by the definitions
 * show uses (never computed in SQL): p50/p99 of the phase at capacity
 * (cell_capacity_phase, as in show's seed table), the server's RSS max over
 * the cell's phases (cli_cell_rss_max) and at the peak (the headline's), and
 * held users (the headline's). -1 = none. */
struct cli_cell_shown {
    double p50_ms, p99_ms;
    double rss_max_kb, rss_at_peak_mib;
    int held_users;
};
void cli_cell_shown_of(const struct cell_result *c, struct cli_cell_shown *out);
/* The same of cell cell_id of run id, owned by the cache (valid until the next
 * call); NULL when unknown. */
const struct cli_cell_shown *cli_fp_shown(struct store *s, struct cli_fp_cache *c, int64_t id,
                                          int64_t cell_id);
void cli_fp_cache_free(struct cli_fp_cache *c);
/* How history judges chron[i] (the rows of one cell, oldest first): against
 * the up to `window` previous ok rows of other runs that are comparable with
 * it (cli_runs_comparable: same profile and settings), each headline figure in
 * judge.h's order by cli_fig_band_judge. */
struct cli_history_verdict {
    struct cli_fig_value x[CLI_FIG_JUDGED]; /* the row's figures */
    enum rv_mark mark[CLI_FIG_JUDGED];
    struct rv_band band[CLI_FIG_JUDGED];
    size_t nprev;    /* comparable previous ok runs judged against */
    char node[256];  /* what changed on the node against one of them ("" = none) */
    char brk[256];   /* the previous ok run is not comparable: "settings differ (...)" */
    char failed[16]; /* the row failed after a comparable ok run: that run's status */
};
void cli_history_judge(struct store *s, struct cli_fp_cache *fc,
                       struct store_history_row *const *chron, size_t i, int window, double k,
                       struct cli_history_verdict *v);
/* Server RSS max over the cell's phases in KiB; -1 when not sampled. */
double cli_cell_rss_max(const struct cell_result *c);
/* The markdown page of a run: its node, profile and settings, then one table
 * per payload: the headline figures, or with seed the seed's columns (the
 * phase at capacity); figures of load-bound, client-bound or noisy phases
 * marked, with a legend. */
void cli_print_run_md(FILE *f, const struct run_record *r, int seed);
/* Why a run has no measured cell ("every cell of this run was skipped"), or
 * NULL when it has one. */
const char *cli_no_measured_cells(const struct run_record *r);
/* The profile's settings as the stored phases show them: "phases of 60 s
 * (warm-up excluded), users 500 to 2000 (4 levels), 3 searches per cell,
 * latency at 50% and 90% of peak, matrix sha256 0123456789ab". */
void cli_run_settings(const struct run_record *r, char *out, size_t n);
/* The headline figures as text with their marks (cmd_show.c), "-" when unknown. */
struct headline;
struct hl_latency;
void cli_hl_slo(const struct headline *h, char *buf, size_t n);
void cli_hl_slo_band(const struct headline *h, char *buf, size_t n);
void cli_hl_peak(const struct headline *h, char *buf, size_t n);
void cli_hl_spread(const struct headline *h, char *buf, size_t n);
void cli_hl_latency(const struct hl_latency *l, int p99, char *buf, size_t n);
void cli_hl_capacity(const struct headline *h, char *buf, size_t n);
void cli_hl_held(const struct headline *h, char *buf, size_t n);
/* The server's RSS in MiB (cpu 0) or CPU % (cpu 1) in the phase of the peak. */
void cli_hl_server(const struct headline *h, int cpu, char *buf, size_t n);
/* The headline figures, in the tables' column order (issue 19's order): SLO
 * capacity at the first bound (a lower bound as ">= N (max)"), its band, p50
 * and p99 at the first load point, p50 and p99 at the second, the closed-loop
 * peak of passing phases, its spread over searches, held users (a lower bound
 * as ">= N (max)"), the server's RSS and CPU at the peak. */
#define CLI_HL_NFIG 11
#define CLI_HL_FIGLEN 160
/* The heads of those columns for run r ("slo req/s", ..., "p99@80%", ...; with
 * long_form the tables' words: "SLO capacity (req/s)", "p99 at 80% (ms)"): the
 * load points' shares are the first measured cell's. heads[k] has 32 bytes. */
void cli_hl_heads(const struct run_record *r, char heads[][32], int long_form);
/* One line saying what the columns are (bound, shares of what), for r. */
void cli_hl_explain(const struct run_record *r, char *buf, size_t n);
void cli_hl_figures(const struct headline *h, char v[][CLI_HL_FIGLEN]);

/* The node's fingerprint (fingerprint.c): "CPU model, N CPUs, kernel K,
 * governor G, python P, load average L at start" ("-" for what is unknown). */
void cli_node_describe(const struct run_record *r, char *out, size_t n);
/* What differs between the nodes of runs a and b: the CPU model, CPU count,
 * kernel, governor or python (not the load average), each known on both sides
 * (empty or unknown on either side is not a change). Writes "kernel: 6.1 ->
 * 6.5; python: 3.11.2 -> 3.12.1" to out ("" when nothing) and returns how
 * many fields differ. */
int cli_node_changes(const struct run_record *a, const struct run_record *b, char *out, size_t n);
/* The CPU model and count of the node cell c (of run r) ran on: its own fingerprint
 * (cells.node_fingerprint, a Slurm cell's) when it has one, else its run's; *cpus -1 when
 * unknown. */
void cli_cell_node_model(const struct run_record *r, const struct cell_result *c, char *model,
                         size_t n, int *cpus);
/* 1 when cells ca (of run ra) and cb (of rb) ran on different node models: the CPU model
 * or the CPU count differ where both are known, and at least one cell had a node of its
 * own (else the runs' nodes are compared by cli_node_changes). out gets what differs
 * ("cpu model: A -> B; cpus: 8 -> 16"). */
int cli_cells_node_changed(const struct run_record *ra, const struct cell_result *ca,
                           const struct run_record *rb, const struct cell_result *cb, char *out,
                           size_t n);

#endif
