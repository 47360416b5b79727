/* test_golden_optimality.c: `mtb golden` judging solver methods by optimality (golden.h,
 * golden_optimality.c) on fixtures written here: CAGrad with T > d and loss scales spanning
 * 1000 at SLSQP's start point; FairGrad (alpha = 1) and Nash-MTL (LibMTL's max_norm = 1
 * clipping) whose reference weights solve A a = 1/a only to a relative residual of 1e-4, as
 * an early-stopped solver would (LibMTL's Nash-MTL stops at 1e-3), with T > d and T < d. The
 * references are computed in this file (coordinate descent, not the runner's or mtb's
 * solvers). Such cases pass on optimality and say so with the numbers; a reference that IS
 * optimal is never overruled (a wrong gradient then fails), and mtb's answer made worse (a
 * ridge on its problem, --options) fails. UPGrad beyond the runner's exact enumeration
 * (T > 12) is judged against its coordinate-descent solve. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "golden_fixture_testutil.h"
#include "io_testutil.h"

/* Coordinate descent on f(a) = a^T A a / 2 - sum log a (the root of A_ii a_i^2 + b_i a_i = 1
 * per coordinate) until max_t |A a - 1/a|_t / max(|A a|, |1/a|) <= stop. Returns it. */
static double alpha1_cd(const double *A, int T, double stop, double *a)
{
    for (int t = 0; t < T; t++)
        a[t] = 1.0 / sqrt(A[t * T + t]);
    double res = INFINITY;
    for (long sweep = 0; sweep < 1000000 && !(res <= stop); sweep++) {
        for (int i = 0; i < T; i++) {
            double b = 0.0;
            for (int j = 0; j < T; j++)
                b += j == i ? 0.0 : A[i * T + j] * a[j];
            a[i] = (sqrt(b * b + 4.0 * A[i * T + i]) - b) / (2.0 * A[i * T + i]);
        }
        double r = 0.0, big = 0.0;
        for (int i = 0; i < T; i++) {
            double Aa = 0.0;
            for (int j = 0; j < T; j++)
                Aa += A[i * T + j] * a[j];
            r = fmax(r, fabs(Aa - 1.0 / a[i]));
            big = fmax(big, fmax(fabs(Aa), 1.0 / a[i]));
        }
        res = r / big;
    }
    return res;
}

/* Per step: a from alpha1_cd(stop), grad = G^T a, scaled by min(1, 1 / (|G^T a| + 1e-6))
 * when clip (torch's clip_grad_norm_ with max_norm 1, LibMTL's Nash-MTL); returns a. */
static void alpha1_reference(int T, int d, int S, const double *G, double stop, int clip,
                             double *grad, double *w)
{
    double *A = malloc(sizeof(double) * T * T);
    cr_assert(A);
    for (int s = 0; s < S; s++) {
        const double *Gs = G + (size_t)s * T * d;
        for (int i = 0; i < T; i++)
            for (int j = 0; j < T; j++) {
                double acc = 0.0;
                for (int c = 0; c < d; c++)
                    acc += Gs[i * d + c] * Gs[j * d + c];
                A[i * T + j] = acc;
            }
        double *a = w + (size_t)s * T, *g = grad + (size_t)s * d, n2 = 0.0;
        double res = alpha1_cd(A, T, stop, a);
        cr_assert_leq(res, stop, "the test's reference did not reach %g (%g)", stop, res);
        for (int c = 0; c < d; c++) {
            g[c] = 0.0;
            for (int t = 0; t < T; t++)
                g[c] += a[t] * Gs[t * d + c];
            n2 += g[c] * g[c];
        }
        double f = clip ? fmin(1.0, 1.0 / (sqrt(n2) + 1e-6)) : 1.0;
        for (int c = 0; c < d; c++)
            g[c] *= f;
    }
    free(A);
}

#define ROUGH 1e-4  /* an early-stopped solver's residual */
#define EXACT 1e-14 /* optimal to rounding */

/* The fixture references (reference_fn): FairGrad returns w, Nash-MTL alpha with its
 * gradient clipped; each rough (an early-stopped solver) or exact. */
#define ALPHA1_REFERENCE(name, stop, clip)                                                   \
    static void name(int T, int d, int S, const double *L, const double *G,                \
                     const int64_t *perm, int pl, double *grad, double *w)                 \
    {                                                                                       \
        (void)L, (void)perm, (void)pl;                                                      \
        alpha1_reference(T, d, S, G, stop, clip, grad, w);                                  \
    }
ALPHA1_REFERENCE(ref_fairgrad_rough, ROUGH, 0)
ALPHA1_REFERENCE(ref_fairgrad_exact, EXACT, 0)
ALPHA1_REFERENCE(ref_nash_rough, ROUGH, 1)
ALPHA1_REFERENCE(ref_nash_exact, EXACT, 1)

static int count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p++)
        n++;
    return n;
}

static const double scale6[6] = {1000.0, 1.0, 0.03, 5.0, 0.2, 1.0};
static const fixture_case rank_deficient[] = {{"T5_d3", 5, 3, 3}};
static const fixture_case both_shapes[] = {{"T5_d3", 5, 3, 3}, {"T3_d5", 3, 5, 3}};

Test(golden_optimality, suboptimal_references_pass_on_optimality_also_with_T_above_d)
{
    char dir[IO_TMP_LEN], p[IO_PATH_LEN], last[512], out[8192];
    io_tmpdir(dir);
    const fixture_case cag[] = {{"scale1000_T6_d3", 6, 3, 3}};
    write_fixture(io_path(p, dir, "CAGrad.h5"),
                  &(fixture_spec){.method = "CAGrad", .ref = ref_cagrad_start, .scale = scale6},
                  cag, 1);
    write_fixture(io_path(p, dir, "FairGrad.h5"),
                  &(fixture_spec){.method = "FairGrad", .ref = ref_fairgrad_rough, .offset = 4.0},
                  both_shapes, 2);
    write_fixture(io_path(p, dir, "Nash_MTL.h5"),
                  &(fixture_spec){.method = "Nash_MTL", .ref = ref_nash_rough, .offset = 4.0},
                  both_shapes, 2);
    int rc = run_golden_all(dir, last, sizeof last, out, sizeof out);
    cr_assert_str_eq(last, "5 passed, 0 failed\n", "%s", out);
    cr_assert_eq(rc, 0);
    /* every case on optimality, with mtb's and LibMTL's numbers on its line; at every step
     * but for Nash-MTL with T > d, whose clipped gradient (a unit vector there) can agree to
     * 1e-6 while its weights, not compared when T > d, do not */
    cr_assert_eq(count(out, " steps: mtb's KKT residual up to "), 5, "%s", out);
    cr_assert_eq(count(out, "passes on optimality at 3 of 3 steps"), 4, "%s", out);
    cr_assert_eq(count(out, "[kkt/gap: mtb="), 5, "%s", out);
    cr_assert(strstr(out, "PASS Nash_MTL/T5_d3"), "%s", out);
    io_rmtree(dir);
}

/* A reference that solves the problem exactly is not "measurably worse": a wrong gradient
 * beside it fails, with the optimality numbers in the reason. */
Test(golden_optimality, an_exact_reference_is_not_overruled)
{
    char dir[IO_TMP_LEN], p[IO_PATH_LEN], last[512], out[8192];
    io_tmpdir(dir);
    write_fixture(io_path(p, dir, "FairGrad.h5"),
                  &(fixture_spec){.method = "FairGrad", .ref = ref_fairgrad_exact, .offset = 4.0,
                                  .corrupt = 1e-3},
                  rank_deficient, 1);
    write_fixture(io_path(p, dir, "Nash_MTL.h5"),
                  &(fixture_spec){.method = "Nash_MTL", .ref = ref_nash_exact, .offset = 4.0,
                                  .corrupt = 1e-3},
                  rank_deficient, 1);
    int rc = run_golden_all(dir, last, sizeof last, out, sizeof out);
    cr_assert_str_eq(last, "0 passed, 2 failed\n", "%s", out);
    cr_assert_neq(rc, 0);
    cr_assert_eq(count(out, "grad off at step 2, not a pass on optimality"), 2, "%s", out);
    /* uncorrupted, the same exact references agree */
    io_rmtree(dir);
    io_tmpdir(dir);
    write_fixture(io_path(p, dir, "Nash_MTL.h5"),
                  &(fixture_spec){.method = "Nash_MTL", .ref = ref_nash_exact, .offset = 4.0},
                  both_shapes, 2);
    rc = run_golden_all(dir, last, sizeof last, out, sizeof out);
    cr_assert_str_eq(last, "2 passed, 0 failed\n", "%s", out);
    cr_assert(!strstr(out, "passes on optimality"), "%s", out);
    io_rmtree(dir);
}

/* mtb's answer made worse (a ridge of 1e-2 mean(diag A) on its problem, through --options):
 * its KKT residual exceeds the tolerance, so the rough references no longer lose to it. */
Test(golden_optimality, a_worse_mtb_answer_fails)
{
    char dir[IO_TMP_LEN], p[IO_PATH_LEN], last[512], out[8192];
    io_tmpdir(dir);
    write_fixture(io_path(p, dir, "FairGrad.h5"),
                  &(fixture_spec){.method = "FairGrad", .ref = ref_fairgrad_rough, .offset = 4.0},
                  both_shapes, 2);
    write_fixture(io_path(p, dir, "Nash_MTL.h5"),
                  &(fixture_spec){.method = "Nash_MTL", .ref = ref_nash_rough, .offset = 4.0},
                  both_shapes, 2);
    int rc = run_golden_args(dir, "--options ridge=0.01", last, sizeof last, out, sizeof out);
    cr_assert_str_eq(last, "0 passed, 4 failed\n", "%s", out);
    cr_assert_neq(rc, 0);
    cr_assert_eq(count(out, "not a pass on optimality: mtb's KKT residual"), 4, "%s", out);
    /* the same directory without the ridge passes: the ridge is what failed it */
    rc = run_golden_all(dir, last, sizeof last, out, sizeof out);
    cr_assert_str_eq(last, "4 passed, 0 failed\n", "%s", out);
    /* --options replaces a key the entry sets instead of giving it twice */
    rc = run_golden_args(dir, "--only FairGrad --options alpha=1,max_iter=200", last,
                         sizeof last, out, sizeof out);
    cr_assert_str_eq(last, "2 passed, 0 failed\n", "%s", out);
    io_rmtree(dir);
}

/* UPGrad with T = 14 > 12 tasks and T > d: the runner solves the T QPs by coordinate descent
 * with an exactly solved, checked active set (golden_reference.c), not mtb's solver. A
 * reference far from UPGrad's answer (equal weighting's ones) passes on optimality only
 * because mtb's weights match that independent solution (to 1e-10 relative); with mtb's
 * answer made worse (reg_eps 1e-2 instead of LibMTL's 1e-4) the case fails. */
Test(golden_optimality, upgrad_beyond_the_enumeration_is_judged_by_its_own_solve)
{
    char dir[IO_TMP_LEN], p[IO_PATH_LEN], last[512], out[8192];
    io_tmpdir(dir);
    const fixture_case cs[] = {{"T14_d8", 14, 8, 2}, {"T14_d64", 14, 64, 2}};
    write_fixture(io_path(p, dir, "UPGrad.h5"),
                  &(fixture_spec){.method = "UPGrad", .ref = ref_ew}, cs, 2);
    int rc = run_golden_all(dir, last, sizeof last, out, sizeof out);
    cr_assert_str_eq(last, "2 passed, 0 failed\n", "%s", out);
    cr_assert_eq(rc, 0);
    cr_assert_eq(count(out, "passes on optimality at 2 of 2 steps"), 2, "%s", out);
    rc = run_golden_args(dir, "--options reg_eps=0.01", last, sizeof last, out, sizeof out);
    cr_assert_str_eq(last, "0 passed, 2 failed\n", "%s", out);
    cr_assert_eq(count(out, "not a pass on optimality"), 2, "%s", out);
    io_rmtree(dir);
}
