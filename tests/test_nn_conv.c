/* test_nn_conv.c: the image layers (conv, max-pool, flatten) and the image trunks.
 *   - convolution against a direct 7-loop convolution, for several shapes and block sizes;
 *   - finite differences of every image layer, for 1 and 3 stacked cotangents (layer.h);
 *   - max-pooling's tie rule (the first maximum of the window gets the cotangent);
 *   - the whole model through conv / ReLU / pool / flatten / dense: the weighted gradient and
 *     the per-task parameter gradients (PARAM, T stacked cotangents) against finite
 *     differences, skipping coordinates whose +-h perturbation moves a ReLU or a pool argmax
 *     (a kink, where the difference quotient is not the derivative), with a bound on how
 *     many are skipped;
 *   - lenet-pmtl: 30 890 shared parameters (spec multifashion.md sec. 3), its shapes, its
 *     task gradients; the fan-in initialisation's bounds. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gradcheck.h"
#include "mtb/layer.h"
#include "mtb/loss.h"
#include "mtb/model.h"
#include "mtb/rng.h"
#include "mtb/train.h"

#define GRAD_TOL 5e-3
#define FD_H 1e-2f
/* Whole models: a smaller step crosses fewer ReLU / pool kinks (each perturbed weight moves
 * hundreds of pre-activations); float round-off of the loss (~1e-7 x 2) over 2h = 4e-3 stays
 * near 1e-4 of gradients of order 1e-1. */
#define FD_H_MODEL 2e-3f
#define GRAD_TOL_MODEL 1e-2

static void fill_normal(mtb_rng *r, float *x, size_t n, double scale)
{
    for (size_t i = 0; i < n; i++)
        x[i] = (float)(scale * mtb_rng_normal(r));
}

/* A conv layer as the model builds it, with its own scratch. */
static mtb_layer conv_layer(int c, int h, int w, int co, int k, int chunk)
{
    mtb_layer l = {.kind = MTB_LAYER_CONV, .ops = mtb_layer_ops_for(MTB_LAYER_CONV),
                   .shape_in = {c, h, w}, .shape_out = {co, h - k + 1, w - k + 1},
                   .kernel = k, .chunk = chunk};
    l.in = c * h * w;
    l.out = co * (h - k + 1) * (w - k + 1);
    l.n_params = (size_t)co * k * k * c + (size_t)co;
    l.work = malloc(sizeof(float) * mtb_layer_work_floats(&l));
    return l;
}

static mtb_layer pool_layer(int c, int h, int w, int k)
{
    mtb_layer l = {.kind = MTB_LAYER_MAXPOOL, .ops = mtb_layer_ops_for(MTB_LAYER_MAXPOOL),
                   .shape_in = {c, h, w}, .shape_out = {c, h / k, w / k}, .kernel = k};
    l.in = c * h * w;
    l.out = c * (h / k) * (w / k);
    return l;
}

/* ---- convolution against the definition ----------------------------------------------- */

static void direct_conv(const mtb_layer *l, const float *theta, const float *x, double *y, int B)
{
    const int C = l->shape_in.c, W = l->shape_in.w, k = l->kernel;
    const int Co = l->shape_out.c, Ho = l->shape_out.h, Wo = l->shape_out.w;
    const float *bias = theta + (size_t)Co * k * k * C;
    for (int b = 0; b < B; b++)
        for (int oy = 0; oy < Ho; oy++)
            for (int ox = 0; ox < Wo; ox++)
                for (int o = 0; o < Co; o++) {
                    double s = bias[o];
                    for (int ky = 0; ky < k; ky++)
                        for (int kx = 0; kx < k; kx++)
                            for (int c = 0; c < C; c++)
                                s += (double)theta[((o * k + ky) * k + kx) * C + c] *
                                     x[(size_t)b * l->in + ((oy + ky) * W + ox + kx) * C + c];
                    y[(size_t)b * l->out + (oy * Wo + ox) * Co + o] = s;
                }
}

static void check_conv_forward(int c, int h, int w, int co, int k, int chunk, int B)
{
    mtb_rng r;
    mtb_rng_seed(&r, 11, (uint64_t)(c * 1000 + h * 10 + chunk));
    mtb_layer l = conv_layer(c, h, w, co, k, chunk);
    float *theta = malloc(sizeof(float) * l.n_params), *x = malloc(sizeof(float) * B * l.in);
    float *y = malloc(sizeof(float) * B * l.out);
    double *ref = malloc(sizeof(double) * B * l.out);
    fill_normal(&r, theta, l.n_params, 0.5);
    fill_normal(&r, x, (size_t)B * l.in, 1.0);
    l.ops->forward(&l, theta, x, y, B);
    direct_conv(&l, theta, x, ref, B);
    for (int i = 0; i < B * l.out; i++)
        cr_assert(fabs(y[i] - ref[i]) <= 1e-4 * (1.0 + fabs(ref[i])),
                  "conv %dx%dx%d -> %d, k %d, chunk %d: y[%d] = %g, direct %g", c, h, w, co, k,
                  chunk, i, y[i], ref[i]);
    free(theta), free(x), free(y), free(ref), free(l.work);
}

Test(nn_conv, forward_is_the_direct_convolution)
{
    check_conv_forward(1, 8, 8, 3, 3, 1, 5);
    check_conv_forward(1, 8, 8, 3, 3, 2, 5);  /* a block size that does not divide B */
    check_conv_forward(3, 7, 5, 4, 2, 4, 5);  /* c_in > 1, h != w */
    check_conv_forward(2, 5, 5, 2, 5, 3, 4);  /* kernel = image: one output position */
    check_conv_forward(1, 36, 36, 10, 9, 4, 2); /* conv1 of lenet-pmtl */
}

/* ---- finite differences of one layer: objective sum_{b,s,j} c[b,s,j] y[b,j] ------------- */

typedef struct layer_ctx {
    mtb_layer *l;
    float *theta, *x, *y;
    const float *c;
    int B, S, s_only;
} layer_ctx;

static double layer_objective(void *p)
{
    layer_ctx *c = p;
    c->l->ops->forward(c->l, c->theta, c->x, c->y, c->B);
    double f = 0.0;
    for (int b = 0; b < c->B; b++)
        for (int j = 0; j < c->l->out; j++)
            f += (double)c->c[((size_t)b * c->S + c->s_only) * c->l->out + j] *
                 c->y[(size_t)b * c->l->out + j];
    return f;
}

/* x: NULL = normal inputs; else the inputs to use */
static void check_layer(mtb_layer *l, int B, int S, const float *x_given)
{
    mtb_rng r;
    mtb_rng_seed(&r, 5, (uint64_t)(l->kind * 100 + S));
    const size_t np = l->n_params ? l->n_params : 1;
    layer_ctx c = {l, malloc(sizeof(float) * np), malloc(sizeof(float) * B * l->in),
                   malloc(sizeof(float) * B * l->out), NULL, B, S, 0};
    float *cot = malloc(sizeof(float) * B * S * l->out), *dx = malloc(sizeof(float) * B * S * l->in);
    float *dth = malloc(sizeof(float) * S * np), *ones = malloc(sizeof(float) * B);
    double *g = malloc(sizeof(double) * (np > (size_t)B * l->in ? np : (size_t)B * l->in));
    fill_normal(&r, c.theta, np, 0.5);
    if (x_given)
        memcpy(c.x, x_given, sizeof(float) * B * l->in);
    else
        fill_normal(&r, c.x, (size_t)B * l->in, 1.0);
    fill_normal(&r, cot, (size_t)B * S * l->out, 1.0);
    for (int i = 0; i < B; i++)
        ones[i] = 1.0f;
    c.c = cot;
    l->ops->forward(l, c.theta, c.x, c.y, B);
    l->ops->backward(l, c.theta, c.x, c.y, cot, dx, l->n_params ? dth : NULL, np, B, S, ones);
    for (int s = 0; s < S; s++) {
        c.s_only = s;
        for (int b = 0; b < B; b++)
            for (int i = 0; i < l->in; i++)
                g[(size_t)b * l->in + i] = dx[((size_t)b * S + s) * l->in + i];
        double e = gc_max_rel_err(layer_objective, &c, c.x, g, (size_t)B * l->in, 1, FD_H);
        cr_assert_lt(e, GRAD_TOL, "%s dx (cotangent %d of %d): max rel err %g", l->ops->name, s, S, e);
        if (l->n_params) {
            for (size_t i = 0; i < np; i++)
                g[i] = dth[(size_t)s * np + i];
            e = gc_max_rel_err(layer_objective, &c, c.theta, g, np, 1, FD_H);
            cr_assert_lt(e, GRAD_TOL, "%s dtheta (cotangent %d of %d): max rel err %g",
                         l->ops->name, s, S, e);
        }
    }
    free(c.theta), free(c.x), free(c.y), free(cot), free(dx), free(dth), free(ones), free(g);
}

Test(nn_conv, conv_layer_gradients)
{
    mtb_layer l = conv_layer(1, 6, 6, 2, 3, 2);
    check_layer(&l, 3, 1, NULL);
    check_layer(&l, 3, 3, NULL); /* stacked: the gathered cotangent path */
    free(l.work);
    l = conv_layer(3, 5, 4, 2, 2, 1);
    check_layer(&l, 4, 2, NULL);
    free(l.work);
}

/* Inputs whose values are all distinct and at least 0.05 apart, so that a perturbation of
 * h = 0.01 never changes which entry of a window is the max (no kink inside the stencil). */
static float *spaced_inputs(size_t n, uint64_t seed)
{
    size_t *idx = malloc(n * sizeof *idx);
    for (size_t i = 0; i < n; i++)
        idx[i] = i;
    mtb_rng r;
    mtb_rng_seed(&r, seed, 0);
    mtb_rng_shuffle(&r, idx, n);
    float *x = malloc(n * sizeof *x);
    for (size_t i = 0; i < n; i++)
        x[i] = 0.05f * (float)idx[i] - 0.025f * (float)n;
    free(idx);
    return x;
}

Test(nn_conv, maxpool_layer_gradients)
{
    mtb_layer l = pool_layer(3, 4, 6, 2);
    float *x = spaced_inputs((size_t)2 * l.in, 3);
    check_layer(&l, 2, 1, x);
    check_layer(&l, 2, 3, x);
    free(x);
    l = pool_layer(2, 6, 6, 3);
    x = spaced_inputs((size_t)3 * l.in, 4);
    check_layer(&l, 3, 2, x);
    free(x);
}

Test(nn_conv, maxpool_gives_a_tie_to_the_first_maximum)
{
    mtb_layer l = pool_layer(1, 2, 2, 2);
    const float x[4] = {0.0f, 0.0f, 0.0f, -1.0f}; /* three zeros tie: ReLU output */
    float y[1], dy[2] = {3.0f, -2.0f}, dx[8];
    l.ops->forward(&l, NULL, x, y, 1);
    cr_assert_eq(y[0], 0.0f);
    l.ops->backward(&l, NULL, x, y, dy, dx, NULL, 0, 1, 2, NULL);
    const float want[8] = {3.0f, 0, 0, 0, -2.0f, 0, 0, 0};
    for (int i = 0; i < 8; i++)
        cr_assert_eq(dx[i], want[i], "dx[%d] = %g", i, dx[i]);
}

Test(nn_conv, flatten_is_the_identity_on_the_floats)
{
    mtb_layer l = {.kind = MTB_LAYER_FLATTEN, .ops = mtb_layer_ops_for(MTB_LAYER_FLATTEN),
                   .in = 12, .out = 12, .shape_in = {3, 2, 2}};
    check_layer(&l, 2, 2, NULL);
}

/* ---- whole models with image trunks ------------------------------------------------------ */

enum { MT = 2, MAXB = 4 };

typedef struct model_ctx {
    mtb_model *m;
    mtb_trainer *tr;
    mtb_task_spec tasks[MT];
    float *x, y[MAXB * MT];
    int B, only_task;
    double w[MT];
} model_ctx;

static double model_objective(void *p)
{
    model_ctx *c = p;
    const double *l, *G;
    size_t D;
    mtb_error err;
    cr_assert_eq(mtb_trainer_task_grads(c->tr, c->x, c->y, MT, c->B, MTB_NEED_LOSSES,
                                        MTB_SCOPE_ALL, &l, &G, &D, &err), MTB_OK, "%s", err.msg);
    if (c->only_task >= 0)
        return l[c->only_task];
    return c->w[0] * l[0] + c->w[1] * l[1];
}

/* A fingerprint of every kink the model's forward passes: each ReLU's sign pattern and each
 * pool window's argmax. Equal fingerprints at theta +- h mean the objective is smooth on the
 * whole finite-difference stencil. */
static uint64_t kink_pattern(const model_ctx *c)
{
    const mtb_model *m = c->m;
    size_t w = (size_t)c->B * m->max_width;
    float *a = malloc(sizeof(float) * w), *b = malloc(sizeof(float) * w);
    memcpy(a, c->x, sizeof(float) * (size_t)c->B * m->d_in);
    uint64_t h = 1469598103934665603ull;
    for (int i = 0; i < m->n_layers; i++) {
        const mtb_layer *l = &m->layers[i];
        l->ops->forward(l, m->theta + l->offset, a, b, c->B);
        if (l->kind == MTB_LAYER_RELU)
            for (size_t j = 0; j < (size_t)c->B * l->out; j++)
                h = (h ^ (uint64_t)(b[j] > 0.0f)) * 1099511628211ull;
        if (l->kind == MTB_LAYER_MAXPOOL) /* which input equals each output */
            for (size_t j = 0; j < (size_t)c->B * l->in; j++) {
                const int C = l->shape_in.c, W = l->shape_in.w, k = l->kernel;
                size_t s = j / l->in, r = j % l->in, ch = r % C, px = r / C;
                size_t oy = (px / W) / k, ox = (px % W) / k;
                float ymax = b[s * l->out + (oy * l->shape_out.w + ox) * C + ch];
                h = (h ^ (uint64_t)(a[j] == ymax)) * 1099511628211ull;
            }
        float *t = a;
        a = b, b = t;
    }
    free(a), free(b);
    return h;
}

/* Central differences on the coordinates i = 0, step, 2 step, ... of theta[0..n) whose
 * stencil crosses no kink; returns the worst relative error (gradcheck.h's measure) and the
 * counts of checked and skipped coordinates. */
static double fd_smooth(model_ctx *c, float *theta, const double *g, size_t n, size_t step, float h,
                        int *checked, int *skipped)
{
    double gmax = 0.0, worst = 0.0;
    for (size_t i = 0; i < n; i++)
        gmax = fmax(gmax, fabs(g[i]));
    const double floor_ = 1e-2 * gmax + 1e-12;
    const uint64_t base = kink_pattern(c);
    *checked = *skipped = 0;
    for (size_t i = 0; i < n; i += step) {
        float xi = theta[i];
        theta[i] = xi + h;
        double fp = model_objective(c);
        int smooth = kink_pattern(c) == base;
        theta[i] = xi - h;
        double fm = model_objective(c);
        smooth &= kink_pattern(c) == base;
        theta[i] = xi;
        if (!smooth) {
            ++*skipped;
            continue;
        }
        ++*checked;
        double hp = (double)(float)(xi + h) - xi, hm = xi - (double)(float)(xi - h);
        double fd = (fp - fm) / (hp + hm);
        double e = fabs(fd - g[i]) / fmax(fmax(fabs(fd), fabs(g[i])), floor_);
        worst = fmax(worst, e);
    }
    return worst;
}

/* Model with the given trunk, two CE tasks (3 and 4 classes), B samples. */
static void model_setup(model_ctx *c, const mtb_trunk_spec *spec, int d_in, int B, mtb_need need,
                        int chunk, double x_scale)
{
    memset(c, 0, sizeof *c);
    const int head_out[MT] = {3, 4};
    mtb_error err;
    cr_assert_eq(mtb_model_new_trunk(spec, d_in, MT, head_out, &c->m, &err), MTB_OK, "%s", err.msg);
    mtb_rng r;
    mtb_rng_seed(&r, 21, 2);
    mtb_model_init_fan_in(c->m, &r);
    for (int t = 0; t < MT; t++) {
        c->tasks[t] = (mtb_task_spec){.loss = MTB_LOSS_CE, .out_width = head_out[t],
                                      .target_width = 1, .target_offset = t, .sigma = 1.0};
    }
    c->B = B;
    c->x = malloc(sizeof(float) * B * d_in);
    fill_normal(&r, c->x, (size_t)B * d_in, x_scale);
    for (int b = 0; b < B; b++)
        for (int t = 0; t < MT; t++)
            c->y[b * MT + t] = (float)mtb_rng_below(&r, (uint64_t)head_out[t]);
    mtb_trainer_config tc = {0};
    mtb_optim_config_adam(&tc.optim, 1e-3);
    tc.batch_max = B;
    tc.need = need;
    tc.scope = MTB_SCOPE_ALL;
    tc.task_chunk = chunk;
    cr_assert_eq(mtb_trainer_new(c->m, c->tasks, NULL, &tc, &c->tr, &err), MTB_OK, "%s", err.msg);
    c->only_task = -1;
}

static void model_teardown(model_ctx *c)
{
    mtb_trainer_free(c->tr);
    mtb_model_free(c->m);
    free(c->x);
}

/* input 2 x 8 x 8: conv 3 3x3 (6x6), ReLU, pool 2 (3x3), conv 4 2x2 (2x2), ReLU, pool 2 (1x1),
 * flatten 4, dense 5, tanh: both convolutions (c_in = 1 and > 1), both pools, flatten. */
static mtb_trunk_spec small_trunk(void)
{
    mtb_trunk_spec s = {.input = {2, 8, 8}, .n = 9,
        .layers = {{MTB_LAYER_CONV, 3, 3}, {MTB_LAYER_RELU, 0, 0}, {MTB_LAYER_MAXPOOL, 0, 2},
                   {MTB_LAYER_CONV, 4, 2}, {MTB_LAYER_RELU, 0, 0}, {MTB_LAYER_MAXPOOL, 0, 2},
                   {MTB_LAYER_FLATTEN, 0, 0}, {MTB_LAYER_DENSE, 5, 0}, {MTB_LAYER_TANH, 0, 0}}};
    return s;
}

static void check_smooth(model_ctx *c, float *theta, const double *g, size_t n, size_t step,
                         const char *what)
{
    int checked, skipped;
    double e = fd_smooth(c, theta, g, n, step, FD_H_MODEL, &checked, &skipped);
    cr_assert_lt(e, GRAD_TOL_MODEL, "%s: max rel err %g over %d coordinates", what, e, checked);
    cr_assert(checked >= 3 * skipped && checked >= 10, "%s: only %d coordinates free of kinks, "
              "%d skipped", what, checked, skipped);
}

Test(nn_conv, model_weighted_gradient_through_image_layers)
{
    mtb_trunk_spec s = small_trunk();
    model_ctx c;
    model_setup(&c, &s, 128, 3, MTB_NEED_LOSSES, 0, 1.0);
    const double *l, *G;
    size_t D;
    mtb_error err;
    const double head_w[MT] = {0.6, 1.4}, trunk_w[MT] = {1.3, 0.5};
    cr_assert_eq(mtb_trainer_task_grads(c.tr, c.x, c.y, MT, c.B, MTB_NEED_LOSSES, MTB_SCOPE_ALL,
                                        &l, &G, &D, &err), MTB_OK);
    cr_assert_eq(mtb_trainer_weighted_grad(c.tr, head_w, trunk_w, NULL, &err), MTB_OK, "%s", err.msg);
    double *g = malloc(sizeof(double) * c.m->n_params);
    for (size_t i = 0; i < c.m->n_params; i++)
        g[i] = c.m->grad[i];
    memcpy(c.w, trunk_w, sizeof c.w);
    check_smooth(&c, c.m->theta, g, c.m->n_trunk, 1, "trunk gradient");
    memcpy(c.w, head_w, sizeof c.w);
    check_smooth(&c, c.m->theta + c.m->n_trunk, g + c.m->n_trunk, c.m->n_heads, 1, "head gradient");
    free(g);
    model_teardown(&c);
}

/* PARAM: row t of G = d l_t / d theta_trunk, the T cotangents through the image layers at once
 * (chunk 0) or one task at a time (chunk 1). */
static void check_param_rows(const mtb_trunk_spec *s, int d_in, int B, int chunk, size_t step,
                             double x_scale)
{
    model_ctx c;
    model_setup(&c, s, d_in, B, MTB_NEED_PARAM_GRADS, chunk, x_scale);
    const double *l, *G;
    size_t D;
    mtb_error err;
    cr_assert_eq(mtb_trainer_task_grads(c.tr, c.x, c.y, MT, c.B, MTB_NEED_PARAM_GRADS,
                                        MTB_SCOPE_ALL, &l, &G, &D, &err), MTB_OK, "%s", err.msg);
    cr_assert_eq(D, c.m->n_trunk);
    double *Gc = malloc(sizeof(double) * MT * D);
    memcpy(Gc, G, sizeof(double) * MT * D);
    for (int t = 0; t < MT; t++) {
        c.only_task = t;
        char what[64];
        snprintf(what, sizeof what, "PARAM row %d (task chunk %d)", t, chunk);
        check_smooth(&c, c.m->theta, Gc + (size_t)t * D, D, step, what);
    }
    free(Gc);
    model_teardown(&c);
}

Test(nn_conv, param_task_gradients_through_image_layers)
{
    mtb_trunk_spec s = small_trunk();
    check_param_rows(&s, 128, 3, 0, 1, 1.0);
    check_param_rows(&s, 128, 3, 1, 1, 1.0);
}

Test(nn_conv, lenet_pmtl_has_the_spec_parameter_count_and_shapes)
{
    mtb_trunk_spec s;
    mtb_error err;
    cr_assert_eq(mtb_trunk_preset("lenet-pmtl", 1296, &s, &err), MTB_OK, "%s", err.msg);
    const int head_out[2] = {10, 10};
    mtb_model *m;
    cr_assert_eq(mtb_model_new_trunk(&s, 1296, 2, head_out, &m, &err), MTB_OK, "%s", err.msg);
    cr_assert_eq(m->n_trunk, 30890, "shared parameters: %zu", m->n_trunk);
    cr_assert_eq(m->n_params, 31910);
    cr_assert_eq(m->dz, 50);
    const int outs[9] = {7840, 7840, 1960, 2000, 2000, 500, 500, 50, 50};
    for (int i = 0; i < 9; i++)
        cr_assert_eq(m->layers[i].out, outs[i], "layer %d (%s): %d outputs", i,
                     m->layers[i].ops->name, m->layers[i].out);
    cr_assert(m->layers[0].n_params == 820 && m->layers[3].n_params == 5020 &&
              m->layers[7].n_params == 25050);
    cr_assert_eq(m->last_dense_layer, 7);
    mtb_model_free(m);
    cr_assert_eq(mtb_trunk_preset("lenet-pmtl", 784, &s, &err), MTB_EINVAL);
    cr_assert(strstr(err.msg, "36 x 36"), "%s", err.msg);
    cr_assert_eq(mtb_trunk_preset("resnet", 1296, &s, &err), MTB_EINVAL);
    cr_assert_eq(mtb_trunk_preset("mlp", 1296, &s, &err), MTB_OK);
    cr_assert_eq(mtb_model_new_trunk(&s, 1296, 2, head_out, &m, &err), MTB_OK, "%s", err.msg);
    cr_assert_eq(m->n_trunk, (size_t)1296 * 256 + 256 + 256 * 128 + 128);
    cr_assert_eq(m->dz, 128);
    mtb_model_free(m);
}

Test(nn_conv, lenet_pmtl_task_gradients)
{
    mtb_trunk_spec s;
    cr_assert_eq(mtb_trunk_preset("lenet-pmtl", 1296, &s, NULL), MTB_OK);
    /* heads 3 / 4 classes, 2 samples, every 37th of the 30 890 parameters; pixel-like inputs */
    check_param_rows(&s, 1296, 2, 0, 37, 0.5);
}

Test(nn_conv, bad_trunks_are_refused_with_the_layer_named)
{
    const int head_out[1] = {2};
    mtb_model *m;
    mtb_error err;
    mtb_trunk_spec s = {.input = {1, 6, 6}, .n = 2,
                        .layers = {{MTB_LAYER_CONV, 2, 3}, {MTB_LAYER_DENSE, 3, 0}}};
    cr_assert_eq(mtb_model_new_trunk(&s, 36, 1, head_out, &m, &err), MTB_EINVAL);
    cr_assert(strstr(err.msg, "layer 1") && strstr(err.msg, "flatten"), "%s", err.msg);
    s = (mtb_trunk_spec){.input = {1, 6, 6}, .n = 2,
                         .layers = {{MTB_LAYER_MAXPOOL, 0, 4}, {MTB_LAYER_FLATTEN, 0, 0}}};
    cr_assert_eq(mtb_model_new_trunk(&s, 36, 1, head_out, &m, &err), MTB_EINVAL);
    cr_assert(strstr(err.msg, "divides"), "%s", err.msg);
    s = (mtb_trunk_spec){.input = {1, 6, 6}, .n = 1, .layers = {{MTB_LAYER_CONV, 2, 7}}};
    cr_assert_eq(mtb_model_new_trunk(&s, 36, 1, head_out, &m, &err), MTB_EINVAL);
    s = (mtb_trunk_spec){.input = {1, 6, 6}, .n = 1, .layers = {{MTB_LAYER_CONV, 2, 3}}};
    cr_assert_eq(mtb_model_new_trunk(&s, 36, 1, head_out, &m, &err), MTB_EINVAL,
                 "a trunk that ends in an image");
    cr_assert_eq(mtb_model_new_trunk(&s, 35, 1, head_out, &m, &err), MTB_EINVAL);
    cr_assert(strstr(err.msg, "input"), "%s", err.msg);
}

Test(nn_conv, fan_in_init_bounds_and_determinism)
{
    mtb_trunk_spec s;
    cr_assert_eq(mtb_trunk_preset("lenet-pmtl", 1296, &s, NULL), MTB_OK);
    const int head_out[2] = {10, 10};
    mtb_model *a, *b;
    cr_assert_eq(mtb_model_new_trunk(&s, 1296, 2, head_out, &a, NULL), MTB_OK);
    cr_assert_eq(mtb_model_new_trunk(&s, 1296, 2, head_out, &b, NULL), MTB_OK);
    mtb_rng r1, r2;
    mtb_rng_seed(&r1, 4, MTB_STREAM_INIT);
    mtb_rng_seed(&r2, 4, MTB_STREAM_INIT);
    mtb_model_init_fan_in(a, &r1);
    mtb_model_init_fan_in(b, &r2);
    cr_assert(!memcmp(a->theta, b->theta, sizeof(float) * a->n_params));
    /* conv1 fan_in 81 (bound 1/9), conv2 250, dense 500, heads 50 */
    const struct { size_t off, n; double bound; } blocks[] = {
        {0, 820, 1.0 / 9.0}, {820, 5020, 1.0 / sqrt(250.0)}, {5840, 25050, 1.0 / sqrt(500.0)},
        {30890, 1020, 1.0 / sqrt(50.0)}};
    for (int k = 0; k < 4; k++) {
        double mx = 0.0, sum = 0.0;
        for (size_t i = blocks[k].off; i < blocks[k].off + blocks[k].n; i++) {
            mx = fmax(mx, fabs(a->theta[i]));
            sum += a->theta[i];
        }
        cr_assert(mx <= blocks[k].bound && mx > 0.9 * blocks[k].bound, "block %d: max |w| %g, "
                  "bound %g", k, mx, blocks[k].bound);
        double se = blocks[k].bound / sqrt(3.0 * (double)blocks[k].n);
        cr_assert(fabs(sum / (double)blocks[k].n) < 5.0 * se, "block %d: mean %g", k,
                  sum / (double)blocks[k].n);
    }
    mtb_model_free(a);
    mtb_model_free(b);
}
