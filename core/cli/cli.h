/* cli.h: what the subcommands of bin/mtb share.
 * Each subcommand lives in its own file as `int mtb_cmd_<name>(int argc, char **argv)`
 * (argv[0] is the subcommand name) and returns the process exit status:
 * 0 on success, 1 on a failure at run time, 2 on a usage error. */
#ifndef MTB_CLI_H
#define MTB_CLI_H

#include <stdio.h>

#include "mtb/status.h"

int mtb_cmd_gen(int argc, char **argv);
int mtb_cmd_train(int argc, char **argv);
int mtb_cmd_methods(int argc, char **argv);
int mtb_cmd_golden(int argc, char **argv);
int mtb_cmd_bench(int argc, char **argv);
int mtb_cmd_export(int argc, char **argv);
int mtb_bench_weigh(int argc, char **argv); /* bench/bench_weigh.c: `mtb bench weigh` */

/* "mtb <cmd>: error: <message>" on stderr. */
void cli_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prints err's message the same way and returns 1 (a run-time failure). */
int cli_fail(const char *cmd, const mtb_error *err);

/* Strict numeric option parsing: the whole text must be a number inside [lo, hi].
 * On failure prints "mtb <cmd>: error: --<opt> expects ..." and returns -1. */
int cli_parse_long(const char *cmd, const char *opt, const char *text, long lo, long hi, long *out);
int cli_parse_double(const char *cmd, const char *opt, const char *text, double lo, double hi,
                     double *out);

/* A one-line progress display on stderr, redrawn at most ~10 times per second and
 * only when stderr is a terminal (quiet in pipes, CI and log files). */
typedef struct cli_progress {
    int enabled;
    double start, last;
    long total;
    const char *label;
} cli_progress;
void cli_progress_begin(cli_progress *p, const char *label, long total);
void cli_progress_update(cli_progress *p, long done, const char *extra);
void cli_progress_end(cli_progress *p);

#endif
