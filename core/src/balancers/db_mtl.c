/* db_mtl.c: Dual-Balancing Multi-Task Learning. Lin et al., "Dual-Balancing for
 * Multi-Task Learning" (DB-MTL), Algorithm 1 with eps = 1e-8:
 *   g_t,k  = grad log(l_t + eps) = g_t / (l_t + eps)            [Alg. 1 l. 6, Sec. 3.1]
 *   gh_t,k = beta_k gh_t,k-1 + (1 - beta_k) g_t,k,  gh_t,0 = 0  [Alg. 1 l. 7; no bias correction]
 *   g~_k   = alpha_k sum_t gh_t,k / (||gh_t,k|| + eps)          [Eq. 1, Alg. 1 l. 9]
 *   alpha_k = max_t ||gh_t,k||                                 [Sec. 3.2; min/mean/median: Fig. 4]
 *   heads:  grad log(l_t + eps), i.e. weight 1/(l_t + eps)     [Alg. 1 l. 12]
 * beta_k = beta / k^sigma with k the 1-based step count (the paper's grid includes
 * 0.1/sqrt(k); LibMTL's DB_beta, DB_beta_sigma). Algorithm 1 counts k from 0, where
 * beta/k^0.5 is undefined; LibMTL counts from 1, so beta_1 = beta (dbmtl.md erratum D-E2).
 * Defaults beta = 0.9, sigma = 0: LibMTL's defaults and a point of the paper's grid
 * (Appendix B), which fixes no single value. beta = 0 is "no EMA".
 * Proposition A.1: log x = min_s e^s x - s - 1, i.e. the log transform is IMTL-L with s
 * solved exactly each step.
 *
 * Variants (the paper's ablations, Sec. 4.4 Table 6 and Fig. 4; dbmtl.md sec. 0):
 *   alpha      = max|min|mean|median|one: A_k over the EMA norms (one: alpha_k = 1, extra);
 *   log        = false: the raw losses l_t in l. 6 and l. 12 (Table 6 rows 1 and 3);
 *   gradnorm   = false: no EMA and no normalisation, the shared gradient is sum_t g_t,k
 *                (rows 1 and 2; log=true,gradnorm=false is "log-ew", the loss-scale row).
 *                It is then a loss weighting, trunk weights c_t, and needs no gradients;
 *   heads      = auto|log|raw: the heads' gradient, grad log l_t or grad l_t (auto: as log);
 *   alpha_from = auto|log|raw: alpha_k from the EMA of the log-loss or of the raw-loss
 *                gradients (auto: as log). With beta = 0 the direction sum_t u_t is the
 *                same for log and raw gradients (a unit vector ignores the factor
 *                1/(l + eps)), so the log transform reaches the trunk only through alpha_k
 *                and the heads; these two switches separate those paths (dbmtl.md D2).
 * The aggregate is not a combination of this step's gradients (the EMA remembers old
 * ones), so with gradnorm the method returns it explicitly as trunk_grad and needs G with
 * scope ALL (level=param, the paper's; level=rep for representation gradients). trunk_w is
 * then informative: the coefficient of this step's raw g_t in trunk_grad,
 * alpha_k (1 - beta_k) c_t / (||gh_t|| + eps) with c_t the factor of l. 6. LibMTL is the
 * same algorithm and returns ones. */
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

enum { AGG_MAX = 0, AGG_MIN, AGG_MEAN, AGG_MEDIAN, AGG_ONE };
enum { SRC_AUTO = 0, SRC_LOG, SRC_RAW };
enum { HP_BETA, HP_SIGMA, HP_ALPHA, HP_EPS, HP_LEVEL, HP_LOG, HP_GRADNORM, HP_HEADS, HP_AFROM, HP_N };

static const mtb_hparam_def db_hp[HP_N] = {
    {"beta", MTB_HP_REAL, 0.9, 0.0, 1.0, NULL, "EMA coefficient (LibMTL default; paper grid)"},
    {"beta_sigma", MTB_HP_REAL, 0.0, 0.0, 10.0, NULL,
     "beta_k = beta / k^sigma, k = 1, 2, ... (0.5: the paper's beta/sqrt(k))"},
    {"alpha", MTB_HP_CHOICE, AGG_MAX, 0, 0, "max|min|mean|median|one",
     "scale alpha_k from the EMA norms (paper: max; Fig. 4 the others; one: alpha_k = 1)"},
    {"eps", MTB_HP_REAL, 1e-8, 0.0, 1.0, NULL, "epsilon of log(l + eps) and of the norms (1e-8)"},
    {"level", MTB_HP_CHOICE, 1, 0, 0, "rep|param",
     "gradients w.r.t. the shared representation or parameters (paper: param)"},
    {"log", MTB_HP_BOOL, 1, 0, 1, NULL,
     "loss-scale balancing: gradients of log(l + eps) (paper; false: of l, Table 6)"},
    {"gradnorm", MTB_HP_BOOL, 1, 0, 1, NULL,
     "gradient-magnitude balancing: EMA, normalise, alpha_k (paper; false: plain sum, Table 6)"},
    {"heads", MTB_HP_CHOICE, SRC_AUTO, 0, 0, "auto|log|raw",
     "heads trained on grad log l or grad l (auto: as `log`)"},
    {"alpha_from", MTB_HP_CHOICE, SRC_AUTO, 0, 0, "auto|log|raw",
     "alpha_k from the EMA of log-loss or raw-loss gradients (auto: as `log`)"},
};

typedef struct db_state {
    int T, agg, log, gradnorm, head_log, alpha_log;
    double beta, sigma, eps;
    long k;
    double last_alpha, last_beta; /* the last step's alpha_k, beta_k (mtb_balancer_db_mtl_last) */
    double *lag;  /* (2T) the last step's cos(gh_t, g_t), then ||gh_t|| / ||g_t|| */
    size_t D_max;
    double *gh;   /* (T, D_max) EMA of the gradients the direction uses */
    double *gha;  /* (T, D_max) EMA alpha_k uses when it differs from gh's source, else NULL */
    double *nrm;  /* (T) norms of gh */
    double *nra;  /* (T) norms alpha_k is taken over (nrm or those of gha) */
    double *srt;  /* (T) scratch: the median, then the coefficients */
} db_state;

static int resolve(double v, int log_on) { return v == SRC_AUTO ? log_on : v == SRC_LOG; }

static mtb_status db_init(void *state, int T, size_t D_max, const mtb_hparams *hp,
                          mtb_balancer_setup *setup, mtb_error *err)
{
    db_state *s = state;
    s->T = T;
    s->beta = hp->v[HP_BETA];
    s->sigma = hp->v[HP_SIGMA];
    s->agg = (int)hp->v[HP_ALPHA];
    s->eps = hp->v[HP_EPS];
    s->log = hp->v[HP_LOG] != 0.0;
    s->gradnorm = hp->v[HP_GRADNORM] != 0.0;
    s->head_log = resolve(hp->v[HP_HEADS], s->log);
    s->alpha_log = resolve(hp->v[HP_AFROM], s->log);
    s->D_max = D_max;
    s->nrm = malloc(5 * (size_t)T * sizeof *s->nrm);
    if (!s->nrm)
        return mtb_fail(err, MTB_ENOMEM, "method db_mtl: cannot allocate %d norms", T);
    s->nra = s->nrm + T;
    s->srt = s->nrm + 2 * T;
    s->lag = s->nrm + 3 * T;
    if (!s->gradnorm) { /* a loss weighting: trunk_w = c_t, no gradients needed */
        setup->need = MTB_NEED_LOSSES;
        return MTB_OK;
    }
    setup->need = hp->v[HP_LEVEL] == 0.0 ? MTB_NEED_REP_GRADS : MTB_NEED_PARAM_GRADS;
    setup->scope = MTB_SCOPE_ALL;
    size_t cols = D_max ? D_max : 1;
    if ((size_t)T > ((size_t)-1 / sizeof(double)) / cols / 2)
        return mtb_fail(err, MTB_EINVAL, "method db_mtl: a (%d x %zu) EMA is too large", T, D_max);
    s->gh = calloc((size_t)T * cols, sizeof *s->gh);
    if (s->alpha_log != s->log && s->agg != AGG_ONE)
        s->gha = calloc((size_t)T * cols, sizeof *s->gha);
    if (!s->gh || (s->alpha_log != s->log && s->agg != AGG_ONE && !s->gha))
        return mtb_fail(err, MTB_ENOMEM, "method db_mtl: cannot allocate the (%d x %zu) EMA", T,
                        D_max);
    return MTB_OK;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* alpha_k = A(n_1, ..., n_T) (Sec. 3.2, Fig. 4). srt: T doubles of scratch. */
static double aggregate(int agg, const double *n, int T, double *srt)
{
    double a = n[0];
    switch (agg) {
    case AGG_MAX:
        for (int t = 1; t < T; t++)
            a = fmax(a, n[t]);
        return a;
    case AGG_MIN:
        for (int t = 1; t < T; t++)
            a = fmin(a, n[t]);
        return a;
    case AGG_MEAN:
        a = 0.0;
        for (int t = 0; t < T; t++)
            a += n[t] / T;
        return a;
    case AGG_MEDIAN:
        memcpy(srt, n, (size_t)T * sizeof *srt);
        qsort(srt, (size_t)T, sizeof *srt, cmp_double);
        return T % 2 ? srt[T / 2] : 0.5 * (srt[T / 2 - 1] + srt[T / 2]);
    }
    return 1.0; /* AGG_ONE */
}

static mtb_status db_step(void *state, const mtb_balance_in *in, mtb_balance_out *out,
                          mtb_error *err)
{
    db_state *s = state;
    int T = in->T;
    size_t D = in->D;
    for (int t = 0; t < T; t++) {
        double inv = 1.0 / (in->losses[t] + s->eps);
        if ((s->log || s->head_log || s->alpha_log) && !isfinite(inv))
            return mtb_fail(err, MTB_ENUMERIC,
                            "method db_mtl: loss %d = %g gives log(l + eps) with eps = %g "
                            "undefined (needs l + eps > 0)", t, in->losses[t], s->eps);
        out->head_w[t] = s->head_log ? inv : 1.0;
        s->srt[t] = s->log ? inv : 1.0; /* c_t of Alg. 1 l. 6 */
    }
    if (!s->gradnorm) { /* Table 6 rows 1 and 2: sum_t c_t g_t */
        memcpy(out->trunk_w, s->srt, (size_t)T * sizeof *out->trunk_w);
        return MTB_OK;
    }
    if (!out->trunk_grad)
        return mtb_fail(err, MTB_EINVAL,
                        "method db_mtl returns an explicit trunk gradient: out->trunk_grad is NULL");
    s->k++; /* 1-based (erratum D-E2) */
    double bk = s->beta / pow((double)s->k, s->sigma);
    for (int t = 0; t < T; t++) {
        double c = s->srt[t], inv = 1.0 / (in->losses[t] + s->eps);
        double ca = s->alpha_log ? inv : 1.0;
        double *gh = s->gh + (size_t)t * s->D_max; /* row stride D_max: fixed layout */
        const double *g = in->G + (size_t)t * D;
        for (size_t j = 0; j < D; j++)
            gh[j] = bk * gh[j] + (1.0 - bk) * c * g[j];
        s->nrm[t] = mtb_bal_norm(gh, D);
        /* the EMA's lag behind this step's gradient c g_t (diagnostics, D4): one more dot */
        double gn = c * mtb_bal_norm(g, D);
        s->lag[t] = gn > 0 && s->nrm[t] > 0 ? c * mtb_bal_dot(gh, g, D) / (s->nrm[t] * gn) : NAN;
        s->lag[T + t] = gn > 0 ? s->nrm[t] / gn : NAN;
        if (s->gha) {
            double *ga = s->gha + (size_t)t * s->D_max;
            for (size_t j = 0; j < D; j++)
                ga[j] = bk * ga[j] + (1.0 - bk) * ca * g[j];
            s->nra[t] = mtb_bal_norm(ga, D);
        } else {
            s->nra[t] = s->nrm[t];
        }
    }
    /* the coefficients c_t are still needed below: keep them in trunk_w meanwhile */
    memcpy(out->trunk_w, s->srt, (size_t)T * sizeof *out->trunk_w);
    double a = aggregate(s->agg, s->nra, T, s->srt);
    s->last_alpha = a, s->last_beta = bk;
    /* g~ = sum_t (alpha / (||gh_t|| + eps)) gh_t: one dgemv with coefficients in srt */
    for (int t = 0; t < T; t++) {
        s->srt[t] = a / (s->nrm[t] + s->eps);
        if (!isfinite(s->srt[t]))
            s->srt[t] = 0.0; /* eps = 0 and a zero EMA: that task contributes nothing */
        out->trunk_w[t] *= s->srt[t] * (1.0 - bk);
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
    free(s->gha);
}

extern const mtb_balancer_type mtb_balancer_db_mtl;

mtb_status mtb_balancer_db_mtl_last(mtb_balancer *b, double *alpha, double *beta_k,
                                    double *lag_cos, double *lag_ratio, mtb_error *err)
{
    if (!b || mtb_balancer_get_type(b) != &mtb_balancer_db_mtl)
        return mtb_fail(err, MTB_EINVAL, "mtb_balancer_db_mtl_last: the balancer is not db_mtl");
    const db_state *s = mtb_balancer_state_(b);
    if (!s->gradnorm || s->k == 0)
        return mtb_fail(err, MTB_EINVAL, "mtb_balancer_db_mtl_last: %s", !s->gradnorm
                        ? "gradnorm=false has no EMA and no alpha_k" : "no step has run yet");
    if (alpha)
        *alpha = s->last_alpha;
    if (beta_k)
        *beta_k = s->last_beta;
    for (int t = 0; t < s->T; t++) {
        if (lag_cos)
            lag_cos[t] = s->lag[t];
        if (lag_ratio)
            lag_ratio[t] = s->lag[s->T + t];
    }
    return MTB_OK;
}

const mtb_balancer_type mtb_balancer_db_mtl = {
    .name = "db_mtl",
    .summary = "DB-MTL: log-loss gradients, EMA, all normalised to the largest norm",
    .cite = "Lin et al., Dual-Balancing for Multi-Task Learning (DB-MTL), Algorithm 1, Eq. 1",
    .hparams = db_hp,
    .n_hparams = HP_N,
    .state_size = sizeof(db_state),
    .init = db_init,
    .step = db_step,
    .fini = db_fini,
};
