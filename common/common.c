/* common.c - errors, bounded buffers, durations, clocks and small string helpers.
 * Nothing here prints or keeps global state. */
#define _POSIX_C_SOURCE 200809L
#include "common.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void err_clear(struct err *e)
{
    memset(e, 0, sizeof(*e));
}

static int err_vset(struct err *e, int code, const char *file, int line, int col, const char *fmt,
                    va_list ap)
{
    if (!e || e->code != 0)
        return code;
    e->code = code ? code : -EINVAL;
    e->line = line;
    e->col = col;
    mf_strlcpy(e->file, file ? file : "", sizeof(e->file));
    vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
    return code;
}

int err_set(struct err *e, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    err_vset(e, code, NULL, 0, 0, fmt, ap);
    va_end(ap);
    return code;
}

int err_set_at(struct err *e, int code, const char *file, int line, int col, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    err_vset(e, code, file, line, col, fmt, ap);
    va_end(ap);
    return code;
}

const char *err_format(const struct err *e, char *buf, size_t n)
{
    if (e->file[0] && e->line > 0)
        snprintf(buf, n, "%s:%d:%d: %s", e->file, e->line, e->col, e->msg);
    else if (e->file[0])
        snprintf(buf, n, "%s: %s", e->file, e->msg);
    else
        snprintf(buf, n, "%s", e->msg);
    return buf;
}

/* ---- buffers ---- */

#define BUF_DEFAULT_MAX ((size_t)64 << 20)

void buf_init(struct buf *b, size_t max)
{
    b->data = NULL;
    b->len = b->cap = 0;
    b->max = max ? max : BUF_DEFAULT_MAX;
}

void buf_free(struct buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

void buf_reset(struct buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

static int buf_reserve(struct buf *b, size_t extra)
{
    size_t max = b->max ? b->max : BUF_DEFAULT_MAX;
    if (extra > max || b->len > max - extra)
        return -E2BIG;
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap *= 2;
    char *p = realloc(b->data, cap);
    if (!p)
        return -ENOMEM;
    b->data = p;
    b->cap = cap;
    return 0;
}

int buf_append(struct buf *b, const void *p, size_t n)
{
    int rc = buf_reserve(b, n);
    if (rc)
        return rc;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

int buf_puts(struct buf *b, const char *s)
{
    return buf_append(b, s, strlen(s));
}

int buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        return -EINVAL;
    int rc = buf_reserve(b, (size_t)n);
    if (rc)
        return rc;
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return 0;
}

int buf_printf(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = buf_vprintf(b, fmt, ap);
    va_end(ap);
    return rc;
}

int buf_shquote(struct buf *b, const char *s)
{
    int rc = buf_append(b, "'", 1);
    for (const char *p = s; !rc && *p; p++) {
        if (*p == '\'')
            rc = buf_append(b, "'\\''", 4);
        else
            rc = buf_append(b, p, 1);
    }
    return rc ? rc : buf_append(b, "'", 1);
}

void buf_tail_lines(struct buf *b, int lines)
{
    if (!b->data || b->len == 0 || lines <= 0)
        return;
    size_t end = b->len;
    while (end > 0 && b->data[end - 1] == '\n')
        end--;
    size_t i = end;
    int seen = 0;
    while (i > 0) {
        if (b->data[i - 1] == '\n' && ++seen == lines)
            break;
        i--;
    }
    memmove(b->data, b->data + i, end - i);
    b->len = end - i;
    b->data[b->len] = '\0';
}

/* ---- durations ---- */

/* The units of a duration, largest first: a compound duration uses them in this order. */
static const struct {
    const char *name;
    int64_t ms;
} dur_units[] = {{"d", 86400000}, {"h", 3600000}, {"ms", 1}, {"m", 60000}, {"s", 1000}};
static const int dur_rank[] = {0, 1, 4, 2, 3}; /* ms after s, though matched before m */

int dur_parse(const char *s, int64_t *ms)
{
    if (!s || !*s)
        return -EINVAL;
    if (strcmp(s, "0") == 0) {
        *ms = 0;
        return 0;
    }
    int64_t total = 0;
    int last = -1;
    int over = 0; /* well-formed so far but past MF_DUR_MAX_MS: -ERANGE once the form is known */
    const char *p = s;
    while (*p) {
        if (*p < '0' || *p > '9')
            return -EINVAL;
        int64_t whole = 0, frac = 0, scale = 1;
        for (; *p >= '0' && *p <= '9'; p++) {
            if (whole > MF_DUR_MAX_MS)
                over = 1; /* keep reading digits, never overflow */
            else
                whole = whole * 10 + (*p - '0');
        }
        if (*p == '.') {
            p++;
            if (*p < '0' || *p > '9')
                return -EINVAL;
            for (; *p >= '0' && *p <= '9'; p++) {
                if (scale >= 1000000)
                    return -EINVAL; /* finer than any unit's millisecond */
                frac = frac * 10 + (*p - '0');
                scale *= 10;
            }
        }
        size_t u = 0, nu = sizeof(dur_units) / sizeof(dur_units[0]);
        while (u < nu && strncmp(p, dur_units[u].name, strlen(dur_units[u].name)) != 0)
            u++;
        if (u == nu || dur_rank[u] <= last)
            return -EINVAL; /* no unit, an unknown one, or not in decreasing order */
        last = dur_rank[u];
        p += strlen(dur_units[u].name);
        if (scale > 1 && *p)
            return -EINVAL; /* only the last part has a fraction */
        int64_t mult = dur_units[u].ms;
        if (frac * mult % scale)
            return -EINVAL; /* not a whole number of milliseconds */
        if (over || whole > MF_DUR_MAX_MS / mult) {
            over = 1;
            continue;
        }
        total += whole * mult + frac * mult / scale;
        if (total > MF_DUR_MAX_MS)
            over = 1;
    }
    if (over)
        return -ERANGE;
    *ms = total;
    return 0;
}

const char *dur_format(int64_t ms, char *buf, size_t n)
{
    if (ms == 0 || (ms < 1000)) {
        snprintf(buf, n, "%lldms", (long long)ms);
    } else if (ms % 1000 != 0) {
        snprintf(buf, n, "%.3fs", (double)ms / 1000.0);
    } else if (ms % 60000 == 0 && ms >= 60000) {
        snprintf(buf, n, "%lldm", (long long)(ms / 60000));
    } else {
        snprintf(buf, n, "%llds", (long long)(ms / 1000));
    }
    return buf;
}

/* ---- clocks ---- */

uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int64_t mono_ms(void)
{
    return (int64_t)(mono_ns() / 1000000ull);
}

const char *iso8601_utc(time_t t, char *buf, size_t n)
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

/* ---- parsing ---- */

int mf_cpus_parse(const char *s, cpu_set_t *set, char *msg, size_t n)
{
    cpu_set_t tmp;
    cpu_set_t *out = set ? set : &tmp;
    CPU_ZERO(out);
    if (!s || !*s) {
        snprintf(msg, n, "empty CPU list");
        return -EINVAL;
    }
    const char *p = s;
    while (1) {
        long lo = -1, hi = -1;
        for (int side = 0; side < 2; side++) {
            if (*p < '0' || *p > '9') {
                snprintf(msg, n, "bad CPU list \"%s\" (use e.g. 1, 0-3 or 0,2)", s);
                return -EINVAL;
            }
            long v = 0;
            for (; *p >= '0' && *p <= '9'; p++)
                v = v < CPU_SETSIZE ? v * 10 + (*p - '0') : v; /* stops growing: no overflow */
            if (v >= CPU_SETSIZE) {
                snprintf(msg, n, "CPU list \"%s\": CPUs go from 0 to %d", s, CPU_SETSIZE - 1);
                return -EINVAL;
            }
            if (side == 0)
                lo = v;
            hi = v;
            if (side == 1 || *p != '-')
                break;
            p++;
        }
        if (hi < lo) {
            snprintf(msg, n, "CPU list \"%s\": range %ld-%ld goes down (write %ld-%ld)", s, lo, hi,
                     hi, lo);
            return -EINVAL;
        }
        for (long c = lo; c <= hi; c++)
            CPU_SET((int)c, out);
        if (!*p)
            return 0;
        if (*p != ',') {
            snprintf(msg, n, "bad CPU list \"%s\" (use e.g. 1, 0-3 or 0,2)", s);
            return -EINVAL;
        }
        p++;
    }
}

int parse_i64(const char *s, int64_t min, int64_t max, int64_t *out)
{
    if (!s || !*s)
        return -EINVAL;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (*end != '\0' || end == s)
        return -EINVAL;
    if (errno == ERANGE || v < min || v > max)
        return -ERANGE;
    *out = v;
    return 0;
}

int parse_double(const char *s, double *out)
{
    if (!s || !*s)
        return -EINVAL;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (*end != '\0' || end == s || errno || !isfinite(v))
        return -EINVAL;
    *out = v;
    return 0;
}

size_t mf_strlcpy(char *dst, const char *src, size_t n)
{
    size_t len = strlen(src);
    if (n) {
        size_t c = len < n - 1 ? len : n - 1;
        memcpy(dst, src, c);
        dst[c] = '\0';
    }
    return len;
}

const char *mf_printable(const char *s, char *out, size_t n)
{
    if (!n)
        return out;
    size_t j = 0;
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        char esc[5];
        size_t len = 1;
        if (ch == '\\')
            esc[0] = esc[1] = '\\', len = 2;
        else if (ch >= 0x20 && ch < 0x7f)
            esc[0] = (char)ch;
        else
            len = (size_t)snprintf(esc, sizeof(esc), "\\x%02x", ch);
        if (j + len >= n)
            break;
        memcpy(out + j, esc, len);
        j += len;
    }
    out[j] = '\0';
    return out;
}

int mf_dirname(const char *path, char *out, size_t n)
{
    if (mf_strlcpy(out, path, n) >= n)
        return -ENAMETOOLONG;
    char *slash = strrchr(out, '/');
    if (!slash)
        mf_strlcpy(out, ".", n);
    else if (slash == out)
        out[1] = '\0';
    else
        *slash = '\0';
    return 0;
}

char *mf_strdup(const char *s)
{
    return s ? strdup(s) : NULL;
}

int mf_read_file(const char *path, size_t max, struct buf *b, struct err *e)
{
    /* O_NONBLOCK: a FIFO (or a device) must not block the open; it is refused
     * right after. A regular file reads the same with or without it. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0) {
        int rc = -errno;
        return err_set(e, rc, "%s: %s", path, strerror(errno));
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return err_set(e, -EINVAL, "%s: not a regular file", path);
    }
    char tmp[65536];
    for (;;) {
        ssize_t n = read(fd, tmp, sizeof(tmp));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            int rc = -errno;
            close(fd);
            return err_set(e, rc, "%s: %s", path, strerror(-rc));
        }
        if (n == 0)
            break;
        if (b->len + (size_t)n > max) {
            close(fd);
            return err_set(e, -E2BIG, "%s: larger than %zu bytes", path, max);
        }
        int rc = buf_append(b, tmp, (size_t)n);
        if (rc) {
            close(fd);
            return err_set(e, rc, "%s: %s", path, strerror(-rc));
        }
    }
    close(fd);
    if (!b->data && buf_append(b, "", 0) != 0) /* an empty file is "", not NULL */
        return err_set(e, -ENOMEM, "%s: out of memory", path);
    return 0;
}

/* NANs sort last so the order is total and qsort stays well defined. */
static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    if (isnan(x) || isnan(y))
        return isnan(x) - isnan(y);
    return (x > y) - (x < y);
}

void mf_sort_doubles(double *v, size_t n)
{
    if (n > 1)
        qsort(v, n, sizeof(*v), cmp_double);
}

double mf_quantile(const double *sorted, size_t n, double q)
{
    if (n == 0)
        return NAN;
    if (q <= 0)
        return sorted[0];
    if (q >= 1)
        return sorted[n - 1];
    double h = (double)(n - 1) * q;
    size_t i = (size_t)floor(h);
    if (i + 1 >= n)
        return sorted[n - 1];
    return sorted[i] + (h - (double)i) * (sorted[i + 1] - sorted[i]);
}
