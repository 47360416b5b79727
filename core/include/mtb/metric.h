/* metric.h: the per-task metrics a benchmark problem reports, with their direction.
 *
 * A loss trains; a metric judges. Each is scale-free so that Delta-p (deltap.h) compares
 * tasks of very different loss scales (spec rlw.md sec. 2, LSD-6):
 *   NMSE          mean over outputs of (yhat - y)^2 / ref^2        lower is better
 *   MAE_REL       mean over outputs of |yhat - y| / ref            lower is better
 *   ACCURACY      1[argmax_k logit_k = class label] (CE targets)   higher is better
 *   BIT_ACCURACY  mean over outputs of 1[(logit > 0) = (target > 1/2)]   higher is better
 * yhat is the head output times the task's output scale (task.h), i.e. in the units of
 * the targets. Each metric is a mean over samples; mtb_metric_accumulate adds one batch's
 * per-sample sum and its sample count so that batches combine exactly. */
#ifndef MTB_METRIC_H
#define MTB_METRIC_H

#include <stddef.h>

#include "mtb/task.h"

typedef enum mtb_metric_kind {
    MTB_METRIC_NONE = 0,
    MTB_METRIC_NMSE,
    MTB_METRIC_MAE_REL,
    MTB_METRIC_ACCURACY,
    MTB_METRIC_BIT_ACCURACY
} mtb_metric_kind;

typedef struct mtb_metric {
    mtb_metric_kind kind;
    double ref;          /* NMSE and MAE_REL: the reference scale sigma (> 0); else unused */
    int target_offset;   /* -1: the task's own target columns; >= 0: another block of the
                            target matrix of the same width (LSD-6's clean labels) */
} mtb_metric;

const char *mtb_metric_name(mtb_metric_kind k);           /* "nmse", "mae_rel", "accuracy", ... */
int mtb_metric_from_name(const char *name, mtb_metric_kind *k); /* 0 ok, -1 unknown */
int mtb_metric_higher_is_better(mtb_metric_kind k);       /* 1 for the accuracies, else 0 */

/* Adds the batch's sum of per-sample metric values to *sum and the number of samples that
 * count to *count (CE: only labelled rows). y points at the whole target row (column 0);
 * the metric reads columns from m->target_offset, or t->target_offset when that is -1. */
void mtb_metric_accumulate(const mtb_metric *m, const mtb_task_spec *t, const float *yhat,
                           size_t ldyhat, const float *y, size_t ldy, int B, double *sum,
                           double *count);

#endif
