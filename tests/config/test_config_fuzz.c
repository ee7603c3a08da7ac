/* test_config_fuzz.c - replays the fuzz/ corpus of mutated and truncated matrices
 * (made once by gen_fuzz.py) through the loader: each must load or fail cleanly,
 * with a message, and leave nothing behind (run it under ASan/LSan).
 * Usage: test_config_fuzz CORPUS_DIR */
#include "config.h"
#include "t.h"

#include <dirent.h>
#include <errno.h>

static void replay(const char *path)
{
    struct cfg_matrix *m = NULL;
    struct err e;
    err_clear(&e);
    int rc = cfg_load_file(path, &m, &e);
    t_checks++;
    if (rc == 0) {
        if (!m || m->npayloads == 0 || m->nframeworks == 0)
            T_FAIL("%s: loaded without payloads or frameworks", path);
        /* A loaded matrix must resolve and select. */
        struct cfg_settings s;
        struct cfg_cell *cells = NULL;
        size_t n = 0;
        const char *all[] = {"all"};
        for (size_t i = 0; m && i < m->nframeworks; i++)
            if (cfg_resolve(m, NULL, &m->frameworks[i], &s, &e))
                T_FAIL("%s: loaded but %s does not resolve: %s", path, m->frameworks[i].name,
                       e.msg);
        if (m && cfg_select(m, all, 1, &cells, &n, &e))
            T_FAIL("%s: loaded but selects nothing", path);
        free(cells);
        cfg_free(m);
        return;
    }
    if (rc != -EINVAL || m != NULL || e.msg[0] == '\0' || e.code != rc)
        T_FAIL("%s: rc %d, msg '%s'", path, rc, e.msg);
    else if (e.line <= 0 || e.col <= 0 || strcmp(e.file, path) != 0)
        T_FAIL("%s: error without a position: %s", path, e.msg);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
        return 2;
    }
    DIR *d = opendir(argv[1]);
    CHECK(d != NULL);
    if (!d)
        T_DONE();
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", argv[1], de->d_name);
        replay(path);
        n++;
    }
    closedir(d);
    CHECK_INT(n, >=, 30);
    fprintf(stderr, "%d corpus files replayed\n", n);
    T_DONE();
}
