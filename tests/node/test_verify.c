/* test_verify.c - the database payloads' rules (node/verify.c) accept the right answers and
 * reject each wrong one TechEmpower's verifier rejects: an unescaped fortune, an unsorted
 * list, a list without the runtime fortune, text/plain, 19 rows for queries=20, id 0, the
 * column's lower-case name, a float id, an extra key; and the probe's check hook decides. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node.h"
#include "t.h"

static const char *const messages[NODE_PG_FORTUNE_ROWS] = {
    "fortune: No such file or directory",
    "A computer scientist is someone who fixes things that aren't broken.",
    "After enough decimal places, nobody gives a damn.",
    "A bad random number generator: 1, 1, 1, 1, 1, 4.33e+67, 1, 1, 1",
    "A computer program does what you tell it to do, not what you want it to do.",
    "Emacs is a nice operating system, but I prefer UNIX. \xe2\x80\x94 Tom Christaensen",
    "Any program that runs right is obsolete.",
    "A list is only as strong as its weakest link. \xe2\x80\x94 Donald Knuth",
    "Feature: A bug with seniority.",
    "Computers make very fast, very accurate mistakes.",
    "<script>alert(\"This should not be displayed in a browser alert box.\");</script>",
    "\xe3\x83\x95\xe3\x83\xac\xe3\x83\xbc\xe3\x83\xa0\xe3\x83\xaf\xe3\x83\xbc\xe3\x82\xaf\xe3\x81"
    "\xae\xe3\x83\x99\xe3\x83\xb3\xe3\x83\x81\xe3\x83\x9e\xe3\x83\xbc\xe3\x82\xaf",
};

static const char *HTML = "text/html; charset=utf-8";

/* Replaces the first `from` in s (a buf's text) with `to`; 1 when found. */
static int replace(struct buf *b, const char *from, const char *to)
{
    char *at = b->data ? strstr(b->data, from) : NULL;
    if (!at)
        return 0;
    struct buf o;
    buf_init(&o, 0);
    int rc = buf_append(&o, b->data, (size_t)(at - b->data)) || buf_puts(&o, to) ||
             buf_puts(&o, at + strlen(from));
    if (!rc) {
        buf_reset(b);
        rc = buf_append(b, o.data, o.len);
    }
    buf_free(&o);
    return !rc;
}

static void test_fortunes(void)
{
    struct node_fortune rows[NODE_PG_FORTUNE_ROWS];
    for (int i = 0; i < NODE_PG_FORTUNE_ROWS; i++)
        rows[i] = (struct node_fortune){i + 1, (char *)messages[i]};
    struct buf page, b;
    buf_init(&page, 0);
    buf_init(&b, 0);
    CHECK_INT(node_fortunes_page(rows, NODE_PG_FORTUNE_ROWS, &page), ==, 0);
    /* TechEmpower's page, as its verifier writes it (the first rows, sorted). */
    CHECK_CONTAINS(page.data, "<!DOCTYPE html><html><head><title>Fortunes</title></head><body>"
                              "<table><tr><th>id</th><th>message</th></tr><tr><td>11</td><td>"
                              "&lt;script&gt;alert(&quot;This should not be displayed in a "
                              "browser alert box.&quot;);&lt;/script&gt;</td></tr><tr><td>4"
                              "</td><td>A bad random number generator");
    CHECK_CONTAINS(page.data, "<tr><td>0</td><td>Additional fortune added at request time."
                              "</td></tr>");
    CHECK_CONTAINS(page.data, "aren&#39;t broken.");
    const char *end = "</td></tr></table></body></html>";
    CHECK(page.len > strlen(end) && !strcmp(page.data + page.len - strlen(end), end));
    char why[512];
    CHECK_INT(node_verify_fortunes(page.data, page.len, HTML, page.data, page.len, why, sizeof why),
              ==, 0);
    CHECK_INT(node_verify_fortunes(page.data, page.len, "text/html;charset=UTF-8", page.data,
                                   page.len, why, sizeof why),
              ==, 0);
    /* jinja2's &#34; and bottle's &#039; are the same page. */
    buf_reset(&b);
    CHECK_INT(buf_append(&b, page.data, page.len), ==, 0);
    CHECK(replace(&b, "&quot;", "&#34;") && replace(&b, "&#39;", "&#039;"));
    CHECK_INT(node_verify_fortunes(b.data, b.len, HTML, page.data, page.len, why, sizeof why), ==,
              0);
    /* text/plain */
    CHECK_INT(node_verify_fortunes(page.data, page.len, "text/plain", page.data, page.len, why,
                                   sizeof why),
              ==, -EPROTO);
    CHECK_CONTAINS(why, "Content-Type is text/plain");
    /* the <script> row unescaped */
    buf_reset(&b);
    CHECK_INT(buf_append(&b, page.data, page.len), ==, 0);
    CHECK(replace(&b, "&lt;script&gt;", "<script>"));
    CHECK_INT(node_verify_fortunes(b.data, b.len, HTML, page.data, page.len, why, sizeof why), ==,
              -EPROTO);
    CHECK_CONTAINS(why, "differs at byte");
    /* without the runtime fortune */
    buf_reset(&b);
    CHECK_INT(buf_append(&b, page.data, page.len), ==, 0);
    CHECK(replace(&b, "<tr><td>0</td><td>Additional fortune added at request time.</td></tr>", ""));
    CHECK_INT(node_verify_fortunes(b.data, b.len, HTML, page.data, page.len, why, sizeof why), ==,
              -EPROTO);
    /* unsorted: two rows swapped (11 and 4, the first two) */
    buf_reset(&b);
    CHECK_INT(buf_append(&b, page.data, page.len), ==, 0);
    CHECK(replace(&b, "<tr><td>11</td>", "<tr><td>XX</td>") &&
          replace(&b, "<tr><td>4</td>", "<tr><td>11</td>") &&
          replace(&b, "<tr><td>XX</td>", "<tr><td>4</td>"));
    CHECK_INT(node_verify_fortunes(b.data, b.len, HTML, page.data, page.len, why, sizeof why), ==,
              -EPROTO);

    /* psql's json_agg read back into the same rows. */
    struct node_fortune *got = NULL;
    size_t ngot = 0;
    struct err e;
    err_clear(&e);
    CHECK_INT(node_fortunes_parse("[[1, \"a\\\"b\"], [2, \"\xe3\x83\x95\"]]", &got, &ngot, &e), ==,
              0);
    CHECK_INT(ngot, ==, 2);
    if (ngot == 2) {
        CHECK_INT(got[0].id, ==, 1);
        CHECK_STR(got[0].message, "a\"b");
        CHECK_STR(got[1].message, "\xe3\x83\x95");
    }
    node_fortunes_free(got, ngot);
    CHECK_INT(node_fortunes_parse("[[1]]", &got, &ngot, &e), ==, -EPROTO);
    CHECK_CONTAINS(e.msg, "row 1 is not [id, message]");
    CHECK_INT(node_fortunes_parse("ERROR: nope", &got, &ngot, &e), ==, -EPROTO);
    buf_free(&page);
    buf_free(&b);
}

static void test_world(void)
{
    char why[512];
    const char *J = "application/json";
    CHECK_INT(node_verify_db("{\"id\":1,\"randomNumber\":10000}", 29, J, why, sizeof why), ==, 0);
    CHECK_INT(node_verify_db("{\"id\": 42, \"randomNumber\": 7}", 29,
                             "application/json; "
                             "charset=utf-8",
                             why, sizeof why),
              ==, 0);
    static const struct {
        const char *body, *ctype, *want;
    } bad[] = {
        {"{\"id\":0,\"randomNumber\":5}", "application/json", "\"id\" is not an integer"},
        {"{\"id\":1,\"randomnumber\":5}", "application/json", "no \"randomNumber\""},
        {"{\"id\":1.5,\"randomNumber\":5}", "application/json", "\"id\" is not an integer"},
        {"{\"id\":\"1\",\"randomNumber\":5}", "application/json", "\"id\" is not an integer"},
        {"{\"id\":1,\"randomNumber\":10001}", "application/json", "\"randomNumber\" is not"},
        {"{\"id\":1,\"randomNumber\":5,\"x\":1}", "application/json", "has 3 keys"},
        {"[{\"id\":1,\"randomNumber\":5}]", "application/json", "not a JSON object"},
        {"{\"id\":1,\"randomNumber\":5}", "text/plain", "want application/json"},
        {"{\"id\":1,", "application/json", "not JSON"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        why[0] = '\0';
        CHECK_INT(node_verify_db(bad[i].body, strlen(bad[i].body), bad[i].ctype, why, sizeof why),
                  ==, -EPROTO);
        CHECK_CONTAINS(why, bad[i].want);
    }
    /* queries: exactly N rows, each a World. */
    struct buf b;
    buf_init(&b, 0);
    CHECK_INT(buf_puts(&b, "["), ==, 0);
    for (int i = 1; i <= 20; i++)
        CHECK_INT(buf_printf(&b, "%s{\"id\":%d,\"randomNumber\":%d}", i > 1 ? "," : "", i, 21 - i),
                  ==, 0);
    CHECK_INT(buf_puts(&b, "]"), ==, 0);
    CHECK_INT(node_verify_queries(b.data, b.len, J, 20, why, sizeof why), ==, 0);
    CHECK_INT(node_verify_queries(b.data, b.len, J, 19, why, sizeof why), ==, -EPROTO);
    CHECK_CONTAINS(why, "20 rows, want 19");
    CHECK_INT(node_verify_queries("[{\"id\":1,\"randomNumber\":1}]", 28, J, 20, why, sizeof why),
              ==, -EPROTO);
    CHECK_CONTAINS(why, "1 rows, want 20");
    CHECK_INT(node_verify_queries("[{\"id\":1,\"randomNumber\":1},{\"id\":0,\"randomNumber\":1}]",
                                  55, J, 2, why, sizeof why),
              ==, -EPROTO);
    CHECK_CONTAINS(why, "row 2: \"id\" is not an integer");
    CHECK_INT(node_verify_queries("{\"id\":1,\"randomNumber\":1}", 26, J, 1, why, sizeof why), ==,
              -EPROTO);
    CHECK_CONTAINS(why, "not a JSON array");
    /* node_db_check dispatches by the payload's rule. */
    struct node_db_rule r = {.verify = CFG_VERIFY_QUERIES, .queries = 20};
    CHECK_INT(node_db_check(&r, b.data, b.len, J, why, sizeof why), ==, 0);
    CHECK_INT(r.passed_len, ==, b.len);
    r.verify = CFG_VERIFY_UPDATES;
    r.queries = 5;
    CHECK_INT(node_db_check(&r, b.data, b.len, J, why, sizeof why), ==, -EPROTO);
    CHECK_INT(r.passed_len, ==, b.len); /* a wrong answer leaves the last good length */
    r.verify = CFG_VERIFY_FORTUNES;
    CHECK_INT(node_db_check(&r, "x", 1, HTML, why, sizeof why), ==, -EPROTO);
    CHECK_CONTAINS(why, "no Fortune rows");
    buf_free(&b);
}

int main(void)
{
    test_fortunes();
    test_world();
    T_DONE();
}
