/* test_problem.c: benchmark problems as data (problem.h), per-task metrics (metric.h), the
 * reference runs STL and OC (run.h), the run file's summary and the job API (job.h). */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "io_testutil.h"
#include "mtb/job.h"
#include "mtb/metric.h"
#include "mtb/problem.h"
#include "mtb/run.h"
#include "mtb/synth.h"

static mtb_problem *lookup(const char *name, const char *scale)
{
    mtb_problem *p = malloc(sizeof *p);
    mtb_error err = {0};
    cr_assert_eq(mtb_problem_lookup(name, scale, p, &err), MTB_OK, "%s: %s", name, err.msg);
    return p;
}

static void expect_bad(const char *name, const char *scale, const char *needle)
{
    mtb_problem *p = malloc(sizeof *p);
    mtb_error err = {0};
    cr_assert_neq(mtb_problem_lookup(name, scale, p, &err), MTB_OK, "%s was accepted", name);
    cr_assert(strstr(err.msg, needle), "'%s': message '%s' lacks '%s'", name, err.msg, needle);
    free(p);
}

/* mtr is today's SLAW setting, unchanged (SLAW spec sec. 2). */
Test(problem, mtr_is_the_slaw_setting)
{
    mtb_problem *p = lookup("mtr", NULL);
    cr_assert_eq(p->T, 10);
    cr_assert_eq(p->proto.steps, 9900);
    cr_assert_eq(p->proto.batch, 304);
    cr_assert_eq(p->proto.drop_last, 0);
    cr_assert_eq(p->proto.eval_every, 33);
    cr_assert_eq(p->proto.eval_initial, 0);
    cr_assert_eq(p->proto.nl_window, 30);
    cr_assert_float_eq(p->proto.optim.lr, 7e-4, 1e-15);
    cr_assert_float_eq(p->proto.optim.eps, 1e-5, 1e-18);
    cr_assert_float_eq(p->proto.clip_norm, 0.5, 0);
    cr_assert_float_eq(p->proto.init_gain, sqrt(2.0), 1e-15);
    for (int t = 0; t < 10; t++) {
        cr_assert_eq(p->tasks[t].metric.kind, MTB_METRIC_NMSE);
        cr_assert_float_eq(p->tasks[t].metric.ref, t + 1.0, 0);
    }
    free(p);
}

/* LSD-6 exactly as rlw.md sec. 2: heads, output scales, metrics, protocol. */
Test(problem, lsd6_follows_the_spec)
{
    mtb_problem *p = lookup("lsd6", "paper");
    const double sig[4] = {1, 30, 1000, 10};
    const mtb_metric_kind kinds[6] = {MTB_METRIC_NMSE, MTB_METRIC_NMSE, MTB_METRIC_NMSE,
                                      MTB_METRIC_MAE_REL, MTB_METRIC_ACCURACY,
                                      MTB_METRIC_BIT_ACCURACY};
    cr_assert_eq(p->T, 6);
    for (int t = 0; t < 6; t++) {
        cr_assert_eq(p->tasks[t].metric.kind, kinds[t], "task %d", t + 1);
        cr_assert_float_eq(p->tasks[t].out_scale, t < 4 ? sig[t] : 1.0, 0);
        cr_assert_float_eq(p->tasks[t].loss_scale, 1.0, 0);
    }
    cr_assert_eq(p->tasks[4].metric_clean.target_offset, MTB_LSD6_CLEAN_T5);
    cr_assert_eq(p->tasks[5].metric_clean.target_offset, MTB_LSD6_CLEAN_T6);
    cr_assert_eq(p->proto.steps, 6000);
    cr_assert_eq(p->proto.batch, 256);
    cr_assert_eq(p->proto.drop_last, 1);
    cr_assert_eq(p->proto.eval_every, 200);
    cr_assert_eq(p->proto.eval_initial, 1);
    cr_assert_float_eq(p->proto.clip_norm, 0.0, 0);
    cr_assert_float_eq(p->proto.optim.eps, 1e-8, 1e-20);
    /* OC: (1/s1^2, 1/s2^2, 1/s3^2, 1/s4, 1, 1) rescaled to sum 6 */
    double w[6], raw[6] = {1, 1.0 / 900, 1e-6, 0.1, 1, 1}, s = 0;
    mtb_problem_oc_weights(p, w);
    for (int t = 0; t < 6; t++)
        s += raw[t];
    for (int t = 0; t < 6; t++)
        cr_assert_float_eq(w[t], 6 * raw[t] / s, 1e-14, "OC weight %d", t + 1);
    free(p);
    mtb_problem *q = lookup("lsd6", "smoke");
    cr_assert_eq(q->proto.steps, 600);
    cr_assert_eq(q->proto.eval_every, 100);
    free(q);
}

Test(problem, lsd6_variants)
{
    mtb_problem *eq = lookup("lsd6-eq", NULL);
    double w[6];
    mtb_problem_oc_weights(eq, w);
    for (int t = 0; t < 6; t++) {
        cr_assert_float_eq(w[t], 1.0, 1e-15, "on LSD-6-eq OC equals EW");
        if (t < 4)
            cr_assert_float_eq(eq->tasks[t].out_scale, 1.0, 0);
    }
    free(eq);
    mtb_problem *k = lookup("lsd6x10@3", NULL), *base = lookup("lsd6", NULL);
    cr_assert_float_eq(k->tasks[2].loss_scale, 10.0, 0);
    cr_assert_float_eq(k->tasks[2].oc_weight, base->tasks[2].oc_weight / 10, 1e-20);
    cr_assert_float_eq(k->tasks[0].loss_scale, 1.0, 0);
    free(k);
    free(base);
    mtb_problem *h = lookup("mtr-hom-40", NULL);
    cr_assert_eq(h->T, 40);
    cr_assert_float_eq(h->tasks[39].metric.ref, 1.0, 0);
    cr_assert_eq(h->proto.steps, 4000);
    free(h);
    mtb_problem *b = lookup("bce-7", NULL);
    cr_assert_eq(b->T, 7);
    cr_assert_eq(b->tasks[6].metric.kind, MTB_METRIC_BIT_ACCURACY);
    cr_assert_eq(b->tasks[6].metric_clean.target_offset, 13);
    free(b);
}

Test(problem, bad_names_are_clear_errors)
{
    expect_bad("nope", NULL, "mtb problems");
    expect_bad("mtr-0", NULL, "task count");
    expect_bad("mtr-x", NULL, "task count");
    expect_bad("bce-99999", NULL, "task count");
    expect_bad("lsd6x10@7", NULL, "lsd6x<k>@<t>");
    expect_bad("lsd6x0@3", NULL, "> 0");
    expect_bad("lsd6xabc@3", NULL, "> 0");
    expect_bad("lsd6", "huge", "smoke, paper or full");
}

/* ---- metrics -------------------------------------------------------------------------- */

Test(metric, each_kind_by_hand)
{
    mtb_task_spec reg = {MTB_LOSS_MSE, 2, 2, 0, 2.0, 0, {0}};
    float yhat[4] = {1, 2, 3, 4}, y[4] = {1, 0, 0, 4}; /* errors (0, 2), (3, 0) */
    double s = 0, c = 0;
    mtb_metric nmse = {MTB_METRIC_NMSE, 2.0, -1};
    mtb_metric_accumulate(&nmse, &reg, yhat, 2, y, 2, 2, &s, &c);
    /* per sample: mean sq err / 4: (4/2)/4 = 0.5, (9/2)/4 = 1.125 */
    cr_assert_float_eq(s / c, (0.5 + 1.125) / 2, 1e-15);
    s = c = 0;
    mtb_metric mae = {MTB_METRIC_MAE_REL, 2.0, -1};
    mtb_metric_accumulate(&mae, &reg, yhat, 2, y, 2, 2, &s, &c);
    cr_assert_float_eq(s / c, (1.0 / 2 + 1.5 / 2) / 2, 1e-15);

    mtb_task_spec ce = {MTB_LOSS_CE, 3, 1, 0, 1.0, 0, {0}};
    float logits[9] = {0, 5, 1, /* -> 1 */ 2, 0, 1, /* -> 0 */ 0, 0, 9 /* -> 2 */};
    float lab[3] = {1, 2, -1}; /* right, wrong, unlabelled */
    mtb_metric acc = {MTB_METRIC_ACCURACY, 1.0, -1};
    s = c = 0;
    mtb_metric_accumulate(&acc, &ce, logits, 3, lab, 1, 3, &s, &c);
    cr_assert_float_eq(c, 2.0, 0, "unlabelled rows do not count");
    cr_assert_float_eq(s / c, 0.5, 0);
    cr_assert(mtb_metric_higher_is_better(MTB_METRIC_ACCURACY));
    cr_assert(!mtb_metric_higher_is_better(MTB_METRIC_NMSE));

    mtb_task_spec bce = {MTB_LOSS_BCE, 2, 2, 0, 1.0, 0, {0}};
    float z[4] = {1, -1, -2, 3}, bits[8] = {1, 0, 9, 9, /* clean: */ 0, 0, 9, 9};
    float bits2[8] = {0, 1, 9, 9, 1, 1, 9, 9};
    (void)bits2;
    mtb_metric bit = {MTB_METRIC_BIT_ACCURACY, 1.0, -1};
    s = c = 0;
    /* row 0: bits (1, 0) vs (z > 0) = (1, 0): 1; row 1: targets at columns 0..1 of row 1 */
    float yy[8] = {1, 0, 7, 7, 1, 1, 7, 7};
    mtb_metric_accumulate(&bit, &bce, z, 2, yy, 4, 2, &s, &c);
    cr_assert_float_eq(s / c, (1.0 + 0.5) / 2, 1e-15);
    /* the clean metric reads another column block of the same row */
    mtb_metric clean = {MTB_METRIC_BIT_ACCURACY, 1.0, 2};
    float yc[8] = {7, 7, 1, 1, 7, 7, 0, 1};
    s = c = 0;
    mtb_metric_accumulate(&clean, &bce, z, 2, yc, 4, 2, &s, &c);
    cr_assert_float_eq(s / c, (0.5 + 1.0) / 2, 1e-15);
    (void)bits;
}

/* ---- runs: STL and OC ------------------------------------------------------------------ */

static void small_mtr(mtb_dataset *ds, int T)
{
    mtb_mtr_params p;
    mtb_mtr_params_default(&p, T, 9);
    p.n_total = 400;
    p.n_train = 320;
    mtb_error err = {0};
    cr_assert_eq(mtb_synth_mtr(&p, ds, &err), MTB_OK, "%s", err.msg);
}

static mtb_problem *small_problem(int T)
{
    char name[32];
    snprintf(name, sizeof name, "mtr-%d", T);
    mtb_problem *p = lookup(name, "paper");
    p->proto.steps = 30;
    p->proto.batch = 64;
    p->proto.eval_every = 10;
    for (int i = 0; i < 4; i++)
        p->proto.widths[i] = 8;
    return p;
}

static void train(const mtb_problem *p, const mtb_dataset *ds, const char *method, mtb_run_log *log)
{
    mtb_run_config c = {p, "", "", 4, 0, 1, 0, 0};
    snprintf(c.method, sizeof c.method, "%s", method);
    mtb_error err = {0};
    cr_assert_eq(mtb_run_train(&c, ds, log, NULL, NULL, &err), MTB_OK, "%s: %s", method, err.msg);
}

/* With one task, STL is the multi-task EW run itself, bit for bit. */
Test(reference, stl_of_one_task_is_ew)
{
    mtb_dataset ds = {0};
    small_mtr(&ds, 1);
    mtb_problem *p = small_problem(1);
    mtb_run_log a, b;
    train(p, &ds, "stl", &a);
    train(p, &ds, "ew", &b);
    cr_assert_eq(a.n_eval, b.n_eval);
    cr_assert(!memcmp(a.loss, b.loss, sizeof(double) * (size_t)a.steps));
    cr_assert(!memcmp(a.eval_metric, b.eval_metric, sizeof(double) * (size_t)a.n_eval));
    mtb_run_log_free(&a), mtb_run_log_free(&b);
    free(p);
    mtb_dataset_free(&ds);
}

/* STL trains one network per task: task 3's column cannot depend on the other tasks'
 * targets, while an EW run's does. */
Test(reference, stl_networks_are_independent)
{
    mtb_dataset ds = {0};
    small_mtr(&ds, 3);
    mtb_problem *p = small_problem(3);
    mtb_run_log a, b, ea, eb;
    train(p, &ds, "stl", &a);
    train(p, &ds, "ew", &ea);
    for (size_t i = 0; i < ds.train.n; i++)
        for (int k = 0; k < 200; k++) /* tasks 1 and 2: columns 0..199 */
            ds.train.y[i * (size_t)ds.y_width + (size_t)k] *= -1.0f;
    train(p, &ds, "stl", &b);
    train(p, &ds, "ew", &eb);
    const long E = a.n_eval;
    for (long e = 0; e < E; e++)
        cr_assert_eq(a.eval_metric[e * 3 + 2], b.eval_metric[e * 3 + 2], "STL task 3, eval %ld", e);
    cr_assert_neq(ea.eval_metric[(E - 1) * 3 + 2], eb.eval_metric[(E - 1) * 3 + 2],
                  "the multi-task run shares its trunk: task 3 must move");
    mtb_run_log_free(&a), mtb_run_log_free(&b), mtb_run_log_free(&ea), mtb_run_log_free(&eb);
    free(p);
    mtb_dataset_free(&ds);
}

/* OC: the oracle weights (1/sigma^2 on mtr, sum T) as constant trunk and head weights, so
 * its loss weight error is 0; "ideal" is the same run. */
Test(reference, oc_uses_the_oracle_weights)
{
    mtb_dataset ds = {0};
    small_mtr(&ds, 3);
    mtb_problem *p = small_problem(3);
    mtb_run_log a, b;
    train(p, &ds, "oc", &a);
    train(p, &ds, "ideal", &b);
    double w[3];
    mtb_problem_oc_weights(p, w);
    const double s = 1 + 0.25 + 1.0 / 9;
    for (int t = 0; t < 3; t++) {
        cr_assert_float_eq(w[t], 3.0 / ((t + 1.0) * (t + 1.0)) / s, 1e-15);
        cr_assert_float_eq(a.trunk_w[t], w[t], 1e-15);
        cr_assert_float_eq(a.head_w[t], w[t], 1e-15);
    }
    cr_assert_float_eq(a.lwe[a.steps - 1], 0.0, 1e-20);
    cr_assert(!memcmp(a.eval_metric, b.eval_metric, sizeof(double) * 3 * (size_t)a.n_eval));
    mtb_run_log_free(&a), mtb_run_log_free(&b);
    free(p);
    mtb_dataset_free(&ds);
}

/* The evaluation schedule: the initial model (step -1), after every eval_every updates, and
 * the last step; dropping the last partial batch. */
Test(reference, lsd6_style_schedule)
{
    mtb_dataset ds = {0};
    small_mtr(&ds, 2);
    mtb_problem *p = small_problem(2);
    p->proto.eval_initial = 1;
    p->proto.eval_after_updates = 1;
    p->proto.drop_last = 1;
    p->proto.steps = 25;
    mtb_run_log a;
    train(p, &ds, "ew", &a);
    const int64_t want[4] = {-1, 9, 19, 24};
    cr_assert_eq(a.n_eval, 4);
    for (int e = 0; e < 4; e++)
        cr_assert_eq(a.eval_step[e], want[e], "evaluation %d at step %lld", e, (long long)a.eval_step[e]);
    cr_assert(isnan(a.eval_train_nl[0]), "no train NL before the first step");
    mtb_run_log_free(&a);
    free(p);
    mtb_dataset_free(&ds);
}

/* ---- run files and jobs ------------------------------------------------------------------ */

Test(job, run_writes_a_verifiable_file_with_metrics)
{
    char dir[IO_TMP_LEN], path[IO_PATH_LEN];
    io_tmpdir(dir);
    io_path(path, dir, "job.h5");
    mtb_job job = {"mtr-hom-2", "smoke", "ew", "", 3};
    mtb_job_cache *cache = mtb_job_cache_new();
    mtb_error err = {0};
    int diverged = 1;
    cr_assert_eq(mtb_job_run(cache, &job, NULL, 1, 0, path, NULL, NULL, &diverged, &err), MTB_OK,
                 "%s", err.msg);
    cr_assert_eq(diverged, 0);
    cr_assert_eq(mtb_job_verify(&job, path, &err), MTB_OK, "%s", err.msg);
    mtb_job other = job;
    other.seed = 4;
    cr_assert_neq(mtb_job_verify(&other, path, &err), MTB_OK);
    cr_assert(strstr(err.msg, "seed"), "%s", err.msg);
    mtb_run_summary *s = malloc(sizeof *s);
    cr_assert_eq(mtb_run_read_summary(path, s, &err), MTB_OK, "%s", err.msg);
    cr_assert_eq(s->T, 2);
    cr_assert_str_eq(s->problem, "mtr-hom-2");
    cr_assert_eq(s->metric[0], MTB_METRIC_NMSE);
    for (int t = 0; t < 2; t++) {
        cr_assert(isfinite(s->metric_last[t]) && s->metric_last[t] > 0, "NMSE %g", s->metric_last[t]);
        cr_assert_leq(s->metric_best[t], s->metric_last[t]);
        cr_assert(isnan(s->metric_clean_last[t]));
    }
    long units = 0;
    cr_assert_eq(mtb_job_units(&job, &units, &err), MTB_OK);
    cr_assert_eq(units, 400);
    /* the same job again gives the same numbers */
    char path2[IO_PATH_LEN];
    io_path(path2, dir, "job2.h5");
    cr_assert_eq(mtb_job_run(cache, &job, NULL, 1, 1, path2, NULL, NULL, NULL, &err), MTB_OK);
    mtb_run_summary *s2 = malloc(sizeof *s2);
    cr_assert_eq(mtb_run_read_summary(path2, s2, &err), MTB_OK, "%s", err.msg);
    cr_assert(!memcmp(s->metric_last, s2->metric_last, sizeof(double) * 2));
    cr_assert_eq(s2->resumed, 1);
    /* a truncated file is not a complete run */
    FILE *f = fopen(path2, "r+b");
    cr_assert(f);
    cr_assert_eq(ftruncate(fileno(f), 2000), 0);
    fclose(f);
    cr_assert_neq(mtb_job_verify(&job, path2, &err), MTB_OK);
    free(s), free(s2);
    mtb_job_cache_free(cache);
    io_rmtree(dir);
}

/* LSD-6 at smoke scale, every reference: metrics finite, in range, noisy-label accuracy at
 * most its clean ceiling plus noise. */
Test(job, lsd6_smoke_runs_with_every_metric, .timeout = 120)
{
    char dir[IO_TMP_LEN], path[IO_PATH_LEN];
    io_tmpdir(dir);
    io_path(path, dir, "lsd6.h5");
    mtb_job job = {"lsd6", "smoke", "ew", "", 0};
    mtb_job_cache *cache = mtb_job_cache_new();
    mtb_error err = {0};
    cr_assert_eq(mtb_job_run(cache, &job, NULL, 1, 0, path, NULL, NULL, NULL, &err), MTB_OK, "%s",
                 err.msg);
    mtb_run_summary *s = malloc(sizeof *s);
    cr_assert_eq(mtb_run_read_summary(path, s, &err), MTB_OK, "%s", err.msg);
    for (int t = 0; t < 4; t++)
        cr_assert(s->metric_last[t] > 0 && s->metric_last[t] < 2, "task %d: %g", t + 1, s->metric_last[t]);
    for (int t = 4; t < 6; t++) {
        cr_assert(s->metric_last[t] > 0.1 && s->metric_last[t] <= 1, "task %d: %g", t + 1, s->metric_last[t]);
        cr_assert(s->metric_clean_last[t] > 0.1 && s->metric_clean_last[t] <= 1);
    }
    /* 600 EW steps learn the easy t1 (zero predictor: NMSE 0.576) */
    cr_assert_lt(s->metric_last[0], 0.576, "t1 NMSE %g did not fall", s->metric_last[0]);
    free(s);
    mtb_job_cache_free(cache);
    io_rmtree(dir);
}

/* ---- runs on the Gram path and with skip-zero-heads (run.h) --------------------------- */

static void train_cfg(const mtb_problem *p, const mtb_dataset *ds, const char *method, const char *opts,
                      int gram, int skip, mtb_run_log *log)
{
    mtb_run_config c = {p, "", "", 4, 0, 1, gram, skip};
    snprintf(c.method, sizeof c.method, "%s", method);
    snprintf(c.options, sizeof c.options, "%s", opts);
    mtb_error err = {0};
    cr_assert_eq(mtb_run_train(&c, ds, log, NULL, NULL, &err), MTB_OK, "%s: %s", method, err.msg);
}

static double max_rel_diff(const double *a, const double *b, size_t n)
{
    double num = 0.0, den = 0.0;
    for (size_t i = 0; i < n; i++)
        num = fmax(num, fabs(a[i] - b[i])), den = fmax(den, fabs(b[i]));
    return num / den;
}

/* --gram: MGDA and Nash-MTL train the same run to float rounding on both paths; a method
 * that needs G itself, and a pre-transform, are refused before any work with a message. */
Test(reference, gram_path_run_follows_the_jacobian_run)
{
    mtb_dataset ds = {0};
    small_mtr(&ds, 3);
    mtb_problem *p = small_problem(3);
    static const char *M[2] = {"mgda", "nash_mtl"};
    for (int i = 0; i < 2; i++) {
        mtb_run_log a, b;
        train_cfg(p, &ds, M[i], "", 0, 0, &a);
        train_cfg(p, &ds, M[i], "", 1, 0, &b);
        size_t n = (size_t)a.n_eval * 3;
        cr_assert_eq(a.n_eval, b.n_eval);
        double d = max_rel_diff(b.eval_metric, a.eval_metric, n);
        cr_assert_lt(d, 1e-4, "%s: Gram-path metrics differ by %g", M[i], d);
        cr_assert_lt(a.eval_metric[n - 1], a.eval_metric[2], "%s did not learn (NMSE)", M[i]);
        mtb_run_log_free(&a), mtb_run_log_free(&b);
    }
    mtb_run_config c = {p, "pcgrad", "", 4, 0, 1, 1, 0};
    mtb_error err = {0};
    cr_assert_eq(mtb_run_config_check(&c, &err), MTB_EINVAL);
    cr_assert_not_null(strstr(err.msg, "--gram"), "%s", err.msg);
    mtb_run_config l = {p, "mgda", "pre=log", 4, 0, 1, 1, 0};
    cr_assert_eq(mtb_run_config_check(&l, &err), MTB_EINVAL);
    cr_assert_not_null(strstr(err.msg, "pre-transform"), "%s", err.msg);
    free(p);
    mtb_dataset_free(&ds);
}

/* --skip-zero-heads: c-Bernoulli RLW trains the same run to float rounding. */
Test(reference, skip_zero_heads_run_follows_the_full_run)
{
    mtb_dataset ds = {0};
    small_mtr(&ds, 3);
    mtb_problem *p = small_problem(3);
    mtb_run_log a, b;
    train_cfg(p, &ds, "rlw", "dist=constrained_bernoulli", 0, 0, &a);
    train_cfg(p, &ds, "rlw", "dist=constrained_bernoulli", 0, 1, &b);
    size_t n = (size_t)a.n_eval * 3;
    double d = max_rel_diff(b.eval_metric, a.eval_metric, n);
    cr_assert_lt(d, 1e-4, "skip-zero-heads metrics differ by %g", d);
    cr_assert(!memcmp(a.head_w, b.head_w, sizeof(double) * (size_t)a.steps * 3), "the draws differ");
    mtb_run_log_free(&a), mtb_run_log_free(&b);
    free(p);
    mtb_dataset_free(&ds);
}
