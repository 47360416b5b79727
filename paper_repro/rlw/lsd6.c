/* lsd6.c: R9, the LSD-6 table of the distributions (ICLR Table 1 analogue; rlw.md sec. 2 and
 * R9). Reads the sweeps the reproduce script ran (`mtb sweep`, docs/sweeps.md) through their
 * plan.tsv (sweep_plan.h) and every run file's summary (mtb_run_read_summary), then per
 * (problem, method): per-task metric at the last evaluation (seed mean +- 95 % t-interval),
 * Delta-p against EW and against STL computed per seed against the same seed's reference
 * (mtb_delta_p, DB-MTL Eq. 2, standard sign: erratum E1) and summarised over the seeds, the
 * seed std of Delta-p_EW, and the Delta-p of the seed means (the papers' convention). The
 * runs are read by the toolkit's runs table (common/runs.h). */
#include "rlw.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mtb/deltap.h"
#include "mtb/stats.h"

/* writes the rows of one problem; returns the number of methods */
static int emit(FILE *f, FILE *dat, repro_summary *sm, const char *problem, const repro_runs *t)
{
    int iew = repro_runs_find(t, "ew", ""), istl = repro_runs_find(t, "stl", "");
    double mean_ew[REPRO_RUNS_MAXT], mean_stl[REPRO_RUNS_MAXT];
    for (int i = 0; i < t->T; i++) {
        double a[REPRO_RUNS_MAXS], b[REPRO_RUNS_MAXS];
        int na = 0, nb = 0;
        for (int k = 0; k < t->ns; k++) {
            if (iew >= 0 && t->ok[iew][k]) a[na++] = t->M[iew][k][i];
            if (istl >= 0 && t->ok[istl][k]) b[nb++] = t->M[istl][k][i];
        }
        mean_ew[i] = na ? mtb_stats_mean(a, (size_t)na) : NAN;
        mean_stl[i] = nb ? mtb_stats_mean(b, (size_t)nb) : NAN;
    }
    for (int m = 0; m < t->nc; m++) {
        char lab[640];
        repro_runs_label(t, m, lab, sizeof lab);
        double dpe[REPRO_RUNS_MAXS], dps[REPRO_RUNS_MAXS], mm[REPRO_RUNS_MAXT];
        int ne = 0, ns = 0, n = 0;
        fprintf(f, "%s\t%s", problem, lab);
        for (int k = 0; k < t->ns; k++)
            n += t->ok[m][k];
        fprintf(f, "\t%d", n);
        for (int i = 0; i < t->T; i++) {
            double x[REPRO_RUNS_MAXS];
            int nx = 0;
            for (int k = 0; k < t->ns; k++)
                if (t->ok[m][k])
                    x[nx++] = t->M[m][k][i];
            mtb_stats_summary q = mtb_stats_summarise(x, (size_t)nx);
            mm[i] = q.mean;
            fprintf(f, "\t%.4g ± %.2g", q.mean, q.ci95);
        }
        for (int k = 0; k < t->ns; k++) {
            if (!t->ok[m][k])
                continue;
            if (iew >= 0 && t->ok[iew][k])
                dpe[ne++] = repro_runs_delta_p(t, m, iew, k, NULL);
            if (istl >= 0 && t->ok[istl][k])
                dps[ns++] = repro_runs_delta_p(t, m, istl, k, NULL);
        }
        mtb_stats_summary qe = mtb_stats_summarise(dpe, (size_t)ne), qs = mtb_stats_summarise(dps, (size_t)ns);
        double dmeans = mtb_delta_p((size_t)t->T, mm, mean_ew, t->hb, NULL, t->T, NULL);
        fprintf(f, "\t%+.3f ± %.2g\t%+.3f ± %.2g\t%.3g\t%+.3f\n", qe.mean, qe.ci95, qs.mean, qs.ci95,
                qe.std, dmeans);
        if (dat)
            fprintf(dat, "%d\t%s\t%.5g\t%.5g\n", m, lab, qe.mean, isfinite(qe.ci95) ? qe.ci95 : 0.0);
        char key[700];
        snprintf(key, sizeof key, "dpew_%s_%s", problem, lab);
        repro_summary_put(sm, key, qe.mean, qe.mean - qe.ci95, qe.mean + qe.ci95);
        snprintf(key, sizeof key, "dpewstd_%s_%s", problem, lab);
        repro_summary_put(sm, key, qe.std, qe.std, qe.std);
    }
    (void)mean_stl;
    return t->nc;
}

int cmd_lsd6(const char *out, const rscale *r)
{
    (void)r;
    static repro_runs t;
    char path[1024], dpath[1024], dir[1024];
    FILE *f = repro_out_open(PROG, out, "rlw_lsd6.tsv", path, sizeof path);
    FILE *dat = repro_out_open(PROG, out, "lsd6_dp.dat", dpath, sizeof dpath);
    repro_summary sm;
    repro_summary_open_or_die(PROG, &sm, out, "lsd6");
    static const char *PROB[2] = {"lsd6", "lsd6-eq"}, *DIR[2] = {"sweep_lsd6", "sweep_lsd6eq"};
    int header = 0, rows = 0;
    for (int p = 0; p < 2; p++) {
        snprintf(dir, sizeof dir, "%s/%s", out, DIR[p]);
        if (repro_runs_load(&t, dir, PROB[p]) || !t.nc)
            continue;
        if (!header) {
            fprintf(f, "problem\tmethod\tseeds");
            for (int i = 0; i < t.T; i++)
                fprintf(f, "\tt%d %s%s", i + 1, t.metric[i], t.hb[i] ? " ↑" : " ↓");
            fprintf(f, "\tΔp_EW (%%)\tΔp_STL (%%)\tseed std Δp_EW\tΔp_EW of seed means\n");
            header = 1;
        }
        rows += emit(f, p == 0 ? dat : NULL, &sm, PROB[p], &t);
        repro_summary_put(&sm, p == 0 ? "seeds_lsd6" : "seeds_lsd6eq", t.ns, t.ns, t.ns);
    }
    repro_out_close(PROG, dat, dpath);
    repro_out_close(PROG, f, path);
    repro_summary_put(&sm, "rows", rows, rows, rows);
    repro_summary_close_or_die(PROG, &sm);
    printf("[rlw] R9 LSD-6: %d rows\n", rows);
    return 0;
}
