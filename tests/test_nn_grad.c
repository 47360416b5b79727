/* test_nn_grad.c: finite-difference checks of every layer, activation, loss and of the whole
 * model, including the feature-level (REP) and parameter-level (PARAM) task gradients. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gradcheck.h"
#include "mtb/layer.h"
#include "mtb/loss.h"
#include "mtb/model.h"
#include "mtb/rng.h"
#include "mtb/train.h"

/* h = 1e-2: float round-off in f (~1e-7 relative) becomes ~1e-5 after dividing by 2h, and
 * the O(h^2) truncation measured here is <= 1.5e-3; 5e-3 leaves a 3x margin while a wrong
 * entry gives errors >= 1e-1 (checker_rejects_a_wrong_gradient). */
#define GRAD_TOL 5e-3
#define FD_H 1e-2f

static void fill_normal(mtb_rng *r, float *x, size_t n, double scale)
{
    for (size_t i = 0; i < n; i++)
        x[i] = (float)(scale * mtb_rng_normal(r));
}

/* ---- single layers: objective sum_{b,s,j} c[b,s,j] y[b,j] (S stacked cotangents summed) --- */

typedef struct layer_ctx {
    mtb_layer l;
    float *theta, *x, *y;
    const float *c; /* (B, S, out) */
    int B, S, s_only; /* s_only >= 0: objective uses cotangent s_only only */
} layer_ctx;

static double layer_objective(void *p)
{
    layer_ctx *c = p;
    c->l.ops->forward(&c->l, c->theta, c->x, c->y, c->B);
    double f = 0.0;
    for (int b = 0; b < c->B; b++)
        for (int s = 0; s < c->S; s++) {
            if (c->s_only >= 0 && s != c->s_only)
                continue;
            for (int j = 0; j < c->l.out; j++)
                f += (double)c->c[((size_t)b * c->S + s) * c->l.out + j] * c->y[(size_t)b * c->l.out + j];
        }
    return f;
}

static void check_layer(mtb_layer_kind kind, int in, int out, int B, int S)
{
    mtb_rng r;
    mtb_rng_seed(&r, 7, 0);
    layer_ctx c = {0};
    c.l.kind = kind;
    c.l.ops = mtb_layer_ops_for(kind);
    c.l.in = in;
    c.l.out = kind == MTB_LAYER_DENSE ? out : in;
    c.l.n_params = kind == MTB_LAYER_DENSE ? (size_t)out * in + out : 0;
    out = c.l.out;
    c.B = B, c.S = S;
    size_t np = c.l.n_params ? c.l.n_params : 1;
    c.theta = malloc(sizeof(float) * np);
    c.x = malloc(sizeof(float) * B * in);
    c.y = malloc(sizeof(float) * B * out);
    float *cot = malloc(sizeof(float) * B * S * out), *dx = malloc(sizeof(float) * B * S * in);
    float *dth = malloc(sizeof(float) * S * np), *ones = malloc(sizeof(float) * B);
    double *g = malloc(sizeof(double) * (np > (size_t)B * in ? np : (size_t)B * in));
    fill_normal(&r, c.theta, np, 0.5);
    fill_normal(&r, c.x, (size_t)B * in, 1.0);
    if (kind == MTB_LAYER_RELU) /* keep inputs away from the kink, where FD is meaningless */
        for (int i = 0; i < B * in; i++)
            c.x[i] += c.x[i] >= 0 ? 0.1f : -0.1f;
    fill_normal(&r, cot, (size_t)B * S * out, 1.0);
    for (int i = 0; i < B; i++)
        ones[i] = 1.0f;
    c.c = cot;
    c.l.ops->forward(&c.l, c.theta, c.x, c.y, B);
    c.l.ops->backward(&c.l, c.theta, c.x, c.y, cot, dx, c.l.n_params ? dth : NULL, np, B, S, ones);
    for (int s = 0; s < S; s++) {
        c.s_only = s;
        for (int b = 0; b < B; b++) /* dx of cotangent s, gathered to (B, in) */
            for (int i = 0; i < in; i++)
                g[(size_t)b * in + i] = dx[((size_t)b * S + s) * in + i];
        double e = gc_max_rel_err(layer_objective, &c, c.x, g, (size_t)B * in, 1, FD_H);
        cr_assert_lt(e, GRAD_TOL, "%s dx (cotangent %d): max rel err %g", c.l.ops->name, s, e);
        if (c.l.n_params) {
            for (size_t i = 0; i < np; i++)
                g[i] = dth[(size_t)s * np + i];
            e = gc_max_rel_err(layer_objective, &c, c.theta, g, np, 1, FD_H);
            cr_assert_lt(e, GRAD_TOL, "%s dtheta (cotangent %d): max rel err %g", c.l.ops->name, s, e);
        }
    }
    free(c.theta), free(c.x), free(c.y), free(cot), free(dx), free(dth), free(ones), free(g);
}

Test(nn_grad, dense_layer) { check_layer(MTB_LAYER_DENSE, 4, 5, 3, 1); }
Test(nn_grad, dense_layer_stacked) { check_layer(MTB_LAYER_DENSE, 6, 3, 4, 3); }
Test(nn_grad, tanh_layer) { check_layer(MTB_LAYER_TANH, 7, 7, 3, 2); }
Test(nn_grad, relu_layer) { check_layer(MTB_LAYER_RELU, 7, 7, 3, 2); }

/* ---- losses ---------------------------------------------------------------------- */

typedef struct loss_ctx {
    mtb_task_spec t;
    float *yhat, *y;
    int B;
} loss_ctx;

static double loss_objective(void *p)
{
    loss_ctx *c = p;
    return mtb_loss_forward(&c->t, c->yhat, (size_t)c->t.out_width, c->y, (size_t)c->t.target_width, c->B);
}

static double check_loss(mtb_task_spec t, int B, int mutate)
{
    mtb_rng r;
    mtb_rng_seed(&r, 11, (uint64_t)t.loss);
    loss_ctx c = {t, NULL, NULL, B};
    size_t n = (size_t)B * t.out_width;
    c.yhat = malloc(sizeof(float) * n);
    c.y = malloc(sizeof(float) * (size_t)B * t.target_width);
    float *d = malloc(sizeof(float) * n);
    double *g = calloc(n, sizeof(double));
    fill_normal(&r, c.yhat, n, 1.0);
    for (int i = 0; i < B * t.target_width; i++) {
        switch (t.loss) {
        case MTB_LOSS_MSE: c.y[i] = (float)mtb_rng_normal(&r); break;
        case MTB_LOSS_L1: c.y[i] = c.yhat[i] + (mtb_rng_uniform(&r) < 0.5 ? -0.3f : 0.3f); break;
        case MTB_LOSS_BCE: c.y[i] = (float)mtb_rng_bernoulli(&r, 0.3); break;
        case MTB_LOSS_CE: c.y[i] = i == 1 ? -1.0f : (float)mtb_rng_below(&r, (uint64_t)t.out_width); break;
        }
    }
    mtb_loss_backward(&t, c.yhat, (size_t)t.out_width, c.y, (size_t)t.target_width, B, 1.0f, d,
                      (size_t)t.out_width);
    for (size_t i = 0; i < n; i++)
        g[i] = d[i];
    if (mutate)
        g[n / 2] += 0.5 * fabs(g[n / 2]) + 1e-2;
    double e = gc_max_rel_err(loss_objective, &c, c.yhat, g, n, 1, FD_H);
    free(c.yhat), free(c.y), free(d), free(g);
    return e;
}

static mtb_task_spec spec(mtb_loss_kind k, int out)
{
    mtb_task_spec t = {k, out, k == MTB_LOSS_CE ? 1 : out, 0, 1.0, 0, {0}};
    return t;
}

Test(nn_grad, loss_mse) { cr_assert_lt(check_loss(spec(MTB_LOSS_MSE, 3), 5, 0), GRAD_TOL); }
Test(nn_grad, loss_l1) { cr_assert_lt(check_loss(spec(MTB_LOSS_L1, 3), 5, 0), GRAD_TOL); }
Test(nn_grad, loss_bce) { cr_assert_lt(check_loss(spec(MTB_LOSS_BCE, 4), 5, 0), GRAD_TOL); }
Test(nn_grad, loss_bce_class_weighted)
{
    mtb_task_spec t = spec(MTB_LOSS_BCE, 4);
    t.n_class_weights = 2, t.class_weights[0] = 0.014, t.class_weights[1] = 0.986;
    cr_assert_lt(check_loss(t, 5, 0), GRAD_TOL);
}
Test(nn_grad, loss_ce_class_weighted_with_ignored_row)
{
    mtb_task_spec t = spec(MTB_LOSS_CE, 3);
    t.n_class_weights = 3, t.class_weights[0] = 0.2, t.class_weights[1] = 1.0, t.class_weights[2] = 3.0;
    cr_assert_lt(check_loss(t, 6, 0), GRAD_TOL);
}
Test(nn_grad, loss_ce) { cr_assert_lt(check_loss(spec(MTB_LOSS_CE, 2), 6, 0), GRAD_TOL); }

/* A deliberately wrong gradient must make the checker fail, or the checks prove nothing. */
Test(nn_grad, checker_rejects_a_wrong_gradient)
{
    double e = check_loss(spec(MTB_LOSS_MSE, 3), 5, 1);
    cr_assert_gt(e, 10 * GRAD_TOL, "a mutated gradient passed the check (err %g)", e);
}

Test(nn_grad, ce_ignores_unlabelled_rows)
{
    mtb_task_spec t = spec(MTB_LOSS_CE, 3);
    float yhat[6] = {0.1f, 2.0f, -1.0f, 0.5f, 0.5f, 0.5f}, y1[2] = {1.0f, -1.0f}, y2[1] = {1.0f};
    cr_assert_float_eq(mtb_loss_forward(&t, yhat, 3, y1, 1, 2), mtb_loss_forward(&t, yhat, 3, y2, 1, 1), 1e-12);
}

/* ---- the whole model --------------------------------------------------------------- */

enum { MB = 6, MT = 3, DIN = 5 };

typedef struct model_ctx {
    mtb_model *m;
    mtb_trainer *tr;
    mtb_task_spec tasks[MT];
    float x[MB * DIN], y[MB * 8];
    int ldy;
    double w[MT];
    int only_task; /* >= 0: objective is that task's loss alone */
} model_ctx;

static double model_objective(void *p)
{
    model_ctx *c = p;
    const double *l, *G;
    size_t D;
    mtb_error err;
    cr_assert_eq(mtb_trainer_task_grads(c->tr, c->x, c->y, (size_t)c->ldy, MB, MTB_NEED_LOSSES,
                                        MTB_SCOPE_ALL, &l, &G, &D, &err), MTB_OK, "%s", err.msg);
    if (c->only_task >= 0)
        return l[c->only_task];
    double f = 0.0;
    for (int t = 0; t < MT; t++)
        f += c->w[t] * l[t];
    return f;
}

/* When set, the trainer applies fixed output scales and loss scales (train.h): the
 * gradients must be those of the scaled losses of the scaled outputs. */
static int g_scaled;
static const double OUT_SCALE[3] = {2.5, 1.0, 0.7}, LOSS_SCALE[3] = {3.0, 0.5, 1.0};

/* Mixed heads of different widths: MSE (3 outputs), BCE (2 labels), CE (4 classes). */
static void model_setup(model_ctx *c, mtb_activation act, mtb_need need, mtb_param_scope scope,
                        int chunk)
{
    memset(c, 0, sizeof *c);
    int head_out[MT] = {3, 2, 4};
    mtb_model_config mc = {DIN, 2, {7, 6}, act, MT, head_out};
    mtb_error err;
    cr_assert_eq(mtb_model_new(&mc, &c->m, &err), MTB_OK, "%s", err.msg);
    mtb_rng r;
    mtb_rng_seed(&r, 3, 1);
    cr_assert_eq(mtb_model_init_orthogonal(c->m, 1.0, &r, &err), MTB_OK, "%s", err.msg);
    for (size_t i = 0; i < c->m->n_params; i++) /* non-zero biases too */
        c->m->theta[i] += (float)(0.05 * mtb_rng_normal(&r));
    c->tasks[0] = spec(MTB_LOSS_MSE, 3);
    c->tasks[1] = spec(MTB_LOSS_BCE, 2);
    c->tasks[2] = spec(MTB_LOSS_CE, 4);
    c->tasks[1].target_offset = 3;
    c->tasks[2].target_offset = 5;
    c->ldy = 6;
    fill_normal(&r, c->x, MB * DIN, 1.0);
    for (int b = 0; b < MB; b++) {
        float *yb = c->y + b * c->ldy;
        for (int k = 0; k < 3; k++)
            yb[k] = (float)mtb_rng_normal(&r);
        yb[3] = (float)mtb_rng_bernoulli(&r, 0.5), yb[4] = (float)mtb_rng_bernoulli(&r, 0.5);
        yb[5] = (float)mtb_rng_below(&r, 4);
    }
    mtb_trainer_config tc = {0};
    mtb_optim_config_adam(&tc.optim, 1e-3);
    tc.batch_max = MB;
    tc.need = need;
    tc.scope = scope;
    tc.task_chunk = chunk;
    if (g_scaled) {
        tc.out_scale = OUT_SCALE;
        tc.loss_scale = LOSS_SCALE;
    }
    cr_assert_eq(mtb_trainer_new(c->m, c->tasks, NULL, &tc, &c->tr, &err), MTB_OK, "%s", err.msg);
    c->only_task = -1;
}

static void model_teardown(model_ctx *c)
{
    mtb_trainer_free(c->tr);
    mtb_model_free(c->m);
}

static double *grad_copy(const mtb_model *m)
{
    double *g = malloc(sizeof(double) * m->n_params);
    for (size_t i = 0; i < m->n_params; i++)
        g[i] = m->grad[i];
    return g;
}

/* The weighted backward: heads see head_w, the trunk sees trunk_w. */
static void check_weighted(mtb_activation act, mtb_need need)
{
    model_ctx c;
    model_setup(&c, act, need, MTB_SCOPE_ALL, 0);
    const double head_w[MT] = {0.7, 1.3, 0.4}, trunk_w[MT] = {1.5, -0.2, 0.9};
    const double *l, *G;
    size_t D;
    mtb_error err;
    cr_assert_eq(mtb_trainer_task_grads(c.tr, c.x, c.y, 6, MB, need, MTB_SCOPE_ALL, &l, &G, &D, &err), MTB_OK);
    cr_assert_eq(mtb_trainer_weighted_grad(c.tr, head_w, trunk_w, NULL, &err), MTB_OK, "%s", err.msg);
    double *g = grad_copy(c.m);
    memcpy(c.w, trunk_w, sizeof c.w);
    double e = gc_max_rel_err(model_objective, &c, c.m->theta, g, c.m->n_trunk, 1, FD_H);
    cr_assert_lt(e, GRAD_TOL, "trunk gradient (need %d): max rel err %g", (int)need, e);
    memcpy(c.w, head_w, sizeof c.w);
    e = gc_max_rel_err(model_objective, &c, c.m->theta + c.m->n_trunk, g + c.m->n_trunk,
                       c.m->n_heads, 1, FD_H);
    cr_assert_lt(e, GRAD_TOL, "head gradient (need %d): max rel err %g", (int)need, e);
    free(g);
    model_teardown(&c);
}

Test(nn_grad, model_weighted_losses_tanh) { check_weighted(MTB_ACT_TANH, MTB_NEED_LOSSES); }
Test(nn_grad, model_weighted_losses_relu) { check_weighted(MTB_ACT_RELU, MTB_NEED_LOSSES); }
Test(nn_grad, model_weighted_via_rep_grads) { check_weighted(MTB_ACT_TANH, MTB_NEED_REP_GRADS); }
Test(nn_grad, model_weighted_via_param_grads) { check_weighted(MTB_ACT_TANH, MTB_NEED_PARAM_GRADS); }

Test(nn_grad, model_weighted_with_output_and_loss_scales)
{
    g_scaled = 1;
    check_weighted(MTB_ACT_TANH, MTB_NEED_LOSSES);
    check_weighted(MTB_ACT_TANH, MTB_NEED_PARAM_GRADS);
    g_scaled = 0;
}

/* The scales act as documented: loss_t = loss_scale_t * loss_t(out_scale_t * raw output). */
Test(nn_grad, output_and_loss_scales_scale_the_loss)
{
    model_ctx a, b;
    g_scaled = 0;
    model_setup(&a, MTB_ACT_TANH, MTB_NEED_LOSSES, MTB_SCOPE_ALL, 0);
    g_scaled = 1;
    model_setup(&b, MTB_ACT_TANH, MTB_NEED_LOSSES, MTB_SCOPE_ALL, 0);
    g_scaled = 0;
    /* with the output scale folded into task 0's head (W, b times 2.5) the unscaled model
     * computes the same outputs; then only the loss scale differs */
    for (int r = 0; r < 3; r++) {
        float *W = mtb_model_head_W(a.m) + (size_t)(a.m->head_off[0] + r) * a.m->dz;
        for (int k = 0; k < a.m->dz; k++)
            W[k] *= 2.5f;
        mtb_model_head_b(a.m)[a.m->head_off[0] + r] *= 2.5f;
    }
    for (int r = 0; r < 4; r++) {
        float *W = mtb_model_head_W(a.m) + (size_t)(a.m->head_off[2] + r) * a.m->dz;
        for (int k = 0; k < a.m->dz; k++)
            W[k] *= 0.7f;
        mtb_model_head_b(a.m)[a.m->head_off[2] + r] *= 0.7f;
    }
    const double *la, *lb, *G;
    size_t D;
    mtb_error err;
    cr_assert_eq(mtb_trainer_task_grads(a.tr, a.x, a.y, 6, MB, MTB_NEED_LOSSES, MTB_SCOPE_ALL, &la, &G, &D, &err), MTB_OK);
    double l0[MT];
    memcpy(l0, la, sizeof l0);
    cr_assert_eq(mtb_trainer_task_grads(b.tr, b.x, b.y, 6, MB, MTB_NEED_LOSSES, MTB_SCOPE_ALL, &lb, &G, &D, &err), MTB_OK);
    for (int t = 0; t < MT; t++)
        cr_assert_float_eq(lb[t], LOSS_SCALE[t] * l0[t], 1e-5 * fabs(lb[t]), "task %d: %g vs %g x %g",
                           t, lb[t], LOSS_SCALE[t], l0[t]);
    model_teardown(&a);
    model_teardown(&b);
}

/* PARAM: row t of G is d l_t / d theta_trunk (all of it, or the last dense layer). */
static void check_param_rows(mtb_param_scope scope, int chunk)
{
    model_ctx c;
    model_setup(&c, MTB_ACT_TANH, MTB_NEED_PARAM_GRADS, scope, chunk);
    const double *l, *G;
    size_t D;
    mtb_error err;
    cr_assert_eq(mtb_trainer_task_grads(c.tr, c.x, c.y, 6, MB, MTB_NEED_PARAM_GRADS, scope, &l, &G, &D, &err), MTB_OK, "%s", err.msg);
    size_t base = scope == MTB_SCOPE_ALL ? 0 : c.m->last_dense_offset;
    cr_assert_eq(D, scope == MTB_SCOPE_ALL ? c.m->n_trunk : c.m->last_dense_size);
    double *Gc = malloc(sizeof(double) * MT * D);
    memcpy(Gc, G, sizeof(double) * MT * D);
    for (int t = 0; t < MT; t++) {
        c.only_task = t;
        double e = gc_max_rel_err(model_objective, &c, c.m->theta + base, Gc + (size_t)t * D, D, 1, FD_H);
        cr_assert_lt(e, GRAD_TOL, "PARAM row %d (scope %d, chunk %d): max rel err %g", t, (int)scope, chunk, e);
    }
    free(Gc);
    model_teardown(&c);
}

Test(nn_grad, param_task_gradients_all) { check_param_rows(MTB_SCOPE_ALL, 0); }
Test(nn_grad, param_task_gradients_chunked) { check_param_rows(MTB_SCOPE_ALL, 2); }
Test(nn_grad, param_task_gradients_last_layer) { check_param_rows(MTB_SCOPE_LAST_LAYER, 0); }

/* REP: backpropagating row t of G (d l_t / d z) through the trunk as an explicit trunk
 * gradient must give d l_t / d theta_trunk. */
Test(nn_grad, rep_task_gradients)
{
    model_ctx c;
    model_setup(&c, MTB_ACT_TANH, MTB_NEED_REP_GRADS, MTB_SCOPE_ALL, 0);
    const double *l, *G;
    size_t D;
    mtb_error err;
    double ones[MT] = {1, 1, 1};
    cr_assert_eq(mtb_trainer_task_grads(c.tr, c.x, c.y, 6, MB, MTB_NEED_REP_GRADS, MTB_SCOPE_ALL, &l, &G, &D, &err), MTB_OK);
    cr_assert_eq(D, (size_t)MB * c.m->dz);
    double *Gc = malloc(sizeof(double) * MT * D);
    memcpy(Gc, G, sizeof(double) * MT * D);
    for (int t = 0; t < MT; t++) {
        cr_assert_eq(mtb_trainer_task_grads(c.tr, c.x, c.y, 6, MB, MTB_NEED_REP_GRADS, MTB_SCOPE_ALL, &l, &G, &D, &err), MTB_OK);
        cr_assert_eq(mtb_trainer_weighted_grad(c.tr, ones, ones, Gc + (size_t)t * D, &err), MTB_OK, "%s", err.msg);
        double *g = grad_copy(c.m);
        c.only_task = t;
        double e = gc_max_rel_err(model_objective, &c, c.m->theta, g, c.m->n_trunk, 1, FD_H);
        cr_assert_lt(e, GRAD_TOL, "REP row %d: max rel err %g", t, e);
        free(g);
    }
    free(Gc);
    model_teardown(&c);
}
