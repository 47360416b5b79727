/* cmd_train.c: mtb train, one training run from a dataset file to a run file. */
#include <cblas.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "mtb/dataset.h"
#include "mtb/run.h"

static void usage(FILE *out)
{
    fprintf(out,
"usage: mtb train [--problem NAME] [--data FILE.h5] [--method NAME] [--options K=V,...]\n"
"                 [--seed N] -o RUN.h5 [protocol overrides]\n"
"\n"
"Trains a hard-parameter-sharing model (dense trunk, one linear head per task) on a benchmark\n"
"problem (see 'mtb problems'), weighting the tasks with a balancing method, and writes a run\n"
"file (HDF5): the configuration and provenance as attributes, per step the task losses,\n"
"weights, shared-gradient norm and wall time, per evaluation the test losses and per-task\n"
"metrics (and, on MTRRegression, the SLAW normalised loss and loss-weight error). The\n"
"protocol (network, optimiser, steps, batch, evaluation) is the problem's; the options below\n"
"override it.\n"
"\n"
"  --problem NAME     benchmark problem (mtb problems)                         [mtr]\n"
"  --scale S          the problem's protocol: paper or smoke                   [paper]\n"
"  --data FILE        data set file instead of generating the problem's (HDF5,\n"
"                     schema in datasets/README.md; checked against the problem)\n"
"  -o, --out FILE     run file to write (atomically: FILE.tmp, then renamed;\n"
"                     checked before training; a missing directory is made\n"
"                     when the file is written)                                [required]\n"
"  --method NAME      balancing method (see 'mtb methods'); 'oc' (or 'ideal'): the\n"
"                     problem's oracle constant weights; 'stl': one network per task [ew]\n"
"  --options K=V,...  the method's hyperparameters (see 'mtb methods NAME')   [paper defaults]\n"
"  --seed N           seeds initialisation, batch order and the method's draws,\n"
"                     0 .. 2^63-1                                               [0]\n"
"  --steps N          training steps                                    [problem: mtr 9900]\n"
"  --batch N          batch size                                        [problem: mtr 304]\n"
"  --eval-every N     evaluate on the test set every N steps and at the end [mtr: 33]\n"
"  --hidden N         trunk dense layers                                       [4]\n"
"  --width N          width of every trunk layer                               [100]\n"
"  --act tanh|relu    trunk activation (the code ran tanh; spec erratum 3)     [tanh]\n"
"  --init-gain G      orthogonal initialisation gain                           [sqrt(2)]\n"
"  --optimizer adam|sgd                                                        [adam]\n"
"  --lr X             learning rate                                            [7e-4]\n"
"  --adam-eps X       Adam epsilon                                      [mtr 1e-5, else 1e-8]\n"
"  --momentum X       SGD momentum                                             [0]\n"
"  --weight-decay X   L2 weight decay added to the gradient                    [0]\n"
"  --clip X           global gradient-norm clipping, 0 = off            [mtr 0.5, else 0]\n"
"  --task-chunk N     tasks propagated together for parameter-level gradients,\n"
"                     0 = all (more memory, faster)                            [0]\n"
"  --gram             the Gram path: parameter gradients only as G G^T, never the\n"
"                     T x P Jacobian (methods that read G only through G G^T:\n"
"                     mgda, imtl_g level=param, fairgrad, upgrad, aligned_mtl,\n"
"                     cagrad, nash_mtl; docs/performance.md)                   [off]\n"
"  --skip-zero-heads  no backward for heads whose step weight is exactly 0\n"
"                     (Bernoulli RLW); the same result to float rounding       [off]\n"
"  --threads N        BLAS threads; results are bit-identical for a fixed count [1]\n"
"  -q, --quiet        no progress: on a terminal a line redrawn in place, otherwise\n"
"                     a line every 30 s (MTB_PROGRESS_INTERVAL=S to change it)\n"
"\n"
"Ctrl-C (SIGINT) or SIGTERM removes the temporary file; the exit status is 128 + signal.\n"
"\n"
"example: mtb train --method slaw --seed 1 -o runs/slaw-1.h5\n"
"         mtb train --problem lsd6 --scale smoke --method db_mtl -o runs/lsd6-dbmtl.h5\n"
"         mtb gen mtr --tasks 10 --seed 1 -o datasets/mtr10.h5\n"
"         mtb train --data datasets/mtr10.h5 --method ew -o runs/ew-1.h5\n");
}

typedef struct progress_ctx {
    cli_progress bar;
    int nl;
    const char *metric1;
} progress_ctx;

static void on_step(void *p, long step, long steps, const mtb_run_log *log)
{
    progress_ctx *c = p;
    (void)steps;
    char extra[96];
    long e = log->n_eval - 1;
    if (c->nl && e >= 0)
        snprintf(extra, sizeof extra, "test NL %.3f", log->eval_test_nl[e]);
    else if (e >= 0)
        snprintf(extra, sizeof extra, "test %s of task 1: %.4g", c->metric1, log->eval_metric[(size_t)e * log->T]);
    else
        extra[0] = 0;
    cli_progress_update(&c->bar, step, extra);
}

/* -o naming the --data file would replace the data set with a run file. */
static int same_file(const char *cmd, const char *data, const char *out)
{
    struct stat a, b;
    if (stat(data, &a) == 0 && stat(out, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino) {
        cli_error(cmd, "-o '%s' is the --data file; the run file would replace the data set "
                  "(give another name)", out);
        return 1;
    }
    return 0;
}

/* After a failed --data load: how to make the file, only when it does not exist (so the
 * hint never suggests overwriting the user's own file). */
static void data_hint(const char *data, const mtb_problem *prob)
{
    struct stat sb;
    if (stat(data, &sb) == 0 || errno != ENOENT)
        return;
    char gen[96];
    if (!strncmp(prob->name, "lsd6-eq", 7))
        snprintf(gen, sizeof gen, "mtb gen lsd6 --eq");
    else if (!strncmp(prob->name, "lsd6", 4))
        snprintf(gen, sizeof gen, "mtb gen lsd6");
    else if (!strncmp(prob->name, "bce", 3))
        snprintf(gen, sizeof gen, "mtb gen bce --tasks %d", prob->T);
    else if (!strncmp(prob->name, "multifashion", 12))
        snprintf(gen, sizeof gen, "mtb gen multifashion");
    else if (!strcmp(prob->name, "mtr") || !strncmp(prob->name, "mtr-", 4))
        snprintf(gen, sizeof gen, "mtb gen mtr --tasks %d", prob->T);
    else
        snprintf(gen, sizeof gen, "mtb gen <generator>");
    fprintf(stderr, "hint: %s does not exist; create it with: %s -o %s\n"
                    "      (or leave out --data: mtb train then generates the %s data set in "
                    "memory)\n", data, gen, data, prob->name);
}

/* One pass over the options. pass 0 reads only --problem, --scale and --help; pass 1 reads
 * everything else into the looked-up problem's protocol and the run configuration. */
typedef struct train_args {
    const char *problem, *scale, *data, *out;
    int quiet;
} train_args;

static int parse(int argc, char **argv, int pass, train_args *a, mtb_problem *prob,
                 mtb_run_config *cfg)
{
    const char *cmd = "train";
    long v;
    double x;
    enum { O_DATA = 256, O_METHOD, O_OPTIONS, O_SEED, O_STEPS, O_BATCH, O_EVAL, O_HIDDEN, O_WIDTH,
           O_ACT, O_GAIN, O_OPT, O_LR, O_EPS, O_MOM, O_WD, O_CLIP, O_CHUNK, O_THREADS, O_PROBLEM,
           O_SCALE, O_GRAM, O_SKIP };
    static const struct option opts[] = {
        {"data", required_argument, 0, O_DATA}, {"out", required_argument, 0, 'o'},
        {"problem", required_argument, 0, O_PROBLEM}, {"scale", required_argument, 0, O_SCALE},
        {"method", required_argument, 0, O_METHOD}, {"options", required_argument, 0, O_OPTIONS},
        {"seed", required_argument, 0, O_SEED}, {"steps", required_argument, 0, O_STEPS},
        {"batch", required_argument, 0, O_BATCH}, {"eval-every", required_argument, 0, O_EVAL},
        {"hidden", required_argument, 0, O_HIDDEN}, {"width", required_argument, 0, O_WIDTH},
        {"act", required_argument, 0, O_ACT}, {"init-gain", required_argument, 0, O_GAIN},
        {"optimizer", required_argument, 0, O_OPT}, {"lr", required_argument, 0, O_LR},
        {"adam-eps", required_argument, 0, O_EPS}, {"momentum", required_argument, 0, O_MOM},
        {"weight-decay", required_argument, 0, O_WD}, {"clip", required_argument, 0, O_CLIP},
        {"task-chunk", required_argument, 0, O_CHUNK}, {"threads", required_argument, 0, O_THREADS},
        {"gram", no_argument, 0, O_GRAM}, {"skip-zero-heads", no_argument, 0, O_SKIP},
        {"quiet", no_argument, 0, 'q'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    mtb_protocol *pr = prob ? &prob->proto : NULL; /* pass 0 has no problem yet */
    int c;
    optind = 0; /* glibc: full re-initialisation, so the options can be read twice */
    opterr = pass == 0;
    while ((c = getopt_long(argc, argv, "o:qh", opts, NULL)) != -1) {
        if (pass == 0) {
            switch (c) {
            case O_PROBLEM: a->problem = optarg; break;
            case O_SCALE: a->scale = optarg; break;
            case 'h': usage(stdout); return 0;
            case '?': usage(stderr); return 2;
            default: break;
            }
            continue;
        }
        switch (c) {
        case O_PROBLEM: case O_SCALE: break;
        case O_DATA: a->data = optarg; break;
        case 'o': a->out = optarg; break;
        case O_METHOD:
            if (strlen(optarg) >= sizeof cfg->method) {
                cli_error(cmd, "--method name too long");
                return 2;
            }
            strcpy(cfg->method, optarg);
            break;
        case O_OPTIONS:
            if (strlen(optarg) >= sizeof cfg->options) {
                cli_error(cmd, "--options too long (max %zu characters)", sizeof cfg->options - 1);
                return 2;
            }
            strcpy(cfg->options, optarg);
            break;
        case O_SEED: {
            unsigned long long sd;
            if (cli_parse_seed(cmd, optarg, &sd)) return 2;
            cfg->seed = (uint64_t)sd;
            break;
        }
        case O_STEPS: if (cli_parse_long(cmd, "steps", optarg, 1, 100000000L, &v)) return 2; pr->steps = v; break;
        case O_BATCH: if (cli_parse_long(cmd, "batch", optarg, 1, 10000000L, &v)) return 2; pr->batch = (int)v; break;
        case O_EVAL: if (cli_parse_long(cmd, "eval-every", optarg, 1, 100000000L, &v)) return 2; pr->eval_every = (int)v; break;
        case O_HIDDEN: if (cli_parse_long(cmd, "hidden", optarg, 1, MTB_MAX_HIDDEN, &v)) return 2; pr->n_hidden = (int)v; break;
        case O_WIDTH:
            if (cli_parse_long(cmd, "width", optarg, 1, 1000000L, &v)) return 2;
            for (int i = 0; i < MTB_MAX_HIDDEN; i++)
                pr->widths[i] = (int)v;
            break;
        case O_ACT:
            if (!strcmp(optarg, "tanh")) pr->act = MTB_ACT_TANH;
            else if (!strcmp(optarg, "relu")) pr->act = MTB_ACT_RELU;
            else { cli_error(cmd, "--act must be tanh or relu, got '%s'", optarg); return 2; }
            break;
        case O_GAIN: if (cli_parse_double(cmd, "init-gain", optarg, 1e-6, 1e6, &x)) return 2; pr->init_gain = x; break;
        case O_OPT:
            if (!strcmp(optarg, "adam")) pr->optim.kind = MTB_OPT_ADAM;
            else if (!strcmp(optarg, "sgd")) pr->optim.kind = MTB_OPT_SGD;
            else { cli_error(cmd, "--optimizer must be adam or sgd, got '%s'", optarg); return 2; }
            break;
        case O_LR: if (cli_parse_double(cmd, "lr", optarg, 1e-12, 1e6, &x)) return 2; pr->optim.lr = x; break;
        case O_EPS: if (cli_parse_double(cmd, "adam-eps", optarg, 1e-300, 1.0, &x)) return 2; pr->optim.eps = x; break;
        case O_MOM: if (cli_parse_double(cmd, "momentum", optarg, 0.0, 0.999999, &x)) return 2; pr->optim.momentum = x; break;
        case O_WD: if (cli_parse_double(cmd, "weight-decay", optarg, 0.0, 1e6, &x)) return 2; pr->optim.weight_decay = x; break;
        case O_CLIP: if (cli_parse_double(cmd, "clip", optarg, 0.0, 1e12, &x)) return 2; pr->clip_norm = x; break;
        case O_CHUNK: if (cli_parse_long(cmd, "task-chunk", optarg, 0, 1000000L, &v)) return 2; cfg->task_chunk = (int)v; break;
        case O_THREADS: if (cli_parse_long(cmd, "threads", optarg, 1, 1024, &v)) return 2; cfg->threads = (int)v; break;
        case O_GRAM: cfg->gram = 1; break;
        case O_SKIP: cfg->skip_zero_heads = 1; break;
        case 'q': a->quiet = 1; break;
        default: usage(stderr); return 2;
        }
    }
    if (optind < argc) {
        cli_error(cmd, "unexpected argument '%s' (see mtb train --help)", argv[optind]);
        return 2;
    }
    return -1; /* go on */
}

int mtb_cmd_train(int argc, char **argv)
{
    const char *cmd = "train";
    train_args a = {"mtr", "paper", NULL, NULL, 0};
    mtb_run_config cfg = {NULL, "ew", "", 0, 0, 1, 0, 0};
    mtb_error err = {0};
    int rc = parse(argc, argv, 0, &a, NULL, &cfg);
    if (rc >= 0)
        return rc;
    mtb_problem *prob = malloc(sizeof *prob);
    if (!prob) {
        cli_error(cmd, "out of memory");
        return 1;
    }
    if (mtb_problem_lookup(a.problem, a.scale, prob, &err)) {
        cli_fail(cmd, &err);
        free(prob);
        return 2;
    }
    cfg.problem = prob;
    rc = parse(argc, argv, 1, &a, prob, &cfg);
    if (rc >= 0) {
        free(prob);
        return rc;
    }
    if (!a.out) {
        cli_error(cmd, "-o RUN.h5 is required (see mtb train --help)");
        free(prob);
        return 2;
    }
    /* Fail before the work: an output that cannot be written is found now, not after
     * the training run. */
    if (cli_output_check(cmd, "-o", a.out) || (a.data && same_file(cmd, a.data, a.out))) {
        free(prob);
        return 2;
    }
    /* and so are an unknown method, bad options or a method that cannot run with T tasks */
    if (mtb_run_config_check(&cfg, &err)) {
        cli_fail(cmd, &err);
        free(prob);
        return 2;
    }
    if (cli_check_only) {
        free(prob);
        return 0;
    }
    cli_cleanup_on_signals();
    openblas_set_num_threads(cfg.threads);

    mtb_dataset ds = {0};
    mtb_status st = a.data ? mtb_problem_load_dataset(prob, a.data, &ds, &err)
                           : mtb_problem_make_dataset(prob, &ds, &err);
    if (st) {
        rc = cli_fail(cmd, &err);
        if (a.data)
            data_hint(a.data, prob);
        free(prob);
        return rc;
    }
    mtb_provenance prov;
    mtb_provenance_collect(&prov, 1);
    progress_ctx pc = {.nl = prob->proto.nl_window > 0, .metric1 = mtb_metric_name(prob->tasks[0].metric.kind)};
    char label[96];
    snprintf(label, sizeof label, "train %s seed %llu", cfg.method, (unsigned long long)cfg.seed);
    long units = prob->proto.steps * (!strcmp(cfg.method, "stl") ? prob->T : 1);
    cli_progress_begin(&pc.bar, label, units);
    if (a.quiet)
        pc.bar.enabled = 0;
    mtb_run_log log;
    st = mtb_run_train(&cfg, &ds, &log, on_step, &pc, &err);
    cli_progress_end(&pc.bar);
    /* The output's missing directories are made only now, when there is a file to write. */
    if (!st && cli_output_prepare(cmd, a.out)) {
        rc = 1;
    } else {
        if (!st)
            st = mtb_run_save(a.out, &cfg, &ds, a.data, &log, &prov, &err);
        rc = st ? cli_fail(cmd, &err) : 0;
        if (st)
            cli_output_abandon();
    }
    if (!rc && !a.quiet) {
        long e = log.n_eval - 1;
        printf("%s on %s: %ld steps in %.1f s", log.method_desc, prob->name, log.steps, log.wall_s);
        if (pc.nl) {
            double best = log.eval_test_nl[0];
            for (long i = 1; i < log.n_eval; i++)
                best = fmin(best, log.eval_test_nl[i]);
            printf("; final train NL %.4f, test NL %.4f (best %.4f)", log.eval_train_nl[e],
                   log.eval_test_nl[e], best);
        }
        printf("\nfinal test metrics:");
        for (int t = 0; t < log.T && t < 8; t++)
            printf(" %s %s %.4g;", prob->tasks[t].name, mtb_metric_name(prob->tasks[t].metric.kind),
                   log.eval_metric[(size_t)e * log.T + t]);
        printf("%s\nrun file: %s  (inspect: mtb export %s --list)\n", log.T > 8 ? " ..." : "", a.out,
               a.out);
    }
    mtb_run_log_free(&log);
    mtb_dataset_free(&ds);
    free(prob);
    return rc;
}
