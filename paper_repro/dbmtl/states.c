/* states.c: a registered problem (its data, network and protocol) trained step by step
 * through mtb_trainer_step (pnet), for the experiments that look inside a step, and the
 * LSD-6 network states of the one-step checks D2, D8, D9 (dbmtl.md: "100 random LSD-6
 * states"): an EW run (seed 0) and at every `every`-th step a fresh batch's T losses and
 * parameter-level task gradients over all shared parameters, what db_mtl, PCGrad, Nash-MTL
 * ... receive in training. The states span the run from the initial model on, with LSD-6's
 * loss scales (six orders of magnitude). */
#include "dbmtl.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mtb/model.h"
#include "mtb/problem.h"
#include "mtb/rng.h"

void pnet_open(pnet *n, const char *problem, mtb_balancer *bal, uint64_t seed)
{
    memset(n, 0, sizeof *n);
    static mtb_problem p; /* large (512 tasks of room); one net open at a time */
    mtb_error err = {0};
    if (mtb_problem_lookup(problem, "paper", &p, &err) ||
        mtb_problem_make_dataset(&p, &n->ds, &err))
        die("%s: %s", problem, err.msg);
    const int T = n->ds.T;
    if (T > PNET_MAXT)
        die("%s has %d tasks (at most %d here)", problem, T, PNET_MAXT);
    double osc[PNET_MAXT], lsc[PNET_MAXT];
    for (int t = 0; t < T; t++) {
        n->head_out[t] = n->ds.tasks[t].out_width;
        osc[t] = p.tasks[t].out_scale;
        lsc[t] = p.tasks[t].loss_scale;
    }
    mtb_model_config mc = {.d_in = n->ds.d_in, .n_hidden = p.proto.n_hidden,
                           .act = p.proto.act, .T = T, .head_out = n->head_out};
    memcpy(mc.widths, p.proto.widths, sizeof mc.widths);
    mtb_rng init;
    mtb_rng_seed(&init, seed, MTB_STREAM_INIT);
    mtb_rng_seed(&n->order, seed, MTB_STREAM_SHUFFLE);
    if (mtb_model_new(&mc, &n->model, &err) ||
        mtb_model_init_orthogonal(n->model, p.proto.init_gain, &init, &err))
        die("%s model: %s", problem, err.msg);
    n->lr = p.proto.optim.lr;
    if (p.proto.optim.lr_steps == 0)
        p.proto.optim.lr_steps = p.proto.steps; /* a schedule's horizon: the run, as run.c */
    mtb_trainer_config tc = {.optim = p.proto.optim, .clip_norm = p.proto.clip_norm,
                             .batch_max = p.proto.batch, .need = MTB_NEED_PARAM_GRADS,
                             .scope = MTB_SCOPE_ALL, .out_scale = osc, .loss_scale = lsc};
    if (mtb_trainer_new(n->model, n->ds.tasks, bal, &tc, &n->tr, &err))
        die("%s trainer: %s", problem, err.msg);
    /* a second trainer on the same model, without a balancer, that only inspects: parameter-level
     * task gradients whatever the balancer needs (it never steps) */
    if (mtb_trainer_new(n->model, n->ds.tasks, NULL, &tc, &n->gtr, &err))
        die("%s trainer: %s", problem, err.msg);
    tc.scope = MTB_SCOPE_LAST_LAYER; /* and one for the last shared layer's (GradNorm's) */
    if (mtb_trainer_new(n->model, n->ds.tasks, NULL, &tc, &n->ltr, &err))
        die("%s trainer: %s", problem, err.msg);
    n->B = p.proto.batch;
    n->steps = p.proto.steps;
    const size_t N = n->ds.train.n;
    n->idx = malloc(N * sizeof *n->idx);
    n->x = malloc((size_t)n->B * (size_t)n->ds.d_in * sizeof *n->x);
    n->y = malloc((size_t)n->B * (size_t)n->ds.y_width * sizeof *n->y);
    if (!n->idx || !n->x || !n->y)
        die("out of memory for the %s batches", problem);
    for (size_t i = 0; i < N; i++)
        n->idx[i] = i;
    n->pos = N; /* the first batch starts an epoch */
}

void pnet_sizes(const char *problem, int *T, size_t *P)
{
    static char name[64];
    static int t;
    static size_t p;
    if (strcmp(name, problem)) { /* one data set and network per problem and process */
        pnet n;
        pnet_open(&n, problem, NULL, 0);
        t = n.ds.T, p = n.model->n_trunk;
        pnet_close(&n);
        snprintf(name, sizeof name, "%s", problem);
    }
    *T = t, *P = p;
}

mtb_balancer *pnet_open_method(pnet *n, const char *problem, const char *method,
                               const char *opts, uint64_t seed)
{
    const mtb_balancer_type *ty = mtb_balancer_find(method);
    mtb_hparams hp;
    mtb_error err = {0};
    if (!ty)
        die("no method '%s' (mtb methods lists them)", method);
    if (mtb_hparams_parse(ty, opts, &hp, &err))
        die("%s:%s: %s", method, opts, err.msg);
    int T;
    size_t P;
    pnet_sizes(problem, &T, &P);
    mtb_balancer *b = mtb_balancer_new(ty, T, P, &hp, 0, &err);
    if (!b)
        die("%s:%s: %s", method, opts, err.msg);
    pnet_open(n, problem, b, seed);
    return b;
}

/* the next batch (a new epoch in a new order when the current one is used up) into x, y */
void pnet_batch(pnet *n)
{
    const size_t N = n->ds.train.n, dx = (size_t)n->ds.d_in, dy = (size_t)n->ds.y_width;
    if (n->pos + (size_t)n->B > N) {
        mtb_rng_shuffle(&n->order, n->idx, N);
        n->pos = 0;
    }
    for (int b = 0; b < n->B; b++) {
        size_t r = n->idx[n->pos + (size_t)b];
        memcpy(n->x + (size_t)b * dx, n->ds.train.x + r * dx, dx * sizeof *n->x);
        memcpy(n->y + (size_t)b * dy, n->ds.train.y + r * dy, dy * sizeof *n->y);
    }
    n->pos += (size_t)n->B;
}

void pnet_train(pnet *n, mtb_step_result *res)
{
    mtb_error err = {0};
    pnet_batch(n);
    if (mtb_trainer_step(n->tr, n->x, n->y, (size_t)n->ds.y_width, n->B, n->step++, 0, res, &err))
        die("step %ld: %s", n->step - 1, err.msg);
}

void pnet_close(pnet *n)
{
    mtb_trainer_free(n->ltr);
    mtb_trainer_free(n->gtr);
    mtb_trainer_free(n->tr);
    mtb_model_free(n->model);
    mtb_dataset_free(&n->ds);
    free(n->idx), free(n->x), free(n->y);
    memset(n, 0, sizeof *n);
}

void lsd6_states_make(lsd6_states *s, int n, long every)
{
    memset(s, 0, sizeof *s);
    pnet net;
    pnet_open(&net, "lsd6", NULL, 0); /* no balancer: equal weights */
    const int T = net.ds.T;
    const size_t P = net.model->n_trunk;
    s->losses = malloc((size_t)n * (size_t)T * sizeof *s->losses);
    s->G = malloc((size_t)n * (size_t)T * P * sizeof *s->G);
    if (!s->losses || !s->G)
        die("out of memory for %d LSD-6 states of %zu parameters", n, P);
    s->T = T, s->n = n, s->P = P;
    mtb_error err = {0};
    for (int k = 0; k < n; k++) {
        mtb_step_result res;
        for (long e = 0; k > 0 && e < every; e++)
            pnet_train(&net, &res);
        pnet_batch(&net); /* the state's own batch: not trained on */
        const double *l, *G;
        size_t D;
        if (mtb_trainer_task_grads(net.gtr, net.x, net.y, (size_t)net.ds.y_width, net.B,
                                   MTB_NEED_PARAM_GRADS, MTB_SCOPE_ALL, &l, &G, &D, &err))
            die("lsd6 task gradients: %s", err.msg);
        if (D != P)
            die("lsd6: %zu gradient columns, expected %zu", D, P);
        memcpy(s->losses + (size_t)k * T, l, (size_t)T * sizeof *l);
        memcpy(s->G + (size_t)k * T * P, G, (size_t)T * P * sizeof *G);
    }
    pnet_close(&net);
}

void lsd6_states_free(lsd6_states *s)
{
    free(s->losses);
    free(s->G);
    memset(s, 0, sizeof *s);
}
