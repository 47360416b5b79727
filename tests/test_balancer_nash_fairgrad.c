/* test_balancer_nash_fairgrad.c: Nash-MTL's bargaining condition (G G^T) alpha = 1/alpha,
 * i.e. alpha_t g_t . d = 1 for every task (Navon et al., ICML 2022, Eq. (3)), FairGrad's
 * A w = w^{-1/alpha} (Ban & Ji, ICML 2024) with its closed form for orthogonal gradients,
 * the alpha = 1 equivalence of the two, clipping, and the singular fallback. */
#include <stdio.h>

#include "grad_method_util.h"

/* The solver stops at a relative residual of 1e-13 (or its rounding level, far below on
 * these well-conditioned random cases); 1e-10 leaves margin for the test's own products. */
#define RES_TOL 1e-10

static double rel_residual(const double *G, int T, size_t D, const double *w, double alpha)
{
    /* max_t |(G G^T w)_t - w_t^{-1/alpha}| / w_t^{-1/alpha}, via d = G^T w */
    double *d = calloc(D, sizeof *d), r = 0.0;
    for (int t = 0; t < T; t++)
        for (size_t c = 0; c < D; c++)
            d[c] += w[t] * G[(size_t)t * D + c];
    for (int t = 0; t < T; t++) {
        double u = pow(w[t], -1.0 / alpha);
        r = fmax(r, fabs(gm_dot(G + (size_t)t * D, d, D) - u) / u);
    }
    free(d);
    return r;
}

Test(nash_mtl, bargaining_condition_holds)
{
    const int Ts[] = {2, 3, 5, 8};
    for (int k = 0; k < 4; k++)
        for (uint64_t seed = 1; seed <= 4; seed++) {
            int T = Ts[k];
            size_t D = 12;
            double *G = malloc((size_t)T * D * sizeof *G), l[8], a[8], d[12];
            gm_randn(G, (size_t)T * D, seed * 13 + (uint64_t)k);
            for (int t = 0; t < T; t++)
                l[t] = 1.0;
            gm_once("nash_mtl", "", T, D, l, G, a, d);
            for (int t = 0; t < T; t++) {
                cr_assert_gt(a[t], 0.0);
                /* [Eq. (3)] alpha_t g_t . d = 1 */
                double share = a[t] * gm_dot(G + (size_t)t * D, d, D);
                cr_assert_leq(fabs(share - 1.0), RES_TOL, "T=%d seed %d task %d: %.15g", T,
                              (int)seed, t, share);
            }
            free(G);
        }
}

Test(nash_mtl, clipping_scales_the_trunk_not_the_heads)
{
    enum { T = 3, D = 6 };
    double G[T * D], l[T] = {1, 1, 1}, a[T], d[D], hw[T], w2[T], d2[D];
    gm_randn(G, T * D, 3);
    for (int i = 0; i < T * D; i++)
        G[i] *= 1e-3; /* small gradients: alpha ~ 1e3, |d| >> 1 */
    gm_once("nash_mtl", "", T, D, l, G, a, d);
    double n = sqrt(gm_dot(d, d, D));
    cr_assert_gt(n, 1.0);
    mtb_balancer *b = gm_new("nash_mtl", "max_norm=1", T, D);
    mtb_error err = {0};
    cr_assert_eq(gm_step(b, T, D, l, G, hw, w2, d2, &err), MTB_OK, "%s", err.msg);
    double c = 1.0 / (n + 1e-6);
    for (int t = 0; t < T; t++) {
        cr_assert_leq(fabs(hw[t] - a[t]), 1e-12 * a[t], "heads keep alpha");
        cr_assert_leq(fabs(w2[t] - c * a[t]), 1e-12 * a[t]);
    }
    cr_assert_leq(fabs(sqrt(gm_dot(d2, d2, D)) - n * c), 1e-12);
    mtb_balancer_free(b);
}

Test(nash_mtl, singular_gram_uses_the_ridge_fallback_or_errs)
{
    double G[4] = {1, 2, -1, -2}, l[2] = {1, 1}, a[2], d[2];
    gm_once("nash_mtl", "", 2, 2, l, G, a, d); /* opposite: no solution of Eq. (3) */
    cr_assert(a[0] > 0.0 && fabs(a[0] - a[1]) <= 1e-8 * a[0], "%g, %g", a[0], a[1]);
    cr_assert_leq(gm_maxabs(d, 2), 1e-8 * a[0] * 3.0);
    mtb_balancer *b = gm_new("nash_mtl", "fallback_ridge=0", 2, 2);
    double hw[2];
    mtb_error err = {0};
    cr_assert_eq(gm_step(b, 2, 2, l, G, hw, a, d, &err), MTB_ENUMERIC);
    cr_assert(strstr(err.msg, "nash_mtl") != NULL, "%s", err.msg);
    mtb_balancer_free(b);
}

Test(fairgrad, solves_the_alpha_fair_condition)
{
    const double alphas[] = {0.5, 1.0, 2.0, 5.0};
    for (int k = 0; k < 4; k++) {
        enum { T = 4, D = 10 };
        double G[T * D], l[T] = {1, 1, 1, 1}, w[T], d[D];
        gm_randn(G, T * D, 40 + (uint64_t)k);
        char opts[64];
        snprintf(opts, sizeof opts, "alpha=%g", alphas[k]);
        gm_once("fairgrad", opts, T, D, l, G, w, d);
        for (int t = 0; t < T; t++)
            cr_assert_gt(w[t], 0.0);
        double r = rel_residual(G, T, D, w, alphas[k]);
        cr_assert_leq(r, RES_TOL, "alpha %g: residual %g", alphas[k], r);
    }
}

Test(fairgrad, orthogonal_gradients_closed_form_and_nash_equivalence)
{
    /* A = diag(s^2): s_t^2 w_t = w_t^{-1/alpha}  =>  w_t = s_t^{-2 alpha / (1 + alpha)}. */
    enum { T = 3, D = 3 };
    double G[T * D] = {0.5, 0, 0, 0, 2, 0, 0, 0, 7}, l[T] = {1, 1, 1}, w[T], d[D], a[T];
    gm_once("fairgrad", "alpha=2", T, D, l, G, w, d);
    for (int t = 0; t < T; t++) {
        double s = G[t * D + t], want = pow(s, -4.0 / 3.0);
        cr_assert_leq(fabs(w[t] - want), 1e-13 * want, "w[%d] = %.15g, want %.15g", t, w[t], want);
    }
    double H[4 * 5];
    gm_randn(H, 20, 77);
    double l4[4] = {1, 1, 1, 1}, w4[4], a4[4], d5[5];
    gm_once("fairgrad", "alpha=1", 4, 5, l4, H, w4, d5);
    gm_once("nash_mtl", "", 4, 5, l4, H, a4, d5);
    for (int t = 0; t < 4; t++)
        cr_assert_leq(fabs(w4[t] - a4[t]), 1e-13 * a4[t]);
    (void)a;
}
