/* fairgrad.c: FairGrad, alpha-fair resource allocation between tasks.
 * Ban & Ji, "Fair Resource Allocation in Multi-Task Learning", ICML 2024 (not in
 * /work/shared/papers; Sec. 3-4 of arXiv:2402.15638; official code
 * github.com/OptMN-Lab/fairgrad, ported by LibMTL).
 *
 * Each task's "utility" is its improvement g_t . d; FairGrad maximises the alpha-fair
 * utility sum_t (g_t . d)^{1-alpha} / (1-alpha) (sum log for alpha = 1) over a ball. With
 * d = G^T w its KKT conditions reduce to
 *   (G G^T) w = w^{-1/alpha},  w > 0                                               [Sec. 4]
 * alpha = 0: the mean-gradient direction; alpha = 1: proportional fairness, the Nash-MTL
 * bargaining solution; alpha -> infinity: max-min fairness (MGDA-like).
 *
 * Solver: damped Newton on the strictly convex potential whose gradient is
 * A w - w^{-1/alpha} (alpha_fair.c), to a relative residual of 1e-13; the official code and
 * LibMTL call SciPy's least_squares (TRF, bounds (0, inf), start 1/T), which stops at a
 * residual of about 1e-9 (README), hence the golden tolerance below 1e-9 is not reachable
 * exactly. When the equation has no positive solution (A singular along a nonnegative
 * direction: zero or opposite gradients, T > D) SciPy reports failure and LibMTL uses its
 * last iterate anyway; mtb solves the ridge-regularised equation with `fallback_ridge`
 * instead (alpha_fair.h). Default alpha = 1 (LibMTL's FairGrad_alpha; the paper tunes it
 * per benchmark, e.g. alpha in {0.5, 1, 2, 5, 8}).
 *
 * Loss weighting, as the reference backpropagates sum_t w_t l_t: head_w = trunk_w = w. */
#include <stdlib.h>
#include <string.h>

#include "alpha_fair.h"
#include "gram_input.h"
#include "internal.h"
#include "mtb/balancer.h"

enum { HP_ALPHA, HP_RIDGE, HP_FALLBACK_RIDGE, HP_MAX_ITER, HP_N };

static const mtb_hparam_def fairgrad_hparams[HP_N] = {
    [HP_ALPHA] = {"alpha", MTB_HP_REAL, 1.0, 1e-3, 1e3, NULL,
                  "fairness parameter alpha (LibMTL default 1; paper tunes it per benchmark)"},
    [HP_RIDGE] = {"ridge", MTB_HP_REAL, 0.0, 0.0, 1.0, NULL,
                  "always solve (A + ridge mean(diag A) I) w = w^(-1/alpha) (0: exact)"},
    [HP_FALLBACK_RIDGE] = {"fallback_ridge", MTB_HP_REAL, 1e-8, 0.0, 1.0, NULL,
                           "ridge used when the equation has no finite solution (0: error)"},
    [HP_MAX_ITER] = {"max_iter", MTB_HP_INT, 100, 1, 1e6, NULL, "Newton iterations per solve"},
};

typedef struct fairgrad_state {
    int T;
    double alpha, ridge, fallback_ridge;
    int max_iter;
    mtb_afair_ws ws;
    double *A;  /* (T, T) */
    double *w;  /* (T) */
} fairgrad_state;

static void fairgrad_fini(void *vs)
{
    fairgrad_state *s = vs;
    mtb_afair_free(&s->ws);
    free(s->A);
    free(s->w);
    memset(s, 0, sizeof *s);
}

static mtb_status fairgrad_init(void *vs, int T, size_t D_max, const mtb_hparams *hp,
                                mtb_balancer_setup *setup, mtb_error *err)
{
    (void)D_max;
    fairgrad_state *s = vs;
    s->T = T;
    s->alpha = hp->v[HP_ALPHA];
    s->ridge = hp->v[HP_RIDGE];
    s->fallback_ridge = hp->v[HP_FALLBACK_RIDGE];
    s->max_iter = (int)hp->v[HP_MAX_ITER];
    setup->need = MTB_NEED_PARAM_GRADS;
    setup->scope = MTB_SCOPE_ALL;
    setup->gram_ok = 1; /* the method reads G only through G G^T */
    size_t t = (size_t)T;
    s->A = malloc(t * t * sizeof *s->A);
    s->w = malloc(t * sizeof *s->w);
    if (!s->A || !s->w) {
        fairgrad_fini(s);
        return mtb_fail(err, MTB_ENOMEM, "method fairgrad: cannot allocate the state for %d tasks", T);
    }
    mtb_status st = mtb_afair_init(&s->ws, T, "fairgrad", err);
    if (st != MTB_OK)
        fairgrad_fini(s);
    return st;
}

static mtb_status fairgrad_step(void *vs, const mtb_balance_in *in, mtb_balance_out *out,
                                mtb_error *err)
{
    fairgrad_state *s = vs;
    int T = s->T;
    mtb_bal_gram_of(in, s->A); /* G G^T, or given on the Gram path */ /* A = G G^T */
    mtb_afair_result res;
    mtb_status st = mtb_afair_solve(&s->ws, s->A, s->alpha, s->ridge, s->fallback_ridge,
                                    s->max_iter, s->w, &res, "fairgrad", err);
    if (st != MTB_OK)
        return st;
    for (int t = 0; t < T; t++) {
        out->head_w[t] = s->w[t];
        out->trunk_w[t] = s->w[t];
    }
    return MTB_OK;
}

const mtb_balancer_type mtb_balancer_fairgrad = {
    .name = "fairgrad",
    .summary = "alpha-fair task utilities: (G G^T) w = w^(-1/alpha), solved by damped Newton",
    .cite = "Ban & Ji, Fair Resource Allocation in Multi-Task Learning, ICML 2024",
    .hparams = fairgrad_hparams,
    .n_hparams = HP_N,
    .state_size = sizeof(fairgrad_state),
    .init = fairgrad_init,
    .step = fairgrad_step,
    .fini = fairgrad_fini,
};
