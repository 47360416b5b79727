/* grad_method_util.h: helpers for the gradient-method tests (test_balancer_mgda.c, ...):
 * run one balancer on given inputs and return the gradient it leaves on the trunk. */
#ifndef MTB_TESTS_GRAD_METHOD_UTIL_H
#define MTB_TESTS_GRAD_METHOD_UTIL_H

#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mtb/balancer.h"
#include "mtb/rng.h"

/* A balancer of `method` with hparams `opts`, T tasks, D columns, seed 1; aborts the test on
 * failure. */
static inline mtb_balancer *gm_new(const char *method, const char *opts, int T, size_t D)
{
    const mtb_balancer_type *ty = mtb_balancer_find(method);
    cr_assert(ty != NULL, "method %s is not registered", method);
    mtb_hparams hp;
    mtb_error err = {0};
    cr_assert_eq(mtb_hparams_parse(ty, opts, &hp, &err), MTB_OK, "%s", err.msg);
    mtb_balancer *b = mtb_balancer_new(ty, T, D, &hp, 1, &err);
    cr_assert(b != NULL, "%s", err.msg);
    return b;
}

/* One step; grad (D) receives trunk_grad or G^T trunk_w. Returns the status; err filled. */
static inline mtb_status gm_step_z(mtb_balancer *b, long step, long epoch, int T, size_t D,
                                   const double *losses, const double *G, const double *Z,
                                   double *head_w, double *trunk_w, double *grad, mtb_error *err)
{
    double *tg = calloc(D, sizeof *tg);
    cr_assert(tg != NULL);
    mtb_balance_in in = {.step = step, .epoch = epoch, .T = T, .losses = losses, .G = G, .D = D, .Z = Z};
    mtb_balance_out out = {.head_w = head_w, .trunk_w = trunk_w, .trunk_grad = tg};
    mtb_status st = mtb_balancer_step(b, &in, &out, err);
    if (st == MTB_OK) {
        if (out.trunk_grad_set)
            memcpy(grad, tg, D * sizeof *grad);
        else
            for (size_t c = 0; c < D; c++) {
                grad[c] = 0.0;
                for (int t = 0; t < T; t++)
                    grad[c] += trunk_w[t] * G[(size_t)t * D + c];
            }
    }
    free(tg);
    return st;
}

static inline mtb_status gm_step(mtb_balancer *b, int T, size_t D, const double *losses,
                                 const double *G, double *head_w, double *trunk_w, double *grad,
                                 mtb_error *err)
{
    return gm_step_z(b, 0, 0, T, D, losses, G, NULL, head_w, trunk_w, grad, err);
}

/* One step of a fresh balancer that must succeed. */
static inline void gm_once(const char *method, const char *opts, int T, size_t D,
                           const double *losses, const double *G, double *trunk_w, double *grad)
{
    mtb_balancer *b = gm_new(method, opts, T, D);
    double *hw = malloc((size_t)T * sizeof *hw);
    mtb_error err = {0};
    cr_assert_eq(gm_step(b, T, D, losses, G, hw, trunk_w, grad, &err), MTB_OK, "%s", err.msg);
    free(hw);
    mtb_balancer_free(b);
}

static inline void gm_randn(double *x, size_t n, uint64_t seed)
{
    mtb_rng r;
    mtb_rng_seed(&r, seed, 99);
    for (size_t i = 0; i < n; i++)
        x[i] = mtb_rng_normal(&r);
}

static inline double gm_dot(const double *x, const double *y, size_t n)
{
    double d = 0.0;
    for (size_t i = 0; i < n; i++)
        d += x[i] * y[i];
    return d;
}

static inline double gm_maxabs(const double *x, size_t n)
{
    double m = 0.0;
    for (size_t i = 0; i < n; i++)
        m = fmax(m, fabs(x[i]));
    return m;
}

/* max_i |x_i - y_i| / max(max|y|, 1e-300) */
static inline double gm_reldiff(const double *x, const double *y, size_t n)
{
    double d = 0.0;
    for (size_t i = 0; i < n; i++)
        d = fmax(d, fabs(x[i] - y[i]));
    double s = gm_maxabs(y, n);
    return s > 0.0 ? d / s : d;
}


/* ---- the degenerate-input sweep shared by test_balancer_gradmethods*.c ------------- */

/* A method configuration; opts_big: the same with caps that keep T = 1024 affordable, or
 * NULL to skip T = 1024 for it. */
typedef struct gm_variant {
    const char *method, *opts, *opts_big;
} gm_variant;

typedef struct gm_case {
    const char *name;
    int T;
    size_t D;
    void (*fill)(double *G, double *l, int T, size_t D);
} gm_case;

static inline void gm_fill_random(double *G, double *l, int T, size_t D)
{
    gm_randn(G, (size_t)T * D, 31);
    for (int t = 0; t < T; t++)
        l[t] = 1.0 + 0.1 * t;
}
static inline void gm_fill_identical(double *G, double *l, int T, size_t D)
{
    gm_randn(G, D, 32);
    for (int t = 1; t < T; t++)
        memcpy(G + (size_t)t * D, G, D * sizeof *G);
    for (int t = 0; t < T; t++)
        l[t] = 1.0;
}
static inline void gm_fill_opposite(double *G, double *l, int T, size_t D)
{
    gm_randn(G, D, 33);
    for (int t = 1; t < T; t++)
        for (size_t c = 0; c < D; c++)
            G[(size_t)t * D + c] = (t % 2 ? -1.0 : 1.0) * G[c];
    for (int t = 0; t < T; t++)
        l[t] = 1.0;
}
static inline void gm_fill_one_zero(double *G, double *l, int T, size_t D)
{
    gm_fill_random(G, l, T, D);
    memset(G, 0, D * sizeof *G);
}
static inline void gm_fill_all_zero(double *G, double *l, int T, size_t D)
{
    memset(G, 0, (size_t)T * D * sizeof *G);
    for (int t = 0; t < T; t++)
        l[t] = 0.0;
}
static inline void gm_fill_loss_zero(double *G, double *l, int T, size_t D)
{
    gm_fill_random(G, l, T, D);
    l[0] = 0.0;
}
static inline void gm_fill_ratio_1e8(double *G, double *l, int T, size_t D)
{
    gm_fill_random(G, l, T, D);
    for (int t = 0; t < T; t++) {
        double s = t % 2 ? 1e4 : 1e-4; /* losses and gradients 1e8 apart */
        l[t] = s;
        for (size_t c = 0; c < D; c++)
            G[(size_t)t * D + c] *= s;
    }
}

/* Identical / opposite / zero gradients, loss 0, a 1e8 loss ratio, T = 1, T > D
 * (rank-deficient Gram), T = 1024. The last entry is the T = 1024 case. */
static const gm_case gm_cases[] = {
    {"random T3", 3, 5, gm_fill_random},        {"identical T3", 3, 5, gm_fill_identical},
    {"opposite T2", 2, 4, gm_fill_opposite},    {"opposite T4", 4, 4, gm_fill_opposite},
    {"one zero T3", 3, 5, gm_fill_one_zero},    {"all zero T3", 3, 5, gm_fill_all_zero},
    {"loss 0 T3", 3, 5, gm_fill_loss_zero},     {"ratio 1e8 T4", 4, 6, gm_fill_ratio_1e8},
    {"T1", 1, 5, gm_fill_random},               {"T > D (12 x 3)", 12, 3, gm_fill_random},
    {"T = 1024, D = 16", 1024, 16, gm_fill_random},
};
#define GM_NCASES ((int)(sizeof gm_cases / sizeof gm_cases[0]))

/* Runs `steps` steps of variant v on case k (1 step when T > 100 and big_one_step) and
 * asserts MTB_OK and finite outputs; the last step's trunk gradient and weights are left
 * in out_grad (D) and out_w (T). A loss-only method is not given G; its gradient is then
 * sum_t w_t g_t. Methods that need the representation get a random Z. */
static inline void gm_run_case(const gm_variant *v, const gm_case *k, int big_one_step,
                               double *out_grad, double *out_w)
{
    int T = k->T;
    size_t D = k->D;
    double *G = malloc((size_t)T * D * sizeof *G), *l = malloc((size_t)T * sizeof *l);
    double *Z = malloc(D * sizeof *Z), *hw = malloc((size_t)T * sizeof *hw);
    cr_assert(G && l && Z && hw);
    k->fill(G, l, T, D);
    gm_randn(Z, D, 77);
    const char *opts = T > 100 ? v->opts_big : v->opts;
    mtb_balancer *b = gm_new(v->method, opts, T, D);
    mtb_error err = {0};
    int steps = T > 100 && big_one_step ? 1 : 3;
    for (int s = 0; s < steps; s++) {
        mtb_status st;
        if (mtb_balancer_get_setup(b)->need == MTB_NEED_LOSSES) {
            mtb_balance_in in = {.step = s, .epoch = s, .T = T, .losses = l};
            mtb_balance_out out = {.head_w = hw, .trunk_w = out_w};
            st = mtb_balancer_step(b, &in, &out, &err);
            for (size_t c = 0; c < D && st == MTB_OK; c++) {
                out_grad[c] = 0.0;
                for (int t = 0; t < T; t++)
                    out_grad[c] += out_w[t] * G[(size_t)t * D + c];
            }
        } else {
            st = gm_step_z(b, s, s, T, D, l, G, Z, hw, out_w, out_grad, &err);
        }
        cr_assert_eq(st, MTB_OK, "%s(%s) on %s, step %d: %s", v->method, opts, k->name, s, err.msg);
        for (size_t c = 0; c < D; c++)
            cr_assert(isfinite(out_grad[c]), "%s(%s) on %s: grad[%zu] = %g", v->method, opts,
                      k->name, c, out_grad[c]);
        for (int t = 0; t < T; t++)
            cr_assert(isfinite(hw[t]) && isfinite(out_w[t]));
    }
    mtb_balancer_free(b);
    free(G), free(l), free(Z), free(hw);
}

/* Every variant on every case (T = 1024 only where opts_big is given). */
static inline void gm_sweep(const gm_variant *vs, int nv, int big_one_step)
{
    for (int v = 0; v < nv; v++)
        for (int k = 0; k < GM_NCASES; k++) {
            if (gm_cases[k].T > 100 && !vs[v].opts_big)
                continue;
            double *g = malloc(gm_cases[k].D * sizeof *g), *w = malloc((size_t)gm_cases[k].T * sizeof *w);
            gm_run_case(&vs[v], &gm_cases[k], big_one_step, g, w);
            free(g), free(w);
        }
}

/* The same seed gives bit-identical outputs, for every variant on the first case. */
static inline void gm_check_determinism(const gm_variant *vs, int nv)
{
    for (int v = 0; v < nv; v++) {
        double g1[5], g2[5], w1[3], w2[3];
        gm_run_case(&vs[v], &gm_cases[0], 0, g1, w1);
        gm_run_case(&vs[v], &gm_cases[0], 0, g2, w2);
        cr_assert_eq(memcmp(g1, g2, sizeof g1), 0, "%s(%s) is not deterministic", vs[v].method,
                     vs[v].opts);
        cr_assert_eq(memcmp(w1, w2, sizeof w1), 0);
    }
}

#endif
