/* run.c: a complete training run of a benchmark problem (run.h) and its run file. */
#include "mtb/run.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mtb/clock.h"
#include "mtb/h5.h"
#include "mtb/rng.h"
#include "mtb/train.h"

void mtb_run_log_free(mtb_run_log *log)
{
    free(log->loss), free(log->head_w), free(log->trunk_w), free(log->shared_norm);
    free(log->head_step);
    free(log->wall_ms), free(log->train_nl), free(log->lwe);
    free(log->eval_step), free(log->eval_train_nl), free(log->eval_test_nl);
    free(log->eval_test_loss), free(log->eval_metric), free(log->eval_metric_clean);
    long steps = log->steps;
    memset(log, 0, sizeof *log);
    log->steps = steps; /* kept: after a failure it says where the run stopped */
}

/* Is there a test evaluation after step s (0-based) of the protocol? */
static int is_eval_step(const mtb_protocol *pr, long s)
{
    if (s == pr->steps - 1)
        return 1;
    return pr->eval_after_updates ? (s + 1) % pr->eval_every == 0 : s % pr->eval_every == 0;
}

static long count_evals(const mtb_protocol *pr)
{
    long n = pr->eval_initial ? 1 : 0;
    for (long s = 0; s < pr->steps; s++)
        n += is_eval_step(pr, s);
    return n;
}

static mtb_status alloc_log(mtb_run_log *log, int T, long steps, long n_eval)
{
    size_t S = (size_t)steps, ST = S * (size_t)T, E = (size_t)n_eval, ET = E * (size_t)T;
    memset(log, 0, sizeof *log);
    log->T = T;
    log->loss = calloc(ST, sizeof(double));
    log->head_w = calloc(ST, sizeof(double));
    log->trunk_w = calloc(ST, sizeof(double));
    log->head_step = calloc(ST, sizeof(double));
    log->shared_norm = calloc(S, sizeof(double));
    log->wall_ms = calloc(S, sizeof(double));
    log->train_nl = calloc(S, sizeof(double));
    log->lwe = calloc(S, sizeof(double));
    log->eval_step = calloc(E, sizeof(int64_t));
    log->eval_train_nl = calloc(E, sizeof(double));
    log->eval_test_nl = calloc(E, sizeof(double));
    log->eval_test_loss = calloc(ET, sizeof(double));
    log->eval_metric = calloc(ET, sizeof(double));
    log->eval_metric_clean = calloc(ET, sizeof(double));
    if (!log->loss || !log->head_w || !log->trunk_w || !log->head_step || !log->shared_norm ||
        !log->wall_ms || !log->train_nl || !log->lwe || !log->eval_step || !log->eval_train_nl ||
        !log->eval_test_nl || !log->eval_test_loss || !log->eval_metric || !log->eval_metric_clean)
        return MTB_ENOMEM;
    return MTB_OK;
}

/* Everything mtb_run_config_check checks, and what needs the data set. */
static mtb_status check_config(const mtb_run_config *c, const mtb_dataset *ds, mtb_error *err)
{
    mtb_status st = mtb_run_config_check(c, err);
    if (st)
        return st;
    const mtb_protocol *pr = &c->problem->proto;
    if (ds->train.n == 0)
        return mtb_fail(err, MTB_EINVAL, "train: the data set has no training samples");
    if ((size_t)pr->batch > ds->train.n)
        return mtb_fail(err, MTB_EINVAL,
                        "train: batch %d is larger than the %zu training samples; use --batch <= %zu",
                        pr->batch, ds->train.n, ds->train.n);
    if (ds->test.n == 0)
        return mtb_fail(err, MTB_EINVAL, "train: the data set has no test samples");
    return mtb_problem_check_dataset(c->problem, ds, err);
}

static int is_oc(const char *method) { return !strcmp(method, "oc") || !strcmp(method, "ideal"); }

/* The configuration's checks that need no data set: the protocol's ranges, the method's
 * name, its options and whether it runs with the problem's T tasks. */
mtb_status mtb_run_config_check(const mtb_run_config *c, mtb_error *err)
{
    const mtb_problem *p = c->problem;
    if (!p)
        return mtb_fail(err, MTB_EINVAL, "train: no problem given");
    const mtb_protocol *pr = &p->proto;
    if (pr->steps < 1)
        return mtb_fail(err, MTB_EINVAL, "train: --steps must be >= 1, got %ld", pr->steps);
    if (pr->batch < 1)
        return mtb_fail(err, MTB_EINVAL, "train: --batch must be >= 1, got %d", pr->batch);
    if (pr->eval_every < 1)
        return mtb_fail(err, MTB_EINVAL, "train: --eval-every must be >= 1, got %d", pr->eval_every);
    if (pr->nl_window < 0)
        return mtb_fail(err, MTB_EINVAL, "train: NL window must be >= 0, got %d", pr->nl_window);
    if (!(pr->init_gain > 0.0))
        return mtb_fail(err, MTB_EINVAL, "train: --init-gain must be > 0, got %g", pr->init_gain);
    if (pr->n_hidden < 1 || pr->n_hidden > MTB_MAX_HIDDEN)
        return mtb_fail(err, MTB_EINVAL, "train: the trunk needs 1..%d layers, got %d",
                        MTB_MAX_HIDDEN, pr->n_hidden);
    if (!strcmp(c->method, "stl")) {
        if (c->options[0])
            return mtb_fail(err, MTB_EINVAL, "train: method stl takes no options, got '%s'",
                            c->options);
        return MTB_OK;
    }
    const mtb_balancer_type *type = mtb_balancer_find(is_oc(c->method) ? "constant" : c->method);
    if (!type)
        return mtb_fail(err, MTB_EINVAL, "train: unknown method '%s' (run 'mtb methods' for the list)",
                        c->method);
    mtb_hparams hp;
    mtb_status st = mtb_hparams_parse(type, c->options, &hp, err);
    if (st)
        return st;
    mtb_balancer_setup setup;
    if ((st = mtb_balancer_query(type, p->T, &hp, &setup, err)))
        return st;
    if (c->gram && !(setup.gram_ok && setup.need == MTB_NEED_PARAM_GRADS))
        return mtb_fail(err, MTB_EINVAL,
                        "train: --gram: method %s%s%s needs the task gradients themselves, not only "
                        "their Gram matrix (Gram-path methods: mgda, imtl_g level=param, fairgrad, "
                        "upgrad, aligned_mtl, cagrad, nash_mtl); drop --gram", c->method,
                        c->options[0] ? " " : "", c->options);
    if (c->gram && hp.pre[0] != MTB_PRE_NONE)
        return mtb_fail(err, MTB_EINVAL, "train: --gram: a loss pre-transform (pre=...) rescales the "
                        "task gradients and needs G itself; drop --gram or pre");
    return MTB_OK;
}

/* One network on the tasks idx[0..n-1] of the problem (all of them, or one for STL). Its
 * per-task columns go to columns idx[j] of the log; steps count from step0 for progress. */
typedef struct network_job {
    const mtb_run_config *cfg;
    const mtb_dataset *ds;
    const int *idx;
    int n;
    const char *method;     /* a registered balancer or "oc" */
    long step0, steps_all;  /* progress offset and total */
} network_job;

typedef struct net_state {
    mtb_model *model;
    mtb_balancer *bal;
    mtb_trainer *tr;
    mtb_task_spec *tasks;
    size_t *order;
    float *bx, *by;
    float *heads_before; /* the heads' parameters before the step (n_heads) */
    double *w, *out_scale, *loss_scale, *eval_loss, *eval_sse, *values;
    mtb_metric *metrics;
    int *metric_task, *metric_col; /* metric_col: index into log columns, + T for clean */
    int n_metrics;
} net_state;

static void net_state_free(net_state *s)
{
    mtb_trainer_free(s->tr);
    mtb_balancer_free(s->bal);
    mtb_model_free(s->model);
    free(s->tasks), free(s->order), free(s->bx), free(s->by), free(s->w), free(s->out_scale);
    free(s->heads_before);
    free(s->loss_scale), free(s->eval_loss), free(s->eval_sse), free(s->values);
    free(s->metrics), free(s->metric_task), free(s->metric_col);
}

static mtb_status make_balancer(const network_job *nj, net_state *s, mtb_run_log *log,
                                mtb_error *err)
{
    const mtb_run_config *cfg = nj->cfg;
    const int T = nj->n;
    int oc = is_oc(nj->method);
    const mtb_balancer_type *type = mtb_balancer_find(oc ? "constant" : nj->method);
    if (!type)
        return mtb_fail(err, MTB_EINVAL, "train: unknown method '%s' (run 'mtb methods' for the list)",
                        nj->method);
    mtb_hparams hp;
    mtb_status st = mtb_hparams_parse(type, cfg->options, &hp, err);
    if (st)
        return st;
    mtb_balancer_setup setup;
    if ((st = mtb_balancer_query(type, T, &hp, &setup, err)))
        return st;
    const mtb_model *m = s->model;
    size_t D_max = setup.need == MTB_NEED_REP_GRADS ? (size_t)cfg->problem->proto.batch * m->dz
                 : setup.need == MTB_NEED_PARAM_GRADS
                     ? (setup.scope == MTB_SCOPE_ALL ? m->n_trunk : m->last_dense_size)
                     : 0;
    s->bal = mtb_balancer_new(type, T, D_max, &hp, cfg->seed, err);
    if (!s->bal)
        return err ? err->status : MTB_EINVAL;
    if (oc) {
        /* the problem's oracle weights over this network's tasks, rescaled to sum T */
        double all[MTB_PROBLEM_MAX_TASKS];
        mtb_problem_oc_weights(cfg->problem, all);
        for (int j = 0; j < T; j++)
            s->w[j] = all[nj->idx[j]];
        if ((st = mtb_balancer_set_constant_weights(s->bal, s->w, err)))
            return st;
    }
    char hps[512];
    mtb_hparams_format(type, &hp, hps, sizeof hps);
    snprintf(log->method_desc, sizeof log->method_desc, "%s%s%s", cfg->method, hps[0] ? " " : "",
             hps);
    return MTB_OK;
}

static mtb_status net_setup(const network_job *nj, net_state *s, mtb_run_log *log, mtb_error *err)
{
    const mtb_run_config *cfg = nj->cfg;
    const mtb_problem *p = cfg->problem;
    const mtb_protocol *pr = &p->proto;
    const mtb_dataset *ds = nj->ds;
    const int T = nj->n, B = pr->batch;
    const size_t n = ds->train.n, d_in = (size_t)ds->d_in, yw = (size_t)ds->y_width;
    s->tasks = malloc(sizeof *s->tasks * (size_t)T);
    s->order = malloc(sizeof(size_t) * n);
    s->bx = malloc(sizeof(float) * (size_t)B * d_in);
    s->by = malloc(sizeof(float) * (size_t)B * yw);
    s->w = malloc(sizeof(double) * (size_t)T);
    s->out_scale = malloc(sizeof(double) * (size_t)T);
    s->loss_scale = malloc(sizeof(double) * (size_t)T);
    s->eval_loss = malloc(sizeof(double) * (size_t)T);
    s->eval_sse = malloc(sizeof(double) * (size_t)T);
    s->values = malloc(sizeof(double) * 2 * (size_t)T);
    s->metrics = malloc(sizeof *s->metrics * 2 * (size_t)T);
    s->metric_task = malloc(sizeof(int) * 2 * (size_t)T);
    s->metric_col = malloc(sizeof(int) * 2 * (size_t)T);
    if (!s->tasks || !s->order || !s->bx || !s->by || !s->w || !s->out_scale || !s->loss_scale ||
        !s->eval_loss || !s->eval_sse || !s->values || !s->metrics || !s->metric_task ||
        !s->metric_col)
        return mtb_fail(err, MTB_ENOMEM, "train: out of memory");
    int head_out[T];
    for (int j = 0; j < T; j++) {
        const mtb_problem_task *pt = &p->tasks[nj->idx[j]];
        s->tasks[j] = ds->tasks[nj->idx[j]];
        head_out[j] = s->tasks[j].out_width;
        s->out_scale[j] = pt->out_scale;
        s->loss_scale[j] = pt->loss_scale;
        const mtb_metric *ms[2] = {&pt->metric, &pt->metric_clean};
        for (int c = 0; c < 2; c++)
            if (ms[c]->kind != MTB_METRIC_NONE) {
                s->metrics[s->n_metrics] = *ms[c];
                s->metric_task[s->n_metrics] = j;
                s->metric_col[s->n_metrics++] = nj->idx[j] + c * p->T;
            }
    }
    mtb_model_config mc = {(int)d_in, pr->n_hidden, {0}, pr->act, T, head_out};
    memcpy(mc.widths, pr->widths, sizeof mc.widths);
    mtb_rng init_rng;
    mtb_rng_seed(&init_rng, cfg->seed, MTB_STREAM_INIT);
    mtb_status st;
    if ((st = mtb_model_new_named(pr->trunk, &mc, &s->model, err)) ||
        (st = mtb_model_init(s->model, pr->init, pr->init_gain, &init_rng, err)) ||
        (st = make_balancer(nj, s, log, err)))
        return st;
    if (!(s->heads_before = malloc(sizeof(float) * s->model->n_heads)))
        return mtb_fail(err, MTB_ENOMEM, "train: out of memory");
    mtb_trainer_config tc = {pr->optim, pr->clip_norm, B, cfg->task_chunk, MTB_NEED_LOSSES,
                             MTB_SCOPE_ALL, s->out_scale, s->loss_scale};
    if (tc.optim.lr_steps == 0)
        tc.optim.lr_steps = pr->steps; /* the schedule's horizon: the whole run (optim.h) */
    if ((st = cfg->gram ? mtb_trainer_new_gram(s->model, s->tasks, s->bal, &tc, 0, &s->tr, err)
                        : mtb_trainer_new(s->model, s->tasks, s->bal, &tc, &s->tr, err)))
        return st;
    mtb_trainer_set_skip_zero_heads(s->tr, cfg->skip_zero_heads);
    return MTB_OK;
}

/* Evaluates on the test split into evaluation e of the log. */
static mtb_status net_evaluate(const network_job *nj, net_state *s, mtb_run_log *log, long e,
                               long step, mtb_error *err)
{
    const mtb_dataset *ds = nj->ds;
    const int T = log->T;
    mtb_status st = mtb_trainer_evaluate_metrics(s->tr, ds->test.x, ds->test.y, (size_t)ds->y_width,
                                                 ds->test.n, s->n_metrics, s->metrics,
                                                 s->metric_task, s->eval_loss, s->eval_sse,
                                                 s->values, err);
    if (st)
        return st;
    log->eval_step[e] = step;
    if (e + 1 > log->n_eval)
        log->n_eval = e + 1;
    for (int j = 0; j < nj->n; j++)
        log->eval_test_loss[(size_t)e * T + nj->idx[j]] = s->eval_loss[j];
    if (nj->cfg->problem->proto.nl_window > 0) {
        /* test NL (run.h): sum_t sse_t / sigma_t^2 over the MSE tasks, / T; an STL network
         * adds its task's share */
        double nl = 0.0;
        for (int j = 0; j < nj->n; j++)
            if (s->tasks[j].loss == MTB_LOSS_MSE)
                nl += s->eval_sse[j] / (s->tasks[j].sigma * s->tasks[j].sigma);
        log->eval_test_nl[e] += nl / T;
    }
    for (int i = 0; i < s->n_metrics; i++) {
        int col = s->metric_col[i];
        double *dst = col < T ? log->eval_metric : log->eval_metric_clean;
        dst[(size_t)e * T + col % T] = s->values[i];
    }
    return MTB_OK;
}

/* ||psi_t(after) - psi_t(before)|| for every head t of the network into log row `step`
 * (rlw.md R6: a head's Adam step under RLW against EW's). Head t owns rows head_off[t] ..
 * + head_out[t] - 1 of W_heads and the same entries of b_heads (model.h). */
static void log_head_steps(const network_job *nj, const net_state *s, mtb_run_log *log, long step)
{
    const mtb_model *m = s->model;
    const float *W = mtb_model_head_W(m), *b = mtb_model_head_b(m);
    const float *W0 = s->heads_before, *b0 = s->heads_before + (b - W);
    for (int j = 0; j < nj->n; j++) {
        double sq = 0.0;
        for (int r = m->head_off[j]; r < m->head_off[j] + m->head_out[j]; r++) {
            for (int c = 0; c < m->dz; c++) {
                double d = (double)W[(size_t)r * m->dz + c] - W0[(size_t)r * m->dz + c];
                sq += d * d;
            }
            double d = (double)b[r] - b0[r];
            sq += d * d;
        }
        log->head_step[(size_t)step * log->T + nj->idx[j]] = sqrt(sq);
    }
}

static mtb_status train_network(const network_job *nj, mtb_run_log *log, mtb_run_progress progress,
                                void *progress_ctx, mtb_error *err)
{
    const mtb_protocol *pr = &nj->cfg->problem->proto;
    const mtb_dataset *ds = nj->ds;
    const int T = log->T, B = pr->batch;
    const size_t n = ds->train.n, d_in = (size_t)ds->d_in, yw = (size_t)ds->y_width;
    net_state s = {0};
    mtb_status st = net_setup(nj, &s, log, err);
    if (st)
        goto done;
    mtb_rng shuffle_rng;
    mtb_rng_seed(&shuffle_rng, nj->cfg->seed, MTB_STREAM_SHUFFLE);
    long e = 0;
    if (pr->eval_initial && (st = net_evaluate(nj, &s, log, e++, -1, err)))
        goto done;
    size_t pos = n; /* forces a shuffle at the first step */
    long epoch = -1;
    for (long step = 0; step < pr->steps; step++) {
        if (pos >= n || (pr->drop_last && n - pos < (size_t)B)) {
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

        memcpy(s.heads_before, mtb_model_head_W(s.model), sizeof(float) * s.model->n_heads);
        double t0 = mtb_clock_s();
        mtb_step_result res;
        st = mtb_trainer_step(s.tr, s.bx, s.by, yw, b, step, epoch, &res, err);
        double t1 = mtb_clock_s();
        if (st) {
            mtb_error_prefix(err, "step %ld: ", step); /* the trainer's messages leave it to us */
            goto done;
        }
        size_t o = (size_t)step * T;
        for (int j = 0; j < nj->n; j++) {
            log->loss[o + nj->idx[j]] = res.losses[j];
            log->head_w[o + nj->idx[j]] = res.head_w[j];
            log->trunk_w[o + nj->idx[j]] = res.trunk_w[j];
        }
        log_head_steps(nj, &s, log, step);
        /* STL: the step's time and shared-gradient norm add over the T networks */
        log->shared_norm[step] += nj->n == T ? res.shared_grad_norm : NAN;
        log->wall_ms[step] += 1e3 * (t1 - t0);
        if (nj->step0 + step + 1 > log->steps)
            log->steps = step + 1;
        if (is_eval_step(pr, step) && (st = net_evaluate(nj, &s, log, e++, step, err)))
            goto done;
        if (progress)
            progress(progress_ctx, nj->step0 + step + 1, nj->steps_all, log);
    }
done:
    net_state_free(&s);
    return st;
}

/* The SLAW quantities (run.h), derived after the run from the per-step losses and weights:
 * the per-step NL from the MSE losses (divided by their loss scale: NL judges the model, not
 * the multiplier), its window mean as the SLAW code keeps it (a running sum over a ring
 * buffer), and the loss weight error against the oracle weights. The test NL was summed at
 * each evaluation (net_evaluate). */
static void derive_nl(const mtb_run_config *cfg, const mtb_dataset *ds, mtb_run_log *log)
{
    const mtb_problem *p = cfg->problem;
    const int T = log->T, W = p->proto.nl_window;
    const long S = log->steps, E = log->n_eval;
    const int stl = !strcmp(cfg->method, "stl");
    if (W <= 0) {
        for (long s = 0; s < S; s++)
            log->train_nl[s] = log->lwe[s] = NAN;
        for (long e = 0; e < E; e++)
            log->eval_train_nl[e] = log->eval_test_nl[e] = NAN;
        return;
    }
    double ideal[MTB_PROBLEM_MAX_TASKS];
    mtb_problem_oc_weights(p, ideal);
    double ring[W], sum = 0.0;
    memset(ring, 0, sizeof ring);
    for (long s = 0; s < S; s++) {
        const double *loss = log->loss + (size_t)s * T, *w = log->trunk_w + (size_t)s * T;
        double nl = 0.0, wsum = 0.0;
        for (int t = 0; t < T; t++) {
            const mtb_task_spec *k = &ds->tasks[t];
            if (k->loss == MTB_LOSS_MSE)
                nl += loss[t] / p->tasks[t].loss_scale * k->out_width / (k->sigma * k->sigma);
            wsum += w[t];
        }
        nl /= T;
        int slot = (int)(s % W);
        sum += nl - ring[slot];
        ring[slot] = nl;
        long filled = s + 1 < W ? s + 1 : W;
        log->train_nl[s] = sum / (double)filled;
        double lwe = 0.0;
        for (int t = 0; t < T; t++) {
            double d = T * w[t] / wsum - ideal[t];
            lwe += d * d;
        }
        log->lwe[s] = !stl && fabs(wsum) > 0.0 ? lwe / T : NAN;
    }
    for (long e = 0; e < E; e++)
        log->eval_train_nl[e] = log->eval_step[e] >= 0 ? log->train_nl[log->eval_step[e]] : NAN;
}

mtb_status mtb_run_train(const mtb_run_config *cfg, const mtb_dataset *ds, mtb_run_log *log,
                         mtb_run_progress progress, void *progress_ctx, mtb_error *err)
{
    memset(log, 0, sizeof *log);
    mtb_status st = check_config(cfg, ds, err);
    if (st)
        return st;
    const mtb_protocol *pr = &cfg->problem->proto;
    const int T = ds->T, stl = !strcmp(cfg->method, "stl");
    if (alloc_log(log, T, pr->steps, count_evals(pr))) {
        mtb_run_log_free(log);
        return mtb_fail(err, MTB_ENOMEM, "train: cannot allocate the log of %ld steps", pr->steps);
    }
    int idx[MTB_PROBLEM_MAX_TASKS];
    for (int t = 0; t < T; t++)
        idx[t] = t;
    const double t_start = mtb_clock_s();
    if (stl) {
        /* one network per task, each with the same seed: the same trunk initialisation
         * stream and batch order as the multi-task runs of that seed (rlw.md sec. 2) */
        for (int t = 0; t < T && !st; t++) {
            network_job nj = {cfg, ds, &idx[t], 1, "ew", (long)t * pr->steps, (long)T * pr->steps};
            st = train_network(&nj, log, progress, progress_ctx, err);
            if (st)
                mtb_error_prefix(err, "stl task %d: ", t + 1);
        }
        snprintf(log->method_desc, sizeof log->method_desc, "stl");
    } else {
        network_job nj = {cfg, ds, idx, T, cfg->method, 0, pr->steps};
        st = train_network(&nj, log, progress, progress_ctx, err);
    }
    log->wall_s = mtb_clock_s() - t_start;
    if (st) {
        mtb_run_log_free(log);
        return st;
    }
    derive_nl(cfg, ds, log);
    return MTB_OK;
}
