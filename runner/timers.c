/* timers.c - each user's one timer (think, request or connect timeout,
 * reconnect) in a binary min-heap per worker under a single libuv timer, and
 * what the timer does when it fires. */
#include "engine_int.h"

static void on_user_timer(struct user *u);
static void on_users_timer(uv_timer_t *t);

static uint64_t theap_due(struct worker *w, uint32_t i)
{
    return run__user_at(w, (int)w->theap[i])->due;
}

static void theap_set(struct worker *w, uint32_t i, uint32_t id)
{
    w->theap[i] = id;
    run__user_at(w, (int)id)->hpos = i + 1;
}

static void theap_up(struct worker *w, uint32_t i)
{
    uint32_t id = w->theap[i];
    uint64_t due = run__user_at(w, (int)id)->due;
    while (i > 0) {
        uint32_t p = (i - 1) / 2;
        if (theap_due(w, p) <= due)
            break;
        theap_set(w, i, w->theap[p]);
        i = p;
    }
    theap_set(w, i, id);
}

static void theap_down(struct worker *w, uint32_t i)
{
    uint32_t id = w->theap[i];
    uint64_t due = run__user_at(w, (int)id)->due;
    for (;;) {
        uint32_t c = 2 * i + 1;
        if (c >= w->tn)
            break;
        if (c + 1 < w->tn && theap_due(w, c + 1) < theap_due(w, c))
            c++;
        if (theap_due(w, c) >= due)
            break;
        theap_set(w, i, w->theap[c]);
        i = c;
    }
    theap_set(w, i, id);
}

static void theap_remove(struct worker *w, struct user *u)
{
    uint32_t i = u->hpos - 1;
    u->hpos = 0;
    if (--w->tn == i)
        return;
    theap_set(w, i, w->theap[w->tn]);
    theap_down(w, i);
    theap_up(w, i);
}

/* The libuv timer at the heap's top, when that is earlier than it is armed
 * for (a removed top leaves it early: it finds nothing due and re-arms). */
static void theap_sync(struct worker *w)
{
    if (w->tn == 0 || w->tfloor)
        return; /* on_users_timer arms it when it is done */
    uint64_t due = theap_due(w, 0);
    if (due >= w->tarmed)
        return;
    uint64_t now = uv_now(&w->loop);
    w->tarmed = due;
    uv_timer_start(&w->user_timer, on_users_timer, due > now ? due - now : 0, 0);
}

/* Runs the users' timers that are due, as libuv ran their own. */
static void on_users_timer(uv_timer_t *t)
{
    struct worker *w = t->data;
    w->tarmed = UINT64_MAX;
    if (w->stopping)
        return;
    uint64_t now = uv_now(&w->loop);
    w->tfloor = now + 1;
    while (w->tn && theap_due(w, 0) <= now && !w->stopping) {
        struct user *u = run__user_at(w, (int)w->theap[0]);
        theap_remove(w, u);
        on_user_timer(u);
    }
    w->tfloor = 0;
    if (!w->stopping)
        theap_sync(w);
}

void run__timer_arm(struct user *u, int kind, uint64_t deadline, uint64_t now, int round_up)
{
    struct worker *w = u->w;
    uint64_t d = deadline > now ? deadline - now : 0;
    uint64_t ms = round_up ? (d + NS_MS - 1) / NS_MS : (d + NS_MS / 2) / NS_MS;
    uint64_t due = uv_now(&w->loop) + ms;
    if (due < w->tfloor)
        due = w->tfloor;
    u->timer_kind = (uint8_t)kind;
    if (u->hpos) {
        uint64_t old = u->due;
        u->due = due;
        if (due < old)
            theap_up(w, u->hpos - 1);
        else
            theap_down(w, u->hpos - 1);
    } else {
        u->due = due;
        theap_set(w, w->tn++, run__user_id(w, u));
        theap_up(w, w->tn - 1);
    }
    theap_sync(w);
}

void run__timer_disarm(struct user *u)
{
    u->timer_kind = TK_NONE;
    if (u->hpos)
        theap_remove(u->w, u);
}

static void on_user_timer(struct user *u)
{
    struct worker *w = u->w;
    if (w->stopping)
        return;
    uint64_t now = uv_hrtime();
    int kind = u->timer_kind;
    u->timer_kind = TK_NONE;
    switch (kind) {
    case TK_THINK:
        run__user_go(u, now);
        break;
    case TK_RECONNECT:
        if (u->state == U_OFF && !w->draining)
            run__user_connect(u, now);
        break;
    case TK_TIMEOUT:
        if (u->state == U_CONNECTING)
            run__connect_fail(u, FAIL_CONNECT, now);
        else if (u->state == U_READY && u->inflight) {
            uint64_t deadline = u->ts[2 * u->head + 1] + w->sh->timeout_ns;
            if (now >= deadline)
                run__user_fail(u, FAIL_TIMEOUT, now); /* abort: close, count, reconnect */
            else
                run__timer_arm(u, TK_TIMEOUT, deadline, now, 1); /* armed for an earlier request */
        }
        break;
    default:
        break;
    }
}
