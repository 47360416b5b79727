/* train.h: one multi-task training step, built so that each balancing method gets what it
 * needs without waste.
 *
 *   1. forward: trunk -> z (B, dz) -> all heads in one gemm -> T task losses l_t;
 *   2. on request, the task gradients:
 *        REP:   dl_t/dz for every t, as G (T, B*dz), row t flattened over the batch;
 *        PARAM: dl_t/dtheta_shared for every t, as G (T, P) (P = all trunk parameters, or
 *               only the last dense layer's), computed by propagating the T cotangents
 *               through the trunk *together* (layer.h), in chunks of task_chunk tasks;
 *   3. the balancer turns losses (and G) into head weights and trunk weights or an explicit
 *      trunk gradient;
 *   4. weighted backward: heads get sum_t head_w[t] dl_t/dpsi_t; the trunk gets
 *      sum_t trunk_w[t] dl_t/dtheta (G^T w when G is at parameter level, otherwise one
 *      backward pass of the weighted cotangent) or the explicit gradient;
 *   5. global-norm clipping over everything trained, then the optimiser; the balancer's
 *      learnable scalars are clipped with the rest and updated by an Adam of their own.
 * Interface extensions (balancer.h):
 *   - a method with setup n_samples = K > 1 (MoDo, SDMGrad) gets K samples per step: the
 *     batch is split into K near-equal parts (LibMTL draws K batches; here one batch of K
 *     parts), each part's losses and PARAM gradients (scope all only) are one sample; a
 *     forward of the whole batch then gives the reported losses and the heads' gradients
 *     (head_w applied to the whole batch), and the trunk takes the method's trunk_grad
 *     (or trunk_w applied to the whole batch). Needs batch >= K.
 *   - a method with a setup after_update hook (FAMO): after the optimiser step, one more
 *     forward on the same batch gives the T losses for mtb_balancer_after_update.
 *   - REP gradients come with the representation and its width (in->rep: Z, dim = dim z).
 *   - PARAM gradients of scope all come with their parameter blocks (in->blocks): one per
 *     parameter tensor, each dense layer's weight then its bias, computed once in
 *     mtb_trainer_new (MetaBalance, MTAdam).
 * Every buffer is allocated in mtb_trainer_new for the largest batch; a step allocates
 * nothing. */
#ifndef MTB_TRAIN_H
#define MTB_TRAIN_H

#include <stddef.h>

#include "mtb/balancer.h"
#include "mtb/metric.h"
#include "mtb/model.h"
#include "mtb/optim.h"
#include "mtb/task.h"

typedef struct mtb_trainer_config {
    mtb_optim_config optim;
    double clip_norm;       /* max global L2 norm of the gradient; 0 = no clipping */
    int batch_max;          /* largest batch a step or evaluation receives */
    int task_chunk;         /* tasks propagated together for PARAM gradients; 0 = all */
    mtb_need need;          /* without a balancer (benchmarks): which task gradients to compute */
    mtb_param_scope scope;  /* ... and at which scope */
    /* Optional (T) arrays, copied; NULL = all 1 (problem.h):
     *   out_scale:  head t's output is out_scale[t] (W_t z + b_t), a fixed scale that lets a
     *               head reach targets of any magnitude (LSD-6's regression heads);
     *   loss_scale: task t's loss (and its gradient) is multiplied by loss_scale[t] before
     *               the balancer sees it (LSD-6xk@t). Reported losses include it. */
    const double *out_scale;
    const double *loss_scale;
} mtb_trainer_config;

typedef struct mtb_step_result {
    const double *losses;    /* (T) raw task losses of this batch (valid until the next step) */
    const double *head_w;    /* (T) */
    const double *trunk_w;   /* (T) trunk weights; with an explicit gradient, the coefficients
                                the method reports (balancer.h, docs/methods.md) */
    int trunk_grad_set;      /* the trunk got an explicit aggregated gradient */
    double shared_grad_norm; /* norm of the trunk gradient, before clipping */
    double total_grad_norm;  /* norm of everything clipped, before clipping */
} mtb_step_result;

typedef struct mtb_trainer mtb_trainer;

/* model, tasks (T entries) and balancer are borrowed and must outlive the trainer.
 * balancer may be NULL: equal weights, with cfg->need / cfg->scope deciding which task
 * gradients are still computed (for benchmarks of the gradient paths). */
mtb_status mtb_trainer_new(mtb_model *model, const mtb_task_spec *tasks, mtb_balancer *balancer,
                           const mtb_trainer_config *cfg, mtb_trainer **out, mtb_error *err);
/* The same trainer on the Gram path (docs/performance.md "Many tasks without the Jacobian"):
 * PARAM gradients of scope all are never stored as G (T, P); each step accumulates only the
 * Gram matrix G G^T = sum_b G_b G_b^T over parameter blocks b (dsyrk), hands it to a method
 * whose setup has gram_ok (MGDA, IMTL-G level=param; MTB_EINVAL for any other; balancer NULL
 * with cfg->need PARAM, scope all: benchmarks) and back-propagates sum_t w_t l_t once.
 * gram_block: floats per task in one parameter block; a dense weight is cut into runs of
 * whole rows of at most that many floats (at least one row), a bias is one block; 0 = 32768.
 * Memory: O(T^2) doubles + T max(gram_block, widest layer input, widest layer) floats and
 * doubles + the stacked cotangents B T max_width floats, instead of T P floats and doubles.
 * Dense trunks (dense layers and activations) only. */
mtb_status mtb_trainer_new_gram(mtb_model *model, const mtb_task_spec *tasks,
                                mtb_balancer *balancer, const mtb_trainer_config *cfg,
                                size_t gram_block, mtb_trainer **out, mtb_error *err);
void mtb_trainer_free(mtb_trainer *tr); /* NULL ok */

/* One full step on the batch x (B, d_in), y (B, ldy). */
mtb_status mtb_trainer_step(mtb_trainer *tr, const float *x, const float *y, size_t ldy, int B,
                            long step, long epoch, mtb_step_result *res, mtb_error *err);

/* The pieces of a step, exposed for tests and for tools that inspect gradients. */
/* Forward, the T losses and the task gradients at (need, scope); returns the losses
 * (T) and G (T, *D) (NULL for LOSSES). Pointers stay valid until the next call. */
mtb_status mtb_trainer_task_grads(mtb_trainer *tr, const float *x, const float *y, size_t ldy,
                                  int B, mtb_need need, mtb_param_scope scope,
                                  const double **losses, const double **G, size_t *D,
                                  mtb_error *err);
/* The Gram path: forward, the T losses (T) and M = G G^T (T, T, row-major,
 * symmetric, double) of the shared-parameter task gradients, accumulated block by block
 * without forming G (trainer made by mtb_trainer_new_gram); mtb_trainer_weighted_grad may follow (trunk_w applied by one backward
 * pass; no explicit trunk_grad). Pointers stay valid until the next call. */
mtb_status mtb_trainer_task_gram(mtb_trainer *tr, const float *x, const float *y, size_t ldy,
                                 int B, const double **losses, const double **gram,
                                 mtb_error *err);
/* After mtb_trainer_task_grads on the same batch: writes the model's gradient
 * (model->grad) of sum_t head_w[t] l_t for the heads and sum_t trunk_w[t] l_t (or the
 * explicit trunk_grad, D values at the level of the last task_grads call) for the trunk. */
mtb_status mtb_trainer_weighted_grad(mtb_trainer *tr, const double *head_w, const double *trunk_w,
                                     const double *trunk_grad, mtb_error *err);

/* Skip the backward of zero-weight heads (rlw.md R8; ICLR: "unused tasks need no loss"):
 * from the next step on, heads whose step weight is exactly 0 (Bernoulli RLW draws) get no
 * head-gradient product and no share of the trunk cotangent; their parameter gradient is
 * set to exactly 0, which is what the full computation gives, so the step equals the
 * unskipped one up to BLAS's summation order. Their forward and loss still run: the weights
 * are known only after the method has seen the step's losses, and every run file records
 * all T losses. on = 0 restores the full computation. */
void mtb_trainer_set_skip_zero_heads(mtb_trainer *tr, int on);

/* Forward only over n samples (in batches of batch_max): per-task mean loss (sample-weighted
 * over batches) and, for every task, the batch mean of the squared error summed over
 * outputs (the normalised loss's building block; 0 for classification tasks). */
mtb_status mtb_trainer_evaluate(mtb_trainer *tr, const float *x, const float *y, size_t ldy,
                                size_t n, double *losses, double *sum_sq_err, mtb_error *err);

/* The same, and metrics (metric.h): metric i is metrics[i] of task metric_task[i];
 * values (n_metrics) receives its mean over the n samples (NAN where no sample counts,
 * 0 metrics allowed). */
mtb_status mtb_trainer_evaluate_metrics(mtb_trainer *tr, const float *x, const float *y,
                                        size_t ldy, size_t n, int n_metrics,
                                        const mtb_metric *metrics, const int *metric_task,
                                        double *losses, double *sum_sq_err, double *values,
                                        mtb_error *err);

/* Floating-point operations of the matrix products of the last step (for FLOP bounds). */
double mtb_trainer_last_flops(const mtb_trainer *tr);

#endif
