/* mgda_cf.c: I5, MGDA's closed form and its small-gradient bias (Sec. 4, App. C.2).
 * Without alpha >= 0 the min-norm point of the affine hull is alpha_{2:T} = g_1 D^T (D D^T)^-1
 * (Eq. 30), i.e. the KKT point of min |alpha G|^2 s.t. sum alpha = 1; then g . g_t = |g|^2
 * for every t and the projection on u_t is |g|^2/|g_t|: inversely proportional to the
 * gradient norm. Checked on the GE cells with d >= T against the KKT system (oracle.h) and
 * against the constrained solver where the closed form is inside the simplex; the bias on
 * GE(5, 50) as a log-log slope; the two-task clamp case. Writes imtl_mgda.tsv,
 * mgda_bias.dat and summary_mgda.tsv. */
#include "imtl.h"

#include <math.h>
#include <stdlib.h>

#include "mtb/stats.h"
#include "mtb/synth.h"
#include "oracle.h"

static const method_ref MGDA_CF = {"mgda-ub (closed form)", "mgda", "solver=closed_form"};
static const method_ref MGDA = {"mgda", "mgda", "solver=exact"};

/* least-squares slope of y on x (mtb/stats.h) */
static double slope(const double *x, const double *y, int n)
{
    return mtb_stats_linear_fit(x, y, (size_t)n).slope;
}

int cmd_mgda(const char *out, const iscale *r)
{
    enum { DMAX = 1000, TMAX = 10 };
    double *G = malloc(sizeof(double) * TMAX * DMAX), *g = malloc(sizeof(double) * DMAX);
    double *work = malloc(sizeof(double) * (DMAX + 200)), w[TMAX], wk[TMAX], we[TMAX], p[TMAX];
    if (!G || !g || !work)
        die("out of memory");
    char path[1024];
    FILE *f = out_open(out, "imtl_mgda.tsv", path, sizeof path);
    fprintf(f, "T\td\tdraws\tmax |alpha - kkt|/|alpha|\tmax |g.g_t - |g|^2|/(|g||g_t|)\t"
               "inside simplex\tmax |alpha - constrained| there\n");
    double wk_err = 0, wip = 0, wcons = 0;
    mtb_error err = {0};
    for (int it = 0; it < GE_NT; it++)
        for (int k = 0; k < GE_ND; k++) {
            int T = GE_T[it], d = ge_d(T, k), inside = 0;
            mtb_rng rng;
            mtb_rng_seed(&rng, 0, (uint64_t)(500 * T + k));
            double ek = 0, eip = 0, ec = 0;
            for (int q = 0; q < r->i1_draws; q++) {
                mtb_synth_ge(&rng, T, d, 0.7, G, work, &err);
                if (method_step(&MGDA_CF, T, d, NULL, G, 1, w, NULL, g, &err))
                    die("mgda: %s", err.msg);
                if (imtl_mgda_kkt(G, T, d, wk, work))
                    continue;
                double num = 0, den = 0, gg = imtl_dot(g, g, d);
                int pos = 1;
                for (int t = 0; t < T; t++) {
                    num += (w[t] - wk[t]) * (w[t] - wk[t]);
                    den += wk[t] * wk[t];
                    double nt = sqrt(imtl_dot(G + (size_t)t * d, G + (size_t)t * d, d));
                    eip = fmax(eip, fabs(imtl_dot(g, G + (size_t)t * d, d) - gg) / (sqrt(gg) * nt));
                    pos &= w[t] >= 0;
                }
                ek = fmax(ek, sqrt(num / den));
                if (pos) {
                    inside++;
                    if (method_step(&MGDA, T, d, NULL, G, 1, we, NULL, NULL, &err))
                        die("mgda: %s", err.msg);
                    for (int t = 0; t < T; t++)
                        ec = fmax(ec, fabs(we[t] - w[t]));
                }
            }
            fprintf(f, "%d\t%d\t%d\t%.3g\t%.3g\t%d\t%.3g\n", T, d, r->i1_draws, ek, eip, inside, ec);
            wk_err = fmax(wk_err, ek);
            wip = fmax(wip, eip);
            wcons = fmax(wcons, ec);
        }
    out_close(f, path);

    /* bias on GE(5, 50): log10 p_t against log10 |g_t| */
    FILE *dat = out_open(out, "mgda_bias.dat", path, sizeof path);
    fprintf(dat, "# log10|g_t| log10 p_t(mgda-ub) log10 p_t(mgda)\n");
    int T = 5, d = 50, n = r->i5_draws / 4 > 50 ? r->i5_draws / 4 : 50;
    double *x = malloc(sizeof(double) * (size_t)n * T), *yu = malloc(sizeof(double) * (size_t)n * T);
    double *yc = malloc(sizeof(double) * (size_t)n * T);
    if (!x || !yu || !yc)
        die("out of memory");
    mtb_rng rng;
    mtb_rng_seed(&rng, 0, 599);
    int m = 0;
    for (int q = 0; q < n; q++) {
        mtb_synth_ge(&rng, T, d, 0.7, G, work, &err);
        double pc[TMAX];
        method_step(&MGDA_CF, T, d, NULL, G, 1, w, NULL, g, &err);
        imtl_combine(G, T, d, w, g, p);
        method_step(&MGDA, T, d, NULL, G, 1, we, NULL, g, &err);
        imtl_combine(G, T, d, we, g, pc);
        for (int t = 0; t < T; t++) {
            double nt = sqrt(imtl_dot(G + (size_t)t * d, G + (size_t)t * d, d));
            if (!(p[t] > 0 && pc[t] > 0))
                continue;
            x[m] = log10(nt);
            yu[m] = log10(p[t]);
            yc[m] = log10(pc[t]);
            /* the slope within a draw: subtract the draw's common |g|^2 */
            fprintf(dat, "%.6g\t%.6g\t%.6g\n", x[m], log10(p[t]), yc[m]);
            m++;
        }
    }
    out_close(dat, path);
    /* within-draw slopes (each draw has its own |g|^2): regress on draw-centred values */
    double su = 0, sc = 0;
    int nd = 0;
    for (int q = 0; q + T <= m; q += T) {
        su += slope(x + q, yu + q, T);
        sc += slope(x + q, yc + q, T);
        nd++;
    }
    su /= nd, sc /= nd;

    /* two-task clamp: g1 . g2 > |g1|^2, MGDA returns g = g1 */
    double G2[4] = {1, 0, 3, 1};
    method_step(&MGDA, 2, 2, NULL, G2, 1, we, NULL, g, &err);
    double p1 = imtl_dot(g, G2, 2), p2 = imtl_dot(g, G2 + 2, 2) / sqrt(10.0);

    repro_summary s;
    sum_open(&s, out, "mgda");
    repro_summary_put(&s, "kkt_err", wk_err, wk_err, wk_err);
    repro_summary_put(&s, "ip_err", wip, wip, wip);
    repro_summary_put(&s, "constrained_err", wcons, wcons, wcons);
    repro_summary_put(&s, "slope_ub", su, su, su);
    repro_summary_put(&s, "slope_mgda", sc, sc, sc);
    repro_summary_put(&s, "clamp_alpha1", we[0], we[0], we[0]);
    repro_summary_put(&s, "clamp_p1_minus_p2", p1 - p2, p1 - p2, p1 - p2);
    sum_close(&s);
    printf("[I5] KKT err %.3g, slope MGDA-UB %.4g, MGDA %.4g\n", wk_err, su, sc);
    free(G), free(g), free(work), free(x), free(yu), free(yc);
    return 0;
}
