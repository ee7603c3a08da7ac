/* exchange.c - HTTP on a user's connection: the pre-built requests go out with
 * send(2), the answers come in with recv(2) into the worker's one buffer, are
 * parsed (http.c) and scored; requests crossed by an idle close are resent once. */
#include "engine_int.h"

#include <errno.h>

static void user_dropped(struct user *u, uint64_t now);

/* Sends bytes [woff, wend) of the shared request buffer. Returns the bytes
 * sent (0 when the socket buffer is full) or -1 after failing the user. */
static ssize_t user_send_bytes(struct user *u, size_t woff, size_t wend)
{
    ssize_t n;
    do
        n = send(u->fd, u->w->sh->req + woff, wend - woff, MSG_DONTWAIT | MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    if (n >= 0)
        return n;
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)
        return 0;
    user_dropped(u, uv_hrtime());
    return -1;
}

/* Writes the queued requests. A request is far smaller than the socket buffer,
 * so it almost always leaves at once; what does not fit waits for POLLOUT. */
static void user_flush(struct user *u)
{
    size_t len = u->w->sh->req_len * u->wq;
    u->wq = 0;
    ssize_t n = user_send_bytes(u, 0, len);
    if (n < 0 || (size_t)n == len)
        return;
    u->write_busy = 1;
    u->woff = (uint32_t)n;
    u->wend = (uint32_t)len;
    uv_poll_start(&u->poll, UV_READABLE | UV_WRITABLE, run__on_poll);
}

/* POLLOUT while write_busy: the rest of the batch, then the requests queued
 * behind it. */
static void user_writable(struct user *u)
{
    ssize_t n = user_send_bytes(u, u->woff, u->wend);
    if (n < 0)
        return;
    u->woff += (uint32_t)n;
    if (u->woff < u->wend)
        return;
    u->write_busy = 0;
    uv_poll_start(&u->poll, UV_READABLE, run__on_poll);
    if (u->wq)
        user_flush(u);
}

/* Puts n requests on the wire; latency counts from lat_start. resend: they
 * were sent before (user_dropped), so they are not counted in `sent` again. */
void run__user_send(struct user *u, int n, uint64_t lat_start, uint64_t now, int resend)
{
    struct worker *w = u->w;
    int p = w->sh->pipeline;
    u->sent_idle = (uint8_t)(u->kept && u->inflight == 0);
    for (int i = 0; i < n; i++) {
        int slot = (u->head + u->inflight) % p;
        u->ts[2 * slot] = lat_start;
        u->ts[2 * slot + 1] = now;
        u->inflight++;
    }
    w->outstanding += (uint64_t)n;
    if (run__in_window(w, now) && !resend)
        w->sent += (uint64_t)n;
    u->wq = (uint16_t)(u->wq + n);
    /* The timeout timer is lazy: one armed for an earlier request fires early,
     * and on_user_timer (timers.c) re-arms it for the request in flight then.
     * This keeps timer heap operations off the per-request path. */
    if (u->timer_kind != TK_TIMEOUT)
        run__timer_arm(u, TK_TIMEOUT, u->ts[2 * u->head + 1] + w->sh->timeout_ns, now, 1);
    if (!u->write_busy)
        user_flush(u);
}

/* A complete response, as one byte: what scoring it needs once the parser has
 * moved on to the next one. */
enum { RESP_OK = 1, RESP_STATUS = 2, RESP_CLOSE = 4 };

static uint8_t resp_outcome(struct user *u)
{
    struct http_resp *r = &u->parser;
    uint8_t o = (uint8_t)((http_resp_ok(r) ? RESP_OK : 0) |
                          ((r->status < 200 || r->status >= 300) ? RESP_STATUS : 0) |
                          (r->conn_close ? RESP_CLOSE : 0));
    if (r->cap)
        run__sample_done(u, !(o & RESP_STATUS), o & RESP_OK);
    else if (u->w->smp_due)
        u->w->smp_due--; /* UINT64_MAX (no sampling) never gets to 0 */
    http_resp_reset(r);
    return o;
}

/* The answer to the oldest request in flight (outcome from resp_outcome).
 * Returns 0 to keep going, -1 when the connection was closed. */
static int user_response(struct user *u, uint8_t outcome, uint64_t now)
{
    struct worker *w = u->w;
    struct shared *sh = w->sh;
    int ok = outcome & RESP_OK;
    enum fail_kind k = (outcome & RESP_STATUS) ? FAIL_STATUS : FAIL_BODY;
    uint64_t lat_start = u->ts[2 * u->head];
    run__count_response(w, ok, k, now > lat_start ? now - lat_start : 0, now);
    if (ok && w->draining)
        w->ok_drain++;
    u->head = (uint16_t)((u->head + 1) % sh->pipeline);
    u->inflight--;
    w->outstanding--;
    u->kept = 1;
    u->sent_idle = 0;
    int close = (outcome & RESP_CLOSE) != 0;
    u->fails_row = 0;
    if (close) {
        if (u->inflight) {
            run__user_fail(u, FAIL_RESET, now); /* the rest will never be answered */
            return -1;
        }
        run__timer_disarm(u);
        run__user_recycle(u, now);
    }
    /* Otherwise the timeout timer stays armed (lazy, see run__user_send): it is at or
     * before the next request's deadline, and finds nothing to do if idle. */
    if (sh->rate_mode) {
        if (u->state == U_READY && u->inflight < sh->pipeline)
            run__freeq_push(w, u, run__user_id(w, u));
        run__rate_pump(w, now);
    } else if (u->inflight == 0) {
        run__user_next(u, now);
    }
    if (w->draining)
        run__drain_check(w);
    return close ? -1 : 0;
}

/* The server closed or reset the connection with requests in flight, before
 * their answers. When they went out at once on a kept-alive connection that
 * had nothing in flight and no byte of their answer came, it is the server's
 * idle close crossing them on the wire: HTTP clients resend such a GET once
 * on a fresh connection (RFC 9112 section 9.3.1, as urllib3 does), and so does
 * the engine, latency still from the first send (counted in retries). A fresh
 * connection dropped before its first answer is a failed connect as well
 * (connect_failures): the server accepted it and would not serve it. */
static void user_dropped(struct user *u, uint64_t now)
{
    struct worker *w = u->w;
    if (u->sent_idle && !u->parser.started && u->inflight) {
        w->retries += u->inflight;
        uint64_t start = u->ts[2 * u->head];
        run__want_set(u, 1, now);
        u->want_ns = start;
        u->retrying = 1;
        run__user_close(u, 0); /* run__on_sock_close reconnects, run__user_connected resends */
        return;
    }
    if (!u->kept)
        w->conn_fails++;
    run__user_fail(u, FAIL_RESET, now);
}

/* nread bytes in buf, or UV_EOF, or a negative errno: the response stream. */
static void user_input(struct user *u, ssize_t nread, const char *buf)
{
    struct worker *w = u->w;
    uint64_t now = uv_hrtime();
    if (nread > 0) {
        if (run__in_window(w, now))
            w->bytes += (uint64_t)nread;
        size_t off = 0, n = (size_t)nread;
        /* Only requests sent before these bytes were read can be answered by
         * them: one sent while scoring them (the closed loop's next request)
         * cannot. Bytes while nothing is outstanding (before the first
         * request, or between answers) were asked by nobody. A read holding
         * more than the answers to the requests outstanding is from a server
         * that writes responses nobody asked for: none of them is an answer
         * (taking the first as one scored a server that answers no request
         * at all, issue 21), so the read is parsed whole before any is scored
         * and the outstanding requests fail with protocol. */
        uint32_t answerable = u->inflight, ndone = 0;
        int bad = 0, surplus = 0;
        if (answerable == 0) {
            run__user_fail(u, FAIL_PROTOCOL, now);
            return;
        }
        while (off < n) {
            if (ndone == answerable) {
                surplus = 1;
                break;
            }
            size_t used = 0;
            if (w->smp_due == 0 && !u->parser.started)
                run__sample_arm(u, now); /* this answer is kept for the rule */
            int rc = http_resp_parse(&u->parser, buf + off, n - off, &used);
            off += used;
            if (rc == HTTP_EPROTO) {
                bad = 1;
                break;
            }
            if (rc == HTTP_DONE) {
                uint8_t oc = resp_outcome(u);
                w->done[ndone++] = oc;
                if (oc & RESP_CLOSE)
                    break; /* the server closes: what follows is not read */
            }
        }
        if (surplus) {
            run__user_fail(u, FAIL_PROTOCOL, now);
            return;
        }
        for (uint32_t i = 0; i < ndone; i++)
            if (u->state != U_READY || u->inflight == 0 || user_response(u, w->done[i], now) < 0)
                return;
        if (bad && u->state == U_READY)
            run__user_fail(u, FAIL_PROTOCOL, now); /* after the answers before it */
        return;
    }
    if (nread == 0)
        return;
    if (nread == UV_EOF) {
        int rc = http_resp_eof(&u->parser);
        if (rc == HTTP_DONE && u->inflight) {
            if (user_response(u, resp_outcome(u), now) < 0)
                return;
        } else if (rc == HTTP_EPROTO) {
            run__user_fail(u, FAIL_RESET, now);
            return;
        }
        if (u->state != U_READY)
            return;
    }
    if (u->inflight) {
        user_dropped(u, now); /* reset, or EOF before the answer */
    } else {
        /* Idle: the server closed a kept-alive connection (its keep-alive
         * timeout, shorter than the think time). A thinking user's timer
         * stays: its next request reconnects (run__user_go). Stopping it left the
         * user with neither a connection nor a timer, silent for the rest of
         * the run. */
        if (u->timer_kind != TK_THINK)
            run__timer_disarm(u);
        run__user_recycle(u, now);
    }
}

/* Reads until the socket is drained (a short read), at most 32 buffers per
 * wake-up so one busy connection cannot starve the others. */
static void user_readable(struct user *u)
{
    struct worker *w = u->w;
    for (int i = 0; i < 32 && u->state == U_READY && !w->stopping; i++) {
        ssize_t n = recv(u->fd, w->rbuf, READ_BUF_SIZE, 0);
        if (n > 0) {
            user_input(u, n, w->rbuf);
            if (n < READ_BUF_SIZE)
                return;
        } else if (n == 0) {
            user_input(u, UV_EOF, NULL);
            return;
        } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
            return;
        } else if (errno != EINTR) {
            user_input(u, -errno, NULL);
            return;
        }
    }
}

void run__on_poll(uv_poll_t *p, int status, int events)
{
    struct user *u = p->data;
    if (u->w->stopping)
        return;
    if (u->state == U_CONNECTING) {
        run__user_connected(u); /* SO_ERROR tells success from the error */
        return;
    }
    if (u->state != U_READY)
        return;
    if (status < 0) {
        /* POLLERR: libuv stopped the handle. recv reports the socket's error
         * (ECONNRESET and the like), after any bytes still queued. */
        user_readable(u);
        if (u->state == U_READY)
            user_input(u, UV_ECONNRESET, NULL);
        return;
    }
    if ((events & UV_WRITABLE) && u->write_busy) {
        user_writable(u);
        if (u->state != U_READY)
            return;
    }
    if (events & (UV_READABLE | UV_DISCONNECT))
        user_readable(u);
}
