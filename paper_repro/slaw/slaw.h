/* slaw.h: the SLAW paper reproduction (Crawshaw & Kosecka 2021), shared declarations.
 *
 * One program, bin/repro-slaw, with four subcommands that paper_repro/slaw/reproduce
 * calls in order:
 *   runs    the Appendix-B runs and the Theorem-1 check, as independent jobs on the
 *           library's worker pool (mtb/pool.h) of --jobs processes, with a progress
 *           display; one HDF5 file per job under OUT/. (Table 1 and Figure 1 are a sweep
 *           of the mtr problem, `mtb sweep`, run by paper_repro/slaw/reproduce.)
 *   fig2    the PCBA-shape step timings (Figure 2), sequentially, into OUT/fig2.h5.
 *   report  reads every file, writes OUT/summary.h5 (the arrays the gnuplot scripts plot)
 *           and OUT/report.md (tables next to the paper's numbers), and optionally rewrites
 *           the "latest full run" section of README.md.
 * Facts and settings: spec mtrregression-and-slaw.md (cited as "spec sec. N"). */
#ifndef REPRO_SLAW_H
#define REPRO_SLAW_H

#include <stdio.h>

#include "mtb/dataset.h"
#include "mtb/fs.h"
#include "mtb/pool.h"
#include "mtb/problem.h"
#include "mtb/status.h"
#include "../common/repro.h"

#define N_METHODS 7
#define MAX_FIG2_T 8

/* Everything that differs between `SCALE=paper` and `SCALE=smoke`. */
typedef struct scale {
    const char *name;
    int seeds;              /* Table 1 runs per method (paper: 10, seeds 0..9) */
    long steps;             /* training steps per Table-1 run (paper: 9 900) */
    int eval_every;         /* 33 */
    long fig1_steps;        /* Figure 1 x range (paper: 2 000) */
    int appb_runs;          /* Appendix B runs per variant (paper: 120, seeds 0..119) */
    long appb_lo, appb_hi;  /* stop step drawn uniformly from {lo..hi} (code: 100..999) */
    int thm_points;         /* points x0 per test function */
    int thm_mc;             /* Monte-Carlo samples per (x0, delta) */
    int fig2_nT;
    int fig2_T[MAX_FIG2_T]; /* task counts (paper: 32, 64, 96, 128) */
    int fig2_batch;         /* batch (paper: 40 000) */
    int fig2_warm, fig2_reps;
    int fig2_threads;       /* BLAS threads for the timings */
} scale;

int scale_get(const char *name, scale *out); /* 0 ok, -1 unknown */

/* Table 1 methods, in the paper's row order. */
typedef struct method_def {
    const char *key;     /* file name stem and report label key */
    const char *label;   /* the paper's name */
    const char *method;  /* mtb method ("ideal" = constant 1/sigma^2) */
    const char *options; /* hyperparameters */
    int has_weights;     /* plotted in Figure 1 */
    double paper_train, paper_train_ci, paper_test, paper_test_ci; /* NAN: "-" */
} method_def;

extern const method_def METHODS[N_METHODS];

/* Appendix B (spec sec. 5.3). variant 0: Constant training (the code's protocol);
 * variant 1: SLAW actually training. Both record last-layer and full-trunk gradients. */
int appb_run(const mtb_dataset *ds, int variant, int seed, const scale *sc, const char *path,
             mtb_pool_slot *progress, mtb_error *err);
long appb_steps(int seed, const scale *sc); /* the run's stop step + 1 */
void appb_draw(int seed, const scale *sc, long *stop, int *task);

/* Theorem 1: function index 0..N_THM_FUNCS-1. */
#define N_THM_FUNCS 3
#define N_THM_DELTAS 3
extern const char *const THM_FUNC_NAMES[N_THM_FUNCS];
int thm1_run(int func, const scale *sc, const char *path, mtb_pool_slot *progress, mtb_error *err);

int cmd_fig2(int argc, char **argv);
int cmd_report(int argc, char **argv);

/* The `mtr` problem (MTRRegression-10, the SLAW code's protocol) at paper scale; the
 * program's scale changes only the steps and the evaluation interval. */
const mtb_problem *slaw_problem(void);

/* helpers: the reproduction toolkit's (paper_repro/common/repro.h) */
#define die(...) repro_die("repro-slaw", __VA_ARGS__)

#endif
