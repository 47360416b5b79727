/* golden_reference.c: the runner's independent solvers (golden_reference.h). None of them is
 * the algorithm mtb's method uses: MGDA and CAGrad are solved by accelerated projected
 * gradient (mtb: Frank-Wolfe / an active-set solve), the alpha = 1 equation by coordinate
 * descent and a plain Newton polish (mtb: alpha_fair.c's damped Newton on a different
 * parametrisation), UPGrad's QPs by enumeration or coordinate descent. */
#include "golden_reference.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void golden_gram(const double *G, int T, size_t D, double *A)
{
    for (int i = 0; i < T; i++)
        for (int j = 0; j <= i; j++) {
            double acc = 0.0;
            for (size_t c = 0; c < D; c++)
                acc += G[(size_t)i * D + c] * G[(size_t)j * D + c];
            A[i * T + j] = A[j * T + i] = acc;
        }
}

int golden_solve_small(double *A, int n, int ld, double *r)
{
    for (int k = 0; k < n; k++) {
        int p = k;
        for (int i = k + 1; i < n; i++)
            if (fabs(A[i * ld + k]) > fabs(A[p * ld + k]))
                p = i;
        if (!(fabs(A[p * ld + k]) > 0.0))
            return -1;
        if (p != k) {
            for (int j = 0; j < n; j++) {
                double t = A[k * ld + j];
                A[k * ld + j] = A[p * ld + j];
                A[p * ld + j] = t;
            }
            double t = r[k];
            r[k] = r[p];
            r[p] = t;
        }
        for (int i = k + 1; i < n; i++) {
            double f = A[i * ld + k] / A[k * ld + k];
            for (int j = k; j < n; j++)
                A[i * ld + j] -= f * A[k * ld + j];
            r[i] -= f * r[k];
        }
    }
    for (int k = n - 1; k >= 0; k--) {
        double acc = r[k];
        for (int j = k + 1; j < n; j++)
            acc -= A[k * ld + j] * r[j];
        r[k] = acc / A[k * ld + k];
    }
    return 0;
}

/* ---- the simplex problems (MGDA, CAGrad) -------------------------------------------- */

static int cmp_desc(const void *pa, const void *pb)
{
    double a = *(const double *)pa, b = *(const double *)pb;
    return (a < b) - (a > b);
}

/* Held, Wolfe & Crowder's sort-based projection: x = max(y - theta, 0) with the largest k
 * such that the k-th largest y exceeds theta_k = (sum of the k largest - 1) / k. */
void golden_simplex_project(const double *y, int T, double *x, double *tmp)
{
    memcpy(tmp, y, (size_t)T * sizeof *tmp);
    qsort(tmp, (size_t)T, sizeof *tmp, cmp_desc);
    double cum = 0.0, theta = (tmp[0] - 1.0);
    for (int k = 0; k < T; k++) {
        cum += tmp[k];
        double th = (cum - 1.0) / (k + 1);
        if (tmp[k] - th > 0.0)
            theta = th;
    }
    for (int t = 0; t < T; t++)
        x[t] = fmax(y[t] - theta, 0.0);
}

double golden_simplex_value(const golden_simplex_problem *p, const double *w, double *grad,
                            double *Aw)
{
    const int T = p->T;
    double wAw = 0.0, wb = 0.0;
    for (int i = 0; i < T; i++) {
        double acc = 0.0;
        for (int j = 0; j < T; j++)
            acc += p->A[i * T + j] * w[j];
        Aw[i] = acc;
        wAw += w[i] * acc;
        if (p->b)
            wb += w[i] * p->b[i];
    }
    double r = sqrt(fmax(wAw, 0.0) + p->eps);
    if (grad)
        for (int t = 0; t < T; t++)
            grad[t] = 2.0 * p->c2 * Aw[t] + (p->b ? p->b[t] : 0.0) +
                      (p->c > 0.0 ? p->c * Aw[t] / r : 0.0);
    return p->c2 * wAw + wb + (p->c > 0.0 ? p->c * r : 0.0);
}

double golden_fw_gap(const double *grad, const double *w, int T)
{
    double gw = 0.0, mn = INFINITY;
    for (int t = 0; t < T; t++) {
        gw += grad[t] * w[t];
        mn = fmin(mn, grad[t]);
    }
    return gw - mn;
}

double golden_simplex_solve(const golden_simplex_problem *p, double gap_stop, int max_iter,
                            double *x, double *work)
{
    const int T = p->T;
    double *y = work, *g = y + T, *z = g + T, *Aw = z + T, *tmp = Aw + T, *step = tmp + T;
    double L = 0.0;
    for (int t = 0; t < T; t++) {
        x[t] = y[t] = 1.0 / T;
        L = fmax(L, p->A[t * T + t]);
    }
    if (!(L > 0.0))
        L = 1.0;
    double fx = golden_simplex_value(p, x, NULL, Aw), tk = 1.0;
    int restarted = 0;
    for (int it = 0; it < max_iter; it++) {
        double fy = golden_simplex_value(p, y, g, Aw), fz = 0.0;
        for (int bt = 0; bt < 200; bt++) { /* backtracking: the quadratic bound must hold */
            for (int t = 0; t < T; t++)
                step[t] = y[t] - g[t] / L;
            golden_simplex_project(step, T, z, tmp);
            fz = golden_simplex_value(p, z, NULL, Aw);
            double q = fy;
            for (int t = 0; t < T; t++) {
                double d = z[t] - y[t];
                q += g[t] * d + 0.5 * L * d * d;
            }
            if (fz <= q + 1e-15 * (fabs(fy) + fabs(fz)))
                break;
            L *= 2.0;
        }
        if (fz > fx) { /* function-value restart: drop the momentum, step from x */
            if (restarted)
                break; /* no descent from x itself: F is minimal to rounding (the iterate may
                          be less accurate along flat directions; its FW gap says how much) */
            restarted = 1;
            tk = 1.0;
            memcpy(y, x, (size_t)T * sizeof *y);
            continue;
        }
        restarted = 0;
        double tn = 0.5 * (1.0 + sqrt(1.0 + 4.0 * tk * tk));
        for (int t = 0; t < T; t++)
            y[t] = z[t] + (tk - 1.0) / tn * (z[t] - x[t]);
        memcpy(x, z, (size_t)T * sizeof *x);
        fx = fz;
        tk = tn;
        L *= 0.9; /* let the Lipschitz estimate fall again where the curvature is lower */
        if (it % 16 == 15) {
            golden_simplex_value(p, x, g, Aw);
            if (golden_fw_gap(g, x, T) <= gap_stop)
                break;
        }
    }
    golden_simplex_value(p, x, g, Aw);
    return golden_fw_gap(g, x, T);
}

/* ---- the alpha = 1 equation (FairGrad, Nash-MTL) ------------------------------------ */

double golden_alpha1_value(const double *A, int T, const double *a)
{
    double q = 0.0, lg = 0.0;
    for (int i = 0; i < T; i++) {
        if (!(a[i] > 0.0))
            return INFINITY;
        double acc = 0.0;
        for (int j = 0; j < T; j++)
            acc += A[i * T + j] * a[j];
        q += a[i] * acc;
        lg += log(a[i]);
    }
    return 0.5 * q - lg;
}

/* max_t |A a - 1/a|_t / max(|A a|_inf, |1/a|_inf); g (T) receives A a - 1/a. */
static double alpha1_residual(const double *A, int T, const double *a, double *g)
{
    double res = 0.0, big = 0.0;
    for (int i = 0; i < T; i++) {
        double acc = 0.0;
        for (int j = 0; j < T; j++)
            acc += A[i * T + j] * a[j];
        g[i] = acc - 1.0 / a[i];
        res = fmax(res, fabs(g[i]));
        big = fmax(big, fmax(fabs(acc), 1.0 / a[i]));
    }
    return big > 0.0 && isfinite(res) ? res / big : INFINITY;
}

double golden_alpha1_solve(const double *A, int T, double *a, double *work)
{
    double *H = work, *g = H + (size_t)T * T, *dl = g + T, *trial = dl + T;
    for (int t = 0; t < T; t++) {
        if (!(A[t * T + t] > 0.0) || !isfinite(A[t * T + t]))
            return INFINITY;
        a[t] = 1.0 / sqrt(A[t * T + t]); /* the solution when the gradients are orthogonal */
    }
    /* coordinate descent: the root of A_ii a_i^2 + b_i a_i - 1 = 0, b_i = sum_{j!=i} A_ij a_j */
    for (int sweep = 0; sweep < 200; sweep++)
        for (int i = 0; i < T; i++) {
            double b = 0.0, aii = A[i * T + i];
            for (int j = 0; j < T; j++)
                if (j != i)
                    b += A[i * T + j] * a[j];
            double sq = sqrt(b * b + 4.0 * aii);
            a[i] = b >= 0.0 ? 2.0 / (b + sq) : (sq - b) / (2.0 * aii);
        }
    /* Newton on f (Hessian A + diag(1/a^2)), halving into a > 0 and a sufficient decrease */
    double res = alpha1_residual(A, T, a, g);
    for (int it = 0; it < 100 && res > 1e-15 && isfinite(res); it++) {
        for (int i = 0; i < T; i++) {
            for (int j = 0; j < T; j++)
                H[i * T + j] = A[i * T + j];
            H[i * T + i] += 1.0 / (a[i] * a[i]);
            dl[i] = -g[i];
        }
        if (golden_solve_small(H, T, T, dl))
            break;
        double f0 = golden_alpha1_value(A, T, a), slope = 0.0, s = 1.0;
        for (int i = 0; i < T; i++)
            slope += g[i] * dl[i];
        int moved = 0;
        for (int k = 0; k < 60 && !moved; k++, s *= 0.5) {
            for (int i = 0; i < T; i++)
                trial[i] = a[i] + s * dl[i];
            double f1 = golden_alpha1_value(A, T, trial);
            if (f1 <= f0 + 1e-4 * s * slope || (isfinite(f1) && f1 <= f0 && k > 40))
                moved = 1;
        }
        if (!moved)
            break; /* no decrease left at double precision */
        memcpy(a, trial, (size_t)T * sizeof *a);
        res = alpha1_residual(A, T, a, g);
    }
    return res;
}

/* ---- UPGrad's projection QPs --------------------------------------------------------- */

/* Every set F of free coordinates (the others at their bound): the stationary point
 * M_FF v_F = -M_FB u_B; the feasible one of least objective is the unique minimiser. */
static void upgrad_enumerate(const double *M, int T, const double *u, double *v, double *S,
                             double *r, double *cand, int *idx)
{
    double best = INFINITY;
    memcpy(v, u, (size_t)T * sizeof *v);
    for (unsigned mask = 0; mask < (1u << T); mask++) {
        int n = 0;
        for (int t = 0; t < T; t++)
            if (mask >> t & 1u)
                idx[n++] = t;
        for (int a = 0; a < n; a++) {
            double acc = 0.0;
            for (int t = 0; t < T; t++)
                if (!(mask >> t & 1u))
                    acc -= M[idx[a] * T + t] * u[t];
            r[a] = acc;
            for (int b = 0; b < n; b++)
                S[a * T + b] = M[idx[a] * T + idx[b]];
        }
        if (n && golden_solve_small(S, n, T, r))
            continue;
        memcpy(cand, u, (size_t)T * sizeof *cand);
        int feasible = 1;
        for (int a = 0; a < n && feasible; a++) {
            cand[idx[a]] = r[a];
            feasible = r[a] >= u[idx[a]];
        }
        if (!feasible)
            continue;
        double obj = 0.0;
        for (int i = 0; i < T; i++)
            for (int j = 0; j < T; j++)
                obj += cand[i] * M[i * T + j] * cand[j];
        if (obj < best) {
            best = obj;
            memcpy(v, cand, (size_t)T * sizeof *v);
        }
    }
}

int golden_upgrad_qp(const double *M, int T, const double *u, double *v, double *work,
                     int *iwork)
{
    double *S = work, *r = S + (size_t)T * T, *cand = r + T, *Mv = cand + T;
    if (T <= GOLDEN_UPGRAD_ENUM_T) {
        upgrad_enumerate(M, T, u, v, S, r, cand, iwork);
        return 0;
    }
    /* coordinate descent, v_i = max(u_i, v_i - (M v)_i / M_ii), keeping M v up to date */
    double scale = 0.0;
    memcpy(v, u, (size_t)T * sizeof *v);
    for (int i = 0; i < T; i++) {
        double acc = 0.0;
        for (int j = 0; j < T; j++)
            acc += M[i * T + j] * v[j];
        Mv[i] = acc;
        scale = fmax(scale, M[i * T + i]);
    }
    for (int sweep = 0; sweep < 5000; sweep++) {
        double change = 0.0, big = 0.0;
        for (int i = 0; i < T; i++) {
            double nv = fmax(u[i], v[i] - Mv[i] / M[i * T + i]), dv = nv - v[i];
            if (dv != 0.0)
                for (int j = 0; j < T; j++)
                    Mv[j] += M[j * T + i] * dv;
            v[i] = nv;
            change = fmax(change, fabs(dv));
            big = fmax(big, fabs(nv));
        }
        if (change <= 1e-16 * big)
            break;
    }
    /* the active set found, solved exactly and checked (free: v > u; bound: (M v) >= 0) */
    int n = 0;
    for (int t = 0; t < T; t++)
        if (v[t] > u[t])
            iwork[n++] = t;
    memcpy(cand, u, (size_t)T * sizeof *cand);
    for (int a = 0; a < n; a++) {
        double acc = 0.0;
        for (int t = 0; t < T; t++)
            if (!(v[t] > u[t]))
                acc -= M[iwork[a] * T + t] * u[t];
        r[a] = acc;
        for (int b = 0; b < n; b++)
            S[a * T + b] = M[iwork[a] * T + iwork[b]];
    }
    if (n && golden_solve_small(S, n, T, r))
        return -1;
    for (int a = 0; a < n; a++) {
        if (!(r[a] >= u[iwork[a]]))
            return -1;
        cand[iwork[a]] = r[a];
    }
    double vmax = 0.0;
    for (int t = 0; t < T; t++)
        vmax = fmax(vmax, fabs(cand[t]));
    for (int i = 0; i < T; i++) {
        double acc = 0.0;
        for (int j = 0; j < T; j++)
            acc += M[i * T + j] * cand[j];
        if (acc < -1e-12 * scale * vmax)
            return -1;
    }
    memcpy(v, cand, (size_t)T * sizeof *v);
    return 0;
}
