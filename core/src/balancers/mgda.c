/* mgda.c: MGDA, the min-norm point in the convex hull of the task gradients.
 * Sener & Koltun, "Multi-Task Learning as Multi-Objective Optimization", NeurIPS 2018
 * (arXiv:1810.04650 v2; that paper is not in /work/shared/papers, numbering from memory of
 * the arXiv version: Sec. 3.1 Eq. (3), Algorithm 1, Algorithm 2, Sec. 3.3 MGDA-UB).
 *
 *   min_{a in simplex} | sum_t a_t g_t |^2                                   [Sec. 3.1, Eq. (3)]
 *
 * The common descent direction is d = sum_t a_t g_t; the trunk is updated with the loss
 * weights a (trunk_w = a), the heads with their own unweighted gradients (head_w = 1,
 * Algorithm 2: task-specific parameters take plain gradient steps).
 *
 * Solvers (hparam `solver`), all on the Gram matrix M = G G^T (cblas_dgemm):
 *   frank_wolfe  the paper's Algorithm 2: a = 1/T; repeat: r = argmin_r (M a)_r, exact line
 *                search between a and e_r by the two-point rule of Algorithm 1, a <- (1-g) a
 *                + g e_r; (M a) is updated in O(T). Stops when the L1 change of a is below
 *                `tol` (the official code's STOP_CRIT 1e-5) or after `max_iter` (its
 *                MAX_ITER 250) iterations. T = 2: Algorithm 1 directly (exact).
 *   exact        the same problem solved to a certificate: accelerated projected gradient
 *                (simplex.c) until the Frank-Wolfe gap |d|^2 - min_t g_t.d is below
 *                1e-13 max_t |g_t|^2 (or `exact_iter` iterations), then the KKT system of the
 *                support, [M_SS 1; 1^T 0][a_S; -mu] = [0; 1], is solved with LAPACK and kept
 *                if it is feasible and its gap is no larger. Since (M a)_t = g_t.d and
 *                a^T M a = |d|^2, a zero gap is exactly MGDA's optimality condition
 *                g_t.d >= |d|^2 for all t, with equality on the support.
 *   closed_form  the unconstrained min-norm point of the affine hull (no a >= 0),
 *                Liu et al., "Towards Impartial Multi-task Learning", ICLR 2021,
 *                Appendix C.2, Eq. (30): a_{2:T} = g_1 D^T (D D^T)^+, a_1 = 1 - sum a_{2:T},
 *                D = [g_1 - g_2; ...; g_1 - g_T]. (D D^T)_{ab} = M_11 - M_1a - M_1b + M_ab and
 *                (g_1 D^T)_a = M_11 - M_1a; the pseudo-inverse (LAPACK dsyev, eigenvalues
 *                below T eps lambda_max dropped) gives the affine hull's min-norm point also
 *                when D D^T is singular (T > D + 1, parallel gradients). Weights may be < 0.
 *   libmtl       LibMTL's / the official code's solver, for the golden vectors: start from
 *                the best pair (two-point rule clamped to 0.999 / 0.001), then projected-
 *                gradient steps (step to the simplex boundary along the centred negative
 *                gradient, Euclidean projection) with the clamped two-point line search;
 *                stop when the L1 change is below `tol` and return the iterate BEFORE that
 *                change; at most `max_iter` iterations (LibMTL's loop never increments its
 *                counter, so LibMTL itself has no cap).
 *
 * Gradient normalisation (hparam `normalize`, official code / LibMTL `mgda_gn`): the solver
 * runs on g^_t = g_t / n_t with n_t = 1 (none), |g_t| (l2), l_t (loss) or l_t |g_t| (loss+),
 * i.e. on M^_ij = M_ij / (n_i n_j). A zero or non-positive n_t (zero gradient, loss 0) is
 * replaced by 1 (LibMTL would divide by zero). `apply_to`: the official Sener-Koltun code
 * weights the raw losses with a (trunk_w = a: "raw", default); LibMTL applies a to the
 * normalised gradients (trunk_w = a / n: "normalized").
 *
 * Level (hparam `level`): `params` = gradients of all shared parameters; `rep` = gradients
 * w.r.t. the shared representation z, i.e. MGDA-UB (Sec. 3.3, Eq. (7)): the same solver on
 * the representation gradients, the weights applied to the losses.
 *
 * Deviation from LibMTL beyond the options: its best-pair search starts from cost 1e8 and
 * crashes when every pair costs more (gradient norms above ~1e4); here the search starts
 * from +inf. */
#include <cblas.h>
#include <float.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gram_input.h"
#include "internal.h"
#include "mtb/balancer.h"
#include "simplex.h"

enum { HP_NORMALIZE, HP_SOLVER, HP_APPLY_TO, HP_LEVEL, HP_MAX_ITER, HP_TOL, HP_EXACT_ITER, HP_N };
enum { NORM_NONE, NORM_L2, NORM_LOSS, NORM_LOSSPLUS };
enum { SOLVER_FW, SOLVER_EXACT, SOLVER_CLOSED, SOLVER_LIBMTL };

static const mtb_hparam_def mgda_hparams[HP_N] = {
    [HP_NORMALIZE] = {"normalize", MTB_HP_CHOICE, NORM_NONE, 0, 0, "none|l2|loss|loss+",
                      "gradient normalisation before the solver (paper: none; official code and "
                      "LibMTL option mgda_gn)"},
    [HP_SOLVER] = {"solver", MTB_HP_CHOICE, SOLVER_FW, 0, 0, "frank_wolfe|exact|closed_form|libmtl",
                   "frank_wolfe = paper Alg. 2; exact = certified projected gradient + KKT; "
                   "closed_form = IMTL App. C.2 Eq. 30 (no a >= 0); libmtl = LibMTL's solver"},
    [HP_APPLY_TO] = {"apply_to", MTB_HP_CHOICE, 0, 0, 0, "raw|normalized",
                     "weights multiply the raw gradients (official code) or the normalised ones "
                     "(LibMTL)"},
    [HP_LEVEL] = {"level", MTB_HP_CHOICE, 0, 0, 0, "params|rep",
                  "gradients of the shared parameters, or of the representation (MGDA-UB, "
                  "Sec. 3.3)"},
    [HP_MAX_ITER] = {"max_iter", MTB_HP_INT, 250, 1, 1e7, NULL,
                     "frank_wolfe/libmtl iteration cap (official code MAX_ITER = 250)"},
    [HP_TOL] = {"tol", MTB_HP_REAL, 1e-5, 0, 1, NULL,
                "frank_wolfe/libmtl stop when the L1 change of the weights is below this "
                "(official code STOP_CRIT = 1e-5)"},
    [HP_EXACT_ITER] = {"exact_iter", MTB_HP_INT, 20000, 1, 1e8, NULL,
                       "iteration cap of the exact solver (it normally stops on its gap "
                       "certificate first)"},
};

typedef struct mgda_state {
    int T;
    int normalize, solver, apply_to, max_iter, exact_iter;
    double tol;
    double *M;     /* (T, T) normalised Gram matrix */
    double *n;     /* (T) normalisers */
    double *a;     /* (T) weights on the simplex */
    double *Ma;    /* (T) M a */
    double *p;     /* (T) scratch: next point (libmtl), KKT solution */
    double *Mp;    /* (T) M p */
    double *work;  /* (6 T) projected-gradient workspace */
    double *kkt;   /* ((T+1)^2) KKT matrix (exact) / (T-1)^2 eigenvectors (closed form) */
    double *rhs;   /* (T+1) */
    double *eig;   /* (T) eigenvalues */
    double *lwork; /* dsyev workspace */
    int nlwork;
    lapack_int *ipiv; /* (T+1) */
    int *sup;         /* (T) support indices (exact) */
} mgda_state;

static void mgda_fini(void *vs)
{
    mgda_state *s = vs;
    free(s->M);
    free(s->n);
    free(s->a);
    free(s->Ma);
    free(s->p);
    free(s->Mp);
    free(s->work);
    free(s->kkt);
    free(s->rhs);
    free(s->eig);
    free(s->lwork);
    free(s->ipiv);
    free(s->sup);
    memset(s, 0, sizeof *s);
}

static mtb_status mgda_init(void *vs, int T, size_t D_max, const mtb_hparams *hp,
                            mtb_balancer_setup *setup, mtb_error *err)
{
    (void)D_max;
    mgda_state *s = vs;
    s->T = T;
    s->normalize = (int)hp->v[HP_NORMALIZE];
    s->solver = (int)hp->v[HP_SOLVER];
    s->apply_to = (int)hp->v[HP_APPLY_TO];
    s->max_iter = (int)hp->v[HP_MAX_ITER];
    s->exact_iter = (int)hp->v[HP_EXACT_ITER];
    s->tol = hp->v[HP_TOL];
    setup->need = hp->v[HP_LEVEL] == 1 ? MTB_NEED_REP_GRADS : MTB_NEED_PARAM_GRADS;
    setup->scope = MTB_SCOPE_ALL;
    /* every solver reads the gradients only through M = G G^T (rep level: the trainer's
     * Gram path is parameter-level only) */
    setup->gram_ok = setup->need == MTB_NEED_PARAM_GRADS;
    size_t t = (size_t)T, t1 = t + 1;
    s->M = malloc(t * t * sizeof *s->M);
    s->n = malloc(t * sizeof *s->n);
    s->a = malloc(t * sizeof *s->a);
    s->Ma = malloc(t * sizeof *s->Ma);
    s->p = malloc(t1 * sizeof *s->p);
    s->Mp = malloc(t * sizeof *s->Mp);
    s->work = malloc(6 * t * sizeof *s->work);
    s->kkt = malloc(t1 * t1 * sizeof *s->kkt);
    s->rhs = malloc(t1 * sizeof *s->rhs);
    s->eig = malloc(t * sizeof *s->eig);
    s->ipiv = malloc(t1 * sizeof *s->ipiv);
    s->sup = malloc(t * sizeof *s->sup);
    if (!s->M || !s->n || !s->a || !s->Ma || !s->p || !s->Mp || !s->work || !s->kkt || !s->rhs ||
        !s->eig || !s->ipiv || !s->sup) {
        mgda_fini(s);
        return mtb_fail(err, MTB_ENOMEM, "method mgda: cannot allocate the state for %d tasks", T);
    }
    s->nlwork = 1;
    if (s->solver == SOLVER_CLOSED && T >= 2) {
        double q = 0.0;
        lapack_int m = T - 1;
        lapack_int info =
            LAPACKE_dsyev_work(LAPACK_COL_MAJOR, 'V', 'U', m, s->kkt, m, s->eig, &q, -1);
        if (info != 0 || !(q >= 1.0))
            q = 3.0 * m;
        s->nlwork = (int)q;
    }
    s->lwork = malloc((size_t)s->nlwork * sizeof *s->lwork);
    if (!s->lwork) {
        mgda_fini(s);
        return mtb_fail(err, MTB_ENOMEM, "method mgda: cannot allocate LAPACK workspace");
    }
    return MTB_OK;
}

/* ---- solvers --------------------------------------------------------------------- */

static void symv(const double *M, int T, const double *x, double *y)
{
    /* y (T) = M (T x T) x */
    cblas_dgemv(CblasRowMajor, CblasNoTrans, T, T, 1.0, M, T, x, 1, 0.0, y, 1);
}

static double dotT(const double *x, const double *y, int T)
{
    double d = 0.0;
    for (int i = 0; i < T; i++)
        d += x[i] * y[i];
    return d;
}

/* Paper Algorithm 2 (Frank-Wolfe) with the exact line search of Algorithm 1. */
static void solve_fw(mgda_state *s)
{
    int T = s->T;
    const double *M = s->M;
    mtb_bal_fill(s->a, T, 1.0 / T);
    symv(M, T, s->a, s->Ma);
    for (int it = 0; it < s->max_iter; it++) {
        int r = 0;
        for (int i = 1; i < T; i++)
            if (s->Ma[i] < s->Ma[r])
                r = i;
        double cost;
        /* segment between e_r (Gram M_rr, cross (Ma)_r) and a (a^T M a) */
        double g = mtb_min_norm_2(M[(size_t)r * T + r], s->Ma[r], dotT(s->a, s->Ma, T), 0, &cost);
        double change = g * 2.0 * (1.0 - s->a[r]);
        for (int i = 0; i < T; i++) {
            s->a[i] *= 1.0 - g;
            s->Ma[i] = (1.0 - g) * s->Ma[i] + g * M[(size_t)i * T + r];
        }
        s->a[r] += g;
        if (change < s->tol)
            break;
    }
}

static double qp_obj(void *ctx, const double *w, double *grad)
{
    const mgda_state *s = ctx;
    symv(s->M, s->T, w, grad);
    return 0.5 * dotT(w, grad, s->T);
}

static double gap_of(const mgda_state *s, const double *w, double *Mw)
{
    symv(s->M, s->T, w, Mw);
    double mn = INFINITY;
    for (int i = 0; i < s->T; i++)
        mn = fmin(mn, Mw[i]);
    return fmax(dotT(w, Mw, s->T) - mn, 0.0);
}

/* Certified solver: accelerated projected gradient to a tiny Frank-Wolfe gap, then the
 * support's KKT system. */
static void solve_exact(mgda_state *s)
{
    int T = s->T;
    double dmax = 0.0;
    for (int i = 0; i < T; i++)
        dmax = fmax(dmax, s->M[(size_t)i * T + i]);
    mtb_bal_fill(s->a, T, 1.0 / T);
    mtb_simplex_result res;
    mtb_simplex_minimize(T, qp_obj, s, s->a, s->work, s->exact_iter, 1e-13 * dmax, &res);
    double gap = gap_of(s, s->a, s->Ma);

    /* KKT polish on the support S = {a_i > 0}: [M_SS 1; 1^T 0] [a_S; -mu] = [0; 1]. */
    int k = 0;
    for (int i = 0; i < T; i++)
        if (s->a[i] > 0.0)
            s->sup[k++] = i;
    int K = k + 1;
    double *A = s->kkt; /* (K, K), symmetric: column-major = row-major */
    for (int c = 0; c < k; c++) {
        for (int r = 0; r < k; r++)
            A[(size_t)c * K + r] = s->M[(size_t)s->sup[r] * T + s->sup[c]];
        A[(size_t)c * K + k] = 1.0;
        A[(size_t)k * K + c] = 1.0;
    }
    A[(size_t)k * K + k] = 0.0;
    for (int r = 0; r < k; r++)
        s->p[r] = 0.0;
    s->p[k] = 1.0;
    lapack_int info = LAPACKE_dgesv_work(LAPACK_COL_MAJOR, K, 1, A, K, s->ipiv, s->p, K);
    if (info != 0)
        return;
    double *cand = s->work; /* (T): the projected-gradient workspace is free now */
    mtb_bal_fill(cand, T, 0.0);
    double sum = 0.0;
    for (int r = 0; r < k; r++) {
        double v = s->p[r];
        if (!(v >= 0.0) || !isfinite(v))
            return;
        cand[s->sup[r]] = v;
        sum += v;
    }
    if (!(fabs(sum - 1.0) < 1e-9))
        return;
    double cgap = gap_of(s, cand, s->Mp);
    if (cgap <= gap)
        memcpy(s->a, cand, (size_t)T * sizeof *cand);
}

/* IMTL Appendix C.2, Eq. (30), with a pseudo-inverse. */
static void solve_closed(mgda_state *s)
{
    int T = s->T, m = T - 1;
    const double *M = s->M;
    double *B = s->kkt; /* (m, m) column-major = row-major (symmetric) */
    double *r = s->rhs;
    for (int a = 0; a < m; a++) {
        r[a] = M[0] - M[a + 1];
        for (int b = 0; b < m; b++)
            B[(size_t)a * m + b] = M[0] - M[a + 1] - M[b + 1] + M[(size_t)(a + 1) * T + (b + 1)];
    }
    lapack_int info = LAPACKE_dsyev_work(LAPACK_COL_MAJOR, 'V', 'U', m, B, m, s->eig, s->lwork,
                                         s->nlwork);
    mtb_bal_fill(s->a, T, 0.0);
    if (info != 0) {
        /* dsyev failed to converge (not seen in practice): fall back to the simplex
         * vertex of the smallest gradient, a finite, valid point of the affine hull. */
        int best = 0;
        for (int i = 1; i < T; i++)
            if (M[(size_t)i * T + i] < M[(size_t)best * T + best])
                best = i;
        s->a[best] = 1.0;
        return;
    }
    double lmax = s->eig[m - 1];
    double cut = (double)T * DBL_EPSILON * fabs(lmax);
    /* x = V diag(1/lambda) V^T r over the kept eigenpairs; x holds a_{2:T}. */
    for (int e = 0; e < m; e++) {
        double lam = s->eig[e];
        if (!(lam > cut))
            continue;
        const double *v = B + (size_t)e * m;
        double c = dotT(v, r, m) / lam;
        for (int i = 0; i < m; i++)
            s->a[i + 1] += c * v[i];
    }
    double sum = 0.0;
    for (int i = 1; i < T; i++)
        sum += s->a[i];
    s->a[0] = 1.0 - sum;
}

/* LibMTL's _next_point: step along the centred negative gradient to the first boundary
 * (ignoring ratios below 1e-7), then project onto the simplex. */
static void libmtl_next_point(mgda_state *s, double *next)
{
    int T = s->T;
    double mean = 0.0;
    for (int i = 0; i < T; i++)
        mean += -s->Ma[i];
    mean /= T;
    double t = 1.0;
    int have1 = 0;
    double tmin1 = INFINITY, tmin2 = INFINITY;
    for (int i = 0; i < T; i++) {
        double pg = -s->Ma[i] - mean;
        if (pg < 0.0) {
            double tm = -s->a[i] / pg;
            if (tm > 1e-7) {
                have1 = 1;
                tmin1 = fmin(tmin1, tm);
            }
        } else if (pg > 0.0) {
            double tm = (1.0 - s->a[i]) / pg;
            if (tm > 1e-7)
                tmin2 = fmin(tmin2, tm);
        }
    }
    if (have1)
        t = tmin1;
    if (tmin2 < INFINITY)
        t = fmin(t, tmin2);
    for (int i = 0; i < T; i++)
        next[i] = (-s->Ma[i] - mean) * t + s->a[i];
    mtb_simplex_project(next, T);
}

static void solve_libmtl(mgda_state *s)
{
    int T = s->T;
    const double *M = s->M;
    /* best pair, clamped two-point rule */
    double dmin = INFINITY, cbest = 0.5;
    int bi = 0, bj = 1;
    for (int i = 0; i < T; i++)
        for (int j = i + 1; j < T; j++) {
            double cost;
            double c = mtb_min_norm_2(M[(size_t)i * T + i], M[(size_t)i * T + j],
                                      M[(size_t)j * T + j], 1, &cost);
            if (cost < dmin) {
                dmin = cost;
                cbest = c;
                bi = i;
                bj = j;
            }
        }
    mtb_bal_fill(s->a, T, 0.0);
    s->a[bi] = cbest;
    s->a[bj] = 1.0 - cbest;
    if (T < 3)
        return;
    double *next = s->p;
    for (int it = 0; it < s->max_iter; it++) {
        symv(M, T, s->a, s->Ma);
        libmtl_next_point(s, next);
        symv(M, T, next, s->Mp);
        double v11 = dotT(s->a, s->Ma, T), v12 = dotT(s->a, s->Mp, T), v22 = dotT(next, s->Mp, T);
        double cost;
        double nc = mtb_min_norm_2(v11, v12, v22, 1, &cost);
        double change = 0.0;
        for (int i = 0; i < T; i++) {
            double nv = nc * s->a[i] + (1.0 - nc) * next[i];
            change += fabs(nv - s->a[i]);
            next[i] = nv;
        }
        if (change < s->tol)
            return; /* the iterate before the last change */
        memcpy(s->a, next, (size_t)T * sizeof *next);
    }
}

/* ---- step ------------------------------------------------------------------------ */

static mtb_status mgda_step(void *vs, const mtb_balance_in *in, mtb_balance_out *out,
                            mtb_error *err)
{
    (void)err;
    mgda_state *s = vs;
    int T = s->T;
    mtb_bal_gram_of(in, s->M); /* G G^T, or given on the Gram path */
    for (int t = 0; t < T; t++) {
        double nt = 1.0, gn = sqrt(s->M[(size_t)t * T + t]);
        switch (s->normalize) {
        case NORM_L2: nt = gn; break;
        case NORM_LOSS: nt = in->losses[t]; break;
        case NORM_LOSSPLUS: nt = in->losses[t] * gn; break;
        default: break;
        }
        s->n[t] = (nt > 0.0 && isfinite(nt)) ? nt : 1.0;
    }
    for (int i = 0; i < T; i++)
        for (int j = 0; j < T; j++)
            s->M[(size_t)i * T + j] /= s->n[i] * s->n[j];

    if (T == 1) {
        s->a[0] = 1.0;
    } else if (s->solver == SOLVER_CLOSED) {
        solve_closed(s);
    } else if (s->solver == SOLVER_LIBMTL) {
        solve_libmtl(s);
    } else if (T == 2) {
        double cost;
        double g = mtb_min_norm_2(s->M[0], s->M[1], s->M[3], 0, &cost);
        s->a[0] = g;
        s->a[1] = 1.0 - g;
    } else if (s->solver == SOLVER_EXACT) {
        solve_exact(s);
    } else {
        solve_fw(s);
    }
    for (int t = 0; t < T; t++) {
        out->head_w[t] = 1.0;
        out->trunk_w[t] = s->apply_to == 1 ? s->a[t] / s->n[t] : s->a[t];
    }
    return MTB_OK;
}

const mtb_balancer_type mtb_balancer_mgda = {
    .name = "mgda",
    .summary = "min-norm point of the convex hull of the task gradients (Frank-Wolfe, exact, "
               "closed form or LibMTL's solver)",
    .cite = "Sener & Koltun, Multi-Task Learning as Multi-Objective Optimization, NeurIPS 2018",
    .hparams = mgda_hparams,
    .n_hparams = HP_N,
    .state_size = sizeof(mgda_state),
    .init = mgda_init,
    .step = mgda_step,
    .fini = mgda_fini,
};
