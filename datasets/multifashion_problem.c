/* multifashion_problem.c: the benchmark problems on MultiFashion (problem.h, registered in
 * problems.c), protocol of the project's spec multifashion.md sec. 3-4 (docs/multifashion.md):
 *
 *   multifashion       lenet-pmtl trunk (30 890 shared parameters), two heads 50 -> 10
 *   multifashion-mlp   the mlp trunk 1296 -> 256 -> 128 (ours; no published number applies)
 *   ...-e<E>           the same for E epochs instead of 50 (multifashion-e30: the spec's
 *                      development profile; multifashion-e5: make bench-multifashion's
 *                      one-hour profile)
 *
 * Both: tasks t1-tl (class of the top-left item) and t2-br (bottom-right), softmax CE,
 * metric accuracy; PyTorch's default (fan-in uniform) initialisation from the training seed;
 * Adam lr 1e-3, betas (0.9, 0.999), eps 1e-8, no weight decay, no clipping; batch 256 dropping
 * the last partial batch (468 steps an epoch on 120 000 samples); E = 50 epochs; the test set
 * (20 000) evaluated after every epoch, the last evaluation reported (no test-set early
 * stopping). Common random numbers: the run loop draws initialisation and batch order from
 * the training seed alone, so every method of a seed starts from the same weights and sees
 * the same batches; a method's own randomness has its own stream (run.h).
 *
 * Scale smoke (the CI profile of the issue): the mlp trunk on the first 12 000 / 2 000 samples
 * of train / test, 2 epochs. The data set instance is fixed (seed 0) for every run.
 * Source files: MTB_MF_DEFAULT_SOURCE, or the directory in the environment variable
 * MTB_FASHION_MNIST_DIR. */
#include "mtb/multifashion.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EPOCHS 50
#define BATCH 256

static void setup(mtb_problem *p, int mlp, long epochs, int smoke)
{
    snprintf(p->family, sizeof p->family, "multifashion");
    snprintf(p->description, sizeof p->description,
             "MultiFashion (multifashion-v1): two overlaid Fashion-MNIST items, class of each "
             "(spec multifashion.md); trunk %s, %ld epochs", smoke || mlp ? "mlp" : "lenet-pmtl",
             smoke ? 2L : epochs);
    snprintf(p->data_generator, sizeof p->data_generator, "multifashion");
    const size_t n_train = smoke ? 12000 : 120000, n_test = smoke ? 2000 : 20000;
    snprintf(p->data_params, sizeof p->data_params, "recipe=%s,n_train=%zu,n_test=%zu",
             MTB_MF_RECIPE, n_train, n_test);
    p->data_seed = 0;
    p->T = 2;
    static const char *const names[2] = {"t1-tl-ce", "t2-br-ce"};
    for (int t = 0; t < 2; t++) {
        mtb_problem_task *k = &p->tasks[t];
        snprintf(k->name, sizeof k->name, "%s", names[t]);
        k->out_scale = 1.0;
        k->loss_scale = 1.0;
        k->oc_weight = 1.0;
        k->metric = (mtb_metric){MTB_METRIC_ACCURACY, 1.0, -1};
        k->metric_clean = (mtb_metric){MTB_METRIC_NONE, 1.0, -1};
    }
    mtb_protocol *pr = &p->proto;
    /* the dense description is what the named trunk's last layers are, for the run file */
    snprintf(pr->trunk, sizeof pr->trunk, "%s", smoke || mlp ? "mlp" : "lenet-pmtl");
    pr->n_hidden = smoke || mlp ? 2 : 1;
    memset(pr->widths, 0, sizeof pr->widths);
    pr->widths[0] = smoke || mlp ? 256 : 50;
    pr->widths[1] = smoke || mlp ? 128 : 0;
    pr->act = MTB_ACT_RELU;
    pr->init = MTB_INIT_FAN_IN;
    pr->init_gain = 1.0;
    mtb_optim_config_adam(&pr->optim, 1e-3);
    pr->clip_norm = 0.0;
    pr->batch = BATCH;
    pr->drop_last = 1;
    const long per_epoch = (long)(n_train / BATCH);
    pr->steps = (smoke ? 2 : epochs) * per_epoch;
    pr->eval_every = (int)per_epoch;
    pr->eval_initial = 0;
    pr->eval_after_updates = 1;
    pr->nl_window = 0;
}

mtb_status mtb_multifashion_problem(mtb_problem *p, const char *name, int smoke, mtb_error *err)
{
    const char *rest = name + strlen("multifashion");
    int mlp = 0;
    long epochs = EPOCHS;
    if (strncmp(name, "multifashion", strlen("multifashion")))
        goto bad;
    if (!strncmp(rest, "-mlp", 4)) {
        mlp = 1;
        rest += 4;
    }
    if (!strncmp(rest, "-e", 2)) {
        char *end;
        epochs = strtol(rest + 2, &end, 10);
        if (end == rest + 2 || *end || epochs < 1 || epochs > 1000 || rest[2] == '+' || rest[2] == '-')
            goto bad;
        rest = end;
    }
    if (*rest)
        goto bad;
    setup(p, mlp, epochs, smoke);
    return MTB_OK;
bad:
    return mtb_fail(err, MTB_EINVAL, "problem: '%s' should read multifashion[-mlp][-e<E>], e.g. "
                    "multifashion, multifashion-e5, multifashion-mlp (E epochs in 1..1000)", name);
}

/* "key=value,..." -> the value of key as a size, or 0. */
static size_t param_size(const char *params, const char *key)
{
    const char *at = strstr(params, key);
    return at ? (size_t)strtoull(at + strlen(key), NULL, 10) : 0;
}

/* The problem's training form from the train and test splits of the instance: built from the
 * Fashion-MNIST files (path NULL) or read from a multifashion-v1 file. */
static mtb_status problem_dataset(const mtb_problem *p, const char *path, mtb_dataset *ds,
                                  mtb_error *err)
{
    memset(ds, 0, sizeof *ds);
    const size_t n_train = param_size(p->data_params, "n_train="),
                 n_test = param_size(p->data_params, "n_test=");
    if (!n_train || !n_test)
        return mtb_fail(err, MTB_EINVAL, "problem %s: data parameters '%s' lack n_train / n_test",
                        p->name, p->data_params);
    const unsigned splits = 1u << MTB_MF_TRAIN | 1u << MTB_MF_TEST;
    mtb_multifashion mf;
    mtb_status st;
    if (path) {
        st = mtb_multifashion_load(path, splits, &mf, err);
    } else {
        const char *dir = getenv("MTB_FASHION_MNIST_DIR");
        mtb_fashion src;
        st = mtb_fashion_load(dir && *dir ? dir : NULL, 1, &src, err);
        if (st)
            return st;
        st = mtb_multifashion_build(&src, p->data_seed, splits, &mf, err);
        mtb_fashion_free(&src);
    }
    if (st)
        return st;
    st = mtb_multifashion_dataset(&mf, MTB_MF_TRAIN, n_train, MTB_MF_TEST, n_test, ds, err);
    mtb_multifashion_free(&mf);
    return st;
}

mtb_status mtb_multifashion_problem_dataset(const mtb_problem *p, mtb_dataset *ds, mtb_error *err)
{
    return problem_dataset(p, NULL, ds, err);
}

mtb_status mtb_multifashion_problem_load(const mtb_problem *p, const char *path, mtb_dataset *ds,
                                         mtb_error *err)
{
    return problem_dataset(p, path, ds, err);
}
