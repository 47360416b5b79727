/* pool.h: independent jobs on at most N forked worker processes, for the programs of the
 * suite (`mtb sweep`, the reproductions). Each worker process runs jobs one after the other
 * (so a worker can keep a cache, e.g. a data set, across jobs) with one BLAS thread.
 *
 * A process per worker, not a thread: a job that crashes, leaks or corrupts its memory takes
 * only its worker down (the job is reported as failed, with the signal) and a new worker
 * takes the next job. Workers report progress through shared memory (mtb_pool_units, after
 * every training step); the parent learns that a job ended through a pipe and that a worker
 * died from SIGCHLD, through a self-pipe its handler writes to, so it wakes at once when a
 * job ends and four times a second otherwise (for a progress display). SIGINT, SIGTERM and
 * SIGHUP stop the running jobs (reported through `stopped`, not as failures) and return the
 * signal, so that the caller can still write what finished. Workers die with the parent
 * (PR_SET_PDEATHSIG): a killed program leaves no job running behind it.
 *
 * mtb_pool_run installs signal handlers for its duration and restores them; it is for
 * programs, not for code that runs inside another program's signal handling. */
#ifndef MTB_POOL_H
#define MTB_POOL_H

#include <stddef.h>

#include "mtb/status.h"

typedef struct mtb_pool_slot mtb_pool_slot;

/* In a job: the progress units done so far (any scale the caller's display understands). */
void mtb_pool_units(mtb_pool_slot *slot, long units);

typedef struct mtb_pool_ops {
    /* Worker side. worker_init (may be NULL) runs once in each new worker and returns its
     * state (e.g. a cache); worker_fini (may be NULL) frees it when the worker ends. */
    void *(*worker_init)(void *ctx);
    void (*worker_fini)(void *ctx, void *wstate);
    /* Runs job i; returns MTB_OK or a status with a message in msg (msglen bytes). *flag is
     * a free result bit for the caller (mtb sweep: "the run diverged"). */
    mtb_status (*run)(void *ctx, void *wstate, int i, mtb_pool_slot *slot, char *msg,
                      size_t msglen, int *flag);
    /* Parent side, all may be NULL. started: job i was handed to a worker. finished: job i
     * ended (status and message from run, or MTB_EIO and the signal or exit status when
     * its worker died), after `seconds`. stopped: job i was stopped by a signal before it
     * ended (it is still to be run). tick: about four times a second, with the units each
     * job has reported so far (live[i], for the running jobs). */
    void (*started)(void *ctx, int i);
    void (*finished)(void *ctx, int i, mtb_status st, int flag, double seconds, const char *msg);
    void (*stopped)(void *ctx, int i, int sig);
    void (*tick)(void *ctx, const int *running, int n_running, const long *live);
} mtb_pool_ops;

/* Runs the jobs order[0..n_order-1] (indices into 0..n_jobs-1, started in that order) on at
 * most `workers` processes. Returns 0, or the signal that stopped the session (SIGINT,
 * SIGTERM, SIGHUP), or -1 when the pool could not be set up (a message on stderr).
 * *worker_errors (may be NULL): workers that ended with a non-zero status between jobs (a
 * sanitizer's report, for example). */
int mtb_pool_run(int n_jobs, const int *order, int n_order, int workers, const mtb_pool_ops *ops,
                 void *ctx, int *worker_errors);

#endif
