/* lr_select.h: choosing each configuration's learning rate on a validation split from a grid
 * (rlw.md sec. 2's LSD-6-sgd, imtl.md sec. 1's SGD profile): one run per (configuration, lr),
 * all compared against one common reference, each task's median over every finished run, so
 * that the choice is one fixed weighting of the tasks' relative changes (Delta-p, DB-MTL Eq. 2,
 * mtb_delta_p), the same for every configuration. A run that diverged or is missing is never
 * chosen. Used by the IMTL and DB-MTL reproductions' sgd.c. */
#ifndef REPRO_LR_SELECT_H
#define REPRO_LR_SELECT_H

#include <stdio.h>

enum { REPRO_LR_MAXT = 64 };

/* nc configurations x nl learning rates, T <= REPRO_LR_MAXT tasks. M[(c nl + l) REPRO_LR_MAXT
 * + t]: the metric of task t of the run (c, l); ok[c nl + l]: 1 when that run finished with finite metrics. hb[t]: 1 when task
 * t's metric is higher-is-better. Out: dp[c nl + l], the run's Delta-p (%) against the common
 * reference (NAN when not ok); best[c], the l of the largest dp (-1 when no run of c is ok).
 * 0, or -1 (nothing written) when T > REPRO_LR_MAXT or out of memory. */
int repro_lr_select(int nc, int nl, int T, const double *M, const int *ok, const int *hb,
                    double *dp, int *best);

/* The selection table's header: `first` (the configuration column), one "Δp_val % at lr <x>"
 * column per lr, then "chosen lr". */
void repro_lr_select_header(FILE *f, const char *first, const char *const *lr, int nl);

#endif
