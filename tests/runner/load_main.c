/* load_main.c - test front end that runs only `mfbench load` through the cli
 * library's real dispatcher (signals and all), refusing every other command. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "load") != 0) {
        fprintf(stderr, "usage: %s load ...\n", argv[0]);
        return 2;
    }
    return cli_main(argc, argv);
}
