/* run.h: a complete training run on a dataset, and its run file.
 *
 * The loop follows the SLAW authors' code (../shared/specs/mtrregression-and-slaw.md sec. 2):
 * reshuffle every epoch, keep the last partial batch, step = forward -> losses -> balancer
 * -> weighted backward -> global clipping -> optimiser; evaluate the whole test set at every
 * step t with t % eval_every == 0 and at the last step. Metrics (spec sec. 3):
 *   normalised loss NL = (1/T) sum_t (1/sigma_t^2) (1/B) sum_b ||yhat_tb - y_tb||^2
 *   (train NL: per step from the step's forward pass, then averaged over the last
 *   nl_window steps; test NL: the full test set), and the loss weight error
 *   LWE = (1/T) sum_t (T w_t / sum w - w*_t)^2 with w*_t prop. to 1/sigma_t^2, sum T.
 * Determinism: the same seed, dataset, binary and BLAS thread count give identical numbers
 * (the run file stores the thread count; timings are the only fields that differ). */
#ifndef MTB_RUN_H
#define MTB_RUN_H

#include <stddef.h>
#include <stdint.h>

#include "mtb/balancer.h"
#include "mtb/dataset.h"
#include "mtb/model.h"
#include "mtb/optim.h"

typedef struct mtb_run_config {
    char method[64];             /* a registered balancer, or "ideal" (constant 1/sigma^2, sum T) */
    char options[512];           /* the method's "key=value,..." hyperparameters */
    uint64_t seed;
    long steps;                  /* 9 900 */
    int batch;                   /* 304 */
    int eval_every;              /* 33 */
    int nl_window;               /* 30 (one data epoch of MTRRegression) */
    int n_hidden;                /* 4 */
    int widths[MTB_MAX_HIDDEN];  /* 100 each */
    mtb_activation act;          /* tanh */
    double init_gain;            /* sqrt(2) */
    mtb_optim_config optim;      /* Adam lr 7e-4, eps 1e-5 */
    double clip_norm;            /* 0.5 */
    int task_chunk;              /* 0 = all tasks together */
    int threads;                 /* BLAS threads, recorded (set by the caller) */
} mtb_run_config;

/* The SLAW paper's code settings for MTRRegression (spec sec. 2), method "ew". */
void mtb_run_config_default(mtb_run_config *c);

typedef struct mtb_run_log {
    int T;
    long steps;                  /* steps done */
    long n_eval;
    /* per step, (steps, T) or (steps) */
    double *loss, *head_w, *trunk_w, *shared_norm, *wall_ms, *train_nl, *lwe;
    /* per evaluation */
    int64_t *eval_step;
    double *eval_train_nl, *eval_test_nl, *eval_test_loss; /* last: (n_eval, T) */
    double wall_s;
    char method_desc[640];       /* "name key=value,..." as run */
} mtb_run_log;

/* Progress callback: called after every step; may be NULL. */
typedef void (*mtb_run_progress)(void *ctx, long step, long steps, const mtb_run_log *log);

mtb_status mtb_run_train(const mtb_run_config *cfg, const mtb_dataset *ds, mtb_run_log *log,
                         mtb_run_progress progress, void *progress_ctx, mtb_error *err);
void mtb_run_log_free(mtb_run_log *log);

/* Writes the run file (atomically): configuration and dataset provenance as attributes,
 * /steps/..., /eval/... and summary attributes. dataset_path is recorded as given. */
mtb_status mtb_run_save(const char *path, const mtb_run_config *cfg, const mtb_dataset *ds,
                        const char *dataset_path, const mtb_run_log *log, mtb_error *err);

#endif
