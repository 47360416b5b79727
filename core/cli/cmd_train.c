/* cmd_train.c: placeholder until the subcommand lands (owner replaces this file). */
#include "cli.h"

int mtb_cmd_train(int argc, char **argv)
{
    (void)argc;
    cli_error(argv[0], "not built yet");
    return 1;
}
