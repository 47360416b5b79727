/* test_balancer_igb_replay.c: IGBv2's per-step draws replayed through in->draws.values
 * (igbv2.c, "Replay"): the T standard normals z of each step are the warm-up logits
 * (w = T softmax(z)) or the actor's exploration noise (u = mu(s) + std(s) z). Replaying the
 * values the method's own stream would have drawn gives a bit-identical run, through the
 * warm-up, the SAC updates and the actor's phase; other values give the weights the formula
 * says, and leave the agent's internal draws (initialisation, minibatches) where they were. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "../core/src/balancers/igb_agent.h"
#include "grad_method_util.h"
#include "mtb/balancer.h"

/* warm-up in epoch 0, SAC updates every 4 steps from epoch 1, actor from epoch 1 */
#define SMALL "base_epoch=0,start_epoch=1,update_after=1,update_every=4,batch_size=16," \
              "hidden=16,buffer_size=64"
#define STEPS_PER_EPOCH 3

/* One step of b at global step s (epoch s / 3) on losses falling with s; z (T values) is
 * replayed when not NULL. Writes the IGB weights w = head_w (l + eps) into w. */
static mtb_status replay_step(mtb_balancer *b, int T, long s, const double *z, size_t nz,
                              double *w, mtb_error *err)
{
    double l[8], hw[8], tw[8];
    cr_assert_leq(T, 8);
    for (int t = 0; t < T; t++)
        l[t] = (1.0 + t) * (1.0 + 0.5 / (1.0 + 0.1 * (double)s)) + 0.01 * (double)((s * 7 + t) % 5);
    mtb_balance_in in = {.step = s, .epoch = s / STEPS_PER_EPOCH, .T = T, .losses = l,
                         .rng = mtb_balancer_rng(b),
                         .draws = {.values = z, .n_values = z ? nz : 0}};
    mtb_balance_out out = {.head_w = hw, .trunk_w = tw};
    mtb_status st = mtb_balancer_step(b, &in, &out, err);
    for (int t = 0; st == MTB_OK && t < T; t++)
        w[t] = hw[t] * (l[t] + 1e-8);
    if (st == MTB_OK && mtb_balancer_get_setup(b)->after_update) {
        double la[8];
        for (int t = 0; t < T; t++)
            la[t] = 0.99 * l[t];
        st = mtb_balancer_after_update(b, la, err);
    }
    return st;
}

static void step_ok(mtb_balancer *b, int T, long s, const double *z, double *w)
{
    mtb_error err = {0};
    cr_assert_eq(replay_step(b, T, s, z, (size_t)T, w, &err), MTB_OK, "step %ld: %s", s,
                 err.msg);
}

Test(igbv2_replay, accepts_values_only)
{
    mtb_balancer *b = gm_new("igbv2", SMALL, 3, 0);
    cr_assert_eq(mtb_balancer_get_setup(b)->replay, MTB_REPLAY_VALUES);
    mtb_balancer_free(b);
}

/* Balancer a draws; balancer r (same seed) is given, at every step, the T normals a's
 * stream is about to draw first (a copy of a's stream, read ahead). 60 steps: 20 epochs,
 * warm-up, about 12 rounds of SAC updates and the actor's noisy actions. */
Test(igbv2_replay, the_streams_own_draws_replayed_give_identical_weights)
{
    const char *opts[2] = {SMALL, SMALL ",reward=after_update"};
    for (int o = 0; o < 2; o++) {
        mtb_balancer *a = gm_new("igbv2", opts[o], 3, 0), *r = gm_new("igbv2", opts[o], 3, 0);
        int actor_steps = 0;
        for (long s = 0; s < 60; s++) {
            mtb_rng ahead = *mtb_balancer_rng(a);
            double z[3], wa[3], wr[3];
            for (int t = 0; t < 3; t++)
                z[t] = mtb_rng_normal(&ahead);
            step_ok(a, 3, s, NULL, wa);
            step_ok(r, 3, s, z, wr);
            cr_assert(!memcmp(wa, wr, sizeof wa), "%s step %ld: replayed %.17g %.17g %.17g, "
                      "drawn %.17g %.17g %.17g", opts[o], s, wr[0], wr[1], wr[2], wa[0], wa[1],
                      wa[2]);
            actor_steps += s / STEPS_PER_EPOCH >= 1;
        }
        cr_assert_gt(actor_steps, 50);
        mtb_balancer_free(a);
        mtb_balancer_free(r);
    }
}

/* Warm-up weights are T softmax(z) for the supplied z, whatever the seed. */
Test(igbv2_replay, warm_up_weights_are_T_softmax_of_the_values)
{
    const double z[4] = {0.0, log(2.0), -1.0, 3.5};
    double mx = 3.5, e[4], sum = 0.0, w[4];
    for (int t = 0; t < 4; t++)
        sum += e[t] = exp(z[t] - mx);
    for (int seed = 0; seed < 2; seed++) {
        const mtb_balancer_type *ty = mtb_balancer_find("igbv2");
        mtb_hparams hp;
        mtb_error err = {0};
        cr_assert_eq(mtb_hparams_parse(ty, "start_epoch=5", &hp, &err), MTB_OK, "%s", err.msg);
        mtb_balancer *b = mtb_balancer_new(ty, 4, 0, &hp, 100 + seed, &err);
        cr_assert(b, "%s", err.msg);
        for (long s = 0; s < 4; s++) {
            step_ok(b, 4, s, z, w);
            for (int t = 0; t < 4; t++)
                cr_assert_float_eq(w[t], 4.0 * e[t] / sum, 1e-14 * 4.0,
                                   "seed %d step %ld w[%d] = %.17g, 4 softmax(z) = %.17g", seed,
                                   s, t, w[t], 4.0 * e[t] / sum);
        }
        mtb_balancer_free(b);
    }
}

/* Other warm-up values change the warm-up weights but not the stream's later draws: with no
 * SAC update (update_after far away) the actor is its initialisation in both balancers, so
 * given the same noise they act alike. Different noise in the actor's phase changes its
 * action. */
Test(igbv2_replay, other_values_change_only_the_weights_they_decide)
{
    const char *opts = "base_epoch=0,start_epoch=1,update_after=1000,hidden=16";
    mtb_balancer *a = gm_new("igbv2", opts, 3, 0), *r = gm_new("igbv2", opts, 3, 0);
    const double z0[3] = {1.0, -2.0, 0.25};
    double wa[3], wr[3];
    for (long s = 0; s < STEPS_PER_EPOCH; s++) { /* epoch 0: warm-up */
        step_ok(a, 3, s, NULL, wa);
        step_ok(r, 3, s, z0, wr);
        cr_assert(memcmp(wa, wr, sizeof wa), "warm-up step %ld: replayed values had no effect",
                  s);
    }
    for (long s = STEPS_PER_EPOCH; s < 3 * STEPS_PER_EPOCH; s++) { /* actor, same noise */
        mtb_rng ahead = *mtb_balancer_rng(a);
        double z[3];
        for (int t = 0; t < 3; t++)
            z[t] = mtb_rng_normal(&ahead);
        step_ok(a, 3, s, NULL, wa);
        step_ok(r, 3, s, z, wr);
        cr_assert(!memcmp(wa, wr, sizeof wa), "actor step %ld: %.17g vs %.17g", s, wa[0], wr[0]);
        double zo[3] = {z[0] + 1.0, z[1] - 1.0, z[2]}, wo[3];
        mtb_balancer *c = gm_new("igbv2", opts, 3, 0);
        for (long k = 0; k <= s; k++)
            step_ok(c, 3, k, k == s ? zo : NULL, wo);
        cr_assert(memcmp(wa, wo, sizeof wa), "actor step %ld: other noise, same action", s);
        mtb_balancer_free(c);
    }
    mtb_balancer_free(a);
    mtb_balancer_free(r);
}

/* The agent's action is T softmax(mu(s) + std(s) z) for the supplied noise z, and the
 * deterministic action (noise NULL) is T softmax(mu(s)). */
Test(igbv2_replay, actor_noise_enters_as_the_formula_says)
{
    mtb_igb_agent g;
    mtb_igb_agent_config c = {.S = 3, .A = 3, .H = 16, .buffer_size = 8, .batch = 8,
                              .lr = 3e-4, .gamma = 0.99, .tau = 0.005, .alpha0 = 0.2,
                              .adaptive_alpha = 1, .official_logp = 1};
    mtb_error err = {0};
    cr_assert_eq(mtb_igb_agent_init(&g, &c, "test", &err), MTB_OK, "%s", err.msg);
    double st[3] = {0.5, 2.0, 1.0}, w[3], z[3] = {0.7, -1.3, 2.1};
    cr_assert_eq(mtb_igb_agent_act(&g, st, z, w, "test", &err), MTB_EINVAL,
                 "acting before the networks exist must be refused");
    cr_assert(strstr(err.msg, "test"), "%s", err.msg);
    mtb_rng rng;
    mtb_rng_seed(&rng, 3, 1);
    mtb_igb_agent_ready(&g, &rng);
    for (int k = 0; k < 2; k++) {
        const double *noise = k ? z : NULL;
        cr_assert_eq(mtb_igb_agent_act(&g, st, noise, w, "test", &err), MTB_OK, "%s", err.msg);
        double u[3], mx = -INFINITY, sum = 0.0;
        for (int j = 0; j < 3; j++) {
            double ls = fmin(fmax((double)g.lsr[j], -20.0), 2.0);
            u[j] = (double)g.mu[j] + (noise ? exp(ls) * (double)(float)noise[j] : 0.0);
            mx = fmax(mx, u[j]);
        }
        for (int j = 0; j < 3; j++)
            sum += exp(u[j] - mx);
        for (int j = 0; j < 3; j++)
            cr_assert_float_eq(w[j], 3.0 * exp(u[j] - mx) / sum, 1e-5,
                               "noise %s: w[%d] = %.9g, formula %.9g", noise ? "z" : "none", j,
                               w[j], 3.0 * exp(u[j] - mx) / sum);
    }
    mtb_igb_agent_free(&g);
}

/* A wrong count is refused by the method, a non-finite value by the driver; both name it. */
Test(igbv2_replay, bad_values_are_refused_naming_the_method)
{
    mtb_balancer *b = gm_new("igbv2", SMALL, 3, 0);
    double z2[2] = {0.1, 0.2}, zn[3] = {0.1, NAN, 0.2}, zi[3] = {INFINITY, 0.0, 0.0}, w[3];
    mtb_error err = {0};
    cr_assert_eq(replay_step(b, 3, 0, z2, 2, w, &err), MTB_EINVAL);
    cr_assert(strstr(err.msg, "igbv2") && strstr(err.msg, "2 recorded"), "%s", err.msg);
    cr_assert_eq(replay_step(b, 3, 0, zn, 3, w, &err), MTB_ENUMERIC);
    cr_assert(strstr(err.msg, "igbv2"), "%s", err.msg);
    cr_assert_eq(replay_step(b, 3, 0, zi, 3, w, &err), MTB_ENUMERIC);
    cr_assert(strstr(err.msg, "igbv2"), "%s", err.msg);
    step_ok(b, 3, 0, (double[3]){0.0, 0.0, 0.0}, w); /* refused steps left no trace */
    for (int t = 0; t < 3; t++)
        cr_assert_float_eq(w[t], 1.0, 1e-15);
    mtb_balancer_free(b);
}
