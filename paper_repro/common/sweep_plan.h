/* sweep_plan.h: a reproduction reads the runs of a sweep (`mtb sweep`, docs/sweeps.md)
 * through the sweep's DIR/plan.tsv: every planned job's identity and its run file. */
#ifndef REPRO_SWEEP_PLAN_H
#define REPRO_SWEEP_PLAN_H

#include <stdint.h>

typedef struct repro_job {
    char problem[64], method[64], options[512];
    uint64_t seed;
    char path[4096];   /* DIR/<file> */
} repro_job;

typedef struct repro_plan {
    char dir[4096];
    char scale[16];
    int n;
    repro_job *jobs;
} repro_plan;

/* Reads DIR/plan.tsv; 0 on success, -1 with a message on stderr. */
int repro_plan_read(const char *dir, repro_plan *p);
void repro_plan_free(repro_plan *p);

/* The run file of a planned job, or NULL when the plan has no such job. */
const char *repro_plan_file(const repro_plan *p, const char *problem, const char *method,
                            const char *options, uint64_t seed);

#endif
