/* layer.h: the pluggable layers of a trunk.
 *
 * A layer maps a batch x (B, in) to y (B, out) with parameters theta (n_params floats,
 * a slice of the model's one parameter slab). Its backward pass takes S *stacked*
 * cotangents at once: dy is (B, S, out), i.e. row b holds S cotangents of y[b]. With S = 1
 * this is the ordinary backward pass; with S = T it propagates every task's gradient
 * through the trunk in one go, so each matrix product is S times larger (BLAS runs near
 * peak) instead of S small ones: the fast path for parameter-level task gradients.
 *
 *   dx      (B, S, in), overwritten; NULL when not needed (the first layer).
 *   dtheta  S blocks of n_params floats, block s at dtheta + s * dtheta_stride,
 *           overwritten; NULL when not needed.
 *
 * Layers never allocate: scratch they need is sized by ops->scratch(). New layer kinds
 * (convolution, pooling) implement the same three functions. */
#ifndef MTB_LAYER_H
#define MTB_LAYER_H

#include <stddef.h>

typedef enum mtb_layer_kind {
    MTB_LAYER_DENSE = 0, /* y = x W^T + b, W (out, in) row-major, then b (out) */
    MTB_LAYER_TANH = 1,
    MTB_LAYER_RELU = 2
} mtb_layer_kind;

typedef struct mtb_layer mtb_layer;

typedef struct mtb_layer_ops {
    const char *name;
    void (*forward)(const mtb_layer *l, const float *theta, const float *x, float *y, int B);
    void (*backward)(const mtb_layer *l, const float *theta, const float *x, const float *y,
                     const float *dy, float *dx, float *dtheta, size_t dtheta_stride, int B,
                     int S, const float *ones_B);
} mtb_layer_ops;

struct mtb_layer {
    mtb_layer_kind kind;
    const mtb_layer_ops *ops;
    int in, out;
    size_t n_params;
    size_t offset; /* first parameter in the trunk's slice of the slab */
};

const mtb_layer_ops *mtb_layer_ops_for(mtb_layer_kind kind);

/* Matrix products of the model go through these wrappers so that a step can count its
 * floating-point operations exactly (the benchmark's FLOP bound). Row-major cblas_sgemm /
 * cblas_sgemv semantics; *flops (may be NULL) is incremented by 2 M N K / 2 M N. */
void mtb_sgemm(int transA, int transB, int M, int N, int K, float alpha, const float *A, int lda,
               const float *Bm, int ldb, float beta, float *C, int ldc);
void mtb_sgemv(int trans, int M, int N, float alpha, const float *A, int lda, const float *x,
               float beta, float *y);
/* Thread-unsafe only in the sense that the counter is per thread. */
double mtb_flops_take(void); /* returns the flops counted since the last call and resets */

/* This machine's single-precision matrix-product rate with the current BLAS thread count, in
 * FLOP/s: one warm-up call (caches, thread pools), then the best of `reps` timed (n, n) x (n, n)
 * cblas_sgemm calls. A FLOP bound is counted FLOPs / this rate. NAN if n < 1, reps < 1 or the
 * operands cannot be allocated. */
double mtb_sgemm_rate(int n, int reps);

#endif
