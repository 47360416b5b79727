/* simplex.c: projection onto the simplex, accelerated projected gradient over it, and
 * the two-point min-norm step of MGDA. See simplex.h for the contracts. */
#include "simplex.h"

#include <float.h>
#include <math.h>
#include <string.h>

void mtb_simplex_project(double *y, int n)
{
    if (n <= 0)
        return;
    /* Michelot (1986): start from the full active set. */
    double s = 0.0;
    for (int i = 0; i < n; i++)
        s += y[i];
    double tau = (s - 1.0) / n;
    for (int pass = 0; pass < n; pass++) {
        double sum = 0.0;
        int cnt = 0;
        for (int i = 0; i < n; i++)
            if (y[i] > tau) {
                sum += y[i];
                cnt++;
            }
        if (cnt == 0) /* only through rounding: all y_i equal tau */
            break;
        double nt = (sum - 1.0) / cnt;
        if (!(nt > tau))
            break;
        tau = nt;
    }
    int pos = 0;
    for (int i = 0; i < n; i++) {
        y[i] = y[i] > tau ? y[i] - tau : 0.0;
        pos += y[i] > 0.0;
    }
    if (pos == 0) {
        /* Cannot happen in exact arithmetic (the largest entry exceeds tau); keep the
         * result on the simplex anyway. */
        int imax = 0;
        for (int i = 1; i < n; i++)
            if (y[i] > y[imax])
                imax = i;
        y[imax] = 1.0;
    }
}

static double fw_gap(int n, const double *x, const double *g)
{
    double dot = 0.0, mn = INFINITY;
    for (int i = 0; i < n; i++) {
        dot += g[i] * x[i];
        if (g[i] < mn)
            mn = g[i];
    }
    double gap = dot - mn;
    return gap > 0.0 ? gap : 0.0;
}

void mtb_simplex_minimize(int n, mtb_simplex_fn f, void *ctx, double *w, double *work,
                          int max_iter, double tol, mtb_simplex_result *res)
{
    double *x = work, *y = work + n, *gy = work + 2 * (size_t)n, *xn = work + 3 * (size_t)n,
           *gxn = work + 4 * (size_t)n;
    mtb_simplex_project(w, n);
    memcpy(x, w, (size_t)n * sizeof *x);
    memcpy(y, w, (size_t)n * sizeof *y);
    double fy = f(ctx, y, gy);
    double best_gap = fw_gap(n, y, gy), best_f = fy;
    res->iters = 0;
    res->converged = best_gap <= tol;
    if (res->converged || n == 1) {
        res->gap = best_gap;
        res->f = best_f;
        res->converged = 1;
        return;
    }
    /* First step size guess: one unit of the largest gradient entry moves w by O(1). */
    double gmax = 0.0;
    for (int i = 0; i < n; i++)
        gmax = fmax(gmax, fabs(gy[i]));
    double L = gmax > 0.0 ? gmax : 1.0;
    double t = 1.0;
    int it;
    for (it = 1; it <= max_iter; it++) {
        double fxn = 0.0;
        for (int bt = 0; bt < 200; bt++) {
            for (int i = 0; i < n; i++)
                xn[i] = y[i] - gy[i] / L;
            mtb_simplex_project(xn, n);
            fxn = f(ctx, xn, gxn);
            double lin = 0.0, sq = 0.0;
            for (int i = 0; i < n; i++) {
                double d = xn[i] - y[i];
                lin += gy[i] * d;
                sq += d * d;
            }
            /* Sufficient decrease, with a rounding allowance so that a converged iterate
             * is not rejected for differences at the level of machine precision. */
            double slack = 64.0 * DBL_EPSILON * (fabs(fy) + fabs(fxn));
            if (fxn <= fy + lin + 0.5 * L * sq + slack || L > 1e300)
                break;
            L *= 2.0;
        }
        double gap = fw_gap(n, xn, gxn);
        if (gap < best_gap) {
            best_gap = gap;
            best_f = fxn;
            memcpy(w, xn, (size_t)n * sizeof *w);
        }
        if (gap <= tol)
            break;
        /* Adaptive restart (gradient scheme): the momentum points uphill. */
        double up = 0.0;
        for (int i = 0; i < n; i++)
            up += (y[i] - xn[i]) * (xn[i] - x[i]);
        if (up > 0.0) {
            t = 1.0;
            memcpy(y, xn, (size_t)n * sizeof *y);
            memcpy(gy, gxn, (size_t)n * sizeof *gy);
            fy = fxn;
        } else {
            double tn = 0.5 * (1.0 + sqrt(1.0 + 4.0 * t * t));
            double mom = (t - 1.0) / tn;
            for (int i = 0; i < n; i++)
                y[i] = xn[i] + mom * (xn[i] - x[i]);
            t = tn;
            /* y may leave the simplex through the momentum term; the objectives used
             * here (quadratic forms, square roots of PSD forms) are defined everywhere. */
            fy = f(ctx, y, gy);
        }
        memcpy(x, xn, (size_t)n * sizeof *x);
        /* Let the step grow again after a backtracking phase. */
        L *= 0.8;
    }
    res->iters = it > max_iter ? max_iter : it;
    res->gap = best_gap;
    res->f = best_f;
    res->converged = best_gap <= tol;
}

double mtb_min_norm_2(double aa, double ab, double bb, int clamp_libmtl, double *cost)
{
    /* Sener & Koltun 2018, Algorithm 1: min_gamma |gamma a + (1 - gamma) b|^2. */
    if (ab >= aa) {
        *cost = aa;
        return clamp_libmtl ? 0.999 : 1.0;
    }
    if (ab >= bb) {
        *cost = bb;
        return clamp_libmtl ? 0.001 : 0.0;
    }
    /* Here ab < aa and ab < bb, so aa + bb - 2 ab > 0. */
    double gamma = (bb - ab) / (aa + bb - 2.0 * ab);
    *cost = bb + gamma * (ab - bb);
    return gamma;
}
