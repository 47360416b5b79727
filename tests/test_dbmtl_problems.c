/* test_dbmtl_problems.c: LSD-CE3 and LSD-CE3-sep (dbmtl.md sec. 1, synth/lsd_ce3.c): task
 * table and column layout, determinism, the label noise rates (0, 0.1, 0.3) within 4 standard
 * errors, the -sep variant's noiseless binary task 1 with tasks 2 and 3 unchanged, the
 * registry's protocols (Adam and the SGD profile) and the errors of bad parameters. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "mtb/problem.h"
#include "mtb/synth.h"

static mtb_dataset make(int sep)
{
    mtb_lsdce3_params p;
    mtb_lsdce3_params_default(&p, sep, 0);
    mtb_dataset ds;
    mtb_error err = {0};
    cr_assert_eq(mtb_synth_lsdce3(&p, &ds, &err), MTB_OK, "%s", err.msg);
    return ds;
}

static void assert_rate(size_t k, size_t n, double p, const char *what)
{
    double f = (double)k / (double)n, se = sqrt(p * (1.0 - p) / (double)n);
    cr_assert(fabs(f - p) <= 4.0 * se + 1e-12, "%s: %zu of %zu = %.5f, expected %g (4 SE %.5f)",
              what, k, n, f, p, 4.0 * se);
}

Test(lsdce3, layout_noise_rates_and_determinism)
{
    mtb_dataset a = make(0), b = make(0);
    cr_assert_eq(a.T, 3);
    cr_assert_eq(a.y_width, 6);
    cr_assert_eq(a.train.n, 9000);
    cr_assert_eq(a.test.n, 1000);
    cr_assert(!memcmp(a.train.y, b.train.y, a.train.n * 6 * sizeof *a.train.y));
    cr_assert(!memcmp(a.train.x, b.train.x, a.train.n * (size_t)a.d_in * sizeof *a.train.x));
    const double rate[3] = {0.0, 0.1, 0.3};
    for (int t = 0; t < 3; t++) {
        cr_assert_eq(a.tasks[t].loss, MTB_LOSS_CE);
        cr_assert_eq(a.tasks[t].out_width, 31);
        cr_assert_eq(a.tasks[t].target_offset, t);
        size_t moved = 0, used[31] = {0};
        for (size_t r = 0; r < a.train.n; r++) {
            const float *y = a.train.y + r * 6;
            cr_assert(y[t] >= 0 && y[t] < 31 && y[3 + t] >= 0 && y[3 + t] < 31);
            moved += y[t] != y[3 + t];
            used[(int)y[3 + t]]++;
        }
        char what[32];
        snprintf(what, sizeof what, "task %d noise", t + 1);
        assert_rate(moved, a.train.n, rate[t], what);
        int classes_seen = 0;
        for (int c = 0; c < 31; c++)
            classes_seen += used[c] > 0;
        cr_assert(classes_seen >= 25, "task %d: only %d of 31 classes occur", t + 1, classes_seen);
    }
    mtb_dataset_free(&a);
    mtb_dataset_free(&b);
}

Test(lsdce3, sep_variant_changes_only_task_1)
{
    mtb_dataset a = make(0), s = make(1);
    cr_assert_eq(s.tasks[0].out_width, 2);
    cr_assert(!memcmp(a.train.x, s.train.x, a.train.n * (size_t)a.d_in * sizeof *a.train.x));
    size_t ones = 0;
    for (size_t r = 0; r < s.train.n; r++) {
        const float *ya = a.train.y + r * 6, *ys = s.train.y + r * 6;
        cr_assert(ys[0] == 0.0f || ys[0] == 1.0f);
        cr_assert_eq(ys[0], ys[3], "task 1 of -sep has no label noise");
        ones += ys[0] == 1.0f;
        for (int t = 1; t < 3; t++) {
            cr_assert_eq(ya[t], ys[t], "row %zu task %d", r, t + 1);
            cr_assert_eq(ya[3 + t], ys[3 + t]);
        }
    }
    assert_rate(ones, s.train.n, 0.5, "task 1 of -sep, share of label 1");
    mtb_dataset_free(&a);
    mtb_dataset_free(&s);
}

Test(lsdce3, registry_protocols)
{
    const char *names[4] = {"lsd-ce3", "lsd-ce3-sep", "lsd-ce3-sgd", "lsd-ce3-sep-sgd"};
    for (int i = 0; i < 4; i++) {
        mtb_problem p;
        mtb_error err = {0};
        cr_assert_eq(mtb_problem_lookup(names[i], "paper", &p, &err), MTB_OK, "%s", err.msg);
        cr_assert_eq(p.T, 3);
        cr_assert_eq(p.proto.steps, 4000);
        cr_assert_eq(p.proto.batch, 256);
        if (i >= 2) {
            cr_assert_eq(p.proto.optim.kind, MTB_OPT_SGD);
            cr_assert_float_eq(p.proto.optim.lr, 0.05, 1e-15);
            cr_assert_float_eq(p.proto.optim.momentum, 0.9, 1e-15);
        } else {
            cr_assert_eq(p.proto.optim.kind, MTB_OPT_ADAM);
            cr_assert_float_eq(p.proto.optim.lr, 7e-4, 1e-15);
        }
        for (int t = 0; t < 3; t++)
            cr_assert_eq(p.tasks[t].metric.kind, MTB_METRIC_ACCURACY);
        mtb_dataset ds;
        cr_assert_eq(mtb_problem_make_dataset(&p, &ds, &err), MTB_OK, "%s", err.msg);
        cr_assert_eq(ds.tasks[0].out_width, i % 2 ? 2 : 31);
        mtb_dataset_free(&ds);
    }
    mtb_problem p;
    mtb_error err = {0};
    cr_assert_eq(mtb_problem_lookup("lsd-ce3", "smoke", &p, &err), MTB_OK);
    cr_assert_eq(p.proto.steps, 400);
    cr_assert_eq(mtb_problem_lookup("lsd-ce4", "paper", &p, &err), MTB_EINVAL);
}

Test(lsdce3, bad_parameters_are_errors)
{
    mtb_lsdce3_params p;
    mtb_dataset ds;
    mtb_error err = {0};
    mtb_lsdce3_params_default(&p, 2, 0);
    cr_assert_eq(mtb_synth_lsdce3(&p, &ds, &err), MTB_EINVAL);
    cr_assert(strstr(err.msg, "sep"), "%s", err.msg);
    mtb_lsdce3_params_default(&p, 0, 0);
    p.n_train = p.n_total;
    cr_assert_eq(mtb_synth_lsdce3(&p, &ds, &err), MTB_EINVAL);
    cr_assert(strstr(err.msg, "n_train"), "%s", err.msg);
}
