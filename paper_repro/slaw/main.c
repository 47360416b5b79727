/* main.c: repro-slaw, the SLAW paper reproduction driver (see slaw.h for the pipeline).
 * This file: the two scales, the Table-1 method list with the paper's numbers, and the
 * `runs` subcommand: the Appendix-B runs and Theorem-1 checks as independent jobs on the
 * library's worker pool (mtb/pool.h), --jobs processes with one BLAS thread each, with a
 * progress line. */
#include "slaw.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mtb/clock.h"
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

/* ---- jobs ---------------------------------------------------------------------------- */

enum { JOB_APPB, JOB_THM };

typedef struct job {
    int kind, a, seed; /* a: Appendix-B variant or Theorem-1 function */
    char path[1024];
    long total;        /* progress units (steps) */
    double cost;       /* relative cost, for ordering and the ETA */
} job;

static const mtb_dataset *g_ds;
static const char *g_data_path;

/* The pool's view of the jobs (mtb/pool.h): what runs in a worker and what the parent
 * shows while they run. */
typedef struct runs_ctx {
    const job *J;
    const scale *sc;
    int n, finished, failed, running;
    double total_cost, done_cost, t0, last_draw, last_line;
    int tty, last_pct;
} runs_ctx;

static mtb_status run_job(void *vctx, void *ws, int i, mtb_pool_slot *slot, char *msg, size_t len,
                          int *flag)
{
    (void)ws, (void)flag;
    const runs_ctx *c = vctx;
    const job *j = &c->J[i];
    mtb_error err = {0};
    int rc = j->kind == JOB_APPB ? appb_run(g_ds, j->a, j->seed, c->sc, j->path, slot, &err)
                                 : thm1_run(j->a, c->sc, j->path, slot, &err);
    if (rc) {
        snprintf(msg, len, "%s: %s", j->path, err.msg);
        return err.status ? err.status : MTB_EIO;
    }
    mtb_pool_units(slot, j->total);
    return MTB_OK;
}

static void job_finished(void *vctx, int i, mtb_status st, int flag, double seconds, const char *msg)
{
    (void)flag, (void)seconds;
    runs_ctx *c = vctx;
    c->finished++;
    c->done_cost += c->J[i].cost * (double)c->J[i].total;
    if (st) {
        c->failed++;
        fprintf(stderr, "%s[slaw runs] job %s failed: %s\n", c->tty ? "\n" : "", c->J[i].path, msg);
    }
}

/* About four times a second: a line on a terminal (at most once a second), else a line per
 * 5 % of the work or per minute. */
static void job_tick(void *vctx, const int *running, int n_running, const long *live)
{
    runs_ctx *c = vctx;
    double t = mtb_clock_s();
    if (t - c->last_draw < 1.0)
        return;
    c->last_draw = t;
    double w = c->done_cost;
    for (int k = 0; k < n_running; k++)
        w += c->J[running[k]].cost * (double)live[running[k]];
    double frac = c->total_cost > 0 ? w / c->total_cost : 1.0;
    char el[32], eta[32];
    mtb_format_duration(t - c->t0, el, sizeof el);
    mtb_format_duration(frac > 0.01 ? (t - c->t0) * (1.0 - frac) / frac : -1, eta, sizeof eta);
    if (c->tty) {
        fprintf(stderr, "\r[slaw runs] %d/%d jobs done, %d running, %5.1f%% of the work, %s elapsed, ETA %s   ",
                c->finished, c->n, n_running, 100.0 * frac, el, eta);
    } else if ((int)(frac * 20) != c->last_pct || t - c->last_line >= 60.0) {
        c->last_pct = (int)(frac * 20);
        c->last_line = t;
        fprintf(stderr, "[slaw runs] %d/%d jobs done, %5.1f%% of the work, %s elapsed, ETA %s\n",
                c->finished, c->n, 100.0 * frac, el, eta);
    }
}

static void usage_runs(FILE *out)
{
    fprintf(out, "usage: repro-slaw runs --scale paper|smoke --data MTR10.h5 --out DIR [--jobs N] [--resume]\n"
                 "Runs Appendix B (2 variants x runs) and the Theorem-1 check as independent jobs on\n"
                 "N processes (default 2), writing DIR/appb/*.h5 and DIR/thm1/*.h5. --resume keeps\n"
                 "existing job files. Table 1 is a sweep of the mtr problem (`mtb sweep`, run by\n"
                 "paper_repro/slaw/reproduce).\n");
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
    const char *sub[] = {"appb", "thm1"};
    for (int k = 0; k < 2; k++) {
        snprintf(dir, sizeof dir, "%s/%s", out, sub[k]);
        if (mtb_mkdirs(dir))
            die("cannot create directory %s", dir);
    }

    /* Order: the Theorem-1 checks, then the Appendix-B runs seed by seed (both variants of a
     * seed together), so that a run cut short holds complete pairs. */
    int nj = 2 * sc.appb_runs + N_THM_FUNCS, n = 0;
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
    for (int s = 0; s < sc.appb_runs; s++)
        for (int v = 0; v < 2; v++) {
            job *j = &J[n++];
            *j = (job){JOB_APPB, v, s, "", appb_steps(s, &sc), 0.9};
            snprintf(j->path, sizeof j->path, "%s/appb/%s-s%d.h5", out, v ? "slaw" : "constant", s);
        }

    runs_ctx c = {J, &sc, n, 0, 0, 0, 0.0, 0.0, mtb_clock_s(), 0.0, 0.0, isatty(2), -1};
    int *order = malloc(sizeof(int) * (size_t)(n ? n : 1)), n_todo = 0;
    if (!order)
        die("out of memory");
    for (int i = 0; i < n; i++) {
        c.total_cost += J[i].cost * (double)J[i].total;
        if (resume && access(J[i].path, F_OK) == 0) { /* files are written atomically */
            c.finished++;
            c.done_cost += J[i].cost * (double)J[i].total;
        } else {
            order[n_todo++] = i;
        }
    }
    fprintf(stderr, "[slaw runs] %d jobs (%d Appendix-B runs, %d Theorem-1 checks) on %d processes%s\n",
            n, 2 * sc.appb_runs, N_THM_FUNCS, jobs, c.finished ? " (resuming)" : "");
    const mtb_pool_ops ops = {NULL, NULL, run_job, NULL, job_finished, NULL, job_tick};
    int sig = mtb_pool_run(n, order, n_todo, jobs, &ops, &c, NULL);
    char el[32];
    mtb_format_duration(mtb_clock_s() - c.t0, el, sizeof el);
    fprintf(stderr, "%s[slaw runs] %d jobs finished in %s%s\n", c.tty ? "\n" : "", c.finished, el,
            c.failed ? " WITH FAILURES" : sig ? " (stopped by a signal; RESUME=1 continues)" : "");
    free(J), free(order);
    mtb_dataset_free(&ds);
    return c.failed || sig ? 1 : 0;
}

static void usage(FILE *out)
{
    fprintf(out, "usage: repro-slaw runs|fig2|report [options]   (each takes --help)\n"
                 "The SLAW paper's reproduction; normally run by `make reproduce-slaw [SCALE=smoke]`.\n");
}

int main(int argc, char **argv)
{
    repro_start(&argc, argv); /* may restart the program on another BLAS kernel */
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
