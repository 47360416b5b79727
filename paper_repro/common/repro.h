/* repro.h: the toolkit every paper reproduction (paper_repro/<paper>/) builds on.
 *
 *   scales      SCALE=smoke (CI, a minute), paper (the committed report, one 2-core machine),
 *               full (the whole grid, for `mpirun` over many machines)
 *   folders     results/<paper>/<scale>/ and its subfolders (mtb_mkdirs, mtb/fs.h)
 *   text files  written under a temporary name and renamed
 *   claims      claim.h: a paper's claim, its value, ours with an interval, a band written in
 *               the reproduction's source with its reason, and a verdict the program computes
 *   reports     report.h: a Markdown report written entirely by the program, with the
 *               provenance read from the run files and the wall time measured by the pipeline
 * The shell side (lib.sh) runs the sweeps (`mtb sweep`) and the figures (gnuplot, PNG and SVG). */
#ifndef REPRO_H
#define REPRO_H

#include <stdio.h>

typedef enum repro_scale { REPRO_SMOKE = 0, REPRO_PAPER = 1, REPRO_FULL = 2 } repro_scale;

/* "smoke" | "paper" | "full" -> *s; -1 on anything else. */
int repro_scale_parse(const char *name, repro_scale *s);
const char *repro_scale_name(repro_scale s);

/* The command line of every reproduction program: CMD --scale smoke|paper|full --out DIR
 * [--wall-seconds S] [--readme README.md] [--figdir DIR] [--problem P], options in any order
 * after CMD. repro_args_parse fills a (figdir "" and wall NAN when not given), creates DIR
 * (required unless need_out is 0, for a command that only prints), and returns 0; on a
 * missing or bad option it prints why on stderr and returns -1, and the caller prints its
 * usage. --scale is always required. */
typedef struct repro_args {
    const char *cmd, *out, *readme, *figdir, *problem;
    repro_scale scale;
    double wall;
} repro_args;
int repro_args_parse(int argc, char **argv, const char *prog, int need_out, repro_args *a);

/* Prints "<prog>: <message>" on stderr and exits 1. For programs only. */
void repro_die(const char *prog, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));

/* Text written atomically: repro_open writes path.tmp; repro_commit closes and renames (and
 * removes the temporary on any error). Both return NULL / -1 on failure. */
FILE *repro_open(const char *path);
int repro_commit(FILE *f, const char *path);

/* The first call of every reproduction's main: the BLAS kernel choice every mtb program
 * makes at start-up (core/cli/blas_start.h; `--blas-kernel NAME|auto`, `--quiet`), which may
 * restart the program once on a faster kernel. */
void repro_start(int *argc, char **argv);

#endif
