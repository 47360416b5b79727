/* test_balancer_upgrad.c: UPGrad (Quinton & Rey, 2024): the properties the paper proves
 * (non-conflicting, linear under scaling, the mean gradient when nothing conflicts), the
 * two-task projection in closed form, and agreement of the exact and iterative QP solvers. */
#include "grad_method_util.h"

/* Exact options: Prop. 1 without TorchJD's normalisation/regularisation. */
#define EXACT "reg_eps=0,norm_eps=0"
/* The active-set solution is exact to rounding; the Gauss-Seidel solver stops at a KKT
 * residual of 1e-12 on the trace-normalised Gram matrix. */
#define SOLVE_TOL 1e-9

Test(upgrad, two_tasks_closed_form)
{
    /* pi(g1) = g1 - (g1.g2)/|g2|^2 g2 when g1.g2 < 0; d = (pi(g1) + pi(g2)) / 2. */
    double G[6] = {1, 0, 0, -0.6, 1, 0.3}, l[2] = {1, 1}, w[2], d[3];
    gm_once("upgrad", EXACT, 2, 3, l, G, w, d);
    double g12 = gm_dot(G, G + 3, 3), g11 = gm_dot(G, G, 3), g22 = gm_dot(G + 3, G + 3, 3);
    double want0 = 0.5 * (1.0 - g12 / g11), want1 = 0.5 * (1.0 - g12 / g22);
    cr_assert_leq(fabs(w[0] - want0), 1e-14, "w0 %.15g want %.15g", w[0], want0);
    cr_assert_leq(fabs(w[1] - want1), 1e-14, "w1 %.15g want %.15g", w[1], want1);
}

Test(upgrad, non_conflicting_for_random_gradients)
{
    const int Ts[] = {3, 5, 8, 6};
    const size_t Ds[] = {10, 10, 20, 3};
    for (int k = 0; k < 4; k++) {
        int T = Ts[k];
        size_t D = Ds[k];
        double *G = malloc((size_t)T * D * sizeof *G), l[8], w[8], *d = malloc(D * sizeof *d);
        gm_randn(G, (size_t)T * D, 100 + (uint64_t)k);
        for (int t = 0; t < T; t++)
            l[t] = 1.0;
        double scale = 0.0;
        for (int t = 0; t < T; t++)
            scale = fmax(scale, gm_dot(G + (size_t)t * D, G + (size_t)t * D, D));
        gm_once("upgrad", EXACT, T, D, l, G, w, d);
        for (int t = 0; t < T; t++)
            cr_assert_geq(gm_dot(G + (size_t)t * D, d, D), -SOLVE_TOL * scale, "T=%d task %d conflicts", T, t);
        /* TorchJD's defaults: non-conflicting up to reg_eps |v| (trace-normalised units) */
        gm_once("upgrad", "", T, D, l, G, w, d);
        double tr = 0.0;
        for (int t = 0; t < T; t++)
            tr += gm_dot(G + (size_t)t * D, G + (size_t)t * D, D);
        for (int t = 0; t < T; t++)
            cr_assert_geq(gm_dot(G + (size_t)t * D, d, D), -1e-4 * tr * gm_maxabs(w, T) * 1.01);
        free(G);
        free(d);
    }
}

Test(upgrad, no_conflict_gives_the_mean_gradient)
{
    enum { T = 4, D = 5 };
    double G[T * D], l[T] = {1, 1, 1, 1}, w[T], d[D];
    gm_randn(G, T * D, 8);
    for (int i = 0; i < T * D; i++)
        G[i] = fabs(G[i]); /* nonnegative entries: every g_i . g_j >= 0 */
    gm_once("upgrad", "", T, D, l, G, w, d);
    for (int t = 0; t < T; t++)
        cr_assert_leq(fabs(w[t] - 0.25), 1e-15, "w[%d] = %.17g", t, w[t]);
}

Test(upgrad, linear_under_scaling)
{
    /* c -> A(diag(c) J) is linear on c > 0: d(c1 + c2) = d(c1) + d(c2). */
    enum { T = 4, D = 6 };
    double J[T * D], J1[T * D], J2[T * D], J12[T * D], l[T] = {1, 1, 1, 1}, w[T];
    double d1[D], d2[D], d12[D];
    const double c1[T] = {1.0, 0.2, 3.0, 0.7}, c2[T] = {0.5, 2.0, 0.1, 1.3};
    gm_randn(J, T * D, 12);
    for (int t = 0; t < T; t++)
        for (int c = 0; c < D; c++) {
            J1[t * D + c] = c1[t] * J[t * D + c];
            J2[t * D + c] = c2[t] * J[t * D + c];
            J12[t * D + c] = (c1[t] + c2[t]) * J[t * D + c];
        }
    gm_once("upgrad", EXACT, T, D, l, J1, w, d1);
    gm_once("upgrad", EXACT, T, D, l, J2, w, d2);
    gm_once("upgrad", EXACT, T, D, l, J12, w, d12);
    for (int c = 0; c < D; c++)
        cr_assert_leq(fabs(d12[c] - d1[c] - d2[c]), 1e-12 * gm_maxabs(d12, D), "coordinate %d", c);
}

Test(upgrad, exact_and_iterative_solvers_agree)
{
    enum { T = 7, D = 9 };
    double G[T * D], l[T], w1[T], w2[T], d1[D], d2[D];
    gm_randn(G, T * D, 55);
    for (int t = 0; t < T; t++)
        l[t] = 1.0;
    gm_once("upgrad", "", T, D, l, G, w1, d1);
    gm_once("upgrad", "exact_max_T=0", T, D, l, G, w2, d2);
    for (int t = 0; t < T; t++)
        cr_assert_leq(fabs(w1[t] - w2[t]), SOLVE_TOL, "w[%d]: %.15g vs %.15g", t, w1[t], w2[t]);
}
