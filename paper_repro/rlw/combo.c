/* combo.c: R10's one-step check (rlw.md R10, derived prediction): RLW before a gradient method
 * multiplies task t's loss by lambda~_t > 0 (softmax weights), i.e. its gradient row g_t by
 * lambda~_t. IMTL-G's direction is invariant to positive per-task loss scaling (IMTL Thm. 2),
 * and so is Nash-MTL's update (the solution of (G G^T) alpha = 1/alpha scales as
 * alpha_t / lambda~_t, so G^T alpha is unchanged): cos(d_plain, d_rlw) = 1 up to rounding.
 * MGDA, PCGrad and CAGrad have no such invariance (cosine < 1). 100 random states: T = 3,
 * D = 50 gradient columns of N(0, 1) entries, positive losses; lambda~ from rlw:dist=normal. */
#include "rlw.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { T10 = 3, D10 = 50, NSTATE = 100 };

typedef struct gmethod { const char *name, *method, *opts; int invariant; } gmethod;
static const gmethod GM[] = {
    {"imtl_g", "imtl_g", "level=param", 1},
    {"nash_mtl", "nash_mtl", "", 1},
    {"mgda", "mgda", "solver=exact", 0},
    {"pcgrad", "pcgrad", "order=fixed", 0},
    {"cagrad", "cagrad", "", 0},
};
enum { NGM = sizeof GM / sizeof GM[0] };

/* the method's shared direction for (l, G) */
static void direction(mtb_balancer *b, long step, const double *l, const double *G, double *d)
{
    double hw[T10], tw[T10];
    mtb_error err = {0};
    mtb_balance_in in = {.step = step, .T = T10, .losses = l, .G = G, .D = D10};
    mtb_balance_out out = {.head_w = hw, .trunk_w = tw, .trunk_grad = d};
    if (mtb_balancer_step(b, &in, &out, &err))
        die("%s", err.msg);
    if (!out.trunk_grad_set)
        for (int j = 0; j < D10; j++) {
            d[j] = 0.0;
            for (int t = 0; t < T10; t++)
                d[j] += tw[t] * G[t * D10 + j];
        }
}

static mtb_balancer *make(const gmethod *g)
{
    const mtb_balancer_type *ty = mtb_balancer_find(g->method);
    mtb_hparams hp;
    mtb_error err = {0};
    if (!ty || mtb_hparams_parse(ty, g->opts, &hp, &err))
        die("%s: %s", g->name, err.msg);
    mtb_balancer *b = mtb_balancer_new(ty, T10, D10, &hp, 1, &err);
    if (!b)
        die("%s: %s", g->name, err.msg);
    return b;
}

int cmd_combo(const char *out, const rscale *r)
{
    (void)r;
    char path[1024];
    FILE *f = repro_out_open(PROG, out, "rlw_combo_onestep.tsv", path, sizeof path);
    fprintf(f, "method\tinvariance predicted\tmin cos(d_plain, d_rlw)\tmedian cos\tmax cos\n");
    repro_summary s;
    repro_summary_open_or_die(PROG, &s, out, "combo");
    double inv_min = 1.0, other_max = -1.0;
    for (int im = 0; im < NGM; im++) {
        double cs[NSTATE];
        mtb_rng rg;
        mtb_rng_seed(&rg, 10, 0);
        wsampler w;
        ws_init(&w, V_NORMAL, T10, 10);
        for (int k = 0; k < NSTATE; k++) {
            double G[T10 * D10], Gs[T10 * D10], l[T10], ls[T10], lam[T10], d0[D10], d1[D10];
            for (int i = 0; i < T10 * D10; i++)
                G[i] = mtb_rng_normal(&rg);
            for (int t = 0; t < T10; t++)
                l[t] = 0.5 + mtb_rng_uniform(&rg);
            ws_draw(&w, k, lam);
            for (int t = 0; t < T10; t++) {
                ls[t] = lam[t] * l[t];
                for (int j = 0; j < D10; j++)
                    Gs[t * D10 + j] = lam[t] * G[t * D10 + j];
            }
            /* fresh balancers: no state carried between the two calls */
            mtb_balancer *b0 = make(&GM[im]), *b1 = make(&GM[im]);
            direction(b0, 0, l, G, d0);
            direction(b1, 0, ls, Gs, d1);
            mtb_balancer_free(b0);
            mtb_balancer_free(b1);
            double dot = 0, n0 = 0, n1 = 0;
            for (int j = 0; j < D10; j++)
                dot += d0[j] * d1[j], n0 += d0[j] * d0[j], n1 += d1[j] * d1[j];
            cs[k] = dot / sqrt(n0 * n1);
        }
        ws_free(&w);
        double mn = 1, mx = -1;
        for (int k = 0; k < NSTATE; k++)
            mn = fmin(mn, cs[k]), mx = fmax(mx, cs[k]);
        /* median by insertion sort (100 values) */
        for (int i = 1; i < NSTATE; i++)
            for (int j = i; j > 0 && cs[j] < cs[j - 1]; j--) {
                double x = cs[j]; cs[j] = cs[j - 1]; cs[j - 1] = x;
            }
        double med = 0.5 * (cs[NSTATE / 2 - 1] + cs[NSTATE / 2]);
        fprintf(f, "%s\t%s\t%.15f\t%.15f\t%.15f\n", GM[im].name, GM[im].invariant ? "yes" : "no", mn, med, mx);
        if (GM[im].invariant)
            inv_min = fmin(inv_min, mn);
        else
            other_max = fmax(other_max, med);
        char key[64];
        snprintf(key, sizeof key, "mincos_%s", GM[im].name);
        repro_summary_put(&s, key, mn, mn, mn);
    }
    repro_out_close(PROG, f, path);
    repro_summary_put(&s, "invariant_min_cos", inv_min, inv_min, inv_min);
    repro_summary_put(&s, "other_max_median_cos", other_max, other_max, other_max);
    repro_summary_close_or_die(PROG, &s);
    printf("[rlw] R10 one-step: invariant methods min cos %.15f, others' largest median cos %.6f\n",
           inv_min, other_max);
    return 0;
}
