/* daemon.h - mfbenchd's internals that are tested on their own: parsing one
 * control request (cJSON; every field type- and size-checked) and the job
 * queue (FIFO, one job at a time, a cell already queued is not queued again). */
#ifndef MFBENCH_DAEMON_H
#define MFBENCH_DAEMON_H

#include <stddef.h>
#include <stdint.h>

#include "common.h"
#include "config.h"

#define DMN_MAX_CELLS 4096 /* cells (or patterns) in one trigger */
#define DMN_MAX_NAME 160   /* one cell pattern */

enum dmn_cmd { DMN_CMD_TRIGGER, DMN_CMD_STATUS, DMN_CMD_CANCEL, DMN_CMD_SUBSCRIBE };

struct dmn_request {
    enum dmn_cmd cmd;
    int all;      /* trigger: every cell */
    int follow;   /* trigger: stream this connection's events after the answer */
    char **cells; /* trigger: patterns, owned */
    size_t ncells;
    char profile[64]; /* "" = none */
    char trigger[16]; /* "daemon" (default) or "nightly" */
    int64_t job;      /* cancel: 0 = the running job */
};

/* Parses one request line (len bytes, no newline needed). On error returns
 * -EINVAL with a message fit to send back; r is then empty. Free r with
 * dmn_request_free() on success. */
MF_MUST_CHECK int dmn_request_parse(const char *line, size_t len, struct dmn_request *r,
                                    struct err *e);
void dmn_request_free(struct dmn_request *r);

/* {"ok":false,"error":msg} plus a newline. Caller frees; NULL on ENOMEM. */
char *dmn_answer_error(const char *msg);

struct dmn_job {
    int64_t id;
    char **cells;         /* "framework/payload", owned */
    struct cfg_cell *sel; /* the same cells as matrix indexes, owned */
    size_t ncells;
    char profile[64];
    char trigger[16];
    void *matrix; /* the daemon's reference to the matrix the cells index */
    struct dmn_job *next;
};

struct dmn_queue {
    struct dmn_job *head, *tail;
    size_t n, max;
    int64_t next_id;
};

void dmn_queue_init(struct dmn_queue *q, size_t max);
/* Drops from j every cell already in a queued job with the same profile. When
 * none is left returns 1 and sets *existing to the newest job holding them (j
 * is not taken). Else sets j->id, appends j (the queue owns it until popped)
 * and returns 0. -ENOSPC when the queue is full. */
MF_MUST_CHECK int dmn_queue_push(struct dmn_queue *q, struct dmn_job *j, int64_t *existing);
/* The oldest job, unlinked (caller owns it), or NULL. */
struct dmn_job *dmn_queue_pop(struct dmn_queue *q);
/* Unlinks job id (caller owns it), or NULL when not queued. */
struct dmn_job *dmn_queue_remove(struct dmn_queue *q, int64_t id);
/* Frees a job's members and the job (not j->matrix). */
void dmn_job_free(struct dmn_job *j);

#endif
