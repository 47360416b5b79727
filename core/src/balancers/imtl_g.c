/* imtl_g.c: IMTL-G, the gradient balance of Liu et al., "Towards Impartial Multi-task
 * Learning", ICLR 2021, Sec. 3.1 and Appendix B.1.
 * With task gradients g_t (rows), u_t = g_t/||g_t||, find g = sum_t alpha_t g_t with
 * sum_t alpha_t = 1 whose projections on every u_t are equal:
 *   g u_1^T = g u_t^T, t = 2..T                                       [Eq. 1 = Eq. 9]
 *   D^T = [g_1^T - g_2^T, ...], U^T = [u_1^T - u_2^T, ...]
 *   alpha_{2:T} = g_1 U^T (D U^T)^{-1},  alpha_1 = 1 - 1 alpha_{2:T}^T   [Eq. 2 = Eq. 12]
 * Everything is read from the Gram matrix M = G G^T (one cblas_dgemm, D-independent
 * afterwards): with p_ab = g_a . u_b = M_ab / ||g_b||,
 *   (D U^T)_ij = p_11 - p_1j - p_i1 + p_ij,  (g_1 U^T)_j = p_11 - p_1j   (i, j >= 2)
 * and alpha_{2:T} solves (D U^T)^T alpha^T = (g_1 U^T)^T, a (T-1) x (T-1) system solved
 * by LU with partial pivoting. No positivity constraint (the paper has none; Lemma 3
 * gives positivity when all pairwise angles are equal).
 * Robustness (mtb's, not the paper's):
 *   - a task with a zero gradient has no direction u_t; it gets alpha_t = 0 and the
 *     others are solved among themselves (all zero: alpha = 1/T; one left: alpha = 1);
 *   - Eq. 2 is solved on the unit vectors u_t and mapped back to the g_t by Theorem 2
 *     (alpha_t proportional to beta_t/|g_t|), so norms spanning many decades cost no
 *     accuracy (on the raw g_t the system's entries mix every norm);
 *   - the system is singular when the non-zero gradients are linearly dependent in a
 *     way that makes the equal-projection solution non-unique (identical directions,
 *     T - 1 > rank; LibMTL does not guard this). Then (pivot below 1e-13 times the
 *     largest |u_a . u_b|) beta = 1/m + delta with delta the Tikhonov-regularised
 *     least-squares solution (mu = 1e-12 mean diagonal) of the shifted system: the
 *     equal-projection solution closest to uniform weights (fallback = 1). Identical
 *     gradients thus get alpha = 1/T; identical directions alpha proportional to 1/|g_t|;
 *   - when the balanced combination of the u_t cannot be normalised to sum alpha = 1
 *     (sum_t beta_t/|g_t| = 0 to rounding), alpha = 1/m (fallback = 2).
 * Gradient levels (hparam `level`; spec imtl.md sec. 0 and erratum I-E6):
 *   rep      "feat-flat": gradients w.r.t. the last shared activation z flattened over
 *            batch x features, (T, B dz) -- the paper's description (Sec. 3.1, Alg. 1 l. 6);
 *   param    "exact": gradients of every shared parameter (Table 1 "IMTL-G (exact)";
 *            LibMTL's default);
 *   rep_sum  "feat-sum": dl_t/dz summed over the batch, (T, dz) -- what LibMTL's rep_grad
 *            path computes (spec imtl.md sec. 0). The training step passes dz in
 *            in->rep.dim; G's columns are batch-major (example b, feature j at b dz + j).
 * With rep and rep_sum alpha is applied to the losses and the trunk is backpropagated once.
 * The weights sum to 1 (scale=T: to T).
 * Sign (erratum I-E1): sum alpha = 1 fixes the length of g but not its sign; the common
 * projection p = g . u_t can be negative (then -g ascends every loss to first order).
 * sign_fix=true multiplies alpha by sign(p) (mtb's option for spec I2; the weights then sum
 * to -1 on those steps); default false, as the paper.
 * Heads: the paper minimises sum alpha_t L_t for "the model"
 * in Sec. 3.1 but says IMTL-G cannot balance the heads (Sec. 3.2); heads=raw (default)
 * updates each head with its own loss, heads=alpha with alpha_t. */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gram_input.h"
#include "internal.h"

mtb_status mtb_imtl_ws_init(mtb_imtl_ws *w, int T, const char *method, mtb_error *err)
{
    memset(w, 0, sizeof *w);
    w->T = T;
    size_t n = (size_t)T, m = T > 1 ? (size_t)T - 1 : 1;
    w->M = malloc((n * n + n + 2 * m * m + 2 * m) * sizeof(double));
    w->act = malloc((n + m) * sizeof(int));
    if (!w->M || !w->act) {
        mtb_imtl_ws_free(w);
        return mtb_fail(err, MTB_ENOMEM, "method %s: cannot allocate the IMTL-G workspace (T = %d)",
                        method, T);
    }
    w->nrm = w->M + n * n;
    w->A = w->nrm + n;
    w->K = w->A + m * m;
    w->b = w->K + m * m;
    w->x = w->b + m;
    w->piv = w->act + n;
    return MTB_OK;
}

void mtb_imtl_ws_free(mtb_imtl_ws *w)
{
    free(w->M);
    free(w->act);
    w->M = NULL;
    w->act = NULL;
}

/* LU with partial pivoting of the n x n row-major A in place; returns 0, or -1 when a
 * pivot is at or below tol. */
static int lu_factor(double *A, int n, int *piv, double tol)
{
    for (int k = 0; k < n; k++) {
        int p = k;
        for (int i = k + 1; i < n; i++)
            if (fabs(A[(size_t)i * n + k]) > fabs(A[(size_t)p * n + k]))
                p = i;
        if (!(fabs(A[(size_t)p * n + k]) > tol))
            return -1;
        piv[k] = p;
        if (p != k)
            for (int j = 0; j < n; j++) {
                double t = A[(size_t)k * n + j];
                A[(size_t)k * n + j] = A[(size_t)p * n + j];
                A[(size_t)p * n + j] = t;
            }
        for (int i = k + 1; i < n; i++) {
            double f = A[(size_t)i * n + k] /= A[(size_t)k * n + k];
            for (int j = k + 1; j < n; j++)
                A[(size_t)i * n + j] -= f * A[(size_t)k * n + j];
        }
    }
    return 0;
}

static void lu_solve(const double *LU, int n, const int *piv, double *x)
{
    for (int k = 0; k < n; k++)
        if (piv[k] != k) {
            double t = x[k];
            x[k] = x[piv[k]];
            x[piv[k]] = t;
        }
    for (int i = 0; i < n; i++)
        for (int j = 0; j < i; j++)
            x[i] -= LU[(size_t)i * n + j] * x[j];
    for (int i = n - 1; i >= 0; i--) {
        for (int j = i + 1; j < n; j++)
            x[i] -= LU[(size_t)i * n + j] * x[j];
        x[i] /= LU[(size_t)i * n + i];
    }
}

/* Solves the SPD system K x = x (in place) by Cholesky; K is overwritten. */
static void chol_solve(double *K, int n, double *x)
{
    for (int j = 0; j < n; j++) {
        double d = K[(size_t)j * n + j];
        for (int k = 0; k < j; k++)
            d -= K[(size_t)j * n + k] * K[(size_t)j * n + k];
        d = sqrt(fmax(d, DBL_MIN));
        K[(size_t)j * n + j] = d;
        for (int i = j + 1; i < n; i++) {
            double s = K[(size_t)i * n + j];
            for (int k = 0; k < j; k++)
                s -= K[(size_t)i * n + k] * K[(size_t)j * n + k];
            K[(size_t)i * n + j] = s / d;
        }
    }
    for (int i = 0; i < n; i++) {
        for (int k = 0; k < i; k++)
            x[i] -= K[(size_t)i * n + k] * x[k];
        x[i] /= K[(size_t)i * n + i];
    }
    for (int i = n - 1; i >= 0; i--) {
        for (int k = i + 1; k < n; k++)
            x[i] -= K[(size_t)k * n + i] * x[k];
        x[i] /= K[(size_t)i * n + i];
    }
}

void mtb_imtl_g_solve(mtb_imtl_ws *w, double *alpha)
{
    int T = w->T, m = 0;
    const double *M = w->M;
    w->fallback = 0;
    for (int t = 0; t < T; t++) {
        alpha[t] = 0.0;
        double d = M[(size_t)t * T + t];
        w->nrm[t] = d > 0.0 ? sqrt(d) : 0.0;
        if (w->nrm[t] > 0.0 && isfinite(w->nrm[t]))
            w->act[m++] = t;
    }
    if (m == 0) {
        mtb_bal_fill(alpha, T, 1.0 / T);
        return;
    }
    if (m == 1) {
        alpha[w->act[0]] = 1.0;
        return;
    }
    int n = m - 1, r = w->act[0];
    /* Eq. 2 is solved on the unit vectors u_t (g_a . u_b -> u_a . u_b, a cosine) and the
     * result mapped back by Theorem 2 (below): the system then has O(1) entries whatever
     * the norms, where on the raw g_t it loses about log10(max|g|/min|g|) digits (norms
     * spanning 1e+-8 left projections unequal by 1e-2; spec imtl.md I1). */
#define P(a, b) (M[(size_t)(a) * T + (b)] / (w->nrm[a] * w->nrm[b])) /* u_a . u_b */
    double scale = 0.0;
    for (int i = 0; i < m; i++)
        for (int j = 0; j < m; j++)
            scale = fmax(scale, fabs(P(w->act[i], w->act[j])));
    /* B = (D U^T)^T, i.e. B_ji = p_11 - p_1j - p_i1 + p_ij; rhs b_j = p_11 - p_1j.
     * Shifted to alpha = 1/m + delta: B delta = b - B (1/m). */
    double p11 = P(r, r);
    for (int j = 0; j < n; j++) {
        int tj = w->act[j + 1];
        double bj = p11 - P(r, tj), rowsum = 0.0;
        for (int i = 0; i < n; i++) {
            int ti = w->act[i + 1];
            double a = p11 - P(r, tj) - P(ti, r) + P(ti, tj);
            w->A[(size_t)j * n + i] = a;
            rowsum += a;
        }
        w->b[j] = bj - rowsum / m;
    }
#undef P
    memcpy(w->x, w->b, (size_t)n * sizeof *w->x);
    memcpy(w->K, w->A, (size_t)n * n * sizeof *w->K); /* B, kept for the fallback */
    if (lu_factor(w->A, n, w->piv, 1e-13 * scale) == 0) {
        lu_solve(w->A, n, w->piv, w->x);
    } else {
        /* min ||B delta - b||^2 + mu ||delta||^2:  (B^T B + mu I) delta = B^T b */
        w->fallback = 1;
        const double *B = w->K;
        double tr = 0.0;
        for (int i = 0; i < n; i++) {
            double s = 0.0;
            for (int k = 0; k < n; k++)
                s += B[(size_t)k * n + i] * w->b[k];
            w->x[i] = s;
            for (int j = 0; j < n; j++) {
                double q = 0.0;
                for (int k = 0; k < n; k++)
                    q += B[(size_t)k * n + i] * B[(size_t)k * n + j];
                w->A[(size_t)i * n + j] = q;
            }
            tr += w->A[(size_t)i * n + i];
        }
        double mu = 1e-12 * tr / n + DBL_MIN;
        for (int i = 0; i < n; i++)
            w->A[(size_t)i * n + i] += mu;
        chol_solve(w->A, n, w->x);
    }
    for (int t = 0; t < T; t++)
        alpha[t] = 0.0;
    double rest = 0.0;
    for (int i = 0; i < n; i++) {
        double a = 1.0 / m + w->x[i];
        alpha[w->act[i + 1]] = a;
        rest += a;
    }
    alpha[r] = 1.0 - rest;
    /* beta = alpha above balances the u_t: sum_t beta_t u_t = sum_t (beta_t/|g_t|) g_t has
     * equal projections, so alpha_t = (beta_t/|g_t|) / sum_s (beta_s/|g_s|) (Theorem 2 with
     * k_t = 1/|g_t|). The sum is zero exactly when Eq. 2 on the g_t is singular (no
     * equal-projection combination with sum alpha = 1); then alpha = 1/m (fallback 2). */
    double z = 0.0, zabs = 0.0;
    for (int i = 0; i < m; i++) {
        int t = w->act[i];
        z += alpha[t] / w->nrm[t];
        zabs += fabs(alpha[t]) / w->nrm[t];
    }
    if (!(fabs(z) > 1e-13 * zabs)) {
        w->fallback = 2;
        for (int i = 0; i < m; i++)
            alpha[w->act[i]] = 1.0 / m;
        return;
    }
    for (int i = 0; i < m; i++) {
        int t = w->act[i];
        alpha[t] = alpha[t] / w->nrm[t] / z;
    }
}

/* ---- the imtl_g method -------------------------------------------------------------- */

static const mtb_hparam_def imtl_g_hp[] = {
    {"level", MTB_HP_CHOICE, 0, 0, 0, "rep|param|rep_sum",
     "rep = feat-flat, dl/dz over batch x features (paper); param = exact, shared parameters "
     "(LibMTL); rep_sum = feat-sum, dl/dz summed over the batch (LibMTL rep_grad)"},
    {"scale", MTB_HP_CHOICE, 0, 0, 0, "one|T", "weights sum to 1 (paper, Eq. 2) or to T"},
    {"heads", MTB_HP_CHOICE, 0, 0, 0, "raw|alpha", "head t updated with l_t (raw) or alpha_t l_t"},
    {"sign_fix", MTB_HP_BOOL, 0, 0, 1, NULL,
     "multiply alpha by the sign of the common projection g.u_t (mtb, erratum I-E1; paper: "
     "false)"},
};
enum { LEVEL_REP = 0, LEVEL_PARAM = 1, LEVEL_REP_SUM = 2 };

typedef struct imtl_g_state {
    mtb_imtl_ws ws;
    double scale;
    int heads_alpha, level, sign_fix;
    size_t cap;  /* rep_sum: columns of S */
    double *S;   /* rep_sum: (T, dz) batch sums of the rows of G */
} imtl_g_state;

static double common_projection(const mtb_imtl_ws *w, const double *alpha)
{
    /* p = g . u_r = sum_t alpha_t M_tr / ||g_r|| for any task r with a direction; equal
     * for every such r when alpha solves Eq. 1. */
    int T = w->T;
    for (int r = 0; r < T; r++) {
        double n = w->M[(size_t)r * T + r];
        if (!(n > 0.0) || !isfinite(n))
            continue;
        double p = 0.0;
        for (int t = 0; t < T; t++)
            p += alpha[t] * w->M[(size_t)t * T + r];
        return p / sqrt(n);
    }
    return 0.0;
}

/* Sums each row of G (T, D = B dim, batch-major) over the batch into S (T, dim). */
static mtb_status batch_sums(imtl_g_state *s, const mtb_balance_in *in, size_t *dim,
                             mtb_error *err)
{
    size_t k = in->rep.dim > 0 ? (size_t)in->rep.dim : in->D;
    if (k == 0 || in->D % k || k > s->cap)
        return mtb_fail(err, MTB_EINVAL,
                        "method imtl_g: level=rep_sum needs G's %zu columns to be the batch "
                        "times dim z (in->rep.dim = %d)", in->D, in->rep.dim);
    size_t B = in->D / k;
    for (int t = 0; t < in->T; t++) {
        double *st = s->S + (size_t)t * k;
        const double *g = in->G + (size_t)t * in->D;
        memcpy(st, g, k * sizeof *st);
        for (size_t b = 1; b < B; b++)
            for (size_t j = 0; j < k; j++)
                st[j] += g[b * k + j];
    }
    *dim = k;
    return MTB_OK;
}

static mtb_status imtl_g_init(void *state, int T, size_t D_max, const mtb_hparams *hp,
                              mtb_balancer_setup *setup, mtb_error *err)
{
    imtl_g_state *s = state;
    s->level = (int)hp->v[0];
    setup->need = s->level == LEVEL_PARAM ? MTB_NEED_PARAM_GRADS : MTB_NEED_REP_GRADS;
    setup->scope = MTB_SCOPE_ALL;
    setup->gram_ok = s->level == LEVEL_PARAM; /* Eqs. 9-12 need only M = G G^T */
    s->scale = hp->v[1] == 1.0 ? T : 1.0;
    s->heads_alpha = hp->v[2] == 1.0;
    s->sign_fix = hp->v[3] == 1.0;
    if (s->level == LEVEL_REP_SUM && D_max > 0) {
        if (D_max > SIZE_MAX / sizeof(double) / (size_t)T)
            return mtb_fail(err, MTB_EINVAL, "method imtl_g: %d x %zu sums do not fit in memory",
                            T, D_max);
        s->S = malloc((size_t)T * D_max * sizeof *s->S);
        if (!s->S)
            return mtb_fail(err, MTB_ENOMEM, "method imtl_g: cannot allocate the batch sums "
                            "(%d x %zu)", T, D_max);
        s->cap = D_max;
    }
    mtb_status rc = mtb_imtl_ws_init(&s->ws, T, "imtl_g", err);
    if (rc) {
        free(s->S);
        s->S = NULL;
    }
    return rc;
}

static mtb_status imtl_g_step(void *state, const mtb_balance_in *in, mtb_balance_out *out,
                              mtb_error *err)
{
    imtl_g_state *s = state;
    if (s->level == LEVEL_REP_SUM) {
        size_t k = 0;
        mtb_status rc = batch_sums(s, in, &k, err);
        if (rc)
            return rc;
        mtb_bal_gram(s->S, in->T, k, s->ws.M);
    } else {
        mtb_bal_gram_of(in, s->ws.M); /* G G^T, or given on the Gram path */
    }
    mtb_imtl_g_solve(&s->ws, out->trunk_w);
    double sign = s->sign_fix && common_projection(&s->ws, out->trunk_w) < 0.0 ? -1.0
                                                                                     : 1.0;
    for (int t = 0; t < in->T; t++) {
        out->trunk_w[t] *= s->scale * sign;
        out->head_w[t] = s->heads_alpha ? out->trunk_w[t] : 1.0;
    }
    return MTB_OK;
}

static void imtl_g_fini(void *state)
{
    imtl_g_state *s = state;
    mtb_imtl_ws_free(&s->ws);
    free(s->S);
}

const mtb_balancer_type mtb_balancer_imtl_g = {
    .name = "imtl_g",
    .summary = "IMTL-G: closed-form weights giving equal projections on every task gradient",
    .cite = "Liu et al., Towards Impartial Multi-task Learning, ICLR 2021 (Sec. 3.1, Eq. 2; "
            "App. B.1, Eqs. 9-12)",
    .hparams = imtl_g_hp,
    .n_hparams = 4,
    .state_size = sizeof(imtl_g_state),
    .init = imtl_g_init,
    .step = imtl_g_step,
    .fini = imtl_g_fini,
};
