/* alpha_fair.c: positive solution of A w = w^{-1/alpha} (see alpha_fair.h).
 *
 * The condition is the stationarity condition of the strictly convex potential
 *   f(w) = 1/2 w^T A w - sum_t h(w_t),   h(w) = log w (alpha = 1),
 *                                        h(w) = w^p / p, p = 1 - 1/alpha (alpha != 1),
 * on w > 0: grad f = A w - w^{-1/alpha}, Hessian H = A + diag(w^{-1/alpha-1} / alpha),
 * positive definite for A positive semidefinite (h is strictly concave). So the solution
 * is unique when it exists, and Newton's method on f converges to it from any w > 0 when
 * damped by a backtracking (Armijo) line search that keeps w > 0 (fraction to the
 * boundary 0.99); near the solution it takes full steps and converges quadratically.
 * For alpha = 1 (Nash-MTL) f is self-concordant, the textbook setting of damped Newton
 * (Boyd & Vandenberghe, Convex Optimization, Sec. 9.6). This replaces the sequence of
 * convex programs of Nash-MTL (cvxpy/ECOS) and FairGrad's SciPy least_squares: all solve
 * the same equation.
 *
 * Scaling: with s = mean diag(A) the solve runs on A' = A / s (+ ridge I), whose solution
 * w' gives w = w' s^{-alpha/(1+alpha)} (A w = s^{1/(1+alpha)} A' w' = w^{-1/alpha}); the
 * start is the diagonal solution w'_t = A'_tt^{-alpha/(1+alpha)} (exact when the
 * gradients are orthogonal).
 *
 * Existence: f is unbounded below, and the iterates diverge, when A v = 0 for some v >= 0,
 * v != 0 (a zero gradient, opposite gradients, 0 in the interior of the cone of the
 * gradients: typical when T > D). The solver detects this (an entry of w' above 1e12, or
 * no convergence in max_iter iterations) and, if allowed, solves the regularised problem
 * (A' + fallback_ridge I) w' = w'^{-1/alpha}, which always has a solution (f is then
 * coercive); such a task then gets a large but finite weight on a zero or cancelling
 * direction.
 *
 * Stopping rule: the relative residual max_t |(A' w')_t - w'_t^{-1/alpha}| / w'_t^{-1/alpha}
 * is <= max(1e-13, its rounding level 8 eps max_t sum_j |A'_tj| w'_j / w'_t^{-1/alpha})
 * ((A' w')_t cancels when gradients are nearly collinear), or it stagnates: a full Newton
 * step no longer halves it while it is <= max(1e-6, 10 x the rounding level); a rounding
 * level above 1e-4 (diverging iterates) never counts as convergence. Cost: one T x T
 * Cholesky factorisation (LAPACK dpotrf) per iteration, typically 5-30 iterations. */
#include "alpha_fair.h"

#include <cblas.h>
#include <float.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define AF_TOL 1e-13
#define AF_STAGNATE 1e-6
/* w' (scaled problem: mean diagonal 1) beyond this means A' is numerically singular along a
 * nonnegative direction: with cond(A') <= 1/eps a solution has w' <~ 1/sqrt(eps * ...) ~ 1e8 */
#define AF_HUGE 1e12
/* a rounding level above this is no longer a solution worth the name */
#define AF_FLOOR_MAX 1e-4
/* rounding level of (A' w)_t: a few ulps of sum_j |A'_tj| w_j */
#define AF_FLOOR (8.0 * DBL_EPSILON)

mtb_status mtb_afair_init(mtb_afair_ws *ws, int T, const char *method, mtb_error *err)
{
    memset(ws, 0, sizeof *ws);
    ws->T = T;
    size_t t = (size_t)T;
    ws->A = malloc(t * t * sizeof *ws->A);
    ws->H = malloc(t * t * sizeof *ws->H);
    ws->r = malloc(t * sizeof *ws->r);
    ws->dw = malloc(t * sizeof *ws->dw);
    ws->wt = malloc(t * sizeof *ws->wt);
    ws->Aw = malloc(t * sizeof *ws->Aw);
    if (!ws->A || !ws->H || !ws->r || !ws->dw || !ws->wt || !ws->Aw) {
        mtb_afair_free(ws);
        return mtb_fail(err, MTB_ENOMEM, "method %s: cannot allocate the solver for %d tasks",
                        method, T);
    }
    return MTB_OK;
}

void mtb_afair_free(mtb_afair_ws *ws)
{
    free(ws->A);
    free(ws->H);
    free(ws->r);
    free(ws->dw);
    free(ws->wt);
    free(ws->Aw);
    memset(ws, 0, sizeof *ws);
}

/* w^{-1/alpha} */
static double ipow(double w, double alpha)
{
    return alpha == 1.0 ? 1.0 / w : pow(w, -1.0 / alpha);
}

/* f(w) = 1/2 w^T A w - sum h(w); Aw (T) receives A w. */
static double potential(const mtb_afair_ws *ws, const double *w, double alpha, double *Aw)
{
    int T = ws->T;
    cblas_dsymv(CblasRowMajor, CblasUpper, T, 1.0, ws->A, T, w, 1, 0.0, Aw, 1);
    double q = 0.0, h = 0.0, p = 1.0 - 1.0 / alpha;
    for (int t = 0; t < T; t++) {
        q += w[t] * Aw[t];
        h += alpha == 1.0 ? log(w[t]) : pow(w[t], p) / p;
    }
    return 0.5 * q - h;
}

/* One solve of A' w = w^{-1/alpha} on ws->A (already scaled and regularised).
 * Returns 1 converged, 0 not converged, -1 diverged. */
static int newton(mtb_afair_ws *ws, double alpha, int max_iter, double *w, int *iters,
                  double *resid)
{
    int T = ws->T;
    for (int t = 0; t < T; t++) {
        double a = ws->A[(size_t)t * T + t];
        w[t] = a > 0.0 ? pow(a, -alpha / (1.0 + alpha)) : 1.0;
    }
    double f = potential(ws, w, alpha, ws->Aw);
    double prev = INFINITY;
    int full_prev = 0;
    for (int it = 0;; it++) {
        double res = 0.0, floor = 0.0;
        for (int t = 0; t < T; t++) {
            double u = ipow(w[t], alpha), mag = 0.0;
            ws->r[t] = ws->Aw[t] - u;
            res = fmax(res, fabs(ws->r[t]) / u);
            for (int j = 0; j < T; j++)
                mag += fabs(ws->A[(size_t)t * T + j]) * w[j];
            floor = fmax(floor, AF_FLOOR * mag / u);
        }
        *iters = it;
        *resid = res;
        if (floor <= AF_FLOOR_MAX &&
            (res <= fmax(AF_TOL, floor) ||
             (full_prev && res <= fmax(AF_STAGNATE, 10.0 * floor) && res > 0.5 * prev)))
            return 1;
        if (it >= max_iter)
            return 0;
        prev = res;
        /* H = A' + diag(w^{-1/alpha-1} / alpha); solve H dw = -r (Cholesky). */
        memcpy(ws->H, ws->A, (size_t)T * T * sizeof *ws->H);
        for (int t = 0; t < T; t++) {
            ws->H[(size_t)t * T + t] += ipow(w[t], alpha) / (alpha * w[t]);
            ws->dw[t] = -ws->r[t];
        }
        lapack_int info = LAPACKE_dpotrf_work(LAPACK_COL_MAJOR, 'U', T, ws->H, T);
        if (info == 0)
            info = LAPACKE_dpotrs_work(LAPACK_COL_MAJOR, 'U', T, 1, ws->H, T, ws->dw, T);
        if (info != 0)
            return 0; /* H is positive definite in exact arithmetic; rounding broke it */
        double dec = 0.0, tmax = INFINITY;
        for (int t = 0; t < T; t++) {
            dec -= ws->r[t] * ws->dw[t];
            if (ws->dw[t] < 0.0)
                tmax = fmin(tmax, -w[t] / ws->dw[t]);
        }
        double step = tmax <= 1.0 ? 0.99 * tmax : 1.0;
        /* Damped phase: Armijo on f. Once the Newton decrement is small, full steps. */
        double ft = f;
        for (int k = 0; k < 80; k++) {
            for (int t = 0; t < T; t++)
                ws->wt[t] = w[t] + step * ws->dw[t];
            ft = potential(ws, ws->wt, alpha, ws->Aw);
            if (dec < 1e-6 || ft <= f - 0.25 * step * dec)
                break;
            step *= 0.5;
        }
        full_prev = step == 1.0;
        memcpy(w, ws->wt, (size_t)T * sizeof *w);
        f = ft;
        double wmax = 0.0;
        for (int t = 0; t < T; t++)
            wmax = fmax(wmax, w[t]);
        if (!(wmax <= AF_HUGE) || !isfinite(f))
            return -1;
    }
}

mtb_status mtb_afair_solve(mtb_afair_ws *ws, const double *A, double alpha, double ridge,
                           double fallback_ridge, int max_iter, double *w, mtb_afair_result *res,
                           const char *method, mtb_error *err)
{
    int T = ws->T;
    memset(res, 0, sizeof *res);
    double s = 0.0;
    for (int t = 0; t < T; t++)
        s += A[(size_t)t * T + t];
    s /= T;
    if (!(s > 0.0)) {
        for (int t = 0; t < T; t++)
            w[t] = 0.0;
        res->fallback = 1;
        return MTB_OK;
    }
    double ridges[2] = {ridge, fallback_ridge};
    int n_try = fallback_ridge > ridge ? 2 : 1;
    int st = 0;
    for (int k = 0; k < n_try; k++) {
        for (size_t i = 0; i < (size_t)T * T; i++)
            ws->A[i] = A[i] / s;
        for (int t = 0; t < T; t++)
            ws->A[(size_t)t * T + t] += ridges[k];
        st = newton(ws, alpha, max_iter, w, &res->iters, &res->resid);
        res->ridge = ridges[k];
        res->fallback = k > 0;
        if (st == 1)
            break;
    }
    if (st != 1)
        return mtb_fail(err, MTB_ENUMERIC,
                        "method %s: Newton's method for A w = w^(-1/%g) did not converge in %d "
                        "iterations (relative residual %.3g, ridge %g); raise max_iter or ridge",
                        method, alpha, max_iter, res->resid, res->ridge);
    double f = pow(s, -alpha / (1.0 + alpha));
    for (int t = 0; t < T; t++)
        w[t] *= f;
    return MTB_OK;
}
