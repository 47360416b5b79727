/* trainer_gram.c: the Gram path, the task gradients' Gram matrix without the T x P Jacobian.
 *
 * Methods such as MGDA and IMTL-G read the parameter-level task gradients G (T, P) only
 * through M = G G^T. The columns of G split into parameter blocks b (row runs of each dense
 * weight, each bias), and
 *     M = sum_b G_b G_b^T,       G_b (T, n_b) = column block b of G,
 * so M is accumulated one block at a time: memory O(T^2 + T max n_b) instead of O(T P).
 *
 * The T cotangents go back through the trunk together, as in the Jacobian path (design.md,
 * "One step, in order"): the stacked backward with S = T gives every layer's output
 * cotangent dy (B, T, out). For a dense layer y = x W^T + b (W (out, in)), task t's weight
 * gradient is dW_t = dy_t^T x with dy_t the strided view of columns t out .. of dy; rows
 * [o0, o0 + r) of it are dy_t[:, o0 .. o0 + r)^T x, one sgemm per task into the block
 * buffer (T, r in). The bias gradients of all tasks are one sgemv, 1^T dy (T out values,
 * task t's at t out). Layers are visited last to first, each block's contribution is added
 * before the next block is formed, and the layer's input cotangent (the layer's backward with
 * dtheta = NULL) feeds the next layer down.
 *
 * Precision: the block entries are the float products the Jacobian path writes into Gf
 * (the BLAS may sum a run of rows, or all tasks' biases at once, in another order, so they
 * agree to float rounding); they are widened to double and added with dsyrk, so M is the
 * double Gram of float gradients, as on the Jacobian path. ssyrk would run twice as fast but sum n_b
 * products in float (relative error up to ~n_b 2^-24, 2e-3 for n_b = 32768), and the
 * method would see a different Gram than on the Jacobian path.
 *
 * The weighted backward afterwards is the ordinary one (trainer.c): the trunk gets
 * sum_t w_t dl_t/dz back-propagated once from dz_stack, never G^T w. */
#include "nn/vec_kernels.h"
#include "trainer_internal.h"

#include <cblas.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum { GRAM_BLOCK_DEFAULT = 32768 };

/* Rows of a dense weight (out, in) per block: whole rows, at most `cap` floats, >= 1. */
static int rows_per_block(size_t cap, int in, int out)
{
    size_t r = cap / (size_t)in;
    if (r < 1)
        r = 1;
    return r > (size_t)out ? out : (int)r;
}

void mtb_trainer_gram_alloc_(mtb_trainer *tr, int *fail)
{
    const mtb_model *m = tr->m;
    const size_t T = (size_t)m->T;
    size_t cap = tr->gram_block ? tr->gram_block : GRAM_BLOCK_DEFAULT;
    size_t per_task = 1;
    for (int i = 0; i < m->n_layers; i++) {
        const mtb_layer *l = &m->layers[i];
        if (!l->n_params)
            continue;
        size_t w = (size_t)rows_per_block(cap, l->in, l->out) * (size_t)l->in;
        if (w > per_task)
            per_task = w;
        if ((size_t)l->out > per_task)
            per_task = (size_t)l->out;
    }
    tr->gram_rows_cap = per_task;
    if (per_task > SIZE_MAX / sizeof(double) / T) {
        *fail = 1;
        return;
    }
    tr->gram_blk_f = calloc(T * per_task, sizeof(float));
    tr->gram_blk_d = calloc(T * per_task, sizeof(double));
    tr->gram_M = calloc(T * T, sizeof(double));
    if (!tr->gram_blk_f || !tr->gram_blk_d || !tr->gram_M)
        *fail = 1;
}

void mtb_trainer_gram_free_(mtb_trainer *tr)
{
    free(tr->gram_blk_f), free(tr->gram_blk_d), free(tr->gram_M);
}

/* M += Bk Bk^T for the block Bk (T, n) float at tr->gram_blk_f (leading dimension n). */
static void add_block(mtb_trainer *tr, int T, size_t n)
{
    double *d = tr->gram_blk_d;
    mtb_vk_widen((size_t)T * n, tr->gram_blk_f, d);
    cblas_dsyrk(CblasRowMajor, CblasUpper, CblasNoTrans, T, (int)n, 1.0, d, (int)n, 1.0,
                tr->gram_M, T);
}

/* The Gram contribution of dense layer l: x (B, in) its input, dy (B, T, out) the stacked
 * cotangents of its output. */
static void dense_gram(mtb_trainer *tr, const mtb_layer *l, const float *x, const float *dy, int B)
{
    const int T = tr->m->T, in = l->in, out = l->out;
    const size_t cap = tr->gram_block ? tr->gram_block : GRAM_BLOCK_DEFAULT;
    const int R = rows_per_block(cap, in, out);
    for (int o0 = 0; o0 < out; o0 += R) {
        const int r = out - o0 < R ? out - o0 : R;
        const size_t n = (size_t)r * in;
        for (int t = 0; t < T; t++)
            mtb_sgemm(1, 0, r, in, B, 1.0f, dy + (size_t)t * out + o0, T * out, x, in, 0.0f,
                      tr->gram_blk_f + (size_t)t * n, in);
        add_block(tr, T, n);
    }
    /* biases: (T out) = dy^T (T out, B) 1_B; row t of the (T, out) block is task t's db */
    mtb_sgemv(1, B, T * out, 1.0f, dy, T * out, tr->ones, 0.0f, tr->gram_blk_f);
    add_block(tr, T, (size_t)out);
}

mtb_status mtb_trainer_task_gram(mtb_trainer *tr, const float *x, const float *y, size_t ldy,
                                 int B, const double **losses, const double **gram,
                                 mtb_error *err)
{
    if (!tr->gram)
        return mtb_fail(err, MTB_EINVAL, "trainer: the Gram path needs a trainer made by mtb_trainer_new_gram");
    mtb_status st = mtb_trainer_cotangents_(tr, x, y, ldy, B, MTB_NEED_PARAM_GRADS,
                                            MTB_SCOPE_ALL, 1, err);
    if (st)
        return st;
    const mtb_model *m = tr->m;
    const int T = m->T;
    memset(tr->gram_M, 0, (size_t)T * T * sizeof *tr->gram_M);
    const float *cur = tr->dz_stack; /* (B, T, width of layer i's output) */
    for (int i = m->n_layers - 1; i >= 0; i--) {
        const mtb_layer *l = &m->layers[i];
        if (l->n_params) /* dense: checked in mtb_trainer_new */
            dense_gram(tr, l, tr->act[i], cur, B);
        if (i == 0)
            break;
        float *dx = cur == tr->bp_a ? tr->bp_b : tr->bp_a;
        l->ops->backward(l, m->theta + l->offset, tr->act[i], tr->act[i + 1], cur, dx, NULL, 0, B,
                         T, tr->ones);
        cur = dx;
    }
    for (int i = 0; i < T; i++) /* dsyrk filled the upper triangle */
        for (int j = 0; j < i; j++)
            tr->gram_M[(size_t)i * T + j] = tr->gram_M[(size_t)j * T + i];
    /* the weighted backward goes through dz_stack (trainer.c), not through a G */
    tr->cur_need = MTB_NEED_LOSSES;
    tr->cur_D = 0;
    *losses = tr->losses;
    *gram = tr->gram_M;
    return MTB_OK;
}
