/* imtl.h: repro-imtl, the reproduction of Liu et al., "Towards Impartial Multi-task
 * Learning", ICLR 2021 (spec imtl.md: experiments I1-I12, errata I-E1..I-E7).
 * Pipeline (paper_repro/imtl/reproduce): one subcommand per experiment, each writing its
 * table (imtl_*.tsv), its plot data (*.dat) and summary_<exp>.tsv (common/summary.h) into
 * --out; then `report` reads them back, states the claims with their bands (report.c),
 * writes report.md and claims.tsv (and, with --readme, the generated section of
 * paper_repro/imtl/README.md), and fails when a claim asserted at this scale is not
 * confirmed.
 *   closed  I1  IMTL-G closed form vs the second formula, degenerate inputs (closed.c)
 *   sign    I2  sign of the common projection, the counterexample (sign.c)
 *   thm2    I3  Theorem 2: loss scaling multiplies g by lambda (thm2.c)
 *   thm1    I4  Theorem 1, Corollary 4, Lemma 3 on equal-angle sets, GradNorm iterated (thm1.c)
 *   mgda    I5  MGDA-UB closed form, KKT, small-gradient bias (mgda_cf.c)
 *   pcgrad  I6  PCGrad as loss weighting, two-task projections (pcgrad_w.c)
 *   loss    I7  UW / IMTL-L fixed points and speed, GLS scale and float32 underflow (loss.c)
 *   fig1    I8  the Fig. 1 projections of every method, GE Spearman correlations (fig1.c)
 *   audit   I10 single-step scale audit of every registered method (audit.c)
 *   toy     I12 the 2-D toy across loss scales (toy.c)
 *   audit_train  I10 step 2 from the sweep the script ran; sweepargs lists its methods
 *                (audit_train.c)
 *   provenance  OUT/provenance.h5, the pipeline's machine and code version (report.c) */
#ifndef IMTL_REPRO_H
#define IMTL_REPRO_H

#include <stdio.h>

#include "../common/repro.h"
#include "../common/summary.h"
#include "mtb/balancer.h"
#include "mtb/rng.h"

#define PROG "repro-imtl"
#define die(...) repro_die(PROG, __VA_ARGS__)

/* sizes per scale (iscale_get in main.c) */
typedef struct iscale {
    repro_scale s;
    int i1_draws;     /* per GE cell */
    int i2_draws;     /* per GE cell (sign frequencies) */
    int i3_draws;
    int i4_draws;     /* per EA cell */
    long i4_gn_steps; /* GradNorm iterations on a fixed G */
    int i4_gn_sets;   /* EA sets the GradNorm iteration runs on */
    int i5_draws;
    int i6_draws;
    int i8_draws;
    int i10_states;   /* random states per method */
    long i12_steps;
} iscale;
void iscale_get(repro_scale s, iscale *r);

/* A method as the registered balancer with options. */
typedef struct method_ref {
    const char *label; /* as the report prints it */
    const char *name;  /* registered name */
    const char *opts;  /* --options */
} method_ref;

/* One step of a method on (losses, G; losses NULL = all 1) with a fresh balancer of seed `seed`: trunk weights
 * w (T), head weights hw (T, may be NULL) and the trunk gradient g (D, may be NULL: the
 * explicit one, or sum w_t g_t). Returns the status; err gets the message. */
mtb_status method_step(const method_ref *m, int T, int D, const double *losses, const double *G,
                       unsigned long long seed, double *w, double *hw, double *g, mtb_error *err);

/* Output files (common/summary.h), exiting with a message on failure. */
#define out_open(out, name, path, n) repro_out_open(PROG, out, name, path, n)
#define out_close(f, path) repro_out_close(PROG, f, path)
#define sum_open(s, out, exp) repro_summary_open_or_die(PROG, s, out, exp)
#define sum_close(s) repro_summary_close_or_die(PROG, s)

/* A method's runs in a sweep (runs.c): final metrics per seed (seeds 0..RUNS_SEEDS-1 that
 * finished without diverging), ms per step, the direction of each metric. */
#include "../common/sweep_plan.h"
#include "mtb/stats.h"
enum { RUNS_SEEDS = 16, RUNS_TASKS = 64 };
typedef struct runs_rows {
    int n, T;
    uint64_t seed[RUNS_SEEDS];
    double M[RUNS_SEEDS][RUNS_TASKS];
    double ms_step[RUNS_SEEDS];
    int hb[RUNS_TASKS]; /* 1: higher is better */
} runs_rows;
int runs_of(const repro_plan *p, const char *problem, const char *name, const char *opts,
            runs_rows *r); /* the number of seeds found; p NULL: none */
int runs_seed_index(const runs_rows *r, uint64_t seed); /* -1: absent */
/* Δp (mtb_delta_p) of row k of a against the same seed of ref: NAN when absent; per_task
 * (T) may be NULL */
double runs_dp(const runs_rows *a, int k, const runs_rows *ref, double *per_task);
/* seed-paired summary of a − b: of task `task`'s metric, or (task < 0) of Δp against ref */
mtb_stats_summary runs_paired(const runs_rows *a, const runs_rows *b, const runs_rows *ref,
                              int task);

/* small statistics */
double spearman(const double *x, const double *y, int n, double *work); /* work: 4 n */

/* the experiments */
int cmd_closed(const char *out, const iscale *r);
int cmd_sign(const char *out, const iscale *r);
int cmd_thm2(const char *out, const iscale *r);
int cmd_thm1(const char *out, const iscale *r);
int cmd_mgda(const char *out, const iscale *r);
int cmd_pcgrad(const char *out, const iscale *r);
int cmd_loss(const char *out, const iscale *r);
int cmd_fig1(const char *out, const iscale *r);
int cmd_audit(const char *out, const iscale *r);
int cmd_toy(const char *out, const iscale *r);
int cmd_sweepargs(const char *out, const iscale *r);   /* the LSD-6 training audit's methods */
int cmd_sweepargs3c(const char *out, const iscale *r); /* the LSD-3C comparison's methods */
int cmd_compare(const char *out, const iscale *r);     /* I11 and I9, after the sweeps */
int cmd_logs(const char *out, const iscale *r);
int cmd_levels(const char *out, const iscale *r);
int cmd_glslr(const char *out, const iscale *r);       /* I7 (iii): GLS's lr equivalence (gls_lr.c) */      /* I9 on network states, I8 training bias */        /* I2, I5, I7 training logs (train_logs.c) */
/* the methods of a training sweep at this scale (lsd3c: I11's list, else I10's): labels,
 * registered names, options; returns how many */
int train_methods(int lsd3c, const iscale *r, const char **label, const char **name,
                  const char **opts, int max);
int cmd_audit_train(const char *out, const iscale *r); /* I10 step 2, after the sweep */
/* I10 step 2's statistics of one method (audit_train.c): the seed-paired change of each
 * task's final metric from problem p1 to p10, the ulp control's change (pulp, may be NULL),
 * the ×1 seed std, the score (mean over tasks of |mean Δ| / seed std) */
typedef struct audit_row {
    const char *label;
    int n;
    double dmean[RUNS_TASKS], dci[RUNS_TASKS], floor[RUNS_TASKS], std1[RUNS_TASKS], score;
    double above_mean, above_ci; /* |Δ| − |u| on the scaled task */
} audit_row;
/* 1 and *w, *T filled when at least 2 seeds pair up; else 0 */
int audit_method(const repro_plan *p, const char *p1, const char *p10, const char *pulp,
                 int scaled, const char *label, const char *name, const char *opts, audit_row *w,
                 int *T);
/* OUT/<sweep>/plan.tsv into *p: 1 when present, 0 when the sweep did not run */
int audit_open_plan(const char *out, const char *sweep, repro_plan *p);
/* ranks rows by score, writes the table, the plot data and summary_<exp>.tsv */
void audit_write(const char *out, audit_row *rows, int nr, int T, int has_ulp, int scaled,
                 const char *table, const char *dat, const char *exp, const char *what);
/* the SGD profile (sgd.c): the methods and lr grid of the selection on validation, the
 * selection, and I10/I11's SGD columns */
int cmd_sgdargs(const char *out, const iscale *r);
int cmd_sgdsel(const char *out, const iscale *r);
int cmd_lrsel(const char *out, const iscale *r);
int cmd_audit_sgd(const char *out, const iscale *r);
/* the single-step class the spec predicts for a method label ("E0", "E", "Q", "N", "E0|E";
 * "–" when the spec names none) */
const char *audit_predicted(const char *label);
int cmd_provenance(const char *out, const iscale *r);
int cmd_report(const char *out, const iscale *r, double wall, const char *readme,
               const char *figdir);

/* the GE grid of the spec (sec. 1): T in {2, 3, 5, 10}, d in {T + 2, 50, 1000} */
#define GE_NT 4
#define GE_ND 3
extern const int GE_T[GE_NT];
int ge_d(int T, int k); /* k-th d for T */

#endif
