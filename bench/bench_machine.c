/* bench_machine.c: what every benchmark prints about the machine and the BLAS first, and the
 * sgemm peak of the best kernel this CPU supports (`mtb bench peak`).
 *
 * A benchmark figure means nothing without the kernel it ran on: one CPU gives 2x different
 * sgemm rates on two OpenBLAS kernels. So each benchmark starts with "# " lines from the same
 * provenance record the run files carry (provenance.h), and the FLOP bound is also stated
 * against the best kernel that passed the self-check, measured in a child process started on
 * that kernel (OpenBLAS picks its kernel when it loads, so this process cannot switch). */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cblas.h>

#include "../core/cli/cli.h"
#include "bench.h"
#include "mtb/blas_kernel.h"
#include "mtb/clock.h"
#include "mtb/provenance.h"

void bench_print_machine(FILE *out)
{
    mtb_provenance p;
    mtb_provenance_collect(&p, 0);
    fprintf(out, "# machine: cpu=\"%s\" cpuid=\"%s\" cores=%d host=%s\n", p.cpu_model, p.cpu_id, p.cpu_cores,
            p.hostname);
    fprintf(out, "# cpu_flags: %s\n", p.cpu_flags);
    fprintf(out, "# blas: openblas=%s kernel=%s best_supported=%s threads=%d\n", p.blas_version, p.blas_kernel,
            p.blas_kernel_best, p.blas_threads);
    fprintf(out, "# blas_config: %s\n", p.blas_config);
    fprintf(out, "# blas_kernel_choice: %s\n", p.blas_kernel_choice);
    fprintf(out, "# code: %s (%s) started %s\n", p.code_version, p.git_describe[0] ? p.git_describe : "no checkout",
            p.started_utc);
}

/* The shapes of the peak: square products from where blocking pays to past the caches, and
 * the largest products of the two benchmark models (mtr's 304 x 100 x 250 first layer is
 * small; pcba's 1024 x 2000 x 2048 first layer is the biggest product mtb issues). */
static const struct {
    int M, N, K;
} peak_shapes[] = {{256, 256, 256}, {512, 512, 512}, {1024, 1024, 1024}, {2048, 2048, 2048}, {1024, 2000, 2048}};
#define N_PEAK (sizeof peak_shapes / sizeof peak_shapes[0])

/* Best of reps calls after one warm-up, in FLOP/s; NAN when memory is short. */
static double sgemm_rate_shape(int M, int N, int K, int reps)
{
    float *a = malloc(sizeof(float) * (size_t)M * K), *b = malloc(sizeof(float) * (size_t)K * N);
    float *c = malloc(sizeof(float) * (size_t)M * N);
    double best = INFINITY;
    if (a && b && c) {
        for (size_t i = 0; i < (size_t)M * K; i++)
            a[i] = (float)(i % 7) * 0.1f;
        for (size_t i = 0; i < (size_t)K * N; i++)
            b[i] = (float)(i % 5) * 0.1f;
        for (int r = 0; r <= reps; r++) {
            double t0 = mtb_clock_s();
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, N, K, 1.0f, a, K, b, N, 0.0f, c, N);
            double t = mtb_clock_s() - t0;
            if (r > 0 && t < best)
                best = t;
        }
    }
    free(a), free(b), free(c);
    return isfinite(best) ? 2.0 * M * (double)N * K / best : NAN;
}

/* Measures every shape on the running kernel, prints one line each; returns the peak, GFLOP/s. */
static double peak_here(FILE *out, int reps)
{
    double peak = 0.0;
    for (size_t i = 0; i < N_PEAK; i++) {
        double g = 1e-9 * sgemm_rate_shape(peak_shapes[i].M, peak_shapes[i].N, peak_shapes[i].K, reps);
        if (out)
            fprintf(out, "sgemm %dx%dx%d gflops=%.1f\n", peak_shapes[i].M, peak_shapes[i].N, peak_shapes[i].K, g);
        if (g > peak)
            peak = g;
    }
    return peak;
}

int mtb_bench_peak(int argc, char **argv)
{
    const char *cmd = "bench peak";
    long threads = 1, reps = 3;
    static const struct option opts[] = {{"threads", required_argument, 0, 'j'}, {"reps", required_argument, 0, 'r'},
                                         {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'j': if (cli_parse_long(cmd, "threads", optarg, 1, 1024, &threads)) return 2; break;
        case 'r': if (cli_parse_long(cmd, "reps", optarg, 1, 1000, &reps)) return 2; break;
        case 'h':
            printf("usage: mtb [--blas-kernel NAME] bench peak [--threads N] [--reps N]\n\n"
                   "The single-precision GEMM rate of the BLAS kernel that runs, best of N calls [3]\n"
                   "on each of a few shapes, with N BLAS threads [1], and the self-check of the kernel.\n"
                   "Last line: kernel=NAME selfcheck=passed|failed peak_gflops=G\n");
            return 0;
        default: return 2;
        }
    }
    if (optind < argc) {
        cli_error(cmd, "unexpected argument '%s'", argv[optind]);
        return 2;
    }
    openblas_set_num_threads((int)threads);
    bench_print_machine(stdout);
    mtb_blas_check chk;
    mtb_error err = {0};
    int ok = mtb_blas_selfcheck(&chk, &err) == MTB_OK;
    printf("selfcheck: %d products, worst error %.3g of the tolerance, %.1f ms%s%s\n", chk.products,
           chk.worst_ratio, 1e3 * chk.seconds, ok ? "" : ": ", ok ? "" : err.msg);
    double peak = peak_here(stdout, (int)reps);
    printf("kernel=%s selfcheck=%s peak_gflops=%.1f\n", mtb_blas_corename(), ok ? "passed" : "failed", peak);
    return 0;
}

/* Runs `mtb --quiet bench peak --threads N` on kernel k in a child and reads its last line.
 * 0 when the child ran on k, passed the self-check and gave a rate. */
static int peak_in_child(const char *k, int threads, double *gflops)
{
    int fd[2];
    if (pipe(fd))
        return -1;
    pid_t pid = fork();
    if (pid < 0) {
        close(fd[0]), close(fd[1]);
        return -1;
    }
    if (pid == 0) {
        dup2(fd[1], STDOUT_FILENO);
        close(fd[0]), close(fd[1]);
        char th[16], state[256];
        snprintf(th, sizeof th, "%d", threads);
        const char *orig = getenv("OPENBLAS_CORETYPE");
        /* the state a start-up switch leaves: the child finishes it (self-check, or back) */
        snprintf(state, sizeof state, "try|%s|%s|bench|%s", k, mtb_blas_corename(), orig ? orig : "");
        setenv("OPENBLAS_CORETYPE", k, 1);
        setenv(MTB_BLAS_STATE_ENV, state, 1);
        char *args[] = {"mtb", "--quiet", "bench", "peak", "--threads", th, NULL};
        execv("/proc/self/exe", args);
        _exit(127);
    }
    close(fd[1]);
    FILE *in = fdopen(fd[0], "r");
    char line[512], last[512] = "";
    while (in && fgets(line, sizeof line, in))
        snprintf(last, sizeof last, "%s", line);
    if (in)
        fclose(in);
    else
        close(fd[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    char kern[64] = "", check[16] = "";
    double g = NAN;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 ||
        sscanf(last, "kernel=%63s selfcheck=%15s peak_gflops=%lf", kern, check, &g) != 3)
        return -1;
    if (strcasecmp(kern, k) || strcmp(check, "passed") || !isfinite(g))
        return -1;
    *gflops = g;
    return 0;
}

int bench_best_peak(int threads, FILE *log, char *kernel, size_t len, double *gflops)
{
    mtb_cpu_features cpu;
    mtb_cpu_features_detect(&cpu);
    char version[32];
    mtb_blas_version(version, sizeof version);
    const mtb_blas_kernel *best = mtb_blas_kernel_best(&cpu, version);
    const char *running = mtb_blas_corename();
    /* off the x86 ladder, or already on the best: this process measures */
    if (!best || !strcasecmp(best->name, running) || !mtb_blas_dynamic_arch()) {
        mtb_blas_check chk;
        if (mtb_blas_selfcheck(&chk, NULL) != MTB_OK)
            return -1;
        snprintf(kernel, len, "%s", running);
        *gflops = peak_here(NULL, 3);
        return 0;
    }
    size_t n;
    const mtb_blas_kernel *ks = mtb_blas_kernels(&n);
    /* from the best down: the first candidate that runs and passes the self-check */
    for (size_t i = n; i-- > 0;) {
        const mtb_blas_kernel *k = &ks[i];
        if (!k->candidate || k->level > best->level || !mtb_blas_kernel_supported(k, &cpu))
            continue;
        if (k->min_openblas && mtb_version_cmp(version, k->min_openblas) < 0)
            continue;
        if (peak_in_child(k->name, threads, gflops) == 0) {
            snprintf(kernel, len, "%s", k->name);
            return 0;
        }
        if (log)
            fprintf(log, "# best kernel: %s did not run or failed its self-check; trying the next\n", k->name);
    }
    return -1;
}
