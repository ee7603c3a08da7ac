/* trust.c - whether a folder may be trusted with what mfbench puts in it (the node
 * workdir, the control socket's folder): owned by us and writable by nobody else,
 * never a symbolic link, with every folder above it safe from other users too.
 * Refusals name the folder, its owner and its mode. */
#include "common.h"

#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* " (name)" of a uid, or "" when it has none. */
static void uid_name(unsigned uid, char *out, size_t n)
{
    struct passwd pw, *res = NULL;
    char tmp[1024];
    out[0] = '\0';
    if (getpwuid_r((uid_t)uid, &pw, tmp, sizeof(tmp), &res) == 0 && res && res->pw_name)
        snprintf(out, n, " (%s)", res->pw_name);
}

/* "owned by uid 1001 (bob) (not you, uid 0) and mode 0777" into out. */
static void describe(const struct stat *st, char *out, size_t n)
{
    unsigned me = (unsigned)geteuid(), owner = (unsigned)st->st_uid;
    char name[300];
    uid_name(owner, name, sizeof(name));
    unsigned mode = (unsigned)(st->st_mode & 07777);
    if (owner == me)
        snprintf(out, n, "owned by you (uid %u) and mode %04o", me, mode);
    else
        snprintf(out, n, "owned by uid %u%s (not you, uid %u) and mode %04o", owner, name, me,
                 mode);
}

static int owner_ok(uid_t uid, const unsigned *also_ok, size_t n_also)
{
    if (uid == geteuid())
        return 1;
    for (size_t i = 0; i < n_also; i++)
        if ((unsigned)uid == also_ok[i])
            return 1;
    return 0;
}

/* Why st is refused ("" when it is not): "not yours", "writable by others", ... */
static void reasons(const struct stat *st, int bad_owner, char *out, size_t n)
{
    int wg = (st->st_mode & S_IWGRP) != 0, wo = (st->st_mode & S_IWOTH) != 0;
    snprintf(out, n, "%s%s%s", bad_owner ? "not yours" : "", bad_owner && (wg || wo) ? ", " : "",
             wo   ? "writable by others"
             : wg ? "writable by its group"
                  : "");
}

int mf_dir_check(const char *what, const char *path, const unsigned *also_ok, size_t n_also,
                 struct err *e)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return err_set(e, -errno, "%s %s: %s", what, path, strerror(errno));
    if (S_ISLNK(st.st_mode))
        return err_set(e, -EPERM, "%s %s: a symbolic link: refusing (it must be a real folder)",
                       what, path);
    if (!S_ISDIR(st.st_mode))
        return err_set(e, -ENOTDIR, "%s %s: not a folder", what, path);
    int bad_owner = !owner_ok(st.st_uid, also_ok, n_also);
    if (!bad_owner && !(st.st_mode & (S_IWGRP | S_IWOTH)))
        return 0;
    char d[400], why[64];
    describe(&st, d, sizeof(d));
    reasons(&st, bad_owner, why, sizeof(why));
    return err_set(e, -EPERM, "%s %s: %s: refusing (%s)", what, path, d, why);
}

/* One folder above a workdir: owned by us or root and, when others may write to it,
 * sticky (as /tmp), so that nobody else can rename what is in it. */
static int ancestor_ok(const char *what, const char *path, const char *at, struct err *e)
{
    struct stat st;
    if (lstat(at, &st) != 0)
        return err_set(e, -errno, "%s %s: %s: %s", what, path, at, strerror(errno));
    unsigned root = 0;
    int bad_owner = !owner_ok(st.st_uid, &root, 1);
    int writable = (st.st_mode & (S_IWGRP | S_IWOTH)) && !(st.st_mode & S_ISVTX);
    if (!bad_owner && !writable)
        return 0;
    char d[400], why[64];
    describe(&st, d, sizeof(d));
    if (writable)
        reasons(&st, 0, why, sizeof(why));
    else
        mf_strlcpy(why, "neither yours nor root's", sizeof(why));
    return err_set(e, -EPERM,
                   "%s %s: the folder %s above it is %s: refusing (%s: another user could "
                   "replace what is in it)",
                   what, path, at, d, why);
}

/* Every folder of the real path `real`, from / down. */
static int ancestors_ok(const char *what, const char *path, const char *real, struct err *e)
{
    char p[PATH_MAX];
    if (mf_strlcpy(p, real, sizeof(p)) >= sizeof(p))
        return err_set(e, -ENAMETOOLONG, "%s %s: path too long", what, path);
    int rc = ancestor_ok(what, path, "/", e);
    size_t len = strlen(p);
    for (size_t i = 2; !rc && i <= len; i++) {
        if (p[i] != '/' && p[i] != '\0')
            continue;
        char c = p[i];
        p[i] = '\0';
        rc = ancestor_ok(what, path, p, e);
        p[i] = c;
    }
    return rc;
}

/* mkdir -p with mode 0700 for what is missing (existing folders are left as they are). */
static int mkdir_parents(const char *what, const char *dir, struct err *e)
{
    char p[PATH_MAX];
    if (mf_strlcpy(p, dir, sizeof(p)) >= sizeof(p))
        return err_set(e, -ENAMETOOLONG, "%s %s: path too long", what, dir);
    for (char *s = p + 1;; s++) {
        if (*s != '/' && *s != '\0')
            continue;
        char c = *s;
        *s = '\0';
        if (mkdir(p, 0700) != 0 && errno != EEXIST)
            return err_set(e, -errno, "%s: cannot create %s: %s", what, p, strerror(errno));
        *s = c;
        if (c == '\0')
            break;
    }
    return 0;
}

int mf_dir_make_trusted(const char *what, const char *path, struct err *e)
{
    size_t len = strlen(path);
    if (path[0] != '/' || len < 2 || len >= PATH_MAX)
        return err_set(e, -EINVAL, "%s %s: must be an absolute path below /", what, path);
    char dir[PATH_MAX];
    mf_strlcpy(dir, path, sizeof(dir));
    while (len > 1 && dir[len - 1] == '/')
        dir[--len] = '\0';
    char *slash = strrchr(dir, '/');
    if (strcmp(slash + 1, ".") == 0 || strcmp(slash + 1, "..") == 0)
        return err_set(e, -EINVAL, "%s %s: must name a folder, not . or ..", what, path);
    if (slash != dir) {
        *slash = '\0';
        int rc = mkdir_parents(what, dir, e);
        if (rc)
            return rc;
    }
    char *real = realpath(slash != dir ? dir : "/", NULL);
    if (!real)
        return err_set(e, -errno, "%s %s: %s", what, path, strerror(errno));
    int rc = ancestors_ok(what, path, real, e);
    free(real);
    if (rc)
        return rc;
    if (slash != dir)
        *slash = '/';
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return err_set(e, -errno, "%s: cannot create %s: %s", what, dir, strerror(errno));
    return mf_dir_check(what, dir, NULL, 0, e);
}
