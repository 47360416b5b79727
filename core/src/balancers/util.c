/* util.c: small kernels shared by the balancing methods (see internal.h). */
#include <stdlib.h>
#include <string.h>

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

double mtb_bal_quad(const double *M, int T, const double *w)
{
    double q = 0.0;
    for (int i = 0; i < T; i++)
        for (int j = 0; j < T; j++)
            q += w[i] * M[(size_t)i * T + j] * w[j];
    return q;
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

int mtb_bal_visit_order(size_t *idx, int T, int i, int self, int shuffle, mtb_rng *rng,
                        const int *recorded)
{
    int n = T - 1 + (self != 0);
    if (recorded) {
        const int *row = recorded + (size_t)i * (size_t)n;
        for (int k = 0; k < n; k++)
            idx[k] = (size_t)row[k];
        return n;
    }
    n = 0;
    for (int j = 0; j < T; j++)
        if (j != i || self)
            idx[n++] = (size_t)j;
    if (shuffle && n > 1)
        mtb_rng_shuffle(rng, idx, (size_t)n);
    return n;
}

mtb_status mtb_bal_check_orders(const mtb_balance_draws *d, int T, int self, unsigned char *seen,
                                const char *method, mtb_error *err)
{
    size_t n = (size_t)(T - 1 + (self != 0));
    if (d->n_orders != (size_t)T * n)
        return mtb_fail(err, MTB_EINVAL,
                        "method %s: recorded task orders hold %zu entries, expected T x %zu = %zu "
                        "(one row per task: %s)", method, d->n_orders, n, (size_t)T * n,
                        self ? "all T tasks, itself included" : "the T - 1 other tasks");
    for (int i = 0; i < T; i++) {
        memset(seen, 0, (size_t)T);
        for (size_t k = 0; k < n; k++) {
            int j = d->orders[(size_t)i * n + k]; /* 0 <= j < T: checked by the driver */
            if ((j == i && !self) || seen[j])
                return mtb_fail(err, MTB_EINVAL,
                                "method %s: recorded order of task %d visits task %d %s", method, i,
                                j, j == i && !self ? "(itself)" : "twice");
            seen[j] = 1;
        }
    }
    return MTB_OK;
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
