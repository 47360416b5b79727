/* cagrad.c: conflict-averse gradient descent.
 * Liu, Liu, Jin, Stone, Liu, "Conflict-Averse Gradient Descent for Multi-task Learning",
 * NeurIPS 2021 (not in /work/shared/papers; Sec. 3.1 and Algorithm 1 of the arXiv version).
 *
 * CAGrad looks, in a ball around the average gradient g0 = (1/T) sum_t g_t, for the update
 * that most improves the worst task:
 *   max_d min_t g_t.d   s.t.  |d - g0| <= c |g0|                                [Sec. 3.1]
 * Its dual over the simplex, with A = G G^T, b = A 1/T (b_t = g_t.g0), phi = c |g0|:
 *   w* = argmin_{w in simplex} F(w) = w.b + phi sqrt(w^T A w)                   [Alg. 1]
 *   d  = g0 + phi / |g_w| g_w,   g_w = sum_t w*_t g_t                           [Alg. 1]
 * and, with `rescale` (official code / LibMTL option, default 1), d / (1 + c^2); 2 gives
 * d / (1 + c); 0 none. c = 0 gives the mean gradient.
 *
 * Inner solver (exact, not SciPy's SLSQP as in LibMTL): F is convex on the simplex; it is
 * minimised by accelerated projected gradient (simplex.c: FISTA with backtracking and
 * adaptive restart) from w = 1/T, with grad F = b + phi A w / sqrt(w^T A w).
 * Stopping rule: the Frank-Wolfe gap grad F(w).w - min_t grad F(w)_t, an upper bound on
 * F(w) - min F, is <= 1e-12 max_t A_tt (i.e. relative to the squared gradient scale), or
 * `max_iter` iterations; the iterate with the smallest gap is used.
 *
 * The step writes the explicit trunk_grad d and, in trunk_w, its coefficients on the raw
 * gradients, (1/T + lambda w*_t) / rescale with lambda = phi / |g_w| (d is exactly
 * G^T trunk_w). head_w = 1 (LibMTL: heads use their own gradients).
 *
 * `eps` reproduces LibMTL's 1e-8 terms: phi = c sqrt(mean(A) + eps) + eps (mean(A) =
 * |g0|^2), sqrt(w^T A w + eps) in F, lambda = phi / (|g_w| + eps). The default eps = 0 is
 * the paper's; then a zero g_w (0 in the convex hull) gives lambda g_w = 0, i.e. d = g0,
 * the limit of LibMTL's regularised expression, and grad F uses the subgradient b there. */
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gram_input.h"
#include "internal.h"
#include "mtb/balancer.h"
#include "simplex.h"

enum { HP_C, HP_RESCALE, HP_EPS, HP_MAX_ITER, HP_N };

static const mtb_hparam_def cagrad_hparams[HP_N] = {
    [HP_C] = {"c", MTB_HP_REAL, 0.5, 0.0, 100.0, NULL,
              "radius of the ball around g0, in units of |g0| (LibMTL default calpha 0.5; "
              "paper's convergence result needs c < 1)"},
    [HP_RESCALE] = {"rescale", MTB_HP_CHOICE, 1, 0, 0, "none|1+c^2|1+c",
                    "divide the update by 1 + c^2 (official code and LibMTL default) or 1 + c"},
    [HP_EPS] = {"eps", MTB_HP_REAL, 0.0, 0.0, 1.0, NULL,
                "LibMTL's regularising constant (1e-8) in phi, sqrt and lambda; paper: 0"},
    [HP_MAX_ITER] = {"max_iter", MTB_HP_INT, 100000, 1, 1e9, NULL,
                     "iteration cap of the inner solver (it stops on its gap certificate first)"},
};

typedef struct cagrad_state {
    int T;
    double c, eps;
    int rescale, max_iter;
    double phi;     /* per step */
    double *A;      /* (T, T) Gram matrix */
    double *b;      /* (T) A 1/T */
    double *w;      /* (T) simplex weights */
    double *coef;   /* (T) coefficients of d on the raw gradients */
    double *work;   /* (6 T) solver workspace */
} cagrad_state;

static void cagrad_fini(void *vs)
{
    cagrad_state *s = vs;
    free(s->A);
    free(s->b);
    free(s->w);
    free(s->coef);
    free(s->work);
    memset(s, 0, sizeof *s);
}

static mtb_status cagrad_init(void *vs, int T, size_t D_max, const mtb_hparams *hp,
                              mtb_balancer_setup *setup, mtb_error *err)
{
    (void)D_max;
    cagrad_state *s = vs;
    s->T = T;
    s->c = hp->v[HP_C];
    s->rescale = (int)hp->v[HP_RESCALE];
    s->eps = hp->v[HP_EPS];
    s->max_iter = (int)hp->v[HP_MAX_ITER];
    setup->need = MTB_NEED_PARAM_GRADS;
    setup->scope = MTB_SCOPE_ALL;
    setup->gram_ok = 1; /* the method reads G only through G G^T; d = G^T coef is trunk_w's backward */
    size_t t = (size_t)T;
    s->A = malloc(t * t * sizeof *s->A);
    s->b = malloc(t * sizeof *s->b);
    s->w = malloc(t * sizeof *s->w);
    s->coef = malloc(t * sizeof *s->coef);
    s->work = malloc(6 * t * sizeof *s->work);
    if (!s->A || !s->b || !s->w || !s->coef || !s->work) {
        cagrad_fini(s);
        return mtb_fail(err, MTB_ENOMEM, "method cagrad: cannot allocate the state for %d tasks", T);
    }
    return MTB_OK;
}

/* F(w) = w.b + phi sqrt(w^T A w + eps); grad = b + phi A w / sqrt(w^T A w + eps). */
static double cagrad_obj(void *ctx, const double *w, double *grad)
{
    const cagrad_state *s = ctx;
    int T = s->T;
    cblas_dgemv(CblasRowMajor, CblasNoTrans, T, T, 1.0, s->A, T, w, 1, 0.0, grad, 1); /* A w */
    double q = 0.0, lin = 0.0;
    for (int i = 0; i < T; i++) {
        q += w[i] * grad[i];
        lin += w[i] * s->b[i];
    }
    double r = sqrt(fmax(q, 0.0) + s->eps);
    double f = r > 0.0 ? s->phi / r : 0.0;
    for (int i = 0; i < T; i++)
        grad[i] = s->b[i] + f * grad[i];
    return lin + s->phi * r;
}

static mtb_status cagrad_step(void *vs, const mtb_balance_in *in, mtb_balance_out *out,
                              mtb_error *err)
{
    (void)err;
    cagrad_state *s = vs;
    int T = s->T;
    size_t D = in->D;
    mtb_bal_gram_of(in, s->A); /* G G^T, or given on the Gram path */
    double meanA = 0.0, dmax = 0.0;
    for (int i = 0; i < T; i++) {
        double bi = 0.0;
        for (int j = 0; j < T; j++)
            bi += s->A[(size_t)i * T + j];
        s->b[i] = bi / T;
        meanA += bi;
        dmax = fmax(dmax, s->A[(size_t)i * T + i]);
    }
    meanA /= (double)T * T; /* = |g0|^2 */
    s->phi = s->c * sqrt(fmax(meanA, 0.0) + s->eps) + s->eps;

    mtb_bal_fill(s->w, T, 1.0 / T);
    if (T > 1 && s->phi > 0.0) {
        mtb_simplex_result res;
        mtb_simplex_minimize(T, cagrad_obj, s, s->w, s->work, s->max_iter, 1e-12 * dmax, &res);
    } else if (T > 1) {
        /* phi = 0: F is linear, minimised at the vertex of the smallest b_t; lambda = 0 makes
         * the choice irrelevant for d. */
        int best = 0;
        for (int i = 1; i < T; i++)
            if (s->b[i] < s->b[best])
                best = i;
        mtb_bal_fill(s->w, T, 0.0);
        s->w[best] = 1.0;
    }
    /* |g_w|^2 = w^T A w */
    double gwn = sqrt(fmax(mtb_bal_quad(s->A, T, s->w), 0.0));
    double den = gwn + s->eps;
    double lambda = den > 0.0 ? s->phi / den : 0.0;
    double scale = s->rescale == 1 ? 1.0 + s->c * s->c : s->rescale == 2 ? 1.0 + s->c : 1.0;
    for (int t = 0; t < T; t++) {
        s->coef[t] = (1.0 / T + lambda * s->w[t]) / scale;
        out->head_w[t] = 1.0;
        out->trunk_w[t] = s->coef[t];
    }
    if (out->trunk_grad && in->G) {
        mtb_bal_gtw(in->G, T, D, s->coef, out->trunk_grad);
        out->trunk_grad_set = 1;
    }
    return MTB_OK;
}

const mtb_balancer_type mtb_balancer_cagrad = {
    .name = "cagrad",
    .summary = "best worst-task improvement within a ball around the mean gradient",
    .cite = "Liu et al., Conflict-Averse Gradient Descent for Multi-task Learning, NeurIPS 2021",
    .hparams = cagrad_hparams,
    .n_hparams = HP_N,
    .state_size = sizeof(cagrad_state),
    .init = cagrad_init,
    .step = cagrad_step,
    .fini = cagrad_fini,
};
