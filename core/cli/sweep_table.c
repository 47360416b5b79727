/* sweep_table.c: the results of a sweep, from whatever run files of its plan exist:
 * DIR/results.tsv and DIR/results.h5 (the same numbers), and DIR/timing.tsv.
 *
 * Per problem, two sections:
 *   runs     one row per job with a complete run file: its per-task metrics (last and best
 *            evaluation), Delta-p against the stl and ew runs of the same seed, and the
 *            per-task Delta-p against stl;
 *   summary  one row per method and options over its seeds: per-task mean and sample std,
 *            Delta-p statistics (mean, std, 95 % t half-width), Delta-p of the seed means,
 *            and the seed-paired difference of Delta-p_STL to the ew rows;
 * then the planned jobs that have no complete run file: missing, and failed with the
 * message.
 *
 * The table holds nothing that depends on how the sweep was scheduled (no wall time, no
 * path of DIR, no host), and every double is printed with %.17g, which round-trips: the
 * tables of `--jobs 1`, `--jobs 2` and `mpirun` are byte-identical because the runs are.
 * Wall times go to timing.tsv. The HDF5 twin is written by sweep_table_h5.c. */
#include "sweep_table.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mtb/deltap.h"
#include "mtb/metric.h"
#include "mtb/run.h"
#include "mtb/stats.h"

const char *const SWEEP_SUMMARY_COLS[S_N] = {
    "dp_stl.mean", "dp_stl.std", "dp_stl.ci95", "dp_ew.mean", "dp_ew.std", "dp_ew.ci95",
    "dp_stl.of_means", "dp_ew.of_means", "dp_stl-ew.mean", "dp_stl-ew.std", "dp_stl-ew.ci95"};

typedef struct tctx {
    const sweep_plan *plan;
    FILE *notes, *body, *timing, *missing, *failed;
    mtb_h5 *h5;
    mtb_run_summary *s;
    int n_complete, n_missing, n_failed;
    /* for /missing and /failed in the HDF5 file */
    int *miss, *fail, n_miss, n_fail;
    char **miss_note;
} tctx;

static void num(FILE *f, double x)
{
    if (isnan(x))
        fputs("\tnan", f);
    else if (isinf(x))
        fputs(x > 0 ? "\tinf" : "\t-inf", f);
    else
        fprintf(f, "\t%.17g", x);
}

static const char *opt_or_dash(const char *o) { return o[0] ? o : "-"; }

static int is_ref(const trow *r, const sweep_plan *plan, const char *method)
{
    const mtb_job *j = &plan->items[r->item].job;
    return !strcmp(j->method, method) && !j->options[0];
}

/* The usable (present, not diverged) row of the reference `method` with this seed. */
static const trow *find_ref(const trow *rows, int n, const sweep_plan *plan, const char *method,
                            uint64_t seed)
{
    for (int k = 0; k < n; k++)
        if (rows[k].present && !rows[k].diverged && is_ref(&rows[k], plan, method) &&
            plan->items[rows[k].item].job.seed == seed)
            return &rows[k];
    return NULL;
}

static int find_ref_group(const tgroup *g, int ng, const trow *rows, const sweep_plan *plan,
                          const char *method)
{
    for (int k = 0; k < ng; k++)
        if (is_ref(&rows[g[k].first], plan, method))
            return k;
    return -1;
}

/* Reads the run files of the rows; fills values, or the note of a missing row. */
static void read_rows(tctx *c, trow *rows, int n, int T)
{
    for (int k = 0; k < n; k++) {
        trow *r = &rows[k];
        const sweep_item *it = &c->plan->items[r->item];
        for (int t = 0; t < T; t++)
            r->last[t] = r->best[t] = r->clean[t] = r->dp_task[t] = NAN;
        r->dp_stl = r->dp_ew = r->wall_s = NAN;
        if (it->state != SWEEP_KEPT && it->state != SWEEP_OK)
            continue;
        mtb_error err = {0};
        if (mtb_run_read_summary(it->path, c->s, &err)) {
            r->note = strdup(err.msg[0] ? err.msg : "the run file cannot be read");
            continue;
        }
        if (c->s->T != T) {
            char msg[128];
            snprintf(msg, sizeof msg, "the run file has %d tasks, the problem %d", c->s->T, T);
            r->note = strdup(msg);
            continue;
        }
        r->present = 1;
        r->diverged = c->s->diverged;
        r->wall_s = c->s->wall_s;
        r->resumed = c->s->resumed;
        r->code_version = strdup(c->s->code_version);
        for (int t = 0; t < T; t++) {
            r->kind[t] = c->s->metric[t];
            if (!r->diverged) {
                r->last[t] = c->s->metric_last[t];
                r->best[t] = c->s->metric_best[t];
                r->clean[t] = c->s->metric_clean_last[t];
            }
        }
    }
}

static void list_incomplete(tctx *c, const trow *r)
{
    const sweep_item *it = &c->plan->items[r->item];
    const char *file = it->path + strlen(c->plan->dir) + 1;
    if (it->state == SWEEP_FAILED) {
        fprintf(c->failed, "%s\t%s\t%s\t%llu\t%s\t%s\n", it->job.problem, it->job.method,
                opt_or_dash(it->job.options), (unsigned long long)it->job.seed, file, it->message);
        c->fail[c->n_fail++] = r->item;
        c->n_failed++;
    } else {
        const char *why = r->note ? r->note : it->redo ? "its run file was incomplete: not redone yet"
                                                      : "not run yet";
        fprintf(c->missing, "%s\t%s\t%s\t%llu\t%s\t%s\n", it->job.problem, it->job.method,
                opt_or_dash(it->job.options), (unsigned long long)it->job.seed, file, why);
        c->miss_note[c->n_miss] = strdup(why);
        c->miss[c->n_miss++] = r->item;
        c->n_missing++;
    }
}

static void timing_row(tctx *c, const trow *r)
{
    const sweep_item *it = &c->plan->items[r->item];
    const char *state = r->present ? (r->diverged ? "diverged" : "ok")
                      : it->state == SWEEP_FAILED ? "failed" : "missing";
    fprintf(c->timing, "%s\t%s\t%s\t%llu\t%s\t%d", it->job.problem, it->job.method,
            opt_or_dash(it->job.options), (unsigned long long)it->job.seed, state,
            it->state == SWEEP_OK || (it->state == SWEEP_FAILED && !isnan(it->seconds)));
    num(c->timing, r->wall_s);
    num(c->timing, it->seconds);
    fprintf(c->timing, "\t%d\t%s\n", r->resumed, r->code_version ? r->code_version : "-");
}

static mtb_status table_problem(tctx *c, const char *problem, const int *idx, int n,
                                mtb_error *err)
{
    const sweep_plan *plan = c->plan;
    mtb_problem *p = malloc(sizeof *p);
    trow *rows = calloc((size_t)n, sizeof *rows);
    tgroup *g = calloc((size_t)n, sizeof *g);
    if (!p || !rows || !g) {
        free(p), free(rows), free(g);
        return mtb_fail(err, MTB_ENOMEM, "out of memory");
    }
    mtb_status st = mtb_problem_lookup(problem, plan->scale, p, err);
    if (st) {
        free(p), free(rows), free(g);
        mtb_error_prefix(err, "the table of problem %s: ", problem);
        return st;
    }
    const int T = p->T;
    double *slab = malloc(sizeof *slab * ((size_t)n * 4 + (size_t)n * 2) * (size_t)T + sizeof *slab);
    mtb_metric_kind *kinds = calloc((size_t)n * (size_t)T + 1, sizeof *kinds);
    double *S = malloc(sizeof *S * (size_t)n * S_N);
    double *a = malloc(sizeof *a * (size_t)n), *b = malloc(sizeof *b * (size_t)n);
    int *hb = malloc(sizeof *hb * (size_t)T);
    if (!slab || !kinds || !S || !a || !b || !hb) {
        st = mtb_fail(err, MTB_ENOMEM, "out of memory");
        goto done;
    }
    for (int t = 0; t < T; t++)
        hb[t] = mtb_metric_higher_is_better(p->tasks[t].metric.kind);
    for (int k = 0; k < n; k++) {
        double *base = slab + (size_t)k * 4 * (size_t)T;
        rows[k].item = idx[k];
        rows[k].last = base;
        rows[k].best = base + T;
        rows[k].clean = base + 2 * T;
        rows[k].dp_task = base + 3 * T;
        rows[k].kind = kinds + (size_t)k * (size_t)T;
    }
    read_rows(c, rows, n, T);

    /* groups: method and options, in plan order */
    int ng = 0;
    for (int k = 0; k < n; k++) {
        const mtb_job *j = &plan->items[rows[k].item].job;
        int q = 0;
        for (; q < ng; q++) {
            const mtb_job *f = &plan->items[rows[g[q].first].item].job;
            if (!strcmp(f->method, j->method) && !strcmp(f->options, j->options))
                break;
        }
        if (q == ng) {
            g[ng].first = k;
            g[ng].mean = slab + (size_t)n * 4 * (size_t)T + (size_t)ng * 2 * (size_t)T;
            g[ng].std = g[ng].mean + T;
            ng++;
        }
        rows[k].group = q;
    }

    /* Delta-p of every seed against the references of that seed */
    for (int k = 0; k < n; k++) {
        trow *r = &rows[k];
        if (!r->present || r->diverged)
            continue;
        uint64_t seed = plan->items[r->item].job.seed;
        const trow *stl = find_ref(rows, n, plan, "stl", seed), *ew = find_ref(rows, n, plan, "ew", seed);
        if (stl)
            r->dp_stl = mtb_delta_p((size_t)T, r->last, stl->last, hb, NULL, T, r->dp_task);
        if (ew)
            r->dp_ew = mtb_delta_p((size_t)T, r->last, ew->last, hb, NULL, T, NULL);
    }

    /* per-group statistics over the seeds that did not diverge */
    for (int q = 0; q < ng; q++) {
        tgroup *G = &g[q];
        for (int t = 0; t < T; t++) {
            int m = 0;
            for (int k = 0; k < n; k++)
                if (rows[k].group == q && rows[k].present && !rows[k].diverged)
                    a[m++] = rows[k].last[t];
            mtb_stats_summary sm = mtb_stats_summarise(a, (size_t)m);
            G->mean[t] = m ? sm.mean : NAN;
            G->std[t] = m ? sm.std : NAN;
        }
        for (int k = 0; k < n; k++)
            if (rows[k].group == q && rows[k].present) {
                G->n++;
                G->n_div += rows[k].diverged;
            }
        G->n_ok = G->n - G->n_div;
        double *s = S + (size_t)q * S_N;
        for (int which = 0; which < 2; which++) {
            int m = 0;
            for (int k = 0; k < n; k++) {
                double x = which ? rows[k].dp_ew : rows[k].dp_stl;
                if (rows[k].group == q && isfinite(x))
                    a[m++] = x;
            }
            mtb_stats_summary sm = mtb_stats_summarise(a, (size_t)m);
            s[which ? S_DPE_MEAN : S_DPS_MEAN] = m ? sm.mean : NAN;
            s[which ? S_DPE_STD : S_DPS_STD] = m ? sm.std : NAN;
            s[which ? S_DPE_CI : S_DPS_CI] = m ? sm.ci95 : NAN;
        }
    }
    int g_stl = find_ref_group(g, ng, rows, plan, "stl"), g_ew = find_ref_group(g, ng, rows, plan, "ew");
    for (int q = 0; q < ng; q++) {
        double *s = S + (size_t)q * S_N;
        s[S_DPS_OFM] = g_stl >= 0 && g[q].n_ok && g[g_stl].n_ok
                           ? mtb_delta_p((size_t)T, g[q].mean, g[g_stl].mean, hb, NULL, T, NULL)
                           : NAN;
        s[S_DPE_OFM] = g_ew >= 0 && g[q].n_ok && g[g_ew].n_ok
                           ? mtb_delta_p((size_t)T, g[q].mean, g[g_ew].mean, hb, NULL, T, NULL)
                           : NAN;
        /* dp_stl of this method minus dp_stl of ew, paired by seed */
        int m = 0;
        for (int k = 0; k < n && g_ew >= 0; k++) {
            if (rows[k].group != q || !isfinite(rows[k].dp_stl))
                continue;
            const trow *ew = find_ref(rows, n, plan, "ew", plan->items[rows[k].item].job.seed);
            if (ew && isfinite(ew->dp_stl)) {
                a[m] = rows[k].dp_stl;
                b[m++] = ew->dp_stl;
            }
        }
        mtb_stats_summary d = mtb_stats_paired_diff(a, b, (size_t)m);
        s[S_DIFF_MEAN] = m ? d.mean : NAN;
        s[S_DIFF_STD] = m ? d.std : NAN;
        s[S_DIFF_CI] = m ? d.ci95 : NAN;
    }

    if (g_stl < 0)
        fprintf(c->notes, "# note\t%s: no stl job in the plan, so the dp_stl columns are NaN "
                          "(add stl to --methods)\n", problem);
    if (g_ew < 0)
        fprintf(c->notes, "# note\t%s: no ew job in the plan, so the dp_ew and dp_stl-ew "
                          "columns are NaN (add ew to --methods)\n", problem);

    /* runs */
    FILE *f = c->body;
    fprintf(f, "\n## runs\t%s\nproblem\tmethod\toptions\tseed\tstatus", problem);
    for (int t = 0; t < T; t++) {
        fprintf(f, "\t%s.metric\t%s.last\t%s.best", p->tasks[t].name, p->tasks[t].name,
                p->tasks[t].name);
        if (p->tasks[t].metric_clean.kind != MTB_METRIC_NONE)
            fprintf(f, "\t%s.clean_last", p->tasks[t].name);
    }
    fputs("\tdp_stl\tdp_ew", f);
    for (int t = 0; t < T; t++)
        fprintf(f, "\t%s.dp_stl", p->tasks[t].name);
    fputc('\n', f);
    for (int k = 0; k < n; k++) {
        const trow *r = &rows[k];
        timing_row(c, r);
        if (!r->present) {
            list_incomplete(c, r);
            continue;
        }
        c->n_complete++;
        const mtb_job *j = &plan->items[r->item].job;
        fprintf(f, "%s\t%s\t%s\t%llu\t%s", j->problem, j->method, opt_or_dash(j->options),
                (unsigned long long)j->seed, r->diverged ? "diverged" : "ok");
        for (int t = 0; t < T; t++) {
            fprintf(f, "\t%s", mtb_metric_name(r->kind[t]));
            num(f, r->last[t]);
            num(f, r->best[t]);
            if (p->tasks[t].metric_clean.kind != MTB_METRIC_NONE)
                num(f, r->clean[t]);
        }
        num(f, r->dp_stl);
        num(f, r->dp_ew);
        for (int t = 0; t < T; t++)
            num(f, r->dp_task[t]);
        fputc('\n', f);
    }

    /* summary */
    fprintf(f, "\n## summary\t%s\nproblem\tmethod\toptions\tn\tn_diverged", problem);
    for (int t = 0; t < T; t++)
        fprintf(f, "\t%s.mean\t%s.std", p->tasks[t].name, p->tasks[t].name);
    for (int q = 0; q < S_N; q++)
        fprintf(f, "\t%s", SWEEP_SUMMARY_COLS[q]);
    fputc('\n', f);
    for (int q = 0; q < ng; q++) {
        const mtb_job *j = &plan->items[rows[g[q].first].item].job;
        fprintf(f, "%s\t%s\t%s\t%d\t%d", j->problem, j->method, opt_or_dash(j->options), g[q].n,
                g[q].n_div);
        for (int t = 0; t < T; t++) {
            num(f, g[q].mean[t]);
            num(f, g[q].std[t]);
        }
        for (int k = 0; k < S_N; k++)
            num(f, S[(size_t)q * S_N + (size_t)k]);
        fputc('\n', f);
    }
    tproblem tp = {plan, p, rows, n, g, ng, S};
    st = sweep_table_h5_problem(c->h5, &tp, err);
done:
    for (int k = 0; k < n; k++) {
        free(rows[k].note);
        free(rows[k].code_version);
    }
    free(p), free(rows), free(g), free(slab), free(kinds), free(S), free(a), free(b), free(hb);
    return st;
}

static mtb_status close_stream(FILE *f, char **buf, mtb_error *err)
{
    if (f && fclose(f))
        return mtb_fail(err, MTB_ENOMEM, "out of memory for the table");
    if (!*buf)
        return mtb_fail(err, MTB_ENOMEM, "out of memory for the table");
    return MTB_OK;
}

mtb_status sweep_table_write(const sweep_plan *plan, double wall_s, int workers,
                             int *incomplete, mtb_error *err)
{
    tctx c;
    memset(&c, 0, sizeof c);
    c.plan = plan;
    char *bn = NULL, *bb = NULL, *bt = NULL, *bm = NULL, *bf = NULL;
    size_t ln = 0, lb = 0, lt = 0, lm = 0, lf = 0;
    char path[SWEEP_PATH_LEN + 32];
    c.notes = open_memstream(&bn, &ln);
    c.body = open_memstream(&bb, &lb);
    c.timing = open_memstream(&bt, &lt);
    c.missing = open_memstream(&bm, &lm);
    c.failed = open_memstream(&bf, &lf);
    c.s = malloc(sizeof *c.s);
    c.miss = malloc(sizeof *c.miss * (size_t)plan->n);
    c.fail = malloc(sizeof *c.fail * (size_t)plan->n);
    c.miss_note = calloc((size_t)plan->n, sizeof *c.miss_note);
    int *idx = malloc(sizeof *idx * (size_t)plan->n);
    char *done = calloc((size_t)plan->n, 1);
    mtb_status st = MTB_OK;
    if (!c.notes || !c.body || !c.timing || !c.missing || !c.failed || !c.s || !c.miss ||
        !c.fail || !c.miss_note || !idx || !done) {
        st = mtb_fail(err, MTB_ENOMEM, "out of memory for the table");
        goto done;
    }
    snprintf(path, sizeof path, "%s/results.h5", plan->dir);
    if (!(c.h5 = mtb_h5_create(path, err))) {
        st = MTB_EIO;
        goto done;
    }
    fputs("problem\tmethod\toptions\tseed\tfile\tnote\n", c.missing);
    fputs("problem\tmethod\toptions\tseed\tfile\tmessage\n", c.failed);
    fputs("problem\tmethod\toptions\tseed\tstatus\tthis_session\ttrain_s\tjob_s\tresumed\t"
          "code_version\n", c.timing);

    /* problems in plan order, each with its jobs in plan order */
    for (int i = 0; i < plan->n && !st; i++) {
        if (done[i])
            continue;
        int n = 0;
        for (int k = i; k < plan->n; k++)
            if (!done[k] && !strcmp(plan->items[k].job.problem, plan->items[i].job.problem)) {
                idx[n++] = k;
                done[k] = 1;
            }
        st = table_problem(&c, plan->items[i].job.problem, idx, n, err);
    }
    if (st)
        goto done;
    if ((st = sweep_table_h5_incomplete(c.h5, plan, "/missing", c.miss, c.n_miss, c.miss_note,
                                        err)) ||
        (st = sweep_table_h5_incomplete(c.h5, plan, "/failed", c.fail, c.n_fail, NULL, err)) ||
        (st = mtb_h5_attr_str(c.h5, "/", "format", "mtb-sweep-results", err)) ||
        (st = mtb_h5_attr_i64(c.h5, "/", "format_version", 1, err)) ||
        (st = mtb_h5_attr_str(c.h5, "/", "scale", plan->scale, err)) ||
        (st = mtb_h5_attr_str(c.h5, "/", "data", plan->data, err)) ||
        (st = mtb_h5_attr_i64(c.h5, "/", "jobs_planned", plan->n, err)) ||
        (st = mtb_h5_attr_i64(c.h5, "/", "jobs_complete", c.n_complete, err)))
        goto done;
    st = mtb_h5_commit(c.h5, err);
    c.h5 = NULL;
    if (st)
        goto done;

    fprintf(c.notes, "# note\tdp_*: Delta-p in %% (DB-MTL Eq. 2) of the last evaluation's "
                     "metrics against the stl or ew run of the same problem and seed; positive "
                     "is better\n"
                     "# note\tsummary: over the seeds that did not diverge (dp: that have the "
                     "reference run); ci95 = t(0.975, n-1) std / sqrt(n); of_means = Delta-p of "
                     "the seed-mean metrics; dp_stl-ew = seed-paired difference of dp_stl to "
                     "the ew rows\n");
    int st1 = close_stream(c.notes, &bn, err), st2 = close_stream(c.body, &bb, err),
        st3 = close_stream(c.timing, &bt, err), st4 = close_stream(c.missing, &bm, err),
        st5 = close_stream(c.failed, &bf, err);
    c.notes = c.body = c.timing = c.missing = c.failed = NULL;
    if (st1 || st2 || st3 || st4 || st5) {
        st = MTB_ENOMEM;
        goto done;
    }
    char *out = NULL;
    size_t lo = 0;
    FILE *f = open_memstream(&out, &lo);
    if (!f) {
        st = mtb_fail(err, MTB_ENOMEM, "out of memory for the table");
        goto done;
    }
    fprintf(f, "# mtb sweep results (docs/sweeps.md)\n# scale\t%s\n# data\t%s\n"
               "# jobs\t%d planned, %d complete, %d failed, %d missing\n",
            plan->scale, plan->data[0] ? plan->data : "-", plan->n, c.n_complete, c.n_failed,
            c.n_missing);
    fwrite(bn, 1, ln, f);
    fwrite(bb, 1, lb, f);
    fputs("\n## missing\n", f);
    fwrite(bm, 1, lm, f);
    fputs("\n## failed\n", f);
    fwrite(bf, 1, lf, f);
    fclose(f);
    snprintf(path, sizeof path, "%s/results.tsv", plan->dir);
    st = out ? sweep_write_atomic(path, out, lo, err) : mtb_fail(err, MTB_ENOMEM, "out of memory");
    free(out);
    if (st)
        goto done;

    if (isnan(wall_s)) /* --table-only: the timing of the last session stays */
        goto done;
    out = NULL;
    lo = 0;
    f = open_memstream(&out, &lo);
    if (!f) {
        st = mtb_fail(err, MTB_ENOMEM, "out of memory for the table");
        goto done;
    }
    int ran = 0;
    double job_sum = 0.0;
    for (int i = 0; i < plan->n; i++)
        if (!isnan(plan->items[i].seconds)) {
            ran++;
            job_sum += plan->items[i].seconds;
        }
    fprintf(f, "# mtb sweep timing: wall seconds (results.tsv has none, so that its tables "
               "compare byte for byte)\n# session\twall_s\t%.3f\tworkers\t%d\tjobs_run\t%d\t"
               "job_s_sum\t%.3f\n", wall_s, workers, ran, job_sum);
    fwrite(bt, 1, lt, f);
    fclose(f);
    snprintf(path, sizeof path, "%s/timing.tsv", plan->dir);
    st = out ? sweep_write_atomic(path, out, lo, err) : mtb_fail(err, MTB_ENOMEM, "out of memory");
    free(out);
done:
    if (c.h5)
        mtb_h5_discard(c.h5);
    FILE *streams[5] = {c.notes, c.body, c.timing, c.missing, c.failed};
    for (int k = 0; k < 5; k++)
        if (streams[k])
            fclose(streams[k]);
    free(bn), free(bb), free(bt), free(bm), free(bf);
    for (int k = 0; k < c.n_miss; k++)
        free(c.miss_note[k]);
    free(c.miss_note), free(c.miss), free(c.fail), free(c.s), free(idx), free(done);
    if (incomplete)
        *incomplete = c.n_missing + c.n_failed;
    return st;
}
