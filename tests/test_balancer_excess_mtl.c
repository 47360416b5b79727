/* test_balancer_excess_mtl.c: ExcessMTL (He et al., ICML 2024): the AdaGrad excess-risk
 * estimate and the exponentiated update (Algorithm 1), its invariance to each task's
 * gradient scale (the normalisation by the first estimate), and its direction (the task
 * with the larger relative excess risk gains weight). */
#include "grad_method_util.h"

static void run(const char *opts, int T, size_t D, int steps, const double *Gs /* steps x T x D */,
                double *w)
{
    mtb_balancer *b = gm_new("excess_mtl", opts, T, D);
    double l[8], hw[8], g[16];
    mtb_error err = {0};
    for (int t = 0; t < T; t++)
        l[t] = 1.0;
    for (int s = 0; s < steps; s++)
        cr_assert_eq(gm_step_z(b, s, s, T, D, l, Gs + (size_t)s * T * D, NULL, hw, w, g, &err),
                     MTB_OK, "%s", err.msg);
    for (int t = 0; t < T; t++)
        cr_assert_eq(hw[t], w[t]);
    mtb_balancer_free(b);
}

Test(excess_mtl, algorithm_one_by_hand)
{
    enum { T = 2, D = 3 };
    double Gs[3 * T * D];
    gm_randn(Gs, 3 * T * D, 9);
    double w[T], S[T * D] = {0}, e0[T], lw[T] = {0, 0};
    run("", T, D, 1, Gs, w);
    cr_assert(w[0] == 1.0 && w[1] == 1.0, "the first step keeps w = 1");
    run("step_size=0.3", T, D, 3, Gs, w);
    for (int s = 0; s < 3; s++)
        for (int t = 0; t < T; t++) {
            double e = 0.0;
            for (int c = 0; c < D; c++) {
                double g = Gs[(s * T + t) * D + c];
                S[t * D + c] += g * g;
                e += g * g / sqrt(S[t * D + c] + 1e-7);
            }
            if (s == 0)
                e0[t] = e;
            else
                lw[t] += 0.3 * e / e0[t];
        }
    double z = exp(lw[0]) + exp(lw[1]);
    for (int t = 0; t < T; t++)
        cr_assert_leq(fabs(w[t] - 2.0 * exp(lw[t]) / z), 1e-14, "w[%d] = %.15g", t, w[t]);
}

Test(excess_mtl, invariant_to_each_tasks_gradient_scale)
{
    enum { T = 3, D = 4, S = 6 };
    double Gs[S * T * D], Hs[S * T * D], w1[T], w2[T];
    gm_randn(Gs, S * T * D, 21);
    const double c[T] = {1e-4, 1.0, 1e4};
    for (int s = 0; s < S; s++)
        for (int t = 0; t < T; t++)
            for (int k = 0; k < D; k++)
                Hs[(s * T + t) * D + k] = c[t] * Gs[(s * T + t) * D + k];
    /* eps = 0: e_t is then exactly homogeneous of degree 1 in task t's gradient */
    run("eps=0,step_size=0.5", T, D, S, Gs, w1);
    run("eps=0,step_size=0.5", T, D, S, Hs, w2);
    for (int t = 0; t < T; t++)
        cr_assert_leq(fabs(w1[t] - w2[t]), 1e-12, "w[%d]: %.15g vs %.15g", t, w1[t], w2[t]);
}

Test(excess_mtl, task_whose_excess_risk_stays_high_gains_weight)
{
    /* Task 0's gradient keeps its size, task 1's shrinks 10x per step: task 0's relative
     * excess-risk estimate e/e0 stays larger, so its weight grows above 1. */
    enum { T = 2, D = 2, S = 5 };
    double Gs[S * T * D];
    for (int s = 0; s < S; s++) {
        Gs[(s * T + 0) * D + 0] = 1.0;
        Gs[(s * T + 0) * D + 1] = 0.5;
        Gs[(s * T + 1) * D + 0] = pow(0.1, s);
        Gs[(s * T + 1) * D + 1] = -pow(0.1, s);
    }
    double w[T];
    run("step_size=1", T, D, S, Gs, w);
    cr_assert_gt(w[0], 1.0);
    cr_assert_lt(w[1], 1.0);
    cr_assert_leq(fabs(w[0] + w[1] - 2.0), 1e-14);
}

Test(excess_mtl, zero_first_gradient_waits_for_a_usable_scale)
{
    enum { T = 2, D = 2 };
    double Gs[3 * T * D] = {0, 0, 1, 1, /* step 0: task 0 zero */ 1, 0, 1, 1, 1, 0, 1, 1}, w[T];
    run("", T, D, 3, Gs, w);
    cr_assert_leq(fabs(w[0] + w[1] - 2.0), 1e-14);
}
