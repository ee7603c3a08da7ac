/* delay_server.c - the 10 ms server of bench/run.sh: answers every GET with the
 * 12-byte "Hello World!" exactly DELAY_US after the request's last byte arrived.
 * One thread, epoll, and one timerfd armed at an absolute CLOCK_MONOTONIC time:
 * the delay is the same for every request, so the pending answers are a FIFO.
 * "Arrived" is the kernel's receive timestamp (SO_TIMESTAMPNS), so the server's
 * own wake-up latency does not add to the delay; the timerfd fires SPIN_NS early
 * and the last stretch is a busy wait, so the timer's wake-up does not either.
 * usage: delay_server PORT [DELAY_US] [LIFETIME_S]   (listens on 127.0.0.1 only) */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define MAX_FDS 65536
#define QCAP (1u << 20) /* pending answers; each is (fd, due) */
#define SPIN_NS 200000u

static const char answer[] = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                             "Content-Length: 12\r\n\r\nHello World!";

struct pending {
    int fd;
    uint64_t due;
};

struct server {
    int ep, lfd, tfd;
    uint64_t delay_ns, armed;
    int64_t real_minus_mono; /* to turn SO_TIMESTAMPNS (realtime) into monotonic */
    struct pending *q;
    uint32_t qh, qn;
    uint8_t *hdr; /* per fd: bytes of "\r\n\r\n" matched so far */
};

static uint64_t ts_ns(const struct timespec *ts)
{
    return (uint64_t)ts->tv_sec * 1000000000u + (uint64_t)ts->tv_nsec;
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts_ns(&ts);
}

static void arm(struct server *s)
{
    if (s->qn == 0 || s->armed == s->q[s->qh].due)
        return;
    uint64_t d = s->q[s->qh].due;
    d = d > SPIN_NS ? d - SPIN_NS : 1;
    struct itimerspec it = {{0, 0}, {(time_t)(d / 1000000000u), (long)(d % 1000000000u)}};
    timerfd_settime(s->tfd, TFD_TIMER_ABSTIME, &it, NULL);
    s->armed = d;
}

static void drop(struct server *s, int fd)
{
    epoll_ctl(s->ep, EPOLL_CTL_DEL, fd, NULL);
    close(fd);
    s->hdr[fd] = 0;
    /* answers still queued for fd are skipped: their fd is marked -1 */
    for (uint32_t i = 0; i < s->qn; i++)
        if (s->q[(s->qh + i) % QCAP].fd == fd)
            s->q[(s->qh + i) % QCAP].fd = -1;
}

static void on_readable(struct server *s, int fd)
{
    char buf[4096];
    for (int rounds = 0; rounds < 16; rounds++) {
        char cbuf[CMSG_SPACE(sizeof(struct timespec))];
        struct iovec iov = {buf, sizeof(buf)};
        struct msghdr mh = {
            .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf)};
        ssize_t n = recvmsg(fd, &mh, 0);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            return;
        if (n <= 0) {
            drop(s, fd);
            return;
        }
        uint64_t t = now_ns();
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
            if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
                struct timespec rt;
                memcpy(&rt, CMSG_DATA(c), sizeof(rt));
                uint64_t arr = (uint64_t)((int64_t)ts_ns(&rt) - s->real_minus_mono);
                if (arr <= t && t - arr < 1000000000u) /* sane: use it */
                    t = arr;
            }
        static const char end[] = "\r\n\r\n";
        for (ssize_t i = 0; i < n; i++) {
            s->hdr[fd] = buf[i] == end[s->hdr[fd]] ? s->hdr[fd] + 1 : (buf[i] == '\r');
            if (s->hdr[fd] == 4) {
                s->hdr[fd] = 0;
                if (s->qn == QCAP) {
                    drop(s, fd);
                    return;
                }
                s->q[(s->qh + s->qn) % QCAP] = (struct pending){fd, t + s->delay_ns};
                s->qn++;
            }
        }
        arm(s);
        if ((size_t)n < sizeof(buf))
            return;
    }
}

static void on_timer(struct server *s)
{
    uint64_t exp;
    if (read(s->tfd, &exp, sizeof(exp)) < 0 && errno != EAGAIN)
        return;
    s->armed = 0;
    uint64_t t = now_ns();
    while (s->qn && s->q[s->qh].due <= t + SPIN_NS) {
        while (s->q[s->qh].due > t) /* at most SPIN_NS */
            t = now_ns();
        int fd = s->q[s->qh].fd;
        s->qh = (s->qh + 1) % QCAP;
        s->qn--;
        if (fd >= 0 && write(fd, answer, sizeof(answer) - 1) < 0 && errno != EAGAIN)
            drop(s, fd);
        t = now_ns();
    }
    arm(s);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s PORT [DELAY_US] [LIFETIME_S]\n", argv[0]);
        return 2;
    }
    int port = (int)strtol(argv[1], NULL, 10);
    long delay_us = argc > 2 ? atol(argv[2]) : 10000;
    int life = argc > 3 ? (int)strtol(argv[3], NULL, 10) : 600;
    signal(SIGPIPE, SIG_IGN);
    prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
    alarm((unsigned)life); /* bounded: exits by itself */

    struct server s;
    memset(&s, 0, sizeof(s));
    s.delay_ns = (uint64_t)delay_us * 1000u;
    struct timespec rt, mt;
    clock_gettime(CLOCK_REALTIME, &rt);
    clock_gettime(CLOCK_MONOTONIC, &mt);
    s.real_minus_mono = (int64_t)ts_ns(&rt) - (int64_t)ts_ns(&mt);
    s.q = calloc(QCAP, sizeof(*s.q));
    s.hdr = calloc(MAX_FDS, 1);
    s.lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    int one = 1;
    setsockopt(s.lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (!s.q || !s.hdr || s.lfd < 0 || bind(s.lfd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
        listen(s.lfd, 4096) < 0) {
        perror("delay_server: listen");
        return 1;
    }
    s.ep = epoll_create1(0);
    s.tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = s.lfd};
    epoll_ctl(s.ep, EPOLL_CTL_ADD, s.lfd, &ev);
    ev.data.fd = s.tfd;
    epoll_ctl(s.ep, EPOLL_CTL_ADD, s.tfd, &ev);
    printf("listening on 127.0.0.1:%d, answering after %ld us\n", port, delay_us);
    fflush(stdout);

    struct epoll_event evs[256];
    for (;;) {
        int n = epoll_wait(s.ep, evs, 256, -1);
        for (int i = 0; i < n; i++) {
            int fd = evs[i].data.fd;
            if (fd == s.tfd) {
                on_timer(&s);
            } else if (fd == s.lfd) {
                for (int k = 0; k < 64; k++) {
                    int c = accept4(s.lfd, NULL, NULL, SOCK_NONBLOCK);
                    if (c < 0)
                        break;
                    if (c >= MAX_FDS) {
                        close(c);
                        continue;
                    }
                    setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
                    setsockopt(c, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one));
                    struct epoll_event ce = {.events = EPOLLIN, .data.fd = c};
                    epoll_ctl(s.ep, EPOLL_CTL_ADD, c, &ce);
                }
            } else {
                on_readable(&s, fd);
            }
        }
        /* a timer expiry in this batch is handled before later reads: fine, the
         * FIFO is ordered by arrival and every due answer is sent on_timer */
    }
}
