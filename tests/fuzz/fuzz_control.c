/* fuzz_control.c - libFuzzer harness for the control socket's request parser
 * (daemon/control.c): one request line as a local client sends it. A request
 * parses into a bounded, consistent struct, or fails with a message that the
 * error answer carries back intact as JSON; nothing leaks either way. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <string.h>

#include "control.h"
#include "daemon.h"
#include "fuzz.h"

static void check_ok(const struct dmn_request *r)
{
    FUZZ_ASSERT(r->cmd == DMN_CMD_TRIGGER || r->cmd == DMN_CMD_STATUS || r->cmd == DMN_CMD_CANCEL ||
                r->cmd == DMN_CMD_SUBSCRIBE);
    FUZZ_ASSERT(memchr(r->profile, '\0', sizeof(r->profile)) != NULL);
    FUZZ_ASSERT(memchr(r->trigger, '\0', sizeof(r->trigger)) != NULL);
    FUZZ_ASSERT(r->job >= 0);
    if (r->cmd != DMN_CMD_TRIGGER) {
        FUZZ_ASSERT(r->ncells == 0 && r->cells == NULL);
        return;
    }
    FUZZ_ASSERT(strcmp(r->trigger, "daemon") == 0 || strcmp(r->trigger, "nightly") == 0);
    FUZZ_ASSERT(r->all ? r->ncells == 0 : r->ncells > 0);
    FUZZ_ASSERT(r->ncells <= DMN_MAX_CELLS);
    for (size_t i = 0; i < r->ncells; i++) {
        size_t len = strlen(r->cells[i]);
        FUZZ_ASSERT(len >= 1 && len < DMN_MAX_NAME);
    }
}

static void check_error(const struct dmn_request *r, int rc, const struct err *e)
{
    FUZZ_ASSERT(rc == -EINVAL || rc == -ENOMEM);
    FUZZ_ASSERT(e->code == rc && e->msg[0] != '\0');
    FUZZ_ASSERT(r->cells == NULL && r->ncells == 0);
    /* The answer the client gets: one JSON line that says what was wrong. */
    char *line = dmn_answer_error(e->msg);
    FUZZ_ASSERT(line != NULL);
    size_t n = strlen(line);
    FUZZ_ASSERT(n > 0 && line[n - 1] == '\n' && memchr(line, '\n', n - 1) == NULL);
    cJSON *a = cJSON_ParseWithLength(line, n);
    FUZZ_ASSERT(a != NULL);
    FUZZ_ASSERT(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(a, "ok")));
    const cJSON *msg = cJSON_GetObjectItemCaseSensitive(a, "error");
    FUZZ_ASSERT(cJSON_IsString(msg) && strcmp(msg->valuestring, e->msg) == 0);
    cJSON_Delete(a);
    free(line);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > DMN_CTL_MAX_LINE + 16)
        return 0;
    struct dmn_request r;
    struct err e;
    err_clear(&e);
    int rc = dmn_request_parse((const char *)data, size, &r, &e);
    if (rc == 0) {
        check_ok(&r);
        dmn_request_free(&r);
        FUZZ_ASSERT(r.cells == NULL && r.ncells == 0);
    } else {
        check_error(&r, rc, &e);
    }
    return 0;
}
