/* traces.c: what happens inside the steps, which no run file holds, along training runs of
 * registered problems (seed 0, the protocol; smoke: its first steps only), the `traces`
 * subcommand:
 *   D3  alpha_k for each strategy (max, min, mean, median, one) relative to its trailing RMS
 *       over W = 1 000 steps (a quarter of a shorter run): under Adam a constant factor in
 *       alpha_k cancels, so this ratio is what Adam sees (dbmtl.md D3); on LSD-6 and LSD-CE3,
 *       read from db_mtl after each step (mtb_balancer_db_mtl_last);
 *   D4  the EMA's lag behind the step's gradient, cos(gh_t, g_t) and ||gh_t|| / ||g_t||, for
 *       constant beta = 0.9 and the decaying 0.1/sqrt(k), medians over tasks and steps in three
 *       phases (the spec's steps 0-100, 1 000-2 000 and the last 1 000 of 6 000, scaled to the
 *       run's length), on LSD-6 and LSD-CE3;
 *   D6  IMTL-L's s_t against -log l_t (traces_imtll.c);
 *   D7  the weighted-norm spread of GradNorm and of Table 6's row 3 (traces_spread.c). */
#include "dbmtl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mtb/stats.h"

#define DB "beta=0.1,beta_sigma=0.5" /* as grid.c's DB-MTL */

static const char *ALPHA[] = {"max", "min", "mean", "median", "one"};
enum { NA = sizeof ALPHA / sizeof ALPHA[0] };

typedef struct trace {
    long S;
    double *alpha;          /* (S) */
    double *lag_cos, *lag_ratio; /* (S, T) */
} trace;

/* one traced run of db_mtl:opts on problem (T tasks) */
static void run(const char *problem, const char *opts, long S, int T, trace *tr)
{
    mtb_error err = {0};
    pnet net;
    mtb_balancer *b = pnet_open_method(&net, problem, "db_mtl", opts, 0);
    if (S <= 0 || S > net.steps)
        S = net.steps;
    tr->S = S;
    tr->alpha = malloc((size_t)S * sizeof *tr->alpha);
    tr->lag_cos = malloc((size_t)S * (size_t)T * sizeof *tr->lag_cos);
    tr->lag_ratio = malloc((size_t)S * (size_t)T * sizeof *tr->lag_ratio);
    if (!tr->alpha || !tr->lag_cos || !tr->lag_ratio)
        die("out of memory for %ld traced steps", S);
    for (long k = 0; k < S; k++) {
        mtb_step_result res;
        pnet_train(&net, &res);
        if (mtb_balancer_db_mtl_last(b, tr->alpha + k, NULL, tr->lag_cos + k * T,
                                     tr->lag_ratio + k * T, &err))
            die("db_mtl:%s: %s", opts, err.msg);
    }
    pnet_close(&net);
    mtb_balancer_free(b);
}

static void trace_free(trace *t)
{
    free(t->alpha), free(t->lag_cos), free(t->lag_ratio);
}

double trace_quantile(const double *x, long a, long b, double q)
{
    long n = b - a;
    double *c = malloc((size_t)(n > 0 ? n : 1) * sizeof *c);
    if (!c)
        die("out of memory");
    long m = 0;
    for (long i = a; i < b; i++)
        if (isfinite(x[i]))
            c[m++] = x[i];
    double med = m ? mtb_stats_median_inplace(c, (size_t)m) : NAN; /* sorts c */
    double r = q == 0.5 || !m ? med : c[(size_t)(q * (double)(m - 1))];
    free(c);
    return r;
}

void trace_quantiles(const double *x, long a, long b, double *med, double *p05)
{
    *med = trace_quantile(x, a, b, 0.5);
    *p05 = trace_quantile(x, a, b, 0.05);
}

/* D3 and D4 on one problem: rows of the tables (f3, f4, a problem column first), summary keys
 * with `suffix`, and on LSD-6 (dat != NULL) the figure's data */
static void alpha_lag(const char *problem, const char *suffix, long S, FILE *f3, FILE *f4,
                      FILE *dat, repro_summary *sum)
{
    int T;
    size_t P;
    pnet_sizes(problem, &T, &P);
    /* D3 */
    trace tr[NA];
    for (int i = 0; i < NA; i++) {
        char opts[128];
        snprintf(opts, sizeof opts, DB ",alpha=%s", ALPHA[i]);
        run(problem, opts, S, T, &tr[i]);
    }
    const long n = tr[0].S, W = n / 4 < 1000 ? n / 4 : 1000, from = n / 5;
    if (dat) {
        fprintf(dat, "step");
        for (int i = 0; i < NA; i++)
            fprintf(dat, "\t%s", ALPHA[i]);
        fprintf(dat, "\n");
    }
    double *ratio[NA];
    for (int i = 0; i < NA; i++) {
        ratio[i] = malloc((size_t)n * sizeof *ratio[i]);
        double q = 0.0;
        for (long k = 0; k < n; k++) { /* alpha_k over its trailing RMS (window W) */
            q += tr[i].alpha[k] * tr[i].alpha[k];
            if (k >= W)
                q -= tr[i].alpha[k - W] * tr[i].alpha[k - W];
            long w = k < W ? k + 1 : W;
            ratio[i][k] = tr[i].alpha[k] / sqrt(fmax(q, 0.0) / (double)w);
        }
    }
    for (long k = 0; dat && k < n; k += n > 2000 ? 5 : 1) {
        fprintf(dat, "%ld", k);
        for (int i = 0; i < NA; i++)
            fprintf(dat, "\t%.6g", ratio[i][k]);
        fprintf(dat, "\n");
    }
    for (int i = 0; i < NA; i++) {
        double med, p05, amed, ap05;
        trace_quantiles(ratio[i], from, n, &med, &p05);
        trace_quantiles(tr[i].alpha, from, n, &amed, &ap05);
        fprintf(f3, "%s\t%s\t%ld\t%.4g\t%.4g\t%.4g\n", problem, ALPHA[i], n, med, p05, amed);
        repro_summary_putf(sum, p05, p05, p05, "d3_ratio_p05_%s%s", ALPHA[i], suffix);
        repro_summary_putf(sum, med, med, med, "d3_ratio_median_%s%s", ALPHA[i], suffix);
        free(ratio[i]);
    }
    /* D4: the EMA's lag, beta = 0.9 constant against 0.1/sqrt(k) (= D3's max run) */
    trace t09;
    run(problem, "beta=0.9", S, T, &t09);
    const trace *lag[2] = {&t09, &tr[0]};
    static const char *LAB[2] = {"beta = 0.9", "beta = 0.1/sqrt(k)"};
    /* the spec's phases of a 6 000-step run, scaled: [0, 1/60), [1/6, 1/3), [5/6, 1) */
    const long ph[3][2] = {{0, n / 60 > 1 ? n / 60 : 2}, {n / 6, n / 3}, {5 * n / 6, n}};
    for (int j = 0; j < 2; j++)
        for (int p = 0; p < 3; p++) {
            double mc, mr, x;
            trace_quantiles(lag[j]->lag_cos, ph[p][0] * T, ph[p][1] * T, &mc, &x);
            trace_quantiles(lag[j]->lag_ratio, ph[p][0] * T, ph[p][1] * T, &mr, &x);
            fprintf(f4, "%s\t%s\t%ld-%ld\t%.4f\t%.4f\n", problem, LAB[j], ph[p][0], ph[p][1],
                    mc, mr);
            repro_summary_putf(sum, mc, mc, mc, "d4_lag_cos_%s_phase%d%s", j ? "decay01" : "const09",
                               p + 1, suffix);
        }
    trace_free(&t09);
    for (int i = 0; i < NA; i++)
        trace_free(&tr[i]);
    printf("[dbmtl] D3/D4 traces over %ld %s steps\n", n, problem);
}

int cmd_traces(const char *out, const dscale *d)
{
    const long S = d->trace_steps; /* 0: the protocol's */
    char p3[1024], p4[1024], dpath[1024];
    repro_summary sum;
    sum_open(&sum, out, "traces");
    FILE *f3 = out_open(out, "dbmtl_alpha_trace.tsv", p3, sizeof p3);
    fprintf(f3, "problem\tstrategy\tsteps\tmedian alpha_k / RMS\t5th percentile\tmedian alpha_k\n");
    FILE *f4 = out_open(out, "dbmtl_ema_lag.tsv", p4, sizeof p4);
    fprintf(f4, "problem\tbeta\tphase (steps)\tmedian cos(gh, g)\tmedian ||gh|| / ||g||\n");
    FILE *dat = out_open(out, "alpha_trace.dat", dpath, sizeof dpath);
    alpha_lag("lsd6", "", S, f3, f4, dat, &sum);
    out_close(dat, dpath);
    if (d->s != REPRO_SMOKE) /* LSD-CE3 from paper scale up: 6 more runs */
        alpha_lag("lsd-ce3", "_lsd-ce3", S, f3, f4, NULL, &sum);
    out_close(f4, p4);
    out_close(f3, p3);
    trace_imtll(out, d, &sum);
    trace_spread(out, d, &sum);
    sum_close(&sum);
    return 0;
}
