/* test_dataset.c: the dataset file format (datasets/README.md): a round trip with every
 * loss kind, and one test per rejected input, each checking the status and a telling
 * piece of the message. Bad files are written here with the raw mtb_h5 calls, one
 * mutation at a time, from a writer that restates the documented schema independently
 * of dataset.c. */
#include <criterion/criterion.h>
#include <math.h>

#include "io_testutil.h"
#include "mtb/dataset.h"
#include "mtb/h5.h"

/* A small dataset with mixed losses: y columns [0,2) mse, [2] ce over 4 classes,
 * [3,6) bce. */
enum { T_ = 3, DIN = 5, YW = 6, NTR = 7, NTE = 3 };

static void make_small(mtb_dataset *ds)
{
    mtb_error err = {0};
    cr_assert_eq(mtb_dataset_alloc(ds, T_, DIN, YW, NTR, NTE, &err), MTB_OK, "%s", err.msg);
    snprintf(ds->name, sizeof ds->name, "small");
    snprintf(ds->generator, sizeof ds->generator, "kind=test,rows=%d", NTR + NTE);
    ds->seed = UINT64_MAX - 5; /* above 2^63: exercises the int64 bit-pattern storage */
    ds->tasks[0] = (mtb_task_spec){.loss = MTB_LOSS_MSE, .out_width = 2, .target_width = 2,
                                   .target_offset = 0, .sigma = 1.5};
    ds->tasks[1] = (mtb_task_spec){.loss = MTB_LOSS_CE, .out_width = 4, .target_width = 1,
                                   .target_offset = 2, .sigma = 1.0, .n_class_weights = 4,
                                   .class_weights = {0.5, 1.0, 2.0, 0.0}};
    ds->tasks[2] = (mtb_task_spec){.loss = MTB_LOSS_BCE, .out_width = 3, .target_width = 3,
                                   .target_offset = 3, .sigma = 1.0, .n_class_weights = 2,
                                   .class_weights = {1.0, 3.0}};
    mtb_split *sp[2] = {&ds->train, &ds->test};
    for (int s = 0; s < 2; s++)
        for (size_t r = 0; r < sp[s]->n; r++) {
            for (int c = 0; c < DIN; c++)
                sp[s]->x[r * DIN + (size_t)c] = (float)(0.25 * (double)(r * DIN + (size_t)c)) - 3.0f;
            float *y = sp[s]->y + r * YW;
            y[0] = (float)r * 0.5f;
            y[1] = -(float)r;
            y[2] = (float)((int)r % 5) - 1.0f; /* -1 (unlabelled), 0, 1, 2, 3 */
            y[3] = 0.0f;
            y[4] = 1.0f;
            y[5] = 0.5f;
        }
}

Test(dataset, round_trip_mixed_losses)
{
    char dir[IO_TMP_LEN], path[IO_PATH_LEN];
    io_tmpdir(dir);
    io_path(path, dir, "small.h5");
    mtb_dataset a, b;
    mtb_error err = {0};
    make_small(&a);
    cr_assert_eq(mtb_dataset_save(path, &a, &err), MTB_OK, "%s", err.msg);
    cr_assert_eq(mtb_dataset_load(path, &b, &err), MTB_OK, "%s", err.msg);

    cr_assert_str_eq(b.name, a.name);
    cr_assert_str_eq(b.generator, a.generator);
    cr_assert_eq(b.seed, a.seed);
    cr_assert(b.T == T_ && b.d_in == DIN && b.y_width == YW);
    cr_assert(b.train.n == NTR && b.test.n == NTE);
    cr_assert(memcmp(a.train.x, b.train.x, NTR * DIN * sizeof(float)) == 0);
    cr_assert(memcmp(a.train.y, b.train.y, NTR * YW * sizeof(float)) == 0);
    cr_assert(memcmp(a.test.x, b.test.x, NTE * DIN * sizeof(float)) == 0);
    cr_assert(memcmp(a.test.y, b.test.y, NTE * YW * sizeof(float)) == 0);
    for (int t = 0; t < T_; t++) {
        const mtb_task_spec *p = &a.tasks[t], *q = &b.tasks[t];
        cr_assert(p->loss == q->loss && p->out_width == q->out_width &&
                  p->target_width == q->target_width && p->target_offset == q->target_offset &&
                  p->sigma == q->sigma && p->n_class_weights == q->n_class_weights, "task %d", t);
        for (int c = 0; c < MTB_TASK_MAX_CLASS_WEIGHTS; c++)
            cr_assert_eq(p->class_weights[c], q->class_weights[c], "task %d weight %d", t, c);
    }
    mtb_dataset_free(&a);
    mtb_dataset_free(&b);
    mtb_dataset_free(&b); /* a freed dataset is a zeroed one: freeing again is safe */
    io_rmtree(dir);
}

Test(dataset, save_refuses_an_invalid_table)
{
    char dir[IO_TMP_LEN], path[IO_PATH_LEN];
    io_tmpdir(dir);
    io_path(path, dir, "never.h5");
    mtb_dataset ds;
    mtb_error err = {0};
    make_small(&ds);
    ds.tasks[2].target_offset = 2; /* overlaps the ce column */
    cr_assert_eq(mtb_dataset_save(path, &ds, &err), MTB_EINVAL);
    cr_assert(strstr(err.msg, "overlap"), "%s", err.msg);
    cr_assert(!io_file_exists(path));
    ds.tasks[2].target_offset = 3;
    ds.train.x[3] = INFINITY;
    cr_assert_eq(mtb_dataset_save(path, &ds, &err), MTB_ENUMERIC);
    cr_assert(strstr(err.msg, "train/x row 0, column 3"), "%s", err.msg);
    mtb_dataset_free(&ds);
    io_rmtree(dir);
}

Test(dataset, alloc_rejects_bad_sizes)
{
    mtb_dataset ds;
    mtb_error err = {0};
    cr_assert_eq(mtb_dataset_alloc(&ds, 0, 3, 3, 1, 1, &err), MTB_EINVAL);
    cr_assert(strstr(err.msg, "tasks (0)"), "%s", err.msg);
    cr_assert_null(ds.tasks);
    mtb_dataset_free(&ds);
}

/* ---- bad files -------------------------------------------------------------------- */

typedef enum mutation {
    M_NONE,
    M_NO_FORMAT,
    M_WRONG_FORMAT,
    M_VERSION,
    M_NO_TRAIN_Y,
    M_TRAIN_Y_COLS,
    M_TEST_X_COLS,
    M_X_RANK,
    M_Y_ROWS,
    M_X_STRINGS,
    M_WIDTH_FLOAT,
    M_LOSS_INTS,
    M_X_NAN,
    M_OVERLAP,
    M_OFFSET_OUT,
    M_UNKNOWN_LOSS,
    M_CE_WIDTH,
    M_NEG_WIDTH,
    M_SIGMA_ZERO,
    M_SHORT_COLUMN,
    M_CE_LABEL,
    M_TASK_COUNT
} mutation;

#define W(call) cr_assert_eq((call), MTB_OK, "writing the test file: %s", err.msg)

/* The schema of datasets/README.md written field by field, with one mutation. */
static void write_raw(const char *path, mutation m)
{
    mtb_error err = {0};
    mtb_h5 *f = mtb_h5_create(path, &err);
    cr_assert(f, "%s", err.msg);
    if (m != M_NO_FORMAT)
        W(mtb_h5_attr_str(f, "/", "format", m == M_WRONG_FORMAT ? "mtb-run" : "mtb-dataset", &err));
    W(mtb_h5_attr_i64(f, "/", "format_version", m == M_VERSION ? 2 : 1, &err));
    W(mtb_h5_attr_str(f, "/", "name", "raw", &err));
    W(mtb_h5_attr_str(f, "/", "generator", "hand-written", &err));
    W(mtb_h5_attr_i64(f, "/", "seed", 3, &err));
    W(mtb_h5_attr_i64(f, "/", "tasks", m == M_TASK_COUNT ? 3 : 2, &err));
    W(mtb_h5_attr_i64(f, "/", "d_in", 3, &err));
    W(mtb_h5_attr_i64(f, "/", "y_width", 3, &err));

    /* Two tasks: mse on y columns [0, 2), ce over 3 classes in column 2. */
    float x[4 * 4], y[4 * 4];
    for (int i = 0; i < 16; i++) {
        x[i] = 0.1f * (float)i;
        y[i] = (float)(i % 3); /* column 2 of every row (3 columns) is 2: a valid class */
    }
    if (m == M_X_NAN)
        x[4] = NAN;
    if (m == M_CE_LABEL)
        y[2] = 7.0f; /* row 0, column 2: the ce target, beyond 3 classes */
    size_t dx[2] = {4, 3}, dy[2] = {4, 3};
    if (m == M_X_RANK)
        W(mtb_h5_write_f32(f, "/train/x", 1, (size_t[]){12}, x, &err));
    else if (m == M_X_STRINGS)
        W(mtb_h5_write_strs(f, "/train/x", 2, (const char *[]){"1", "2"}, &err));
    else
        W(mtb_h5_write_f32(f, "/train/x", 2, dx, x, &err));
    if (m == M_TRAIN_Y_COLS)
        W(mtb_h5_write_f32(f, "/train/y", 2, (size_t[]){4, 4}, y, &err));
    else if (m == M_Y_ROWS)
        W(mtb_h5_write_f32(f, "/train/y", 2, (size_t[]){3, 3}, y, &err));
    else if (m != M_NO_TRAIN_Y)
        W(mtb_h5_write_f32(f, "/train/y", 2, dy, y, &err));
    W(mtb_h5_write_f32(f, "/test/x", 2, m == M_TEST_X_COLS ? (size_t[]){2, 4} : (size_t[]){2, 3},
                       x, &err));
    W(mtb_h5_write_f32(f, "/test/y", 2, (size_t[]){2, 3}, y, &err));

    const char *loss[2] = {"mse", m == M_UNKNOWN_LOSS ? "huber" : "ce"};
    int64_t out_w[2] = {m == M_NEG_WIDTH ? -2 : 2, 3};
    int64_t tgt_w[2] = {m == M_NEG_WIDTH ? -2 : 2, m == M_CE_WIDTH ? 2 : 1};
    int64_t off[2] = {0, m == M_OVERLAP ? 1 : m == M_OFFSET_OUT ? 3 : 2};
    int64_t ncw[2] = {0, 0};
    double sigma[2] = {1.0, m == M_SIGMA_ZERO ? 0.0 : 2.0};
    double cw[2 * MTB_TASK_MAX_CLASS_WEIGHTS] = {0};
    size_t T = 2;
    if (m == M_LOSS_INTS)
        W(mtb_h5_write_i64(f, "/tasks/loss", 1, &T, ncw, &err));
    else
        W(mtb_h5_write_strs(f, "/tasks/loss", 2, loss, &err));
    if (m == M_WIDTH_FLOAT)
        W(mtb_h5_write_f64(f, "/tasks/out_width", 1, &T, sigma, &err));
    else
        W(mtb_h5_write_i64(f, "/tasks/out_width", 1, &T, out_w, &err));
    W(mtb_h5_write_i64(f, "/tasks/target_width", 1, &T, tgt_w, &err));
    size_t Tshort = m == M_SHORT_COLUMN ? 1 : 2;
    W(mtb_h5_write_i64(f, "/tasks/target_offset", 1, &Tshort, off, &err));
    W(mtb_h5_write_f64(f, "/tasks/sigma", 1, &T, sigma, &err));
    W(mtb_h5_write_i64(f, "/tasks/n_class_weights", 1, &T, ncw, &err));
    W(mtb_h5_write_f64(f, "/tasks/class_weights", 2, (size_t[]){2, MTB_TASK_MAX_CLASS_WEIGHTS},
                       cw, &err));
    W(mtb_h5_commit(f, &err));
}

static void expect_load(mutation m, mtb_status want, const char *substr)
{
    char dir[IO_TMP_LEN], path[IO_PATH_LEN];
    io_tmpdir(dir);
    io_path(path, dir, "bad.h5");
    write_raw(path, m);
    mtb_dataset ds;
    mtb_error err = {0};
    mtb_status st = mtb_dataset_load(path, &ds, &err);
    cr_assert_eq(st, want, "mutation %d: status %s (%s), expected %s", (int)m, mtb_strerror(st),
                 err.msg, mtb_strerror(want));
    if (want != MTB_OK) {
        cr_assert(strstr(err.msg, substr), "mutation %d: message '%s' lacks '%s'", (int)m,
                  err.msg, substr);
        cr_assert(strstr(err.msg, path), "the message names the file: %s", err.msg);
        cr_assert_null(ds.tasks, "a failed load leaves the dataset empty");
        cr_assert_null(ds.train.x);
    }
    mtb_dataset_free(&ds);
    io_rmtree(dir);
}

/* The writer itself must produce a valid file, or every rejection below proves nothing. */
Test(dataset_bad, raw_writer_is_valid) { expect_load(M_NONE, MTB_OK, ""); }
Test(dataset_bad, no_format) { expect_load(M_NO_FORMAT, MTB_EIO, "not an mtb dataset"); }
Test(dataset_bad, wrong_format) { expect_load(M_WRONG_FORMAT, MTB_EIO, "format is 'mtb-run'"); }
Test(dataset_bad, version) { expect_load(M_VERSION, MTB_EIO, "format_version 2"); }
Test(dataset_bad, missing_dataset) { expect_load(M_NO_TRAIN_Y, MTB_EIO, "no dataset /train/y"); }
Test(dataset_bad, y_columns) { expect_load(M_TRAIN_Y_COLS, MTB_EIO, "/train/y has 4 columns, expected y_width = 3"); }
Test(dataset_bad, x_columns_differ) { expect_load(M_TEST_X_COLS, MTB_EIO, "/test/x has 4 columns, expected d_in = 3"); }
Test(dataset_bad, rank) { expect_load(M_X_RANK, MTB_EIO, "/train/x has rank 1, expected 2"); }
Test(dataset_bad, rows) { expect_load(M_Y_ROWS, MTB_EIO, "has 4 rows but /train/y has 3"); }
Test(dataset_bad, strings_for_numbers) { expect_load(M_X_STRINGS, MTB_EIO, "/train/x holds string, expected float32"); }
Test(dataset_bad, float_for_int) { expect_load(M_WIDTH_FLOAT, MTB_EIO, "/tasks/out_width holds float64, expected integers"); }
Test(dataset_bad, ints_for_strings) { expect_load(M_LOSS_INTS, MTB_EIO, "/tasks/loss holds int64, expected strings"); }
Test(dataset_bad, non_finite) { expect_load(M_X_NAN, MTB_ENUMERIC, "train/x row 1, column 1 is nan"); }
Test(dataset_bad, overlap) { expect_load(M_OVERLAP, MTB_EIO, "tasks 0 and 1 overlap"); }
Test(dataset_bad, offset_out_of_range) { expect_load(M_OFFSET_OUT, MTB_EIO, "target columns [3, 4) lie outside the 3 columns"); }
Test(dataset_bad, unknown_loss) { expect_load(M_UNKNOWN_LOSS, MTB_EIO, "'huber', an unknown loss"); }
Test(dataset_bad, ce_target_width) { expect_load(M_CE_WIDTH, MTB_EIO, "task 1 (ce): target_width is 2, expected 1"); }
Test(dataset_bad, negative_width) { expect_load(M_NEG_WIDTH, MTB_EIO, "out_width is -2"); }
Test(dataset_bad, sigma_not_positive) { expect_load(M_SIGMA_ZERO, MTB_EIO, "sigma is 0"); }
Test(dataset_bad, short_task_column) { expect_load(M_SHORT_COLUMN, MTB_EIO, "/tasks/target_offset has 1 entries, expected 2"); }
Test(dataset_bad, ce_label_out_of_range) { expect_load(M_CE_LABEL, MTB_EIO, "target is 7, expected a class index in [0, 3)"); }
Test(dataset_bad, task_count) { expect_load(M_TASK_COUNT, MTB_EIO, "/tasks/loss lists 2 tasks, expected 3"); }

Test(dataset_bad, missing_file)
{
    mtb_dataset ds;
    mtb_error err = {0};
    cr_assert_eq(mtb_dataset_load("/tmp/mtb-no-such-dir/none.h5", &ds, &err), MTB_EIO);
    cr_assert(strstr(err.msg, "none.h5") && strstr(err.msg, "No such file"), "%s", err.msg);
}

Test(dataset_bad, not_hdf5)
{
    char dir[IO_TMP_LEN], path[IO_PATH_LEN];
    io_tmpdir(dir);
    FILE *fp = fopen(io_path(path, dir, "x.h5"), "w");
    cr_assert(fp);
    fputs("x,y\n1,2\n", fp);
    fclose(fp);
    mtb_dataset ds;
    mtb_error err = {0};
    cr_assert_eq(mtb_dataset_load(path, &ds, &err), MTB_EIO);
    cr_assert(strstr(err.msg, "not an HDF5 file"), "%s", err.msg);
    io_rmtree(dir);
}
