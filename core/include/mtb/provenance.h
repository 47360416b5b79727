/* provenance.h: what a run file records about the code and the machine that produced it,
 * so that no report ever states a machine, a code version or a wall time by hand. */
#ifndef MTB_PROVENANCE_H
#define MTB_PROVENANCE_H

#include "mtb/h5.h"
#include "mtb/status.h"

typedef struct mtb_provenance {
    char code_version[128];   /* `git describe --always --dirty` of the built source */
    char git_describe[128];   /* the same, asked at the start of the job in the working
                                 directory ("" when not a git checkout) */
    char hostname[128];
    char cpu_model[128];
    int cpu_cores;            /* online processors */
    char blas_config[256];    /* openblas_get_config(): name, version, build options */
    char blas_kernel[64];     /* openblas_get_corename() */
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
