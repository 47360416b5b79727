/* bench.h: the microbenchmarks behind `mtb bench <what>`. Benchmarks print numbers; they
 * never assert on time. Each prints its key figures on its last line as key=value pairs. */
#ifndef MTB_BENCH_H
#define MTB_BENCH_H

int mtb_bench_step(int argc, char **argv);  /* bench_step.c */
int mtb_bench_weigh(int argc, char **argv); /* bench_weigh.c */

#endif
