/* The Gram path (core/src/trainer_gram.c): G G^T accumulated block by block equals the Gram
 * matrix of the Jacobian path's G (mtb_trainer_task_grads), for several T, block sizes
 * smaller than a weight row and than a layer, and a Jacobian reference computed in task
 * chunks; MGDA and IMTL-G (level=param) give the same weights on both paths; methods that
 * need G itself are refused. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mtb/balancer.h"
#include "mtb/model.h"
#include "mtb/rng.h"
#include "mtb/train.h"

enum { NB = 7, DIN = 5, TMAX = 40 };

typedef struct net {
    mtb_model *m;
    mtb_task_spec tasks[TMAX];
    int head_out[TMAX];
    float x[NB * DIN], y[NB * TMAX * 2];
    int ldy;
} net;

/* T tasks, alternating MSE (2 outputs) and BCE (1 output); trunk DIN -> widths; seeded. */
static void net_make(net *n, int T, int n_hidden, const int *widths, mtb_activation act)
{
    cr_assert_leq(T, TMAX);
    mtb_model_config mc = {DIN, n_hidden, {0}, act, T, n->head_out};
    memcpy(mc.widths, widths, sizeof(int) * (size_t)n_hidden);
    int off = 0;
    for (int t = 0; t < T; t++) {
        int w = t % 2 ? 1 : 2;
        mtb_loss_kind k = t % 2 ? MTB_LOSS_BCE : MTB_LOSS_MSE;
        n->head_out[t] = w;
        n->tasks[t] = (mtb_task_spec){k, w, w, off, 1.0, 0, {0}};
        off += w;
    }
    n->ldy = off;
    mtb_error err;
    cr_assert_eq(mtb_model_new(&mc, &n->m, &err), MTB_OK, "%s", err.msg);
    mtb_rng r;
    mtb_rng_seed(&r, 11, 2);
    cr_assert_eq(mtb_model_init_orthogonal(n->m, 1.0, &r, &err), MTB_OK, "%s", err.msg);
    for (size_t i = 0; i < n->m->n_params; i++)
        n->m->theta[i] += (float)(0.05 * mtb_rng_normal(&r));
    for (int i = 0; i < NB * DIN; i++)
        n->x[i] = (float)mtb_rng_normal(&r);
    for (int b = 0; b < NB; b++)
        for (int t = 0; t < T; t++)
            for (int k = 0; k < n->head_out[t]; k++)
                n->y[b * n->ldy + n->tasks[t].target_offset + k] =
                    t % 2 ? (float)mtb_rng_bernoulli(&r, 0.5) : (float)mtb_rng_normal(&r);
}

static mtb_trainer *trainer(net *n, mtb_balancer *bal, int gram, size_t block, int chunk)
{
    mtb_trainer_config tc = {0};
    mtb_optim_config_adam(&tc.optim, 1e-3);
    tc.batch_max = NB;
    tc.need = MTB_NEED_PARAM_GRADS;
    tc.scope = MTB_SCOPE_ALL;
    tc.task_chunk = chunk;
    mtb_trainer *tr = NULL;
    mtb_error err;
    mtb_status st = gram ? mtb_trainer_new_gram(n->m, n->tasks, bal, &tc, block, &tr, &err)
                         : mtb_trainer_new(n->m, n->tasks, bal, &tc, &tr, &err);
    cr_assert_eq(st, MTB_OK, "%s", err.msg);
    return tr;
}

/* Max |M_gram - G G^T| relative to the largest diagonal entry. Both paths compute the
 * gradient entries in float (sgemm, sgemv), on the Gram path for row runs of a weight and for
 * all tasks' biases at once, so an entry may round differently (summation order in the BLAS
 * kernel): agreement is to float rounding of the entries (1e-6 relative), while a wrong block,
 * stride or missing layer gives errors of order 1. */
static double gram_error(int T, int n_hidden, const int *widths, mtb_activation act, size_t block)
{
    net n;
    net_make(&n, T, n_hidden, widths, act);
    mtb_trainer *jac = trainer(&n, NULL, 0, 0, 3); /* reference in task chunks of 3 */
    mtb_trainer *gr = trainer(&n, NULL, 1, block, 0);
    const double *lj, *G, *lg, *M;
    size_t D;
    mtb_error err;
    cr_assert_eq(mtb_trainer_task_grads(jac, n.x, n.y, (size_t)n.ldy, NB, MTB_NEED_PARAM_GRADS,
                                        MTB_SCOPE_ALL, &lj, &G, &D, &err), MTB_OK, "%s", err.msg);
    cr_assert_eq(D, n.m->n_trunk);
    cr_assert_eq(mtb_trainer_task_gram(gr, n.x, n.y, (size_t)n.ldy, NB, &lg, &M, &err), MTB_OK,
                 "%s", err.msg);
    double dmax = 0.0, e = 0.0;
    for (int t = 0; t < T; t++) {
        cr_assert_eq(lj[t], lg[t], "loss %d differs", t);
        for (int s = 0; s < T; s++) {
            double ref = 0.0;
            for (size_t k = 0; k < D; k++)
                ref += G[(size_t)t * D + k] * G[(size_t)s * D + k];
            if (t == s && ref > dmax)
                dmax = ref;
            double d = fabs(M[(size_t)t * T + s] - ref);
            if (d > e)
                e = d;
            cr_assert_eq(M[(size_t)t * T + s], M[(size_t)s * T + t], "not symmetric at %d %d", t, s);
        }
    }
    cr_assert_gt(dmax, 0.0, "zero gradients prove nothing");
    /* a Gram-path trainer has no G to give */
    cr_assert_eq(mtb_trainer_task_grads(gr, n.x, n.y, (size_t)n.ldy, NB, MTB_NEED_PARAM_GRADS,
                                        MTB_SCOPE_ALL, &lj, &G, &D, &err), MTB_EINVAL);
    mtb_trainer_free(jac);
    mtb_trainer_free(gr);
    mtb_model_free(n.m);
    return e / dmax;
}

static const int W2[2] = {9, 6}, W3[3] = {8, 11, 4};

Test(gram_path, equals_jacobian_gram_for_several_T)
{
    const int Ts[] = {1, 2, 5, 17, 40};
    for (size_t i = 0; i < sizeof Ts / sizeof *Ts; i++) {
        double e = gram_error(Ts[i], 2, W2, MTB_ACT_TANH, 0);
        cr_assert_lt(e, 1e-6, "T = %d: relative error %g", Ts[i], e);
    }
}

Test(gram_path, equals_jacobian_gram_with_small_blocks)
{
    /* block 1: one weight row per block (smaller than any row: the bound is then the row);
     * 20: two rows of the 9-wide layer; 1 << 20: each layer whole */
    const size_t blocks[] = {1, 20, 1u << 20};
    for (size_t i = 0; i < sizeof blocks / sizeof *blocks; i++) {
        double e = gram_error(17, 3, W3, MTB_ACT_RELU, blocks[i]);
        cr_assert_lt(e, 1e-6, "block %zu: relative error %g", blocks[i], e);
        e = gram_error(5, 2, W2, MTB_ACT_TANH, blocks[i]);
        cr_assert_lt(e, 1e-6, "block %zu: relative error %g", blocks[i], e);
    }
}

/* The weighted backward after task_gram applies trunk_w through the trunk once: the same
 * model gradient as G^T w on the Jacobian path, to float rounding. */
Test(gram_path, weighted_backward_matches_jacobian_path)
{
    net n;
    const int T = 6;
    net_make(&n, T, 3, W3, MTB_ACT_TANH);
    mtb_trainer *jac = trainer(&n, NULL, 0, 0, 0), *gr = trainer(&n, NULL, 1, 7, 0);
    double hw[TMAX], tw[TMAX];
    for (int t = 0; t < T; t++)
        hw[t] = 0.5 + 0.1 * t, tw[t] = 1.0 - 0.3 * t;
    const double *l, *G, *M;
    size_t D;
    mtb_error err;
    cr_assert_eq(mtb_trainer_task_grads(jac, n.x, n.y, (size_t)n.ldy, NB, MTB_NEED_PARAM_GRADS,
                                        MTB_SCOPE_ALL, &l, &G, &D, &err), MTB_OK);
    cr_assert_eq(mtb_trainer_weighted_grad(jac, hw, tw, NULL, &err), MTB_OK, "%s", err.msg);
    float *ref = malloc(sizeof(float) * n.m->n_params);
    memcpy(ref, n.m->grad, sizeof(float) * n.m->n_params);
    cr_assert_eq(mtb_trainer_task_gram(gr, n.x, n.y, (size_t)n.ldy, NB, &l, &M, &err), MTB_OK);
    cr_assert_eq(mtb_trainer_weighted_grad(gr, hw, tw, NULL, &err), MTB_OK, "%s", err.msg);
    double scale = 0.0;
    for (size_t i = 0; i < n.m->n_params; i++)
        scale = fmax(scale, fabs(ref[i]));
    cr_assert_gt(scale, 0.0);
    for (size_t i = 0; i < n.m->n_params; i++)
        cr_assert_lt(fabs(n.m->grad[i] - ref[i]), 1e-5 * scale, "parameter %zu: %g vs %g", i,
                     n.m->grad[i], ref[i]);
    free(ref);
    mtb_trainer_free(jac);
    mtb_trainer_free(gr);
    mtb_model_free(n.m);
}

static mtb_balancer *method(const char *name, const char *hp_text, int T, size_t D)
{
    const mtb_balancer_type *ty = mtb_balancer_find(name);
    cr_assert_not_null(ty, "%s", name);
    mtb_hparams hp;
    mtb_error err;
    cr_assert_eq(mtb_hparams_parse(ty, hp_text, &hp, &err), MTB_OK, "%s", err.msg);
    mtb_balancer *b = mtb_balancer_new(ty, T, D, &hp, 5, &err);
    cr_assert_not_null(b, "%s", err.msg);
    return b;
}

/* One full step on each path from identical models: the same weights to rounding, and the
 * same updated parameters to float rounding. */
static void same_step(const char *name, const char *hp_text, int T)
{
    net a, b;
    net_make(&a, T, 2, W2, MTB_ACT_TANH);
    net_make(&b, T, 2, W2, MTB_ACT_TANH);
    mtb_balancer *ba = method(name, hp_text, T, a.m->n_trunk);
    mtb_balancer *bb = method(name, hp_text, T, b.m->n_trunk);
    mtb_trainer *ta = trainer(&a, ba, 0, 0, 0), *tb = trainer(&b, bb, 1, 10, 0);
    mtb_error err;
    for (long step = 0; step < 3; step++) {
        mtb_step_result ra, rb;
        cr_assert_eq(mtb_trainer_step(ta, a.x, a.y, (size_t)a.ldy, NB, step, 0, &ra, &err), MTB_OK,
                     "%s", err.msg);
        cr_assert_eq(mtb_trainer_step(tb, b.x, b.y, (size_t)b.ldy, NB, step, 0, &rb, &err), MTB_OK,
                     "%s", err.msg);
        double wmax = 0.0;
        for (int t = 0; t < T; t++)
            wmax = fmax(wmax, fabs(ra.trunk_w[t]));
        cr_assert_gt(wmax, 0.0);
        for (int t = 0; t < T; t++) {
            cr_assert_lt(fabs(ra.trunk_w[t] - rb.trunk_w[t]), 1e-7 * wmax,
                         "%s T=%d step %ld: trunk weight %d %.17g vs %.17g", name, T, step, t,
                         ra.trunk_w[t], rb.trunk_w[t]);
            /* heads: 1 for most methods; FairGrad's heads take its weights */
            cr_assert_lt(fabs(ra.head_w[t] - rb.head_w[t]), 1e-7 * fmax(1.0, fabs(ra.head_w[t])),
                         "%s T=%d step %ld: head weight %d", name, T, step, t);
        }
    }
    for (size_t i = 0; i < a.m->n_params; i++)
        cr_assert_lt(fabsf(a.m->theta[i] - b.m->theta[i]), 1e-5f, "parameter %zu", i);
    mtb_trainer_free(ta), mtb_trainer_free(tb);
    mtb_balancer_free(ba), mtb_balancer_free(bb);
    mtb_model_free(a.m), mtb_model_free(b.m);
}

Test(gram_path, mgda_same_weights_on_both_paths)
{
    same_step("mgda", "", 2);
    same_step("mgda", "", 5);
    same_step("mgda", "solver=exact", 6);
    same_step("mgda", "solver=libmtl", 12);
    same_step("mgda", "normalize=l2", 9);
}

Test(gram_path, imtl_g_same_weights_on_both_paths)
{
    same_step("imtl_g", "level=param", 2);
    same_step("imtl_g", "level=param", 7);
    same_step("imtl_g", "level=param", 15);
}

Test(gram_path, fairgrad_and_upgrad_same_weights_on_both_paths)
{
    same_step("fairgrad", "", 2);
    same_step("fairgrad", "", 6);
    same_step("upgrad", "", 3);
    same_step("upgrad", "", 8);
}

Test(gram_path, cagrad_nash_aligned_same_weights_on_both_paths)
{
    same_step("cagrad", "", 2);
    same_step("cagrad", "c=0.8", 7);
    same_step("nash_mtl", "", 3);
    same_step("nash_mtl", "max_norm=0.01", 6); /* the clip binds: |G^T alpha| from G G^T */
    same_step("nash_mtl", "update_weights_every=2", 5);
    same_step("aligned_mtl", "", 4);
    same_step("aligned_mtl", "", 11);
}

/* Methods that need G itself are refused, by the trainer and by the driver. */
Test(gram_path, refused_for_methods_that_need_g)
{
    net n;
    net_make(&n, 3, 2, W2, MTB_ACT_TANH);
    mtb_balancer *pc = method("pcgrad", "", 3, n.m->n_trunk);
    mtb_trainer_config tc = {0};
    mtb_optim_config_adam(&tc.optim, 1e-3);
    tc.batch_max = NB;
    mtb_trainer *tr = NULL;
    mtb_error err;
    cr_assert_eq(mtb_trainer_new_gram(n.m, n.tasks, pc, &tc, 0, &tr, &err), MTB_EINVAL);
    cr_assert_null(tr);
    cr_assert_not_null(strstr(err.msg, "pcgrad"), "%s", err.msg);

    double M[9] = {1, 0.1, 0.2, 0.1, 2, 0.3, 0.2, 0.3, 3}, L[3] = {1, 1, 1}, hw[3], tw[3];
    mtb_balance_in in = {.T = 3, .losses = L, .gram = {.M = M}};
    mtb_balance_out out = {hw, tw, NULL, 0};
    cr_assert_eq(mtb_balancer_step(pc, &in, &out, &err), MTB_EINVAL);
    mtb_balancer *lg = method("mgda", "pre=log", 3, n.m->n_trunk);
    cr_assert_eq(mtb_balancer_step(lg, &in, &out, &err), MTB_EINVAL);
    cr_assert_not_null(strstr(err.msg, "pre-transform"), "%s", err.msg);
    mtb_balancer *ok = method("mgda", "", 3, n.m->n_trunk);
    cr_assert_eq(mtb_balancer_step(ok, &in, &out, &err), MTB_OK, "%s", err.msg);
    M[1] = 0.15; /* asymmetric */
    cr_assert_eq(mtb_balancer_step(ok, &in, &out, &err), MTB_ENUMERIC);
    mtb_balancer *rep = method("imtl_g", "level=rep", 3, n.m->n_trunk);
    M[1] = 0.1;
    cr_assert_eq(mtb_balancer_step(rep, &in, &out, &err), MTB_EINVAL);
    mtb_balancer_free(pc), mtb_balancer_free(lg), mtb_balancer_free(ok), mtb_balancer_free(rep);
    mtb_model_free(n.m);
}
