/* lock.c - one run at a time per node: a lock file on the driving machine,
 * keyed by the node (local: its workdir; ssh: user@host:port and workdir),
 * held with flock(2) so a holder that dies frees it, and holding "run N pid P"
 * so the one turned away is told who holds it. */
#include "exec.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

struct dmn_node_lock {
    int fd;
    char path[4096];
};

/* The folder of the lock files: $RUNTIME_DIRECTORY (the service's), else
 * $XDG_RUNTIME_DIR/mfbench, else ~/.cache/mfbench/locks. Never /tmp: another
 * user could hold the lock there, or plant a link. */
static int lock_dir(char *buf, size_t n, struct err *e)
{
    const char *v;
    int w;
    if ((v = getenv("RUNTIME_DIRECTORY")) && *v)
        w = snprintf(buf, n, "%.*s", (int)strcspn(v, ":"), v);
    else if ((v = getenv("XDG_RUNTIME_DIR")) && v[0] == '/')
        w = snprintf(buf, n, "%s/mfbench", v);
    else if ((v = getenv("HOME")) && v[0] == '/')
        w = snprintf(buf, n, "%s/.cache/mfbench/locks", v);
    else
        return err_set(e, -ENOENT,
                       "node lock: no folder for it ($XDG_RUNTIME_DIR and $HOME are unset)");
    if (w < 0 || (size_t)w >= n)
        return err_set(e, -ENAMETOOLONG, "node lock: folder name too long");
    /* mkdir -p, new folders 0700. */
    for (char *p = buf + 1;; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char c = *p;
        *p = '\0';
        if (mkdir(buf, 0700) != 0 && errno != EEXIST) {
            int code = -errno;
            return err_set(e, code, "node lock: cannot create folder %s: %s", buf, strerror(-code));
        }
        *p = c;
        if (!c)
            break;
    }
    struct stat st;
    if (lstat(buf, &st) != 0 || !S_ISDIR(st.st_mode))
        return err_set(e, -ENOTDIR, "node lock: %s is not a folder", buf);
    if (st.st_uid != geteuid() || (st.st_mode & 022))
        return err_set(e, -EPERM,
                       "node lock: refusing folder %s: owned by uid %u, mode %03o (it must be "
                       "this user's, %u, and not writable by group or others)",
                       buf, (unsigned)st.st_uid, (unsigned)(st.st_mode & 0777),
                       (unsigned)geteuid());
    return 0;
}

int dmn_node_lock_key(const struct cfg_node *n, char *buf, size_t size)
{
    int w;
    if (n->transport == CFG_TRANSPORT_SSH)
        w = snprintf(buf, size, "ssh:%s@%s:%d:%s", n->user ? n->user : "", n->host ? n->host : "",
                     n->port, n->workdir ? n->workdir : "");
    else
        w = snprintf(buf, size, "local:%s", n->workdir ? n->workdir : "");
    return (w < 0 || (size_t)w >= size) ? -ENAMETOOLONG : 0;
}

/* "run N pid P" of the file, into who (a reasonable text when unreadable). */
static void read_holder(int fd, char *who, size_t n)
{
    char buf[128];
    ssize_t got = pread(fd, buf, sizeof(buf) - 1, 0);
    long long run = 0, pid = 0;
    buf[got > 0 ? got : 0] = '\0';
    if (sscanf(buf, "run %lld pid %lld", &run, &pid) == 2 && pid > 0) {
        if (run > 0)
            snprintf(who, n, "run %lld (pid %lld)", run, pid);
        else
            snprintf(who, n, "a run starting (pid %lld)", pid);
    } else {
        snprintf(who, n, "another run");
    }
}

static int write_holder(struct dmn_node_lock *l, int64_t run_id, struct err *e)
{
    char buf[64];
    int w =
        snprintf(buf, sizeof(buf), "run %lld pid %lld\n", (long long)run_id, (long long)getpid());
    if (ftruncate(l->fd, 0) != 0 || pwrite(l->fd, buf, (size_t)w, 0) != (ssize_t)w) {
        int code = errno ? -errno : -EIO;
        return err_set(e, code, "node lock %s: %s", l->path, strerror(-code));
    }
    return 0;
}

int dmn_node_lock(const struct cfg_node *n, int wait_s, const atomic_int *cancel,
                  struct dmn_node_lock **out, struct err *e)
{
    *out = NULL;
    char dir[2048], key[4096], hex[65];
    int r;
    if ((r = lock_dir(dir, sizeof(dir), e)) < 0)
        return r;
    if (dmn_node_lock_key(n, key, sizeof(key)) < 0)
        return err_set(e, -ENAMETOOLONG, "node lock: the node's name is too long");
    sha256_string(key, strlen(key), hex);
    struct dmn_node_lock *l = calloc(1, sizeof(*l));
    if (!l)
        return err_set(e, -ENOMEM, "out of memory");
    snprintf(l->path, sizeof(l->path), "%s/node-%.16s.lock", dir, hex);
    l->fd = open(l->path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0600);
    if (l->fd < 0) {
        r = -errno;
        err_set(e, r, "node lock %s: %s", l->path, strerror(-r));
        free(l);
        return r;
    }
    /* Bounded: wait_s seconds at most, polled every 100 ms so a signal's flag is seen. */
    for (long tries = (long)wait_s * 10;; tries--) {
        if (flock(l->fd, LOCK_EX | LOCK_NB) == 0)
            break;
        int err = errno;
        if ((err != EWOULDBLOCK && err != EINTR) || tries <= 0 || (cancel && atomic_load(cancel))) {
            char who[96];
            read_holder(l->fd, who, sizeof(who));
            if (err == EWOULDBLOCK || err == EINTR)
                r = err_set(e, -EBUSY, "node busy: %s holds node %s (lock %s)", who, key, l->path);
            else
                r = err_set(e, -err, "node lock %s: %s", l->path, strerror(err));
            close(l->fd);
            free(l);
            return r;
        }
        usleep(100 * 1000);
    }
    if ((r = write_holder(l, 0, e)) < 0) {
        dmn_node_unlock(l);
        return r;
    }
    *out = l;
    return 0;
}

int dmn_node_lock_set_run(struct dmn_node_lock *l, int64_t run_id, struct err *e)
{
    return l ? write_holder(l, run_id, e) : 0;
}

void dmn_node_unlock(struct dmn_node_lock *l)
{
    if (!l)
        return;
    /* Emptied, not removed: removing would let a third process lock a new
     * inode while a second still waits on the old one. */
    if (ftruncate(l->fd, 0) != 0) {
        /* the lock is released by close() all the same */
    }
    close(l->fd);
    free(l);
}
