/* states.c: LSD-6 network states for the one-step checks of D2, D8 and D9 (dbmtl.md: "100
 * random LSD-6 states"): the registered lsd6 problem (its data, network, protocol), trained
 * with equal weights through mtb_trainer_step (seed 0), and at every `every`-th step a fresh
 * batch's T losses and parameter-level task gradients over all shared parameters (what
 * db_mtl, PCGrad, Nash-MTL ... receive in training). The states thus span the run from the
 * initial model on, with LSD-6's loss scales (six orders of magnitude). */
#include "dbmtl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mtb/dataset.h"
#include "mtb/model.h"
#include "mtb/problem.h"
#include "mtb/rng.h"
#include "mtb/train.h"

enum { STATES_MAXT = 16 };

/* the batch of rows idx[0..B) of the training split */
static void take_batch(const mtb_dataset *ds, const size_t *idx, int B, float *x, float *y)
{
    const size_t dx = (size_t)ds->d_in, dy = (size_t)ds->y_width;
    for (int b = 0; b < B; b++) {
        memcpy(x + (size_t)b * dx, ds->train.x + idx[b] * dx, dx * sizeof *x);
        memcpy(y + (size_t)b * dy, ds->train.y + idx[b] * dy, dy * sizeof *y);
    }
}

void lsd6_states_make(lsd6_states *s, int n, long every)
{
    memset(s, 0, sizeof *s);
    static mtb_problem p; /* large (512 tasks of room) */
    mtb_dataset ds;
    mtb_error err = {0};
    if (mtb_problem_lookup("lsd6", "paper", &p, &err) || mtb_problem_make_dataset(&p, &ds, &err))
        die("lsd6: %s", err.msg);
    const int T = ds.T;
    int head_out[STATES_MAXT];
    double osc[STATES_MAXT], lsc[STATES_MAXT];
    if (T > STATES_MAXT)
        die("lsd6 has %d tasks", T);
    for (int t = 0; t < T; t++) {
        head_out[t] = ds.tasks[t].out_width;
        osc[t] = p.tasks[t].out_scale;
        lsc[t] = p.tasks[t].loss_scale;
    }
    mtb_model_config mc = {.d_in = ds.d_in, .n_hidden = p.proto.n_hidden, .act = p.proto.act,
                           .T = T, .head_out = head_out};
    memcpy(mc.widths, p.proto.widths, sizeof mc.widths);
    mtb_model *m;
    mtb_rng init, order;
    mtb_rng_seed(&init, 0, MTB_STREAM_INIT);
    mtb_rng_seed(&order, 0, MTB_STREAM_SHUFFLE);
    if (mtb_model_new(&mc, &m, &err) || mtb_model_init_orthogonal(m, p.proto.init_gain, &init, &err))
        die("lsd6 model: %s", err.msg);
    mtb_trainer_config tc = {.optim = p.proto.optim, .clip_norm = p.proto.clip_norm,
                             .batch_max = p.proto.batch, .need = MTB_NEED_PARAM_GRADS,
                             .scope = MTB_SCOPE_ALL, .out_scale = osc, .loss_scale = lsc};
    mtb_trainer *tr;
    if (mtb_trainer_new(m, ds.tasks, NULL, &tc, &tr, &err))
        die("lsd6 trainer: %s", err.msg);
    const int B = p.proto.batch;
    const size_t N = ds.train.n, P = m->n_trunk;
    size_t *idx = malloc(N * sizeof *idx), pos = N;
    float *x = malloc((size_t)B * (size_t)ds.d_in * sizeof *x);
    float *y = malloc((size_t)B * (size_t)ds.y_width * sizeof *y);
    s->losses = malloc((size_t)n * (size_t)T * sizeof *s->losses);
    s->G = malloc((size_t)n * (size_t)T * P * sizeof *s->G);
    if (!idx || !x || !y || !s->losses || !s->G)
        die("out of memory for %d LSD-6 states of %zu parameters", n, P);
    for (size_t i = 0; i < N; i++)
        idx[i] = i;
    s->T = T, s->n = n, s->P = P;
    long step = 0;
    for (int k = 0; k < n; k++) {
        for (long e = 0; k > 0 && e <= every; e++) {
            if (pos + (size_t)B > N) { /* a new epoch in a new order */
                mtb_rng_shuffle(&order, idx, N);
                pos = 0;
            }
            take_batch(&ds, idx + pos, B, x, y);
            pos += (size_t)B;
            if (e == every)
                break; /* the state's own batch: not trained on */
            mtb_step_result res;
            if (mtb_trainer_step(tr, x, y, (size_t)ds.y_width, B, step++, 0, &res, &err))
                die("lsd6 EW step: %s", err.msg);
        }
        if (k == 0) {
            mtb_rng_shuffle(&order, idx, N);
            pos = 0;
            take_batch(&ds, idx, B, x, y);
            pos = (size_t)B;
        }
        const double *l, *G;
        size_t D;
        if (mtb_trainer_task_grads(tr, x, y, (size_t)ds.y_width, B, MTB_NEED_PARAM_GRADS,
                                   MTB_SCOPE_ALL, &l, &G, &D, &err))
            die("lsd6 task gradients: %s", err.msg);
        if (D != P)
            die("lsd6: %zu gradient columns, expected %zu", D, P);
        memcpy(s->losses + (size_t)k * T, l, (size_t)T * sizeof *l);
        memcpy(s->G + (size_t)k * T * P, G, (size_t)T * P * sizeof *G);
    }
    free(idx), free(x), free(y);
    mtb_trainer_free(tr);
    mtb_model_free(m);
    mtb_dataset_free(&ds);
}

void lsd6_states_free(lsd6_states *s)
{
    free(s->losses);
    free(s->G);
    memset(s, 0, sizeof *s);
}
