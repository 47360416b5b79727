/* lsd_ce3.c: LSD-CE3 and LSD-CE3-sep, the Office-31-like problems of the DB-MTL spec
 * (dbmtl.md sec. 1), for training stability (D10), the alpha_k and beta ablations (D3, D4),
 * GLS vs log-only (D9) and the overall table (D12). Three classification tasks on one
 * MTRRegression input, with different loss floors:
 *
 *   z_t = (B + eps_t) x in R^100, t = 1..3, drawn exactly as mtr.c draws 3 tasks
 *   LSD-CE3:     task t's clean label argmax z_t[1..31] (31 classes, Office-31's count);
 *                label noise rates (0.0, 0.1, 0.3): a noisy label moves to one of the 30
 *                other classes, uniformly (three difficulty levels, three loss floors)
 *   LSD-CE3-sep: task 1 instead a 2-class task, label 1[z_1[1] > 0], no noise: linearly
 *                separable in x, so its loss keeps falling by orders of magnitude (the
 *                stress case of D10: grad log l_1 = grad l_1 / l_1 grows as l_1 -> 0);
 *                tasks 2 and 3 as in LSD-CE3.
 *
 * Label noise: a second stream (MTB_STREAM_DATA of seed + 1), per sample in order (train
 * rows, then test rows), tasks 1..3 within a sample: one uniform u per task (also for a
 * rate of 0, so that both variants consume the stream alike and their tasks 2 and 3 get
 * the same noise), and, only when u < rate, a second draw for the new class. The test
 * labels are noisy too (as LSD-6's, rlw.md sec. 2); the clean labels are stored beside them.
 * y (width 6): noisy labels of tasks 1..3 in columns 0..2, clean labels in columns 3..5. */
#include "mtb/synth.h"

#include <stdio.h>
#include <string.h>

#include "mtb/rng.h"
#include "synth_internal.h"

#define CLASSES 31                         /* Office-31 */
static const double NOISE[MTB_LSDCE3_T] = {0.0, 0.1, 0.3}; /* dbmtl.md sec. 1 */

void mtb_lsdce3_params_default(mtb_lsdce3_params *p, int sep, uint64_t seed)
{
    memset(p, 0, sizeof *p);
    p->sep = sep;
    p->seed = seed;
    p->n_total = 10000; /* MTR's size and split (SLAW spec sec. 1), as LSD-6 */
    p->n_train = 9000;
}

static mtb_status check_params(const mtb_lsdce3_params *p, mtb_error *err)
{
    if (p->sep != 0 && p->sep != 1)
        return mtb_fail(err, MTB_EINVAL, "lsd-ce3: sep = %d, expected 0 (LSD-CE3) or 1 "
                        "(LSD-CE3-sep)", p->sep);
    return mtb_synth_check_split("lsd-ce3", p->n_total, p->n_train, err);
}

mtb_status mtb_synth_lsdce3(const mtb_lsdce3_params *p, mtb_dataset *out, mtb_error *err)
{
    memset(out, 0, sizeof *out);
    mtb_status st = check_params(p, err);
    if (st)
        return st;
    const int T = MTB_LSDCE3_T;
    mtb_mtr_params m; /* "MTR generator": its defaults, 3 task matrices, this seed */
    mtb_synth_mtr_inputs(&m, T, p->seed, p->n_total, p->n_train);
    mtb_synth_build b; /* work: (N, CLASSES), the pre-activations z_t[1..31] */
    if ((st = mtb_synth_open(&b, &m, 2 * T, CLASSES, "lsd-ce3", err)))
        return st;

    /* Clean labels in columns 3..5: argmax z_t[1..31], or for -sep's task 1 1[z_1[1] > 0]. */
    int classes[MTB_LSDCE3_T];
    double rate[MTB_LSDCE3_T];
    for (int t = 0; t < T; t++) {
        int binary = p->sep && t == 0;
        classes[t] = binary ? 2 : CLASSES;
        rate[t] = binary ? 0.0 : NOISE[t];
        if (binary)
            mtb_synth_sign_labels(&b, t, 1, T + t);
        else
            mtb_synth_argmax_labels(&b, t, CLASSES, T + t);
        mtb_synth_task(&b.ds.tasks[t], MTB_LOSS_CE, classes[t], 1, t, 1.0);
    }
    /* The noise, last, from its own stream: sample by sample, train first, tasks 1..3; a
     * uniform for every task, rate 0 included (mtb_synth_relabel). */
    mtb_rng noise;
    mtb_synth_noise_stream(&noise, p->seed);
    for (size_t r = 0; r < b.d.n; r++) {
        float *y = mtb_synth_y_row(&b, r);
        for (int t = 0; t < T; t++)
            y[t] = (float)mtb_synth_relabel(&noise, (int)y[T + t], classes[t], rate[t]);
    }

    snprintf(b.ds.name, sizeof b.ds.name, p->sep ? "lsd-ce3-sep" : "lsd-ce3");
    b.ds.seed = p->seed;
    char in[MTB_SYNTH_INPUTS_DESC_LEN];
    snprintf(b.ds.generator, sizeof b.ds.generator,
             "tasks=%d,sep=%d,%s,classes=%d;%d;%d,noise=%g;%g;%g,"
             "label=argmax z_t[1..31]%s,noise_seed=seed+1,noise_stream=%d,clean=%d",
             T, p->sep, mtb_synth_inputs_desc(in, &m), classes[0], classes[1], classes[2],
             rate[0], rate[1], rate[2], p->sep ? " (task 1: 1[z_1[1]>0])" : "",
             (int)MTB_STREAM_DATA, T);
    mtb_synth_finish(&b, out);
    return MTB_OK;
}
