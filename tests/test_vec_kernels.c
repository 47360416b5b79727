/* The element-wise kernels (core/src/nn/vec_kernels.c) give, bit for bit, what a plain
 * scalar loop in the documented order gives: so the clone the loader picked on this CPU
 * (AVX-512, AVX2 or the baseline) cannot change a run's numbers. Lengths cover the
 * remainder after whole blocks of MTB_VK_LANES and the empty case. */
#include "../core/src/nn/fast_tanh.h"
#include "../core/src/nn/vec_kernels.h"
#include "mtb/rng.h"

#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

enum { NMAX = 1000 };
static const size_t LENGTHS[] = {0, 1, 5, 15, 16, 17, 31, 100, 257, NMAX};
#define N_LENGTHS (sizeof LENGTHS / sizeof LENGTHS[0])

static void fill(float *x, size_t n, double scale, uint64_t seed)
{
    mtb_rng r;
    mtb_rng_seed(&r, seed, 0);
    for (size_t i = 0; i < n; i++)
        x[i] = (float)(scale * mtb_rng_normal(&r));
}

static int same_bits(const float *a, const float *b, size_t n)
{
    return memcmp(a, b, n * sizeof *a) == 0;
}

Test(vec_kernels, tanh_and_its_backward_match_the_scalar_loop)
{
    static float x[NMAX], g[NMAX], y[NMAX], ref[NMAX];
    fill(x, NMAX, 4.0, 1);
    fill(g, NMAX, 1.0, 2);
    x[3] = NAN, x[4] = INFINITY, x[5] = -INFINITY, x[6] = -0.0f, x[7] = 1e-30f;
    for (size_t c = 0; c < N_LENGTHS; c++) {
        size_t n = LENGTHS[c];
        mtb_vk_tanh(n, x, y);
        for (size_t i = 0; i < n; i++)
            ref[i] = mtb_tanhf(x[i]);
        cr_assert(same_bits(y, ref, n), "tanh, n = %zu", n);
        mtb_vk_tanh_grad(n, y, g, ref);
        for (size_t i = 0; i < n; i++) {
            float want = g[i] * (1.0f - y[i] * y[i]);
            cr_assert(memcmp(&want, &ref[i], sizeof want) == 0, "tanh', n = %zu, i = %zu", n, i);
        }
        mtb_vk_relu_grad(n, x, g, ref);
        for (size_t i = 0; i < n; i++) {
            float want = x[i] > 0.0f ? g[i] : 0.0f;
            cr_assert(memcmp(&want, &ref[i], sizeof want) == 0, "relu', n = %zu, i = %zu", n, i);
        }
    }
    cr_assert(isnan(y[3]) && y[4] == 1.0f && y[5] == -1.0f && signbit(y[6]));
}

/* Sums: element i goes to lane i mod MTB_VK_LANES, lanes are added from lane 0. */
Test(vec_kernels, sums_run_in_fixed_lanes)
{
    static float yh[NMAX], y[NMAX], d[NMAX];
    fill(yh, NMAX, 1.0, 3);
    fill(y, NMAX, 3.0, 4);
    for (size_t c = 0; c < N_LENGTHS; c++) {
        size_t n = LENGTHS[c];
        double acc[MTB_VK_LANES] = {0}, want = 0.0;
        for (size_t i = 0; i < n; i++)
            acc[i % MTB_VK_LANES] += (double)yh[i] * (double)yh[i];
        for (int l = 0; l < MTB_VK_LANES; l++)
            want += acc[l];
        double got = mtb_vk_sumsq(n, yh);
        cr_assert(memcmp(&got, &want, sizeof got) == 0, "sumsq, n = %zu: %.17g vs %.17g", n, got,
                  want);

        float facc[MTB_VK_LANES] = {0}, fwant = 0.0f, gscale = 0.37f;
        for (size_t i = 0; i < n; i++) {
            float e = yh[i] - y[i];
            facc[i % MTB_VK_LANES] += e * e;
        }
        for (int l = 0; l < MTB_VK_LANES; l++)
            fwant += facc[l];
        float fgot = mtb_vk_mse_row((int)n, yh, y, gscale, d);
        cr_assert(memcmp(&fgot, &fwant, sizeof fgot) == 0, "mse row, n = %zu", n);
        float falone = mtb_vk_sq_err_row((int)n, yh, y);
        cr_assert(memcmp(&falone, &fwant, sizeof falone) == 0, "squared errors, n = %zu", n);
        for (size_t i = 0; i < n; i++) {
            float want_d = gscale * (yh[i] - y[i]);
            cr_assert(memcmp(&want_d, &d[i], sizeof want_d) == 0, "mse grad, n = %zu", n);
        }
    }
}

Test(vec_kernels, adam_matches_the_scalar_loop)
{
    static float th[NMAX], g[NMAX], m[NMAX], v[NMAX];
    static float th2[NMAX], m2[NMAX], v2[NMAX];
    fill(th, NMAX, 1.0, 5);
    fill(g, NMAX, 0.1, 6);
    fill(m, NMAX, 0.01, 7);
    fill(v, NMAX, 0.01, 8);
    for (size_t i = 0; i < NMAX; i++)
        v[i] = v[i] * v[i];
    const float b1 = 0.9f, b2 = 0.999f, step = 1e-3f, inv_bc2 = 3.2f, eps = 1e-8f;
    for (size_t c = 0; c < N_LENGTHS; c++) {
        size_t n = LENGTHS[c];
        memcpy(th2, th, sizeof th), memcpy(m2, m, sizeof m), memcpy(v2, v, sizeof v);
        mtb_vk_adam(n, th2, g, m2, v2, b1, b2, step, inv_bc2, eps);
        for (size_t i = 0; i < NMAX; i++) {
            float mi = m[i], vi = v[i], ti = th[i];
            if (i < n) {
                mi = b1 * m[i] + (1.0f - b1) * g[i];
                vi = b2 * v[i] + (1.0f - b2) * g[i] * g[i];
                ti = th[i] - step * mi / (sqrtf(vi) * inv_bc2 + eps);
            }
            cr_assert(memcmp(&mi, &m2[i], 4) == 0 && memcmp(&vi, &v2[i], 4) == 0 &&
                          memcmp(&ti, &th2[i], 4) == 0,
                      "adam, n = %zu, i = %zu", n, i);
        }
    }
}

Test(vec_kernels, widen_is_the_exact_conversion)
{
    static float x[NMAX];
    static double d[NMAX];
    fill(x, NMAX, 1e3, 7);
    x[0] = NAN, x[1] = -0.0f, x[2] = 1e-40f, x[3] = INFINITY;
    for (size_t c = 0; c < N_LENGTHS; c++) {
        size_t n = LENGTHS[c];
        memset(d, 0, sizeof d);
        mtb_vk_widen(n, x, d);
        for (size_t i = 0; i < n; i++) {
            double ref = x[i];
            cr_assert(memcmp(&d[i], &ref, sizeof ref) == 0, "n %zu, element %zu", n, i);
        }
        if (n < NMAX)
            cr_assert_eq(d[n], 0.0, "wrote past n = %zu", n);
    }
}
