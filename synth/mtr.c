/* mtr.c: MTRRegression, the toy problem of GradNorm (Chen et al. 2018) as used by SLAW
 * (Crawshaw & Kosecka 2021, Eq. 15, Sec. 4.1); facts restated in
 * spec mtrregression-and-slaw.md, section 1, which this file follows:
 *
 *   B     (d_out x d_in), B_ij     ~ N(0, std_B^2)     std_B   = 10
 *   eps_t (d_out x d_in), eps_t,ij ~ N(0, std_eps^2)   std_eps = 3.5, one per task
 *   x     (d_in),         x_j      ~ N(0, std_x^2)     std_x   = 0.01
 *   y_t(x) = sigma_t * tanh((B + eps_t) x)             sigma_t = t (1-based) by default
 *
 * The three stds are standard deviations (the spec's "std-vs-variance question").
 * Draws come from one stream (MTB_STREAM_DATA of the seed) in the spec's order: B, then
 * eps_1..eps_T, then the n_train training inputs, then the test inputs; everything is
 * computed in double and stored as float32, as the authors' generator does. The stream
 * is mtb's xoshiro256**, not NumPy's, so the numbers differ from the authors' files;
 * the distribution is the same. The draws (mtb_mtr_draws_*, mtr_draws.h) are shared with
 * the LSD-6, BCE-T, LSD-3C and LSD-CE3 generators (lsd6.c, bce.c, lsd3c.c, lsd_ce3.c), which
 * are MTR with other targets; the steps around them are in synth_common.c. */
#include "mtb/synth.h"

#include <cblas.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mtb/rng.h"
#include "synth_internal.h"

void mtb_mtr_params_default(mtb_mtr_params *p, int T, uint64_t seed)
{
    memset(p, 0, sizeof *p);
    p->T = T;
    p->sigma = NULL;     /* sigma_t = t: spec table, "n in {10, ..., 50}: sigma_i = i" */
    p->d_in = 250;       /* spec table: input dimension */
    p->d_out = 100;      /* spec table: output dimension per task */
    p->n_total = 10000;  /* spec table: dataset size */
    p->n_train = 9000;   /* round(0.9 * 10 000) */
    p->std_B = 10.0;
    p->std_eps = 3.5;
    p->std_x = 0.01;
    p->seed = seed;
}

static mtb_status check_params(const mtb_mtr_params *p, mtb_error *err)
{
    if (p->T < 1)
        return mtb_fail(err, MTB_EINVAL, "mtr: tasks must be >= 1, got %d", p->T);
    if (p->sigma)
        for (int t = 0; t < p->T; t++)
            if (!isfinite(p->sigma[t]) || !(p->sigma[t] > 0.0))
                return mtb_fail(err, MTB_EINVAL, "mtr: sigma[%d] = %g, every task scale must be "
                                "finite and > 0", t, p->sigma[t]);
    if (p->d_in < 1 || p->d_out < 1)
        return mtb_fail(err, MTB_EINVAL, "mtr: d_in (%d) and d_out (%d) must be >= 1", p->d_in,
                        p->d_out);
    if ((long long)p->T * p->d_out > INT_MAX)
        return mtb_fail(err, MTB_EINVAL, "mtr: %d tasks x %d outputs is too many target columns",
                        p->T, p->d_out);
    mtb_status st = mtb_synth_check_split("mtr", p->n_total, p->n_train, err);
    if (st)
        return st;
    const double s[3] = {p->std_B, p->std_eps, p->std_x};
    const char *names[3] = {"std_B", "std_eps", "std_x"};
    for (int i = 0; i < 3; i++)
        if (!isfinite(s[i]) || !(s[i] > 0.0))
            return mtb_fail(err, MTB_EINVAL, "mtr: %s = %g, a standard deviation must be finite "
                            "and > 0", names[i], s[i]);
    return MTB_OK;
}

/* "1;2;3": the sigma list in the shortest form that reads back exactly. Returns 0 if
 * it does not fit in len bytes. */
static int format_sigmas(const mtb_mtr_params *p, char *buf, size_t len)
{
    size_t used = 0;
    for (int t = 0; t < p->T; t++) {
        char one[32];
        mtb_synth_num(one, p->sigma ? p->sigma[t] : (double)(t + 1));
        int k = snprintf(buf + used, len - used, "%s%s", t ? ";" : "", one);
        if (k < 0 || (size_t)k >= len - used)
            return 0;
        used += (size_t)k;
    }
    return 1;
}

static void describe(const mtb_mtr_params *p, mtb_dataset *ds)
{
    char sig[MTB_DATASET_DESC_LEN];
    if (!format_sigmas(p, sig, sizeof sig))
        snprintf(sig, sizeof sig, "see /tasks/sigma");
    int k = snprintf(ds->generator, sizeof ds->generator,
                     "tasks=%d,d_in=%d,d_out=%d,n_total=%zu,n_train=%zu,std_B=%.17g,"
                     "std_eps=%.17g,std_x=%.17g,rng=xoshiro256**,stream=%d,sigma=%s",
                     p->T, p->d_in, p->d_out, p->n_total, p->n_train, p->std_B, p->std_eps,
                     p->std_x, (int)MTB_STREAM_DATA, sig);
    /* A sigma list too long for the description is still in /tasks/sigma. */
    if (k < 0 || (size_t)k >= sizeof ds->generator)
        snprintf(ds->generator, sizeof ds->generator,
                 "tasks=%d,d_in=%d,d_out=%d,n_total=%zu,n_train=%zu,std_B=%.17g,"
                 "std_eps=%.17g,std_x=%.17g,rng=xoshiro256**,stream=%d,sigma=see /tasks/sigma",
                 p->T, p->d_in, p->d_out, p->n_total, p->n_train, p->std_B, p->std_eps, p->std_x,
                 (int)MTB_STREAM_DATA);
}

static void fill_normal(mtb_rng *rng, double *a, size_t n, double std)
{
    for (size_t i = 0; i < n; i++)
        a[i] = mtb_rng_normal_ms(rng, 0.0, std);
}

/* ---- the draws shared with every MTR-based generator (mtr_draws.h) --------------------- */

mtb_status mtb_mtr_draws_make(const mtb_mtr_params *p, const char *who, mtb_mtr_draws *d,
                              mtb_error *err)
{
    memset(d, 0, sizeof *d);
    const int T = p->T, din = p->d_in, dout = p->d_out;
    const size_t N = p->n_total, W = (size_t)dout * (size_t)din;
    if (N > SIZE_MAX / sizeof(double) / (size_t)(din > dout ? din : dout) ||
        (size_t)T > SIZE_MAX / sizeof(double) / W)
        return mtb_fail(err, MTB_EINVAL, "%s: %zu samples of %d inputs is too large", who, N, din);
    double *B = malloc(W * sizeof *B);                 /* (d_out, d_in) */
    double *eps = malloc((size_t)T * W * sizeof *eps); /* T x (d_out, d_in) */
    double *X = malloc(N * (size_t)din * sizeof *X);   /* (N, d_in): train rows, then test */
    if (!B || !eps || !X) {
        free(B);
        free(eps);
        free(X);
        return mtb_fail(err, MTB_ENOMEM, "%s: out of memory for %zu samples x %d tasks", who, N,
                        T);
    }

    /* The spec's draw order: B, eps_1..eps_T, train inputs, test inputs. */
    mtb_rng rng;
    mtb_rng_seed(&rng, p->seed, MTB_STREAM_DATA);
    fill_normal(&rng, B, W, p->std_B);
    fill_normal(&rng, eps, (size_t)T * W, p->std_eps);
    fill_normal(&rng, X, N * (size_t)din, p->std_x);

    /* eps_t becomes B + eps_t in place: only the sums enter any target. */
    for (int t = 0; t < T; t++) {
        double *Wt = eps + (size_t)t * W;
        for (size_t i = 0; i < W; i++)
            Wt[i] += B[i];
    }
    free(B);
    d->T = T;
    d->d_in = din;
    d->d_out = dout;
    d->n = N;
    d->n_train = p->n_train;
    d->W = eps;
    d->X = X;
    return MTB_OK;
}

void mtb_mtr_draws_z(const mtb_mtr_draws *d, int t, int rows, double *Z)
{
    const double *Wt = d->W + (size_t)t * (size_t)d->d_out * (size_t)d->d_in;
    /* Z = X Wt[0..rows)^T: (N, d_in) x (d_in, rows), every sample's pre-activation at once;
     * the first `rows` rows of Wt are contiguous, so only they are multiplied. */
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)d->n, rows, d->d_in, 1.0, d->X,
                d->d_in, Wt, d->d_in, 0.0, Z, rows);
}

void mtb_mtr_draws_store_x(const mtb_mtr_draws *d, mtb_dataset *ds)
{
    const size_t din = (size_t)d->d_in, ntr = d->n_train;
    for (size_t i = 0; i < d->n * din; i++) {
        float v = (float)d->X[i];
        if (i < ntr * din)
            ds->train.x[i] = v;
        else
            ds->test.x[i - ntr * din] = v;
    }
}

float *mtb_mtr_draws_y_row(const mtb_mtr_draws *d, mtb_dataset *ds, size_t r)
{
    const size_t yw = (size_t)ds->y_width;
    return r < d->n_train ? ds->train.y + r * yw : ds->test.y + (r - d->n_train) * yw;
}

void mtb_mtr_draws_free(mtb_mtr_draws *d)
{
    free(d->W);
    free(d->X);
    memset(d, 0, sizeof *d);
}

/* ---- MTRRegression ------------------------------------------------------------------ */

mtb_status mtb_synth_mtr(const mtb_mtr_params *p, mtb_dataset *out, mtb_error *err)
{
    memset(out, 0, sizeof *out);
    mtb_status st = check_params(p, err);
    if (st)
        return st;
    const int T = p->T, dout = p->d_out;

    mtb_synth_build b; /* work: (N, d_out), the pre-activations (B + eps_t) x of one task */
    if ((st = mtb_synth_open(&b, p, T * dout, dout, "mtr", err)))
        return st;
    for (int t = 0; t < T; t++) {
        const double sigma = p->sigma ? p->sigma[t] : (double)(t + 1);
        mtb_synth_tanh_targets(&b, t, sigma, t * dout);
        mtb_synth_task(&b.ds.tasks[t], MTB_LOSS_MSE, dout, dout, t * dout, sigma);
    }

    snprintf(b.ds.name, sizeof b.ds.name, "mtr");
    b.ds.seed = p->seed;
    describe(p, &b.ds);
    mtb_synth_finish(&b, out);
    return MTB_OK;
}
