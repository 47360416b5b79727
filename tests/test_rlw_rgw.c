/* test_rlw_rgw.c: rlw.md R7's unit test, through the library's trainer.
 * TMLR Algorithm 2 (RGW) weights the task gradients w.r.t. the shared representation z:
 *   dz = sum_t lambda~_t dl_t/dz, one trunk backward of dz          [TMLR Alg. 2]
 * and gives each head its unweighted gradient. RLW (ICLR Alg. 1, Eq. 3) back-propagates
 * sum_t lambda~_t l_t, i.e. the trunk gets sum_t lambda~_t dl_t/dtheta (parameter level)
 * and head t gets lambda~_t dl_t/dpsi_t. Derived (rlw.md sec. 1): same lambda~ and batch
 * give the same shared gradient; head t differs by exactly the factor lambda~_t.
 * Here lambda~ comes from the registered rgw and rlw methods (same seed: same stream), the
 * RLW trunk gradient from the PARAM task gradients (G^T lambda~, in double), the RGW one from
 * the REP gradients as an explicit feature-level cotangent through mtb_trainer_weighted_grad.
 * The model is float: agreement within RGW_TOL relative (rlw.md R7: 1e-5 for float). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mtb/balancer.h"
#include "mtb/model.h"
#include "mtb/rng.h"
#include "mtb/train.h"

#define RGW_TOL 1e-5 /* float model, sums of <= 100 products: rounding ~1e-7 relative */

enum { B = 8, T = 3, DIN = 5 };

static mtb_task_spec spec(mtb_loss_kind k, int out, int off)
{
    mtb_task_spec t = {k, out, k == MTB_LOSS_CE ? 1 : out, off, 1.0, 0, {0}};
    return t;
}

static double rel(double a, double b, double scale) { return fabs(a - b) / fmax(scale, 1e-30); }

static void weights(const char *method, unsigned long long seed, long step, double *hw, double *tw)
{
    const mtb_balancer_type *ty = mtb_balancer_find(method);
    mtb_hparams hp;
    mtb_error err = {0};
    cr_assert_eq(mtb_hparams_parse(ty, "dist=normal", &hp, &err), MTB_OK);
    mtb_balancer *b = mtb_balancer_new(ty, T, 0, &hp, seed, &err);
    cr_assert(b, "%s", err.msg);
    double l[T] = {1, 2, 3};
    for (long k = 0; k <= step; k++) {
        mtb_balance_in in = {.step = k, .T = T, .losses = l};
        mtb_balance_out out = {.head_w = hw, .trunk_w = tw};
        cr_assert_eq(mtb_balancer_step(b, &in, &out, &err), MTB_OK, "%s", err.msg);
    }
    mtb_balancer_free(b);
}

Test(rlw_rgw, shared_gradient_equals_rlw_heads_differ_by_lambda)
{
    int head_out[T] = {3, 2, 4};
    mtb_model_config mc = {DIN, 2, {7, 6}, MTB_ACT_TANH, T, head_out};
    mtb_model *m;
    mtb_error err = {0};
    cr_assert_eq(mtb_model_new(&mc, &m, &err), MTB_OK, "%s", err.msg);
    mtb_rng r;
    mtb_rng_seed(&r, 5, 1);
    cr_assert_eq(mtb_model_init_orthogonal(m, 1.0, &r, &err), MTB_OK, "%s", err.msg);
    for (size_t i = 0; i < m->n_params; i++)
        m->theta[i] += (float)(0.05 * mtb_rng_normal(&r));
    mtb_task_spec tasks[T] = {spec(MTB_LOSS_MSE, 3, 0), spec(MTB_LOSS_BCE, 2, 3),
                              spec(MTB_LOSS_CE, 4, 5)};
    enum { LDY = 6 };
    float x[B * DIN], y[B * LDY];
    for (int i = 0; i < B * DIN; i++)
        x[i] = (float)mtb_rng_normal(&r);
    for (int b = 0; b < B; b++) {
        for (int k = 0; k < 3; k++)
            y[b * LDY + k] = (float)mtb_rng_normal(&r);
        y[b * LDY + 3] = (float)mtb_rng_bernoulli(&r, 0.5);
        y[b * LDY + 4] = (float)mtb_rng_bernoulli(&r, 0.5);
        y[b * LDY + 5] = (float)mtb_rng_below(&r, 4);
    }
    mtb_trainer *tp, *tz;
    mtb_trainer_config tc = {0};
    mtb_optim_config_adam(&tc.optim, 1e-3);
    tc.batch_max = B;
    tc.scope = MTB_SCOPE_ALL;
    tc.need = MTB_NEED_PARAM_GRADS;
    cr_assert_eq(mtb_trainer_new(m, tasks, NULL, &tc, &tp, &err), MTB_OK, "%s", err.msg);
    tc.need = MTB_NEED_REP_GRADS;
    cr_assert_eq(mtb_trainer_new(m, tasks, NULL, &tc, &tz, &err), MTB_OK, "%s", err.msg);

    for (long step = 0; step < 3; step++) {
        double hw_l[T], tw_l[T], hw_g[T], tw_g[T];
        weights("rlw", 17, step, hw_l, tw_l);
        weights("rgw", 17, step, hw_g, tw_g);
        for (int t = 0; t < T; t++) {
            cr_assert_eq(tw_g[t], tw_l[t], "RGW draws RLW's lambda~ (same stream)");
            cr_assert_eq(hw_g[t], 1.0);
            cr_assert_eq(hw_l[t], tw_l[t]);
        }
        /* RLW, parameter level: trunk gradient G^T lambda~ (G: (T, P) PARAM rows) */
        const double *l, *G;
        size_t P;
        cr_assert_eq(mtb_trainer_task_grads(tp, x, y, LDY, B, MTB_NEED_PARAM_GRADS, MTB_SCOPE_ALL,
                                            &l, &G, &P, &err), MTB_OK, "%s", err.msg);
        cr_assert_eq(P, m->n_trunk);
        double *g_rlw = calloc(P, sizeof *g_rlw), scale = 0.0;
        for (size_t j = 0; j < P; j++) {
            for (int t = 0; t < T; t++)
                g_rlw[j] += tw_l[t] * G[(size_t)t * P + j];
            scale = fmax(scale, fabs(g_rlw[j]));
        }
        cr_assert_eq(mtb_trainer_weighted_grad(tp, hw_l, tw_l, NULL, &err), MTB_OK, "%s", err.msg);
        float *heads_rlw = malloc(sizeof(float) * m->n_heads);
        memcpy(heads_rlw, m->grad + m->n_trunk, sizeof(float) * m->n_heads);
        /* RGW, feature level: dz = sum_t lambda~_t dl_t/dz, heads unweighted */
        const double *Gz;
        size_t Dz;
        cr_assert_eq(mtb_trainer_task_grads(tz, x, y, LDY, B, MTB_NEED_REP_GRADS, MTB_SCOPE_ALL,
                                            &l, &Gz, &Dz, &err), MTB_OK, "%s", err.msg);
        cr_assert_eq(Dz, (size_t)B * (size_t)m->dz);
        double *dz = calloc(Dz, sizeof *dz);
        for (size_t j = 0; j < Dz; j++)
            for (int t = 0; t < T; t++)
                dz[j] += tw_g[t] * Gz[(size_t)t * Dz + j];
        cr_assert_eq(mtb_trainer_weighted_grad(tz, hw_g, tw_g, dz, &err), MTB_OK, "%s", err.msg);
        double worst = 0.0;
        for (size_t j = 0; j < P; j++)
            worst = fmax(worst, rel(m->grad[j], g_rlw[j], scale));
        cr_assert_lt(worst, RGW_TOL, "step %ld: shared gradients differ by %g (relative)", step,
                     worst);
        /* head t: RLW's gradient = lambda~_t x RGW's */
        double hworst = 0.0, hscale = 0.0;
        for (size_t j = 0; j < m->n_heads; j++)
            hscale = fmax(hscale, fabs(m->grad[m->n_trunk + j]));
        for (int t = 0; t < T; t++) {
            for (int o = 0; o < head_out[t]; o++) {
                size_t row = (size_t)(m->head_off[t] + o);
                for (int c = 0; c <= m->dz; c++) { /* dz weights then the bias */
                    size_t j = c < m->dz ? row * (size_t)m->dz + (size_t)c
                                         : (size_t)m->sum_out * (size_t)m->dz + row;
                    double want = tw_l[t] * m->grad[m->n_trunk + j];
                    hworst = fmax(hworst, rel(heads_rlw[j], want, hscale));
                }
            }
        }
        cr_assert_lt(hworst, RGW_TOL, "step %ld: heads differ from lambda~_t x RGW's by %g", step,
                     hworst);
        free(g_rlw);
        free(heads_rlw);
        free(dz);
    }
    mtb_trainer_free(tp);
    mtb_trainer_free(tz);
    mtb_model_free(m);
}
