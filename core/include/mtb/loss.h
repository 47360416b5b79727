/* loss.h: per-task losses on a batch, forward and backward.
 * yhat is task t's block of the heads' output (B rows, ld columns apart); y its targets.
 * Each returns the per-task mean loss (accumulated in double) and, backward, writes
 * dyhat = scale * d(loss)/d(yhat), overwriting. */
#ifndef MTB_LOSS_H
#define MTB_LOSS_H

#include <stddef.h>

#include "mtb/task.h"

double mtb_loss_forward(const mtb_task_spec *t, const float *yhat, size_t ldyhat, const float *y,
                        size_t ldy, int B);
void mtb_loss_backward(const mtb_task_spec *t, const float *yhat, size_t ldyhat, const float *y,
                       size_t ldy, int B, float scale, float *dyhat, size_t lddyhat);

/* Both at once (one pass over the data; what the training step uses): returns the loss
 * and writes dyhat = scale * d(loss)/d(yhat). */
double mtb_loss_forward_backward(const mtb_task_spec *t, const float *yhat, size_t ldyhat,
                                 const float *y, size_t ldy, int B, float scale, float *dyhat,
                                 size_t lddyhat);

/* Sum over outputs of the squared error, averaged over the batch: the building block of
 * the normalised loss of the SLAW paper (spec sec. 3.1). */
double mtb_loss_sum_sq_err(const mtb_task_spec *t, const float *yhat, size_t ldyhat,
                           const float *y, size_t ldy, int B);

#endif
