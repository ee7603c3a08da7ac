/* common.h - the small shared pieces every part uses: the error struct, bounded
 * buffers, durations, clocks, shell quoting, SHA-256 and the quantile. Nothing
 * here prints. */
#ifndef MFBENCH_COMMON_H
#define MFBENCH_COMMON_H

#include <sched.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#if defined(__GNUC__)
#define MF_PRINTF(a, b) __attribute__((format(printf, a, b)))
#ifndef MF_MUST_CHECK
#define MF_MUST_CHECK __attribute__((warn_unused_result)) /* the result is an error code */
#endif
#else
#define MF_PRINTF(a, b)
#ifndef MF_MUST_CHECK
#define MF_MUST_CHECK
#endif
#endif

/* An error a caller owns. The first error set wins; later ones are ignored so
 * the message names the root cause. For input errors file/line/col are set
 * (line and col 1-based) and err_format() prints "file:line:col: message". */
struct err {
    int code; /* 0 = no error, else a negative errno-style code */
    int line, col;
    char file[256];
    char msg[768];
};

void err_clear(struct err *e);
/* Both return code, so `return err_set(e, -EINVAL, ...)` reads naturally. */
int err_set(struct err *e, int code, const char *fmt, ...) MF_PRINTF(3, 4);
int err_set_at(struct err *e, int code, const char *file, int line, int col, const char *fmt, ...)
    MF_PRINTF(6, 7);
/* "file:line:col: msg" when a position is known, else "msg". */
const char *err_format(const struct err *e, char *buf, size_t n);

/* A growable byte buffer with a hard cap. data is always NUL-terminated. */
struct buf {
    char *data;
    size_t len, cap;
    size_t max; /* 0 = default cap of 64 MiB */
};
void buf_init(struct buf *b, size_t max);
void buf_free(struct buf *b);
void buf_reset(struct buf *b);
/* 0, or -ENOMEM when allocation fails, or -E2BIG when the cap would be passed. */
MF_MUST_CHECK int buf_append(struct buf *b, const void *p, size_t n);
MF_MUST_CHECK int buf_puts(struct buf *b, const char *s);
MF_MUST_CHECK int buf_printf(struct buf *b, const char *fmt, ...) MF_PRINTF(2, 3);
MF_MUST_CHECK int buf_vprintf(struct buf *b, const char *fmt, va_list ap);
/* Appends s single-quoted for POSIX sh: 'it'\''s'. Safe for any bytes but NUL. */
MF_MUST_CHECK int buf_shquote(struct buf *b, const char *s);
/* Keeps only the last `lines` lines of b (for log tails). */
void buf_tail_lines(struct buf *b, int lines);

/* The limits every entry point holds a number to: the matrix key table (config/keys.c),
 * `mfbench load`'s flags (which go through that table) and the engine's own check. A value
 * past them is a typo or an attack, never a benchmark: one phase is at most a day (the
 * engine keeps a slot per second), a user is a socket (a million is past any one client
 * host), a spawn rate under 0.01/s would take over a day to start 1000 users. */
#define MF_DUR_MAX_MS (INT64_C(7) * 24 * 3600 * 1000) /* any duration: 7d */
#define MF_PHASE_MAX_MS (INT64_C(24) * 3600 * 1000)   /* one phase, a command: 1d */
#define MF_WAIT_MAX_MS (INT64_C(3600) * 1000)         /* think, timeouts, p99: 1h */
#define MF_MAX_USERS 1000000
#define MF_MAX_PIPELINE 1024
#define MF_MIN_SPAWN_RATE 0.01 /* users/s */
#define MF_MAX_SPAWN_RATE 1e6
#define MF_MAX_RATE 1e7                      /* open-loop requests/s */
#define MF_MAX_BODY_BYTES (16 * 1024 * 1024) /* the engine's default body cap */

/* Durations, one plain form: an unsigned decimal count and its unit, compound in strictly
 * decreasing units (d, h, m, s, ms): "500ms", "2s", "1m30s", "1h", "2d", "1d12h"; the last
 * part may carry a decimal fraction that makes whole milliseconds ("1.5s", "0.25s"); or
 * "0". No sign, space, hex, exponent or repeated unit. Returns 0 and sets *ms; -EINVAL
 * for another form; -ERANGE for a well-formed duration past MF_DUR_MAX_MS. */
MF_MUST_CHECK int dur_parse(const char *s, int64_t *ms);
/* The hint every "bad duration" message ends with. */
#define DUR_HINT "use e.g. 500ms, 2s, 1m30s"
/* Formats ms compactly ("1m30s", "500ms", "2s"). */
const char *dur_format(int64_t ms, char *buf, size_t n);

/* Clocks. */
uint64_t mono_ns(void);
int64_t mono_ms(void);
/* UTC ISO-8601 "2026-11-28T02:00:00Z" of a wall-clock time. */
const char *iso8601_utc(time_t t, char *buf, size_t n);

/* CPU lists as taskset -c reads them and the engine pins itself with: "1", "0-3", "0,2,4-5";
 * each range ascending, every CPU below CPU_SETSIZE, no spaces, signs or empty items. The
 * one parser of node.cpus, load.cpus and `mfbench load --cpus`. Returns 0 with set filled
 * (set may be NULL: only check), or -EINVAL with msg saying what is wrong. */
MF_MUST_CHECK int mf_cpus_parse(const char *s, cpu_set_t *set, char *msg, size_t n);

/* Strict integer parsing: the whole string, in [min,max]. 0 or -EINVAL/-ERANGE. */
MF_MUST_CHECK int parse_i64(const char *s, int64_t min, int64_t max, int64_t *out);
MF_MUST_CHECK int parse_double(const char *s, double *out);

/* SHA-256 (libcrypto's) as 64 lowercase hex digits plus NUL. sha256_init
 * allocates the digest context and sha256_hex frees it: every init is ended by
 * exactly one sha256_hex. A libcrypto failure (out of memory) aborts. */
struct sha256 {
    void *ctx; /* EVP_MD_CTX, private to sha256.c */
};
void sha256_init(struct sha256 *s);
void sha256_update(struct sha256 *s, const void *p, size_t n);
void sha256_hex(struct sha256 *s, char out[65]);
void sha256_string(const void *p, size_t n, char out[65]);

/* Safe string copy that always terminates; returns strlen(src). */
size_t mf_strlcpy(char *dst, const char *src, size_t n);
/* s made safe to print in a message: printable ASCII kept, a backslash doubled, every
 * other byte (control characters, ESC, bytes >= 0x80) written \\xNN. Cut to fit out
 * (never inside an escape) and always terminated; returns out. */
const char *mf_printable(const char *s, char *out, size_t n);
/* The folder of path into out: "." when path has no slash, "/" for "/x".
 * 0, or -ENAMETOOLONG when out is too short. */
MF_MUST_CHECK int mf_dirname(const char *path, char *out, size_t n);
/* strdup that returns NULL for NULL. Caller frees. */
char *mf_strdup(const char *s);
/* Reads a whole file (capped at max bytes) into b. 0 or negative errno with e set. */
MF_MUST_CHECK int mf_read_file(const char *path, size_t max, struct buf *b, struct err *e);

/* Folders mfbench trusts (trust.c). mf_dir_check: path (lstat, never followed) is a
 * folder owned by the effective uid, or by one of also_ok[0..n_also), and not writable
 * by group or others; else -EPERM with "WHAT PATH: owned by uid N (NAME) (not you, uid
 * M) and mode 0777: refusing (not yours, writable by others)" (a symbolic link: -EPERM;
 * not a folder: -ENOTDIR; missing: -ENOENT). */
MF_MUST_CHECK int mf_dir_check(const char *what, const char *path, const unsigned *also_ok,
                               size_t n_also, struct err *e);
/* Makes the absolute path a trusted folder: creates it and its missing parents with mode
 * 0700, refuses when a folder above it (real path) is neither ours nor root's or may be
 * written by others without the sticky bit, then mf_dir_check(path). */
MF_MUST_CHECK int mf_dir_make_trusted(const char *what, const char *path, struct err *e);

/* The one quantile: q in [0,1] of sorted[0..n) by linear interpolation between
 * order statistics (numpy's default, R's type 7). NAN when n is 0. */
double mf_quantile(const double *sorted, size_t n, double q);
/* Sorts v[0..n) ascending in place (NANs last). */
void mf_sort_doubles(double *v, size_t n);

#endif
