/* simplex.h: convex minimisation over the probability simplex, shared by the gradient
 * methods that solve a small T-dimensional subproblem every step (MGDA's min-norm point,
 * CAGrad's inner problem). Internal to libmtb; every routine is allocation-free: the
 * caller passes the workspace it allocated in init(). */
#ifndef MTB_BALANCERS_SIMPLEX_H
#define MTB_BALANCERS_SIMPLEX_H

#include <stddef.h>

/* Euclidean projection of y (n entries) onto {x >= 0, sum x = 1}, in place.
 * Michelot's algorithm (1986): tau = (sum_{y_i > tau} y_i - 1) / #{y_i > tau}, iterated
 * from the full set; tau never decreases and the active set only shrinks, so it ends
 * after at most n passes with the exact threshold. x_i = max(y_i - tau, 0). */
void mtb_simplex_project(double *y, int n);

/* Objective callback: returns f(w) and writes its gradient (n entries) into grad. */
typedef double (*mtb_simplex_fn)(void *ctx, const double *w, double *grad);

typedef struct mtb_simplex_result {
    int iters;     /* iterations run */
    double gap;    /* Frank-Wolfe gap grad(w).w - min_i grad(w)_i at the returned w: an upper
                      bound on f(w) - min f for convex f */
    double f;      /* f at the returned w */
    int converged; /* gap <= tol was reached */
} mtb_simplex_result;

/* Minimises a convex, differentiable f over the simplex by accelerated projected gradient
 * (FISTA, Beck & Teboulle 2009) with backtracking on the step size and the gradient-based
 * adaptive restart of O'Donoghue & Candes (2015).
 * Stopping rule: the Frank-Wolfe gap at the current iterate is <= tol, or max_iter
 * iterations. The returned w is the iterate with the smallest gap seen.
 * w: (n) start point on input (projected first), minimiser on output.
 * work: 6 n doubles. */
void mtb_simplex_minimize(int n, mtb_simplex_fn f, void *ctx, double *w, double *work,
                          int max_iter, double tol, mtb_simplex_result *res);

/* Minimum-norm point of the segment between two points a, b given their Gram entries
 * aa = a.a, ab = a.b, bb = b.b (Sener & Koltun 2018, Algorithm 1): returns gamma in [0, 1]
 * minimising |gamma a + (1 - gamma) b|^2 and stores that squared norm in *cost.
 * clamp_libmtl = 1 reproduces the official code / LibMTL, which return 0.999 or 0.001
 * instead of 1 or 0 at the ends. */
double mtb_min_norm_2(double aa, double ab, double bb, int clamp_libmtl, double *cost);

#endif
