/* moments.c: R1, the moments of the normalised weights lambda~ (TMLR App. A; ICLR Sec. 3).
 * For every distribution of rlw.md sec. 1 and T in {2, 3, 10, 40}: n draws (seed 0) of the
 * registered rlw method, then T mean(lambda~_t) per t, Var(lambda~_1), tau = T Var/(T - 1),
 * E||lambda~||^2 and rho_Adam = 1/sqrt(T E||lambda~||^2), each with its standard error,
 * against the exact values of moments.h where a formula exists. */
#include "rlw.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "moments.h"
#include "mtb/stats.h"

static const int R1_T[] = {2, 3, 10, 40};
enum { R1_NT = 4 };

/* exact E[lambda~_t] x T, or NAN (rnormal-once: depends on the run's (m, v)) */
static double tmean_target(int v, int T)
{
    if (v == V_RNONCE)
        return NAN;
    return v == V_BERNZ ? T * rlw_bern_mean(T, 1) : 1.0;
}
static double var_exact(int v, int T)
{
    return v == V_DIRID ? rlw_dirid_var(T) : v == V_CBERN ? rlw_cbern_var(T) : NAN;
}
static double sumsq_exact(int v, int T)
{
    switch (v) {
    case V_DIRID: return rlw_dirid_sumsq(T);
    case V_CBERN: return 1.0;
    case V_BERN: return rlw_bern_sumsq(T, 0);
    case V_BERNZ: return rlw_bern_sumsq(T, 1);
    default: return NAN;
    }
}

int cmd_moments(const char *out, const rscale *r)
{
    char path[1024];
    FILE *f = repro_out_open(PROG, out, "rlw_weights.tsv", path, sizeof path);
    fprintf(f, "dist\tT\tTmean_min\tTmean_max\tTmean_exact\tmean_max_z\tvar1\tvar1_se\tvar1_exact"
               "\ttau_T\tsumsq\tsumsq_se\tsumsq_exact\texact_max_z\trho_adam\n");
    repro_summary s;
    repro_summary_open_or_die(PROG, &s, out, "moments");
    double mean_maxz = 0.0, exact_maxz = 0.0;
    long n = r->r1_draws;
    double *lam = malloc(sizeof(double) * 40), *sm = malloc(sizeof(double) * 40),
           *sm2 = malloc(sizeof(double) * 40);
    for (int v = 1; v < N_VARIANTS; v++) {
        for (int it = 0; it < R1_NT; it++) {
            int T = R1_T[it];
            wsampler w;
            ws_init(&w, v, T, 0);
            memset(sm, 0, sizeof(double) * 40), memset(sm2, 0, sizeof(double) * 40);
            double q = 0.0, q2 = 0.0, d2 = 0.0, d3 = 0.0, d4 = 0.0, d1 = 0.0;
            for (long k = 0; k < n; k++) {
                ws_draw(&w, k, lam);
                double ss = 0.0;
                for (int t = 0; t < T; t++)
                    sm[t] += lam[t], sm2[t] += lam[t] * lam[t], ss += lam[t] * lam[t];
                q += ss, q2 += ss * ss;
                double e = lam[0] - 1.0 / T; /* centred at 1/T for numerical stability */
                d1 += e, d2 += e * e, d3 += e * e * e, d4 += e * e * e * e;
            }
            ws_free(&w);
            double target = tmean_target(v, T), tmin = INFINITY, tmax = -INFINITY, mz = 0.0;
            for (int t = 0; t < T; t++) {
                double m = sm[t] / n, var = (sm2[t] / n - m * m) * n / (n - 1.0);
                double se = T * sqrt(fmax(var, 0.0) / n);
                tmin = fmin(tmin, T * m), tmax = fmax(tmax, T * m);
                if (isfinite(target)) {
                    double z = fabs(T * m - target) / fmax(se, 1e-300);
                    if (se == 0.0)
                        z = fabs(T * m - target) < 1e-12 ? 0.0 : INFINITY;
                    mz = fmax(mz, z);
                }
            }
            if (isfinite(target))
                mean_maxz = fmax(mean_maxz, mz);
            /* Var(lambda~_1): the unbiased sample variance of e = lambda~_1 - 1/T; its SE
             * from the central fourth moment m4: Var(s^2) = (m4 - var^2)/n + 2 var^2/(n(n-1))
             * (the second term matters when e^2 is constant, as for cbernoulli at T = 2) */
            double m1 = d1 / n, var1 = (d2 / n - m1 * m1) * n / (n - 1.0);
            double m4 = d4 / n - 4 * m1 * d3 / n + 6 * m1 * m1 * d2 / n - 3 * m1 * m1 * m1 * m1;
            double var1_se = sqrt(fmax(m4 - var1 * var1, 0.0) / n + 2 * var1 * var1 / (n * (n - 1.0)));
            double sq = q / n, sq_se = sqrt(fmax(q2 / n - sq * sq, 0.0) / (n - 1.0));
            double ve = var_exact(v, T), se_ = sumsq_exact(v, T), ez = 0.0;
            if (isfinite(ve))
                ez = fmax(ez, fabs(var1 - ve) / fmax(var1_se, 1e-300));
            if (isfinite(se_))
                ez = fmax(ez, sq_se > 0 ? fabs(sq - se_) / sq_se : (fabs(sq - se_) < 1e-12 ? 0 : INFINITY));
            if (isfinite(ve) || isfinite(se_))
                exact_maxz = fmax(exact_maxz, ez);
            double tau = T * var1 / (T - 1.0), rho = rlw_rho_adam(T, sq);
            fprintf(f, "%s\t%d\t%.5f\t%.5f\t%.5f\t%.2f\t%.6g\t%.2g\t%.6g\t%.5f\t%.6g\t%.2g\t%.6g\t%.2f\t%.4f\n",
                    VARIANTS[v].name, T, tmin, tmax, target, isfinite(target) ? mz : NAN, var1,
                    var1_se, ve, tau * T, sq, sq_se, se_,
                    (isfinite(ve) || isfinite(se_)) ? ez : NAN, rho);
            char key[96];
            snprintf(key, sizeof key, "tmean_%s_T%d", VARIANTS[v].name, T);
            double mse = T * sqrt(fmax(sm2[0] / n - (sm[0] / n) * (sm[0] / n), 0.0) / n);
            repro_summary_put(&s, key, T * sm[0] / n, T * sm[0] / n - 1.96 * mse, T * sm[0] / n + 1.96 * mse);
            snprintf(key, sizeof key, "tauT_%s_T%d", VARIANTS[v].name, T);
            repro_summary_put(&s, key, tau * T, tau * T, tau * T);
            snprintf(key, sizeof key, "sumsq_%s_T%d", VARIANTS[v].name, T);
            repro_summary_put(&s, key, sq, sq - 1.96 * sq_se, sq + 1.96 * sq_se);
            snprintf(key, sizeof key, "rho_%s_T%d", VARIANTS[v].name, T);
            repro_summary_put(&s, key, rho, rho, rho);
        }
    }
    repro_out_close(PROG, f, path);
    repro_summary_put(&s, "mean_max_z", mean_maxz, mean_maxz, mean_maxz);
    repro_summary_put(&s, "exact_max_z", exact_maxz, exact_maxz, exact_maxz);
    /* rnormal-once: per-run deviation of the mean weights from 1/T (ICLR: "intractable");
     * 20 runs (seeds 1..20) of n/20 draws: median over runs of max_t |T E[w_t | m, v] - 1| */
    for (int it = 0; it < 3; it++) {
        int T = R1_T[it + 1];
        double dev[20];
        long m = n / 20;
        for (int run = 0; run < 20; run++) {
            wsampler w;
            ws_init(&w, V_RNONCE, T, 1 + run);
            memset(sm, 0, sizeof(double) * 40);
            for (long k = 0; k < m; k++) {
                ws_draw(&w, k, lam);
                for (int t = 0; t < T; t++)
                    sm[t] += lam[t];
            }
            ws_free(&w);
            dev[run] = 0.0;
            for (int t = 0; t < T; t++)
                dev[run] = fmax(dev[run], fabs(T * sm[t] / m - 1.0));
        }
        char key[64];
        snprintf(key, sizeof key, "rnonce_median_dev_T%d", T);
        double med = mtb_stats_median_inplace(dev, 20);
        repro_summary_put(&s, key, med, med, med);
    }
    repro_summary_put(&s, "draws", (double)n, n, n);
    repro_summary_close_or_die(PROG, &s);
    free(lam), free(sm), free(sm2);
    printf("[rlw] R1 moments: %ld draws per cell; max |z| of the means %.2f, of the exact "
           "second moments %.2f\n", n, mean_maxz, exact_maxz);
    return 0;
}
