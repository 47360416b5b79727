/* sweep_pool.c: the local pool of `mtb sweep --jobs N`: the plan's jobs on the library's
 * worker pool (mtb/pool.h): N worker processes with one BLAS thread each, longest job first.
 * Each worker keeps a job cache (mtb_job_cache), so a problem's data set is built once per
 * worker, not once per job; a job that crashes takes only its worker down and is reported
 * as failed with the signal. This file only connects the pool to the plan (what a job is)
 * and to the progress display (what the user sees). */
#include "sweep.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "mtb/pool.h"

typedef struct pool_ctx {
    sweep_plan *plan;
    sweep_progress pg;
} pool_ctx;

static void on_step(void *ctx, long step, long steps, const mtb_run_log *log)
{
    (void)steps, (void)log;
    mtb_pool_units(ctx, step);
}

static void *worker_init(void *ctx)
{
    (void)ctx;
    return mtb_job_cache_new();
}

static void worker_fini(void *ctx, void *ws)
{
    (void)ctx;
    mtb_job_cache_free(ws);
}

static mtb_status run_one(void *vctx, void *ws, int i, mtb_pool_slot *slot, char *msg,
                          size_t len, int *diverged)
{
    const sweep_plan *plan = ((pool_ctx *)vctx)->plan;
    mtb_error err = {0};
    mtb_status st = ws ? mtb_job_run(ws, &plan->items[i].job, plan->data[0] ? plan->data : NULL,
                                     1, plan->resumed, plan->items[i].path, on_step, slot,
                                     diverged, &err)
                       : mtb_fail(&err, MTB_ENOMEM, "out of memory for the job cache");
    if (st)
        snprintf(msg, len, "%s", err.msg[0] ? err.msg : mtb_strerror(st));
    return st;
}

static void started(void *vctx, int i)
{
    sweep_progress_started(&((pool_ctx *)vctx)->pg, i);
}

static void finished(void *vctx, int i, mtb_status st, int diverged, double seconds,
                     const char *msg)
{
    pool_ctx *c = vctx;
    sweep_plan_record(c->plan, i, st, diverged, seconds, msg);
    sweep_progress_finished(&c->pg, i);
}

static void stopped(void *vctx, int i, int sig)
{
    pool_ctx *c = vctx;
    c->pg.n_running--;
    if (c->pg.drawn)
        fputc('\n', stderr);
    c->pg.drawn = 0;
    fprintf(stderr, "[sweep] %s: stopped by %s before it ended; it stays to be run\n",
            c->plan->items[i].name, strsignal(sig));
}

static void tick(void *vctx, const int *running, int n_running, const long *live)
{
    pool_ctx *c = vctx;
    for (int k = 0; k < n_running; k++)
        c->pg.live[running[k]] = live[running[k]];
    sweep_progress_tick(&c->pg, 0);
}

int sweep_pool_run(sweep_plan *plan, int jobs, int *worker_errors)
{
    pool_ctx c = {.plan = plan};
    int *order = malloc((size_t)(plan->n ? plan->n : 1) * sizeof *order);
    if (!order || sweep_progress_begin(&c.pg, plan, jobs, "process")) {
        fprintf(stderr, "[sweep] out of memory for %d jobs\n", plan->n);
        free(order);
        return SIGABRT;
    }
    int n_todo = sweep_plan_order(plan, order);
    const mtb_pool_ops ops = {worker_init, worker_fini, run_one, started, finished, stopped, tick};
    int sig = mtb_pool_run(plan->n, order, n_todo, jobs, &ops, &c, worker_errors);
    if (sig > 0) {
        if (c.pg.drawn)
            fputc('\n', stderr);
        c.pg.drawn = 0;
        fprintf(stderr, "[sweep] %s: stopped the running jobs (the same command resumes)\n",
                strsignal(sig));
    }
    sweep_progress_end(&c.pg);
    if (worker_errors && *worker_errors)
        fprintf(stderr, "[sweep] %d worker%s ended with a non-zero status after %s jobs (a "
                        "sanitizer report above?)\n", *worker_errors, *worker_errors == 1 ? "" : "s",
                *worker_errors == 1 ? "its" : "their");
    free(order);
    return sig < 0 ? SIGABRT : sig;
}
