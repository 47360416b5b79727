/* combo_train.c: R10's training runs (rlw.md R10; TMLR Table 3: random loss weights in front of
 * a gradient method improve every method on NYUv2, e.g. PCGrad -0.16 -> +0.97, IMTL-G +0.80 ->
 * +1.50, CAGrad +1.36 -> +2.20). The runs are LSD-6 jobs of the combo sweep: each gradient
 * method plain and with `pre=rlw,pre_dist=normal` (the library's pre-transform stage:
 * l'_t = lambda~_t l_t with a fresh softmax-normal draw per step), and EW. Per method: Delta-p_EW
 * plain and +RLW per seed against the same seed's EW run, and the seed-paired difference
 * (+RLW) - plain with its 95 % t-interval. Also checked: a distribution that draws zero weights
 * (Bernoulli) in front of IMTL-G, whose unit vectors would be undefined, is refused with a
 * message (rlw.md R10). */
#include "rlw.h"

#include <math.h>
#include <string.h>

#include "../common/summary.h"
#include "mtb/deltap.h"
#include "mtb/stats.h"

/* the methods of rlw.md R10 as the combo sweep runs them (reproduce: COMBO) */
/* (onestep: the row of combo.c's one-step check for the same method, whose min cosine the
 * table repeats: rlw.md's Table rlw_combo has both) */
static const struct {
    const char *name, *method, *opts, *onestep;
} GM[] = {
    {"mgda-ub", "mgda", "level=rep", "mgda"}, {"pcgrad", "pcgrad", "", "pcgrad"},
    {"imtl-g", "imtl_g", "", "imtl_g"},       {"cagrad", "cagrad", "", "cagrad"},
    {"nash-mtl", "nash_mtl", "", "nash_mtl"},
};
enum { NGM = sizeof GM / sizeof GM[0] };
#define WITH_RLW "pre=rlw,pre_dist=normal"

/* 1 when imtl_g with Bernoulli weights in front is refused with a message */
static int bernoulli_refused(char *msg, size_t n)
{
    const mtb_balancer_type *ty = mtb_balancer_find("imtl_g");
    mtb_hparams hp;
    mtb_error err = {0};
    mtb_balancer *b = NULL;
    if (ty && !mtb_hparams_parse(ty, "pre=rlw,pre_dist=bernoulli", &hp, &err))
        b = mtb_balancer_new(ty, 3, 16, &hp, 1, &err);
    int refused = !b && err.msg[0];
    snprintf(msg, n, "%s", refused ? err.msg : "accepted");
    mtb_balancer_free(b);
    return refused;
}

int cmd_combotrain(const char *out, const rscale *r)
{
    (void)r;
    static repro_runs t;
    char path[1024], dir[1024];
    snprintf(dir, sizeof dir, "%s/sweep_combo", out);
    FILE *f = repro_out_open(PROG, out, "rlw_combo.tsv", path, sizeof path);
    fprintf(f, "method\tseeds\tΔp_EW plain (%%)\tΔp_EW +RLW (%%)\t(+RLW) − plain, seed-paired [95 %% CI]"
               "\tone-step min cos(d_plain, d_rlw) (rlw_combo_onestep.tsv; mgda-ub: MGDA exact)\tTMLR NYUv2 plain → +RLW\n");
    repro_summary_load(out, "combo"); /* the one-step check's cosines (combo.c), if it ran */
    static const char *TMLR[NGM] = {"+0.38 → +2.01", "−0.16 → +0.97", "+0.80 → +1.50",
                                    "+1.36 → +2.20", "not in Table 3"};
    repro_summary sm;
    repro_summary_open_or_die(PROG, &sm, out, "combotrain");
    int rows = 0, better = 0, sig_worse = 0;
    if (!repro_runs_load(&t, dir, "lsd6") && t.nc) {
        int iew = repro_runs_find(&t, "ew", "");
        for (int g = 0; g < NGM; g++) {
            char opts[512];
            snprintf(opts, sizeof opts, "%s%s" WITH_RLW, GM[g].opts, GM[g].opts[0] ? "," : "");
            int ip = repro_runs_find(&t, GM[g].method, GM[g].opts), ir = repro_runs_find(&t, GM[g].method, opts);
            if (ip < 0 || ir < 0 || iew < 0)
                continue;
            double a[REPRO_RUNS_MAXS], b[REPRO_RUNS_MAXS];
            int n = 0;
            for (int k = 0; k < t.ns; k++) {
                double x = repro_runs_delta_p(&t, ir, iew, k, NULL), y = repro_runs_delta_p(&t, ip, iew, k, NULL);
                if (isfinite(x) && isfinite(y))
                    a[n] = x, b[n++] = y;
            }
            if (!n)
                continue;
            mtb_stats_summary qp = mtb_stats_summarise(b, (size_t)n), qr = mtb_stats_summarise(a, (size_t)n),
                              q = mtb_stats_paired_diff(a, b, (size_t)n);
            char ckey[96];
            snprintf(ckey, sizeof ckey, "combo.mincos_%s", GM[g].onestep);
            const double cos1 = repro_summary_get(ckey, NULL, NULL);
            if (n >= 2)
                fprintf(f, "%s\t%d\t%+.3f ± %.2g\t%+.3f ± %.2g\t%+.3f [%+.3f, %+.3f]\t%.12f\t%s\n", GM[g].name,
                        n, qp.mean, qp.ci95, qr.mean, qr.ci95, q.mean, q.mean - q.ci95, q.mean + q.ci95, cos1,
                        TMLR[g]);
            else
                fprintf(f, "%s\t1\t%+.3f\t%+.3f\t%+.3f (one seed)\t%.12f\t%s\n", GM[g].name, qp.mean, qr.mean,
                        q.mean, cos1, TMLR[g]);
            rows++;
            better += q.mean > 0;
            sig_worse += n >= 2 && q.mean + q.ci95 < 0;
            char key[96];
            snprintf(key, sizeof key, "diff_%s", GM[g].name);
            repro_summary_put(&sm, key, q.mean, q.mean - q.ci95, q.mean + q.ci95);
        }
    }
    repro_out_close(PROG, f, path);
    char msg[512];
    int refused = bernoulli_refused(msg, sizeof msg);
    repro_summary_put(&sm, "rows", rows, rows, rows);
    repro_summary_put(&sm, "improved", better, better, better);
    repro_summary_put(&sm, "significantly_worse", sig_worse, sig_worse, sig_worse);
    repro_summary_put(&sm, "bernoulli_imtl_refused", refused, refused, refused);
    repro_summary_close_or_die(PROG, &sm);
    printf("[rlw] R10 training: +RLW ahead of plain for %d of %d methods; Bernoulli + IMTL-G %s (%s)\n",
           better, rows, refused ? "refused" : "ACCEPTED", msg);
    return 0;
}
