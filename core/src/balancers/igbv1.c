/* igbv1.c: Improvable Gap Balancing, heuristic version. Dai, Fei & Lu, "Improvable Gap
 * Balancing for Multi-Task Learning", UAI 2023 (arXiv 2307.15429), IGBv1; the rule below is
 * read in the authors' code (github.com/YanqiDai/IGB4MTL, methods/loss_weight_methods.py,
 * ImprovableGapBalancing_v1, and experiments/nyuv2/trainer.py for the base losses), because the
 * paper's body was not available to us (docs/methods.md says what was checked where).
 *
 * Scale-invariant loss balancing: the objective is sum_k w_k log L_k (the "SI" paradigm the
 * paper builds on), and the improvable gap of task k is approximated by how far its loss is
 * from the desired final value 0 relative to its base loss, L_k(t) / L_k^base. IGBv1 gives
 * more weight to larger gaps:
 *   w_k(t) = K softmax_k( L_k(t) / L_k^base )           (weights sum to K)
 *   L_k^base = mean training loss of task k over epoch base_epoch (authors' --base_epoch 1,
 *              the second epoch, 0-based); until it is known (epochs 0..base_epoch), w = 1.
 * The weights multiply log L_k, so the weights on the raw losses that this balancer returns
 * (heads and trunk alike: a loss-balancing method) are
 *   head_w_k = trunk_w_k = w_k / (L_k + eps)             (d/dL log(L + eps); eps = 1e-8)
 * eps is ours (the authors take log L_k directly); it keeps loss 0 finite. log = false drops
 * the log transform (weights w_k on the raw losses), an option of ours.
 * Guards: L + eps <= 0 with the log is an error (MTB_ENUMERIC naming the task); a base loss
 * <= 0 is replaced by eps in the ratio; the softmax is the stable one, so 1e8 ratios give a
 * one-hot K e_k, not NaN. */
#include <math.h>
#include <stdlib.h>

#include "igb_agent.h"
#include "internal.h"

enum { HP_BASE_EPOCH, HP_LOG, HP_EPS, HP_N };

static const mtb_hparam_def igbv1_hp[HP_N] = {
    [HP_BASE_EPOCH] = {"base_epoch", MTB_HP_INT, 1, 0, 1e9, NULL,
                       "0-based epoch whose mean losses are L_base (authors' --base_epoch: 1)"},
    [HP_LOG] = {"log", MTB_HP_BOOL, 1, 0, 1, NULL,
                "weights act on log losses (paper's scale-invariant paradigm); false: raw"},
    [HP_EPS] = {"eps", MTB_HP_REAL, 1e-8, 0.0, 1.0, NULL,
                "added to the loss in log(l + eps) and to a zero base loss (ours: 1e-8)"},
};

typedef struct igbv1_state {
    int T, use_log;
    double eps;
    mtb_igb_base base;
    double *r;  /* (T) L / L_base */
    double *w;  /* (T) K softmax(r) */
} igbv1_state;

static void igbv1_fini(void *vs)
{
    igbv1_state *s = vs;
    mtb_igb_base_free(&s->base);
    free(s->r);
}

static mtb_status igbv1_init(void *vs, int T, size_t D_max, const mtb_hparams *hp,
                             mtb_balancer_setup *setup, mtb_error *err)
{
    (void)D_max;
    igbv1_state *s = vs;
    s->T = T;
    s->use_log = hp->v[HP_LOG] != 0.0;
    s->eps = hp->v[HP_EPS];
    setup->need = MTB_NEED_LOSSES;
    mtb_status st = mtb_igb_base_init(&s->base, T, (long)hp->v[HP_BASE_EPOCH], "igbv1", err);
    if (st)
        return st;
    s->r = calloc(2 * (size_t)T, sizeof *s->r);
    if (!s->r)
        return mtb_fail(err, MTB_ENOMEM, "method igbv1: cannot allocate the state (T = %d)", T);
    s->w = s->r + T;
    return MTB_OK;
}

static mtb_status igbv1_step(void *vs, const mtb_balance_in *in, mtb_balance_out *out,
                             mtb_error *err)
{
    igbv1_state *s = vs;
    const int T = s->T;
    const double *l = in->losses;
    if (s->use_log)
        for (int t = 0; t < T; t++)
            if (!(l[t] + s->eps > 0.0))
                return mtb_fail(err, MTB_ENUMERIC, "method igbv1: loss %d = %g gives log(l + eps) "
                                "with eps = %g undefined (IGB weights log losses; log=false "
                                "weights raw losses)", t, l[t], s->eps);
    mtb_status st = mtb_igb_base_observe(&s->base, in->epoch, l, "igbv1", err);
    if (st)
        return st;
    if (s->base.ready) {
        for (int t = 0; t < T; t++) {
            double b = s->base.base[t] > 0.0 ? s->base.base[t] : s->eps;
            double r = b > 0.0 ? l[t] / b : (l[t] > 0.0 ? 1e300 : 0.0);
            s->r[t] = isfinite(r) ? r : 1e300;
        }
        mtb_bal_softmax(s->r, T, 1.0, s->w);
        for (int t = 0; t < T; t++)
            s->w[t] *= T;
    } else {
        mtb_bal_fill(s->w, T, 1.0);
    }
    for (int t = 0; t < T; t++) {
        double w = s->use_log ? s->w[t] / (l[t] + s->eps) : s->w[t];
        out->head_w[t] = out->trunk_w[t] = w;
    }
    return MTB_OK;
}

const mtb_balancer_type mtb_balancer_igbv1 = {
    .name = "igbv1",
    .summary = "improvable gap balancing v1: K softmax(l / l_base) on log losses",
    .cite = "Dai, Fei & Lu, Improvable Gap Balancing for Multi-Task Learning, UAI 2023 (IGBv1)",
    .hparams = igbv1_hp,
    .n_hparams = HP_N,
    .state_size = sizeof(igbv1_state),
    .init = igbv1_init,
    .step = igbv1_step,
    .fini = igbv1_fini,
};
