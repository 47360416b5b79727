/* mfbench.h: repro-multifashion, the MultiFashion benchmark (`make bench-multifashion`; spec
 * multifashion.md sec. 4-5, docs/multifashion.md):
 *   cost     ms per training step of lenet-pmtl (and mlp) at batch 256, one BLAS thread,
 *            against the FLOP bound (the step's counted matrix-product FLOPs at this
 *            machine's measured sgemm rate): OUT/cost.tsv, OUT/summary_cost.tsv
 *   report   from the sweep's run files: per-task accuracy and their mean with seed CIs,
 *            Delta-p against STL and EW, seed-paired differences to EW with t-intervals, wins
 *            over EW, ms per step; claims C1-C4 with computed verdicts; OUT/table.tsv,
 *            OUT/scatter.dat (the accuracy scatter), OUT/report.md */
#ifndef MFBENCH_H
#define MFBENCH_H

#include "../common/claim.h"
#include "../common/repro.h"
#include "../common/summary.h"

#define PROG "repro-multifashion"

int mf_cost(const char *out, repro_scale s);
int mf_report(const char *out, repro_scale s, const char *sweep, double wall_s);

#endif
