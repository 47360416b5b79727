/* fast_tanh.h: a branch-free tanh for float that compilers vectorise (libm's tanhf is a
 * scalar call and was ~17 % of an MTRRegression training step).
 *
 *   tanh(a) = expm1(2a) / (expm1(2a) + 2)   for a = |x| clamped to 9 (tanh(9) rounds to 1f),
 *   expm1(y) = (2^n - 1) + 2^n q(r),  y = n ln2 + r, |r| <= ln2 / 2,
 *   q(r) = e^r - 1 by its Taylor series to r^7 (truncation < 2e-8 relative on that range).
 * Writing expm1 this way avoids the cancellation of e^y - 1 near 0, so the result keeps
 * full relative accuracy for small x. Measured against double tanh (tests/test_nn_kernels.c):
 * a few ulp. NaN propagates, as tanh's does, so that a non-finite input reaches the checks
 * downstream instead of becoming +-1. */
#ifndef MTB_FAST_TANH_H
#define MTB_FAST_TANH_H

#include <math.h>
#include <stdint.h>
#include <string.h>

/* always_inline: vec_kernels.c compiles it into one loop per SIMD width (target_clones),
 * which GCC would otherwise leave as a call, and a call does not vectorise. Branch-free
 * throughout: a select such as "x != x ? x : t" stayed a branch on the AVX targets and kept
 * the loop scalar there. n = round(y / ln2) comes from adding 1.5 * 2^23 (the float then
 * holds n in its low mantissa bits), so no float-to-int conversion is needed, which would be
 * undefined for NaN; NaN instead passes the clamp (a comparison with NaN is false) and
 * every operation after it. */
static inline __attribute__((always_inline)) float mtb_tanhf(float x)
{
    const float ln2_hi = 0.693145752f, ln2_lo = 1.42860677e-6f, inv_ln2 = 1.44269504f;
    const float shifter = 0x1.8p23f;
    float a = fabsf(x);
    a = a > 9.0f ? 9.0f : a;
    float y = 2.0f * a;
    float k = y * inv_ln2 + shifter;
    float n = k - shifter;
    float r = (y - n * ln2_hi) - n * ln2_lo;
    float q = r * (1.0f + r * (0.5f + r * (1.0f / 6 + r * (1.0f / 24 + r * (1.0f / 120 +
                  r * (1.0f / 720 + r * (1.0f / 5040)))))));
    /* k's bits are those of 1.5 * 2^23 plus n; shifted by 23 only n + 127 remains: 2^n */
    uint32_t kb;
    memcpy(&kb, &k, sizeof kb);
    uint32_t bits = (kb + 127u) << 23;
    float s;
    memcpy(&s, &bits, sizeof s);
    float em1 = (s - 1.0f) + s * q;
    return copysignf(em1 / (em1 + 2.0f), x);
}

#endif
