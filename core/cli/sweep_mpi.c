/* sweep_mpi.c: `mpirun -np N mtb sweep ...`: the jobs spread over N ranks, on one machine
 * or many, with dynamic dispatch.
 *
 * Rank 0 plans (the same steps as a local sweep: lock, resume scan, plan.tsv), then hands
 * out jobs one at a time: a rank that finishes one gets the next, so ranks of different
 * speeds and jobs of different lengths keep everyone busy until the end. Rank 0 trains too:
 * it answers the others from inside the progress callback of the job it is running (every
 * few milliseconds, a negligible cost next to a training step) and between jobs, so with
 * -np 2 both ranks train.
 *
 * A worker rank runs its job into a scratch file of its own machine ($TMPDIR, else /tmp)
 * and sends the file's bytes to rank 0, which writes DIR/runs/... atomically after checking
 * the received file with mtb_job_verify: DIR need not be on a file system the other
 * machines see. Only --data (when given) must be readable at the same path on every rank.
 *
 * Waiting is done by probing and sleeping a millisecond, not in blocking MPI calls: Open
 * MPI's blocking calls spin a core, and on an oversubscribed machine that core is the one a
 * training rank needs.
 *
 * When a rank dies, mpirun ends the whole run. Every file written so far is complete (each
 * is renamed into place), so running the same command again resumes.
 *
 * MPI_Init is called only here, and only when the process was started by an MPI launcher
 * (sweep_mpi_launched), so a plain `mtb sweep` never touches MPI. */
#include "sweep.h"

#include <stdlib.h>
#include <string.h>

#include "mtb/clock.h"

/* Started by mpirun (Open MPI), or by a PMIx / PMI launcher (srun, hydra). */
int sweep_mpi_launched(void)
{
    return getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMIX_RANK") || getenv("PMI_RANK");
}

/* The rank as the launcher tells it, before (or without) MPI_Init; 0 when not launched. */
int sweep_launcher_rank(void)
{
    const char *r = getenv("OMPI_COMM_WORLD_RANK");
    if (!r)
        r = getenv("PMIX_RANK");
    if (!r)
        r = getenv("PMI_RANK");
    return r ? atoi(r) : 0;
}

#ifndef MTB_HAVE_MPI

int sweep_mpi_main(const sweep_args *a)
{
    (void)a;
    fprintf(stderr, "mtb sweep: error: started by an MPI launcher, but this mtb was built "
                    "without MPI (install libopenmpi-dev and rebuild: make)\n");
    return 1;
}

#else

#include <cblas.h>
#include <errno.h>
#include <math.h>
#include <mpi.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

enum {
    TAG_RESULT = 1,   /* worker -> 0: msg_result (index -1: "ready for a first job") */
    TAG_FILE = 2,     /* worker -> 0: the run file's bytes, in chunks, after a result */
    TAG_PROGRESS = 3, /* worker -> 0: msg_progress */
    TAG_JOB = 4,      /* 0 -> worker: msg_job */
    TAG_STOP = 5      /* 0 -> worker: no more jobs */
};

/* The ranks run one binary on one architecture (the same build on every machine), so the
 * messages are the structs' bytes. */
typedef struct msg_job {
    int32_t index, resumed;
    mtb_job job;
} msg_job;

typedef struct msg_result {
    int32_t index, status, diverged, pad;
    double seconds;
    int64_t bytes;                /* size of the run file that follows, 0 if none */
    char msg[MTB_ERRMSG_LEN];
    char host[64];                /* where it ran, for the failure record */
} msg_result;

typedef struct msg_progress {
    int32_t index, pad;
    int64_t units;
} msg_progress;

#define CHUNK (4 << 20)

static void nap(void)
{
    struct timespec ts = {0, 1000000L};
    nanosleep(&ts, NULL);
}

/* MPI_Wait without spinning a core. */
static void wait_gently(MPI_Request *rq)
{
    int done = 0;
    MPI_Test(rq, &done, MPI_STATUS_IGNORE);
    while (!done) {
        nap();
        MPI_Test(rq, &done, MPI_STATUS_IGNORE);
    }
}

static void send_gently(const void *buf, int count, int dest, int tag)
{
    MPI_Request rq;
    MPI_Isend(buf, count, MPI_BYTE, dest, tag, MPI_COMM_WORLD, &rq);
    wait_gently(&rq);
}

/* ---- rank 0 -------------------------------------------------------------------------- */

typedef struct master {
    sweep_plan *plan;
    sweep_progress pg;
    int *order, ntodo, next;
    int *current;        /* per rank: the job it runs, -1 none */
    int active;          /* worker ranks not yet sent TAG_STOP */
    double last_service;
} master;

static void dispatch(master *m, int rank)
{
    if (m->next < m->ntodo) {
        msg_job j;
        memset(&j, 0, sizeof j);
        j.index = m->order[m->next++];
        j.resumed = m->plan->resumed;
        j.job = m->plan->items[j.index].job;
        m->current[rank] = j.index;
        sweep_progress_started(&m->pg, j.index);
        send_gently(&j, (int)sizeof j, rank, TAG_JOB);
    } else {
        send_gently(NULL, 0, rank, TAG_STOP);
        m->active--;
    }
}

/* Receives the run file a worker sends after its result, into a temporary beside the
 * job's path, checks it and renames it into place. The chunks are always all received,
 * even after a write error, so that the message stream stays in step. */
static mtb_status receive_file(int src, const sweep_item *it, int64_t bytes, mtb_error *err)
{
    static char buf[CHUNK]; /* rank 0 receives one file at a time */
    char tmp[SWEEP_PATH_LEN + 16];
    snprintf(tmp, sizeof tmp, "%s.recv.tmp", it->path);
    FILE *f = fopen(tmp, "wb");
    mtb_status st = f ? MTB_OK : mtb_fail(err, MTB_EIO, "cannot create %.400s: %s", tmp, strerror(errno));
    for (int64_t got = 0; got < bytes;) {
        int n = (int)(bytes - got < CHUNK ? bytes - got : CHUNK);
        MPI_Request rq;
        MPI_Irecv(buf, n, MPI_BYTE, src, TAG_FILE, MPI_COMM_WORLD, &rq);
        wait_gently(&rq);
        if (!st && fwrite(buf, 1, (size_t)n, f) != (size_t)n)
            st = mtb_fail(err, MTB_EIO, "cannot write %.400s: %s", tmp, strerror(errno));
        got += n;
    }
    if (f && fclose(f) && !st)
        st = mtb_fail(err, MTB_EIO, "cannot write %.400s: %s", tmp, strerror(errno));
    if (!st && mtb_job_verify(&it->job, tmp, err)) {
        mtb_error_prefix(err, "the run file received from rank %d is not complete: ", src);
        st = MTB_EIO;
    }
    if (!st && rename(tmp, it->path))
        st = mtb_fail(err, MTB_EIO, "cannot rename %.200s to %.200s: %s", tmp, it->path, strerror(errno));
    if (st)
        unlink(tmp);
    return st;
}

static void handle(master *m, const MPI_Status *probe)
{
    int src = probe->MPI_SOURCE;
    if (probe->MPI_TAG == TAG_PROGRESS) {
        msg_progress p;
        MPI_Recv(&p, (int)sizeof p, MPI_BYTE, src, TAG_PROGRESS, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        if (p.index >= 0 && p.index < m->plan->n && m->current[src] == p.index)
            m->pg.live[p.index] = (long)p.units;
        return;
    }
    if (probe->MPI_TAG != TAG_RESULT) { /* cannot happen: drain it so the loop goes on */
        int count;
        MPI_Get_count(probe, MPI_BYTE, &count);
        char *junk = malloc(count > 0 ? (size_t)count : 1);
        MPI_Recv(junk, count, MPI_BYTE, src, probe->MPI_TAG, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        free(junk);
        return;
    }
    msg_result r;
    MPI_Recv(&r, (int)sizeof r, MPI_BYTE, src, TAG_RESULT, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    if (r.index >= 0) {
        int i = m->current[src];
        mtb_error err = {0};
        mtb_status st = (mtb_status)r.status;
        char msg[MTB_ERRMSG_LEN];
        snprintf(msg, sizeof msg, "%s", r.msg);
        if (i != r.index) { /* a protocol slip: the job stays to be run */
            fprintf(stderr, "[sweep] rank %d reported job %d, it was given job %d\n", src,
                    r.index, i);
        }
        if (r.bytes > 0) {
            mtb_status rs = receive_file(src, &m->plan->items[r.index], r.bytes, &err);
            if (rs && !st) {
                st = rs;
                snprintf(msg, sizeof msg, "%s", err.msg);
            }
        } else if (!st) {
            st = MTB_EIO;
            snprintf(msg, sizeof msg, "rank %d reported success but sent no run file", src);
        }
        if (i == r.index && i >= 0) {
            r.host[sizeof r.host - 1] = '\0';
            snprintf(m->plan->items[i].where, sizeof m->plan->items[i].where, "rank %d on %s",
                     src, r.host);
            sweep_plan_record(m->plan, i, st, r.diverged, r.seconds, st ? msg : "");
            sweep_progress_finished(&m->pg, i);
        }
        m->current[src] = -1;
    }
    dispatch(m, src);
}

/* Answers every message waiting; rate-limited when called from a training step. */
static void service(master *m, int from_step)
{
    double t = mtb_clock_s();
    if (from_step && t - m->last_service < 0.005)
        return;
    m->last_service = t;
    for (;;) {
        int flag = 0;
        MPI_Status st;
        MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &flag, &st);
        if (!flag)
            break;
        handle(m, &st);
    }
    sweep_progress_tick(&m->pg, 0);
}

typedef struct own_ctx {
    master *m;
    int index;
} own_ctx;

static void own_step(void *ctx, long step, long steps, const mtb_run_log *log)
{
    (void)steps, (void)log;
    own_ctx *c = ctx;
    c->m->pg.live[c->index] = step;
    service(c->m, 1);
}

static void run_master(sweep_plan *plan, int size)
{
    master m;
    memset(&m, 0, sizeof m);
    m.plan = plan;
    m.order = malloc((size_t)plan->n * sizeof *m.order);
    m.current = malloc((size_t)size * sizeof *m.current);
    if (!m.order || !m.current || sweep_progress_begin(&m.pg, plan, size, "MPI rank")) {
        /* Nothing can run; still stop every worker so that all ranks reach MPI_Finalize. */
        fprintf(stderr, "[sweep] out of memory\n");
        for (int r = 1; r < size; r++)
            send_gently(NULL, 0, r, TAG_STOP);
        free(m.order), free(m.current);
        return;
    }
    m.ntodo = sweep_plan_order(plan, m.order);
    for (int r = 0; r < size; r++)
        m.current[r] = -1;
    m.active = size - 1;
    mtb_job_cache *cache = mtb_job_cache_new();
    while (m.next < m.ntodo || m.active > 0) {
        service(&m, 0);
        if (m.next < m.ntodo && cache) {
            int i = m.order[m.next++];
            m.current[0] = i;
            sweep_progress_started(&m.pg, i);
            own_ctx c = {&m, i};
            mtb_error err = {0};
            int diverged = 0;
            double t0 = mtb_clock_s();
            mtb_status st = mtb_job_run(cache, &plan->items[i].job,
                                        plan->data[0] ? plan->data : NULL, 1, plan->resumed,
                                        plan->items[i].path, own_step, &c, &diverged, &err);
            char host[64] = "";
            gethostname(host, sizeof host - 1);
            snprintf(plan->items[i].where, sizeof plan->items[i].where, "rank 0 on %s", host);
            sweep_plan_record(plan, i, st, diverged, mtb_clock_s() - t0,
                              st ? (err.msg[0] ? err.msg : mtb_strerror(st)) : "");
            sweep_progress_finished(&m.pg, i);
            m.current[0] = -1;
        } else {
            nap();
        }
    }
    mtb_job_cache_free(cache);
    sweep_progress_end(&m.pg);
    free(m.order), free(m.current);
}

/* ---- worker ranks -------------------------------------------------------------------- */

typedef struct worker_ctx {
    int index;
    double last;
} worker_ctx;

static void worker_step(void *ctx, long step, long steps, const mtb_run_log *log)
{
    (void)steps, (void)log;
    worker_ctx *c = ctx;
    double t = mtb_clock_s();
    if (t - c->last < 0.25)
        return;
    c->last = t;
    msg_progress p = {c->index, 0, step};
    /* small enough for Open MPI's eager path: returns at once */
    MPI_Send(&p, (int)sizeof p, MPI_BYTE, 0, TAG_PROGRESS, MPI_COMM_WORLD);
}

/* Sends the result and, on success, the run file in chunks. */
static void send_result(msg_result *r, const char *path)
{
    static char buf[CHUNK];
    FILE *f = NULL;
    if (!r->status) {
        f = fopen(path, "rb");
        if (f && !fseek(f, 0, SEEK_END)) {
            long sz = ftell(f);
            r->bytes = sz > 0 ? sz : 0;
            rewind(f);
        }
        if (!f || r->bytes <= 0) {
            r->status = MTB_EIO;
            r->bytes = 0;
            snprintf(r->msg, sizeof r->msg, "cannot read the scratch run file %.400s: %s", path,
                     strerror(errno));
        }
    }
    send_gently(r, (int)sizeof *r, 0, TAG_RESULT);
    for (int64_t sent = 0; sent < r->bytes;) {
        size_t want = (size_t)(r->bytes - sent < CHUNK ? r->bytes - sent : CHUNK);
        size_t got = fread(buf, 1, want, f);
        if (got < want) /* the file shrank: rank 0 still expects `bytes`, and verifies them */
            memset(buf + got, 0, want - got);
        send_gently(buf, (int)want, 0, TAG_FILE);
        sent += (int64_t)want;
    }
    if (f)
        fclose(f);
}

static void run_worker(const sweep_args *a, int rank)
{
    const char *tmpdir = getenv("TMPDIR");
    if (!tmpdir || !tmpdir[0])
        tmpdir = "/tmp";
    mtb_job_cache *cache = mtb_job_cache_new();
    msg_result r;
    memset(&r, 0, sizeof r);
    r.index = -1; /* ready */
    send_gently(&r, (int)sizeof r, 0, TAG_RESULT);
    for (;;) {
        int flag = 0;
        MPI_Status ps;
        for (MPI_Iprobe(0, MPI_ANY_TAG, MPI_COMM_WORLD, &flag, &ps); !flag;
             MPI_Iprobe(0, MPI_ANY_TAG, MPI_COMM_WORLD, &flag, &ps))
            nap();
        if (ps.MPI_TAG != TAG_JOB) {
            MPI_Recv(NULL, 0, MPI_BYTE, 0, ps.MPI_TAG, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
            break;
        }
        msg_job j;
        MPI_Recv(&j, (int)sizeof j, MPI_BYTE, 0, TAG_JOB, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        char scratch[SWEEP_PATH_LEN];
        snprintf(scratch, sizeof scratch, "%s/mtb-sweep-r%d-p%ld-j%d.h5", tmpdir, rank,
                 (long)getpid(), j.index);
        memset(&r, 0, sizeof r);
        r.index = j.index;
        mtb_error err = {0};
        int diverged = 0;
        worker_ctx c = {j.index, mtb_clock_s()};
        double t0 = mtb_clock_s();
        mtb_status st = cache ? mtb_job_run(cache, &j.job, a->data, 1, j.resumed, scratch,
                                            worker_step, &c, &diverged, &err)
                              : mtb_fail(&err, MTB_ENOMEM, "out of memory for the job cache");
        r.seconds = mtb_clock_s() - t0;
        gethostname(r.host, sizeof r.host - 1);
        r.status = (int32_t)st;
        r.diverged = diverged;
        if (st)
            snprintf(r.msg, sizeof r.msg, "%s", err.msg[0] ? err.msg : mtb_strerror(st));
        send_result(&r, scratch);
        unlink(scratch);
    }
    mtb_job_cache_free(cache);
}

int sweep_mpi_main(const sweep_args *a)
{
    if (MPI_Init(NULL, NULL) != MPI_SUCCESS) {
        fprintf(stderr, "mtb sweep: error: MPI_Init failed\n");
        return 1;
    }
    int rank = 0, size = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    openblas_set_num_threads(1); /* one BLAS thread per rank: results do not depend on -np */
    sweep_plan plan;
    memset(&plan, 0, sizeof plan);
    plan.lock_fd = -1;
    int code = 0;
    double t0 = mtb_clock_s();
    if (rank == 0) {
        if (a->jobs > 1)
            fprintf(stderr, "[sweep] note: --jobs is ignored under MPI: every rank runs one "
                            "job at a time\n");
        code = sweep_prepare(a, &plan);
    }
    MPI_Bcast(&code, 1, MPI_INT, 0, MPI_COMM_WORLD);
    if (!code) {
        if (rank == 0)
            run_master(&plan, size);
        else
            run_worker(a, rank);
    }
    MPI_Finalize();
    if (rank == 0 && !code)
        code = sweep_finish(&plan, mtb_clock_s() - t0, size, 0);
    sweep_plan_free(&plan);
    return code;
}

#endif
