/* trainer.c: the multi-task training step (see train.h for the outline).
 *
 * Shapes, B = batch, T = tasks, dz = dim z, S = tasks in one PARAM chunk, P = columns of G:
 *   act[i]    (B, width_i)        output of trunk layer i (act of the input is x itself)
 *   yhat      (B, sum_out)        all heads; task t's block starts at column head_off[t]
 *   dy_raw    (B, sum_out)        d l_t / d yhat_t, unweighted, every block
 *   dz_stack  (B, T, dz)          d l_t / d z for every t: row b holds T cotangents
 *   bp_a/bp_b (B, S, max_width)   ping-pong buffers of the stacked backward pass
 *   Gf        (T, P) float        PARAM gradients as the layers write them; G (T, P) double
 *                                 (with direct_G, Gf only when a layer has no double path)
 *   G_s, L_s  (K, T, P), (K, T)   a multi-sample method's K per-part gradients and losses
 *
 * Multi-sample methods (setup n_samples = K > 1, balancer.h): the step's batch is split into
 * K near-equal parts (rows [k B / K, (k+1) B / K)); each part gets its own forward and task
 * gradients, which the balancer receives as K samples. LibMTL draws K separate batches; one
 * batch in K parts costs the same and keeps the run loop unchanged. A forward of the whole
 * batch then gives the reported losses and the heads' gradient (head_w applied to the whole
 * batch: the mean over the parts, as LibMTL averages the decoders' gradients over its
 * batches); the trunk gets the method's explicit trunk_grad, or trunk_w applied to the whole
 * batch's task gradients.
 * Methods that want the losses after the update (FAMO): after the optimiser step one more
 * forward on the same batch gives the T losses, handed to mtb_balancer_after_update. */
#include "mtb/train.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mtb/loss.h"
#include "nn/vec_kernels.h"
#include "trainer_internal.h"


static void *xcalloc(size_t n, size_t size, int *fail)
{
    void *p = calloc(n ? n : 1, size);
    if (!p)
        *fail = 1;
    return p;
}

void mtb_trainer_free(mtb_trainer *tr)
{
    if (!tr)
        return;
    if (tr->act)
        for (int i = 1; i <= tr->m->n_layers; i++)
            free(tr->act[i]);
    free(tr->act);
    free(tr->yhat), free(tr->dy_raw), free(tr->dy_w), free(tr->dz_stack), free(tr->dz_agg);
    free(tr->bp_a), free(tr->bp_b), free(tr->ones), free(tr->Gf);
    free(tr->G), free(tr->Zd), free(tr->trunk_grad), free(tr->block_off);
    free(tr->losses), free(tr->head_w), free(tr->trunk_w);
    free(tr->G_s), free(tr->L_s), free(tr->Gp), free(tr->Lp), free(tr->losses_after);
    free(tr->learn_m), free(tr->learn_v);
    free(tr->out_scale), free(tr->loss_scale);
    mtb_trainer_gram_free_(tr);
    mtb_optim_free(&tr->opt);
    free(tr);
}

static mtb_status trainer_new(mtb_model *model, const mtb_task_spec *tasks,
                              mtb_balancer *balancer, const mtb_trainer_config *cfg, int gram,
                              size_t gram_block, mtb_trainer **out, mtb_error *err);

mtb_status mtb_trainer_new(mtb_model *model, const mtb_task_spec *tasks, mtb_balancer *balancer,
                           const mtb_trainer_config *cfg, mtb_trainer **out, mtb_error *err)
{
    return trainer_new(model, tasks, balancer, cfg, 0, 0, out, err);
}

mtb_status mtb_trainer_new_gram(mtb_model *model, const mtb_task_spec *tasks,
                                mtb_balancer *balancer, const mtb_trainer_config *cfg,
                                size_t gram_block, mtb_trainer **out, mtb_error *err)
{
    return trainer_new(model, tasks, balancer, cfg, 1, gram_block, out, err);
}

static mtb_status trainer_new(mtb_model *model, const mtb_task_spec *tasks,
                              mtb_balancer *balancer, const mtb_trainer_config *cfg, int gram,
                              size_t gram_block, mtb_trainer **out, mtb_error *err)
{
    *out = NULL;
    if (cfg->batch_max < 1)
        return mtb_fail(err, MTB_EINVAL, "trainer: batch size must be >= 1, got %d", cfg->batch_max);
    if (cfg->task_chunk < 0)
        return mtb_fail(err, MTB_EINVAL, "trainer: task chunk must be >= 0, got %d", cfg->task_chunk);
    if (!(cfg->clip_norm >= 0.0))
        return mtb_fail(err, MTB_EINVAL, "trainer: clip norm must be >= 0, got %g", cfg->clip_norm);
    const int T = model->T;
    for (int t = 0; t < T; t++)
        if (tasks[t].out_width != model->head_out[t])
            return mtb_fail(err, MTB_EINVAL,
                            "trainer: task %d has %d outputs but its head has %d", t,
                            tasks[t].out_width, model->head_out[t]);

    /* Multi-sample methods (balancer.h): PARAM gradients of scope all, or losses only. */
    const mtb_balancer_setup *su0 = balancer ? mtb_balancer_get_setup(balancer) : NULL;
    if (su0 && su0->n_samples > 1) {
        const char *name = mtb_balancer_get_type(balancer)->name;
        if (su0->need == MTB_NEED_REP_GRADS ||
            (su0->need == MTB_NEED_PARAM_GRADS && su0->scope != MTB_SCOPE_ALL))
            return mtb_fail(err, MTB_EINVAL,
                            "trainer: method %s takes %d samples per step, which the trainer "
                            "supports for parameter gradients of scope all (or losses only)",
                            name, su0->n_samples);
        if (cfg->batch_max < su0->n_samples)
            return mtb_fail(err, MTB_EINVAL,
                            "trainer: method %s splits each batch into %d samples: batch must be "
                            ">= %d, got %d", name, su0->n_samples, su0->n_samples, cfg->batch_max);
    }

    mtb_trainer *tr = calloc(1, sizeof *tr);
    if (!tr)
        return mtb_fail(err, MTB_ENOMEM, "trainer: out of memory");
    tr->m = model;
    tr->tasks = tasks;
    tr->bal = balancer;
    tr->cfg = *cfg;
    tr->Bmax = cfg->batch_max;
    tr->S = cfg->task_chunk > 0 && cfg->task_chunk < T ? cfg->task_chunk : T;
    tr->need = cfg->need;
    tr->scope = cfg->scope;
    const mtb_balancer_setup *setup = balancer ? mtb_balancer_get_setup(balancer) : NULL;
    if (setup) {
        tr->need = setup->need;
        tr->scope = setup->scope;
    }
    tr->P_all = model->n_trunk;
    tr->P_last = model->last_dense_size;
    const size_t B = (size_t)tr->Bmax, dz = (size_t)model->dz, so = (size_t)model->sum_out;
    size_t Dp = tr->scope == MTB_SCOPE_ALL ? tr->P_all : tr->P_last;
    tr->D_max = tr->need == MTB_NEED_REP_GRADS ? B * dz : tr->need == MTB_NEED_PARAM_GRADS ? Dp : 0;
    tr->n_samples = setup && setup->n_samples > 1 ? setup->n_samples : 1;
    tr->wants_after = setup && setup->after_update != NULL;
    if (gram) {
        /* The Gram path (trainer_gram.c): PARAM gradients of scope all, one sample, and a
         * method that reads only G G^T (setup gram_ok) or none (benchmarks). */
        const char *name = balancer ? mtb_balancer_get_type(balancer)->name : "(none)";
        if (tr->need != MTB_NEED_PARAM_GRADS || tr->scope != MTB_SCOPE_ALL || tr->n_samples > 1 ||
            (setup && !setup->gram_ok)) {
            free(tr);
            return mtb_fail(err, MTB_EINVAL,
                            "trainer: the Gram path needs a method that reads only the Gram matrix "
                            "of its parameter gradients (scope all, one sample); method %s does "
                            "not (docs/performance.md lists those that do)", name);
        }
        for (int i = 0; i < model->n_layers; i++)
            if (model->layers[i].n_params && model->layers[i].kind != MTB_LAYER_DENSE) {
                free(tr);
                return mtb_fail(err, MTB_EINVAL, "trainer: the Gram path supports trunks of dense "
                                "layers and activations; layer %d is %s", i,
                                model->layers[i].ops->name);
            }
        tr->gram = 1;
        tr->gram_block = gram_block;
        tr->S = T; /* every task's cotangent goes back together: the blocks need all T rows */
    }
    /* Many tasks against the batch (4 T > B): G is written in double by the layers, and the
     * trunk's weighted gradient is one backward pass of sum_t w_t dl_t/dz (about 4 B P FLOPs)
     * instead of Gf^T w, which reads the whole float Jacobian (4 T P bytes). At T = 128 on
     * the mtr shape (B = 304, P = 156 400) that drops the float copy of G (80 MB written,
     * read back to widen it and again by the sgemv) for 0.2 GFLOP of products. Fewer tasks
     * keep the float path, so their runs' numbers are unchanged bit for bit; both give the
     * same gradient to rounding (tests/test_direct_jacobian.c). */
    tr->direct_G = !tr->gram && tr->need == MTB_NEED_PARAM_GRADS && 4L * T > (long)tr->Bmax;

    int fail = 0;
    tr->act = xcalloc((size_t)model->n_layers + 1, sizeof(float *), &fail);
    if (!fail)
        for (int i = 0; i < model->n_layers; i++)
            tr->act[i + 1] = xcalloc(B * (size_t)model->layers[i].out, sizeof(float), &fail);
    tr->yhat = xcalloc(B * so, sizeof(float), &fail);
    tr->dy_raw = xcalloc(B * so, sizeof(float), &fail);
    tr->dy_w = xcalloc(B * so, sizeof(float), &fail);
    tr->dz_agg = xcalloc(B * dz, sizeof(float), &fail);
    tr->ones = xcalloc(B, sizeof(float), &fail);
    /* The stacked path is needed for PARAM gradients; tests may also ask task_grads for
     * any level, so size the buffers for what the configured need allows. */
    size_t S_bp = tr->need == MTB_NEED_PARAM_GRADS ? (size_t)tr->S : 1;
    tr->bp_a = xcalloc(B * S_bp * (size_t)model->max_width, sizeof(float), &fail);
    tr->bp_b = xcalloc(B * S_bp * (size_t)model->max_width, sizeof(float), &fail);
    if (tr->need != MTB_NEED_LOSSES)
        tr->dz_stack = xcalloc(B * (size_t)T * dz, sizeof(float), &fail);
    if (tr->need == MTB_NEED_REP_GRADS) {
        tr->G = xcalloc((size_t)T * B * dz, sizeof(double), &fail);
        tr->Zd = xcalloc(B * dz, sizeof(double), &fail);
    }
    if (tr->gram)
        mtb_trainer_gram_alloc_(tr, &fail);
    else if (tr->need == MTB_NEED_PARAM_GRADS) {
        /* direct_G needs the float staging only for a layer without a double path */
        int staged = !tr->direct_G;
        for (int i = 0; i < model->n_layers; i++) {
            const mtb_layer *l = &model->layers[i];
            staged |= l->n_params && !(l->ops->param_grads_d && l->work);
        }
        if (staged)
            tr->Gf = xcalloc((size_t)T * Dp, sizeof(float), &fail);
        tr->G = xcalloc((size_t)T * Dp, sizeof(double), &fail);
    }
    if (tr->need != MTB_NEED_LOSSES && !tr->gram)
        tr->trunk_grad = xcalloc(tr->D_max, sizeof(double), &fail);
    tr->losses = xcalloc((size_t)T, sizeof(double), &fail);
    tr->head_w = xcalloc((size_t)T, sizeof(double), &fail);
    tr->trunk_w = xcalloc((size_t)T, sizeof(double), &fail);
    const size_t K = (size_t)tr->n_samples;
    if (K > 1) {
        tr->L_s = xcalloc(K * (size_t)T, sizeof(double), &fail);
        tr->Lp = xcalloc(K, sizeof(double *), &fail);
        tr->Gp = xcalloc(K, sizeof(double *), &fail);
        if (tr->need == MTB_NEED_PARAM_GRADS)
            tr->G_s = xcalloc(K * (size_t)T * Dp, sizeof(double), &fail);
    }
    if (tr->wants_after)
        tr->losses_after = xcalloc((size_t)T, sizeof(double), &fail);
    if (tr->need == MTB_NEED_PARAM_GRADS && tr->scope == MTB_SCOPE_ALL)
        tr->block_off = xcalloc(2 * (size_t)model->n_layers + 1, sizeof(size_t), &fail);
    for (int t = 0; t < T; t++) {
        if (cfg->out_scale && cfg->out_scale[t] != 1.0 && !tr->out_scale)
            tr->out_scale = xcalloc((size_t)T, sizeof(double), &fail);
        if (cfg->loss_scale && cfg->loss_scale[t] != 1.0 && !tr->loss_scale)
            tr->loss_scale = xcalloc((size_t)T, sizeof(double), &fail);
    }
    if (!fail)
        for (int t = 0; t < T; t++) {
            double os = cfg->out_scale ? cfg->out_scale[t] : 1.0;
            double ls = cfg->loss_scale ? cfg->loss_scale[t] : 1.0;
            if (!isfinite(os) || !(os > 0.0) || !isfinite(ls) || !(ls > 0.0)) {
                mtb_trainer_free(tr);
                return mtb_fail(err, MTB_EINVAL, "trainer: task %d has output scale %g and loss "
                                "scale %g; both must be finite and > 0", t, os, ls);
            }
            if (tr->out_scale)
                tr->out_scale[t] = os;
            if (tr->loss_scale)
                tr->loss_scale[t] = ls;
        }
    int n_learn = setup ? setup->n_learn : 0;
    tr->learn_m = xcalloc((size_t)n_learn, sizeof(double), &fail);
    tr->learn_v = xcalloc((size_t)n_learn, sizeof(double), &fail);
    if (fail) {
        mtb_trainer_free(tr);
        return mtb_fail(err, MTB_ENOMEM, "trainer: cannot allocate buffers for batch %d and %d tasks",
                        tr->Bmax, T);
    }
    for (size_t i = 0; i < B; i++)
        tr->ones[i] = 1.0f;
    if (tr->block_off) {
        /* One block per parameter tensor: a dense layer's weight (out, in), then its bias;
         * any other layer kind with parameters is one block. The trunk's parameters are
         * contiguous from 0 (model.h); if they were not, no structure is passed. */
        size_t cur = 0;
        int nb = 0, ok = 1;
        tr->block_off[0] = 0;
        for (int i = 0; i < model->n_layers && ok; i++) {
            const mtb_layer *l = &model->layers[i];
            if (!l->n_params)
                continue;
            ok = l->offset == cur;
            size_t w = (size_t)l->out * (size_t)l->in;
            if (l->kind == MTB_LAYER_DENSE && w < l->n_params)
                tr->block_off[++nb] = cur + w;
            cur += l->n_params;
            tr->block_off[++nb] = cur;
        }
        tr->n_blocks = ok && cur == tr->P_all && nb > 0 && nb <= MTB_MAX_BLOCKS ? nb : 0;
    }
    mtb_status st = mtb_optim_init(&tr->opt, &cfg->optim, model->n_params, err);
    if (st) {
        mtb_trainer_free(tr);
        return st;
    }
    *out = tr;
    return MTB_OK;
}

static void forward(mtb_trainer *tr, const float *x, int B)
{
    const mtb_model *m = tr->m;
    tr->act[0] = (float *)x; /* read only: layers never write their input */
    for (int i = 0; i < m->n_layers; i++) {
        const mtb_layer *l = &m->layers[i];
        l->ops->forward(l, m->theta + l->offset, tr->act[i], tr->act[i + 1], B);
    }
    /* yhat (B, sum_out) = z (B, dz) W_heads^T (dz, sum_out) + b_heads */
    const float *bh = mtb_model_head_b(m);
    for (int r = 0; r < B; r++)
        memcpy(tr->yhat + (size_t)r * m->sum_out, bh, sizeof(float) * (size_t)m->sum_out);
    mtb_sgemm(0, 1, B, m->sum_out, m->dz, 1.0f, tr->act[m->n_layers], m->dz, mtb_model_head_W(m),
              m->dz, 1.0f, tr->yhat, m->sum_out);
    if (tr->out_scale) /* fixed output scales (train.h): yhat_t = s_t (W_t z + b_t) */
        for (int r = 0; r < B; r++) {
            float *row = tr->yhat + (size_t)r * m->sum_out;
            for (int t = 0; t < m->T; t++) {
                const float s = (float)tr->out_scale[t];
                for (int k = m->head_off[t]; k < m->head_off[t] + m->head_out[t]; k++)
                    row[k] *= s;
            }
        }
}

/* The chain-rule factor of task t's loss gradient with respect to the head's raw output:
 * loss scale times output scale (train.h). */
static double grad_factor(const mtb_trainer *tr, int t)
{
    return (tr->loss_scale ? tr->loss_scale[t] : 1.0) * (tr->out_scale ? tr->out_scale[t] : 1.0);
}

static double loss_factor(const mtb_trainer *tr, int t)
{
    return tr->loss_scale ? tr->loss_scale[t] : 1.0;
}

/* Stacked backward through trunk layers (last .. stop): the cotangent of the trunk's
 * output, (B, S, dz), is at `in`; dense layers write their parameter gradients into S
 * blocks (block s at dtheta + s * stride, at position layer offset - base), or, with dtheta_d,
 * into the same places of double blocks: through the layer's param_grads_d where it has one
 * (no float copy), else through dtheta and widened. The input cotangent of layer `stop` is
 * not needed, nor that of layer 0. Intermediate cotangents alternate between bp_a and bp_b. */
static void backward_stack(mtb_trainer *tr, const float *in, int B, int S, int stop, float *dtheta,
                           size_t stride, size_t base, double *dtheta_d)
{
    const mtb_model *m = tr->m;
    const float *cur = in;
    for (int i = m->n_layers - 1; i >= stop; i--) {
        const mtb_layer *l = &m->layers[i];
        const float *theta = m->theta + l->offset;
        float *dx = i > stop ? (cur == tr->bp_a ? tr->bp_b : tr->bp_a) : NULL;
        float *dth = (dtheta && l->n_params) ? dtheta + (l->offset - base) : NULL;
        if (dtheta_d && l->n_params) {
            double *dd = dtheta_d + (l->offset - base);
            if (l->ops->param_grads_d && l->work) {
                l->ops->backward(l, theta, tr->act[i], tr->act[i + 1], cur, dx, NULL, stride, B,
                                 S, tr->ones);
                l->ops->param_grads_d(l, tr->act[i], cur, dd, stride, B, S, tr->ones);
            } else {
                l->ops->backward(l, theta, tr->act[i], tr->act[i + 1], cur, dx, dth, stride, B,
                                 S, tr->ones);
                for (int s = 0; s < S; s++)
                    mtb_vk_widen(l->n_params, dth + (size_t)s * stride, dd + (size_t)s * stride);
            }
        } else {
            l->ops->backward(l, theta, tr->act[i], tr->act[i + 1], cur, dx, dth, stride, B, S,
                             tr->ones);
        }
        cur = dx;
    }
}

mtb_status mtb_trainer_cotangents_(mtb_trainer *tr, const float *x, const float *y, size_t ldy,
                                   int B, mtb_need need, mtb_param_scope scope, int with_dz,
                                   mtb_error *err)
{
    mtb_model *m = tr->m;
    const int T = m->T, dz = m->dz, so = m->sum_out;
    if (B < 1 || B > tr->Bmax)
        return mtb_fail(err, MTB_EINVAL, "trainer: batch of %d rows, expected 1..%d", B, tr->Bmax);
    if (need != MTB_NEED_LOSSES && need != tr->need)
        return mtb_fail(err, MTB_EINVAL,
                        "trainer: task gradients at level %d requested, but the trainer was built "
                        "for level %d", (int)need, (int)tr->need);
    if (need == MTB_NEED_PARAM_GRADS && scope != tr->scope)
        return mtb_fail(err, MTB_EINVAL, "trainer: gradient scope differs from the configured one");
    tr->B = B;
    tr->cur_need = need;
    tr->cur_scope = scope;
    tr->have_dz = 0;
    forward(tr, x, B);

    for (int t = 0; t < T; t++) {
        const mtb_task_spec *ts = &tr->tasks[t];
        const float *yh = tr->yhat + m->head_off[t];
        const float *yt = y + ts->target_offset;
        tr->losses[t] = loss_factor(tr, t) *
                        mtb_loss_forward_backward(ts, yh, (size_t)so, yt, ldy, B,
                                                  (float)grad_factor(tr, t),
                                                  tr->dy_raw + m->head_off[t], (size_t)so);
        if (!isfinite(tr->losses[t]))
            return mtb_fail(err, MTB_ENUMERIC, "trainer: loss of task %d is %g (diverged?)", t,
                            tr->losses[t]);
    }
    tr->cur_D = 0;
    if (!with_dz)
        return MTB_OK;

    /* dz_stack[:, t, :] (B, dz) = dy_raw_t (B, out_t) W_t (out_t, dz) */
    const float *Wh = mtb_model_head_W(m);
    for (int t = 0; t < T; t++)
        mtb_sgemm(0, 0, B, dz, m->head_out[t], 1.0f, tr->dy_raw + m->head_off[t], so,
                  Wh + (size_t)m->head_off[t] * dz, dz, 0.0f, tr->dz_stack + (size_t)t * dz, T * dz);
    tr->have_dz = 1;
    return MTB_OK;
}

mtb_status mtb_trainer_task_grads(mtb_trainer *tr, const float *x, const float *y, size_t ldy,
                                  int B, mtb_need need, mtb_param_scope scope,
                                  const double **losses, const double **G, size_t *D,
                                  mtb_error *err)
{
    mtb_model *m = tr->m;
    const int T = m->T, dz = m->dz;
    if (tr->gram && need == MTB_NEED_PARAM_GRADS)
        return mtb_fail(err, MTB_EINVAL, "trainer: a Gram-path trainer holds no G: call "
                        "mtb_trainer_task_gram");
    mtb_status st = mtb_trainer_cotangents_(tr, x, y, ldy, B, need, scope,
                                            need != MTB_NEED_LOSSES, err);
    if (st)
        return st;
    *losses = tr->losses;
    *G = NULL;
    *D = 0;
    if (need == MTB_NEED_LOSSES)
        return MTB_OK;

    if (need == MTB_NEED_REP_GRADS) {
        const size_t Dr = (size_t)B * dz;
        const float *z = tr->act[m->n_layers];
        for (int t = 0; t < T; t++) {
            double *row = tr->G + (size_t)t * Dr;
            for (int b = 0; b < B; b++)
                for (int j = 0; j < dz; j++)
                    row[(size_t)b * dz + j] = tr->dz_stack[((size_t)b * T + t) * dz + j];
        }
        for (size_t i = 0; i < Dr; i++)
            tr->Zd[i] = z[i];
        tr->cur_D = Dr;
        *G = tr->G;
        *D = Dr;
        return MTB_OK;
    }

    /* PARAM: propagate the T cotangents through the trunk, S tasks at a time. */
    const int stop = scope == MTB_SCOPE_ALL ? 0 : m->last_dense_layer;
    const size_t Dp = scope == MTB_SCOPE_ALL ? tr->P_all : tr->P_last;
    const size_t base = scope == MTB_SCOPE_ALL ? 0 : m->last_dense_offset;
    for (int t0 = 0; t0 < T; t0 += tr->S) {
        int S = T - t0 < tr->S ? T - t0 : tr->S;
        const float *in = tr->dz_stack + (size_t)t0 * dz;
        if (S != T) { /* gather the chunk's cotangents into (B, S, dz) */
            float *dst = tr->bp_b;
            for (int b = 0; b < B; b++)
                memcpy(dst + (size_t)b * S * dz, tr->dz_stack + ((size_t)b * T + t0) * dz,
                       sizeof(float) * (size_t)S * dz);
            in = dst;
        }
        backward_stack(tr, in, B, S, stop, tr->Gf ? tr->Gf + (size_t)t0 * Dp : NULL, Dp, base,
                       tr->direct_G ? tr->G + (size_t)t0 * Dp : NULL);
    }
    if (!tr->direct_G)
        mtb_vk_widen((size_t)T * Dp, tr->Gf, tr->G);
    tr->cur_D = Dp;
    *G = tr->G;
    *D = Dp;
    return MTB_OK;
}

/* The next run [*t0, *t1) of consecutive tasks from t on whose weights are all zero
 * (zero = 1) or all nonzero (zero = 0); returns 0 when t = T. Heads are contiguous column
 * blocks of yhat and row blocks of W_heads, so a run is one block of each. */
static int weight_run(const double *w, int T, int t, int *t1, int *zero)
{
    if (t >= T)
        return 0;
    *zero = w[t] == 0.0;
    int e = t + 1;
    while (e < T && (w[e] == 0.0) == *zero)
        e++;
    *t1 = e;
    return 1;
}

/* The heads' gradient for the tasks [t0, t1), one contiguous block of columns c0..c1 of
 * yhat and of rows of W_heads: dW = dy_w^T z, db = dy_w^T 1 over the block, with dy_w =
 * dy_raw, block t scaled by head_w[t]. */
static void heads_grad_block(mtb_trainer *tr, const double *head_w, int t0, int t1)
{
    mtb_model *m = tr->m;
    const int dz = m->dz, so = m->sum_out, B = tr->B;
    const int c0 = m->head_off[t0], c1 = m->head_off[t1 - 1] + m->head_out[t1 - 1];
    for (int b = 0; b < B; b++)
        for (int t = t0; t < t1; t++) {
            const float w = (float)head_w[t];
            const size_t o = (size_t)b * so + m->head_off[t];
            for (int k = 0; k < m->head_out[t]; k++)
                tr->dy_w[o + k] = w * tr->dy_raw[o + k];
        }
    float *gW = m->grad + m->n_trunk, *gb = gW + (size_t)so * dz;
    mtb_sgemm(1, 0, c1 - c0, dz, B, 1.0f, tr->dy_w + c0, so, tr->act[m->n_layers], dz, 0.0f,
              gW + (size_t)c0 * dz, dz);
    mtb_sgemv(1, B, c1 - c0, 1.0f, tr->dy_w + c0, so, tr->ones, 0.0f, gb + c0);
}

/* skip_zero_heads (mtb_trainer_set_skip_zero_heads, train.h): the heads' gradient, run by
 * run: a zero run's rows of dW_heads and db are set to 0, a nonzero run is one block. */
static void heads_grad_skipping_zeros(mtb_trainer *tr, const double *head_w)
{
    mtb_model *m = tr->m;
    const int T = m->T, dz = m->dz, so = m->sum_out;
    float *gW = m->grad + m->n_trunk, *gb = gW + (size_t)so * dz;
    int t0 = 0, t1, zero;
    for (; weight_run(head_w, T, t0, &t1, &zero); t0 = t1) {
        const int c0 = m->head_off[t0], c1 = m->head_off[t1 - 1] + m->head_out[t1 - 1];
        if (!zero) {
            heads_grad_block(tr, head_w, t0, t1);
            continue;
        }
        memset(gW + (size_t)c0 * dz, 0, sizeof(float) * (size_t)(c1 - c0) * dz);
        memset(gb + c0, 0, sizeof(float) * (size_t)(c1 - c0));
    }
}

/* skip_zero_heads, loss weighting (head_w = trunk_w, dy_w already scaled): dz_agg (B, dz) =
 * the sum over nonzero runs of dy_w's block times W_heads' block; all zero: dz_agg = 0. */
static void trunk_cotangent_skipping_zeros(mtb_trainer *tr, const double *trunk_w)
{
    mtb_model *m = tr->m;
    const int T = m->T, dz = m->dz, so = m->sum_out, B = tr->B;
    const float *Wh = mtb_model_head_W(m);
    float beta = 0.0f;
    int t0 = 0, t1, zero;
    for (; weight_run(trunk_w, T, t0, &t1, &zero); t0 = t1) {
        if (zero)
            continue;
        const int c0 = m->head_off[t0], c1 = m->head_off[t1 - 1] + m->head_out[t1 - 1];
        mtb_sgemm(0, 0, B, dz, c1 - c0, 1.0f, tr->dy_w + c0, so, Wh + (size_t)c0 * dz, dz, beta,
                  tr->dz_agg, dz);
        beta = 1.0f;
    }
    if (beta == 0.0f)
        memset(tr->dz_agg, 0, sizeof(float) * (size_t)B * dz);
}

mtb_status mtb_trainer_weighted_grad(mtb_trainer *tr, const double *head_w, const double *trunk_w,
                                     const double *trunk_grad, mtb_error *err)
{
    mtb_model *m = tr->m;
    const int T = m->T, dz = m->dz, so = m->sum_out, B = tr->B;

    if (tr->skip_zero_heads)
        heads_grad_skipping_zeros(tr, head_w);
    else
        heads_grad_block(tr, head_w, 0, T);

    if (trunk_grad && tr->n_samples > 1 && tr->need == MTB_NEED_PARAM_GRADS) {
        /* multi-sample step: the explicit gradient is at parameter level (scope all) while
         * the last task_grads call was the whole batch's forward (losses only) */
        for (size_t i = 0; i < tr->P_all; i++)
            m->grad[i] = (float)trunk_grad[i];
        return MTB_OK;
    }
    if (tr->cur_need == MTB_NEED_PARAM_GRADS && tr->cur_scope == MTB_SCOPE_ALL) {
        if (trunk_grad) {
            for (size_t i = 0; i < tr->P_all; i++)
                m->grad[i] = (float)trunk_grad[i];
            return MTB_OK;
        }
        if (!tr->direct_G) {
            /* grad_trunk (P) = Gf^T (P, T) w (T) */
            float wf[T];
            for (int t = 0; t < T; t++)
                wf[t] = (float)trunk_w[t];
            mtb_sgemv(1, T, (int)tr->P_all, 1.0f, tr->Gf, (int)tr->P_all, wf, 0.0f, m->grad);
            return MTB_OK;
        }
        /* direct_G: Gf holds no copy; the weighted cotangent's backward below (have_dz) */
    }
    if (trunk_grad && tr->cur_need != MTB_NEED_REP_GRADS)
        return mtb_fail(err, MTB_EINVAL,
                        "trainer: an explicit trunk gradient needs REP or PARAM (scope all) gradients");
    const size_t Dz = (size_t)B * dz;
    if (trunk_grad) {
        for (size_t i = 0; i < Dz; i++)
            tr->dz_agg[i] = (float)trunk_grad[i];
    } else if (tr->have_dz) {
        for (int b = 0; b < B; b++) {
            float *o = tr->dz_agg + (size_t)b * dz;
            for (int j = 0; j < dz; j++)
                o[j] = 0.0f;
            for (int t = 0; t < T; t++) {
                const float w = (float)trunk_w[t];
                if (w == 0.0f && tr->skip_zero_heads)
                    continue;
                const float *g = tr->dz_stack + ((size_t)b * T + t) * dz;
                for (int j = 0; j < dz; j++)
                    o[j] += w * g[j];
            }
        }
    } else {
        /* dz_agg (B, dz) = dy_trunk (B, sum_out) W_heads (sum_out, dz), blocks scaled by
         * trunk_w; loss-weighting methods give heads and trunk the same weights, and dy_w
         * then already holds the scaled blocks. */
        int same = 1;
        for (int t = 0; t < T; t++)
            same &= head_w[t] == trunk_w[t];
        if (same && tr->skip_zero_heads) {
            trunk_cotangent_skipping_zeros(tr, trunk_w);
            backward_stack(tr, tr->dz_agg, B, 1, 0, m->grad, 0, 0, NULL);
            return MTB_OK;
        }
        for (int b = 0; b < B && !same; b++)
            for (int t = 0; t < T; t++) {
                const float w = (float)trunk_w[t];
                const size_t o = (size_t)b * so + m->head_off[t];
                for (int k = 0; k < m->head_out[t]; k++)
                    tr->dy_w[o + k] = w * tr->dy_raw[o + k];
            }
        mtb_sgemm(0, 0, B, dz, so, 1.0f, tr->dy_w, so, mtb_model_head_W(m), dz, 0.0f, tr->dz_agg, dz);
    }
    backward_stack(tr, tr->dz_agg, B, 1, 0, m->grad, 0, 0, NULL);
    return MTB_OK;
}

mtb_status mtb_trainer_step(mtb_trainer *tr, const float *x, const float *y, size_t ldy, int B,
                            long step, long epoch, mtb_step_result *res, mtb_error *err)
{
    mtb_model *m = tr->m;
    const int T = m->T;
    mtb_flops_take();
    const double *losses, *G, *gram = NULL;
    size_t D;
    mtb_status st;
    const int K = tr->n_samples;
    if (K > 1) {
        /* K near-equal parts of the batch, one sample each; then the whole batch (losses
         * only) for the reported losses and the heads' and trunk_w's backward. */
        if (B < K)
            return mtb_fail(err, MTB_EINVAL, "trainer: a batch of %d rows cannot be split into "
                            "the %d samples method %s takes", B, K,
                            mtb_balancer_get_type(tr->bal)->name);
        const int d_in = m->d_in;
        for (int k = 0; k < K; k++) {
            int r0 = (int)((long)k * B / K), r1 = (int)((long)(k + 1) * B / K);
            st = mtb_trainer_task_grads(tr, x + (size_t)r0 * d_in, y + (size_t)r0 * ldy, ldy,
                                        r1 - r0, tr->need, tr->scope, &losses, &G, &D, err);
            if (st)
                return st;
            double *lk = tr->L_s + (size_t)k * T;
            memcpy(lk, losses, (size_t)T * sizeof *lk);
            tr->Lp[k] = lk;
            tr->Gp[k] = NULL;
            if (G) {
                double *gk = tr->G_s + (size_t)k * T * D;
                memcpy(gk, G, (size_t)T * D * sizeof *gk);
                tr->Gp[k] = gk;
            }
        }
        const double *lb, *gb;
        size_t db;
        st = mtb_trainer_task_grads(tr, x, y, ldy, B, MTB_NEED_LOSSES, tr->scope, &lb, &gb, &db, err);
        if (st)
            return st;
        losses = tr->Lp[0];
        G = tr->Gp[0];
    } else if (tr->gram) {
        st = mtb_trainer_task_gram(tr, x, y, ldy, B, &losses, &gram, err); /* trainer_gram.c */
        if (st)
            return st;
        G = NULL;
        D = 0;
    } else {
        st = mtb_trainer_task_grads(tr, x, y, ldy, B, tr->need, tr->scope, &losses, &G, &D, err);
        if (st)
            return st;
    }

    int grad_set = 0;
    const mtb_balancer_setup *setup = tr->bal ? mtb_balancer_get_setup(tr->bal) : NULL;
    if (tr->bal) {
        const int rep = tr->need == MTB_NEED_REP_GRADS;
        mtb_balance_in in = {
            .step = step, .epoch = epoch, .T = T, .losses = losses, .G = G, .D = D,
            .rng = mtb_balancer_rng(tr->bal),
            .samples = {.n = K, .losses = K > 1 ? tr->Lp : NULL, .G = K > 1 && G ? tr->Gp : NULL},
            .rep = {.Z = rep ? tr->Zd : NULL, .dim = rep ? m->dz : 0},
            .blocks = {.n = G ? tr->n_blocks : 0, .off = G && tr->n_blocks ? tr->block_off : NULL},
            .gram = {.M = gram}};
        int explicit_ok = G && (tr->need == MTB_NEED_REP_GRADS || tr->scope == MTB_SCOPE_ALL);
        mtb_balance_out out = {tr->head_w, tr->trunk_w, explicit_ok ? tr->trunk_grad : NULL, 0};
        st = mtb_balancer_step(tr->bal, &in, &out, err);
        if (st)
            return st;
        /* With an explicit gradient, trunk_w keeps the coefficients the method reports
         * (PCGrad's effective weights, DB-MTL's, MoDo's lambda, ...: balancer.h); the trunk
         * is updated with trunk_grad alone, and the run file records trunk_w. */
        grad_set = out.trunk_grad_set && explicit_ok;
    } else {
        for (int t = 0; t < T; t++)
            tr->head_w[t] = tr->trunk_w[t] = 1.0;
    }
    st = mtb_trainer_weighted_grad(tr, tr->head_w, tr->trunk_w, grad_set ? tr->trunk_grad : NULL, err);
    if (st)
        return st;

    /* Clip everything trained, the balancer's learnable scalars included (SLAW code). */
    double shared = mtb_norm_f32(m->grad, m->n_trunk);
    double heads = mtb_norm_f32(m->grad + m->n_trunk, m->n_heads);
    double learn = setup && setup->n_learn ? mtb_norm_f64(setup->learn_grad, (size_t)setup->n_learn) : 0.0;
    double total = sqrt(shared * shared + heads * heads + learn * learn);
    if (!isfinite(total))
        return mtb_fail(err, MTB_ENUMERIC, "trainer: gradient norm is %g (diverged?)", total);
    double f = mtb_clip_factor(total, tr->cfg.clip_norm);
    if (f < 1.0) {
        float ff = (float)f;
        for (size_t i = 0; i < m->n_params; i++)
            m->grad[i] *= ff;
        if (setup)
            for (int i = 0; i < setup->n_learn; i++)
                setup->learn_grad[i] *= f;
    }
    mtb_optim_step(&tr->opt, m->theta, m->grad);
    if (setup && setup->n_learn) {
        mtb_optim_config lc = tr->cfg.optim;
        lc.weight_decay = 0.0;
        if (setup->learn_lr > 0.0)
            lc.lr = setup->learn_lr;
        mtb_optim_step_f64(&lc, ++tr->learn_t, (size_t)setup->n_learn, setup->learn,
                           setup->learn_grad, tr->learn_m, tr->learn_v);
    }
    if (tr->wants_after) {
        /* FAMO: the losses of the same batch at the updated parameters */
        forward(tr, x, B);
        for (int t = 0; t < T; t++) {
            const mtb_task_spec *ts = &tr->tasks[t];
            tr->losses_after[t] = loss_factor(tr, t) *
                                  mtb_loss_forward(ts, tr->yhat + m->head_off[t], (size_t)m->sum_out,
                                                   y + ts->target_offset, ldy, B);
        }
        st = mtb_balancer_after_update(tr->bal, tr->losses_after, err);
        if (st)
            return st;
    }
    tr->last_flops = mtb_flops_take();
    if (res)
        *res = (mtb_step_result){tr->losses, tr->head_w, tr->trunk_w, grad_set, shared, total};
    return MTB_OK;
}

mtb_status mtb_trainer_evaluate_metrics(mtb_trainer *tr, const float *x, const float *y,
                                        size_t ldy, size_t n, int n_metrics,
                                        const mtb_metric *metrics, const int *metric_task,
                                        double *losses, double *sum_sq_err, double *values,
                                        mtb_error *err)
{
    mtb_model *m = tr->m;
    const int T = m->T;
    if (n == 0)
        return mtb_fail(err, MTB_EINVAL, "evaluate: no samples");
    for (int i = 0; i < n_metrics; i++)
        if (metric_task[i] < 0 || metric_task[i] >= T)
            return mtb_fail(err, MTB_EINVAL, "evaluate: metric %d names task %d of %d", i,
                            metric_task[i], T);
    for (int t = 0; t < T; t++)
        losses[t] = sum_sq_err[t] = 0.0;
    /* per-metric sums and counts, kept in the caller's values array and a VLA */
    double count[n_metrics > 0 ? n_metrics : 1];
    for (int i = 0; i < n_metrics; i++)
        values[i] = count[i] = 0.0;
    for (size_t r0 = 0; r0 < n; r0 += (size_t)tr->Bmax) {
        int B = (int)(n - r0 < (size_t)tr->Bmax ? n - r0 : (size_t)tr->Bmax);
        forward(tr, x + r0 * (size_t)m->d_in, B);
        for (int t = 0; t < T; t++) {
            const mtb_task_spec *ts = &tr->tasks[t];
            const float *yh = tr->yhat + m->head_off[t], *yt = y + r0 * ldy + ts->target_offset;
            losses[t] += (double)B * loss_factor(tr, t) *
                         mtb_loss_forward(ts, yh, (size_t)m->sum_out, yt, ldy, B);
            if (ts->loss == MTB_LOSS_MSE || ts->loss == MTB_LOSS_L1)
                sum_sq_err[t] += (double)B * mtb_loss_sum_sq_err(ts, yh, (size_t)m->sum_out, yt, ldy, B);
        }
        for (int i = 0; i < n_metrics; i++) {
            const int t = metric_task[i];
            mtb_metric_accumulate(&metrics[i], &tr->tasks[t], tr->yhat + m->head_off[t],
                                  (size_t)m->sum_out, y + r0 * ldy, ldy, B, &values[i], &count[i]);
        }
    }
    for (int t = 0; t < T; t++) {
        losses[t] /= (double)n;
        sum_sq_err[t] /= (double)n;
    }
    for (int i = 0; i < n_metrics; i++)
        values[i] = count[i] > 0.0 ? values[i] / count[i] : NAN;
    return MTB_OK;
}

mtb_status mtb_trainer_evaluate(mtb_trainer *tr, const float *x, const float *y, size_t ldy,
                                size_t n, double *losses, double *sum_sq_err, mtb_error *err)
{
    return mtb_trainer_evaluate_metrics(tr, x, y, ldy, n, 0, NULL, NULL, losses, sum_sq_err, NULL,
                                        err);
}

double mtb_trainer_last_flops(const mtb_trainer *tr) { return tr->last_flops; }

void mtb_trainer_set_skip_zero_heads(mtb_trainer *tr, int on) { tr->skip_zero_heads = on != 0; }
