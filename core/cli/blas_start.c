/* blas_start.c: carry out the library's start-up plan for the BLAS kernel (blas_start.h).
 *
 * The library decides (mtb_blas_start_plan_make, a pure function); this file gathers its
 * inputs (argv, the environment, cpuid, OpenBLAS, the self-check), prints the note, sets the
 * environment for the re-executed image and for child processes, and re-executes. The note
 * goes to stderr only: stdout is what tests and scripts parse. */
#include "blas_start.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "mtb/blas_kernel.h"

static const char *base_name(const char *path)
{
    const char *s = path ? strrchr(path, '/') : NULL;
    return s ? s + 1 : path ? path : "mtb";
}

/* Removes argv[i] (and n - 1 more) in place, keeping the NULL terminator. */
static void drop_args(int *argc, char **argv, int i, int n)
{
    for (int j = i; j + n <= *argc; j++)
        argv[j] = argv[j + n];
    *argc -= n;
}

/* Parses and removes the start-up options; exits 2 on `--blas-kernel` without a value. */
static const char *take_options(int *argc, char **argv, int *quiet)
{
    const char *prog = base_name(argv[0]), *request = NULL;
    int leading = 1; /* still before the command (argv[1] when it is not an option) */
    for (int i = 1; i < *argc;) {
        const char *a = argv[i];
        if (!strcmp(a, "--"))
            break;
        if (!strcmp(a, "--blas-kernel") || !strncmp(a, "--blas-kernel=", 14)) {
            const char *v = a[13] == '=' ? a + 14 : i + 1 < *argc ? argv[i + 1] : NULL;
            if (!v || !*v) {
                fprintf(stderr, "%s: --blas-kernel needs a kernel name or auto (see %s --help)\n", prog, prog);
                exit(2);
            }
            request = v;
            drop_args(argc, argv, i, a[13] == '=' ? 1 : 2);
            continue;
        }
        if (!strcmp(a, "--quiet") || !strcmp(a, "-q")) {
            *quiet = 1;
            if (leading) { /* a global option: the command does not see it */
                drop_args(argc, argv, i, 1);
                continue;
            }
        } else if (a[0] != '-') {
            leading = 0;
        }
        i++;
    }
    return request;
}

static void set_env(const char *name, const char *value)
{
    if (value && *value)
        setenv(name, value, 1);
    else
        unsetenv(name);
}

void mtb_program_blas_start(int *argc, char **argv)
{
    const char *prog = base_name(argv[0]);
    /* The re-executed image gets the command line as it was (it parses the same options);
     * taking them out of argv is for this image's main. */
    char **argv0 = malloc(sizeof(char *) * ((size_t)*argc + 1));
    if (!argv0) {
        fprintf(stderr, "%s: out of memory\n", prog);
        exit(2);
    }
    memcpy(argv0, argv, sizeof(char *) * ((size_t)*argc + 1));
    int quiet = 0;
    const char *request = take_options(argc, argv, &quiet), *request_from = "--blas-kernel";
    if (!request && getenv(MTB_BLAS_KERNEL_ENV) && *getenv(MTB_BLAS_KERNEL_ENV))
        request = getenv(MTB_BLAS_KERNEL_ENV), request_from = MTB_BLAS_KERNEL_ENV;

    /* copied: the pointers getenv returns do not survive setenv */
    char env_coretype[128] = "";
    const char *e0 = getenv("OPENBLAS_CORETYPE");
    if (e0)
        snprintf(env_coretype, sizeof env_coretype, "%s", e0);
    mtb_cpu_features cpu;
    mtb_cpu_features_detect(&cpu);
    char version[32];
    mtb_blas_check check;
    mtb_error check_err = {0}, err = {0};
    int check_ok = mtb_blas_selfcheck(&check, &check_err) == MTB_OK;
    /* Fault injection for the test suite only (tests/test_blas_start.c): the self-check of
     * the named kernel counts as failed, so the way back can be exercised on a good BLAS. */
    const char *inject = getenv("MTB_TEST_BLAS_CHECK_FAIL");
    if (check_ok && inject && !strcasecmp(inject, mtb_blas_corename())) {
        check_ok = 0;
        snprintf(check_err.msg, sizeof check_err.msg, "failure injected by MTB_TEST_BLAS_CHECK_FAIL");
    }
    mtb_blas_start_in in = {
        .running = mtb_blas_corename(),
        .env_coretype = e0 ? env_coretype : NULL,
        .request = request,
        .request_from = request_from,
        .state = getenv(MTB_BLAS_STATE_ENV),
        .cpu = &cpu,
        .blas_version = mtb_blas_version(version, sizeof version),
        .dynamic_arch = mtb_blas_dynamic_arch(),
        .check_ok = check_ok,
        .check_msg = check_err.msg,
    };
    mtb_blas_start_plan plan;
    if (mtb_blas_start_plan_make(&in, &plan, &err)) {
        fprintf(stderr, "%s: %s\n", prog, err.msg);
        exit(2);
    }
    if (plan.action == MTB_BLAS_REEXEC) {
        char running[64];
        snprintf(running, sizeof running, "%s", in.running);
        set_env("OPENBLAS_CORETYPE", plan.coretype);
        setenv(MTB_BLAS_STATE_ENV, plan.state, 1);
        fflush(NULL);
        execv("/proc/self/exe", argv0);
        execvp(argv0[0], argv0); /* no /proc: the name the program was started by */
        int e = errno;
        /* Still the old image: OpenBLAS keeps its kernel whatever the environment says now. */
        snprintf(plan.note, sizeof plan.note, "BLAS kernel %s: could not restart the program on %s (%s)",
                 running, plan.coretype[0] ? plan.coretype : "OpenBLAS's choice", strerror(e));
        plan.warning = 1;
        snprintf(plan.state, sizeof plan.state, "ok|%s|could not restart on %.64s", running, plan.coretype);
        set_env("OPENBLAS_CORETYPE", env_coretype);
    }
    free(argv0);
    setenv(MTB_BLAS_STATE_ENV, plan.state, 1); /* what children and provenance read */
    if (plan.note[0] && (!quiet || plan.warning))
        fprintf(stderr, "%s: %s\n", prog, plan.note);
}
