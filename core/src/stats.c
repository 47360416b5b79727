/* stats.c: see stats.h. */
#include "mtb/stats.h"

#include <math.h>
#include <stdlib.h>

double mtb_stats_mean(const double *x, size_t n)
{
    if (n == 0)
        return NAN;
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += x[i];
    return s / (double)n;
}

double mtb_stats_std(const double *x, size_t n)
{
    if (n < 2)
        return NAN;
    double m = mtb_stats_mean(x, n), s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += (x[i] - m) * (x[i] - m);
    return sqrt(s / (double)(n - 1));
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double mtb_stats_median_inplace(double *x, size_t n)
{
    if (n == 0)
        return NAN;
    for (size_t i = 0; i < n; i++)
        if (isnan(x[i]))
            return NAN;
    qsort(x, n, sizeof *x, cmp_double);
    return n % 2 ? x[n / 2] : 0.5 * (x[n / 2 - 1] + x[n / 2]);
}

/* Continued fraction for I_x(a, b) (the standard expansion, e.g. Abramowitz & Stegun
 * 26.5.8), evaluated with the modified Lentz method; converges for x < (a+1)/(a+b+2). */
static double betainc_cf(double a, double b, double x)
{
    const double tiny = 1e-300, eps = 1e-15;
    double c = 1.0, d = 1.0 - (a + b) * x / (a + 1.0);
    if (fabs(d) < tiny)
        d = tiny;
    d = 1.0 / d;
    double f = d;
    for (int m = 1; m <= 1000; m++) {
        /* even term d_{2m} = m (b - m) x / ((a + 2m - 1)(a + 2m)) */
        double num = m * (b - m) * x / ((a + 2.0 * m - 1.0) * (a + 2.0 * m));
        d = 1.0 + num * d;
        c = 1.0 + num / c;
        if (fabs(d) < tiny)
            d = tiny;
        if (fabs(c) < tiny)
            c = tiny;
        d = 1.0 / d;
        f *= d * c;
        /* odd term d_{2m+1} = -(a + m)(a + b + m) x / ((a + 2m)(a + 2m + 1)) */
        num = -(a + m) * (a + b + m) * x / ((a + 2.0 * m) * (a + 2.0 * m + 1.0));
        d = 1.0 + num * d;
        c = 1.0 + num / c;
        if (fabs(d) < tiny)
            d = tiny;
        if (fabs(c) < tiny)
            c = tiny;
        d = 1.0 / d;
        double delta = d * c;
        f *= delta;
        if (fabs(delta - 1.0) < eps)
            break;
    }
    return f;
}

double mtb_stats_betainc(double a, double b, double x)
{
    if (!(a > 0.0) || !(b > 0.0) || !(x >= 0.0) || !(x <= 1.0))
        return NAN;
    if (x == 0.0 || x == 1.0)
        return x;
    /* prefactor x^a (1-x)^b / (a B(a, b)) */
    double lp = lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log1p(-x);
    if (x < (a + 1.0) / (a + b + 2.0))
        return exp(lp) * betainc_cf(a, b, x) / a;
    return 1.0 - exp(lp) * betainc_cf(b, a, 1.0 - x) / b; /* symmetry I_x(a,b) = 1 - I_{1-x}(b,a) */
}

double mtb_stats_t_cdf(double t, double dof)
{
    if (!(dof > 0.0) || isnan(t))
        return NAN;
    if (isinf(t))
        return t > 0 ? 1.0 : 0.0;
    /* P(|T| > |t|) = I_{dof/(dof+t^2)}(dof/2, 1/2) */
    double tail = 0.5 * mtb_stats_betainc(0.5 * dof, 0.5, dof / (dof + t * t));
    return t >= 0.0 ? 1.0 - tail : tail;
}

double mtb_stats_t_quantile(double p, double dof)
{
    if (!(p > 0.0) || !(p < 1.0) || !(dof > 0.0))
        return NAN;
    if (p == 0.5)
        return 0.0;
    double sgn = p > 0.5 ? 1.0 : -1.0, q = p > 0.5 ? p : 1.0 - p;
    double lo = 0.0, hi = 1.0;
    while (mtb_stats_t_cdf(hi, dof) < q && hi < 1e300)
        hi *= 2.0;
    for (int i = 0; i < 200 && hi - lo > 1e-13 * hi; i++) {
        double mid = 0.5 * (lo + hi);
        if (mtb_stats_t_cdf(mid, dof) < q)
            lo = mid;
        else
            hi = mid;
    }
    return sgn * 0.5 * (lo + hi);
}

mtb_stats_summary mtb_stats_summarise(const double *x, size_t n)
{
    mtb_stats_summary s = {n, NAN, NAN, NAN, NAN, NAN};
    if (n == 0)
        return s;
    s.mean = mtb_stats_mean(x, n);
    s.std = mtb_stats_std(x, n);
    if (n >= 2)
        s.ci95 = mtb_stats_t_quantile(0.975, (double)(n - 1)) * s.std / sqrt((double)n);
    s.min = s.max = x[0];
    for (size_t i = 1; i < n; i++) {
        if (x[i] < s.min)
            s.min = x[i];
        if (x[i] > s.max)
            s.max = x[i];
    }
    return s;
}

/* Centred sums Sxx, Syy, Sxy (two passes for accuracy). */
static void centred_sums(const double *x, const double *y, size_t n, double *sxx, double *syy,
                         double *sxy, double *mx, double *my)
{
    *mx = mtb_stats_mean(x, n);
    *my = mtb_stats_mean(y, n);
    *sxx = *syy = *sxy = 0.0;
    for (size_t i = 0; i < n; i++) {
        double dx = x[i] - *mx, dy = y[i] - *my;
        *sxx += dx * dx;
        *syy += dy * dy;
        *sxy += dx * dy;
    }
}

double mtb_stats_pearson(const double *x, const double *y, size_t n)
{
    if (n < 2)
        return NAN;
    double sxx, syy, sxy, mx, my;
    centred_sums(x, y, n, &sxx, &syy, &sxy, &mx, &my);
    if (!(sxx > 0.0) || !(syy > 0.0))
        return NAN;
    double r = sxy / sqrt(sxx * syy);
    return r > 1.0 ? 1.0 : r < -1.0 ? -1.0 : r;
}

mtb_stats_linfit mtb_stats_linear_fit(const double *x, const double *y, size_t n)
{
    mtb_stats_linfit f = {NAN, NAN, NAN, NAN};
    if (n < 2)
        return f;
    double sxx, syy, sxy, mx, my;
    centred_sums(x, y, n, &sxx, &syy, &sxy, &mx, &my);
    if (!(sxx > 0.0))
        return f;
    f.slope = sxy / sxx;
    f.intercept = my - f.slope * mx;
    double ssr = 0.0;
    for (size_t i = 0; i < n; i++) {
        double r = y[i] - (f.intercept + f.slope * x[i]);
        ssr += r * r;
    }
    f.r2 = syy > 0.0 ? 1.0 - ssr / syy : (ssr == 0.0 ? 1.0 : NAN);
    if (n >= 3)
        f.slope_se = sqrt(ssr / (double)(n - 2) / sxx);
    return f;
}
