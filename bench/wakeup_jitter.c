/* wakeup_jitter.c - how late this machine wakes a sleeping thread: the floor
 * under mfbench's missed_schedule (runner/schedule.c, run_missed_late_ns).
 *
 * usage: wakeup_jitter [RATE [SECONDS [SPIN_US]]]   (defaults 5000 10 150)
 *
 * A Poisson schedule of RATE wake-ups a second, as the open-loop engine's: a
 * CLOCK_MONOTONIC timerfd armed SPIN_US before each due time, then a busy wait
 * to it (SPIN_US 0: the timer alone). Prints how many wake-ups came more than
 * 0.5, 1, 2, 3, 5 and 10 ms late, and the latest. Pin it where the engine
 * runs: `taskset -c 0 build/tests/runner/wakeup_jitter`. No load, no sockets:
 * what it shows is the kernel's and the hypervisor's, not mfbench's. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

int main(int argc, char **argv)
{
    double rate = argc > 1 ? atof(argv[1]) : 5000;
    double secs = argc > 2 ? atof(argv[2]) : 10;
    double spin_us = argc > 3 ? atof(argv[3]) : 150;
    if (!(rate > 0 && rate <= 1e6) || !(secs > 0 && secs <= 3600) ||
        !(spin_us >= 0 && spin_us <= 1e5)) {
        fprintf(stderr,
                "usage: wakeup_jitter [RATE (0-1e6] [SECONDS (0-3600] [SPIN_US 0-100000]]]\n");
        return 2;
    }
    int fd = timerfd_create(CLOCK_MONOTONIC, 0);
    if (fd < 0) {
        perror("timerfd_create");
        return 1;
    }
    static const double edges_ms[] = {0.5, 1, 2, 3, 5, 10};
    enum { NE = sizeof(edges_ms) / sizeof(edges_ms[0]) };
    uint64_t late[NE] = {0}, n = 0, worst = 0;
    uint64_t spin = (uint64_t)(spin_us * 1000), t0 = now_ns(), due = t0;
    uint64_t end = t0 + (uint64_t)(secs * 1e9);
    uint64_t rng = 0x9e3779b97f4a7c15u;
    for (;;) {
        /* splitmix64, U in (0, 1]: an exponential gap of mean 1/rate */
        uint64_t z = (rng += 0x9e3779b97f4a7c15u);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
        z ^= z >> 31;
        double u = (double)((z >> 11) + 1) * 0x1p-53;
        due += (uint64_t)(-log(u) * 1e9 / rate);
        if (due >= end)
            break;
        uint64_t wake = due > spin ? due - spin : due;
        if (wake > now_ns()) {
            struct itimerspec it = {0};
            it.it_value.tv_sec = (time_t)(wake / 1000000000u);
            it.it_value.tv_nsec = (long)(wake % 1000000000u);
            uint64_t x;
            if (timerfd_settime(fd, TFD_TIMER_ABSTIME, &it, NULL) != 0 ||
                read(fd, &x, sizeof x) < 0) {
                perror("timerfd");
                return 1;
            }
        }
        uint64_t t;
        while ((t = now_ns()) < due)
            ;
        uint64_t l = t - due;
        n++;
        for (int i = 0; i < NE; i++)
            late[i] += l > (uint64_t)(edges_ms[i] * 1e6);
        if (l > worst)
            worst = l;
    }
    printf("%llu wake-ups at %.0f/s over %.0f s (spin %.0f us), latest %.2f ms; late by more than:",
           (unsigned long long)n, rate, secs, spin_us, (double)worst / 1e6);
    for (int i = 0; i < NE; i++)
        printf(" %g ms %llu (%.3f%%)%s", edges_ms[i], (unsigned long long)late[i],
               n ? 100.0 * (double)late[i] / (double)n : 0.0, i + 1 < NE ? "," : "\n");
    return 0;
}
