/* fig2.c: SLAW Figure 2 / Sec. 4.3, cost per training step against the number of tasks.
 *
 * PCBA shape (spec sec. 5.4): 2048 binary inputs -> 2000 -> 100 (ReLU) -> T heads of 2 logits,
 * cross-entropy with class weights (0.013932, 0.986068) (the code's 2-logit CE; for two
 * classes this is weighting inversely proportional to class frequency up to a constant),
 * Adam lr 3e-4, eps 1e-5, clip 0.5. Synthetic data: inputs and labels Bernoulli(0.02)
 * ("about 2 % positives"). Methods: Constant (ew), SLAW, GradNorm (per-task gradients of the
 * last shared layer, 200 100 numbers, as the paper's implementation), PCGrad (per-task
 * gradients of all 4 298 100 shared parameters). The timer covers mtb_trainer_step on a
 * batch already in memory: forward, the per-task gradients the method needs, the method,
 * the weighted backward, clipping and Adam (the authors' timer also covered batch assembly
 * and the host-to-GPU copy). Median of `reps` steps (PCGrad) or 3 `reps` steps (the others)
 * after `warm` warm-up steps; the runs are sequential so that each has the whole machine. */
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mtb/balancer.h"
#include "mtb/clock.h"
#include "mtb/h5.h"
#include "mtb/layer.h"
#include "mtb/model.h"
#include "mtb/rng.h"
#include "mtb/train.h"
#include "slaw.h"

#define N_FIG2 4
static const char *const FIG2_METHODS[N_FIG2] = {"ew", "slaw", "gradnorm", "pcgrad"};
static const char *const FIG2_OPTIONS[N_FIG2] = {"", "beta=0.99", "variant=slaw,alpha=0.12,lr=0.025,layer=last",
                                                 "order=random"};

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Times one (T, method); writes the median ms and the step's matrix-product FLOPs. */
static void time_one(int T, int mi, const scale *sc, const float *theta0, double *ms_out, double *flops_out)
{
    const int B = sc->fig2_batch, d_in = 2048;
    int *head_out = malloc(sizeof(int) * (size_t)T);
    mtb_task_spec *tasks = calloc((size_t)T, sizeof *tasks);
    float *x = malloc(sizeof(float) * (size_t)B * d_in), *y = malloc(sizeof(float) * (size_t)B * T);
    double *ms = malloc(sizeof(double) * (size_t)(3 * sc->fig2_reps));
    if (!head_out || !tasks || !x || !y || !ms)
        die("out of memory");
    for (int t = 0; t < T; t++) {
        head_out[t] = 2;
        tasks[t] = (mtb_task_spec){MTB_LOSS_CE, 2, 1, t, 1.0, 2, {0.013932, 0.986068}};
    }
    mtb_model_config mc = {d_in, 2, {2000, 100}, MTB_ACT_RELU, T, head_out};
    mtb_error err = {0};
    mtb_model *m = NULL;
    mtb_rng rng;
    mtb_rng_seed(&rng, 0, MTB_STREAM_BENCH);
    if (mtb_model_new(&mc, &m, &err))
        die("figure 2: %s", err.msg);
    memcpy(m->theta, theta0, sizeof(float) * m->n_params); /* the same initial weights for every method */
    for (size_t i = 0; i < (size_t)B * d_in; i++)
        x[i] = (float)mtb_rng_bernoulli(&rng, 0.02);
    for (size_t i = 0; i < (size_t)B * T; i++)
        y[i] = (float)mtb_rng_bernoulli(&rng, 0.02);
    const mtb_balancer_type *type = mtb_balancer_find(FIG2_METHODS[mi]);
    mtb_hparams hp;
    mtb_balancer_setup setup;
    if (!type || mtb_hparams_parse(type, FIG2_OPTIONS[mi], &hp, &err) ||
        mtb_balancer_query(type, T, &hp, &setup, &err))
        die("figure 2: %s: %s", FIG2_METHODS[mi], err.msg);
    size_t D = setup.need == MTB_NEED_PARAM_GRADS
                   ? (setup.scope == MTB_SCOPE_ALL ? m->n_trunk : m->last_dense_size)
                   : setup.need == MTB_NEED_REP_GRADS ? (size_t)B * m->dz : 0;
    mtb_balancer *bal = mtb_balancer_new(type, T, D, &hp, 0, &err);
    if (!bal)
        die("figure 2: %s", err.msg);
    mtb_trainer_config tc = {{0}, 0.5, B, 32, MTB_NEED_LOSSES, MTB_SCOPE_ALL, NULL, NULL};
    mtb_optim_config_adam(&tc.optim, 3e-4);
    tc.optim.eps = 1e-5;
    mtb_trainer *tr = NULL;
    if (mtb_trainer_new(m, tasks, bal, &tc, &tr, &err))
        die("figure 2: T = %d, %s: %s", T, FIG2_METHODS[mi], err.msg);
    /* PCGrad's steps take seconds to minutes at large T: fig2_reps of them; the other
     * methods' steps are short and noisier on a shared machine: 3 times as many */
    const int R = mi == 3 ? sc->fig2_reps : 3 * sc->fig2_reps;
    for (int r = -sc->fig2_warm; r < R; r++) {
        double t0 = mtb_clock_s();
        if (mtb_trainer_step(tr, x, y, (size_t)T, B, r + sc->fig2_warm, 0, NULL, &err))
            die("figure 2: T = %d, %s: %s", T, FIG2_METHODS[mi], err.msg);
        if (r >= 0)
            ms[r] = 1e3 * (mtb_clock_s() - t0);
    }
    *flops_out = mtb_trainer_last_flops(tr);
    qsort(ms, (size_t)R, sizeof *ms, cmp_d);
    *ms_out = R % 2 ? ms[R / 2] : 0.5 * (ms[R / 2 - 1] + ms[R / 2]);
    mtb_trainer_free(tr);
    mtb_balancer_free(bal);
    mtb_model_free(m);
    free(head_out), free(tasks), free(x), free(y), free(ms);
}

int cmd_fig2(int argc, char **argv)
{
    const char *scale_name = NULL, *out = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--scale") && i + 1 < argc) scale_name = argv[++i];
        else if (!strcmp(argv[i], "--out") && i + 1 < argc) out = argv[++i];
        else {
            fprintf(strcmp(argv[i], "--help") ? stderr : stdout,
                    "usage: repro-slaw fig2 --scale paper|smoke --out DIR\n"
                    "Times a training step of the PCBA shape for Constant, SLAW, GradNorm and PCGrad\n"
                    "at each task count of the scale, sequentially; writes DIR/fig2.h5.\n");
            return strcmp(argv[i], "--help") ? 2 : 0;
        }
    }
    scale sc;
    if (!scale_name || !out || scale_get(scale_name, &sc))
        die("fig2: need --scale paper|smoke and --out DIR");
    if (mtb_mkdirs(out))
        die("cannot create %s", out);
    openblas_set_num_threads(sc.fig2_threads);
    const int nT = sc.fig2_nT;
    double ms[MAX_FIG2_T * N_FIG2], fl[MAX_FIG2_T * N_FIG2];
    const int tty = isatty(2);
    /* the sgemm rate for the FLOP bound: the best of a measurement before and after the
     * timings (other processes on a shared machine only ever lower it) */
    double rate = mtb_sgemm_rate(1024, 3);
    if (isnan(rate))
        die("out of memory measuring the sgemm rate");
    double t0 = mtb_clock_s();
    for (int a = 0; a < nT; a++) {
        /* one orthogonal initialisation (a QR of 2048 x 2000) per task count, shared by the methods */
        const int T = sc.fig2_T[a];
        int *ho = malloc(sizeof(int) * (size_t)T);
        if (!ho)
            die("out of memory");
        for (int t = 0; t < T; t++)
            ho[t] = 2;
        mtb_model_config mc = {2048, 2, {2000, 100}, MTB_ACT_RELU, T, ho};
        mtb_model *m0 = NULL;
        mtb_rng rng;
        mtb_error e0 = {0};
        mtb_rng_seed(&rng, 0, MTB_STREAM_INIT);
        if (mtb_model_new(&mc, &m0, &e0) || mtb_model_init_orthogonal(m0, sqrt(2.0), &rng, &e0))
            die("figure 2: %s", e0.msg);
        for (int mi = 0; mi < N_FIG2; mi++) {
            fprintf(stderr, "%s[slaw fig2] T = %3d %-8s (%d of %d, %.0f s elapsed)%s", tty ? "\r" : "",
                    sc.fig2_T[a], FIG2_METHODS[mi], a * N_FIG2 + mi + 1, nT * N_FIG2, mtb_clock_s() - t0,
                    tty ? "   " : "\n");
            time_one(T, mi, &sc, m0->theta, &ms[a * N_FIG2 + mi], &fl[a * N_FIG2 + mi]);
        }
        mtb_model_free(m0);
        free(ho);
    }
    rate = fmax(rate, mtb_sgemm_rate(1024, 3)); /* fmax ignores a NAN */
    fprintf(stderr, "%s[slaw fig2] done in %.0f s\n", tty ? "\n" : "", mtb_clock_s() - t0);
    char path[1100];
    snprintf(path, sizeof path, "%s/fig2.h5", out);
    mtb_error err = {0};
    mtb_h5 *f = mtb_h5_create(path, &err);
    if (!f)
        die("%s", err.msg);
    int64_t Ts[MAX_FIG2_T];
    for (int a = 0; a < nT; a++)
        Ts[a] = sc.fig2_T[a];
    const size_t dT[1] = {(size_t)nT}, dTM[2] = {(size_t)nT, N_FIG2};
    if (mtb_h5_attr_str(f, "/", "format", "slaw-figure-2", &err) ||
        mtb_h5_attr_i64(f, "/", "batch", sc.fig2_batch, &err) ||
        mtb_h5_attr_i64(f, "/", "blas_threads", sc.fig2_threads, &err) ||
        mtb_h5_attr_i64(f, "/", "warmup_steps", sc.fig2_warm, &err) ||
        mtb_h5_attr_i64(f, "/", "timed_steps", sc.fig2_reps, &err) ||
        mtb_h5_attr_i64(f, "/", "timed_steps_other_methods", 3 * sc.fig2_reps, &err) ||
        mtb_h5_attr_f64(f, "/", "sgemm_flops_per_s", rate, &err) ||
        mtb_h5_write_i64(f, "/tasks", 1, dT, Ts, &err) ||
        mtb_h5_write_strs(f, "/methods", N_FIG2, FIG2_METHODS, &err) ||
        mtb_h5_write_f64(f, "/ms_per_step", 2, dTM, ms, &err) ||
        mtb_h5_write_f64(f, "/flops_per_step", 2, dTM, fl, &err)) {
        mtb_h5_discard(f);
        die("%s", err.msg);
    }
    if (mtb_h5_commit(f, &err))
        die("%s", err.msg);
    return 0;
}
