/* cost.c: R8, cost per training step (ICLR Table 1's Delta t): RLW/EW and RGW/EW through
 * the library's trainer (mtb_trainer_step: forward, weighting, weighted backward, Adam) on
 * the MTR trunk (250 -> 4 x 100, tanh), T heads of 100 MSE outputs, batch 304, with one and
 * with two BLAS threads, for EW, every distribution of rlw.md sec. 1 and RGW (normal and
 * c-Bernoulli). Protocol: warm-up steps, then `rep` repeats of `steps` steps, the methods
 * interleaved within each repeat; the median of the repeats' mean step time. The timer covers mtb_trainer_step only (the batch is in memory).
 * Timings are printed and tabulated, never asserted. The run's provenance (machine, BLAS,
 * code version) is written to cost.h5 for the report's header. */
#include "rlw.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mtb/clock.h"
#include "mtb/h5.h"
#include "mtb/model.h"
#include "mtb/provenance.h"
#include "mtb/stats.h"
#include "mtb/train.h"

/* ew, every distribution of rlw.md sec. 1 (VARIANTS, as options of rlw), RGW with normal
 * and c-Bernoulli weights, then Bernoulli and c-Bernoulli RLW with skip-zero-heads (the
 * trainer skips the backward of heads whose weight is 0: mtb_trainer_set_skip_zero_heads) */
enum { NCM = 1 + N_VARIANTS + 2 + 2, B8 = 304, DIN8 = 250, W8 = 100, MAX_REP = 8 };
typedef struct cmethod { char name[64]; const char *method, *opts; int skip; } cmethod;
static void methods(cmethod *cm)
{
    cm[0] = (cmethod){"ew", "ew", "", 0};
    for (int v = 0; v < N_VARIANTS; v++) {
        cm[1 + v] = (cmethod){"", "rlw", VARIANTS[v].opts, 0};
        snprintf(cm[1 + v].name, sizeof cm[1 + v].name, "rlw-%s", VARIANTS[v].name);
    }
    cm[1 + N_VARIANTS] = (cmethod){"rgw-normal", "rgw", "dist=normal", 0};
    cm[2 + N_VARIANTS] = (cmethod){"rgw-cbernoulli", "rgw", "dist=constrained_bernoulli", 0};
    cm[3 + N_VARIANTS] = (cmethod){"rlw-bernoulli-skip", "rlw", VARIANTS[V_BERN].opts, 1};
    cm[4 + N_VARIANTS] = (cmethod){"rlw-cbernoulli-skip", "rlw", VARIANTS[V_CBERN].opts, 1};
}

/* The machine's 1-minute load average (/proc/loadavg; NAN where there is none): timings
 * taken while other processes run are not the machine's, and the report says so. */
static double load_average(void)
{
    FILE *f = fopen("/proc/loadavg", "r");
    double v = NAN;
    if (f) {
        if (fscanf(f, "%lf", &v) != 1)
            v = NAN;
        fclose(f);
    }
    return v;
}

/* One trainer of the MTR trunk with T heads and method cm, warmed up. */
static mtb_trainer *cost_trainer(const cmethod *cm, int T, const int *head_out,
                                 const mtb_task_spec *tasks, const float *x, const float *y,
                                 mtb_rng *rg, const rscale *r, mtb_model **m, mtb_balancer **b)
{
    mtb_error err = {0};
    mtb_model_config mc = {DIN8, 4, {W8, W8, W8, W8}, MTB_ACT_TANH, T, head_out};
    if (mtb_model_new(&mc, m, &err) || mtb_model_init_orthogonal(*m, sqrt(2.0), rg, &err))
        die("%s", err.msg);
    const mtb_balancer_type *ty = mtb_balancer_find(cm->method);
    mtb_hparams hp;
    if (!ty || mtb_hparams_parse(ty, cm->opts, &hp, &err))
        die("%s: %s", cm->name, err.msg);
    if (!(*b = mtb_balancer_new(ty, T, 0, &hp, 1, &err)))
        die("%s", err.msg);
    mtb_trainer_config tc = {0};
    mtb_optim_config_adam(&tc.optim, 7e-4);
    tc.batch_max = B8;
    mtb_trainer *tr;
    if (mtb_trainer_new(*m, tasks, *b, &tc, &tr, &err))
        die("%s", err.msg);
    mtb_trainer_set_skip_zero_heads(tr, cm->skip);
    mtb_step_result res;
    for (long k = 0; k < r->r8_warm; k++)
        if (mtb_trainer_step(tr, x, y, (size_t)T * W8, B8, k, 0, &res, &err))
            die("%s", err.msg);
    return tr;
}

int cmd_cost(const char *out, const rscale *r)
{
    static const int THREADS[2] = {1, 2};
    cmethod CM[NCM];
    methods(CM);
    char path[1024], dpath[2][1024];
    FILE *f = repro_out_open(PROG, out, "rlw_cost.tsv", path, sizeof path);
    fprintf(f, "T\tthreads\tmethod\tms_per_step\tratio_to_ew\n");
    FILE *dat[2];
    for (int th = 0; th < 2; th++) {
        dat[th] = repro_out_open(PROG, out, th ? "cost_2threads.dat" : "cost.dat", dpath[th], sizeof dpath[th]);
        fprintf(dat[th], "T");
        for (int i = 0; i < NCM; i++)
            fprintf(dat[th], "\t\"%s\"", CM[i].name);
        fprintf(dat[th], "\n");
    }
    repro_summary s;
    repro_summary_open_or_die(PROG, &s, out, "cost");
    double rmin = INFINITY, rmax = -INFINITY;
    const double load_start = load_average();
    mtb_error err = {0};
    if (r->r8_rep > MAX_REP)
        die("at most %d repeats", MAX_REP);
    for (int it = 0; it < r->r8_nT; it++) {
        int T = r->r8_T[it];
        int *head_out = malloc(sizeof(int) * (size_t)T);
        mtb_task_spec *tasks = malloc(sizeof *tasks * (size_t)T);
        float *x = malloc(sizeof(float) * B8 * DIN8), *y = malloc(sizeof(float) * B8 * (size_t)T * W8);
        if (!head_out || !tasks || !x || !y)
            die("out of memory");
        for (int t = 0; t < T; t++) {
            head_out[t] = W8;
            tasks[t] = (mtb_task_spec){MTB_LOSS_MSE, W8, W8, t * W8, 1.0, 0, {0}};
        }
        mtb_rng rg;
        mtb_rng_seed(&rg, 8, 0);
        for (int i = 0; i < B8 * DIN8; i++)
            x[i] = (float)(0.01 * mtb_rng_normal(&rg));
        for (size_t i = 0; i < (size_t)B8 * T * W8; i++)
            y[i] = (float)mtb_rng_normal(&rg);
        for (int th = 0; th < 2; th++) {
            openblas_set_num_threads(THREADS[th]);
            mtb_model *m[NCM];
            mtb_balancer *b[NCM];
            mtb_trainer *tr[NCM];
            for (int im = 0; im < NCM; im++)
                tr[im] = cost_trainer(&CM[im], T, head_out, tasks, x, y, &rg, r, &m[im], &b[im]);
            /* the repeats interleave the methods, so that a change in the machine's load
             * during the measurement touches every method alike */
            double rep[NCM][MAX_REP];
            long step = r->r8_warm;
            for (int rr = 0; rr < r->r8_rep; rr++, step += r->r8_steps)
                for (int im = 0; im < NCM; im++) {
                    mtb_step_result res;
                    double t0 = mtb_clock_s();
                    for (int k = 0; k < r->r8_steps; k++)
                        if (mtb_trainer_step(tr[im], x, y, (size_t)T * W8, B8, step + k, 0, &res, &err))
                            die("%s", err.msg);
                    rep[im][rr] = (mtb_clock_s() - t0) * 1e3 / r->r8_steps;
                }
            double ms[NCM];
            fprintf(dat[th], "%d", T);
            for (int im = 0; im < NCM; im++) {
                ms[im] = mtb_stats_median_inplace(rep[im], (size_t)r->r8_rep);
                mtb_trainer_free(tr[im]);
                mtb_balancer_free(b[im]);
                mtb_model_free(m[im]);
                double ratio = ms[im] / ms[0];
                fprintf(f, "%d\t%d\t%s\t%.4f\t%.4f\n", T, THREADS[th], CM[im].name, ms[im], ratio);
                fprintf(dat[th], "\t%.5g", ms[im]);
                if (im > 0 && !CM[im].skip) /* "as fast as EW": the unskipped rows */
                    rmin = fmin(rmin, ratio), rmax = fmax(rmax, ratio);
                char key[128];
                snprintf(key, sizeof key, "ratio_%.63s_T%d%s", CM[im].name, T, th ? "_2threads" : "");
                repro_summary_put(&s, key, ratio, ratio, ratio);
            }
            fprintf(dat[th], "\n");
        }
        free(head_out), free(tasks), free(x), free(y);
    }
    openblas_set_num_threads(1);
    for (int th = 0; th < 2; th++)
        repro_out_close(PROG, dat[th], dpath[th]);
    repro_out_close(PROG, f, path);
    repro_summary_put(&s, "ratio_min", rmin, rmin, rmin);
    repro_summary_put(&s, "ratio_max", rmax, rmax, rmax);
    const double load_end = load_average();
    repro_summary_put(&s, "loadavg_start", load_start, load_start, load_start);
    repro_summary_put(&s, "loadavg_end", load_end, load_end, load_end);
    repro_summary_close_or_die(PROG, &s);
    /* provenance of this measurement (the report's header reads it) */
    mtb_provenance prov;
    mtb_provenance_collect(&prov, 1);
    char hpath[1024];
    snprintf(hpath, sizeof hpath, "%s/cost.h5", out);
    mtb_h5 *h = mtb_h5_create(hpath, &err);
    if (!h || mtb_h5_group(h, "/provenance", &err) || mtb_provenance_write(h, "/provenance", &prov, &err) ||
        mtb_h5_commit(h, &err))
        die("%s: %s", hpath, err.msg);
    printf("[rlw] R8 cost: RLW/RGW step time over EW's in [%.3f, %.3f]\n", rmin, rmax);
    return 0;
}
