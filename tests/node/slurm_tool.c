/* slurm_tool.c - node/slurm.c from the command line, for test_slurm_alloc.sh: each
 * subcommand one piece of the Slurm transport on a real (test) cluster. Output lines
 * are what the test greps; errors on stderr, exit 1 (2 for usage).
 *   alloc NAME WAIT_MS          a whole node: "granted JOB NODE" (cancelled, exit 3, when
 *                               still queued after WAIT_MS)
 *   queue-cancel NAME WAIT_MS   a request that must queue: "queued JOB STATE REASON", then
 *                               cancelled while queued: "cancelled JOB", "after: ..."
 *   run JOB TIMEOUT_MS CMD...   CMD in the allocation, "in\n" on its stdin: each stdout
 *                               line as "+MS LINE" when it arrives, then "exit N"; when
 *                               the job is no longer running, "lost: REASON"
 *   info JOB | reason JOB | cancel JOB
 *   orphans PREFIX [cancel]     "orphan JOB NAME STATE" for each; cancelled when asked */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "slurm.h"

static int usage(void)
{
    fprintf(stderr, "usage: slurm_tool alloc NAME WAIT_MS | queue-cancel NAME WAIT_MS | run JOB "
                    "TIMEOUT_MS CMD... | info JOB | reason JOB | cancel JOB | orphans PREFIX "
                    "[cancel]\n");
    return 2;
}

static int fail(const struct err *e)
{
    fprintf(stderr, "slurm_tool: %s\n", e->msg);
    return 1;
}

static int64_t num(const char *s)
{
    int64_t v = 0;
    if (parse_i64(s, 0, INT64_MAX, &v) != 0) {
        fprintf(stderr, "slurm_tool: not a number: %s\n", s);
        exit(2);
    }
    return v;
}

static int cmd_alloc(const struct node_slurm_opts *o, const char *name, int64_t wait_ms)
{
    struct err e;
    err_clear(&e);
    struct node_slurm_alloc *a = NULL;
    if (node_slurm_alloc_start(o, name, &a, &e))
        return fail(&e);
    int64_t end = mono_ms() + wait_ms;
    int rc;
    while ((rc = node_slurm_alloc_poll(a, 200, &e)) == 1 && mono_ms() < end) {
    }
    if (rc == 1) {
        fprintf(stderr, "slurm_tool: job %lld still queued after %lld ms: cancelling\n",
                (long long)node_slurm_alloc_job(a), (long long)wait_ms);
        if (node_slurm_alloc_cancel(a, &e))
            fail(&e);
        node_slurm_alloc_free(a);
        return 3;
    }
    if (rc < 0) {
        node_slurm_alloc_free(a);
        return fail(&e);
    }
    int64_t job = node_slurm_alloc_job(a);
    node_slurm_alloc_free(a);
    struct node_slurm_job j;
    if (node_slurm_job_info(o, job, &j, &e))
        return fail(&e);
    printf("granted %lld %s %s\n", (long long)job, j.nodes, j.state);
    return 0;
}

static int cmd_queue_cancel(const struct node_slurm_opts *o, const char *name, int64_t wait_ms)
{
    struct err e;
    err_clear(&e);
    struct node_slurm_alloc *a = NULL;
    if (node_slurm_alloc_start(o, name, &a, &e))
        return fail(&e);
    int64_t end = mono_ms() + wait_ms;
    int rc = 1;
    struct node_slurm_job j = {0};
    /* Queued: salloc has said the job id, squeue says PENDING with a reason. */
    while (mono_ms() < end) {
        rc = node_slurm_alloc_poll(a, 200, &e);
        if (rc != 1)
            break;
        int64_t job = node_slurm_alloc_job(a);
        if (job && node_slurm_job_info(o, job, &j, &e) == 0 && !strcmp(j.state, "PENDING") &&
            strcmp(j.reason, "None") != 0)
            break;
    }
    int64_t job = node_slurm_alloc_job(a);
    if (rc == 0) {
        fprintf(stderr, "slurm_tool: job %lld was granted, expected it queued\n", (long long)job);
        if (node_slurm_alloc_cancel(a, &e))
            fail(&e);
        node_slurm_alloc_free(a);
        return 1;
    }
    if (rc < 0) {
        node_slurm_alloc_free(a);
        return fail(&e);
    }
    printf("queued %lld %s %s\n", (long long)job, j.state, j.reason);
    fflush(stdout);
    if (node_slurm_alloc_cancel(a, &e)) {
        node_slurm_alloc_free(a);
        return fail(&e);
    }
    node_slurm_alloc_free(a);
    printf("cancelled %lld\n", (long long)job);
    int r = node_slurm_job_info(o, job, &j, &e);
    if (r == -ENOENT)
        printf("after: unknown\n");
    else if (r == 0)
        printf("after: %s %s\n", j.state, j.reason);
    else
        return fail(&e);
    return 0;
}

static int cmd_run(const struct node_slurm_opts *o, int64_t job, int64_t timeout_ms,
                   const char *const *argv)
{
    struct err e;
    err_clear(&e);
    struct node_slurm_step *s = NULL;
    int64_t t0 = mono_ms();
    if (node_slurm_step_start(o, job, argv, timeout_ms, NODE_SLURM_CPU_BIND_NONE, &s, &e))
        return fail(&e);
    if (write(node_slurm_step_stdin(s), "in\n", 3) != 3)
        fprintf(stderr, "slurm_tool: could not write the step's stdin\n");
    node_slurm_step_close_stdin(s);
    char buf[4096], line[4096];
    size_t ll = 0;
    for (;;) {
        ssize_t r = node_slurm_step_read(s, buf, sizeof buf, 1000, &e);
        if (r == -EAGAIN)
            continue;
        if (r <= 0)
            break;
        for (ssize_t i = 0; i < r; i++) {
            if (buf[i] == '\n' || ll + 1 >= sizeof line) {
                printf("+%lld %.*s\n", (long long)(mono_ms() - t0), (int)ll, line);
                fflush(stdout);
                ll = 0;
            } else {
                line[ll++] = buf[i];
            }
        }
    }
    if (ll)
        printf("+%lld %.*s\n", (long long)(mono_ms() - t0), (int)ll, line);
    int status = -1;
    int rc = node_slurm_step_wait(s, &status, &e);
    printf("exit %d%s\n", status, rc == -ETIMEDOUT ? " (timed out)" : "");
    const char *err = node_slurm_step_stderr(s);
    if (*err)
        fprintf(stderr, "srun said: %s", err);
    node_slurm_step_free(s);
    struct node_slurm_job j;
    int ir = node_slurm_job_info(o, job, &j, &e);
    if (ir == -ENOENT || (ir == 0 && strcmp(j.state, "RUNNING") != 0)) {
        char why[512];
        if (node_slurm_end_reason(o, job, why, sizeof why, &e))
            return fail(&e);
        printf("lost: %s\n", why);
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 3)
        return usage();
    setvbuf(stdout, NULL, _IOLBF, 0); /* each line as it comes: the test reads them live */
    struct node_slurm_opts o = {.time_limit_ms = 2 * 60000,
                                .cmd_timeout_ms = NODE_SLURM_CMD_TIMEOUT_MS};
    const char *args_env = getenv("SLURM_TOOL_PARTITION");
    if (args_env && *args_env)
        o.partition = args_env;
    struct err e;
    err_clear(&e);
    const char *c = argv[1];
    if (!strcmp(c, "alloc") && argc == 4)
        return cmd_alloc(&o, argv[2], num(argv[3]));
    if (!strcmp(c, "queue-cancel") && argc == 4)
        return cmd_queue_cancel(&o, argv[2], num(argv[3]));
    if (!strcmp(c, "run") && argc >= 5)
        return cmd_run(&o, num(argv[2]), num(argv[3]), (const char *const *)argv + 4);
    if (!strcmp(c, "info") && argc == 3) {
        struct node_slurm_job j;
        int r = node_slurm_job_info(&o, num(argv[2]), &j, &e);
        if (r == -ENOENT) {
            printf("unknown\n");
            return 0;
        }
        if (r)
            return fail(&e);
        printf("%s|%s|%s\n", j.nodes, j.state, j.reason);
        return 0;
    }
    if (!strcmp(c, "reason") && argc == 3) {
        char why[512];
        if (node_slurm_end_reason(&o, num(argv[2]), why, sizeof why, &e))
            return fail(&e);
        printf("%s\n", why);
        return 0;
    }
    if (!strcmp(c, "cancel") && argc == 3)
        return node_slurm_cancel(&o, num(argv[2]), &e) ? fail(&e) : 0;
    if (!strcmp(c, "orphans") && (argc == 3 || (argc == 4 && !strcmp(argv[3], "cancel")))) {
        struct node_slurm_orphan *list = NULL;
        size_t n = 0;
        if (node_slurm_orphans(&o, argv[2], &list, &n, &e))
            return fail(&e);
        int rc = 0;
        for (size_t i = 0; i < n; i++) {
            printf("orphan %lld %s %s\n", (long long)list[i].job, list[i].name, list[i].state);
            if (argc == 4 && node_slurm_cancel(&o, list[i].job, &e))
                rc = fail(&e);
        }
        free(list);
        return rc;
    }
    return usage();
}
