/* thm1.c: R2, ICLR Theorem 1 (constant step) on the quadratics Q(10, T, rho, s) (quad.c).
 *   E||theta_k - theta*||^2 <= (1 - 2 eta c)^k ||theta_0 - theta*||^2 + eta kappa/(2c)
 *                                                                  [ICLR Thm. 1, eta <= 1/(2c)]
 * with kappa = sum_t sigma_t^2 (RLW, as printed), kappa_sharp = E||lambda~||^2 sum sigma_t^2
 * (the proof's own intermediate step, erratum E4) and kappa_FW = sum mu_t^2 sum sigma_t^2.
 * sigma_t^2 is taken ex post: kappa^_t = max_k mean_r ||g_t(theta_k)||^2 over the visited
 * iterates (erratum E3: a uniform bound cannot hold on all of R^d). The plateau (mean of the
 * last 20 % of k) is compared with the exact stationary error P_inf (quad_p_inf). */
#include "rlw.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "moments.h"

enum { D = 10 };
static const int R2_V[] = {V_FW, V_UNIFORM, V_NORMAL, V_DIRSM, V_DIRID, V_BERN, V_BERNZ, V_CBERN,
                           V_RNSTEP};
enum { R2_NV = sizeof R2_V / sizeof R2_V[0] };
static const double CELL_RHO[4] = {1, 1, 0, 0}, CELL_S[4] = {1, 0, 0, 1};

int cmd_thm1(const char *out, const rscale *r)
{
    char path[1024];
    FILE *f = repro_out_open(PROG, out, "rlw_thm1.tsv", path, sizeof path);
    fprintf(f, "T\teta\trho\ts\tmethod\tK\tplateau\tplateau_se\tP_inf\tplateau_vs_P_inf\t"
               "kappa_hat\tB_paper_floor\tB_sharp_floor\tB_FW_floor\tmax_MC_over_B_paper\t"
               "max_MC_over_B_sharp\tfinal\n");
    repro_summary s;
    repro_summary_open_or_die(PROG, &s, out, "thm1");
    double worst_paper = 0.0, worst_sharp = 0.0, worst_rel = 0.0, conv = 0.0;
    int discord = 0, pairs = 0;
    double fw_s0 = 0.0, min_rlw_s0 = INFINITY;
    const int R = r->r2_R;
    double *lam = malloc(sizeof(double) * 16), *theta = malloc(sizeof(double) * D),
           *g = malloc(sizeof(double) * 16 * D), *mu = malloc(sizeof(double) * 16),
           *C = malloc(sizeof(double) * 256), *mu_fw = malloc(sizeof(double) * 16);
    for (int it = 0; it < r->r2_nT; it++) {
        int T = r->r2_T[it];
        for (int t = 0; t < T; t++)
            mu_fw[t] = 1.0 / T;
        /* moments of every variant at this T (shared by all cells) */
        double Cv[R2_NV][256], muv[R2_NV][16], sumsq[R2_NV];
        for (int iv = 0; iv < R2_NV; iv++) {
            int v = R2_V[iv];
            ws_moments(v, T, r->r2_moment_draws, 12345, mu, C);
            memcpy(Cv[iv], C, sizeof(double) * (size_t)T * T);
            /* exact means (rlw.md R1): 1/T, or (1 - 2^-T)/T with the zero convention */
            for (int t = 0; t < T; t++)
                muv[iv][t] = v == V_BERNZ ? rlw_bern_mean(T, 1) : 1.0 / T;
            sumsq[iv] = 0.0;
            for (int t = 0; t < T; t++)
                sumsq[iv] += C[t * T + t];
        }
        for (int ie = 0; ie < r->r2_neta; ie++) {
            double eta = r->r2_eta[ie], c = 1.0;
            long K = (long)ceil(8.0 / (eta * c));
            for (int cell = 0; cell < r->r2_ncell; cell++) {
                double rho = CELL_RHO[cell], sn = CELL_S[cell];
                quad q;
                quad_make(&q, D, T, rho, sn, 1.0, 10.0, 7, mu_fw);
                double e0 = 0.0;
                for (int i = 0; i < D; i++)
                    e0 += q.theta_star[i] * q.theta_star[i];
                double *m1 = calloc((size_t)(K + 1), sizeof(double)),
                       *m2 = calloc((size_t)(K + 1), sizeof(double)),
                       *gs = calloc((size_t)(K + 1) * T, sizeof(double));
                double plateau[R2_NV], pinf[R2_NV];
                FILE *dat = NULL;
                char dpath[1024];
                double *curves = NULL;
                if (cell == 0) {
                    char name[96];
                    snprintf(name, sizeof name, "thm1_T%d_eta%g.dat", T, eta);
                    dat = repro_out_open(PROG, out, name, dpath, sizeof dpath);
                    curves = calloc((size_t)(K + 1) * (R2_NV * 2 + 2), sizeof(double));
                }
                for (int iv = 0; iv < R2_NV; iv++) {
                    int v = R2_V[iv];
                    memset(m1, 0, sizeof(double) * (size_t)(K + 1));
                    memset(m2, 0, sizeof(double) * (size_t)(K + 1));
                    memset(gs, 0, sizeof(double) * (size_t)(K + 1) * T);
                    long k0 = K - K / 5; /* plateau: the last 20 % of k */
                    double pl = 0.0, pl2 = 0.0;
                    for (int rr = 0; rr < R; rr++) {
                        wsampler w;
                        ws_init(&w, v, T, (unsigned long long)rr);
                        mtb_rng nr;
                        mtb_rng_seed(&nr, (uint64_t)rr, 77);
                        memset(theta, 0, sizeof(double) * D);
                        double pr = 0.0;
                        for (long k = 0; k <= K; k++) {
                            double e2 = 0.0;
                            for (int i = 0; i < D; i++)
                                e2 += (theta[i] - q.theta_star[i]) * (theta[i] - q.theta_star[i]);
                            m1[k] += e2, m2[k] += e2 * e2;
                            if (k >= k0)
                                pr += e2 / (K - k0 + 1);
                            if (k == K)
                                break;
                            /* stochastic task gradients g_t = A_t (theta - a_t) + xi_t */
                            quad_task_grads(&q, theta, g);
                            for (int t = 0; t < T; t++) {
                                double n2 = 0.0;
                                for (int i = 0; i < D; i++) {
                                    if (sn > 0)
                                        g[t * D + i] += sn / sqrt((double)D) * mtb_rng_normal(&nr);
                                    n2 += g[t * D + i] * g[t * D + i];
                                }
                                gs[k * T + t] += n2;
                            }
                            ws_draw(&w, k, lam);
                            /* theta_{k+1} = theta_k - eta sum_t lambda~_t g_t  [ICLR Alg. 1] */
                            for (int i = 0; i < D; i++) {
                                double u = 0.0;
                                for (int t = 0; t < T; t++)
                                    u += lam[t] * g[t * D + i];
                                theta[i] -= eta * u;
                            }
                        }
                        ws_free(&w);
                        pl += pr, pl2 += pr * pr;
                    }
                    /* kappa^_t = max_k mean_r ||g_t||^2 (ex post, E3) */
                    double kap = 0.0;
                    for (int t = 0; t < T; t++) {
                        double mx = 0.0;
                        for (long k = 0; k < K; k++)
                            mx = fmax(mx, gs[k * T + t] / R);
                        kap += mx;
                    }
                    double musq = 0.0;
                    for (int t = 0; t < T; t++)
                        musq += muv[iv][t] * muv[iv][t];
                    double fl_paper = eta * kap / (2 * c), fl_sharp = eta * sumsq[iv] * kap / (2 * c),
                           fl_fw = eta * musq * kap / (2 * c);
                    double rp = 0.0, rs = 0.0;
                    for (long k = 0; k <= K; k++) {
                        double m = m1[k] / R, se = sqrt(fmax(m2[k] / R - m * m, 0.0) / (R - 1.0));
                        double contr = pow(1 - 2 * eta * c, (double)k) * e0;
                        rp = fmax(rp, (m - 3 * se) / (contr + fl_paper));
                        rs = fmax(rs, (m - 3 * se) / (contr + fl_sharp));
                        if (curves) {
                            curves[k * (R2_NV * 2 + 2) + iv] = m;
                            if (iv == R2_NV - 1) {
                                curves[k * (R2_NV * 2 + 2) + R2_NV] = contr + fl_paper;
                                curves[k * (R2_NV * 2 + 2) + R2_NV + 1] = contr + fl_sharp;
                            }
                        }
                    }
                    plateau[iv] = pl / R;
                    double pl_se = sqrt(fmax(pl2 / R - plateau[iv] * plateau[iv], 0.0) / (R - 1.0));
                    pinf[iv] = quad_p_inf(&q, eta, muv[iv], Cv[iv]);
                    double rel = pinf[iv] > 1e-10 ? (plateau[iv] - pinf[iv]) / pinf[iv] : NAN;
                    double fin = m1[K] / R;
                    fprintf(f, "%d\t%g\t%g\t%g\t%s\t%ld\t%.6g\t%.2g\t%.6g\t%+.4f\t%.5g\t%.5g\t%.5g\t%.5g"
                               "\t%.4f\t%.4f\t%.3g\n",
                            T, eta, rho, sn, VARIANTS[v].name, K, plateau[iv], pl_se, pinf[iv], rel,
                            kap, fl_paper, fl_sharp, fl_fw, rp, rs, fin);
                    worst_paper = fmax(worst_paper, rp);
                    worst_sharp = fmax(worst_sharp, rs);
                    if (isfinite(rel))
                        worst_rel = fmax(worst_rel, fabs(rel));
                    if (rho == 0 && sn == 0)
                        conv = fmax(conv, fin / e0);
                    if (rho == 1 && sn == 0 && T == 3) {
                        if (v == V_FW)
                            fw_s0 = fmax(fw_s0, fin);
                        else
                            min_rlw_s0 = fmin(min_rlw_s0, plateau[iv]);
                    }
                    if (T == 3 && cell == 0 && ie == 0) {
                        char key[96];
                        snprintf(key, sizeof key, "plateau_%s", VARIANTS[v].name);
                        repro_summary_put(&s, key, plateau[iv], plateau[iv] - 1.96 * pl_se,
                                plateau[iv] + 1.96 * pl_se);
                        snprintf(key, sizeof key, "pinf_%s", VARIANTS[v].name);
                        repro_summary_put(&s, key, pinf[iv], pinf[iv], pinf[iv]);
                        if (v == V_NORMAL)
                            repro_summary_put(&s, "floor_paper_normal", fl_paper, fl_paper, fl_paper);
                    }
                }
                /* (c) ordering: pairs of variants ordered differently by plateau and P_inf
                 * (cells where the weights' noise matters: rho = 1) */
                if (rho == 1)
                    for (int i = 0; i < R2_NV; i++)
                        for (int j = i + 1; j < R2_NV; j++) {
                            if (fabs(pinf[i] - pinf[j]) < 0.02 * fmax(pinf[i], pinf[j]))
                                continue; /* ties within 2 %: no order to check */
                            pairs++;
                            discord += (plateau[i] - plateau[j]) * (pinf[i] - pinf[j]) < 0;
                        }
                if (dat) {
                    fprintf(dat, "k");
                    for (int iv = 0; iv < R2_NV; iv++)
                        fprintf(dat, "\t\"%s\"", VARIANTS[R2_V[iv]].name);
                    fprintf(dat, "\t\"B_paper\"\t\"B_sharp\"\n");
                    for (long k = 0; k <= K; k++) {
                        fprintf(dat, "%ld", k);
                        for (int j = 0; j < R2_NV + 2; j++)
                            fprintf(dat, "\t%.6g", curves[k * (R2_NV * 2 + 2) + j]);
                        fprintf(dat, "\n");
                    }
                    repro_out_close(PROG, dat, dpath);
                    free(curves);
                }
                free(m1), free(m2), free(gs);
                quad_free(&q);
            }
        }
    }
    repro_out_close(PROG, f, path);
    repro_summary_put(&s, "max_ratio_paper", worst_paper, worst_paper, worst_paper);
    repro_summary_put(&s, "max_ratio_sharp", worst_sharp, worst_sharp, worst_sharp);
    repro_summary_put(&s, "max_rel_plateau_pinf", worst_rel, worst_rel, worst_rel);
    repro_summary_put(&s, "order_discordant", discord, discord, discord);
    repro_summary_put(&s, "order_pairs", pairs, pairs, pairs);
    repro_summary_put(&s, "conv_rho0_s0", conv, conv, conv);
    repro_summary_put(&s, "fw_final_s0", fw_s0, fw_s0, fw_s0);
    repro_summary_put(&s, "min_rlw_plateau_s0", min_rlw_s0, min_rlw_s0, min_rlw_s0);
    repro_summary_put(&s, "R", R, R, R);
    repro_summary_close_or_die(PROG, &s);
    free(lam), free(theta), free(g), free(mu), free(C), free(mu_fw);
    printf("[rlw] R2 Theorem 1: max (MC - 3 SE)/bound %.3f (paper's kappa), %.3f (sharp kappa); "
           "max |plateau - P_inf|/P_inf %.3f\n", worst_paper, worst_sharp, worst_rel);
    return 0;
}
