/* aligned_mtl.c: Aligned-MTL, aligning the principal components of the task gradients.
 * Senushkin, Patakin, Kuznetsov, Konushin, "Independent Component Alignment for Multi-Task
 * Learning", CVPR 2023 (not in /work/shared/papers; Sec. 4 "Aligned-MTL" and Algorithm 1
 * of the CVF version; official code github.com/SamsungLabs/MTL, ProcrustesSolver).
 *
 * With G the (T, D) gradient matrix and its Gram matrix M = G G^T = V Lambda V^T, the
 * gradient system is replaced by the closest (Procrustes) system whose singular values
 * are all equal to a common scale sigma:
 *   G^ = sigma U V^T = B G,   B = sigma V Lambda^{-1/2} V^T                   [Sec. 4, Alg. 1]
 * so that G^ G^^T = sigma^2 V V^T: the aligned gradients are orthogonal with equal norms
 * (condition number 1 of the aligned system, the paper's stability criterion). The
 * update is d = G^^T w with task weights w (the paper's pre-defined weights; the official
 * code and LibMTL use w = 1, i.e. d = sum_t a_t g_t with a = B 1).
 *
 * The scale (hparam `scale`, official code `scale_mode`): min = sqrt(lambda_min), the
 * smallest singular value of G (paper, default); median = sqrt(median lambda) (torch's
 * median: the lower of the two middle values); rmse = sqrt(mean lambda).
 *
 * Rank: eigenvalues lambda <= lambda_max T eps are dropped (V, Lambda restricted to the
 * kept pairs; the pseudo-inverse square root). eps (hparam `rank_eps`) defaults to the
 * double epsilon; the official code and LibMTL use torch.finfo().eps, the epsilon of
 * torch's default dtype (float32: 1.19e-7), which matters only for nearly singular M.
 * A zero G (lambda_max = 0, nothing kept) gives a = 0.
 *
 * Eigendecomposition: LAPACK dsyev on a copy of M (workspace queried in init()).
 * head_w = 1 (LibMTL: the heads keep their own gradients), trunk_w = a (or a / T with
 * `weights=mean`). */
#include <float.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gram_input.h"
#include "internal.h"
#include "mtb/balancer.h"

enum { HP_SCALE, HP_WEIGHTS, HP_RANK_EPS, HP_N };
enum { SCALE_MIN = 0, SCALE_MEDIAN = 1, SCALE_RMSE = 2 };

static const mtb_hparam_def aligned_hparams[HP_N] = {
    [HP_SCALE] = {"scale", MTB_HP_CHOICE, SCALE_MIN, 0, 0, "min|median|rmse",
                  "common singular value of the aligned system: smallest (paper, official "
                  "code and LibMTL default), median or root mean square"},
    [HP_WEIGHTS] = {"weights", MTB_HP_CHOICE, 0, 0, 0, "sum|mean",
                    "task weights w on the aligned gradients: 1 (official code, LibMTL) or 1/T"},
    [HP_RANK_EPS] = {"rank_eps", MTB_HP_REAL, DBL_EPSILON, 0.0, 1e-2, NULL,
                     "eigenvalues <= lambda_max T rank_eps are dropped (official code: torch's "
                     "default-dtype epsilon, 1.1920929e-07 in float32)"},
};

typedef struct aligned_state {
    int T;
    int scale, mean;
    double rank_eps;
    double *M;     /* (T, T) Gram matrix, then the eigenvectors (column-major = row-major
                      for the symmetric input; column k of the output is eigenvector k) */
    double *lam;   /* (T) eigenvalues, ascending */
    double *a;     /* (T) weights */
    double *lwork;
    int nlwork;
} aligned_state;

static void aligned_fini(void *vs)
{
    aligned_state *s = vs;
    free(s->M);
    free(s->lam);
    free(s->a);
    free(s->lwork);
    memset(s, 0, sizeof *s);
}

static mtb_status aligned_init(void *vs, int T, size_t D_max, const mtb_hparams *hp,
                               mtb_balancer_setup *setup, mtb_error *err)
{
    (void)D_max;
    aligned_state *s = vs;
    s->T = T;
    s->scale = (int)hp->v[HP_SCALE];
    s->mean = (int)hp->v[HP_WEIGHTS] == 1;
    s->rank_eps = hp->v[HP_RANK_EPS];
    setup->need = MTB_NEED_PARAM_GRADS;
    setup->scope = MTB_SCOPE_ALL;
    setup->gram_ok = 1; /* Alg. 1 needs only the eigenpairs of G G^T */
    size_t t = (size_t)T;
    s->M = malloc(t * t * sizeof *s->M);
    s->lam = malloc(t * sizeof *s->lam);
    s->a = malloc(t * sizeof *s->a);
    if (!s->M || !s->lam || !s->a) {
        aligned_fini(s);
        return mtb_fail(err, MTB_ENOMEM, "method aligned_mtl: cannot allocate the state for %d tasks", T);
    }
    double q = 0.0;
    lapack_int info = LAPACKE_dsyev_work(LAPACK_COL_MAJOR, 'V', 'U', T, s->M, T, s->lam, &q, -1);
    s->nlwork = info == 0 && q >= 3.0 * T ? (int)q : 3 * T;
    s->lwork = malloc((size_t)s->nlwork * sizeof *s->lwork);
    if (!s->lwork) {
        aligned_fini(s);
        return mtb_fail(err, MTB_ENOMEM, "method aligned_mtl: cannot allocate LAPACK workspace");
    }
    return MTB_OK;
}

static mtb_status aligned_step(void *vs, const mtb_balance_in *in, mtb_balance_out *out,
                               mtb_error *err)
{
    aligned_state *s = vs;
    int T = s->T;
    mtb_bal_gram_of(in, s->M); /* G G^T, or given on the Gram path */
    lapack_int info =
        LAPACKE_dsyev_work(LAPACK_COL_MAJOR, 'V', 'U', T, s->M, T, s->lam, s->lwork, s->nlwork);
    if (info != 0)
        return mtb_fail(err, MTB_ENUMERIC,
                        "method aligned_mtl: eigendecomposition of the %dx%d Gram matrix failed "
                        "(LAPACK dsyev info %d)",
                        T, T, (int)info);
    /* Kept pairs: the top `rank` eigenvalues lam[T-rank .. T-1] (ascending order). */
    double lmax = s->lam[T - 1];
    double cut = lmax * (double)T * s->rank_eps;
    int first = T;
    while (first > 0 && s->lam[first - 1] > cut && s->lam[first - 1] > 0.0)
        first--;
    int rank = T - first;
    mtb_bal_fill(s->a, T, 0.0);
    if (rank > 0) {
        double sig2;
        if (s->scale == SCALE_MIN) {
            sig2 = s->lam[first];
        } else if (s->scale == SCALE_MEDIAN) {
            sig2 = s->lam[first + (rank - 1) / 2]; /* lower middle, like torch.median */
        } else {
            sig2 = 0.0;
            for (int k = first; k < T; k++)
                sig2 += s->lam[k];
            sig2 /= rank;
        }
        double sigma = sqrt(sig2);
        /* a = B 1 = sigma sum_k v_k (v_k . 1) / sqrt(lambda_k)   [Alg. 1, B = sigma V L^-1/2 V^T] */
        for (int k = first; k < T; k++) {
            const double *v = s->M + (size_t)k * T; /* column k, column-major */
            double v1 = 0.0;
            for (int i = 0; i < T; i++)
                v1 += v[i];
            double c = sigma * v1 / sqrt(s->lam[k]);
            for (int i = 0; i < T; i++)
                s->a[i] += c * v[i];
        }
    }
    double wt = s->mean ? 1.0 / T : 1.0;
    for (int t = 0; t < T; t++) {
        out->head_w[t] = 1.0;
        out->trunk_w[t] = wt * s->a[t];
    }
    return MTB_OK;
}

const mtb_balancer_type mtb_balancer_aligned_mtl = {
    .name = "aligned_mtl",
    .summary = "rescale the gradient system to equal singular values (Procrustes alignment)",
    .cite = "Senushkin et al., Independent Component Alignment for Multi-Task Learning, CVPR 2023",
    .hparams = aligned_hparams,
    .n_hparams = HP_N,
    .state_size = sizeof(aligned_state),
    .init = aligned_init,
    .step = aligned_step,
    .fini = aligned_fini,
};
