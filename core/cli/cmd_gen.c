/* cmd_gen.c: `mtb gen mtr [options]`, writes a synthetic multi-task dataset (schema:
 * datasets/README.md). The generator itself is synth/mtr.c; this file only turns
 * options into mtb_mtr_params, makes the output directory and reports. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "mtb/synth.h"

static const char *CMD = "gen";

#define MAX_TASKS 10000 /* T * 100 target columns stay far inside an int */

static void usage(FILE *out)
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
        "in double, stored as float32. Facts: shared/specs/mtrregression-and-slaw.md sec. 1.\n"
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
        "  -o, --output FILE   datasets/mtr<T>.h5 (its directory is created if missing)\n"
        "  -h, --help          this text\n"
        "\n"
        "The file holds /train/{x,y}, /test/{x,y}, the task table /tasks/* (sigma_t in\n"
        "/tasks/sigma) and the parameters in the root attribute 'generator'.\n");
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

/* mkdir -p of the directory part of path. */
static int make_parent_dirs(const char *path)
{
    char *d = strdup(path);
    if (!d)
        return -1;
    char *slash = strrchr(d, '/');
    int rc = 0;
    if (slash && slash != d) {
        *slash = '\0';
        for (char *p = d + 1;; p++) {
            if (*p == '/' || *p == '\0') {
                char c = *p;
                *p = '\0';
                if (mkdir(d, 0777) != 0 && errno != EEXIST) {
                    cli_error(CMD, "cannot create directory %s: %s", d, strerror(errno));
                    rc = -1;
                    break;
                }
                *p = c;
                if (!c)
                    break;
            }
        }
    }
    free(d);
    return rc;
}

int mtb_cmd_gen(int argc, char **argv)
{
    if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        usage(stdout);
        return 0;
    }
    if (argc < 2 || argv[1][0] == '-') {
        cli_error(CMD, "which generator? the only one is 'mtr' (mtb gen mtr --help)");
        return 2;
    }
    if (strcmp(argv[1], "mtr") != 0) {
        cli_error(CMD, "unknown generator '%s'; the only one is 'mtr'", argv[1]);
        return 2;
    }

    long tasks = 10, samples = 10000, seed = 0;
    int tasks_given = 0;
    double frac = 0.9;
    const char *sigma_text = NULL, *output = NULL;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        }
        /* Every other option takes a value, as "--opt value" or "--opt=value". */
        const char *name = a, *val = NULL;
        char buf[32];
        const char *eq = strchr(a, '=');
        if (!strncmp(a, "--", 2) && eq && (size_t)(eq - a) < sizeof buf) {
            memcpy(buf, a, (size_t)(eq - a));
            buf[eq - a] = '\0';
            name = buf;
            val = eq + 1;
        }
        int known = !strcmp(name, "--tasks") || !strcmp(name, "--sigma") ||
                    !strcmp(name, "--samples") || !strcmp(name, "--train-fraction") ||
                    !strcmp(name, "--seed") || !strcmp(name, "-o") || !strcmp(name, "--output");
        if (!known) {
            cli_error(CMD, "unknown option '%s' (mtb gen mtr --help)", a);
            return 2;
        }
        if (!val) {
            if (i + 1 >= argc) {
                cli_error(CMD, "%s needs a value", name);
                return 2;
            }
            val = argv[++i];
        }
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
            if (cli_parse_long(CMD, "seed", val, 0, LONG_MAX, &seed))
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
    if (make_parent_dirs(output)) {
        free(sigma);
        return 1;
    }

    mtb_dataset ds;
    mtb_error err = {0};
    mtb_status st = mtb_synth_mtr(&p, &ds, &err);
    free(sigma);
    if (st)
        return cli_fail(CMD, &err);
    st = mtb_dataset_save(output, &ds, &err);
    if (st) {
        mtb_dataset_free(&ds);
        return cli_fail(CMD, &err);
    }
    printf("wrote %s: mtr, %d tasks of %d outputs, %zu train + %zu test samples of %d inputs, "
           "seed %ld\n", output, ds.T, ds.tasks[0].out_width, ds.train.n, ds.test.n, ds.d_in,
           seed);
    mtb_dataset_free(&ds);
    return 0;
}
