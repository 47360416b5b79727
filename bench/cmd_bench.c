/* cmd_bench.c: placeholder until the subcommand lands (owner replaces this file). */
#include "../core/cli/cli.h"

int mtb_cmd_bench(int argc, char **argv)
{
    (void)argc;
    cli_error(argv[0], "not built yet");
    return 1;
}
