/* runs.h: the runs of one problem in one or more sweeps (`mtb sweep`, docs/sweeps.md) as a
 * table of configurations (method, options) x seeds x task metrics, read through each sweep's
 * plan.tsv (sweep_plan.h) and every run file's summary (mtb_run_read_summary): the metrics at
 * the last evaluation. A cell is ok when its run file was read and the run did not diverge;
 * a missing (not run at this scale) or unreadable run leaves the cell empty, a diverged one
 * is flagged. Delta-p is computed per seed against the same seed's reference row (the
 * per-seed convention of rlw.md sec. 2; DB-MTL Eq. 2 with the standard sign, mtb_delta_p:
 * positive is better than the reference) and summarised over seeds. */
#ifndef REPRO_RUNS_H
#define REPRO_RUNS_H

#include <stddef.h>
#include <stdint.h>

#include "mtb/stats.h"
#include "sweep_plan.h"

enum { REPRO_RUNS_MAXC = 96, REPRO_RUNS_MAXS = 16, REPRO_RUNS_MAXT = 64 };

typedef struct repro_runs {
    char problem[64];
    int nc, ns, T;              /* configurations (rows), seed slots, tasks */
    char method[REPRO_RUNS_MAXC][64], opts[REPRO_RUNS_MAXC][512];
    uint64_t seed[REPRO_RUNS_MAXS]; /* seed slot k -> seed, in the order the plans list them */
    int ok[REPRO_RUNS_MAXC][REPRO_RUNS_MAXS], diverged[REPRO_RUNS_MAXC][REPRO_RUNS_MAXS];
    char path[REPRO_RUNS_MAXC][REPRO_RUNS_MAXS][1024]; /* "" when the job has no run file */
    double M[REPRO_RUNS_MAXC][REPRO_RUNS_MAXS][REPRO_RUNS_MAXT];
    double ms_step[REPRO_RUNS_MAXC][REPRO_RUNS_MAXS]; /* wall ms per step, NAN without steps */
    long steps[REPRO_RUNS_MAXC][REPRO_RUNS_MAXS];
    int hb[REPRO_RUNS_MAXT];   /* 1: the task's metric is higher-is-better */
    char metric[REPRO_RUNS_MAXT][32];
} repro_runs;

/* Empties r and makes it the table of `problem`'s runs. */
void repro_runs_clear(repro_runs *r, const char *problem);
/* Clears r and reads DIR/plan.tsv and every run file of `problem`. 0 on success (the table
 * may have no row), -1 with a message on stderr when there is no readable plan or a run has
 * more than REPRO_RUNS_MAXT tasks. */
int repro_runs_load(repro_runs *r, const char *dir, const char *problem);
/* Adds another sweep's jobs of r->problem (rows and seeds merge by name and value). */
int repro_runs_load_more(repro_runs *r, const char *dir);
/* The same from a plan already read, keeping only the jobs of (method, options) when method
 * is not NULL. Rows or seeds beyond the table's room are left out. */
int repro_runs_load_plan(repro_runs *r, const repro_plan *p, const char *method,
                         const char *options);

int repro_runs_find(const repro_runs *r, const char *method, const char *options); /* -1: absent */
int repro_runs_seed_slot(const repro_runs *r, uint64_t seed);                    /* -1: absent */
/* "method" or "method:options" */
void repro_runs_label(const repro_runs *r, int m, char *buf, size_t n);

/* Delta-p (%) of row m against row ref for seed slot k: NAN when m or ref is -1 or either
 * cell is empty. per_task (T, may be NULL) receives Delta-p_t. */
double repro_runs_delta_p(const repro_runs *r, int m, int ref, int k, double *per_task);

/* A row's Delta-p against a reference row over the seeds where both ran. */
typedef struct repro_runs_dp {
    int n, n_diverged;                 /* seeds with a Delta-p; the row's diverged runs */
    uint64_t seeds[REPRO_RUNS_MAXS];
    double v[REPRO_RUNS_MAXS];         /* per-seed Delta-p (%) */
    mtb_stats_summary s;               /* their mean, std, ci95 (ci95 NAN for n < 2) */
    double per_task[REPRO_RUNS_MAXT];  /* seed means of Delta-p_t (NAN without a seed) */
} repro_runs_dp;
/* All zero (n = 0) when m or ref is -1. */
repro_runs_dp repro_runs_deltap(const repro_runs *r, int m, int ref);
/* The seed-paired difference a - b of two Delta-p series (mtb_stats_paired_diff: mean and
 * its 95 % t half-width over the seeds both hold). */
mtb_stats_summary repro_runs_paired(const repro_runs_dp *a, const repro_runs_dp *b);

#endif
