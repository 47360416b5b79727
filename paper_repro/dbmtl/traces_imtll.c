/* traces_imtll.c: D6's per-step view of IMTL-L (dbmtl.md D6, erratum D-E4), along runs of the
 * registered lsd6 problem (seed 0, its protocol; smoke: the first steps) for imtl_l with s
 * learnt at the network's lr, 10x and 100x, and imtl_l:exact=true:
 *   s_t, read back from the weights the trainer applied (e^{s_t}, the step result's trunk_w),
 *       against -log(l_t + eps) of the same batch, for task 3 (loss ~1e5-1e6: the scale IMTL-L
 *       has to learn);
 *   max_t |e^{s_t} (l_t + eps) - 1|, how far the step is from the log transform's weights
 *       (0 up to rounding for imtl-l-exact);
 *   the movement of s per step over its learning rate: under Adam s moves about lr per step
 *       whatever its gradient's size (D-E4), so in 6 000 steps at 7e-4 it covers ~4 of the ~13
 *       that separate s = 0 from -log l_3. */
#include "dbmtl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { NV = 4, TASK = 2 }; /* TASK: t3, the MSE task of output scale 1000 */

typedef struct variant { const char *label, *key, *opts; double lr_factor; } variant;
static const variant V[NV] = {
    {"s lr = net lr", "net", "", 1.0},
    {"s lr = 10x", "x10", "lr=0.007", 10.0}, /* grid.c's D6 rows: 10 x and 100 x 7e-4 */
    {"s lr = 100x", "x100", "lr=0.07", 100.0},
    {"imtl-l-exact", "exact", "exact=true", 0.0},
};

typedef struct strace {
    long S;
    double lr;              /* s's learning rate (0: exact) */
    double *s3, *tgt3, *dev; /* (S) s_3, -log(l_3 + eps), max_t |e^s (l + eps) - 1| */
    double move_sum, move_max; /* sum and max over steps and tasks of |s_k+1 - s_k| */
} strace;

static void run(const variant *v, long S, strace *tr)
{
    pnet net;
    mtb_balancer *b = pnet_open_method(&net, "lsd6", "imtl_l", v->opts, 0);
    const int T = net.ds.T;
    if (S <= 0 || S > net.steps)
        S = net.steps;
    memset(tr, 0, sizeof *tr);
    tr->S = S;
    tr->lr = v->lr_factor * net.lr;
    tr->s3 = malloc(3 * (size_t)S * sizeof *tr->s3);
    if (!tr->s3)
        die("out of memory for %ld traced steps", S);
    tr->tgt3 = tr->s3 + S, tr->dev = tr->s3 + 2 * S;
    double prev[PNET_MAXT];
    for (long k = 0; k < S; k++) {
        mtb_step_result res;
        pnet_train(&net, &res);
        double dev = 0.0;
        for (int t = 0; t < T; t++) {
            double s = log(res.trunk_w[t]);
            dev = fmax(dev, fabs(res.trunk_w[t] * (res.losses[t] + 1e-8) - 1.0));
            if (k > 0) {
                tr->move_sum += fabs(s - prev[t]);
                tr->move_max = fmax(tr->move_max, fabs(s - prev[t]));
            }
            prev[t] = s;
        }
        tr->dev[k] = dev;
        tr->s3[k] = log(res.trunk_w[TASK]);
        tr->tgt3[k] = -log(res.losses[TASK] + 1e-8);
    }
    tr->move_sum /= (double)(S > 1 ? S - 1 : 1) * T; /* the mean per step and task */
    pnet_close(&net);
    mtb_balancer_free(b);
}

void trace_imtll(const char *out, const dscale *d, repro_summary *sum)
{
    strace tr[NV];
    for (int i = 0; i < NV; i++)
        run(&V[i], d->trace_steps, &tr[i]);
    const long n = tr[0].S;
    char path[1024], dpath[1024];
    FILE *dat = out_open(out, "s_trace.dat", dpath, sizeof dpath);
    fprintf(dat, "step");
    for (int i = 0; i < NV - 1; i++)
        fprintf(dat, "\ts_3 (%s)\t-log l_3 (%s)", V[i].label, V[i].label);
    fprintf(dat, "\n");
    for (long k = 0; k < n; k += n > 2000 ? 5 : 1) {
        fprintf(dat, "%ld", k);
        for (int i = 0; i < NV - 1; i++)
            fprintf(dat, "\t%.6g\t%.6g", tr[i].s3[k], tr[i].tgt3[k]);
        fprintf(dat, "\n");
    }
    out_close(dat, dpath);
    /* the spec's phases of a 6 000-step run, scaled: [0, 1/60), [1/6, 1/3), [5/6, 1) */
    const long ph[3][2] = {{0, n / 60 > 1 ? n / 60 : 2}, {n / 6, n / 3}, {5 * n / 6, n}};
    FILE *f = out_open(out, "dbmtl_s_trace.tsv", path, sizeof path);
    fprintf(f, "variant\tsteps\tmedian max_t |e^s (l + eps) - 1|, phases 1 / 2 / 3\t"
               "median |s_3 + log(l_3 + eps)|, last phase\ts_3 at the end\t-log(l_3 + eps) at the end\t"
               "mean |s_k+1 - s_k| / s lr\tmax |s_k+1 - s_k| / s lr\n");
    for (int i = 0; i < NV; i++) {
        const strace *t = &tr[i];
        double med[3], x;
        for (int p = 0; p < 3; p++)
            trace_quantiles(t->dev, ph[p][0], ph[p][1], &med[p], &x);
        double *gap = malloc((size_t)n * sizeof *gap), g3;
        if (!gap)
            die("out of memory");
        for (long k = 0; k < n; k++)
            gap[k] = fabs(t->s3[k] - t->tgt3[k]);
        trace_quantiles(gap, ph[2][0], ph[2][1], &g3, &x);
        free(gap);
        double devmax = 0.0;
        for (long k = 0; k < n; k++)
            devmax = fmax(devmax, t->dev[k]);
        double mean_lr = t->lr > 0 ? t->move_sum / t->lr : NAN, max_lr = t->lr > 0 ? t->move_max / t->lr : NAN;
        fprintf(f, "%s\t%ld\t%.3g / %.3g / %.3g\t%.3g\t%.4g\t%.4g\t%.3g\t%.3g\n", V[i].label, n,
                med[0], med[1], med[2], g3, t->s3[n - 1], t->tgt3[n - 1], mean_lr, max_lr);
        repro_summary_putf(sum, med[2], med[2], med[2], "d6_dev_last_%s", V[i].key);
        repro_summary_putf(sum, devmax, devmax, devmax, "d6_dev_max_%s", V[i].key);
        repro_summary_putf(sum, g3, g3, g3, "d6_gap3_last_%s", V[i].key);
        repro_summary_putf(sum, mean_lr, mean_lr, mean_lr, "d6_move_mean_over_lr_%s", V[i].key);
        repro_summary_putf(sum, max_lr, max_lr, max_lr, "d6_move_max_over_lr_%s", V[i].key);
        free(t->s3);
    }
    out_close(f, path);
    printf("[dbmtl] D6 s_t traces over %ld LSD-6 steps: %s\n", n, path);
}
