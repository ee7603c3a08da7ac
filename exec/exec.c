/* exec.c - the cell executor: provision, start, verify, ramp, sample, store, stop.
 * Every command sent to the node is built here with each interpolated value
 * shell-quoted; names from the matrix are validated by config/ as well. */
#include "exec.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mfbench-config.h"

#define STOP_GRACE_MS 5000
#define LOG_TAIL_LINES 15

/* The node-side sampler: one line per second for a process group, from /proc:
 * "uptime rss_pages cpu_ticks threads fds self_ticks". awk reads every
 * /proc/PID/stat in one process (the group's members are found by their pgrp
 * field, so a gunicorn master and its workers add up); descriptors are counted
 * with a shell glob (no fork). self_ticks is the sampler's own cost: the
 * shell's utime+stime+cutime+cstime, which include every awk and sleep it has
 * reaped, so the executor can report what sampling cost on every phase.
 * Files are read with getline in BEGIN: a process that exits between the glob
 * and the read is skipped (awk aborts on a missing file named as input). */
static const char sampler_sh[] =
    "#!/bin/sh\n"
    "# mfbench sampler: sampler.sh PGID OUT MAXSECS (written by mfbench; do not edit)\n"
    "pg=$1; out=$2; max=$3; n=0; me=$$\n"
    ": >\"$out\"\n"
    "while [ \"$n\" -lt \"$max\" ] && kill -0 \"-$pg\" 2>/dev/null; do\n"
    "  line=$(awk -v pg=\"$pg\" -v me=\"$me\" 'BEGIN{getline up <\"/proc/uptime\";split(up,u,\" "
    "\");"
    "for(i=1;i<ARGC;i++){fn=ARGV[i];if((getline l <fn)>0){s=l;sub(/^.*\\) /,\"\",s);"
    "split(s,f,\" \");id=substr(l,1,index(l,\" \")-1);"
    "if(id==me){self=f[12]+f[13]+f[14]+f[15]}"
    "if(f[3]==pg){t+=f[12]+f[13];th+=f[18];r+=f[22];p=p\" \"id}}close(fn)}"
    "printf \"%s %d %d %d %d%s\\n\",u[1],r,t,th,self,p;exit}' /proc/[0-9]*/stat 2>/dev/null)\n"
    "  set -- $line\n"
    "  [ $# -ge 5 ] || break\n"
    "  up=$1; rss=$2; ticks=$3; thr=$4; self=$5; shift 5; fds=0\n"
    "  for p in \"$@\"; do\n"
    "    set -- /proc/$p/fd/*\n"
    "    [ -e \"$1\" ] && fds=$((fds + $#))\n"
    "  done\n"
    "  echo \"$up $rss $ticks $thr $fds $self\" >>\"$out\"\n"
    "  n=$((n + 1))\n"
    "  sleep 1\n"
    "done\n";

static void emit(struct dmn_exec *x, struct dmn_event *ev)
{
    if (x->on_event)
        x->on_event(x->arg, ev);
}

static void logf_(struct dmn_exec *x, int level, const char *fw, const char *pl, const char *fmt,
                  ...) MF_PRINTF(5, 6);
static void logf_(struct dmn_exec *x, int level, const char *fw, const char *pl, const char *fmt,
                  ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    struct dmn_event ev = {
        .kind = DMN_EV_LOG, .level = level, .message = msg, .framework = fw, .payload = pl};
    emit(x, &ev);
}

static int cancelled(const struct dmn_exec *x)
{
    return x->cancel && atomic_load(x->cancel);
}

const char *dmn_targets_dir(const char *explicit_dir)
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

static int64_t cmd_timeout(const struct dmn_exec *x)
{
    int64_t t = x->matrix->node.command_timeout_ms;
    return t > 0 ? t : 120000;
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

int dmn_prepare_node(struct dmn_exec *x, struct run_record *run, struct err *e)
{
    const struct cfg_node *nc = &x->matrix->node;
    struct buf cmd, out;
    buf_init(&cmd, 0);
    buf_init(&out, 1 << 16);
    int rc;
    char dir[1024];

    rc = buf_puts(&cmd, "uname -n; uname -r; getconf PAGESIZE; getconf CLK_TCK; mkdir -p ");
    rc = rc ? rc : buf_shquote(&cmd, nc->workdir);
    rc = rc ? rc : buf_puts(&cmd, " && echo workdir-ok");
    if (rc) {
        err_set(e, rc, "out of memory");
        goto fail;
    }
    rc = node_exec_ok(x->node, cmd.data, cmd_timeout(x), &out, e);
    if (rc)
        goto fail;
    {
        char host[256] = "", kernel[256] = "";
        long page = 0, tck = 0;
        char *save = NULL;
        char *l1 = strtok_r(out.data, "\n", &save);
        char *l2 = strtok_r(NULL, "\n", &save);
        char *l3 = strtok_r(NULL, "\n", &save);
        char *l4 = strtok_r(NULL, "\n", &save);
        if (l1)
            mf_strlcpy(host, l1, sizeof(host));
        if (l2)
            mf_strlcpy(kernel, l2, sizeof(kernel));
        if (l3)
            page = strtol(l3, NULL, 10);
        if (l4)
            tck = strtol(l4, NULL, 10);
        x->node_page_kb = page > 0 ? page / 1024 : 4;
        x->node_clk_tck = tck > 0 ? tck : 100;
        if (run) {
            snprintf(run->node_host, sizeof(run->node_host), "%s", host);
            mf_strlcpy(run->node_kernel, kernel, sizeof(run->node_kernel));
            mf_strlcpy(run->node_cpus, nc->cpus ? nc->cpus : "", sizeof(run->node_cpus));
        }
    }

    snprintf(dir, sizeof(dir), "%s/sampler.sh", nc->workdir);
    rc = x->node->ops->put_file(x->node, dir, sampler_sh, strlen(sampler_sh), 0755, e);
    if (rc)
        goto fail;

    if (x->targets_dir) {
        int uploaded = 0;
        snprintf(dir, sizeof(dir), "%s/targets", nc->workdir);
        rc = node_sync_tree(x->node, x->targets_dir, dir, &uploaded, e);
        if (rc)
            goto fail;
        logf_(x, 6, NULL, NULL, "targets %s on the node (%s)", uploaded ? "uploaded" : "unchanged",
              dir);
    }
    /* Users' own target folders. */
    for (size_t i = 0; i < x->matrix->nframeworks; i++) {
        const struct cfg_framework *fw = &x->matrix->frameworks[i];
        if (!fw->dir)
            continue;
        char local[1024];
        if (fw->dir[0] == '/')
            snprintf(local, sizeof(local), "%s", fw->dir);
        else
            snprintf(local, sizeof(local), "%s/%s", x->matrix->dir, fw->dir);
        int uploaded = 0;
        snprintf(dir, sizeof(dir), "%s/user/%s", nc->workdir, fw->name);
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

struct cell_paths {
    char dir[1024]; /* the app's folder on the node */
    char venv[1024];
    char python[1100]; /* the venv's python */
    char pidfile[1024];
    char logfile[1024];
    char samples[1024];
};

static void cell_paths(const struct dmn_exec *x, const struct cfg_framework *fw,
                       struct cell_paths *p)
{
    const char *wd = x->matrix->node.workdir;
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

/* Expands {python} {dir} {host} {port} {workers} {name} {workdir}; every value
 * is shell-quoted. An unknown placeholder is an error naming it. */
static int expand_start(const struct dmn_exec *x, const struct cfg_framework *fw,
                        const struct cell_paths *p, struct buf *out, struct err *e)
{
    static const char builtin[] = "{python} {dir}/app.py --host {host} --port {port} "
                                  "--workers {workers}";
    const char *t = fw->start ? fw->start : builtin;
    const struct cfg_node *nc = &x->matrix->node;
    char port[16], workers[16];
    snprintf(port, sizeof(port), "%d", nc->server_port);
    snprintf(workers, sizeof(workers), "%d", fw->workers > 0 ? fw->workers : 1);
    const char *listen = nc->listen ? nc->listen : (nc->host ? nc->host : "127.0.0.1");
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
            v = nc->workdir;
#undef IS
        if (!v)
            return err_set(e, -EINVAL,
                           "frameworks.%s.start: unknown placeholder {%.*s} (have {python} {dir} "
                           "{host} {port} {workers} {name} {workdir})",
                           fw->name, (int)n, t + 1);
        if (buf_shquote(out, v))
            return err_set(e, -ENOMEM, "out of memory");
        t = close + 1;
    }
    return 0;
}

/* ---- provisioning ---- */

/* The venv's marker: what it was built from. It is written only after a
 * complete build, so a venv is reused only when it is whole and built from
 * the same requirements and settings. */
#define VENV_MARKER ".mfbench-venv"
#define PIP_TIMEOUT_MS 600000 /* a pip install may compile; at least this long */
#define PIP_TAIL_LINES 5
#define PIP_ERROR_LINES 8

/* The framework's own choice, else the node's. */
static int site_packages(const struct dmn_exec *x, const struct cfg_framework *fw)
{
    return fw->system_site_packages >= 0 ? fw->system_site_packages
                                         : x->matrix->node.system_site_packages;
}

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
 * hashed on the node): the mode, the node's python and node.pip. */
static void venv_settings_sha(const struct cfg_node *nc, int site, char out[65])
{
    struct sha256 s;
    sha256_init(&s);
#define PART(k, v)                                                                                 \
    do {                                                                                           \
        const char *v_ = (v) ? (v) : "";                                                           \
        sha256_update(&s, k, strlen(k));                                                           \
        sha256_update(&s, v_, strlen(v_) + 1); /* the NUL separates the parts */                   \
    } while (0)
    PART("mode=", site ? "system-site-packages" : "pip");
    PART("python=", nc->python);
    if (!site) {
        PART("index_url=", nc->pip_index_url);
        PART("find_links=", nc->pip_find_links);
        PART("args=", nc->pip_args);
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

/* Builds the script that makes the venv, or keeps it when its marker matches:
 * with system site packages when the node's python3-* packages are what is
 * measured, else pip from requirements.txt with node.pip. Exit status: 0 ready
 * (prints "mfbench-venv: built" or "reused"), 3 venv creation failed, 4 install
 * failed (the venv is removed), 2 anything else. */
static int venv_script(const struct dmn_exec *x, const struct cell_paths *p, int site,
                       struct buf *cmd)
{
    const struct cfg_node *nc = &x->matrix->node;
    char sha[65];
    venv_settings_sha(nc, site, sha);
    int rc = buf_puts(cmd, "v=");
    rc = rc ? rc : buf_shquote(cmd, p->venv);
    rc = rc ? rc : buf_puts(cmd, "; d=");
    rc = rc ? rc : buf_shquote(cmd, p->dir);
    rc = rc ? rc : buf_puts(cmd, "; py=");
    rc = rc ? rc : buf_shquote(cmd, nc->python);
    rc = rc ? rc : buf_puts(cmd, "; w=");
    rc = rc ? rc : buf_shquote(cmd, nc->workdir);
    rc = rc ? rc : buf_puts(cmd, "\nmkdir -p \"$w/venvs\" \"$w/run\" \"$w/logs\" || exit 2\n");
    if (site) {
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
    if (site) {
        rc = rc ? rc
                : buf_puts(cmd, "\"$py\" -m venv --system-site-packages --without-pip \"$v\" "
                                "2>&1 || { rm -rf \"$v\"; exit 3; }\n");
    } else {
        rc = rc ? rc
                : buf_puts(cmd, "\"$py\" -m venv \"$v\" 2>&1 || { rm -rf \"$v\"; exit 3; }\n"
                                "PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1 "
                                "\"$v/bin/python\" -m pip install -q -r \"$d/requirements.txt\"");
        rc = rc ? rc : append_pip_options(nc, cmd);
        rc = rc ? rc : buf_puts(cmd, " </dev/null 2>&1 || { rm -rf \"$v\"; exit 4; }\n");
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

/* Creates or reuses the venv and asks the app for its versions. Returns 0
 * ready, 1 skipped (reason in c->error), negative on transport failure. */
static int provision(struct dmn_exec *x, const struct cfg_framework *fw, const struct cell_paths *p,
                     struct cell_result *c, struct err *e)
{
    struct buf cmd, out, m;
    buf_init(&cmd, 0);
    buf_init(&out, 1 << 20);
    buf_init(&m, 1 << 16);
    int rc = 0, status = 0;
    int site = site_packages(x, fw);

    if (venv_script(x, p, site, &cmd)) {
        rc = err_set(e, -ENOMEM, "out of memory");
        goto done;
    }
    int64_t t = cmd_timeout(x);
    if (!site && t < PIP_TIMEOUT_MS)
        t = PIP_TIMEOUT_MS;
    rc = node_exec(x->node, cmd.data, t, &out, &status, e);
    if (rc)
        goto done;
    if (status != 0) {
        const char *o = out.data ? out.data : "";
        int r;
        if (status == 4)
            r = buf_printf(&m, "%s: cannot install %s/requirements.txt:", fw->name, p->dir);
        else
            r = buf_printf(&m, "%s: cannot create the venv %s (exit status %d):", fw->name, p->venv,
                           status);
        r = r ? r : append_install_error(&m, o);
        if (r) {
            rc = err_set(e, r, "out of memory");
            goto done;
        }
        rc = skip_cell(c, &m, e);
        buf_init(&m, 0); /* owned by the cell now */
        goto done;
    }
    logf_(x, 6, fw->name, NULL, "venv %s (%s)",
          out.data && strstr(out.data, "reused") ? "reused" : "built",
          site ? "system site packages" : "pip, requirements.txt");

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
    rc = node_exec(x->node, cmd.data, cmd_timeout(x) < 60000 ? cmd_timeout(x) : 60000, &out,
                   &status, e);
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

/* ---- sampler ---- */

struct sampler {
    long pid;
};

static int sampler_start(struct dmn_exec *x, const struct node_server *srv,
                         const struct cell_paths *p, int64_t max_s, struct sampler *s,
                         struct err *e)
{
    struct buf cmd, out;
    buf_init(&cmd, 0);
    buf_init(&out, 4096);
    char pg[32], mx[32], sh[1100];
    snprintf(pg, sizeof(pg), "%ld", srv->pid);
    snprintf(mx, sizeof(mx), "%lld", (long long)max_s);
    snprintf(sh, sizeof(sh), "%s/sampler.sh", x->matrix->node.workdir);
    buf_puts(&cmd, "setsid sh ");
    buf_shquote(&cmd, sh);
    buf_printf(&cmd, " %s ", pg);
    buf_shquote(&cmd, p->samples);
    buf_printf(&cmd, " %s </dev/null >/dev/null 2>&1 & echo $!", mx);
    int rc = node_exec_ok(x->node, cmd.data, cmd_timeout(x), &out, e);
    s->pid = rc == 0 && out.data ? strtol(out.data, NULL, 10) : 0;
    buf_free(&cmd);
    buf_free(&out);
    return rc;
}

/* Stops the sampler and folds its samples of the measured window into ph. */
static void sampler_finish(struct dmn_exec *x, const struct cell_paths *p, struct sampler *s,
                           int64_t warmup_ms, struct phase_result *ph)
{
    struct buf cmd, out;
    struct err e;
    err_clear(&e);
    buf_init(&cmd, 0);
    buf_init(&out, 4 << 20);
    if (s->pid > 0)
        buf_printf(&cmd, "kill %ld 2>/dev/null; ", s->pid);
    buf_puts(&cmd, "cat ");
    buf_shquote(&cmd, p->samples);
    buf_puts(&cmd, " 2>/dev/null; rm -f ");
    buf_shquote(&cmd, p->samples);
    int st_ = 0;
    if (node_exec(x->node, cmd.data, cmd_timeout(x), &out, &st_, &e) == 0 && out.data) {
        double up0 = -1, prev_up = -1, first_up = -1, last_up = -1;
        long long prev_ticks = -1, first_ticks = -1, last_ticks = -1;
        long long prev_self = -1, first_self = -1, last_self = -1;
        double rss_sum = 0, rss_max = -1, cpu_max = -1;
        int nrss = 0, thr_max = -1, fds_max = -1;
        char *save = NULL;
        for (char *l = strtok_r(out.data, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
            double up;
            long long rss, ticks, self = -1;
            int thr, fds;
            int nf = sscanf(l, "%lf %lld %lld %d %d %lld", &up, &rss, &ticks, &thr, &fds, &self);
            if (nf < 5)
                continue;
            if (up0 < 0)
                up0 = up;
            if ((up - up0) * 1000.0 < (double)warmup_ms) {
                prev_up = up;
                prev_ticks = ticks;
                prev_self = self;
                continue;
            }
            double kb = (double)rss * (double)x->node_page_kb;
            rss_sum += kb;
            nrss++;
            if (kb > rss_max)
                rss_max = kb;
            if (thr > thr_max)
                thr_max = thr;
            if (fds > fds_max)
                fds_max = fds;
            if (prev_up >= 0 && up > prev_up && ticks >= prev_ticks) {
                double pct =
                    (double)(ticks - prev_ticks) / (double)x->node_clk_tck / (up - prev_up) * 100.0;
                if (pct > cpu_max)
                    cpu_max = pct;
            }
            if (first_up < 0) {
                first_up = prev_up >= 0 ? prev_up : up;
                first_ticks = prev_up >= 0 ? prev_ticks : ticks;
                first_self = prev_up >= 0 ? prev_self : self;
            }
            last_up = up;
            last_ticks = ticks;
            last_self = self;
            prev_up = up;
            prev_ticks = ticks;
            prev_self = self;
        }
        if (nrss > 0) {
            ph->server_rss_max_kb = rss_max;
            ph->server_rss_mean_kb = rss_sum / nrss;
            ph->server_threads_max = thr_max;
            ph->server_fds_max = fds_max;
        }
        if (last_up > first_up && first_up >= 0) {
            ph->server_cpu_pct = (double)(last_ticks - first_ticks) / (double)x->node_clk_tck /
                                 (last_up - first_up) * 100.0;
            ph->server_cpu_max_pct = cpu_max;
            if (first_self >= 0 && last_self >= first_self)
                ph->sampler_cpu_pct = (double)(last_self - first_self) / (double)x->node_clk_tck /
                                      (last_up - first_up) * 100.0;
        }
    }
    buf_free(&cmd);
    buf_free(&out);
}

/* ---- the ramp ---- */

struct progress_ctx {
    struct dmn_exec *x;
    const char *fw, *pl;
    int users, seq;
    double planned_s;
};

static void on_progress(void *arg, const struct run_progress *p)
{
    struct progress_ctx *pc = arg;
    struct dmn_event ev = {.kind = DMN_EV_PROGRESS,
                           .framework = pc->fw,
                           .payload = pc->pl,
                           .users = pc->users,
                           .seq = pc->seq,
                           .progress = p,
                           .phase_duration_s = pc->planned_s};
    emit(pc->x, &ev);
}

/* Which stop criterion this phase meets, or NULL. */
static const char *phase_fails(const struct cfg_stop_when *sw, const struct phase_result *ph)
{
    if (sw->failures > 0 && ph->failures >= (uint64_t)sw->failures)
        return "failures";
    if (sw->ratio > 0 && ph->requests > 0 &&
        (double)ph->failures / (double)ph->requests >= sw->ratio)
        return "failure_ratio";
    if (sw->p99_ms > 0 && ph->latency_ms.p99 >= sw->p99_ms)
        return "p99";
    if (sw->failures <= 0 && sw->ratio <= 0 && sw->p99_ms <= 0 && ph->failures > 0)
        return "failures";
    return NULL;
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

static void set_error(struct cell_result *c, enum cell_status st, const char *fmt, ...)
    MF_PRINTF(3, 4);
static void set_error(struct cell_result *c, enum cell_status st, const char *fmt, ...)
{
    struct buf m;
    buf_init(&m, 16384);
    va_list ap;
    va_start(ap, fmt);
    buf_vprintf(&m, fmt, ap);
    va_end(ap);
    free(c->error);
    c->error = m.data;
    c->status = st;
}

static void append_log_tail(struct dmn_exec *x, struct node_server *srv, struct cell_result *c)
{
    struct buf tail;
    struct err e;
    err_clear(&e);
    buf_init(&tail, 1 << 16);
    if (node_server_log_tail(x->node, srv, LOG_TAIL_LINES, &tail, &e) == 0 && tail.len) {
        struct buf m;
        buf_init(&m, 1 << 17);
        buf_printf(&m, "%s\n--- last lines of the server's log ---\n%s", c->error ? c->error : "",
                   tail.data);
        free(c->error);
        c->error = m.data;
    }
    buf_free(&tail);
}

/* ---- the breaking-point search ---- */

/* A phase is load_bound when the server achieved at least this share of the
 * req/s its users could offer: it kept up with everything, so its req/s
 * describes the load shape (users / think), not the framework. 5% leaves room
 * for the latency a closed-loop user adds to its think time. */
#define LOAD_BOUND_SHARE 0.95

/* Everything one cell's searches share. */
struct cell_ctx {
    struct dmn_exec *x;
    const struct cfg_framework *fw;
    const struct cfg_payload *pl;
    const char *body; /* the exact expected body (the payload's, or its body_file's), or NULL */
    size_t body_len;
    struct cfg_settings st;
    struct cell_paths p;
    struct node_server srv;
    const char *cmd;
    char url[1200];
    int server_up, need_start;
    int seq;    /* phase index in the cell, over all repeats */
    int repeat; /* current search */
    struct err cerr;
};

/* What one search (one repeat) found. */
struct search_result {
    int capacity, breaking; /* -1 = none */
    double peak_rps;
    int peak_load_bound;
    int client_stopped; /* a failure came while the client was the bottleneck */
};

enum level_outcome {
    LEVEL_PASS,
    LEVEL_FAIL,
    LEVEL_CLIENT_FAIL, /* failed while client_bound: not a breaking point */
    LEVEL_END,         /* the cell ended (cancelled, error): status set */
};

/* Offered req/s over the measured window [t0, t1]. The runner gives users /
 * mean think, true once every user exists. While users are still being
 * spawned, fewer of them wait and send (the seed's 10,000 users at 100/s never
 * all existed within its minute), and each new user sends at once: a user born
 * at s sends, by renewal theory, about (t1 - s) / E[T] + E[T^2] / (2 E[T]^2)
 * requests before t1 (think T; the constant is 1/2 for a fixed think, 0.54 for
 * uniform 5-15 s). So: offered = (integral of alive users / E[T] + users born
 * in the window x that constant) / window. */
static double offered_in_window(const struct run_opts *o, double offered)
{
    if (offered <= 0 || o->rate > 0 || o->spawn_rate <= 0 || o->users <= 0)
        return offered;
    double t0 = (double)o->warmup_ms / 1000.0, t1 = (double)o->duration_ms / 1000.0;
    double r = o->spawn_rate, u = (double)o->users, ramp = u / r;
    if (t1 <= t0 || ramp <= t0)
        return offered;
    double area, born = (ramp < t1 ? u : r * t1) - r * t0;
    if (ramp >= t1)
        area = r * (t1 * t1 - t0 * t0) / 2.0;
    else
        area = r * (ramp * ramp - t0 * t0) / 2.0 + u * (t1 - ramp);
    double mean_think = u / offered, c = 0.5;
    if (o->think == RUN_THINK_BETWEEN && mean_think > 0) {
        double lo = (double)o->think_min_ms / 1000.0, hi = (double)o->think_max_ms / 1000.0;
        c = (lo * lo + lo * hi + hi * hi) / 3.0 / (2.0 * mean_think * mean_think);
    }
    return (area / mean_think + born * c) / (t1 - t0);
}

/* Starts (or restarts) the server and waits until it answers correctly.
 * 0 = ready; 1 = the cell ended (status and error set). */
static int server_fresh(struct cell_ctx *k, struct cell_result *c)
{
    struct dmn_exec *x = k->x;
    const struct cfg_node *nc = &x->matrix->node;
    if (k->server_up) {
        node_server_stop(x->node, &k->srv, STOP_GRACE_MS, &k->cerr);
        err_clear(&k->cerr);
        k->server_up = 0;
    }
    /* A server left by an earlier, killed mfbench on this port. */
    node_server_stop_pidfile(x->node, k->p.pidfile, STOP_GRACE_MS, &(int){0}, &k->cerr);
    err_clear(&k->cerr);
    if (node_server_start(x->node, k->cmd, k->p.dir, nc->cpus, nc->nofile, k->p.pidfile,
                          k->p.logfile, &k->srv, &k->cerr) != 0) {
        set_error(c, CELL_FAILED, "server did not start: %s", k->cerr.msg);
        return 1;
    }
    k->server_up = 1;
    if (k->srv.warning[0])
        logf_(x, 4, k->fw->name, k->pl->name, "%s", k->srv.warning);
    struct probe_expect pe = {.body = k->body,
                              .body_len = k->body_len,
                              .length = k->pl->length,
                              .content_type = k->pl->content_type};
    void *alive_arg[2] = {x->node, &k->srv};
    int64_t ready = k->st.ready_timeout_ms > 0 ? k->st.ready_timeout_ms : 30000;
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
    logf_(x, 6, k->fw->name, k->pl->name, "server ready pid=%ld nofile=%lld url=%s", k->srv.pid,
          (long long)k->srv.nofile, k->url);
    return 0;
}

/* Stores the per-second series of a stored phase (its own transaction, after
 * the phase row is committed). The series is optional: a failure is logged and
 * the phase stands. A second without a response has no percentiles (-1). */
static void store_series(struct cell_ctx *k, int64_t phase_id, const struct run_report *rep)
{
    struct dmn_exec *x = k->x;
    if (!rep->nseries)
        return;
    struct store_series_point *pts = calloc(rep->nseries, sizeof(*pts));
    if (!pts) {
        logf_(x, 4, k->fw->name, k->pl->name, "phase series not stored: out of memory");
        return;
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
    struct err se;
    err_clear(&se);
    if (store_phase_series_add(x->store, phase_id, pts, rep->nseries, &se) != 0)
        logf_(x, 4, k->fw->name, k->pl->name, "phase series not stored: %s", se.msg);
    free(pts);
}

/* Runs, samples, classifies, stores and reports one phase at `users`. Returns
 * a level_outcome, or a negative code (e set) when the store failed. */
static int run_level(struct cell_ctx *k, struct cell_result *c, int users, const char *kind,
                     struct search_result *sr, struct err *e)
{
    struct dmn_exec *x = k->x;
    const struct cfg_settings *st = &k->st;
    if (cancelled(x)) {
        c->status = CELL_CANCELLED;
        return LEVEL_END;
    }
    if (k->need_start && server_fresh(k, c) != 0)
        return LEVEL_END;

    struct run_opts o;
    struct run_report rep;
    run_opts_init(&o);
    o.url = k->url;
    o.users = users;
    o.spawn_rate = st->spawn_rate;
    o.duration_ms = st->duration_ms;
    o.warmup_ms = st->warmup_ms;
    o.think = think_kind(&st->think);
    o.think_min_ms = st->think.min_ms;
    o.think_max_ms = st->think.max_ms;
    o.rate = st->rate;
    o.pipeline = st->pipeline > 0 ? st->pipeline : 1;
    o.threads = 1;
    o.timeout_ms = st->timeout_ms;
    o.expect_body = k->body;
    o.expect_body_len = k->body_len;
    o.expect_length = k->pl->length;
    o.cpus = x->matrix->load_cpus;
    o.cancel = x->cancel;
    struct progress_ctx pc = {x,     k->fw->name, k->pl->name,
                              users, k->seq,      (double)st->duration_ms / 1000.0};
    o.progress = on_progress;
    o.progress_arg = &pc;
    {
        struct dmn_event ev = {.kind = DMN_EV_PHASE_START,
                               .framework = k->fw->name,
                               .payload = k->pl->name,
                               .users = users,
                               .seq = k->seq,
                               .phase_duration_s = pc.planned_s};
        emit(x, &ev);
    }
    struct sampler smp = {0};
    if (sampler_start(x, &k->srv, &k->p, st->duration_ms / 1000 + 5, &smp, &k->cerr) != 0) {
        logf_(x, 4, k->fw->name, k->pl->name, "server sampler not started: %s", k->cerr.msg);
        err_clear(&k->cerr);
    }
    memset(&rep, 0, sizeof(rep));
    int prc = run_phase(&o, &rep, &k->cerr);
    struct phase_result ph = rep.result;
    ph.server_rss_max_kb = ph.server_rss_mean_kb = -1;
    ph.server_cpu_pct = ph.server_cpu_max_pct = -1;
    ph.server_threads_max = ph.server_fds_max = -1;
    ph.sampler_cpu_pct = -1;
    sampler_finish(x, &k->p, &smp, st->warmup_ms, &ph);
    int was_cancelled = rep.cancelled || cancelled(x);
    if (prc != 0) {
        run_report_free(&rep);
        set_error(c, CELL_ERROR, "load engine: %s", k->cerr.msg);
        err_clear(&k->cerr);
        return LEVEL_END;
    }
    if (was_cancelled) {
        /* A phase cut short is not a measurement: it is not stored. */
        run_report_free(&rep);
        c->status = CELL_CANCELLED;
        return LEVEL_END;
    }
    ph.users = users;
    mf_strlcpy(ph.kind, kind, sizeof(ph.kind));
    ph.repeat = k->repeat;
    ph.offered_rps = offered_in_window(&o, ph.offered_rps);
    ph.client_bound = ph.client_cpu_pct > st->client_bound_pct;
    ph.load_bound = ph.offered_rps > 0 && ph.rps >= LOAD_BOUND_SHARE * ph.offered_rps;
    int alive = node_server_alive(x->node, &k->srv, &k->cerr);
    err_clear(&k->cerr);
    const char *why = phase_fails(&st->stop_when, &ph);
    if (alive == 0)
        why = "server_exited";
    if (why)
        mf_strlcpy(ph.stop_reason, why, sizeof(ph.stop_reason));
    int rc = x->store ? store_phase_add_id(x->store, c->id, k->seq, &ph, &ph.id, e) : 0;
    if (!rc && x->store)
        store_series(k, ph.id, &rep);
    run_report_free(&rep);
    cell_result_add_phase(c, &ph);
    if (rc)
        return rc;
    if (ph.rps > sr->peak_rps) {
        sr->peak_rps = ph.rps;
        sr->peak_load_bound = ph.load_bound;
    }
    if (ph.rps > c->peak_rps)
        c->peak_rps = ph.rps; /* live value; the summary replaces it */
    {
        struct dmn_event ev = {.kind = DMN_EV_PHASE_END,
                               .framework = k->fw->name,
                               .payload = k->pl->name,
                               .users = users,
                               .seq = k->seq,
                               .phase = &c->phases[c->nphases - 1]};
        emit(x, &ev);
    }
    k->seq++;
    if (!why)
        return LEVEL_PASS;
    /* The next probe must not meet a server this phase damaged. */
    k->need_start = 1;
    if (alive == 0) {
        logf_(x, 4, k->fw->name, k->pl->name, "server exited during the phase at %d users", users);
        k->server_up = 0;
    }
    if (ph.client_bound) {
        snprintf(c->note, sizeof(c->note),
                 "the phase at %d users failed (%s) while the load engine's core was %.0f%% busy "
                 "(client bound, limit %.0f%%): not taken as a breaking point; search stopped",
                 users, why, ph.client_cpu_pct, st->client_bound_pct);
        logf_(x, 4, k->fw->name, k->pl->name, "%s", c->note);
        return LEVEL_CLIENT_FAIL;
    }
    return LEVEL_FAIL;
}

static int next_level(const struct cfg_users *u, int cur)
{
    long n = u->factor > 1 ? (long)cur * u->factor : (long)cur + (u->step > 0 ? u->step : 1);
    return n > u->max ? u->max : (int)n;
}

/* Bisection stops when failing - passing <= this. */
static int resolution(const struct cfg_settings *st, int lo, int hi)
{
    if (st->refine_abs > 0)
        return st->refine_abs;
    int r = (int)(st->refine_pct / 100.0 * (double)(lo > 0 ? lo : hi));
    return r < 1 ? 1 : r;
}

/* One search: linear levels until the first failing one F (last passing P),
 * then, with refine, bisection between P and F on fresh servers. Returns 0
 * when it ran to a result, 1 when the cell ended, negative on store errors. */
static int search_once(struct cell_ctx *k, struct cell_result *c, struct search_result *sr,
                       struct err *e)
{
    const struct cfg_settings *st = &k->st;
    memset(sr, 0, sizeof(*sr));
    sr->capacity = sr->breaking = -1;
    k->need_start = 1; /* each search starts on a fresh server */
    int users = st->users.start;
    for (;;) {
        int r = run_level(k, c, users, "linear", sr, e);
        if (r < 0)
            return r;
        if (r == LEVEL_END)
            return 1;
        if (r == LEVEL_CLIENT_FAIL) {
            sr->client_stopped = 1;
            return 0;
        }
        if (r == LEVEL_FAIL) {
            sr->breaking = users;
            break;
        }
        sr->capacity = users;
        if (users >= st->users.max)
            return 0;
        users = next_level(&st->users, users);
    }
    if (st->refine_abs <= 0 && st->refine_pct <= 0)
        return 0;
    int lo = sr->capacity > 0 ? sr->capacity : 0, hi = sr->breaking;
    while (hi - lo > resolution(st, lo, hi)) {
        int mid = lo + (hi - lo) / 2;
        int r = run_level(k, c, mid, "bisect", sr, e);
        if (r < 0)
            return r;
        if (r == LEVEL_END)
            return 1;
        if (r == LEVEL_CLIENT_FAIL) {
            /* Says nothing of the server: the search ends with the bracket it has. */
            sr->client_stopped = 1;
            return 0;
        }
        if (r == LEVEL_PASS)
            lo = sr->capacity = mid;
        else
            hi = sr->breaking = mid;
    }
    return 0;
}

static int cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Quantile of sorted v by linear interpolation (numpy's default). */
static double quantile(const double *v, int n, double q)
{
    double pos = q * (n - 1);
    int i = (int)pos;
    if (i >= n - 1)
        return v[n - 1];
    return v[i] + (v[i + 1] - v[i]) * (pos - i);
}

/* Relative spread of the peaks: (max - min) / median. The range rather than
 * the IQR: with 3 to 5 repeats the IQR hides one outlier of 3. */
static double peak_spread(const struct search_result *r, int n)
{
    double v[64];
    if (n > 64)
        n = 64;
    for (int i = 0; i < n; i++)
        v[i] = r[i].peak_rps;
    qsort(v, (size_t)n, sizeof(v[0]), cmp_dbl);
    double med = quantile(v, n, 0.5);
    return med > 0 ? (v[n - 1] - v[0]) / med : 0;
}

/* The cell's figures from its n searches: median, IQR, min and max of the
 * capacity and of the peak req/s; capacity_users and breaking_users are lower
 * medians (values some search found; a missing breaking point counts as
 * above every found one, a missing capacity as below). */
static void summarize(struct cell_result *c, const struct search_result *r, int n)
{
    double cap[64], brk[64], pk[64];
    int have_cap = 0;
    if (n > 64)
        n = 64;
    c->repeats = n;
    if (n == 0)
        return;
    for (int i = 0; i < n; i++) {
        cap[i] = r[i].capacity;
        brk[i] = r[i].breaking < 0 ? 1e18 : r[i].breaking;
        pk[i] = r[i].peak_rps;
        have_cap |= r[i].capacity >= 0;
    }
    qsort(cap, (size_t)n, sizeof(double), cmp_dbl);
    qsort(brk, (size_t)n, sizeof(double), cmp_dbl);
    qsort(pk, (size_t)n, sizeof(double), cmp_dbl);
    int mid = (n - 1) / 2;
    c->capacity_users = (int)cap[mid];
    c->breaking_users = brk[mid] >= 1e18 ? -1 : (int)brk[mid];
    if (have_cap) {
        double cz[64];
        for (int i = 0; i < n; i++)
            cz[i] = cap[i] < 0 ? 0 : cap[i];
        c->capacity_median = quantile(cz, n, 0.5);
        c->capacity_iqr = quantile(cz, n, 0.75) - quantile(cz, n, 0.25);
        c->capacity_min = cz[0];
        c->capacity_max = cz[n - 1];
    }
    c->peak_rps_median = quantile(pk, n, 0.5);
    c->peak_rps_iqr = quantile(pk, n, 0.75) - quantile(pk, n, 0.25);
    c->peak_rps_min = pk[0];
    c->peak_rps_max = pk[n - 1];
    c->peak_rps_spread = peak_spread(r, n);
    c->peak_rps = c->peak_rps_median;
    /* The load-bound flag of the search whose peak is the lower median. */
    for (int i = 0; i < n; i++)
        if (r[i].peak_rps == pk[mid]) {
            c->peak_rps_load_bound = r[i].peak_load_bound;
            break;
        }
}

#define MAX_REPEATS 64

int dmn_exec_cell(struct dmn_exec *x, const struct cfg_cell *cell, struct cell_result *c,
                  struct err *e)
{
    const struct cfg_matrix *m = x->matrix;
    const struct cfg_framework *fw = &m->frameworks[cell->framework];
    const struct cfg_payload *pl = &m->payloads[cell->payload];
    const struct cfg_node *nc = &m->node;
    struct cell_ctx k;
    struct buf cmd, body;
    struct search_result res[MAX_REPEATS];
    int rc = 0, nres = 0;

    memset(c, 0, sizeof(*c));
    memset(&k, 0, sizeof(k));
    k.x = x;
    k.fw = fw;
    k.pl = pl;
    mf_strlcpy(c->framework, fw->name, sizeof(c->framework));
    mf_strlcpy(c->payload, pl->name, sizeof(c->payload));
    c->capacity_users = c->breaking_users = -1;
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
        struct dmn_event ev = {
            .kind = DMN_EV_CELL_START, .framework = fw->name, .payload = pl->name};
        emit(x, &ev);
    }
    if (cfg_resolve(m, x->profile, fw, &k.st, &k.cerr) != 0) {
        set_error(c, CELL_ERROR, "%s", k.cerr.msg);
        goto finish;
    }
    cell_paths(x, fw, &k.p);
    if (pl->body_file) {
        /* The exact bytes every answer is compared with, read where the engine runs. */
        char path[2048];
        if (pl->body_file[0] == '/' || !x->targets_dir)
            snprintf(path, sizeof(path), "%s", pl->body_file);
        else
            snprintf(path, sizeof(path), "%s/%s", x->targets_dir, pl->body_file);
        if (mf_read_file(path, 64u << 20, &body, &k.cerr) != 0) {
            set_error(c, CELL_ERROR, "payloads.%s.body_file: %s", pl->name, k.cerr.msg);
            goto finish;
        }
        k.body = body.data;
        k.body_len = body.len;
    }

    rc = provision(x, fw, &k.p, c, &k.cerr);
    if (rc < 0) {
        set_error(c, CELL_ERROR, "provisioning failed: %s", k.cerr.msg);
        rc = 0;
        goto finish;
    }
    if (rc == 1) {
        logf_(x, 4, fw->name, pl->name, "skipped: %s", c->error);
        rc = 0;
        goto finish;
    }
    if (expand_start(x, fw, &k.p, &cmd, &k.cerr) != 0) {
        set_error(c, CELL_ERROR, "%s", k.cerr.msg);
        goto finish;
    }
    k.cmd = cmd.data;
    snprintf(k.url, sizeof(k.url), "http://%s:%d%s", x->node->host, nc->server_port, pl->path);

    {
        int fixed = k.st.repeats > 0;
        int most = fixed ? k.st.repeats : (k.st.max_repeats >= 3 ? k.st.max_repeats : 3);
        if (most > MAX_REPEATS)
            most = MAX_REPEATS;
        for (int rep = 0; rep < most; rep++) {
            k.repeat = rep;
            if (most > 1)
                logf_(x, 6, fw->name, pl->name, "search %d of %s%d", rep + 1,
                      fixed ? "" : "at most ", most);
            int r = search_once(&k, c, &res[nres], e);
            if (r < 0) {
                rc = r;
                goto out;
            }
            if (r == 1)
                break;
            nres++;
            if (res[nres - 1].client_stopped)
                break;
            if (!fixed && nres >= 3 && peak_spread(res, nres) * 100.0 < k.st.spread_pct)
                break;
        }
        if (!fixed && nres >= 3 && !res[nres - 1].client_stopped &&
            peak_spread(res, nres) * 100.0 >= k.st.spread_pct)
            logf_(x, 4, fw->name, pl->name,
                  "peak req/s still spread by %.1f%% after %d searches (target %.1f%%)",
                  peak_spread(res, nres) * 100.0, nres, k.st.spread_pct);
    }
    summarize(c, res, nres);
    if (nres == 0 && c->nphases > 0) {
        /* Cut short in its first search: what that search had seen so far. */
        c->capacity_users = res[0].capacity;
        c->breaking_users = res[0].breaking;
    }
    if (c->status == CELL_RUNNING)
        c->status = nres > 0 ? CELL_OK : CELL_ERROR;

finish:
    if (k.server_up) {
        err_clear(&k.cerr);
        if (node_server_stop(x->node, &k.srv, STOP_GRACE_MS, &k.cerr) != 0)
            logf_(x, 3, fw->name, pl->name, "stopping the server: %s", k.cerr.msg);
        k.server_up = 0;
    }
    if (c->status == CELL_RUNNING)
        c->status = CELL_ERROR;
    if (x->store && (rc = store_cell_finish(x->store, c, e)) != 0)
        goto out;
    {
        struct dmn_event ev = {
            .kind = DMN_EV_CELL_END, .framework = fw->name, .payload = pl->name, .cell = c};
        emit(x, &ev);
    }
    rc = 0;
out:
    if (rc && k.server_up) {
        struct err e2;
        err_clear(&e2);
        node_server_stop(x->node, &k.srv, STOP_GRACE_MS, &e2);
    }
    buf_free(&cmd);
    buf_free(&body);
    return rc;
}

int dmn_cleanup_node(struct dmn_exec *x, int *found, struct err *e)
{
    char pidfile[1100];
    snprintf(pidfile, sizeof(pidfile), "%s/run/server.pid", x->matrix->node.workdir);
    return node_server_stop_pidfile(x->node, pidfile, STOP_GRACE_MS, found, e);
}
