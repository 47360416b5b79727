/* repro.c: scales, folders and atomic text files of the reproduction toolkit (repro.h). */
#include "repro.h"

#include "../../core/cli/blas_start.h"
#include "mtb/fs.h"

#include <math.h>
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

int repro_args_parse(int argc, char **argv, const char *prog, int need_out, repro_args *a)
{
    *a = (repro_args){.cmd = argc > 1 ? argv[1] : NULL, .figdir = "", .wall = NAN};
    int have_scale = 0;
    if (!a->cmd || a->cmd[0] == '-') {
        fprintf(stderr, "%s: the first argument is the experiment to run\n", prog);
        return -1;
    }
    for (int i = 2; i < argc; i += 2) {
        const char *k = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v) {
            fprintf(stderr, "%s: option '%s' needs a value\n", prog, k);
            return -1;
        }
        if (!strcmp(k, "--scale")) {
            if (repro_scale_parse(v, &a->scale)) {
                fprintf(stderr, "%s: --scale must be smoke, paper or full, got '%s'\n", prog, v);
                return -1;
            }
            have_scale = 1;
        } else if (!strcmp(k, "--out")) {
            a->out = v;
        } else if (!strcmp(k, "--wall-seconds")) {
            char *end;
            a->wall = strtod(v, &end);
            if (*end || !(a->wall >= 0)) {
                fprintf(stderr, "%s: --wall-seconds expects a number of seconds >= 0, got '%s'\n",
                        prog, v);
                return -1;
            }
        } else if (!strcmp(k, "--readme")) {
            a->readme = v;
        } else if (!strcmp(k, "--figdir")) {
            a->figdir = v;
        } else if (!strcmp(k, "--problem")) {
            a->problem = v;
        } else {
            fprintf(stderr, "%s: unknown option '%s'\n", prog, k);
            return -1;
        }
    }
    if (!have_scale || (need_out && !a->out)) {
        fprintf(stderr, "%s: --scale%s %s required\n", prog, need_out ? " and --out" : "",
                need_out ? "are" : "is");
        return -1;
    }
    if (a->out && mtb_mkdirs(a->out)) {
        fprintf(stderr, "%s: cannot create %s\n", prog, a->out);
        return -1;
    }
    return 0;
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
