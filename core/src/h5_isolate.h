/* h5_isolate.h: internal to the library (not installed). The child-process side of
 * mtb_h5_run_isolated (h5.h): while a function runs isolated, mtb_isolate_note records what
 * it is reading, so that a crash or a hang can be reported with the object it happened in.
 * Outside an isolated child it does nothing and costs one branch. */
#ifndef MTB_H5_ISOLATE_H
#define MTB_H5_ISOLATE_H

/* "attribute generator of /", "dataset /train/x", ... (copied; at most 255 bytes kept). */
void mtb_isolate_note(const char *what);
void mtb_isolate_note2(const char *what, const char *obj);

/* The pieces of h5.c that dataset.c's isolated load reuses. */
#include <stdint.h>

#include "mtb/h5.h"

/* The checks an open makes before HDF5 sees the file (a regular, readable file);
 * *bytes (may be NULL) receives its size. */
mtb_status mtb_h5_check_input(const char *path, uint64_t *bytes, mtb_error *err);

/* Visits every object and attribute of f (mtb_h5_validate_untrusted's walk); with
 * read_values, also reads every value the readers can read. max_objects 0 = no limit. */
mtb_status mtb_h5_walk(mtb_h5 *f, int read_values, size_t max_objects, mtb_error *err);

/* mtb_h5_read_f32 into buf (cap values) instead of a malloc'd array. */
mtb_status mtb_h5_read_f32_into(mtb_h5 *f, const char *obj, int rank, size_t *dims, float *buf,
                                size_t cap, int require_finite, mtb_error *err);

#endif
