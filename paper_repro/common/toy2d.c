/* toy2d.c: the 2-D toy of imtl.md I12 and one trajectory of a method on it (toy2d.h). */
#include "toy2d.h"

#include <math.h>
#include <string.h>

#include "mtb/balancer.h"
#include "mtb/optim.h"

const double REPRO_TOY2D_STARTS[REPRO_TOY2D_NSTART][2] = {
    {-8.5, 7.5}, {0, 0}, {9, 9}, {-7.5, -0.5}, {9, -1}};

void repro_toy2d(const double *x, double *f, double *J)
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

int repro_toy2d_on_front(const double *x)
{
    return fabs(x[1] + 8.38) < 0.1;
}

int repro_toy2d_run(const char *method, const char *opts, double k, const double *x0, long steps,
                    double lr, FILE *path, double *xe, char *msg, size_t len)
{
    xe[0] = x0[0], xe[1] = x0[1];
    const mtb_balancer_type *ty = mtb_balancer_find(method);
    mtb_hparams hp;
    mtb_error err = {0};
    if (!ty) {
        snprintf(msg, len, "no method '%s'", method);
        return -1;
    }
    if (mtb_hparams_parse(ty, opts, &hp, &err)) {
        snprintf(msg, len, "%s", err.msg);
        return -1;
    }
    mtb_balancer *b = mtb_balancer_new(ty, 2, 2, &hp, 0, &err);
    if (!b) {
        snprintf(msg, len, "%s", err.msg);
        return -1;
    }
    const mtb_balancer_setup *su = mtb_balancer_get_setup(b);
    int needg = su->need != MTB_NEED_LOSSES;
    double x[2] = {x0[0], x0[1]}, mx[2] = {0}, vx[2] = {0}, ms[16] = {0}, vs[16] = {0};
    mtb_optim_config c;
    mtb_optim_config_adam(&c, lr);
    int rc = 0;
    for (long it = 1; it <= steps; it++) {
        double f[2], J[4], l[2], hw[2], tw[2], tg[2], d[2];
        repro_toy2d(x, f, J);
        l[0] = k * (f[0] + 21), l[1] = f[1] + 21;
        J[0] *= k, J[1] *= k;
        mtb_balance_in in = {.step = it - 1, .T = 2, .losses = l, .G = needg ? J : NULL,
                             .D = needg ? 2 : 0, .rep = {.dim = needg ? 2 : 0}};
        mtb_balance_out out = {.head_w = hw, .trunk_w = tw, .trunk_grad = needg ? tg : NULL};
        if (mtb_balancer_step(b, &in, &out, &err)) {
            snprintf(msg, len, "%s", err.msg);
            rc = 1;
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
