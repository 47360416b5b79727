/* moco.c: MoCo, multi-objective gradient with correction.
 * Fernando, Shen, Liu, Chaudhury, Murugesan, Chen, "Mitigating Gradient Bias in
 * Multi-objective Learning: A Provably Convergent Approach", ICLR 2023 (not in
 * /work/shared/papers; Sec. 3, Algorithm 1 of the OpenReview version).
 *
 * MGDA on stochastic gradients is biased because the min-norm weights depend on the same
 * noisy gradients. MoCo tracks each task's gradient with a moving average y_t and takes
 * one projected-gradient step on the MGDA objective 1/2 |Y^T lambda|^2 per iteration:
 *   y_t    <- y_t - beta_k (y_t - h_t)                                          [Alg. 1]
 *   lambda <- Pi_simplex(lambda - gamma_k (Y Y^T + rho I) lambda)               [Alg. 1]
 *   d      =  Y^T lambda                                                        [Alg. 1]
 * with Y the (T, D) matrix of the y_t, h_t the task's stochastic gradient, y = 0 and
 * lambda = 1/T at the start, and decaying step sizes beta_k = beta / k^beta_sigma,
 * gamma_k = gamma / k^gamma_sigma (k = 1, 2, ... the call count). The paper's projection of
 * y_t onto a bounded set (for the analysis) is not applied, as in the authors' code.
 *
 * Options for LibMTL's version (based on the authors' shared code), fixture MoCo:
 *   update=softmax   lambda <- softmax(lambda - gamma_k (Y Y^T + rho I) lambda) instead of
 *                    the Euclidean simplex projection (paper, default);
 *   normalize=loss   h_t = l_t g_t / (|g_t| + 1e-8) instead of the raw gradient g_t.
 * Defaults beta = 0.5, beta_sigma = 0.5, gamma = 0.1, gamma_sigma = 0.5, rho = 0 are
 * LibMTL's (the paper's analysis only fixes the decay rates).
 *
 * d is not a combination of this step's gradients, so the step writes it as an explicit
 * trunk_grad; trunk_w = lambda (what LibMTL returns), head_w = 1 (LibMTL's heads keep
 * their own gradients). Y Y^T uses cblas_dgemm, Y^T lambda cblas_dgemv. */
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "mtb/balancer.h"
#include "simplex.h"

enum { HP_BETA, HP_BETA_SIGMA, HP_GAMMA, HP_GAMMA_SIGMA, HP_RHO, HP_UPDATE, HP_NORMALIZE, HP_N };
enum { UPD_PROJECT = 0, UPD_SOFTMAX = 1 };
enum { NORM_NONE = 0, NORM_LOSS = 1 };

static const mtb_hparam_def moco_hparams[HP_N] = {
    [HP_BETA] = {"beta", MTB_HP_REAL, 0.5, 0.0, 1.0, NULL,
                 "step size of the gradient tracking y (LibMTL default 0.5)"},
    [HP_BETA_SIGMA] = {"beta_sigma", MTB_HP_REAL, 0.5, 0.0, 10.0, NULL,
                       "beta_k = beta / k^beta_sigma (LibMTL default 0.5)"},
    [HP_GAMMA] = {"gamma", MTB_HP_REAL, 0.1, 0.0, 1e6, NULL,
                  "step size of the lambda update (LibMTL default 0.1)"},
    [HP_GAMMA_SIGMA] = {"gamma_sigma", MTB_HP_REAL, 0.5, 0.0, 10.0, NULL,
                        "gamma_k = gamma / k^gamma_sigma (LibMTL default 0.5)"},
    [HP_RHO] = {"rho", MTB_HP_REAL, 0.0, 0.0, 1e6, NULL,
                "l2 regularisation rho of the lambda update (LibMTL default 0)"},
    [HP_UPDATE] = {"update", MTB_HP_CHOICE, UPD_PROJECT, 0, 0, "project|softmax",
                   "lambda update: Euclidean simplex projection (paper) or softmax (LibMTL)"},
    [HP_NORMALIZE] = {"normalize", MTB_HP_CHOICE, NORM_NONE, 0, 0, "none|loss",
                      "tracked gradient h_t: g_t (paper) or l_t g_t / (|g_t| + 1e-8) (LibMTL)"},
};

typedef struct moco_state {
    int T;
    size_t Dmax, Dseen;
    double beta, beta_sigma, gamma, gamma_sigma, rho;
    int update, normalize;
    long k;
    double *Y;     /* (T, D_max) tracked gradients */
    double *YY;    /* (T, T) Y Y^T */
    double *lam;   /* (T) */
    double *tmp;   /* (T) */
} moco_state;

static void moco_fini(void *vs)
{
    moco_state *s = vs;
    free(s->Y);
    free(s->YY);
    free(s->lam);
    free(s->tmp);
    memset(s, 0, sizeof *s);
}

static mtb_status moco_init(void *vs, int T, size_t D_max, const mtb_hparams *hp,
                            mtb_balancer_setup *setup, mtb_error *err)
{
    moco_state *s = vs;
    s->T = T;
    s->Dmax = D_max;
    s->beta = hp->v[HP_BETA];
    s->beta_sigma = hp->v[HP_BETA_SIGMA];
    s->gamma = hp->v[HP_GAMMA];
    s->gamma_sigma = hp->v[HP_GAMMA_SIGMA];
    s->rho = hp->v[HP_RHO];
    s->update = (int)hp->v[HP_UPDATE];
    s->normalize = (int)hp->v[HP_NORMALIZE];
    setup->need = MTB_NEED_PARAM_GRADS;
    setup->scope = MTB_SCOPE_ALL;
    size_t t = (size_t)T;
    s->Y = calloc(t * (D_max ? D_max : 1), sizeof *s->Y);
    s->YY = malloc(t * t * sizeof *s->YY);
    s->lam = malloc(t * sizeof *s->lam);
    s->tmp = malloc(t * sizeof *s->tmp);
    if (!s->Y || !s->YY || !s->lam || !s->tmp) {
        moco_fini(s);
        return mtb_fail(err, MTB_ENOMEM, "method moco: cannot allocate the state for %d tasks and "
                        "%zu gradient columns", T, D_max);
    }
    mtb_bal_fill(s->lam, T, 1.0 / T);
    return MTB_OK;
}

static mtb_status moco_step(void *vs, const mtb_balance_in *in, mtb_balance_out *out,
                            mtb_error *err)
{
    moco_state *s = vs;
    int T = s->T;
    size_t D = in->D;
    if (s->k > 0 && D != s->Dseen)
        return mtb_fail(err, MTB_EINVAL,
                        "method moco: the gradient has %zu columns, earlier steps had %zu "
                        "(the tracked gradients are per coordinate)",
                        D, s->Dseen);
    s->Dseen = D;
    s->k++;
    double kk = (double)s->k;
    double beta_k = s->beta / pow(kk, s->beta_sigma);
    double gamma_k = s->gamma / pow(kk, s->gamma_sigma);
    /* [Alg. 1] y_t <- y_t - beta_k (y_t - h_t) */
    for (int t = 0; t < T; t++) {
        const double *g = in->G + (size_t)t * D;
        double *y = s->Y + (size_t)t * D;
        double f = 1.0;
        if (s->normalize == NORM_LOSS)
            f = in->losses[t] / (mtb_bal_norm(g, D) + 1e-8);
        for (size_t c = 0; c < D; c++)
            y[c] -= beta_k * (y[c] - f * g[c]);
    }
    /* [Alg. 1] lambda <- Pi(lambda - gamma_k (Y Y^T + rho I) lambda) */
    mtb_bal_gram(s->Y, T, D, s->YY);
    cblas_dgemv(CblasRowMajor, CblasNoTrans, T, T, 1.0, s->YY, T, s->lam, 1, 0.0, s->tmp, 1);
    for (int t = 0; t < T; t++)
        s->tmp[t] = s->lam[t] - gamma_k * (s->tmp[t] + s->rho * s->lam[t]);
    int finite = 1;
    for (int t = 0; t < T; t++)
        finite &= isfinite(s->tmp[t]);
    if (!finite)
        return mtb_fail(err, MTB_ENUMERIC,
                        "method moco: the lambda step overflowed (gamma_k |Y Y^T| = %g x %g); "
                        "lower gamma or normalise the gradients (normalize=loss)",
                        gamma_k, s->YY[0]);
    if (s->update == UPD_SOFTMAX) {
        mtb_bal_softmax(s->tmp, T, 1.0, s->lam);
    } else {
        memcpy(s->lam, s->tmp, (size_t)T * sizeof *s->lam);
        mtb_simplex_project(s->lam, T);
    }
    for (int t = 0; t < T; t++) {
        out->head_w[t] = 1.0;
        out->trunk_w[t] = s->lam[t];
    }
    if (out->trunk_grad) {
        mtb_bal_gtw(s->Y, T, D, s->lam, out->trunk_grad); /* [Alg. 1] d = Y^T lambda */
        out->trunk_grad_set = 1;
    }
    return MTB_OK;
}

const mtb_balancer_type mtb_balancer_moco = {
    .name = "moco",
    .summary = "tracked task gradients and one projected MGDA step per iteration",
    .cite = "Fernando et al., Mitigating Gradient Bias in Multi-objective Learning: A Provably "
            "Convergent Approach, ICLR 2023",
    .hparams = moco_hparams,
    .n_hparams = HP_N,
    .state_size = sizeof(moco_state),
    .init = moco_init,
    .step = moco_step,
    .fini = moco_fini,
};
