/* provenance.c: the code, machine and BLAS a run file was produced with (see provenance.h).
 *
 * Why each field is there: a result table is only comparable across machines and commits
 * if the file itself says which ones; the runs are bit-identical only for the same binary
 * and BLAS thread count (README "Reproducibility"), so both are recorded; and the measured
 * sgemm rate turns counted FLOPs into the FLOP bound the benchmarks report (layer.h).
 *
 * Everything here is best effort: a field that cannot be found is "unknown" (or "" for
 * git_describe outside a checkout, 0 cores, NAN rate). Collecting never fails, prints or
 * exits; only writing can fail, with the HDF5 layer's message. */
#include "mtb/provenance.h"

#include "mtb/blas_kernel.h"
#include "mtb/layer.h"

#include <cblas.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* The Makefile generates build/gen/mtb_version.h (and adds -I build/gen for this object
 * only); a build without it still compiles and says so. */
#if defined(__has_include)
#if __has_include("mtb_version.h")
#include "mtb_version.h"
#endif
#endif
#ifndef MTB_CODE_VERSION
#define MTB_CODE_VERSION "unknown"
#endif

/* The rate measurement must stay cheap next to a run (< ~50 ms even at a few GFLOP/s on one
 * core): 4 calls of a 256^3 product are 4 x 33.6 MFLOP. Large enough that OpenBLAS uses its
 * blocked kernel, so the rate is that of the model's bigger matrix products. */
#define RATE_N 256
#define RATE_REPS 3

/* /proc/cpuinfo holds one block per logical CPU; the model line comes within the first
 * block, so reading is capped rather than trusting the file to be small. */
#define CPUINFO_MAX_LINES 4096

/* Bounded copy, len >= 1: a value longer than its field (a long BLAS config) is cut, never
 * overflowed. */
static void copy_str(char *dst, size_t len, const char *src)
{
    if (!src)
        src = "unknown";
    size_t n = strnlen(src, len - 1);
    memcpy(dst, src, n);
    dst[n] = '\0';
}

/* Removes trailing spaces, tabs and newlines in place. */
static void rstrip(char *s)
{
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' ' || s[n - 1] == '\t'))
        s[--n] = '\0';
}

/* `git describe` of the current working directory, "" when it is not a checkout or git is
 * missing (stderr of the command goes to /dev/null, so nothing reaches the user). */
static void git_describe(char *out, size_t len)
{
    out[0] = '\0';
    FILE *pp = popen("git describe --always --dirty 2>/dev/null", "r");
    if (!pp)
        return;
    char buf[256];
    int got = fgets(buf, sizeof buf, pp) != NULL;
    char sink[256];
    while (fgets(sink, sizeof sink, pp)) /* drain, so the child never blocks on a full pipe */
        ;
    errno = 0;
    int status = pclose(pp);
    /* status -1 with ECHILD: the caller reaps children itself (SIGCHLD ignored) and the exit
     * code is lost; the output is then the only evidence, and git prints nothing to stdout
     * when it fails. */
    int ok = status == -1 ? errno == ECHILD : (WIFEXITED(status) && WEXITSTATUS(status) == 0);
    if (!got || !ok)
        return;
    rstrip(buf);
    copy_str(out, len, buf);
}

static void cpu_model(char *out, size_t len)
{
    copy_str(out, len, "unknown");
    FILE *fp = fopen("/proc/cpuinfo", "r");
    if (!fp)
        return;
    char line[512];
    int at_line_start = 1; /* fgets splits long lines ("flags"); only test real line starts */
    for (int k = 0; k < CPUINFO_MAX_LINES && fgets(line, sizeof line, fp); k++) {
        int starts = at_line_start;
        at_line_start = strchr(line, '\n') != NULL;
        if (!starts || strncmp(line, "model name", 10) != 0)
            continue;
        const char *v = strchr(line, ':');
        if (!v)
            continue;
        v++;
        while (*v == ' ' || *v == '\t')
            v++;
        char tmp[512];
        copy_str(tmp, sizeof tmp, v);
        rstrip(tmp);
        if (tmp[0])
            copy_str(out, len, tmp);
        break;
    }
    fclose(fp);
}

static void utc_now(char *out, size_t len)
{
    time_t now = time(NULL);
    struct tm tm;
    if (now == (time_t)-1 || !gmtime_r(&now, &tm) || strftime(out, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        copy_str(out, len, "unknown");
}

void mtb_provenance_collect(mtb_provenance *p, int measure_rate)
{
    if (!p)
        return;
    memset(p, 0, sizeof *p);
    utc_now(p->started_utc, sizeof p->started_utc); /* first: the time the job started */
    copy_str(p->code_version, sizeof p->code_version, MTB_CODE_VERSION);
    git_describe(p->git_describe, sizeof p->git_describe);

    /* gethostname may leave a truncated name unterminated (POSIX) */
    char host[sizeof p->hostname + 1];
    if (gethostname(host, sizeof host) == 0) {
        host[sizeof host - 1] = '\0';
        copy_str(p->hostname, sizeof p->hostname, host[0] ? host : "unknown");
    } else {
        copy_str(p->hostname, sizeof p->hostname, "unknown");
    }

    cpu_model(p->cpu_model, sizeof p->cpu_model);
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    p->cpu_cores = cores > 0 && cores < 1L << 30 ? (int)cores : 0;

    /* The kernel is what decides the sgemm rate (2x between two kernels on one CPU is
     * common), so the run says which ran, why, and which would have been the best. */
    mtb_cpu_features cpu;
    mtb_cpu_features_detect(&cpu);
    mtb_cpu_features_string(&cpu, p->cpu_flags, sizeof p->cpu_flags);
    if (cpu.x86)
        snprintf(p->cpu_id, sizeof p->cpu_id, "%.15s family %d model %d stepping %d", cpu.vendor,
                 cpu.family, cpu.model, cpu.stepping);
    else
        copy_str(p->cpu_id, sizeof p->cpu_id, "unknown");
    copy_str(p->blas_config, sizeof p->blas_config, mtb_blas_config());
    mtb_blas_version(p->blas_version, sizeof p->blas_version);
    copy_str(p->blas_kernel, sizeof p->blas_kernel, mtb_blas_corename());
    const mtb_blas_kernel *best = mtb_blas_kernel_best(&cpu, p->blas_version);
    copy_str(p->blas_kernel_best, sizeof p->blas_kernel_best, best ? best->name : "none");
    mtb_blas_choice_describe(getenv(MTB_BLAS_STATE_ENV), p->blas_kernel, getenv("OPENBLAS_CORETYPE"),
                             p->blas_kernel_choice, sizeof p->blas_kernel_choice);
    p->blas_threads = openblas_get_num_threads();

    /* mtb_sgemm_rate is in FLOP/s; NAN passes through */
    p->sgemm_gflops = measure_rate ? mtb_sgemm_rate(RATE_N, RATE_REPS) * 1e-9 : NAN;
    p->resumed = 0;
}

mtb_status mtb_provenance_write(mtb_h5 *f, const char *obj, const mtb_provenance *p,
                                mtb_error *err)
{
    if (!f || !obj || !*obj || !p)
        return mtb_fail(err, MTB_EINVAL, "provenance: NULL file, object name or record");
    mtb_status st = MTB_OK;
    /* An existing object (the file root, a run's group or dataset) keeps its kind; only a
     * missing one is created, as a group. */
    if (!mtb_h5_exists(f, obj))
        st = mtb_h5_group(f, obj, err);

    /* The record may have been filled by hand: never read past a field, terminated or not. */
    const struct {
        const char *name, *value;
        size_t size;
    } strs[] = {
#define FIELD(x) {#x, p->x, sizeof p->x}
        FIELD(code_version), FIELD(git_describe),     FIELD(hostname),         FIELD(cpu_model),
        FIELD(cpu_id),       FIELD(cpu_flags),        FIELD(blas_config),      FIELD(blas_version),
        FIELD(blas_kernel),  FIELD(blas_kernel_best), FIELD(blas_kernel_choice), FIELD(started_utc),
#undef FIELD
    };
    for (size_t i = 0; !st && i < sizeof strs / sizeof strs[0]; i++) {
        char buf[sizeof p->blas_kernel_choice + 1]; /* the longest field; longer would be cut */
        size_t n = strnlen(strs[i].value, strs[i].size);
        if (n >= sizeof buf)
            n = sizeof buf - 1;
        memcpy(buf, strs[i].value, n);
        buf[n] = '\0';
        st = mtb_h5_attr_str(f, obj, strs[i].name, buf, err);
    }

    const struct {
        const char *name;
        int value;
    } ints[] = {
        {"cpu_cores", p->cpu_cores},
        {"blas_threads", p->blas_threads},
        {"resumed", p->resumed},
        {"provenance_version", MTB_PROVENANCE_VERSION},
    };
    for (size_t i = 0; !st && i < sizeof ints / sizeof ints[0]; i++)
        st = mtb_h5_attr_i64(f, obj, ints[i].name, (int64_t)ints[i].value, err);

    if (!st)
        st = mtb_h5_attr_f64(f, obj, "sgemm_gflops", p->sgemm_gflops, err);
    if (st)
        mtb_error_prefix(err, "writing provenance to %s: ", obj);
    return st;
}
