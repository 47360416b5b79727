/* test_rlw_sampler.c: the RLW/RGW weight distributions of rlw.md sec. 1 against the R1
 * table's exact moments (paper_repro/rlw/moments.h, the oracle the reproduction prints).
 * Each variant is selected by name through the rlw method, as a user selects it:
 *   uniform, normal, dirichlet-sm, dirichlet-id, bernoulli (redraw / zero), cbernoulli,
 *   rnormal-once, rnormal-step, and the point mass `equal` (ew-mean).
 * A statistic passes when it lies within RLW_NSE standard errors of the exact value, the
 * standard error estimated from the same draws (rlw.md R1: "exact formulas within 4 SE"). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../paper_repro/rlw/moments.h"
#include "mtb/balancer.h"

#define RLW_DRAWS 20000 /* per (variant, T): SEs of a few 1e-3, the test takes < 1 s */
#define RLW_NSE 4.0     /* rlw.md R1 agreement rule; a false alarm per check ~ 6e-5 */

typedef struct variant {
    const char *name, *opts;
    int mean_exact;  /* E[lambda~_t] has a closed form (all but rnormal-once) */
} variant;

static const variant VARIANTS[] = {
    {"uniform", "dist=uniform", 1},
    {"normal", "dist=normal", 1},
    {"dirichlet-sm", "dist=dirichlet,dirichlet_norm=softmax", 1},
    {"dirichlet-id", "dist=dirichlet,dirichlet_norm=identity", 1},
    {"bernoulli", "dist=bernoulli", 1},
    {"bernoulli-zero", "dist=bernoulli,bernoulli_allzero=zero", 1},
    {"cbernoulli", "dist=constrained_bernoulli", 1},
    {"rnormal-once", "dist=random_normal", 0},
    {"rnormal-step", "dist=random_normal,random_normal_redraw=true", 1},
};
enum { NV = sizeof VARIANTS / sizeof VARIANTS[0] };

typedef struct draws {
    int T, n;
    double *w; /* (n, T) */
} draws;

static draws sample(const char *opts, int T, int n, unsigned long long seed)
{
    const mtb_balancer_type *ty = mtb_balancer_find("rlw");
    cr_assert(ty);
    mtb_hparams hp;
    mtb_error err = {0};
    cr_assert_eq(mtb_hparams_parse(ty, opts, &hp, &err), MTB_OK, "%s: %s", opts, err.msg);
    mtb_balancer *b = mtb_balancer_new(ty, T, 0, &hp, seed, &err);
    cr_assert(b, "%s: %s", opts, err.msg);
    draws d = {T, n, malloc(sizeof(double) * (size_t)n * (size_t)T)};
    double *l = calloc((size_t)T, sizeof *l), *hw = calloc((size_t)T, sizeof *hw);
    for (int t = 0; t < T; t++)
        l[t] = 1.0 + t;
    for (int k = 0; k < n; k++) {
        mtb_balance_in in = {.step = k, .T = T, .losses = l};
        mtb_balance_out out = {.head_w = hw, .trunk_w = d.w + (size_t)k * T};
        cr_assert_eq(mtb_balancer_step(b, &in, &out, &err), MTB_OK, "%s: %s", opts, err.msg);
    }
    free(l);
    free(hw);
    mtb_balancer_free(b);
    return d;
}

/* mean and standard error of f(draw k) over the draws */
static void mean_se(const draws *d, double (*f)(const double *, int, int), int arg, double *m,
                    double *se)
{
    double s = 0.0, s2 = 0.0;
    for (int k = 0; k < d->n; k++) {
        double v = f(d->w + (size_t)k * d->T, d->T, arg);
        s += v, s2 += v * v;
    }
    *m = s / d->n;
    double var = (s2 - d->n * *m * *m) / (d->n - 1);
    *se = sqrt(fmax(var, 0.0) / d->n);
}

static double f_w(const double *w, int T, int t) { (void)T; return w[t]; }
static double f_sumsq(const double *w, int T, int t)
{
    (void)t;
    double s = 0.0;
    for (int i = 0; i < T; i++)
        s += w[i] * w[i];
    return s;
}
/* (w_1 - 1/T)^2: its mean is Var(lambda~_1) when E[lambda~_1] = 1/T */
static double f_dev1(const double *w, int T, int t) { (void)t; double e = w[0] - 1.0 / T; return e * e; }

static void near(const char *what, const char *v, int T, double m, double se, double want)
{
    /* se = 0 happens for a constant statistic (cbernoulli's sum of squares): exact then */
    cr_assert(fabs(m - want) <= RLW_NSE * se + 1e-12,
              "%s, T = %d, %s: %.6g vs exact %.6g (%.1f SE, SE %.2g)", v, T, what, m, want,
              se > 0 ? (m - want) / se : INFINITY, se);
}

static const int TS[] = {2, 3, 10};

Test(rlw_sampler, mean_weight_is_one_over_T_or_the_E9_exception)
{
    for (int iv = 0; iv < NV; iv++) {
        if (!VARIANTS[iv].mean_exact)
            continue;
        for (size_t it = 0; it < sizeof TS / sizeof TS[0]; it++) {
            int T = TS[it];
            draws d = sample(VARIANTS[iv].opts, T, RLW_DRAWS, 100 + it);
            int zero = strstr(VARIANTS[iv].opts, "allzero=zero") != NULL;
            for (int t = 0; t < T; t++) {
                double m, se;
                mean_se(&d, f_w, t, &m, &se);
                near("E[w_t]", VARIANTS[iv].name, T, m, se, rlw_bern_mean(T, zero));
            }
            free(d.w);
        }
    }
}

Test(rlw_sampler, second_moments_match_the_exact_formulas)
{
    for (size_t it = 0; it < sizeof TS / sizeof TS[0]; it++) {
        int T = TS[it];
        double m, se;
        draws d = sample("dist=dirichlet,dirichlet_norm=identity", T, RLW_DRAWS, 7);
        mean_se(&d, f_dev1, 0, &m, &se);
        near("Var(w_1)", "dirichlet-id", T, m, se, rlw_dirid_var(T));
        mean_se(&d, f_sumsq, 0, &m, &se);
        near("E||w||^2", "dirichlet-id", T, m, se, rlw_dirid_sumsq(T));
        free(d.w);
        d = sample("dist=constrained_bernoulli", T, RLW_DRAWS, 7);
        mean_se(&d, f_dev1, 0, &m, &se);
        near("Var(w_1)", "cbernoulli", T, m, se, rlw_cbern_var(T));
        mean_se(&d, f_sumsq, 0, &m, &se);
        near("E||w||^2", "cbernoulli", T, m, se, 1.0);
        free(d.w);
        for (int zero = 0; zero <= 1; zero++) {
            d = sample(zero ? "dist=bernoulli,bernoulli_allzero=zero" : "dist=bernoulli", T,
                       RLW_DRAWS, 7);
            mean_se(&d, f_sumsq, 0, &m, &se);
            near("E||w||^2", zero ? "bernoulli-zero" : "bernoulli", T, m, se,
                 rlw_bern_sumsq(T, zero));
            free(d.w);
        }
    }
    /* the R1 table's printed values of the redraw formula (rlw.md R1) */
    cr_assert_float_eq(rlw_bern_sumsq(2, 0), 0.8333, 5e-5);
    cr_assert_float_eq(rlw_bern_sumsq(3, 0), 0.6905, 5e-5);
    cr_assert_float_eq(rlw_bern_sumsq(10, 0), 0.2291, 5e-5);
    cr_assert_float_eq(rlw_bern_sumsq(40, 0), 0.0514, 5e-5);
}

/* The `zero` convention: all-zero steps at rate 2^-T, weights exactly 0 then, the sum 1
 * otherwise; `redraw` never gives one. T = 2: rate 1/4, SE 0.003. */
Test(rlw_sampler, bernoulli_zero_convention_keeps_all_zero_draws)
{
    enum { T = 2 };
    for (int zero = 0; zero <= 1; zero++) {
        draws d = sample(zero ? "dist=bernoulli,bernoulli_allzero=zero" : "dist=bernoulli", T,
                         RLW_DRAWS, 5);
        int nzero = 0;
        for (int k = 0; k < d.n; k++) {
            double s = d.w[2 * k] + d.w[2 * k + 1];
            cr_assert(s == 0.0 || fabs(s - 1.0) < 1e-15, "draw %d sums to %g", k, s);
            nzero += s == 0.0;
        }
        double p = (double)nzero / d.n, se = sqrt(0.25 * 0.75 / d.n);
        if (zero)
            cr_assert(fabs(p - 0.25) <= RLW_NSE * se, "all-zero rate %g, expected 1/4", p);
        else
            cr_assert_eq(nzero, 0);
        free(d.w);
    }
    /* replay of a recorded all-zero draw: an error with redraw, weights 0 with zero */
    const mtb_balancer_type *ty = mtb_balancer_find("rlw");
    mtb_hparams hp;
    mtb_error err = {0};
    for (int zero = 0; zero <= 1; zero++) {
        cr_assert_eq(mtb_hparams_parse(ty, zero ? "dist=bernoulli,bernoulli_allzero=zero"
                                                : "dist=bernoulli", &hp, &err), MTB_OK);
        mtb_balancer *b = mtb_balancer_new(ty, T, 0, &hp, 1, &err);
        double l[T] = {1, 2}, raw[T] = {0, 0}, hw[T], tw[T];
        mtb_balance_in in = {.T = T, .losses = l, .draws = {.values = raw, .n_values = T}};
        mtb_balance_out out = {.head_w = hw, .trunk_w = tw};
        mtb_status st = mtb_balancer_step(b, &in, &out, &err);
        if (zero) {
            cr_assert_eq(st, MTB_OK, "%s", err.msg);
            cr_assert(tw[0] == 0.0 && tw[1] == 0.0 && hw[0] == 0.0 && hw[1] == 0.0);
        } else {
            cr_assert_eq(st, MTB_EINVAL);
            cr_assert(strstr(err.msg, "all zero"), "%s", err.msg);
        }
        mtb_balancer_free(b);
    }
}

/* ew-mean is rlw's point mass dist=equal (1/T each, every step); with scale=T it is ew. */
Test(rlw_sampler, equal_is_ew_mean_and_scaled_ew)
{
    for (int scaled = 0; scaled <= 1; scaled++) {
        draws d = sample(scaled ? "dist=equal,scale=T" : "dist=equal", 4, 50, 1);
        for (int k = 0; k < 4 * d.n; k++)
            cr_assert_eq(d.w[k], scaled ? 1.0 : 0.25);
        free(d.w);
    }
}

/* rnormal-once keeps its (m_t, v_t) for the run: E[w_t | m, v] differs from 1/T and from
 * one seed to another; rnormal-step redraws them, so its mean is 1/T (tested above). */
Test(rlw_sampler, rnormal_once_has_per_run_means)
{
    enum { T = 3 };
    double dev = 0.0;
    for (int seed = 0; seed < 4; seed++) {
        draws d = sample("dist=random_normal", T, RLW_DRAWS, 40 + seed);
        for (int t = 0; t < T; t++) {
            double m, se;
            mean_se(&d, f_w, t, &m, &se);
            dev = fmax(dev, fabs(T * m - 1.0) / (T * se));
        }
        free(d.w);
    }
    cr_assert(dev > 10.0, "rnormal-once per-run means within %g SE of 1/T", dev);
}

/* Every variant is selectable for rgw too (same sampler, same stream): its trunk weights are
 * rlw's, its heads get 1. */
Test(rlw_sampler, rgw_takes_every_variant)
{
    enum { T = 4, N = 50 };
    /* (the variants spell dirichlet_norm out: rgw's default, identity, differs from rlw's) */
    for (int iv = 0; iv <= NV; iv++) {
        const char *opts = iv < NV ? VARIANTS[iv].opts : "dist=equal";
        draws a = sample(opts, T, N, 9);
        const mtb_balancer_type *ty = mtb_balancer_find("rgw");
        mtb_hparams hp;
        mtb_error err = {0};
        cr_assert_eq(mtb_hparams_parse(ty, opts, &hp, &err), MTB_OK, "rgw %s: %s", opts, err.msg);
        mtb_balancer *b = mtb_balancer_new(ty, T, 0, &hp, 9, &err);
        cr_assert(b, "%s", err.msg);
        double l[T] = {1, 2, 3, 4}, hw[T], tw[T];
        for (int k = 0; k < N; k++) {
            mtb_balance_in in = {.step = k, .T = T, .losses = l};
            mtb_balance_out out = {.head_w = hw, .trunk_w = tw};
            cr_assert_eq(mtb_balancer_step(b, &in, &out, &err), MTB_OK, "%s", err.msg);
            for (int t = 0; t < T; t++) {
                cr_assert_eq(hw[t], 1.0);
                cr_assert_eq(tw[t], a.w[k * T + t], "rgw %s step %d task %d", opts, k, t);
            }
        }
        mtb_balancer_free(b);
        free(a.w);
    }
}
