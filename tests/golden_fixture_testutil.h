/* golden_fixture_testutil.h: writing golden fixtures in the README's format with mtb's HDF5
 * layer, and running `mtb golden` on them (test_golden_runner.c, test_golden_optimality.c).
 * Header-only: every test file is its own translation unit of the one Criterion binary, so
 * the helpers are static inline. */
#ifndef MTB_GOLDEN_FIXTURE_TESTUTIL_H
#define MTB_GOLDEN_FIXTURE_TESTUTIL_H

#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mtb/h5.h"
#include "mtb/rng.h"

typedef struct fixture_case {
    const char *name;
    int T, d, S;
} fixture_case;

/* Writes one case: random losses and Jacobians, the reference computed by ref(). When
 * perm_len > 0 the case records task orders inputs/random_perm (S, T, perm_len): per step
 * and task i a random order of all T tasks (perm_len = T) or of the tasks other than i
 * (perm_len = T - 1), which ref() must follow. scale[t] (or NULL) multiplies task t's
 * gradients, as the fixtures' scale1000 cases. */
typedef void (*reference_fn)(int T, int d, int S, const double *L, const double *G,
                             const int64_t *perm, int perm_len, double *grad, double *w);

typedef struct fixture_spec {
    const char *method;
    reference_fn ref;
    int perm_len_minus_T; /* 0: perm_len = T, -1: T - 1, anything else: no orders */
    int has_perm;
    const double *scale;
    double corrupt;       /* added to the last reference gradient entry */
    double offset;        /* added to coordinate 0 of every gradient before the scale: keeps 0
                             out of the gradients' cone (FairGrad, Nash-MTL with T > d) */
} fixture_spec;

static inline void write_fixture(const char *path, const fixture_spec *spec,
                                 const fixture_case *cases, int n)
{
    mtb_error err = {0};
    mtb_h5 *f = mtb_h5_create(path, &err);
    cr_assert(f, "%s", err.msg);
    const char *names[8];
    mtb_rng r;
    mtb_rng_seed(&r, 21, 0);
    for (int c = 0; c < n; c++) {
        const fixture_case *k = &cases[c];
        names[c] = k->name;
        size_t S = (size_t)k->S, T = (size_t)k->T, d = (size_t)k->d;
        int pl = spec->has_perm ? k->T + spec->perm_len_minus_T : 0;
        double *L = malloc(sizeof(double) * S * T), *G = malloc(sizeof(double) * S * T * d);
        double *ep = malloc(sizeof(double) * S), *grad = malloc(sizeof(double) * S * d);
        double *w = malloc(sizeof(double) * S * T);
        int64_t *perm = malloc(sizeof(int64_t) * S * T * (pl > 0 ? (size_t)pl : 1));
        for (size_t i = 0; i < S * T; i++) /* float-representable inputs, as the README says */
            L[i] = (float)(0.1 + 2.0 * mtb_rng_uniform(&r));
        for (size_t i = 0; i < S * T * d; i++)
            G[i] = (float)((mtb_rng_normal(&r) + (i % d == 0 ? spec->offset : 0.0)) *
                           (spec->scale ? spec->scale[(i / d) % T] : 1.0));
        for (size_t s = 0; s < S; s++)
            ep[s] = (double)s;
        for (size_t s = 0; s < S && pl > 0; s++)
            for (size_t i = 0; i < T; i++) {
                size_t idx[64], m = 0;
                for (size_t j = 0; j < T; j++)
                    if (j != i || pl == k->T)
                        idx[m++] = j;
                mtb_rng_shuffle(&r, idx, m);
                for (size_t j = 0; j < m; j++)
                    perm[(s * T + i) * (size_t)pl + j] = (int64_t)idx[j];
            }
        spec->ref(k->T, k->d, k->S, L, G, perm, pl, grad, w);
        grad[S * d - 1] += spec->corrupt;
        char obj[128];
        size_t dl[2] = {S, T}, dg[3] = {S, T, d}, de[1] = {S}, dr[2] = {S, d},
               dp[3] = {S, T, (size_t)pl};
#define W(x) cr_assert_eq((x), MTB_OK, "%s", err.msg)
        snprintf(obj, sizeof obj, "/%s/inputs/losses", k->name);
        W(mtb_h5_write_f64(f, obj, 2, dl, L, &err));
        snprintf(obj, sizeof obj, "/%s/inputs/G", k->name);
        W(mtb_h5_write_f64(f, obj, 3, dg, G, &err));
        snprintf(obj, sizeof obj, "/%s/inputs/epoch", k->name);
        W(mtb_h5_write_f64(f, obj, 1, de, ep, &err));
        if (pl > 0) {
            snprintf(obj, sizeof obj, "/%s/inputs/random_perm", k->name);
            W(mtb_h5_write_i64(f, obj, 3, dp, perm, &err));
        }
        snprintf(obj, sizeof obj, "/%s/outputs_f64/grad", k->name);
        W(mtb_h5_write_f64(f, obj, 2, dr, grad, &err));
        snprintf(obj, sizeof obj, "/%s/outputs_f64/weights", k->name);
        W(mtb_h5_write_f64(f, obj, 2, dl, w, &err));
        snprintf(obj, sizeof obj, "/%s", k->name);
        W(mtb_h5_attr_i64(f, obj, "T", k->T, &err));
        W(mtb_h5_attr_i64(f, obj, "d", k->d, &err));
        W(mtb_h5_attr_i64(f, obj, "n_steps", k->S, &err));
        W(mtb_h5_attr_i64(f, obj, "n_epochs", k->S, &err));
        W(mtb_h5_attr_str(f, obj, "kind", "random", &err));
        free(L), free(G), free(ep), free(grad), free(w), free(perm);
    }
    W(mtb_h5_attr_str(f, "/", "method", spec->method, &err));
    W(mtb_h5_attr_strs(f, "/", "cases", (size_t)n, names, &err));
    W(mtb_h5_attr_i64(f, "/", "format_version", 1, &err));
    W(mtb_h5_commit(f, &err));
#undef W
}

/* EW: grad = sum_t g_t, weights 1 (LIBMTL-FORMULAS.md). */
static inline void ref_ew(int T, int d, int S, const double *L, const double *G,
                          const int64_t *perm, int pl, double *grad, double *w)
{
    (void)L, (void)perm, (void)pl;
    for (int s = 0; s < S; s++) {
        for (int j = 0; j < d; j++) {
            double a = 0.0;
            for (int t = 0; t < T; t++)
                a += G[((size_t)s * T + t) * d + j];
            grad[(size_t)s * d + j] = a;
        }
        for (int t = 0; t < T; t++)
            w[(size_t)s * T + t] = 1.0;
    }
}

/* CAGrad (calpha 0.5, rescale 1) evaluated at SLSQP's start point w = 1/T, i.e. what LibMTL
 * returns when SLSQP stops there (LIBMTL-FORMULAS.md, scale1000 cases): g0 = mean g,
 * c = 0.5 sqrt(|g0|^2 + 1e-8) + 1e-8, gw = sum w g,
 * grad = (g0 + c/(|gw| + 1e-8) gw) / (1 + 0.5^2); returns w. */
static inline void ref_cagrad_start(int T, int d, int S, const double *L, const double *G,
                                    const int64_t *perm, int pl, double *grad, double *w)
{
    (void)L, (void)perm, (void)pl;
    for (int s = 0; s < S; s++) {
        const double *Gs = G + (size_t)s * T * d;
        double g0[64], n0 = 0.0, nw = 0.0;
        for (int c = 0; c < d; c++) {
            g0[c] = 0.0;
            for (int t = 0; t < T; t++)
                g0[c] += Gs[(size_t)t * d + c] / T;
            n0 += g0[c] * g0[c];
        }
        nw = sqrt(n0); /* gw = g0 at w = 1/T */
        double cc = 0.5 * sqrt(n0 + 1e-8) + 1e-8;
        for (int c = 0; c < d; c++)
            grad[(size_t)s * d + c] = (g0[c] + cc / (nw + 1e-8) * g0[c]) / 1.25;
        for (int t = 0; t < T; t++)
            w[(size_t)s * T + t] = 1.0 / T;
    }
}

/* Runs `mtb golden dir` (then the arguments args, or none); returns its exit status, the
 * last line it printed and (if out is not NULL) everything it printed. */
static inline int run_golden_args(const char *dir, const char *args, char *last, size_t len,
                                  char *out, size_t outlen)
{
    const char *bin = getenv("MTB_BIN");
    if (!bin)
        bin = "bin/mtb";
    cr_assert(access(bin, X_OK) == 0,
              "cannot run %s (set MTB_BIN to the mtb binary; make test does)", bin);
    char cmd[512];
    snprintf(cmd, sizeof cmd, "%s golden %s %s", bin, dir, args ? args : "");
    FILE *p = popen(cmd, "r");
    cr_assert(p, "popen failed");
    char line[1024];
    last[0] = '\0';
    if (out)
        out[0] = '\0';
    while (fgets(line, sizeof line, p)) {
        if (out && strlen(out) + strlen(line) < outlen)
            strcat(out, line);
        if (line[0] != '\n')
            snprintf(last, len, "%s", line);
    }
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static inline int run_golden_all(const char *dir, char *last, size_t len, char *out,
                                 size_t outlen)
{
    return run_golden_args(dir, NULL, last, len, out, outlen);
}

static inline int run_golden(const char *dir, char *last, size_t len)
{
    return run_golden_all(dir, last, len, NULL, 0);
}

#endif
