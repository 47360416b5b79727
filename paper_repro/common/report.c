/* report.c: report scaffolding (report.h). */
#include "report.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sweep_plan.h"
#include "mtb/clock.h"
#include "mtb/h5.h"

static void get_str(mtb_h5 *f, const char *name, char *buf, size_t n)
{
    mtb_error err = {0};
    if (mtb_h5_attr_get_str(f, "/provenance", name, buf, n, &err))
        snprintf(buf, n, "?");
}

void repro_provenance_scan_files(repro_provenance_scan *p, const char *const *paths, int n)
{
    memset(p, 0, sizeof *p);
    p->sgemm_gflops_min = INFINITY;
    p->sgemm_gflops_max = -INFINITY;
    for (int i = 0; i < n; i++) {
        mtb_error err = {0};
        mtb_h5 *f = mtb_h5_open(paths[i], &err);
        if (!f || !mtb_h5_attr_exists(f, "/provenance", "code_version")) {
            p->n_unreadable++;
            mtb_h5_close(f);
            continue;
        }
        p->n_files++;
        char v[128];
        get_str(f, "code_version", v, sizeof v);
        int k = 0;
        while (k < p->n_versions && k < 4 && strcmp(p->versions[k], v))
            k++;
        if (k == p->n_versions) {
            if (k < 4)
                snprintf(p->versions[k], sizeof p->versions[k], "%s", v);
            p->n_versions++;
        }
        int64_t x = 0;
        if (!mtb_h5_attr_get_i64(f, "/provenance", "resumed", &x, &err) && x)
            p->n_resumed++;
        if (p->n_files == 1) {
            get_str(f, "cpu_model", p->cpu_model, sizeof p->cpu_model);
            get_str(f, "blas_kernel", p->blas_kernel, sizeof p->blas_kernel);
            get_str(f, "blas_config", p->blas_config, sizeof p->blas_config);
            get_str(f, "hostname", p->hostname, sizeof p->hostname);
            if (!mtb_h5_attr_get_i64(f, "/provenance", "cpu_cores", &x, &err))
                p->cpu_cores = (int)x;
            if (!mtb_h5_attr_get_i64(f, "/provenance", "blas_threads", &x, &err))
                p->blas_threads = (int)x;
        }
        double g = NAN, w = NAN;
        if (!mtb_h5_attr_get_f64(f, "/provenance", "sgemm_gflops", &g, &err) && isfinite(g)) {
            p->sgemm_gflops_min = fmin(p->sgemm_gflops_min, g);
            p->sgemm_gflops_max = fmax(p->sgemm_gflops_max, g);
        }
        if (mtb_h5_attr_exists(f, "/timing", "wall_s") && !mtb_h5_attr_get_f64(f, "/timing", "wall_s", &w, &err) &&
            isfinite(w))
            p->wall_s_sum += w;
        mtb_h5_close(f);
    }
}

void repro_report_header(FILE *o, const char *title, const char *program, repro_scale s,
                         const repro_provenance_scan *p, double wall_s)
{
    time_t now = time(NULL);
    char when[64], d1[32], d2[32];
    strftime(when, sizeof when, "%Y-%m-%d %H:%M UTC", gmtime(&now));
    if (title)
        fprintf(o, "# %s\n\n", title);
    fprintf(o, "_Written by `%s` from the run files at scale **%s** on %s. Do not edit by hand: "
               "every number below is computed from the run files._\n\n",
            program, repro_scale_name(s), when);
    fprintf(o, "**Provenance** (read from the run files): %d run files", p->n_files);
    if (p->n_unreadable)
        fprintf(o, " (%d more without provenance)", p->n_unreadable);
    fprintf(o, "; code version ");
    for (int k = 0; k < p->n_versions && k < 4; k++)
        fprintf(o, "%s`%s`", k ? ", " : "", p->versions[k]);
    if (p->n_versions > 1)
        fprintf(o, " (**mixed**: the results come from %d code versions)", p->n_versions);
    if (p->n_files)
        fprintf(o, "; CPU %s (%d cores), host `%s`; BLAS kernel %s, %d thread(s) per job (`%s`); "
                   "sgemm rate measured by the jobs %.1f–%.1f GFLOP/s",
                p->cpu_model, p->cpu_cores, p->hostname, p->blas_kernel, p->blas_threads,
                p->blas_config, p->sgemm_gflops_min, p->sgemm_gflops_max);
    if (p->n_resumed)
        fprintf(o, "; %d job(s) ran in a resumed sweep", p->n_resumed);
    if (p->n_reused) {
        fprintf(o, "; %d of the run files were not trained here but reused from other sweeps "
                   "(`mtb sweep --reuse`: the same job, scale, code version and BLAS kernel; "
                   "listed in each sweep's `reused.tsv`):", p->n_reused);
        for (int k = 0; k < p->n_reuse_sources && k < 8; k++)
            fprintf(o, "%s %d from `%s`", k ? "," : "", p->reuse_count[k], p->reuse_source[k]);
        if (p->n_reuse_sources > 8)
            fprintf(o, " and %d more director%s", p->n_reuse_sources - 8,
                    p->n_reuse_sources == 9 ? "y" : "ies");
    }
    fprintf(o, ".");
    if (p->wall_s_sum > 0)
        fprintf(o, " Training time summed over the runs: %s.",
                mtb_format_duration(p->wall_s_sum, d1, sizeof d1));
    if (isfinite(wall_s))
        fprintf(o, " **Wall time of the pipeline: %s.**", mtb_format_duration(wall_s, d2, sizeof d2));
    fprintf(o, "\n\n");
}

int repro_replace_section(const char *path, const char *name, const char *body)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char *text = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&text, &len);
    char buf[4096];
    size_t k;
    while (m && (k = fread(buf, 1, sizeof buf, f)) > 0)
        fwrite(buf, 1, k, m);
    fclose(f);
    if (!m || fclose(m))
        return -1;
    char begin[160], end[160];
    snprintf(begin, sizeof begin, "<!-- begin %s -->", name);
    snprintf(end, sizeof end, "<!-- end %s -->", name);
    char *b = strstr(text, begin), *e = b ? strstr(b, end) : NULL;
    if (!b || !e) {
        free(text);
        return -1;
    }
    FILE *o = repro_open(path);
    if (!o) {
        free(text);
        return -1;
    }
    b += strlen(begin);
    fwrite(text, 1, (size_t)(b - text), o);
    fprintf(o, "\n%s\n", body);
    fputs(e, o);
    free(text);
    return repro_commit(o, path);
}

int repro_write_report(const char *out, const char *title, const char *program, repro_scale s,
                       const repro_provenance_scan *p, double wall_s, const char *readme,
                       const char *figdir, void (*body)(FILE *o, const char *figdir, void *ctx),
                       void *ctx)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/report.md", out);
    FILE *o = repro_open(path);
    if (!o) {
        fprintf(stderr, "%s: cannot write %s\n", program, path);
        return -1;
    }
    repro_report_header(o, title, program, s, p, wall_s);
    body(o, "", ctx);
    if (repro_commit(o, path)) {
        fprintf(stderr, "%s: cannot write %s\n", program, path);
        return -1;
    }
    if (!readme)
        return 0;
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    if (!m) {
        fprintf(stderr, "%s: out of memory\n", program);
        return -1;
    }
    repro_report_header(m, NULL, program, s, p, wall_s);
    body(m, figdir, ctx);
    fclose(m);
    int rc = repro_replace_section(readme, "latest-run", buf);
    free(buf);
    if (rc)
        fprintf(stderr, "%s: cannot rewrite the latest-run section of %s (are its markers "
                        "there?)\n", program, readme);
    return rc;
}

/* Counts the lines of DIR/reused.tsv (job, source file, code version) whose job is still
 * in the plan, by the sweep directory the file came from (the part before "/runs/"). */
static void count_reused(repro_provenance_scan *p, const repro_plan *plan)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/reused.tsv", plan->dir);
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    char *line = NULL;
    size_t cap = 0;
    while (getline(&line, &cap, f) > 0) {
        char *tab = strchr(line, '\t'), *from = tab ? tab + 1 : NULL;
        char *end = from ? strchr(from, '\t') : NULL, *runs = from ? strstr(from, "/runs/") : NULL;
        if (line[0] == '#' || !end || !runs || runs > end)
            continue;
        *tab = '\0';
        char mine[4600];
        snprintf(mine, sizeof mine, "%s/runs/%s.h5", plan->dir, line);
        int planned = 0;
        for (int j = 0; j < plan->n && !planned; j++)
            planned = !strcmp(plan->jobs[j].path, mine);
        if (!planned)
            continue;
        p->n_reused++;
        *runs = '\0';
        int k = 0;
        while (k < p->n_reuse_sources && k < 8 && strcmp(p->reuse_source[k], from))
            k++;
        if (k == p->n_reuse_sources) {
            if (k < 8)
                snprintf(p->reuse_source[k], sizeof p->reuse_source[k], "%s", from);
            p->n_reuse_sources++;
        }
        if (k < 8)
            p->reuse_count[k]++;
    }
    free(line);
    fclose(f);
}

void repro_provenance_scan_sweeps(repro_provenance_scan *p, const char *const *files, int n_files,
                                  const char *const *dirs, int n_dirs)
{
    repro_plan *plans = calloc((size_t)(n_dirs > 0 ? n_dirs : 1), sizeof *plans);
    int total = n_files;
    for (int i = 0; plans && i < n_dirs; i++) {
        char plan[4200];
        snprintf(plan, sizeof plan, "%s/plan.tsv", dirs[i]);
        FILE *probe = fopen(plan, "r");
        if (!probe)
            continue;
        fclose(probe);
        if (repro_plan_read(dirs[i], &plans[i]) == 0)
            total += plans[i].n;
    }
    const char **all = malloc(sizeof *all * (size_t)(total > 0 ? total : 1));
    int n = 0;
    for (int i = 0; all && i < n_files; i++)
        all[n++] = files[i];
    for (int i = 0; all && plans && i < n_dirs; i++)
        for (int j = 0; j < plans[i].n; j++)
            all[n++] = plans[i].jobs[j].path;
    repro_provenance_scan_files(p, all, all ? n : 0);
    for (int i = 0; plans && i < n_dirs; i++) {
        count_reused(p, &plans[i]);
        repro_plan_free(&plans[i]);
    }
    free(plans);
    free(all);
}
