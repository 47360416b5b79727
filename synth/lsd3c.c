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

#include <stdio.h>
#include <string.h>

#include "mtb/rng.h"
#include "synth_internal.h"

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
    mtb_status st = mtb_synth_check_split("lsd3c", p->n_total, p->n_train, err);
    if (st)
        return st;
    /* "MTR generator and network, T = 3" (imtl.md sec. 1): MTR's defaults, 3 task matrices. */
    mtb_mtr_params m;
    mtb_synth_mtr_inputs(&m, MTB_LSD3C_T, p->seed, p->n_total, p->n_train);
    mtb_synth_build b; /* work: (N, rows of the task), at most D_OUT */
    if ((st = mtb_synth_open(&b, &m, MTB_LSD3C_Y_WIDTH, D_OUT, "lsd3c", err)))
        return st;

    /* t1, clean: the largest of z_1[1..10] */
    mtb_synth_argmax_labels(&b, 0, T1_CLASSES, MTB_LSD3C_CLEAN_T1);
    mtb_synth_task(&b.ds.tasks[0], MTB_LOSS_CE, T1_CLASSES, 1, COL_T1, 1.0);
    /* t2, t3: sigma tanh(z) over the 100 outputs, in columns 0..99 and 100..199 */
    for (int t = 1; t < 3; t++) {
        mtb_synth_tanh_targets(&b, t, SIGMA[t - 1], (t - 1) * D_OUT);
        mtb_synth_task(&b.ds.tasks[t], MTB_LOSS_L1, D_OUT, D_OUT, (t - 1) * D_OUT, SIGMA[t - 1]);
    }
    /* the noise, last, from its own stream: t1's label, sample by sample, train first */
    mtb_rng noise;
    mtb_synth_noise_stream(&noise, p->seed);
    for (size_t r = 0; r < b.d.n; r++) {
        float *y = mtb_synth_y_row(&b, r);
        y[COL_T1] = (float)mtb_synth_relabel(&noise, (int)y[MTB_LSD3C_CLEAN_T1], T1_CLASSES,
                                             T1_NOISE);
    }

    snprintf(b.ds.name, sizeof b.ds.name, "lsd3c");
    b.ds.seed = p->seed;
    char in[MTB_SYNTH_INPUTS_DESC_LEN];
    snprintf(b.ds.generator, sizeof b.ds.generator,
             "tasks=3,%s,losses=ce;l1;l1,sigma=1;20;3,t1_classes=%d,t1_noise=%g,"
             "noise_seed=seed+1,noise_stream=%d,clean_t1=%d",
             mtb_synth_inputs_desc(in, &m), T1_CLASSES, T1_NOISE, (int)MTB_STREAM_DATA,
             MTB_LSD3C_CLEAN_T1);
    mtb_synth_finish(&b, out);
    return MTB_OK;
}
