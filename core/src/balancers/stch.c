/* stch.c: smooth Tchebycheff scalarisation.
 * Lin, Zhang, Yang, Liu, Wang, Zhang, "Smooth Tchebycheff Scalarization for Multi-Objective
 * Optimization", ICML 2024 (not in /work/shared/papers; arXiv:2402.19078, Sec. 3, the
 * definition of the smooth Tchebycheff scalarisation g^STCH_mu).
 *
 * The Tchebycheff scalarisation max_t lambda_t (f_t - z*_t) is smoothed by log-sum-exp:
 *   g_mu(x) = mu log sum_t exp(lambda_t (f_t(x) - z*_t) / mu)                  [Sec. 3]
 * whose gradient is a convex combination of the task gradients,
 *   grad g_mu = sum_t s_t lambda_t grad f_t,   s = softmax(lambda (f - z*) / mu).
 * form=general (default): f_t = l_t, preferences lambda_t = 1 and a common ideal value
 * z*_t = 0 (softmax is shift invariant, so any common z* gives the same weights):
 *   w_t = softmax(l / mu)_t.
 *
 * form=libmtl: what LibMTL (ported from the authors' STCH_MTL code) computes, the fixture
 * STCH (LIBMTL-FORMULAS.md):
 *   epoch < warmup_epoch:  the loss sum_t log(l_t + eps), w_t = 1 / (l_t + eps);
 *   epoch == warmup_epoch: the same, and the loss vectors of that epoch are averaged into
 *                          the nadir point z (frozen at the first later step);
 *   epoch > warmup_epoch:  T mu logsumexp(log(l/z + eps) / mu), i.e.
 *                          w_t = T softmax(log(l/z + eps) / mu)_t / (l_t + eps z_t).
 * i.e. f_t = log(l_t / z_t) with a nadir (not ideal) reference and an extra factor T.
 * Guards (LibMTL has none): a step after the warm-up with no warm-up-epoch step seen takes
 * its own losses as the nadir; a nadir entry <= 0 (all-zero losses in the warm-up epoch) is
 * replaced by the smallest positive double so that l/z stays finite. The log form needs
 * l_t >= 0 (MTB_EINVAL otherwise).
 *
 * Both forms are loss weightings: head_w = trunk_w = w. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "mtb/balancer.h"

enum { HP_FORM, HP_MU, HP_WARMUP, HP_EPS, HP_N };
enum { FORM_GENERAL = 0, FORM_LIBMTL = 1 };

static const mtb_hparam_def stch_hparams[HP_N] = {
    [HP_FORM] = {"form", MTB_HP_CHOICE, FORM_GENERAL, 0, 0, "general|libmtl",
                 "general: mu logsumexp(l / mu) (paper's g_mu with lambda = 1, z* = 0); "
                 "libmtl: log-loss warm-up, nadir point, factor T (LibMTL / STCH_MTL code)"},
    [HP_MU] = {"mu", MTB_HP_REAL, 1.0, 1e-6, 1e6, NULL,
               "smoothing parameter mu (LibMTL and the authors' MTL code: 1.0)"},
    [HP_WARMUP] = {"warmup_epoch", MTB_HP_INT, 4, 0, 1e9, NULL,
                   "form=libmtl: epochs of log-loss warm-up; the nadir is the mean loss of "
                   "epoch warmup_epoch (LibMTL default 4)"},
    [HP_EPS] = {"eps", MTB_HP_REAL, 1e-20, 0.0, 1.0, NULL,
                "form=libmtl: constant inside the logs (LibMTL 1e-20)"},
};

typedef struct stch_state {
    int T;
    int form;
    double mu, eps;
    long warmup;
    long count;       /* steps seen in the warm-up epoch */
    int nadir_set;
    double *sum;      /* (T) sum of the warm-up epoch's losses */
    double *z;        /* (T) nadir point */
    double *u;        /* (T) scratch */
} stch_state;

static void stch_fini(void *vs)
{
    stch_state *s = vs;
    free(s->sum);
    free(s->z);
    free(s->u);
    memset(s, 0, sizeof *s);
}

static mtb_status stch_init(void *vs, int T, size_t D_max, const mtb_hparams *hp,
                            mtb_balancer_setup *setup, mtb_error *err)
{
    (void)D_max;
    stch_state *s = vs;
    s->T = T;
    s->form = (int)hp->v[HP_FORM];
    s->mu = hp->v[HP_MU];
    s->warmup = (long)hp->v[HP_WARMUP];
    s->eps = hp->v[HP_EPS];
    setup->need = MTB_NEED_LOSSES;
    size_t t = (size_t)T;
    s->sum = calloc(t, sizeof *s->sum);
    s->z = calloc(t, sizeof *s->z);
    s->u = calloc(t, sizeof *s->u);
    if (!s->sum || !s->z || !s->u) {
        stch_fini(s);
        return mtb_fail(err, MTB_ENOMEM, "method stch: cannot allocate the state for %d tasks", T);
    }
    return MTB_OK;
}

static mtb_status stch_step(void *vs, const mtb_balance_in *in, mtb_balance_out *out,
                            mtb_error *err)
{
    stch_state *s = vs;
    int T = s->T;
    const double *l = in->losses;
    double *w = out->trunk_w;
    if (s->form == FORM_GENERAL) {
        mtb_bal_softmax(l, T, s->mu, w); /* [Sec. 3] s = softmax(lambda (f - z*) / mu) */
    } else {
        for (int t = 0; t < T; t++)
            if (!(l[t] >= 0.0))
                return mtb_fail(err, MTB_EINVAL,
                                "method stch (form=libmtl): loss %d = %g must be >= 0 (log form)",
                                t, l[t]);
        if (in->epoch <= s->warmup) {
            /* warm-up: d/dl log(l + eps) */
            for (int t = 0; t < T; t++)
                w[t] = 1.0 / (l[t] + s->eps);
            if (in->epoch == s->warmup) {
                for (int t = 0; t < T; t++)
                    s->sum[t] += l[t];
                s->count++;
            }
        } else {
            if (!s->nadir_set) {
                for (int t = 0; t < T; t++) {
                    double z = s->count > 0 ? s->sum[t] / (double)s->count : l[t];
                    s->z[t] = z > 0.0 ? z : DBL_MIN;
                }
                s->nadir_set = 1;
            }
            for (int t = 0; t < T; t++)
                s->u[t] = log(l[t] / s->z[t] + s->eps);
            mtb_bal_softmax(s->u, T, s->mu, w);
            /* d/dl [T mu logsumexp(log(l/z + eps)/mu)] = T s_t / (l_t + eps z_t) */
            for (int t = 0; t < T; t++) {
                double den = l[t] + s->eps * s->z[t];
                w[t] = den > 0.0 ? (double)T * w[t] / den : 0.0;
            }
        }
    }
    for (int t = 0; t < T; t++)
        out->head_w[t] = w[t];
    return MTB_OK;
}

const mtb_balancer_type mtb_balancer_stch = {
    .name = "stch",
    .summary = "smooth Tchebycheff scalarisation: softmax weights on (log) losses",
    .cite = "Lin et al., Smooth Tchebycheff Scalarization for Multi-Objective Optimization, ICML 2024",
    .hparams = stch_hparams,
    .n_hparams = HP_N,
    .state_size = sizeof(stch_state),
    .init = stch_init,
    .step = stch_step,
    .fini = stch_fini,
};
