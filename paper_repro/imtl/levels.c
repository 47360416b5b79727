/* levels.c: I9's single-step part (exact versus feature-level IMTL-G on network states,
 * erratum I-E6) and I8's per-task bias in training.
 * States: an EW run of the registered problem (its data, network and protocol; trained here
 * with mtb_trainer_step, seed 0) at the checkpoints of the scale; at each, a few random batches
 * of the protocol's size. On a batch: the task gradients at parameter level G_θ (T, P) and at
 * the representation G_z (T, B dz), then α from imtl_g at the three levels
 *   exact     (G_θ),   feat-flat (G_z as it is),   feat-sum (G_z summed over the batch),
 * and the relative distances ‖α_level − α_exact‖/‖α_exact‖; and the projection spread of the
 * parameter-level update d_θ = Σ α_t g_θ,t of each level, (max p − min p)/mean p with
 * p_t = d_θ·g_θ,t/‖g_θ,t‖ (exact: ≤ 1e-9 by construction).
 * I8: on LSD-6 the median of ‖g_θ,t‖ per task over the batches of every checkpoint of the EW
 * run (along training, spec I8's "median ‖g_t‖ (EW run)"), and over those of the initial
 * state alone; with the LSD-6 sweep present (sweep_scale and sweep_stl), the slope, per
 * method, of the per-task Δp_STL_t (seed mean) against log10 median ‖g_θ,t‖ for both: spec I8
 * expects < 0 for MGDA, > 0 for EW and PCGrad, ≈ 0 for IMTL-G (the claims read the
 * along-training slope). Writes imtl_levels.tsv, imtl_bias_train.tsv, bias_train.dat, summary_levels.tsv. */
#include "imtl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mtb/dataset.h"
#include "mtb/deltap.h"
#include "mtb/model.h"
#include "mtb/problem.h"
#include "mtb/stats.h"
#include "mtb/train.h"
#include "oracle.h"

enum { LT = 8 };

/* imtl_g weights at a level on G (T, D), rep.dim = dz for the feature levels */
static void alpha_at(const char *opts, int T, const double *G, size_t D, int dz, double *a)
{
    const mtb_balancer_type *ty = mtb_balancer_find("imtl_g");
    mtb_hparams hp;
    mtb_error err = {0};
    if (mtb_hparams_parse(ty, opts, &hp, &err))
        die("imtl_g: %s", err.msg);
    mtb_balancer *b = mtb_balancer_new(ty, T, D, &hp, 0, &err);
    if (!b)
        die("imtl_g: %s", err.msg);
    double l[LT], hw[LT];
    for (int t = 0; t < T; t++)
        l[t] = 1.0;
    mtb_balance_in in = {.T = T, .losses = l, .G = G, .D = D, .rep = {.dim = dz}};
    mtb_balance_out out = {.head_w = hw, .trunk_w = a};
    if (mtb_balancer_step(b, &in, &out, &err))
        die("imtl_g: %s", err.msg);
    mtb_balancer_free(b);
}

/* spread of the projections of d = alpha G_θ on the unit task gradients */
static double spread(const double *G, int T, size_t P, const double *a, double *d)
{
    double p[LT], mx = -INFINITY, mn = INFINITY, mean = 0;
    for (size_t j = 0; j < P; j++) {
        double s = 0;
        for (int t = 0; t < T; t++)
            s += a[t] * G[(size_t)t * P + j];
        d[j] = s;
    }
    for (int t = 0; t < T; t++) {
        double nt = 0, ip = 0;
        for (size_t j = 0; j < P; j++) {
            nt += G[(size_t)t * P + j] * G[(size_t)t * P + j];
            ip += d[j] * G[(size_t)t * P + j];
        }
        p[t] = ip / sqrt(nt);
        mx = fmax(mx, p[t]), mn = fmin(mn, p[t]), mean += p[t] / T;
    }
    return (mx - mn) / fabs(mean);
}

static double rdist(const double *a, const double *b, int T)
{
    double num = 0, den = 0;
    for (int t = 0; t < T; t++)
        num += (a[t] - b[t]) * (a[t] - b[t]), den += b[t] * b[t];
    return sqrt(num / den);
}

/* The next batch of B training rows in the shuffled order idx (reshuffled by br when fewer
 * than B rows are left, as the run loop does), copied into xb, yb. */
static void next_batch(const mtb_dataset *ds, size_t *idx, size_t *pos, mtb_rng *br, int B,
                       float *xb, float *yb)
{
    const size_t n = ds->train.n;
    if (*pos + (size_t)B > n)
        mtb_rng_shuffle(br, idx, n), *pos = 0;
    for (int b = 0; b < B; b++) {
        memcpy(xb + (size_t)b * ds->d_in, ds->train.x + idx[*pos + b] * ds->d_in,
               sizeof(float) * (size_t)ds->d_in);
        memcpy(yb + (size_t)b * ds->y_width, ds->train.y + idx[*pos + b] * ds->y_width,
               sizeof(float) * (size_t)ds->y_width);
    }
    *pos += (size_t)B;
}

int cmd_levels(const char *out, const iscale *r)
{
    static const char *PROB[2] = {"lsd3c", "lsd6"};
    const int smoke = r->s == REPRO_SMOKE;
    const long ck_paper[4] = {0, 500, 2000, 6000}, ck_smoke[2] = {0, 100};
    const long *ck = smoke ? ck_smoke : ck_paper;
    const int nck = smoke ? 2 : 4, NB = smoke ? 4 : 20;
    char path[1024];
    FILE *f = out_open(out, "imtl_levels.tsv", path, sizeof path);
    fprintf(f, "problem\tEW step\tbatches\tmax |α_flat − α_exact|/|α_exact|\tmax |α_sum − α_exact|/"
               "|α_exact|\tprojection spread: exact\tfeat-flat\tfeat-sum (max over batches)\n");
    repro_summary s;
    sum_open(&s, out, "levels");
    double worst_exact = 0, gnorm_med[LT] = {0}, gnorm_med0[LT] = {0};
    static double gn_all[LT][4 * 64]; /* LSD-6: every checkpoint's batch norms, per task */
    int T6 = 0;
    mtb_error err = {0};
    for (int ip = 0; ip < 2; ip++) {
        static mtb_problem p;
        if (mtb_problem_lookup(PROB[ip], "paper", &p, &err))
            die("%s", err.msg);
        mtb_dataset ds;
        if (mtb_problem_make_dataset(&p, &ds, &err))
            die("%s", err.msg);
        int T = ds.T, head_out[LT];
        double osc[LT], lsc[LT];
        for (int t = 0; t < T; t++) {
            head_out[t] = ds.tasks[t].out_width;
            osc[t] = p.tasks[t].out_scale, lsc[t] = p.tasks[t].loss_scale;
        }
        mtb_model_config mc = {ds.d_in, p.proto.n_hidden, {0}, p.proto.act, T, head_out};
        memcpy(mc.widths, p.proto.widths, sizeof mc.widths);
        mtb_model *m;
        mtb_rng rg;
        mtb_rng_seed(&rg, 0, MTB_STREAM_INIT);
        if (mtb_model_new(&mc, &m, &err) || mtb_model_init_orthogonal(m, p.proto.init_gain, &rg, &err))
            die("%s", err.msg);
        int B = p.proto.batch, dz = m->dz;
        mtb_trainer_config tc = {0};
        tc.optim = p.proto.optim;
        tc.clip_norm = p.proto.clip_norm;
        tc.batch_max = B;
        tc.scope = MTB_SCOPE_ALL;
        tc.out_scale = osc;
        tc.loss_scale = lsc;
        /* two trainers on the one model: tr trains (EW) and gives the representation
         * gradients, tp the parameter-level ones */
        mtb_trainer *tr, *tp;
        tc.need = MTB_NEED_REP_GRADS;
        if (mtb_trainer_new(m, ds.tasks, NULL, &tc, &tr, &err))
            die("%s", err.msg);
        tc.need = MTB_NEED_PARAM_GRADS;
        if (mtb_trainer_new(m, ds.tasks, NULL, &tc, &tp, &err))
            die("%s", err.msg);
        size_t n = ds.train.n, P = m->n_trunk, DZ = (size_t)B * (size_t)dz, pos = n;
        size_t *idx = malloc(sizeof(size_t) * n);
        float *xb = malloc(sizeof(float) * (size_t)B * (size_t)ds.d_in);
        float *yb = malloc(sizeof(float) * (size_t)B * (size_t)ds.y_width);
        double *Gp = malloc(sizeof(double) * (size_t)T * P), *Gz = malloc(sizeof(double) * (size_t)T * DZ);
        double *d = malloc(sizeof(double) * P), *norms = malloc(sizeof(double) * (size_t)NB * LT);
        if (!idx || !xb || !yb || !Gp || !Gz || !d || !norms)
            die("out of memory");
        for (size_t i = 0; i < n; i++)
            idx[i] = i;
        mtb_rng br;
        mtb_rng_seed(&br, 0, MTB_STREAM_SHUFFLE);
        long step = 0;
        for (int ic = 0; ic < nck; ic++) {
            double e_flat = 0, e_sum = 0, s_ex = 0, s_fl = 0, s_sm = 0;
            for (int k = 0; k <= NB; k++) {
                /* k < NB: a measurement batch; then training steps up to the next checkpoint */
                next_batch(&ds, idx, &pos, &br, B, xb, yb);
                if (k == NB)
                    break;
                const double *l, *G;
                size_t D;
                if (mtb_trainer_task_grads(tp, xb, yb, (size_t)ds.y_width, B, MTB_NEED_PARAM_GRADS,
                                           MTB_SCOPE_ALL, &l, &G, &D, &err))
                    die("%s", err.msg);
                memcpy(Gp, G, sizeof(double) * (size_t)T * P);
                if (mtb_trainer_task_grads(tr, xb, yb, (size_t)ds.y_width, B, MTB_NEED_REP_GRADS,
                                           MTB_SCOPE_ALL, &l, &G, &D, &err))
                    die("%s", err.msg);
                memcpy(Gz, G, sizeof(double) * (size_t)T * DZ);
                double ae[LT], af[LT], as[LT];
                alpha_at("level=param", T, Gp, P, 0, ae);
                alpha_at("level=rep", T, Gz, DZ, dz, af);
                alpha_at("level=rep_sum", T, Gz, DZ, dz, as);
                e_flat = fmax(e_flat, rdist(af, ae, T));
                e_sum = fmax(e_sum, rdist(as, ae, T));
                s_ex = fmax(s_ex, spread(Gp, T, P, ae, d));
                s_fl = fmax(s_fl, spread(Gp, T, P, af, d));
                s_sm = fmax(s_sm, spread(Gp, T, P, as, d));
                for (int t = 0; t < T; t++)
                    norms[(size_t)k * LT + t] = sqrt(imtl_dot(Gp + (size_t)t * P, Gp + (size_t)t * P, (int)P));
            }
            fprintf(f, "%s\t%ld\t%d\t%.3g\t%.3g\t%.2g\t%.3g\t%.3g\n", PROB[ip], step, NB, e_flat, e_sum,
                    s_ex, s_fl, s_sm);
            repro_summary_putf(&s, e_flat, e_flat, e_flat, "flat_%s_step%ld", PROB[ip], step);
            repro_summary_putf(&s, e_sum, e_sum, e_sum, "sum_%s_step%ld", PROB[ip], step);
            worst_exact = fmax(worst_exact, s_ex);
            if (ip == 1) { /* I8: the gradient norms along the EW run, and at its initial state */
                T6 = T;
                for (int t = 0; t < T; t++) {
                    double v[64];
                    for (int k = 0; k < NB; k++)
                        v[k] = gn_all[t][ic * NB + k] = norms[(size_t)k * LT + t];
                    if (ic == 0)
                        gnorm_med0[t] = mtb_stats_median_inplace(v, (size_t)NB);
                    if (ic == nck - 1)
                        gnorm_med[t] = mtb_stats_median_inplace(gn_all[t], (size_t)(nck * NB));
                }
            }
            long next = ic + 1 < nck ? ck[ic + 1] : step;
            for (; step < next; step++) {
                next_batch(&ds, idx, &pos, &br, B, xb, yb);
                mtb_step_result res;
                if (mtb_trainer_step(tr, xb, yb, (size_t)ds.y_width, B, step, 0, &res, &err))
                    die("%s", err.msg);
            }
        }
        free(idx), free(xb), free(yb), free(Gp), free(Gz), free(d), free(norms);
        mtb_trainer_free(tr);
        mtb_trainer_free(tp);
        mtb_model_free(m);
        mtb_dataset_free(&ds);
    }
    out_close(f, path);
    repro_summary_put(&s, "exact_spread", worst_exact, worst_exact, worst_exact);

    /* I8: per-task Δp_STL against log10 median |g_t| (LSD-6), per method of the sweep */
    f = out_open(out, "imtl_bias_train.tsv", path, sizeof path);
    char dpath[1024];
    FILE *dat = out_open(out, "bias_train.dat", dpath, sizeof dpath);
    fprintf(f, "method\tseeds\tslope of Δp_STL,t against log10 median ‖g_t‖ along the EW run "
               "(LSD-6)\t… against the initial state's ‖g_t‖\n");
    fprintf(dat, "# one block per method (header line: its name): log10 median |g_t|, per-task "
                 "Dp_STL (seed mean)\n");
    repro_plan ps, pt;
    int blk_total = 0;
    char d1[1024], d2[1024];
    snprintf(d1, sizeof d1, "%s/sweep_scale", out);
    snprintf(d2, sizeof d2, "%s/sweep_stl", out);
    char probe1[1100], probe2[1100];
    snprintf(probe1, sizeof probe1, "%s/plan.tsv", d1);
    snprintf(probe2, sizeof probe2, "%s/plan.tsv", d2);
    FILE *q1 = fopen(probe1, "r"), *q2 = fopen(probe2, "r");
    int have = q1 && q2;
    if (q1) fclose(q1);
    if (q2) fclose(q2);
    if (have && !repro_plan_read(d1, &ps) && !repro_plan_read(d2, &pt)) {
        static runs_rows stl, a;
        runs_of(&pt, "lsd6", "stl", "", &stl);
        const char *lab[64], *nam[64], *opt[64];
        int nm = train_methods(0, r, lab, nam, opt, 64), blk = 0;
        (void)blk;
        for (int i = 0; i < nm; i++) {
            runs_of(&ps, "lsd6", nam[i], opt[i], &a);
            double acc[LT] = {0}, per[LT];
            int ns = 0;
            for (int k = 0; k < a.n; k++) {
                int j = runs_seed_index(&stl, a.seed[k]);
                if (j < 0 || a.T != T6 ||
                    !isfinite(mtb_delta_p((size_t)a.T, a.M[k], stl.M[j], a.hb, NULL, a.T, per)))
                    continue;
                for (int t = 0; t < T6; t++)
                    acc[t] += per[t];
                ns++;
            }
            if (!ns)
                continue;
            double x[LT], y[LT], x0[LT];
            fprintf(dat, "x \"%s\"\n", lab[i]); /* the block's column header: its title */
            blk++;
            int ord[LT];
            for (int t = 0; t < T6; t++) {
                x[t] = log10(gnorm_med[t]), y[t] = acc[t] / ns, ord[t] = t;
                x0[t] = log10(gnorm_med0[t]);
                for (int u = t; u > 0 && x[ord[u - 1]] > x[ord[u]]; u--) { /* by gradient norm */
                    int tmp = ord[u];
                    ord[u] = ord[u - 1], ord[u - 1] = tmp;
                }
            }
            for (int t = 0; t < T6; t++)
                fprintf(dat, "%.5g %.5g\n", x[ord[t]], y[ord[t]]);
            fprintf(dat, "\n\n");
            double sl = mtb_stats_linear_fit(x, y, (size_t)T6).slope;
            double sl0 = mtb_stats_linear_fit(x0, y, (size_t)T6).slope;
            fprintf(f, "%s\t%d\t%.3g\t%.3g\n", lab[i], ns, sl, sl0);
            repro_summary_putf(&s, sl, sl, sl, "bias_slope_%s", lab[i]);
            repro_summary_putf(&s, sl0, sl0, sl0, "bias_slope0_%s", lab[i]);
        }
        repro_plan_free(&ps);
        repro_plan_free(&pt);
        blk_total = blk;
    }
    out_close(f, path);
    out_close(dat, dpath);
    repro_summary_put(&s, "bias_blocks", blk_total, blk_total, blk_total);
    sum_close(&s);
    printf("[I9, I8] levels on network states, exact spread %.2g; training bias slopes written\n",
           worst_exact);
    return 0;
}
