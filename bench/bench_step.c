/* bench_step.c: mtb bench step, the cost of one training step against its FLOP bound.
 *
 * Shapes (issue 2; spec mtrregression-and-slaw.md sec. 2 and 5.4):
 *   mtr   250 inputs -> 4 x 100 tanh -> T heads of 100 outputs, MSE
 *   pcba  2048 binary inputs (about 2 % ones) -> 2000 -> 100 (ReLU) -> T heads of 2 logits,
 *         cross-entropy weighted (0.013932, 0.986068) as the SLAW code's class counts give
 * A step is what mtb train does per batch: forward, the requested per-task gradients
 * (none, REP: w.r.t. z, PARAM: w.r.t. every shared parameter), the weighted backward with
 * equal weights, clipping and Adam. The timer covers exactly mtb_trainer_step on a batch
 * already in memory (no data loading). FLOPs are those of the matrix products the step
 * actually issued (counted by mtb_sgemm/mtb_sgemv); the bound divides them by the sgemm
 * rate measured in the same run. */
#include <cblas.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "../core/cli/cli.h"
#include "bench.h"
#include "mtb/balancer.h"
#include "mtb/clock.h"
#include "mtb/stats.h"
#include "mtb/layer.h"
#include "mtb/rng.h"
#include "mtb/train.h"

static void usage(FILE *out)
{
    fprintf(out,
"usage: mtb bench step [--shape mtr|pcba] [--tasks T] [--batch B] [--grads none|rep|param]\n"
"                      [--method NAME [--options K=V,...]] [--reps N] [--threads N]\n"
"                      [--task-chunk N] [--best-gflops G] [--gram [--gram-block N]]\n"
"\n"
"Times one full training step on random data and prints, on its last line,\n"
"  ms_per_step=<median over reps> flop_bound_ms=<matrix-product FLOPs / sgemm rate>\n"
"  --shape     mtr (250 -> 4x100 tanh -> T x 100, MSE) or pcba (2048 -> 2000 -> 100 ReLU\n"
"              -> T x 2 logits, class-weighted CE)                         [mtr]\n"
"  --tasks T   number of tasks                                              [10]\n"
"  --batch B   batch size                                                   [304]\n"
"  --grads     per-task gradients computed each step: none, rep (w.r.t. the shared\n"
"              representation), param (w.r.t. all shared parameters)       [none]\n"
"  --method    a method of `mtb methods`: the step computes what it needs and runs it\n"
"              (--grads is then ignored; its hyperparameters from --options)  [none: EW]\n"
"  --reps N    timed steps                                                  [50]\n"
"  --warmup N  untimed steps before them                                    [3]\n"
"  --threads N BLAS threads                                                 [1]\n"
"  --task-chunk N  tasks propagated together for param gradients, 0 = all   [0]\n"
"  --gram      the Gram path (docs/performance.md): parameter gradients only as G G^T,\n"
"              accumulated block by block, never the T x P Jacobian; for a method with\n"
"              gram_ok (mgda, imtl_g level=param) or none (--grads param implied).\n"
"              Prints the Gram's dsyrk FLOPs (not in the sgemm bound) and peak RSS\n"
"  --gram-block N  floats per task in one parameter block, 0 = 32768           [0]\n"
"  --best-gflops G  the sgemm peak of the best kernel, GFLOP/s, as `mtb bench peak`\n"
"              measured it (skips measuring it here; 0 = do not state that bound)\n"
"\n"
"Also printed: best_kernel, its sgemm peak (max over a few shapes, measured in a child\n"
"process started on the best kernel this CPU supports that passes the self-check) and\n"
"the step's ratio to the FLOP bound at that rate: the machine's bound, whatever kernel\n"
"this process runs on.\n");
}

int mtb_bench_step(int argc, char **argv)
{
    const char *cmd = "bench step";
    int pcba = 0, T = 10, B = 304, reps = 50, threads = 1, chunk = 0, warmup = 3, gram = 0;
    long gram_block = 0;
    double best_gflops = NAN; /* NAN: measure */
    const char *method = NULL, *options = NULL;
    mtb_need need = MTB_NEED_LOSSES;
    long v;
    static const struct option opts[] = {
        {"shape", required_argument, 0, 's'}, {"tasks", required_argument, 0, 'T'},
        {"batch", required_argument, 0, 'B'}, {"grads", required_argument, 0, 'g'},
        {"reps", required_argument, 0, 'r'}, {"threads", required_argument, 0, 'j'},
        {"task-chunk", required_argument, 0, 'c'}, {"best-gflops", required_argument, 0, 'G'},
        {"method", required_argument, 0, 'm'}, {"options", required_argument, 0, 'o'},
        {"warmup", required_argument, 0, 'w'}, {"gram", no_argument, 0, 'R'},
        {"gram-block", required_argument, 0, 'k'},
        {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 's':
            if (!strcmp(optarg, "mtr")) pcba = 0;
            else if (!strcmp(optarg, "pcba")) pcba = 1;
            else { cli_error(cmd, "--shape must be mtr or pcba, got '%s'", optarg); return 2; }
            break;
        case 'T': if (cli_parse_long(cmd, "tasks", optarg, 1, 4096, &v)) return 2; T = (int)v; break;
        case 'B': if (cli_parse_long(cmd, "batch", optarg, 1, 1000000, &v)) return 2; B = (int)v; break;
        case 'g':
            if (!strcmp(optarg, "none")) need = MTB_NEED_LOSSES;
            else if (!strcmp(optarg, "rep")) need = MTB_NEED_REP_GRADS;
            else if (!strcmp(optarg, "param")) need = MTB_NEED_PARAM_GRADS;
            else { cli_error(cmd, "--grads must be none, rep or param, got '%s'", optarg); return 2; }
            break;
        case 'r': if (cli_parse_long(cmd, "reps", optarg, 1, 100000, &v)) return 2; reps = (int)v; break;
        case 'j': if (cli_parse_long(cmd, "threads", optarg, 1, 1024, &v)) return 2; threads = (int)v; break;
        case 'c': if (cli_parse_long(cmd, "task-chunk", optarg, 0, 4096, &v)) return 2; chunk = (int)v; break;
        case 'G': {
            char *end;
            best_gflops = strtod(optarg, &end);
            if (end == optarg || *end || !(best_gflops >= 0.0) || best_gflops > 1e6) {
                cli_error(cmd, "--best-gflops must be a rate in GFLOP/s (0 = none), got '%s'", optarg);
                return 2;
            }
            break;
        }
        case 'm': method = optarg; break;
        case 'w': if (cli_parse_long(cmd, "warmup", optarg, 0, 1000, &v)) return 2; warmup = (int)v; break;
        case 'o': options = optarg; break;
        case 'R': gram = 1; break;
        case 'k': if (cli_parse_long(cmd, "gram-block", optarg, 0, 1L << 30, &gram_block)) return 2; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    openblas_set_num_threads(threads);

    const int d_in = pcba ? 2048 : 250, out = pcba ? 2 : 100;
    int *head_out = malloc(sizeof(int) * (size_t)T);
    mtb_task_spec *tasks = calloc((size_t)T, sizeof *tasks);
    mtb_model_config mc = {d_in, pcba ? 2 : 4, {0}, pcba ? MTB_ACT_RELU : MTB_ACT_TANH, T, head_out};
    if (pcba)
        mc.widths[0] = 2000, mc.widths[1] = 100;
    else
        for (int i = 0; i < 4; i++)
            mc.widths[i] = 100;
    const int tw = pcba ? 1 : out;
    for (int t = 0; t < T; t++) {
        head_out[t] = out;
        tasks[t] = (mtb_task_spec){pcba ? MTB_LOSS_CE : MTB_LOSS_MSE, out, tw, t * tw, 1.0, 0, {0}};
        if (pcba)
            tasks[t].n_class_weights = 2, tasks[t].class_weights[0] = 0.013932,
            tasks[t].class_weights[1] = 0.986068;
    }
    mtb_error err = {0};
    mtb_model *m = NULL;
    mtb_trainer *tr = NULL;
    mtb_balancer *bal = NULL;
    float *x = malloc(sizeof(float) * (size_t)B * d_in), *y = malloc(sizeof(float) * (size_t)B * T * tw);
    double *ms = malloc(sizeof(double) * (size_t)reps);
    int rc = 1;
    if (!head_out || !tasks || !x || !y || !ms) {
        cli_error(cmd, "out of memory");
        goto done;
    }
    mtb_rng rng;
    mtb_rng_seed(&rng, 1, MTB_STREAM_BENCH);
    if (mtb_model_new(&mc, &m, &err) || mtb_model_init_orthogonal(m, sqrt(2.0), &rng, &err)) {
        rc = cli_fail(cmd, &err);
        goto done;
    }
    for (size_t i = 0; i < (size_t)B * d_in; i++)
        x[i] = pcba ? (float)mtb_rng_bernoulli(&rng, 0.02) : (float)(0.01 * mtb_rng_normal(&rng));
    for (size_t i = 0; i < (size_t)B * T * tw; i++)
        y[i] = pcba ? (float)mtb_rng_bernoulli(&rng, 0.02) : (float)mtb_rng_normal(&rng);
    if (method) { /* the method's own needs, as mtb train sets them up */
        const mtb_balancer_type *type = mtb_balancer_find(method);
        mtb_hparams hp;
        mtb_balancer_setup setup;
        if (!type) {
            cli_error(cmd, "unknown method '%s' (see mtb methods)", method);
            rc = 2;
            goto done;
        }
        if (mtb_hparams_parse(type, options, &hp, &err) || mtb_balancer_query(type, T, &hp, &setup, &err)) {
            rc = cli_fail(cmd, &err);
            goto done;
        }
        size_t D = setup.need == MTB_NEED_PARAM_GRADS
                       ? (setup.scope == MTB_SCOPE_ALL ? m->n_trunk : m->last_dense_size)
                       : setup.need == MTB_NEED_REP_GRADS ? (size_t)B * m->dz : 0;
        need = setup.need;
        if (!(bal = mtb_balancer_new(type, T, D, &hp, 1, &err))) {
            rc = cli_fail(cmd, &err);
            goto done;
        }
    }
    if (gram && !method)
        need = MTB_NEED_PARAM_GRADS;
    mtb_trainer_config tc = {{0}, 0.5, B, chunk, need, MTB_SCOPE_ALL, NULL, NULL};
    mtb_optim_config_adam(&tc.optim, 3e-4);
    tc.optim.eps = 1e-5;
    if (gram ? mtb_trainer_new_gram(m, tasks, bal, &tc, (size_t)gram_block, &tr, &err)
             : mtb_trainer_new(m, tasks, bal, &tc, &tr, &err)) {
        rc = cli_fail(cmd, &err);
        goto done;
    }
    double flops = 0.0;
    for (int r = -warmup; r < reps; r++) {
        if (gram && reps + warmup > 1)
            fprintf(stderr, "bench step: step %d of %d\r", r + warmup + 1, reps + warmup);
        double t0 = mtb_clock_s();
        if (mtb_trainer_step(tr, x, y, (size_t)T * tw, B, r + warmup, 0, NULL, &err)) {
            rc = cli_fail(cmd, &err);
            goto done;
        }
        double t = mtb_clock_s() - t0;
        if (r >= 0)
            ms[r] = 1e3 * t;
        flops = mtb_trainer_last_flops(tr);
    }
    double rate = mtb_sgemm_rate(1024, 5);
    double med = mtb_stats_median_inplace(ms, (size_t)reps);
    double bound = 1e3 * flops / rate;
    char best_kernel[64] = "given"; /* by --best-gflops */
    if (isnan(best_gflops) && bench_best_peak(threads, stdout, best_kernel, sizeof best_kernel, &best_gflops))
        best_gflops = 0.0;
    if (!(best_gflops > 0.0))
        snprintf(best_kernel, sizeof best_kernel, "none");
    double best_bound = best_gflops > 0.0 ? flops / (best_gflops * 1e6) : NAN; /* ms */
    const char *gname = need == MTB_NEED_LOSSES ? "none" : need == MTB_NEED_REP_GRADS ? "rep" : "param";
    bench_print_machine(stdout);
    printf("shape=%s tasks=%d batch=%d grads=%s method=%s threads=%d params=%zu (trunk %zu)\n",
           pcba ? "pcba" : "mtr", T, B, gname, method ? method : "none", threads, m->n_params, m->n_trunk);
    printf("step_gflop=%.4f sgemm_gflops=%.1f achieved_gflops=%.1f ratio_to_bound=%.2f min_ms=%.3f\n",
           flops * 1e-9, rate * 1e-9, flops / (med * 1e-3) * 1e-9, med / bound,
           ms[0]);
    printf("best_kernel=%s best_sgemm_gflops=%.1f ratio_to_best_bound=%.2f\n", best_kernel, best_gflops,
           med / best_bound);
    if (gram) {
        /* dsyrk adds T (T + 1) / 2 dot products of every parameter block, 2 FLOPs each;
         * the Jacobian path would hold G in float and in double (12 bytes per entry) */
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        double P = (double)m->n_trunk;
        printf("gram_path=1 gram_block=%ld gram_syrk_gflop=%.4f (double, not in the bounds above) "
               "jacobian_path_gb=%.1f (T P x 12 bytes) peak_rss_mb=%.1f\n", gram_block,
               (double)T * (T + 1) * P * 1e-9, 12.0 * T * P / 1e9, ru.ru_maxrss / 1024.0);
    }
    printf("ms_per_step=%.3f flop_bound_ms=%.3f best_bound_ms=%.3f\n", med, bound, best_bound);
    rc = 0;
done:
    mtb_trainer_free(tr);
    mtb_balancer_free(bal);
    mtb_model_free(m);
    free(head_out), free(tasks), free(x), free(y), free(ms);
    return rc;
}
