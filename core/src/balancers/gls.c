/* gls.c: Geometric Loss Strategy. Chennupati et al., "MultiNet++: Multi-Stream Feature
 * Aggregation and Geometric Loss Strategy for Multi-Task Learning", CVPRW 2019; as used
 * as a baseline in DB-MTL (Lin et al., Table 1).
 *   L = (prod_t l_t)^(1/T)                                 [MultiNet++, geometric loss]
 * Its gradient on raw-loss gradients gives the weights
 *   w_t = dL/dl_t = (prod_s l_s)^(1/T) / (T l_t)
 * for heads and trunk alike. Computed in the log domain, exp(mean_s log l_s - log l_t)/T,
 * so T = 1024 or losses 1e8 apart cannot overflow the product.
 * Deviation: losses are floored at eps (hparam, default 1e-8) so that a zero loss
 * gives finite weights (its exact derivative is infinite for T >= 2).
 * LibMTL: same gradient; the vector LibMTL *returns* is l_t/(T prod l), not the
 * applied coefficients (mtb golden maps it).
 *
 * product=float32 ("gls-naive", spec imtl.md I7 iv): the product as a float32 framework
 * computes it, P = prod_t l_t in float (left to right), Lbar = P^(1/T), and its autograd
 * derivative dLbar/dl_t = (1/T) P^(1/T - 1) (P / l_t), all in float. Kept to show why GLS
 * "has difficulty in converging" with many tasks (IMTL paper Sec. 4, CelebA T = 40): the
 * product underflows to 0 (or a subnormal), and 0^(1/T - 1) * 0 is NaN. The driver turns
 * the NaN weights into MTB_ENUMERIC ("non-finite output"): a documented failure, never a
 * silent NaN. The default, product=log, never fails this way (erratum I-E3). */
#include <math.h>

#include "mtb/balancer.h"

static const mtb_hparam_def gls_hp[] = {
    {"eps", MTB_HP_REAL, 1e-8, 0.0, 1.0, NULL,
     "floor on each loss before the geometric mean (mtb's guard against l = 0)"},
    {"product", MTB_HP_CHOICE, 0, 0, 0, "log|float32",
     "log = exp(mean log l) (mtb); float32 = the naive float product and its autograd "
     "derivative (gls-naive, IMTL paper Sec. 4: fails for many tasks)"},
};

typedef struct gls_state {
    double eps;
    int naive;
} gls_state;

/* product=float32: the weights a float32 autograd computes for (prod l)^(1/T). */
static void naive_weights(const double *losses, int T, double eps, double *w)
{
    float P = 1.0f;
    for (int t = 0; t < T; t++)
        P *= (float)fmax(losses[t], eps);
    float e = 1.0f / (float)T;
    float outer = e * powf(P, e - 1.0f);
    for (int t = 0; t < T; t++)
        w[t] = (double)(outer * (P / (float)fmax(losses[t], eps)));
}

static mtb_status gls_init(void *state, int T, size_t D_max, const mtb_hparams *hp,
                           mtb_balancer_setup *setup, mtb_error *err)
{
    (void)T, (void)D_max, (void)err;
    ((gls_state *)state)->eps = hp->v[0];
    ((gls_state *)state)->naive = hp->v[1] == 1.0;
    setup->need = MTB_NEED_LOSSES;
    return MTB_OK;
}

static mtb_status gls_step(void *state, const mtb_balance_in *in, mtb_balance_out *out,
                           mtb_error *err)
{
    const gls_state *s = state;
    int T = in->T;
    double mlog = 0.0;
    for (int t = 0; t < T; t++) {
        double l = fmax(in->losses[t], s->eps);
        if (!(l > 0.0))
            return mtb_fail(err, MTB_EINVAL,
                            "method gls: loss of task %d is %g; the geometric mean needs positive "
                            "losses (set eps > 0)", t, in->losses[t]);
        mlog += log(l);
    }
    mlog /= T;
    if (s->naive) {
        naive_weights(in->losses, T, s->eps, out->trunk_w);
        for (int t = 0; t < T; t++)
            out->head_w[t] = out->trunk_w[t];
        return MTB_OK;
    }
    for (int t = 0; t < T; t++) {
        double l = fmax(in->losses[t], s->eps);
        out->head_w[t] = out->trunk_w[t] = exp(mlog - log(l)) / T;
    }
    return MTB_OK;
}

const mtb_balancer_type mtb_balancer_gls = {
    .name = "gls",
    .summary = "geometric loss strategy: minimise (prod l)^(1/T)",
    .cite = "Chennupati et al., MultiNet++: Multi-Stream Feature Aggregation and Geometric Loss "
            "Strategy for Multi-Task Learning, CVPR Workshops 2019",
    .hparams = gls_hp,
    .n_hparams = 2,
    .state_size = sizeof(gls_state),
    .init = gls_init,
    .step = gls_step,
    .fini = NULL,
};
