/* lsd6.c: R9, the LSD-6 table of the distributions (ICLR Table 1 analogue; rlw.md sec. 2 and
 * R9). Reads the sweeps the reproduce script ran (`mtb sweep`, docs/sweeps.md) through their
 * plan.tsv (sweep_plan.h) and every run file's summary (mtb_run_read_summary), then per
 * (problem, method): per-task metric at the last evaluation (seed mean +- 95 % t-interval),
 * Delta-p against EW and against STL computed per seed against the same seed's reference
 * (mtb_delta_p, DB-MTL Eq. 2, standard sign: erratum E1) and summarised over the seeds, the
 * seed std of Delta-p_EW, and the Delta-p of the seed means (the papers' convention). */
#include "rlw.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../common/sweep_plan.h"
#include "mtb/deltap.h"
#include "mtb/metric.h"
#include "mtb/run.h"
#include "mtb/stats.h"

enum { MAXM = 32, MAXS = 16, MAXT = 8 };

typedef struct table {
    int nm, ns, T;
    char method[MAXM][64], options[MAXM][512];
    uint64_t seed[MAXS];
    int ok[MAXM][MAXS];
    double M[MAXM][MAXS][MAXT];
    int hb[MAXT];
    char metric[MAXT][32];
} table;

static int find_method(const table *t, const char *m, const char *o)
{
    for (int i = 0; i < t->nm; i++)
        if (!strcmp(t->method[i], m) && !strcmp(t->options[i], o))
            return i;
    return -1;
}

static void label(const table *t, int i, char *buf, size_t n)
{
    if (t->options[i][0])
        snprintf(buf, n, "%s:%s", t->method[i], t->options[i]);
    else
        snprintf(buf, n, "%s", t->method[i]);
}

static int load(const char *dir, const char *problem, table *t)
{
    repro_plan p;
    memset(t, 0, sizeof *t);
    if (repro_plan_read(dir, &p))
        return -1;
    static mtb_run_summary s;
    for (int j = 0; j < p.n; j++) {
        const repro_job *jb = &p.jobs[j];
        if (strcmp(jb->problem, problem))
            continue;
        int m = find_method(t, jb->method, jb->options);
        if (m < 0 && t->nm < MAXM) {
            m = t->nm++;
            snprintf(t->method[m], sizeof t->method[m], "%s", jb->method);
            snprintf(t->options[m], sizeof t->options[m], "%s", jb->options);
        }
        int k = -1;
        for (int i = 0; i < t->ns; i++)
            if (t->seed[i] == jb->seed)
                k = i;
        if (k < 0 && t->ns < MAXS)
            t->seed[k = t->ns++] = jb->seed;
        if (m < 0 || k < 0)
            continue;
        mtb_error err = {0};
        if (mtb_run_read_summary(jb->path, &s, &err) || s.diverged)
            continue;
        if (s.T > MAXT)
            die("%s: %d tasks, at most %d here", jb->path, s.T, MAXT);
        t->T = s.T;
        for (int i = 0; i < s.T; i++) {
            t->M[m][k][i] = s.metric_last[i];
            t->hb[i] = mtb_metric_higher_is_better(s.metric[i]);
            snprintf(t->metric[i], sizeof t->metric[i], "%s", mtb_metric_name(s.metric[i]));
        }
        t->ok[m][k] = 1;
    }
    repro_plan_free(&p);
    return t->nm ? 0 : -1;
}

/* writes the rows of one problem; returns the number of methods */
static int emit(FILE *f, FILE *dat, summary *sm, const char *problem, const table *t)
{
    int iew = find_method(t, "ew", ""), istl = find_method(t, "stl", "");
    double mean_ew[MAXT], mean_stl[MAXT];
    for (int i = 0; i < t->T; i++) {
        double a[MAXS], b[MAXS];
        int na = 0, nb = 0;
        for (int k = 0; k < t->ns; k++) {
            if (iew >= 0 && t->ok[iew][k]) a[na++] = t->M[iew][k][i];
            if (istl >= 0 && t->ok[istl][k]) b[nb++] = t->M[istl][k][i];
        }
        mean_ew[i] = na ? mtb_stats_mean(a, (size_t)na) : NAN;
        mean_stl[i] = nb ? mtb_stats_mean(b, (size_t)nb) : NAN;
    }
    for (int m = 0; m < t->nm; m++) {
        char lab[640];
        label(t, m, lab, sizeof lab);
        double dpe[MAXS], dps[MAXS], mm[MAXT];
        int ne = 0, ns = 0, n = 0;
        fprintf(f, "%s\t%s", problem, lab);
        for (int k = 0; k < t->ns; k++)
            n += t->ok[m][k];
        fprintf(f, "\t%d", n);
        for (int i = 0; i < t->T; i++) {
            double x[MAXS];
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
                dpe[ne++] = mtb_delta_p((size_t)t->T, t->M[m][k], t->M[iew][k], t->hb, NULL, t->T, NULL);
            if (istl >= 0 && t->ok[istl][k])
                dps[ns++] = mtb_delta_p((size_t)t->T, t->M[m][k], t->M[istl][k], t->hb, NULL, t->T, NULL);
        }
        mtb_stats_summary qe = mtb_stats_summarise(dpe, (size_t)ne), qs = mtb_stats_summarise(dps, (size_t)ns);
        double dmeans = mtb_delta_p((size_t)t->T, mm, mean_ew, t->hb, NULL, t->T, NULL);
        fprintf(f, "\t%+.3f ± %.2g\t%+.3f ± %.2g\t%.3g\t%+.3f\n", qe.mean, qe.ci95, qs.mean, qs.ci95,
                qe.std, dmeans);
        if (dat)
            fprintf(dat, "%d\t%s\t%.5g\t%.5g\n", m, lab, qe.mean, isfinite(qe.ci95) ? qe.ci95 : 0.0);
        char key[700];
        snprintf(key, sizeof key, "dpew_%s_%s", problem, lab);
        sum_put(sm, key, qe.mean, qe.mean - qe.ci95, qe.mean + qe.ci95);
        snprintf(key, sizeof key, "dpewstd_%s_%s", problem, lab);
        sum_put(sm, key, qe.std, qe.std, qe.std);
    }
    (void)mean_stl;
    /* R7 training: RLW - RGW (normal weights) in Delta-p_EW, seed-paired */
    int ir = find_method(t, "rlw", "dist=normal"), ig = find_method(t, "rgw", "dist=normal");
    if (ir >= 0 && ig >= 0 && iew >= 0) {
        double a[MAXS], b[MAXS];
        int np = 0;
        for (int k = 0; k < t->ns; k++)
            if (t->ok[ir][k] && t->ok[ig][k] && t->ok[iew][k]) {
                a[np] = mtb_delta_p((size_t)t->T, t->M[ir][k], t->M[iew][k], t->hb, NULL, t->T, NULL);
                b[np++] = mtb_delta_p((size_t)t->T, t->M[ig][k], t->M[iew][k], t->hb, NULL, t->T, NULL);
            }
        mtb_stats_summary q = mtb_stats_paired_diff(a, b, (size_t)np);
        char key[96];
        snprintf(key, sizeof key, "rlw_minus_rgw_%s", problem);
        sum_put(sm, key, q.mean, q.mean - q.ci95, q.mean + q.ci95);
    }
    return t->nm;
}

int cmd_lsd6(const char *out, const rscale *r)
{
    (void)r;
    static table t;
    char path[1024], dpath[1024], dir[1024];
    FILE *f = out_open(out, "rlw_lsd6.tsv", path, sizeof path);
    FILE *dat = out_open(out, "lsd6_dp.dat", dpath, sizeof dpath);
    summary sm;
    sum_open(&sm, out, "lsd6");
    static const char *PROB[2] = {"lsd6", "lsd6-eq"}, *DIR[2] = {"sweep_lsd6", "sweep_lsd6eq"};
    int header = 0, rows = 0;
    for (int p = 0; p < 2; p++) {
        snprintf(dir, sizeof dir, "%s/%s", out, DIR[p]);
        if (load(dir, PROB[p], &t))
            continue;
        if (!header) {
            fprintf(f, "problem\tmethod\tseeds");
            for (int i = 0; i < t.T; i++)
                fprintf(f, "\tt%d %s%s", i + 1, t.metric[i], t.hb[i] ? " ↑" : " ↓");
            fprintf(f, "\tΔp_EW (%%)\tΔp_STL (%%)\tseed std Δp_EW\tΔp_EW of seed means\n");
            header = 1;
        }
        rows += emit(f, p == 0 ? dat : NULL, &sm, PROB[p], &t);
        sum_put(&sm, p == 0 ? "seeds_lsd6" : "seeds_lsd6eq", t.ns, t.ns, t.ns);
    }
    out_close(dat, dpath);
    out_close(f, path);
    sum_put(&sm, "rows", rows, rows, rows);
    sum_close(&sm);
    printf("[rlw] R9 LSD-6: %d rows\n", rows);
    return 0;
}
