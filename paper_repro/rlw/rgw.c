/* rgw.c: R7's identity in the report (the Criterion test tests/test_rlw_rgw.c checks the
 * same on a small model): TMLR Alg. 2 (RGW) back-propagates dz = sum_t lambda~_t dl_t/dz once
 * through the trunk; RLW (ICLR Alg. 1) gives the trunk sum_t lambda~_t dl_t/dtheta. Same
 * lambda~ (the rgw and rlw methods on one seed) and batch: same shared gradient; head t of
 * RLW = lambda~_t x RGW's. Here on the MTR trunk (250 -> 4 x 100, tanh) with 3 MSE heads,
 * 5 random states; the worst relative differences go to the report. */
#include "rlw.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mtb/model.h"
#include "mtb/train.h"

enum { B7 = 64, T7 = 3, DIN7 = 250, W7 = 100 };

int cmd_rgw(const char *out, const rscale *r)
{
    (void)r;
    int head_out[T7] = {W7, W7, W7};
    mtb_model_config mc = {DIN7, 4, {W7, W7, W7, W7}, MTB_ACT_TANH, T7, head_out};
    mtb_task_spec tasks[T7];
    for (int t = 0; t < T7; t++)
        tasks[t] = (mtb_task_spec){MTB_LOSS_MSE, W7, W7, t * W7, 1.0, 0, {0}};
    mtb_error err = {0};
    double worst = 0.0, hworst = 0.0;
    float *x = malloc(sizeof(float) * B7 * DIN7), *y = malloc(sizeof(float) * B7 * T7 * W7);
    double *g_rlw = NULL, *dz = NULL;
    float *heads = NULL;
    for (int st = 0; st < 5; st++) {
        mtb_model *m;
        if (mtb_model_new(&mc, &m, &err))
            die("%s", err.msg);
        mtb_rng rg;
        mtb_rng_seed(&rg, 100 + (uint64_t)st, 1);
        if (mtb_model_init_orthogonal(m, sqrt(2.0), &rg, &err))
            die("%s", err.msg);
        for (int i = 0; i < B7 * DIN7; i++)
            x[i] = (float)mtb_rng_normal(&rg);
        for (int i = 0; i < B7 * T7 * W7; i++)
            y[i] = (float)mtb_rng_normal(&rg);
        mtb_trainer_config tc = {0};
        mtb_optim_config_adam(&tc.optim, 7e-4);
        tc.batch_max = B7;
        tc.scope = MTB_SCOPE_ALL;
        mtb_trainer *tp, *tz;
        tc.need = MTB_NEED_PARAM_GRADS;
        if (mtb_trainer_new(m, tasks, NULL, &tc, &tp, &err))
            die("%s", err.msg);
        tc.need = MTB_NEED_REP_GRADS;
        if (mtb_trainer_new(m, tasks, NULL, &tc, &tz, &err))
            die("%s", err.msg);
        /* lambda~ of rlw and of rgw on one seed: the same draw; rgw's heads get 1 */
        double lam[T7], one[T7] = {1, 1, 1};
        wsampler w;
        ws_init(&w, V_NORMAL, T7, 900 + (unsigned long long)st);
        ws_draw(&w, 0, lam);
        ws_free(&w);
        const double *l, *G, *Gz;
        size_t P, Dz;
        if (mtb_trainer_task_grads(tp, x, y, T7 * W7, B7, MTB_NEED_PARAM_GRADS, MTB_SCOPE_ALL, &l,
                                   &G, &P, &err))
            die("%s", err.msg);
        g_rlw = realloc(g_rlw, sizeof(double) * P);
        double scale = 0.0;
        for (size_t j = 0; j < P; j++) {
            g_rlw[j] = 0.0;
            for (int t = 0; t < T7; t++)
                g_rlw[j] += lam[t] * G[(size_t)t * P + j]; /* RLW: G^T lambda~ */
            scale = fmax(scale, fabs(g_rlw[j]));
        }
        if (mtb_trainer_weighted_grad(tp, lam, lam, NULL, &err))
            die("%s", err.msg);
        heads = realloc(heads, sizeof(float) * m->n_heads);
        memcpy(heads, m->grad + m->n_trunk, sizeof(float) * m->n_heads);
        if (mtb_trainer_task_grads(tz, x, y, T7 * W7, B7, MTB_NEED_REP_GRADS, MTB_SCOPE_ALL, &l, &Gz,
                                   &Dz, &err))
            die("%s", err.msg);
        dz = realloc(dz, sizeof(double) * Dz);
        for (size_t j = 0; j < Dz; j++) {
            dz[j] = 0.0;
            for (int t = 0; t < T7; t++)
                dz[j] += lam[t] * Gz[(size_t)t * Dz + j]; /* RGW: feature-level weighting */
        }
        if (mtb_trainer_weighted_grad(tz, one, lam, dz, &err))
            die("%s", err.msg);
        for (size_t j = 0; j < P; j++)
            worst = fmax(worst, fabs(m->grad[j] - g_rlw[j]) / scale);
        double hs = 0.0;
        for (size_t j = 0; j < m->n_heads; j++)
            hs = fmax(hs, fabs(heads[j]));
        for (int t = 0; t < T7; t++)
            for (int o = 0; o < W7; o++) {
                size_t row = (size_t)(m->head_off[t] + o);
                for (int c = 0; c <= m->dz; c++) {
                    size_t j = c < m->dz ? row * (size_t)m->dz + (size_t)c
                                         : (size_t)m->sum_out * (size_t)m->dz + row;
                    hworst = fmax(hworst, fabs(heads[j] - lam[t] * m->grad[m->n_trunk + j]) / hs);
                }
            }
        mtb_trainer_free(tp);
        mtb_trainer_free(tz);
        mtb_model_free(m);
    }
    free(x), free(y), free(g_rlw), free(dz), free(heads);
    repro_summary s;
    repro_summary_open_or_die(PROG, &s, out, "rgw");
    repro_summary_put(&s, "shared_rel_diff", worst, worst, worst);
    repro_summary_put(&s, "head_rel_diff", hworst, hworst, hworst);
    repro_summary_close_or_die(PROG, &s);
    printf("[rlw] R7 identity: shared gradients RGW vs RLW max rel. diff %.2g, heads %.2g\n", worst,
           hworst);
    return 0;
}
