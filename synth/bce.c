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
#include <stdlib.h>
#include <string.h>

#include "mtb/rng.h"
#include "mtr_draws.h"

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
    if (p->n_train < 1 || p->n_train >= p->n_total)
        return mtb_fail(err, MTB_EINVAL, "bce: n_train = %zu must be in [1, n_total = %zu) so "
                        "that both splits have samples", p->n_train, p->n_total);
    if (p->n_total > INT_MAX) /* BLAS takes the row count as an int */
        return mtb_fail(err, MTB_EINVAL, "bce: n_total = %zu exceeds %d", p->n_total, INT_MAX);
    return MTB_OK;
}

/* The shortest of %.15g / %.17g that reads back as v: "0.05", not "0.050000000000000003". */
static const char *num(char buf[32], double v)
{
    snprintf(buf, 32, "%.15g", v);
    if (strtod(buf, NULL) != v)
        snprintf(buf, 32, "%.17g", v);
    return buf;
}

mtb_status mtb_synth_bce(const mtb_bce_params *p, mtb_dataset *out, mtb_error *err)
{
    memset(out, 0, sizeof *out);
    mtb_status st = check_params(p, err);
    if (st)
        return st;
    const int T = p->T;
    const size_t N = p->n_total, ntr = p->n_train;

    mtb_mtr_params m; /* "same inputs": MTR's defaults, T task matrices, this seed */
    mtb_mtr_params_default(&m, T, p->seed);
    m.n_total = N;
    m.n_train = ntr;
    mtb_mtr_draws d;
    if ((st = mtb_mtr_draws_make(&m, "bce", &d, err)))
        return st;
    mtb_dataset ds;
    if ((st = mtb_dataset_alloc(&ds, T, m.d_in, 2 * T, ntr, N - ntr, err))) {
        mtb_mtr_draws_free(&d);
        return st;
    }
    double *z = malloc(N * sizeof *z); /* (N, 1): z_t[1] of every sample */
    if (!z) {
        st = mtb_fail(err, MTB_ENOMEM, "bce: out of memory for %zu samples", N);
        goto done;
    }
    mtb_mtr_draws_store_x(&d, &ds);

    for (int t = 0; t < T; t++) {
        mtb_mtr_draws_z(&d, t, 1, z); /* only the first row of B + eps_t is needed */
        for (size_t r = 0; r < N; r++)
            mtb_mtr_draws_y_row(&d, &ds, r)[T + t] = z[r] > 0.0 ? 1.0f : 0.0f;
        mtb_task_spec *k = &ds.tasks[t];
        k->loss = MTB_LOSS_BCE;
        k->out_width = 1;
        k->target_width = 1;
        k->target_offset = t;
        k->sigma = 1.0;
        k->n_class_weights = 0;
    }

    /* seed + 1 wraps at 2^64 - 1 (unsigned arithmetic): still a valid, distinct seed. */
    mtb_rng noise;
    mtb_rng_seed(&noise, p->seed + 1, MTB_STREAM_DATA);
    for (size_t r = 0; r < N; r++) {
        float *y = mtb_mtr_draws_y_row(&d, &ds, r);
        for (int t = 0; t < T; t++)
            y[t] = mtb_rng_uniform(&noise) < p->flip ? 1.0f - y[T + t] : y[T + t];
    }

    snprintf(ds.name, sizeof ds.name, "bce");
    ds.seed = p->seed;
    char b[4][32];
    snprintf(ds.generator, sizeof ds.generator,
             "tasks=%d,d_in=%d,d_out=%d,n_total=%zu,n_train=%zu,std_B=%s,std_eps=%s,std_x=%s,"
             "rng=xoshiro256**,stream=%d,label=1[z_t[1]>0],flip=%s,noise_seed=seed+1,"
             "noise_stream=%d,clean=%d",
             T, m.d_in, m.d_out, N, ntr, num(b[0], m.std_B), num(b[1], m.std_eps),
             num(b[2], m.std_x), (int)MTB_STREAM_DATA, num(b[3], p->flip), (int)MTB_STREAM_DATA,
             T);
done:
    free(z);
    mtb_mtr_draws_free(&d);
    if (st)
        mtb_dataset_free(&ds);
    else
        *out = ds;
    return st;
}
