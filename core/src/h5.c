/* h5.c: the thin HDF5 layer (contract in mtb/h5.h). The only file of mtb that includes
 * <hdf5.h>, so a change of HDF5 API version touches nothing else.
 *
 * Structure: every public function saves HDF5's automatic error printer, switches it
 * off, calls a static worker and restores the printer, so a failing HDF5 call never
 * dumps its error stack on the user; the worker turns the failure into an MTB_EIO with
 * the file and object name instead. Workers release every handle at one `fail:` label. */
#include "mtb/h5.h"

#include <errno.h>
#include <hdf5.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct mtb_h5 {
    hid_t file;
    char *path; /* the name the user asked for */
    char *tmp;  /* "<path>.tmp" while writing; NULL for a file opened to read */
};

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
static int path_exists(hid_t file, const char *obj)
{
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
                if (p > buf && p[-1] != '/' && H5Lexists(file, buf, H5P_DEFAULT) <= 0) {
                    ok = 0;
                    break;
                }
                *p = c;
                if (!c)
                    break;
            }
        }
        if (ok && H5Oexists_by_name(file, buf, H5P_DEFAULT) <= 0)
            ok = 0;
    }
    free(buf);
    return ok;
}

/* H5I_GROUP, H5I_DATASET, ... of the object at obj, or H5I_BADID. */
static H5I_type_t object_type(hid_t file, const char *obj)
{
    if (!path_exists(file, obj))
        return H5I_BADID;
    hid_t o = H5Oopen(file, obj, H5P_DEFAULT);
    if (o < 0)
        return H5I_BADID;
    H5I_type_t t = H5Iget_type(o);
    H5Oclose(o);
    return t;
}

static void type_name(hid_t t, char *buf, size_t len)
{
    size_t bits = 8 * H5Tget_size(t);
    switch (H5Tget_class(t)) {
    case H5T_FLOAT: snprintf(buf, len, "float%zu", bits); break;
    case H5T_INTEGER:
        snprintf(buf, len, "%sint%zu", H5Tget_sign(t) == H5T_SGN_NONE ? "u" : "", bits);
        break;
    case H5T_ENUM: {
        hid_t super = H5Tget_super(t);
        char base[32] = "?";
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
    switch (H5Tget_class(t)) {
    case H5T_FLOAT: return MTB_H5_FLOAT;
    case H5T_INTEGER:
    case H5T_ENUM: return MTB_H5_INT;
    case H5T_STRING: return MTB_H5_STRING;
    default: return MTB_H5_OTHER;
    }
}

/* Opens obj as a dataset, with a message that says what is there instead. */
static mtb_status open_dataset(const mtb_h5 *f, const char *obj, hid_t *out, mtb_error *err)
{
    *out = H5I_INVALID_HID;
    if (!path_exists(f->file, obj))
        return ffail(f, err, MTB_EIO, "no dataset %s in this file (check the name; "
                                      "`mtb export FILE --list` shows what the file holds)", obj);
    hid_t o = H5Oopen(f->file, obj, H5P_DEFAULT);
    if (o < 0)
        return ffail(f, err, MTB_EIO, "cannot open %s", obj);
    if (H5Iget_type(o) != H5I_DATASET) {
        H5Oclose(o);
        return ffail(f, err, MTB_EIO, "%s is a group, expected a dataset", obj);
    }
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

static mtb_h5 *handle_new(const char *path, int writing, mtb_error *err)
{
    mtb_h5 *f = calloc(1, sizeof *f);
    if (!f) {
        mtb_fail(err, MTB_ENOMEM, "%s: out of memory", path);
        return NULL;
    }
    f->file = H5I_INVALID_HID;
    f->path = dup_str(path);
    if (writing) {
        size_t n = strlen(path);
        f->tmp = malloc(n + 5);
        if (f->tmp)
            snprintf(f->tmp, n + 5, "%s.tmp", path);
    }
    if (!f->path || (writing && !f->tmp)) {
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
    free(f->path);
    free(f->tmp);
    free(f);
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
    f->file = H5Fcreate(f->tmp, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    quiet_end(q);
    if (f->file < 0) {
        mtb_fail(err, MTB_EIO,
                 "%s: cannot create the temporary file %s (does its directory exist and is "
                 "it writable?)", path, f->tmp);
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

mtb_h5 *mtb_h5_open(const char *path, mtb_error *err)
{
    if (!path || !*path) {
        mtb_fail(err, MTB_EINVAL, "h5: empty input file name");
        return NULL;
    }
    struct stat sb;
    if (stat(path, &sb) != 0) {
        int e = errno;
        mtb_fail(err, MTB_EIO, "%s: cannot open: %s", path, strerror(e));
        return NULL;
    }
    if (S_ISDIR(sb.st_mode)) {
        mtb_fail(err, MTB_EIO, "%s: is a directory, expected an HDF5 file", path);
        return NULL;
    }
    mtb_h5 *f = handle_new(path, 0, err);
    if (!f)
        return NULL;
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
    if (path_exists(f->file, obj))
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
    dset = H5Dcreate2(f->file, obj, ftype, space, lcpl, H5P_DEFAULT, H5P_DEFAULT);
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
    if (path_exists(f->file, obj)) {
        if (object_type(f->file, obj) != H5I_GROUP)
            return ffail(f, err, MTB_EINVAL, "%s exists and is not a group", obj);
        return MTB_OK;
    }
    hid_t lcpl = lcpl_intermediate();
    if (lcpl < 0)
        return ffail(f, err, MTB_EIO, "%s: cannot set up group creation", obj);
    hid_t g = H5Gcreate2(f->file, obj, lcpl, H5P_DEFAULT, H5P_DEFAULT);
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
    if (!path_exists(f->file, obj))
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
    int e = path_exists(f->file, obj);
    quiet_end(q);
    return e;
}

int mtb_h5_attr_exists(mtb_h5 *f, const char *obj, const char *name)
{
    if (!f || !obj || !*obj || !name)
        return 0;
    quiet q = quiet_begin();
    int e = path_exists(f->file, obj) && H5Aexists_by_name(f->file, obj, name, H5P_DEFAULT) > 0;
    quiet_end(q);
    return e;
}

int mtb_h5_is_group(mtb_h5 *f, const char *obj)
{
    if (!f || !obj || !*obj)
        return 0;
    quiet q = quiet_begin();
    int g = object_type(f->file, obj) == H5I_GROUP;
    quiet_end(q);
    return g;
}

/* ---- reading datasets ------------------------------------------------------------ */

typedef enum want { WANT_F32, WANT_F64, WANT_I64 } want;

static mtb_status read_numeric(mtb_h5 *f, const char *obj, int rank, size_t *dims, want w,
                               void **data, int require_finite, mtb_error *err)
{
    *data = NULL;
    mtb_status st = check_file(f, obj, err);
    if (st)
        return st;
    if (!dims && rank != 0)
        return ffail(f, err, MTB_EINVAL, "reading %s: no dims array given", obj);
    hid_t dset, space = H5I_INVALID_HID, type = H5I_INVALID_HID;
    if ((st = open_dataset(f, obj, &dset, err)))
        return st;
    void *buf = NULL;
    space = H5Dget_space(dset);
    type = H5Dget_type(dset);
    if (space < 0 || type < 0) {
        st = ffail(f, err, MTB_EIO, "cannot read the type or shape of %s", obj);
        goto fail;
    }
    char tn[32];
    type_name(type, tn, sizeof tn);
    mtb_h5_kind kind = type_kind(type);
    if (kind != MTB_H5_FLOAT && kind != MTB_H5_INT) {
        st = ffail(f, err, MTB_EIO, "dataset %s holds %s, expected numbers", obj, tn);
        goto fail;
    }
    if (w == WANT_I64 && kind != MTB_H5_INT) {
        st = ffail(f, err, MTB_EIO, "dataset %s holds %s, expected integers (int64)", obj, tn);
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
    size_t es = w == WANT_F32 ? sizeof(float) : w == WANT_F64 ? sizeof(double) : sizeof(int64_t);
    if (n > SIZE_MAX / es) {
        st = ffail(f, err, MTB_EIO, "dataset %s is too large to hold in memory", obj);
        goto fail;
    }
    buf = malloc(n ? n * es : 1);
    if (!buf) {
        st = ffail(f, err, MTB_ENOMEM, "out of memory reading %s (%zu values)", obj, n);
        goto fail;
    }
    hid_t mtype = w == WANT_F32 ? H5T_NATIVE_FLOAT : w == WANT_F64 ? H5T_NATIVE_DOUBLE
                                                                  : H5T_NATIVE_INT64;
    if (n > 0 && H5Dread(dset, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0) {
        st = ffail(f, err, MTB_EIO, "cannot read dataset %s (%s)", obj, tn);
        goto fail;
    }
    if (require_finite && w != WANT_I64) {
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
    free(buf);
    if (type >= 0)
        H5Tclose(type);
    if (space >= 0)
        H5Sclose(space);
    H5Dclose(dset);
    return st;
}

mtb_status mtb_h5_read_f32(mtb_h5 *f, const char *obj, int rank, size_t *dims, float **data,
                           int require_finite, mtb_error *err)
{
    quiet q = quiet_begin();
    void *p = NULL;
    mtb_status st = read_numeric(f, obj, rank, dims, WANT_F32, &p, require_finite, err);
    *data = p;
    quiet_end(q);
    return st;
}

mtb_status mtb_h5_read_f64(mtb_h5 *f, const char *obj, int rank, size_t *dims, double **data,
                           int require_finite, mtb_error *err)
{
    quiet q = quiet_begin();
    void *p = NULL;
    mtb_status st = read_numeric(f, obj, rank, dims, WANT_F64, &p, require_finite, err);
    *data = p;
    quiet_end(q);
    return st;
}

mtb_status mtb_h5_read_i64(mtb_h5 *f, const char *obj, int rank, size_t *dims, int64_t **data,
                           mtb_error *err)
{
    quiet q = quiet_begin();
    void *p = NULL;
    mtb_status st = read_numeric(f, obj, rank, dims, WANT_I64, &p, 0, err);
    *data = p;
    quiet_end(q);
    return st;
}

static mtb_status shape_of(mtb_h5 *f, const char *obj, int *rank, size_t *dims, mtb_error *err)
{
    mtb_status st = check_file(f, obj, err);
    if (st)
        return st;
    hid_t dset, space;
    if ((st = open_dataset(f, obj, &dset, err)))
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
    if ((st = open_dataset(f, obj, &dset, err)))
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
    if ((st = open_dataset(f, obj, &dset, err)))
        return st;
    space = H5Dget_space(dset);
    type = H5Dget_type(dset);
    int r;
    size_t cnt;
    if (space < 0 || type < 0) {
        st = ffail(f, err, MTB_EIO, "cannot read the type or shape of %s", obj);
    } else if (H5Tget_class(type) != H5T_STRING) {
        char tn[32];
        type_name(type, tn, sizeof tn);
        st = ffail(f, err, MTB_EIO, "dataset %s holds %s, expected strings", obj, tn);
    } else if (!(st = space_shape(f, obj, space, &r, NULL, &cnt, err))) {
        if (r > 1)
            st = ffail(f, err, MTB_EIO, "string dataset %s has rank %d, expected 1", obj, r);
        else if (!(st = read_strings(f, obj, dset, 0, type, space, cnt, strs, err)))
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
    if (!path_exists(f->file, obj))
        return ffail(f, err, MTB_EIO, "no object %s in this file (looking for its attribute %s)",
                     obj, name);
    if (H5Aexists_by_name(f->file, obj, name, H5P_DEFAULT) <= 0)
        return ffail(f, err, MTB_EIO, "%s has no attribute %s", obj, name);
    a->attr = H5Aopen_by_name(f->file, obj, name, H5P_DEFAULT, H5P_DEFAULT);
    if (a->attr >= 0) {
        a->type = H5Aget_type(a->attr);
        a->space = H5Aget_space(a->attr);
    }
    if (a->attr < 0 || a->type < 0 || a->space < 0) {
        attr_close(a);
        return ffail(f, err, MTB_EIO, "cannot open %s", a->what);
    }
    if ((st = space_shape(f, a->what, a->space, &a->rank, NULL, &a->n, err)))
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
    char tn[32];
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
    char tn[32];
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
        char tn[32];
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
    H5I_type_t t = object_type(f->file, group);
    if (t == H5I_BADID)
        return ffail(f, err, MTB_EIO, "no group %s in this file", group);
    if (t != H5I_GROUP)
        return ffail(f, err, MTB_EIO, "%s is a dataset, expected a group", group);
    H5G_info_t info;
    if (H5Gget_info_by_name(f->file, group, &info, H5P_DEFAULT) < 0)
        return ffail(f, err, MTB_EIO, "cannot read the contents of group %s", group);
    size_t cnt = (size_t)info.nlinks;
    char **res = calloc(cnt ? cnt : 1, sizeof *res);
    if (!res)
        return ffail(f, err, MTB_ENOMEM, "out of memory listing %s", group);
    for (size_t i = 0; i < cnt && !st; i++) {
        ssize_t len = H5Lget_name_by_idx(f->file, group, H5_INDEX_NAME, H5_ITER_INC, (hsize_t)i,
                                         NULL, 0, H5P_DEFAULT);
        if (len < 0) {
            st = ffail(f, err, MTB_EIO, "cannot read entry %zu of group %s", i, group);
            break;
        }
        res[i] = malloc((size_t)len + 1);
        if (!res[i])
            st = ffail(f, err, MTB_ENOMEM, "out of memory listing %s", group);
        else if (H5Lget_name_by_idx(f->file, group, H5_INDEX_NAME, H5_ITER_INC, (hsize_t)i,
                                    res[i], (size_t)len + 1, H5P_DEFAULT) < 0)
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
