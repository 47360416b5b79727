/* grad_sets.c: the gradient sets of the IMTL reproduction (spec imtl.md sec. 1): no
 * network, only task-gradient matrices G (T, d), row t = g_t, on which the single-step
 * identities of IMTL-G, MGDA and PCGrad are checked.
 *   GE(T, d, r)   g_t = r b + n_t, b and n_t ~ N(0, I_d) (one b per draw), then row t
 *                 scaled by exp(U(-3, 3)): correlated tasks with norms over e^+-3.
 *   EA(T, C1)     unit vectors with Gram (1 - C1) I + C1 1 1^T (the rows of its Cholesky
 *                 factor, padded with zeros to d, then rotated by a random orthogonal
 *                 matrix, Q of the QR of a Gaussian matrix), norms exp(U(ln 1e-3, ln 1e3)):
 *                 the equal-angle condition of IMTL Theorem 1.
 *   Fig-1 A/B     d = 3, u_t = (sin 50 cos phi_t, sin 50 sin phi_t, cos 50),
 *                 phi = (0, 70, 160) degrees, norms (2, 3, 1) (A) or (0.5, 1, 3) (B).
 * Everything is deterministic given the caller's stream. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mtb/synth.h"

mtb_status mtb_synth_ge(mtb_rng *rng, int T, int d, double r, double *G, double *work,
                        mtb_error *err)
{
    if (T < 1 || d < 1)
        return mtb_fail(err, MTB_EINVAL, "GE: needs T >= 1 and d >= 1, got T = %d, d = %d", T, d);
    double *b = work;
    for (int j = 0; j < d; j++)
        b[j] = mtb_rng_normal(rng);
    for (int t = 0; t < T; t++) {
        double *g = G + (size_t)t * d;
        for (int j = 0; j < d; j++)
            g[j] = r * b[j] + mtb_rng_normal(rng);
        double s = exp(-3.0 + 6.0 * mtb_rng_uniform(rng));
        for (int j = 0; j < d; j++)
            g[j] *= s;
    }
    return MTB_OK;
}

int mtb_synth_ea_valid(int T, double C1)
{
    /* eigenvalues of (1 - C1) I + C1 1 1^T: 1 - C1 (T - 1 times) and 1 + (T - 1) C1 */
    return T >= 1 && C1 < 1.0 && 1.0 + (T - 1) * C1 > 0.0;
}

/* Householder QR of the (d, d) Gaussian A (row-major) applied to the rows of X (T, d):
 * x <- x Q^T with Q orthogonal; the reflections are applied as they are built. */
static void rotate_rows(mtb_rng *rng, int T, int d, double *X, double *A, double *v)
{
    for (size_t i = 0; i < (size_t)d * d; i++)
        A[i] = mtb_rng_normal(rng);
    for (int k = 0; k < d; k++) {
        double nrm = 0.0;
        for (int i = k; i < d; i++)
            nrm += A[(size_t)i * d + k] * A[(size_t)i * d + k];
        nrm = sqrt(nrm);
        if (!(nrm > 0.0))
            continue;
        double a0 = A[(size_t)k * d + k];
        double alpha = a0 > 0 ? -nrm : nrm;
        for (int i = 0; i < d; i++)
            v[i] = i < k ? 0.0 : A[(size_t)i * d + k];
        v[k] -= alpha;
        double vv = 0.0;
        for (int i = k; i < d; i++)
            vv += v[i] * v[i];
        if (!(vv > 0.0))
            continue;
        /* H = I - 2 v v^T / v.v: on the remaining columns of A, and on the rows of X */
        for (int j = k; j < d; j++) {
            double s = 0.0;
            for (int i = k; i < d; i++)
                s += v[i] * A[(size_t)i * d + j];
            s *= 2.0 / vv;
            for (int i = k; i < d; i++)
                A[(size_t)i * d + j] -= s * v[i];
        }
        for (int t = 0; t < T; t++) {
            double *x = X + (size_t)t * d, s = 0.0;
            for (int i = k; i < d; i++)
                s += v[i] * x[i];
            s *= 2.0 / vv;
            for (int i = k; i < d; i++)
                x[i] -= s * v[i];
        }
    }
}

mtb_status mtb_synth_ea(mtb_rng *rng, int T, double C1, int d, double *G, double *work,
                        mtb_error *err)
{
    if (!mtb_synth_ea_valid(T, C1))
        return mtb_fail(err, MTB_EINVAL,
                        "EA: the Gram (1 - C1) I + C1 11^T is not positive definite for T = %d, "
                        "C1 = %g (need -1/(T-1) < C1 < 1)", T, C1);
    if (d < T)
        return mtb_fail(err, MTB_EINVAL, "EA: d = %d must be >= T = %d", d, T);
    /* Cholesky L of the Gram, row t of L = u_t in the first T coordinates */
    memset(G, 0, sizeof(double) * (size_t)T * d);
    for (int j = 0; j < T; j++) {
        double s = 1.0;
        for (int k = 0; k < j; k++)
            s -= G[(size_t)j * d + k] * G[(size_t)j * d + k];
        double ljj = sqrt(fmax(s, 0.0));
        G[(size_t)j * d + j] = ljj;
        for (int i = j + 1; i < T; i++) {
            double a = C1;
            for (int k = 0; k < j; k++)
                a -= G[(size_t)i * d + k] * G[(size_t)j * d + k];
            G[(size_t)i * d + j] = a / ljj;
        }
    }
    rotate_rows(rng, T, d, G, work, work + (size_t)d * d);
    for (int t = 0; t < T; t++) {
        double s = exp(log(1e-3) + (log(1e3) - log(1e-3)) * mtb_rng_uniform(rng));
        for (int j = 0; j < d; j++)
            G[(size_t)t * d + j] *= s;
    }
    return MTB_OK;
}

void mtb_synth_fig1(int config_b, double *G)
{
    static const double phi[3] = {0.0, 70.0, 160.0};
    static const double na[3] = {2.0, 3.0, 1.0}, nb[3] = {0.5, 1.0, 3.0};
    const double deg = acos(-1.0) / 180.0, th = 50.0 * deg;
    for (int t = 0; t < 3; t++) {
        double n = config_b ? nb[t] : na[t];
        G[3 * t + 0] = n * sin(th) * cos(phi[t] * deg);
        G[3 * t + 1] = n * sin(th) * sin(phi[t] * deg);
        G[3 * t + 2] = n * cos(th);
    }
}
