/* headline.h - the figures a reader wants first for a cell (peak req/s over
 * repeats with its spread, latency at 50% and 90% of peak, capacity and held
 * users, server RSS and CPU at the peak, versions) and the marks that qualify
 * them. One pure function used by show, report and run; no I/O. */
#ifndef MFBENCH_HEADLINE_H
#define MFBENCH_HEADLINE_H

#include <stddef.h>

#include "result.h"

/* Why a figure is not the server's plain limit (a bit set). */
#define HL_LOAD_BOUND 1u   /* the server kept up with all that was offered: the load shape */
#define HL_CLIENT_BOUND 2u /* the load engine (its core, descriptors or ports) limited it */
#define HL_NOISY 4u        /* steal or neighbours took over 5% of the server's CPUs */
#define HL_UNCLEAN 8u      /* the phase had failures or completed < 98% of what it offered */
#define HL_DB_BOUND 16u    /* the run's database used 90% of its CPUs: it was the limit */
#define HL_LAST HL_DB_BOUND

/* The legend of the marks, one line per flag, in this order. */
#define HL_MARK_LOAD "\u2020"   /* dagger */
#define HL_MARK_CLIENT "\u2021" /* double dagger */
#define HL_MARK_NOISY "~"
#define HL_MARK_UNCLEAN "!"
#define HL_MARK_DB "\u00a7" /* section sign */

/* Latency at a share of the SLO capacity (or of the peak), from the cell's
 * load_points. */
struct hl_latency {
    double pct;            /* 50, 80, 90 */
    int of_slo;            /* a share of the SLO capacity (1) or of the peak (0) */
    int unclean;           /* failures, or completed < 98% of offered: not a clean point */
    double p50_ms, p99_ms; /* -1 = not measured */
    unsigned flags;        /* of the load phase that measured it (noisy, client-bound) */
};

/* What a figure is (issue 21's qualifiers; JSON "qualifier"). */
#define HL_Q_MEASURED "measured"
#define HL_Q_MAX "lower_bound_max"
#define HL_Q_CLIENT "lower_bound_client"
/* SLO capacity only: the search stopped because other processes took the server's CPUs
 * (limit "shared"): the highest passing rate, a lower bound. */
#define HL_Q_SHARED "lower_bound_shared"
#define HL_Q_NOT_JUDGED "not_judged"
/* SLO capacity only: the profile's min_rps failed, so the capacity is below it
 * (rps 0, band [null, min_rps]): an upper bound, printed "< N (min_rps)". */
#define HL_Q_BELOW_MIN "upper_bound_min_rps"

/* SLO capacity at the headline's bound (the cell's first slo). */
struct hl_slo {
    int has;              /* the cell measured one */
    double bound_ms, rps; /* rps -1 = none found */
    double lo, hi;        /* its band */
    char limit[16];
    const char *qualifier; /* HL_Q_* */
    struct latency_ms latency_ms;
    int probes;
    double resolution_pct; /* the search's resolution: the band it promises */
};

struct headline {
    int measured; /* the cell has a phase of the throughput search */
    struct hl_slo slo;
    int repeats; /* searches found among its phases */
    /* Peak: each search's highest req/s; the median over searches (type 7, the
     * mean of the two middle ones for an even count), min and max. -1 = none. */
    double peak_rps, peak_min, peak_max;
    unsigned peak_flags;
    /* The phase of the peak of the (lower) median search; NULL when none. */
    const struct phase_result *peak_phase;
    /* The cell's first two load points (pct 0 and p50 -1 when absent). */
    struct hl_latency load[2];
    /* The closed-loop peak of passing search phases only (-1 = none). */
    double peak_passing;
    /* Capacity: the cell's (median) capacity, with min and max over repeats (-1 = null). */
    int capacity_users;
    double capacity_min, capacity_max;
    unsigned capacity_flags; /* of the phase at capacity */
    /* The seed's layout: the phase at capacity (else the first one tried). */
    const struct phase_result *capacity_phase;
    int held_users;             /* -1 = not measured (also without a held_limit) */
    const char *held_qualifier; /* HL_Q_*: server = measured, max/client = lower bound */
    char held_limit[32];        /* "server", "descriptors", "ports", "max", "" */
    char held_setting[96];      /* the server setting it stopped at ("waitress connection_limit
                                   100"), or "" */
    unsigned held_flags;
    double rss_mib, cpu_pct; /* server at the peak phase; -1 = not sampled */
    unsigned flags;          /* every flag above together: which legend lines apply */
    char versions[256];      /* "flask 2.2.2, python 3.11.2" in stored order; "" = none */
};

/* A phase is a clean point when it had no failure and completed at least this
 * share of the requests it offered (intended). */
#define HL_CLEAN_SHARE 0.98
int headline_phase_unclean(const struct phase_result *p);
int headline_load_point_unclean(const struct load_point *lp);

/* Fills *h from c. Pure: reads c only; h's pointers point into c->phases. */
void headline_compute(const struct cell_result *c, struct headline *h);

/* The marks of flags ("\u2020~"), "" for none; writes into buf and returns it. */
const char *headline_marks(unsigned flags, char *buf, size_t n);

/* The legend line of one flag ("\u2020 load-bound: ..."). */
const char *headline_legend(unsigned flag);

#endif
