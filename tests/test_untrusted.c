/* test_untrusted.c: a damaged or hostile HDF5 file never crashes, hangs or exhausts the
 * process that reads it (issue 10). Each input is a small file made here with the library's
 * own generator and save, then corrupted byte by byte, as `dd conv=notrunc` would:
 *   - the issue's three examples (one byte at 2077: HDF5 crashes; bytes at 867 and 882:
 *     HDF5 loops forever), on MTRRegression-10 of seed 1 (the issue used the full file;
 *     these offsets lie in the root attributes, which come first whatever the size);
 *   - the inputs a libFuzzer run of the loader found (tests/fuzz/README.md), each minimised
 *     to the bytes that matter, on `mtb gen mtr --tasks 3 --samples 6 --train-fraction 0.5
 *     --seed 2`, the fuzzer's seed file.
 * The offsets hold for the layout mtb_dataset_save writes today; a change of that layout
 * (attribute order, object-header options) moves them, and the class checks below say so.
 * Every load must end in bounded time with MTB_EIO and a message naming the file and what
 * happened. The rest checks the size rules and refusals of h5.h on hand-made files. */
#include <criterion/criterion.h>
#include <hdf5.h>
#include <math.h>
#include <time.h>

#include "io_testutil.h"
#include "mtb/dataset.h"
#include "mtb/h5.h"
#include "mtb/synth.h"

typedef struct patch {
    long off;
    unsigned char val;
} patch;

/* What the isolated child's failure must say, by class of input. */
#define CRASHED "crashed"
#define NO_END "did not finish"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void gen_mtr(const char *path, int T, uint64_t seed, size_t n_total, size_t n_train)
{
    mtb_mtr_params p;
    mtb_mtr_params_default(&p, T, seed);
    p.n_total = n_total;
    p.n_train = n_train;
    mtb_dataset ds;
    mtb_error err = {0};
    cr_assert_eq(mtb_synth_mtr(&p, &ds, &err), MTB_OK, "%s", err.msg);
    cr_assert_eq(mtb_dataset_save(path, &ds, &err), MTB_OK, "%s", err.msg);
    mtb_dataset_free(&ds);
}

/* dst = src with the bytes of p[0..n) replaced. */
static void copy_patched(const char *src, const char *dst, const patch *p, int n)
{
    FILE *in = fopen(src, "rb"), *out = fopen(dst, "wb");
    cr_assert(in && out);
    char buf[8192];
    size_t k;
    while ((k = fread(buf, 1, sizeof buf, in)) > 0)
        cr_assert_eq(fwrite(buf, 1, k, out), k);
    fclose(in);
    for (int i = 0; i < n; i++) {
        cr_assert_eq(fseek(out, p[i].off, SEEK_SET), 0);
        cr_assert_eq(fputc(p[i].val, out), p[i].val);
    }
    fclose(out);
}

/* Loads path (with lim, NULL = defaults) and checks: MTB_EIO, the file named, `want` in the
 * message, an empty data set, and at most max_s seconds. */
static void expect_contained(const char *path, const mtb_h5_limits *lim, const char *want,
                             double max_s)
{
    mtb_dataset ds;
    mtb_error err = {0};
    double t0 = now_s();
    mtb_status st = mtb_dataset_load_limits(path, lim, &ds, &err);
    double dt = now_s() - t0;
    cr_assert_eq(st, MTB_EIO, "status %s: %s", mtb_strerror(st), err.msg);
    cr_assert(strstr(err.msg, path), "the message names the file: %s", err.msg);
    cr_assert(!want || strstr(err.msg, want), "expected '%s' in: %s", want, err.msg);
    cr_assert(dt < max_s, "took %.2f s (at most %.1f): %s", dt, max_s, err.msg);
    cr_assert_null(ds.tasks);
    cr_assert_null(ds.train.x);
}

static mtb_h5_limits quick_limits(void)
{
    mtb_h5_limits l;
    mtb_h5_limits_default(&l, 0);
    l.wall_s = 1.0;
    l.cpu_s = 1.0;
    return l;
}

/* ---- the issue's examples ------------------------------------------------------------ */

static void issue_file(char dir[IO_TMP_LEN], char good[IO_PATH_LEN])
{
    io_tmpdir(dir);
    io_path(good, dir, "mtr10.h5");
    gen_mtr(good, 10, 1, 20, 10);
}

Test(untrusted, issue_files_are_valid_before_corruption)
{
    char dir[IO_TMP_LEN], good[IO_PATH_LEN];
    issue_file(dir, good);
    mtb_dataset ds;
    mtb_error err = {0};
    cr_assert_eq(mtb_dataset_load(good, &ds, &err), MTB_OK, "%s", err.msg);
    cr_assert_eq(ds.T, 10);
    mtb_dataset_free(&ds);
    cr_assert_eq(mtb_h5_validate_untrusted(good, NULL, &err), MTB_OK, "%s", err.msg);
    io_rmtree(dir);
}

Test(untrusted, issue_one_byte_crash_is_an_error)
{
    char dir[IO_TMP_LEN], good[IO_PATH_LEN], bad[IO_PATH_LEN];
    issue_file(dir, good);
    static const patch p[] = {{2077, 0x80}};
    copy_patched(good, io_path(bad, dir, "crash.h5"), p, 1);
    expect_contained(bad, NULL, CRASHED, 10.0);
    /* The generic check and open say the same. */
    mtb_error err = {0};
    cr_assert_eq(mtb_h5_validate_untrusted(bad, NULL, &err), MTB_EIO);
    cr_assert(strstr(err.msg, CRASHED), "%s", err.msg);
    cr_assert_null(mtb_h5_open_untrusted(bad, NULL, &err));
    io_rmtree(dir);
}

Test(untrusted, issue_two_byte_hang_is_stopped)
{
    char dir[IO_TMP_LEN], good[IO_PATH_LEN], bad[IO_PATH_LEN];
    issue_file(dir, good);
    static const patch p[] = {{867, 0x3a}, {882, 0xfb}};
    copy_patched(good, io_path(bad, dir, "hang.h5"), p, 2);
    mtb_h5_limits l = quick_limits();
    expect_contained(bad, &l, NULL, 5.0);
    mtb_error err = {0};
    cr_assert_eq(mtb_dataset_load_limits(bad, &l, &(mtb_dataset){0}, &err), MTB_EIO);
    cr_assert(strstr(err.msg, NO_END) || strstr(err.msg, "CPU"), "%s", err.msg);
    io_rmtree(dir);
}

/* The default limits are finite and grow with the file. */
Test(untrusted, default_limits)
{
    mtb_h5_limits a, b;
    mtb_h5_limits_default(&a, 0);
    mtb_h5_limits_default(&b, 1000000000ull);
    cr_assert(a.wall_s > 0 && a.wall_s <= 10 && a.cpu_s > 0 && a.cpu_s <= 10);
    cr_assert(b.wall_s > a.wall_s && b.memory_bytes > a.memory_bytes);
    cr_assert(a.memory_bytes >= (256u << 20) && a.max_objects > 0);
}

/* ---- the fuzzer's minimised inputs ------------------------------------------------------ */

typedef struct finding {
    const char *name; /* the libFuzzer artifact it came from */
    patch p[2];       /* off = 0: unused */
    const char *want; /* CRASHED, NO_END, NO_MEMORY */
} finding;

#define NO_MEMORY "of memory allowed"
/* Under AddressSanitizer its allocator, not HDF5, meets the memory limit: it reports and
 * stops the child, which is then said to have crashed. */
#if defined(__SANITIZE_ADDRESS__)
#define MEMORY_OR_SANITIZER(msg) (strstr(msg, NO_MEMORY) || strstr(msg, CRASHED))
#else
#define MEMORY_OR_SANITIZER(msg) strstr(msg, NO_MEMORY)
#endif

/* Minimised with tests/fuzz/minimize.py (the trusted readers in-process, tests/fuzz/raw_read.c)
 * from the artifacts of a 3-minute run of the loader without the isolated check. */
static const finding findings[] = {
    {"crash-162b7c99", {{1031, 0x01}}, CRASHED},
    {"crash-2d03dc1e", {{2294, 0x8b}}, CRASHED},
    {"crash-41ff42c0", {{1029, 0xff}}, CRASHED},
    {"crash-47935189", {{894, 0xf7}}, CRASHED},
    {"crash-48898a3f", {{2129, 0x80}}, CRASHED},
    {"crash-792ea568", {{2129, 0xff}}, CRASHED},
    {"crash-87f0d714", {{2106, 0x18}}, CRASHED},
    {"crash-9373dda7", {{2313, 0x45}}, CRASHED},
    {"crash-ac319d95", {{2105, 0xff}}, CRASHED},
    {"crash-b251eac6", {{2107, 0x80}}, CRASHED},
    {"crash-f796c5c4", {{2074, 0x48}}, CRASHED},
    {"oom-86e3a0e3", {{883, 0x6d}}, NO_MEMORY},
    {"oom-d9b5796c", {{999, 0xe1}}, NO_MEMORY},
    {"timeout-7490d472", {{999, 0xff}}, NO_MEMORY},
    {"timeout-03eeeb24", {{2288, 0x00}}, NO_END},
    {"timeout-609ee942", {{2096, 0x00}, {2104, 0x00}}, NO_END},
    {"timeout-db2a722f", {{2264, 0x00}}, NO_END},
};
#define N_FINDINGS (int)(sizeof findings / sizeof findings[0])

Test(untrusted, fuzzer_findings_are_errors, .timeout = 120)
{
    char dir[IO_TMP_LEN], good[IO_PATH_LEN], bad[IO_PATH_LEN];
    io_tmpdir(dir);
    io_path(good, dir, "seed.h5");
    gen_mtr(good, 3, 2, 6, 3);
    mtb_dataset ds;
    mtb_error err = {0};
    cr_assert_eq(mtb_dataset_load(good, &ds, &err), MTB_OK, "the seed file: %s", err.msg);
    mtb_dataset_free(&ds);
    mtb_h5_limits l = quick_limits();
    for (int i = 0; i < N_FINDINGS; i++) {
        char name[64];
        snprintf(name, sizeof name, "%s.h5", findings[i].name);
        copy_patched(good, io_path(bad, dir, name), findings[i].p, findings[i].p[1].off ? 2 : 1);
        /* A hang may end on the CPU limit or the wall clock, whichever comes first. */
        mtb_dataset ds;
        mtb_error err = {0};
        double t0 = now_s();
        cr_assert_eq(mtb_dataset_load_limits(bad, &l, &ds, &err), MTB_EIO, "%s: %s",
                     findings[i].name, err.msg);
        double dt = now_s() - t0;
        int hang = !strcmp(findings[i].want, NO_END), mem = !strcmp(findings[i].want, NO_MEMORY);
        cr_assert(strstr(err.msg, findings[i].want) || (hang && strstr(err.msg, "CPU")) ||
                      (mem && MEMORY_OR_SANITIZER(err.msg)),
                  "%s: expected '%s' in: %s", findings[i].name, findings[i].want, err.msg);
        cr_assert(strstr(err.msg, bad) && dt < 5.0, "%s: %.2f s: %s", findings[i].name, dt,
                  err.msg);
        cr_assert_null(ds.train.x);
    }
    io_rmtree(dir);
}

/* ---- hand-made files: the size rules and refusals of h5.h, the loader's messages ----- */

/* A valid small data set at dir/name, then reopened read-write with raw HDF5 so that one
 * object can be replaced by what mtb would never write. */
static hid_t valid_then_edit(const char *dir, const char *name, char path[IO_PATH_LEN])
{
    io_path(path, dir, name);
    gen_mtr(path, 2, 1, 8, 4);
    hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    cr_assert(f >= 0);
    return f;
}

static void replace_dataset(hid_t f, const char *obj, hid_t type, int rank, const hsize_t *dims,
                            hid_t dcpl, const void *data)
{
    cr_assert(H5Ldelete(f, obj, H5P_DEFAULT) >= 0);
    hid_t sp = H5Screate_simple(rank, dims, NULL);
    hid_t d = H5Dcreate2(f, obj, type, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    cr_assert(d >= 0, "cannot create %s", obj);
    if (data)
        cr_assert(H5Dwrite(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) >= 0);
    H5Dclose(d);
    H5Sclose(sp);
}

static void expect_load_msg(const char *path, mtb_status want, const char *substr)
{
    mtb_dataset ds;
    mtb_error err = {0};
    mtb_status st = mtb_dataset_load(path, &ds, &err);
    cr_assert_eq(st, want, "status %s: %s", mtb_strerror(st), err.msg);
    cr_assert(strstr(err.msg, substr), "expected '%s' in: %s", substr, err.msg);
    cr_assert(strstr(err.msg, path), "the message names the file: %s", err.msg);
    cr_assert_null(ds.train.x);
}

Test(untrusted, huge_tasks_attribute_says_too_large)
{
    char dir[IO_TMP_LEN], path[IO_PATH_LEN];
    io_tmpdir(dir);
    hid_t f = valid_then_edit(dir, "tasks.h5", path);
    cr_assert(H5Adelete(f, "tasks") >= 0);
    hid_t sp = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(f, "tasks", H5T_STD_I64LE, sp, H5P_DEFAULT, H5P_DEFAULT);
    int64_t v = (int64_t)1 << 40;
    cr_assert(H5Awrite(a, H5T_NATIVE_INT64, &v) >= 0);
    H5Aclose(a);
    H5Sclose(sp);
    H5Fclose(f);
    expect_load_msg(path, MTB_EIO, "root attribute tasks = 1099511627776 is too large");
    io_rmtree(dir);
}

Test(untrusted, int32_inputs_are_refused)
{
    char dir[IO_TMP_LEN], path[IO_PATH_LEN];
    io_tmpdir(dir);
    hid_t f = valid_then_edit(dir, "int32.h5", path);
    hsize_t dims[2] = {4, 250};
    static int32_t x[4 * 250];
    replace_dataset(f, "/train/x", H5T_STD_I32LE, 2, dims, H5P_DEFAULT, x);
    H5Fclose(f);
    expect_load_msg(path, MTB_EIO, "/train/x holds int32, expected float32");
    io_rmtree(dir);
}

Test(untrusted, zero_training_samples_are_refused)
{
    char dir[IO_TMP_LEN], path[IO_PATH_LEN];
    io_tmpdir(dir);
    hid_t f = valid_then_edit(dir, "empty.h5", path);
    hsize_t dx[2] = {0, 250}, dy[2] = {0, 200};
    replace_dataset(f, "/train/x", H5T_IEEE_F32LE, 2, dx, H5P_DEFAULT, NULL);
    replace_dataset(f, "/train/y", H5T_IEEE_F32LE, 2, dy, H5P_DEFAULT, NULL);
    H5Fclose(f);
    expect_load_msg(path, MTB_EIO, "the train split has no samples");
    io_rmtree(dir);
}

/* A chunked dataset that declares 10^9 rows and stores none: reading it would allocate
 * a terabyte of fill values. Refused from its declared size, before any allocation. */
Test(untrusted, declared_size_beyond_the_file_is_refused)
{
    char dir[IO_TMP_LEN], path[IO_PATH_LEN];
    io_tmpdir(dir);
    hid_t f = valid_then_edit(dir, "huge.h5", path);
    hsize_t dims[2] = {1000000000ull, 250}, chunk[2] = {16, 250};
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    cr_assert(H5Pset_chunk(dcpl, 2, chunk) >= 0);
    replace_dataset(f, "/train/x", H5T_IEEE_F32LE, 2, dims, dcpl, NULL);
    H5Pclose(dcpl);
    H5Fclose(f);
    expect_load_msg(path, MTB_EIO, "declares 250000000000 values");
    /* The trusted reader applies the same rule. */
    mtb_error err = {0};
    mtb_h5 *h = mtb_h5_open(path, &err);
    cr_assert(h, "%s", err.msg);
    size_t d[2];
    float *x = NULL;
    cr_assert_eq(mtb_h5_read_f32(h, "/train/x", 2, d, &x, 0, &err), MTB_EIO);
    cr_assert(strstr(err.msg, "the file is damaged"), "%s", err.msg);
    cr_assert_null(x);
    mtb_h5_close(h);
    io_rmtree(dir);
}

Test(untrusted, values_in_other_files_are_refused)
{
    char dir[IO_TMP_LEN], path[IO_PATH_LEN], other[IO_PATH_LEN];
    io_tmpdir(dir);
    /* external storage: the values of /train/x would be read from another file */
    hid_t f = valid_then_edit(dir, "extstore.h5", path);
    io_path(other, dir, "raw.bin");
    FILE *fp = fopen(other, "wb");
    cr_assert(fp);
    static float zeros[4 * 250];
    fwrite(zeros, sizeof zeros, 1, fp);
    fclose(fp);
    hsize_t dims[2] = {4, 250};
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    cr_assert(H5Pset_external(dcpl, other, 0, sizeof zeros) >= 0);
    replace_dataset(f, "/train/x", H5T_IEEE_F32LE, 2, dims, dcpl, NULL);
    H5Pclose(dcpl);
    H5Fclose(f);
    expect_load_msg(path, MTB_EIO, "external file");

    /* an external link: /train/x names a dataset in another HDF5 file */
    char target[IO_PATH_LEN];
    gen_mtr(io_path(target, dir, "target.h5"), 2, 1, 8, 4);
    f = valid_then_edit(dir, "extlink.h5", path);
    cr_assert(H5Ldelete(f, "/train/x", H5P_DEFAULT) >= 0);
    cr_assert(H5Lcreate_external(target, "/train/x", f, "/train/x", H5P_DEFAULT,
                                 H5P_DEFAULT) >= 0);
    H5Fclose(f);
    expect_load_msg(path, MTB_EIO, "external link");
    mtb_error err = {0};
    cr_assert_eq(mtb_h5_validate_untrusted(path, NULL, &err), MTB_EIO);
    cr_assert(strstr(err.msg, "external link"), "%s", err.msg);
    io_rmtree(dir);
}

/* An element type of a size no reader converts from is named as such, not "float128". */
Test(untrusted, odd_float_type_is_named_and_refused)
{
    char dir[IO_TMP_LEN], path[IO_PATH_LEN];
    io_tmpdir(dir);
    hid_t f = valid_then_edit(dir, "ldouble.h5", path);
    hsize_t n = 2;
    long double sig[2] = {1.0L, 2.0L};
    replace_dataset(f, "/tasks/sigma", H5T_NATIVE_LDOUBLE, 1, &n, H5P_DEFAULT, sig);
    H5Fclose(f);
    expect_load_msg(path, MTB_EIO, "a float of 16 bytes (damaged or unsupported)");
    io_rmtree(dir);
}

/* A file that cannot be read says so, not "not an HDF5 file". Root reads anything, so the
 * check is meaningful only for other users. */
Test(untrusted, unreadable_file_says_permission)
{
    if (geteuid() == 0)
        cr_skip_test("running as root: every file is readable");
    char dir[IO_TMP_LEN], path[IO_PATH_LEN];
    io_tmpdir(dir);
    gen_mtr(io_path(path, dir, "locked.h5"), 2, 1, 8, 4);
    cr_assert_eq(chmod(path, 0), 0);
    expect_load_msg(path, MTB_EIO, "Permission denied");
    io_rmtree(dir);
}

/* The isolation itself: a function that crashes, hangs or runs out of memory in the child
 * is reported, and the caller goes on. */
static mtb_status child_abort(void *ctx, mtb_error *err)
{
    (void)ctx, (void)err;
    abort(); /* a library that gives up; sanitizers leave SIGABRT alone */
}

static mtb_status child_spin(void *ctx, mtb_error *err)
{
    (void)ctx, (void)err;
    for (volatile unsigned long i = 0;; i++)
        ;
    return MTB_OK;
}

static mtb_status child_hog(void *ctx, mtb_error *err)
{
    (void)ctx;
    /* Touch the memory so that it is really allocated, block by block, until refused. */
    for (int i = 0; i < 1 << 20; i++) {
        char *p = malloc(16u << 20);
        if (!p)
            return mtb_fail(err, MTB_ENOMEM, "no more memory after %d blocks", i);
        memset(p, 1, 16u << 20);
    }
    return MTB_OK;
}

static mtb_status child_ok(void *ctx, mtb_error *err)
{
    (void)ctx;
    return mtb_fail(err, MTB_EINVAL, "a clean error from the child");
}

Test(untrusted, isolation_reports_crash_hang_memory_and_errors)
{
    mtb_h5_limits l = quick_limits();
    l.memory_bytes = 256u << 20;
    mtb_error err = {0};
    cr_assert_eq(mtb_h5_run_isolated(child_abort, NULL, "f.h5", "a test", &l, &err), MTB_EIO);
    cr_assert(strstr(err.msg, "crashed (SIGABRT"), "%s", err.msg);
    double t0 = now_s();
    cr_assert_eq(mtb_h5_run_isolated(child_spin, NULL, "f.h5", "a test", &l, &err), MTB_EIO);
    cr_assert(now_s() - t0 < 4.0, "the spinning child was not stopped in time");
    cr_assert(strstr(err.msg, NO_END) || strstr(err.msg, "CPU"), "%s", err.msg);
    cr_assert_eq(mtb_h5_run_isolated(child_hog, NULL, "f.h5", "a test", &l, &err), MTB_EIO);
    /* Under AddressSanitizer, its allocator reports the refused mapping and exits instead. */
    cr_assert(strstr(err.msg, "256 MiB") || strstr(err.msg, "crashed"), "%s", err.msg);
    cr_assert_eq(mtb_h5_run_isolated(child_ok, NULL, "f.h5", "a test", &l, &err), MTB_EINVAL);
    cr_assert_str_eq(err.msg, "a clean error from the child");
}

/* Files mtb and h5py wrote pass the check: the golden fixtures (h5py: booleans as enums,
 * lists of strings, NaN) and a data set. */
Test(untrusted, real_files_pass_the_check)
{
    const char *dir = getenv("MTB_GOLDEN");
    if (!dir || !*dir)
        dir = "tests/fixtures/golden";
    DIR *dp = opendir(dir);
    cr_assert(dp, "no golden fixtures at %s", dir);
    struct dirent *de;
    int n = 0;
    while ((de = readdir(dp))) {
        size_t len = strlen(de->d_name);
        if (len < 4 || strcmp(de->d_name + len - 3, ".h5"))
            continue;
        char path[IO_PATH_LEN + 512];
        snprintf(path, sizeof path, "%.255s/%.255s", dir, de->d_name);
        mtb_error err = {0};
        mtb_h5 *f = mtb_h5_open_untrusted(path, NULL, &err);
        cr_assert(f, "%s", err.msg);
        mtb_h5_close(f);
        n++;
    }
    closedir(dp);
    cr_assert(n >= 20, "only %d fixtures", n);
}
