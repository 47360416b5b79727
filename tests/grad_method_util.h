/* grad_method_util.h: helpers for the gradient-method tests (test_balancer_mgda.c, ...):
 * run one balancer on given inputs and return the gradient it leaves on the trunk. The
 * degenerate-input and determinism sweeps over every method are registry-driven, in
 * test_balancer_properties.c. */
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
    mtb_balance_in in = {.step = step, .epoch = epoch, .T = T, .losses = losses, .G = G, .D = D,
                         .rep = {.Z = Z}};
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


#endif
