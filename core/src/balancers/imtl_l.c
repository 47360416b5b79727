/* imtl_l.c: IMTL-L, the loss balance of Liu et al., "Towards Impartial Multi-task
 * Learning", ICLR 2021, Sec. 3.2:
 *   L_t = e^{s_t} l_t - s_t                                          [Eq. 6]
 * (general form b a^{s} l - s, Eq. 5 with a = e, b = 1). Every parameter, heads and
 * trunk, is updated with L_t, so on raw-loss gradients w_t = e^{s_t}; the learnable
 * s_t gets dL_t/ds_t = e^{s_t} l_t - 1 (minimiser s* = -log l_t, Eq. 3).
 * Initial s is not stated in the paper; 0 (weights 1) as in LibMTL (hparam init). */
#include <math.h>
#include <stdlib.h>

#include "internal.h"

static const mtb_hparam_def imtl_l_hp[] = {
    {"init", MTB_HP_REAL, 0.0, -50.0, 50.0, NULL, "initial scale s (paper: unstated; LibMTL: 0)"},
    {"lr", MTB_HP_REAL, 0.0, 0.0, 10.0, NULL, "learning rate of s (0: the model's optimiser)"},
};

typedef struct imtl_l_state {
    double *s, *ds;
} imtl_l_state;

static mtb_status imtl_l_init(void *state, int T, size_t D_max, const mtb_hparams *hp,
                              mtb_balancer_setup *setup, mtb_error *err)
{
    (void)D_max;
    imtl_l_state *st = state;
    setup->need = MTB_NEED_LOSSES;
    mtb_status rc = mtb_bal_learnable(T, 0, hp->v[0], hp->v[1], setup, &st->s, "imtl_l", err);
    if (!rc)
        st->ds = st->s + T;
    return rc;
}

static mtb_status imtl_l_step(void *state, const mtb_balance_in *in, mtb_balance_out *out,
                              mtb_error *err)
{
    (void)err;
    imtl_l_state *st = state;
    for (int t = 0; t < in->T; t++) {
        double e = exp(st->s[t]);
        out->head_w[t] = out->trunk_w[t] = e;
        st->ds[t] = e * in->losses[t] - 1.0; /* d/ds (e^s l - s) */
    }
    return MTB_OK;
}

static void imtl_l_fini(void *state)
{
    free(((imtl_l_state *)state)->s);
}

const mtb_balancer_type mtb_balancer_imtl_l = {
    .name = "imtl_l",
    .summary = "IMTL-L loss balance: learnable scales, e^s l - s",
    .cite = "Liu et al., Towards Impartial Multi-task Learning, ICLR 2021 (Sec. 3.2, Eq. 6)",
    .hparams = imtl_l_hp,
    .n_hparams = 2,
    .state_size = sizeof(imtl_l_state),
    .init = imtl_l_init,
    .step = imtl_l_step,
    .fini = imtl_l_fini,
};
