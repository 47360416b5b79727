/* test_balancer_sdmgrad.c: SDMGrad (Xiao, Ban, Ji, NeurIPS 2023, Algorithm 1). There is no
 * LibMTL fixture (LIBMTL-FORMULAS.md: unstable at lr 5), so these are properties: the
 * weights stay on the simplex, large lambda gives the mean gradient, lambda = 0 with a
 * converged inner loop gives MGDA's min-norm direction, the direction uses the third sample
 * only, degenerate inputs, determinism. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "grad_method_util.h"
#include "mtb/balancer.h"

/* One step with samples xi, xi', zeta (Gs NULL: single-sample balancer given G). */
static mtb_status sdm_step(mtb_balancer *b, int T, size_t D, const double *G,
                           const double *const *Gs, double *c, double *grad, mtb_error *err)
{
    double *l = malloc((size_t)T * sizeof *l), *hw = malloc((size_t)T * sizeof *hw);
    for (int t = 0; t < T; t++)
        l[t] = 1.0;
    const double *Ls[3] = {l, l, l};
    mtb_balance_in in = {.T = T, .losses = l, .G = Gs ? Gs[0] : G, .D = D,
                         .samples = {.n = Gs ? 3 : 1, .losses = Gs ? Ls : NULL, .G = Gs}};
    mtb_balance_out out = {.head_w = hw, .trunk_w = c, .trunk_grad = grad};
    mtb_status st = mtb_balancer_step(b, &in, &out, err);
    if (st == MTB_OK)
        cr_assert_eq(out.trunk_grad_set, 1);
    free(l), free(hw);
    return st;
}

/* w = c (1 + lambda) - lambda / T must lie on the simplex. */
static void assert_w_simplex(const double *c, int T, double lamda)
{
    double s = 0.0;
    for (int t = 0; t < T; t++) {
        double w = c[t] * (1.0 + lamda) - lamda / T;
        cr_assert_gt(w, -1e-12, "w[%d] = %g", t, w);
        s += w;
    }
    cr_assert_float_eq(s, 1.0, 1e-10, "sum w = %.17g", s);
}

Test(sdmgrad, weights_on_simplex_three_samples)
{
    const int T = 4;
    const size_t D = 6;
    double G[3][24], c[4], g[6];
    mtb_balancer *b = gm_new("sdmgrad", "", T, D);
    cr_assert_eq(mtb_balancer_get_setup(b)->n_samples, 3);
    mtb_error err = {0};
    for (int k = 0; k < 30; k++) {
        for (int i = 0; i < 3; i++)
            gm_randn(G[i], 24, 50 + 3 * k + i);
        const double *Gs[3] = {G[0], G[1], G[2]};
        cr_assert_eq(sdm_step(b, T, D, NULL, Gs, c, g, &err), MTB_OK, "%s", err.msg);
        assert_w_simplex(c, T, 0.3);
        for (size_t j = 0; j < D; j++) { /* d = G_zeta^T c */
            double e = 0.0;
            for (int t = 0; t < T; t++)
                e += c[t] * G[2][t * D + j];
            cr_assert_float_eq(g[j], e, 1e-12);
        }
    }
    mtb_balancer_free(b);
}

/* lambda -> infinity: d -> g_0 = mean of zeta's rows, whatever xi, xi' are. */
Test(sdmgrad, large_lambda_gives_mean_gradient)
{
    const int T = 3;
    const size_t D = 5;
    double G[3][15], c[3], g[5];
    for (int i = 0; i < 3; i++)
        gm_randn(G[i], 15, 70 + i);
    const double *Gs[3] = {G[0], G[1], G[2]};
    mtb_balancer *b = gm_new("sdmgrad", "lamda=1e9", T, D);
    mtb_error err = {0};
    cr_assert_eq(sdm_step(b, T, D, NULL, Gs, c, g, &err), MTB_OK, "%s", err.msg);
    for (size_t j = 0; j < D; j++) {
        double m = (G[2][j] + G[2][D + j] + G[2][2 * D + j]) / 3.0;
        cr_assert_float_eq(g[j], m, 1e-8, "d[%zu] = %.12g, mean %.12g", j, g[j], m);
    }
    mtb_balancer_free(b);
}

/* lambda = 0, one sample, small inner steps run to convergence: the MGDA min-norm
 * direction, for T = 2 a = clip((|g1|^2 - g0.g1) / |g0 - g1|^2). */
Test(sdmgrad, zero_lambda_gives_min_norm_direction)
{
    const size_t D = 4;
    double G[8], c[2], g[4];
    gm_randn(G, 8, 8);
    mtb_balancer *b = gm_new("sdmgrad", "lamda=0,samples=1,lr=0.1,momentum=0,niter=20000", 2, D);
    mtb_error err = {0};
    cr_assert_eq(sdm_step(b, 2, D, G, NULL, c, g, &err), MTB_OK, "%s", err.msg);
    double g00 = gm_dot(G, G, D), g01 = gm_dot(G, G + D, D), g11 = gm_dot(G + D, G + D, D);
    double a = fmin(1.0, fmax(0.0, (g11 - g01) / (g00 - 2 * g01 + g11)));
    cr_assert_float_eq(c[0], a, 1e-9, "w0 = %.12g, min-norm %.12g", c[0], a);
    for (size_t j = 0; j < D; j++)
        cr_assert_float_eq(g[j], a * G[j] + (1 - a) * G[D + j], 1e-9);
    mtb_balancer_free(b);
}

/* Collinear and rank-deficient G, zero gradients, 1e8 ratios, T = 1, T = 1024: finite
 * weights on the simplex; normalise=false with huge gradients: MTB_ENUMERIC, not NaN. */
Test(sdmgrad, degenerate_inputs)
{
    mtb_error err = {0};
    double c[1024], g[4];
    double col[8] = {1, 2, 3, 4, -2, -4, -6, -8}, zero[8] = {0}, rd[8], sc[8];
    const double *Gs_col[3] = {col, col, col}, *Gs_zero[3] = {zero, zero, zero};
    mtb_balancer *b = gm_new("sdmgrad", "", 2, 4);
    cr_assert_eq(sdm_step(b, 2, 4, NULL, Gs_col, c, g, &err), MTB_OK, "%s", err.msg);
    assert_w_simplex(c, 2, 0.3);
    cr_assert_eq(sdm_step(b, 2, 4, NULL, Gs_zero, c, g, &err), MTB_OK, "%s", err.msg);
    assert_w_simplex(c, 2, 0.3);
    for (int j = 0; j < 4; j++)
        cr_assert_eq(g[j], 0.0);
    gm_randn(sc, 8, 4);
    for (int j = 0; j < 4; j++)
        sc[4 + j] *= 1e8;
    const double *Gs_sc[3] = {sc, sc, sc};
    cr_assert_eq(sdm_step(b, 2, 4, NULL, Gs_sc, c, g, &err), MTB_OK, "%s", err.msg);
    assert_w_simplex(c, 2, 0.3);
    mtb_balancer_free(b);

    gm_randn(rd, 8, 9);
    const double *Gs_rd[3] = {rd, rd, rd};
    b = gm_new("sdmgrad", "", 4, 2);
    cr_assert_eq(sdm_step(b, 4, 2, NULL, Gs_rd, c, g, &err), MTB_OK, "%s", err.msg);
    assert_w_simplex(c, 4, 0.3);
    mtb_balancer_free(b);

    double huge[8];
    for (int j = 0; j < 8; j++)
        huge[j] = 1e200;
    b = gm_new("sdmgrad", "normalise=false,samples=1", 2, 4);
    cr_assert_eq(sdm_step(b, 2, 4, huge, NULL, c, g, &err), MTB_ENUMERIC);
    cr_assert(strstr(err.msg, "sdmgrad") != NULL, "%s", err.msg);
    mtb_balancer_free(b);

    double one[4] = {1, -2, 3, 0.5};
    b = gm_new("sdmgrad", "samples=1", 1, 4);
    cr_assert_eq(sdm_step(b, 1, 4, one, NULL, c, g, &err), MTB_OK, "%s", err.msg);
    cr_assert_float_eq(c[0], 1.0, 1e-15);
    cr_assert_float_eq(g[2], 3.0, 1e-15);
    mtb_balancer_free(b);

    const int T = 1024;
    double *G = malloc((size_t)T * 4 * sizeof *G);
    gm_randn(G, (size_t)T * 4, 21);
    b = gm_new("sdmgrad", "samples=1,niter=3", T, 4);
    cr_assert_eq(sdm_step(b, T, 4, G, NULL, c, g, &err), MTB_OK, "%s", err.msg);
    assert_w_simplex(c, T, 0.3);
    free(G);
    mtb_balancer_free(b);

    const mtb_balancer_type *ty = mtb_balancer_find("sdmgrad");
    mtb_hparams hp;
    mtb_hparams_parse(ty, "samples=2", &hp, &err);
    cr_assert_null(mtb_balancer_new(ty, 2, 4, &hp, 1, &err));
    cr_assert(strstr(err.msg, "sdmgrad") && strstr(err.msg, "samples"), "%s", err.msg);
}

Test(sdmgrad, deterministic)
{
    double res[2][20 * 3];
    for (int r = 0; r < 2; r++) {
        mtb_balancer *b = gm_new("sdmgrad", "", 3, 6);
        double G[3][18], c[3], g[6];
        mtb_error err = {0};
        for (int k = 0; k < 20; k++) {
            for (int i = 0; i < 3; i++)
                gm_randn(G[i], 18, 7 * k + i);
            const double *Gs[3] = {G[0], G[1], G[2]};
            cr_assert_eq(sdm_step(b, 3, 6, NULL, Gs, c, g, &err), MTB_OK);
            memcpy(res[r] + 3 * k, c, sizeof c);
        }
        mtb_balancer_free(b);
    }
    cr_assert(!memcmp(res[0], res[1], sizeof res[0]));
}
