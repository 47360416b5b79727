/* test_balancer_moco.c: MoCo (Fernando et al., ICLR 2023): one step of Algorithm 1 by
 * hand, lambda on the simplex, and the paper's point that with exact (noise-free)
 * gradients the iterates track MGDA's min-norm weights. */
#include <stdio.h>

#include "grad_method_util.h"

Test(moco, first_step_by_hand_paper_and_libmtl)
{
    enum { T = 2, D = 3 };
    double G[T * D] = {1, 0, 0.5, -0.2, 1, 0}, l[T] = {2, 3}, w[T], d[D];
    /* beta = 1, no decay: y = h after step 1. */
    gm_once("moco", "beta=1,gamma=0.4", T, D, l, G, w, d);
    double M00 = gm_dot(G, G, D), M01 = gm_dot(G, G + D, D), M11 = gm_dot(G + D, G + D, D);
    double p0 = 0.5 - 0.4 * 0.5 * (M00 + M01), p1 = 0.5 - 0.4 * 0.5 * (M01 + M11);
    double tau = (p0 + p1 - 1.0) / 2.0; /* both stay positive here */
    double lam0 = p0 - tau, lam1 = p1 - tau;
    cr_assert(lam0 > 0 && lam1 > 0);
    cr_assert_leq(fabs(w[0] - lam0), 1e-15);
    cr_assert_leq(fabs(w[1] - lam1), 1e-15);
    for (int c = 0; c < D; c++)
        cr_assert_leq(fabs(d[c] - (lam0 * G[c] + lam1 * G[D + c])), 1e-15);
    /* LibMTL: h_t = l_t g_t / (|g_t| + 1e-8), softmax update */
    gm_once("moco", "beta=1,gamma=0.4,update=softmax,normalize=loss", T, D, l, G, w, d);
    double n0 = sqrt(M00) + 1e-8, n1 = sqrt(M11) + 1e-8, f0 = l[0] / n0, f1 = l[1] / n1;
    double q0 = 0.5 - 0.4 * 0.5 * (f0 * f0 * M00 + f0 * f1 * M01);
    double q1 = 0.5 - 0.4 * 0.5 * (f0 * f1 * M01 + f1 * f1 * M11);
    double s0 = exp(q0) / (exp(q0) + exp(q1));
    cr_assert_leq(fabs(w[0] - s0), 1e-15);
    cr_assert_leq(fabs(d[0] - (s0 * f0 * G[0] + (1 - s0) * f1 * G[D])), 1e-14);
}

Test(moco, exact_gradients_converge_to_mgda_weights)
{
    /* With h = g fixed, y -> g and lambda follows projected gradient descent on
     * 1/2 |G^T lambda|^2 with step gamma = 0.5 / lambda_max(M) (< 2 / L): it converges to
     * the min-norm point, gamma* = (g2 - g1).g2 / |g1 - g2|^2 for T = 2 (Sener & Koltun Alg. 1). */
    enum { T = 2, D = 3 };
    double G[T * D] = {1, 0.1, 0, -0.3, 1, 0.2}, l[T] = {1, 1}, w[T], d[D], hw[T];
    double M00 = gm_dot(G, G, D), M01 = gm_dot(G, G + D, D), M11 = gm_dot(G + D, G + D, D);
    double lmax = 0.5 * (M00 + M11) + sqrt(0.25 * (M00 - M11) * (M00 - M11) + M01 * M01);
    char opts[128];
    snprintf(opts, sizeof opts, "beta=0.5,beta_sigma=0,gamma=%.17g,gamma_sigma=0", 0.5 / lmax);
    mtb_balancer *b = gm_new("moco", opts, T, D);
    mtb_error err = {0};
    for (int s = 0; s < 3000; s++) {
        cr_assert_eq(gm_step_z(b, s, s, T, D, l, G, NULL, hw, w, d, &err), MTB_OK, "%s", err.msg);
        cr_assert(w[0] >= 0.0 && w[1] >= 0.0 && fabs(w[0] + w[1] - 1.0) <= 1e-15);
    }
    double gam = (M11 - M01) / (M00 - 2 * M01 + M11);
    cr_assert_leq(fabs(w[0] - gam), 1e-9, "lambda_0 = %.15g, MGDA %.15g", w[0], gam);
    mtb_balancer_free(b);
}
