/* main.c: repro-slaw, the SLAW paper reproduction driver (see slaw.h for the pipeline).
 * This file: the two scales, the Table-1 method list with the paper's numbers, and the
 * `runs` subcommand: a fork-based pool that runs every independent job (Table 1 training
 * runs, Appendix-B runs, Theorem-1 checks) on --jobs processes, one BLAS thread each, with
 * a progress line fed through shared memory. */
#include "slaw.h"

#include <cblas.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mtb/h5.h"
#include "mtb/run.h"

/* ---- scales ------------------------------------------------------------------------ */

int scale_get(const char *name, scale *s)
{
    memset(s, 0, sizeof *s);
    if (!strcmp(name, "paper")) {
        /* spec sec. 2 (Table 1: 10 seeds x 9 900 steps, eval every 33), sec. 5.2 (Figure 1:
         * first 2 000 steps), sec. 5.3 (Appendix B: 120 runs, stop in 100..999), sec. 5.4
         * (Figure 2: T = 32..128; the batch is reduced from 40 000, see README). */
        *s = (scale){"paper", 10, 9900, 33, 2000, 120, 100, 999, 60, 400,
                     4, {32, 64, 96, 128}, 512, 1, 2, 2};
    } else if (!strcmp(name, "smoke")) {
        /* the same pipeline in well under a minute on 2 cores */
        *s = (scale){"smoke", 2, 120, 33, 120, 4, 40, 99, 8, 60, 2, {4, 8}, 64, 1, 2, 1};
    } else {
        return -1;
    }
    return 0;
}

/* ---- Table 1 methods (spec sec. 4 and 5.1) ----------------------------------------- */

const method_def METHODS[N_METHODS] = {
    {"constant", "Constant (EW)", "ew", "", 1, 13.036, 0.032, 13.635, 0.035},
    {"ideal", "IdealConstant (oracle)", "ideal", "", 1, 11.744, 0.033, 12.274, 0.035},
    {"uw", "Uncertainty (UW)", "uw", "", 1, NAN, NAN, NAN, NAN},
    {"gradnorm", "GradNorm", "gradnorm", "variant=slaw,alpha=0.12,lr=0.025,layer=last", 1,
     11.955, 0.039, 12.509, 0.041},
    {"dwa", "DWA", "dwa", "variant=ema,temp=2,ema=0.9", 1, 13.036, 0.032, 13.635, 0.035},
    {"pcgrad", "PCGrad", "pcgrad", "order=random,eps=0", 0, 12.986, 0.037, 13.581, 0.042},
    {"slaw", "SLAW", "slaw", "beta=0.99,floor=1e-5,init=warmup", 1, 11.762, 0.034, 12.294, 0.046},
};

/* ---- helpers ----------------------------------------------------------------------- */

const mtb_problem *slaw_problem(void)
{
    static mtb_problem p;
    static int have;
    if (!have) {
        mtb_error err = {0};
        if (mtb_problem_lookup("mtr", "paper", &p, &err))
            die("%s", err.msg);
        have = 1;
    }
    return &p;
}

void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("repro-slaw: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int ensure_dir(const char *path)
{
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++)
        if (*p == '/') {
            *p = 0;
            if (mkdir(buf, 0777) && errno != EEXIST)
                return -1;
            *p = '/';
        }
    if (mkdir(buf, 0777) && errno != EEXIST)
        return -1;
    return 0;
}

FILE *atomic_open(const char *path, char *tmp, size_t tmplen)
{
    snprintf(tmp, tmplen, "%s.tmp", path);
    return fopen(tmp, "w");
}

int atomic_commit(FILE *f, const char *tmp, const char *path)
{
    int bad = ferror(f);
    if (fclose(f) || bad) {
        remove(tmp);
        return -1;
    }
    return rename(tmp, path);
}

/* ---- jobs ---------------------------------------------------------------------------- */

enum { JOB_TABLE1, JOB_APPB, JOB_THM };

typedef struct job {
    int kind, a, seed; /* a: method index, Appendix-B variant or Theorem-1 function */
    char path[1024];
    long total;        /* progress units (steps) */
    double cost;       /* relative cost, for ordering and the ETA */
} job;

/* Relative cost per step of each Table-1 method (per-task gradients cost extra passes). */
static double method_cost(const char *m)
{
    return !strcmp(m, "pcgrad") ? 3.0 : !strcmp(m, "gradnorm") ? 1.3 : 1.0;
}

static const mtb_dataset *g_ds;
static const char *g_data_path;

typedef struct progress_ctx {
    volatile long *slot;
    long last;
} progress_ctx;

static void on_step(void *vctx, long step, long steps, const mtb_run_log *log)
{
    (void)steps, (void)log;
    progress_ctx *c = vctx;
    c->last = step;
    *c->slot = step;
}

static int run_table1(const job *j, const scale *sc, volatile long *slot)
{
    const method_def *md = &METHODS[j->a];
    /* spec sec. 2: tanh 4x100, Adam 7e-4, eps 1e-5, clip 0.5, batch 304 */
    static mtb_problem prob;
    prob = *slaw_problem();
    prob.proto.steps = sc->steps;
    prob.proto.eval_every = sc->eval_every;
    mtb_run_config cfg = {&prob, "", "", (uint64_t)j->seed, 0, 1};
    snprintf(cfg.method, sizeof cfg.method, "%s", md->method);
    snprintf(cfg.options, sizeof cfg.options, "%s", md->options);
    mtb_provenance prov;
    mtb_provenance_collect(&prov, 1);
    mtb_run_log log;
    mtb_error err = {0};
    progress_ctx pc = {slot, 0};
    mtb_status st = mtb_run_train(&cfg, g_ds, &log, on_step, &pc, &err);
    if (st == MTB_ENUMERIC) {
        *slot = j->total;
        char msg[MTB_ERRMSG_LEN];
        snprintf(msg, sizeof msg, "%s", err.msg);
        if (mtb_run_save_diverged(j->path, &cfg, pc.last, msg, &prov, &err))
            die("cannot write %s: %s", j->path, err.msg);
        return 0;
    }
    if (st)
        die("%s seed %d: %s", md->key, j->seed, err.msg);
    if (mtb_run_save(j->path, &cfg, g_ds, g_data_path, &log, &prov, &err))
        die("%s", err.msg);
    mtb_run_log_free(&log);
    return 0;
}

static void run_job(const job *j, const scale *sc, volatile long *slot)
{
    openblas_set_num_threads(1); /* one BLAS thread per run: bit-identical results */
    mtb_error err = {0};
    int rc = 0;
    switch (j->kind) {
    case JOB_TABLE1: rc = run_table1(j, sc, slot); break;
    case JOB_APPB: rc = appb_run(g_ds, j->a, j->seed, sc, j->path, slot, &err); break;
    case JOB_THM: rc = thm1_run(j->a, sc, j->path, slot, &err); break;
    }
    if (rc)
        die("job %s: %s", j->path, err.msg);
    *slot = j->total;
    exit(0);
}

static int cmp_cost_desc(const void *a, const void *b)
{
    double x = ((const job *)a)->cost * (double)((const job *)a)->total;
    double y = ((const job *)b)->cost * (double)((const job *)b)->total;
    return (x < y) - (x > y);
}

static void fmt_dur(double s, char *buf, size_t n)
{
    if (!(s >= 0) || s > 1e7) {
        snprintf(buf, n, "?");
        return;
    }
    long t = (long)(s + 0.5);
    if (t >= 3600)
        snprintf(buf, n, "%ldh%02ldm", t / 3600, t / 60 % 60);
    else
        snprintf(buf, n, "%ldm%02lds", t / 60, t % 60);
}

static void usage_runs(FILE *out)
{
    fprintf(out, "usage: repro-slaw runs --scale paper|smoke --data MTR10.h5 --out DIR [--jobs N] [--resume]\n"
                 "Runs Table 1 (7 methods x seeds), Appendix B (2 variants x runs) and the Theorem-1\n"
                 "check as independent jobs on N processes (default 2), writing DIR/table1/*.h5,\n"
                 "DIR/appb/*.h5 and DIR/thm1/*.h5. --resume keeps existing job files.\n");
}

static int cmd_runs(int argc, char **argv)
{
    const char *scale_name = NULL, *out = NULL;
    int jobs = 2, resume = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--scale") && i + 1 < argc) scale_name = argv[++i];
        else if (!strcmp(argv[i], "--data") && i + 1 < argc) g_data_path = argv[++i];
        else if (!strcmp(argv[i], "--out") && i + 1 < argc) out = argv[++i];
        else if (!strcmp(argv[i], "--jobs") && i + 1 < argc) jobs = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--resume")) resume = 1;
        else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) { usage_runs(stdout); return 0; }
        else { usage_runs(stderr); return 2; }
    }
    scale sc;
    if (!scale_name || !out || !g_data_path || scale_get(scale_name, &sc) || jobs < 1) {
        usage_runs(stderr);
        return 2;
    }
    static mtb_dataset ds;
    mtb_error err = {0};
    if (mtb_dataset_load(g_data_path, &ds, &err))
        die("%s", err.msg);
    g_ds = &ds;
    char dir[1100];
    const char *sub[] = {"table1", "appb", "thm1"};
    for (int k = 0; k < 3; k++) {
        snprintf(dir, sizeof dir, "%s/%s", out, sub[k]);
        if (ensure_dir(dir))
            die("cannot create directory %s", dir);
    }

    /* Order: the Theorem-1 checks (short), then seed by seed: the 7 Table-1 runs of seed s
     * (longest first) and a proportional share of the Appendix-B runs. A run cut short
     * therefore holds complete seeds of every method, from which `report --partial` makes
     * a smaller but valid Table 1; the cost is a slightly worse 2-process schedule at the
     * very end than longest-first overall. */
    int nj = N_METHODS * sc.seeds + 2 * sc.appb_runs + N_THM_FUNCS, n = 0;
    job *J = calloc((size_t)nj, sizeof *J);
    if (!J)
        die("out of memory");
    for (int f = 0; f < N_THM_FUNCS; f++) {
        job *j = &J[n++];
        *j = (job){JOB_THM, f, 0, "", (long)sc.thm_points * N_THM_DELTAS, 0.0};
        /* cost per unit, relative to a training step, measured on this machine */
        j->cost = 0.05 * sc.thm_mc / 10.0;
        snprintf(j->path, sizeof j->path, "%s/thm1/%s.h5", out, THM_FUNC_NAMES[f]);
    }
    int next_appb = 0;
    for (int s = 0; s < sc.seeds; s++) {
        int first = n;
        for (int m = 0; m < N_METHODS; m++) {
            job *j = &J[n++];
            *j = (job){JOB_TABLE1, m, s, "", sc.steps, method_cost(METHODS[m].method)};
            snprintf(j->path, sizeof j->path, "%s/table1/%s-s%d.h5", out, METHODS[m].key, s);
        }
        qsort(J + first, (size_t)(n - first), sizeof *J, cmp_cost_desc);
        int upto = (int)((long)sc.appb_runs * (s + 1) / sc.seeds);
        for (; next_appb < upto; next_appb++)
            for (int v = 0; v < 2; v++) {
                job *j = &J[n++];
                *j = (job){JOB_APPB, v, next_appb, "", appb_steps(next_appb, &sc), 0.9};
                snprintf(j->path, sizeof j->path, "%s/appb/%s-s%d.h5", out, v ? "slaw" : "constant", next_appb);
            }
    }
    for (; next_appb < sc.appb_runs; next_appb++)
        for (int v = 0; v < 2; v++) {
            job *j = &J[n++];
            *j = (job){JOB_APPB, v, next_appb, "", appb_steps(next_appb, &sc), 0.9};
            snprintf(j->path, sizeof j->path, "%s/appb/%s-s%d.h5", out, v ? "slaw" : "constant", next_appb);
        }

    volatile long *slots = mmap(NULL, sizeof(long) * (size_t)n, PROT_READ | PROT_WRITE,
                                MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (slots == MAP_FAILED)
        die("mmap: %s", strerror(errno));
    double total_cost = 0.0;
    int skipped = 0;
    for (int i = 0; i < n; i++) {
        slots[i] = 0;
        if (resume && access(J[i].path, F_OK) == 0) {
            slots[i] = J[i].total;
            skipped++;
        }
        total_cost += J[i].cost * (double)J[i].total;
    }
    pid_t *pid = calloc((size_t)n, sizeof *pid);
    int *done = calloc((size_t)n, sizeof *done);
    if (!pid || !done)
        die("out of memory");
    for (int i = 0; i < n; i++)
        done[i] = resume && slots[i] == J[i].total;

    fflush(NULL);
    const int tty = isatty(2);
    const double t0 = now_s();
    int next = 0, running = 0, finished = skipped, failed = 0, last_pct = -1;
    double last_draw = 0.0, last_line = 0.0;
    fprintf(stderr, "[slaw runs] %d jobs (%d Table-1 runs, %d Appendix-B runs, %d Theorem-1 checks) on %d processes%s\n",
            n, N_METHODS * sc.seeds, 2 * sc.appb_runs, N_THM_FUNCS, jobs,
            skipped ? " (resuming)" : "");
    while (finished < n) {
        while (running < jobs && next < n && !failed) {
            if (done[next]) {
                next++;
                continue;
            }
            pid_t p = fork();
            if (p < 0)
                die("fork: %s", strerror(errno));
            if (p == 0) { /* the child needs only its job: free the parent's bookkeeping */
                free(pid);
                free(done);
                run_job(&J[next], &sc, &slots[next]);
            }
            pid[next++] = p;
            running++;
        }
        if (running == 0 && (failed || next >= n))
            break;
        int status;
        pid_t p = waitpid(-1, &status, WNOHANG);
        if (p > 0) {
            for (int i = 0; i < n; i++)
                if (pid[i] == p) {
                    pid[i] = 0;
                    done[i] = 1;
                    running--;
                    finished++;
                    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                        failed++;
                        fprintf(stderr, "\n[slaw runs] job %s failed\n", J[i].path);
                    }
                }
            continue;
        }
        usleep(100000);
        double t = now_s();
        if (t - last_draw < 1.0 && finished < n)
            continue;
        last_draw = t;
        double c = 0.0;
        for (int i = 0; i < n; i++)
            c += J[i].cost * (double)(done[i] ? J[i].total : slots[i]);
        double frac = total_cost > 0 ? c / total_cost : 1.0;
        char el[32], eta[32];
        fmt_dur(t - t0, el, sizeof el);
        fmt_dur(frac > 0.01 ? (t - t0) * (1.0 - frac) / frac : -1, eta, sizeof eta);
        if (tty) {
            fprintf(stderr, "\r[slaw runs] %d/%d jobs done, %d running, %5.1f%% of the work, %s elapsed, ETA %s   ",
                    finished, n, running, 100.0 * frac, el, eta);
        } else if ((int)(frac * 20) != last_pct || t - last_line >= 60.0) {
            /* not a terminal (a log file): a line per 5 % of the work or per minute */
            last_pct = (int)(frac * 20);
            last_line = t;
            fprintf(stderr, "[slaw runs] %d/%d jobs done, %5.1f%% of the work, %s elapsed, ETA %s\n",
                    finished, n, 100.0 * frac, el, eta);
        }
    }
    char el[32];
    fmt_dur(now_s() - t0, el, sizeof el);
    fprintf(stderr, "%s[slaw runs] %d jobs finished in %s%s\n", tty ? "\n" : "", finished, el,
            failed ? " WITH FAILURES" : "");
    free(J), free(pid), free(done);
    mtb_dataset_free(&ds);
    return failed ? 1 : 0;
}

static void usage(FILE *out)
{
    fprintf(out, "usage: repro-slaw runs|fig2|report [options]   (each takes --help)\n"
                 "The SLAW paper's reproduction; normally run by `make reproduce-slaw [SCALE=smoke]`.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "runs"))
        return cmd_runs(argc - 1, argv + 1);
    if (!strcmp(argv[1], "fig2"))
        return cmd_fig2(argc - 1, argv + 1);
    if (!strcmp(argv[1], "report"))
        return cmd_report(argc - 1, argv + 1);
    if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        usage(stdout);
        return 0;
    }
    usage(stderr);
    return 2;
}
