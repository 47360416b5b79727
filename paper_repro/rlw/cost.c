/* cost.c: R8, cost per training step (ICLR Table 1's Delta t): RLW/EW and RGW/EW through
 * the library's trainer (mtb_trainer_step: forward, weighting, weighted backward, Adam) on
 * the MTR trunk (250 -> 4 x 100, tanh), T heads of 100 MSE outputs, batch 304, one BLAS
 * thread. Protocol: warm-up steps, then `rep` repeats of `steps` steps; the median of the
 * repeats' mean step time. The timer covers mtb_trainer_step only (the batch is in memory).
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

typedef struct cmethod { const char *name, *method, *opts; } cmethod;
static const cmethod CM[] = {
    {"ew", "ew", ""},
    {"rlw-uniform", "rlw", "dist=uniform"},
    {"rlw-normal", "rlw", "dist=normal"},
    {"rlw-dirichlet-id", "rlw", "dist=dirichlet,dirichlet_norm=identity"},
    {"rlw-bernoulli", "rlw", "dist=bernoulli"},
    {"rlw-cbernoulli", "rlw", "dist=constrained_bernoulli"},
    {"rgw-normal", "rgw", "dist=normal"},
};
enum { NCM = sizeof CM / sizeof CM[0], B8 = 304, DIN8 = 250, W8 = 100 };

int cmd_cost(const char *out, const rscale *r)
{
    openblas_set_num_threads(1);
    char path[1024], dpath[1024];
    FILE *f = out_open(out, "rlw_cost.tsv", path, sizeof path);
    fprintf(f, "T\tmethod\tms_per_step\tratio_to_ew\n");
    FILE *dat = out_open(out, "cost.dat", dpath, sizeof dpath);
    fprintf(dat, "T");
    for (int i = 0; i < NCM; i++)
        fprintf(dat, "\t\"%s\"", CM[i].name);
    fprintf(dat, "\n");
    summary s;
    sum_open(&s, out, "cost");
    double rmin = INFINITY, rmax = -INFINITY;
    mtb_error err = {0};
    for (int it = 0; it < r->r8_nT; it++) {
        int T = r->r8_T[it];
        int *head_out = malloc(sizeof(int) * (size_t)T);
        mtb_task_spec *tasks = malloc(sizeof *tasks * (size_t)T);
        for (int t = 0; t < T; t++) {
            head_out[t] = W8;
            tasks[t] = (mtb_task_spec){MTB_LOSS_MSE, W8, W8, t * W8, 1.0, 0, {0}};
        }
        float *x = malloc(sizeof(float) * B8 * DIN8), *y = malloc(sizeof(float) * B8 * (size_t)T * W8);
        mtb_rng rg;
        mtb_rng_seed(&rg, 8, 0);
        for (int i = 0; i < B8 * DIN8; i++)
            x[i] = (float)(0.01 * mtb_rng_normal(&rg));
        for (size_t i = 0; i < (size_t)B8 * T * W8; i++)
            y[i] = (float)mtb_rng_normal(&rg);
        double ms[NCM];
        fprintf(dat, "%d", T);
        for (int im = 0; im < NCM; im++) {
            mtb_model_config mc = {DIN8, 4, {W8, W8, W8, W8}, MTB_ACT_TANH, T, head_out};
            mtb_model *m;
            if (mtb_model_new(&mc, &m, &err) || mtb_model_init_orthogonal(m, sqrt(2.0), &rg, &err))
                die("%s", err.msg);
            const mtb_balancer_type *ty = mtb_balancer_find(CM[im].method);
            mtb_hparams hp;
            if (!ty || mtb_hparams_parse(ty, CM[im].opts, &hp, &err))
                die("%s: %s", CM[im].name, err.msg);
            mtb_balancer *b = mtb_balancer_new(ty, T, 0, &hp, 1, &err);
            if (!b)
                die("%s", err.msg);
            mtb_trainer_config tc = {0};
            mtb_optim_config_adam(&tc.optim, 7e-4);
            tc.batch_max = B8;
            mtb_trainer *tr;
            if (mtb_trainer_new(m, tasks, b, &tc, &tr, &err))
                die("%s", err.msg);
            mtb_step_result res;
            long step = 0;
            for (int k = 0; k < r->r8_warm; k++, step++)
                if (mtb_trainer_step(tr, x, y, (size_t)T * W8, B8, step, 0, &res, &err))
                    die("%s", err.msg);
            double rep[8];
            for (int rr = 0; rr < r->r8_rep; rr++) {
                double t0 = mtb_clock_s();
                for (int k = 0; k < r->r8_steps; k++, step++)
                    if (mtb_trainer_step(tr, x, y, (size_t)T * W8, B8, step, 0, &res, &err))
                        die("%s", err.msg);
                rep[rr] = (mtb_clock_s() - t0) * 1e3 / r->r8_steps;
            }
            ms[im] = mtb_stats_median_inplace(rep, (size_t)r->r8_rep);
            mtb_trainer_free(tr);
            mtb_balancer_free(b);
            mtb_model_free(m);
            double ratio = ms[im] / ms[0];
            fprintf(f, "%d\t%s\t%.4f\t%.4f\n", T, CM[im].name, ms[im], ratio);
            fprintf(dat, "\t%.5g", ms[im]);
            if (!strcmp(CM[im].method, "rlw") || !strcmp(CM[im].method, "rgw"))
                rmin = fmin(rmin, ratio), rmax = fmax(rmax, ratio);
            char key[64];
            snprintf(key, sizeof key, "ratio_%s_T%d", CM[im].name, T);
            sum_put(&s, key, ratio, ratio, ratio);
        }
        fprintf(dat, "\n");
        free(head_out), free(tasks), free(x), free(y);
    }
    out_close(dat, dpath);
    out_close(f, path);
    sum_put(&s, "ratio_min", rmin, rmin, rmin);
    sum_put(&s, "ratio_max", rmax, rmax, rmax);
    sum_close(&s);
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
