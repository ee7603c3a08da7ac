/* exec.c - the cell executor: provision, start, verify, ramp, sample, store, stop.
 * Every command sent to the node is built here with each interpolated value
 * shell-quoted; names from the matrix are validated by config/ as well. */
#include "exec.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mfbench-config.h"
#include "exec_int.h"
#include "search.h"

#define LOG_TAIL_LINES 15

static void emit(struct exec_run *x, struct exec_event *ev)
{
    if (x->on_event)
        x->on_event(x->arg, ev);
}

void exec__logf(struct exec_run *x, int level, const char *fw, const char *pl, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    struct exec_event ev = {
        .kind = EXEC_EV_LOG, .level = level, .message = msg, .framework = fw, .payload = pl};
    emit(x, &ev);
}

/* Tells the caller (the daemon's forced stop) which process group is up, 0 = none. */
static void publish_pgid(struct exec_run *x, long pgid)
{
    if (x->server_pgid)
        atomic_store(x->server_pgid, pgid);
}

static int cancelled(const struct exec_run *x)
{
    return x->cancel && atomic_load(x->cancel);
}

const char *exec_targets_dir(const char *explicit_dir)
{
    struct stat st;
    if (explicit_dir)
        return stat(explicit_dir, &st) == 0 && S_ISDIR(st.st_mode) ? explicit_dir : NULL;
    const char *env = getenv("MFBENCH_TARGETS");
    if (env && *env)
        return stat(env, &st) == 0 && S_ISDIR(st.st_mode) ? env : NULL;
    if (stat(MFBENCH_SOURCE_TARGETS, &st) == 0 && S_ISDIR(st.st_mode))
        return MFBENCH_SOURCE_TARGETS;
    if (stat(MFBENCH_DATA_TARGETS, &st) == 0 && S_ISDIR(st.st_mode))
        return MFBENCH_DATA_TARGETS;
    return NULL;
}

int64_t exec__cmd_timeout_ms(const struct cfg_node *nc)
{
    return nc->command_timeout_ms > 0 ? nc->command_timeout_ms : 120000;
}

int64_t exec__pip_timeout_ms(const struct cfg_matrix *m, const struct cfg_framework *fw)
{
    int64_t t = exec__cmd_timeout_ms(&m->node);
    return exec__site_packages(m, fw) != CFG_VENV_SYSTEM && t < EXEC_PIP_TIMEOUT_MS
               ? EXEC_PIP_TIMEOUT_MS
               : t;
}

int64_t exec__versions_timeout_ms(const struct cfg_node *nc)
{
    int64_t t = exec__cmd_timeout_ms(nc);
    return t < EXEC_VERSIONS_TIMEOUT_MS ? t : EXEC_VERSIONS_TIMEOUT_MS;
}

static int64_t cmd_timeout(const struct exec_run *x)
{
    return exec__cmd_timeout_ms(&x->matrix->node);
}

/* One line of a command's output, trimmed. */
static void first_line(const char *s, char *out, size_t n)
{
    while (*s == ' ' || *s == '\n')
        s++;
    size_t i = 0;
    while (s[i] && s[i] != '\n' && i + 1 < n) {
        out[i] = s[i];
        i++;
    }
    out[i] = '\0';
}

/* Remote commands are built by chains of appends that keep the first error
 * (curl-style, or rc = rc ? rc : buf_...): one check before the command runs. */
static void cmd_puts(int *rc, struct buf *b, const char *s)
{
    if (!*rc)
        *rc = buf_puts(b, s);
}

static void cmd_quote(int *rc, struct buf *b, const char *s)
{
    if (!*rc)
        *rc = buf_shquote(b, s);
}

static int cmd_failed(int rc, struct err *e)
{
    if (!rc)
        return 0;
    return err_set(e, rc, "building a command for the node: %s",
                   rc == -E2BIG ? "too long" : "out of memory");
}

/* A cell's error text: truncated to max bytes rather than lost when longer
 * (a pip error can be long); NULL only when memory ran out. Caller frees. */
static char *msg_vformat(size_t max, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        return NULL;
    size_t len = (size_t)n < max ? (size_t)n : max;
    char *m = malloc(len + 1);
    if (m)
        vsnprintf(m, len + 1, fmt, ap);
    return m;
}

/* Sets the cell's status and error message (replacing an earlier one). */
static void set_error(struct cell_result *c, enum cell_status st, const char *fmt, ...)
    MF_PRINTF(3, 4);
static void set_error(struct cell_result *c, enum cell_status st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *m = msg_vformat(1 << 17, fmt, ap);
    va_end(ap);
    free(c->error);
    c->error = m;
    c->status = st;
}

/* The node's facts, one "key=value" line each, read by key: a probe that
 * fails (no such file, no lscpu, no cpufreq) prints an empty value and the
 * others still count. The CPU model is /proc/cpuinfo's "model name" (x86),
 * else lscpu's (ARM); the governor is that of the server's first CPU. (The
 * workdir is made and checked before, by node_workdir_open.) */
static int node_facts_cmd(struct buf *cmd, const struct cfg_node *nc)
{
    int rc = 0;
    long cpu0 = 0;
    cpu_set_t set;
    char why[160];
    /* The lowest CPU of the list, by the one parser (config checked it already). */
    if (nc->cpus && *nc->cpus && mf_cpus_parse(nc->cpus, &set, why, sizeof why) == 0)
        while (cpu0 < CPU_SETSIZE - 1 && !CPU_ISSET((int)cpu0, &set))
            cpu0++;
    char gov[128];
    snprintf(gov, sizeof(gov), "/sys/devices/system/cpu/cpu%ld/cpufreq/scaling_governor", cpu0);
    cmd_puts(&rc, cmd,
             "echo \"host=$(uname -n 2>/dev/null)\"; echo \"kernel=$(uname -r 2>/dev/null)\"; "
             "echo \"page=$(getconf PAGESIZE 2>/dev/null)\"; "
             "echo \"tck=$(getconf CLK_TCK 2>/dev/null)\"; "
             "echo \"cpus=$(getconf _NPROCESSORS_ONLN 2>/dev/null)\"; "
             "mf_m=$(awk '/^model name/{sub(/^[^:]*: */,\"\");print;exit}' /proc/cpuinfo "
             "2>/dev/null); [ -n \"$mf_m\" ] || mf_m=$(LC_ALL=C lscpu 2>/dev/null | "
             "sed -n 's/^Model name:[[:space:]]*//p' | head -n 1); echo \"cpu_model=$mf_m\"; "
             "echo \"governor=$(cat ");
    cmd_quote(&rc, cmd, gov);
    cmd_puts(&rc, cmd, " 2>/dev/null)\"; echo \"python=$(");
    cmd_quote(&rc, cmd, nc->python && nc->python[0] ? nc->python : "python3");
    cmd_puts(&rc, cmd,
             " -c 'import platform;print(platform.python_version())' 2>/dev/null </dev/null)\"; "
             "echo \"loadavg=$(cut -d ' ' -f 1 /proc/loadavg 2>/dev/null)\"");
    return rc;
}

/* The value of `key` in node_facts_cmd's output, trimmed, into out ("" when
 * absent). */
static void node_fact(const char *text, const char *key, char *out, size_t n)
{
    size_t klen = strlen(key);
    out[0] = '\0';
    for (const char *l = text ? text : ""; *l;) {
        const char *nl = strchr(l, '\n');
        size_t len = nl ? (size_t)(nl - l) : strlen(l);
        if (len > klen && strncmp(l, key, klen) == 0 && l[klen] == '=') {
            const char *v = l + klen + 1, *end = l + len;
            while (v < end && (*v == ' ' || *v == '\t'))
                v++;
            while (end > v && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
                end--;
            size_t vl = (size_t)(end - v) < n - 1 ? (size_t)(end - v) : n - 1;
            memcpy(out, v, vl);
            out[vl] = '\0';
            return;
        }
        l = nl ? nl + 1 : l + len;
    }
}

int exec_prepare_node(struct exec_run *x, struct run_record *run, struct err *e)
{
    const struct cfg_node *nc = &x->matrix->node;
    struct buf cmd, out;
    buf_init(&cmd, 0);
    buf_init(&out, 1 << 16);
    int rc;
    char dir[1024];

    /* What the profile asks for, stored with the run (the phases show only
     * what ran). A profile that does not resolve fails later, with its error. */
    {
        struct cfg_settings st;
        struct err se;
        err_clear(&se);
        if (cfg_resolve(x->matrix, x->profile, NULL, &st, &se) == 0)
            cfg_settings_describe(&st, run->settings, sizeof(run->settings));
        /* The database's settings are part of what was measured (compare judges by them). */
        if (run && cfg_has_db_payload(x->matrix)) {
            char db[300];
            size_t len = strlen(run->settings);
            cfg_database_describe(&x->matrix->database, db, sizeof db);
            snprintf(run->settings + len, sizeof(run->settings) - len, "%s%s", len ? "; " : "", db);
        }
    }
    /* The workdir first: nothing is put on the node before it is known to be ours. */
    rc = node_workdir_open(x->node, nc->workdir, e);
    if (rc)
        goto fail;
    const char *wd = node_workdir(x->node);
    rc = node_facts_cmd(&cmd, nc);
    if (rc) {
        err_set(e, rc, "out of memory");
        goto fail;
    }
    rc = node_exec_ok(x->node, cmd.data, cmd_timeout(x), &out, e);
    if (rc)
        goto fail;
    {
        char v[256];
        char *end;
        node_fact(out.data, "page", v, sizeof(v));
        long page = strtol(v, NULL, 10);
        node_fact(out.data, "tck", v, sizeof(v));
        long tck = strtol(v, NULL, 10);
        x->node_page_kb = page > 0 ? page / 1024 : 4;
        x->node_clk_tck = tck > 0 ? tck : 100;
        if (run) {
            node_fact(out.data, "host", run->node_host, sizeof(run->node_host));
            node_fact(out.data, "kernel", run->node_kernel, sizeof(run->node_kernel));
            mf_strlcpy(run->node_cpus, nc->cpus ? nc->cpus : "", sizeof(run->node_cpus));
            node_fact(out.data, "cpu_model", run->node_cpu_model, sizeof(run->node_cpu_model));
            node_fact(out.data, "governor", run->node_governor, sizeof(run->node_governor));
            node_fact(out.data, "python", run->node_python, sizeof(run->node_python));
            node_fact(out.data, "cpus", v, sizeof(v));
            long ncpu = strtol(v, &end, 10);
            run->node_cpu_count =
                end != v && *end == '\0' && ncpu > 0 && ncpu < 1 << 20 ? (int)ncpu : -1;
            node_fact(out.data, "loadavg", v, sizeof(v));
            double la = strtod(v, &end);
            run->node_loadavg = end != v && *end == '\0' && la >= 0 ? la : -1;
        }
    }

    rc = node_sampler_install(x->node, wd, e);
    if (rc)
        goto fail;

    if (x->targets_dir) {
        int uploaded = 0;
        snprintf(dir, sizeof(dir), "%s/targets", wd);
        rc = node_sync_tree(x->node, x->targets_dir, dir, &uploaded, e);
        if (rc)
            goto fail;
        exec__logf(x, 6, NULL, NULL, "targets %s on the node (%s)",
                   uploaded ? "uploaded" : "unchanged", dir);
    }
    /* Users' own target folders. */
    for (size_t i = 0; i < x->matrix->nframeworks; i++) {
        const struct cfg_framework *fw = &x->matrix->frameworks[i];
        if (!fw->dir)
            continue;
        char local[1024];
        cfg_framework_dir_path(x->matrix, fw, local, sizeof(local)); /* as check looks */
        int uploaded = 0;
        snprintf(dir, sizeof(dir), "%s/user/%s", wd, fw->name);
        rc = node_sync_tree(x->node, local, dir, &uploaded, e);
        if (rc)
            goto fail;
    }
    rc = 0;
fail:
    buf_free(&cmd);
    buf_free(&out);
    return rc;
}

/* ---- paths and templates ---- */

static void cell_paths(const struct exec_run *x, const struct cfg_framework *fw,
                       struct cell_paths *p)
{
    const char *wd = node_workdir(x->node);
    if (fw->dir)
        snprintf(p->dir, sizeof(p->dir), "%s/user/%s", wd, fw->name);
    else
        snprintf(p->dir, sizeof(p->dir), "%s/targets/%s", wd, fw->app ? fw->app : fw->name);
    snprintf(p->venv, sizeof(p->venv), "%s/venvs/%s", wd, fw->name);
    snprintf(p->python, sizeof(p->python), "%s/bin/python", p->venv);
    snprintf(p->pidfile, sizeof(p->pidfile), "%s/run/server.pid", wd);
    snprintf(p->logfile, sizeof(p->logfile), "%s/logs/%s.log", wd, fw->name);
    snprintf(p->samples, sizeof(p->samples), "%s/run/samples.txt", wd);
}

/* Expands {python} {dir} {host} {port} {workers} {name} {workdir} {connections};
 * every value is shell-quoted where it stands, so a template with one inside quotes
 * is refused (check refuses it first, with its line and column). An unknown
 * placeholder is an error naming it. A built-in target gets --connections N when
 * the matrix sets limits.connections.value (else its server keeps its default). */
static int expand_start(const struct exec_run *x, const struct cfg_framework *fw,
                        const struct cfg_payload *pl, const struct cell_paths *p, struct buf *out,
                        struct err *e)
{
    static const char builtin[] = "{python} {dir}/app.py --host {host} --port {port} "
                                  "--workers {workers}";
    static const char builtin_capped[] = "{python} {dir}/app.py --host {host} --port {port} "
                                         "--workers {workers} --connections {connections}";
    const struct cfg_limit *cap = &fw->limits.connections;
    const char *t = fw->start ? fw->start : cap->given ? builtin_capped : builtin;
    const struct cfg_node *nc = &x->matrix->node;
    char port[16], workers[16], conns[24];
    snprintf(port, sizeof(port), "%d", nc->server_port);
    snprintf(workers, sizeof(workers), "%d", fw->workers > 0 ? fw->workers : 1);
    snprintf(conns, sizeof(conns), "%lld", (long long)cap->value);
    const char *listen = nc->listen ? nc->listen : (nc->host ? nc->host : "127.0.0.1");
    char msg[200];
    size_t at;
    if (cfg_start_check(t, &at, msg, sizeof msg))
        return err_set(e, -EINVAL, "frameworks.%s.start: %s", fw->name, msg);
    while (*t) {
        if (*t != '{') {
            const char *next = strchr(t, '{');
            size_t n = next ? (size_t)(next - t) : strlen(t);
            if (buf_append(out, t, n))
                return err_set(e, -ENOMEM, "out of memory");
            t += n;
            continue;
        }
        const char *close = strchr(t, '}');
        if (!close)
            return err_set(e, -EINVAL, "frameworks.%s.start: unclosed '{'", fw->name);
        size_t n = (size_t)(close - t - 1);
        const char *v = NULL;
#define IS(k) (n == sizeof(k) - 1 && strncmp(t + 1, k, n) == 0)
        if (IS("python"))
            v = p->python;
        else if (IS("dir"))
            v = p->dir;
        else if (IS("host"))
            v = listen;
        else if (IS("port"))
            v = port;
        else if (IS("workers"))
            v = workers;
        else if (IS("name"))
            v = fw->name;
        else if (IS("workdir"))
            v = node_workdir(x->node);
        else if (IS("connections") && cap->given)
            v = conns; /* the loader refuses {connections} without a value */
#undef IS
        if (!v)
            return err_set(e, -EINVAL,
                           "frameworks.%s.start: unknown placeholder {%.*s} (have {python} {dir} "
                           "{host} {port} {workers} {name} {workdir} {connections})",
                           fw->name, (int)n, t + 1);
        if (buf_shquote(out, v))
            return err_set(e, -ENOMEM, "out of memory");
        t = close + 1;
    }
    /* A database payload's server is told where the database is, after the template's own
     * arguments (quoted: a dsn may hold a password and any URI character). */
    if (cfg_payload_is_db(pl) && exec__db_start_args(x, out) != 0)
        return err_set(e, -ENOMEM, "out of memory (or no database for --db-dsn)");
    return 0;
}

/* ---- provisioning ---- */

/* The venv's marker: what it was built from. It is written only after a
 * complete build, so a venv is reused only when it is whole and built from
 * the same requirements and settings. */
#define VENV_MARKER ".mfbench-venv"
#define PIP_TAIL_LINES 5
#define PIP_ERROR_LINES 8

int exec__site_packages(const struct cfg_matrix *m, const struct cfg_framework *fw)
{
    return fw->system_site_packages >= 0 ? fw->system_site_packages : m->node.system_site_packages;
}

/* The interpreter the framework's venv is made from: its own, else the node's. */
static const char *venv_python(const struct cfg_matrix *m, const struct cfg_framework *fw)
{
    return fw->python ? fw->python : m->node.python;
}

/* Every command that makes the venv or runs pip goes through mf_clean: a clean
 * environment with PATH and HOME only, pip's configuration files not read, so
 * pip sees what the matrix says and nothing of the caller's PIP_* (the local
 * transport passes the caller's environment through). Part of the venv's hash. */
#define VENV_CLEAN_ENV                                                                             \
    "mf_clean() { env -i PATH=\"$PATH\" HOME=\"$HOME\" LC_ALL=C.UTF-8 "                            \
    "PIP_CONFIG_FILE=/dev/null PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1 \"$@\"; }\n"

/* With system_site_packages: with_pip, run by the venv's python over
 * requirements.txt (argv 1): each requirement the interpreter's packages
 * satisfy (importlib.metadata, pip's own packaging for the specifier) is
 * written pinned to argv 3 (pip's constraints, so pip never replaces it), the
 * others to argv 2 (what pip installs). One line per requirement on stdout:
 * "mfbench-have: NAME==VERSION" or "mfbench-missing: LINE". */
static const char venv_missing_py[] =
    "import re, sys\n"
    "from importlib import metadata\n"
    "from pip._vendor.packaging.requirements import InvalidRequirement, Requirement\n"
    "src, missing, have = sys.argv[1:4]\n"
    "need, got = [], []\n"
    "with open(src, encoding='utf-8') as f:\n"
    "    for n, raw in enumerate(f, 1):\n"
    "        line = re.sub(r'(^|\\s)#.*', '', raw).strip()\n"
    "        if not line:\n"
    "            continue\n"
    "        if line.startswith('-'):\n"
    "            print('ERROR: %s:%d: options are not taken with system_site_packages: with_pip: "
    "%s'\n"
    "                  % (src, n, line))\n"
    "            sys.exit(1)\n"
    "        try:\n"
    "            r = Requirement(line)\n"
    "        except InvalidRequirement as e:\n"
    "            print('ERROR: %s:%d: %s' % (src, n, e))\n"
    "            sys.exit(1)\n"
    "        if r.marker is not None and not r.marker.evaluate():\n"
    "            continue\n"
    "        try:\n"
    "            v = metadata.version(r.name)\n"
    "        except metadata.PackageNotFoundError:\n"
    "            v = None\n"
    "        if v is not None and r.url is None and r.specifier.contains(v, prereleases=True):\n"
    "            got.append('%s==%s' % (r.name, v))\n"
    "            print('mfbench-have: ' + got[-1])\n"
    "        else:\n"
    "            need.append(line)\n"
    "            print('mfbench-missing: %s%s' % (line, ' (the node has %s)' % v if v else ''))\n"
    "for path, lines in ((missing, need), (have, got)):\n"
    "    with open(path, 'w', encoding='utf-8') as f:\n"
    "        f.write(''.join(l + '\\n' for l in lines))\n";

/* Appends node.pip as pip install options, each shell-quoted: --index-url,
 * --find-links (with --no-index when there is no index, so pip never reaches
 * out), then node.pip.args split on spaces. 0 or -ENOMEM/-E2BIG. */
static int append_pip_options(const struct cfg_node *nc, struct buf *cmd)
{
    int rc = 0;
    if (nc->pip_index_url) {
        rc = rc ? rc : buf_puts(cmd, " --index-url ");
        rc = rc ? rc : buf_shquote(cmd, nc->pip_index_url);
    }
    if (nc->pip_find_links) {
        rc = rc ? rc : buf_puts(cmd, " --find-links ");
        rc = rc ? rc : buf_shquote(cmd, nc->pip_find_links);
        if (!nc->pip_index_url)
            rc = rc ? rc : buf_puts(cmd, " --no-index");
    }
    for (const char *s = nc->pip_args; s && *s && !rc;) {
        while (*s == ' ' || *s == '\t')
            s++;
        size_t n = strcspn(s, " \t");
        if (n == 0)
            break;
        char *word = strndup(s, n);
        if (!word)
            return -ENOMEM;
        rc = buf_puts(cmd, " ");
        rc = rc ? rc : buf_shquote(cmd, word);
        free(word);
        s += n;
    }
    return rc;
}

/* The hash of what a venv is built from, besides requirements.txt (which is
 * hashed on the node): the mode, the interpreter, and where pip is used,
 * node.pip and the environment pip runs in. */
static void venv_settings_sha(const struct cfg_node *nc, const char *python, int mode, char out[65])
{
    static const char *const mode_name[] = {
        [CFG_VENV_PIP] = "pip",
        [CFG_VENV_SYSTEM] = "system-site-packages",
        [CFG_VENV_SYSTEM_PIP] = "system-site-packages+pip",
    };
    struct sha256 s;
    sha256_init(&s);
#define PART(k, v)                                                                                 \
    do {                                                                                           \
        const char *v_ = (v) ? (v) : "";                                                           \
        sha256_update(&s, k, strlen(k));                                                           \
        sha256_update(&s, v_, strlen(v_) + 1); /* the NUL separates the parts */                   \
    } while (0)
    PART("mode=", mode_name[mode]);
    PART("python=", python);
    if (mode != CFG_VENV_SYSTEM) {
        PART("index_url=", nc->pip_index_url);
        PART("find_links=", nc->pip_find_links);
        PART("args=", nc->pip_args);
        sha256_update(&s, "env=", 4);
        sha256_update(&s, VENV_CLEAN_ENV, sizeof(VENV_CLEAN_ENV)); /* with its NUL */
    }
    if (mode == CFG_VENV_SYSTEM_PIP) {
        sha256_update(&s, "filter=", 7);
        sha256_update(&s, venv_missing_py, sizeof(venv_missing_py));
    }
#undef PART
    sha256_hex(&s, out);
}

/* One line of pip's output, without its indentation. */
struct out_line {
    const char *s;
    size_t n;
};

/* Steps to the next line of out; 0 at the end. */
static int next_line(const char **cur, struct out_line *l)
{
    const char *p = *cur;
    if (!*p)
        return 0;
    size_t n = strcspn(p, "\n");
    *cur = p[n] ? p + n + 1 : p + n;
    while (n && (*p == ' ' || *p == '\t')) {
        p++;
        n--;
    }
    l->s = p;
    l->n = n;
    return 1;
}

/* A build's own error line: a compiler's "error:", a traceback's
 * "...Error:"; not pip's own "ERROR:" lines nor its "error: some-code" ones. */
static int is_build_error(const struct out_line *l)
{
    if (!l->n || !memmem(l->s, l->n, "rror:", 5) || strncmp(l->s, "ERROR:", 6) == 0)
        return 0;
    if (l->n > 7 && strncmp(l->s, "error: ", 7) == 0 &&
        strspn(l->s + 7, "abcdefghijklmnopqrstuvwxyz-") == l->n - 7)
        return 0;
    return 1;
}

/* The lines of a failed install a person needs, appended to m: on the first
 * line (what tables show) pip's last "ERROR:" line, else a build's first error
 * line, else the last line; then a build's own error lines, then pip's last
 * lines. */
static int append_install_error(struct buf *m, const char *out)
{
    int rc = 0, found = 0;
    struct out_line l, head = {NULL, 0}, build = {NULL, 0}, last = {NULL, 0};
    for (const char *cur = out; next_line(&cur, &l);) {
        if (strncmp(l.s, "ERROR:", 6) == 0)
            head = l;
        if (!build.s && is_build_error(&l))
            build = l;
        if (l.n)
            last = l;
    }
    if (!head.s)
        head = build.s ? build : last;
    if (head.s)
        rc = buf_printf(m, " %.*s", (int)(head.n > 300 ? 300 : head.n), head.s);
    for (const char *cur = out; !rc && found < PIP_ERROR_LINES && next_line(&cur, &l);) {
        if (is_build_error(&l)) {
            rc = buf_printf(m, "\n  %.*s", (int)(l.n > 300 ? 300 : l.n), l.s);
            found++;
        }
    }
    if (found && !rc)
        rc = buf_puts(m, "\n  ...");
    struct buf tail;
    buf_init(&tail, 0);
    rc = rc ? rc : buf_puts(&tail, out);
    if (!rc) {
        buf_tail_lines(&tail, PIP_TAIL_LINES);
        for (const char *cur = tail.data; !rc && next_line(&cur, &l);)
            if (l.n)
                rc = buf_printf(m, "\n  %.*s", (int)(l.n > 300 ? 300 : l.n), l.s);
    }
    buf_free(&tail);
    return rc;
}

/* The venv script's exit statuses besides 0 (ready) and 2 (anything else). */
enum {
    VENV_EXIT_CREATE = 3,   /* the interpreter or `python -m venv` failed */
    VENV_EXIT_INSTALL = 4,  /* pip (or the requirements' filter) failed; no venv left */
    VENV_EXIT_PYTHON = 5,   /* the interpreter does not satisfy requires_python */
    VENV_EXIT_NOSOURCE = 6, /* with_pip: requirements missing and node.pip names no source */
};

/* Appends the python -c program that exits VENV_EXIT_PYTHON unless the
 * interpreter satisfies the framework's requires_python, printing
 * "mfbench-python: X.Y.Z" and, when it does not, "mfbench-pin: VERSION" of the
 * line of requirements.txt (argv 2) pinning the app (argv 1). It runs on old
 * interpreters too: no f-strings. */
static int append_python_check(struct buf *cmd, const struct cfg_py_clause *cl, int n)
{
    struct buf code;
    buf_init(&code, 0);
    int rc = buf_puts(&code, "import re, sys\n"
                             "v = tuple(sys.version_info[:3])\n"
                             "print('mfbench-python: %d.%d.%d' % v)\n"
                             "if not (");
    for (int i = 0; i < n && !rc; i++) {
        rc = buf_printf(&code, "%sv[:%d] %s (", i ? " and " : "", cl[i].nv, cl[i].op);
        for (int j = 0; j < cl[i].nv && !rc; j++)
            rc = buf_printf(&code, "%d,", cl[i].v[j]);
        rc = rc ? rc : buf_puts(&code, ")");
    }
    rc =
        rc ? rc
           : buf_puts(&code,
                      "):\n"
                      "    try:\n"
                      "        for l in open(sys.argv[2]):\n"
                      "            m = re.match(r'\\s*([A-Za-z0-9_.-]+)\\s*==\\s*([^\\s;#]+)', l)\n"
                      "            if m and m.group(1).lower().replace('_', '-') == sys.argv[1]:\n"
                      "                print('mfbench-pin: ' + m.group(2))\n"
                      "                break\n"
                      "    except Exception:\n"
                      "        pass\n"
                      "    sys.exit(5)\n");
    rc = rc ? rc : buf_shquote(cmd, code.data);
    buf_free(&code);
    return rc;
}

/* Builds the script that makes the venv, or keeps it when its marker matches
 * (mode: an enum cfg_venv): with system site packages and no pip when the
 * node's python3-* packages are what is measured; isolated, pip installing
 * requirements.txt with node.pip; or with system site packages and pip
 * installing only the requirements they do not satisfy. First, when the
 * framework has requires_python, the interpreter is checked. Exit status: 0
 * ready (prints "mfbench-venv: built" or "reused"), a VENV_EXIT_*, or 2. */
static int venv_script(const struct exec_run *x, const struct cfg_framework *fw,
                       const struct cell_paths *p, int mode, struct buf *cmd)
{
    const struct cfg_node *nc = &x->matrix->node;
    const char *python = venv_python(x->matrix, fw);
    char sha[65];
    venv_settings_sha(nc, python, mode, sha);
    int rc = buf_puts(cmd, "v=");
    rc = rc ? rc : buf_shquote(cmd, p->venv);
    rc = rc ? rc : buf_puts(cmd, "; d=");
    rc = rc ? rc : buf_shquote(cmd, p->dir);
    rc = rc ? rc : buf_puts(cmd, "; py=");
    rc = rc ? rc : buf_shquote(cmd, python);
    rc = rc ? rc : buf_puts(cmd, "; w=");
    rc = rc ? rc : buf_shquote(cmd, node_workdir(x->node));
    rc = rc ? rc : buf_puts(cmd, "\n" VENV_CLEAN_ENV);
    rc = rc ? rc : buf_puts(cmd, "mkdir -p \"$w/venvs\" \"$w/run\" \"$w/logs\" || exit 2\n");
    if (fw->requires_python) {
        struct cfg_py_clause cl[CFG_PY_MAX_CLAUSES];
        char msg[200];
        int n = cfg_requires_python_parse(fw->requires_python, cl, msg, sizeof msg);
        if (n < 0)
            return -EINVAL; /* config refused it already */
        rc = rc ? rc : buf_puts(cmd, "mf_clean \"$py\" -c ");
        rc = rc ? rc : append_python_check(cmd, cl, n);
        rc = rc ? rc : buf_puts(cmd, " ");
        rc = rc ? rc : buf_shquote(cmd, fw->app ? fw->app : fw->name);
        rc = rc ? rc
                : buf_puts(cmd, " \"$d/requirements.txt\" 2>&1\n"
                                "s=$?; [ $s = 0 ] || { [ $s = 5 ] && exit 5; exit 3; }\n");
    }
    if (mode == CFG_VENV_SYSTEM) {
        rc = rc ? rc : buf_printf(cmd, "want=site-%s\n", sha);
    } else {
        rc = rc ? rc
                : buf_printf(cmd,
                             "[ -r \"$d/requirements.txt\" ] || { echo \"no requirements.txt in "
                             "$d\"; exit 4; }\n"
                             "command -v sha256sum >/dev/null 2>&1 || { echo 'sha256sum not "
                             "found on the node'; exit 2; }\n"
                             "want=$(sha256sum <\"$d/requirements.txt\" | cut -c1-64)-%s\n",
                             sha);
    }
    rc = rc ? rc
            : buf_puts(cmd, "if [ -x \"$v/bin/python\" ] && [ \"$(cat \"$v/" VENV_MARKER
                            "\" 2>/dev/null)\" = \"$want\" ]; then\n"
                            "  echo 'mfbench-venv: reused'; exit 0\nfi\n"
                            "rm -rf \"$v\" || exit 2\n");
    switch (mode) {
    case CFG_VENV_SYSTEM:
        rc = rc ? rc
                : buf_puts(cmd, "mf_clean \"$py\" -m venv --system-site-packages --without-pip "
                                "\"$v\" 2>&1 || { rm -rf \"$v\"; exit 3; }\n");
        break;
    case CFG_VENV_PIP:
        rc = rc ? rc
                : buf_puts(cmd,
                           "mf_clean \"$py\" -m venv \"$v\" 2>&1 || { rm -rf \"$v\"; exit 3; }\n"
                           "mf_clean \"$v/bin/python\" -m pip install -q -r "
                           "\"$d/requirements.txt\"");
        rc = rc ? rc : append_pip_options(nc, cmd);
        rc = rc ? rc : buf_puts(cmd, " </dev/null 2>&1 || { rm -rf \"$v\"; exit 4; }\n");
        break;
    default: /* CFG_VENV_SYSTEM_PIP */
        rc = rc ? rc
                : buf_puts(cmd, "mf_clean \"$py\" -m venv --system-site-packages \"$v\" 2>&1 || "
                                "{ rm -rf \"$v\"; exit 3; }\n"
                                "mf_clean \"$v/bin/python\" -c ");
        rc = rc ? rc : buf_shquote(cmd, venv_missing_py);
        rc = rc ? rc
                : buf_puts(cmd, " \"$d/requirements.txt\" \"$v/.mfbench-missing.txt\" "
                                "\"$v/.mfbench-system.txt\" </dev/null 2>&1 || "
                                "{ rm -rf \"$v\"; exit 4; }\n"
                                "if [ -s \"$v/.mfbench-missing.txt\" ]; then\n");
        if (!nc->pip_index_url && !nc->pip_find_links) {
            /* pip would go to PyPI: a lab says where its wheels are instead. */
            rc = rc ? rc : buf_puts(cmd, "  rm -rf \"$v\"; exit 6\n");
        } else {
            rc = rc ? rc
                    : buf_puts(cmd, "  mf_clean \"$v/bin/python\" -m pip install -q -r "
                                    "\"$v/.mfbench-missing.txt\" -c \"$v/.mfbench-system.txt\"");
            rc = rc ? rc : append_pip_options(nc, cmd);
            rc = rc ? rc : buf_puts(cmd, " </dev/null 2>&1 || { rm -rf \"$v\"; exit 4; }\n");
        }
        rc = rc ? rc : buf_puts(cmd, "fi\n");
        break;
    }
    rc = rc ? rc
            : buf_puts(cmd, "echo \"$want\" >\"$v/" VENV_MARKER "\" || { rm -rf \"$v\"; exit 2; }\n"
                            "echo 'mfbench-venv: built'\n");
    return rc;
}

/* Sets the cell skipped with a message. Returns 1, or -ENOMEM. */
static int skip_cell(struct cell_result *c, struct buf *m, struct err *e)
{
    if (!m->data) {
        buf_free(m);
        return err_set(e, -ENOMEM, "out of memory");
    }
    free(c->error);
    c->error = m->data;
    c->status = CELL_SKIPPED;
    return 1;
}

/* How many lines of out start with prefix. */
static int count_lines(const char *out, const char *prefix)
{
    int n = 0;
    size_t pl = strlen(prefix);
    for (const char *l = out; l && *l;) {
        if (!strncmp(l, prefix, pl))
            n++;
        l = strchr(l, '\n');
        l = l ? l + 1 : NULL;
    }
    return n;
}

/* The value after prefix on its first line in out, trimmed, into v ("" if none). */
static void line_value(const char *out, const char *prefix, char *v, size_t n)
{
    const char *at = out ? strstr(out, prefix) : NULL;
    while (at && at != out && at[-1] != '\n')
        at = strstr(at + 1, prefix);
    first_line(at ? at + strlen(prefix) : "", v, n);
}

/* The one line a too-new (or too-old) interpreter skips with: what needs
 * what, what the node has, and what to set. */
static int append_python_skip(struct buf *m, const struct cfg_matrix *mx,
                              const struct cfg_framework *fw, const char *out)
{
    struct cfg_py_clause cl[CFG_PY_MAX_CLAUSES];
    char msg[200], have[64], pin[64];
    int n = cfg_requires_python_parse(fw->requires_python, cl, msg, sizeof msg);
    line_value(out, "mfbench-python: ", have, sizeof have);
    line_value(out, "mfbench-pin: ", pin, sizeof pin);
    /* X.Y of X.Y.Z: what a lab compares with the bound. */
    char *dot = strchr(have, '.');
    if (dot && (dot = strchr(dot + 1, '.')) != NULL)
        *dot = '\0';
    struct buf bound;
    buf_init(&bound, 0);
    int rc = 0;
    for (int i = 0; i < n && !rc; i++) {
        rc = buf_printf(&bound, "%s%s %d", i ? ", " : "", cl[i].op, cl[i].v[0]);
        for (int j = 1; j < cl[i].nv && !rc; j++)
            rc = buf_printf(&bound, ".%d", cl[i].v[j]);
    }
    const char *app = fw->app ? fw->app : fw->name;
    rc = rc ? rc
            : buf_printf(m,
                         "%s%s%s needs Python %s; this node has %s (%s): set frameworks.%s.python "
                         "to a Python %s on the node",
                         app, pin[0] ? " " : "", pin, bound.data ? bound.data : "",
                         have[0] ? have : "another", venv_python(mx, fw), fw->name,
                         bound.data ? bound.data : "");
    buf_free(&bound);
    return rc;
}

/* with_pip without a pip source: the one line naming what the node lacks. */
static int append_nosource_skip(struct buf *m, const struct cfg_framework *fw, const char *out)
{
    int rc = buf_printf(m, "%s: the node's Python packages lack", fw->name);
    const char *sep = " ";
    for (const char *l = out; !rc && l && *l;) {
        const char *nl = strchr(l, '\n');
        size_t len = nl ? (size_t)(nl - l) : strlen(l);
        if (!strncmp(l, "mfbench-missing: ", 17)) {
            rc = buf_printf(m, "%s%.*s", sep, (int)(len - 17 > 200 ? 200 : len - 17), l + 17);
            sep = ", ";
        }
        l = nl ? nl + 1 : NULL;
    }
    return rc ? rc
              : buf_puts(m, ": install them, or put their wheels in a folder and set "
                            "node.pip.find_links to it (README: \"Frameworks that Debian does not "
                            "package\")");
}

/* Keeps a framework's venv skip for the rest of the run (without memory, its
 * later cells just try again). */
static void remember_venv_skip(struct exec_run *x, const struct cfg_framework *fw, const char *why)
{
    const struct cfg_matrix *m = x->matrix;
    size_t i = (size_t)(fw - m->frameworks);
    if (i >= m->nframeworks || !why)
        return;
    if (!x->venv_skips)
        x->venv_skips = calloc(m->nframeworks, sizeof(*x->venv_skips));
    if (x->venv_skips && !x->venv_skips[i])
        x->venv_skips[i] = strdup(why);
}

/* The reason a framework's venv could not be made earlier in this run, or NULL. */
static const char *venv_skip_of(const struct exec_run *x, const struct cfg_framework *fw)
{
    size_t i = (size_t)(fw - x->matrix->frameworks);
    return x->venv_skips && i < x->matrix->nframeworks ? x->venv_skips[i] : NULL;
}

void exec_run_close(struct exec_run *x)
{
    exec__db_stop(x);
    if (x->venv_skips)
        for (size_t i = 0; i < x->matrix->nframeworks; i++)
            free(x->venv_skips[i]);
    free(x->venv_skips);
    x->venv_skips = NULL;
}

/* Creates or reuses the venv and asks the app for its versions. Returns 0
 * ready, 1 skipped (reason in c->error), negative on transport failure. */
static int provision(struct exec_run *x, const struct cfg_framework *fw, const struct cell_paths *p,
                     struct cell_result *c, struct err *e)
{
    struct buf cmd, out, m;
    buf_init(&cmd, 0);
    buf_init(&out, 1 << 20);
    buf_init(&m, 1 << 16);
    int rc = 0, status = 0;
    int mode = exec__site_packages(x->matrix, fw);

    if (venv_script(x, fw, p, mode, &cmd)) {
        rc = err_set(e, -ENOMEM, "out of memory");
        goto done;
    }
    rc = node_exec(x->node, cmd.data, exec__pip_timeout_ms(x->matrix, fw), &out, &status, e);
    if (rc)
        goto done;
    if (status != 0) {
        const char *o = out.data ? out.data : "";
        int r;
        if (status == VENV_EXIT_PYTHON)
            r = append_python_skip(&m, x->matrix, fw, o);
        else if (status == VENV_EXIT_NOSOURCE)
            r = append_nosource_skip(&m, fw, o);
        else if (status == VENV_EXIT_INSTALL)
            r = buf_printf(&m, "%s: cannot install %s/requirements.txt:", fw->name, p->dir);
        else
            r = buf_printf(&m, "%s: cannot create the venv %s (exit status %d):", fw->name, p->venv,
                           status);
        if (!r && (status == VENV_EXIT_INSTALL || status == VENV_EXIT_CREATE || status == 2))
            r = append_install_error(&m, o);
        if (r) {
            rc = err_set(e, r, "out of memory");
            goto done;
        }
        rc = skip_cell(c, &m, e);
        buf_init(&m, 0); /* owned by the cell now */
        if (rc == 1)
            remember_venv_skip(x, fw, c->error);
        goto done;
    }
    {
        static const char *const how[] = {
            [CFG_VENV_PIP] = "pip, requirements.txt",
            [CFG_VENV_SYSTEM] = "system site packages",
            [CFG_VENV_SYSTEM_PIP] = "system site packages, pip for what they lack",
        };
        int have = count_lines(out.data, "mfbench-have: "),
            missing = count_lines(out.data, "mfbench-missing: ");
        if (mode == CFG_VENV_SYSTEM_PIP && (have || missing))
            exec__logf(x, 6, fw->name, NULL,
                       "venv built (%s: %d of %d requirements from the node, %d by pip)", how[mode],
                       have, have + missing, missing);
        else
            exec__logf(x, 6, fw->name, NULL, "venv %s (%s)",
                       out.data && strstr(out.data, "mfbench-venv: reused") ? "reused" : "built",
                       how[mode]);
    }

    /* Versions: the app itself says what it will run, or why it cannot. A
     * user's own start command without an app.py records the python only. */
    buf_reset(&cmd);
    buf_reset(&out);
    rc = buf_puts(&cmd, "cd ");
    rc = rc ? rc : buf_shquote(&cmd, p->dir);
    rc = rc ? rc : buf_puts(&cmd, " && exec ");
    rc = rc ? rc : buf_shquote(&cmd, p->python);
    if (fw->start) /* a user's own server: its app.py is not ours to run with flags */
        rc = rc ? rc
                : buf_puts(&cmd, " -c 'import json,platform;print(json.dumps({\"python\":"
                                 "platform.python_version()}))'");
    else
        rc = rc ? rc : buf_puts(&cmd, " app.py --versions");
    if (rc) {
        rc = err_set(e, rc, "out of memory");
        goto done;
    }
    if ((rc = cmd_failed(rc, e)) != 0)
        goto done;
    rc =
        node_exec(x->node, cmd.data, exec__versions_timeout_ms(&x->matrix->node), &out, &status, e);
    if (rc)
        goto done;
    if (status != 0) {
        char line[512];
        buf_tail_lines(&out, 1);
        first_line(out.data ? out.data : "", line, sizeof(line));
        int r = line[0] ? buf_puts(&m, line)
                        : buf_printf(&m, "%s: app.py --versions exited with status %d", fw->name,
                                     status);
        if (r) {
            rc = err_set(e, r, "out of memory");
            goto done;
        }
        rc = skip_cell(c, &m, e);
        buf_init(&m, 0);
        goto done;
    }
    {
        /* The last line that looks like a JSON object. */
        char *s = out.data ? out.data : "";
        char *obj = NULL;
        for (char *l = s; l && *l;) {
            char *nl = strchr(l, '\n');
            if (nl)
                *nl = '\0';
            while (*l == ' ')
                l++;
            if (*l == '{')
                obj = l;
            l = nl ? nl + 1 : NULL;
        }
        free(c->versions_json);
        c->versions_json = obj ? strdup(obj) : NULL;
        if (obj && !c->versions_json) {
            rc = err_set(e, -ENOMEM, "out of memory");
            goto done;
        }
    }
    rc = 0;
done:
    buf_free(&cmd);
    buf_free(&out);
    buf_free(&m);
    return rc;
}

/* ---- the ramp ---- */

struct progress_ctx {
    struct exec_run *x;
    const char *fw, *pl;
    int users, seq;
    double planned_s;
};

static void on_progress(void *arg, const struct run_progress *p)
{
    struct progress_ctx *pc = arg;
    struct exec_event ev = {.kind = EXEC_EV_PROGRESS,
                            .framework = pc->fw,
                            .payload = pc->pl,
                            .users = pc->users,
                            .seq = pc->seq,
                            .progress = p,
                            .phase_duration_s = pc->planned_s};
    emit(pc->x, &ev);
}

static enum run_think_kind think_kind(const struct cfg_think *t)
{
    if (t->min_ms == 0 && t->max_ms == 0)
        return RUN_THINK_NONE;
    switch (t->kind) {
    case CFG_THINK_CONSTANT:
        return RUN_THINK_CONSTANT;
    case CFG_THINK_PACING:
        return RUN_THINK_PACING;
    case CFG_THINK_BETWEEN:
    default:
        return RUN_THINK_BETWEEN;
    }
}

static int server_alive_cb(void *arg)
{
    void **a = arg;
    struct err e;
    err_clear(&e);
    return node_server_alive(a[0], a[1], &e) != 0; /* errors count as alive: keep probing */
}

static void append_log_tail(struct exec_run *x, struct node_server *srv, struct cell_result *c)
{
    struct buf tail;
    struct err e;
    err_clear(&e);
    buf_init(&tail, 1 << 16);
    if (node_server_log_tail(x->node, srv, LOG_TAIL_LINES, &tail, &e) == 0 && tail.len) {
        set_error(c, c->status, "%s\n--- last lines of the server's log ---\n%s",
                  c->error ? c->error : "", tail.data);
    }
    buf_free(&tail);
}

/* ---- the breaking-point search ---- */

/* Starts (or restarts) the server and waits until it answers correctly.
 * 0 = ready; 1 = the cell ended (status and error set). */
static int server_fresh(struct cell_ctx *k, struct cell_result *c)
{
    struct exec_run *x = k->x;
    const struct cfg_node *nc = &x->matrix->node;
    int stopped_ours = k->server_up;
    if (k->server_up) {
        if (node_server_stop(x->node, &k->srv, EXEC_STOP_GRACE_MS, &k->cerr) != 0)
            exec__logf(x, 4, k->fw->name, k->pl->name, "stopping the server before a restart: %s",
                       k->cerr.msg);
        err_clear(&k->cerr);
        k->server_up = 0;
        publish_pgid(x, 0);
    }
    /* A server left by an earlier, killed mfbench on this port. */
    int stale = 0;
    if (node_server_stop_pidfile(x->node, k->p.pidfile, EXEC_STOP_GRACE_MS, &stale, &k->cerr) != 0)
        exec__logf(x, 4, k->fw->name, k->pl->name, "stopping a server left on the node: %s",
                   k->cerr.msg);
    else if (stale)
        exec__logf(x, 4, k->fw->name, k->pl->name,
                   "stopped a server an earlier run left on the node");
    err_clear(&k->cerr);
    /* Whatever already listens on the port would answer the probe and the
     * load in the server's place (ours would fail to bind, or share the port
     * with SO_REUSEPORT): measuring it would store another process's numbers. */
    char who[256];
    int busy = node_port_listener(x->node, nc->server_port, who, sizeof who, &k->cerr);
    /* The server just stopped may hold its listener a moment longer: a
     * process whose threads are still exiting (thousands of them, one per
     * held connection) already shows its leader as a zombie. */
    for (int64_t t0 = mono_ms(); stopped_ours && busy > 0 && mono_ms() - t0 < EXEC_STOP_GRACE_MS;) {
        struct timespec ts = {0, 100 * 1000 * 1000};
        nanosleep(&ts, NULL);
        busy = node_port_listener(x->node, nc->server_port, who, sizeof who, &k->cerr);
    }
    if (busy < 0) {
        set_error(c, CELL_ERROR, "checking that port %d is free on the node: %s", nc->server_port,
                  k->cerr.msg);
        err_clear(&k->cerr);
        return 1;
    }
    if (busy > 0) {
        set_error(c, CELL_ERROR,
                  "port %d on the node is already in use (%s): that process would answer in "
                  "the server's place; stop it, or set node.server_port",
                  nc->server_port, who);
        return 1;
    }
    if (node_server_start(x->node, k->cmd, k->p.dir, nc->cpus, nc->nofile, k->p.pidfile,
                          k->p.logfile, &k->srv, &k->cerr) != 0) {
        set_error(c, CELL_FAILED, "server did not start: %s", k->cerr.msg);
        return 1;
    }
    k->server_up = 1;
    publish_pgid(x, k->srv.pid);
    if (k->srv.warning[0])
        exec__logf(x, 4, k->fw->name, k->pl->name, "%s", k->srv.warning);
    struct probe_expect pe = {.body = k->body,
                              .body_len = k->body_len,
                              .length = k->pl->length,
                              .content_type = k->pl->content_type};
    if (cfg_payload_is_db(k->pl)) {
        /* The payload's rule decides (it checks the Content-Type itself), not bytes. */
        exec__db_rule(x, k->pl, &k->rule);
        pe = (struct probe_expect){.length = -1, .check = node_db_check, .check_arg = &k->rule};
    }
    void *alive_arg[2] = {x->node, &k->srv};
    int64_t ready = exec__ready_timeout_ms(&k->st);
    int prc = probe_wait(k->url, &pe, ready, x->cancel, server_alive_cb, alive_arg, &k->cerr);
    if (prc != 0) {
        if (cancelled(x)) {
            c->status = CELL_CANCELLED;
        } else if (prc == -EPROTO) {
            set_error(c, CELL_ERROR, "wrong response from %s: %s", k->url, k->cerr.msg);
        } else if (prc == -ESRCH) {
            set_error(c, CELL_FAILED, "server exited before it was ready");
            append_log_tail(x, &k->srv, c);
        } else {
            set_error(c, CELL_FAILED, "server not ready: %s", k->cerr.msg);
            append_log_tail(x, &k->srv, c);
        }
        err_clear(&k->cerr);
        return 1;
    }
    k->need_start = 0;
    exec__logf(x, 6, k->fw->name, k->pl->name, "server ready pid=%ld nofile=%lld url=%s",
               k->srv.pid, (long long)k->srv.nofile, k->url);
    if (cfg_payload_is_db(k->pl) && !k->db_checked) {
        /* Once per cell: answers by the rule and the queries they made, from PostgreSQL. */
        char why[600];
        if (exec__db_burst(k, c, why, sizeof why) != 0) {
            set_error(c, CELL_ERROR, "verification of %s: %s", k->url, why);
            return 1;
        }
        k->db_checked = 1;
    }
    return 0;
}

/* The per-second series of a phase as the store keeps it (a second without a
 * response has no percentiles: -1). Malloc'd, caller frees; NULL when there is
 * none or no memory (said in the log: the series is optional). */
static struct store_series_point *series_of(struct cell_ctx *k, const struct run_report *rep,
                                            size_t *n)
{
    *n = 0;
    if (!rep->nseries)
        return NULL;
    struct store_series_point *pts = calloc(rep->nseries, sizeof(*pts));
    if (!pts) {
        exec__logf(k->x, 4, k->fw->name, k->pl->name, "phase series not kept: out of memory");
        return NULL;
    }
    for (size_t i = 0; i < rep->nseries; i++) {
        const struct run_series_point *sp = &rep->series[i];
        int none = sp->requests == 0;
        pts[i] = (struct store_series_point){.t_s = sp->t_s,
                                             .users = sp->users,
                                             .requests = sp->requests,
                                             .failures = sp->failures,
                                             .p50_ms = none ? -1 : sp->p50_ms,
                                             .p99_ms = none ? -1 : sp->p99_ms};
    }
    *n = rep->nseries;
    return pts;
}

/* Stores the series of a stored phase (its own transaction, after the phase
 * row is committed). Optional: a failure is logged and the phase stands. */
static void store_series(struct cell_ctx *k, int64_t phase_id, const struct store_series_point *pts,
                         size_t n)
{
    struct err se;
    err_clear(&se);
    if (n && store_phase_series_add(k->x->store, phase_id, pts, n, &se) != 0)
        exec__logf(k->x, 4, k->fw->name, k->pl->name, "phase series not stored: %s", se.msg);
}

void exec__spec_of(const struct cfg_settings *st, int users, struct phase_spec *ps)
{
    *ps = (struct phase_spec){.users = users,
                              .rate = st->rate,
                              .think = st->think,
                              .duration_ms = st->duration_ms,
                              .warmup_ms = st->warmup_ms,
                              .spawn_rate = st->spawn_rate};
}

/* An SLO probe's early stop: once it can no longer pass (slo_probe_hopeless). */
struct slo_watch {
    const struct slo_plan *plan;
    double rate;
};

static int slo_watch_cb(void *arg, const struct run_progress *p)
{
    const struct slo_watch *w = arg;
    return slo_probe_hopeless(w->plan, w->rate, p->over_bound, p->backlog);
}

/* What slo_judge needs, from a finished probe's phase. */
static void slo_probe_of(const struct phase_result *ph, double rate, struct slo_probe *pr)
{
    *pr = (struct slo_probe){
        .rate = rate,
        .window_s = ph->duration_s,
        .offered = ph->offered,
        .completed = ph->completed,
        .samples = ph->completed + ph->unsent_due,
        .over_bound = ph->over_bound,
        .failures = ph->failures,
        .wrong = ph->failures_by_kind[FAIL_BODY] + ph->failures_by_kind[FAIL_PROTOCOL],
        .client_failures = ph->failures_by_kind[FAIL_CLIENT],
        .missed_schedule = ph->missed_schedule,
        .in_flight = ph->in_flight,
        .stopped_early = ph->stopped_early,
    };
}

/* The load engine's side of a phase (issue 21): /proc/stat of this machine on
 * the load CPUs, and this process's own CPU, at both ends of the phase. What
 * the load CPUs spent on other processes, or lost to steal, is interference
 * the engine's own figure (client_cpu_pct) cannot show: a hog on its core
 * lowers it. Without load.cpus the engine is not pinned: unknown. */
struct client_watch {
    struct node_cpu_times t0, t1;
    double cpu0_s, cpu1_s; /* this process's user + sys at the start and the end */
    int64_t t0_ms, t1_ms;  /* when t0 and t1 were read (mono_ms) */
    int on;                /* t0 read; t1 too after client_watch_end, unless it failed */
    int noisy;             /* set by client_watch_judge */
};

static double self_cpu_s(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return -1;
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static void client_watch_begin(struct exec_run *x, struct client_watch *w)
{
    const char *cpus = x->matrix->load_cpus;
    struct err e;
    err_clear(&e);
    memset(w, 0, sizeof(*w));
    w->cpu0_s = self_cpu_s();
    w->t0_ms = mono_ms();
    w->on = cpus && *cpus && w->cpu0_s >= 0 && node_cpu_times_read(cpus, &w->t0, &e) == 0;
}

/* The readings at the phase's end, right after the load: the share is judged
 * later (client_watch_judge), once the node's sampler said what the run's
 * database used. */
static void client_watch_end(struct exec_run *x, struct cell_ctx *k, struct client_watch *w)
{
    struct err e;
    err_clear(&e);
    if (!w->on)
        return;
    w->cpu1_s = self_cpu_s();
    w->t1_ms = mono_ms();
    if (w->cpu1_s < 0 || node_cpu_times_read(x->matrix->load_cpus, &w->t1, &e) != 0) {
        exec__logf(x, 4, k->fw->name, k->pl->name, "load CPUs' figures unknown: %s",
                   e.msg[0] ? e.msg : "getrusage failed");
        w->on = 0;
    }
}

/* The load CPUs' steal and neighbours over the phase. db_pct (% of one CPU, <=
 * 0 none): the run's database's mean CPU over the phase when it may run on the
 * load CPUs of this machine (a local node): part of the system under test, so
 * not a neighbour's; taken at that rate over this side's own span. */
static void client_watch_judge(struct client_watch *w, double db_pct, struct phase_result *ph)
{
    ph->client_steal_pct = ph->client_neighbour_cpu_pct = -1;
    if (!w->on)
        return;
    long tck = sysconf(_SC_CLK_TCK); /* /proc/stat's unit */
    double hz = (double)(tck > 0 ? tck : 100);
    double own = (w->cpu1_s - w->cpu0_s) * hz;
    if (db_pct > 0 && w->t1_ms > w->t0_ms)
        own += db_pct / 100.0 * hz * (double)(w->t1_ms - w->t0_ms) / 1000.0;
    w->noisy = node_cpu_share(&w->t0, &w->t1, own, &ph->client_steal_pct,
                              &ph->client_neighbour_cpu_pct) > 0;
}

/* A database cell whose peak (the passing search phase of the highest req/s, as
 * peak_rps_passing; any search phase when none passed), or whose SLO limit (the failing SLO
 * probe of the lowest rate: the top of the bracket), was measured in a db_bound phase says so
 * in its note: the database, not the server, was the limit. */
static void db_bound_note(struct exec_run *x, struct cell_result *c)
{
    const struct phase_result *peak = NULL, *slo = NULL;
    for (size_t i = 0; i < c->nphases; i++) {
        const struct phase_result *p = &c->phases[i];
        int passed = !p->stop_reason[0];
        if (phase_in_search(p) && (!peak || (passed && peak->stop_reason[0]) ||
                                   (passed == !peak->stop_reason[0] && p->rps > peak->rps)))
            peak = p;
        if (!strcmp(p->kind, "slo") && p->stop_reason[0] &&
            (!slo || p->offered_rps < slo->offered_rps))
            slo = p;
    }
    const char *what = peak && peak->db_bound && slo && slo->db_bound ? "peak and SLO limit"
                       : peak && peak->db_bound                       ? "peak"
                       : slo && slo->db_bound                         ? "SLO limit"
                                                                      : NULL;
    if (!what)
        return;
    const struct phase_result *p = peak && peak->db_bound ? peak : slo;
    size_t len = strlen(c->note);
    if (len + 1 < sizeof(c->note))
        snprintf(c->note + len, sizeof(c->note) - len,
                 "%sthe database, not the server, was the limit: the %s was measured while "
                 "PostgreSQL used %.0f%% CPU (db-bound)",
                 len ? "; " : "", what, p->db_cpu_pct);
    exec__logf(x, 4, c->framework, c->payload, "the database, not the server, was the limit (%s)",
               what);
}

/* Runs, samples, classifies, stores and reports one phase. Returns a
 * search_outcome (with the phase's req/s and load_bound flag; the phase itself
 * in *out when out is not NULL), or a negative code (e set) when the store
 * failed. */
int exec__run_phase(struct cell_ctx *k, struct cell_result *c, const struct phase_spec *ps,
                    const char *kind, double *rps, int *load_bound, struct phase_result *out,
                    struct err *e)
{
    struct exec_run *x = k->x;
    const struct cfg_settings *st = &k->st;
    int users = ps->users;
    if (cancelled(x)) {
        c->status = CELL_CANCELLED;
        return SEARCH_END;
    }
    if (k->need_start && server_fresh(k, c) != 0)
        return SEARCH_END;

    struct run_opts o;
    struct run_report rep;
    run_opts_init(&o);
    o.url = k->url;
    o.users = users;
    o.spawn_rate = ps->spawn_rate;
    o.duration_ms = ps->duration_ms;
    o.warmup_ms = ps->warmup_ms;
    o.think = think_kind(&ps->think);
    o.think_min_ms = ps->think.min_ms;
    o.think_max_ms = ps->think.max_ms;
    o.rate = ps->rate;
    o.pipeline = st->pipeline > 0 ? st->pipeline : 1;
    o.threads = 1;
    o.timeout_ms = st->timeout_ms;
    o.expect_body = k->body;
    o.expect_body_len = k->body_len;
    o.expect_length = k->pl->length;
    /* A fortunes page is the same bytes on every answer of one server (its own quote
     * spelling): the load checks the length the verified answers had. */
    if (k->pl->verify == CFG_VERIFY_FORTUNES && k->db_checked && k->rule.passed_len)
        o.expect_length = (int64_t)k->rule.passed_len;
    /* A database payload's answers under load: a spread sample checked by its rule after
     * the phase (updates by its shape only: the rows keep changing under load). */
    if (cfg_payload_is_db(k->pl) && k->db_checked) {
        o.check = node_db_check;
        o.check_arg = &k->rule;
    }
    o.cpus = x->matrix->load_cpus;
    o.source_addrs = x->matrix->load_source_addrs;
    o.cancel = x->cancel;
    struct slo_watch sw_ctx = {.plan = ps->slo, .rate = ps->rate};
    if (ps->slo) {
        o.arrivals = RUN_ARRIVALS_POISSON;
        o.bound_us = (int64_t)(ps->slo->bound_ms * 1000.0);
        o.early_stop = slo_watch_cb;
        o.early_stop_arg = &sw_ctx;
    } else if (ps->held_p99_ms > 0) {
        o.bound_us = (int64_t)(ps->held_p99_ms * 1000.0); /* counted: over_bound */
    }
    struct progress_ctx pc = {x,     k->fw->name, k->pl->name,
                              users, k->seq,      (double)ps->duration_ms / 1000.0};
    o.progress = on_progress;
    o.progress_arg = &pc;
    {
        struct exec_event ev = {.kind = EXEC_EV_PHASE_START,
                                .framework = k->fw->name,
                                .payload = k->pl->name,
                                .users = users,
                                .seq = k->seq,
                                .phase_duration_s = pc.planned_s};
        emit(x, &ev);
    }
    long sampler_pid = 0;
    /* A database payload's own PostgreSQL is sampled beside the server: part of the system
     * under test, its ticks are not a neighbour's on the CPUs it may run on (the server's;
     * the load engine's when the node is this machine). */
    const char *db_cpus = "";
    int db_ncpus = 0;
    long db_pid = cfg_payload_is_db(k->pl) ? exec__db_watch(x, &db_cpus, &db_ncpus) : 0;
    int db_on_server = db_pid > 0 && node_cpus_overlap(db_cpus, x->matrix->node.cpus);
    int db_on_load = db_pid > 0 && x->matrix->node.transport == CFG_TRANSPORT_LOCAL &&
                     node_cpus_overlap(db_cpus, x->matrix->load_cpus);
    if (node_sampler_start(x->node, node_workdir(x->node), k->srv.pid, x->matrix->node.cpus, db_pid,
                           k->p.samples, (ps->duration_ms + st->timeout_ms) / 1000 + 5,
                           cmd_timeout(x), &sampler_pid, &k->cerr) != 0) {
        exec__logf(x, 4, k->fw->name, k->pl->name, "server sampler not started: %s", k->cerr.msg);
        err_clear(&k->cerr);
    }
    memset(&rep, 0, sizeof(rep));
    struct client_watch cw;
    client_watch_begin(x, &cw);
    int prc = run_phase(&o, &rep, &k->cerr);
    struct phase_result ph = rep.result;
    client_watch_end(x, k, &cw);
    {
        /* A sampler that could not be read leaves the server figures unknown (-1). */
        struct node_samples sm;
        struct err se;
        err_clear(&se);
        if (node_sampler_finish(x->node, sampler_pid, k->p.samples, cmd_timeout(x), ps->warmup_ms,
                                x->node_page_kb, x->node_clk_tck, db_on_server, &sm, &se) != 0)
            exec__logf(x, 4, k->fw->name, k->pl->name, "server figures unknown: %s", se.msg);
        ph.server_rss_max_kb = sm.rss_max_kb;
        ph.server_rss_mean_kb = sm.rss_mean_kb;
        ph.server_cpu_pct = sm.cpu_pct;
        ph.server_cpu_max_pct = sm.cpu_max_pct;
        ph.server_threads_max = sm.threads_max;
        ph.server_fds_max = sm.fds_max;
        ph.sampler_cpu_pct = sm.sampler_cpu_pct;
        ph.steal_pct = sm.steal_pct;
        ph.neighbour_cpu_pct = sm.neighbour_cpu_pct;
        ph.db_cpu_pct = sm.db_cpu_pct;
        ph.db_cpu_max_pct = sm.db_cpu_max_pct;
        ph.db_rss_max_kb = sm.db_rss_max_kb;
        ph.db_bound = node_db_bound(sm.db_cpu_pct, db_ncpus);
        client_watch_judge(&cw, db_on_load ? sm.db_phase_cpu_pct : 0, &ph);
        ph.noisy = sm.noisy || cw.noisy; /* from either side */
    }
    int was_cancelled = rep.cancelled || cancelled(x);
    char rep_why[sizeof rep.wrong_why];
    mf_strlcpy(rep_why, rep.wrong_why, sizeof rep_why);
    if (prc != 0) {
        run_report_free(&rep);
        set_error(c, CELL_ERROR, "load engine: %s", k->cerr.msg);
        err_clear(&k->cerr);
        return SEARCH_END;
    }
    if (was_cancelled) {
        /* A phase cut short is not a measurement: it is not stored. */
        run_report_free(&rep);
        c->status = CELL_CANCELLED;
        return SEARCH_END;
    }
    ph.users = users;
    mf_strlcpy(ph.kind, kind, sizeof(ph.kind));
    ph.repeat = k->repeat;
    /* offered_rps is the runner's: the requests the users would have sent
     * against an instant server in the window, from their own think draws. */
    ph.client_bound = ph.client_cpu_pct > st->client_bound_pct;
    ph.load_bound = search_load_bound(ph.rps, ph.offered_rps);
    int alive = node_server_alive(x->node, &k->srv, &k->cerr);
    char lost[512] = "";
    if (alive < 0) {
        /* The node did not answer: what the phase measured is kept, but the
         * cell cannot be judged (nor its server stopped): error, never ok. */
        mf_strlcpy(lost, k->cerr.msg, sizeof(lost));
        alive = 1;
    }
    err_clear(&k->cerr);
    const struct search_stop sw = {.failures = st->stop_when.failures,
                                   .ratio = st->stop_when.ratio,
                                   .p99_ms = st->stop_when.p99_ms};
    const char *why = search_phase_fails(&sw, &ph);
    enum slo_outcome so = SLO_PASS;
    if (ps->slo) {
        /* A probe is judged by the SLO's rules alone (slo.h). */
        struct slo_probe pr;
        slo_probe_of(&ph, ps->rate, &pr);
        ph.bound_ms = ps->slo->bound_ms;
        so = slo_judge(ps->slo, &pr);
        why = so == SLO_PASS ? NULL : slo_outcome_name(so);
    } else if (ps->held_p99_ms > 0) {
        /* A held level: any failure, any failed connect (ramp included) or
         * p99 over the held bound. */
        why = search_held_fails(ps->held_p99_ms, &ph);
        ph.bound_ms = ps->held_p99_ms;
    }
    ph.pct_of = ps->pct_of;
    if (alive == 0)
        why = "server_exited";
    if (lost[0])
        why = "node_lost";
    if (why)
        mf_strlcpy(ph.stop_reason, why, sizeof(ph.stop_reason));
    size_t nseries = 0;
    struct store_series_point *series = series_of(k, &rep, &nseries);
    int rc = x->store ? store_phase_add_id(x->store, c->id, k->seq, &ph, &ph.id, e) : 0;
    if (!rc && x->store)
        store_series(k, ph.id, series, nseries);
    run_report_free(&rep);
    int arc = cell_result_add_phase(c, &ph);
    if (rc || arc)
        free(series);
    if (rc)
        return rc;
    if (arc) {
        /* Stored, but the cell's result cannot hold it: end the cell here. */
        set_error(c, CELL_ERROR, "phase at %d users: %s", users, strerror(-arc));
        return SEARCH_END;
    }
    *rps = ph.rps;
    *load_bound = ph.load_bound;
    if (out)
        *out = ph;
    /* A live value the summary replaces; only the search's own phases (a load
     * point or a held level after the summary must not overwrite it). */
    if (phase_in_search(&ph) && ph.rps > c->peak_rps)
        c->peak_rps = ph.rps;
    {
        struct exec_event ev = {.kind = EXEC_EV_PHASE_END,
                                .framework = k->fw->name,
                                .payload = k->pl->name,
                                .users = users,
                                .seq = k->seq,
                                .phase = &c->phases[c->nphases - 1],
                                .series = series,
                                .nseries = nseries};
        emit(x, &ev);
        free(series);
    }
    k->seq++;
    if (lost[0]) {
        set_error(c, CELL_ERROR,
                  "lost the node during the phase at %d users: %s (a server may be left "
                  "running there; the next run on this node stops it)",
                  users, lost);
        k->server_up = 0; /* a stop would only wait for the same dead transport */
        return SEARCH_END;
    }
    if (ph.verified_wrong > 0) {
        /* As TechEmpower's verifier: a framework that answers wrongly is not measured. */
        set_error(c, CELL_ERROR,
                  "wrong answers under load: %llu of %llu sampled answers at %d users fail the "
                  "%s rule: %s",
                  (unsigned long long)ph.verified_wrong, (unsigned long long)ph.verified_sampled,
                  users, cfg_verify_name(k->pl->verify), rep_why);
        return SEARCH_END;
    }
    if (!why)
        return SEARCH_PASS;
    /* The next probe must not meet a server this phase damaged. */
    k->need_start = 1;
    if (ps->slo && alive != 0) {
        /* The SLO search reads the outcome from the stored stop reason. */
        if (so == SLO_INCONCLUSIVE)
            return SEARCH_CLIENT_FAIL;
        return SEARCH_FAIL;
    }
    if (alive == 0) {
        exec__logf(x, 4, k->fw->name, k->pl->name, "server exited during the phase at %d users",
                   users);
        k->server_up = 0;
    }
    if (ph.failures_by_kind[FAIL_CLIENT] > 0) {
        snprintf(c->note, sizeof(c->note),
                 "the phase at %d users had %llu connections fail on the load engine's own "
                 "limits (descriptors, ports): it says nothing of the server; search stopped",
                 users, (unsigned long long)ph.failures_by_kind[FAIL_CLIENT]);
        exec__logf(x, 4, k->fw->name, k->pl->name, "%s", c->note);
        return SEARCH_CLIENT_FAIL;
    }
    if (ph.client_bound) {
        snprintf(c->note, sizeof(c->note),
                 "the phase at %d users failed (%s) while the load engine's core was %.0f%% busy "
                 "(client bound, limit %.0f%%): not taken as a breaking point; search stopped",
                 users, why, ph.client_cpu_pct, st->client_bound_pct);
        exec__logf(x, 4, k->fw->name, k->pl->name, "%s", c->note);
        return SEARCH_CLIENT_FAIL;
    }
    return SEARCH_FAIL;
}

/* One level of the throughput search, on the cell's settings. */
static int run_level(struct cell_ctx *k, struct cell_result *c, int users, const char *kind,
                     double *rps, int *load_bound, struct err *e)
{
    struct phase_spec ps;
    exec__spec_of(&k->st, users, &ps);
    return exec__run_phase(k, c, &ps, kind, rps, load_bound, NULL, e);
}

void exec__plan_of(const struct cfg_settings *st, struct search_plan *p)
{
    *p = (struct search_plan){.start = st->users.start,
                              .step = st->users.step,
                              .max = st->users.max,
                              .factor = st->users.factor,
                              .refine_pct = st->refine_pct,
                              .refine_abs = st->refine_abs,
                              .repeats = st->repeats,
                              .max_repeats = st->max_repeats,
                              .spread_pct = st->spread_pct};
}

/* The held search's plan (the run and the worst case both use it): users from
 * held.users, doubling unless held.users.factor says otherwise, then bisection
 * to the profile's resolution, or to EXEC_HELD_REFINE_PCT when the profile has
 * none (refine: 0). Held users is a headline: a first level that fails must
 * still give a number below it, not 0. */
void exec__held_plan_of(const struct cfg_settings *st, struct search_plan *p)
{
    int none = st->refine_pct <= 0 && st->refine_abs <= 0;
    *p = (struct search_plan){.start = st->held.users.start,
                              .step = st->held.users.start,
                              .max = st->held.users.max,
                              .factor = st->held.users.factor > 1 ? st->held.users.factor : 2,
                              .refine_pct = none ? EXEC_HELD_REFINE_PCT : st->refine_pct,
                              .refine_abs = st->refine_abs,
                              .repeats = 1};
}

/* One search on a fresh server, driven level by level by search/. Returns 0
 * when it ran to a result, 1 when the cell ended (s->result holds what it had
 * seen), negative on store errors. */
static int search_once(struct cell_ctx *k, struct cell_result *c, const struct search_plan *plan,
                       struct search *s, struct err *e)
{
    int users;
    const char *kind;
    search_init(s, plan);
    k->need_start = 1; /* each search starts on a fresh server */
    while (search_next(s, &users, &kind)) {
        double rps = 0;
        int load_bound = 0;
        int r = run_level(k, c, users, kind, &rps, &load_bound, e);
        if (r < 0)
            return r;
        search_report(s, (enum search_outcome)r, rps, load_bound);
    }
    return s->ended ? 1 : 0;
}

int exec_cell(struct exec_run *x, const struct cfg_cell *cell, struct cell_result *c, struct err *e)
{
    const struct cfg_matrix *m = x->matrix;
    const struct cfg_framework *fw = &m->frameworks[cell->framework];
    const struct cfg_payload *pl = &m->payloads[cell->payload];
    const struct cfg_node *nc = &m->node;
    struct cell_ctx k;
    struct buf cmd, body;
    struct search_result res[SEARCH_MAX_REPEATS];
    struct search_plan plan;
    struct search cur;
    int rc = 0, nres = 0;

    memset(c, 0, sizeof(*c));
    memset(&k, 0, sizeof(k));
    k.x = x;
    k.fw = fw;
    k.pl = pl;
    mf_strlcpy(c->framework, fw->name, sizeof(c->framework));
    mf_strlcpy(c->payload, pl->name, sizeof(c->payload));
    c->capacity_users = c->breaking_users = -1;
    c->held_users = -1;
    c->capacity_median = c->capacity_iqr = c->capacity_min = c->capacity_max = -1;
    c->peak_rps_median = c->peak_rps_iqr = c->peak_rps_min = c->peak_rps_max = -1;
    c->peak_rps_spread = -1;
    c->status = CELL_RUNNING;
    buf_init(&cmd, 0);
    buf_init(&body, 0);
    err_clear(&k.cerr);
    k.body = pl->body;
    k.body_len = pl->body_len;

    if (x->store && (rc = store_cell_begin(x->store, x->run_id, c, e)) != 0)
        goto out;
    {
        struct exec_event ev = {
            .kind = EXEC_EV_CELL_START, .framework = fw->name, .payload = pl->name};
        emit(x, &ev);
    }
    if (cfg_resolve(m, x->profile, fw, &k.st, &k.cerr) != 0) {
        set_error(c, CELL_ERROR, "%s", k.cerr.msg);
        goto finish;
    }
    cell_paths(x, fw, &k.p);
    if (cfg_payload_is_db(pl)) {
        /* The database first: when it is down, this cell is an error with PostgreSQL's
         * message, before any venv is made for it; the other cells run. */
        const char *why = NULL;
        if (exec__db_ready(x, &why) != 0) {
            set_error(c, CELL_ERROR, "database: %s", why);
            goto finish;
        }
    }
    if (pl->body_file) {
        /* The exact bytes every answer is compared with, read where the engine runs. */
        char path[2048];
        cfg_body_file_path(pl, x->targets_dir, path, sizeof(path));       /* as check looks */
        if (mf_read_file(path, MF_MAX_BODY_BYTES, &body, &k.cerr) != 0) { /* the engine's cap */
            set_error(c, CELL_ERROR, "payloads.%s.body_file: %s", pl->name, k.cerr.msg);
            goto finish;
        }
        k.body = body.data;
        k.body_len = body.len;
    }

    if (venv_skip_of(x, fw)) {
        /* pip failed for this framework earlier in the run: once is enough. */
        set_error(c, CELL_SKIPPED, "%s", venv_skip_of(x, fw));
        goto finish;
    }
    rc = provision(x, fw, &k.p, c, &k.cerr);
    if (rc < 0) {
        set_error(c, CELL_ERROR, "provisioning failed: %s", k.cerr.msg);
        rc = 0;
        goto finish;
    }
    if (rc == 1) { /* the cell's end reports it, once */
        rc = 0;
        goto finish;
    }
    if (expand_start(x, fw, pl, &k.p, &cmd, &k.cerr) != 0) {
        set_error(c, CELL_ERROR, "%s", k.cerr.msg);
        goto finish;
    }
    k.cmd = cmd.data;
    /* An IPv6 address goes in brackets: http://[::1]:8000/ */
    snprintf(k.url, sizeof(k.url),
             strchr(x->node->host, ':') ? "http://[%s]:%d%s" : "http://%s:%d%s", x->node->host,
             nc->server_port, pl->path);

    exec__plan_of(&k.st, &plan);
    {
        int most = search_repeats_most(&plan);
        const char *upto = plan.repeats > 0 ? "" : "at most ";
        int ended = 0;
        memset(&cur, 0, sizeof(cur));
        while (!ended && search_repeat_again(&plan, res, nres)) {
            k.repeat = nres;
            if (most > 1)
                exec__logf(x, 6, fw->name, pl->name, "search %d of %s%d", nres + 1, upto, most);
            int r = search_once(&k, c, &plan, &cur, e);
            if (r < 0) {
                rc = r;
                goto out;
            }
            if (r == 1)
                ended = 1;
            else
                res[nres++] = cur.result;
        }
        if (search_repeats_unsettled(&plan, res, nres))
            exec__logf(x, 4, fw->name, pl->name,
                       "peak req/s still spread by %.1f%% after %d searches (target %.1f%%)",
                       search_peak_spread(res, nres) * 100.0, nres, plan.spread_pct);
    }
    search_summarize(c, res, nres);
    if (nres == 0 && c->nphases > 0) {
        /* Cut short in its first search: what that search had seen so far. */
        c->capacity_users = cur.result.capacity;
        c->breaking_users = cur.result.breaking;
    }
    if (c->status == CELL_RUNNING && nres > 0 && c->capacity_users < 0 && c->breaking_users > 0 &&
        !res[nres - 1].client_stopped) {
        /* Not even the first level held: there is no capacity to report, and
         * the reason (the first phase's stop reason) is what the user needs. */
        const char *why = c->nphases > 0 ? c->phases[0].stop_reason : "";
        set_error(c, CELL_FAILED, "the server failed already at %d users (%s)", c->breaking_users,
                  why[0] ? why : "failures");
    }
    if (c->status == CELL_RUNNING)
        c->status = nres > 0 ? CELL_OK : CELL_ERROR;
    /* The closed-loop peak over passing phases only: a phase that failed
     * (a burst its server did not survive) never sets the later figures. */
    c->peak_rps_passing = cell_peak_passing(c);
    /* The figures measured against it: the SLO capacity (the headline), then
     * latency at its shares and the users held below half of it. */
    if (c->status == CELL_OK && (rc = exec__run_slo(&k, c, e)) < 0)
        goto out;
    if (c->status == CELL_OK && (rc = exec__run_load_points(&k, c, e)) < 0)
        goto out;
    if (c->status == CELL_OK && k.st.held.on && (rc = exec__run_held(&k, c, e)) < 0)
        goto out;

finish:
    if (k.server_up) {
        err_clear(&k.cerr);
        if (node_server_stop(x->node, &k.srv, EXEC_STOP_GRACE_MS, &k.cerr) != 0)
            exec__logf(x, 3, fw->name, pl->name, "stopping the server: %s", k.cerr.msg);
        k.server_up = 0;
    }
    if (c->status == CELL_RUNNING)
        c->status = CELL_ERROR;
    if (cfg_payload_is_db(pl))
        db_bound_note(x, c);
    if (x->store && (rc = store_cell_finish(x->store, c, e)) != 0)
        goto out;
    {
        struct exec_event ev = {
            .kind = EXEC_EV_CELL_END, .framework = fw->name, .payload = pl->name, .cell = c};
        emit(x, &ev);
    }
    rc = 0;
out:
    if (rc && k.server_up) {
        struct err e2;
        err_clear(&e2);
        if (node_server_stop(x->node, &k.srv, EXEC_STOP_GRACE_MS, &e2) != 0)
            exec__logf(x, 3, fw->name, pl->name, "stopping the server: %s", e2.msg);
    }
    publish_pgid(x, 0);
    buf_free(&cmd);
    buf_free(&body);
    return rc;
}

int exec_cleanup_node(struct exec_run *x, int *found, struct err *e)
{
    char pidfile[1100];
    /* A pid file is only believed in a workdir that passed the checks. */
    int rc = node_workdir_open(x->node, x->matrix->node.workdir, e);
    if (rc)
        return rc;
    snprintf(pidfile, sizeof(pidfile), "%s/run/server.pid", node_workdir(x->node));
    rc = node_server_stop_pidfile(x->node, pidfile, EXEC_STOP_GRACE_MS, found, e);
    if (rc || !cfg_has_db_payload(x->matrix))
        return rc;
    /* A PostgreSQL cluster a killed run of this node's key left (the key's lock is ours). */
    char owner[600];
    int clusters = 0;
    if (exec_node_lock_key(&x->matrix->node, owner, sizeof owner) < 0)
        return 0;
    rc = node_pg_stop_stale(x->node, x->matrix, owner, &clusters, e);
    if (!rc && clusters) {
        *found = 1;
        exec__logf(x, 4, NULL, NULL, "stopped %d PostgreSQL cluster%s an earlier run left",
                   clusters, clusters > 1 ? "s" : "");
    }
    return rc;
}
