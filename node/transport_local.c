/* transport_local.c - the local transport: commands run on this machine with
 * fork + setsid + /bin/sh -c, output through a pipe, a deadline that kills the
 * whole process group; files are written through a fresh temporary (O_EXCL,
 * O_NOFOLLOW) renamed over the target; the workdir is resolved and checked here. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "node.h"

/* Once the shell has exited, a background child may still hold the output
 * pipe; we stop reading this long after the exit instead of waiting for it. */
#define LOCAL_DRAIN_MS 200
/* A command past its timeout gets SIGTERM, then SIGKILL this long after. */
#define LOCAL_KILL_GRACE_MS 1000
/* What the SIGKILLed leader's reap may take, for the worst case (not a timeout:
 * waitpid blocks; a process stuck in the kernel is not bounded by anything). */
#define LOCAL_REAP_MS 500

int64_t node__local_after_timeout_ms(int64_t timeout_ms)
{
    (void)timeout_ms;
    return LOCAL_KILL_GRACE_MS + LOCAL_REAP_MS;
}

static int set_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

static int wait_status(int ws)
{
    if (WIFEXITED(ws))
        return WEXITSTATUS(ws);
    if (WIFSIGNALED(ws))
        return 128 + WTERMSIG(ws);
    return -1;
}

/* The group is gone once the leader is reaped and kill(-pg, 0) finds nobody. */
static void kill_group(pid_t pg, int *reaped, int *ws)
{
    kill(-pg, SIGTERM);
    int64_t until = mono_ms() + LOCAL_KILL_GRACE_MS;
    while (mono_ms() < until) {
        if (!*reaped && waitpid(pg, ws, WNOHANG) == pg)
            *reaped = 1;
        if (*reaped && kill(-pg, 0) < 0)
            return;
        poll(NULL, 0, 20);
    }
    kill(-pg, SIGKILL);
    if (!*reaped && waitpid(pg, ws, 0) == pg)
        *reaped = 1;
}

/* Writes to a pipe whose reader died must not raise SIGPIPE in the caller's
 * process: block it around the write and swallow the pending one. */
static ssize_t write_nosig(int fd, const void *p, size_t n)
{
    sigset_t set, old;
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &set, &old);
    ssize_t w = write(fd, p, n);
    int saved = errno;
    if (w < 0 && errno == EPIPE) {
        struct timespec zero = {0, 0};
        sigset_t pending;
        sigpending(&pending);
        if (sigismember(&pending, SIGPIPE))
            sigtimedwait(&set, NULL, &zero);
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    errno = saved;
    return w;
}

static int local_exec_in(struct node *n, const char *cmd, const void *in, size_t in_len,
                         int64_t timeout_ms, struct buf *out, int *status, struct err *e)
{
    int outp[2] = {-1, -1}, inp[2] = {-1, -1};
    if (status)
        *status = -1;
    if (pipe2(outp, O_CLOEXEC) < 0 || pipe2(inp, O_CLOEXEC) < 0) {
        int rc = -errno;
        if (outp[0] >= 0) {
            close(outp[0]);
            close(outp[1]);
        }
        return err_set(e, rc, "pipe: %s", strerror(-rc));
    }
    pid_t pid = fork();
    if (pid < 0) {
        int rc = -errno;
        close(outp[0]);
        close(outp[1]);
        close(inp[0]);
        close(inp[1]);
        return err_set(e, rc, "fork: %s", strerror(-rc));
    }
    if (pid == 0) {
        setsid();
        dup2(inp[0], 0);
        dup2(outp[1], 1);
        dup2(outp[1], 2);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        signal(SIGPIPE, SIG_DFL);
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    close(outp[1]);
    close(inp[0]);
    set_nonblock(outp[0]);
    set_nonblock(inp[1]);
    int infd = inp[1];
    size_t in_off = 0;
    if (!in || in_len == 0) {
        close(infd);
        infd = -1;
    }

    int64_t deadline = mono_ms() + (timeout_ms > 0 ? timeout_ms : 60000);
    int64_t drain_until = -1;
    int reaped = 0, ws = 0, outfd = outp[0], rc = 0;
    char chunk[16384];
    while (outfd >= 0 || !reaped) {
        int64_t now = mono_ms();
        if (now >= deadline) {
            rc = -ETIMEDOUT;
            break;
        }
        if (!reaped && waitpid(pid, &ws, WNOHANG) == pid) {
            reaped = 1;
            drain_until = now + LOCAL_DRAIN_MS;
        }
        if (reaped && drain_until >= 0 && now >= drain_until)
            break;
        struct pollfd pf[2];
        int np = 0;
        if (outfd >= 0)
            pf[np++] = (struct pollfd){.fd = outfd, .events = POLLIN};
        if (infd >= 0)
            pf[np++] = (struct pollfd){.fd = infd, .events = POLLOUT};
        /* Short waits so a child's exit is seen without SIGCHLD handling. */
        int wait = 50;
        if (deadline - now < wait)
            wait = (int)(deadline - now);
        if (np == 0) {
            poll(NULL, 0, 10);
            continue;
        }
        if (poll(pf, (nfds_t)np, wait) < 0 && errno != EINTR) {
            rc = err_set(e, -errno, "poll: %s", strerror(errno));
            break;
        }
        for (int i = 0; i < np; i++) {
            if (pf[i].fd == outfd && (pf[i].revents & (POLLIN | POLLHUP | POLLERR))) {
                ssize_t r = read(outfd, chunk, sizeof chunk);
                if (r > 0) {
                    node__out_append(out, chunk, (size_t)r);
                } else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
                    close(outfd);
                    outfd = -1;
                }
            } else if (pf[i].fd == infd && (pf[i].revents & (POLLOUT | POLLERR | POLLHUP))) {
                ssize_t w = write_nosig(infd, (const char *)in + in_off, in_len - in_off);
                if (w > 0)
                    in_off += (size_t)w;
                if ((w < 0 && errno != EAGAIN && errno != EINTR) || in_off == in_len) {
                    close(infd);
                    infd = -1;
                }
            }
        }
    }
    if (outfd >= 0)
        close(outfd);
    if (infd >= 0)
        close(infd);
    if (rc == -ETIMEDOUT) {
        kill_group(pid, &reaped, &ws);
        if (status)
            *status = reaped ? wait_status(ws) : -1;
        return err_set(e, -ETIMEDOUT, "command timed out after %lldms on %s: %.120s%s",
                       (long long)timeout_ms, n->host, cmd, strlen(cmd) > 120 ? "..." : "");
    }
    if (!reaped) {
        /* An error above: do not leave the command behind. */
        kill_group(pid, &reaped, &ws);
        return rc;
    }
    if (status)
        *status = wait_status(ws);
    return rc;
}

static int local_exec(struct node *n, const char *cmd, int64_t timeout_ms, struct buf *out,
                      int *status, struct err *e)
{
    return local_exec_in(n, cmd, NULL, 0, timeout_ms, out, status, e);
}

static int mkdir_p(const char *dir, struct err *e)
{
    char path[PATH_MAX];
    if (mf_strlcpy(path, dir, sizeof path) >= sizeof path)
        return err_set(e, -ENAMETOOLONG, "path too long: %.200s", dir);
    for (char *p = path + 1;; p++) {
        if (*p == '/' || *p == '\0') {
            char c = *p;
            *p = '\0';
            if (mkdir(path, 0700) < 0 && errno != EEXIST)
                return err_set(e, -errno, "mkdir %s: %s", path, strerror(errno));
            *p = c;
            if (c == '\0')
                break;
        }
    }
    return 0;
}

/* A fresh temporary beside remote_path (mkostemp: O_CREAT|O_EXCL, mode 0600, and
 * O_NOFOLLOW), filled, given its mode, then renamed over remote_path: a symbolic
 * link or file planted anywhere in the folder is never written through. */
static int local_put_file(struct node *n, const char *remote_path, const void *data, size_t len,
                          int mode, struct err *e)
{
    char dir[PATH_MAX], tmp[PATH_MAX + 16];
    if (mf_strlcpy(dir, remote_path, sizeof dir) >= sizeof dir)
        return err_set(e, -ENAMETOOLONG, "path too long: %.200s", remote_path);
    char *slash = strrchr(dir, '/');
    if (slash && slash != dir) {
        *slash = '\0';
        int rc = mkdir_p(dir, e);
        if (rc)
            return rc;
    }
    if (node__tmp_template(remote_path, tmp, sizeof tmp) != 0)
        return err_set(e, -ENAMETOOLONG, "path too long: %.200s", remote_path);
    int fd = mkostemp(tmp, O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return err_set(e, -errno, "creating a temporary for %s: %s", remote_path, strerror(errno));
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(fd, (const char *)data + off, len - off);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            int rc = -errno;
            close(fd);
            unlink(tmp);
            return err_set(e, rc, "write %s: %s", tmp, strerror(-rc));
        }
        off += (size_t)w;
    }
    if (fchmod(fd, (mode_t)mode) < 0 || close(fd) < 0) {
        int rc = -errno;
        unlink(tmp);
        return err_set(e, rc, "write %s: %s", tmp, strerror(-rc));
    }
    if (rename(tmp, remote_path) < 0) {
        int rc = -errno;
        unlink(tmp);
        return err_set(e, rc, "rename to %s: %s", remote_path, strerror(-rc));
    }
    return 0;
}

/* $HOME, else the password database's home folder; NULL when neither is absolute. */
static const char *local_home(void)
{
    const char *home = getenv("HOME");
    if (home && home[0] == '/')
        return home;
    struct passwd *pw = getpwuid(geteuid());
    return pw && pw->pw_dir && pw->pw_dir[0] == '/' ? pw->pw_dir : NULL;
}

/* The local node's workdir path: path as configured (~/ = the home folder), else the
 * default (see node_workdir_open). */
static int local_workdir_path(const char *path, char *out, size_t n, struct err *e)
{
    const char *env = getenv("STATE_DIRECTORY"), *home = NULL;
    struct err ignored;
    err_clear(&ignored);
    int r;
    if (path && *path && !(path[0] == '~' && path[1] == '/')) {
        r = snprintf(out, n, "%s", path);
    } else if (path && *path) {
        if (!(home = local_home()))
            return err_set(e, -ENOENT, "node workdir %s: no home folder (set $HOME)", path);
        r = snprintf(out, n, "%s/%s", home, path + 2);
    } else if (env && env[0] == '/') {
        /* systemd may list several folders, separated by ':'; the first is ours. */
        r = snprintf(out, n, "%.*s/node", (int)strcspn(env, ":"), env);
    } else if ((env = getenv("XDG_RUNTIME_DIR")) && env[0] == '/' &&
               mf_dir_check("XDG_RUNTIME_DIR", env, NULL, 0, &ignored) == 0) {
        r = snprintf(out, n, "%s/mfbench/node", env);
    } else if ((home = local_home())) {
        r = snprintf(out, n, "%s/.cache/mfbench/node", home);
    } else {
        return err_set(e, -ENOENT, "node workdir: no home folder (set $HOME or node.workdir)");
    }
    if (r < 0 || (size_t)r >= n)
        return err_set(e, -ENAMETOOLONG, "node workdir %.200s: path too long", out);
    return 0;
}

static int local_workdir(struct node *n, const char *path, char *out, size_t outn, struct err *e)
{
    (void)n;
    int rc = local_workdir_path(path, out, outn, e);
    if (rc)
        return rc;
    if ((rc = mf_dir_make_trusted("node workdir", out, e)) != 0)
        return rc;
    for (size_t i = 0; node__workdir_subdirs[i]; i++) {
        char sub[PATH_MAX];
        if (snprintf(sub, sizeof sub, "%s/%s", out, node__workdir_subdirs[i]) >= (int)sizeof sub)
            return err_set(e, -ENAMETOOLONG, "node workdir %.200s: path too long", out);
        if (mkdir(sub, 0700) < 0 && errno != EEXIST)
            return err_set(e, -errno, "node workdir: cannot create %s: %s", sub, strerror(errno));
        if ((rc = mf_dir_check("node workdir folder", sub, NULL, 0, e)) != 0)
            return rc;
    }
    return 0;
}

static void local_close(struct node *n)
{
    (void)n;
}

static const struct node_ops local_ops = {
    .name = "local",
    .exec = local_exec,
    .put_file = local_put_file,
    .close = local_close,
    .exec_in = local_exec_in,
    .workdir = local_workdir,
};

int node__open_local(const struct cfg_node *cfg, struct node *n, struct err *e)
{
    (void)cfg;
    (void)e;
    n->ops = &local_ops;
    return 0;
}
