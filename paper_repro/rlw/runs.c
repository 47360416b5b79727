/* runs.c: the final metrics of a sweep's runs as a (method, seed, task) table, read from the
 * sweep's plan.tsv (sweep_plan.h) and each run file's summary (mtb_run_read_summary). Used by
 * the training experiments that compare methods run by `mtb sweep`: R9's LSD-6 table
 * (lsd6.c) and R7's RLW-versus-RGW training comparison (rgw_train.c). */
#include "rlw.h"

#include <math.h>
#include <string.h>

#include "../common/sweep_plan.h"
#include "mtb/deltap.h"
#include "mtb/metric.h"
#include "mtb/run.h"

int runs_find(const runs_table *t, const char *method, const char *options)
{
    for (int i = 0; i < t->nm; i++)
        if (!strcmp(t->method[i], method) && !strcmp(t->options[i], options))
            return i;
    return -1;
}

void runs_label(const runs_table *t, int m, char *buf, size_t n)
{
    if (t->options[m][0])
        snprintf(buf, n, "%s:%s", t->method[m], t->options[m]);
    else
        snprintf(buf, n, "%s", t->method[m]);
}

/* the slot of the method (a new one if there is room), -1 when the table is full */
static int method_slot(runs_table *t, const char *method, const char *options)
{
    int m = runs_find(t, method, options);
    if (m < 0 && t->nm < RUNS_MAXM) {
        m = t->nm++;
        snprintf(t->method[m], sizeof t->method[m], "%s", method);
        snprintf(t->options[m], sizeof t->options[m], "%s", options);
    }
    return m;
}

static int seed_slot(runs_table *t, uint64_t seed)
{
    for (int i = 0; i < t->ns; i++)
        if (t->seed[i] == seed)
            return i;
    if (t->ns == RUNS_MAXS)
        return -1;
    t->seed[t->ns] = seed;
    return t->ns++;
}

int runs_load(const char *dir, const char *problem, runs_table *t)
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
        int m = method_slot(t, jb->method, jb->options), k = seed_slot(t, jb->seed);
        if (m < 0 || k < 0)
            continue;
        mtb_error err = {0};
        if (mtb_run_read_summary(jb->path, &s, &err) || s.diverged)
            continue; /* a missing, failed or diverged run: its cell stays empty (ok = 0) */
        if (s.T > RUNS_MAXT)
            die("%s: %d tasks, at most %d here", jb->path, s.T, RUNS_MAXT);
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

double runs_delta_p(const runs_table *t, int m, int ref, int k)
{
    if (m < 0 || ref < 0 || !t->ok[m][k] || !t->ok[ref][k])
        return NAN;
    return mtb_delta_p((size_t)t->T, t->M[m][k], t->M[ref][k], t->hb, NULL, t->T, NULL);
}
