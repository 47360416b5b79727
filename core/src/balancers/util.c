/* util.c: small kernels shared by the balancing methods (see internal.h). */
#include <stdlib.h>

#include "internal.h"

#include <cblas.h>
#include <math.h>

void mtb_bal_softmax(const double *x, int n, double temp, double *out)
{
    double mx = -INFINITY;
    for (int i = 0; i < n; i++)
        if (x[i] / temp > mx)
            mx = x[i] / temp;
    double s = 0.0;
    for (int i = 0; i < n; i++) {
        out[i] = exp(x[i] / temp - mx);
        s += out[i];
    }
    /* s >= 1: the largest term is exp(0). */
    for (int i = 0; i < n; i++)
        out[i] /= s;
}

void mtb_bal_gram(const double *G, int T, size_t D, double *M)
{
    /* M (T x T) = G (T x D) * G^T */
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, T, T, (int)D, 1.0, G, (int)D, G, (int)D,
                0.0, M, T);
}

void mtb_bal_gtw(const double *G, int T, size_t D, const double *w, double *out)
{
    /* out (D) = G^T (D x T) * w (T) */
    cblas_dgemv(CblasRowMajor, CblasTrans, T, (int)D, 1.0, G, (int)D, w, 1, 0.0, out, 1);
}

double mtb_bal_dot(const double *x, const double *y, size_t n)
{
    return cblas_ddot((int)n, x, 1, y, 1);
}

double mtb_bal_norm(const double *x, size_t n)
{
    return cblas_dnrm2((int)n, x, 1);
}

void mtb_bal_fill(double *x, int n, double v)
{
    for (int i = 0; i < n; i++)
        x[i] = v;
}

int mtb_bal_normalise_sum(double *x, int n, double target)
{
    double s = 0.0;
    for (int i = 0; i < n; i++)
        s += x[i];
    if (!(s > 0.0) || !isfinite(s))
        return -1;
    double f = target / s;
    for (int i = 0; i < n; i++)
        x[i] *= f;
    return 0;
}

mtb_status mtb_bal_learnable(int T, int extra, double init, double lr, mtb_balancer_setup *setup,
                             double **values, const char *method, mtb_error *err)
{
    size_t n = (size_t)(2 + extra) * (size_t)T;
    double *v = malloc(n * sizeof *v);
    if (!v)
        return mtb_fail(err, MTB_ENOMEM, "method %s: cannot allocate %zu scalars", method, n);
    mtb_bal_fill(v, T, init);
    for (size_t i = (size_t)T; i < n; i++)
        v[i] = 0.0;
    setup->n_learn = T;
    setup->learn = v;
    setup->learn_grad = v + T;
    setup->learn_lr = lr;
    *values = v;
    return MTB_OK;
}

int mtb_bal_other_tasks(size_t *idx, int T, int i, int shuffle, mtb_rng *rng)
{
    int n = 0;
    for (int j = 0; j < T; j++)
        if (j != i)
            idx[n++] = (size_t)j;
    if (shuffle && n > 1)
        mtb_rng_shuffle(rng, idx, (size_t)n);
    return n;
}

void mtb_bal_output_combination(const mtb_balance_in *in, const double *c, mtb_balance_out *out)
{
    if (out->trunk_grad)
        mtb_bal_gtw(in->G, in->T, in->D, c, out->trunk_grad);
    for (int t = 0; t < in->T; t++) {
        out->head_w[t] = 1.0;
        out->trunk_w[t] = c[t];
    }
    out->trunk_grad_set = out->trunk_grad != NULL;
}
