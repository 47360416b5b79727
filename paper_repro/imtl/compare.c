/* compare.c: I11, the method comparison (Tables 1-2 analogue), and I9's training part (exact
 * versus feature-level IMTL-G), from the ×1 runs of the training sweeps: LSD-3C
 * (sweep_compare, I11's methods) and LSD-6 (sweep_scale, I10's methods), with the STL
 * references of sweep_stl. Per (problem, method): each task's final metric (seed mean ± 95 %
 * t-interval), Δp against STL and against EW computed per seed against the same seed's
 * reference (DB-MTL Eq. 2, mtb_delta_p) and summarised over the seeds, ms per step and its
 * ratio to EW's. The paper's claims need seed-paired differences, computed here:
 *   (a) IMTL − IMTL-G and IMTL − IMTL-L in Δp_STL;  (c) GradNorm α = 1.5 − α = 0 in t1's
 *   accuracy (LSD-3C);  (d) PCGrad's Δp_EW;  (e) MGDA − EW in t2's MAE/σ (LSD-3C, the
 *   large-gradient task);  (b) EW's per-task Δp_STL on LSD-6 (large-loss t3 against t1, t2);
 *   I7: uw-kendall − uw in t1's accuracy (LSD-3C's CE task: the classification bias);
 *   I9: exact − feat-flat and exact − feat-sum in Δp_STL, and the step-time ratios.
 * Writes imtl_methods.tsv and summary_compare.tsv. */
#include "imtl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mtb/deltap.h"
#include "mtb/stats.h"

typedef struct sweeps {
    repro_plan p;
    int have;
} sweeps;

static void open_sweep(const char *out, const char *name, sweeps *s)
{
    char dir[1024], path[1100];
    snprintf(dir, sizeof dir, "%s/%s", out, name);
    snprintf(path, sizeof path, "%s/plan.tsv", dir);
    FILE *f = fopen(path, "r");
    s->have = 0;
    if (!f)
        return;
    fclose(f);
    if (repro_plan_read(dir, &s->p))
        die("cannot read the sweep in %s", dir);
    s->have = 1;
}

static void put(repro_summary *s, const char *key, mtb_stats_summary q)
{
    double h = isfinite(q.ci95) ? q.ci95 : NAN;
    repro_summary_put(s, key, q.n ? q.mean : NAN, q.mean - h, q.mean + h);
}

int cmd_compare(const char *out, const iscale *r)
{
    sweeps sw_stl, sw_scale, sw_cmp;
    open_sweep(out, "sweep_stl", &sw_stl);
    open_sweep(out, "sweep_scale", &sw_scale);
    open_sweep(out, "sweep_compare", &sw_cmp);
    char path[1024], key[256];
    FILE *f = out_open(out, "imtl_methods.tsv", path, sizeof path);
    fprintf(f, "problem\tmethod\tseeds\tper-task metrics (mean ± CI)\tΔp_STL %%\tΔp_EW %%\t"
               "ms/step\t× EW\n");
    repro_summary s;
    sum_open(&s, out, "compare");
    static const char *PROB[2] = {"lsd3c", "lsd6"};
    for (int pi = 0; pi < 2; pi++) {
        const char *prob = PROB[pi];
        sweeps *sw = pi == 0 ? &sw_cmp : &sw_scale;
        static runs_rows stl, ew, rows[64];
        runs_of(sw_stl.have ? &sw_stl.p : NULL, prob, "stl", "", &stl);
        const char *lab[64], *nam[64], *opt[64];
        int nm = train_methods(pi == 0, r, lab, nam, opt, 64), iew = -1;
        for (int i = 0; i < nm; i++) {
            runs_of(sw->have ? &sw->p : NULL, prob, nam[i], opt[i], &rows[i]);
            if (!strcmp(lab[i], "ew"))
                iew = i;
        }
        if (iew >= 0)
            ew = rows[iew];
        double ms_ew = NAN;
        if (ew.n)
            ms_ew = mtb_stats_mean(ew.ms_step, (size_t)ew.n);
        for (int i = -1; i < nm; i++) {
            const runs_rows *a = i < 0 ? &stl : &rows[i];
            const char *label = i < 0 ? "stl" : lab[i];
            if (!a->n)
                continue;
            fprintf(f, "%s\t%s\t%d\t", prob, label, a->n);
            for (int t = 0; t < a->T; t++) {
                double x[RUNS_SEEDS];
                for (int k = 0; k < a->n; k++)
                    x[k] = a->M[k][t];
                mtb_stats_summary q = mtb_stats_summarise(x, (size_t)a->n);
                fprintf(f, "%st%d %.4g ± %.2g", t ? "; " : "", t + 1, q.mean, q.ci95);
                snprintf(key, sizeof key, "m_%s_%s_t%d", prob, label, t + 1);
                put(&s, key, q);
            }
            double ds[RUNS_SEEDS], de[RUNS_SEEDS];
            int ns = 0, ne = 0;
            for (int k = 0; k < a->n; k++) {
                double v = runs_dp(a, k, &stl, NULL), w = runs_dp(a, k, &ew, NULL);
                if (isfinite(v))
                    ds[ns++] = v;
                if (isfinite(w))
                    de[ne++] = w;
            }
            mtb_stats_summary qs = mtb_stats_summarise(ds, (size_t)ns);
            mtb_stats_summary qe = mtb_stats_summarise(de, (size_t)ne);
            double ms = mtb_stats_mean(a->ms_step, (size_t)a->n);
            fprintf(f, "\t%+.2f ± %.2g\t%+.2f ± %.2g\t%.3g\t%.2f\n", ns ? qs.mean : NAN, qs.ci95,
                    ne ? qe.mean : NAN, qe.ci95, ms, ms / ms_ew);
            snprintf(key, sizeof key, "dpstl_%s_%s", prob, label);
            put(&s, key, ns ? qs : (mtb_stats_summary){0, NAN, NAN, NAN, NAN, NAN});
            snprintf(key, sizeof key, "dpew_%s_%s", prob, label);
            put(&s, key, ne ? qe : (mtb_stats_summary){0, NAN, NAN, NAN, NAN, NAN});
            snprintf(key, sizeof key, "msratio_%s_%s", prob, label);
            repro_summary_put(&s, key, ms / ms_ew, ms / ms_ew, ms / ms_ew);
        }
        /* the paired differences of the claims */
        int ii = -1, ig = -1, il = -1, ig0 = -1, ig15 = -1, im = -1, ix = -1, ifs = -1, iu = -1,
            iuk = -1;
        for (int i = 0; i < nm; i++) {
            if (!strcmp(lab[i], "imtl")) ii = i;
            if (!strcmp(lab[i], "imtl_g")) ig = i;
            if (!strcmp(lab[i], "imtl_l")) il = i;
            if (!strcmp(lab[i], "gradnorm α=0")) ig0 = i;
            if (!strcmp(lab[i], "gradnorm α=1.5")) ig15 = i;
            if (!strcmp(lab[i], "mgda")) im = i;
            if (!strcmp(lab[i], "imtl-g exact")) ix = i;
            if (!strcmp(lab[i], "imtl-g feat-sum")) ifs = i;
            if (!strcmp(lab[i], "uw")) iu = i;
            if (!strcmp(lab[i], "uw-kendall")) iuk = i;
        }
        static const runs_rows none;
#define R(i) ((i) >= 0 ? &rows[i] : &none)
        snprintf(key, sizeof key, "a_imtl_minus_imtlg_%s", prob);
        put(&s, key, runs_paired(R(ii), R(ig), &stl, -1));
        snprintf(key, sizeof key, "a_imtl_minus_imtll_%s", prob);
        put(&s, key, runs_paired(R(ii), R(il), &stl, -1));
        snprintf(key, sizeof key, "c_gn15_minus_gn0_t1_%s", prob);
        put(&s, key, runs_paired(R(ig15), R(ig0), &stl, 0));
        snprintf(key, sizeof key, "e_mgda_minus_ew_t2_%s", prob);
        put(&s, key, runs_paired(R(im), R(iew), &stl, 1));
        snprintf(key, sizeof key, "uwbias_kendall_minus_uw_t1_%s", prob);
        put(&s, key, runs_paired(R(iuk), R(iu), &stl, 0));
        snprintf(key, sizeof key, "i9_exact_minus_flat_%s", prob);
        put(&s, key, runs_paired(R(ix), R(ig), &stl, -1));
        snprintf(key, sizeof key, "i9_exact_minus_sum_%s", prob);
        put(&s, key, runs_paired(R(ix), R(ifs), &stl, -1));
#undef R
        /* (b) EW's per-task Δp_STL, seed means */
        if (pi == 1 && ew.n && stl.n) {
            double acc[RUNS_TASKS] = {0}, pt[RUNS_TASKS];
            int n = 0;
            for (int k = 0; k < ew.n; k++)
                if (isfinite(runs_dp(&ew, k, &stl, pt))) {
                    for (int t = 0; t < ew.T; t++)
                        acc[t] += pt[t];
                    n++;
                }
            for (int t = 0; t < ew.T && n; t++) {
                snprintf(key, sizeof key, "b_ew_dp_task%d", t + 1);
                repro_summary_put(&s, key, acc[t] / n, acc[t] / n, acc[t] / n);
            }
        }
    }
    out_close(f, path);
    sum_close(&s);
    if (sw_stl.have) repro_plan_free(&sw_stl.p);
    if (sw_scale.have) repro_plan_free(&sw_scale.p);
    if (sw_cmp.have) repro_plan_free(&sw_cmp.p);
    printf("[I9, I11] the method table written\n");
    return 0;
}
