/* runs.c: the final metrics of a method's runs in a sweep (`mtb sweep`, docs/sweeps.md), read
 * through the sweep's plan.tsv (common/sweep_plan.h) and each run file's summary
 * (mtb_run_read_summary): one row per seed that finished without diverging; Δp of a row and
 * seed-paired differences. Used by the training experiments (audit_train.c, compare.c, sgd.c). */
#include "imtl.h"

#include <math.h>
#include <string.h>

#include "mtb/deltap.h"
#include "mtb/metric.h"
#include "mtb/run.h"

int runs_of(const repro_plan *p, const char *problem, const char *name, const char *opts,
            runs_rows *r)
{
    static mtb_run_summary s;
    memset(r, 0, sizeof *r);
    if (!p)
        return 0;
    for (uint64_t seed = 0; seed < RUNS_SEEDS; seed++) {
        const char *path = repro_plan_file(p, problem, name, opts, seed);
        mtb_error err = {0};
        if (!path || mtb_run_read_summary(path, &s, &err) || s.diverged || s.T > RUNS_TASKS ||
            s.steps < 1)
            continue;
        int k = r->n++;
        r->T = s.T;
        r->seed[k] = seed;
        r->ms_step[k] = 1e3 * s.wall_s / (double)s.steps;
        for (int t = 0; t < s.T; t++) {
            r->M[k][t] = s.metric_last[t];
            r->hb[t] = mtb_metric_higher_is_better(s.metric[t]);
        }
    }
    return r->n;
}

int runs_seed_index(const runs_rows *r, uint64_t seed)
{
    for (int k = 0; k < r->n; k++)
        if (r->seed[k] == seed)
            return k;
    return -1;
}

/* Δp of run row k of a against the same seed in ref (NAN when absent); per_task may be NULL */
double runs_dp(const runs_rows *a, int k, const runs_rows *ref, double *per_task)
{
    int j = runs_seed_index(ref, a->seed[k]);
    if (j < 0)
        return NAN;
    return mtb_delta_p((size_t)a->T, a->M[k], ref->M[j], a->hb, NULL, a->T, per_task);
}

/* seed-paired summary of f(a, k) − f(b, k') */
mtb_stats_summary runs_paired(const runs_rows *a, const runs_rows *b, const runs_rows *ref,
                              int task)
{
    double d[RUNS_SEEDS];
    int n = 0;
    for (int k = 0; k < a->n; k++) {
        int j = runs_seed_index(b, a->seed[k]);
        if (j < 0)
            continue;
        double x = task >= 0 ? a->M[k][task] - b->M[j][task]
                             : runs_dp(a, k, ref, NULL) - runs_dp(b, j, ref, NULL);
        if (isfinite(x))
            d[n++] = x;
    }
    return mtb_stats_summarise(d, (size_t)n);
}
