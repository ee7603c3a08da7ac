/* http.c - incremental HTTP/1.1 response parser (see http.h). A byte-wise state
 * machine for the status line, headers, chunk sizes and trailers; bodies are
 * consumed in bulk and compared on the fly, never buffered. */
#include "http.h"

#include <string.h>

enum {
    ST_STATUS,
    ST_HLINE, /* start of a header line */
    ST_HNAME,
    ST_HVAL_WS,
    ST_HVAL,
    ST_HSKIP,   /* rest of a line we ignore */
    ST_HEND_LF, /* CR of the empty line seen */
    ST_CSIZE,
    ST_CEXT,
    ST_CSIZE_LF,
    ST_CDATA,
    ST_CDATA_CR,
    ST_CDATA_LF,
    ST_TLINE,
    ST_TSKIP,
    ST_TEND_LF,
    ST_BODY,     /* Content-Length */
    ST_BODY_EOF, /* delimited by close */
};

enum { H_OTHER, H_LENGTH, H_TE, H_CONNECTION, H_CTYPE };

#define DEF_MAX_HEADER (8u * 1024)
#define DEF_MAX_BODY (16u * 1024 * 1024)
#define MAX_CHUNK_LINE 4096

void http_resp_init(struct http_resp *r, const struct http_cfg *cfg)
{
    memset(r, 0, sizeof(*r));
    r->cfg = cfg;
    r->state = ST_STATUS;
}

void http_resp_reset(struct http_resp *r)
{
    http_resp_init(r, r->cfg);
}

int http_resp_ok(const struct http_resp *r)
{
    return r->status >= 200 && r->status < 300 && !r->body_bad;
}

static size_t max_header(const struct http_resp *r)
{
    return r->cfg->max_header_bytes ? r->cfg->max_header_bytes : DEF_MAX_HEADER;
}

static uint64_t max_body(const struct http_resp *r)
{
    return r->cfg->max_body_bytes ? r->cfg->max_body_bytes : DEF_MAX_BODY;
}

static int lower(int c)
{
    return (c >= 'A' && c <= 'Z') ? c + 32 : c;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = lower(c);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* name: n bytes, any case; lc: a lower-case name of the same length. */
static int name_is(const char *name, size_t n, const char *lc)
{
    for (size_t i = 0; i < n; i++)
        if (lower((unsigned char)name[i]) != lc[i])
            return 0;
    return 1;
}

/* Which of the headers we read a name is (any case). Content-Type only while
 * the response is captured (ctype): otherwise it costs nothing. */
static int kind_of(const char *name, size_t n, int ctype)
{
    switch (n) {
    case 12:
        return ctype && name_is(name, n, "content-type") ? H_CTYPE : H_OTHER;
    case 10:
        return name_is(name, n, "connection") ? H_CONNECTION : H_OTHER;
    case 14:
        return name_is(name, n, "content-length") ? H_LENGTH : H_OTHER;
    case 17:
        return name_is(name, n, "transfer-encoding") ? H_TE : H_OTHER;
    default:
        return H_OTHER;
    }
}

static int header_kind(const struct http_resp *r)
{
    return r->name_len <= sizeof(r->name) ? kind_of(r->name, r->name_len, r->cap != NULL) : H_OTHER;
}

static int token_eq(const char *s, size_t n, const char *tok)
{
    size_t m = strlen(tok);
    if (n != m)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (lower((unsigned char)s[i]) != tok[i])
            return 0;
    return 1;
}

/* A captured response's Content-Type (v: n bytes; its first 64 kept). */
static void ctype_set(struct http_resp *r, const char *v, size_t n)
{
    while (n && (v[n - 1] == ' ' || v[n - 1] == '\t' || v[n - 1] == '\r'))
        n--;
    if (n > sizeof(r->line)) /* as the byte-wise path keeps it */
        n = sizeof(r->line);
    memcpy(r->cap->ctype, v, n);
    r->cap->ctype[n] = '\0';
}

/* Calls fn on each comma-separated, trimmed token of the value in r->line. */
static void header_value(struct http_resp *r, int kind, int *err)
{
    const char *v = r->line;
    size_t n = r->line_len;
    if (kind == H_CTYPE) {
        ctype_set(r, v, n);
        return;
    }
    while (n && (v[n - 1] == ' ' || v[n - 1] == '\t' || v[n - 1] == '\r'))
        n--;
    if (kind == H_LENGTH) {
        uint64_t cl = 0;
        if (n == 0 || n > 19) {
            *err = 1;
            return;
        }
        for (size_t i = 0; i < n; i++) {
            if (v[i] < '0' || v[i] > '9') {
                *err = 1;
                return;
            }
            cl = cl * 10 + (uint64_t)(v[i] - '0');
        }
        if (r->has_length && cl != r->content_length) {
            *err = 1;
            return;
        }
        r->has_length = 1;
        r->content_length = cl;
        return;
    }
    int last_chunked = 0;
    size_t i = 0;
    while (i < n) {
        size_t s = i;
        while (i < n && v[i] != ',')
            i++;
        size_t e = i;
        while (s < e && (v[s] == ' ' || v[s] == '\t'))
            s++;
        while (e > s && (v[e - 1] == ' ' || v[e - 1] == '\t'))
            e--;
        if (kind == H_TE) {
            last_chunked = token_eq(v + s, e - s, "chunked");
        } else if (kind == H_CONNECTION) {
            if (token_eq(v + s, e - s, "close"))
                r->conn_close = 1;
            else if (token_eq(v + s, e - s, "keep-alive"))
                r->keep_alive = 1;
        }
        i++;
    }
    if (kind == H_TE)
        r->chunked = (uint8_t)last_chunked;
}

/* "HTTP/1.x DDD[ reason]" */
static int parse_status(struct http_resp *r)
{
    const char *s = r->line;
    size_t n = r->line_len;
    while (n && s[n - 1] == '\r')
        n--;
    if (n < 12 || memcmp(s, "HTTP/1.", 7) != 0 || (s[7] != '0' && s[7] != '1') || s[8] != ' ')
        return -1;
    int st = 0;
    for (int i = 9; i < 12; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        st = st * 10 + (s[i] - '0');
    }
    if (n > 12 && s[12] != ' ')
        return -1;
    if (st < 100 || st > 599)
        return -1;
    r->status = (uint16_t)st;
    r->http10 = s[7] == '0';
    return 0;
}

static void body_feed(struct http_resp *r, const char *p, size_t k)
{
    const struct http_cfg *c = r->cfg;
    if (c->expect_body && !r->body_bad) {
        if (r->body_len + k > c->expect_body_len || memcmp(c->expect_body + r->body_len, p, k) != 0)
            r->body_bad = 1;
    }
    if (r->cap) {
        struct http_capture *cp = r->cap;
        size_t room = cp->cap - cp->len, m = k < room ? k : room;
        memcpy(cp->data + cp->len, p, m);
        cp->len += m;
        cp->truncated |= (uint8_t)(m < k);
    }
    r->body_len += k;
}

static void body_end(struct http_resp *r)
{
    const struct http_cfg *c = r->cfg;
    if (c->expect_body && r->body_len != c->expect_body_len)
        r->body_bad = 1;
    if (c->expect_length >= 0 && r->body_len != (uint64_t)c->expect_length)
        r->body_bad = 1;
}

/* The empty line ended the headers: HTTP_DONE, HTTP_MORE (a body follows or a
 * 1xx was skipped) or HTTP_EPROTO. */
static int headers_end(struct http_resp *r)
{
    if (r->status < 200) {
        if (r->status == 101)
            return HTTP_EPROTO; /* we never ask to upgrade */
        const struct http_cfg *cfg = r->cfg;
        http_resp_init(r, cfg); /* interim response: the final one follows */
        r->started = 1;
        return HTTP_MORE;
    }
    if (r->http10 && !r->keep_alive)
        r->conn_close = 1;
    if (r->status == 204 || r->status == 304) {
        body_end(r);
        return HTTP_DONE;
    }
    if (r->chunked) {
        r->state = ST_CSIZE;
        r->remaining = 0;
        r->line_len = 0; /* digits seen */
        return HTTP_MORE;
    }
    if (r->has_length) {
        if (r->content_length > max_body(r))
            return HTTP_EPROTO;
        if (r->content_length == 0) {
            body_end(r);
            return HTTP_DONE;
        }
        r->remaining = r->content_length;
        r->state = ST_BODY;
        return HTTP_MORE;
    }
    r->conn_close = 1;
    r->state = ST_BODY_EOF;
    return HTTP_MORE;
}

enum { FAST_NA = 2 };

/* The common case, a response whose status line and headers are all in the
 * buffer: line by line with memchr, the same rules as the byte-wise machine
 * below (test_http compares the two on every input). Returns FAST_NA, with r
 * untouched, when the block does not end within p[0, min(n, cap)); the
 * byte-wise path then takes it, split or over the cap. Otherwise HTTP_DONE,
 * HTTP_MORE (a body follows; state set) or HTTP_EPROTO, with *used set. */
static int headers_fast(struct http_resp *r, const char *p, size_t n, size_t *used)
{
    size_t lim = max_header(r);
    if (lim > n)
        lim = n;
    const char *lf = memchr(p, '\n', lim);
    if (!lf)
        return FAST_NA;
    /* Find the end of the block before changing anything. */
    const char *q = lf + 1, *end = p + lim;
    for (;;) {
        const char *l = memchr(q, '\n', (size_t)(end - q));
        if (!l)
            return FAST_NA;
        if (l == q || (l == q + 1 && q[0] == '\r'))
            break;
        q = l + 1;
    }
    size_t sl = (size_t)(lf - p);
    size_t cp = sl < sizeof(r->line) ? sl : sizeof(r->line);
    memcpy(r->line, p, cp);
    r->line_len = (uint8_t)cp;
    *used = sl + 1;
    if (parse_status(r) < 0)
        return HTTP_EPROTO;
    q = lf + 1;
    for (;;) {
        const char *l = memchr(q, '\n', (size_t)(end - q)); /* found above */
        size_t len = (size_t)(l - q);
        *used = (size_t)(l + 1 - p);
        if (len == 0 || (len == 1 && q[0] == '\r'))
            break;
        if (q[0] == '\r')
            return HTTP_EPROTO; /* CR not followed by LF */
        if (q[0] == ':')
            return HTTP_EPROTO;
        if (q[0] != ' ' && q[0] != '\t') { /* a folded line is skipped */
            const char *colon = memchr(q, ':', len);
            if (!colon)
                return HTTP_EPROTO;
            int kind = kind_of(q, (size_t)(colon - q), r->cap != NULL);
            if (kind == H_CTYPE) {
                const char *v = colon + 1;
                while (v < l && (*v == ' ' || *v == '\t'))
                    v++;
                ctype_set(r, v, (size_t)(l - v));
            } else if (kind != H_OTHER) {
                const char *v = colon + 1;
                while (v < l && (*v == ' ' || *v == '\t'))
                    v++;
                size_t vl = (size_t)(l - v);
                if (vl > sizeof(r->line))
                    return HTTP_EPROTO; /* an absurdly long value of a header we rely on */
                memcpy(r->line, v, vl);
                r->line_len = (uint8_t)vl;
                int err = 0;
                header_value(r, kind, &err);
                if (err)
                    return HTTP_EPROTO;
            }
        }
        q = l + 1;
    }
    r->header_bytes = (uint32_t)*used;
    return headers_end(r);
}

int http_resp_parse(struct http_resp *r, const char *p, size_t n, size_t *used)
{
    size_t i = 0;
    int rc = HTTP_MORE;
    if (n)
        r->started = 1;
    while (i < n) {
        if (r->state == ST_STATUS && r->header_bytes == 0 && r->line_len == 0) {
            size_t u = 0;
            rc = headers_fast(r, p + i, n - i, &u);
            if (rc != FAST_NA) {
                i += u;
                if (rc != HTTP_MORE)
                    goto out;
                continue; /* a body, or the final response after a 1xx */
            }
            rc = HTTP_MORE;
        }
        /* Bulk states first. */
        if (r->state == ST_BODY || r->state == ST_CDATA) {
            size_t k = n - i;
            if (k > r->remaining)
                k = (size_t)r->remaining;
            body_feed(r, p + i, k);
            i += k;
            r->remaining -= k;
            if (r->remaining == 0) {
                if (r->state == ST_BODY) {
                    body_end(r);
                    rc = HTTP_DONE;
                    goto out;
                }
                r->state = ST_CDATA_CR;
            }
            continue;
        }
        if (r->state == ST_BODY_EOF) {
            body_feed(r, p + i, n - i);
            i = n;
            if (r->body_len > max_body(r)) {
                rc = HTTP_EPROTO;
                goto out;
            }
            continue;
        }
        /* Lines we skip, and the status line, end at the next LF: find it with
         * memchr rather than byte by byte (most header bytes are skipped). */
        if (r->state == ST_HSKIP || r->state == ST_TSKIP || r->state == ST_STATUS) {
            const char *lf = memchr(p + i, '\n', n - i);
            size_t k = lf ? (size_t)(lf - (p + i)) : n - i; /* bytes before the LF */
            size_t room = max_header(r) - r->header_bytes;  /* header_bytes <= max */
            if (k + (lf != NULL) > room) {
                i += room + 1; /* as the byte-wise loop: fail on the first byte past it */
                rc = HTTP_EPROTO;
                goto out;
            }
            r->header_bytes += (uint32_t)k;
            if (r->state == ST_STATUS) {
                size_t cp = sizeof(r->line) - r->line_len;
                if (cp > k)
                    cp = k;
                memcpy(r->line + r->line_len, p + i, cp);
                r->line_len = (uint8_t)(r->line_len + cp);
            }
            i += k;
            if (!lf)
                continue;
            /* the LF itself goes through the switch below */
        }
        /* A header name, or the value of a header we read: a tight loop up to
         * the delimiter, bounded by the header cap; the delimiter (or the byte
         * past the cap) goes through the switch below. */
        if (r->state == ST_HNAME || r->state == ST_HVAL) {
            size_t room = max_header(r) - r->header_bytes;
            size_t end = n - i < room ? n : i + room, j = i;
            if (r->state == ST_HNAME) {
                uint8_t nl = r->name_len;
                for (; j < end && p[j] != ':' && p[j] != '\n'; j++) {
                    if (nl < sizeof(r->name))
                        r->name[nl++] = (char)lower((unsigned char)p[j]);
                    else
                        nl = 0xff; /* too long to be one of ours */
                }
                r->name_len = nl;
            } else {
                int ct = r->cap && header_kind(r) == H_CTYPE; /* cut, not an error */
                for (; j < end && p[j] != '\n'; j++) {
                    if (r->line_len >= sizeof(r->line) && ct)
                        continue;
                    if (r->line_len >= sizeof(r->line)) {
                        *used = j + 1; /* an absurdly long value of a header we rely on */
                        return HTTP_EPROTO;
                    }
                    r->line[r->line_len++] = p[j];
                }
            }
            r->header_bytes += (uint32_t)(j - i);
            i = j;
            if (i == n)
                continue;
        }
        int c = (unsigned char)p[i++];
        if (r->state <= ST_HEND_LF || (r->state >= ST_TLINE && r->state <= ST_TEND_LF)) {
            if (++r->header_bytes > max_header(r)) {
                rc = HTTP_EPROTO;
                goto out;
            }
        } else if (r->state <= ST_CSIZE_LF && ++r->chunk_line > MAX_CHUNK_LINE) {
            rc = HTTP_EPROTO; /* endless zeros or extensions */
            goto out;
        }
        switch (r->state) {
        case ST_STATUS:
            if (c == '\n') {
                if (parse_status(r) < 0) {
                    rc = HTTP_EPROTO;
                    goto out;
                }
                r->state = ST_HLINE;
            } else if (r->line_len < sizeof(r->line)) {
                r->line[r->line_len++] = (char)c;
            }
            break;
        case ST_HLINE:
            if (c == '\r') {
                r->state = ST_HEND_LF;
            } else if (c == '\n') {
                goto headers_done;
            } else if (c == ' ' || c == '\t') {
                r->state = ST_HSKIP; /* obsolete line folding: not for our headers */
            } else if (c == ':') {
                rc = HTTP_EPROTO;
                goto out;
            } else {
                r->name[0] = (char)lower(c);
                r->name_len = 1;
                r->state = ST_HNAME;
            }
            break;
        case ST_HNAME:
            if (c == ':') {
                r->line_len = 0;
                r->state = header_kind(r) == H_OTHER ? ST_HSKIP : ST_HVAL_WS;
            } else if (c == '\n') {
                rc = HTTP_EPROTO;
                goto out;
            } else if (r->name_len < sizeof(r->name)) {
                r->name[r->name_len++] = (char)lower(c);
            } else {
                r->name_len = 0xff; /* too long to be one of ours */
            }
            break;
        case ST_HVAL_WS:
            if (c == ' ' || c == '\t')
                break;
            r->state = ST_HVAL;
            /* fall through */
        case ST_HVAL:
            if (c == '\n') {
                int err = 0;
                header_value(r, header_kind(r), &err);
                if (err) {
                    rc = HTTP_EPROTO;
                    goto out;
                }
                r->state = ST_HLINE;
            } else if (r->line_len < sizeof(r->line)) {
                r->line[r->line_len++] = (char)c;
            } else if (!(r->cap && header_kind(r) == H_CTYPE)) {
                rc = HTTP_EPROTO; /* an absurdly long value of a header we rely on */
                goto out;
            }
            break;
        case ST_HSKIP:
            if (c == '\n')
                r->state = ST_HLINE;
            break;
        case ST_HEND_LF:
            if (c != '\n') {
                rc = HTTP_EPROTO;
                goto out;
            }
        headers_done:
            rc = headers_end(r);
            if (rc != HTTP_MORE)
                goto out;
            break;
        case ST_CSIZE: {
            int h = hexval(c);
            if (h >= 0) {
                r->remaining = r->remaining * 16 + (uint64_t)h;
                r->line_len = 1;
                if (r->remaining > max_body(r)) {
                    rc = HTTP_EPROTO;
                    goto out;
                }
                break;
            }
            if (!r->line_len) {
                rc = HTTP_EPROTO;
                goto out;
            }
            if (c == ';' || c == ' ' || c == '\t') {
                r->state = ST_CEXT;
                break;
            }
            if (c == '\r') {
                r->state = ST_CSIZE_LF;
                break;
            }
            if (c != '\n') {
                rc = HTTP_EPROTO;
                goto out;
            }
            goto size_done;
        }
        case ST_CEXT:
            if (c == '\n')
                goto size_done;
            break;
        case ST_CSIZE_LF:
            if (c != '\n') {
                rc = HTTP_EPROTO;
                goto out;
            }
        size_done:
            r->line_len = 0;
            r->chunk_line = 0;
            if (r->remaining == 0) {
                r->state = ST_TLINE;
            } else if (r->body_len + r->remaining > max_body(r)) {
                rc = HTTP_EPROTO;
                goto out;
            } else {
                r->state = ST_CDATA;
            }
            break;
        case ST_CDATA_CR:
            if (c == '\r') {
                r->state = ST_CDATA_LF;
                break;
            }
            /* fall through */
        case ST_CDATA_LF:
            if (c != '\n') {
                rc = HTTP_EPROTO;
                goto out;
            }
            r->state = ST_CSIZE;
            r->remaining = 0;
            r->line_len = 0;
            break;
        case ST_TLINE:
            if (c == '\r') {
                r->state = ST_TEND_LF;
            } else if (c == '\n') {
                body_end(r);
                rc = HTTP_DONE;
                goto out;
            } else {
                r->state = ST_TSKIP;
            }
            break;
        case ST_TSKIP:
            if (c == '\n')
                r->state = ST_TLINE;
            break;
        case ST_TEND_LF:
            if (c != '\n') {
                rc = HTTP_EPROTO;
                goto out;
            }
            body_end(r);
            rc = HTTP_DONE;
            goto out;
        default:
            rc = HTTP_EPROTO;
            goto out;
        }
    }
out:
    *used = i;
    return rc;
}

int http_resp_eof(struct http_resp *r)
{
    if (r->state == ST_BODY_EOF) {
        body_end(r);
        return HTTP_DONE;
    }
    return r->started ? HTTP_EPROTO : HTTP_MORE;
}
