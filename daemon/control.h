/* control.h - the control socket's contract, shared by mfbenchd and the
 * `mfbench trigger|status|cancel` client: where the socket lives (DESIGN.md's
 * path rules) and the size limit of one newline-delimited JSON request. */
#ifndef MFBENCH_CONTROL_H
#define MFBENCH_CONTROL_H

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common.h"

/* One request line, without its newline; longer lines are refused and the
 * connection closed. */
#define DMN_CTL_MAX_LINE (64 * 1024)

/* Whether mfbenchd keeps a new control client, and if not why. total: every connection
 * open now, the new one included; others: the live clients of uids that are neither
 * root nor the daemon's own (the new one included when it is one of them); same: the
 * live clients of the new one's uid, itself included. The last `reserved` of the
 * max_total slots are kept for root and the daemon's own uid (the nightly timer's
 * trigger), whatever the other uids hold; every uid, root too, holds at most
 * max_per_uid. Pure, so it is unit-tested. */
enum dmn_admit { DMN_ADMIT_OK, DMN_ADMIT_TOTAL, DMN_ADMIT_RESERVED, DMN_ADMIT_PER_UID };
enum dmn_admit dmn_client_admit(size_t total, size_t others, size_t same, int privileged,
                                size_t max_total, size_t reserved, size_t max_per_uid);

/* The socket path: explicit, else $MFBENCH_SOCKET, else
 * $RUNTIME_DIRECTORY/control.sock (systemd), else
 * $XDG_RUNTIME_DIR/mfbench/control.sock, else /run/user/UID/mfbench/control.sock
 * when that folder exists, else /tmp/mfbench-UID/control.sock. Writes into buf
 * and returns it; NULL when the path does not fit in a sockaddr_un or in n. */
static inline const char *dmn_socket_path(const char *explicit_path, char *buf, size_t n)
{
    const char *env;
    int r;
    if (explicit_path && *explicit_path)
        r = snprintf(buf, n, "%s", explicit_path);
    else if ((env = getenv("MFBENCH_SOCKET")) && *env)
        r = snprintf(buf, n, "%s", env);
    else if ((env = getenv("RUNTIME_DIRECTORY")) && *env)
        r = snprintf(buf, n, "%s/control.sock", env);
    else if ((env = getenv("XDG_RUNTIME_DIR")) && *env)
        r = snprintf(buf, n, "%s/mfbench/control.sock", env);
    else {
        char run[64];
        struct stat st;
        snprintf(run, sizeof(run), "/run/user/%u", (unsigned)getuid());
        if (stat(run, &st) == 0 && S_ISDIR(st.st_mode))
            r = snprintf(buf, n, "%s/mfbench/control.sock", run);
        else
            r = snprintf(buf, n, "/tmp/mfbench-%u/control.sock", (unsigned)getuid());
    }
    if (r < 0 || (size_t)r >= n || (size_t)r >= sizeof(((struct sockaddr_un *)0)->sun_path))
        return NULL;
    return buf;
}

/* The system daemon's socket folder (mfbenchd.service: RuntimeDirectory=mfbench) and
 * its service user. */
#define DMN_SYSTEM_SOCKET_DIR "/run/mfbench"
#define DMN_SERVICE_USER "mfbench"

/* Checks the folder of sock_path before the daemon binds there (client 0) or a client
 * connects (client 1), so that no other user can have put a socket of theirs there: a
 * real folder (lstat), owned by this user or root (a client also accepts the service
 * user's DMN_SYSTEM_SOCKET_DIR), writable by neither group nor others. A missing folder
 * passes (the daemon creates it; a client then finds no daemon). 0, or -EPERM/-ENOTDIR
 * with "socket folder PATH: owned by uid N (not you, uid M) and mode 0777: refusing
 * (not yours, writable by others)". */
MF_MUST_CHECK int dmn_socket_dir_check(const char *sock_path, int client, struct err *e);

#endif
