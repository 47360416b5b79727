/* oracle.h: the independent formulas the IMTL reproduction checks the library against
 * (spec imtl.md sec. 0), header-only so that the Criterion tests (tests/test_imtl_*.c) and
 * bin/repro-imtl use one oracle. None of these calls libmtb's balancers.
 *   imtl_alt_alpha    IMTL-G by the derived second formula: y solves (U U^T) y = 1, then
 *                     alpha_t = (y_t / |g_t|) / sum_s (y_s / |g_s|). (The equal-projection
 *                     vectors in span(G) are the multiples of w = U^T y = sum_t y_t/|g_t| g_t.)
 *   imtl_mgda_kkt     the min-norm point of the affine hull, [G G^T 1; 1^T 0][a; nu] = [0; 1]
 *                     (IMTL App. C.2 Eq. 30 written as its KKT system)
 *   imtl_pcgrad_alpha PCGrad as loss weights, App. C.3 with erratum I-E2: alpha = 1 (I + C N),
 *                     N = diag(1/|g_t|), C_t,tau = max(0, -(g_t + sum_earlier C u) . u_tau)
 *   imtl_combine      g = alpha G and the projections p_t = g . u_t
 * Work arrays are the caller's; every function is allocation-free. */
#ifndef IMTL_ORACLE_H
#define IMTL_ORACLE_H

#include <math.h>
#include <stddef.h>

static inline double imtl_dot(const double *x, const double *y, int n)
{
    double s = 0.0;
    for (int i = 0; i < n; i++)
        s += x[i] * y[i];
    return s;
}

/* Gaussian elimination with partial pivoting of the (n, n) row-major A (destroyed) on b
 * (the solution on return). -1 when a pivot is exactly zero or not finite. */
static inline int imtl_dense_solve(double *A, double *b, int n)
{
    for (int k = 0; k < n; k++) {
        int p = k;
        for (int i = k + 1; i < n; i++)
            if (fabs(A[i * n + k]) > fabs(A[p * n + k]))
                p = i;
        double piv = A[p * n + k];
        if (!(fabs(piv) > 0.0) || !isfinite(piv))
            return -1;
        if (p != k) {
            for (int j = 0; j < n; j++) {
                double t = A[k * n + j];
                A[k * n + j] = A[p * n + j];
                A[p * n + j] = t;
            }
            double t = b[k];
            b[k] = b[p];
            b[p] = t;
        }
        for (int i = k + 1; i < n; i++) {
            double f = A[i * n + k] / piv;
            for (int j = k; j < n; j++)
                A[i * n + j] -= f * A[k * n + j];
            b[i] -= f * b[k];
        }
    }
    for (int i = n - 1; i >= 0; i--) {
        double s = b[i];
        for (int j = i + 1; j < n; j++)
            s -= A[i * n + j] * b[j];
        b[i] = s / A[i * n + i];
    }
    return 0;
}

/* norms n[T] of the rows of G (T, d) */
static inline void imtl_row_norms(const double *G, int T, int d, double *n)
{
    for (int t = 0; t < T; t++)
        n[t] = sqrt(imtl_dot(G + (size_t)t * d, G + (size_t)t * d, d));
}

/* Second formula for IMTL-G (all |g_t| > 0). work: T (T + 1) doubles. -1 if U U^T is
 * singular or sum y/|g| = 0 (no normalisable equal-projection combination). */
static inline int imtl_alt_alpha(const double *G, int T, int d, double *alpha, double *work)
{
    double *C = work, *n = work + (size_t)T * T;
    imtl_row_norms(G, T, d, n);
    for (int a = 0; a < T; a++)
        for (int b = 0; b < T; b++)
            C[a * T + b] = imtl_dot(G + (size_t)a * d, G + (size_t)b * d, d) / (n[a] * n[b]);
    for (int t = 0; t < T; t++)
        alpha[t] = 1.0;
    if (imtl_dense_solve(C, alpha, T))
        return -1;
    double s = 0.0;
    for (int t = 0; t < T; t++) {
        alpha[t] /= n[t];
        s += alpha[t];
    }
    if (!(fabs(s) > 0.0))
        return -1;
    for (int t = 0; t < T; t++)
        alpha[t] /= s;
    return 0;
}

/* The KKT solution of min |alpha G|^2 s.t. sum alpha = 1. work: (T + 1)^2 + (T + 1). */
static inline int imtl_mgda_kkt(const double *G, int T, int d, double *alpha, double *work)
{
    int K = T + 1;
    double *A = work, *x = work + (size_t)K * K;
    for (int a = 0; a < T; a++) {
        for (int b = 0; b < T; b++)
            A[a * K + b] = imtl_dot(G + (size_t)a * d, G + (size_t)b * d, d);
        A[a * K + T] = 1.0;
        A[T * K + a] = 1.0;
        x[a] = 0.0;
    }
    A[T * K + T] = 0.0;
    x[T] = 1.0;
    if (imtl_dense_solve(A, x, K))
        return -1;
    for (int t = 0; t < T; t++)
        alpha[t] = x[t];
    return 0;
}

/* PCGrad's effective loss weights for given visiting orders: order[t * (T - 1) + k] is
 * the k-th task task t projects against. Works on the Gram matrix only: with
 * h = g_t + sum_{tau' earlier} C_t,tau' u_tau', h . u_tau = M_t,tau/n_tau +
 * sum C_t,tau' M_tau',tau / (n_tau' n_tau). work: 2 T + T^2 doubles. Zero gradients never
 * conflict. */
static inline void imtl_pcgrad_alpha(const double *G, int T, int d, const int *order,
                                     double *alpha, double *work)
{
    double *n = work, *c = work + T, *M = work + 2 * T;
    imtl_row_norms(G, T, d, n);
    for (int a = 0; a < T; a++)
        for (int b = 0; b < T; b++)
            M[a * T + b] = imtl_dot(G + (size_t)a * d, G + (size_t)b * d, d);
    for (int t = 0; t < T; t++)
        alpha[t] = 1.0;
    for (int t = 0; t < T; t++) {
        for (int k = 0; k < T; k++)
            c[k] = 0.0;
        for (int k = 0; k < T - 1; k++) {
            int tau = order[t * (T - 1) + k];
            if (!(n[tau] > 0.0))
                continue;
            double h = M[t * T + tau] / n[tau];
            for (int q = 0; q < T; q++)
                if (c[q] != 0.0)
                    h += c[q] * M[q * T + tau] / (n[q] * n[tau]);
            c[tau] = fmax(0.0, -h); /* erratum I-E2: the minus inside the ReLU */
        }
        for (int q = 0; q < T; q++)
            if (c[q] != 0.0)
                alpha[q] += c[q] / n[q];
    }
}

/* g = alpha G (d) and p_t = g . u_t (T; 0 for a zero gradient). */
static inline void imtl_combine(const double *G, int T, int d, const double *alpha, double *g,
                                double *p)
{
    for (int j = 0; j < d; j++) {
        double s = 0.0;
        for (int t = 0; t < T; t++)
            s += alpha[t] * G[(size_t)t * d + j];
        g[j] = s;
    }
    for (int t = 0; t < T; t++) {
        double nt = sqrt(imtl_dot(G + (size_t)t * d, G + (size_t)t * d, d));
        p[t] = nt > 0.0 ? imtl_dot(g, G + (size_t)t * d, d) / nt : 0.0;
    }
}

/* max_t |p_t - mean p| / |mean p| over the tasks with a direction */
static inline double imtl_proj_spread(const double *p, int T)
{
    double m = 0.0;
    for (int t = 0; t < T; t++)
        m += p[t] / T;
    double e = 0.0;
    for (int t = 0; t < T; t++)
        e = fmax(e, fabs(p[t] - m));
    return e / fabs(m);
}

#endif
