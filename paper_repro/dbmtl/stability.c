/* stability.c: D10 (App. C.5, Fig. 8: "every task's training loss decreases smoothly and
 * converges, faster than EW") from the per-step batch losses the run files record
 * (/steps/loss), and D9's drift of GLS's common factor Lbar / T along a log-ew run.
 * Per run and task (dbmtl.md D10):
 *   roughness  the mean over the last 80 % of steps of |Delta log lbar_t|, lbar_t the 20-step
 *              trailing moving average of l_t;
 *   spikes     steps where l_t > 10 x the median of its previous 100 steps;
 *   diverged   the run stopped on a non-finite value (its run file says so);
 *   steps to threshold  the first step where lbar_t <= 1.1 x the STL run's final training
 *              loss (the mean of its last 20 batch losses) of the same seed; never: steps + 1.
 * The figure: the seed means of l_t for ew and db-mtl on lsd-ce3, every 10 steps. Fig. 8b's
 * per-task squared gradient norms are not in the run files (not measured here). */
#include "dbmtl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mtb/h5.h"
#include "mtb/stats.h"
#include "../common/runs.h"

/* /steps/loss (S, T) of a run file; NULL when absent. */
static double *read_losses(const char *path, size_t *S, int *T)
{
    mtb_error err = {0};
    if (!path[0])
        return NULL;
    mtb_h5 *h = mtb_h5_open(path, &err);
    if (!h)
        return NULL;
    size_t dims[2];
    double *L = NULL;
    if (mtb_h5_read_f64(h, "/steps/loss", 2, dims, &L, 0, &err))
        L = NULL;
    mtb_h5_close(h);
    *S = dims[0], *T = (int)dims[1];
    return L;
}

/* the 20-step trailing mean of column t at step k */
static double moving_mean(const double *L, size_t k, int T, int t)
{
    size_t a = k >= 19 ? k - 19 : 0;
    double s = 0.0;
    for (size_t i = a; i <= k; i++)
        s += L[i * (size_t)T + (size_t)t];
    return s / (double)(k - a + 1);
}

typedef struct stab { double rough, spikes, t2thr; int ok; } stab;

static stab measure(const double *L, size_t S, int T, const double *thr)
{
    stab r = {0, 0, 0, 1};
    double win[100];
    for (int t = 0; t < T; t++) {
        double acc = 0.0, first = (double)S + 1;
        size_t n = 0, k0 = S / 5;
        for (size_t k = 1; k < S; k++) {
            double m1 = moving_mean(L, k, T, t), m0 = moving_mean(L, k - 1, T, t);
            if (k >= k0 && m1 > 0 && m0 > 0) {
                acc += fabs(log(m1) - log(m0));
                n++;
            }
            if (first > (double)S && thr && m1 <= 1.1 * thr[t])
                first = (double)k;
            if (k >= 100) {
                for (int i = 0; i < 100; i++)
                    win[i] = L[(k - 100 + (size_t)i) * (size_t)T + (size_t)t];
                if (L[k * (size_t)T + (size_t)t] > 10.0 * mtb_stats_median_inplace(win, 100))
                    r.spikes += 1;
            }
        }
        r.rough += (n ? acc / (double)n : NAN) / T;
        r.t2thr += first / T;
    }
    return r;
}

static const char *ROWS[3] = {"ew", "db-mtl", "log-ew"};

static int row_config(const repro_runs *r, const char *label)
{
    for (int i = 0; i < N_GRID; i++)
        if (!strcmp(GRID[i].exp, "D10") && !strcmp(GRID[i].label, label))
            return repro_runs_find(r, GRID[i].method, GRID[i].opts);
    return -1;
}

static void d10(const char *out, repro_summary *s)
{
    char path[1024], fpath[1024];
    FILE *f = out_open(out, "dbmtl_stability.tsv", path, sizeof path);
    fprintf(f, "problem\tmethod\truns\tdiverged\troughness (mean |Δ log l̄|)\tspikes per run\t"
               "steps to 1.1 x STL final loss\n");
    FILE *fig = out_open(out, "fig8_loss.dat", fpath, sizeof fpath);
    fprintf(fig, "# step ew_t1 ew_t2 ew_t3 db_t1 db_t2 db_t3 (seed means, lsd-ce3)\n");
    for (int ip = 0; ip < N_PROBLEMS; ip++) {
        const repro_runs *r = train_runs(ip);
        if (!r || !(PROBLEMS[ip].bit & P_CE3_ALL))
            continue;
        int stl = repro_runs_find(r, "stl", ""), figure = !strcmp(PROBLEMS[ip].name, "lsd-ce3");
        double rough[3] = {0}, spk[3] = {0}, t2[3] = {0}, *keep[2] = {NULL, NULL};
        size_t keep_S[2] = {0, 0};
        int keep_n[2] = {0, 0};
        for (int row = 0; row < 3; row++) {
            int c = row_config(r, ROWS[row]), n = 0, ndiv = 0;
            if (c < 0)
                continue;
            double *curve = NULL;
            size_t curve_S = 0;
            int curve_n = 0;
            for (int k = 0; k < r->ns; k++) {
                ndiv += r->diverged[c][k];
                size_t S, Ss;
                int T, Ts;
                double *L = read_losses(r->path[c][k], &S, &T), thr[REPRO_RUNS_MAXT];
                if (!L)
                    continue;
                double *Ls = stl >= 0 ? read_losses(r->path[stl][k], &Ss, &Ts) : NULL;
                if (Ls && Ts == T && Ss >= 20) {
                    for (int t = 0; t < T; t++) {
                        thr[t] = 0.0;
                        for (size_t i = Ss - 20; i < Ss; i++)
                            thr[t] += Ls[i * (size_t)T + (size_t)t] / 20.0;
                    }
                }
                stab m = measure(L, S, T, Ls ? thr : NULL);
                rough[row] += m.rough, spk[row] += m.spikes, t2[row] += Ls ? m.t2thr : NAN;
                n++;
                if (figure && row < 2) { /* lsd-ce3: the figure's curves */
                    if (!curve) {
                        curve = calloc(S * (size_t)T, sizeof *curve);
                        curve_S = S;
                    }
                    for (size_t i = 0; curve && i < S && i < curve_S; i++)
                        for (int t = 0; t < T; t++)
                            curve[i * (size_t)T + (size_t)t] += L[i * (size_t)T + (size_t)t];
                    curve_n++;
                }
                free(L);
                free(Ls);
            }
            if (n)
                rough[row] /= n, spk[row] /= n, t2[row] /= n;
            else
                rough[row] = spk[row] = t2[row] = NAN;
            fprintf(f, "%s\t%s\t%d\t%d\t%.4g\t%.3g\t%.4g\n", PROBLEMS[ip].name, ROWS[row], n, ndiv,
                    rough[row], spk[row], t2[row]);
            repro_summary_putf(s, ndiv, ndiv, ndiv, "d10_div_%s_%s", PROBLEMS[ip].name, ROWS[row]);
            repro_summary_putf(s, spk[row], spk[row], spk[row], "d10_spikes_%s_%s",
                               PROBLEMS[ip].name, ROWS[row]);
            repro_summary_putf(s, ndiv + spk[row], ndiv + spk[row], ndiv + spk[row],
                               "d10_unstable_%s_%s", PROBLEMS[ip].name, ROWS[row]);
            repro_summary_putf(s, t2[row], t2[row], t2[row], "d10_t2thr_%s_%s", PROBLEMS[ip].name,
                               ROWS[row]);
            if (row < 2) {
                keep[row] = curve, keep_S[row] = curve_S, keep_n[row] = curve_n;
            } else {
                free(curve);
            }
        }
        if (keep[0] && keep[1]) { /* the figure: seed means, every 10 steps */
            size_t Sm = keep_S[0] < keep_S[1] ? keep_S[0] : keep_S[1];
            for (size_t i = 0; i < Sm; i += 10) {
                fprintf(fig, "%zu", i);
                for (int w = 0; w < 2; w++)
                    for (int t = 0; t < r->T; t++)
                        fprintf(fig, "\t%.6g", keep[w][i * (size_t)r->T + (size_t)t] / keep_n[w]);
                fprintf(fig, "\n");
            }
        }
        free(keep[0]), free(keep[1]);
        double ratio = rough[1] / rough[0];
        repro_summary_putf(s, ratio, ratio, ratio, "d10_rough_ratio_%s", PROBLEMS[ip].name);
    }
    out_close(fig, fpath);
    out_close(f, path);
}

/* D9: Lbar / T along the first seed's log-ew run, and over its trailing RMS (window 1000,
 * or a quarter of the run when shorter). */
static void d9_drift(const char *out, repro_summary *s)
{
    char path[1024];
    FILE *f = out_open(out, "gls_drift.dat", path, sizeof path);
    fprintf(f, "# blocks (one per problem): step, Lbar/T, its ratio to the trailing RMS\n");
    for (int ip = 0; ip < N_PROBLEMS; ip++) {
        const repro_runs *r = train_runs(ip);
        if (!r || !(PROBLEMS[ip].bit & (P_LSD6 | P_CE3)))
            continue;
        int c = -1;
        for (int i = 0; i < N_GRID && c < 0; i++)
            if (!strcmp(GRID[i].exp, "D9") && !strcmp(GRID[i].label, "log-ew"))
                c = repro_runs_find(r, GRID[i].method, GRID[i].opts);
        if (c < 0 || !r->ns)
            continue;
        size_t S;
        int T;
        double *L = read_losses(r->path[c][0], &S, &T);
        if (!L || S < 40)
            continue;
        double *g = malloc(S * sizeof *g);
        for (size_t k = 0; k < S; k++) {
            double lg = 0.0;
            for (int t = 0; t < T; t++)
                lg += log(L[k * (size_t)T + (size_t)t] + 1e-30) / T;
            g[k] = exp(lg) / T;
        }
        size_t w = S / 4 < 1000 ? S / 4 : 1000;
        fprintf(f, "\"%s\"\tlbar_over_T\tratio\n", PROBLEMS[ip].name); /* the block's title */
        for (size_t k = 0; k < S; k++) {
            size_t a = k >= w ? k - w + 1 : 0;
            double q = 0.0;
            for (size_t i = a; i <= k; i++)
                q += g[i] * g[i];
            fprintf(f, "%zu\t%.6g\t%.6g\n", k, g[k], g[k] / sqrt(q / (double)(k - a + 1)));
        }
        fprintf(f, "\n\n");
        double st = 0.0, en = 0.0;
        for (size_t k = 0; k < 20; k++)
            st += g[k] / 20, en += g[S - 1 - k] / 20;
        repro_summary_putf(s, st, st, st, "d9_lbar_start_%s", PROBLEMS[ip].name);
        repro_summary_putf(s, en, en, en, "d9_lbar_end_%s", PROBLEMS[ip].name);
        repro_summary_putf(s, en / st, en / st, en / st, "d9_lbar_ratio_%s", PROBLEMS[ip].name);
        free(g);
        free(L);
    }
    out_close(f, path);
}

void stability(const char *out)
{
    repro_summary s;
    sum_open(&s, out, "stability");
    d10(out, &s);
    d9_drift(out, &s);
    sum_close(&s);
}
