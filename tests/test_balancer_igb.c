/* test_balancer_igb.c: improvable gap balancing (Dai, Fei & Lu, UAI 2023).
 * IGBv1: the weights K softmax(l / l_base) on log losses against a hand computation, the base
 * losses of epoch base_epoch, degenerate inputs. IGBv2: weights K softmax(u) (sum K) at every
 * phase, finite for degenerate inputs (loss 0, 1e8 ratios, T = 1, T = 1024), determinism, the
 * SAC critics' TD loss falling on a fixed reward, the agent learning a bandit-like problem in
 * which weighting task 0 pays, and short deterministic training runs. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/src/balancers/igb_agent.h"
#include "grad_method_util.h"
#include "mtb/balancer.h"
#include "mtb/run.h"
#include "run_testutil.h"
#include "mtb/synth.h"

static void step_ok(mtb_balancer *b, long step, long epoch, int T, const double *l, double *hw,
                    double *tw)
{
    mtb_balance_in in = {.step = step, .epoch = epoch, .T = T, .losses = l,
                         .rng = mtb_balancer_rng(b)};
    mtb_balance_out out = {.head_w = hw, .trunk_w = tw};
    mtb_error err = {0};
    cr_assert_eq(mtb_balancer_step(b, &in, &out, &err), MTB_OK, "%s", err.msg);
    cr_assert_eq(out.trunk_grad_set, 0);
}

/* ---- IGBv1 ------------------------------------------------------------------------------- */

/* base_epoch = 1: weights 1 (on log l) during epochs 0 and 1; from epoch 2 on
 * w = 3 softmax(l / mean_{epoch 1} l), returned as w / (l + 1e-8). */
Test(igbv1, weights_match_hand_computation)
{
    mtb_balancer *b = gm_new("igbv1", "", 3, 0);
    cr_assert_eq(mtb_balancer_get_setup(b)->need, MTB_NEED_LOSSES);
    double e0[3] = {9.0, 9.0, 9.0}, e1a[3] = {2.0, 0.5, 4.0}, e1b[3] = {4.0, 1.5, 4.0};
    double hw[3], tw[3];
    step_ok(b, 0, 0, 3, e0, hw, tw);
    step_ok(b, 1, 1, 3, e1a, hw, tw);
    for (int t = 0; t < 3; t++)
        cr_assert_float_eq(hw[t], 1.0 / (e1a[t] + 1e-8), 1e-15);
    step_ok(b, 2, 1, 3, e1b, hw, tw);
    double base[3] = {3.0, 1.0, 4.0}; /* epoch 1 means; epoch 0 is not used */
    double l[3] = {1.5, 2.0, 2.0};
    step_ok(b, 3, 2, 3, l, hw, tw);
    double r[3], z = 0.0;
    for (int t = 0; t < 3; t++) {
        r[t] = exp(l[t] / base[t]);
        z += r[t];
    }
    double sw = 0.0;
    for (int t = 0; t < 3; t++) {
        double w = 3.0 * r[t] / z;
        cr_assert_float_eq(hw[t], w / (l[t] + 1e-8), 1e-13, "w[%d]: %.17g", t, hw[t]);
        cr_assert_eq(hw[t], tw[t]);
        sw += hw[t] * (l[t] + 1e-8);
    }
    cr_assert_float_eq(sw, 3.0, 1e-12, "IGB weights sum to K: %.17g", sw);
    /* hand numbers: r/base = (0.5, 2, 0.5) -> task 1 (largest gap) gets 3 e^2/(2e^.5+e^2) */
    cr_assert_float_eq(hw[1] * 2.0, 3.0 * exp(2.0) / (2.0 * exp(0.5) + exp(2.0)), 1e-7);
    mtb_balancer_free(b);
}

/* log=false: the weights on the raw losses are w itself; base_epoch=0. */
Test(igbv1, raw_loss_variant_and_base_epoch_zero)
{
    mtb_balancer *b = gm_new("igbv1", "log=false,base_epoch=0", 2, 0);
    double a[2] = {1.0, 2.0}, c[2] = {3.0, 2.0}, hw[2], tw[2];
    step_ok(b, 0, 0, 2, a, hw, tw);
    cr_assert_eq(hw[0], 1.0);
    cr_assert_eq(hw[1], 1.0);
    step_ok(b, 1, 0, 2, c, hw, tw); /* base = (2, 2) after epoch 0 */
    double l[2] = {2.0, 1.0};
    step_ok(b, 2, 1, 2, l, hw, tw);
    double e0 = exp(1.0), e1 = exp(0.5);
    cr_assert_float_eq(hw[0], 2.0 * e0 / (e0 + e1), 1e-14);
    cr_assert_float_eq(hw[1], 2.0 * e1 / (e0 + e1), 1e-14);
    mtb_balancer_free(b);
}

Test(igbv1, degenerate_inputs)
{
    double hw[3], tw[3];
    /* loss 0 and 1e8 ratios: finite; the huge gap takes (nearly) all of K */
    mtb_balancer *b = gm_new("igbv1", "base_epoch=0", 3, 0);
    double base[3] = {1.0, 1.0, 1.0}, l[3] = {0.0, 1e8, 1e-8};
    step_ok(b, 0, 0, 3, base, hw, tw);
    step_ok(b, 1, 1, 3, l, hw, tw);
    for (int t = 0; t < 3; t++)
        cr_assert_geq(hw[t], 0.0, "w[%d] = %g", t, hw[t]);
    cr_assert_float_eq(hw[1] * (1e8 + 1e-8), 3.0, 1e-12);
    mtb_balancer_free(b);
    /* T = 1: w = 1 */
    b = gm_new("igbv1", "base_epoch=0", 1, 0);
    double one = 2.0;
    step_ok(b, 0, 0, 1, &one, hw, tw);
    step_ok(b, 1, 1, 1, &one, hw, tw);
    cr_assert_float_eq(hw[0] * (2.0 + 1e-8), 1.0, 1e-15);
    mtb_balancer_free(b);
    /* a negative loss has no log: a clear error */
    b = gm_new("igbv1", "", 2, 0);
    double neg[2] = {1.0, -0.5};
    mtb_balance_in in = {.T = 2, .losses = neg};
    mtb_balance_out out = {.head_w = hw, .trunk_w = tw};
    mtb_error err = {0};
    cr_assert_eq(mtb_balancer_step(b, &in, &out, &err), MTB_ENUMERIC);
    cr_assert(strstr(err.msg, "igbv1") && strstr(err.msg, "-0.5"), "%s", err.msg);
    mtb_balancer_free(b);
}

/* ---- IGBv2 ------------------------------------------------------------------------------- */

/* Small agent that acts from epoch 1 and trains from epoch 1, every 4 steps. */
#define V2_SMALL "base_epoch=0,start_epoch=1,update_after=1,update_every=4,batch_size=16," \
                 "hidden=16,buffer_size=64"

/* the IGB weights w = head_w (l + eps) of the last step */
static void v2_weights(const double *hw, const double *l, int T, double *w)
{
    for (int t = 0; t < T; t++)
        w[t] = hw[t] * (l[t] + 1e-8);
}

static void assert_on_scaled_simplex(const double *w, int T, const char *what, long s)
{
    double sum = 0.0;
    for (int t = 0; t < T; t++) {
        cr_assert_geq(w[t], 0.0, "%s step %ld: w[%d] = %g", what, s, t, w[t]);
        sum += w[t];
    }
    cr_assert_float_eq(sum, (double)T, 1e-9 * T, "%s step %ld: weights sum to %.17g, not %d",
                       what, s, sum, T);
}

/* Runs n steps of igbv2 on losses that fall slowly, calling the after_update hook when the
 * method asks for it; each epoch has 3 steps. Returns the weights of every step in W. */
static void v2_drive(mtb_balancer *b, int T, long n, const double *scale, double *W)
{
    double *l = malloc(2 * (size_t)T * sizeof *l), *hw = malloc(2 * (size_t)T * sizeof *hw);
    cr_assert(l && hw);
    double *la = l + T, *tw = hw + T;
    int after = mtb_balancer_get_setup(b)->after_update != NULL;
    for (long s = 0; s < n; s++) {
        for (int t = 0; t < T; t++) {
            l[t] = scale[t] * (1.0 + 0.5 / (1.0 + 0.1 * s) + 0.01 * ((s * 7 + t) % 5));
            la[t] = l[t] * 0.99;
        }
        step_ok(b, s, s / 3, T, l, hw, tw);
        for (int t = 0; t < T; t++)
            cr_assert_eq(hw[t], tw[t]);
        v2_weights(hw, l, T, W + s * T);
        if (after) {
            mtb_error err = {0};
            cr_assert_eq(mtb_balancer_after_update(b, la, &err), MTB_OK, "%s", err.msg);
        }
    }
    free(l);
    free(hw);
}

Test(igbv2, weights_on_scaled_simplex_in_every_phase)
{
    const char *opts[2] = {V2_SMALL, V2_SMALL ",reward=after_update,logprob=gaussian"};
    for (int o = 0; o < 2; o++) {
        mtb_balancer *b = gm_new("igbv2", opts[o], 3, 0);
        cr_assert_eq(mtb_balancer_get_setup(b)->need, MTB_NEED_LOSSES);
        cr_assert_eq(mtb_balancer_get_setup(b)->after_update != NULL, o);
        double scale[3] = {1.0, 10.0, 0.1}, W[40 * 3];
        v2_drive(b, 3, 40, scale, W);
        for (long s = 0; s < 40; s++)
            assert_on_scaled_simplex(W + s * 3, 3, opts[o], s);
        mtb_balancer_free(b);
    }
}

Test(igbv2, degenerate_inputs_stay_finite)
{
    /* loss 0 and 1e8 ratios between tasks, in both reward modes */
    const char *opts[2] = {V2_SMALL, V2_SMALL ",reward=after_update"};
    for (int o = 0; o < 2; o++) {
        mtb_balancer *b = gm_new("igbv2", opts[o], 3, 0);
        double scale[3] = {1e-4, 1e4, 0.0}, W[40 * 3];
        v2_drive(b, 3, 40, scale, W);
        for (long s = 0; s < 40; s++)
            assert_on_scaled_simplex(W + s * 3, 3, "1e8 ratios", s);
        mtb_balancer_free(b);
    }
    /* T = 1: the only weight is 1 */
    mtb_balancer *b = gm_new("igbv2", V2_SMALL, 1, 0);
    double one = 1.0, W1[20];
    v2_drive(b, 1, 20, &one, W1);
    for (int s = 0; s < 20; s++)
        cr_assert_float_eq(W1[s], 1.0, 1e-12);
    mtb_balancer_free(b);
    /* T = 1024 with a small agent (the default buffer would be 123 MB of floats) */
    const int T = 1024;
    b = gm_new("igbv2", "base_epoch=0,start_epoch=1,update_after=1,update_every=3,"
               "batch_size=8,hidden=8,buffer_size=16", T, 0);
    double *scale = malloc(T * sizeof *scale), *W = malloc(9 * (size_t)T * sizeof *W);
    cr_assert(scale && W);
    for (int t = 0; t < T; t++)
        scale[t] = pow(10.0, -4.0 + 8.0 * t / (T - 1));
    v2_drive(b, T, 9, scale, W);
    for (long s = 0; s < 9; s++)
        assert_on_scaled_simplex(W + s * T, T, "T = 1024", s);
    free(scale);
    free(W);
    mtb_balancer_free(b);
}

Test(igbv2, deterministic_for_a_seed)
{
    const mtb_balancer_type *ty = mtb_balancer_find("igbv2");
    mtb_hparams hp;
    mtb_error err = {0};
    cr_assert_eq(mtb_hparams_parse(ty, V2_SMALL, &hp, &err), MTB_OK, "%s", err.msg);
    double scale[3] = {1.0, 2.0, 3.0}, W[3][30 * 3];
    unsigned long long seeds[3] = {7, 7, 8};
    for (int r = 0; r < 3; r++) {
        mtb_balancer *b = mtb_balancer_new(ty, 3, 0, &hp, seeds[r], &err);
        cr_assert(b, "%s", err.msg);
        v2_drive(b, 3, 30, scale, W[r]);
        mtb_balancer_free(b);
    }
    cr_assert(!memcmp(W[0], W[1], sizeof W[0]), "same seed, different weights");
    cr_assert(memcmp(W[0], W[2], sizeof W[0]), "different seeds, same weights");
}

/* Critics on a fixed synthetic reward r = s_0 - a_1 (gamma = 0, so the TD target is r): the
 * TD loss falls by a factor 10 within 300 updates. */
Test(igbv2, critic_td_loss_decreases_on_fixed_reward)
{
    mtb_igb_agent g;
    mtb_igb_agent_config c = {.S = 2, .A = 2, .H = 32, .buffer_size = 64, .batch = 64,
                              .lr = 3e-3, .gamma = 0.0, .tau = 0.005, .alpha0 = 0.2,
                              .adaptive_alpha = 1, .official_logp = 1};
    mtb_error err = {0};
    cr_assert_eq(mtb_igb_agent_init(&g, &c, "test", &err), MTB_OK, "%s", err.msg);
    mtb_rng rng;
    mtb_rng_seed(&rng, 5, 1);
    mtb_igb_agent_ready(&g, &rng);
    for (int i = 0; i < 64; i++) {
        double s[2] = {mtb_rng_uniform(&rng), mtb_rng_uniform(&rng)}, a[2];
        a[0] = 2.0 * mtb_rng_uniform(&rng);
        a[1] = 2.0 - a[0];
        mtb_igb_agent_add(&g, s, a, s[0] - a[1], s);
    }
    mtb_rng eval;
    mtb_rng_seed(&eval, 6, 1);
    double td0 = mtb_igb_agent_td_loss(&g, 64, &eval);
    for (int k = 0; k < 300; k++)
        cr_assert_eq(mtb_igb_agent_update(&g, 64, &rng, "test", &err), MTB_OK, "%s", err.msg);
    mtb_rng_seed(&eval, 6, 1);
    double td1 = mtb_igb_agent_td_loss(&g, 64, &eval);
    cr_assert(isfinite(td0) && isfinite(td1));
    cr_assert_lt(td1, 0.1 * td0, "TD loss %g -> %g", td0, td1);
    mtb_igb_agent_free(&g);
}

/* A bandit-like problem: constant losses (1, 1); after the update task 0 has fallen by
 * 0.1 w_0 and task 1 by 0.2, so the reward min_k (l_k - l'_k) / l_base = 0.1 w_0 grows with
 * the weight of task 0 (w_0 in (0, 2)). Random weights average w_0 = 1; the agent must learn
 * to put most of K = 2 on task 0: with the authors' log-density (its tanh term pulls u
 * towards 0, so it learns more slowly) within 1600 steps, with the Gaussian one within 400.
 * One SAC update every 2 steps, minibatch 32..64. */
static double bandit_late_w0(const char *logprob, long n)
{
    char opts[256];
    snprintf(opts, sizeof opts, "base_epoch=0,start_epoch=1,update_after=1,update_every=2,"
             "batch_size=64,hidden=32,buffer_size=1000,lr=3e-3,gamma=0.5,reward=after_update,"
             "logprob=%s", logprob);
    mtb_balancer *b = gm_new("igbv2", opts, 2, 0);
    double l[2] = {1.0, 1.0}, la[2], hw[2], tw[2], late = 0.0;
    for (long s = 0; s < n; s++) {
        step_ok(b, s, s ? 1 : 0, 2, l, hw, tw);
        double w0 = hw[0] * (1.0 + 1e-8);
        la[0] = 1.0 - 0.1 * w0;
        la[1] = 1.0 - 0.2;
        mtb_error err = {0};
        cr_assert_eq(mtb_balancer_after_update(b, la, &err), MTB_OK, "%s", err.msg);
        if (s >= n - n / 8)
            late += w0 / (double)(n / 8);
    }
    mtb_balancer_free(b);
    return late;
}

Test(igbv2, agent_learns_to_weight_the_rewarding_task)
{
    double off = bandit_late_w0("official", 1600);
    cr_assert_gt(off, 1.5, "official log-density: mean w_0 over the last 200 steps is %g "
                 "(random: 1)", off);
    double gau = bandit_late_w0("gaussian", 400);
    cr_assert_gt(gau, 1.7, "Gaussian log-density: mean w_0 over the last 50 steps is %g "
                 "(random: 1)", gau);
}

/* ---- whole runs -------------------------------------------------------------------------- */

static void run_small(const mtb_dataset *ds, const char *opts, mtb_run_log *log)
{
    test_run_config c;
    test_run_config_default(&c);
    snprintf(c.method, sizeof c.method, "igbv2");
    snprintf(c.options, sizeof c.options, "%s", opts);
    c.seed = 11;
    c.steps = 40;
    c.batch = 64;
    c.eval_every = 20;
    for (int i = 0; i < 4; i++)
        c.widths[i] = 8;
    mtb_error err = {0};
    cr_assert_eq(test_run_train(&c, ds, log, &err), MTB_OK, "%s", err.msg);
    cr_assert_eq(log->steps, 40);
}

Test(igbv2, short_training_run_is_deterministic)
{
    mtb_mtr_params p;
    mtb_mtr_params_default(&p, 3, 9);
    p.n_total = 300;
    p.n_train = 200;
    mtb_dataset ds = {0};
    mtb_error err = {0};
    cr_assert_eq(mtb_synth_mtr(&p, &ds, &err), MTB_OK, "%s", err.msg);
    const char *opts[2] = {V2_SMALL, V2_SMALL ",reward=after_update"};
    for (int o = 0; o < 2; o++) {
        mtb_run_log a, b;
        run_small(&ds, opts[o], &a);
        run_small(&ds, opts[o], &b);
        size_t n = (size_t)a.steps * a.T;
        cr_assert(!memcmp(a.loss, b.loss, n * sizeof *a.loss), "%s: losses differ", opts[o]);
        cr_assert(!memcmp(a.head_w, b.head_w, n * sizeof *a.head_w), "%s: weights differ",
                  opts[o]);
        for (long s = 0; s < a.steps; s++) {
            double w[3];
            v2_weights(a.head_w + s * a.T, a.loss + s * a.T, a.T, w);
            assert_on_scaled_simplex(w, a.T, opts[o], s);
        }
        mtb_run_log_free(&a);
        mtb_run_log_free(&b);
    }
    mtb_dataset_free(&ds);
}
