/* escape.c: R5, the heuristic that RLW "escapes sharp minima" (ICLR Sec. 4, after Thm. 2,
 * borrowed from Kleinberg et al.), on a 1-D landscape with one sharp and one flat minimum:
 *   f(theta) = q theta^2 - h_s exp(-(theta - theta_s)^2 / (2 w_s^2)) - h_f exp(-(theta - theta_f)^2 / (2 w_f^2))
 * two conflicting tasks l_{1,2} = f +- a theta, data noise s nu_t, nu_t ~ N(0, 1):
 *   RLW:     theta -= eta (f'(theta) + a (lambda~_1 - lambda~_2) + lambda~_1 s nu_1 + lambda~_2 s nu_2)
 *   matched: theta -= eta (f'(theta) + sigma_eff nu),
 *            sigma_eff^2 = E[lambda~_1^2 + lambda~_2^2] s^2 + a^2 E[(lambda~_1 - lambda~_2)^2]
 * (the isotropic noise of the same variance; FW's own noise is the a = 0, mu = 1/2 case).
 * Start at theta_s; P_sharp = fraction of runs with |theta_K - theta_s| < 0.15. */
#include "rlw.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const double QC = 0.02, TS = -1.0, WS = 0.05, HS = 1.0, TF = 1.5, WF = 0.6, HF = 1.0;
static const double ETA = 0.002, SN = 10.0;
static const int R5_V[] = {V_FW, V_UNIFORM, V_NORMAL, V_DIRID, V_CBERN};
enum { R5_NV = 5 };

static double fprime(double x)
{
    double es = exp(-(x - TS) * (x - TS) / (2 * WS * WS)), ef = exp(-(x - TF) * (x - TF) / (2 * WF * WF));
    return 2 * QC * x + HS * (x - TS) / (WS * WS) * es + HF * (x - TF) / (WF * WF) * ef;
}

int cmd_escape(const char *out, const rscale *r)
{
    const int R = r->r5_R;
    const long K = r->r5_K;
    char path[1024], dpath[1024];
    FILE *f = repro_out_open(PROG, out, "rlw_escape.tsv", path, sizeof path);
    fprintf(f, "a\tmethod\tsigma_eff\tP_sharp\tP_sharp_matched\tdifference\n");
    FILE *dat = repro_out_open(PROG, out, "escape.dat", dpath, sizeof dpath);
    fprintf(dat, "sigma_eff\tP_rlw\tP_matched\tmethod\n");
    repro_summary s;
    repro_summary_open_or_die(PROG, &s, out, "escape");
    double m2[R5_NV], dd[R5_NV], mu2[2], C2[4];
    for (int iv = 0; iv < R5_NV; iv++) {
        ws_moments(R5_V[iv], 2, 100000, 555, mu2, C2);
        m2[iv] = C2[0] + C2[3];                /* E[l1^2 + l2^2] */
        dd[iv] = C2[0] + C2[3] - 2 * C2[1];    /* E[(l1 - l2)^2] */
    }
    double fw_min = 1.0, max_diff = 0.0;
    int mono_viol = 0;
    double prev[R5_NV];
    for (int ia = 0; ia < r->r5_na; ia++) {
        double a = r->r5_a[ia];
        for (int iv = 0; iv < R5_NV; iv++) {
            int v = R5_V[iv];
            double sig = sqrt(m2[iv] * SN * SN + a * a * dd[iv]);
            int stay = 0, stay_m = 0;
            for (int rr = 0; rr < R; rr++) {
                wsampler w;
                ws_init(&w, v, 2, (unsigned long long)rr);
                mtb_rng nr, mr;
                mtb_rng_seed(&nr, (uint64_t)rr, 80);
                mtb_rng_seed(&mr, (uint64_t)rr, 81);
                double x = TS, y = TS, lam[2];
                for (long k = 0; k < K; k++) {
                    ws_draw(&w, k, lam);
                    double n1 = mtb_rng_normal(&nr), n2 = mtb_rng_normal(&nr);
                    x -= ETA * (fprime(x) + a * (lam[0] - lam[1]) + lam[0] * SN * n1 + lam[1] * SN * n2);
                    y -= ETA * (fprime(y) + sig * mtb_rng_normal(&mr));
                }
                ws_free(&w);
                stay += fabs(x - TS) < 0.15;
                stay_m += fabs(y - TS) < 0.15;
            }
            double p = (double)stay / R, pm = (double)stay_m / R;
            fprintf(f, "%g\t%s\t%.4g\t%.4f\t%.4f\t%+.4f\n", a, VARIANTS[v].name, sig, p, pm, p - pm);
            fprintf(dat, "%.5g\t%.5f\t%.5f\t%d\n", sig, p, pm, iv);
            if (v == V_FW)
                fw_min = fmin(fw_min, p);
            max_diff = fmax(max_diff, fabs(p - pm));
            /* monotone in a, allowing 2 binomial SEs of slack */
            double se = sqrt(fmax(p * (1 - p), 0.25 / R) / R);
            if (ia > 0 && p > prev[iv] + 2 * se * sqrt(2.0))
                mono_viol++;
            prev[iv] = p;
            char key[64];
            snprintf(key, sizeof key, "P_%s_a%g", VARIANTS[v].name, a);
            repro_summary_put(&s, key, p, p - 1.96 * se, p + 1.96 * se);
            snprintf(key, sizeof key, "Pm_%s_a%g", VARIANTS[v].name, a);
            repro_summary_put(&s, key, pm, pm, pm);
        }
    }
    repro_out_close(PROG, dat, dpath);
    repro_out_close(PROG, f, path);
    repro_summary_put(&s, "fw_min", fw_min, fw_min, fw_min);
    repro_summary_put(&s, "max_diff_matched", max_diff, max_diff, max_diff);
    repro_summary_put(&s, "mono_violations", mono_viol, mono_viol, mono_viol);
    repro_summary_put(&s, "R", R, R, R);
    repro_summary_close_or_die(PROG, &s);
    printf("[rlw] R5 escape: FW min P_sharp %.3f, max |RLW - matched| %.3f\n", fw_min, max_diff);
    return 0;
}
