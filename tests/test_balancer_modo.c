/* test_balancer_modo.c: MoDo (Chen et al., NeurIPS 2023, Algorithm 1): lambda stays on the
 * simplex, the step is the paper's projected double-sampling step with the third sample's
 * direction, identical samples converge to the regularised min-norm (MGDA) weights,
 * degenerate inputs, errors, determinism. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "grad_method_util.h"
#include "mtb/balancer.h"

/* One MoDo step on three samples; lambda = trunk_w, grad = trunk_grad. */
static mtb_status modo_step(mtb_balancer *b, int T, size_t D, const double *G0, const double *G1,
                            const double *G2, double *lambda, double *grad, mtb_error *err)
{
    double *l = malloc((size_t)T * sizeof *l), *hw = malloc((size_t)T * sizeof *hw);
    for (int t = 0; t < T; t++)
        l[t] = 1.0;
    const double *Ls[3] = {l, l, l}, *Gs[3] = {G0, G1, G2};
    mtb_balance_in in = {.T = T, .losses = l, .G = G0, .D = D, .samples = {.n = 3, .losses = Ls, .G = Gs}};
    mtb_balance_out out = {.head_w = hw, .trunk_w = lambda, .trunk_grad = grad};
    mtb_status st = mtb_balancer_step(b, &in, &out, err);
    if (st == MTB_OK) {
        cr_assert_eq(out.trunk_grad_set, 1);
        for (int t = 0; t < T; t++)
            cr_assert_eq(hw[t], 1.0);
    }
    free(l), free(hw);
    return st;
}

static void assert_simplex(const double *x, int T, const char *what)
{
    double s = 0.0;
    for (int t = 0; t < T; t++) {
        cr_assert_geq(x[t], 0.0, "%s[%d] = %g", what, t, x[t]);
        s += x[t];
    }
    cr_assert_float_eq(s, 1.0, 1e-12, "%s sums to %.17g", what, s);
}

Test(modo, setup_asks_for_three_param_samples)
{
    mtb_balancer *b = gm_new("modo", "", 3, 5);
    const mtb_balancer_setup *su = mtb_balancer_get_setup(b);
    cr_assert_eq(su->n_samples, 3);
    cr_assert_eq(su->need, MTB_NEED_PARAM_GRADS);
    cr_assert_eq(su->scope, MTB_SCOPE_ALL);
    mtb_balancer_free(b);
}

/* lambda_1 = Pi(1/T - gamma (G0 G1^T 1/T + rho/T)); grad = G2^T lambda_1; written out for
 * T = 2 where the projection onto the segment is a clip. */
Test(modo, one_step_matches_algorithm1)
{
    const int T = 2;
    const size_t D = 3;
    double G0[6], G1[6], G2[6], lam[2], g[3];
    gm_randn(G0, 6, 1), gm_randn(G1, 6, 2), gm_randn(G2, 6, 3);
    const double gamma = 0.3, rho = 0.2;
    mtb_balancer *b = gm_new("modo", "gamma=0.3,rho=0.2", T, D);
    mtb_error err = {0};
    cr_assert_eq(modo_step(b, T, D, G0, G1, G2, lam, g, &err), MTB_OK, "%s", err.msg);
    double v[3] = {0}, y[2];
    for (size_t j = 0; j < D; j++)
        v[j] = 0.5 * (G1[j] + G1[D + j]);
    for (int t = 0; t < T; t++) {
        double u = 0.0;
        for (size_t j = 0; j < D; j++)
            u += G0[t * D + j] * v[j];
        y[t] = 0.5 - gamma * (u + rho * 0.5);
    }
    /* projection onto {a + b = 1, a, b >= 0}: shift by (y0 + y1 - 1)/2, then clip */
    double a = y[0] - 0.5 * (y[0] + y[1] - 1.0);
    a = fmin(1.0, fmax(0.0, a));
    cr_assert_float_eq(lam[0], a, 1e-14, "lambda0 %.17g vs %.17g", lam[0], a);
    cr_assert_float_eq(lam[1], 1.0 - a, 1e-14);
    for (size_t j = 0; j < D; j++)
        cr_assert_float_eq(g[j], a * G2[j] + (1.0 - a) * G2[D + j], 1e-14);
    mtb_balancer_free(b);
}

/* With the same sample three times, lambda follows projected gradient descent on
 * (1/2) lambda^T (G G^T + rho I) lambda: for T = 2 its minimiser is the clip of
 * a = (|g1|^2 - g0.g1 + rho) / (|g0 - g1|^2 + 2 rho): MGDA's min-norm point for rho -> 0. */
Test(modo, identical_samples_converge_to_min_norm)
{
    const size_t D = 4;
    double G[8], lam[2], g[4];
    gm_randn(G, 8, 5);
    const double rho = 0.01;
    mtb_balancer *b = gm_new("modo", "gamma=0.05,rho=0.01", 2, D);
    mtb_error err = {0};
    for (int k = 0; k < 5000; k++)
        cr_assert_eq(modo_step(b, 2, D, G, G, G, lam, g, &err), MTB_OK, "%s", err.msg);
    double g00 = gm_dot(G, G, D), g01 = gm_dot(G, G + D, D), g11 = gm_dot(G + D, G + D, D);
    double a = (g11 - g01 + rho) / (g00 - 2 * g01 + g11 + 2 * rho);
    a = fmin(1.0, fmax(0.0, a));
    cr_assert_float_eq(lam[0], a, 1e-9, "lambda0 %.12g, min-norm %.12g", lam[0], a);
    mtb_balancer_free(b);
}

/* Random samples, T = 5: lambda stays on the simplex at every step; the direction comes
 * from the third sample only. */
Test(modo, lambda_stays_on_simplex)
{
    const int T = 5;
    const size_t D = 7;
    double G[3][35], lam[5], g[7], g2[7];
    mtb_balancer *b = gm_new("modo", "gamma=0.5", T, D);
    mtb_error err = {0};
    for (int k = 0; k < 50; k++) {
        for (int i = 0; i < 3; i++)
            gm_randn(G[i], 35, 100 + 3 * k + i);
        cr_assert_eq(modo_step(b, T, D, G[0], G[1], G[2], lam, g, &err), MTB_OK, "%s", err.msg);
        assert_simplex(lam, T, "lambda");
        for (size_t j = 0; j < D; j++) {
            g2[j] = 0.0;
            for (int t = 0; t < T; t++)
                g2[j] += lam[t] * G[2][t * D + j];
            cr_assert_float_eq(g[j], g2[j], 1e-12);
        }
    }
    mtb_balancer_free(b);
}

/* Collinear and rank-deficient G, zero gradients, 1e8 scale ratios, T = 1, T = 1024:
 * finite, on the simplex; overflow: MTB_ENUMERIC naming the method. */
Test(modo, degenerate_inputs)
{
    mtb_error err = {0};
    double lam[1024], g[4];
    double col[8] = {1, 2, 3, 4, -2, -4, -6, -8};
    mtb_balancer *b = gm_new("modo", "", 2, 4);
    cr_assert_eq(modo_step(b, 2, 4, col, col, col, lam, g, &err), MTB_OK, "%s", err.msg);
    assert_simplex(lam, 2, "collinear");
    mtb_balancer_free(b);

    double rd[8], zero[8] = {0};
    gm_randn(rd, 8, 9);
    b = gm_new("modo", "", 4, 2); /* T = 4 > D = 2 */
    cr_assert_eq(modo_step(b, 4, 2, rd, rd, rd, lam, g, &err), MTB_OK, "%s", err.msg);
    assert_simplex(lam, 4, "rank-deficient");
    mtb_balancer_free(b);

    b = gm_new("modo", "", 2, 4);
    for (int k = 0; k < 3; k++)
        cr_assert_eq(modo_step(b, 2, 4, zero, zero, zero, lam, g, &err), MTB_OK, "%s", err.msg);
    cr_assert_float_eq(lam[0], 0.5, 1e-15); /* only the rho term: stays at 1/T */
    for (int j = 0; j < 4; j++)
        cr_assert_eq(g[j], 0.0);
    mtb_balancer_free(b);

    double sc[8];
    gm_randn(sc, 8, 4);
    for (int j = 0; j < 4; j++)
        sc[4 + j] *= 1e8;
    b = gm_new("modo", "", 2, 4);
    cr_assert_eq(modo_step(b, 2, 4, sc, sc, sc, lam, g, &err), MTB_OK, "%s", err.msg);
    assert_simplex(lam, 2, "1e8 scale");
    mtb_balancer_free(b);

    double huge[8];
    for (int j = 0; j < 8; j++)
        huge[j] = 1e200;
    b = gm_new("modo", "", 2, 4);
    cr_assert_eq(modo_step(b, 2, 4, huge, huge, huge, lam, g, &err), MTB_ENUMERIC);
    cr_assert(strstr(err.msg, "modo") != NULL, "%s", err.msg);
    mtb_balancer_free(b);

    double one[4] = {1, -2, 3, 0.5};
    b = gm_new("modo", "", 1, 4);
    cr_assert_eq(modo_step(b, 1, 4, one, one, one, lam, g, &err), MTB_OK, "%s", err.msg);
    cr_assert_eq(lam[0], 1.0);
    cr_assert_eq(g[1], -2.0);
    mtb_balancer_free(b);

    const int T = 1024;
    double *G = malloc((size_t)T * 4 * sizeof *G);
    gm_randn(G, (size_t)T * 4, 21);
    b = gm_new("modo", "gamma=1", T, 4);
    for (int k = 0; k < 3; k++) {
        cr_assert_eq(modo_step(b, T, 4, G, G, G, lam, g, &err), MTB_OK, "%s", err.msg);
        assert_simplex(lam, T, "T=1024");
    }
    free(G);
    mtb_balancer_free(b);
}

/* The wrong number of samples and a missing output array are clear errors. */
Test(modo, errors)
{
    double G[8] = {1, 0, 0, 0, 0, 1, 0, 0}, l[2] = {1, 1}, hw[2], tw[2], tg[4];
    mtb_balancer *b = gm_new("modo", "", 2, 4);
    mtb_error err = {0};
    mtb_balance_in in = {.T = 2, .losses = l, .G = G, .D = 4};
    mtb_balance_out out = {.head_w = hw, .trunk_w = tw, .trunk_grad = tg};
    cr_assert_eq(mtb_balancer_step(b, &in, &out, &err), MTB_EINVAL);
    cr_assert(strstr(err.msg, "modo") && strstr(err.msg, "3 samples"), "%s", err.msg);
    const double *Ls[3] = {l, l, l}, *Gs[3] = {G, G, G};
    in.samples = (mtb_balance_samples){.n = 3, .losses = Ls, .G = Gs};
    out.trunk_grad = NULL;
    cr_assert_eq(mtb_balancer_step(b, &in, &out, &err), MTB_EINVAL);
    cr_assert(strstr(err.msg, "modo") != NULL, "%s", err.msg);
    double bad[8] = {1, 0, 0, 0, 0, NAN, 0, 0};
    Gs[2] = bad;
    out.trunk_grad = tg;
    cr_assert_eq(mtb_balancer_step(b, &in, &out, &err), MTB_ENUMERIC);
    cr_assert(strstr(err.msg, "sample 2") != NULL, "%s", err.msg);
    mtb_balancer_free(b);
}

Test(modo, deterministic)
{
    double res[2][20 * 3];
    for (int r = 0; r < 2; r++) {
        mtb_balancer *b = gm_new("modo", "", 3, 6);
        double G[3][18], lam[3], g[6];
        mtb_error err = {0};
        for (int k = 0; k < 20; k++) {
            for (int i = 0; i < 3; i++)
                gm_randn(G[i], 18, 7 * k + i);
            cr_assert_eq(modo_step(b, 3, 6, G[0], G[1], G[2], lam, g, &err), MTB_OK);
            memcpy(res[r] + 3 * k, lam, sizeof lam);
        }
        mtb_balancer_free(b);
    }
    cr_assert(!memcmp(res[0], res[1], sizeof res[0]));
}
