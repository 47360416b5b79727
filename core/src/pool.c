/* pool.c: independent jobs on forked worker processes (pool.h). */
#include "mtb/pool.h"

#include <cblas.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mtb/clock.h"

struct mtb_pool_slot {
    atomic_long units;          /* progress units done, written by the worker */
    int finished;               /* 1 once run has returned: the fields below hold */
    int status, flag;
    double seconds;
    char msg[MTB_ERRMSG_LEN];
};

void mtb_pool_units(mtb_pool_slot *slot, long units)
{
    atomic_store_explicit(&slot->units, units, memory_order_relaxed);
}

typedef struct worker {
    pid_t pid;                  /* 0: no process */
    int to;                     /* write end of its job pipe, -1 when none */
    int job;                    /* the job it runs, -1 when idle */
    double started;             /* when it was given that job */
} worker;

typedef struct pool {
    const mtb_pool_ops *ops;
    void *ctx;
    mtb_pool_slot *slots;
    worker *w;
    int nw;
    const int *order;
    int n_order, next;
    int *requeue, nrequeue;     /* jobs handed to a worker that had died meanwhile */
    int busy;
    int bad_exits;
    int *running;               /* scratch for tick */
    long *live;                 /* (n_jobs) */
    pid_t self;
} pool;

/* The self-pipe (signals) and the done pipe (workers write a job's index when it ends). */
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
    openblas_set_num_threads(1); /* one BLAS thread per job: results do not depend on N */
    void *ws = P->ops->worker_init ? P->ops->worker_init(P->ctx) : NULL;
    int32_t i;
    while (!read_full(from, &i, sizeof i) && i >= 0) {
        mtb_pool_slot *slot = &P->slots[i];
        int flag = 0;
        double t0 = mtb_clock_s();
        slot->msg[0] = 0;
        mtb_status st = P->ops->run(P->ctx, ws, i, slot, slot->msg, sizeof slot->msg, &flag);
        slot->seconds = mtb_clock_s() - t0;
        slot->status = (int)st;
        slot->flag = flag;
        if (st && !slot->msg[0])
            snprintf(slot->msg, sizeof slot->msg, "%s", mtb_strerror(st));
        slot->finished = 1;
        if (write(g_done[1], &i, sizeof i) != (ssize_t)sizeof i)
            break; /* the parent is gone */
    }
    if (P->ops->worker_fini)
        P->ops->worker_fini(P->ctx, ws);
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
    P->w[k] = (worker){pid, p[1], -1, 0.0};
    return 0;
}

static int take(pool *P)
{
    if (P->nrequeue)
        return P->requeue[--P->nrequeue];
    return P->next < P->n_order ? P->order[P->next++] : -1;
}

static int has_work(const pool *P) { return P->nrequeue || P->next < P->n_order; }

/* Records the end of the job of worker k, which ended it (ws = -1) or died with it (ws is
 * its wait status). */
static void finish(pool *P, int k, int ws)
{
    int i = P->w[k].job;
    mtb_pool_slot *slot = &P->slots[i];
    char msg[MTB_ERRMSG_LEN];
    mtb_status st;
    if (slot->finished) {
        st = (mtb_status)slot->status;
        snprintf(msg, sizeof msg, "%s", slot->msg);
    } else {
        st = MTB_EIO;
        if (ws != -1 && WIFSIGNALED(ws))
            snprintf(msg, sizeof msg, "its worker was killed by signal %d (%s)%s", WTERMSIG(ws),
                     strsignal(WTERMSIG(ws)), WCOREDUMP(ws) ? ", core dumped" : "");
        else
            snprintf(msg, sizeof msg, "its worker exited with status %d during the job",
                     ws != -1 ? WEXITSTATUS(ws) : -1);
    }
    P->w[k].job = -1;
    P->busy--;
    if (P->ops->finished)
        P->ops->finished(P->ctx, i, st, st ? 0 : slot->flag,
                         slot->finished ? slot->seconds : mtb_clock_s() - P->w[k].started, msg);
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
                snprintf(msg, sizeof msg, "cannot start a worker process: %s", strerror(errno));
                if (P->ops->started)
                    P->ops->started(P->ctx, i);
                if (P->ops->finished)
                    P->ops->finished(P->ctx, i, MTB_EIO, 0, 0.0, msg);
            }
            continue;
        }
        int32_t i = take(P);
        mtb_pool_slot *s = &P->slots[i];
        atomic_store(&s->units, 0);
        s->finished = 0;
        if (write(P->w[k].to, &i, sizeof i) != (ssize_t)sizeof i) {
            P->requeue[P->nrequeue++] = i; /* it died idle: SIGCHLD will tell */
            continue;
        }
        P->w[k].job = i;
        P->w[k].started = mtb_clock_s();
        P->busy++;
        if (P->ops->started)
            P->ops->started(P->ctx, i);
    }
}

static void reap_children(pool *P, int stopping)
{
    int ws;
    pid_t pid;
    while ((pid = waitpid(-1, &ws, WNOHANG)) > 0)
        for (int k = 0; k < P->nw; k++) {
            worker *w = &P->w[k];
            if (w->pid != pid)
                continue;
            w->pid = 0;
            close(w->to);
            w->to = -1;
            int i = w->job;
            int signalled = WIFSIGNALED(ws) && (WTERMSIG(ws) == SIGINT || WTERMSIG(ws) == SIGTERM ||
                                                WTERMSIG(ws) == SIGHUP);
            if (i >= 0 && !P->slots[i].finished && (stopping || signalled)) {
                /* stopped (by us, or by a Ctrl-C that reached the whole process group):
                 * not a failure of the job, which stays to be run */
                w->job = -1;
                P->busy--;
                if (P->ops->stopped)
                    P->ops->stopped(P->ctx, i, signalled ? WTERMSIG(ws) : SIGTERM);
            } else if (i >= 0) {
                finish(P, k, ws);
            } else if (!stopping && !(WIFEXITED(ws) && WEXITSTATUS(ws) == 0)) {
                P->bad_exits++;
            }
            break;
        }
}

static void tick(pool *P)
{
    if (!P->ops->tick)
        return;
    int n = 0;
    for (int k = 0; k < P->nw; k++)
        if (P->w[k].job >= 0) {
            int i = P->w[k].job;
            P->running[n++] = i;
            P->live[i] = atomic_load_explicit(&P->slots[i].units, memory_order_relaxed);
        }
    P->ops->tick(P->ctx, P->running, n, P->live);
}

int mtb_pool_run(int n_jobs, const int *order, int n_order, int workers, const mtb_pool_ops *ops,
                 void *ctx, int *worker_errors)
{
    if (worker_errors)
        *worker_errors = 0;
    if (n_order <= 0)
        return 0;
    pool P;
    memset(&P, 0, sizeof P);
    P.ops = ops;
    P.ctx = ctx;
    P.order = order;
    P.n_order = n_order;
    P.self = getpid();
    P.nw = workers < n_order ? workers : n_order;
    if (P.nw < 1)
        P.nw = 1;
    size_t bytes = (size_t)n_jobs * sizeof(mtb_pool_slot);
    P.slots = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    P.requeue = malloc((size_t)n_jobs * sizeof *P.requeue);
    P.live = calloc((size_t)n_jobs, sizeof *P.live);
    P.running = malloc((size_t)P.nw * sizeof *P.running);
    P.w = calloc((size_t)P.nw, sizeof *P.w);
    if (P.slots == MAP_FAILED || !P.requeue || !P.live || !P.running || !P.w || pipe(g_wake) ||
        pipe(g_done)) {
        fprintf(stderr, "cannot set up a pool of %d processes for %d jobs: %s\n", P.nw, n_jobs,
                strerror(errno));
        free(P.requeue), free(P.live), free(P.running), free(P.w);
        if (P.slots != MAP_FAILED)
            munmap(P.slots, bytes);
        return -1;
    }
    for (int k = 0; k < P.nw; k++)
        P.w[k] = (worker){0, -1, -1, 0.0};
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
                        for (int k = 0; k < P.nw; k++)
                            if (P.w[k].pid)
                                kill(P.w[k].pid, SIGTERM);
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
        tick(&P);
    }

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
    if (worker_errors)
        *worker_errors = P.bad_exits;
    for (int k = 0; k < N_HANDLED; k++)
        sigaction(HANDLED[k], &g_old[k], NULL);
    close(g_wake[0]), close(g_wake[1]), close(g_done[0]), close(g_done[1]);
    g_wake[0] = g_wake[1] = g_done[0] = g_done[1] = -1;
    munmap(P.slots, bytes);
    free(P.requeue), free(P.live), free(P.running), free(P.w);
    return stop_sig;
}
