/* sample_cost.c - what the sample of whole answers (run_opts.check, issue 24) costs the load
 * engine: phases against one URL, alternately without a rule and with one (a rule that reads
 * the body and passes), each line req/s and the engine's CPU per request.
 * usage: sample_cost URL [USERS [SECONDS [ROUNDS]]]   (built as build/tests/runner/sample_cost) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runner.h"

static int pass_rule(void *arg, const char *body, size_t len, const char *ctype, char *why,
                     size_t n)
{
    (void)ctype;
    (void)why;
    (void)n;
    size_t *bytes = arg;
    *bytes += len + (len && body[0] == '\0');
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s URL [USERS [SECONDS [ROUNDS]]]\n", argv[0]);
        return 2;
    }
    int users = argc > 2 ? (int)strtol(argv[2], NULL, 10) : 50;
    int secs = argc > 3 ? (int)strtol(argv[3], NULL, 10) : 5;
    int rounds = argc > 4 ? (int)strtol(argv[4], NULL, 10) : 3;
    size_t bytes = 0;
    printf("rule  req/s      cpu_us/req  sampled\n");
    for (int r = 0; r < rounds * 2; r++) {
        struct run_opts o;
        struct run_report rep;
        struct err e;
        err_clear(&e);
        run_opts_init(&o);
        o.url = argv[1];
        o.users = users;
        o.duration_ms = (int64_t)secs * 1000;
        o.warmup_ms = 1000;
        o.threads = 1;
        o.seed = 1;
        if (r % 2) {
            o.check = pass_rule;
            o.check_arg = &bytes;
        }
        memset(&rep, 0, sizeof rep);
        if (run_phase(&o, &rep, &e) != 0) {
            fprintf(stderr, "run_phase: %s\n", e.msg);
            return 1;
        }
        const struct phase_result *p = &rep.result;
        double cpu_us = p->rps > 0 ? p->client_cpu_pct / 100.0 * 1e6 / p->rps : 0;
        printf("%-5s %-10.0f %-11.2f %llu\n", r % 2 ? "on" : "off", p->rps, cpu_us,
               (unsigned long long)p->verified_sampled);
        run_report_free(&rep);
    }
    return 0;
}
