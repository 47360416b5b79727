/* modo.c: Multi-objective gradient with Double sampling (MoDo). Chen, Fernando, Ying, Chen,
 * "Three-Way Trade-Off in Multi-Objective Learning: Optimization, Generalization and
 * Conflict-Avoidance", NeurIPS 2023 (JMLR 2024; Sec. 2, Algorithm 1).
 *
 * MGDA's weights lambda minimise (1/2) ||G^T lambda||^2 over the simplex; with stochastic
 * gradients the product G^T G is biased. MoDo takes one projected-gradient step on lambda
 * per iteration with two *independent* samples, so that the step is unbiased, and moves the
 * model with a third:
 *   lambda_{k+1} = Pi_simplex( lambda_k - gamma ( G_1 G_2^T lambda_k + rho lambda_k ) )
 *   x_{k+1}      = x_k - alpha G_3^T lambda_{k+1}
 * G_i (T, D) is the task-gradient matrix of sample i (rows = tasks, the transpose of the
 * paper's d x M Jacobian), rho >= 0 an l2 regulariser on lambda, lambda_0 = 1/T.
 * Here: setup n_samples = 3; in->samples.G[0], [1], [2] are G_1, G_2, G_3 (mtb training:
 * three parts of one batch, see train.h); trunk_grad = G_3^T lambda_{k+1} (explicit,
 * PARAM gradients, scope all), trunk_w = lambda_{k+1} (informative; also LibMTL's returned
 * vector), head_w = 1 (heads follow their own losses; LibMTL averages the heads' gradients
 * over its three batches, which is the whole batch's gradient here).
 * Kernels: v = G_2^T lambda (dgemv), u = G_1 v (dgemv), trunk_grad = G_3^T lambda (dgemv):
 * O(T D), never the T x T product.
 * Defaults gamma = 0.1, rho = 0.1: the official code's (Trade-Off-MOL config.py,
 * gamma_modo, rho_modo); LibMTL's MoDo_gamma is 1e-3 (golden entry). Same update otherwise. */
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "simplex.h"

enum { HP_GAMMA, HP_RHO, HP_N };

static const mtb_hparam_def modo_hp[HP_N] = {
    [HP_GAMMA] = {"gamma", MTB_HP_REAL, 0.1, 0.0, 1e6, NULL,
                  "step size of lambda (official code: 0.1; LibMTL: 1e-3)"},
    [HP_RHO] = {"rho", MTB_HP_REAL, 0.1, 0.0, 1e6, NULL,
                "l2 regularisation of lambda's subproblem (official code, LibMTL: 0.1)"},
};

typedef struct modo_state {
    int T;
    double gamma, rho;
    double *lambda;   /* (T) */
    double *y;        /* (T) next lambda before/after projection */
    double *u;        /* (T) G_1 v */
    double *v;        /* (D_max) G_2^T lambda */
} modo_state;

static void modo_fini(void *vs)
{
    modo_state *s = vs;
    free(s->lambda);
    free(s->v);
}

static mtb_status modo_init(void *vs, int T, size_t D_max, const mtb_hparams *hp,
                            mtb_balancer_setup *setup, mtb_error *err)
{
    modo_state *s = vs;
    s->T = T;
    s->gamma = hp->v[HP_GAMMA];
    s->rho = hp->v[HP_RHO];
    setup->need = MTB_NEED_PARAM_GRADS;
    setup->scope = MTB_SCOPE_ALL;
    setup->n_samples = 3;
    s->lambda = malloc(3 * (size_t)T * sizeof *s->lambda);
    s->v = malloc((D_max ? D_max : 1) * sizeof *s->v);
    if (!s->lambda || !s->v)
        return mtb_fail(err, MTB_ENOMEM, "method modo: cannot allocate the state (T = %d, D = %zu)",
                        T, D_max);
    s->y = s->lambda + T;
    s->u = s->y + T;
    mtb_bal_fill(s->lambda, T, 1.0 / T);
    return MTB_OK;
}

static mtb_status modo_step(void *vs, const mtb_balance_in *in, mtb_balance_out *out,
                            mtb_error *err)
{
    modo_state *s = vs;
    const int T = s->T;
    const size_t D = in->D;
    if (!out->trunk_grad)
        return mtb_fail(err, MTB_EINVAL,
                        "method modo returns an explicit trunk gradient: out->trunk_grad is NULL");
    const double *G1 = in->samples.G[0], *G2 = in->samples.G[1], *G3 = in->samples.G[2];
    /* v (D) = G_2^T lambda;  u (T) = G_1 v */
    mtb_bal_gtw(G2, T, D, s->lambda, s->v);
    cblas_dgemv(CblasRowMajor, CblasNoTrans, T, (int)D, 1.0, G1, (int)D, s->v, 1, 0.0, s->u, 1);
    for (int t = 0; t < T; t++)
        s->y[t] = s->lambda[t] - s->gamma * (s->u[t] + s->rho * s->lambda[t]);
    for (int t = 0; t < T; t++)
        if (!isfinite(s->y[t]))
            return mtb_fail(err, MTB_ENUMERIC,
                            "method modo: lambda step overflowed (entry %d = %g; gradients too "
                            "large for gamma = %g)", t, s->y[t], s->gamma);
    mtb_simplex_project(s->y, T);
    memcpy(s->lambda, s->y, (size_t)T * sizeof *s->lambda);
    for (int t = 0; t < T; t++) {
        out->trunk_w[t] = s->lambda[t];
        out->head_w[t] = 1.0;
    }
    /* trunk_grad (D) = G_3^T lambda_{k+1} */
    mtb_bal_gtw(G3, T, D, s->lambda, out->trunk_grad);
    out->trunk_grad_set = 1;
    return MTB_OK;
}

const mtb_balancer_type mtb_balancer_modo = {
    .name = "modo",
    .summary = "MoDo: MGDA weights by one unbiased projected step per batch (3 samples)",
    .cite = "Chen et al., Three-Way Trade-Off in Multi-Objective Learning, NeurIPS 2023, Alg. 1",
    .hparams = modo_hp,
    .n_hparams = HP_N,
    .state_size = sizeof(modo_state),
    .init = modo_init,
    .step = modo_step,
    .fini = modo_fini,
};
