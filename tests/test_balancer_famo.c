/* test_balancer_famo.c: FAMO (Liu et al., NeurIPS 2023): the loss weights c z / l, the logit
 * update from the log-loss decrease (direction, exact Algorithm 1 / first Adam step), the
 * paper's fixed point (equal log-loss decrease rates), degenerate inputs, determinism. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "grad_method_util.h"
#include "mtb/balancer.h"

static void famo_step_ok(mtb_balancer *b, int T, const double *l, double *hw, double *tw)
{
    mtb_balance_in in = {.T = T, .losses = l};
    mtb_balance_out out = {.head_w = hw, .trunk_w = tw};
    mtb_error err = {0};
    cr_assert_eq(mtb_balancer_step(b, &in, &out, &err), MTB_OK, "%s", err.msg);
    cr_assert_eq(out.trunk_grad_set, 0);
}

static void famo_after_ok(mtb_balancer *b, const double *l)
{
    mtb_error err = {0};
    cr_assert_eq(mtb_balancer_after_update(b, l, &err), MTB_OK, "%s", err.msg);
}

/* z = softmax(0) = 1/T at the start: w_t = (1/l_t) / sum_s (1/l_s), the same for heads and
 * trunk, summing to 1; FAMO needs only losses and asks for the losses after the update. */
Test(famo, initial_weights_are_normalised_inverse_losses)
{
    mtb_balancer *b = gm_new("famo", "", 3, 0);
    const mtb_balancer_setup *su = mtb_balancer_get_setup(b);
    cr_assert_eq(su->need, MTB_NEED_LOSSES);
    cr_assert(su->after_update != NULL, "famo must ask for the losses after the update");
    cr_assert_eq(su->n_samples, 1);
    double l[3] = {1.0, 4.0, 0.5}, hw[3], tw[3];
    famo_step_ok(b, 3, l, hw, tw);
    double inv = 1.0 / (1.0 + 1e-8) + 1.0 / (4.0 + 1e-8) + 1.0 / (0.5 + 1e-8);
    double s = 0.0;
    for (int t = 0; t < 3; t++) {
        cr_assert_float_eq(tw[t], (1.0 / (l[t] + 1e-8)) / inv, 1e-15, "w[%d] = %.17g", t, tw[t]);
        cr_assert_eq(hw[t], tw[t]);
        s += tw[t];
    }
    cr_assert_float_eq(s, 1.0, 1e-15);
    mtb_balancer_free(b);
}

/* Algorithm 1 (optimizer=sgd, gamma = 0): xi = -beta J^T delta exactly, J = diag(z) - z z^T;
 * the task whose log loss fell more loses weight. */
Test(famo, algorithm1_logit_step_is_exact)
{
    const double beta = 0.5;
    mtb_balancer *b = gm_new("famo", "optimizer=sgd,gamma=0,w_lr=0.5,eps=0", 2, 0);
    double l[2] = {1.0, 1.0}, la[2] = {0.5, 0.9}, hw[2], tw[2];
    famo_step_ok(b, 2, l, hw, tw);
    famo_after_ok(b, la);
    double d0 = log(1.0 / 0.5), d1 = log(1.0 / 0.9), zd = 0.5 * (d0 + d1);
    double xi0 = -beta * 0.5 * (d0 - zd), xi1 = -beta * 0.5 * (d1 - zd);
    famo_step_ok(b, 2, l, hw, tw); /* equal losses: weights = z = softmax(xi) */
    double z0 = 1.0 / (1.0 + exp(xi1 - xi0));
    cr_assert_float_eq(tw[0], z0, 1e-15, "w0 = %.17g, expected %.17g", tw[0], z0);
    cr_assert_lt(tw[0], tw[1], "task 0 improved more and must lose weight");
    cr_assert_float_eq(xi0 + xi1, 0.0, 1e-15); /* J^T delta sums to 0 */
    mtb_balancer_free(b);
}

/* Algorithm 2 (default, Adam): the first Adam step moves each logit by lr * sign(gradient)
 * (bias-corrected m / sqrt(v) = g / |g|), so z_0 / z_1 = exp(-2 lr). */
Test(famo, first_adam_step_moves_logits_by_lr)
{
    mtb_balancer *b = gm_new("famo", "gamma=0", 2, 0);
    double l[2] = {2.0, 2.0}, la[2] = {1.0, 1.9}, hw[2], tw[2];
    famo_step_ok(b, 2, l, hw, tw);
    famo_after_ok(b, la);
    famo_step_ok(b, 2, l, hw, tw);
    cr_assert_float_eq(tw[0] / tw[1], exp(-2.0 * 0.025), 1e-6, "ratio %.12g", tw[0] / tw[1]);
    mtb_balancer_free(b);
}

/* The paper's goal (Sec. 3.1): all log losses decrease at the same rate. With
 * l_i(theta) = exp(a_i . theta), grad log l_i = a_i is constant; for orthogonal a_i the
 * FAMO direction d = c sum z_i a_i gives rates alpha c z_i |a_i|^2, equal iff
 * z_i ~ 1 / |a_i|^2. Equal weighting of log losses would leave the rates 9:1 apart; the
 * amortised logit updates must bring them within 10 %. */
Test(famo, logit_dynamics_equalise_log_loss_decrease)
{
    const double a[2][2] = {{1.0, 0.0}, {0.0, 3.0}}, alpha = 0.01;
    double theta[2] = {0.0, 0.0}, l[2], la[2], hw[2], tw[2], ratio_sum = 0.0;
    int n_avg = 0;
    mtb_balancer *b = gm_new("famo", "gamma=0", 2, 0);
    for (int k = 0; k < 3000; k++) {
        for (int i = 0; i < 2; i++)
            l[i] = exp(a[i][0] * theta[0] + a[i][1] * theta[1]);
        famo_step_ok(b, 2, l, hw, tw);
        /* d = sum_t w_t grad l_t = sum_t w_t l_t a_t */
        double d[2] = {0.0, 0.0};
        for (int i = 0; i < 2; i++)
            for (int j = 0; j < 2; j++)
                d[j] += tw[i] * l[i] * a[i][j];
        theta[0] -= alpha * d[0];
        theta[1] -= alpha * d[1];
        for (int i = 0; i < 2; i++)
            la[i] = exp(a[i][0] * theta[0] + a[i][1] * theta[1]);
        famo_after_ok(b, la);
        if (k >= 2500) {
            ratio_sum += (log(l[0]) - log(la[0])) / (log(l[1]) - log(la[1]));
            n_avg++;
        }
    }
    double r = ratio_sum / n_avg;
    cr_assert(fabs(r - 1.0) < 0.1, "log-loss decrease rates differ by a factor %g", r);
    mtb_balancer_free(b);
}

/* Degenerate inputs: loss ratios of 1e8, zero losses, T = 1, T = 1024: finite weights
 * summing to 1; a negative loss (log undefined) and a missing step: clear errors. */
Test(famo, degenerate_inputs)
{
    double hw[1024], tw[1024], l[1024];
    mtb_balancer *b = gm_new("famo", "", 2, 0);
    double big[2] = {1e-4, 1e4};
    famo_step_ok(b, 2, big, hw, tw);
    cr_assert_float_eq(tw[0] + tw[1], 1.0, 1e-15);
    cr_assert_float_eq(tw[1] / tw[0], 1e-8, 1e-12);
    double after[2] = {5e-5, 1e4};
    famo_after_ok(b, after);
    double zero[2] = {0.0, 1.0};
    famo_step_ok(b, 2, zero, hw, tw);
    cr_assert_gt(tw[0], 0.99999);
    mtb_error err = {0};
    cr_assert_eq(mtb_balancer_after_update(b, (double[]){NAN, 1.0}, &err), MTB_ENUMERIC);
    cr_assert(strstr(err.msg, "famo") != NULL, "%s", err.msg);
    mtb_balancer_free(b);

    b = gm_new("famo", "", 2, 0);
    err = (mtb_error){0};
    cr_assert_eq(mtb_balancer_after_update(b, big, &err), MTB_EINVAL);
    cr_assert(strstr(err.msg, "famo") != NULL, "%s", err.msg);
    mtb_balance_in in = {.T = 2, .losses = (double[]){-1.0, 1.0}};
    mtb_balance_out out = {.head_w = hw, .trunk_w = tw};
    cr_assert_eq(mtb_balancer_step(b, &in, &out, &err), MTB_ENUMERIC);
    cr_assert(strstr(err.msg, "famo") && strstr(err.msg, "-1"), "%s", err.msg);
    mtb_balancer_free(b);

    b = gm_new("famo", "", 1, 0);
    famo_step_ok(b, 1, (double[]){3.0}, hw, tw);
    cr_assert_float_eq(tw[0], 1.0, 1e-15);
    famo_after_ok(b, (double[]){2.0});
    mtb_balancer_free(b);

    b = gm_new("famo", "", 1024, 0);
    gm_randn(l, 1024, 3);
    for (int t = 0; t < 1024; t++)
        l[t] = exp(4.0 * l[t]);
    for (int k = 0; k < 3; k++) {
        famo_step_ok(b, 1024, l, hw, tw);
        double s = 0.0;
        for (int t = 0; t < 1024; t++) {
            cr_assert_geq(tw[t], 0.0);
            s += tw[t];
        }
        cr_assert_float_eq(s, 1.0, 1e-12);
        for (int t = 0; t < 1024; t++)
            l[t] *= 0.9 + 0.0001 * (t % 7);
        famo_after_ok(b, l);
    }
    mtb_balancer_free(b);
}

/* Hyperparameter errors name the method and the value; a method without the hook refuses
 * after_update. */
Test(famo, errors_name_method_and_value)
{
    const mtb_balancer_type *ty = mtb_balancer_find("famo");
    mtb_hparams hp;
    mtb_error err = {0};
    cr_assert_eq(mtb_hparams_parse(ty, "w_lr=-1", &hp, &err), MTB_EINVAL);
    cr_assert(strstr(err.msg, "famo") && strstr(err.msg, "w_lr"), "%s", err.msg);
    cr_assert_eq(mtb_hparams_parse(ty, "optimizer=rmsprop", &hp, &err), MTB_EINVAL);
    mtb_balancer *ew = gm_new("ew", "", 2, 0);
    cr_assert_eq(mtb_balancer_after_update(ew, (double[]){1.0, 1.0}, &err), MTB_EINVAL);
    cr_assert(strstr(err.msg, "ew") != NULL, "%s", err.msg);
    mtb_balancer_free(ew);
}

/* Same inputs, same outputs, bit for bit. */
Test(famo, deterministic)
{
    double out[2][40];
    for (int r = 0; r < 2; r++) {
        mtb_balancer *b = gm_new("famo", "", 4, 0);
        double l[4], hw[4], tw[4];
        gm_randn(l, 4, 11);
        for (int t = 0; t < 4; t++)
            l[t] = exp(l[t]);
        for (int k = 0; k < 10; k++) {
            famo_step_ok(b, 4, l, hw, tw);
            memcpy(out[r] + 4 * k, tw, sizeof tw);
            for (int t = 0; t < 4; t++)
                l[t] *= 0.8 + 0.05 * t;
            famo_after_ok(b, l);
        }
        mtb_balancer_free(b);
    }
    cr_assert(!memcmp(out[0], out[1], sizeof out[0]));
}
