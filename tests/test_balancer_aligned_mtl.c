/* test_balancer_aligned_mtl.c: Aligned-MTL (Senushkin et al., CVPR 2023) against its
 * defining property: the aligned system B G has equal singular values sigma (orthogonal
 * aligned gradients of norm sigma), on Gram matrices with a known eigendecomposition. */
#include "grad_method_util.h"

/* a = B 1 is computed from LAPACK's eigenvectors; the closed forms below are exact, so
 * the tolerance only covers dsyev's backward error (a few ulps times the condition of
 * the eigenvalue gaps, here O(1)). */
#define EIG_TOL 1e-12

/* G = U S W^T with U = I - 2 v v^T / |v|^2 (Householder, orthogonal), S = diag(s) and
 * W = the first T unit vectors of R^D: M = U S^2 U^T, B = sigma U S^{-1} U^T. */
static void householder(const double *v, int T, double *U)
{
    double vv = 0.0;
    for (int i = 0; i < T; i++)
        vv += v[i] * v[i];
    for (int i = 0; i < T; i++)
        for (int j = 0; j < T; j++)
            U[i * T + j] = (i == j) - 2.0 * v[i] * v[j] / vv;
}

Test(aligned_mtl, weights_equal_sigma_U_Sinv_UT_ones)
{
    enum { T = 3, D = 5 };
    const double v[T] = {0.3, -1.0, 0.7}, sv[T] = {0.5, 2.0, 4.0};
    const char *opts[] = {"scale=min", "scale=median", "scale=rmse", "weights=mean"};
    const double sig[] = {0.5, 2.0, sqrt((0.25 + 4.0 + 16.0) / 3.0), 0.5};
    const double wt[] = {1, 1, 1, 1.0 / 3.0};
    double U[T * T], G[T * D] = {0}, l[T] = {1, 1, 1}, a[T], d[D];
    householder(v, T, U);
    for (int i = 0; i < T; i++)
        for (int k = 0; k < T; k++)
            G[i * D + k] = U[i * T + k] * sv[k];
    for (int o = 0; o < 4; o++) {
        gm_once("aligned_mtl", opts[o], T, D, l, G, a, d);
        for (int i = 0; i < T; i++) {
            double want = 0.0;
            for (int k = 0; k < T; k++) {
                double uk1 = U[0 * T + k] + U[1 * T + k] + U[2 * T + k];
                want += U[i * T + k] * uk1 / sv[k];
            }
            want *= sig[o] * wt[o];
            cr_assert_leq(fabs(a[i] - want), EIG_TOL, "%s: a[%d] = %.15g, want %.15g", opts[o], i,
                          a[i], want);
        }
    }
}

Test(aligned_mtl, aligned_gradients_are_orthogonal_with_equal_norms)
{
    /* Orthogonal gradients of norms 1, 2, 4: B = diag(sigma / s), so a_t = 1 / s_t and the
     * aligned gradients a_t g_t all have norm sigma = 1 and stay orthogonal. Each task's
     * projection onto d is then sigma^2 / s_t * s_t... i.e. d . g_t / |g_t| = sigma. */
    enum { T = 3, D = 4 };
    double G[T * D] = {1, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 4}, l[T] = {1, 2, 3}, a[T], d[D];
    gm_once("aligned_mtl", "", T, D, l, G, a, d);
    const double want[T] = {1.0, 0.5, 0.25};
    for (int t = 0; t < T; t++) {
        cr_assert_leq(fabs(a[t] - want[t]), EIG_TOL, "a[%d] = %.15g", t, a[t]);
        double proj = gm_dot(d, G + t * D, D) / sqrt(gm_dot(G + t * D, G + t * D, D));
        cr_assert_leq(fabs(proj - 1.0), EIG_TOL, "task %d: projection %.15g", t, proj);
    }
}

Test(aligned_mtl, random_gradients_equal_projections_and_scale_invariance)
{
    /* For any full-rank G, the aligned gradients g^_t = (B G)_t satisfy G^ G^^T = sigma^2 I,
     * hence (with w = 1) g^_t . d = sigma^2 for every t: M a = sigma M^{1/2} 1 and
     * a^T M a = T sigma^2. Scaling G by c leaves a unchanged (B is homogeneous of degree 0). */
    enum { T = 4, D = 9 };
    double G[T * D], G2[T * D], l[T] = {1, 1, 1, 1}, a[T], a2[T], d[D], d2[D];
    gm_randn(G, T * D, 5);
    gm_once("aligned_mtl", "", T, D, l, G, a, d);
    /* a^T M a = |d|^2 = T sigma^2 and sigma^2 = lambda_min: check |d|^2 / T <= every
     * Rayleigh quotient of M at the unit vectors (lambda_min <= M_tt). */
    double dd = gm_dot(d, d, D);
    for (int t = 0; t < T; t++)
        cr_assert_leq(dd / T, gm_dot(G + t * D, G + t * D, D) * (1 + 1e-12));
    for (int i = 0; i < T * D; i++)
        G2[i] = 1e4 * G[i];
    gm_once("aligned_mtl", "", T, D, l, G2, a2, d2);
    for (int t = 0; t < T; t++)
        cr_assert_leq(fabs(a2[t] - a[t]), 1e-10 * gm_maxabs(a, T), "a[%d]: %.15g vs %.15g", t, a2[t], a[t]);
}

Test(aligned_mtl, rank_deficient_one_task_and_zero)
{
    /* T = 1: B = sigma lambda^{-1/2} = 1. */
    double g[3] = {0.3, -2, 1}, l1[1] = {1}, a1[1], d1[3];
    gm_once("aligned_mtl", "", 1, 3, l1, g, a1, d1);
    cr_assert_leq(fabs(a1[0] - 1.0), 1e-14);
    /* Identical gradients: rank 1, a = sigma v (v.1) / sqrt(lambda) with v = 1/sqrt(T):
     * lambda = T |g|^2, sigma = sqrt(lambda): a = 1 for all. */
    double G[9], l[3] = {1, 1, 1}, a[3], d[3];
    for (int t = 0; t < 3; t++)
        memcpy(G + 3 * t, g, sizeof g);
    gm_once("aligned_mtl", "", 3, 3, l, G, a, d);
    for (int t = 0; t < 3; t++)
        cr_assert_leq(fabs(a[t] - 1.0), 1e-12, "a[%d] = %.15g", t, a[t]);
    /* Zero gradients: nothing kept, a = 0. */
    double Z[9] = {0};
    gm_once("aligned_mtl", "", 3, 3, l, Z, a, d);
    for (int t = 0; t < 3; t++)
        cr_assert_eq(a[t], 0.0);
}
