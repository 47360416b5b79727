/* test_golden_runner.c: `mtb golden DIR` works on any directory in the fixture format of
 * ../shared/golden/README.md, not only the shipped cases: other T, other d, more steps.
 * The references here are computed independently in this file from the formulas of
 * LIBMTL-FORMULAS.md (EW and DB-MTL), written with mtb's HDF5 layer, and replayed by the
 * mtb binary (MTB_BIN, set by `make test`; bin/mtb otherwise). A fixture with a wrong
 * reference must make the runner fail. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "io_testutil.h"
#include "mtb/h5.h"
#include "mtb/rng.h"

typedef struct fixture_case {
    const char *name;
    int T, d, S;
} fixture_case;

/* Writes one case: random losses and Jacobians, the reference computed by ref(). */
typedef void (*reference_fn)(int T, int d, int S, const double *L, const double *G, double *grad,
                             double *w);

static void write_fixture(const char *path, const char *method, const fixture_case *cases, int n,
                          reference_fn ref, double corrupt)
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
        double *L = malloc(sizeof(double) * S * T), *G = malloc(sizeof(double) * S * T * d);
        double *ep = malloc(sizeof(double) * S), *grad = malloc(sizeof(double) * S * d);
        double *w = malloc(sizeof(double) * S * T);
        for (size_t i = 0; i < S * T; i++) /* float-representable inputs, as the README says */
            L[i] = (float)(0.1 + 2.0 * mtb_rng_uniform(&r));
        for (size_t i = 0; i < S * T * d; i++)
            G[i] = (float)mtb_rng_normal(&r);
        for (size_t s = 0; s < S; s++)
            ep[s] = (double)s;
        ref(k->T, k->d, k->S, L, G, grad, w);
        grad[S * d - 1] += corrupt;
        char obj[128];
        size_t dl[2] = {S, T}, dg[3] = {S, T, d}, de[1] = {S}, dr[2] = {S, d};
#define W(x) cr_assert_eq((x), MTB_OK, "%s", err.msg)
        snprintf(obj, sizeof obj, "/%s/inputs/losses", k->name);
        W(mtb_h5_write_f64(f, obj, 2, dl, L, &err));
        snprintf(obj, sizeof obj, "/%s/inputs/G", k->name);
        W(mtb_h5_write_f64(f, obj, 3, dg, G, &err));
        snprintf(obj, sizeof obj, "/%s/inputs/epoch", k->name);
        W(mtb_h5_write_f64(f, obj, 1, de, ep, &err));
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
        free(L), free(G), free(ep), free(grad), free(w);
    }
    W(mtb_h5_attr_str(f, "/", "method", method, &err));
    W(mtb_h5_attr_strs(f, "/", "cases", (size_t)n, names, &err));
    W(mtb_h5_attr_i64(f, "/", "format_version", 1, &err));
    W(mtb_h5_commit(f, &err));
#undef W
}

/* EW: grad = sum_t g_t, weights 1 (LIBMTL-FORMULAS.md). */
static void ref_ew(int T, int d, int S, const double *L, const double *G, double *grad, double *w)
{
    (void)L;
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

/* DB-MTL (beta 0.9, sigma 0): b_t <- gh_t + 0.9 (b_t - gh_t), gh_t = g_t / (l_t + 1e-8);
 * grad = sum_t (max_k |b_k| / (|b_t| + 1e-8)) b_t; weights 1. */
static void ref_db_mtl(int T, int d, int S, const double *L, const double *G, double *grad, double *w)
{
    double *b = calloc((size_t)T * d, sizeof(double)), *nb = malloc(sizeof(double) * T);
    for (int s = 0; s < S; s++) {
        double mx = 0.0;
        for (int t = 0; t < T; t++) {
            double n2 = 0.0, l = L[(size_t)s * T + t];
            for (int j = 0; j < d; j++) {
                double gh = G[((size_t)s * T + t) * d + j] / (l + 1e-8);
                double *bj = &b[(size_t)t * d + j];
                *bj = gh + 0.9 * (*bj - gh);
                n2 += *bj * *bj;
            }
            nb[t] = sqrt(n2);
            mx = fmax(mx, nb[t]);
        }
        for (int j = 0; j < d; j++) {
            double a = 0.0;
            for (int t = 0; t < T; t++)
                a += mx / (nb[t] + 1e-8) * b[(size_t)t * d + j];
            grad[(size_t)s * d + j] = a;
        }
        for (int t = 0; t < T; t++)
            w[(size_t)s * T + t] = 1.0;
    }
    free(b), free(nb);
}

/* Runs `mtb golden dir`, returns its exit status and the last line it printed. */
static int run_golden(const char *dir, char *last, size_t len)
{
    const char *bin = getenv("MTB_BIN");
    if (!bin)
        bin = "bin/mtb";
    cr_assert(access(bin, X_OK) == 0, "cannot run %s (set MTB_BIN to the mtb binary; make test does)", bin);
    char cmd[512];
    snprintf(cmd, sizeof cmd, "%s golden %s", bin, dir);
    FILE *p = popen(cmd, "r");
    cr_assert(p, "popen failed");
    char line[512];
    last[0] = '\0';
    while (fgets(line, sizeof line, p))
        if (line[0] != '\n')
            snprintf(last, len, "%s", line);
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

Test(golden_runner, any_directory_other_T_d_and_steps)
{
    char dir[IO_TMP_LEN], p[IO_PATH_LEN], last[512];
    io_tmpdir(dir);
    const fixture_case ew[] = {{"T5_d7", 5, 7, 6}, {"T1_d3", 1, 3, 2}, {"T12_d40", 12, 40, 9}};
    const fixture_case db[] = {{"T4_d9", 4, 9, 11}, {"T7_d2", 7, 2, 5}};
    write_fixture(io_path(p, dir, "EW.h5"), "EW", ew, 3, ref_ew, 0.0);
    write_fixture(io_path(p, dir, "DB_MTL.h5"), "DB_MTL", db, 2, ref_db_mtl, 0.0);
    int rc = run_golden(dir, last, sizeof last);
    cr_assert_str_eq(last, "5 passed, 0 failed\n");
    cr_assert_eq(rc, 0);
    io_rmtree(dir);
}

Test(golden_runner, a_wrong_reference_fails)
{
    char dir[IO_TMP_LEN], p[IO_PATH_LEN], last[512];
    io_tmpdir(dir);
    const fixture_case ew[] = {{"T3_d5", 3, 5, 4}};
    write_fixture(io_path(p, dir, "EW.h5"), "EW", ew, 1, ref_ew, 1e-6);
    int rc = run_golden(dir, last, sizeof last);
    cr_assert_str_eq(last, "0 passed, 1 failed\n");
    cr_assert_neq(rc, 0);
    io_rmtree(dir);
}
