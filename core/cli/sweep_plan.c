/* sweep_plan.c: the jobs of a sweep, the names of their files, DIR/plan.tsv, and the
 * resume scan that decides which jobs still have to run.
 *
 * A job's file name is built from its identity alone (problem, method, options, seed), so
 * that any session, any worker and any rank agrees on where a job's result lives without
 * asking anyone; the scale, also part of a run file's identity, is one per DIR and stated
 * in plan.tsv. Whether a file is a finished run is never guessed from its existence:
 * mtb_job_verify reads it. */
#include "sweep.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mtb/balancer.h"

/* The references run.h knows besides the registered balancers. */
static int is_reference(const char *m)
{
    return !strcmp(m, "stl") || !strcmp(m, "oc") || !strcmp(m, "ideal");
}

static int safe_char(char c)
{
    return isalnum((unsigned char)c) || c == '.' || c == '_' || c == '-' || c == '@';
}

/* FNV-1a: a short, stable fingerprint for names too long for a file system entry. */
static uint64_t fnv1a(const char *a, const char *b)
{
    uint64_t h = 1469598103934665603ULL;
    for (const char *s = a; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    h = (h ^ '+') * 1099511628211ULL;
    for (const char *s = b; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

void sweep_method_dirname(const char *method, const char *options, char *buf, size_t len)
{
    char tmp[sizeof(((mtb_job *)0)->method) + sizeof(((mtb_job *)0)->options) + 2];
    size_t n = 0;
    for (const char *s = method; *s && n + 1 < sizeof tmp; s++)
        tmp[n++] = safe_char(*s) ? *s : '~';
    if (options[0] && n + 1 < sizeof tmp)
        tmp[n++] = '+';
    for (const char *s = options; *s && n + 1 < sizeof tmp; s++)
        tmp[n++] = *s == '=' ? '-' : *s == ',' ? '_' : safe_char(*s) ? *s : '~';
    tmp[n] = '\0';
    /* NAME_MAX is 255 on the usual file systems; beyond 200 characters keep a readable
     * prefix and make it unique with a fingerprint of the full method and options. */
    if (n > 200)
        snprintf(tmp + 180, sizeof tmp - 180, "~%016llx",
                 (unsigned long long)fnv1a(method, options));
    snprintf(buf, len, "%s", tmp);
}

static int item_name_cmp(const void *a, const void *b)
{
    const sweep_item *x = *(const sweep_item *const *)a, *y = *(const sweep_item *const *)b;
    return strcmp(x->name, y->name);
}

/* Two jobs must never share a file: options that differ only in characters the file name
 * replaces ("a=1.5" and "a=1~5") would. */
static mtb_status check_unique_names(const sweep_plan *plan, mtb_error *err)
{
    const sweep_item **by = malloc((size_t)plan->n * sizeof *by);
    if (!by)
        return mtb_fail(err, MTB_ENOMEM, "out of memory");
    for (int i = 0; i < plan->n; i++)
        by[i] = &plan->items[i];
    qsort(by, (size_t)plan->n, sizeof *by, item_name_cmp);
    mtb_status st = MTB_OK;
    for (int i = 1; i < plan->n && !st; i++)
        if (!strcmp(by[i - 1]->name, by[i]->name))
            st = mtb_fail(err, MTB_EINVAL,
                          "methods '%s:%s' and '%s:%s' map to one file name (%s): write one of "
                          "their options differently", by[i - 1]->job.method,
                          by[i - 1]->job.options, by[i]->job.method, by[i]->job.options,
                          by[i]->name);
    free(by);
    return st;
}

/* The options are checked here, against the method's table, so that a typo stops the
 * sweep before any job runs rather than failing every job of that method. run.c runs the
 * oracle ("oc", "ideal") through the constant balancer, whose options it accepts. */
static mtb_status check_method(const sweep_method *m, mtb_error *err)
{
    if (!strcmp(m->method, "stl")) {
        if (m->options[0])
            return mtb_fail(err, MTB_EINVAL, "method 'stl' takes no options, got '%s'",
                            m->options);
        return MTB_OK;
    }
    const mtb_balancer_type *t =
        mtb_balancer_find(is_reference(m->method) ? "constant" : m->method);
    if (!t)
        return mtb_fail(err, MTB_EINVAL,
                        "unknown method '%s' (see 'mtb methods'; the references are stl and oc)",
                        m->method);
    mtb_hparams hp;
    if (mtb_hparams_parse(t, m->options, &hp, err)) {
        mtb_error_prefix(err, "method '%s': ", m->method);
        return MTB_EINVAL;
    }
    return MTB_OK;
}

/* Relative cost of a step of the method on T tasks, for the order of the jobs and the
 * progress estimate only (measured on LSD-6 at T = 6, one BLAS thread: losses-only methods
 * 1, representation-level gradients ~2.5, parameter-level ~8; stl's T networks are already
 * in its units). A guess that is off costs a less tidy schedule, never a wrong result. */
static double step_cost(const char *method, const char *options, int T)
{
    const mtb_balancer_type *t =
        mtb_balancer_find(is_reference(method) ? "constant" : method);
    mtb_hparams hp;
    mtb_balancer_setup setup;
    if (!strcmp(method, "stl") || !t || mtb_hparams_parse(t, options, &hp, NULL) ||
        mtb_balancer_query(t, T, &hp, &setup, NULL))
        return 1.0;
    double c = setup.need == MTB_NEED_PARAM_GRADS
                   ? (setup.scope == MTB_SCOPE_LAST_LAYER ? 2.0 : 1.0 + T)
               : setup.need == MTB_NEED_REP_GRADS ? 2.0 : 1.0;
    return setup.n_samples > 1 ? c * setup.n_samples : c;
}

static mtb_status set_item_paths(const sweep_plan *plan, sweep_item *it, mtb_error *err)
{
    char mdir[256];
    sweep_method_dirname(it->job.method, it->job.options, mdir, sizeof mdir);
    if (snprintf(it->name, sizeof it->name, "%s/%s/seed%llu", it->job.problem, mdir,
                 (unsigned long long)it->job.seed) >= (int)sizeof it->name ||
        snprintf(it->path, sizeof it->path, "%s/runs/%s.h5", plan->dir, it->name) >=
            (int)sizeof it->path)
        return mtb_fail(err, MTB_EINVAL, "the path of job %s is too long", it->name);
    return MTB_OK;
}

mtb_status sweep_plan_build(const sweep_args *a, sweep_plan *plan, mtb_error *err)
{
    memset(plan, 0, sizeof *plan);
    plan->lock_fd = -1;
    if (snprintf(plan->dir, sizeof plan->dir, "%s", a->dir) >= (int)sizeof plan->dir ||
        snprintf(plan->data, sizeof plan->data, "%s", a->data ? a->data : "") >=
            (int)sizeof plan->data)
        return mtb_fail(err, MTB_EINVAL, "path too long");
    size_t dl = strlen(plan->dir);
    while (dl > 1 && plan->dir[dl - 1] == '/')
        plan->dir[--dl] = '\0';

    mtb_problem *p = malloc(sizeof *p); /* large: 512 task slots */
    int *T = malloc(sizeof *T * (size_t)(a->n_problems > 0 ? a->n_problems : 1));
    if (!p || !T) {
        free(p), free(T);
        return mtb_fail(err, MTB_ENOMEM, "out of memory");
    }
    for (int i = 0; i < a->n_problems; i++) {
        if (mtb_problem_lookup(a->problems[i], a->scale, p, err)) {
            free(p), free(T);
            mtb_error_prefix(err, "--problem '%s': ", a->problems[i]);
            return MTB_EINVAL;
        }
        T[i] = p->T;
        /* "full" and "paper" are one scale: record the registry's name so that both
         * spellings plan (and resume) the same DIR. */
        snprintf(plan->scale, sizeof plan->scale, "%s", p->scale);
    }
    free(p);
    mtb_status st = MTB_OK;
    for (int m = 0; m < a->n_methods && !st; m++)
        if (check_method(&a->methods[m], err))
            st = MTB_EINVAL;
    long n = (long)a->n_problems * a->n_methods * a->n_seeds;
    if (!st && n < 1)
        st = mtb_fail(err, MTB_EINVAL, "the plan has no job");
    if (!st && n > SWEEP_MAX_JOBS)
        st = mtb_fail(err, MTB_EINVAL, "the plan has %ld jobs, more than %d", n, SWEEP_MAX_JOBS);
    if (!st && !(plan->items = calloc((size_t)n, sizeof *plan->items)))
        st = mtb_fail(err, MTB_ENOMEM, "out of memory for %ld jobs", n);
    if (st) {
        free(T);
        return st;
    }
    plan->n = (int)n;
    int k = 0;
    for (int pi = 0; pi < a->n_problems; pi++)
        for (int m = 0; m < a->n_methods; m++) {
            double c = step_cost(a->methods[m].method, a->methods[m].options, T[pi]);
            for (int s = 0; s < a->n_seeds; s++, k++) {
                sweep_item *it = &plan->items[k];
                snprintf(it->job.problem, sizeof it->job.problem, "%s", a->problems[pi]);
                snprintf(it->job.scale, sizeof it->job.scale, "%s", plan->scale);
                snprintf(it->job.method, sizeof it->job.method, "%s", a->methods[m].method);
                snprintf(it->job.options, sizeof it->job.options, "%s", a->methods[m].options);
                it->job.seed = a->seeds[s];
                it->seconds = NAN;
                if (set_item_paths(plan, it, err)) {
                    free(T);
                    return MTB_EINVAL;
                }
                if (mtb_job_units(&it->job, &it->units, err)) {
                    free(T);
                    mtb_error_prefix(err, "job %s: ", it->name);
                    return MTB_EINVAL;
                }
                it->cost = c * (double)it->units;
            }
        }
    free(T);
    return check_unique_names(plan, err);
}

/* ---- plan.tsv ------------------------------------------------------------------------ */

static const char PLAN_HEADER[] = "index\tproblem\tmethod\toptions\tseed\tunits\tfile";

mtb_status sweep_plan_write(const sweep_plan *plan, mtb_error *err)
{
    char *buf = NULL, path[SWEEP_PATH_LEN + 16];
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return mtb_fail(err, MTB_ENOMEM, "out of memory");
    fprintf(f, "# mtb sweep plan: the jobs of this directory (docs/sweeps.md)\n"
               "# scale\t%s\n# data\t%s\n# jobs\t%d\n%s\n",
            plan->scale, plan->data, plan->n, PLAN_HEADER);
    size_t dl = strlen(plan->dir) + 1;
    for (int i = 0; i < plan->n; i++) {
        const sweep_item *it = &plan->items[i];
        fprintf(f, "%d\t%s\t%s\t%s\t%llu\t%ld\t%s\n", i, it->job.problem, it->job.method,
                it->job.options, (unsigned long long)it->job.seed, it->units, it->path + dl);
    }
    fclose(f);
    snprintf(path, sizeof path, "%s/plan.tsv", plan->dir);
    mtb_status st = sweep_write_atomic(path, buf, len, err);
    free(buf);
    return st;
}

/* Splits line at tabs in place, keeping empty fields; returns the field count. */
static int split_tabs(char *line, char **f, int max)
{
    int n = 0;
    line[strcspn(line, "\r\n")] = '\0';
    f[n++] = line;
    for (char *s = line; *s && n < max; s++)
        if (*s == '\t') {
            *s = '\0';
            f[n++] = s + 1;
        }
    return n;
}

/* Reads the scale and data lines, and with items != NULL the jobs too. */
static mtb_status read_plan_file(const char *dir, sweep_plan *plan, int items, mtb_error *err)
{
    char path[SWEEP_PATH_LEN + 16];
    snprintf(path, sizeof path, "%s/plan.tsv", dir);
    FILE *f = fopen(path, "r");
    if (!f)
        return mtb_fail(err, MTB_EIO, "cannot read %s: %s", path, strerror(errno));
    size_t cap = 0;
    char *line = NULL, *fld[8];
    ssize_t got;
    long lineno = 0, jobs = -1;
    int header = 0, k = 0;
    mtb_status st = MTB_OK;
    while (!st && (got = getline(&line, &cap, f)) >= 0) {
        lineno++;
        int nf = split_tabs(line, fld, 8);
        if (!header && line[0] == '#') {
            if (nf == 2 && !strcmp(fld[0], "# scale"))
                snprintf(plan->scale, sizeof plan->scale, "%s", fld[1]);
            else if (nf == 2 && !strcmp(fld[0], "# data"))
                snprintf(plan->data, sizeof plan->data, "%s", fld[1]);
            else if (nf == 2 && !strcmp(fld[0], "# jobs"))
                jobs = strtol(fld[1], NULL, 10);
            continue;
        }
        if (!header) {
            header = 1;
            if (!items)
                break;
            if (jobs < 1 || jobs > SWEEP_MAX_JOBS) {
                st = mtb_fail(err, MTB_EIO, "%s: no valid '# jobs' line", path);
                break;
            }
            plan->items = calloc((size_t)jobs, sizeof *plan->items);
            if (!plan->items)
                st = mtb_fail(err, MTB_ENOMEM, "out of memory");
            continue;
        }
        if (nf != 7 || k >= jobs) {
            st = mtb_fail(err, MTB_EIO, "%s:%ld: expected 7 tab-separated fields of job %d", path,
                          lineno, k);
            break;
        }
        sweep_item *it = &plan->items[k];
        snprintf(it->job.problem, sizeof it->job.problem, "%s", fld[1]);
        snprintf(it->job.scale, sizeof it->job.scale, "%s", plan->scale);
        snprintf(it->job.method, sizeof it->job.method, "%s", fld[2]);
        snprintf(it->job.options, sizeof it->job.options, "%s", fld[3]);
        it->job.seed = strtoull(fld[4], NULL, 10);
        it->units = strtol(fld[5], NULL, 10);
        it->cost = (double)it->units;
        it->seconds = NAN;
        if (set_item_paths(plan, it, err))
            st = MTB_EIO;
        k++;
    }
    free(line);
    fclose(f);
    if (!st && !plan->scale[0])
        st = mtb_fail(err, MTB_EIO, "%s: no '# scale' line (not a sweep plan)", path);
    if (!st && items && k != jobs)
        st = mtb_fail(err, MTB_EIO, "%s: %d jobs listed, the header says %ld (truncated?)", path,
                      k, jobs);
    if (items)
        plan->n = k;
    return st;
}

mtb_status sweep_plan_read(const char *dir, sweep_plan *plan, mtb_error *err)
{
    memset(plan, 0, sizeof *plan);
    plan->lock_fd = -1;
    if (snprintf(plan->dir, sizeof plan->dir, "%s", dir) >= (int)sizeof plan->dir)
        return mtb_fail(err, MTB_EINVAL, "path too long");
    size_t dl = strlen(plan->dir);
    while (dl > 1 && plan->dir[dl - 1] == '/')
        plan->dir[--dl] = '\0';
    mtb_status st = read_plan_file(plan->dir, plan, 1, err);
    plan->resumed = 1;
    return st;
}

mtb_status sweep_plan_check_dir(sweep_plan *plan, mtb_error *err)
{
    char path[SWEEP_PATH_LEN + 16];
    snprintf(path, sizeof path, "%s/plan.tsv", plan->dir);
    if (access(path, F_OK))
        return MTB_OK;
    sweep_plan old;
    memset(&old, 0, sizeof old);
    if (read_plan_file(plan->dir, &old, 0, err))
        return MTB_EIO;
    plan->resumed = 1;
    if (strcmp(old.scale, plan->scale))
        return mtb_fail(err, MTB_EINVAL,
                        "%s was planned at scale '%s' (see its plan.tsv), this command asks for "
                        "'%s': the run files of one directory share one scale; use another "
                        "-o DIR or --scale %s", plan->dir, old.scale, plan->scale, old.scale);
    if (strcmp(old.data, plan->data))
        return mtb_fail(err, MTB_EINVAL,
                        "%s was planned with %s%s, this command uses %s%s: its results would "
                        "mix two data sets; use another -o DIR", plan->dir,
                        old.data[0] ? "--data " : "generated data", old.data,
                        plan->data[0] ? "--data " : "generated data", plan->data);
    return MTB_OK;
}

/* ---- resume -------------------------------------------------------------------------- */

void sweep_plan_scan(sweep_plan *plan, int retry_failed, int modify, FILE *out)
{
    char rec[SWEEP_RECORD_LEN];
    for (int i = 0; i < plan->n; i++) {
        sweep_item *it = &plan->items[i];
        it->state = SWEEP_TODO;
        it->redo = 0;
        it->reused = 0;
        it->message[0] = '\0';
        sweep_failure_path(plan, it, rec, sizeof rec);
        if (!access(it->path, F_OK)) {
            mtb_error err = {0};
            if (!mtb_job_verify(&it->job, it->path, &err)) {
                it->state = SWEEP_KEPT;
                if (modify)
                    unlink(rec); /* a record older than the run that later succeeded */
                continue;
            }
            it->redo = 1;
            if (out)
                fprintf(out, "[sweep] %s: not a complete run of this job (%s): %s\n", it->name,
                        err.msg[0] ? err.msg : mtb_strerror(err.status),
                        modify ? "redoing it" : "it would be redone");
            if (modify)
                unlink(it->path);
        }
        if (sweep_failure_read(plan, it, it->message, sizeof it->message)) {
            if (!retry_failed)
                it->state = SWEEP_FAILED;
            else if (modify)
                unlink(rec);
        }
    }
}

void sweep_plan_record(sweep_plan *plan, int i, mtb_status st, int diverged, double seconds,
                       const char *message)
{
    sweep_item *it = &plan->items[i];
    it->seconds = seconds;
    it->diverged = diverged;
    if (!st) {
        it->state = SWEEP_OK;
        it->message[0] = '\0';
        char rec[SWEEP_RECORD_LEN];
        sweep_failure_path(plan, it, rec, sizeof rec);
        unlink(rec);
        return;
    }
    it->state = SWEEP_FAILED;
    snprintf(it->message, sizeof it->message, "%s",
             message && message[0] ? message : mtb_strerror(st));
    mtb_error err = {0};
    if (sweep_failure_write(plan, it, &err))
        fprintf(stderr, "[sweep] %s: cannot record the failure: %s\n", it->name, err.msg);
}

static const sweep_plan *g_order_plan; /* qsort passes no context */

static int order_cmp(const void *a, const void *b)
{
    int i = *(const int *)a, j = *(const int *)b;
    double ci = g_order_plan->items[i].cost, cj = g_order_plan->items[j].cost;
    if (ci != cj)
        return ci > cj ? -1 : 1;
    return (i > j) - (i < j);
}

int sweep_plan_order(const sweep_plan *plan, int *order)
{
    int n = 0;
    for (int i = 0; i < plan->n; i++)
        if (plan->items[i].state == SWEEP_TODO)
            order[n++] = i;
    g_order_plan = plan;
    qsort(order, (size_t)n, sizeof *order, order_cmp);
    return n;
}

void sweep_plan_free(sweep_plan *plan)
{
    sweep_unlock(plan);
    free(plan->items);
    plan->items = NULL;
    plan->n = 0;
}
