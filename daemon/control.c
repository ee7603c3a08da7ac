/* control.c - one control request line -> struct dmn_request. Input comes from
 * any local client, so every field is type-checked and bounded here; cell names
 * are checked again against the matrix (cfg_select) and never reach a shell. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "control.h"
#include "daemon.h"

int dmn_socket_dir_check(const char *sock_path, int client, struct err *e)
{
    char dir[sizeof(((struct sockaddr_un *)0)->sun_path) + 1];
    if (mf_dirname(sock_path, dir, sizeof(dir)) != 0)
        return err_set(e, -ENAMETOOLONG, "socket path too long: %.200s", sock_path);
    struct stat st;
    if (lstat(dir, &st) != 0 && errno == ENOENT)
        return 0;
    unsigned ok[2] = {0, 0};
    size_t nok = 1;
    if (client && strcmp(dir, DMN_SYSTEM_SOCKET_DIR) == 0) {
        struct passwd pw, *res = NULL;
        char tmp[1024];
        if (getpwnam_r(DMN_SERVICE_USER, &pw, tmp, sizeof(tmp), &res) == 0 && res)
            ok[nok++] = (unsigned)res->pw_uid;
    }
    return mf_dir_check("socket folder", dir, ok, nok, e);
}

enum dmn_admit dmn_client_admit(size_t total, size_t others, size_t same, int privileged,
                                size_t max_total, size_t reserved, size_t max_per_uid)
{
    if (total > max_total)
        return DMN_ADMIT_TOTAL;
    if (!privileged && others + (reserved < max_total ? reserved : max_total) > max_total)
        return DMN_ADMIT_RESERVED;
    if (same > max_per_uid)
        return DMN_ADMIT_PER_UID;
    return DMN_ADMIT_OK;
}

void dmn_request_free(struct dmn_request *r)
{
    for (size_t i = 0; i < r->ncells; i++)
        free(r->cells[i]);
    free(r->cells);
    r->cells = NULL;
    r->ncells = 0;
}

char *dmn_answer_error(const char *msg)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    cJSON_AddFalseToObject(o, "ok");
    cJSON_AddStringToObject(o, "error", msg);
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (!s)
        return NULL;
    size_t n = strlen(s);
    char *line = realloc(s, n + 2);
    if (!line) {
        free(s);
        return NULL;
    }
    line[n] = '\n';
    line[n + 1] = '\0';
    return line;
}

/* A short, printable excerpt of client input for an error message. */
static void excerpt(const char *s, char *out, size_t n)
{
    size_t i = 0;
    for (; s[i] && i + 1 < n && i < 32; i++)
        out[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
    out[i] = '\0';
}

static int get_string(const cJSON *o, const char *key, char *out, size_t n, struct err *e)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!v || cJSON_IsNull(v))
        return 0;
    if (!cJSON_IsString(v) || !v->valuestring)
        return err_set(e, -EINVAL, "\"%s\" must be a string", key);
    if (strlen(v->valuestring) >= n)
        return err_set(e, -EINVAL, "\"%s\" is too long (at most %zu bytes)", key, n - 1);
    mf_strlcpy(out, v->valuestring, n);
    return 0;
}

static int get_bool(const cJSON *o, const char *key, int *out, struct err *e)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!v || cJSON_IsNull(v))
        return 0;
    if (!cJSON_IsBool(v))
        return err_set(e, -EINVAL, "\"%s\" must be true or false", key);
    *out = cJSON_IsTrue(v);
    return 0;
}

static int parse_trigger(const cJSON *o, struct dmn_request *r, struct err *e)
{
    int rc = get_bool(o, "all", &r->all, e);
    rc = rc ? rc : get_bool(o, "follow", &r->follow, e);
    rc = rc ? rc : get_string(o, "profile", r->profile, sizeof(r->profile), e);
    rc = rc ? rc : get_string(o, "trigger", r->trigger, sizeof(r->trigger), e);
    if (rc)
        return rc;
    /* The profile is named as in the matrix (config's one name rule); cell patterns are
     * printable ASCII. Both reach logs, the store and messages. */
    if (r->profile[0] && !cfg_name_ok(r->profile))
        return err_set(e, -EINVAL,
                       "\"profile\" is not a valid name (use [a-z0-9][a-z0-9_.-]*, at most %d "
                       "characters)",
                       CFG_MAX_NAME);
    if (!r->trigger[0])
        mf_strlcpy(r->trigger, "daemon", sizeof(r->trigger));
    if (strcmp(r->trigger, "daemon") != 0 && strcmp(r->trigger, "nightly") != 0)
        return err_set(e, -EINVAL, "\"trigger\" must be \"daemon\" or \"nightly\"");
    const cJSON *cells = cJSON_GetObjectItemCaseSensitive(o, "cells");
    if (cells && !cJSON_IsNull(cells)) {
        if (!cJSON_IsArray(cells))
            return err_set(e, -EINVAL, "\"cells\" must be an array of strings");
        int n = cJSON_GetArraySize(cells);
        if (n > DMN_MAX_CELLS)
            return err_set(e, -EINVAL, "too many cells (at most %d)", DMN_MAX_CELLS);
        if (n > 0 && !(r->cells = calloc((size_t)n, sizeof(*r->cells))))
            return err_set(e, -ENOMEM, "out of memory");
        const cJSON *c;
        cJSON_ArrayForEach(c, cells)
        {
            if (!cJSON_IsString(c) || !c->valuestring)
                return err_set(e, -EINVAL, "\"cells\" must be an array of strings");
            size_t len = strlen(c->valuestring);
            if (len == 0 || len >= DMN_MAX_NAME)
                return err_set(e, -EINVAL, "a cell name must have 1 to %d bytes", DMN_MAX_NAME - 1);
            for (size_t i = 0; i < len; i++)
                if ((unsigned char)c->valuestring[i] <= ' ' ||
                    (unsigned char)c->valuestring[i] > '~')
                    return err_set(e, -EINVAL,
                                   "a cell name must be printable ASCII without spaces");
            if (!(r->cells[r->ncells] = strdup(c->valuestring)))
                return err_set(e, -ENOMEM, "out of memory");
            r->ncells++;
        }
    }
    if (r->all && r->ncells)
        return err_set(e, -EINVAL, "\"all\" and \"cells\" are exclusive");
    if (!r->all && !r->ncells)
        return err_set(e, -EINVAL, "name at least one cell in \"cells\", or \"all\": true");
    return 0;
}

int dmn_request_parse(const char *line, size_t len, struct dmn_request *r, struct err *e)
{
    memset(r, 0, sizeof(*r));
    if (len > DMN_CTL_MAX_LINE)
        return err_set(e, -EINVAL, "request too long");
    cJSON *o = cJSON_ParseWithLength(line, len);
    int rc = 0;
    if (!o) {
        rc = err_set(e, -EINVAL, "malformed JSON");
        goto out;
    }
    if (!cJSON_IsObject(o)) {
        rc = err_set(e, -EINVAL, "a request is a JSON object with a \"cmd\"");
        goto out;
    }
    const cJSON *cmd = cJSON_GetObjectItemCaseSensitive(o, "cmd");
    if (!cJSON_IsString(cmd) || !cmd->valuestring) {
        rc = err_set(e, -EINVAL, "\"cmd\" must be a string");
        goto out;
    }
    const char *c = cmd->valuestring;
    if (strcmp(c, "trigger") == 0) {
        r->cmd = DMN_CMD_TRIGGER;
        rc = parse_trigger(o, r, e);
    } else if (strcmp(c, "status") == 0) {
        r->cmd = DMN_CMD_STATUS;
    } else if (strcmp(c, "subscribe") == 0) {
        r->cmd = DMN_CMD_SUBSCRIBE;
    } else if (strcmp(c, "cancel") == 0) {
        r->cmd = DMN_CMD_CANCEL;
        const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, "job");
        if (j && !cJSON_IsNull(j)) {
            double v = cJSON_IsNumber(j) ? j->valuedouble : -1;
            if (!cJSON_IsNumber(j) || !(v >= 1 && v <= 9007199254740992.0) || floor(v) != v)
                rc = err_set(e, -EINVAL, "\"job\" must be a positive integer");
            else
                r->job = (int64_t)v;
        }
    } else {
        char ex[40];
        excerpt(c, ex, sizeof(ex));
        rc =
            err_set(e, -EINVAL, "unknown cmd \"%s\" (have trigger, status, cancel, subscribe)", ex);
    }
out:
    cJSON_Delete(o);
    if (rc)
        dmn_request_free(r);
    return rc;
}
