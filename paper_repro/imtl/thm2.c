/* thm2.c: I3, Theorem 2 (App. B.1): with the losses scaled by k_t > 0 IMTL-G's aggregated
 * gradient becomes g' = lambda g, lambda = 1 / sum_tau (alpha_tau / k_tau); lambda < 0 (a
 * reversal, erratum I-E1) only where alpha has mixed signs. Also the hybrid IMTL: for any
 * loss scales s its shared direction is IMTL-G's (the e^{s_t} are such k_t). GE cells with
 * d >= T, k_t = 10^U(-3,3). Writes imtl_thm2.tsv and summary_thm2.tsv. */
#include "imtl.h"

#include <math.h>
#include <stdlib.h>

#include "mtb/synth.h"
#include "oracle.h"

static const method_ref IMTL_G = {"imtl-g (exact)", "imtl_g", "level=param"};

static double cosine(const double *a, const double *b, int n)
{
    return imtl_dot(a, b, n) / sqrt(imtl_dot(a, a, n) * imtl_dot(b, b, n));
}

/* shared direction of the hybrid with scales s (set in its learnable state) */
static void hybrid_direction(const double *G, int T, int d, const double *sv, double *g)
{
    const mtb_balancer_type *ty = mtb_balancer_find("imtl");
    mtb_hparams hp;
    mtb_error err = {0};
    if (!ty || mtb_hparams_parse(ty, "level=param", &hp, &err))
        die("imtl: %s", err.msg);
    mtb_balancer *b = mtb_balancer_new(ty, T, (size_t)d, &hp, 1, &err);
    if (!b)
        die("imtl: %s", err.msg);
    const mtb_balancer_setup *su = mtb_balancer_get_setup(b);
    for (int t = 0; t < T; t++)
        su->learn[t] = sv[t];
    double l[16], hw[16], tw[16];
    for (int t = 0; t < T; t++)
        l[t] = 1.0;
    mtb_balance_in in = {.T = T, .losses = l, .G = G, .D = (size_t)d};
    mtb_balance_out out = {.head_w = hw, .trunk_w = tw, .trunk_grad = g};
    if (mtb_balancer_step(b, &in, &out, &err))
        die("imtl: %s", err.msg);
    if (!out.trunk_grad_set)
        imtl_combine(G, T, d, tw, g, hw); /* hw: the projections, unused */
    mtb_balancer_free(b);
}

int cmd_thm2(const char *out, const iscale *r)
{
    enum { DMAX = 1000, TMAX = 10 };
    double *G = malloc(sizeof(double) * TMAX * DMAX), *K = malloc(sizeof(double) * TMAX * DMAX);
    double *g = malloc(sizeof(double) * DMAX), *g2 = malloc(sizeof(double) * DMAX);
    double *work = malloc(sizeof(double) * DMAX), w[TMAX], w2[TMAX], k[TMAX];
    if (!G || !K || !g || !g2 || !work)
        die("out of memory");
    char path[1024];
    FILE *f = out_open(out, "imtl_thm2.tsv", path, sizeof path);
    fprintf(f, "T\td\tdraws\tmin |cos(g',g)|\tmax |g'-lambda g|/|lambda g|\tP(lambda<0)\t"
               "lambda<0 with same-sign alpha\tmin cos(hybrid, imtl-g)\n");
    double worst_cos = 1.0, worst_lam = 0.0, worst_hyb = 1.0, max_rev = 0.0;
    long bad_sign = 0;
    mtb_error err = {0};
    for (int it = 0; it < GE_NT; it++)
        for (int kk = 0; kk < GE_ND; kk++) {
            int T = GE_T[it], d = ge_d(T, kk);
            mtb_rng rng;
            mtb_rng_seed(&rng, 0, (uint64_t)(300 * T + kk));
            double cmin = 1.0, lmax = 0.0, hmin = 1.0;
            long nrev = 0, nbad = 0;
            int n = r->i3_draws;
            for (int q = 0; q < n; q++) {
                mtb_synth_ge(&rng, T, d, 0.7, G, work, &err);
                for (int t = 0; t < T; t++) {
                    k[t] = pow(10.0, -3.0 + 6.0 * mtb_rng_uniform(&rng));
                    for (int j = 0; j < d; j++)
                        K[(size_t)t * d + j] = k[t] * G[(size_t)t * d + j];
                }
                if (method_step(&IMTL_G, T, d, NULL, G, 1, w, NULL, g, &err) ||
                    method_step(&IMTL_G, T, d, NULL, K, 1, w2, NULL, g2, &err))
                    die("imtl_g: %s", err.msg);
                double inv = 0.0;
                int pos = 0, neg = 0;
                for (int t = 0; t < T; t++) {
                    inv += w[t] / k[t];
                    pos |= w[t] > 0, neg |= w[t] < 0;
                }
                double lam = 1.0 / inv, num = 0.0, den = 0.0;
                for (int j = 0; j < d; j++) {
                    num += (g2[j] - lam * g[j]) * (g2[j] - lam * g[j]);
                    den += lam * g[j] * lam * g[j];
                }
                cmin = fmin(cmin, fabs(cosine(g, g2, d)));
                lmax = fmax(lmax, sqrt(num / den));
                if (lam < 0) {
                    nrev++;
                    nbad += !(pos && neg);
                }
                /* the hybrid with random s in [-5, 5]^T */
                double sv[TMAX];
                for (int t = 0; t < T; t++)
                    sv[t] = -5.0 + 10.0 * mtb_rng_uniform(&rng);
                hybrid_direction(G, T, d, sv, g2);
                hmin = fmin(hmin, fabs(cosine(g, g2, d)));
            }
            fprintf(f, "%d\t%d\t%d\t%.17g\t%.3g\t%.4g\t%ld\t%.17g\n", T, d, n, cmin, lmax,
                    (double)nrev / n, nbad, hmin);
            worst_cos = fmin(worst_cos, cmin);
            worst_lam = fmax(worst_lam, lmax);
            worst_hyb = fmin(worst_hyb, hmin);
            bad_sign += nbad;
            max_rev = fmax(max_rev, (double)nrev / n);
        }
    out_close(f, path);
    repro_summary s;
    sum_open(&s, out, "thm2");
    repro_summary_put(&s, "one_minus_cos", 1.0 - worst_cos, 1.0 - worst_cos, 1.0 - worst_cos);
    repro_summary_put(&s, "lambda_err", worst_lam, worst_lam, worst_lam);
    repro_summary_put(&s, "reversal_same_sign", (double)bad_sign, (double)bad_sign, (double)bad_sign);
    repro_summary_put(&s, "max_reversal", max_rev, max_rev, max_rev);
    repro_summary_put(&s, "hybrid_one_minus_cos", 1.0 - worst_hyb, 1.0 - worst_hyb, 1.0 - worst_hyb);
    sum_close(&s);
    printf("[I3] 1 - min|cos| %.3g, lambda err %.3g, hybrid 1 - cos %.3g\n", 1.0 - worst_cos,
           worst_lam, 1.0 - worst_hyb);
    free(G), free(K), free(g), free(g2), free(work);
    return 0;
}
