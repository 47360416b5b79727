/* test_repro_stats.c: the statistics the paper reproductions report (mtb/stats.h):
 * Student-t quantiles against published table values, the CI half-width the SLAW
 * driver uses, correlation and the least-squares line with R^2 on cases with known
 * answers, and NAN on undefined inputs. */
#include <criterion/criterion.h>
#include <math.h>

#include "mtb/rng.h"
#include "mtb/stats.h"

/* Published t-table values are rounded to 4 decimals (5 significant digits). */
#define TABLE_TOL 6e-5
#define TIGHT 1e-12

Test(stats, t_quantiles_match_tables)
{
    /* t_{0.975, dof}: classic table values */
    const double dof[] = {1, 2, 4, 9, 19, 29, 119};
    const double want[] = {12.7062, 4.3027, 2.7764, 2.2622, 2.0930, 2.0452, 1.9801};
    for (int i = 0; i < 7; i++) {
        double t = mtb_stats_t_quantile(0.975, dof[i]);
        cr_assert(fabs(t - want[i]) < TABLE_TOL * want[i], "dof %g: %.6f, want %.4f", dof[i], t,
                  want[i]);
    }
    /* t_{0.95, 9} = 1.8331, t_{0.995, 9} = 3.2498 */
    cr_assert(fabs(mtb_stats_t_quantile(0.95, 9) - 1.8331) < 1e-4);
    cr_assert(fabs(mtb_stats_t_quantile(0.995, 9) - 3.2498) < 1e-4);
    /* dof 1 is Cauchy: quantile tan(pi (p - 1/2)) exactly */
    for (double p = 0.05; p < 1.0; p += 0.1)
        cr_assert(fabs(mtb_stats_t_quantile(p, 1) - tan(M_PI * (p - 0.5))) < 1e-9 * (1 + fabs(tan(M_PI * (p - 0.5)))),
                  "Cauchy p=%g", p);
    /* large dof tends to the normal 1.959964 */
    cr_assert(fabs(mtb_stats_t_quantile(0.975, 1e7) - 1.959964) < 1e-5);
    /* symmetry */
    cr_assert(fabs(mtb_stats_t_quantile(0.025, 5) + mtb_stats_t_quantile(0.975, 5)) < TIGHT);
    cr_assert(isnan(mtb_stats_t_quantile(1.0, 5)));
    cr_assert(isnan(mtb_stats_t_quantile(0.5, 0)));
}

Test(stats, t_cdf_inverts_quantile_and_dof2_closed_form)
{
    for (double p = 0.01; p < 1.0; p += 0.07) {
        double t = mtb_stats_t_quantile(p, 3.5);
        cr_assert(fabs(mtb_stats_t_cdf(t, 3.5) - p) < 1e-11, "p=%g", p);
        /* dof 2: F(t) = 1/2 + t / (2 sqrt(2 + t^2)) */
        double t2 = mtb_stats_t_quantile(p, 2);
        cr_assert(fabs(0.5 + t2 / (2 * sqrt(2 + t2 * t2)) - p) < 1e-11, "dof 2, p=%g", p);
    }
    /* I_x(1, 1) = x; I_x(a, 1) = x^a */
    cr_assert(fabs(mtb_stats_betainc(1, 1, 0.3) - 0.3) < TIGHT);
    cr_assert(fabs(mtb_stats_betainc(2.5, 1, 0.7) - pow(0.7, 2.5)) < TIGHT);
}

Test(stats, mean_std_ci_of_known_sample)
{
    const double x[] = {2, 4, 4, 4, 5, 5, 7, 9, 3, 7};
    mtb_stats_summary s = mtb_stats_summarise(x, 10);
    /* mean 5, sum of squared deviations 9+1+1+1+0+0+4+16+4+4 = 40, std = sqrt(40/9) */
    cr_assert(fabs(s.mean - 5.0) < TIGHT);
    cr_assert(fabs(s.std - sqrt(40.0 / 9.0)) < TIGHT);
    cr_assert(fabs(s.ci95 - 2.262157 * sqrt(40.0 / 9.0) / sqrt(10.0)) < 1e-6, "ci %g", s.ci95);
    cr_assert(s.min == 2.0 && s.max == 9.0 && s.n == 10);
    mtb_stats_summary one = mtb_stats_summarise(x, 1);
    cr_assert(one.mean == 2.0 && isnan(one.std) && isnan(one.ci95));
    cr_assert(isnan(mtb_stats_mean(x, 0)));
}

Test(stats, ci_covers_the_mean_at_the_nominal_rate)
{
    /* 4000 samples of size 5 from N(3, 2^2): about 95 % of intervals contain 3
     * (binomial sd 0.0034, so [0.935, 0.965] is a > 4 sd band). */
    mtb_rng rng;
    mtb_rng_seed(&rng, 42, 77);
    int cover = 0;
    for (int k = 0; k < 4000; k++) {
        double x[5];
        for (int i = 0; i < 5; i++)
            x[i] = mtb_rng_normal_ms(&rng, 3.0, 2.0);
        mtb_stats_summary s = mtb_stats_summarise(x, 5);
        cover += fabs(s.mean - 3.0) <= s.ci95;
    }
    cr_assert(cover > 0.935 * 4000 && cover < 0.965 * 4000, "coverage %d / 4000", cover);
}

Test(stats, pearson_and_linear_fit)
{
    double x[50], y[50];
    for (int i = 0; i < 50; i++) {
        x[i] = 0.1 * i - 1.0;
        y[i] = 3.0 - 2.0 * x[i];

    }
    cr_assert(fabs(mtb_stats_pearson(x, y, 50) + 1.0) < TIGHT);
    mtb_stats_linfit f = mtb_stats_linear_fit(x, y, 50);
    cr_assert(fabs(f.slope + 2.0) < TIGHT && fabs(f.intercept - 3.0) < TIGHT);
    cr_assert(fabs(f.r2 - 1.0) < TIGHT && f.slope_se < 1e-12);

    /* hand-computed: x = (0,1,2,3), y = (1,3,2,5): Sxx = 5, Sxy = 5.5, Syy = 8.75,
     * slope 1.1, intercept 2.75 - 1.1*1.5 = 1.1, r = 5.5/sqrt(43.75), R^2 = r^2 */
    const double a[] = {0, 1, 2, 3}, b[] = {1, 3, 2, 5};
    mtb_stats_linfit g = mtb_stats_linear_fit(a, b, 4);
    cr_assert(fabs(g.slope - 1.1) < TIGHT && fabs(g.intercept - 1.1) < TIGHT);
    double r = 5.5 / sqrt(43.75);
    cr_assert(fabs(mtb_stats_pearson(a, b, 4) - r) < TIGHT);
    cr_assert(fabs(g.r2 - r * r) < TIGHT);
    /* residuals (-0.1, 0.8, -1.3, 0.6): SSR = 2.7, se = sqrt(2.7/2/5) */
    cr_assert(fabs(g.slope_se - sqrt(2.7 / 10.0)) < TIGHT);

    /* undefined cases */
    double c[3] = {1, 1, 1};
    cr_assert(isnan(mtb_stats_pearson(c, a, 3)));
    cr_assert(isnan(mtb_stats_linear_fit(c, a, 3).slope));
    cr_assert(isnan(mtb_stats_pearson(a, b, 1)));

}
