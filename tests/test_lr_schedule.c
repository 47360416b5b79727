/* test_lr_schedule.c: the learning-rate schedule of the optimiser config (optim.h): the
 * poly factor (1 - k/K)^power at every update (imtl.md sec. 1, IMTL App. D), its use by both
 * optimisers' steps, the problems' SGD profile and @lr= / @val options (problems.c), the
 * validation split, and the schedule recorded in the run file. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "io_testutil.h"
#include "mtb/h5.h"
#include "mtb/optim.h"
#include "mtb/problem.h"
#include "mtb/synth.h"
#include "run_testutil.h"

static mtb_optim_config poly_sgd(double lr, double momentum, long K)
{
    mtb_optim_config c;
    mtb_optim_config_sgd(&c, lr, momentum);
    c.schedule = MTB_LR_POLY;
    c.lr_power = 0.9;
    c.lr_steps = K;
    return c;
}

/* lr_k = base (1 - k/K)^0.9, exactly as written, at every k of a 6 000-step run; 1 at k = 0,
 * (1/K)^0.9 at the last update, 0 from K on; the constant schedule is 1 everywhere. */
Test(lr_schedule, poly_factor_is_base_times_one_minus_k_over_K_to_the_power)
{
    const long K = 6000;
    mtb_optim_config c = poly_sgd(3e-2, 0.9, K), k0;
    mtb_error err = {0};
    cr_assert_eq(mtb_optim_config_check(&c, &err), MTB_OK, "%s", err.msg);
    for (long k = 0; k < K; k++) {
        double want = 3e-2 * pow(1.0 - (double)k / (double)K, 0.9);
        cr_assert(c.lr * mtb_optim_lr_factor(&c, k) == want, "k = %ld: %.17g, want %.17g", k,
                  c.lr * mtb_optim_lr_factor(&c, k), want);
        /* an independent form of the same number */
        cr_assert_float_eq(mtb_optim_lr_factor(&c, k), exp(0.9 * log((double)(K - k) / K)), 1e-14);
    }
    cr_assert(mtb_optim_lr_factor(&c, 0) == 1.0);
    cr_assert_float_eq(mtb_optim_lr_factor(&c, K - 1), pow(1.0 / K, 0.9), 1e-12 * pow(1.0 / K, 0.9));
    cr_assert(mtb_optim_lr_factor(&c, K) == 0.0 && mtb_optim_lr_factor(&c, K + 5) == 0.0);
    mtb_optim_config_adam(&k0, 1e-3);
    cr_assert_eq(k0.schedule, MTB_LR_CONSTANT, "the default is constant");
    for (long k = 0; k < 100000; k += 997)
        cr_assert(mtb_optim_lr_factor(&k0, k) == 1.0);
    cr_assert_str_eq(mtb_lr_schedule_name(MTB_LR_POLY), "poly");
    cr_assert_str_eq(mtb_lr_schedule_name(MTB_LR_CONSTANT), "constant");
}

Test(lr_schedule, bad_schedules_are_clear_errors)
{
    mtb_error err = {0};
    mtb_optim_config c = poly_sgd(1e-2, 0.9, 100);
    c.lr_power = 0.0;
    cr_assert_eq(mtb_optim_config_check(&c, &err), MTB_EINVAL);
    cr_assert(strstr(err.msg, "power"), "%s", err.msg);
    c = poly_sgd(1e-2, 0.9, 0);
    cr_assert_eq(mtb_optim_config_check(&c, &err), MTB_EINVAL);
    cr_assert(strstr(err.msg, "horizon"), "%s", err.msg);
    c = poly_sgd(1e-2, 0.9, 100);
    c.schedule = (mtb_lr_schedule)7;
    cr_assert_eq(mtb_optim_config_check(&c, &err), MTB_EINVAL);
}

/* Each update of the float optimiser moves by exactly (float) lr_k: plain SGD from theta = 0
 * with a unit gradient lands on -lr_k; with momentum the buffer is the running sum, so the
 * update is lr_k times it. The double step of the learned scalars does the same. */
Test(lr_schedule, both_optimiser_steps_use_lr_k)
{
    const long K = 50;
    mtb_error err = {0};
    for (int mom = 0; mom < 2; mom++) {
        mtb_optim_config c = poly_sgd(0.1, mom ? 0.9 : 0.0, K);
        mtb_optim o;
        cr_assert_eq(mtb_optim_init(&o, &c, 3, &err), MTB_OK, "%s", err.msg);
        double buf = 0.0, m64 = 0.0, v64 = 0.0;
        for (long k = 0; k < K; k++) {
            float theta[3] = {0, 0, 0}, g[3] = {1, 1, 1};
            mtb_optim_step(&o, theta, g);
            buf = k == 0 ? 1.0 : c.momentum * buf + 1.0;
            float want = -((float)(0.1 * mtb_optim_lr_factor(&c, k)) * (float)buf);
            if (!mom)
                cr_assert(theta[0] == want && theta[2] == want, "k = %ld: %.9g, want %.9g", k,
                          theta[0], want);
            else
                cr_assert_float_eq(theta[1], want, 4e-7 * fabs(want) + 1e-30, "k = %ld", k);
            double x = 0.0, g64 = 1.0;
            mtb_optim_step_f64(&c, k + 1, 1, &x, &g64, &m64, &v64);
            cr_assert_float_eq(x, -0.1 * mtb_optim_lr_factor(&c, k) * buf, 1e-15, "k = %ld", k);
        }
        mtb_optim_free(&o);
    }
}

static mtb_problem *lookup(const char *name)
{
    static mtb_problem p;
    mtb_error err = {0};
    cr_assert_eq(mtb_problem_lookup(name, "paper", &p, &err), MTB_OK, "%s: %s", name, err.msg);
    return &p;
}

static void assert_sgd_profile(const mtb_problem *p, double lr)
{
    const mtb_optim_config *o = &p->proto.optim;
    cr_assert_eq(o->kind, MTB_OPT_SGD, "%s", p->name);
    cr_assert(o->lr == lr, "%s: lr %g, want %g", p->name, o->lr, lr);
    cr_assert(o->momentum == 0.9 && o->weight_decay == 1e-4 && o->decoupled_wd == 0, "%s", p->name);
    cr_assert(o->schedule == MTB_LR_POLY && o->lr_power == 0.9, "%s", p->name);
}

/* imtl.md sec. 1's SGD profile on every LSD-6 / LSD-3C name, with the base lr of @lr=; the
 * rest of the problem (tasks, scales, steps) is the name without the suffix. */
Test(lr_schedule, sgd_problem_variants_and_the_lr_option)
{
    assert_sgd_profile(lookup("lsd3c-sgd"), 1e-2);
    assert_sgd_profile(lookup("lsd6-sgd"), 1e-2);
    mtb_problem *p = lookup("lsd3cx10@1-sgd@lr=0.003");
    assert_sgd_profile(p, 0.003);
    cr_assert_eq(p->T, 3);
    cr_assert(p->tasks[0].loss_scale == 10.0 && p->tasks[1].loss_scale == 1.0);
    cr_assert_str_eq(p->name, "lsd3cx10@1-sgd@lr=0.003");
    cr_assert_eq(p->proto.steps, 6000);
    p = lookup("lsd6x10@5-sgd@lr=0.1");
    assert_sgd_profile(p, 0.1);
    cr_assert(p->tasks[4].loss_scale == 10.0);
    /* @lr= on any problem, the optimiser otherwise kept */
    p = lookup("lsd3c@lr=0.03");
    cr_assert(p->proto.optim.kind == MTB_OPT_ADAM && p->proto.optim.lr == 0.03);
    cr_assert_eq(p->proto.optim.schedule, MTB_LR_CONSTANT);
    p = lookup("lsd-ce3-sgd@lr=0.2");
    cr_assert(p->proto.optim.kind == MTB_OPT_SGD && p->proto.optim.lr == 0.2);
    cr_assert_eq(p->proto.optim.schedule, MTB_LR_CONSTANT, "dbmtl.md's own SGD profile");
    /* the option order is free */
    p = lookup("lsd6-sgd@val@lr=0.03");
    assert_sgd_profile(p, 0.03);
    cr_assert(strstr(p->data_params, "val="));
    mtb_problem q;
    mtb_error err = {0};
    const char *bad[] = {"lsd3c@lr=0", "lsd3c@lr=-1", "lsd3c@lr=abc", "lsd3c@lr=", "lsd3c@lr=inf",
                         "lsd3c@valx", "lsd3c-sgd@lr=0.1@nope", "mtr-sgd"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        cr_assert_eq(mtb_problem_lookup(bad[i], "paper", &q, &err), MTB_EINVAL, "%s", bad[i]);
        cr_assert(err.msg[0], "%s: no message", bad[i]);
    }
}

/* @val: the evaluation split is the last 20 % of the training set, which is no longer
 * trained on; the test split is not used. */
Test(lr_schedule, val_option_holds_out_the_end_of_the_training_set)
{
    mtb_error err = {0};
    mtb_dataset full, val;
    cr_assert_eq(mtb_problem_make_dataset(lookup("lsd3c"), &full, &err), MTB_OK, "%s", err.msg);
    cr_assert_eq(mtb_problem_make_dataset(lookup("lsd3c-sgd@val"), &val, &err), MTB_OK, "%s",
                 err.msg);
    const size_t d = (size_t)full.d_in, yw = (size_t)full.y_width, nv = full.train.n / 5;
    cr_assert_eq(val.test.n, nv);
    cr_assert_eq(val.train.n, full.train.n - nv);
    cr_assert(!memcmp(val.train.x, full.train.x, sizeof(float) * val.train.n * d));
    cr_assert(!memcmp(val.test.x, full.train.x + val.train.n * d, sizeof(float) * nv * d));
    cr_assert(!memcmp(val.test.y, full.train.y + val.train.n * yw, sizeof(float) * nv * yw));
    cr_assert(strstr(val.generator, "val=0.2"), "the generator parameters say so: %s", val.generator);
    /* the unsplit data (as from a file) is refused for a @val problem, not silently tested */
    cr_assert_eq(mtb_problem_check_dataset(lookup("lsd3c-sgd@val"), &full, &err), MTB_EINVAL);
    cr_assert(strstr(err.msg, "@val"), "%s", err.msg);
    cr_assert_eq(mtb_problem_check_dataset(lookup("lsd3c-sgd@val"), &val, &err), MTB_OK, "%s", err.msg);
    mtb_dataset_free(&full);
    mtb_dataset_free(&val);
}

/* A run under the poly schedule records it: lr_schedule, lr_power and the horizon (the
 * run's step count); and it trains differently from the constant lr (the schedule is used). */
Test(lr_schedule, run_file_records_the_schedule)
{
    char dir[IO_TMP_LEN], path[IO_PATH_LEN];
    io_tmpdir(dir);
    mtb_mtr_params mp;
    mtb_mtr_params_default(&mp, 3, 9);
    mp.n_total = 600;
    mp.n_train = 500;
    mtb_dataset ds;
    mtb_error err = {0};
    cr_assert_eq(mtb_synth_mtr(&mp, &ds, &err), MTB_OK, "%s", err.msg);
    double last_loss[2];
    for (int poly = 0; poly < 2; poly++) {
        test_run_config c;
        test_run_config_default(&c);
        c.steps = 40;
        c.batch = 64;
        c.eval_every = 10;
        for (int i = 0; i < 4; i++)
            c.widths[i] = 16;
        c.optim = poly_sgd(1e-2, 0.9, 0); /* horizon 0: the run's step count (run.c) */
        if (!poly)
            c.optim.schedule = MTB_LR_CONSTANT;
        mtb_run_log log;
        cr_assert_eq(test_run_train(&c, &ds, &log, &err), MTB_OK, "%s", err.msg);
        last_loss[poly] = log.eval_test_loss[(size_t)(log.n_eval - 1) * 3];
        cr_assert_eq(test_run_save(io_path(path, dir, "r.h5"), &c, &ds, NULL, &log, &err), MTB_OK,
                     "%s", err.msg);
        mtb_run_log_free(&log);
        mtb_h5 *f = mtb_h5_open(path, &err);
        cr_assert(f, "%s", err.msg);
        char sched[32];
        double power;
        int64_t K;
        cr_assert_eq(mtb_h5_attr_get_str(f, "/", "lr_schedule", sched, sizeof sched, &err), MTB_OK,
                     "%s", err.msg);
        cr_assert_str_eq(sched, poly ? "poly" : "constant");
        cr_assert_eq(mtb_h5_attr_get_f64(f, "/", "lr_power", &power, &err), MTB_OK, "%s", err.msg);
        cr_assert_eq(mtb_h5_attr_get_i64(f, "/", "lr_steps", &K, &err), MTB_OK, "%s", err.msg);
        if (poly)
            cr_assert(power == 0.9 && K == 40, "power %g, K %lld", power, (long long)K);
        mtb_h5_close(f);
    }
    cr_assert(last_loss[0] != last_loss[1], "the schedule changes the run");
    mtb_dataset_free(&ds);
    io_rmtree(dir);
}
