/* clock.h: the one wall clock and the one duration format of mtb (run loops, sweeps,
 * benchmarks and reports all use these, so that times read the same everywhere). */
#ifndef MTB_CLOCK_H
#define MTB_CLOCK_H

#include <stddef.h>

/* Monotonic wall clock in seconds (CLOCK_MONOTONIC). */
double mtb_clock_s(void);

/* "4.2s" (below 10 s), "42s", "3m07s", "2h05m"; "?" for a negative, non-finite or absurd (> 115 days) value.
 * Writes at most n bytes, always terminated; returns buf. */
char *mtb_format_duration(double seconds, char *buf, size_t n);

#endif
