/* rewrite.c - the matrix a cell runs with on its Slurm node (issue 23): the user's
 * matrix, as a YAML document, copied node by node into a new one with the node made
 * a local one there (its workdir, its CPUs in the allocation, its port), then
 * emitted. A copy rather than edits in place: libyaml's document has no way to drop
 * a mapping's pair. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "config.h"

struct rw {
    yaml_document_t *src, *dst;
    const struct cfg_matrix *m;
    const struct cfg_node_rewrite *rw;
    int failed;
};

static const char *scalar(yaml_node_t *n)
{
    return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static int add_str(struct rw *c, const char *v, int quoted)
{
    int id = yaml_document_add_scalar(
        c->dst, (yaml_char_t *)YAML_STR_TAG, (yaml_char_t *)v, (int)strlen(v),
        quoted ? YAML_DOUBLE_QUOTED_SCALAR_STYLE : YAML_PLAIN_SCALAR_STYLE);
    if (!id)
        c->failed = 1;
    return id;
}

static void add_pair(struct rw *c, int map, const char *k, const char *v, int quoted)
{
    int ki = add_str(c, k, 0), vi = add_str(c, v, quoted);
    if (ki && vi && !yaml_document_append_mapping_pair(c->dst, map, ki, vi))
        c->failed = 1;
}

static int copy(struct rw *c, int id, int depth, const char *key);

/* A mapping copied without the keys in drop (NULL-terminated), each pair's value
 * through copy() with its key. */
static int copy_map(struct rw *c, yaml_node_t *n, int depth, const char *const *drop)
{
    int map = yaml_document_add_mapping(c->dst, n->tag, n->data.mapping.style);
    if (!map) {
        c->failed = 1;
        return 0;
    }
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        const char *k = scalar(yaml_document_get_node(c->src, p->key));
        int skip = 0;
        for (size_t i = 0; k && drop && drop[i]; i++)
            skip = skip || strcmp(k, drop[i]) == 0;
        if (skip)
            continue;
        int ki = copy(c, p->key, depth + 1, NULL);
        int vi = copy(c, p->value, depth + 1, k);
        if (ki && vi && !yaml_document_append_mapping_pair(c->dst, map, ki, vi))
            c->failed = 1;
    }
    return map;
}

/* frameworks.NAME: its dir made absolute, where this machine finds it. */
static int copy_framework(struct rw *c, yaml_node_t *n, int depth)
{
    static const char *const drop[] = {"dir", NULL};
    if (n->type != YAML_MAPPING_NODE)
        return copy(c, (int)(n - c->src->nodes.start) + 1, depth, NULL);
    int map = copy_map(c, n, depth, drop);
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        const char *k = scalar(yaml_document_get_node(c->src, p->key));
        const char *v = scalar(yaml_document_get_node(c->src, p->value));
        if (!k || strcmp(k, "dir") != 0 || !v)
            continue;
        char joined[PATH_MAX], abs[PATH_MAX], base[PATH_MAX];
        while (v[0] == '.' && v[1] == '/')
            v += 2;
        if (v[0] == '/')
            snprintf(joined, sizeof joined, "%s", v);
        else if (snprintf(joined, sizeof joined, "%s/%s",
                          realpath(c->m->dir, base) ? base : c->m->dir, v) < 0)
            joined[0] = '\0';
        add_pair(c, map, "dir", realpath(joined, abs) ? abs : joined, 1);
    }
    return map;
}

static int copy(struct rw *c, int id, int depth, const char *key)
{
    yaml_node_t *n = yaml_document_get_node(c->src, id);
    if (!n || depth > 64) { /* the loader refused deeper nesting already */
        c->failed = 1;
        return 0;
    }
    char port[16];
    switch (n->type) {
    case YAML_SCALAR_NODE: {
        int r = yaml_document_add_scalar(c->dst, n->tag, n->data.scalar.value,
                                         (int)n->data.scalar.length, n->data.scalar.style);
        if (!r)
            c->failed = 1;
        return r;
    }
    case YAML_SEQUENCE_NODE: {
        int seq = yaml_document_add_sequence(c->dst, n->tag, n->data.sequence.style);
        if (!seq) {
            c->failed = 1;
            return 0;
        }
        for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top;
             it++) {
            int v = copy(c, *it, depth + 1, NULL);
            if (v && !yaml_document_append_sequence_item(c->dst, seq, v))
                c->failed = 1;
        }
        return seq;
    }
    case YAML_MAPPING_NODE:
        break;
    default:
        c->failed = 1;
        return 0;
    }
    if (depth == 1 && key && strcmp(key, "node") == 0) {
        static const char *const drop[] = {"transport", "slurm",    "host",        "port",
                                           "user",      "identity", "known_hosts", "listen",
                                           "workdir",   "cpus",     "server_port", NULL};
        int map = copy_map(c, n, depth, drop);
        snprintf(port, sizeof port, "%d", c->rw->server_port);
        add_pair(c, map, "transport", "local", 0);
        add_pair(c, map, "workdir", c->rw->workdir, 1);
        add_pair(c, map, "cpus", c->rw->cpus, 1);
        add_pair(c, map, "server_port", port, 0);
        return map;
    }
    if (depth == 1 && key && strcmp(key, "load") == 0) {
        static const char *const drop[] = {"cpus", NULL};
        int map = copy_map(c, n, depth, drop);
        add_pair(c, map, "cpus", c->rw->load_cpus, 1);
        return map;
    }
    if (depth == 1 && key && strcmp(key, "frameworks") == 0) {
        int map = yaml_document_add_mapping(c->dst, n->tag, n->data.mapping.style);
        if (!map) {
            c->failed = 1;
            return 0;
        }
        for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
             p++) {
            int ki = copy(c, p->key, depth + 1, NULL);
            int vi = copy_framework(c, yaml_document_get_node(c->src, p->value), depth + 1);
            if (ki && vi && !yaml_document_append_mapping_pair(c->dst, map, ki, vi))
                c->failed = 1;
        }
        return map;
    }
    int map = copy_map(c, n, depth, NULL);
    if (depth == 0) { /* the root: a matrix with no load section gets one */
        int has_load = 0;
        for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
             p++) {
            const char *k = scalar(yaml_document_get_node(c->src, p->key));
            has_load = has_load || (k && strcmp(k, "load") == 0);
        }
        if (!has_load) {
            int ki = add_str(c, "load", 0);
            int lm = yaml_document_add_mapping(c->dst, NULL, YAML_BLOCK_MAPPING_STYLE);
            if (!lm)
                c->failed = 1;
            else
                add_pair(c, lm, "cpus", c->rw->load_cpus, 1);
            if (ki && lm && !yaml_document_append_mapping_pair(c->dst, map, ki, lm))
                c->failed = 1;
        }
    }
    return map;
}

static int write_out(void *data, unsigned char *buffer, size_t size)
{
    return buf_append(data, buffer, size) == 0;
}

int cfg_node_matrix(const struct cfg_matrix *m, const struct cfg_node_rewrite *rw, char **out,
                    size_t *len, struct err *e)
{
    *out = NULL;
    *len = 0;
    if (!m->text)
        return err_set(e, -EINVAL, "%s: the matrix's text was not kept", m->path);
    yaml_parser_t parser;
    yaml_document_t src, dst;
    yaml_emitter_t em;
    struct buf b;
    buf_init(&b, ((size_t)4 << 20)); /* the loader takes 1 MiB; emitted, a little more */
    int rc = 0, have_src = 0, have_dst = 0;
    if (!yaml_parser_initialize(&parser))
        return err_set(e, -ENOMEM, "out of memory");
    yaml_parser_set_input_string(&parser, (const unsigned char *)m->text, m->text_len);
    if (!yaml_parser_load(&parser, &src)) {
        rc = err_set(e, -EINVAL, "%s: cannot be read again: %s", m->path,
                     parser.problem ? parser.problem : "YAML error");
        goto out;
    }
    have_src = 1;
    if (!yaml_document_get_root_node(&src)) {
        rc = err_set(e, -EINVAL, "%s: empty matrix", m->path);
        goto out;
    }
    if (!yaml_document_initialize(&dst, NULL, NULL, NULL, 1, 1)) {
        rc = err_set(e, -ENOMEM, "out of memory");
        goto out;
    }
    have_dst = 1;
    struct rw c = {.src = &src, .dst = &dst, .m = m, .rw = rw};
    copy(&c, 1, 0, NULL);
    if (c.failed) {
        rc = err_set(e, -ENOMEM, "%s: rewriting it for the node failed (out of memory)", m->path);
        goto out;
    }
    if (!yaml_emitter_initialize(&em)) {
        rc = err_set(e, -ENOMEM, "out of memory");
        goto out;
    }
    yaml_emitter_set_output(&em, write_out, &b);
    yaml_emitter_set_unicode(&em, 1);
    yaml_emitter_set_width(&em, -1);
    int ok = yaml_emitter_open(&em) && yaml_emitter_dump(&em, &dst) && yaml_emitter_close(&em);
    have_dst = 0; /* yaml_emitter_dump deletes it, whatever happens */
    if (!ok)
        rc = err_set(e, -EINVAL, "%s: the rewritten matrix cannot be written: %s", m->path,
                     em.problem ? em.problem : "out of memory");
    yaml_emitter_delete(&em);
    if (rc)
        goto out;
    /* What the node will load, loaded here first: a mistake is said before any
     * allocation is asked for. */
    struct cfg_matrix *check = NULL;
    struct err ce;
    err_clear(&ce);
    if (cfg_load_string("<node matrix>", b.data ? b.data : "", b.len, &check, &ce) != 0) {
        rc = err_set(e, ce.code ? ce.code : -EINVAL, "%s: the matrix rewritten for the node: %s",
                     m->path, ce.msg);
        goto out;
    }
    cfg_free(check);
    *len = b.len;
    *out = malloc(b.len + 1);
    if (!*out) {
        rc = err_set(e, -ENOMEM, "out of memory");
        goto out;
    }
    memcpy(*out, b.data, b.len);
    (*out)[b.len] = '\0';
out:
    if (have_dst)
        yaml_document_delete(&dst);
    if (have_src)
        yaml_document_delete(&src);
    yaml_parser_delete(&parser);
    buf_free(&b);
    return rc;
}
