/* upgrad.c: UPGrad, unconflicting projection of gradients.
 * Quinton & Rey, "Jacobian Descent for Multi-Objective Optimization", arXiv:2406.16232
 * (2024; not in /work/shared/papers; Sec. 4 Eq. (3) and Proposition 1; official code
 * TorchJD, whose weighting LibMTL copies).
 *
 * Each task gradient g_i = J^T e_i is projected onto the dual cone of the gradients,
 * {x : J x >= 0} (directions that conflict with no task), and the projections are
 * averaged with preference weights u (default 1/T):
 *   A_UPGrad(J) = sum_i u_i pi_J(J^T e_i)                                         [Eq. (3)]
 * Proposition 1: pi_J(J^T u) = J^T v with v the solution of the QP
 *   min_v v^T M v   s.t.  v >= u,   M = J J^T                                      [Prop. 1]
 * so d = J^T w with w = sum_i v_i, v_i solving the QP for u = u_i e_i. Properties the paper
 * proves: d is non-conflicting (g_t . d >= 0 for all t), linear under scaling of the rows,
 * a combination of the rows; when no pair of gradients conflicts (M >= 0 entrywise) every
 * g_i is already in the dual cone and d is the mean gradient.
 *
 * Numerics of the official code (hparams): M is divided by its trace (0 if the trace is
 * below norm_eps = 1e-4) and reg_eps I (1e-4) is added, so the QPs are strictly convex;
 * both change w by O(reg_eps) and make the non-conflict property hold up to
 * reg_eps |v|. Setting both to 0 solves Prop. 1 exactly (M must then be positive definite
 * for the exact solver; a singular M goes to the iterative solver).
 *
 * QP solver (quadprog in the reference): with v = b + x, b = u_i e_i, each QP is the
 * nonnegative quadratic program min 1/2 x^T M x + c^T x, x >= 0, c = M b.
 *   exact (T <= exact_max_T, default 64): Lawson-Hanson active-set method on the Gram
 *     matrix: add the most negative gradient coordinate to the passive set, solve the
 *     passive equality system by Cholesky (LAPACK dpotrf), step back to feasibility when a
 *     passive coordinate would turn <= 0. Finite for positive-definite M; exact to
 *     rounding; worst case O(T^4) per QP.
 *   iterative (larger T, or when a Cholesky factorisation fails): projected Gauss-Seidel
 *     (coordinate descent with clamping), from x = 0, until the KKT residual
 *     max_j |min(x_j, (M x + c)_j)| <= 1e-12 (M scaled to trace 1) or max_sweeps sweeps;
 *     O(T^2) per sweep and QP, so O(T^3) per sweep for all T QPs (T = 1024: ~1e9 flops).
 *
 * head_w = 1 (the reference sets the shared gradient only); trunk_w = w. */
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gram_input.h"
#include "internal.h"
#include "mtb/balancer.h"

enum { HP_NORM_EPS, HP_REG_EPS, HP_EXACT_MAX_T, HP_MAX_SWEEPS, HP_N };

static const mtb_hparam_def upgrad_hparams[HP_N] = {
    [HP_NORM_EPS] = {"norm_eps", MTB_HP_REAL, 1e-4, 0.0, 1e300, NULL,
                     "M = G G^T / trace, or 0 when the trace is below this (TorchJD, LibMTL 1e-4)"},
    [HP_REG_EPS] = {"reg_eps", MTB_HP_REAL, 1e-4, 0.0, 1.0, NULL,
                    "added to the diagonal of the normalised M (TorchJD, LibMTL 1e-4; 0: Prop. 1 "
                    "exactly)"},
    [HP_EXACT_MAX_T] = {"exact_max_T", MTB_HP_INT, 64, 0, 1e6, NULL,
                        "largest T solved by the exact active-set method; above it projected "
                        "Gauss-Seidel"},
    [HP_MAX_SWEEPS] = {"max_sweeps", MTB_HP_INT, 10000, 1, 1e9, NULL,
                       "sweep cap of the iterative solver (it stops on its KKT residual first)"},
};

#define UP_KKT_TOL 1e-12

typedef struct upgrad_state {
    int T;
    double norm_eps, reg_eps;
    int exact_max_T, max_sweeps;
    double *M;      /* (T, T) normalised, regularised Gram matrix */
    double *x;      /* (T) QP variable */
    double *z;      /* (T) passive-set solution */
    double *q;      /* (T) gradient M x + c */
    double *c;      /* (T) */
    double *L;      /* (T, T) Cholesky workspace */
    int *pas;       /* (T) passive flags */
    int *idx;       /* (T) passive indices */
    double *w;      /* (T) */
} upgrad_state;

static void upgrad_fini(void *vs)
{
    upgrad_state *s = vs;
    free(s->M);
    free(s->x);
    free(s->z);
    free(s->q);
    free(s->c);
    free(s->L);
    free(s->pas);
    free(s->idx);
    free(s->w);
    memset(s, 0, sizeof *s);
}

static mtb_status upgrad_init(void *vs, int T, size_t D_max, const mtb_hparams *hp,
                              mtb_balancer_setup *setup, mtb_error *err)
{
    (void)D_max;
    upgrad_state *s = vs;
    s->T = T;
    s->norm_eps = hp->v[HP_NORM_EPS];
    s->reg_eps = hp->v[HP_REG_EPS];
    s->exact_max_T = (int)hp->v[HP_EXACT_MAX_T];
    s->max_sweeps = (int)hp->v[HP_MAX_SWEEPS];
    setup->need = MTB_NEED_PARAM_GRADS;
    setup->scope = MTB_SCOPE_ALL;
    setup->gram_ok = 1; /* the method reads G only through G G^T */
    size_t t = (size_t)T;
    int exact = T <= s->exact_max_T;
    s->M = malloc(t * t * sizeof *s->M);
    s->x = malloc(t * sizeof *s->x);
    s->z = malloc(t * sizeof *s->z);
    s->q = malloc(t * sizeof *s->q);
    s->c = malloc(t * sizeof *s->c);
    s->L = malloc((exact ? t * t : 1) * sizeof *s->L);
    s->pas = malloc(t * sizeof *s->pas);
    s->idx = malloc(t * sizeof *s->idx);
    s->w = malloc(t * sizeof *s->w);
    if (!s->M || !s->x || !s->z || !s->q || !s->c || !s->L || !s->pas || !s->idx || !s->w) {
        upgrad_fini(s);
        return mtb_fail(err, MTB_ENOMEM, "method upgrad: cannot allocate the state for %d tasks", T);
    }
    return MTB_OK;
}

/* q = M x + c */
static void grad_q(const upgrad_state *s, const double *x, double *q)
{
    int T = s->T;
    for (int i = 0; i < T; i++) {
        const double *Mi = s->M + (size_t)i * T;
        double v = s->c[i];
        for (int j = 0; j < T; j++)
            v += Mi[j] * x[j];
        q[i] = v;
    }
}

static double kkt_residual(const upgrad_state *s, const double *x, const double *q)
{
    double r = 0.0;
    for (int j = 0; j < s->T; j++)
        r = fmax(r, fabs(fmin(x[j], q[j])));
    return r;
}

/* Projected Gauss-Seidel from the current x; returns the final KKT residual. */
static double solve_cd(upgrad_state *s)
{
    int T = s->T;
    double *x = s->x, *q = s->q;
    grad_q(s, x, q);
    double res = kkt_residual(s, x, q);
    for (int sweep = 0; sweep < s->max_sweeps && res > UP_KKT_TOL; sweep++) {
        for (int j = 0; j < T; j++) {
            const double *Mj = s->M + (size_t)j * T;
            double g = s->c[j];
            for (int k = 0; k < T; k++)
                g += Mj[k] * x[k];
            double mjj = Mj[j];
            double nx = mjj > 0.0 ? fmax(0.0, x[j] - g / mjj) : (g < 0.0 ? x[j] : 0.0);
            x[j] = nx;
        }
        grad_q(s, x, q);
        res = kkt_residual(s, x, q);
    }
    return res;
}

/* Solves M_PP z_P = -c_P for the passive set; returns 0, or -1 if Cholesky fails. */
static int passive_solve(upgrad_state *s, int np)
{
    int T = s->T;
    for (int a = 0; a < np; a++) {
        for (int b = 0; b < np; b++)
            s->L[(size_t)a * np + b] = s->M[(size_t)s->idx[a] * T + s->idx[b]];
        s->z[a] = -s->c[s->idx[a]];
    }
    if (LAPACKE_dpotrf_work(LAPACK_COL_MAJOR, 'U', np, s->L, np) != 0)
        return -1;
    if (LAPACKE_dpotrs_work(LAPACK_COL_MAJOR, 'U', np, 1, s->L, np, s->z, np) != 0)
        return -1;
    return 0;
}

/* Lawson-Hanson active set for min 1/2 x^T M x + c^T x, x >= 0, from x = 0.
 * Returns 0 on success, -1 when it must hand over to the iterative solver. */
static int solve_exact(upgrad_state *s)
{
    int T = s->T;
    double *x = s->x, *q = s->q;
    memset(s->pas, 0, (size_t)T * sizeof *s->pas);
    for (int outer = 0; outer < 3 * T + 3; outer++) {
        grad_q(s, x, q);
        int j = -1;
        double best = -1e-15;
        for (int k = 0; k < T; k++)
            if (!s->pas[k] && q[k] < best) {
                best = q[k];
                j = k;
            }
        if (j < 0)
            return 0;
        s->pas[j] = 1;
        for (int inner = 0; inner <= T; inner++) {
            int np = 0;
            for (int k = 0; k < T; k++)
                if (s->pas[k])
                    s->idx[np++] = k;
            if (passive_solve(s, np) != 0)
                return -1;
            int ok = 1;
            for (int a = 0; a < np; a++)
                ok &= s->z[a] > 0.0;
            if (ok) {
                for (int a = 0; a < np; a++)
                    x[s->idx[a]] = s->z[a];
                break;
            }
            /* step from x towards z until the first passive coordinate hits 0; that one
             * (and any other that reaches 0) leaves the passive set */
            double step = 1.0;
            int kmin = -1;
            for (int a = 0; a < np; a++) {
                double xa = x[s->idx[a]];
                if (s->z[a] <= 0.0) {
                    double st = xa - s->z[a] > 0.0 ? xa / (xa - s->z[a]) : 0.0;
                    if (st < step || kmin < 0) {
                        step = st;
                        kmin = s->idx[a];
                    }
                }
            }
            for (int a = 0; a < np; a++) {
                int k = s->idx[a];
                x[k] += step * (s->z[a] - x[k]);
                if (k == kmin || x[k] <= 0.0) {
                    x[k] = 0.0;
                    s->pas[k] = 0;
                }
            }
        }
    }
    return -1;
}

static mtb_status upgrad_step(void *vs, const mtb_balance_in *in, mtb_balance_out *out,
                              mtb_error *err)
{
    upgrad_state *s = vs;
    int T = s->T;
    mtb_bal_gram_of(in, s->M); /* G G^T, or given on the Gram path */
    double tr = 0.0;
    for (int t = 0; t < T; t++)
        tr += s->M[(size_t)t * T + t];
    double f = tr < s->norm_eps || !(tr > 0.0) ? 0.0 : 1.0 / tr;
    for (size_t i = 0; i < (size_t)T * T; i++)
        s->M[i] *= f;
    for (int t = 0; t < T; t++)
        s->M[(size_t)t * T + t] += s->reg_eps;
    mtb_bal_fill(s->w, T, 0.0);
    for (int i = 0; i < T; i++) {
        /* [Prop. 1] v_i = argmin v^T M v, v >= e_i / T; v = b + x, c = M b */
        double bi = 1.0 / T;
        for (int j = 0; j < T; j++)
            s->c[j] = s->M[(size_t)j * T + i] * bi;
        mtb_bal_fill(s->x, T, 0.0);
        if (!(T <= s->exact_max_T && solve_exact(s) == 0))
            solve_cd(s); /* from the active-set iterate when it gave up, else from 0 */
        for (int j = 0; j < T; j++)
            s->w[j] += s->x[j];
        s->w[i] += bi;
    }
    (void)err;
    for (int t = 0; t < T; t++) {
        out->head_w[t] = 1.0;
        out->trunk_w[t] = s->w[t];
    }
    return MTB_OK;
}

const mtb_balancer_type mtb_balancer_upgrad = {
    .name = "upgrad",
    .summary = "average of the task gradients projected onto the non-conflicting dual cone",
    .cite = "Quinton & Rey, Jacobian Descent for Multi-Objective Optimization, arXiv 2024",
    .hparams = upgrad_hparams,
    .n_hparams = HP_N,
    .state_size = sizeof(upgrad_state),
    .init = upgrad_init,
    .step = upgrad_step,
    .fini = upgrad_fini,
};
