/* imtl_l.c: IMTL-L, the loss balance of Liu et al., "Towards Impartial Multi-task
 * Learning", ICLR 2021, Sec. 3.2:
 *   L_t = e^{s_t} l_t - s_t                                          [Eq. 6]
 * (general form b a^{s} l - s, Eq. 5 with a = e, b = 1). Every parameter, heads and
 * trunk, is updated with L_t, so on raw-loss gradients w_t = e^{s_t}; the learnable
 * s_t gets dL_t/ds_t = e^{s_t} l_t - 1 (minimiser s* = -log l_t, Eq. 3).
 * Initial s is not stated in the paper; 0 (weights 1) as in LibMTL (hparam init).
 *
 * exact = true (an extra, dbmtl.md sec. 0 "imtl-l-exact"): s is not learnt but set to its
 * minimiser s_t = -log(l_t + eps) (detached) before every step, so the weight is
 * e^{s_t} = 1/(l_t + eps), the log transform's: DB-MTL's Proposition A.1 (log x =
 * min_s e^s x - s - 1) says the log transform is IMTL-L with s solved exactly. No learnable
 * is declared then (the caller's optimiser has nothing to move); `init` and `lr` are unused. */
#include <math.h>
#include <stdlib.h>

#include "internal.h"

enum { HP_INIT, HP_LR, HP_EXACT, HP_EPS, HP_N };

static const mtb_hparam_def imtl_l_hp[HP_N] = {
    {"init", MTB_HP_REAL, 0.0, -50.0, 50.0, NULL, "initial scale s (paper: unstated; LibMTL: 0)"},
    {"lr", MTB_HP_REAL, 0.0, 0.0, 10.0, NULL, "learning rate of s (0: the model's optimiser)"},
    {"exact", MTB_HP_BOOL, 0, 0, 1, NULL,
     "set s = -log(l + eps) before every step instead of learning it (DB-MTL Prop. A.1)"},
    {"eps", MTB_HP_REAL, 1e-8, 0.0, 1.0, NULL, "epsilon of exact's -log(l + eps) (DB-MTL: 1e-8)"},
};

typedef struct imtl_l_state {
    int exact;
    double eps;
    double *s, *ds; /* learnt: the caller's learnable values and their gradients; exact: T
                       values this method owns (ds unused) */
} imtl_l_state;

static mtb_status imtl_l_init(void *state, int T, size_t D_max, const mtb_hparams *hp,
                              mtb_balancer_setup *setup, mtb_error *err)
{
    (void)D_max;
    imtl_l_state *st = state;
    setup->need = MTB_NEED_LOSSES;
    st->exact = hp->v[HP_EXACT] != 0.0;
    st->eps = hp->v[HP_EPS];
    if (st->exact) {
        st->s = calloc((size_t)T, sizeof *st->s);
        if (!st->s)
            return mtb_fail(err, MTB_ENOMEM, "method imtl_l: cannot allocate %d scales", T);
        return MTB_OK;
    }
    mtb_status rc = mtb_bal_learnable(T, 0, hp->v[HP_INIT], hp->v[HP_LR], setup, &st->s,
                                      "imtl_l", err);
    if (!rc)
        st->ds = st->s + T;
    return rc;
}

static mtb_status imtl_l_step(void *state, const mtb_balance_in *in, mtb_balance_out *out,
                              mtb_error *err)
{
    imtl_l_state *st = state;
    if (st->exact)
        for (int t = 0; t < in->T; t++) {
            double x = in->losses[t] + st->eps;
            if (!(x > 0.0))
                return mtb_fail(err, MTB_EINVAL,
                                "method imtl_l (exact): loss %d is %g, so log(l + eps) is "
                                "undefined (exact needs losses > -eps)", t, in->losses[t]);
            st->s[t] = -log(x); /* the minimiser of e^s (l + eps) - s, Eq. 3 */
        }
    for (int t = 0; t < in->T; t++) {
        double e = exp(st->s[t]);
        out->head_w[t] = out->trunk_w[t] = e;
        if (!st->exact)
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
    .n_hparams = HP_N,
    .state_size = sizeof(imtl_l_state),
    .init = imtl_l_init,
    .step = imtl_l_step,
    .fini = imtl_l_fini,
};
