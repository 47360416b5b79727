/* stats.h: the small statistics every paper reproduction reports.
 *
 *   mean, sample standard deviation (n - 1 denominator),
 *   Student-t quantiles and the 95 % confidence half-width t_{0.975, n-1} s / sqrt(n)
 *   (the SLAW code's experiment driver, spec sec. 3.4: t = 2.2622 for n = 10),
 *   Pearson correlation, and the least-squares line y = a + b x with its R^2.
 * All functions but the median are pure; none allocates; each returns NAN when the quantity is undefined
 * (too few points, zero variance). Inputs are double arrays of n values. */
#ifndef MTB_STATS_H
#define MTB_STATS_H

#include <stddef.h>

double mtb_stats_mean(const double *x, size_t n);            /* NAN if n = 0 */
double mtb_stats_std(const double *x, size_t n);             /* sample std; NAN if n < 2 */
/* Median (the mean of the two middle values for even n); sorts x in place; NAN if n = 0 or
 * a value is NaN. */
double mtb_stats_median_inplace(double *x, size_t n);

/* Regularised incomplete beta function I_x(a, b), a, b > 0, 0 <= x <= 1. */
double mtb_stats_betainc(double a, double b, double x);
/* Student-t cumulative distribution P(T <= t) with dof > 0 degrees of freedom. */
double mtb_stats_t_cdf(double t, double dof);
/* Quantile: the t with P(T <= t) = p, 0 < p < 1, dof > 0 (bisection on the CDF to
 * ~1e-12 relative). t_quantile(0.975, 9) = 2.2622. */
double mtb_stats_t_quantile(double p, double dof);

typedef struct mtb_stats_summary {
    size_t n;
    double mean, std;  /* std: sample std (NAN if n < 2) */
    double ci95;       /* half-width t_{0.975, n-1} std / sqrt(n) (NAN if n < 2) */
    double min, max;
} mtb_stats_summary;

mtb_stats_summary mtb_stats_summarise(const double *x, size_t n);

/* Pearson correlation of (x_k, y_k); NAN if n < 2 or either variance is 0. */
double mtb_stats_pearson(const double *x, const double *y, size_t n);

typedef struct mtb_stats_linfit {
    double intercept, slope; /* y = intercept + slope x, least squares */
    double r2;               /* coefficient of determination, 1 - SS_res / SS_tot */
    double slope_se;         /* standard error of the slope (NAN if n < 3) */
} mtb_stats_linfit;

/* Least-squares line; all fields NAN if n < 2 or x has zero variance. */
mtb_stats_linfit mtb_stats_linear_fit(const double *x, const double *y, size_t n);

#endif
