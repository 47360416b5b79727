/* problems.c: the registry of named benchmark problems (problem.h). Each family sets its
 * data generator, its tasks (metric, direction, scales, oracle weight) and its protocol
 * from the spec that defines it; nothing here is read by the run loop except through the
 * mtb_problem struct.
 *   mtr, mtr-<T>      spec mtrregression-and-slaw.md sec. 1-3 (the SLAW code)
 *   mtr-hom-<T>       spec rlw.md R6 (a): sigma_t = 1
 *   bce-<T>           spec rlw.md R6 (b)
 *   lsd6, lsd6-eq, lsd6x<k>@<t>   spec rlw.md sec. 2
 *   lsd-ce3[-sep][-sgd]           spec dbmtl.md sec. 1
 *   lsd3c, lsd3cx<k>@<t>          spec imtl.md sec. 1
 *   <lsd6 or lsd3c name>-sgd      imtl.md sec. 1's SGD profile (IMTL App. D)
 *   <any name>@lr=<x>, @val       base learning rate; validation split (parse_options)
 *   multifashion, multifashion-mlp   spec multifashion.md sec. 3-4 (multifashion_problem.c) */
#include "mtb/problem.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mtb/multifashion.h"
#include "mtb/synth.h"

typedef struct family {
    const char *pattern;
    const char *summary;
} family;

static const family families[] = {
    {"mtr, mtr-<T>", "MTRRegression, T tasks (default 10), sigma_t = t; the SLAW paper's "
                     "setting (9 900 steps, clip 0.5, normalised loss)"},
    {"mtr-hom-<T>", "MTRRegression with every sigma_t = 1 (RLW R6); Adam, no clipping, 4 000 steps"},
    {"bce-<T>", "T one-logit BCE tasks on the MTR inputs, 5 % label flips (RLW R6)"},
    {"lsd6", "LSD-6: MSE x3, L1, softmax CE, multi-label BCE; loss scales over 6 orders "
             "of magnitude (rlw.md sec. 2)"},
    {"lsd6-eq", "LSD-6 with sigma = 1 for t1..t4: the scale-parity control"},
    {"lsd6x<k>@<t>", "LSD-6 with task t's loss multiplied by k before the method sees it"},
    {"multifashion", "MultiFashion: two overlaid Fashion-MNIST items, two 10-class tasks; "
                     "lenet-pmtl trunk, 50 epochs (docs/multifashion.md)"},
    {"multifashion-mlp", "MultiFashion with the mlp trunk (ours, for smoke runs and scaling)"},
    {"multifashion[-mlp]-e<E>", "the same for E epochs (e30: the spec's development profile)"},
    {"lsd3c", "LSD-3C: CE (10 classes), L1 (sigma 20), L1 (sigma 3); the Cityscapes-like "
              "problem of imtl.md sec. 1"},
    {"lsd3cx<k>@<t>", "LSD-3C with task t's loss multiplied by k before the method sees it"},
    {"lsd-ce3[-sep][-sgd]", "LSD-CE3: three 31-class CE tasks, label noise 0 / 0.1 / 0.3 (dbmtl.md "
                            "sec. 1); -sep: task 1 a separable 2-class task; -sgd: SGD profile"},
    {"<lsd6 or lsd3c name>-sgd", "the SGD profile of imtl.md sec. 1 (IMTL App. D): momentum 0.9, "
                                 "weight decay 1e-4, lr (1 - k/K)^0.9, base lr 1e-2 (e.g. "
                                 "lsd6-sgd, lsd3cx10@1-sgd)"},
    {"<name>@lr=<x>", "any problem with base learning rate x (e.g. lsd3c-sgd@lr=0.03)"},
    {"<name>@val", "any generated problem evaluated on a validation split: the last 20 % of its "
                   "training set, held out of training (the test split unused)"},
};

int mtb_problem_family_count(void) { return (int)(sizeof families / sizeof *families); }
const char *mtb_problem_family_pattern(int i)
{
    return i >= 0 && i < mtb_problem_family_count() ? families[i].pattern : NULL;
}
const char *mtb_problem_family_summary(int i)
{
    return i >= 0 && i < mtb_problem_family_count() ? families[i].summary : NULL;
}

/* A whole decimal integer in [lo, hi], nothing after it. */
static int parse_int(const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi || s[0] == '+' || s[0] == ' ')
        return -1;
    *out = v;
    return 0;
}

static void task(mtb_problem *p, int t, const char *name, double out_scale, double oc,
                 mtb_metric_kind kind, double ref, mtb_metric_kind clean_kind, int clean_offset)
{
    mtb_problem_task *k = &p->tasks[t];
    snprintf(k->name, sizeof k->name, "%s", name);
    k->out_scale = out_scale;
    k->loss_scale = 1.0;
    k->oc_weight = oc;
    k->metric = (mtb_metric){kind, ref, -1};
    k->metric_clean = (mtb_metric){clean_kind, 1.0, clean_offset};
}

/* The MTR trunk (SLAW spec sec. 2): 250 -> 4 x 100, tanh, orthogonal init gain sqrt 2. */
static void mtr_network(mtb_protocol *pr)
{
    pr->n_hidden = 4;
    for (int i = 0; i < MTB_MAX_HIDDEN; i++)
        pr->widths[i] = i < 4 ? 100 : 0;
    pr->act = MTB_ACT_TANH;
    pr->init_gain = sqrt(2.0);
}

/* mtr: the SLAW code's settings (SLAW spec sec. 2): Adam lr 7e-4, eps 1e-5, global clip 0.5,
 * batch 304 keeping the last partial batch, 9 900 steps, test every 33 steps (after the
 * update of step s with s % 33 == 0), the normalised loss over a 30-step window. */
static void setup_mtr(mtb_problem *p, int T, int homogeneous, int smoke)
{
    snprintf(p->family, sizeof p->family, homogeneous ? "mtr-hom" : "mtr");
    snprintf(p->description, sizeof p->description,
             homogeneous ? "MTRRegression, %d tasks, every sigma = 1 (rlw.md R6)"
                         : "MTRRegression, %d tasks, sigma_t = t (SLAW paper sec. 4.1)", T);
    snprintf(p->data_generator, sizeof p->data_generator, "mtr");
    snprintf(p->data_params, sizeof p->data_params, "tasks=%d,sigma=%s", T, homogeneous ? "1" : "t");
    p->data_seed = 0;
    p->T = T;
    for (int t = 0; t < T; t++) {
        double s = homogeneous ? 1.0 : (double)(t + 1);
        char name[32];
        snprintf(name, sizeof name, "t%d-mse-s%g", t + 1, s);
        /* oracle: 1/sigma^2 (SLAW spec sec. 3.2, "IdealConstant") */
        task(p, t, name, 1.0, 1.0 / (s * s), MTB_METRIC_NMSE, s, MTB_METRIC_NONE, -1);
    }
    mtb_protocol *pr = &p->proto;
    mtr_network(pr);
    mtb_optim_config_adam(&pr->optim, 7e-4);
    pr->batch = 304;
    pr->drop_last = 0;
    if (!homogeneous) {
        pr->optim.eps = 1e-5;
        pr->clip_norm = 0.5;
        pr->steps = smoke ? 120 : 9900;
        pr->eval_every = 33;
        pr->eval_initial = 0;
        pr->eval_after_updates = 0;
        pr->nl_window = 30; /* one data epoch of MTRRegression */
    } else {
        /* rlw.md R6: Adam lr 7e-4, eps 1e-8, no clipping, batch 304, 4 000 steps, test every 100 */
        pr->clip_norm = 0.0;
        pr->steps = smoke ? 400 : 4000;
        pr->eval_every = 100;
        pr->eval_initial = 1;
        pr->eval_after_updates = 1;
        pr->nl_window = 30;
    }
}

/* bce-<T>: rlw.md R6 (b), the protocol of mtr-hom. Metric: accuracy of the one bit against
 * the noisy test label; the clean-label accuracy is stored beside it. */
static void setup_bce(mtb_problem *p, int T, int smoke)
{
    setup_mtr(p, T, 1, smoke);
    snprintf(p->family, sizeof p->family, "bce");
    snprintf(p->description, sizeof p->description,
             "%d one-logit BCE tasks on the MTR inputs, 5 %% label flips (rlw.md R6)", T);
    snprintf(p->data_generator, sizeof p->data_generator, "bce");
    snprintf(p->data_params, sizeof p->data_params, "tasks=%d,flip=0.05", T);
    for (int t = 0; t < T; t++) {
        char name[32];
        snprintf(name, sizeof name, "t%d-bce", t + 1);
        task(p, t, name, 1.0, 1.0, MTB_METRIC_BIT_ACCURACY, 1.0, MTB_METRIC_BIT_ACCURACY, T + t);
    }
    p->proto.nl_window = 0; /* no regression task */
}

/* LSD-6 (rlw.md sec. 2). eq: sigma = 1 for t1..t4; k_task (1-based) of 0: no loss multiplier. */
static void setup_lsd6(mtb_problem *p, int eq, double k, int k_task, int smoke)
{
    snprintf(p->family, sizeof p->family, "lsd6");
    static const double scales[4] = {1, 30, 1000, 10}; /* rlw.md sec. 2; LSD-6-eq: all 1 */
    double sig[4];
    for (int t = 0; t < 4; t++)
        sig[t] = eq ? 1.0 : scales[t];
    if (k_task)
        snprintf(p->description, sizeof p->description,
                 "LSD-6 with the loss of task %d multiplied by %g (rlw.md sec. 2)", k_task, k);
    else
        snprintf(p->description, sizeof p->description, eq
                 ? "LSD-6-eq: LSD-6 with sigma = 1 for t1..t4, the scale-parity control"
                 : "LSD-6: MSE (sigma 1, 30, 1000), L1 (sigma 10), CE (10 classes), BCE (16 bits)");
    snprintf(p->data_generator, sizeof p->data_generator, "lsd6");
    snprintf(p->data_params, sizeof p->data_params, "eq=%d", eq);
    p->data_seed = 0; /* one fixed instance for every run (rlw.md sec. 2) */
    p->T = MTB_LSD6_T;
    char name[32];
    for (int t = 0; t < 3; t++) {
        snprintf(name, sizeof name, "t%d-mse-s%g", t + 1, sig[t]);
        task(p, t, name, sig[t], 1.0 / (sig[t] * sig[t]), MTB_METRIC_NMSE, sig[t], MTB_METRIC_NONE, -1);
    }
    snprintf(name, sizeof name, "t4-l1-s%g", sig[3]);
    task(p, 3, name, sig[3], 1.0 / sig[3], MTB_METRIC_MAE_REL, sig[3], MTB_METRIC_NONE, -1);
    task(p, 4, "t5-ce", 1.0, 1.0, MTB_METRIC_ACCURACY, 1.0, MTB_METRIC_ACCURACY, MTB_LSD6_CLEAN_T5);
    task(p, 5, "t6-bce", 1.0, 1.0, MTB_METRIC_BIT_ACCURACY, 1.0, MTB_METRIC_BIT_ACCURACY,
         MTB_LSD6_CLEAN_T6);
    if (k_task) {
        p->tasks[k_task - 1].loss_scale = k;
        p->tasks[k_task - 1].oc_weight /= k; /* the oracle undoes the multiplier */
    }
    /* Network: the MTR trunk, orthogonal heads; Adam lr 7e-4, betas (0.9, 0.999), eps 1e-8,
     * no clipping; batch 256 dropping the last partial batch (35 steps an epoch); 6 000
     * steps; test at step 0 (the initial model), every 200 updates and at the end.
     * Smoke (rlw.md sec. 2, "Budget"): 600 steps, eval every 100. */
    mtb_protocol *pr = &p->proto;
    mtr_network(pr);
    mtb_optim_config_adam(&pr->optim, 7e-4);
    pr->clip_norm = 0.0;
    pr->batch = 256;
    pr->drop_last = 1;
    pr->steps = smoke ? 600 : 6000;
    pr->eval_every = smoke ? 100 : 200;
    pr->eval_initial = 1;
    pr->eval_after_updates = 1;
    pr->nl_window = 0;
}

/* LSD-3C (imtl.md sec. 1): t1 CE with 10 % label noise (accuracy against the noisy test
 * labels, the clean-label accuracy beside it), t2 and t3 L1 with fixed head output scales 20
 * and 3 (metric MAE / sigma). Training as LSD-6 (Adam lr 7e-4, batch 256, 6 000 steps; smoke
 * 600). k_task (1-based) of 0: no loss multiplier. The oracle is unknown: oc weights 1 (/ k). */
static void setup_lsd3c(mtb_problem *p, double k, int k_task, int smoke)
{
    setup_lsd6(p, 0, 1.0, 0, smoke); /* the protocol; the tasks are replaced below */
    snprintf(p->family, sizeof p->family, "lsd3c");
    if (k_task)
        snprintf(p->description, sizeof p->description,
                 "LSD-3C with the loss of task %d multiplied by %g (imtl.md sec. 1)", k_task, k);
    else
        snprintf(p->description, sizeof p->description,
                 "LSD-3C: CE (10 classes, 10 %% noise), L1 (sigma 20), L1 (sigma 3) (imtl.md sec. 1)");
    snprintf(p->data_generator, sizeof p->data_generator, "lsd3c");
    snprintf(p->data_params, sizeof p->data_params, "tasks=3");
    memset(p->tasks, 0, sizeof p->tasks[0] * MTB_LSD6_T);
    p->T = MTB_LSD3C_T;
    task(p, 0, "t1-ce", 1.0, 1.0, MTB_METRIC_ACCURACY, 1.0, MTB_METRIC_ACCURACY, MTB_LSD3C_CLEAN_T1);
    task(p, 1, "t2-l1-s20", 20.0, 1.0, MTB_METRIC_MAE_REL, 20.0, MTB_METRIC_NONE, -1);
    task(p, 2, "t3-l1-s3", 3.0, 1.0, MTB_METRIC_MAE_REL, 3.0, MTB_METRIC_NONE, -1);
    if (k_task) {
        p->tasks[k_task - 1].loss_scale = k;
        p->tasks[k_task - 1].oc_weight /= k;
    }
}

/* The options after a problem's name (problem.h): "@lr=<x>" (a finite base learning rate
 * > 0) and "@val", in any order. Copies the name without them into base; 0, or -1 with a
 * message. */
#define VAL_FRACTION 0.2 /* "@val": the share of the training set held out */
static int parse_options(const char *name, char *base, double *lr, int *val, mtb_error *err)
{
    *lr = 0.0;
    *val = 0;
    const char *o = name, *first = NULL;
    while ((o = strchr(o, '@'))) {
        if (!first && (!strncmp(o, "@lr=", 4) || !strncmp(o, "@val", 4)))
            first = o;
        o++;
    }
    size_t bl = first ? (size_t)(first - name) : strlen(name);
    memcpy(base, name, bl);
    base[bl] = 0;
    for (o = first; o && *o;) {
        const char *next = strchr(o + 1, '@');
        size_t l = next ? (size_t)(next - o) : strlen(o);
        char item[MTB_PROBLEM_NAME_LEN], *end;
        memcpy(item, o + 1, l - 1);
        item[l - 1] = 0;
        if (!strcmp(item, "val")) {
            *val = 1;
        } else if (!strncmp(item, "lr=", 3) && item[3] && (*lr = strtod(item + 3, &end), !*end) &&
                   isfinite(*lr) && *lr > 0.0) {
        } else {
            mtb_fail(err, MTB_EINVAL, "problem: '%s': unknown option '@%s' (the options are "
                     "@lr=<x> with x a finite number > 0, and @val)", name, item);
            return -1;
        }
        o = next;
    }
    return 0;
}

/* imtl.md sec. 1, the SGD profile of IMTL App. D: SGD momentum 0.9, weight decay 1e-4 (L2 in
 * the gradient, torch.optim.SGD), polynomial decay lr (1 - k/K)^0.9 over the run; base lr
 * 1e-2, the middle of the spec's grid {1e-3, ..., 1e-1} (a run picks its own with @lr=). */
static void sgd_profile(mtb_problem *p)
{
    mtb_optim_config *o = &p->proto.optim;
    mtb_optim_config_sgd(o, 1e-2, 0.9);
    o->weight_decay = 1e-4;
    o->schedule = MTB_LR_POLY;
    o->lr_power = 0.9;
}

/* "<prefix><k>@<t>": k a positive finite number, t in 1..T. 0, or -1 with a message. */
static int parse_scaled(const char *name, size_t prefix, int T, double *k, long *t, mtb_error *err)
{
    const char *at = strchr(name, '@');
    char kbuf[32];
    size_t kl = at ? (size_t)(at - (name + prefix)) : 0;
    if (!at || kl == 0 || kl >= sizeof kbuf || parse_int(at + 1, 1, T, t)) {
        mtb_fail(err, MTB_EINVAL, "problem: '%s' should read %.*s<k>@<t>, e.g. %.*s10@1 (task t in "
                 "1..%d)", name, (int)prefix, name, (int)prefix, name, T);
        return -1;
    }
    memcpy(kbuf, name + prefix, kl);
    kbuf[kl] = 0;
    char *end;
    *k = strtod(kbuf, &end);
    if (*end || !isfinite(*k) || !(*k > 0.0)) {
        mtb_fail(err, MTB_EINVAL, "problem: '%s': the multiplier k = '%s' must be a finite "
                 "number > 0", name, kbuf);
        return -1;
    }
    return 0;
}

/* LSD-CE3 (dbmtl.md sec. 1): the MTR trunk, one linear head per task, accuracy against the
 * noisy test labels (the clean-label accuracy beside it, columns 3..5); Adam lr 7e-4, batch
 * 256 dropping the last partial batch, 4 000 steps, seeds 0..4; the SGD profile: momentum 0.9,
 * lr 0.05. Evaluation as LSD-6's (initial model, every 200 updates, the end). Smoke: 400
 * steps, every 100. No oracle is known: oc weights 1. */
static void setup_lsdce3(mtb_problem *p, int sep, int sgd, int smoke)
{
    snprintf(p->family, sizeof p->family, "lsd-ce3");
    snprintf(p->description, sizeof p->description,
             "LSD-CE3%s: 3 CE tasks (%s31 classes), label noise 0 / 0.1 / 0.3, %s (dbmtl.md sec. 1)",
             sep ? "-sep" : "", sep ? "task 1 separable 2-class, tasks 2-3 " : "",
             sgd ? "SGD momentum 0.9 lr 0.05" : "Adam lr 7e-4");
    snprintf(p->data_generator, sizeof p->data_generator, "lsdce3");
    snprintf(p->data_params, sizeof p->data_params, "sep=%d", sep);
    p->data_seed = 0; /* one fixed instance, as LSD-6 */
    p->T = MTB_LSDCE3_T;
    for (int t = 0; t < MTB_LSDCE3_T; t++) {
        char name[32];
        snprintf(name, sizeof name, sep && t == 0 ? "t1-ce2-sep" : "t%d-ce31-n%d", t + 1,
                 t == 0 ? 0 : t == 1 ? 10 : 30);
        task(p, t, name, 1.0, 1.0, MTB_METRIC_ACCURACY, 1.0, MTB_METRIC_ACCURACY,
             MTB_LSDCE3_T + t);
    }
    mtb_protocol *pr = &p->proto;
    mtr_network(pr);
    if (sgd)
        mtb_optim_config_sgd(&pr->optim, 0.05, 0.9);
    else
        mtb_optim_config_adam(&pr->optim, 7e-4);
    pr->clip_norm = 0.0;
    pr->batch = 256;
    pr->drop_last = 1;
    pr->steps = smoke ? 400 : 4000;
    pr->eval_every = smoke ? 100 : 200;
    pr->eval_initial = 1;
    pr->eval_after_updates = 1;
    pr->nl_window = 0;
}

mtb_status mtb_problem_lookup(const char *name, const char *scale, mtb_problem *p, mtb_error *err)
{
    if (!scale)
        scale = "paper";
    int smoke;
    if (!strcmp(scale, "smoke"))
        smoke = 1;
    else if (!strcmp(scale, "paper") || !strcmp(scale, "full"))
        smoke = 0;
    else
        return mtb_fail(err, MTB_EINVAL, "problem: unknown scale '%s' (use smoke, paper or full)",
                        scale);
    if (!name || !*name || strlen(name) >= MTB_PROBLEM_NAME_LEN)
        return mtb_fail(err, MTB_EINVAL, "problem: a problem name of 1..%d characters is needed "
                        "(run 'mtb problems' for the list)", MTB_PROBLEM_NAME_LEN - 1);
    memset(p, 0, sizeof *p);
    const char *full = name;
    char base[MTB_PROBLEM_NAME_LEN];
    double lr;
    int val, sgd = 0;
    if (parse_options(full, base, &lr, &val, err))
        return MTB_EINVAL;
    size_t bl = strlen(base);
    if ((!strncmp(base, "lsd6", 4) || !strncmp(base, "lsd3c", 5)) && bl > 4 &&
        !strcmp(base + bl - 4, "-sgd")) {
        sgd = 1;
        base[bl - 4] = 0;
    }
    name = base;
    long T = 0, k_task = 0;
    const long T_max = MTB_PROBLEM_MAX_TASKS;
    if (!strcmp(name, "mtr")) {
        setup_mtr(p, 10, 0, smoke);
    } else if (!strncmp(name, "mtr-hom-", 8)) {
        if (parse_int(name + 8, 1, T_max, &T))
            goto bad_T;
        setup_mtr(p, (int)T, 1, smoke);
    } else if (!strncmp(name, "mtr-", 4)) {
        if (parse_int(name + 4, 1, T_max, &T))
            goto bad_T;
        setup_mtr(p, (int)T, 0, smoke);
    } else if (!strncmp(name, "bce-", 4)) {
        if (parse_int(name + 4, 1, T_max, &T))
            goto bad_T;
        setup_bce(p, (int)T, smoke);
    } else if (!strcmp(name, "lsd6") || !strcmp(name, "lsd6-eq")) {
        setup_lsd6(p, name[4] == '-', 1.0, 0, smoke);
    } else if (!strcmp(name, "lsd-ce3") || !strcmp(name, "lsd-ce3-sep") ||
               !strcmp(name, "lsd-ce3-sgd") || !strcmp(name, "lsd-ce3-sep-sgd")) {
        setup_lsdce3(p, strstr(name, "-sep") != NULL, strstr(name, "-sgd") != NULL, smoke);
    } else if (!strcmp(name, "lsd3c")) {
        setup_lsd3c(p, 1.0, 0, smoke);
    } else if (!strncmp(name, "lsd3cx", 6)) {
        double k;
        if (parse_scaled(name, 6, MTB_LSD3C_T, &k, &k_task, err))
            return MTB_EINVAL;
        setup_lsd3c(p, k, (int)k_task, smoke);
    } else if (!strncmp(name, "multifashion", 12)) {
        mtb_status st = mtb_multifashion_problem(p, name, smoke, err);
        if (st)
            return st;
    } else if (!strncmp(name, "lsd6x", 5)) {
        /* lsd6x<k>@<t>: k a positive finite number, t in 1..6 */
        double k;
        if (parse_scaled(name, 5, MTB_LSD6_T, &k, &k_task, err))
            return MTB_EINVAL;
        setup_lsd6(p, 0, k, (int)k_task, smoke);
    } else {
        return mtb_fail(err, MTB_EINVAL, "problem: unknown problem '%s' (run 'mtb problems' for "
                        "the list)", name);
    }
    size_t dl = strlen(p->description);
    if (sgd) {
        sgd_profile(p);
        snprintf(p->description + dl, sizeof p->description - dl, "; SGD profile (imtl.md sec. 1)");
    }
    if (lr > 0.0)
        p->proto.optim.lr = lr;
    if (sgd || lr > 0.0) {
        dl = strlen(p->description);
        snprintf(p->description + dl, sizeof p->description - dl, "; lr %g", p->proto.optim.lr);
    }
    if (val) {
        size_t l = strlen(p->data_params);
        snprintf(p->data_params + l, sizeof p->data_params - l, ",val=%g", VAL_FRACTION);
        dl = strlen(p->description);
        snprintf(p->description + dl, sizeof p->description - dl, "; evaluated on the validation "
                 "split (the last %g %% of the training set)", 100 * VAL_FRACTION);
    }
    snprintf(p->name, sizeof p->name, "%s", full);
    snprintf(p->scale, sizeof p->scale, "%s", smoke ? "smoke" : "paper");
    return MTB_OK;
bad_T:
    return mtb_fail(err, MTB_EINVAL, "problem: '%s': the task count must be a whole number in "
                    "1..%ld", name, T_max);
}

void mtb_problem_oc_weights(const mtb_problem *p, double *w)
{
    double s = 0.0;
    for (int t = 0; t < p->T; t++)
        s += w[t] = p->tasks[t].oc_weight;
    for (int t = 0; t < p->T; t++)
        w[t] *= p->T / s;
}

/* "@val" (data_params "val=<f>"): the last f n_train training samples become the evaluation
 * split, in place of the test split; the generator's samples are iid, so this is a held-out
 * draw of the training distribution the run never trains on. */
static mtb_status carve_validation(const mtb_problem *p, mtb_dataset *ds, mtb_error *err)
{
    const char *v = strstr(p->data_params, "val=");
    if (!v)
        return MTB_OK;
    double f = strtod(v + 4, NULL);
    size_t nv = (size_t)(f * (double)ds->train.n);
    if (!(f > 0.0 && f < 1.0) || nv < 1 || nv >= ds->train.n)
        return mtb_fail(err, MTB_EINVAL, "problem %s: a validation share %g of %zu training "
                        "samples leaves no training or no validation set", p->name, f, ds->train.n);
    if (ds->storage)
        return mtb_fail(err, MTB_EINVAL, "problem %s: @val needs a generated data set, not a "
                        "mapped file", p->name);
    const size_t d = (size_t)ds->d_in, yw = (size_t)ds->y_width, nt = ds->train.n - nv;
    float *x = malloc(sizeof(float) * nv * d), *y = malloc(sizeof(float) * nv * yw);
    if (!x || !y) {
        free(x), free(y);
        return mtb_fail(err, MTB_ENOMEM, "problem %s: out of memory for the validation split",
                        p->name);
    }
    memcpy(x, ds->train.x + nt * d, sizeof(float) * nv * d);
    memcpy(y, ds->train.y + nt * yw, sizeof(float) * nv * yw);
    free(ds->test.x), free(ds->test.y);
    ds->test = (mtb_split){nv, x, y};
    ds->train.n = nt;
    size_t gl = strlen(ds->generator); /* the run file's dataset_generator says so */
    snprintf(ds->generator + gl, sizeof ds->generator - gl, ",val=%g", f);
    return MTB_OK;
}

mtb_status mtb_problem_make_dataset(const mtb_problem *p, mtb_dataset *ds, mtb_error *err)
{
    memset(ds, 0, sizeof *ds);
    mtb_status st;
    if (!strcmp(p->data_generator, "mtr")) {
        mtb_mtr_params mp;
        mtb_mtr_params_default(&mp, p->T, p->data_seed);
        double sig[MTB_PROBLEM_MAX_TASKS];
        if (strstr(p->data_params, "sigma=1")) {
            for (int t = 0; t < p->T; t++)
                sig[t] = 1.0;
            mp.sigma = sig;
        }
        st = mtb_synth_mtr(&mp, ds, err);
    } else if (!strcmp(p->data_generator, "lsd6")) {
        mtb_lsd6_params lp;
        mtb_lsd6_params_default(&lp, strstr(p->data_params, "eq=1") != NULL, p->data_seed);
        st = mtb_synth_lsd6(&lp, ds, err);
    } else if (!strcmp(p->data_generator, "lsd3c")) {
        mtb_lsd3c_params lp;
        mtb_lsd3c_params_default(&lp, p->data_seed);
        st = mtb_synth_lsd3c(&lp, ds, err);
    } else if (!strcmp(p->data_generator, "lsdce3")) {
        mtb_lsdce3_params cp;
        mtb_lsdce3_params_default(&cp, strstr(p->data_params, "sep=1") != NULL, p->data_seed);
        st = mtb_synth_lsdce3(&cp, ds, err);
    } else if (!strcmp(p->data_generator, "multifashion")) {
        st = mtb_multifashion_problem_dataset(p, ds, err);
    } else if (!strcmp(p->data_generator, "bce")) {
        mtb_bce_params bp;
        mtb_bce_params_default(&bp, p->T, p->data_seed);
        st = mtb_synth_bce(&bp, ds, err);
    } else {
        return mtb_fail(err, MTB_EINVAL, "problem %s: unknown data generator '%s'", p->name,
                        p->data_generator);
    }
    if (!st)
        st = carve_validation(p, ds, err);
    if (st)
        return st;
    return mtb_problem_check_dataset(p, ds, err);
}

mtb_status mtb_problem_load_dataset(const mtb_problem *p, const char *path, mtb_dataset *ds,
                                    mtb_error *err)
{
    /* MultiFashion's file is its own format (uint8 images with their provenance, four
     * splits); the problem takes its training form from it as from the generator. */
    mtb_status st = !strcmp(p->data_generator, "multifashion")
                        ? mtb_multifashion_problem_load(p, path, ds, err)
                        : mtb_dataset_load(path, ds, err);
    return st ? st : mtb_problem_check_dataset(p, ds, err);
}

mtb_status mtb_problem_check_dataset(const mtb_problem *p, const mtb_dataset *ds, mtb_error *err)
{
    if (strstr(p->data_params, "val=") && !strstr(ds->generator, "val="))
        return mtb_fail(err, MTB_EINVAL, "problem %s evaluates on a validation split (@val) cut "
                        "from the generated data set, which this data set (a file?) does not have: "
                        "drop @val or the data file", p->name);
    if (ds->T != p->T)
        return mtb_fail(err, MTB_EINVAL, "problem %s has %d tasks but the data set has %d", p->name,
                        p->T, ds->T);
    for (int t = 0; t < p->T; t++) {
        const mtb_task_spec *k = &ds->tasks[t];
        const mtb_problem_task *pt = &p->tasks[t];
        const mtb_metric *ms[2] = {&pt->metric, &pt->metric_clean};
        for (int i = 0; i < 2; i++) {
            const mtb_metric *m = ms[i];
            if (m->kind == MTB_METRIC_NONE)
                continue;
            int cls = m->kind == MTB_METRIC_ACCURACY, bits = m->kind == MTB_METRIC_BIT_ACCURACY;
            if ((cls && k->loss != MTB_LOSS_CE) || (bits && k->loss != MTB_LOSS_BCE) ||
                (!cls && !bits && k->loss != MTB_LOSS_MSE && k->loss != MTB_LOSS_L1))
                return mtb_fail(err, MTB_EINVAL, "problem %s: task %d has loss %s, which metric %s "
                                "cannot judge (wrong data set for this problem?)", p->name, t + 1,
                                mtb_loss_name(k->loss), mtb_metric_name(m->kind));
            int off = m->target_offset >= 0 ? m->target_offset : k->target_offset;
            if (off < 0 || off + k->target_width > ds->y_width)
                return mtb_fail(err, MTB_EINVAL, "problem %s: task %d's %s reads target columns "
                                "%d..%d, but the data set has %d", p->name, t + 1,
                                mtb_metric_name(m->kind), off, off + k->target_width - 1, ds->y_width);
            if (!cls && !bits && !(m->ref > 0.0))
                return mtb_fail(err, MTB_EINVAL, "problem %s: task %d's reference scale must be > 0",
                                p->name, t + 1);
        }
    }
    return MTB_OK;
}
