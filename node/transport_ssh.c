/* transport_ssh.c - the ssh transport over libssh2: one nonblocking session for
 * the node's life, the host key checked against known_hosts, public-key auth,
 * one exec channel per command. Every step polls against a deadline, so a node
 * that stops answering never hangs mfbench. Only this file includes libssh2.h. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libssh2.h>

#include "node.h"

#define SSH_CONNECT_MS 10000
#define SSH_CLOSE_MS 2000

struct ssh_node {
    int sock;
    LIBSSH2_SESSION *s;
    int broken;      /* a timeout left the session mid-protocol: refuse further use */
    char where[300]; /* "host:port" for messages */
};

static pthread_once_t ssh2_once = PTHREAD_ONCE_INIT;
static int ssh2_init_rc;

static void ssh2_init(void)
{
    ssh2_init_rc = libssh2_init(0);
}

static const char *last_error(LIBSSH2_SESSION *s)
{
    char *msg = NULL;
    libssh2_session_last_error(s, &msg, NULL, 0);
    return msg && *msg ? msg : "unknown libssh2 error";
}

/* Waits until the socket is ready in the direction libssh2 is blocked on.
 * -ETIMEDOUT once the deadline passes. */
static int wait_socket(struct ssh_node *sn, int64_t deadline)
{
    int64_t left = deadline - mono_ms();
    if (left <= 0)
        return -ETIMEDOUT;
    int dir = libssh2_session_block_directions(sn->s);
    struct pollfd pf = {.fd = sn->sock, .events = 0};
    if (dir & LIBSSH2_SESSION_BLOCK_INBOUND)
        pf.events |= POLLIN;
    if (dir & LIBSSH2_SESSION_BLOCK_OUTBOUND)
        pf.events |= POLLOUT;
    if (!pf.events)
        pf.events = POLLIN;
    poll(&pf, 1, left > 100 ? 100 : (int)left);
    return 0;
}

/* Runs a libssh2 call that returns LIBSSH2_ERROR_EAGAIN until it completes. */
#define SSH_RETRY(sn, deadline, rcvar, call)                                                       \
    do {                                                                                           \
        while (((rcvar) = (call)) == LIBSSH2_ERROR_EAGAIN) {                                       \
            if (wait_socket((sn), (deadline)) < 0) {                                               \
                (rcvar) = LIBSSH2_ERROR_TIMEOUT;                                                   \
                break;                                                                             \
            }                                                                                      \
        }                                                                                          \
    } while (0)

/* ---- connect ---- */

static int tcp_connect(const char *host, int port, int64_t timeout_ms, int *out, struct err *e)
{
    char ports[16];
    snprintf(ports, sizeof ports, "%d", port);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res = NULL;
    int g = getaddrinfo(host, ports, &hints, &res);
    if (g)
        return err_set(e, -EHOSTUNREACH, "ssh %s:%d: %s", host, port, gai_strerror(g));
    int64_t deadline = mono_ms() + timeout_ms;
    int rc = -EHOSTUNREACH;
    for (struct addrinfo *a = res; a; a = a->ai_next) {
        int fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0) {
            rc = -errno;
            continue;
        }
        if (connect(fd, a->ai_addr, a->ai_addrlen) < 0 && errno != EINPROGRESS) {
            rc = -errno;
            close(fd);
            continue;
        }
        rc = -ETIMEDOUT;
        for (;;) {
            int64_t left = deadline - mono_ms();
            if (left <= 0)
                break;
            struct pollfd pf = {.fd = fd, .events = POLLOUT};
            int p = poll(&pf, 1, left > 1000 ? 1000 : (int)left);
            if (p > 0) {
                int soerr = 0;
                socklen_t sl = sizeof soerr;
                getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
                rc = soerr ? -soerr : 0;
                break;
            }
        }
        if (rc == 0) {
            *out = fd;
            freeaddrinfo(res);
            return 0;
        }
        close(fd);
        if (rc == -ETIMEDOUT)
            break;
    }
    freeaddrinfo(res);
    if (rc == -ETIMEDOUT)
        return err_set(e, rc, "ssh connect to %s:%d: no answer after %lldms", host, port,
                       (long long)timeout_ms);
    return err_set(e, rc, "ssh connect to %s:%d: %s", host, port, strerror(-rc));
}

/* ---- host key ---- */

static void base64_nopad(const unsigned char *p, size_t n, char *out, size_t outn)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t j = 0;
    for (size_t i = 0; i < n && j + 5 < outn; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)p[i + 1] << 8;
        if (i + 2 < n)
            v |= p[i + 2];
        out[j++] = tab[(v >> 18) & 63];
        out[j++] = tab[(v >> 12) & 63];
        if (i + 1 < n)
            out[j++] = tab[(v >> 6) & 63];
        if (i + 2 < n)
            out[j++] = tab[v & 63];
    }
    out[j] = '\0';
}

static int knownhost_keybit(int type)
{
    switch (type) {
    case LIBSSH2_HOSTKEY_TYPE_RSA:
        return LIBSSH2_KNOWNHOST_KEY_SSHRSA;
    case LIBSSH2_HOSTKEY_TYPE_DSS:
        return LIBSSH2_KNOWNHOST_KEY_SSHDSS;
#ifdef LIBSSH2_HOSTKEY_TYPE_ECDSA_256
    case LIBSSH2_HOSTKEY_TYPE_ECDSA_256:
        return LIBSSH2_KNOWNHOST_KEY_ECDSA_256;
    case LIBSSH2_HOSTKEY_TYPE_ECDSA_384:
        return LIBSSH2_KNOWNHOST_KEY_ECDSA_384;
    case LIBSSH2_HOSTKEY_TYPE_ECDSA_521:
        return LIBSSH2_KNOWNHOST_KEY_ECDSA_521;
#endif
#ifdef LIBSSH2_HOSTKEY_TYPE_ED25519
    case LIBSSH2_HOSTKEY_TYPE_ED25519:
        return LIBSSH2_KNOWNHOST_KEY_ED25519;
#endif
    default:
        return LIBSSH2_KNOWNHOST_KEY_UNKNOWN;
    }
}

static int check_host_key(struct ssh_node *sn, const char *host, int port, const char *known_hosts,
                          struct err *e)
{
    size_t klen = 0;
    int ktype = 0;
    const char *key = libssh2_session_hostkey(sn->s, &klen, &ktype);
    if (!key)
        return err_set(e, -EPROTO, "ssh %s: no host key: %s", sn->where, last_error(sn->s));
    char fp[64] = "SHA256:";
    const char *h = libssh2_hostkey_hash(sn->s, LIBSSH2_HOSTKEY_HASH_SHA256);
    if (h)
        base64_nopad((const unsigned char *)h, 32, fp + 7, sizeof fp - 7);
    else
        mf_strlcpy(fp, "(SHA256 fingerprint unavailable)", sizeof fp);

    LIBSSH2_KNOWNHOSTS *kh = libssh2_knownhost_init(sn->s);
    if (!kh)
        return err_set(e, -ENOMEM, "ssh %s: libssh2_knownhost_init failed", sn->where);
    int nread = libssh2_knownhost_readfile(kh, known_hosts, LIBSSH2_KNOWNHOST_FILE_OPENSSH);
    struct libssh2_knownhost *entry = NULL;
    int check = LIBSSH2_KNOWNHOST_CHECK_NOTFOUND;
    if (nread >= 0)
        check = libssh2_knownhost_checkp(kh, host, port, key, klen,
                                         LIBSSH2_KNOWNHOST_TYPE_PLAIN |
                                             LIBSSH2_KNOWNHOST_KEYENC_RAW | knownhost_keybit(ktype),
                                         &entry);
    libssh2_knownhost_free(kh);
    switch (check) {
    case LIBSSH2_KNOWNHOST_CHECK_MATCH:
        return 0;
    case LIBSSH2_KNOWNHOST_CHECK_MISMATCH:
        return err_set(e, -EPERM,
                       "ssh %s: HOST KEY CHANGED: the server's key %s does not match the one in "
                       "%s; refusing to connect (a different machine, or the key was regenerated)",
                       sn->where, fp, known_hosts);
    case LIBSSH2_KNOWNHOST_CHECK_NOTFOUND:
        if (nread < 0)
            return err_set(e, -EPERM,
                           "ssh %s: unknown host key %s: cannot read known_hosts %s; check the "
                           "fingerprint, then add the key (ssh-keyscan -p %d %s >> %s)",
                           sn->where, fp, known_hosts, port, host, known_hosts);
        return err_set(e, -EPERM,
                       "ssh %s: unknown host key %s: not in known_hosts %s; check the "
                       "fingerprint, then add the key (ssh-keyscan -p %d %s >> %s)",
                       sn->where, fp, known_hosts, port, host, known_hosts);
    default:
        return err_set(e, -EIO, "ssh %s: host key check against %s failed: %s", sn->where,
                       known_hosts, last_error(sn->s));
    }
}

/* ---- exec ---- */

static int signal_number(const char *name, size_t len)
{
    static const struct {
        const char *name;
        int num;
    } tab[] = {{"HUP", 1},   {"INT", 2},   {"QUIT", 3},  {"ILL", 4},   {"ABRT", 6},
               {"FPE", 8},   {"KILL", 9},  {"USR1", 10}, {"SEGV", 11}, {"USR2", 12},
               {"PIPE", 13}, {"ALRM", 14}, {"TERM", 15}, {"BUS", 7},   {"SYS", 31}};
    for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++)
        if (strlen(tab[i].name) == len && memcmp(tab[i].name, name, len) == 0)
            return tab[i].num;
    return 0;
}

/* Closes and frees a channel within a deadline of its own (close_ms), reading
 * the exit status (128+signal when killed) on the way when status is set. */
static void channel_finish(struct ssh_node *sn, LIBSSH2_CHANNEL *ch, int *status, int64_t close_ms)
{
    int64_t dl = mono_ms() + close_ms;
    int cr;
    SSH_RETRY(sn, dl, cr, libssh2_channel_close(ch));
    if (cr == 0)
        SSH_RETRY(sn, dl, cr, libssh2_channel_wait_closed(ch));
    if (cr == LIBSSH2_ERROR_TIMEOUT)
        sn->broken = 1;
    if (status) {
        char *sig = NULL;
        size_t siglen = 0;
        libssh2_channel_get_exit_signal(ch, &sig, &siglen, NULL, NULL, NULL, NULL);
        if (sig && siglen)
            *status = 128 + signal_number(sig, siglen);
        else
            *status = libssh2_channel_get_exit_status(ch);
        if (sig)
            libssh2_free(sn->s, sig);
    }
    SSH_RETRY(sn, dl, cr, libssh2_channel_free(ch));
    if (cr == LIBSSH2_ERROR_TIMEOUT)
        sn->broken = 1;
}

/* The node's own `timeout` gets this many whole seconds for a command of timeout_ms. */
static long node_secs(int64_t timeout_ms)
{
    return (long)((timeout_ms + 999) / 1000) + 1;
}

/* How long the channel's close is waited for after a command: after a timeout
 * the node's own `timeout` ends the command (secs after it started there,
 * SIGKILL 2 s later) and only then does sshd close the channel: wait for that,
 * plus how late the remote start may have been (a slow login shell), rather
 * than give up on the session. */
static int64_t channel_close_ms(int64_t timeout_ms, int timed_out)
{
    return timed_out ? SSH_CLOSE_MS + (node_secs(timeout_ms) + 2) * 1000 - timeout_ms + 3000
                     : SSH_CLOSE_MS;
}

int64_t node__ssh_after_timeout_ms(int64_t timeout_ms)
{
    /* channel_finish's waits (close, wait closed, free) share one deadline. */
    return channel_close_ms(timeout_ms, 1);
}

int64_t node__ssh_session_ms(const struct cfg_node *cfg)
{
    int64_t t = node_cmd_timeout_ms(cfg);
    int64_t step = t < SSH_CONNECT_MS ? t : SSH_CONNECT_MS;
    return 3 * step + SSH_CLOSE_MS; /* connect, handshake, authentication; the disconnect */
}

static int ssh_exec_in(struct node *n, const char *cmd, const void *in, size_t in_len,
                       int64_t timeout_ms, struct buf *out, int *status, struct err *e)
{
    struct ssh_node *sn = n->impl;
    if (status)
        *status = -1;
    if (sn->broken)
        return err_set(e, -EIO, "ssh %s: session unusable after an earlier timeout", sn->where);
    if (timeout_ms <= 0)
        timeout_ms = node__cmd_timeout(n);
    int64_t deadline = mono_ms() + timeout_ms;

    /* The node kills the command too: closing the channel alone does not. */
    struct buf w;
    buf_init(&w, 0);
    long secs = node_secs(timeout_ms);
    if (buf_printf(&w, "if command -v timeout >/dev/null 2>&1; then exec timeout -k 2 %ld sh -c ",
                   secs) ||
        buf_shquote(&w, cmd) || buf_puts(&w, "; else exec sh -c ") || buf_shquote(&w, cmd) ||
        buf_puts(&w, "; fi")) {
        buf_free(&w);
        return err_set(e, -ENOMEM, "out of memory");
    }

    LIBSSH2_CHANNEL *ch = NULL;
    int rc = 0;
    while (!(ch = libssh2_channel_open_session(sn->s)) &&
           libssh2_session_last_errno(sn->s) == LIBSSH2_ERROR_EAGAIN) {
        if (wait_socket(sn, deadline) < 0)
            break;
    }
    if (!ch) {
        if (mono_ms() >= deadline) {
            sn->broken = 1;
            rc = err_set(e, -ETIMEDOUT, "ssh %s: opening a channel timed out", sn->where);
        } else {
            rc =
                err_set(e, -EIO, "ssh %s: cannot open a channel: %s", sn->where, last_error(sn->s));
        }
        buf_free(&w);
        return rc;
    }
    libssh2_channel_handle_extended_data2(ch, LIBSSH2_CHANNEL_EXTENDED_DATA_MERGE);
    int r;
    SSH_RETRY(sn, deadline, r, libssh2_channel_exec(ch, w.data));
    buf_free(&w);
    if (r < 0) {
        rc = r == LIBSSH2_ERROR_TIMEOUT ? -ETIMEDOUT : -EIO;
        err_set(e, rc, "ssh %s: exec failed: %s", sn->where,
                r == LIBSSH2_ERROR_TIMEOUT ? "timed out" : last_error(sn->s));
        goto close;
    }

    size_t in_off = 0;
    int eof_sent = 0;
    char chunk[16384];
    for (;;) {
        int progress = 0;
        if (!eof_sent && in && in_off < in_len) {
            size_t want = in_len - in_off < 32768 ? in_len - in_off : 32768;
            ssize_t wr = libssh2_channel_write(ch, (const char *)in + in_off, want);
            if (wr > 0) {
                in_off += (size_t)wr;
                progress = 1;
            } else if (wr != LIBSSH2_ERROR_EAGAIN) {
                /* The command stopped reading; its exit status will say why. */
                in_off = in_len;
            }
        }
        if (!eof_sent && (!in || in_off >= in_len)) {
            int s = libssh2_channel_send_eof(ch);
            if (s == 0 || s != LIBSSH2_ERROR_EAGAIN)
                eof_sent = 1;
        }
        ssize_t rd = libssh2_channel_read(ch, chunk, sizeof chunk);
        if (rd > 0) {
            node__out_append(out, chunk, (size_t)rd);
            progress = 1;
        } else if (rd == 0 || rd != LIBSSH2_ERROR_EAGAIN) {
            if (rd < 0) {
                rc = err_set(e, -EIO, "ssh %s: read failed: %s", sn->where, last_error(sn->s));
                goto close;
            }
            if (libssh2_channel_eof(ch) && eof_sent)
                break;
        }
        if (mono_ms() >= deadline) {
            rc = -ETIMEDOUT;
            break;
        }
        if (!progress && wait_socket(sn, deadline) < 0) {
            rc = -ETIMEDOUT;
            break;
        }
    }
    if (rc == -ETIMEDOUT) {
        err_set(e, -ETIMEDOUT, "command timed out after %lldms on %s: %.120s%s",
                (long long)timeout_ms, sn->where, cmd, strlen(cmd) > 120 ? "..." : "");
        goto close;
    }

close:
    channel_finish(sn, ch, rc == 0 ? status : NULL, channel_close_ms(timeout_ms, rc == -ETIMEDOUT));
    return rc;
}

static int ssh_exec(struct node *n, const char *cmd, int64_t timeout_ms, struct buf *out,
                    int *status, struct err *e)
{
    return ssh_exec_in(n, cmd, NULL, 0, timeout_ms, out, status, e);
}

/* A fresh temporary beside remote_path (mktemp: O_EXCL, mode 0600, under umask 077),
 * filled, given its mode, then renamed over remote_path (mv -T: a planted link or
 * folder at the target is replaced, never followed). */
static int ssh_put_file(struct node *n, const char *remote_path, const void *data, size_t len,
                        int mode, struct err *e)
{
    struct buf c, out;
    buf_init(&c, 0);
    buf_init(&out, 64 << 10);
    const char *slash = strrchr(remote_path, '/');
    char *dir = slash && slash != remote_path ? strndup(remote_path, (size_t)(slash - remote_path))
                                              : mf_strdup(slash ? "/" : ".");
    char tmpl[1100];
    int rc = 0;
    if (node__tmp_template(remote_path, tmpl, sizeof tmpl) != 0) {
        rc = err_set(e, -ENAMETOOLONG, "path too long: %.200s", remote_path);
        goto done;
    }
    if (!dir || buf_puts(&c, "umask 077 && mkdir -p ") || buf_shquote(&c, dir) ||
        buf_puts(&c, " && t=$(mktemp ") || buf_shquote(&c, tmpl) ||
        buf_printf(&c, ") && { cat >\"$t\" && chmod %o \"$t\" && mv -fT \"$t\" ",
                   (unsigned)mode & 07777) ||
        buf_shquote(&c, remote_path) || buf_puts(&c, " || { rm -f \"$t\"; exit 1; }; }")) {
        rc = err_set(e, -ENOMEM, "out of memory");
        goto done;
    }
    int status = -1;
    rc = ssh_exec_in(n, c.data, data, len, node__cmd_timeout(n), &out, &status, e);
    if (rc == 0 && status != 0) {
        buf_tail_lines(&out, 5);
        rc = err_set(e, -EIO, "ssh %s: writing %s failed (exit %d): %s",
                     ((struct ssh_node *)n->impl)->where, remote_path, status,
                     out.data ? out.data : "");
    }
done:
    free(dir);
    buf_free(&c);
    buf_free(&out);
    return rc;
}

/* The workdir check, run on the node by its sh with the folder in $w ("" = the
 * default): the same rules and messages as the local node's (common/trust.c). Exit
 * 3 (4: not a folder) with a "mfbench-refused: " line on a refusal;
 * "mfbench-workdir=PATH" when done. */
static const char workdir_sh[] =
    "umask 077\n"
    "what='node workdir'\n"
    "no() { printf 'mfbench-refused: %s\\n' \"$1\"; exit 3; }\n"
    "case $w in ''|'~/'*) case ${HOME-} in /?*) ;; *) no \"$what ${w:-(default)}: the ssh "
    "user's \\$HOME (${HOME-}) is not an absolute path\" ;; esac ;; esac\n"
    "case $w in '') w=${HOME%/}/.cache/mfbench/node ;; '~/'*) w=${HOME%/}/${w#??} ;; esac\n"
    "case $w in /?*) ;; *) no \"$what $w: must be an absolute path below /\" ;; esac\n"
    "while [ \"${w%/}\" != \"$w\" ]; do w=${w%/}; done\n"
    "me=$(id -u) || exit 2\n"
    /* st PATH: u = owner uid, m = permission bits, t = file type bits (lstat). */
    "st() { s=$(stat -c '%u %f' -- \"$1\") || no \"$what: cannot stat $1\"; u=${s% *};\n"
    "  f=$((0x${s#* })); m=$((f & 4095)); t=$((f & 61440)); }\n"
    "desc() { if [ \"$u\" = \"$me\" ]; then o=\"owned by you (uid $me)\"; else\n"
    "  nm=$(id -nu \"$u\" 2>/dev/null) || nm=; o=\"owned by uid $u${nm:+ ($nm)} (not you, uid "
    "$me)\"; fi\n"
    "  o=\"$o and mode $(printf %04o \"$m\")\"; }\n"
    "why() { r=; [ \"$1\" = 1 ] && r='not yours'\n"
    "  if [ $((m & 2)) != 0 ]; then r=\"${r:+$r, }writable by others\";\n"
    "  elif [ $((m & 16)) != 0 ]; then r=\"${r:+$r, }writable by its group\"; fi; }\n"
    "check() { st \"$1\"\n"
    "  [ \"$t\" = 40960 ] && no \"$2 $1: a symbolic link: refusing (it must be a real folder)\"\n"
    "  [ \"$t\" = 16384 ] || { printf 'mfbench-refused: %s\\n' \"$2 $1: not a folder\"; exit 4; }\n"
    "  b=0; [ \"$u\" = \"$me\" ] || b=1\n"
    "  if [ $b = 1 ] || [ $((m & 18)) != 0 ]; then desc; why $b; no \"$2 $1: $o: refusing ($r)\";"
    " fi; }\n"
    "p=${w%/*}; [ -n \"$p\" ] || p=/\n"
    "mkdir -p -- \"$p\" || no \"$what: cannot create $p\"\n"
    "rp=$(cd -P -- \"$p\" && pwd -P) || no \"$what: cannot enter $p\"\n"
    /* Every folder above, from /: ours or root's, and sticky when others may write. */
    "a=/\n"
    "while :; do st \"$a\"\n"
    "  bo=0; [ \"$u\" = \"$me\" ] || [ \"$u\" = 0 ] || bo=1\n"
    "  bw=0; [ $((m & 18)) != 0 ] && [ $((m & 512)) = 0 ] && bw=1\n"
    "  if [ $bo = 1 ] || [ $bw = 1 ]; then desc\n"
    "    if [ $bw = 1 ]; then why 0; else r=\"neither yours nor root's\"; fi\n"
    "    no \"$what $w: the folder $a above it is $o: refusing ($r: another user could replace "
    "what is in it)\"; fi\n"
    "  [ \"$a\" = \"$rp\" ] && break\n"
    "  rest=${rp#\"$a\"}; rest=${rest#/}; a=${a%/}/${rest%%/*}\n"
    "done\n"
    "[ -e \"$w\" ] || [ -L \"$w\" ] || mkdir -- \"$w\" 2>/dev/null || [ -d \"$w\" ] ||"
    " no \"$what: cannot create $w\"\n"
    "check \"$w\" \"$what\"\n"
    "for d in ";

static int ssh_workdir(struct node *n, const char *path, char *out, size_t outn, struct err *e)
{
    struct ssh_node *sn = n->impl;
    struct buf c, o;
    buf_init(&c, 0);
    buf_init(&o, 64 << 10);
    int rc = buf_puts(&c, "w=");
    rc = rc ? rc : buf_shquote(&c, path ? path : "");
    rc = rc ? rc : buf_puts(&c, "\n");
    rc = rc ? rc : buf_puts(&c, workdir_sh);
    for (size_t i = 0; !rc && node__workdir_subdirs[i]; i++) {
        rc = buf_shquote(&c, node__workdir_subdirs[i]);
        rc = rc ? rc : buf_puts(&c, " ");
    }
    rc = rc ? rc
            : buf_puts(&c, "; do [ -e \"$w/$d\" ] || [ -L \"$w/$d\" ] || mkdir -- \"$w/$d\" ||"
                           " no \"$what: cannot create $w/$d\"\n"
                           "  check \"$w/$d\" \"$what folder\"; done\n"
                           "printf 'mfbench-workdir=%s\\n' \"$w\"\n");
    if (rc) {
        rc = err_set(e, -ENOMEM, "out of memory");
        goto done;
    }
    int status = -1;
    rc = ssh_exec_in(n, c.data, NULL, 0, node__cmd_timeout(n), &o, &status, e);
    if (rc)
        goto done;
    /* The marker lines stand on their own: a login shell may print other lines. */
    const char *txt = o.data ? o.data : "", *found = NULL, *refused = NULL;
    for (const char *l = txt; *l;) {
        if (strncmp(l, "mfbench-workdir=", 16) == 0)
            found = l + 16;
        else if (strncmp(l, "mfbench-refused: ", 17) == 0)
            refused = l + 17;
        const char *nl = strchr(l, '\n');
        l = nl ? nl + 1 : l + strlen(l);
    }
    if ((status == 3 || status == 4) && refused) {
        int len = (int)strcspn(refused, "\n");
        rc = err_set(e, status == 4 ? -ENOTDIR : -EPERM, "ssh %s: %.*s", sn->where, len, refused);
    } else if (status != 0 || !found) {
        buf_tail_lines(&o, 5);
        rc = err_set(e, -EIO, "ssh %s: preparing the node workdir failed (exit %d): %s", sn->where,
                     status, txt);
    } else {
        size_t len = strcspn(found, "\n");
        if (len >= outn) {
            rc = err_set(e, -ENAMETOOLONG, "ssh %s: node workdir path too long", sn->where);
        } else {
            memcpy(out, found, len);
            out[len] = '\0';
        }
    }
done:
    buf_free(&c);
    buf_free(&o);
    return rc;
}

static void ssh_free(struct ssh_node *sn, int disconnect)
{
    if (sn->s) {
        if (disconnect && !sn->broken) {
            int64_t dl = mono_ms() + SSH_CLOSE_MS;
            int rc;
            SSH_RETRY(sn, dl, rc,
                      libssh2_session_disconnect_ex(sn->s, SSH_DISCONNECT_BY_APPLICATION,
                                                    "mfbench done", ""));
            (void)rc;
        }
        libssh2_session_free(sn->s);
    }
    if (sn->sock >= 0)
        close(sn->sock);
    free(sn);
}

static void ssh_close(struct node *n)
{
    if (n->impl)
        ssh_free(n->impl, 1);
    n->impl = NULL;
}

static const struct node_ops ssh_ops = {
    .name = "ssh",
    .exec = ssh_exec,
    .put_file = ssh_put_file,
    .close = ssh_close,
    .exec_in = ssh_exec_in,
    .workdir = ssh_workdir,
};

/* ~/x paths and defaults that live in the home folder. */
static void home_path(char *dst, size_t n, const char *rest)
{
    const char *home = getenv("HOME");
    if (!home || !*home) {
        struct passwd *pw = getpwuid(getuid());
        home = pw ? pw->pw_dir : "/";
    }
    snprintf(dst, n, "%s/%s", home, rest);
}

static void expand(char *dst, size_t n, const char *path, const char *dflt)
{
    if (!path || !*path)
        home_path(dst, n, dflt);
    else if (path[0] == '~' && path[1] == '/')
        home_path(dst, n, path + 2);
    else
        mf_strlcpy(dst, path, n);
}

int node__open_ssh(const struct cfg_node *cfg, struct node *n, struct err *e)
{
    pthread_once(&ssh2_once, ssh2_init);
    if (ssh2_init_rc)
        return err_set(e, -EIO, "libssh2_init failed (%d)", ssh2_init_rc);
    struct ssh_node *sn = calloc(1, sizeof *sn);
    if (!sn)
        return err_set(e, -ENOMEM, "out of memory");
    sn->sock = -1;
    int port = cfg->port > 0 ? cfg->port : 22;
    snprintf(sn->where, sizeof sn->where, "%s:%d", n->host, port);
    int64_t step = node__cmd_timeout(n) < SSH_CONNECT_MS ? node__cmd_timeout(n) : SSH_CONNECT_MS;
    char identity[1024], pub[1100], known[1024], user[256];
    expand(identity, sizeof identity, cfg->identity, ".ssh/id_ed25519");
    expand(known, sizeof known, cfg->known_hosts, ".ssh/known_hosts");
    if (cfg->user && *cfg->user) {
        mf_strlcpy(user, cfg->user, sizeof user);
    } else {
        struct passwd *pw = getpwuid(getuid());
        mf_strlcpy(user, pw ? pw->pw_name : "root", sizeof user);
    }
    snprintf(pub, sizeof pub, "%s.pub", identity);
    struct stat st;
    int have_pub = stat(pub, &st) == 0;

    int rc = tcp_connect(n->host, port, step, &sn->sock, e);
    if (rc)
        goto fail;
    sn->s = libssh2_session_init();
    if (!sn->s) {
        rc = err_set(e, -ENOMEM, "libssh2_session_init failed");
        goto fail;
    }
    libssh2_session_set_blocking(sn->s, 0);
    int64_t deadline = mono_ms() + step;
    int r;
    SSH_RETRY(sn, deadline, r, libssh2_session_handshake(sn->s, sn->sock));
    if (r) {
        rc =
            r == LIBSSH2_ERROR_TIMEOUT
                ? err_set(e, -ETIMEDOUT, "ssh %s: no SSH handshake after %lldms", sn->where,
                          (long long)step)
                : err_set(e, -EPROTO, "ssh %s: handshake failed: %s", sn->where, last_error(sn->s));
        sn->broken = 1;
        goto fail;
    }
    rc = check_host_key(sn, n->host, port, known, e);
    if (rc)
        goto fail;
    deadline = mono_ms() + step;
    SSH_RETRY(
        sn, deadline, r,
        libssh2_userauth_publickey_fromfile(sn->s, user, have_pub ? pub : NULL, identity, NULL));
    if (r) {
        if (r == LIBSSH2_ERROR_TIMEOUT) {
            sn->broken = 1;
            rc = err_set(e, -ETIMEDOUT, "ssh %s: authentication timed out", sn->where);
        } else {
            rc = err_set(e, -EACCES, "ssh %s: authentication as %s with key %s failed: %s",
                         sn->where, user, identity, last_error(sn->s));
        }
        goto fail;
    }
    n->impl = sn;
    n->ops = &ssh_ops;
    return 0;
fail:
    ssh_free(sn, 1);
    return rc;
}
