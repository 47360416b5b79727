/* bench_weigh.c: `mtb bench weigh`, the cost of one method's weighting computation alone.
 *
 * Inputs are random and fixed for the whole run: losses uniform in (0.1, 2) and, for
 * methods that ask for gradients, a (T, D) matrix G of standard normals, both from
 * mtb_rng stream MTB_STREAM_BENCH (seed 1). Methods that need only losses are not given
 * G (so their timing does not include touching it). The timer covers exactly
 * mtb_balancer_step (driver checks included, as in training); balancer creation and the
 * input generation are outside it. Stateful methods keep evolving across calls with the
 * same inputs, as they would over steps. Prints, on its last line,
 *   us_per_call=<median over reps>                                                   */
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../core/cli/cli.h"
#include "bench.h"
#include "mtb/clock.h"
#include "mtb/stats.h"
#include "mtb/balancer.h"
#include "mtb/rng.h"

static const char *CMD = "bench weigh";

static void usage(FILE *out)
{
    fprintf(out,
"usage: mtb bench weigh --method NAME [--tasks T] [--dim D] [--reps N] [--options k=v,...]\n"
"\n"
"Times the weighting computation of one method (mtb_balancer_step) on random inputs\n"
"and prints, on its last line, us_per_call=<median over reps>.\n"
"  --method NAME   a method of `mtb methods`                         (required)\n"
"  --tasks T       number of tasks                                    [10]\n"
"  --dim D         gradient columns (ignored by loss-only methods)    [10000]\n"
"  --reps N        timed calls, after 3 untimed warm-up calls         [200]\n"
"  --options S     the method's hyperparameters, key=value,...        [defaults]\n");
}

int mtb_bench_weigh(int argc, char **argv)
{
    const char *method = NULL, *options = NULL;
    long T = 10, D = 10000, reps = 200;
    static const struct option longopts[] = {
        {"method", required_argument, NULL, 'm'}, {"tasks", required_argument, NULL, 't'},
        {"dim", required_argument, NULL, 'd'},    {"reps", required_argument, NULL, 'r'},
        {"options", required_argument, NULL, 'o'}, {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case 'm':
            method = optarg;
            break;
        case 't':
            if (cli_parse_long(CMD, "tasks", optarg, 1, 100000, &T))
                return 2;
            break;
        case 'd':
            if (cli_parse_long(CMD, "dim", optarg, 1, 100000000, &D))
                return 2;
            break;
        case 'r':
            if (cli_parse_long(CMD, "reps", optarg, 1, 10000000, &reps))
                return 2;
            break;
        case 'o':
            options = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind < argc) {
        cli_error(CMD, "unexpected argument '%s'", argv[optind]);
        return 2;
    }
    if (!method) {
        cli_error(CMD, "--method is required (see mtb methods)");
        return 2;
    }
    const mtb_balancer_type *type = mtb_balancer_find(method);
    if (!type) {
        cli_error(CMD, "unknown method '%s' (see mtb methods)", method);
        return 2;
    }
    mtb_error err = {0};
    mtb_hparams hp;
    if (mtb_hparams_parse(type, options, &hp, &err)) {
        cli_error(CMD, "--options: %s", err.msg);
        return 2;
    }
    mtb_balancer *b = mtb_balancer_new(type, (int)T, (size_t)D, &hp, 1, &err);
    if (!b)
        return cli_fail(CMD, &err);
    const mtb_balancer_setup *setup = mtb_balancer_get_setup(b);
    int need_g = setup->need != MTB_NEED_LOSSES;
    int need_z = setup->need == MTB_NEED_REP_GRADS;     /* GradDrop reads z's signs */
    size_t K = setup->n_samples > 1 ? (size_t)setup->n_samples : 1; /* MoDo, SDMGrad: 3 */
    size_t n_g = need_g ? (size_t)T * (size_t)D : 0;
    double *losses = malloc(K * (size_t)T * sizeof *losses);
    double *G = need_g ? malloc(K * n_g * sizeof *G) : NULL;
    double *Z = need_z ? malloc((size_t)D * sizeof *Z) : NULL;
    double *hw = malloc((size_t)T * sizeof *hw), *tw = malloc((size_t)T * sizeof *tw);
    double *tg = need_g ? malloc((size_t)D * sizeof *tg) : NULL;
    double *us = malloc((size_t)reps * sizeof *us);
    if (!losses || (need_g && (!G || !tg)) || (need_z && !Z) || !hw || !tw || !us) {
        cli_error(CMD, "out of memory for T = %ld, D = %ld", T, D);
        free(losses), free(G), free(Z), free(hw), free(tw), free(tg), free(us);
        mtb_balancer_free(b);
        return 1;
    }
    mtb_rng rng;
    mtb_rng_seed(&rng, 1, MTB_STREAM_BENCH);
    for (size_t t = 0; t < K * (size_t)T; t++)
        losses[t] = 0.1 + 1.9 * mtb_rng_uniform(&rng);
    for (size_t i = 0; i < K * n_g; i++)
        G[i] = mtb_rng_normal(&rng);
    for (size_t i = 0; need_z && i < (size_t)D; i++)
        Z[i] = mtb_rng_normal(&rng);
    const double *loss_samples[MTB_MAX_SAMPLES], *G_samples[MTB_MAX_SAMPLES];
    for (size_t k = 0; k < K; k++) {
        loss_samples[k] = losses + k * (size_t)T;
        G_samples[k] = need_g ? G + k * n_g : NULL;
    }

    mtb_balance_in in = {.T = (int)T, .losses = losses, .G = G, .D = need_g ? (size_t)D : 0,
                         .rep = {.Z = Z},
                         .samples = {.n = K > 1 ? (int)K : 0,
                                     .losses = K > 1 ? loss_samples : NULL,
                                     .G = K > 1 && need_g ? G_samples : NULL}};
    mtb_balance_out out = {.head_w = hw, .trunk_w = tw, .trunk_grad = tg};
    int rc = 0;
    for (long r = 0; r < reps + 3; r++) {
        in.step = r;
        in.epoch = r / 10; /* epoch-based methods (DWA) see their epoch logic run */
        double t0 = mtb_clock_s();
        mtb_status st = mtb_balancer_step(b, &in, &out, &err);
        double dt = mtb_clock_s() - t0;
        if (st) {
            rc = cli_fail(CMD, &err);
            break;
        }
        if (r >= 3)
            us[r - 3] = 1e6 * dt;
    }
    if (!rc) {
        bench_print_machine(stdout);
        printf("method=%s tasks=%ld dim=%ld reps=%ld needs=%s\n", type->name, T,
               need_g ? D : 0L, reps, need_g ? "gradients" : "losses");
        printf("us_per_call=%.3f\n", mtb_stats_median_inplace(us, (size_t)reps));
    }
    free(losses), free(G), free(Z), free(hw), free(tw), free(tg), free(us);
    mtb_balancer_free(b);
    return rc;
}
