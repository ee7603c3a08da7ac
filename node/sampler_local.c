/* sampler_local.c - the load engine's side of a phase: /proc/stat of the
 * machine mfbench runs on, summed over the load CPUs, so that steal and other
 * processes on the engine's own cores are seen as they are on the server's
 * (sampler.c). The engine runs in this process: no command, a file read. */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node.h"

int node_cpu_times_parse(const char *text, const char *cpus, struct node_cpu_times *out)
{
    cpu_set_t want;
    char why[160];
    int any = cpus && *cpus;
    *out = (struct node_cpu_times){-1, -1, -1, -1};
    if (any && mf_cpus_parse(cpus, &want, why, sizeof why) != 0)
        return -ENOENT;
    struct node_cpu_times sum = {0, 0, 0, 0};
    int found = 0;
    for (const char *l = text ? text : ""; *l;) {
        const char *nl = strchr(l, '\n');
        size_t len = nl ? (size_t)(nl - l) : strlen(l);
        char line[512];
        if (len >= sizeof line)
            len = sizeof line - 1;
        memcpy(line, l, len);
        line[len] = '\0';
        l = nl ? nl + 1 : l + strlen(l);
        if (strncmp(line, "cpu", 3) != 0)
            break; /* the cpu lines come first */
        int cpu = -1, off = 0;
        if (line[3] == ' ') {
            if (any)
                continue;
            off = 3;
        } else if (sscanf(line + 3, "%d%n", &cpu, &off) != 1 || cpu < 0 || cpu >= CPU_SETSIZE ||
                   !any || !CPU_ISSET(cpu, &want)) {
            continue;
        } else {
            off += 3;
        }
        long long f[8] = {0};
        int n = sscanf(line + off, "%lld %lld %lld %lld %lld %lld %lld %lld", &f[0], &f[1], &f[2],
                       &f[3], &f[4], &f[5], &f[6], &f[7]);
        if (n < 8) /* user nice system idle iowait irq softirq steal */
            continue;
        sum.total += f[0] + f[1] + f[2] + f[3] + f[4] + f[5] + f[6] + f[7];
        sum.idle += f[3] + f[4];
        sum.steal += f[7];
        sum.irq += f[5] + f[6];
        found = 1;
    }
    if (!found)
        return -ENOENT;
    *out = sum;
    return 0;
}

int node_cpu_times_read(const char *cpus, struct node_cpu_times *out, struct err *e)
{
    struct buf text;
    buf_init(&text, 1 << 20); /* a few KiB per hundred CPUs */
    *out = (struct node_cpu_times){-1, -1, -1, -1};
    int rc = mf_read_file("/proc/stat", 1 << 20, &text, e);
    if (rc == 0 && node_cpu_times_parse(text.data, cpus, out) != 0)
        rc = err_set(e, -ENOENT, "/proc/stat: no line for CPUs %s", cpus && *cpus ? cpus : "(all)");
    buf_free(&text);
    return rc;
}

int node_cpus_overlap(const char *a, const char *b)
{
    cpu_set_t sa, sb, both;
    char why[160];
    if (!a || !*a || !b || !*b)
        return 1;
    if (mf_cpus_parse(a, &sa, why, sizeof why) != 0 || mf_cpus_parse(b, &sb, why, sizeof why) != 0)
        return 1;
    CPU_AND(&both, &sa, &sb);
    return CPU_COUNT(&both) > 0;
}

int node_cpus_count(const char *cpus)
{
    cpu_set_t set;
    char why[160];
    if (!cpus || !*cpus || mf_cpus_parse(cpus, &set, why, sizeof why) != 0)
        return 0;
    return CPU_COUNT(&set);
}
