/* bench.h: the microbenchmarks behind `mtb bench <what>`. Benchmarks print numbers; they
 * never assert on time. Each prints its key figures on its last line as key=value pairs. */
#ifndef MTB_BENCH_H
#define MTB_BENCH_H

int mtb_bench_step(int argc, char **argv);  /* bench_step.c */
int mtb_bench_weigh(int argc, char **argv); /* bench_weigh.c */

/* Single-precision matrix-product rate of this machine with the current BLAS thread count:
 * the best of `reps` timings of a (n, n) x (n, n) sgemm, in FLOP/s. The FLOP bound of a
 * step is its counted matrix-product FLOPs divided by this rate. */
double mtb_bench_sgemm_rate(int n, int reps);

/* Median of n values (sorts a copy in place of x). */
double mtb_bench_median(double *x, int n);

#endif
