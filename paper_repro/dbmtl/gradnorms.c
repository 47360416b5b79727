/* gradnorms.c: the per-task gradient scales the run files do not hold, along runs trained step
 * by step here (seed 0, the problem's protocol; smoke: its first steps), sampled every
 * `every` steps on the step's own batch before the update (mtb_trainer_task_grads: all
 * shared parameters):
 *   D1   on LSD-6 and LSD-6-eq (Adam; `gradnorms`) and on the SGD problems at each row's chosen
 *        lr (`gradnorms-sgd`, after sgd.c's lr choice; a row without one is listed so; a run
 *        that diverges is cut at the step it did), for Table 6's four rows: the medians of ||grad l_t|| and of
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
 * ||grad l_t||, l (samples, T) of the losses; returns the number of samples. *diverged (may be
 * NULL, then a divergence stops the program): the step at which the run diverged, else -1. */
static long sample_run(const char *problem, const gcfg *c, long steps, long every, double **g,
                       double **l, int *T_out, long *diverged)
{
    if (diverged)
        *diverged = -1;
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
        } else {
            pnet_batch(&net);
        }
        mtb_status st = mtb_trainer_step(net.tr, net.x, net.y, (size_t)net.ds.y_width, net.B,
                                         net.step++, 0, &res, &err);
        if (st == MTB_ENUMERIC && diverged) {
            *diverged = s;
            break;
        }
        if (st)
            die("%s step %ld: %s", problem, s, err.msg);
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

static const gcfg D1C[4] = {{"row 1 (EW)", "ew", ""}, {"row 2 (log-ew)", "db_mtl", "gradnorm=false"},
                            {"row 3", "db_mtl", DB ",log=false"}, {"row 4 (DB-MTL)", "db_mtl", DB}};

static void scale_header(FILE *f)
{
    fprintf(f, "problem\trow\tphase (sampled steps)\tmedian ||grad l_t||, t = 1..T\t"
               "median ||grad log l_t||\tspread max/min raw\tspread max/min log\n");
}

/* D1's rows on one problem (run_problem[r]: the problem with the row's lr, NULL: the row has
 * no lr there): the three phases' medians per task and their spreads, into f and the summary
 * (keys d1_spread_{raw,log}_row<r>_phase<p><suffix>) */
static void d1_scales(FILE *f, repro_summary *sum, const char *problem,
                      const char *const run_problem[4], const char *suffix, long steps, long every)
{
    for (int r = 0; r < 4; r++) {
        if (!run_problem[r]) {
            fprintf(f, "%s\t%s\tno stable lr (not run)\t\t\t\t\n", problem, D1C[r].label);
            continue;
        }
        double *g, *l;
        int T;
        long div;
        long n = sample_run(run_problem[r], &D1C[r], steps, every, &g, &l, &T, &div);
        const long ph[3][2] = {{0, n / 60 > 1 ? n / 60 : 2}, {n / 6, n / 3}, {5 * n / 6, n}};
        for (int p = 0; p < 3 && n >= 2; p++) {
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
            fprintf(f, "%s\t%s\t%ld-%ld%s\t%s\t%s\t%.3g\t%.3g\n", run_problem[r], D1C[r].label,
                    ph[p][0] * every, ph[p][1] * every, div >= 0 ? " (diverged there)" : "", raw,
                    lg, rmax / rmin, lmax / lmin);
            repro_summary_putf(sum, rmax / rmin, rmax / rmin, rmax / rmin, "d1_spread_raw_row%d_phase%d%s",
                               r + 1, p + 1, suffix);
            repro_summary_putf(sum, lmax / lmin, lmax / lmin, lmax / lmin, "d1_spread_log_row%d_phase%d%s",
                               r + 1, p + 1, suffix);
        }
        if (div >= 0)
            fprintf(f, "%s\t%s\tdiverged at step %ld\t\t\t\t\n", run_problem[r], D1C[r].label, div);
        free(g), free(l);
    }
}

int cmd_gradnorms(const char *out, const dscale *d)
{
    const long steps = d->trace_steps, every = d->s == REPRO_SMOKE ? 5 : 10;
    char path[1024];
    repro_summary sum;
    sum_open(&sum, out, "gradnorms");
    FILE *f = out_open(out, "dbmtl_gradscale.tsv", path, sizeof path);
    scale_header(f);
    /* Adam: LSD-6 (the claims' keys, no suffix) and LSD-6-eq where the scale trains it */
    static const char *const LSD6[4] = {"lsd6", "lsd6", "lsd6", "lsd6"},
                             *const EQ[4] = {"lsd6-eq", "lsd6-eq", "lsd6-eq", "lsd6-eq"};
    d1_scales(f, &sum, "lsd6", LSD6, "", steps, every);
    if (grid_scale_problems(d->s) & P_LSD6EQ)
        d1_scales(f, &sum, "lsd6-eq", EQ, "_lsd6-eq", steps, every);
    out_close(f, path);
    /* D10, Fig. 8b: ||grad l_t||^2 on LSD-CE3, EW and DB-MTL */
    static const gcfg D10C[2] = {{"ew", "ew", ""}, {"db-mtl", "db_mtl", DB}};
    double *g[2], *l[2];
    long n[2];
    int T = 0;
    for (int r = 0; r < 2; r++)
        n[r] = sample_run("lsd-ce3", &D10C[r], steps, every, &g[r], &l[r], &T, NULL);
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

/* D1's gradient scales under SGD on one SGD problem, after sgd.c's lr choice there: each row at
 * its chosen lr (dbmtl_gradscale_<P>.tsv, summary gradnorms_<P>, keys suffixed _<P>) */
int cmd_gradnorms_sgd(const char *out, const char *problem, const dscale *d)
{
    if (!(grid_problem_bit(problem) & P_SGDSEL))
        die("gradnorms-sgd: '%s' is not one of the SGD problems (lsd6-sgd, lsd6-eq-sgd)", problem);
    const long steps = d->trace_steps, every = d->s == REPRO_SMOKE ? 5 : 10;
    char path[1024], name[128];
    repro_summary sum;
    snprintf(name, sizeof name, "gradnorms_%s", problem);
    sum_open(&sum, out, name);
    snprintf(name, sizeof name, "dbmtl_gradscale_%s.tsv", problem);
    FILE *f = out_open(out, name, path, sizeof path);
    scale_header(f);
    char names[4][96];
    const char *run[4];
    for (int r = 0; r < 4; r++) {
        char lr[32];
        run[r] = NULL;
        if (sgd_lr_of(out, problem, D1C[r].method, D1C[r].opts, lr, sizeof lr))
            continue;
        snprintf(names[r], sizeof names[r], "%s@lr=%s", problem, lr);
        run[r] = names[r];
    }
    char suffix[96];
    snprintf(suffix, sizeof suffix, "_%s", problem);
    d1_scales(f, &sum, problem, run, suffix, steps, every);
    out_close(f, path);
    sum_close(&sum);
    printf("[dbmtl] D1 gradient scales on %s: %s\n", problem, path);
    return 0;
}
