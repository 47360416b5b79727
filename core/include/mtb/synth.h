/* synth.h: synthetic multi-task problems with known structure. */
#ifndef MTB_SYNTH_H
#define MTB_SYNTH_H

#include <stdint.h>

#include "mtb/dataset.h"
#include "mtb/rng.h"

/* MTRRegression (GradNorm's toy, SLAW Eq. 15; spec mtrregression-and-slaw.md sec. 1):
 *   y_t(x) = sigma_t * tanh((B + eps_t) x),  x ~ N(0, std_x^2 I), B_ij ~ N(0, std_B^2),
 *   eps_t,ij ~ N(0, std_eps^2); all three numbers are standard deviations. */
typedef struct mtb_mtr_params {
    int T;                /* tasks */
    const double *sigma;  /* (T) task scales; NULL = sigma_t = t (1-based), as in the paper */
    int d_in;             /* 250 */
    int d_out;            /* 100 */
    size_t n_total;       /* 10 000 */
    size_t n_train;       /* 9 000 (= round(0.9 n_total)) */
    double std_B;         /* 10 */
    double std_eps;       /* 3.5 */
    double std_x;         /* 0.01 */
    uint64_t seed;
} mtb_mtr_params;

void mtb_mtr_params_default(mtb_mtr_params *p, int T, uint64_t seed);
mtb_status mtb_synth_mtr(const mtb_mtr_params *p, mtb_dataset *out, mtb_error *err);

/* LSD-6, the loss-scale-disparity benchmark (spec rlw.md sec. 2): the MTR generator
 * with 6 task matrices (B, eps_1..eps_6, train x, test x from MTB_STREAM_DATA of seed), then the
 * label noise from a second stream (MTB_STREAM_DATA of seed + 1), per sample in order, train
 * split first: t5 (u < 0.10: replaced by one of the 9 other classes, uniformly, by a second
 * draw made only then), then t6 (bit j flipped if u_j < 0.05, j = 1..16); the test labels are
 * noisy too. Tasks and target columns of y (width 434):
 *   t1 MSE  100 outputs  sigma_1 * tanh(z_1)   columns   0..99    sigma 1
 *   t2 MSE  100 outputs  sigma_2 * tanh(z_2)   columns 100..199   sigma 30
 *   t3 MSE  100 outputs  sigma_3 * tanh(z_3)   columns 200..299   sigma 1000
 *   t4 L1   100 outputs  sigma_4 * tanh(z_4)   columns 300..399   sigma 10
 *   t5 CE    10 classes  argmax z_5[1..10], noisy        column 400
 *   t6 BCE   16 bits     1[z_6[j] > 0], noisy            columns 401..416
 *   clean t5 label (column 417) and clean t6 bits (columns 418..433), read by no loss.
 * eq = 1 gives LSD-6-eq: sigma = 1 for t1..t4. The task table's sigma holds the scale. */
typedef struct mtb_lsd6_params {
    int eq;
    uint64_t seed;            /* 0 for every run of the benchmark */
    size_t n_total, n_train;  /* 10 000, 9 000 */
} mtb_lsd6_params;

#define MTB_LSD6_T 6
#define MTB_LSD6_Y_WIDTH 434
#define MTB_LSD6_CLEAN_T5 417
#define MTB_LSD6_CLEAN_T6 418

void mtb_lsd6_params_default(mtb_lsd6_params *p, int eq, uint64_t seed);
mtb_status mtb_synth_lsd6(const mtb_lsd6_params *p, mtb_dataset *out, mtb_error *err);

/* BCE-T (rlw.md R6): the MTR inputs (the same draws as mtb_synth_mtr with T tasks and the
 * same seed: B, eps_1..eps_T, train x, test x), task t's label 1[z_t[1] > 0] flipped with
 * probability flip (0.05) from a second stream (MTB_STREAM_DATA of seed + 1), per sample in
 * order, train first; one-logit BCE heads. y: T noisy labels (column t) then T clean labels
 * (column T + t). */
typedef struct mtb_bce_params {
    int T;
    double flip;              /* 0.05 */
    uint64_t seed;
    size_t n_total, n_train;  /* 10 000, 9 000 */
} mtb_bce_params;

void mtb_bce_params_default(mtb_bce_params *p, int T, uint64_t seed);
mtb_status mtb_synth_bce(const mtb_bce_params *p, mtb_dataset *out, mtb_error *err);

/* LSD-CE3 and LSD-CE3-sep (dbmtl.md sec. 1; synth/lsd_ce3.c): the MTR inputs with 3 task
 * matrices (the draws of mtb_synth_mtr with T = 3 and the same seed), three softmax-CE tasks,
 * label argmax z_t[1..31], label noise (0.0, 0.1, 0.3) from MTB_STREAM_DATA of seed + 1;
 * sep = 1: task 1 is instead the noiseless 2-class label 1[z_1[1] > 0]. y: noisy labels in
 * columns 0..2, clean labels in columns 3..5. */
typedef struct mtb_lsdce3_params {
    int sep;
    uint64_t seed;
    size_t n_total, n_train;  /* 10 000, 9 000 */
} mtb_lsdce3_params;

#define MTB_LSDCE3_T 3

void mtb_lsdce3_params_default(mtb_lsdce3_params *p, int sep, uint64_t seed);
mtb_status mtb_synth_lsdce3(const mtb_lsdce3_params *p, mtb_dataset *out, mtb_error *err);

/* LSD-3C (spec imtl.md sec. 1; synth/lsd3c.c): the MTR inputs with 3 tasks, t1 10-class CE
 * (argmax z_1[1..10], 10 % label noise), t2 L1 on 20 tanh(z_2), t3 L1 on 3 tanh(z_3); y: t2's
 * 100 targets, t3's 100, t1's noisy label, t1's clean label. */
typedef struct mtb_lsd3c_params {
    uint64_t seed;
    size_t n_total, n_train; /* 10 000, 9 000 */
} mtb_lsd3c_params;

#define MTB_LSD3C_T 3
#define MTB_LSD3C_CLEAN_T1 201
#define MTB_LSD3C_Y_WIDTH 202

void mtb_lsd3c_params_default(mtb_lsd3c_params *p, uint64_t seed);
mtb_status mtb_synth_lsd3c(const mtb_lsd3c_params *p, mtb_dataset *out, mtb_error *err);

/* Gradient sets of the IMTL reproduction (spec imtl.md sec. 1; synth/grad_sets.c), drawn
 * from the caller's stream into G (T, d) row-major, row t = task t's gradient.
 *   GE(T, d, r): g_t = r b + n_t (b, n_t ~ N(0, I_d)), row t then scaled by exp(U(-3, 3));
 *                work: d doubles.
 *   EA(T, C1):   unit vectors with pairwise cosine C1 (rows of the Cholesky factor of
 *                (1 - C1) I + C1 11^T, zero-padded to d >= T, randomly rotated), norms
 *                exp(U(ln 1e-3, ln 1e3)); work: d (d + 1) doubles. MTB_EINVAL when the Gram
 *                is not positive definite (mtb_synth_ea_valid).
 *   Fig-1:       the three d = 3 gradients of configuration A (config_b = 0: norms 2, 3, 1)
 *                or B (norms 0.5, 1, 3), G (3, 3). */
mtb_status mtb_synth_ge(mtb_rng *rng, int T, int d, double r, double *G, double *work,
                        mtb_error *err);
int mtb_synth_ea_valid(int T, double C1);
mtb_status mtb_synth_ea(mtb_rng *rng, int T, double C1, int d, double *G, double *work,
                        mtb_error *err);
void mtb_synth_fig1(int config_b, double *G);

#endif
