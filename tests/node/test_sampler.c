/* test_sampler.c - the node sampler's parser, a pure function over the samples
 * text ("uptime rss_pages cpu_ticks threads fds self_ticks cpu_total cpu_idle
 * cpu_steal cpu_irq" per line, older lines without the cpu_* fields): server figures,
 * steal, neighbours and the noisy flag; and the script itself, run for two
 * samples of this test's own process group, also where `awk` is a dangling link
 * (a container's empty /etc has no /etc/alternatives) and where no awk runs.
 * The database's fields (db_ticks db_rss_pages, issue 24): parsed with and
 * without them, taken out of the neighbours only where the database may run,
 * and the script following a "postmaster" and its children by ppid. */
#include "node.h"
#include "t.h"

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
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
    CHECK_DBL(s->steal_pct, ==, -1);
    CHECK_DBL(s->neighbour_cpu_pct, ==, -1);
    CHECK_INT(s->noisy, ==, 0);
}

/* Steal and neighbours on the server's CPUs (cpu_* columns: cumulative
 * jiffies, idle includes iowait). */
static void test_node_share(void)
{
    struct node_samples s;

    /* One CPU at 100 jiffies/s. Warm-up 1.5 s: +1 s is the baseline. Over
     * +1..+4 s (300 jiffies): steal 12 (4%), idle 45, busy 243 = server 210
     * + sampler 6 + others 27 (9%): noisy by neighbours. The warm-up second
     * had 50 jiffies of steal: counted, it would make steal noisy as well. */
    const char *t1 = "100.00 1000 500 2 10 50 10000 9000 0\n"
                     "101.00 1100 550 3 12 51 10100 9010 50\n"
                     "102.00 1200 650 4 11 53 10200 9020 54\n"
                     "103.00 1000 700 3 15 54 10300 9040 58\n"
                     "104.00 1300 760 2 9 57 10400 9055 62\n";
    node_sampler_parse(t1, 1500, 4, 100, 0, &s);
    CHECK(NEAR(s.cpu_pct, 70));
    CHECK(NEAR(s.sampler_cpu_pct, 2));
    CHECK(NEAR(s.steal_pct, 4));
    CHECK(NEAR(s.neighbour_cpu_pct, 9));
    CHECK_INT(s.noisy, ==, 1);
    /* Without warm-up the window starts at +0 s: steal 62 of 400. */
    node_sampler_parse(t1, 0, 4, 100, 0, &s);
    CHECK(NEAR(s.steal_pct, 15.5));
    CHECK_INT(s.noisy, ==, 1);

    /* Two CPUs (200 jiffies/s) over 2 s: steal 40 (10%), idle 150, busy 210
     * is less than the server's 200 + the sampler's 20: neighbours clamp at
     * 0; noisy by steal alone. */
    node_sampler_parse("50.0 10 1000 1 4 100 5000 2000 100\n"
                       "52.0 10 1200 1 4 120 5400 2150 140\n",
                       0, 4, 100, 0, &s);
    CHECK(NEAR(s.steal_pct, 10));
    CHECK_DBL(s.neighbour_cpu_pct, ==, 0);
    CHECK_INT(s.noisy, ==, 1);

    /* A quiet node: steal exactly NOISY_PCT (5 of 100) and neighbours 2%:
     * not noisy (over, not at, the threshold). */
    node_sampler_parse("1.0 10 0 1 4 0 1000 500 0\n"
                       "2.0 10 40 1 4 1 1100 552 5\n",
                       0, 4, 100, 0, &s);
    CHECK(NEAR(s.steal_pct, NOISY_PCT));
    CHECK(NEAR(s.neighbour_cpu_pct, 2)); /* busy 43 - server 40 - sampler 1 */
    CHECK_INT(s.noisy, ==, 0);
    /* ... and 6% of others is noisy. */
    node_sampler_parse("1.0 10 0 1 4 0 1000 500 0\n"
                       "2.0 10 40 1 4 1 1100 548 5\n",
                       0, 4, 100, 0, &s);
    CHECK(NEAR(s.neighbour_cpu_pct, 6));
    CHECK_INT(s.noisy, ==, 1);

    /* irq and softirq time (the 10th field) is nobody's: one CPU, 100
     * jiffies, idle 40, irq 10, server 45, sampler 1: others 4% (14% if the
     * irq time were counted), not noisy. */
    node_sampler_parse("1.0 10 0 1 4 0 1000 500 0 200\n"
                       "2.0 10 45 1 4 1 1100 540 0 210\n",
                       0, 4, 100, 0, &s);
    CHECK(NEAR(s.neighbour_cpu_pct, 4));
    CHECK_DBL(s.steal_pct, ==, 0);
    CHECK_INT(s.noisy, ==, 0);

    /* Old sampler lines (5 or 6 fields): the server figures as before,
     * steal and neighbours unknown, not noisy. */
    node_sampler_parse("10.0 100 0 1 5 3\n12.0 200 100 1 6 5\n", 0, 4, 100, 0, &s);
    CHECK(NEAR(s.cpu_pct, 50));
    CHECK_DBL(s.steal_pct, ==, -1);
    CHECK_DBL(s.neighbour_cpu_pct, ==, -1);
    CHECK_INT(s.noisy, ==, 0);
    /* A baseline without them (an old line, or /proc/stat unreadable: -1). */
    node_sampler_parse("10.0 100 0 1 5 3\n12.0 200 100 1 6 5 1000 100 80\n", 0, 4, 100, 0, &s);
    CHECK_DBL(s.steal_pct, ==, -1);
    node_sampler_parse("10.0 100 0 1 5 3 -1 -1 -1\n12.0 200 100 1 6 5 -1 -1 -1\n", 0, 4, 100, 0,
                       &s);
    CHECK(NEAR(s.cpu_pct, 50));
    CHECK_DBL(s.steal_pct, ==, -1);
    CHECK_INT(s.noisy, ==, 0);
    /* No jiffies passed, or counters going backwards: unknown. */
    node_sampler_parse("1.0 10 0 1 4 0 1000 500 0\n2.0 10 0 1 4 0 1000 500 0\n", 0, 4, 100, 0, &s);
    CHECK_DBL(s.steal_pct, ==, -1);
    node_sampler_parse("1.0 10 0 1 4 0 1000 500 9\n2.0 10 0 1 4 0 1100 550 3\n", 0, 4, 100, 0, &s);
    CHECK_DBL(s.neighbour_cpu_pct, ==, -1);
}

/* The script for real, on this process's group: two samples, each with the
 * /proc/stat columns of CPU 0 (then of all CPUs). */
static void test_script_run(const char *script)
{
    char out[] = "/tmp/mfbench-samples-XXXXXX";
    int fd = mkstemp(out);
    CHECK(fd >= 0);
    if (fd < 0)
        return;
    close(fd);
    const char *lists[] = {"0", ""};
    for (int i = 0; i < 2; i++) {
        char cmd[512];
        snprintf(cmd, sizeof(cmd), "sh %s %ld %s 2 '%s'", script, (long)getpgrp(), out, lists[i]);
        CHECK_INT(system(cmd), ==, 0);
        FILE *f = fopen(out, "r");
        char text[1024] = "";
        size_t n = f ? fread(text, 1, sizeof(text) - 1, f) : 0;
        text[n] = '\0';
        if (f)
            fclose(f);
        double up;
        long long rss, ticks, self, ct, ci, cs, cq;
        int thr, fds;
        CHECK_INT(sscanf(text, "%lf %lld %lld %d %d %lld %lld %lld %lld %lld", &up, &rss, &ticks,
                         &thr, &fds, &self, &ct, &ci, &cs, &cq),
                  ==, 10);
        CHECK_INT(ct, >, 0);
        CHECK(ci >= 0 && cs >= 0 && cq >= 0 && ci + cs + cq <= ct);
        struct node_samples s;
        node_sampler_parse(text, 0, 4, sysconf(_SC_CLK_TCK), 0, &s);
        CHECK_DBL(s.steal_pct, >=, 0);
        CHECK_DBL(s.neighbour_cpu_pct, >=, 0);
    }
    unlink(out);
}

static void read_text(const char *path, char *text, size_t size)
{
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(text, 1, size - 1, f) : 0;
    text[n] = '\0';
    if (f)
        fclose(f);
}

/* PATH is a folder whose `awk` links to nowhere, as /usr/bin/awk does in a
 * container booted with an empty /etc (no /etc/alternatives), beside mawk,
 * gawk and sleep: the sampler falls back to mawk or gawk and samples. Without
 * them it says why it cannot. */
static void test_script_no_awk(const char *script)
{
    char dir[] = "/tmp/mfbench-noawk-XXXXXX", out[] = "/tmp/mfbench-samples-XXXXXX";
    char link[80], cmd[512], text[1024], why[300];
    const char *tools[] = {"mawk", "gawk", "sleep"};
    CHECK(mkdtemp(dir) != NULL);
    int fd = mkstemp(out);
    CHECK(fd >= 0);
    if (fd >= 0)
        close(fd);
    snprintf(link, sizeof(link), "%s/awk", dir);
    CHECK_INT(symlink("/nonexistent/etc/alternatives/awk", link), ==, 0);
    for (int i = 0; i < 3; i++) {
        char target[64];
        snprintf(target, sizeof(target), "/usr/bin/%s", tools[i]);
        snprintf(link, sizeof(link), "%s/%s", dir, tools[i]);
        if (access(target, X_OK) == 0)
            CHECK_INT(symlink(target, link), ==, 0);
    }
    if (access("/usr/bin/mawk", X_OK) == 0 || access("/usr/bin/gawk", X_OK) == 0) {
        snprintf(cmd, sizeof(cmd), "PATH=%s /bin/sh %s %ld %s 1 0", dir, script, (long)getpgrp(),
                 out);
        CHECK_INT(system(cmd), ==, 0);
        read_text(out, text, sizeof(text));
        struct node_samples s;
        node_sampler_parse(text, 0, 4, 100, 0, &s);
        CHECK_DBL(s.rss_max_kb, >, 0);
        CHECK_INT(node_sampler_problem(text, why, sizeof(why)), ==, 0);
    }
    for (int i = 0; i < 2; i++) {
        snprintf(link, sizeof(link), "%s/%s", dir, tools[i]);
        unlink(link);
    }
    snprintf(cmd, sizeof(cmd), "PATH=%s /bin/sh %s %ld %s 1 0", dir, script, (long)getpgrp(), out);
    CHECK(system(cmd) != 0);
    read_text(out, text, sizeof(text));
    CHECK_INT(node_sampler_problem(text, why, sizeof(why)), ==, 1);
    CHECK(strstr(why, "no working awk") != NULL);
    for (int i = 0; i < 3; i++) {
        snprintf(link, sizeof(link), "%s/%s", dir, i < 2 ? "awk" : tools[i]);
        unlink(link);
    }
    rmdir(dir);
    unlink(out);
}

/* The database's fields: CPU (mean over the window, highest second) and RSS
 * of the postmaster and its children; lines without them (an older sampler, a
 * cell without a database) leave them unknown; the database's ticks leave the
 * neighbours only when it may run on the server's CPUs (db_shares). */
static void test_db_fields(void)
{
    struct node_samples s;
    /* One CPU, 100 jiffies/s, warm-up 1.5 s (+1 s is the baseline). Over +1..+3 s (200
     * jiffies): idle 40, busy 160 = server 60 + sampler 0 + database 90 (45%) + others 10
     * (5%, not over NOISY_PCT). Database seconds: 30 then 60 jiffies; RSS 3000, 5000 pages. */
    const char *t = "100.00 1000 0 2 10 0 10000 9000 0 0 1000 2000\n"
                    "101.00 1000 20 2 10 0 10100 9050 0 0 1050 2500\n"
                    "102.00 1000 50 2 10 0 10200 9070 0 0 1080 3000\n"
                    "103.00 1000 80 2 10 0 10300 9090 0 0 1140 5000\n";
    node_sampler_parse(t, 1500, 4, 100, 1, &s);
    CHECK(NEAR(s.db_cpu_pct, 45.0));
    CHECK(NEAR(s.db_cpu_max_pct, 60.0));
    CHECK(NEAR(s.db_rss_max_kb, 5000.0 * 4));
    CHECK(NEAR(s.db_phase_cpu_pct, 140.0 / 3)); /* first line to last, warm-up included */
    CHECK(NEAR(s.neighbour_cpu_pct, 5.0));
    CHECK_INT(s.noisy, ==, 0);
    /* The same samples with the database pinned off the server's CPUs: its 90 jiffies are
     * not on these CPUs, so what they cannot explain is a neighbour's (50%: noisy). */
    node_sampler_parse(t, 1500, 4, 100, 0, &s);
    CHECK(NEAR(s.db_cpu_pct, 45.0));
    CHECK(NEAR(s.neighbour_cpu_pct, 50.0));
    CHECK_INT(s.noisy, ==, 1);
    /* Older lines (ten fields): the server's figures as before, the database unknown, and
     * everything the server did not use a neighbour's. */
    const char *old = "100.00 1000 0 2 10 0 10000 9000 0 0\n"
                      "101.00 1000 20 2 10 0 10100 9050 0 0\n"
                      "102.00 1000 50 2 10 0 10200 9070 0 0\n"
                      "103.00 1000 80 2 10 0 10300 9090 0 0\n";
    node_sampler_parse(old, 1500, 4, 100, 1, &s);
    CHECK(NEAR(s.cpu_pct, 30.0));
    CHECK(NEAR(s.rss_max_kb, 4000.0));
    CHECK_DBL(s.db_cpu_pct, ==, -1);
    CHECK_DBL(s.db_cpu_max_pct, ==, -1);
    CHECK_DBL(s.db_rss_max_kb, ==, -1);
    CHECK_DBL(s.db_phase_cpu_pct, ==, -1);
    CHECK(NEAR(s.neighbour_cpu_pct, 50.0));
    CHECK_INT(s.noisy, ==, 1);
    /* New lines without a database (-1 -1): the same. */
    node_sampler_parse("100.00 1000 0 2 10 0 10000 9000 0 0 -1 -1\n"
                       "101.00 1000 20 2 10 0 10100 9050 0 0 -1 -1\n",
                       0, 4, 100, 1, &s);
    CHECK(NEAR(s.cpu_pct, 20.0));
    CHECK_DBL(s.db_cpu_pct, ==, -1);
    CHECK_DBL(s.db_rss_max_kb, ==, -1);
    /* A postmaster gone mid-phase: its figures stop, no negative CPU. */
    node_sampler_parse("100.00 1000 0 2 10 0 -1 -1 -1 -1 500 100\n"
                       "101.00 1000 20 2 10 0 -1 -1 -1 -1 -1 -1\n",
                       0, 4, 100, 1, &s);
    CHECK_DBL(s.db_cpu_pct, ==, -1);
    CHECK(NEAR(s.db_rss_max_kb, 400.0));

    /* db_bound: 90% of the CPUs it may use. */
    CHECK_INT(node_db_bound(95.0, 1), ==, 1);
    CHECK_INT(node_db_bound(90.0, 1), ==, 1);
    CHECK_INT(node_db_bound(89.9, 1), ==, 0);
    CHECK_INT(node_db_bound(150.0, 2), ==, 0);
    CHECK_INT(node_db_bound(185.0, 2), ==, 1);
    CHECK_INT(node_db_bound(-1, 1), ==, 0);
    CHECK_INT(node_db_bound(100.0, 0), ==, 0);
    /* Where the database may run. */
    CHECK_INT(node_cpus_overlap("0", "1"), ==, 0);
    CHECK_INT(node_cpus_overlap("0-2", "2,5"), ==, 1);
    CHECK_INT(node_cpus_overlap("", "1"), ==, 1);
    CHECK_INT(node_cpus_overlap("1", NULL), ==, 1);
    CHECK_INT(node_cpus_count("0-3,6"), ==, 5);
    CHECK_INT(node_cpus_count(""), ==, 0);
}

static void spin_ms(long ms)
{
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    do {
        clock_gettime(CLOCK_MONOTONIC, &b);
    } while ((b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000 < ms);
}

/* The script with a fifth argument follows a "postmaster": a process whose child (in a
 * session of its own, as PostgreSQL's backends are) burns CPU. Its ticks and RSS are on the
 * sample lines; a pid that is no process gives -1 -1. */
static void test_script_db(const char *script)
{
    char out[] = "/tmp/mfbench-samples-XXXXXX";
    int fd = mkstemp(out);
    CHECK(fd >= 0);
    if (fd < 0)
        return;
    close(fd);
    fflush(NULL);
    pid_t pm = fork();
    if (pm == 0) {
        pid_t be = fork();
        if (be == 0) {
            (void)setsid();
            spin_ms(3000);
            _exit(0);
        }
        int st;
        waitpid(be, &st, 0);
        _exit(0);
    }
    CHECK(pm > 0);
    if (pm < 0)
        return;
    char cmd[512], text[2048];
    snprintf(cmd, sizeof(cmd), "sh %s %ld %s 2 '' %ld", script, (long)getpgrp(), out, (long)pm);
    CHECK_INT(system(cmd), ==, 0);
    read_text(out, text, sizeof(text));
    long long v[12];
    const char *second = strchr(text, '\n');
    CHECK(second != NULL);
    if (second) {
        CHECK_INT(sscanf(second + 1, "%*s %lld %lld %lld %lld %lld %lld %lld %lld %lld %lld %lld",
                         &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8], &v[9], &v[10],
                         &v[11]),
                  ==, 11);
        CHECK_INT(v[10], >, 0); /* the backend's ticks, a second or more of them */
        CHECK_INT(v[11], >, 0); /* RSS pages */
    }
    kill(pm, SIGKILL);
    int st;
    waitpid(pm, &st, 0);
    /* No such process: unknown, the server's figures still there. */
    snprintf(cmd, sizeof(cmd), "sh %s %ld %s 1 '' %ld", script, (long)getpgrp(), out, (long)pm);
    CHECK_INT(system(cmd), ==, 0);
    read_text(out, text, sizeof(text));
    struct node_samples s;
    node_sampler_parse(text, 0, 4, 100, 1, &s);
    CHECK_DBL(s.rss_max_kb, >, 0);
    CHECK_DBL(s.db_rss_max_kb, ==, -1);
    unlink(out);
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
    node_sampler_parse(text, 1500, 4, 100, 0, &s);
    CHECK_DBL(s.rss_max_kb, ==, 5200);
    CHECK(NEAR(s.rss_mean_kb, (4800.0 + 4000.0 + 5200.0) / 3));
    CHECK_INT(s.threads_max, ==, 4);
    CHECK_INT(s.fds_max, ==, 15);
    CHECK(NEAR(s.cpu_pct, 70));        /* (760 - 550) ticks / 100 / 3 s */
    CHECK(NEAR(s.cpu_max_pct, 100));   /* 100 ticks in the second after +1 s */
    CHECK(NEAR(s.sampler_cpu_pct, 2)); /* (57 - 51) / 100 / 3 s */

    /* Without warm-up the first sample is the baseline; an old sampler line
     * without self ticks leaves the sampler's cost unknown. */
    node_sampler_parse("10.0 100 0 1 5\n12.0 200 100 1 6\n", 0, 4, 100, 0, &s);
    CHECK_DBL(s.rss_max_kb, ==, 800);
    CHECK_DBL(s.rss_mean_kb, ==, 600);
    CHECK(NEAR(s.cpu_pct, 50));
    CHECK(NEAR(s.cpu_max_pct, 50));
    CHECK_DBL(s.sampler_cpu_pct, ==, -1);

    /* One sample: memory, but no CPU (no interval). */
    node_sampler_parse("5.0 10 3 1 4 1", 0, 4, 100, 0, &s);
    CHECK_DBL(s.rss_max_kb, ==, 40);
    CHECK_DBL(s.cpu_pct, ==, -1);

    /* A line is a sample only on its own: fields never run on into the next. */
    node_sampler_parse("100.0 1000 500\n2 10 50\n", 0, 4, 100, 0, &s);
    check_unknown(&s);
    /* Nothing, or nothing after the warm-up. */
    node_sampler_parse(NULL, 0, 4, 100, 0, &s);
    check_unknown(&s);
    node_sampler_parse("", 0, 4, 100, 0, &s);
    check_unknown(&s);
    node_sampler_parse("1.0 10 3 1 4 1\n2.0 10 4 1 4 1\n", 5000, 4, 100, 0, &s);
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
        test_script_run(path);
        test_script_no_awk(path);
        test_script_db(path);
        unlink(path);
    }
    CHECK(strncmp(node_sampler_sh, "#!/bin/sh\n", 10) == 0);

    /* What the sampler says when it cannot sample. */
    char why[64] = "";
    CHECK_INT(node_sampler_problem(NULL, why, sizeof(why)), ==, 0);
    CHECK_INT(node_sampler_problem("1.0 10 3 1 4 1\n", why, sizeof(why)), ==, 0);
    CHECK_INT(node_sampler_problem("1.0 10 3 1 4 1\nerror: no awk\n", why, sizeof(why)), ==, 1);
    CHECK(strcmp(why, "no awk") == 0);
    CHECK_INT(node_sampler_problem("error: cut", why, 4), ==, 1);
    CHECK(strcmp(why, "cut") == 0);
    CHECK_INT(node_sampler_problem("an error: inside\n", why, sizeof(why)), ==, 0);
    test_node_share();
    test_db_fields();
    T_DONE();
}
