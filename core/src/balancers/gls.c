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
 * applied coefficients (mtb golden maps it). */
#include <math.h>

#include "mtb/balancer.h"

static const mtb_hparam_def gls_hp[] = {
    {"eps", MTB_HP_REAL, 1e-8, 0.0, 1.0, NULL,
     "floor on each loss before the geometric mean (mtb's guard against l = 0)"},
};

typedef struct gls_state {
    double eps;
} gls_state;

static mtb_status gls_init(void *state, int T, size_t D_max, const mtb_hparams *hp,
                           mtb_balancer_setup *setup, mtb_error *err)
{
    (void)T, (void)D_max, (void)err;
    ((gls_state *)state)->eps = hp->v[0];
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
    .n_hparams = 1,
    .state_size = sizeof(gls_state),
    .init = gls_init,
    .step = gls_step,
    .fini = NULL,
};
