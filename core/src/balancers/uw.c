/* uw.c: Uncertainty Weighting. Kendall, Gal & Cipolla, "Multi-Task Learning Using
 * Uncertainty to Weigh Losses for Scene Geometry and Semantics", CVPR 2018 (regression
 * likelihood, Sec. 3.2), in the form the SLAW code uses for every task (spec 4.5):
 *   L = sum_t ( 1/2 e^{-s_t} l_t + 1/2 s_t ),   s_t = log sigma_t^2 learnable
 * so w_t = 1/2 e^{-s_t} (heads and trunk) and dL/ds_t = 1/2 - 1/2 e^{-s_t} l_t.
 * Initial s: -ln 2 (SLAW code: w = 1 at start). LibMTL's UW is the same formula written
 * l/(2 e^s) + s/2 with s initialised to -0.5 (w = 0.824): choose it with init=-0.5.
 * Neither code distinguishes classification tasks (Kendall's 1/sigma^2 form), nor does mtb.
 * s is exposed through the setup and updated by the caller's optimiser; weights are not
 * renormalised. A very negative s overflows e^{-s}: the driver then reports it.
 *
 * form=kendall ("uw-kendall", spec imtl.md sec. 0): Kendall et al.'s per-loss-type forms
 * as the IMTL paper writes them (Liu et al., ICLR 2021, Sec. 4 and App. C.4), with
 * s = -log b (L1, Laplace), s = -log sigma (L2, Gaussian; CE, Eq. 8):
 *   L1  e^{s} l - s           w = e^{s},      dL/ds = e^{s} l - 1      (fixed point e^s l = 1)
 *   L2  1/2 (e^{s} l - s)     w = 1/2 e^{s},  dL/ds = 1/2 (e^{s} l - 1)
 *   CE  e^{2s} l - s          w = e^{2s},     dL/ds = 2 e^{2s} l - 1   (e^{2s} l = 1/2)
 * The balancer does not see the loss functions, so the task types are hyperparameters:
 * bit t of ce_mask / l1_mask marks task t as cross-entropy / L1 (every other task is L2);
 * masks address tasks 0..51 (exact integers in a double). Use init=0 with this form
 * (weights 1, 1/2, 1 at the start); the default init, -ln 2, belongs to the single form. */
#include <math.h>
#include <stdlib.h>

#include "internal.h"

static const mtb_hparam_def uw_hp[] = {
    {"init", MTB_HP_REAL, -0.69314718055994531, -50.0, 50.0, NULL,
     "initial log-variance s (SLAW code: -ln 2 so w = 1; LibMTL: -0.5)"},
    {"lr", MTB_HP_REAL, 0.0, 0.0, 10.0, NULL,
     "learning rate of s (0: the model's optimiser, as in the SLAW code)"},
    {"form", MTB_HP_CHOICE, 0, 0, 0, "single|kendall",
     "single = 1/2 e^-s l + s/2 for every task (SLAW code, LibMTL); kendall = per loss type, "
     "IMTL paper Sec. 4 / App. C.4 (uw-kendall)"},
    {"ce_mask", MTB_HP_INT, 0, 0, 4503599627370495.0, NULL,
     "form=kendall: bit t set = task t is cross-entropy (e^{2s} l - s)"},
    {"l1_mask", MTB_HP_INT, 0, 0, 4503599627370495.0, NULL,
     "form=kendall: bit t set = task t is L1 (e^{s} l - s); other tasks are L2"},
};
enum { UW_L2 = 0, UW_L1 = 1, UW_CE = 2 };

typedef struct uw_state {
    double *s, *ds;
    int kendall;
    unsigned char *type; /* (T) UW_* for form=kendall */
} uw_state;

static int mask_bit(double mask, int t)
{
    return t < 52 && ((unsigned long long)mask >> t) & 1ull;
}

static mtb_status uw_init(void *state, int T, size_t D_max, const mtb_hparams *hp,
                          mtb_balancer_setup *setup, mtb_error *err)
{
    (void)D_max;
    uw_state *st = state;
    setup->need = MTB_NEED_LOSSES;
    st->kendall = hp->v[2] == 1.0;
    double ce = hp->v[3], l1 = hp->v[4];
    if (T < 52 && (ce >= ldexp(1.0, T) || l1 >= ldexp(1.0, T)))
        return mtb_fail(err, MTB_EINVAL, "method uw: ce_mask/l1_mask name a task beyond the %d "
                        "tasks (bit t = task t, from 0)", T);
    for (int t = 0; t < 52; t++)
        if (mask_bit(ce, t) && mask_bit(l1, t))
            return mtb_fail(err, MTB_EINVAL, "method uw: task %d is in both ce_mask and l1_mask",
                            t);
    if (!st->kendall && (ce != 0.0 || l1 != 0.0))
        return mtb_fail(err, MTB_EINVAL, "method uw: ce_mask and l1_mask need form=kendall");
    if (st->kendall && T > 52 && (ce != 0.0 || l1 != 0.0))
        return mtb_fail(err, MTB_EINVAL, "method uw: form=kendall with masks addresses tasks "
                        "0..51 only (T = %d)", T);
    st->type = malloc((size_t)T);
    if (!st->type)
        return mtb_fail(err, MTB_ENOMEM, "method uw: cannot allocate %d task types", T);
    for (int t = 0; t < T; t++)
        st->type[t] = mask_bit(ce, t) ? UW_CE : mask_bit(l1, t) ? UW_L1 : UW_L2;
    mtb_status rc = mtb_bal_learnable(T, 0, hp->v[0], hp->v[1], setup, &st->s, "uw", err);
    if (!rc)
        st->ds = st->s + T;
    else {
        free(st->type);
        st->type = NULL;
    }
    return rc;
}

static mtb_status uw_step(void *state, const mtb_balance_in *in, mtb_balance_out *out,
                          mtb_error *err)
{
    (void)err;
    uw_state *st = state;
    for (int t = 0; t < in->T; t++) {
        double w, l = in->losses[t], s = st->s[t];
        if (!st->kendall) {
            w = 0.5 * exp(-s);
            st->ds[t] = 0.5 - w * l;
        } else if (st->type[t] == UW_L1) {
            w = exp(s);
            st->ds[t] = w * l - 1.0;
        } else if (st->type[t] == UW_CE) {
            w = exp(2.0 * s);
            st->ds[t] = 2.0 * w * l - 1.0;
        } else {
            w = 0.5 * exp(s);
            st->ds[t] = w * l - 0.5;
        }
        out->head_w[t] = out->trunk_w[t] = w;
    }
    return MTB_OK;
}

static void uw_fini(void *state)
{
    uw_state *st = state;
    free(st->s);
    free(st->type);
}

const mtb_balancer_type mtb_balancer_uw = {
    .name = "uw",
    .summary = "uncertainty weighting: learnable log-variances, 1/2 e^-s l + s/2 (or Kendall's "
               "per-loss-type forms, form=kendall)",
    .cite = "Kendall, Gal & Cipolla, Multi-Task Learning Using Uncertainty to Weigh Losses for "
            "Scene Geometry and Semantics, CVPR 2018",
    .hparams = uw_hp,
    .n_hparams = 5,
    .state_size = sizeof(uw_state),
    .init = uw_init,
    .step = uw_step,
    .fini = uw_fini,
};
