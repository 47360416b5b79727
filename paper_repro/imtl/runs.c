/* runs.c: the final metrics of a method's runs in a sweep (`mtb sweep`, docs/sweeps.md), read
 * by the toolkit's runs table (common/runs.h) and viewed as one row per seed 0..RUNS_SEEDS-1
 * that finished without diverging; Δp of a row and seed-paired differences (of Δp or of one
 * task's metric). Used by the training experiments (audit_train.c, compare.c, sgd.c). */
#include "imtl.h"

#include <math.h>
#include <string.h>

#include "../common/runs.h"
#include "mtb/deltap.h"

int runs_of(const repro_plan *p, const char *problem, const char *name, const char *opts,
            runs_rows *r)
{
    static repro_runs t; /* the toolkit's runs table (common/runs.h), this one configuration */
    memset(r, 0, sizeof *r);
    repro_runs_clear(&t, problem);
    if (!p || repro_runs_load_plan(&t, p, name, opts))
        return 0;
    int c = repro_runs_find(&t, name, opts);
    for (uint64_t seed = 0; c >= 0 && seed < RUNS_SEEDS; seed++) {
        int j = repro_runs_seed_slot(&t, seed);
        if (j < 0 || !t.ok[c][j] || t.T > RUNS_TASKS || t.steps[c][j] < 1)
            continue;
        int k = r->n++;
        r->T = t.T;
        r->seed[k] = seed;
        r->ms_step[k] = t.ms_step[c][j];
        for (int i = 0; i < t.T; i++) {
            r->M[k][i] = t.M[c][j][i];
            r->hb[i] = t.hb[i];
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
