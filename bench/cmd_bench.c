/* cmd_bench.c: mtb bench <what>: dispatch to the microbenchmarks. */
#include <stdlib.h>
#include <string.h>

#include "../core/cli/cli.h"
#include "bench.h"

static void usage(FILE *out)
{
    fprintf(out, "usage: mtb bench <what> [options]   (mtb bench <what> --help)\n\n"
                 "  step    one full training step (forward, per-task gradients, weighted\n"
                 "          backward, Adam) against its FLOP bound\n"
                 "  weigh   the weighting computation of one method alone\n"
                 "  peak    the sgemm rate of the BLAS kernel that runs, and its self-check\n");
}

int mtb_cmd_bench(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "step"))
        return mtb_bench_step(argc - 1, argv + 1);
    if (!strcmp(argv[1], "weigh"))
        return mtb_bench_weigh(argc - 1, argv + 1);
    if (!strcmp(argv[1], "peak"))
        return mtb_bench_peak(argc - 1, argv + 1);
    cli_error("bench", "unknown benchmark '%s'", argv[1]);
    usage(stderr);
    return 2;
}

