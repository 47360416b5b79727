/* rlw_l2c.c: RLW-L2C, "learning to combine the distributions for RLW". Lin et al.,
 * "A Closer Look at Loss Weighting in Multi-Task Learning" (ICLR 2022 submission),
 * Appendix C.8: every step, sample loss weights from each of the six distributions of
 * Sec. 3, sum them elementwise weighted by learnable distribution weights c_j, and
 * normalise the sum with softmax:
 *   z = sum_j c_j lambda^(j),   lambda~ = softmax(z),   L = sum_t lambda~_t l_t
 * What C.8 leaves open, defined here:
 *   - lambda^(j) are the raw draws, before each distribution's own f (Bernoulli 0/1,
 *     constrained Bernoulli one-hot, Dirichlet on the simplex, random Normal with its
 *     per-task (mu, var) drawn once);
 *   - c is learned like the other learnable scalars (the caller's optimiser) on the
 *     same weighted loss: dL/dc_j = sum_k lambda^(j)_k lambda~_k (l_k - lambda~ . l);
 *   - c starts at 1/6 each (z is then the average draw); hparam init.
 * Weights sum to 1 (scale=T: to T); loss weights, heads and trunk.
 * Replay (balancer.h): in->draws.values = the six raw draws lambda^(j), 6 x T values in the
 * order of the `dist` choices of rlw (uniform, normal, dirichlet, bernoulli,
 * constrained_bernoulli, random_normal); nothing is drawn then. */
#include <stdlib.h>

#include "internal.h"

static const mtb_hparam_def l2c_hp[] = {
    {"init", MTB_HP_REAL, 1.0 / 6.0, -100.0, 100.0, NULL,
     "initial weight of each of the six distributions (paper: unstated)"},
    {"lr", MTB_HP_REAL, 0.0, 0.0, 10.0, NULL, "learning rate of c (0: the model's optimiser)"},
    {"scale", MTB_HP_CHOICE, 0, 0, 0, "one|T", "weights sum to 1 (paper) or to T"},
};

typedef struct l2c_state {
    mtb_rlw_sampler smp;
    double scale;
    double c[MTB_RLW_NDIST], dc[MTB_RLW_NDIST];
    double *raw; /* (NDIST, T) */
    double *z;   /* (T) */
} l2c_state;

static mtb_status l2c_init(void *state, int T, size_t D_max, const mtb_hparams *hp,
                           mtb_balancer_setup *setup, mtb_error *err)
{
    (void)D_max;
    l2c_state *s = state;
    mtb_status st = mtb_rlw_sampler_init(&s->smp, T, "rlw_l2c", err);
    if (st)
        return st;
    s->raw = malloc((MTB_RLW_NDIST + 1) * (size_t)T * sizeof *s->raw);
    if (!s->raw)
        return mtb_fail(err, MTB_ENOMEM, "method rlw_l2c: cannot allocate draws for %d tasks", T);
    s->z = s->raw + MTB_RLW_NDIST * (size_t)T;
    mtb_bal_fill(s->c, MTB_RLW_NDIST, hp->v[0]);
    s->scale = hp->v[2] == 1.0 ? T : 1.0;
    setup->need = MTB_NEED_LOSSES;
    setup->replay = MTB_REPLAY_VALUES;
    setup->n_learn = MTB_RLW_NDIST;
    setup->learn = s->c;
    setup->learn_grad = s->dc;
    setup->learn_lr = hp->v[1];
    return MTB_OK;
}

static mtb_status l2c_step(void *state, const mtb_balance_in *in, mtb_balance_out *out,
                           mtb_error *err)
{
    l2c_state *s = state;
    int T = in->T;
    const double *rec = in->draws.values;
    if (rec && in->draws.n_values != (size_t)MTB_RLW_NDIST * (size_t)T)
        return mtb_fail(err, MTB_EINVAL,
                        "method rlw_l2c: %zu recorded draws, expected 6 x T = %zu (one raw draw "
                        "per distribution)", in->draws.n_values, (size_t)MTB_RLW_NDIST * (size_t)T);
    mtb_bal_fill(s->z, T, 0.0);
    for (int j = 0; j < MTB_RLW_NDIST; j++) {
        double *r = s->raw + (size_t)j * T;
        if (rec) {
            for (int t = 0; t < T; t++)
                r[t] = rec[(size_t)j * T + t];
        } else {
            mtb_status st = mtb_rlw_draw(&s->smp, j, in->rng, r, err);
            if (st)
                return st;
        }
        for (int t = 0; t < T; t++)
            s->z[t] += s->c[j] * r[t];
    }
    double *w = out->trunk_w;
    mtb_bal_softmax(s->z, T, 1.0, w);
    double wl = 0.0;
    for (int t = 0; t < T; t++)
        wl += w[t] * in->losses[t];
    /* dL/dz_k = scale w_k (l_k - w.l), then chain through z = sum_j c_j raw_j */
    for (int t = 0; t < T; t++)
        s->z[t] = s->scale * w[t] * (in->losses[t] - wl);
    for (int j = 0; j < MTB_RLW_NDIST; j++) {
        const double *r = s->raw + (size_t)j * T;
        double g = 0.0;
        for (int t = 0; t < T; t++)
            g += r[t] * s->z[t];
        s->dc[j] = g;
    }
    for (int t = 0; t < T; t++)
        out->head_w[t] = w[t] = s->scale * w[t];
    return MTB_OK;
}

static void l2c_fini(void *state)
{
    l2c_state *s = state;
    mtb_rlw_sampler_free(&s->smp);
    free(s->raw);
}

const mtb_balancer_type mtb_balancer_rlw_l2c = {
    .name = "rlw_l2c",
    .summary = "RLW-L2C: softmax of a learned combination of the six RLW distributions",
    .cite = "Lin et al., A Closer Look at Loss Weighting in Multi-Task Learning (ICLR 2022 "
            "submission, Appendix C.8)",
    .hparams = l2c_hp,
    .n_hparams = 3,
    .state_size = sizeof(l2c_state),
    .init = l2c_init,
    .step = l2c_step,
    .fini = l2c_fini,
};
