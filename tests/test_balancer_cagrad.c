/* test_balancer_cagrad.c: CAGrad with c = 0 is the mean gradient; the exact inner solver
 * against an independent 1-D minimisation (T = 2); the primal property that d maximises
 * the worst-task improvement min_t g_t.d over the ball |d - g0| <= c |g0|. */
#include "grad_method_util.h"

Test(cagrad, c_zero_is_mean_gradient)
{
    double G[15], l[3] = {1, 2, 3}, w[3], g[5], mean[5];
    gm_randn(G, 15, 2);
    for (int i = 0; i < 5; i++)
        mean[i] = (G[i] + G[5 + i] + G[10 + i]) / 3.0;
    gm_once("cagrad", "c=0", 3, 5, l, G, w, g);
    cr_assert_leq(gm_reldiff(g, mean, 5), 1e-15, "differs by %g", gm_reldiff(g, mean, 5));
}

/* F(x) for w = (x, 1 - x): w.b + phi |g_w| (paper objective, no eps). */
static double f2(double x, const double *G, size_t D, double phi)
{
    double gw[8], g0[8];
    for (size_t i = 0; i < D; i++) {
        gw[i] = x * G[i] + (1 - x) * G[D + i];
        g0[i] = 0.5 * (G[i] + G[D + i]);
    }
    return gm_dot(gw, g0, D) + phi * sqrt(gm_dot(gw, gw, D));
}

Test(cagrad, two_tasks_match_golden_section_search)
{
    const size_t D = 4;
    for (uint64_t seed = 1; seed <= 10; seed++) {
        double G[8], l[2] = {1, 1}, w[2], g[4], g0[4];
        gm_randn(G, 8, seed);
        for (size_t i = 0; i < D; i++)
            g0[i] = 0.5 * (G[i] + G[D + i]);
        double c = 0.5, phi = c * sqrt(gm_dot(g0, g0, D));
        /* golden-section search on [0, 1] (F is convex in x), 200 iterations */
        double a = 0.0, bb = 1.0, r = (sqrt(5.0) - 1) / 2;
        for (int it = 0; it < 200; it++) {
            double x1 = bb - r * (bb - a), x2 = a + r * (bb - a);
            if (f2(x1, G, D, phi) < f2(x2, G, D, phi))
                bb = x2;
            else
                a = x1;
        }
        double x = 0.5 * (a + bb), gw[4], ref[4];
        for (size_t i = 0; i < D; i++)
            gw[i] = x * G[i] + (1 - x) * G[D + i];
        double lam = phi / sqrt(gm_dot(gw, gw, D));
        for (size_t i = 0; i < D; i++)
            ref[i] = (g0[i] + lam * gw[i]) / (1 + c * c);
        gm_once("cagrad", "", 2, D, l, G, w, g);
        /* the two minimisers agree to ~1e-8 in x (golden-section resolution on a flat
         * minimum), which moves d by less than 1e-6 relative */
        cr_assert_leq(gm_reldiff(g, ref, D), 1e-6, "seed %llu: differs by %g",
                      (unsigned long long)seed, gm_reldiff(g, ref, D));
    }
}

Test(cagrad, direction_maximises_worst_improvement_in_the_ball)
{
    const int T = 4;
    const size_t D = 6;
    double G[24], l[4] = {1, 1, 1, 1}, w[4], d[6], g0[6];
    gm_randn(G, 24, 9);
    for (size_t i = 0; i < D; i++) {
        g0[i] = 0;
        for (int t = 0; t < T; t++)
            g0[i] += G[(size_t)t * D + i] / T;
    }
    double c = 0.5, radius = c * sqrt(gm_dot(g0, g0, D));
    gm_once("cagrad", "c=0.5,rescale=none", T, D, l, G, w, d);
    /* d lies on the ball's boundary ... */
    double diff[6];
    for (size_t i = 0; i < D; i++)
        diff[i] = d[i] - g0[i];
    cr_assert_leq(fabs(sqrt(gm_dot(diff, diff, D)) - radius), 1e-10 * radius);
    /* ... and no random point of the ball does better on the worst task */
    double best = INFINITY;
    for (int t = 0; t < T; t++)
        best = fmin(best, gm_dot(G + (size_t)t * D, d, D));
    mtb_rng r;
    mtb_rng_seed(&r, 5, 5);
    for (int k = 0; k < 20000; k++) {
        double u[6], p[6];
        for (size_t i = 0; i < D; i++)
            u[i] = mtb_rng_normal(&r);
        double un = sqrt(gm_dot(u, u, D)), rad = radius * pow(mtb_rng_uniform(&r), 1.0 / D);
        for (size_t i = 0; i < D; i++)
            p[i] = g0[i] + rad * u[i] / un;
        double worst = INFINITY;
        for (int t = 0; t < T; t++)
            worst = fmin(worst, gm_dot(G + (size_t)t * D, p, D));
        cr_assert_leq(worst, best + 1e-9 * fabs(best) + 1e-12, "point %d beats CAGrad: %g > %g", k,
                      worst, best);
    }
}

Test(cagrad, trunk_weights_reproduce_the_gradient)
{
    double G[15], l[3] = {1, 1, 1}, w[3], g[5], re[5];
    gm_randn(G, 15, 12);
    gm_once("cagrad", "", 3, 5, l, G, w, g);
    for (int i = 0; i < 5; i++)
        re[i] = w[0] * G[i] + w[1] * G[5 + i] + w[2] * G[10 + i];
    cr_assert_leq(gm_reldiff(re, g, 5), 1e-14);
}
