/* notify.c - mfbenchd and systemd: sd_notify READY/STOPPING/STATUS lines and the
 * watchdog pings. Built without libsystemd every call is a no-op. */
#include <stdarg.h>
#include <stdio.h>

#include "daemon_int.h"
#include "mfbench-config.h"

#if HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#else
static int sd_notify(int unset, const char *state)
{
    (void)unset;
    (void)state;
    return 0;
}
#endif

void dmn__notify(const char *state)
{
    sd_notify(0, state);
}

void dmn__notify_status(const char *fmt, ...)
{
    char b[512];
    int n = snprintf(b, sizeof(b), "STATUS=");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(b + n, sizeof(b) - (size_t)n, fmt, ap);
    va_end(ap);
    sd_notify(0, b);
}

static void on_watchdog(uv_timer_t *t)
{
    sd_notify(0, "WATCHDOG=1");
}

int dmn__watchdog_start(struct daemon *d, struct err *e)
{
    int rc = uv_timer_init(&d->loop, &d->watchdog);
    if (rc)
        return err_set(e, rc, "uv_timer_init(watchdog): %s", uv_strerror(rc));
    dmn__handle_opened(d, (uv_handle_t *)&d->watchdog);
#if HAVE_SYSTEMD
    uint64_t wd_usec = 0;
    if (sd_watchdog_enabled(0, &wd_usec) > 0 && wd_usec >= 2000) {
        uint64_t every = wd_usec / 2000; /* half the interval, in ms */
        rc = uv_timer_start(&d->watchdog, on_watchdog, every, every);
        if (rc)
            return err_set(e, rc, "uv_timer_start(watchdog): %s", uv_strerror(rc));
    }
#else
    (void)on_watchdog;
#endif
    return 0;
}
