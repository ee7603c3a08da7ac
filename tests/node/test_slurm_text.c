/* test_slurm_text.c - node/slurm.c without a cluster: the reason a job ended as a cell's
 * error, from lines `scontrol show job -o` prints (Slurm 22.05), the job name, the
 * hand-off bound, and the tools' absence said clearly (PATH without Slurm). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "slurm.h"
#include "t.h"

struct end_case {
    const char *line, *want;
};

static const struct end_case ends[] = {
    {"JobId=12 JobName=mfbench-7-flask/json UserId=root(0) JobState=CANCELLED Reason=None "
     "Dependency=(null) ExitCode=0:15 RunTime=00:00:03 TimeLimit=00:02:00 NodeList=n2",
     "Slurm job 12 CANCELLED: cancelled from outside mfbench (scancel, or an administrator)"},
    {"JobId=13 JobState=TIMEOUT Reason=TimeLimit ExitCode=0:0 TimeLimit=00:30:00 NodeList=n1",
     "Slurm job 13 TIMEOUT: reached its time limit (TimeLimit=00:30:00: node.slurm.time_limit) "
     "(Reason=TimeLimit)"},
    {"JobId=14 JobState=NODE_FAIL Reason=NodeDown ExitCode=0:0 NodeList=n3",
     "Slurm job 14 NODE_FAIL: its node n3 failed (Reason=NodeDown)"},
    {"JobId=15 JobState=FAILED Reason=NonZeroExitCode ExitCode=3:0 NodeList=n1",
     "Slurm job 15 FAILED: ended (ExitCode=3:0) (Reason=NonZeroExitCode)"},
    {"JobId=16 JobState=RUNNING Reason=None NodeList=n1", "Slurm job 16 RUNNING: is still RUNNING"},
    /* A key that only ends like one (OrigJobState=...) is not taken for it. */
    {"JobId=17 XJobState=RUNNING JobState=PREEMPTED Reason=None",
     "Slurm job 17 PREEMPTED: preempted by another job"},
    {"", "Slurm job 18 ?: state unknown (scontrol gave no JobState)"},
    /* Bytes from the cluster are printed safely. */
    {"JobState=CANCELLED Reason=Bad\x1b[2J", "Slurm job 19 CANCELLED: cancelled from outside "
                                             "mfbench (scancel, or an administrator) "
                                             "(Reason=Bad\\x1b[2J)"},
};

int main(void)
{
    for (size_t i = 0; i < sizeof ends / sizeof ends[0]; i++) {
        char out[600];
        node_slurm_end_text((int64_t)(12 + i), ends[i].line, out, sizeof out);
        CHECK_STR(out, ends[i].want);
    }
    char name[256];
    CHECK_STR(node_slurm_job_name(7, "flask", "json", name, sizeof name), "mfbench-7-flask/json");
    struct node_slurm_opts o = {.cmd_timeout_ms = 1000};
    CHECK_INT(node_slurm_handoff_max_ms(&o), ==, 4 * (1000 + NODE_SLURM_KILL_GRACE_MS));

    /* Names and prefixes that are not mfbench's are refused before any tool runs. */
    struct err e;
    err_clear(&e);
    struct node_slurm_alloc *a = NULL;
    CHECK_INT(node_slurm_alloc_start(&o, "other-job", &a, &e), ==, -EINVAL);
    CHECK_CONTAINS(e.msg, "starts with mfbench-");
    struct node_slurm_orphan *list = NULL;
    size_t n = 0;
    err_clear(&e);
    CHECK_INT(node_slurm_orphans(&o, "", &list, &n, &e), ==, -EINVAL);

    /* Without Slurm's tools on PATH: -ENOENT, and the message says what is missing. */
    setenv("PATH", "/nonexistent", 1);
    err_clear(&e);
    CHECK_INT(node_slurm_alloc_start(&o, "mfbench-1-a/b", &a, &e), ==, -ENOENT);
    CHECK_CONTAINS(e.msg, "salloc");
    CHECK_CONTAINS(e.msg, "not on PATH");
    err_clear(&e);
    CHECK_INT(node_slurm_cancel(&o, 5, &e), ==, -ENOENT);
    CHECK_CONTAINS(e.msg, "scancel");
    T_DONE();
}
