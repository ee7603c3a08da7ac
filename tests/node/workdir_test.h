/* workdir_test.h - the workdir rules, run by test_local.c and test_ssh.c against
 * their transport (the ssh node is this machine, so both can plant and look at
 * files directly): what is created and with which mode, what is refused and how
 * the refusal reads, and files written through a planted symbolic link. */
#ifndef MFBENCH_WORKDIR_TEST_H
#define MFBENCH_WORKDIR_TEST_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "node.h"
#include "t.h"

/* snprintf into an array, a failed check when it does not fit. */
#define WD_PATH(buf, ...)                                                                          \
    do {                                                                                           \
        if (snprintf(buf, sizeof buf, __VA_ARGS__) >= (int)sizeof buf)                             \
            T_FAIL("path too long: %s", buf);                                                      \
    } while (0)

/* node_workdir_open on a node whose earlier answer is forgotten. */
static inline int wd_open(struct node *n, const char *path, struct err *e)
{
    n->workdir[0] = '\0';
    err_clear(e);
    return node_workdir_open(n, path, e);
}

static inline int wd_mode(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0 ? (int)(st.st_mode & 07777) : -1;
}

static inline void wd_write(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

/* base: an empty folder of ours (0700) for this test. */
static void check_workdir_rules(struct node *n, const char *base)
{
    struct err e;
    char w[800], p[800], want[2000];
    unsigned me = (unsigned)geteuid();

    /* Missing: made with mode 0700, the folders in it too; a trailing / is dropped. */
    WD_PATH(w, "%s/new/wd", base);
    WD_PATH(p, "%s/", w);
    CHECK_INT(wd_open(n, p, &e), ==, 0);
    if (e.code)
        fprintf(stderr, "workdir: %s\n", e.msg);
    CHECK_STR(node_workdir(n), w);
    CHECK_INT(wd_mode(w), ==, 0700);
    WD_PATH(p, "%s/new", base);
    CHECK_INT(wd_mode(p), ==, 0700);
    for (size_t i = 0; node__workdir_subdirs[i]; i++) {
        WD_PATH(p, "%s/%s", w, node__workdir_subdirs[i]);
        CHECK_INT(wd_mode(p), ==, 0700);
    }
    /* An existing one of ours that nobody else may write is used as it is. */
    CHECK_INT(chmod(w, 0755), ==, 0);
    CHECK_INT(wd_open(n, w, &e), ==, 0);
    CHECK_INT(chmod(w, 0700), ==, 0);

    /* Writable by the group, by others. */
    WD_PATH(p, "%s/group", base);
    CHECK_INT(mkdir(p, 0700), ==, 0);
    CHECK_INT(chmod(p, 0770), ==, 0);
    CHECK_INT(wd_open(n, p, &e), ==, -EPERM);
    snprintf(want, sizeof want,
             "node workdir %s: owned by you (uid %u) and mode 0770: refusing (writable by its "
             "group)",
             p, me);
    CHECK_CONTAINS(e.msg, want);
    CHECK_STR(node_workdir(n), "");
    WD_PATH(p, "%s/others", base);
    CHECK_INT(mkdir(p, 0700), ==, 0);
    CHECK_INT(chmod(p, 01777), ==, 0);
    CHECK_INT(wd_open(n, p, &e), ==, -EPERM);
    CHECK_CONTAINS(e.msg, "and mode 1777: refusing (writable by others)");
    WD_PATH(p, "%s/run", w);
    CHECK_INT(chmod(p, 0777), ==, 0);
    CHECK_INT(wd_open(n, w, &e), ==, -EPERM);
    WD_PATH(want, "node workdir folder %s: owned by you", p);
    CHECK_CONTAINS(e.msg, want);
    CHECK_INT(chmod(p, 0700), ==, 0);

    /* A symbolic link, as the workdir or as a folder in it; a file. */
    WD_PATH(p, "%s/link", base);
    CHECK_INT(symlink(w, p), ==, 0);
    CHECK_INT(wd_open(n, p, &e), ==, -EPERM);
    WD_PATH(want, "node workdir %s: a symbolic link: refusing", p);
    CHECK_CONTAINS(e.msg, want);
    WD_PATH(p, "%s/logs", w);
    CHECK_INT(rmdir(p), ==, 0);
    WD_PATH(want, "%s/group", base);
    CHECK_INT(symlink(want, p), ==, 0);
    CHECK_INT(wd_open(n, w, &e), ==, -EPERM);
    CHECK_CONTAINS(e.msg, "a symbolic link: refusing");
    CHECK_INT(unlink(p), ==, 0);
    CHECK_INT(wd_open(n, w, &e), ==, 0);
    CHECK_INT(wd_mode(p), ==, 0700);
    WD_PATH(p, "%s/file", base);
    wd_write(p, "x\n");
    CHECK_INT(wd_open(n, p, &e), ==, -ENOTDIR);
    CHECK_CONTAINS(e.msg, "not a folder");
    CHECK_INT(wd_open(n, "/", &e), !=, 0);

    /* Another user's folder, as the workdir or above it (as root: chown works). */
    if (me == 0) {
        WD_PATH(p, "%s/theirs", base);
        CHECK_INT(mkdir(p, 0755), ==, 0);
        CHECK_INT(chown(p, 65534, 65534), ==, 0);
        CHECK_INT(chmod(p, 0755), ==, 0);
        CHECK_INT(wd_open(n, p, &e), ==, -EPERM);
        snprintf(want, sizeof want,
                 "node workdir %s: owned by uid 65534 (nobody) (not you, uid 0) and mode 0755: "
                 "refusing (not yours)",
                 p);
        CHECK_CONTAINS(e.msg, want);
        CHECK_INT(chmod(p, 0777), ==, 0);
        CHECK_INT(wd_open(n, p, &e), ==, -EPERM);
        CHECK_CONTAINS(e.msg, "and mode 0777: refusing (not yours, writable by others)");
        WD_PATH(want, "%s/run", p);
        CHECK_INT(wd_mode(want), ==, -1); /* nothing made in it */
        WD_PATH(w, "%s/mine", p);
        CHECK_INT(wd_open(n, w, &e), ==, -EPERM);
        WD_PATH(want, "node workdir %s: the folder %s above it is owned by uid 65534", w, p);
        CHECK_CONTAINS(e.msg, want);
        CHECK_INT(wd_mode(w), ==, -1);
        WD_PATH(w, "%s/new/wd", base);
    }

    /* Files go through a fresh temporary: links planted at the old temporary's name
     * and at the target itself are replaced or left, never written through. */
    char victim[700], target[700], old_tmp[800];
    WD_PATH(victim, "%s/victim", base);
    wd_write(victim, "precious");
    CHECK_INT(chmod(victim, 0640), ==, 0);
    WD_PATH(target, "%s/sampler.sh", w);
    WD_PATH(old_tmp, "%s.tmp", target);
    CHECK_INT(symlink(victim, old_tmp), ==, 0);
    CHECK_INT(wd_open(n, w, &e), ==, 0);
    err_clear(&e);
    CHECK_INT(node_sampler_install(n, node_workdir(n), &e), ==, 0);
    if (e.code)
        fprintf(stderr, "sampler install: %s\n", e.msg);
    struct buf b;
    buf_init(&b, 0);
    CHECK_INT(mf_read_file(victim, 100, &b, &e), ==, 0);
    CHECK_STR(b.data, "precious");
    CHECK_INT(wd_mode(victim), ==, 0640);
    CHECK_INT(wd_mode(target), ==, 0755);
    buf_reset(&b);
    CHECK_INT(mf_read_file(target, 1 << 16, &b, &e), ==, 0);
    CHECK_STR(b.data, node_sampler_sh);
    CHECK_INT(unlink(old_tmp), ==, 0);
    CHECK_INT(unlink(target), ==, 0);
    CHECK_INT(symlink(victim, target), ==, 0);
    err_clear(&e);
    CHECK_INT(n->ops->put_file(n, target, "new", 3, 0600, &e), ==, 0);
    buf_reset(&b);
    CHECK_INT(mf_read_file(victim, 100, &b, &e), ==, 0);
    CHECK_STR(b.data, "precious");
    struct stat st;
    CHECK_INT(lstat(target, &st), ==, 0);
    CHECK(S_ISREG(st.st_mode));
    buf_reset(&b);
    CHECK_INT(mf_read_file(target, 100, &b, &e), ==, 0);
    CHECK_STR(b.data, "new");
    /* No temporary is left behind. */
    WD_PATH(want,
            "test -z \"$(ls -A %s | grep -v -x -e run -e logs -e venvs -e user "
            "-e sampler.sh)\"",
            w);
    CHECK_INT(system(want), ==, 0);
    buf_free(&b);
    n->workdir[0] = '\0';
}

#endif
