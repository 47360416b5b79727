/* golden_optimality.c: how far a weight vector is from the exact optimum of a solver
 * method's own problem at one golden step (golden.h, golden_opt_fn). The weights are in the
 * convention of LibMTL's returned vector (the problem LibMTL solves, with its constants), so
 * that mtb's weights (mapped by the entry's weights function) and LibMTL's are measured the
 * same way. Every measure is relative to the scale of the step's problem and is 0 at the
 * exact optimum:
 *
 *   MGDA (T >= 3)  min_{a in simplex} F(a) = a^T M a, M_ij = g_i.g_j / (n_i n_j) with
 *                  LibMTL's normalisers n (mgda_gn). Measure: the Frank-Wolfe gap
 *                  grad F(a).a - min_k grad F(a)_k, which bounds F(a) - min F from above for
 *                  a on the simplex (convexity), divided by max_k M_kk, plus the distance of a
 *                  from the simplex (|sum a - 1| + sum of negative parts). With T = 2 LibMTL's
 *                  closed form is deliberately clamped to [0.001, 0.999] and mtb reproduces it,
 *                  so the measure does not apply.
 *   CAGrad         min_{w in simplex} F(w) = w.b + c sqrt(w^T A w + 1e-8), A = G G^T,
 *                  b = A 1/T, c = calpha sqrt(mean(A) + 1e-8) + 1e-8, calpha = 0.5 (the
 *                  entry's c): CAGrad Alg. 1 with LibMTL's constants. Measure: Frank-Wolfe gap
 *                  (grad F = b + c A w / sqrt(w^T A w + 1e-8)) over max_k A_kk, plus the
 *                  distance from the simplex (LibMTL's SLSQP may return a point off it).
 *   FairGrad       A w = w^(-1/alpha), w > 0, alpha = 1 (the entry's alpha): the optimality
 *                  condition of FairGrad Sec. 4. Measure: max_t |A w - w^(-1/alpha)|_t over
 *                  max(|A w|_inf, |w^(-1/alpha)|_inf); infinite for a non-positive weight.
 *   UPGrad         w = sum_i v_i, v_i = argmin v^T M v s.t. v >= e_i / T with LibMTL's
 *                  M = G G^T / trace (0 below 1e-4) + 1e-4 I (Quinton & Rey, Prop. 1 with
 *                  TorchJD's regularisation). LibMTL returns only the sum w, so the T
 *                  problems are solved here exactly (every choice of active bounds, T <= 12:
 *                  the feasible stationary point of least objective is the unique minimiser
 *                  of the strictly convex problem), and the measure is |w - w*|_inf / |w*|_inf.
 *
 * Nash-MTL has the same kind of condition (Eq. (3), FairGrad's alpha = 1 equation on
 * LibMTL's normalised Gram matrix) but no fixture: LibMTL's version needs cvxpy, which the
 * reference machine lacks (LIBMTL-FORMULAS.md), so there is no entry to attach it to. */
#include <math.h>
#include <string.h>

#include "golden.h"

#define OPT_MAX_T 64     /* the Gram-based measures: T x T work arrays on the stack */
#define UPGRAD_MAX_T 12  /* 2^T active sets per problem */

static void gram(const golden_step *s, double *A)
{
    const int T = s->T;
    const size_t D = s->D;
    for (int i = 0; i < T; i++)
        for (int j = 0; j <= i; j++) {
            double acc = 0.0;
            for (size_t c = 0; c < D; c++)
                acc += s->G[(size_t)i * D + c] * s->G[(size_t)j * D + c];
            A[i * T + j] = A[j * T + i] = acc;
        }
}

/* |sum w - 1| + sum_t max(0, -w_t): 0 exactly on the simplex. */
static double simplex_distance(const double *w, int T)
{
    double sum = 0.0, neg = 0.0;
    for (int t = 0; t < T; t++) {
        sum += w[t];
        neg += fmax(0.0, -w[t]);
    }
    return fabs(sum - 1.0) + neg;
}

/* Frank-Wolfe gap of a convex function with gradient g at w: g.w - min_k g_k. */
static double fw_gap(const double *g, const double *w, int T)
{
    double gw = 0.0, mn = INFINITY;
    for (int t = 0; t < T; t++) {
        gw += g[t] * w[t];
        mn = fmin(mn, g[t]);
    }
    return gw - mn;
}

/* A non-finite weight is as far from any optimum as can be. */
static int nonfinite(const double *w, int T, double *measure)
{
    for (int t = 0; t < T; t++)
        if (!isfinite(w[t])) {
            *measure = INFINITY;
            return 1;
        }
    return 0;
}

static double max_diag(const double *A, int T)
{
    double m = 0.0;
    for (int t = 0; t < T; t++)
        m = fmax(m, A[t * T + t]);
    return m;
}

/* ---- MGDA ----------------------------------------------------------------------------- */

/* kind: 0 none, 1 l2, 2 loss, 3 loss+ (LibMTL's mgda_gn); a non-positive normaliser is 1,
 * as in mgda.c. */
static int mgda_measure(const golden_step *s, const double *a, int kind, double *measure)
{
    const int T = s->T;
    if (T < 3 || T > OPT_MAX_T)
        return -1;
    if (nonfinite(a, T, measure))
        return 0;
    double M[OPT_MAX_T * OPT_MAX_T], n[OPT_MAX_T], g[OPT_MAX_T];
    gram(s, M);
    for (int t = 0; t < T; t++) {
        double nt = kind == 0   ? 1.0
                    : kind == 1 ? sqrt(M[t * T + t])
                    : kind == 2 ? s->losses[t]
                                : s->losses[t] * sqrt(M[t * T + t]);
        n[t] = nt > 0.0 && isfinite(nt) ? nt : 1.0;
    }
    for (int i = 0; i < T; i++)
        for (int j = 0; j < T; j++)
            M[i * T + j] /= n[i] * n[j];
    for (int i = 0; i < T; i++) {
        double acc = 0.0;
        for (int j = 0; j < T; j++)
            acc += M[i * T + j] * a[j];
        g[i] = 2.0 * acc; /* grad of a^T M a */
    }
    double scale = max_diag(M, T);
    double gap = scale > 0.0 ? fw_gap(g, a, T) / scale : 0.0;
    *measure = fmax(gap, 0.0) + simplex_distance(a, T);
    return 0;
}

int golden_opt_mgda_none(const golden_step *s, const double *w, double *measure)
{
    return mgda_measure(s, w, 0, measure);
}
int golden_opt_mgda_l2(const golden_step *s, const double *w, double *measure)
{
    return mgda_measure(s, w, 1, measure);
}
int golden_opt_mgda_loss(const golden_step *s, const double *w, double *measure)
{
    return mgda_measure(s, w, 2, measure);
}
int golden_opt_mgda_lossplus(const golden_step *s, const double *w, double *measure)
{
    return mgda_measure(s, w, 3, measure);
}

/* ---- CAGrad ---------------------------------------------------------------------------- */

int golden_opt_cagrad(const golden_step *s, const double *w, double *measure)
{
    const int T = s->T;
    const double calpha = 0.5, eps = 1e-8; /* the entry's c=0.5,eps=1e-8 (LibMTL's) */
    if (T > OPT_MAX_T)
        return -1;
    if (nonfinite(w, T, measure))
        return 0;
    double A[OPT_MAX_T * OPT_MAX_T], b[OPT_MAX_T], Aw[OPT_MAX_T], g[OPT_MAX_T];
    gram(s, A);
    double meanA = 0.0, wAw = 0.0;
    for (int i = 0; i < T; i++) {
        b[i] = Aw[i] = 0.0;
        for (int j = 0; j < T; j++) {
            b[i] += A[i * T + j] / T;
            Aw[i] += A[i * T + j] * w[j];
            meanA += A[i * T + j];
        }
        wAw += w[i] * Aw[i];
    }
    meanA /= (double)T * T;
    double c = calpha * sqrt(meanA + eps) + eps;
    double r = sqrt(fmax(wAw, 0.0) + eps);
    for (int t = 0; t < T; t++)
        g[t] = b[t] + c * Aw[t] / r;
    double scale = max_diag(A, T);
    double gap = scale > 0.0 ? fw_gap(g, w, T) / scale : 0.0;
    *measure = fmax(gap, 0.0) + simplex_distance(w, T);
    return 0;
}

/* ---- FairGrad --------------------------------------------------------------------------- */

int golden_opt_fairgrad(const golden_step *s, const double *w, double *measure)
{
    const int T = s->T;
    const double alpha = 1.0; /* the entry's alpha=1 (LibMTL's FairGrad_alpha) */
    if (T > OPT_MAX_T)
        return -1;
    if (nonfinite(w, T, measure))
        return 0;
    double A[OPT_MAX_T * OPT_MAX_T];
    gram(s, A);
    double res = 0.0, big = 0.0;
    for (int i = 0; i < T; i++) {
        if (!(w[i] > 0.0)) {
            *measure = INFINITY;
            return 0;
        }
        double Aw = 0.0;
        for (int j = 0; j < T; j++)
            Aw += A[i * T + j] * w[j];
        double rhs = pow(w[i], -1.0 / alpha);
        res = fmax(res, fabs(Aw - rhs));
        big = fmax(big, fmax(fabs(Aw), rhs));
    }
    *measure = big > 0.0 ? res / big : res;
    return 0;
}

/* ---- UPGrad ----------------------------------------------------------------------------- */

/* Solves the n x n system A x = r in place (partial pivoting); -1 if singular. A is n x n
 * with leading dimension ld. */
static int solve_small(double *A, int n, int ld, double *r)
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

/* min v^T M v s.t. v >= u, exactly: for every set F of free coordinates (the others at their
 * bound), the stationary point M_FF v_F = -M_FB u_B; the feasible one of least objective. */
static void upgrad_qp(const double *M, int T, const double *u, double *v)
{
    double best = INFINITY, S[UPGRAD_MAX_T * UPGRAD_MAX_T], r[UPGRAD_MAX_T], cand[UPGRAD_MAX_T];
    int idx[UPGRAD_MAX_T];
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
                S[a * UPGRAD_MAX_T + b] = M[idx[a] * T + idx[b]];
        }
        if (n && solve_small(S, n, UPGRAD_MAX_T, r))
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

int golden_opt_upgrad(const golden_step *s, const double *w, double *measure)
{
    const int T = s->T;
    const double norm_eps = 1e-4, reg_eps = 1e-4; /* the entry's (LibMTL's) values */
    if (T > UPGRAD_MAX_T)
        return -1;
    if (nonfinite(w, T, measure))
        return 0;
    double M[UPGRAD_MAX_T * UPGRAD_MAX_T], u[UPGRAD_MAX_T], v[UPGRAD_MAX_T],
        ws[UPGRAD_MAX_T] = {0};
    gram(s, M);
    double tr = 0.0;
    for (int t = 0; t < T; t++)
        tr += M[t * T + t];
    for (int k = 0; k < T * T; k++)
        M[k] = tr < norm_eps ? 0.0 : M[k] / tr;
    for (int t = 0; t < T; t++)
        M[t * T + t] += reg_eps;
    for (int i = 0; i < T; i++) {
        for (int t = 0; t < T; t++)
            u[t] = t == i ? 1.0 / T : 0.0;
        upgrad_qp(M, T, u, v);
        for (int t = 0; t < T; t++)
            ws[t] += v[t];
    }
    double dist = 0.0, big = 0.0;
    for (int t = 0; t < T; t++) {
        dist = fmax(dist, fabs(w[t] - ws[t]));
        big = fmax(big, fabs(ws[t]));
    }
    *measure = big > 0.0 ? dist / big : dist;
    return 0;
}
