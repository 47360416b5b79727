/* test_balancer_blocks.c: the parameter blocks of balancer.h reach the balancer from the
 * trainer. A probe method records what mtb_trainer_step hands it: for PARAM gradients of
 * scope all, one block per dense weight and per bias at the model's parameter offsets; for
 * scope last-layer and REP gradients, no blocks. Then whole runs (mtb_run_train) with
 * MetaBalance and MTAdam: finite, repeatable, and different with per-layer blocks than with
 * one block, so the trainer's blocks reach the methods in a real run. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "mtb/run.h"
#include "run_testutil.h"
#include "mtb/synth.h"
#include "mtb/train.h"

static struct {
    int calls, n_blocks, off_null;
    size_t D, off[64];
} probe;

static const mtb_hparam_def probe_hp[] = {
    {"level", MTB_HP_CHOICE, 0, 0, 0, "all|last|rep", "which gradients the probe asks for"},
};

static mtb_status probe_init(void *state, int T, size_t D_max, const mtb_hparams *hp,
                             mtb_balancer_setup *setup, mtb_error *err)
{
    (void)state, (void)T, (void)D_max, (void)err;
    setup->need = hp->v[0] == 2 ? MTB_NEED_REP_GRADS : MTB_NEED_PARAM_GRADS;
    setup->scope = hp->v[0] == 1 ? MTB_SCOPE_LAST_LAYER : MTB_SCOPE_ALL;
    return MTB_OK;
}

static mtb_status probe_step(void *state, const mtb_balance_in *in, mtb_balance_out *out,
                             mtb_error *err)
{
    (void)state, (void)err;
    probe.calls++;
    probe.n_blocks = in->blocks.n;
    probe.off_null = in->blocks.off == NULL;
    probe.D = in->D;
    for (int k = 0; in->blocks.off && k <= in->blocks.n && k < 64; k++)
        probe.off[k] = in->blocks.off[k];
    for (int t = 0; t < in->T; t++)
        out->head_w[t] = out->trunk_w[t] = 1.0;
    return MTB_OK;
}

static const mtb_balancer_type probe_type = {
    .name = "probe", .summary = "records its input", .cite = "test",
    .hparams = probe_hp, .n_hparams = 1, .state_size = 1,
    .init = probe_init, .step = probe_step,
};

/* A trunk of three dense layers 5 -> 7 -> 6 -> 4 (tanh), two MSE heads; two steps of the
 * probe at the given level. */
static void run_probe(int level, mtb_model **mout)
{
    enum { B = 8, DIN = 5, T = 2 };
    int head_out[T] = {1, 1};
    mtb_model_config mc = {DIN, 3, {7, 6, 4}, MTB_ACT_TANH, T, head_out};
    mtb_error err = {0};
    mtb_model *m;
    cr_assert_eq(mtb_model_new(&mc, &m, &err), MTB_OK, "%s", err.msg);
    mtb_rng r;
    mtb_rng_seed(&r, 5, 1);
    cr_assert_eq(mtb_model_init_orthogonal(m, 1.0, &r, &err), MTB_OK, "%s", err.msg);
    mtb_task_spec tasks[T] = {{MTB_LOSS_MSE, 1, 1, 0, 1.0, 0, {0}},
                              {MTB_LOSS_MSE, 1, 1, 1, 1.0, 0, {0}}};
    mtb_hparams hp;
    mtb_hparams_default(&probe_type, &hp);
    hp.v[0] = level;
    mtb_balancer *bal = mtb_balancer_new(&probe_type, T, level == 2 ? (size_t)B * 4 : m->n_trunk,
                                         &hp, 1, &err);
    cr_assert(bal != NULL, "%s", err.msg);
    mtb_trainer_config tc = {0};
    mtb_optim_config_adam(&tc.optim, 1e-3);
    tc.batch_max = B;
    mtb_trainer *tr;
    cr_assert_eq(mtb_trainer_new(m, tasks, bal, &tc, &tr, &err), MTB_OK, "%s", err.msg);
    float x[B * DIN], y[B * 2];
    for (int i = 0; i < B * DIN; i++)
        x[i] = (float)mtb_rng_normal(&r);
    for (int i = 0; i < B * 2; i++)
        y[i] = (float)mtb_rng_normal(&r);
    memset(&probe, 0, sizeof probe);
    mtb_step_result res;
    for (int s = 0; s < 2; s++)
        cr_assert_eq(mtb_trainer_step(tr, x, y, 2, B, s, 0, &res, &err), MTB_OK, "%s", err.msg);
    cr_assert_eq(probe.calls, 2);
    mtb_trainer_free(tr);
    mtb_balancer_free(bal);
    *mout = m;
}

Test(blocks, trainer_passes_weight_and_bias_blocks)
{
    mtb_model *m;
    run_probe(0, &m);
    /* 7x5 weight, 7 bias, 6x7 weight, 6 bias, 4x6 weight, 4 bias */
    const size_t want[] = {0, 35, 42, 84, 90, 114, 118};
    cr_assert_eq(probe.n_blocks, 6);
    cr_assert_eq(probe.off_null, 0);
    cr_assert_eq(probe.D, m->n_trunk);
    cr_assert_eq(m->n_trunk, (size_t)118);
    for (int k = 0; k <= 6; k++)
        cr_assert_eq(probe.off[k], want[k], "offset %d: %zu, expected %zu", k, probe.off[k],
                     want[k]);
    /* and they are the model's own layer offsets */
    int k = 0;
    for (int i = 0; i < m->n_layers; i++)
        if (m->layers[i].n_params) {
            cr_assert_eq(probe.off[k], m->layers[i].offset);
            cr_assert_eq(probe.off[k + 2], m->layers[i].offset + m->layers[i].n_params);
            k += 2;
        }
    mtb_model_free(m);
}

Test(blocks, no_blocks_for_last_layer_and_rep)
{
    for (int level = 1; level <= 2; level++) {
        mtb_model *m;
        run_probe(level, &m);
        cr_assert_eq(probe.n_blocks, 0, "level %d", level);
        cr_assert_eq(probe.off_null, 1, "level %d", level);
        mtb_model_free(m);
    }
}

static void small_mtr(mtb_dataset *ds)
{
    mtb_mtr_params p;
    mtb_mtr_params_default(&p, 3, 9);
    p.n_total = 300;
    p.n_train = 200;
    mtb_error err = {0};
    cr_assert_eq(mtb_synth_mtr(&p, ds, &err), MTB_OK, "%s", err.msg);
}

static void run(const mtb_dataset *ds, const char *method, const char *opts, int sgd,
                mtb_run_log *log)
{
    test_run_config c;
    test_run_config_default(&c);
    snprintf(c.method, sizeof c.method, "%s", method);
    snprintf(c.options, sizeof c.options, "%s", opts);
    c.seed = 3;
    c.steps = 25;
    c.batch = 64;
    c.eval_every = 10;
    for (int i = 0; i < 4; i++)
        c.widths[i] = 8;
    if (sgd) { /* output=step: plain SGD makes the trunk update MTAdam's */
        mtb_optim_config_sgd(&c.optim, 1e-3, 0.0);
        c.clip_norm = 0.0;
    }
    mtb_error err = {0};
    cr_assert_eq(test_run_train(&c, ds, log, &err), MTB_OK, "%s %s: %s", method, opts,
                 err.msg);
    cr_assert_eq(log->steps, 25);
}

static int same_losses(const mtb_run_log *a, const mtb_run_log *b)
{
    return !memcmp(a->loss, b->loss, (size_t)a->steps * a->T * sizeof *a->loss) &&
           !memcmp(a->eval_test_loss, b->eval_test_loss,
                   (size_t)a->n_eval * a->T * sizeof *a->eval_test_loss);
}

Test(blocks, metabalance_mtadam_runs)
{
    mtb_dataset ds = {0};
    small_mtr(&ds);
    const struct { const char *method, *opts, *whole; int sgd; } v[] = {
        {"metabalance", "", "per_block=false", 0},
        {"mtadam", "", "per_block=false", 0},
        {"mtadam", "output=step", "output=step,per_block=false", 1},
    };
    for (int i = 0; i < 3; i++) {
        mtb_run_log a, b, w;
        run(&ds, v[i].method, v[i].opts, v[i].sgd, &a);
        run(&ds, v[i].method, v[i].opts, v[i].sgd, &b);
        run(&ds, v[i].method, v[i].whole, v[i].sgd, &w);
        cr_assert(same_losses(&a, &b), "%s %s: two runs with the same seed differ", v[i].method,
                  v[i].opts);
        for (long s = 0; s < a.steps * a.T; s++) {
            cr_assert_eq(a.head_w[s], 1.0);
        }
        /* the balanced update must descend: every task's test loss falls over the run (a
         * sign error or a lost block would not) */
        for (int t = 0; t < a.T; t++)
            cr_assert_lt(a.eval_test_loss[(a.n_eval - 1) * a.T + t], a.eval_test_loss[t],
                         "%s %s: task %d's test loss %g -> %g did not fall", v[i].method,
                         v[i].opts, t, a.eval_test_loss[t], a.eval_test_loss[(a.n_eval - 1) * a.T + t]);
        /* step 0 is the same forward; afterwards per-layer and one-block runs differ */
        size_t n = (size_t)a.steps * a.T - a.T;
        cr_assert(memcmp(a.loss + a.T, w.loss + a.T, n * sizeof *a.loss),
                  "%s %s: per-layer blocks made no difference (did they reach the method?)",
                  v[i].method, v[i].opts);
        mtb_run_log_free(&a), mtb_run_log_free(&b), mtb_run_log_free(&w);
    }
    mtb_dataset_free(&ds);
}
