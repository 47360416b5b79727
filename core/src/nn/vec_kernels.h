/* vec_kernels.h: the element-wise work of a training step (activations, the MSE loss, the
 * gradient norm, Adam), compiled once per SIMD width and chosen when the library loads.
 *
 * Why: the build is portable x86-64 (SSE2, 4 floats a vector), but these loops are a third
 * of an MTRRegression step once the matrix products run at the BLAS kernel's speed
 * (bench/README.md, "Where the time goes"). GCC's target_clones compiles each function for
 * AVX-512, AVX2 and the baseline; the loader's ifunc resolver picks the best the CPU has,
 * so one binary runs everywhere and at the machine's width (issue "Performance").
 *
 * Same numbers on every width: the element-wise kernels are single IEEE operations per
 * element (C11 mode builds with -ffp-contract=off, so no FMA is formed on the wider
 * targets), and every sum runs in a fixed number of lanes (MTB_VK_LANES) added in a fixed
 * order, not in whatever order the vector width would give. tests/test_vec_kernels.c checks
 * each kernel bit for bit against a scalar loop written in that order. */
#ifndef MTB_VEC_KERNELS_H
#define MTB_VEC_KERNELS_H

#include <stddef.h>

/* Partial sums per reduction; a multiple of every vector width in floats and doubles. */
#define MTB_VK_LANES 16

/* y[i] = tanh(x[i]) (fast_tanh.h). */
void mtb_vk_tanh(size_t n, const float *x, float *y);

/* o[i] = g[i] (1 - y[i]^2): tanh's backward read off its output. */
void mtb_vk_tanh_grad(size_t n, const float *y, const float *g, float *o);

/* o[i] = y[i] > 0 ? g[i] : 0: ReLU's backward. */
void mtb_vk_relu_grad(size_t n, const float *y, const float *g, float *o);

/* One MSE row: d[k] = g (yh[k] - y[k]); returns sum_k (yh[k] - y[k])^2 in float, summed in
 * MTB_VK_LANES lanes then lane by lane. */
float mtb_vk_mse_row(int K, const float *yh, const float *y, float g, float *d);

/* The same sum as mtb_vk_mse_row, bit for bit, without the gradient: the loss alone (FAMO's
 * losses after the update, evaluation) equals the loss the training pass computed. */
float mtb_vk_sq_err_row(int K, const float *yh, const float *y);

/* sum_i x[i]^2 in double, MTB_VK_LANES lanes then lane by lane. */
double mtb_vk_sumsq(size_t n, const float *x);

/* dst[i] = src[i]: float to double, exact (the trainer's Jacobian G and the Gram path's
 * blocks, which the methods read in double). */
void mtb_vk_widen(size_t n, const float *src, double *dst);

/* Adam (Kingma & Ba 2015, Algorithm 1) in float, bias corrections folded into step and
 * inv_bc2 by the caller: m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2;
 * theta -= step m / (sqrt(v) inv_bc2 + eps). */
void mtb_vk_adam(size_t n, float *theta, const float *g, float *m, float *v, float b1, float b2,
                 float step, float inv_bc2, float eps);

#endif
