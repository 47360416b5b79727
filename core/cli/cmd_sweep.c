/* cmd_sweep.c: `mtb sweep`, method x seed x problem as one resumable plan (sweep.h has the
 * pieces, docs/sweeps.md the user's guide).
 *
 * The order of the steps is the whole resume story: plan from the command line alone (no
 * state), lock DIR, drop the temporaries a killed session left, keep every job whose run
 * file verifies, write plan.tsv, run the rest, tabulate what exists. Each step can be
 * interrupted; the next session repeats them and reaches the same state. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "mtb/clock.h"
#include "mtb/fs.h"
#include "sweep.h"

static const char *CMD = "sweep";

static void usage(FILE *out)
{
    fprintf(out,
"usage: mtb sweep --problem P[,P...] --methods M[,M...] [--method 'NAME:K=V,...'] --seeds S\n"
"                 [--scale smoke|paper|full] -o DIR [--jobs N] [--data FILE] [--reuse ROOT]\n"
"                 [--dry-run] [--table-only] [--retry-failed]\n"
"       mpirun -np N mtb sweep ...        (the same, spread over N MPI ranks)\n"
"\n"
"Runs every problem x method x seed as one job with its own run file in DIR, then writes\n"
"the results table DIR/results.tsv (and DIR/results.h5). Interrupted or killed at any\n"
"point, the same command resumes: jobs whose run file is complete are kept, the rest\n"
"are run. A job that fails is reported and recorded in DIR/failed/, the others go on;\n"
"the exit status is then 1. Guide: docs/sweeps.md.\n"
"\n"
"  --problem P,...    problems (see 'mtb problems'), e.g. lsd6, mtr-hom-3    [required]\n"
"  --methods M,...    methods (see 'mtb methods') with their default options, and the\n"
"                     references stl (one network per task) and oc (oracle weights)\n"
"  --method NAME:K=V,...  one method with options, e.g. 'db_mtl:beta=0.9'; repeatable.\n"
"                     Together --methods and --method give at least one method.\n"
"  --seeds S          seeds: 0-4, 0,2,5 or 0-2,7                              [required]\n"
"  --scale NAME       smoke (CI-sized protocol), paper (the papers'), full (= paper).\n"
"                     One scale per DIR                                       [paper]\n"
"  -o, --out DIR      the sweep directory (created; reused to resume)         [required]\n"
"  --jobs N           jobs at once on this machine, one BLAS thread each; ignored\n"
"                     under mpirun (one job per rank)                         [1]\n"
"  --data FILE        train every job on this data set instead of generating the\n"
"                     problem's (each job checks that it fits its problem)\n"
"  --dry-run          print the plan and what a run would do; write nothing\n"
"  --table-only       only (re)write the results table from the run files present;\n"
"                     without --problem/--methods/--seeds it reads DIR/plan.tsv\n"
"  --reuse ROOT       before training a job, look for its run file in the sweep directories\n"
"                     at or below ROOT (repeatable): a complete run of the same job, scale\n"
"                     and data made by this build on this BLAS kernel is linked into DIR\n"
"                     instead of trained again (listed in DIR/reused.tsv)\n"
"  --retry-failed     run again the jobs that failed in an earlier session (by default\n"
"                     they stay failed: a failure is deterministic like a result)\n"
"\n"
"Delta-p against STL and EW needs the stl and ew jobs in the plan: without them those\n"
"columns of the table are NaN (a note in the table says so); none is added silently.\n"
"\n"
"examples:\n"
"  mtb sweep --problem lsd6 --methods stl,ew,rlw,imtl_g,db_mtl --seeds 0-1 --scale smoke -o sw\n"
"  mtb sweep --problem lsd6 --methods ew --method 'db_mtl:beta=0.9' --seeds 0-4 -o sw --jobs 2\n"
"  mpirun -np 8 --hostfile hosts mtb sweep --problem lsd6 --methods stl,ew --seeds 0-9 -o sw\n");
}

/* ---- option parsing ------------------------------------------------------------------ */

typedef struct growable {
    void *p;
    int n, cap;
    size_t elem;
} growable;

static void *grow(growable *g)
{
    if (g->n == g->cap) {
        int cap = g->cap ? 2 * g->cap : 8;
        void *p = realloc(g->p, (size_t)cap * g->elem);
        if (!p)
            return NULL;
        g->p = p;
        g->cap = cap;
    }
    return (char *)g->p + (size_t)g->n++ * g->elem;
}

static int add_problems(growable *g, const char *list)
{
    char buf[4096];
    if (snprintf(buf, sizeof buf, "%s", list) >= (int)sizeof buf) {
        cli_error(CMD, "--problem list too long");
        return -1;
    }
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (strlen(t) >= MTB_PROBLEM_NAME_LEN) {
            cli_error(CMD, "--problem '%s': name too long", t);
            return -1;
        }
        char(*all)[MTB_PROBLEM_NAME_LEN] = g->p;
        for (int i = 0; i < g->n; i++)
            if (!strcmp(all[i], t)) {
                cli_error(CMD, "--problem '%s' is given twice", t);
                return -1;
            }
        char *slot = grow(g);
        if (!slot) {
            cli_error(CMD, "out of memory");
            return -1;
        }
        snprintf(slot, MTB_PROBLEM_NAME_LEN, "%s", t);
    }
    return 0;
}

static int add_method(growable *g, const char *name, size_t name_len, const char *options)
{
    sweep_method m;
    memset(&m, 0, sizeof m);
    if (name_len == 0 || name_len >= sizeof m.method) {
        cli_error(CMD, "method name '%.*s' is empty or too long", (int)name_len, name);
        return -1;
    }
    if (strlen(options) >= sizeof m.options) {
        cli_error(CMD, "options of %.*s are too long (at most %zu characters)", (int)name_len,
                  name, sizeof m.options - 1);
        return -1;
    }
    if (strpbrk(options, "\t\n\r")) {
        cli_error(CMD, "options of %.*s contain a tab or a newline", (int)name_len, name);
        return -1;
    }
    memcpy(m.method, name, name_len);
    snprintf(m.options, sizeof m.options, "%s", options);
    sweep_method *all = g->p;
    for (int i = 0; i < g->n; i++)
        if (!strcmp(all[i].method, m.method) && !strcmp(all[i].options, m.options)) {
            cli_error(CMD, "method '%s%s%s' is given twice", m.method, m.options[0] ? ":" : "",
                      m.options);
            return -1;
        }
    sweep_method *slot = grow(g);
    if (!slot) {
        cli_error(CMD, "out of memory");
        return -1;
    }
    *slot = m;
    return 0;
}

static int add_methods(growable *g, const char *list)
{
    const char *s = list;
    for (;;) {
        size_t n = strcspn(s, ",");
        if (memchr(s, ':', n) || memchr(s, '=', n)) {
            cli_error(CMD, "--methods '%s': a method with options goes in its own --method "
                           "'NAME:K=V,...'", list);
            return -1;
        }
        if (n == 0) {
            cli_error(CMD, "--methods '%s': empty method name", list);
            return -1;
        }
        if (add_method(g, s, n, ""))
            return -1;
        if (!s[n])
            return 0;
        s += n + 1;
    }
}

/* Seeds up to 2^63 - 1: run files store them as int64. */
static int parse_u63(const char *s, const char **end, uint64_t *v)
{
    if (*s < '0' || *s > '9')
        return -1;
    uint64_t x = 0;
    for (; *s >= '0' && *s <= '9'; s++) {
        if (x > (UINT64_C(0x7fffffffffffffff) - (uint64_t)(*s - '0')) / 10)
            return -1;
        x = 10 * x + (uint64_t)(*s - '0');
    }
    *end = s;
    *v = x;
    return 0;
}

static int parse_seeds(growable *g, const char *text)
{
    const char *s = text;
    for (;;) {
        uint64_t lo, hi;
        const char *e;
        if (parse_u63(s, &e, &lo))
            goto bad;
        hi = lo;
        if (*e == '-') {
            if (parse_u63(e + 1, &e, &hi) || hi < lo)
                goto bad;
        }
        if (*e != ',' && *e != '\0')
            goto bad;
        /* a bound that keeps the duplicate check below (quadratic) instant */
        if (hi - lo >= 10000 || g->n + (hi - lo) >= 10000) {
            cli_error(CMD, "--seeds '%s': more than 10000 seeds", text);
            return -1;
        }
        for (uint64_t v = lo;; v++) {
            uint64_t *all = g->p;
            for (int i = 0; i < g->n; i++)
                if (all[i] == v) {
                    cli_error(CMD, "--seeds '%s': seed %llu is given twice", text,
                              (unsigned long long)v);
                    return -1;
                }
            uint64_t *slot = grow(g);
            if (!slot) {
                cli_error(CMD, "out of memory");
                return -1;
            }
            *slot = v;
            if (v == hi)
                break;
        }
        if (!*e)
            return 0;
        s = e + 1;
    }
bad:
    cli_error(CMD, "--seeds expects seeds and ranges such as 0-4, 0,2,5 or 0-2,7 (each "
                   "0..2^63-1, ranges ascending), got '%s'", text);
    return -1;
}

/* ---- the steps ----------------------------------------------------------------------- */

static int status_exit(mtb_status st) { return st == MTB_EINVAL ? 2 : 1; }

int sweep_prepare(const sweep_args *a, sweep_plan *plan)
{
    mtb_error err = {0};
    if (sweep_plan_build(a, plan, &err)) {
        cli_error(CMD, "%s", err.msg);
        return 2;
    }
    if (mtb_mkdirs(plan->dir)) {
        cli_error(CMD, "cannot create %s: %s", plan->dir, strerror(errno));
        return 1;
    }
    mtb_status st;
    if ((st = sweep_lock(plan, &err)) || (st = sweep_plan_check_dir(plan, &err))) {
        cli_error(CMD, "%s", err.msg);
        return status_exit(st);
    }
    int stale = sweep_remove_stale(plan->dir);
    if (stale)
        fprintf(stderr, "[sweep] removed %d temporary file%s of an interrupted session\n", stale,
                stale == 1 ? "" : "s");
    sweep_plan_scan(plan, a->retry_failed, 1, stderr);
    sweep_reuse(plan, a->reuse, a->n_reuse, 1, stderr);
    for (int i = 0; i < plan->n; i++)
        if ((i == 0 || strcmp(plan->items[i].job.method, plan->items[i - 1].job.method) ||
             strcmp(plan->items[i].job.options, plan->items[i - 1].job.options) ||
             strcmp(plan->items[i].job.problem, plan->items[i - 1].job.problem)) &&
            mtb_mkdirs_parent(plan->items[i].path)) {
            cli_error(CMD, "cannot create the directory of %s: %s", plan->items[i].path,
                      strerror(errno));
            return 1;
        }
    if (sweep_plan_write(plan, &err)) {
        cli_error(CMD, "%s", err.msg);
        return 1;
    }
    return 0;
}

/* kept: from an earlier session of DIR or, when reused, from another sweep */
static void counts(const sweep_plan *plan, int *kept, int *reused, int *ran, int *failed,
                   int *todo)
{
    *kept = *reused = *ran = *failed = *todo = 0;
    for (int i = 0; i < plan->n; i++) {
        sweep_state s = plan->items[i].state;
        *kept += s == SWEEP_KEPT;
        *reused += s == SWEEP_KEPT && plan->items[i].reused;
        *ran += s == SWEEP_OK;
        *failed += s == SWEEP_FAILED;
        *todo += s == SWEEP_TODO;
    }
}

int sweep_finish(const sweep_plan *plan, double wall_s, int workers, int interrupted)
{
    mtb_error err = {0};
    int incomplete = 0, code = 0;
    if (sweep_table_write(plan, wall_s, workers, &incomplete, &err)) {
        cli_error(CMD, "writing the results table: %s", err.msg);
        code = 1;
    }
    int kept, reused, ran, failed, todo;
    counts(plan, &kept, &reused, &ran, &failed, &todo);
    char d[32] = "", r[48] = "";
    if (!isnan(wall_s))
        mtb_format_duration(wall_s, d, sizeof d);
    if (reused)
        snprintf(r, sizeof r, ", %d reused from other sweeps", reused);
    fprintf(stderr, "[sweep] %d/%d jobs complete (%d run%s%s, %d kept%s), %d failed, %d missing%s; "
                    "table: %s/results.tsv\n",
            plan->n - failed - todo, plan->n, ran, d[0] ? " in " : "", d, kept - reused, r,
            failed, todo,
            interrupted ? " (interrupted: the same command resumes)" : "", plan->dir);
    if (failed)
        fprintf(stderr, "[sweep] the failed jobs' messages are in %s/failed/ and in the table; "
                        "--retry-failed runs them again\n", plan->dir);
    return code || incomplete ? 1 : 0;
}

static int dry_run(const sweep_args *a)
{
    sweep_plan plan;
    mtb_error err = {0};
    mtb_status st;
    if ((st = sweep_plan_build(a, &plan, &err)) || (st = sweep_plan_check_dir(&plan, &err))) {
        cli_error(CMD, "%s", err.msg);
        sweep_plan_free(&plan);
        return status_exit(st);
    }
    sweep_plan_scan(&plan, a->retry_failed, 0, stderr);
    sweep_reuse(&plan, a->reuse, a->n_reuse, 0, stderr);
    printf("# mtb sweep --dry-run: %d jobs at scale %s into %s%s\n", plan.n, plan.scale, plan.dir,
           plan.resumed ? " (resuming its plan)" : "");
    printf("state\tunits\tjob\n");
    int kept, reused, ran, failed, todo, redo = 0;
    for (int i = 0; i < plan.n; i++) {
        const sweep_item *it = &plan.items[i];
        const char *s = it->reused ? "reuse" : it->state == SWEEP_KEPT ? "kept" : it->state == SWEEP_FAILED ? "failed"
                      : it->redo ? "redo" : "run";
        redo += it->redo && it->state == SWEEP_TODO;
        printf("%s\t%ld\t%s\n", s, it->units, it->name);
    }
    counts(&plan, &kept, &reused, &ran, &failed, &todo);
    printf("# %d to run (%d of them redone), %d kept, %d reused from other sweeps, %d failed "
           "earlier and not retried\n", todo, redo, kept - reused, reused, failed);
    sweep_plan_free(&plan);
    return 0;
}

static int table_only(const sweep_args *a)
{
    sweep_plan plan;
    mtb_error err = {0};
    mtb_status st = a->have_plan_args ? sweep_plan_build(a, &plan, &err)
                                      : sweep_plan_read(a->dir, &plan, &err);
    if (!st && a->have_plan_args)
        st = sweep_plan_check_dir(&plan, &err);
    if (st) {
        cli_error(CMD, "%s", err.msg);
        sweep_plan_free(&plan);
        return status_exit(st);
    }
    sweep_plan_scan(&plan, 0, 0, stderr);
    int code = sweep_finish(&plan, NAN, 0, 0);
    sweep_plan_free(&plan);
    return code;
}

int mtb_cmd_sweep(int argc, char **argv)
{
    sweep_args a;
    memset(&a, 0, sizeof a);
    snprintf(a.scale, sizeof a.scale, "paper");
    growable gp = {NULL, 0, 0, MTB_PROBLEM_NAME_LEN}, gm = {NULL, 0, 0, sizeof(sweep_method)},
             gs = {NULL, 0, 0, sizeof(uint64_t)}, gr = {NULL, 0, 0, sizeof(const char *)};
    int code = -1;
    long v;
    enum { O_PROBLEM = 256, O_METHODS, O_METHOD, O_SEEDS, O_SCALE, O_JOBS, O_DATA, O_DRY,
           O_TABLE, O_RETRY, O_REUSE };
    static const struct option opts[] = {
        {"problem", required_argument, 0, O_PROBLEM}, {"problems", required_argument, 0, O_PROBLEM},
        {"methods", required_argument, 0, O_METHODS}, {"method", required_argument, 0, O_METHOD},
        {"seeds", required_argument, 0, O_SEEDS},     {"scale", required_argument, 0, O_SCALE},
        {"out", required_argument, 0, 'o'},           {"jobs", required_argument, 0, O_JOBS},
        {"data", required_argument, 0, O_DATA},       {"dry-run", no_argument, 0, O_DRY},
        {"table-only", no_argument, 0, O_TABLE},      {"retry-failed", no_argument, 0, O_RETRY},
        {"reuse", required_argument, 0, O_REUSE},     {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0}};
    int c;
    optind = 0; /* glibc: full re-initialisation (the fuzz target parses many times) */
    opterr = 0;
    while (code < 0 && (c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
        switch (c) {
        case O_PROBLEM:
            if (add_problems(&gp, optarg))
                code = 2;
            break;
        case O_METHODS:
            if (add_methods(&gm, optarg))
                code = 2;
            break;
        case O_METHOD: {
            const char *colon = strchr(optarg, ':');
            size_t n = colon ? (size_t)(colon - optarg) : strlen(optarg);
            if (add_method(&gm, optarg, n, colon ? colon + 1 : ""))
                code = 2;
            break;
        }
        case O_SEEDS:
            if (parse_seeds(&gs, optarg))
                code = 2;
            break;
        case O_SCALE:
            if (strcmp(optarg, "smoke") && strcmp(optarg, "paper") && strcmp(optarg, "full")) {
                cli_error(CMD, "--scale must be smoke, paper or full, got '%s'", optarg);
                code = 2;
            } else {
                snprintf(a.scale, sizeof a.scale, "%s", optarg);
            }
            break;
        case 'o': a.dir = optarg; break;
        case O_JOBS:
            if (cli_parse_long(CMD, "jobs", optarg, 1, 4096, &v))
                code = 2;
            else
                a.jobs = (int)v;
            break;
        case O_DATA: a.data = optarg; break;
        case O_DRY: a.dry_run = 1; break;
        case O_TABLE: a.table_only = 1; break;
        case O_RETRY: a.retry_failed = 1; break;
        case O_REUSE: {
            const char **slot = grow(&gr);
            if (!slot) {
                cli_error(CMD, "out of memory");
                code = 2;
            } else {
                *slot = optarg;
            }
            break;
        }
        case 'h':
            usage(stdout);
            code = 0;
            break;
        default:
            cli_error(CMD, "unknown option, or an option without its value: '%s' (mtb sweep "
                           "--help)", argv[optind - 1]);
            code = 2;
        }
    }
    if (code < 0 && optind < argc) {
        cli_error(CMD, "unexpected argument '%s' (mtb sweep --help)", argv[optind]);
        code = 2;
    }
    a.problems = gp.p;
    a.n_problems = gp.n;
    a.methods = gm.p;
    a.n_methods = gm.n;
    a.seeds = gs.p;
    a.n_seeds = gs.n;
    a.reuse = gr.p;
    a.n_reuse = gr.n;
    a.have_plan_args = gp.n || gm.n || gs.n;
    if (code < 0 && !a.dir) {
        cli_error(CMD, "-o DIR is required (mtb sweep --help)");
        code = 2;
    }
    if (code < 0 && (!a.table_only || a.have_plan_args)) {
        const char *missing = !gp.n ? "--problem" : !gm.n ? "--methods (or --method)"
                            : !gs.n ? "--seeds" : NULL;
        if (missing) {
            cli_error(CMD, "%s is required (mtb sweep --help)", missing);
            code = 2;
        }
    }
    if (code >= 0)
        goto done;

    if (cli_check_only) {
        /* the plan is built in memory (every problem, method and option checked); no file
         * or directory is touched */
        code = 0;
        if (!a.table_only || a.have_plan_args) {
            sweep_plan plan;
            mtb_error err = {0};
            mtb_status st = sweep_plan_build(&a, &plan, &err);
            sweep_plan_free(&plan);
            code = st ? status_exit(st) : 0;
        }
        goto done;
    }
    if (sweep_mpi_launched() && !a.dry_run && !a.table_only) {
        code = sweep_mpi_main(&a);
        goto done;
    }
    if (sweep_mpi_launched() && sweep_launcher_rank() != 0) {
        code = 0; /* --dry-run and --table-only: rank 0 alone does them */
        goto done;
    }
    if (a.dry_run) {
        code = dry_run(&a);
        goto done;
    }
    if (a.table_only) {
        code = table_only(&a);
        goto done;
    }

    /* Outside the pool (planning, the table) and in its workers (which restore these
     * handlers), SIGINT and SIGTERM remove the temporary file being written before exiting;
     * the pool itself stops its workers and returns, so that the table is still written. */
    cli_cleanup_on_signals();
    sweep_plan plan;
    const double t0 = mtb_clock_s();
    code = sweep_prepare(&a, &plan);
    if (!code) {
        int bad_workers = 0;
        int sig = sweep_pool_run(&plan, a.jobs > 0 ? a.jobs : 1, &bad_workers);
        double wall = mtb_clock_s() - t0;
        code = sweep_finish(&plan, wall, a.jobs > 0 ? a.jobs : 1, sig);
        if (bad_workers)
            code = 1;
        if (sig)
            code = 128 + sig;
    }
    sweep_plan_free(&plan);
done:
    free(gp.p), free(gm.p), free(gs.p), free(gr.p);
    return code;
}
