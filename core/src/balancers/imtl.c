/* imtl.c: IMTL, the hybrid of IMTL-L and IMTL-G. Liu et al., "Towards Impartial
 * Multi-task Learning", ICLR 2021, Sec. 3.3 and Algorithm 1:
 *   scaled losses L_t = e^{s_t} l_t - s_t                  [Alg. 1 l. 5, Eq. 6]
 *   h_t = grad (e^{s_t} l_t) = e^{s_t} g_t                 [Alg. 1 l. 6; -s_t is constant in theta]
 *   alpha = IMTL-G(h_1..h_T)                               [Alg. 1 l. 9-12, Eq. 2]
 *   shared:  grad sum_t alpha_t e^{s_t} l_t                [Alg. 1 l. 13]
 *   heads:   grad L_t, i.e. weight e^{s_t}                 [Alg. 1 l. 15]
 *   s_t:     dL_t/ds_t = e^{s_t} l_t - 1                   [Alg. 1 l. 16]
 * So on raw-loss gradients trunk_w_t = alpha_t e^{s_t}, head_w_t = e^{s_t}. The Gram
 * matrix of the h_t is e^{s_a + s_b} (G G^T)_ab, so one dgemm on G suffices. IMTL-G's
 * solver and its degenerate-input handling are in imtl_g.c.
 * level=rep (paper: gradients w.r.t. the shared feature z) or level=param (LibMTL's
 * rep_grad=False). s starts at 0 (LibMTL; the paper does not say), hparam init.
 * LibMTL's IMTL is this hybrid with level=param. */
#include <math.h>
#include <stdlib.h>

#include "internal.h"

static const mtb_hparam_def imtl_hp[] = {
    {"level", MTB_HP_CHOICE, 0, 0, 0, "rep|param",
     "gradients w.r.t. the shared representation (paper) or shared parameters (LibMTL)"},
    {"init", MTB_HP_REAL, 0.0, -50.0, 50.0, NULL, "initial scale s (paper: unstated; LibMTL: 0)"},
    {"lr", MTB_HP_REAL, 0.0, 0.0, 10.0, NULL, "learning rate of s (0: the model's optimiser)"},
    {"scale", MTB_HP_CHOICE, 0, 0, 0, "one|T", "alpha sums to 1 (paper) or to T"},
};

typedef struct imtl_state {
    mtb_imtl_ws ws;
    double scale;
    double *s, *ds, *e;
} imtl_state;

static mtb_status imtl_init(void *state, int T, size_t D_max, const mtb_hparams *hp,
                            mtb_balancer_setup *setup, mtb_error *err)
{
    (void)D_max;
    imtl_state *st = state;
    setup->need = hp->v[0] == 1.0 ? MTB_NEED_PARAM_GRADS : MTB_NEED_REP_GRADS;
    setup->scope = MTB_SCOPE_ALL;
    st->scale = hp->v[3] == 1.0 ? T : 1.0;
    mtb_status rc = mtb_bal_learnable(T, 1, hp->v[1], hp->v[2], setup, &st->s, "imtl", err);
    if (rc)
        return rc;
    st->ds = st->s + T;
    st->e = st->ds + T;
    return mtb_imtl_ws_init(&st->ws, T, "imtl", err);
}

static mtb_status imtl_step(void *state, const mtb_balance_in *in, mtb_balance_out *out,
                            mtb_error *err)
{
    imtl_state *st = state;
    int T = in->T;
    for (int t = 0; t < T; t++) {
        st->e[t] = exp(st->s[t]);
        if (!isfinite(st->e[t]))
            return mtb_fail(err, MTB_ENUMERIC, "method imtl: scale s[%d] = %g overflows e^s", t,
                            st->s[t]);
    }
    mtb_bal_gram(in->G, T, in->D, st->ws.M);
    for (int a = 0; a < T; a++)
        for (int b = 0; b < T; b++)
            st->ws.M[(size_t)a * T + b] *= st->e[a] * st->e[b];
    mtb_imtl_g_solve(&st->ws, out->trunk_w);
    for (int t = 0; t < T; t++) {
        out->trunk_w[t] *= st->scale * st->e[t];
        out->head_w[t] = st->e[t];
        st->ds[t] = st->e[t] * in->losses[t] - 1.0;
    }
    return MTB_OK;
}

static void imtl_fini(void *state)
{
    imtl_state *st = state;
    mtb_imtl_ws_free(&st->ws);
    free(st->s);
}

const mtb_balancer_type mtb_balancer_imtl = {
    .name = "imtl",
    .summary = "IMTL hybrid: IMTL-L scales on the losses, IMTL-G weights on the trunk",
    .cite = "Liu et al., Towards Impartial Multi-task Learning, ICLR 2021 (Sec. 3.3, Algorithm 1)",
    .hparams = imtl_hp,
    .n_hparams = 4,
    .state_size = sizeof(imtl_state),
    .init = imtl_init,
    .step = imtl_step,
    .fini = imtl_fini,
};
