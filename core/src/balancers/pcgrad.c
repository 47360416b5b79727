/* pcgrad.c: projecting conflicting gradients.
 * Yu, Kumar, Gupta, Levine, Hausman, Finn, "Gradient Surgery for Multi-Task Learning",
 * NeurIPS 2020 (not in /work/shared/papers; Sec. 2.2 and Algorithm 1 of the arXiv version).
 *
 *   for each task i: g_i^PC = g_i; for each j != i in a random order:
 *       if g_i^PC . g_j < 0:  g_i^PC <- g_i^PC - (g_i^PC . g_j) / |g_j|^2 g_j      [Alg. 1]
 *   trunk gradient = sum_i g_i^PC                                                 [Alg. 1]
 *
 * The projection always uses the ORIGINAL g_j (Alg. 1; SLAW code, spec Sec. 4.6; LibMTL).
 * The shared update is the SUM of the projected gradients, not their mean (spec Sec. 6,
 * item 16). Every g_i^PC is g_i plus multiples of the original gradients, so the result is
 * also a loss weighting, trunk grad = sum_j c_j g_j with c_j = 1 - sum_i (g_i^PC.g_j)/|g_j|^2
 * over the projections made: that is the alpha = 1 (I + C N) of Liu et al., "Towards
 * Impartial Multi-task Learning", ICLR 2021, Appendix C.3, Eqs. (31)-(33). The step writes
 * the explicit trunk_grad and, in trunk_w, those coefficients (the vector LibMTL returns).
 * Heads use their own gradients unweighted (head_w = 1).
 *
 * Order: `order=random` draws, per step and per task i, a fresh Fisher-Yates permutation of
 * the other tasks from the balancer's own stream (Alg. 1: "for g_j in G, j != i, in random
 * order"; the SLAW code shuffles per i per step). `order=fixed` visits j = 0, 1, ... in
 * ascending order (used to test the order-dependent Eq. (32) for T >= 3).
 * `visit_self=true` is LibMTL's loop (deviation from Alg. 1, an option only): it shuffles
 * ALL T tasks for every i, i itself included, so g_i^PC may be projected onto its own
 * original g_i when earlier projections turned it against g_i (g_i^PC . g_i < 0). With
 * T = 2 both loops give the same result; for T >= 3 they differ.
 * Replay (balancer.h): recorded orders in in->draws.orders, T rows of T - 1 task indices
 * (T with visit_self), replace the random (or fixed) order; nothing is drawn then.
 *
 * `eps` is added to |g_j|^2 in the projection: 0 by default (paper); LibMTL uses 1e-8. A
 * zero g_j never conflicts (g.g_j = 0 is not < 0), so no division by zero can occur with
 * eps = 0.
 *
 * Cost. Written as in Alg. 1, the projections are T(T-1) dot products and updates of length
 * D, one after another: memory-bound, ~130 s per step at T = 128 on the PCBA shape
 * (D = 4.3M). Every quantity the algorithm reads is an inner product of original gradients,
 * so with M = G G^T (one dgemm, T^2 D flops at the BLAS rate) each task's projection runs on
 * the T inner products p_k = g_i^PC . g_k, updated in O(T) per projection
 * (p_k -= f M_jk), and the result is sum_i g_i^PC = G^T c (one dgemv). That path costs
 * T^2 D + O(T^3) and is used when D >= T; for D < T the direct O(T^2 D) loop is cheaper. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "mtb/balancer.h"

enum { HP_EPS, HP_ORDER, HP_VISIT_SELF, HP_N };

static const mtb_hparam_def pcgrad_hparams[HP_N] = {
    [HP_EPS] = {"eps", MTB_HP_REAL, 0.0, 0.0, 1.0, NULL,
                "added to |g_j|^2 in the projection (paper: 0; LibMTL: 1e-8)"},
    [HP_ORDER] = {"order", MTB_HP_CHOICE, 0, 0, 0, "random|fixed",
                  "order of the other tasks: fresh random permutation per task and step (paper "
                  "Alg. 1), or ascending (for tests)"},
    [HP_VISIT_SELF] = {"visit_self", MTB_HP_BOOL, 0, 0, 1, NULL,
                       "visit all T tasks, i itself included, in each task's order (LibMTL's "
                       "loop; paper Alg. 1: only j != i)"},
};

typedef struct pcgrad_state {
    int T;
    size_t D_max;
    double eps;
    int order;
    int self;      /* visit_self */
    size_t *idx;   /* (T) visiting order */
    unsigned char *seen; /* (T) workspace of the recorded-order check */
    double *sq;    /* (T) |g_j|^2 */
    double *coef;  /* (T) coefficients of the original gradients */
    double *pc;    /* (D_max) projected gradient of the current task (direct path) */
    double *M;     /* (T, T) Gram matrix G G^T (Gram path) */
    double *p;     /* (T) inner products of the current projected gradient with every g_k */
} pcgrad_state;

static void pcgrad_fini(void *vs)
{
    pcgrad_state *s = vs;
    free(s->idx);
    free(s->sq);
    free(s->coef);
    free(s->pc);
    free(s->M);
    free(s->p);
    free(s->seen);
    memset(s, 0, sizeof *s);
}

static mtb_status pcgrad_init(void *vs, int T, size_t D_max, const mtb_hparams *hp,
                              mtb_balancer_setup *setup, mtb_error *err)
{
    pcgrad_state *s = vs;
    s->T = T;
    s->D_max = D_max;
    s->eps = hp->v[HP_EPS];
    s->order = (int)hp->v[HP_ORDER];
    s->self = hp->v[HP_VISIT_SELF] != 0.0;
    setup->need = MTB_NEED_PARAM_GRADS;
    setup->scope = MTB_SCOPE_ALL;
    setup->replay = MTB_REPLAY_ORDERS;
    s->idx = malloc((size_t)T * sizeof *s->idx);
    s->sq = malloc((size_t)T * sizeof *s->sq);
    s->coef = malloc((size_t)T * sizeof *s->coef);
    s->pc = malloc((D_max ? D_max : 1) * sizeof *s->pc);
    s->M = malloc((size_t)T * (size_t)T * sizeof *s->M);
    s->p = malloc((size_t)T * sizeof *s->p);
    s->seen = malloc((size_t)T);
    if (!s->idx || !s->sq || !s->coef || !s->pc || !s->M || !s->p || !s->seen) {
        pcgrad_fini(s);
        return mtb_fail(err, MTB_ENOMEM, "method pcgrad: cannot allocate the state (T = %d, D = %zu)",
                        T, D_max);
    }
    return MTB_OK;
}

/* Alg. 1 on inner products only: p = M[i, :], and projecting on g_j changes p by -f M[j, :]. */
static void project_gram(pcgrad_state *s, const mtb_balance_in *in)
{
    const int T = s->T;
    mtb_bal_gram(in->G, T, in->D, s->M);
    for (int i = 0; i < T; i++) {
        memcpy(s->p, s->M + (size_t)i * T, (size_t)T * sizeof *s->p);
        int n = mtb_bal_visit_order(s->idx, T, i, s->self, s->order == 0, in->rng,
                                    in->draws.orders);
        for (int k = 0; k < n; k++) {
            int j = (int)s->idx[k];
            double d = s->p[j];
            if (d < 0.0) {
                /* d < 0 implies |g_j| > 0: the division is safe even with eps = 0 */
                double f = d / (s->M[(size_t)j * T + j] + s->eps);
                const double *Mj = s->M + (size_t)j * T;
                for (int t = 0; t < T; t++)
                    s->p[t] -= f * Mj[t];
                s->coef[j] -= f;
            }
        }
    }
}

/* Alg. 1 as written, on the gradients themselves (cheaper when D < T). */
static void project_direct(pcgrad_state *s, const mtb_balance_in *in)
{
    const int T = s->T;
    const size_t D = in->D;
    const double *G = in->G;
    for (int j = 0; j < T; j++)
        s->sq[j] = mtb_bal_dot(G + (size_t)j * D, G + (size_t)j * D, D);
    for (int i = 0; i < T; i++) {
        memcpy(s->pc, G + (size_t)i * D, D * sizeof *G);
        int n = mtb_bal_visit_order(s->idx, T, i, s->self, s->order == 0, in->rng,
                                    in->draws.orders);
        for (int k = 0; k < n; k++) {
            int j = (int)s->idx[k];
            const double *gj = G + (size_t)j * D;
            double d = mtb_bal_dot(s->pc, gj, D);
            if (d < 0.0) {
                double f = d / (s->sq[j] + s->eps);
                for (size_t c = 0; c < D; c++)
                    s->pc[c] -= f * gj[c];
                s->coef[j] -= f;
            }
        }
    }
}

static mtb_status pcgrad_step(void *vs, const mtb_balance_in *in, mtb_balance_out *out,
                              mtb_error *err)
{
    pcgrad_state *s = vs;
    const int T = s->T;
    if (in->draws.orders) {
        mtb_status st = mtb_bal_check_orders(&in->draws, T, s->self, s->seen, "pcgrad", err);
        if (st)
            return st;
    }
    for (int j = 0; j < T; j++)
        s->coef[j] = 1.0;
    if (in->D >= (size_t)T)
        project_gram(s, in);
    else
        project_direct(s, in);
    /* sum_i g_i^PC = sum_j coef_j g_j = G^T coef */
    mtb_bal_output_combination(in, s->coef, out);
    return MTB_OK;
}

const mtb_balancer_type mtb_balancer_pcgrad = {
    .name = "pcgrad",
    .summary = "projects each task gradient off the others it conflicts with, sums the results",
    .cite = "Yu et al., Gradient Surgery for Multi-Task Learning, NeurIPS 2020",
    .hparams = pcgrad_hparams,
    .n_hparams = HP_N,
    .state_size = sizeof(pcgrad_state),
    .init = pcgrad_init,
    .step = pcgrad_step,
    .fini = pcgrad_fini,
};
