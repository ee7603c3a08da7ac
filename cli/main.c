/* main.c - mfbench: the executable is the cli library's front end. */
#include "cli.h"

int main(int argc, char **argv)
{
    return cli_main(argc, argv);
}
