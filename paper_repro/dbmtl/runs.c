/* runs.c: the run files of one problem's sweep (DIR/plan.tsv, sweep_plan.h) as a table of
 * configurations x seeds x task metrics (the last evaluation, mtb_run_read_summary), and
 * Delta-p against a reference row computed per seed against the same seed's reference
 * (DB-MTL Eq. 2 with the standard sign, mtb_delta_p), summarised over seeds. A job that is
 * missing (not run at this scale) or diverged has no metrics; a diverged job is counted. */
#include "runs.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/sweep_plan.h"
#include "mtb/deltap.h"
#include "mtb/run.h"

int runs_find(const runs *r, const char *method, const char *opts)
{
    for (int i = 0; i < r->nc; i++)
        if (!strcmp(r->method[i], method) && !strcmp(r->opts[i], opts))
            return i;
    return -1;
}

static int seed_index(runs *r, uint64_t seed)
{
    for (int i = 0; i < r->ns; i++)
        if (r->seed[i] == seed)
            return i;
    if (r->ns == RUNS_MAXS)
        return -1;
    r->seed[r->ns] = seed;
    return r->ns++;
}

int runs_load(runs *r, const char *dir, const char *problem)
{
    memset(r, 0, sizeof *r);
    snprintf(r->problem, sizeof r->problem, "%s", problem);
    return runs_load_more(r, dir, problem);
}

int runs_load_more(runs *r, const char *dir, const char *problem)
{
    repro_plan p;
    if (repro_plan_read(dir, &p))
        return -1;
    static mtb_run_summary s;
    mtb_error err = {0};
    for (int j = 0; j < p.n; j++) {
        const repro_job *jb = &p.jobs[j];
        if (strcmp(jb->problem, problem))
            continue;
        int c = runs_find(r, jb->method, jb->options);
        if (c < 0) {
            if (r->nc == RUNS_MAXC)
                continue;
            c = r->nc++;
            snprintf(r->method[c], sizeof r->method[c], "%.63s", jb->method);
            snprintf(r->opts[c], sizeof r->opts[c], "%.255s", jb->options);
        }
        int k = seed_index(r, jb->seed);
        if (k < 0 || mtb_run_read_summary(jb->path, &s, &err))
            continue; /* not run (yet): no metrics */
        if (strlen(jb->path) >= sizeof r->path[c][k])
            continue; /* a path this table cannot hold: treated as not run */
        memcpy(r->path[c][k], jb->path, strlen(jb->path) + 1);
        if (s.diverged) {
            r->diverged[c][k] = 1;
            continue;
        }
        if (s.T > RUNS_MAXT)
            continue;
        r->T = s.T;
        for (int t = 0; t < s.T; t++) {
            r->M[c][k][t] = s.metric_last[t];
            r->hb[t] = mtb_metric_higher_is_better(s.metric[t]);
        }
        r->ok[c][k] = 1;
    }
    repro_plan_free(&p);
    return 0;
}

dp_stats runs_deltap(const runs *r, int c, int ref)
{
    dp_stats d;
    memset(&d, 0, sizeof d);
    double v[RUNS_MAXS] = {0}, pt[RUNS_MAXT][RUNS_MAXS] = {{0}};
    int n = 0;
    for (int k = 0; c >= 0 && ref >= 0 && k < r->ns; k++) {
        d.n_diverged += r->diverged[c][k];
        if (!r->ok[c][k] || !r->ok[ref][k])
            continue;
        double per[RUNS_MAXT];
        v[n] = mtb_delta_p((size_t)r->T, r->M[c][k], r->M[ref][k], r->hb, NULL, r->T, per);
        for (int t = 0; t < r->T; t++)
            pt[t][n] = per[t];
        d.seeds[n] = r->seed[k];
        d.v[n] = v[n];
        n++;
    }
    d.n = n;
    d.s = mtb_stats_summarise(v, (size_t)n);
    for (int t = 0; t < r->T; t++)
        d.per_task[t] = n ? mtb_stats_summarise(pt[t], (size_t)n).mean : NAN;
    if (n < 2)
        d.s.ci95 = NAN;
    return d;
}

mtb_stats_summary runs_paired(const dp_stats *a, const dp_stats *b)
{
    double x[RUNS_MAXS], y[RUNS_MAXS];
    int n = 0;
    for (int i = 0; i < a->n; i++)
        for (int j = 0; j < b->n; j++)
            if (a->seeds[i] == b->seeds[j]) {
                x[n] = a->v[i];
                y[n++] = b->v[j];
            }
    return mtb_stats_paired_diff(x, y, (size_t)n);
}
