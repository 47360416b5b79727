/* test_balancer_gradmethods.c: degenerate inputs and determinism for every gradient
 * method of issue 3 (mgda with each solver, gradnorm both variants, pcgrad, gradvac,
 * cagrad, graddrop): identical / opposite / zero gradients, loss 0, a 1e8 loss ratio,
 * T = 1, T > D (rank-deficient Gram), T = 1024. Each must return MTB_OK with finite
 * outputs (the driver also checks finiteness) or a clear error; none errs here. */
#include "grad_method_util.h"

typedef struct { const char *method, *opts, *opts_big; } variant;

/* opts_big: the same configuration with iteration caps that keep T = 1024 fast (the
 * iterative solvers cost O(T^2) per iteration). */
static const variant variants[] = {
    {"mgda", "", ""},
    {"mgda", "solver=exact", "solver=exact,exact_iter=100"},
    {"mgda", "solver=closed_form", "solver=closed_form"},
    {"mgda", "solver=libmtl,normalize=loss+,apply_to=normalized",
     "solver=libmtl,normalize=loss+,apply_to=normalized,max_iter=50"},
    {"mgda", "normalize=l2", "normalize=l2"},
    {"gradnorm", "", ""},
    {"gradnorm", "variant=libmtl", "variant=libmtl"},
    {"pcgrad", "", ""},
    {"pcgrad", "eps=1e-8", "eps=1e-8"},
    {"gradvac", "", ""},
    {"gradvac", "eps=1e-8", "eps=1e-8"},
    {"cagrad", "", "max_iter=100"},
    {"cagrad", "eps=1e-8,rescale=none", "eps=1e-8,rescale=none,max_iter=100"},
    {"graddrop", "", ""},
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
    double *Z = malloc(D * sizeof *Z), *hw = malloc((size_t)T * sizeof *hw);
    cr_assert(G && l && Z && hw);
    k->fill(G, l, T, D);
    gm_randn(Z, D, 77);
    const char *opts = T > 100 ? v->opts_big : v->opts;
    mtb_balancer *b = gm_new(v->method, opts, T, D);
    mtb_error err = {0};
    for (int s = 0; s < 3; s++) {
        mtb_status st = gm_step_z(b, s, s, T, D, l, G, Z, hw, out_w, out_grad, &err);
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
    free(Z);
    free(hw);
}

Test(gradmethods, degenerate_inputs_give_finite_outputs, .timeout = 120)
{
    for (int v = 0; v < NV; v++)
        for (int k = 0; k < NC; k++) {
            double *g = malloc(cases[k].D * sizeof *g), *w = malloc((size_t)cases[k].T * sizeof *w);
            run(&variants[v], &cases[k], g, w);
            free(g);
            free(w);
        }
}

Test(gradmethods, same_seed_same_output)
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

Test(gradmethods, one_task_gets_its_own_gradient_direction)
{
    /* T = 1: every method returns a positive multiple of g (MGDA, PCGrad, GradVac,
     * GradNorm: g itself; CAGrad: (1 + c) / (1 + c^2) g). */
    double G[5] = {0.3, -1, 2, 0.5, 0}, l[1] = {2.0}, w[1], g[5];
    const char *m[] = {"mgda", "pcgrad", "gradvac", "gradnorm", "cagrad"};
    const double f[] = {1, 1, 1, 1, 1.5 / 1.25};
    for (int i = 0; i < 5; i++) {
        gm_once(m[i], "", 1, 5, l, G, w, g);
        for (int c = 0; c < 5; c++)
            cr_assert_leq(fabs(g[c] - f[i] * G[c]), 1e-14, "%s: %g vs %g", m[i], g[c], f[i] * G[c]);
    }
}
