/* netnoise.c: R4 part (ii), the noise decomposition of noise.c (ICLR App. B.3, erratum E6) on
 * networks: LSD-6 and MTR-10 (the registered `lsd6` and `mtr` problems, their data, network
 * and protocol), at checkpoints of one EW run (trained here with mtb_trainer_step, seed 0).
 * At a checkpoint: the full-batch task gradients of the shared trunk G (T, P) over the training
 * split, then N random batches (of the protocol's size) D^ with their task gradients G^; for
 * every distribution one lambda~ per batch:
 *   xi_FW = mu^T G^ - mu^T G,  xi_RLW = lambda~^T G^ - mu^T G,  x = (lambda~ - mu)^T G^,
 * E||xi_RLW||^2 - E||xi_FW||^2 = E||x||^2 (cross term mean 0), E||x||^2 = tau E sum_t ||g^_t - gbar||^2,
 * max ||xi_RLW|| >= max ||xi_FW||, and the fraction of batches with cos(xi_FW, x) > 0.99, with
 * the density of cos(xi_FW, x) for the normal weights per problem and checkpoint
 * (noise_net_cos.dat; the networks' counterpart of noise.c's histogram). */
#include "rlw.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mtb/dataset.h"
#include "mtb/model.h"
#include "mtb/problem.h"
#include "mtb/train.h"

static const int NV_[] = {V_UNIFORM, V_NORMAL, V_DIRSM, V_DIRID, V_BERN, V_CBERN, V_RNSTEP};
enum { NNV = sizeof NV_ / sizeof NV_[0], MAXT4 = 16, NBIN = 40, MAXCK = 3 };

typedef struct acc { double sf, sx, sx2, sc, sc2, sp, mxf, mxr; long hi; } acc;

static void gather(const mtb_dataset *ds, const size_t *idx, int B, float *x, float *y)
{
    size_t d = (size_t)ds->d_in, yw = (size_t)ds->y_width;
    for (int b = 0; b < B; b++) {
        memcpy(x + (size_t)b * d, ds->train.x + idx[b] * d, sizeof(float) * d);
        memcpy(y + (size_t)b * yw, ds->train.y + idx[b] * yw, sizeof(float) * yw);
    }
}

int cmd_netnoise(const char *out, const rscale *r)
{
    static const char *PROB[2] = {"lsd6", "mtr"};
    long ckpt[3];
    int nck = r->s == REPRO_SMOKE ? 2 : 3;
    if (r->s == REPRO_SMOKE)
        ckpt[0] = 0, ckpt[1] = 100;
    else
        ckpt[0] = 0, ckpt[1] = 1000, ckpt[2] = 5000;
    /* rlw.md: 10^4 batches per checkpoint (full); the paper scale uses 2 000 for time */
    const int N = r->s == REPRO_SMOKE ? 100 : r->s == REPRO_PAPER ? 2000 : 10000;
    char path[1024];
    FILE *f = repro_out_open(PROG, out, "rlw_noise_net.tsv", path, sizeof path);
    fprintf(f, "problem\tstep\tmethod\tE_xi_FW2\textra_measured\textra_se\textra_predicted_tau\tcross_z\t"
               "max_xi_FW\tmax_xi_RLW\tfrac_cos_gt_0.99\n");
    repro_summary s;
    repro_summary_open_or_die(PROG, &s, out, "netnoise");
    static double hist[2][MAXCK][NBIN]; /* cos(xi_FW, x), normal weights */
    double worst_z = 0, worst_pred = 0, worst_frac = 0;
    int sup_fail = 0, cells = 0;
    mtb_error err = {0};
    for (int ip = 0; ip < 2; ip++) {
        static mtb_problem p;
        if (mtb_problem_lookup(PROB[ip], "paper", &p, &err))
            die("%s", err.msg);
        mtb_dataset ds;
        memset(&ds, 0, sizeof ds);
        if (mtb_problem_make_dataset(&p, &ds, &err))
            die("%s", err.msg);
        int T = ds.T;
        if (T > MAXT4)
            die("%s: %d tasks", PROB[ip], T);
        int head_out[MAXT4];
        double osc[MAXT4], lsc[MAXT4], mu[MAXT4], taus[NNV];
        for (int t = 0; t < T; t++) {
            head_out[t] = ds.tasks[t].out_width;
            osc[t] = p.tasks[t].out_scale, lsc[t] = p.tasks[t].loss_scale, mu[t] = 1.0 / T;
        }
        for (int iv = 0; iv < NNV; iv++) {
            double mm[MAXT4], Cm[MAXT4 * MAXT4], var = 0;
            ws_moments(NV_[iv], T, 200000, 4243, mm, Cm);
            for (int t = 0; t < T; t++)
                var += (Cm[t * T + t] - mm[t] * mm[t]) / T;
            taus[iv] = T * var / (T - 1.0);
        }
        mtb_model_config mc = {ds.d_in, p.proto.n_hidden, {0}, p.proto.act, T, head_out};
        memcpy(mc.widths, p.proto.widths, sizeof mc.widths);
        mtb_model *m;
        mtb_rng rg;
        mtb_rng_seed(&rg, 0, 3);
        if (mtb_model_new(&mc, &m, &err) || mtb_model_init_orthogonal(m, p.proto.init_gain, &rg, &err))
            die("%s", err.msg);
        mtb_trainer_config tc = {0};
        tc.optim = p.proto.optim;
        tc.clip_norm = p.proto.clip_norm;
        tc.batch_max = (int)ds.train.n;
        tc.need = MTB_NEED_PARAM_GRADS;
        tc.scope = MTB_SCOPE_ALL;
        tc.out_scale = osc;
        tc.loss_scale = lsc;
        mtb_trainer *tr;
        if (mtb_trainer_new(m, ds.tasks, NULL, &tc, &tr, &err))
            die("%s", err.msg);
        int B = p.proto.batch;
        size_t n = ds.train.n, *idx = malloc(sizeof(size_t) * n);
        float *xb = malloc(sizeof(float) * (size_t)B * (size_t)ds.d_in),
              *yb = malloc(sizeof(float) * (size_t)B * (size_t)ds.y_width);
        for (size_t i = 0; i < n; i++)
            idx[i] = i;
        size_t P = m->n_trunk, pos = n;
        double *Gf = malloc(sizeof(double) * (size_t)T * P), *gbar = malloc(sizeof(double) * P),
               *xf = malloc(sizeof(double) * P), *xx = malloc(sizeof(double) * P),
               *Gb = malloc(sizeof(double) * (size_t)T * P);
        long step = 0;
        mtb_rng br;
        mtb_rng_seed(&br, 0, 5);
        for (int ic = 0; ic < nck; ic++) {
            for (; step < ckpt[ic]; step++) { /* EW training to the checkpoint */
                if (pos + (size_t)B > n)
                    mtb_rng_shuffle(&br, idx, n), pos = 0;
                gather(&ds, idx + pos, B, xb, yb);
                pos += (size_t)B;
                mtb_step_result res;
                if (mtb_trainer_step(tr, xb, yb, (size_t)ds.y_width, B, step, 0, &res, &err))
                    die("%s", err.msg);
            }
            const double *l, *G;
            size_t D;
            if (mtb_trainer_task_grads(tr, ds.train.x, ds.train.y, (size_t)ds.y_width, (int)n,
                                       MTB_NEED_PARAM_GRADS, MTB_SCOPE_ALL, &l, &G, &D, &err))
                die("%s", err.msg);
            memcpy(Gf, G, sizeof(double) * (size_t)T * P);
            for (size_t j = 0; j < P; j++) {
                gbar[j] = 0;
                for (int t = 0; t < T; t++)
                    gbar[j] += mu[t] * Gf[(size_t)t * P + j];
            }
            acc A[NNV];
            memset(A, 0, sizeof A);
            wsampler w[NNV];
            for (int iv = 0; iv < NNV; iv++)
                ws_init(&w[iv], NV_[iv], T, 700 + (unsigned long long)ic);
            mtb_rng sr;
            mtb_rng_seed(&sr, 11 + (uint64_t)ic, 6);
            size_t *bi = malloc(sizeof(size_t) * n);
            for (int k = 0; k < N; k++) {
                for (size_t i = 0; i < n; i++)
                    bi[i] = i;
                for (int b = 0; b < B; b++) { /* a batch without replacement */
                    size_t j = (size_t)b + (size_t)mtb_rng_below(&sr, n - (size_t)b);
                    size_t t0 = bi[b]; bi[b] = bi[j]; bi[j] = t0;
                }
                gather(&ds, bi, B, xb, yb);
                if (mtb_trainer_task_grads(tr, xb, yb, (size_t)ds.y_width, B, MTB_NEED_PARAM_GRADS,
                                           MTB_SCOPE_ALL, &l, &G, &D, &err))
                    die("%s", err.msg);
                memcpy(Gb, G, sizeof(double) * (size_t)T * P);
                double nf = 0, spread = 0;
                for (size_t j = 0; j < P; j++) {
                    double a = 0, gb = 0;
                    for (int t = 0; t < T; t++)
                        a += mu[t] * Gb[(size_t)t * P + j], gb += Gb[(size_t)t * P + j] / T;
                    for (int t = 0; t < T; t++)
                        spread += (Gb[(size_t)t * P + j] - gb) * (Gb[(size_t)t * P + j] - gb);
                    xf[j] = a - gbar[j];
                    nf += xf[j] * xf[j];
                }
                for (int iv = 0; iv < NNV; iv++) {
                    double lam[MAXT4], nx = 0, dot = 0, nr = 0;
                    ws_draw(&w[iv], k, lam);
                    for (size_t j = 0; j < P; j++) {
                        double x = 0;
                        for (int t = 0; t < T; t++)
                            x += (lam[t] - mu[t]) * Gb[(size_t)t * P + j];
                        nx += x * x, dot += xf[j] * x;
                        nr += (xf[j] + x) * (xf[j] + x);
                    }
                    acc *a = &A[iv];
                    a->sf += nf, a->sx += nx, a->sx2 += nx * nx, a->sc += 2 * dot, a->sc2 += 4 * dot * dot;
                    a->sp += taus[iv] * spread;
                    a->mxf = fmax(a->mxf, sqrt(nf)), a->mxr = fmax(a->mxr, sqrt(nr));
                    double cs = dot / sqrt(fmax(nf * nx, 1e-300));
                    a->hi += cs > 0.99;
                    if (NV_[iv] == V_NORMAL) {
                        int b = (int)floor((cs + 1) / 2 * NBIN);
                        hist[ip][ic][b < 0 ? 0 : b >= NBIN ? NBIN - 1 : b] += 1.0;
                    }
                }
            }
            free(bi);
            for (int iv = 0; iv < NNV; iv++) {
                ws_free(&w[iv]);
                acc *a = &A[iv];
                double ex = a->sx / N, ex_se = sqrt(fmax(a->sx2 / N - ex * ex, 0) / (N - 1.0));
                double cm = a->sc / N, cse = sqrt(fmax(a->sc2 / N - cm * cm, 0) / (N - 1.0));
                double z = fabs(cm) / fmax(cse, 1e-300), pred = a->sp / N;
                fprintf(f, "%s\t%ld\t%s\t%.5g\t%.5g\t%.2g\t%.5g\t%.2f\t%.4g\t%.4g\t%.4f\n", PROB[ip], ckpt[ic],
                        VARIANTS[NV_[iv]].name, a->sf / N, ex, ex_se, pred, z, a->mxf, a->mxr,
                        (double)a->hi / N);
                worst_z = fmax(worst_z, z);
                worst_pred = fmax(worst_pred, fabs(ex - pred) / fmax(ex_se, 1e-300));
                worst_frac = fmax(worst_frac, (double)a->hi / N);
                sup_fail += a->mxr < a->mxf;
                cells++;
            }
        }
        free(idx), free(xb), free(yb), free(Gf), free(gbar), free(xf), free(xx), free(Gb);
        mtb_trainer_free(tr);
        mtb_model_free(m);
        mtb_dataset_free(&ds);
    }
    repro_out_close(PROG, f, path);
    char dpath[1024];
    FILE *dat = repro_out_open(PROG, out, "noise_net_cos.dat", dpath, sizeof dpath);
    fprintf(dat, "cos");
    for (int ip = 0; ip < 2; ip++)
        for (int ic = 0; ic < nck; ic++)
            fprintf(dat, "\t\"%s, step %ld\"", PROB[ip], ckpt[ic]);
    fprintf(dat, "\n");
    for (int b = 0; b < NBIN; b++) {
        fprintf(dat, "%.3f", -1 + (b + 0.5) * 2.0 / NBIN);
        for (int ip = 0; ip < 2; ip++)
            for (int ic = 0; ic < nck; ic++)
                fprintf(dat, "\t%.5g", hist[ip][ic][b] / N / (2.0 / NBIN));
        fprintf(dat, "\n");
    }
    repro_out_close(PROG, dat, dpath);
    noise_summary(&s, worst_z, worst_pred, sup_fail, cells, worst_frac, N);
    printf("[rlw] R4 noise (networks): cross term max |z| %.2f, tau prediction max |z| %.2f, sup violated "
           "in %d/%d cells\n", worst_z, worst_pred, sup_fail, cells);
    return 0;
}
