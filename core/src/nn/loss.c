/* loss.c: task losses. Sums run in double; each loss is a mean as PyTorch's default
 * "mean" reduction computes it, so numbers compare with the papers' code.
 *
 *   MSE  l = 1/(B K) sum (yhat - y)^2            dl/dyhat = 2 (yhat - y) / (B K)
 *        (each row's sum in float, in the fixed lanes of vec_kernels.c; rows in double)
 *   L1   l = 1/(B K) sum |yhat - y|              dl/dyhat = sign(yhat - y) / (B K)   (0 at a tie)
 *   BCE  l = 1/(B K) sum w_y * softplus-form     with z the logit, p = sigmoid(z):
 *          -[w1 y log p + w0 (1 - y) log(1 - p)] = w1 y softplus(-z) + w0 (1 - y) softplus(z)
 *          dl/dz = (w0 (1 - y) p - w1 y (1 - p)) / (B K);   w0 = w1 = 1 when unweighted
 *   CE   l = sum_b w_{c_b} (-log softmax(z_b)_{c_b}) / sum_b w_{c_b}   over labelled rows (c_b >= 0)
 *          dl/dz_b = w_{c_b} (softmax(z_b) - e_{c_b}) / sum_b w_{c_b}
 *          (PyTorch's CrossEntropyLoss with weight= and ignore_index=-1: a weighted mean). */
#include "mtb/loss.h"

#include "vec_kernels.h"

#include <math.h>

static double softplus(double z) { return z > 0 ? z + log1p(exp(-z)) : log1p(exp(z)); }
static double sigmoid(double z)
{
    if (z >= 0)
        return 1.0 / (1.0 + exp(-z));
    double e = exp(z);
    return e / (1.0 + e);
}

static void bce_weights(const mtb_task_spec *t, double *w0, double *w1)
{
    *w0 = t->n_class_weights == 2 ? t->class_weights[0] : 1.0;
    *w1 = t->n_class_weights == 2 ? t->class_weights[1] : 1.0;
}

static double class_weight(const mtb_task_spec *t, int c)
{
    return t->n_class_weights > c ? t->class_weights[c] : 1.0;
}

/* Row b's log-sum-exp over K logits, stable. */
static double logsumexp(const float *z, int K)
{
    double mx = z[0];
    for (int k = 1; k < K; k++)
        if (z[k] > mx)
            mx = z[k];
    double s = 0.0;
    for (int k = 0; k < K; k++)
        s += exp(z[k] - mx);
    return mx + log(s);
}

/* A CE target is a class index stored as float; anything outside [0, K) counts as unlabelled. */
static int ce_label(float y, int K)
{
    int c = (int)lrintf(y);
    return (c >= 0 && c < K && (float)c == y) ? c : -1;
}

double mtb_loss_forward(const mtb_task_spec *t, const float *yhat, size_t ldyhat, const float *y,
                        size_t ldy, int B)
{
    const int K = t->out_width;
    double s = 0.0;
    switch (t->loss) {
    case MTB_LOSS_MSE:
        /* the fused pass's sums (mtb_loss_forward_backward), so that a loss computed alone
         * equals the training pass's loss bit for bit */
        for (int b = 0; b < B; b++)
            s += mtb_vk_sq_err_row(K, yhat + b * ldyhat, y + b * ldy);
        return s / ((double)B * K);
    case MTB_LOSS_L1:
        for (int b = 0; b < B; b++)
            for (int k = 0; k < K; k++)
                s += fabs((double)yhat[b * ldyhat + k] - (double)y[b * ldy + k]);
        return s / ((double)B * K);
    case MTB_LOSS_BCE: {
        double w0, w1;
        bce_weights(t, &w0, &w1);
        for (int b = 0; b < B; b++)
            for (int k = 0; k < K; k++) {
                double z = yhat[b * ldyhat + k], yy = y[b * ldy + k];
                s += w1 * yy * softplus(-z) + w0 * (1.0 - yy) * softplus(z);
            }
        return s / ((double)B * K);
    }
    case MTB_LOSS_CE: {
        double wsum = 0.0;
        for (int b = 0; b < B; b++) {
            int c = ce_label(y[b * ldy], K);
            if (c < 0)
                continue;
            double w = class_weight(t, c);
            const float *z = yhat + b * ldyhat;
            s += w * (logsumexp(z, K) - z[c]);
            wsum += w;
        }
        return wsum > 0.0 ? s / wsum : 0.0;
    }
    }
    return NAN;
}

void mtb_loss_backward(const mtb_task_spec *t, const float *yhat, size_t ldyhat, const float *y,
                       size_t ldy, int B, float scale, float *dyhat, size_t lddyhat)
{
    const int K = t->out_width;
    const double inv = (double)scale / ((double)B * K);
    switch (t->loss) {
    case MTB_LOSS_MSE:
        for (int b = 0; b < B; b++)
            for (int k = 0; k < K; k++)
                dyhat[b * lddyhat + k] =
                    (float)(2.0 * inv * ((double)yhat[b * ldyhat + k] - (double)y[b * ldy + k]));
        return;
    case MTB_LOSS_L1:
        for (int b = 0; b < B; b++)
            for (int k = 0; k < K; k++) {
                float e = yhat[b * ldyhat + k] - y[b * ldy + k];
                dyhat[b * lddyhat + k] = (float)(inv * (double)((e > 0.0f) - (e < 0.0f)));
            }
        return;
    case MTB_LOSS_BCE: {
        double w0, w1;
        bce_weights(t, &w0, &w1);
        for (int b = 0; b < B; b++)
            for (int k = 0; k < K; k++) {
                double p = sigmoid(yhat[b * ldyhat + k]), yy = y[b * ldy + k];
                dyhat[b * lddyhat + k] = (float)(inv * (w0 * (1.0 - yy) * p - w1 * yy * (1.0 - p)));
            }
        return;
    }
    case MTB_LOSS_CE: {
        double wsum = 0.0;
        for (int b = 0; b < B; b++) {
            int c = ce_label(y[b * ldy], K);
            if (c >= 0)
                wsum += class_weight(t, c);
        }
        for (int b = 0; b < B; b++) {
            const float *z = yhat + b * ldyhat;
            float *d = dyhat + b * lddyhat;
            int c = ce_label(y[b * ldy], K);
            if (c < 0 || !(wsum > 0.0)) {
                for (int k = 0; k < K; k++)
                    d[k] = 0.0f;
                continue;
            }
            double g = (double)scale * class_weight(t, c) / wsum, lse = logsumexp(z, K);
            for (int k = 0; k < K; k++)
                d[k] = (float)(g * (exp(z[k] - lse) - (k == c)));
        }
        return;
    }
    }
}

double mtb_loss_forward_backward(const mtb_task_spec *t, const float *yhat, size_t ldyhat,
                                 const float *y, size_t ldy, int B, float scale, float *dyhat,
                                 size_t lddyhat)
{
    if (t->loss != MTB_LOSS_MSE) {
        mtb_loss_backward(t, yhat, ldyhat, y, ldy, B, scale, dyhat, lddyhat);
        return mtb_loss_forward(t, yhat, ldyhat, y, ldy, B);
    }
    /* MSE, the hot case of the regression benchmarks: error, its square and the gradient
     * in one pass; each row's sum in float (vec_kernels.c: the same lanes on every SIMD
     * width), rows summed in double. */
    const int K = t->out_width;
    const float g = (float)(2.0 * scale / ((double)B * K));
    double s = 0.0;
    for (int b = 0; b < B; b++)
        s += mtb_vk_mse_row(K, yhat + b * ldyhat, y + b * ldy, g, dyhat + b * lddyhat);
    return s / ((double)B * K);
}

double mtb_loss_sum_sq_err(const mtb_task_spec *t, const float *yhat, size_t ldyhat,
                           const float *y, size_t ldy, int B)
{
    double s = 0.0;
    for (int b = 0; b < B; b++)
        for (int k = 0; k < t->out_width; k++) {
            double e = (double)yhat[b * ldyhat + k] - (double)y[b * ldy + k];
            s += e * e;
        }
    return s / B;
}
