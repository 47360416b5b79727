/* report.h: the scaffolding of a generated report. Every fact a report states about the
 * machine, the code version or the wall time comes from here: the provenance recorded in the
 * run files (provenance.h) and the wall time the pipeline measured. */
#ifndef REPRO_REPORT_H
#define REPRO_REPORT_H

#include <stdio.h>

#include "repro.h"

/* What the run files of a report have in common, or how they differ. */
typedef struct repro_provenance_scan {
    int n_files, n_unreadable;
    int n_versions;                 /* distinct code versions (> 1: mixed results) */
    char versions[4][128];          /* the first four */
    int n_resumed;                  /* jobs that ran in a resumed sweep */
    char cpu_model[128], blas_kernel[64], blas_config[256], hostname[128];
    int cpu_cores, blas_threads;
    double sgemm_gflops_min, sgemm_gflops_max;
    double wall_s_sum;              /* sum of the runs' training times */
    int n_reused;                   /* planned runs linked from other sweeps (DIR/reused.tsv) */
    int n_reuse_sources;            /* the sweep directories they came from ... */
    char reuse_source[8][256];      /* ... the first eight, */
    int reuse_count[8];             /* with their counts */
} repro_provenance_scan;

/* Reads the provenance of every file (those that cannot be read are counted). */
void repro_provenance_scan_files(repro_provenance_scan *p, const char *const *paths, int n);

/* The header of a report: title (NULL: none, for a section of another file), the program that wrote it, the scale, the provenance
 * (from the scan) and the pipeline's wall time (NAN: not given). */
void repro_report_header(FILE *o, const char *title, const char *program, repro_scale s,
                         const repro_provenance_scan *p, double wall_s);

/* Replaces the text between the lines "<!-- begin NAME -->" and "<!-- end NAME -->" of a
 * Markdown file (atomically); the markers must exist. 0 on success. */
int repro_replace_section(const char *path, const char *name, const char *body);

/* The same over the given files (e.g. a timing file's provenance) and every run file planned
 * in the sweep directories (DIR/plan.tsv; a directory without a plan is skipped quietly: that
 * sweep did not run at this scale). */
void repro_provenance_scan_sweeps(repro_provenance_scan *p, const char *const *files, int n_files,
                                  const char *const *dirs, int n_dirs);

/* The output every report writes: OUT/report.md (the titled header, then body(o, "", ctx))
 * and, when readme is not NULL, that file's "latest-run" section (the header without a
 * title, then body(o, figdir, ctx): figures linked under figdir). 0 on success, -1 with the
 * reason on stderr (prefixed by program). */
int repro_write_report(const char *out, const char *title, const char *program, repro_scale s,
                       const repro_provenance_scan *p, double wall_s, const char *readme,
                       const char *figdir, void (*body)(FILE *o, const char *figdir, void *ctx),
                       void *ctx);

#endif
