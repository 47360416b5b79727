/* nash_mtl.c: Nash-MTL, the update as a Nash bargaining solution.
 * Navon, Shamsian, Achituve, Maron, Kawaguchi, Chechik, Fetaya, "Multi-Task Learning as a
 * Bargaining Game", ICML 2022 (not in /work/shared/papers; Sec. 3, Theorem 3.1 / Eq. (3)
 * and Sec. 3.1 "Solving the bargaining problem" of the PMLR version; official code
 * github.com/AvivNavon/nash-mtl, ported by LibMTL).
 *
 * The tasks bargain over an update d in a ball; the Nash bargaining solution maximises
 * sum_t log(g_t . d). Theorem 3.1: d = G^T alpha with alpha > 0 solving
 *   (G G^T) alpha = 1 / alpha    (elementwise), i.e. alpha_t (g_t . d) = 1 for all t  [Eq. (3)]
 * so every task receives the same share of the improvement, scaled by its weight.
 *
 * Solver (no cvxpy in C): the paper approximates alpha by a sequence of convex programs
 * (concave-convex procedure, at most `optim_niter` = 20 ECOS solves, stopping early at
 * |M alpha - 1/alpha| < 1e-3 on the normalised Gram matrix). Eq. (3) is the stationarity
 * condition of the strictly convex f(a) = 1/2 a^T M a - sum log a_t, M = G G^T; mtb
 * minimises f by damped Newton to a relative residual of 1e-13 (alpha_fair.c, shared with
 * FairGrad, whose alpha = 1 case is the same equation). The reference's early stop means
 * its alpha can differ from the exact solution by up to its 1e-3 residual.
 *
 * Degenerate inputs: when M a = 0 for some a >= 0, a != 0 (a zero gradient, opposite
 * gradients, T > D with 0 inside the gradients' cone) Eq. (3) has no solution (the
 * paper assumes linearly independent gradients); the solver then solves
 * (M + ridge mean(diag M) I) alpha = 1/alpha with `fallback_ridge` (default 1e-8), and all
 * gradients zero give alpha = 0.
 *
 * Options for the reference implementation:
 *   max_norm  the official code and LibMTL clip the norm of the shared-parameter gradient
 *             to max_norm = 1.0 (torch clip_grad_norm_: factor max_norm / (|d| + 1e-6)
 *             when below 1). The paper has no clipping: default 0 = off.
 *   update_weights_every  recompute alpha every k-th call, reusing it in between
 *             (official code and LibMTL default 1, i.e. every step).
 *
 * Loss weighting: the reference backpropagates sum_t alpha_t l_t, so head_w = alpha;
 * trunk_w = alpha times the clipping factor; trunk_grad = G^T trunk_w. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "alpha_fair.h"
#include "gram_input.h"
#include "internal.h"
#include "mtb/balancer.h"

enum { HP_MAX_NORM, HP_EVERY, HP_RIDGE, HP_FALLBACK_RIDGE, HP_MAX_ITER, HP_N };

static const mtb_hparam_def nash_hparams[HP_N] = {
    [HP_MAX_NORM] = {"max_norm", MTB_HP_REAL, 0.0, 0.0, 1e300, NULL,
                     "clip the shared gradient's norm to this (0 = off, paper; official code "
                     "and LibMTL: 1.0)"},
    [HP_EVERY] = {"update_weights_every", MTB_HP_INT, 1, 1, 1e9, NULL,
                  "recompute alpha every k-th step (official code and LibMTL default 1)"},
    [HP_RIDGE] = {"ridge", MTB_HP_REAL, 0.0, 0.0, 1.0, NULL,
                  "always solve (M + ridge mean(diag M) I) alpha = 1/alpha (0: Eq. (3) exactly)"},
    [HP_FALLBACK_RIDGE] = {"fallback_ridge", MTB_HP_REAL, 1e-8, 0.0, 1.0, NULL,
                           "ridge used when Eq. (3) has no finite solution (0: report an error)"},
    [HP_MAX_ITER] = {"max_iter", MTB_HP_INT, 100, 1, 1e6, NULL,
                     "Newton iterations per solve"},
};

typedef struct nash_state {
    int T;
    double max_norm, ridge, fallback_ridge;
    int every, max_iter;
    long calls;
    mtb_afair_ws ws;
    double *M;      /* (T, T) */
    double *alpha;  /* (T) */
    double *coef;   /* (T) */
    int last_fallback;
} nash_state;

static void nash_fini(void *vs)
{
    nash_state *s = vs;
    mtb_afair_free(&s->ws);
    free(s->M);
    free(s->alpha);
    free(s->coef);
    memset(s, 0, sizeof *s);
}

static mtb_status nash_init(void *vs, int T, size_t D_max, const mtb_hparams *hp,
                            mtb_balancer_setup *setup, mtb_error *err)
{
    (void)D_max;
    nash_state *s = vs;
    s->T = T;
    s->max_norm = hp->v[HP_MAX_NORM];
    s->every = (int)hp->v[HP_EVERY];
    s->ridge = hp->v[HP_RIDGE];
    s->fallback_ridge = hp->v[HP_FALLBACK_RIDGE];
    s->max_iter = (int)hp->v[HP_MAX_ITER];
    setup->need = MTB_NEED_PARAM_GRADS;
    setup->scope = MTB_SCOPE_ALL;
    setup->gram_ok = 1; /* alpha from G G^T; |G^T alpha| = sqrt(alpha^T G G^T alpha) */
    size_t t = (size_t)T;
    s->M = malloc(t * t * sizeof *s->M);
    s->alpha = calloc(t, sizeof *s->alpha);
    s->coef = malloc(t * sizeof *s->coef);
    if (!s->M || !s->alpha || !s->coef) {
        nash_fini(s);
        return mtb_fail(err, MTB_ENOMEM, "method nash_mtl: cannot allocate the state for %d tasks", T);
    }
    mtb_status st = mtb_afair_init(&s->ws, T, "nash_mtl", err);
    if (st != MTB_OK)
        nash_fini(s);
    return st;
}

static mtb_status nash_step(void *vs, const mtb_balance_in *in, mtb_balance_out *out,
                            mtb_error *err)
{
    nash_state *s = vs;
    int T = s->T;
    size_t D = in->D;
    if (s->calls % s->every == 0) {
        mtb_bal_gram_of(in, s->M); /* G G^T, or given on the Gram path */
        mtb_afair_result res;
        mtb_status st = mtb_afair_solve(&s->ws, s->M, 1.0, s->ridge, s->fallback_ridge,
                                        s->max_iter, s->alpha, &res, "nash_mtl", err);
        if (st != MTB_OK)
            return st;
        s->last_fallback = res.fallback;
    }
    s->calls++;
    double scale = 1.0;
    if (s->max_norm > 0.0 && (out->trunk_grad || in->gram.M)) {
        double n;
        if (out->trunk_grad && in->G) {
            mtb_bal_gtw(in->G, T, D, s->alpha, out->trunk_grad);
            n = mtb_bal_norm(out->trunk_grad, D);
        } else { /* the Gram path: this step's G G^T (in->gram.M, every step) */
            n = sqrt(fmax(mtb_bal_quad(in->gram.M, T, s->alpha), 0.0));
        }
        double c = s->max_norm / (n + 1e-6); /* torch.nn.utils.clip_grad_norm_ */
        if (c < 1.0)
            scale = c;
    }
    for (int t = 0; t < T; t++) {
        out->head_w[t] = s->alpha[t];
        s->coef[t] = scale * s->alpha[t];
        out->trunk_w[t] = s->coef[t];
    }
    if (out->trunk_grad && in->G) {
        mtb_bal_gtw(in->G, T, D, s->coef, out->trunk_grad);
        out->trunk_grad_set = 1;
    }
    return MTB_OK;
}

const mtb_balancer_type mtb_balancer_nash_mtl = {
    .name = "nash_mtl",
    .summary = "Nash bargaining weights: (G G^T) alpha = 1/alpha, solved by damped Newton",
    .cite = "Navon et al., Multi-Task Learning as a Bargaining Game, ICML 2022",
    .hparams = nash_hparams,
    .n_hparams = HP_N,
    .state_size = sizeof(nash_state),
    .init = nash_init,
    .step = nash_step,
    .fini = nash_fini,
};
