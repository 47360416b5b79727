/* sweep_pool.c: the local pool of `mtb sweep --jobs N`: N worker processes, one BLAS
 * thread each, that take the jobs one at a time, longest first.
 *
 * Processes, not threads: a job that crashes takes only its worker down; the job is
 * reported as failed with the signal, and a new worker takes the place of the old one.
 * Long-lived workers, not a fork per job: each keeps a job cache (job.h), so a worker builds
 * the data set of a problem once instead of once per job (at the smoke scale, generating
 * the MTR data costs about a quarter of a job). A worker is then what an MPI rank is, and
 * the two schedules run the same code path.
 *
 * Channels:
 *   parent -> worker  the worker's own pipe, carrying job indices (int32); closed to stop it;
 *   worker -> parent  one shared pipe carrying the index of every job that ended (writes of
 *                     4 bytes are atomic), and one shared-memory slot per job: the units done
 *                     (an atomic, stored after every training step, read for the progress
 *                     line) and the outcome of mtb_job_run;
 *   signals           SIGCHLD, SIGINT, SIGTERM and SIGHUP are written by their handler to a
 *                     self-pipe. Not sigtimedwait: OpenBLAS starts its threads when it is
 *                     loaded, before main could block the signals in them.
 * The parent polls the pipes, so it wakes at once when a job ends (no polling delay is added
 * to any job) and four times a second otherwise, to redraw the progress line. On SIGINT,
 * SIGTERM or SIGHUP it stops the workers and returns, so that the table of what is finished
 * is still written. Workers die with the parent (PR_SET_PDEATHSIG): a killed sweep leaves
 * no job running behind it. */
#include "sweep.h"

#include <cblas.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

typedef struct pool_slot {
    atomic_long units;          /* progress units done, written by the worker */
    int finished;               /* 1 once mtb_job_run has returned: the fields below hold */
    int status, diverged;
    double seconds;
    char msg[MTB_ERRMSG_LEN];
} pool_slot;

typedef struct pool_worker {
    pid_t pid;                  /* 0: no process */
    int to;                     /* write end of its job pipe, -1 when none */
    int job;                    /* the job it runs, -1 when idle */
    double started;             /* when it was given that job */
} pool_worker;

typedef struct pool {
    sweep_plan *plan;
    sweep_progress pg;
    pool_slot *slots;
    pool_worker *w;
    int nw;
    int *order, ntodo, next;    /* the TODO jobs, most units first */
    int *requeue, nrequeue;     /* jobs handed to a worker that had died meanwhile */
    int busy;
    int bad_exits;              /* workers that ended with a non-zero status between jobs */
    pid_t self;
} pool;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int g_wake[2] = {-1, -1}, g_done[2] = {-1, -1};

/* Only write(2) here: it is async-signal-safe; everything else happens in the loop. */
static void on_signal(int sig)
{
    int e = errno;
    unsigned char b = (unsigned char)sig;
    if (write(g_wake[1], &b, 1) < 0) {
        /* the pipe is full: the loop wakes anyway */
    }
    errno = e;
}

static const int HANDLED[] = {SIGCHLD, SIGINT, SIGTERM, SIGHUP, SIGPIPE};
#define N_HANDLED (int)(sizeof HANDLED / sizeof HANDLED[0])
static struct sigaction g_old[N_HANDLED];

static void on_step(void *ctx, long step, long steps, const mtb_run_log *log)
{
    (void)steps, (void)log;
    atomic_store_explicit(&((pool_slot *)ctx)->units, step, memory_order_relaxed);
}

static int read_full(int fd, void *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, (char *)buf + got, n - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        got += (size_t)r;
    }
    return 0;
}

/* ---- the worker ---------------------------------------------------------------------- */

static void worker_main(pool *P, int from)
{
    for (int k = 0; k < N_HANDLED; k++)
        sigaction(HANDLED[k], &g_old[k], NULL);
    close(g_wake[0]);
    close(g_wake[1]);
    close(g_done[0]);
    for (int k = 0; k < P->nw; k++) /* the other workers' pipes: they must see EOF */
        if (P->w[k].to >= 0)
            close(P->w[k].to);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != P->self) /* the parent died before the line above took effect */
        _exit(1);
    openblas_set_num_threads(1); /* one BLAS thread per job: results do not depend on --jobs */
    const sweep_plan *plan = P->plan;
    mtb_job_cache *cache = mtb_job_cache_new();
    int32_t i;
    while (!read_full(from, &i, sizeof i) && i >= 0 && i < plan->n) {
        pool_slot *slot = &P->slots[i];
        mtb_error err = {0};
        int diverged = 0;
        double t0 = now_s();
        mtb_status st = cache ? mtb_job_run(cache, &plan->items[i].job,
                                            plan->data[0] ? plan->data : NULL, 1, plan->resumed,
                                            plan->items[i].path, on_step, slot, &diverged, &err)
                              : mtb_fail(&err, MTB_ENOMEM, "out of memory for the job cache");
        slot->seconds = now_s() - t0;
        slot->status = (int)st;
        slot->diverged = diverged;
        snprintf(slot->msg, sizeof slot->msg, "%s",
                 st ? (err.msg[0] ? err.msg : mtb_strerror(st)) : "");
        slot->finished = 1;
        if (write(g_done[1], &i, sizeof i) != (ssize_t)sizeof i)
            break; /* the parent is gone */
    }
    mtb_job_cache_free(cache);
    exit(0);
}

/* ---- the parent ---------------------------------------------------------------------- */

static int spawn(pool *P, int k)
{
    int p[2];
    if (pipe(p))
        return -1;
    fflush(NULL); /* a worker must not write the parent's buffered output again */
    pid_t pid = fork();
    if (pid < 0) {
        close(p[0]);
        close(p[1]);
        return -1;
    }
    if (pid == 0) {
        close(p[1]);
        worker_main(P, p[0]);
    }
    close(p[0]);
    P->w[k] = (pool_worker){pid, p[1], -1, 0.0};
    return 0;
}

static int take(pool *P)
{
    if (P->nrequeue)
        return P->requeue[--P->nrequeue];
    return P->next < P->ntodo ? P->order[P->next++] : -1;
}

static int has_work(const pool *P) { return P->nrequeue || P->next < P->ntodo; }

/* Records the outcome of job i, whose worker ended it (or ended with it: wait status ws,
 * -1 when the worker is still alive). */
static void finish(pool *P, int k, int ws)
{
    int i = P->w[k].job;
    pool_slot *slot = &P->slots[i];
    char msg[MTB_ERRMSG_LEN];
    mtb_status st;
    if (slot->finished) {
        st = (mtb_status)slot->status;
        snprintf(msg, sizeof msg, "%s", slot->msg);
    } else {
        st = MTB_EIO;
        if (WIFSIGNALED(ws))
            snprintf(msg, sizeof msg, "its worker was killed by signal %d (%s)%s", WTERMSIG(ws),
                     strsignal(WTERMSIG(ws)), WCOREDUMP(ws) ? ", core dumped" : "");
        else
            snprintf(msg, sizeof msg, "its worker exited with status %d during the job",
                     WEXITSTATUS(ws));
    }
    sweep_plan_record(P->plan, i, st, st ? 0 : slot->diverged,
                      slot->finished ? slot->seconds : now_s() - P->w[k].started, msg);
    sweep_progress_finished(&P->pg, i);
    P->w[k].job = -1;
    P->busy--;
}

/* Gives idle workers a job each, starting workers where none is. */
static void assign(pool *P)
{
    for (int k = 0; k < P->nw && has_work(P); k++) {
        if (P->w[k].job >= 0)
            continue;
        if (!P->w[k].pid && spawn(P, k)) {
            int alive = 0;
            for (int q = 0; q < P->nw; q++)
                alive += P->w[q].pid != 0;
            if (!alive) { /* no process at all: the job cannot run */
                int i = take(P);
                char msg[128];
                snprintf(msg, sizeof msg, "cannot start a worker: %s", strerror(errno));
                sweep_plan_record(P->plan, i, MTB_EIO, 0, 0.0, msg);
                sweep_progress_started(&P->pg, i);
                sweep_progress_finished(&P->pg, i);
            }
            continue;
        }
        int32_t i = take(P);
        pool_slot *s = &P->slots[i];
        atomic_store(&s->units, 0);
        s->finished = 0;
        if (write(P->w[k].to, &i, sizeof i) != (ssize_t)sizeof i) {
            P->requeue[P->nrequeue++] = i; /* it died idle: SIGCHLD will tell */
            continue;
        }
        P->w[k].job = i;
        P->w[k].started = now_s();
        P->busy++;
        sweep_progress_started(&P->pg, i);
    }
}

static void stop_all(pool *P, int sig)
{
    if (P->pg.drawn)
        fputc('\n', stderr);
    P->pg.drawn = 0;
    fprintf(stderr, "[sweep] %s: stopping %d running job%s (the same command resumes)\n",
            strsignal(sig), P->busy, P->busy == 1 ? "" : "s");
    for (int k = 0; k < P->nw; k++)
        if (P->w[k].pid)
            kill(P->w[k].pid, SIGTERM);
}

static void reap_children(pool *P, int stopping)
{
    int ws;
    pid_t pid;
    while ((pid = waitpid(-1, &ws, WNOHANG)) > 0)
        for (int k = 0; k < P->nw; k++) {
            pool_worker *w = &P->w[k];
            if (w->pid != pid)
                continue;
            w->pid = 0;
            close(w->to);
            w->to = -1;
            int i = w->job;
            /* ended by an interrupt: the signal itself, or 128 + it from a handler that
             * cleans up and exits (the shell's convention) */
            int code = WIFSIGNALED(ws) ? WTERMSIG(ws)
                     : WIFEXITED(ws) && WEXITSTATUS(ws) > 128 ? WEXITSTATUS(ws) - 128 : 0;
            int signalled = code == SIGINT || code == SIGTERM || code == SIGHUP;
            if (i >= 0 && !P->slots[i].finished && (stopping || signalled)) {
                /* Stopped (by us, or by a Ctrl-C that reached the whole process group):
                 * not a failure of the job, which stays to be run. */
                w->job = -1;
                P->busy--;
                P->pg.n_running--;
                if (!stopping) {
                    if (P->pg.drawn)
                        fputc('\n', stderr);
                    P->pg.drawn = 0;
                    fprintf(stderr, "[sweep] %s: stopped by %s before it ended; it stays to be "
                                    "run\n", P->plan->items[i].name, strsignal(code));
                }
            } else if (i >= 0) {
                finish(P, k, ws);
            } else if (!stopping && !(WIFEXITED(ws) && WEXITSTATUS(ws) == 0)) {
                P->bad_exits++;
            }
            break;
        }
}

int sweep_pool_run(sweep_plan *plan, int jobs, int *worker_errors)
{
    pool P;
    memset(&P, 0, sizeof P);
    P.plan = plan;
    P.self = getpid();
    size_t bytes = (size_t)plan->n * sizeof(pool_slot);
    P.slots = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    P.order = malloc((size_t)plan->n * sizeof *P.order);
    P.requeue = malloc((size_t)plan->n * sizeof *P.requeue);
    if (P.slots == MAP_FAILED || !P.order || !P.requeue) {
        fprintf(stderr, "[sweep] out of memory for %d jobs\n", plan->n);
        free(P.order), free(P.requeue);
        if (P.slots != MAP_FAILED)
            munmap(P.slots, bytes);
        return SIGABRT;
    }
    P.ntodo = sweep_plan_order(plan, P.order);
    P.nw = jobs < P.ntodo ? jobs : P.ntodo;
    P.w = calloc((size_t)(P.nw > 0 ? P.nw : 1), sizeof *P.w);
    if (!P.w || pipe(g_wake) || pipe(g_done)) {
        fprintf(stderr, "[sweep] cannot set up the pool: %s\n", strerror(errno));
        free(P.order), free(P.requeue), free(P.w);
        munmap(P.slots, bytes);
        return SIGABRT;
    }
    for (int k = 0; k < P.nw; k++)
        P.w[k] = (pool_worker){0, -1, -1, 0.0};
    fcntl(g_wake[0], F_SETFL, O_NONBLOCK);
    fcntl(g_wake[1], F_SETFL, O_NONBLOCK);
    fcntl(g_done[0], F_SETFL, O_NONBLOCK);
    for (int k = 0; k < N_HANDLED; k++) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        /* SIGPIPE: a write to a dead worker's pipe fails with EPIPE instead of killing us */
        sa.sa_handler = HANDLED[k] == SIGPIPE ? SIG_IGN : on_signal;
        sa.sa_flags = SA_RESTART | (HANDLED[k] == SIGCHLD ? SA_NOCLDSTOP : 0);
        sigemptyset(&sa.sa_mask);
        sigaction(HANDLED[k], &sa, &g_old[k]);
    }
    if (sweep_progress_begin(&P.pg, plan, jobs, "process")) {
        fprintf(stderr, "[sweep] out of memory\n");
        P.ntodo = 0;
    }

    int stop_sig = 0;
    while ((has_work(&P) && !stop_sig) || P.busy > 0) {
        if (!stop_sig)
            assign(&P);
        struct pollfd pfd[2] = {{g_wake[0], POLLIN, 0}, {g_done[0], POLLIN, 0}};
        if (poll(pfd, 2, 250) > 0) {
            unsigned char b[64];
            ssize_t got;
            while ((got = read(g_wake[0], b, sizeof b)) > 0)
                for (ssize_t q = 0; q < got; q++)
                    if ((b[q] == SIGINT || b[q] == SIGTERM || b[q] == SIGHUP) && !stop_sig) {
                        stop_sig = b[q];
                        stop_all(&P, stop_sig);
                    }
            int32_t idx[64];
            while ((got = read(g_done[0], idx, sizeof idx)) > 0)
                for (ssize_t q = 0; q < got / (ssize_t)sizeof *idx; q++)
                    for (int k = 0; k < P.nw; k++)
                        if (P.w[k].job == idx[q]) {
                            finish(&P, k, -1);
                            break;
                        }
        }
        reap_children(&P, stop_sig != 0);
        for (int k = 0; k < P.nw; k++)
            if (P.w[k].job >= 0)
                P.pg.live[P.w[k].job] =
                    atomic_load_explicit(&P.slots[P.w[k].job].units, memory_order_relaxed);
        sweep_progress_tick(&P.pg, 0);
    }
    sweep_progress_end(&P.pg);

    /* Idle workers exit when their pipe closes; wait for them so that none outlives us. */
    for (int k = 0; k < P.nw; k++)
        if (P.w[k].to >= 0)
            close(P.w[k].to);
    for (int k = 0; k < P.nw; k++)
        if (P.w[k].pid) {
            int ws;
            while (waitpid(P.w[k].pid, &ws, 0) < 0 && errno == EINTR)
                ;
            if (!stop_sig && !(WIFEXITED(ws) && WEXITSTATUS(ws) == 0))
                P.bad_exits++;
        }
    if (P.bad_exits)
        fprintf(stderr, "[sweep] %d worker%s ended with a non-zero status after %s jobs (a "
                        "sanitizer report above?)\n", P.bad_exits, P.bad_exits == 1 ? "" : "s",
                P.bad_exits == 1 ? "its" : "their");
    if (worker_errors)
        *worker_errors = P.bad_exits;
    for (int k = 0; k < N_HANDLED; k++)
        sigaction(HANDLED[k], &g_old[k], NULL);
    close(g_wake[0]), close(g_wake[1]), close(g_done[0]), close(g_done[1]);
    g_wake[0] = g_wake[1] = g_done[0] = g_done[1] = -1;
    munmap(P.slots, bytes);
    free(P.order), free(P.requeue), free(P.w);
    return stop_sig;
}
