/* blas_selfcheck.c: does the OpenBLAS kernel that runs compute correct matrix products?
 * (mtb_blas_selfcheck, blas_kernel.h)
 *
 * A kernel chosen for a CPU OpenBLAS does not know is only trusted after this check: every
 * product mtb issues is a row-major cblas_sgemm or cblas_dgemm (layer.c, the Gram matrices of
 * the balancers), so both are compared, with each combination of transposed operands, padded
 * leading dimensions, alpha != 1 and beta in {0, -0.5}, against a naive sum in double.
 * beta = 0 cases start from a C full of NaN: BLAS must not read C then, and a kernel that does
 * shows NaN. The shapes run from 1 x 1 x 1 through sizes with remainders in every blocking
 * dimension to one of 1.25 million multiply-adds, past the sizes some targets hand to separate
 * small-matrix kernels, so the blocked GEMM kernel is exercised as well.
 *
 * Tolerance, per entry: |C - C_ref| <= 8 K eps (|alpha| sum_p |a_ip b_pj| + |beta c0_ij|),
 * eps of the type. The classical bound for a dot product of length K is K eps times that sum
 * (Higham, Accuracy and Stability of Numerical Algorithms, 2nd ed., sec. 3.1); the factor 8
 * covers the final alpha and beta steps and blocked summation orders. A wrong kernel (a bad
 * micro-kernel edge case, a missing column) is off by O(1) times the sum, far beyond it. */
#include "mtb/blas_kernel.h"

#include <cblas.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <time.h>

typedef struct shape {
    int M, N, K, pad;
} shape;

/* The last shape is 120 x 100 x 104 = 1.25 M multiply-adds: large enough for the blocked
 * kernel, cheap for the naive reference (a few ms for four transpositions). */
static const shape shapes[] = {
    {1, 1, 1, 0}, {2, 3, 4, 1}, {7, 5, 3, 0}, {17, 33, 9, 3}, {31, 16, 65, 0}, {64, 48, 80, 2},
    {120, 100, 104, 1},
};
#define N_SHAPES (sizeof shapes / sizeof shapes[0])

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Uniform in [-1, 1) with a full float mantissa, rounded to float: both types see the same
 * values, and the products round as in real use. */
static double value(unsigned *s)
{
    *s = *s * 1664525u + 1013904223u;
    return (double)(float)((double)(*s >> 8) / 8388608.0 - 1.0);
}

typedef struct mats {
    double *A, *B, *C0;   /* as stored: op(A) is M x K, op(B) K x N, C is M x N */
    int lda, ldb, ldc;
} mats;

/* The reference alpha op(A) op(B) + beta C0 and its tolerance, in double from the same
 * (float-exact) data both types see. A double sum's own error is at most K eps_double times
 * the magnitude (the bound above), a fraction of either tolerance: one reference serves the
 * sgemm and the dgemm comparison. opA is op(A) as M x K and opBt is op(B) transposed, N x K,
 * so that each entry is a contiguous dot product. */
static void reference(const shape *s, const double *opA, const double *opBt, const mats *m,
                      double alpha, double beta, double *ref, double *mag)
{
    for (int i = 0; i < s->M; i++)
        for (int j = 0; j < s->N; j++) {
            const double *a = opA + (size_t)i * s->K, *b = opBt + (size_t)j * s->K;
            /* four partial sums: independent additions, so the loop is not one long chain */
            double sum[4] = {0}, abs_sum[4] = {0};
            int p = 0;
            for (; p + 4 <= s->K; p += 4)
                for (int u = 0; u < 4; u++) {
                    double t = a[p + u] * b[p + u];
                    sum[u] += t;
                    abs_sum[u] += fabs(t);
                }
            for (; p < s->K; p++) {
                double t = a[p] * b[p];
                sum[0] += t;
                abs_sum[0] += fabs(t);
            }
            double c0 = beta != 0.0 ? m->C0[(size_t)i * m->ldc + j] : 0.0;
            ref[(size_t)i * s->N + j] = alpha * ((sum[0] + sum[1]) + (sum[2] + sum[3])) + beta * c0;
            mag[(size_t)i * s->N + j] =
                fabs(alpha) * ((abs_sum[0] + abs_sum[1]) + (abs_sum[2] + abs_sum[3])) + fabs(beta * c0);
        }
}

/* The worst |C - ref| / tolerance over the entries; INFINITY for a NaN. */
static double compare(const shape *s, const mats *m, const double *C, const double *ref,
                      const double *mag, double eps)
{
    double worst = 0.0;
    for (int i = 0; i < s->M; i++)
        for (int j = 0; j < s->N; j++) {
            double got = C[(size_t)i * m->ldc + j], want = ref[(size_t)i * s->N + j];
            double tol = 8.0 * s->K * eps * mag[(size_t)i * s->N + j] + DBL_MIN;
            if (isnan(got))
                return INFINITY;
            double r = fabs(got - want) / tol;
            if (r > worst)
                worst = r;
        }
    return worst;
}

static mtb_status record(mtb_blas_check *out, double r, const char *routine, int ta, int tb,
                         const shape *s, mtb_error *err)
{
    if (r > out->worst_ratio)
        out->worst_ratio = r;
    out->products++;
    if (r <= 1.0)
        return MTB_OK;
    return mtb_fail(err, MTB_ENUMERIC, "BLAS self-check failed: %s %c%c %dx%dx%d off by %.3g times its "
                    "rounding tolerance", routine, ta ? 'T' : 'N', tb ? 'T' : 'N', s->M, s->N, s->K, r);
}

/* One product in both types. Raises out->worst_ratio, or fails with a message. */
static mtb_status check_one(const shape *s, int ta, int tb, double beta, unsigned *seed,
                            mtb_blas_check *out, mtb_error *err)
{
    const int rowsA = ta ? s->K : s->M, colsA = ta ? s->M : s->K;
    const int rowsB = tb ? s->N : s->K, colsB = tb ? s->K : s->N;
    mats m = {NULL, NULL, NULL, colsA + s->pad, colsB + s->pad, s->N + s->pad};
    const size_t nA = (size_t)rowsA * m.lda, nB = (size_t)rowsB * m.ldb, nC = (size_t)s->M * m.ldc;
    const size_t n = nA + nB + 2 * nC, nMK = (size_t)s->M * s->K, nNK = (size_t)s->N * s->K;
    const size_t nMN = (size_t)s->M * s->N;
    double *d = malloc(sizeof(double) * (n + nMK + nNK + 2 * nMN));
    float *f = malloc(sizeof(float) * n);
    if (!d || !f) {
        free(d), free(f);
        return mtb_fail(err, MTB_ENOMEM, "BLAS self-check: out of memory");
    }
    m.A = d, m.B = d + nA, m.C0 = d + nA + nB;
    double *C = m.C0 + nC, *opA = C + nC, *opBt = opA + nMK, *ref = opBt + nNK, *mag = ref + nMN;
    for (size_t i = 0; i < nA + nB + nC; i++)
        d[i] = value(seed);
    for (size_t i = 0; i < nC; i++) /* beta = 0: C must not be read */
        C[i] = beta != 0.0 ? m.C0[i] : NAN;
    for (size_t i = 0; i < n; i++)
        f[i] = (float)d[i];
    for (int i = 0; i < s->M; i++)
        for (int p = 0; p < s->K; p++)
            opA[(size_t)i * s->K + p] = ta ? m.A[(size_t)p * m.lda + i] : m.A[(size_t)i * m.lda + p];
    for (int j = 0; j < s->N; j++)
        for (int p = 0; p < s->K; p++)
            opBt[(size_t)j * s->K + p] = tb ? m.B[(size_t)j * m.ldb + p] : m.B[(size_t)p * m.ldb + j];
    const double alpha = 0.75;
    reference(s, opA, opBt, &m, alpha, beta, ref, mag);
    const CBLAS_TRANSPOSE TA = ta ? CblasTrans : CblasNoTrans, TB = tb ? CblasTrans : CblasNoTrans;

    cblas_dgemm(CblasRowMajor, TA, TB, s->M, s->N, s->K, alpha, m.A, m.lda, m.B, m.ldb, beta, C, m.ldc);
    mtb_status st = record(out, compare(s, &m, C, ref, mag, DBL_EPSILON), "dgemm", ta, tb, s, err);
    if (!st) {
        float *fC = f + nA + nB + nC;
        cblas_sgemm(CblasRowMajor, TA, TB, s->M, s->N, s->K, (float)alpha, f, m.lda, f + nA, m.ldb,
                    (float)beta, fC, m.ldc);
        for (size_t i = 0; i < nC; i++)
            C[i] = fC[i];
        st = record(out, compare(s, &m, C, ref, mag, FLT_EPSILON), "sgemm", ta, tb, s, err);
    }
    free(d), free(f);
    return st;
}

mtb_status mtb_blas_selfcheck(mtb_blas_check *out, mtb_error *err)
{
    mtb_blas_check local;
    if (!out)
        out = &local;
    out->seconds = 0.0, out->worst_ratio = 0.0, out->products = 0;
    double t0 = now_s();
    unsigned seed = 12345u;
    mtb_status st = MTB_OK;
    for (size_t k = 0; !st && k < N_SHAPES; k++)
        for (int t = 0; !st && t < 4; t++)
            st = check_one(&shapes[k], t & 1, t >> 1, (k + (size_t)t) % 2 ? -0.5 : 0.0, &seed, out, err);
    out->seconds = now_s() - t0;
    return st;
}
