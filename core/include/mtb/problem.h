/* problem.h: a benchmark problem as data: its data set, its tasks (loss, head, metric with
 * direction, reference scale, output scale, oracle weight), its network and its protocol.
 *
 * The run loop (run.h) is generic; everything that makes a run "the SLAW setting" or
 * "LSD-6" lives in the problem. The registry of named problems (datasets/problems.c):
 *   mtr, mtr-<T>        MTRRegression with T tasks (default 10), sigma_t = t; the SLAW
 *                       paper's code settings (spec mtrregression-and-slaw.md)
 *   mtr-hom-<T>         the same with every sigma_t = 1 (rlw.md R6)
 *   bce-<T>             T one-logit BCE tasks on the MTR inputs, 5 % label flips (rlw.md R6)
 *   lsd6, lsd6-eq, lsd6x<k>@<t>   the loss-scale-disparity benchmark of rlw.md sec. 2
 *   lsd-ce3[-sep][-sgd]  three CE tasks with different loss floors (dbmtl.md sec. 1)
 *   lsd3c, lsd3cx<k>@<t> the Cityscapes-like LSD-3C (imtl.md sec. 1)
 *   <lsd6... or lsd3c...>-sgd  imtl.md sec. 1's SGD profile: momentum 0.9, weight decay 1e-4,
 *                       lr (1 - k/K)^0.9 over the run (optim.h), base lr 1e-2
 *   <name>@lr=<x>       any problem with base learning rate x; <name>@val: evaluated on the
 *                       last 20 % of the training set, held out of training (a validation
 *                       split, for choosing hyperparameters without the test split)
 *   multifashion[-mlp]  two overlaid Fashion-MNIST items, lenet-pmtl or mlp trunk
 *                       (multifashion.md; datasets/multifashion_problem.c)
 * `mtb problems` lists them with their protocols. */
#ifndef MTB_PROBLEM_H
#define MTB_PROBLEM_H

#include <stdint.h>

#include "mtb/dataset.h"
#include "mtb/metric.h"
#include "mtb/model.h"
#include "mtb/optim.h"

#define MTB_PROBLEM_MAX_TASKS 512
#define MTB_PROBLEM_NAME_LEN 64

/* How a problem trains and evaluates. */
typedef struct mtb_protocol {
    /* network: dense trunk + one linear head per task (model.h) */
    int n_hidden;
    int widths[MTB_MAX_HIDDEN];
    mtb_activation act;
    double init_gain;            /* orthogonal init of every layer and head */
    char trunk[32];              /* "": the dense trunk above; else a named trunk
                                    (mtb_trunk_preset: "lenet-pmtl", "mlp") */
    mtb_init_kind init;          /* orthogonal (with init_gain) or PyTorch's fan-in default */
    /* optimisation */
    mtb_optim_config optim;
    double clip_norm;            /* 0 = no clipping */
    long steps;
    int batch;
    int drop_last;               /* 1: drop the last partial batch of an epoch; 0: keep it */
    /* evaluation on the test split */
    int eval_every;
    int eval_initial;            /* 1: also evaluate the initial model (recorded as step -1) */
    int eval_after_updates;      /* 1: evaluate after step s when (s + 1) % eval_every == 0
                                    (i.e. after every eval_every updates); 0: when
                                    s % eval_every == 0 (the SLAW code). Always at the last step. */
    int nl_window;               /* > 0: track the SLAW normalised loss (run.h) over this many
                                    steps; 0: not tracked */
} mtb_protocol;

typedef struct mtb_problem_task {
    char name[32];               /* "t1-mse-s1" */
    double out_scale;            /* fixed head output scale (task.h); 1 = none */
    double loss_scale;           /* the loss is multiplied by this before the method sees it */
    double oc_weight;            /* oracle constant weight, before rescaling to sum T */
    mtb_metric metric;           /* the reported metric */
    mtb_metric metric_clean;     /* a second metric stored beside it (kind NONE if absent) */
} mtb_problem_task;

typedef struct mtb_problem {
    char name[MTB_PROBLEM_NAME_LEN];  /* as looked up, e.g. "lsd6x10@3" */
    char family[32];                  /* "mtr", "mtr-hom", "bce", "lsd6" */
    char description[256];
    char data_generator[32];          /* the generator: "mtr", "lsd6", "bce" */
    char data_params[256];            /* the generator's parameters, "key=value,..." */
    uint64_t data_seed;               /* one fixed data set for every run of the problem */
    int T;
    mtb_problem_task tasks[MTB_PROBLEM_MAX_TASKS];
    mtb_protocol proto;
    char scale[16];                   /* "paper" (the spec's protocol) or "smoke" */
} mtb_problem;

/* Fills *p for a registered name (see the list above). scale: "paper" (also "full"), or
 * "smoke" (the short CI protocol the problem defines); NULL = "paper". */
mtb_status mtb_problem_lookup(const char *name, const char *scale, mtb_problem *p,
                              mtb_error *err);

/* The registered families, for listings: name pattern and one-line description. */
int mtb_problem_family_count(void);
const char *mtb_problem_family_pattern(int i);
const char *mtb_problem_family_summary(int i);

/* Generates the problem's data set in memory (deterministic from p->data_seed). */
mtb_status mtb_problem_make_dataset(const mtb_problem *p, mtb_dataset *ds, mtb_error *err);

/* Loads the problem's data set from a file (mtb_dataset_load; a MultiFashion problem reads
 * the multifashion-v1 file of mtb gen multifashion) and checks it against the problem. */
mtb_status mtb_problem_load_dataset(const mtb_problem *p, const char *path, mtb_dataset *ds,
                                    mtb_error *err);

/* Checks that a data set (for example one loaded from a file) has the problem's tasks:
 * the same count, losses and head widths, and the target columns the metrics read. */
mtb_status mtb_problem_check_dataset(const mtb_problem *p, const mtb_dataset *ds,
                                     mtb_error *err);

/* The oracle constant weights w_t = oc_weight_t rescaled to sum T (rlw.md sec. 2 "OC"). */
void mtb_problem_oc_weights(const mtb_problem *p, double *w);

#endif
