/* thm1.c: a numerical check of SLAW's Theorem 1.
 *
 * Theorem 1 (SLAW Sec. 3.2, Eq. 5): for f continuously differentiable and K-Lipschitz and
 * X uniform in the ball {x0 + d : |d| < delta}, Var[f(X)] is within epsilon of
 * K1 |grad f(x0)|^2 + K2 for a small enough delta. For a linear f, Var[g.d] with d uniform in
 * the d-dimensional ball is exactly |g|^2 delta^2 / (dim + 2) (E[d d^T] = delta^2/(dim+2) I),
 * so we expect slope K1 ~ delta^2 / (dim + 2) when delta is small, and a growing intercept
 * K2 and falling R^2 as delta grows and curvature matters.
 *
 * Three functions (all double precision, analytic gradients):
 *   quadratic  f(x) = 1/2 x^T A x, A = M^T M / dim + 0.1 I (dim 20). Lipschitz on the
 *              bounded region sampled. Here Var[f(X)] = |A x0|^2 delta^2/(dim+2) + Var[1/2 d^T A d]
 *              exactly (odd moments vanish), i.e. exactly linear in |grad|^2.
 *   tanhnet    the MSE of a tanh network 25 -> 16 -> 16 -> 10 (linear output) on 64 fixed
 *              samples of an MTRRegression-like teacher y = tanh((B + eps) x), as a function
 *              of all 858 parameters; points x0 along plain gradient descent from several
 *              initial scales, so |grad| spans orders of magnitude.
 *   logistic   (our choice) the mean logistic loss of a linear classifier, dim 30, 200
 *              samples; globally Lipschitz; points around the teacher weights.
 * For every point x0 and each of three radii delta, Var[f(X)] is estimated from thm_mc
 * uniform draws X = x0 + delta U^{1/dim} z/|z| (z standard normal). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mtb/h5.h"
#include "mtb/rng.h"
#include "slaw.h"

const char *const THM_FUNC_NAMES[N_THM_FUNCS] = {"quadratic", "tanhnet", "logistic"};
static const double DELTAS[N_THM_FUNCS][N_THM_DELTAS] = {
    {0.01, 0.1, 1.0}, {0.03, 0.1, 0.3}, {0.1, 0.5, 2.0}};

#define THM_STREAM 0x7E01u

typedef struct func {
    int dim;
    double (*eval)(struct func *fn, const double *x, double *grad); /* grad may be NULL */
    /* quadratic */
    double *A;
    /* data for tanhnet and logistic */
    int n, din, h, dout;
    double *X, *Y;
    double *buf; /* scratch */
} func;

/* ---- quadratic ------------------------------------------------------------------------ */
static double quad_eval(func *fn, const double *x, double *g)
{
    const int d = fn->dim;
    double f = 0.0;
    for (int i = 0; i < d; i++) {
        double ax = 0.0;
        for (int j = 0; j < d; j++)
            ax += fn->A[i * d + j] * x[j];
        f += 0.5 * x[i] * ax;
        if (g)
            g[i] = ax;
    }
    return f;
}

/* ---- tanh network: theta = [W1 (h,din), b1 (h), W2 (h,h), b2 (h), W3 (dout,h), b3 (dout)] ---- */
static double net_eval(func *fn, const double *th, double *g)
{
    const int n = fn->n, di = fn->din, h = fn->h, o = fn->dout;
    const double *W1 = th, *b1 = W1 + h * di, *W2 = b1 + h, *b2 = W2 + h * h, *W3 = b2 + h, *b3 = W3 + o * h;
    double *a1 = fn->buf, *a2 = a1 + h, *d2 = a2 + h, *d1 = d2 + h, *dy = d1 + h;
    if (g)
        memset(g, 0, sizeof(double) * (size_t)fn->dim);
    double loss = 0.0;
    const double scale = 1.0 / ((double)n * o); /* MSE: mean over samples and outputs */
    for (int s = 0; s < n; s++) {
        const double *x = fn->X + (size_t)s * di, *y = fn->Y + (size_t)s * o;
        for (int i = 0; i < h; i++) {
            double z = b1[i];
            for (int j = 0; j < di; j++)
                z += W1[i * di + j] * x[j];
            a1[i] = tanh(z);
        }
        for (int i = 0; i < h; i++) {
            double z = b2[i];
            for (int j = 0; j < h; j++)
                z += W2[i * h + j] * a1[j];
            a2[i] = tanh(z);
        }
        for (int k = 0; k < o; k++) {
            double z = b3[k];
            for (int j = 0; j < h; j++)
                z += W3[k * h + j] * a2[j];
            double e = z - y[k];
            loss += e * e * scale;
            dy[k] = 2.0 * e * scale;
        }
        if (!g)
            continue;
        double *gW1 = g, *gb1 = gW1 + h * di, *gW2 = gb1 + h, *gb2 = gW2 + h * h, *gW3 = gb2 + h, *gb3 = gW3 + o * h;
        for (int j = 0; j < h; j++)
            d2[j] = 0.0;
        for (int k = 0; k < o; k++) {
            gb3[k] += dy[k];
            for (int j = 0; j < h; j++) {
                gW3[k * h + j] += dy[k] * a2[j];
                d2[j] += dy[k] * W3[k * h + j];
            }
        }
        for (int i = 0; i < h; i++)
            d2[i] *= 1.0 - a2[i] * a2[i];
        for (int j = 0; j < h; j++)
            d1[j] = 0.0;
        for (int i = 0; i < h; i++) {
            gb2[i] += d2[i];
            for (int j = 0; j < h; j++) {
                gW2[i * h + j] += d2[i] * a1[j];
                d1[j] += d2[i] * W2[i * h + j];
            }
        }
        for (int i = 0; i < h; i++) {
            double dz = d1[i] * (1.0 - a1[i] * a1[i]);
            gb1[i] += dz;
            for (int j = 0; j < di; j++)
                gW1[i * di + j] += dz * x[j];
        }
    }
    return loss;
}

/* ---- logistic regression: y in {-1, 1}, f(w) = mean log(1 + exp(-y w.x)) ------------------ */
static double logistic_eval(func *fn, const double *w, double *g)
{
    const int n = fn->n, d = fn->dim;
    if (g)
        memset(g, 0, sizeof(double) * (size_t)d);
    double f = 0.0;
    for (int s = 0; s < n; s++) {
        const double *x = fn->X + (size_t)s * d;
        double m = 0.0;
        for (int j = 0; j < d; j++)
            m += w[j] * x[j];
        m *= fn->Y[s];
        f += (m > 0 ? log1p(exp(-m)) : -m + log1p(exp(m))) / n;
        if (g) {
            double c = -fn->Y[s] / (1.0 + exp(m)) / n; /* d/dm softplus(-m) = -sigmoid(-m) */
            for (int j = 0; j < d; j++)
                g[j] += c * x[j];
        }
    }
    return f;
}

static double norm2(const double *v, int n)
{
    double s = 0.0;
    for (int i = 0; i < n; i++)
        s += v[i] * v[i];
    return s;
}

/* Builds function k and its points x0 (P rows of dim). */
static int build(int k, int P, mtb_rng *r, func *fn, double **pts)
{
    memset(fn, 0, sizeof *fn);
    if (k == 0) {
        const int d = 20;
        fn->dim = d;
        fn->eval = quad_eval;
        double *M = malloc(sizeof(double) * d * d);
        fn->A = calloc((size_t)d * d, sizeof(double));
        *pts = malloc(sizeof(double) * (size_t)P * d);
        if (!M || !fn->A || !*pts)
            return -1;
        for (int i = 0; i < d * d; i++)
            M[i] = mtb_rng_normal(r);
        for (int i = 0; i < d; i++)
            for (int j = 0; j < d; j++) {
                double s = 0.0;
                for (int l = 0; l < d; l++)
                    s += M[l * d + i] * M[l * d + j];
                fn->A[i * d + j] = s / d + (i == j ? 0.1 : 0.0);
            }
        free(M);
        for (int p = 0; p < P; p++) {
            double *x = *pts + (size_t)p * d, rad = pow(10.0, -1.0 + 2.0 * mtb_rng_uniform(r));
            for (int i = 0; i < d; i++)
                x[i] = mtb_rng_normal(r);
            double nx = sqrt(norm2(x, d));
            for (int i = 0; i < d; i++)
                x[i] *= rad / nx;
        }
        return 0;
    }
    if (k == 1) {
        const int n = 64, di = 25, h = 16, o = 10;
        fn->n = n, fn->din = di, fn->h = h, fn->dout = o;
        fn->dim = h * di + h + h * h + h + o * h + o;
        fn->eval = net_eval;
        fn->X = malloc(sizeof(double) * n * di);
        fn->Y = malloc(sizeof(double) * n * o);
        fn->buf = malloc(sizeof(double) * (4 * h + o));
        double *Bt = malloc(sizeof(double) * o * di);
        *pts = malloc(sizeof(double) * (size_t)P * fn->dim);
        double *gr = malloc(sizeof(double) * fn->dim);
        if (!fn->X || !fn->Y || !fn->buf || !Bt || !*pts || !gr)
            return -1;
        /* teacher as MTRRegression (spec sec. 1) scaled to 25 inputs: x ~ N(0, 0.2^2),
         * (B + eps) with B ~ N(0, 1), eps ~ N(0, 0.35^2), y = tanh((B + eps) x) */
        for (int i = 0; i < o * di; i++)
            Bt[i] = mtb_rng_normal(r) + 0.35 * mtb_rng_normal(r);
        for (int s = 0; s < n; s++) {
            for (int j = 0; j < di; j++)
                fn->X[s * di + j] = 0.2 * mtb_rng_normal(r);
            for (int k2 = 0; k2 < o; k2++) {
                double z = 0.0;
                for (int j = 0; j < di; j++)
                    z += Bt[k2 * di + j] * fn->X[s * di + j];
                fn->Y[s * o + k2] = tanh(z);
            }
        }
        free(Bt);
        /* points: init N(0, gain^2/fan_in) with gain log-uniform in [0.5, 2], then
         * 0..400 steps of gradient descent (lr 0.2) */
        for (int p = 0; p < P; p++) {
            double *th = *pts + (size_t)p * fn->dim, gain = pow(2.0, -1.0 + 2.0 * mtb_rng_uniform(r));
            double *q = th;
            int fan[3] = {di, h, h}, outs[3] = {h, h, o};
            for (int l = 0; l < 3; l++) {
                for (int i = 0; i < outs[l] * fan[l]; i++)
                    *q++ = gain * mtb_rng_normal(r) / sqrt((double)fan[l]);
                for (int i = 0; i < outs[l]; i++)
                    *q++ = 0.0;
            }
            int steps = (int)mtb_rng_below(r, 401);
            for (int s = 0; s < steps; s++) {
                net_eval(fn, th, gr);
                for (int i = 0; i < fn->dim; i++)
                    th[i] -= 0.2 * gr[i];
            }
        }
        free(gr);
        return 0;
    }
    /* logistic */
    const int n = 200, d = 30;
    fn->n = n, fn->dim = d;
    fn->eval = logistic_eval;
    fn->X = malloc(sizeof(double) * n * d);
    fn->Y = malloc(sizeof(double) * n);
    double *ws = malloc(sizeof(double) * d);
    *pts = malloc(sizeof(double) * (size_t)P * d);
    if (!fn->X || !fn->Y || !ws || !*pts)
        return -1;
    for (int j = 0; j < d; j++)
        ws[j] = 3.0 * mtb_rng_normal(r) / sqrt((double)d);
    for (int s = 0; s < n; s++) {
        double m = 0.0;
        for (int j = 0; j < d; j++)
            m += ws[j] * (fn->X[s * d + j] = mtb_rng_normal(r));
        fn->Y[s] = m + 0.5 * mtb_rng_normal(r) > 0 ? 1.0 : -1.0;
    }
    for (int p = 0; p < P; p++) {
        double c = -1.0 + 3.0 * mtb_rng_uniform(r), sd = pow(10.0, -1.5 + 1.5 * mtb_rng_uniform(r));
        for (int j = 0; j < d; j++)
            (*pts)[(size_t)p * d + j] = c * ws[j] + sd * mtb_rng_normal(r);
    }
    free(ws);
    return 0;
}

int thm1_run(int k, const scale *sc, const char *path, mtb_pool_slot *progress, mtb_error *err)
{
    const int P = sc->thm_points, M = sc->thm_mc;
    mtb_rng r;
    mtb_rng_seed(&r, (uint64_t)k, THM_STREAM);
    func fn;
    double *pts = NULL;
    int rc = build(k, P, &r, &fn, &pts);
    const int d = fn.dim;
    double *g = malloc(sizeof(double) * d), *xs = malloc(sizeof(double) * d), *fv = malloc(sizeof(double) * M);
    double *gn2 = malloc(sizeof(double) * P), *var = malloc(sizeof(double) * N_THM_DELTAS * P);
    double *f0 = malloc(sizeof(double) * P);
    if (rc || !g || !xs || !fv || !gn2 || !var || !f0) {
        mtb_fail(err, MTB_ENOMEM, "theorem 1: out of memory");
        rc = -1;
        goto done;
    }
    for (int p = 0; p < P; p++) {
        const double *x0 = pts + (size_t)p * d;
        f0[p] = fn.eval(&fn, x0, g);
        gn2[p] = norm2(g, d);
        for (int q = 0; q < N_THM_DELTAS; q++) {
            const double delta = DELTAS[k][q];
            double mean = 0.0, m2 = 0.0; /* Welford */
            for (int s = 0; s < M; s++) {
                for (int i = 0; i < d; i++)
                    xs[i] = mtb_rng_normal(&r);
                double nz = sqrt(norm2(xs, d)), rad = delta * pow(mtb_rng_uniform(&r), 1.0 / d);
                for (int i = 0; i < d; i++)
                    xs[i] = x0[i] + rad * xs[i] / nz;
                double v = fn.eval(&fn, xs, NULL), dlt = v - mean;
                mean += dlt / (s + 1);
                m2 += dlt * (v - mean);
                fv[s] = v;
            }
            var[(size_t)q * P + p] = m2 / (M - 1);
            mtb_pool_units(progress, (long)p * N_THM_DELTAS + q + 1);
        }
    }
    mtb_h5 *f = mtb_h5_create(path, err);
    if (!f) {
        rc = -1;
        goto done;
    }
    const size_t dP[1] = {(size_t)P}, dQ[1] = {N_THM_DELTAS}, dQP[2] = {N_THM_DELTAS, (size_t)P};
    if (mtb_h5_attr_str(f, "/", "function", THM_FUNC_NAMES[k], err) ||
        mtb_h5_attr_i64(f, "/", "dim", d, err) || mtb_h5_attr_i64(f, "/", "mc_samples", M, err) ||
        mtb_h5_write_f64(f, "/delta", 1, dQ, DELTAS[k], err) ||
        mtb_h5_write_f64(f, "/f0", 1, dP, f0, err) ||
        mtb_h5_write_f64(f, "/grad_norm2", 1, dP, gn2, err) ||
        mtb_h5_write_f64(f, "/var", 2, dQP, var, err)) {
        mtb_h5_discard(f);
        rc = -1;
        goto done;
    }
    rc = mtb_h5_commit(f, err) ? -1 : 0;
done:
    free(fn.A), free(fn.X), free(fn.Y), free(fn.buf), free(pts);
    free(g), free(xs), free(fv), free(gn2), free(var), free(f0);
    return rc;
}
