/* graddrop.c: gradient sign dropout.
 * Chen, Ngiam, Huang, Luong, Kretzschmar, Chai, Anguelov, "Just Pick a Sign: Optimizing Deep
 * Multitask Models with Gradient Sign Dropout", NeurIPS 2020 (not in /work/shared/papers;
 * Sec. 3, Algorithm 1).
 *
 * At the shared representation z (gradients w.r.t. z, MTB_NEED_REP_GRADS), per coordinate c:
 *   s_t[c] = sum_batch sign(z[c]) g_t[c]          (batch-summed, sign-corrected gradient)
 *   P[c]   = (1 + sum_t s_t[c] / sum_t |s_t[c]|) / 2       (gradient positive sign purity)
 *   U[c] ~ Uniform(0, 1), one draw per coordinate
 *   M_t[c] = [P > U] [s_t > 0] + [P < U] [s_t < 0]          (keep one sign, drop the other)
 *   trunk grad w.r.t. z = sum_t g_t (leak + (1 - leak) M_t)       (leak: Sec. 3, "leak
 *                                                   parameters"; 0 = pure GradDrop)
 * The explicit trunk_grad is a gradient w.r.t. z that the training step backpropagates
 * through the trunk. Heads use their own gradients (head_w = 1); trunk_w = 1 is informative.
 *
 * Batch: G's columns are the batch flattened with z, so `rep_dim` (the width of z per
 * example) tells how to sum over the batch: D must be a multiple of it. rep_dim = 0 takes
 * the width the training step passes in in->rep.dim (balancer.h); when that is 0 too, each
 * row is one example (no batch summation: every column has its own sign and draw).
 * The U draws come from the balancer's own stream, in coordinate order. Replay
 * (balancer.h): in->draws.values, one U per feature (the width of z values, feature order), are
 * used instead and nothing is drawn.
 * `eps` is LibMTL's 1e-7 added to sum_t |s_t|; by default 0 with a guard: P = 1/2 when every
 * s_t[c] is 0 (no sign information; such coordinates are then dropped for all tasks, since
 * M_t requires s_t != 0, exactly as LibMTL). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "mtb/balancer.h"

enum { HP_LEAK, HP_EPS, HP_REP_DIM, HP_N };

static const mtb_hparam_def graddrop_hparams[HP_N] = {
    [HP_LEAK] = {"leak", MTB_HP_REAL, 0.0, 0.0, 1.0, NULL,
                 "fraction of every gradient always kept (paper Sec. 3; 0 = pure GradDrop, "
                 "LibMTL default 0)"},
    [HP_EPS] = {"eps", MTB_HP_REAL, 0.0, 0.0, 1.0, NULL,
                "added to sum_t |s_t| in the purity (paper: 0; LibMTL: 1e-7)"},
    [HP_REP_DIM] = {"rep_dim", MTB_HP_INT, 0, 0, 1e9, NULL,
                    "width of z per example, to sum over the batch (0: the training step's dim z)"},
};

typedef struct graddrop_state {
    int T;
    size_t D_max;
    double leak, eps;
    size_t rep_dim;
    double *s;         /* (T, D_max) batch-summed signed gradients */
    unsigned char *m;  /* (T, D_max) masks */
} graddrop_state;

static void graddrop_fini(void *vs)
{
    graddrop_state *s = vs;
    free(s->s);
    free(s->m);
    memset(s, 0, sizeof *s);
}

static mtb_status graddrop_init(void *vs, int T, size_t D_max, const mtb_hparams *hp,
                                mtb_balancer_setup *setup, mtb_error *err)
{
    graddrop_state *s = vs;
    s->T = T;
    s->D_max = D_max;
    s->leak = hp->v[HP_LEAK];
    s->eps = hp->v[HP_EPS];
    s->rep_dim = (size_t)hp->v[HP_REP_DIM];
    setup->need = MTB_NEED_REP_GRADS;
    setup->scope = MTB_SCOPE_ALL;
    setup->replay = MTB_REPLAY_VALUES;
    size_t n = (size_t)T * (D_max ? D_max : 1);
    s->s = malloc(n * sizeof *s->s);
    s->m = malloc(n);
    if (!s->s || !s->m) {
        graddrop_fini(s);
        return mtb_fail(err, MTB_ENOMEM, "method graddrop: cannot allocate the state (T = %d, D = %zu)",
                        T, D_max);
    }
    return MTB_OK;
}

static double sgn(double x) { return (x > 0.0) - (x < 0.0); }

static mtb_status graddrop_step(void *vs, const mtb_balance_in *in, mtb_balance_out *out,
                                mtb_error *err)
{
    graddrop_state *s = vs;
    int T = s->T;
    size_t D = in->D;
    if (!in->rep.Z)
        return mtb_fail(err, MTB_EINVAL,
                        "method graddrop needs the representation Z (its signs), got Z = NULL");
    if (!out->trunk_grad)
        return mtb_fail(err, MTB_EINVAL,
                        "method graddrop returns an explicit gradient w.r.t. z, but trunk_grad is NULL");
    size_t k = s->rep_dim ? s->rep_dim : in->rep.dim > 0 ? (size_t)in->rep.dim : D;
    if (D % k)
        return mtb_fail(err, MTB_EINVAL,
                        "method graddrop: G has %zu columns, not a multiple of rep_dim = %zu", D, k);
    size_t B = D / k;
    const double *U_rec = in->draws.values;
    if (U_rec && in->draws.n_values != k)
        return mtb_fail(err, MTB_EINVAL,
                        "method graddrop: %zu recorded uniforms, expected one per feature of z "
                        "(%zu)", in->draws.n_values, k);
    for (int t = 0; t < T; t++) {
        double *st = s->s + (size_t)t * k;
        const double *g = in->G + (size_t)t * D;
        memset(st, 0, k * sizeof *st);
        for (size_t b = 0; b < B; b++)
            for (size_t c = 0; c < k; c++)
                st[c] += sgn(in->rep.Z[b * k + c]) * g[b * k + c];
    }
    for (size_t c = 0; c < k; c++) {
        double sum = 0.0, abs = 0.0;
        for (int t = 0; t < T; t++) {
            sum += s->s[(size_t)t * k + c];
            abs += fabs(s->s[(size_t)t * k + c]);
        }
        double den = abs + s->eps;
        double P = den > 0.0 ? 0.5 * (1.0 + sum / den) : 0.5;
        double U = U_rec ? U_rec[c] : mtb_rng_uniform(in->rng);
        for (int t = 0; t < T; t++) {
            double st = s->s[(size_t)t * k + c];
            s->m[(size_t)t * k + c] = (unsigned char)((P > U && st > 0.0) || (P < U && st < 0.0));
        }
    }
    double *acc = out->trunk_grad;
    memset(acc, 0, D * sizeof *acc);
    for (int t = 0; t < T; t++) {
        const double *g = in->G + (size_t)t * D;
        const unsigned char *mt = s->m + (size_t)t * k;
        for (size_t b = 0; b < B; b++)
            for (size_t c = 0; c < k; c++)
                acc[b * k + c] += g[b * k + c] * (s->leak + (1.0 - s->leak) * mt[c]);
    }
    for (int t = 0; t < T; t++) {
        out->head_w[t] = 1.0;
        out->trunk_w[t] = 1.0;
    }
    out->trunk_grad_set = 1;
    return MTB_OK;
}

const mtb_balancer_type mtb_balancer_graddrop = {
    .name = "graddrop",
    .summary = "per coordinate of z, keeps the gradients of one sign drawn by sign purity",
    .cite = "Chen et al., Just Pick a Sign: Optimizing Deep Multitask Models with Gradient Sign "
            "Dropout, NeurIPS 2020",
    .hparams = graddrop_hparams,
    .n_hparams = HP_N,
    .state_size = sizeof(graddrop_state),
    .init = graddrop_init,
    .step = graddrop_step,
    .fini = graddrop_fini,
};
