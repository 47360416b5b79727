/* sgd.c: the SGD profile of imtl.md sec. 1 (IMTL App. D: SGD momentum 0.9, weight decay
 * 1e-4, lr (1 - k/K)^0.9; the problems lsd3c-sgd and lsd3cx10@1-sgd, problems.c) and the
 * experiments that need it:
 *   sgdargs   the methods of the SGD runs at this scale (one `name[:options]` a line)
 *   sgdsel    the problems of the selection sweep: lsd3c-sgd@lr=<lr>@val for the spec's grid
 *             {1e-3, 3e-3, 1e-2, 3e-2, 1e-1} (@val: the last 20 % of the training set is the
 *             evaluation split, so the test split plays no part in the choice)
 *   lrsel     after that sweep (seed 0, ×1): per method the lr with the best validation Δp
 *             (against the per-task median of every selection run: a common reference, so the
 *             choice is a fixed weighting of the tasks' relative changes); a run that diverged
 *             is never chosen. Writes imtl_lr_select.tsv, summary_lrsel.tsv and sgd_jobs.tsv,
 *             the ×1 / ×10 sweeps at each method's lr, reused unchanged for ×10 (spec), and for
 *             GLS also ×10 at lr 10^(−1/3) times its own (erratum I-E3: a loss scale is a
 *             learning rate for GLS under SGD)
 *   audit_sgd after those sweeps: I10's SGD columns (imtl_scale_audit_sgd.tsv, as the Adam
 *             audit: seed-paired ΔM = M(×10) − M(×1) per task, ranked by mean |ΔM| / seed std),
 *             GLS's rescaled-lr control (summary_sgd_gls.tsv) and I11's SGD comparison
 *             (imtl_methods_sgd.tsv: per-task metrics and Δp against SGD-EW, seed-paired;
 *             summary_compare_sgd.tsv).
 * Scales: smoke ew and imtl_g, lr 1e-2 and 1e-1 (the pipeline's plumbing); paper ew, gls, imtl_g, imtl (one
 * method of each class the claims name; the budget of README's scale table); full every
 * method of I11's list. LSD-6 under SGD is not run (README, "What is left"). */
#include "imtl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../common/lr_select.h"
#include "mtb/stats.h"

/* level: 2 at every scale, 1 at paper and full, 0 at full only (labels as I11's list, so
 * audit_predicted knows them) */
static const struct {
    const char *label, *name, *opts;
    int level;
} SM[] = {
    {"ew", "ew", "", 2},
    {"imtl_g", "imtl_g", "", 2},
    {"gls", "gls", "", 1},
    {"imtl", "imtl", "", 1},
    {"mgda", "mgda", "", 0},
    {"uw", "uw", "", 0},
    {"uw-kendall", "uw", "form=kendall,init=0,ce_mask=1,l1_mask=6", 0},
    {"imtl_l", "imtl_l", "", 0},
    {"gradnorm α=0", "gradnorm", "alpha=0", 0},
    {"gradnorm α=1.5", "gradnorm", "alpha=1.5", 0},
    {"mgda-ub", "mgda", "solver=closed_form,level=rep", 0},
    {"pcgrad", "pcgrad", "", 0},
    {"imtl-g feat-sum", "imtl_g", "level=rep_sum", 0},
    {"imtl-g exact", "imtl_g", "level=param", 0},
};
enum { NSM = sizeof SM / sizeof SM[0], NLR = 5 };
/* imtl.md sec. 1: the base lr grid, spelled as the problem names carry it */
static const char *const LR[NLR] = {"0.001", "0.003", "0.01", "0.03", "0.1"};

#define SEL_SWEEP "sweep_sgd_select"
#define JOBS_FILE "sgd_jobs.tsv"

/* smoke: 1e-2 and 1e-1 only (the plumbing, in seconds) */
static int lr_in(int k, const iscale *r) { return r->s != REPRO_SMOKE || k == 2 || k == 4; }

static int included(int i, const iscale *r)
{
    return SM[i].level == 2 || (SM[i].level == 1 && r->s != REPRO_SMOKE) || r->s == REPRO_FULL;
}

int cmd_sgdargs(const char *out, const iscale *r)
{
    (void)out;
    for (int i = 0; i < NSM; i++)
        if (included(i, r))
            printf("%s%s%s\n", SM[i].name, SM[i].opts[0] ? ":" : "", SM[i].opts);
    return 0;
}

int cmd_sgdsel(const char *out, const iscale *r)
{
    (void)out;
    for (int k = 0, n = 0; k < NLR; k++)
        if (lr_in(k, r))
            printf("%slsd3c-sgd@lr=%s@val", n++ ? "," : "", LR[k]);
    printf("\n");
    return 0;
}

static void sel_problem(char *buf, size_t n, int k)
{
    snprintf(buf, n, "lsd3c-sgd@lr=%s@val", LR[k]);
}

/* the three problems of a method's SGD sweep at base lr `lr`: ×1, ×10 on the CE task, and
 * (GLS) ×10 at lr 10^(-1/3) lr */
static void sgd_problems(const char *lr, char p1[64], char p10[64], char p10r[64])
{
    snprintf(p1, 64, "lsd3c-sgd@lr=%s", lr);
    snprintf(p10, 64, "lsd3cx10@1-sgd@lr=%s", lr);
    snprintf(p10r, 64, "lsd3cx10@1-sgd@lr=%.6g", atof(lr) * pow(10.0, -1.0 / 3.0));
}

int cmd_lrsel(const char *out, const iscale *r)
{
    repro_plan p;
    int have = audit_open_plan(out, SEL_SWEEP, &p);
    static runs_rows R[NSM][NLR];
    static double M[NSM * NLR * REPRO_LR_MAXT];
    int T = 0, hb[REPRO_LR_MAXT] = {0}, ok[NSM * NLR] = {0};
    for (int i = 0; i < NSM; i++)
        for (int k = 0; k < NLR; k++) {
            char prob[64];
            sel_problem(prob, sizeof prob, k);
            if (!included(i, r) || !lr_in(k, r))
                continue;
            runs_of(have ? &p : NULL, prob, SM[i].name, SM[i].opts, &R[i][k]);
            const runs_rows *a = &R[i][k];
            const int j = runs_seed_index(a, 0), c = i * NLR + k;
            if (j < 0 || a->T > REPRO_LR_MAXT)
                continue;
            ok[c] = 1;
            T = a->T;
            for (int t = 0; t < T; t++) {
                M[(size_t)c * REPRO_LR_MAXT + t] = a->M[j][t], hb[t] = a->hb[t];
                ok[c] = ok[c] && isfinite(a->M[j][t]);
            }
        }
    /* the common reference (each task's median over the selection runs) and the choice */
    double dp[NSM * NLR];
    int bestv[NSM];
    if (repro_lr_select(NSM, NLR, T, M, ok, hb, dp, bestv))
        die("lrsel: out of memory choosing the learning rates");
    char path[1024], jpath[1024];
    FILE *f = out_open(out, "imtl_lr_select.tsv", path, sizeof path);
    FILE *jobs = out_open(out, JOBS_FILE, jpath, sizeof jpath);
    repro_lr_select_header(f, "method", LR, NLR);
    repro_summary s;
    sum_open(&s, out, "lrsel");
    int nm = 0, nsel = 0, nedge = 0;
    for (int i = 0; i < NSM; i++) {
        if (!included(i, r))
            continue;
        nm++;
        fprintf(f, "%s", SM[i].label);
        const int best = bestv[i];
        for (int k = 0; k < NLR; k++) {
            const runs_rows *a = &R[i][k];
            int j = runs_seed_index(a, 0);
            char prob[64];
            sel_problem(prob, sizeof prob, k);
            const char *file = have ? repro_plan_file(&p, prob, SM[i].name, SM[i].opts, 0) : NULL;
            const double d = dp[i * NLR + k];
            if (!lr_in(k, r))
                fprintf(f, "\tnot in the smoke grid");
            else if (isfinite(d))
                fprintf(f, "\t%+.2f", d);
            else /* runs_of skips diverged runs: a planned file that is not a result diverged */
                fprintf(f, "\t%s", !file ? "not run" : j < 0 ? "diverged or missing" : "non-finite");
        }
        fprintf(f, "\t%s\n", best >= 0 ? LR[best] : "none (no run finished)");
        if (best < 0)
            continue;
        nsel++;
        nedge += best == 0 || best == NLR - 1;
        repro_summary_putf(&s, atof(LR[best]), atof(LR[best]), atof(LR[best]), "lr_%s", SM[i].label);
        char p1[64], p10[64], p10r[64];
        sgd_problems(LR[best], p1, p10, p10r);
        fprintf(jobs, "%d\t%s%s%s\t%s,%s%s%s\n", i, SM[i].name, SM[i].opts[0] ? ":" : "", SM[i].opts,
                p1, p10, strcmp(SM[i].name, "gls") ? "" : ",", strcmp(SM[i].name, "gls") ? "" : p10r);
    }
    if (have)
        repro_plan_free(&p);
    out_close(f, path);
    out_close(jobs, jpath);
    repro_summary_put(&s, "methods", nm, nm, nm);
    repro_summary_put(&s, "selected", nsel, nsel, nsel);
    repro_summary_put(&s, "at_grid_edge", nedge, nedge, nedge);
    sum_close(&s);
    printf("[SGD lr selection] %d of %d methods have an lr (%d at an end of the grid)\n", nsel, nm,
           nedge);
    return 0;
}

/* one line of sgd_jobs.tsv: the method index and its chosen lr (from the ×1 problem) */
typedef struct sgd_job {
    int i;
    char lr[32];
} sgd_job;

static int read_jobs(const char *out, sgd_job *J, int max)
{
    char path[1024], line[1024];
    snprintf(path, sizeof path, "%s/%s", out, JOBS_FILE);
    FILE *f = fopen(path, "r");
    int n = 0;
    while (f && n < max && fgets(line, sizeof line, f)) {
        int i;
        const char *lr = strstr(line, "lsd3c-sgd@lr=");
        if (sscanf(line, "%d", &i) != 1 || i < 0 || i >= NSM || !lr)
            die("%s: a line I did not write: %s", path, line);
        J[n].i = i;
        snprintf(J[n].lr, sizeof J[n].lr, "%.*s", (int)strcspn(lr + 13, ","), lr + 13);
        n++;
    }
    if (f)
        fclose(f);
    return n;
}

static int find(const sgd_job *J, int nj, const char *label)
{
    for (int j = 0; j < nj; j++)
        if (!strcmp(SM[J[j].i].label, label))
            return j;
    return -1;
}

/* I11 under SGD: the ×1 runs at each method's lr (test split), Δp against SGD-EW */
static void compare_sgd(const char *out, const sgd_job *J, int nj, runs_rows *X1)
{
    char path[1024];
    FILE *f = out_open(out, "imtl_methods_sgd.tsv", path, sizeof path);
    int T = 0;
    for (int j = 0; j < nj; j++)
        T = X1[j].n ? X1[j].T : T;
    fprintf(f, "method\tlr\tseeds");
    static const char *MN[3] = {"t1 accuracy ↑", "t2 MAE/σ ↓", "t3 MAE/σ ↓"};
    for (int t = 0; t < T; t++)
        fprintf(f, "\t%s", t < 3 ? MN[t] : "metric");
    fprintf(f, "\tΔp_EW(SGD) %%\n");
    int iew = find(J, nj, "ew");
    const runs_rows *ew = iew >= 0 ? &X1[iew] : NULL;
    for (int j = 0; j < nj; j++) {
        const runs_rows *a = &X1[j];
        fprintf(f, "%s\t%s\t%d", SM[J[j].i].label, J[j].lr, a->n);
        for (int t = 0; t < T; t++) {
            double v[RUNS_SEEDS];
            for (int k = 0; k < a->n; k++)
                v[k] = a->M[k][t];
            mtb_stats_summary q = mtb_stats_summarise(v, (size_t)a->n);
            fprintf(f, "\t%.4g ± %.2g", q.mean, q.ci95);
        }
        double d[RUNS_SEEDS];
        int n = 0;
        for (int k = 0; ew && k < a->n; k++)
            if (isfinite(d[n] = runs_dp(a, k, ew, NULL)))
                n++;
        mtb_stats_summary q = mtb_stats_summarise(d, (size_t)n);
        fprintf(f, "\t%+.2f ± %.2f\n", q.mean, q.ci95);
    }
    out_close(f, path);
    repro_summary s;
    sum_open(&s, out, "compare_sgd");
    int ii = find(J, nj, "imtl"), ig = find(J, nj, "imtl_g"), im = find(J, nj, "mgda");
    if (ii >= 0 && ig >= 0 && ew) {
        mtb_stats_summary q = runs_paired(&X1[ii], &X1[ig], ew, -1);
        repro_summary_put(&s, "a_imtl_minus_imtlg", q.mean, q.mean - q.ci95, q.mean + q.ci95);
    }
    if (im >= 0 && ew) {
        mtb_stats_summary q = runs_paired(&X1[im], ew, ew, 1);
        repro_summary_put(&s, "e_mgda_minus_ew_t2", q.mean, q.mean - q.ci95, q.mean + q.ci95);
    }
    sum_close(&s);
}

int cmd_audit_sgd(const char *out, const iscale *r)
{
    (void)r;
    sgd_job J[NSM];
    int nj = read_jobs(out, J, NSM), nr = 0, T = 0;
    audit_row rows[NSM];
    static runs_rows X1[NSM];
    repro_summary s;
    sum_open(&s, out, "sgd_gls");
    for (int j = 0; j < nj; j++) {
        const int i = J[j].i;
        char dir[64], p1[64], p10[64], p10r[64];
        snprintf(dir, sizeof dir, "sweep_sgd/%d", i);
        sgd_problems(J[j].lr, p1, p10, p10r);
        repro_plan p;
        int have = audit_open_plan(out, dir, &p);
        runs_of(have ? &p : NULL, p1, SM[i].name, SM[i].opts, &X1[j]);
        nr += audit_method(have ? &p : NULL, p1, p10, NULL, 0, SM[i].label, SM[i].name, SM[i].opts,
                           &rows[nr], &T);
        if (!strcmp(SM[i].name, "gls") && nr && !strcmp(rows[nr - 1].label, SM[i].label)) {
            /* erratum I-E3: ×10 at lr 10^(-1/3) lr against ×10 at lr, both against ×1 */
            audit_row g;
            int Tg;
            if (audit_method(have ? &p : NULL, p1, p10r, NULL, 0, "gls", "gls", "", &g, &Tg)) {
                double ratio = g.score / rows[nr - 1].score;
                repro_summary_put(&s, "rescaled_over_same", ratio, ratio, ratio);
                repro_summary_put(&s, "score_same", rows[nr - 1].score, rows[nr - 1].score,
                                  rows[nr - 1].score);
                repro_summary_put(&s, "score_rescaled", g.score, g.score, g.score);
            }
        }
        if (have)
            repro_plan_free(&p);
    }
    sum_close(&s);
    audit_write(out, rows, nr, T, 0, 0, "imtl_scale_audit_sgd.tsv", "audit_sgd.dat", "audit_sgd",
                "lsd3c-sgd");
    compare_sgd(out, J, nj, X1);
    return 0;
}
