/* test_balancer_mgda.c: MGDA's min-norm optimality conditions, the IMTL closed form
 * (Appendix C.2, Eqs. 28/30), the two-task rule, and agreement between the solvers. */
#include "grad_method_util.h"

/* Optimality of d = sum a_t g_t on the simplex, relative to max_t |g_t|^2:
 * the exact solver certifies a gap of 1e-13 and then polishes with the KKT system, so
 * 1e-9 leaves four orders of margin for the rounding of the test's own dot products. */
#define OPT_TOL 1e-9
/* Weights counted as "on the support". */
#define SUPPORT_MIN 1e-7

static double max_sq_norm(const double *G, int T, size_t D)
{
    double m = 0.0;
    for (int t = 0; t < T; t++)
        m = fmax(m, gm_dot(G + (size_t)t * D, G + (size_t)t * D, D));
    return m;
}

static void check_min_norm(const double *G, int T, size_t D, const double *a, const double *d,
                           double tol, double support_min)
{
    double dd = gm_dot(d, d, D), scale = max_sq_norm(G, T, D), sum = 0.0;
    for (int t = 0; t < T; t++) {
        cr_assert_geq(a[t], 0.0, "weight %d = %g is negative", t, a[t]);
        sum += a[t];
        double gd = gm_dot(G + (size_t)t * D, d, D);
        cr_assert_geq(gd, dd - tol * scale, "task %d: g.d = %.12g < |d|^2 = %.12g", t, gd, dd);
        if (a[t] > support_min)
            cr_assert_leq(fabs(gd - dd), tol * scale, "task %d on the support: g.d = %.12g, |d|^2 = %.12g",
                          t, gd, dd);
    }
    cr_assert_leq(fabs(sum - 1.0), 1e-12, "weights sum to %.15g", sum);
}

Test(mgda, exact_solver_satisfies_min_norm_conditions)
{
    const int Ts[] = {3, 4, 6, 10};
    const size_t Ds[] = {5, 3, 20, 7}; /* T > D in the second and last case: rank deficient */
    for (int k = 0; k < 4; k++) {
        for (uint64_t seed = 1; seed <= 5; seed++) {
            int T = Ts[k];
            size_t D = Ds[k];
            double *G = malloc((size_t)T * D * sizeof *G), l[16], a[16], *d = malloc(D * sizeof *d);
            gm_randn(G, (size_t)T * D, seed * 17 + (uint64_t)k);
            for (int t = 0; t < T; t++)
                l[t] = 1.0;
            gm_once("mgda", "solver=exact", T, D, l, G, a, d);
            check_min_norm(G, T, D, a, d, OPT_TOL, SUPPORT_MIN);
            free(G);
            free(d);
        }
    }
}

Test(mgda, frank_wolfe_with_many_iterations_approaches_optimality)
{
    /* Frank-Wolfe converges as O(1/k): with 1e5 iterations and no early stop the gap is
     * small but not at machine precision, hence the looser 1e-3. It also never removes a
     * vertex completely (its weight only shrinks like 1/k), so "on the support" means a
     * weight above 1e-2 here. */
    int T = 5;
    size_t D = 8;
    double G[40], l[5] = {1, 1, 1, 1, 1}, a[5], d[8];
    gm_randn(G, 40, 7);
    gm_once("mgda", "solver=frank_wolfe,max_iter=100000,tol=0", T, D, l, G, a, d);
    check_min_norm(G, T, D, a, d, 1e-3, 1e-2);
}

Test(mgda, libmtl_solver_is_close_to_exact)
{
    int T = 4;
    size_t D = 6;
    double G[24], l[4] = {1, 2, 3, 4}, a1[4], a2[4], d1[6], d2[6];
    gm_randn(G, 24, 3);
    gm_once("mgda", "solver=exact", T, D, l, G, a1, d1);
    gm_once("mgda", "solver=libmtl", T, D, l, G, a2, d2);
    /* LibMTL stops at an L1 change of 1e-5 in the weights */
    cr_assert_leq(gm_reldiff(d2, d1, D), 1e-3, "libmtl vs exact: %g", gm_reldiff(d2, d1, D));
}

Test(mgda, two_tasks_closed_form)
{
    /* Sener & Koltun Alg. 1: gamma = (g2 - g1).g2 / |g1 - g2|^2 when inside [0, 1]. */
    double G[6] = {1, 0, 0, 0.2, 1, 0}, l[2] = {1, 1}, a[2], d[3];
    gm_once("mgda", "", 2, 3, l, G, a, d);
    double g1g1 = 1.0, g1g2 = 0.2, g2g2 = 0.04 + 1.0;
    double gamma = (g2g2 - g1g2) / (g1g1 + g2g2 - 2 * g1g2);
    cr_assert_leq(fabs(a[0] - gamma), 1e-15, "gamma %.17g vs %.17g", a[0], gamma);
    /* one gradient dominates: clamp to the vertex of the shorter one */
    double H[4] = {1, 0, 3, 0.1}, b[2], e[2];
    gm_once("mgda", "", 2, 2, l, H, b, e);
    cr_assert_eq(b[0], 1.0);
    cr_assert_eq(b[1], 0.0);
    /* LibMTL's clamped version returns 0.999 there */
    gm_once("mgda", "solver=libmtl", 2, 2, l, H, b, e);
    cr_assert_eq(b[0], 0.999);
}

/* Orthogonal u_t plus a common c orthogonal to all u_t: the affine hull's min-norm point is
 * c + sum a_t u_t with a_t proportional to 1/|u_t|^2 > 0, inside the simplex. */
Test(mgda, exact_equals_closed_form_inside_simplex)
{
    int T = 4;
    size_t D = 6;
    double G[24] = {0}, l[4] = {1, 1, 1, 1}, a1[4], a2[4], a3[4], d1[6], d2[6], d3[6];
    const double norms[4] = {0.5, 1.0, 2.0, 3.0};
    for (int t = 0; t < T; t++) {
        G[t * D + (size_t)t] = norms[t];
        G[t * D + 4] = 0.7; /* common component c */
        G[t * D + 5] = -0.2;
    }
    gm_once("mgda", "solver=exact", T, D, l, G, a1, d1);
    gm_once("mgda", "solver=closed_form", T, D, l, G, a2, d2);
    gm_once("mgda", "solver=frank_wolfe,max_iter=100000,tol=0", T, D, l, G, a3, d3);
    double s = 0.0;
    for (int t = 0; t < T; t++)
        s += 1.0 / (norms[t] * norms[t]);
    for (int t = 0; t < T; t++) {
        double want = 1.0 / (norms[t] * norms[t]) / s;
        cr_assert_leq(fabs(a2[t] - want), 1e-12, "closed form a[%d] = %.15g, want %.15g", t, a2[t], want);
        cr_assert_leq(fabs(a1[t] - want), 1e-9, "exact a[%d] = %.15g, want %.15g", t, a1[t], want);
        cr_assert_leq(fabs(a3[t] - want), 1e-3, "frank-wolfe a[%d] = %.15g, want %.15g", t, a3[t], want);
    }
    cr_assert_leq(gm_reldiff(d1, d2, D), 1e-9);
}

Test(mgda, closed_form_is_perpendicular_to_the_hyperplane)
{
    /* IMTL Eq. (28): g.(g_1 - g_t) = 0 for all t, weights summing to 1 (may be negative). */
    int T = 4;
    size_t D = 7;
    double G[28], l[4] = {1, 1, 1, 1}, a[4], d[7];
    gm_randn(G, 28, 11);
    gm_once("mgda", "solver=closed_form", T, D, l, G, a, d);
    double sum = 0.0;
    for (int t = 0; t < T; t++)
        sum += a[t];
    cr_assert_leq(fabs(sum - 1.0), 1e-12);
    double scale = max_sq_norm(G, T, D);
    for (int t = 1; t < T; t++) {
        double v = gm_dot(d, G, D) - gm_dot(d, G + (size_t)t * D, D);
        cr_assert_leq(fabs(v), 1e-10 * scale, "g.(g_1 - g_%d) = %g", t, v);
    }
}

Test(mgda, closed_form_rank_deficient_is_finite_min_norm_affine_point)
{
    /* T = 5 > D + 1 = 3: D D^T is singular; the pseudo-inverse still gives a point of the
     * affine hull that is perpendicular to it (here the hull contains 0, so d = 0). */
    int T = 5;
    size_t D = 2;
    double G[10], l[5] = {1, 1, 1, 1, 1}, a[5], d[2];
    gm_randn(G, 10, 5);
    gm_once("mgda", "solver=closed_form", T, D, l, G, a, d);
    cr_assert_leq(gm_maxabs(d, D), 1e-10 * sqrt(max_sq_norm(G, T, D)), "|d| = %g", gm_maxabs(d, D));
}

Test(mgda, normalisation_and_apply_to)
{
    /* With normalize=l2 the solver sees unit vectors; apply_to=normalized returns a/|g|. */
    double G[4] = {3, 0, 0, 1}, l[2] = {2, 5}, a[2], an[2], d[2];
    gm_once("mgda", "normalize=l2", 2, 2, l, G, a, d);
    cr_assert_leq(fabs(a[0] - 0.5), 1e-15);
    gm_once("mgda", "normalize=l2,apply_to=normalized", 2, 2, l, G, an, d);
    cr_assert_leq(fabs(an[0] - 0.5 / 3.0), 1e-15);
    cr_assert_leq(fabs(an[1] - 0.5 / 1.0), 1e-15);
    /* loss 0 with normalize=loss: that normaliser falls back to 1, the other is l = 1, so
     * the solver sees G itself: min_a |a (3, 0) + (1 - a) (0, 1)|^2 at a = 1/10 */
    double l0[2] = {0.0, 1.0};
    gm_once("mgda", "normalize=loss,apply_to=normalized", 2, 2, l0, G, an, d);
    cr_assert_leq(fabs(an[0] - 0.1), 1e-15, "%.17g", an[0]);
    cr_assert_leq(fabs(an[1] - 0.9), 1e-15, "%.17g", an[1]);
}

Test(mgda, rep_level_asks_for_representation_gradients)
{
    const mtb_balancer_type *ty = mtb_balancer_find("mgda");
    mtb_hparams hp;
    mtb_balancer_setup su;
    cr_assert_eq(mtb_hparams_parse(ty, "level=rep", &hp, NULL), MTB_OK);
    cr_assert_eq(mtb_balancer_query(ty, 3, &hp, &su, NULL), MTB_OK);
    cr_assert_eq(su.need, MTB_NEED_REP_GRADS);
    cr_assert_eq(mtb_hparams_parse(ty, "", &hp, NULL), MTB_OK);
    cr_assert_eq(mtb_balancer_query(ty, 3, &hp, &su, NULL), MTB_OK);
    cr_assert_eq(su.need, MTB_NEED_PARAM_GRADS);
    cr_assert_eq(su.scope, MTB_SCOPE_ALL);
}
