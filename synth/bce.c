/* bce.c: BCE-T, the CelebA-like problem of spec rlw.md, experiment R6(b): "same
 * inputs [as MTR-hom-T], task t label 1[z_t[1] > 0] with 5% flips, one-logit BCE head,
 * metric accuracy". T binary tasks whose labels are correlated through the shared B, as
 * CelebA's 40 attributes are through the face.
 *
 *   z_t = (B + eps_t) x, drawn exactly as mtr.c draws T tasks: for one seed and T the
 *         inputs x are MTR's, byte for byte, and so is the sign of MTR's first output
 *   label_t = 1[z_t[1] > 0]   (z_t[1]: the first of the 100 pre-activations)
 *   noisy_t = 1 - label_t with probability flip (0.05), else label_t
 *
 * The flips come from a second stream (MTB_STREAM_DATA of seed + 1), as LSD-6's label noise
 * does (rlw.md sec. 2), per sample in order (train rows, then test rows), task 1..T within
 * a sample. The spec reports accuracy against the (noisy) labels; the clean labels are
 * stored beside them (columns T..2T-1), read by no loss, so both accuracies are at hand. */
#include "mtb/synth.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "synth_internal.h"

void mtb_bce_params_default(mtb_bce_params *p, int T, uint64_t seed)
{
    memset(p, 0, sizeof *p);
    p->T = T;
    p->flip = 0.05;     /* R6: "5% flips" */
    p->seed = seed;
    p->n_total = 10000; /* MTR's size and split (SLAW spec sec. 1) */
    p->n_train = 9000;
}

static mtb_status check_params(const mtb_bce_params *p, mtb_error *err)
{
    if (p->T < 1 || p->T > INT_MAX / 2)
        return mtb_fail(err, MTB_EINVAL, "bce: tasks must be in [1, %d], got %d", INT_MAX / 2,
                        p->T);
    if (!isfinite(p->flip) || p->flip < 0.0 || p->flip > 1.0)
        return mtb_fail(err, MTB_EINVAL, "bce: flip = %g, a flip probability must be in [0, 1]",
                        p->flip);
    return mtb_synth_check_split("bce", p->n_total, p->n_train, err);
}

mtb_status mtb_synth_bce(const mtb_bce_params *p, mtb_dataset *out, mtb_error *err)
{
    memset(out, 0, sizeof *out);
    mtb_status st = check_params(p, err);
    if (st)
        return st;
    const int T = p->T;

    /* "Same inputs": MTR's defaults, T task matrices, this seed; only the first row of each
     * B + eps_t is needed, so the work matrix holds one pre-activation per sample. */
    mtb_mtr_params m;
    mtb_synth_mtr_inputs(&m, T, p->seed, p->n_total, p->n_train);
    mtb_synth_build b;
    if ((st = mtb_synth_open(&b, &m, 2 * T, 1, "bce", err)))
        return st;

    /* Clean labels 1[z_t[1] > 0] in columns T..2T-1, one-logit BCE heads on columns 0..T-1. */
    for (int t = 0; t < T; t++) {
        mtb_synth_sign_labels(&b, t, 1, T + t);
        mtb_synth_task(&b.ds.tasks[t], MTB_LOSS_BCE, 1, 1, t, 1.0);
    }

    /* The flips, last, from their own stream: sample by sample, train first, task 1..T. */
    mtb_rng noise;
    mtb_synth_noise_stream(&noise, p->seed);
    for (size_t r = 0; r < b.d.n; r++) {
        float *y = mtb_synth_y_row(&b, r);
        for (int t = 0; t < T; t++)
            y[t] = mtb_synth_flip(&noise, y[T + t], p->flip);
    }

    snprintf(b.ds.name, sizeof b.ds.name, "bce");
    b.ds.seed = p->seed;
    char in[MTB_SYNTH_INPUTS_DESC_LEN], f[32];
    snprintf(b.ds.generator, sizeof b.ds.generator,
             "tasks=%d,%s,label=1[z_t[1]>0],flip=%s,noise_seed=seed+1,noise_stream=%d,clean=%d",
             T, mtb_synth_inputs_desc(in, &m), mtb_synth_num(f, p->flip), (int)MTB_STREAM_DATA,
             T);
    mtb_synth_finish(&b, out);
    return MTB_OK;
}
