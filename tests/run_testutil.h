/* run_testutil.h: whole training runs of the `mtr-<T>` problem on the small data sets the
 * tests generate, with the protocol fields a test changes in one flat struct. */
#ifndef MTB_RUN_TESTUTIL_H
#define MTB_RUN_TESTUTIL_H

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>

#include "mtb/problem.h"
#include "mtb/run.h"

typedef struct test_run_config {
    char method[64];
    char options[512];
    uint64_t seed;
    long steps;
    int batch, eval_every, n_hidden, widths[MTB_MAX_HIDDEN], task_chunk;
    mtb_optim_config optim;
    double clip_norm;
} test_run_config;

/* The mtr problem's (SLAW) protocol, method ew, seed 0. */
static inline void test_run_config_default(test_run_config *c)
{
    mtb_problem *p = malloc(sizeof *p);
    cr_assert(p);
    mtb_error err = {0};
    cr_assert_eq(mtb_problem_lookup("mtr", "paper", p, &err), MTB_OK, "%s", err.msg);
    *c = (test_run_config){"ew", "", 0, p->proto.steps, p->proto.batch, p->proto.eval_every,
                           p->proto.n_hidden, {0}, 0, p->proto.optim, p->proto.clip_norm};
    for (int i = 0; i < MTB_MAX_HIDDEN; i++)
        c->widths[i] = p->proto.widths[i];
    free(p);
}

/* The problem mtr-<ds->T> with c's protocol fields; the caller frees it. */
static inline mtb_problem *test_run_problem(const test_run_config *c, int T)
{
    mtb_problem *p = malloc(sizeof *p);
    cr_assert(p);
    char name[32];
    snprintf(name, sizeof name, "mtr-%d", T);
    mtb_error err = {0};
    cr_assert_eq(mtb_problem_lookup(name, "paper", p, &err), MTB_OK, "%s", err.msg);
    p->proto.steps = c->steps;
    p->proto.batch = c->batch;
    p->proto.eval_every = c->eval_every;
    p->proto.n_hidden = c->n_hidden;
    for (int i = 0; i < MTB_MAX_HIDDEN; i++)
        p->proto.widths[i] = c->widths[i];
    p->proto.optim = c->optim;
    p->proto.clip_norm = c->clip_norm;
    return p;
}

static inline mtb_run_config test_run_cfg(const test_run_config *c, const mtb_problem *p)
{
    mtb_run_config r = {p, "", "", c->seed, c->task_chunk, 1, 0, 0};
    snprintf(r.method, sizeof r.method, "%s", c->method);
    snprintf(r.options, sizeof r.options, "%s", c->options);
    return r;
}

static inline mtb_status test_run_train(const test_run_config *c, const mtb_dataset *ds,
                                        mtb_run_log *log, mtb_error *err)
{
    mtb_problem *p = test_run_problem(c, ds->T);
    mtb_run_config r = test_run_cfg(c, p);
    mtb_status st = mtb_run_train(&r, ds, log, NULL, NULL, err);
    free(p);
    return st;
}

static inline mtb_status test_run_save(const char *path, const test_run_config *c,
                                       const mtb_dataset *ds, const char *dataset_path,
                                       const mtb_run_log *log, mtb_error *err)
{
    mtb_problem *p = test_run_problem(c, ds->T);
    mtb_run_config r = test_run_cfg(c, p);
    mtb_status st = mtb_run_save(path, &r, ds, dataset_path, log, NULL, err);
    free(p);
    return st;
}

#endif
