/* cost.c: `repro-multifashion cost`: the cost of one training step on MultiFashion's shapes
 * (spec multifashion.md sec. 5), through the library's trainer exactly as a run takes it
 * (forward, the task gradients the method declares, the method, the weighted backward,
 * Adam): the trunk (lenet-pmtl, mlp), two 10-class CE heads, batch 256 of random pixels in
 * [0, 1), one BLAS thread (the reproduce script sets it). Reported per (trunk, method):
 * median ms per step over timed blocks, the matrix-product FLOPs the step counted
 * (mtb_trainer_last_flops), the FLOP bound = FLOPs / the sgemm rate measured here
 * (mtb_sgemm_rate), their ratio, and the seconds an epoch of 468 steps would take. Timings
 * are printed and tabulated, never asserted. Also OUT/layers.tsv: where an EW step of
 * lenet-pmtl spends its time, layer by layer. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mfbench.h"
#include "mtb/balancer.h"
#include "mtb/clock.h"
#include "mtb/model.h"
#include "mtb/rng.h"
#include "mtb/stats.h"
#include "mtb/train.h"

enum { BATCH = 256, D_IN = 1296, T = 2, CLASSES = 10, STEPS_PER_EPOCH = 468, MAX_BLOCKS = 16 };

typedef struct cost_row {
    double ms, flops;
    char why[MTB_ERRMSG_LEN]; /* "ok", or why it could not be measured */
} cost_row;

static cost_row measure(const char *trunk, const char *method, int warm, int blocks, int steps,
                        const float *x, const float *y)
{
    cost_row r = {NAN, NAN, "ok"};
    mtb_error err = {0};
    const int head_out[T] = {CLASSES, CLASSES};
    mtb_task_spec tasks[T];
    for (int t = 0; t < T; t++)
        tasks[t] = (mtb_task_spec){.loss = MTB_LOSS_CE, .out_width = CLASSES, .target_width = 1,
                                   .target_offset = t, .sigma = 1.0};
    mtb_model_config mc = {.d_in = D_IN, .T = T, .head_out = head_out};
    mtb_model *m = NULL;
    mtb_balancer *bal = NULL;
    mtb_trainer *tr = NULL;
    const mtb_balancer_type *ty = mtb_balancer_find(method);
    mtb_hparams hp;
    mtb_balancer_setup su;
    mtb_rng rng;
    mtb_rng_seed(&rng, 0, MTB_STREAM_INIT);
    if (!ty) {
        snprintf(r.why, sizeof r.why, "unknown method %s", method);
        return r;
    }
    if (mtb_model_new_named(trunk, &mc, &m, &err) ||
        mtb_model_init(m, MTB_INIT_FAN_IN, 1.0, &rng, &err) ||
        mtb_hparams_parse(ty, "", &hp, &err) || mtb_balancer_query(ty, T, &hp, &su, &err))
        goto fail;
    /* the gradient width the run loop gives this method */
    size_t D = su.need == MTB_NEED_REP_GRADS ? (size_t)BATCH * m->dz
             : su.need == MTB_NEED_PARAM_GRADS ? (su.scope == MTB_SCOPE_ALL ? m->n_trunk
                                                                            : m->last_dense_size)
                                               : 0;
    if (!(bal = mtb_balancer_new(ty, T, D, &hp, 0, &err)))
        goto fail;
    mtb_trainer_config tc = {.batch_max = BATCH};
    mtb_optim_config_adam(&tc.optim, 1e-3);
    if (mtb_trainer_new(m, tasks, bal, &tc, &tr, &err))
        goto fail;
    double per_block[MAX_BLOCKS];
    long step = 0;
    for (int b = -1; b < blocks; b++) { /* block -1: the warm-up, not timed */
        const int n = b < 0 ? warm : steps;
        const double t0 = mtb_clock_s();
        for (int i = 0; i < n; i++)
            if (mtb_trainer_step(tr, x, y, T, BATCH, step++, 0, NULL, &err))
                goto fail;
        if (b >= 0)
            per_block[b] = (mtb_clock_s() - t0) * 1e3 / n;
    }
    r.ms = mtb_stats_median_inplace(per_block, (size_t)blocks);
    r.flops = mtb_trainer_last_flops(tr);
    goto done;
fail:
    snprintf(r.why, sizeof r.why, "%s", err.msg);
done:
    mtb_trainer_free(tr);
    mtb_balancer_free(bal);
    mtb_model_free(m);
    return r;
}

/* Where an EW step's time goes: forward and backward (one cotangent, parameter gradients,
 * input gradients except for the first layer, as the trainer calls them) of every trunk
 * layer of lenet-pmtl alone on the batch, median of `reps` calls each, with the FLOPs the
 * layer's products count. */
static void layer_times(const char *out, const float *x, int reps)
{
    const int head_out[T] = {CLASSES, CLASSES};
    mtb_model_config mc = {.d_in = D_IN, .T = T, .head_out = head_out};
    mtb_model *m = NULL;
    mtb_error err = {0};
    mtb_rng rng;
    mtb_rng_seed(&rng, 0, MTB_STREAM_INIT);
    if (mtb_model_new_named("lenet-pmtl", &mc, &m, &err))
        repro_die(PROG, "%s", err.msg);
    mtb_model_init_fan_in(m, &rng);
    const size_t wide = (size_t)BATCH * (size_t)m->max_width;
    float *act = malloc(sizeof(float) * wide * (size_t)(m->n_layers + 1));
    float *dy = malloc(sizeof(float) * wide), *dx = malloc(sizeof(float) * wide);
    float *dth = malloc(sizeof(float) * m->n_trunk), *ones = malloc(sizeof(float) * BATCH);
    if (!act || !dy || !dx || !dth || !ones)
        repro_die(PROG, "out of memory");
    memcpy(act, x, sizeof(float) * BATCH * D_IN);
    for (size_t i = 0; i < wide; i++)
        dy[i] = (float)(0.01 * mtb_rng_normal(&rng));
    for (int i = 0; i < BATCH; i++)
        ones[i] = 1.0f;
    char path[1024];
    FILE *f = repro_out_open(PROG, out, "layers.tsv", path, sizeof path);
    fprintf(f, "layer\tkind\toutputs/sample\tforward ms\tbackward ms\tMFLOP fwd+bwd\n");
    double ts[2][MAX_BLOCKS];
    for (int i = 0; i < m->n_layers; i++) {
        const mtb_layer *l = &m->layers[i];
        float *in = act + wide * (size_t)i, *o = act + wide * (size_t)(i + 1);
        const float *th = m->theta + l->offset;
        mtb_flops_take();
        for (int r = 0; r < reps; r++) {
            double t0 = mtb_clock_s();
            l->ops->forward(l, th, in, o, BATCH);
            double t1 = mtb_clock_s();
            l->ops->backward(l, th, in, o, dy, i ? dx : NULL, l->n_params ? dth : NULL,
                             l->n_params, BATCH, 1, ones);
            ts[0][r] = (t1 - t0) * 1e3, ts[1][r] = (mtb_clock_s() - t1) * 1e3;
        }
        const double fl = mtb_flops_take() / reps;
        fprintf(f, "%d\t%s\t%d\t%.2f\t%.2f\t%.1f\n", i, l->ops->name, l->out,
                mtb_stats_median_inplace(ts[0], (size_t)reps),
                mtb_stats_median_inplace(ts[1], (size_t)reps), fl / 1e6);
    }
    repro_out_close(PROG, f, path);
    free(act), free(dy), free(dx), free(dth), free(ones);
    mtb_model_free(m);
}

int mf_cost(const char *out, repro_scale s)
{
    static const char *const trunks[] = {"lenet-pmtl", "mlp"};
    static const char *const smoke_methods[] = {"ew", "mgda", "pcgrad", NULL};
    static const char *const paper_methods[] = {"ew", "rlw", "uw", "imtl_g", "mgda", "pcgrad",
                                                "cagrad", "db_mtl", "nash_mtl", NULL};
    const char *const *methods = s == REPRO_SMOKE ? smoke_methods : paper_methods;
    const int warm = s == REPRO_SMOKE ? 1 : 3, blocks = s == REPRO_SMOKE ? 3 : 5,
              steps = s == REPRO_SMOKE ? 2 : 10;
    float *x = malloc(sizeof *x * BATCH * D_IN), *y = malloc(sizeof *y * BATCH * T);
    if (!x || !y)
        repro_die(PROG, "out of memory");
    mtb_rng rng;
    mtb_rng_seed(&rng, 0, MTB_STREAM_BENCH);
    for (size_t i = 0; i < (size_t)BATCH * D_IN; i++)
        x[i] = (float)mtb_rng_uniform(&rng);
    for (size_t i = 0; i < (size_t)BATCH * T; i++)
        y[i] = (float)mtb_rng_below(&rng, CLASSES);
    const double rate = mtb_sgemm_rate(1024, 5); /* FLOP/s of this machine, this thread count */
    char path[1024];
    FILE *f = repro_out_open(PROG, out, "cost.tsv", path, sizeof path);
    repro_summary sm;
    repro_summary_open_or_die(PROG, &sm, out, "cost");
    fprintf(f, "trunk\tmethod\tms/step\tMFLOP/step\tFLOP bound ms\tratio\ts/epoch\tnote\n");
    repro_summary_put(&sm, "sgemm_gflops", rate / 1e9, rate / 1e9, rate / 1e9);
    for (size_t k = 0; k < sizeof trunks / sizeof *trunks; k++)
        for (int i = 0; methods[i]; i++) {
            cost_row r = measure(trunks[k], methods[i], warm, blocks, steps, x, y);
            const double bound = r.flops / rate * 1e3;
            fprintf(f, "%s\t%s\t%.2f\t%.1f\t%.2f\t%.2f\t%.1f\t%s\n", trunks[k], methods[i], r.ms,
                    r.flops / 1e6, bound, r.ms / bound, r.ms * STEPS_PER_EPOCH / 1e3, r.why);
            printf("[cost] %-10s %-8s %7.2f ms/step, %6.1f MFLOP, bound %6.2f ms (x%.2f)\n",
                   trunks[k], methods[i], r.ms, r.flops / 1e6, bound, r.ms / bound);
            repro_summary_putf(&sm, r.ms, r.ms, r.ms, "ms_%s_%s", trunks[k], methods[i]);
            repro_summary_putf(&sm, r.ms / bound, r.ms / bound, r.ms / bound, "ratio_%s_%s",
                               trunks[k], methods[i]);
        }
    repro_out_close(PROG, f, path);
    repro_summary_close_or_die(PROG, &sm);
    layer_times(out, x, s == REPRO_SMOKE ? 3 : 9);
    free(x), free(y);
    return 0;
}
