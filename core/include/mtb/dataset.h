/* dataset.h: an in-memory multi-task dataset and its HDF5 form.
 * The schema is documented in datasets/README.md; loading validates everything
 * (presence, rank, shape, type, finiteness, consistency of the task table) and
 * fails with a message that names the file, the dataset and what was expected.
 * A data file is untrusted: it is first read in a child process under limits
 * (mtb_h5_run_isolated, h5.h), so a file that crashes or hangs HDF5 is an error, not the
 * end of the caller's process (datasets/README.md, "What is validated"). */
#ifndef MTB_DATASET_H
#define MTB_DATASET_H

#include <stddef.h>
#include <stdint.h>

#include "mtb/h5.h"
#include "mtb/status.h"
#include "mtb/task.h"

typedef struct mtb_split {
    size_t n;    /* samples */
    float *x;    /* (n, d_in) row-major */
    float *y;    /* (n, y_width) row-major: task t's targets in columns
                    [tasks[t].target_offset, + tasks[t].target_width) */
} mtb_split;

#define MTB_DATASET_NAME_LEN 64
#define MTB_DATASET_DESC_LEN 512

typedef struct mtb_dataset {
    char name[MTB_DATASET_NAME_LEN];        /* "mtr" */
    char generator[MTB_DATASET_DESC_LEN];   /* "key=value,..." parameters of the generator */
    uint64_t seed;                          /* generator seed */
    int d_in;
    int T;
    int y_width;
    mtb_task_spec *tasks;                   /* (T) */
    mtb_split train, test;
    /* Set by mtb_dataset_load: one mapping holds the four arrays of both splits (the pages
     * the checking process read them into), released by mtb_dataset_free. NULL when the
     * arrays are malloc'd (mtb_dataset_alloc). Private to this process: writes to the
     * arrays are not shared with any other. */
    void *storage;
    size_t storage_len;
} mtb_dataset;

/* Allocates the task table and both splits (zeroed, except each task's sigma = 1,
 * the "no scale" value). Any previous content of *ds is overwritten, not freed. */
mtb_status mtb_dataset_alloc(mtb_dataset *ds, int T, int d_in, int y_width, size_t n_train,
                             size_t n_test, mtb_error *err);
void mtb_dataset_free(mtb_dataset *ds);  /* frees the members; safe on a zeroed struct */

/* Writes to "<path>.tmp" and renames, so an interrupted run never leaves a bad file. */
mtb_status mtb_dataset_save(const char *path, const mtb_dataset *ds, mtb_error *err);
/* Checks the file in a child process under mtb_h5_limits_default for its size, then loads
 * it; a failed load leaves *ds zeroed. mtb_dataset_load_limits takes the child's limits
 * (NULL: the defaults). */
mtb_status mtb_dataset_load(const char *path, mtb_dataset *ds, mtb_error *err);
mtb_status mtb_dataset_load_limits(const char *path, const mtb_h5_limits *lim, mtb_dataset *ds,
                                   mtb_error *err);

/* The checks save and load apply: shapes, a consistent task table (known loss, widths
 * >= 1, CE target width 1, target columns inside y_width and not shared by two tasks,
 * sigma finite and > 0, class weights as task.h describes), finite x and y, CE targets
 * that are class indices or -1, BCE targets in [0, 1]. MTB_EINVAL for a bad table or
 * target, MTB_ENUMERIC for a non-finite value. */
mtb_status mtb_dataset_check(const mtb_dataset *ds, mtb_error *err);

#endif
