/* test_balancer_loss.c: paper properties of the loss-based methods (IMTL, RLW, SLAW,
 * DB-MTL, UW, GLS, DWA, RLW-L2C). Degenerate inputs and determinism for every method:
 * test_balancer_properties.c. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mtb/balancer.h"
#include "mtb/rng.h"

typedef struct runner {
    mtb_balancer *b;
    int T;
    size_t D;
    double *hw, *tw, *tg;
    int need_g;
} runner;

static runner make(const char *name, const char *opts, int T, size_t D, unsigned long long seed)
{
    runner r = {0};
    const mtb_balancer_type *t = mtb_balancer_find(name);
    cr_assert(t, "%s not registered", name);
    mtb_hparams hp;
    mtb_error err = {0};
    cr_assert_eq(mtb_hparams_parse(t, opts, &hp, &err), MTB_OK, "%s", err.msg);
    r.b = mtb_balancer_new(t, T, D, &hp, seed, &err);
    cr_assert(r.b, "%s: %s", name, err.msg);
    r.T = T;
    r.D = D;
    r.hw = calloc((size_t)T, sizeof(double));
    r.tw = calloc((size_t)T, sizeof(double));
    r.tg = calloc(D, sizeof(double));
    r.need_g = mtb_balancer_get_setup(r.b)->need != MTB_NEED_LOSSES;
    return r;
}

static mtb_status run(runner *r, long step, long epoch, const double *l, const double *G,
                      mtb_error *err)
{
    mtb_balance_in in = {.step = step, .epoch = epoch, .T = r->T, .losses = l,
                         .G = r->need_g ? G : NULL, .D = r->need_g ? r->D : 0};
    mtb_balance_out out = {.head_w = r->hw, .trunk_w = r->tw, .trunk_grad = r->tg};
    mtb_status st = mtb_balancer_step(r->b, &in, &out, err);
    if (!st && !out.trunk_grad_set) /* materialise the trunk gradient for comparisons */
        for (size_t j = 0; j < r->D; j++) {
            double a = 0.0;
            for (int t = 0; t < r->T; t++)
                a += r->tw[t] * G[(size_t)t * r->D + j];
            r->tg[j] = a;
        }
    return st;
}

static void drop(runner *r)
{
    mtb_balancer_free(r->b);
    free(r->hw);
    free(r->tw);
    free(r->tg);
}

static double dot(const double *a, const double *b, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += a[i] * b[i];
    return s;
}

static void rand_G(double *G, int T, size_t D, unsigned long long seed)
{
    mtb_rng rng;
    mtb_rng_seed(&rng, seed, 99);
    for (size_t i = 0; i < (size_t)T * D; i++)
        G[i] = mtb_rng_normal(&rng);
}

/* ---- IMTL-G ------------------------------------------------------------------------ */

/* Eq. 1: g . u_t equal for every t, and sum alpha = 1 (Eq. 2). Rounding of a (T-1)
 * system with O(1) entries: 1e-10 relative is generous. */
#define IMTL_PROJ_TOL 1e-10

Test(imtl, equal_projections_and_scale_invariant_direction)
{
    enum { T = 4, D = 20 };
    double G[T * D], G2[T * D], l[T] = {1, 2, 3, 4}, c[T] = {1.0, 1000.0, 0.01, 7.0};
    rand_G(G, T, D, 3);
    mtb_error err = {0};
    runner r = make("imtl_g", "level=param", T, D, 1);
    cr_assert_eq(run(&r, 0, 0, l, G, &err), MTB_OK, "%s", err.msg);
    double sum = 0.0, proj[T];
    for (int t = 0; t < T; t++) {
        sum += r.tw[t];
        proj[t] = dot(r.tg, G + t * D, D) / sqrt(dot(G + t * D, G + t * D, D));
    }
    cr_assert_float_eq(sum, 1.0, 1e-12);
    for (int t = 1; t < T; t++)
        cr_assert(fabs(proj[t] - proj[0]) <= IMTL_PROJ_TOL * fabs(proj[0]), "proj %d: %g vs %g",
                  t, proj[t], proj[0]);
    /* Theorem 2: scaling the losses by c_t > 0 scales the rows; g keeps its direction. */
    double g1[D];
    memcpy(g1, r.tg, sizeof g1);
    for (int t = 0; t < T; t++)
        for (int j = 0; j < D; j++)
            G2[t * D + j] = c[t] * G[t * D + j];
    cr_assert_eq(run(&r, 1, 0, l, G2, &err), MTB_OK);
    double cosv = dot(g1, r.tg, D) / sqrt(dot(g1, g1, D) * dot(r.tg, r.tg, D));
    cr_assert(cosv > 1.0 - 1e-12, "direction changed: cos = %.17g", cosv);
    drop(&r);
}

/* Theorem 1 / Corollary 4 / Lemma 3: with equal pairwise angles, alpha_t is
 * ||g_t||^-1 / sum ||g||^-1 (GradNorm's solution) and positive. The gradients
 * g_t = n_t (a e_0 + b e_t) have u_t . u_s = a^2/(a^2+b^2) for every pair. */
Test(imtl, equal_angles_give_gradnorm_weights)
{
    enum { T = 5, D = 8 };
    double G[T * D] = {0}, n[T] = {0.3, 1.0, 4.0, 25.0, 0.01}, l[T] = {1, 1, 1, 1, 1};
    double a = 0.6, b = 0.8;
    for (int t = 0; t < T; t++) {
        G[t * D + 0] = n[t] * a;
        G[t * D + 1 + t] = n[t] * b;
    }
    double inv = 0.0;
    for (int t = 0; t < T; t++)
        inv += 1.0 / n[t];
    mtb_error err = {0};
    runner r = make("imtl_g", "level=rep", T, D, 1);
    cr_assert_eq(run(&r, 0, 0, l, G, &err), MTB_OK);
    for (int t = 0; t < T; t++) {
        cr_assert_gt(r.tw[t], 0.0);
        cr_assert(fabs(r.tw[t] - (1.0 / n[t]) / inv) <= 1e-12, "alpha_%d = %.17g, want %.17g", t,
                  r.tw[t], (1.0 / n[t]) / inv);
    }
    drop(&r);
}

Test(imtl, identical_gradients_fall_back_to_uniform)
{
    enum { T = 3, D = 4 };
    double G[T * D], l[T] = {1, 2, 3};
    for (int t = 0; t < T; t++)
        for (int j = 0; j < D; j++)
            G[t * D + j] = j + 1.0;
    mtb_error err = {0};
    runner r = make("imtl_g", "level=param", T, D, 1);
    cr_assert_eq(run(&r, 0, 0, l, G, &err), MTB_OK);
    for (int t = 0; t < T; t++)
        cr_assert_float_eq(r.tw[t], 1.0 / T, 1e-12);
    drop(&r);
}

Test(imtl, hybrid_weights_and_scale_gradient)
{
    enum { T = 3, D = 6 };
    double G[T * D], l[T] = {0.5, 2.0, 8.0};
    rand_G(G, T, D, 5);
    mtb_error err = {0};
    runner h = make("imtl", "level=param,init=0.3", T, D, 1);
    const mtb_balancer_setup *su = mtb_balancer_get_setup(h.b);
    cr_assert_eq(run(&h, 0, 0, l, G, &err), MTB_OK);
    /* trunk = IMTL-G on the scaled gradients e^s g: with equal s, IMTL-G's alpha of g
     * itself (Eq. 2 is invariant to a common scale), applied to e^s g: e^s alpha */
    runner g = make("imtl_g", "level=param", T, D, 1);
    cr_assert_eq(run(&g, 0, 0, l, G, &err), MTB_OK);
    for (int t = 0; t < T; t++) {
        cr_assert_float_eq(h.hw[t], exp(0.3), 1e-15);
        cr_assert_float_eq(su->learn_grad[t], exp(0.3) * l[t] - 1.0, 1e-14);
        cr_assert_float_eq(h.tw[t], exp(0.3) * g.tw[t], 1e-12, "task %d: %.17g vs e^s %.17g", t,
                           h.tw[t], g.tw[t]);
    }
    drop(&g);
    drop(&h);
}

/* ---- IMTL-L, UW ------------------------------------------------------------------- */

Test(imtl_l, gradient_vanishes_at_minus_log_loss)
{
    double l[2] = {0.25, 4.0}, hw[2], tw[2];
    mtb_error err = {0};
    runner r = make("imtl_l", "", 2, 0, 1);
    const mtb_balancer_setup *su = mtb_balancer_get_setup(r.b);
    su->learn[0] = -log(l[0]);
    su->learn[1] = -log(l[1]);
    mtb_balance_in in = {.T = 2, .losses = l};
    mtb_balance_out out = {.head_w = hw, .trunk_w = tw};
    cr_assert_eq(mtb_balancer_step(r.b, &in, &out, &err), MTB_OK);
    for (int t = 0; t < 2; t++) {
        cr_assert(fabs(su->learn_grad[t]) < 1e-15);
        cr_assert_float_eq(tw[t] * l[t], 1.0, 1e-15); /* scaled losses equal 1 (Eq. 3) */
    }
    drop(&r);
}

Test(uw, starts_at_one_and_gradient_matches_formula)
{
    double l[2] = {0.5, 3.0}, G[2] = {0};
    mtb_error err = {0};
    runner r = make("uw", "", 2, 0, 1);
    const mtb_balancer_setup *su = mtb_balancer_get_setup(r.b);
    cr_assert_eq(run(&r, 0, 0, l, G, &err), MTB_OK);
    for (int t = 0; t < 2; t++) {
        cr_assert_float_eq(r.tw[t], 1.0, 1e-15);
        cr_assert_float_eq(su->learn_grad[t], 0.5 - l[t], 1e-15);
    }
    drop(&r);
    runner q = make("uw", "init=-0.5", 2, 0, 1);
    cr_assert_eq(run(&q, 0, 0, l, G, &err), MTB_OK);
    cr_assert_float_eq(q.tw[0], 0.5 * exp(0.5), 1e-15); /* LibMTL: 0.824 */
    drop(&q);
}

/* ---- GLS, DWA ---------------------------------------------------------------------- */

/* Euler: the geometric mean is 1-homogeneous, so sum_t l_t dGM/dl_t = GM. */
Test(gls, weights_are_the_geometric_mean_gradient)
{
    double l[3] = {0.1, 2.0, 50.0}, G[3] = {0};
    mtb_error err = {0};
    runner r = make("gls", "", 3, 0, 1);
    cr_assert_eq(run(&r, 0, 0, l, G, &err), MTB_OK);
    double gm = cbrt(0.1 * 2.0 * 50.0), s = 0.0;
    for (int t = 0; t < 3; t++) {
        cr_assert_float_eq(r.tw[t], gm / (3.0 * l[t]), 1e-14);
        s += r.tw[t] * l[t];
    }
    cr_assert_float_eq(s, gm, 1e-14);
    drop(&r);
}

Test(dwa, epoch_rule_and_ema_rule)
{
    double l0[2] = {1.0, 1.0}, l1[2] = {0.5, 1.0}, G[2] = {0};
    mtb_error err = {0};
    runner r = make("dwa", "", 2, 0, 1);
    /* epoch 0: two steps, epoch 1: one step; then epoch 2 uses mean1/mean0 */
    cr_assert_eq(run(&r, 0, 0, l0, G, &err), MTB_OK);
    cr_assert_eq(run(&r, 1, 0, l0, G, &err), MTB_OK);
    cr_assert_eq(run(&r, 2, 1, l1, G, &err), MTB_OK);
    cr_assert_eq(r.tw[0], 1.0);
    cr_assert_eq(run(&r, 3, 2, l1, G, &err), MTB_OK);
    double r0 = 0.5, r1 = 1.0, e0 = exp(r0 / 2), e1 = exp(r1 / 2);
    cr_assert_float_eq(r.tw[0], 2 * e0 / (e0 + e1), 1e-15);
    cr_assert_float_eq(r.tw[1], 2 * e1 / (e0 + e1), 1e-15);
    drop(&r);
    runner e = make("dwa", "variant=ema", 2, 0, 1);
    cr_assert_eq(run(&e, 0, 0, l0, G, &err), MTB_OK);
    cr_assert_eq(e.tw[0], 1.0);
    cr_assert_eq(run(&e, 1, 0, l1, G, &err), MTB_OK);
    cr_assert_eq(e.tw[0], 1.0);
    cr_assert_eq(run(&e, 2, 0, l1, G, &err), MTB_OK); /* uses E after step 1 */
    double ra = (0.9 * 1.0 + 0.1 * 0.5) / 1.0, rb = 1.0, ea = exp(ra / 2), eb = exp(rb / 2);
    cr_assert_float_eq(e.tw[0], 2 * ea / (ea + eb), 1e-15);
    drop(&e);
}

/* ---- RLW, RGW, RLW-L2C --------------------------------------------------------------- */

/* Appendix A of the RW paper: E[lambda~_t] = 1/T for the symmetric distributions.
 * N = 40000 draws of weights in [0, 1] with std <= 0.5: standard error <= 0.0025;
 * tolerance 0.012 is ~5 standard errors. random_normal is left out: its per-task
 * means depend on the drawn (mu_t, v_t), so E[lambda~_t] != 1/T in general. */
#define RLW_N 40000
#define RLW_MEAN_TOL 0.012

Test(rlw, normalised_weights_have_mean_one_over_T)
{
    const char *opts[] = {"dist=uniform",
                          "dist=normal",
                          "dist=dirichlet",
                          "dist=dirichlet,dirichlet_norm=identity",
                          "dist=bernoulli",
                          "dist=constrained_bernoulli"};
    enum { T = 3 };
    double l[T] = {1, 2, 3}, G[T] = {0};
    for (size_t k = 0; k < sizeof opts / sizeof opts[0]; k++) {
        runner r = make("rlw", opts[k], T, 0, 7);
        double mean[T] = {0};
        mtb_error err = {0};
        for (int n = 0; n < RLW_N; n++) {
            cr_assert_eq(run(&r, n, 0, l, G, &err), MTB_OK);
            double s = 0.0;
            for (int t = 0; t < T; t++) {
                cr_assert(r.tw[t] >= 0.0);
                mean[t] += r.tw[t] / RLW_N;
                s += r.tw[t];
            }
            cr_assert_float_eq(s, 1.0, 1e-12, "%s: weights sum to %g", opts[k], s);
        }
        for (int t = 0; t < T; t++)
            cr_assert(fabs(mean[t] - 1.0 / T) < RLW_MEAN_TOL, "%s: mean weight of task %d = %g",
                      opts[k], t, mean[t]);
        drop(&r);
    }
}

Test(rlw, bernoulli_never_all_zero_and_random_normal_on_simplex)
{
    double l[1] = {1.0}, G[1] = {0};
    mtb_error err = {0};
    runner r = make("rlw", "dist=bernoulli", 1, 0, 3);
    for (int n = 0; n < 200; n++) {
        cr_assert_eq(run(&r, n, 0, l, G, &err), MTB_OK);
        cr_assert_eq(r.tw[0], 1.0); /* T = 1: the all-zero draw is redrawn */
    }
    drop(&r);
    /* random_normal, written out on the balancer's own stream (seed 3, MTB_STREAM_METHOD):
     * per task mu_t ~ U(0,1) and a variance ~ U(0,1), drawn once at the first step; each
     * step lambda_t ~ N(mu_t, v_t), weights T softmax(lambda) (scale=T) */
    double l4[4] = {1, 1, 1, 1}, G4[4] = {0}, mu[4], sd[4], z[4];
    runner q = make("rlw", "dist=random_normal,scale=T", 4, 0, 3);
    mtb_rng rng;
    mtb_rng_seed(&rng, 3, MTB_STREAM_METHOD);
    for (int t = 0; t < 4; t++) {
        mu[t] = mtb_rng_uniform(&rng);
        sd[t] = sqrt(mtb_rng_uniform(&rng));
    }
    for (int n = 0; n < 100; n++) {
        cr_assert_eq(run(&q, n, 0, l4, G4, &err), MTB_OK);
        double mx = -INFINITY, s = 0.0;
        for (int t = 0; t < 4; t++)
            z[t] = mtb_rng_normal_ms(&rng, mu[t], sd[t]), mx = fmax(mx, z[t]);
        for (int t = 0; t < 4; t++)
            s += exp(z[t] - mx);
        for (int t = 0; t < 4; t++)
            cr_assert_float_eq(q.tw[t], 4.0 * exp(z[t] - mx) / s, 1e-14, "step %d task %d", n, t);
    }
    drop(&q);
}

Test(rgw, heads_unweighted_trunk_random)
{
    double l[3] = {1, 2, 3}, G[3] = {0};
    mtb_error err = {0};
    /* the same sampler and stream as RLW (same seed): RLW's loss weights, on the trunk only */
    runner r = make("rgw", "", 3, 0, 11), w = make("rlw", "", 3, 0, 11);
    for (int n = 0; n < 3; n++) {
        cr_assert_eq(run(&r, n, 0, l, G, &err), MTB_OK);
        cr_assert_eq(run(&w, n, 0, l, G, &err), MTB_OK);
        for (int t = 0; t < 3; t++) {
            cr_assert_eq(r.hw[t], 1.0);
            cr_assert_eq(r.tw[t], w.tw[t], "step %d task %d: %.17g vs RLW's %.17g", n, t, r.tw[t],
                         w.tw[t]);
        }
    }
    cr_assert(r.tw[0] != r.tw[1]);
    drop(&r);
    drop(&w);
}

/* learn_grad of RLW-L2C against a central difference of sum_t w_t(c) l_t with the
 * same draws (same seed); h = 1e-6, O(h^2) error on O(1) quantities: 1e-7. */
Test(rlw_l2c, learn_grad_matches_finite_difference)
{
    enum { T = 3 };
    double l[T] = {0.3, 1.7, 4.0}, G[T] = {0};
    mtb_error err = {0};
    runner r = make("rlw_l2c", "", T, 0, 21);
    cr_assert_eq(run(&r, 0, 0, l, G, &err), MTB_OK);
    double g[6];
    memcpy(g, mtb_balancer_get_setup(r.b)->learn_grad, sizeof g);
    drop(&r);
    for (int j = 0; j < 6; j++) {
        double f[2];
        for (int sgn = 0; sgn < 2; sgn++) {
            runner q = make("rlw_l2c", "", T, 0, 21);
            mtb_balancer_get_setup(q.b)->learn[j] += sgn ? -1e-6 : 1e-6;
            cr_assert_eq(run(&q, 0, 0, l, G, &err), MTB_OK);
            f[sgn] = dot(q.tw, l, T);
            drop(&q);
        }
        double fd = (f[0] - f[1]) / 2e-6;
        cr_assert(fabs(fd - g[j]) < 1e-7, "c_%d: analytic %.10g, numeric %.10g", j, g[j], fd);
    }
}

/* ---- SLAW ----------------------------------------------------------------------------- */

Test(slaw, warmup_is_exact_std_then_ema)
{
    enum { T = 3, N = 150 };
    double hist[N][T], G[T] = {0};
    mtb_rng rng;
    mtb_rng_seed(&rng, 5, 1);
    for (int n = 0; n < N; n++)
        for (int t = 0; t < T; t++)
            hist[n][t] = (t + 1.0) * (1.0 + 0.5 * mtb_rng_uniform(&rng));
    mtb_error err = {0};
    runner r = make("slaw", "", T, 0, 1);
    double m1[T] = {0}, m2[T] = {0};
    for (int n = 0; n < N; n++) {
        cr_assert_eq(run(&r, n, 0, hist[n], G, &err), MTB_OK);
        double sum = 0.0, want[T], wsum = 0.0;
        for (int t = 0; t < T; t++) {
            sum += r.tw[t];
            if (n < 100) { /* warm-up: exact mean over the first n+1 samples */
                double a = 0.0, b = 0.0;
                for (int k = 0; k <= n; k++) {
                    a += hist[k][t];
                    b += hist[k][t] * hist[k][t];
                }
                m1[t] = a / (n + 1);
                m2[t] = b / (n + 1);
            } else {
                m1[t] = 0.99 * m1[t] + 0.01 * hist[n][t];
                m2[t] = 0.99 * m2[t] + 0.01 * hist[n][t] * hist[n][t];
            }
            want[t] = 1.0 / fmax(sqrt(fmax(m2[t] - m1[t] * m1[t], 0.0)), 1e-5);
            wsum += want[t];
        }
        cr_assert_float_eq(sum, (double)T, 1e-12);
        for (int t = 0; t < T; t++) {
            double w = n == 0 ? 1.0 : T * want[t] / wsum;
            cr_assert(fabs(r.tw[t] - w) <= 1e-8 * w, "step %d task %d: %.15g vs %.15g", n, t,
                      r.tw[t], w);
        }
    }
    drop(&r);
}

Test(slaw, constant_loss_hits_the_floor_not_nan)
{
    double l[2] = {1.0, 2.0}, G[2] = {0};
    mtb_error err = {0};
    runner r = make("slaw", "", 2, 0, 1);
    for (int n = 0; n < 5; n++)
        cr_assert_eq(run(&r, n, 0, l, G, &err), MTB_OK);
    /* both standard deviations are 0 and hit the same floor: equal weights, 1 each */
    cr_assert_float_eq(r.tw[0], 1.0, 1e-12, "%.17g", r.tw[0]);
    cr_assert_float_eq(r.tw[1], 1.0, 1e-12, "%.17g", r.tw[1]);
    drop(&r);
}

/* ---- DB-MTL ------------------------------------------------------------------------- */

/* Proposition A.1: log x = min_s e^s x - s - 1. The minimum over a grid of step 1e-4
 * around the optimum is within (1e-4)^2 x e^s / 2 ~ 5e-9 of the true one. */
Test(db_mtl, log_is_min_of_imtl_l_objective)
{
    for (double lx = -12.0; lx <= 12.0; lx += 0.75) {
        double x = exp(lx), best = INFINITY, sbest = 0.0;
        for (double s = -lx - 1.0; s <= -lx + 1.0; s += 1e-4) {
            double v = exp(s) * x - s - 1.0;
            if (v < best) {
                best = v;
                sbest = s;
            }
        }
        cr_assert(fabs(best - lx) < 1e-7, "x = %g: min %.12g vs log %.12g", x, best, lx);
        cr_assert(fabs(sbest + lx) < 2e-4, "argmin %g vs -log x %g", sbest, -lx);
    }
}

/* Scaling a task's loss by c scales its gradient by c: g/(l + eps) changes only
 * through eps (relative 1e-8/l), so the aggregate is unchanged to ~1e-7. */
Test(db_mtl, invariant_to_loss_scale)
{
    enum { T = 3, D = 7 };
    double G[T * D], G2[T * D], l[T] = {0.5, 1.5, 3.0}, l2[T], c[T] = {1000.0, 0.001, 1.0};
    mtb_error err = {0};
    runner a = make("db_mtl", "", T, D, 1), b = make("db_mtl", "", T, D, 1);
    for (int step = 0; step < 4; step++) {
        rand_G(G, T, D, 100 + step);
        for (int t = 0; t < T; t++) {
            l2[t] = c[t] * l[t];
            for (int j = 0; j < D; j++)
                G2[t * D + j] = c[t] * G[t * D + j];
        }
        cr_assert_eq(run(&a, step, 0, l, G, &err), MTB_OK);
        cr_assert_eq(run(&b, step, 0, l2, G2, &err), MTB_OK);
        double mx = 0.0, df = 0.0;
        for (int j = 0; j < D; j++) {
            mx = fmax(mx, fabs(a.tg[j]));
            df = fmax(df, fabs(a.tg[j] - b.tg[j]));
        }
        cr_assert(df <= 1e-6 * mx, "step %d: diff %g of %g", step, df, mx);
    }
    drop(&a);
    drop(&b);
}

Test(db_mtl, first_step_is_normalised_sum_scaled_by_max_norm)
{
    enum { T = 2, D = 3 };
    double G[T * D] = {3, 0, 0, 0, 0.5, 0}, l[T] = {1, 1};
    mtb_error err = {0};
    runner r = make("db_mtl", "beta=0.9", T, D, 1);
    cr_assert_eq(run(&r, 0, 0, l, G, &err), MTB_OK);
    /* gh = 0.1 g; alpha = 0.3; g~ = 0.3 (e0 + e1) up to eps */
    cr_assert_float_eq(r.tg[0], 0.3, 1e-7);
    cr_assert_float_eq(r.tg[1], 0.3, 1e-7);
    cr_assert_float_eq(r.hw[0], 1.0, 1e-7);
    drop(&r);
}

/* Recorded raw draws (balancer.h replay) replace the stream: the weights are f(lambda) of the
 * record, whatever the seed (normal: softmax(z), LibMTL's RLW); a count other than T and an
 * all-zero Bernoulli record are errors naming the method. */
Test(rlw, recorded_draws_are_replayed)
{
    enum { T = 3 };
    double l[T] = {1, 2, 3}, z[T] = {0.3, -1.2, 2.0}, hw[T], tw[2][T];
    const mtb_balancer_type *ty = mtb_balancer_find("rlw");
    mtb_error err = {0};
    for (int k = 0; k < 2; k++) {
        mtb_hparams hp;
        mtb_hparams_default(ty, &hp);
        mtb_balancer *b = mtb_balancer_new(ty, T, 0, &hp, 5 + (unsigned)k, &err);
        cr_assert(b, "%s", err.msg);
        mtb_balance_in in = {.T = T, .losses = l, .draws = {.values = z, .n_values = T}};
        mtb_balance_out out = {.head_w = hw, .trunk_w = tw[k]};
        cr_assert_eq(mtb_balancer_step(b, &in, &out, &err), MTB_OK, "%s", err.msg);
        in.draws.n_values = 2;
        cr_assert_eq(mtb_balancer_step(b, &in, &out, &err), MTB_EINVAL);
        cr_assert(strstr(err.msg, "rlw") && strstr(err.msg, "T = 3"), "%s", err.msg);
        mtb_balancer_free(b);
    }
    double e[T], s = 0.0;
    for (int t = 0; t < T; t++)
        s += e[t] = exp(z[t]);
    for (int t = 0; t < T; t++) {
        cr_assert_eq(tw[0][t], tw[1][t], "the seed changed a replayed step");
        cr_assert_float_eq(tw[0][t], e[t] / s, 1e-15, "w[%d] = %g, softmax %g", t, tw[0][t],
                           e[t] / s);
    }
    runner r = make("rlw", "dist=bernoulli", T, 0, 1);
    const double zero[T] = {0, 0, 0};
    mtb_balance_in in = {.T = T, .losses = l, .draws = {.values = zero, .n_values = T}};
    mtb_balance_out out = {.head_w = r.hw, .trunk_w = r.tw};
    cr_assert_eq(mtb_balancer_step(r.b, &in, &out, &err), MTB_EINVAL);
    cr_assert(strstr(err.msg, "all zero"), "%s", err.msg);
    drop(&r);
}
