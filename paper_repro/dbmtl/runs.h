/* runs.h: one problem's sweep as configurations x seeds x task metrics (runs.c). */
#ifndef DBMTL_RUNS_H
#define DBMTL_RUNS_H

#include <stdint.h>

#include "mtb/metric.h"
#include "mtb/stats.h"

enum { RUNS_MAXC = 96, RUNS_MAXS = 10, RUNS_MAXT = 8 };

typedef struct runs {
    char problem[64];
    int nc, ns, T;
    char method[RUNS_MAXC][64], opts[RUNS_MAXC][256];
    uint64_t seed[RUNS_MAXS];
    int ok[RUNS_MAXC][RUNS_MAXS], diverged[RUNS_MAXC][RUNS_MAXS];
    char path[RUNS_MAXC][RUNS_MAXS][1024];  /* "" when the job has no run file */
    double M[RUNS_MAXC][RUNS_MAXS][RUNS_MAXT];
    int hb[RUNS_MAXT];
} runs;

/* Delta-p of one configuration against a reference, per seed (paired by seed). */
typedef struct dp_stats {
    int n, n_diverged;
    uint64_t seeds[RUNS_MAXS];
    double v[RUNS_MAXS];          /* per-seed Delta-p (%) */
    mtb_stats_summary s;          /* their mean, std, ci95 (NAN for n < 2) */
    double per_task[RUNS_MAXT];   /* seed means of the per-task Delta-p_t */
} dp_stats;

/* Reads DIR/plan.tsv and every run file of `problem`; -1 when there is no plan. */
int runs_load(runs *r, const char *dir, const char *problem);
/* Adds another sweep's jobs of `problem` (configurations and seeds merge by name and value). */
int runs_load_more(runs *r, const char *dir, const char *problem);
int runs_find(const runs *r, const char *method, const char *opts); /* -1 if absent */
dp_stats runs_deltap(const runs *r, int c, int ref);
/* seed-paired difference a - b of two Delta-p series */
mtb_stats_summary runs_paired(const dp_stats *a, const dp_stats *b);

#endif
