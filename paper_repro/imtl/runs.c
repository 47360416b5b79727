/* runs.c: the final metrics of a method's runs in a sweep (`mtb sweep`, docs/sweeps.md), read
 * through the sweep's plan.tsv (common/sweep_plan.h) and each run file's summary
 * (mtb_run_read_summary): one row per seed that finished without diverging. Used by the
 * training experiments (audit_train.c, compare.c). */
#include "imtl.h"

#include <math.h>
#include <string.h>

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
