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
int mtb_cmd_problems(int argc, char **argv);
int mtb_cmd_golden(int argc, char **argv);
int mtb_cmd_bench(int argc, char **argv);
int mtb_cmd_export(int argc, char **argv);
int mtb_cmd_sweep(int argc, char **argv);
int mtb_bench_weigh(int argc, char **argv); /* bench/bench_weigh.c: `mtb bench weigh` */

/* Set only by the command-line fuzz target (tests/fuzz/fuzz_cli.c): a subcommand returns
 * right after its arguments are parsed and checked, before it reads, writes, generates or
 * trains anything, with the status it would have had so far (0: the arguments are valid). */
extern int cli_check_only;

/* "mtb <cmd>: error: <message>" on stderr. */
void cli_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prints err's message the same way and returns 1 (a run-time failure). */
int cli_fail(const char *cmd, const mtb_error *err);

/* Strict numeric option parsing: the whole text must be a number inside [lo, hi].
 * On failure prints "mtb <cmd>: error: --<opt> expects ..." and returns -1. */
int cli_parse_long(const char *cmd, const char *opt, const char *text, long lo, long hi, long *out);
int cli_parse_double(const char *cmd, const char *opt, const char *text, double lo, double hi,
                     double *out);

/* Seeds: one range for every subcommand, 0 .. 2^63 - 1 (what a run file's int64 attribute
 * holds as itself; mtb sweep --seeds uses the same). */
#define CLI_SEED_MAX 9223372036854775807LL
int cli_parse_seed(const char *cmd, const char *text, unsigned long long *out);

/* ---- output files: checked before the work, their directory made just before writing.
 * cli_output_check fails (message printed, -1) on an empty name, a trailing '/', a
 * directory or something else that is not a regular file, and on a directory that cannot
 * be written. A directory that does not exist yet is not an error when the nearest existing
 * one above it is writable: cli_output_prepare makes it (mkdir -p) right before the file is
 * written, and cli_output_abandon (or a signal, see below) removes what it made if the
 * write fails. So a run that fails early, or is interrupted, leaves no directory behind. */
int cli_output_check(const char *cmd, const char *opt, const char *path);
int cli_output_prepare(const char *cmd, const char *path);
void cli_output_abandon(void);

/* SIGINT, SIGTERM, SIGHUP and SIGQUIT: remove the temporary files being written
 * (mtb_h5_remove_temporaries) and the directories cli_output_prepare made, then
 * _exit(128 + signal), the shell's status for a process ended by that signal. Only
 * async-signal-safe calls (unlink, rmdir, write, _exit). */
void cli_cleanup_on_signals(void);

/* Progress on stderr: on a terminal, one line redrawn at most ~10 times per second; when
 * stderr is a pipe or a log file, a plain line every CLI_PROGRESS_LOG_S seconds (so a long
 * run under nohup, CI or a batch system shows it is alive) and none for a short run.
 * enabled = 0 turns both off (-q). */
#define CLI_PROGRESS_LOG_S 30.0
typedef struct cli_progress {
    int enabled;
    int tty;
    double start, last;
    long total;
    const char *label;
} cli_progress;
void cli_progress_begin(cli_progress *p, const char *label, long total);
void cli_progress_update(cli_progress *p, long done, const char *extra);
void cli_progress_end(cli_progress *p);

#endif
