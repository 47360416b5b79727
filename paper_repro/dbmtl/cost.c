/* cost.c: D11, cost per step against T (App. C.4, Fig. 7: "DB-MTL costs about as much as the
 * gradient-balancing methods and IMTL, more than the loss-balancing methods"). Every method
 * the spec lists, through the trainer on the MTR trunk, batch 304, heads 100 -> 100
 * (paper_repro/common/step_cost.h), T = 2 .. 128 (the scale's subset), one BLAS thread;
 * the step time of each method over EW's at the same T. Timings are tabulated and compared
 * in the report, never asserted (a loaded machine moves them). The measurement's provenance
 * goes to cost.h5 for the report's header. */
#include "dbmtl.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../common/step_cost.h"
#include "mtb/h5.h"
#include "mtb/provenance.h"

typedef struct cm { const char *name, *method, *opts; int level; } cm; /* 0 loss, 1 param, 2 other */
static const cm CM[] = {
    {"ew", "ew", "", 0},
    {"log-ew", "db_mtl", "gradnorm=false", 0},
    {"gls", "gls", "", 0},
    {"imtl-l", "imtl_l", "", 0},
    {"rlw", "rlw", "", 0},
    {"uw", "uw", "", 0},
    {"dwa", "dwa", "", 0},
    {"db-mtl", "db_mtl", "", 1},
    {"imtl-g-exact", "imtl_g", "level=param", 1},
    {"pcgrad", "pcgrad", "", 1},
    {"mgda", "mgda", "", 1},
    {"cagrad", "cagrad", "", 1},
    {"nash-mtl", "nash_mtl", "", 1},
    {"aligned-mtl", "aligned_mtl", "", 1},
    {"gradvac", "gradvac", "", 1},
    {"imtl-g-flat", "imtl_g", "level=rep", 2},
    {"gradnorm", "gradnorm", "", 2},
};
enum { NCM = sizeof CM / sizeof CM[0], SMOKE_NCM = 4 }; /* smoke: ew, log-ew, gls, imtl-l ... */
static const int SMOKE_SET[] = {0, 1, 7, 8}; /* ew, log-ew, db-mtl, imtl-g-exact */

int cmd_cost(const char *out, const dscale *d)
{
    openblas_set_num_threads(1);
    const int nm = d->s == REPRO_SMOKE ? SMOKE_NCM : NCM;
    char path[1024], dpath[1024];
    FILE *f = out_open(out, "dbmtl_cost.tsv", path, sizeof path);
    fprintf(f, "T\tmethod\tlevel\tms_per_step\tratio_to_ew\n");
    FILE *dat = out_open(out, "cost.dat", dpath, sizeof dpath);
    fprintf(dat, "T");
    for (int i = 0; i < nm; i++)
        fprintf(dat, "\t\"%s\"", CM[d->s == REPRO_SMOKE ? SMOKE_SET[i] : i].name);
    fprintf(dat, "\n");
    repro_summary sum;
    sum_open(&sum, out, "cost");
    double worst_rel = 0.0, loss_max = 0.0;
    for (int it = 0; it < d->cost_nT; it++) {
        int T = d->cost_T[it];
        repro_step_cost c = {.T = T, .batch = 304, .warm = d->cost_warm, .reps = d->cost_rep,
                             .steps = d->cost_steps};
        double ew = NAN, db = NAN, ig = NAN;
        fprintf(dat, "%d", T);
        for (int i = 0; i < nm; i++) {
            const cm *m = &CM[d->s == REPRO_SMOKE ? SMOKE_SET[i] : i];
            char msg[256];
            double ms = repro_step_ms(&c, m->method, m->opts, msg, sizeof msg);
            if (!isfinite(ms))
                die("D11 %s at T = %d: %s", m->name, T, msg);
            if (!strcmp(m->name, "ew"))
                ew = ms;
            double ratio = ms / ew;
            if (!strcmp(m->name, "db-mtl"))
                db = ratio;
            if (!strcmp(m->name, "imtl-g-exact"))
                ig = ratio;
            if (m->level == 0 && strcmp(m->name, "ew"))
                loss_max = fmax(loss_max, ratio);
            fprintf(f, "%d\t%s\t%s\t%.4f\t%.4f\n", T, m->name,
                    m->level == 0 ? "losses" : m->level == 1 ? "param" : "rep/last layer", ms, ratio);
            fprintf(dat, "\t%.5g", ratio);
            repro_summary_putf(&sum, ratio, ratio, ratio, "ratio_%s_T%d", m->name, T);
        }
        fprintf(dat, "\n");
        worst_rel = fmax(worst_rel, fabs(db / ig - 1.0));
        printf("[dbmtl] D11 T = %3d: db-mtl/ew %.2f, imtl-g-exact/ew %.2f\n", T, db, ig);
    }
    repro_summary_put(&sum, "db_vs_imtlg_worst_rel", worst_rel, worst_rel, worst_rel);
    repro_summary_put(&sum, "loss_level_max_ratio", loss_max, loss_max, loss_max);
    sum_close(&sum);
    out_close(dat, dpath);
    out_close(f, path);
    mtb_provenance prov;
    mtb_error err = {0};
    mtb_provenance_collect(&prov, 1);
    char hpath[1024];
    snprintf(hpath, sizeof hpath, "%s/cost.h5", out);
    mtb_h5 *h = mtb_h5_create(hpath, &err);
    if (!h || mtb_h5_group(h, "/provenance", &err) ||
        mtb_provenance_write(h, "/provenance", &prov, &err) || mtb_h5_commit(h, &err))
        die("%s: %s", hpath, err.msg);
    return 0;
}
