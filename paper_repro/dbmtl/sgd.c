/* sgd.c: the rows under SGD on LSD-6 and LSD-6-eq (dbmtl.md sec. 1: "LSD-6 and LSD-6-eq ... SGD
 * profile (per-method lr grid)"; D1: "LSD-6 and LSD-6-eq x {Adam, SGD}"; rlw.md sec. 2's
 * LSD-6-sgd: each method's lr chosen from {1e-5, 1e-4, 1e-3, 1e-2, 1e-1} on a validation split
 * cut from train, with seed 0, then the scale's seeds at that lr).
 *
 * The problems are the registry's lsd6-sgd and lsd6-eq-sgd (grid.c's P_SGDSEL: SGD momentum
 * 0.9, weight decay 1e-4, poly lr, the SGD profile the IMTL reproduction uses; problems.c),
 * each handled alike, its files named after it (<P> below); `@lr=x` for the base lr and `@val` for
 * the validation split (the last 20 % of the training set replaces the test split, so the test
 * split plays no part in the choice). Deviations from rlw.md: that split is 1 800 samples, not
 * 1 000, and the profile carries weight decay and the poly schedule.
 *
 *   sgdsel --problem P   the selection sweep's problems, P@lr=<x>@val for the scale's grid
 *   lrsel --problem P    after that sweep, sweep_<P>-select (seed 0): per configuration (the
 *            rows `methods --problem P` prints: STL, EW, D1's and D7's rows) the lr with the best validation Delta-p
 *            against a common reference, each task's median over every finished selection run
 *            (so the choice is one fixed weighting of the tasks' relative changes, the same for
 *            every row); a run that diverged is never chosen. Writes dbmtl_lr_select_<P>.tsv and
 *            dbmtl_sgd_jobs_<P>.tsv (one line per configuration with an lr: index, method
 *            argument, lr, 1 when it takes the reduced seeds: grid_reduced_on), which the
 *            reproduce script turns into one sweep per configuration, sweep_<P>/<index>, at
 *            that lr with the scale's seeds (or the reduced ones); summary lrsel_<P>.
 *            The rows grid.c marks sgd_row4_lr (D2's variants of row 4, D3's other alpha_k
 *            strategies: dbmtl.md D3 "same lr for all A, lr chosen for max") get no selection
 *            of their own: they follow in the jobs file at row 4's lr ('-' in the
 *            selection table's lr columns).
 *   sgd_load (train.c) reads those sweeps back as one runs table of the problem P, each row
 *            at its own lr, so D1's table and claims treat it like any other problem.
 * Smoke: the grid's 1e-3 and 1e-1 only (the plumbing). */
#include "dbmtl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../common/lr_select.h"
#include "../common/runs.h"
#include "../common/sweep_plan.h"

enum { NLR = 5, MAXCFG = 32 };
static const char *const LR[NLR] = {"1e-05", "0.0001", "0.001", "0.01", "0.1"};

static int lr_in(int k, repro_scale s) { return s != REPRO_SMOKE || k == 2 || k == 4; }

/* one of grid.c's SGD problems with a selection, else the program stops */
static void check_problem(const char *problem)
{
    for (int i = 0; i < N_PROBLEMS; i++)
        if ((PROBLEMS[i].bit & P_SGDSEL) && !strcmp(PROBLEMS[i].name, problem))
            return;
    die("'%s' is not one of the SGD problems with an lr selection (lsd6-sgd, lsd6-eq-sgd)",
        problem);
}

static void jobs_path(char *buf, size_t n, const char *out, const char *problem)
{
    snprintf(buf, n, "%s/dbmtl_sgd_jobs_%s.tsv", out, problem);
}

static void sel_problem(char *buf, size_t n, const char *problem, int k)
{
    snprintf(buf, n, "%s@lr=%s@val", problem, LR[k]);
}

int cmd_sgdsel(const char *problem, repro_scale s)
{
    check_problem(problem);
    for (int k = 0, n = 0; k < NLR; k++)
        if (lr_in(k, s)) {
            char p[64];
            sel_problem(p, sizeof p, problem, k);
            printf("%s%s", n++ ? "," : "", p);
        }
    printf("\n");
    return 0;
}

/* the configurations of the selection sweep, read from its own plan: (method, options) of
 * every job, each once, in plan order */
static int plan_configs(const repro_plan *p, char method[][64], char opts[][512])
{
    int n = 0;
    for (int j = 0; j < p->n; j++) {
        int dup = 0;
        for (int i = 0; i < n && !dup; i++)
            dup = !strcmp(method[i], p->jobs[j].method) && !strcmp(opts[i], p->jobs[j].options);
        if (dup || n == MAXCFG)
            continue;
        snprintf(method[n], 64, "%s", p->jobs[j].method);
        snprintf(opts[n], 512, "%s", p->jobs[j].options);
        n++;
    }
    return n;
}

/* STL or one of Table 6's rows: the configurations D1's SGD claims count (D7's and D8's rows
 * share the selection but not those counts) */
static int is_d1(const char *method, const char *opts)
{
    if (!strcmp(method, "stl"))
        return 1;
    for (int i = 0; i < N_GRID; i++)
        if (!strcmp(GRID[i].exp, "D1") && !strcmp(GRID[i].method, method) &&
            !strcmp(GRID[i].opts, opts))
            return 1;
    return 0;
}

int cmd_lrsel(const char *out, const char *problem, repro_scale sc)
{
    check_problem(problem);
    const unsigned pbit = grid_problem_bit(problem);
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/sweep_%s-select", out, problem);
    repro_plan p;
    if (repro_plan_read(dir, &p))
        die("lrsel: %s has no readable plan (run the selection sweep first)", dir);
    static char method[MAXCFG][64], opts[MAXCFG][512];
    const int nc = plan_configs(&p, method, opts);
    /* one runs table per lr (rows: the configurations), seed 0; the cells for the choice */
    static repro_runs R[NLR];
    static double M[MAXCFG * NLR * REPRO_LR_MAXT];
    int ok[MAXCFG * NLR] = {0}, diverged[MAXCFG * NLR] = {0}, T = 0, hb[REPRO_LR_MAXT] = {0};
    for (int k = 0; k < NLR; k++) {
        char prob[64];
        sel_problem(prob, sizeof prob, problem, k);
        repro_runs_clear(&R[k], prob);
        if (!lr_in(k, sc) || repro_runs_load_plan(&R[k], &p, NULL, NULL))
            continue;
        const int j = repro_runs_seed_slot(&R[k], 0);
        for (int c = 0; c < nc && j >= 0; c++) {
            const int m = repro_runs_find(&R[k], method[c], opts[c]), i = c * NLR + k;
            if (m < 0 || R[k].T > REPRO_LR_MAXT)
                continue;
            diverged[i] = R[k].diverged[m][j];
            ok[i] = R[k].ok[m][j];
            T = R[k].T;
            for (int t = 0; t < T; t++) {
                M[(size_t)i * REPRO_LR_MAXT + t] = R[k].M[m][j][t];
                ok[i] = ok[i] && isfinite(R[k].M[m][j][t]);
                hb[t] = R[k].hb[t];
            }
        }
    }
    double dp[MAXCFG * NLR];
    int bestv[MAXCFG];
    if (repro_lr_select(nc, NLR, T, M, ok, hb, dp, bestv))
        die("lrsel: out of memory choosing the learning rates");
    char path[1024], jpath[1024], name[128];
    snprintf(name, sizeof name, "dbmtl_lr_select_%s.tsv", problem);
    FILE *f = out_open(out, name, path, sizeof path);
    snprintf(name, sizeof name, "dbmtl_sgd_jobs_%s.tsv", problem);
    FILE *jobs = out_open(out, name, jpath, sizeof jpath);
    repro_lr_select_header(f, "configuration", LR, NLR);
    repro_summary s;
    snprintf(name, sizeof name, "lrsel_%s", problem);
    sum_open(&s, out, name);
    int nsel = 0, nedge = 0, nlog = 0, nlog_sel = 0, nraw = 0, nraw_sel = 0;
    for (int c = 0; c < nc; c++) {
        /* the log transform's rows (db_mtl without log=false) against the raw-loss ones */
        const int d1 = is_d1(method[c], opts[c]);
        const int is_log = d1 && !strcmp(method[c], "db_mtl") && !strstr(opts[c], "log=false");
        const int is_raw = d1 && !is_log;
        nlog += is_log;
        nraw += is_raw;
        fprintf(f, "%s%s%s", method[c], opts[c][0] ? ":" : "", opts[c]);
        const int best = bestv[c];
        for (int k = 0; k < NLR; k++) {
            const int i = c * NLR + k;
            if (!lr_in(k, sc))
                fprintf(f, "\tnot in the smoke grid");
            else if (isfinite(dp[i]))
                fprintf(f, "\t%+.2f", dp[i]);
            else
                fprintf(f, "\t%s", diverged[i] ? "diverged" : "not run or non-finite");
        }
        fprintf(f, "\t%s\n", best >= 0 ? LR[best] : "none (no run finished)");
        if (best < 0)
            continue;
        nsel++;
        nlog_sel += is_log;
        nraw_sel += is_raw;
        nedge += best == 0 || best == NLR - 1;
        fprintf(jobs, "%d\t%s%s%s\t%s\t%d\n", c, method[c], opts[c][0] ? ":" : "", opts[c], LR[best],
                grid_reduced_on(pbit, method[c], opts[c], sc));
    }
    /* the rows that run at row 4's lr (grid.c: D2's variants of row 4, D3's other alpha_k
     * strategies), after the selected ones, numbered on from nc */
    const grid_row *r4 = NULL;
    for (int i = 0; i < N_GRID && !r4; i++)
        if (!strcmp(GRID[i].exp, "D1") && !strncmp(GRID[i].label, "row 4", 5))
            r4 = &GRID[i];
    int c4 = -1;
    for (int c = 0; c < nc && r4; c++)
        if (!strcmp(method[c], r4->method) && !strcmp(opts[c], r4->opts))
            c4 = c;
    int nfollow = 0;
    for (int i = 0; i < N_GRID; i++) {
        const grid_row *g = &GRID[i];
        if (!g->sgd_row4_lr || !(g->problems & pbit) ||
            !grid_in_scale(g->scales, sc))
            continue;
        const int lr4 = c4 >= 0 ? bestv[c4] : -1;
        fprintf(f, "%s%s%s", g->method, g->opts[0] ? ":" : "", g->opts);
        for (int k = 0; k < NLR; k++)
            fprintf(f, "\t-");
        fprintf(f, "\t%s\n", lr4 >= 0 ? LR[lr4] : "none (row 4 has no lr)");
        if (lr4 >= 0)
            fprintf(jobs, "%d\t%s%s%s\t%s\t%d\n", nc + nfollow++, g->method, g->opts[0] ? ":" : "",
                    g->opts, LR[lr4], grid_reduced_on(pbit, g->method, g->opts, sc));
    }
    repro_plan_free(&p);
    out_close(f, path);
    out_close(jobs, jpath);
    repro_summary_put(&s, "configurations", nc, nc, nc);
    repro_summary_put(&s, "selected", nsel, nsel, nsel);
    repro_summary_put(&s, "at_grid_edge", nedge, nedge, nedge);
    repro_summary_put(&s, "log_configurations", nlog, nlog, nlog);
    repro_summary_put(&s, "log_with_lr", nlog_sel, nlog_sel, nlog_sel);
    repro_summary_put(&s, "raw_configurations", nraw, nraw, nraw);
    repro_summary_put(&s, "raw_with_lr", nraw_sel, nraw_sel, nraw_sel);
    repro_summary_put(&s, "at_row4_lr", nfollow, nfollow, nfollow);
    sum_close(&s);
    printf("[dbmtl] %s lr selection: %d of %d configurations have an lr (%d at an end of the "
           "grid); %d more rows run at row 4's\n", problem, nsel, nc, nedge, nfollow);
    return 0;
}

int sgd_load(const char *out, const char *problem, repro_runs *r)
{
    char jpath[1024], line[1024];
    jobs_path(jpath, sizeof jpath, out, problem);
    repro_runs_clear(r, problem);
    FILE *f = fopen(jpath, "r");
    if (!f)
        return -1; /* the SGD stage did not run */
    int n = 0;
    while (fgets(line, sizeof line, f)) {
        int idx;
        char arg[600], lr[32];
        if (sscanf(line, "%d\t%599s\t%31s", &idx, arg, lr) != 3)
            die("%s: a line I did not write: %s", jpath, line);
        char dir[1100];
        snprintf(dir, sizeof dir, "%s/sweep_%s/%d", out, problem, idx);
        repro_plan p;
        if (repro_plan_read(dir, &p))
            continue; /* that configuration's sweep has not run */
        /* the table keeps the problem's name; each sweep's jobs are of its own lr */
        snprintf(r->problem, sizeof r->problem, "%s@lr=%s", problem, lr);
        int rc = repro_runs_load_plan(r, &p, NULL, NULL);
        repro_plan_free(&p);
        if (rc)
            die("%s: cannot read its runs", dir);
        n++;
    }
    fclose(f);
    snprintf(r->problem, sizeof r->problem, "%s", problem);
    return n ? 0 : -1;
}

int sgd_lr_of(const char *out, const char *problem, const char *method, const char *opts,
              char *lr, size_t n)
{
    char jpath[1024], line[1024], want[600];
    jobs_path(jpath, sizeof jpath, out, problem);
    snprintf(want, sizeof want, "%s%s%s", method, opts[0] ? ":" : "", opts);
    FILE *f = fopen(jpath, "r");
    int found = 0;
    while (f && !found && fgets(line, sizeof line, f)) {
        int idx;
        char arg[600], v[32];
        if (sscanf(line, "%d\t%599s\t%31s", &idx, arg, v) == 3 && !strcmp(arg, want)) {
            snprintf(lr, n, "%s", v);
            found = 1;
        }
    }
    if (f)
        fclose(f);
    return found ? 0 : -1;
}

/* the per-configuration sweep directories, for the report's provenance scan */
int sgd_sweep_dirs(const char *out, char dirs[][1024], int max)
{
    int n = 0;
    for (int i = 0; i < N_PROBLEMS; i++) {
        if (!(PROBLEMS[i].bit & P_SGDSEL))
            continue;
        const char *problem = PROBLEMS[i].name;
        if (n < max)
            snprintf(dirs[n++], 1024, "%s/sweep_%s-select", out, problem);
        char jpath[1024], line[1024];
        jobs_path(jpath, sizeof jpath, out, problem);
        FILE *f = fopen(jpath, "r");
        while (f && n < max && fgets(line, sizeof line, f)) {
            int idx;
            if (sscanf(line, "%d", &idx) == 1)
                snprintf(dirs[n++], 1024, "%s/sweep_%s/%d", out, problem, idx);
        }
        if (f)
            fclose(f);
    }
    return n;
}
