/* clock.c: see clock.h. */
#include "mtb/clock.h"

#include <math.h>
#include <stdio.h>
#include <time.h>

double mtb_clock_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

char *mtb_format_duration(double s, char *buf, size_t n)
{
    if (!n)
        return buf;
    if (!(s >= 0.0) || s > 1e7) {
        snprintf(buf, n, "?");
        return buf;
    }
    long t = (long)(s + 0.5);
    if (s < 10.0) /* short jobs (smoke scales): a tenth of a second still says something */
        snprintf(buf, n, "%.1fs", s);
    else if (t >= 3600)
        snprintf(buf, n, "%ldh%02ldm", t / 3600, t / 60 % 60);
    else if (t >= 60)
        snprintf(buf, n, "%ldm%02lds", t / 60, t % 60);
    else
        snprintf(buf, n, "%lds", t);
    return buf;
}
