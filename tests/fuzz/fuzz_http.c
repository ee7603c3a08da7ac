/* fuzz_http.c - libFuzzer harness for the load engine's HTTP response parser
 * (runner/http.c). The first byte picks the expectations and caps, the second a
 * split point; the rest is a byte stream from a server. It is parsed whole,
 * byte by byte and in two pieces: every way must end each response at the same
 * byte with the same verdict (status, ok, close), and fail or not alike. */
#include <string.h>

#include "fuzz.h"
#include "http.h"

#define MAX_SEEN 64

struct outcome {
    int n; /* responses completed */
    uint16_t status[MAX_SEEN];
    uint8_t ok[MAX_SEEN], close[MAX_SEEN];
    size_t end[MAX_SEEN]; /* offset just past each response */
    int err;              /* HTTP_EPROTO met */
    int eof;              /* http_resp_eof() at the end, when no error */
};

static void done(struct outcome *o, struct http_resp *r, size_t at)
{
    FUZZ_ASSERT(r->status >= 200 && r->status <= 599);
    if (o->n < MAX_SEEN) {
        o->status[o->n] = r->status;
        o->ok[o->n] = (uint8_t)http_resp_ok(r);
        o->close[o->n] = r->conn_close;
        o->end[o->n] = at;
    }
    o->n++;
    http_resp_reset(r);
}

/* Feeds p[0, n) in pieces that end at the offsets of cuts (ascending), then n. */
static void feed(const struct http_cfg *cfg, const char *p, size_t n, const size_t *cuts,
                 size_t ncuts, struct outcome *o)
{
    memset(o, 0, sizeof(*o));
    struct http_resp r;
    http_resp_init(&r, cfg);
    size_t off = 0;
    for (size_t k = 0; k <= ncuts; k++) {
        size_t lim = k < ncuts ? cuts[k] : n;
        if (lim < off)
            continue;
        while (off < lim) {
            size_t used = 0;
            int rc = http_resp_parse(&r, p + off, lim - off, &used);
            FUZZ_ASSERT(used <= lim - off);
            if (rc == HTTP_EPROTO) {
                o->err = 1;
                return;
            }
            FUZZ_ASSERT(rc == HTTP_DONE || rc == HTTP_MORE);
            if (rc == HTTP_MORE)
                FUZZ_ASSERT(used == lim - off); /* MORE means all was taken */
            off += used;
            if (rc == HTTP_DONE)
                done(o, &r, off);
        }
    }
    o->eof = http_resp_eof(&r);
    if (o->eof == HTTP_DONE)
        done(o, &r, n);
}

static void same(const struct outcome *a, const struct outcome *b)
{
    FUZZ_ASSERT(a->err == b->err);
    FUZZ_ASSERT(a->n == b->n);
    FUZZ_ASSERT(a->eof == b->eof);
    int m = a->n < MAX_SEEN ? a->n : MAX_SEEN;
    for (int i = 0; i < m; i++) {
        FUZZ_ASSERT(a->status[i] == b->status[i]);
        FUZZ_ASSERT(a->ok[i] == b->ok[i]);
        FUZZ_ASSERT(a->close[i] == b->close[i]);
        FUZZ_ASSERT(a->end[i] == b->end[i]);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2 || size > 64 * 1024)
        return 0;
    static const char body[] = "Hello World!";
    uint8_t mode = data[0];
    struct http_cfg cfg = {0, 0, NULL, 0, -1};
    if (mode & 1) {
        cfg.expect_body = body;
        cfg.expect_body_len = sizeof(body) - 1;
    }
    if (mode & 2)
        cfg.expect_length = 12;
    if (mode & 4)
        cfg.max_header_bytes = 64 + (mode >> 5) * 32; /* small header caps: 64 to 288 */
    if (mode & 8)
        cfg.max_body_bytes = 16 + (mode >> 5);
    const char *p = (const char *)data + 2;
    size_t n = size - 2;
    size_t split = n ? data[1] % (n + 1) : 0;

    struct outcome whole, bytes, two;
    feed(&cfg, p, n, NULL, 0, &whole);
    size_t *cuts = malloc((n ? n : 1) * sizeof(*cuts));
    FUZZ_ASSERT(cuts != NULL);
    for (size_t i = 0; i < n; i++)
        cuts[i] = i + 1;
    feed(&cfg, p, n, cuts, n, &bytes);
    free(cuts);
    feed(&cfg, p, n, &split, 1, &two);
    same(&whole, &bytes);
    same(&whole, &two);
    return 0;
}
