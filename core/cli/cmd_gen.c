/* cmd_gen.c: `mtb gen <generator> [options]`, writes a synthetic multi-task dataset (schema:
 * datasets/README.md). The generators themselves are synth/mtr.c (MTRRegression),
 * synth/lsd6.c (LSD-6), synth/bce.c (BCE-T) and datasets/multifashion.c (MultiFashion, from
 * the Fashion-MNIST source files); this file only turns options into their
 * parameters, makes the output directory and reports. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "mtb/multifashion.h"
#include "mtb/synth.h"

static const char *CMD = "gen";

#define MAX_TASKS 10000 /* T * 100 target columns stay far inside an int */

static void usage_mtr(FILE *out)
{
    fprintf(out,
        "usage: mtb gen mtr [--tasks T] [--sigma s1,...,sT] [--samples N]\n"
        "                   [--train-fraction F] [--seed S] [-o FILE.h5]\n"
        "\n"
        "Generates MTRRegression, the multi-task regression toy of GradNorm (Chen et al.\n"
        "2018) used by SLAW (Crawshaw & Kosecka 2021, Eq. 15 and Sec. 4.1):\n"
        "\n"
        "    y_t(x) = sigma_t * tanh((B + eps_t) x),     t = 1..T\n"
        "    x in R^250,        x_j       ~ N(0, 0.01^2)\n"
        "    B in R^(100x250),  B_ij      ~ N(0, 10^2)    shared by all tasks\n"
        "    eps_t (100x250),   eps_t,ij  ~ N(0, 3.5^2)   one per task\n"
        "\n"
        "0.01, 10 and 3.5 are standard deviations, as in the authors' generator\n"
        "(meta/datasets/mtregression.py; the paper writes N(0, 10), N(0, 3.5)). Each task is\n"
        "a 100-output regression trained with MSE; sigma_t sets its scale, so unbalanced\n"
        "losses come from the data, not the task. Draw order (one RNG stream, mtb stream 1\n"
        "of the seed): B, eps_1..eps_T, the training inputs, then the test inputs; computed\n"
        "in double, stored as float32. Facts: datasets/README.md (from the project's spec\n"
        "mtrregression-and-slaw.md, sec. 1).\n"
        "\n"
        "options (default, and where it comes from):\n"
        "  --tasks T           10      the paper's Table 1 / Figure 1 setting\n"
        "                              (configs/mtregression10_experiment.json); with\n"
        "                              --sigma alone, T is the length of the list\n"
        "  --sigma s1,...,sT   1,...,T sigma_i = i, the authors' generator for n >= 10\n"
        "                              (their 2-task variant is --sigma 1,10)\n"
        "  --samples N         10000   the authors' dataset size\n"
        "  --train-fraction F  0.9     train = round(F N): 9000 / 1000 as in their code\n"
        "  --seed S            0       the authors' cached dataset came from the run with\n"
        "                              seed 0; mtb's RNG is not NumPy's, so the values\n"
        "                              differ, the distribution does not\n"
        "  -o, --output FILE   datasets/mtr<T>.h5 (missing directories are made on writing)\n"
        "  -h, --help          this text\n"
        "\n"
        "The file holds /train/{x,y}, /test/{x,y}, the task table /tasks/* (sigma_t in\n"
        "/tasks/sigma) and the parameters in the root attribute 'generator'.\n");
}

static void usage_lsd6(FILE *out)
{
    fprintf(out,
        "usage: mtb gen lsd6 [--eq] [--seed S] [-o FILE.h5]\n"
        "\n"
        "Generates LSD-6, the loss-scale-disparity benchmark of the RLW, IMTL and DB-MTL\n"
        "reproductions (the project's spec rlw.md, sec. 2; restated in datasets/README.md):\n"
        "six tasks on one MTRRegression input, drawn exactly as 'mtb gen mtr --tasks 6' draws\n"
        "them, with losses that span about six orders of magnitude:\n"
        "\n"
        "    z_t = (B + eps_t) x in R^100,   t = 1..6   (x, B, eps_t as in mtb gen mtr)\n"
        "    t1  MSE  100 outputs   1    * tanh(z_1)    metric NMSE = MSE / sigma^2\n"
        "    t2  MSE  100 outputs   30   * tanh(z_2)    metric NMSE\n"
        "    t3  MSE  100 outputs   1000 * tanh(z_3)    metric NMSE\n"
        "    t4  L1   100 outputs   10   * tanh(z_4)    metric MAE / sigma\n"
        "    t5  CE   10 classes    argmax z_5[1..10]   metric accuracy\n"
        "    t6  BCE  16 bits       1[z_6[j] > 0]       metric mean bit accuracy\n"
        "\n"
        "Label noise, train and test alike: 10%% of t5's labels move to one of the 9 other\n"
        "classes, every t6 bit flips with probability 0.05; the clean labels are stored\n"
        "beside the noisy ones (y columns 417 and 418..433), read by no loss. Draw order: B,\n"
        "eps_1..eps_6, training inputs, test inputs (mtb stream 1 of the seed), then the noise\n"
        "(mtb stream 1 of seed + 1), sample by sample, train first. 9 000 train / 1 000 test\n"
        "samples; computed in double, stored as float32.\n"
        "\n"
        "options (default, and where it comes from):\n"
        "  --eq                off     LSD-6-eq, the scale-parity control: sigma = 1 for\n"
        "                              t1..t4, everything else identical\n"
        "  --seed S            0       spec: 'dataset seed 0 for every run'\n"
        "  -o, --output FILE   datasets/lsd6.h5 (datasets/lsd6-eq.h5 with --eq; missing\n"
        "                              directories are made on writing)\n"
        "  -h, --help          this text\n"
        "\n"
        "The file holds /train/{x,y}, /test/{x,y}, the task table /tasks/* (the scale sigma_t\n"
        "in /tasks/sigma) and the parameters in the root attribute 'generator'; the column\n"
        "layout is in datasets/README.md.\n");
}

static void usage_bce(FILE *out)
{
    fprintf(out,
        "usage: mtb gen bce --tasks T [--flip P] [--seed S] [-o FILE.h5]\n"
        "\n"
        "Generates BCE-T, the CelebA-like problem of the RLW reproduction (the project's spec\n"
        "rlw.md, experiment R6(b); datasets/README.md): T binary tasks on the MTRRegression\n"
        "inputs, drawn exactly as 'mtb gen mtr --tasks T' draws them (same seed, same T: the\n"
        "same x, byte for byte):\n"
        "\n"
        "    z_t = (B + eps_t) x in R^100,   t = 1..T   (x, B, eps_t as in mtb gen mtr)\n"
        "    label_t = 1[z_t[1] > 0]                    (the first of the 100 outputs)\n"
        "    noisy_t = 1 - label_t with probability P, else label_t\n"
        "\n"
        "Each task is one logit trained with BCE, metric accuracy against the noisy labels\n"
        "(y column t); the clean labels are stored beside them (y column T + t), read by no\n"
        "loss. Draw order: B, eps_1..eps_T, training inputs, test inputs (mtb stream 1 of the\n"
        "seed), then the flips (mtb stream 1 of seed + 1), sample by sample, train first, task\n"
        "1..T within a sample. 9 000 train / 1 000 test samples.\n"
        "\n"
        "options (default, and where it comes from):\n"
        "  --tasks T           required R6 uses T in {3, 10, 40}\n"
        "  --flip P            0.05    R6: 'with 5%% flips'\n"
        "  --seed S            0       as mtb gen mtr and lsd6\n"
        "  -o, --output FILE   datasets/bce<T>.h5 (missing directories are made on writing)\n"
        "  -h, --help          this text\n");
}

static void usage_all(FILE *out)
{
    fprintf(out,
        "usage: mtb gen <generator> [options]     (mtb gen <generator> --help for each)\n"
        "\n"
        "  mtr    MTRRegression: T regression tasks, y_t = sigma_t tanh((B + eps_t) x)\n"
        "         (SLAW Eq. 15; datasets/README.md)\n"
        "  lsd6   LSD-6: MSE x3, L1, CE, BCE on MTR inputs, scales 1 to 1000, noisy labels\n"
        "         (RLW reproduction; datasets/README.md); --eq for LSD-6-eq\n"
        "  bce    BCE-T: T noisy binary tasks on MTR inputs (RLW R6; datasets/README.md)\n"
        "  multifashion  MultiFashion (multifashion-v1): two overlaid Fashion-MNIST items,\n"
        "         two 10-class tasks, from Debian's dataset-fashion-mnist (docs/multifashion.md)\n"
        "\n"
        "Every generator: --seed S in 0 .. 2^63-1; -o FILE is checked before generating, its\n"
        "missing directories are made when the file is written, Ctrl-C removes the temporary\n"
        "file (exit status 128 + signal).\n");
}

/* "1,2.5,3" into a malloc'd array; prints the error itself and returns NULL. */
static double *parse_sigmas(const char *text, int *count)
{
    int n = 1;
    for (const char *p = text; *p; p++)
        n += *p == ',';
    if (n > MAX_TASKS) {
        cli_error(CMD, "--sigma lists %d values, at most %d tasks are supported", n, MAX_TASKS);
        return NULL;
    }
    double *s = malloc((size_t)n * sizeof *s);
    if (!s) {
        cli_error(CMD, "out of memory");
        return NULL;
    }
    const char *p = text;
    for (int i = 0; i < n; i++) {
        char *end;
        errno = 0;
        double v = strtod(p, &end);
        if (end == p || errno || (*end != ',' && *end != '\0') || !isfinite(v) || !(v > 0.0)) {
            size_t len = strcspn(p, ",");
            cli_error(CMD, "--sigma expects a comma-separated list of numbers > 0, value %d is "
                      "'%.*s'", i + 1, (int)len, p);
            free(s);
            return NULL;
        }
        s[i] = v;
        p = *end ? end + 1 : end;
    }
    *count = n;
    return s;
}

static int in_list(const char *name, const char *const *list)
{
    for (; *list; list++)
        if (!strcmp(name, *list))
            return 1;
    return 0;
}

/* One option of `mtb gen <gen>` at argv[*i]. Returns 1 for -h/--help; 0 for a known option,
 * with *name set and, unless it is one of `flags`, *val set from "--opt value" (advancing
 * *i) or "--opt=value"; 2 after printing the error for anything else. buf holds the name
 * of an "--opt=value" argument. */
static int next_option(int argc, char **argv, int *i, const char *gen, const char *const *valued,
                       const char *const *flags, char buf[32], const char **name, const char **val)
{
    const char *a = argv[*i];
    if (!strcmp(a, "-h") || !strcmp(a, "--help"))
        return 1;
    *name = a;
    *val = NULL;
    const char *eq = strchr(a, '=');
    if (!strncmp(a, "--", 2) && eq && (size_t)(eq - a) < 32) {
        memcpy(buf, a, (size_t)(eq - a));
        buf[eq - a] = '\0';
        *name = buf;
        *val = eq + 1;
    }
    if (flags && in_list(*name, flags)) {
        if (*val) {
            cli_error(CMD, "%s takes no value, got '%s'", *name, a);
            return 2;
        }
        return 0;
    }
    if (!in_list(*name, valued)) {
        cli_error(CMD, "unknown option '%s' (mtb gen %s --help)", a, gen);
        return 2;
    }
    if (!*val) {
        if (*i + 1 >= argc) {
            cli_error(CMD, "%s needs a value", *name);
            return 2;
        }
        *val = argv[++*i];
    }
    return 0;
}

/* Before generating: the output can be written (cli_output_check), and Ctrl-C removes the
 * temporary file. */
static int output_ok(const char *path)
{
    if (cli_output_check(CMD, "-o", path))
        return -1;
    cli_cleanup_on_signals();
    return 0;
}

/* Makes the output's directories, saves ds to path and frees it; 0, or 1 after the message. */
static int save_and_free(const char *path, mtb_dataset *ds)
{
    mtb_error err = {0};
    if (cli_output_prepare(CMD, path)) {
        mtb_dataset_free(ds);
        return 1;
    }
    mtb_status st = mtb_dataset_save(path, ds, &err);
    mtb_dataset_free(ds);
    if (st)
        cli_output_abandon();
    return st ? cli_fail(CMD, &err) : 0;
}

static int gen_mtr(int argc, char **argv)
{
    static const char *const valued[] = {"--tasks", "--sigma", "--samples", "--train-fraction",
                                         "--seed", "-o", "--output", NULL};
    long tasks = 10, samples = 10000;
    unsigned long long seed = 0;
    int tasks_given = 0;
    double frac = 0.9;
    const char *sigma_text = NULL, *output = NULL;
    for (int i = 2; i < argc; i++) {
        char buf[32];
        const char *name, *val;
        int rc = next_option(argc, argv, &i, "mtr", valued, NULL, buf, &name, &val);
        if (rc == 1) {
            usage_mtr(stdout);
            return 0;
        }
        if (rc)
            return rc;
        if (!strcmp(name, "--tasks")) {
            if (cli_parse_long(CMD, "tasks", val, 1, MAX_TASKS, &tasks))
                return 2;
            tasks_given = 1;
        } else if (!strcmp(name, "--samples")) {
            if (cli_parse_long(CMD, "samples", val, 2, INT_MAX, &samples))
                return 2;
        } else if (!strcmp(name, "--train-fraction")) {
            if (cli_parse_double(CMD, "train-fraction", val, 0.0, 1.0, &frac))
                return 2;
        } else if (!strcmp(name, "--seed")) {
            if (cli_parse_seed(CMD, val, &seed))
                return 2;
        } else if (!strcmp(name, "--sigma")) {
            sigma_text = val;
        } else {
            output = val;
        }
    }

    double *sigma = NULL;
    if (sigma_text) {
        int n;
        if (!(sigma = parse_sigmas(sigma_text, &n)))
            return 2;
        if (tasks_given && n != tasks) {
            cli_error(CMD, "--sigma lists %d values but --tasks is %ld; give one sigma per task",
                      n, tasks);
            free(sigma);
            return 2;
        }
        tasks = n;
    }

    mtb_mtr_params p;
    mtb_mtr_params_default(&p, (int)tasks, (uint64_t)seed);
    p.sigma = sigma;
    p.n_total = (size_t)samples;
    /* Nearest integer, ties up; Python's round() (the authors') ties to even, which only
     * differs when frac * N ends in exactly .5. */
    double ntr = floor(frac * (double)samples + 0.5);
    if (ntr < 1.0 || ntr > (double)samples - 1.0) {
        cli_error(CMD, "--train-fraction %g of %ld samples gives %.0f training samples; both "
                  "splits need at least one", frac, samples, ntr);
        free(sigma);
        return 2;
    }
    p.n_train = (size_t)ntr;

    char defpath[64];
    if (!output) {
        snprintf(defpath, sizeof defpath, "datasets/mtr%ld.h5", tasks);
        output = defpath;
    }
    if (output_ok(output)) {
        free(sigma);
        return 2;
    }
    if (cli_check_only) {
        free(sigma);
        return 0;
    }

    mtb_dataset ds;
    mtb_error err = {0};
    mtb_status st = mtb_synth_mtr(&p, &ds, &err);
    free(sigma);
    if (st)
        return cli_fail(CMD, &err);
    char msg[256];
    snprintf(msg, sizeof msg, "wrote %s: mtr, %d tasks of %d outputs, %zu train + %zu test "
             "samples of %d inputs, seed %llu", output, ds.T, ds.tasks[0].out_width, ds.train.n,
             ds.test.n, ds.d_in, seed);
    int rc = save_and_free(output, &ds);
    if (!rc)
        puts(msg);
    return rc;
}

static int gen_lsd6(int argc, char **argv)
{
    static const char *const valued[] = {"--seed", "-o", "--output", NULL};
    static const char *const flags[] = {"--eq", NULL};
    unsigned long long seed = 0;
    int eq = 0;
    const char *output = NULL;
    for (int i = 2; i < argc; i++) {
        char buf[32];
        const char *name, *val;
        int rc = next_option(argc, argv, &i, "lsd6", valued, flags, buf, &name, &val);
        if (rc == 1) {
            usage_lsd6(stdout);
            return 0;
        }
        if (rc)
            return rc;
        if (!strcmp(name, "--eq"))
            eq = 1;
        else if (!strcmp(name, "--seed")) {
            if (cli_parse_seed(CMD, val, &seed))
                return 2;
        } else
            output = val;
    }
    if (!output)
        output = eq ? "datasets/lsd6-eq.h5" : "datasets/lsd6.h5";
    if (output_ok(output))
        return 2;
    if (cli_check_only)
        return 0;

    mtb_lsd6_params p;
    mtb_lsd6_params_default(&p, eq, (uint64_t)seed);
    mtb_dataset ds;
    mtb_error err = {0};
    if (mtb_synth_lsd6(&p, &ds, &err))
        return cli_fail(CMD, &err);
    char msg[256];
    snprintf(msg, sizeof msg, "wrote %s: %s, 6 tasks (mse x3, l1, ce, bce; sigma %g, %g, %g, "
             "%g), %zu train + %zu test samples of %d inputs, seed %llu", output, ds.name,
             ds.tasks[0].sigma, ds.tasks[1].sigma, ds.tasks[2].sigma, ds.tasks[3].sigma,
             ds.train.n, ds.test.n, ds.d_in, seed);
    int rc = save_and_free(output, &ds);
    if (!rc)
        puts(msg);
    return rc;
}

static int gen_bce(int argc, char **argv)
{
    static const char *const valued[] = {"--tasks", "--flip", "--seed", "-o", "--output", NULL};
    long tasks = 0;
    unsigned long long seed = 0;
    double flip = 0.05;
    const char *output = NULL;
    for (int i = 2; i < argc; i++) {
        char buf[32];
        const char *name, *val;
        int rc = next_option(argc, argv, &i, "bce", valued, NULL, buf, &name, &val);
        if (rc == 1) {
            usage_bce(stdout);
            return 0;
        }
        if (rc)
            return rc;
        if (!strcmp(name, "--tasks")) {
            if (cli_parse_long(CMD, "tasks", val, 1, MAX_TASKS, &tasks))
                return 2;
        } else if (!strcmp(name, "--flip")) {
            if (cli_parse_double(CMD, "flip", val, 0.0, 1.0, &flip))
                return 2;
        } else if (!strcmp(name, "--seed")) {
            if (cli_parse_seed(CMD, val, &seed))
                return 2;
        } else
            output = val;
    }
    if (!tasks) {
        cli_error(CMD, "bce needs --tasks T (R6 uses 3, 10 and 40; mtb gen bce --help)");
        return 2;
    }
    char defpath[64];
    if (!output) {
        snprintf(defpath, sizeof defpath, "datasets/bce%ld.h5", tasks);
        output = defpath;
    }
    if (output_ok(output))
        return 2;
    if (cli_check_only)
        return 0;

    mtb_bce_params p;
    mtb_bce_params_default(&p, (int)tasks, (uint64_t)seed);
    p.flip = flip;
    mtb_dataset ds;
    mtb_error err = {0};
    if (mtb_synth_bce(&p, &ds, &err))
        return cli_fail(CMD, &err);
    char msg[256];
    snprintf(msg, sizeof msg, "wrote %s: bce, %d tasks of 1 logit, %zu train + %zu test "
             "samples of %d inputs, flip %g, seed %llu", output, ds.T, ds.train.n, ds.test.n,
             ds.d_in, flip, seed);
    int rc = save_and_free(output, &ds);
    if (!rc)
        puts(msg);
    return rc;
}

static void usage_multifashion(FILE *out)
{
    fprintf(out,
        "usage: mtb gen multifashion [--source DIR] [--seed S] [--any-source] [-o FILE.h5]\n"
        "\n"
        "Builds MultiFashion (recipe multifashion-v1; docs/multifashion.md, the project's spec\n"
        "multifashion.md sec. 2): two Fashion-MNIST items on a 36 x 36 canvas, one 10-class\n"
        "task per item, as Pareto MTL (Lin et al. 2019, sec. 6.1) describes it:\n"
        "\n"
        "    pairs    every source image is the left item of exactly 2 samples (2 passes of\n"
        "             two Fisher-Yates permutations L, R); the right item is redrawn while\n"
        "             its class equals the left one's\n"
        "    place    left item's corner (dy, dx) uniform on {0..4}^2, right item's on\n"
        "             {4..8}^2, redrawn while the two coincide\n"
        "    overlay  pixel-wise max on a zero canvas; no resize; uint8\n"
        "    splits   train 120 000 (from the 60 000 training items), test 20 000 (from the\n"
        "             10 000 test items), and the tuning-only, source-disjoint dev_train\n"
        "             100 000 (items 0..49 999) / dev_val 20 000 (items 50 000..59 999)\n"
        "    labels   task 0 = class of the top-left item, task 1 = of the bottom-right one\n"
        "\n"
        "Random numbers: mtb's xoshiro256** seeded through SplitMix64 from (seed, split id),\n"
        "one stream per split; draw order in datasets/multifashion.c.\n"
        "\n"
        "options (default):\n"
        "  --source DIR        the four IDX .gz files of Fashion-MNIST, as Debian's package\n"
        "                      " MTB_MF_PACKAGE " installs them   [" MTB_MF_DEFAULT_SOURCE "]\n"
        "                      (without root: apt-get download " MTB_MF_PACKAGE " &&\n"
        "                      dpkg -x " MTB_MF_PACKAGE "_*.deb pkg, then --source\n"
        "                      pkg" MTB_MF_DEFAULT_SOURCE ")\n"
        "  --seed S            0       the dataset seed; the benchmark uses one fixed instance\n"
        "  --any-source        accept source files whose SHA-256 differs from the pinned\n"
        "                      ones (the result is then not multifashion-v1's bytes; the\n"
        "                      hashes read are recorded in the file either way)\n"
        "  -o, --output FILE   datasets/multifashion-v1.h5 (about 340 MB, uncompressed HDF5)\n"
        "  -h, --help          this text\n"
        "\n"
        "The file holds /<split>/x uint8 (n, 36, 36), /<split>/y uint8 (n, 2), the items'\n"
        "indices /<split>/source and offsets /<split>/offset, and the recipe, seed, generator\n"
        "and source hashes as attributes (datasets/README.md). mtb train --problem multifashion\n"
        "builds the same samples in memory from the source files.\n");
}

static int gen_multifashion(int argc, char **argv)
{
    static const char *const valued[] = {"--source", "--seed", "-o", "--output", NULL};
    static const char *const flags[] = {"--any-source", NULL};
    const char *source = NULL, *output = "datasets/multifashion-v1.h5";
    unsigned long long seed = 0;
    int any_source = 0;
    char buf[32];
    for (int i = 2; i < argc; i++) {
        const char *name, *val;
        int rc = next_option(argc, argv, &i, "multifashion", valued, flags, buf, &name, &val);
        if (rc == 1) {
            usage_multifashion(stdout);
            return 0;
        }
        if (rc)
            return rc;
        if (!strcmp(name, "--any-source"))
            any_source = 1;
        else if (!strcmp(name, "--source"))
            source = val;
        else if (!strcmp(name, "--seed")) {
            if (cli_parse_seed(CMD, val, &seed))
                return 2;
        } else
            output = val;
    }
    if (output_ok(output))
        return 2;
    if (cli_check_only)
        return 0;

    mtb_error err = {0};
    mtb_fashion src;
    if (mtb_fashion_load(source, !any_source, &src, &err))
        return cli_fail(CMD, &err);
    mtb_multifashion mf;
    mtb_status st = mtb_multifashion_build(&src, (uint64_t)seed, 0xFu, &mf, &err);
    mtb_fashion_free(&src);
    if (st)
        return cli_fail(CMD, &err);
    if (cli_output_prepare(CMD, output)) {
        mtb_multifashion_free(&mf);
        return 1;
    }
    st = mtb_multifashion_save(output, &mf, &err);
    if (st) {
        cli_output_abandon();
        mtb_multifashion_free(&mf);
        return cli_fail(CMD, &err);
    }
    printf("wrote %s: %s, seed %llu\n", output, MTB_MF_RECIPE, seed);
    for (int id = 0; id < MTB_MF_N_SPLITS; id++) {
        const mtb_mf_split *s = &mf.split[id];
        double sum = 0.0;
        for (size_t i = 0; i < s->n * MTB_MF_PIXELS; i++)
            sum += s->x[i];
        char hex[65];
        mtb_mf_split_sha256(s, hex);
        printf("  %-9s %6zu samples, mean pixel %.4f, sha256(x, y) %s\n", mtb_mf_split_names[id],
               s->n, sum / (255.0 * (double)(s->n * MTB_MF_PIXELS)), hex);
    }
    mtb_multifashion_free(&mf);
    return 0;
}

int mtb_cmd_gen(int argc, char **argv)
{
    if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        usage_all(stdout);
        return 0;
    }
    if (argc < 2 || argv[1][0] == '-') {
        cli_error(CMD, "which generator? one of mtr, lsd6, bce, multifashion (mtb gen --help)");
        return 2;
    }
    if (!strcmp(argv[1], "mtr"))
        return gen_mtr(argc, argv);
    if (!strcmp(argv[1], "lsd6"))
        return gen_lsd6(argc, argv);
    if (!strcmp(argv[1], "bce"))
        return gen_bce(argc, argv);
    if (!strcmp(argv[1], "multifashion"))
        return gen_multifashion(argc, argv);
    cli_error(CMD, "unknown generator '%s'; one of mtr, lsd6, bce, multifashion (mtb gen --help)",
              argv[1]);
    return 2;
}
