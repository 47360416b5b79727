/* job.c: one job of an experiment (job.h): look the problem up, get its data (generated
 * once per worker, or loaded and checked), train, write the run file with provenance. */
#include "mtb/job.h"

#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mtb/h5.h"

struct mtb_job_cache {
    char key[512];     /* generator, parameters, seed, or the file path */
    mtb_dataset ds;
    int have;
};

mtb_job_cache *mtb_job_cache_new(void) { return calloc(1, sizeof(mtb_job_cache)); }

void mtb_job_cache_free(mtb_job_cache *c)
{
    if (!c)
        return;
    mtb_dataset_free(&c->ds);
    free(c);
}

/* The data set of problem p: from the cache, a file, or the generator. */
static mtb_status get_dataset(mtb_job_cache *c, const mtb_problem *p, const char *data_path,
                              const mtb_dataset **out, mtb_error *err)
{
    char key[512];
    /* A file's key names the problem's data parameters too: a problem may take a subset of
     * the file (MultiFashion's smoke scale its first 12 000 / 2 000 samples). */
    if (data_path)
        snprintf(key, sizeof key, "file:%s:%s", data_path, p->data_params);
    else
        snprintf(key, sizeof key, "gen:%s:%s:%llu:%d", p->data_generator, p->data_params,
                 (unsigned long long)p->data_seed, p->T);
    if (!c->have || strcmp(key, c->key)) {
        mtb_dataset_free(&c->ds);
        c->have = 0;
        mtb_status st = data_path ? mtb_problem_load_dataset(p, data_path, &c->ds, err)
                                  : mtb_problem_make_dataset(p, &c->ds, err);
        if (st)
            return st;
        snprintf(c->key, sizeof c->key, "%s", key);
        c->have = 1;
    }
    *out = &c->ds;
    return mtb_problem_check_dataset(p, &c->ds, err);
}

static mtb_status lookup(const mtb_job *job, mtb_problem *p, mtb_error *err)
{
    mtb_status st = mtb_problem_lookup(job->problem, job->scale, p, err);
    if (!st)
        snprintf(p->scale, sizeof p->scale, "%s", job->scale); /* "full" is kept as asked */
    return st;
}

mtb_status mtb_job_units(const mtb_job *job, long *units, mtb_error *err)
{
    mtb_problem *p = malloc(sizeof *p);
    if (!p)
        return mtb_fail(err, MTB_ENOMEM, "job: out of memory");
    mtb_status st = lookup(job, p, err);
    if (!st)
        *units = p->proto.steps * (!strcmp(job->method, "stl") ? p->T : 1);
    free(p);
    return st;
}

mtb_status mtb_job_run(mtb_job_cache *cache, const mtb_job *job, const char *data_path,
                       int threads, int resumed, const char *out_path, mtb_run_progress progress,
                       void *progress_ctx, int *diverged, mtb_error *err)
{
    if (diverged)
        *diverged = 0;
    mtb_problem *p = malloc(sizeof *p);
    if (!p)
        return mtb_fail(err, MTB_ENOMEM, "job: out of memory");
    mtb_provenance prov;
    mtb_provenance_collect(&prov, 1);
    prov.resumed = resumed;
    mtb_run_config cfg = {p, "", "", job->seed, 0, threads, 0, 0};
    snprintf(cfg.method, sizeof cfg.method, "%s", job->method);
    snprintf(cfg.options, sizeof cfg.options, "%s", job->options);
    const mtb_dataset *ds = NULL;
    mtb_run_log log;
    mtb_status st = lookup(job, p, err);
    if (!st)
        st = get_dataset(cache, p, data_path, &ds, err);
    if (!st) {
        st = mtb_run_train(&cfg, ds, &log, progress, progress_ctx, err);
        if (st == MTB_ENUMERIC) {
            /* a result, not a failure (run.h) */
            char msg[MTB_ERRMSG_LEN];
            snprintf(msg, sizeof msg, "%s", err ? err->msg : "non-finite value");
            st = mtb_run_save_diverged(out_path, &cfg, log.steps, msg, &prov, err);
            if (!st && diverged)
                *diverged = 1;
        } else if (!st) {
            st = mtb_run_save(out_path, &cfg, ds, data_path, &log, &prov, err);
            mtb_run_log_free(&log);
        }
    }
    free(p);
    return st;
}

mtb_status mtb_job_verify(const mtb_job *job, const char *path, mtb_error *err)
{
    mtb_run_summary *s = malloc(sizeof *s);
    if (!s)
        return mtb_fail(err, MTB_ENOMEM, "job: out of memory");
    mtb_status st = mtb_run_read_summary(path, s, err);
    if (!st) {
        const char *what = strcmp(s->problem, job->problem) ? "problem"
                         : strcmp(s->scale, job->scale)     ? "scale"
                         : strcmp(s->method, job->method)   ? "method"
                         : strcmp(s->options, job->options) ? "options"
                         : s->seed != job->seed             ? "seed"
                                                            : NULL;
        if (what)
            st = mtb_fail(err, MTB_EINVAL, "%s: a run of another job (its %s differs: problem %s, "
                          "scale %s, method %s, options '%s', seed %llu)", path, what, s->problem,
                          s->scale, s->method, s->options, (unsigned long long)s->seed);
    }
    free(s);
    return st;
}
