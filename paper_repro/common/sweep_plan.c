/* sweep_plan.c: reading a sweep's plan.tsv (sweep_plan.h). Lines: "# key<TAB>value" headers,
 * a column header, then index, problem, method, options, seed, units, file. */
#include "sweep_plan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Splits line at tabs into at most n fields (the line is modified); returns the count. */
static int split(char *line, char **f, int n)
{
    int k = 0;
    for (char *p = line; k < n;) {
        f[k++] = p;
        char *t = strchr(p, '\t');
        if (!t)
            break;
        *t = 0;
        p = t + 1;
    }
    return k;
}

int repro_plan_read(const char *dir, repro_plan *p)
{
    memset(p, 0, sizeof *p);
    snprintf(p->dir, sizeof p->dir, "%s", dir);
    char path[4200];
    snprintf(path, sizeof path, "%s/plan.tsv", dir);
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "cannot read %s (run the sweep first)\n", path);
        return -1;
    }
    char line[8192];
    int cap = 0, header = 0;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = 0;
        char *fl[8];
        if (line[0] == '#') {
            int k = split(line + 2, fl, 2);
            if (k == 2 && !strcmp(fl[0], "scale"))
                snprintf(p->scale, sizeof p->scale, "%s", fl[1]);
            continue;
        }
        if (!header) { /* the column header */
            header = 1;
            continue;
        }
        if (split(line, fl, 8) != 7)
            continue;
        if (p->n == cap) {
            cap = cap ? 2 * cap : 64;
            repro_job *j = realloc(p->jobs, sizeof *j * (size_t)cap);
            if (!j) {
                fclose(f);
                repro_plan_free(p);
                return -1;
            }
            p->jobs = j;
        }
        repro_job *j = &p->jobs[p->n++];
        snprintf(j->problem, sizeof j->problem, "%s", fl[1]);
        snprintf(j->method, sizeof j->method, "%s", fl[2]);
        snprintf(j->options, sizeof j->options, "%s", fl[3]);
        j->seed = strtoull(fl[4], NULL, 10);
        snprintf(j->path, sizeof j->path, "%s/%s", dir, fl[6]);
    }
    fclose(f);
    return 0;
}

void repro_plan_free(repro_plan *p)
{
    free(p->jobs);
    memset(p, 0, sizeof *p);
}

const char *repro_plan_file(const repro_plan *p, const char *problem, const char *method,
                            const char *options, uint64_t seed)
{
    for (int i = 0; i < p->n; i++) {
        const repro_job *j = &p->jobs[i];
        if (j->seed == seed && !strcmp(j->problem, problem) && !strcmp(j->method, method) &&
            !strcmp(j->options, options))
            return j->path;
    }
    return NULL;
}
