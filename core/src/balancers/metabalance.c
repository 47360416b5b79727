/* metabalance.c: MetaBalance. He, Feng, Cheng, Ji, Guo & Caverlee, "MetaBalance: Improving
 * Multi-Task Recommendations via Adapting Gradient Magnitudes of Auxiliary Tasks", WWW 2022
 * (arXiv:2203.06801), Sec. 3 and Algorithm 1; official code facebookresearch/MetaBalance
 * (metabalance.py), from which the formulas below and the defaults were checked.
 * Task m = main_task is the target task, every other task t is auxiliary. For every block b
 * of shared parameters (balancer.h: each parameter tensor, as the official optimiser loops
 * over `p in params`) and every task t, at every step:
 *   n_t,b  = beta n_t,b + (1 - beta) ||g_t,b||,   n_t,b = 0 before the first step
 *                                       [moving average of the magnitude; no bias correction]
 *   g~_t,b = r (n_m,b / n_t,b) g_t,b + (1 - r) g_t,b      (t auxiliary)   [relax factor r]
 *   g~_m,b = g_m,b                                        (target task, unchanged)
 *   trunk gradient = g~_m + sum_{t != m} g~_t               [the sum the optimiser receives]
 * r = 1 gives every auxiliary block the target's moving-average magnitude ratio exactly,
 * r = 0 the plain sum (equal weighting). Heads are trained on their own, unweighted losses
 * (head_w = 1), as in the official example (a separate optimiser on the task layers).
 * Defaults r = 0.7 and beta = 0.9: the official code's defaults (its docstring: beta "set
 * as 0.9 empirically"); the paper tunes r per dataset.
 * Deviations: n_t,b = 0 (a block whose gradient has been zero at every step so far) leaves
 * g_t,b as it is (zero), where the official code divides 0 by 0; r = 1 is allowed (the
 * official code requires r < 1). per_block = false treats all shared parameters as one
 * block (an ablation; also what happens when the caller passes no block structure).
 * trunk_w is informative: ||g~_t|| / ||g_t|| over all blocks (1 for a zero gradient), the
 * coefficient of g_t when there is one block. Needs G of scope ALL (explicit trunk_grad). */
#include <cblas.h>
#include <math.h>
#include <stdlib.h>

#include "internal.h"

static const mtb_hparam_def mb_hp[] = {
    {"relax", MTB_HP_REAL, 0.7, 0.0, 1.0, NULL,
     "relax factor r: 0 = plain sum, 1 = aux magnitudes = target's (official code default 0.7)"},
    {"beta", MTB_HP_REAL, 0.9, 0.0, 0.999999, NULL,
     "moving average of the block gradient norms (official code: 0.9, 'set empirically')"},
    {"main_task", MTB_HP_INT, 0, 0, 1e6, NULL, "index of the target task (paper: the target)"},
    {"per_block", MTB_HP_BOOL, 1, 0, 1, NULL,
     "true: per parameter tensor as the paper/code; false: all shared parameters as one block"},
};

typedef struct mb_state {
    int T, main, per_block;
    double r, beta;
    int nb_seen;     /* blocks of the first step (0 before it): the averages are per block */
    int MB;          /* block capacity of n */
    double *n;       /* (T, MB) moving averages of the block norms, row t = task t */
    double *c;       /* (T) this block's coefficients */
    double *num, *den; /* (T) squared norms of g~_t and g_t, for trunk_w */
} mb_state;

static mtb_status mb_init(void *state, int T, size_t D_max, const mtb_hparams *hp,
                          mtb_balancer_setup *setup, mtb_error *err)
{
    mb_state *s = state;
    s->T = T;
    s->r = hp->v[0];
    s->beta = hp->v[1];
    s->main = (int)hp->v[2];
    s->per_block = hp->v[3] != 0.0;
    if (s->main >= T)
        return mtb_fail(err, MTB_EINVAL,
                        "method metabalance: main_task must be a task index in 0..%d, got %d",
                        T - 1, s->main);
    setup->need = MTB_NEED_PARAM_GRADS;
    setup->scope = MTB_SCOPE_ALL;
    s->MB = D_max < MTB_MAX_BLOCKS ? (D_max ? (int)D_max : 1) : MTB_MAX_BLOCKS;
    s->n = calloc((size_t)T * (size_t)s->MB, sizeof *s->n);
    s->c = malloc(3 * (size_t)T * sizeof *s->c);
    if (!s->n || !s->c)
        return mtb_fail(err, MTB_ENOMEM,
                        "method metabalance: cannot allocate the (%d x %d) block norms", T, s->MB);
    s->num = s->c + T;
    s->den = s->num + T;
    return MTB_OK;
}

static mtb_status mb_step(void *state, const mtb_balance_in *in, mtb_balance_out *out,
                          mtb_error *err)
{
    mb_state *s = state;
    const int T = in->T;
    const size_t D = in->D;
    if (!out->trunk_grad)
        return mtb_fail(err, MTB_EINVAL, "method metabalance returns an explicit trunk gradient: "
                        "out->trunk_grad is NULL (needs parameter gradients of scope all)");
    size_t whole[2] = {0, D};
    const size_t *off = whole;
    int nb = 1;
    if (s->per_block && in->blocks.n > 0) {
        off = in->blocks.off;
        nb = in->blocks.n;
    }
    if (nb > s->MB)
        return mtb_fail(err, MTB_EINVAL, "method metabalance: %d parameter blocks, state holds %d",
                        nb, s->MB);
    if (s->nb_seen && nb != s->nb_seen)
        return mtb_fail(err, MTB_EINVAL,
                        "method metabalance: the step has %d parameter blocks, earlier steps had "
                        "%d (its moving averages are per block)", nb, s->nb_seen);
    s->nb_seen = nb;
    for (int t = 0; t < T; t++)
        s->num[t] = s->den[t] = 0.0;
    for (int b = 0; b < nb; b++) {
        const size_t o = off[b], len = off[b + 1] - off[b];
        for (int t = 0; t < T; t++) {
            double g = mtb_bal_norm(in->G + (size_t)t * D + o, len);
            double *n = s->n + (size_t)t * s->MB + b;
            *n = s->beta * *n + (1.0 - s->beta) * g;
            s->den[t] += g * g;
            s->c[t] = g; /* the norm, until the coefficients below */
        }
        const double nm = s->n[(size_t)s->main * s->MB + b];
        for (int t = 0; t < T; t++) {
            const double nt = s->n[(size_t)t * s->MB + b], g = s->c[t];
            double c = 1.0;
            if (t != s->main && nt > 0.0) {
                c = s->r * (nm / nt) + (1.0 - s->r);
                if (!isfinite(c))
                    return mtb_fail(err, MTB_ENUMERIC,
                                    "method metabalance: block %d, task %d: magnitude ratio "
                                    "%g / %g overflows", b, t, nm, nt);
            }
            s->num[t] += c * c * g * g;
            s->c[t] = c;
        }
        /* trunk_grad[o : o + len] = G[:, o : o + len]^T c */
        cblas_dgemv(CblasRowMajor, CblasTrans, T, (int)len, 1.0, in->G + o, (int)D, s->c, 1, 0.0,
                    out->trunk_grad + o, 1);
    }
    for (int t = 0; t < T; t++) {
        out->head_w[t] = 1.0;
        out->trunk_w[t] = s->den[t] > 0.0 ? sqrt(s->num[t] / s->den[t]) : 1.0;
    }
    out->trunk_grad_set = 1;
    return MTB_OK;
}

static void mb_fini(void *state)
{
    mb_state *s = state;
    free(s->n);
    free(s->c);
}

const mtb_balancer_type mtb_balancer_metabalance = {
    .name = "metabalance",
    .summary = "MetaBalance: per-layer, auxiliary gradients pulled toward the target task's "
               "moving-average magnitude (relax r)",
    .cite = "He et al., MetaBalance: Improving Multi-Task Recommendations via Adapting Gradient "
            "Magnitudes of Auxiliary Tasks, WWW 2022, Algorithm 1",
    .hparams = mb_hp,
    .n_hparams = 4,
    .state_size = sizeof(mb_state),
    .init = mb_init,
    .step = mb_step,
    .fini = mb_fini,
};
