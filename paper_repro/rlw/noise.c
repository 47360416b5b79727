/* noise.c: R4 part (i), ICLR Appendix B.3's noise claim on the quadratics Q(10, 3, 1, 1).
 * With g^_t the stochastic task gradients of a batch D^ and grad = sum mu_t grad l_t:
 *   xi_FW = sum mu_t g^_t - grad,  xi_RLW = sum lambda~_t g^_t - grad,  x = (lambda~ - mu)^T g^.
 * Derived exact statement (rlw.md R4; erratum E6 for the paper's argument): for lambda~
 * independent of D^ with E lambda~ = mu,
 *   E||xi_RLW||^2 = E||xi_FW||^2 + E||x||^2           (the cross term 2 xi_FW^T x has mean 0)
 *   E||x||^2 = tau E sum_t ||g^_t - gbar||^2        (exchangeable weights, Cov = tau (I - 11^T/T))
 * and sup||xi_RLW|| >= sup||xi_FW|| (Jensen: E_lambda xi_RLW = xi_FW). Points theta_0 = 0,
 * theta*, their midpoint; N (lambda~, D^) pairs per point and distribution. */
#include "rlw.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { D = 10, T4 = 3, NBIN = 20 };
static const int R4_V[] = {V_UNIFORM, V_NORMAL, V_DIRSM, V_DIRID, V_BERN, V_CBERN, V_RNSTEP};
enum { R4_NV = sizeof R4_V / sizeof R4_V[0] };
static const char *POINT[3] = {"theta_0", "theta_star", "midpoint"};

int cmd_noise(const char *out, const rscale *r)
{
    double mu[T4] = {1.0 / 3, 1.0 / 3, 1.0 / 3};
    quad q;
    quad_make(&q, D, T4, 1.0, 1.0, 1.0, 10.0, 7, mu);
    char path[1024], dpath[1024];
    FILE *f = repro_out_open(PROG, out, "rlw_noise.tsv", path, sizeof path);
    fprintf(f, "point\tmethod\tE_xi_FW2\tE_xi_RLW2\textra_measured\textra_se\textra_predicted_tau\t"
               "cross_z\tmax_xi_FW\tmax_xi_RLW\tfrac_cos_gt_0.99\n");
    FILE *dat = repro_out_open(PROG, out, "noise_cos.dat", dpath, sizeof dpath);
    fprintf(dat, "cos");
    for (int p = 0; p < 3; p++)
        fprintf(dat, "\t\"%s\"", POINT[p]);
    fprintf(dat, "\n");
    double hist[3][NBIN] = {{0}};
    repro_summary s;
    repro_summary_open_or_die(PROG, &s, out, "noise");
    double worst_z = 0.0, worst_pred = 0.0, worst_frac = 0.0;
    int sup_fail = 0, cells = 0;
    const int N = r->r4_N;
    double theta[D], g[T4 * D], lam[T4], Cm[T4 * T4], mum[T4], taus[R4_NV];
    /* tau = T Var(lambda~_1)/(T - 1), the variance averaged over the tasks and taken around
     * the sample mean (the mean's own fluctuation would otherwise bias tau by ~1 %) */
    long nt = r->r1_draws * 10 < 1000000 ? r->r1_draws * 10 : 1000000;
    for (int iv = 0; iv < R4_NV; iv++) {
        ws_moments(R4_V[iv], T4, nt, 4242, mum, Cm);
        double var = 0.0;
        for (int t = 0; t < T4; t++)
            var += (Cm[t * T4 + t] - mum[t] * mum[t]) / T4;
        taus[iv] = T4 * var / (T4 - 1.0);
    }
    for (int p = 0; p < 3; p++) {
        for (int i = 0; i < D; i++)
            theta[i] = p == 0 ? 0.0 : p == 1 ? q.theta_star[i] : 0.5 * q.theta_star[i];
        double g0[T4 * D], grad[D];
        quad_task_grads(&q, theta, g0);
        for (int i = 0; i < D; i++) {
            grad[i] = 0.0;
            for (int t = 0; t < T4; t++)
                grad[i] += mu[t] * g0[t * D + i];
        }
        for (int iv = 0; iv < R4_NV; iv++) {
            int v = R4_V[iv];
            double tau = taus[iv];
            wsampler w;
            ws_init(&w, v, T4, 900 + (unsigned long long)p);
            mtb_rng nr;
            mtb_rng_seed(&nr, 31 + (uint64_t)p, 79);
            double sf = 0, sr = 0, sx = 0, sx2 = 0, sc = 0, sc2 = 0, sp = 0, mxf = 0, mxr = 0;
            int hi = 0;
            for (int n = 0; n < N; n++) {
                for (int t = 0; t < T4; t++)
                    for (int i = 0; i < D; i++)
                        g[t * D + i] = g0[t * D + i] + q.s / sqrt((double)D) * mtb_rng_normal(&nr);
                ws_draw(&w, n, lam);
                double xf[D], xr[D], x[D], nf = 0, nr2 = 0, nx = 0, dot = 0, spread = 0;
                for (int i = 0; i < D; i++) {
                    double a = 0, b = 0, gb = 0;
                    for (int t = 0; t < T4; t++)
                        a += mu[t] * g[t * D + i], b += lam[t] * g[t * D + i], gb += g[t * D + i] / T4;
                    for (int t = 0; t < T4; t++)
                        spread += (g[t * D + i] - gb) * (g[t * D + i] - gb);
                    xf[i] = a - grad[i], xr[i] = b - grad[i], x[i] = b - a;
                    nf += xf[i] * xf[i], nr2 += xr[i] * xr[i], nx += x[i] * x[i], dot += xf[i] * x[i];
                }
                sf += nf, sr += nr2, sx += nx, sx2 += nx * nx;
                sc += 2 * dot, sc2 += 4 * dot * dot, sp += tau * spread;
                mxf = fmax(mxf, sqrt(nf)), mxr = fmax(mxr, sqrt(nr2));
                double cs = dot / sqrt(fmax(nf * nx, 1e-300));
                hi += cs > 0.99;
                if (v == V_NORMAL) {
                    int b = (int)floor((cs + 1) / 2 * NBIN);
                    hist[p][b < 0 ? 0 : b >= NBIN ? NBIN - 1 : b] += 1.0;
                }
            }
            ws_free(&w);
            double ex = sx / N, ex_se = sqrt(fmax(sx2 / N - ex * ex, 0.0) / (N - 1.0));
            double cm = sc / N, cse = sqrt(fmax(sc2 / N - cm * cm, 0.0) / (N - 1.0));
            double z = fabs(cm) / fmax(cse, 1e-300), pred = sp / N;
            fprintf(f, "%s\t%s\t%.5g\t%.5g\t%.5g\t%.2g\t%.5g\t%.2f\t%.4g\t%.4g\t%.4f\n", POINT[p],
                    VARIANTS[v].name, sf / N, sr / N, ex, ex_se, pred, z, mxf, mxr, (double)hi / N);
            worst_z = fmax(worst_z, z);
            worst_pred = fmax(worst_pred, fabs(ex - pred) / fmax(ex_se, 1e-300));
            worst_frac = fmax(worst_frac, (double)hi / N);
            sup_fail += mxr < mxf;
            cells++;
        }
    }
    for (int b = 0; b < NBIN; b++) {
        fprintf(dat, "%.3f", -1 + (b + 0.5) * 2.0 / NBIN);
        for (int p = 0; p < 3; p++)
            fprintf(dat, "\t%.5g", hist[p][b] / N / (2.0 / NBIN));
        fprintf(dat, "\n");
    }
    repro_out_close(PROG, dat, dpath);
    repro_out_close(PROG, f, path);
    noise_summary(&s, worst_z, worst_pred, sup_fail, cells, worst_frac, N);
    quad_free(&q);
    printf("[rlw] R4 noise (quadratics): cross term max |z| %.2f, tau prediction max |z| %.2f, "
           "sup violated in %d/%d cells\n", worst_z, worst_pred, sup_fail, cells);
    return 0;
}

void noise_summary(repro_summary *s, double worst_z, double worst_pred, int sup_fail, int cells,
                   double worst_frac, int N)
{
    const char *keys[6] = {"cross_max_z", "pred_max_z", "sup_fail", "cells", "max_frac_cos", "N"};
    const double v[6] = {worst_z, worst_pred, sup_fail, cells, worst_frac, N};
    for (int k = 0; k < 6; k++)
        repro_summary_put(s, keys[k], v[k], v[k], v[k]);
    repro_summary_close_or_die(PROG, s);
}
