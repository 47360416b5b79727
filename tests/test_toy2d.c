/* test_toy2d.c: the 2-D toy shared by IMTL's I12 and DB-MTL's D3 panel
 * (paper_repro/common/toy2d.h): its Jacobian against central differences, the front test on
 * points of the derived Pareto set, and a trajectory's refusal of an unknown method. */
#include <criterion/criterion.h>
#include <math.h>

#include "../paper_repro/common/toy2d.h"

Test(toy2d, jacobian_matches_central_differences)
{
    /* points away from the kinks of max(., .) and |.| (the spec's starts but (0, 0), and
     * points on both sides of x2 = 0) */
    static const double X[][2] = {{-8.5, 7.5}, {9, 9}, {-7.5, -0.5}, {9, -1}, {1.3, 2.1},
                                  {-2.2, -4.7}, {4.0, -8.3}};
    for (size_t p = 0; p < sizeof X / sizeof X[0]; p++) {
        double f[2], J[4];
        repro_toy2d(X[p], f, J);
        for (int j = 0; j < 2; j++) {
            const double h = 1e-6;
            double xp[2] = {X[p][0], X[p][1]}, xm[2] = {X[p][0], X[p][1]}, fp[2], fm[2], Jd[4];
            xp[j] += h, xm[j] -= h;
            repro_toy2d(xp, fp, Jd);
            repro_toy2d(xm, fm, Jd);
            for (int t = 0; t < 2; t++) {
                double fd = (fp[t] - fm[t]) / (2 * h), an = J[2 * t + j];
                cr_expect(fabs(fd - an) <= 1e-6 * fmax(1.0, fabs(an)),
                          "point (%g, %g), d f_%d / d x_%d: analytic %.10g, differences %.10g",
                          X[p][0], X[p][1], t + 1, j + 1, an, fd);
            }
        }
    }
}

Test(toy2d, front_is_the_derived_pareto_set)
{
    /* imtl.md I12: x1 in [-7, 7] with x2 between -8.43 and -8.30; "on front" |x2 + 8.38| < 0.1 */
    cr_expect(repro_toy2d_on_front((double[]){0.0, -8.38}));
    cr_expect(repro_toy2d_on_front((double[]){-6.9, -8.30}));
    cr_expect(!repro_toy2d_on_front((double[]){0.0, 0.0}));
    cr_expect(!repro_toy2d_on_front((double[]){0.0, -8.6}));
    /* on the set the two objectives trade off: f_1 rises as f_2 falls along x1 */
    double fa[2], fb[2], J[4];
    repro_toy2d((double[]){-5.0, -8.38}, fa, J);
    repro_toy2d((double[]){5.0, -8.38}, fb, J);
    cr_expect((fa[0] - fb[0]) * (fa[1] - fb[1]) < 0, "no trade-off: f(-5) = (%g, %g), f(5) = (%g, %g)",
              fa[0], fa[1], fb[0], fb[1]);
}

Test(toy2d, unknown_method_is_an_error_not_a_run)
{
    char msg[256] = "";
    double xe[2];
    int rc = repro_toy2d_run("no_such_method", "", 1.0, REPRO_TOY2D_STARTS[0], 10, 1e-3, NULL,
                             xe, msg, sizeof msg);
    cr_expect_eq(rc, -1);
    cr_expect(msg[0], "no message");
    rc = repro_toy2d_run("db_mtl", "alpha=nonsense", 1.0, REPRO_TOY2D_STARTS[0], 10, 1e-3, NULL,
                         xe, msg, sizeof msg);
    cr_expect_eq(rc, -1, "bad options were accepted");
    /* a real method moves x */
    rc = repro_toy2d_run("ew", "", 1.0, REPRO_TOY2D_STARTS[0], 100, 1e-3, NULL, xe, msg,
                         sizeof msg);
    cr_expect(rc == 0 && (xe[0] != REPRO_TOY2D_STARTS[0][0] || xe[1] != REPRO_TOY2D_STARTS[0][1]),
              "ew did not move: rc %d (%s)", rc, msg);
}
