/* lock.c - one run at a time per node, whoever drives it: the daemon (user
 * mfbench), a person's `mfbench run` and root's all take one lock file in a
 * folder every user of the machine shares (/run/lock, else /tmp), named after
 * the node and its server port, held with flock(2) so a holder that dies frees
 * it, and holding "run N pid P user U" so the one turned away is told who. */
#include "exec.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

struct exec_node_lock {
    int fd;
    char path[4096];
};

/* The node-wide folders, first that qualifies: owned by root, sticky and
 * writable by all (so nobody can remove or rename another's file, and every
 * user can create one). /run/lock is the FHS's; /tmp when it is missing. A
 * process whose /tmp is private (systemd's PrivateTmp) still shares /run/lock. */
static const char *const lock_dirs[] = {"/run/lock", "/tmp"};

static int lock_dir(const char **out, struct err *e)
{
    for (size_t i = 0; i < sizeof(lock_dirs) / sizeof(lock_dirs[0]); i++) {
        struct stat st;
        if (stat(lock_dirs[i], &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == 0 &&
            (st.st_mode & 01777) == 01777) {
            *out = lock_dirs[i];
            return 0;
        }
    }
    return err_set(
        e, -ENOENT,
        "node lock: neither /run/lock nor /tmp is a folder owned by root with mode 1777");
}

int exec_node_lock_key(const struct cfg_node *n, char *buf, size_t size)
{
    int w;
    /* What two runs cannot share: the machine the server runs on and its port
     * (two servers on one port, or two loads on one node, measure nonsense). */
    if (n->transport == CFG_TRANSPORT_SSH)
        w = snprintf(buf, size, "ssh:%s:%d:server_port=%d", n->host ? n->host : "", n->port,
                     n->server_port);
    else
        w = snprintf(buf, size, "local:server_port=%d", n->server_port);
    return (w < 0 || (size_t)w >= size) ? -ENAMETOOLONG : 0;
}

/* "run N (pid P, user U)" from the file, into who (a reasonable text when
 * unreadable: the file is writable by every user, so it is only ever shown). */
static void read_holder(int fd, char *who, size_t n)
{
    char buf[160], user[64] = "?";
    ssize_t got = pread(fd, buf, sizeof(buf) - 1, 0);
    long long run = 0, pid = 0;
    buf[got > 0 ? got : 0] = '\0';
    int f = sscanf(buf, "run %lld pid %lld user %63[A-Za-z0-9._-]", &run, &pid, user);
    if (f >= 2 && pid > 0) {
        if (run > 0)
            snprintf(who, n, "run %lld (pid %lld, user %s)", run, pid, user);
        else
            snprintf(who, n, "a run starting (pid %lld, user %s)", pid, user);
    } else {
        snprintf(who, n, "another run");
    }
}

static int write_holder(struct exec_node_lock *l, int64_t run_id, struct err *e)
{
    char buf[160], name[64];
    struct passwd pw, *res = NULL;
    char pwbuf[1024];
    uid_t uid = geteuid();
    if (getpwuid_r(uid, &pw, pwbuf, sizeof(pwbuf), &res) == 0 && res && res->pw_name[0] &&
        strlen(res->pw_name) < sizeof(name))
        mf_strlcpy(name, res->pw_name, sizeof(name));
    else
        snprintf(name, sizeof(name), "%u", (unsigned)uid);
    int w = snprintf(buf, sizeof(buf), "run %lld pid %lld user %s\n", (long long)run_id,
                     (long long)getpid(), name);
    if (w < 0 || (size_t)w >= sizeof(buf))
        w = (int)sizeof(buf) - 1;
    if (ftruncate(l->fd, 0) != 0 || pwrite(l->fd, buf, (size_t)w, 0) != (ssize_t)w) {
        int code = errno ? -errno : -EIO;
        return err_set(e, code, "node lock %s: %s", l->path, strerror(-code));
    }
    return 0;
}

/* Opens path, shared by every user: an existing file is opened without
 * O_CREAT (fs.protected_regular refuses O_CREAT on another user's file in a
 * sticky folder), a missing one is created exclusively, mode 0666 whatever the
 * umask. Never follows a link, never blocks on a FIFO; only a regular file
 * with one link is used. Returns the fd or a negative code with e set. */
static int open_shared(const char *path, struct err *e)
{
    const int fl = O_RDWR | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
    int fd = -1;
    for (int tries = 0; fd < 0 && tries < 5; tries++) {
        fd = open(path, fl);
        if (fd < 0 && errno == ENOENT) {
            fd = open(path, fl | O_CREAT | O_EXCL, 0666);
            if (fd >= 0 && fchmod(fd, 0666) != 0) {
                int code = -errno;
                close(fd);
                return err_set(e, code, "node lock %s: chmod: %s", path, strerror(-code));
            }
            if (fd < 0 && errno == EEXIST)
                continue; /* another made it meanwhile: open theirs */
        }
        if (fd < 0) {
            int code = -errno;
            struct stat st;
            if (code == -EACCES && lstat(path, &st) == 0)
                return err_set(e, code,
                               "node lock %s: owned by uid %u with mode %03o, not writable by "
                               "uid %u: its owner or root must remove it",
                               path, (unsigned)st.st_uid, (unsigned)(st.st_mode & 0777),
                               (unsigned)geteuid());
            if (code == -ELOOP)
                return err_set(e, code, "node lock %s: is a symbolic link: refused", path);
            return err_set(e, code, "node lock %s: %s", path, strerror(-code));
        }
    }
    if (fd < 0)
        return err_set(e, -EAGAIN, "node lock %s: created and removed under us", path);
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_nlink != 1) {
        close(fd);
        return err_set(e, -EPERM, "node lock %s: not a regular file with one link: refused", path);
    }
    return fd;
}

int exec_node_lock(const struct cfg_node *n, int wait_s, const atomic_int *cancel,
                   struct exec_node_lock **out, struct err *e)
{
    *out = NULL;
    const char *dir = NULL;
    char key[4096], hex[65];
    int r;
    if ((r = lock_dir(&dir, e)) < 0)
        return r;
    if (exec_node_lock_key(n, key, sizeof(key)) < 0)
        return err_set(e, -ENAMETOOLONG, "node lock: the node's name is too long");
    sha256_string(key, strlen(key), hex);
    struct exec_node_lock *l = calloc(1, sizeof(*l));
    if (!l)
        return err_set(e, -ENOMEM, "out of memory");
    snprintf(l->path, sizeof(l->path), "%s/mfbench-node-%.16s.lock", dir, hex);
    if ((l->fd = open_shared(l->path, e)) < 0) {
        r = l->fd;
        free(l);
        return r;
    }
    /* Bounded: wait_s seconds at most, polled every 100 ms so a signal's flag is seen. */
    for (long tries = (long)wait_s * 10;; tries--) {
        if (flock(l->fd, LOCK_EX | LOCK_NB) == 0)
            break;
        int err = errno;
        if ((err != EWOULDBLOCK && err != EINTR) || tries <= 0 || (cancel && atomic_load(cancel))) {
            char who[160];
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
        exec_node_unlock(l);
        return r;
    }
    *out = l;
    return 0;
}

int exec_node_lock_set_run(struct exec_node_lock *l, int64_t run_id, struct err *e)
{
    return l ? write_holder(l, run_id, e) : 0;
}

void exec_node_unlock(struct exec_node_lock *l)
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
