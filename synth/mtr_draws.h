/* mtr_draws.h: the random part of MTRRegression, private to synth/. mtr.c, lsd6.c, bce.c,
 * lsd3c.c and lsd_ce3.c all build on it (through synth_internal.h), so for one seed and one
 * task count they see the same inputs x and the same task matrices B + eps_t. LSD-6 (rlw.md
 * sec. 2), BCE-T (rlw.md R6), LSD-3C (imtl.md sec. 1) and LSD-CE3 (dbmtl.md sec. 1) are
 * defined as "the MTR generator" with other targets, and sharing the draws makes that true.
 * Draw order (mtrregression-and-slaw.md sec. 1): B, eps_1..eps_T, train x, test x, all from
 * MTB_STREAM_DATA of the seed. */
#ifndef MTB_SYNTH_MTR_DRAWS_H
#define MTB_SYNTH_MTR_DRAWS_H

#include "mtb/dataset.h"
#include "mtb/synth.h"

typedef struct mtb_mtr_draws {
    int T, d_in, d_out;
    size_t n, n_train;  /* n samples: the n_train training rows, then the test rows */
    double *W;          /* T x (d_out, d_in): W_t = B + eps_t; B itself is not kept */
    double *X;          /* (n, d_in) */
} mtb_mtr_draws;

/* Draws everything for p->T tasks (p->sigma is not read). The caller has validated p
 * (T, d_in, d_out >= 1, 1 <= n_train < n_total <= INT_MAX, stds finite and > 0); this only
 * refuses sizes whose byte counts overflow, and names itself as `who` in messages. */
mtb_status mtb_mtr_draws_make(const mtb_mtr_params *p, const char *who, mtb_mtr_draws *d,
                              mtb_error *err);

/* Z = X W_t[0..rows)^T, i.e. the first `rows` pre-activations z_t of every sample:
 * Z is (n, rows), row-major; 1 <= rows <= d_out, 0 <= t < T. */
void mtb_mtr_draws_z(const mtb_mtr_draws *d, int t, int rows, double *Z);

/* ds->train.x and ds->test.x from X, rounded to float32; ds must have d's sizes. */
void mtb_mtr_draws_store_x(const mtb_mtr_draws *d, mtb_dataset *ds);

/* The row of y for sample r (train rows first, then test). */
float *mtb_mtr_draws_y_row(const mtb_mtr_draws *d, mtb_dataset *ds, size_t r);

void mtb_mtr_draws_free(mtb_mtr_draws *d); /* safe on a zeroed struct */

#endif
