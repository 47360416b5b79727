/* h5.c: the thin HDF5 layer (contract in mtb/h5.h). The only file of mtb that includes
 * <hdf5.h>, so a change of HDF5 API version touches nothing else.
 *
 * Structure: every public function saves HDF5's automatic error printer, switches it
 * off, calls a static worker and restores the printer, so a failing HDF5 call never
 * dumps its error stack on the user; the worker turns the failure into an MTB_EIO with
 * the file and object name instead. Workers release every handle at one `fail:` label. */
#include "mtb/h5.h"
#include "h5_isolate.h"

#include <errno.h>
#include <fcntl.h>
#include <hdf5.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct mtb_h5 {
    hid_t file;
    hid_t lapl;          /* link access: external links refused (deny_external_link) */
    char *path;          /* the name the user asked for */
    char *tmp;           /* "<path>.tmp" while writing; NULL for a file opened to read */
    int tmp_slot;        /* its entry in the temporaries table, or -1 */
    uint64_t file_bytes; /* size on disk when opened to read; UINT64_MAX while writing */
    uint64_t max_value_bytes; /* mtb_h5_limits.max_value_bytes; 0 = none */
};

/* ---- temporaries, for a signal handler ------------------------------------------ */

/* The "<path>.tmp" strings of the handles being written. A slot is set after the string is
 * complete and cleared before it is freed, so a handler that reads a slot sees either NULL
 * or a valid string. */
static const char *volatile g_tmp[MTB_H5_MAX_TEMPORARIES];

static int tmp_register(const char *tmp)
{
    for (int i = 0; i < MTB_H5_MAX_TEMPORARIES; i++)
        if (!g_tmp[i]) {
            g_tmp[i] = tmp;
            return i;
        }
    return -1;
}

static void tmp_unregister(int slot)
{
    if (slot >= 0 && slot < MTB_H5_MAX_TEMPORARIES)
        g_tmp[slot] = NULL;
}

void mtb_h5_remove_temporaries(void)
{
    for (int i = 0; i < MTB_H5_MAX_TEMPORARIES; i++) {
        const char *t = g_tmp[i];
        if (t)
            unlink(t);
    }
}

/* ---- silencing HDF5's error printer ------------------------------------------- */

typedef struct quiet {
    H5E_auto2_t func;
    void *data;
    int saved;
} quiet;

static quiet quiet_begin(void)
{
    quiet q = {NULL, NULL, 0};
    if (H5Eget_auto2(H5E_DEFAULT, &q.func, &q.data) >= 0)
        q.saved = 1;
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    return q;
}

static void quiet_end(quiet q)
{
    /* Restore only what was read: if the read failed, leaving printing off is the
     * lesser harm than installing a garbage handler. */
    if (q.saved)
        H5Eset_auto2(H5E_DEFAULT, q.func, q.data);
}

/* ---- small helpers ------------------------------------------------------------ */

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

/* A copy of at most n bytes of s, stopping at its first NUL (fixed-length strings). */
static char *dup_strn(const char *s, size_t n)
{
    size_t k = 0;
    while (k < n && s[k])
        k++;
    char *d = malloc(k + 1);
    if (d) {
        memcpy(d, s, k);
        d[k] = '\0';
    }
    return d;
}

/* Fails with "<file>: <message>". */
static mtb_status ffail(const mtb_h5 *f, mtb_error *err, mtb_status st, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static mtb_status ffail(const mtb_h5 *f, mtb_error *err, mtb_status st, const char *fmt, ...)
{
    char msg[MTB_ERRMSG_LEN];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return mtb_fail(err, st, "%s: %s", f ? f->path : "(no file)", msg);
}

static mtb_status check_file(const mtb_h5 *f, const char *obj, mtb_error *err)
{
    if (!f)
        return mtb_fail(err, MTB_EINVAL, "h5: no file given (NULL handle)");
    if (!obj || !*obj)
        return ffail(f, err, MTB_EINVAL, "empty object name; use \"/\" for the file itself");
    return MTB_OK;
}

static mtb_status check_writable(const mtb_h5 *f, const char *obj, mtb_error *err)
{
    mtb_status st = check_file(f, obj, err);
    if (st)
        return st;
    if (!f->tmp)
        return ffail(f, err, MTB_EINVAL, "cannot write %s: the file was opened read-only", obj);
    return MTB_OK;
}

/* 1 if every link along obj exists and the last one resolves to an object. Walking the
 * path avoids H5Lexists' failure on a missing intermediate group. */
static int path_exists(const mtb_h5 *f, const char *obj)
{
    hid_t file = f->file, lapl = f->lapl;
    size_t len = strlen(obj);
    char *buf = malloc(len + 1);
    if (!buf)
        return 0;
    memcpy(buf, obj, len + 1);
    while (len > 1 && buf[len - 1] == '/')
        buf[--len] = '\0';
    int ok = 1;
    if (strcmp(buf, "/") != 0) {
        for (char *p = buf;; p++) {
            if (*p == '/' || *p == '\0') {
                char c = *p;
                *p = '\0';
                if (p > buf && p[-1] != '/' && H5Lexists(file, buf, lapl) <= 0) {
                    ok = 0;
                    break;
                }
                *p = c;
                if (!c)
                    break;
            }
        }
        if (ok && H5Oexists_by_name(file, buf, lapl) <= 0)
            ok = 0;
    }
    free(buf);
    return ok;
}

/* H5I_GROUP, H5I_DATASET, ... of the object at obj, or H5I_BADID. */
static H5I_type_t object_type(const mtb_h5 *f, const char *obj)
{
    if (!path_exists(f, obj))
        return H5I_BADID;
    hid_t o = H5Oopen(f->file, obj, f->lapl);
    if (o < 0)
        return H5I_BADID;
    H5I_type_t t = H5Iget_type(o);
    H5Oclose(o);
    return t;
}

/* 1 when a number type has a size mtb's readers convert from: integers of 1, 2, 4 or 8
 * bytes, floats of 2, 4 or 8. Anything else is a damaged or exotic type. */
static int plain_number_size(hid_t t)
{
    size_t n = H5Tget_size(t);
    switch (H5Tget_class(t)) {
    case H5T_FLOAT: return n == 2 || n == 4 || n == 8;
    case H5T_INTEGER: return n == 1 || n == 2 || n == 4 || n == 8;
    case H5T_ENUM: {
        hid_t super = H5Tget_super(t);
        int ok = super >= 0 && H5Tget_class(super) == H5T_INTEGER && plain_number_size(super);
        if (super >= 0)
            H5Tclose(super);
        return ok;
    }
    default: return 0;
    }
}

static void type_name(hid_t t, char *buf, size_t len)
{
    size_t size = H5Tget_size(t);
    H5T_class_t cls = H5Tget_class(t);
    if ((cls == H5T_FLOAT || cls == H5T_INTEGER) && !plain_number_size(t)) {
        snprintf(buf, len, "%s of %zu bytes (damaged or unsupported)",
                 cls == H5T_FLOAT ? "a float" : "an integer", size);
        return;
    }
    size_t bits = 8 * size;
    switch (cls) {
    case H5T_FLOAT: snprintf(buf, len, "float%zu", bits); break;
    case H5T_INTEGER:
        snprintf(buf, len, "%sint%zu", H5Tget_sign(t) == H5T_SGN_NONE ? "u" : "", bits);
        break;
    case H5T_ENUM: {
        hid_t super = H5Tget_super(t);
        char base[64] = "?";
        if (super >= 0) {
            type_name(super, base, sizeof base);
            H5Tclose(super);
        }
        snprintf(buf, len, "enum(%s)", base);
        break;
    }
    case H5T_STRING: snprintf(buf, len, "string"); break;
    case H5T_COMPOUND: snprintf(buf, len, "compound"); break;
    case H5T_ARRAY: snprintf(buf, len, "array"); break;
    case H5T_VLEN: snprintf(buf, len, "vlen"); break;
    default: snprintf(buf, len, "non-numeric type"); break;
    }
}

static mtb_h5_kind type_kind(hid_t t)
{
    H5T_class_t cls = H5Tget_class(t);
    if ((cls == H5T_FLOAT || cls == H5T_INTEGER || cls == H5T_ENUM) && !plain_number_size(t))
        return MTB_H5_OTHER;
    switch (cls) {
    case H5T_FLOAT: return MTB_H5_FLOAT;
    case H5T_INTEGER:
    case H5T_ENUM: return MTB_H5_INT;
    case H5T_STRING: return MTB_H5_STRING;
    default: return MTB_H5_OTHER;
    }
}

#define MIB ((uint64_t)1 << 20)
#define FILTER_RATIO 64 /* how much larger than the file compressed values may declare */

/* The size rule of h5.h: n values of file type ftype, declared by the object `what`, must
 * fit in max(file size, 1 MiB) bytes (FILTER_RATIO times that when the values are
 * compressed) and in the handle's max_value_bytes. Checked before anything is allocated,
 * so a damaged shape cannot make a reader ask for terabytes. */
static mtb_status check_declared(const mtb_h5 *f, const char *what, size_t n, hid_t ftype,
                                 int filtered, mtb_error *err)
{
    size_t es = H5Tget_size(ftype);
    if (es == 0)
        return ffail(f, err, MTB_EIO, "%s has an element type of size 0 (damaged)", what);
    uint64_t cap = f->file_bytes < MIB ? MIB : f->file_bytes;
    if (filtered)
        cap = cap > UINT64_MAX / FILTER_RATIO ? UINT64_MAX : cap * FILTER_RATIO;
    if (f->max_value_bytes && cap > f->max_value_bytes)
        cap = f->max_value_bytes;
    if (n && (uint64_t)es > cap / n)
        return ffail(f, err, MTB_EIO, "%s declares %zu values of %zu bytes, more than the "
                     "%llu bytes a file of this size can hold%s; the file is damaged", what, n,
                     es, (unsigned long long)cap, filtered ? " compressed" : "");
    return MTB_OK;
}

/* Opens obj as a dataset, with a message that says what is there instead. Refuses values
 * stored outside the file (virtual datasets, external storage); *filtered (may be NULL)
 * tells whether the values pass through a filter (compression). */
static mtb_status open_dataset(const mtb_h5 *f, const char *obj, hid_t *out, int *filtered,
                               mtb_error *err)
{
    *out = H5I_INVALID_HID;
    mtb_isolate_note2("dataset", obj);
    if (!path_exists(f, obj))
        return ffail(f, err, MTB_EIO, "no dataset %s in this file (check the name; "
                                      "`mtb export FILE --list` shows what the file holds)", obj);
    hid_t o = H5Oopen(f->file, obj, f->lapl);
    if (o < 0)
        return ffail(f, err, MTB_EIO, "cannot open %s (the file is damaged?)", obj);
    H5I_type_t t = H5Iget_type(o);
    if (t != H5I_DATASET) {
        H5Oclose(o);
        return ffail(f, err, MTB_EIO, "%s is a %s, expected a dataset", obj,
                     t == H5I_GROUP ? "group" : "named datatype");
    }
    hid_t dcpl = H5Dget_create_plist(o);
    H5D_layout_t layout = dcpl >= 0 ? H5Pget_layout(dcpl) : H5D_LAYOUT_ERROR;
    int n_ext = dcpl >= 0 ? H5Pget_external_count(dcpl) : -1;
    int n_filters = dcpl >= 0 ? H5Pget_nfilters(dcpl) : -1;
    if (dcpl >= 0)
        H5Pclose(dcpl);
    mtb_status st = MTB_OK;
    if (layout == H5D_LAYOUT_ERROR || n_ext < 0 || n_filters < 0)
        st = ffail(f, err, MTB_EIO, "cannot read the storage properties of %s (damaged?)", obj);
    else if (layout == H5D_VIRTUAL)
        st = ffail(f, err, MTB_EIO, "%s is a virtual dataset (its values live in other files); "
                   "mtb reads only self-contained files", obj);
    else if (n_ext > 0)
        st = ffail(f, err, MTB_EIO, "%s keeps its values in %d external file%s; mtb reads only "
                   "self-contained files", obj, n_ext, n_ext == 1 ? "" : "s");
    if (st) {
        H5Oclose(o);
        return st;
    }
    if (filtered)
        *filtered = n_filters > 0;
    *out = o;
    return MTB_OK;
}

/* Rank and dims (hsize_t and size_t) of a dataspace; scalar = rank 0. */
static mtb_status space_shape(const mtb_h5 *f, const char *what, hid_t space, int *rank,
                              size_t *dims, size_t *count, mtb_error *err)
{
    H5S_class_t cls = H5Sget_simple_extent_type(space);
    if (cls == H5S_NULL)
        return ffail(f, err, MTB_EIO, "%s has an empty (null) dataspace", what);
    if (cls == H5S_SCALAR) {
        *rank = 0;
        *count = 1;
        return MTB_OK;
    }
    int r = H5Sget_simple_extent_ndims(space);
    if (r < 0 || cls != H5S_SIMPLE)
        return ffail(f, err, MTB_EIO, "cannot read the shape of %s", what);
    if (r > MTB_H5_MAX_RANK)
        return ffail(f, err, MTB_EIO, "%s has rank %d; mtb reads ranks up to %d", what, r,
                     MTB_H5_MAX_RANK);
    hsize_t hd[MTB_H5_MAX_RANK];
    if (H5Sget_simple_extent_dims(space, hd, NULL) < 0)
        return ffail(f, err, MTB_EIO, "cannot read the shape of %s", what);
    size_t n = 1;
    for (int i = 0; i < r; i++) {
        if (hd[i] > (hsize_t)SIZE_MAX || (hd[i] && n > SIZE_MAX / (size_t)hd[i]))
            return ffail(f, err, MTB_EIO, "%s is too large to hold in memory", what);
        if (dims)
            dims[i] = (size_t)hd[i];
        n *= (size_t)hd[i];
    }
    *rank = r;
    *count = n;
    return MTB_OK;
}

/* "[3, 7]": the multi-index of flat element i in a row-major array of shape dims. */
static void index_str(size_t i, int rank, const size_t *dims, char *buf, size_t len)
{
    size_t idx[MTB_H5_MAX_RANK];
    for (int k = rank - 1; k >= 0; k--) {
        idx[k] = dims[k] ? i % dims[k] : 0;
        i = dims[k] ? i / dims[k] : 0;
    }
    size_t used = (size_t)snprintf(buf, len, "[");
    for (int k = 0; k < rank && used < len; k++)
        used += (size_t)snprintf(buf + used, len - used, "%s%zu", k ? ", " : "", idx[k]);
    if (used < len)
        snprintf(buf + used, len - used, "]");
}

/* ---- files -------------------------------------------------------------------- */

/* External links name another file, which mtb would then open unchecked: refused. */
static herr_t deny_external_link(const char *parent_file, const char *parent_group,
                                 const char *child_file, const char *child_object,
                                 unsigned *acc_flags, hid_t fapl, void *op_data)
{
    (void)parent_file, (void)parent_group, (void)child_file, (void)child_object;
    (void)acc_flags, (void)fapl, (void)op_data;
    return -1;
}

static mtb_h5 *handle_new(const char *path, int writing, mtb_error *err)
{
    mtb_h5 *f = calloc(1, sizeof *f);
    if (!f) {
        mtb_fail(err, MTB_ENOMEM, "%s: out of memory", path);
        return NULL;
    }
    f->file = H5I_INVALID_HID;
    f->tmp_slot = -1;
    f->file_bytes = UINT64_MAX;
    f->lapl = H5Pcreate(H5P_LINK_ACCESS);
    if (f->lapl >= 0 && H5Pset_elink_cb(f->lapl, deny_external_link, NULL) < 0) {
        H5Pclose(f->lapl);
        f->lapl = H5I_INVALID_HID;
    }
    if (f->lapl < 0) {
        free(f);
        mtb_fail(err, MTB_EIO, "%s: cannot set up HDF5 link access", path);
        return NULL;
    }
    f->path = dup_str(path);
    if (writing) {
        size_t n = strlen(path);
        f->tmp = malloc(n + 5);
        if (f->tmp)
            snprintf(f->tmp, n + 5, "%s.tmp", path);
    }
    if (!f->path || (writing && !f->tmp)) {
        H5Pclose(f->lapl);
        free(f->path);
        free(f->tmp);
        free(f);
        mtb_fail(err, MTB_ENOMEM, "%s: out of memory", path);
        return NULL;
    }
    return f;
}

static void handle_free(mtb_h5 *f)
{
    tmp_unregister(f->tmp_slot);
    H5Pclose(f->lapl);
    free(f->path);
    free(f->tmp);
    free(f);
}

/* Object creation properties without modification times, so that the same content gives
 * the same bytes (HDF5 records a time in every object header by default). */
static hid_t no_times(hid_t cls)
{
    hid_t p = H5Pcreate(cls);
    if (p >= 0 && H5Pset_obj_track_times(p, 0) < 0) {
        H5Pclose(p);
        return H5I_INVALID_HID;
    }
    return p;
}

mtb_h5 *mtb_h5_create(const char *path, mtb_error *err)
{
    if (!path || !*path) {
        mtb_fail(err, MTB_EINVAL, "h5: empty output file name");
        return NULL;
    }
    mtb_h5 *f = handle_new(path, 1, err);
    if (!f)
        return NULL;
    quiet q = quiet_begin();
    /* Recorded before the file exists, so that a signal arriving during H5Fcreate finds it. */
    f->tmp_slot = tmp_register(f->tmp);
    /* the root group without modification times too (a file creation property list is a
     * group creation one) */
    hid_t fcpl = no_times(H5P_FILE_CREATE);
    f->file = H5Fcreate(f->tmp, H5F_ACC_TRUNC, fcpl >= 0 ? fcpl : H5P_DEFAULT, H5P_DEFAULT);
    if (fcpl >= 0)
        H5Pclose(fcpl);
    quiet_end(q);
    if (f->file < 0) {
        /* HDF5 does not keep errno; ask the file system the same question. */
        int e = 0, fd = open(f->tmp, O_WRONLY | O_CREAT, 0666);
        if (fd < 0)
            e = errno;
        else {
            close(fd);
            unlink(f->tmp);
        }
        if (e)
            mtb_fail(err, MTB_EIO, "%s: cannot create the temporary file %s: %s", path, f->tmp,
                     strerror(e));
        else
            mtb_fail(err, MTB_EIO, "%s: HDF5 cannot create the temporary file %s", path, f->tmp);
        handle_free(f);
        return NULL;
    }
    return f;
}

mtb_status mtb_h5_commit(mtb_h5 *f, mtb_error *err)
{
    if (!f)
        return mtb_fail(err, MTB_EINVAL, "h5: commit of a NULL file handle");
    if (!f->tmp) {
        mtb_h5_close(f);
        return mtb_fail(err, MTB_EINVAL, "h5: commit of a file opened read-only");
    }
    mtb_status st = MTB_OK;
    quiet q = quiet_begin();
    herr_t fl = H5Fflush(f->file, H5F_SCOPE_GLOBAL);
    herr_t cl = H5Fclose(f->file);
    quiet_end(q);
    if (fl < 0 || cl < 0) {
        st = mtb_fail(err, MTB_EIO, "%s: cannot write %s to disk (disk full?); nothing was "
                      "written to %s", f->path, f->tmp, f->path);
        remove(f->tmp);
    } else if (rename(f->tmp, f->path) != 0) {
        int e = errno;
        st = mtb_fail(err, MTB_EIO, "%s: cannot rename %s to it: %s", f->path, f->tmp,
                      strerror(e));
        remove(f->tmp);
    }
    /* After the rename the temporary name is gone: a signal now must not unlink a file
     * that someone else may create under that name. */
    tmp_unregister(f->tmp_slot);
    f->tmp_slot = -1;
    handle_free(f);
    return st;
}

void mtb_h5_discard(mtb_h5 *f)
{
    if (!f)
        return;
    quiet q = quiet_begin();
    if (f->file >= 0)
        H5Fclose(f->file);
    quiet_end(q);
    if (f->tmp)
        remove(f->tmp);
    handle_free(f);
}

/* What every open checks before HDF5 sees the file: a name, a regular file, readable by
 * this process. *sb receives its status. O_NONBLOCK: a FIFO put in its place after the
 * stat must not block the open. */
static mtb_status input_file(const char *path, struct stat *sb, mtb_error *err)
{
    if (!path || !*path)
        return mtb_fail(err, MTB_EINVAL, "h5: empty input file name");
    if (stat(path, sb) != 0) {
        int e = errno;
        return mtb_fail(err, MTB_EIO, "%s: cannot open: %s", path, strerror(e));
    }
    if (S_ISDIR(sb->st_mode))
        return mtb_fail(err, MTB_EIO, "%s: is a directory, expected an HDF5 file", path);
    if (!S_ISREG(sb->st_mode))
        return mtb_fail(err, MTB_EIO, "%s: is not a regular file (a device, pipe or socket), "
                        "expected an HDF5 file", path);
    /* H5Fis_hdf5 answers "no" for a file it cannot read; say why instead. */
    int fd = open(path, O_RDONLY | O_NONBLOCK);
    if (fd < 0) {
        int e = errno;
        return mtb_fail(err, MTB_EIO, "%s: cannot open: %s", path, strerror(e));
    }
    int ok = fstat(fd, sb) == 0 && S_ISREG(sb->st_mode);
    close(fd);
    if (!ok)
        return mtb_fail(err, MTB_EIO, "%s: is not a regular file, expected an HDF5 file", path);
    return MTB_OK;
}

mtb_status mtb_h5_check_input(const char *path, uint64_t *bytes, mtb_error *err)
{
    struct stat sb;
    mtb_status st = input_file(path, &sb, err);
    if (!st && bytes)
        *bytes = (uint64_t)sb.st_size;
    return st;
}

mtb_h5 *mtb_h5_open(const char *path, mtb_error *err)
{
    struct stat sb;
    if (input_file(path, &sb, err))
        return NULL;
    mtb_h5 *f = handle_new(path, 0, err);
    if (!f)
        return NULL;
    f->file_bytes = (uint64_t)sb.st_size;
    mtb_isolate_note("the file's superblock");
    quiet q = quiet_begin();
    htri_t is = H5Fis_hdf5(path);
    if (is > 0)
        f->file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    quiet_end(q);
    if (is <= 0) {
        mtb_fail(err, MTB_EIO, "%s: not an HDF5 file", path);
        handle_free(f);
        return NULL;
    }
    if (f->file < 0) {
        mtb_fail(err, MTB_EIO, "%s: cannot open as HDF5 (damaged, or locked by a writer?)", path);
        handle_free(f);
        return NULL;
    }
    return f;
}

void mtb_h5_close(mtb_h5 *f)
{
    if (!f)
        return;
    quiet q = quiet_begin();
    if (f->file >= 0)
        H5Fclose(f->file);
    quiet_end(q);
    /* A writable handle closed without commit is a discard: never leave a .tmp. */
    if (f->tmp)
        remove(f->tmp);
    handle_free(f);
}

const char *mtb_h5_path(const mtb_h5 *f) { return f ? f->path : NULL; }

/* ---- writing datasets ---------------------------------------------------------- */

/* Creates the missing parent groups of obj, without times (a link creation property list
 * that creates intermediate groups would give them the default, timed, properties). */
static int make_parents(hid_t file, const char *obj)
{
    char buf[1024];
    if (strlen(obj) >= sizeof buf)
        return -1;
    strcpy(buf, obj);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (H5Lexists(file, buf, H5P_DEFAULT) <= 0) {
            hid_t gcpl = no_times(H5P_GROUP_CREATE);
            hid_t g = gcpl >= 0 ? H5Gcreate2(file, buf, H5P_DEFAULT, gcpl, H5P_DEFAULT) : -1;
            if (gcpl >= 0)
                H5Pclose(gcpl);
            if (g < 0)
                return -1;
            H5Gclose(g);
        }
        *p = '/';
    }
    return 0;
}

static hid_t lcpl_intermediate(void)
{
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    if (lcpl >= 0 && H5Pset_create_intermediate_group(lcpl, 1) < 0) {
        H5Pclose(lcpl);
        return H5I_INVALID_HID;
    }
    return lcpl;
}

/* Creates obj with file type ftype and shape (rank, dims), and writes data (memory
 * type mtype) into it unless data is NULL (strings pass their own buffer). */
static mtb_status write_dataset(mtb_h5 *f, const char *obj, int rank, const size_t *dims,
                                hid_t ftype, hid_t mtype, const void *data, mtb_error *err)
{
    mtb_status st = check_writable(f, obj, err);
    if (st)
        return st;
    if (rank < 0 || rank > MTB_H5_MAX_RANK)
        return ffail(f, err, MTB_EINVAL, "%s: rank %d is outside [0, %d]", obj, rank,
                     MTB_H5_MAX_RANK);
    if (rank > 0 && !dims)
        return ffail(f, err, MTB_EINVAL, "%s: rank %d but no dims given", obj, rank);
    if (path_exists(f, obj))
        return ffail(f, err, MTB_EINVAL, "%s already exists; each object is written once", obj);
    hsize_t hd[MTB_H5_MAX_RANK];
    size_t n = 1;
    for (int i = 0; i < rank; i++) {
        hd[i] = (hsize_t)dims[i];
        n *= dims[i];
    }
    if (n > 0 && !data)
        return ffail(f, err, MTB_EINVAL, "%s: no data given for %zu values", obj, n);

    hid_t space = H5I_INVALID_HID, lcpl = H5I_INVALID_HID, dset = H5I_INVALID_HID;
    space = rank ? H5Screate_simple(rank, hd, NULL) : H5Screate(H5S_SCALAR);
    lcpl = lcpl_intermediate();
    if (space < 0 || lcpl < 0) {
        st = ffail(f, err, MTB_EIO, "%s: cannot set up the dataspace", obj);
        goto fail;
    }
    hid_t dcpl = no_times(H5P_DATASET_CREATE);
    dset = dcpl >= 0 && !make_parents(f->file, obj)
               ? H5Dcreate2(f->file, obj, ftype, space, lcpl, dcpl, H5P_DEFAULT)
               : H5I_INVALID_HID;
    if (dcpl >= 0)
        H5Pclose(dcpl);
    if (dset < 0) {
        st = ffail(f, err, MTB_EIO, "cannot create dataset %s (is a parent a dataset?)", obj);
        goto fail;
    }
    /* Zero-sized datasets have nothing to write, and HDF5 rejects a NULL buffer. */
    if (n > 0 && H5Dwrite(dset, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0)
        st = ffail(f, err, MTB_EIO, "cannot write dataset %s (disk full?)", obj);
fail:
    if (dset >= 0)
        H5Dclose(dset);
    if (lcpl >= 0)
        H5Pclose(lcpl);
    if (space >= 0)
        H5Sclose(space);
    return st;
}

mtb_status mtb_h5_write_f32(mtb_h5 *f, const char *obj, int rank, const size_t *dims,
                            const float *data, mtb_error *err)
{
    quiet q = quiet_begin();
    mtb_status st = write_dataset(f, obj, rank, dims, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, data, err);
    quiet_end(q);
    return st;
}

mtb_status mtb_h5_write_f64(mtb_h5 *f, const char *obj, int rank, const size_t *dims,
                            const double *data, mtb_error *err)
{
    quiet q = quiet_begin();
    mtb_status st = write_dataset(f, obj, rank, dims, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, data, err);
    quiet_end(q);
    return st;
}

mtb_status mtb_h5_write_i64(mtb_h5 *f, const char *obj, int rank, const size_t *dims,
                            const int64_t *data, mtb_error *err)
{
    quiet q = quiet_begin();
    mtb_status st = write_dataset(f, obj, rank, dims, H5T_STD_I64LE, H5T_NATIVE_INT64, data, err);
    quiet_end(q);
    return st;
}

mtb_status mtb_h5_write_u8(mtb_h5 *f, const char *obj, int rank, const size_t *dims,
                           const uint8_t *data, mtb_error *err)
{
    quiet q = quiet_begin();
    mtb_status st = write_dataset(f, obj, rank, dims, H5T_STD_U8LE, H5T_NATIVE_UINT8, data, err);
    quiet_end(q);
    return st;
}

/* Variable-length UTF-8 C strings: what h5py writes for Python str, so both sides
 * read each other's files without options. */
static hid_t vlen_utf8(void)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    if (t >= 0 && (H5Tset_size(t, H5T_VARIABLE) < 0 || H5Tset_cset(t, H5T_CSET_UTF8) < 0)) {
        H5Tclose(t);
        return H5I_INVALID_HID;
    }
    return t;
}

mtb_status mtb_h5_write_strs(mtb_h5 *f, const char *obj, size_t n, const char *const *strs,
                             mtb_error *err)
{
    quiet q = quiet_begin();
    mtb_status st = check_writable(f, obj, err);
    if (!st && n > 0 && !strs)
        st = ffail(f, err, MTB_EINVAL, "%s: no strings given", obj);
    for (size_t i = 0; !st && i < n; i++)
        if (!strs[i])
            st = ffail(f, err, MTB_EINVAL, "%s: string %zu is NULL", obj, i);
    if (!st) {
        hid_t t = vlen_utf8();
        if (t < 0)
            st = ffail(f, err, MTB_EIO, "%s: cannot make the string type", obj);
        else {
            st = write_dataset(f, obj, 1, &n, t, t, strs, err);
            H5Tclose(t);
        }
    }
    quiet_end(q);
    return st;
}

static mtb_status make_group(mtb_h5 *f, const char *obj, mtb_error *err)
{
    mtb_status st = check_writable(f, obj, err);
    if (st)
        return st;
    if (path_exists(f, obj)) {
        if (object_type(f, obj) != H5I_GROUP)
            return ffail(f, err, MTB_EINVAL, "%s exists and is not a group", obj);
        return MTB_OK;
    }
    hid_t lcpl = lcpl_intermediate();
    if (lcpl < 0)
        return ffail(f, err, MTB_EIO, "%s: cannot set up group creation", obj);
    hid_t gcpl = no_times(H5P_GROUP_CREATE);
    hid_t g = gcpl >= 0 && !make_parents(f->file, obj)
                  ? H5Gcreate2(f->file, obj, lcpl, gcpl, H5P_DEFAULT)
                  : H5I_INVALID_HID;
    if (gcpl >= 0)
        H5Pclose(gcpl);
    H5Pclose(lcpl);
    if (g < 0)
        return ffail(f, err, MTB_EIO, "cannot create group %s (is a parent a dataset?)", obj);
    H5Gclose(g);
    return MTB_OK;
}

mtb_status mtb_h5_group(mtb_h5 *f, const char *obj, mtb_error *err)
{
    quiet q = quiet_begin();
    mtb_status st = make_group(f, obj, err);
    quiet_end(q);
    return st;
}

/* ---- writing attributes -------------------------------------------------------- */

/* Creates (or replaces) scalar attribute name on obj and writes *value of mtype. */
/* n == 0: a scalar attribute; n >= 1: a rank-1 attribute of n values. */
static mtb_status write_attr_n(mtb_h5 *f, const char *obj, const char *name, hid_t ftype,
                               hid_t mtype, size_t n, const void *value, mtb_error *err)
{
    mtb_status st = check_writable(f, obj, err);
    if (st)
        return st;
    if (!name || !*name)
        return ffail(f, err, MTB_EINVAL, "%s: empty attribute name", obj);
    if (!path_exists(f, obj))
        return ffail(f, err, MTB_EINVAL, "cannot set attribute %s on %s: the object does not "
                     "exist (create the group or dataset first)", name, obj);
    htri_t ex = H5Aexists_by_name(f->file, obj, name, H5P_DEFAULT);
    if (ex < 0 || (ex > 0 && H5Adelete_by_name(f->file, obj, name, H5P_DEFAULT) < 0))
        return ffail(f, err, MTB_EIO, "cannot replace attribute %s on %s", name, obj);
    hsize_t dim = (hsize_t)n;
    hid_t space = n ? H5Screate_simple(1, &dim, NULL) : H5Screate(H5S_SCALAR), attr = H5I_INVALID_HID;
    if (space < 0) {
        st = ffail(f, err, MTB_EIO, "attribute %s on %s: cannot make a dataspace", name, obj);
        goto fail;
    }
    attr = H5Acreate_by_name(f->file, obj, name, ftype, space, H5P_DEFAULT, H5P_DEFAULT,
                             H5P_DEFAULT);
    if (attr < 0 || H5Awrite(attr, mtype, value) < 0)
        st = ffail(f, err, MTB_EIO, "cannot write attribute %s on %s", name, obj);
fail:
    if (attr >= 0)
        H5Aclose(attr);
    if (space >= 0)
        H5Sclose(space);
    return st;
}

static mtb_status write_attr(mtb_h5 *f, const char *obj, const char *name, hid_t ftype,
                             hid_t mtype, const void *value, mtb_error *err)
{
    return write_attr_n(f, obj, name, ftype, mtype, 0, value, err);
}

mtb_status mtb_h5_attr_strs(mtb_h5 *f, const char *obj, const char *name, size_t n,
                            const char *const *strs, mtb_error *err)
{
    quiet q = quiet_begin();
    mtb_status st = MTB_OK;
    for (size_t i = 0; i < n && !st; i++)
        if (!strs[i])
            st = ffail(f, err, MTB_EINVAL, "attribute %s on %s: string %zu is NULL", name ? name : "?",
                       obj ? obj : "?", i);
    hid_t t = vlen_utf8();
    if (!st && n == 0)
        st = ffail(f, err, MTB_EINVAL, "attribute %s on %s: no strings", name ? name : "?", obj ? obj : "?");
    else if (!st && t < 0)
        st = ffail(f, err, MTB_EIO, "cannot make the string type");
    else if (!st)
        st = write_attr_n(f, obj, name, t, t, n, strs, err);
    if (t >= 0)
        H5Tclose(t);
    quiet_end(q);
    return st;
}

mtb_status mtb_h5_attr_str(mtb_h5 *f, const char *obj, const char *name, const char *value,
                           mtb_error *err)
{
    quiet q = quiet_begin();
    mtb_status st;
    hid_t t = vlen_utf8();
    if (!value)
        st = ffail(f, err, MTB_EINVAL, "attribute %s on %s: NULL string", name ? name : "?",
                   obj ? obj : "?");
    else if (t < 0)
        st = ffail(f, err, MTB_EIO, "cannot make the string type");
    else
        st = write_attr(f, obj, name, t, t, &value, err);
    if (t >= 0)
        H5Tclose(t);
    quiet_end(q);
    return st;
}

mtb_status mtb_h5_attr_f64(mtb_h5 *f, const char *obj, const char *name, double value,
                           mtb_error *err)
{
    quiet q = quiet_begin();
    mtb_status st = write_attr(f, obj, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &value, err);
    quiet_end(q);
    return st;
}

mtb_status mtb_h5_attr_i64(mtb_h5 *f, const char *obj, const char *name, int64_t value,
                           mtb_error *err)
{
    quiet q = quiet_begin();
    mtb_status st = write_attr(f, obj, name, H5T_STD_I64LE, H5T_NATIVE_INT64, &value, err);
    quiet_end(q);
    return st;
}

/* ---- reading: existence ---------------------------------------------------------- */

int mtb_h5_exists(mtb_h5 *f, const char *obj)
{
    if (!f || !obj || !*obj)
        return 0;
    quiet q = quiet_begin();
    int e = path_exists(f, obj);
    quiet_end(q);
    return e;
}

int mtb_h5_attr_exists(mtb_h5 *f, const char *obj, const char *name)
{
    if (!f || !obj || !*obj || !name)
        return 0;
    quiet q = quiet_begin();
    int e = path_exists(f, obj) && H5Aexists_by_name(f->file, obj, name, f->lapl) > 0;
    quiet_end(q);
    return e;
}

int mtb_h5_is_group(mtb_h5 *f, const char *obj)
{
    if (!f || !obj || !*obj)
        return 0;
    quiet q = quiet_begin();
    int g = object_type(f, obj) == H5I_GROUP;
    quiet_end(q);
    return g;
}

/* ---- reading datasets ------------------------------------------------------------ */

typedef enum want { WANT_F32, WANT_F64, WANT_I64, WANT_U8 } want;

/* into: NULL to malloc the values, else a buffer of cap values to read them into. */
static mtb_status read_numeric_to(mtb_h5 *f, const char *obj, int rank, size_t *dims, want w,
                                  void *into, size_t cap, void **data, int require_finite,
                                  mtb_error *err)
{
    *data = NULL;
    mtb_status st = check_file(f, obj, err);
    if (st)
        return st;
    if (!dims && rank != 0)
        return ffail(f, err, MTB_EINVAL, "reading %s: no dims array given", obj);
    hid_t dset, space = H5I_INVALID_HID, type = H5I_INVALID_HID;
    int filtered = 0;
    if ((st = open_dataset(f, obj, &dset, &filtered, err)))
        return st;
    void *buf = NULL;
    space = H5Dget_space(dset);
    type = H5Dget_type(dset);
    if (space < 0 || type < 0) {
        st = ffail(f, err, MTB_EIO, "cannot read the type or shape of %s", obj);
        goto fail;
    }
    char tn[64];
    type_name(type, tn, sizeof tn);
    mtb_h5_kind kind = type_kind(type);
    if (kind != MTB_H5_FLOAT && kind != MTB_H5_INT) {
        st = ffail(f, err, MTB_EIO, "dataset %s holds %s, expected numbers", obj, tn);
        goto fail;
    }
    if ((w == WANT_I64 || w == WANT_U8) && kind != MTB_H5_INT) {
        st = ffail(f, err, MTB_EIO, "dataset %s holds %s, expected integers (%s)", obj, tn,
                   w == WANT_U8 ? "uint8" : "int64");
        goto fail;
    }
    int r;
    size_t n, shape[MTB_H5_MAX_RANK];
    if ((st = space_shape(f, obj, space, &r, shape, &n, err)))
        goto fail;
    if (rank >= 0 && r != rank) {
        st = ffail(f, err, MTB_EIO, "dataset %s has rank %d, expected %d", obj, r, rank);
        goto fail;
    }
    if ((st = check_declared(f, obj, n, type, filtered, err)))
        goto fail;
    size_t es = w == WANT_F32 ? sizeof(float) : w == WANT_F64 ? sizeof(double)
              : w == WANT_I64 ? sizeof(int64_t) : 1;
    if (n > SIZE_MAX / es) {
        st = ffail(f, err, MTB_EIO, "dataset %s is too large to hold in memory", obj);
        goto fail;
    }
    if (into && n > cap) {
        st = ffail(f, err, MTB_EIO, "dataset %s holds %zu values, more than the %zu expected",
                   obj, n, cap);
        goto fail;
    }
    buf = into ? into : malloc(n ? n * es : 1);
    if (!buf) {
        st = ffail(f, err, MTB_ENOMEM, "out of memory reading %s (%zu values)", obj, n);
        goto fail;
    }
    hid_t mtype = w == WANT_F32 ? H5T_NATIVE_FLOAT : w == WANT_F64 ? H5T_NATIVE_DOUBLE
                : w == WANT_I64 ? H5T_NATIVE_INT64 : H5T_NATIVE_UINT8;
    if (n > 0 && H5Dread(dset, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0) {
        st = ffail(f, err, MTB_EIO, "cannot read dataset %s (%s)", obj, tn);
        goto fail;
    }
    if (require_finite && (w == WANT_F32 || w == WANT_F64)) {
        for (size_t i = 0; i < n; i++) {
            double v = w == WANT_F32 ? (double)((float *)buf)[i] : ((double *)buf)[i];
            if (!isfinite(v)) {
                char at[128];
                index_str(i, r, shape, at, sizeof at);
                st = ffail(f, err, MTB_ENUMERIC, "dataset %s holds a non-finite value (%g) at "
                           "%s; the file is damaged or was written from a diverged run", obj,
                           v, at);
                goto fail;
            }
        }
    }
    for (int i = 0; i < r; i++)
        dims[i] = shape[i];
    *data = buf;
    buf = NULL;
fail:
    if (buf != into)
        free(buf);
    if (type >= 0)
        H5Tclose(type);
    if (space >= 0)
        H5Sclose(space);
    H5Dclose(dset);
    return st;
}

static mtb_status read_numeric(mtb_h5 *f, const char *obj, int rank, size_t *dims, want w,
                               void **data, int require_finite, mtb_error *err)
{
    return read_numeric_to(f, obj, rank, dims, w, NULL, 0, data, require_finite, err);
}

mtb_status mtb_h5_read_f32_into(mtb_h5 *f, const char *obj, int rank, size_t *dims, float *buf,
                                size_t cap, int require_finite, mtb_error *err)
{
    if (!buf)
        return ffail(f, err, MTB_EINVAL, "reading %s: no buffer given", obj ? obj : "?");
    quiet q = quiet_begin();
    void *p = NULL;
    mtb_status st = read_numeric_to(f, obj, rank, dims, WANT_F32, buf, cap, &p, require_finite,
                                    err);
    quiet_end(q);
    return st;
}

/* The public readers: read_numeric with HDF5's error printing silenced, the values returned
 * as the caller's type. */
static mtb_status read_public(mtb_h5 *f, const char *obj, int rank, size_t *dims, want w,
                              void **data, int require_finite, mtb_error *err)
{
    quiet q = quiet_begin();
    mtb_status st = read_numeric(f, obj, rank, dims, w, data, require_finite, err);
    quiet_end(q);
    return st;
}

mtb_status mtb_h5_read_f32(mtb_h5 *f, const char *obj, int rank, size_t *dims, float **data,
                           int require_finite, mtb_error *err)
{
    void *p = NULL;
    mtb_status st = read_public(f, obj, rank, dims, WANT_F32, &p, require_finite, err);
    *data = p;
    return st;
}

mtb_status mtb_h5_read_f64(mtb_h5 *f, const char *obj, int rank, size_t *dims, double **data,
                           int require_finite, mtb_error *err)
{
    void *p = NULL;
    mtb_status st = read_public(f, obj, rank, dims, WANT_F64, &p, require_finite, err);
    *data = p;
    return st;
}

mtb_status mtb_h5_read_i64(mtb_h5 *f, const char *obj, int rank, size_t *dims, int64_t **data,
                           mtb_error *err)
{
    void *p = NULL;
    mtb_status st = read_public(f, obj, rank, dims, WANT_I64, &p, 0, err);
    *data = p;
    return st;
}

mtb_status mtb_h5_read_u8(mtb_h5 *f, const char *obj, int rank, size_t *dims, uint8_t **data,
                          mtb_error *err)
{
    void *p = NULL;
    mtb_status st = read_public(f, obj, rank, dims, WANT_U8, &p, 0, err);
    *data = p;
    return st;
}

static mtb_status shape_of(mtb_h5 *f, const char *obj, int *rank, size_t *dims, mtb_error *err)
{
    mtb_status st = check_file(f, obj, err);
    if (st)
        return st;
    hid_t dset, space;
    if ((st = open_dataset(f, obj, &dset, NULL, err)))
        return st;
    space = H5Dget_space(dset);
    size_t n;
    if (space < 0)
        st = ffail(f, err, MTB_EIO, "cannot read the shape of %s", obj);
    else
        st = space_shape(f, obj, space, rank, dims, &n, err);
    if (space >= 0)
        H5Sclose(space);
    H5Dclose(dset);
    return st;
}

mtb_status mtb_h5_shape(mtb_h5 *f, const char *obj, int *rank, size_t *dims, mtb_error *err)
{
    quiet q = quiet_begin();
    mtb_status st = shape_of(f, obj, rank, dims, err);
    quiet_end(q);
    return st;
}

static mtb_status dtype_of(mtb_h5 *f, const char *obj, mtb_h5_kind *kind, char *name,
                           size_t len, mtb_error *err)
{
    mtb_status st = check_file(f, obj, err);
    if (st)
        return st;
    hid_t dset;
    if ((st = open_dataset(f, obj, &dset, NULL, err)))
        return st;
    hid_t type = H5Dget_type(dset);
    if (type < 0) {
        st = ffail(f, err, MTB_EIO, "cannot read the type of %s", obj);
    } else {
        if (kind)
            *kind = type_kind(type);
        if (name && len)
            type_name(type, name, len);
        H5Tclose(type);
    }
    H5Dclose(dset);
    return st;
}

mtb_status mtb_h5_dtype(mtb_h5 *f, const char *obj, mtb_h5_kind *kind, char *name, size_t len,
                        mtb_error *err)
{
    quiet q = quiet_begin();
    mtb_status st = dtype_of(f, obj, kind, name, len, err);
    quiet_end(q);
    return st;
}

/* ---- strings (datasets and attributes share the conversion) ---------------------- */

void mtb_h5_free_strs(char **strs, size_t n)
{
    if (!strs)
        return;
    for (size_t i = 0; i < n; i++)
        free(strs[i]);
    free(strs);
}

/* Reads n strings of file type ftype from attr (is_attr) or dataset id into a malloc'd
 * array of malloc'd copies. what names the object in messages. */
static mtb_status read_strings(const mtb_h5 *f, const char *what, hid_t id, int is_attr,
                               hid_t ftype, hid_t space, size_t n, char ***out, mtb_error *err)
{
    *out = NULL;
    mtb_status st = MTB_OK;
    char **res = calloc(n ? n : 1, sizeof *res);
    hid_t mtype = H5Tcopy(H5T_C_S1);
    void *buf = NULL;
    int vlen = H5Tis_variable_str(ftype) > 0;
    size_t fsize = H5Tget_size(ftype);
    if (!res || mtype < 0) {
        st = ffail(f, err, MTB_ENOMEM, "out of memory reading %s", what);
        goto fail;
    }
    if (H5Tset_cset(mtype, H5Tget_cset(ftype)) < 0 ||
        H5Tset_size(mtype, vlen ? H5T_VARIABLE : fsize) < 0 ||
        (!vlen && H5Tset_strpad(mtype, H5Tget_strpad(ftype)) < 0)) {
        st = ffail(f, err, MTB_EIO, "cannot set up string conversion for %s", what);
        goto fail;
    }
    size_t es = vlen ? sizeof(char *) : fsize;
    if (fsize == 0 || (n && es > SIZE_MAX / n)) {
        st = ffail(f, err, MTB_EIO, "%s: unusable string size", what);
        goto fail;
    }
    buf = calloc(n ? n : 1, es);
    if (!buf) {
        st = ffail(f, err, MTB_ENOMEM, "out of memory reading %s", what);
        goto fail;
    }
    if (n > 0) {
        herr_t r = is_attr ? H5Aread(id, mtype, buf)
                           : H5Dread(id, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf);
        if (r < 0) {
            st = ffail(f, err, MTB_EIO, "cannot read the strings of %s", what);
            goto fail;
        }
    }
    for (size_t i = 0; i < n && !st; i++) {
        const char *s = vlen ? ((char **)buf)[i] : (const char *)buf + i * fsize;
        res[i] = vlen ? dup_str(s ? s : "") : dup_strn(s, fsize);
        if (!res[i])
            st = ffail(f, err, MTB_ENOMEM, "out of memory reading %s", what);
    }
    if (vlen && n > 0)
        H5Dvlen_reclaim(mtype, space, H5P_DEFAULT, buf);
    if (!st) {
        *out = res;
        res = NULL;
    }
fail:
    free(buf);
    mtb_h5_free_strs(res, n);
    if (mtype >= 0)
        H5Tclose(mtype);
    return st;
}

static mtb_status strs_dataset(mtb_h5 *f, const char *obj, size_t *n, char ***strs,
                               mtb_error *err)
{
    mtb_status st = check_file(f, obj, err);
    if (st)
        return st;
    hid_t dset, space = H5I_INVALID_HID, type = H5I_INVALID_HID;
    int filtered = 0;
    if ((st = open_dataset(f, obj, &dset, &filtered, err)))
        return st;
    space = H5Dget_space(dset);
    type = H5Dget_type(dset);
    int r;
    size_t cnt;
    if (space < 0 || type < 0) {
        st = ffail(f, err, MTB_EIO, "cannot read the type or shape of %s", obj);
    } else if (H5Tget_class(type) != H5T_STRING) {
        char tn[64];
        type_name(type, tn, sizeof tn);
        st = ffail(f, err, MTB_EIO, "dataset %s holds %s, expected strings", obj, tn);
    } else if (!(st = space_shape(f, obj, space, &r, NULL, &cnt, err))) {
        if (r > 1)
            st = ffail(f, err, MTB_EIO, "string dataset %s has rank %d, expected 1", obj, r);
        else if (!(st = check_declared(f, obj, cnt, type, filtered, err)) &&
                 !(st = read_strings(f, obj, dset, 0, type, space, cnt, strs, err)))
            *n = cnt;
    }
    if (type >= 0)
        H5Tclose(type);
    if (space >= 0)
        H5Sclose(space);
    H5Dclose(dset);
    return st;
}

mtb_status mtb_h5_read_strs(mtb_h5 *f, const char *obj, size_t *n, char ***strs, mtb_error *err)
{
    quiet q = quiet_begin();
    *strs = NULL;
    *n = 0;
    mtb_status st = strs_dataset(f, obj, n, strs, err);
    quiet_end(q);
    return st;
}

/* ---- reading attributes ----------------------------------------------------------- */

typedef struct attr_handle {
    hid_t attr, type, space;
    int rank;
    size_t n;
    char what[256]; /* "attribute NAME of OBJ" */
} attr_handle;

static void attr_close(attr_handle *a)
{
    if (a->space >= 0)
        H5Sclose(a->space);
    if (a->type >= 0)
        H5Tclose(a->type);
    if (a->attr >= 0)
        H5Aclose(a->attr);
}

static mtb_status attr_open(mtb_h5 *f, const char *obj, const char *name, attr_handle *a,
                            mtb_error *err)
{
    a->attr = a->type = a->space = H5I_INVALID_HID;
    mtb_status st = check_file(f, obj, err);
    if (st)
        return st;
    if (!name || !*name)
        return ffail(f, err, MTB_EINVAL, "%s: empty attribute name", obj);
    snprintf(a->what, sizeof a->what, "attribute %s of %s", name, obj);
    if (!path_exists(f, obj))
        return ffail(f, err, MTB_EIO, "no object %s in this file (looking for its attribute %s)",
                     obj, name);
    if (H5Aexists_by_name(f->file, obj, name, f->lapl) <= 0)
        return ffail(f, err, MTB_EIO, "%s has no attribute %s", obj, name);
    mtb_isolate_note(a->what);
    a->attr = H5Aopen_by_name(f->file, obj, name, H5P_DEFAULT, f->lapl);
    if (a->attr >= 0) {
        a->type = H5Aget_type(a->attr);
        a->space = H5Aget_space(a->attr);
    }
    if (a->attr < 0 || a->type < 0 || a->space < 0) {
        attr_close(a);
        return ffail(f, err, MTB_EIO, "cannot open %s", a->what);
    }
    if ((st = space_shape(f, a->what, a->space, &a->rank, NULL, &a->n, err)) ||
        (st = check_declared(f, a->what, a->n, a->type, 0, err)))
        attr_close(a);
    return st;
}

static mtb_status attr_numbers(mtb_h5 *f, const char *obj, const char *name, int scalar,
                               size_t *n, double **vals, mtb_error *err)
{
    attr_handle a;
    mtb_status st = attr_open(f, obj, name, &a, err);
    if (st)
        return st;
    char tn[64];
    type_name(a.type, tn, sizeof tn);
    mtb_h5_kind kind = type_kind(a.type);
    if (kind != MTB_H5_FLOAT && kind != MTB_H5_INT)
        st = ffail(f, err, MTB_EIO, "%s is %s, expected a number", a.what, tn);
    else if (scalar && a.n != 1)
        st = ffail(f, err, MTB_EIO, "%s holds %zu values, expected one", a.what, a.n);
    else if (a.rank > 1)
        st = ffail(f, err, MTB_EIO, "%s has rank %d, expected a list (rank 1)", a.what, a.rank);
    if (!st) {
        double *v = malloc((a.n ? a.n : 1) * sizeof *v);
        if (!v)
            st = ffail(f, err, MTB_ENOMEM, "out of memory reading %s", a.what);
        else if (a.n > 0 && H5Aread(a.attr, H5T_NATIVE_DOUBLE, v) < 0) {
            free(v);
            st = ffail(f, err, MTB_EIO, "cannot read %s (%s) as a number", a.what, tn);
        } else {
            *vals = v;
            *n = a.n;
        }
    }
    attr_close(&a);
    return st;
}

mtb_status mtb_h5_attr_get_f64(mtb_h5 *f, const char *obj, const char *name, double *value,
                               mtb_error *err)
{
    quiet q = quiet_begin();
    size_t n;
    double *v = NULL;
    mtb_status st = attr_numbers(f, obj, name, 1, &n, &v, err);
    if (!st)
        *value = v[0];
    free(v);
    quiet_end(q);
    return st;
}

mtb_status mtb_h5_attr_get_f64s(mtb_h5 *f, const char *obj, const char *name, size_t *n,
                                double **vals, mtb_error *err)
{
    quiet q = quiet_begin();
    *vals = NULL;
    *n = 0;
    mtb_status st = attr_numbers(f, obj, name, 0, n, vals, err);
    quiet_end(q);
    return st;
}

static mtb_status attr_i64(mtb_h5 *f, const char *obj, const char *name, int64_t *value,
                           mtb_error *err)
{
    attr_handle a;
    mtb_status st = attr_open(f, obj, name, &a, err);
    if (st)
        return st;
    char tn[64];
    type_name(a.type, tn, sizeof tn);
    mtb_h5_kind kind = type_kind(a.type);
    if (kind != MTB_H5_FLOAT && kind != MTB_H5_INT) {
        st = ffail(f, err, MTB_EIO, "%s is %s, expected an integer", a.what, tn);
    } else if (a.n != 1) {
        st = ffail(f, err, MTB_EIO, "%s holds %zu values, expected one", a.what, a.n);
    } else if (kind == MTB_H5_INT) {
        /* Integer and enum (h5py bool: FALSE=0, TRUE=1) convert exactly. */
        if (H5Aread(a.attr, H5T_NATIVE_INT64, value) < 0)
            st = ffail(f, err, MTB_EIO, "cannot read %s (%s) as an integer", a.what, tn);
    } else {
        /* A float attribute is accepted only if it holds an integer exactly. */
        double d;
        if (H5Aread(a.attr, H5T_NATIVE_DOUBLE, &d) < 0)
            st = ffail(f, err, MTB_EIO, "cannot read %s (%s)", a.what, tn);
        else if (!(d == floor(d) && fabs(d) <= 9007199254740992.0))
            st = ffail(f, err, MTB_EIO, "%s is %g, expected an integer", a.what, d);
        else
            *value = (int64_t)d;
    }
    attr_close(&a);
    return st;
}

mtb_status mtb_h5_attr_get_i64(mtb_h5 *f, const char *obj, const char *name, int64_t *value,
                               mtb_error *err)
{
    quiet q = quiet_begin();
    mtb_status st = attr_i64(f, obj, name, value, err);
    quiet_end(q);
    return st;
}

static mtb_status attr_strs(mtb_h5 *f, const char *obj, const char *name, int scalar, size_t *n,
                            char ***strs, mtb_error *err)
{
    attr_handle a;
    mtb_status st = attr_open(f, obj, name, &a, err);
    if (st)
        return st;
    if (H5Tget_class(a.type) != H5T_STRING) {
        char tn[64];
        type_name(a.type, tn, sizeof tn);
        st = ffail(f, err, MTB_EIO, "%s is %s, expected a string", a.what, tn);
    } else if (scalar && a.n != 1) {
        st = ffail(f, err, MTB_EIO, "%s holds %zu strings, expected one", a.what, a.n);
    } else if (a.rank > 1) {
        st = ffail(f, err, MTB_EIO, "%s has rank %d, expected a list (rank 1)", a.what, a.rank);
    } else if (!(st = read_strings(f, a.what, a.attr, 1, a.type, a.space, a.n, strs, err))) {
        *n = a.n;
    }
    attr_close(&a);
    return st;
}

mtb_status mtb_h5_attr_get_str(mtb_h5 *f, const char *obj, const char *name, char *buf,
                               size_t len, mtb_error *err)
{
    quiet q = quiet_begin();
    size_t n = 0;
    char **s = NULL;
    mtb_status st = attr_strs(f, obj, name, 1, &n, &s, err);
    if (!st) {
        size_t k = strlen(s[0]);
        if (!buf || k >= len)
            st = ffail(f, err, MTB_EINVAL, "attribute %s of %s is %zu bytes long; the buffer "
                       "holds %zu", name, obj, k, len ? len - 1 : 0);
        else
            memcpy(buf, s[0], k + 1);
    }
    mtb_h5_free_strs(s, n);
    quiet_end(q);
    return st;
}

mtb_status mtb_h5_attr_get_strs(mtb_h5 *f, const char *obj, const char *name, size_t *n,
                                char ***strs, mtb_error *err)
{
    quiet q = quiet_begin();
    *strs = NULL;
    *n = 0;
    mtb_status st = attr_strs(f, obj, name, 0, n, strs, err);
    quiet_end(q);
    return st;
}

/* ---- listing ------------------------------------------------------------------------ */

static mtb_status list_group(mtb_h5 *f, const char *group, size_t *n, char ***names,
                             mtb_error *err)
{
    mtb_status st = check_file(f, group, err);
    if (st)
        return st;
    H5I_type_t t = object_type(f, group);
    if (t == H5I_BADID)
        return ffail(f, err, MTB_EIO, "no group %s in this file", group);
    if (t != H5I_GROUP)
        return ffail(f, err, MTB_EIO, "%s is a dataset, expected a group", group);
    mtb_isolate_note2("group", group);
    H5G_info_t info;
    if (H5Gget_info_by_name(f->file, group, &info, f->lapl) < 0)
        return ffail(f, err, MTB_EIO, "cannot read the contents of group %s", group);
    /* Every link takes bytes in the file: a count beyond its size is damage. */
    if (info.nlinks > (hsize_t)SIZE_MAX / sizeof(char *) ||
        (uint64_t)info.nlinks > (f->file_bytes < MIB ? MIB : f->file_bytes))
        return ffail(f, err, MTB_EIO, "group %s declares %llu entries, more than the file can "
                     "hold; the file is damaged", group, (unsigned long long)info.nlinks);
    size_t cnt = (size_t)info.nlinks;
    char **res = calloc(cnt ? cnt : 1, sizeof *res);
    if (!res)
        return ffail(f, err, MTB_ENOMEM, "out of memory listing %s", group);
    for (size_t i = 0; i < cnt && !st; i++) {
        ssize_t len = H5Lget_name_by_idx(f->file, group, H5_INDEX_NAME, H5_ITER_INC, (hsize_t)i,
                                         NULL, 0, f->lapl);
        if (len < 0) {
            st = ffail(f, err, MTB_EIO, "cannot read entry %zu of group %s", i, group);
            break;
        }
        res[i] = malloc((size_t)len + 1);
        if (!res[i])
            st = ffail(f, err, MTB_ENOMEM, "out of memory listing %s", group);
        else if (H5Lget_name_by_idx(f->file, group, H5_INDEX_NAME, H5_ITER_INC, (hsize_t)i,
                                    res[i], (size_t)len + 1, f->lapl) < 0)
            st = ffail(f, err, MTB_EIO, "cannot read entry %zu of group %s", i, group);
    }
    if (st) {
        mtb_h5_free_strs(res, cnt);
        return st;
    }
    *names = res;
    *n = cnt;
    return MTB_OK;
}

mtb_status mtb_h5_list(mtb_h5 *f, const char *group, size_t *n, char ***names, mtb_error *err)
{
    quiet q = quiet_begin();
    *names = NULL;
    *n = 0;
    mtb_status st = list_group(f, group, n, names, err);
    quiet_end(q);
    return st;
}

/* ---- untrusted files: the walk the isolated child makes ------------------------------ */

#define WALK_MAX_DEPTH 64
#define WALK_PATH_LEN 4096
#define WALK_MAX_LINK_VALUE 65536

typedef struct walker {
    mtb_h5 *f;
    int read_values;
    size_t max_objects, objects;
    uint64_t *seen; /* open addressing on object address + 1; 0 = empty */
    size_t seen_cap, seen_n;
    int depth;
    char path[WALK_PATH_LEN];
    mtb_error *err;
    mtb_status st;
} walker;

static mtb_status walk_fail(walker *w, mtb_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static mtb_status walk_fail(walker *w, mtb_status st, const char *fmt, ...)
{
    char msg[MTB_ERRMSG_LEN];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    w->st = ffail(w->f, w->err, st, "%s", msg);
    return w->st;
}

/* "cannot ... (the file is damaged)": an HDF5 call failed on what should be there. */
static mtb_status walk_damaged(walker *w, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static mtb_status walk_damaged(walker *w, const char *fmt, ...)
{
    char msg[MTB_ERRMSG_LEN];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return walk_fail(w, MTB_EIO, "%s (the file is damaged)", msg);
}

/* The object's address in the file (a hard link's target), to visit each object once:
 * hard links may form cycles. */
static int object_key(hid_t o, uint64_t *key)
{
#if H5_VERSION_GE(1, 12, 0)
    H5O_info2_t info;
    if (H5Oget_info3(o, &info, H5O_INFO_BASIC) < 0)
        return -1;
    uint64_t k = 0;
    memcpy(&k, &info.token, sizeof k < sizeof info.token ? sizeof k : sizeof info.token);
    *key = k;
#else
    H5O_info_t info;
    if (H5Oget_info2(o, &info, H5O_INFO_BASIC) < 0)
        return -1;
    *key = (uint64_t)info.addr;
#endif
    return 0;
}

/* 1 if key was already seen, 0 after recording it, -1 out of memory. */
static int seen_insert(walker *w, uint64_t key)
{
    uint64_t k = key + 1;
    if (2 * (w->seen_n + 1) > w->seen_cap) {
        size_t cap = w->seen_cap ? 2 * w->seen_cap : 64;
        uint64_t *t = calloc(cap, sizeof *t);
        if (!t)
            return -1;
        for (size_t i = 0; i < w->seen_cap; i++) {
            uint64_t v = w->seen[i];
            if (!v)
                continue;
            size_t j = (size_t)(v * 0x9E3779B97F4A7C15ull) & (cap - 1);
            while (t[j])
                j = (j + 1) & (cap - 1);
            t[j] = v;
        }
        free(w->seen);
        w->seen = t;
        w->seen_cap = cap;
    }
    size_t j = (size_t)(k * 0x9E3779B97F4A7C15ull) & (w->seen_cap - 1);
    while (w->seen[j]) {
        if (w->seen[j] == k)
            return 1;
        j = (j + 1) & (w->seen_cap - 1);
    }
    w->seen[j] = k;
    w->seen_n++;
    return 0;
}

static mtb_status count_object(walker *w)
{
    if (++w->objects > w->max_objects)
        return walk_fail(w, MTB_EIO, "holds more than %zu objects and attributes (the limit for "
                         "a file from outside); the file is damaged or not one mtb reads",
                         w->max_objects);
    return MTB_OK;
}

/* One attribute of the object at w->path, read the way mtb_h5_attr_get_* read it. */
static herr_t walk_attr(hid_t o, const char *name, const H5A_info_t *ainfo, void *op)
{
    (void)ainfo;
    walker *w = op;
    if (count_object(w))
        return -1;
    hid_t a = H5Aopen(o, name, H5P_DEFAULT);
    if (a < 0) {
        walk_damaged(w, "cannot open attribute %s of %s", name, w->path);
        return -1;
    }
    hid_t sp = H5Aget_space(a);
    H5S_class_t cls = sp >= 0 ? H5Sget_simple_extent_type(sp) : H5S_NO_CLASS;
    int rank = sp >= 0 ? H5Sget_simple_extent_ndims(sp) : -1;
    if (sp >= 0)
        H5Sclose(sp);
    H5Aclose(a);
    if (cls == H5S_NO_CLASS || rank < 0) {
        walk_damaged(w, "cannot read the shape of attribute %s of %s", name, w->path);
        return -1;
    }
    if (cls == H5S_NULL || rank > 1)
        return 0; /* the readers refuse these before reading a value */
    attr_handle h;
    if ((w->st = attr_open(w->f, w->path, name, &h, w->err)))
        return -1;
    mtb_h5_kind kind = type_kind(h.type);
    size_t n = h.n;
    attr_close(&h);
    if (kind == MTB_H5_FLOAT || kind == MTB_H5_INT) {
        size_t k;
        double *v = NULL;
        if ((w->st = attr_numbers(w->f, w->path, name, 0, &k, &v, w->err)))
            return -1;
        free(v);
        int64_t i; /* integers also read as int64 (a float reads as in attr_numbers) */
        if (kind == MTB_H5_INT && n == 1 && (w->st = attr_i64(w->f, w->path, name, &i, w->err)))
            return -1;
    } else if (kind == MTB_H5_STRING) {
        size_t k;
        char **s = NULL;
        if ((w->st = attr_strs(w->f, w->path, name, 0, &k, &s, w->err)))
            return -1;
        mtb_h5_free_strs(s, k);
    }
    return 0;
}

/* The dataset at w->path: its storage (refused outside the file, filters available,
 * chunks of a sane size) and, with read_values, every value as the readers convert it. */
static mtb_status walk_dataset(walker *w)
{
    mtb_h5 *f = w->f;
    hid_t d;
    int filtered;
    if ((w->st = open_dataset(f, w->path, &d, &filtered, w->err)))
        return w->st;
    hid_t sp = H5Dget_space(d), type = H5Dget_type(d), dcpl = H5Dget_create_plist(d);
    mtb_status st = MTB_OK;
    if (sp < 0 || type < 0 || dcpl < 0) {
        st = walk_damaged(w, "cannot read the type, shape or storage of %s", w->path);
        goto done;
    }
    int nf = H5Pget_nfilters(dcpl);
    for (int i = 0; i < nf && !st; i++) {
        unsigned flags = 0, config = 0;
        size_t nelm = 0;
        char fname[64];
        H5Z_filter_t id = H5Pget_filter2(dcpl, (unsigned)i, &flags, &nelm, NULL, sizeof fname,
                                         fname, &config);
        if (id < 0 || H5Zfilter_avail(id) <= 0)
            st = walk_fail(w, MTB_EIO, "%s is stored through filter %d, which this HDF5 library "
                           "does not have", w->path, (int)id);
    }
    H5S_class_t cls = H5Sget_simple_extent_type(sp);
    int rank = H5Sget_simple_extent_ndims(sp);
    if (!st && (cls == H5S_NO_CLASS || rank < 0))
        st = walk_damaged(w, "cannot read the shape of %s", w->path);
    if (!st && H5Pget_layout(dcpl) == H5D_CHUNKED) {
        hsize_t cd[32];
        int cr = H5Pget_chunk(dcpl, 32, cd);
        size_t n = 1;
        for (int i = 0; i < cr && n; i++)
            n = cd[i] && n > SIZE_MAX / cd[i] ? SIZE_MAX : n * (size_t)cd[i];
        if (cr < 0 || cr > 32)
            st = walk_damaged(w, "cannot read the chunk shape of %s", w->path);
        else
            st = w->st = check_declared(f, w->path, n, type, 0, w->err);
    }
    if (st || cls == H5S_NULL || rank > MTB_H5_MAX_RANK || !w->read_values)
        goto done; /* the readers refuse these shapes before reading a value */
    mtb_h5_kind kind = type_kind(type);
    size_t dims[MTB_H5_MAX_RANK];
    void *v = NULL;
    if (kind == MTB_H5_FLOAT || kind == MTB_H5_INT) {
        if ((st = w->st = read_numeric(f, w->path, -1, dims, WANT_F64, &v, 0, w->err)))
            goto done;
        free(v);
        v = NULL;
        /* A float type other than IEEE single or double converts to float through HDF5's
         * generic code: read it that way too. */
        int standard = kind == MTB_H5_INT || H5Tequal(type, H5T_IEEE_F32LE) > 0 ||
                       H5Tequal(type, H5T_IEEE_F64LE) > 0 || H5Tequal(type, H5T_IEEE_F32BE) > 0 ||
                       H5Tequal(type, H5T_IEEE_F64BE) > 0;
        if (!standard && (st = w->st = read_numeric(f, w->path, -1, dims, WANT_F32, &v, 0,
                                                    w->err)))
            goto done;
        free(v);
        v = NULL;
        if (kind == MTB_H5_INT &&
            (st = w->st = read_numeric(f, w->path, -1, dims, WANT_I64, &v, 0, w->err)))
            goto done;
        free(v);
        v = NULL;
        /* mtb_h5_read_u8's conversion (images and labels), for one-byte integers */
        if (kind == MTB_H5_INT && H5Tget_size(type) == 1 &&
            (st = w->st = read_numeric(f, w->path, -1, dims, WANT_U8, &v, 0, w->err)))
            goto done;
        free(v);
    } else if (kind == MTB_H5_STRING && rank <= 1) {
        size_t n;
        char **s = NULL;
        if ((st = w->st = strs_dataset(f, w->path, &n, &s, w->err)))
            goto done;
        mtb_h5_free_strs(s, n);
    }
done:
    if (dcpl >= 0)
        H5Pclose(dcpl);
    if (type >= 0)
        H5Tclose(type);
    if (sp >= 0)
        H5Sclose(sp);
    H5Dclose(d);
    return st;
}

static herr_t walk_link(hid_t g, const char *name, const H5L_info_t *info, void *op);

/* The object at w->path (reached by a hard link): its attributes, then its contents. */
static mtb_status walk_object(walker *w)
{
    mtb_h5 *f = w->f;
    mtb_isolate_note2("object", w->path);
    hid_t o = H5Oopen(f->file, w->path, f->lapl);
    if (o < 0)
        return walk_damaged(w, "cannot open %s", w->path);
    uint64_t key;
    int seen = object_key(o, &key) < 0 ? -2 : seen_insert(w, key);
    if (seen != 0) {
        H5Oclose(o);
        if (seen == -2)
            return walk_damaged(w, "cannot read the header of %s", w->path);
        if (seen == -1)
            return walk_fail(w, MTB_ENOMEM, "out of memory checking %s", w->path);
        return MTB_OK; /* another link to an object already checked */
    }
    mtb_status st = MTB_OK;
    hsize_t idx = 0;
    mtb_isolate_note2("the attributes of", w->path);
    if (H5Aiterate2(o, H5_INDEX_NAME, H5_ITER_NATIVE, &idx, walk_attr, w) < 0)
        st = w->st ? w->st : walk_damaged(w, "cannot list the attributes of %s", w->path);
    H5I_type_t t = H5Iget_type(o);
    if (!st && t == H5I_GROUP) {
        /* What mtb_h5_list and mtb_h5_is_group do, then each link in turn. */
        size_t n;
        char **names = NULL;
        if ((st = w->st = list_group(f, w->path, &n, &names, w->err)))
            goto done;
        mtb_h5_free_strs(names, n);
        if (++w->depth > WALK_MAX_DEPTH) {
            st = walk_fail(w, MTB_EIO, "has groups nested more than %d deep at %s",
                           WALK_MAX_DEPTH, w->path);
            goto done;
        }
        idx = 0;
        if (H5Literate(o, H5_INDEX_NAME, H5_ITER_NATIVE, &idx, walk_link, w) < 0)
            st = w->st ? w->st : walk_damaged(w, "cannot list group %s", w->path);
        w->depth--;
    } else if (!st && t == H5I_DATASET) {
        st = walk_dataset(w);
    } else if (!st && t != H5I_DATATYPE) {
        st = walk_fail(w, MTB_EIO, "%s is neither a group, a dataset nor a named datatype",
                       w->path);
    }
done:
    H5Oclose(o);
    return st;
}

static herr_t walk_link(hid_t g, const char *name, const H5L_info_t *info, void *op)
{
    walker *w = op;
    size_t len = strlen(w->path), nl = strlen(name);
    int root = len == 1;
    if (len + nl + 2 > sizeof w->path) {
        walk_fail(w, MTB_EIO, "has an object path longer than %zu bytes under %s",
                  sizeof w->path - 1, w->path);
        return -1;
    }
    if (!root)
        w->path[len] = '/';
    memcpy(w->path + len + !root, name, nl + 1);
    mtb_isolate_note2("link", w->path);
    mtb_status st = count_object(w);
    if (st)
        goto done;
    if (!nl || strchr(name, '/')) {
        st = walk_fail(w, MTB_EIO, "has a link named '%s' under %.*s, which no path can name",
                       name, (int)len, w->path);
        goto done;
    }
    switch (info->type) {
    case H5L_TYPE_HARD:
        /* The readers find objects by name from the root: look it up that way first. */
        if (!path_exists(w->f, w->path))
            st = walk_damaged(w, "cannot look up %s by its name", w->path);
        else
            st = walk_object(w);
        break;
    case H5L_TYPE_SOFT: {
        size_t n = info->u.val_size;
        if (n > WALK_MAX_LINK_VALUE) {
            st = walk_fail(w, MTB_EIO, "soft link %s has a %zu-byte target", w->path, n);
            break;
        }
        char *val = malloc(n + 1);
        if (!val) {
            st = walk_fail(w, MTB_ENOMEM, "out of memory checking %s", w->path);
            break;
        }
        if (H5Lget_val(g, name, val, n + 1, w->f->lapl) < 0)
            st = walk_damaged(w, "cannot read soft link %s", w->path);
        free(val);
        /* Resolve it as the readers would; a dangling soft link is allowed. */
        if (!st)
            (void)path_exists(w->f, w->path);
        break;
    }
    case H5L_TYPE_EXTERNAL:
        st = walk_fail(w, MTB_EIO, "%s is an external link to another file; mtb reads only "
                       "self-contained files", w->path);
        break;
    default:
        st = walk_fail(w, MTB_EIO, "%s is a user-defined link (type %d), which mtb does not "
                       "follow", w->path, (int)info->type);
        break;
    }
done:
    w->path[len] = '\0';
    return st ? -1 : 0;
}

mtb_status mtb_h5_walk(mtb_h5 *f, int read_values, size_t max_objects, mtb_error *err)
{
    if (!f)
        return mtb_fail(err, MTB_EINVAL, "h5: no file given (NULL handle)");
    walker *w = calloc(1, sizeof *w);
    if (!w)
        return ffail(f, err, MTB_ENOMEM, "out of memory checking the file");
    w->f = f;
    w->read_values = read_values;
    w->max_objects = max_objects ? max_objects : SIZE_MAX;
    w->err = err;
    strcpy(w->path, "/");
    quiet q = quiet_begin();
    mtb_status st = walk_object(w);
    quiet_end(q);
    free(w->seen);
    free(w);
    return st;
}

typedef struct validate_ctx {
    const char *path;
    const mtb_h5_limits *lim;
} validate_ctx;

static mtb_status validate_in_child(void *p, mtb_error *err)
{
    validate_ctx *c = p;
    mtb_h5 *f = mtb_h5_open(c->path, err);
    if (!f)
        return err ? err->status : MTB_EIO;
    f->max_value_bytes = c->lim->max_value_bytes;
    mtb_status st = mtb_h5_walk(f, 1, c->lim->max_objects, err);
    mtb_isolate_note("the file while closing it");
    mtb_h5_close(f);
    return st;
}

mtb_status mtb_h5_validate_untrusted(const char *path, const mtb_h5_limits *lim, mtb_error *err)
{
    uint64_t bytes;
    mtb_status st = mtb_h5_check_input(path, &bytes, err);
    if (st)
        return st;
    mtb_h5_limits l;
    if (lim)
        l = *lim;
    else
        mtb_h5_limits_default(&l, bytes);
    validate_ctx c = {path, &l};
    return mtb_h5_run_isolated(validate_in_child, &c, path, NULL, &l, err);
}

mtb_h5 *mtb_h5_open_untrusted(const char *path, const mtb_h5_limits *lim, mtb_error *err)
{
    struct stat before, after;
    if (input_file(path, &before, err))
        return NULL;
    mtb_h5_limits l;
    if (lim)
        l = *lim;
    else
        mtb_h5_limits_default(&l, (uint64_t)before.st_size);
    if (mtb_h5_validate_untrusted(path, &l, err))
        return NULL;
    mtb_h5 *f = mtb_h5_open(path, err);
    if (!f)
        return NULL;
    f->max_value_bytes = l.max_value_bytes;
    if (stat(path, &after) != 0 || after.st_dev != before.st_dev ||
        after.st_ino != before.st_ino || after.st_size != before.st_size ||
        after.st_mtim.tv_sec != before.st_mtim.tv_sec ||
        after.st_mtim.tv_nsec != before.st_mtim.tv_nsec) {
        mtb_h5_close(f);
        mtb_fail(err, MTB_EIO, "%s: the file changed while it was being checked; try again once "
                 "nothing writes it", path);
        return NULL;
    }
    return f;
}
