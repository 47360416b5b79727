/* gradcheck.h: central finite differences against an analytic gradient, for float
 * parameters and a double-valued objective.
 *
 * Error of one coordinate: |fd - g| / max(|fd|, |g|, floor), with floor = 1e-2 * max|g| so
 * that coordinates whose gradient is near 0 are judged against the gradient's scale rather
 * than against round-off. With float parameters, h = 1e-3 and O(1) values, round-off in
 * f is about 1e-7 |f|, i.e. ~1e-4 after dividing by 2h, and the O(h^2) truncation is
 * ~1e-6: tolerances of a few 1e-3 separate correct from wrong gradients with margin (the
 * mutation tests below show a wrong entry gives errors of order 1). */
#ifndef MTB_TEST_GRADCHECK_H
#define MTB_TEST_GRADCHECK_H

#include <math.h>
#include <stddef.h>

typedef double (*gc_objective)(void *ctx);

/* Checks every `step`-th coordinate of x[0..n). */
static inline double gc_max_rel_err(gc_objective f, void *ctx, float *x, const double *g, size_t n,
                                    size_t step, float h)
{
    double gmax = 0.0, worst = 0.0;
    for (size_t i = 0; i < n; i++)
        if (fabs(g[i]) > gmax)
            gmax = fabs(g[i]);
    double floor_ = 1e-2 * gmax + 1e-12;
    for (size_t i = 0; i < n; i += step) {
        float xi = x[i];
        x[i] = xi + h;
        double fp = f(ctx);
        x[i] = xi - h;
        double fm = f(ctx);
        x[i] = xi;
        /* the perturbation actually applied, after rounding to float */
        double hp = (double)(float)(xi + h) - xi, hm = xi - (double)(float)(xi - h);
        double fd = (fp - fm) / (hp + hm);
        double e = fabs(fd - g[i]) / fmax(fmax(fabs(fd), fabs(g[i])), floor_);
        if (e > worst)
            worst = e;
    }
    return worst;
}

#endif
