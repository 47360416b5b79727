/* speed.c: R6, convergence speed against the number of tasks (ICLR App. C.1 Fig. 1; TMLR
 * §5.4 Fig. 2: with 40 tasks c-Bernoulli, which updates the shared parameters from one task per
 * step, is slower; Normal and Bernoulli converge like EW). Reads the speed sweep through its
 * plan.tsv and each run file's evaluation curve (/eval/step, /eval/test_metric): the value at an
 * evaluation is the mean over tasks of the test metric (NMSE for mtr-hom-T, accuracy for
 * bce-T). S_m = the first evaluation (in updates) at which method m's seed-mean curve is within
 * 5 % of EW's final seed mean (<= 1.05 x for lower-is-better, >= 0.95 x for higher), censored
 * at the last evaluation (rlw.md R6). Beside it, each method's head Adam step against EW's and
 * the rho_Adam of R1 that predicts it (head_step.c). */
#include "rlw.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../common/sweep_plan.h"
#include "mtb/h5.h"
#include "mtb/stats.h"

enum { MAXP = 8, MAXM = 16, MAXE = 128 };

/* a method's seed-mean curve; s2: the sum of squared deviations (Welford), for the band */
typedef struct curve { int n; double v[MAXE], s2[MAXE]; long step[MAXE]; int ne; } curve;

/* half-width of the 95 % t interval of evaluation e's seed mean (0 with one seed) */
static double curve_ci(const curve *c, int e)
{
    if (c->n < 2)
        return 0.0;
    return mtb_stats_t_quantile(0.975, c->n - 1) * sqrt(c->s2[e] / (c->n - 1) / c->n);
}

/* mean over tasks of /eval/test_metric per evaluation; *hb: direction */
static int read_curve(const char *path, double *v, long *step, int *ne, int *hb, int *T)
{
    mtb_error err = {0};
    mtb_h5 *f = mtb_h5_open(path, &err);
    if (!f)
        return -1;
    size_t ds[MTB_H5_MAX_RANK], dm[MTB_H5_MAX_RANK], dh[MTB_H5_MAX_RANK];
    int64_t *st = NULL, *h = NULL;
    double *m = NULL;
    int rc = -1;
    if (!mtb_h5_read_i64(f, "/eval/step", 1, ds, &st, &err) &&
        !mtb_h5_read_f64(f, "/eval/test_metric", 2, dm, &m, 0, &err) &&
        !mtb_h5_read_i64(f, "/tasks/higher_is_better", 1, dh, &h, &err) && dm[0] == ds[0] &&
        dm[1] == dh[0] && ds[0] <= MAXE) {
        *ne = (int)ds[0], *T = (int)dm[1], *hb = (int)h[0];
        for (size_t e = 0; e < ds[0]; e++) {
            double s = 0.0;
            for (size_t t = 0; t < dm[1]; t++)
                s += m[e * dm[1] + t] / (double)dm[1];
            v[e] = s, step[e] = (long)st[e] + 1; /* updates done before the evaluation */
        }
        rc = 0;
    }
    free(st), free(m), free(h);
    mtb_h5_close(f);
    return rc;
}

int cmd_speed(const char *out, const rscale *r)
{
    (void)r;
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/sweep_speed", out);
    repro_plan p;
    if (repro_plan_read(dir, &p))
        die("%s: no speed sweep (run the reproduce script)", dir);
    static char prob[MAXP][64], meth[MAXM][64], opts[MAXM][512];
    static curve C[MAXP][MAXM];
    static int T_of[MAXP], hb_of[MAXP];
    int np = 0, nm = 0;
    for (int j = 0; j < p.n; j++) {
        const repro_job *jb = &p.jobs[j];
        int ip = -1, im = -1;
        for (int i = 0; i < np; i++)
            if (!strcmp(prob[i], jb->problem)) ip = i;
        for (int i = 0; i < nm; i++)
            if (!strcmp(meth[i], jb->method) && !strcmp(opts[i], jb->options)) im = i;
        if (ip < 0 && np < MAXP)
            snprintf(prob[ip = np++], 64, "%s", jb->problem);
        if (im < 0 && nm < MAXM) {
            im = nm++;
            snprintf(meth[im], 64, "%s", jb->method);
            snprintf(opts[im], 512, "%s", jb->options);
        }
        if (ip < 0 || im < 0)
            continue;
        double v[MAXE];
        long st[MAXE];
        int ne, hb, T;
        if (read_curve(jb->path, v, st, &ne, &hb, &T))
            continue;
        curve *c = &C[ip][im];
        if (c->n == 0) {
            c->ne = ne;
            memcpy(c->step, st, sizeof(long) * (size_t)ne);
        }
        if (ne != c->ne)
            continue;
        for (int e = 0; e < ne; e++) {
            double d = v[e] - c->v[e];
            c->v[e] += d / (c->n + 1);
            c->s2[e] += d * (v[e] - c->v[e]);
        }
        c->n++;
        T_of[ip] = T, hb_of[ip] = hb;
    }
    char path[1024];
    FILE *f = repro_out_open(PROG, out, "rlw_speed.tsv", path, sizeof path);
    fprintf(f, "problem\tT\tmethod\tseeds\tfinal (task mean)\tS_m (updates)\tcensored\tS_m / S_ew"
               "\thead step / EW's\tρ_Adam (R1)\n");
    double worst = NAN; /* the largest |head step ratio / rho_Adam - 1| over the RLW and RGW rows */
    int n_ratio = 0;
    repro_summary s;
    repro_summary_open_or_die(PROG, &s, out, "speed");
    int iew = -1;
    for (int i = 0; i < nm; i++)
        if (!strcmp(meth[i], "ew") && !opts[i][0])
            iew = i;
    for (int ip = 0; ip < np; ip++) {
        if (iew < 0 || !C[ip][iew].n)
            continue;
        const curve *ce = &C[ip][iew];
        double ref = ce->v[ce->ne - 1];
        long sm[MAXM];
        char dname[128], dpath[1024];
        /* rlw.md's Fig rlw_speed_T{T} for bce-T; mtr-hom-T (SCALE=full) as speed_mtr-hom_T{T} */
        if (!strncmp(prob[ip], "bce-", 4))
            snprintf(dname, sizeof dname, "speed_T%s.dat", prob[ip] + 4);
        else if (!strncmp(prob[ip], "mtr-hom-", 8))
            snprintf(dname, sizeof dname, "speed_mtr-hom_T%s.dat", prob[ip] + 8);
        else
            snprintf(dname, sizeof dname, "speed_%s.dat", prob[ip]);
        FILE *dat = repro_out_open(PROG, out, dname, dpath, sizeof dpath);
        fprintf(dat, "updates");
        for (int im = 0; im < nm; im++) {
            const curve *c = &C[ip][im];
            char lab[600];
            snprintf(lab, sizeof lab, "%.63s%s%.511s", meth[im], opts[im][0] ? ":" : "", opts[im]);
            fprintf(dat, "\t\"%s\"\t\"ci95\"", lab);
            int e = 0, cens = 0;
            if (c->n) {
                while (e < c->ne && !(hb_of[ip] ? c->v[e] >= 0.95 * ref : c->v[e] <= 1.05 * ref))
                    e++;
                if (e == c->ne)
                    e = c->ne - 1, cens = 1;
                sm[im] = c->step[e];
            } else {
                sm[im] = -1;
            }
            (void)cens;
        }
        fprintf(dat, "\n");
        for (int e = 0; e < ce->ne; e++) {
            fprintf(dat, "%ld", ce->step[e]);
            for (int im = 0; im < nm; im++) {
                const curve *c = &C[ip][im];
                int have = c->n && e < c->ne;
                fprintf(dat, "\t%.6g\t%.6g", have ? c->v[e] : NAN, have ? curve_ci(c, e) : NAN);
            }
            fprintf(dat, "\n");
        }
        repro_out_close(PROG, dat, dpath);
        for (int im = 0; im < nm; im++) {
            const curve *c = &C[ip][im];
            if (!c->n)
                continue;
            char lab[600];
            snprintf(lab, sizeof lab, "%.63s%s%.511s", meth[im], opts[im][0] ? ":" : "", opts[im]);
            char key[700];
            int cens = !(hb_of[ip] ? c->v[c->ne - 1] >= 0.95 * ref : c->v[c->ne - 1] <= 1.05 * ref);
            double ratio = sm[iew] > 0 ? (double)sm[im] / (double)sm[iew] : NAN;
            int hs_seeds;
            double hs = im == iew ? NAN : head_step_ratio(&p, prob[ip], meth[im], opts[im], &hs_seeds),
                   rho = im == iew ? NAN : head_step_rho(meth[im], opts[im], T_of[ip]);
            fprintf(f, "%s\t%d\t%s\t%d\t%.5g\t%ld\t%s\t%.3f\t%.3f\t%.3f\n", prob[ip], T_of[ip], lab,
                    c->n, c->v[c->ne - 1], sm[im], cens ? "yes" : "no", ratio, hs, rho);
            if (isfinite(hs) && isfinite(rho)) {
                double dev = fabs(hs / rho - 1.0);
                worst = isfinite(worst) ? fmax(worst, dev) : dev;
                n_ratio++;
                snprintf(key, sizeof key, "headratio_%s_%s", prob[ip], lab);
                repro_summary_put(&s, key, hs, hs, hs);
            }
            snprintf(key, sizeof key, "ratio_%s_%s", prob[ip], lab);
            repro_summary_put(&s, key, ratio, ratio, ratio);
        }
    }
    repro_out_close(PROG, f, path);
    repro_plan_free(&p);
    repro_summary_put(&s, "head_ratio_max_rel_dev", worst, worst, worst);
    repro_summary_put(&s, "head_ratio_rows", n_ratio, n_ratio, n_ratio);
    repro_summary_put(&s, "problems", np, np, np);
    repro_summary_close_or_die(PROG, &s);
    printf("[rlw] R6 speed: %d problems, %d methods\n", np, nm);
    return 0;
}
