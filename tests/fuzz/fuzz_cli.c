/* fuzz_cli.c: libFuzzer target for the command-line parsers of bin/mtb's subcommands.
 * The first byte picks the subcommand, the rest is its argument vector, one argument per
 * NUL-terminated piece. cli_check_only makes a subcommand stop right after its arguments
 * are parsed and checked (no file is read, written or made; nothing is trained), so what
 * is fuzzed is getopt's layer, the numeric and list parsers, the problem and method
 * lookups, the --options parser behind them, the sweep's plan and the output-path checks.
 * Must hold: an exit status of 0, 1 or 2, no crash, no leak. */
#include <stdint.h>
#include <string.h>

#include "cli.h"

#define MAX_ARGS 64

typedef int (*subcommand)(int argc, char **argv);

static const struct {
    const char *name;
    subcommand run;
} commands[] = {
    {"train", mtb_cmd_train},     {"gen", mtb_cmd_gen},         {"sweep", mtb_cmd_sweep},
    {"export", mtb_cmd_export},   {"methods", mtb_cmd_methods}, {"problems", mtb_cmd_problems},
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 4096)
        return 0;
    cli_check_only = 1;
    const int n_commands = (int)(sizeof commands / sizeof commands[0]);
    const int which = data[0] % n_commands;
    /* a private copy with a terminating NUL, cut into arguments at every NUL */
    static char text[4097];
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0';
    char *argv[MAX_ARGS + 2];
    int argc = 0;
    argv[argc++] = (char *)commands[which].name;
    for (size_t i = 0; i < size - 1 && argc < MAX_ARGS + 1;) {
        argv[argc++] = text + i;
        i += strlen(text + i) + 1;
    }
    argv[argc] = NULL;
    int rc = commands[which].run(argc, argv);
    if (rc < 0 || rc > 2)
        __builtin_trap();
    return 0;
}
