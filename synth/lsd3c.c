/* lsd3c.c: LSD-3C, the Cityscapes-like problem of the IMTL reproduction (spec imtl.md sec. 1,
 * for the analogue of the paper's Table 1). Three tasks on one MTRRegression input:
 *
 *   z_t = (B + eps_t) x in R^100, t = 1..3, drawn exactly as mtr.c draws 3 tasks
 *   t1  CE   argmax of z_1[1..10], then 10% of the labels moved to another class
 *            ("semantic segmentation": accuracy)
 *   t2  L1   20 tanh(z_2) over the 100 outputs ("instance offsets", loss ~ 14 at a zero
 *            prediction; metric MAE / 20)
 *   t3  L1   3 tanh(z_3) ("disparity", loss ~ 2.1; metric MAE / 3)
 *
 * The L1 targets are physical and the heads carry the fixed output scales 20 and 3 (as
 * LSD-6's regression heads, rlw.md sec. 2). Label noise: a second stream (MTB_STREAM_DATA of
 * seed + 1), per sample in order (train rows, then test rows): one uniform u, and only when
 * u < 0.1 a second draw for the new class among the 9 others. The test labels are noisy too;
 * the clean label is stored beside them. y (width MTB_LSD3C_Y_WIDTH): t2's 100 targets
 * (columns 0..99), t3's (100..199), t1's noisy label (200), its clean label (201). */
#include "mtb/synth.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mtb/rng.h"
#include "mtr_draws.h"

#define D_OUT 100
#define T1_CLASSES 10
#define T1_NOISE 0.10
#define COL_T1 (2 * D_OUT)
_Static_assert(MTB_LSD3C_CLEAN_T1 == COL_T1 + 1, "the clean label follows the noisy one");
_Static_assert(MTB_LSD3C_Y_WIDTH == MTB_LSD3C_CLEAN_T1 + 1, "y ends with the clean label");

static const double SIGMA[2] = {20.0, 3.0}; /* t2, t3 */

void mtb_lsd3c_params_default(mtb_lsd3c_params *p, uint64_t seed)
{
    memset(p, 0, sizeof *p);
    p->seed = seed;
    p->n_total = 10000; /* as LSD-6: 9 000 train / 1 000 test */
    p->n_train = 9000;
}

mtb_status mtb_synth_lsd3c(const mtb_lsd3c_params *p, mtb_dataset *out, mtb_error *err)
{
    memset(out, 0, sizeof *out);
    if (p->n_train < 1 || p->n_train >= p->n_total)
        return mtb_fail(err, MTB_EINVAL, "lsd3c: n_train = %zu must be in [1, n_total = %zu)",
                        p->n_train, p->n_total);
    if (p->n_total > INT_MAX)
        return mtb_fail(err, MTB_EINVAL, "lsd3c: n_total = %zu exceeds %d", p->n_total, INT_MAX);
    const size_t N = p->n_total, ntr = p->n_train;
    mtb_mtr_params m;
    mtb_mtr_params_default(&m, MTB_LSD3C_T, p->seed);
    m.n_total = N;
    m.n_train = ntr;
    mtb_mtr_draws d;
    mtb_status st = mtb_mtr_draws_make(&m, "lsd3c", &d, err);
    if (st)
        return st;
    mtb_dataset ds;
    if ((st = mtb_dataset_alloc(&ds, MTB_LSD3C_T, m.d_in, MTB_LSD3C_Y_WIDTH, ntr, N - ntr, err))) {
        mtb_mtr_draws_free(&d);
        return st;
    }
    double *Z = malloc(N * (size_t)D_OUT * sizeof *Z);
    if (!Z) {
        st = mtb_fail(err, MTB_ENOMEM, "lsd3c: out of memory for %zu samples", N);
        goto done;
    }
    mtb_mtr_draws_store_x(&d, &ds);

    /* t1, clean: the largest of z_1[1..10] */
    mtb_mtr_draws_z(&d, 0, T1_CLASSES, Z);
    for (size_t r = 0; r < N; r++) {
        const double *z = Z + r * T1_CLASSES;
        int best = 0;
        for (int c = 1; c < T1_CLASSES; c++)
            if (z[c] > z[best])
                best = c;
        mtb_mtr_draws_y_row(&d, &ds, r)[MTB_LSD3C_CLEAN_T1] = (float)best;
    }
    ds.tasks[0] = (mtb_task_spec){.loss = MTB_LOSS_CE, .out_width = T1_CLASSES, .target_width = 1,
                                  .target_offset = COL_T1, .sigma = 1.0};
    /* t2, t3: sigma tanh(z) over the 100 outputs */
    for (int t = 1; t < 3; t++) {
        mtb_mtr_draws_z(&d, t, D_OUT, Z);
        for (size_t r = 0; r < N; r++) {
            float *y = mtb_mtr_draws_y_row(&d, &ds, r) + (size_t)(t - 1) * D_OUT;
            for (int c = 0; c < D_OUT; c++)
                y[c] = (float)(SIGMA[t - 1] * tanh(Z[r * D_OUT + (size_t)c]));
        }
        ds.tasks[t] = (mtb_task_spec){.loss = MTB_LOSS_L1, .out_width = D_OUT,
                                      .target_width = D_OUT, .target_offset = (t - 1) * D_OUT,
                                      .sigma = SIGMA[t - 1]};
    }
    /* the noise, last, from its own stream */
    mtb_rng noise;
    mtb_rng_seed(&noise, p->seed + 1, MTB_STREAM_DATA);
    for (size_t r = 0; r < N; r++) {
        float *y = mtb_mtr_draws_y_row(&d, &ds, r);
        int clean = (int)y[MTB_LSD3C_CLEAN_T1], label = clean;
        if (mtb_rng_uniform(&noise) < T1_NOISE) {
            int k = (int)mtb_rng_below(&noise, T1_CLASSES - 1);
            label = k < clean ? k : k + 1;
        }
        y[COL_T1] = (float)label;
    }
    snprintf(ds.name, sizeof ds.name, "lsd3c");
    ds.seed = p->seed;
    snprintf(ds.generator, sizeof ds.generator,
             "tasks=3,d_in=%d,d_out=%d,n_total=%zu,n_train=%zu,std_B=%g,std_eps=%g,std_x=%g,"
             "rng=xoshiro256**,stream=%d,losses=ce;l1;l1,sigma=1;20;3,t1_classes=%d,t1_noise=%g,"
             "noise_seed=seed+1,noise_stream=%d,clean_t1=%d",
             m.d_in, m.d_out, N, ntr, m.std_B, m.std_eps, m.std_x, (int)MTB_STREAM_DATA,
             T1_CLASSES, T1_NOISE, (int)MTB_STREAM_DATA, MTB_LSD3C_CLEAN_T1);
done:
    free(Z);
    mtb_mtr_draws_free(&d);
    if (st)
        mtb_dataset_free(&ds);
    else
        *out = ds;
    return st;
}
