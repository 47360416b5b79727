/* A dense layer's weight gradients for S stacked tasks, computed in groups of `chunk` tasks
 * by one product each (layer.c), equal the per-task products: groups of 3 over 7 tasks
 * (3 + 3 + 1) against chunk 1, on a dtheta whose task blocks are strided and padded. The
 * per-element sums run over the same batch in both, so they agree to a few ulp of the
 * largest term (OpenBLAS may block the two shapes differently). */
#include "mtb/layer.h"
#include "mtb/rng.h"

#include <criterion/criterion.h>
#include <math.h>

Test(dense_grouped, grouped_weight_gradients_equal_per_task_ones)
{
    enum { B = 9, IN = 13, OUT = 5, S = 7, CHUNK = 3 };
    const size_t np = (size_t)OUT * IN + OUT, stride = np + 11; /* padded blocks */
    static float x[B * IN], dy[B * S * OUT], theta[OUT * IN + OUT], ones[B];
    static float d1[S * (OUT * IN + OUT + 11)], d2[S * (OUT * IN + OUT + 11)];
    static float dx1[B * S * IN], dx2[B * S * IN], work[CHUNK * (OUT * IN + OUT)];
    mtb_rng r;
    mtb_rng_seed(&r, 11, 0);
    for (int i = 0; i < B * IN; i++)
        x[i] = (float)mtb_rng_normal(&r);
    for (int i = 0; i < B * S * OUT; i++)
        dy[i] = (float)mtb_rng_normal(&r);
    for (size_t i = 0; i < np; i++)
        theta[i] = (float)mtb_rng_normal(&r);
    for (int i = 0; i < B; i++)
        ones[i] = 1.0f;
    for (size_t i = 0; i < sizeof d1 / sizeof *d1; i++)
        d1[i] = d2[i] = -7.0f; /* the padding must stay untouched */

    mtb_layer one = {.kind = MTB_LAYER_DENSE, .ops = mtb_layer_ops_for(MTB_LAYER_DENSE), .in = IN,
                     .out = OUT, .n_params = np, .chunk = 1};
    mtb_layer grouped = one;
    grouped.chunk = CHUNK;
    grouped.work = work;
    cr_assert_eq(mtb_layer_work_floats(&grouped), (size_t)CHUNK * np);
    cr_assert_eq(mtb_layer_work_floats(&one), 0);
    one.ops->backward(&one, theta, x, NULL, dy, dx1, d1, stride, B, S, ones);
    grouped.ops->backward(&grouped, theta, x, NULL, dy, dx2, d2, stride, B, S, ones);

    for (int s = 0; s < S; s++)
        for (size_t i = 0; i < stride; i++) {
            float a = d1[s * stride + i], b = d2[s * stride + i];
            if (i >= np) {
                cr_assert(a == -7.0f && b == -7.0f, "padding of task %d overwritten", s);
                continue;
            }
            cr_assert_leq(fabsf(a - b), 1e-5f * (1.0f + fabsf(a)), "task %d, parameter %zu: %g vs %g",
                          s, i, a, b);
        }
    for (int i = 0; i < B * S * IN; i++)
        cr_assert_eq(dx1[i], dx2[i], "input gradient %d", i);
}

/* The chunk keeps the scratch near 2^22 floats and never exceeds T. */
Test(dense_grouped, chunk_sizes)
{
    cr_assert_eq(mtb_dense_chunk(250, 100, 128), 128);
    cr_assert_eq(mtb_dense_chunk(100, 100, 1), 1);
    cr_assert_eq(mtb_dense_chunk(2048, 2000, 128), 1); /* one task's gradient is 4.1 M floats */
    int c = mtb_dense_chunk(2000, 100, 128);
    cr_assert(c > 1 && (long)c * (2000 * 100 + 100) <= (1L << 22), "chunk %d", c);
}
