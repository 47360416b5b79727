/* rgw_train.c: R7's training comparison of RLW and RGW (rlw.md R7; TMLR Table 3 reports
 * NYUv2 Delta-p_EW RLW +1.04 vs RGW +0.62, Cityscapes +0.69 vs +2.36: no consistent winner).
 * For every problem the script swept (LSD-6 and LSD-6-eq with the R9 sweeps, MTR-hom-40 with
 * its own) and both weight distributions of the spec (normal, c-Bernoulli): Delta-p_EW of
 * RLW and of RGW per seed against the same seed's EW run, and their seed-paired difference
 * RLW - RGW with its 95 % t-interval. A pair is left out where one of the three runs is
 * missing (a sweep that planned it at another scale only). */
#include "rlw.h"

#include <math.h>
#include <string.h>

#include "mtb/deltap.h"
#include "mtb/stats.h"

static const struct {
    const char *problem, *dir;
} SWEPT[] = {{"lsd6", "sweep_lsd6"}, {"lsd6-eq", "sweep_lsd6eq"}, {"mtr-hom-40", "sweep_hom40"}};

static const struct {
    const char *name, *opts;
} DISTS[] = {{"normal", "dist=normal"}, {"c-bernoulli", "dist=constrained_bernoulli"}};

/* One (problem, distribution) row; returns 0 when the three methods were not all run.
 * *mean: RLW - RGW; *sign: +1 / -1 when RLW / RGW is better beyond the interval, else 0. */
static int emit(FILE *f, repro_summary *sm, const char *problem, const repro_runs *t, int d,
                double *mean, int *sign)
{
    int ir = repro_runs_find(t, "rlw", DISTS[d].opts), ig = repro_runs_find(t, "rgw", DISTS[d].opts),
        iew = repro_runs_find(t, "ew", "");
    if (ir < 0 || ig < 0 || iew < 0)
        return 0;
    double a[REPRO_RUNS_MAXS], b[REPRO_RUNS_MAXS];
    int n = 0;
    for (int k = 0; k < t->ns; k++) {
        double x = repro_runs_delta_p(t, ir, iew, k, NULL), y = repro_runs_delta_p(t, ig, iew, k, NULL);
        if (isfinite(x) && isfinite(y)) {
            a[n] = x;
            b[n++] = y;
        }
    }
    if (n == 0)
        return 0;
    mtb_stats_summary qa = mtb_stats_summarise(a, (size_t)n), qb = mtb_stats_summarise(b, (size_t)n),
                      q = mtb_stats_paired_diff(a, b, (size_t)n);
    *mean = q.mean;
    *sign = !(q.mean - q.ci95 > 0 || q.mean + q.ci95 < 0) ? 0 : q.mean > 0 ? 1 : -1;
    if (n >= 2)
        fprintf(f, "%s\t%s\t%d\t%+.3f ± %.2g\t%+.3f ± %.2g\t%+.3f [%+.3f, %+.3f]\t%s\n", problem,
                DISTS[d].name, n, qa.mean, qa.ci95, qb.mean, qb.ci95, q.mean, q.mean - q.ci95,
                q.mean + q.ci95, *sign > 0 ? "RLW" : *sign < 0 ? "RGW" : "neither");
    else /* one seed: no interval */
        fprintf(f, "%s\t%s\t1\t%+.3f\t%+.3f\t%+.3f (one seed)\tneither\n", problem, DISTS[d].name,
                qa.mean, qb.mean, q.mean);
    char key[96];
    snprintf(key, sizeof key, "diff_%s_%s", problem, DISTS[d].name);
    repro_summary_put(sm, key, q.mean, q.mean - q.ci95, q.mean + q.ci95);
    return 1;
}

int cmd_rgwtrain(const char *out, const rscale *r)
{
    (void)r;
    static repro_runs t;
    char path[1024], dir[1024];
    FILE *f = repro_out_open(PROG, out, "rlw_rgw_training.tsv", path, sizeof path);
    fprintf(f, "problem\tweights\tseeds\tΔp_EW RLW (%%)\tΔp_EW RGW (%%)\tRLW − RGW, seed-paired [95 %% CI]"
               "\tbetter\n");
    repro_summary sm;
    repro_summary_open_or_die(PROG, &sm, out, "rgwtrain");
    int rows = 0, pos = 0, neg = 0, sig_pos = 0, sig_neg = 0;
    for (size_t p = 0; p < sizeof SWEPT / sizeof SWEPT[0]; p++) {
        snprintf(dir, sizeof dir, "%s/%s", out, SWEPT[p].dir);
        if (repro_runs_load(&t, dir, SWEPT[p].problem) || !t.nc)
            continue;
        for (int d = 0; d < (int)(sizeof DISTS / sizeof DISTS[0]); d++) {
            int sign;
            double mean;
            if (!emit(f, &sm, SWEPT[p].problem, &t, d, &mean, &sign))
                continue;
            rows++;
            pos += mean > 0;
            neg += mean < 0;
            sig_pos += sign > 0;
            sig_neg += sign < 0;
        }
    }
    repro_out_close(PROG, f, path);
    repro_summary_put(&sm, "rows", rows, rows, rows);
    repro_summary_put(&sm, "mean_positive", pos, pos, pos);
    repro_summary_put(&sm, "mean_negative", neg, neg, neg);
    repro_summary_put(&sm, "significant_rlw", sig_pos, sig_pos, sig_pos);
    repro_summary_put(&sm, "significant_rgw", sig_neg, sig_neg, sig_neg);
    repro_summary_close_or_die(PROG, &sm);
    printf("[rlw] R7 training: %d (problem, weights) pairs, RLW ahead in %d, RGW in %d (by the mean)\n",
           rows, pos, neg);
    return 0;
}
