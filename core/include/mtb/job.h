/* job.h: one job of an experiment: a named problem at a scale, a method with its options,
 * a seed; run in this process and written to one run file. This is what `mtb sweep` runs
 * on every worker (a forked process or an MPI rank) and what a reproduction runs in
 * process. Implemented in datasets/job.c (it needs the problem registry). */
#ifndef MTB_JOB_H
#define MTB_JOB_H

#include <stdint.h>

#include "mtb/problem.h"
#include "mtb/run.h"

typedef struct mtb_job {
    char problem[MTB_PROBLEM_NAME_LEN]; /* a registered problem name (problem.h) */
    char scale[16];                     /* "smoke" | "paper" | "full" */
    char method[64];                    /* a balancer, "oc", "ideal" or "stl" */
    char options[512];                  /* the method's hyperparameters, "key=value,..." */
    uint64_t seed;
} mtb_job;

/* A worker's cache of the last data set it generated or loaded, so that a worker running
 * many jobs of one problem builds its data once. */
typedef struct mtb_job_cache mtb_job_cache;
mtb_job_cache *mtb_job_cache_new(void);
void mtb_job_cache_free(mtb_job_cache *c); /* NULL ok */

/* Runs the job and writes its run file atomically to out_path. data_path: a data-set file
 * to use instead of generating the problem's data (checked against the problem), or NULL.
 * threads: BLAS threads (recorded). resumed: recorded in the provenance. A diverged run
 * (MTB_ENUMERIC during training) is a result: its run file is written with diverged = 1
 * and the call returns MTB_OK with *diverged = 1 (diverged may be NULL). Any other failure
 * returns its status and message, and leaves no file at out_path. */
mtb_status mtb_job_run(mtb_job_cache *cache, const mtb_job *job, const char *data_path,
                       int threads, int resumed, const char *out_path, mtb_run_progress progress,
                       void *progress_ctx, int *diverged, mtb_error *err);

/* Total progress units (as passed to the progress callback) of the job: the protocol's
 * steps, times T for "stl". */
mtb_status mtb_job_units(const mtb_job *job, long *units, mtb_error *err);

/* MTB_OK when path is a complete run file of exactly this job (same problem, scale, method,
 * options and seed); otherwise a status and a message saying what differs or is missing. */
mtb_status mtb_job_verify(const mtb_job *job, const char *path, mtb_error *err);

#endif
