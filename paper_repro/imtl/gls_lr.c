/* gls_lr.c: I7 (iii), GLS's loss-scale change is a learning-rate change (erratum I-E3). With
 * l_1 multiplied by k every GLS weight-times-loss is multiplied by k^(1/T) — on the heads as on
 * the trunk — so under plain SGD (momentum allowed, no weight decay, no clipping) training on
 * LSD-3C x k@1 with lr eta is the same trajectory as on LSD-3C with lr eta k^(1/T), in exact
 * arithmetic. Trained here (mtb_trainer_step, one init, one batch order) for 500 steps (smoke:
 * 100) with
 * k = 10, T = 3, SGD momentum 0.9 and eta = 0.01; compared by the relative distance of all
 * parameters. Controls: the same lr on both (the change that is not undone), and Adam (lr 7e-4
 * on both: invariant up to its eps). Writes imtl_gls_lr.tsv and summary_glslr.tsv. */
#include "imtl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mtb/dataset.h"
#include "mtb/model.h"
#include "mtb/optim.h"
#include "mtb/problem.h"
#include "mtb/train.h"

static long STEPS = 500; /* smoke: 100 */

/* trains GLS on the problem's data with task 1's loss x k and the optimiser c; the final
 * parameters into theta (n_params floats, malloc'd) */
static float *train(const mtb_problem *p, const mtb_dataset *ds, double k,
                    const mtb_optim_config *c, size_t *np)
{
    mtb_error err = {0};
    int T = ds->T, head_out[8];
    double osc[8], lsc[8];
    for (int t = 0; t < T; t++) {
        head_out[t] = ds->tasks[t].out_width;
        osc[t] = p->tasks[t].out_scale;
        lsc[t] = t == 0 ? k : 1.0;
    }
    mtb_model_config mc = {ds->d_in, p->proto.n_hidden, {0}, p->proto.act, T, head_out};
    memcpy(mc.widths, p->proto.widths, sizeof mc.widths);
    mtb_model *m;
    mtb_rng rg;
    mtb_rng_seed(&rg, 0, MTB_STREAM_INIT);
    if (mtb_model_new(&mc, &m, &err) || mtb_model_init_orthogonal(m, p->proto.init_gain, &rg, &err))
        die("%s", err.msg);
    const mtb_balancer_type *ty = mtb_balancer_find("gls");
    mtb_hparams hp;
    mtb_hparams_default(ty, &hp);
    mtb_balancer *b = mtb_balancer_new(ty, T, 0, &hp, 0, &err);
    if (!b)
        die("gls: %s", err.msg);
    int B = p->proto.batch;
    mtb_trainer_config tc = {.optim = *c, .clip_norm = 0.0, .batch_max = B, .out_scale = osc,
                             .loss_scale = lsc};
    mtb_trainer *tr;
    if (mtb_trainer_new(m, ds->tasks, b, &tc, &tr, &err))
        die("%s", err.msg);
    size_t n = ds->train.n, *idx = malloc(sizeof(size_t) * n), pos = n;
    float *xb = malloc(sizeof(float) * (size_t)B * (size_t)ds->d_in);
    float *yb = malloc(sizeof(float) * (size_t)B * (size_t)ds->y_width);
    if (!idx || !xb || !yb)
        die("out of memory");
    for (size_t i = 0; i < n; i++)
        idx[i] = i;
    mtb_rng br;
    mtb_rng_seed(&br, 0, MTB_STREAM_SHUFFLE);
    for (long s = 0; s < STEPS; s++) {
        if (pos + (size_t)B > n)
            mtb_rng_shuffle(&br, idx, n), pos = 0;
        for (int i = 0; i < B; i++) {
            memcpy(xb + (size_t)i * ds->d_in, ds->train.x + idx[pos + i] * ds->d_in,
                   sizeof(float) * (size_t)ds->d_in);
            memcpy(yb + (size_t)i * ds->y_width, ds->train.y + idx[pos + i] * ds->y_width,
                   sizeof(float) * (size_t)ds->y_width);
        }
        pos += (size_t)B;
        mtb_step_result res;
        if (mtb_trainer_step(tr, xb, yb, (size_t)ds->y_width, B, s, 0, &res, &err))
            die("%s", err.msg);
    }
    *np = m->n_params;
    float *theta = malloc(sizeof(float) * m->n_params);
    if (!theta)
        die("out of memory");
    memcpy(theta, m->theta, sizeof(float) * m->n_params);
    free(idx), free(xb), free(yb);
    mtb_trainer_free(tr);
    mtb_balancer_free(b);
    mtb_model_free(m);
    return theta;
}

static double rel(const float *a, const float *b, size_t n)
{
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++)
        num += ((double)a[i] - b[i]) * ((double)a[i] - b[i]), den += (double)b[i] * b[i];
    return sqrt(num / den);
}

int cmd_glslr(const char *out, const iscale *r)
{
    STEPS = r->s == REPRO_SMOKE ? 100 : 500;
    static mtb_problem p;
    mtb_error err = {0};
    if (mtb_problem_lookup("lsd3c", "paper", &p, &err))
        die("%s", err.msg);
    mtb_dataset ds;
    if (mtb_problem_make_dataset(&p, &ds, &err))
        die("%s", err.msg);
    const double eta = 0.01, k = 10.0, f = cbrt(k);
    mtb_optim_config sgd, sgdf, adam;
    mtb_optim_config_sgd(&sgd, eta, 0.9);
    mtb_optim_config_sgd(&sgdf, eta * f, 0.9);
    mtb_optim_config_adam(&adam, 7e-4);
    size_t n;
    float *a = train(&p, &ds, k, &sgd, &n);     /* x10, lr eta */
    float *b = train(&p, &ds, 1.0, &sgdf, &n);  /* x1, lr eta 10^(1/3) */
    float *c = train(&p, &ds, 1.0, &sgd, &n);   /* x1, lr eta: the control */
    float *d = train(&p, &ds, k, &adam, &n);    /* Adam x10 */
    float *e = train(&p, &ds, 1.0, &adam, &n);  /* Adam x1 */
    double r_eq = rel(a, b, n), r_ctl = rel(a, c, n), r_adam = rel(d, e, n);
    char path[1024];
    FILE *o = out_open(out, "imtl_gls_lr.tsv", path, sizeof path);
    fprintf(o, "run A (LSD-3C, l_1 x 10)\trun B (LSD-3C)\t|θ_A − θ_B| / |θ_B| after %ld steps\n", STEPS);
    fprintf(o, "SGD lr 0.01, momentum 0.9\tSGD lr 0.01·10^(1/3)\t%.3g\n", r_eq);
    fprintf(o, "SGD lr 0.01, momentum 0.9\tSGD lr 0.01 (control)\t%.3g\n", r_ctl);
    fprintf(o, "Adam lr 7e-4\tAdam lr 7e-4\t%.3g\n", r_adam);
    out_close(o, path);
    repro_summary s;
    sum_open(&s, out, "glslr");
    repro_summary_put(&s, "sgd_equivalent", r_eq, r_eq, r_eq);
    repro_summary_put(&s, "sgd_control", r_ctl, r_ctl, r_ctl);
    repro_summary_put(&s, "adam", r_adam, r_adam, r_adam);
    sum_close(&s);
    printf("[I7 iii] GLS x10 at lr eta vs x1 at lr eta 10^(1/3): %.3g (control %.3g, Adam %.3g)\n",
           r_eq, r_ctl, r_adam);
    free(a), free(b), free(c), free(d), free(e);
    mtb_dataset_free(&ds);
    return 0;
}
