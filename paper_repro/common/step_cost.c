/* step_cost.c: one method's step time through the trainer (step_cost.h). */
#include "step_cost.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mtb/balancer.h"
#include "mtb/clock.h"
#include "mtb/model.h"
#include "mtb/rng.h"
#include "mtb/stats.h"
#include "mtb/train.h"

enum { D_IN = 250, WIDTH = 100, MAX_REPS = 64 };

double repro_step_ms(const repro_step_cost *c, const char *method, const char *opts, char *msg,
                     size_t msg_len)
{
    mtb_error err = {0};
    double ms = NAN, block[MAX_REPS];
    const int T = c->T, B = c->batch;
    const size_t yw = (size_t)T * WIDTH;
    int *head_out = malloc(sizeof *head_out * (size_t)T);
    mtb_task_spec *tasks = calloc((size_t)T, sizeof *tasks);
    float *x = malloc(sizeof *x * (size_t)B * D_IN), *y = malloc(sizeof *y * (size_t)B * yw);
    mtb_model *m = NULL;
    mtb_balancer *bal = NULL;
    mtb_trainer *tr = NULL;
    snprintf(msg, msg_len, "ok");
    if (!head_out || !tasks || !x || !y || c->reps < 1 || c->reps > MAX_REPS || c->steps < 1) {
        snprintf(msg, msg_len, "bad sizes or out of memory (reps 1..%d)", MAX_REPS);
        goto done;
    }
    mtb_rng rng;
    mtb_rng_seed(&rng, 11, MTB_STREAM_BENCH);
    for (size_t i = 0; i < (size_t)B * D_IN; i++)
        x[i] = (float)(0.01 * mtb_rng_normal(&rng)); /* MTR's input scale */
    for (size_t i = 0; i < (size_t)B * yw; i++)
        y[i] = (float)mtb_rng_normal(&rng);
    for (int t = 0; t < T; t++) {
        head_out[t] = WIDTH;
        tasks[t] = (mtb_task_spec){.loss = MTB_LOSS_MSE, .out_width = WIDTH,
                                   .target_width = WIDTH, .target_offset = t * WIDTH, .sigma = 1.0};
    }
    mtb_model_config mc = {.d_in = D_IN, .n_hidden = 4, .widths = {WIDTH, WIDTH, WIDTH, WIDTH},
                           .act = MTB_ACT_TANH, .T = T, .head_out = head_out};
    const mtb_balancer_type *ty = mtb_balancer_find(method);
    mtb_hparams hp;
    mtb_balancer_setup su;
    if (!ty) {
        snprintf(msg, msg_len, "unknown method '%s'", method);
        goto done;
    }
    if (mtb_model_new(&mc, &m, &err) || mtb_model_init_orthogonal(m, sqrt(2.0), &rng, &err) ||
        mtb_hparams_parse(ty, opts, &hp, &err) || mtb_balancer_query(ty, T, &hp, &su, &err))
        goto fail;
    /* the gradient columns the trainer hands this method (as the run loop sizes them) */
    size_t D = su.need == MTB_NEED_REP_GRADS ? (size_t)B * m->dz
             : su.need == MTB_NEED_PARAM_GRADS
                 ? (su.scope == MTB_SCOPE_ALL ? m->n_trunk : m->last_dense_size)
                 : 0;
    if (!(bal = mtb_balancer_new(ty, T, D, &hp, 1, &err)))
        goto fail;
    mtb_trainer_config tc = {.batch_max = B};
    mtb_optim_config_adam(&tc.optim, 7e-4);
    if (mtb_trainer_new(m, tasks, bal, &tc, &tr, &err))
        goto fail;
    mtb_step_result res;
    long k = 0;
    for (int i = 0; i < c->warm; i++)
        if (mtb_trainer_step(tr, x, y, yw, B, k++, 0, &res, &err))
            goto fail;
    for (int r = 0; r < c->reps; r++) {
        double t0 = mtb_clock_s();
        for (int i = 0; i < c->steps; i++)
            if (mtb_trainer_step(tr, x, y, yw, B, k++, 0, &res, &err))
                goto fail;
        block[r] = (mtb_clock_s() - t0) * 1e3 / c->steps;
    }
    ms = mtb_stats_median_inplace(block, (size_t)c->reps);
    goto done;
fail:
    snprintf(msg, msg_len, "%s", err.msg);
done:
    mtb_trainer_free(tr);
    mtb_balancer_free(bal);
    mtb_model_free(m);
    free(head_out), free(tasks), free(x), free(y);
    return ms;
}
