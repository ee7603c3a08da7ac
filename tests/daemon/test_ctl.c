/* test_ctl.c - mfbenchd's request parser and job queue: every malformed,
 * mistyped or oversized request is refused with a message; the queue keeps
 * FIFO order, drops cells already queued (same profile) and answers the job
 * that holds them. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "control.h"
#include "daemon.h"
#include "t.h"

static int parse(const char *s, struct dmn_request *r, struct err *e)
{
    err_clear(e);
    return dmn_request_parse(s, strlen(s), r, e);
}

static void test_parse(void)
{
    struct dmn_request r;
    struct err e;

    CHECK_INT(parse("{\"cmd\":\"trigger\",\"cells\":[\"flask/json\",\"*/text\"],"
                    "\"profile\":\"quick\",\"follow\":true}",
                    &r, &e),
              ==, 0);
    CHECK_INT(r.cmd, ==, DMN_CMD_TRIGGER);
    CHECK_INT(r.ncells, ==, 2);
    CHECK_STR(r.cells[1], "*/text");
    CHECK_STR(r.profile, "quick");
    CHECK_STR(r.trigger, "daemon");
    CHECK_INT(r.follow, ==, 1);
    dmn_request_free(&r);

    CHECK_INT(parse("{\"cmd\":\"trigger\",\"all\":true,\"trigger\":\"nightly\"}", &r, &e), ==, 0);
    CHECK_INT(r.all, ==, 1);
    CHECK_STR(r.trigger, "nightly");
    dmn_request_free(&r);

    CHECK_INT(parse("{\"cmd\":\"status\"}", &r, &e), ==, 0);
    CHECK_INT(r.cmd, ==, DMN_CMD_STATUS);
    CHECK_INT(parse("{\"cmd\":\"subscribe\",\"extra\":1}", &r, &e), ==, 0);
    CHECK_INT(r.cmd, ==, DMN_CMD_SUBSCRIBE);
    CHECK_INT(parse("{\"cmd\":\"cancel\",\"job\":12}", &r, &e), ==, 0);
    CHECK_INT(r.job, ==, 12);
    CHECK_INT(parse("{\"cmd\":\"cancel\"}", &r, &e), ==, 0);
    CHECK_INT(r.job, ==, 0);

    /* Refused, each with a message. */
    static const struct {
        const char *req, *msg;
    } bad[] = {
        {"{\"cmd\":\"trigger\",\"cells\":[\"flask/json\"", "malformed JSON"},
        {"not json", "malformed JSON"},
        {"[1,2]", "JSON object"},
        {"\"trigger\"", "JSON object"},
        {"{}", "\"cmd\" must be a string"},
        {"{\"cmd\":7}", "\"cmd\" must be a string"},
        {"{\"cmd\":\"rm -rf /\"}", "unknown cmd"},
        {"{\"cmd\":\"trigger\"}", "at least one cell"},
        {"{\"cmd\":\"trigger\",\"cells\":[]}", "at least one cell"},
        {"{\"cmd\":\"trigger\",\"cells\":\"flask/json\"}", "array of strings"},
        {"{\"cmd\":\"trigger\",\"cells\":[1]}", "array of strings"},
        {"{\"cmd\":\"trigger\",\"cells\":[\"\"]}", "1 to"},
        {"{\"cmd\":\"trigger\",\"cells\":[\"a/b\"],\"all\":true}", "exclusive"},
        {"{\"cmd\":\"trigger\",\"all\":1}", "true or false"},
        {"{\"cmd\":\"trigger\",\"all\":true,\"profile\":5}", "must be a string"},
        {"{\"cmd\":\"trigger\",\"all\":true,\"trigger\":\"cron\"}", "\"daemon\" or \"nightly\""},
        /* Names as the matrix allows them (config's one rule), cells printable ASCII. */
        {"{\"cmd\":\"trigger\",\"all\":true,\"profile\":\"quick\\u0001\"}", "not a valid name"},
        {"{\"cmd\":\"trigger\",\"all\":true,\"profile\":\"../x\"}", "not a valid name"},
        {"{\"cmd\":\"trigger\",\"cells\":[\"fl\\u0007ask/json\"]}", "printable ASCII"},
        {"{\"cmd\":\"trigger\",\"cells\":[\"fl\\u00e5sk/json\"]}", "printable ASCII"},
        {"{\"cmd\":\"trigger\",\"cells\":[\"flask json\"]}", "printable ASCII"},
        {"{\"cmd\":\"cancel\",\"job\":\"12\"}", "positive integer"},
        {"{\"cmd\":\"cancel\",\"job\":-1}", "positive integer"},
        {"{\"cmd\":\"cancel\",\"job\":1.5}", "positive integer"},
        {"{\"cmd\":\"cancel\",\"job\":1e300}", "positive integer"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int rc = parse(bad[i].req, &r, &e);
        CHECK_INT(rc, ==, -EINVAL);
        CHECK_CONTAINS(e.msg, bad[i].msg);
        CHECK(r.cells == NULL && r.ncells == 0);
    }

    /* A profile name longer than the field; a cell name of 200 bytes. */
    char big[512];
    snprintf(big, sizeof(big), "{\"cmd\":\"trigger\",\"all\":true,\"profile\":\"%0100d\"}", 0);
    CHECK_INT(parse(big, &r, &e), ==, -EINVAL);
    CHECK_CONTAINS(e.msg, "too long");
    snprintf(big, sizeof(big), "{\"cmd\":\"trigger\",\"cells\":[\"%0200d\"]}", 0);
    CHECK_INT(parse(big, &r, &e), ==, -EINVAL);

    /* A line over the limit is refused before parsing. */
    size_t n = DMN_CTL_MAX_LINE + 10;
    char *huge = malloc(n + 1);
    memset(huge, ' ', n);
    memcpy(huge, "{\"cmd\":\"status\"}", 16);
    huge[n] = '\0';
    err_clear(&e);
    CHECK_INT(dmn_request_parse(huge, n, &r, &e), ==, -EINVAL);
    CHECK_CONTAINS(e.msg, "too long");
    free(huge);

    /* An unknown cmd is quoted back printable and short. */
    CHECK_INT(parse("{\"cmd\":\"\\u0001\\n0123456789012345678901234567890123456789\"}", &r, &e), ==,
              -EINVAL);
    CHECK(strchr(e.msg, '\n') == NULL);
    CHECK(strlen(e.msg) < 120);

    char *a = dmn_answer_error("bad \"thing\"");
    CHECK_STR(a, "{\"ok\":false,\"error\":\"bad \\\"thing\\\"\"}\n");
    free(a);
}

static struct dmn_job *job(const char *profile, int n, ...)
{
    struct dmn_job *j = calloc(1, sizeof(*j));
    j->cells = calloc((size_t)n, sizeof(char *));
    j->sel = calloc((size_t)n, sizeof(*j->sel));
    va_list ap;
    va_start(ap, n);
    for (int i = 0; i < n; i++) {
        j->cells[i] = strdup(va_arg(ap, const char *));
        j->sel[i].framework = (size_t)i;
    }
    va_end(ap);
    j->ncells = (size_t)n;
    mf_strlcpy(j->profile, profile, sizeof(j->profile));
    return j;
}

static void test_queue(void)
{
    struct dmn_queue q;
    int64_t ex = 0;
    dmn_queue_init(&q, 3);

    struct dmn_job *a = job("", 2, "flask/json", "flask/text");
    CHECK_INT(dmn_queue_push(&q, a, &ex), ==, 0);
    CHECK_INT(a->id, ==, 1);

    /* The same cell again: not queued; the answer is the job holding it. */
    struct dmn_job *b = job("", 1, "flask/json");
    CHECK_INT(dmn_queue_push(&q, b, &ex), ==, 1);
    CHECK_INT(ex, ==, 1);
    dmn_job_free(b);

    /* Overlapping: only the new cell is queued, with its index kept. */
    struct dmn_job *c = job("", 2, "flask/text", "tornado/json");
    CHECK_INT(dmn_queue_push(&q, c, &ex), ==, 0);
    CHECK_INT(c->id, ==, 2);
    CHECK_INT(c->ncells, ==, 1);
    CHECK_STR(c->cells[0], "tornado/json");
    CHECK_INT(c->sel[0].framework, ==, 1);

    /* Another profile is another measurement. */
    struct dmn_job *d = job("quick", 1, "flask/json");
    CHECK_INT(dmn_queue_push(&q, d, &ex), ==, 0);
    CHECK_INT(d->id, ==, 3);

    /* Full. */
    struct dmn_job *e = job("", 1, "bottle/json");
    CHECK_INT(dmn_queue_push(&q, e, &ex), ==, -ENOSPC);
    dmn_job_free(e);

    /* Remove from the middle, then FIFO. */
    struct dmn_job *r = dmn_queue_remove(&q, 2);
    CHECK(r == c);
    dmn_job_free(r);
    CHECK(dmn_queue_remove(&q, 2) == NULL);
    CHECK(dmn_queue_remove(&q, 99) == NULL);
    struct dmn_job *p = dmn_queue_pop(&q);
    CHECK(p == a);
    dmn_job_free(p);
    /* Popped (running) cells no longer dedupe. */
    struct dmn_job *f = job("", 1, "flask/json");
    CHECK_INT(dmn_queue_push(&q, f, &ex), ==, 0);
    CHECK_INT(f->id, ==, 4);
    p = dmn_queue_pop(&q);
    CHECK(p == d);
    dmn_job_free(p);
    /* Removing the tail keeps the tail pointer right. */
    CHECK(dmn_queue_remove(&q, 4) == f);
    dmn_job_free(f);
    CHECK(q.head == NULL && q.tail == NULL && q.n == 0);
    struct dmn_job *g = job("", 1, "x/y");
    CHECK_INT(dmn_queue_push(&q, g, &ex), ==, 0);
    CHECK(q.head == g && q.tail == g);
    dmn_job_free(dmn_queue_pop(&q));
    CHECK(dmn_queue_pop(&q) == NULL);
}

static void test_socket_path(void)
{
    char b[128];
    unsetenv("MFBENCH_SOCKET");
    unsetenv("RUNTIME_DIRECTORY");
    setenv("XDG_RUNTIME_DIR", "/run/user/1000", 1);
    CHECK_STR(dmn_socket_path("/tmp/x.sock", b, sizeof(b)), "/tmp/x.sock");
    CHECK_STR(dmn_socket_path(NULL, b, sizeof(b)), "/run/user/1000/mfbench/control.sock");
    setenv("RUNTIME_DIRECTORY", "/run/mfbench", 1);
    CHECK_STR(dmn_socket_path(NULL, b, sizeof(b)), "/run/mfbench/control.sock");
    setenv("MFBENCH_SOCKET", "/srv/s.sock", 1);
    CHECK_STR(dmn_socket_path(NULL, b, sizeof(b)), "/srv/s.sock");
    char longp[200];
    memset(longp, 'a', sizeof(longp) - 1);
    longp[0] = '/';
    longp[sizeof(longp) - 1] = '\0';
    CHECK(dmn_socket_path(longp, b, sizeof(b)) == NULL);
}

/* The connection limits (issue 25): four group members with 16 quiet subscribers each
 * cannot take the last slot; root or the daemon's own uid still gets it. */
static void test_admit(void)
{
    /* Unprivileged uids fill up to 63 of 64; the 64th of theirs is refused. */
    CHECK_INT(dmn_client_admit(63, 63, 15, 0, 64, 1, 16), ==, DMN_ADMIT_OK);
    CHECK_INT(dmn_client_admit(64, 64, 16, 0, 64, 1, 16), ==, DMN_ADMIT_RESERVED);
    /* ...while the service's uid (63 others held, itself the 64th) gets in. */
    CHECK_INT(dmn_client_admit(64, 63, 1, 1, 64, 1, 16), ==, DMN_ADMIT_OK);
    CHECK_INT(dmn_client_admit(65, 63, 2, 1, 64, 1, 16), ==, DMN_ADMIT_TOTAL);
    /* The per-uid cap holds for every uid, root too. */
    CHECK_INT(dmn_client_admit(17, 0, 17, 1, 64, 1, 16), ==, DMN_ADMIT_PER_UID);
    CHECK_INT(dmn_client_admit(17, 17, 17, 0, 64, 1, 16), ==, DMN_ADMIT_PER_UID);
    /* Privileged clients may use the whole table. */
    CHECK_INT(dmn_client_admit(64, 0, 16, 1, 64, 1, 16), ==, DMN_ADMIT_OK);
    /* A reservation as large as the table leaves others nothing, never wraps. */
    CHECK_INT(dmn_client_admit(1, 1, 1, 0, 64, 100, 16), ==, DMN_ADMIT_RESERVED);
}

int main(void)
{
    test_admit();
    test_parse();
    test_queue();
    test_socket_path();
    T_DONE();
}
