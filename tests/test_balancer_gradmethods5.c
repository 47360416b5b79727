/* test_balancer_gradmethods5.c: T = 1 for the gradient methods of issue 5 (Aligned-MTL,
 * UPGrad, Nash-MTL, FairGrad, MoCo): each returns the task's own gradient, scaled as its
 * formula says. Degenerate inputs and determinism for every method:
 * test_balancer_properties.c. */
#include "grad_method_util.h"

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
