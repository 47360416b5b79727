/* sdmgrad.c: Stochastic Direction-oriented Multi-objective Gradient descent (SDMGrad).
 * Xiao, Ban, Ji, "Direction-oriented Multi-objective Learning: Simple and Provable Stochastic
 * Algorithms", NeurIPS 2023 (Sec. 3, Algorithm 1).
 *
 * The direction stays close to a target direction g_0 (the mean gradient): with
 * regularisation lambda >= 0 the weights w on the simplex minimise
 *   (1/2) || G^T w + lambda g_0 ||^2,          g_0 = (1/T) sum_t g_t,
 * and the update direction is d = (G^T w + lambda g_0) / (1 + lambda): lambda = 0 is MGDA's
 * min-norm direction, lambda -> infinity the mean gradient. Stochastic version (double
 * sampling, so that the inner gradient is unbiased): with independent samples xi, xi', zeta,
 *   S inner steps:  w <- Pi_simplex( w - beta G_xi (G_xi'^T w + lambda g_0(xi')) )
 *   direction:      d = (G_zeta^T w + lambda g_0(zeta)) / (1 + lambda)
 * w persists from step to step (warm start, w_0 = 1/T).
 * In T x T form: A = G_xi G_xi'^T, inner gradient A w + lambda (A 1 / T). As the official
 * code and LibMTL, A is divided by (mean_t sqrt(max(A_tt, 0)))^2 + 1e-8 (normalise=true),
 * and the inner steps are SGD with momentum (new momentum buffer each call).
 * Here: samples = 3 (the paper's xi, xi', zeta = in->samples.G[0..2]; mtb training: three
 * parts of one batch) or samples = 1 (the official code: one batch for all three).
 * trunk_grad = G_zeta^T c with c_t = (w_t + lambda / T) / (1 + lambda) (explicit, PARAM
 * gradients, scope all), trunk_w = c (informative), head_w = 1.
 * Defaults lambda = 0.3, 20 inner steps, lr 5, momentum 0.5: LibMTL's SDMGrad (the paper
 * tunes lambda per benchmark; the official code steps with lr 10). LibMTL leaves the heads
 * the *sum* of its three batches' gradients; here heads get their whole-batch gradient.
 * Note (golden LIBMTL-FORMULAS.md): lr 5 makes w jump between faces of the simplex; the
 * step is still deterministic and finite, but not reproducible against float32 LibMTL. */
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "simplex.h"

enum { HP_LAMDA, HP_NITER, HP_LR, HP_MOM, HP_NORM, HP_SAMPLES, HP_N };

static const mtb_hparam_def sdm_hp[HP_N] = {
    [HP_LAMDA] = {"lamda", MTB_HP_REAL, 0.3, 0.0, 1e12, NULL,
                  "regularisation toward the mean gradient (LibMTL: 0.3; paper: tuned)"},
    [HP_NITER] = {"niter", MTB_HP_INT, 20, 1, 100000, NULL,
                  "inner projected steps on w per step (official code, LibMTL: 20)"},
    [HP_LR] = {"lr", MTB_HP_REAL, 5.0, 0.0, 1e6, NULL,
               "inner step size (LibMTL: 5; official code: 10)"},
    [HP_MOM] = {"momentum", MTB_HP_REAL, 0.5, 0.0, 1.0, NULL,
                "inner SGD momentum (official code, LibMTL: 0.5)"},
    [HP_NORM] = {"normalise", MTB_HP_BOOL, 1, 0, 1, NULL,
                 "divide G G^T by the squared mean gradient norm (official code, LibMTL)"},
    [HP_SAMPLES] = {"samples", MTB_HP_INT, 3, 1, 3, NULL,
                    "3: independent xi, xi', zeta (paper Alg. 1, LibMTL); 1: one batch"},
};

typedef struct sdm_state {
    int T, niter, samples, normalise;
    double lamda, lr, mom;
    double *w;    /* (T) persistent weights */
    double *A;    /* (T, T) G_xi G_xi'^T, normalised */
    double *Ag;   /* (T) row means of A */
    double *buf;  /* (T) momentum buffer */
    double *c;    /* (T) coefficients of G_zeta */
} sdm_state;

static void sdm_fini(void *vs)
{
    sdm_state *s = vs;
    free(s->w);
}

static mtb_status sdm_init(void *vs, int T, size_t D_max, const mtb_hparams *hp,
                           mtb_balancer_setup *setup, mtb_error *err)
{
    (void)D_max;
    sdm_state *s = vs;
    s->T = T;
    s->lamda = hp->v[HP_LAMDA];
    s->niter = (int)hp->v[HP_NITER];
    s->lr = hp->v[HP_LR];
    s->mom = hp->v[HP_MOM];
    s->normalise = hp->v[HP_NORM] != 0.0;
    s->samples = (int)hp->v[HP_SAMPLES];
    if (s->samples == 2)
        return mtb_fail(err, MTB_EINVAL, "method sdmgrad: samples must be 1 or 3, got 2");
    setup->need = MTB_NEED_PARAM_GRADS;
    setup->scope = MTB_SCOPE_ALL;
    setup->n_samples = s->samples;
    size_t n = (size_t)T * T + 4 * (size_t)T;
    s->w = malloc(n * sizeof *s->w);
    if (!s->w)
        return mtb_fail(err, MTB_ENOMEM, "method sdmgrad: cannot allocate the state (T = %d)", T);
    s->A = s->w + T;
    s->Ag = s->A + (size_t)T * T;
    s->buf = s->Ag + T;
    s->c = s->buf + T;
    mtb_bal_fill(s->w, T, 1.0 / T);
    return MTB_OK;
}

static mtb_status sdm_step(void *vs, const mtb_balance_in *in, mtb_balance_out *out,
                           mtb_error *err)
{
    sdm_state *s = vs;
    const int T = s->T;
    const size_t D = in->D;
    if (!out->trunk_grad)
        return mtb_fail(err, MTB_EINVAL,
                        "method sdmgrad returns an explicit trunk gradient: out->trunk_grad is NULL");
    const double *Gx = in->G, *Gx2 = in->G, *Gz = in->G;
    if (s->samples == 3) {
        Gx = in->samples.G[0];
        Gx2 = in->samples.G[1];
        Gz = in->samples.G[2];
    }
    /* A (T, T) = G_xi G_xi'^T */
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, T, T, (int)D, 1.0, Gx, (int)D, Gx2,
                (int)D, 0.0, s->A, T);
    if (s->normalise) {
        double sc = 0.0;
        for (int t = 0; t < T; t++)
            sc += sqrt(fmax(s->A[(size_t)t * T + t], 0.0)) / T;
        double den = sc * sc + 1e-8;
        for (size_t i = 0; i < (size_t)T * T; i++)
            s->A[i] /= den;
    }
    for (int t = 0; t < T; t++) {
        double acc = 0.0;
        for (int j = 0; j < T; j++)
            acc += s->A[(size_t)t * T + j];
        s->Ag[t] = acc / T;
        if (!isfinite(s->Ag[t]))
            return mtb_fail(err, MTB_ENUMERIC,
                            "method sdmgrad: G G^T overflowed (row %d mean %g); normalise=true "
                            "avoids it", t, s->Ag[t]);
    }
    /* inner projected SGD with momentum on (1/2)|G^T w + lambda g0|^2:
     * gradient A w + lambda Ag; torch.optim.SGD's buffer: b = g first, then mom b + g */
    for (int it = 0; it < s->niter; it++) {
        cblas_dgemv(CblasRowMajor, CblasNoTrans, T, T, 1.0, s->A, T, s->w, 1, 0.0, s->c, 1);
        for (int t = 0; t < T; t++) {
            double g = s->c[t] + s->lamda * s->Ag[t];
            s->buf[t] = it == 0 ? g : s->mom * s->buf[t] + g;
            s->w[t] -= s->lr * s->buf[t];
        }
        for (int t = 0; t < T; t++)
            if (!isfinite(s->w[t])) {
                mtb_bal_fill(s->w, T, 1.0 / T); /* keep the state usable */
                return mtb_fail(err, MTB_ENUMERIC,
                                "method sdmgrad: inner step overflowed at iteration %d (lr = %g)",
                                it, s->lr);
            }
        mtb_simplex_project(s->w, T);
    }
    /* d = (G_zeta^T w + lambda g0(zeta)) / (1 + lambda) = G_zeta^T c */
    for (int t = 0; t < T; t++) {
        s->c[t] = (s->w[t] + s->lamda / T) / (1.0 + s->lamda);
        out->trunk_w[t] = s->c[t];
        out->head_w[t] = 1.0;
    }
    mtb_bal_gtw(Gz, T, D, s->c, out->trunk_grad);
    out->trunk_grad_set = 1;
    return MTB_OK;
}

const mtb_balancer_type mtb_balancer_sdmgrad = {
    .name = "sdmgrad",
    .summary = "SDMGrad: min-norm weights regularised toward the mean gradient, double sampling",
    .cite = "Xiao, Ban, Ji, Direction-oriented Multi-objective Learning, NeurIPS 2023, Alg. 1",
    .hparams = sdm_hp,
    .n_hparams = HP_N,
    .state_size = sizeof(sdm_state),
    .init = sdm_init,
    .step = sdm_step,
    .fini = sdm_fini,
};
