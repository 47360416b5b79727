/* main.c: bin/mtb, the command-line front end of the mtb library. */
#include <stdio.h>
#include <string.h>

#include "blas_start.h"
#include "cli.h"

typedef struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} command;

static const command commands[] = {
    {"gen", mtb_cmd_gen, "generate a synthetic multi-task dataset (HDF5)"},
    {"train", mtb_cmd_train, "train a multi-task model with a balancing method; writes a run file"},
    {"methods", mtb_cmd_methods, "list the task-balancing methods and their hyperparameters"},
    {"problems", mtb_cmd_problems, "list the benchmark problems (data, tasks, metrics, protocol)"},
    {"golden", mtb_cmd_golden, "check the methods against LibMTL reference vectors"},
    {"bench", mtb_cmd_bench, "microbenchmarks: a training step, a weighting call"},
    {"export", mtb_cmd_export, "print an HDF5 dataset as columns (for gnuplot)"},
    {"sweep", mtb_cmd_sweep, "run problem x method x seed as one resumable plan (local or MPI)"},
};
#define N_COMMANDS (sizeof commands / sizeof commands[0])

static void usage(FILE *out)
{
    fprintf(out, "usage: mtb [--blas-kernel NAME] [--quiet] <command> [options]   (mtb <command> --help)\n\n"
                 "mtb: multi-task balancing, a reference library and benchmark suite.\n\ncommands:\n");
    for (size_t i = 0; i < N_COMMANDS; i++)
        fprintf(out, "  %-9s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\noptions (--blas-kernel anywhere on the line; --quiet before the command):\n" MTB_BLAS_START_HELP
                 "\nAt start-up mtb checks which OpenBLAS kernel runs and what the CPU supports; when\n"
                 "OpenBLAS picked an older kernel than the best one, mtb restarts itself once on the\n"
                 "best one that passes a correctness self-check (sgemm, dgemm against a naive\n"
                 "product) and says so on stderr. Run files and benchmarks record the kernel.\n");
}

int main(int argc, char **argv)
{
    mtb_program_blas_start(&argc, argv); /* may restart the program on another BLAS kernel */
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (!strcmp(argv[1], commands[i].name))
            return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "mtb: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return 2;
}
