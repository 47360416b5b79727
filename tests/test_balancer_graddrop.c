/* test_balancer_graddrop.c: GradDrop keeps one sign per coordinate, leak = 1 is the plain
 * sum, batch summation via rep_dim, errors for missing Z or a bad rep_dim, determinism. */
#include "grad_method_util.h"

Test(graddrop, each_coordinate_keeps_one_sign)
{
    const int T = 3;
    const size_t D = 50;
    double G[150], Z[50], l[3] = {1, 1, 1}, hw[3], w[3], g[50];
    gm_randn(G, 150, 1);
    gm_randn(Z, 50, 2);
    mtb_balancer *b = gm_new("graddrop", "", T, D);
    mtb_error err = {0};
    int npos = 0, nneg = 0;
    cr_assert_eq(gm_step_z(b, 0, 0, T, D, l, G, Z, hw, w, g, &err), MTB_OK, "%s", err.msg);
    for (size_t c = 0; c < D; c++) {
        /* rep_dim = 0: s_t = sign(z) g_t; the kept set is {s_t > 0} or {s_t < 0} */
        double pos = 0, neg = 0, sz = Z[c] > 0 ? 1.0 : -1.0;
        for (int t = 0; t < T; t++) {
            double st = sz * G[t * D + c];
            if (st > 0)
                pos += G[t * D + c];
            else if (st < 0)
                neg += G[t * D + c];
        }
        int is_pos = fabs(g[c] - pos) <= 1e-15 * (fabs(pos) + 1), is_neg = fabs(g[c] - neg) <= 1e-15 * (fabs(neg) + 1);
        cr_assert(is_pos || is_neg, "coordinate %zu: %g is neither %g nor %g", c, g[c], pos, neg);
        npos += is_pos && !is_neg;
        nneg += is_neg && !is_pos;
    }
    cr_assert(npos > 0 && nneg > 0, "one sign was never drawn (%d, %d)", npos, nneg);
    mtb_balancer_free(b);
}

Test(graddrop, leak_one_and_unanimous_signs_give_plain_sum)
{
    const int T = 2;
    const size_t D = 4;
    double G[8] = {1, -2, 3, 0.5, 2, -1, 0.1, 0.2}, Z[4] = {1, 1, -1, 2}, l[2] = {1, 1}, hw[2], w[2], g[4];
    mtb_balancer *b = gm_new("graddrop", "leak=1", T, D);
    cr_assert_eq(gm_step_z(b, 0, 0, T, D, l, G, Z, hw, w, g, NULL), MTB_OK);
    for (size_t c = 0; c < D; c++)
        cr_assert_eq(g[c], G[c] + G[D + c]);
    mtb_balancer_free(b);
    /* every coordinate has the same sign across tasks: P is 0 or 1, nothing is dropped */
    b = gm_new("graddrop", "", T, D);
    cr_assert_eq(gm_step_z(b, 0, 0, T, D, l, G, Z, hw, w, g, NULL), MTB_OK);
    for (size_t c = 0; c < D; c++)
        cr_assert_eq(g[c], G[c] + G[D + c]);
    mtb_balancer_free(b);
}

Test(graddrop, batch_summation_shares_one_mask_per_feature)
{
    /* rep_dim = 2, batch 3: the mask of feature c is the same for every example */
    const int T = 2;
    const size_t D = 6;
    double G[12], Z[6], l[2] = {1, 1}, hw[2], w[2], g[6];
    gm_randn(G, 12, 4);
    gm_randn(Z, 6, 5);
    mtb_balancer *b = gm_new("graddrop", "rep_dim=2", T, D);
    cr_assert_eq(gm_step_z(b, 0, 0, T, D, l, G, Z, hw, w, g, NULL), MTB_OK);
    for (size_t c = 0; c < 2; c++) {
        /* the kept task set of feature c explains every example's output */
        int ok_any = 0;
        for (int mask = 0; mask < 4; mask++) {
            int ok = 1;
            for (size_t e = 0; e < 3; e++) {
                size_t k = e * 2 + c;
                double v = ((mask & 1) ? G[k] : 0) + ((mask & 2) ? G[D + k] : 0);
                ok &= fabs(v - g[k]) <= 1e-15;
            }
            ok_any |= ok;
        }
        cr_assert(ok_any, "feature %zu has no consistent mask", c);
    }
    mtb_balancer_free(b);
    b = gm_new("graddrop", "rep_dim=4", T, D);
    mtb_error err = {0};
    cr_assert_eq(gm_step_z(b, 0, 0, T, D, l, G, Z, hw, w, g, &err), MTB_EINVAL);
    cr_assert(strstr(err.msg, "rep_dim") != NULL, "%s", err.msg);
    cr_assert_eq(gm_step_z(b, 0, 0, T, 4, l, G, NULL, hw, w, g, &err), MTB_EINVAL);
    cr_assert(strstr(err.msg, "Z") != NULL, "%s", err.msg);
    mtb_balancer_free(b);
}

Test(graddrop, same_seed_same_mask)
{
    const int T = 3;
    const size_t D = 30;
    double G[90], Z[30], l[3] = {1, 1, 1}, hw[3], w[3], g1[30], g2[30];
    gm_randn(G, 90, 6);
    gm_randn(Z, 30, 7);
    mtb_balancer *a = gm_new("graddrop", "", T, D), *b = gm_new("graddrop", "", T, D);
    for (int s = 0; s < 3; s++) {
        cr_assert_eq(gm_step_z(a, s, 0, T, D, l, G, Z, hw, w, g1, NULL), MTB_OK);
        cr_assert_eq(gm_step_z(b, s, 0, T, D, l, G, Z, hw, w, g2, NULL), MTB_OK);
        cr_assert_eq(memcmp(g1, g2, sizeof g1), 0);
    }
    mtb_balancer_free(a);
    mtb_balancer_free(b);
}

/* Recorded uniforms (balancer.h replay), one per feature, replace the stream: two seeds
 * agree; U = 0 keeps the positive-sign tasks wherever P > 0, and U = 1 the negative ones
 * wherever P < 1 (M_t = [P > U][s_t > 0] + [P < U][s_t < 0]); a wrong count is an error. */
Test(graddrop, recorded_uniforms_decide_the_sign)
{
    enum { T = 3, D = 12 };
    double G[T * D], Z[D], l[T] = {1, 1, 1}, hw[T], w[T], g[2][D];
    gm_randn(G, T * D, 8);
    gm_randn(Z, D, 9);
    const mtb_balancer_type *ty = mtb_balancer_find("graddrop");
    for (int u = 0; u < 2; u++) {
        double U[D];
        for (int c = 0; c < D; c++)
            U[c] = u;
        for (int k = 0; k < 2; k++) {
            mtb_hparams hp;
            mtb_error err = {0};
            mtb_hparams_default(ty, &hp);
            mtb_balancer *b = mtb_balancer_new(ty, T, D, &hp, 10 + (unsigned)k, &err);
            cr_assert(b, "%s", err.msg);
            mtb_balance_in in = {.T = T, .losses = l, .G = G, .D = D, .rep = {.Z = Z},
                                 .draws = {.values = U, .n_values = D}};
            mtb_balance_out out = {.head_w = hw, .trunk_w = w, .trunk_grad = g[k]};
            cr_assert_eq(mtb_balancer_step(b, &in, &out, &err), MTB_OK, "%s", err.msg);
            if (k == 1) {
                in.draws.n_values = D - 1;
                cr_assert_eq(mtb_balancer_step(b, &in, &out, &err), MTB_EINVAL);
                cr_assert(strstr(err.msg, "graddrop") && strstr(err.msg, "uniforms"), "%s",
                          err.msg);
            }
            mtb_balancer_free(b);
        }
        cr_assert_eq(memcmp(g[0], g[1], sizeof g[0]), 0, "the seed changed a replayed step");
        for (int c = 0; c < D; c++) {
            double sz = Z[c] > 0 ? 1.0 : -1.0, pos = 0, neg = 0, sum = 0, abs = 0;
            for (int t = 0; t < T; t++) {
                double st = sz * G[t * D + c];
                sum += st, abs += fabs(st);
                pos += st > 0 ? G[t * D + c] : 0.0;
                neg += st < 0 ? G[t * D + c] : 0.0;
            }
            double P = 0.5 * (1.0 + sum / abs);
            double want = u == 0 ? (P > 0 ? pos : 0.0) : (P < 1 ? neg : 0.0);
            cr_assert_leq(fabs(g[0][c] - want), 1e-15 * (1.0 + fabs(want)),
                          "U = %d, feature %d: %g, want %g", u, c, g[0][c], want);
        }
    }
}
