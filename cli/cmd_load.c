/* cmd_load.c - `mfbench load`: the load engine alone, like wrk: one phase
 * against a URL, a wrk-like summary (or JSON), and Locust-compatible CSV files
 * for tools that already read Locust's output. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "config.h"
#include "review.h"
#include "runner.h"

static const char load_usage[] =
    "usage: mfbench load URL [options]\n"
    "\n"
    "Drives one load phase against URL (http://host[:port]/path) and prints a summary.\n"
    "No credentials are sent: a URL with user information (http://user:pass@host/) is\n"
    "refused as bad usage.\n"
    "Each user is one keep-alive HTTP/1.1 connection sending GET requests.\n"
    "\n"
    "  -c, --users N          simulated users = connections (default 10)\n"
    "  -r, --spawn-rate R     users started per second, 0.01 to 1000000 (default: all at\n"
    "                         once)\n"
    "  -d, --duration D       phase length, warm-up included (default 10s)\n"
    "      --warmup D         leading time excluded from the statistics (default 0)\n"
    "      --think MIN[:MAX]  think time after each response: constant MIN, or uniform\n"
    "                         in [MIN,MAX] (Locust's between); default none (back to back)\n"
    "      --pacing T         one request per T per user, from the previous send\n"
    "      --rate RPS         open loop: RPS requests/s over all users, latency from the\n"
    "                         intended send time (no coordinated omission); a send due\n"
    "                         while every connection is busy waits in the client's queue,\n"
    "                         and one still waiting at the end counts from its intended\n"
    "                         time (unsent due)\n"
    "      --arrivals KIND    with --rate: poisson (exponential gaps, the default) or\n"
    "                         uniform (evenly spaced sends)\n"
    "      --seed N           seed of the arrivals and think times (default: the clock's;\n"
    "                         the seed used is printed, so a run replays)\n"
    "      --bound T          count the requests slower than T (e.g. 25ms), failures\n"
    "                         included (a timeout always is)\n"
    "      --pipeline N       requests in flight per connection (default 1)\n"
    "  -t, --threads N        event-loop threads (default 1)\n"
    "      --timeout T        per request; a late request is aborted (default 10s)\n"
    "      --expect-body S    every body must be exactly S\n"
    "      --expect-length N  every body must be N bytes\n"
    "      --cpus LIST        pin the engine threads (\"0\", \"0-1\", \"0,2\")\n"
    "      --source-addrs LIST  addresses of this machine the connections leave from\n"
    "                         (\"10.0.0.2,10.0.0.3\"), each giving the whole ephemeral\n"
    "                         port range again; default: towards 127.0.0.0/8 as many\n"
    "                         127.0.0.K as the users need, elsewhere the kernel's one\n"
    "      --json             print one JSON object instead of the summary\n"
    "      --csv PREFIX       also write PREFIX_stats.csv, PREFIX_stats_history.csv and\n"
    "                         PREFIX_failures.csv in Locust's format\n"
    "  -h, --help             this text\n"
    "\n"
    "Latency counts every request: a failed one at the time it took to fail (a timeout\n"
    "at the timeout), except the load engine's own limits (client errors).\n"
    "A GET that a kept-alive connection's idle close crossed (the close came before\n"
    "any byte of its answer) is resent once on a fresh connection (retries).\n"
    "--json: connect_failures counts connects refused, reset or timed out over the\n"
    "whole phase, warm-up included (a fresh connection the server dropped before its\n"
    "first answer too); connections_max is the most open at once over the phase;\n"
    "client_limit names the engine's own limit below the users asked (client:ports,\n"
    "client:descriptors, client:memory, client:conntrack) or is null.\n"
    "Durations: 500ms, 10s, 1m30s, 1h. Every value has the range of the matrix key of\n"
    "the same meaning (mfbench check --explain KEY): users 1..1000000, duration <= 1d,\n"
    "pipeline 1..1024, timeout and think <= 1h, rate <= 10000000. Exit status: 0 no request "
    "failed, 1 failures\n"
    "occurred (or the run was interrupted), 2 bad usage.\n";

enum {
    OPT_WARMUP = 256,
    OPT_THINK,
    OPT_PACING,
    OPT_RATE,
    OPT_PIPELINE,
    OPT_TIMEOUT,
    OPT_EXPECT_BODY,
    OPT_EXPECT_LENGTH,
    OPT_CPUS,
    OPT_JSON,
    OPT_CSV,
    OPT_ARRIVALS,
    OPT_SEED,
    OPT_BOUND,
    OPT_SOURCE_ADDRS,
};

static int usage_err(const char *fmt, const char *arg)
{
    fputs("mfbench load: ", stderr);
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n\n%s", load_usage);
    return CLI_USAGE;
}

/* A flag's value through the matrix key of the same meaning (config/keys.c): one syntax,
 * one range and one message for check, run and load. field may be NULL (only check).
 * 0, or CLI_USAGE after the message. */
static int flag_value(const char *key, const char *flag, const char *text, void *field)
{
    const struct cfg_key *k = cfg_key_find(key);
    char msg[512];
    if (!k) /* a renamed key: the build's tests catch it */
        return usage_err("internal: no key %s", key);
    if (cfg_key_parse_field(k, flag, text, field, msg, sizeof msg) < 0)
        return usage_err("%s", msg);
    return 0;
}

static const char *fmt_ms(double ms, char *b, size_t n)
{
    if (ms < 1)
        snprintf(b, n, "%.0fus", ms * 1000);
    else if (ms < 1000)
        snprintf(b, n, "%.2fms", ms);
    else
        snprintf(b, n, "%.2fs", ms / 1000);
    return b;
}

static const char *fmt_bytes(double v, char *b, size_t n)
{
    const char *u[] = {"B", "KB", "MB", "GB", "TB"};
    int i = 0;
    while (v >= 1024 && i < 4) {
        v /= 1024;
        i++;
    }
    snprintf(b, n, i ? "%.2f%s" : "%.0f%s", v, u[i]);
    return b;
}

static const char *url_path(const char *url)
{
    const char *p = strstr(url, "://");
    p = p ? strchr(p + 3, '/') : NULL;
    return p ? p : "/";
}

static void on_progress(void *arg, const struct run_progress *p)
{
    (void)arg;
    fprintf(stderr,
            "  %5.0fs  %d users  %llu requests  %.0f req/s  p50 %.2fms  p99 %.2fms  "
            "failures %llu\n",
            p->elapsed_s, p->users, (unsigned long long)p->requests, p->rps, p->p50_ms, p->p99_ms,
            (unsigned long long)p->failures);
}

static const char *mode_name(const struct run_opts *o, char *b, size_t n)
{
    char x[32], y[32];
    if (o->rate > 0)
        snprintf(b, n, "open loop at %.6g req/s", o->rate);
    else if (o->think == RUN_THINK_BETWEEN)
        snprintf(b, n, "closed loop, think %s..%s", dur_format(o->think_min_ms, x, sizeof x),
                 dur_format(o->think_max_ms, y, sizeof y));
    else if (o->think == RUN_THINK_CONSTANT)
        snprintf(b, n, "closed loop, think %s", dur_format(o->think_min_ms, x, sizeof x));
    else if (o->think == RUN_THINK_PACING)
        snprintf(b, n, "closed loop, pacing %s", dur_format(o->think_min_ms, x, sizeof x));
    else
        snprintf(b, n, "closed loop, back to back");
    return b;
}

static void print_summary(const struct run_opts *o, const struct run_report *r)
{
    const struct phase_result *p = &r->result;
    const struct latency_ms *l = &p->latency_ms;
    char a[32], b[32], c[32], d[32], e[32], f[32], m[96];
    printf("Running %s test @ %s\n", dur_format(o->duration_ms, a, sizeof a), o->url);
    printf("  %d threads and %d users (%s", o->threads, o->users, mode_name(o, m, sizeof m));
    if (o->pipeline > 1)
        printf(", pipeline %d", o->pipeline);
    printf(")\n");
    if (o->warmup_ms > 0)
        printf("  warm-up %s excluded\n", dur_format(o->warmup_ms, a, sizeof a));
    printf("  Latency %9s %9s %9s %9s %9s %9s\n", "mean", "p50", "p90", "p99", "p99.9", "max");
    printf("          %9s %9s %9s %9s %9s %9s\n", fmt_ms(l->mean, a, sizeof a),
           fmt_ms(l->p50, b, sizeof b), fmt_ms(l->p90, c, sizeof c), fmt_ms(l->p99, d, sizeof d),
           fmt_ms(l->p999, e, sizeof e), fmt_ms(l->max, f, sizeof f));
    printf("  %llu requests in %.2fs, %s read\n", (unsigned long long)p->requests, p->duration_s,
           fmt_bytes((double)p->bytes_read, a, sizeof a));
    printf("  Failures: %llu", (unsigned long long)p->failures);
    if (p->failures) {
        const char *sep = " (";
        for (int k = 0; k < FAIL__COUNT; k++)
            if (k != FAIL_CLIENT && p->failures_by_kind[k]) {
                printf("%s%s %llu", sep, fail_kind_name((enum fail_kind)k),
                       (unsigned long long)p->failures_by_kind[k]);
                sep = ", ";
            }
        printf(")");
    }
    printf("\n");
    if (p->failures_by_kind[FAIL_CLIENT])
        printf("  Client-side errors (our own limits, not the server's): %llu\n",
               (unsigned long long)p->failures_by_kind[FAIL_CLIENT]);
    if (r->reconnects)
        printf("  Reconnects (server closed): %llu\n", (unsigned long long)r->reconnects);
    if (p->retries)
        printf("  Retries (a GET crossed by an idle close, resent once): %llu\n",
               (unsigned long long)p->retries);
    if (r->client_limit)
        printf("  Client limit %s: %s\n", r->client_limit, r->client_limit_why);
    if (o->rate > 0) {
        printf("  Offered %llu, sent %llu, completed %llu", (unsigned long long)p->offered,
               (unsigned long long)p->sent, (unsigned long long)p->completed);
        if (p->unsent_due)
            printf(", unsent due %llu (counted in latency from their intended time)",
                   (unsigned long long)p->unsent_due);
        printf("\n  Arrivals: %s, seed %llu\n", p->arrivals, (unsigned long long)p->seed);
        printf("  Missed schedule: %llu\n", (unsigned long long)p->missed_schedule);
    }
    if (o->bound_us > 0)
        printf("  Over %s: %llu of %llu\n", fmt_ms((double)o->bound_us / 1000.0, a, sizeof a),
               (unsigned long long)p->over_bound,
               (unsigned long long)(r->hist ? run_hist_count(r->hist) : 0));
    if (p->connect_failures)
        printf("  Connect failures (whole phase): %llu\n", (unsigned long long)p->connect_failures);
    if (p->in_flight)
        printf("  In flight at the end: %llu (waited for up to the timeout)\n",
               (unsigned long long)p->in_flight);
    printf("Requests/sec: %10.2f", p->rps);
    if (p->offered_rps > 0)
        printf("   (offered %.2f)", p->offered_rps);
    printf("\n");
    printf("Transfer/sec: %10s\n",
           fmt_bytes(p->duration_s > 0 ? (double)p->bytes_read / p->duration_s : 0, a, sizeof a));
    printf("Client CPU:   %9.1f%%%s\n", p->client_cpu_pct,
           p->client_bound ? "  (the load engine was the bottleneck)" : "");
    if (r->cancelled)
        printf("  (interrupted)\n");
}

static int print_json(const struct run_opts *o, const struct run_report *r)
{
    const struct phase_result *p = &r->result;
    cJSON *j = cJSON_CreateObject();
    if (!j)
        return -ENOMEM;
    cJSON_AddStringToObject(j, "url", o->url);
    cJSON_AddNumberToObject(j, "users", o->users);
    cJSON_AddNumberToObject(j, "threads", o->threads);
    cJSON_AddNumberToObject(j, "requests", (double)p->requests);
    cJSON_AddNumberToObject(j, "failures", (double)p->failures);
    cJSON *fk = cJSON_AddObjectToObject(j, "failures_by_kind");
    for (int k = 0; k < FAIL__COUNT; k++)
        cJSON_AddNumberToObject(fk, fail_kind_name((enum fail_kind)k),
                                (double)p->failures_by_kind[k]);
    cJSON_AddNumberToObject(j, "rps", p->rps);
    cJSON_AddNumberToObject(j, "duration_s", p->duration_s);
    cJSON_AddNumberToObject(j, "bytes_read", (double)p->bytes_read);
    cJSON *l = cJSON_AddObjectToObject(j, "latency_ms");
    cJSON_AddNumberToObject(l, "mean", p->latency_ms.mean);
    cJSON_AddNumberToObject(l, "p50", p->latency_ms.p50);
    cJSON_AddNumberToObject(l, "p90", p->latency_ms.p90);
    cJSON_AddNumberToObject(l, "p99", p->latency_ms.p99);
    cJSON_AddNumberToObject(l, "p999", p->latency_ms.p999);
    cJSON_AddNumberToObject(l, "max", p->latency_ms.max);
    cJSON_AddNumberToObject(j, "offered_rps", p->offered_rps);
    cJSON_AddNumberToObject(j, "missed_schedule", (double)p->missed_schedule);
    cJSON_AddNumberToObject(j, "in_flight", (double)p->in_flight);
    cJSON_AddNumberToObject(j, "offered", (double)p->offered);
    cJSON_AddNumberToObject(j, "sent", (double)p->sent);
    cJSON_AddNumberToObject(j, "completed", (double)p->completed);
    cJSON_AddNumberToObject(j, "unsent_due", (double)p->unsent_due);
    if (o->bound_us > 0)
        cJSON_AddNumberToObject(j, "bound_ms", p->bound_ms);
    cJSON_AddNumberToObject(j, "over_bound", (double)p->over_bound);
    /* As a number when it fits a double exactly, else as a string: a seed
     * must replay, not round. */
    if (p->seed <= (UINT64_C(1) << 53)) {
        cJSON_AddNumberToObject(j, "seed", (double)p->seed);
    } else {
        char sb[24];
        snprintf(sb, sizeof sb, "%llu", (unsigned long long)p->seed);
        cJSON_AddStringToObject(j, "seed", sb);
    }
    cJSON_AddStringToObject(j, "arrivals", p->arrivals);
    cJSON_AddNumberToObject(j, "connections_max", (double)p->connections_max);
    cJSON_AddNumberToObject(j, "connect_failures", (double)p->connect_failures);
    cJSON_AddNumberToObject(j, "retries", (double)p->retries);
    cJSON_AddNumberToObject(j, "source_addresses", r->source_count);
    if (r->client_limit) {
        cJSON_AddStringToObject(j, "client_limit", r->client_limit);
        cJSON_AddStringToObject(j, "client_limit_why", r->client_limit_why);
    } else {
        cJSON_AddNullToObject(j, "client_limit");
    }
    cJSON_AddBoolToObject(j, "stopped_early", p->stopped_early);
    cJSON_AddNumberToObject(j, "client_cpu_pct", p->client_cpu_pct);
    cJSON_AddNumberToObject(j, "reconnects", (double)r->reconnects);
    cJSON_AddBoolToObject(j, "cancelled", r->cancelled);
    cJSON *s = cJSON_AddArrayToObject(j, "series");
    for (size_t i = 0; s && i < r->nseries; i++) {
        const struct run_series_point *pt = &r->series[i];
        cJSON *o2 = cJSON_CreateObject();
        if (!o2)
            break;
        cJSON_AddNumberToObject(o2, "t_s", pt->t_s);
        cJSON_AddNumberToObject(o2, "users", pt->users);
        cJSON_AddNumberToObject(o2, "requests", (double)pt->requests);
        cJSON_AddNumberToObject(o2, "failures", (double)pt->failures);
        cJSON_AddNumberToObject(o2, "p50_ms", pt->p50_ms);
        cJSON_AddNumberToObject(o2, "p99_ms", pt->p99_ms);
        cJSON_AddItemToArray(s, o2);
    }
    char *txt = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    if (!txt)
        return -ENOMEM;
    puts(txt);
    cJSON_free(txt);
    return 0;
}

/* ---- Locust-compatible CSV (the columns of locust/stats.py, Locust 2.x) ---- */

static const double csv_pcts[] = {50, 66, 75, 80, 90, 95, 98, 99, 99.9, 99.99, 100};
static const char *const csv_pct_names = "50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%";

static double avg_content(const struct run_opts *o, const struct run_report *r)
{
    if (o->expect_body)
        return (double)o->expect_body_len;
    if (o->expect_length >= 0)
        return (double)o->expect_length;
    /* unknown body size: bytes on the wire per request (headers included) */
    return r->result.requests ? (double)r->result.bytes_read / (double)r->result.requests : 0;
}

static void csv_stats_row(FILE *f, const char *type, const char *name, const struct run_opts *o,
                          const struct run_report *r)
{
    const struct phase_result *p = &r->result;
    const struct run_hist *h = r->hist;
    double win = p->duration_s > 0 ? p->duration_s : 1;
    rv_csv_field(f, type);
    fputc(',', f);
    rv_csv_field(f, name);
    fprintf(f, ",%llu,%llu,%.0f,%.6f,%.6f,%.6f,%.6f,%.6f,%.6f", (unsigned long long)p->requests,
            (unsigned long long)p->failures, run_hist_percentile(h, 50) / 1000.0,
            run_hist_mean(h) / 1000.0, (double)run_hist_min(h) / 1000.0,
            (double)run_hist_max(h) / 1000.0, avg_content(o, r), (double)p->requests / win,
            (double)p->failures / win);
    for (size_t i = 0; i < sizeof(csv_pcts) / sizeof(csv_pcts[0]); i++) {
        if (run_hist_count(h))
            fprintf(f, ",%.0f", run_hist_percentile(h, csv_pcts[i]) / 1000.0);
        else
            fputs(",N/A", f);
    }
    fputc('\n', f);
}

static FILE *csv_open(const char *prefix, const char *suffix, struct err *e)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s%s", prefix, suffix);
    FILE *f = fopen(path, "w");
    if (!f)
        err_set(e, -errno, "%s: %s", path, strerror(errno));
    return f;
}

static const char *const csv_suffixes[] = {"_stats.csv", "_stats_history.csv", "_failures.csv"};

/* Before the phase, not after it: the folder of PREFIX exists and is writable,
 * and each file is a regular file or absent. */
static int csv_check(const char *prefix, struct err *e)
{
    char dir[4096], path[4200];
    if (!*prefix)
        return err_set(e, -EINVAL, "--csv: empty prefix");
    if (mf_dirname(prefix, dir, sizeof(dir)) != 0)
        return err_set(e, -ENAMETOOLONG, "--csv %s: path too long", prefix);
    struct stat st;
    if (stat(dir, &st) != 0)
        return err_set(e, -errno, "--csv %s: folder %s: %s", prefix, dir, strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return err_set(e, -ENOTDIR, "--csv %s: %s is not a folder", prefix, dir);
    if (access(dir, W_OK | X_OK) != 0)
        return err_set(e, -errno, "--csv %s: folder %s is not writable: %s", prefix, dir,
                       strerror(errno));
    for (size_t i = 0; i < sizeof(csv_suffixes) / sizeof(csv_suffixes[0]); i++) {
        snprintf(path, sizeof(path), "%s%s", prefix, csv_suffixes[i]);
        if (stat(path, &st) == 0 && !S_ISREG(st.st_mode))
            return err_set(e, -EINVAL, "--csv %s: %s: not a regular file", prefix, path);
    }
    return 0;
}

static int write_csv(const char *prefix, const struct run_opts *o, const struct run_report *r,
                     time_t started, struct err *e)
{
    const struct phase_result *p = &r->result;
    const char *path = url_path(o->url);
    char name[2048];
    snprintf(name, sizeof(name), "%s", path);

    FILE *f = csv_open(prefix, "_stats.csv", e);
    if (!f)
        return e->code;
    fprintf(f,
            "Type,Name,Request Count,Failure Count,Median Response Time,Average Response "
            "Time,Min Response Time,Max Response Time,Average Content Size,Requests/s,"
            "Failures/s,%s\n",
            csv_pct_names);
    csv_stats_row(f, "GET", name, o, r);
    csv_stats_row(f, "", "Aggregated", o, r);
    if (fclose(f) != 0)
        return err_set(e, -EIO, "%s_stats.csv: write failed", prefix);

    /* History: a row per second of the phase. Per-second values are that
     * second's (requests, failures, p50, p99); the other percentiles are only
     * known for the whole window, so they read N/A; the Total columns are
     * running counts and the window's figures. */
    f = csv_open(prefix, "_stats_history.csv", e);
    if (!f)
        return e->code;
    fprintf(f,
            "Timestamp,User Count,Type,Name,Requests/s,Failures/s,%s,Total Request Count,"
            "Total Failure Count,Total Median Response Time,Total Average Response Time,"
            "Total Min Response Time,Total Max Response Time,Total Average Content Size\n",
            csv_pct_names);
    uint64_t treq = 0, tfail = 0;
    double prev_t = 0;
    for (size_t i = 0; i < r->nseries; i++) {
        const struct run_series_point *pt = &r->series[i];
        double span = pt->t_s - prev_t > 0 ? pt->t_s - prev_t : 1;
        prev_t = pt->t_s;
        treq += pt->requests;
        tfail += pt->failures;
        fprintf(f, "%lld,%d,,Aggregated,%f,%f", (long long)(started + (time_t)ceil(pt->t_s)),
                pt->users, (double)pt->requests / span, (double)pt->failures / span);
        for (size_t k = 0; k < sizeof(csv_pcts) / sizeof(csv_pcts[0]); k++) {
            if (pt->requests && csv_pcts[k] == 50)
                fprintf(f, ",%.0f", pt->p50_ms);
            else if (pt->requests && csv_pcts[k] == 99)
                fprintf(f, ",%.0f", pt->p99_ms);
            else
                fputs(",N/A", f);
        }
        fprintf(f, ",%llu,%llu,%.0f,%.6f,%.6f,%.6f,%.6f\n", (unsigned long long)treq,
                (unsigned long long)tfail, pt->p50_ms, p->latency_ms.mean,
                (double)run_hist_min(r->hist) / 1000.0, p->latency_ms.max, avg_content(o, r));
    }
    if (fclose(f) != 0)
        return err_set(e, -EIO, "%s_stats_history.csv: write failed", prefix);

    f = csv_open(prefix, "_failures.csv", e);
    if (!f)
        return e->code;
    fputs("Method,Name,Error,Occurrences\n", f);
    static const char *const why[FAIL__COUNT] = {
        "connect: connection refused or timed out",
        "timeout: no complete answer within the request timeout",
        "reset: connection reset or closed before the answer",
        "status: non-2xx status",
        "body: body differs from the expected one",
        "protocol: malformed HTTP response or a size cap passed",
        "client: the load engine's own limit (EMFILE, ENFILE, EADDRNOTAVAIL)",
    };
    for (int k = 0; k < FAIL__COUNT; k++) {
        if (!p->failures_by_kind[k])
            continue;
        fputs("GET,", f);
        rv_csv_field(f, name);
        fputc(',', f);
        rv_csv_field(f, why[k]);
        fprintf(f, ",%llu\n", (unsigned long long)p->failures_by_kind[k]);
    }
    if (fclose(f) != 0)
        return err_set(e, -EIO, "%s_failures.csv: write failed", prefix);
    return 0;
}

int cli_cmd_load(int argc, char **argv)
{
    static const struct option opts[] = {
        {"users", required_argument, NULL, 'c'},
        {"spawn-rate", required_argument, NULL, 'r'},
        {"duration", required_argument, NULL, 'd'},
        {"threads", required_argument, NULL, 't'},
        {"warmup", required_argument, NULL, OPT_WARMUP},
        {"think", required_argument, NULL, OPT_THINK},
        {"pacing", required_argument, NULL, OPT_PACING},
        {"rate", required_argument, NULL, OPT_RATE},
        {"pipeline", required_argument, NULL, OPT_PIPELINE},
        {"timeout", required_argument, NULL, OPT_TIMEOUT},
        {"expect-body", required_argument, NULL, OPT_EXPECT_BODY},
        {"expect-length", required_argument, NULL, OPT_EXPECT_LENGTH},
        {"cpus", required_argument, NULL, OPT_CPUS},
        {"json", no_argument, NULL, OPT_JSON},
        {"csv", required_argument, NULL, OPT_CSV},
        {"arrivals", required_argument, NULL, OPT_ARRIVALS},
        {"seed", required_argument, NULL, OPT_SEED},
        {"bound", required_argument, NULL, OPT_BOUND},
        {"source-addrs", required_argument, NULL, OPT_SOURCE_ADDRS},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct run_opts o;
    run_opts_init(&o);
    o.users = 10;
    int json = 0, have_think = 0, have_arrivals = 0, c;
    const char *csv = NULL;
    int64_t v;
    int rc;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":c:r:d:t:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            if ((rc = flag_value("defaults.users.max", "--users", optarg, &o.users)))
                return rc;
            break;
        case 'r':
            if ((rc = flag_value("defaults.spawn_rate", "--spawn-rate", optarg, &o.spawn_rate)))
                return rc;
            break;
        case 'd':
            if ((rc = flag_value("defaults.duration", "--duration", optarg, &o.duration_ms)))
                return rc;
            break;
        case 't':
            if (parse_i64(optarg, 1, 256, &v) < 0)
                return usage_err("bad thread count '%s'", optarg);
            o.threads = (int)v;
            break;
        case OPT_WARMUP:
            if ((rc = flag_value("defaults.warmup", "--warmup", optarg, &o.warmup_ms)))
                return rc;
            break;
        case OPT_THINK: {
            if (have_think++)
                return usage_err("%s: --think and --pacing are exclusive", optarg);
            char a[64];
            mf_strlcpy(a, optarg, sizeof(a));
            char *colon = strchr(a, ':');
            if (colon)
                *colon = 0;
            if ((rc = flag_value("defaults.think.min", "--think", a, &o.think_min_ms)))
                return rc;
            o.think_max_ms = o.think_min_ms;
            if (colon &&
                (rc = flag_value("defaults.think.max", "--think", colon + 1, &o.think_max_ms)))
                return rc;
            if (o.think_max_ms < o.think_min_ms)
                return usage_err("bad think time '%s' (MIN:MAX with MIN <= MAX)", optarg);
            o.think = colon ? RUN_THINK_BETWEEN : RUN_THINK_CONSTANT;
            if (o.think_max_ms == 0)
                o.think = RUN_THINK_NONE;
            break;
        }
        case OPT_PACING:
            if (have_think++)
                return usage_err("%s: --think and --pacing are exclusive", optarg);
            if ((rc = flag_value("defaults.think.pacing", "--pacing", optarg, &o.think_min_ms)))
                return rc;
            o.think_max_ms = o.think_min_ms;
            o.think = RUN_THINK_PACING;
            break;
        case OPT_RATE:
            if ((rc = flag_value("defaults.rate", "--rate", optarg, &o.rate)))
                return rc;
            break;
        case OPT_PIPELINE:
            if ((rc = flag_value("defaults.pipeline", "--pipeline", optarg, &o.pipeline)))
                return rc;
            break;
        case OPT_TIMEOUT:
            if ((rc = flag_value("defaults.timeout", "--timeout", optarg, &o.timeout_ms)))
                return rc;
            break;
        case OPT_EXPECT_BODY:
            o.expect_body = optarg;
            o.expect_body_len = strlen(optarg);
            break;
        case OPT_EXPECT_LENGTH:
            if ((rc = flag_value("payloads.NAME.length", "--expect-length", optarg,
                                 &o.expect_length)))
                return rc;
            break;
        case OPT_CPUS:
            if ((rc = flag_value("load.cpus", "--cpus", optarg, NULL)))
                return rc;
            o.cpus = optarg;
            break;
        case OPT_JSON:
            json = 1;
            break;
        case OPT_CSV:
            csv = optarg;
            break;
        case OPT_ARRIVALS:
            if (strcmp(optarg, "poisson") == 0)
                o.arrivals = RUN_ARRIVALS_POISSON;
            else if (strcmp(optarg, "uniform") == 0)
                o.arrivals = RUN_ARRIVALS_UNIFORM;
            else
                return usage_err("--arrivals must be poisson or uniform, got '%s'", optarg);
            have_arrivals = 1;
            break;
        case OPT_SEED: {
            /* digits only: strtoull would take a sign, spaces and wrap around */
            char *end = NULL;
            errno = 0;
            unsigned long long sv = strtoull(optarg, &end, 10);
            if (!*optarg || strspn(optarg, "0123456789") != strlen(optarg) || errno || sv == 0)
                return usage_err("--seed must be a whole number from 1 to 2^64-1, got '%s'",
                                 optarg);
            o.seed = (uint64_t)sv;
            break;
        }
        case OPT_BOUND: {
            int64_t ms;
            if (dur_parse(optarg, &ms) < 0 || ms <= 0 || ms > 3600 * 1000)
                return usage_err("--bound must be a duration in [1ms, 1h], got '%s'", optarg);
            o.bound_us = ms * 1000;
            break;
        }
        case OPT_SOURCE_ADDRS:
            o.source_addrs = optarg; /* checked by the engine, which binds each */
            break;
        case 'h':
            fputs(load_usage, stdout);
            return CLI_OK;
        case ':':
            return usage_err("option '%s' needs a value", argv[optind - 1]);
        default:
            return usage_err("unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind >= argc)
        return usage_err("%s", "missing URL");
    if (argc - optind > 1)
        return usage_err("unexpected argument '%s'", argv[optind + 1]);
    o.url = argv[optind];
    if (!strncmp(o.url, "http://", 7) && memchr(o.url + 7, '@', strcspn(o.url + 7, "/")))
        return usage_err("%s", "a URL with user information (user:password@host) is refused: "
                               "no credentials are sent");
    if (o.expect_body && o.expect_length >= 0)
        return usage_err("%s", "--expect-body and --expect-length are exclusive");
    if (o.warmup_ms >= o.duration_ms)
        return usage_err("%s", "the warm-up must be shorter than the duration");
    if (o.rate > 0 && have_think)
        return usage_err("%s", "--rate sets the pace itself: no --think or --pacing with it");
    if (have_arrivals && !(o.rate > 0))
        return usage_err("%s", "--arrivals needs --rate (the closed loop has no schedule)");

    struct err e;
    err_clear(&e);
    if (csv && csv_check(csv, &e) < 0) {
        fprintf(stderr, "mfbench load: %s\n", e.msg);
        return CLI_USAGE;
    }

    cli_install_signals();
    o.cancel = &cli_interrupted;
    if (!json && isatty(2))
        o.progress = on_progress;

    struct run_report r;
    time_t started = time(NULL);
    rc = run_phase(&o, &r, &e);
    if (rc < 0) {
        cli_print_err(&e);
        return rc == -EINVAL ? CLI_USAGE : CLI_FAILED;
    }
    if (json) {
        if (print_json(&o, &r) < 0)
            fputs("mfbench load: out of memory\n", stderr);
    } else {
        print_summary(&o, &r);
    }
    fflush(stdout);
    int out = (r.result.failures || r.result.failures_by_kind[FAIL_CLIENT] || r.cancelled)
                  ? CLI_FAILED
                  : CLI_OK;
    if (csv) {
        err_clear(&e);
        if (write_csv(csv, &o, &r, started, &e) < 0) {
            cli_print_err(&e);
            out = CLI_FAILED;
        }
    }
    run_report_free(&r);
    return out;
}
