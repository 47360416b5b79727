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
 * Layers never allocate: a layer that needs scratch (convolution: its im2col block) gets it
 * at model creation (mtb_layer_work_floats, model.c) in l->work, sized for a fixed number
 * of images whatever the batch, so a step allocates nothing.
 *
 * Image layers (convolution, max-pooling, flatten) see each sample as an image of shape
 * (h, w, c) stored row-major, channels last ("HWC"): a sample is still one row of in =
 * h w c floats, so the trainer's buffers and the stacked backward need no change, and
 * flatten is a pure change of shape (a copy). Convolution weights are (c_out, k, k, c_in)
 * row-major, i.e. (c_out, K) with K = k k c_in, then the bias (c_out). For c_in = 1 this is
 * PyTorch's (c_out, c_in, k, k) layout; for c_in > 1 the inner order differs (documented in
 * docs/multifashion.md for anyone porting weights). */
#ifndef MTB_LAYER_H
#define MTB_LAYER_H

#include <stddef.h>

typedef enum mtb_layer_kind {
    MTB_LAYER_DENSE = 0, /* y = x W^T + b, W (out, in) row-major, then b (out) */
    MTB_LAYER_TANH = 1,
    MTB_LAYER_RELU = 2,
    MTB_LAYER_CONV = 3,    /* 2-D convolution, k x k kernel, stride 1, no padding (conv.c) */
    MTB_LAYER_MAXPOOL = 4, /* max over non-overlapping k x k windows, stride k (pool.c) */
    MTB_LAYER_FLATTEN = 5  /* (h, w, c) image -> vector of h w c: the same floats (pool.c) */
} mtb_layer_kind;

/* The shape of an image sample, stored (h, w, c) row-major. */
typedef struct mtb_image_shape {
    int c, h, w;
} mtb_image_shape;

typedef struct mtb_layer mtb_layer;

typedef struct mtb_layer_ops {
    const char *name;
    void (*forward)(const mtb_layer *l, const float *theta, const float *x, float *y, int B);
    void (*backward)(const mtb_layer *l, const float *theta, const float *x, const float *y,
                     const float *dy, float *dx, float *dtheta, size_t dtheta_stride, int B,
                     int S, const float *ones_B);
    /* Optional (NULL when a kind has none): only the S blocks of parameter gradients, written
     * straight into double blocks (block s at dtheta_d + s * dtheta_stride), for the trainer's
     * T x P Jacobian without a float copy of it. Called only when l->work is set. */
    void (*param_grads_d)(const mtb_layer *l, const float *x, const float *dy, double *dtheta_d,
                          size_t dtheta_stride, int B, int S, const float *ones_B);
} mtb_layer_ops;

struct mtb_layer {
    mtb_layer_kind kind;
    const mtb_layer_ops *ops;
    int in, out;
    size_t n_params;
    size_t offset; /* first parameter in the trunk's slice of the slab */
    /* image layers only (zero for dense and activations) */
    mtb_image_shape shape_in, shape_out;
    int kernel;    /* conv: kernel side; maxpool: window side and stride */
    int chunk;     /* conv: images per im2col block (the scratch holds one block);
                    * dense: tasks whose weight gradients one product computes (<= 1: one
                    * product per task, no scratch) */
    float *work;   /* scratch of mtb_layer_work_floats floats, owned by the model */
};

/* Scratch floats layer l needs in l->work (0: none); chunk and shapes must be set. */
size_t mtb_layer_work_floats(const mtb_layer *l);

/* Tasks per weight-gradient product of a dense layer (in -> out) in a model of T tasks:
 * as many as keep its scratch near 2^22 floats (16 MiB), at most T; 1 means none. */
int mtb_dense_chunk(int in, int out, int T);

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
