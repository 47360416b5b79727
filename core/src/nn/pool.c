/* pool.c: max-pooling over non-overlapping k x k windows (stride k) and flatten, on (h, w, c)
 * images (layer.h). h and w are multiples of k (checked where the model is built).
 *
 *   y[b, i, j, c] = max_{di, dj < k} x[b, k i + di, k j + dj, c]
 *
 * Backward: the cotangent of y[b, i, j, c] goes to the input that attains the max; on a tie
 * (e.g. several zeros after a ReLU) to the first in row-major window order, as PyTorch's
 * MaxPool2d does. The winner is found again from x and y (y is exactly one of the x values),
 * so the layer stores no argmax and stays within the layer contract. The windows do not
 * overlap, so every input receives at most one cotangent: dx is assigned, not accumulated.
 *
 * Flatten: with channels-last storage an image row already is the (h, w, c) vector, so
 * flatten is the identity on the floats; it exists so that a trunk says where the image
 * ends, and costs one copy of its input. */
#include "mtb/layer.h"

#include "image_layers.h"

#include <string.h>

#define MTB_POOL_MAX_WINDOW 256 /* k <= 16 */

/* Offsets (in floats) of the k x k window's entries from its first, row-major; k <= 16. */
static int window_offsets(const mtb_layer *l, size_t *off)
{
    const int k = l->kernel, C = l->shape_in.c, W = l->shape_in.w;
    for (int q = 0; q < k * k; q++)
        off[q] = ((size_t)(q / k) * W + (size_t)(q % k)) * C;
    return k * k;
}

static void pool_forward(const mtb_layer *l, const float *theta, const float *x, float *y, int B)
{
    (void)theta;
    const int k = l->kernel, C = l->shape_in.c, W = l->shape_in.w;
    const int Ho = l->shape_out.h, Wo = l->shape_out.w;
    size_t off[MTB_POOL_MAX_WINDOW];
    const int nq = window_offsets(l, off);
    for (int b = 0; b < B; b++) {
        const float *xb = x + (size_t)b * l->in;
        float *yb = y + (size_t)b * l->out;
        for (int i = 0; i < Ho; i++)
            for (int j = 0; j < Wo; j++) {
                float *o = yb + ((size_t)i * Wo + j) * C;
                const float *w0 = xb + ((size_t)(k * i) * W + (size_t)(k * j)) * C;
                for (int c = 0; c < C; c++)
                    o[c] = w0[c];
                for (int q = 1; q < nq; q++) {
                    const float *v = w0 + off[q];
                    for (int c = 0; c < C; c++)
                        o[c] = v[c] > o[c] ? v[c] : o[c];
                }
            }
    }
}

static void pool_backward(const mtb_layer *l, const float *theta, const float *x, const float *y,
                          const float *dy, float *dx, float *dtheta, size_t dtheta_stride, int B,
                          int S, const float *ones_B)
{
    (void)theta, (void)dtheta, (void)dtheta_stride, (void)ones_B;
    if (!dx)
        return;
    const int k = l->kernel, C = l->shape_in.c, W = l->shape_in.w;
    const int Ho = l->shape_out.h, Wo = l->shape_out.w;
    size_t off[MTB_POOL_MAX_WINDOW];
    const int nq = window_offsets(l, off);
    memset(dx, 0, sizeof(float) * (size_t)B * S * l->in);
    for (int b = 0; b < B; b++) {
        const float *xb = x + (size_t)b * l->in, *yb = y + (size_t)b * l->out;
        for (int i = 0; i < Ho; i++)
            for (int j = 0; j < Wo; j++) {
                const size_t w0 = ((size_t)(k * i) * W + (size_t)(k * j)) * C;
                for (int c = 0; c < C; c++) {
                    const size_t o = ((size_t)i * Wo + j) * C + c;
                    /* the first entry of the window equal to the max, without branches:
                     * which entry wins is data-dependent, and mispredicted early exits
                     * cost more than looking at all k^2 */
                    int q = nq - 1;
                    for (int r = nq - 2; r >= 0; r--)
                        q = xb[w0 + off[r] + c] == yb[o] ? r : q;
                    const size_t win = w0 + off[q] + c;
                    for (int s = 0; s < S; s++)
                        dx[((size_t)b * S + s) * l->in + win] = dy[((size_t)b * S + s) * l->out + o];
                }
            }
    }
}

static void flatten_forward(const mtb_layer *l, const float *theta, const float *x, float *y, int B)
{
    (void)theta;
    memcpy(y, x, sizeof(float) * (size_t)B * l->in);
}

static void flatten_backward(const mtb_layer *l, const float *theta, const float *x, const float *y,
                             const float *dy, float *dx, float *dtheta, size_t dtheta_stride,
                             int B, int S, const float *ones_B)
{
    (void)theta, (void)x, (void)y, (void)dtheta, (void)dtheta_stride, (void)ones_B;
    if (dx)
        memcpy(dx, dy, sizeof(float) * (size_t)B * S * l->in);
}

static const mtb_layer_ops pool_ops = {"maxpool", pool_forward, pool_backward, NULL};
static const mtb_layer_ops flatten_ops = {"flatten", flatten_forward, flatten_backward, NULL};

const mtb_layer_ops *mtb_pool_ops(void) { return &pool_ops; }
const mtb_layer_ops *mtb_flatten_ops(void) { return &flatten_ops; }
