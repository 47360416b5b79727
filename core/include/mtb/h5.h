/* h5.h: the thin HDF5 layer every mtb file goes through (datasets, run files, golden
 * fixtures, reports). Every HDF5 return value is checked; a failure becomes MTB_EIO with
 * the file and object name in the message. HDF5's own error stack printing is silenced
 * for the duration of each call (and restored), so users see mtb's message, not a trace.
 *
 * Writing is atomic: mtb_h5_create writes "<path>.tmp"; mtb_h5_commit closes and renames
 * it to path; mtb_h5_discard (or an error) removes the temporary. Object paths such as
 * "/train/x" create intermediate groups as needed.
 *
 * Trust: mtb_h5_open trusts the file's structure to HDF5, which (Debian's 1.10.8 at least)
 * can crash, loop forever or allocate without bound on a damaged or hostile file. Open a
 * file that came from outside with mtb_h5_open_untrusted (below); mtb_dataset_load does.
 * Either way, every read checks the sizes the file declares before allocating: a dataset
 * or attribute may declare at most max(file size, 1 MiB) bytes (64 times that when its
 * values are compressed), values stored in other files (external storage, virtual
 * datasets, external links) are refused, and element types must have a plain size. */
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
/* Bytes (image pixels, small labels): stored as uint8; read back with mtb_h5_read_i64. */
mtb_status mtb_h5_write_u8(mtb_h5 *f, const char *obj, int rank, const size_t *dims,
                           const uint8_t *data, mtb_error *err);
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
/* uint8 values (images, class labels): integer classes only; a value outside 0..255 is
 * clamped by HDF5's conversion, so a caller that needs exact bytes checks the stored type
 * (mtb_h5_dtype) first. */
mtb_status mtb_h5_read_u8(mtb_h5 *f, const char *obj, int rank, size_t *dims, uint8_t **data,
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

/* ---- untrusted files ------------------------------------------------------------------
 * A file from outside is first read in a child process (fork) under limits; the calling
 * process touches it only after the child finished cleanly. A child that crashes, hangs,
 * runs out of memory or of CPU becomes an MTB_EIO whose message names the file, what went
 * wrong and the object being read ("the file is damaged or is not an mtb data set: the HDF5
 * library crashed (SIGSEGV, ...) while reading attribute generator of /"). The child never
 * writes a file, prints nothing, leaves no core file and dies with its parent; the caller's
 * signal handlers, atexit handlers and open HDF5 files are not touched. */
typedef struct mtb_h5_limits {
    double wall_s;          /* wall-clock seconds the child may take */
    double cpu_s;           /* CPU seconds the child may use */
    size_t memory_bytes;    /* address space the child may map beyond the caller's */
    size_t max_objects;     /* groups, datasets, named types and attributes in the file */
    size_t max_value_bytes; /* largest dataset or attribute as declared; 0 = only the
                               file-size rule above */
} mtb_h5_limits;

/* Defaults for a file of file_bytes bytes: CPU 5 s + 1 s per 20 MB, wall 5 s + 1 s per 5 MB
 * (a loaded machine gives the child less than a core), memory 512 MiB + 4 x the file,
 * 100 000 objects, no extra value cap. */
void mtb_h5_limits_default(mtb_h5_limits *lim, uint64_t file_bytes);

/* Runs fn(ctx, err) in a child process under lim (NULL: mtb_h5_limits_default(.., 0)) and
 * returns its status and message; a child that does not return is explained as above, with
 * path and kind ("an mtb data set", "an mtb run file"; NULL: "an HDF5 file mtb can read")
 * in the message. fn's effects on memory stay in the child: it can only report. */
typedef mtb_status (*mtb_h5_isolated_fn)(void *ctx, mtb_error *err);
mtb_status mtb_h5_run_isolated(mtb_h5_isolated_fn fn, void *ctx, const char *path,
                               const char *kind, const mtb_h5_limits *lim, mtb_error *err);

/* Reads the whole file the way mtb's readers would, in a child under lim (NULL: the
 * defaults for the file's size): every group, link, named type and attribute, every value
 * of every dataset and attribute that mtb_h5_read_* / mtb_h5_attr_get_* can read, and
 * looks each object and attribute up by name. Refuses external links and user-defined
 * links, values stored outside the file, unavailable filters, more than max_objects
 * objects and the size violations above. MTB_OK means a trusted open of the same bytes
 * does only what the child already survived (the file must not change in between;
 * mtb_h5_open_untrusted checks that it did not). */
mtb_status mtb_h5_validate_untrusted(const char *path, const mtb_h5_limits *lim, mtb_error *err);

/* mtb_h5_validate_untrusted, then mtb_h5_open; fails if the file changed (size, time or
 * inode) between the two. */
mtb_h5 *mtb_h5_open_untrusted(const char *path, const mtb_h5_limits *lim, mtb_error *err);

/* ---- temporary files and signals ------------------------------------------------------
 * Every "<path>.tmp" that mtb_h5_create made and that is not yet committed or discarded is
 * recorded (up to MTB_H5_MAX_TEMPORARIES at once; more are written but not recorded).
 * mtb_h5_remove_temporaries unlinks them all; it is async-signal-safe (unlink only, no
 * allocation, no lock), for a program's SIGINT / SIGTERM handler, which should then _exit:
 * the HDF5 handles are left as they are. */
#define MTB_H5_MAX_TEMPORARIES 16
void mtb_h5_remove_temporaries(void);

#endif
