/* limits.c - the client's own limits (descriptors, ports, conntrack entries,
 * memory), and the users' source addresses: on a loopback target they spread
 * over 127.0.0.0/8, so 20,000 users do not run out of ephemeral ports. */
#include "engine_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/resource.h>

int run_ensure_nofile(uint64_t needed, struct err *e)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return err_set(e, -errno, "getrlimit(RLIMIT_NOFILE): %s", strerror(errno));
    if (rl.rlim_cur == RLIM_INFINITY)
        return 0;
    /* As far as the hard limit allows, not just to `needed`: sockets still
     * closing, the loop's own descriptors and a caller's files share it. */
    rlim_t want = rl.rlim_max != RLIM_INFINITY ? rl.rlim_max : (rlim_t)needed;
    if (want > rl.rlim_cur) {
        struct rlimit nl = {want, rl.rlim_max};
        if (setrlimit(RLIMIT_NOFILE, &nl) == 0)
            rl.rlim_cur = want;
    }
    if (rl.rlim_cur >= needed)
        return 0;
    return err_set(e, -EMFILE,
                   "%llu file descriptors are needed but the hard limit is %llu: raise it "
                   "(ulimit -n %llu as root, LimitNOFILE=%llu in a systemd unit, or nofile in "
                   "/etc/security/limits.conf)",
                   (unsigned long long)needed, (unsigned long long)rl.rlim_max,
                   (unsigned long long)needed, (unsigned long long)needed);
}

/* The ephemeral port range of this network namespace: its size, or -1. */
static long port_range(void)
{
    long lo = 0, hi = 0;
    FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "re");
    if (!f)
        return -1;
    int got = fscanf(f, "%ld %ld", &lo, &hi);
    fclose(f);
    return got == 2 && lo > 0 && hi >= lo ? hi - lo + 1 : -1;
}

/* The first number of a /proc file, or -1. */
static long long proc_num(const char *path)
{
    long long v = -1;
    FILE *f = fopen(path, "re");
    if (!f)
        return -1;
    if (fscanf(f, "%lld", &v) != 1)
        v = -1;
    fclose(f);
    return v;
}

/* The number after `key` on the line of `file` starting with `prefix`, or -1:
 * "tw" of /proc/net/sockstat's TCP line, MemAvailable of /proc/meminfo. */
static long long proc_field(const char *file, const char *prefix, const char *key)
{
    char line[512];
    long long v = -1;
    FILE *f = fopen(file, "re");
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, prefix, strlen(prefix)) != 0)
            continue;
        const char *p = strstr(line, key);
        if (p) {
            char *end;
            long long x = strtoll(p + strlen(key), &end, 10);
            if (end != p + strlen(key))
                v = x;
        }
        break;
    }
    fclose(f);
    return v;
}

/* TIME_WAIT sockets of this network namespace. */
static uint64_t time_wait_count(void)
{
    long long tw = proc_field("/proc/net/sockstat", "TCP:", " tw ");
    return tw > 0 ? (uint64_t)tw : 0;
}

static int is_loopback_v4(const struct sockaddr_storage *a)
{
    return a->ss_family == AF_INET &&
           (ntohl(((const struct sockaddr_in *)(const void *)a)->sin_addr.s_addr) >> 24) == 127;
}

static int is_loopback(const struct sockaddr_storage *a)
{
    if (is_loopback_v4(a))
        return 1;
    if (a->ss_family != AF_INET6)
        return 0;
    const struct in6_addr *x = &((const struct sockaddr_in6 *)(const void *)a)->sin6_addr;
    return IN6_IS_ADDR_LOOPBACK(x) || (IN6_IS_ADDR_V4MAPPED(x) && x->s6_addr[12] == 127);
}

/* At most this many source addresses: 127.0.0.0/8 holds 2^24, a list in
 * load.source_addrs is typed by hand. */
#define SOURCES_MAX (1 << 20)

int run_source_count(int users, long ports, uint64_t tw)
{
    if (users < 1 || ports <= 0)
        return 1;
    uint64_t per = (uint64_t)ports - (uint64_t)ports / 4;
    if (per == 0)
        per = 1;
    uint64_t k = ((uint64_t)users + tw + per - 1) / per;
    return k < 1 ? 1 : k > SOURCES_MAX ? SOURCES_MAX : (int)k;
}

/* The comma- or space-separated addresses of list, each of the target's
 * family and each one this machine can bind (a source address it owns).
 * Fills *out (caller frees) and *n; with out NULL only counts them. */
static int sources_parse(const char *list, int family, struct sockaddr_storage **out, int *n,
                         struct err *e)
{
    static const char sep[] = ", \t";
    int cap = 0, k = 0, rc = 0;
    for (const char *p = list + strspn(list, sep); *p; p += strspn(p, sep)) {
        p += strcspn(p, sep);
        cap++;
    }
    *n = 0;
    if (cap == 0 || cap > 4096)
        return err_set(e, -EINVAL, "source addresses '%.80s': give 1 to 4096 of them", list);
    if (!out) {
        *n = cap;
        return 0;
    }
    struct sockaddr_storage *a = calloc((size_t)cap, sizeof(*a));
    if (!a)
        return err_set(e, -ENOMEM, "out of memory");
    for (const char *p = list + strspn(list, sep); *p && k < cap; p += strspn(p, sep)) {
        size_t l = strcspn(p, sep);
        char t[INET6_ADDRSTRLEN + 1];
        if (l >= sizeof(t)) {
            rc = err_set(e, -EINVAL, "source address '%.40s...': not an IP address", p);
            goto fail;
        }
        memcpy(t, p, l);
        t[l] = 0;
        p += l;
        struct sockaddr_storage *s = &a[k];
        socklen_t sl = sizeof(struct sockaddr_in6);
        if (inet_pton(AF_INET, t, &((struct sockaddr_in *)(void *)s)->sin_addr) == 1) {
            s->ss_family = AF_INET;
            sl = sizeof(struct sockaddr_in);
        } else if (inet_pton(AF_INET6, t, &((struct sockaddr_in6 *)(void *)s)->sin6_addr) == 1) {
            s->ss_family = AF_INET6;
        } else {
            rc = err_set(e, -EINVAL, "source address '%s': not an IPv4 or IPv6 address", t);
            goto fail;
        }
        if (s->ss_family != family) {
            rc = err_set(e, -EINVAL, "source address '%s': not of the target's family (IPv%d)", t,
                         family == AF_INET ? 4 : 6);
            goto fail;
        }
        int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
        if (fd < 0) {
            rc = err_set(e, -errno, "socket: %s", strerror(errno));
            goto fail;
        }
        setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
        int brc = bind(fd, (struct sockaddr *)s, sl), berr = errno;
        close(fd);
        if (brc < 0) {
            rc = err_set(e, -EINVAL,
                         "source address '%s': %s (it must be an address of this machine)", t,
                         strerror(berr));
            goto fail;
        }
        k++;
    }
    *out = a;
    *n = k;
    return 0;
fail:
    free(a);
    return rc;
}

/* The users' source addresses: o->source_addrs, or on an IPv4 loopback
 * target 127.0.0.1, 127.0.0.2, ... as many as run_source_count asks (none
 * when one does: the kernel picks 127.0.0.1 itself). *src is the caller's. */
int run__sources_plan(const struct run_opts *o, const struct sockaddr_storage *target,
                      struct sockaddr_storage **src, int *nsrc, struct err *e)
{
    *src = NULL;
    *nsrc = 0;
    if (o->source_addrs && *o->source_addrs)
        return sources_parse(o->source_addrs, target->ss_family, src, nsrc, e);
    if (!is_loopback_v4(target))
        return 0;
    int k = run_source_count(o->users, port_range(), time_wait_count());
    if (k <= 1)
        return 0;
    struct sockaddr_storage *a = calloc((size_t)k, sizeof(*a));
    if (!a)
        return err_set(e, -ENOMEM, "out of memory");
    for (int i = 0; i < k; i++) {
        struct sockaddr_in *s = (struct sockaddr_in *)(void *)&a[i];
        s->sin_family = AF_INET;
        /* 127.0.0.1 .. 127.0.0.254, then 127.0.1.1 ...: no .0 or .255 */
        s->sin_addr.s_addr =
            htonl(UINT32_C(0x7f000000) | ((uint32_t)(i / 254) << 8) | (uint32_t)(i % 254 + 1));
    }
    *src = a;
    *nsrc = k;
    return 0;
}

struct limit_pick {
    const char *name;
    uint64_t cap;
    char why[384];
};

/* Keeps the limit that binds at the fewest users. */
static void limit_consider(struct limit_pick *b, int users, const char *name, uint64_t cap,
                           const char *fmt, ...) MF_PRINTF(5, 6);
static void limit_consider(struct limit_pick *b, int users, const char *name, uint64_t cap,
                           const char *fmt, ...)
{
    if (cap >= (uint64_t)users || (b->name && cap >= b->cap))
        return;
    b->name = name;
    b->cap = cap;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(b->why, sizeof(b->why), fmt, ap);
    va_end(ap);
}

const char *run_client_limit(int users, const struct run_opts *o, char *why, size_t n)
{
    struct limit_pick b = {NULL, 0, ""};
    if (why && n)
        why[0] = 0;
    if (users < 1)
        return NULL;
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_max != RLIM_INFINITY) {
        uint64_t cap = rl.rlim_max > NOFILE_SLACK ? (uint64_t)rl.rlim_max - NOFILE_SLACK : 0;
        limit_consider(&b, users, "client:descriptors", cap,
                       "%d users need %llu descriptors but the hard limit (RLIMIT_NOFILE) is "
                       "%llu: raise it (LimitNOFILE= in a systemd unit, nofile in "
                       "/etc/security/limits.conf, or ulimit -Hn as root)",
                       users, (unsigned long long)users + NOFILE_SLACK,
                       (unsigned long long)rl.rlim_max);
    }
    struct sockaddr_storage addr;
    char host[300], path[2048];
    struct err pe;
    err_clear(&pe);
    int have_addr = o && o->url &&
                    run__parse_url(o->url, &addr, host, sizeof host, path, sizeof path, &pe) == 0;
    int loop = have_addr && is_loopback(&addr);
    long ports = port_range();
    if (have_addr && ports > 0) {
        uint64_t tw = time_wait_count();
        long long reuse = proc_num("/proc/sys/net/ipv4/tcp_tw_reuse");
        /* TIME_WAIT holds its 4-tuple unless the kernel may reuse it for a
         * new connect: tcp_tw_reuse 1, or 2 (the default) on loopback. */
        uint64_t held = (reuse == 1 || (reuse == 2 && loop)) ? 0 : tw;
        int naddr = 1;
        struct err se;
        if (o->source_addrs && *o->source_addrs &&
            sources_parse(o->source_addrs, addr.ss_family, NULL, &naddr, &se) < 0)
            naddr = 1;
        int spread = !(o->source_addrs && *o->source_addrs) && is_loopback_v4(&addr);
        uint64_t total = (uint64_t)(spread ? SOURCES_MAX : naddr) * (uint64_t)ports;
        uint64_t cap = total > held ? total - held : 0;
        if (naddr == 1 && !spread)
            limit_consider(&b, users, "client:ports", cap,
                           "%d users need as many connections to %s from one source "
                           "address, whose ephemeral port range (net.ipv4.ip_local_port_range) "
                           "gives %ld ports (%llu held in TIME_WAIT): list more of this "
                           "machine's addresses in load.source_addrs, or widen the range",
                           users, host, ports, (unsigned long long)held);
        else
            limit_consider(&b, users, "client:ports", cap,
                           "%d users need as many connections to %s, and %d source addresses "
                           "x %ld ephemeral ports (net.ipv4.ip_local_port_range) less %llu in "
                           "TIME_WAIT give %llu: list more addresses in load.source_addrs",
                           users, host, spread ? SOURCES_MAX : naddr, ports,
                           (unsigned long long)held, (unsigned long long)cap);
    }
    long long ct_max = proc_num("/proc/sys/net/netfilter/nf_conntrack_max");
    if (ct_max > 0) {
        long long ct = proc_num("/proc/sys/net/netfilter/nf_conntrack_count");
        if (ct < 0)
            ct = 0;
        limit_consider(&b, users, "client:conntrack", ct_max > ct ? (uint64_t)(ct_max - ct) : 0,
                       "%d users need as many conntrack entries but nf_conntrack_max is %lld "
                       "with %lld in use: raise net.netfilter.nf_conntrack_max",
                       users, ct_max, ct);
    }
    long long avail_kb = proc_field("/proc/meminfo", "MemAvailable:", ":");
    if (avail_kb > 0) {
        uint64_t per = (uint64_t)RUN_USER_MEM_BYTES * (loop ? 2 : 1);
        limit_consider(&b, users, "client:memory", (uint64_t)avail_kb * 1024 / per,
                       "%d users need about %llu MiB (%llu KiB each%s) but %lld MiB are "
                       "available (MemAvailable)",
                       users, (unsigned long long)((uint64_t)users * per >> 20),
                       (unsigned long long)(per >> 10),
                       loop ? ", both ends of a loopback connection" : "", avail_kb >> 10);
    }
    if (b.name && why && n)
        mf_strlcpy(why, b.why, n);
    return b.name;
}
