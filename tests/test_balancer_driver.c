/* test_balancer_driver.c: the generic balancer driver (hyperparameter parsing and
 * validation, input/output checks) and the constant method's weight API. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "mtb/balancer.h"

static const mtb_balancer_type *find(const char *name)
{
    const mtb_balancer_type *t = mtb_balancer_find(name);
    cr_assert(t, "method %s is not registered", name);
    return t;
}

Test(hparams, defaults_and_parse)
{
    const mtb_balancer_type *t = find("db_mtl");
    mtb_hparams hp;
    mtb_error err = {0};
    cr_assert_eq(mtb_hparams_parse(t, NULL, &hp, &err), MTB_OK);
    cr_assert_eq(hp.n, t->n_hparams);
    cr_assert_eq(mtb_hparams_get(t, &hp, "beta"), 0.9);
    cr_assert_eq(mtb_hparams_parse(t, "beta=0.5,alpha=median,beta_sigma=0.5", &hp, &err), MTB_OK,
                 "%s", err.msg);
    cr_assert_eq(mtb_hparams_get(t, &hp, "beta"), 0.5);
    cr_assert_eq(mtb_hparams_get(t, &hp, "beta_sigma"), 0.5);
    cr_assert_eq(mtb_hparams_get(t, &hp, "alpha"), 3.0); /* max|min|mean|median */
    cr_assert(isnan(mtb_hparams_get(t, &hp, "nope")));
}

Test(hparams, errors_name_method_and_value)
{
    const mtb_balancer_type *t = find("db_mtl");
    mtb_hparams hp;
    mtb_error err = {0};
    struct {
        const char *spec, *needle;
    } bad[] = {
        {"gamma=1", "gamma"},        {"beta=2", "beta"},         {"beta=abc", "abc"},
        {"alpha=mode", "mode"},      {"beta", "key=value"},      {"beta=0.5,,alpha=max", "empty"},
        {"=3", "key=value"},         {"eps=nan", "nan"},         {"beta=1e400", "1e400"},
        {"beta=0.9,beta=0.5", "twice"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        mtb_error_clear(&err);
        cr_assert_eq(mtb_hparams_parse(t, bad[i].spec, &hp, &err), MTB_EINVAL, "'%s' accepted",
                     bad[i].spec);
        cr_assert(strstr(err.msg, "db_mtl"), "message '%s' does not name the method", err.msg);
        cr_assert(strstr(err.msg, bad[i].needle), "message '%s' does not mention '%s'", err.msg,
                  bad[i].needle);
    }
    const mtb_balancer_type *r = find("rlw");
    cr_assert_eq(mtb_hparams_parse(r, "random_normal_redraw=maybe", &hp, &err), MTB_EINVAL);
    cr_assert_eq(mtb_hparams_parse(r, "random_normal_redraw=true", &hp, &err), MTB_OK);
    cr_assert_eq(mtb_hparams_get(r, &hp, "random_normal_redraw"), 1.0);
}

Test(hparams, format_round_trips_for_every_method)
{
    for (int i = 0; mtb_balancer_types[i]; i++) {
        const mtb_balancer_type *t = mtb_balancer_types[i];
        mtb_hparams hp, back;
        mtb_error err = {0};
        char buf[2048];
        mtb_hparams_default(t, &hp);
        mtb_hparams_format(t, &hp, buf, sizeof buf);
        cr_assert_eq(mtb_hparams_parse(t, buf, &back, &err), MTB_OK, "%s: '%s': %s", t->name, buf,
                     err.msg);
        cr_assert_eq(back.n, hp.n);
        for (int k = 0; k < hp.n; k++)
            cr_assert_eq(back.v[k], hp.v[k], "%s: %s changed by format/parse", t->name,
                         t->hparams[k].name);
    }
}

Test(driver, rejects_bad_inputs)
{
    mtb_error err = {0};
    cr_assert_null(mtb_balancer_new(find("ew"), 0, 0, NULL, 1, &err));
    cr_assert(strstr(err.msg, "ew"));
    cr_assert_null(mtb_balancer_new(find("imtl_g"), 2, 0, NULL, 1, &err));
    cr_assert(strstr(err.msg, "D_max"), "%s", err.msg);
    mtb_hparams hp = {.n = 0};
    cr_assert_null(mtb_balancer_new(find("slaw"), 2, 0, &hp, 1, &err));

    mtb_balancer *ew = mtb_balancer_new(find("ew"), 2, 0, NULL, 1, &err);
    mtb_balancer *ig = mtb_balancer_new(find("imtl_g"), 2, 3, NULL, 1, &err);
    cr_assert(ew && ig);
    double l[2] = {1.0, 2.0}, G[8] = {1, 0, 0, 0, 1, 0, 0, 0}, hw[2], tw[2], tg[4];
    mtb_balance_out out = {.head_w = hw, .trunk_w = tw, .trunk_grad = tg};
    mtb_balance_in in = {.T = 3, .losses = l};
    cr_assert_eq(mtb_balancer_step(ew, &in, &out, &err), MTB_EINVAL);
    in.T = 2;
    l[1] = NAN;
    cr_assert_eq(mtb_balancer_step(ew, &in, &out, &err), MTB_ENUMERIC);
    cr_assert(strstr(err.msg, "ew") && strstr(err.msg, "task 1"), "%s", err.msg);
    l[1] = 2.0;
    in.G = G;
    in.D = 3;
    cr_assert_eq(mtb_balancer_step(ew, &in, &out, &err), MTB_EINVAL); /* G for a losses method */
    in.G = NULL;
    cr_assert_eq(mtb_balancer_step(ew, &in, &out, &err), MTB_OK);
    cr_assert_eq(mtb_balancer_step(ig, &in, &out, &err), MTB_EINVAL); /* G missing */
    in.G = G;
    in.D = 4;
    cr_assert_eq(mtb_balancer_step(ig, &in, &out, &err), MTB_EINVAL); /* D > D_max */
    in.D = 3;
    G[2] = INFINITY;
    cr_assert_eq(mtb_balancer_step(ig, &in, &out, &err), MTB_ENUMERIC);
    G[2] = 0.0;
    cr_assert_eq(mtb_balancer_step(ig, &in, &out, &err), MTB_OK, "%s", err.msg);
    mtb_balancer_free(ew);
    mtb_balancer_free(ig);
    mtb_balancer_free(NULL);
}

Test(driver, query_reports_needs)
{
    mtb_balancer_setup su;
    mtb_hparams hp;
    mtb_error err = {0};
    cr_assert_eq(mtb_balancer_query(find("imtl_g"), 3, NULL, &su, &err), MTB_OK);
    cr_assert_eq(su.need, MTB_NEED_REP_GRADS);
    cr_assert_eq(mtb_hparams_parse(find("imtl_g"), "level=param", &hp, &err), MTB_OK);
    cr_assert_eq(mtb_balancer_query(find("imtl_g"), 3, &hp, &su, &err), MTB_OK);
    cr_assert_eq(su.need, MTB_NEED_PARAM_GRADS);
    cr_assert_eq(mtb_balancer_query(find("uw"), 3, NULL, &su, &err), MTB_OK);
    cr_assert_eq(su.need, MTB_NEED_LOSSES);
    cr_assert_eq(su.n_learn, 3);
}

Test(constant, set_weights_normalises_to_T)
{
    mtb_error err = {0};
    mtb_balancer *b = mtb_balancer_new(find("constant"), 3, 0, NULL, 1, &err);
    double l[3] = {1, 1, 1}, hw[3], tw[3];
    double inv_sig2[3] = {1.0, 0.25, 1.0 / 9.0}; /* sigma = 1, 2, 3 */
    mtb_balance_in in = {.T = 3, .losses = l};
    mtb_balance_out out = {.head_w = hw, .trunk_w = tw};
    cr_assert_eq(mtb_balancer_step(b, &in, &out, &err), MTB_OK);
    cr_assert_eq(tw[0], 1.0);
    cr_assert_eq(mtb_balancer_set_constant_weights(b, inv_sig2, &err), MTB_OK);
    cr_assert_eq(mtb_balancer_step(b, &in, &out, &err), MTB_OK);
    double s = 1.0 + 0.25 + 1.0 / 9.0;
    for (int t = 0; t < 3; t++)
        cr_assert_float_eq(tw[t], 3.0 * inv_sig2[t] / s, 1e-15);
    inv_sig2[1] = -1.0;
    cr_assert_eq(mtb_balancer_set_constant_weights(b, inv_sig2, &err), MTB_EINVAL);
    mtb_balancer *e = mtb_balancer_new(find("ew"), 3, 0, NULL, 1, &err);
    cr_assert_eq(mtb_balancer_set_constant_weights(e, l, &err), MTB_EINVAL);
    cr_assert(strstr(err.msg, "ew"), "%s", err.msg);
    mtb_balancer_free(b);
    mtb_balancer_free(e);
}
