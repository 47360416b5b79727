/* run.c: a complete training run (see run.h) and its run file. */
#include "mtb/run.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mtb/h5.h"
#include "mtb/rng.h"
#include "mtb/train.h"

void mtb_run_config_default(mtb_run_config *c)
{
    memset(c, 0, sizeof *c);
    snprintf(c->method, sizeof c->method, "ew");
    c->seed = 0;
    c->steps = 9900;
    c->batch = 304;
    c->eval_every = 33;
    c->nl_window = 30;
    c->n_hidden = 4;
    for (int i = 0; i < MTB_MAX_HIDDEN; i++)
        c->widths[i] = 100;
    c->act = MTB_ACT_TANH;
    c->init_gain = sqrt(2.0);
    mtb_optim_config_adam(&c->optim, 7e-4);
    c->optim.eps = 1e-5;
    c->clip_norm = 0.5;
    c->task_chunk = 0;
    c->threads = 1;
}

void mtb_run_log_free(mtb_run_log *log)
{
    free(log->loss), free(log->head_w), free(log->trunk_w), free(log->shared_norm);
    free(log->wall_ms), free(log->train_nl), free(log->lwe);
    free(log->eval_step), free(log->eval_train_nl), free(log->eval_test_nl), free(log->eval_test_loss);
    memset(log, 0, sizeof *log);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* sum_t (1/sigma_t^2) * per-task sum of squared errors, over the regression tasks, / T. */
static double normalised_loss(const mtb_dataset *ds, const double *sse)
{
    double s = 0.0;
    for (int t = 0; t < ds->T; t++)
        s += sse[t] / (ds->tasks[t].sigma * ds->tasks[t].sigma);
    return s / ds->T;
}

static double weight_error(int T, const double *w, const double *ideal)
{
    double sum = 0.0, e = 0.0;
    for (int t = 0; t < T; t++)
        sum += w[t];
    if (!(fabs(sum) > 0.0))
        return NAN;
    for (int t = 0; t < T; t++) {
        double d = T * w[t] / sum - ideal[t];
        e += d * d;
    }
    return e / T;
}

typedef struct run_state {
    mtb_model *model;
    mtb_balancer *bal;
    mtb_trainer *tr;
    size_t *order;
    float *bx, *by;
    double *ideal, *eval_loss, *eval_sse, *window;
} run_state;

static void run_state_free(run_state *s)
{
    mtb_trainer_free(s->tr);
    mtb_balancer_free(s->bal);
    mtb_model_free(s->model);
    free(s->order), free(s->bx), free(s->by);
    free(s->ideal), free(s->eval_loss), free(s->eval_sse), free(s->window);
}

static mtb_status alloc_log(mtb_run_log *log, int T, long steps, long n_eval)
{
    size_t S = (size_t)steps, ST = S * (size_t)T, E = (size_t)n_eval;
    memset(log, 0, sizeof *log);
    log->T = T;
    log->loss = calloc(ST, sizeof(double));
    log->head_w = calloc(ST, sizeof(double));
    log->trunk_w = calloc(ST, sizeof(double));
    log->shared_norm = calloc(S, sizeof(double));
    log->wall_ms = calloc(S, sizeof(double));
    log->train_nl = calloc(S, sizeof(double));
    log->lwe = calloc(S, sizeof(double));
    log->eval_step = calloc(E, sizeof(int64_t));
    log->eval_train_nl = calloc(E, sizeof(double));
    log->eval_test_nl = calloc(E, sizeof(double));
    log->eval_test_loss = calloc(E * (size_t)T, sizeof(double));
    if (!log->loss || !log->head_w || !log->trunk_w || !log->shared_norm || !log->wall_ms ||
        !log->train_nl || !log->lwe || !log->eval_step || !log->eval_train_nl ||
        !log->eval_test_nl || !log->eval_test_loss)
        return MTB_ENOMEM;
    return MTB_OK;
}

static mtb_status check_config(const mtb_run_config *c, const mtb_dataset *ds, mtb_error *err)
{
    if (c->steps < 1)
        return mtb_fail(err, MTB_EINVAL, "train: --steps must be >= 1, got %ld", c->steps);
    if (c->batch < 1)
        return mtb_fail(err, MTB_EINVAL, "train: --batch must be >= 1, got %d", c->batch);
    if ((size_t)c->batch > ds->train.n)
        return mtb_fail(err, MTB_EINVAL,
                        "train: batch %d is larger than the %zu training samples; use --batch <= %zu",
                        c->batch, ds->train.n, ds->train.n);
    if (c->eval_every < 1)
        return mtb_fail(err, MTB_EINVAL, "train: --eval-every must be >= 1, got %d", c->eval_every);
    if (c->nl_window < 1)
        return mtb_fail(err, MTB_EINVAL, "train: NL window must be >= 1, got %d", c->nl_window);
    if (!(c->init_gain > 0.0))
        return mtb_fail(err, MTB_EINVAL, "train: --init-gain must be > 0, got %g", c->init_gain);
    if (ds->test.n == 0)
        return mtb_fail(err, MTB_EINVAL, "train: the dataset has no test samples");
    return MTB_OK;
}

static mtb_status make_balancer(const mtb_run_config *cfg, const mtb_dataset *ds, run_state *s,
                                mtb_run_log *log, mtb_error *err)
{
    const int T = ds->T;
    int ideal = !strcmp(cfg->method, "ideal");
    const mtb_balancer_type *type = mtb_balancer_find(ideal ? "constant" : cfg->method);
    if (!type)
        return mtb_fail(err, MTB_EINVAL, "train: unknown method '%s' (run 'mtb methods' for the list)",
                        cfg->method);
    mtb_hparams hp;
    mtb_status st = mtb_hparams_parse(type, cfg->options, &hp, err);
    if (st)
        return st;
    mtb_balancer_setup setup;
    st = mtb_balancer_query(type, T, &hp, &setup, err);
    if (st)
        return st;
    const mtb_model *m = s->model;
    size_t D_max = setup.need == MTB_NEED_REP_GRADS ? (size_t)cfg->batch * m->dz
                 : setup.need == MTB_NEED_PARAM_GRADS
                     ? (setup.scope == MTB_SCOPE_ALL ? m->n_trunk : m->last_dense_size)
                     : 0;
    s->bal = mtb_balancer_new(type, T, D_max, &hp, cfg->seed, err);
    if (!s->bal)
        return err ? err->status : MTB_EINVAL;
    if (ideal) {
        st = mtb_balancer_set_constant_weights(s->bal, s->ideal, err);
        if (st)
            return st;
    }
    char hps[512];
    mtb_hparams_format(type, &hp, hps, sizeof hps);
    snprintf(log->method_desc, sizeof log->method_desc, "%s%s%s", cfg->method, hps[0] ? " " : "", hps);
    return MTB_OK;
}

mtb_status mtb_run_train(const mtb_run_config *cfg, const mtb_dataset *ds, mtb_run_log *log,
                         mtb_run_progress progress, void *progress_ctx, mtb_error *err)
{
    memset(log, 0, sizeof *log);
    mtb_status st = check_config(cfg, ds, err);
    if (st)
        return st;
    const int T = ds->T, B = cfg->batch;
    const size_t n = ds->train.n, d_in = (size_t)ds->d_in, yw = (size_t)ds->y_width;
    const long n_eval = (cfg->steps - 1) / cfg->eval_every + 1 + ((cfg->steps - 1) % cfg->eval_every != 0);
    run_state s = {0};
    if (alloc_log(log, T, cfg->steps, n_eval)) {
        mtb_run_log_free(log);
        return mtb_fail(err, MTB_ENOMEM, "train: cannot allocate the log of %ld steps", cfg->steps);
    }

    int head_out[T];
    for (int t = 0; t < T; t++)
        head_out[t] = ds->tasks[t].out_width;
    mtb_model_config mc = {(int)d_in, cfg->n_hidden, {0}, cfg->act, T, head_out};
    memcpy(mc.widths, cfg->widths, sizeof mc.widths);
    s.order = malloc(sizeof(size_t) * n);
    s.bx = malloc(sizeof(float) * (size_t)B * d_in);
    s.by = malloc(sizeof(float) * (size_t)B * yw);
    s.ideal = malloc(sizeof(double) * (size_t)T);
    s.eval_loss = malloc(sizeof(double) * (size_t)T);
    s.eval_sse = malloc(sizeof(double) * (size_t)T);
    s.window = calloc((size_t)cfg->nl_window, sizeof(double));
    if (!s.order || !s.bx || !s.by || !s.ideal || !s.eval_loss || !s.eval_sse || !s.window) {
        st = mtb_fail(err, MTB_ENOMEM, "train: out of memory");
        goto done;
    }
    /* ideal weights 1/sigma^2, rescaled to sum T (spec sec. 3.2) */
    double isum = 0.0;
    for (int t = 0; t < T; t++)
        isum += s.ideal[t] = 1.0 / (ds->tasks[t].sigma * ds->tasks[t].sigma);
    for (int t = 0; t < T; t++)
        s.ideal[t] *= T / isum;

    mtb_rng init_rng, shuffle_rng;
    mtb_rng_seed(&init_rng, cfg->seed, MTB_STREAM_INIT);
    mtb_rng_seed(&shuffle_rng, cfg->seed, MTB_STREAM_SHUFFLE);
    if ((st = mtb_model_new(&mc, &s.model, err)) || (st = mtb_model_init_orthogonal(s.model, cfg->init_gain, &init_rng, err)))
        goto done;
    if ((st = make_balancer(cfg, ds, &s, log, err)))
        goto done;
    mtb_trainer_config tc = {cfg->optim, cfg->clip_norm, B, cfg->task_chunk, MTB_NEED_LOSSES, MTB_SCOPE_ALL};
    if ((st = mtb_trainer_new(s.model, ds->tasks, s.bal, &tc, &s.tr, err)))
        goto done;

    const double t_start = now_s();
    size_t pos = n; /* forces a shuffle at the first step */
    long epoch = -1, e = 0;
    double window_sum = 0.0;
    for (long step = 0; step < cfg->steps; step++) {
        if (pos >= n) {
            for (size_t i = 0; i < n; i++)
                s.order[i] = i;
            mtb_rng_shuffle(&shuffle_rng, s.order, n);
            pos = 0;
            epoch++;
        }
        int b = (int)(n - pos < (size_t)B ? n - pos : (size_t)B);
        for (int r = 0; r < b; r++) {
            size_t i = s.order[pos + (size_t)r];
            memcpy(s.bx + (size_t)r * d_in, ds->train.x + i * d_in, sizeof(float) * d_in);
            memcpy(s.by + (size_t)r * yw, ds->train.y + i * yw, sizeof(float) * yw);
        }
        pos += (size_t)b;

        double t0 = now_s();
        mtb_step_result res;
        st = mtb_trainer_step(s.tr, s.bx, s.by, yw, b, step, epoch, &res, err);
        double t1 = now_s();
        if (st) {
            mtb_error_prefix(err, "step %ld: ", step);
            goto done;
        }
        size_t o = (size_t)step * T;
        /* per-task sum of squared errors = out_width * MSE for the regression tasks */
        double sse[T];
        for (int t = 0; t < T; t++)
            sse[t] = ds->tasks[t].loss == MTB_LOSS_MSE ? res.losses[t] * ds->tasks[t].out_width : 0.0;
        double nl = normalised_loss(ds, sse);
        int slot = (int)(step % cfg->nl_window);
        window_sum += nl - s.window[slot];
        s.window[slot] = nl;
        long filled = step + 1 < cfg->nl_window ? step + 1 : cfg->nl_window;
        memcpy(log->loss + o, res.losses, sizeof(double) * T);
        memcpy(log->head_w + o, res.head_w, sizeof(double) * T);
        memcpy(log->trunk_w + o, res.trunk_w, sizeof(double) * T);
        log->shared_norm[step] = res.shared_grad_norm;
        log->wall_ms[step] = 1e3 * (t1 - t0);
        log->train_nl[step] = window_sum / (double)filled;
        log->lwe[step] = weight_error(T, res.trunk_w, s.ideal);
        log->steps = step + 1;

        if (step % cfg->eval_every == 0 || step == cfg->steps - 1) {
            /* evaluate the model as it was for this step's forward pass is not possible
             * after the update; like the authors' code we evaluate the current model */
            st = mtb_trainer_evaluate(s.tr, ds->test.x, ds->test.y, yw, ds->test.n, s.eval_loss,
                                      s.eval_sse, err);
            if (st)
                goto done;
            log->eval_step[e] = step;
            log->eval_train_nl[e] = log->train_nl[step];
            log->eval_test_nl[e] = normalised_loss(ds, s.eval_sse);
            memcpy(log->eval_test_loss + (size_t)e * T, s.eval_loss, sizeof(double) * T);
            log->n_eval = ++e;
        }
        if (progress)
            progress(progress_ctx, step + 1, cfg->steps, log);
    }
    log->wall_s = now_s() - t_start;
done:
    run_state_free(&s);
    if (st)
        mtb_run_log_free(log);
    return st;
}

/* ---- run file ------------------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(const double *x, size_t n)
{
    if (!n)
        return NAN;
    double *c = malloc(sizeof(double) * n);
    if (!c)
        return NAN;
    memcpy(c, x, sizeof(double) * n);
    qsort(c, n, sizeof(double), cmp_double);
    double m = n % 2 ? c[n / 2] : 0.5 * (c[n / 2 - 1] + c[n / 2]);
    free(c);
    return m;
}

static double min_of(const double *x, size_t n)
{
    double m = INFINITY;
    for (size_t i = 0; i < n; i++)
        if (x[i] < m)
            m = x[i];
    return m;
}

mtb_status mtb_run_save(const char *path, const mtb_run_config *cfg, const mtb_dataset *ds,
                        const char *dataset_path, const mtb_run_log *log, mtb_error *err)
{
    mtb_h5 *f = mtb_h5_create(path, err);
    if (!f)
        return err ? err->status : MTB_EIO;
    const size_t S = (size_t)log->steps, T = (size_t)log->T, E = (size_t)log->n_eval;
    const size_t dST[2] = {S, T}, dS[1] = {S}, dE[1] = {E}, dET[2] = {E, T};
    char widths[256] = "";
    for (int i = 0; i < cfg->n_hidden; i++) {
        size_t l = strlen(widths);
        snprintf(widths + l, sizeof widths - l, "%s%d", i ? "," : "", cfg->widths[i]);
    }
    mtb_status st = MTB_OK;
#define TRY(x) do { if ((st = (x))) goto fail; } while (0)
    TRY(mtb_h5_attr_str(f, "/", "format", "mtb-run", err));
    TRY(mtb_h5_attr_i64(f, "/", "format_version", 1, err));
    TRY(mtb_h5_attr_str(f, "/", "method", cfg->method, err));
    TRY(mtb_h5_attr_str(f, "/", "method_hparams", log->method_desc, err));
    TRY(mtb_h5_attr_i64(f, "/", "seed", (int64_t)cfg->seed, err));
    TRY(mtb_h5_attr_str(f, "/", "dataset", dataset_path ? dataset_path : "", err));
    TRY(mtb_h5_attr_str(f, "/", "dataset_name", ds->name, err));
    TRY(mtb_h5_attr_str(f, "/", "dataset_generator", ds->generator, err));
    TRY(mtb_h5_attr_i64(f, "/", "dataset_seed", (int64_t)ds->seed, err));
    TRY(mtb_h5_attr_i64(f, "/", "tasks", (int64_t)T, err));
    TRY(mtb_h5_attr_i64(f, "/", "steps", (int64_t)S, err));
    TRY(mtb_h5_attr_i64(f, "/", "batch", cfg->batch, err));
    TRY(mtb_h5_attr_i64(f, "/", "eval_every", cfg->eval_every, err));
    TRY(mtb_h5_attr_i64(f, "/", "nl_window", cfg->nl_window, err));
    TRY(mtb_h5_attr_str(f, "/", "trunk_widths", widths, err));
    TRY(mtb_h5_attr_str(f, "/", "activation", cfg->act == MTB_ACT_TANH ? "tanh" : "relu", err));
    TRY(mtb_h5_attr_f64(f, "/", "init_gain", cfg->init_gain, err));
    TRY(mtb_h5_attr_str(f, "/", "optimizer", cfg->optim.kind == MTB_OPT_ADAM ? "adam" : "sgd", err));
    TRY(mtb_h5_attr_f64(f, "/", "lr", cfg->optim.lr, err));
    TRY(mtb_h5_attr_f64(f, "/", "adam_beta1", cfg->optim.beta1, err));
    TRY(mtb_h5_attr_f64(f, "/", "adam_beta2", cfg->optim.beta2, err));
    TRY(mtb_h5_attr_f64(f, "/", "adam_eps", cfg->optim.eps, err));
    TRY(mtb_h5_attr_f64(f, "/", "momentum", cfg->optim.momentum, err));
    TRY(mtb_h5_attr_f64(f, "/", "weight_decay", cfg->optim.weight_decay, err));
    TRY(mtb_h5_attr_f64(f, "/", "clip_norm", cfg->clip_norm, err));
    TRY(mtb_h5_attr_i64(f, "/", "task_chunk", cfg->task_chunk, err));
    TRY(mtb_h5_attr_i64(f, "/", "blas_threads", cfg->threads, err));
    TRY(mtb_h5_attr_str(f, "/", "reproducibility",
                        "bit-identical for the same seed, dataset file, mtb binary and blas_threads "
                        "(set with --threads or OPENBLAS_NUM_THREADS); /steps/wall_ms and wall_s "
                        "are timings and differ run to run", err));
    TRY(mtb_h5_write_f64(f, "/steps/loss", 2, dST, log->loss, err));
    TRY(mtb_h5_write_f64(f, "/steps/head_weight", 2, dST, log->head_w, err));
    TRY(mtb_h5_write_f64(f, "/steps/trunk_weight", 2, dST, log->trunk_w, err));
    TRY(mtb_h5_write_f64(f, "/steps/shared_grad_norm", 1, dS, log->shared_norm, err));
    TRY(mtb_h5_write_f64(f, "/steps/train_nl", 1, dS, log->train_nl, err));
    TRY(mtb_h5_write_f64(f, "/steps/loss_weight_error", 1, dS, log->lwe, err));
    TRY(mtb_h5_write_f64(f, "/steps/wall_ms", 1, dS, log->wall_ms, err));
    TRY(mtb_h5_write_i64(f, "/eval/step", 1, dE, log->eval_step, err));
    TRY(mtb_h5_write_f64(f, "/eval/train_nl", 1, dE, log->eval_train_nl, err));
    TRY(mtb_h5_write_f64(f, "/eval/test_nl", 1, dE, log->eval_test_nl, err));
    TRY(mtb_h5_write_f64(f, "/eval/test_loss", 2, dET, log->eval_test_loss, err));
    TRY(mtb_h5_attr_f64(f, "/", "final_train_nl", E ? log->eval_train_nl[E - 1] : NAN, err));
    TRY(mtb_h5_attr_f64(f, "/", "final_test_nl", E ? log->eval_test_nl[E - 1] : NAN, err));
    TRY(mtb_h5_attr_f64(f, "/", "best_train_nl", min_of(log->train_nl, S), err));
    TRY(mtb_h5_attr_f64(f, "/", "best_test_nl", min_of(log->eval_test_nl, E), err));
    TRY(mtb_h5_attr_f64(f, "/", "wall_s", log->wall_s, err));
    TRY(mtb_h5_attr_f64(f, "/", "median_ms_per_step", median(log->wall_ms, S), err));
#undef TRY
    return mtb_h5_commit(f, err);
fail:
    mtb_h5_discard(f);
    return st;
}
