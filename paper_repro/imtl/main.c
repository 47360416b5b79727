/* main.c: repro-imtl's driver (imtl.h): scales, a method step, output files, subcommands. */
#include "imtl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mtb/fs.h"

const int GE_T[GE_NT] = {2, 3, 5, 10};

int ge_d(int T, int k)
{
    return k == 0 ? T + 2 : k == 1 ? 50 : 1000;
}

/* ---- scales ----------------------------------------------------------------------------
 * smoke: every experiment on fewer draws, the whole program in seconds (asserts what holds
 *        at any scale: the identities are exact, so a few draws test them).
 * paper: the spec's draw counts (I2: 20 000 per cell; I4: 200 per EA cell, GradNorm 50 000
 *        steps; I12: 35 000 steps). */
void iscale_get(repro_scale s, iscale *r)
{
    memset(r, 0, sizeof *r);
    r->s = s;
    if (s == REPRO_SMOKE)
        *r = (iscale){s, 100, 2000, 100, 20, 20000, 2, 200, 100, 200, 20, 5000};
    else
        *r = (iscale){s, 1000, 20000, 1000, 200, 50000, 10, 2000, 1000, 2000, 100, 35000};
}

/* ---- a method step ---------------------------------------------------------------------- */

mtb_status method_step(const method_ref *m, int T, int D, const double *losses, const double *G,
                       unsigned long long seed, double *w, double *hw, double *g, mtb_error *err)
{
    const mtb_balancer_type *ty = mtb_balancer_find(m->name);
    if (!ty)
        die("method %s is not registered", m->name);
    mtb_hparams hp;
    if (mtb_hparams_parse(ty, m->opts, &hp, err))
        die("%s:%s: %s", m->name, m->opts, err->msg);
    mtb_balancer *b = mtb_balancer_new(ty, T, (size_t)D, &hp, seed, err);
    if (!b)
        return err->status ? err->status : MTB_EINVAL;
    double *hbuf = hw ? NULL : malloc(sizeof(double) * (size_t)T);
    double *ones = losses ? NULL : malloc(sizeof(double) * (size_t)T);
    if ((!hw && !hbuf) || (!losses && !ones))
        die("out of memory");
    for (int t = 0; !losses && t < T; t++)
        ones[t] = 1.0;
    if (!losses)
        losses = ones;
    int needg = mtb_balancer_get_setup(b)->need != MTB_NEED_LOSSES;
    mtb_balance_in in = {.T = T, .losses = losses, .G = needg ? G : NULL,
                         .D = needg ? (size_t)D : 0, .rep = {.dim = needg ? D : 0}};
    mtb_balance_out out = {.head_w = hw ? hw : hbuf, .trunk_w = w, .trunk_grad = needg ? g : NULL};
    mtb_status st = mtb_balancer_step(b, &in, &out, err);
    if (!st && g && !out.trunk_grad_set)
        for (int j = 0; j < D; j++) {
            double a = 0.0;
            for (int t = 0; t < T; t++)
                a += w[t] * G[(size_t)t * D + j];
            g[j] = a;
        }
    free(hbuf);
    free(ones);
    mtb_balancer_free(b);
    return st;
}

/* ---- Spearman's rank correlation (average ranks for ties) --------------------------------- */

static void ranks(const double *x, int n, double *rk, double *idx)
{
    for (int i = 0; i < n; i++)
        idx[i] = i;
    for (int i = 1; i < n; i++) /* insertion sort of the indices by x (n is small) */
        for (int j = i; j > 0 && x[(int)idx[j - 1]] > x[(int)idx[j]]; j--) {
            double t = idx[j];
            idx[j] = idx[j - 1];
            idx[j - 1] = t;
        }
    for (int i = 0; i < n;) {
        int j = i;
        while (j + 1 < n && x[(int)idx[j + 1]] == x[(int)idx[i]])
            j++;
        for (int k = i; k <= j; k++)
            rk[(int)idx[k]] = 0.5 * (i + j);
        i = j + 1;
    }
}

double spearman(const double *x, const double *y, int n, double *work)
{
    double *rx = work, *ry = work + n, *ix = work + 2 * n;
    ranks(x, n, rx, ix);
    ranks(y, n, ry, ix);
    double mx = 0, my = 0, sxy = 0, sxx = 0, syy = 0;
    for (int i = 0; i < n; i++)
        mx += rx[i] / n, my += ry[i] / n;
    for (int i = 0; i < n; i++) {
        sxy += (rx[i] - mx) * (ry[i] - my);
        sxx += (rx[i] - mx) * (rx[i] - mx);
        syy += (ry[i] - my) * (ry[i] - my);
    }
    return sxx > 0 && syy > 0 ? sxy / sqrt(sxx * syy) : NAN;
}

/* ---- main ------------------------------------------------------------------------------------ */

static void usage(void)
{
    fprintf(stderr,
            "usage: " PROG " CMD --scale smoke|paper|full --out DIR [options]\n"
            "  CMD: closed (I1) | sign (I2) | thm2 (I3) | thm1 (I4) | mgda (I5) | pcgrad (I6)\n"
            "       | loss (I7) | fig1 (I8) | audit (I10 single step) | toy (I12) | provenance\n"
            "       | sweepargs, sweepargs3c (the methods of the training sweeps)\n"
            "       | audit_train (I10 step 2) | compare (I9, I11) | logs (I2, I5, I7 training)\n"
            "       | levels (I9 on network states; I8's training bias after the sweeps)\n"
            "       | glslr (I7 iii: GLS under SGD, a loss scale is a learning rate)\n"
            "       | sgdargs, sgdsel (the SGD profile's methods and lr-selection problems)\n"
            "       | lrsel (the base lr per method on validation, after the selection sweep)\n"
            "       | audit_sgd (I10 and I11 under SGD, after the SGD sweeps)\n"
            "       | report [--wall-seconds S] [--readme README.md --figdir DIR]\n"
            "Each experiment writes its tables (imtl_*.tsv), plot data (*.dat) and\n"
            "summary_<exp>.tsv into DIR; report reads them and writes DIR/report.md and\n"
            "DIR/claims.tsv, and exits 1 when a claim asserted at this scale fails.\n");
    exit(2);
}

int main(int argc, char **argv)
{
    repro_start(&argc, argv); /* may restart the program on another BLAS kernel */
    repro_args a;
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
        repro_args_parse(argc, argv, PROG, 1, &a))
        usage();
    const char *cmd = a.cmd, *out = a.out;
    iscale r;
    iscale_get(a.scale, &r);
    static const struct {
        const char *name;
        int (*fn)(const char *, const iscale *);
    } cmds[] = {{"closed", cmd_closed}, {"sign", cmd_sign},     {"thm2", cmd_thm2},
                {"thm1", cmd_thm1},     {"mgda", cmd_mgda},     {"pcgrad", cmd_pcgrad},
                {"loss", cmd_loss},     {"fig1", cmd_fig1},     {"audit", cmd_audit},
                {"toy", cmd_toy},       {"provenance", cmd_provenance},
                {"sweepargs", cmd_sweepargs}, {"sweepargs3c", cmd_sweepargs3c},
                {"audit_train", cmd_audit_train}, {"compare", cmd_compare},
                {"logs", cmd_logs},     {"levels", cmd_levels},
                {"glslr", cmd_glslr},   {"sgdargs", cmd_sgdargs},
                {"sgdsel", cmd_sgdsel}, {"lrsel", cmd_lrsel},   {"audit_sgd", cmd_audit_sgd}};
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
        if (!strcmp(cmd, cmds[i].name))
            return cmds[i].fn(out, &r);
    if (!strcmp(cmd, "report"))
        return cmd_report(out, &r, a.wall, a.readme, a.figdir);
    usage();
}
