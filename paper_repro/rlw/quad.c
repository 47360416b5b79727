/* quad.c: the strongly convex quadratic problem Q(d, T, rho, s) of rlw.md R2 and the exact
 * stationary error of constant-step random-weighted SGD on it.
 *   l_t(theta) = 1/2 (theta - a_t)^T A_t (theta - a_t),  A_t = Q_t diag(e) Q_t^T,
 *   Q_t Haar-orthogonal (QR of a Gaussian matrix, columns sign-fixed by diag R > 0),
 *   e log-spaced on [emin, emax] (c_t = emin, M_t = emax), a_t = a_0 + rho z_t,
 *   a_0, z_t ~ N(0, I_d); stochastic gradient A_t (theta - a_t) + xi_t, xi_t ~ N(0, s^2/d I).
 *   theta* minimises mu^T l: (sum mu_t A_t) theta* = sum mu_t A_t a_t. */
#include "rlw.h"

#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void quad_make(quad *q, int d, int T, double rho, double s, double emin, double emax,
               unsigned long long seed, const double *mu)
{
    memset(q, 0, sizeof *q);
    q->d = d, q->T = T, q->rho = rho, q->s = s;
    size_t dd = (size_t)d * (size_t)d;
    q->A = calloc((size_t)T * dd, sizeof(double));
    q->a = calloc((size_t)T * (size_t)d, sizeof(double));
    q->theta_star = calloc((size_t)d, sizeof(double));
    q->mu = calloc((size_t)T, sizeof(double));
    double *M = calloc(dd, sizeof(double)), *tau = calloc((size_t)d, sizeof(double)),
           *H = calloc(dd, sizeof(double)), *rhs = calloc((size_t)d, sizeof(double)),
           *a0 = calloc((size_t)d, sizeof(double)), *e = calloc((size_t)d, sizeof(double));
    int *piv = calloc((size_t)d, sizeof(int));
    if (!q->A || !q->a || !q->theta_star || !q->mu || !M || !tau || !H || !rhs || !a0 || !e || !piv)
        die("out of memory");
    memcpy(q->mu, mu, sizeof(double) * (size_t)T);
    mtb_rng r;
    mtb_rng_seed(&r, seed, 0);
    for (int i = 0; i < d; i++)
        e[i] = d > 1 ? emin * pow(emax / emin, (double)i / (d - 1)) : emin;
    for (int i = 0; i < d; i++)
        a0[i] = mtb_rng_normal(&r);
    for (int t = 0; t < T; t++) {
        for (size_t i = 0; i < dd; i++)
            M[i] = mtb_rng_normal(&r);
        /* Haar orthogonal: Q of the QR of a Gaussian matrix, column j times sign(R_jj) */
        if (LAPACKE_dgeqrf(LAPACK_ROW_MAJOR, d, d, M, d, tau))
            die("dgeqrf failed");
        double sgn[64];
        for (int j = 0; j < d; j++)
            sgn[j] = M[j * d + j] < 0 ? -1.0 : 1.0;
        if (LAPACKE_dorgqr(LAPACK_ROW_MAJOR, d, d, d, M, d, tau))
            die("dorgqr failed");
        double *A = q->A + (size_t)t * dd;
        for (int i = 0; i < d; i++)
            for (int j = 0; j < d; j++) {
                double v = 0.0;
                for (int k = 0; k < d; k++)
                    v += M[i * d + k] * sgn[k] * e[k] * M[j * d + k] * sgn[k];
                A[i * d + j] = v;
            }
        for (int i = 0; i < d; i++)
            q->a[t * d + i] = a0[i] + rho * mtb_rng_normal(&r);
    }
    /* H = sum mu_t A_t, rhs = sum mu_t A_t a_t, theta* = H^-1 rhs */
    for (int t = 0; t < T; t++) {
        const double *A = q->A + (size_t)t * dd;
        for (int i = 0; i < d; i++)
            for (int j = 0; j < d; j++) {
                H[i * d + j] += mu[t] * A[i * d + j];
                rhs[i] += mu[t] * A[i * d + j] * q->a[t * d + j];
            }
    }
    memcpy(M, H, dd * sizeof(double));
    memcpy(q->theta_star, rhs, (size_t)d * sizeof(double));
    if (LAPACKE_dgesv(LAPACK_ROW_MAJOR, d, 1, M, d, piv, q->theta_star, 1))
        die("dgesv failed (theta*)");
    /* extreme eigenvalues of H (dsyev) */
    memcpy(M, H, dd * sizeof(double));
    if (LAPACKE_dsyev(LAPACK_ROW_MAJOR, 'N', 'U', d, M, d, e))
        die("dsyev failed");
    q->c_mu = e[0], q->L = e[d - 1];
    free(M), free(tau), free(H), free(rhs), free(a0), free(e), free(piv);
}

void quad_free(quad *q)
{
    free(q->A), free(q->a), free(q->theta_star), free(q->mu);
    memset(q, 0, sizeof *q);
}

void quad_task_grads(const quad *q, const double *theta, double *g)
{
    int d = q->d;
    for (int t = 0; t < q->T; t++) {
        const double *A = q->A + (size_t)t * d * d, *a = q->a + (size_t)t * d;
        for (int i = 0; i < d; i++) {
            double v = 0.0;
            for (int j = 0; j < d; j++)
                v += A[i * d + j] * (theta[j] - a[j]);
            g[t * d + i] = v;
        }
    }
}

/* rlw.md R2: with e_k = theta_k - theta*, H = sum lambda~_t A_t, v_t = A_t (theta* - a_t)
 * (sum mu_t v_t = 0 at theta*), b = sum (lambda~_t - mu_t) v_t, noise n = sum lambda~_t xi_t:
 *   e_{k+1} = (I - eta H) e_k - eta b - eta n,
 * lambda~ independent of e_k and E e_k -> 0, so the stationary P = E[e e^T] solves
 *   P = E[(I - eta H) P (I - eta H)] + eta^2 (E[b b^T] + sum_t C_tt (s^2/d) I), i.e.
 *   eta (Hbar P + P Hbar) - eta^2 sum_{t,u} C_tu A_t P A_u = eta^2 (sum_{t,u} (C_tu - mu_t mu_u)
 *        v_t v_u^T + sum_t C_tt (s^2/d) I),
 * with vec(A_t P A_u) = (A_u kron A_t) vec(P) (A symmetric; row-major vec of P is the same
 * identity with the roles swapped, and the sum over (t, u) is symmetric). P_inf = tr P.
 * mu is the weights' mean (1/T; (1 - 2^-T)/T for bernoulli-zero): sum mu_t v_t = 0 for any
 * mu proportional to 1. */
double quad_p_inf(const quad *q, double eta, const double *mu, const double *C)
{
    int d = q->d, T = q->T, n = d * d;
    size_t dd = (size_t)n;
    double *K = calloc(dd * dd, sizeof(double)), *rhs = calloc(dd, sizeof(double)),
           *Hb = calloc(dd, sizeof(double)), *v = calloc((size_t)T * d, sizeof(double));
    int *piv = calloc(dd, sizeof(int));
    if (!K || !rhs || !Hb || !v || !piv)
        die("out of memory");
    quad_task_grads(q, q->theta_star, v); /* v_t = A_t (theta* - a_t) */
    for (int t = 0; t < T; t++)
        for (int i = 0; i < n; i++)
            Hb[i] += mu[t] * q->A[(size_t)t * dd + i];
    /* row index (i, j) of P, column (k, l) */
    for (int i = 0; i < d; i++)
        for (int j = 0; j < d; j++) {
            size_t row = (size_t)(i * d + j);
            /* eta (Hbar P + P Hbar)_{ij} = eta (sum_k Hb_ik P_kj + sum_l P_il Hb_lj) */
            for (int k = 0; k < d; k++) {
                K[row * dd + (size_t)(k * d + j)] += eta * Hb[i * d + k];
                K[row * dd + (size_t)(i * d + k)] += eta * Hb[k * d + j];
            }
            /* - eta^2 sum_tu C_tu (A_t P A_u)_{ij} = - eta^2 sum_tu C_tu sum_kl A_t,ik P_kl A_u,lj */
            for (int t = 0; t < T; t++)
                for (int u = 0; u < T; u++) {
                    double c = eta * eta * C[t * T + u];
                    if (c == 0.0)
                        continue;
                    const double *At = q->A + (size_t)t * dd, *Au = q->A + (size_t)u * dd;
                    for (int k = 0; k < d; k++)
                        for (int l = 0; l < d; l++)
                            K[row * dd + (size_t)(k * d + l)] -= c * At[i * d + k] * Au[l * d + j];
                }
            double r = 0.0;
            for (int t = 0; t < T; t++)
                for (int u = 0; u < T; u++)
                    r += (C[t * T + u] - mu[t] * mu[u]) * v[t * d + i] * v[u * d + j];
            if (i == j)
                for (int t = 0; t < T; t++)
                    r += C[t * T + t] * q->s * q->s / d;
            rhs[row] = eta * eta * r;
        }
    if (LAPACKE_dgesv(LAPACK_ROW_MAJOR, n, 1, K, n, piv, rhs, 1))
        die("dgesv failed (P-infinity)");
    double tr = 0.0;
    for (int i = 0; i < d; i++)
        tr += rhs[i * d + i];
    free(K), free(rhs), free(Hb), free(v), free(piv);
    return tr;
}
