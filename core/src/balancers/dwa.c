/* dwa.c: Dynamic Weight Average. Liu, Johns & Davison, "End-to-End Multi-Task Learning
 * with Attention", CVPR 2019, Sec. 3.3 (the DWA weighting equation):
 *   lambda_k(t) = K exp(r_k(t-1)/T) / sum_i exp(r_i(t-1)/T),  r_k(t-1) = L_k(t-1)/L_k(t-2)
 * with L_k(e) the mean loss of task k over epoch e, temperature T = 2, K tasks, and
 * lambda = 1 for the first two epochs (variant=epoch, the default). The weights are
 * loss weights (heads and trunk) and sum to K.
 * LibMTL's DWA is this rule exactly (w = T softmax(buf[e-1]/buf[e-2] / 2) for epoch > 1,
 * with buf the epoch-mean losses), so it has no separate variant; mtb golden checks it.
 * variant=ema is the SLAW code's per-step version (spec 4.4): after each step
 *   E_i <- L_i (first step), else prev_i = E_i, E_i <- c E_i + (1-c) L_i  (c = 0.9),
 *   w = K softmax((E/prev)/T)
 * and step t uses the weights computed after step t-1 (post-loss; w = 1 at steps 0, 1).
 * Guards: a non-positive denominator (loss 0) gives ratio 1 for that task; ratios are
 * capped at 1e300 so the stable softmax never sees inf. */
#include <float.h>
#include <math.h>
#include <stdlib.h>

#include "internal.h"

enum { VAR_EPOCH = 0, VAR_EMA = 1 };

static const mtb_hparam_def dwa_hp[] = {
    {"temp", MTB_HP_REAL, 2.0, 1e-6, 1e6, NULL, "softmax temperature (paper and LibMTL: 2)"},
    {"variant", MTB_HP_CHOICE, VAR_EPOCH, 0, 0, "epoch|ema",
     "epoch: original per-epoch means (= LibMTL); ema: SLAW code's per-step EMA"},
    {"ema", MTB_HP_REAL, 0.9, 0.0, 1.0, NULL, "EMA coefficient of variant=ema (SLAW: 0.9)"},
};

typedef struct dwa_state {
    int T, variant;
    double temp, c;
    /* epoch variant */
    long cur_epoch, n_cur;  /* epoch being accumulated (-1: none yet), its step count */
    long e1, e2;            /* indices of the last two completed epochs (-1: none) */
    double *sum_cur, *mean1, *mean2;
    /* ema variant */
    long n_seen;
    double *E, *w_next;
    double *r;              /* scratch */
} dwa_state;

static mtb_status dwa_init(void *state, int T, size_t D_max, const mtb_hparams *hp,
                           mtb_balancer_setup *setup, mtb_error *err)
{
    (void)D_max;
    dwa_state *s = state;
    s->T = T;
    s->temp = hp->v[0];
    s->variant = (int)hp->v[1];
    s->c = hp->v[2];
    s->cur_epoch = s->e1 = s->e2 = -1;
    s->sum_cur = calloc(6 * (size_t)T, sizeof *s->sum_cur);
    if (!s->sum_cur)
        return mtb_fail(err, MTB_ENOMEM, "method dwa: cannot allocate its state for %d tasks", T);
    s->mean1 = s->sum_cur + T;
    s->mean2 = s->mean1 + T;
    s->E = s->mean2 + T;
    s->w_next = s->E + T;
    s->r = s->w_next + T;
    mtb_bal_fill(s->w_next, T, 1.0);
    setup->need = MTB_NEED_LOSSES;
    return MTB_OK;
}

static double ratio(double num, double den)
{
    if (!(den > 0.0))
        return 1.0;
    double r = num / fmax(den, DBL_MIN);
    return fmin(r, 1e300);
}

/* w = K softmax(r / temp) */
static void dwa_weights(dwa_state *s, double *w)
{
    mtb_bal_softmax(s->r, s->T, s->temp, w);
    for (int t = 0; t < s->T; t++)
        w[t] *= s->T;
}

static mtb_status dwa_step(void *state, const mtb_balance_in *in, mtb_balance_out *out,
                           mtb_error *err)
{
    dwa_state *s = state;
    int T = s->T;
    if (s->variant == VAR_EMA) {
        for (int t = 0; t < T; t++)
            out->head_w[t] = out->trunk_w[t] = s->w_next[t];
        for (int t = 0; t < T; t++) {
            double l = in->losses[t];
            if (s->n_seen == 0) {
                s->E[t] = l;
                s->r[t] = 1.0;
            } else {
                double prev = s->E[t];
                s->E[t] = s->c * s->E[t] + (1.0 - s->c) * l;
                s->r[t] = ratio(s->E[t], prev);
            }
        }
        s->n_seen++;
        dwa_weights(s, s->w_next);
        return MTB_OK;
    }
    if (in->epoch < 0)
        return mtb_fail(err, MTB_EINVAL, "method dwa: epoch must be >= 0, got %ld", in->epoch);
    if (in->epoch != s->cur_epoch) {
        if (in->epoch < s->cur_epoch)
            return mtb_fail(err, MTB_EINVAL, "method dwa: epoch went back from %ld to %ld",
                            s->cur_epoch, in->epoch);
        if (s->cur_epoch >= 0 && s->n_cur > 0) { /* close the finished epoch */
            for (int t = 0; t < T; t++) {
                s->mean2[t] = s->mean1[t];
                s->mean1[t] = s->sum_cur[t] / (double)s->n_cur;
            }
            s->e2 = s->e1;
            s->e1 = s->cur_epoch;
        }
        s->cur_epoch = in->epoch;
        s->n_cur = 0;
        mtb_bal_fill(s->sum_cur, T, 0.0);
    }
    if (s->e1 == in->epoch - 1 && s->e2 == in->epoch - 2 && s->e2 >= 0) {
        for (int t = 0; t < T; t++)
            s->r[t] = ratio(s->mean1[t], s->mean2[t]);
        dwa_weights(s, out->trunk_w);
    } else {
        mtb_bal_fill(out->trunk_w, T, 1.0);
    }
    for (int t = 0; t < T; t++) {
        out->head_w[t] = out->trunk_w[t];
        s->sum_cur[t] += in->losses[t];
    }
    s->n_cur++;
    return MTB_OK;
}

static void dwa_fini(void *state)
{
    free(((dwa_state *)state)->sum_cur);
}

const mtb_balancer_type mtb_balancer_dwa = {
    .name = "dwa",
    .summary = "dynamic weight average: K softmax of loss-descent ratios / 2",
    .cite = "Liu, Johns & Davison, End-to-End Multi-Task Learning with Attention, CVPR 2019",
    .hparams = dwa_hp,
    .n_hparams = 3,
    .state_size = sizeof(dwa_state),
    .init = dwa_init,
    .step = dwa_step,
    .fini = dwa_fini,
};
