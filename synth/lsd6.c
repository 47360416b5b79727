/* lsd6.c: LSD-6, the loss-scale-disparity benchmark of spec rlw.md, section 2
 * (shared by the RLW, IMTL and DB-MTL reproductions). Six tasks on one MTRRegression input
 * whose losses span about six orders of magnitude and mix MSE, L1, CE and BCE:
 *
 *   z_t = (B + eps_t) x in R^100, t = 1..6, drawn exactly as mtr.c draws 6 tasks
 *   t1..t3  MSE  sigma_t tanh(z_t),  sigma = 1, 30, 1000
 *   t4      L1   sigma_4 tanh(z_4),  sigma_4 = 10
 *   t5      CE   argmax of z_5[1..10], then 10% of the labels moved to another class
 *   t6      BCE  1[z_6[j] > 0], j = 1..16, then every bit flipped with probability 0.05
 *
 * The targets of t1..t4 are physical (the network's heads carry the fixed output scale,
 * spec "Output scale"), so sigma_t goes into the task table as the scale that turns the
 * losses into the spec's metrics: NMSE = MSE / sigma^2 and MAE / sigma. LSD-6-eq sets
 * sigma = 1 for t1..t4 and changes nothing else (the same draws, labels and noise), so the
 * two variants differ only in scale.
 *
 * Label noise: a second stream (MTB_STREAM_DATA of seed + 1), so that the noise never
 * shifts the inputs; per sample in order (train rows, then test rows), t5 first, then t6's
 * 16 bits. The test labels are noisy too (spec: accuracies are against the noisy test
 * labels); the clean labels are stored beside them in columns no loss reads, so clean
 * accuracies can be computed without regenerating. Layout: synth.h and datasets/README.md. */
#include "mtb/synth.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mtb/rng.h"
#include "synth_internal.h"

#define N_REG 4          /* t1..t4: regression tasks */
#define D_OUT 100        /* outputs per regression task (MTR's d_out) */
#define T5_CLASSES 10    /* spec: argmax of z_5[1..10] */
#define T6_BITS 16       /* spec: 1[z_6[j] > 0], j = 1..16 */
#define T5_NOISE 0.10    /* spec: u < 0.10 -> another class */
#define T6_FLIP 0.05     /* spec: u_j < 0.05 -> bit j flipped */

/* Target columns (synth.h): the four regression blocks, then the two noisy label blocks,
 * then the clean copies; the compile-time checks keep the public macros honest. */
#define COL_T5 (N_REG * D_OUT)
#define COL_T6 (COL_T5 + 1)
_Static_assert(MTB_LSD6_CLEAN_T5 == COL_T6 + T6_BITS, "clean t5 label follows t6's bits");
_Static_assert(MTB_LSD6_CLEAN_T6 == MTB_LSD6_CLEAN_T5 + 1, "clean t6 bits follow clean t5");
_Static_assert(MTB_LSD6_Y_WIDTH == MTB_LSD6_CLEAN_T6 + T6_BITS, "y ends with clean t6");
_Static_assert(MTB_LSD6_T == N_REG + 2, "four regressions, one CE, one BCE task");

/* Spec task table, "head (output scale sigma_t)" column. */
static const double SIGMA[N_REG] = {1.0, 30.0, 1000.0, 10.0};

void mtb_lsd6_params_default(mtb_lsd6_params *p, int eq, uint64_t seed)
{
    memset(p, 0, sizeof *p);
    p->eq = eq;
    p->seed = seed;
    p->n_total = 10000; /* spec: 9 000 train / 1 000 test */
    p->n_train = 9000;
}

static mtb_status check_params(const mtb_lsd6_params *p, mtb_error *err)
{
    if (p->eq != 0 && p->eq != 1)
        return mtb_fail(err, MTB_EINVAL, "lsd6: eq = %d, expected 0 (LSD-6) or 1 (LSD-6-eq)",
                        p->eq);
    return mtb_synth_check_split("lsd6", p->n_total, p->n_train, err);
}

static void describe(const mtb_lsd6_params *p, const double *sigma, const mtb_mtr_params *m,
                     mtb_dataset *ds)
{
    /* Every number that shapes the file, so that the file alone says how to remake it.
     * They are all short decimals (10, 3.5, 0.01, 30, 0.1, ...), which %g (and the inputs'
     * shortest form, mtb_synth_inputs_desc) prints exactly; the longest possible string
     * (~390 bytes) fits MTB_DATASET_DESC_LEN. */
    char in[MTB_SYNTH_INPUTS_DESC_LEN];
    snprintf(ds->generator, sizeof ds->generator,
             "tasks=%d,eq=%d,%s,sigma=%g;%g;%g;%g;1;1,"
             "losses=mse;mse;mse;l1;ce;bce,t5_classes=%d,t5_noise=%g,t6_bits=%d,t6_flip=%g,"
             "noise_seed=seed+1,noise_stream=%d,clean_t5=%d,clean_t6=%d",
             MTB_LSD6_T, p->eq, mtb_synth_inputs_desc(in, m), sigma[0], sigma[1], sigma[2],
             sigma[3], T5_CLASSES, T5_NOISE, T6_BITS, T6_FLIP, (int)MTB_STREAM_DATA,
             MTB_LSD6_CLEAN_T5, MTB_LSD6_CLEAN_T6);
}

/* The spec's noise, one sample's labels at a time, in its order: t5's u, then (only when
 * the label moves) the new class, then t6's u_1..u_16. */
static void add_noise(mtb_rng *rng, float *y)
{
    y[COL_T5] = (float)mtb_synth_relabel(rng, (int)y[MTB_LSD6_CLEAN_T5], T5_CLASSES, T5_NOISE);
    for (int j = 0; j < T6_BITS; j++)
        y[COL_T6 + j] = mtb_synth_flip(rng, y[MTB_LSD6_CLEAN_T6 + j], T6_FLIP);
}

mtb_status mtb_synth_lsd6(const mtb_lsd6_params *p, mtb_dataset *out, mtb_error *err)
{
    memset(out, 0, sizeof *out);
    mtb_status st = check_params(p, err);
    if (st)
        return st;
    double sigma[N_REG];
    for (int t = 0; t < N_REG; t++)
        sigma[t] = p->eq ? 1.0 : SIGMA[t];

    /* "The MTRRegression generator of the SLAW spec sec. 1 with n = 6 task matrices": its
     * defaults are the spec's 250 inputs, 100 outputs and stds 10, 3.5, 0.01. */
    mtb_mtr_params m;
    mtb_synth_mtr_inputs(&m, MTB_LSD6_T, p->seed, p->n_total, p->n_train);
    mtb_synth_build b; /* work: (N, rows of the task), at most D_OUT */
    if ((st = mtb_synth_open(&b, &m, MTB_LSD6_Y_WIDTH, D_OUT, "lsd6", err)))
        return st;
    mtb_task_spec *k = b.ds.tasks;

    /* t1..t4: sigma_t tanh(z_t) over all 100 outputs. */
    for (int t = 0; t < N_REG; t++) {
        mtb_synth_tanh_targets(&b, t, sigma[t], t * D_OUT);
        mtb_synth_task(&k[t], t == 3 ? MTB_LOSS_L1 : MTB_LOSS_MSE, D_OUT, D_OUT, t * D_OUT,
                       sigma[t]);
    }
    /* t5, clean: the class whose pre-activation among z_5[1..10] is largest. */
    mtb_synth_argmax_labels(&b, 4, T5_CLASSES, MTB_LSD6_CLEAN_T5);
    mtb_synth_task(&k[4], MTB_LOSS_CE, T5_CLASSES, 1, COL_T5, 1.0);
    /* t6, clean: the signs of z_6[1..16]. */
    mtb_synth_sign_labels(&b, 5, T6_BITS, MTB_LSD6_CLEAN_T6);
    mtb_synth_task(&k[5], MTB_LOSS_BCE, T6_BITS, T6_BITS, COL_T6, 1.0);

    /* The noise comes last, from its own stream, train rows first. */
    mtb_rng noise;
    mtb_synth_noise_stream(&noise, p->seed);
    for (size_t r = 0; r < b.d.n; r++)
        add_noise(&noise, mtb_synth_y_row(&b, r));

    snprintf(b.ds.name, sizeof b.ds.name, p->eq ? "lsd6-eq" : "lsd6");
    b.ds.seed = p->seed;
    describe(p, sigma, &m, &b.ds);
    mtb_synth_finish(&b, out);
    return MTB_OK;
}
