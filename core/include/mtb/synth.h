/* synth.h: synthetic multi-task problems with known structure. */
#ifndef MTB_SYNTH_H
#define MTB_SYNTH_H

#include <stdint.h>

#include "mtb/dataset.h"

/* MTRRegression (GradNorm's toy, SLAW Eq. 15; ../shared/specs/mtrregression-and-slaw.md sec. 1):
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

#endif
