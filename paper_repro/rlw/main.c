/* main.c: repro-rlw's driver (rlw.h): the variants of rlw.md sec. 1, the scales, the
 * summary files, the subcommands. */
#include "rlw.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mtb/fs.h"

/* rlw.md sec. 1, each as the registered rlw method's options (docs/methods.md). */
const variant VARIANTS[N_VARIANTS] = {
    {"fw", "dist=equal", 1}, /* = ew-mean */
    {"uniform", "dist=uniform", 0},
    {"normal", "dist=normal", 0},
    {"dirichlet-sm", "dist=dirichlet,dirichlet_norm=softmax", 0},
    {"dirichlet-id", "dist=dirichlet,dirichlet_norm=identity", 0},
    {"bernoulli", "dist=bernoulli,bernoulli_allzero=redraw", 0},
    {"bernoulli-zero", "dist=bernoulli,bernoulli_allzero=zero", 0},
    {"cbernoulli", "dist=constrained_bernoulli", 0},
    {"rnormal-once", "dist=random_normal", 0},
    {"rnormal-step", "dist=random_normal,random_normal_redraw=true", 0},
};

void ws_init(wsampler *w, int v, int T, unsigned long long seed)
{
    const mtb_balancer_type *ty = mtb_balancer_find("rlw");
    mtb_hparams hp;
    mtb_error err = {0};
    if (!ty || mtb_hparams_parse(ty, VARIANTS[v].opts, &hp, &err))
        die("rlw %s: %s", VARIANTS[v].opts, err.msg);
    w->b = mtb_balancer_new(ty, T, 0, &hp, seed, &err);
    if (!w->b)
        die("rlw %s: %s", VARIANTS[v].opts, err.msg);
    w->T = T;
    w->l = malloc(2 * sizeof(double) * (size_t)T);
    if (!w->l)
        die("out of memory");
    w->hw = w->l + T;
    for (int t = 0; t < T; t++)
        w->l[t] = 1.0;
}

void ws_draw(wsampler *w, long step, double *lam)
{
    mtb_error err = {0};
    mtb_balance_in in = {.step = step, .T = w->T, .losses = w->l};
    mtb_balance_out out = {.head_w = w->hw, .trunk_w = lam};
    if (mtb_balancer_step(w->b, &in, &out, &err))
        die("rlw step: %s", err.msg);
}

void ws_free(wsampler *w)
{
    mtb_balancer_free(w->b);
    free(w->l);
    memset(w, 0, sizeof *w);
}

void ws_moments(int v, int T, long n, unsigned long long seed, double *mu, double *C)
{
    wsampler w;
    ws_init(&w, v, T, seed);
    double *lam = malloc(sizeof(double) * (size_t)T);
    memset(mu, 0, sizeof(double) * (size_t)T);
    memset(C, 0, sizeof(double) * (size_t)T * (size_t)T);
    long m = VARIANTS[v].fw ? 1 : n;
    for (long k = 0; k < m; k++) {
        ws_draw(&w, k, lam);
        for (int i = 0; i < T; i++) {
            mu[i] += lam[i] / m;
            for (int j = 0; j < T; j++)
                C[i * T + j] += lam[i] * lam[j] / m;
        }
    }
    free(lam);
    ws_free(&w);
}

/* ---- scales -------------------------------------------------------------------------
 * smoke: every experiment on a reduced grid, the whole pipeline well under a minute.
 * paper: what one 2-core machine does in well under an hour; the reductions against the
 *        spec's grid are listed in README.md ("How the paper scale reduces the grid").
 * full:  the spec's grid (R2/R3/R5 trajectory counts of rlw.md). */
void rscale_get(repro_scale s, rscale *r)
{
    memset(r, 0, sizeof *r);
    r->s = s;
    switch (s) {
    case REPRO_SMOKE:
        *r = (rscale){s, 20000, 200, 1, {3}, 1, 3, {0.02}, 100000, 100, 2000, 2000,
                      40, 20000, 2, {0, 20}, 2, {2, 8}, 3, 2, 15};
        break;
    case REPRO_PAPER:
        *r = (rscale){s, 1000000, 1000, 3, {2, 3, 10}, 2, 4, {0.02, 0.05}, 1000000, 200, 20000,
                      10000, 400, 20000, 5, {0, 5, 10, 20, 40}, 4, {2, 8, 32, 128}, 20, 3, 100};
        break;
    case REPRO_FULL:
        *r = (rscale){s, 1000000, 2000, 3, {2, 3, 10}, 3, 4, {0.01, 0.02, 0.05}, 1000000, 1000,
                      20000, 10000, 2000, 20000, 5, {0, 5, 10, 20, 40}, 4, {2, 8, 32, 128}, 20, 3,
                      200};
        break;
    }
}

/* ---- main ---------------------------------------------------------------------------- */

static void usage(void)
{
    fprintf(stderr,
            "usage: " PROG " CMD --scale smoke|paper|full --out DIR [options]\n"
            "  CMD: moments (R1) | thm1 (R2) | thm3 (R3) | noise (R4) | netnoise (R4 ii) | escape (R5) | rgw (R7)\n"
            "       | cost (R8) | lsd6 (R9, after the sweeps) | rgwtrain (R7 training, after the sweeps)\n"
            "       | combo (R10) | combotrain (R10 training, after its sweep) | speed (R6, after its sweep)\n"
            "       | report [--wall-seconds S] [--readme README.md --figdir DIR]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    repro_start(&argc, argv); /* may restart the program on another BLAS kernel */
    repro_args a;
    if (repro_args_parse(argc, argv, PROG, 1, &a))
        usage();
    const char *cmd = a.cmd, *out = a.out;
    rscale r;
    rscale_get(a.scale, &r);
    if (!strcmp(cmd, "moments")) return cmd_moments(out, &r);
    if (!strcmp(cmd, "thm1")) return cmd_thm1(out, &r);
    if (!strcmp(cmd, "thm3")) return cmd_thm3(out, &r);
    if (!strcmp(cmd, "noise")) return cmd_noise(out, &r);
    if (!strcmp(cmd, "escape")) return cmd_escape(out, &r);
    if (!strcmp(cmd, "rgw")) return cmd_rgw(out, &r);
    if (!strcmp(cmd, "cost")) return cmd_cost(out, &r);
    if (!strcmp(cmd, "lsd6")) return cmd_lsd6(out, &r);
    if (!strcmp(cmd, "rgwtrain")) return cmd_rgwtrain(out, &r);
    if (!strcmp(cmd, "combo")) return cmd_combo(out, &r);
    if (!strcmp(cmd, "combotrain")) return cmd_combotrain(out, &r);
    if (!strcmp(cmd, "speed")) return cmd_speed(out, &r);
    if (!strcmp(cmd, "netnoise")) return cmd_netnoise(out, &r);
    if (!strcmp(cmd, "report")) return cmd_report(out, &r, a.wall, a.readme, a.figdir);
    usage();
}
