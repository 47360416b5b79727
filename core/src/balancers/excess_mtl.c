/* excess_mtl.c: ExcessMTL, task weights from estimated excess risks.
 * He, Zhou, Zhao, Chen, "Robust Multi-Task Learning with Excess Risks", ICML 2024 (not in
 * /work/shared/papers; Sec. 4, Algorithm 1 of the arXiv version 2402.02009; official code
 * github.com/yifei-he/ExcessMTL, a LibMTL weighting, which LibMTL adopted).
 *
 * Tasks are weighted by their excess risk (loss minus the task's Bayes-optimal loss), not
 * by the loss itself, so that a task with large irreducible noise does not take over. The
 * excess risk is estimated from a second-order expansion around the optimum,
 *   E_t ~ 1/2 g_t^T H_t^{-1} g_t,                                                [Sec. 4.1]
 * with the Hessian replaced by AdaGrad's diagonal preconditioner built from the task's
 * own gradients, H_t ~ diag(sqrt(S_t)), S_t = sum over steps of g_t (.) g_t:
 *   e_t = g_t . (g_t / sqrt(S_t + eps))                                          [Alg. 1]
 * The weights follow exponentiated-gradient (mirror) ascent on the simplex with the
 * excess risks normalised by their first value e^0_t (scale-free across tasks):
 *   w_t <- w_t exp(eta e_t / e^0_t),  w <- T w / sum w                         [Alg. 1]
 * starting from w = 1; the first step only records e^0 and keeps w = 1. The sum is T (as
 * LibMTL and the official code rescale it) so that w = 1 is equal weighting.
 *
 * Guards: the update is done on log w with the maximum subtracted before exponentiating,
 * so no weight overflows; e^0_t = 0 (a zero gradient at the first step) is not usable as
 * a scale, so that task's e^0_t is taken at its first step with e_t > 0 and it gets no
 * update before (LibMTL would divide by zero).
 *
 * Loss weighting: head_w = trunk_w = w. Needs parameter gradients (scope all); the
 * accumulator S has one entry per gradient coordinate (T x D_max). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "mtb/balancer.h"

enum { HP_STEP_SIZE, HP_EPS, HP_N };

static const mtb_hparam_def excess_hparams[HP_N] = {
    [HP_STEP_SIZE] = {"step_size", MTB_HP_REAL, 1e-2, 0.0, 1e3, NULL,
                      "step size eta of the exponentiated weight update (official code and "
                      "LibMTL robust_step_size 1e-2)"},
    [HP_EPS] = {"eps", MTB_HP_REAL, 1e-7, 0.0, 1.0, NULL,
                "constant inside sqrt(S + eps) of the AdaGrad preconditioner (official code 1e-7)"},
};

typedef struct excess_state {
    int T;
    size_t Dmax, Dseen;
    double eta, eps;
    long calls;
    double *S;     /* (T, D_max) sum of squared gradients */
    double *e0;    /* (T) first positive excess-risk estimate, 0 = not yet */
    double *logw;  /* (T) log weights */
    double *w;     /* (T) weights, sum T */
} excess_state;

static void excess_fini(void *vs)
{
    excess_state *s = vs;
    free(s->S);
    free(s->e0);
    free(s->logw);
    free(s->w);
    memset(s, 0, sizeof *s);
}

static mtb_status excess_init(void *vs, int T, size_t D_max, const mtb_hparams *hp,
                              mtb_balancer_setup *setup, mtb_error *err)
{
    excess_state *s = vs;
    s->T = T;
    s->Dmax = D_max;
    s->eta = hp->v[HP_STEP_SIZE];
    s->eps = hp->v[HP_EPS];
    setup->need = MTB_NEED_PARAM_GRADS;
    setup->scope = MTB_SCOPE_ALL;
    size_t t = (size_t)T;
    s->S = calloc(t * (D_max ? D_max : 1), sizeof *s->S);
    s->e0 = calloc(t, sizeof *s->e0);
    s->logw = calloc(t, sizeof *s->logw);
    s->w = malloc(t * sizeof *s->w);
    if (!s->S || !s->e0 || !s->logw || !s->w) {
        excess_fini(s);
        return mtb_fail(err, MTB_ENOMEM, "method excess_mtl: cannot allocate the state for %d tasks "
                        "and %zu gradient columns", T, D_max);
    }
    mtb_bal_fill(s->w, T, 1.0);
    return MTB_OK;
}

static mtb_status excess_step(void *vs, const mtb_balance_in *in, mtb_balance_out *out,
                              mtb_error *err)
{
    excess_state *s = vs;
    int T = s->T;
    size_t D = in->D;
    if (s->calls > 0 && D != s->Dseen)
        return mtb_fail(err, MTB_EINVAL,
                        "method excess_mtl: the gradient has %zu columns, earlier steps had %zu "
                        "(the AdaGrad accumulator is per coordinate)",
                        D, s->Dseen);
    s->Dseen = D;
    int first = s->calls == 0;
    s->calls++;
    double mx = -INFINITY;
    for (int t = 0; t < T; t++) {
        const double *g = in->G + (size_t)t * D;
        double *S = s->S + (size_t)t * D;
        double e = 0.0;
        for (size_t c = 0; c < D; c++) {
            S[c] += g[c] * g[c];
            double h = sqrt(S[c] + s->eps);
            if (h > 0.0)
                e += g[c] * g[c] / h; /* [Alg. 1] g^T diag(sqrt(S + eps))^{-1} g */
        }
        if (s->e0[t] > 0.0) {
            if (!first) {
                double inc = s->eta * (e / s->e0[t]); /* [Alg. 1] w <- w exp(eta e / e0) */
                s->logw[t] += inc <= 1e300 ? inc : 1e300; /* e / e0 overflowed: cap */
            }
        } else if (e > 0.0) {
            s->e0[t] = e;
        }
        mx = fmax(mx, s->logw[t]);
    }
    if (!first) {
        /* the normalisation is a common shift of log w: keep max log w = 0 */
        for (int t = 0; t < T; t++) {
            s->logw[t] -= mx;
            s->w[t] = exp(s->logw[t]);
        }
        mtb_bal_normalise_sum(s->w, T, (double)T); /* sum >= 1: the maximum is exp(0) */
    }
    for (int t = 0; t < T; t++) {
        out->head_w[t] = s->w[t];
        out->trunk_w[t] = s->w[t];
    }
    return MTB_OK;
}

const mtb_balancer_type mtb_balancer_excess_mtl = {
    .name = "excess_mtl",
    .summary = "exponentiated weights from AdaGrad-preconditioned excess-risk estimates",
    .cite = "He et al., Robust Multi-Task Learning with Excess Risks, ICML 2024",
    .hparams = excess_hparams,
    .n_hparams = HP_N,
    .state_size = sizeof(excess_state),
    .init = excess_init,
    .step = excess_step,
    .fini = excess_fini,
};
