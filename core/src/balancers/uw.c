/* uw.c: Uncertainty Weighting. Kendall, Gal & Cipolla, "Multi-Task Learning Using
 * Uncertainty to Weigh Losses for Scene Geometry and Semantics", CVPR 2018 (regression
 * likelihood, Sec. 3.2), in the form the SLAW code uses for every task (spec 4.5):
 *   L = sum_t ( 1/2 e^{-s_t} l_t + 1/2 s_t ),   s_t = log sigma_t^2 learnable
 * so w_t = 1/2 e^{-s_t} (heads and trunk) and dL/ds_t = 1/2 - 1/2 e^{-s_t} l_t.
 * Initial s: -ln 2 (SLAW code: w = 1 at start). LibMTL's UW is the same formula written
 * l/(2 e^s) + s/2 with s initialised to -0.5 (w = 0.824): choose it with init=-0.5.
 * Neither code distinguishes classification tasks (Kendall's 1/sigma^2 form), nor does mtb.
 * s is exposed through the setup and updated by the caller's optimiser; weights are not
 * renormalised. A very negative s overflows e^{-s}: the driver then reports it. */
#include <math.h>
#include <stdlib.h>

#include "internal.h"

static const mtb_hparam_def uw_hp[] = {
    {"init", MTB_HP_REAL, -0.69314718055994531, -50.0, 50.0, NULL,
     "initial log-variance s (SLAW code: -ln 2 so w = 1; LibMTL: -0.5)"},
    {"lr", MTB_HP_REAL, 0.0, 0.0, 10.0, NULL,
     "learning rate of s (0: the model's optimiser, as in the SLAW code)"},
};

typedef struct uw_state {
    double *s, *ds;
} uw_state;

static mtb_status uw_init(void *state, int T, size_t D_max, const mtb_hparams *hp,
                          mtb_balancer_setup *setup, mtb_error *err)
{
    (void)D_max;
    uw_state *st = state;
    setup->need = MTB_NEED_LOSSES;
    mtb_status rc = mtb_bal_learnable(T, 0, hp->v[0], hp->v[1], setup, &st->s, "uw", err);
    if (!rc)
        st->ds = st->s + T;
    return rc;
}

static mtb_status uw_step(void *state, const mtb_balance_in *in, mtb_balance_out *out,
                          mtb_error *err)
{
    (void)err;
    uw_state *st = state;
    for (int t = 0; t < in->T; t++) {
        double w = 0.5 * exp(-st->s[t]);
        out->head_w[t] = out->trunk_w[t] = w;
        st->ds[t] = 0.5 - w * in->losses[t];
    }
    return MTB_OK;
}

static void uw_fini(void *state)
{
    free(((uw_state *)state)->s);
}

const mtb_balancer_type mtb_balancer_uw = {
    .name = "uw",
    .summary = "uncertainty weighting: learnable log-variances, 1/2 e^-s l + s/2",
    .cite = "Kendall, Gal & Cipolla, Multi-Task Learning Using Uncertainty to Weigh Losses for "
            "Scene Geometry and Semantics, CVPR 2018",
    .hparams = uw_hp,
    .n_hparams = 2,
    .state_size = sizeof(uw_state),
    .init = uw_init,
    .step = uw_step,
    .fini = uw_fini,
};
