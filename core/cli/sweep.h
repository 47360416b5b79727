/* sweep.h: `mtb sweep`, a plan of jobs (problem x method x options x seed at one scale)
 * run into one directory, resumable at any point, on local worker processes or MPI ranks.
 *
 * The pieces, one file each:
 *   cmd_sweep.c      options, --help, the order of the steps below
 *   sweep_plan.c     the jobs, their file names, DIR/plan.tsv, the resume scan
 *   sweep_dir.c      the directory: lock, atomic small files, stale temporaries,
 *                    failure records
 *   sweep_reuse.c    --reuse: run files of the same jobs in other sweep directories,
 *                    linked instead of trained again
 *   sweep_progress.c what the user sees while jobs run (one line on a terminal)
 *   sweep_pool.c     the local pool: --jobs long-lived worker processes, a job at a time
 *   sweep_mpi.c      MPI ranks with dynamic dispatch; rank 0 also trains
 *   sweep_table.c    DIR/results.tsv and DIR/timing.tsv: rows, Delta-p, seed statistics
 *   sweep_table_h5.c DIR/results.h5, the same numbers as arrays (sweep_table.h)
 *
 * Layout of DIR (docs/sweeps.md):
 *   plan.tsv                         the scale, the data file, one line per job
 *   runs/<problem>/<method>[+<opts>]/seed<k>.h5   one run file per job (mtb_job_run)
 *   failed/<same name>.txt           the message of a job that failed
 *   reused.tsv                       run files linked from other sweeps (--reuse)
 *   results.tsv, results.h5          the table over the plan's jobs
 *   timing.tsv                       wall times (kept out of results.tsv so that tables
 *                                    of different schedules compare byte for byte) */
#ifndef MTB_SWEEP_H
#define MTB_SWEEP_H

#include <stdio.h>

#include "mtb/job.h"

#define SWEEP_PATH_LEN 4096
#define SWEEP_NAME_LEN 1024
#define SWEEP_MAX_JOBS 1000000
#define SWEEP_RECORD_LEN (SWEEP_PATH_LEN + SWEEP_NAME_LEN + 16) /* DIR/failed/<name>.txt */

typedef enum sweep_state {
    SWEEP_TODO = 0, /* to run in this session */
    SWEEP_KEPT,     /* a complete run file from an earlier session */
    SWEEP_OK,       /* ran in this session (a diverged run is a result too) */
    SWEEP_FAILED    /* failed in this session, or earlier and not retried */
} sweep_state;

typedef struct sweep_item {
    mtb_job job;
    char name[SWEEP_NAME_LEN];     /* "lsd6/ew/seed0": the key under runs/ and failed/ */
    char path[SWEEP_PATH_LEN];     /* DIR/runs/<name>.h5 */
    long units;                    /* progress units (mtb_job_units) */
    double cost;                   /* estimated work: units times the method's cost per step */
    sweep_state state;
    int redo;                      /* a file was there but was not a complete run of the job */
    int reused;                    /* KEPT: linked from another sweep in this session */
    int diverged;                  /* set when it ran in this session */
    double seconds;                /* wall time of mtb_job_run in this session, else NAN */
    char message[MTB_ERRMSG_LEN];  /* why it failed */
    char where[96];                /* MPI: "rank 2 on node7", kept in the failure record
                                      (not in the table: it depends on the schedule) */
} sweep_item;

typedef struct sweep_plan {
    char dir[SWEEP_PATH_LEN];
    char scale[16];                /* canonical: the problem registry's "smoke" or "paper" */
    char data[SWEEP_PATH_LEN];     /* --data, "" when every job generates its data */
    int n;
    sweep_item *items;             /* in plan order: problem, method, seed */
    int resumed;                   /* DIR held a plan from an earlier session */
    int lock_fd;                   /* -1 when not locked */
} sweep_plan;

/* A method as given: "ew", or "db_mtl" with options "beta=0.9". */
typedef struct sweep_method {
    char method[64];
    char options[512];
} sweep_method;

/* The parsed command line. */
typedef struct sweep_args {
    const char *dir;
    char scale[16];
    const char *data;              /* NULL: generated */
    int n_problems, n_methods, n_seeds;
    char (*problems)[MTB_PROBLEM_NAME_LEN];
    sweep_method *methods;
    uint64_t *seeds;
    int jobs;
    int n_reuse;
    const char **reuse;            /* --reuse ROOT: where to look for runs of the same jobs */
    int dry_run, table_only, retry_failed;
    int have_plan_args;            /* --problem/--methods/--seeds were given */
} sweep_args;

/* ---- cmd_sweep.c: the steps both drivers share --------------------------------------- */

/* Builds and checks the plan, locks DIR, scans it for finished jobs, writes plan.tsv.
 * Returns 0, or the exit status to stop with (1 run-time failure, 2 usage). */
int sweep_prepare(const sweep_args *a, sweep_plan *plan);
/* Writes the table and the final summary; returns the exit status (1 when a job failed or
 * is missing). interrupted: the session was stopped by a signal. */
int sweep_finish(const sweep_plan *plan, double wall_s, int workers, int interrupted);

/* ---- sweep_plan.c -------------------------------------------------------------------- */

/* The plan of the command line, validated (unknown problem or method, bad options,
 * duplicates, two jobs with one file name): MTB_EINVAL with a message naming the value. */
mtb_status sweep_plan_build(const sweep_args *a, sweep_plan *plan, mtb_error *err);
/* Reads DIR/plan.tsv (for --table-only without a plan on the command line). */
mtb_status sweep_plan_read(const char *dir, sweep_plan *plan, mtb_error *err);
/* When DIR/plan.tsv exists: its scale and data file must be those of plan (a run file's
 * identity includes its scale), else MTB_EINVAL. Sets plan->resumed. */
mtb_status sweep_plan_check_dir(sweep_plan *plan, mtb_error *err);
mtb_status sweep_plan_write(const sweep_plan *plan, mtb_error *err);
/* Sets every item's state from DIR: KEPT when its run file verifies, FAILED when a failure
 * record exists (and !retry_failed), else TODO. modify: remove files that do not verify
 * (reported on out), and failure records of jobs that will be retried. */
void sweep_plan_scan(sweep_plan *plan, int retry_failed, int modify, FILE *out);
/* Records the end of a job of this session: state, failure record (written, or removed
 * after a success). */
void sweep_plan_record(sweep_plan *plan, int i, mtb_status st, int diverged, double seconds,
                       const char *message);
/* The order in which to start the TODO jobs (largest estimated cost first: the long ones
 * must not start last). Returns their count; order has plan->n entries. */
int sweep_plan_order(const sweep_plan *plan, int *order);
void sweep_plan_free(sweep_plan *plan);
/* "ew", "db_mtl+beta-0.9": the directory of a method inside runs/<problem>/. */
void sweep_method_dirname(const char *method, const char *options, char *buf, size_t len);

/* ---- sweep_dir.c --------------------------------------------------------------------- */

/* Writes len bytes to path through a temporary in the same directory and rename(2). */
mtb_status sweep_write_atomic(const char *path, const char *data, size_t len, mtb_error *err);
/* An exclusive lock on DIR/.lock (released by the kernel when the process dies). */
mtb_status sweep_lock(sweep_plan *plan, mtb_error *err);
void sweep_unlock(sweep_plan *plan);
/* Removes every *.tmp under DIR (left by a session that was killed); returns the count. */
int sweep_remove_stale(const char *dir);
void sweep_failure_path(const sweep_plan *plan, const sweep_item *it, char *buf, size_t len);
mtb_status sweep_failure_write(const sweep_plan *plan, const sweep_item *it, mtb_error *err);
/* 1 and the message when a failure record exists, else 0. */
int sweep_failure_read(const sweep_plan *plan, const sweep_item *it, char *msg, size_t len);

/* ---- sweep_reuse.c ------------------------------------------------------------------- */

/* For every TODO job, a complete run file of the same job in another sweep directory under
 * one of roots (same scale and data file; same code version, BLAS kernel and one thread:
 * the file this sweep would write) is linked into DIR and the job becomes KEPT with
 * reused = 1; DIR/reused.tsv records where each came from. modify = 0 (--dry-run) only
 * marks the jobs. Notes (a root that is no directory, runs of another code version) go to
 * out (NULL: none). Returns the number of jobs reused. */
int sweep_reuse(sweep_plan *plan, const char *const *roots, int n_roots, int modify, FILE *out);

/* ---- sweep_progress.c ---------------------------------------------------------------- */

typedef struct sweep_progress {
    const sweep_plan *plan;
    int tty;
    double t0, last_draw;
    int n_done, n_failed, n_running;
    double work_total, work_before; /* estimated cost of all jobs; of those done before */
    long *live;                     /* per item: units done by a running job */
    int drawn;                      /* a progress line is on the screen */
} sweep_progress;

/* Prints the session's first line ("8 jobs: 2 kept, 6 to run on 2 processes"). */
int sweep_progress_begin(sweep_progress *pg, const sweep_plan *plan, int workers,
                         const char *where);
void sweep_progress_started(sweep_progress *pg, int i);
/* After sweep_plan_record: a line for the job (always for a failure, else only when
 * stderr is not a terminal) and a redraw. */
void sweep_progress_finished(sweep_progress *pg, int i);
/* Redraws the terminal line if 1/4 s has passed (or force). */
void sweep_progress_tick(sweep_progress *pg, int force);
void sweep_progress_end(sweep_progress *pg);

/* ---- sweep_pool.c -------------------------------------------------------------------- */

/* Runs the TODO jobs on at most `jobs` worker processes. Returns 0, or the signal that
 * interrupted the session (SIGINT, SIGTERM, SIGHUP: the running jobs are stopped).
 * *worker_errors: workers that ended with a non-zero status outside a job (a sanitizer's
 * report at exit, say). */
int sweep_pool_run(sweep_plan *plan, int jobs, int *worker_errors);

/* ---- sweep_mpi.c --------------------------------------------------------------------- */

/* 1 when this process was started by mpirun / an MPI launcher. */
int sweep_mpi_launched(void);
/* The launcher's rank of this process (environment, no MPI call); 0 when not launched. */
int sweep_launcher_rank(void);
/* The whole sweep on MPI ranks; returns this rank's exit status. */
int sweep_mpi_main(const sweep_args *a);

/* ---- sweep_table.c ------------------------------------------------------------------- */

/* Writes DIR/results.tsv, DIR/results.h5 and (unless wall_s is NAN) DIR/timing.tsv;
 * *incomplete receives the number of planned jobs without a complete run file. */
mtb_status sweep_table_write(const sweep_plan *plan, double wall_s, int workers,
                             int *incomplete, mtb_error *err);

#endif
