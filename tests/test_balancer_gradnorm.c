/* test_balancer_gradnorm.c: GradNorm's alpha = 0 fixed point is SLAW Eq. (4) = Eq. (13),
 * w_i = n (1/|g_i|) / sum_j (1/|g_j|); LibMTL variant's epoch-0 behaviour and its analytic
 * gradient on the logits against finite differences. */
#include "grad_method_util.h"

Test(gradnorm, alpha_zero_converges_to_slaw_eq4)
{
    /* Fixed gradients with norms 1, 2, 4 (T = 3, D = 2); constant losses. The private Adam
     * (lr 0.025) follows sign(N_i - target_i) and oscillates around the minimiser with an
     * amplitude set by the learning rate, so the test averages the last 500 of 4000 steps
     * and allows 2% relative error (the oscillation is about lr / w ~ 1-3%). */
    const int T = 3, steps = 4000, avg = 500;
    const size_t D = 2;
    double G[6] = {1, 0, 0, 2, -4, 0}, l[3] = {1.0, 0.5, 2.0}, hw[3], tw[3], g[2];
    double mean[3] = {0, 0, 0};
    mtb_balancer *b = gm_new("gradnorm", "alpha=0", T, D);
    mtb_error err = {0};
    for (int s = 0; s < steps; s++) {
        cr_assert_eq(gm_step_z(b, s, 0, T, D, l, G, NULL, hw, tw, g, &err), MTB_OK, "%s", err.msg);
        if (s >= steps - avg)
            for (int t = 0; t < T; t++)
                mean[t] += tw[t] / avg;
    }
    const double inv[3] = {1.0, 0.5, 0.25};
    double s = inv[0] + inv[1] + inv[2];
    for (int t = 0; t < T; t++) {
        double want = T * inv[t] / s;
        cr_assert_leq(fabs(mean[t] - want) / want, 0.02, "w[%d] = %g, SLAW Eq. 4 gives %g", t,
                      mean[t], want);
        cr_assert_eq(hw[t], tw[t]);
    }
    mtb_balancer_free(b);
}

Test(gradnorm, slaw_variant_weights_sum_to_T_and_use_last_layer)
{
    const mtb_balancer_type *ty = mtb_balancer_find("gradnorm");
    mtb_hparams hp;
    mtb_balancer_setup su;
    cr_assert_eq(mtb_hparams_parse(ty, "", &hp, NULL), MTB_OK);
    cr_assert_eq(mtb_balancer_query(ty, 4, &hp, &su, NULL), MTB_OK);
    cr_assert_eq(su.scope, MTB_SCOPE_LAST_LAYER);
    cr_assert_eq(su.n_learn, 0);
    double G[20], l[4] = {1, 2, 3, 4}, hw[4], tw[4], g[5];
    gm_randn(G, 20, 4);
    mtb_balancer *b = gm_new("gradnorm", "", 4, 5);
    for (int s = 0; s < 50; s++) {
        l[s % 4] *= 0.9;
        cr_assert_eq(gm_step_z(b, s, 0, 4, 5, l, G, NULL, hw, tw, g, NULL), MTB_OK);
        double sum = tw[0] + tw[1] + tw[2] + tw[3];
        cr_assert_leq(fabs(sum - 4.0), 1e-12);
    }
    mtb_balancer_free(b);
}

/* LibMTL's L_grad(p) = sum_t |w_t |g_t| - c_t| with w = T softmax(p), c_t held fixed. */
static double lgrad(const double *p, int T, const double *gn, const double *c)
{
    double mx = p[0], s = 0.0, L = 0.0;
    for (int t = 1; t < T; t++)
        mx = fmax(mx, p[t]);
    for (int t = 0; t < T; t++)
        s += exp(p[t] - mx);
    for (int t = 0; t < T; t++)
        L += fabs(T * exp(p[t] - mx) / s * gn[t] - c[t]);
    return L;
}

Test(gradnorm, libmtl_variant_epoch0_then_gradient_matches_finite_differences)
{
    const int T = 3;
    const size_t D = 4;
    double G[12], l0[3] = {1.0, 2.0, 0.5}, l1[3] = {0.8, 1.9, 0.2}, hw[3], tw[3], g[4];
    gm_randn(G, 12, 8);
    mtb_balancer *b = gm_new("gradnorm", "variant=libmtl,alpha=1.5,layer=all", T, D);
    const mtb_balancer_setup *su = mtb_balancer_get_setup(b);
    cr_assert_eq(su->n_learn, T);
    cr_assert_eq(su->scope, MTB_SCOPE_ALL);
    /* epoch 0: equal weights, no gradient */
    cr_assert_eq(gm_step_z(b, 0, 0, T, D, l0, G, NULL, hw, tw, g, NULL), MTB_OK);
    for (int t = 0; t < T; t++) {
        cr_assert_eq(tw[t], 1.0);
        cr_assert_eq(su->learn_grad[t], 0.0);
    }
    /* move p off the symmetric start, as an optimiser would */
    su->learn[0] = 1.2;
    su->learn[2] = 0.7;
    cr_assert_eq(gm_step_z(b, 1, 1, T, D, l1, G, NULL, hw, tw, g, NULL), MTB_OK);
    double p[3] = {su->learn[0], su->learn[1], su->learn[2]}, gn[3], c[3], w[3];
    double mx = fmax(p[0], fmax(p[1], p[2])), s = 0.0;
    for (int t = 0; t < T; t++)
        s += exp(p[t] - mx);
    double Nbar = 0.0, Lm = 0.0, Lt[3];
    for (int t = 0; t < T; t++) {
        w[t] = T * exp(p[t] - mx) / s;
        cr_assert_leq(fabs(tw[t] - w[t]), 1e-14, "weight %d: %g vs T softmax(p) %g", t, tw[t], w[t]);
        gn[t] = sqrt(gm_dot(G + (size_t)t * D, G + (size_t)t * D, D));
        Nbar += w[t] * gn[t] / T;
        Lt[t] = l1[t] / l0[t];
        Lm += Lt[t] / T;
    }
    for (int t = 0; t < T; t++)
        c[t] = Nbar * pow(Lt[t] / Lm, 1.5);
    /* central differences, h small enough that no |.| term changes sign (checked) */
    const double h = 1e-6;
    for (int k = 0; k < T; k++) {
        double pp[3] = {p[0], p[1], p[2]}, pm[3] = {p[0], p[1], p[2]};
        pp[k] += h;
        pm[k] -= h;
        double fd = (lgrad(pp, T, gn, c) - lgrad(pm, T, gn, c)) / (2 * h);
        cr_assert_leq(fabs(fd - su->learn_grad[k]), 1e-7 * fmax(1.0, fabs(fd)),
                      "dL/dp_%d: analytic %.10g, finite differences %.10g", k, su->learn_grad[k], fd);
    }
    mtb_balancer_free(b);
}

Test(gradnorm, degenerate_losses_and_gradients_stay_finite)
{
    /* loss 0 at the first step (l(0) = 0), a zero gradient, 1e8 loss ratio */
    const int T = 3;
    const size_t D = 2;
    double G[6] = {0, 0, 1e4, -1e4, 1e-4, 0}, l[3] = {0.0, 1e8, 1.0}, hw[3], tw[3], g[2];
    for (int v = 0; v < 2; v++) {
        mtb_balancer *b = gm_new("gradnorm", v ? "variant=libmtl" : "", T, D);
        for (int s = 0; s < 20; s++) {
            cr_assert_eq(gm_step_z(b, s, s / 5, T, D, l, G, NULL, hw, tw, g, NULL), MTB_OK);
            double sum = 0.0; /* both variants: weights >= 0 summing to T */
            for (int t = 0; t < T; t++) {
                cr_assert_geq(tw[t], 0.0, "variant %d step %d: w[%d] = %g", v, s, t, tw[t]);
                sum += tw[t];
            }
            cr_assert_float_eq(sum, (double)T, 1e-12, "variant %d step %d: sum %.17g", v, s, sum);
            l[0] = s % 2 ? 0.0 : 1.0;
        }
        mtb_balancer_free(b);
    }
}
