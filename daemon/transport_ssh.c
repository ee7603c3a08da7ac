/* transport_ssh.c - the ssh transport over libssh2 (in progress). */
#include <errno.h>

#include "node.h"

int node__open_ssh(const struct cfg_node *cfg, struct node *n, struct err *e)
{
    (void)cfg;
    (void)n;
    return err_set(e, -ENOTSUP, "ssh transport not built yet");
}
