/* deltap.h: Delta-p, the relative multi-task improvement, and the seed statistics every
 * benchmark table reports.
 *
 * Delta-p with the standard sign (DB-MTL Eq. 2; spec rlw.md sec. 2, erratum E1):
 *   Delta-p = 100/T sum_t (1/N_t) sum_{i in task t} (-1)^{s_i} (M_i - R_i) / R_i,
 *   s_i = 0 when higher is better, 1 when lower is better,
 * for metrics M of a method and R of the reference (STL or EW), N_t metrics per task.
 * Positive means better than the reference. */
#ifndef MTB_DELTAP_H
#define MTB_DELTAP_H

#include <stddef.h>

#include "mtb/stats.h"

/* n metrics; metric i belongs to task task_of[i] in 0..T-1 (NULL: metric i is task i,
 * and T must equal n). higher_better[i] != 0 means s_i = 0. per_task (T, may be NULL)
 * receives Delta-p_t = 100 (1/N_t) sum_i (-1)^s (M - R)/R; the result is their mean.
 * Returns NAN (and per_task all NAN) when n = 0, T < 1, a task index is out of range, a task
 * has no metric, a reference value is 0 or non-finite, or a metric is non-finite.
 * The papers' tables apply this to seed means; per-seed Delta-p against the same seed's
 * reference (then mtb_stats_summarise) is the other convention (rlw.md sec. 2). */
double mtb_delta_p(size_t n, const double *M, const double *R, const int *higher_better,
                   const int *task_of, int T, double *per_task);

/* Summary (mtb_stats_summarise) of the seed-paired differences d_i = a_i - b_i, n pairs:
 * mean, sample std, 95 % t half-width t_{0.975, n-1} std / sqrt(n), min, max. Undefined
 * fields are NAN (n < 2 for std and ci95; n = 0 or a NULL array for all). */
mtb_stats_summary mtb_stats_paired_diff(const double *a, const double *b, size_t n);

#endif
