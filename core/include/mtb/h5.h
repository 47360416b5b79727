/* h5.h: the thin HDF5 layer every mtb file goes through (datasets, run files, golden
 * fixtures, reports). Every HDF5 return value is checked; a failure becomes MTB_EIO with
 * the file and object name in the message. HDF5's own error stack printing is silenced
 * for the duration of each call (and restored), so users see mtb's message, not a trace.
 *
 * Writing is atomic: mtb_h5_create writes "<path>.tmp"; mtb_h5_commit closes and renames
 * it to path; mtb_h5_discard (or an error) removes the temporary. Object paths such as
 * "/train/x" create intermediate groups as needed. */
#ifndef MTB_H5_H
#define MTB_H5_H

#include <stddef.h>
#include <stdint.h>

#include "mtb/status.h"

#define MTB_H5_MAX_RANK 8

typedef struct mtb_h5 mtb_h5;

mtb_h5 *mtb_h5_create(const char *path, mtb_error *err);
mtb_status mtb_h5_commit(mtb_h5 *f, mtb_error *err); /* closes f in every case */
void mtb_h5_discard(mtb_h5 *f);                      /* closes f, removes the temporary; NULL ok */
mtb_h5 *mtb_h5_open(const char *path, mtb_error *err); /* read-only */
void mtb_h5_close(mtb_h5 *f);                        /* NULL ok */
const char *mtb_h5_path(const mtb_h5 *f);

/* ---- writing: datasets (row-major, dims[rank]) and attributes on an object ----- */
mtb_status mtb_h5_write_f32(mtb_h5 *f, const char *obj, int rank, const size_t *dims,
                            const float *data, mtb_error *err);
mtb_status mtb_h5_write_f64(mtb_h5 *f, const char *obj, int rank, const size_t *dims,
                            const double *data, mtb_error *err);
mtb_status mtb_h5_write_i64(mtb_h5 *f, const char *obj, int rank, const size_t *dims,
                            const int64_t *data, mtb_error *err);
/* Variable-length UTF-8 strings, rank 1. */
mtb_status mtb_h5_write_strs(mtb_h5 *f, const char *obj, size_t n, const char *const *strs,
                             mtb_error *err);
mtb_status mtb_h5_group(mtb_h5 *f, const char *obj, mtb_error *err); /* ensure a group exists */
/* Attributes attach to obj ("/" for the file); the object must exist. */
mtb_status mtb_h5_attr_str(mtb_h5 *f, const char *obj, const char *name, const char *value,
                           mtb_error *err);
mtb_status mtb_h5_attr_f64(mtb_h5 *f, const char *obj, const char *name, double value,
                           mtb_error *err);
/* A rank-1 attribute of n variable-length UTF-8 strings (as h5py writes a list of str). */
mtb_status mtb_h5_attr_strs(mtb_h5 *f, const char *obj, const char *name, size_t n,
                            const char *const *strs, mtb_error *err);
mtb_status mtb_h5_attr_i64(mtb_h5 *f, const char *obj, const char *name, int64_t value,
                           mtb_error *err);

/* ---- reading ------------------------------------------------------------------ */
int mtb_h5_exists(mtb_h5 *f, const char *obj);   /* 1 if the object (group/dataset) exists */
int mtb_h5_attr_exists(mtb_h5 *f, const char *obj, const char *name);

/* Reads a numeric dataset converted to the requested type. rank must match exactly
 * (or pass rank < 0 to accept any rank; dims then needs MTB_H5_MAX_RANK entries and
 * mtb_h5_shape tells the rank). dims[] receives the shape. *data is malloc'd; the
 * caller frees it. Fails (MTB_EIO) with a clear message on a missing object, wrong
 * rank or non-numeric class, and with MTB_ENUMERIC when require_finite is set and a
 * value is NaN or infinite. Integer (and enum) datasets read as f32/f64 are accepted;
 * mtb_h5_read_i64 accepts only integer and enum classes. Scalar datasets have rank 0. */
mtb_status mtb_h5_read_f32(mtb_h5 *f, const char *obj, int rank, size_t *dims, float **data,
                           int require_finite, mtb_error *err);
mtb_status mtb_h5_read_f64(mtb_h5 *f, const char *obj, int rank, size_t *dims, double **data,
                           int require_finite, mtb_error *err);
mtb_status mtb_h5_read_i64(mtb_h5 *f, const char *obj, int rank, size_t *dims, int64_t **data,
                           mtb_error *err);
/* Rank and shape only. */
mtb_status mtb_h5_shape(mtb_h5 *f, const char *obj, int *rank, size_t *dims, mtb_error *err);
/* Rank-1 string dataset: *strs is a malloc'd array of malloc'd strings; free with
 * mtb_h5_free_strs. */
mtb_status mtb_h5_read_strs(mtb_h5 *f, const char *obj, size_t *n, char ***strs, mtb_error *err);
void mtb_h5_free_strs(char **strs, size_t n);

/* Attributes: scalar string (fixed or variable length), scalar numbers (any integer
 * or float class, and HDF5 enums such as h5py's booleans, read as numbers). */
mtb_status mtb_h5_attr_get_str(mtb_h5 *f, const char *obj, const char *name, char *buf,
                               size_t len, mtb_error *err);
mtb_status mtb_h5_attr_get_f64(mtb_h5 *f, const char *obj, const char *name, double *value,
                               mtb_error *err);
mtb_status mtb_h5_attr_get_i64(mtb_h5 *f, const char *obj, const char *name, int64_t *value,
                               mtb_error *err);
/* Rank-1 string attribute (e.g. the golden fixtures' "cases"). */
mtb_status mtb_h5_attr_get_strs(mtb_h5 *f, const char *obj, const char *name, size_t *n,
                                char ***strs, mtb_error *err);

/* Lists the names of the direct children of a group; free with mtb_h5_free_strs. */
mtb_status mtb_h5_list(mtb_h5 *f, const char *group, size_t *n, char ***names, mtb_error *err);

/* ---- introspection (for generic tools such as `mtb export`) -------------------- */
int mtb_h5_is_group(mtb_h5 *f, const char *obj); /* 1 if obj exists and is a group */

typedef enum mtb_h5_kind {
    MTB_H5_FLOAT = 0,  /* IEEE floating point */
    MTB_H5_INT,        /* integers and enums (h5py booleans) */
    MTB_H5_STRING,     /* fixed or variable length strings */
    MTB_H5_OTHER       /* compound, opaque, ...: mtb reads none of these */
} mtb_h5_kind;

/* Element kind of a dataset and a short type name ("float32", "int64", "uint8",
 * "enum(int8)", "string"); name may be NULL. */
mtb_status mtb_h5_dtype(mtb_h5 *f, const char *obj, mtb_h5_kind *kind, char *name, size_t len,
                        mtb_error *err);

/* Rank-1 (or scalar) numeric attribute, e.g. the golden fixtures' "loss_scales";
 * *vals is malloc'd, the caller frees it. */
mtb_status mtb_h5_attr_get_f64s(mtb_h5 *f, const char *obj, const char *name, size_t *n,
                                double **vals, mtb_error *err);

#endif
