/* verify.c - TechEmpower's rules for the database payloads' answers, as pure functions the
 * readiness probe calls instead of a byte-exact comparison: db and queries by their JSON shape
 * and id range, fortunes against the exact page computed here from the Fortune rows PostgreSQL
 * holds (plus the one added at request time, sorted, escaped). cJSON parses; nothing else. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "node.h"

#define WRONG(...) (snprintf(why, n, __VA_ARGS__), -EPROTO)

/* "text/html; charset=utf-8" and "text/html;charset=UTF-8" alike: lower case, no spaces. */
static int ctype_is(const char *ctype, const char *want)
{
    char a[128];
    size_t j = 0;
    for (const char *p = ctype ? ctype : ""; *p && j + 1 < sizeof a; p++)
        if (*p != ' ')
            a[j++] = (char)((*p >= 'A' && *p <= 'Z') ? *p - 'A' + 'a' : *p);
    a[j] = '\0';
    return !strcmp(a, want);
}

/* One World object: exactly {id, randomNumber}, both integers in 1..10000. */
static int world_ok(const cJSON *o, char *why, size_t n)
{
    if (!cJSON_IsObject(o))
        return WRONG("not a JSON object {id, randomNumber}");
    int keys = 0;
    for (const cJSON *c = o->child; c; c = c->next)
        keys++;
    static const char *const names[] = {"id", "randomNumber"};
    for (size_t i = 0; i < 2; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, names[i]);
        if (!v)
            return WRONG("no \"%s\" in the object (keys are case-sensitive)", names[i]);
        double d = v->valuedouble;
        if (!cJSON_IsNumber(v) || d != floor(d) || d < 1 || d > NODE_PG_WORLD_ROWS)
            return WRONG("\"%s\" is not an integer in 1..%d", names[i], NODE_PG_WORLD_ROWS);
    }
    if (keys != 2)
        return WRONG("the object has %d keys, want exactly id and randomNumber", keys);
    return 0;
}

static int json_type(const char *ctype, char *why, size_t n)
{
    if (!ctype_is(ctype, "application/json") && !ctype_is(ctype, "application/json;charset=utf-8"))
        return WRONG("Content-Type is %s, want application/json",
                     ctype && *ctype ? ctype : "(none)");
    return 0;
}

int node_verify_db(const char *body, size_t len, const char *ctype, char *why, size_t n)
{
    if (json_type(ctype, why, n))
        return -EPROTO;
    cJSON *o = cJSON_ParseWithLength(body, len);
    if (!o)
        return WRONG("not JSON: \"%.60s\"", body ? body : "");
    int rc = world_ok(o, why, n);
    cJSON_Delete(o);
    return rc;
}

int node_verify_queries(const char *body, size_t len, const char *ctype, int rows, char *why,
                        size_t n)
{
    if (json_type(ctype, why, n))
        return -EPROTO;
    cJSON *a = cJSON_ParseWithLength(body, len);
    if (!a)
        return WRONG("not JSON: \"%.60s\"", body ? body : "");
    int rc = 0;
    if (!cJSON_IsArray(a)) {
        rc = WRONG("not a JSON array");
        goto out;
    }
    int got = cJSON_GetArraySize(a);
    if (got != rows) {
        rc = WRONG("%d rows, want %d", got, rows);
        goto out;
    }
    int i = 0;
    for (const cJSON *w = a->child; w; w = w->next, i++) {
        char sub[200];
        if (world_ok(w, sub, sizeof sub)) {
            rc = WRONG("row %d: %s", i + 1, sub);
            goto out;
        }
    }
out:
    cJSON_Delete(a);
    return rc;
}

static int cmp_message(const void *a, const void *b)
{
    /* UTF-8 byte order is code point order: as TechEmpower's sort by message. */
    return strcmp(((const struct node_fortune *)a)->message,
                  ((const struct node_fortune *)b)->message);
}

static int put_escaped(struct buf *b, const char *s)
{
    for (; *s; s++) {
        int rc;
        switch (*s) {
        case '&':
            rc = buf_puts(b, "&amp;");
            break;
        case '<':
            rc = buf_puts(b, "&lt;");
            break;
        case '>':
            rc = buf_puts(b, "&gt;");
            break;
        case '"':
            rc = buf_puts(b, "&quot;");
            break;
        case '\'':
            rc = buf_puts(b, "&#39;");
            break;
        default:
            rc = buf_append(b, s, 1);
        }
        if (rc)
            return rc;
    }
    return 0;
}

int node_fortunes_page(const struct node_fortune *rows, size_t nrows, struct buf *out)
{
    struct node_fortune *all = calloc(nrows + 1, sizeof *all);
    if (!all)
        return -ENOMEM;
    memcpy(all, rows, nrows * sizeof *all);
    all[nrows].id = 0;
    all[nrows].message = (char *)NODE_FORTUNE_EXTRA;
    qsort(all, nrows + 1, sizeof *all, cmp_message);
    buf_reset(out);
    int rc = buf_puts(out, "<!DOCTYPE html><html><head><title>Fortunes</title></head><body><table>"
                           "<tr><th>id</th><th>message</th></tr>");
    for (size_t i = 0; !rc && i <= nrows; i++)
        rc = buf_printf(out, "<tr><td>%d</td><td>", all[i].id) ||
             put_escaped(out, all[i].message) || buf_puts(out, "</td></tr>");
    if (!rc)
        rc = buf_puts(out, "</table></body></html>");
    free(all);
    return rc ? -ENOMEM : 0;
}

/* The spellings of an escaped quote HTML reads alike (jinja2 &#34; &#39;, Django &quot;
 * &#x27;, bottle &#039;): each is read as the page's own (&quot;, &#39;) before comparing. */
static const struct {
    const char *alt, *canon;
} quotes[] = {{"&#34;", "&quot;"},
              {"&#x22;", "&quot;"},
              {"&#039;", "&#39;"},
              {"&#x27;", "&#39;"},
              {"&apos;", "&#39;"}};

int node_verify_fortunes(const char *body, size_t len, const char *ctype, const char *page,
                         size_t page_len, char *why, size_t n)
{
    if (!ctype_is(ctype, "text/html;charset=utf-8"))
        return WRONG("Content-Type is %s, want text/html; charset=utf-8",
                     ctype && *ctype ? ctype : "(none)");
    struct buf b;
    buf_init(&b, 0);
    for (size_t i = 0; i < len;) {
        size_t q = 0, nq = sizeof quotes / sizeof quotes[0];
        while (q < nq && (len - i < strlen(quotes[q].alt) ||
                          strncasecmp(body + i, quotes[q].alt, strlen(quotes[q].alt))))
            q++;
        int rc = q < nq ? buf_puts(&b, quotes[q].canon) : buf_append(&b, body + i, 1);
        if (rc) {
            buf_free(&b);
            return WRONG("out of memory");
        }
        i += q < nq ? strlen(quotes[q].alt) : 1;
    }
    const char *got = b.data ? b.data : "";
    size_t i = 0;
    while (i < b.len && i < page_len && got[i] == page[i])
        i++;
    int rc = 0;
    if (i < b.len || i < page_len) {
        size_t from = i > 20 ? i - 20 : 0;
        rc = WRONG("the page differs at byte %zu: got \"%.*s\", want \"%.*s\"", i,
                   (int)(b.len - from < 60 ? b.len - from : 60), got + from,
                   (int)(page_len - from < 60 ? page_len - from : 60), page + from);
    }
    buf_free(&b);
    return rc;
}

int node_fortunes_parse(const char *json, struct node_fortune **rows, size_t *nrows, struct err *e)
{
    *rows = NULL;
    *nrows = 0;
    cJSON *a = cJSON_Parse(json ? json : "");
    if (!cJSON_IsArray(a)) {
        cJSON_Delete(a);
        return err_set(e, -EPROTO, "Fortune rows: not the JSON array psql was asked for: %.80s",
                       json ? json : "");
    }
    int count = cJSON_GetArraySize(a);
    struct node_fortune *r = calloc(count > 0 ? (size_t)count : 1, sizeof *r);
    if (!r) {
        cJSON_Delete(a);
        return err_set(e, -ENOMEM, "out of memory");
    }
    int i = 0, rc = 0;
    for (const cJSON *row = a->child; row; row = row->next, i++) {
        const cJSON *id = cJSON_GetArrayItem(row, 0), *msg = cJSON_GetArrayItem(row, 1);
        if (!cJSON_IsArray(row) || cJSON_GetArraySize(row) != 2 || !cJSON_IsNumber(id) ||
            !cJSON_IsString(msg)) {
            rc = err_set(e, -EPROTO, "Fortune rows: row %d is not [id, message]", i + 1);
            break;
        }
        r[i].id = id->valueint;
        r[i].message = strdup(msg->valuestring);
        if (!r[i].message) {
            rc = err_set(e, -ENOMEM, "out of memory");
            break;
        }
    }
    cJSON_Delete(a);
    if (rc) {
        node_fortunes_free(r, (size_t)count);
        return rc;
    }
    *rows = r;
    *nrows = (size_t)count;
    return 0;
}

void node_fortunes_free(struct node_fortune *rows, size_t nrows)
{
    for (size_t i = 0; rows && i < nrows; i++)
        free(rows[i].message);
    free(rows);
}

static int check_rule(const struct node_db_rule *r, const char *body, size_t len, const char *ctype,
                      char *why, size_t n)
{
    switch (r->verify) {
    case CFG_VERIFY_DB:
        return node_verify_db(body, len, ctype, why, n);
    case CFG_VERIFY_QUERIES:
    case CFG_VERIFY_UPDATES:
        return node_verify_queries(body, len, ctype, r->queries, why, n);
    case CFG_VERIFY_FORTUNES:
        if (!r->page)
            return WRONG("no Fortune rows were read from PostgreSQL to check the page against");
        return node_verify_fortunes(body, len, ctype, r->page, r->page_len, why, n);
    case CFG_VERIFY_NONE:
        break;
    }
    return 0;
}

int node_db_check(void *arg, const char *body, size_t len, const char *ctype, char *why, size_t n)
{
    struct node_db_rule *r = arg;
    int rc = check_rule(r, body, len, ctype, why, n);
    if (rc == 0)
        r->passed_len = len;
    return rc;
}
