/* gradnorms.c: the per-task gradient scales the run files do not hold, along runs trained step
 * by step here (seed 0, the problem's protocol; smoke: its first steps), sampled every
 * `every` steps on the step's own batch before the update (mtb_trainer_task_grads: all
 * shared parameters):
 *   D1   on LSD-6, for Table 6's four rows: the medians of ||grad l_t|| and of
 *        ||grad log l_t|| = ||grad l_t|| / l_t per task in three phases (the spec's steps
 *        0-100, 1 000-2 000 and the last 1 000 of 6 000, scaled to the run), and their spread
 *        max_t / min_t: on LSD-6 the gradients are proportional to the losses by construction
 *        (D-E6), so the log transform should all but remove the spread;
 *   D10  Fig. 8b on LSD-CE3: ||grad l_t||^2 of the raw loss (D-E5) for EW and DB-MTL. */
#include "dbmtl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mtb/stats.h"

#define DB "beta=0.1,beta_sigma=0.5" /* as grid.c's DB-MTL */

typedef struct gcfg { const char *label, *method, *opts; } gcfg;

/* one run of method:opts on problem, sampling every `every` steps: g (samples, T) of
 * ||grad l_t||, l (samples, T) of the losses; returns the number of samples */
static long sample_run(const char *problem, const gcfg *c, long steps, long every, double **g,
                       double **l, int *T_out)
{
    mtb_error err = {0};
    pnet net;
    mtb_balancer *b = pnet_open_method(&net, problem, c->method, c->opts, 0);
    const int T = net.ds.T;
    if (steps <= 0 || steps > net.steps)
        steps = net.steps;
    long ns = (steps + every - 1) / every, k = 0;
    *g = malloc((size_t)ns * (size_t)T * sizeof **g);
    *l = malloc((size_t)ns * (size_t)T * sizeof **l);
    if (!*g || !*l)
        die("out of memory");
    for (long s = 0; s < steps; s++) {
        mtb_step_result res;
        if (s % every == 0) {
            /* the next batch's gradients, then the step on that same batch */
            pnet_batch(&net);
            const double *lo, *G;
            size_t D;
            if (mtb_trainer_task_grads(net.gtr, net.x, net.y, (size_t)net.ds.y_width, net.B,
                                       MTB_NEED_PARAM_GRADS, MTB_SCOPE_ALL, &lo, &G, &D, &err))
                die("%s task gradients: %s", problem, err.msg);
            for (int t = 0; t < T; t++) {
                double q = 0.0;
                for (size_t j = 0; j < D; j++)
                    q += G[(size_t)t * D + j] * G[(size_t)t * D + j];
                (*g)[k * T + t] = sqrt(q);
                (*l)[k * T + t] = lo[t];
            }
            k++;
            if (mtb_trainer_step(net.tr, net.x, net.y, (size_t)net.ds.y_width, net.B, net.step++,
                                 0, &res, &err))
                die("%s step: %s", problem, err.msg);
        } else {
            pnet_train(&net, &res);
        }
    }
    pnet_close(&net);
    mtb_balancer_free(b);
    *T_out = T;
    return k;
}

static double median_col(const double *x, long a, long b, int T, int t, int log_grad,
                         const double *l)
{
    double *c = malloc((size_t)(b > a ? b - a : 1) * sizeof *c);
    long m = 0;
    for (long i = a; c && i < b; i++) {
        double v = x[i * T + t] / (log_grad ? l[i * T + t] + 1e-8 : 1.0);
        if (isfinite(v))
            c[m++] = v;
    }
    double r = m ? mtb_stats_median_inplace(c, (size_t)m) : NAN;
    free(c);
    return r;
}

int cmd_gradnorms(const char *out, const dscale *d)
{
    const long steps = d->trace_steps, every = d->s == REPRO_SMOKE ? 5 : 10;
    char path[1024];
    repro_summary sum;
    sum_open(&sum, out, "gradnorms");
    static const gcfg D1C[4] = {{"row 1 (EW)", "ew", ""}, {"row 2 (log-ew)", "db_mtl", "gradnorm=false"},
                                {"row 3", "db_mtl", DB ",log=false"}, {"row 4 (DB-MTL)", "db_mtl", DB}};
    FILE *f = out_open(out, "dbmtl_gradscale.tsv", path, sizeof path);
    fprintf(f, "row\tphase (sampled steps)\tmedian ||grad l_t||, t = 1..T\tmedian ||grad log l_t||\t"
               "spread max/min raw\tspread max/min log\n");
    for (int r = 0; r < 4; r++) {
        double *g, *l;
        int T;
        long n = sample_run("lsd6", &D1C[r], steps, every, &g, &l, &T);
        const long ph[3][2] = {{0, n / 60 > 1 ? n / 60 : 2}, {n / 6, n / 3}, {5 * n / 6, n}};
        for (int p = 0; p < 3; p++) {
            char raw[256] = "", lg[256] = "";
            size_t ur = 0, ul = 0;
            double rmax = 0, rmin = INFINITY, lmax = 0, lmin = INFINITY;
            for (int t = 0; t < T; t++) {
                double a = median_col(g, ph[p][0], ph[p][1], T, t, 0, l);
                double b = median_col(g, ph[p][0], ph[p][1], T, t, 1, l);
                ur += (size_t)snprintf(raw + ur, sizeof raw - ur, "%s%.3g", t ? " " : "", a);
                ul += (size_t)snprintf(lg + ul, sizeof lg - ul, "%s%.3g", t ? " " : "", b);
                rmax = fmax(rmax, a), rmin = fmin(rmin, a), lmax = fmax(lmax, b), lmin = fmin(lmin, b);
            }
            fprintf(f, "%s\t%ld-%ld\t%s\t%s\t%.3g\t%.3g\n", D1C[r].label, ph[p][0] * every,
                    ph[p][1] * every, raw, lg, rmax / rmin, lmax / lmin);
            repro_summary_putf(&sum, rmax / rmin, rmax / rmin, rmax / rmin, "d1_spread_raw_row%d_phase%d", r + 1, p + 1);
            repro_summary_putf(&sum, lmax / lmin, lmax / lmin, lmax / lmin, "d1_spread_log_row%d_phase%d", r + 1, p + 1);
        }
        free(g), free(l);
    }
    out_close(f, path);
    /* D10, Fig. 8b: ||grad l_t||^2 on LSD-CE3, EW and DB-MTL */
    static const gcfg D10C[2] = {{"ew", "ew", ""}, {"db-mtl", "db_mtl", DB}};
    double *g[2], *l[2];
    long n[2];
    int T = 0;
    for (int r = 0; r < 2; r++)
        n[r] = sample_run("lsd-ce3", &D10C[r], steps, every, &g[r], &l[r], &T);
    FILE *fig = out_open(out, "fig8_grad.dat", path, sizeof path);
    fprintf(fig, "# step ew_t1..t%d db_t1..t%d: ||grad l_t||^2 (raw loss)\n", T, T);
    for (long k = 0; k < n[0] && k < n[1]; k++) {
        fprintf(fig, "%ld", k * every);
        for (int r = 0; r < 2; r++)
            for (int t = 0; t < T; t++)
                fprintf(fig, "\t%.6g", g[r][k * T + t] * g[r][k * T + t]);
        fprintf(fig, "\n");
    }
    out_close(fig, path);
    for (int r = 0; r < 2; r++) { /* the largest last-phase / first-phase ratio over tasks */
        double worst = 0.0;
        long a = n[r] / 10 > 1 ? n[r] / 10 : 1;
        for (int t = 0; t < T; t++)
            worst = fmax(worst, pow(median_col(g[r], n[r] - a, n[r], T, t, 0, l[r]) /
                                        median_col(g[r], 0, a, T, t, 0, l[r]), 2.0));
        repro_summary_putf(&sum, worst, worst, worst, "d10_grad2_last_over_first_%s", D10C[r].label);
        free(g[r]), free(l[r]);
    }
    sum_close(&sum);
    printf("[dbmtl] D1/D10 gradient scales: %s/dbmtl_gradscale.tsv\n", out);
    return 0;
}
