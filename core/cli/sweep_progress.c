/* sweep_progress.c: what a sweep shows while it runs.
 *
 * On a terminal, one line redrawn at most four times a second:
 *   [sweep] 12/40 done, 2 running, 1 failed, 38% of the work, 1m02s elapsed, ETA 1m40s
 * Anywhere else (a log file, CI, mpirun's forwarded output) one short line per finished
 * job and nothing in between. A failure is always printed with its message.
 *
 * The share of the work counts progress units (training steps, mtb_job_units), which the
 * workers report while they run, so the ETA moves during long jobs rather than in jumps at
 * their ends. It extrapolates this session's rate only: kept jobs cost nothing now. */
#include "sweep.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mtb/clock.h"

int sweep_progress_begin(sweep_progress *pg, const sweep_plan *plan, int workers,
                         const char *where)
{
    memset(pg, 0, sizeof *pg);
    pg->plan = plan;
    pg->tty = isatty(STDERR_FILENO);
    pg->t0 = mtb_clock_s();
    pg->live = calloc((size_t)plan->n, sizeof *pg->live);
    if (!pg->live)
        return -1;
    int todo = 0, kept = 0, reused = 0, old_failed = 0;
    for (int i = 0; i < plan->n; i++) {
        const sweep_item *it = &plan->items[i];
        pg->work_total += it->cost;
        if (it->state == SWEEP_TODO)
            todo++;
        else
            pg->work_before += it->cost;
        kept += it->state == SWEEP_KEPT && !it->reused;
        reused += it->reused;
        old_failed += it->state == SWEEP_FAILED;
    }
    pg->n_done = kept + reused;
    pg->n_failed = old_failed;
    if (todo < workers)
        workers = todo;
    fprintf(stderr, "[sweep] %d job%s: %d kept, ", plan->n, plan->n == 1 ? "" : "s", kept);
    if (reused)
        fprintf(stderr, "%d reused from other sweeps, ", reused);
    fprintf(stderr, "%d to run", todo);
    if (todo)
        fprintf(stderr, " on %d %s%s", workers, where,
                workers == 1 ? "" : where[strlen(where) - 1] == 's' ? "es" : "s");
    fputc('\n', stderr);
    if (old_failed)
        fprintf(stderr, "[sweep] %d job%s failed in an earlier session and %s not retried "
                        "(--retry-failed reruns %s)\n", old_failed, old_failed == 1 ? "" : "s",
                old_failed == 1 ? "is" : "are", old_failed == 1 ? "it" : "them");
    fflush(stderr);
    return 0;
}

void sweep_progress_started(sweep_progress *pg, int i)
{
    pg->live[i] = 0;
    pg->n_running++;
}

static void clear_line(sweep_progress *pg)
{
    if (pg->drawn)
        fputs("\r\033[K", stderr);
    pg->drawn = 0;
}

void sweep_progress_finished(sweep_progress *pg, int i)
{
    const sweep_item *it = &pg->plan->items[i];
    pg->n_running--;
    pg->live[i] = 0;
    if (it->state == SWEEP_FAILED) {
        pg->n_failed++;
        clear_line(pg);
        fprintf(stderr, "[sweep] FAILED %s: %s\n", it->name, it->message);
    } else {
        pg->n_done++;
        if (!pg->tty) {
            char d[32];
            mtb_format_duration(it->seconds, d, sizeof d);
            fprintf(stderr, "[sweep] %d/%d %s %s (%s)\n", pg->n_done, pg->plan->n,
                    it->diverged ? "diverged" : "ok", it->name, d);
        }
    }
    fflush(stderr);
    sweep_progress_tick(pg, 1);
}

void sweep_progress_tick(sweep_progress *pg, int force)
{
    if (!pg->tty)
        return;
    double t = mtb_clock_s();
    if (!force && t - pg->last_draw < 0.25)
        return;
    pg->last_draw = t;
    /* Work of this session: finished jobs whole (a failed one too: its work is over),
     * running ones in proportion to their units done. */
    double todo = pg->work_total - pg->work_before, now = 0.0;
    for (int i = 0; i < pg->plan->n; i++) {
        const sweep_item *it = &pg->plan->items[i];
        if (it->state == SWEEP_TODO && it->units > 0)
            now += it->cost * (double)(pg->live[i] < it->units ? pg->live[i] : it->units) /
                   (double)it->units;
        else if (it->state != SWEEP_TODO && !isnan(it->seconds))
            now += it->cost;
    }
    double frac = pg->work_total > 0 ? (pg->work_before + now) / pg->work_total : 1.0;
    double el = t - pg->t0;
    char e[32], eta[32];
    mtb_format_duration(el, e, sizeof e);
    if (now > 0 && now < todo && 100 * now >= todo) /* below 1 % the rate means little */
        mtb_format_duration(el * (todo - now) / now, eta, sizeof eta);
    else
        snprintf(eta, sizeof eta, now >= todo ? "0s" : "?");
    fprintf(stderr, "\r[sweep] %d/%d done, %d running, %d failed, %.0f%% of the work, %s "
                    "elapsed, ETA %s\033[K", pg->n_done, pg->plan->n, pg->n_running,
            pg->n_failed, 100.0 * frac, e, eta);
    fflush(stderr);
    pg->drawn = 1;
}

void sweep_progress_end(sweep_progress *pg)
{
    if (pg->drawn) {
        sweep_progress_tick(pg, 1);
        fputc('\n', stderr);
        fflush(stderr);
    }
    pg->drawn = 0;
    free(pg->live);
    pg->live = NULL;
}
