/* socket.c - mfbenchd's control socket on the loop: binds and listens (0660, a
 * live daemon on the path is an error), accepts clients (capped in total and per
 * peer uid; silent ones closed after an idle timeout), splits what they send
 * into request lines and writes answers and events back, dropping laggards. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "control.h"
#include "daemon_int.h"

#define MAX_CLIENT_BACKLOG (4 << 20) /* a subscriber this far behind is dropped */

struct wreq {
    uv_write_t w;
    char *data;
};

static void on_client_closed(uv_handle_t *h)
{
    struct client *c = h->data;
    struct daemon *d = c->d;
    if (c->prev)
        c->prev->next = c->next;
    else
        d->clients = c->next;
    if (c->next)
        c->next->prev = c->prev;
    d->nclients--;
    buf_free(&c->in);
    free(c);
}

static void client_close(struct client *c)
{
    if (c->closing)
        return;
    c->closing = 1;
    uv_close((uv_handle_t *)&c->h, on_client_closed);
}

static void on_shutdown(uv_shutdown_t *s, int status)
{
    client_close(s->data);
}

/* Closes after the answers already queued have been written. */
static void client_finish(struct client *c)
{
    if (c->closing || c->finishing)
        return;
    c->finishing = 1;
    uv_read_stop((uv_stream_t *)&c->h);
    c->shut.data = c;
    if (uv_shutdown(&c->shut, (uv_stream_t *)&c->h, on_shutdown) != 0)
        client_close(c);
}

static void on_written(uv_write_t *w, int status)
{
    struct wreq *r = (struct wreq *)w;
    free(r->data);
    free(r);
}

/* Sends a line (takes line). */
void dmn__client_send(struct client *c, char *line)
{
    if (!line)
        return;
    if (c->closing || c->finishing) {
        free(line);
        return;
    }
    if (uv_stream_get_write_queue_size((uv_stream_t *)&c->h) > MAX_CLIENT_BACKLOG) {
        free(line);
        client_close(c);
        return;
    }
    struct wreq *r = malloc(sizeof(*r));
    if (!r) {
        free(line);
        client_close(c);
        return;
    }
    r->data = line;
    uv_buf_t b = uv_buf_init(line, (unsigned)strlen(line));
    if (uv_write(&r->w, (uv_stream_t *)&c->h, &b, 1, on_written) != 0) {
        free(line);
        free(r);
        client_close(c);
    }
}

void dmn__send_json(struct client *c, cJSON *o)
{
    char *line = dmn__json_line(o);
    dmn__client_send(c, line ? line : dmn_answer_error("out of memory"));
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
    (void)suggested;
    b->base = malloc(65536);
    b->len = b->base ? 65536 : 0;
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *b)
{
    struct client *c = s->data;
    if (nread < 0) {
        client_close(c);
        free(b->base);
        return;
    }
    const char *p = b->base;
    size_t left = (size_t)nread;
    while (left > 0 && !c->closing && !c->finishing) {
        const char *nl = memchr(p, '\n', left);
        size_t n = nl ? (size_t)(nl - p) : left;
        if (c->in.len + n > DMN_CTL_MAX_LINE) {
            dmn__log(4, "event=request_too_long");
            dmn__client_send(c, dmn_answer_error("request too long"));
            client_finish(c);
            break;
        }
        if (buf_append(&c->in, p, n) != 0) {
            client_close(c);
            break;
        }
        if (!nl)
            break;
        dmn__handle_line(c, c->in.data, c->in.len);
        buf_reset(&c->in);
        c->since_ms = uv_now(&c->d->loop);
        p = nl + 1;
        left -= n + 1;
    }
    free(b->base);
}

/* The peer's uid, or -1 when the kernel does not say. */
static long long peer_uid(struct client *c)
{
    uv_os_fd_t fd;
    struct ucred cr;
    socklen_t n = sizeof(cr);
    if (uv_fileno((uv_handle_t *)&c->h, &fd) != 0 ||
        getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &n) != 0 || n != sizeof(cr))
        return -1;
    return (long long)cr.uid;
}

/* Answers a one-line error, logs why and closes once it is written. */
static void client_refuse(struct client *c, const char *why, const char *msg)
{
    c->refused = 1;
    dmn__log(4, "event=client_refused uid=%lld reason=%s clients=%zu", c->uid, why, c->d->nclients);
    dmn__client_send(c, dmn_answer_error(msg));
    client_finish(c);
}

static void on_connection(uv_stream_t *server, int status)
{
    struct daemon *d = server->data;
    if (status < 0)
        return;
    struct client *c = calloc(1, sizeof(*c));
    if (!c)
        return;
    c->d = d;
    c->uid = -1;
    buf_init(&c->in, DMN_CTL_MAX_LINE + 64);
    if (uv_pipe_init(&d->loop, &c->h, 0) != 0) {
        free(c);
        return;
    }
    c->h.data = c;
    c->next = d->clients;
    if (d->clients)
        d->clients->prev = c;
    d->clients = c;
    d->nclients++;
    c->since_ms = uv_now(&d->loop);
    if (uv_accept(server, (uv_stream_t *)&c->h) != 0) {
        client_close(c);
        return;
    }
    c->uid = peer_uid(c);
    if (d->shutting) {
        client_refuse(c, "stopping", "the daemon is stopping");
        return;
    }
    long long self = (long long)geteuid();
    int privileged = c->uid == 0 || c->uid == self;
    size_t same = 0, others = 0; /* live clients: of c's uid, of unprivileged uids */
    for (struct client *o = d->clients; o; o = o->next) {
        if (o->refused || o->closing)
            continue;
        same += o->uid == c->uid;
        others += o->uid != 0 && o->uid != self;
    }
    enum dmn_admit a = dmn_client_admit(d->nclients, others, same, privileged, DMN_MAX_CLIENTS,
                                        DMN_RESERVED_CLIENTS, d->max_clients_per_uid);
    if (a == DMN_ADMIT_TOTAL) {
        client_refuse(c, "total", "too many connections");
        return;
    }
    if (a == DMN_ADMIT_RESERVED) {
        client_refuse(c, "reserved",
                      "too many connections (the last one is kept for the service's own user)");
        return;
    }
    if (a == DMN_ADMIT_PER_UID) {
        char msg[160];
        snprintf(msg, sizeof(msg), "too many connections from uid %lld (at most %zu per user)",
                 c->uid, d->max_clients_per_uid);
        client_refuse(c, "per_uid", msg);
        return;
    }
    if (uv_read_start((uv_stream_t *)&c->h, on_alloc, on_read) != 0)
        client_close(c);
}

/* Closes every client that has neither completed a request line nor subscribed
 * within the idle timeout: silent clients must not hold the connection slots.
 * One that does not read its last answer is cut a timeout later. */
static void on_idle_sweep(uv_timer_t *t)
{
    struct daemon *d = t->data;
    uint64_t now = uv_now(&d->loop);
    for (struct client *c = d->clients; c; c = c->next) {
        if (c->closing || now - c->since_ms < d->idle_timeout_ms)
            continue;
        if (c->finishing) { /* its last answer unread for a whole timeout more: cut */
            if (now - c->since_ms >= 2 * d->idle_timeout_ms) {
                dmn__log(5, "event=client_cut uid=%lld unread_bytes=%zu", c->uid,
                         uv_stream_get_write_queue_size((uv_stream_t *)&c->h));
                client_close(c);
            }
            continue;
        }
        if (c->subscribed)
            continue;
        dmn__log(5, "event=client_idle_closed uid=%lld idle_ms=%llu partial_bytes=%zu", c->uid,
                 (unsigned long long)(now - c->since_ms), c->in.len);
        dmn__client_send(c, dmn_answer_error("idle for too long without a request: closed"));
        client_finish(c);
    }
}

void dmn__broadcast(struct daemon *d, const char *line)
{
    for (struct client *c = d->clients; c; c = c->next)
        if (c->subscribed && !c->closing && !c->finishing)
            dmn__client_send(c, strdup(line));
}

void dmn__clients_close(struct daemon *d)
{
    for (struct client *c = d->clients; c; c = c->next)
        client_close(c);
}

void dmn__stop_listening(struct daemon *d)
{
    if (d->server_open && !uv_is_closing((uv_handle_t *)&d->server)) {
        uv_close((uv_handle_t *)&d->server, NULL);
        unlink(d->socket_path);
    }
}

/* Binds the control socket with mode 0660. A live daemon on the path is an
 * error; a stale socket file is replaced. */
int dmn__listen(struct daemon *d, struct err *e)
{
    const char *path = d->socket_path;
    char dir[sizeof(d->socket_path)];
    mf_strlcpy(dir, path, sizeof(dir));
    char *slash = strrchr(dir, '/');
    if (slash && slash != dir) {
        *slash = '\0';
        if (mkdir(dir, 0750) != 0 && errno != EEXIST)
            return err_set(e, -errno, "cannot create %s: %s", dir, strerror(errno));
    }
    /* Another user's folder (a pre-made /tmp/mfbench-UID) could swap our socket for theirs. */
    int rc = dmn_socket_dir_check(path, 0, e);
    if (rc)
        return rc;
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd >= 0) {
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        mf_strlcpy(sa.sun_path, path, sizeof(sa.sun_path));
        int live = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
        close(fd);
        if (live)
            return err_set(e, -EADDRINUSE, "another mfbenchd is listening on %s", path);
    }
    unlink(path);
    rc = uv_pipe_init(&d->loop, &d->server, 0);
    if (rc)
        return err_set(e, rc, "uv_pipe_init(%s): %s", path, uv_strerror(rc));
    d->server_open = 1;
    d->server.data = d;
    mode_t old = umask(0117); /* the socket is created 0660: no window with wider rights */
    rc = uv_pipe_bind(&d->server, path);
    umask(old);
    if (rc)
        return err_set(e, rc, "uv_pipe_bind(%s): %s", path, uv_strerror(rc));
    if ((rc = uv_listen((uv_stream_t *)&d->server, 64, on_connection)))
        return err_set(e, rc, "uv_listen(%s): %s", path, uv_strerror(rc));
    chmod(path, 0660);
    if (d->idle_timeout_ms == 0)
        d->idle_timeout_ms = (uint64_t)DMN_CLIENT_IDLE_TIMEOUT_S * 1000;
    if (d->max_clients_per_uid == 0)
        d->max_clients_per_uid = DMN_MAX_CLIENTS_PER_UID;
    if ((rc = uv_timer_init(&d->loop, &d->idle_sweep)))
        return err_set(e, rc, "uv_timer_init(idle_sweep): %s", uv_strerror(rc));
    dmn__handle_opened(d, (uv_handle_t *)&d->idle_sweep);
    d->idle_sweep.data = d;
    uint64_t every = d->idle_timeout_ms / 4; /* closed within 1.25 timeouts */
    every = every < 20 ? 20 : every > 1000 ? 1000 : every;
    if ((rc = uv_timer_start(&d->idle_sweep, on_idle_sweep, every, every)))
        return err_set(e, rc, "uv_timer_start(idle_sweep): %s", uv_strerror(rc));
    return 0;
}

/* Every handle of the loop, the listening socket and every client. */
void dmn__close_all(struct daemon *d)
{
    for (size_t i = 0; i < d->nhandles; i++)
        if (!uv_is_closing(d->handles[i]))
            uv_close(d->handles[i], NULL);
    if (d->server_open && !uv_is_closing((uv_handle_t *)&d->server))
        uv_close((uv_handle_t *)&d->server, NULL);
    dmn__clients_close(d);
}
