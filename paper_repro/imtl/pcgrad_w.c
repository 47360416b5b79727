/* pcgrad_w.c: I6, PCGrad as loss weighting (App. C.3, erratum I-E2). PCGrad's aggregated
 * gradient (the sum of the projected gradients) is alpha G with alpha = 1 (I + C N),
 * C_t,tau = max(0, -(g_t + sum_earlier C u) . u_tau): checked against the registered pcgrad
 * with the same visiting orders replayed, on GE cells T in {2, 3, 5}. Then the two-task
 * projections: (|g1| sin^2 phi, |g2| sin^2 phi) on conflict (phi >= 90 deg), (|g1| + |g2|
 * cos phi, |g2| + |g1| cos phi) otherwise: PCGrad favours the larger gradient. Writes
 * imtl_pcgrad.tsv, pcgrad_bias.dat and summary_pcgrad.tsv. */
#include "imtl.h"

#include <math.h>
#include <stdlib.h>

#include "mtb/synth.h"
#include "oracle.h"

/* PCGrad's trunk gradient with recorded orders (T rows of T - 1) */
static void pcgrad_step(const double *G, int T, int d, const int *order, double *g)
{
    const mtb_balancer_type *ty = mtb_balancer_find("pcgrad");
    mtb_hparams hp;
    mtb_error err = {0};
    mtb_hparams_default(ty, &hp);
    mtb_balancer *b = mtb_balancer_new(ty, T, (size_t)d, &hp, 1, &err);
    if (!b)
        die("pcgrad: %s", err.msg);
    double l[16], hw[16], tw[16];
    for (int t = 0; t < T; t++)
        l[t] = 1.0;
    mtb_balance_in in = {.T = T, .losses = l, .G = G, .D = (size_t)d,
                         .draws = {.orders = order, .n_orders = (size_t)T * (T - 1)}};
    mtb_balance_out out = {.head_w = hw, .trunk_w = tw, .trunk_grad = g};
    if (mtb_balancer_step(b, &in, &out, &err) || !out.trunk_grad_set)
        die("pcgrad: %s", err.msg);
    mtb_balancer_free(b);
}

int cmd_pcgrad(const char *out, const iscale *r)
{
    static const int Ts[3] = {2, 3, 5};
    double G[5 * 50], g[50], ga[50], a[5], p[5], work[2 * 5 + 25 + 50];
    int order[20];
    char path[1024];
    FILE *f = out_open(out, "imtl_pcgrad.tsv", path, sizeof path);
    fprintf(f, "T\td\tdraws\tmax |g_pcgrad - alpha G|/|g|\tdraws with a conflict\n");
    double worst = 0;
    mtb_error err = {0};
    for (int it = 0; it < 3; it++) {
        int T = Ts[it], d = 50, conflicts = 0;
        mtb_rng rng;
        mtb_rng_seed(&rng, 0, (uint64_t)(600 + T));
        double e = 0;
        for (int q = 0; q < r->i6_draws; q++) {
            mtb_synth_ge(&rng, T, d, 0.0, G, work, &err); /* r = 0: frequent conflicts */
            for (int t = 0; t < T; t++) {
                size_t idx[5];
                int m = 0;
                for (int s = 0; s < T; s++)
                    if (s != t)
                        idx[m++] = (size_t)s;
                mtb_rng_shuffle(&rng, idx, (size_t)m);
                for (int s = 0; s < m; s++)
                    order[t * (T - 1) + s] = (int)idx[s];
            }
            pcgrad_step(G, T, d, order, g);
            imtl_pcgrad_alpha(G, T, d, order, a, work);
            imtl_combine(G, T, d, a, ga, p);
            double num = 0, den = 0;
            for (int j = 0; j < d; j++) {
                num += (g[j] - ga[j]) * (g[j] - ga[j]);
                den += g[j] * g[j];
            }
            int c = 0;
            for (int t = 0; t < T; t++)
                c |= fabs(a[t] - 1.0) > 0;
            conflicts += c;
            e = fmax(e, sqrt(num / den));
        }
        fprintf(f, "%d\t%d\t%d\t%.3g\t%d\n", T, d, r->i6_draws, e, conflicts);
        worst = fmax(worst, e);
    }
    out_close(f, path);

    /* two tasks: angle phi, ratio rr = |g1|/|g2| (|g2| = 1) */
    FILE *dat = out_open(out, "pcgrad_bias.dat", path, sizeof path);
    fprintf(dat, "# r p1/p2(phi=60) p1/p2(phi=100) p1/p2(phi=150)\n");
    const double phis[3] = {60, 100, 150}, deg = acos(-1.0) / 180.0;
    double werr = 0;
    for (int i = 0; i <= 40; i++) {
        double rr = pow(10.0, -1.0 + i / 20.0);
        fprintf(dat, "%.6g", rr);
        for (int k = 0; k < 3; k++) {
            double ph = phis[k] * deg, G2[4] = {rr, 0, cos(ph), sin(ph)}, g2[2], p2[2];
            int ord[2] = {1, 0};
            pcgrad_step(G2, 2, 2, ord, g2);
            p2[0] = g2[0];
            p2[1] = g2[0] * cos(ph) + g2[1] * sin(ph);
            double e1 = phis[k] >= 90 ? rr * sin(ph) * sin(ph) : rr + cos(ph);
            double e2 = phis[k] >= 90 ? sin(ph) * sin(ph) : 1 + rr * cos(ph);
            werr = fmax(werr, fmax(fabs(p2[0] - e1) / fabs(e1), fabs(p2[1] - e2) / fabs(e2)));
            fprintf(dat, "\t%.6g", p2[0] / p2[1]);
        }
        fprintf(dat, "\n");
    }
    out_close(dat, path);
    /* the spec's two worked numbers: phi = 100, r = 5 -> (4.849, 0.970); phi = 60 -> (5.5, 3.5) */
    double G3[4] = {5, 0, cos(100 * deg), sin(100 * deg)}, g3[2];
    int ord[2] = {1, 0};
    pcgrad_step(G3, 2, 2, ord, g3);
    double q1 = g3[0], q2 = g3[0] * cos(100 * deg) + g3[1] * sin(100 * deg);
    repro_summary s;
    sum_open(&s, out, "pcgrad");
    repro_summary_put(&s, "coef_err", worst, worst, worst);
    repro_summary_put(&s, "two_task_err", werr, werr, werr);
    repro_summary_put(&s, "p1_phi100_r5", q1, q1, q1);
    repro_summary_put(&s, "p2_phi100_r5", q2, q2, q2);
    sum_close(&s);
    printf("[I6] |g_pcgrad - alpha G| %.3g, two-task formula err %.3g\n", worst, werr);
    return 0;
}
