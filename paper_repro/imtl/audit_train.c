/* audit_train.c: I10 step 2, the loss-scale audit in training (Table 1's ×10 columns). Every
 * method of the list below is trained by `mtb sweep` (the reproduce script asks `sweepargs`
 * for the list, so it is written once, here) on three registered problems with paired seeds:
 *   lsd6                          the reference,
 *   lsd6x10@5                     task 5's loss (the CE task, the analogue of the paper's
 *                                 segmentation loss) multiplied by 10 before the method sees it,
 *   lsd6x1.00000011920928955@5    the same with 1 + 2^-23, the next float32 above 1: the
 *                                 change reached by chaotic divergence alone (the ulp floor).
 * Per method and task: the paired change of the final metric Δ_k = M(×10) − M(×1) over the
 * seeds (mean, 95 % t-interval), the ulp change u_k = M(ulp) − M(×1), the ×1 seed std; and
 * per method, on the scaled task, the paired difference |Δ_k| − |u_k| (is the ×10 change above
 * the ulp floor?). Methods are ranked by the mean over tasks of |mean Δ| / seed std. Adam
 * profile only (LSD-6's protocol); LSD-3C and the SGD profile are left (README).
 * Writes imtl_scale_audit.tsv, audit_train.dat and summary_audit_train.tsv. */
#include "imtl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../common/sweep_plan.h"
#include "mtb/run.h"
#include "mtb/stats.h"

#define P1 "lsd6"
#define P10 "lsd6x10@5"
#define PULP "lsd6x1.00000011920928955@5"
#define SCALED 4 /* task 5 */

typedef struct tmethod {
    const char *label, *name, *opts;
    int smoke; /* also at smoke scale */
} tmethod;

/* spec imtl.md I10's list (uw-kendall's types on LSD-6: t4 L1, t5 CE, t6 BCE as CE, the
 * MSE tasks L2) */
static const tmethod TM[] = {
    {"ew", "ew", "", 1},
    {"rlw", "rlw", "", 0},
    {"rgw", "rgw", "", 0},
    {"uw", "uw", "", 0},
    {"uw-kendall", "uw", "form=kendall,init=0,ce_mask=48,l1_mask=8", 0},
    {"dwa", "dwa", "", 0},
    {"gls", "gls", "", 1},
    {"log-ew", "db_mtl", "gradnorm=false", 0},
    {"imtl_l", "imtl_l", "", 0},
    {"imtl_g", "imtl_g", "", 1},
    {"imtl-g feat-sum", "imtl_g", "level=rep_sum", 0},
    {"imtl-g exact", "imtl_g", "level=param", 0},
    {"imtl", "imtl", "", 0},
    {"mgda", "mgda", "", 0},
    {"mgda-ub", "mgda", "solver=closed_form,level=rep", 0},
    {"gradnorm α=0", "gradnorm", "alpha=0", 0},
    {"gradnorm α=1.5", "gradnorm", "alpha=1.5", 0},
    {"pcgrad", "pcgrad", "", 0},
    {"graddrop", "graddrop", "", 0},
    {"gradvac", "gradvac", "", 0},
    {"cagrad", "cagrad", "", 0},
    {"nash_mtl", "nash_mtl", "", 0},
    {"aligned_mtl", "aligned_mtl", "", 0},
    {"slaw", "slaw", "", 0},
    {"db_mtl", "db_mtl", "", 1},
};
#define NTM ((int)(sizeof TM / sizeof TM[0]))

static int included(const tmethod *m, const iscale *r)
{
    return m->smoke || r->s != REPRO_SMOKE;
}

int cmd_sweepargs(const char *out, const iscale *r)
{
    (void)out;
    for (int i = 0; i < NTM; i++)
        if (included(&TM[i], r))
            printf("%s%s%s\n", TM[i].name, TM[i].opts[0] ? ":" : "", TM[i].opts);
    return 0;
}

/* final metrics of a job; 0 if present and not diverged */
static int metrics(const repro_plan *p, const char *problem, const tmethod *m, uint64_t seed,
                   double *M, int *T, int *hb)
{
    const char *path = repro_plan_file(p, problem, m->name, m->opts, seed);
    static mtb_run_summary s;
    mtb_error err = {0};
    if (!path || mtb_run_read_summary(path, &s, &err) || s.diverged || s.T > 16)
        return -1;
    *T = s.T;
    for (int t = 0; t < s.T; t++) {
        M[t] = s.metric_last[t];
        hb[t] = s.metric[t] == MTB_METRIC_ACCURACY || s.metric[t] == MTB_METRIC_BIT_ACCURACY;
    }
    return 0;
}

typedef struct row {
    int m, n;
    double dmean[16], dci[16], floor[16], std1[16], norm[16], score;
    double above_mean, above_ci; /* |Δ| − |u| on the scaled task */
} row;

static int by_score(const void *a, const void *b)
{
    double x = ((const row *)a)->score, y = ((const row *)b)->score;
    return (x > y) - (x < y);
}

int cmd_audit_train(const char *out, const iscale *r)
{
    char dir[1024], path[1024];
    snprintf(dir, sizeof dir, "%s/sweep_scale", out);
    repro_plan p;
    if (repro_plan_read(dir, &p))
        die("no sweep in %s (the reproduce script runs it before `audit_train`)", dir);
    row rows[NTM];
    int nr = 0, T = 0;
    for (int i = 0; i < NTM; i++) {
        if (!included(&TM[i], r))
            continue;
        double d[16][16], u[16][16], m1[16][16];
        int n = 0, hb[16];
        for (uint64_t seed = 0; seed < 16; seed++) {
            double a[16], b[16], c[16];
            int Ta, Tb, Tc;
            if (metrics(&p, P1, &TM[i], seed, a, &Ta, hb) || metrics(&p, P10, &TM[i], seed, b, &Tb, hb) ||
                metrics(&p, PULP, &TM[i], seed, c, &Tc, hb) || Ta != Tb || Ta != Tc)
                continue;
            T = Ta;
            for (int t = 0; t < T; t++) {
                d[t][n] = b[t] - a[t];
                u[t][n] = c[t] - a[t];
                m1[t][n] = a[t];
            }
            n++;
        }
        if (n < 2)
            continue;
        row *w = &rows[nr++];
        memset(w, 0, sizeof *w);
        w->m = i, w->n = n;
        for (int t = 0; t < T; t++) {
            mtb_stats_summary q = mtb_stats_summarise(d[t], (size_t)n);
            double fl = 0;
            for (int k = 0; k < n; k++)
                fl += fabs(u[t][k]) / n;
            w->dmean[t] = q.mean, w->dci[t] = q.ci95, w->floor[t] = fl;
            w->std1[t] = mtb_stats_std(m1[t], (size_t)n);
            w->norm[t] = w->std1[t] > 0 ? fabs(q.mean) / w->std1[t] : NAN;
            w->score += w->norm[t] / T;
        }
        double ab[16];
        for (int k = 0; k < n; k++)
            ab[k] = fabs(d[SCALED][k]) - fabs(u[SCALED][k]);
        mtb_stats_summary qa = mtb_stats_summarise(ab, (size_t)n);
        w->above_mean = qa.mean, w->above_ci = qa.ci95;
    }
    repro_plan_free(&p);
    qsort(rows, (size_t)nr, sizeof *rows, by_score);

    FILE *f = out_open(out, "imtl_scale_audit.tsv", path, sizeof path);
    FILE *dat = out_open(out, "audit_train.dat", path + 512, 512);
    fprintf(f, "rank\tmethod\tclass predicted (I10 step 1)\tseeds");
    for (int t = 0; t < T; t++)
        fprintf(f, "\tt%d: mean ΔM ± CI (ulp floor)", t + 1);
    fprintf(f, "\tmean |ΔM|/seed std\tt5: |Δ| − |Δ_ulp| ± CI\n");
    fprintf(dat, "# rank \"method\" |dM_t|/std (t = 1..%d) floor_t5/std\n", T);
    repro_summary s;
    sum_open(&s, out, "audit_train");
    int e_within = 0, e_n = 0, n_beyond = 0, n_n = 0;
    for (int k = 0; k < nr; k++) {
        const row *w = &rows[k];
        const char *pred = audit_predicted(TM[w->m].label);
        fprintf(f, "%d\t%s\t%s\t%d", k + 1, TM[w->m].label, pred, w->n);
        fprintf(dat, "%d \"%s\"", k + 1, TM[w->m].label);
        for (int t = 0; t < T; t++) {
            fprintf(f, "\t%+.3g ± %.2g (%.2g)", w->dmean[t], w->dci[t], w->floor[t]);
            fprintf(dat, " %.4g", w->norm[t]);
        }
        double fl5 = w->std1[SCALED] > 0 ? w->floor[SCALED] / w->std1[SCALED] : NAN;
        fprintf(dat, " %.4g\n", fl5);
        fprintf(f, "\t%.3g\t%+.3g ± %.2g\n", w->score, w->above_mean, w->above_ci);
        repro_summary_putf(&s, k + 1, k + 1, k + 1, "rank_%s", TM[w->m].label);
        int within = !(w->above_mean - w->above_ci > 0); /* the interval does not exclude 0 */
        if (!strcmp(pred, "E0") || !strcmp(pred, "E") || !strcmp(pred, "E0|E")) {
            e_n++;
            e_within += within;
        } else if (!strcmp(pred, "N")) {
            n_n++;
            n_beyond += fabs(w->dmean[SCALED]) > w->std1[SCALED];
        }
    }
    out_close(f, path);
    out_close(dat, path + 512);
    repro_summary_put(&s, "methods", nr, nr, nr);
    repro_summary_put(&s, "e_within_floor", e_within, e_within, e_within);
    repro_summary_put(&s, "e_n", e_n, e_n, e_n);
    repro_summary_put(&s, "n_beyond_spread", n_beyond, n_beyond, n_beyond);
    repro_summary_put(&s, "n_n", n_n, n_n, n_n);
    sum_close(&s);
    printf("[I10 training] %d methods ranked; E0/E within the ulp floor: %d/%d; N beyond the seed "
           "spread: %d/%d\n", nr, e_within, e_n, n_beyond, n_n);
    return 0;
}
