/* cmd_trigger.c - `mfbench trigger`, `status` and `cancel`: a client of
 * mfbenchd's control socket (newline-delimited JSON). trigger --wait follows the
 * job's events to its end and exits with its outcome. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "cli.h"
#include "control.h"

#define ANSWER_TIMEOUT_MS 30000
#define MAX_ANSWER (16 << 20) /* a status with a long queue stays far below */

struct conn {
    int fd;
    char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
    struct buf in;
};

/* Connects, printing what went wrong. CLI_OK, or CLI_FAILED / CLI_USAGE. */
static int conn_open(struct conn *c, const char *explicit_path)
{
    memset(c, 0, sizeof(*c));
    c->fd = -1;
    buf_init(&c->in, MAX_ANSWER);
    if (!dmn_socket_path(explicit_path, c->path, sizeof(c->path))) {
        fprintf(stderr, "mfbench: the socket path is too long (at most %zu bytes)\n",
                sizeof(c->path) - 1);
        return CLI_USAGE;
    }
    /* A socket in another user's folder may be theirs, answering for the daemon. */
    struct err e;
    err_clear(&e);
    if (dmn_socket_dir_check(c->path, 1, &e) != 0) {
        fprintf(stderr, "mfbench: %s\n", e.msg);
        return CLI_FAILED;
    }
    c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (c->fd < 0) {
        fprintf(stderr, "mfbench: socket: %s\n", strerror(errno));
        return CLI_FAILED;
    }
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    mf_strlcpy(sa.sun_path, c->path, sizeof(sa.sun_path));
    if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        int err = errno;
        if (err == ENOENT || err == ECONNREFUSED || err == ENOTDIR)
            fprintf(stderr,
                    "mfbench: no daemon at %s (start mfbenchd, or use `mfbench run` which needs "
                    "none)\n",
                    c->path);
        else if (err == EACCES || err == EPERM)
            fprintf(stderr,
                    "mfbench: may not talk to the daemon at %s: %s (the socket is for its user "
                    "and group)\n",
                    c->path, strerror(err));
        else
            fprintf(stderr, "mfbench: cannot reach the daemon at %s: %s\n", c->path, strerror(err));
        return CLI_FAILED;
    }
    return CLI_OK;
}

static void conn_close(struct conn *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    buf_free(&c->in);
}

static int conn_send(struct conn *c, cJSON *req)
{
    char *s = cJSON_PrintUnformatted(req);
    if (!s)
        return -ENOMEM;
    size_t n = strlen(s);
    char *line = realloc(s, n + 1);
    if (!line) {
        free(s);
        return -ENOMEM;
    }
    line[n++] = '\n'; /* no NUL needed: written by length */
    int rc = 0;
    for (size_t off = 0; off < n;) {
        ssize_t w = write(c->fd, line + off, n - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            rc = -errno;
            break;
        }
        off += (size_t)w;
    }
    free(line);
    return rc;
}

/* The next line as a JSON object. timeout_ms < 0 waits forever (interrupted
 * by ^C). NULL with *why set on EOF, timeout, ^C or garbage. */
static cJSON *conn_recv(struct conn *c, int timeout_ms, const char **why)
{
    int64_t deadline = timeout_ms >= 0 ? mono_ms() + timeout_ms : 0;
    for (;;) {
        char *nl = c->in.len ? memchr(c->in.data, '\n', c->in.len) : NULL;
        if (nl) {
            size_t n = (size_t)(nl - c->in.data);
            cJSON *o = cJSON_ParseWithLength(c->in.data, n);
            memmove(c->in.data, nl + 1, c->in.len - n - 1);
            c->in.len -= n + 1;
            c->in.data[c->in.len] = '\0';
            if (!o)
                *why = "the daemon sent something that is not JSON";
            return o;
        }
        if (atomic_load(&cli_interrupted)) {
            *why = "interrupted";
            return NULL;
        }
        int wait = 500;
        if (timeout_ms >= 0) {
            int64_t left = deadline - mono_ms();
            if (left <= 0) {
                *why = "the daemon did not answer in time";
                return NULL;
            }
            if (left < wait)
                wait = (int)left;
        }
        struct pollfd pf = {.fd = c->fd, .events = POLLIN};
        int r = poll(&pf, 1, wait);
        if (r <= 0)
            continue; /* timeout slice or EINTR: check the flags again */
        char chunk[65536];
        ssize_t got = read(c->fd, chunk, sizeof(chunk));
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0) {
            *why = "the daemon closed the connection";
            return NULL;
        }
        if (buf_append(&c->in, chunk, (size_t)got) != 0) {
            *why = "the daemon's answer is too long";
            return NULL;
        }
    }
}

/* Sends req (taken) and returns the answer, printing the error when there is none. */
static cJSON *request(struct conn *c, cJSON *req)
{
    const char *why = NULL;
    if (!req || conn_send(c, req) != 0) {
        cJSON_Delete(req);
        fprintf(stderr, "mfbench: cannot send to the daemon at %s\n", c->path);
        return NULL;
    }
    cJSON_Delete(req);
    cJSON *a = conn_recv(c, ANSWER_TIMEOUT_MS, &why);
    if (!a)
        fprintf(stderr, "mfbench: %s (%s)\n", why, c->path);
    return a;
}

/* Prints the daemon's error; 1 when the answer was not ok. */
static int answer_failed(const cJSON *a)
{
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(a, "ok")))
        return 0;
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(a, "error");
    fprintf(stderr, "mfbench: the daemon says: %s\n",
            cJSON_IsString(m) ? m->valuestring : "(no message)");
    return 1;
}

static double num(const cJSON *o, const char *k, double dflt)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) ? v->valuedouble : dflt;
}

static const char *str(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) && v->valuestring ? v->valuestring : "";
}

/* ---- trigger ---- */

static const char trigger_usage[] =
    "usage: mfbench trigger [-p PROFILE] [--wait] [--nightly] [--socket PATH] CELL... | --all\n"
    "\n"
    "Asks the running mfbenchd to run matrix cells (its matrix, its node, its store).\n"
    "Prints the job id. Jobs run one at a time; a cell already waiting in the queue\n"
    "with the same profile is not queued again (the waiting job's id is printed).\n"
    "\n"
    "  -p, --profile NAME   a profile of the daemon's matrix (e.g. quick)\n"
    "      --all            every cell of the matrix\n"
    "  -w, --wait           follow the job to its end: a live progress line on a TTY,\n"
    "                       plain lines otherwise; the exit status is the job's\n"
    "      --nightly        record the run as a nightly one (used by mfbench-nightly.service)\n"
    "      --socket PATH    the daemon's socket (default: $MFBENCH_SOCKET, else\n"
    "                       $RUNTIME_DIRECTORY/control.sock, else\n"
    "                       $XDG_RUNTIME_DIR/mfbench/control.sock)\n"
    "  -q, --quiet          with --wait, print only the outcome\n"
    "  -h, --help           this text\n"
    "\n"
    "Exit status: 0 queued (with --wait: every cell ok), 1 the job failed, was\n"
    "cancelled or interrupted, or no daemon answered, 2 bad usage or unknown cells.\n";

struct follow {
    int64_t job;
    int tty, quiet;
    size_t total, index;
};

/* One event line of the job; returns 1 when the job ended (and sets *status). */
static int show_event(struct follow *f, const cJSON *ev, char *status, size_t n)
{
    if ((int64_t)num(ev, "job", -1) != f->job)
        return 0;
    const char *kind = str(ev, "event");
    const char *cell = str(ev, "cell");
    const char *clr = f->tty ? "\r\033[K" : "";
    if (strcmp(kind, "job_end") == 0) {
        mf_strlcpy(status, str(ev, "status"), n);
        if (f->tty && !f->quiet)
            fputs(clr, stderr);
        printf("job %lld: %s (run %.0f)\n", (long long)f->job, status, num(ev, "run", 0));
        return 1;
    }
    if (f->quiet)
        return 0;
    if (strcmp(kind, "job_start") == 0) {
        const cJSON *cells = cJSON_GetObjectItemCaseSensitive(ev, "cells");
        f->total = (size_t)cJSON_GetArraySize(cells);
        fprintf(stderr, "%sjob %lld: run %.0f, %zu cell(s)\n", clr, (long long)f->job,
                num(ev, "run", 0), f->total);
    } else if (strcmp(kind, "cell_start") == 0) {
        f->index = (size_t)num(ev, "index", 0);
        fprintf(stderr, "%s[%zu/%zu] %s: provisioning and starting the server\n", clr, f->index + 1,
                f->total, cell);
    } else if (strcmp(kind, "phase_start") == 0 && !f->tty) {
        fprintf(stderr, "[%zu/%zu] %s: phase %.0f: %.0f users for %.0fs\n", f->index + 1, f->total,
                cell, num(ev, "seq", 0) + 1, num(ev, "users", 0), num(ev, "duration_s", 0));
    } else if (strcmp(kind, "progress") == 0 && f->tty) {
        double left = num(ev, "duration_s", 0) - num(ev, "elapsed_s", 0);
        fprintf(stderr,
                "\r\033[K[%zu/%zu] %s  phase %.0f  users %.0f/%.0f  %.0f req/s  failures %.0f  "
                "%.0fs left",
                f->index + 1, f->total, cell, num(ev, "seq", 0) + 1, num(ev, "users_started", 0),
                num(ev, "users", 0), num(ev, "rps", 0), num(ev, "failures", 0),
                left > 0 ? left : 0);
        fflush(stderr);
    } else if (strcmp(kind, "phase_end") == 0) {
        const char *why = str(ev, "stop_reason");
        fprintf(stderr, "%s[%zu/%zu] %s: %.0f users: %.1f req/s, p99 %.2f ms, %.0f failures%s%s\n",
                clr, f->index + 1, f->total, cell, num(ev, "users", 0), num(ev, "rps", 0),
                num(ev, "p99_ms", 0), num(ev, "failures", 0), *why ? " -> breaking point: " : "",
                why);
    } else if (strcmp(kind, "cell_end") == 0) {
        const char *err = str(ev, "error");
        fprintf(stderr, "%s[%zu/%zu] %s: %s%s%s\n", clr, f->index + 1, f->total, cell,
                str(ev, "status"), *err ? ": " : "", err);
    } else if (strcmp(kind, "log") == 0 && num(ev, "level", 6) <= 4) {
        fprintf(stderr, "%swarning: %s%s%s\n", clr, cell, *cell ? ": " : "", str(ev, "message"));
    }
    return 0;
}

int cli_cmd_trigger(int argc, char **argv)
{
    static const struct option opts[] = {
        {"profile", required_argument, NULL, 'p'}, {"all", no_argument, NULL, 'a'},
        {"wait", no_argument, NULL, 'w'},          {"nightly", no_argument, NULL, 'n'},
        {"socket", required_argument, NULL, 'S'},  {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0}};
    const char *profile = NULL, *sock = NULL;
    int all = 0, wait = 0, nightly = 0, quiet = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "p:wqh", opts, NULL)) != -1) {
        switch (c) {
        case 'p':
            profile = optarg;
            break;
        case 'a':
            all = 1;
            break;
        case 'w':
            wait = 1;
            break;
        case 'n':
            nightly = 1;
            break;
        case 'S':
            sock = optarg;
            break;
        case 'q':
            quiet = 1;
            break;
        case 'h':
            fputs(trigger_usage, stdout);
            return CLI_OK;
        default:
            fputs(trigger_usage, stderr);
            return CLI_USAGE;
        }
    }
    if (all == (optind < argc)) {
        fprintf(stderr, "mfbench trigger: name CELLs or --all (not both)\n%s", trigger_usage);
        return CLI_USAGE;
    }
    struct conn cn;
    int rc = conn_open(&cn, sock);
    if (rc) {
        conn_close(&cn);
        return rc;
    }
    cli_install_signals();
    cJSON *req = cJSON_CreateObject();
    if (req) {
        cJSON_AddStringToObject(req, "cmd", "trigger");
        if (all) {
            cJSON_AddTrueToObject(req, "all");
        } else {
            cJSON *cells = cJSON_AddArrayToObject(req, "cells");
            for (int i = optind; cells && i < argc; i++)
                cJSON_AddItemToArray(cells, cJSON_CreateString(argv[i]));
        }
        if (profile)
            cJSON_AddStringToObject(req, "profile", profile);
        if (nightly)
            cJSON_AddStringToObject(req, "trigger", "nightly");
        if (wait)
            cJSON_AddTrueToObject(req, "follow");
    }
    cJSON *a = request(&cn, req);
    if (!a) {
        conn_close(&cn);
        return CLI_FAILED;
    }
    if (answer_failed(a)) {
        cJSON_Delete(a);
        conn_close(&cn);
        return CLI_USAGE; /* unknown cells or profile: the request was wrong */
    }
    struct follow f = {.job = (int64_t)num(a, "job", 0), .tty = isatty(2), .quiet = quiet};
    int queued = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(a, "queued"));
    printf("job %lld%s\n", (long long)f.job,
           queued ? " queued" : " (those cells were already queued)");
    fflush(stdout);
    cJSON_Delete(a);
    if (!wait) {
        conn_close(&cn);
        return CLI_OK;
    }
    char status[32] = "";
    const char *why = NULL;
    rc = CLI_FAILED;
    for (;;) {
        cJSON *ev = conn_recv(&cn, -1, &why);
        if (!ev) {
            if (f.tty)
                fputs("\r\033[K", stderr);
            if (why && strcmp(why, "interrupted") == 0)
                fprintf(stderr,
                        "mfbench: stopped waiting; job %lld goes on (mfbench cancel %lld)\n",
                        (long long)f.job, (long long)f.job);
            else
                fprintf(stderr, "mfbench: %s before job %lld ended\n", why ? why : "error",
                        (long long)f.job);
            break;
        }
        int end = show_event(&f, ev, status, sizeof(status));
        cJSON_Delete(ev);
        if (end) {
            rc = strcmp(status, "ok") == 0 ? CLI_OK : CLI_FAILED;
            break;
        }
    }
    conn_close(&cn);
    return rc;
}

/* ---- status ---- */

static const char status_usage[] =
    "usage: mfbench status [--json] [--socket PATH]\n"
    "\n"
    "What the running mfbenchd is doing: the running job (its cell, phase, users,\n"
    "req/s, failures, elapsed time and ETA), the queue, and the jobs that ended last.\n"
    "\n"
    "      --json           the daemon's answer as JSON\n"
    "      --socket PATH    the daemon's socket (see `mfbench trigger --help`)\n"
    "  -h, --help           this text\n";

static void print_cells(const cJSON *job)
{
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(job, "cells"))
    {
        if (cJSON_IsString(c))
            printf(" %s", c->valuestring);
    }
}

int cli_cmd_status(int argc, char **argv)
{
    static const struct option opts[] = {{"json", no_argument, NULL, 'j'},
                                         {"socket", required_argument, NULL, 'S'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *sock = NULL;
    int json = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'j':
            json = 1;
            break;
        case 'S':
            sock = optarg;
            break;
        case 'h':
            fputs(status_usage, stdout);
            return CLI_OK;
        default:
            fputs(status_usage, stderr);
            return CLI_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "mfbench status: unexpected argument '%s'\n%s", argv[optind], status_usage);
        return CLI_USAGE;
    }
    struct conn cn;
    int rc = conn_open(&cn, sock);
    if (rc) {
        conn_close(&cn);
        return rc;
    }
    cJSON *req = cJSON_CreateObject();
    if (req)
        cJSON_AddStringToObject(req, "cmd", "status");
    cJSON *a = request(&cn, req);
    conn_close(&cn);
    if (!a)
        return CLI_FAILED;
    if (answer_failed(a)) {
        cJSON_Delete(a);
        return CLI_FAILED;
    }
    if (json) {
        char *s = cJSON_Print(a);
        if (s)
            puts(s);
        free(s);
        cJSON_Delete(a);
        return CLI_OK;
    }
    printf("mfbenchd %s (pid %.0f): %s\nmatrix: %s\n", str(a, "version"), num(a, "pid", 0),
           str(a, "state"), str(a, "matrix"));
    const cJSON *r = cJSON_GetObjectItemCaseSensitive(a, "running");
    if (cJSON_IsObject(r)) {
        const cJSON *cells = cJSON_GetObjectItemCaseSensitive(r, "cells");
        const cJSON *on_slurm = cJSON_GetObjectItemCaseSensitive(r, "slurm_cells");
        if (cJSON_IsArray(on_slurm)) /* cells at once, each on a node of its own */
            printf("running: job %.0f (run %.0f, %s%s%s), %d cells on Slurm, %.0f ok, %.0f not, "
                   "%.0fs elapsed\n",
                   num(r, "job", 0), num(r, "run", 0), str(r, "trigger"),
                   *str(r, "profile") ? ", profile " : "", str(r, "profile"),
                   cJSON_GetArraySize(cells), num(r, "cells_ok", 0), num(r, "cells_not_ok", 0),
                   num(r, "elapsed_s", 0));
        else
            printf(
                "running: job %.0f (run %.0f, %s%s%s), cell %.0f/%d %s: %s, %.0fs elapsed, at most "
                "%.0fs left\n",
                num(r, "job", 0), num(r, "run", 0), str(r, "trigger"),
                *str(r, "profile") ? ", profile " : "", str(r, "profile"),
                num(r, "cell_index", 0) + 1, cJSON_GetArraySize(cells), str(r, "cell"),
                str(r, "state"), num(r, "elapsed_s", 0), num(r, "eta_max_s", 0));
        printf("  the job's worst case: %.0fs", num(r, "max_duration_s", 0));
        if (num(r, "budget_s", 0) > 0)
            printf(" (budget %.0fs: cells that no longer fit are skipped)", num(r, "budget_s", 0));
        printf("\n");
        const cJSON *sc, *scs = cJSON_GetObjectItemCaseSensitive(r, "slurm_cells");
        cJSON_ArrayForEach(sc, scs)
        {
            printf("  %s: %s", str(sc, "cell"), str(sc, "state"));
            if (*str(sc, "host"))
                printf(" on %s", str(sc, "host"));
            if (num(sc, "slurm_job_id", 0) > 0)
                printf(", Slurm job %.0f", num(sc, "slurm_job_id", 0));
            putchar('\n');
        }
        const cJSON *ph = cJSON_GetObjectItemCaseSensitive(r, "phase");
        if (cJSON_IsObject(ph))
            printf("  phase %.0f: users %.0f/%.0f, %.1f req/s, p99 %.1f ms, %.0f failures, "
                   "%.0f/%.0fs, eta %.0fs\n",
                   num(ph, "seq", 0) + 1, num(ph, "users_started", 0), num(ph, "users", 0),
                   num(ph, "rps", 0), num(ph, "p99_ms", 0), num(ph, "failures", 0),
                   num(ph, "elapsed_s", 0), num(ph, "duration_s", 0), num(ph, "eta_s", 0));
    } else {
        printf("running: nothing\n");
    }
    const cJSON *q = cJSON_GetObjectItemCaseSensitive(a, "queue");
    printf("queued: %d job(s)\n", cJSON_GetArraySize(q));
    const cJSON *j;
    cJSON_ArrayForEach(j, q)
    {
        printf("  job %.0f%s%s:", num(j, "job", 0), *str(j, "profile") ? " profile " : "",
               str(j, "profile"));
        print_cells(j);
        putchar('\n');
    }
    const cJSON *rec = cJSON_GetObjectItemCaseSensitive(a, "recent");
    if (cJSON_GetArraySize(rec) > 0) {
        printf("ended:\n");
        cJSON_ArrayForEach(j, rec)
        {
            printf("  job %.0f: %s", num(j, "job", 0), str(j, "status"));
            if (num(j, "run", 0) > 0)
                printf(" (run %.0f)", num(j, "run", 0));
            putchar('\n');
        }
    }
    cJSON_Delete(a);
    return CLI_OK;
}

/* ---- cancel ---- */

static const char cancel_usage[] =
    "usage: mfbench cancel [JOB] [--socket PATH]\n"
    "\n"
    "Cancels a queued job, or the running one (the default): its server is stopped,\n"
    "the phases measured so far stay in the store, its cells are marked cancelled.\n"
    "\n"
    "      --socket PATH    the daemon's socket (see `mfbench trigger --help`)\n"
    "  -h, --help           this text\n";

int cli_cmd_cancel(int argc, char **argv)
{
    static const struct option opts[] = {{"socket", required_argument, NULL, 'S'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *sock = NULL;
    int c;
    int64_t job = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'S':
            sock = optarg;
            break;
        case 'h':
            fputs(cancel_usage, stdout);
            return CLI_OK;
        default:
            fputs(cancel_usage, stderr);
            return CLI_USAGE;
        }
    }
    if (argc - optind > 1) {
        fprintf(stderr, "mfbench cancel: at most one JOB\n%s", cancel_usage);
        return CLI_USAGE;
    }
    if (optind < argc && parse_i64(argv[optind], 1, (int64_t)1 << 52, &job) != 0) {
        fprintf(stderr, "mfbench cancel: '%s' is not a job id (a positive number)\n", argv[optind]);
        return CLI_USAGE;
    }
    struct conn cn;
    int rc = conn_open(&cn, sock);
    if (rc) {
        conn_close(&cn);
        return rc;
    }
    cJSON *req = cJSON_CreateObject();
    if (req) {
        cJSON_AddStringToObject(req, "cmd", "cancel");
        if (job)
            cJSON_AddNumberToObject(req, "job", (double)job);
    }
    cJSON *a = request(&cn, req);
    conn_close(&cn);
    if (!a)
        return CLI_FAILED;
    if (answer_failed(a)) {
        cJSON_Delete(a);
        return CLI_FAILED;
    }
    printf("job %.0f: cancelled%s\n", num(a, "job", 0),
           strcmp(str(a, "was"), "running") == 0
               ? " (stopping its server; measured phases are kept)"
               : " (it had not started)");
    cJSON_Delete(a);
    return CLI_OK;
}
