/* test_balancer_gradmethods5.c: degenerate inputs and determinism for the gradient
 * methods of issue 5 (aligned_mtl, stch, excess_mtl, moco, nash_mtl, fairgrad, upgrad):
 * identical / opposite / zero gradients, loss 0, a 1e8 loss ratio, T = 1, T > D
 * (rank-deficient Gram), T = 1024. Each must return MTB_OK with finite outputs. */
#include <time.h>

#include "grad_method_util.h"

typedef struct { const char *method, *opts, *opts_big; } variant;

/* opts_big: the same configuration with caps that keep T = 1024 affordable, or NULL to skip
 * T = 1024 for a variant. UPGrad solves T QPs of size T: with the default sweep cap its
 * iterative solver would run ~4e9 flops per sweep for up to 1e4 sweeps, so T = 1024 runs
 * one variant with 1 sweep (finite, not converged). Nash-MTL / FairGrad at T = 1024, D = 16
 * take ~40 Newton iterations with a 1024 x 1024 Cholesky each (divergence of the singular
 * problem, then the ridge fallback): ~1 s per step. T = 1024 runs one step, others three. */
static const variant variants[] = {
    {"aligned_mtl", "", ""},
    {"aligned_mtl", "scale=median,weights=mean,rank_eps=1.1920929e-07", "scale=rmse"},
    {"stch", "", ""},
    {"stch", "form=libmtl,warmup_epoch=1", "form=libmtl,warmup_epoch=1"},
    {"excess_mtl", "", ""},
    {"moco", "", ""},
    {"moco", "update=softmax,normalize=loss", "update=softmax,normalize=loss"},
    {"nash_mtl", "", ""},
    {"nash_mtl", "max_norm=1,update_weights_every=2", NULL},
    {"fairgrad", "", ""},
    {"fairgrad", "alpha=3", NULL},
    {"upgrad", "", "max_sweeps=1"},
    {"upgrad", "reg_eps=0,norm_eps=0", NULL},
    {"upgrad", "exact_max_T=0", NULL},
};
#define NV ((int)(sizeof variants / sizeof variants[0]))

typedef struct {
    const char *name;
    int T;
    size_t D;
    void (*fill)(double *G, double *l, int T, size_t D);
} gcase;

static void f_random(double *G, double *l, int T, size_t D)
{
    gm_randn(G, (size_t)T * D, 31);
    for (int t = 0; t < T; t++)
        l[t] = 1.0 + 0.1 * t;
}
static void f_identical(double *G, double *l, int T, size_t D)
{
    gm_randn(G, D, 32);
    for (int t = 1; t < T; t++)
        memcpy(G + (size_t)t * D, G, D * sizeof *G);
    for (int t = 0; t < T; t++)
        l[t] = 1.0;
}
static void f_opposite(double *G, double *l, int T, size_t D)
{
    gm_randn(G, D, 33);
    for (int t = 1; t < T; t++)
        for (size_t c = 0; c < D; c++)
            G[(size_t)t * D + c] = (t % 2 ? -1.0 : 1.0) * G[c];
    for (int t = 0; t < T; t++)
        l[t] = 1.0;
}
static void f_one_zero(double *G, double *l, int T, size_t D)
{
    f_random(G, l, T, D);
    memset(G, 0, D * sizeof *G);
}
static void f_all_zero(double *G, double *l, int T, size_t D)
{
    memset(G, 0, (size_t)T * D * sizeof *G);
    for (int t = 0; t < T; t++)
        l[t] = 0.0;
}
static void f_loss_zero(double *G, double *l, int T, size_t D)
{
    f_random(G, l, T, D);
    l[0] = 0.0;
}
static void f_ratio_1e8(double *G, double *l, int T, size_t D)
{
    f_random(G, l, T, D);
    for (int t = 0; t < T; t++) {
        double s = t % 2 ? 1e4 : 1e-4; /* losses and gradients 1e8 apart */
        l[t] = s;
        for (size_t c = 0; c < D; c++)
            G[(size_t)t * D + c] *= s;
    }
}

static const gcase cases[] = {
    {"random T3", 3, 5, f_random},        {"identical T3", 3, 5, f_identical},
    {"opposite T2", 2, 4, f_opposite},    {"opposite T4", 4, 4, f_opposite},
    {"one zero T3", 3, 5, f_one_zero},    {"all zero T3", 3, 5, f_all_zero},
    {"loss 0 T3", 3, 5, f_loss_zero},     {"ratio 1e8 T4", 4, 6, f_ratio_1e8},
    {"T1", 1, 5, f_random},               {"T > D (12 x 3)", 12, 3, f_random},
    {"T = 1024, D = 16", 1024, 16, f_random},
};
#define NC ((int)(sizeof cases / sizeof cases[0]))

static void run(const variant *v, const gcase *k, double *out_grad, double *out_w)
{
    int T = k->T;
    size_t D = k->D;
    double *G = malloc((size_t)T * D * sizeof *G), *l = malloc((size_t)T * sizeof *l);
    double *hw = malloc((size_t)T * sizeof *hw);
    cr_assert(G && l && hw);
    k->fill(G, l, T, D);
    const char *opts = T > 100 ? v->opts_big : v->opts;
    mtb_balancer *b = gm_new(v->method, opts, T, D);
    mtb_error err = {0};
    for (int s = 0; s < (T > 100 ? 1 : 3); s++) {
        mtb_status st;
        if (mtb_balancer_get_setup(b)->need == MTB_NEED_LOSSES) {
            /* a loss-only method (stch) must not be given G; its gradient is sum w_t g_t */
            mtb_balance_in in = {.step = s, .epoch = s, .T = T, .losses = l};
            mtb_balance_out out = {.head_w = hw, .trunk_w = out_w};
            st = mtb_balancer_step(b, &in, &out, &err);
            for (size_t c = 0; c < D && st == MTB_OK; c++) {
                out_grad[c] = 0.0;
                for (int t = 0; t < T; t++)
                    out_grad[c] += out_w[t] * G[(size_t)t * D + c];
            }
        } else {
            st = gm_step_z(b, s, s, T, D, l, G, NULL, hw, out_w, out_grad, &err);
        }
        cr_assert_eq(st, MTB_OK, "%s(%s) on %s, step %d: %s", v->method, opts, k->name, s, err.msg);
        for (size_t c = 0; c < D; c++)
            cr_assert(isfinite(out_grad[c]), "%s(%s) on %s: grad[%zu] = %g", v->method, opts,
                      k->name, c, out_grad[c]);
        for (int t = 0; t < T; t++)
            cr_assert(isfinite(hw[t]) && isfinite(out_w[t]));
    }
    mtb_balancer_free(b);
    free(G);
    free(l);
    free(hw);
}

Test(gradmethods5, degenerate_inputs_give_finite_outputs, .timeout = 300)
{
    for (int v = 0; v < NV; v++)
        for (int k = 0; k < NC; k++) {
            if (cases[k].T > 100 && !variants[v].opts_big)
                continue;
            double *g = malloc(cases[k].D * sizeof *g), *w = malloc((size_t)cases[k].T * sizeof *w);
            run(&variants[v], &cases[k], g, w);
            free(g);
            free(w);
        }
}

Test(gradmethods5, same_seed_same_output)
{
    const gcase *k = &cases[0];
    for (int v = 0; v < NV; v++) {
        double g1[5], g2[5], w1[3], w2[3];
        run(&variants[v], k, g1, w1);
        run(&variants[v], k, g2, w2);
        cr_assert_eq(memcmp(g1, g2, sizeof g1), 0, "%s(%s) is not deterministic", variants[v].method,
                     variants[v].opts);
        cr_assert_eq(memcmp(w1, w2, sizeof w1), 0);
    }
}

Test(gradmethods5, one_task_gets_its_own_gradient_direction)
{
    /* T = 1: Aligned-MTL a = 1; UPGrad v = e_1 (g itself); FairGrad / Nash-MTL
     * w = |g|^{-2 alpha/(1+alpha)} (Nash: d = g/|g|); MoCo (lambda = 1, y = beta g at step 1). */
    double G[5] = {0.3, -1, 2, 0.5, 0}, l[1] = {2.0}, w[1], g[5];
    double n2 = gm_dot(G, G, 5);
    const char *m[] = {"aligned_mtl", "upgrad", "nash_mtl", "fairgrad", "moco"};
    const char *o[] = {"", "", "", "alpha=2", ""};
    const double f[] = {1, 1, 1.0 / sqrt(n2), pow(n2, -2.0 / 3.0), 0.5};
    for (int i = 0; i < 5; i++) {
        gm_once(m[i], o[i], 1, 5, l, G, w, g);
        for (int c = 0; c < 5; c++)
            cr_assert_leq(fabs(g[c] - f[i] * G[c]), 1e-12 * fabs(f[i]) * 2.0, "%s: %g vs %g", m[i],
                          g[c], f[i] * G[c]);
    }
}
