/* run_file.c: the run file of a training run (run.h): write it, write the record of a
 * diverged run, and read back the summary a results table needs. The layout is documented
 * in datasets/README.md ("Run files"). Format version 2 added the problem, the per-task
 * metrics and the provenance to version 1 (MTR-only runs); version 3 moves the timings to
 * /timing (so that `h5diff --exclude-path /timing --exclude-path /provenance` compares two
 * runs of one job), numbers the steps, describes every dataset with its unit, and
 * fingerprints the data. */
#include "mtb/run.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mtb/h5.h"
#include "mtb/sha256.h"
#include "mtb/stats.h"

#define RUN_FORMAT "mtb-run"
#define RUN_FORMAT_VERSION 3

#define TRY(x) do { if ((st = (x))) goto fail; } while (0)

/* The format, the outcome and the job identity every run file carries, complete or
 * diverged. */
static mtb_status write_identity(mtb_h5 *f, const mtb_run_config *cfg, int diverged,
                                 mtb_error *err)
{
    const mtb_problem *p = cfg->problem;
    mtb_status st;
    TRY(mtb_h5_attr_str(f, "/", "format", RUN_FORMAT, err));
    TRY(mtb_h5_attr_i64(f, "/", "format_version", RUN_FORMAT_VERSION, err));
    TRY(mtb_h5_attr_i64(f, "/", "diverged", diverged, err));
    TRY(mtb_h5_attr_str(f, "/", "problem", p->name, err));
    TRY(mtb_h5_attr_str(f, "/", "problem_description", p->description, err));
    TRY(mtb_h5_attr_str(f, "/", "scale", p->scale, err));
    TRY(mtb_h5_attr_str(f, "/", "method", cfg->method, err));
    TRY(mtb_h5_attr_str(f, "/", "options", cfg->options, err));
    TRY(mtb_h5_attr_i64(f, "/", "seed", (int64_t)cfg->seed, err));
    TRY(mtb_h5_attr_i64(f, "/", "tasks", p->T, err));
fail:
    return st;
}

static mtb_status write_protocol(mtb_h5 *f, const mtb_run_config *cfg, mtb_error *err)
{
    const mtb_protocol *pr = &cfg->problem->proto;
    char widths[256] = "";
    for (int i = 0; i < pr->n_hidden; i++) {
        size_t l = strlen(widths);
        snprintf(widths + l, sizeof widths - l, "%s%d", i ? "," : "", pr->widths[i]);
    }
    mtb_status st;
    TRY(mtb_h5_attr_i64(f, "/", "batch", pr->batch, err));
    TRY(mtb_h5_attr_i64(f, "/", "drop_last", pr->drop_last, err));
    TRY(mtb_h5_attr_i64(f, "/", "eval_every", pr->eval_every, err));
    TRY(mtb_h5_attr_i64(f, "/", "eval_initial", pr->eval_initial, err));
    TRY(mtb_h5_attr_i64(f, "/", "eval_after_updates", pr->eval_after_updates, err));
    TRY(mtb_h5_attr_i64(f, "/", "nl_window", pr->nl_window, err));
    TRY(mtb_h5_attr_str(f, "/", "trunk_widths", widths, err));
    TRY(mtb_h5_attr_str(f, "/", "activation", pr->act == MTB_ACT_TANH ? "tanh" : "relu", err));
    TRY(mtb_h5_attr_f64(f, "/", "init_gain", pr->init_gain, err));
    TRY(mtb_h5_attr_str(f, "/", "trunk", pr->trunk[0] ? pr->trunk : "dense", err));
    TRY(mtb_h5_attr_str(f, "/", "init", mtb_init_name(pr->init), err));
    TRY(mtb_h5_attr_str(f, "/", "optimizer", pr->optim.kind == MTB_OPT_ADAM ? "adam" : "sgd", err));
    TRY(mtb_h5_attr_f64(f, "/", "lr", pr->optim.lr, err));
    TRY(mtb_h5_attr_f64(f, "/", "adam_beta1", pr->optim.beta1, err));
    TRY(mtb_h5_attr_f64(f, "/", "adam_beta2", pr->optim.beta2, err));
    TRY(mtb_h5_attr_f64(f, "/", "adam_eps", pr->optim.eps, err));
    TRY(mtb_h5_attr_f64(f, "/", "momentum", pr->optim.momentum, err));
    TRY(mtb_h5_attr_f64(f, "/", "weight_decay", pr->optim.weight_decay, err));
    TRY(mtb_h5_attr_str(f, "/", "lr_schedule", mtb_lr_schedule_name(pr->optim.schedule), err));
    TRY(mtb_h5_attr_f64(f, "/", "lr_power", pr->optim.lr_power, err));
    TRY(mtb_h5_attr_i64(f, "/", "lr_steps", pr->optim.lr_steps ? pr->optim.lr_steps : pr->steps, err));
    TRY(mtb_h5_attr_f64(f, "/", "clip_norm", pr->clip_norm, err));
    TRY(mtb_h5_attr_i64(f, "/", "task_chunk", cfg->task_chunk, err));
    TRY(mtb_h5_attr_i64(f, "/", "gram_path", cfg->gram, err));
    TRY(mtb_h5_attr_i64(f, "/", "skip_zero_heads", cfg->skip_zero_heads, err));
    TRY(mtb_h5_attr_i64(f, "/", "blas_threads", cfg->threads, err));
fail:
    return st;
}

/* /tasks: what each column of the per-task arrays is. */
static mtb_status write_tasks(mtb_h5 *f, const mtb_problem *p, mtb_error *err)
{
    const size_t T = (size_t)p->T, dT[1] = {T};
    const char *names[MTB_PROBLEM_MAX_TASKS], *metrics[MTB_PROBLEM_MAX_TASKS];
    const char *clean[MTB_PROBLEM_MAX_TASKS];
    int64_t hib[MTB_PROBLEM_MAX_TASKS];
    double os[MTB_PROBLEM_MAX_TASKS], ls[MTB_PROBLEM_MAX_TASKS], oc[MTB_PROBLEM_MAX_TASKS];
    double ref[MTB_PROBLEM_MAX_TASKS];
    for (size_t t = 0; t < T; t++) {
        const mtb_problem_task *k = &p->tasks[t];
        names[t] = k->name;
        metrics[t] = mtb_metric_name(k->metric.kind);
        clean[t] = mtb_metric_name(k->metric_clean.kind);
        hib[t] = mtb_metric_higher_is_better(k->metric.kind);
        os[t] = k->out_scale, ls[t] = k->loss_scale, oc[t] = k->oc_weight, ref[t] = k->metric.ref;
    }
    mtb_status st;
    TRY(mtb_h5_write_strs(f, "/tasks/name", T, names, err));
    TRY(mtb_h5_write_strs(f, "/tasks/metric", T, metrics, err));
    TRY(mtb_h5_write_strs(f, "/tasks/metric_clean", T, clean, err));
    TRY(mtb_h5_write_i64(f, "/tasks/higher_is_better", 1, dT, hib, err));
    TRY(mtb_h5_write_f64(f, "/tasks/metric_ref", 1, dT, ref, err));
    TRY(mtb_h5_write_f64(f, "/tasks/out_scale", 1, dT, os, err));
    TRY(mtb_h5_write_f64(f, "/tasks/loss_scale", 1, dT, ls, err));
    TRY(mtb_h5_write_f64(f, "/tasks/oc_weight", 1, dT, oc, err));
fail:
    return st;
}

/* Writes a dataset's description and unit as its attributes. */
static mtb_status describe(mtb_h5 *f, const char *obj, const char *what, const char *unit,
                           mtb_error *err)
{
    mtb_status st = mtb_h5_attr_str(f, obj, "description", what, err);
    return st ? st : mtb_h5_attr_str(f, obj, "unit", unit, err);
}

/* SHA-256 of the data the run trained and evaluated on: the train and test arrays as
 * stored in memory (float32, row-major), so that runs on one data instance can be matched
 * whether it came from a file or from the generator. */
static void data_fingerprint(const mtb_dataset *ds, char hex[65])
{
    mtb_sha256 s;
    mtb_sha256_init(&s);
    const mtb_split *sp[2] = {&ds->train, &ds->test};
    for (int k = 0; k < 2; k++) {
        mtb_sha256_update(&s, sp[k]->x, sizeof(float) * sp[k]->n * (size_t)ds->d_in);
        mtb_sha256_update(&s, sp[k]->y, sizeof(float) * sp[k]->n * (size_t)ds->y_width);
    }
    mtb_sha256_final(&s, hex);
}

static double min_of(const double *x, size_t n)
{
    double m = INFINITY;
    for (size_t i = 0; i < n; i++)
        if (x[i] < m)
            m = x[i];
    return m;
}

/* Last and best (by the metric's direction) over the evaluations, per task. */
static void metric_summary(const mtb_problem *p, const mtb_run_log *log, double *last,
                           double *best, double *clean_last)
{
    const int T = log->T;
    const long E = log->n_eval;
    for (int t = 0; t < T; t++) {
        int hib = mtb_metric_higher_is_better(p->tasks[t].metric.kind);
        double b = NAN;
        for (long e = 0; e < E; e++) {
            double v = log->eval_metric[(size_t)e * T + t];
            if (isnan(b) || (hib ? v > b : v < b))
                b = v;
        }
        last[t] = E ? log->eval_metric[(size_t)(E - 1) * T + t] : NAN;
        best[t] = b;
        clean_last[t] = E && p->tasks[t].metric_clean.kind != MTB_METRIC_NONE
                            ? log->eval_metric_clean[(size_t)(E - 1) * T + t]
                            : NAN;
    }
}

mtb_status mtb_run_save(const char *path, const mtb_run_config *cfg, const mtb_dataset *ds,
                        const char *dataset_path, const mtb_run_log *log,
                        const mtb_provenance *prov, mtb_error *err)
{
    const mtb_problem *p = cfg->problem;
    const size_t S = (size_t)log->steps, T = (size_t)log->T, E = (size_t)log->n_eval;
    const size_t dST[2] = {S, T}, dS[1] = {S}, dE[1] = {E}, dET[2] = {E, T}, dT[1] = {T};
    double last[MTB_PROBLEM_MAX_TASKS], best[MTB_PROBLEM_MAX_TASKS], clean[MTB_PROBLEM_MAX_TASKS];
    metric_summary(p, log, last, best, clean);
    double *ms = malloc(sizeof(double) * (S ? S : 1));
    if (!ms)
        return mtb_fail(err, MTB_ENOMEM, "run file %s: out of memory", path);
    memcpy(ms, log->wall_ms, sizeof(double) * S);
    double median_ms = mtb_stats_median_inplace(ms, S);
    free(ms);
    int64_t *step_index = malloc(sizeof(int64_t) * (S ? S : 1));
    if (!step_index)
        return mtb_fail(err, MTB_ENOMEM, "run file %s: out of memory", path);
    for (size_t k = 0; k < S; k++)
        step_index[k] = (int64_t)k;
    char content[65], file_hash[65] = "";
    data_fingerprint(ds, content);
    if (dataset_path && mtb_sha256_file(dataset_path, file_hash, NULL))
        snprintf(file_hash, sizeof file_hash, "unreadable");
    mtb_h5 *f = mtb_h5_create(path, err);
    if (!f) {
        free(step_index);
        return err ? err->status : MTB_EIO;
    }
    /* Metric rows of tasks without a clean metric are NAN (written as such). */
    mtb_status st = MTB_OK;
    TRY(write_identity(f, cfg, 0, err));
    TRY(mtb_h5_attr_str(f, "/", "method_hparams", log->method_desc, err));
    TRY(mtb_h5_attr_str(f, "/", "dataset", dataset_path ? dataset_path : "(generated in memory)", err));
    TRY(mtb_h5_attr_str(f, "/", "dataset_file_sha256", file_hash, err));
    TRY(mtb_h5_attr_str(f, "/", "dataset_content_sha256", content, err));
    TRY(mtb_h5_attr_str(f, "/", "dataset_name", ds->name, err));
    TRY(mtb_h5_attr_str(f, "/", "dataset_generator", ds->generator, err));
    TRY(mtb_h5_attr_i64(f, "/", "dataset_seed", (int64_t)ds->seed, err));
    TRY(mtb_h5_attr_i64(f, "/", "steps", (int64_t)S, err));
    TRY(write_protocol(f, cfg, err));
    TRY(mtb_h5_attr_str(f, "/", "reproducibility",
                        "bit-identical for the same seed, data set, mtb binary, BLAS kernel and "
                        "blas_threads (see /provenance), except /timing, which holds the timings", err));
    TRY(write_tasks(f, p, err));
    TRY(mtb_h5_write_i64(f, "/steps/step", 1, dS, step_index, err));
    TRY(describe(f, "/steps/step", "the index of the step, from 0", "step", err));
    TRY(mtb_h5_write_f64(f, "/steps/loss", 2, dST, log->loss, err));
    TRY(describe(f, "/steps/loss", "per step and task: the batch loss the method saw (times the "
                 "task's loss_scale)", "the task's loss", err));
    TRY(mtb_h5_write_f64(f, "/steps/head_weight", 2, dST, log->head_w, err));
    TRY(describe(f, "/steps/head_weight", "per step and task: the weight of the task's loss in "
                 "its head's gradient", "1", err));
    TRY(mtb_h5_write_f64(f, "/steps/trunk_weight", 2, dST, log->trunk_w, err));
    TRY(describe(f, "/steps/trunk_weight", "per step and task: the weight of the task in the "
                 "trunk's gradient, as the method reports it", "1", err));
    TRY(mtb_h5_write_f64(f, "/steps/head_step", 2, dST, log->head_step, err));
    TRY(describe(f, "/steps/head_step", "per step and task: the L2 norm of the change of the "
                 "task head's parameters (weights and bias) in the step", "parameter units", err));
    TRY(mtb_h5_write_f64(f, "/steps/shared_grad_norm", 1, dS, log->shared_norm, err));
    TRY(describe(f, "/steps/shared_grad_norm", "L2 norm of the trunk gradient before clipping "
                 "(NaN for STL)", "loss per parameter unit", err));
    TRY(mtb_h5_write_i64(f, "/eval/step", 1, dE, log->eval_step, err));
    TRY(describe(f, "/eval/step", "the step after which the test split was evaluated; -1: the "
                 "initial model", "step", err));
    TRY(mtb_h5_write_f64(f, "/eval/test_loss", 2, dET, log->eval_test_loss, err));
    TRY(describe(f, "/eval/test_loss", "per evaluation and task: the mean loss over the test "
                 "split (times loss_scale)", "the task's loss", err));
    TRY(mtb_h5_write_f64(f, "/eval/test_metric", 2, dET, log->eval_metric, err));
    TRY(describe(f, "/eval/test_metric", "per evaluation and task: the task's metric "
                 "(/tasks/metric) over the test split", "see /tasks/metric", err));
    TRY(mtb_h5_write_f64(f, "/eval/test_metric_clean", 2, dET, log->eval_metric_clean, err));
    TRY(describe(f, "/eval/test_metric_clean", "per evaluation and task: the metric against "
                 "the clean labels (NaN where the task has none)", "see /tasks/metric_clean", err));
    TRY(mtb_h5_write_f64(f, "/summary/metric_last", 1, dT, last, err));
    TRY(describe(f, "/summary/metric_last", "per task: the metric at the last evaluation (the "
                 "reported value)", "see /tasks/metric", err));
    TRY(mtb_h5_write_f64(f, "/summary/metric_best", 1, dT, best, err));
    TRY(describe(f, "/summary/metric_best", "per task: the best metric over the evaluations, "
                 "by its direction (stored, never reported as the result)", "see /tasks/metric", err));
    TRY(mtb_h5_write_f64(f, "/summary/metric_clean_last", 1, dT, clean, err));
    TRY(describe(f, "/summary/metric_clean_last", "per task: the clean-label metric at the last "
                 "evaluation", "see /tasks/metric_clean", err));
    if (p->proto.nl_window > 0) {
        TRY(mtb_h5_write_f64(f, "/steps/train_nl", 1, dS, log->train_nl, err));
        TRY(describe(f, "/steps/train_nl", "the SLAW normalised loss of the step's batches, "
                     "mean over the last nl_window steps", "1", err));
        TRY(mtb_h5_write_f64(f, "/steps/loss_weight_error", 1, dS, log->lwe, err));
        TRY(describe(f, "/steps/loss_weight_error", "(1/T) sum_t (T w_t / sum w - w*_t)^2 with w* "
                     "the oracle weights", "1", err));
        TRY(mtb_h5_write_f64(f, "/eval/train_nl", 1, dE, log->eval_train_nl, err));
        TRY(describe(f, "/eval/train_nl", "/steps/train_nl at the evaluation's step", "1", err));
        TRY(mtb_h5_write_f64(f, "/eval/test_nl", 1, dE, log->eval_test_nl, err));
        TRY(describe(f, "/eval/test_nl", "the SLAW normalised loss over the test split", "1", err));
        TRY(mtb_h5_attr_f64(f, "/", "final_train_nl", E ? log->eval_train_nl[E - 1] : NAN, err));
        TRY(mtb_h5_attr_f64(f, "/", "final_test_nl", E ? log->eval_test_nl[E - 1] : NAN, err));
        TRY(mtb_h5_attr_f64(f, "/", "best_train_nl", min_of(log->train_nl, S), err));
        TRY(mtb_h5_attr_f64(f, "/", "best_test_nl", min_of(log->eval_test_nl, E), err));
    }
    TRY(mtb_h5_write_f64(f, "/timing/wall_ms", 1, dS, log->wall_ms, err));
    TRY(describe(f, "/timing/wall_ms", "wall time of each training step, from the batch in memory "
                 "to the optimiser's update", "ms", err));
    TRY(mtb_h5_attr_f64(f, "/timing", "wall_s", log->wall_s, err));
    TRY(mtb_h5_attr_f64(f, "/timing", "median_ms_per_step", median_ms, err));
    if (prov)
        TRY(mtb_provenance_write(f, "/provenance", prov, err));
    /* written last: a file without it was not finished by this code (the rename makes a
     * partial file impossible; this also rejects files of other writers) */
    TRY(mtb_h5_attr_i64(f, "/", "complete", 1, err));
    free(step_index);
    return mtb_h5_commit(f, err);
fail:
    free(step_index);
    mtb_h5_discard(f);
    return st;
}

mtb_status mtb_run_save_diverged(const char *path, const mtb_run_config *cfg, long step,
                                 const char *message, const mtb_provenance *prov, mtb_error *err)
{
    mtb_h5 *f = mtb_h5_create(path, err);
    if (!f)
        return err ? err->status : MTB_EIO;
    mtb_status st;
    TRY(write_identity(f, cfg, 1, err));
    TRY(mtb_h5_attr_i64(f, "/", "diverged_step", step, err));
    TRY(mtb_h5_attr_str(f, "/", "message", message ? message : "", err));
    TRY(write_protocol(f, cfg, err));
    TRY(write_tasks(f, cfg->problem, err));
    if (prov)
        TRY(mtb_provenance_write(f, "/provenance", prov, err));
    TRY(mtb_h5_attr_i64(f, "/", "complete", 1, err));
    return mtb_h5_commit(f, err);
fail:
    mtb_h5_discard(f);
    return st;
}

/* Reads a rank-1 f64 dataset of exactly T values into dst. */
static mtb_status read_vec(mtb_h5 *f, const char *obj, int T, double *dst, mtb_error *err)
{
    size_t d[1];
    double *v = NULL;
    mtb_status st = mtb_h5_read_f64(f, obj, 1, d, &v, 0, err);
    if (!st && d[0] != (size_t)T)
        st = mtb_fail(err, MTB_EIO, "%s has %zu values, expected %d (one per task)", obj, d[0], T);
    if (!st)
        memcpy(dst, v, sizeof(double) * (size_t)T);
    free(v);
    return st;
}

mtb_status mtb_run_read_summary(const char *path, mtb_run_summary *s, mtb_error *err)
{
    memset(s, 0, sizeof *s);
    mtb_h5 *f = mtb_h5_open(path, err);
    if (!f)
        return err ? err->status : MTB_EIO;
    char fmt[32] = "";
    int64_t ver = 0, T = 0, seed = 0, v = 0;
    mtb_status st;
    TRY(mtb_h5_attr_get_str(f, "/", "format", fmt, sizeof fmt, err));
    if (strcmp(fmt, RUN_FORMAT))
        TRY(mtb_fail(err, MTB_EIO, "not an mtb run file (format '%s')", fmt));
    TRY(mtb_h5_attr_get_i64(f, "/", "format_version", &ver, err));
    if (ver != RUN_FORMAT_VERSION)
        TRY(mtb_fail(err, MTB_EIO, "run file format version %lld, this mtb reads %d (rerun the "
                     "job)", (long long)ver, RUN_FORMAT_VERSION));
    if (!mtb_h5_attr_exists(f, "/", "complete"))
        TRY(mtb_fail(err, MTB_EIO, "incomplete run file (no 'complete' mark)"));
    TRY(mtb_h5_attr_get_str(f, "/", "problem", s->problem, sizeof s->problem, err));
    TRY(mtb_h5_attr_get_str(f, "/", "scale", s->scale, sizeof s->scale, err));
    TRY(mtb_h5_attr_get_str(f, "/", "method", s->method, sizeof s->method, err));
    TRY(mtb_h5_attr_get_str(f, "/", "options", s->options, sizeof s->options, err));
    TRY(mtb_h5_attr_get_i64(f, "/", "seed", &seed, err));
    TRY(mtb_h5_attr_get_i64(f, "/", "tasks", &T, err));
    if (T < 1 || T > MTB_PROBLEM_MAX_TASKS)
        TRY(mtb_fail(err, MTB_EIO, "attribute tasks = %lld, expected 1..%d", (long long)T,
                     MTB_PROBLEM_MAX_TASKS));
    s->seed = (uint64_t)seed;
    s->T = (int)T;
    TRY(mtb_h5_attr_get_i64(f, "/", "diverged", &v, err));
    s->diverged = v != 0;
    if (mtb_h5_attr_exists(f, "/provenance", "resumed")) {
        TRY(mtb_h5_attr_get_i64(f, "/provenance", "resumed", &v, err));
        s->resumed = v != 0;
        TRY(mtb_h5_attr_get_str(f, "/provenance", "code_version", s->code_version,
                                sizeof s->code_version, err));
    }
    if (mtb_h5_attr_exists(f, "/provenance", "blas_kernel")) {
        TRY(mtb_h5_attr_get_str(f, "/provenance", "blas_kernel", s->blas_kernel,
                                sizeof s->blas_kernel, err));
        TRY(mtb_h5_attr_get_i64(f, "/provenance", "blas_threads", &v, err));
        s->blas_threads = (int)v;
    }
    char **names = NULL;
    size_t n = 0;
    TRY(mtb_h5_read_strs(f, "/tasks/metric", &n, &names, err));
    for (size_t t = 0; t < n && t < (size_t)T; t++)
        if (mtb_metric_from_name(names[t], &s->metric[t]))
            st = mtb_fail(err, MTB_EIO, "/tasks/metric[%zu] = '%s' is not a known metric", t, names[t]);
    mtb_h5_free_strs(names, n);
    if (!st && n != (size_t)T)
        st = mtb_fail(err, MTB_EIO, "/tasks/metric has %zu names, expected %lld", n, (long long)T);
    if (st)
        goto fail;
    if (s->diverged) {
        int64_t step = 0;
        TRY(mtb_h5_attr_get_i64(f, "/", "diverged_step", &step, err));
        s->steps = (long)step;
        TRY(mtb_h5_attr_get_str(f, "/", "message", s->message, sizeof s->message, err));
        for (int t = 0; t < s->T; t++)
            s->metric_last[t] = s->metric_best[t] = s->metric_clean_last[t] = NAN;
        s->test_nl_last = s->wall_s = NAN;
    } else {
        int64_t steps = 0;
        TRY(mtb_h5_attr_get_i64(f, "/", "steps", &steps, err));
        s->steps = (long)steps;
        TRY(read_vec(f, "/summary/metric_last", s->T, s->metric_last, err));
        TRY(read_vec(f, "/summary/metric_best", s->T, s->metric_best, err));
        TRY(read_vec(f, "/summary/metric_clean_last", s->T, s->metric_clean_last, err));
        s->test_nl_last = NAN;
        if (mtb_h5_attr_exists(f, "/", "final_test_nl"))
            TRY(mtb_h5_attr_get_f64(f, "/", "final_test_nl", &s->test_nl_last, err));
        TRY(mtb_h5_attr_get_f64(f, "/timing", "wall_s", &s->wall_s, err));
    }
    mtb_h5_close(f);
    return MTB_OK;
fail:
    mtb_h5_close(f);
    mtb_error_prefix(err, "%s: ", path);
    return st;
}
