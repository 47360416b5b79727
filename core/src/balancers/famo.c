/* famo.c: Fast Adaptive Multitask Optimization. Liu, Feng, Stone, Liu, "FAMO: Fast Adaptive
 * Multitask Optimization", NeurIPS 2023 (arXiv 2306.03792; Sec. 3, Algorithm 1, and the
 * practical Algorithm 2 of Appendix C that the official code and LibMTL implement).
 *
 * Goal (Sec. 3.1): decrease every task's loss at the same *relative* rate. The balanced
 * direction is a combination of the log-loss gradients grad log l_t = g_t / l_t with
 * weights z on the simplex; FAMO does not solve for z each step (that would need every g_t)
 * but amortises it over time (Sec. 3.2) with logits xi and z = softmax(xi):
 *   step k (loss values only, O(1) in the number of task gradients):
 *     D_t   = l_t - l*_t + eps                       (l*_t: lower bound, 0 here; eps 1e-8)
 *     c     = (sum_t z_t / D_t)^{-1}                 (normaliser, treated as a constant)
 *     d     = c sum_t z_t grad log D_t = sum_t (c z_t / D_t) g_t
 *   so the weights on the raw losses are w_t = c z_t / D_t (they sum to 1), for the heads
 *   and the trunk alike (FAMO weights the whole loss).
 *   after the parameter update, with the losses l' of the same batch at the new parameters:
 *     delta_t = log D_t - log D'_t                    (each task's log-loss decrease)
 *     grad_xi = J^T delta,  J = d z / d xi = diag(z) - z z^T,
 *               i.e. grad_xi_t = z_t (delta_t - sum_s z_s delta_s)
 *     Algorithm 1:  xi <- xi - beta (grad_xi + gamma xi)
 *     Algorithm 2 (default): Adam on xi (lr beta, L2 weight decay gamma added to the
 *                   gradient, betas 0.9/0.999, eps 1e-8 as torch.optim.Adam)
 * A task whose log loss fell more than the z-average gets a smaller logit, so the lagging
 * tasks gain weight. Defaults beta = 0.025, gamma = 1e-3 (Algorithm 2 and LibMTL's
 * FAMO_w_lr, FAMO_w_gamma; the official code's class default gamma differs).
 * The logit update runs in the after_update hook (balancer.h): the caller re-evaluates the
 * losses after its parameter update. mtb training does one extra forward on the same batch
 * (train.h); LibMTL's fixture feeds the same numbers as inputs/losses_after.
 * Differences from LibMTL: none in the update; LibMTL returns no weights. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

enum { HP_W_LR, HP_GAMMA, HP_OPT, HP_EPS, HP_N };
enum { OPT_ADAM = 0, OPT_SGD = 1 };

static const mtb_hparam_def famo_hp[HP_N] = {
    [HP_W_LR] = {"w_lr", MTB_HP_REAL, 0.025, 0.0, 100.0, NULL,
                 "step size beta of the logits (paper App. C / LibMTL: 0.025)"},
    [HP_GAMMA] = {"gamma", MTB_HP_REAL, 1e-3, 0.0, 100.0, NULL,
                  "decay gamma of the logits (paper Alg. 2 / LibMTL: 1e-3)"},
    [HP_OPT] = {"optimizer", MTB_HP_CHOICE, OPT_ADAM, 0, 0, "adam|sgd",
                "logit update: Adam (Alg. 2, official code, LibMTL) or plain step (Alg. 1)"},
    [HP_EPS] = {"eps", MTB_HP_REAL, 1e-8, 0.0, 1.0, NULL,
                "added to l - l* before the log (official code / LibMTL: 1e-8)"},
};

/* torch.optim.Adam defaults (the official code and LibMTL construct it with them) */
#define FAMO_ADAM_B1 0.9
#define FAMO_ADAM_B2 0.999
#define FAMO_ADAM_EPS 1e-8

typedef struct famo_state {
    int T, opt;
    double lr, gamma, eps;
    double *xi;       /* (T) logits */
    double *z;        /* (T) softmax(xi) of the last step */
    double *logD;     /* (T) log D_t of the last step */
    double *m, *v;    /* (T) Adam moments */
    long adam_t;
    int pending;      /* a step's losses wait for their after_update */
} famo_state;

static void famo_fini(void *vs)
{
    famo_state *s = vs;
    free(s->xi);
}

static mtb_status famo_after_update(void *vs, const double *losses_after, mtb_error *err);

static mtb_status famo_init(void *vs, int T, size_t D_max, const mtb_hparams *hp,
                            mtb_balancer_setup *setup, mtb_error *err)
{
    (void)D_max;
    famo_state *s = vs;
    s->T = T;
    s->lr = hp->v[HP_W_LR];
    s->gamma = hp->v[HP_GAMMA];
    s->opt = (int)hp->v[HP_OPT];
    s->eps = hp->v[HP_EPS];
    setup->need = MTB_NEED_LOSSES;
    setup->after_update = famo_after_update;
    s->xi = calloc(5 * (size_t)T, sizeof *s->xi);
    if (!s->xi)
        return mtb_fail(err, MTB_ENOMEM, "method famo: cannot allocate the state (T = %d)", T);
    s->z = s->xi + T;
    s->logD = s->z + T;
    s->m = s->logD + T;
    s->v = s->m + T;
    return MTB_OK;
}

/* log(l - l* + eps) with l* = 0, or a clear error when it is undefined. */
static mtb_status log_shifted(const famo_state *s, const double *l, double *out, const char *when,
                              mtb_error *err)
{
    for (int t = 0; t < s->T; t++) {
        double D = l[t] + s->eps;
        if (!(D > 0.0) || !isfinite(log(D)))
            return mtb_fail(err, MTB_ENUMERIC,
                            "method famo: %s loss %d = %g gives log(l + eps) with eps = %g "
                            "undefined (FAMO needs l + eps > 0)", when, t, l[t], s->eps);
        out[t] = log(D);
    }
    return MTB_OK;
}

static mtb_status famo_step(void *vs, const mtb_balance_in *in, mtb_balance_out *out,
                            mtb_error *err)
{
    famo_state *s = vs;
    const int T = s->T;
    mtb_status st = log_shifted(s, in->losses, s->logD, "", err);
    if (st)
        return st;
    mtb_bal_softmax(s->xi, T, 1.0, s->z);
    /* w_t = c z_t / D_t = (z_t / D_t) / sum_s (z_s / D_s); computed as
     * z_t exp(-logD_t) scaled by the largest term, so that 1e8 loss ratios cannot
     * overflow or underflow to 0/0 */
    double mn = s->logD[0];
    for (int t = 1; t < T; t++)
        mn = fmin(mn, s->logD[t]);
    double sum = 0.0;
    for (int t = 0; t < T; t++) {
        out->trunk_w[t] = s->z[t] * exp(mn - s->logD[t]);
        sum += out->trunk_w[t];
    }
    if (!(sum > 0.0) || !isfinite(sum))
        return mtb_fail(err, MTB_ENUMERIC, "method famo: weight normaliser is %g", sum);
    for (int t = 0; t < T; t++) {
        out->trunk_w[t] /= sum;
        out->head_w[t] = out->trunk_w[t];
    }
    s->pending = 1;
    return MTB_OK;
}

static mtb_status famo_after_update(void *vs, const double *losses_after, mtb_error *err)
{
    famo_state *s = vs;
    const int T = s->T;
    if (!s->pending)
        return mtb_fail(err, MTB_EINVAL,
                        "method famo: after_update without a step before it (one call per step)");
    /* delta_t = log D_t - log D'_t, kept in logD (the step's values are no longer needed) */
    for (int t = 0; t < T; t++) {
        double D = losses_after[t] + s->eps;
        if (!(D > 0.0))
            return mtb_fail(err, MTB_ENUMERIC,
                            "method famo: loss %d after the update = %g gives log(l + eps) with "
                            "eps = %g undefined (FAMO needs l + eps > 0)", t, losses_after[t],
                            s->eps);
        s->logD[t] -= log(D);
    }
    /* grad_xi = J^T delta = z * (delta - z . delta) */
    double zd = 0.0;
    for (int t = 0; t < T; t++)
        zd += s->z[t] * s->logD[t];
    if (s->opt == OPT_ADAM)
        s->adam_t++;
    const double bc1 = 1.0 - pow(FAMO_ADAM_B1, (double)s->adam_t);
    const double bc2 = 1.0 - pow(FAMO_ADAM_B2, (double)s->adam_t);
    for (int t = 0; t < T; t++) {
        double g = s->z[t] * (s->logD[t] - zd) + s->gamma * s->xi[t];
        double nx;
        if (s->opt == OPT_ADAM) {
            s->m[t] = FAMO_ADAM_B1 * s->m[t] + (1.0 - FAMO_ADAM_B1) * g;
            s->v[t] = FAMO_ADAM_B2 * s->v[t] + (1.0 - FAMO_ADAM_B2) * g * g;
            nx = s->xi[t] - (s->lr / bc1) * s->m[t] / (sqrt(s->v[t]) / sqrt(bc2) + FAMO_ADAM_EPS);
        } else {
            nx = s->xi[t] - s->lr * g;
        }
        if (!isfinite(nx))
            return mtb_fail(err, MTB_ENUMERIC, "method famo: logit %d became %g (gradient %g)", t,
                            nx, g);
        s->xi[t] = nx;
    }
    s->pending = 0;
    return MTB_OK;
}

const mtb_balancer_type mtb_balancer_famo = {
    .name = "famo",
    .summary = "FAMO: loss weights c z/l with softmax logits learnt from the log-loss decrease",
    .cite = "Liu et al., FAMO: Fast Adaptive Multitask Optimization, NeurIPS 2023, Alg. 1/2",
    .hparams = famo_hp,
    .n_hparams = HP_N,
    .state_size = sizeof(famo_state),
    .init = famo_init,
    .step = famo_step,
    .fini = famo_fini,
};
