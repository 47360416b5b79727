/* dataset.c: an mtb_dataset in memory and in its HDF5 form. The file layout is
 * documented (with an h5dump listing) in datasets/README.md; this file and that one
 * change together. The task table is stored column-wise (/tasks/<field>, one entry
 * per task) so that h5dump and h5py show it as a readable table. */
#include "mtb/dataset.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mtb/h5.h"

#define FORMAT_NAME "mtb-dataset"
#define FORMAT_VERSION 1

/* ---- memory --------------------------------------------------------------------- */

static float *alloc_floats(size_t rows, size_t cols)
{
    if (cols && rows > SIZE_MAX / sizeof(float) / cols)
        return NULL;
    size_t n = rows * cols;
    return calloc(n ? n : 1, sizeof(float)); /* never NULL for an empty split */
}

mtb_status mtb_dataset_alloc(mtb_dataset *ds, int T, int d_in, int y_width, size_t n_train,
                             size_t n_test, mtb_error *err)
{
    memset(ds, 0, sizeof *ds);
    if (T < 1 || d_in < 1 || y_width < 1)
        return mtb_fail(err, MTB_EINVAL, "dataset: tasks (%d), d_in (%d) and y_width (%d) must "
                        "all be >= 1", T, d_in, y_width);
    ds->T = T;
    ds->d_in = d_in;
    ds->y_width = y_width;
    ds->train.n = n_train;
    ds->test.n = n_test;
    ds->tasks = calloc((size_t)T, sizeof *ds->tasks);
    ds->train.x = alloc_floats(n_train, (size_t)d_in);
    ds->train.y = alloc_floats(n_train, (size_t)y_width);
    ds->test.x = alloc_floats(n_test, (size_t)d_in);
    ds->test.y = alloc_floats(n_test, (size_t)y_width);
    if (!ds->tasks || !ds->train.x || !ds->train.y || !ds->test.x || !ds->test.y) {
        mtb_dataset_free(ds);
        return mtb_fail(err, MTB_ENOMEM, "dataset: out of memory for %zu + %zu samples of %d "
                        "inputs and %d targets", n_train, n_test, d_in, y_width);
    }
    for (int t = 0; t < T; t++)
        ds->tasks[t].sigma = 1.0;
    return MTB_OK;
}

void mtb_dataset_free(mtb_dataset *ds)
{
    if (!ds)
        return;
    free(ds->tasks);
    free(ds->train.x);
    free(ds->train.y);
    free(ds->test.x);
    free(ds->test.y);
    memset(ds, 0, sizeof *ds);
}

/* ---- saving ----------------------------------------------------------------------- */

static mtb_status save_split(mtb_h5 *f, const mtb_dataset *ds, const mtb_split *s,
                             const char *name, mtb_error *err)
{
    char obj[32];
    size_t dx[2] = {s->n, (size_t)ds->d_in}, dy[2] = {s->n, (size_t)ds->y_width};
    snprintf(obj, sizeof obj, "/%s/x", name);
    mtb_status st = mtb_h5_write_f32(f, obj, 2, dx, s->x, err);
    if (st)
        return st;
    snprintf(obj, sizeof obj, "/%s/y", name);
    return mtb_h5_write_f32(f, obj, 2, dy, s->y, err);
}

static mtb_status save_tasks(mtb_h5 *f, const mtb_dataset *ds, mtb_error *err)
{
    const size_t T = (size_t)ds->T, K = MTB_TASK_MAX_CLASS_WEIGHTS;
    mtb_status st = MTB_ENOMEM;
    const char **loss = malloc(T * sizeof *loss);
    int64_t *out_w = malloc(T * sizeof *out_w), *tgt_w = malloc(T * sizeof *tgt_w);
    int64_t *off = malloc(T * sizeof *off), *ncw = malloc(T * sizeof *ncw);
    double *sigma = malloc(T * sizeof *sigma), *cw = calloc(T * K, sizeof *cw);
    if (!loss || !out_w || !tgt_w || !off || !ncw || !sigma || !cw) {
        mtb_fail(err, MTB_ENOMEM, "out of memory writing the task table");
        goto done;
    }
    for (size_t t = 0; t < T; t++) {
        const mtb_task_spec *k = &ds->tasks[t];
        loss[t] = mtb_loss_name(k->loss);
        out_w[t] = k->out_width;
        tgt_w[t] = k->target_width;
        off[t] = k->target_offset;
        sigma[t] = k->sigma;
        ncw[t] = k->n_class_weights;
        /* Unused slots stay 0 so the file does not depend on stale memory. */
        for (int c = 0; c < k->n_class_weights; c++)
            cw[t * K + (size_t)c] = k->class_weights[c];
    }
    size_t dcw[2] = {T, K};
    st = mtb_h5_write_strs(f, "/tasks/loss", T, loss, err);
    if (!st)
        st = mtb_h5_write_i64(f, "/tasks/out_width", 1, &T, out_w, err);
    if (!st)
        st = mtb_h5_write_i64(f, "/tasks/target_width", 1, &T, tgt_w, err);
    if (!st)
        st = mtb_h5_write_i64(f, "/tasks/target_offset", 1, &T, off, err);
    if (!st)
        st = mtb_h5_write_f64(f, "/tasks/sigma", 1, &T, sigma, err);
    if (!st)
        st = mtb_h5_write_i64(f, "/tasks/n_class_weights", 1, &T, ncw, err);
    if (!st)
        st = mtb_h5_write_f64(f, "/tasks/class_weights", 2, dcw, cw, err);
done:
    free(loss);
    free(out_w);
    free(tgt_w);
    free(off);
    free(ncw);
    free(sigma);
    free(cw);
    return st;
}

mtb_status mtb_dataset_save(const char *path, const mtb_dataset *ds, mtb_error *err)
{
    mtb_status st = mtb_dataset_check(ds, err);
    if (st) {
        mtb_error_prefix(err, "not saving %s: ", path ? path : "(null)");
        return st;
    }
    mtb_h5 *f = mtb_h5_create(path, err);
    if (!f)
        return err ? err->status : MTB_EIO;
    /* The seed is a uint64; HDF5 attributes here are int64, so it is stored as the
     * same 64 bits (seeds below 2^63 read as themselves in h5dump). */
    int64_t seed;
    memcpy(&seed, &ds->seed, sizeof seed);
    if ((st = mtb_h5_attr_str(f, "/", "format", FORMAT_NAME, err)) ||
        (st = mtb_h5_attr_i64(f, "/", "format_version", FORMAT_VERSION, err)) ||
        (st = mtb_h5_attr_str(f, "/", "name", ds->name, err)) ||
        (st = mtb_h5_attr_str(f, "/", "generator", ds->generator, err)) ||
        (st = mtb_h5_attr_i64(f, "/", "seed", seed, err)) ||
        (st = mtb_h5_attr_i64(f, "/", "tasks", ds->T, err)) ||
        (st = mtb_h5_attr_i64(f, "/", "d_in", ds->d_in, err)) ||
        (st = mtb_h5_attr_i64(f, "/", "y_width", ds->y_width, err)) ||
        (st = save_split(f, ds, &ds->train, "train", err)) ||
        (st = save_split(f, ds, &ds->test, "test", err)) ||
        (st = save_tasks(f, ds, err))) {
        mtb_h5_discard(f);
        return st;
    }
    return mtb_h5_commit(f, err);
}

/* ---- loading ---------------------------------------------------------------------- */

/* A (T) int64 column of the task table into out[T] as ints (each entry checked to
 * fit an int). */
static mtb_status load_int_column(mtb_h5 *f, const char *obj, int T, int *out, mtb_error *err)
{
    size_t dims[1];
    int64_t *v;
    mtb_status st = mtb_h5_read_i64(f, obj, 1, dims, &v, err);
    if (st)
        return st;
    if (dims[0] != (size_t)T)
        st = mtb_fail(err, MTB_EIO, "%s: %s has %zu entries, expected %d (one per task, as in "
                      "/tasks/loss)", mtb_h5_path(f), obj, dims[0], T);
    for (int t = 0; !st && t < T; t++) {
        if (v[t] < INT_MIN || v[t] > INT_MAX)
            st = mtb_fail(err, MTB_EIO, "%s: %s[%d] = %lld is out of range", mtb_h5_path(f), obj,
                          t, (long long)v[t]);
        else
            out[t] = (int)v[t];
    }
    free(v);
    return st;
}

static mtb_status load_tasks(mtb_h5 *f, mtb_dataset *ds, mtb_error *err)
{
    const char *path = mtb_h5_path(f);
    size_t n, dims[2];
    char **loss;
    mtb_status st = mtb_h5_read_strs(f, "/tasks/loss", &n, &loss, err);
    if (st)
        return st;
    if (n != (size_t)ds->T) {
        mtb_h5_free_strs(loss, n);
        return mtb_fail(err, MTB_EIO, "%s: /tasks/loss lists %zu tasks, expected %d (root "
                        "attribute tasks)", path, n, ds->T);
    }
    ds->tasks = calloc(n, sizeof *ds->tasks);
    if (!ds->tasks) {
        mtb_h5_free_strs(loss, n);
        return mtb_fail(err, MTB_ENOMEM, "%s: out of memory for %zu tasks", path, n);
    }
    for (size_t t = 0; t < n; t++)
        if (mtb_loss_from_name(loss[t], &ds->tasks[t].loss) != 0) {
            st = mtb_fail(err, MTB_EIO, "%s: /tasks/loss[%zu] is '%s', an unknown loss (expected "
                          "mse, l1, bce or ce)", path, t, loss[t]);
            mtb_h5_free_strs(loss, n);
            return st;
        }
    mtb_h5_free_strs(loss, n);

    /* Task fields in file order: out_width, target_width, target_offset, n_class_weights. */
    static const char *const cols[4] = {"/tasks/out_width", "/tasks/target_width",
                                        "/tasks/target_offset", "/tasks/n_class_weights"};
    int *col = malloc(n * sizeof *col);
    if (!col)
        return mtb_fail(err, MTB_ENOMEM, "%s: out of memory for %zu tasks", path, n);
    for (int c = 0; c < 4 && !st; c++) {
        if ((st = load_int_column(f, cols[c], ds->T, col, err)))
            break;
        for (size_t t = 0; t < n; t++) {
            mtb_task_spec *k = &ds->tasks[t];
            int *field = c == 0 ? &k->out_width : c == 1 ? &k->target_width
                       : c == 2 ? &k->target_offset : &k->n_class_weights;
            *field = col[t];
        }
    }
    free(col);
    if (st)
        return st;

    double *sigma;
    if ((st = mtb_h5_read_f64(f, "/tasks/sigma", 1, dims, &sigma, 1, err)))
        return st;
    if (dims[0] != n) {
        free(sigma);
        return mtb_fail(err, MTB_EIO, "%s: /tasks/sigma has %zu entries, expected %zu (one per "
                        "task, as in /tasks/loss)", path, dims[0], n);
    }
    for (size_t t = 0; t < n; t++)
        ds->tasks[t].sigma = sigma[t];
    free(sigma);

    double *cw;
    if ((st = mtb_h5_read_f64(f, "/tasks/class_weights", 2, dims, &cw, 1, err)))
        return st;
    if (dims[0] != n || dims[1] > MTB_TASK_MAX_CLASS_WEIGHTS) {
        free(cw);
        return mtb_fail(err, MTB_EIO, "%s: /tasks/class_weights has shape (%zu, %zu), expected "
                        "(%zu, %d)", path, dims[0], dims[1], n, MTB_TASK_MAX_CLASS_WEIGHTS);
    }
    for (size_t t = 0; t < n; t++) {
        mtb_task_spec *k = &ds->tasks[t];
        if (k->n_class_weights < 0 || (size_t)k->n_class_weights > dims[1]) {
            free(cw);
            return mtb_fail(err, MTB_EIO, "%s: /tasks/n_class_weights[%zu] = %d, but "
                            "/tasks/class_weights holds %zu per task", path, t,
                            k->n_class_weights, dims[1]);
        }
        for (size_t c = 0; c < dims[1]; c++)
            k->class_weights[c] = cw[t * dims[1] + c];
    }
    free(cw);
    return MTB_OK;
}

/* x (n, d_in) and y (n, y_width) of one split, against the sizes the root attributes
 * declare (ds->d_in, ds->y_width). */
static mtb_status load_split(mtb_h5 *f, const mtb_dataset *ds, const char *name, mtb_split *s,
                             mtb_error *err)
{
    const char *path = mtb_h5_path(f);
    char ox[32], oy[32];
    snprintf(ox, sizeof ox, "/%s/x", name);
    snprintf(oy, sizeof oy, "/%s/y", name);
    size_t dx[2], dy[2];
    mtb_status st;
    if ((st = mtb_h5_read_f32(f, ox, 2, dx, &s->x, 1, err)) ||
        (st = mtb_h5_read_f32(f, oy, 2, dy, &s->y, 1, err)))
        return st;
    s->n = dx[0];
    if (dy[0] != dx[0])
        return mtb_fail(err, MTB_EIO, "%s: %s has %zu rows but %s has %zu; every sample needs "
                        "one input row and one target row", path, ox, dx[0], oy, dy[0]);
    if (dx[1] != (size_t)ds->d_in)
        return mtb_fail(err, MTB_EIO, "%s: %s has %zu columns, expected d_in = %d (root "
                        "attribute); both splits must have the same inputs", path, ox, dx[1],
                        ds->d_in);
    if (dy[1] != (size_t)ds->y_width)
        return mtb_fail(err, MTB_EIO, "%s: %s has %zu columns, expected y_width = %d (root "
                        "attribute; the task table places targets in those columns)", path, oy,
                        dy[1], ds->y_width);
    return MTB_OK;
}

/* A positive int-valued root attribute. */
static mtb_status load_size(mtb_h5 *f, const char *name, int *out, mtb_error *err)
{
    int64_t v;
    mtb_status st = mtb_h5_attr_get_i64(f, "/", name, &v, err);
    if (st)
        return st;
    if (v < 1 || v > INT_MAX)
        return mtb_fail(err, MTB_EIO, "%s: root attribute %s = %lld, expected a size >= 1",
                        mtb_h5_path(f), name, (long long)v);
    *out = (int)v;
    return MTB_OK;
}

static mtb_status load_header(mtb_h5 *f, mtb_dataset *ds, mtb_error *err)
{
    const char *path = mtb_h5_path(f);
    char format[64];
    if (!mtb_h5_attr_exists(f, "/", "format"))
        return mtb_fail(err, MTB_EIO, "%s: not an mtb dataset (no root attribute format=\""
                        FORMAT_NAME "\"); make one with `mtb gen`", path);
    mtb_status st = mtb_h5_attr_get_str(f, "/", "format", format, sizeof format, err);
    if (st == MTB_OK && strcmp(format, FORMAT_NAME) != 0)
        st = mtb_fail(err, MTB_EIO, "%s: not an mtb dataset (format is '%s', expected '"
                      FORMAT_NAME "')", path, format);
    if (st)
        return st;
    int64_t version, seed;
    if ((st = mtb_h5_attr_get_i64(f, "/", "format_version", &version, err)))
        return st;
    if (version != FORMAT_VERSION)
        return mtb_fail(err, MTB_EIO, "%s: dataset format_version %lld; this build reads "
                        "version %d (regenerate the file with this mtb)", path,
                        (long long)version, FORMAT_VERSION);
    if ((st = mtb_h5_attr_get_str(f, "/", "name", ds->name, sizeof ds->name, err)) ||
        (st = mtb_h5_attr_get_str(f, "/", "generator", ds->generator, sizeof ds->generator,
                                  err)) ||
        (st = mtb_h5_attr_get_i64(f, "/", "seed", &seed, err)) ||
        (st = load_size(f, "tasks", &ds->T, err)) || (st = load_size(f, "d_in", &ds->d_in, err)) ||
        (st = load_size(f, "y_width", &ds->y_width, err)))
        return st;
    memcpy(&ds->seed, &seed, sizeof seed); /* the uint64's bits, see mtb_dataset_save */
    return MTB_OK;
}

mtb_status mtb_dataset_load(const char *path, mtb_dataset *ds, mtb_error *err)
{
    memset(ds, 0, sizeof *ds);
    mtb_h5 *f = mtb_h5_open(path, err);
    if (!f)
        return err ? err->status : MTB_EIO;
    mtb_status st;
    if ((st = load_header(f, ds, err)) || (st = load_split(f, ds, "train", &ds->train, err)) ||
        (st = load_split(f, ds, "test", &ds->test, err)) || (st = load_tasks(f, ds, err)))
        goto fail;
    /* The same rules as saving; a violation in a file is bad content (EIO), while a
     * non-finite value keeps its own status. */
    if ((st = mtb_dataset_check(ds, err))) {
        if (st == MTB_EINVAL) {
            st = MTB_EIO;
            if (err)
                err->status = st;
        }
        mtb_error_prefix(err, "%s: ", path);
        goto fail;
    }
    mtb_h5_close(f);
    return MTB_OK;
fail:
    mtb_h5_close(f);
    mtb_dataset_free(ds);
    return st;
}
