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
"usage: mtb train --data FILE.h5 [--method NAME] [--options K=V,...] [--seed N] -o RUN.h5 [options]\n"
"\n"
"Trains a hard-parameter-sharing model (dense trunk, one linear head per task) on a dataset\n"
"written by 'mtb gen', weighting the tasks with a balancing method, and writes a run file\n"
"(HDF5): the configuration as attributes, per step the task losses, weights, shared-gradient\n"
"norm, train normalised loss, loss-weight error and wall time, and per evaluation the test\n"
"normalised loss. Defaults are the settings of the SLAW paper's code for MTRRegression\n"
"(../shared/specs/mtrregression-and-slaw.md sec. 2).\n"
"\n"
"  --data FILE        dataset (HDF5, schema in datasets/README.md)             [required]\n"
"  -o, --out FILE     run file to write (atomically: FILE.tmp, then renamed)   [required]\n"
"  --method NAME      balancing method (see 'mtb methods'), or 'ideal': constant\n"
"                     weights 1/sigma_t^2 rescaled to sum T (an oracle)      [ew]\n"
"  --options K=V,...  the method's hyperparameters (see 'mtb methods NAME')   [paper defaults]\n"
"  --seed N           seeds initialisation, batch order and the method's draws [0]\n"
"  --steps N          training steps                                           [9900]\n"
"  --batch N          batch size; the last partial batch of an epoch is kept   [304]\n"
"  --eval-every N     evaluate on the test set every N steps and at the end    [33]\n"
"  --hidden N         trunk dense layers                                       [4]\n"
"  --width N          width of every trunk layer                               [100]\n"
"  --act tanh|relu    trunk activation (the code ran tanh; spec erratum 3)     [tanh]\n"
"  --init-gain G      orthogonal initialisation gain                           [sqrt(2)]\n"
"  --optimizer adam|sgd                                                        [adam]\n"
"  --lr X             learning rate                                            [7e-4]\n"
"  --adam-eps X       Adam epsilon                                             [1e-5]\n"
"  --momentum X       SGD momentum                                             [0]\n"
"  --weight-decay X   L2 weight decay added to the gradient                    [0]\n"
"  --clip X           global gradient-norm clipping, 0 = off                   [0.5]\n"
"  --task-chunk N     tasks propagated together for parameter-level gradients,\n"
"                     0 = all (more memory, faster)                            [0]\n"
"  --threads N        BLAS threads; results are bit-identical for a fixed count [1]\n"
"  -q, --quiet        no progress line (it is shown only on a terminal anyway)\n"
"\n"
"example: mtb gen mtr --tasks 10 --seed 1 -o datasets/mtr10.h5\n"
"         mtb train --data datasets/mtr10.h5 --method slaw --seed 1 -o runs/slaw-1.h5\n");
}

typedef struct progress_ctx {
    cli_progress bar;
} progress_ctx;

static void on_step(void *p, long step, long steps, const mtb_run_log *log)
{
    progress_ctx *c = p;
    (void)steps;
    char extra[96];
    snprintf(extra, sizeof extra, "train NL %.3f test NL %.3f", log->train_nl[step - 1],
             log->n_eval ? log->eval_test_nl[log->n_eval - 1] : NAN);
    cli_progress_update(&c->bar, step, extra);
}

/* mkdir -p of path's parent directory. */
static int make_parent_dirs(const char *path)
{
    char buf[4096];
    if (strlen(path) >= sizeof buf)
        return -1;
    strcpy(buf, path);
    for (char *p = buf + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            if (mkdir(buf, 0777) && errno != EEXIST)
                return -1;
            *p = '/';
        }
    return 0;
}

int mtb_cmd_train(int argc, char **argv)
{
    const char *cmd = "train";
    mtb_run_config cfg;
    mtb_run_config_default(&cfg);
    const char *data = NULL, *out = NULL;
    int quiet = 0;
    long v;
    double x;
    enum { O_DATA = 256, O_METHOD, O_OPTIONS, O_SEED, O_STEPS, O_BATCH, O_EVAL, O_HIDDEN, O_WIDTH,
           O_ACT, O_GAIN, O_OPT, O_LR, O_EPS, O_MOM, O_WD, O_CLIP, O_CHUNK, O_THREADS };
    static const struct option opts[] = {
        {"data", required_argument, 0, O_DATA}, {"out", required_argument, 0, 'o'},
        {"method", required_argument, 0, O_METHOD}, {"options", required_argument, 0, O_OPTIONS},
        {"seed", required_argument, 0, O_SEED}, {"steps", required_argument, 0, O_STEPS},
        {"batch", required_argument, 0, O_BATCH}, {"eval-every", required_argument, 0, O_EVAL},
        {"hidden", required_argument, 0, O_HIDDEN}, {"width", required_argument, 0, O_WIDTH},
        {"act", required_argument, 0, O_ACT}, {"init-gain", required_argument, 0, O_GAIN},
        {"optimizer", required_argument, 0, O_OPT}, {"lr", required_argument, 0, O_LR},
        {"adam-eps", required_argument, 0, O_EPS}, {"momentum", required_argument, 0, O_MOM},
        {"weight-decay", required_argument, 0, O_WD}, {"clip", required_argument, 0, O_CLIP},
        {"task-chunk", required_argument, 0, O_CHUNK}, {"threads", required_argument, 0, O_THREADS},
        {"quiet", no_argument, 0, 'q'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:qh", opts, NULL)) != -1) {
        switch (c) {
        case O_DATA: data = optarg; break;
        case 'o': out = optarg; break;
        case O_METHOD:
            if (strlen(optarg) >= sizeof cfg.method) {
                cli_error(cmd, "--method name too long");
                return 2;
            }
            strcpy(cfg.method, optarg);
            break;
        case O_OPTIONS:
            if (strlen(optarg) >= sizeof cfg.options) {
                cli_error(cmd, "--options too long (max %zu characters)", sizeof cfg.options - 1);
                return 2;
            }
            strcpy(cfg.options, optarg);
            break;
        case O_SEED: if (cli_parse_long(cmd, "seed", optarg, 0, 2147483647L, &v)) return 2; cfg.seed = (uint64_t)v; break;
        case O_STEPS: if (cli_parse_long(cmd, "steps", optarg, 1, 100000000L, &v)) return 2; cfg.steps = v; break;
        case O_BATCH: if (cli_parse_long(cmd, "batch", optarg, 1, 10000000L, &v)) return 2; cfg.batch = (int)v; break;
        case O_EVAL: if (cli_parse_long(cmd, "eval-every", optarg, 1, 100000000L, &v)) return 2; cfg.eval_every = (int)v; break;
        case O_HIDDEN: if (cli_parse_long(cmd, "hidden", optarg, 1, MTB_MAX_HIDDEN, &v)) return 2; cfg.n_hidden = (int)v; break;
        case O_WIDTH:
            if (cli_parse_long(cmd, "width", optarg, 1, 1000000L, &v)) return 2;
            for (int i = 0; i < MTB_MAX_HIDDEN; i++)
                cfg.widths[i] = (int)v;
            break;
        case O_ACT:
            if (!strcmp(optarg, "tanh")) cfg.act = MTB_ACT_TANH;
            else if (!strcmp(optarg, "relu")) cfg.act = MTB_ACT_RELU;
            else { cli_error(cmd, "--act must be tanh or relu, got '%s'", optarg); return 2; }
            break;
        case O_GAIN: if (cli_parse_double(cmd, "init-gain", optarg, 1e-6, 1e6, &x)) return 2; cfg.init_gain = x; break;
        case O_OPT:
            if (!strcmp(optarg, "adam")) cfg.optim.kind = MTB_OPT_ADAM;
            else if (!strcmp(optarg, "sgd")) cfg.optim.kind = MTB_OPT_SGD;
            else { cli_error(cmd, "--optimizer must be adam or sgd, got '%s'", optarg); return 2; }
            break;
        case O_LR: if (cli_parse_double(cmd, "lr", optarg, 1e-12, 1e6, &x)) return 2; cfg.optim.lr = x; break;
        case O_EPS: if (cli_parse_double(cmd, "adam-eps", optarg, 1e-300, 1.0, &x)) return 2; cfg.optim.eps = x; break;
        case O_MOM: if (cli_parse_double(cmd, "momentum", optarg, 0.0, 0.999999, &x)) return 2; cfg.optim.momentum = x; break;
        case O_WD: if (cli_parse_double(cmd, "weight-decay", optarg, 0.0, 1e6, &x)) return 2; cfg.optim.weight_decay = x; break;
        case O_CLIP: if (cli_parse_double(cmd, "clip", optarg, 0.0, 1e12, &x)) return 2; cfg.clip_norm = x; break;
        case O_CHUNK: if (cli_parse_long(cmd, "task-chunk", optarg, 0, 1000000L, &v)) return 2; cfg.task_chunk = (int)v; break;
        case O_THREADS: if (cli_parse_long(cmd, "threads", optarg, 1, 1024, &v)) return 2; cfg.threads = (int)v; break;
        case 'q': quiet = 1; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind < argc) {
        cli_error(cmd, "unexpected argument '%s' (see mtb train --help)", argv[optind]);
        return 2;
    }
    if (!data || !out) {
        cli_error(cmd, "--data and -o are required (see mtb train --help)");
        return 2;
    }
    openblas_set_num_threads(cfg.threads);

    mtb_error err = {0};
    mtb_dataset ds = {0};
    if (mtb_dataset_load(data, &ds, &err)) {
        int rc = cli_fail(cmd, &err);
        fprintf(stderr, "hint: create a dataset with: mtb gen mtr --tasks 10 --seed 1 -o %s\n", data);
        return rc;
    }
    if (make_parent_dirs(out)) {
        cli_error(cmd, "cannot create the directory of '%s'", out);
        mtb_dataset_free(&ds);
        return 1;
    }
    progress_ctx pc;
    char label[96];
    snprintf(label, sizeof label, "train %s seed %llu", cfg.method, (unsigned long long)cfg.seed);
    cli_progress_begin(&pc.bar, label, cfg.steps);
    if (quiet)
        pc.bar.enabled = 0;
    mtb_run_log log;
    mtb_status st = mtb_run_train(&cfg, &ds, &log, on_step, &pc, &err);
    cli_progress_end(&pc.bar);
    if (!st)
        st = mtb_run_save(out, &cfg, &ds, data, &log, &err);
    int rc = 0;
    if (st) {
        rc = cli_fail(cmd, &err);
    } else if (!quiet) {
        long e = log.n_eval - 1;
        double best = log.eval_test_nl[0];
        for (long i = 1; i < log.n_eval; i++)
            best = fmin(best, log.eval_test_nl[i]);
        printf("%s: %ld steps in %.1f s; final train NL %.4f, test NL %.4f (best %.4f)\n"
               "run file: %s  (inspect: mtb export %s --list)\n",
               log.method_desc, log.steps, log.wall_s, log.eval_train_nl[e], log.eval_test_nl[e],
               best, out, out);
    }
    mtb_run_log_free(&log);
    mtb_dataset_free(&ds);
    return rc;
}
