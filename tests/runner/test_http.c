/* test_http.c - the incremental response parser: lengths, chunked bodies with
 * extensions and trailers, splits at every byte, pipelined responses, 1xx,
 * Connection: close, caps and malformed input. */
#include "http.h"
#include "t.h"

struct got {
    int n;
    int status[8];
    int ok[8];
    int close[8];
    int err;
};

/* Feeds s in pieces of `step` bytes (0 = all at once), collecting responses. */
static struct got feed(const struct http_cfg *cfg, const char *s, size_t len, size_t step)
{
    struct got g;
    memset(&g, 0, sizeof(g));
    struct http_resp r;
    http_resp_init(&r, cfg);
    size_t off = 0;
    while (off < len) {
        size_t piece = step ? step : len;
        if (piece > len - off)
            piece = len - off;
        size_t pos = 0;
        while (pos < piece) {
            size_t used = 0;
            int rc = http_resp_parse(&r, s + off + pos, piece - pos, &used);
            pos += used;
            if (rc == HTTP_EPROTO) {
                g.err = 1;
                return g;
            }
            if (rc == HTTP_DONE && g.n < 8) {
                g.status[g.n] = r.status;
                g.ok[g.n] = http_resp_ok(&r);
                g.close[g.n] = r.conn_close;
                g.n++;
                http_resp_reset(&r);
            }
        }
        off += piece;
    }
    return g;
}

static struct got feed_s(const struct http_cfg *cfg, const char *s, size_t step)
{
    return feed(cfg, s, strlen(s), step);
}

int main(void)
{
    struct http_cfg cfg = {0, 0, "Hello World!", 12, -1};
    struct http_cfg any = {0, 0, NULL, 0, -1};
    const char *cl = "HTTP/1.1 200 OK\r\nContent-Length: 12\r\nContent-Type: text/plain\r\n\r\n"
                     "Hello World!";
    struct got g = feed_s(&cfg, cl, 0);
    CHECK_INT(g.err, ==, 0);
    CHECK_INT(g.n, ==, 1);
    CHECK_INT(g.status[0], ==, 200);
    CHECK_INT(g.ok[0], ==, 1);
    CHECK_INT(g.close[0], ==, 0);

    /* body mismatch, shorter, longer */
    g = feed_s(&cfg, "HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\nHello World?", 0);
    CHECK_INT(g.n, ==, 1);
    CHECK_INT(g.ok[0], ==, 0);
    g = feed_s(&cfg, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nHello", 0);
    CHECK_INT(g.ok[0], ==, 0);
    g = feed_s(&cfg, "HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\nHello World!!", 0);
    CHECK_INT(g.ok[0], ==, 0);
    /* expected length only */
    struct http_cfg len12 = {0, 0, NULL, 0, 12};
    g = feed_s(&len12, "HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\nabcdefghijkl", 0);
    CHECK_INT(g.ok[0], ==, 1);
    g = feed_s(&len12, "HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\nabcdefghijk", 0);
    CHECK_INT(g.ok[0], ==, 0);

    /* non-2xx is parsed through, not ok */
    g = feed_s(&any, "HTTP/1.1 503 Busy\r\nContent-Length: 3\r\n\r\nerr", 0);
    CHECK_INT(g.n, ==, 1);
    CHECK_INT(g.status[0], ==, 503);
    CHECK_INT(g.ok[0], ==, 0);

    /* chunked with extensions and a trailer */
    const char *ch = "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, Chunked\r\n\r\n"
                     "5;ext=1;q=\"x\"\r\nHello\r\n7 \r\n World!\r\n0;end\r\nX-Trailer: yes\r\n"
                     "X-Other: 2\r\n\r\n";
    g = feed_s(&cfg, ch, 0);
    CHECK_INT(g.err, ==, 0);
    CHECK_INT(g.n, ==, 1);
    CHECK_INT(g.ok[0], ==, 1);
    g = feed_s(
        &cfg, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nc\r\nHello World!\r\n0\r\n\r\n",
        0);
    CHECK_INT(g.n, ==, 1);
    CHECK_INT(g.ok[0], ==, 1);

    /* split at EVERY byte offset, and byte by byte */
    const char *all[] = {cl, ch};
    for (int k = 0; k < 2; k++) {
        size_t n = strlen(all[k]);
        int bad = 0;
        for (size_t cut = 1; cut < n; cut++) {
            struct http_resp r;
            http_resp_init(&r, &cfg);
            size_t used = 0;
            int rc1 = http_resp_parse(&r, all[k], cut, &used);
            if (rc1 != HTTP_MORE || used != cut) {
                bad++;
                continue;
            }
            int rc2 = http_resp_parse(&r, all[k] + cut, n - cut, &used);
            if (rc2 != HTTP_DONE || used != n - cut || !http_resp_ok(&r))
                bad++;
        }
        CHECK_INT(bad, ==, 0);
        g = feed(&cfg, all[k], n, 1);
        CHECK_INT(g.n, ==, 1);
        CHECK_INT(g.ok[0], ==, 1);
    }

    /* two and three pipelined responses in one buffer, also byte by byte */
    char three[1024];
    snprintf(three, sizeof(three), "%s%s%s", cl, ch, cl);
    for (size_t step = 0; step <= 7; step += 7) {
        g = feed_s(&cfg, three, step);
        CHECK_INT(g.err, ==, 0);
        CHECK_INT(g.n, ==, 3);
        CHECK_INT(g.ok[0] + g.ok[1] + g.ok[2], ==, 3);
    }
    snprintf(three, sizeof(three), "%sHTTP/1.1 404 NF\r\nContent-Length: 0\r\n\r\n", cl);
    g = feed_s(&cfg, three, 0);
    CHECK_INT(g.n, ==, 2);
    CHECK_INT(g.status[1], ==, 404);

    /* 100 Continue is skipped */
    snprintf(three, sizeof(three), "HTTP/1.1 100 Continue\r\n\r\n%s", cl);
    g = feed_s(&cfg, three, 0);
    CHECK_INT(g.n, ==, 1);
    CHECK_INT(g.status[0], ==, 200);
    CHECK_INT(g.ok[0], ==, 1);
    g = feed_s(&cfg, three, 1);
    CHECK_INT(g.n, ==, 1);

    /* Connection: close, HTTP/1.0 without keep-alive */
    g = feed_s(&cfg,
               "HTTP/1.1 200 OK\r\nConnection: Keep-Alive, close\r\nContent-Length: "
               "12\r\n\r\nHello World!",
               0);
    CHECK_INT(g.close[0], ==, 1);
    g = feed_s(&cfg, "HTTP/1.0 200 OK\r\nContent-Length: 12\r\n\r\nHello World!", 0);
    CHECK_INT(g.close[0], ==, 1);
    g = feed_s(
        &cfg, "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 12\r\n\r\nHello World!",
        0);
    CHECK_INT(g.close[0], ==, 0);
    /* 204 has no body */
    g = feed_s(&any, "HTTP/1.1 204 No Content\r\n\r\n", 0);
    CHECK_INT(g.n, ==, 1);
    /* neither has 304, whatever its Content-Length says: the next response
     * starts right after its headers */
    g = feed_s(&any,
               "HTTP/1.1 304 Not Modified\r\nContent-Length: 12\r\n\r\n"
               "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
               0);
    CHECK_INT(g.err, ==, 0);
    CHECK_INT(g.n, ==, 2);
    CHECK_INT(g.status[0], ==, 304);
    CHECK_INT(g.status[1], ==, 200);

    /* body delimited by close */
    {
        struct http_resp r;
        http_resp_init(&r, &cfg);
        const char *s = "HTTP/1.1 200 OK\r\n\r\nHello World!";
        size_t used;
        CHECK_INT(http_resp_parse(&r, s, strlen(s), &used), ==, HTTP_MORE);
        CHECK_INT(http_resp_eof(&r), ==, HTTP_DONE);
        CHECK_INT(http_resp_ok(&r), ==, 1);
        http_resp_reset(&r);
        CHECK_INT(http_resp_eof(&r), ==, HTTP_MORE); /* nothing started: clean close */
        CHECK_INT(http_resp_parse(&r, cl, 20, &used), ==, HTTP_MORE);
        CHECK_INT(http_resp_eof(&r), ==, HTTP_EPROTO); /* cut short */
    }

    /* header cap and body cap */
    struct http_cfg small = {64, 16, NULL, 0, -1};
    g = feed_s(
        &small,
        "HTTP/1.1 200 OK\r\nX-Long: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n", 0);
    CHECK_INT(g.err, ==, 1);
    g = feed_s(&small, "HTTP/1.1 200 OK\r\nContent-Length: 17\r\n\r\n", 0);
    CHECK_INT(g.err, ==, 1);
    g = feed_s(&small, "HTTP/1.1 200 OK\r\nContent-Length: 16\r\n\r\n0123456789abcdef", 0);
    CHECK_INT(g.err, ==, 0);
    CHECK_INT(g.n, ==, 1);
    g = feed_s(&small,
               "HTTP/1.1 200 OK\r\nTransfer-Encoding: "
               "chunked\r\n\r\n10\r\n0123456789abcdef\r\n1\r\nx\r\n0\r\n\r\n",
               0);
    CHECK_INT(g.err, ==, 1);
    g = feed_s(&small,
               "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffffff\r\n", 0);
    CHECK_INT(g.err, ==, 1);
    /* default caps: 8 KiB of headers */
    {
        static char big[10000];
        int n = snprintf(big, sizeof(big), "HTTP/1.1 200 OK\r\nX-Big: ");
        memset(big + n, 'a', 8300);
        memcpy(big + n + 8300, "\r\n\r\n", 5);
        g = feed_s(&any, big, 0);
        CHECK_INT(g.err, ==, 1);
    }

    /* malformed */
    const char *bad[] = {
        "HTTP/2 200 OK\r\n\r\n",
        "HTTP/1.1 20 OK\r\n\r\n",
        "HTTP/1.1 2000 OK\r\n\r\n",
        "ICY 200 OK\r\n\r\n",
        "HTTP/1.1 abc OK\r\n\r\n",
        "HTTP/1.1 200 OK\r\nNoColon\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 12x\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nx",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabX\r\n",
        "HTTP/1.1 101 Switching\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        g = feed_s(&any, bad[i], 0);
        if (!g.err)
            fprintf(stderr, "accepted: %s\n", bad[i]);
        CHECK_INT(g.err, ==, 1);
    }

    /* A header block whole in one buffer takes the line-by-line fast path; fed
     * byte by byte it takes the byte-wise machine. Both must agree on every
     * input, good or bad: statuses, verdicts, closes, errors. */
    {
        static char longval[200], longname[200], capped[200];
        snprintf(longval, sizeof(longval),
                 "HTTP/1.1 200 OK\r\nConnection: %0*d\r\nContent-Length: 12\r\n\r\nHello World!",
                 70, 0);
        snprintf(longname, sizeof(longname),
                 "HTTP/1.1 200 OK\r\nContent-Length-And-Then-Some: 5\r\nContent-Length: "
                 "12\r\n\r\nHello World!");
        snprintf(capped, sizeof(capped),
                 "HTTP/1.1 200 OK\r\nX-Pad: %0*d\r\nContent-Length: 12\r\n\r\nHello World!", 20, 0);
        const char *inputs[] = {
            cl,
            ch,
            "HTTP/1.1 200 OK\nContent-Length: 12\n\nHello World!",
            "HTTP/1.1 200 OK\r\ncontent-length:12\r\n\r\nHello World!",
            "HTTP/1.1 200 OK\r\nCONTENT-LENGTH: \t 12 \r\n\r\nHello World!",
            "HTTP/1.1 200 OK\r\nX-Fold: a\r\n  Content-Length: 99\r\nContent-Length: "
            "12\r\n\r\nHello World!",
            "HTTP/1.1 200 OK\r\n: novalue\r\n\r\n",
            "HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\rX\r\nHello World!",
            "HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\n",
            "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 12\r\n\r\nHello World!",
            "HTTP/1.0 200 OK\r\nContent-Length: 12\r\n\r\nHello World!",
            "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\nHello "
            "World!",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n"
            "c\r\nHello World!\r\n0\r\n\r\n",
            "HTTP/1.1 200 A very long reason phrase that goes on and on past sixty-four bytes\r\n"
            "Content-Length: 12\r\n\r\nHello World!",
            "\r\nHTTP/1.1 200 OK\r\n\r\n",
            longval,
            longname,
            three,
        };
        int differ = 0;
        for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
            struct got whole = feed_s(&cfg, inputs[i], 0), bytes = feed_s(&cfg, inputs[i], 1);
            if (memcmp(&whole, &bytes, sizeof(whole)) != 0) {
                fprintf(stderr, "fast and byte-wise paths differ on input %zu\n", i);
                differ++;
            }
        }
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
            struct got whole = feed_s(&any, bad[i], 0), bytes = feed_s(&any, bad[i], 1);
            if (memcmp(&whole, &bytes, sizeof(whole)) != 0) {
                fprintf(stderr, "fast and byte-wise paths differ on bad input %zu\n", i);
                differ++;
            }
        }
        /* the header cap: 64 bytes of block, met in one buffer and byte by byte */
        struct got whole = feed_s(&small, capped, 0), bytes = feed_s(&small, capped, 1);
        CHECK_INT(whole.err, ==, 1);
        CHECK_INT(memcmp(&whole, &bytes, sizeof(whole)), ==, 0);
        CHECK_INT(differ, ==, 0);
    }
    /* A captured response (the engine's sampled answers): the body whole, chunked or not,
     * and the Content-Type, a long one cut (not an error, as it is not while uncaptured),
     * alike in one buffer and byte by byte; the next response is not captured. */
    {
        const char *in[] = {
            "HTTP/1.1 200 OK\r\nContent-Length: 12\r\nContent-Type: application/json\r\n\r\n"
            "Hello World!",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\ncontent-type:  application/json \r\n"
            "\r\n5\r\nHello\r\n7\r\n World!\r\n0\r\n\r\n",
            "HTTP/1.1 200 OK\r\nContent-Type: application/json; x=\"0123456789012345678901234567"
            "89012345678901234567890123456789012345678901234567890123456789\"\r\n"
            "Content-Length: 12\r\n\r\nHello World!",
        };
        for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++)
            for (size_t step = 0; step <= 1; step++) {
                char data[8];
                struct http_capture cp = {data, sizeof(data), 0, 0, ""};
                struct http_resp r;
                http_resp_init(&r, &any);
                r.cap = &cp;
                size_t len = strlen(in[i]), off = 0;
                int rc = HTTP_MORE;
                while (off < len && rc == HTTP_MORE) {
                    size_t used = 0;
                    rc = http_resp_parse(&r, in[i] + off, step ? 1 : len - off, &used);
                    off += used;
                }
                CHECK_INT(rc, ==, HTTP_DONE);
                CHECK_INT(cp.len, ==, 8); /* the first 8 bytes of 12 */
                CHECK_INT(cp.truncated, ==, 1);
                CHECK_INT(memcmp(data, "Hello Wo", 8), ==, 0);
                CHECK_INT(strncmp(cp.ctype, "application/json", 16), ==, 0);
                CHECK_INT(strlen(cp.ctype), ==, i == 2 ? 64 : 16); /* the first 64 bytes */
                http_resp_reset(&r);
                CHECK(r.cap == NULL);
            }
    }
    T_DONE();
}
