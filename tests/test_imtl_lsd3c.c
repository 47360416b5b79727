/* test_imtl_lsd3c.c: LSD-3C (spec imtl.md sec. 1; synth/lsd3c.c, datasets/problems.c): its
 * layout, the spec's loss levels at a zero prediction (t2 ~ 14, t3 ~ 2.1), the 10 % label
 * noise, determinism, and the problem registry's lsd3c and lsd3cx<k>@<t>. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "mtb/problem.h"
#include "mtb/synth.h"

Test(imtl_lsd3c, layout_loss_levels_and_noise)
{
    mtb_lsd3c_params p;
    mtb_lsd3c_params_default(&p, 0);
    mtb_dataset a, b;
    mtb_error err = {0};
    cr_assert_eq(mtb_synth_lsd3c(&p, &a, &err), MTB_OK, "%s", err.msg);
    cr_assert_eq(mtb_synth_lsd3c(&p, &b, &err), MTB_OK);
    cr_assert_eq(a.T, 3);
    cr_assert_eq(a.y_width, MTB_LSD3C_Y_WIDTH);
    cr_assert_eq(a.tasks[0].loss, MTB_LOSS_CE);
    cr_assert_eq(a.tasks[1].loss, MTB_LOSS_L1);
    cr_assert_eq(a.tasks[2].loss, MTB_LOSS_L1);
    size_t n = a.train.n, w = (size_t)a.y_width;
    cr_assert_eq(memcmp(a.train.y, b.train.y, n * w * sizeof(float)), 0, "not deterministic");
    double l2 = 0, l3 = 0;
    long moved = 0;
    for (size_t r = 0; r < n; r++) {
        const float *y = a.train.y + r * w;
        for (int c = 0; c < 100; c++) {
            l2 += fabs(y[c]) / (100.0 * n);
            l3 += fabs(y[100 + c]) / (100.0 * n);
        }
        cr_assert(y[200] >= 0 && y[200] < 10 && y[201] >= 0 && y[201] < 10);
        moved += y[200] != y[201];
    }
    cr_assert(l2 > 12 && l2 < 16, "t2 L1 at zero prediction %g, spec ~14", l2);
    cr_assert(l3 > 1.8 && l3 < 2.4, "t3 L1 at zero prediction %g, spec ~2.1", l3);
    double rate = (double)moved / n;
    cr_assert(fabs(rate - 0.1) < 0.015, "noise rate %g", rate);
    mtb_dataset_free(&a);
    mtb_dataset_free(&b);
}

Test(imtl_lsd3c, registry)
{
    mtb_problem p;
    mtb_error err = {0};
    cr_assert_eq(mtb_problem_lookup("lsd3cx10@1", "smoke", &p, &err), MTB_OK, "%s", err.msg);
    cr_assert_eq(p.T, 3);
    cr_assert_eq(p.tasks[0].loss_scale, 10.0);
    cr_assert_eq(p.tasks[1].out_scale, 20.0);
    cr_assert_eq(p.proto.steps, 600);
    mtb_dataset ds;
    cr_assert_eq(mtb_problem_make_dataset(&p, &ds, &err), MTB_OK, "%s", err.msg);
    mtb_dataset_free(&ds);
    cr_assert_neq(mtb_problem_lookup("lsd3cx10@4", NULL, &p, &err), MTB_OK);
    cr_assert_neq(mtb_problem_lookup("lsd3cx-1@1", NULL, &p, &err), MTB_OK);
}
