/* fig1.c: I8, the "partial training" picture of Fig. 1: onto which task's gradient each
 * method's aggregated gradient projects most. Configurations A (norms 2, 3, 1: task 2 is
 * central and largest) and B (0.5, 1, 3: the smallest, central and largest tasks are
 * different), d = 3 (synth/grad_sets.c). Normalised projections p_t / max p against the
 * spec's table (derived, tolerance 1e-3), the argmax of each method, and on GE(3, 50) and
 * GE(5, 50) the Spearman correlation of p_t with |g_t| and with u_t . sum u per method.
 * GradNorm-gamma0 is its fixed point alpha ∝ 1/|g_t| (Theorem 1's condition); PCGrad is
 * averaged over all per-task visiting orders. Writes imtl_fig1.tsv, fig1.dat,
 * imtl_fig1_ge.tsv and summary_fig1.tsv. */
#include "imtl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mtb/synth.h"
#include "oracle.h"

enum { NM = 9 };
static const method_ref METHODS[NM] = {
    {"EW", "ew", ""},
    {"GradNorm-γ0", NULL, NULL},
    {"MGDA", "mgda", "solver=exact"},
    {"MGDA-UB", "mgda", "solver=closed_form"},
    {"PCGrad", "pcgrad", ""},
    {"IMTL-G", "imtl_g", "level=param"},
    {"CAGrad", "cagrad", "c=0.4"},
    {"Nash-MTL", "nash_mtl", ""},
    {"Aligned-MTL", "aligned_mtl", ""},
};
/* spec imtl.md I8: expected p_t / max p, configs A and B */
static const double EXPECT[NM][2][3] = {
    {{0.798, 1, 0.423}, {0.209, 0.761, 1}},   {{0.728, 1, 0.629}, {0.728, 1, 0.629}},
    {{0.500, 0.850, 1}, {1, 0.769, 0.167}},   {{0.5, 0.333, 1}, {1, 0.5, 0.167}},
    {{0.786, 1, 0.459}, {0.329, 0.843, 1}},   {{1, 1, 1}, {1, 1, 1}},
    {{0.632, 1, 0.716}, {0.623, 1, 0.917}},   {{0.730, 1, 0.687}, {0.730, 1, 0.687}},
    {{0.894, 1, 0.790}, {0.794, 1, 0.722}},
};

/* PCGrad averaged over every combination of per-task orders (T <= 3: (T-1)!^T of them) */
static void pcgrad_mean(const double *G, int T, int d, double *g)
{
    const mtb_balancer_type *ty = mtb_balancer_find("pcgrad");
    mtb_hparams hp;
    mtb_error err = {0};
    mtb_hparams_default(ty, &hp);
    double l[3] = {1, 1, 1}, hw[3], tw[3], gi[64];
    memset(g, 0, sizeof(double) * (size_t)d);
    int n = 1 << T; /* T = 3: each task has 2 orders; T = 2: 1 order each (bits unused) */
    for (int c = 0; c < n; c++) {
        int order[6];
        for (int t = 0; t < T; t++) {
            int a = (t + 1) % T, b = (t + 2) % T;
            if (T == 2)
                order[t] = a;
            else if ((c >> t) & 1)
                order[2 * t] = b, order[2 * t + 1] = a;
            else
                order[2 * t] = a, order[2 * t + 1] = b;
        }
        mtb_balancer *bb = mtb_balancer_new(ty, T, (size_t)d, &hp, 1, &err);
        mtb_balance_in in = {.T = T, .losses = l, .G = G, .D = (size_t)d,
                             .draws = {.orders = order, .n_orders = (size_t)T * (T - 1)}};
        mtb_balance_out out = {.head_w = hw, .trunk_w = tw, .trunk_grad = gi};
        if (!bb || mtb_balancer_step(bb, &in, &out, &err))
            die("pcgrad: %s", err.msg);
        mtb_balancer_free(bb);
        for (int j = 0; j < d; j++)
            g[j] += gi[j] / n;
    }
}

/* projections p_t = g . u_t of method m on G (T <= 5, d <= 64) */
static void projections(int m, const double *G, int T, int d, double *p)
{
    double w[8], g[64];
    mtb_error err = {0};
    if (!METHODS[m].name) { /* GradNorm-gamma0's fixed point */
        double n[8], s = 0;
        imtl_row_norms(G, T, d, n);
        for (int t = 0; t < T; t++)
            s += 1.0 / n[t];
        for (int t = 0; t < T; t++)
            w[t] = (1.0 / n[t]) / s;
        imtl_combine(G, T, d, w, g, p);
        return;
    }
    if (!strcmp(METHODS[m].name, "pcgrad") && T <= 3) {
        pcgrad_mean(G, T, d, g);
    } else if (method_step(&METHODS[m], T, d, NULL, G, 1, w, NULL, g, &err)) {
        die("%s: %s", METHODS[m].label, err.msg);
    }
    double n[8];
    imtl_row_norms(G, T, d, n);
    for (int t = 0; t < T; t++)
        p[t] = imtl_dot(g, G + (size_t)t * d, d) / n[t];
}

int cmd_fig1(const char *out, const iscale *r)
{
    char path[1024];
    repro_summary s;
    sum_open(&s, out, "fig1");
    FILE *f = out_open(out, "imtl_fig1.tsv", path, sizeof path);
    FILE *dat = out_open(out, "fig1.dat", path + 512, 512);
    fprintf(f, "method\tA: p/max p\targmax\tB: p/max p\targmax\tmax |p/max p - spec|\n");
    fprintf(dat, "# method index, A p1..p3 (normalised), B p1..p3\n");
    for (int m = 0; m < NM; m++) {
        double err = 0, nn[2][3];
        int am[2];
        for (int c = 0; c < 2; c++) {
            double G[9], p[3];
            mtb_synth_fig1(c, G);
            projections(m, G, 3, 3, p);
            double mx = fmax(p[0], fmax(p[1], p[2]));
            am[c] = 0;
            for (int t = 0; t < 3; t++) {
                nn[c][t] = p[t] / mx;
                err = fmax(err, fabs(nn[c][t] - EXPECT[m][c][t]));
                if (p[t] > p[am[c]])
                    am[c] = t;
            }
            /* equal projections: no argmax */
            if (fabs(nn[c][0] - 1) < 1e-9 && fabs(nn[c][1] - 1) < 1e-9 && fabs(nn[c][2] - 1) < 1e-9)
                am[c] = -1;
        }
        char a0[8], a1[8];
        snprintf(a0, sizeof a0, am[0] < 0 ? "–" : "%d", am[0] + 1);
        snprintf(a1, sizeof a1, am[1] < 0 ? "–" : "%d", am[1] + 1);
        fprintf(f, "%s\t%.3f %.3f %.3f\t%s\t%.3f %.3f %.3f\t%s\t%.2g\n", METHODS[m].label, nn[0][0],
                nn[0][1], nn[0][2], a0, nn[1][0], nn[1][1], nn[1][2], a1, err);
        fprintf(dat, "%d \"%s\" %.6g %.6g %.6g %.6g %.6g %.6g\n", m, METHODS[m].label, nn[0][0],
                nn[0][1], nn[0][2], nn[1][0], nn[1][1], nn[1][2]);
        repro_summary_putf(&s, err, err, err, "err_%d", m);
        repro_summary_putf(&s, am[1] + 1, am[1] + 1, am[1] + 1, "argmaxB_%d", m);
    }
    out_close(f, path);
    out_close(dat, path + 512);

    /* GE ensembles: Spearman(p_t, |g_t|) and Spearman(p_t, u_t . sum u), mean over draws */
    f = out_open(out, "imtl_fig1_ge.tsv", path, sizeof path);
    fprintf(f, "method\tT\tdraws\tmean Spearman(p_t, |g_t|)\tmean Spearman(p_t, u_t.sum u)\n");
    mtb_error err = {0};
    for (int ti = 0; ti < 2; ti++) {
        int T = ti ? 5 : 3, d = 50;
        for (int m = 0; m < NM; m++) {
            mtb_rng rng;
            mtb_rng_seed(&rng, 0, (uint64_t)(800 + T));
            double G[5 * 50], work[50], p[5], n[5], c[5], wk[20], rs = 0, rc = 0;
            int nr = 0, ncc = 0;
            int draws = r->i8_draws / (m == 2 || m == 7 ? 4 : 1); /* the iterative solvers cost more */
            for (int q = 0; q < draws; q++) {
                mtb_synth_ge(&rng, T, d, 0.7, G, work, &err);
                projections(m, G, T, d, p);
                imtl_row_norms(G, T, d, n);
                for (int t = 0; t < T; t++) {
                    c[t] = 0;
                    for (int u = 0; u < T; u++)
                        c[t] += imtl_dot(G + t * d, G + u * d, d) / (n[t] * n[u]);
                }
                double a = spearman(p, n, T, wk), b = spearman(p, c, T, wk);
                if (isfinite(a) && imtl_proj_spread(p, T) > 1e-9)
                    rs += a, nr++;
                if (isfinite(b) && imtl_proj_spread(p, T) > 1e-9)
                    rc += b, ncc++;
            }
            double ms = nr ? rs / nr : NAN, mc = ncc ? rc / ncc : NAN;
            fprintf(f, "%s\t%d\t%d\t%.3f\t%.3f\n", METHODS[m].label, T, draws, ms, mc);
            repro_summary_putf(&s, ms, ms, ms, "rho_norm_T%d_%d", T, m);
        }
    }
    out_close(f, path);
    sum_close(&s);
    printf("[I8] Fig. 1 table written\n");
    return 0;
}
