/* toy.c: I12, the two-objective 2-D toy across loss scales. Toy2D (spec imtl.md I12: the
 * CAGrad toy as modified in the Nash-MTL authors' code): x = (x1, x2),
 *   a = -(x1 + 7)/2 + tanh x2,  b = (3 - x1)/2 - tanh x2 + 2,
 *   h_1 = ln max(|a|, 5e-6) + 6,  h_2 = ln max(|b|, 5e-6) + 6,
 *   q_1 = ((x1 - 7)^2 + 0.1 (x2 + 8)^2)/10 - 20,  q_2 = ((x1 + 7)^2 + 0.1 (x2 + 8)^2)/10 - 20,
 *   c+ = max(tanh(x2/2), 0),  c- = max(-tanh(x2/2), 0),  f_t = h_t c+ + q_t c-,
 * the derivative of max passing at equality (PyTorch's clamp; it matters at the start
 * (0, 0)). The methods see l_t = f_t + 21 > 0, with l_1 multiplied by k in {0.1, 1, 10}
 * (gradient methods then see k grad f_1). x is the whole "trunk" (no heads); Adam lr 1e-3
 * from five starts; learnable scales (uw, imtl_l) take the same Adam. "On the front" =
 * |x2 + 8.38| < 0.1 at the end (the Pareto set: x1 in [-7, 7], x2 in [-8.43, -8.30]).
 * Writes imtl_toy2d.tsv, toy_<method>_k<k>.dat (trajectories every 100 steps) and
 * summary_toy.tsv. */
#include "imtl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mtb/optim.h"

enum { NSTART = 5, NK = 3 };
static const double STARTS[NSTART][2] = {{-8.5, 7.5}, {0, 0}, {9, 9}, {-7.5, -0.5}, {9, -1}};
static const double KS[NK] = {0.1, 1.0, 10.0};

static const method_ref METHODS[] = {
    {"ew", "ew", ""},           {"mgda", "mgda", "solver=exact"},
    {"pcgrad", "pcgrad", ""},   {"cagrad", "cagrad", "c=0.4"},
    {"imtl-g", "imtl_g", "level=param"}, {"nash-mtl", "nash_mtl", ""},
    {"aligned-mtl", "aligned_mtl", ""},  {"db-mtl", "db_mtl", "beta=0"},
    {"log-ew", "db_mtl", "gradnorm=false"}, {"gls", "gls", ""},
    {"uw", "uw", ""},           {"imtl-l", "imtl_l", ""},
    {"rlw", "rlw", ""},
};
#define NM ((int)(sizeof METHODS / sizeof METHODS[0]))
/* the single-step class of each (I10): 1 = E0/E (invariant direction), 0 = N, -1 = Q/other */
static const int INVARIANT[NM] = {0, 0, 0, 0, 1, 1, 0, 1, 1, 1, -1, -1, 0};

/* f (2) and its Jacobian J (2 x 2, row t = grad f_t) */
static void toy(const double *x, double *f, double *J)
{
    double th = tanh(x[1]), s2 = 1.0 - th * th;
    double a = -(x[0] + 7) / 2 + th, b = (3 - x[0]) / 2 - th + 2;
    double da[2] = {-0.5, s2}, db[2] = {-0.5, -s2};
    double h[2], dh[2][2];
    const double fl = 5e-6;
    double aa = fabs(a), ab = fabs(b);
    h[0] = log(fmax(aa, fl)) + 6;
    h[1] = log(fmax(ab, fl)) + 6;
    for (int j = 0; j < 2; j++) {
        /* d ln max(|a|, fl) = (sign a / |a|) da when |a| >= fl; torch: sign(0) = 0 */
        dh[0][j] = aa >= fl ? ((a > 0) - (a < 0)) / fmax(aa, fl) * da[j] : 0.0;
        dh[1][j] = ab >= fl ? ((b > 0) - (b < 0)) / fmax(ab, fl) * db[j] : 0.0;
    }
    double q[2], dq[2][2];
    q[0] = ((x[0] - 7) * (x[0] - 7) + 0.1 * (x[1] + 8) * (x[1] + 8)) / 10 - 20;
    q[1] = ((x[0] + 7) * (x[0] + 7) + 0.1 * (x[1] + 8) * (x[1] + 8)) / 10 - 20;
    dq[0][0] = 2 * (x[0] - 7) / 10, dq[1][0] = 2 * (x[0] + 7) / 10;
    dq[0][1] = dq[1][1] = 0.2 * (x[1] + 8) / 10;
    double t2 = tanh(x[1] / 2), dt2 = 0.5 * (1 - t2 * t2);
    double cp = fmax(t2, 0), cm = fmax(-t2, 0);
    double dcp = t2 >= 0 ? dt2 : 0.0, dcm = -t2 >= 0 ? -dt2 : 0.0;
    for (int t = 0; t < 2; t++) {
        f[t] = h[t] * cp + q[t] * cm;
        J[2 * t + 0] = dh[t][0] * cp + dq[t][0] * cm;
        J[2 * t + 1] = dh[t][1] * cp + h[t] * dcp + dq[t][1] * cm + q[t] * dcm;
    }
}

/* one trajectory; writes the end point, optionally the path every 100 steps */
static int trajectory(const method_ref *m, double k, const double *x0, long steps, FILE *path,
                      double *xe)
{
    const mtb_balancer_type *ty = mtb_balancer_find(m->name);
    mtb_hparams hp;
    mtb_error err = {0};
    if (mtb_hparams_parse(ty, m->opts, &hp, &err))
        die("%s: %s", m->label, err.msg);
    mtb_balancer *b = mtb_balancer_new(ty, 2, 2, &hp, 0, &err);
    if (!b)
        die("%s: %s", m->label, err.msg);
    const mtb_balancer_setup *su = mtb_balancer_get_setup(b);
    int needg = su->need != MTB_NEED_LOSSES;
    double x[2] = {x0[0], x0[1]}, mx[2] = {0}, vx[2] = {0}, ms[16] = {0}, vs[16] = {0};
    mtb_optim_config c;
    mtb_optim_config_adam(&c, 1e-3);
    int rc = 0;
    for (long it = 1; it <= steps; it++) {
        double f[2], J[4], l[2], hw[2], tw[2], tg[2], d[2];
        toy(x, f, J);
        l[0] = k * (f[0] + 21), l[1] = f[1] + 21;
        J[0] *= k, J[1] *= k;
        mtb_balance_in in = {.step = it - 1, .T = 2, .losses = l, .G = needg ? J : NULL,
                             .D = needg ? 2 : 0, .rep = {.dim = needg ? 2 : 0}};
        mtb_balance_out out = {.head_w = hw, .trunk_w = tw, .trunk_grad = needg ? tg : NULL};
        if (mtb_balancer_step(b, &in, &out, &err)) {
            rc = -1;
            break;
        }
        for (int j = 0; j < 2; j++)
            d[j] = out.trunk_grad_set ? tg[j] : tw[0] * J[j] + tw[1] * J[2 + j];
        mtb_optim_step_f64(&c, it, 2, x, d, mx, vx);
        if (su->n_learn > 0 && su->n_learn <= 16) {
            mtb_optim_config cl = c;
            if (su->learn_lr > 0)
                cl.lr = su->learn_lr;
            mtb_optim_step_f64(&cl, it, (size_t)su->n_learn, su->learn, su->learn_grad, ms, vs);
        }
        if (path && (it % 100 == 0 || it == 1))
            fprintf(path, "%.6g %.6g\n", x[0], x[1]);
    }
    mtb_balancer_free(b);
    xe[0] = x[0], xe[1] = x[1];
    return rc;
}

int cmd_toy(const char *out, const iscale *r)
{
    char path[1024], tp[1024];
    FILE *f = out_open(out, "imtl_toy2d.tsv", path, sizeof path);
    fprintf(f, "method\tk\tstart\tend x1\tend x2\ton front\t|x1(k) - x1(1)|\n");
    repro_summary s;
    sum_open(&s, out, "toy");
    int inv_ok = 1, inv_ok_ns = 1, n_inv = 0, n_var = 0, var_moves = 0;
    for (int m = 0; m < NM; m++) {
        double end[NK][NSTART][2];
        int failed[NK][NSTART] = {{0}};
        for (int kk = 0; kk < NK; kk++) {
            char name[128];
            snprintf(name, sizeof name, "toy_%s_k%g.dat", METHODS[m].label, KS[kk]);
            FILE *pf = out_open(out, name, tp, sizeof tp);
            for (int st = 0; st < NSTART; st++) {
                failed[kk][st] = trajectory(&METHODS[m], KS[kk], STARTS[st], r->i12_steps, pf,
                                            end[kk][st]);
                fprintf(pf, "\n\n");
            }
            out_close(pf, tp);
        }
        int on1 = 0;
        double maxmove = 0;
        for (int kk = 0; kk < NK; kk++)
            for (int st = 0; st < NSTART; st++) {
                int on = !failed[kk][st] && fabs(end[kk][st][1] + 8.38) < 0.1;
                int on_ref = !failed[1][st] && fabs(end[1][st][1] + 8.38) < 0.1;
                double mv = fabs(end[kk][st][0] - end[1][st][0]);
                if (on && on_ref)
                    maxmove = fmax(maxmove, mv);
                on1 += kk == 1 && on;
                fprintf(f, "%s\t%g\t(%g, %g)\t%.4f\t%.4f\t%s\t%.4f\n", METHODS[m].label, KS[kk],
                        STARTS[st][0], STARTS[st][1], end[kk][st][0], end[kk][st][1],
                        failed[kk][st] ? "failed" : on ? "yes" : "no", mv);
            }
        repro_summary_putf(&s, on1, on1, on1, "on_front_k1_%s", METHODS[m].label);
        for (int kk = 0; kk < NK; kk++) /* the spec's reference numbers are for start 1 */
            repro_summary_putf(&s, end[kk][0][0], end[kk][0][0], end[kk][0][0], "x1_start1_k%g_%s",
                               KS[kk], METHODS[m].label);
        double mv_ns = 0; /* the same without the symmetric start (0, 0) */
        for (int kk = 0; kk < NK; kk++)
            for (int st = 0; st < NSTART; st++)
                if (st != 1 && !failed[kk][st] && !failed[1][st] &&
                    fabs(end[kk][st][1] + 8.38) < 0.1 && fabs(end[1][st][1] + 8.38) < 0.1)
                    mv_ns = fmax(mv_ns, fabs(end[kk][st][0] - end[1][st][0]));
        repro_summary_putf(&s, mv_ns, mv_ns, mv_ns, "max_move_nosym_%s", METHODS[m].label);
        if (INVARIANT[m] == 1)
            inv_ok_ns &= mv_ns <= 0.5;
        repro_summary_putf(&s, maxmove, maxmove, maxmove, "max_move_%s", METHODS[m].label);
        if (INVARIANT[m] == 1) {
            n_inv++;
            inv_ok &= maxmove <= 0.5;
        } else if (INVARIANT[m] == 0) {
            n_var++;
            var_moves += maxmove > 0.5;
        }
    }
    out_close(f, path);
    /* f_1 + f_2 on a grid, for the figure's contours (gnuplot grid format) */
    FILE *gd = out_open(out, "toy_grid.dat", tp, sizeof tp);
    for (int i = 0; i <= 100; i++) {
        for (int j = 0; j <= 100; j++) {
            double x[2] = {-10 + 0.2 * i, -10 + 0.2 * j}, fv[2], J[4];
            toy(x, fv, J);
            fprintf(gd, "%.4g %.4g %.6g\n", x[0], x[1], fv[0] + fv[1]);
        }
        fprintf(gd, "\n");
    }
    out_close(gd, tp);
    repro_summary_put(&s, "invariant_all_within", inv_ok, inv_ok, inv_ok);
    repro_summary_put(&s, "invariant_all_within_nosym", inv_ok_ns, inv_ok_ns, inv_ok_ns);
    repro_summary_put(&s, "n_invariant", n_inv, n_inv, n_inv);
    repro_summary_put(&s, "variant_moving", var_moves, var_moves, var_moves);
    repro_summary_put(&s, "n_variant", n_var, n_var, n_var);
    sum_close(&s);
    printf("[I12] toy: invariant methods within 0.5: %s; %d/%d others move more\n",
           inv_ok ? "yes" : "no", var_moves, n_var);
    return 0;
}
