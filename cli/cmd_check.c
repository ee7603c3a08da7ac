/* cmd_check.c - `mfbench check`: validate a matrix; errors as FILE:LINE:COL. With
 * --explain, describe matrix keys from the loader's own key table instead. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <stdlib.h>

#include "cli.h"
#include "config.h"
#include "exec.h"

static const char check_usage[] =
    "usage: mfbench check [-m FILE] [-p PROFILE] [--json]\n"
    "       mfbench check --explain [KEY]\n"
    "\n"
    "Validates a matrix and prints what it would run. Errors are printed on stderr as\n"
    "FILE:LINE:COL: message, and the exit status is 2.\n"
    "\n"
    "  -m, --matrix FILE    the matrix (default: $MFBENCH_MATRIX, else the built-in one)\n"
    "  -p, --profile NAME   also resolve every framework under this profile\n"
    "      --json           print {\"profiles\": {NAME: {\"cells\": N, \"max_duration_s\": S,\n"
    "                       \"slots\": K}}, \"nightly\": {\"profile\": NAME, \"max_duration_s\": "
    "S,\n"
    "                       \"slots\": K}} instead (K: cells at once, node.slurm.max_parallel)\n"
    "\n"
    "Each profile's worst case is an upper bound on a run of the whole matrix: the\n"
    "run's own steps once (the node's ssh session, its facts, the uploads, the stop\n"
    "of a server an earlier run left), then every cell's: every search at its most\n"
    "phases, each phase at full length plus the request timeout (the wait for\n"
    "requests in flight) and the node's commands around it (the sampler's start and\n"
    "finish, the alive check), a fresh server before each (the stop of the one\n"
    "before and of one left by its pid file, each 5 s of grace then up to 10 s\n"
    "after SIGKILL; the port check; the start; the readiness timeout and one alive\n"
    "check), load points, SLO probes and held users the same way, the venv (at\n"
    "least 600 s when pip builds it) and the versions, and the last stop. Every\n"
    "command counts at its timeout (node.command_timeout) plus what the transport\n"
    "takes to end one that outlived it; waiting for the node lock is not counted.\n"
    "On a Slurm node (node.transport slurm) each cell is on a node of its own: its\n"
    "run's own steps and the allocation's hand-off (salloc, squeue, srun, scancel\n"
    "at their timeouts) come with it, Slurm's time limit caps it, and the job's\n"
    "worst case is the cells' packed cheapest first on node.slurm.max_parallel\n"
    "slots (each to the slot that frees first; the latest end).\n"
    "The daemon skips a cell whose worst case does not fit in what is left of\n"
    "budget. The nightly is the profile named \"nightly\" (the defaults when there\n"
    "is none), as mfbench-nightly.service runs it.\n"
    "  -e, --explain [KEY]  print KEY's path, type, default, range and help (KEY as written\n"
    "                       in a matrix: defaults.users.max, frameworks.flask.workers,\n"
    "                       node.pip.args, or a bare name like spawn_rate); without KEY,\n"
    "                       list every key with a short help. An unknown KEY exits 2\n"
    "                       naming close matches or the keys of its section.\n"
    "  -h, --help           this text\n";

/* The first sentence of a help text (up to ". " or "; ", not inside "..."), cut to fit
 * one line. */
static void short_help(const char *help, char *out, size_t n)
{
    size_t len = 0;
    while (help[len] && len + 1 < n) {
        if ((help[len] == '.' || help[len] == ';') && (help[len + 1] == ' ' || !help[len + 1]) &&
            !(len > 0 && help[len - 1] == '.'))
            break;
        len++;
    }
    if (help[len] && len + 1 >= n) /* cut inside the sentence: say so */
        snprintf(out, n, "%.*s...", (int)(len - 3), help);
    else
        snprintf(out, n, "%.*s", (int)len, help);
}

static void explain_one(const struct cfg_key *k)
{
    char path[128], range[96];
    printf("key:     %s", cfg_key_path(k, path, sizeof path));
    if (k->scope == CFG_SCOPE_SETTINGS)
        printf(" (also profiles.NAME.%s, frameworks.NAME.%s)", k->name, k->name);
    printf("\ntype:    %s\n", cfg_key_type(k));
    if (k->syntax)
        printf("form:    %s\n", k->syntax);
    printf("default: %s\n", k->def);
    cfg_key_range(k, range, sizeof range);
    printf("range:   %s\n", range[0]                                              ? range
                            : (k->type == CFG_T_MAP || k->type == CFG_T_COMPOUND) ? "see form"
                                                                                  : "any");
    if (k->type == CFG_T_MAP && !(k->flags & CFG_K_NAMED)) {
        printf("keys:   ");
        for (size_t i = 0; i < cfg_nkeys; i++) {
            const struct cfg_key *s = &cfg_keys[i];
            size_t nl = strlen(k->name);
            if (s->scope == k->scope && !strncmp(s->name, k->name, nl) && s->name[nl] == '.')
                printf(" %s", s->name + nl + 1);
        }
        printf("\n");
    }
    printf("help:    %s\n", k->help);
}

/* --explain [KEY]: CLI_OK, or CLI_USAGE for an unknown key. */
static int explain(const char *key)
{
    char path[128], help[64];
    if (!key) {
        for (size_t i = 0; i < cfg_nkeys; i++) {
            short_help(cfg_keys[i].help, help, sizeof help);
            printf("%-37s %s\n", cfg_key_path(&cfg_keys[i], path, sizeof path), help);
        }
        return CLI_OK;
    }
    const struct cfg_key *k = cfg_key_find(key);
    if (k) {
        explain_one(k);
        return CLI_OK;
    }
    const struct cfg_key *near[64];
    int close = 0;
    size_t n = cfg_key_suggest(key, near, sizeof near / sizeof near[0], &close);
    char shown[256]; /* the key as typed may hold ESC or any byte: never echoed raw */
    fprintf(stderr, "mfbench check: unknown key '%s'%s", mf_printable(key, shown, sizeof shown),
            n == 0  ? "\n"
            : close ? "; close matches:"
                    : "; keys there:");
    for (size_t i = 0; i < n; i++)
        fprintf(stderr, "%s%s", i ? ", " : " ", cfg_key_path(near[i], path, sizeof path));
    if (n)
        fputc('\n', stderr);
    fprintf(stderr, "(mfbench check --explain lists every key)\n");
    return CLI_USAGE;
}

/* The servers' connection caps (frameworks.NAME.limits.connections) that held
 * users may stop at, and which of them the matrix sets. */
static void print_caps(const struct cfg_matrix *m)
{
    int any = 0;
    for (size_t i = 0; i < m->nframeworks; i++) {
        const struct cfg_limit *l = &m->frameworks[i].limits.connections;
        if (!l->setting)
            continue;
        if (!any++)
            printf("connection caps (held users that stop at one name it):\n");
        char v[32];
        snprintf(v, sizeof v, "%lld", (long long)l->value);
        printf("  %-20s %s %s (%s)\n", m->frameworks[i].name, l->setting, l->value > 0 ? v : "none",
               l->given ? "set by the matrix" : "the server's default");
    }
}

/* The worst case of a run of the whole matrix under profile (NULL: defaults):
 * the run's own steps, then every cell; the largest cell's in *cell_max_s
 * (may be NULL). On a Slurm node each cell is on a node of its own (its run's
 * steps and the hand-off with it) and exec_slots(m) of them run at once: the
 * cells' worst cases packed on that many slots. */
static double matrix_max_s(const struct cfg_matrix *m, const char *profile, size_t *cells,
                           double *cell_max_s)
{
    int slurm = m->node.transport == CFG_TRANSPORT_SLURM;
    double total = slurm ? 0 : exec_run_max_s(m), most = 0, extra = exec_slurm_cell_extra_s(m);
    size_t n = m->nframeworks * m->npayloads;
    double *each = slurm && n ? malloc(n * sizeof *each) : NULL;
    *cells = 0;
    for (size_t f = 0; f < m->nframeworks; f++)
        for (size_t p = 0; p < m->npayloads; p++) {
            struct cfg_cell c = {f, p};
            double s = exec_cell_max_s(m, profile, &c, NULL) + extra;
            if (slurm) /* Slurm ends an allocation at its time limit: the cell ends then */
                s = fmin(s, exec_slurm_cell_cap_s(m));
            total += s; /* the sum: also the bound when no memory is left to pack */
            most = s > most ? s : most;
            if (each)
                each[*cells] = s;
            (*cells)++;
        }
    if (each)
        total = exec_pack_max_s(each, n, exec_slots(m));
    free(each);
    if (cell_max_s)
        *cell_max_s = most;
    return total;
}

/* Warns where a profile's SLO search has a floor (slo.min_rps) below the least rate at
 * which a probe can pass at all: there every probe fails for want of samples, and a
 * cell slower than that least rate reads "< min_rps" though a longer window would
 * have measured it. Once per profile and bound (the settings of every framework
 * are looked at: a framework's own slo may differ). */
static void print_slo_floor(const struct cfg_matrix *m)
{
    for (size_t i = 0; i <= m->nprofiles; i++) {
        const char *prof = i < m->nprofiles ? m->profiles[i].name : NULL;
        for (size_t f = 0; f < m->nframeworks; f++) {
            struct cfg_settings st;
            struct err e;
            err_clear(&e);
            if (cfg_resolve(m, prof, &m->frameworks[f], &st, &e) || !st.slo.on)
                continue;
            int warned = 0;
            for (int b = 0; b < st.slo.nbounds && !warned; b++) {
                uint64_t need;
                double least = exec_slo_least_passable_rps(&st, st.slo.bounds_ms[b], &need);
                if (least <= st.slo.min_rps)
                    continue;
                char w[32];
                printf("warning: profile %s (%s): slo.min_rps %g is below %.0f req/s, the least "
                       "rate at which a probe can pass: the early-stopping rule needs %llu "
                       "samples and a probe at %g req/s holds at most %.0f in its longest window "
                       "(slo.window.max %s); raise slo.min_rps to %.0f or slo.window.max to %.0fs, "
                       "or a cell slower than %.0f req/s is reported \"< %g (min_rps)\" whatever "
                       "its capacity\n",
                       prof ? prof : "(defaults)", m->frameworks[f].name, st.slo.min_rps,
                       ceil(least), (unsigned long long)need, st.slo.min_rps,
                       floor(st.slo.min_rps * (double)st.slo.window_max_ms / 1000.0),
                       dur_format(st.slo.window_max_ms, w, sizeof w), ceil(least),
                       ceil((double)need / st.slo.min_rps), ceil(least), st.slo.min_rps);
                warned = 1;
            }
            if (warned)
                break; /* once per profile */
        }
    }
}

static const char *hms(double s, char *buf, size_t n)
{
    long t = (long)ceil(s); /* a bound: never rounded down */
    snprintf(buf, n, "%ldh%02ldm%02lds", t / 3600, t / 60 % 60, t % 60);
    return buf;
}

static int print_estimates(const struct cfg_matrix *m, int json)
{
    const char *nightly = cfg_find_profile(m, "nightly") ? "nightly" : NULL;
    size_t cells;
    char b[32], on[48] = "";
    int slots = exec_slots(m);
    if (m->node.transport == CFG_TRANSPORT_SLURM)
        snprintf(on, sizeof on, " on %d slot%s", slots, slots == 1 ? "" : "s");
    if (!json) {
        double d = matrix_max_s(m, NULL, &cells, NULL);
        printf("worst case per profile (cells, whole matrix%s):\n  %-14s %4zu cells  %s\n",
               on[0] ? on : "", "(defaults)", cells, hms(d, b, sizeof b));
        for (size_t i = 0; i < m->nprofiles; i++) {
            d = matrix_max_s(m, m->profiles[i].name, &cells, NULL);
            printf("  %-14s %4zu cells  %s\n", m->profiles[i].name, cells, hms(d, b, sizeof b));
        }
        if (on[0]) {
            size_t over = 0;
            for (size_t f = 0; f < m->nframeworks; f++)
                for (size_t p = 0; p < m->npayloads; p++) {
                    struct cfg_cell c = {f, p};
                    if (exec_cell_max_s(m, nightly, &c, NULL) + exec_slurm_cell_extra_s(m) >
                        exec_slurm_cell_cap_s(m))
                        over++;
                }
            if (over)
                printf("warning: %zu cells' worst case under the nightly is past "
                       "node.slurm.time_limit (%s): Slurm may end them (error), and the bound "
                       "counts them at the limit\n",
                       over, dur_format(m->node.slurm.time_limit_ms, b, sizeof b));
        }
        if (on[0])
            printf("each cell on a Slurm node of its own: its run's own steps and the "
                   "allocation's hand-off (salloc, squeue, srun, scancel at their timeouts) add "
                   "%.0fs per cell; the cells' worst cases packed cheapest first on %d slots "
                   "(node.slurm.max_parallel); time queued behind other jobs is not counted\n",
                   exec_slurm_cell_extra_s(m), slots);
        if (m->nframeworks > 0) {
            struct exec_worst_parts w;
            exec_worst_parts(m, &m->frameworks[0], &w);
            printf("the node's steps in it (command timeout %.0fs): %.0fs once per run, %.0fs per "
                   "cell and the venv, %.0fs per fresh server and the readiness timeout, %.0fs "
                   "per phase beside its length and drain\n",
                   (double)m->node.command_timeout_ms / 1000.0, w.run_s, w.cell_end_s, w.server_s,
                   w.phase_s);
        }
        double most = 0;
        d = matrix_max_s(m, nightly, &cells, &most);
        printf("nightly: profile %s, at most %s%s", nightly ? nightly : "(defaults)",
               hms(d, b, sizeof b), on);
        if (m->budget_ms > 0) {
            double budget = (double)m->budget_ms / 1000.0;
            char b2[32];
            printf(" (budget %s", hms(budget, b, sizeof b));
            if (most > budget)
                printf(": a cell's worst case is up to %s, more than the whole budget: such cells "
                       "are always skipped",
                       hms(most, b2, sizeof b2));
            else if (d > budget)
                printf(": a cell runs when its own worst case, at most %s, fits in what is left",
                       hms(most, b2, sizeof b2));
            printf(")");
        }
        printf("\n");
        return CLI_OK;
    }
    cJSON *root = cJSON_CreateObject(), *pr = cJSON_AddObjectToObject(root, "profiles");
    for (size_t i = 0; pr && i < m->nprofiles; i++) {
        double d = matrix_max_s(m, m->profiles[i].name, &cells, NULL);
        cJSON *o = cJSON_AddObjectToObject(pr, m->profiles[i].name);
        cJSON_AddNumberToObject(o, "cells", (double)cells);
        cJSON_AddNumberToObject(o, "max_duration_s", ceil(d)); /* a bound: never rounded down */
        cJSON_AddNumberToObject(o, "slots", slots);
    }
    cJSON *n = cJSON_AddObjectToObject(root, "nightly");
    if (nightly)
        cJSON_AddStringToObject(n, "profile", nightly);
    else
        cJSON_AddNullToObject(n, "profile");
    cJSON_AddNumberToObject(n, "max_duration_s", ceil(matrix_max_s(m, nightly, &cells, NULL)));
    cJSON_AddNumberToObject(n, "slots", slots);
    if (m->budget_ms > 0)
        cJSON_AddNumberToObject(n, "budget_s", (double)m->budget_ms / 1000.0);
    char *s = cJSON_Print(root);
    cJSON_Delete(root);
    if (!s)
        return CLI_FAILED;
    puts(s);
    free(s);
    return CLI_OK;
}

int cli_cmd_check(int argc, char **argv)
{
    static const struct option opts[] = {
        {"matrix", required_argument, NULL, 'm'}, {"profile", required_argument, NULL, 'p'},
        {"explain", no_argument, NULL, 'e'},      {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0}};
    const char *path = NULL, *profile = NULL;
    int c, explaining = 0, json = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "m:p:eh", opts, NULL)) != -1) {
        switch (c) {
        case 'm':
            path = optarg;
            break;
        case 'p':
            profile = optarg;
            break;
        case 'e':
            explaining = 1;
            break;
        case 'j':
            json = 1;
            break;
        case 'h':
            fputs(check_usage, stdout);
            return CLI_OK;
        default:
            fputs(check_usage, stderr);
            return CLI_USAGE;
        }
    }
    if (explaining && optind + 1 >= argc)
        return explain(optind < argc ? argv[optind] : NULL);
    if (optind < argc) {
        fprintf(stderr, "mfbench check: unexpected argument '%s'\n%s", argv[optind], check_usage);
        return CLI_USAGE;
    }
    struct cfg_matrix *m = NULL;
    int rc = cli_load_matrix(path, &m);
    if (rc)
        return rc;
    struct err e;
    err_clear(&e);
    for (size_t i = 0; i < m->nframeworks; i++) {
        struct cfg_settings st;
        if (cfg_resolve(m, profile, &m->frameworks[i], &st, &e)) {
            cli_print_err(&e);
            cfg_free(m);
            return CLI_USAGE;
        }
    }
    /* The files a run reads here, refused as run would refuse them (issue 25). */
    if (cfg_check_files(m, exec_targets_dir(NULL), &e)) {
        cli_print_err(&e);
        cfg_free(m);
        return CLI_USAGE;
    }
    if (json) {
        rc = print_estimates(m, 1);
        cfg_free(m);
        return rc;
    }
    printf("%s: ok: %zu frameworks x %zu payloads = %zu cells, node %s", m->path, m->nframeworks,
           m->npayloads, m->nframeworks * m->npayloads,
           m->node.transport == CFG_TRANSPORT_SSH     ? "ssh"
           : m->node.transport == CFG_TRANSPORT_SLURM ? "slurm"
                                                      : "local");
    if (m->node.transport == CFG_TRANSPORT_SSH)
        printf(" %s@%s:%d", m->node.user, m->node.host, m->node.port);
    if (m->node.transport == CFG_TRANSPORT_SLURM)
        printf(" (partition %s, time limit %lldm, at most %d at once)",
               m->node.slurm.partition ? m->node.slurm.partition : "default",
               (long long)((m->node.slurm.time_limit_ms + 59999) / 60000),
               m->node.slurm.max_parallel);
    printf("\nprofiles:");
    for (size_t i = 0; i < m->nprofiles; i++)
        printf(" %s", m->profiles[i].name);
    printf("%s\n", m->nprofiles ? "" : " (none)");
    if (cfg_has_db_payload(m)) {
        /* Which database the database payloads talk to, and where it runs. */
        char db[300], cpus[64];
        int shared = 0;
        cfg_database_describe(&m->database, db, sizeof db);
        printf("database: %s", db);
        if (m->database.provision == CFG_DB_LOCAL) {
            /* The node's CPUs are known here only when it is this machine. */
            long n = m->node.transport == CFG_TRANSPORT_LOCAL ? sysconf(_SC_NPROCESSORS_ONLN) : 0;
            cfg_database_cpus(m, n > 0 && n < CPU_SETSIZE ? (int)n : 0, cpus, sizeof cpus, &shared);
            if (m->database.cpus || n > 0)
                printf(", CPUs %s%s", cpus[0] ? cpus : "not pinned",
                       shared ? " (warning: no CPU free of node.cpus and load.cpus: shared)" : "");
            else
                printf(", CPUs: the node's first free of node.cpus");
        }
        printf("\n");
    }
    print_caps(m);
    print_slo_floor(m);
    rc = print_estimates(m, 0);
    cfg_free(m);
    return rc;
}
