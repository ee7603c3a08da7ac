/* sampler.c - the node-side /proc sampler of a server's process group: the
 * script installed in the workdir, starting and stopping it, and the pure
 * parser that folds its samples of a phase's measured window into figures. */
#include "node.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The node-side sampler: one line per second for a process group, from /proc:
 * "uptime rss_pages cpu_ticks threads fds self_ticks". awk reads every
 * /proc/PID/stat in one process (the group's members are found by their pgrp
 * field, so a gunicorn master and its workers add up); descriptors are counted
 * with a shell glob (no fork). self_ticks is the sampler's own cost: the
 * shell's utime+stime+cutime+cstime, which include every awk and sleep it has
 * reaped, so the executor can report what sampling cost on every phase.
 * Files are read with getline in BEGIN: a process that exits between the glob
 * and the read is skipped (awk aborts on a missing file named as input). */
const char node_sampler_sh[] =
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

int node_sampler_install(struct node *n, const char *workdir, struct err *e)
{
    char path[1100];
    snprintf(path, sizeof(path), "%s/sampler.sh", workdir);
    return n->ops->put_file(n, path, node_sampler_sh, strlen(node_sampler_sh), 0755, e);
}

int node_sampler_start(struct node *n, const char *workdir, long pgid, const char *samples_path,
                       int64_t max_s, int64_t timeout_ms, long *pid, struct err *e)
{
    struct buf cmd, out;
    char sh[1100];
    int rc = 0;
    *pid = 0;
    buf_init(&cmd, 0);
    buf_init(&out, 4096);
    snprintf(sh, sizeof(sh), "%s/sampler.sh", workdir);
    rc = buf_puts(&cmd, "setsid sh ");
    rc = rc ? rc : buf_shquote(&cmd, sh);
    rc = rc ? rc : buf_printf(&cmd, " %ld ", pgid);
    rc = rc ? rc : buf_shquote(&cmd, samples_path);
    rc = rc ? rc : buf_printf(&cmd, " %lld </dev/null >/dev/null 2>&1 & echo $!", (long long)max_s);
    if (rc)
        err_set(e, rc, "sampler command: %s", strerror(-rc));
    else
        rc = node_exec_ok(n, cmd.data, timeout_ms, &out, e);
    if (rc == 0 && out.data)
        *pid = strtol(out.data, NULL, 10);
    buf_free(&cmd);
    buf_free(&out);
    return rc;
}

void node_sampler_parse(const char *text, int64_t warmup_ms, long page_kb, long clk_tck,
                        struct node_samples *out)
{
    double up0 = -1, prev_up = -1, first_up = -1, last_up = -1;
    long long prev_ticks = -1, first_ticks = -1, last_ticks = -1;
    long long prev_self = -1, first_self = -1, last_self = -1;
    double rss_sum = 0, rss_max = -1, cpu_max = -1;
    int nrss = 0, thr_max = -1, fds_max = -1;

    out->rss_max_kb = out->rss_mean_kb = -1;
    out->cpu_pct = out->cpu_max_pct = -1;
    out->sampler_cpu_pct = -1;
    out->threads_max = out->fds_max = -1;
    if (clk_tck <= 0)
        clk_tck = 100;
    for (const char *l = text ? text : ""; *l;) {
        /* One line at a time: sscanf must not read on into the next one. */
        const char *nl = strchr(l, '\n');
        size_t len = nl ? (size_t)(nl - l) : strlen(l);
        char line[256];
        if (len >= sizeof(line))
            len = sizeof(line) - 1;
        memcpy(line, l, len);
        line[len] = '\0';
        l = nl ? nl + 1 : l + strlen(l);

        double up;
        long long rss, ticks, self = -1;
        int thr, fds;
        int nf = sscanf(line, "%lf %lld %lld %d %d %lld", &up, &rss, &ticks, &thr, &fds, &self);
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
        double kb = (double)rss * (double)page_kb;
        rss_sum += kb;
        nrss++;
        if (kb > rss_max)
            rss_max = kb;
        if (thr > thr_max)
            thr_max = thr;
        if (fds > fds_max)
            fds_max = fds;
        if (prev_up >= 0 && up > prev_up && ticks >= prev_ticks) {
            double pct = (double)(ticks - prev_ticks) / (double)clk_tck / (up - prev_up) * 100.0;
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
        out->rss_max_kb = rss_max;
        out->rss_mean_kb = rss_sum / nrss;
        out->threads_max = thr_max;
        out->fds_max = fds_max;
    }
    if (last_up > first_up && first_up >= 0) {
        out->cpu_pct =
            (double)(last_ticks - first_ticks) / (double)clk_tck / (last_up - first_up) * 100.0;
        out->cpu_max_pct = cpu_max;
        if (first_self >= 0 && last_self >= first_self)
            out->sampler_cpu_pct =
                (double)(last_self - first_self) / (double)clk_tck / (last_up - first_up) * 100.0;
    }
}

int node_sampler_finish(struct node *n, long pid, const char *samples_path, int64_t timeout_ms,
                        int64_t warmup_ms, long page_kb, long clk_tck, struct node_samples *out,
                        struct err *e)
{
    struct buf cmd, text;
    int rc = 0, status = 0;
    buf_init(&cmd, 0);
    buf_init(&text, 4 << 20);
    node_sampler_parse(NULL, warmup_ms, page_kb, clk_tck, out); /* all unknown */
    if (pid > 0)
        rc = buf_printf(&cmd, "kill %ld 2>/dev/null; ", pid);
    rc = rc ? rc : buf_puts(&cmd, "cat ");
    rc = rc ? rc : buf_shquote(&cmd, samples_path);
    rc = rc ? rc : buf_puts(&cmd, " 2>/dev/null; rm -f ");
    rc = rc ? rc : buf_shquote(&cmd, samples_path);
    if (rc)
        err_set(e, rc, "sampler command: %s", strerror(-rc));
    else
        rc = node_exec(n, cmd.data, timeout_ms, &text, &status, e);
    if (rc == 0 && text.data)
        node_sampler_parse(text.data, warmup_ms, page_kb, clk_tck, out);
    buf_free(&cmd);
    buf_free(&text);
    return rc;
}
