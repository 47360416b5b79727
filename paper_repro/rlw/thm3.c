/* thm3.c: R3, ICLR Theorem 3 (decreasing step eta_k = alpha/k, k = 1, 2, ...) on
 * Q(10, 3, 1, 1) with eigenvalues log-spaced on [1, 4]:
 *   E||theta_k - theta*||^2 <= Q/k,  Q = max{2 alpha^2 kappa/(2 alpha c - 1), ||theta_0 - theta*||^2}
 *   E[L(theta_k) - L(theta*)] <= (L/2) Q / k  (L-smoothness; erratum E7)     [ICLR Thm. 3]
 * for alpha > 1/(2c), c = min c_t = 1; kappa = sum kappa^_t ex post (E3). alpha is set in units
 * of 1/c_mu, c_mu = lambda_min(sum mu_t A_t): k E||e_k||^2 should be flat for alpha > 1/(2 c_mu)
 * and grow like k^(1 - 2 alpha c_mu) below. */
#include "rlw.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mtb/stats.h"

enum { D = 10, T3 = 3 };
static const int R3_V[] = {V_FW, V_NORMAL, V_CBERN, V_DIRID};
enum { R3_NV = 4 };
static const double ALPHA[4] = {0.25, 0.6, 1.0, 2.0};
static const long CHECK[5] = {10, 100, 1000, 10000, 20000};

/* mu^T l(theta) */
static double fw_loss(const quad *q, const double *theta)
{
    double L = 0.0;
    for (int t = 0; t < q->T; t++) {
        const double *A = q->A + (size_t)t * D * D, *a = q->a + (size_t)t * D;
        for (int i = 0; i < D; i++)
            for (int j = 0; j < D; j++)
                L += 0.5 * q->mu[t] * (theta[i] - a[i]) * A[i * D + j] * (theta[j] - a[j]);
    }
    return L;
}

int cmd_thm3(const char *out, const rscale *r)
{
    const int R = r->r3_R;
    const long K = r->r3_K;
    double mu[T3] = {1.0 / 3, 1.0 / 3, 1.0 / 3};
    quad q;
    quad_make(&q, D, T3, 1.0, 1.0, 1.0, 4.0, 7, mu);
    double e0 = 0.0;
    for (int i = 0; i < D; i++)
        e0 += q.theta_star[i] * q.theta_star[i];
    double Lstar = fw_loss(&q, q.theta_star), c = 1.0;
    char path[1024];
    FILE *f = repro_out_open(PROG, out, "rlw_thm3.tsv", path, sizeof path);
    fprintf(f, "alpha_c_mu\tmethod\tkappa_hat\tQ\tk\tk_E_err2\tk_E_err2_se\tk_E_gap\tpoint_over_Q\t"
               "gap_over_LQ2\n");
    repro_summary s;
    repro_summary_open_or_die(PROG, &s, out, "thm3");
    repro_summary_put(&s, "c_mu", q.c_mu, q.c_mu, q.c_mu);
    double worst_q = 0.0, worst_flat = 0.0, slope = NAN, slope_se = NAN;
    double *m1 = malloc(sizeof(double) * (size_t)(K + 1)), *m2 = malloc(sizeof(double) * (size_t)(K + 1)),
           *gap = malloc(sizeof(double) * (size_t)(K + 1)), *gs = malloc(sizeof(double) * (size_t)(K + 1) * T3);
    double theta[D], g[T3 * D], lam[T3];
    for (int ia = 0; ia < 4; ia++) {
        double alpha = ALPHA[ia] / q.c_mu;
        char dname[64], dpath[1024];
        snprintf(dname, sizeof dname, "thm3_a%g.dat", ALPHA[ia]);
        FILE *dat = repro_out_open(PROG, out, dname, dpath, sizeof dpath);
        static double curve[R3_NV][64];
        double q_normal = NAN;
        long kgrid[64];
        int ng = 0;
        for (double x = 0; x <= log10((double)K) + 1e-9 && ng < 64; x += 0.1)
            kgrid[ng++] = (long)llround(pow(10, x));
        for (int iv = 0; iv < R3_NV; iv++) {
            int v = R3_V[iv];
            memset(m1, 0, sizeof(double) * (size_t)(K + 1));
            memset(m2, 0, sizeof(double) * (size_t)(K + 1));
            memset(gap, 0, sizeof(double) * (size_t)(K + 1));
            memset(gs, 0, sizeof(double) * (size_t)(K + 1) * T3);
            for (int rr = 0; rr < R; rr++) {
                wsampler w;
                ws_init(&w, v, T3, (unsigned long long)rr);
                mtb_rng nr;
                mtb_rng_seed(&nr, (uint64_t)rr, 78);
                memset(theta, 0, sizeof theta);
                for (long k = 1; k <= K; k++) { /* theta_k, then the step with eta_k = alpha/k */
                    double e2 = 0.0;
                    for (int i = 0; i < D; i++)
                        e2 += (theta[i] - q.theta_star[i]) * (theta[i] - q.theta_star[i]);
                    m1[k] += e2, m2[k] += e2 * e2;
                    if (k == 1 || k % 10 == 0 || k == K)
                        gap[k] += fw_loss(&q, theta) - Lstar;
                    quad_task_grads(&q, theta, g);
                    for (int t = 0; t < T3; t++) {
                        double n2 = 0.0;
                        for (int i = 0; i < D; i++) {
                            g[t * D + i] += 1.0 / sqrt((double)D) * mtb_rng_normal(&nr);
                            n2 += g[t * D + i] * g[t * D + i];
                        }
                        gs[k * T3 + t] += n2;
                    }
                    ws_draw(&w, k, lam);
                    double eta = alpha / (double)k;
                    for (int i = 0; i < D; i++) {
                        double u = 0.0;
                        for (int t = 0; t < T3; t++)
                            u += lam[t] * g[t * D + i];
                        theta[i] -= eta * u;
                    }
                }
                ws_free(&w);
            }
            double kap = 0.0;
            for (int t = 0; t < T3; t++) {
                double mx = 0.0;
                for (long k = 1; k <= K; k++)
                    mx = fmax(mx, gs[k * T3 + t] / R);
                kap += mx;
            }
            double Q = 2 * alpha * c > 1 ? fmax(2 * alpha * alpha * kap / (2 * alpha * c - 1), e0) : NAN;
            if (v == V_NORMAL)
                q_normal = Q;
            double last[2] = {NAN, NAN};
            for (int ic = 0; ic < 6; ic++) {
                long k = ic < 5 ? CHECK[ic] : K;
                if (k > K || (ic < 5 && CHECK[ic] == K))
                    continue;
                double m = m1[k] / R, se = sqrt(fmax(m2[k] / R - m * m, 0.0) / (R - 1.0));
                double gp = (k == 1 || k % 10 == 0 || k == K) ? gap[k] / R : NAN;
                double pq = k * m / Q, gq = k * gp / (0.5 * q.L * Q);
                fprintf(f, "%g\t%s\t%.5g\t%.5g\t%ld\t%.5g\t%.2g\t%.5g\t%.4g\t%.4g\n", ALPHA[ia],
                        VARIANTS[v].name, kap, Q, k, k * m, k * se, k * gp, pq, gq);
                if (isfinite(pq))
                    worst_q = fmax(worst_q, fmax(pq, gq));
                last[0] = last[1], last[1] = k * m;
            }
            if (ALPHA[ia] > 0.5)
                worst_flat = fmax(worst_flat, fabs(last[1] - last[0]) / last[0]);
            for (int j = 0; j < ng; j++)
                curve[iv][j] = kgrid[j] * m1[kgrid[j]] / R;
            if (ALPHA[ia] == 0.25 && v == V_FW) {
                /* slope of log(k E||e||^2) on log k over k >= 1000, 50 log-spaced points */
                double lx[50], ly[50];
                int n = 0;
                for (int j = 0; j < 50; j++) {
                    long k = (long)llround(1000 * pow((double)K / 1000, j / 49.0));
                    if (k > K || k < 1000)
                        continue;
                    lx[n] = log((double)k), ly[n] = log(k * m1[k] / R), n++;
                }
                mtb_stats_linfit fit = mtb_stats_linear_fit(lx, ly, (size_t)n);
                slope = fit.slope, slope_se = fit.slope_se;
            }
        }
        fprintf(dat, "k");
        for (int iv = 0; iv < R3_NV; iv++)
            fprintf(dat, "\t\"%s\"", VARIANTS[R3_V[iv]].name);
        fprintf(dat, "\t\"Q (normal)\"\n");
        for (int j = 0; j < ng; j++) {
            fprintf(dat, "%ld", kgrid[j]);
            for (int iv = 0; iv < R3_NV; iv++)
                fprintf(dat, "\t%.6g", curve[iv][j]);
            fprintf(dat, "\t%.6g\n", q_normal);
        }
        repro_out_close(PROG, dat, dpath);
    }
    repro_out_close(PROG, f, path);
    repro_summary_put(&s, "max_point_over_Q", worst_q, worst_q, worst_q);
    repro_summary_put(&s, "max_flat_change", worst_flat, worst_flat, worst_flat);
    repro_summary_put(&s, "slope_a025", slope, slope - 1.96 * slope_se, slope + 1.96 * slope_se);
    repro_summary_put(&s, "slope_expected", 1 - 2 * 0.25, 0.5, 0.5);
    repro_summary_put(&s, "K", (double)K, K, K);
    repro_summary_close_or_die(PROG, &s);
    printf("[rlw] R3 Theorem 3: c_mu %.3f, max point/Q %.3g, slope at alpha 0.25/c_mu %.3f\n", q.c_mu,
           worst_q, slope);
    free(m1), free(m2), free(gap), free(gs);
    quad_free(&q);
    return 0;
}
