/* train_logs.c: the training parts of I2, I5 and I7 read from the per-step records of the
 * sweeps' run files (/steps/trunk_weight, /steps/head_weight, /steps/loss; datasets/README.md):
 *   I2  the fraction of steps where IMTL-G (exact, feat-flat, feat-sum) and the hybrid IMTL
 *       give some alpha_t < 0 (the hybrid's trunk weights alpha_t e^{s_t} have alpha's signs);
 *       At T = 40 (mtr-hom-40, sweep_sign, paper scale) also feat-sum with and without
 *       sign_fix, and the Δp of sign_fix against the same seed's run without it;
 *   I5  the same for MGDA-UB's closed form ("almost always" positive, Sec. 5);
 *   I7  IMTL-L with its scale s learned at the network's lr, 10x and 100x (sweep_imtll,
 *       LSD-6): the fraction of steps with every |e^{s_t} l_t - 1| < 0.1 (e^{s_t} is the head
 *       weight), and at the last step log10 e^{s_t} l_t per task.
 * The sign of the common projection is not recorded in run files (a single-step quantity,
 * sign.c). Writes imtl_train_sign.tsv, imtl_imtll_train.tsv and summary_logs.tsv. */
#include "imtl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mtb/deltap.h"
#include "mtb/h5.h"
#include "mtb/stats.h"

/* reads /steps/<name> (steps, T) of a run file; NULL when absent */
static double *steps_of(const char *path, const char *name, size_t *n, size_t *T)
{
    mtb_error err = {0};
    mtb_h5 *h = mtb_h5_open(path, &err);
    if (!h)
        return NULL;
    char obj[64];
    snprintf(obj, sizeof obj, "/steps/%s", name);
    size_t dims[2];
    double *x = NULL;
    if (mtb_h5_read_f64(h, obj, 2, dims, &x, 0, &err))
        x = NULL;
    mtb_h5_close(h);
    *n = dims[0], *T = dims[1];
    return x;
}

static int open_plan(const char *out, const char *name, repro_plan *p)
{
    char dir[1024], path[1100];
    snprintf(dir, sizeof dir, "%s/%s", out, name);
    snprintf(path, sizeof path, "%s/plan.tsv", dir);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    fclose(f);
    return repro_plan_read(dir, p);
}

/* fraction of the recorded steps of all seeds with some trunk weight < 0; NAN: no run */
static double neg_fraction(const repro_plan *p, const char *prob, const char *name,
                           const char *opts, int *seeds)
{
    long neg = 0, all = 0;
    *seeds = 0;
    for (uint64_t s = 0; s < RUNS_SEEDS; s++) {
        const char *path = repro_plan_file(p, prob, name, opts, s);
        size_t n, T;
        double *w = path ? steps_of(path, "trunk_weight", &n, &T) : NULL;
        if (!w)
            continue;
        (*seeds)++;
        for (size_t k = 0; k < n; k++) {
            int any = 0;
            for (size_t t = 0; t < T; t++)
                any |= w[k * T + t] < 0.0;
            neg += any;
        }
        all += (long)n;
        free(w);
    }
    return all ? (double)neg / all : NAN;
}

int cmd_logs(const char *out, const iscale *r)
{
    (void)r;
    char path[1024];
    repro_summary s;
    sum_open(&s, out, "logs");
    repro_plan ps, pc;
    int hs = !open_plan(out, "sweep_scale", &ps), hc = !open_plan(out, "sweep_compare", &pc);
    FILE *f = out_open(out, "imtl_train_sign.tsv", path, sizeof path);
    fprintf(f, "problem\tmethod\tseeds\tfraction of steps with some α_t < 0\n");
    static const struct { const char *label, *name, *opts; } M[5] = {
        {"imtl-g feat-flat", "imtl_g", ""},
        {"imtl-g exact", "imtl_g", "level=param"},
        {"imtl-g feat-sum", "imtl_g", "level=rep_sum"},
        {"imtl (hybrid)", "imtl", ""},
        {"mgda-ub (closed form)", "mgda", "solver=closed_form,level=rep"}};
    for (int pi = 0; pi < 2; pi++) {
        const char *prob = pi ? "lsd6" : "lsd3c";
        const repro_plan *p = pi ? (hs ? &ps : NULL) : (hc ? &pc : NULL);
        for (int m = 0; m < 5 && p; m++) {
            int seeds;
            double fr = neg_fraction(p, prob, M[m].name, M[m].opts, &seeds);
            if (!seeds)
                continue;
            fprintf(f, "%s\t%s\t%d\t%.4g\n", prob, M[m].label, seeds, fr);
            repro_summary_putf(&s, fr, fr, fr, "neg_%s_%s", prob, M[m].label);
        }
    }
    /* I2 at T = 40 (mtr-hom-40, paper scale): feat-sum, the level where T is comparable to
     * the feature width, with and without sign_fix; Δp of sign_fix against the same seed's
     * run without it */
    repro_plan pg;
    if (!open_plan(out, "sweep_sign", &pg)) {
        static const struct { const char *label, *opts; } V[3] = {
            {"imtl-g feat-flat", ""}, {"imtl-g feat-sum", "level=rep_sum"},
            {"imtl-g feat-sum sign_fix", "level=rep_sum,sign_fix=true"}};
        for (int v = 0; v < 3; v++) {
            int seeds;
            double fr = neg_fraction(&pg, "mtr-hom-40", "imtl_g", V[v].opts, &seeds);
            if (!seeds)
                continue;
            fprintf(f, "mtr-hom-40\t%s\t%d\t%.4g\n", V[v].label, seeds, fr);
            repro_summary_putf(&s, fr, fr, fr, "neg_mtr-hom-40_%s", V[v].label);
        }
        static runs_rows a, b;
        runs_of(&pg, "mtr-hom-40", "imtl_g", V[2].opts, &a);
        runs_of(&pg, "mtr-hom-40", "imtl_g", V[1].opts, &b);
        double d[RUNS_SEEDS];
        int n = 0;
        for (int k = 0; k < a.n; k++) {
            int j = runs_seed_index(&b, a.seed[k]);
            if (j >= 0)
                d[n++] = mtb_delta_p((size_t)a.T, a.M[k], b.M[j], a.hb, NULL, a.T, NULL);
        }
        mtb_stats_summary q = mtb_stats_summarise(d, (size_t)n);
        repro_summary_put(&s, "signfix_dp", n ? q.mean : NAN, q.mean - q.ci95, q.mean + q.ci95);
        repro_plan_free(&pg);
    }
    out_close(f, path);
    if (hs)
        repro_plan_free(&ps);
    if (hc)
        repro_plan_free(&pc);

    /* IMTL-L's balance on LSD-6 */
    repro_plan pl;
    f = out_open(out, "imtl_imtll_train.tsv", path, sizeof path);
    fprintf(f, "s learning rate\tseeds\tfraction of steps with every |e^s l − 1| < 0.1\t"
               "last step: log10 e^{s_t} l_t, t = 1..6 (seed mean)\n");
    if (!open_plan(out, "sweep_imtll", &pl)) {
        static const struct { const char *label, *opts, *key; } V[3] = {
            {"network's (7e-4)", "", "net"}, {"10x (7e-3)", "lr=0.007", "10x"},
            {"100x (7e-2)", "lr=0.07", "100x"}};
        for (int v = 0; v < 3; v++) {
            long bal = 0, all = 0;
            int seeds = 0;
            double last[RUNS_TASKS] = {0};
            size_t T = 0;
            for (uint64_t sd = 0; sd < RUNS_SEEDS; sd++) {
                const char *rp = repro_plan_file(&pl, "lsd6", "imtl_l", V[v].opts, sd);
                size_t n, T2;
                double *hw = rp ? steps_of(rp, "head_weight", &n, &T) : NULL;
                double *lo = rp ? steps_of(rp, "loss", &n, &T2) : NULL;
                if (!hw || !lo || T != T2 || T > RUNS_TASKS) {
                    free(hw), free(lo);
                    continue;
                }
                seeds++;
                for (size_t k = 0; k < n; k++) {
                    int ok = 1;
                    for (size_t t = 0; t < T; t++)
                        ok &= fabs(hw[k * T + t] * lo[k * T + t] - 1.0) < 0.1;
                    bal += ok;
                }
                all += (long)n;
                for (size_t t = 0; t < T; t++)
                    last[t] += log10(hw[(n - 1) * T + t] * lo[(n - 1) * T + t]);
                free(hw), free(lo);
            }
            if (!seeds)
                continue;
            double fr = (double)bal / all;
            fprintf(f, "%s\t%d\t%.4g\t", V[v].label, seeds, fr);
            for (size_t t = 0; t < T; t++)
                fprintf(f, "%s%.2f", t ? " " : "", last[t] / seeds);
            fprintf(f, "\n");
            repro_summary_putf(&s, fr, fr, fr, "imtll_balanced_%s", V[v].key);
            double worst = 0;
            for (size_t t = 0; t < T; t++)
                worst = fmax(worst, fabs(last[t] / seeds));
            repro_summary_putf(&s, worst, worst, worst, "imtll_last_worst_log10_%s", V[v].key);
        }
        repro_plan_free(&pl);
    }
    out_close(f, path);
    sum_close(&s);
    printf("[I2, I5, I7 training] sign and IMTL-L balance tables written\n");
    return 0;
}
