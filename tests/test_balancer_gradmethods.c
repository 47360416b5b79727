/* test_balancer_gradmethods.c: T = 1 for the gradient methods of issue 3 (MGDA, PCGrad,
 * GradVac, GradNorm, CAGrad): each returns the task's own gradient, scaled as its formula
 * says. Degenerate inputs and determinism for every method: test_balancer_properties.c. */
#include "grad_method_util.h"

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
