/* The trainer's two ways to the parameter-level Jacobian (trainer.c, direct_G): with many
 * tasks against the batch (4 T > batch_max) the dense layers write G in double straight from
 * their grouped products and the trunk's weighted gradient is one backward pass of the
 * weighted cotangent; otherwise the layers write a float G, it is widened, and the weighted
 * gradient is Gf^T w. The same model and batch through a trainer of each kind (batch_max
 * below and above 4 T) must give the same G bit for bit (the same float products, widened
 * exactly) and the same weighted gradient to float rounding, with dense trunks, task chunks,
 * the last-layer scope, and an image trunk whose conv layers take the widening fallback. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mtb/model.h"
#include "mtb/rng.h"
#include "mtb/train.h"

enum { TMAX = 24, BMAX = 8 * TMAX };

typedef struct case_ {
    mtb_model *m;
    mtb_task_spec tasks[TMAX];
    int T, B, d_in, ldy;
    float *x, *y;
} case_;

/* T tasks alternating MSE (2 outputs) and BCE (1 output) on B rows of d_in inputs */
static void setup(case_ *c, mtb_model *m, int T, int B, int d_in)
{
    memset(c, 0, sizeof *c);
    c->m = m, c->T = T, c->B = B, c->d_in = d_in;
    int off = 0;
    for (int t = 0; t < T; t++) {
        const int w = m->head_out[t];
        c->tasks[t] = (mtb_task_spec){t % 2 ? MTB_LOSS_BCE : MTB_LOSS_MSE, w, w, off, 1.0, 0, {0}};
        off += w;
    }
    c->ldy = off;
    mtb_rng r;
    mtb_rng_seed(&r, 5, 9);
    mtb_model_init_fan_in(m, &r); /* any layer kind */
    for (size_t i = 0; i < m->n_params; i++)
        m->theta[i] += (float)(0.05 * mtb_rng_normal(&r));
    c->x = malloc(sizeof(float) * (size_t)B * d_in);
    c->y = malloc(sizeof(float) * (size_t)B * off);
    for (int i = 0; i < B * d_in; i++)
        c->x[i] = (float)mtb_rng_normal(&r);
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++)
            for (int k = 0; k < m->head_out[t]; k++)
                c->y[b * off + c->tasks[t].target_offset + k] =
                    t % 2 ? (float)mtb_rng_bernoulli(&r, 0.5) : (float)mtb_rng_normal(&r);
}

static void head_widths(int T, int *head_out)
{
    for (int t = 0; t < T; t++)
        head_out[t] = t % 2 ? 1 : 2;
}

static mtb_model *dense_model(int T, int d_in, int n_hidden, const int *widths)
{
    static int head_out[TMAX];
    head_widths(T, head_out);
    mtb_model_config mc = {d_in, n_hidden, {0}, MTB_ACT_TANH, T, head_out};
    memcpy(mc.widths, widths, sizeof(int) * (size_t)n_hidden);
    mtb_model *m = NULL;
    mtb_error err;
    cr_assert_eq(mtb_model_new(&mc, &m, &err), MTB_OK, "%s", err.msg);
    return m;
}

static mtb_trainer *trainer(case_ *c, int batch_max, mtb_param_scope scope, int chunk)
{
    mtb_trainer_config tc = {0};
    mtb_optim_config_adam(&tc.optim, 1e-3);
    tc.batch_max = batch_max;
    tc.need = MTB_NEED_PARAM_GRADS;
    tc.scope = scope;
    tc.task_chunk = chunk;
    mtb_trainer *tr = NULL;
    mtb_error err;
    cr_assert_eq(mtb_trainer_new(c->m, c->tasks, NULL, &tc, &tr, &err), MTB_OK, "%s", err.msg);
    return tr;
}

/* G of each trainer, compared entry by entry; then the weighted gradient of each, compared
 * to float rounding relative to its largest entry. Returns the largest G entry (> 0 asserted
 * by the caller: zero gradients prove nothing). */
static double compare(case_ *c, mtb_param_scope scope, int chunk)
{
    const int T = c->T;
    cr_assert_gt(4 * T, c->B, "the direct trainer needs 4 T > batch_max");
    mtb_trainer *direct = trainer(c, c->B, scope, chunk), *flt = trainer(c, 4 * T, scope, chunk);
    const double *l1, *G1, *l2, *G2;
    size_t D1, D2;
    mtb_error err;
    cr_assert_eq(mtb_trainer_task_grads(direct, c->x, c->y, (size_t)c->ldy, c->B,
                                        MTB_NEED_PARAM_GRADS, scope, &l1, &G1, &D1, &err), MTB_OK,
                 "%s", err.msg);
    cr_assert_eq(mtb_trainer_task_grads(flt, c->x, c->y, (size_t)c->ldy, c->B,
                                        MTB_NEED_PARAM_GRADS, scope, &l2, &G2, &D2, &err), MTB_OK,
                 "%s", err.msg);
    cr_assert_eq(D1, D2);
    double gmax = 0.0;
    for (size_t i = 0; i < (size_t)T * D1; i++) {
        cr_assert_eq(G1[i], G2[i], "G entry %zu (task %zu): %.9g vs %.9g", i, i / D1, G1[i], G2[i]);
        gmax = fmax(gmax, fabs(G1[i]));
    }
    double hw[TMAX], tw[TMAX];
    for (int t = 0; t < T; t++)
        hw[t] = 0.5 + 0.1 * t, tw[t] = 1.0 - 0.15 * t;
    mtb_model *m = c->m;
    cr_assert_eq(mtb_trainer_weighted_grad(direct, hw, tw, NULL, &err), MTB_OK, "%s", err.msg);
    float *ref = malloc(sizeof(float) * m->n_params);
    memcpy(ref, m->grad, sizeof(float) * m->n_params);
    cr_assert_eq(mtb_trainer_weighted_grad(flt, hw, tw, NULL, &err), MTB_OK, "%s", err.msg);
    double scale = 0.0;
    for (size_t i = 0; i < m->n_params; i++)
        scale = fmax(scale, fabs(ref[i]));
    cr_assert_gt(scale, 0.0);
    for (size_t i = 0; i < m->n_params; i++)
        cr_assert_lt(fabs(m->grad[i] - ref[i]), 1e-5 * scale, "parameter %zu: %g vs %g", i,
                     m->grad[i], ref[i]);
    free(ref);
    mtb_trainer_free(direct);
    mtb_trainer_free(flt);
    return gmax;
}

static void done(case_ *c)
{
    free(c->x), free(c->y);
    mtb_model_free(c->m);
}

Test(direct_jacobian, dense_trunks_every_scope_and_chunk)
{
    static const int W3[3] = {9, 13, 6}, W1[1] = {7};
    const struct { int T, B, nh; const int *w; } C[] = {{5, 7, 3, W3}, {24, 40, 3, W3}, {3, 9, 1, W1}};
    for (size_t k = 0; k < sizeof C / sizeof C[0]; k++) {
        const int chunks[] = {0, 2};
        for (int ic = 0; ic < 2; ic++)
            for (int sc = 0; sc < 2; sc++) {
                case_ c;
                setup(&c, dense_model(C[k].T, 5, C[k].nh, C[k].w), C[k].T, C[k].B, 5);
                cr_assert_gt(compare(&c, sc ? MTB_SCOPE_LAST_LAYER : MTB_SCOPE_ALL, chunks[ic]), 0.0);
                done(&c);
            }
    }
}

/* conv, ReLU, pool, flatten, dense: the conv layer has no double path, so its blocks go
 * through the float staging and are widened */
Test(direct_jacobian, image_trunk_widens_conv_blocks)
{
    const int T = 4, B = 6;
    mtb_trunk_spec s = {{1, 8, 8}, 5,
                        {{MTB_LAYER_CONV, 3, 3}, {MTB_LAYER_RELU, 0, 0}, {MTB_LAYER_MAXPOOL, 0, 2},
                         {MTB_LAYER_FLATTEN, 0, 0}, {MTB_LAYER_DENSE, 6, 0}}};
    int head_out[TMAX];
    head_widths(T, head_out);
    mtb_model *m = NULL;
    mtb_error err;
    cr_assert_eq(mtb_model_new_trunk(&s, 64, T, head_out, &m, &err), MTB_OK, "%s", err.msg);
    case_ c;
    setup(&c, m, T, B, 64);
    cr_assert_gt(compare(&c, MTB_SCOPE_ALL, 0), 0.0);
    done(&c);
}
