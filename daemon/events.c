/* events.c - what mfbenchd tells the world: one key=value log line per event on
 * stderr (journald priority prefix), and JSON event lines the worker queues for
 * the loop, which hands them to subscribed clients. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon_int.h"

const char *dmn__kv(const char *s, char *out, size_t n)
{
    if (!s)
        s = "";
    int plain = *s != '\0';
    for (const char *p = s; *p; p++)
        if (*p == ' ' || *p == '"' || *p == '=' || *p == '\\' || (unsigned char)*p < 0x20)
            plain = 0;
    if (plain)
        return s;
    size_t o = 0;
    out[o++] = '"';
    for (const char *p = s; *p && o + 4 < n; p++) {
        if (*p == '"' || *p == '\\') {
            out[o++] = '\\';
            out[o++] = *p;
        } else if (*p == '\n') {
            out[o++] = '\\';
            out[o++] = 'n';
        } else if ((unsigned char)*p < 0x20) {
            out[o++] = ' ';
        } else {
            out[o++] = *p;
        }
    }
    out[o++] = '"';
    out[o] = '\0';
    return out;
}

/* Written with one write() so lines of the loop and the worker never interleave. */
void dmn__log(int level, const char *fmt, ...)
{
    char b[4096];
    int n = snprintf(b, sizeof(b), "<%d>", level);
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(b + n, sizeof(b) - (size_t)n - 1, fmt, ap);
    va_end(ap);
    size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
    if (len > sizeof(b) - 2)
        len = sizeof(b) - 2;
    for (size_t i = (size_t)n; i < len; i++)
        if (b[i] == '\n' || b[i] == '\r')
            b[i] = ' ';
    b[len++] = '\n';
    ssize_t w = write(2, b, len);
    (void)w;
}

cJSON *dmn__event_new(const char *name, int64_t job)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    cJSON_AddStringToObject(o, "event", name);
    cJSON_AddNumberToObject(o, "job", (double)job);
    return o;
}

char *dmn__json_line(cJSON *o)
{
    char *s = o ? cJSON_PrintUnformatted(o) : NULL;
    cJSON_Delete(o);
    if (!s)
        return NULL;
    size_t n = strlen(s);
    char *line = realloc(s, n + 2);
    if (!line) {
        free(s);
        return NULL;
    }
    line[n] = '\n';
    line[n + 1] = '\0';
    return line;
}

void dmn__post_event(struct daemon *d, cJSON *o)
{
    char *line = dmn__json_line(o);
    if (!line)
        return;
    uv_mutex_lock(&d->mu);
    if (d->nevents == DMN_MAX_EVENTS) { /* the loop is far behind: drop the oldest */
        free(d->events[0]);
        memmove(d->events, d->events + 1, (DMN_MAX_EVENTS - 1) * sizeof(char *));
        d->nevents--;
    }
    d->events[d->nevents++] = line;
    uv_mutex_unlock(&d->mu);
    uv_async_send(&d->wake);
}

static void on_wake(uv_async_t *a)
{
    struct daemon *d = a->data;
    char *evs[DMN_MAX_EVENTS];
    uv_mutex_lock(&d->mu);
    size_t n = d->nevents;
    memcpy(evs, d->events, n * sizeof(char *));
    d->nevents = 0;
    int done = d->worker_done;
    uv_mutex_unlock(&d->mu);
    for (size_t i = 0; i < n; i++) {
        dmn__broadcast(d, evs[i]);
        free(evs[i]);
    }
    if (done) {
        d->shutting = 1;
        dmn__close_all(d);
    }
}

int dmn__events_init(struct daemon *d, struct err *e)
{
    int rc = uv_async_init(&d->loop, &d->wake, on_wake);
    if (rc)
        return err_set(e, rc, "uv_async_init(wake): %s", uv_strerror(rc));
    dmn__handle_opened(d, (uv_handle_t *)&d->wake);
    d->wake.data = d;
    return 0;
}
