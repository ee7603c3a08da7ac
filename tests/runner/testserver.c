/* testserver.c - a small HTTP/1.1 server for the runner's integration tests.
 * Listens on 127.0.0.1 (ephemeral port printed on stdout), a thread per
 * connection, behaviour chosen by path. Exits by itself after its lifetime.
 *   /text           "Hello World!" (12 bytes, Content-Length)
 *   /other          "Hello World?" (same length, different body)
 *   /len/N          N bytes of 'x'
 *   /status/N       status N, body "err"
 *   /delay/N        answers after N ms
 *   /chunked        "Hello World!" in chunks with an extension and a trailer
 *   /split          "Hello World!" written one byte at a time
 *   /close          answers with Connection: close, then closes
 *   /stall/N        the whole server stops answering for 1 s, N ms after the first /stall
 *   /hang           never answers
 *   /hangafter/N    the first N requests (over all connections) are answered,
 *                   every later one hangs like /hang
 *   /hangevery/N    every Nth request (over all connections) hangs like /hang,
 *                   the others are answered "Hello World!"
 *   /spew/N         answers with N valid responses at once (N-1 nobody asked
 *                   for), then reads nothing more until the client closes
 *   /reset          closes with a TCP reset
 *   /idle/N         "Hello World!"; the connection is closed when no request
 *                   follows within N ms (a keep-alive timeout, as uvicorn's 5 s)
 *   /pace           "Hello World!"; the connection's mean interval between /pace
 *                   requests is added to the stats when it closes
 *   /pacestats      "conns=N mean_us=M" over the closed /pace connections
 * usage: testserver [LIFETIME_S [RCVBUF [GREET]]]
 * RCVBUF: a small receive buffer for every connection (SO_RCVBUF on the
 * listener), so a client's large pipelined batch cannot leave in one send;
 * 0 = the kernel's.
 * GREET: a server that answers no request: as soon as a connection opens it
 * writes GREET valid responses in one send, then reads and answers nothing
 * until the client closes (issue 21 item 8: none of them is an answer). */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static const char hello[] = "Hello World!";
static pthread_mutex_t stall_mu = PTHREAD_MUTEX_INITIALIZER;
static int64_t stall_start = -1; /* ms, monotonic */
static atomic_long hangafter_seen, hangevery_seen, count_seen;
static long greet;
static int pace_conns;
static double pace_sum_us;

struct conn {
    int fd;
    int64_t pace_first_us, pace_last_us;
    long pace_n;
    int idle_ms; /* > 0: close when idle that long (/idle/N) */
};

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int64_t ms)
{
    if (ms <= 0)
        return;
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int respond(int fd, int status, const char *body, size_t len, const char *extra)
{
    char head[256];
    int n = snprintf(head, sizeof(head),
                     "HTTP/1.1 %d X\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n%s\r\n",
                     status, len, extra ? extra : "");
    if (write_all(fd, head, (size_t)n) < 0)
        return -1;
    return write_all(fd, body, len);
}

static void stall_gate(void)
{
    pthread_mutex_lock(&stall_mu);
    int64_t s = stall_start;
    pthread_mutex_unlock(&stall_mu);
    int64_t t = now_ms();
    if (s >= 0 && t >= s && t < s + 1000)
        sleep_ms(s + 1000 - t);
}

/* Returns 0 to keep the connection, -1 to close it. */
static int handle(struct conn *c, const char *path)
{
    int fd = c->fd;
    long n = 0;
    if (strcmp(path, "/pace") == 0) {
        int64_t t = now_us();
        if (c->pace_n++ == 0)
            c->pace_first_us = t;
        c->pace_last_us = t;
        return respond(fd, 200, hello, 12, NULL);
    }
    if (strcmp(path, "/pacestats") == 0) {
        char b[128];
        pthread_mutex_lock(&stall_mu);
        int k = snprintf(b, sizeof(b), "conns=%d mean_us=%.1f", pace_conns,
                         pace_conns ? pace_sum_us / pace_conns : 0.0);
        pthread_mutex_unlock(&stall_mu);
        return respond(fd, 200, b, (size_t)k, NULL);
    }
    if (strncmp(path, "/stall/", 7) == 0) {
        n = strtol(path + 7, NULL, 10);
        pthread_mutex_lock(&stall_mu);
        if (stall_start < 0)
            stall_start = now_ms() + n;
        pthread_mutex_unlock(&stall_mu);
    }
    stall_gate();
    if (strcmp(path, "/text") == 0 || strncmp(path, "/stall/", 7) == 0)
        return respond(fd, 200, hello, 12, NULL);
    if (strcmp(path, "/count") == 0) {
        /* The number of this answer to /count, with a Content-Type longer than
         * the parser's 64-byte line for the headers it reads. */
        char r[512];
        char b[32];
        int k = snprintf(b, sizeof(b), "%ld", atomic_fetch_add(&count_seen, 1) + 1);
        int m = snprintf(r, sizeof(r),
                         "HTTP/1.1 200 OK\r\nContent-Type-Note: x\r\nContent-Type: "
                         "application/x-count; comment=\"longer than the parser's 64-byte line "
                         "for the headers it reads\"\r\nContent-Length: %d\r\n\r\n%s",
                         k, b);
        return write_all(fd, r, (size_t)m);
    }
    if (strcmp(path, "/other") == 0)
        return respond(fd, 200, "Hello World?", 12, NULL);
    if (strncmp(path, "/len/", 5) == 0) {
        n = strtol(path + 5, NULL, 10);
        if (n < 0 || n > (1 << 20))
            n = 0;
        char *b = malloc((size_t)n + 1);
        if (!b)
            return -1;
        memset(b, 'x', (size_t)n);
        int rc = respond(fd, 200, b, (size_t)n, NULL);
        free(b);
        return rc;
    }
    if (strncmp(path, "/status/", 8) == 0)
        return respond(fd, (int)strtol(path + 8, NULL, 10), "err", 3, NULL);
    if (strncmp(path, "/delay/", 7) == 0) {
        sleep_ms(strtol(path + 7, NULL, 10));
        return respond(fd, 200, hello, 12, NULL);
    }
    if (strcmp(path, "/chunked") == 0) {
        static const char r[] =
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
            "5;name=value\r\nHello\r\n7\r\n World!\r\n0\r\nX-Trailer: yes\r\n\r\n";
        return write_all(fd, r, sizeof(r) - 1);
    }
    if (strcmp(path, "/split") == 0) {
        static const char r[] = "HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\nHello World!";
        for (size_t i = 0; i < sizeof(r) - 1; i++) {
            if (write_all(fd, r + i, 1) < 0)
                return -1;
            if (i % 8 == 0)
                sleep_ms(1);
        }
        return 0;
    }
    if (strcmp(path, "/close") == 0) {
        respond(fd, 200, hello, 12, "Connection: close\r\n");
        return -1;
    }
    if (strncmp(path, "/hangafter/", 11) == 0 &&
        atomic_fetch_add(&hangafter_seen, 1) < strtol(path + 11, NULL, 10))
        return respond(fd, 200, hello, 12, NULL);
    if (strncmp(path, "/spew/", 6) == 0) {
        static const char r[] = "HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\nHello World!";
        n = strtol(path + 6, NULL, 10);
        for (long i = 0; i < n && i < 100000; i++)
            if (write_all(fd, r, sizeof(r) - 1) < 0)
                return -1;
        char b[512];
        while (recv(fd, b, sizeof(b), 0) > 0) /* until the client closes */
            ;
        return -1;
    }
    if (strncmp(path, "/hangevery/", 11) == 0) {
        n = strtol(path + 11, NULL, 10);
        if (n < 1 || (atomic_fetch_add(&hangevery_seen, 1) + 1) % n != 0)
            return respond(fd, 200, hello, 12, NULL);
    }
    if (strcmp(path, "/hang") == 0 || strncmp(path, "/hangafter/", 11) == 0 ||
        strncmp(path, "/hangevery/", 11) == 0) {
        char b[512];
        while (recv(fd, b, sizeof(b), 0) > 0) /* until the client gives up */
            ;
        return -1;
    }
    if (strncmp(path, "/idle/", 6) == 0) {
        c->idle_ms = (int)strtol(path + 6, NULL, 10);
        return respond(fd, 200, hello, 12, NULL);
    }
    if (strcmp(path, "/reset") == 0) {
        struct linger l = {1, 0};
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
        return -1;
    }
    return respond(fd, 404, "not found", 9, NULL);
}

static void *conn_main(void *arg)
{
    int fd = (int)(intptr_t)arg;
    struct conn c = {fd, 0, 0, 0, 0};
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    char buf[16384];
    size_t len = 0;
    if (greet > 0) {
        static const char r[] = "HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\nHello World!";
        size_t rl = sizeof(r) - 1;
        char *g = malloc(rl * (size_t)greet);
        if (g) {
            for (long i = 0; i < greet; i++)
                memcpy(g + (size_t)i * rl, r, rl);
            write_all(fd, g, rl * (size_t)greet);
            free(g);
        }
        while (recv(fd, buf, sizeof(buf), 0) > 0) /* until the client closes */
            ;
        goto out;
    }
    for (;;) {
        char *end;
        while ((end = memmem(buf, len, "\r\n\r\n", 4)) != NULL) {
            char path[256] = "";
            sscanf(buf, "GET %255s", path);
            size_t used = (size_t)(end + 4 - buf);
            int rc = handle(&c, path);
            memmove(buf, buf + used, len - used);
            len -= used;
            if (rc < 0)
                goto out;
        }
        if (len == sizeof(buf))
            goto out;
        if (c.idle_ms > 0 && len == 0) {
            struct pollfd pf = {.fd = fd, .events = POLLIN};
            int pr = poll(&pf, 1, c.idle_ms);
            if (pr < 0 && errno == EINTR)
                continue;
            if (pr == 0)
                goto out; /* the keep-alive timeout: an idle close */
        }
        ssize_t r = recv(fd, buf + len, sizeof(buf) - len, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            goto out;
        len += (size_t)r;
    }
out:
    if (c.pace_n > 1) {
        pthread_mutex_lock(&stall_mu);
        pace_conns++;
        pace_sum_us += (double)(c.pace_last_us - c.pace_first_us) / (double)(c.pace_n - 1);
        pthread_mutex_unlock(&stall_mu);
    }
    close(fd);
    return NULL;
}

int main(int argc, char **argv)
{
    int lifetime = argc > 1 ? (int)strtol(argv[1], NULL, 10) : 60;
    signal(SIGPIPE, SIG_IGN);
    alarm((unsigned)(lifetime > 0 ? lifetime : 60)); /* bounded: SIGALRM ends the process */
    int s = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (argc > 2) {
        int rcvbuf = (int)strtol(argv[2], NULL, 10);
        if (rcvbuf > 0)
            setsockopt(s, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
    }
    if (argc > 3) {
        greet = strtol(argv[3], NULL, 10);
        if (greet < 0 || greet > 100000)
            greet = 0;
    }
    struct sockaddr_in a;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(s, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(s, 4096) < 0) {
        perror("testserver");
        return 1;
    }
    socklen_t al = sizeof(a);
    getsockname(s, (struct sockaddr *)&a, &al);
    printf("%d\n", ntohs(a.sin_port));
    fflush(stdout);
    for (;;) {
        int c = accept(s, NULL, NULL);
        if (c < 0) {
            if (errno == EINTR || errno == EMFILE || errno == ENFILE) {
                sleep_ms(10);
                continue;
            }
            return 1;
        }
        pthread_t th;
        pthread_attr_t at;
        pthread_attr_init(&at);
        pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
        pthread_attr_setstacksize(&at, 128 * 1024);
        if (pthread_create(&th, &at, conn_main, (void *)(intptr_t)c) != 0)
            close(c);
        pthread_attr_destroy(&at);
    }
}
