/* test_balancer_gradmethods.c: degenerate inputs and determinism for every gradient
 * method of issue 3 (mgda with each solver, gradnorm both variants, pcgrad, gradvac,
 * cagrad, graddrop): identical / opposite / zero gradients, loss 0, a 1e8 loss ratio,
 * T = 1, T > D (rank-deficient Gram), T = 1024. Each must return MTB_OK with finite
 * outputs (the driver also checks finiteness) or a clear error; none errs here. */
#include "grad_method_util.h"


/* opts_big: the same configuration with iteration caps that keep T = 1024 fast (the
 * iterative solvers cost O(T^2) per iteration). */
static const gm_variant variants[] = {
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

Test(gradmethods, degenerate_inputs_give_finite_outputs, .timeout = 120)
{
    gm_sweep(variants, NV, 0);
}

Test(gradmethods, same_seed_same_output)
{
    gm_check_determinism(variants, NV);
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
