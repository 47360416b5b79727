/* test_golden_runner.c: `mtb golden DIR` works on any directory in the fixture format of
 * tests/fixtures/golden/README.md, not only the shipped cases: other T, other d, more steps.
 * The references here are computed independently in this file from the formulas of
 * LIBMTL-FORMULAS.md (EW, DB-MTL; PCGrad and GradVac with recorded task orders for T up to
 * 6 and d = 64; CAGrad at SLSQP's start point, in golden_fixture_testutil.h, which also
 * writes the fixtures), written with mtb's HDF5 layer, and replayed
 * by the mtb binary (MTB_BIN, set by `make test`; bin/mtb otherwise). A fixture with a wrong
 * reference must make the runner fail; a solver reference that is measurably worse than the
 * exact optimum of the method's problem passes on optimality, and says so. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "golden_fixture_testutil.h"
#include "io_testutil.h"

/* DB-MTL (beta 0.9, sigma 0): b_t <- gh_t + 0.9 (b_t - gh_t), gh_t = g_t / (l_t + 1e-8);
 * grad = sum_t (max_k |b_k| / (|b_t| + 1e-8)) b_t; weights 1. */
static void ref_db_mtl(int T, int d, int S, const double *L, const double *G, const int64_t *perm,
                       int pl, double *grad, double *w)
{
    (void)perm, (void)pl;
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

/* PCGrad as LibMTL runs it: for each i, the recorded order over ALL T tasks (itself
 * included); pc_i -= (pc_i.g_j)/(|g_j|^2 + 1e-8) g_j when pc_i.g_j < 0, on the original g_j;
 * grad = sum_i pc_i; returned: the effective coefficients of the original gradients. */
static void ref_pcgrad(int T, int d, int S, const double *L, const double *G, const int64_t *perm,
                       int pl, double *grad, double *w)
{
    (void)L;
    double *pc = malloc(sizeof(double) * d);
    for (int s = 0; s < S; s++) {
        const double *Gs = G + (size_t)s * T * d;
        double *gs = grad + (size_t)s * d, *ws = w + (size_t)s * T;
        for (int j = 0; j < d; j++)
            gs[j] = 0.0;
        for (int t = 0; t < T; t++)
            ws[t] = 1.0;
        for (int i = 0; i < T; i++) {
            memcpy(pc, Gs + (size_t)i * d, sizeof(double) * d);
            for (int k = 0; k < pl; k++) {
                int j = (int)perm[((size_t)s * T + i) * pl + k];
                const double *gj = Gs + (size_t)j * d;
                double dot = 0.0, n2 = 0.0;
                for (int c = 0; c < d; c++)
                    dot += pc[c] * gj[c], n2 += gj[c] * gj[c];
                if (dot < 0.0) {
                    double f = dot / (n2 + 1e-8);
                    for (int c = 0; c < d; c++)
                        pc[c] -= f * gj[c];
                    ws[j] -= f;
                }
            }
            for (int c = 0; c < d; c++)
                gs[c] += pc[c];
        }
    }
    free(pc);
}

/* GradVac as LibMTL runs it (beta 0.5, group_type 0): rho_T (T x T) from 0 across steps; for
 * each i the recorded order of the others; rho = pc.g_j/(|pc||g_j| + 1e-8); below the
 * target, pc += g_j |pc| (rT sqrt(1-rho^2) - rho sqrt(1-rT^2)) / (|g_j| sqrt(1-rT^2) + 1e-8);
 * rT <- 0.5 rT + 0.5 rho (rho before the adjustment); grad = sum_i pc_i; returns ones. */
static void ref_gradvac(int T, int d, int S, const double *L, const double *G, const int64_t *perm,
                        int pl, double *grad, double *w)
{
    (void)L;
    double *pc = malloc(sizeof(double) * d), *rT = calloc((size_t)T * T, sizeof(double));
    for (int s = 0; s < S; s++) {
        const double *Gs = G + (size_t)s * T * d;
        double *gs = grad + (size_t)s * d;
        for (int j = 0; j < d; j++)
            gs[j] = 0.0;
        for (int t = 0; t < T; t++)
            w[(size_t)s * T + t] = 1.0;
        for (int i = 0; i < T; i++) {
            memcpy(pc, Gs + (size_t)i * d, sizeof(double) * d);
            for (int k = 0; k < pl; k++) {
                int j = (int)perm[((size_t)s * T + i) * pl + k];
                const double *gj = Gs + (size_t)j * d;
                double dot = 0.0, np = 0.0, nj = 0.0;
                for (int c = 0; c < d; c++)
                    dot += pc[c] * gj[c], np += pc[c] * pc[c], nj += gj[c] * gj[c];
                np = sqrt(np), nj = sqrt(nj);
                double rho = dot / (np * nj + 1e-8), *t = &rT[(size_t)i * T + j];
                if (rho < *t) {
                    double f = np * (*t * sqrt(1 - rho * rho) - rho * sqrt(1 - *t * *t)) /
                               (nj * sqrt(1 - *t * *t) + 1e-8);
                    for (int c = 0; c < d; c++)
                        pc[c] += f * gj[c];
                }
                *t = 0.5 * *t + 0.5 * rho;
            }
            for (int c = 0; c < d; c++)
                gs[c] += pc[c];
        }
    }
    free(pc), free(rT);
}


Test(golden_runner, any_directory_other_T_d_and_steps)
{
    char dir[IO_TMP_LEN], p[IO_PATH_LEN], last[512];
    io_tmpdir(dir);
    const fixture_case ew[] = {{"T5_d7", 5, 7, 6}, {"T1_d3", 1, 3, 2}, {"T12_d40", 12, 40, 9}};
    const fixture_case db[] = {{"T4_d9", 4, 9, 11}, {"T7_d2", 7, 2, 5}};
    write_fixture(io_path(p, dir, "EW.h5"), &(fixture_spec){.method = "EW", .ref = ref_ew}, ew, 3);
    write_fixture(io_path(p, dir, "DB_MTL.h5"),
                  &(fixture_spec){.method = "DB_MTL", .ref = ref_db_mtl}, db, 2);
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
    write_fixture(io_path(p, dir, "EW.h5"),
                  &(fixture_spec){.method = "EW", .ref = ref_ew, .corrupt = 1e-6}, ew, 1);
    int rc = run_golden(dir, last, sizeof last);
    cr_assert_str_eq(last, "0 passed, 1 failed\n");
    cr_assert_neq(rc, 0);
    io_rmtree(dir);
}

/* Recorded task orders are replayed for T >= 3 (where the order changes the result) and
 * wider d: PCGrad over all T tasks itself included, GradVac over the others. A reference
 * built with other orders than the recorded ones must fail. */
Test(golden_runner, recorded_orders_are_replayed)
{
    char dir[IO_TMP_LEN], p[IO_PATH_LEN], last[512], out[4096];
    io_tmpdir(dir);
    const fixture_case cs[] = {{"T3_d4", 3, 4, 5}, {"T6_d64", 6, 64, 6}, {"T5_d3", 5, 3, 4}};
    write_fixture(io_path(p, dir, "PCGrad.h5"),
                  &(fixture_spec){.method = "PCGrad", .ref = ref_pcgrad, .has_perm = 1}, cs, 3);
    write_fixture(io_path(p, dir, "GradVac.h5"),
                  &(fixture_spec){.method = "GradVac", .ref = ref_gradvac, .has_perm = 1,
                                  .perm_len_minus_T = -1}, cs, 3);
    int rc = run_golden_all(dir, last, sizeof last, out, sizeof out);
    cr_assert_str_eq(last, "6 passed, 0 failed\n", "%s", out);
    cr_assert_eq(rc, 0);

    /* the same PCGrad cases with orders that skip the task itself (T - 1 per row): the
     * reference then follows other orders than LibMTL's loop, so replaying them with
     * visit_self is refused (the recorded rows have the wrong length) */
    io_rmtree(dir);
    io_tmpdir(dir);
    write_fixture(io_path(p, dir, "PCGrad.h5"),
                  &(fixture_spec){.method = "PCGrad", .ref = ref_pcgrad, .has_perm = 1,
                                  .perm_len_minus_T = -1}, cs, 1);
    rc = run_golden_all(dir, last, sizeof last, out, sizeof out);
    cr_assert_str_eq(last, "0 passed, 1 failed\n", "%s", out);
    cr_assert(strstr(out, "itself included"), "%s", out);
    io_rmtree(dir);
}

/* CAGrad where LibMTL's SLSQP stops at its start point 1/T (loss scales spanning 1000): the
 * reference is far from the minimum of CAGrad's own problem, mtb's exact minimiser is not,
 * and the case passes on optimality, saying so. Where 1/T IS the minimum (orthogonal
 * gradients of equal norm, by symmetry) a wrong reference gradient still fails. */
Test(golden_runner, solver_cases_pass_on_optimality_only_when_the_reference_is_worse)
{
    char dir[IO_TMP_LEN], p[IO_PATH_LEN], last[512], out[4096];
    io_tmpdir(dir);
    const double scale[3] = {1000.0, 1.0, 0.03};
    const fixture_case cs[] = {{"scale1000_T3_d5", 3, 5, 3}};
    write_fixture(io_path(p, dir, "CAGrad.h5"),
                  &(fixture_spec){.method = "CAGrad", .ref = ref_cagrad_start, .scale = scale},
                  cs, 1);
    int rc = run_golden_all(dir, last, sizeof last, out, sizeof out);
    cr_assert_str_eq(last, "1 passed, 0 failed\n", "%s", out);
    cr_assert_eq(rc, 0);
    cr_assert(strstr(out, "passes on optimality at 3 of 3 steps"), "%s", out);
    io_rmtree(dir);
}

Test(golden_runner, an_optimal_reference_is_not_overruled)
{
    char dir[IO_TMP_LEN], path[IO_PATH_LEN], last[512], out[4096];
    io_tmpdir(dir);
    /* G = I (3 x 3): orthogonal, equal norms, so w = 1/T minimises CAGrad's problem and the
     * start-point reference is exact; corrupted by 1e-2 it must fail on the gradient. */
    mtb_error err = {0};
    mtb_h5 *f = mtb_h5_create(io_path(path, dir, "CAGrad.h5"), &err);
    cr_assert(f, "%s", err.msg);
    double L[3] = {1, 1, 1}, G[9] = {1, 0, 0, 0, 1, 0, 0, 0, 1}, ep[1] = {0}, grad[3], w[3];
    ref_cagrad_start(3, 3, 1, L, G, NULL, 0, grad, w);
    grad[2] += 1e-2;
    size_t dl[2] = {1, 3}, dg[3] = {1, 3, 3}, de[1] = {1};
#define W(x) cr_assert_eq((x), MTB_OK, "%s", err.msg)
    W(mtb_h5_write_f64(f, "/sym/inputs/losses", 2, dl, L, &err));
    W(mtb_h5_write_f64(f, "/sym/inputs/G", 3, dg, G, &err));
    W(mtb_h5_write_f64(f, "/sym/inputs/epoch", 1, de, ep, &err));
    W(mtb_h5_write_f64(f, "/sym/outputs_f64/grad", 2, dl, grad, &err));
    W(mtb_h5_write_f64(f, "/sym/outputs_f64/weights", 2, dl, w, &err));
    W(mtb_h5_attr_i64(f, "/sym", "T", 3, &err));
    W(mtb_h5_attr_i64(f, "/sym", "d", 3, &err));
    W(mtb_h5_attr_str(f, "/", "method", "CAGrad", &err));
    W(mtb_h5_attr_strs(f, "/", "cases", 1, (const char *[]){"sym"}, &err));
    W(mtb_h5_commit(f, &err));
#undef W
    int rc = run_golden_all(dir, last, sizeof last, out, sizeof out);
    cr_assert_str_eq(last, "0 passed, 1 failed\n", "%s", out);
    cr_assert_neq(rc, 0);
    cr_assert(strstr(out, "grad off at step 0"), "%s", out);
    io_rmtree(dir);
}
