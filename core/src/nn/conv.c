/* conv.c: 2-D convolution (cross-correlation, as every deep-learning library computes it),
 * k x k kernel, stride 1, no padding, by im2col + sgemm, forward and stacked backward
 * (layer.h). Samples are (h, w, c) images, channels last; Ho = h - k + 1, Wo = w - k + 1.
 *
 *   y[b, oy, ox, o] = bias[o] + sum_{ky, kx, c} W[o, ky, kx, c] x[b, oy + ky, ox + kx, c]
 *
 * im2col of a block of n images: col (n Ho Wo, K), row (b, oy, ox), column (ky, kx, c), K =
 * k k c_in. With channels last, one kernel row (kx = 0..k-1, all c) of one output position is
 * k c_in consecutive input floats: one memcpy. Then, for the block,
 *   forward    y (n Ho Wo, c_out)   = col (n Ho Wo, K) W^T (K, c_out)              one sgemm
 *   weights    dW_s (c_out, K)     += dy_s^T (c_out, n Ho Wo) col (n Ho Wo, K)     one sgemm per s
 *              db_s (c_out)        += dy_s^T 1
 *   input      dcol (m Ho Wo, K)    = dy (m Ho Wo, c_out) W (c_out, K), then col2im (scatter-add
 *                                     in a fixed order: deterministic), m cotangent rows at once
 * where dy_s is cotangent s of the block's images: the (B, S, out) rows b S + s; for S = 1 they
 * are contiguous, otherwise they are gathered into the scratch first (n out floats).
 *
 * Why blocks (the spec's sec. 5 measurement): im2col of conv1 for a whole batch of 256 is
 * 65 MB; blocks of a few images keep col in cache and halve conv1's time. The block size is
 * fixed at model creation (l->chunk), so the scratch does not depend on the batch size. */
#include "mtb/layer.h"

#include "image_layers.h"

#include <string.h>

static int out_positions(const mtb_layer *l) { return l->shape_out.h * l->shape_out.w; }
static int kdim(const mtb_layer *l) { return l->kernel * l->kernel * l->shape_in.c; }

/* scratch: col (chunk Ho Wo K) | gathered cotangents (chunk out) | ones (chunk Ho Wo) */
size_t mtb_conv_work_floats(const mtb_layer *l)
{
    const size_t rows = (size_t)l->chunk * (size_t)out_positions(l);
    return rows * (size_t)kdim(l) + (size_t)l->chunk * (size_t)l->out + rows;
}

static float *work_col(const mtb_layer *l) { return l->work; }
static float *work_gather(const mtb_layer *l)
{
    return l->work + (size_t)l->chunk * (size_t)out_positions(l) * (size_t)kdim(l);
}
static float *work_ones(const mtb_layer *l) { return work_gather(l) + (size_t)l->chunk * (size_t)l->out; }

/* col rows of n images starting at x (each `in` floats apart). */
static void im2col(const mtb_layer *l, const float *x, int n, float *col)
{
    const int k = l->kernel, C = l->shape_in.c, W = l->shape_in.w;
    const int Ho = l->shape_out.h, Wo = l->shape_out.w, K = kdim(l);
    const size_t run = (size_t)k * C;
    for (int b = 0; b < n; b++) {
        const float *xb = x + (size_t)b * l->in;
        for (int oy = 0; oy < Ho; oy++)
            for (int ox = 0; ox < Wo; ox++) {
                float *row = col + (((size_t)b * Ho + oy) * Wo + ox) * K;
                for (int ky = 0; ky < k; ky++) {
                    /* runs are short (9 floats for conv1): a loop, not a memcpy call */
                    float *dst = row + (size_t)ky * run;
                    const float *src = xb + ((size_t)(oy + ky) * W + ox) * C;
                    for (size_t j = 0; j < run; j++)
                        dst[j] = src[j];
                }
            }
    }
}

/* dx rows of n images (each `in` floats apart) = the scatter-add of dcol. */
static void col2im(const mtb_layer *l, const float *dcol, int n, float *dx)
{
    const int k = l->kernel, C = l->shape_in.c, W = l->shape_in.w;
    const int Ho = l->shape_out.h, Wo = l->shape_out.w, K = kdim(l);
    const int run = k * C;
    for (int b = 0; b < n; b++) {
        float *xb = dx + (size_t)b * l->in;
        memset(xb, 0, sizeof(float) * (size_t)l->in);
        for (int oy = 0; oy < Ho; oy++)
            for (int ox = 0; ox < Wo; ox++) {
                const float *row = dcol + (((size_t)b * Ho + oy) * Wo + ox) * K;
                for (int ky = 0; ky < k; ky++) {
                    float *dst = xb + ((size_t)(oy + ky) * W + ox) * C;
                    const float *src = row + (size_t)ky * run;
                    for (int j = 0; j < run; j++)
                        dst[j] += src[j];
                }
            }
    }
}

static void conv_forward(const mtb_layer *l, const float *theta, const float *x, float *y, int B)
{
    const int P = out_positions(l), K = kdim(l), Co = l->shape_out.c;
    const float *Wt = theta, *bias = theta + (size_t)Co * K;
    float *col = work_col(l);
    for (int b0 = 0; b0 < B; b0 += l->chunk) {
        const int n = B - b0 < l->chunk ? B - b0 : l->chunk;
        im2col(l, x + (size_t)b0 * l->in, n, col);
        float *yb = y + (size_t)b0 * l->out;
        for (int r = 0; r < n * P; r++)
            memcpy(yb + (size_t)r * Co, bias, sizeof(float) * (size_t)Co);
        mtb_sgemm(0, 1, n * P, Co, K, 1.0f, col, K, Wt, K, 1.0f, yb, Co);
    }
}

static void conv_backward(const mtb_layer *l, const float *theta, const float *x, const float *y,
                          const float *dy, float *dx, float *dtheta, size_t dtheta_stride, int B,
                          int S, const float *ones_B)
{
    (void)y, (void)ones_B;
    const int P = out_positions(l), K = kdim(l), Co = l->shape_out.c, out = l->out;
    float *col = work_col(l), *gather = work_gather(l), *ones = work_ones(l);
    if (dtheta) {
        for (int r = 0; r < l->chunk * P; r++)
            ones[r] = 1.0f;
        for (int b0 = 0; b0 < B; b0 += l->chunk) {
            const int n = B - b0 < l->chunk ? B - b0 : l->chunk;
            const float beta = b0 == 0 ? 0.0f : 1.0f;
            im2col(l, x + (size_t)b0 * l->in, n, col);
            for (int s = 0; s < S; s++) {
                const float *g = dy + (size_t)b0 * out; /* S = 1: rows b0.. are contiguous */
                if (S > 1) {
                    for (int b = 0; b < n; b++)
                        memcpy(gather + (size_t)b * out, dy + ((size_t)(b0 + b) * S + s) * out,
                               sizeof(float) * (size_t)out);
                    g = gather;
                }
                float *dW = dtheta + (size_t)s * dtheta_stride, *db = dW + (size_t)Co * K;
                mtb_sgemm(1, 0, Co, K, n * P, 1.0f, g, Co, col, K, beta, dW, K);
                mtb_sgemv(1, n * P, Co, 1.0f, g, Co, ones, beta, db);
            }
        }
    }
    if (dx) {
        /* every (b, s) cotangent is one image row of dy and of dx: blocks of chunk rows */
        const float *Wt = theta;
        const int R = B * S;
        for (int r0 = 0; r0 < R; r0 += l->chunk) {
            const int m = R - r0 < l->chunk ? R - r0 : l->chunk;
            mtb_sgemm(0, 0, m * P, K, Co, 1.0f, dy + (size_t)r0 * out, Co, Wt, K, 0.0f, col, K);
            col2im(l, col, m, dx + (size_t)r0 * l->in);
        }
    }
}

static const mtb_layer_ops conv_ops = {"conv", conv_forward, conv_backward, NULL};

const mtb_layer_ops *mtb_conv_ops(void) { return &conv_ops; }
