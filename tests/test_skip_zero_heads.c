/* skip-zero-heads (mtb_trainer_set_skip_zero_heads, train.h; rlw.md R8): the weighted
 * gradient with the backward of zero-weight heads skipped equals the full computation to
 * float rounding, the skipped heads' gradients are exactly 0, an all-zero draw leaves no
 * gradient at all, and whole training steps of Bernoulli RLW stay on the unskipped run. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mtb/balancer.h"
#include "mtb/model.h"
#include "mtb/rng.h"
#include "mtb/train.h"

enum { NB = 9, DIN = 6, T = 7, HO = 3 };

typedef struct net {
    mtb_model *m;
    mtb_task_spec tasks[T];
    int head_out[T];
    float x[NB * DIN], y[NB * T * HO];
} net;

/* T MSE heads of HO outputs on a tanh trunk DIN -> 8 -> 5, seeded. */
static void net_make(net *n, uint64_t seed)
{
    for (int t = 0; t < T; t++) {
        n->head_out[t] = HO;
        n->tasks[t] = (mtb_task_spec){MTB_LOSS_MSE, HO, HO, t * HO, 1.0, 0, {0}};
    }
    mtb_model_config mc = {DIN, 2, {8, 5}, MTB_ACT_TANH, T, n->head_out};
    mtb_error err;
    cr_assert_eq(mtb_model_new(&mc, &n->m, &err), MTB_OK, "%s", err.msg);
    mtb_rng r;
    mtb_rng_seed(&r, seed, 1);
    cr_assert_eq(mtb_model_init_orthogonal(n->m, 1.0, &r, &err), MTB_OK, "%s", err.msg);
    for (size_t i = 0; i < n->m->n_params; i++)
        n->m->theta[i] += (float)(0.1 * mtb_rng_normal(&r));
    for (int i = 0; i < NB * DIN; i++)
        n->x[i] = (float)mtb_rng_normal(&r);
    for (int i = 0; i < NB * T * HO; i++)
        n->y[i] = (float)mtb_rng_normal(&r);
}

static mtb_trainer *trainer(net *n, mtb_balancer *bal, mtb_need need)
{
    mtb_trainer_config tc = {0};
    mtb_optim_config_adam(&tc.optim, 1e-2);
    tc.batch_max = NB;
    tc.need = need;
    tc.scope = MTB_SCOPE_ALL;
    mtb_trainer *tr;
    mtb_error err;
    cr_assert_eq(mtb_trainer_new(n->m, n->tasks, bal, &tc, &tr, &err), MTB_OK, "%s", err.msg);
    return tr;
}

/* model->grad after task_grads at `need` and weighted_grad(head_w, trunk_w), skip on/off */
static void weighted(net *n, mtb_need need, int skip, const double *hw, const double *tw, float *out)
{
    mtb_trainer *tr = trainer(n, NULL, need);
    mtb_trainer_set_skip_zero_heads(tr, skip);
    const double *l, *G;
    size_t D;
    mtb_error err;
    cr_assert_eq(mtb_trainer_task_grads(tr, n->x, n->y, T * HO, NB, need, MTB_SCOPE_ALL, &l, &G, &D, &err),
                 MTB_OK, "%s", err.msg);
    /* stale values in the gradient must not survive where the skip writes zeros */
    for (size_t i = 0; i < n->m->n_params; i++)
        n->m->grad[i] = 123.0f;
    cr_assert_eq(mtb_trainer_weighted_grad(tr, hw, tw, NULL, &err), MTB_OK, "%s", err.msg);
    memcpy(out, n->m->grad, sizeof(float) * n->m->n_params);
    mtb_trainer_free(tr);
}

static double max_rel(const float *a, const float *b, size_t n)
{
    double num = 0.0, den = 0.0;
    for (size_t i = 0; i < n; i++) {
        num = fmax(num, fabs((double)a[i] - b[i]));
        den = fmax(den, fabs((double)b[i]));
    }
    return den > 0.0 ? num / den : num;
}

/* the head parameters of task t (W rows and biases) are all exactly zero */
static int head_is_zero(const mtb_model *m, const float *g, int t)
{
    const float *gW = g + m->n_trunk, *gb = gW + (size_t)m->sum_out * m->dz;
    for (int k = m->head_off[t]; k < m->head_off[t] + m->head_out[t]; k++) {
        if (gb[k] != 0.0f)
            return 0;
        for (int j = 0; j < m->dz; j++)
            if (gW[(size_t)k * m->dz + j] != 0.0f)
                return 0;
    }
    return 1;
}

static void check_weights(mtb_need need, const double *hw, const double *tw)
{
    net n;
    net_make(&n, 5);
    const size_t P = n.m->n_params;
    float *full = malloc(sizeof(float) * P), *skip = malloc(sizeof(float) * P);
    weighted(&n, need, 0, hw, tw, full);
    weighted(&n, need, 1, hw, tw, skip);
    cr_assert_lt(max_rel(skip, full, P), 1e-5, "skip differs from the full step by %g",
                 max_rel(skip, full, P));
    for (int t = 0; t < T; t++)
        if (hw[t] == 0.0)
            cr_assert(head_is_zero(n.m, skip, t), "head %d has weight 0 but a gradient", t);
        else
            cr_assert(!head_is_zero(n.m, skip, t), "head %d has weight %g but no gradient", t, hw[t]);
    free(full), free(skip);
    mtb_model_free(n.m);
}

Test(skip_zero_heads, loss_weighting_equals_full_step)
{
    /* zero runs at both ends and inside, runs of several nonzero heads */
    const double w[T] = {0.0, 1.5, 0.25, 0.0, 0.0, 2.0, 0.0};
    check_weights(MTB_NEED_LOSSES, w, w);
    const double one[T] = {0.0, 0.0, 0.0, 3.0, 0.0, 0.0, 0.0}; /* c-Bernoulli */
    check_weights(MTB_NEED_LOSSES, one, one);
}

Test(skip_zero_heads, feature_level_weights_equal_full_step)
{
    /* RGW-like: trunk weights on the representation's cotangents, head weights apart */
    const double hw[T] = {0.0, 1.0, 1.0, 0.0, 2.0, 0.0, 1.0};
    const double tw[T] = {1.0, 0.0, 2.0, 0.0, 0.5, 0.0, 0.0};
    check_weights(MTB_NEED_REP_GRADS, hw, tw);
    /* different head and trunk weights on the losses path (the unfused branch) */
    check_weights(MTB_NEED_LOSSES, hw, tw);
}

Test(skip_zero_heads, all_zero_weights_leave_no_gradient)
{
    net n;
    net_make(&n, 6);
    const double z[T] = {0};
    float *g = malloc(sizeof(float) * n.m->n_params);
    weighted(&n, MTB_NEED_LOSSES, 1, z, z, g);
    for (size_t i = 0; i < n.m->n_params; i++)
        cr_assert_eq(g[i], 0.0f, "parameter %zu has gradient %g", i, (double)g[i]);
    free(g);
    mtb_model_free(n.m);
}

/* 30 Adam steps of RLW with Bernoulli weights (redraw convention), skipped and not, from the
 * same state and stream: the parameters stay together to float rounding, while the same
 * run with another seed's draws ends measurably elsewhere (so the comparison can fail). */
static void train_rlw(int skip, uint64_t seed, float *theta_out, size_t *P)
{
    net n;
    net_make(&n, 8);
    const mtb_balancer_type *ty = mtb_balancer_find("rlw");
    cr_assert_not_null(ty);
    mtb_hparams hp;
    mtb_error err;
    cr_assert_eq(mtb_hparams_parse(ty, "dist=bernoulli", &hp, &err), MTB_OK, "%s", err.msg);
    mtb_balancer *b = mtb_balancer_new(ty, T, 0, &hp, seed, &err);
    cr_assert_not_null(b, "%s", err.msg);
    mtb_trainer *tr = trainer(&n, b, MTB_NEED_LOSSES);
    mtb_trainer_set_skip_zero_heads(tr, skip);
    int zero_seen = 0;
    for (long k = 0; k < 30; k++) {
        mtb_step_result res;
        cr_assert_eq(mtb_trainer_step(tr, n.x, n.y, T * HO, NB, k, 0, &res, &err), MTB_OK, "%s", err.msg);
        for (int t = 0; t < T; t++)
            zero_seen += res.head_w[t] == 0.0;
    }
    cr_assert_gt(zero_seen, 0, "the Bernoulli draws never gave a zero weight");
    *P = n.m->n_params;
    memcpy(theta_out, n.m->theta, sizeof(float) * *P);
    mtb_trainer_free(tr);
    mtb_balancer_free(b);
    mtb_model_free(n.m);
}

Test(skip_zero_heads, bernoulli_rlw_training_follows_the_full_run)
{
    enum { PMAX = 4096 };
    float *a = malloc(sizeof(float) * PMAX), *s = malloc(sizeof(float) * PMAX),
          *o = malloc(sizeof(float) * PMAX);
    size_t P;
    train_rlw(0, 3, a, &P);
    cr_assert_leq(P, (size_t)PMAX);
    train_rlw(1, 3, s, &P);
    train_rlw(0, 4, o, &P);
    double same = max_rel(s, a, P), other = max_rel(o, a, P);
    cr_assert_lt(same, 1e-5, "skipped run drifted from the full run by %g", same);
    cr_assert_gt(other, 100.0 * same + 1e-6, "other draws end as close (%g vs %g)", other, same);
    free(a), free(s), free(o);
}
