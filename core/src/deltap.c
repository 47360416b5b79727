/* deltap.c: Delta-p and the paired seed statistics (see deltap.h).
 *
 * Delta-p, DB-MTL (Lin et al.) Eq. 2, with the reference R (STL in DB-MTL, EW in the
 * RLW ICLR submission, sec. 5.3):
 *   Delta-p   = (1/T) sum_t Delta-p_t,
 *   Delta-p_t = 100 (1/N_t) sum_{i in task t} (-1)^{s_i} (M_i - R_i) / R_i,
 *   s_i = 0 when higher is better, 1 when lower is better.
 * The RLW ICLR text prints the exponent the other way round (p = 1 for higher-better), which
 * would flip every sign; its Table 1 was computed with the sign above (erratum E1 of
 * spec rlw.md). Each task is averaged over its own metrics first so that a task
 * with five metrics (NYUv2 normals) counts as much as one with two.
 *
 * The per-task sums are formed by one pass over the metrics per task (O(n T)): n and T are a
 * handful, and this keeps the function allocation-free. */
#include "mtb/deltap.h"

#include <math.h>
#include <stdlib.h>

static void fill_nan(double *per_task, int T)
{
    if (per_task)
        for (int t = 0; t < T; t++)
            per_task[t] = NAN;
}

double mtb_delta_p(size_t n, const double *M, const double *R, const int *higher_better,
                   const int *task_of, int T, double *per_task)
{
    if (T < 1)
        return NAN;
    fill_nan(per_task, T);
    if (n == 0 || !M || !R || !higher_better)
        return NAN;
    /* Without a task map every metric is its own task, so T has to say so. */
    if (!task_of && (size_t)T != n)
        return NAN;
    for (size_t i = 0; i < n; i++) {
        int t = task_of ? task_of[i] : (int)i;
        if (t < 0 || t >= T)
            return NAN;
        /* A zero reference has no relative change; a non-finite value (a diverged run)
         * would otherwise leak an Inf or a sign-less NaN into a table. */
        if (!isfinite(R[i]) || R[i] == 0.0 || !isfinite(M[i]))
            return NAN;
    }

    double total = 0.0;
    for (int t = 0; t < T; t++) {
        double s = 0.0;
        size_t nt = 0;
        for (size_t i = 0; i < n; i++) {
            if ((task_of ? task_of[i] : (int)i) != t)
                continue;
            double rel = (M[i] - R[i]) / R[i];
            s += higher_better[i] ? rel : -rel; /* (-1)^{s_i}, Eq. 2 */
            nt++;
        }
        if (nt == 0) { /* N_t = 0: Delta-p_t undefined, and so is the task average */
            fill_nan(per_task, T);
            return NAN;
        }
        double dt = 100.0 * s / (double)nt;
        if (per_task)
            per_task[t] = dt;
        total += dt;
    }
    return total / (double)T;
}

/* The seed-paired difference removes the variance both runs share through a seed (the same
 * initialisation and batch order, rlw.md sec. 2), so its interval is the one that decides
 * "a beats b", not the overlap of two marginal intervals. */
mtb_stats_summary mtb_stats_paired_diff(const double *a, const double *b, size_t n)
{
    mtb_stats_summary undefined = {n, NAN, NAN, NAN, NAN, NAN};
    if (n == 0 || !a || !b)
        return undefined;
    double small[64], *d = small;
    if (n > sizeof small / sizeof small[0]) {
        d = malloc(sizeof(double) * n);
        if (!d)
            return undefined;
    }
    for (size_t i = 0; i < n; i++)
        d[i] = a[i] - b[i];
    mtb_stats_summary s = mtb_stats_summarise(d, n);
    if (d != small)
        free(d);
    return s;
}
