/* http.h - a small incremental HTTP/1.1 response parser for the load engine.
 * It never buffers a body: bodies are checked on the fly against an expected
 * body or length. State per connection is ~150 bytes; input may be split at any
 * byte and one buffer may hold several (pipelined) responses. */
#ifndef MFBENCH_HTTP_H
#define MFBENCH_HTTP_H

#include <stddef.h>
#include <stdint.h>

/* Shared, read-only configuration of every parser of a phase. */
struct http_cfg {
    size_t max_header_bytes; /* status line + headers (+ chunk trailers); 0 = 8 KiB */
    size_t max_body_bytes;   /* 0 = 16 MiB */
    const char *expect_body; /* exact body, or NULL */
    size_t expect_body_len;
    int64_t expect_length; /* exact body length, or -1 */
};

enum { HTTP_MORE = 0, HTTP_DONE = 1, HTTP_EPROTO = -1 };

/* Where one response's body and Content-Type are copied while a parser holds it
 * (http_resp.cap): the engine's sampled answers. data is cap bytes owned by the
 * caller; past them the body is only counted (truncated). */
struct http_capture {
    char *data;
    size_t cap, len;
    uint8_t truncated;
    char ctype[72]; /* its first 64 bytes */
};

struct http_resp {
    const struct http_cfg *cfg;
    uint8_t state;
    uint8_t started; /* a byte of this response was seen */
    uint8_t chunked, has_length, conn_close, keep_alive, http10, body_bad;
    uint8_t name_len, line_len;
    uint16_t status;
    uint16_t chunk_line; /* bytes of the current chunk-size line */
    uint32_t header_bytes;
    uint64_t content_length;
    uint64_t remaining; /* of the body or of the current chunk */
    uint64_t body_len;
    char name[20]; /* current header name, lower-cased; longer names are not ours */
    char line[64]; /* status line prefix or an interesting header's value */
    /* NULL, or where this response's body and Content-Type go; cleared by
     * http_resp_reset (one response only). */
    struct http_capture *cap;
};

void http_resp_init(struct http_resp *r, const struct http_cfg *cfg);
/* Prepares for the next response on the same connection. */
void http_resp_reset(struct http_resp *r);
/* Consumes bytes of p (at most n; *used tells how many). Returns HTTP_DONE when a
 * final (non-1xx) response ended at p + *used, HTTP_MORE when all n bytes were
 * consumed without ending one, HTTP_EPROTO on malformed input or a cap passed.
 * After HTTP_DONE read status, body_bad and conn_close, then http_resp_reset. */
int http_resp_parse(struct http_resp *r, const char *p, size_t n, size_t *used);
/* The peer closed. HTTP_DONE if that ended a body delimited by close, HTTP_MORE
 * if no byte of a response was seen, HTTP_EPROTO if a response was cut short. */
int http_resp_eof(struct http_resp *r);
/* Status 2xx, body as expected. */
int http_resp_ok(const struct http_resp *r);

#endif
