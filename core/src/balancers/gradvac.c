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
 * `order` as in pcgrad.c (random per task and step, or ascending for tests). */
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
    double *pc;    /* (D_max) */
} gradvac_state;

static void gradvac_fini(void *vs)
{
    gradvac_state *s = vs;
    free(s->rho);
    free(s->norm);
    free(s->coef);
    free(s->idx);
    free(s->pc);
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
    s->rho = calloc((size_t)T * (size_t)T, sizeof *s->rho);
    s->norm = malloc((size_t)T * sizeof *s->norm);
    s->coef = malloc((size_t)T * sizeof *s->coef);
    s->idx = malloc((size_t)T * sizeof *s->idx);
    s->pc = malloc((D_max ? D_max : 1) * sizeof *s->pc);
    if (!s->rho || !s->norm || !s->coef || !s->idx || !s->pc) {
        gradvac_fini(s);
        return mtb_fail(err, MTB_ENOMEM, "method gradvac: cannot allocate the state (T = %d, D = %zu)",
                        T, D_max);
    }
    return MTB_OK;
}

static mtb_status gradvac_step(void *vs, const mtb_balance_in *in, mtb_balance_out *out,
                               mtb_error *err)
{
    (void)err;
    gradvac_state *s = vs;
    int T = s->T;
    size_t D = in->D;
    const double *G = in->G;
    for (int j = 0; j < T; j++) {
        s->norm[j] = mtb_bal_norm(G + (size_t)j * D, D);
        s->coef[j] = 1.0;
    }
    double *acc = out->trunk_grad;
    if (acc)
        memset(acc, 0, D * sizeof *acc);
    for (int i = 0; i < T; i++) {
        memcpy(s->pc, G + (size_t)i * D, D * sizeof *s->pc);
        int n = 0;
        for (int j = 0; j < T; j++)
            if (j != i)
                s->idx[n++] = (size_t)j;
        if (s->order == 0 && n > 1)
            mtb_rng_shuffle(in->rng, s->idx, (size_t)n);
        for (int k = 0; k < n; k++) {
            int j = (int)s->idx[k];
            const double *gj = G + (size_t)j * D;
            double pn = mtb_bal_norm(s->pc, D);
            double den = pn * s->norm[j] + s->eps;
            double phi = den > 0.0 ? mtb_bal_dot(s->pc, gj, D) / den : 0.0;
            phi = fmax(-1.0, fmin(1.0, phi));
            double *target = &s->rho[(size_t)i * T + j];
            double rt = *target;
            if (phi < rt) {
                double srt = sqrt(fmax(0.0, 1.0 - rt * rt));
                double den2 = s->norm[j] * srt + s->eps;
                if (den2 > 0.0) {
                    double w = pn * (rt * sqrt(fmax(0.0, 1.0 - phi * phi)) - phi * srt) / den2;
                    for (size_t c = 0; c < D; c++)
                        s->pc[c] += w * gj[c];
                    s->coef[j] += w;
                }
            }
            *target = (1.0 - s->beta) * rt + s->beta * phi;
        }
        if (acc)
            for (size_t c = 0; c < D; c++)
                acc[c] += s->pc[c];
    }
    for (int t = 0; t < T; t++) {
        out->head_w[t] = 1.0;
        out->trunk_w[t] = s->coef[t];
    }
    out->trunk_grad_set = acc != NULL;
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
