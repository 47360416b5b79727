/* run.h: a complete training run of a benchmark problem (problem.h), and its run file.
 *
 * The loop is generic: reshuffle every epoch (keeping or dropping the last partial batch as
 * the protocol says), step = forward -> losses (times each task's loss scale) -> balancer ->
 * weighted backward -> optional global clipping -> optimiser; evaluate the whole test split
 * on the protocol's schedule, recording per task the loss, the metric and the optional clean
 * metric (metric.h). The SLAW code's loop is the special case of the `mtr` problem
 * (spec mtrregression-and-slaw.md sec. 2).
 *
 * Methods: any registered balancer (balancer.h) with its options, and two references:
 *   "oc"  oracle constant weights, the problem's oc_weight rescaled to sum T ("ideal" is the
 *         SLAW paper's name for the same thing: 1/sigma^2 on mtr);
 *   "stl" single-task learning: one network per task, trained alone with the same protocol
 *         and seed (same trunk initialisation and batch order); column t of every per-task
 *         array comes from network t.
 *
 * When the protocol tracks the normalised loss (nl_window > 0), also (SLAW spec sec. 3):
 *   NL = (1/T) sum_t (1/sigma_t^2) (1/B) sum_b ||yhat_tb - y_tb||^2 over the MSE tasks
 *   (train NL: per step from the step's forward pass, averaged over the last nl_window steps;
 *   test NL: the full test set), and the loss weight error
 *   LWE = (1/T) sum_t (T w_t / sum w - w*_t)^2 with w* the oracle weights (sum T).
 * Determinism: the same seed, data set, binary and BLAS kernel and thread count give
 * identical numbers; timings are the only fields that differ. */
#ifndef MTB_RUN_H
#define MTB_RUN_H

#include <stddef.h>
#include <stdint.h>

#include "mtb/balancer.h"
#include "mtb/dataset.h"
#include "mtb/problem.h"
#include "mtb/provenance.h"

typedef struct mtb_run_config {
    const mtb_problem *problem;  /* borrowed: tasks and protocol */
    char method[64];             /* a registered balancer, "oc" (= "ideal") or "stl" */
    char options[512];           /* the method's "key=value,..." hyperparameters */
    uint64_t seed;
    int task_chunk;              /* 0 = all tasks together */
    int threads;                 /* BLAS threads, recorded (set by the caller) */
    int gram;                    /* 1: the Gram path (mtb_trainer_new_gram; docs/performance.md):
                                    only methods whose setup has gram_ok */
    int skip_zero_heads;         /* 1: no backward for heads of weight 0 (mtb_trainer_set_skip_zero_heads) */
} mtb_run_config;

typedef struct mtb_run_log {
    int T;
    long steps;                  /* steps done */
    long n_eval;
    /* per step, (steps, T) or (steps); loss is what the method saw (times loss_scale) */
    double *loss, *head_w, *trunk_w, *shared_norm, *wall_ms, *train_nl, *lwe;
    double *head_step;           /* (steps, T): L2 norm of head t's parameter change in the step */
    /* per evaluation: step (-1 = the initial model), (n_eval) or (n_eval, T) */
    int64_t *eval_step;
    double *eval_train_nl, *eval_test_nl;
    double *eval_test_loss, *eval_metric, *eval_metric_clean;
    double wall_s;
    char method_desc[640];       /* "name key=value,..." as run */
} mtb_run_log;

/* Progress callback: called after every step; may be NULL. For "stl" steps count over all
 * T networks (steps = T * protocol steps). */
typedef void (*mtb_run_progress)(void *ctx, long step, long steps, const mtb_run_log *log);

/* What can be checked before the data set is read: the protocol's ranges, the method's name
 * and options, and that it runs with the problem's T tasks. mtb_run_train checks it again,
 * with the data set's sizes; a program calls it first to fail before any work. */
mtb_status mtb_run_config_check(const mtb_run_config *cfg, mtb_error *err);

mtb_status mtb_run_train(const mtb_run_config *cfg, const mtb_dataset *ds, mtb_run_log *log,
                         mtb_run_progress progress, void *progress_ctx, mtb_error *err);
void mtb_run_log_free(mtb_run_log *log);

/* Writes the run file (atomically): configuration, problem, data set and provenance as
 * attributes, /steps/..., /eval/..., /summary/... (datasets/README.md "run files").
 * dataset_path is recorded as given (NULL: generated in memory); prov may be NULL. */
mtb_status mtb_run_save(const char *path, const mtb_run_config *cfg, const mtb_dataset *ds,
                        const char *dataset_path, const mtb_run_log *log,
                        const mtb_provenance *prov, mtb_error *err);

/* A run that diverged (a non-finite loss or gradient) is a result, not a failure: its run
 * file holds the configuration, the step and the message, with attribute diverged = 1. */
mtb_status mtb_run_save_diverged(const char *path, const mtb_run_config *cfg, long step,
                                 const char *message, const mtb_provenance *prov,
                                 mtb_error *err);

/* What a results table needs from a run file, read back with every size checked. */
typedef struct mtb_run_summary {
    char problem[MTB_PROBLEM_NAME_LEN];
    char scale[16];
    char method[64];
    char options[512];
    uint64_t seed;
    int T;
    long steps;
    int diverged;                              /* then only the identity fields are set */
    char message[256];
    mtb_metric_kind metric[MTB_PROBLEM_MAX_TASKS];
    double metric_last[MTB_PROBLEM_MAX_TASKS]; /* at the last evaluation (the reported value) */
    double metric_best[MTB_PROBLEM_MAX_TASKS]; /* best over the evaluations (stored, never mixed) */
    double metric_clean_last[MTB_PROBLEM_MAX_TASKS]; /* NAN where the task has none */
    double test_nl_last;                       /* NAN when not tracked */
    double wall_s;
    int resumed;
    char code_version[128];
    char blas_kernel[64];                      /* the provenance's kernel and thread count: */
    int blas_threads;                          /* with code_version, what rounding depends on */
} mtb_run_summary;

/* MTB_OK and *s filled when path is a complete run file (format mtb-run, version 2). */
mtb_status mtb_run_read_summary(const char *path, mtb_run_summary *s, mtb_error *err);

#endif
