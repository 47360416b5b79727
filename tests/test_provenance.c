/* test_provenance.c: mtb/provenance.h. Collecting fills every field that this machine can
 * answer (the tests run on Linux with OpenBLAS, so none may fall back to "unknown" except
 * the CPU model on a /proc without one), skips the sgemm rate on request, stays cheap, and
 * the HDF5 round trip returns every field unchanged. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "io_testutil.h"
#include <cblas.h>

#include "mtb/blas_kernel.h"
#include "mtb/h5.h"
#include "mtb/provenance.h"

/* provenance.c budgets ~50 ms for the rate; 1 s leaves room for a loaded 2-core machine
 * (other test processes run beside this one) while still catching a measurement that
 * runs far longer than intended. */
#define COLLECT_BUDGET_S 1.0

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Terminated within its array and not empty. */
static int filled(const char *s, size_t size)
{
    return strnlen(s, size) < size && s[0] != '\0';
}

static void check_common(const mtb_provenance *p)
{
    cr_assert(filled(p->code_version, sizeof p->code_version), "code_version empty");
    /* git_describe may be "" outside a checkout, but must be terminated and one line */
    cr_assert(strnlen(p->git_describe, sizeof p->git_describe) < sizeof p->git_describe);
    cr_assert(!strchr(p->git_describe, '\n'), "newline left in git_describe");
    cr_assert(filled(p->hostname, sizeof p->hostname) && strcmp(p->hostname, "unknown") != 0,
              "hostname '%s'", p->hostname);
    cr_assert(filled(p->cpu_model, sizeof p->cpu_model), "cpu_model empty");
    cr_assert(!strchr(p->cpu_model, '\n') && p->cpu_model[strlen(p->cpu_model) - 1] != ' ');
    cr_assert(p->cpu_cores >= 1, "cpu_cores %d", p->cpu_cores);
    cr_assert(filled(p->blas_config, sizeof p->blas_config) && strcmp(p->blas_config, "unknown") != 0,
              "blas_config '%s'", p->blas_config);
    cr_assert(filled(p->blas_kernel, sizeof p->blas_kernel), "blas_kernel empty");
    cr_assert_str_eq(p->blas_kernel, openblas_get_corename());
    /* the version is the number that follows "OpenBLAS " in the config string */
    char want[64] = "";
    const char *at = strstr(p->blas_config, "OpenBLAS ");
    cr_assert(at && sscanf(at, "OpenBLAS %63s", want) == 1, "no version in '%s'", p->blas_config);
    cr_assert_str_eq(p->blas_version, want);
    cr_assert(filled(p->blas_kernel_choice, sizeof p->blas_kernel_choice), "blas_kernel_choice empty");
    cr_assert(filled(p->blas_kernel_best, sizeof p->blas_kernel_best));
    cr_assert(filled(p->cpu_id, sizeof p->cpu_id));
    cr_assert(strnlen(p->cpu_flags, sizeof p->cpu_flags) < sizeof p->cpu_flags);
#if defined(__x86_64__)
    /* every x86-64 CPU has SSE3 since 2005; the flags and the best kernel come from cpuid */
    cr_assert(strstr(p->cpu_flags, "sse3") == p->cpu_flags, "cpu_flags '%s'", p->cpu_flags);
    cr_assert(mtb_blas_kernel_find(p->blas_kernel_best), "best kernel '%s'", p->blas_kernel_best);
    cr_assert(strstr(p->cpu_id, "family "), "cpu_id '%s'", p->cpu_id);
#endif
    cr_assert(p->blas_threads >= 1, "blas_threads %d", p->blas_threads);
    cr_assert(p->resumed == 0);

    /* "YYYY-MM-DDTHH:MM:SSZ", 20 characters, and close to now */
    const char *u = p->started_utc;
    cr_assert(strlen(u) == 20 && u[4] == '-' && u[7] == '-' && u[10] == 'T' && u[13] == ':' &&
                  u[16] == ':' && u[19] == 'Z',
              "started_utc '%s'", u);
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    cr_assert(sscanf(u, "%4d-%2d-%2dT%2d:%2d:%2dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                     &tm.tm_min, &tm.tm_sec) == 6);
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    double age = difftime(time(NULL), timegm(&tm));
    cr_assert(age >= 0.0 && age < 60.0, "started_utc %s is %g s from now (not UTC?)", u, age);
}

Test(provenance, collect_without_rate)
{
    mtb_provenance p;
    memset(&p, 0x5a, sizeof p); /* collect must not rely on a zeroed record */
    mtb_provenance_collect(&p, 0);
    check_common(&p);
    cr_assert(isnan(p.sgemm_gflops), "rate measured although skipped: %g", p.sgemm_gflops);
}

Test(provenance, collect_with_rate_is_finite_and_cheap)
{
    mtb_provenance p;
    double t0 = now_s();
    mtb_provenance_collect(&p, 1);
    double dt = now_s() - t0;
    check_common(&p);
    /* Any machine that runs this suite does more than 0.1 GFLOP/s in sgemm; the upper bound
     * is a sanity check on the unit (GFLOP/s, not FLOP/s). */
    cr_assert(isfinite(p.sgemm_gflops) && p.sgemm_gflops > 0.1 && p.sgemm_gflops < 1e5,
              "sgemm_gflops %g", p.sgemm_gflops);
    cr_assert(dt < COLLECT_BUDGET_S, "collect took %.3f s", dt);
}

static void roundtrip(const mtb_provenance *p, const char *obj)
{
    char dir[IO_TMP_LEN], path[IO_PATH_LEN];
    io_tmpdir(dir);
    io_path(path, dir, "prov.h5");
    mtb_error err = {0};

    mtb_h5 *f = mtb_h5_create(path, &err);
    cr_assert(f, "%s", err.msg);
    cr_assert(mtb_provenance_write(f, obj, p, &err) == MTB_OK, "%s", err.msg);
    cr_assert(mtb_h5_commit(f, &err) == MTB_OK, "%s", err.msg);

    mtb_h5 *g = mtb_h5_open(path, &err);
    cr_assert(g, "%s", err.msg);
    const struct {
        const char *name, *want;
    } strs[] = {
        {"code_version", p->code_version}, {"git_describe", p->git_describe},
        {"hostname", p->hostname},         {"cpu_model", p->cpu_model},
        {"blas_config", p->blas_config},   {"blas_kernel", p->blas_kernel},
        {"started_utc", p->started_utc},   {"cpu_id", p->cpu_id},
        {"cpu_flags", p->cpu_flags},       {"blas_version", p->blas_version},
        {"blas_kernel_best", p->blas_kernel_best}, {"blas_kernel_choice", p->blas_kernel_choice},
    };
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++) {
        char buf[512];
        cr_assert(mtb_h5_attr_get_str(g, obj, strs[i].name, buf, sizeof buf, &err) == MTB_OK, "%s: %s",
                  strs[i].name, err.msg);
        cr_assert_str_eq(buf, strs[i].want, "%s", strs[i].name);
    }
    const struct {
        const char *name;
        int want;
    } ints[] = {{"cpu_cores", p->cpu_cores}, {"blas_threads", p->blas_threads}, {"resumed", p->resumed},
                {"provenance_version", MTB_PROVENANCE_VERSION}};
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
        int64_t v = -12345;
        cr_assert(mtb_h5_attr_get_i64(g, obj, ints[i].name, &v, &err) == MTB_OK, "%s: %s", ints[i].name,
                  err.msg);
        cr_assert(v == ints[i].want, "%s: %lld, want %d", ints[i].name, (long long)v, ints[i].want);
    }
    double r = 0.0;
    cr_assert(mtb_h5_attr_get_f64(g, obj, "sgemm_gflops", &r, &err) == MTB_OK, "%s", err.msg);
    if (isnan(p->sgemm_gflops))
        cr_assert(isnan(r), "NAN rate read back as %g", r);
    else
        cr_assert(r == p->sgemm_gflops, "rate %.17g, want %.17g", r, p->sgemm_gflops);
    mtb_h5_close(g);
    io_rmtree(dir);
}

Test(provenance, hdf5_roundtrip_with_rate)
{
    mtb_provenance p;
    mtb_provenance_collect(&p, 1);
    p.resumed = 1; /* callers set it; it must be stored as given */
    roundtrip(&p, "/provenance");
}

Test(provenance, hdf5_roundtrip_without_rate_on_nested_group_and_root)
{
    mtb_provenance p;
    mtb_provenance_collect(&p, 0);
    roundtrip(&p, "/runs/seed0/provenance"); /* intermediate groups are created */
    roundtrip(&p, "/");                       /* an existing object is reused */
}

Test(provenance, unterminated_fields_are_bounded)
{
    /* A hand-filled record without terminators: the write stops at each field's end. */
    mtb_provenance p;
    mtb_provenance_collect(&p, 0);
    memset(p.hostname, 'h', sizeof p.hostname);
    memset(p.blas_kernel, 'k', sizeof p.blas_kernel);
    char dir[IO_TMP_LEN], path[IO_PATH_LEN];
    io_tmpdir(dir);
    io_path(path, dir, "prov.h5");
    mtb_error err = {0};
    mtb_h5 *f = mtb_h5_create(path, &err);
    cr_assert(f, "%s", err.msg);
    cr_assert(mtb_provenance_write(f, "/p", &p, &err) == MTB_OK, "%s", err.msg);
    cr_assert(mtb_h5_commit(f, &err) == MTB_OK, "%s", err.msg);
    mtb_h5 *g = mtb_h5_open(path, &err);
    cr_assert(g, "%s", err.msg);
    char buf[512];
    cr_assert(mtb_h5_attr_get_str(g, "/p", "hostname", buf, sizeof buf, &err) == MTB_OK, "%s", err.msg);
    cr_assert(strlen(buf) == sizeof p.hostname && strspn(buf, "h") == sizeof p.hostname);
    cr_assert(mtb_h5_attr_get_str(g, "/p", "blas_kernel", buf, sizeof buf, &err) == MTB_OK, "%s", err.msg);
    cr_assert(strlen(buf) == sizeof p.blas_kernel && strspn(buf, "k") == sizeof p.blas_kernel);
    mtb_h5_close(g);
    io_rmtree(dir);
}

Test(provenance, write_errors_are_reported_not_fatal)
{
    mtb_provenance p;
    mtb_provenance_collect(&p, 0);
    mtb_error err = {0};
    cr_assert(mtb_provenance_write(NULL, "/p", &p, &err) == MTB_EINVAL);
    cr_assert(err.msg[0] != '\0');

    char dir[IO_TMP_LEN], path[IO_PATH_LEN];
    io_tmpdir(dir);
    io_path(path, dir, "prov.h5");
    mtb_h5 *f = mtb_h5_create(path, &err);
    cr_assert(f, "%s", err.msg);
    cr_assert(mtb_provenance_write(f, "/p", NULL, &err) == MTB_EINVAL);
    cr_assert(mtb_provenance_write(f, "", &p, &err) == MTB_EINVAL);
    cr_assert(mtb_h5_commit(f, &err) == MTB_OK, "%s", err.msg);

    /* a read-only file: the HDF5 layer refuses, and the message names the object */
    mtb_h5 *g = mtb_h5_open(path, &err);
    cr_assert(g, "%s", err.msg);
    mtb_error_clear(&err);
    cr_assert(mtb_provenance_write(g, "/p", &p, &err) != MTB_OK);
    cr_assert(strstr(err.msg, "provenance") && strstr(err.msg, "/p"), "message: %s", err.msg);
    mtb_h5_close(g);
    io_rmtree(dir);
}

Test(provenance, records_why_the_kernel_ran)
{
    /* what a program's start-up leaves for its own process and its children (blas_start.c) */
    char state[256];
    snprintf(state, sizeof state, "ok|%s|chosen for the test", openblas_get_corename());
    cr_assert(setenv(MTB_BLAS_STATE_ENV, state, 1) == 0);
    mtb_provenance p;
    mtb_provenance_collect(&p, 0);
    cr_assert_str_eq(p.blas_kernel_choice, "chosen for the test");
    /* a state about another kernel is not this process's: the record says so */
    cr_assert(setenv(MTB_BLAS_STATE_ENV, "ok|NoSuchKernel|chosen for another", 1) == 0);
    mtb_provenance_collect(&p, 0);
    cr_assert(strstr(p.blas_kernel_choice, "not chosen by mtb"), "%s", p.blas_kernel_choice);
    unsetenv(MTB_BLAS_STATE_ENV);
}
