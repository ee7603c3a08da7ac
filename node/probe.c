/* probe.c - the readiness probe: GET the payload's URL with libcurl until the
 * answer verifies byte for byte (status, Content-Type, framing, body), so a
 * load phase never starts against a server that is still booting or wrong. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "node.h"

#define PROBE_BODY_MAX (1u << 20)
#define PROBE_INTERVAL_MS 100
#define PROBE_WRONG_LIMIT 3

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;

static void curl_init(void)
{
    curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

struct probe_resp {
    struct buf *body;
    int truncated;
    int chunked;
    int has_length;
};

static size_t on_body(char *p, size_t size, size_t nmemb, void *arg)
{
    struct probe_resp *r = arg;
    size_t n = size * nmemb;
    size_t room = r->body->len < PROBE_BODY_MAX ? PROBE_BODY_MAX - r->body->len : 0;
    size_t take = n < room ? n : room;
    if (take < n)
        r->truncated = 1;
    if (take && buf_append(r->body, p, take))
        r->truncated = 1;
    return n; /* excess is dropped, not an error */
}

static size_t on_header(char *p, size_t size, size_t nmemb, void *arg)
{
    struct probe_resp *r = arg;
    size_t n = size * nmemb;
    /* A new status line (redirect, 100-continue) starts the framing over. */
    if (n >= 5 && strncmp(p, "HTTP/", 5) == 0) {
        r->chunked = r->has_length = 0;
    } else if (n >= 15 && strncasecmp(p, "Content-Length:", 15) == 0) {
        r->has_length = 1;
    } else if (n >= 18 && strncasecmp(p, "Transfer-Encoding:", 18) == 0) {
        char v[128];
        size_t l = n - 18 < sizeof v - 1 ? n - 18 : sizeof v - 1;
        memcpy(v, p + 18, l);
        v[l] = '\0';
        for (char *c = v; *c; c++)
            if (strncasecmp(c, "chunked", 7) == 0)
                r->chunked = 1;
    }
    return n;
}

/* One GET. *ccode gets curl's result; ctype (may be NULL) the Content-Type. */
static int do_get(const char *url, int64_t timeout_ms, long *status, struct probe_resp *r,
                  char *ctype, size_t ctype_n, CURLcode *ccode, struct err *e)
{
    pthread_once(&curl_once, curl_init);
    if (curl_init_rc != CURLE_OK)
        return err_set(e, -EIO, "curl_global_init: %s", curl_easy_strerror(curl_init_rc));
    CURL *h = curl_easy_init();
    if (!h)
        return err_set(e, -ENOMEM, "curl_easy_init failed");
    char ebuf[CURL_ERROR_SIZE];
    ebuf[0] = '\0';
    *status = 0;
    if (ctype && ctype_n)
        ctype[0] = '\0';
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)(timeout_ms > 0 ? timeout_ms : 1000));
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)(timeout_ms > 0 ? timeout_ms : 1000));
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, ebuf);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(h, CURLOPT_PROXY, "");
    curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(h, CURLOPT_USERAGENT, "mfbench-probe/" MFBENCH_VERSION);
    CURLcode cc = curl_easy_perform(h);
    *ccode = cc;
    int rc = 0;
    if (cc != CURLE_OK) {
        int code = cc == CURLE_COULDNT_CONNECT        ? -ECONNREFUSED
                   : cc == CURLE_OPERATION_TIMEDOUT   ? -ETIMEDOUT
                   : cc == CURLE_COULDNT_RESOLVE_HOST ? -EHOSTUNREACH
                                                      : -EIO;
        rc = err_set(e, code, "GET %s: %s", url, ebuf[0] ? ebuf : curl_easy_strerror(cc));
    } else {
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
        char *ct = NULL;
        if (ctype && curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &ct) == CURLE_OK && ct)
            mf_strlcpy(ctype, ct, ctype_n);
    }
    curl_easy_cleanup(h);
    return rc;
}

int probe_get(const char *url, int64_t timeout_ms, long *status, struct buf *out, struct err *e)
{
    struct probe_resp r = {.body = out};
    CURLcode cc;
    return do_get(url, timeout_ms, status, &r, NULL, 0, &cc, e);
}

int probe_fetch(const char *url, int64_t timeout_ms, long *status, char *ctype, size_t ctype_n,
                struct buf *out, struct err *e)
{
    struct probe_resp r = {.body = out};
    CURLcode cc;
    int rc = do_get(url, timeout_ms, status, &r, ctype, ctype_n, &cc, e);
    if (!rc && r.truncated)
        rc = err_set(e, -EFBIG, "GET %s: body larger than %u bytes", url, PROBE_BODY_MAX);
    return rc;
}

/* Up to 24 bytes from off, printable, for messages. */
static void snippet(char *dst, size_t n, const char *p, size_t len, size_t off)
{
    size_t j = 0;
    for (size_t i = off; i < len && i < off + 24 && j + 5 < n; i++) {
        unsigned char ch = (unsigned char)p[i];
        if (ch == '"' || ch == '\\') {
            dst[j++] = '\\';
            dst[j++] = (char)ch;
        } else if (ch >= 0x20 && ch < 0x7f)
            dst[j++] = (char)ch;
        else
            j += (size_t)snprintf(dst + j, n - j, "\\x%02x", ch);
    }
    dst[j] = '\0';
}

/* 0 when the answer verifies, else fills why[] and returns -EPROTO. */
static int verify(const struct probe_expect *x, long status, const char *ctype,
                  const struct probe_resp *r, char *why, size_t wn)
{
    const struct buf *b = r->body;
    if (status != 200) {
        snprintf(why, wn, "status %ld, expected 200", status);
        return -EPROTO;
    }
    if (x->content_type && *x->content_type &&
        strncasecmp(ctype, x->content_type, strlen(x->content_type)) != 0) {
        snprintf(why, wn, "Content-Type is %s, expected %s", *ctype ? ctype : "(none)",
                 x->content_type);
        return -EPROTO;
    }
    if (!r->has_length && !r->chunked) {
        snprintf(why, wn, "response has neither Content-Length nor chunked framing");
        return -EPROTO;
    }
    if (r->truncated) {
        snprintf(why, wn, "body larger than %u bytes", PROBE_BODY_MAX);
        return -EPROTO;
    }
    if (x->check)
        return x->check(x->check_arg, b->data ? b->data : "", b->len, ctype, why, wn) ? -EPROTO : 0;
    if (x->body) {
        size_t i = 0;
        while (i < x->body_len && i < b->len && x->body[i] == b->data[i])
            i++;
        if (i < x->body_len || i < b->len) {
            char want[128], got[128];
            snippet(want, sizeof want, x->body, x->body_len, i);
            snippet(got, sizeof got, b->data ? b->data : "", b->len, i);
            snprintf(why, wn,
                     "body differs at byte %zu: expected \"%s\" got \"%s\" (%zu vs %zu bytes)", i,
                     want, got, x->body_len, b->len);
            return -EPROTO;
        }
    }
    if (x->length >= 0 && (int64_t)b->len != x->length) {
        snprintf(why, wn, "body is %zu bytes, expected %lld", b->len, (long long)x->length);
        return -EPROTO;
    }
    return 0;
}

int probe_wait(const char *url, const struct probe_expect *x, int64_t timeout_ms,
               const atomic_int *cancel, int (*alive_cb)(void *arg), void *alive_arg, struct err *e)
{
    int64_t start = mono_ms();
    int64_t deadline = start + (timeout_ms > 0 ? timeout_ms : 30000);
    char last[400] = "no attempt";
    int wrong = 0, rc = 0;
    struct buf body;
    buf_init(&body, PROBE_BODY_MAX + 1);
    for (;;) {
        if (cancel && atomic_load(cancel)) {
            rc = err_set(e, -ECANCELED, "probe of %s cancelled", url);
            break;
        }
        if (alive_cb && !alive_cb(alive_arg)) {
            rc = err_set(e, -ESRCH, "server exited before it was ready (probe of %s)", url);
            break;
        }
        int64_t now = mono_ms();
        if (now >= deadline) {
            rc = err_set(e, -ETIMEDOUT, "server not ready after %llds (last: %s)",
                         (long long)((timeout_ms + 999) / 1000), last);
            break;
        }
        int64_t left = deadline - now;
        buf_reset(&body);
        struct probe_resp r = {.body = &body};
        long status = 0;
        char ctype[256];
        CURLcode cc;
        struct err ge;
        err_clear(&ge);
        int grc =
            do_get(url, left < 5000 ? left : 5000, &status, &r, ctype, sizeof ctype, &cc, &ge);
        if (grc == 0) {
            char why[400];
            if (verify(x, status, ctype, &r, why, sizeof why) == 0)
                break; /* rc == 0 */
            mf_strlcpy(last, why, sizeof last);
            if (++wrong >= PROBE_WRONG_LIMIT) {
                rc = err_set(e, -EPROTO, "%s answered wrongly: %s", url, why);
                break;
            }
        } else {
            wrong = 0;
            if (grc == -ENOMEM) {
                rc = err_set(e, grc, "%s", ge.msg);
                break;
            }
            mf_strlcpy(last, grc == -ECONNREFUSED ? "connection refused" : ge.msg, sizeof last);
        }
        int64_t nap = deadline - mono_ms();
        if (nap > PROBE_INTERVAL_MS)
            nap = PROBE_INTERVAL_MS;
        if (nap > 0) {
            struct timespec ts = {0, (long)nap * 1000000L};
            nanosleep(&ts, NULL);
        }
    }
    buf_free(&body);
    return rc;
}
