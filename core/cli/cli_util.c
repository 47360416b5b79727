/* cli_util.c: error printing, option parsing and the progress line of bin/mtb. */
#include "cli.h"
#include "mtb/clock.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

void cli_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "mtb %s: error: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

int cli_fail(const char *cmd, const mtb_error *err)
{
    cli_error(cmd, "%s", err->msg[0] ? err->msg : mtb_strerror(err->status));
    return 1;
}

int cli_parse_long(const char *cmd, const char *opt, const char *text, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (errno || end == text || *end != '\0' || v < lo || v > hi) {
        cli_error(cmd, "--%s expects an integer in [%ld, %ld], got '%s'", opt, lo, hi, text);
        return -1;
    }
    *out = v;
    return 0;
}

int cli_parse_double(const char *cmd, const char *opt, const char *text, double lo, double hi,
                     double *out)
{
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (errno || end == text || *end != '\0' || !isfinite(v) || v < lo || v > hi) {
        cli_error(cmd, "--%s expects a number in [%g, %g], got '%s'", opt, lo, hi, text);
        return -1;
    }
    *out = v;
    return 0;
}

void cli_progress_begin(cli_progress *p, const char *label, long total)
{
    p->enabled = isatty(STDERR_FILENO);
    p->start = p->last = mtb_clock_s();
    p->total = total;
    p->label = label;
}

void cli_progress_update(cli_progress *p, long done, const char *extra)
{
    if (!p->enabled)
        return;
    double now = mtb_clock_s();
    if (done < p->total && now - p->last < 0.1)
        return;
    p->last = now;
    double el = now - p->start;
    double eta = done > 0 ? el * (double)(p->total - done) / (double)done : 0.0;
    fprintf(stderr, "\r%s %ld/%ld (%3.0f%%) %.0fs elapsed, ~%.0fs left %s\033[K", p->label, done,
            p->total, p->total ? 100.0 * (double)done / (double)p->total : 100.0, el, eta,
            extra ? extra : "");
    fflush(stderr);
}

void cli_progress_end(cli_progress *p)
{
    if (p->enabled) {
        fputc('\n', stderr);
        fflush(stderr);
    }
}
