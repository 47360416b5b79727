/* provenance.h: what a run file records about the code and the machine that produced it,
 * so that no report ever states a machine, a code version or a wall time by hand. */
#ifndef MTB_PROVENANCE_H
#define MTB_PROVENANCE_H

#include "mtb/h5.h"
#include "mtb/status.h"

/* Version 2 (the attribute provenance_version; files without it are version 1) added
 * cpu_id, cpu_flags, blas_version, blas_kernel_best and blas_kernel_choice. */
#define MTB_PROVENANCE_VERSION 2

typedef struct mtb_provenance {
    char code_version[128];   /* `git describe --always --dirty` of the built source */
    char git_describe[128];   /* the same, asked at the start of the job in the working
                                 directory ("" when not a git checkout) */
    char hostname[128];
    char cpu_model[128];
    char cpu_id[96];          /* cpuid: "AuthenticAMD family 26 model 2 stepping 0" */
    char cpu_flags[256];      /* the instruction sets that decide a BLAS kernel, as in
                                 /proc/cpuinfo ("sse3 ... avx2 fma avx512f ..."), from cpuid */
    int cpu_cores;            /* online processors */
    char blas_config[256];    /* openblas_get_config(): name, version, build options */
    char blas_version[32];    /* the version out of blas_config ("0.3.21") */
    char blas_kernel[64];     /* openblas_get_corename(): the kernel that ran */
    char blas_kernel_best[64];/* the best kernel this CPU supports in this OpenBLAS
                                 (blas_kernel.h), "none" off x86-64 */
    char blas_kernel_choice[320]; /* why blas_kernel ran: mtb's start-up choice, the user's
                                     OPENBLAS_CORETYPE, or OpenBLAS's own (blas_kernel.h) */
    int blas_threads;
    double sgemm_gflops;      /* single-precision GEMM rate measured at the start of the job */
    char started_utc[32];     /* ISO 8601 */
    int resumed;              /* 1: the job ran because a sweep was resumed */
} mtb_provenance;

/* Gathers everything; measure_rate = 0 skips the sgemm measurement (sgemm_gflops = NAN). */
void mtb_provenance_collect(mtb_provenance *p, int measure_rate);

/* Writes the fields as attributes of obj (e.g. "/provenance"). */
mtb_status mtb_provenance_write(mtb_h5 *f, const char *obj, const mtb_provenance *p,
                                mtb_error *err);

#endif
