/* test_sampler.c - the node sampler's parser, a pure function over the samples
 * text ("uptime rss_pages cpu_ticks threads fds self_ticks" per line), and the
 * script's syntax. */
#include "node.h"
#include "t.h"

#include <math.h>
#include <unistd.h>

#define NEAR(a, b) (fabs((a) - (b)) < 1e-9)

static void check_unknown(const struct node_samples *s)
{
    CHECK_DBL(s->rss_max_kb, ==, -1);
    CHECK_DBL(s->rss_mean_kb, ==, -1);
    CHECK_DBL(s->cpu_pct, ==, -1);
    CHECK_DBL(s->cpu_max_pct, ==, -1);
    CHECK_DBL(s->sampler_cpu_pct, ==, -1);
    CHECK_INT(s->threads_max, ==, -1);
    CHECK_INT(s->fds_max, ==, -1);
}

int main(void)
{
    struct node_samples s;

    /* Warm-up 1.5 s: the sample at +1 s only opens the window (its ticks are
     * the baseline); +2, +3 and +4 s are measured. 4 KiB pages, 100 ticks/s. */
    const char *text = "100.00 1000 500 2 10 50\n"
                       "101.00 1100 550 3 12 51\n"
                       "102.00 1200 650 4 11 53\n"
                       "103.00 1000 700 3 15 54\n"
                       "not a sample\n"
                       "\n"
                       "104.00 1300 760 2 9 57\n";
    node_sampler_parse(text, 1500, 4, 100, &s);
    CHECK_DBL(s.rss_max_kb, ==, 5200);
    CHECK(NEAR(s.rss_mean_kb, (4800.0 + 4000.0 + 5200.0) / 3));
    CHECK_INT(s.threads_max, ==, 4);
    CHECK_INT(s.fds_max, ==, 15);
    CHECK(NEAR(s.cpu_pct, 70));        /* (760 - 550) ticks / 100 / 3 s */
    CHECK(NEAR(s.cpu_max_pct, 100));   /* 100 ticks in the second after +1 s */
    CHECK(NEAR(s.sampler_cpu_pct, 2)); /* (57 - 51) / 100 / 3 s */

    /* Without warm-up the first sample is the baseline; an old sampler line
     * without self ticks leaves the sampler's cost unknown. */
    node_sampler_parse("10.0 100 0 1 5\n12.0 200 100 1 6\n", 0, 4, 100, &s);
    CHECK_DBL(s.rss_max_kb, ==, 800);
    CHECK_DBL(s.rss_mean_kb, ==, 600);
    CHECK(NEAR(s.cpu_pct, 50));
    CHECK(NEAR(s.cpu_max_pct, 50));
    CHECK_DBL(s.sampler_cpu_pct, ==, -1);

    /* One sample: memory, but no CPU (no interval). */
    node_sampler_parse("5.0 10 3 1 4 1", 0, 4, 100, &s);
    CHECK_DBL(s.rss_max_kb, ==, 40);
    CHECK_DBL(s.cpu_pct, ==, -1);

    /* A line is a sample only on its own: fields never run on into the next. */
    node_sampler_parse("100.0 1000 500\n2 10 50\n", 0, 4, 100, &s);
    check_unknown(&s);
    /* Nothing, or nothing after the warm-up. */
    node_sampler_parse(NULL, 0, 4, 100, &s);
    check_unknown(&s);
    node_sampler_parse("", 0, 4, 100, &s);
    check_unknown(&s);
    node_sampler_parse("1.0 10 3 1 4 1\n2.0 10 4 1 4 1\n", 5000, 4, 100, &s);
    check_unknown(&s);

    /* The script is valid sh. */
    char path[] = "/tmp/mfbench-sampler-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    if (fd >= 0) {
        size_t n = strlen(node_sampler_sh);
        CHECK_INT(write(fd, node_sampler_sh, n), ==, (long long)n);
        close(fd);
        char cmd[128];
        snprintf(cmd, sizeof(cmd), "sh -n %s", path);
        CHECK_INT(system(cmd), ==, 0);
        unlink(path);
    }
    CHECK(strncmp(node_sampler_sh, "#!/bin/sh\n", 10) == 0);
    T_DONE();
}
