/* golden.h: `mtb golden DIR`, the replay of LibMTL's reference vectors with mtb's methods.
 * This is a test oracle, not part of the library: it is linked into bin/mtb (so that the
 * command works on any fixture directory) but lives with the tests. The fixture format is
 * the README.md beside the fixtures (`make test` uses $(SHARED)/golden); the LibMTL formulas
 * that the options below reproduce are in LIBMTL-FORMULAS.md there.
 *
 * Each fixture file names its LibMTL method in the root attribute `method` ("GLS",
 * "MGDA_gn_l2", ...). The runner looks that name up in golden_entries_loss[] (loss-based
 * methods, golden_map_loss.c), golden_entries_grad[] (gradient methods, golden_map_grad.c)
 * and golden_entries_multi[] (methods using balancer.h's interface extensions: several
 * samples per step, losses after the update, representation gradients, replayed draws;
 * golden_map_multi.c); every array ends with an entry whose fixture is NULL.
 *
 * A case runs in three stages (golden_case.c, golden_replay.c, golden_compare.c):
 *   read    golden_case_read: the inputs, the references and the recorded draws of one case
 *           group, shapes checked against the README's schema;
 *   replay  golden_case_run: ONE balancer of `method` with the hyperparameters `options`
 *           (where an entry selects LibMTL's variant), T tasks, D_max = the gradient width,
 *           runs the steps in order (state carries over). Step s gets step = s, epoch =
 *           inputs/epoch[s], the losses inputs/losses[s], G = inputs/G[s] when the method
 *           asks for gradients (representation fixtures: G = inputs/G_rep[s] as (T, B d),
 *           rep = {inputs/rep[s], d}), the K samples of multi-sample fixtures, and the
 *           fixture's recorded draws as in->draws (every inputs/random_* dataset: float ones
 *           as values, integer ones as task orders; the method must accept them). Learnable
 *           scalars take one Adam step (the library's, optim.h) with the fixture's
 *           param_adam_* settings after each step; FAMO gets inputs/losses_after[s];
 *   compare golden_compare_step: the gradient mtb leaves on theta (trunk_grad when set, else
 *           sum_t trunk_w[t] G[t]; representation fixtures sum it over the B rows, since
 *           rep = X + theta) against outputs_f64/grad[s], LibMTL's returned vector
 *           (entry->weights from mtb's step, NULL: trunk_w) against outputs_f64/weights[s],
 *           and mtb's learnable-scalar gradient (entry->param_grad, NULL: learn_grad)
 *           against outputs_f64/param_grad/loss_scale[s], each as max|diff| / max|ref|
 *           (reference all zero: max|diff|).
 *
 * Solver methods (an entry with `optimality`): their weights solve an optimisation problem
 * that LibMTL solves only approximately (SLSQP, least squares, cvxpy, a capped iteration).
 * For them the runner also measures, at every step, how far mtb's weights and LibMTL's
 * returned weights are from the optimum of the method's own problem (golden_optimality.c):
 * a first-order (KKT) residual and an objective gap against the runner's own high-accuracy
 * solve (golden_reference.c), neither needing the optimum in closed form or unique. The
 * case's line reports the largest of each, and a step whose gradient or weights disagree
 * passes "on optimality" when mtb's weights are optimal (both numbers <= GOLDEN_OPT_TOL) and
 * LibMTL's are measurably worse (the larger of its two numbers above GOLDEN_OPT_MARGIN and
 * GOLDEN_OPT_FACTOR times mtb's); the line then says so with the numbers. Where the weights
 * are not unique (T > d: the Gram matrix is singular) only the gradient is compared. */
#ifndef MTB_GOLDEN_H
#define MTB_GOLDEN_H

#include <stddef.h>

#include "mtb/balancer.h"
#include "mtb/h5.h"
#include "mtb/optim.h"

/* Default tolerance of the float64 comparisons (README: "float64 reference to about
 * 1e-9"); an entry may loosen it (CAGrad, iterative solvers). */
#define GOLDEN_DEFAULT_TOL 1e-9
/* Optimality verdicts (relative to the scale of the problem, see golden_optimality.c):
 * mtb's weights count as optimal at GOLDEN_OPT_TOL (its solvers stop at a relative gap or
 * residual of 1e-12 .. 1e-13; 100x of room for rounding), and LibMTL's as measurably worse
 * when their measure exceeds both GOLDEN_OPT_MARGIN (10x mtb's optimality threshold) and
 * GOLDEN_OPT_FACTOR times mtb's (so that rounding in an ill-conditioned measure, which
 * affects both alike, never decides). */
#define GOLDEN_OPT_TOL 1e-10
#define GOLDEN_OPT_MARGIN 1e-9
#define GOLDEN_OPT_FACTOR 100.0

/* What mtb computed at one step, handed to an entry's mapping and optimality functions. */
typedef struct golden_step {
    int T;
    size_t d;                 /* width of theta */
    size_t D;                 /* columns of G: d, or B d for representation gradients */
    long step, epoch;
    const double *losses;     /* (T) */
    const double *G;          /* (T, D); multi-sample fixtures: the mean of the K samples */
    const double *head_w;     /* (T) mtb's head weights */
    const double *trunk_w;    /* (T) mtb's trunk weights (informative when trunk_grad_set) */
    int trunk_grad_set;
    const double *grad;       /* (d) the gradient mtb leaves on theta */
    int n_learn;
    const double *learn;      /* (n_learn) learnable scalars before this step's Adam update */
    const double *learn_grad; /* (n_learn) their gradients from this step */
} golden_step;

/* Writes T values into out. */
typedef void (*golden_map_fn)(const golden_step *s, double *out);

/* How far a weight vector (T values, in the convention of LibMTL's returned vector) is from
 * the optimum of the method's problem at one step; both relative, 0 at the optimum,
 * INFINITY when infeasible or undefined. */
typedef struct golden_opt {
    double kkt; /* first-order (KKT) residual of the method's optimality conditions */
    double gap; /* objective gap F(w) - F(w_ref) against the runner's reference solve */
} golden_opt;

/* Measures the n weight vectors w[k] at step s into m[k], solving the method's problem once
 * with the runner's own solver; *cert = that solve's own residual (how far the reference is
 * from optimal). Returns 0 when the measure applies, -1 when it does not (e.g. MGDA with
 * T = 2, whose LibMTL solution is deliberately clamped; FairGrad when no solution exists). */
typedef int (*golden_opt_fn)(const golden_step *s, int n, const double *const *w, golden_opt *m,
                             double *cert);

typedef struct golden_entry {
    const char *fixture;      /* root attribute `method` of the fixture; NULL ends the table */
    const char *method;       /* mtb method name (mtb_balancer_find) */
    const char *options;      /* hyperparameters selecting LibMTL's variant ("" = defaults) */
    double tol;               /* tolerance on grad; 0 = GOLDEN_DEFAULT_TOL */
    double weights_tol;       /* tolerance on the returned weights and param grads; 0 = tol */
    golden_map_fn weights;    /* LibMTL's returned vector from mtb's step; NULL = trunk_w */
    golden_map_fn param_grad; /* LibMTL's loss_scale gradient; NULL = learn_grad */
    golden_opt_fn optimality; /* solver methods: distance from the optimum; NULL otherwise */
    const char *exact_options;/* with `optimality`, when `options` reproduce LibMTL's own
                                 approximate solver (MGDA): mtb's exact solver of the same
                                 problem, run beside it; ITS weights are the ones judged on
                                 optimality where the replication disagrees */
    const char *measure;      /* what kkt and gap are ("FW/PG residual, gap"), for --verbose */
    const char *note;         /* why the mapping/options are what they are (for --verbose) */
} golden_entry;

extern const golden_entry golden_entries_loss[];
extern const golden_entry golden_entries_grad[];
extern const golden_entry golden_entries_multi[];

/* ---- optimality measures (golden_optimality.c) --------------------------------------- */

int golden_opt_mgda_none(const golden_step *s, int n, const double *const *w, golden_opt *m,
                         double *cert);
int golden_opt_mgda_l2(const golden_step *s, int n, const double *const *w, golden_opt *m,
                       double *cert);
int golden_opt_mgda_loss(const golden_step *s, int n, const double *const *w, golden_opt *m,
                         double *cert);
int golden_opt_mgda_lossplus(const golden_step *s, int n, const double *const *w,
                             golden_opt *m, double *cert);
int golden_opt_cagrad(const golden_step *s, int n, const double *const *w, golden_opt *m,
                      double *cert);
/* FairGrad with alpha = 1 and Nash-MTL: A w = 1/w */
int golden_opt_alpha1(const golden_step *s, int n, const double *const *w, golden_opt *m,
                      double *cert);
int golden_opt_upgrad(const golden_step *s, int n, const double *const *w, golden_opt *m,
                      double *cert);

/* ---- one case: read, replay, compare (golden_case.c) -------------------------------- */

/* Adam settings of a fixture (PyTorch torch.optim.Adam, L2 weight decay). */
typedef struct golden_adam {
    int present;
    mtb_optim_config cfg;
} golden_adam;

/* One case group as read from a fixture; every array is owned (golden_case_free). */
typedef struct golden_case {
    int T;
    size_t d, S;
    size_t K;            /* samples per step (MoDo: 3) */
    size_t B;            /* rows of the representation (GradDrop), 0 for parameter gradients */
    size_t D;            /* columns of the G the method sees: d, or B d */
    double *L;           /* (S, K, T) losses */
    double *G;           /* (S, K, T, D) gradients */
    double *Z;           /* (S, B d) representation, or NULL */
    double *epoch;       /* (S) */
    double *values;      /* (S, n_values) recorded real draws, or NULL */
    size_t n_values;
    int *orders;         /* (S, n_orders) recorded task orders, or NULL */
    size_t n_orders;
    double *L_after;     /* (S, T) losses after the update (FAMO), or NULL */
    double *ref_grad;    /* (S, d) outputs_f64/grad */
    double *ref_w;       /* (S, T) outputs_f64/weights, or NULL */
    double *ref_pg;      /* (S, T) outputs_f64/param_grad/loss_scale, or NULL */
    double *adam_m;      /* (S, adam_cols) state_after/adam_loss_scale_exp_avg, or NULL */
    size_t adam_cols;
} golden_case;

/* Outcome of one case. */
typedef struct golden_result {
    int pass;
    double max_err;           /* largest relative error of grad / weights / param grads */
    int opt_steps;            /* steps that passed on optimality only */
    int opt_measured;         /* 1 when the optimality measure applied to some step */
    golden_opt opt_mtb, opt_ref; /* largest kkt and gap of mtb's and LibMTL's weights */
    golden_opt opt_exact;     /* the same for mtb's exact solver (entry->exact_options) */
    double opt_cert;          /* largest residual of the runner's reference solves */
    char reason[600];
} golden_result;

/* Result helpers shared by the stages: the first reason is kept; golden_fail_case also marks
 * the case failed with an infinite error and returns -1. */
__attribute__((format(printf, 2, 3))) void golden_set_reason(golden_result *r, const char *fmt,
                                                             ...);
__attribute__((format(printf, 2, 3))) int golden_fail_case(golden_result *r, const char *fmt,
                                                           ...);
/* max|a - b| / max|b| over n values (absolute when b is all zero; INFINITY if a is not
 * finite), and whether x holds a NaN. */
double golden_rel_err(const double *a, const double *b, size_t n);
int golden_any_nan(const double *x, size_t n);

void golden_adam_read(mtb_h5 *f, golden_adam *a);
/* Reads case group `cs`; on failure fills res (pass 0, reason) and returns -1. */
int golden_case_read(mtb_h5 *f, const char *cs, golden_case *c, golden_result *res);
void golden_case_free(golden_case *c);
/* One step's errors (for --verbose and the verdict). */
typedef struct golden_step_errors {
    double grad, weights, param_grad;
    golden_opt opt_mtb, opt_ref, opt_exact;
    double opt_cert;
    int opt_measured, on_optimality;
} golden_step_errors;

/* Compares step s of mtb (gs) with the references (golden_compare.c); `mapped` (T) receives
 * LibMTL's returned vector as mtb's step gives it; `exact` (T, or NULL) is the same vector
 * from mtb's exact solver (entry->exact_options). Updates res; returns -1 for a case that
 * cannot go on (res filled). */
int golden_compare_step(const golden_case *c, const golden_entry *ent, const golden_step *gs,
                        size_t s, double *mapped, const double *exact, golden_result *res,
                        golden_step_errors *e);
/* Replays the case with the entry's method and compares every step; fills res
 * (golden_replay.c). */
void golden_case_run(const golden_case *c, const golden_entry *ent, const golden_adam *adam,
                     const char *label, int verbose, golden_result *res);

#endif
