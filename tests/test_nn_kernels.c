/* test_nn_kernels.c: the fast paths of the training step agree with their plain versions. */
#include <criterion/criterion.h>
#include <math.h>

#include "../core/src/nn/fast_tanh.h"
#include "mtb/layer.h"
#include "mtb/loss.h"
#include "mtb/rng.h"

/* mtb_tanhf against double tanh on a dense grid over [-12, 12] and tiny arguments.
 * float's unit roundoff is 6e-8; 4e-7 relative (a few ulp) is what the Taylor truncation
 * (< 2e-8), the float range reduction and the final division can add up to. */
Test(nn_kernels, fast_tanh_is_accurate)
{
    double worst = 0.0, at = 0.0;
    for (int i = -240000; i <= 240000; i++) {
        float x = (float)i * 5e-5f;
        double ref = tanh((double)x), e = fabs((double)mtb_tanhf(x) - ref) / fmax(fabs(ref), 1e-30);
        if (e > worst)
            worst = e, at = x;
    }
    for (float x = 1e-30f; x < 1e-3f; x *= 1.7f) {
        double e = fabs((double)mtb_tanhf(x) - tanh((double)x)) / tanh((double)x);
        if (e > worst)
            worst = e, at = x;
    }
    cr_assert_lt(worst, 4e-7, "max relative error %g at x = %g", worst, at);
    cr_assert_eq(mtb_tanhf(0.0f), 0.0f);
    cr_assert_eq(mtb_tanhf(50.0f), 1.0f);
    cr_assert_eq(mtb_tanhf(-50.0f), -1.0f);
    cr_assert(isnan(mtb_tanhf(NAN)) || fabsf(mtb_tanhf(NAN)) <= 1.0f);
}

/* The fused MSE pass (float row sums) matches the separate double-precision passes. */
Test(nn_kernels, fused_mse_matches_separate_passes)
{
    enum { B = 37, K = 100 };
    static float yhat[B * K], y[B * K], d1[B * K], d2[B * K];
    mtb_rng r;
    mtb_rng_seed(&r, 5, 0);
    for (int i = 0; i < B * K; i++)
        yhat[i] = (float)mtb_rng_normal(&r), y[i] = (float)(3.0 * mtb_rng_normal(&r));
    mtb_task_spec t = {MTB_LOSS_MSE, K, K, 0, 1.0, 0, {0}};
    double l1 = mtb_loss_forward_backward(&t, yhat, K, y, K, B, 0.5f, d1, K);
    double l2 = mtb_loss_forward(&t, yhat, K, y, K, B);
    mtb_loss_backward(&t, yhat, K, y, K, B, 0.5f, d2, K);
    /* float sums of 100 squares: relative error <= 100 * 6e-8 */
    cr_assert_lt(fabs(l1 - l2) / l2, 1e-5, "%g vs %g", l1, l2);
    for (int i = 0; i < B * K; i++)
        cr_assert_lt(fabsf(d1[i] - d2[i]), 1e-6f * (fabsf(d2[i]) + 1e-6f) * 10, "entry %d", i);
}

/* The FLOP-bound denominator: a positive finite rate for valid sizes, NAN for bad ones.
 * (Its value is a measurement and is never asserted.) */
Test(nn_kernels, sgemm_rate_is_a_positive_rate)
{
    double r = mtb_sgemm_rate(64, 2);
    cr_assert(isfinite(r) && r > 0.0, "rate %g", r);
    cr_assert(isnan(mtb_sgemm_rate(0, 2)));
    cr_assert(isnan(mtb_sgemm_rate(64, 0)));
}
