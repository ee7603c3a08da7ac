/* cmd_history.c - `mfbench history [CELL]`: stored runs over time, a line per
 * cell: when, cell, status, capacity, peak req/s, p50/p99 at capacity, RSS. */
#include <cjson/cJSON.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "store.h"

static const char history_usage[] =
    "usage: mfbench history [CELL] [--limit N] [--json] [--store DB]\n"
    "\n"
    "Lists stored results, newest first, a line per cell of each run.\n"
    "\n"
    "  CELL                 FRAMEWORK/PAYLOAD; flask/* or */json select several\n"
    "  -n, --limit N        at most N lines (default 50; 0 = all)\n"
    "      --json           a JSON array instead of the table\n"
    "      --store DB       the result store (default: $MFBENCH_STORE, else\n"
    "                       $XDG_STATE_HOME/mfbench/results.db)\n"
    "  -h, --help           this text\n";

static cJSON *num_or_null(double v)
{
    return v < 0 ? cJSON_CreateNull() : cJSON_CreateNumber(v);
}

int cli_cmd_history(int argc, char **argv)
{
    static const struct option opts[] = {{"limit", required_argument, NULL, 'n'},
                                         {"json", no_argument, NULL, 'j'},
                                         {"store", required_argument, NULL, 's'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *store_path = NULL;
    int64_t limit = 50;
    int json = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "n:h", opts, NULL)) != -1) {
        switch (c) {
        case 'n':
            if (parse_i64(optarg, 0, 1000000, &limit)) {
                fprintf(stderr, "mfbench history: --limit must be a number >= 0, not '%s'\n",
                        optarg);
                return CLI_USAGE;
            }
            break;
        case 'j':
            json = 1;
            break;
        case 's':
            store_path = optarg;
            break;
        case 'h':
            fputs(history_usage, stdout);
            return CLI_OK;
        default:
            fputs(history_usage, stderr);
            return CLI_USAGE;
        }
    }
    char fw[64] = "*", pl[64] = "*";
    if (optind < argc) {
        const char *cell = argv[optind++];
        const char *slash = strchr(cell, '/');
        if (!slash || slash == cell || !slash[1] || (size_t)(slash - cell) >= sizeof(fw) ||
            strlen(slash + 1) >= sizeof(pl)) {
            fprintf(stderr, "mfbench history: cell '%s' must be FRAMEWORK/PAYLOAD\n", cell);
            return CLI_USAGE;
        }
        snprintf(fw, sizeof(fw), "%.*s", (int)(slash - cell), cell);
        snprintf(pl, sizeof(pl), "%s", slash + 1);
    }
    if (optind < argc) {
        fprintf(stderr, "mfbench history: unexpected argument '%s'\n", argv[optind]);
        return CLI_USAGE;
    }
    struct store *s = NULL;
    int rc = cli_open_store(store_path, &s);
    if (rc)
        return rc;
    struct store_history_row *rows = NULL;
    size_t n = 0;
    struct err e;
    err_clear(&e);
    if (store_history(s, fw, pl, (int)limit, &rows, &n, &e)) {
        cli_print_err(&e);
        store_close(s);
        return CLI_FAILED;
    }
    if (json) {
        cJSON *arr = cJSON_CreateArray();
        for (size_t i = 0; i < n; i++) {
            const struct store_history_row *r = &rows[i];
            cJSON *o = cJSON_CreateObject();
            cJSON_AddNumberToObject(o, "run", (double)r->run_id);
            cJSON_AddStringToObject(o, "started_at", r->started_at);
            cJSON_AddStringToObject(o, "framework", r->framework);
            cJSON_AddStringToObject(o, "payload", r->payload);
            cJSON_AddStringToObject(o, "status", r->status);
            cJSON_AddStringToObject(o, "profile", r->profile);
            cJSON_AddItemToObject(o, "capacity_users", num_or_null(r->capacity_users));
            cJSON_AddItemToObject(o, "breaking_users", num_or_null(r->breaking_users));
            cJSON_AddNumberToObject(o, "peak_rps", r->peak_rps);
            cJSON_AddItemToObject(o, "p50_ms", num_or_null(r->p50_ms));
            cJSON_AddItemToObject(o, "p99_ms", num_or_null(r->p99_ms));
            cJSON_AddItemToObject(o, "rss_max_kb", num_or_null(r->rss_max_kb));
            cJSON_AddItemToArray(arr, o);
        }
        char *j = cJSON_Print(arr);
        if (j)
            puts(j);
        free(j);
        cJSON_Delete(arr);
    } else if (n == 0) {
        printf("no stored results%s%s%s%s (`mfbench run` stores one)\n",
               strcmp(fw, "*") || strcmp(pl, "*") ? " for " : "",
               strcmp(fw, "*") || strcmp(pl, "*") ? fw : "",
               strcmp(fw, "*") || strcmp(pl, "*") ? "/" : "",
               strcmp(fw, "*") || strcmp(pl, "*") ? pl : "");
    } else {
        printf("%5s  %-20s  %-22s %-11s %-8s %8s %10s %8s %8s %8s\n", "run", "started (UTC)",
               "cell", "status", "profile", "capacity", "peak rps", "p50 ms", "p99 ms",
               "rss MiB");
        for (size_t i = 0; i < n; i++) {
            const struct store_history_row *r = &rows[i];
            char cell[140], cap[16], p50[24], p99[24], rss[24];
            snprintf(cell, sizeof(cell), "%s/%s", r->framework, r->payload);
            if (r->capacity_users < 0)
                snprintf(cap, sizeof(cap), "-");
            else
                snprintf(cap, sizeof(cap), "%d", r->capacity_users);
            snprintf(p50, sizeof(p50), r->p50_ms < 0 ? "-" : "%.2f", r->p50_ms);
            snprintf(p99, sizeof(p99), r->p99_ms < 0 ? "-" : "%.2f", r->p99_ms);
            snprintf(rss, sizeof(rss), r->rss_max_kb < 0 ? "-" : "%.1f", r->rss_max_kb / 1024.0);
            printf("%5lld  %-20s  %-22s %-11s %-8s %8s %10.1f %8s %8s %8s\n",
                   (long long)r->run_id, r->started_at, cell, r->status,
                   r->profile[0] ? r->profile : "-", cap, r->peak_rps, p50, p99, rss);
        }
    }
    free(rows);
    store_close(s);
    return CLI_OK;
}
