/* test_multifashion_problem.c: the multifashion problems (spec multifashion.md sec. 3-4):
 * the protocol as the spec fixes it, the smoke subset, runs that are deterministic, common
 * random numbers across methods (same first-step losses: same initial weights and batches),
 * STL on the same footing, and a lenet-pmtl run whose initial loss is that of a fresh
 * 10-class classifier. Needs Debian's dataset-fashion-mnist. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "mtb/multifashion.h"
#include "mtb/problem.h"
#include "mtb/run.h"

static mtb_problem *lookup(const char *name, const char *scale)
{
    static mtb_problem p;
    mtb_error err = {0};
    cr_assert_eq(mtb_problem_lookup(name, scale, &p, &err), MTB_OK, "%s", err.msg);
    return &p;
}

Test(multifashion_problem, protocol_is_the_specs)
{
    const mtb_problem *p = lookup("multifashion", "paper");
    const mtb_protocol *r = &p->proto;
    cr_assert_str_eq(r->trunk, "lenet-pmtl");
    cr_assert_eq(r->init, MTB_INIT_FAN_IN);
    cr_assert(r->optim.kind == MTB_OPT_ADAM && r->optim.lr == 1e-3 && r->optim.beta1 == 0.9 &&
              r->optim.beta2 == 0.999 && r->optim.eps == 1e-8 && r->optim.weight_decay == 0.0);
    cr_assert(r->batch == 256 && r->drop_last == 1 && r->clip_norm == 0.0);
    cr_assert_eq(r->eval_every, 468, "an epoch of 120 000 / 256 dropping the last batch");
    cr_assert_eq(r->steps, 50 * 468);
    cr_assert(r->eval_after_updates == 1);
    cr_assert(p->T == 2 && p->tasks[0].metric.kind == MTB_METRIC_ACCURACY &&
              p->tasks[1].metric.kind == MTB_METRIC_ACCURACY);
    cr_assert(strstr(p->data_params, "n_train=120000") && strstr(p->data_params, "n_test=20000"));
    p = lookup("multifashion-mlp", "paper");
    cr_assert_str_eq(p->proto.trunk, "mlp");
    cr_assert_eq(p->proto.steps, 50 * 468);
    p = lookup("multifashion-e5", "paper");
    cr_assert(p->proto.steps == 5 * 468 && !strcmp(p->proto.trunk, "lenet-pmtl"));
    p = lookup("multifashion-mlp-e30", "paper");
    cr_assert(p->proto.steps == 30 * 468 && !strcmp(p->proto.trunk, "mlp"));
    const char *bad[] = {"multifashion-e0", "multifashion-e", "multifashion-e-3", "multifashion-mlpx",
                         "multifashion-e5-mlp", "multifashionx"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        mtb_problem q;
        mtb_error err = {0};
        cr_assert_eq(mtb_problem_lookup(bad[i], "paper", &q, &err), MTB_EINVAL, "%s", bad[i]);
        cr_assert(strstr(err.msg, "multifashion[-mlp][-e<E>]"), "%s", err.msg);
    }
    p = lookup("multifashion", "smoke");
    cr_assert_str_eq(p->proto.trunk, "mlp", "smoke runs use the mlp trunk (issue 14)");
    cr_assert(p->proto.steps == 2 * 46 && p->proto.eval_every == 46);
    cr_assert(strstr(p->data_params, "n_train=12000") && strstr(p->data_params, "n_test=2000"));
}

Test(multifashion_problem, smoke_dataset_is_the_first_samples_of_the_instance)
{
    const mtb_problem *p = lookup("multifashion", "smoke");
    mtb_dataset ds;
    mtb_error err = {0};
    cr_assert_eq(mtb_problem_make_dataset(p, &ds, &err), MTB_OK, "%s", err.msg);
    cr_assert(ds.train.n == 12000 && ds.test.n == 2000 && ds.d_in == 1296 && ds.T == 2);
    /* the same bytes as the construction's train split */
    mtb_fashion src;
    cr_assert_eq(mtb_fashion_load(NULL, 1, &src, &err), MTB_OK, "%s", err.msg);
    mtb_multifashion mf;
    cr_assert_eq(mtb_multifashion_build(&src, 0, 1u << MTB_MF_TRAIN, &mf, &err), MTB_OK);
    for (size_t i = 0; i < 12000 * MTB_MF_PIXELS; i += 101)
        cr_assert_eq(ds.train.x[i], (float)mf.split[MTB_MF_TRAIN].x[i] / 255.0f);
    mtb_multifashion_free(&mf);
    mtb_fashion_free(&src);
    mtb_dataset_free(&ds);
}

typedef struct run_result {
    double loss0[2], metric[2];
} run_result;

static run_result run(mtb_problem *p, const mtb_dataset *ds, const char *method, uint64_t seed,
                      long steps)
{
    p->proto.steps = steps;
    p->proto.eval_every = (int)steps;
    mtb_run_config cfg = {p, "", "", seed, 0, 1, 0, 0};
    snprintf(cfg.method, sizeof cfg.method, "%s", method);
    mtb_run_log log;
    mtb_error err = {0};
    cr_assert_eq(mtb_run_train(&cfg, ds, &log, NULL, NULL, &err), MTB_OK, "%s: %s", method, err.msg);
    run_result r;
    for (int t = 0; t < 2; t++) {
        r.loss0[t] = log.loss[t];
        r.metric[t] = log.eval_metric[(size_t)(log.n_eval - 1) * 2 + t];
    }
    mtb_run_log_free(&log);
    return r;
}

Test(multifashion_problem, runs_are_deterministic_and_methods_share_random_numbers, .timeout = 120)
{
    mtb_problem *p = lookup("multifashion", "smoke");
    mtb_dataset ds;
    mtb_error err = {0};
    cr_assert_eq(mtb_problem_make_dataset(p, &ds, &err), MTB_OK, "%s", err.msg);
    run_result a = run(p, &ds, "ew", 3, 20), b = run(p, &ds, "ew", 3, 20);
    cr_assert(!memcmp(&a, &b, sizeof a), "the same seed gave different numbers");
    run_result c = run(p, &ds, "ew", 4, 20);
    cr_assert(c.loss0[0] != a.loss0[0], "another seed, another initialisation or batch");
    /* common random numbers: the first step's losses are computed before any method acts */
    const char *methods[] = {"mgda", "pcgrad", "rlw", "imtl_g"};
    for (size_t i = 0; i < sizeof methods / sizeof *methods; i++) {
        run_result m = run(p, &ds, methods[i], 3, 2);
        for (int t = 0; t < 2; t++)
            cr_assert_eq(m.loss0[t], a.loss0[t], "%s: first loss of task %d is %.9g, ew's %.9g",
                         methods[i], t, m.loss0[t], a.loss0[t]);
    }
    /* STL: network 1 has ew's trunk and first head, and sees the same batch; its one-head
     * product rounds differently in the last bits. (Network 2's head is drawn as a first
     * head too, so it is not ew's second head.) */
    run_result m = run(p, &ds, "stl", 3, 2);
    cr_assert(fabs(m.loss0[0] - a.loss0[0]) < 1e-6 * a.loss0[0], "stl: %.9g, ew %.9g", m.loss0[0],
              a.loss0[0]);
    /* 20 steps of EW learn something (chance is 10 %) */
    cr_assert(a.metric[0] > 0.3 && a.metric[1] > 0.3, "accuracy %.3f / %.3f after 20 steps",
              a.metric[0], a.metric[1]);
    mtb_dataset_free(&ds);
}

Test(multifashion_problem, lenet_pmtl_trains_from_a_fresh_classifier, .timeout = 120)
{
    mtb_problem *p = lookup("multifashion", "smoke");
    snprintf(p->proto.trunk, sizeof p->proto.trunk, "lenet-pmtl");
    mtb_dataset ds;
    mtb_error err = {0};
    cr_assert_eq(mtb_problem_make_dataset(p, &ds, &err), MTB_OK, "%s", err.msg);
    ds.test.n = 512; /* a short evaluation */
    run_result r = run(p, &ds, "ew", 0, 6);
    for (int t = 0; t < 2; t++)
        cr_assert(fabs(r.loss0[t] - log(10.0)) < 0.1, "task %d: initial CE %.4f, ln 10 = %.4f", t,
                  r.loss0[t], log(10.0));
    run_result s = run(p, &ds, "pcgrad", 0, 6); /* PARAM gradients through the conv trunk */
    cr_assert(isfinite(s.metric[0]) && isfinite(s.metric[1]));
    ds.test.n = 2000;
    mtb_dataset_free(&ds);
}
