/* sign.c: I2, the sign of IMTL-G's common projection (erratum I-E1). sum alpha = 1 fixes
 * the length of g = alpha G, not its sign: the common projection p = g . u_t can be
 * negative, and then the step -eta g raises every loss to first order. Measured on every GE
 * cell (fraction of draws with some alpha_t < 0, and with p < 0, each with a Wilson 95 %
 * interval), and the spec's explicit three-task counterexample with its rescaled twin and
 * MGDA-UB on the same G. Writes imtl_sign.tsv and summary_sign.tsv. */
#include "imtl.h"

#include <math.h>
#include <stdlib.h>

#include "mtb/synth.h"
#include "oracle.h"

static const method_ref IMTL_G = {"imtl-g (exact)", "imtl_g", "level=param"};
static const method_ref MGDA_UB = {"mgda-ub", "mgda", "solver=closed_form,level=rep"};

/* Wilson score interval of k successes in n at 95 % */
static void wilson(long k, long n, double *lo, double *hi)
{
    double z = 1.959963984540054, ph = (double)k / n, z2 = z * z / n;
    double c = (ph + z2 / 2) / (1 + z2), h = z * sqrt(ph * (1 - ph) / n + z2 / (4.0 * n)) / (1 + z2);
    *lo = fmax(0.0, c - h);
    *hi = fmin(1.0, c + h);
}

int cmd_sign(const char *out, const iscale *r)
{
    enum { DMAX = 1000, TMAX = 10 };
    double *G = malloc(sizeof(double) * TMAX * DMAX), *g = malloc(sizeof(double) * DMAX);
    double *work = malloc(sizeof(double) * DMAX), w[TMAX], p[TMAX];
    if (!G || !g || !work)
        die("out of memory");
    char path[1024];
    repro_summary s;
    sum_open(&s, out, "sign");
    FILE *f = out_open(out, "imtl_sign.tsv", path, sizeof path);
    fprintf(f, "T\td\tdraws\tP(some alpha<0)\t95%% CI\tP(projection<0)\t95%% CI\n");
    mtb_error err = {0};
    for (int it = 0; it < GE_NT; it++)
        for (int k = 0; k < GE_ND; k++) {
            int T = GE_T[it], d = ge_d(T, k);
            long nneg = 0, nproj = 0, n = r->i2_draws;
            mtb_rng rng;
            mtb_rng_seed(&rng, 0, (uint64_t)(200 * T + k));
            for (long q = 0; q < n; q++) {
                mtb_synth_ge(&rng, T, d, 0.7, G, work, &err);
                if (method_step(&IMTL_G, T, d, NULL, G, 1, w, NULL, g, &err))
                    die("imtl_g: %s", err.msg);
                int neg = 0;
                for (int t = 0; t < T; t++)
                    neg |= w[t] < 0.0;
                imtl_combine(G, T, d, w, g, p);
                nneg += neg;
                nproj += p[0] < 0.0;
            }
            double alo, ahi, plo, phi;
            wilson(nneg, n, &alo, &ahi);
            wilson(nproj, n, &plo, &phi);
            double fa = (double)nneg / n, fp = (double)nproj / n;
            fprintf(f, "%d\t%d\t%ld\t%.4g\t[%.3g, %.3g]\t%.4g\t[%.3g, %.3g]\n", T, d, n, fa, alo, ahi,
                    fp, plo, phi);
            repro_summary_putf(&s, fa, alo, ahi, "neg_alpha_T%d_d%d", T, d);
            repro_summary_putf(&s, fp, plo, phi, "neg_proj_T%d_d%d", T, d);
        }
    out_close(f, path);

    /* the counterexample: G = [(1,0,0); (0,1,0); (0.1,0.1,0.02)] */
    static const double C[9] = {1, 0, 0, 0, 1, 0, 0.1, 0.1, 0.02};
    if (method_step(&IMTL_G, 3, 3, NULL, C, 1, w, NULL, g, &err))
        die("imtl_g: %s", err.msg);
    imtl_combine(C, 3, 3, w, g, p);
    repro_summary_put(&s, "cx_alpha1", w[0], w[0], w[0]);
    repro_summary_put(&s, "cx_alpha3", w[2], w[2], w[2]);
    double pmax = fmax(p[0], fmax(p[1], p[2]));
    repro_summary_put(&s, "cx_proj_max", pmax, pmax, pmax);
    repro_summary_put(&s, "cx_proj", p[0], p[0], p[0]);
    double K[9];
    const double k[3] = {0.1, 0.1, 10};
    for (int t = 0; t < 3; t++)
        for (int j = 0; j < 3; j++)
            K[3 * t + j] = k[t] * C[3 * t + j];
    if (method_step(&IMTL_G, 3, 3, NULL, K, 1, w, NULL, g, &err))
        die("imtl_g: %s", err.msg);
    imtl_combine(K, 3, 3, w, g, p);
    double pmin = fmin(p[0], fmin(p[1], p[2]));
    repro_summary_put(&s, "cxk_alpha1", w[0], w[0], w[0]);
    repro_summary_put(&s, "cxk_proj_min", pmin, pmin, pmin);
    const method_ref FIX = {"imtl-g sign_fix", "imtl_g", "level=param,sign_fix=true"};
    method_step(&FIX, 3, 3, NULL, C, 1, w, NULL, g, &err);
    imtl_combine(C, 3, 3, w, g, p);
    pmin = fmin(p[0], fmin(p[1], p[2]));
    repro_summary_put(&s, "cxfix_proj_min", pmin, pmin, pmin);
    if (method_step(&MGDA_UB, 3, 3, NULL, C, 1, w, NULL, g, &err))
        die("mgda: %s", err.msg);
    double ipmin = INFINITY, ipmax = -INFINITY;
    for (int t = 0; t < 3; t++) {
        double ip = imtl_dot(g, C + 3 * t, 3);
        ipmin = fmin(ipmin, ip);
        ipmax = fmax(ipmax, ip);
    }
    repro_summary_put(&s, "cx_mgdaub_ip", ipmin, ipmin, ipmax);
    sum_close(&s);
    printf("[I2] counterexample: common projection %.4g; GE tables written\n", pmax);
    free(G), free(g), free(work);
    return 0;
}
