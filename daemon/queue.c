/* queue.c - the daemon's job queue: FIFO, bounded, and a cell already waiting
 * in a queued job (same profile) is not queued a second time. Not locked: the
 * daemon holds its mutex around every call. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"

void dmn_queue_init(struct dmn_queue *q, size_t max)
{
    memset(q, 0, sizeof(*q));
    q->max = max ? max : 1000;
    q->next_id = 1;
}

void dmn_job_free(struct dmn_job *j)
{
    if (!j)
        return;
    for (size_t i = 0; i < j->ncells; i++)
        free(j->cells[i]);
    free(j->cells);
    free(j->sel);
    free(j);
}

/* The newest queued job with this profile holding cell, or NULL. */
static const struct dmn_job *holder(const struct dmn_queue *q, const char *profile,
                                    const char *cell)
{
    const struct dmn_job *found = NULL;
    for (const struct dmn_job *k = q->head; k; k = k->next) {
        if (strcmp(k->profile, profile) != 0)
            continue;
        for (size_t i = 0; i < k->ncells; i++)
            if (strcmp(k->cells[i], cell) == 0) {
                found = k;
                break;
            }
    }
    return found;
}

int dmn_queue_push(struct dmn_queue *q, struct dmn_job *j, int64_t *existing)
{
    int64_t last = 0;
    size_t keep = 0;
    for (size_t i = 0; i < j->ncells; i++) {
        const struct dmn_job *h = holder(q, j->profile, j->cells[i]);
        if (h) {
            if (h->id > last)
                last = h->id;
            free(j->cells[i]);
            continue;
        }
        j->cells[keep] = j->cells[i];
        if (j->sel)
            j->sel[keep] = j->sel[i];
        keep++;
    }
    j->ncells = keep;
    if (keep == 0) {
        *existing = last;
        return 1;
    }
    if (q->n >= q->max)
        return -ENOSPC;
    j->id = q->next_id++;
    j->next = NULL;
    if (q->tail)
        q->tail->next = j;
    else
        q->head = j;
    q->tail = j;
    q->n++;
    return 0;
}

struct dmn_job *dmn_queue_pop(struct dmn_queue *q)
{
    struct dmn_job *j = q->head;
    if (!j)
        return NULL;
    q->head = j->next;
    if (!q->head)
        q->tail = NULL;
    q->n--;
    j->next = NULL;
    return j;
}

struct dmn_job *dmn_queue_remove(struct dmn_queue *q, int64_t id)
{
    struct dmn_job *prev = NULL;
    for (struct dmn_job *j = q->head; j; prev = j, j = j->next) {
        if (j->id != id)
            continue;
        if (prev)
            prev->next = j->next;
        else
            q->head = j->next;
        if (q->tail == j)
            q->tail = prev;
        q->n--;
        j->next = NULL;
        return j;
    }
    return NULL;
}
