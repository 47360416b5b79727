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

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mtb/rng.h"
#include "mtr_draws.h"

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
    if (p->n_train < 1 || p->n_train >= p->n_total)
        return mtb_fail(err, MTB_EINVAL, "lsd-ce3: n_train = %zu must be in [1, n_total = %zu) "
                        "so that both splits have samples", p->n_train, p->n_total);
    if (p->n_total > INT_MAX) /* BLAS takes the row count as an int */
        return mtb_fail(err, MTB_EINVAL, "lsd-ce3: n_total = %zu exceeds %d", p->n_total,
                        INT_MAX);
    return MTB_OK;
}

/* The class of the largest of z[0..n) (the first on a tie, probability 0). */
static int argmax(const double *z, int n)
{
    int best = 0;
    for (int c = 1; c < n; c++)
        if (z[c] > z[best])
            best = c;
    return best;
}

mtb_status mtb_synth_lsdce3(const mtb_lsdce3_params *p, mtb_dataset *out, mtb_error *err)
{
    memset(out, 0, sizeof *out);
    mtb_status st = check_params(p, err);
    if (st)
        return st;
    const int T = MTB_LSDCE3_T;
    const size_t N = p->n_total, ntr = p->n_train;
    mtb_mtr_params m; /* "MTR generator": its defaults, 3 task matrices, this seed */
    mtb_mtr_params_default(&m, T, p->seed);
    m.n_total = N;
    m.n_train = ntr;
    mtb_mtr_draws d;
    if ((st = mtb_mtr_draws_make(&m, "lsd-ce3", &d, err)))
        return st;
    mtb_dataset ds;
    if ((st = mtb_dataset_alloc(&ds, T, m.d_in, 2 * T, ntr, N - ntr, err))) {
        mtb_mtr_draws_free(&d);
        return st;
    }
    double *Z = malloc(N * (size_t)CLASSES * sizeof *Z);
    if (!Z) {
        st = mtb_fail(err, MTB_ENOMEM, "lsd-ce3: out of memory for %zu samples", N);
        goto done;
    }
    mtb_mtr_draws_store_x(&d, &ds);
    int classes[MTB_LSDCE3_T];
    for (int t = 0; t < T; t++) {
        int binary = p->sep && t == 0;
        classes[t] = binary ? 2 : CLASSES;
        mtb_mtr_draws_z(&d, t, binary ? 1 : CLASSES, Z);
        for (size_t r = 0; r < N; r++) {
            int label = binary ? Z[r] > 0.0 : argmax(Z + r * CLASSES, CLASSES);
            mtb_mtr_draws_y_row(&d, &ds, r)[T + t] = (float)label;
        }
        mtb_task_spec *k = &ds.tasks[t];
        k->loss = MTB_LOSS_CE;
        k->out_width = classes[t];
        k->target_width = 1;
        k->target_offset = t;
        k->sigma = 1.0;
        k->n_class_weights = 0;
    }
    /* seed + 1 wraps at 2^64 - 1 (unsigned arithmetic): still a valid, distinct seed */
    mtb_rng noise;
    mtb_rng_seed(&noise, p->seed + 1, MTB_STREAM_DATA);
    for (size_t r = 0; r < N; r++) {
        float *y = mtb_mtr_draws_y_row(&d, &ds, r);
        for (int t = 0; t < T; t++) {
            int clean = (int)y[T + t], label = clean;
            double rate = p->sep && t == 0 ? 0.0 : NOISE[t];
            if (mtb_rng_uniform(&noise) < rate) {
                int k = (int)mtb_rng_below(&noise, (uint64_t)(classes[t] - 1));
                label = k < clean ? k : k + 1;
            }
            y[t] = (float)label;
        }
    }
    snprintf(ds.name, sizeof ds.name, p->sep ? "lsd-ce3-sep" : "lsd-ce3");
    ds.seed = p->seed;
    snprintf(ds.generator, sizeof ds.generator,
             "tasks=%d,sep=%d,d_in=%d,d_out=%d,n_total=%zu,n_train=%zu,std_B=%g,std_eps=%g,"
             "std_x=%g,rng=xoshiro256**,stream=%d,classes=%d;%d;%d,noise=%g;%g;%g,"
             "label=argmax z_t[1..31]%s,noise_seed=seed+1,noise_stream=%d,clean=%d",
             T, p->sep, m.d_in, m.d_out, N, ntr, m.std_B, m.std_eps, m.std_x,
             (int)MTB_STREAM_DATA, classes[0], classes[1], classes[2], p->sep ? 0.0 : NOISE[0],
             NOISE[1], NOISE[2], p->sep ? " (task 1: 1[z_1[1]>0])" : "", (int)MTB_STREAM_DATA, T);
done:
    free(Z);
    mtb_mtr_draws_free(&d);
    if (st)
        mtb_dataset_free(&ds);
    else
        *out = ds;
    return st;
}
