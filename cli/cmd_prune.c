/* cmd_prune.c - `mfbench prune`: deletes old runs from the store, with their
 * cells, phases and per-second series, so a nightly store does not grow for
 * ever. Nothing goes unless asked: an age, a number of newest runs to keep, or
 * both (then a run goes only when it is old AND not among the newest). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "store.h"

static const char prune_usage[] =
    "usage: mfbench prune [--older-than AGE] [--keep N] [--dry-run] [--store DB]\n"
    "\n"
    "Deletes stored runs (their cells, phases and per-second series too).\n"
    "\n"
    "  --older-than AGE  runs started more than AGE ago: 90d, 12w, 36h\n"
    "  --keep N          never the N newest runs (alone: all but the N newest)\n"
    "  --dry-run         say what would go, delete nothing\n"
    "  --store DB        the store (default: $MFBENCH_STORE, see mfbench(1))\n"
    "  -h, --help        this text\n"
    "\n"
    "A run still running is never deleted. Exit status: 0 done, 1 the store\n"
    "failed, 2 bad usage.\n";

/* "90d", "12w", "36h" -> seconds; -1 if malformed or out of range. */
static int64_t parse_age(const char *s)
{
    char *end;
    errno = 0;
    long long n = strtoll(s, &end, 10);
    if (errno || end == s || n <= 0 || end[0] == 0 || end[1] != 0)
        return -1;
    int64_t unit;
    switch (end[0]) {
    case 'h':
        unit = 3600;
        break;
    case 'd':
        unit = 86400;
        break;
    case 'w':
        unit = 7 * 86400;
        break;
    default:
        return -1;
    }
    if (n > 100LL * 365 * 86400 / unit)
        return -1; /* more than a century */
    return (int64_t)n * unit;
}

int cli_cmd_prune(int argc, char **argv)
{
    static const struct option opts[] = {{"older-than", required_argument, NULL, 'o'},
                                         {"keep", required_argument, NULL, 'k'},
                                         {"dry-run", no_argument, NULL, 'n'},
                                         {"store", required_argument, NULL, 's'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *store_path = NULL;
    int64_t age = -1, keep = -1;
    int dry_run = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'o':
            if ((age = parse_age(optarg)) < 0) {
                fprintf(stderr,
                        "mfbench prune: --older-than wants a positive age in hours, days or "
                        "weeks (36h, 90d, 12w), not '%s'\n",
                        optarg);
                return CLI_USAGE;
            }
            break;
        case 'k': {
            char *end;
            errno = 0;
            long long n = strtoll(optarg, &end, 10);
            if (errno || end == optarg || *end || n < 0) {
                fprintf(stderr, "mfbench prune: --keep wants a number >= 0, not '%s'\n", optarg);
                return CLI_USAGE;
            }
            keep = n;
            break;
        }
        case 'n':
            dry_run = 1;
            break;
        case 's':
            store_path = optarg;
            break;
        case 'h':
            fputs(prune_usage, stdout);
            return CLI_OK;
        default:
            fputs(prune_usage, stderr);
            return CLI_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "mfbench prune: unexpected argument '%s'\n%s", argv[optind], prune_usage);
        return CLI_USAGE;
    }
    if (age < 0 && keep < 0) {
        fprintf(stderr,
                "mfbench prune: say what to delete: --older-than AGE, --keep N, or both\n%s",
                prune_usage);
        return CLI_USAGE;
    }
    char before[32] = "";
    if (age >= 0)
        iso8601_utc(time(NULL) - (time_t)age, before, sizeof(before));

    struct store *s = NULL;
    int rc = cli_open_store(store_path, &s);
    if (rc)
        return rc;
    struct store_prune_stats st;
    struct err e;
    err_clear(&e);
    if (store_prune(s, age >= 0 ? before : NULL, keep, dry_run, &st, &e)) {
        cli_print_err(&e);
        store_close(s);
        return CLI_FAILED;
    }
    store_close(s);
    char why[96] = "", keeping[64] = "";
    if (age >= 0)
        snprintf(why, sizeof(why), " started before %s", before);
    if (keep >= 0)
        snprintf(keeping, sizeof(keeping), "; the newest %lld kept", (long long)keep);
    printf("%s %lld run%s (%lld cells, %lld phases)%s%s\n", dry_run ? "would delete" : "deleted",
           (long long)st.runs, st.runs == 1 ? "" : "s", (long long)st.cells, (long long)st.phases,
           why, keeping);
    return CLI_OK;
}
