/* layer.c: dense and activation layers, forward and stacked backward (see layer.h).
 *
 * Dense, y = x W^T + b with W (out, in):
 *   forward    y (B, out)      = x (B, in) W^T                     one sgemm, then + b
 *   backward   dx (B*S, in)    = dy (B*S, out) W (out, in)         one sgemm for all S
 *              dW_s (out, in)  = dy_s^T (out, B) x (B, in)          dy_s = columns s*out.. of dy
 *              db_s (out)      = dy_s^T 1_B                         sgemv
 * Activations act elementwise; their derivative is read off the output y:
 *   tanh' = 1 - y^2,  relu' = [y > 0]. */
#include "mtb/layer.h"

#include "image_layers.h"
#include "vec_kernels.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static _Thread_local double flop_count;

void mtb_sgemm(int transA, int transB, int M, int N, int K, float alpha, const float *A, int lda,
               const float *Bm, int ldb, float beta, float *C, int ldc)
{
    flop_count += 2.0 * M * N * K;
    cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                M, N, K, alpha, A, lda, Bm, ldb, beta, C, ldc);
}

void mtb_sgemv(int trans, int M, int N, float alpha, const float *A, int lda, const float *x,
               float beta, float *y)
{
    flop_count += 2.0 * M * N;
    cblas_sgemv(CblasRowMajor, trans ? CblasTrans : CblasNoTrans, M, N, alpha, A, lda, x, 1, beta,
                y, 1);
}

double mtb_flops_take(void)
{
    double f = flop_count;
    flop_count = 0.0;
    return f;
}

double mtb_sgemm_rate(int n, int reps)
{
    if (n < 1 || reps < 1)
        return NAN;
    size_t nn = (size_t)n * n;
    float *a = malloc(sizeof(float) * nn), *b = malloc(sizeof(float) * nn), *c = malloc(sizeof(float) * nn);
    if (!a || !b || !c) {
        free(a), free(b), free(c);
        return NAN;
    }
    for (size_t i = 0; i < nn; i++)
        a[i] = (float)(i % 7) * 0.1f, b[i] = (float)(i % 5) * 0.1f;
    double best = INFINITY;
    for (int r = 0; r <= reps; r++) {
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        double t = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
        if (r > 0 && t < best) /* r = 0 is the warm-up */
            best = t;
    }
    free(a), free(b), free(c);
    return 2.0 * n * (double)n * n / best;
}

/* ---- dense ------------------------------------------------------------------- */

/* A dense layer's scratch: the weight gradients of chunk tasks, (chunk out, in), then their
 * biases (chunk out). */
#define DENSE_WORK_FLOATS (1L << 22)

int mtb_dense_chunk(int in, int out, int T)
{
    long per_task = (long)out * in + out;
    long c = DENSE_WORK_FLOATS / per_task;
    return c < 2 || T < 2 ? 1 : c < T ? (int)c : T;
}

size_t mtb_layer_work_floats(const mtb_layer *l)
{
    if (l->kind == MTB_LAYER_CONV)
        return mtb_conv_work_floats(l);
    if (l->kind == MTB_LAYER_DENSE && l->chunk > 1)
        return (size_t)l->chunk * ((size_t)l->out * l->in + (size_t)l->out);
    return 0;
}

static void dense_forward(const mtb_layer *l, const float *theta, const float *x, float *y, int B)
{
    const float *W = theta, *b = theta + (size_t)l->out * l->in;
    for (int r = 0; r < B; r++)
        memcpy(y + (size_t)r * l->out, b, sizeof(float) * (size_t)l->out);
    mtb_sgemm(0, 1, B, l->out, l->in, 1.0f, x, l->in, W, l->in, 1.0f, y, l->out);
}

/* Many tasks: the weight gradients of the g tasks from s0 on are the rows of one product,
 * (g out, in) = dy[:, s0.., :]^T (g out, B) x (B, in), so x is packed once per group
 * instead of once per task (the per-task products were small and spent a fifth of the
 * T = 128 parameter-gradient step in OpenBLAS's packing, bench/README.md); their biases one
 * sgemv. Task s0 + j's dW is rows j out.. of l->work, its db entries g out * in + j out..;
 * returns g. */
static int group_grads(const mtb_layer *l, const float *x, const float *dy, int B, int S, int s0,
                       const float *ones_B)
{
    const int in = l->in, out = l->out;
    const int g = S - s0 < l->chunk ? S - s0 : l->chunk;
    float *dWg = l->work, *dbg = l->work + (size_t)g * out * in;
    mtb_sgemm(1, 0, g * out, in, B, 1.0f, dy + (size_t)s0 * out, S * out, x, in, 0.0f, dWg, in);
    mtb_sgemv(1, B, g * out, 1.0f, dy + (size_t)s0 * out, S * out, ones_B, 0.0f, dbg);
    return g;
}

/* Every task's gradients by groups (group_grads), task s's rows copied into its block of
 * dtheta (float) or widened into its block of dtheta_d (double; dtheta NULL). */
static void scatter_groups(const mtb_layer *l, const float *x, const float *dy, int B, int S,
                          const float *ones_B, float *dtheta, double *dtheta_d, size_t stride)
{
    const int out = l->out;
    const size_t nW = (size_t)out * l->in;
    for (int s0 = 0; s0 < S; s0 += l->chunk) {
        const int g = group_grads(l, x, dy, B, S, s0, ones_B);
        const float *dWg = l->work, *dbg = l->work + (size_t)g * nW;
        for (int j = 0; j < g; j++) {
            const size_t at = (size_t)(s0 + j) * stride;
            if (dtheta) {
                memcpy(dtheta + at, dWg + (size_t)j * nW, sizeof(float) * nW);
                memcpy(dtheta + at + nW, dbg + (size_t)j * out, sizeof(float) * (size_t)out);
            } else {
                mtb_vk_widen(nW, dWg + (size_t)j * nW, dtheta_d + at);
                mtb_vk_widen((size_t)out, dbg + (size_t)j * out, dtheta_d + at + nW);
            }
        }
    }
}

static void dense_backward(const mtb_layer *l, const float *theta, const float *x, const float *y,
                           const float *dy, float *dx, float *dtheta, size_t dtheta_stride, int B,
                           int S, const float *ones_B)
{
    (void)y;
    const int in = l->in, out = l->out;
    const float *W = theta;
    if (dx)
        mtb_sgemm(0, 0, B * S, in, out, 1.0f, dy, out, W, in, 0.0f, dx, in);
    if (!dtheta)
        return;
    if (S == 1 || !l->work) {
        for (int s = 0; s < S; s++) {
            float *dW = dtheta + (size_t)s * dtheta_stride, *db = dW + (size_t)out * in;
            mtb_sgemm(1, 0, out, in, B, 1.0f, dy + (size_t)s * out, S * out, x, in, 0.0f, dW, in);
            mtb_sgemv(1, B, out, 1.0f, dy + (size_t)s * out, S * out, ones_B, 0.0f, db);
        }
        return;
    }
    scatter_groups(l, x, dy, B, S, ones_B, dtheta, NULL, dtheta_stride);
}

/* The same gradients as dense_backward's, widened to double straight from the scratch: the
 * trainer's T x P Jacobian G without its float copy (at T = 128 on the mtr shape that copy and
 * its conversion moved 240 MB per step). */
static void dense_param_grads_d(const mtb_layer *l, const float *x, const float *dy,
                                double *dtheta_d, size_t dtheta_stride, int B, int S,
                                const float *ones_B)
{
    scatter_groups(l, x, dy, B, S, ones_B, NULL, dtheta_d, dtheta_stride);
}

/* ---- activations ------------------------------------------------------------------ */

static void tanh_forward(const mtb_layer *l, const float *theta, const float *x, float *y, int B)
{
    (void)theta;
    mtb_vk_tanh((size_t)B * l->out, x, y);
}

static void relu_forward(const mtb_layer *l, const float *theta, const float *x, float *y, int B)
{
    (void)theta;
    size_t n = (size_t)B * l->out;
    for (size_t i = 0; i < n; i++)
        y[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

/* dx[b, s, j] = dy[b, s, j] * f'(y[b, j]) for all S stacked cotangents. */
static void act_backward(const mtb_layer *l, const float *y, const float *dy, float *dx, int B,
                         int S, int is_tanh)
{
    const int w = l->out;
    if (S == 1) { /* rows of y and dy line up: one call over the whole batch */
        (is_tanh ? mtb_vk_tanh_grad : mtb_vk_relu_grad)((size_t)B * w, y, dy, dx);
        return;
    }
    for (int b = 0; b < B; b++) {
        const float *yb = y + (size_t)b * w;
        for (int s = 0; s < S; s++) {
            const float *g = dy + ((size_t)b * S + s) * w;
            float *o = dx + ((size_t)b * S + s) * w;
            (is_tanh ? mtb_vk_tanh_grad : mtb_vk_relu_grad)((size_t)w, yb, g, o);
        }
    }
}

static void tanh_backward(const mtb_layer *l, const float *theta, const float *x, const float *y,
                          const float *dy, float *dx, float *dtheta, size_t dtheta_stride, int B,
                          int S, const float *ones_B)
{
    (void)theta, (void)x, (void)dtheta, (void)dtheta_stride, (void)ones_B;
    if (dx)
        act_backward(l, y, dy, dx, B, S, 1);
}

static void relu_backward(const mtb_layer *l, const float *theta, const float *x, const float *y,
                          const float *dy, float *dx, float *dtheta, size_t dtheta_stride, int B,
                          int S, const float *ones_B)
{
    (void)theta, (void)x, (void)dtheta, (void)dtheta_stride, (void)ones_B;
    if (dx)
        act_backward(l, y, dy, dx, B, S, 0);
}

static const mtb_layer_ops dense_ops = {"dense", dense_forward, dense_backward, dense_param_grads_d};
static const mtb_layer_ops tanh_ops = {"tanh", tanh_forward, tanh_backward, NULL};
static const mtb_layer_ops relu_ops = {"relu", relu_forward, relu_backward, NULL};

const mtb_layer_ops *mtb_layer_ops_for(mtb_layer_kind kind)
{
    switch (kind) {
    case MTB_LAYER_DENSE: return &dense_ops;
    case MTB_LAYER_TANH: return &tanh_ops;
    case MTB_LAYER_RELU: return &relu_ops;
    case MTB_LAYER_CONV: return mtb_conv_ops();
    case MTB_LAYER_MAXPOOL: return mtb_pool_ops();
    case MTB_LAYER_FLATTEN: return mtb_flatten_ops();
    }
    return NULL;
}
