/* pre_transform.c: a per-task transform of the losses applied in front of ANY balancing
 * method, by the driver (balancer.c), selected by the options every method accepts
 * besides its own (`pre=log`, balancer.h).
 *
 * The method sees transformed losses l'_t = f(l_t) and, since d f(l_t) = f'(l_t) dl_t, the
 * transformed task gradients g'_t = c_t g_t with c_t = f'(l_t) > 0 (each row of G scaled,
 * for every sample of a multi-sample method; the representation Z and the parameter
 * blocks are unchanged). The method's weights then multiply gradients of l'_t, and the
 * driver turns them back into weights on the raw gradients, which is what every caller
 * applies (balancer.h: "all weights multiply gradients of the raw losses"):
 *   head_w_t = c_t head_w'_t,   trunk_w_t = c_t trunk_w'_t,
 * while an explicit trunk gradient is already a vector in parameter space and passes
 * unchanged. Losses after the update (FAMO's hook) are transformed the same way. A
 * method's learnable scalars (UW's, IMTL-L's) see the transformed losses.
 *
 * Transforms:
 *   log: f(l) = log(l + eps), c = 1 / (l + eps). DB-MTL Sec. 3.1 ("scale-balancing loss
 *        transformation"): grad log l = grad l / l; Fig. 1 adds it in front of PCGrad,
 *        GradVac, IMTL-G, CAGrad, Nash-MTL and Aligned-MTL ("+log", dbmtl.md D8). In front
 *        of EW it is DB-MTL's loss-scale-only row (Table 6 row 2, db_mtl gradnorm=false).
 *        Defined for l + eps > 0; the transformed losses can be negative, which a method
 *        that takes logs or ratios of its losses (GLS, DWA, FAMO, STCH, IGB) may reject.
 *   rlw: f(l) = lambda~_t l, c = lambda~_t, with lambda~ a fresh draw of RLW's distribution
 *        pre_dist each step (rlw.c's sampler, weights on the simplex: LibMTL's RLW, whose
 *        default normal gives softmax(z)), the same for every sample and for the losses after
 *        the update. RLW in front of a gradient method (RLW TMLR Table 3, rlw.md R10: "RLW +
 *        PCGrad"). The draws come from the transform's own stream (seed, PRE_STREAM), so the
 *        method's own draws (PCGrad's order, ...) are those it makes without the transform;
 *        they cannot be replayed. Distributions that can draw a weight 0 (bernoulli,
 *        constrained_bernoulli) are refused in front of a method that takes gradients: a zero
 *        gradient row makes IMTL-G's unit vectors undefined (rlw.md R10).
 * With multiple samples the heads use sample 0's factors, the losses the method's weights
 * refer to (balancer.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* The transform's random stream: one no MTB_STREAM_* uses ("pre" in ASCII). */
#define PRE_STREAM 0x707265u

const mtb_hparam_def mtb_pre_hparams[MTB_PRE_NHP] = {
    {"pre", MTB_HP_CHOICE, MTB_PRE_NONE, 0, 0, "none|log|rlw",
     "per-task loss transform in front of the method: log = log(l + pre_eps) (DB-MTL Sec. 3.1); "
     "rlw = random weights lambda~ l (RLW TMLR Table 3)"},
    {"pre_eps", MTB_HP_REAL, 1e-8, 0.0, 1.0, NULL,
     "epsilon of pre=log (DB-MTL Algorithm 1: 1e-8)"},
    {"pre_dist", MTB_HP_CHOICE, MTB_RLW_NORMAL, 0, 0, MTB_RLW_CHOICES,
     "pre=rlw: the weight distribution (as rlw's dist; LibMTL: normal, i.e. softmax(z))"},
};

int mtb_pre_find(const char *key)
{
    for (int i = 0; i < MTB_PRE_NHP; i++)
        if (!strcmp(mtb_pre_hparams[i].name, key))
            return i;
    return -1;
}

mtb_status mtb_pre_ws_init(mtb_pre_ws *w, const double *pre, int T, size_t D_max, int K,
                           int with_grads, unsigned long long seed, const char *method,
                           mtb_error *err)
{
    memset(w, 0, sizeof *w);
    w->kind = (int)pre[0];
    w->eps = pre[1];
    w->dist = (int)pre[2];
    if (w->kind == MTB_PRE_NONE)
        return MTB_OK;
    if (w->kind == MTB_PRE_RLW) {
        if (with_grads && (w->dist == MTB_RLW_BERNOULLI || w->dist == MTB_RLW_CBERNOULLI))
            return mtb_fail(err, MTB_EINVAL, "method %s takes task gradients: pre=rlw with "
                            "pre_dist=%s can draw a weight 0, i.e. a zero gradient row (IMTL-G's "
                            "unit vectors are then undefined); use normal, uniform or dirichlet",
                            method, w->dist == MTB_RLW_BERNOULLI ? "bernoulli"
                                                                 : "constrained_bernoulli");
        mtb_status st = mtb_rlw_sampler_init(&w->smp, T, method, err);
        if (st)
            return st;
        w->have_smp = 1;
        mtb_rng_seed(&w->rng, (uint64_t)seed, PRE_STREAM);
    }
    w->T = T;
    w->K = K < 1 ? 1 : K;
    w->D_max = with_grads ? D_max : 0;
    size_t nk = (size_t)w->K;
    if (w->D_max && (size_t)T > ((size_t)-1 / sizeof(double)) / w->D_max / nk)
        return mtb_fail(err, MTB_EINVAL, "method %s with pre=log: %d x %zu x %d gradients are "
                        "too many to copy", method, T, w->D_max, w->K);
    /* c (K, T), l (K + 1, T): the last row for the losses after the update */
    w->c = malloc((2 * nk + 1) * (size_t)T * sizeof *w->c);
    if (w->D_max)
        w->G = malloc(nk * (size_t)T * w->D_max * sizeof *w->G);
    if (!w->c || (w->D_max && !w->G)) {
        mtb_pre_ws_free(w);
        return mtb_fail(err, MTB_ENOMEM, "method %s: cannot allocate the pre-transform's "
                        "buffers (%d tasks, %zu columns, %d samples)", method, T, D_max, w->K);
    }
    w->l = w->c + nk * (size_t)T;
    return MTB_OK;
}

void mtb_pre_ws_free(mtb_pre_ws *w)
{
    free(w->c);
    free(w->G);
    w->c = w->l = w->G = NULL;
    if (w->have_smp)
        mtb_rlw_sampler_free(&w->smp);
    w->have_smp = 0;
}

/* l'[t] = f(l[t]) and c[t] = f'(l[t]) for the T tasks (pre=rlw: c holds this step's
 * weights already). */
static mtb_status transform(const mtb_pre_ws *w, const double *l, double *lp, double *c,
                            const char *method, mtb_error *err)
{
    if (w->kind == MTB_PRE_RLW) {
        for (int t = 0; t < w->T; t++)
            lp[t] = c[t] * l[t];
        return MTB_OK;
    }
    for (int t = 0; t < w->T; t++) {
        double x = l[t] + w->eps;
        if (!(x > 0.0))
            return mtb_fail(err, MTB_ENUMERIC, "method %s with pre=log: loss of task %d is %g, "
                            "log(l + pre_eps) needs l + pre_eps > 0 (pre_eps = %g)", method, t,
                            l[t], w->eps);
        lp[t] = log(x);
        c[t] = 1.0 / x;
    }
    return MTB_OK;
}

/* G' (T, D) = diag(c) G */
static void scale_rows(const double *G, const double *c, int T, size_t D, double *out)
{
    for (int t = 0; t < T; t++)
        for (size_t j = 0; j < D; j++)
            out[(size_t)t * D + j] = c[t] * G[(size_t)t * D + j];
}

mtb_status mtb_pre_apply(mtb_pre_ws *w, const mtb_balance_in *in, mtb_balance_in *local,
                         const char *method, mtb_error *err)
{
    if (w->kind == MTB_PRE_NONE)
        return MTB_OK;
    const size_t T = (size_t)w->T;
    int K = in->samples.n > 1 ? in->samples.n : 1;
    if (K > w->K)
        return mtb_fail(err, MTB_EINVAL, "method %s with pre=log: step has %d samples, set up "
                        "for %d", method, K, w->K);
    if (w->kind == MTB_PRE_RLW) { /* one draw per step, shared by its samples */
        mtb_status st = mtb_rlw_sample(&w->smp, w->dist, &w->rng, w->c, err);
        if (st)
            return st;
        for (int k = 1; k < K; k++)
            memcpy(w->c + (size_t)k * T, w->c, T * sizeof *w->c);
    }
    for (int k = 0; k < K; k++) {
        const double *lk = K > 1 ? in->samples.losses[k] : in->losses;
        mtb_status st = transform(w, lk, w->l + k * T, w->c + k * T, method, err);
        if (st)
            return st;
        w->lp[k] = w->l + k * T;
        const double *Gk = K > 1 ? in->samples.G ? in->samples.G[k] : NULL : in->G;
        if (Gk && w->G) {
            double *Gp = w->G + (size_t)k * T * w->D_max;
            scale_rows(Gk, w->c + k * T, w->T, in->D, Gp);
            w->Gp[k] = Gp;
        } else {
            w->Gp[k] = NULL;
        }
    }
    local->losses = w->lp[0];
    local->G = w->Gp[0];
    if (K > 1) {
        local->samples.losses = w->lp;
        local->samples.G = in->samples.G ? w->Gp : NULL;
    }
    return MTB_OK;
}

void mtb_pre_output(const mtb_pre_ws *w, mtb_balance_out *out)
{
    if (w->kind == MTB_PRE_NONE)
        return;
    for (int t = 0; t < w->T; t++) {
        out->head_w[t] *= w->c[t];
        out->trunk_w[t] *= w->c[t];
    }
}

mtb_status mtb_pre_losses_after(mtb_pre_ws *w, const double *l, const double **lp,
                                const char *method, mtb_error *err)
{
    *lp = l;
    if (w->kind == MTB_PRE_NONE)
        return MTB_OK;
    double *row = w->l + (size_t)w->K * (size_t)w->T;
    for (int t = 0; w->kind == MTB_PRE_RLW && t < w->T; t++)
        row[t] = w->c[t] * l[t]; /* the step's weights */
    for (int t = 0; w->kind == MTB_PRE_LOG && t < w->T; t++) {
        double x = l[t] + w->eps;
        if (!(x > 0.0))
            return mtb_fail(err, MTB_ENUMERIC, "method %s with pre=log: loss of task %d after "
                            "the update is %g, log(l + pre_eps) needs l + pre_eps > 0", method,
                            t, l[t]);
        row[t] = log(x);
    }
    *lp = row;
    return MTB_OK;
}
