/* test_balancer_stch.c: smooth Tchebycheff scalarisation (Lin et al., ICML 2024): the
 * general form's softmax weights and their Tchebycheff limit, and LibMTL's log/nadir form
 * (warm-up, nadir, scale invariance of the log losses). */
#include "grad_method_util.h"

static mtb_balancer *mk(const char *opts, int T)
{
    return gm_new("stch", opts, T, 0);
}

static void step(mtb_balancer *b, long s, long e, int T, const double *l, double *w)
{
    double hw[8];
    mtb_error err = {0};
    mtb_balance_in in = {.step = s, .epoch = e, .T = T, .losses = l};
    mtb_balance_out out = {.head_w = hw, .trunk_w = w};
    cr_assert_eq(mtb_balancer_step(b, &in, &out, &err), MTB_OK, "%s", err.msg);
    for (int t = 0; t < T; t++)
        cr_assert_eq(hw[t], w[t], "stch weights the losses: head and trunk weights agree");
}

Test(stch, general_form_is_softmax_of_losses_and_tends_to_tchebycheff)
{
    double l[3] = {0.5, 0.8, 0.6}, w[3];
    mtb_balancer *b = mk("mu=0.5", 3);
    step(b, 0, 0, 3, l, w);
    double z = exp(0.5 / 0.5) + exp(0.8 / 0.5) + exp(0.6 / 0.5);
    for (int t = 0; t < 3; t++)
        cr_assert_leq(fabs(w[t] - exp(l[t] / 0.5) / z), 1e-15);
    mtb_balancer_free(b);
    /* mu -> 0: all weight on the worst task (the Tchebycheff max) */
    b = mk("mu=1e-3", 3);
    step(b, 0, 0, 3, l, w);
    cr_assert_geq(w[1], 1.0 - 1e-60);
    mtb_balancer_free(b);
}

Test(stch, libmtl_warmup_nadir_and_log_scale_invariance)
{
    enum { T = 2 };
    const double c[T] = {1.0, 1e6}; /* task 2's loss in other units */
    mtb_balancer *b1 = mk("form=libmtl,warmup_epoch=2", T), *b2 = mk("form=libmtl,warmup_epoch=2", T);
    const double L[6][T] = {{2, 3}, {1.5, 2}, {1.0, 2.0}, {3.0, 1.0}, {1.0, 1.0}, {0.5, 2.0}};
    const long ep[6] = {0, 1, 2, 2, 3, 3};
    double w1[T], w2[T], l2[T];
    for (int s = 0; s < 6; s++) {
        for (int t = 0; t < T; t++)
            l2[t] = c[t] * L[s][t];
        step(b1, s, ep[s], T, L[s], w1);
        step(b2, s, ep[s], T, l2, w2);
        for (int t = 0; t < T; t++) {
            if (ep[s] <= 2) /* warm-up: gradient of log(l) */
                cr_assert_leq(fabs(w1[t] - 1.0 / L[s][t]), 1e-15 / L[s][t]);
            /* log(l) and log(l / z) do not see the units: w scales as 1 / c */
            cr_assert_leq(fabs(w2[t] * c[t] - w1[t]), 1e-12 * w1[t], "step %d task %d", s, t);
        }
    }
    /* After the warm-up the nadir is the mean of epoch 2's losses, (2, 1.5): at step 4
     * the losses (1, 1) give log(l/z) = (log 0.5, log(2/3)), weights T softmax / l. */
    double u0 = log(0.5), u1 = log(1.0 / 1.5), e0 = exp(u0), e1 = exp(u1);
    mtb_balancer *b3 = mk("form=libmtl,warmup_epoch=2", T);
    for (int s = 0; s < 5; s++)
        step(b3, s, ep[s], T, L[s], w1);
    cr_assert_leq(fabs(w1[0] - 2.0 * e0 / (e0 + e1) / 1.0), 1e-14);
    cr_assert_leq(fabs(w1[1] - 2.0 * e1 / (e0 + e1) / 1.0), 1e-14);
    mtb_balancer_free(b1);
    mtb_balancer_free(b2);
    mtb_balancer_free(b3);
}

Test(stch, libmtl_rejects_negative_losses_and_survives_zero_nadir)
{
    mtb_balancer *b = mk("form=libmtl,warmup_epoch=0", 2);
    double neg[2] = {-1.0, 1.0}, w[2], hw[2];
    mtb_error err = {0};
    mtb_balance_in in = {.T = 2, .losses = neg};
    mtb_balance_out out = {.head_w = hw, .trunk_w = w};
    cr_assert_eq(mtb_balancer_step(b, &in, &out, &err), MTB_EINVAL);
    cr_assert(strstr(err.msg, "stch") && strstr(err.msg, "-1"), "%s", err.msg);
    double zero[2] = {0.0, 0.0}, one[2] = {1.0, 0.0};
    step(b, 0, 0, 2, zero, w); /* nadir (0, 0) */
    step(b, 1, 1, 2, one, w);
    step(b, 2, 1, 2, zero, w);
    mtb_balancer_free(b);
}
