/* transport.c - what every transport shares: node_open() picks the vtable,
 * node_exec_ok() turns a non-zero exit into an error with the output's tail,
 * node_sync_tree() sends a local folder as one in-memory ustar stream, skipped
 * when the tree's hash matches the one recorded on the node. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "node.h"

#define NODE_DEFAULT_CMD_TIMEOUT_MS 60000
#define TREE_MAX_FILES 20000
#define TREE_MAX_BYTES (256u << 20)
#define TREE_HASH_FILE ".mfbench-tree-sha256"

int64_t node_cmd_timeout_ms(const struct cfg_node *cfg)
{
    if (cfg && cfg->command_timeout_ms > 0)
        return cfg->command_timeout_ms;
    return NODE_DEFAULT_CMD_TIMEOUT_MS;
}

int64_t node__cmd_timeout(const struct node *n)
{
    return node_cmd_timeout_ms(n->cfg);
}

static int is_ssh(const struct cfg_node *cfg)
{
    return cfg && cfg->transport == CFG_TRANSPORT_SSH;
}

int64_t node_cmd_max_ms(const struct cfg_node *cfg, int64_t timeout_ms)
{
    if (timeout_ms <= 0) /* what the transports take for "none" */
        timeout_ms = is_ssh(cfg) ? node_cmd_timeout_ms(cfg) : NODE_DEFAULT_CMD_TIMEOUT_MS;
    return timeout_ms + (is_ssh(cfg) ? node__ssh_after_timeout_ms(timeout_ms)
                                     : node__local_after_timeout_ms(timeout_ms));
}

int64_t node_session_max_ms(const struct cfg_node *cfg)
{
    if (!is_ssh(cfg))
        return 0;
    return node__ssh_session_ms(cfg) + node_cmd_max_ms(cfg, node_cmd_timeout_ms(cfg));
}

int64_t node_put_file_max_ms(const struct cfg_node *cfg)
{
    return is_ssh(cfg) ? node_cmd_max_ms(cfg, node_cmd_timeout_ms(cfg)) : 0;
}

int64_t node_sync_tree_max_ms(const struct cfg_node *cfg)
{
    return 2 * node_cmd_max_ms(cfg, node_cmd_timeout_ms(cfg));
}

int node_open(const struct cfg_node *cfg, struct node **out, struct err *e)
{
    *out = NULL;
    struct node *n = calloc(1, sizeof *n);
    if (!n)
        return err_set(e, -ENOMEM, "out of memory");
    n->cfg = cfg;
    const char *host = cfg->host && *cfg->host ? cfg->host : NULL;
    int rc;
    if (cfg->transport == CFG_TRANSPORT_LOCAL) {
        mf_strlcpy(n->host, host ? host : "127.0.0.1", sizeof n->host);
        rc = node__open_local(cfg, n, e);
    } else if (cfg->transport == CFG_TRANSPORT_SSH) {
        if (!host) {
            free(n);
            return err_set(e, -EINVAL, "ssh node: no host");
        }
        mf_strlcpy(n->host, host, sizeof n->host);
        rc = node__open_ssh(cfg, n, e);
    } else if (cfg->transport == CFG_TRANSPORT_SLURM) {
        /* A Slurm node is one allocation per cell (node/slurm.c), each cell run there by
         * the dispatcher (exec/dispatch.c): there is no session to open here. */
        rc = err_set(e, -ENOTSUP,
                     "node.transport slurm: no node session of its own; its cells are "
                     "dispatched on Slurm allocations (see README, Running on a Slurm cluster)");
    } else {
        rc = err_set(e, -EINVAL, "unknown node transport %d", (int)cfg->transport);
    }
    if (rc) {
        free(n);
        return rc;
    }
    *out = n;
    return 0;
}

void node_close(struct node *n)
{
    if (!n)
        return;
    if (n->ops && n->ops->close)
        n->ops->close(n);
    free(n);
}

const char *const node__workdir_subdirs[] = {"run", "logs", "venvs", "user", NULL};

int node_workdir_open(struct node *n, const char *cfg_workdir, struct err *e)
{
    if (n->workdir[0])
        return 0;
    char w[sizeof(n->workdir)];
    int rc = n->ops->workdir(n, cfg_workdir, w, sizeof(w), e);
    if (rc)
        return rc;
    size_t len = strlen(w);
    while (len > 1 && w[len - 1] == '/')
        w[--len] = '\0';
    if (w[0] != '/' || len < 2 || strchr(w, '\n'))
        return err_set(e, -EINVAL, "node workdir %.200s: not an absolute path", w);
    mf_strlcpy(n->workdir, w, sizeof(n->workdir));
    return 0;
}

const char *node_workdir(const struct node *n)
{
    return n->workdir;
}

int node__tmp_template(const char *path, char *out, size_t n)
{
    const char *slash = strrchr(path, '/');
    int len = slash ? (int)(slash - path) : 0;
    int r =
        snprintf(out, n, "%.*s%s.%s.XXXXXX", len, path, slash ? "/" : "", slash ? slash + 1 : path);
    return r < 0 || (size_t)r >= n ? -ENAMETOOLONG : 0;
}

int node_exec(struct node *n, const char *cmd, int64_t timeout_ms, struct buf *out, int *status,
              struct err *e)
{
    return n->ops->exec(n, cmd, timeout_ms, out, status, e);
}

int node_exec_stdin(struct node *n, const char *cmd, const void *in, size_t in_len,
                    int64_t timeout_ms, struct buf *out, int *status, struct err *e)
{
    return n->ops->exec_in(n, cmd, in, in_len, timeout_ms, out, status, e);
}

static int check_exit(int rc, int status, struct buf *out, struct err *e)
{
    if (rc)
        return rc;
    if (status == 0)
        return 0;
    buf_tail_lines(out, 20);
    return err_set(e, -EIO, "command failed (exit %d): %s", status, out->data ? out->data : "");
}

/* Runs with stdin (may be NULL) and fails unless exit 0; out may be NULL. */
static int exec_ok_in(struct node *n, const char *cmd, const void *in, size_t in_len,
                      int64_t timeout_ms, struct buf *out, struct err *e)
{
    struct buf own;
    buf_init(&own, 1 << 20);
    struct buf *o = out ? out : &own;
    int status = -1;
    int rc = n->ops->exec_in(n, cmd, in, in_len, timeout_ms, o, &status, e);
    rc = check_exit(rc, status, o, e);
    buf_free(&own);
    return rc;
}

int node_exec_ok(struct node *n, const char *cmd, int64_t timeout_ms, struct buf *out,
                 struct err *e)
{
    return exec_ok_in(n, cmd, NULL, 0, timeout_ms, out, e);
}

/* ---- tree walk ---- */

struct tree_entry {
    char *rel; /* path relative to the root, '/'-separated */
    mode_t mode;
    int is_dir;
    off_t size;
    time_t mtime;
};

struct tree {
    struct tree_entry *v;
    size_t n, cap;
};

static void tree_free(struct tree *t)
{
    for (size_t i = 0; i < t->n; i++)
        free(t->v[i].rel);
    free(t->v);
}

static int walk(struct tree *t, const char *root, const char *rel, int depth, struct err *e)
{
    char path[PATH_MAX];
    if (snprintf(path, sizeof path, "%s%s%s", root, *rel ? "/" : "", rel) >= (int)sizeof path)
        return err_set(e, -ENAMETOOLONG, "path too long: %.200s/%.200s", root, rel);
    if (depth > 32)
        return err_set(e, -ELOOP, "%s: folders nested too deep", path);
    DIR *d = opendir(path);
    if (!d)
        return err_set(e, -errno, "%s: %s", path, strerror(errno));
    struct dirent *de;
    int rc = 0;
    while (!rc && (de = readdir(d))) {
        if (de->d_name[0] == '.' || strcmp(de->d_name, "__pycache__") == 0)
            continue;
        char sub[PATH_MAX], full[PATH_MAX];
        if (snprintf(sub, sizeof sub, "%s%s%s", rel, *rel ? "/" : "", de->d_name) >=
                (int)sizeof sub ||
            snprintf(full, sizeof full, "%s/%s", root, sub) >= (int)sizeof full) {
            rc = err_set(e, -ENAMETOOLONG, "path too long: %.200s/%.200s", root, de->d_name);
            break;
        }
        struct stat st;
        if (stat(full, &st) < 0) {
            rc = err_set(e, -errno, "%s: %s", full, strerror(errno));
            break;
        }
        if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode))
            continue;
        if (t->n >= TREE_MAX_FILES) {
            rc = err_set(e, -E2BIG, "%s: more than %d files", root, TREE_MAX_FILES);
            break;
        }
        if (t->n == t->cap) {
            size_t cap = t->cap ? t->cap * 2 : 64;
            struct tree_entry *v = realloc(t->v, cap * sizeof *v);
            if (!v) {
                rc = err_set(e, -ENOMEM, "out of memory");
                break;
            }
            t->v = v;
            t->cap = cap;
        }
        struct tree_entry *te = &t->v[t->n];
        te->rel = mf_strdup(sub);
        if (!te->rel) {
            rc = err_set(e, -ENOMEM, "out of memory");
            break;
        }
        te->mode = st.st_mode & 07777;
        te->is_dir = S_ISDIR(st.st_mode);
        te->size = st.st_size;
        te->mtime = st.st_mtime;
        t->n++;
        if (te->is_dir)
            rc = walk(t, root, sub, depth + 1, e);
    }
    closedir(d);
    return rc;
}

static int entry_cmp(const void *a, const void *b)
{
    return strcmp(((const struct tree_entry *)a)->rel, ((const struct tree_entry *)b)->rel);
}

/* ---- a minimal ustar writer ---- */

static void octal(char *field, size_t width, uint64_t v)
{
    /* width-1 digits plus NUL, as POSIX ustar wants. */
    field[width - 1] = '\0';
    for (size_t i = width - 1; i-- > 0;) {
        field[i] = (char)('0' + (v & 7));
        v >>= 3;
    }
}

static int tar_header(struct buf *tar, const struct tree_entry *te, struct err *e)
{
    char h[512];
    memset(h, 0, sizeof h);
    char name[PATH_MAX];
    snprintf(name, sizeof name, "%s%s", te->rel, te->is_dir ? "/" : "");
    size_t len = strlen(name);
    if (len <= 100) {
        memcpy(h, name, len);
    } else {
        /* Split at a '/' so that prefix <= 155 and name <= 100. */
        size_t cut = 0;
        for (size_t i = 0; i < len && i <= 155; i++)
            if (name[i] == '/' && len - i - 1 <= 100 && len - i - 1 > 0)
                cut = i;
        if (!cut)
            return err_set(e, -ENAMETOOLONG, "path too long for ustar: %.200s", name);
        memcpy(h + 345, name, cut);
        memcpy(h, name + cut + 1, len - cut - 1);
    }
    octal(h + 100, 8, te->mode);
    octal(h + 108, 8, 0);
    octal(h + 116, 8, 0);
    octal(h + 124, 12, te->is_dir ? 0 : (uint64_t)te->size);
    octal(h + 136, 12, te->mtime > 0 ? (uint64_t)te->mtime : 0);
    h[156] = te->is_dir ? '5' : '0';
    memcpy(h + 257, "ustar", 6);
    memcpy(h + 263, "00", 2);
    memset(h + 148, ' ', 8);
    unsigned sum = 0;
    for (size_t i = 0; i < sizeof h; i++)
        sum += (unsigned char)h[i];
    octal(h + 148, 7, sum);
    h[155] = ' ';
    return buf_append(tar, h, sizeof h)
               ? err_set(e, -E2BIG, "tree larger than %u bytes", TREE_MAX_BYTES)
               : 0;
}

/* Hashes the tree and builds its tar stream in one pass over the sorted files. */
static int tree_pack(const char *root, struct tree *t, struct buf *tar, char hash[65],
                     uint64_t *nfiles, struct err *e)
{
    struct sha256 s;
    sha256_init(&s);
    *nfiles = 0;
    struct buf content;
    buf_init(&content, TREE_MAX_BYTES);
    int rc = 0;
    static const char zeros[1024];
    for (size_t i = 0; !rc && i < t->n; i++) {
        const struct tree_entry *te = &t->v[i];
        char meta[64];
        int ml = snprintf(meta, sizeof meta, "%c %o ", te->is_dir ? 'd' : 'f', (unsigned)te->mode);
        sha256_update(&s, meta, (size_t)ml);
        sha256_update(&s, te->rel, strlen(te->rel) + 1);
        rc = tar_header(tar, te, e);
        if (rc || te->is_dir)
            continue;
        char full[PATH_MAX];
        snprintf(full, sizeof full, "%s/%s", root, te->rel);
        buf_reset(&content);
        rc = mf_read_file(full, TREE_MAX_BYTES, &content, e);
        if (rc)
            break;
        char sz[32];
        int sl = snprintf(sz, sizeof sz, "%zu\n", content.len);
        sha256_update(&s, sz, (size_t)sl);
        sha256_update(&s, content.data ? content.data : "", content.len);
        /* The header's size came from stat(); the content may have changed since. */
        if ((uint64_t)content.len != (uint64_t)te->size) {
            struct tree_entry fixed = *te;
            fixed.size = (off_t)content.len;
            tar->len -= 512;
            rc = tar_header(tar, &fixed, e);
            if (rc)
                break;
        }
        size_t pad = (512 - content.len % 512) % 512;
        if (buf_append(tar, content.data ? content.data : "", content.len) ||
            buf_append(tar, zeros, pad))
            rc = err_set(e, -E2BIG, "tree %s larger than %u bytes", root, TREE_MAX_BYTES);
        (*nfiles)++;
    }
    if (!rc && buf_append(tar, zeros, sizeof zeros))
        rc = err_set(e, -E2BIG, "tree %s larger than %u bytes", root, TREE_MAX_BYTES);
    buf_free(&content);
    sha256_hex(&s, hash);
    return rc;
}

int node_sync_tree(struct node *n, const char *local_dir, const char *remote_dir, int *uploaded,
                   struct err *e)
{
    *uploaded = 0;
    struct tree t = {0};
    struct buf tar, cmd, out;
    buf_init(&tar, TREE_MAX_BYTES);
    buf_init(&cmd, 0);
    buf_init(&out, 4096);
    char hash[65];
    uint64_t nfiles = 0;
    int rc = 0;
    /* The folder is emptied before the upload: never a root or relative path. */
    if (remote_dir[0] != '/' || strspn(remote_dir, "/") == strlen(remote_dir)) {
        rc = err_set(e, -EINVAL, "sync to %s: the node folder must be absolute and not /",
                     remote_dir);
        goto fail;
    }
    rc = walk(&t, local_dir, "", 0, e);
    if (rc)
        goto fail;
    qsort(t.v, t.n, sizeof *t.v, entry_cmp);
    rc = tree_pack(local_dir, &t, &tar, hash, &nfiles, e);
    if (rc)
        goto fail;

    /* What the node has. A missing file reads as "". */
    if (buf_puts(&cmd, "cat ") || buf_shquote(&cmd, remote_dir) ||
        buf_puts(&cmd, "/" TREE_HASH_FILE " 2>/dev/null; true")) {
        rc = err_set(e, -ENOMEM, "out of memory");
        goto fail;
    }
    rc = node_exec_ok(n, cmd.data, node__cmd_timeout(n), &out, e);
    if (rc)
        goto fail;
    if (out.len >= 64 && memcmp(out.data, hash, 64) == 0)
        goto fail; /* up to date: rc == 0 */

    buf_reset(&cmd);
    struct buf qd;
    buf_init(&qd, 0);
    if (buf_shquote(&qd, remote_dir) ||
        buf_printf(&cmd,
                   "umask 077 && rm -rf %s && mkdir -p %s && tar -xf - -C %s && "
                   "printf '%%s\\n' %s > %s/" TREE_HASH_FILE,
                   qd.data, qd.data, qd.data, hash, qd.data)) {
        buf_free(&qd);
        rc = err_set(e, -ENOMEM, "out of memory");
        goto fail;
    }
    buf_free(&qd);
    buf_reset(&out);
    rc = exec_ok_in(n, cmd.data, tar.data, tar.len, node__cmd_timeout(n), &out, e);
    if (rc)
        goto fail;
    *uploaded = 1;
    n->bytes_uploaded += tar.len;
    n->files_uploaded += nfiles;
fail:
    tree_free(&t);
    buf_free(&tar);
    buf_free(&cmd);
    buf_free(&out);
    return rc;
}

void node__out_append(struct buf *out, const char *p, size_t n)
{
    if (!out)
        return;
    size_t max = out->max ? out->max : 64u << 20;
    if (out->len >= max)
        return;
    if (n > max - out->len)
        n = max - out->len;
    if (buf_append(out, p, n) != 0)
        return; /* out of memory: the output is cut short, as at its cap */
}
