/* test_h5.c: the HDF5 layer: round trips of every type, atomic writes, the failure
 * messages, and reading the h5py-written golden fixtures (vlen UTF-8 strings, enum
 * booleans, rank-1 string attributes). */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <dirent.h>
#include <math.h>
#include <stdint.h>

#include "io_testutil.h"
#include "mtb/h5.h"

static mtb_h5 *must_create(const char *path)
{
    mtb_error err = {0};
    mtb_h5 *f = mtb_h5_create(path, &err);
    cr_assert(f != NULL, "create %s: %s", path, err.msg);
    return f;
}

static mtb_h5 *must_open(const char *path)
{
    mtb_error err = {0};
    mtb_h5 *f = mtb_h5_open(path, &err);
    cr_assert(f != NULL, "open %s: %s", path, err.msg);
    return f;
}

/* Asserts success; the message shows the call and mtb's error (the caller's `err`). */
#define OK(call)                                                                               \
    do {                                                                                       \
        mtb_status s_ = (call);                                                                \
        cr_assert_eq(s_, MTB_OK, "%s failed: %s", #call, err.msg);                             \
    } while (0)

/* Writes one file holding a bit of everything; used by the round-trip and error tests. */
static void write_sample(const char *path)
{
    mtb_error err = {0};
    mtb_h5 *f = must_create(path);
    const float x[6] = {1.5f, -2.25f, 3.0f, 0.0f, -0.0f, 1e-30f};
    const double d[4] = {0.1, -1e300, 3.14159, 2.0};
    const int64_t i[4] = {INT64_MIN, -1, 0, INT64_MAX};
    const double bad[3] = {1.0, NAN, 2.0};
    const char *s[3] = {"mse", "", "pi = \xcf\x80"}; /* empty and non-ASCII (UTF-8) */
    size_t dx[2] = {2, 3}, dd[1] = {4}, di[2] = {2, 2}, db[1] = {3};
    OK(mtb_h5_write_f32(f, "/train/x", 2, dx, x, &err));
    OK(mtb_h5_write_f64(f, "/a/b/c/d", 1, dd, d, &err)); /* three intermediate groups */
    OK(mtb_h5_write_i64(f, "/ints", 2, di, i, &err));
    OK(mtb_h5_write_f64(f, "/bad", 1, db, bad, &err));
    OK(mtb_h5_write_strs(f, "/tasks/loss", 3, s, &err));
    OK(mtb_h5_group(f, "/empty/group", &err));
    OK(mtb_h5_group(f, "/train", &err)); /* an existing group is fine */
    OK(mtb_h5_attr_str(f, "/", "format", "mtb-test", &err));
    OK(mtb_h5_attr_str(f, "/", "format", "mtb-test-2", &err)); /* replaced, not an error */
    OK(mtb_h5_attr_f64(f, "/train/x", "scale", 0.25, &err));
    OK(mtb_h5_attr_i64(f, "/a/b", "seed", -7, &err));
    OK(mtb_h5_attr_f64(f, "/", "half", 0.5, &err));
    OK(mtb_h5_attr_f64(f, "/", "three", 3.0, &err));
    OK(mtb_h5_commit(f, &err));
}

Test(h5, round_trip_every_type)
{
    char dir[IO_TMP_LEN], path[IO_PATH_LEN], tmp[IO_PATH_LEN + 8];
    io_tmpdir(dir);
    io_path(path, dir, "sample.h5");
    write_sample(path);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    cr_assert(io_file_exists(path));
    cr_assert(!io_file_exists(tmp), "commit must rename the temporary away");

    mtb_error err = {0};
    mtb_h5 *f = must_open(path);
    cr_assert_str_eq(mtb_h5_path(f), path);

    size_t dims[MTB_H5_MAX_RANK];
    float *x;
    OK(mtb_h5_read_f32(f, "/train/x", 2, dims, &x, 1, &err));
    cr_assert(dims[0] == 2 && dims[1] == 3);
    const float xe[6] = {1.5f, -2.25f, 3.0f, 0.0f, -0.0f, 1e-30f};
    cr_assert(memcmp(x, xe, sizeof xe) == 0, "f32 values must survive bit for bit");
    free(x);

    double *d;
    OK(mtb_h5_read_f64(f, "/a/b/c/d", 1, dims, &d, 1, &err));
    cr_assert_eq(dims[0], 4);
    cr_assert(d[0] == 0.1 && d[1] == -1e300 && d[2] == 3.14159 && d[3] == 2.0);
    free(d);

    int64_t *iv;
    OK(mtb_h5_read_i64(f, "/ints", 2, dims, &iv, &err));
    cr_assert(iv[0] == INT64_MIN && iv[1] == -1 && iv[2] == 0 && iv[3] == INT64_MAX);
    free(iv);

    /* Integers read as doubles are accepted (the contract says so). */
    OK(mtb_h5_read_f64(f, "/ints", -1, dims, &d, 1, &err));
    cr_assert(d[1] == -1.0 && d[2] == 0.0);
    free(d);

    /* Without require_finite, NaN passes through. */
    OK(mtb_h5_read_f64(f, "/bad", 1, dims, &d, 0, &err));
    cr_assert(isnan(d[1]));
    free(d);

    size_t n;
    char **s;
    OK(mtb_h5_read_strs(f, "/tasks/loss", &n, &s, &err));
    cr_assert_eq(n, 3);
    cr_assert_str_eq(s[0], "mse");
    cr_assert_str_eq(s[1], "");
    cr_assert_str_eq(s[2], "pi = \xcf\x80");
    mtb_h5_free_strs(s, n);

    char buf[64];
    double v;
    int64_t k;
    OK(mtb_h5_attr_get_str(f, "/", "format", buf, sizeof buf, &err));
    cr_assert_str_eq(buf, "mtb-test-2");
    OK(mtb_h5_attr_get_f64(f, "/train/x", "scale", &v, &err));
    cr_assert_eq(v, 0.25);
    OK(mtb_h5_attr_get_i64(f, "/a/b", "seed", &k, &err));
    cr_assert_eq(k, -7);
    OK(mtb_h5_attr_get_f64(f, "/a/b", "seed", &v, &err));
    cr_assert_eq(v, -7.0);
    OK(mtb_h5_attr_get_i64(f, "/", "three", &k, &err)); /* integral float: accepted */
    cr_assert_eq(k, 3);

    int rank;
    OK(mtb_h5_shape(f, "/train/x", &rank, dims, &err));
    cr_assert(rank == 2 && dims[0] == 2 && dims[1] == 3);

    mtb_h5_kind kind;
    OK(mtb_h5_dtype(f, "/train/x", &kind, buf, sizeof buf, &err));
    cr_assert(kind == MTB_H5_FLOAT);
    cr_assert_str_eq(buf, "float32");
    OK(mtb_h5_dtype(f, "/ints", &kind, buf, sizeof buf, &err));
    cr_assert(kind == MTB_H5_INT);
    cr_assert_str_eq(buf, "int64");
    OK(mtb_h5_dtype(f, "/tasks/loss", &kind, NULL, 0, &err));
    cr_assert(kind == MTB_H5_STRING);

    cr_assert(mtb_h5_exists(f, "/"));
    cr_assert(mtb_h5_exists(f, "/a/b/c"));
    cr_assert(mtb_h5_exists(f, "/empty/group"));
    cr_assert(!mtb_h5_exists(f, "/nope/deeper/still"));
    cr_assert(mtb_h5_is_group(f, "/a/b"));
    cr_assert(!mtb_h5_is_group(f, "/a/b/c/d"));
    cr_assert(mtb_h5_attr_exists(f, "/", "format"));
    cr_assert(!mtb_h5_attr_exists(f, "/", "missing"));
    cr_assert(!mtb_h5_attr_exists(f, "/nope", "format"));

    OK(mtb_h5_list(f, "/", &n, &s, &err));
    const char *expect[] = {"a", "bad", "empty", "ints", "tasks", "train"}; /* name order */
    cr_assert_eq(n, 6);
    for (size_t j = 0; j < n; j++)
        cr_assert_str_eq(s[j], expect[j]);
    mtb_h5_free_strs(s, n);

    mtb_h5_close(f);
    io_rmtree(dir);
}

Test(h5, scalar_and_empty_datasets)
{
    char dir[IO_TMP_LEN], path[IO_PATH_LEN];
    io_tmpdir(dir);
    io_path(path, dir, "edge.h5");
    mtb_error err = {0};
    mtb_h5 *f = must_create(path);
    double one = 42.0;
    size_t zero[2] = {0, 5};
    OK(mtb_h5_write_f64(f, "/scalar", 0, NULL, &one, &err));
    OK(mtb_h5_write_f32(f, "/empty", 2, zero, NULL, &err));
    OK(mtb_h5_write_strs(f, "/nostrings", 0, NULL, &err));
    OK(mtb_h5_commit(f, &err));

    f = must_open(path);
    size_t dims[MTB_H5_MAX_RANK];
    double *d;
    float *x;
    OK(mtb_h5_read_f64(f, "/scalar", 0, dims, &d, 1, &err));
    cr_assert_eq(d[0], 42.0);
    free(d);
    OK(mtb_h5_read_f32(f, "/empty", 2, dims, &x, 1, &err));
    cr_assert(dims[0] == 0 && dims[1] == 5);
    free(x);
    size_t n = 99;
    char **s;
    OK(mtb_h5_read_strs(f, "/nostrings", &n, &s, &err));
    cr_assert_eq(n, 0);
    mtb_h5_free_strs(s, n);
    mtb_h5_close(f);
    io_rmtree(dir);
}

Test(h5, discard_leaves_no_file)
{
    char dir[IO_TMP_LEN], path[IO_PATH_LEN], tmp[IO_PATH_LEN + 8];
    io_tmpdir(dir);
    io_path(path, dir, "gone.h5");
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    mtb_error err = {0};
    mtb_h5 *f = must_create(path);
    cr_assert(io_file_exists(tmp), "writing goes to <path>.tmp");
    cr_assert(!io_file_exists(path), "the final name appears only on commit");
    double v = 1.0;
    size_t one = 1;
    OK(mtb_h5_write_f64(f, "/v", 1, &one, &v, &err));
    mtb_h5_discard(f);
    cr_assert(!io_file_exists(path));
    cr_assert(!io_file_exists(tmp));
    mtb_h5_discard(NULL); /* accepted, like free(NULL) */
    mtb_h5_close(NULL);
    io_rmtree(dir);
}

Test(h5, commit_keeps_previous_file_until_rename)
{
    char dir[IO_TMP_LEN], path[IO_PATH_LEN];
    io_tmpdir(dir);
    io_path(path, dir, "keep.h5");
    write_sample(path);
    mtb_h5 *f = must_create(path); /* a second writer, then abandoned */
    mtb_h5_discard(f);
    f = must_open(path); /* the committed file is intact */
    cr_assert(mtb_h5_exists(f, "/train/x"));
    mtb_h5_close(f);
    io_rmtree(dir);
}

/* Each failure: the right status, and a message naming the problem. */
Test(h5, failures_have_clear_messages)
{
    char dir[IO_TMP_LEN], path[IO_PATH_LEN], junk[IO_PATH_LEN];
    io_tmpdir(dir);
    io_path(path, dir, "sample.h5");
    write_sample(path);
    mtb_error err = {0};

    cr_assert_null(mtb_h5_open(io_path(junk, dir, "missing.h5"), &err));
    cr_assert_eq(err.status, MTB_EIO);
    cr_assert(strstr(err.msg, "missing.h5") && strstr(err.msg, "No such file"), "%s", err.msg);

    FILE *fp = fopen(io_path(junk, dir, "text.h5"), "w");
    cr_assert(fp);
    fputs("not hdf5\n", fp);
    fclose(fp);
    cr_assert_null(mtb_h5_open(junk, &err));
    cr_assert(strstr(err.msg, "not an HDF5 file"), "%s", err.msg);

    cr_assert_null(mtb_h5_create(io_path(junk, dir, "no/such/dir/x.h5"), &err));
    cr_assert(strstr(err.msg, "x.h5.tmp: No such file or directory"), "%s", err.msg);

    mtb_h5 *f = must_open(path);
    size_t dims[MTB_H5_MAX_RANK];
    double *d = NULL;
    int64_t *iv = NULL;
    char buf[4];

    cr_assert_eq(mtb_h5_read_f64(f, "/train/y", 2, dims, &d, 1, &err), MTB_EIO);
    cr_assert(strstr(err.msg, "no dataset /train/y") && strstr(err.msg, path), "%s", err.msg);
    cr_assert_null(d);

    cr_assert_eq(mtb_h5_read_f64(f, "/a/b/c/d", 2, dims, &d, 1, &err), MTB_EIO);
    cr_assert(strstr(err.msg, "rank 1, expected 2"), "%s", err.msg);

    cr_assert_eq(mtb_h5_read_f64(f, "/train", 2, dims, &d, 1, &err), MTB_EIO);
    cr_assert(strstr(err.msg, "is a group"), "%s", err.msg);

    cr_assert_eq(mtb_h5_read_i64(f, "/a/b/c/d", 1, dims, &iv, &err), MTB_EIO);
    cr_assert(strstr(err.msg, "expected integers"), "%s", err.msg);

    cr_assert_eq(mtb_h5_read_f64(f, "/tasks/loss", 1, dims, &d, 1, &err), MTB_EIO);
    cr_assert(strstr(err.msg, "string, expected numbers"), "%s", err.msg);

    cr_assert_eq(mtb_h5_read_f64(f, "/bad", 1, dims, &d, 1, &err), MTB_ENUMERIC);
    cr_assert(strstr(err.msg, "non-finite") && strstr(err.msg, "[1]"), "%s", err.msg);
    cr_assert_null(d);

    size_t n;
    char **s;
    cr_assert_eq(mtb_h5_read_strs(f, "/ints", &n, &s, &err), MTB_EIO);
    cr_assert(strstr(err.msg, "expected strings"), "%s", err.msg);

    cr_assert_eq(mtb_h5_attr_get_str(f, "/", "format", buf, sizeof buf, &err), MTB_EINVAL);
    cr_assert(strstr(err.msg, "buffer"), "%s", err.msg);
    cr_assert_eq(mtb_h5_attr_get_str(f, "/", "nothing", buf, sizeof buf, &err), MTB_EIO);
    cr_assert(strstr(err.msg, "has no attribute nothing"), "%s", err.msg);
    double v;
    int64_t k;
    cr_assert_eq(mtb_h5_attr_get_f64(f, "/", "format", &v, &err), MTB_EIO);
    cr_assert(strstr(err.msg, "expected a number"), "%s", err.msg);
    cr_assert_eq(mtb_h5_attr_get_i64(f, "/", "half", &k, &err), MTB_EIO);
    cr_assert(strstr(err.msg, "expected an integer"), "%s", err.msg);

    double one = 1.0;
    size_t d1 = 1;
    cr_assert_eq(mtb_h5_write_f64(f, "/new", 1, &d1, &one, &err), MTB_EINVAL);
    cr_assert(strstr(err.msg, "read-only"), "%s", err.msg);
    mtb_h5_close(f);

    f = must_create(io_path(junk, dir, "twice.h5"));
    OK(mtb_h5_write_f64(f, "/v", 1, &d1, &one, &err));
    cr_assert_eq(mtb_h5_write_f64(f, "/v", 1, &d1, &one, &err), MTB_EINVAL);
    cr_assert(strstr(err.msg, "already exists"), "%s", err.msg);
    cr_assert_eq(mtb_h5_attr_i64(f, "/ghost", "k", 1, &err), MTB_EINVAL);
    cr_assert(strstr(err.msg, "does not exist"), "%s", err.msg);
    cr_assert_eq(mtb_h5_write_f64(f, "/v/under", 1, &d1, &one, &err), MTB_EIO);
    cr_assert(strstr(err.msg, "/v/under"), "%s", err.msg);
    mtb_h5_discard(f);
    io_rmtree(dir);
}

/* HDF5's own error stack must not reach the user: only mtb's message, which the
 * caller decides to print. */
Test(h5, hdf5_errors_are_silenced, .init = cr_redirect_stderr)
{
    char dir[IO_TMP_LEN], path[IO_PATH_LEN];
    io_tmpdir(dir);
    io_path(path, dir, "sample.h5");
    write_sample(path);
    mtb_error err = {0};
    mtb_h5 *f = must_open(path);
    size_t dims[MTB_H5_MAX_RANK];
    double *d;
    char buf[8];
    cr_assert_neq(mtb_h5_read_f64(f, "/no/such", 1, dims, &d, 1, &err), MTB_OK);
    cr_assert_neq(mtb_h5_read_f64(f, "/tasks/loss", 1, dims, &d, 1, &err), MTB_OK);
    cr_assert_neq(mtb_h5_attr_get_str(f, "/x", "y", buf, sizeof buf, &err), MTB_OK);
    mtb_h5_close(f);
    cr_assert_null(mtb_h5_create("/proc/forbidden/x.h5", &err));
    fflush(stderr);
    cr_assert_stderr_eq_str("");
    io_rmtree(dir);
}

/* ---- golden fixtures (written by h5py) ------------------------------------------ */

/* The fixtures in the repository (tests/fixtures/golden, where `make test` runs), or
 * $MTB_GOLDEN. */
static const char *golden_dir(void)
{
    const char *s = getenv("MTB_GOLDEN");
    return s && *s ? s : "tests/fixtures/golden";
}

static void golden_path(char *out, size_t len, const char *name)
{
    snprintf(out, len, "%s/%s", golden_dir(), name);
    cr_assert(io_file_exists(out), "golden fixture %s not found (run from the repository root, "
              "or set MTB_GOLDEN)", out);
}

Test(h5, golden_ew_values)
{
    char path[IO_PATH_LEN];
    golden_path(path, sizeof path, "EW.h5");
    mtb_error err = {0};
    mtb_h5 *f = must_open(path);

    size_t n;
    char **cases;
    OK(mtb_h5_attr_get_strs(f, "/", "cases", &n, &cases, &err));
    const char *expect[] = {"T2_d4", "T3_d4", "illcond_T2_d4", "scale1000_T2_d4"};
    cr_assert_eq(n, 4);
    for (size_t i = 0; i < n; i++)
        cr_assert_str_eq(cases[i], expect[i]);
    mtb_h5_free_strs(cases, n);

    char buf[64];
    OK(mtb_h5_attr_get_str(f, "/", "method", buf, sizeof buf, &err));
    cr_assert_str_eq(buf, "EW");

    int64_t k;
    double v;
    OK(mtb_h5_attr_get_i64(f, "/", "deterministic", &k, &err)); /* enum int8 TRUE */
    cr_assert_eq(k, 1);
    OK(mtb_h5_attr_get_f64(f, "/", "deterministic", &v, &err));
    cr_assert_eq(v, 1.0);
    OK(mtb_h5_attr_get_i64(f, "/", "rep_grad", &k, &err)); /* enum int8 FALSE */
    cr_assert_eq(k, 0);
    OK(mtb_h5_attr_get_i64(f, "/T2_d4", "T", &k, &err));
    cr_assert_eq(k, 2);

    size_t dims[MTB_H5_MAX_RANK];
    double *l;
    OK(mtb_h5_read_f64(f, "/T2_d4/inputs/losses", 2, dims, &l, 1, &err));
    cr_assert(dims[0] == 5 && dims[1] == 2);
    /* Exact values from EW.json (the same content as text). */
    cr_assert_eq(l[0], 1.4188923835754395);
    cr_assert_eq(l[1], 0.5235506892204285);
    free(l);
    int64_t *ep;
    OK(mtb_h5_read_i64(f, "/T2_d4/inputs/epoch", 1, dims, &ep, &err));
    cr_assert_eq(dims[0], 5);
    free(ep);
    mtb_h5_close(f);
}

/* Shape of dataset /<cs>/<name> into dims; returns its rank. */
static int golden_shape(mtb_h5 *f, const char *path, const char *cs, const char *name, size_t *dims)
{
    char obj[256];
    snprintf(obj, sizeof obj, "/%s/%s", cs, name);
    int rank = -1;
    mtb_error err = {0};
    cr_assert_eq(mtb_h5_shape(f, obj, &rank, dims, &err), MTB_OK, "%s %s: %s", path, obj, err.msg);
    return rank;
}

/* Every fixture, following the schema of the fixtures' README.md: its cases attribute, each
 * case's T, d and n_steps, the task gradients of the stated shape (inputs/G (S, T, d), or
 * (S, K, T, d) with several samples per step; with the root attribute rep_grad true, as
 * GradDrop, inputs/G_rep (S, T, B, d) and the representation inputs/rep (S, B, d)), and the
 * recorded draws where present (random_normal (S, T), random_uniform (S, d), random_perm
 * (S, T, T) or (S, T, T - 1)). */
Test(h5, golden_every_fixture_reads)
{
    char dirpath[IO_PATH_LEN];
    snprintf(dirpath, sizeof dirpath, "%s", golden_dir());
    DIR *dp = opendir(dirpath);
    cr_assert(dp, "golden fixtures not found at %s (run from the repository root, or set "
              "MTB_GOLDEN)", dirpath);
    int files = 0;
    struct dirent *de;
    while ((de = readdir(dp))) {
        size_t len = strlen(de->d_name);
        if (len < 4 || strcmp(de->d_name + len - 3, ".h5"))
            continue;
        char path[IO_PATH_LEN * 2];
        snprintf(path, sizeof path, "%s/%s", dirpath, de->d_name);
        mtb_error err = {0};
        mtb_h5 *f = must_open(path);
        int64_t rep = 0;
        OK(mtb_h5_attr_get_i64(f, "/", "rep_grad", &rep, &err));
        size_t n;
        char **cases;
        OK(mtb_h5_attr_get_strs(f, "/", "cases", &n, &cases, &err));
        cr_assert_gt(n, 0, "%s: no cases", path);
        for (size_t c = 0; c < n; c++) {
            int64_t T, d, S;
            OK(mtb_h5_attr_get_i64(f, cases[c], "T", &T, &err));
            OK(mtb_h5_attr_get_i64(f, cases[c], "d", &d, &err));
            OK(mtb_h5_attr_get_i64(f, cases[c], "n_steps", &S, &err));
            size_t dims[MTB_H5_MAX_RANK];
            char obj[256];
            snprintf(obj, sizeof obj, "/%s/inputs/%s", cases[c], rep ? "G_rep" : "G");
            int rank;
            OK(mtb_h5_shape(f, obj, &rank, dims, &err));
            double *G;
            OK(mtb_h5_read_f64(f, obj, rank, dims, &G, 1, &err));
            free(G);
            if (rep) {
                cr_assert(rank == 4 && dims[0] == (size_t)S && dims[1] == (size_t)T &&
                              dims[3] == (size_t)d, "%s %s: rank %d", path, obj, rank);
                size_t B = dims[2];
                size_t dz[MTB_H5_MAX_RANK];
                cr_assert_eq(golden_shape(f, path, cases[c], "inputs/rep", dz), 3);
                cr_assert(dz[0] == (size_t)S && dz[1] == B && dz[2] == (size_t)d,
                          "%s: inputs/rep is not (S, B, d)", path);
            } else {
                cr_assert(rank == 3 || rank == 4, "%s %s: rank %d", path, obj, rank);
                cr_assert_eq(dims[0], (size_t)S, "%s %s", path, obj);
                cr_assert_eq(dims[rank - 2], (size_t)T, "%s %s", path, obj);
                cr_assert_eq(dims[rank - 1], (size_t)d, "%s %s", path, obj);
            }
            snprintf(obj, sizeof obj, "/%s/inputs/random_normal", cases[c]);
            if (mtb_h5_exists(f, obj)) {
                cr_assert_eq(golden_shape(f, path, cases[c], "inputs/random_normal", dims), 2);
                cr_assert(dims[0] == (size_t)S && dims[1] == (size_t)T, "%s %s", path, obj);
            }
            snprintf(obj, sizeof obj, "/%s/inputs/random_uniform", cases[c]);
            if (mtb_h5_exists(f, obj)) {
                cr_assert_eq(golden_shape(f, path, cases[c], "inputs/random_uniform", dims), 2);
                cr_assert(dims[0] == (size_t)S && dims[1] == (size_t)d, "%s %s", path, obj);
            }
            snprintf(obj, sizeof obj, "/%s/inputs/random_perm", cases[c]);
            if (mtb_h5_exists(f, obj)) {
                cr_assert_eq(golden_shape(f, path, cases[c], "inputs/random_perm", dims), 3);
                cr_assert(dims[0] == (size_t)S && dims[1] == (size_t)T &&
                              (dims[2] == (size_t)T || dims[2] == (size_t)T - 1),
                          "%s %s", path, obj);
                int64_t *perm;
                OK(mtb_h5_read_i64(f, obj, 3, dims, &perm, &err));
                for (size_t i = 0; i < dims[0] * dims[1] * dims[2]; i++)
                    cr_assert(perm[i] >= 0 && perm[i] < T, "%s %s[%zu] = %lld", path, obj, i,
                              (long long)perm[i]);
                free(perm);
            }
        }
        mtb_h5_free_strs(cases, n);
        char method[64];
        OK(mtb_h5_attr_get_str(f, "/", "method", method, sizeof method, &err));
        cr_assert(strncmp(de->d_name, method, strlen(method)) == 0, "%s: method %s", path, method);
        mtb_h5_close(f);
        files++;
    }
    closedir(dp);
    cr_assert_gt(files, 0, "no .h5 fixtures in %s", dirpath);
}

/* HDF5 records a modification time in every object header unless told not to; mtb turns
 * that off, so the same content written twice (a second apart) gives the same bytes. */
static void write_small(const char *path)
{
    mtb_error err = {0};
    mtb_h5 *f = mtb_h5_create(path, &err);
    cr_assert(f, "%s", err.msg);
    const double v[3] = {1, 2, 3};
    const size_t d[1] = {3};
    cr_assert_eq(mtb_h5_write_f64(f, "/a/b/x", 1, d, v, &err), MTB_OK, "%s", err.msg);
    cr_assert_eq(mtb_h5_group(f, "/g", &err), MTB_OK, "%s", err.msg);
    cr_assert_eq(mtb_h5_attr_str(f, "/", "k", "v", &err), MTB_OK, "%s", err.msg);
    cr_assert_eq(mtb_h5_commit(f, &err), MTB_OK, "%s", err.msg);
}

Test(h5, same_content_same_bytes, .timeout = 10)
{
    char dir[IO_TMP_LEN], a[IO_PATH_LEN], b[IO_PATH_LEN], cmd[3 * IO_PATH_LEN];
    io_tmpdir(dir);
    write_small(io_path(a, dir, "a.h5"));
    sleep(1); /* HDF5's times have a resolution of one second */
    usleep(100000);
    write_small(io_path(b, dir, "b.h5"));
    snprintf(cmd, sizeof cmd, "cmp -s %s %s", a, b);
    cr_assert_eq(system(cmd), 0, "two writes of the same content differ (object times?)");
    io_rmtree(dir);
}
