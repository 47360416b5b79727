/* test_pre_transform.c: the loss pre-transform in front of any method (pre_transform.c,
 * balancer.h `pre=`). (a) dbmtl.md D8's one-step predictions: log(l) scales each task's
 * gradient by 1/l > 0, to which IMTL-G's shared direction is invariant (IMTL Thm. 2) and the
 * exact Nash-MTL update G^T alpha is invariant (alpha_t -> alpha_t l_t solves the scaled
 * bargaining system), while PCGrad's and MGDA's directions change; (b) pre=log in front of EW
 * is DB-MTL's log-only row (db_mtl gradnorm=false); (c) option parsing, formatting and the
 * errors of a loss the log cannot take; (d) pre=rlw: simplex draws, R10's invariance of IMTL-G
 * and exact Nash-MTL, zero-weight distributions refused for gradient methods. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>

#include "grad_method_util.h"

enum { T = 3, D = 30, NSTATE = 100 };

/* cos(d_plain, d_log) over NSTATE random states, min and max; losses 10^U(-3, 3). */
static void one_step_cos(const char *method, const char *opts, double *cmin, double *cmax,
                         double *ratio_dev)
{
    char lopts[256];
    snprintf(lopts, sizeof lopts, "%s%spre=log", opts, *opts ? "," : "");
    mtb_rng rng;
    mtb_rng_seed(&rng, 3, 0);
    *cmin = 1.0, *cmax = -1.0, *ratio_dev = 0.0;
    for (int k = 0; k < NSTATE; k++) {
        double G[T * D], l[T], hw[T], tw[T], d0[D], d1[D];
        gm_randn(G, T * D, 1000 + (uint64_t)k);
        for (int t = 0; t < T; t++)
            l[t] = pow(10.0, -3.0 + 6.0 * mtb_rng_uniform(&rng));
        mtb_balancer *b0 = gm_new(method, opts, T, D), *b1 = gm_new(method, lopts, T, D);
        mtb_error err = {0};
        cr_assert_eq(gm_step(b0, T, D, l, G, hw, tw, d0, &err), MTB_OK, "%s", err.msg);
        cr_assert_eq(gm_step(b1, T, D, l, G, hw, tw, d1, &err), MTB_OK, "%s", err.msg);
        double n0 = sqrt(gm_dot(d0, d0, D)), n1 = sqrt(gm_dot(d1, d1, D));
        double c = gm_dot(d0, d1, D) / (n0 * n1);
        *cmin = fmin(*cmin, c);
        *cmax = fmax(*cmax, c);
        *ratio_dev = fmax(*ratio_dev, fabs(n1 / n0 - 1.0));
        mtb_balancer_free(b0);
        mtb_balancer_free(b1);
    }
}

Test(pre_transform, imtl_g_direction_is_invariant_to_log)
{
    double lo, hi, dev;
    one_step_cos("imtl_g", "level=param", &lo, &hi, &dev);
    cr_assert(lo >= 1.0 - 1e-10, "imtl_g: min cos %.15g", lo);
}

/* exact Nash-MTL: the whole update is invariant, length included */
Test(pre_transform, nash_mtl_exact_update_is_invariant_to_log)
{
    double lo, hi, dev;
    one_step_cos("nash_mtl", "max_iter=1000", &lo, &hi, &dev);
    cr_assert(lo >= 1.0 - 1e-10, "nash_mtl: min cos %.15g", lo);
    cr_assert(dev <= 1e-8, "nash_mtl: length ratio off by %g", dev);
}

/* the transform is not a no-op: methods without the invariance change direction */
Test(pre_transform, pcgrad_and_mgda_directions_change)
{
    const char *m[] = {"pcgrad", "mgda"}, *o[] = {"order=fixed", "solver=exact"};
    for (int i = 0; i < 2; i++) {
        double lo, hi, dev;
        one_step_cos(m[i], o[i], &lo, &hi, &dev);
        cr_assert(lo < 0.99, "%s: min cos %.15g (expected a changed direction)", m[i], lo);
    }
}

/* (b) ew:pre=log and db_mtl:gradnorm=false give the same weights (1/(l + eps)) to heads and
 * trunk, i.e. the same training. */
Test(pre_transform, log_in_front_of_ew_is_log_ew)
{
    double l[T] = {1e-4, 0.7, 2e3}, hw[2][T], tw[2][T];
    const char *m[2] = {"ew", "db_mtl"}, *o[2] = {"pre=log", "gradnorm=false"};
    for (int k = 0; k < 2; k++) {
        const mtb_balancer_type *ty = mtb_balancer_find(m[k]);
        mtb_hparams hp;
        mtb_error err = {0};
        cr_assert_eq(mtb_hparams_parse(ty, o[k], &hp, &err), MTB_OK, "%s", err.msg);
        mtb_balancer *b = mtb_balancer_new(ty, T, 0, &hp, 1, &err);
        cr_assert(b, "%s", err.msg);
        mtb_balance_in in = {.T = T, .losses = l};
        mtb_balance_out out = {.head_w = hw[k], .trunk_w = tw[k]};
        cr_assert_eq(mtb_balancer_step(b, &in, &out, &err), MTB_OK, "%s", err.msg);
        mtb_balancer_free(b);
    }
    for (int t = 0; t < T; t++) {
        cr_assert_float_eq(hw[0][t], 1.0 / (l[t] + 1e-8), 1e-12 / l[t]);
        cr_assert_eq(hw[0][t], hw[1][t]);
        cr_assert_eq(tw[0][t], tw[1][t]);
    }
}

/* A learnable method sees the transformed losses: UW's gradient of s is 1/2 - 1/2 e^-s l',
 * with l' = log(l + eps); at s = 0 that is (1 - log l) / 2. */
Test(pre_transform, learnable_methods_see_transformed_losses)
{
    double l[2] = {3.0, 0.5}, hw[2], tw[2];
    mtb_balancer *b = gm_new("uw", "pre=log,init=0", 2, 1);
    mtb_error err = {0};
    mtb_balance_in in = {.T = 2, .losses = l};
    mtb_balance_out out = {.head_w = hw, .trunk_w = tw};
    cr_assert_eq(mtb_balancer_step(b, &in, &out, &err), MTB_OK, "%s", err.msg);
    const mtb_balancer_setup *su = mtb_balancer_get_setup(b);
    cr_assert_eq(su->n_learn, 2);
    /* uw's objective 1/2 e^-s l' + s/2 at s = 0: weights 1/2 on l', i.e. 1/(2 l) on l */
    for (int t = 0; t < 2; t++) {
        cr_assert_float_eq(tw[t], 0.5 / (l[t] + 1e-8), 1e-12, "task %d: %g", t, tw[t]);
        cr_assert_float_eq(su->learn_grad[t], 0.5 - 0.5 * log(l[t] + 1e-8), 1e-12,
                           "task %d: %g", t, su->learn_grad[t]);
    }
    mtb_balancer_free(b);
}

/* (c) parsing, formatting and errors */
Test(pre_transform, options_parse_format_and_fail_clearly)
{
    const mtb_balancer_type *ty = mtb_balancer_find("pcgrad");
    mtb_hparams hp;
    mtb_error err = {0};
    char buf[512];
    cr_assert_eq(mtb_hparams_parse(ty, "", &hp, &err), MTB_OK);
    mtb_hparams_format(ty, &hp, buf, sizeof buf);
    cr_assert(!strstr(buf, "pre"), "no pre-transform, no key: %s", buf);
    cr_assert_eq(mtb_hparams_parse(ty, "pre=log,pre_eps=1e-6", &hp, &err), MTB_OK, "%s",
                 err.msg);
    cr_assert_eq(hp.pre[0], MTB_PRE_LOG);
    mtb_hparams_format(ty, &hp, buf, sizeof buf);
    cr_assert(strstr(buf, ",pre=log,pre_eps=1e-06,pre_dist=normal"), "%s", buf);
    mtb_hparams back;
    cr_assert_eq(mtb_hparams_parse(ty, buf, &back, &err), MTB_OK, "%s: %s", buf, err.msg);
    cr_assert_eq(back.pre[0], hp.pre[0]);
    cr_assert_eq(back.pre[1], hp.pre[1]);

    cr_assert_eq(mtb_hparams_parse(ty, "pre=sqrt", &hp, &err), MTB_EINVAL);
    cr_assert(strstr(err.msg, "pre") && strstr(err.msg, "none|log|rlw"), "%s", err.msg);
    cr_assert_eq(mtb_hparams_parse(ty, "pre_eps=-1", &hp, &err), MTB_EINVAL);
    cr_assert(strstr(err.msg, "pre_eps"), "%s", err.msg);
    cr_assert_eq(mtb_hparams_parse(ty, "pre=log,pre=none", &hp, &err), MTB_EINVAL);
    cr_assert(strstr(err.msg, "twice"), "%s", err.msg);
    cr_assert_eq(mtb_hparams_parse(ty, "prex=log", &hp, &err), MTB_EINVAL);
    cr_assert(strstr(err.msg, "pre, pre_eps, pre_dist"), "the message lists the common options: %s",
              err.msg);

    /* a loss the log cannot take: an error naming the method and the option */
    double l[2] = {-1.0, 1.0}, G[2 * 4] = {1, 0, 0, 0, 0, 1, 0, 0}, hw[2], tw[2], g[4];
    mtb_balancer *b = gm_new("pcgrad", "pre=log,pre_eps=0", 2, 4);
    cr_assert_eq(gm_step(b, 2, 4, l, G, hw, tw, g, &err), MTB_ENUMERIC);
    cr_assert(strstr(err.msg, "pcgrad") && strstr(err.msg, "pre=log") && strstr(err.msg, "task 0"),
              "%s", err.msg);
    l[0] = 0.0; /* l + eps = 0 */
    cr_assert_eq(gm_step(b, 2, 4, l, G, hw, tw, g, &err), MTB_ENUMERIC);
    mtb_balancer_free(b);
}

/* pre=rlw (RLW in front of a method, rlw.md R10): in front of EW the weights are one draw
 * lambda~ on the simplex, the same for heads and trunk, fixed by the seed; the draws come
 * from the transform's own stream. */
Test(pre_transform, rlw_in_front_of_ew_draws_simplex_weights)
{
    double l[T] = {0.3, 2.0, 50.0}, hw[2][T], tw[2][T];
    for (int k = 0; k < 2; k++) {
        const mtb_balancer_type *ty = mtb_balancer_find("ew");
        mtb_hparams hp;
        mtb_error err = {0};
        cr_assert_eq(mtb_hparams_parse(ty, "pre=rlw", &hp, &err), MTB_OK, "%s", err.msg);
        mtb_balancer *b = mtb_balancer_new(ty, T, 0, &hp, 7 + (unsigned)k, &err);
        cr_assert(b, "%s", err.msg);
        mtb_balance_in in = {.T = T, .losses = l};
        mtb_balance_out out = {.head_w = hw[k], .trunk_w = tw[k]};
        cr_assert_eq(mtb_balancer_step(b, &in, &out, &err), MTB_OK, "%s", err.msg);
        double sum = 0.0;
        for (int t = 0; t < T; t++) {
            cr_assert(tw[k][t] > 0.0 && tw[k][t] == hw[k][t]);
            sum += tw[k][t];
        }
        cr_assert_float_eq(sum, 1.0, 1e-12);
        mtb_balancer_free(b);
    }
    cr_assert(tw[0][0] != tw[1][0], "two seeds, two draws");
}

/* rlw.md R10's one-step prediction: positive random weights leave IMTL-G's direction and
 * exact Nash-MTL's update unchanged. */
Test(pre_transform, rlw_leaves_imtl_g_and_exact_nash_mtl_unchanged)
{
    const char *m[2] = {"imtl_g", "nash_mtl"}, *o[2] = {"level=param", "max_iter=1000"};
    for (int i = 0; i < 2; i++) {
        double G[T * D], l[T] = {0.5, 1.5, 4.0}, hw[T], tw[T], d0[D], d1[D];
        char ro[64];
        snprintf(ro, sizeof ro, "%s,pre=rlw", o[i]);
        gm_randn(G, T * D, 77);
        mtb_balancer *b0 = gm_new(m[i], o[i], T, D), *b1 = gm_new(m[i], ro, T, D);
        mtb_error err = {0};
        for (int step = 0; step < 5; step++) {
            cr_assert_eq(gm_step(b0, T, D, l, G, hw, tw, d0, &err), MTB_OK, "%s", err.msg);
            cr_assert_eq(gm_step(b1, T, D, l, G, hw, tw, d1, &err), MTB_OK, "%s", err.msg);
            double c = gm_dot(d0, d1, D) / sqrt(gm_dot(d0, d0, D) * gm_dot(d1, d1, D));
            cr_assert(c >= 1.0 - 1e-10, "%s step %d: cos %.15g", m[i], step, c);
        }
        mtb_balancer_free(b0);
        mtb_balancer_free(b1);
    }
}

/* A distribution that can draw a 0 is refused in front of a gradient method, with a
 * message; in front of a loss weighting it is allowed. */
Test(pre_transform, rlw_with_zero_weights_refused_for_gradient_methods)
{
    const mtb_balancer_type *ty = mtb_balancer_find("imtl_g");
    mtb_hparams hp;
    mtb_error err = {0};
    cr_assert_eq(mtb_hparams_parse(ty, "level=param,pre=rlw,pre_dist=bernoulli", &hp, &err), MTB_OK);
    cr_assert_null(mtb_balancer_new(ty, T, D, &hp, 1, &err));
    cr_assert(strstr(err.msg, "imtl_g") && strstr(err.msg, "pre_dist=bernoulli") &&
              strstr(err.msg, "normal"), "%s", err.msg);
    ty = mtb_balancer_find("ew");
    cr_assert_eq(mtb_hparams_parse(ty, "pre=rlw,pre_dist=bernoulli", &hp, &err), MTB_OK);
    mtb_balancer *b = mtb_balancer_new(ty, T, 0, &hp, 1, &err);
    cr_assert(b, "%s", err.msg);
    mtb_balancer_free(b);
    char buf[256];
    mtb_hparams_format(ty, &hp, buf, sizeof buf);
    cr_assert(!strcmp(buf, "pre=rlw,pre_eps=1e-08,pre_dist=bernoulli"), "%s", buf);
}
