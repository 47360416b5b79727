/* bench_weigh.c: placeholder until the weighting benchmark lands (owner replaces this file). */
#include "../core/cli/cli.h"

int mtb_bench_weigh(int argc, char **argv)
{
    (void)argc;
    cli_error(argv[0], "not built yet");
    return 1;
}
