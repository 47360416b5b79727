/* bench.h: the microbenchmarks behind `mtb bench <what>`. Benchmarks print numbers; they
 * never assert on time. Each prints its key figures on its last line as key=value pairs. */
#ifndef MTB_BENCH_H
#define MTB_BENCH_H

int mtb_bench_step(int argc, char **argv);  /* bench_step.c */
int mtb_bench_weigh(int argc, char **argv); /* bench_weigh.c */
int mtb_bench_peak(int argc, char **argv);  /* bench_machine.c */

#include <stddef.h>
#include <stdio.h>

/* "# " lines: CPU model, cpuid, flags, OpenBLAS version, config, kernel, why it runs, the
 * best supported kernel, BLAS threads, code version (bench_machine.c). */
void bench_print_machine(FILE *out);

/* The sgemm peak (GFLOP/s, max over a few shapes, `threads` BLAS threads) of the best kernel
 * this CPU supports that passes the self-check, measured in a child started on that kernel
 * when it is not the one running. 0, or -1 when no kernel could be measured; log (may be
 * NULL) gets a line for each kernel passed over. */
int bench_best_peak(int threads, FILE *log, char *kernel, size_t len, double *gflops);

#endif
