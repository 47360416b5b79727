/* runs.c: a sweep's runs as a (configuration, seed, task) table and the per-seed Delta-p of
 * its rows (runs.h). */
#include "runs.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "mtb/deltap.h"
#include "mtb/metric.h"
#include "mtb/run.h"

int repro_runs_find(const repro_runs *r, const char *method, const char *options)
{
    for (int i = 0; i < r->nc; i++)
        if (!strcmp(r->method[i], method) && !strcmp(r->opts[i], options))
            return i;
    return -1;
}

int repro_runs_seed_slot(const repro_runs *r, uint64_t seed)
{
    for (int k = 0; k < r->ns; k++)
        if (r->seed[k] == seed)
            return k;
    return -1;
}

void repro_runs_label(const repro_runs *r, int m, char *buf, size_t n)
{
    if (r->opts[m][0])
        snprintf(buf, n, "%s:%s", r->method[m], r->opts[m]);
    else
        snprintf(buf, n, "%s", r->method[m]);
}

/* the row of (method, options), a new one while there is room; -1 when the table is full */
static int row_slot(repro_runs *r, const char *method, const char *options)
{
    int c = repro_runs_find(r, method, options);
    if (c < 0 && r->nc < REPRO_RUNS_MAXC) {
        c = r->nc++;
        snprintf(r->method[c], sizeof r->method[c], "%s", method);
        snprintf(r->opts[c], sizeof r->opts[c], "%s", options);
    }
    return c;
}

static int seed_slot(repro_runs *r, uint64_t seed)
{
    int k = repro_runs_seed_slot(r, seed);
    if (k < 0 && r->ns < REPRO_RUNS_MAXS) {
        k = r->ns++;
        r->seed[k] = seed;
    }
    return k;
}

int repro_runs_load_plan(repro_runs *r, const repro_plan *p, const char *method,
                         const char *options)
{
    static mtb_run_summary s; /* large: one per process */
    for (int j = 0; j < p->n; j++) {
        const repro_job *jb = &p->jobs[j];
        if (strcmp(jb->problem, r->problem))
            continue;
        if (method && (strcmp(jb->method, method) || strcmp(jb->options, options)))
            continue;
        int c = row_slot(r, jb->method, jb->options), k = c < 0 ? -1 : seed_slot(r, jb->seed);
        mtb_error err = {0};
        if (k < 0 || mtb_run_read_summary(jb->path, &s, &err))
            continue; /* not run (yet) or unreadable: the cell stays empty */
        size_t len = strlen(jb->path);
        if (len >= sizeof r->path[c][k])
            continue; /* a path this table cannot hold: treated as not run */
        memcpy(r->path[c][k], jb->path, len + 1);
        if (s.diverged) {
            r->diverged[c][k] = 1;
            continue;
        }
        if (s.T > REPRO_RUNS_MAXT) {
            fprintf(stderr, "%s: %d tasks, the runs table holds at most %d\n", jb->path, s.T,
                    REPRO_RUNS_MAXT);
            return -1;
        }
        r->T = s.T;
        for (int t = 0; t < s.T; t++) {
            r->M[c][k][t] = s.metric_last[t];
            r->hb[t] = mtb_metric_higher_is_better(s.metric[t]);
            snprintf(r->metric[t], sizeof r->metric[t], "%s", mtb_metric_name(s.metric[t]));
        }
        r->steps[c][k] = s.steps;
        r->ms_step[c][k] = s.steps > 0 ? 1e3 * s.wall_s / (double)s.steps : NAN;
        r->ok[c][k] = 1;
    }
    return 0;
}

int repro_runs_load_more(repro_runs *r, const char *dir)
{
    repro_plan p;
    if (repro_plan_read(dir, &p))
        return -1;
    int rc = repro_runs_load_plan(r, &p, NULL, NULL);
    repro_plan_free(&p);
    return rc;
}

void repro_runs_clear(repro_runs *r, const char *problem)
{
    memset(r, 0, sizeof *r);
    snprintf(r->problem, sizeof r->problem, "%s", problem);
}

int repro_runs_load(repro_runs *r, const char *dir, const char *problem)
{
    repro_runs_clear(r, problem);
    return repro_runs_load_more(r, dir);
}

double repro_runs_delta_p(const repro_runs *r, int m, int ref, int k, double *per_task)
{
    if (m < 0 || ref < 0 || k < 0 || k >= r->ns || !r->ok[m][k] || !r->ok[ref][k])
        return NAN;
    return mtb_delta_p((size_t)r->T, r->M[m][k], r->M[ref][k], r->hb, NULL, r->T, per_task);
}

repro_runs_dp repro_runs_deltap(const repro_runs *r, int m, int ref)
{
    repro_runs_dp d;
    memset(&d, 0, sizeof d);
    if (m < 0 || ref < 0)
        return d;
    double pt[REPRO_RUNS_MAXT][REPRO_RUNS_MAXS];
    int n = 0;
    for (int k = 0; k < r->ns; k++) {
        d.n_diverged += r->diverged[m][k];
        double per[REPRO_RUNS_MAXT];
        if (!r->ok[m][k] || !r->ok[ref][k])
            continue;
        d.v[n] = repro_runs_delta_p(r, m, ref, k, per);
        for (int t = 0; t < r->T; t++)
            pt[t][n] = per[t];
        d.seeds[n++] = r->seed[k];
    }
    d.n = n;
    d.s = mtb_stats_summarise(d.v, (size_t)n);
    for (int t = 0; t < r->T; t++)
        d.per_task[t] = n ? mtb_stats_summarise(pt[t], (size_t)n).mean : NAN;
    if (n < 2)
        d.s.ci95 = NAN;
    return d;
}

mtb_stats_summary repro_runs_paired(const repro_runs_dp *a, const repro_runs_dp *b)
{
    double x[REPRO_RUNS_MAXS], y[REPRO_RUNS_MAXS];
    int n = 0;
    for (int i = 0; i < a->n; i++)
        for (int j = 0; j < b->n; j++)
            if (a->seeds[i] == b->seeds[j]) {
                x[n] = a->v[i];
                y[n++] = b->v[j];
            }
    return mtb_stats_paired_diff(x, y, (size_t)n);
}
