/* optim.h: optimisers on a flat float parameter slab, and gradient-norm clipping. */
#ifndef MTB_OPTIM_H
#define MTB_OPTIM_H

#include <stddef.h>

#include "mtb/status.h"

typedef enum mtb_optim_kind { MTB_OPT_SGD = 0, MTB_OPT_ADAM = 1 } mtb_optim_kind;

/* Learning-rate schedules over a horizon of K = lr_steps updates, k = 0..K-1 the 0-based
 * update index (optim.c):
 *   MTB_LR_CONSTANT  lr_k = lr                                   (the default)
 *   MTB_LR_POLY      lr_k = lr (1 - k/K)^lr_power                (the "poly" policy of
 *                    DeepLab / PyTorch's PolynomialLR with total_iters = K; IMTL App. D:
 *                    power 0.9). k >= K gives 0. */
typedef enum mtb_lr_schedule { MTB_LR_CONSTANT = 0, MTB_LR_POLY = 1 } mtb_lr_schedule;

typedef struct mtb_optim_config {
    mtb_optim_kind kind;
    double lr;
    double momentum;     /* SGD */
    double beta1, beta2; /* Adam */
    double eps;          /* Adam */
    double weight_decay; /* L2 added to the gradient (PyTorch's Adam/SGD), or decoupled: */
    int decoupled_wd;    /* 1: AdamW-style theta -= lr * wd * theta */
    mtb_lr_schedule schedule; /* applied by mtb_optim_step(_f64) at every update */
    double lr_power;     /* MTB_LR_POLY's exponent (> 0) */
    long lr_steps;       /* MTB_LR_POLY's horizon K (>= 1); the run loop sets it to the
                            protocol's step count (run.c) */
} mtb_optim_config;

/* PyTorch's defaults: Adam lr 1e-3, betas (0.9, 0.999), eps 1e-8. */
void mtb_optim_config_adam(mtb_optim_config *c, double lr);
void mtb_optim_config_sgd(mtb_optim_config *c, double lr, double momentum);
mtb_status mtb_optim_config_check(const mtb_optim_config *c, mtb_error *err);

/* The factor lr_k / lr of the schedule at 0-based update k: 1 for MTB_LR_CONSTANT,
 * (1 - k/K)^lr_power for MTB_LR_POLY (0 from k = K on). */
double mtb_optim_lr_factor(const mtb_optim_config *c, long k);
/* "constant" or "poly" (NULL for an unknown value). */
const char *mtb_lr_schedule_name(mtb_lr_schedule s);

typedef struct mtb_optim {
    mtb_optim_config cfg;
    size_t n;
    long t;          /* steps taken */
    float *m, *v;    /* moments (SGD uses m as the momentum buffer) */
} mtb_optim;

mtb_status mtb_optim_init(mtb_optim *o, const mtb_optim_config *c, size_t n, mtb_error *err);
void mtb_optim_free(mtb_optim *o);
/* theta -= update(grad) at lr_k of the schedule (k = the steps taken before this one);
 * grad may be modified (weight decay is added to it). */
void mtb_optim_step(mtb_optim *o, float *theta, float *grad);

/* The same Adam/SGD in double for a few scalars (a balancer's learnable parameters);
 * m and v are caller-owned arrays of n, t the 1-based step count (the schedule's k = t - 1). */
void mtb_optim_step_f64(const mtb_optim_config *c, long t, size_t n, double *x, double *g,
                        double *m, double *v);

/* L2 norm, accumulated in double. */
double mtb_norm_f32(const float *x, size_t n);
double mtb_norm_f64(const double *x, size_t n);
/* Clip factor of torch.nn.utils.clip_grad_norm_: min(1, max_norm / (norm + 1e-6)). */
double mtb_clip_factor(double norm, double max_norm);

#endif
