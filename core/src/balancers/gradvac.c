/* gradvac.c: Gradient Vaccine.
 * Wang, Tsvetkov, Firat, Cao, "Gradient Vaccine: Investigating and Improving Multi-task
 * Optimization in Massively Multilingual Models", ICLR 2021 (not in /work/shared/papers;
 * Sec. 3.3 and Algorithm 1).
 *
 * GradVac generalises PCGrad: instead of acting only when the cosine phi_ij between g_i and
 * g_j is negative, it raises phi_ij to an adaptive target phi^_ij, an exponential moving
 * average of the observed cosines. For each task i and each j != i in random order:
 *   phi_ij = g_i^PC . g_j / (|g_i^PC| |g_j|)
 *   if phi_ij < phi^_ij:
 *       g_i^PC <- g_i^PC + |g_i^PC| (phi^_ij sqrt(1 - phi_ij^2) - phi_ij sqrt(1 - phi^_ij^2))
 *                          / (|g_j| sqrt(1 - phi^_ij^2)) g_j                       [Sec. 3.3]
 *   phi^_ij <- (1 - beta) phi^_ij + beta phi_ij   (always, with phi_ij from before the
 *                                                  adjustment)                     [Alg. 1]
 * trunk gradient = sum_i g_i^PC. phi^ (rho_T in LibMTL) starts at 0 and is the state.
 * As with PCGrad the result is sum_j c_j g_j over the ORIGINAL gradients; trunk_w holds
 * those c_j (LibMTL returns ones instead), trunk_grad the explicit vector, head_w = 1.
 *
 * Granularity: the whole shared model is one group (LibMTL group_type 0). The paper also
 * applies it per layer / per parameter matrix; this interface passes one flat gradient
 * per task, so those variants are not offered.
 *
 * beta: LibMTL's default 0.5 (the paper's value could not be checked here: the paper is not
 * in /work/shared/papers). `eps` is LibMTL's 1e-8 added to both denominators; the default
 * 0 follows the paper, with guards instead: a zero |g_i^PC| or |g_j| gives phi = 0 (no
 * direction to compare), and no adjustment is made when sqrt(1 - phi^^2) = 0 (|phi^| = 1,
 * where the update is undefined). Cosines are clamped to [-1, 1] against rounding.
 * `order` as in pcgrad.c (random per task and step, or ascending for tests). Replay
 * (balancer.h): recorded orders in in->draws.orders, T rows of the T - 1 other tasks
 * (LibMTL's loop visits j != i, as the paper), replace them; nothing is drawn then. The
 * targets phi^ are updated in the visiting order, so the order matters for T >= 3.
 *
 * Cost: as in pcgrad.c, everything the algorithm reads is an inner product of original
 * gradients (g_i^PC . g_j, |g_i^PC|^2 and |g_j|^2), so for D >= T it runs on the Gram matrix
 * M = G G^T (one dgemm) with O(T) work per adjustment, and the result is one G^T c; for
 * D < T the direct loop over the gradients is cheaper. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "mtb/balancer.h"

enum { HP_BETA, HP_EPS, HP_ORDER, HP_N };

static const mtb_hparam_def gradvac_hparams[HP_N] = {
    [HP_BETA] = {"beta", MTB_HP_REAL, 0.5, 0.0, 1.0, NULL,
                 "EMA rate of the cosine targets (LibMTL default 0.5)"},
    [HP_EPS] = {"eps", MTB_HP_REAL, 0.0, 0.0, 1.0, NULL,
                "added to the denominators (paper: 0; LibMTL: 1e-8)"},
    [HP_ORDER] = {"order", MTB_HP_CHOICE, 0, 0, 0, "random|fixed",
                  "order of the other tasks: random per task and step (paper), or ascending"},
};

typedef struct gradvac_state {
    int T;
    double beta, eps;
    int order;
    double *rho;   /* (T, T) targets phi^_ij */
    double *norm;  /* (T) |g_j| */
    double *coef;  /* (T) coefficients of the original gradients */
    size_t *idx;   /* (T) */
    unsigned char *seen; /* (T) workspace of the recorded-order check */
    double *pc;    /* (D_max) projected gradient of the current task (direct path) */
    double *M;     /* (T, T) Gram matrix (Gram path) */
    double *p;     /* (T) g_i^PC . g_k for every k (Gram path) */
} gradvac_state;

static void gradvac_fini(void *vs)
{
    gradvac_state *s = vs;
    free(s->rho);
    free(s->norm);
    free(s->coef);
    free(s->idx);
    free(s->pc);
    free(s->M);
    free(s->p);
    free(s->seen);
    memset(s, 0, sizeof *s);
}

static mtb_status gradvac_init(void *vs, int T, size_t D_max, const mtb_hparams *hp,
                               mtb_balancer_setup *setup, mtb_error *err)
{
    gradvac_state *s = vs;
    s->T = T;
    s->beta = hp->v[HP_BETA];
    s->eps = hp->v[HP_EPS];
    s->order = (int)hp->v[HP_ORDER];
    setup->need = MTB_NEED_PARAM_GRADS;
    setup->scope = MTB_SCOPE_ALL;
    setup->replay = MTB_REPLAY_ORDERS;
    s->rho = calloc((size_t)T * (size_t)T, sizeof *s->rho);
    s->norm = malloc((size_t)T * sizeof *s->norm);
    s->coef = malloc((size_t)T * sizeof *s->coef);
    s->idx = malloc((size_t)T * sizeof *s->idx);
    s->pc = malloc((D_max ? D_max : 1) * sizeof *s->pc);
    s->M = malloc((size_t)T * (size_t)T * sizeof *s->M);
    s->p = malloc((size_t)T * sizeof *s->p);
    s->seen = malloc((size_t)T);
    if (!s->rho || !s->norm || !s->coef || !s->idx || !s->pc || !s->M || !s->p || !s->seen) {
        gradvac_fini(s);
        return mtb_fail(err, MTB_ENOMEM, "method gradvac: cannot allocate the state (T = %d, D = %zu)",
                        T, D_max);
    }
    return MTB_OK;
}

/* One pair (i, j) of Sec. 3.3 given pn = |g_i^PC| and d = g_i^PC . g_j: updates the target
 * phi^_ij and returns the multiple w of g_j to add to g_i^PC (0: no adjustment). */
static double adjust(gradvac_state *s, int i, int j, double pn, double d)
{
    double den = pn * s->norm[j] + s->eps;
    double phi = den > 0.0 ? d / den : 0.0;
    phi = fmax(-1.0, fmin(1.0, phi));
    double *target = &s->rho[(size_t)i * s->T + j];
    double rt = *target, w = 0.0;
    if (phi < rt) {
        double srt = sqrt(fmax(0.0, 1.0 - rt * rt));
        double den2 = s->norm[j] * srt + s->eps;
        if (den2 > 0.0)
            w = pn * (rt * sqrt(fmax(0.0, 1.0 - phi * phi)) - phi * srt) / den2;
    }
    *target = (1.0 - s->beta) * rt + s->beta * phi;
    return w;
}

/* On inner products only: p = M[i, :] and q = |g_i^PC|^2; adding w g_j changes p by
 * w M[j, :] and q by 2 w p_j + w^2 M_jj. */
static void vaccinate_gram(gradvac_state *s, const mtb_balance_in *in)
{
    const int T = s->T;
    mtb_bal_gram(in->G, T, in->D, s->M);
    for (int j = 0; j < T; j++)
        s->norm[j] = sqrt(fmax(0.0, s->M[(size_t)j * T + j]));
    for (int i = 0; i < T; i++) {
        memcpy(s->p, s->M + (size_t)i * T, (size_t)T * sizeof *s->p);
        double q = s->M[(size_t)i * T + i];
        int n = mtb_bal_visit_order(s->idx, T, i, 0, s->order == 0, in->rng, in->draws.orders);
        for (int k = 0; k < n; k++) {
            int j = (int)s->idx[k];
            double w = adjust(s, i, j, sqrt(fmax(0.0, q)), s->p[j]);
            if (w != 0.0) {
                const double *Mj = s->M + (size_t)j * T;
                q += 2.0 * w * s->p[j] + w * w * Mj[j];
                for (int t = 0; t < T; t++)
                    s->p[t] += w * Mj[t];
                s->coef[j] += w;
            }
        }
    }
}

/* Sec. 3.3 as written, on the gradients themselves (cheaper when D < T). */
static void vaccinate_direct(gradvac_state *s, const mtb_balance_in *in)
{
    const int T = s->T;
    const size_t D = in->D;
    const double *G = in->G;
    for (int j = 0; j < T; j++)
        s->norm[j] = mtb_bal_norm(G + (size_t)j * D, D);
    for (int i = 0; i < T; i++) {
        memcpy(s->pc, G + (size_t)i * D, D * sizeof *s->pc);
        int n = mtb_bal_visit_order(s->idx, T, i, 0, s->order == 0, in->rng, in->draws.orders);
        for (int k = 0; k < n; k++) {
            int j = (int)s->idx[k];
            const double *gj = G + (size_t)j * D;
            double w = adjust(s, i, j, mtb_bal_norm(s->pc, D), mtb_bal_dot(s->pc, gj, D));
            if (w != 0.0) {
                for (size_t c = 0; c < D; c++)
                    s->pc[c] += w * gj[c];
                s->coef[j] += w;
            }
        }
    }
}

static mtb_status gradvac_step(void *vs, const mtb_balance_in *in, mtb_balance_out *out,
                               mtb_error *err)
{
    gradvac_state *s = vs;
    const int T = s->T;
    if (in->draws.orders) {
        mtb_status st = mtb_bal_check_orders(&in->draws, T, 0, s->seen, "gradvac", err);
        if (st)
            return st;
    }
    for (int j = 0; j < T; j++)
        s->coef[j] = 1.0;
    if (in->D >= (size_t)T)
        vaccinate_gram(s, in);
    else
        vaccinate_direct(s, in);
    /* sum_i g_i^PC = sum_j coef_j g_j = G^T coef */
    mtb_bal_output_combination(in, s->coef, out);
    return MTB_OK;
}

const mtb_balancer_type mtb_balancer_gradvac = {
    .name = "gradvac",
    .summary = "raises pairwise gradient cosines to EMA targets (generalised PCGrad)",
    .cite = "Wang et al., Gradient Vaccine: Investigating and Improving Multi-task Optimization "
            "in Massively Multilingual Models, ICLR 2021",
    .hparams = gradvac_hparams,
    .n_hparams = HP_N,
    .state_size = sizeof(gradvac_state),
    .init = gradvac_init,
    .step = gradvac_step,
    .fini = gradvac_fini,
};
