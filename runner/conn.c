/* conn.c - a user's connection: the non-blocking connect (from the user's share
 * of the source addresses), failures and their backoff, the close and the
 * reconnect; and the closed loop's user: send, wait for the answers, think. */
#include "engine_int.h"

#include <errno.h>
#include <netinet/tcp.h>
#include <unistd.h>

static enum fail_kind connect_kind(int status)
{
    switch (status) {
    case UV_EMFILE:
    case UV_ENFILE:
    case UV_EADDRNOTAVAIL:
    case UV_ENOBUFS:
    case UV_ENOMEM:
        return FAIL_CLIENT;
    default:
        return FAIL_CONNECT;
    }
}

static uint64_t backoff_ns(const struct user *u)
{
    if (u->fails_row == 0)
        return 0;
    unsigned sh = u->fails_row > 7 ? 7 : u->fails_row - 1;
    uint64_t ms = UINT64_C(10) << sh; /* 10 ms .. 1.28 s */
    if (ms > 1000)
        ms = 1000;
    return ms * NS_MS;
}

void run__freeq_push(struct worker *w, struct user *u, uint32_t id)
{
    if (u->in_freeq || w->fq_len >= (uint32_t)w->nusers)
        return;
    w->freeq[(w->fq_head + w->fq_len) % (uint32_t)w->nusers] = id;
    w->fq_len++;
    u->in_freeq = 1;
}

/* A batch waits for a connection (want_send): counted in the worker's pending
 * so a draining phase knows when nothing it sent is left unanswered. */
void run__want_set(struct user *u, int on, uint64_t now)
{
    if (on && !u->want_send) {
        u->w->pending++;
        u->want_ns = now;
    } else if (!on && u->want_send) {
        u->w->pending--;
    }
    u->want_send = (uint8_t)(on != 0);
}

void run__on_sock_close(uv_handle_t *h)
{
    struct user *u = h->data;
    struct worker *w = u->w;
    if (u->fd >= 0)
        close(u->fd);
    u->fd = -1;
    u->state = U_OFF;
    /* While draining only a resend (user_dropped, exchange.c) reconnects: its
     * request was asked for before the end. */
    if (w->stopping || (w->draining && !u->want_send))
        return;
    uint64_t now = uv_hrtime();
    if (w->sh->rate_mode) {
        if (u->retry_after_close && !u->want_send)
            run__timer_arm(u, TK_RECONNECT, now + backoff_ns(u), now, 1);
        else
            run__user_connect(u, now);
    } else if (u->want_send) {
        run__user_connect(u, now);
    }
}

void run__user_close(struct user *u, int retry)
{
    if (u->state == U_OFF || u->state == U_CLOSING)
        return;
    if (u->state == U_READY)
        u->w->conns--;
    u->state = U_CLOSING;
    u->retry_after_close = (uint8_t)retry;
    u->w->outstanding -= u->inflight;
    u->inflight = 0;
    u->wq = 0;
    u->write_busy = 0;
    http_resp_reset(&u->parser);
    uv_close((uv_handle_t *)&u->poll, run__on_sock_close);
}

/* The server closed a healthy connection (idle close, Connection: close). */
void run__user_recycle(struct user *u, uint64_t now)
{
    if (run__in_window(u->w, now))
        u->w->reconnects++;
    run__user_close(u, 0);
}

/* A request (or the connection under it) failed: count, close, retry after the
 * think time plus a backoff that grows while failures repeat. */
void run__user_fail(struct user *u, enum fail_kind k, uint64_t now)
{
    struct worker *w = u->w;
    uint64_t n = u->inflight ? u->inflight : 1;
    run__count_fail(w, k, n, now);
    run__fail_samples(u, k, now);
    if (u->fails_row < UINT16_MAX)
        u->fails_row++;
    run__want_set(u, 0, now);
    u->retrying = 0;
    run__timer_disarm(u);
    if (u->state == U_OFF) {
        /* No handle to close (see connect_failed_early): the open loop's
         * reconnect, which run__on_sock_close would arm, is armed here. */
        if (w->sh->rate_mode && !w->draining)
            run__timer_arm(u, TK_RECONNECT, now + backoff_ns(u), now, 1);
    } else {
        run__user_close(u, 1);
    }
    if (w->draining) {
        run__drain_check(w);
        return;
    }
    if (!w->sh->rate_mode) {
        /* The worker's stream, not the user's: an instant server never fails,
         * so the replayed schedule has no such draw. */
        uint64_t t = run__think_draw(w->sh->o, &w->rng);
        uint64_t d = t + backoff_ns(u);
        if (w->sh->o->think == RUN_THINK_PACING)
            u->pace_target = now + d - t; /* next send at now + d */
        run__timer_arm(u, TK_THINK, now + d, now, 0);
    }
}

/* A connect failed: FAIL_CONNECT (the server's), or the client's own limit.
 * Either counts in connect_failures, over the whole phase: the ramp is in the
 * warm-up, and a server that refuses connections while they arrive must not
 * pass because the window began after them. */
void run__connect_fail(struct user *u, enum fail_kind k, uint64_t now)
{
    u->w->conn_fails++;
    run__user_fail(u, k, now);
}

/* The non-blocking connect finished (POLLOUT, or an error). */
void run__user_connected(struct user *u)
{
    struct worker *w = u->w;
    uint64_t now = uv_hrtime();
    int err = 0;
    socklen_t len = sizeof(err);
    if (getsockopt(u->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
        err = errno;
    if (err) {
        run__connect_fail(u, connect_kind(-err), now);
        return;
    }
    u->state = U_READY;
    if (++w->conns > w->conns_max)
        w->conns_max = w->conns;
    int rc = uv_poll_start(&u->poll, UV_READABLE, run__on_poll);
    if (rc < 0) {
        run__user_fail(u, FAIL_CLIENT, now);
        return;
    }
    run__timer_disarm(u);
    if (w->sh->rate_mode) {
        if (u->want_send) {
            /* A resend after an idle close (exchange.c's user_dropped): one request,
             * also while draining, its latency from its intended time. */
            uint64_t t = u->want_ns;
            run__want_set(u, 0, now);
            run__user_send(u, 1, t, now, 1);
            if (u->state != U_READY)
                return;
        }
        if (w->draining)
            return;
        if (u->inflight < w->sh->pipeline)
            run__freeq_push(w, u, run__user_id(w, u));
        run__rate_pump(w, now);
    } else if (u->want_send) {
        /* Also while draining: the batch was asked for before the end, its
         * latency counts from then. A resend (u->retrying) is not counted as
         * sent again. */
        uint64_t t = u->want_ns;
        int resend = u->retrying;
        u->retrying = 0;
        run__want_set(u, 0, now);
        run__user_send(u, w->sh->pipeline, t, now, resend);
    }
}

/* No socket or no poll handle (EMFILE, ENFILE, ENOBUFS: the client's own
 * limits): no handle to close; run__user_fail counts it and arms the retry. */
static void connect_failed_early(struct user *u, enum fail_kind k, uint64_t now)
{
    u->state = U_OFF;
    run__connect_fail(u, k, now);
}

void run__user_connect(struct user *u, uint64_t now)
{
    struct worker *w = u->w;
    const struct sockaddr *sa = (const struct sockaddr *)&w->sh->addr;
    socklen_t salen =
        sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
    u->in_freeq = 0;
    u->write_busy = 0;
    u->kept = 0;
    u->sent_idle = 0;
    http_resp_reset(&u->parser);
    int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        connect_failed_early(u, connect_kind(-errno), now);
        return;
    }
    int one = 1;
    if (w->sh->nsrc) {
        /* The port is left to connect(), which picks one free for this
         * 4-tuple: each source address has the whole ephemeral range. */
        const struct sockaddr_storage *src =
            &w->sh->src[(uint32_t)(w->ubase + (int)run__user_id(w, u)) % (uint32_t)w->sh->nsrc];
        setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
        if (bind(fd, (const struct sockaddr *)src, salen) < 0) {
            close(fd); /* checked at the start: only the client's own limits */
            connect_failed_early(u, FAIL_CLIENT, now);
            return;
        }
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (w->sh->o->sndbuf > 0)
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &w->sh->o->sndbuf, sizeof(w->sh->o->sndbuf));
    int rc = uv_poll_init_socket(&w->loop, &u->poll, fd);
    if (rc < 0) {
        close(fd);
        connect_failed_early(u, FAIL_CLIENT, now);
        return;
    }
    u->fd = fd;
    u->poll.data = u;
    u->state = U_CONNECTING;
    rc = 0;
    if (connect(fd, sa, salen) < 0 && errno != EINPROGRESS)
        rc = -errno;
    if (rc == 0)
        rc = uv_poll_start(&u->poll, UV_WRITABLE, run__on_poll);
    if (rc < 0) {
        run__connect_fail(u, connect_kind(rc), now);
        return;
    }
    /* The connect timeout; in the closed loop it is the request's timeout. */
    uint64_t start = (!w->sh->rate_mode && u->want_send) ? u->want_ns : now;
    run__timer_arm(u, TK_TIMEOUT, start + w->sh->timeout_ns, now, 1);
}

/* Closed loop: the user's next task, now. */
void run__user_go(struct user *u, uint64_t now)
{
    struct worker *w = u->w;
    if (u->timer_kind == TK_THINK)
        run__timer_disarm(u); /* a lazy timeout stays (see run__user_send) */
    if (w->draining)
        return; /* the phase's time is up: no new requests */
    switch (u->state) {
    case U_READY:
        run__user_send(u, w->sh->pipeline, now, now, 0);
        break;
    case U_OFF:
        run__want_set(u, 1, now);
        run__user_connect(u, now);
        break;
    default: /* connecting or closing: the callback sends */
        run__want_set(u, 1, now);
        break;
    }
}

/* Closed loop: all answers of a batch are in; think, then go again. */
void run__user_next(struct user *u, uint64_t now)
{
    struct worker *w = u->w;
    const struct run_opts *o = w->sh->o;
    if (o->think == RUN_THINK_NONE) {
        run__user_go(u, now);
        return;
    }
    if (o->think == RUN_THINK_PACING) {
        /* A grid from the previous intended send, so timer jitter does not drift. */
        uint64_t next = u->pace_target + (uint64_t)o->think_min_ms * NS_MS;
        if (next <= now) {
            u->pace_target = now;
            run__user_go(u, now);
        } else {
            u->pace_target = next;
            run__timer_arm(u, TK_THINK, next, now, 0);
        }
        return;
    }
    run__timer_arm(u, TK_THINK, now + run__think_draw(o, &u->rng), now, 0);
}
