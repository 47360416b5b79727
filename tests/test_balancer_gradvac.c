/* test_balancer_gradvac.c: GradVac leaves gradients unchanged when no cosine is below its
 * target; an adjustment lands exactly on the target cosine; the EMA of the targets. */
#include "grad_method_util.h"

Test(gradvac, no_conflict_below_target_leaves_gradients_unchanged)
{
    /* targets start at 0: positive cosines are above them */
    double G[12] = {1, 0.2, 0, 0.1, 0.5, 1, 0.3, 0, 0.2, 0.1, 1, 0.4}, l[3] = {1, 1, 1}, w[3], g[4];
    gm_once("gradvac", "", 3, 4, l, G, w, g);
    for (int i = 0; i < 4; i++)
        cr_assert_eq(g[i], G[i] + G[4 + i] + G[8 + i]);
    for (int t = 0; t < 3; t++)
        cr_assert_eq(w[t], 1.0);
}

Test(gradvac, adjusted_cosine_equals_the_target)
{
    /* step 1: cos = 0.8, no adjustment, target <- 0.5 * 0.8 = 0.4 (beta 0.5);
     * step 2: cos = 0.1 < 0.4: g_1 is moved along g_2 until cos(g_1', g_2) = 0.4. */
    const size_t D = 2;
    double l[2] = {1, 1}, hw[2], w[2], g[2];
    double G1[4] = {1, 0, 0.8, 0.6};
    double G2[4] = {1, 0, 0.1, sqrt(1 - 0.01)};
    mtb_balancer *b = gm_new("gradvac", "beta=0.5", 2, D);
    cr_assert_eq(gm_step(b, 2, D, l, G1, hw, w, g, NULL), MTB_OK);
    cr_assert_eq(w[0], 1.0);
    cr_assert_eq(w[1], 1.0);
    cr_assert_eq(gm_step(b, 2, D, l, G2, hw, w, g, NULL), MTB_OK);
    /* trunk_w[1] = 1 + (coefficient added to g_1 along g_2) */
    double pc1[2] = {G2[0] + (w[1] - 1) * G2[2], G2[1] + (w[1] - 1) * G2[3]};
    double cosv = gm_dot(pc1, G2 + 2, D) / sqrt(gm_dot(pc1, pc1, D) * gm_dot(G2 + 2, G2 + 2, D));
    cr_assert_leq(fabs(cosv - 0.4), 1e-12, "cos after vaccine %.15g, target 0.4", cosv);
    cr_assert_gt(w[1], 1.0);
    mtb_balancer_free(b);
}

Test(gradvac, opposite_and_zero_gradients_are_finite)
{
    double l[2] = {1, 1}, hw[2], w[2], g[3];
    double Gs[3][6] = {{1, 2, 3, -1, -2, -3}, {0, 0, 0, 1, 2, 3}, {1, 2, 3, 1, 2, 3}};
    for (int e = 0; e < 2; e++) {
        mtb_balancer *b = gm_new("gradvac", e ? "eps=1e-8" : "", 2, 3);
        for (int rep = 0; rep < 6; rep++) {
            cr_assert_eq(gm_step(b, 2, 3, l, Gs[rep % 3], hw, w, g, NULL), MTB_OK);
            for (int i = 0; i < 3; i++)
                cr_assert(isfinite(g[i]));
        }
        mtb_balancer_free(b);
    }
}
