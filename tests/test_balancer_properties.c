/* test_balancer_properties.c: the properties every balancing method must have, run over the
 * registry (mtb_balancer_types[]) so that a method registered later is covered without
 * editing this file (GSL multimin's test loop, STYLE.md). Each registered method is one
 * parameterised test (the parameter is its index in the registry, STYLE.md) and runs, with
 * its default hyperparameters and with every other value of each of its CHOICE and BOOL
 * hyperparameters (the method's variants, found from its table):
 *   - T in {1, 2, 3, 10} on random gradients, and T = 128 (defaults only; D = 16, so also
 *     rank-deficient);
 *   - zero gradients (the trunk gradient must be exactly 0), collinear gradients of
 *     different positive scales and T = 1 (the update must not oppose the one direction
 *     every task agrees on), opposite gradients, gradient norms spanning 1e-8 .. 1e8,
 *     rank deficiency (T = 10 > D = 3), a zero loss and losses 1e8 apart: MTB_OK;
 *   - a NaN loss and an infinite gradient: MTB_ENUMERIC with the method's name in the
 *     message;
 *   - the same seed twice: bit-identical outputs over three steps;
 *   - recorded draws (balancer.h, replay): a kind the method does not accept, or a count it
 *     does not expect, is MTB_EINVAL naming the method.
 * Methods that consume several samples get identical copies, methods that want the losses
 * after the update get them, PARAM methods of scope ALL get two parameter blocks, learnable
 * scalars take a small SGD step after each step (the caller's optimiser).
 * Then the documented invariances that are cheap to check (invariances[] below, keyed by
 * method name; each name must be registered): IMTL-G's equal projections, MGDA's min-norm
 * optimality, PCGrad's no remaining conflict for T = 2.
 * Per-method files test what is specific to one method. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mtb/balancer.h"
#include "mtb/rng.h"

/* An update that "does not oppose" g: grad.g >= -AGREE_TOL |g| max(|grad|, sum_t |g_t|)
 * (rounding of a combination of the task gradients, relative to their size; a method that
 * flips the sign gives grad.g = -|grad| |g|). */
#define AGREE_TOL 1e-12
/* Equal projections / optimality conditions of closed forms and exact solvers with O(1)
 * inputs: 1e-9 relative leaves room for a (T - 1) solve's rounding; a wrong answer is O(1). */
#define INVARIANCE_TOL 1e-9
#define MAX_D 16

/* ---- one run of a method configuration ------------------------------------------------- */

typedef struct prop_cfg {
    const mtb_balancer_type *type;
    mtb_hparams hp;
    char label[160]; /* "mgda(solver=exact)" */
} prop_cfg;

typedef struct prop_out {
    double *hw, *tw, *grad; /* (T), (T), (D): the trunk gradient (explicit or G^T trunk_w) */
} prop_out;

static void out_alloc(prop_out *o, int T, size_t D)
{
    o->hw = calloc((size_t)T, sizeof *o->hw);
    o->tw = calloc((size_t)T, sizeof *o->tw);
    o->grad = calloc(D, sizeof *o->grad);
    cr_assert(o->hw && o->tw && o->grad);
}

static void out_free(prop_out *o)
{
    free(o->hw), free(o->tw), free(o->grad);
}

/* Runs `steps` steps of a fresh balancer on the same losses l (T) and gradients G (T, D);
 * the last step's outputs are left in o. Returns the first failing status (err filled). */
static mtb_status run_cfg(const prop_cfg *c, int T, size_t D, const double *l, const double *G,
                          int steps, unsigned long long seed, const mtb_balance_draws *draws,
                          prop_out *o, mtb_error *err)
{
    mtb_balancer *b = mtb_balancer_new(c->type, T, D, &c->hp, seed, err);
    if (!b)
        return err->status ? err->status : MTB_EINVAL;
    const mtb_balancer_setup *su = mtb_balancer_get_setup(b);
    const int need_g = su->need != MTB_NEED_LOSSES;
    const int explicit_ok =
        need_g && (su->need == MTB_NEED_REP_GRADS || su->scope == MTB_SCOPE_ALL);
    const int K = su->n_samples;
    const double *Lp[MTB_MAX_SAMPLES], *Gp[MTB_MAX_SAMPLES];
    for (int k = 0; k < K; k++)
        Lp[k] = l, Gp[k] = G;
    double Z[MAX_D], la[256], *tg = calloc(D, sizeof *tg);
    cr_assert(tg && T <= 256 && D <= MAX_D);
    mtb_rng r;
    mtb_rng_seed(&r, 5, 0);
    for (size_t j = 0; j < D; j++)
        Z[j] = mtb_rng_normal(&r);
    for (int t = 0; t < T; t++)
        la[t] = 0.9 * l[t];
    size_t blocks[3] = {0, D / 2, D};
    int nb = su->need == MTB_NEED_PARAM_GRADS && su->scope == MTB_SCOPE_ALL && D >= 2 ? 2 : 0;
    mtb_status st = MTB_OK;
    for (int s = 0; s < steps && !st; s++) {
        mtb_balance_in in = {.step = s, .epoch = s, .T = T, .losses = l,
                             .G = need_g ? G : NULL, .D = need_g ? D : 0,
                             .rep = {.Z = su->need == MTB_NEED_REP_GRADS ? Z : NULL},
                             .samples = {.n = K, .losses = K > 1 ? Lp : NULL,
                                         .G = K > 1 && need_g ? Gp : NULL},
                             .blocks = {.n = nb, .off = nb ? blocks : NULL},
                             .draws = draws ? *draws : (mtb_balance_draws){0}};
        mtb_balance_out out = {.head_w = o->hw, .trunk_w = o->tw,
                               .trunk_grad = explicit_ok ? tg : NULL};
        if ((st = mtb_balancer_step(b, &in, &out, err)))
            break;
        for (size_t j = 0; j < D; j++) {
            double a = 0.0;
            for (int t = 0; t < T && !out.trunk_grad_set; t++)
                a += o->tw[t] * G[(size_t)t * D + j];
            o->grad[j] = out.trunk_grad_set ? tg[j] : a;
        }
        for (int i = 0; i < su->n_learn; i++) /* the caller's optimiser: a small SGD step */
            su->learn[i] -= 1e-3 * su->learn_grad[i];
        if (su->after_update)
            st = mtb_balancer_after_update(b, la, err);
    }
    free(tg);
    mtb_balancer_free(b);
    return st;
}

/* ---- inputs -------------------------------------------------------------------------------- */

static void randn(double *x, size_t n, unsigned long long seed)
{
    mtb_rng r;
    mtb_rng_seed(&r, seed, 99);
    for (size_t i = 0; i < n; i++)
        x[i] = mtb_rng_normal(&r);
}

static void losses(double *l, int T)
{
    for (int t = 0; t < T; t++)
        l[t] = 0.5 + 0.37 * (t % 5);
}

static double dot(const double *a, const double *b, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += a[i] * b[i];
    return s;
}

/* ---- the checks ------------------------------------------------------------------------- */

/* A case that must succeed; returns its trunk gradient in o. */
static void must_run(const prop_cfg *c, const char *what, int T, size_t D, const double *l,
                     const double *G, int steps, prop_out *o)
{
    mtb_error err = {0};
    mtb_status st = run_cfg(c, T, D, l, G, steps, 1, NULL, o, &err);
    cr_assert_eq(st, MTB_OK, "%s on %s (T = %d, D = %zu): %s", c->label, what, T, D, err.msg);
}

/* The update must not oppose g, the direction every task agrees on; gsum = sum_t |g_t|. */
static void agrees_with(const prop_cfg *c, const char *what, const double *grad, const double *g,
                        size_t D, double gsum)
{
    double d = dot(grad, g, D), ng = sqrt(dot(grad, grad, D)), n = sqrt(dot(g, g, D));
    cr_assert_geq(d, -AGREE_TOL * n * fmax(ng, gsum), "%s on %s: the update opposes the common "
                  "direction (grad.g = %g, |grad| = %g, |g| = %g)", c->label, what, d, ng, n);
}

static void check_random_T(const prop_cfg *c, int T, size_t D, int steps)
{
    double *G = malloc((size_t)T * D * sizeof *G), *l = malloc((size_t)T * sizeof *l);
    randn(G, (size_t)T * D, 31 + (unsigned)T);
    losses(l, T);
    prop_out o;
    out_alloc(&o, T, D);
    char what[32];
    snprintf(what, sizeof what, "random gradients");
    must_run(c, what, T, D, l, G, steps, &o);
    if (T == 1)
        agrees_with(c, "one task", o.grad, G, D, sqrt(dot(G, G, D)));
    out_free(&o);
    free(G), free(l);
}

static void check_degenerate(const prop_cfg *c)
{
    enum { T = 3, D = 8 };
    double G[5 * D], l[5], g[D];
    prop_out o;
    out_alloc(&o, 5, D);
    randn(g, D, 41);
    losses(l, 5);

    memset(G, 0, sizeof G);
    must_run(c, "zero gradients", T, D, l, G, 3, &o);
    for (size_t j = 0; j < D; j++)
        cr_assert_eq(o.grad[j], 0.0, "%s on zero gradients: trunk gradient[%zu] = %g", c->label,
                     j, o.grad[j]);

    const double sc[T] = {0.5, 1.0, 2.0};
    for (int t = 0; t < T; t++)
        for (size_t j = 0; j < D; j++)
            G[t * D + j] = sc[t] * g[j];
    must_run(c, "collinear gradients", T, D, l, G, 3, &o);
    agrees_with(c, "collinear gradients", o.grad, g, D, 3.5 * sqrt(dot(g, g, D)));

    for (int t = 0; t < 4; t++)
        for (size_t j = 0; j < D; j++)
            G[t * D + j] = (t % 2 ? -1.0 : 1.0) * g[j];
    must_run(c, "opposite gradients", 4, D, l, G, 3, &o);

    randn(G, 5 * D, 43);
    for (int t = 0; t < 5; t++) /* norms 1e-8, 1e-4, 1, 1e4, 1e8 */
        for (size_t j = 0; j < D; j++)
            G[t * D + j] *= pow(10.0, -8.0 + 4.0 * t);
    must_run(c, "gradient norms 1e-8 .. 1e8", 5, D, l, G, 3, &o);

    randn(G, T * D, 44);
    double l0[T] = {0.0, 1.0, 2.0};
    must_run(c, "a zero loss", T, D, l0, G, 3, &o);
    double lr[T] = {1e-4, 1.0, 1e4};
    for (int t = 0; t < T; t++)
        for (size_t j = 0; j < D; j++)
            G[t * D + j] *= lr[t];
    must_run(c, "losses and gradients 1e8 apart", T, D, lr, G, 3, &o);
    out_free(&o);
}

static void check_nonfinite(const prop_cfg *c)
{
    enum { T = 3, D = 6 };
    double G[T * D], l[T];
    randn(G, T * D, 51);
    losses(l, T);
    prop_out o;
    out_alloc(&o, T, D);
    const char *name = c->type->name;
    mtb_error err = {0};
    l[1] = NAN;
    cr_assert_eq(run_cfg(c, T, D, l, G, 1, 1, NULL, &o, &err), MTB_ENUMERIC,
                 "%s: a NaN loss gives %s", c->label, err.msg);
    cr_assert(strstr(err.msg, name), "%s: the error does not name the method: %s", c->label,
              err.msg);
    losses(l, T);
    mtb_balancer_setup su;
    cr_assert_eq(mtb_balancer_query(c->type, T, &c->hp, &su, &err), MTB_OK, "%s", err.msg);
    if (su.need != MTB_NEED_LOSSES) {
        memset(&err, 0, sizeof err);
        G[T * D - 2] = INFINITY;
        cr_assert_eq(run_cfg(c, T, D, l, G, 1, 1, NULL, &o, &err), MTB_ENUMERIC,
                     "%s: an infinite gradient gives %s", c->label, err.msg);
        cr_assert(strstr(err.msg, name), "%s: the error does not name the method: %s", c->label,
                  err.msg);
    }
    out_free(&o);
}

static void check_determinism(const prop_cfg *c)
{
    enum { T = 3, D = 7 };
    double G[T * D], l[T];
    randn(G, T * D, 61);
    losses(l, T);
    prop_out a, b;
    out_alloc(&a, T, D);
    out_alloc(&b, T, D);
    mtb_error err = {0};
    cr_assert_eq(run_cfg(c, T, D, l, G, 3, 77, NULL, &a, &err), MTB_OK, "%s", err.msg);
    cr_assert_eq(run_cfg(c, T, D, l, G, 3, 77, NULL, &b, &err), MTB_OK, "%s", err.msg);
    cr_assert(!memcmp(a.hw, b.hw, T * sizeof *a.hw), "%s: head weights differ for one seed",
              c->label);
    cr_assert(!memcmp(a.tw, b.tw, T * sizeof *a.tw), "%s: trunk weights differ for one seed",
              c->label);
    cr_assert(!memcmp(a.grad, b.grad, D * sizeof *a.grad), "%s: trunk gradient differs for one "
              "seed", c->label);
    out_free(&a);
    out_free(&b);
}

/* Recorded draws the method cannot take are refused, naming it: a kind it does not accept,
 * or (for a kind it accepts) one entry where T = 3 needs more. */
static void check_draws_refused(const prop_cfg *c)
{
    enum { T = 3, D = 6 };
    double G[T * D], l[T], v[1] = {0.5};
    int ord[1] = {1};
    randn(G, T * D, 71);
    losses(l, T);
    mtb_balancer_setup su;
    mtb_error err = {0};
    cr_assert_eq(mtb_balancer_query(c->type, T, &c->hp, &su, &err), MTB_OK, "%s", err.msg);
    prop_out o;
    out_alloc(&o, T, D);
    const mtb_balance_draws dv = {.values = v, .n_values = 1},
                            dord = {.orders = ord, .n_orders = 1};
    const mtb_balance_draws *kinds[2] = {&dv, &dord};
    for (int k = 0; k < 2; k++) {
        memset(&err, 0, sizeof err);
        cr_assert_eq(run_cfg(c, T, D, l, G, 1, 1, kinds[k], &o, &err), MTB_EINVAL,
                     "%s: one recorded %s for T = 3 was not refused (%s)", c->label,
                     k ? "task order entry" : "value", err.msg);
        cr_assert(strstr(err.msg, c->type->name), "%s: %s", c->label, err.msg);
        int accepted = su.replay & (k ? MTB_REPLAY_ORDERS : MTB_REPLAY_VALUES);
        cr_assert(accepted || strstr(err.msg, "takes no recorded"), "%s: %s", c->label, err.msg);
    }
    out_free(&o);
}

static void check_config(const prop_cfg *c)
{
    check_random_T(c, 1, 7, 3);
    check_random_T(c, 2, 16, 3);
    check_random_T(c, 3, 16, 3);
    check_random_T(c, 10, 16, 3);
    check_random_T(c, 10, 3, 3); /* rank deficient: T > D */
    check_degenerate(c);
    check_nonfinite(c);
    check_determinism(c);
    check_draws_refused(c);
}

/* ---- documented invariances (method-specific, cheap) -------------------------------------- */

/* IMTL-G (IMTL Eq. 1): the update has equal projections on every unit task gradient. */
static void inv_imtl_g(const prop_cfg *c)
{
    enum { T = 4, D = 9 };
    double G[T * D], l[T];
    randn(G, T * D, 81);
    losses(l, T);
    prop_out o;
    out_alloc(&o, T, D);
    must_run(c, "random gradients", T, D, l, G, 1, &o);
    double p0 = dot(o.grad, G, D) / sqrt(dot(G, G, D));
    for (int t = 1; t < T; t++) {
        const double *g = G + (size_t)t * D;
        double pt = dot(o.grad, g, D) / sqrt(dot(g, g, D));
        cr_assert_leq(fabs(pt - p0), INVARIANCE_TOL * fabs(p0), "%s: projection %d = %g vs %g",
                      c->label, t, pt, p0);
    }
    out_free(&o);
}

/* MGDA (Sener & Koltun Sec. 3.1, min-norm point of the convex hull): with the exact solver,
 * g_t . d >= |d|^2 for every t (the optimality condition on the simplex). */
static void inv_mgda(const prop_cfg *c0)
{
    enum { T = 5, D = 6 };
    prop_cfg c = *c0;
    mtb_error err = {0};
    cr_assert_eq(mtb_hparams_parse(c.type, "solver=exact", &c.hp, &err), MTB_OK, "%s", err.msg);
    double G[T * D], l[T];
    randn(G, T * D, 82);
    losses(l, T);
    prop_out o;
    out_alloc(&o, T, D);
    must_run(&c, "random gradients", T, D, l, G, 1, &o);
    double dd = dot(o.grad, o.grad, D);
    for (int t = 0; t < T; t++)
        cr_assert_geq(dot(G + (size_t)t * D, o.grad, D), dd - INVARIANCE_TOL * fmax(dd, 1.0),
                      "mgda(solver=exact): g_%d . d < |d|^2 = %g", t, dd);
    out_free(&o);
}

/* PCGrad (Yu et al. Alg. 1), T = 2: after the projections neither task conflicts with the
 * update, g_t . d >= 0, on gradients that do conflict. */
static void inv_pcgrad(const prop_cfg *c)
{
    enum { T = 2, D = 5 };
    double G[T * D] = {1, 0.2, -0.3, 0.5, 0, -0.9, 0.4, 0.1, -0.2, 0.3}, l[T] = {1, 1};
    cr_assert_lt(dot(G, G + D, D), 0.0, "the test gradients must conflict");
    prop_out o;
    out_alloc(&o, T, D);
    must_run(c, "conflicting gradients", T, D, l, G, 1, &o);
    for (int t = 0; t < T; t++)
        cr_assert_geq(dot(G + (size_t)t * D, o.grad, D), -AGREE_TOL, "%s: task %d conflicts",
                      c->label, t);
    out_free(&o);
}

static const struct {
    const char *method;
    void (*check)(const prop_cfg *c);
} invariances[] = {
    {"imtl_g", inv_imtl_g},
    {"mgda", inv_mgda},
    {"pcgrad", inv_pcgrad},
};

/* ---- the sweep ------------------------------------------------------------------------------ */

static int n_types(void)
{
    int n = 0;
    while (mtb_balancer_types[n])
        n++;
    return n;
}

static void free_params(struct criterion_test_params *p)
{
    cr_free(p->params);
}

ParameterizedTestParameters(properties, every_registered_method)
{
    int n = n_types();
    int *idx = cr_malloc((size_t)n * sizeof *idx);
    for (int i = 0; i < n; i++)
        idx[i] = i;
    return cr_make_param_array(int, idx, (size_t)n, free_params);
}

/* Default hyperparameters, then each CHOICE value and BOOL flip of the method's table. */
ParameterizedTest(int *index, properties, every_registered_method, .timeout = 60)
{
    const mtb_balancer_type *type = mtb_balancer_types[*index];
    prop_cfg c = {.type = type};
    mtb_hparams_default(type, &c.hp);
    snprintf(c.label, sizeof c.label, "%s(defaults)", type->name);
    check_config(&c);
    check_random_T(&c, 128, 16, 1);
    for (size_t k = 0; k < sizeof invariances / sizeof invariances[0]; k++)
        if (!strcmp(invariances[k].method, type->name))
            invariances[k].check(&c);

    for (int h = 0; h < type->n_hparams; h++) {
        const mtb_hparam_def *d = &type->hparams[h];
        int nvals = d->kind == MTB_HP_BOOL ? 2 : 0;
        if (d->kind == MTB_HP_CHOICE)
            for (const char *p = d->choices; p && *p; p++)
                nvals += *p == '|';
        if (d->kind == MTB_HP_CHOICE && d->choices && *d->choices)
            nvals++;
        for (int v = 0; v < nvals; v++) {
            if (v == (int)d->def)
                continue;
            prop_cfg cv = {.type = type};
            mtb_hparams_default(type, &cv.hp);
            cv.hp.v[h] = v;
            char val[64] = "";
            if (d->kind == MTB_HP_BOOL) {
                snprintf(val, sizeof val, "%s", v ? "true" : "false");
            } else { /* the v-th '|'-separated choice */
                const char *p = d->choices;
                for (int i = 0; i < v && p; i++)
                    p = strchr(p, '|') ? strchr(p, '|') + 1 : NULL;
                snprintf(val, sizeof val, "%.*s", p ? (int)strcspn(p, "|") : 1, p ? p : "?");
            }
            snprintf(cv.label, sizeof cv.label, "%s(%s=%s)", type->name, d->name, val);
            check_config(&cv);
        }
    }
}

/* The invariance table names registered methods only (a rename must not drop a check). */
Test(properties, invariances_name_registered_methods)
{
    for (size_t k = 0; k < sizeof invariances / sizeof invariances[0]; k++)
        cr_assert(mtb_balancer_find(invariances[k].method), "%s is not registered",
                  invariances[k].method);
}
