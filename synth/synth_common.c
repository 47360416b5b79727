/* synth_common.c: the steps shared by the generators built on MTRRegression's draws
 * (synth_internal.h says which generator uses which, and why they live in one place).
 * Nothing here draws a random number except mtb_synth_open (through mtb_mtr_draws_make)
 * and the two noise helpers, which draw exactly what their comments say, in that order. */
#include "synth_internal.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

mtb_status mtb_synth_check_split(const char *who, size_t n_total, size_t n_train,
                                 mtb_error *err)
{
    if (n_train < 1 || n_train >= n_total)
        return mtb_fail(err, MTB_EINVAL, "%s: n_train = %zu must be in [1, n_total = %zu) so "
                        "that both splits have samples", who, n_train, n_total);
    if (n_total > INT_MAX) /* BLAS takes the row count as an int */
        return mtb_fail(err, MTB_EINVAL, "%s: n_total = %zu exceeds %d", who, n_total, INT_MAX);
    return MTB_OK;
}

void mtb_synth_mtr_inputs(mtb_mtr_params *m, int T, uint64_t seed, size_t n_total,
                          size_t n_train)
{
    mtb_mtr_params_default(m, T, seed);
    m->n_total = n_total;
    m->n_train = n_train;
}

/* ---- step 1 ----------------------------------------------------------------------------- */

mtb_status mtb_synth_open(mtb_synth_build *b, const mtb_mtr_params *m, int y_width,
                          int z_rows, const char *who, mtb_error *err)
{
    memset(b, 0, sizeof *b);
    b->m = *m;
    b->z_rows = z_rows;
    const size_t N = m->n_total, ntr = m->n_train;
    mtb_status st = mtb_mtr_draws_make(m, who, &b->d, err);
    if (st)
        return st;
    if ((st = mtb_dataset_alloc(&b->ds, m->T, m->d_in, y_width, ntr, N - ntr, err))) {
        mtb_mtr_draws_free(&b->d);
        return st;
    }
    /* N * z_rows cannot overflow: the draws already hold N * max(d_in, d_out) doubles. */
    b->Z = malloc(N * (size_t)z_rows * sizeof *b->Z);
    if (!b->Z) {
        mtb_mtr_draws_free(&b->d);
        mtb_dataset_free(&b->ds);
        return mtb_fail(err, MTB_ENOMEM, "%s: out of memory for %zu samples", who, N);
    }
    mtb_mtr_draws_store_x(&b->d, &b->ds);
    return MTB_OK;
}

void mtb_synth_finish(mtb_synth_build *b, mtb_dataset *out)
{
    free(b->Z);
    mtb_mtr_draws_free(&b->d);
    *out = b->ds;
    memset(b, 0, sizeof *b);
}

/* ---- step 2 ----------------------------------------------------------------------------- */

void mtb_synth_tanh_targets(mtb_synth_build *b, int t, double sigma, int col)
{
    const int rows = b->d.d_out;
    mtb_mtr_draws_z(&b->d, t, rows, b->Z);
    for (size_t r = 0; r < b->d.n; r++) {
        float *y = mtb_synth_y_row(b, r) + col;
        const double *z = b->Z + r * (size_t)rows;
        for (int c = 0; c < rows; c++)
            y[c] = (float)(sigma * tanh(z[c]));
    }
}

void mtb_synth_argmax_labels(mtb_synth_build *b, int t, int classes, int col)
{
    mtb_mtr_draws_z(&b->d, t, classes, b->Z);
    for (size_t r = 0; r < b->d.n; r++) {
        const double *z = b->Z + r * (size_t)classes;
        int best = 0;
        for (int c = 1; c < classes; c++)
            if (z[c] > z[best])
                best = c;
        mtb_synth_y_row(b, r)[col] = (float)best;
    }
}

void mtb_synth_sign_labels(mtb_synth_build *b, int t, int bits, int col)
{
    mtb_mtr_draws_z(&b->d, t, bits, b->Z);
    for (size_t r = 0; r < b->d.n; r++) {
        float *y = mtb_synth_y_row(b, r) + col;
        const double *z = b->Z + r * (size_t)bits;
        for (int j = 0; j < bits; j++)
            y[j] = z[j] > 0.0 ? 1.0f : 0.0f;
    }
}

/* ---- step 3 ----------------------------------------------------------------------------- */

void mtb_synth_noise_stream(mtb_rng *rng, uint64_t seed)
{
    mtb_rng_seed(rng, seed + 1, MTB_STREAM_DATA);
}

int mtb_synth_relabel(mtb_rng *rng, int clean, int classes, double rate)
{
    if (!(mtb_rng_uniform(rng) < rate))
        return clean;
    /* "one of the other classes drawn uniformly": a uniform index over the classes with the
     * clean one removed. */
    int k = (int)mtb_rng_below(rng, (uint64_t)(classes - 1));
    return k < clean ? k : k + 1;
}

float mtb_synth_flip(mtb_rng *rng, float bit, double p)
{
    return mtb_rng_uniform(rng) < p ? 1.0f - bit : bit;
}

/* ---- step 4 ----------------------------------------------------------------------------- */

void mtb_synth_task(mtb_task_spec *k, mtb_loss_kind loss, int out_width, int target_width,
                    int offset, double sigma)
{
    k->loss = loss;
    k->out_width = out_width;
    k->target_width = target_width;
    k->target_offset = offset;
    k->sigma = sigma;
    k->n_class_weights = 0;
}

const char *mtb_synth_num(char buf[32], double v)
{
    snprintf(buf, 32, "%.15g", v);
    if (strtod(buf, NULL) != v)
        snprintf(buf, 32, "%.17g", v);
    return buf;
}

const char *mtb_synth_inputs_desc(char buf[MTB_SYNTH_INPUTS_DESC_LEN], const mtb_mtr_params *m)
{
    char b[3][32];
    snprintf(buf, MTB_SYNTH_INPUTS_DESC_LEN,
             "d_in=%d,d_out=%d,n_total=%zu,n_train=%zu,std_B=%s,std_eps=%s,std_x=%s,"
             "rng=xoshiro256**,stream=%d",
             m->d_in, m->d_out, m->n_total, m->n_train, mtb_synth_num(b[0], m->std_B),
             mtb_synth_num(b[1], m->std_eps), mtb_synth_num(b[2], m->std_x),
             (int)MTB_STREAM_DATA);
    return buf;
}
