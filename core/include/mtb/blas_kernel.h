/* blas_kernel.h: which OpenBLAS kernel runs, which ones this CPU could run, and whether the
 * one that runs computes correct products.
 *
 * A DYNAMIC_ARCH OpenBLAS (Debian's) carries one set of kernels per CPU generation and picks
 * one when it loads: from cpuid, or from the environment variable OPENBLAS_CORETYPE. A CPU
 * newer than the OpenBLAS release is often mapped to an old kernel (a recent Xeon to
 * "Prescott", SSE3 only), which can be 3-5x slower in sgemm than the kernel it supports.
 * Because the choice is made at load time, switching means starting the program again with
 * OPENBLAS_CORETYPE set: this module only answers questions and plans; the program decides
 * and re-executes itself (core/cli/blas_start.c; docs/performance.md). Nothing here exits,
 * execs or prints. */
#ifndef MTB_BLAS_KERNEL_H
#define MTB_BLAS_KERNEL_H

#include <stddef.h>

#include "mtb/status.h"

/* What cpuid says, and what the operating system enables (XCR0: the AVX and AVX-512 register
 * state must be saved on context switch, or the instructions fault). On a non-x86 build
 * every flag is 0 and x86 = 0. */
typedef struct mtb_cpu_features {
    int x86;                 /* 1: cpuid answered */
    char vendor[16];         /* "GenuineIntel", "AuthenticAMD", "" */
    int family, model, stepping; /* display family and model (base + extended) */
    int sse3, ssse3, sse4_1, sse4_2, avx, avx2, fma;
    int avx512f, avx512bw, avx512dq, avx512vl, avx512_bf16, avx512_fp16, amx_bf16;
    int sse4a, fma4;         /* AMD only: what the Barcelona and Bulldozer-family kernels use */
} mtb_cpu_features;

void mtb_cpu_features_detect(mtb_cpu_features *f);

/* The flags that decide a kernel, space-separated in /proc/cpuinfo's spelling ("sse3 ssse3
 * ... avx512vl"), "" when none. Returns buf. */
char *mtb_cpu_features_string(const mtb_cpu_features *f, char *buf, size_t len);

/* One kernel OpenBLAS offers on x86-64. `level` orders kernels by the instruction sets their
 * sgemm/dgemm use: a higher level needs more and is faster where it runs. Vendor-specific
 * kernels share the level of the generic one with the same instructions (Zen = Haswell). */
typedef struct mtb_blas_kernel {
    const char *name;        /* as openblas_get_corename() spells it and OPENBLAS_CORETYPE takes it */
    int level;
    const char *needs;       /* human-readable */
    int candidate;           /* 1: mtb may choose it (the generic ladder), 0: recognised only */
    const char *min_openblas;/* first OpenBLAS release whose DYNAMIC_ARCH build offers it */
    unsigned needs_bits;     /* the same as `needs`, as MTB_CPU_* bits (blas_kernel.c) */
} mtb_blas_kernel;

/* The table, ordered by level (oldest first); *n = its length. */
const mtb_blas_kernel *mtb_blas_kernels(size_t *n);

/* Case-insensitive lookup; NULL when unknown. */
const mtb_blas_kernel *mtb_blas_kernel_find(const char *name);

/* 1 when the CPU (and the OS) support every instruction set k needs. */
int mtb_blas_kernel_supported(const mtb_blas_kernel *k, const mtb_cpu_features *f);

/* The name of the first missing feature ("avx512bw"), or NULL when k is supported. */
const char *mtb_blas_kernel_missing(const mtb_blas_kernel *k, const mtb_cpu_features *f);

/* The highest-level candidate that f supports and that an OpenBLAS of `version` ("0.3.21";
 * NULL = any) offers; NULL when none (not x86). */
const mtb_blas_kernel *mtb_blas_kernel_best(const mtb_cpu_features *f, const char *version);

/* What the loaded OpenBLAS says: openblas_get_corename(), openblas_get_config(). */
const char *mtb_blas_corename(void);
const char *mtb_blas_config(void);

/* The version number out of the config string ("0.3.21"), "unknown" when absent. */
char *mtb_blas_version(char *buf, size_t len);

/* 1 when the config string says DYNAMIC_ARCH (OPENBLAS_CORETYPE can switch kernels). */
int mtb_blas_dynamic_arch(void);

/* Compares a.b.c version strings; <0, 0, >0 like strcmp. */
int mtb_version_cmp(const char *a, const char *b);

/* The correctness self-check of the kernel that runs: cblas_sgemm and cblas_dgemm, row-major,
 * every combination of transposed operands, alpha != 1 and beta != 0, on shapes from 1 x 1 x 1
 * to past OpenBLAS's small-matrix paths, against a naive product in extended precision. An
 * entry passes when |C - C_ref| <= 8 K eps (|alpha| |A| |B| + |beta| |C0|) elementwise, eps of
 * the type: a few roundings per term, far below what a broken kernel gives. Takes a few ms.
 * MTB_OK when all agree; MTB_ENUMERIC with the first failing case in err; MTB_ENOMEM. */
typedef struct mtb_blas_check {
    double seconds;          /* wall time of the whole check */
    double worst_ratio;      /* max |C - C_ref| / tolerance over every entry (< 1 passes) */
    int products;            /* products compared */
} mtb_blas_check;

mtb_status mtb_blas_selfcheck(mtb_blas_check *out, mtb_error *err);

/* ---- the start-up decision (pure: everything it reads is in mtb_blas_start_in) ---------- */

/* The environment variable a program sets for its own re-executed image: the state of the
 * choice, so that it never loops and so that its children (and provenance) know what was
 * chosen and why. Its values are internal: "try|K|FROM|WHY|ORIG", "back|FROM|K|WHY|ORIG",
 * "ok|K|NOTE". */
#define MTB_BLAS_STATE_ENV "MTB_BLAS_STATE"
/* The user's way to force a kernel without the command-line option. */
#define MTB_BLAS_KERNEL_ENV "MTB_BLAS_KERNEL"

typedef struct mtb_blas_start_in {
    const char *running;       /* openblas_get_corename() */
    const char *env_coretype;  /* getenv("OPENBLAS_CORETYPE"), NULL when unset */
    const char *request;       /* --blas-kernel or MTB_BLAS_KERNEL: a name or "auto"; NULL */
    const char *request_from;  /* "--blas-kernel" or "MTB_BLAS_KERNEL" (for messages) */
    const char *state;         /* getenv(MTB_BLAS_STATE_ENV) */
    const mtb_cpu_features *cpu;
    const char *blas_version;  /* "0.3.21" */
    int dynamic_arch;
    int check_ok;              /* the self-check of the running kernel passed */
    const char *check_msg;     /* its message when it failed */
} mtb_blas_start_in;

typedef enum mtb_blas_action {
    MTB_BLAS_KEEP = 0,         /* run on: set MTB_BLAS_STATE=state for the children */
    MTB_BLAS_REEXEC            /* set OPENBLAS_CORETYPE=coretype ("" = unset it) and
                                  MTB_BLAS_STATE=state, then execute the program again */
} mtb_blas_action;

typedef struct mtb_blas_start_plan {
    mtb_blas_action action;
    char coretype[64];
    char state[320];
    char note[320];            /* one line for stderr, "" when there is nothing to say */
    int warning;               /* 1: the note reports a failure; print it even when quiet */
} mtb_blas_start_plan;

/* Decides. MTB_EINVAL for a request naming an unknown kernel or one the CPU cannot run, or a
 * switch this OpenBLAS cannot make (not DYNAMIC_ARCH): the program reports it and exits. */
mtb_status mtb_blas_start_plan_make(const mtb_blas_start_in *in, mtb_blas_start_plan *plan,
                                    mtb_error *err);

/* Why the running kernel runs, for provenance: the NOTE of an "ok" state when the state's
 * kernel is the running one, otherwise a description of OpenBLAS's own choice. */
char *mtb_blas_choice_describe(const char *state, const char *running, const char *env_coretype,
                               char *buf, size_t len);

#endif
