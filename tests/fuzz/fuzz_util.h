/* fuzz_util.h: what the libFuzzer targets of tests/fuzz/ share (README.md there). */
#ifndef MTB_FUZZ_UTIL_H
#define MTB_FUZZ_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "mtb/h5.h"

/* The input as a file (the readers take paths): one per process, rewritten per input. */
static inline const char *fuzz_file(const uint8_t *data, size_t size)
{
    static char path[64];
    if (!path[0]) {
        const char *dir = getenv("TMPDIR");
        snprintf(path, sizeof path, "%s/mtb-fuzz-%d.h5", dir && *dir ? dir : "/tmp", (int)getpid());
    }
    FILE *fp = fopen(path, "wb");
    if (!fp)
        abort(); /* the harness, not the library: no file, no fuzzing */
    if (size && fwrite(data, 1, size, fp) != size)
        abort();
    fclose(fp);
    return path;
}

/* Short limits for the isolated check: a hang costs half a second, not the default five
 * (a valid seed file loads in a few milliseconds). */
static inline mtb_h5_limits fuzz_limits(void)
{
    mtb_h5_limits l;
    mtb_h5_limits_default(&l, 0);
    l.wall_s = 0.5;
    l.cpu_s = 0.5;
    return l;
}

#endif
