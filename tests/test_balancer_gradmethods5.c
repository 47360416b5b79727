/* test_balancer_gradmethods5.c: degenerate inputs and determinism for the gradient
 * methods of issue 5 (aligned_mtl, stch, excess_mtl, moco, nash_mtl, fairgrad, upgrad):
 * identical / opposite / zero gradients, loss 0, a 1e8 loss ratio, T = 1, T > D
 * (rank-deficient Gram), T = 1024. Each must return MTB_OK with finite outputs. */
#include <time.h>

#include "grad_method_util.h"


/* opts_big: the same configuration with caps that keep T = 1024 affordable, or NULL to skip
 * T = 1024 for a variant. UPGrad solves T QPs of size T: with the default sweep cap its
 * iterative solver would run ~4e9 flops per sweep for up to 1e4 sweeps, so T = 1024 runs
 * one variant with 1 sweep (finite, not converged). Nash-MTL / FairGrad at T = 1024, D = 16
 * take ~40 Newton iterations with a 1024 x 1024 Cholesky each (divergence of the singular
 * problem, then the ridge fallback): ~1 s per step. T = 1024 runs one step, others three. */
static const gm_variant variants[] = {
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

Test(gradmethods5, degenerate_inputs_give_finite_outputs, .timeout = 300)
{
    gm_sweep(variants, NV, 1);
}

Test(gradmethods5, same_seed_same_output)
{
    gm_check_determinism(variants, NV);
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
