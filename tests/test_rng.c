/* test_rng.c: the samplers of rng.c against their known moments.
 *
 * Tolerances: each check compares a sample statistic with its exact expectation and
 * allows Z_TOL = 5 standard errors of that statistic, the standard error computed from
 * the distribution's own moments (for a sample variance: sqrt((mu4 - sigma^4) / N)).
 * A correct sampler fails such a check with probability < 1e-6; the seeds are fixed, so
 * a run is reproducible either way. A sampler with a wrong scale, shape or parameter
 * convention misses by tens or hundreds of standard errors at these N. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mtb/rng.h"

#define Z_TOL 5.0
#define N_DRAWS 200000

typedef struct moments {
    double mean, var;
} moments;

static moments sample_moments(const double *x, size_t n)
{
    double m = 0.0, v = 0.0;
    for (size_t i = 0; i < n; i++)
        m += x[i];
    m /= (double)n;
    for (size_t i = 0; i < n; i++)
        v += (x[i] - m) * (x[i] - m);
    return (moments){m, v / (double)(n - 1)};
}

/* Asserts the sample mean and variance of x against (mean, var) of a distribution
 * whose 4th central moment is mu4. */
static void check_moments(const char *what, const double *x, size_t n, double mean, double var,
                          double mu4)
{
    moments s = sample_moments(x, n);
    double se_mean = sqrt(var / (double)n), se_var = sqrt((mu4 - var * var) / (double)n);
    cr_assert(fabs(s.mean - mean) < Z_TOL * se_mean, "%s: mean %.6g, expected %.6g +- %.2g", what,
              s.mean, mean, Z_TOL * se_mean);
    cr_assert(fabs(s.var - var) < Z_TOL * se_var, "%s: variance %.6g, expected %.6g +- %.2g", what,
              s.var, var, Z_TOL * se_var);
}

Test(rng_moments, uniform)
{
    mtb_rng r;
    mtb_rng_seed(&r, 1, 100);
    double *x = malloc(N_DRAWS * sizeof *x);
    for (size_t i = 0; i < N_DRAWS; i++) {
        x[i] = mtb_rng_uniform(&r);
        cr_assert(x[i] >= 0.0 && x[i] < 1.0, "uniform left [0, 1): %g", x[i]);
    }
    /* U(0,1): mean 1/2, variance 1/12, mu4 = 1/80. */
    check_moments("uniform", x, N_DRAWS, 0.5, 1.0 / 12.0, 1.0 / 80.0);
    free(x);
}

Test(rng_moments, normal)
{
    mtb_rng r;
    mtb_rng_seed(&r, 2, 100);
    double *x = malloc(N_DRAWS * sizeof *x);
    for (size_t i = 0; i < N_DRAWS; i++)
        x[i] = mtb_rng_normal(&r);
    check_moments("normal", x, N_DRAWS, 0.0, 1.0, 3.0); /* N(0,1): mu4 = 3 */
    /* The tails too: P(|z| > 2) = 0.0455, binomial standard error ~4.7e-4. */
    size_t tail = 0;
    for (size_t i = 0; i < N_DRAWS; i++)
        tail += fabs(x[i]) > 2.0;
    double p = (double)tail / N_DRAWS, se = sqrt(0.0455 * 0.9545 / N_DRAWS);
    cr_assert(fabs(p - 0.0455) < Z_TOL * se, "P(|z| > 2) = %g, expected 0.0455", p);
    free(x);
}

Test(rng_moments, normal_ms)
{
    mtb_rng r;
    mtb_rng_seed(&r, 3, 100);
    double *x = malloc(N_DRAWS * sizeof *x);
    for (size_t i = 0; i < N_DRAWS; i++)
        x[i] = mtb_rng_normal_ms(&r, 3.0, 2.0);
    /* sigma is a standard deviation: variance 4, mu4 = 3 sigma^4 = 48. */
    check_moments("normal_ms(3, 2)", x, N_DRAWS, 3.0, 4.0, 48.0);
    free(x);
}

static void check_gamma(double a, uint64_t seed)
{
    mtb_rng r;
    mtb_rng_seed(&r, seed, 100);
    double *x = malloc(N_DRAWS * sizeof *x);
    for (size_t i = 0; i < N_DRAWS; i++) {
        x[i] = mtb_rng_gamma(&r, a);
        cr_assert(x[i] >= 0.0 && isfinite(x[i]), "gamma(%g) gave %g", a, x[i]);
    }
    /* Gamma(a, 1): mean a, variance a, 4th central moment 3a^2 + 6a. */
    char what[96];
    snprintf(what, sizeof what, "gamma(%g)", a);
    check_moments(what, x, N_DRAWS, a, a, 3.0 * a * a + 6.0 * a);
    free(x);
}

Test(rng_moments, gamma_shape_half) { check_gamma(0.5, 4); } /* the alpha < 1 boost path */
Test(rng_moments, gamma_shape_three) { check_gamma(3.0, 5); }

/* Component i of Dirichlet(alpha) is Beta(a, b) with a = alpha_i, b = alpha_0 - a; its
 * raw moments are E X^k = prod_{j<k} (a + j) / (a + b + j). */
static void beta_moments(double a, double b, double *mean, double *var, double *mu4)
{
    double e[5] = {1.0};
    for (int k = 1; k <= 4; k++)
        e[k] = e[k - 1] * (a + k - 1) / (a + b + k - 1);
    double m = e[1];
    *mean = m;
    *var = e[2] - m * m;
    *mu4 = e[4] - 4 * m * e[3] + 6 * m * m * e[2] - 3 * m * m * m * m;
}

static void check_dirichlet(int k, const double *alpha, uint64_t seed)
{
    enum { N = 50000 };
    mtb_rng r;
    mtb_rng_seed(&r, seed, 100);
    double *x = malloc((size_t)N * (size_t)k * sizeof *x), *col = malloc(N * sizeof *col);
    double a0 = 0.0;
    for (int i = 0; i < k; i++)
        a0 += alpha[i];
    mtb_error err = {0};
    for (size_t d = 0; d < N; d++) {
        cr_assert_eq(mtb_rng_dirichlet(&r, k, alpha, x + d * (size_t)k, &err), MTB_OK, "%s",
                     err.msg);
        double s = 0.0;
        for (int i = 0; i < k; i++) {
            cr_assert(x[d * (size_t)k + (size_t)i] >= 0.0);
            s += x[d * (size_t)k + (size_t)i];
        }
        cr_assert(fabs(s - 1.0) < 1e-12, "a Dirichlet draw sums to %.17g", s);
    }
    for (int i = 0; i < k; i++) {
        for (size_t d = 0; d < N; d++)
            col[d] = x[d * (size_t)k + (size_t)i];
        double m, v, mu4;
        beta_moments(alpha[i], a0 - alpha[i], &m, &v, &mu4);
        char what[96];
        snprintf(what, sizeof what, "dirichlet component %d (alpha %g)", i, alpha[i]);
        check_moments(what, col, N, m, v, mu4);
    }
    free(x);
    free(col);
}

Test(rng_moments, dirichlet_uniform)
{
    const double alpha[4] = {1, 1, 1, 1}; /* mean 1/4, variance 3/80 each */
    check_dirichlet(4, alpha, 6);
}

Test(rng_moments, dirichlet_non_uniform)
{
    const double alpha[3] = {0.5, 2.0, 5.0};
    check_dirichlet(3, alpha, 7);
}

Test(rng_moments, bernoulli_rate)
{
    mtb_rng r;
    mtb_rng_seed(&r, 8, 100);
    size_t ones = 0;
    for (size_t i = 0; i < N_DRAWS; i++)
        ones += (size_t)mtb_rng_bernoulli(&r, 0.3);
    double p = (double)ones / N_DRAWS, se = sqrt(0.3 * 0.7 / N_DRAWS);
    cr_assert(fabs(p - 0.3) < Z_TOL * se, "rate %g, expected 0.3 +- %.2g", p, Z_TOL * se);
    for (int i = 0; i < 1000; i++) {
        cr_assert_eq(mtb_rng_bernoulli(&r, 0.0), 0);
        cr_assert_eq(mtb_rng_bernoulli(&r, 1.0), 1);
    }
}

/* Chi-square goodness of fit against equal counts. The limits are the 1 - 1e-4
 * quantiles of chi^2 (6 dof: 27.86; 5 dof: 25.74), so a correct sampler fails with
 * probability 1e-4 per seed (and these seeds are fixed). */
static double chi2_equal(const size_t *count, int cells, size_t total)
{
    double e = (double)total / cells, c = 0.0;
    for (int i = 0; i < cells; i++)
        c += ((double)count[i] - e) * ((double)count[i] - e) / e;
    return c;
}

Test(rng_below, uniform_small_n)
{
    mtb_rng r;
    mtb_rng_seed(&r, 9, 100);
    size_t count[7] = {0};
    for (size_t i = 0; i < 70000; i++) {
        uint64_t v = mtb_rng_below(&r, 7);
        cr_assert_lt(v, 7);
        count[v]++;
    }
    double c = chi2_equal(count, 7, 70000);
    cr_assert_lt(c, 27.86, "chi^2 = %g over 7 cells", c);
    cr_assert_eq(mtb_rng_below(&r, 1), 0);
}

/* For n = 3 * 2^62 a plain x % n would put 1/4 of the draws at or above 2^63 instead
 * of 1/3: the rejection step is what makes large ranges uniform. */
Test(rng_below, unbiased_large_n)
{
    mtb_rng r;
    mtb_rng_seed(&r, 10, 100);
    const uint64_t n = 3ULL << 62;
    size_t high = 0, N = 60000;
    for (size_t i = 0; i < N; i++) {
        uint64_t v = mtb_rng_below(&r, n);
        cr_assert_lt(v, n);
        high += v >= (1ULL << 63);
    }
    double p = (double)high / (double)N, se = sqrt((1.0 / 3) * (2.0 / 3) / (double)N);
    cr_assert(fabs(p - 1.0 / 3) < Z_TOL * se, "P(v >= 2^63) = %g, expected 1/3", p);
}

static int cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return (x > y) - (x < y);
}

Test(rng_shuffle, is_a_permutation)
{
    enum { N = 1000 };
    mtb_rng r;
    mtb_rng_seed(&r, 11, 100);
    size_t idx[N], sorted[N];
    for (size_t i = 0; i < N; i++)
        idx[i] = i;
    mtb_rng_shuffle(&r, idx, N);
    size_t fixed = 0;
    for (size_t i = 0; i < N; i++)
        fixed += idx[i] == i;
    cr_assert_lt(fixed, 10, "%zu of %d elements stayed in place (expected ~1)", fixed, N);
    memcpy(sorted, idx, sizeof idx);
    qsort(sorted, N, sizeof *sorted, cmp_size);
    for (size_t i = 0; i < N; i++)
        cr_assert_eq(sorted[i], i, "index %zu missing or repeated", i);
    mtb_rng_shuffle(&r, idx, 0); /* empty and single arrays are fine */
    mtb_rng_shuffle(&r, idx, 1);
}

/* All 6 orders of 3 elements equally likely (Fisher-Yates done right). */
Test(rng_shuffle, orders_uniform)
{
    mtb_rng r;
    mtb_rng_seed(&r, 12, 100);
    size_t count[6] = {0};
    const size_t N = 60000;
    for (size_t i = 0; i < N; i++) {
        size_t p[3] = {0, 1, 2};
        mtb_rng_shuffle(&r, p, 3);
        /* Lehmer code: first element (3 ways) x whether the rest are in order (2). */
        count[p[0] * 2 + (p[1] > p[2])]++;
    }
    double c = chi2_equal(count, 6, N);
    cr_assert_lt(c, 25.74, "chi^2 = %g over the 6 orders", c);
}

Test(rng_dirichlet, bad_alpha_is_einval)
{
    mtb_rng r;
    mtb_rng_seed(&r, 13, 100);
    double out[3];
    mtb_error err = {0};
    const double zero[3] = {1.0, 0.0, 1.0}, neg[3] = {-1.0, 1.0, 1.0};
    const double nan3[3] = {1.0, 1.0, NAN}, inf3[3] = {INFINITY, 1.0, 1.0};
    cr_assert_eq(mtb_rng_dirichlet(&r, 3, zero, out, &err), MTB_EINVAL);
    cr_assert(strstr(err.msg, "alpha[1]"), "%s", err.msg);
    cr_assert_eq(mtb_rng_dirichlet(&r, 3, neg, out, &err), MTB_EINVAL);
    cr_assert(strstr(err.msg, "alpha[0]"), "%s", err.msg);
    cr_assert_eq(mtb_rng_dirichlet(&r, 3, nan3, out, &err), MTB_EINVAL);
    cr_assert(strstr(err.msg, "alpha[2]"), "%s", err.msg);
    cr_assert_eq(mtb_rng_dirichlet(&r, 3, inf3, out, &err), MTB_EINVAL);
    cr_assert_eq(mtb_rng_dirichlet(&r, 0, zero, out, &err), MTB_EINVAL);
    cr_assert(strstr(err.msg, "dimension"), "%s", err.msg);
}
