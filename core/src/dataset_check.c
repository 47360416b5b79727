/* dataset_check.c: what makes an mtb_dataset usable, checked in one place so that
 * saving refuses to write a file that loading would reject, and loading never hands
 * the trainer a table that would index past a target row. */
#include "mtb/dataset.h"

#include <math.h>
#include <stdlib.h>

static mtb_status check_task(const mtb_dataset *ds, int t, mtb_error *err)
{
    const mtb_task_spec *k = &ds->tasks[t];
    if ((unsigned)k->loss > (unsigned)MTB_LOSS_CE)
        return mtb_fail(err, MTB_EINVAL, "task %d: unknown loss kind %d (expected mse, l1, bce "
                        "or ce)", t, (int)k->loss);
    const char *ln = mtb_loss_name(k->loss);
    if (k->out_width < 1)
        return mtb_fail(err, MTB_EINVAL, "task %d (%s): out_width is %d, expected >= 1", t, ln,
                        k->out_width);
    if (k->target_width < 1)
        return mtb_fail(err, MTB_EINVAL, "task %d (%s): target_width is %d, expected >= 1", t,
                        ln, k->target_width);
    if (k->loss == MTB_LOSS_CE && k->target_width != 1)
        return mtb_fail(err, MTB_EINVAL, "task %d (ce): target_width is %d, expected 1 (one "
                        "column holding the class index)", t, k->target_width);
    if (k->loss != MTB_LOSS_CE && k->target_width != k->out_width)
        return mtb_fail(err, MTB_EINVAL, "task %d (%s): target_width %d differs from out_width "
                        "%d; %s compares each output with its own target column", t, ln,
                        k->target_width, k->out_width, ln);
    long long end = (long long)k->target_offset + k->target_width;
    if (k->target_offset < 0 || end > ds->y_width)
        return mtb_fail(err, MTB_EINVAL, "task %d (%s): target columns [%d, %lld) lie outside "
                        "the %d columns of y", t, ln, k->target_offset, end, ds->y_width);
    if (!isfinite(k->sigma) || !(k->sigma > 0.0))
        return mtb_fail(err, MTB_EINVAL, "task %d (%s): sigma is %g, expected a finite value > 0 "
                        "(use 1 when the task has no scale)", t, ln, k->sigma);
    int n = k->n_class_weights;
    int want = k->loss == MTB_LOSS_CE ? k->out_width : k->loss == MTB_LOSS_BCE ? 2 : 0;
    if (n != 0 && n != want)
        return mtb_fail(err, MTB_EINVAL, "task %d (%s): %d class weights, expected 0 or %d "
                        "(CE: one per class; BCE: negative and positive; MSE/L1: none)", t, ln,
                        n, want);
    if (n > MTB_TASK_MAX_CLASS_WEIGHTS)
        return mtb_fail(err, MTB_EINVAL, "task %d (%s): %d class weights, at most %d are "
                        "supported", t, ln, n, MTB_TASK_MAX_CLASS_WEIGHTS);
    for (int c = 0; c < n; c++)
        if (!isfinite(k->class_weights[c]) || k->class_weights[c] < 0.0)
            return mtb_fail(err, MTB_EINVAL, "task %d (%s): class weight %d is %g, expected a "
                            "finite value >= 0", t, ln, c, k->class_weights[c]);
    return MTB_OK;
}

/* No target column may belong to two tasks: each task's loss reads its own columns.
 * Pairwise for a few tasks; sorted by offset beyond that, so that a file declaring a
 * hundred thousand tasks is checked in O(T log T), not O(T^2). */
typedef struct col_range {
    int lo, end, task;
} col_range;

static int by_start(const void *a, const void *b)
{
    const col_range *x = a, *y = b;
    if (x->lo != y->lo)
        return (x->lo > y->lo) - (x->lo < y->lo);
    return (x->task > y->task) - (x->task < y->task);
}

static mtb_status overlap_fail(mtb_error *err, int i, int j, int col)
{
    return mtb_fail(err, MTB_EINVAL, "tasks %d and %d overlap: both use target column %d (check "
                    "target_offset and target_width)", i < j ? i : j, i < j ? j : i, col);
}

static mtb_status check_overlap(const mtb_dataset *ds, mtb_error *err)
{
    if (ds->T <= 64) {
        for (int i = 0; i < ds->T; i++)
            for (int j = i + 1; j < ds->T; j++) {
                const mtb_task_spec *a = &ds->tasks[i], *b = &ds->tasks[j];
                int lo = a->target_offset > b->target_offset ? a->target_offset : b->target_offset;
                int ea = a->target_offset + a->target_width;
                int eb = b->target_offset + b->target_width;
                if (lo < (ea < eb ? ea : eb))
                    return overlap_fail(err, i, j, lo);
            }
        return MTB_OK;
    }
    col_range *r = malloc((size_t)ds->T * sizeof *r);
    if (!r)
        return mtb_fail(err, MTB_ENOMEM, "dataset: out of memory checking %d tasks", ds->T);
    for (int t = 0; t < ds->T; t++)
        r[t] = (col_range){ds->tasks[t].target_offset,
                           ds->tasks[t].target_offset + ds->tasks[t].target_width, t};
    qsort(r, (size_t)ds->T, sizeof *r, by_start);
    /* Sorted by start, some pair overlaps iff a range starts before the furthest end so far. */
    mtb_status st = MTB_OK;
    int far = 0;
    for (int k = 1; k < ds->T && !st; k++) {
        if (r[k].lo < r[far].end)
            st = overlap_fail(err, r[far].task, r[k].task, r[k].lo);
        if (r[k].end > r[far].end)
            far = k;
    }
    free(r);
    return st;
}

static mtb_status check_split(const mtb_dataset *ds, const mtb_split *s, const char *name,
                              mtb_error *err)
{
    if (s->n > 0 && (!s->x || !s->y))
        return mtb_fail(err, MTB_EINVAL, "%s: %zu samples but no x or y array", name, s->n);
    const size_t dx = (size_t)ds->d_in, dy = (size_t)ds->y_width;
    for (size_t r = 0; r < s->n; r++) {
        for (size_t c = 0; c < dx; c++)
            if (!isfinite(s->x[r * dx + c]))
                return mtb_fail(err, MTB_ENUMERIC, "%s/x row %zu, column %zu is %g; inputs must "
                                "be finite", name, r, c, (double)s->x[r * dx + c]);
        for (size_t c = 0; c < dy; c++)
            if (!isfinite(s->y[r * dy + c]))
                return mtb_fail(err, MTB_ENUMERIC, "%s/y row %zu, column %zu is %g; targets must "
                                "be finite (CE marks a missing label with -1)", name, r, c,
                                (double)s->y[r * dy + c]);
        for (int t = 0; t < ds->T; t++) {
            const mtb_task_spec *k = &ds->tasks[t];
            const float *y = s->y + r * dy + (size_t)k->target_offset;
            if (k->loss == MTB_LOSS_CE) {
                float v = y[0];
                if (v != -1.0f && !(v >= 0.0f && v < (float)k->out_width && v == floorf(v)))
                    return mtb_fail(err, MTB_EINVAL, "%s/y row %zu: task %d (ce) target is %g, "
                                    "expected a class index in [0, %d) or -1 (unlabelled)",
                                    name, r, t, (double)v, k->out_width);
            } else if (k->loss == MTB_LOSS_BCE) {
                for (int c = 0; c < k->target_width; c++)
                    if (!(y[c] >= 0.0f && y[c] <= 1.0f))
                        return mtb_fail(err, MTB_EINVAL, "%s/y row %zu: task %d (bce) target "
                                        "%d is %g, expected a probability in [0, 1]", name, r,
                                        t, c, (double)y[c]);
            }
        }
    }
    return MTB_OK;
}

mtb_status mtb_dataset_check(const mtb_dataset *ds, mtb_error *err)
{
    if (!ds)
        return mtb_fail(err, MTB_EINVAL, "dataset: NULL");
    if (ds->T < 1 || !ds->tasks)
        return mtb_fail(err, MTB_EINVAL, "dataset: %d tasks, expected >= 1", ds->T);
    if (ds->d_in < 1)
        return mtb_fail(err, MTB_EINVAL, "dataset: d_in is %d, expected >= 1", ds->d_in);
    if (ds->y_width < 1)
        return mtb_fail(err, MTB_EINVAL, "dataset: y_width is %d, expected >= 1", ds->y_width);
    mtb_status st;
    for (int t = 0; t < ds->T; t++)
        if ((st = check_task(ds, t, err)))
            return st;
    if ((st = check_overlap(ds, err)))
        return st;
    if ((st = check_split(ds, &ds->train, "train", err)))
        return st;
    return check_split(ds, &ds->test, "test", err);
}
