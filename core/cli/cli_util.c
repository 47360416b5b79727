/* cli_util.c: error printing, option parsing, output paths, signal cleanup and the
 * progress line of bin/mtb. */
#include "cli.h"
#include "mtb/clock.h"
#include "mtb/h5.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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

int cli_check_only;

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

int cli_parse_seed(const char *cmd, const char *text, unsigned long long *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno || end == text || *end != '\0' || text[0] == '-' || text[0] == '+' ||
        v > (unsigned long long)CLI_SEED_MAX) {
        cli_error(cmd, "--seed expects an integer in [0, 2^63 - 1] (0 to %lld), got '%s'",
                  CLI_SEED_MAX, text);
        return -1;
    }
    *out = v;
    return 0;
}

/* ---- output files --------------------------------------------------------------- */

#define MAX_MADE 32
/* The directories cli_output_prepare made, outermost first; read by the signal handler,
 * so each entry is complete before n_made counts it. */
static char g_made[MAX_MADE][PATH_MAX];
static volatile sig_atomic_t g_n_made;

/* The directory part of path ("." when there is none) into dir. */
static int dir_of(const char *path, char *dir, size_t len)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return snprintf(dir, len, ".") >= (int)len ? -1 : 0;
    size_t n = slash == path ? 1 : (size_t)(slash - path);
    if (n >= len)
        return -1;
    memcpy(dir, path, n);
    dir[n] = '\0';
    return 0;
}

int cli_output_check(const char *cmd, const char *opt, const char *path)
{
    size_t n = path ? strlen(path) : 0;
    if (n == 0) {
        cli_error(cmd, "%s needs a file name", opt);
        return -1;
    }
    if (n >= PATH_MAX - 8) {
        cli_error(cmd, "%s '%.60s...' is too long a path", opt, path);
        return -1;
    }
    if (path[n - 1] == '/') {
        cli_error(cmd, "%s '%s' ends with '/': give a file name, e.g. %srun.h5", opt, path, path);
        return -1;
    }
    struct stat sb;
    if (stat(path, &sb) == 0) {
        if (S_ISDIR(sb.st_mode)) {
            cli_error(cmd, "%s '%s' is a directory: give a file name, e.g. %s/run.h5", opt, path,
                      path);
            return -1;
        }
        if (!S_ISREG(sb.st_mode)) {
            cli_error(cmd, "%s '%s' exists and is not a regular file", opt, path);
            return -1;
        }
    } else if (errno != ENOENT && errno != ENOTDIR) { /* ENOTDIR: named below */
        cli_error(cmd, "%s '%s': %s", opt, path, strerror(errno));
        return -1;
    }
    /* The nearest directory above the file that exists must be one this process can write
     * (the temporary file goes next to the output, then is renamed onto it). */
    char dir[PATH_MAX];
    if (dir_of(path, dir, sizeof dir)) {
        cli_error(cmd, "%s '%.60s...' is too long a path", opt, path);
        return -1;
    }
    int missing = 0;
    while (stat(dir, &sb) != 0) {
        if (errno == ENOTDIR) { /* some component above is a file: find it */
            char up[PATH_MAX];
            if (dir_of(dir, up, sizeof up))
                return -1;
            strcpy(dir, up);
            continue;
        }
        if (errno != ENOENT) {
            cli_error(cmd, "%s '%s': cannot use directory %s: %s", opt, path, dir,
                      strerror(errno));
            return -1;
        }
        missing = 1;
        char up[PATH_MAX];
        if (dir_of(dir, up, sizeof up))
            return -1;
        strcpy(dir, up);
    }
    if (!S_ISDIR(sb.st_mode)) {
        cli_error(cmd, "%s '%s': %s is a file, not a directory", opt, path, dir);
        return -1;
    }
    if (access(dir, W_OK | X_OK) != 0) {
        cli_error(cmd, "%s '%s': cannot %s in directory %s: %s", opt, path,
                  missing ? "create the missing directories" : "write", dir, strerror(errno));
        return -1;
    }
    return 0;
}

int cli_output_prepare(const char *cmd, const char *path)
{
    char dir[PATH_MAX];
    if (dir_of(path, dir, sizeof dir))
        return -1;
    /* mkdir -p, front to back; remember what did not exist. */
    for (char *p = dir + 1;; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char c = *p;
        *p = '\0';
        if (mkdir(dir, 0777) == 0) {
            if (g_n_made < MAX_MADE) {
                strcpy(g_made[g_n_made], dir);
                g_n_made = g_n_made + 1;
            }
        } else if (errno != EEXIST) {
            cli_error(cmd, "cannot create directory %s: %s", dir, strerror(errno));
            cli_output_abandon();
            return -1;
        }
        *p = c;
        if (!c)
            break;
    }
    return 0;
}

void cli_output_abandon(void)
{
    /* Innermost first; rmdir removes only what stayed empty. */
    while (g_n_made > 0) {
        g_n_made = g_n_made - 1;
        rmdir(g_made[g_n_made]);
    }
}

static void on_signal(int sig)
{
    mtb_h5_remove_temporaries();
    for (sig_atomic_t i = g_n_made; i > 0; i--)
        rmdir(g_made[i - 1]);
    static const char msg[] = "\nmtb: interrupted; temporary files removed\n";
    ssize_t w = write(STDERR_FILENO, msg, sizeof msg - 1);
    (void)w;
    _exit(128 + sig);
}

void cli_cleanup_on_signals(void)
{
    static const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        sigaddset(&sa.sa_mask, sigs[i]); /* one cleanup at a time */
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
        struct sigaction old;
        /* A signal ignored by whoever started mtb (nohup: SIGHUP) stays ignored. */
        if (sigaction(sigs[i], NULL, &old) == 0 && old.sa_handler == SIG_IGN)
            continue;
        sigaction(sigs[i], &sa, NULL);
    }
}

/* ---- progress ---------------------------------------------------------------------- */

void cli_progress_begin(cli_progress *p, const char *label, long total)
{
    p->enabled = 1;
    p->tty = isatty(STDERR_FILENO);
    p->start = p->last = mtb_clock_s();
    p->total = total;
    p->label = label;
}

void cli_progress_update(cli_progress *p, long done, const char *extra)
{
    if (!p->enabled)
        return;
    double now = mtb_clock_s();
    double every = p->tty ? 0.1 : CLI_PROGRESS_LOG_S;
    const char *env = p->tty ? NULL : getenv("MTB_PROGRESS_INTERVAL");
    if (env && atof(env) > 0)
        every = atof(env); /* seconds; for tests and impatient logs */
    if (p->tty ? (done < p->total && now - p->last < every) : now - p->last < every)
        return;
    p->last = now;
    double el = now - p->start;
    double eta = done > 0 ? el * (double)(p->total - done) / (double)done : 0.0;
    double pct = p->total ? 100.0 * (double)done / (double)p->total : 100.0;
    if (p->tty)
        fprintf(stderr, "\r%s %ld/%ld (%3.0f%%) %.0fs elapsed, ~%.0fs left %s\033[K", p->label,
                done, p->total, pct, el, eta, extra ? extra : "");
    else
        fprintf(stderr, "%s: %ld/%ld (%.0f%%), %.0f s elapsed, about %.0f s left%s%s\n",
                p->label, done, p->total, pct, el, eta, extra && *extra ? "; " : "",
                extra ? extra : "");
    fflush(stderr);
}

void cli_progress_end(cli_progress *p)
{
    if (p->enabled && p->tty) {
        fputc('\n', stderr);
        fflush(stderr);
    }
}
