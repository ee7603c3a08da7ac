/* replay.c - a plain main for the fuzz harnesses: feeds each file of the given
 * folders (or the given files) to LLVMFuzzerTestOneInput once, so the seed
 * corpora and every regression file run as ordinary tests under gcc, the plain
 * build and the ASan+UBSan one. A broken invariant aborts (the test fails).
 * Usage: fuzz_replay_NAME DIR|FILE... */
#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

#define REPLAY_MAX (1024 * 1024)

static int replay_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "%s: %s\n", path, strerror(errno));
        return -1;
    }
    /* An exact-size copy, as libFuzzer gives it: ASan sees a read past the end. */
    static char buf[REPLAY_MAX + 1];
    size_t n = fread(buf, 1, sizeof(buf), f);
    int bad = ferror(f);
    fclose(f);
    if (bad || n > REPLAY_MAX) {
        fprintf(stderr, "%s: unreadable or over %d bytes\n", path, REPLAY_MAX);
        return -1;
    }
    uint8_t *copy = malloc(n ? n : 1);
    if (!copy)
        return -1;
    memcpy(copy, buf, n);
    int rc = LLVMFuzzerTestOneInput(copy, n);
    free(copy);
    return rc == 0 ? 0 : -1;
}

static int cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every regular file of dir, in name order; returns how many or -1. */
static int replay_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "%s: %s\n", dir, strerror(errno));
        return -1;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            char **nn = realloc(names, cap * sizeof(*names));
            if (!nn) {
                rc = -1;
                break;
            }
            names = nn;
        }
        if (!(names[n] = strdup(de->d_name))) {
            rc = -1;
            break;
        }
        n++;
    }
    closedir(d);
    if (n)
        qsort(names, n, sizeof(*names), cmp);
    int count = 0;
    for (size_t i = 0; i < n; i++) {
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        if (rc == 0 && replay_file(path) != 0)
            rc = -1;
        count++;
        free(names[i]);
    }
    free(names);
    return rc ? -1 : count;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s DIR|FILE...\n", argv[0]);
        return 2;
    }
    int total = 0;
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) != 0) {
            fprintf(stderr, "%s: %s\n", argv[i], strerror(errno));
            return 1;
        }
        int n = S_ISDIR(st.st_mode) ? replay_dir(argv[i]) : replay_file(argv[i]) ? -1 : 1;
        if (n < 0)
            return 1;
        total += n;
    }
    if (total == 0) {
        fprintf(stderr, "no input replayed\n");
        return 1;
    }
    fprintf(stderr, "%d inputs replayed\n", total);
    return 0;
}
