/* sampler.c - the node-side /proc sampler of a server's process group: the
 * script installed in the workdir, starting and stopping it, and the pure
 * parser that folds its samples of a phase's measured window into figures. */
#include "node.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The node-side sampler: one line per second for a process group, from /proc:
 * "uptime rss_pages cpu_ticks threads fds self_ticks cpu_total cpu_idle
 * cpu_steal cpu_irq". awk reads every /proc/PID/stat in one process (the group's
 * members are found by their pgrp field, so a gunicorn master and its workers
 * add up); descriptors are counted with a shell glob (no fork). self_ticks is
 * the sampler's own cost: the shell's utime+stime+cutime+cstime, which include
 * every awk and sleep it has reaped, so the executor can report what sampling
 * cost on every phase. cpu_*: the cumulative jiffies in /proc/stat of the
 * server's CPUs (the cpuN lines of the list in $4, "1" or "0-3,6"; the
 * aggregate "cpu" line when $4 is empty): total (user..steal, guest is inside
 * user), idle + iowait, steal, irq + softirq; -1 -1 -1 -1 when none could be read.
 * Files are read with getline in BEGIN: a process that exits between the glob
 * and the read is skipped (awk aborts on a missing file named as input).
 * awk is the first of awk, mawk, gawk, original-awk and busybox awk that runs:
 * Debian's /usr/bin/awk is a link through /etc/alternatives, which a system
 * booted with an empty /etc (systemd-nspawn --volatile=yes) does not have. A
 * sampler that cannot sample says why on an "error: " line of its output.
 * db_ticks db_rss: with a fifth argument, the run's PostgreSQL (the postmaster's
 * pid): the postmaster's utime+stime+cutime+cstime (backends that exited are in
 * its cutime/cstime once it has reaped them) plus utime+stime of each of its
 * children (PostgreSQL puts every backend in a session of its own, so they are
 * found by their ppid, re-read on every sample as backends come and go), and
 * the RSS pages of all of them summed (shared buffers a backend touched count
 * in each: an upper bound); -1 -1 without a database or when its postmaster is
 * gone. */
const char node_sampler_sh[] =
    "#!/bin/sh\n"
    "# mfbench sampler: sampler.sh PGID OUT MAXSECS [CPUS [DBPID]] (written by mfbench; do not "
    "edit)\n"
    "pg=$1; out=$2; max=$3; cpus=${4-}; db=${5-}; n=0; me=$$; aw=\n"
    "case $db in ''|*[!0-9]*) db=0 ;; esac\n"
    ": >\"$out\"\n"
    "for a in awk mawk gawk original-awk busybox; do\n"
    "  [ \"$a\" = busybox ] && a='busybox awk'\n"
    "  if $a 'BEGIN{}' </dev/null >/dev/null 2>&1; then aw=$a; break; fi\n"
    "done\n"
    "if [ -z \"$aw\" ]; then\n"
    "  echo \"error: no working awk on the node (tried awk mawk gawk original-awk busybox;"
    " PATH=$PATH)\" >\"$out\"\n"
    "  exit 1\n"
    "fi\n"
    "while [ \"$n\" -lt \"$max\" ] && kill -0 \"-$pg\" 2>/dev/null; do\n"
    "  line=$($aw -v pg=\"$pg\" -v me=\"$me\" -v cpus=\"$cpus\" -v db=\"$db\" 'BEGIN{if((getline "
    "up "
    "<\"/proc/uptime\")<=0)exit;split(up,u,\" \");"
    "nc=split(cpus,cl,\",\");for(i=1;i<=nc;i++){if(split(cl[i],rg,\"-\")==2){"
    "for(j=rg[1]+0;j<=rg[2]+0&&j<4096;j++)want[\"cpu\"j]=1}else want[\"cpu\"(cl[i]+0)]=1}"
    "ct=ci=cs=cq=-1;while((getline s <\"/proc/stat\")>0){split(s,g,\" \");"
    "if(g[1]!~/^cpu/)break;if(nc?(g[1] in want):g[1]==\"cpu\"){if(ct<0)ct=ci=cs=cq=0;"
    "ct+=g[2]+g[3]+g[4]+g[5]+g[6]+g[7]+g[8]+g[9];ci+=g[5]+g[6];cs+=g[9];cq+=g[7]+g[8]}}close(\"/"
    "proc/stat\");"
    "for(i=1;i<ARGC;i++){fn=ARGV[i];if((getline l <fn)>0){s=l;sub(/^.*\\) /,\"\",s);"
    "split(s,f,\" \");id=substr(l,1,index(l,\" \")-1);"
    "if(id==me){self=f[12]+f[13]+f[14]+f[15]}"
    "if(f[3]==pg){t+=f[12]+f[13];th+=f[18];r+=f[22];p=p\" \"id}"
    "if(db>0&&id==db){dp=1;dt+=f[12]+f[13]+f[14]+f[15];dr+=f[22]}"
    "else if(db>0&&f[2]==db){dt+=f[12]+f[13];dr+=f[22]}}close(fn)}"
    "if(!dp)dt=dr=-1;"
    "printf \"%s %d %d %d %d %.0f %.0f %.0f %.0f %.0f %.0f%s\\n\",u[1],r,t,th,self,ct,ci,cs,cq,dt,"
    "dr,p;exit}' "
    "/proc/[0-9]*/stat 2>/dev/null)\n"
    "  set -- $line\n"
    "  if [ $# -lt 11 ]; then\n"
    "    [ \"$n\" -eq 0 ] && echo \"error: $aw printed no sample of group $pg"
    " (are /proc/uptime and /proc/PID/stat visible? ProcSubset=pid hides the first)\" "
    ">>\"$out\"\n"
    "    break\n"
    "  fi\n"
    "  up=$1; rss=$2; ticks=$3; thr=$4; self=$5; ct=$6; ci=$7; cs=$8; cq=$9; dt=${10}; "
    "dr=${11}\n"
    "  shift 11; fds=0\n"
    "  for p in \"$@\"; do\n"
    "    set -- /proc/$p/fd/*\n"
    "    [ -e \"$1\" ] && fds=$((fds + $#))\n"
    "  done\n"
    "  echo \"$up $rss $ticks $thr $fds $self $ct $ci $cs $cq $dt $dr\" >>\"$out\"\n"
    "  n=$((n + 1))\n"
    "  sleep 1\n"
    "done\n";

int node_sampler_install(struct node *n, const char *workdir, struct err *e)
{
    char path[1100];
    snprintf(path, sizeof(path), "%s/sampler.sh", workdir);
    return n->ops->put_file(n, path, node_sampler_sh, strlen(node_sampler_sh), 0755, e);
}

int node_sampler_start(struct node *n, const char *workdir, long pgid, const char *cpus,
                       long db_pid, const char *samples_path, int64_t max_s, int64_t timeout_ms,
                       long *pid, struct err *e)
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
    rc = rc ? rc : buf_printf(&cmd, " %lld ", (long long)max_s);
    rc = rc ? rc : buf_shquote(&cmd, cpus ? cpus : "");
    if (db_pid > 0)
        rc = rc ? rc : buf_printf(&cmd, " %ld", db_pid);
    rc = rc ? rc : buf_puts(&cmd, " </dev/null >/dev/null 2>&1 & echo $!");
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

/* One sample line; cpu_* are -1 on lines of an older sampler, db_* on lines
 * without a database (or of an older sampler). */
struct sample {
    double up;
    long long rss, ticks, self, ct, ci, cs, cq, dt, dr;
    int thr, fds;
};

/* The database's ticks from a to b: 0 unless both ends measured it (a
 * postmaster that restarted counts from 0 again: then 0 too). */
static long long db_ticks(const struct sample *a, const struct sample *b)
{
    return a->dt >= 0 && b->dt >= a->dt ? b->dt - a->dt : 0;
}

/* The node's share of the window [a, b] on the server's CPUs: steal, and
 * neighbours = busy jiffies less the server's and the sampler's ticks (both
 * USER_HZ, like /proc/stat), and less the database's when it may run on those
 * CPUs (db_shares). Unknown (-1) unless both ends carry cpu_*. */
static void node_share(const struct sample *a, const struct sample *b, int db_shares,
                       struct node_samples *out)
{
    const struct node_cpu_times ta = {a->ct, a->ci, a->cs, a->cq},
                                tb = {b->ct, b->ci, b->cs, b->cq};
    long long server = b->ticks >= a->ticks ? b->ticks - a->ticks : 0;
    long long self = a->self >= 0 && b->self >= a->self ? b->self - a->self : 0;
    long long db = db_shares ? db_ticks(a, b) : 0;
    int noisy = node_cpu_share(&ta, &tb, (double)(server + self + db), &out->steal_pct,
                               &out->neighbour_cpu_pct);
    out->noisy = noisy > 0;
}

int node_cpu_share(const struct node_cpu_times *a, const struct node_cpu_times *b, double own_ticks,
                   double *steal_pct, double *neighbour_pct)
{
    *steal_pct = *neighbour_pct = -1;
    if (a->total < 0 || b->total < 0 || a->idle < 0 || b->idle < 0 || a->steal < 0 || b->steal < 0)
        return -1;
    long long total = b->total - a->total, idle = b->idle - a->idle, steal = b->steal - a->steal;
    long long irq = a->irq >= 0 && b->irq >= a->irq ? b->irq - a->irq : 0;
    if (total <= 0 || idle < 0 || steal < 0 || idle + steal + irq > total)
        return -1;
    double busy = (double)(total - idle - steal - irq);
    double other = busy - (own_ticks > 0 ? own_ticks : 0);
    *steal_pct = (double)steal / (double)total * 100.0;
    *neighbour_pct = other > 0 ? other / (double)total * 100.0 : 0;
    return *steal_pct > NOISY_PCT || *neighbour_pct > NOISY_PCT;
}

int node_db_bound(double db_cpu_pct, int ncpus)
{
    return ncpus >= 1 && db_cpu_pct >= 0 && db_cpu_pct >= DB_BOUND_PCT * (double)ncpus;
}

void node_sampler_parse(const char *text, int64_t warmup_ms, long page_kb, long clk_tck,
                        int db_shares, struct node_samples *out)
{
    struct sample prev = {.up = -1}, first = {.up = -1}, last = {.up = -1};
    struct sample all0 = {.up = -1}, all1 = {.up = -1}; /* the first and last line */
    double up0 = -1;
    double rss_sum = 0, rss_max = -1, cpu_max = -1, db_rss_max = -1, db_cpu_max = -1;
    int nrss = 0, thr_max = -1, fds_max = -1;

    out->rss_max_kb = out->rss_mean_kb = -1;
    out->cpu_pct = out->cpu_max_pct = -1;
    out->sampler_cpu_pct = -1;
    out->threads_max = out->fds_max = -1;
    out->steal_pct = out->neighbour_cpu_pct = -1;
    out->noisy = 0;
    out->db_cpu_pct = out->db_cpu_max_pct = out->db_rss_max_kb = -1;
    out->db_phase_cpu_pct = -1;
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

        struct sample sm = {.self = -1, .ct = -1, .ci = -1, .cs = -1, .cq = -1, .dt = -1, .dr = -1};
        int nf = sscanf(line, "%lf %lld %lld %d %d %lld %lld %lld %lld %lld %lld %lld", &sm.up,
                        &sm.rss, &sm.ticks, &sm.thr, &sm.fds, &sm.self, &sm.ct, &sm.ci, &sm.cs,
                        &sm.cq, &sm.dt, &sm.dr);
        if (nf < 5)
            continue;
        if (nf < 9) /* an older sampler: no /proc/stat figures */
            sm.ct = sm.ci = sm.cs = -1;
        if (nf < 10) /* nor irq time: counted as busy */
            sm.cq = -1;
        if (nf < 12 || sm.dt < 0 || sm.dr < 0) /* no database (or an older sampler) */
            sm.dt = sm.dr = -1;
        if (up0 < 0)
            up0 = sm.up;
        if (all0.up < 0)
            all0 = sm;
        all1 = sm;
        if ((sm.up - up0) * 1000.0 < (double)warmup_ms) {
            prev = sm;
            continue;
        }
        double kb = (double)sm.rss * (double)page_kb;
        rss_sum += kb;
        nrss++;
        if (kb > rss_max)
            rss_max = kb;
        if (sm.thr > thr_max)
            thr_max = sm.thr;
        if (sm.fds > fds_max)
            fds_max = sm.fds;
        if (prev.up >= 0 && sm.up > prev.up && sm.ticks >= prev.ticks) {
            double pct =
                (double)(sm.ticks - prev.ticks) / (double)clk_tck / (sm.up - prev.up) * 100.0;
            if (pct > cpu_max)
                cpu_max = pct;
        }
        if (sm.dr >= 0 && (double)sm.dr * (double)page_kb > db_rss_max)
            db_rss_max = (double)sm.dr * (double)page_kb;
        if (prev.up >= 0 && sm.up > prev.up && prev.dt >= 0 && sm.dt >= prev.dt) {
            double pct = (double)(sm.dt - prev.dt) / (double)clk_tck / (sm.up - prev.up) * 100.0;
            if (pct > db_cpu_max)
                db_cpu_max = pct;
        }
        if (first.up < 0)
            first = prev.up >= 0 ? prev : sm;
        last = sm;
        prev = sm;
    }
    if (nrss > 0) {
        out->rss_max_kb = rss_max;
        out->rss_mean_kb = rss_sum / nrss;
        out->threads_max = thr_max;
        out->fds_max = fds_max;
    }
    if (last.up > first.up && first.up >= 0) {
        double span = last.up - first.up;
        out->cpu_pct = (double)(last.ticks - first.ticks) / (double)clk_tck / span * 100.0;
        out->cpu_max_pct = cpu_max;
        if (first.self >= 0 && last.self >= first.self)
            out->sampler_cpu_pct =
                (double)(last.self - first.self) / (double)clk_tck / span * 100.0;
        node_share(&first, &last, db_shares, out);
        if (first.dt >= 0 && last.dt >= first.dt) {
            out->db_cpu_pct = (double)(last.dt - first.dt) / (double)clk_tck / span * 100.0;
            out->db_cpu_max_pct = db_cpu_max >= 0 ? db_cpu_max : out->db_cpu_pct;
        }
    }
    out->db_rss_max_kb = db_rss_max;
    if (all0.up >= 0 && all1.up > all0.up && all0.dt >= 0 && all1.dt >= 0)
        out->db_phase_cpu_pct =
            (double)db_ticks(&all0, &all1) / (double)clk_tck / (all1.up - all0.up) * 100.0;
}

int node_sampler_problem(const char *text, char *msg, size_t n)
{
    for (const char *l = text ? text : ""; *l;) {
        const char *nl = strchr(l, '\n');
        size_t len = nl ? (size_t)(nl - l) : strlen(l);
        if (len > 7 && strncmp(l, "error: ", 7) == 0) {
            if (n > 0)
                snprintf(msg, n, "%.*s", (int)(len - 7), l + 7);
            return 1;
        }
        l = nl ? nl + 1 : l + len;
    }
    return 0;
}

int node_sampler_finish(struct node *n, long pid, const char *samples_path, int64_t timeout_ms,
                        int64_t warmup_ms, long page_kb, long clk_tck, int db_shares,
                        struct node_samples *out, struct err *e)
{
    struct buf cmd, text;
    int rc = 0, status = 0;
    buf_init(&cmd, 0);
    buf_init(&text, 4 << 20);
    node_sampler_parse(NULL, warmup_ms, page_kb, clk_tck, 0, out); /* all unknown */
    if (pid > 0)
        /* The sampler leads its own group (setsid): its `sleep 1` goes too. */
        rc = buf_printf(&cmd, "kill -TERM -%ld 2>/dev/null || kill %ld 2>/dev/null; ", pid, pid);
    rc = rc ? rc : buf_puts(&cmd, "cat ");
    rc = rc ? rc : buf_shquote(&cmd, samples_path);
    rc = rc ? rc : buf_puts(&cmd, " 2>/dev/null; rm -f ");
    rc = rc ? rc : buf_shquote(&cmd, samples_path);
    if (rc)
        err_set(e, rc, "sampler command: %s", strerror(-rc));
    else
        rc = node_exec(n, cmd.data, timeout_ms, &text, &status, e);
    if (rc == 0 && text.data) {
        char why[300];
        node_sampler_parse(text.data, warmup_ms, page_kb, clk_tck, db_shares, out);
        if (node_sampler_problem(text.data, why, sizeof why))
            rc = err_set(e, -ENOEXEC, "the sampler on %s: %s", n->host, why);
    }
    buf_free(&cmd);
    buf_free(&text);
    return rc;
}
