/* dataset.c: an mtb_dataset in memory and in its HDF5 form. The file layout is
 * documented (with an h5dump listing) in datasets/README.md; this file and that one
 * change together. The task table is stored column-wise (/tasks/<field>, one entry
 * per task) so that h5dump and h5py show it as a readable table. */
#include "mtb/dataset.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/syscall.h>
#endif

#include "h5_isolate.h"
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
    if (ds->storage) {
        munmap(ds->storage, ds->storage_len);
    } else {
        free(ds->train.x);
        free(ds->train.y);
        free(ds->test.x);
        free(ds->test.y);
    }
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

/* obj holds numbers of kind `kind` (and, when exact is not NULL, exactly that type):
 * the schema's element types are part of the format, so an int32 /train/x is refused
 * rather than converted. want names the schema's type in the message. */
static mtb_status expect_type(mtb_h5 *f, const char *obj, mtb_h5_kind kind, const char *exact,
                              const char *want, mtb_error *err)
{
    mtb_h5_kind k;
    char name[64];
    mtb_status st = mtb_h5_dtype(f, obj, &k, name, sizeof name, err);
    if (st)
        return st;
    if (k != kind || (exact && strcmp(name, exact) != 0))
        return mtb_fail(err, MTB_EIO, "%s: dataset %s holds %s, expected %s (the type of "
                        "datasets/README.md; with h5py, write it with dtype='%s')",
                        mtb_h5_path(f), obj, name, want, want);
    return MTB_OK;
}

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
    if ((st = expect_type(f, "/tasks/sigma", MTB_H5_FLOAT, NULL, "float64", err)) ||
        (st = mtb_h5_read_f64(f, "/tasks/sigma", 1, dims, &sigma, 1, err)))
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
    if ((st = expect_type(f, "/tasks/class_weights", MTB_H5_FLOAT, NULL, "float64", err)) ||
        (st = mtb_h5_read_f64(f, "/tasks/class_weights", 2, dims, &cw, 1, err)))
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

/* A positive int-valued root attribute. */
static mtb_status load_size(mtb_h5 *f, const char *name, int *out, mtb_error *err)
{
    int64_t v;
    mtb_status st = mtb_h5_attr_get_i64(f, "/", name, &v, err);
    if (st)
        return st;
    if (v < 1)
        return mtb_fail(err, MTB_EIO, "%s: root attribute %s = %lld, expected a size >= 1",
                        mtb_h5_path(f), name, (long long)v);
    if (v > INT_MAX)
        return mtb_fail(err, MTB_EIO, "%s: root attribute %s = %lld is too large (at most %d); "
                        "the file is damaged or was not written by an mtb data-set writer",
                        mtb_h5_path(f), name, (long long)v, INT_MAX);
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

/* ---- the isolated load ---------------------------------------------------------------
 * The whole load runs in a child process (mtb_h5_run_isolated): it opens the file, visits
 * every object and attribute (mtb_h5_walk), reads the header and the task table, and reads
 * the four arrays straight into a shared-memory file the parent made before the fork. The
 * parent never calls HDF5 on the file. It trusts nothing the child wrote: every size and
 * offset is checked against the shared file before use, and the data set then goes through
 * mtb_dataset_check like any other. The arrays are not copied: the parent maps the pages
 * the child filled, privately (copy-on-write), and mtb_dataset_free unmaps them. */

#define SHARED_MAGIC 0x6d74622d64617461ull /* "mtb-data" */
#define SHARED_ALIGN 4096                   /* each array starts on a page */

typedef struct shared_ds {
    uint64_t magic; /* written last by the child */
    char name[MTB_DATASET_NAME_LEN];
    char generator[MTB_DATASET_DESC_LEN];
    uint64_t seed;
    int64_t T, d_in, y_width;
    uint64_t n_train, n_test;
    uint64_t off[4]; /* train.x, train.y, test.x, test.y: byte offsets in the shared file */
    uint64_t end;    /* bytes used */
    /* then T mtb_task_spec */
} shared_ds;

typedef struct load_ctx {
    const char *path;
    size_t max_objects;
    unsigned char *arena; /* the shared file, mapped shared, arena_len bytes */
    size_t arena_len;
} load_ctx;

static uint64_t align_up(uint64_t x)
{
    return (x + SHARED_ALIGN - 1) / SHARED_ALIGN * SHARED_ALIGN;
}

static uint64_t tasks_end(uint64_t T) { return sizeof(shared_ds) + T * sizeof(mtb_task_spec); }

/* Child: one split's x and y, read into the shared file at *at (advanced). */
static mtb_status split_to_arena(mtb_h5 *f, const load_ctx *c, shared_ds *h, const char *name,
                                 int k, uint64_t *at, uint64_t *n_rows, mtb_error *err)
{
    const char *path = mtb_h5_path(f);
    char ox[32], oy[32];
    snprintf(ox, sizeof ox, "/%s/x", name);
    snprintf(oy, sizeof oy, "/%s/y", name);
    mtb_status st;
    if ((st = expect_type(f, ox, MTB_H5_FLOAT, "float32", "float32", err)) ||
        (st = expect_type(f, oy, MTB_H5_FLOAT, "float32", "float32", err)))
        return st;
    const char *obj[2] = {ox, oy};
    const int64_t width[2] = {h->d_in, h->y_width};
    size_t rows[2];
    for (int j = 0; j < 2; j++) {
        int rank;
        size_t dims[MTB_H5_MAX_RANK];
        if ((st = mtb_h5_shape(f, obj[j], &rank, dims, err)))
            return st;
        if (rank != 2)
            return mtb_fail(err, MTB_EIO, "%s: dataset %s has rank %d, expected 2", path,
                            obj[j], rank);
        if (dims[1] != (size_t)width[j])
            return mtb_fail(err, MTB_EIO, "%s: %s has %zu columns, expected %s = %lld (root "
                            "attribute%s)", path, obj[j], dims[1], j ? "y_width" : "d_in",
                            (long long)width[j], j ? "; the task table places targets in those "
                            "columns" : "; both splits must have the same inputs");
        uint64_t room = c->arena_len > *at ? c->arena_len - *at : 0;
        if (dims[0] && dims[1] > room / sizeof(float) / dims[0])
            return mtb_fail(err, MTB_EIO, "%s: %s declares %llu values (%zu x %zu), more than a "
                            "file of this size can store; the file is damaged", path, obj[j],
                            (unsigned long long)dims[0] * dims[1], dims[0], dims[1]);
        size_t n = dims[0] * dims[1];
        float *dst = (float *)(c->arena + *at);
        size_t got[2];
        /* Finiteness is left to mtb_dataset_check in the parent: one scan, not two. */
        if (n && (st = mtb_h5_read_f32_into(f, obj[j], 2, got, dst, n, 0, err)))
            return st;
        h->off[2 * k + j] = *at;
        *at = align_up(*at + n * sizeof(float));
        rows[j] = dims[0];
    }
    if (rows[0] != rows[1])
        return mtb_fail(err, MTB_EIO, "%s: %s has %zu rows but %s has %zu; every sample needs "
                        "one input row and one target row", path, ox, rows[0], oy, rows[1]);
    if (rows[0] == 0)
        return mtb_fail(err, MTB_EIO, "%s: the %s split has no samples (%s has 0 rows); a data "
                        "set needs at least one training and one test sample", path, name, ox);
    *n_rows = rows[0];
    return MTB_OK;
}

static mtb_status load_in_child(void *p, mtb_error *err)
{
    const load_ctx *c = p;
    shared_ds *h = (shared_ds *)c->arena;
    mtb_h5 *f = mtb_h5_open(c->path, err);
    if (!f)
        return err ? err->status : MTB_EIO;
    mtb_dataset ds = {0};
    mtb_status st = mtb_h5_walk(f, 0, c->max_objects, err);
    if (!st)
        st = load_header(f, &ds, err);
    /* The task table goes right after the header; every task takes bytes in the file. */
    uint64_t at = st ? 0 : align_up(tasks_end((uint64_t)ds.T));
    if (!st && at > c->arena_len)
        st = mtb_fail(err, MTB_EIO, "%s: root attribute tasks = %d is more than a file of this "
                      "size can describe; the file is damaged", c->path, ds.T);
    if (!st) {
        h->T = ds.T;
        h->d_in = ds.d_in;
        h->y_width = ds.y_width;
    }
    if (!st)
        st = split_to_arena(f, c, h, "train", 0, &at, &h->n_train, err);
    if (!st)
        st = split_to_arena(f, c, h, "test", 1, &at, &h->n_test, err);
    if (!st)
        st = load_tasks(f, &ds, err);
    mtb_h5_close(f);
    if (!st) {
        memcpy(h->name, ds.name, sizeof h->name);
        memcpy(h->generator, ds.generator, sizeof h->generator);
        h->seed = ds.seed;
        memcpy(c->arena + sizeof *h, ds.tasks, (size_t)ds.T * sizeof *ds.tasks);
        h->end = at;
        __atomic_store_n(&h->magic, SHARED_MAGIC, __ATOMIC_SEQ_CST);
    }
    mtb_dataset_free(&ds);
    return st;
}

/* Parent: the child's data set, every size and offset checked against the shared file;
 * the arrays become a private mapping of the pages the child wrote. */
static mtb_status from_arena(const load_ctx *c, int fd, mtb_dataset *ds, mtb_error *err)
{
    const shared_ds *h = (const shared_ds *)c->arena;
    const uint64_t lim = UINT64_MAX / 16;
    int ok = __atomic_load_n(&h->magic, __ATOMIC_SEQ_CST) == SHARED_MAGIC &&
             h->T >= 1 && h->T <= INT_MAX && h->d_in >= 1 && h->d_in <= INT_MAX &&
             h->y_width >= 1 && h->y_width <= INT_MAX && h->n_train <= lim / 4 / INT_MAX &&
             h->n_test <= lim / 4 / INT_MAX && h->end <= c->arena_len &&
             h->end >= align_up(tasks_end((uint64_t)h->T));
    const uint64_t rows[4] = {h->n_train, h->n_train, h->n_test, h->n_test};
    const uint64_t cols[4] = {(uint64_t)h->d_in, (uint64_t)h->y_width, (uint64_t)h->d_in,
                              (uint64_t)h->y_width};
    for (int i = 0; ok && i < 4; i++)
        ok = h->off[i] % SHARED_ALIGN == 0 && h->off[i] >= align_up(tasks_end((uint64_t)h->T)) &&
             h->off[i] <= h->end && rows[i] * cols[i] * sizeof(float) <= h->end - h->off[i];
    if (!ok)
        return mtb_fail(err, MTB_EIO, "%s: the process that read the file returned an unusable "
                        "data set", c->path);
    ds->T = (int)h->T;
    ds->d_in = (int)h->d_in;
    ds->y_width = (int)h->y_width;
    ds->seed = h->seed;
    memcpy(ds->name, h->name, sizeof ds->name);
    ds->name[sizeof ds->name - 1] = '\0';
    memcpy(ds->generator, h->generator, sizeof ds->generator);
    ds->generator[sizeof ds->generator - 1] = '\0';
    ds->tasks = malloc((size_t)h->T * sizeof *ds->tasks);
    if (!ds->tasks)
        return mtb_fail(err, MTB_ENOMEM, "%s: out of memory for %lld tasks", c->path,
                        (long long)h->T);
    memcpy(ds->tasks, c->arena + sizeof *h, (size_t)h->T * sizeof *ds->tasks);
    /* The arrays: the used part of the shared file, mapped privately. */
    size_t len = (size_t)h->end;
    void *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    if (m == MAP_FAILED)
        return mtb_fail(err, MTB_ENOMEM, "%s: cannot map the loaded data set (%zu bytes): %s",
                        c->path, len, strerror(errno));
    ds->storage = m;
    ds->storage_len = len;
#ifdef MADV_POPULATE_READ
    /* Map the child's pages in one call rather than one fault per page (Linux >= 5.14;
     * elsewhere the pages are mapped on first use). */
    (void)madvise((unsigned char *)m + h->off[0], len - (size_t)h->off[0], MADV_POPULATE_READ);
#endif
    unsigned char *b = m;
    ds->train.n = (size_t)h->n_train;
    ds->test.n = (size_t)h->n_test;
    ds->train.x = (float *)(b + h->off[0]);
    ds->train.y = (float *)(b + h->off[1]);
    ds->test.x = (float *)(b + h->off[2]);
    ds->test.y = (float *)(b + h->off[3]);
    return MTB_OK;
}

/* An anonymous shared-memory file of len bytes (pages are allocated only when written):
 * memfd on Linux, which no /dev/shm size limit applies to (a container's is often 64 MB),
 * else an unlinked POSIX shared-memory object. */
static int shared_file(size_t len)
{
    int fd = -1;
#if defined(__linux__) && defined(SYS_memfd_create)
    fd = (int)syscall(SYS_memfd_create, "mtb-load", 1u /* MFD_CLOEXEC */);
#endif
    static unsigned counter;
    for (int tries = 0; fd < 0 && tries < 16; tries++) {
        char name[64];
        snprintf(name, sizeof name, "/mtb-load-%ld-%u", (long)getpid(), counter++);
        fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600);
        if (fd >= 0)
            shm_unlink(name);
        else if (errno != EEXIST)
            return -1;
    }
    if (fd >= 0 && ftruncate(fd, (off_t)len) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

mtb_status mtb_dataset_load(const char *path, mtb_dataset *ds, mtb_error *err)
{
    return mtb_dataset_load_limits(path, NULL, ds, err);
}

mtb_status mtb_dataset_load_limits(const char *path, const mtb_h5_limits *limits,
                                   mtb_dataset *ds, mtb_error *err)
{
    memset(ds, 0, sizeof *ds);
    /* A missing or unreadable file is said directly, before any process is started. */
    uint64_t bytes;
    mtb_status st = mtb_h5_check_input(path, &bytes, err);
    if (st)
        return st;
    mtb_h5_limits lim;
    if (limits)
        lim = *limits;
    else
        mtb_h5_limits_default(&lim, bytes);
    /* In memory the arrays take at most what the file stores (float32 stays float32, and
     * the size rule of h5.h bounds every dataset by the file), the task table a few times
     * what its columns take, plus the header and page alignment. The file is sparse: only
     * the pages the child writes take memory. */
    uint64_t cap = align_up(sizeof(shared_ds)) + 4 * bytes + 5 * SHARED_ALIGN;
    if (cap > SIZE_MAX / 2 || cap > (uint64_t)INT64_MAX)
        return mtb_fail(err, MTB_ENOMEM, "%s: the file is too large to load", path);
    load_ctx c = {path, lim.max_objects, NULL, (size_t)cap};
    int fd = shared_file(c.arena_len);
    if (fd < 0)
        return mtb_fail(err, MTB_ENOMEM, "%s: cannot make shared memory for a %llu-byte data "
                        "set: %s", path, (unsigned long long)bytes, strerror(errno));
    void *m = mmap(NULL, c.arena_len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (m == MAP_FAILED) {
        int e = errno;
        close(fd);
        return mtb_fail(err, MTB_ENOMEM, "%s: cannot map shared memory for a %llu-byte data "
                        "set: %s", path, (unsigned long long)bytes, strerror(e));
    }
    c.arena = m;
    st = mtb_h5_run_isolated(load_in_child, &c, path, "an mtb data set", &lim, err);
    if (!st) {
        /* Drop the unused tail before the private mapping is made. */
        uint64_t end = ((const shared_ds *)m)->end;
        if (end > 0 && end <= c.arena_len)
            (void)ftruncate(fd, (off_t)end);
        st = from_arena(&c, fd, ds, err);
    }
    munmap(m, (size_t)cap);
    close(fd);
    if (st) {
        mtb_dataset_free(ds);
        return st;
    }
    /* The same rules as saving; a violation in a file is bad content (EIO), while a
     * non-finite value keeps its own status. */
    if ((st = mtb_dataset_check(ds, err))) {
        if (st == MTB_EINVAL) {
            st = MTB_EIO;
            if (err)
                err->status = st;
        }
        mtb_error_prefix(err, "%s: ", path);
        mtb_dataset_free(ds);
        return st;
    }
    return MTB_OK;
}
