/* appb.c: Appendix B of the SLAW paper, "Empirical validation of SLAW" (Figure 3).
 *
 * For one run (seed s) we train MTRRegression with the Table-1 settings up to a stop step
 * t* drawn from {lo..hi} (code: 100..999; paper text: 10..1000; spec sec. 5.3), and at t*
 * compare on the same batch and model
 *   x_i = n (1/||g_i||) / sum_j (1/||g_j||)       [SLAW Eq. 47 = Eq. 4]
 *   y_i = n (1/max(s_i, 1e-5)) / sum_j (1/max(s_j, 1e-5))   [SLAW Eq. 48 = Eq. 9 with the floor]
 * with g_i the gradient of the unweighted task loss L_i(t*) and s_i SLAW's running std of
 * L_i over steps 0..t* (Eqs. 6-8, the code's arithmetic-mean warm-up then beta = 0.99 EMA,
 * spec sec. 4.1). Both the last shared layer's gradient (weight + bias, 10 100 numbers: the
 * authors' SLAWTester) and the full trunk gradient (55 400 numbers: Eq. 4 as written) are
 * recorded. Variant 0 trains with all weights 1 (the authors' protocol: SLAW only tracked);
 * variant 1 trains with SLAW's weights. The stop step and the task shown in the figure are
 * drawn from a seeded stream (the authors' were unseeded: erratum 10).
 *
 * s_i is computed here from the losses (RunningStats of the code) AND by an mtb "slaw"
 * balancer fed the same losses; the file records the largest difference between the two
 * weight vectors, an independent check of core/src/balancers/slaw.c. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mtb/balancer.h"
#include "mtb/h5.h"
#include "mtb/model.h"
#include "mtb/rng.h"
#include "mtb/run.h"
#include "mtb/train.h"
#include "slaw.h"

#define APPB_STREAM 0x5B0001u /* the stop step and the plotted task */

void appb_draw(int seed, const scale *sc, long *stop, int *task)
{
    mtb_rng r;
    mtb_rng_seed(&r, (uint64_t)seed, APPB_STREAM);
    *stop = sc->appb_lo + (long)mtb_rng_below(&r, (uint64_t)(sc->appb_hi - sc->appb_lo + 1));
    *task = (int)mtb_rng_below(&r, 10);
}

long appb_steps(int seed, const scale *sc)
{
    long stop;
    int task;
    appb_draw(seed, sc, &stop, &task);
    return stop + 1;
}

/* The authors' RunningStats (meta/utils/estimate.py; spec sec. 4.1): exact arithmetic
 * means while count <= K = round(1/(1-beta)), then m <- beta m + (1-beta) x. */
typedef struct running_stats {
    long count;
    double beta, m1, m2;
} running_stats;

static void rs_push(running_stats *r, double x)
{
    long K = lround(1.0 / (1.0 - r->beta));
    r->count++;
    if (r->count <= K) {
        r->m1 += (x - r->m1) / (double)r->count;
        r->m2 += (x * x - r->m2) / (double)r->count;
    } else {
        r->m1 = r->beta * r->m1 + (1.0 - r->beta) * x;      /* SLAW Eq. 7 */
        r->m2 = r->beta * r->m2 + (1.0 - r->beta) * x * x;  /* SLAW Eq. 6 */
    }
}

static double rs_std(const running_stats *r) { return sqrt(r->m2 - r->m1 * r->m1); } /* Eq. 8 */

/* n (1/max(v_i, floor)) / sum_j (1/max(v_j, floor)): Eq. 4 / 9 / 47 / 48 */
static void inverse_weights(int T, const double *v, double floor, double *w)
{
    double s = 0.0;
    for (int t = 0; t < T; t++)
        s += w[t] = 1.0 / fmax(v[t], floor);
    for (int t = 0; t < T; t++)
        w[t] *= T / s;
}

int appb_run(const mtb_dataset *ds, int variant, int seed, const scale *sc, const char *path,
             mtb_pool_slot *progress, mtb_error *err)
{
    const int T = ds->T;
    if (T != 10)
        return mtb_fail(err, MTB_EINVAL, "appendix B: MTRRegression with 10 tasks expected, got %d", T), -1;
    running_stats rs[10];
    double w_track[10], w_dummy[10], w_mine[10], s_mine[10];
    double g_last[10], g_all[10], x_last[10], x_all[10], loss_at[10];
    int head_out[10];
    long stop;
    int plot_task;
    appb_draw(seed, sc, &stop, &plot_task);
    const mtb_protocol cfg = slaw_problem()->proto; /* the Table-1 settings (spec sec. 2) */
    const int B = cfg.batch;
    const size_t n = ds->train.n, d_in = (size_t)ds->d_in, yw = (size_t)ds->y_width;

    for (int t = 0; t < T; t++)
        head_out[t] = ds->tasks[t].out_width;
    mtb_model_config mc = {(int)d_in, cfg.n_hidden, {0}, cfg.act, T, head_out};
    memcpy(mc.widths, cfg.widths, sizeof mc.widths);
    mtb_model *m = NULL;
    mtb_balancer *train_bal = NULL, *tracker = NULL;
    mtb_trainer *tr = NULL, *probe = NULL;
    size_t *order = malloc(sizeof(size_t) * n);
    float *bx = malloc(sizeof(float) * (size_t)B * d_in), *by = malloc(sizeof(float) * (size_t)B * yw);
    mtb_status st = MTB_OK;
    if (!order || !bx || !by) {
        st = mtb_fail(err, MTB_ENOMEM, "appendix B: out of memory");
        goto done;
    }
    /* identical initialisation and batch order to the Table-1 run with the same seed (run.c) */
    mtb_rng init_rng, shuffle_rng;
    mtb_rng_seed(&init_rng, (uint64_t)seed, MTB_STREAM_INIT);
    mtb_rng_seed(&shuffle_rng, (uint64_t)seed, MTB_STREAM_SHUFFLE);
    if ((st = mtb_model_new(&mc, &m, err)) || (st = mtb_model_init_orthogonal(m, cfg.init_gain, &init_rng, err)))
        goto done;
    const mtb_balancer_type *slaw = mtb_balancer_find("slaw"), *ew = mtb_balancer_find("ew");
    if (!slaw || !ew) {
        st = mtb_fail(err, MTB_EINVAL, "appendix B: methods slaw and ew must be registered");
        goto done;
    }
    mtb_hparams hp_slaw, hp_ew;
    if ((st = mtb_hparams_parse(slaw, "beta=0.99,floor=1e-5,init=warmup", &hp_slaw, err)))
        goto done;
    mtb_hparams_default(ew, &hp_ew);
    train_bal = variant ? mtb_balancer_new(slaw, T, 0, &hp_slaw, (uint64_t)seed, err)
                        : mtb_balancer_new(ew, T, 0, &hp_ew, (uint64_t)seed, err);
    tracker = mtb_balancer_new(slaw, T, 0, &hp_slaw, (uint64_t)seed, err);
    if (!train_bal || !tracker) {
        st = err->status ? err->status : MTB_EINVAL;
        goto done;
    }
    mtb_trainer_config tc = {cfg.optim, cfg.clip_norm, B, 0, MTB_NEED_LOSSES, MTB_SCOPE_ALL, NULL, NULL};
    if ((st = mtb_trainer_new(m, ds->tasks, train_bal, &tc, &tr, err)))
        goto done;
    /* a second trainer on the same model, used only to read per-task gradients of all
     * trunk parameters at t* (its optimiser is never stepped) */
    mtb_trainer_config pc = {cfg.optim, cfg.clip_norm, B, 0, MTB_NEED_PARAM_GRADS, MTB_SCOPE_ALL, NULL, NULL};
    if ((st = mtb_trainer_new(m, ds->tasks, NULL, &pc, &probe, err)))
        goto done;

    for (int t = 0; t < T; t++)
        rs[t] = (running_stats){0, 0.99, 0.0, 0.0};
    size_t pos = n;
    long epoch = -1;
    for (long step = 0; step <= stop; step++) {
        if (pos >= n) {
            for (size_t i = 0; i < n; i++)
                order[i] = i;
            mtb_rng_shuffle(&shuffle_rng, order, n);
            pos = 0;
            epoch++;
        }
        int b = (int)(n - pos < (size_t)B ? n - pos : (size_t)B);
        for (int r = 0; r < b; r++) {
            size_t i = order[pos + (size_t)r];
            memcpy(bx + (size_t)r * d_in, ds->train.x + i * d_in, sizeof(float) * d_in);
            memcpy(by + (size_t)r * yw, ds->train.y + i * yw, sizeof(float) * yw);
        }
        pos += (size_t)b;
        const double *losses;
        if (step < stop) {
            mtb_step_result res;
            if ((st = mtb_trainer_step(tr, bx, by, yw, b, step, epoch, &res, err)))
                goto done;
            losses = res.losses;
        } else {
            /* t*: per-task gradients of the unweighted losses on this batch, pre-update */
            const double *G;
            size_t D;
            if ((st = mtb_trainer_task_grads(probe, bx, by, yw, b, MTB_NEED_PARAM_GRADS, MTB_SCOPE_ALL,
                                             &losses, &G, &D, err)))
                goto done;
            for (int t = 0; t < T; t++) {
                const double *row = G + (size_t)t * D;
                double sa = 0.0, sl = 0.0;
                for (size_t k = 0; k < D; k++)
                    sa += row[k] * row[k];
                for (size_t k = m->last_dense_offset; k < m->last_dense_offset + m->last_dense_size; k++)
                    sl += row[k] * row[k];
                g_all[t] = sqrt(sa);
                g_last[t] = sqrt(sl);
                loss_at[t] = losses[t];
            }
            /* Eq. 47, no floor (the code's SLAWTester) */
            inverse_weights(T, g_last, 0.0, x_last);
            inverse_weights(T, g_all, 0.0, x_all);
        }
        /* SLAW statistics include L(t) before weighting step t (pre-loss, spec sec. 4.1) */
        for (int t = 0; t < T; t++)
            rs_push(&rs[t], losses[t]);
        mtb_balance_in in = {.step = step, .epoch = epoch, .T = T, .losses = losses, .rng = mtb_balancer_rng(tracker)};
        mtb_balance_out out = {.head_w = w_track, .trunk_w = w_dummy};
        if ((st = mtb_balancer_step(tracker, &in, &out, err)))
            goto done;
        mtb_pool_units(progress, step + 1);
    }
    for (int t = 0; t < T; t++)
        s_mine[t] = rs_std(&rs[t]);
    inverse_weights(T, s_mine, 1e-5, w_mine);
    double maxdiff = 0.0;
    for (int t = 0; t < T; t++)
        maxdiff = fmax(maxdiff, fabs(w_mine[t] - w_track[t]));

    mtb_h5 *f = mtb_h5_create(path, err);
    if (!f) {
        st = err->status;
        goto done;
    }
    const size_t dT[1] = {(size_t)T};
#define TRY(x) do { if ((st = (x))) { mtb_h5_discard(f); goto done; } } while (0)
    TRY(mtb_h5_attr_str(f, "/", "format", "slaw-appendix-b", err));
    TRY(mtb_h5_attr_str(f, "/", "training", variant ? "slaw" : "constant", err));
    TRY(mtb_h5_attr_i64(f, "/", "seed", seed, err));
    TRY(mtb_h5_attr_i64(f, "/", "stop_step", stop, err));
    TRY(mtb_h5_attr_i64(f, "/", "plot_task", plot_task, err));
    TRY(mtb_h5_attr_f64(f, "/", "max_weight_diff_mine_vs_balancer", maxdiff, err));
    TRY(mtb_h5_write_f64(f, "/loss", 1, dT, loss_at, err));
    TRY(mtb_h5_write_f64(f, "/grad_norm_last", 1, dT, g_last, err));
    TRY(mtb_h5_write_f64(f, "/grad_norm_all", 1, dT, g_all, err));
    TRY(mtb_h5_write_f64(f, "/slaw_std", 1, dT, s_mine, err));
    TRY(mtb_h5_write_f64(f, "/w_true_last", 1, dT, x_last, err));
    TRY(mtb_h5_write_f64(f, "/w_true_all", 1, dT, x_all, err));
    TRY(mtb_h5_write_f64(f, "/w_slaw", 1, dT, w_track, err));
#undef TRY
    st = mtb_h5_commit(f, err);
done:
    mtb_trainer_free(probe);
    mtb_trainer_free(tr);
    mtb_balancer_free(tracker);
    mtb_balancer_free(train_bal);
    mtb_model_free(m);
    free(order), free(bx), free(by);
    return st ? -1 : 0;
}
