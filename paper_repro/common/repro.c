/* repro.c: scales, folders and atomic text files of the reproduction toolkit (repro.h). */
#include "repro.h"

#include "../../core/cli/blas_start.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static const char *const scale_names[] = {"smoke", "paper", "full"};

int repro_scale_parse(const char *name, repro_scale *s)
{
    for (int i = 0; i < 3; i++)
        if (name && !strcmp(name, scale_names[i])) {
            *s = (repro_scale)i;
            return 0;
        }
    return -1;
}

const char *repro_scale_name(repro_scale s)
{
    return (unsigned)s < 3 ? scale_names[s] : "?";
}

void repro_die(const char *prog, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", prog);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}


FILE *repro_open(const char *path)
{
    char tmp[4200];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp)
        return NULL;
    return fopen(tmp, "w");
}

int repro_commit(FILE *f, const char *path)
{
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int bad = ferror(f);
    if (fclose(f) || bad) {
        remove(tmp);
        return -1;
    }
    if (rename(tmp, path)) {
        remove(tmp);
        return -1;
    }
    return 0;
}

void repro_start(int *argc, char **argv)
{
    mtb_program_blas_start(argc, argv);
}
