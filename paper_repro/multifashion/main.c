/* main.c: repro-multifashion's driver (mfbench.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mfbench.h"

static void usage(FILE *o)
{
    fprintf(o, "usage: " PROG " cost --scale S --out DIR\n"
               "       " PROG " report --scale S --out DIR --sweep DIR [--wall-seconds N]\n"
               "\n"
               "The MultiFashion benchmark's programs (run by `make bench-multifashion`,\n"
               "paper_repro/multifashion/reproduce; docs/multifashion.md).\n");
}

int main(int argc, char **argv)
{
    repro_start(&argc, argv);
    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const char *out = NULL, *scale = "paper", *sweep = NULL;
    double wall = NAN;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (i + 1 >= argc)
            repro_die(PROG, "%s needs a value (" PROG " --help)", a);
        if (!strcmp(a, "--out"))
            out = argv[++i];
        else if (!strcmp(a, "--scale"))
            scale = argv[++i];
        else if (!strcmp(a, "--sweep"))
            sweep = argv[++i];
        else if (!strcmp(a, "--wall-seconds")) {
            char *end;
            wall = strtod(argv[++i], &end);
            if (*end || !(wall >= 0.0))
                repro_die(PROG, "--wall-seconds expects seconds >= 0, got '%s'", argv[i]);
        } else
            repro_die(PROG, "unknown option '%s' (" PROG " --help)", a);
    }
    repro_scale s;
    if (repro_scale_parse(scale, &s))
        repro_die(PROG, "--scale must be smoke, paper or full, got '%s'", scale);
    if (!out)
        repro_die(PROG, "--out DIR is required");
    if (!strcmp(argv[1], "cost"))
        return mf_cost(out, s);
    if (!strcmp(argv[1], "report")) {
        if (!sweep)
            repro_die(PROG, "report needs --sweep DIR (the mtb sweep of the benchmark)");
        return mf_report(out, s, sweep, wall);
    }
    repro_die(PROG, "unknown subcommand '%s' (" PROG " --help)", argv[1]);
}
