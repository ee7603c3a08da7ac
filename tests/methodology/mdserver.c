/* mdserver.c - an M/D/1 server for the SLO capacity's known-answer test: every
 * GET is answered "Hello World!" after exactly S ms of service, strictly one
 * request at a time, in the order the requests were read (first come, first
 * served). With Poisson arrivals that is an M/D/1 queue, whose p99 sojourn
 * time the test computes on its own (tests/methodology/md1.py).
 * The service is a busy wait to an absolute deadline (a CPU-bound request; a
 * sleep would add the timer's slack and wake-up latency to every request).
 * One thread, poll(2) over the connections. With --stats FILE it writes "N
 * MEAN_US" there every 200 requests: the server's own cost per request
 * (service, answer, and reading the next ones), which the test takes as the
 * queue's S instead of the nominal one.
 * With --hang-every N, every Nth request is read and never answered (a server
 * that loses one request in N).
 * usage: mdserver --host H --port P --service-ms S [--lifetime-s N] [--stats FILE]
 *                 [--hang-every N] */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAXC 4096
#define QCAP 65536

static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                           "Content-Length: 12\r\n\r\nHello World!";

struct conn {
    int fd;
    char buf[2048];
    size_t len;
};

static struct conn conns[MAXC];
static int nconns; /* slots [0, nconns) may be in use */
static struct pollfd pfd[MAXC + 1];
static int queue[QCAP]; /* connection slots with one complete request each, FIFO */
static size_t qh, qn;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void drop(int i)
{
    close(conns[i].fd);
    conns[i].fd = -1;
    conns[i].len = 0;
}

/* Reads what slot i has and queues each complete request ("\r\n\r\n"). */
static void take(int i)
{
    struct conn *c = &conns[i];
    for (;;) {
        if (c->len == sizeof(c->buf)) {
            drop(i);
            return;
        }
        ssize_t n = recv(c->fd, c->buf + c->len, sizeof(c->buf) - c->len, MSG_DONTWAIT);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
            drop(i);
            return;
        }
        if (n < 0)
            break;
        c->len += (size_t)n;
    }
    char *end;
    while ((end = memmem(c->buf, c->len, "\r\n\r\n", 4)) != NULL) {
        size_t used = (size_t)(end - c->buf) + 4;
        memmove(c->buf, c->buf + used, c->len - used);
        c->len -= used;
        if (qn < QCAP)
            queue[(qh + qn++) % QCAP] = i;
    }
}

/* Accepts and reads whatever is ready within timeout_ms. */
static void gather(int lfd, int nc, int timeout_ms)
{
    pfd[0] = (struct pollfd){.fd = lfd, .events = POLLIN};
    if (nc > nconns)
        nc = nconns;
    for (int i = 0; i < nc; i++)
        pfd[i + 1] = (struct pollfd){.fd = conns[i].fd, .events = POLLIN};
    if (poll(pfd, (nfds_t)nc + 1, timeout_ms) <= 0)
        return;
    for (int i = 0; i < nc; i++)
        if (conns[i].fd >= 0 && (pfd[i + 1].revents & (POLLIN | POLLHUP | POLLERR)))
            take(i);
    if (pfd[0].revents & POLLIN) {
        int fd;
        while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
            int j = 0;
            while (j < MAXC && conns[j].fd >= 0)
                j++;
            if (j == MAXC) {
                close(fd);
                continue;
            }
            int one = 1;
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            conns[j].fd = fd;
            conns[j].len = 0;
            if (j >= nconns)
                nconns = j + 1;
        }
    }
}

int main(int argc, char **argv)
{
    const char *host = "127.0.0.1";
    int port = 0;
    double service_ms = 2, lifetime_s = 3600;
    const char *stats = NULL;
    long hang_every = 0, nreq = 0;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--host"))
            host = argv[i + 1];
        else if (!strcmp(argv[i], "--port"))
            port = (int)strtol(argv[i + 1], NULL, 10);
        else if (!strcmp(argv[i], "--service-ms"))
            service_ms = strtod(argv[i + 1], NULL);
        else if (!strcmp(argv[i], "--lifetime-s"))
            lifetime_s = strtod(argv[i + 1], NULL);
        else if (!strcmp(argv[i], "--stats"))
            stats = argv[i + 1];
        else if (!strcmp(argv[i], "--hang-every"))
            hang_every = strtol(argv[i + 1], NULL, 10);
    }
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    int one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (inet_pton(AF_INET, host, &a.sin_addr) != 1 ||
        bind(lfd, (struct sockaddr *)&a, sizeof a) < 0 || listen(lfd, 4096) < 0) {
        perror("mdserver: bind");
        return 1;
    }
    for (int i = 0; i < MAXC; i++)
        conns[i].fd = -1;
    double end = now_s() + lifetime_s;
    double cost = 0; /* seconds the server spent per request while it had a queue */
    long served = 0;
    while (now_s() < end) {
        gather(lfd, MAXC, qn ? 0 : 100);
        if (!qn)
            continue;
        double t0 = now_s();
        int i = queue[qh];
        qh = (qh + 1) % QCAP;
        qn--;
        if (conns[i].fd < 0)
            continue;
        if (hang_every > 0 && ++nreq % hang_every == 0)
            continue; /* lost: never answered (the connection stays open) */
        /* Service: S ms of this CPU, to an absolute deadline. */
        double deadline = t0 + service_ms / 1000.0;
        while (now_s() < deadline)
            ;
        if (send(conns[i].fd, resp, sizeof(resp) - 1, MSG_NOSIGNAL) < 0)
            drop(i);
        gather(lfd, MAXC, 0); /* part of the cost of each request: reading the next */
        cost += now_s() - t0;
        if (++served % 200 == 0 && stats) {
            FILE *f = fopen(stats, "w");
            if (f) {
                fprintf(f, "%ld %.1f\n", served, cost / (double)served * 1e6);
                fclose(f);
            }
        }
    }
    return 0;
}
