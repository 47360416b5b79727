/* main.c: repro-dbmtl's driver (dbmtl.h): the scales, the output helpers, the subcommands. */
#include "dbmtl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mtb/fs.h"

/* smoke: every stage of the pipeline on a reduced grid (make test, under a minute);
 * paper: the committed report's grid on one 2-core machine (README.md lists its reductions);
 * full: the spec's grid. The training grids are in the reproduce script (they are sweeps). */
void dscale_get(repro_scale s, dscale *d)
{
    memset(d, 0, sizeof *d);
    d->s = s;
    static const int Ts[7] = {2, 4, 8, 16, 32, 64, 128}; /* dbmtl.md D11 */
    if (s == REPRO_SMOKE) {
        d->n_states = 20, d->state_every = 10;
        d->cost_nT = 2, d->cost_T[0] = 2, d->cost_T[1] = 8;
        d->cost_warm = 2, d->cost_rep = 3, d->cost_steps = 5;
        d->trace_steps = 60;
        return;
    }
    d->n_states = 100, d->state_every = s == REPRO_PAPER ? 20 : 50;
    d->cost_nT = s == REPRO_PAPER ? 5 : 7; /* paper: T <= 32 (T = 128 at param level is minutes) */
    memcpy(d->cost_T, Ts, sizeof Ts);
    d->cost_warm = 3, d->cost_rep = 3, d->cost_steps = s == REPRO_PAPER ? 20 : 50;
}

static void usage(void)
{
    fprintf(stderr,
            "usage: " PROG " CMD --scale smoke|paper|full --out DIR [options]\n"
            "  CMD: single (D2, D5, D8 and D9 one-step checks) | cost (D11) | traces (D3, D4)\n"
            "       | toy (D3's Toy2D panel)\n"
            "       | gradnorms (D1 gradient scales, D10 Fig. 8b) | propa1 (D5, D6 trajectories)\n"
            "       | gradnorms-sgd --problem P (D1 gradient scales under SGD on P, after lrsel)\n"
            "       | methods --problem P (the sweep's method arguments for problem P)\n"
            "       | methods-reduced --problem P (those of its reduced-seed sweep, paper scale)\n"
            "       | problems | sgd-problems (the problems the scale trains: sweeps, SGD rows)\n"
            "       | sgdsel --problem P (P's SGD selection problems: lsd6-sgd, lsd6-eq-sgd)\n"
            "       | lrsel --problem P (each row's SGD lr on P)\n"
            "       | train (D1, D3, D4, D6-D8, D10, D12 from the sweeps in DIR)\n"
            "       | report [--wall-seconds S] [--readme README.md --figdir DIR]\n"
            "Run by paper_repro/dbmtl/reproduce (make reproduce-dbmtl SCALE=...).\n");
    exit(2);
}

int main(int argc, char **argv)
{
    repro_start(&argc, argv); /* may restart the program on another BLAS kernel */
    repro_args a;
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
        repro_args_parse(argc, argv, PROG,
                         strncmp(argv[1], "methods", 7) != 0 && strcmp(argv[1], "sgdsel") != 0 &&
                             strcmp(argv[1], "problems") != 0 && strcmp(argv[1], "sgd-problems") != 0,
                         &a))
        usage();
    const char *cmd = a.cmd, *out = a.out;
    if (!strcmp(cmd, "methods") || !strcmp(cmd, "methods-reduced")) { /* grid.c */
        if (!a.problem)
            usage();
        return cmd_methods(a.problem, a.scale, !strcmp(cmd, "methods-reduced"));
    }
    if (!strcmp(cmd, "problems") || !strcmp(cmd, "sgd-problems")) /* grid.c */
        return cmd_problems(a.scale, !strcmp(cmd, "sgd-problems"));
    if (!strcmp(cmd, "sgdsel")) { /* sgd.c */
        if (!a.problem)
            usage();
        return cmd_sgdsel(a.problem, a.scale);
    }
    dscale d;
    dscale_get(a.scale, &d);
    if (!strcmp(cmd, "lrsel")) {
        if (!a.problem)
            usage();
        return cmd_lrsel(out, a.problem, a.scale);
    }
    if (!strcmp(cmd, "single"))
        return cmd_single(out, &d);
    if (!strcmp(cmd, "cost"))
        return cmd_cost(out, &d);
    if (!strcmp(cmd, "traces"))
        return cmd_traces(out, &d);
    if (!strcmp(cmd, "toy"))
        return cmd_toy(out, &d);
    if (!strcmp(cmd, "gradnorms"))
        return cmd_gradnorms(out, &d);
    if (!strcmp(cmd, "gradnorms-sgd")) {
        if (!a.problem)
            usage();
        return cmd_gradnorms_sgd(out, a.problem, &d);
    }
    if (!strcmp(cmd, "propa1"))
        return cmd_propa1(out, &d);
    if (!strcmp(cmd, "train"))
        return cmd_train(out, &d);
    if (!strcmp(cmd, "report"))
        return cmd_report(out, &d, a.wall, a.readme, a.figdir);
    fprintf(stderr, PROG ": unknown command '%s'\n", cmd);
    usage();
}
