/* head_step.c: R6's head Adam step ratio (rlw.md R6). Under Adam a head's step does not
 * scale with its loss weight, but its weight's randomness shrinks it: at steady state the
 * step of head t under RLW is rho_Adam = E[lambda~_t] / sqrt(E[lambda~_t^2])
 * = 1 / sqrt(T E||lambda~||^2) times EW's (R1; 0.16 for c-Bernoulli at T = 40). Measured:
 * for each run of the method and the EW run of the same problem and seed, the median over
 * steps 100..500 of ||Delta psi_t||(method) / ||Delta psi_t||(EW) per task (the run files'
 * /steps/head_step), averaged over tasks, then over seeds. RGW weights the trunk only, so its
 * heads move as EW's (ratio 1). */
#include "rlw.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../common/sweep_plan.h"
#include "moments.h"
#include "mtb/h5.h"
#include "mtb/stats.h"

enum { FIRST_STEP = 100, LAST_STEP = 500 };

/* /steps/head_step of a run file: (S, T), malloc'd; NULL when absent */
static double *read_head_steps(const char *path, size_t *S, size_t *T)
{
    mtb_error err = {0};
    mtb_h5 *f = mtb_h5_open(path, &err);
    if (!f)
        return NULL;
    size_t d[MTB_H5_MAX_RANK];
    double *x = NULL;
    if (mtb_h5_read_f64(f, "/steps/head_step", 2, d, &x, 0, &err))
        x = NULL;
    mtb_h5_close(f);
    *S = d[0], *T = d[1];
    return x;
}

/* the method's head steps over EW's for one seed: mean over tasks of the median ratio */
static double seed_ratio(const double *a, const double *e, size_t S, size_t T)
{
    size_t hi = S - 1 < LAST_STEP ? S - 1 : LAST_STEP;
    if (S <= FIRST_STEP)
        return NAN;
    double *r = malloc(sizeof(double) * (hi - FIRST_STEP + 1));
    if (!r)
        die("out of memory");
    double sum = 0.0;
    int tasks = 0;
    for (size_t t = 0; t < T; t++) {
        size_t n = 0;
        for (size_t s = FIRST_STEP; s <= hi; s++)
            if (e[s * T + t] > 0 && isfinite(a[s * T + t]))
                r[n++] = a[s * T + t] / e[s * T + t];
        if (n) {
            sum += mtb_stats_median_inplace(r, n);
            tasks++;
        }
    }
    free(r);
    return tasks ? sum / tasks : NAN;
}

double head_step_ratio(const struct repro_plan *p, const char *problem, const char *method,
                       const char *options, int *seeds)
{
    double sum = 0.0;
    *seeds = 0;
    for (int j = 0; j < p->n; j++) {
        const repro_job *jb = &p->jobs[j];
        if (strcmp(jb->problem, problem) || strcmp(jb->method, method) ||
            strcmp(jb->options, options))
            continue;
        const char *ew = NULL;
        for (int k = 0; k < p->n && !ew; k++)
            if (!strcmp(p->jobs[k].problem, problem) && !strcmp(p->jobs[k].method, "ew") &&
                !p->jobs[k].options[0] && p->jobs[k].seed == jb->seed)
                ew = p->jobs[k].path;
        if (!ew)
            continue;
        size_t S, T, Se, Te;
        double *a = read_head_steps(jb->path, &S, &T), *e = read_head_steps(ew, &Se, &Te);
        double r = a && e && S == Se && T == Te ? seed_ratio(a, e, S, T) : NAN;
        free(a), free(e);
        if (isfinite(r)) {
            sum += r;
            ++*seeds;
        }
    }
    return *seeds ? sum / *seeds : NAN;
}

/* the variant of rlw.md sec. 1 that an rlw option string selects (compared as the method
 * parses it, so "dist=bernoulli" is the "redraw" Bernoulli), -1 if none */
static int variant_of(const char *options)
{
    const mtb_balancer_type *ty = mtb_balancer_find("rlw");
    mtb_hparams a, b;
    mtb_error err = {0};
    char fa[512], fb[512];
    if (!ty || mtb_hparams_parse(ty, options, &a, &err))
        return -1;
    mtb_hparams_format(ty, &a, fa, sizeof fa);
    for (int v = 0; v < N_VARIANTS; v++) {
        if (mtb_hparams_parse(ty, VARIANTS[v].opts, &b, &err))
            continue;
        mtb_hparams_format(ty, &b, fb, sizeof fb);
        if (!strcmp(fa, fb))
            return v;
    }
    return -1;
}

double head_step_rho(const char *method, const char *options, int T)
{
    if (!strcmp(method, "ew") || !strcmp(method, "rgw"))
        return 1.0; /* heads unweighted */
    int v = strcmp(method, "rlw") ? -1 : variant_of(options);
    if (v < 0)
        return NAN;
    if (VARIANTS[v].fw)
        return 1.0; /* lambda~ = 1/T: E||lambda~||^2 = 1/T */
    enum { DRAWS = 100000 };
    wsampler w;
    ws_init(&w, v, T, 0x5eed);
    double *lam = malloc(sizeof(double) * (size_t)T), sq = 0.0;
    if (!lam)
        die("out of memory");
    for (long k = 0; k < DRAWS; k++) {
        ws_draw(&w, k, lam);
        for (int t = 0; t < T; t++)
            sq += lam[t] * lam[t] / DRAWS;
    }
    free(lam);
    ws_free(&w);
    return rlw_rho_adam(T, sq);
}
