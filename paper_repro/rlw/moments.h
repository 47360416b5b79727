/* moments.h: the exact moments of the normalised RLW weights lambda~ that have a closed
 * form (rlw.md sec. 3, R1), header-only so that the sampler unit tests
 * (tests/test_rlw_sampler.c) and the R1 table of bin/repro-rlw use one oracle.
 * Notation: T tasks, lambda~ on the simplex (sum 1), mu = E[lambda~].
 *   exchangeable weights: Cov(lambda~) = tau (I - 1 1^T / T), tau = T Var(lambda~_1)/(T - 1),
 *   E||lambda~||^2 = sum_t E[lambda~_t^2] = T (Var_1 + mu_1^2). */
#ifndef RLW_MOMENTS_H
#define RLW_MOMENTS_H

#include <math.h>

/* Bernoulli(1/2) divided by its sum: given k >= 1 ones, lambda~ = e_S / k and
 * ||lambda~||^2 = 1/k. P(k) = C(T, k) / 2^T. With the all-zero draw redrawn the law is
 * conditioned on k >= 1 (divide by 2^T - 1); with the `zero` convention the k = 0 draw
 * contributes ||0||^2 = 0 (divide by 2^T). (rlw.md R1: 0.8333, 0.6905, 0.2291, 0.0514
 * for T = 2, 3, 10, 40 with redraw.) */
static inline double rlw_bern_sumsq(int T, int zero)
{
    double s = 0.0, c = 1.0; /* c = C(T, k), built in floating point (T <= 60 is exact enough) */
    for (int k = 1; k <= T; k++) {
        c = c * (T - k + 1) / k;
        s += c / k;
    }
    double n = ldexp(1.0, T);
    return s / (zero ? n : n - 1.0);
}

/* E[lambda~_t] for the Bernoulli: 1/T with redraw; (1 - 2^-T)/T with the zero convention
 * (erratum E9). */
static inline double rlw_bern_mean(int T, int zero) { return zero ? (1.0 - ldexp(1.0, -T)) / T : 1.0 / T; }

/* Dirichlet(1, ..., 1) used as it is (TMLR's f = identity): Var(lambda~_1) =
 * (T - 1)/(T^2 (T + 1)), E||lambda~||^2 = 2/(T + 1) (moments of the flat Dirichlet). */
static inline double rlw_dirid_var(int T) { return (double)(T - 1) / ((double)T * T * (T + 1)); }
static inline double rlw_dirid_sumsq(int T) { return 2.0 / (T + 1); }

/* Constrained Bernoulli: lambda~ = e_j, j uniform: Var(lambda~_1) = (T - 1)/T^2,
 * E||lambda~||^2 = 1, tau = 1/T. */
static inline double rlw_cbern_var(int T) { return (double)(T - 1) / ((double)T * T); }

/* rho_Adam = 1 / sqrt(T E||lambda~||^2): a head's steady-state Adam step under RLW relative
 * to EW's (rlw.md R1). */
static inline double rlw_rho_adam(int T, double sumsq) { return 1.0 / sqrt(T * sumsq); }

#endif
