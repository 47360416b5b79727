/* test_blas_start.c: the BLAS kernel choice at the start of bin/mtb (core/cli/blas_start.c),
 * through the binary (MTB_BIN, set by `make test`; bin/mtb otherwise). The switch really
 * happens (the benchmark header names the kernel that ran), a failed self-check goes back,
 * the note goes to stderr only and --quiet silences it, a bad request is an error.
 * OPENBLAS_CORETYPE is left as the environment has it: MTB_BLAS_KERNEL outranks it. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <unistd.h>

#include "io_testutil.h"

static const char *mtb_bin(void)
{
    const char *bin = getenv("MTB_BIN");
    if (!bin || !*bin)
        bin = "bin/mtb";
    cr_assert(access(bin, X_OK) == 0, "cannot run %s (set MTB_BIN; make test does)", bin);
    return bin;
}

#define OUT_LEN 16384

typedef struct result {
    int status;
    char out[OUT_LEN], err[OUT_LEN];
} result;

static void slurp(const char *path, char *buf, size_t len)
{
    buf[0] = '\0';
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    size_t n = fread(buf, 1, len - 1, f);
    buf[n] = '\0';
    fclose(f);
}

/* `ENV mtb ARGS`, stdout and stderr apart */
static void run(const char *env, const char *args, result *r)
{
    char dir[IO_TMP_LEN], o[IO_PATH_LEN], e[IO_PATH_LEN], cmd[4096];
    io_tmpdir(dir);
    io_path(o, dir, "out"), io_path(e, dir, "err");
    snprintf(cmd, sizeof cmd, "env %s %s %s > %s 2> %s", env, mtb_bin(), args, o, e);
    int ws = system(cmd);
    cr_assert(ws != -1);
    r->status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
    slurp(o, r->out, sizeof r->out);
    slurp(e, r->err, sizeof r->err);
    io_rmtree(dir);
}

/* The kernel the benchmark header says ran ("# blas: ... kernel=NAME ..."). */
static void kernel_of(const result *r, char *k, size_t len)
{
    const char *p = strstr(r->out, " kernel=");
    cr_assert(p, "no kernel in the output:\n%s", r->out);
    snprintf(k, len, "%s", p + 8);
    k[strcspn(k, " \n")] = '\0';
}

#define PROBE "bench weigh --method ew --tasks 2 --dim 4 --reps 1"

Test(blas_start, forced_kernel_really_runs_and_the_note_is_on_stderr_only)
{
    static result r;
    run("MTB_BLAS_KERNEL=Prescott", PROBE, &r);
    cr_assert_eq(r.status, 0, "%s", r.err);
    char k[64];
    kernel_of(&r, k, sizeof k);
    cr_assert_str_eq(k, "Prescott");
    cr_assert(strstr(r.err, "BLAS kernel Prescott (as MTB_BLAS_KERNEL asks"), "stderr: %s", r.err);
    cr_assert(strncmp(r.out, "mtb:", 4) && !strstr(r.out, "\nmtb:"), "the note reached stdout");
    cr_assert(strstr(r.out, "blas_kernel_choice: BLAS kernel Prescott (as MTB_BLAS_KERNEL asks"), "%s", r.out);
    /* --blas-kernel anywhere on the line, removed before the command parses its options */
    static result s;
    run("", "bench weigh --blas-kernel=core2 --method ew --tasks 2 --dim 4 --reps 1", &s);
    cr_assert_eq(s.status, 0, "%s", s.err);
    kernel_of(&s, k, sizeof k);
    cr_assert_str_eq(k, "Core2");
}

Test(blas_start, quiet_silences_the_note_not_the_output)
{
    static result loud, quiet;
    run("MTB_BLAS_KERNEL=Prescott", "methods", &loud);
    run("MTB_BLAS_KERNEL=Prescott", "--quiet methods", &quiet);
    cr_assert_eq(loud.status, 0, "%s", loud.err);
    cr_assert_eq(quiet.status, 0, "%s", quiet.err);
    cr_assert(strstr(loud.err, "BLAS kernel"), "%s", loud.err);
    cr_assert_str_eq(quiet.err, "", "--quiet left: %s", quiet.err);
    cr_assert_str_eq(loud.out, quiet.out, "the kernel note changed stdout");
}

Test(blas_start, a_failed_self_check_goes_back_to_the_kernel_that_ran)
{
    static result before, r;
    run("", PROBE, &before);
    cr_assert_eq(before.status, 0, "%s", before.err);
    char k0[64], k[64];
    kernel_of(&before, k0, sizeof k0);
    if (!strcasecmp(k0, "Prescott"))
        cr_skip_test("Prescott already runs here");
    run("MTB_BLAS_KERNEL=Prescott MTB_TEST_BLAS_CHECK_FAIL=Prescott", "--quiet " PROBE, &r);
    cr_assert_eq(r.status, 0, "%s", r.err);
    kernel_of(&r, k, sizeof k);
    cr_assert_str_eq(k, k0, "did not go back");
    /* a failure is said even with --quiet */
    cr_assert(strstr(r.err, "Prescott FAILED the self-check"), "stderr: %s", r.err);
}

Test(blas_start, requests_it_cannot_meet_are_errors)
{
    static result r;
    run("", "--blas-kernel Pentium9 methods", &r);
    cr_assert_eq(r.status, 2);
    cr_assert(strstr(r.err, "unknown BLAS kernel") && strstr(r.err, "Haswell"), "%s", r.err);
    cr_assert_str_eq(r.out, "");
    run("", "methods --blas-kernel", &r);
    cr_assert_eq(r.status, 2);
    cr_assert(strstr(r.err, "--blas-kernel needs a kernel name"), "%s", r.err);
}
