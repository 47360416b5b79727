/* igbv2.c: Improvable Gap Balancing with deep reinforcement learning. Dai, Fei & Lu,
 * "Improvable Gap Balancing for Multi-Task Learning", UAI 2023 (arXiv 2307.15429), IGBv2.
 * The paper's abstract fixes the idea (an RL agent assigns the task weights so as to balance
 * the improvable gaps, on top of scale-invariant loss balancing); every detail below is read
 * in the authors' code (github.com/YanqiDai/IGB4MTL: methods/loss_weight_methods.py,
 * ImprovableGapBalancing_v2; methods/SAC_Agent.py; experiments/utils.py for the defaults;
 * experiments/nyuv2/trainer.py for the base losses and the reward scale), because the
 * paper's body was not available to us. docs/methods.md lists what is the authors'
 * and what is ours.
 *
 * MDP (one transition per training step t; K tasks):
 *   state   s_t = L(t), the K raw losses of step t's batch
 *   action  a_t = w(t) = K softmax(u), u ~ N(mu(s_t), std(s_t)^2) from the actor
 *   reward  r_t = reward_scale * min_k (L_k(t) - L_k(t+1)) / L_k^base
 *           the smallest relative loss decrease: the agent is paid only when every task
 *           improves. L^base is IGBv1's base loss (mean loss of epoch base_epoch); no
 *           transition is stored before it is known.
 *   next    s_{t+1} = L(t+1)
 *   reward=next_step (default, the authors' code): L(t+1) is the next step's batch losses
 *     (the transition is completed at the next step() call).
 *   reward=after_update (ours): L(t+1) is the same batch's losses re-evaluated after the
 *     parameter update (balancer.h's after_update hook), which removes the batch-to-batch
 *     noise from the reward.
 * Schedule (authors' ImprovableGapBalancing_v2, epochs 0-based):
 *   epochs < start_epoch (5): random weights K softmax(N(0, I)) (RLW's), else the actor's
 *     stochastic action;
 *   from epoch update_after (3), at every step index multiple of update_every (50):
 *     n = int(update_every * k/2) SAC updates on minibatches of int(batch * k/2), with
 *     k = 1 + |buffer| / capacity (so 25 updates of 128 with an empty buffer, 50 of 256 when
 *     full); the updates run before the step's action is chosen. (update_every = 1 would
 *     give int(k/2) = 0 updates until the buffer is full, so the range starts at 2.)
 * Agent (igb_agent.c): SAC, actor and twin critics with two hidden ReLU layers of 128, Adam
 *   lr 3e-4 for actor, critics and log alpha, gamma 0.99, tau 0.005, alpha0 0.2 learnt
 *   towards the target entropy -K, replay capacity 1e4, batch 256.
 * Weights returned (heads and trunk; a loss-balancing method): the objective is
 *   sum_k w_k log L_k (authors: weights * torch.log(losses)), so
 *   head_w_k = trunk_w_k = w_k / (L_k + eps),  eps = 1e-8 ours (keeps loss 0 finite).
 * reward_scale: the authors set it to lr_0 / lr_current at each epoch to undo their StepLR
 *   decay; mtb's trainer keeps the learning rate constant, so the default is 1.
 * Random draws come from the balancer's stream in->rng, in a fixed order per step: first
 * the step's T standard normals z that decide its weights (before start_epoch the logits,
 * w = T softmax(z); from it the actor's exploration noise, u = mu(s) + std(s) z), then the
 * networks' initialisation (first step only), then the SAC updates' draws (minibatch
 * indices, the reparameterisation noise of the next action a' in the TD target and of the
 * actor loss). A run is deterministic for a seed.
 * Replay (balancer.h, setup.replay = MTB_REPLAY_VALUES): in->draws.values = the step's T
 * normals z (exactly T values, finite: the driver checks finiteness). They replace the
 * stream's, which still advances by T normals (drawn and discarded), so that the draws
 * internal to the agent's learning stay where they were: supplying the values the stream
 * would have drawn gives the bit-identical run, and other values change only the actions
 * (and, through the replay buffer, what the agent learns from them). Those internal draws
 * (initialisation, minibatches, target and actor-loss noise) cannot be supplied: they are
 * not decisions about this step's weights but the agent's training, which depends on the
 * whole buffer, and no reference records them (IGBv2 is not in LibMTL).
 * init() allocates everything; step() and after_update() allocate nothing. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "igb_agent.h"
#include "internal.h"

enum {
    HP_BASE_EPOCH, HP_START_EPOCH, HP_UPDATE_AFTER, HP_UPDATE_EVERY, HP_BUFFER, HP_BATCH,
    HP_HIDDEN, HP_LR, HP_GAMMA, HP_TAU, HP_ALPHA, HP_ADAPTIVE, HP_REWARD, HP_LOGPROB, HP_EPS,
    HP_REWARD_SCALE, HP_N
};
enum { REWARD_NEXT_STEP = 0, REWARD_AFTER_UPDATE = 1 };
enum { LOGP_OFFICIAL = 0, LOGP_GAUSSIAN = 1 };

static const mtb_hparam_def igbv2_hp[HP_N] = {
    [HP_BASE_EPOCH] = {"base_epoch", MTB_HP_INT, 1, 0, 1e9, NULL,
                       "0-based epoch whose mean losses are L_base (authors' --base_epoch: 1)"},
    [HP_START_EPOCH] = {"start_epoch", MTB_HP_INT, 5, 0, 1e9, NULL,
                        "random weights K softmax(N(0,I)) before this epoch (authors: 5)"},
    [HP_UPDATE_AFTER] = {"update_after", MTB_HP_INT, 3, 0, 1e9, NULL,
                         "first epoch with SAC updates (authors: 3)"},
    [HP_UPDATE_EVERY] = {"update_every", MTB_HP_INT, 50, 2, 1e9, NULL,
                         "SAC updates run every this many steps, int(this * k/2) of them "
                         "(authors: 50)"},
    [HP_BUFFER] = {"buffer_size", MTB_HP_INT, 10000, 1, 1e8, NULL,
                   "replay buffer capacity (authors' --buffer_size: 1e4)"},
    [HP_BATCH] = {"batch_size", MTB_HP_INT, 256, 2, 1e6, NULL,
                  "SAC minibatch when the buffer is full; int(this * k/2) (authors: 256)"},
    [HP_HIDDEN] = {"hidden", MTB_HP_INT, 128, 1, 1e5, NULL,
                   "width of the two hidden layers of actor and critics (authors: 128)"},
    [HP_LR] = {"lr", MTB_HP_REAL, 3e-4, 0.0, 1.0, NULL,
               "Adam lr of actor, critics and temperature (authors' --sac_lr: 3e-4)"},
    [HP_GAMMA] = {"gamma", MTB_HP_REAL, 0.99, 0.0, 1.0, NULL, "discount (authors: 0.99)"},
    [HP_TAU] = {"tau", MTB_HP_REAL, 0.005, 0.0, 1.0, NULL,
                "Polyak coefficient of the target critics (authors: 0.005)"},
    [HP_ALPHA] = {"alpha", MTB_HP_REAL, 0.2, 1e-12, 1e6, NULL,
                  "initial SAC temperature (authors: 0.2)"},
    [HP_ADAPTIVE] = {"adaptive_alpha", MTB_HP_BOOL, 1, 0, 1, NULL,
                     "learn the temperature towards entropy -K (authors: true)"},
    [HP_REWARD] = {"reward", MTB_HP_CHOICE, REWARD_NEXT_STEP, 0, 0, "next_step|after_update",
                   "L(t+1) of the reward: next step's batch (authors) or the same batch after "
                   "the update (ours)"},
    [HP_LOGPROB] = {"logprob", MTB_HP_CHOICE, LOGP_OFFICIAL, 0, 0, "official|gaussian",
                    "actor log-density: authors' (with a tanh correction term) or Gaussian of u"},
    [HP_EPS] = {"eps", MTB_HP_REAL, 1e-8, 0.0, 1.0, NULL,
                "added to the loss in log(l + eps) and to a zero base loss (ours: 1e-8)"},
    [HP_REWARD_SCALE] = {"reward_scale", MTB_HP_REAL, 1.0, 0.0, 1e12, NULL,
                         "reward multiplier (authors: lr_0/lr_now; 1 with a constant lr)"},
};

typedef struct igbv2_state {
    int T, reward_mode;
    long start_epoch, update_after, update_every, k;
    double eps, reward_scale;
    mtb_igb_base base;
    mtb_igb_agent agent;
    double *prev_l, *prev_w; /* (T) state and action of the last step */
    double *u;               /* (T) scratch: random logits */
    int has_prev;            /* prev_* hold a step */
    int pending;             /* reward=after_update: the last step waits for its hook */
} igbv2_state;

static void igbv2_fini(void *vs)
{
    igbv2_state *s = vs;
    mtb_igb_base_free(&s->base);
    mtb_igb_agent_free(&s->agent);
    free(s->prev_l);
}

static mtb_status igbv2_after_update(void *vs, const double *losses_after, mtb_error *err);

static mtb_status igbv2_init(void *vs, int T, size_t D_max, const mtb_hparams *hp,
                             mtb_balancer_setup *setup, mtb_error *err)
{
    (void)D_max;
    igbv2_state *s = vs;
    s->T = T;
    s->start_epoch = (long)hp->v[HP_START_EPOCH];
    s->update_after = (long)hp->v[HP_UPDATE_AFTER];
    s->update_every = (long)hp->v[HP_UPDATE_EVERY];
    s->reward_mode = (int)hp->v[HP_REWARD];
    s->eps = hp->v[HP_EPS];
    s->reward_scale = hp->v[HP_REWARD_SCALE];
    setup->need = MTB_NEED_LOSSES;
    setup->replay = MTB_REPLAY_VALUES; /* the step's T normals z (header comment) */
    setup->after_update = s->reward_mode == REWARD_AFTER_UPDATE ? igbv2_after_update : NULL;
    mtb_status st = mtb_igb_base_init(&s->base, T, (long)hp->v[HP_BASE_EPOCH], "igbv2", err);
    if (st)
        return st;
    mtb_igb_agent_config c = {
        .S = T,
        .A = T,
        .H = (int)hp->v[HP_HIDDEN],
        .buffer_size = (long)hp->v[HP_BUFFER],
        .batch = (int)hp->v[HP_BATCH],
        .lr = hp->v[HP_LR],
        .gamma = hp->v[HP_GAMMA],
        .tau = hp->v[HP_TAU],
        .alpha0 = hp->v[HP_ALPHA],
        .adaptive_alpha = hp->v[HP_ADAPTIVE] != 0.0,
        .official_logp = (int)hp->v[HP_LOGPROB] == LOGP_OFFICIAL,
    };
    if ((st = mtb_igb_agent_init(&s->agent, &c, "igbv2", err)))
        return st;
    s->prev_l = calloc(3 * (size_t)T, sizeof *s->prev_l);
    if (!s->prev_l)
        return mtb_fail(err, MTB_ENOMEM, "method igbv2: cannot allocate the state (T = %d)", T);
    s->prev_w = s->prev_l + T;
    s->u = s->prev_w + T;
    return MTB_OK;
}

/* r = scale * min_k (l_k - l2_k) / L_k^base; a base <= 0 is replaced by eps (or 1). */
static double igb_reward(const igbv2_state *s, const double *l, const double *l2)
{
    double r = INFINITY;
    for (int t = 0; t < s->T; t++) {
        double b = s->base.base[t];
        if (!(b > 0.0))
            b = s->eps > 0.0 ? s->eps : 1.0;
        r = fmin(r, (l[t] - l2[t]) / b);
    }
    r *= s->reward_scale;
    return isfinite(r) ? r : (r > 0 ? 1e30 : -1e30);
}

static mtb_status check_log(const igbv2_state *s, const double *l, const char *when,
                            mtb_error *err)
{
    for (int t = 0; t < s->T; t++)
        if (!(l[t] + s->eps > 0.0))
            return mtb_fail(err, MTB_ENUMERIC, "method igbv2: %sloss %d = %g gives log(l + eps) "
                            "with eps = %g undefined (IGB weights log losses)", when, t, l[t],
                            s->eps);
    return MTB_OK;
}

static mtb_status igbv2_step(void *vs, const mtb_balance_in *in, mtb_balance_out *out,
                             mtb_error *err)
{
    igbv2_state *s = vs;
    const int T = s->T;
    const double *l = in->losses;
    mtb_status st = check_log(s, l, "", err);
    if (st)
        return st;
    if (!in->rng)
        return mtb_fail(err, MTB_EINVAL, "method igbv2: needs the balancer's random stream");
    const double *z_rec = in->draws.values;
    if (z_rec && in->draws.n_values != (size_t)T)
        return mtb_fail(err, MTB_EINVAL, "method igbv2: %zu recorded draws, expected the "
                        "step's T = %d standard normals (warm-up logits or actor noise)",
                        in->draws.n_values, T);
    if ((st = mtb_igb_base_observe(&s->base, in->epoch, l, "igbv2", err)))
        return st;
    /* the step's T normals first (header comment: replay keeps the later draws in place) */
    for (int t = 0; t < T; t++) {
        double z = mtb_rng_normal(in->rng);
        s->u[t] = z_rec ? z_rec[t] : z;
    }
    mtb_igb_agent *g = &s->agent;
    mtb_igb_agent_ready(g, in->rng);

    /* complete the last step's transition with this step's losses (authors' code) */
    if (s->reward_mode == REWARD_NEXT_STEP && s->has_prev && s->base.ready)
        mtb_igb_agent_add(g, s->prev_l, s->prev_w, igb_reward(s, s->prev_l, l), l);

    /* SAC updates */
    if (in->epoch >= s->update_after && s->k % s->update_every == 0 && g->size > 0) {
        double kk = 1.0 + (double)g->size / (double)g->c.buffer_size;
        int n_upd = (int)((double)s->update_every * (kk / 2.0));
        int M = (int)((double)g->c.batch * (kk / 2.0));
        for (int i = 0; i < n_upd; i++)
            if ((st = mtb_igb_agent_update(g, M, in->rng, "igbv2", err)))
                return st;
    }

    /* action: before start_epoch RLW's T softmax(z), then the actor's with noise z */
    if (in->epoch < s->start_epoch) {
        mtb_bal_softmax(s->u, T, 1.0, s->prev_w);
        for (int t = 0; t < T; t++)
            s->prev_w[t] *= T;
    } else if ((st = mtb_igb_agent_act(g, l, s->u, s->prev_w, "igbv2", err))) {
        return st;
    }
    memcpy(s->prev_l, l, (size_t)T * sizeof *l);
    s->has_prev = 1;
    s->pending = 1;
    s->k++;
    for (int t = 0; t < T; t++)
        out->head_w[t] = out->trunk_w[t] = s->prev_w[t] / (l[t] + s->eps);
    return MTB_OK;
}

static mtb_status igbv2_after_update(void *vs, const double *losses_after, mtb_error *err)
{
    igbv2_state *s = vs;
    if (!s->pending)
        return mtb_fail(err, MTB_EINVAL,
                        "method igbv2: after_update without a step before it (one call per step)");
    mtb_status st = check_log(s, losses_after, "after the update, ", err);
    if (st)
        return st;
    if (s->base.ready)
        mtb_igb_agent_add(&s->agent, s->prev_l, s->prev_w,
                          igb_reward(s, s->prev_l, losses_after), losses_after);
    s->pending = 0;
    return MTB_OK;
}

const mtb_balancer_type mtb_balancer_igbv2 = {
    .name = "igbv2",
    .summary = "improvable gap balancing v2: SAC agent picks K softmax weights on log losses",
    .cite = "Dai, Fei & Lu, Improvable Gap Balancing for Multi-Task Learning, UAI 2023 (IGBv2)",
    .hparams = igbv2_hp,
    .n_hparams = HP_N,
    .state_size = sizeof(igbv2_state),
    .init = igbv2_init,
    .step = igbv2_step,
    .fini = igbv2_fini,
};
