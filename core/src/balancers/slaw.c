/* slaw.c: Scaled Loss Approximate Weighting. Crawshaw & Kosecka, "SLAW: Scaled Loss
 * Approximate Weighting for Efficient Multi-Task Learning", 2021, Sec. 3.2.
 * Per task, running moments of the loss and of its square
 *   a_i <- beta a_i + (1 - beta) L_i^2                               [Eq. 6]
 *   b_i <- beta b_i + (1 - beta) L_i                                 [Eq. 7]
 *   s_i  = sqrt(a_i - b_i^2)                                         [Eq. 8]
 *   w_i  = n (1/max(s_i, 1e-5)) / sum_j 1/max(s_j, 1e-5)             [Eq. 9, floor of Alg. 1]
 * s_i estimates the std of L_i, which Theorem 1 relates to ||g_i||, so Eq. 9
 * approximates Eq. 4 (w_i proportional to 1/||g_i||, sum n) without task gradients.
 * As the authors' code does (spec 4.1), by default:
 *   - moments are not a zero-initialised EMA: for the first K = round(1/(1-beta)) samples
 *     they are the exact arithmetic means of the samples so far, then the EMA above;
 *   - the weights are pre-loss (step t's weights include L(t)); they stay 1 at t = 0 and
 *     are only recomputed when no task's variance is negative (the code's sqrt gives NaN
 *     there, and it keeps the previous weights);
 * and weights sum to n (heads and trunk: it is a loss weight).
 * Erratum: Algorithm 1 accumulates L into a_i and L^2 into b_i and takes
 * sqrt(a_i - b_i): moments swapped and the mean not squared. Eqs. 6-8 (implemented here)
 * are right. Ablation init=zero: the paper's zero-initialised EMA of Alg. 1 (with the
 * moments the right way round), weights computed from t = 0 on. */
#include <math.h>
#include <stdlib.h>

#include "internal.h"

enum { INIT_WARMUP = 0, INIT_ZERO = 1 };

static const mtb_hparam_def slaw_hp[] = {
    {"beta", MTB_HP_REAL, 0.99, 0.0, 0.999999, NULL, "moving-average coefficient (paper: 0.99)"},
    {"floor", MTB_HP_REAL, 1e-5, 1e-300, 1.0, NULL, "lower bound on s_i (Algorithm 1: 1e-5)"},
    {"init", MTB_HP_CHOICE, INIT_WARMUP, 0, 0, "warmup|zero",
     "moments: arithmetic-mean warm-up then EMA (authors' code) or zero-init EMA (Alg. 1)"},
};

typedef struct slaw_state {
    int T, init;
    double beta, floor;
    long count, K;     /* samples seen; warm-up length */
    double *m1, *m2, *w;
} slaw_state;

static mtb_status slaw_init(void *state, int T, size_t D_max, const mtb_hparams *hp,
                            mtb_balancer_setup *setup, mtb_error *err)
{
    (void)D_max;
    slaw_state *s = state;
    s->T = T;
    s->beta = hp->v[0];
    s->floor = hp->v[1];
    s->init = (int)hp->v[2];
    s->K = lround(1.0 / (1.0 - s->beta));
    s->m1 = calloc(3 * (size_t)T, sizeof *s->m1);
    if (!s->m1)
        return mtb_fail(err, MTB_ENOMEM, "method slaw: cannot allocate %d moments", 3 * T);
    s->m2 = s->m1 + T;
    s->w = s->m2 + T;
    mtb_bal_fill(s->w, T, 1.0);
    setup->need = MTB_NEED_LOSSES;
    return MTB_OK;
}

static mtb_status slaw_step(void *state, const mtb_balance_in *in, mtb_balance_out *out,
                            mtb_error *err)
{
    (void)err;
    slaw_state *s = state;
    int T = s->T;
    s->count++;
    for (int i = 0; i < T; i++) {
        double x = in->losses[i];
        if (s->init == INIT_WARMUP && s->count <= s->K) {
            /* exact running arithmetic mean of the first count samples */
            s->m1[i] += (x - s->m1[i]) / (double)s->count;
            s->m2[i] += (x * x - s->m2[i]) / (double)s->count;
        } else {
            s->m1[i] = s->beta * s->m1[i] + (1.0 - s->beta) * x;       /* Eq. 7 */
            s->m2[i] = s->beta * s->m2[i] + (1.0 - s->beta) * x * x;   /* Eq. 6 */
        }
    }
    int ok = s->init == INIT_ZERO || s->count >= 2;
    for (int i = 0; i < T && ok; i++)
        ok = s->m2[i] - s->m1[i] * s->m1[i] >= 0.0; /* the code's NaN guard */
    if (ok) {
        double sum = 0.0;
        for (int i = 0; i < T; i++) {
            double sd = sqrt(s->m2[i] - s->m1[i] * s->m1[i]);         /* Eq. 8 */
            out->trunk_w[i] = 1.0 / fmax(sd, s->floor);
            sum += out->trunk_w[i];
        }
        for (int i = 0; i < T; i++)
            s->w[i] = T * out->trunk_w[i] / sum;                      /* Eq. 9 */
    }
    for (int i = 0; i < T; i++)
        out->head_w[i] = out->trunk_w[i] = s->w[i];
    return MTB_OK;
}

static void slaw_fini(void *state)
{
    free(((slaw_state *)state)->m1);
}

const mtb_balancer_type mtb_balancer_slaw = {
    .name = "slaw",
    .summary = "SLAW: weights proportional to 1/std of each loss's running history, sum T",
    .cite = "Crawshaw & Kosecka, SLAW: Scaled Loss Approximate Weighting for Efficient "
            "Multi-Task Learning, 2021 (Sec. 3.2, Eqs. 6-9)",
    .hparams = slaw_hp,
    .n_hparams = 3,
    .state_size = sizeof(slaw_state),
    .init = slaw_init,
    .step = slaw_step,
    .fini = slaw_fini,
};
