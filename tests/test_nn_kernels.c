/* test_nn_kernels.c: the fast paths of the training step agree with their plain versions. */
#include <criterion/criterion.h>
#include <math.h>

#include "../core/src/nn/fast_tanh.h"
#include "mtb/clock.h"
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
    cr_assert_eq(mtb_tanhf(INFINITY), 1.0f);
    cr_assert_eq(mtb_tanhf(-INFINITY), -1.0f);
    /* NaN propagates, as tanh's does: a NaN input must reach the non-finite checks
     * downstream, not turn into +-1 */
    cr_assert(isnan(mtb_tanhf(NAN)), "tanh(NaN) = %g", (double)mtb_tanhf(NAN));
}

/* The fused MSE pass gives the loss the forward pass alone gives, bit for bit (FAMO compares
 * a loss of each kind), both close to a double-precision sum, and the gradient of the
 * separate double-precision backward pass. */
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
    cr_assert(l1 == l2, "fused %.17g, forward alone %.17g", l1, l2);
    double ref = 0.0;
    for (int i = 0; i < B * K; i++)
        ref += ((double)yhat[i] - y[i]) * ((double)yhat[i] - y[i]);
    ref /= (double)B * K;
    /* float sums of 100 squares: relative error <= 100 * 6e-8 */
    cr_assert_lt(fabs(l1 - ref) / ref, 1e-5, "%g vs %g", l1, ref);
    for (int i = 0; i < B * K; i++)
        cr_assert_lt(fabsf(d1[i] - d2[i]), 1e-6f * (fabsf(d2[i]) + 1e-6f) * 10, "entry %d", i);
}

/* The FLOP-bound denominator, 2 n^3 / (fastest of `reps` timed sgemms), NAN for bad sizes.
 * Its value is a measurement, so it is checked for consistency rather than equality:
 *   - the call ran a warm-up and `reps` timed products, each at least as slow as the
 *     fastest, so the wall time of the call is at least reps 2 n^3 / rate: a rate too low
 *     (a lost factor, milliseconds for seconds) fails this;
 *   - a rate too high fails the ceiling RATE_CEILING: 1e13 FLOP/s is far above what one
 *     BLAS thread (or two) of any CPU reaches on a 128^3 product (a few 1e11 at most). */
#define RATE_CEILING 1e13
Test(nn_kernels, sgemm_rate_is_consistent_with_the_time_it_took)
{
    const int n = 128, reps = 3;
    double t0 = mtb_clock_s();
    double r = mtb_sgemm_rate(n, reps);
    double wall = mtb_clock_s() - t0;
    double flops = 2.0 * n * (double)n * n;
    cr_assert_gt(r, 0.0, "rate %g", r);
    cr_assert_leq(r, RATE_CEILING, "rate %g FLOP/s is implausibly high", r);
    cr_assert_geq(wall, reps * flops / r, "the call took %g s, but %d products at %g FLOP/s "
                  "take at least %g s", wall, reps, r, reps * flops / r);
    cr_assert(isnan(mtb_sgemm_rate(0, 2)));
    cr_assert(isnan(mtb_sgemm_rate(64, 0)));
}
