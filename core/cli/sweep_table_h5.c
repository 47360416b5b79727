/* sweep_table_h5.c: results.h5, the HDF5 twin of results.tsv (docs/sweeps.md has the
 * layout). Same numbers, as arrays, for programs (h5py, gnuplot through `mtb export`)
 * rather than eyes: per problem one row per run and one per method, and the missing and
 * failed jobs. An empty list is written as a group with count 0, not as a zero-length
 * dataset, which some readers reject. */
#include "sweep_table.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mtb/metric.h"

typedef struct h5w {
    mtb_h5 *f;
    char base[MTB_PROBLEM_NAME_LEN + 32];
    mtb_error *err;
} h5w;

static const char *path(const h5w *w, const char *name, char *buf, size_t len)
{
    snprintf(buf, len, "%s/%s", w->base, name);
    return buf;
}

static mtb_status put_f64(const h5w *w, const char *name, size_t d0, size_t d1, const double *v)
{
    char obj[MTB_PROBLEM_NAME_LEN + 96];
    size_t dims[2] = {d0, d1};
    return mtb_h5_write_f64(w->f, path(w, name, obj, sizeof obj), d1 ? 2 : 1, dims, v, w->err);
}

static mtb_status put_i64(const h5w *w, const char *name, size_t n, const int64_t *v)
{
    char obj[MTB_PROBLEM_NAME_LEN + 96];
    return mtb_h5_write_i64(w->f, path(w, name, obj, sizeof obj), 1, &n, v, w->err);
}

static mtb_status put_strs(const h5w *w, const char *name, size_t n, const char *const *v)
{
    char obj[MTB_PROBLEM_NAME_LEN + 96];
    return mtb_h5_write_strs(w->f, path(w, name, obj, sizeof obj), n, v, w->err);
}

/* The per-run quantities, gathered over the rows present: what = 0..3 the (T) vectors
 * last, best, clean, dp_task; 4, 5 the scalars dp_stl, dp_ew. */
static int gather(const tproblem *tp, int what, double *v)
{
    const int T = tp->p->T;
    int j = 0;
    for (int k = 0; k < tp->n; k++) {
        const trow *r = &tp->rows[k];
        if (!r->present)
            continue;
        const double *src = what == 0 ? r->last : what == 1 ? r->best : what == 2 ? r->clean
                          : what == 3 ? r->dp_task : NULL;
        if (src)
            memcpy(v + (size_t)j * (size_t)T, src, sizeof *v * (size_t)T);
        else
            v[j] = what == 4 ? r->dp_stl : r->dp_ew;
        j++;
    }
    return j;
}

static mtb_status write_runs(const h5w *w, const tproblem *tp, int np, const char **s,
                             const char **s2, double *v, int64_t *iv)
{
    const int T = tp->p->T;
    mtb_status st;
    int j = 0;
    for (int k = 0; k < tp->n; k++)
        if (tp->rows[k].present) {
            const mtb_job *job = &tp->plan->items[tp->rows[k].item].job;
            s[j] = job->method;
            s2[j] = job->options;
            iv[j++] = (int64_t)job->seed;
        }
    if ((st = put_strs(w, "runs/method", (size_t)np, s)) ||
        (st = put_strs(w, "runs/options", (size_t)np, s2)) ||
        (st = put_i64(w, "runs/seed", (size_t)np, iv)))
        return st;
    j = 0;
    for (int k = 0; k < tp->n; k++)
        if (tp->rows[k].present)
            iv[j++] = tp->rows[k].diverged;
    if ((st = put_i64(w, "runs/diverged", (size_t)np, iv)))
        return st;
    static const char *const names[6] = {"runs/metric_last", "runs/metric_best",
                                         "runs/metric_clean_last", "runs/dp_stl_task",
                                         "runs/dp_stl", "runs/dp_ew"};
    for (int q = 0; q < 6; q++) {
        gather(tp, q, v);
        if ((st = put_f64(w, names[q], (size_t)np, q < 4 ? (size_t)T : 0, v)))
            return st;
    }
    return MTB_OK;
}

static mtb_status write_summary(const h5w *w, const tproblem *tp, const char **s,
                                const char **s2, double *v, int64_t *iv)
{
    const int T = tp->p->T, ng = tp->ng;
    mtb_status st;
    for (int k = 0; k < ng; k++) {
        const mtb_job *job = &tp->plan->items[tp->rows[tp->g[k].first].item].job;
        s[k] = job->method;
        s2[k] = job->options;
        iv[k] = tp->g[k].n;
    }
    if ((st = put_strs(w, "summary/method", (size_t)ng, s)) ||
        (st = put_strs(w, "summary/options", (size_t)ng, s2)) ||
        (st = put_i64(w, "summary/n_seeds", (size_t)ng, iv)))
        return st;
    for (int k = 0; k < ng; k++)
        iv[k] = tp->g[k].n_div;
    if ((st = put_i64(w, "summary/n_diverged", (size_t)ng, iv)))
        return st;
    for (int q = 0; q < 2; q++) {
        for (int k = 0; k < ng; k++)
            memcpy(v + (size_t)k * (size_t)T, q ? tp->g[k].std : tp->g[k].mean,
                   sizeof *v * (size_t)T);
        if ((st = put_f64(w, q ? "summary/metric_std" : "summary/metric_mean", (size_t)ng,
                          (size_t)T, v)))
            return st;
    }
    for (int q = 0; q < S_N; q++) {
        char name[48];
        snprintf(name, sizeof name, "summary/%s", SWEEP_SUMMARY_COLS[q]);
        for (char *c = name + 8; *c; c++) /* '.' and '-' in names read badly in h5py */
            if (*c == '.' || *c == '-')
                *c = '_';
        for (int k = 0; k < ng; k++)
            v[k] = tp->S[(size_t)k * S_N + (size_t)q];
        if ((st = put_f64(w, name, (size_t)ng, 0, v)))
            return st;
    }
    return MTB_OK;
}

mtb_status sweep_table_h5_problem(mtb_h5 *f, const tproblem *tp, mtb_error *err)
{
    const int T = tp->p->T;
    h5w w = {f, "", err};
    snprintf(w.base, sizeof w.base, "/problems/%s", tp->p->name);
    int np = 0;
    for (int k = 0; k < tp->n; k++)
        np += tp->rows[k].present;
    /* buffers for the largest dataset: (rows, T) doubles, one entry per row otherwise */
    size_t rows = (size_t)(tp->n > T ? tp->n : T) + 1;
    const char **s = malloc(sizeof *s * rows), **s2 = malloc(sizeof *s2 * rows);
    double *v = malloc(sizeof *v * rows * (size_t)(T + 1));
    int64_t *iv = malloc(sizeof *iv * rows);
    mtb_status st = MTB_OK;
    if (!s || !s2 || !v || !iv)
        st = mtb_fail(err, MTB_ENOMEM, "out of memory");
    if (!st)
        st = mtb_h5_group(f, w.base, err);
    for (int t = 0; t < T && !st; t++)
        s[t] = tp->p->tasks[t].name;
    if (!st)
        st = mtb_h5_attr_strs(f, w.base, "tasks", (size_t)T, s, err);
    for (int t = 0; t < T && !st; t++) {
        s[t] = mtb_metric_name(tp->p->tasks[t].metric.kind);
        iv[t] = mtb_metric_higher_is_better(tp->p->tasks[t].metric.kind);
    }
    if (!st)
        st = mtb_h5_attr_strs(f, w.base, "metrics", (size_t)T, s, err);
    if (!st)
        st = put_i64(&w, "higher_is_better", (size_t)T, iv);
    if (!st)
        st = mtb_h5_attr_i64(f, w.base, "n_runs", np, err);
    if (!st && np > 0)
        st = write_runs(&w, tp, np, s, s2, v, iv);
    if (!st)
        st = write_summary(&w, tp, s, s2, v, iv);
    free(s), free(s2), free(v), free(iv);
    return st;
}

mtb_status sweep_table_h5_incomplete(mtb_h5 *f, const sweep_plan *plan, const char *group,
                                     const int *idx, int n, char *const *notes, mtb_error *err)
{
    h5w w = {f, "", err};
    snprintf(w.base, sizeof w.base, "%s", group);
    mtb_status st = mtb_h5_group(f, group, err);
    if (!st)
        st = mtb_h5_attr_i64(f, group, "count", n, err);
    if (st || n == 0)
        return st;
    const char **s = malloc(sizeof *s * (size_t)n);
    int64_t *seed = malloc(sizeof *seed * (size_t)n);
    if (!s || !seed) {
        free(s), free(seed);
        return mtb_fail(err, MTB_ENOMEM, "out of memory");
    }
    static const char *const names[4] = {"problem", "method", "options", "message"};
    for (int q = 0; q < 4 && !st; q++) {
        for (int k = 0; k < n; k++) {
            const sweep_item *it = &plan->items[idx[k]];
            s[k] = q == 0 ? it->job.problem : q == 1 ? it->job.method : q == 2 ? it->job.options
                 : notes ? notes[k] : it->message;
        }
        st = put_strs(&w, names[q], (size_t)n, s);
    }
    for (int k = 0; k < n; k++)
        seed[k] = (int64_t)plan->items[idx[k]].job.seed;
    if (!st)
        st = put_i64(&w, "seed", (size_t)n, seed);
    free(s), free(seed);
    return st;
}
