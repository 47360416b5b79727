/* vec_kernels.c: element-wise kernels, one copy per SIMD width (see vec_kernels.h). */
#include "vec_kernels.h"

#include "fast_tanh.h"

#include <math.h>
#include <stddef.h>

/* target_clones needs GCC's ifunc support on x86-64 ELF; elsewhere the kernels are compiled
 * once for the build's target, with the same results. Not clang: clang 14 names the
 * dispatcher "<name>.ifunc", so calls from other files (to "<name>") do not link; clang
 * builds only the fuzzers here. */
#if defined(__x86_64__) && defined(__ELF__) && defined(__has_attribute) && !defined(__clang__)
#if __has_attribute(target_clones)
#define MTB_VK_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#endif
#endif
#ifndef MTB_VK_CLONES
#define MTB_VK_CLONES
#endif

/* Sum of MTB_VK_LANES partial sums, lane 0 first: the fixed order the tests reproduce. */
#define LANE_TOTAL(acc, total)                                                                 \
    do {                                                                                       \
        for (int l_ = 0; l_ < MTB_VK_LANES; l_++)                                              \
            (total) += (acc)[l_];                                                              \
    } while (0)

MTB_VK_CLONES void mtb_vk_tanh(size_t n, const float *restrict x, float *restrict y)
{
    for (size_t i = 0; i < n; i++)
        y[i] = mtb_tanhf(x[i]);
}

MTB_VK_CLONES void mtb_vk_tanh_grad(size_t n, const float *restrict y, const float *restrict g,
                                    float *restrict o)
{
    for (size_t i = 0; i < n; i++)
        o[i] = g[i] * (1.0f - y[i] * y[i]);
}

MTB_VK_CLONES void mtb_vk_relu_grad(size_t n, const float *restrict y, const float *restrict g,
                                    float *restrict o)
{
    for (size_t i = 0; i < n; i++) {
        /* load g[i] unconditionally: the select then vectorises (a blend); "y > 0 ? g[i] : 0"
         * left a data-dependent branch per element, which made the ReLU backward of
         * lenet-pmtl's first layer cost 4.4 ms */
        const float gi = g[i];
        o[i] = y[i] > 0.0f ? gi : 0.0f;
    }
}

/* sum_k (yh[k] - y[k])^2 in the fixed lanes; with_d: also d[k] = g (yh[k] - y[k]). Inlined
 * into both callers with a constant with_d, so neither keeps the test (a test on d itself
 * stays in the loop, since d may be NULL for all the compiler knows, and keeps it scalar). */
static inline __attribute__((always_inline)) float sq_err_lanes(int K, const float *restrict yh,
                                                                const float *restrict y, float g,
                                                                float *restrict d, int with_d)
{
    float acc[MTB_VK_LANES] = {0};
    int k = 0;
    for (; k + MTB_VK_LANES <= K; k += MTB_VK_LANES)
        for (int l = 0; l < MTB_VK_LANES; l++) {
            float e = yh[k + l] - y[k + l];
            if (with_d)
                d[k + l] = g * e;
            acc[l] += e * e;
        }
    for (int l = 0; k < K; k++, l++) {
        float e = yh[k] - y[k];
        if (with_d)
            d[k] = g * e;
        acc[l] += e * e;
    }
    float total = 0.0f;
    LANE_TOTAL(acc, total);
    return total;
}

MTB_VK_CLONES float mtb_vk_mse_row(int K, const float *restrict yh, const float *restrict y,
                                   float g, float *restrict d)
{
    return sq_err_lanes(K, yh, y, g, d, 1);
}

MTB_VK_CLONES float mtb_vk_sq_err_row(int K, const float *restrict yh, const float *restrict y)
{
    return sq_err_lanes(K, yh, y, 0.0f, NULL, 0);
}

MTB_VK_CLONES double mtb_vk_sumsq(size_t n, const float *restrict x)
{
    double acc[MTB_VK_LANES] = {0};
    size_t i = 0;
    for (; i + MTB_VK_LANES <= n; i += MTB_VK_LANES)
        for (int l = 0; l < MTB_VK_LANES; l++)
            acc[l] += (double)x[i + l] * (double)x[i + l];
    for (int l = 0; i < n; i++, l++)
        acc[l] += (double)x[i] * (double)x[i];
    double total = 0.0;
    LANE_TOTAL(acc, total);
    return total;
}

MTB_VK_CLONES void mtb_vk_widen(size_t n, const float *restrict src, double *restrict dst)
{
    for (size_t i = 0; i < n; i++)
        dst[i] = src[i];
}

MTB_VK_CLONES void mtb_vk_adam(size_t n, float *restrict theta, const float *restrict g,
                               float *restrict m, float *restrict v, float b1, float b2,
                               float step, float inv_bc2, float eps)
{
    const float a1 = 1.0f - b1, a2 = 1.0f - b2;
    for (size_t i = 0; i < n; i++) {
        float gi = g[i];
        float mi = b1 * m[i] + a1 * gi;
        float vi = b2 * v[i] + a2 * gi * gi;
        m[i] = mi;
        v[i] = vi;
        theta[i] -= step * mi / (sqrtf(vi) * inv_bc2 + eps);
    }
}
