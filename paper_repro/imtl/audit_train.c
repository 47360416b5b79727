/* audit_train.c: I10 step 2, the loss-scale audit in training (Table 1's ×10 columns), and
 * the method lists of the training sweeps (the reproduce script asks `sweepargs` and
 * `sweepargs3c` for them, so they are written once, here).
 *   LSD-6   (sweep_scale)    lsd6, lsd6x10@5 (the CE task, the analogue of the paper's
 *                            segmentation loss, ×10 before the method sees it) and
 *                            lsd6x1.00000011920928955@5 (× 1 + 2^-23, the next float32
 *                            above 1: the change reached by chaotic divergence alone, the
 *                            ulp floor);
 *   LSD-3C  (sweep_compare)  lsd3c and lsd3cx10@1 (the CE task), the methods of I11; no ulp
 *                            control (its floor is LSD-6's question).
 * Per method and task: the paired change of the final metric Δ_k = M(×10) − M(×1) over the
 * seeds (mean, 95 % t-interval), the ulp change u_k = M(ulp) − M(×1), the ×1 seed std; per
 * method, on the scaled task, the paired difference |Δ_k| − |u_k| (is the ×10 change above
 * the ulp floor?). Methods are ranked by the mean over tasks of |mean Δ| / seed std. Adam
 * profile only; the SGD profile is left (README). At full scale the LSD-6 list also holds
 * every other registered method with its defaults (a method added later is audited too). Writes imtl_scale_audit[_lsd3c].tsv,
 * audit_train[_lsd3c].dat and summary_audit_train[_lsd3c].tsv. */
#include "imtl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mtb/stats.h"

/* level: 2 at every scale, 1 at paper and full, 0 at full only */
typedef struct tmethod {
    const char *label, *name, *opts;
    int level;
} tmethod;

/* spec imtl.md I10's list (uw-kendall on LSD-6: t4 L1, t5 CE, t6 BCE as CE, the MSE tasks L2) */
static const tmethod TM6[] = {
    {"ew", "ew", "", 2},
    {"rlw", "rlw", "", 0},
    {"rgw", "rgw", "", 0},
    {"uw", "uw", "", 1},
    {"uw-kendall", "uw", "form=kendall,init=0,ce_mask=48,l1_mask=8", 1},
    {"dwa", "dwa", "", 0},
    {"gls", "gls", "", 2},
    {"log-ew", "db_mtl", "gradnorm=false", 1},
    {"imtl_l", "imtl_l", "", 1},
    {"imtl_g", "imtl_g", "", 2},
    {"imtl-g feat-sum", "imtl_g", "level=rep_sum", 0},
    {"imtl-g exact", "imtl_g", "level=param", 1},
    {"imtl", "imtl", "", 1},
    {"mgda", "mgda", "", 1},
    {"mgda-ub", "mgda", "solver=closed_form,level=rep", 1},
    {"gradnorm α=0", "gradnorm", "alpha=0", 1},
    {"gradnorm α=1.5", "gradnorm", "alpha=1.5", 0},
    {"pcgrad", "pcgrad", "", 1},
    {"graddrop", "graddrop", "", 0},
    {"gradvac", "gradvac", "", 0},
    {"cagrad", "cagrad", "", 1},
    {"nash_mtl", "nash_mtl", "", 1},
    {"aligned_mtl", "aligned_mtl", "", 0},
    {"slaw", "slaw", "", 0},
    {"db_mtl", "db_mtl", "", 1},
};
/* spec imtl.md I11's list on LSD-3C (uw-kendall: t1 CE, t2 and t3 L1) */
static const tmethod TM3[] = {
    {"ew", "ew", "", 2},
    {"uw", "uw", "", 1},
    {"uw-kendall", "uw", "form=kendall,init=0,ce_mask=1,l1_mask=6", 1},
    {"gls", "gls", "", 1},
    {"imtl_l", "imtl_l", "", 1},
    {"gradnorm α=0", "gradnorm", "alpha=0", 1},
    {"gradnorm α=1.5", "gradnorm", "alpha=1.5", 1},
    {"mgda", "mgda", "", 1},
    {"mgda-ub", "mgda", "solver=closed_form,level=rep", 1},
    {"pcgrad", "pcgrad", "", 1},
    {"imtl_g", "imtl_g", "", 2},
    {"imtl-g feat-sum", "imtl_g", "level=rep_sum", 1},
    {"imtl-g exact", "imtl_g", "level=param", 1},
    {"imtl", "imtl", "", 2},
};

static int included(const tmethod *m, const iscale *r)
{
    return m->level == 2 || (m->level == 1 && r->s != REPRO_SMOKE) || r->s == REPRO_FULL;
}

static void print_list(const tmethod *L, int n, const iscale *r)
{
    for (int i = 0; i < n; i++)
        if (included(&L[i], r))
            printf("%s%s%s\n", L[i].name, L[i].opts[0] ? ":" : "", L[i].opts);
}

/* at full scale, also every other registered method with its defaults, so that a method
 * added later is audited in training without a change here */
static int extra_registered(int i, const iscale *r)
{
    if (r->s != REPRO_FULL)
        return 0;
    const char *name = mtb_balancer_types[i]->name;
    for (size_t k = 0; k < sizeof TM6 / sizeof TM6[0]; k++)
        if (!strcmp(TM6[k].name, name) && !TM6[k].opts[0])
            return 0;
    return 1;
}

int cmd_sweepargs(const char *out, const iscale *r)
{
    (void)out;
    print_list(TM6, (int)(sizeof TM6 / sizeof TM6[0]), r);
    for (int i = 0; mtb_balancer_types[i]; i++)
        if (extra_registered(i, r))
            printf("%s\n", mtb_balancer_types[i]->name);
    return 0;
}

int cmd_sweepargs3c(const char *out, const iscale *r)
{
    (void)out;
    print_list(TM3, (int)(sizeof TM3 / sizeof TM3[0]), r);
    return 0;
}

int train_methods(int lsd3c, const iscale *r, const char **label, const char **name,
                  const char **opts, int max)
{
    const tmethod *L = lsd3c ? TM3 : TM6;
    int n = lsd3c ? (int)(sizeof TM3 / sizeof TM3[0]) : (int)(sizeof TM6 / sizeof TM6[0]), k = 0;
    for (int i = 0; i < n && k < max; i++)
        if (included(&L[i], r)) {
            label[k] = L[i].label, name[k] = L[i].name, opts[k] = L[i].opts;
            k++;
        }
    for (int i = 0; !lsd3c && mtb_balancer_types[i] && k < max; i++)
        if (extra_registered(i, r)) {
            label[k] = name[k] = mtb_balancer_types[i]->name, opts[k] = "";
            k++;
        }
    return k;
}

typedef struct audit_cfg {
    int lsd3c;
    const char *sweep, *p1, *p10, *pulp;
    int scaled;
    const char *table, *dat, *exp;
} audit_cfg;

static const audit_cfg AUD[2] = {
    {0, "sweep_scale", "lsd6", "lsd6x10@5", "lsd6x1.00000011920928955@5", 4,
     "imtl_scale_audit.tsv", "audit_train.dat", "audit_train"},
    {1, "sweep_compare", "lsd3c", "lsd3cx10@1", NULL, 0, "imtl_scale_audit_lsd3c.tsv",
     "audit_train_lsd3c.dat", "audit_train_lsd3c"},
};

static int by_score(const void *a, const void *b)
{
    double x = ((const audit_row *)a)->score, y = ((const audit_row *)b)->score;
    return (x > y) - (x < y);
}

int audit_open_plan(const char *out, const char *sweep, repro_plan *p)
{
    char dir[1024], plan[1100];
    snprintf(dir, sizeof dir, "%s/%s", out, sweep);
    snprintf(plan, sizeof plan, "%s/plan.tsv", dir);
    FILE *probe = fopen(plan, "r");
    if (!probe)
        return 0;
    fclose(probe);
    if (repro_plan_read(dir, p))
        die("cannot read the sweep in %s", dir);
    return 1;
}

int audit_method(const repro_plan *p, const char *p1, const char *p10, const char *pulp,
                 int scaled, const char *label, const char *name, const char *opts, audit_row *w,
                 int *Tout)
{
    static runs_rows a, b, u;
    runs_of(p, p1, name, opts, &a);
    runs_of(p, p10, name, opts, &b);
    if (pulp)
        runs_of(p, pulp, name, opts, &u);
    double d[RUNS_TASKS][RUNS_SEEDS], uu[RUNS_TASKS][RUNS_SEEDS], m1[RUNS_TASKS][RUNS_SEEDS];
    int n = 0, T = 0;
    for (int k = 0; k < a.n; k++) {
        int kb = runs_seed_index(&b, a.seed[k]), ku = pulp ? runs_seed_index(&u, a.seed[k]) : -1;
        if (kb < 0 || (pulp && ku < 0))
            continue;
        T = a.T;
        for (int t = 0; t < T; t++) {
            d[t][n] = b.M[kb][t] - a.M[k][t];
            uu[t][n] = ku >= 0 ? u.M[ku][t] - a.M[k][t] : NAN;
            m1[t][n] = a.M[k][t];
        }
        n++;
    }
    if (n < 2)
        return 0;
    *Tout = T;
    {
        memset(w, 0, sizeof *w);
        w->label = label, w->n = n;
        for (int t = 0; t < T; t++) {
            mtb_stats_summary q = mtb_stats_summarise(d[t], (size_t)n);
            double fl = 0;
            for (int k = 0; k < n; k++)
                fl += fabs(uu[t][k]) / n;
            w->dmean[t] = q.mean, w->dci[t] = q.ci95, w->floor[t] = fl;
            w->std1[t] = mtb_stats_std(m1[t], (size_t)n);
            w->score += (w->std1[t] > 0 ? fabs(q.mean) / w->std1[t] : 0.0) / T;
        }
        double ab[RUNS_SEEDS];
        for (int k = 0; k < n; k++)
            ab[k] = fabs(d[scaled][k]) - fabs(uu[scaled][k]);
        mtb_stats_summary qa = mtb_stats_summarise(ab, (size_t)n);
        w->above_mean = qa.mean, w->above_ci = qa.ci95;
    }
    return 1;
}

static void audit_one(const char *out, const audit_cfg *c, const iscale *r)
{
    repro_plan p;
    int have = audit_open_plan(out, c->sweep, &p);
    const char *lab[64], *nam[64], *opt[64];
    int nm = train_methods(c->lsd3c, r, lab, nam, opt, 64), nr = 0, T = 0;
    audit_row rows[64];
    for (int i = 0; i < nm; i++)
        nr += audit_method(have ? &p : NULL, c->p1, c->p10, c->pulp, c->scaled, lab[i], nam[i],
                           opt[i], &rows[nr], &T);
    if (have)
        repro_plan_free(&p);
    audit_write(out, rows, nr, T, c->pulp != NULL, c->scaled, c->table, c->dat, c->exp, c->p1);
}

void audit_write(const char *out, audit_row *rows, int nr, int T, int has_ulp, int scaled,
                 const char *table, const char *datname, const char *exp, const char *what)
{
    char path[1024];
    qsort(rows, (size_t)nr, sizeof *rows, by_score);
    FILE *f = out_open(out, table, path, sizeof path);
    char dpath[1024];
    FILE *dat = out_open(out, datname, dpath, sizeof dpath);
    fprintf(f, "rank\tmethod\tclass predicted (I10 step 1)\tseeds");
    for (int t = 0; t < T; t++)
        fprintf(f, has_ulp ? "\tt%d: mean ΔM ± CI (ulp floor)" : "\tt%d: mean ΔM ± CI", t + 1);
    fprintf(f, "\tmean |ΔM|/seed std%s\n", has_ulp ? "\tscaled task: |Δ| − |Δ_ulp| ± CI" : "");
    fprintf(dat, "# rank \"method\" |dM_t|/std (t = 1..%d) floor of the scaled task / std\n", T);
    repro_summary s;
    sum_open(&s, out, exp);
    int e_within = 0, e_n = 0, n_beyond = 0, n_n = 0;
    for (int k = 0; k < nr; k++) {
        const audit_row *w = &rows[k];
        const char *pred = audit_predicted(w->label);
        fprintf(f, "%d\t%s\t%s\t%d", k + 1, w->label, pred, w->n);
        fprintf(dat, "%d \"%s\"", k + 1, w->label);
        for (int t = 0; t < T; t++) {
            if (has_ulp)
                fprintf(f, "\t%+.3g ± %.2g (%.2g)", w->dmean[t], w->dci[t], w->floor[t]);
            else
                fprintf(f, "\t%+.3g ± %.2g", w->dmean[t], w->dci[t]);
            fprintf(dat, " %.4g", w->std1[t] > 0 ? fabs(w->dmean[t]) / w->std1[t] : NAN);
        }
        int sc = scaled;
        fprintf(dat, " %.4g\n", has_ulp && w->std1[sc] > 0 ? w->floor[sc] / w->std1[sc] : NAN);
        fprintf(f, "\t%.3g", w->score);
        if (has_ulp)
            fprintf(f, "\t%+.3g ± %.2g", w->above_mean, w->above_ci);
        fprintf(f, "\n");
        repro_summary_putf(&s, k + 1, k + 1, k + 1, "rank_%s", w->label);
        /* within the floor: the paired interval of |Δ| − |u| does not lie above 0 */
        int within = has_ulp && !(w->above_mean - w->above_ci > 0);
        if (!strcmp(pred, "E0") || !strcmp(pred, "E") || !strcmp(pred, "E0|E")) {
            e_n++;
            e_within += within;
        } else if (!strcmp(pred, "N")) {
            n_n++;
            n_beyond += fabs(w->dmean[sc]) > w->std1[sc];
        }
    }
    out_close(f, path);
    out_close(dat, dpath);
    repro_summary_put(&s, "methods", nr, nr, nr);
    repro_summary_put(&s, "e_within_floor", e_within, e_within, e_within);
    repro_summary_put(&s, "e_n", e_n, e_n, e_n);
    repro_summary_put(&s, "n_beyond_spread", n_beyond, n_beyond, n_beyond);
    repro_summary_put(&s, "n_n", n_n, n_n, n_n);
    sum_close(&s);
    printf("[I10 training, %s] %d methods ranked; E0/E within the ulp floor: %d/%d; N beyond the "
           "seed spread: %d/%d\n", what, nr, e_within, e_n, n_beyond, n_n);
}

int cmd_audit_train(const char *out, const iscale *r)
{
    for (int i = 0; i < 2; i++)
        audit_one(out, &AUD[i], r);
    return 0;
}
