/* matrix.c - the matrix mfbenchd loads (a file, or the embedded default) and
 * the references jobs hold to it, so that SIGHUP can swap it under a running
 * job. Callers of the reference functions hold d->mu. */
#include <stdlib.h>
#include <string.h>

#include "daemon_int.h"

struct mref *dmn__mref_get(struct daemon *d)
{
    d->matrix->refs++;
    return d->matrix;
}

void dmn__mref_put(struct mref *r)
{
    if (r && --r->refs == 0) {
        cfg_free(r->m);
        free(r);
    }
}

int dmn__load_matrix(const char *path, struct cfg_matrix **m, struct err *e)
{
    if (path)
        return cfg_load_file(path, m, e);
    return cfg_load_string("<embedded>", cfg_default_matrix, strlen(cfg_default_matrix), m, e);
}
