/* summary.h: the numbers an experiment hands to its report, and the report's tables.
 *
 * An experiment subcommand writes OUT/summary_<exp>.tsv, one "key value lo hi" line per
 * number a claim uses (lo/hi: its 95 % interval, or the value itself); the report
 * subcommand loads every summary and looks the numbers up as "<exp>.<key>" (NaN when the
 * experiment did not run at this scale, so the claim becomes "not testable here").
 * Tables are TSV files in OUT, copied into the Markdown report as they are. */
#ifndef REPRO_SUMMARY_H
#define REPRO_SUMMARY_H

#include <stddef.h>
#include <stdio.h>

typedef struct repro_summary {
    FILE *f;
    char path[1024];
} repro_summary;

/* Opens OUT/summary_<exp>.tsv (written atomically by repro_summary_close). 0 on success. */
int repro_summary_open(repro_summary *s, const char *out, const char *exp);
/* one line; blanks in the key are written as '_' */
void repro_summary_put(repro_summary *s, const char *key, double v, double lo, double hi);
/* the same with a printf-formatted key */
void repro_summary_putf(repro_summary *s, double v, double lo, double hi, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
int repro_summary_close(repro_summary *s);

/* For programs: the same, printing "<prog>: cannot write PATH" and exiting 1 on failure. */
void repro_summary_open_or_die(const char *prog, repro_summary *s, const char *out,
                               const char *exp);
void repro_summary_close_or_die(const char *prog, repro_summary *s);
/* For programs: OUT/name opened for an atomic write (repro_open) and committed
 * (repro_commit), or "<prog>: cannot write PATH" and exit 1. path (n bytes) receives the
 * file's path for the commit. */
FILE *repro_out_open(const char *prog, const char *out, const char *name, char *path, size_t n);
void repro_out_close(const char *prog, FILE *f, const char *path);

/* Reads OUT/summary_<exp>.tsv into the process-wide table (a missing file adds nothing);
 * returns the number of entries read, -1 when out of memory. */
int repro_summary_load(const char *out, const char *exp);
/* "<exp>.<key>" -> value (lo, hi may be NULL); NaN when absent. */
double repro_summary_get(const char *key, double *lo, double *hi);
/* The loaded entries in load order (for a claim over every key with a given prefix): the
 * key of entry i, 0 <= i < repro_summary_count(), with its value, lo and hi. */
int repro_summary_count(void);
const char *repro_summary_entry(int i, double *v, double *lo, double *hi);
void repro_summary_clear(void);

/* OUT/name (TSV with a header line) as a Markdown table, or a line saying it was not
 * produced at this scale. */
void repro_tsv_markdown(FILE *o, const char *out, const char *name);
/* A figure drawn by repro_plot: the PNG inline and a link to the SVG, under figdir. */
void repro_figure(FILE *o, const char *figdir, const char *stem, const char *caption);

#endif
