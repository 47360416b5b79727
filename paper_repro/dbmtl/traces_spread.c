/* traces_spread.c: D7's weighted-norm spread (dbmtl.md D7), along runs of the registered lsd6
 * problem (seed 0, its protocol; smoke: the first steps): every `every`-th step the task
 * gradients on the step's own batch, before the update, of all shared parameters and of the
 * last shared layer (GradNorm's), then the step, whose trunk weights w_t the trainer applied
 * give the spread max_t |w_t| ||g_t|| / min_t |w_t| ||g_t||.
 *   Table 6's row 3 (max-norm normalisation, log off): w_t = alpha_k (1 - beta_k) /
 *     (||gh_t|| + eps) on the parameter-level gradients, so with beta = 0 the spread is 1 up
 *     to eps / ||g_t||, and with beta_k = 0.1/sqrt(k) it tends to 1 as beta_k does;
 *   GradNorm (asymmetry 0, 0.12, 1.5): weights learnt by a separate gradient step on the
 *     last layer's norms; the paper (Sec. 3.2) says these alternating updates never make the
 *     norms equal within a step. */
#include "dbmtl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>


typedef struct svar { const char *label, *key, *method, *opts; int short_run; } svar;
static const svar V[] = {
    {"row 3 (max-norm), beta = 0.1/sqrt(k)", "row3", "db_mtl", "beta=0.1,beta_sigma=0.5,log=false", 0},
    {"row 3, beta = 0", "row3b0", "db_mtl", "beta=0,log=false", 1},
    {"gradnorm, asymmetry 0", "gn0", "gradnorm", "alpha=0", 0},
    {"gradnorm, asymmetry 0.12", "gn012", "gradnorm", "", 0},
    {"gradnorm, asymmetry 1.5", "gn15", "gradnorm", "alpha=1.5", 0},
};
enum { NV = sizeof V / sizeof V[0] };

static double norm_row(const double *G, size_t D, int t)
{
    double q = 0.0;
    for (size_t j = 0; j < D; j++)
        q += G[(size_t)t * D + j] * G[(size_t)t * D + j];
    return sqrt(q);
}

/* spreads (samples) over all shared parameters and over the last layer; returns the count */
static long run(const svar *v, long steps, long every, double **all, double **last,
                long *n_negative)
{
    mtb_error err = {0};
    pnet net;
    mtb_balancer *b = pnet_open_method(&net, "lsd6", v->method, v->opts, 0);
    const int T = net.ds.T;
    if (steps <= 0 || steps > net.steps)
        steps = net.steps;
    long ns = (steps + every - 1) / every, k = 0;
    *n_negative = 0;
    *all = malloc(2 * (size_t)ns * sizeof **all);
    if (!*all)
        die("out of memory");
    *last = *all + ns;
    for (long s = 0; s < steps; s++) {
        mtb_step_result res;
        if (s % every) {
            pnet_train(&net, &res);
            continue;
        }
        double na[PNET_MAXT], nl[PNET_MAXT];
        pnet_batch(&net);
        for (int scope = 0; scope < 2; scope++) {
            const double *lo, *G;
            size_t D;
            if (mtb_trainer_task_grads(scope ? net.ltr : net.gtr, net.x, net.y,
                                       (size_t)net.ds.y_width, net.B,
                                       MTB_NEED_PARAM_GRADS,
                                       scope ? MTB_SCOPE_LAST_LAYER : MTB_SCOPE_ALL, &lo, &G, &D, &err))
                die("lsd6 task gradients: %s", err.msg);
            for (int t = 0; t < T; t++)
                (scope ? nl : na)[t] = norm_row(G, D, t);
        }
        if (mtb_trainer_step(net.tr, net.x, net.y, (size_t)net.ds.y_width, net.B, net.step++, 0,
                             &res, &err))
            die("%s step: %s", v->method, err.msg);
        double amax = 0, amin = INFINITY, lmax = 0, lmin = INFINITY;
        for (int t = 0; t < T; t++) {
            /* |w_t|: GradNorm's weights are not clamped to positive (gradnorm.c), a negative
             * one (counted) reverses its task's gradient */
            *n_negative += res.trunk_w[t] < 0.0;
            double a = fabs(res.trunk_w[t]) * na[t], l = fabs(res.trunk_w[t]) * nl[t];
            amax = fmax(amax, a), amin = fmin(amin, a), lmax = fmax(lmax, l), lmin = fmin(lmin, l);
        }
        (*all)[k] = amax / amin;
        (*last)[k] = lmax / lmin;
        k++;
    }
    pnet_close(&net);
    mtb_balancer_free(b);
    return k;
}

void trace_spread(const char *out, const dscale *d, repro_summary *sum)
{
    const long every = d->s == REPRO_SMOKE ? 5 : 10;
    char path[1024];
    FILE *f = out_open(out, "dbmtl_spread.tsv", path, sizeof path);
    fprintf(f, "variant\tsampled steps\tmedian spread, all shared parameters\t90th percentile\t"
               "median spread, last shared layer\t90th percentile\tmedian, last sixth (all)\t"
               "max (all)\tsampled task-steps with a negative weight\n");
    for (int i = 0; i < NV; i++) {
        double *all, *last;
        /* row 3 with beta = 0 is an identity: its first tenth of the run suffices */
        long S = d->trace_steps;
        if (V[i].short_run)
            S = (S > 0 ? S : 6000) / 10;
        long neg;
        long n = run(&V[i], S, every, &all, &last, &neg);
        double am = trace_quantile(all, 0, n, 0.5), a9 = trace_quantile(all, 0, n, 0.9),
               lm = trace_quantile(last, 0, n, 0.5), l9 = trace_quantile(last, 0, n, 0.9),
               a6 = trace_quantile(all, 5 * n / 6, n, 0.5), amax = trace_quantile(all, 0, n, 1.0);
        fprintf(f, "%s\t%ld\t%.6g\t%.4g\t%.4g\t%.4g\t%.6g\t%.6g\t%ld\n", V[i].label, n * every, am,
                a9, lm, l9, a6, amax, neg);
        repro_summary_putf(sum, am, am, am, "d7_spread_median_%s", V[i].key);
        repro_summary_putf(sum, a6, a6, a6, "d7_spread_last_median_%s", V[i].key);
        repro_summary_putf(sum, amax - 1.0, amax - 1.0, amax - 1.0, "d7_spread_max_excess_%s",
                           V[i].key);
        repro_summary_putf(sum, lm, lm, lm, "d7_spread_last_layer_median_%s", V[i].key);
        free(all);
    }
    out_close(f, path);
    printf("[dbmtl] D7 weighted-norm spreads: %s\n", path);
}
