/* sweep_table.h: what the two writers of a sweep's results share: sweep_table.c computes
 * one problem's rows and statistics and writes the TSV, sweep_table_h5.c writes the same
 * numbers to results.h5. Internal to the CLI. */
#ifndef MTB_SWEEP_TABLE_H
#define MTB_SWEEP_TABLE_H

#include "mtb/h5.h"
#include "mtb/problem.h"
#include "sweep.h"

/* One planned job of a problem. */
typedef struct trow {
    int item;                              /* index in the plan */
    int present, diverged;                 /* a complete run file; it diverged */
    double *last, *best, *clean, *dp_task; /* (T) each: metrics, Delta-p_t against stl */
    mtb_metric_kind *kind;                 /* (T), from the run file */
    double dp_stl, dp_ew;
    double wall_s;
    int resumed;
    char *code_version;                    /* malloc'd, or NULL */
    char *note;                            /* why a planned run is not in the table */
    int group;                             /* its method and options */
} trow;

/* One method with its options inside a problem. */
typedef struct tgroup {
    int first;          /* row of its first job: method and options */
    int n, n_div, n_ok; /* seeds present, diverged, and the rest */
    double *mean, *std; /* (T): of the last metric over the n_ok seeds */
} tgroup;

/* The per-group statistics beyond the per-task ones: (ng, S_N) doubles. */
enum { S_DPS_MEAN, S_DPS_STD, S_DPS_CI, S_DPE_MEAN, S_DPE_STD, S_DPE_CI, S_DPS_OFM, S_DPE_OFM,
       S_DIFF_MEAN, S_DIFF_STD, S_DIFF_CI, S_N };
/* Their TSV column names ("dp_stl.mean"); the HDF5 names write '.' and '-' as '_'. */
extern const char *const SWEEP_SUMMARY_COLS[S_N];

/* One problem's tables. */
typedef struct tproblem {
    const sweep_plan *plan;
    const mtb_problem *p;
    const trow *rows;
    int n;
    const tgroup *g;
    int ng;
    const double *S; /* (ng, S_N) */
} tproblem;

/* /problems/<name>/{runs,summary}/... of one problem. */
mtb_status sweep_table_h5_problem(mtb_h5 *f, const tproblem *tp, mtb_error *err);
/* /missing or /failed: the jobs idx[0..n-1] of the plan, with a note per job (NULL: the
 * jobs' failure messages). */
mtb_status sweep_table_h5_incomplete(mtb_h5 *f, const sweep_plan *plan, const char *group,
                                     const int *idx, int n, char *const *notes, mtb_error *err);

#endif
