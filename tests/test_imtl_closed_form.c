/* test_imtl_closed_form.c: the single-step identities of the IMTL paper (Liu et al., ICLR
 * 2021) as the reproduction checks them (spec imtl.md I1-I7), against the independent
 * formulas of paper_repro/imtl/oracle.h: IMTL-G's closed form and its degenerate inputs
 * (I1), the sign of the common projection (I2, erratum I-E1), Theorem 2 (I3), Corollary 4
 * and Lemma 3 (I4), MGDA-UB's closed form (I5), PCGrad as loss weighting (I6), and the
 * loss-balance analyses of UW, IMTL-L and GLS (I7). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../paper_repro/imtl/oracle.h"
#include "mtb/balancer.h"
#include "mtb/rng.h"
#include "mtb/synth.h"

enum { MAXT = 12, MAXD = 64 };

/* One step of a registered method on (losses, G): trunk weights, head weights and the
 * trunk gradient (the explicit one, or sum_t w_t g_t). Returns the step's status. */
static mtb_status step_method(const char *name, const char *opts, int T, int D,
                              const double *losses, const double *G, double *w, double *hw,
                              double *g, mtb_error *err)
{
    const mtb_balancer_type *ty = mtb_balancer_find(name);
    cr_assert(ty, "%s is not registered", name);
    mtb_hparams hp;
    cr_assert_eq(mtb_hparams_parse(ty, opts, &hp, err), MTB_OK, "%s", err->msg);
    mtb_balancer *b = mtb_balancer_new(ty, T, (size_t)D, &hp, 7, err);
    cr_assert(b, "%s: %s", name, err->msg);
    int needg = mtb_balancer_get_setup(b)->need != MTB_NEED_LOSSES;
    double hbuf[MAXT];
    mtb_balance_in in = {.T = T, .losses = losses, .G = needg ? G : NULL,
                         .D = needg ? (size_t)D : 0};
    mtb_balance_out out = {.head_w = hw ? hw : hbuf, .trunk_w = w, .trunk_grad = g};
    mtb_status st = mtb_balancer_step(b, &in, &out, err);
    if (!st && !out.trunk_grad_set && g)
        for (int j = 0; j < D; j++) {
            g[j] = 0.0;
            for (int t = 0; t < T; t++)
                g[j] += w[t] * G[(size_t)t * D + j];
        }
    mtb_balancer_free(b);
    return st;
}

static double rel_diff(const double *a, const double *b, int n)
{
    double num = 0.0, den = 0.0;
    for (int i = 0; i < n; i++) {
        num += (a[i] - b[i]) * (a[i] - b[i]);
        den += a[i] * a[i];
    }
    return sqrt(num / den);
}

static const double ONES[MAXT] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};

/* ---- I1: closed form vs the second formula, GE cells ----------------------------- */

Test(imtl_i1, closed_form_matches_second_formula_on_ge_cells)
{
    static const int Ts[] = {2, 3, 5, 10};
    double G[MAXT * MAXD], w[MAXT], alt[MAXT], g[MAXD], p[MAXT], work[MAXT * (MAXT + 1) + MAXD];
    mtb_error err = {0};
    mtb_rng rng;
    mtb_rng_seed(&rng, 0, 11);
    for (int it = 0; it < 4; it++)
        for (int dd = 0; dd < 2; dd++) {
            int T = Ts[it], d = dd ? 50 : T + 2;
            for (int k = 0; k < 40; k++) {
                cr_assert_eq(mtb_synth_ge(&rng, T, d, 0.7, G, work, &err), MTB_OK);
                cr_assert_eq(step_method("imtl_g", "level=param", T, d, ONES, G, w, NULL, g, &err),
                             MTB_OK, "%s", err.msg);
                cr_assert_eq(imtl_alt_alpha(G, T, d, alt, work), 0);
                imtl_combine(G, T, d, w, g, p);
                double sum = 0.0;
                for (int t = 0; t < T; t++)
                    sum += w[t];
                cr_assert(fabs(sum - 1.0) <= 1e-10, "T %d d %d: sum alpha - 1 = %g", T, d, sum - 1);
                cr_assert(imtl_proj_spread(p, T) <= 1e-10, "T %d d %d: spread %g", T, d,
                          imtl_proj_spread(p, T));
                cr_assert(rel_diff(w, alt, T) <= 1e-10, "T %d d %d: |alpha - alt| %g", T, d,
                          rel_diff(w, alt, T));
            }
        }
}

/* ---- I1: degenerate inputs, each with its documented outcome -------------------- */

Test(imtl_i1, one_task_gets_alpha_one)
{
    double G[3] = {0.3, -2, 5}, w[1], g[3];
    mtb_error err = {0};
    cr_assert_eq(step_method("imtl_g", "level=param", 1, 3, ONES, G, w, NULL, g, &err), MTB_OK);
    cr_assert_eq(w[0], 1.0);
}

Test(imtl_i1, identical_tasks_get_uniform_weights)
{
    enum { T = 4, D = 5 };
    double G[T * D], w[T], g[D];
    for (int t = 0; t < T; t++)
        for (int j = 0; j < D; j++)
            G[t * D + j] = 0.5 * j - 1.0;
    mtb_error err = {0};
    cr_assert_eq(step_method("imtl_g", "level=param", T, D, ONES, G, w, NULL, g, &err), MTB_OK);
    for (int t = 0; t < T; t++)
        cr_assert(fabs(w[t] - 0.25) <= 1e-12, "alpha_%d = %.17g", t, w[t]);
}

/* T > d: U U^T is singular; the equal-projection solution is the regularised least-squares
 * one closest to uniform weights: finite, summing to 1, projections equal to rounding of
 * the largest |g|. */
Test(imtl_i1, more_tasks_than_dimensions_is_finite_and_balanced)
{
    enum { T = 6, D = 3 };
    double G[T * D], w[T], g[D], p[T], work[D];
    mtb_error err = {0};
    mtb_rng rng;
    mtb_rng_seed(&rng, 3, 11);
    for (int k = 0; k < 20; k++) {
        cr_assert_eq(mtb_synth_ge(&rng, T, D, 0.7, G, work, &err), MTB_OK);
        cr_assert_eq(step_method("imtl_g", "level=param", T, D, ONES, G, w, NULL, g, &err), MTB_OK,
                     "%s", err.msg);
        double sum = 0.0, gmax = 0.0;
        imtl_combine(G, T, D, w, g, p);
        for (int t = 0; t < T; t++) {
            cr_assert(isfinite(w[t]));
            sum += w[t];
            gmax = fmax(gmax, sqrt(imtl_dot(G + t * D, G + t * D, D)));
        }
        cr_assert(fabs(sum - 1.0) <= 1e-9, "sum %g", sum);
        for (int t = 1; t < T; t++)
            cr_assert(fabs(p[t] - p[0]) <= 1e-6 * gmax, "draw %d: p %g vs %g", k, p[t], p[0]);
    }
}

/* A zero gradient has no direction: it gets alpha = 0, the others are balanced among
 * themselves. All zero: alpha = 1/T. */
Test(imtl_i1, zero_gradient_gets_zero_weight)
{
    enum { T = 3, D = 4 };
    double G[T * D] = {1, 2, 0, 0, 0, 0, 0, 0, -1, 3, 1, 0.5}, w[T], g[D], p[T];
    mtb_error err = {0};
    cr_assert_eq(step_method("imtl_g", "level=param", T, D, ONES, G, w, NULL, g, &err), MTB_OK);
    cr_assert_eq(w[1], 0.0);
    cr_assert(fabs(w[0] + w[2] - 1.0) <= 1e-12);
    imtl_combine(G, T, D, w, g, p);
    cr_assert(fabs(p[0] - p[2]) <= 1e-12 * fabs(p[0]));
    double Z[T * D] = {0};
    cr_assert_eq(step_method("imtl_g", "level=param", T, D, ONES, Z, w, NULL, g, &err), MTB_OK);
    for (int t = 0; t < T; t++)
        cr_assert_eq(w[t], 1.0 / 3);
}

/* Norms from 1e-8 to 1e8 (the cosines stay O(1)): the projections stay equal. */
Test(imtl_i1, norms_spanning_1e8_keep_equal_projections)
{
    enum { T = 4, D = 20 };
    double G[T * D], w[T], alt[T], g[D], p[T], work[T * (T + 1) + D];
    const double s[T] = {1e-8, 1.0, 1e8, 3e-5};
    mtb_error err = {0};
    mtb_rng rng;
    mtb_rng_seed(&rng, 5, 11);
    for (int k = 0; k < 20; k++) {
        cr_assert_eq(mtb_synth_ge(&rng, T, D, 0.7, G, work, &err), MTB_OK);
        for (int t = 0; t < T; t++) {
            double n = sqrt(imtl_dot(G + t * D, G + t * D, D));
            for (int j = 0; j < D; j++)
                G[t * D + j] *= s[t] / n;
        }
        cr_assert_eq(step_method("imtl_g", "level=param", T, D, ONES, G, w, NULL, g, &err), MTB_OK,
                     "%s", err.msg);
        cr_assert_eq(imtl_alt_alpha(G, T, D, alt, work), 0);
        imtl_combine(G, T, D, w, g, p);
        cr_assert(imtl_proj_spread(p, T) <= 1e-10, "draw %d: spread %g", k, imtl_proj_spread(p, T));
        cr_assert(rel_diff(w, alt, T) <= 1e-10, "draw %d: |alpha - alt| = %g", k,
                  rel_diff(w, alt, T));
    }
}

/* ---- I2: the sign of the common projection (erratum I-E1) ----------------------- */

static const double I2_G[9] = {1, 0, 0, 0, 1, 0, 0.1, 0.1, 0.02};

Test(imtl_i2, counterexample_ascends_every_loss)
{
    double w[3], g[3], p[3];
    mtb_error err = {0};
    cr_assert_eq(step_method("imtl_g", "level=param", 3, 3, ONES, I2_G, w, NULL, g, &err), MTB_OK);
    cr_assert(fabs(w[0] + 0.136) < 5e-4 && fabs(w[1] + 0.136) < 5e-4 && fabs(w[2] - 1.272) < 5e-4,
              "alpha = %g %g %g", w[0], w[1], w[2]);
    imtl_combine(I2_G, 3, 3, w, g, p);
    for (int t = 0; t < 3; t++)
        cr_assert(p[t] < 0 && fabs(p[t] + 0.0089) < 5e-5, "p_%d = %g", t, p[t]);
    /* sign_fix flips it */
    cr_assert_eq(step_method("imtl_g", "level=param,sign_fix=true", 3, 3, ONES, I2_G, w, NULL, g,
                             &err), MTB_OK);
    imtl_combine(I2_G, 3, 3, w, g, p);
    for (int t = 0; t < 3; t++)
        cr_assert(p[t] > 0, "sign_fix: p_%d = %g", t, p[t]);
    /* losses scaled by k = (0.1, 0.1, 10): lambda = 1/sum(alpha/k) < 0, alpha positive-ish */
    double K[9];
    const double k[3] = {0.1, 0.1, 10};
    for (int t = 0; t < 3; t++)
        for (int j = 0; j < 3; j++)
            K[t * 3 + j] = k[t] * I2_G[t * 3 + j];
    cr_assert_eq(step_method("imtl_g", "level=param", 3, 3, ONES, K, w, NULL, g, &err), MTB_OK);
    cr_assert(fabs(w[0] - 0.525) < 5e-4 && fabs(w[2] + 0.049) < 5e-4, "alpha' = %g %g %g", w[0],
              w[1], w[2]);
    imtl_combine(K, 3, 3, w, g, p);
    for (int t = 0; t < 3; t++)
        cr_assert(p[t] > 0, "scaled: p_%d = %g", t, p[t]);
}

Test(imtl_i2, mgda_ub_common_inner_product_is_its_squared_norm)
{
    double w[3], g[3];
    mtb_error err = {0};
    cr_assert_eq(step_method("mgda", "solver=closed_form,level=rep", 3, 3, ONES, I2_G, w, NULL, g,
                             &err), MTB_OK);
    double gg = imtl_dot(g, g, 3);
    for (int t = 0; t < 3; t++) {
        double ip = imtl_dot(g, I2_G + 3 * t, 3);
        cr_assert(fabs(ip - gg) <= 1e-12 && fabs(ip - 0.00062) < 1e-5, "g.g_%d = %g, |g|^2 %g", t,
                  ip, gg);
    }
}

/* ---- I3: Theorem 2, g' = lambda g with lambda = 1 / sum(alpha_t / k_t) ------------ */

Test(imtl_i3, loss_scaling_multiplies_g_by_lambda)
{
    enum { T = 5, D = 50 };
    double G[T * D], K[T * D], w[T], w2[T], g[D], g2[D], work[D], k[T];
    mtb_error err = {0};
    mtb_rng rng;
    mtb_rng_seed(&rng, 9, 11);
    for (int it = 0; it < 50; it++) {
        cr_assert_eq(mtb_synth_ge(&rng, T, D, 0.7, G, work, &err), MTB_OK);
        for (int t = 0; t < T; t++) {
            k[t] = pow(10.0, -3.0 + 6.0 * mtb_rng_uniform(&rng));
            for (int j = 0; j < D; j++)
                K[t * D + j] = k[t] * G[t * D + j];
        }
        cr_assert_eq(step_method("imtl_g", "level=param", T, D, ONES, G, w, NULL, g, &err), MTB_OK);
        cr_assert_eq(step_method("imtl_g", "level=param", T, D, ONES, K, w2, NULL, g2, &err), MTB_OK);
        double inv = 0.0;
        for (int t = 0; t < T; t++)
            inv += w[t] / k[t];
        double lam = 1.0 / inv, lg[D];
        for (int j = 0; j < D; j++)
            lg[j] = lam * g[j];
        double c = imtl_dot(g, g2, D) / sqrt(imtl_dot(g, g, D) * imtl_dot(g2, g2, D));
        cr_assert(fabs(c) >= 1.0 - 1e-12, "draw %d: |cos(g', g)| = %.17g", it, c);
        cr_assert(rel_diff(lg, g2, D) <= 1e-10, "draw %d: |g' - lambda g|/|lambda g| = %g", it,
                  rel_diff(lg, g2, D));
    }
}

/* ---- I4: Corollary 4 and Lemma 3 on equal-angle sets ----------------------------- */

Test(imtl_i4, equal_angles_give_inverse_norm_weights_and_c2)
{
    static const double C1s[] = {-0.2, 0.0, 0.3, 0.7, 0.95};
    enum { T = 5, D = 20 };
    double G[T * D], w[T], g[D], p[T], n[T], work[D * (D + 1)];
    mtb_error err = {0};
    mtb_rng rng;
    mtb_rng_seed(&rng, 13, 11);
    for (int c = 0; c < 5; c++)
        for (int it = 0; it < 10; it++) {
            cr_assert_eq(mtb_synth_ea(&rng, T, C1s[c], D, G, work, &err), MTB_OK, "%s", err.msg);
            cr_assert_eq(step_method("imtl_g", "level=param", T, D, ONES, G, w, NULL, g, &err),
                         MTB_OK);
            imtl_row_norms(G, T, D, n);
            double inv = 0.0;
            for (int t = 0; t < T; t++)
                inv += 1.0 / n[t];
            imtl_combine(G, T, D, w, g, p);
            double c2 = ((T - 1) * C1s[c] + 1.0) / inv;
            for (int t = 0; t < T; t++) {
                double want = (1.0 / n[t]) / inv;
                cr_assert_gt(w[t], 0.0, "Lemma 3: alpha_%d = %g", t, w[t]);
                cr_assert(fabs(w[t] - want) <= 1e-10 * want, "C1 %g: alpha_%d %.17g want %.17g",
                          C1s[c], t, w[t], want);
                cr_assert(fabs(p[t] - c2) <= 1e-10 * fabs(c2), "C2: %g vs %g", p[t], c2);
            }
        }
}

/* ---- I5: MGDA's closed form (App. C.2 Eq. 30) ------------------------------------ */

Test(imtl_i5, closed_form_is_the_kkt_point_and_inner_products_are_equal)
{
    enum { T = 5, D = 50 };
    double G[T * D], w[T], kkt[T], g[D], work[(T + 1) * (T + 2) + D];
    mtb_error err = {0};
    mtb_rng rng;
    mtb_rng_seed(&rng, 17, 11);
    for (int it = 0; it < 30; it++) {
        cr_assert_eq(mtb_synth_ge(&rng, T, D, 0.7, G, work, &err), MTB_OK);
        cr_assert_eq(step_method("mgda", "solver=closed_form", T, D, ONES, G, w, NULL, g, &err),
                     MTB_OK);
        cr_assert_eq(imtl_mgda_kkt(G, T, D, kkt, work), 0);
        cr_assert(rel_diff(kkt, w, T) <= 1e-10, "|alpha - kkt| = %g", rel_diff(kkt, w, T));
        /* g . g_t = |g|^2 for every t, to rounding of |g| |g_t| */
        double gg = imtl_dot(g, g, D);
        for (int t = 0; t < T; t++) {
            double nt = sqrt(imtl_dot(G + t * D, G + t * D, D));
            cr_assert(fabs(imtl_dot(g, G + t * D, D) - gg) <= 1e-10 * sqrt(gg) * nt,
                      "g.g_%d - |g|^2 = %g", t, imtl_dot(g, G + t * D, D) - gg);
        }
    }
}

/* ---- I6: PCGrad as loss weighting (App. C.3, erratum I-E2) ------------------------ */

Test(imtl_i6, pcgrad_equals_the_coefficient_formula)
{
    static const int Ts[] = {2, 3, 5};
    double G[5 * 50], g[50], w[5], alpha[5], ga[50], p[5], work[2 * 5 + 25 + 50];
    int order[5 * 4];
    mtb_error err = {0};
    mtb_rng rng;
    mtb_rng_seed(&rng, 19, 11);
    const mtb_balancer_type *ty = mtb_balancer_find("pcgrad");
    for (int it = 0; it < 3; it++)
        for (int k = 0; k < 30; k++) {
            int T = Ts[it], D = 50;
            cr_assert_eq(mtb_synth_ge(&rng, T, D, 0.0, G, work, &err), MTB_OK);
            for (int t = 0; t < T; t++) {
                size_t idx[5];
                int m = 0;
                for (int q = 0; q < T; q++)
                    if (q != t)
                        idx[m++] = (size_t)q;
                mtb_rng_shuffle(&rng, idx, (size_t)m);
                for (int q = 0; q < m; q++)
                    order[t * (T - 1) + q] = (int)idx[q];
            }
            mtb_hparams hp;
            mtb_hparams_default(ty, &hp);
            mtb_balancer *b = mtb_balancer_new(ty, T, (size_t)D, &hp, 1, &err);
            cr_assert(b);
            double hw[5];
            mtb_balance_in in = {.T = T, .losses = ONES, .G = G, .D = (size_t)D,
                                 .draws = {.orders = order, .n_orders = (size_t)T * (T - 1)}};
            mtb_balance_out out = {.head_w = hw, .trunk_w = w, .trunk_grad = g};
            cr_assert_eq(mtb_balancer_step(b, &in, &out, &err), MTB_OK, "%s", err.msg);
            cr_assert(out.trunk_grad_set);
            mtb_balancer_free(b);
            imtl_pcgrad_alpha(G, T, D, order, alpha, work);
            imtl_combine(G, T, D, alpha, ga, p);
            cr_assert(rel_diff(g, ga, D) <= 1e-12, "T %d: |g_pc - alpha G| = %g", T,
                      rel_diff(g, ga, D));
        }
}

Test(imtl_i6, two_task_projections)
{
    /* phi = 100 deg, r = 5: (|g1| sin^2, |g2| sin^2) = (4.849, 0.970); phi = 60, r = 5:
     * (|g1| + |g2| cos, |g2| + |g1| cos) = (5.5, 3.5) */
    const double deg = acos(-1.0) / 180.0;
    const double cases[2][3] = {{100, 4.849, 0.970}, {60, 5.5, 3.5}};
    for (int c = 0; c < 2; c++) {
        double phi = cases[c][0] * deg;
        double G[4] = {5.0, 0.0, cos(phi), sin(phi)}, alpha[2], g[2], p[2], work[10];
        int order[2] = {1, 0};
        imtl_pcgrad_alpha(G, 2, 2, order, alpha, work);
        imtl_combine(G, 2, 2, alpha, g, p);
        cr_assert(fabs(p[0] - cases[c][1]) < 1e-3 && fabs(p[1] - cases[c][2]) < 1e-3,
                  "phi %g: p = %g %g", cases[c][0], p[0], p[1]);
    }
}

/* ---- I7: UW / IMTL-L fixed points, GLS ------------------------------------------ */

/* The s-gradient (learn_grad) of a loss-only method at state s for loss l, task 0 of 3
 * (types from the options). */
static double s_grad(const char *name, const char *opts, double s, double l, int task,
                     double *weight)
{
    const mtb_balancer_type *ty = mtb_balancer_find(name);
    mtb_hparams hp;
    mtb_error err = {0};
    cr_assert_eq(mtb_hparams_parse(ty, opts, &hp, &err), MTB_OK, "%s", err.msg);
    mtb_balancer *b = mtb_balancer_new(ty, 3, 0, &hp, 1, &err);
    cr_assert(b, "%s", err.msg);
    const mtb_balancer_setup *su = mtb_balancer_get_setup(b);
    cr_assert_eq(su->n_learn, 3);
    su->learn[task] = s;
    double L[3] = {1, 1, 1}, hw[3], tw[3];
    L[task] = l;
    mtb_balance_in in = {.T = 3, .losses = L};
    mtb_balance_out out = {.head_w = hw, .trunk_w = tw};
    cr_assert_eq(mtb_balancer_step(b, &in, &out, &err), MTB_OK, "%s", err.msg);
    double gr = su->learn_grad[task];
    *weight = tw[task] * l;
    mtb_balancer_free(b);
    return gr;
}

Test(imtl_i7, fixed_points_of_the_scale_objectives)
{
    /* task 0 = CE, task 1 = L1, task 2 = L2 */
    const char *kendall = "form=kendall,init=0,ce_mask=1,l1_mask=2";
    const double ls[4] = {1e-3, 1.0, 1e3, 5.76e5};
    for (int i = 0; i < 4; i++) {
        double l = ls[i], wl;
        cr_assert(fabs(s_grad("imtl_l", "", -log(l), l, 0, &wl)) < 1e-12 && fabs(wl - 1) < 1e-12);
        cr_assert(fabs(s_grad("uw", "", log(l), l, 0, &wl)) < 1e-12 && fabs(wl - 0.5) < 1e-12);
        cr_assert(fabs(s_grad("uw", kendall, -log(l), l, 1, &wl)) < 1e-12 && fabs(wl - 1) < 1e-12,
                  "L1");
        cr_assert(fabs(s_grad("uw", kendall, -log(l), l, 2, &wl)) < 1e-12 && fabs(wl - 0.5) < 1e-12,
                  "L2");
        cr_assert(fabs(s_grad("uw", kendall, 0.5 * log(0.5 / l), l, 0, &wl)) < 1e-12 &&
                      fabs(wl - 0.5) < 1e-12, "CE: weighted %g", wl);
    }
}

Test(imtl_i7, uw_masks_are_checked)
{
    const mtb_balancer_type *ty = mtb_balancer_find("uw");
    mtb_hparams hp;
    mtb_error err = {0};
    cr_assert_eq(mtb_hparams_parse(ty, "form=kendall,ce_mask=8", &hp, &err), MTB_OK);
    cr_assert_null(mtb_balancer_new(ty, 3, 0, &hp, 1, &err), "task 3 of 3 accepted");
    cr_assert_eq(mtb_hparams_parse(ty, "form=kendall,ce_mask=1,l1_mask=1", &hp, &err), MTB_OK);
    cr_assert_null(mtb_balancer_new(ty, 3, 0, &hp, 1, &err), "a task both CE and L1 accepted");
    cr_assert_eq(mtb_hparams_parse(ty, "ce_mask=1", &hp, &err), MTB_OK);
    cr_assert_null(mtb_balancer_new(ty, 3, 0, &hp, 1, &err), "masks without form=kendall");
}

/* GLS: weights Lbar/(T l_t); scaling l_j by k multiplies every weight-times-loss by
 * k^(1/T) (direction kept, length k^(1/T)). */
Test(imtl_i7, gls_scale_changes_length_by_k_to_the_1_over_T)
{
    enum { T = 3, D = 8 };
    double G[T * D], K[T * D], l[T] = {0.3, 2.0, 7.0}, lk[T], w[T], w2[T], g[D], g2[D], work[D];
    mtb_error err = {0};
    mtb_rng rng;
    mtb_rng_seed(&rng, 23, 11);
    cr_assert_eq(mtb_synth_ge(&rng, T, D, 0.7, G, work, &err), MTB_OK);
    const double k = 10.0;
    memcpy(K, G, sizeof K);
    memcpy(lk, l, sizeof lk);
    lk[0] *= k;
    for (int j = 0; j < D; j++)
        K[j] *= k;
    cr_assert_eq(step_method("gls", "", T, D, l, G, w, NULL, g, &err), MTB_OK);
    cr_assert_eq(step_method("gls", "", T, D, lk, K, w2, NULL, g2, &err), MTB_OK);
    double f = pow(k, 1.0 / T);
    for (int j = 0; j < D; j++)
        cr_assert(fabs(g2[j] - f * g[j]) <= 1e-12 * fabs(f * g[j]) + 1e-300);
}

/* gls-naive: with 80 losses log-uniform on [1e-2, 1] the float32 product is 0 and its
 * derivative NaN; the driver reports it. The log domain is fine. */
Test(imtl_i7, gls_naive_fails_loudly_where_the_log_domain_does_not)
{
    enum { T = 80 };
    double l[T], w[T], hw[T];
    mtb_rng rng;
    mtb_rng_seed(&rng, 29, 11);
    for (int t = 0; t < T; t++)
        l[t] = pow(10.0, -2.0 * mtb_rng_uniform(&rng));
    mtb_error err = {0};
    cr_assert_eq(step_method("gls", "product=float32", T, 0, l, NULL, w, hw, NULL, &err),
                 MTB_ENUMERIC, "naive GLS did not fail: %s", err.msg);
    cr_assert_eq(step_method("gls", "", T, 0, l, NULL, w, hw, NULL, &err), MTB_OK, "%s", err.msg);
    for (int t = 0; t < T; t++)
        cr_assert(isfinite(w[t]) && w[t] > 0);
    /* few tasks: both agree to float precision */
    cr_assert_eq(step_method("gls", "product=float32", 3, 0, l, NULL, w, hw, NULL, &err), MTB_OK);
    double w2[3];
    cr_assert_eq(step_method("gls", "", 3, 0, l, NULL, w2, hw, NULL, &err), MTB_OK);
    cr_assert(rel_diff(w2, w, 3) < 1e-5);
}

/* ---- feat-sum: alpha from the batch sums of the representation gradients ---------- */

Test(imtl_i9, rep_sum_is_imtl_g_of_the_batch_sums)
{
    enum { T = 3, B = 4, F = 5 };
    double G[T * B * F], S[T * F] = {0}, w[T], w2[T], work[B * F];
    mtb_error err = {0};
    mtb_rng rng;
    mtb_rng_seed(&rng, 31, 11);
    cr_assert_eq(mtb_synth_ge(&rng, T, B * F, 0.5, G, work, &err), MTB_OK);
    for (int t = 0; t < T; t++)
        for (int b = 0; b < B; b++)
            for (int j = 0; j < F; j++)
                S[t * F + j] += G[t * B * F + b * F + j];
    const mtb_balancer_type *ty = mtb_balancer_find("imtl_g");
    mtb_hparams hp;
    cr_assert_eq(mtb_hparams_parse(ty, "level=rep_sum", &hp, &err), MTB_OK);
    mtb_balancer *bal = mtb_balancer_new(ty, T, B * F, &hp, 1, &err);
    cr_assert(bal, "%s", err.msg);
    double hw[T];
    mtb_balance_in in = {.T = T, .losses = ONES, .G = G, .D = B * F, .rep = {.dim = F}};
    mtb_balance_out out = {.head_w = hw, .trunk_w = w};
    cr_assert_eq(mtb_balancer_step(bal, &in, &out, &err), MTB_OK, "%s", err.msg);
    in.rep.dim = 7; /* not a divisor of the columns: an error, not a guess */
    cr_assert_eq(mtb_balancer_step(bal, &in, &out, &err), MTB_EINVAL);
    mtb_balancer_free(bal);
    cr_assert_eq(step_method("imtl_g", "level=param", T, F, ONES, S, w2, NULL, NULL, &err), MTB_OK);
    cr_assert(rel_diff(w2, w, T) <= 1e-13);
}
