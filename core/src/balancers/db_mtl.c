/* db_mtl.c: Dual-Balancing Multi-Task Learning. Lin et al., "Dual-Balancing for
 * Multi-Task Learning" (DB-MTL), Algorithm 1 with eps = 1e-8:
 *   g_t,k  = grad log(l_t + eps) = g_t / (l_t + eps)            [Alg. 1 l. 6, Sec. 3.1]
 *   gh_t,k = beta_k gh_t,k-1 + (1 - beta_k) g_t,k,  gh_t,-1 = 0 [Alg. 1 l. 7; no bias correction]
 *   g~_k   = alpha_k sum_t gh_t,k / (||gh_t,k|| + eps)          [Eq. 1, Alg. 1 l. 9]
 *   alpha_k = max_t ||gh_t,k||                                 [Sec. 3.2; min/mean/median: Fig. 4]
 *   heads:  grad log(l_t + eps), i.e. weight 1/(l_t + eps)     [Alg. 1 l. 12]
 * beta_k = beta / k^sigma with k the 1-based call count (the paper's grid includes
 * 0.1/sqrt(k); LibMTL's DB_beta, DB_beta_sigma). Defaults beta = 0.9, sigma = 0: LibMTL's
 * defaults and a point of the paper's grid (Appendix B), which fixes no single value.
 * Proposition A.1: log x = min_s e^s x - s - 1, i.e. the log transform is IMTL-L with s
 * solved exactly each step.
 * The aggregate is not a combination of this step's gradients (the EMA remembers old
 * ones), so the method returns it explicitly as trunk_grad and needs G with scope ALL
 * (level=param, the paper's; level=rep for representation gradients). trunk_w is then
 * informative: the coefficient of this step's raw g_t in trunk_grad,
 * alpha_k (1 - beta_k) / ((||gh_t|| + eps)(l_t + eps)). LibMTL is the same algorithm
 * and returns ones. */
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

enum { AGG_MAX = 0, AGG_MIN, AGG_MEAN, AGG_MEDIAN };

static const mtb_hparam_def db_hp[] = {
    {"beta", MTB_HP_REAL, 0.9, 0.0, 1.0, NULL, "EMA coefficient (LibMTL default; paper grid)"},
    {"beta_sigma", MTB_HP_REAL, 0.0, 0.0, 10.0, NULL, "beta_k = beta / k^sigma (0.5: beta/sqrt(k))"},
    {"alpha", MTB_HP_CHOICE, AGG_MAX, 0, 0, "max|min|mean|median",
     "scale alpha_k from the EMA norms (paper: max)"},
    {"eps", MTB_HP_REAL, 1e-8, 0.0, 1.0, NULL, "epsilon of log(l + eps) and of the norms (1e-8)"},
    {"level", MTB_HP_CHOICE, 1, 0, 0, "rep|param",
     "gradients w.r.t. the shared representation or parameters (paper: param)"},
};

typedef struct db_state {
    int T, agg;
    double beta, sigma, eps;
    long k;
    size_t D_max;
    double *gh;   /* (T, D_max) EMA of the log-loss gradients */
    double *nrm;  /* (T) */
    double *srt;  /* (T) scratch for the median */
} db_state;

static mtb_status db_init(void *state, int T, size_t D_max, const mtb_hparams *hp,
                          mtb_balancer_setup *setup, mtb_error *err)
{
    db_state *s = state;
    s->T = T;
    s->beta = hp->v[0];
    s->sigma = hp->v[1];
    s->agg = (int)hp->v[2];
    s->eps = hp->v[3];
    s->D_max = D_max;
    setup->need = hp->v[4] == 0.0 ? MTB_NEED_REP_GRADS : MTB_NEED_PARAM_GRADS;
    setup->scope = MTB_SCOPE_ALL;
    s->nrm = malloc(2 * (size_t)T * sizeof *s->nrm);
    s->gh = calloc((size_t)T * (D_max ? D_max : 1), sizeof *s->gh);
    if (!s->nrm || !s->gh)
        return mtb_fail(err, MTB_ENOMEM, "method db_mtl: cannot allocate the (%d x %zu) EMA", T,
                        D_max);
    s->srt = s->nrm + T;
    return MTB_OK;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static mtb_status db_step(void *state, const mtb_balance_in *in, mtb_balance_out *out,
                          mtb_error *err)
{
    db_state *s = state;
    int T = in->T;
    size_t D = in->D;
    if (!out->trunk_grad)
        return mtb_fail(err, MTB_EINVAL,
                        "method db_mtl returns an explicit trunk gradient: out->trunk_grad is NULL");
    s->k++;
    double bk = s->beta / pow((double)s->k, s->sigma);
    for (int t = 0; t < T; t++) {
        double inv = 1.0 / (in->losses[t] + s->eps);
        if (!isfinite(inv))
            return mtb_fail(err, MTB_ENUMERIC,
                            "method db_mtl: loss %d = %g gives log(l + eps) with eps = %g "
                            "undefined (needs l + eps > 0)", t, in->losses[t], s->eps);
        double *gh = s->gh + (size_t)t * s->D_max; /* row stride D_max: fixed layout */
        const double *g = in->G + (size_t)t * D;
        for (size_t j = 0; j < D; j++)
            gh[j] = bk * gh[j] + (1.0 - bk) * inv * g[j];
        s->nrm[t] = mtb_bal_norm(gh, D);
        out->head_w[t] = inv;
    }
    double a = s->nrm[0];
    switch (s->agg) {
    case AGG_MAX:
        for (int t = 1; t < T; t++)
            a = fmax(a, s->nrm[t]);
        break;
    case AGG_MIN:
        for (int t = 1; t < T; t++)
            a = fmin(a, s->nrm[t]);
        break;
    case AGG_MEAN:
        a = 0.0;
        for (int t = 0; t < T; t++)
            a += s->nrm[t] / T;
        break;
    case AGG_MEDIAN:
        memcpy(s->srt, s->nrm, (size_t)T * sizeof *s->srt);
        qsort(s->srt, (size_t)T, sizeof *s->srt, cmp_double);
        a = T % 2 ? s->srt[T / 2] : 0.5 * (s->srt[T / 2 - 1] + s->srt[T / 2]);
        break;
    }
    /* g~ = sum_t (alpha / (||gh_t|| + eps)) gh_t: one dgemv with coefficients c_t */
    for (int t = 0; t < T; t++) {
        s->srt[t] = a / (s->nrm[t] + s->eps);
        if (!isfinite(s->srt[t]))
            s->srt[t] = 0.0; /* eps = 0 and a zero EMA: that task contributes nothing */
        out->trunk_w[t] = s->srt[t] * (1.0 - bk) * out->head_w[t];
    }
    /* trunk_grad (D) = GH^T c, GH (T x D) with leading dimension D_max */
    cblas_dgemv(CblasRowMajor, CblasTrans, T, (int)D, 1.0, s->gh, (int)s->D_max, s->srt, 1, 0.0,
                out->trunk_grad, 1);
    out->trunk_grad_set = 1;
    return MTB_OK;
}

static void db_fini(void *state)
{
    db_state *s = state;
    free(s->nrm);
    free(s->gh);
}

const mtb_balancer_type mtb_balancer_db_mtl = {
    .name = "db_mtl",
    .summary = "DB-MTL: log-loss gradients, EMA, all normalised to the largest norm",
    .cite = "Lin et al., Dual-Balancing for Multi-Task Learning (DB-MTL), Algorithm 1, Eq. 1",
    .hparams = db_hp,
    .n_hparams = 5,
    .state_size = sizeof(db_state),
    .init = db_init,
    .step = db_step,
    .fini = db_fini,
};
