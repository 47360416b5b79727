/* gradnorm.c: gradient normalisation by learned loss weights.
 * Chen, Badrinarayanan, Lee, Rabinovich, "GradNorm: Gradient Normalization for Adaptive Loss
 * Balancing in Deep Multitask Networks", ICML 2018 (not in /work/shared/papers; Sec. 3.2,
 * Eqs. (1)-(2) and Algorithm 1 of the arXiv version). As restated by the SLAW paper,
 * /work/shared/papers/slaw-scaled-loss-approximate-weighting.txt, Sec. 3.3, Eq. (10).
 *
 * Weights w_t multiply the losses. With W the shared layer whose gradients are used,
 *   N_t = |grad_W (w_t l_t)| = w_t |g_t|,   Nbar = mean_t N_t
 *   r_t = L~_t / mean_j L~_j,   L~_t = l_t(step) / l_t(0)        (inverse training rate)
 *   L_grad = sum_t | N_t - Nbar r_t^alpha |     (targets treated as constants) [Eq. (2)]
 * and w takes a gradient step on L_grad, dL_grad/dw_t = sign(N_t - target_t) |g_t|, then is
 * renormalised so that sum_t w_t = T [Sec. 3.2]. With alpha = 0 the minimiser equalises
 * w_t |g_t|, i.e. w_t = T (1/|g_t|) / sum_j (1/|g_j|): SLAW's Eq. (4) (SLAW Sec. 3.3, Eq. 13).
 *
 * Two variants (hparam `variant`):
 *   slaw   the SLAW authors' code (spec mtrregression-and-slaw.md Sec. 4.3), the paper's
 *          procedure: l_t(0) = the first step's losses; w starts at 1 and takes one step of a
 *          private Adam (lr `lr` = 0.025, betas 0.9/0.999, eps 1e-8) per training step BEFORE
 *          it is used (the updated weights weight this step's losses); renormalised by
 *          rescaling, w <- T w / sum w, Adam's moments untouched, no clamp to positive. If
 *          sum w is not positive the step fails with MTB_ENUMERIC. Nothing is exposed.
 *   libmtl LibMTL's GradNorm (golden fixture): w = T softmax(p), p (init 1) exposed as
 *          learnable scalars (setup.learn, gradient in learn_grad; the caller's optimiser
 *          steps them). Epoch 0: w = 1 and no gradient; it records l_t(0) as the mean loss
 *          of the epoch-0 steps. From epoch 1 on: the weights of this step are T softmax(p)
 *          from BEFORE the caller's update, and dL_grad/dp_k = sum_t sign(N_t - target_t)
 *          |g_t| w_t (delta_tk - w_k / T). Renormalisation is the softmax's.
 *
 * Layer (hparam `layer`): `last` asks for the last shared layer's weight and bias (paper,
 * SLAW code; scope LAST_LAYER), `all` for every shared parameter (LibMTL; scope ALL). Both
 * trunk and heads use w (the paper weights the total loss sum_t w_t l_t).
 *
 * alpha: GradNorm picks it per problem. The SLAW paper's Appendix C table and code use 0.12
 * on MTRRegression (which is the GradNorm paper's own synthetic regression problem, spec
 * Sec. 1) and on PCBA, and 1.5 on NYUv2; LibMTL's default is 1.5. mtb's reference problem
 * is MTRRegression, hence the default 0.12; the golden entry sets 1.5.
 *
 * Note: the SLAW paper's restatement (Eq. 10) uses the mean of the unweighted norms |g_i|
 * for the target scale; the SLAW code, LibMTL and this file use the mean of w_i |g_i|. Both
 * have the same alpha = 0 minimiser up to the renormalisation.
 *
 * Degenerate inputs: l_t(0) = 0 gives L~_t = 1 (no training-rate information); a zero
 * mean_j L~_j gives r = 1; sign(0) = 0, as torch. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "mtb/balancer.h"

enum { HP_VARIANT, HP_ALPHA, HP_LR, HP_LAYER, HP_N };
enum { VAR_SLAW, VAR_LIBMTL };

static const mtb_hparam_def gradnorm_hparams[HP_N] = {
    [HP_VARIANT] = {"variant", MTB_HP_CHOICE, VAR_SLAW, 0, 0, "slaw|libmtl",
                    "slaw = paper procedure as in the SLAW code (private Adam, rescaling); "
                    "libmtl = T softmax(p), p learned by the caller's optimiser"},
    [HP_ALPHA] = {"alpha", MTB_HP_REAL, 0.12, 0.0, 100.0, NULL,
                  "asymmetry (SLAW App. C / code on MTRRegression and PCBA: 0.12; NYUv2 and "
                  "LibMTL: 1.5)"},
    [HP_LR] = {"lr", MTB_HP_REAL, 0.025, 0.0, 10.0, NULL,
               "learning rate of the private Adam on w, variant slaw (SLAW code: 0.025)"},
    [HP_LAYER] = {"layer", MTB_HP_CHOICE, 0, 0, 0, "last|all",
                  "gradients of the last shared layer (paper, SLAW code) or of all shared "
                  "parameters (LibMTL)"},
};

typedef struct gradnorm_state {
    int T, variant;
    double alpha, lr;
    double *w;     /* (T) current weights */
    double *p;     /* (T) libmtl: logits (setup.learn) */
    double *dp;    /* (T) libmtl: their gradient (setup.learn_grad) */
    double *m, *v; /* (T) slaw: Adam moments */
    double *l0;    /* (T) reference losses l_t(0) (libmtl: epoch-0 sums until epoch 1) */
    double *gn;    /* (T) |g_t| */
    double *sg;    /* (T) sign(N_t - target_t) |g_t| */
    long adam_t;
    long l0_count; /* libmtl: steps summed into l0; -1 once it holds the means */
    int have_l0;   /* slaw */
} gradnorm_state;

static void gradnorm_fini(void *vs)
{
    gradnorm_state *s = vs;
    free(s->w);
    free(s->p);
    free(s->dp);
    free(s->m);
    free(s->v);
    free(s->l0);
    free(s->gn);
    free(s->sg);
    memset(s, 0, sizeof *s);
}

static mtb_status gradnorm_init(void *vs, int T, size_t D_max, const mtb_hparams *hp,
                                mtb_balancer_setup *setup, mtb_error *err)
{
    (void)D_max;
    gradnorm_state *s = vs;
    s->T = T;
    s->variant = (int)hp->v[HP_VARIANT];
    s->alpha = hp->v[HP_ALPHA];
    s->lr = hp->v[HP_LR];
    setup->need = MTB_NEED_PARAM_GRADS;
    setup->scope = hp->v[HP_LAYER] == 0 ? MTB_SCOPE_LAST_LAYER : MTB_SCOPE_ALL;
    size_t t = (size_t)T;
    s->w = malloc(t * sizeof *s->w);
    s->p = malloc(t * sizeof *s->p);
    s->dp = calloc(t, sizeof *s->dp);
    s->m = calloc(t, sizeof *s->m);
    s->v = calloc(t, sizeof *s->v);
    s->l0 = calloc(t, sizeof *s->l0);
    s->gn = malloc(t * sizeof *s->gn);
    s->sg = malloc(t * sizeof *s->sg);
    if (!s->w || !s->p || !s->dp || !s->m || !s->v || !s->l0 || !s->gn || !s->sg) {
        gradnorm_fini(s);
        return mtb_fail(err, MTB_ENOMEM, "method gradnorm: cannot allocate the state for %d tasks", T);
    }
    mtb_bal_fill(s->w, T, 1.0);
    mtb_bal_fill(s->p, T, 1.0); /* LibMTL: loss_scale = [1.0] * T */
    if (s->variant == VAR_LIBMTL) {
        setup->n_learn = T;
        setup->learn = s->p;
        setup->learn_grad = s->dp;
        setup->learn_lr = 0.0; /* LibMTL: the model's optimiser */
    }
    return MTB_OK;
}

static double sgn(double x) { return (x > 0.0) - (x < 0.0); }

/* s->sg[t] = dL_grad/dw_t = sign(N_t - Nbar r_t^alpha) |g_t| for the current s->w. */
static void lgrad_dw(gradnorm_state *s, const double *losses)
{
    int T = s->T;
    double Nbar = 0.0, Lmean = 0.0;
    for (int t = 0; t < T; t++) {
        Nbar += s->w[t] * s->gn[t];
        /* L~_t, stored in sg for the moment */
        s->sg[t] = s->l0[t] > 0.0 ? losses[t] / s->l0[t] : 1.0;
        Lmean += s->sg[t];
    }
    Nbar /= T;
    Lmean /= T;
    for (int t = 0; t < T; t++) {
        double r = Lmean > 0.0 && isfinite(Lmean) ? s->sg[t] / Lmean : 1.0;
        double target = Nbar * pow(r, s->alpha);
        s->sg[t] = sgn(s->w[t] * s->gn[t] - target) * s->gn[t];
    }
}

static mtb_status gradnorm_step(void *vs, const mtb_balance_in *in, mtb_balance_out *out,
                                mtb_error *err)
{
    gradnorm_state *s = vs;
    int T = s->T;
    for (int t = 0; t < T; t++)
        s->gn[t] = mtb_bal_norm(in->G + (size_t)t * in->D, in->D);

    if (s->variant == VAR_SLAW) {
        if (!s->have_l0) {
            memcpy(s->l0, in->losses, (size_t)T * sizeof *s->l0);
            s->have_l0 = 1;
        }
        lgrad_dw(s, in->losses);
        /* one Adam step on w (torch.optim.Adam semantics) */
        const double b1 = 0.9, b2 = 0.999, eps = 1e-8;
        s->adam_t++;
        double c1 = 1.0 - pow(b1, (double)s->adam_t), c2 = 1.0 - pow(b2, (double)s->adam_t);
        for (int t = 0; t < T; t++) {
            double g = s->sg[t];
            s->m[t] = b1 * s->m[t] + (1.0 - b1) * g;
            s->v[t] = b2 * s->v[t] + (1.0 - b2) * g * g;
            s->w[t] -= s->lr * (s->m[t] / c1) / (sqrt(s->v[t] / c2) + eps);
        }
        if (mtb_bal_normalise_sum(s->w, T, (double)T))
            return mtb_fail(err, MTB_ENUMERIC,
                            "method gradnorm: the learned weights sum to a non-positive value, "
                            "cannot renormalise them to sum %d (try a smaller lr)", T);
    } else {
        if (in->epoch <= 0) {
            /* epoch 0: equal weights; accumulate the epoch-mean losses */
            for (int t = 0; t < T; t++)
                s->l0[t] += in->losses[t];
            s->l0_count++;
            mtb_bal_fill(s->w, T, 1.0);
        } else {
            if (s->l0_count > 0) {
                for (int t = 0; t < T; t++)
                    s->l0[t] /= (double)s->l0_count;
            } else if (s->l0_count == 0) {
                /* no epoch-0 step was seen: the first losses are the reference */
                memcpy(s->l0, in->losses, (size_t)T * sizeof *s->l0);
            }
            s->l0_count = -1;
            mtb_bal_softmax(s->p, T, 1.0, s->w);
            for (int t = 0; t < T; t++)
                s->w[t] *= T;
            lgrad_dw(s, in->losses);
            /* chain rule through w = T softmax(p): dw_t/dp_k = w_t (delta_tk - w_k / T) */
            double sw = 0.0;
            for (int t = 0; t < T; t++)
                sw += s->sg[t] * s->w[t];
            for (int k = 0; k < T; k++)
                s->dp[k] = s->sg[k] * s->w[k] - sw * s->w[k] / T;
        }
    }
    for (int t = 0; t < T; t++) {
        out->head_w[t] = s->w[t];
        out->trunk_w[t] = s->w[t];
    }
    return MTB_OK;
}

const mtb_balancer_type mtb_balancer_gradnorm = {
    .name = "gradnorm",
    .summary = "learns loss weights that equalise weighted gradient norms, adjusted by training rates",
    .cite = "Chen et al., GradNorm: Gradient Normalization for Adaptive Loss Balancing in Deep "
            "Multitask Networks, ICML 2018",
    .hparams = gradnorm_hparams,
    .n_hparams = HP_N,
    .state_size = sizeof(gradnorm_state),
    .init = gradnorm_init,
    .step = gradnorm_step,
    .fini = gradnorm_fini,
};
