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

/* Opposite gradients of equal norm: each is moved by w = 1 times the other (cosine -1 below
 * any target < 1, and in their one-dimensional span the target is reached only at 0), so
 * the update is 0; a zero gradient has no direction (cosine 0, no adjustment either way):
 * the update is the other gradient; identical gradients (cosine 1): the plain sum. Twice
 * through, so the later targets (-0.25 .. 0.375) are exercised too. eps = 1e-8 moves the
 * cancellation by ~1e-8 relative. */
Test(gradvac, opposite_and_zero_gradients)
{
    double l[2] = {1, 1}, hw[2], w[2], g[3];
    double Gs[3][6] = {{1, 2, 3, -1, -2, -3}, {0, 0, 0, 1, 2, 3}, {1, 2, 3, 1, 2, 3}};
    const double want[3][3] = {{0, 0, 0}, {1, 2, 3}, {2, 4, 6}};
    for (int e = 0; e < 2; e++) {
        mtb_balancer *b = gm_new("gradvac", e ? "eps=1e-8" : "", 2, 3);
        for (int rep = 0; rep < 6; rep++) {
            cr_assert_eq(gm_step(b, 2, 3, l, Gs[rep % 3], hw, w, g, NULL), MTB_OK);
            for (int i = 0; i < 3; i++)
                cr_assert_leq(fabs(g[i] - want[rep % 3][i]), e ? 1e-7 : 1e-15,
                              "eps %d step %d: g[%d] = %.17g, want %g", e, rep, i, g[i],
                              want[rep % 3][i]);
        }
        mtb_balancer_free(b);
    }
}

/* gradvac.c runs on the Gram matrix when D >= T and on the gradients when D < T. Zero
 * columns change no inner product, so the same 9 gradients of 6 columns (direct path) and
 * padded to 12 columns (Gram path) must agree over several steps (the targets carry over). */
Test(gradvac, gram_and_direct_paths_agree)
{
    enum { T = 9, D = 6, DP = 12, STEPS = 4 };
    double G[T * D], Gp[T * DP], l[T], hw[T], w1[T], w2[T], g1[D], g2[DP];
    mtb_balancer *a = gm_new("gradvac", "order=fixed", T, D), *b = gm_new("gradvac", "order=fixed", T, DP);
    mtb_error err = {0};
    for (int s = 0; s < STEPS; s++) {
        gm_randn(G, T * D, 50 + (uint64_t)s);
        memset(Gp, 0, sizeof Gp);
        for (int t = 0; t < T; t++) {
            l[t] = 1.0;
            for (int c = 0; c < D; c++)
                Gp[t * DP + c] = G[t * D + c];
        }
        cr_assert_eq(gm_step(a, T, D, l, G, hw, w1, g1, &err), MTB_OK, "%s", err.msg);
        cr_assert_eq(gm_step(b, T, DP, l, Gp, hw, w2, g2, &err), MTB_OK, "%s", err.msg);
        for (int t = 0; t < T; t++)
            cr_assert_float_eq(w1[t], w2[t], 1e-10 * (1.0 + fabs(w1[t])), "step %d, coefficient %d: %g vs %g",
                               s, t, w1[t], w2[t]);
        for (int c = 0; c < D; c++)
            cr_assert_float_eq(g1[c], g2[c], 1e-10 * (1.0 + fabs(g1[c])), "step %d, grad %d", s, c);
    }
    mtb_balancer_free(a);
    mtb_balancer_free(b);
}

/* Recorded orders (balancer.h replay) replace the random ones: over three steps (the targets
 * carry the order's effect forward) balancers of different seeds agree exactly, also with
 * order=fixed (the record wins), and the ascending record equals order=fixed unrecorded. */
Test(gradvac, recorded_orders_are_followed)
{
    enum { T = 4, D = 5 };
    const int asc[T * (T - 1)] = {1, 2, 3, 0, 2, 3, 0, 1, 3, 0, 1, 2};
    const int mixed[T * (T - 1)] = {3, 1, 2, 2, 0, 3, 1, 3, 0, 0, 2, 1};
    /* run k: options, seed, recorded orders (NULL: none) */
    const struct { const char *opts; unsigned long long seed; const int *rec; } runs[] = {
        {"", 1, mixed}, {"", 2, mixed}, {"order=fixed", 3, mixed}, {"", 4, asc},
        {"order=fixed", 5, NULL}};
    double g[5][D];
    const mtb_balancer_type *ty = mtb_balancer_find("gradvac");
    for (int k = 0; k < 5; k++) {
        mtb_hparams hp;
        mtb_error err = {0};
        cr_assert_eq(mtb_hparams_parse(ty, runs[k].opts, &hp, &err), MTB_OK);
        mtb_balancer *b = mtb_balancer_new(ty, T, D, &hp, runs[k].seed, &err);
        cr_assert(b, "%s", err.msg);
        double G[T * D], l[T] = {1, 1, 1, 1}, hw[T], w[T];
        for (int s = 0; s < 3; s++) {
            gm_randn(G, T * D, 60 + (uint64_t)s);
            mtb_balance_in in = {.step = s, .T = T, .losses = l, .G = G, .D = D,
                                 .draws = {.orders = runs[k].rec,
                                           .n_orders = runs[k].rec ? T * (T - 1) : 0}};
            mtb_balance_out out = {.head_w = hw, .trunk_w = w, .trunk_grad = g[k]};
            cr_assert_eq(mtb_balancer_step(b, &in, &out, &err), MTB_OK, "%s", err.msg);
        }
        mtb_balancer_free(b);
    }
    cr_assert_eq(memcmp(g[0], g[1], sizeof g[0]), 0, "the seed changed a replayed run");
    cr_assert_eq(memcmp(g[0], g[2], sizeof g[0]), 0, "order=fixed overrode the record");
    cr_assert_eq(memcmp(g[3], g[4], sizeof g[3]), 0, "ascending record != order=fixed");
    cr_assert_gt(gm_reldiff(g[0], g[3], D), 1e-6, "the two orders gave the same result: the "
                 "test does not exercise the order");
}
