/* test_dbmtl.c: DB-MTL's variants (db_mtl.c; dbmtl.md sec. 0): the alpha_k strategies, the
 * beta schedule beta/k^sigma counted from k = 1 (erratum D-E2), beta = 0, the ablation
 * switches log / gradnorm / heads / alpha_from, and the derived fact (a) of the spec: with
 * beta = 0 the shared direction is the same with or without the log transform, and the
 * two aggregates differ by the factor alpha^log / alpha^raw; D5 (the log transform is IMTL-L
 * at the exact scale) and D9 (GLS = log-ew times one scalar) as single-step identities. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>

#include "grad_method_util.h"

/* Two orthogonal gradients of norms 3 and 0.5, losses 2 and 0.25. */
enum { T2 = 2, D3 = 3 };
static const double G2[T2 * D3] = {3, 0, 0, 0, 0.5, 0};
static const double L2[T2] = {2.0, 0.25};

static void step_once(const char *opts, double *hw, double *tw, double *g)
{
    mtb_balancer *b = gm_new("db_mtl", opts, T2, D3);
    mtb_error err = {0};
    cr_assert_eq(gm_step(b, T2, D3, L2, G2, hw, tw, g, &err), MTB_OK, "%s", err.msg);
    mtb_balancer_free(b);
}

/* beta = 0: g~ = A(||g_t / l_t||) (u_0 + u_1); the log gradients have norms 1.5 and 2. */
Test(dbmtl, alpha_strategies_with_beta_zero)
{
    const char *names[] = {"max", "min", "mean", "median", "one"};
    const double want[] = {2.0, 1.5, 1.75, 1.75, 1.0};
    for (int i = 0; i < 5; i++) {
        char opts[64];
        double hw[T2], tw[T2], g[D3];
        snprintf(opts, sizeof opts, "beta=0,alpha=%s", names[i]);
        step_once(opts, hw, tw, g);
        cr_assert_float_eq(g[0], want[i], 1e-7, "%s: %g", names[i], g[0]);
        cr_assert_float_eq(g[1], want[i], 1e-7, "%s: %g", names[i], g[1]);
        cr_assert_float_eq(g[2], 0.0, 1e-15);
        cr_assert_float_eq(hw[0], 0.5, 1e-7);  /* heads: 1 / (l + eps) */
        cr_assert_float_eq(hw[1], 4.0, 1e-6);
    }
}

/* beta_k = beta / k^sigma with k = 1, 2, ...: on a constant gradient g the EMA after k steps
 * is (1 - prod_{i<=k} beta_i) g; the first step already uses beta_1 = beta (not beta/0). */
Test(dbmtl, beta_schedule_counts_from_one)
{
    const double beta = 0.5, sigma = 0.5;
    mtb_balancer *b = gm_new("db_mtl", "beta=0.5,beta_sigma=0.5,log=false", T2, D3);
    double prod = 1.0, hw[T2], tw[T2], g[D3];
    mtb_error err = {0};
    for (int k = 1; k <= 6; k++) {
        prod *= beta / pow(k, sigma);
        cr_assert_eq(gm_step(b, T2, D3, L2, G2, hw, tw, g, &err), MTB_OK, "%s", err.msg);
        /* alpha = max ||gh|| = 3 (1 - prod); g~ = alpha (e0 + e1) */
        cr_assert_float_eq(g[0], 3.0 * (1.0 - prod), 1e-7, "k = %d: %g vs %g", k, g[0],
                           3.0 * (1.0 - prod));
        cr_assert_float_eq(g[1], g[0], 1e-7);
    }
    mtb_balancer_free(b);
}

/* Table 6 rows 1 and 2 are loss weightings: EW, and log-ew with weights 1/(l + eps), both
 * without gradients. */
Test(dbmtl, gradnorm_off_is_a_loss_weighting)
{
    const mtb_balancer_type *ty = mtb_balancer_find("db_mtl");
    mtb_hparams hp;
    mtb_balancer_setup su;
    mtb_error err = {0};
    for (int lg = 0; lg < 2; lg++) {
        cr_assert_eq(mtb_hparams_parse(ty, lg ? "gradnorm=false" : "gradnorm=false,log=false",
                                       &hp, &err), MTB_OK, "%s", err.msg);
        cr_assert_eq(mtb_balancer_query(ty, T2, &hp, &su, &err), MTB_OK, "%s", err.msg);
        cr_assert_eq(su.need, MTB_NEED_LOSSES);
        mtb_balancer *b = mtb_balancer_new(ty, T2, 0, &hp, 1, &err);
        cr_assert(b, "%s", err.msg);
        double hw[T2], tw[T2];
        mtb_balance_in in = {.T = T2, .losses = L2};
        mtb_balance_out out = {.head_w = hw, .trunk_w = tw};
        cr_assert_eq(mtb_balancer_step(b, &in, &out, &err), MTB_OK, "%s", err.msg);
        cr_assert_eq(out.trunk_grad_set, 0);
        for (int t = 0; t < T2; t++) {
            double want = lg ? 1.0 / (L2[t] + 1e-8) : 1.0;
            cr_assert_float_eq(tw[t], want, 1e-12 * want);
            cr_assert_float_eq(hw[t], want, 1e-12 * want);
        }
        mtb_balancer_free(b);
    }
}

/* The heads and alpha_from switches: heads=raw gives weight 1 to the heads; alpha_from=raw
 * takes alpha_k = max ||g_t|| = 3 of the raw gradients while the direction stays u_0 + u_1. */
Test(dbmtl, heads_and_alpha_from_switches)
{
    double hw[T2], tw[T2], g[D3];
    step_once("beta=0,heads=raw", hw, tw, g);
    cr_assert_float_eq(hw[0], 1.0, 1e-15);
    cr_assert_float_eq(hw[1], 1.0, 1e-15);
    cr_assert_float_eq(g[0], 2.0, 1e-7);
    step_once("beta=0,alpha_from=raw", hw, tw, g);
    cr_assert_float_eq(g[0], 3.0, 1e-7);
    cr_assert_float_eq(g[1], 3.0, 1e-7);
    cr_assert_float_eq(hw[1], 4.0, 1e-6);
    step_once("beta=0,log=false,alpha_from=log", hw, tw, g);  /* raw direction, log alpha */
    cr_assert_float_eq(g[0], 2.0, 1e-7);
    cr_assert_float_eq(hw[0], 1.0, 1e-15);
    /* with beta > 0 the separate EMA of alpha_from=raw runs with the same schedule */
    mtb_balancer *b = gm_new("db_mtl", "beta=0.5,alpha_from=raw", T2, D3);
    mtb_error err = {0};
    for (int k = 1; k <= 3; k++) {
        cr_assert_eq(gm_step(b, T2, D3, L2, G2, hw, tw, g, &err), MTB_OK, "%s", err.msg);
        cr_assert_float_eq(g[0], 3.0 * (1.0 - pow(0.5, k)), 1e-7, "k = %d: %g", k, g[0]);
    }
    mtb_balancer_free(b);
}

/* dbmtl.md sec. 0 fact (a), D2's single-step identity: with beta = 0 rows 3 and 4 of Table 6
 * share the direction (cos >= 1 - 1e-9) and g~_row4 = (alpha^log / alpha^raw) g~_row3, on 100
 * random states with losses over eight orders of magnitude. */
Test(dbmtl, log_transform_reaches_the_trunk_only_through_alpha)
{
    enum { T = 4, D = 40, N = 100 };
    mtb_rng rng;
    mtb_rng_seed(&rng, 7, 0);
    double G[T * D], l[T], hw[T], tw[T], g3[D], g4[D];
    mtb_error err = {0};
    /* eps = 0: the identity is exact; with eps = 1e-8 it holds to eps / ||g_t|| */
    mtb_balancer *r3 = gm_new("db_mtl", "beta=0,log=false,eps=0", T, D);
    mtb_balancer *r4 = gm_new("db_mtl", "beta=0,eps=0", T, D);
    for (int k = 0; k < N; k++) {
        double a_log = 0.0, a_raw = 0.0;
        for (int t = 0; t < T; t++) {
            l[t] = pow(10.0, -4.0 + 8.0 * mtb_rng_uniform(&rng));
            double n2 = 0.0;
            for (int j = 0; j < D; j++) {
                G[t * D + j] = l[t] * mtb_rng_normal(&rng);
                n2 += G[t * D + j] * G[t * D + j];
            }
            a_raw = fmax(a_raw, sqrt(n2));
            a_log = fmax(a_log, sqrt(n2) / l[t]);
        }
        cr_assert_eq(gm_step(r3, T, D, l, G, hw, tw, g3, &err), MTB_OK, "%s", err.msg);
        cr_assert_eq(gm_step(r4, T, D, l, G, hw, tw, g4, &err), MTB_OK, "%s", err.msg);
        double dot = gm_dot(g3, g4, D), n3 = sqrt(gm_dot(g3, g3, D)),
               n4 = sqrt(gm_dot(g4, g4, D));
        cr_assert(dot / (n3 * n4) >= 1.0 - 1e-9, "state %d: cos %.15g", k, dot / (n3 * n4));
        cr_assert(fabs(n4 / n3 - a_log / a_raw) <= 1e-9 * (a_log / a_raw),
                  "state %d: length ratio %.15g, alpha ratio %.15g", k, n4 / n3, a_log / a_raw);
    }
    mtb_balancer_free(r3);
    mtb_balancer_free(r4);
}

/* D5 (Proposition A.1 and the envelope theorem): IMTL-L with s set to s* = -log(l + eps)
 * weights its loss by e^s* = 1/(l + eps), the log transform's weight, and its gradient in s,
 * e^s* l - 1 = -eps/(l + eps), vanishes up to eps: the log transform is IMTL-L with s solved
 * exactly. Losses over sixteen orders of magnitude. */
Test(dbmtl, log_transform_is_imtl_l_at_the_exact_scale)
{
    for (double lx = -8.0; lx <= 8.0; lx += 0.5) {
        double l = pow(10.0, lx), s = -log(l + 1e-8), hw, tw;
        char opts[64];
        snprintf(opts, sizeof opts, "init=%.17g", s);
        mtb_balancer *b = gm_new("imtl_l", opts, 1, 1);
        mtb_error err = {0};
        mtb_balance_in in = {.T = 1, .losses = &l};
        mtb_balance_out out = {.head_w = &hw, .trunk_w = &tw};
        cr_assert_eq(mtb_balancer_step(b, &in, &out, &err), MTB_OK, "%s", err.msg);
        cr_assert(fabs(hw * (l + 1e-8) - 1.0) <= 1e-12, "l = %g: weight %.17g", l, hw);
        cr_assert(fabs(tw * (l + 1e-8) - 1.0) <= 1e-12, "l = %g: trunk weight %.17g", l, tw);
        double g = mtb_balancer_get_setup(b)->learn_grad[0];
        cr_assert(fabs(g + 1e-8 / (l + 1e-8)) <= 1e-12, "l = %g: d/ds = %g", l, g);
        mtb_balancer_free(b);
    }
}

/* imtl_l:exact=true (dbmtl.md D6's imtl-l-exact): before every step s_t = -log(l_t + eps), so
 * heads and trunk get e^{s_t} = 1/(l_t + eps) whatever the earlier steps were, it declares no
 * learnable scalar, eps is its option, and a loss <= -eps is an error, not a NaN weight. */
Test(dbmtl, imtl_l_exact_sets_s_to_minus_log_loss_every_step)
{
    enum { T = 3 };
    const double L[3][T] = {{2.0, 1e-6, 5.76e5}, {0.5, 3e-3, 10.0}, {1e-9, 40.0, 1.0}};
    const double eps[2] = {1e-8, 1e-3};
    for (int e = 0; e < 2; e++) {
        char opts[64];
        snprintf(opts, sizeof opts, "exact=true,eps=%.17g", eps[e]);
        mtb_balancer *b = gm_new("imtl_l", opts, T, 1);
        cr_assert_eq(mtb_balancer_get_setup(b)->n_learn, 0);
        mtb_error err = {0};
        for (int k = 0; k < 3; k++) {
            double hw[T], tw[T];
            mtb_balance_in in = {.T = T, .losses = L[k]};
            mtb_balance_out out = {.head_w = hw, .trunk_w = tw};
            cr_assert_eq(mtb_balancer_step(b, &in, &out, &err), MTB_OK, "%s", err.msg);
            for (int t = 0; t < T; t++) {
                double want = exp(-log(L[k][t] + eps[e]));
                cr_assert(fabs(hw[t] / want - 1.0) <= 1e-15, "step %d task %d: %.17g", k, t, hw[t]);
                cr_assert(fabs(tw[t] / want - 1.0) <= 1e-15, "step %d task %d trunk", k, t);
                cr_assert(fabs(tw[t] * (L[k][t] + eps[e]) - 1.0) <= 1e-12);
            }
        }
        double bad[T] = {1.0, -1.0, 1.0}, hw[T], tw[T];
        mtb_balance_in in = {.T = T, .losses = bad};
        mtb_balance_out out = {.head_w = hw, .trunk_w = tw};
        cr_assert_eq(mtb_balancer_step(b, &in, &out, &err), MTB_EINVAL);
        cr_assert(strstr(err.msg, "imtl_l") != NULL, "%s", err.msg);
        mtb_balancer_free(b);
    }
    /* the default still learns s: weights e^init, gradient e^s l - 1 */
    mtb_balancer *b = gm_new("imtl_l", "init=0.5", 1, 1);
    double l = 2.0, hw, tw;
    mtb_error err = {0};
    mtb_balance_in in = {.T = 1, .losses = &l};
    mtb_balance_out out = {.head_w = &hw, .trunk_w = &tw};
    cr_assert_eq(mtb_balancer_step(b, &in, &out, &err), MTB_OK, "%s", err.msg);
    cr_assert_eq(mtb_balancer_get_setup(b)->n_learn, 1);
    cr_assert_float_eq(tw, exp(0.5), 1e-15);
    cr_assert_float_eq(mtb_balancer_get_setup(b)->learn_grad[0], exp(0.5) * 2.0 - 1.0, 1e-15);
    mtb_balancer_free(b);
}

/* D9 (IMTL spec I7): GLS's weights are log-ew's times the one scalar Lbar / T (geometric mean
 * over T), for heads and trunk alike: the same direction, a different, drifting length. */
Test(dbmtl, gls_is_log_ew_times_one_scalar)
{
    enum { T = 5 };
    const double l[T] = {3e-4, 0.2, 1.0, 40.0, 7e5};
    double hg[T], tg[T], hl[T], tl[T], lg = 0.0;
    for (int t = 0; t < T; t++)
        lg += log(l[t]) / T;
    mtb_balancer *g = gm_new("gls", "", T, 1), *e = gm_new("ew", "pre=log,pre_eps=0", T, 1);
    mtb_error err = {0};
    mtb_balance_in in = {.T = T, .losses = l};
    mtb_balance_out o1 = {.head_w = hg, .trunk_w = tg}, o2 = {.head_w = hl, .trunk_w = tl};
    cr_assert_eq(mtb_balancer_step(g, &in, &o1, &err), MTB_OK, "%s", err.msg);
    cr_assert_eq(mtb_balancer_step(e, &in, &o2, &err), MTB_OK, "%s", err.msg);
    for (int t = 0; t < T; t++) {
        cr_assert(fabs(tg[t] / tl[t] / (exp(lg) / T) - 1.0) <= 1e-12, "task %d", t);
        cr_assert(fabs(hg[t] / hl[t] / (exp(lg) / T) - 1.0) <= 1e-12, "task %d heads", t);
    }
    mtb_balancer_free(g);
    mtb_balancer_free(e);
}

/* The diagnostics D3 and D4 read (mtb_balancer_db_mtl_last): alpha_k, beta_k and the EMA's
 * lag. beta = 0.5 on a constant gradient: gh_1 = g/2 (cos 1, ratio 1/2), alpha_1 = 3/2 of the
 * largest raw norm 3 (log=false); an error for another method, gradnorm=false, or no step. */
Test(dbmtl, last_step_diagnostics)
{
    double hw[T2], tw[T2], g[D3], a, bk, lc[T2], lr[T2];
    mtb_error err = {0};
    mtb_balancer *b = gm_new("db_mtl", "beta=0.5,log=false", T2, D3);
    cr_assert_eq(mtb_balancer_db_mtl_last(b, &a, &bk, lc, lr, &err), MTB_EINVAL);
    cr_assert(strstr(err.msg, "no step"), "%s", err.msg);
    cr_assert_eq(gm_step(b, T2, D3, L2, G2, hw, tw, g, &err), MTB_OK, "%s", err.msg);
    cr_assert_eq(mtb_balancer_db_mtl_last(b, &a, &bk, lc, lr, &err), MTB_OK, "%s", err.msg);
    cr_assert_float_eq(a, 1.5, 1e-12);
    cr_assert_float_eq(bk, 0.5, 1e-15);
    for (int t = 0; t < T2; t++) {
        cr_assert_float_eq(lc[t], 1.0, 1e-12);
        cr_assert_float_eq(lr[t], 0.5, 1e-12);
    }
    /* a second, orthogonal gradient: gh_2 = gh_1 / 2 + g_2 / 2 = (0.75, 0, 1.5) for task 1,
     * at cos 1.5 / sqrt(0.75^2 + 1.5^2) = 2 / sqrt(5) to g_2 */
    double G2b[T2 * D3] = {0, 0, 3, 0, 0, 0.5};
    cr_assert_eq(gm_step(b, T2, D3, L2, G2b, hw, tw, g, &err), MTB_OK, "%s", err.msg);
    cr_assert_eq(mtb_balancer_db_mtl_last(b, NULL, NULL, lc, NULL, &err), MTB_OK);
    cr_assert_float_eq(lc[0], 2.0 / sqrt(5.0), 1e-12);
    mtb_balancer_free(b);
    b = gm_new("db_mtl", "gradnorm=false", T2, D3);
    cr_assert_eq(mtb_balancer_db_mtl_last(b, &a, NULL, NULL, NULL, &err), MTB_EINVAL);
    mtb_balancer_free(b);
    b = gm_new("pcgrad", "", T2, D3);
    cr_assert_eq(mtb_balancer_db_mtl_last(b, &a, NULL, NULL, NULL, &err), MTB_EINVAL);
    cr_assert(strstr(err.msg, "not db_mtl"), "%s", err.msg);
    mtb_balancer_free(b);
}
