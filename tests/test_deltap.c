/* test_deltap.c: Delta-p (mtb/deltap.h) on hand-computed cases, then against the printed
 * tables of two papers, then the seed-paired statistics.
 *
 * The table tests are the unit test on the Delta-p convention that spec rlw.md
 * sec. 2 asks for: every row's Delta-p is recomputed from the printed metrics and the
 * printed reference row. They pin down three choices at once: the sign (DB-MTL Eq. 2, not
 * the exponent printed in the RLW ICLR text, erratum E1), averaging within a task before
 * averaging tasks (N_t), and which row is the reference (EW in ICLR, STL in DB-MTL). The
 * wrong choice of each is checked to fail. */
#include <criterion/criterion.h>
#include <math.h>
#include <stddef.h>

#include "mtb/deltap.h"

/* Exact-arithmetic cases: inputs are chosen so that only a few roundings occur. */
#define TIGHT 1e-12

/* ---- hand-computed cases ---------------------------------------------------------- */

Test(deltap, one_metric_per_task_and_direction)
{
    /* Task 0 (higher better): 10 -> 11 is +10 %. Task 1 (lower better): 1.0 -> 0.9 is
     * +10 % too (an error went down). Delta-p = (10 + 10) / 2 = 10. */
    const double M[] = {11.0, 0.9}, R[] = {10.0, 1.0};
    const int hb[] = {1, 0};
    double per[2];
    double d = mtb_delta_p(2, M, R, hb, NULL, 2, per);
    cr_assert(fabs(d - 10.0) < TIGHT, "got %.15g", d);
    cr_assert(fabs(per[0] - 10.0) < TIGHT && fabs(per[1] - 10.0) < TIGHT, "%g %g", per[0], per[1]);

    /* Flipping both directions flips both signs. */
    const int hb_flip[] = {0, 1};
    d = mtb_delta_p(2, M, R, hb_flip, NULL, 2, per);
    cr_assert(fabs(d + 10.0) < TIGHT, "got %.15g", d);
    cr_assert(fabs(per[0] + 10.0) < TIGHT && fabs(per[1] + 10.0) < TIGHT);

    /* Any non-zero higher_better flag counts as "higher is better". */
    const int hb_truthy[] = {7, 0};
    cr_assert(fabs(mtb_delta_p(2, M, R, hb_truthy, NULL, 2, NULL) - 10.0) < TIGHT);

    /* The reference against itself is exactly 0. */
    cr_assert(mtb_delta_p(2, R, R, hb, NULL, 2, NULL) == 0.0);
}

Test(deltap, several_metrics_per_task_average_within_the_task_first)
{
    /* Task 0 has two metrics: 10 -> 12 higher better (+20 %), 10 -> 9 lower better (+10 %),
     * so Delta-p_0 = 15. Task 1 has one: 4 -> 2 higher better, -50 %. Delta-p =
     * (15 - 50) / 2 = -17.5, not the flat metric mean (20 + 10 - 50) / 3 = -6.67. */
    const double M[] = {12.0, 9.0, 2.0}, R[] = {10.0, 10.0, 4.0};
    const int hb[] = {1, 0, 1}, task_of[] = {0, 0, 1};
    double per[2];
    double d = mtb_delta_p(3, M, R, hb, task_of, 2, per);
    cr_assert(fabs(d + 17.5) < TIGHT, "got %.15g", d);
    cr_assert(fabs(per[0] - 15.0) < TIGHT, "per[0] %.15g", per[0]);
    cr_assert(fabs(per[1] + 50.0) < TIGHT, "per[1] %.15g", per[1]);

    /* Metrics need not be contiguous per task: interleave them and renumber the tasks. */
    const double M2[] = {2.0, 9.0, 12.0}, R2[] = {4.0, 10.0, 10.0};
    const int hb2[] = {1, 0, 1}, task_of2[] = {1, 0, 0};
    double per2[2];
    double d2 = mtb_delta_p(3, M2, R2, hb2, task_of2, 2, per2);
    cr_assert(fabs(d2 - d) < TIGHT && fabs(per2[0] - per[0]) < TIGHT && fabs(per2[1] - per[1]) < TIGHT);

    /* The result is the mean of per_task. */
    const double M3[] = {1.5, 3.0, 5.0, 4.0, 0.5}, R3[] = {2.0, 2.0, 4.0, 8.0, 1.0};
    const int hb3[] = {1, 0, 1, 0, 1}, task_of3[] = {2, 0, 1, 2, 0};
    double per3[3];
    double d3 = mtb_delta_p(5, M3, R3, hb3, task_of3, 3, per3);
    /* task 0: metric 1 (2 -> 3, lower better) -50 %, metric 4 (1 -> 0.5, higher) -50 %: -50
     * task 1: metric 2 (4 -> 5, higher) +25 %: 25
     * task 2: metric 0 (2 -> 1.5, higher) -25 %, metric 3 (8 -> 4, lower) +50 %: 12.5 */
    cr_assert(fabs(per3[0] + 50.0) < TIGHT && fabs(per3[1] - 25.0) < TIGHT &&
              fabs(per3[2] - 12.5) < TIGHT, "%g %g %g", per3[0], per3[1], per3[2]);
    cr_assert(fabs(d3 - (-50.0 + 25.0 + 12.5) / 3.0) < TIGHT, "got %.15g", d3);
}

Test(deltap, negative_reference_uses_the_signed_relative_change)
{
    /* Eq. 2 divides by R itself, not |R|: a score that goes from -4 to -2 (higher better)
     * gives (-2 + 4) / -4 = -50 %. Recorded so that a switch to |R| is a deliberate choice. */
    const double M[] = {-2.0}, R[] = {-4.0};
    const int hb[] = {1};
    cr_assert(fabs(mtb_delta_p(1, M, R, hb, NULL, 1, NULL) + 50.0) < TIGHT);
}

Test(deltap, undefined_cases_return_nan)
{
    const double M[] = {1.0, 2.0, 3.0}, R[] = {1.0, 2.0, 3.0};
    const int hb[] = {1, 0, 1}, task_of[] = {0, 1, 1};
    double per[3] = {7, 7, 7};

    /* sanity: the valid call */
    cr_assert(mtb_delta_p(3, M, R, hb, task_of, 2, per) == 0.0);

    const double R_zero[] = {1.0, 0.0, 3.0}, R_nan[] = {1.0, NAN, 3.0}, R_inf[] = {INFINITY, 2.0, 3.0};
    const double M_nan[] = {1.0, 2.0, NAN};
    per[0] = per[1] = 7;
    cr_assert(isnan(mtb_delta_p(3, M, R_zero, hb, task_of, 2, per)), "zero reference");
    cr_assert(isnan(per[0]) && isnan(per[1]), "per_task must be NAN on failure");
    cr_assert(isnan(mtb_delta_p(3, M, R_nan, hb, task_of, 2, NULL)), "NaN reference");
    cr_assert(isnan(mtb_delta_p(3, M, R_inf, hb, task_of, 2, NULL)), "Inf reference");
    cr_assert(isnan(mtb_delta_p(3, M_nan, R, hb, task_of, 2, NULL)), "NaN metric");

    /* task 2 has no metric */
    per[0] = per[1] = per[2] = 7;
    cr_assert(isnan(mtb_delta_p(3, M, R, hb, task_of, 3, per)), "empty task");
    cr_assert(isnan(per[0]) && isnan(per[1]) && isnan(per[2]));

    /* task index out of range, both ends */
    const int out_hi[] = {0, 2, 1}, out_lo[] = {0, -1, 1};
    cr_assert(isnan(mtb_delta_p(3, M, R, hb, out_hi, 2, NULL)), "task_of = T");
    cr_assert(isnan(mtb_delta_p(3, M, R, hb, out_lo, 2, NULL)), "task_of = -1");

    /* n = 0, T < 1, and task_of NULL with T != n */
    cr_assert(isnan(mtb_delta_p(0, M, R, hb, task_of, 2, NULL)), "n = 0");
    cr_assert(isnan(mtb_delta_p(3, M, R, hb, task_of, 0, NULL)), "T = 0");
    cr_assert(isnan(mtb_delta_p(3, M, R, hb, task_of, -1, NULL)), "T = -1");
    cr_assert(isnan(mtb_delta_p(3, M, R, hb, NULL, 2, NULL)), "no task map, T != n");
    cr_assert(mtb_delta_p(3, M, R, hb, NULL, 3, NULL) == 0.0, "no task map, T = n");
}

/* ---- the papers' printed tables ------------------------------------------------------- */

/* NYUv2, 9 metrics in the tables' column order: segmentation mIoU, pixel accuracy; depth
 * absolute and relative error; normals mean and median angle error, % within 11.25, 22.5,
 * 30 degrees. Tasks {2, 2, 5} metrics. */
#define NYU_N 9
static const int nyu_hb[NYU_N] = {1, 1, 0, 0, 0, 0, 1, 1, 1};
static const int nyu_task[NYU_N] = {0, 0, 1, 1, 2, 2, 2, 2, 2};

typedef struct nyu_row {
    const char *name;
    double m[NYU_N];
    double dp; /* printed Delta-p, % */
} nyu_row;

/* RLW ICLR-2022 submission ("A closer look at loss weighting"), Table 1, NYUv2 validation.
 * Reference row: EW (sec. 5.3 measures the improvement over EW). Delta-t column left out. */
static const nyu_row iclr_t1[] = {
    {"EW", {53.91, 75.56, 0.3840, 0.1567, 23.6338, 17.2451, 34.94, 60.65, 71.81}, +0.00},
    {"GradNorm", {53.81, 75.35, 0.3863, 0.1556, 23.6106, 17.2565, 34.98, 60.58, 71.76}, -0.06},
    {"UW", {53.15, 75.41, 0.3817, 0.1576, 23.6487, 17.2040, 34.98, 60.71, 71.80}, -0.24},
    {"MGDA", {53.66, 75.37, 0.3864, 0.1610, 23.4757, 16.9912, 35.44, 61.17, 72.16}, -0.35},
    {"DWA", {53.33, 75.42, 0.3834, 0.1556, 23.5806, 17.1242, 35.18, 60.88, 71.91}, +0.07},
    {"PCGrad", {53.34, 75.43, 0.3857, 0.1600, 23.2293, 16.6966, 36.09, 61.80, 72.66}, +0.12},
    {"GradDrop", {53.80, 75.56, 0.3857, 0.1587, 23.8726, 17.1406, 35.10, 60.72, 71.60}, -0.33},
    {"IMTL", {52.90, 74.88, 0.3883, 0.1632, 23.0534, 16.5304, 36.30, 62.20, 73.08}, -0.35},
    {"GradVac", {53.52, 75.43, 0.3840, 0.1559, 23.2892, 16.8601, 35.67, 61.53, 72.46}, +0.48},
    {"RLW (Uniform)", {54.09, 75.78, 0.3826, 0.1563, 23.6272, 17.2711, 34.73, 60.67, 71.87}, +0.17},
    {"RLW (Normal)", {54.19, 75.98, 0.3789, 0.1570, 23.1984, 16.7944, 35.71, 61.74, 72.77}, +1.02},
    {"RLW (Dirichlet)", {53.54, 75.45, 0.3834, 0.1547, 23.6392, 17.0715, 35.28, 60.92, 71.88}, +0.27},
    {"RLW (Bernoulli)", {53.72, 75.62, 0.3850, 0.1610, 23.1413, 16.6591, 36.08, 61.98, 72.86}, +0.28},
    {"RLW (constrained Bernoulli)", {54.32, 75.78, 0.3779, 0.1533, 23.2101, 16.9354, 35.41, 61.44, 72.58}, +1.29},
    {"RLW (random Normal)", {54.08, 75.77, 0.3815, 0.1581, 23.5598, 16.9577, 35.53, 61.20, 72.13}, +0.39},
};
#define ICLR_T1_ROWS (sizeof iclr_t1 / sizeof iclr_t1[0])

/* DB-MTL (Lin et al., "Dual-Balancing for Multi-Task Learning"), Table 1, NYUv2 with 3
 * tasks. Reference row: STL (Eq. 2). The printed Delta-p is the mean over 3 seeds; its
 * +- std is left out. */
static const nyu_row dbmtl_t1[] = {
    {"STL", {53.50, 75.39, 0.3926, 0.1605, 21.99, 15.16, 39.04, 65.00, 75.16}, 0.00},
    {"EW", {53.93, 75.53, 0.3825, 0.1577, 23.57, 17.01, 35.04, 60.99, 72.05}, -1.78},
    {"GLS", {54.59, 76.06, 0.3785, 0.1555, 22.71, 16.07, 36.89, 63.11, 73.81}, +0.30},
    {"RLW", {54.04, 75.58, 0.3827, 0.1588, 23.07, 16.49, 36.12, 62.08, 72.94}, -1.10},
    {"UW", {54.29, 75.64, 0.3815, 0.1583, 23.48, 16.92, 35.26, 61.17, 72.21}, -1.52},
    {"DWA", {54.06, 75.64, 0.3820, 0.1564, 23.70, 17.11, 34.90, 60.74, 71.81}, -1.71},
    {"IMTL-L", {53.89, 75.54, 0.3834, 0.1591, 23.54, 16.98, 35.09, 61.06, 72.12}, -1.92},
    {"IGBv2", {54.61, 76.00, 0.3817, 0.1576, 22.68, 15.98, 37.14, 63.25, 73.87}, +0.05},
    {"MGDA", {53.52, 74.76, 0.3852, 0.1566, 22.74, 16.00, 37.12, 63.22, 73.84}, -0.64},
    {"GradNorm", {53.91, 75.38, 0.3842, 0.1571, 23.17, 16.62, 35.80, 61.90, 72.84}, -1.24},
    {"PCGrad", {53.94, 75.62, 0.3804, 0.1578, 23.52, 16.93, 35.19, 61.17, 72.19}, -1.57},
    {"GradDrop", {53.73, 75.54, 0.3837, 0.1580, 23.54, 16.96, 35.17, 61.06, 72.07}, -1.85},
    {"GradVac", {54.21, 75.67, 0.3859, 0.1583, 23.58, 16.91, 35.34, 61.15, 72.10}, -1.75},
    {"IMTL-G", {53.01, 75.04, 0.3888, 0.1603, 23.08, 16.43, 36.24, 62.23, 73.06}, -1.89},
    {"CAGrad", {53.97, 75.54, 0.3885, 0.1588, 22.47, 15.71, 37.77, 63.82, 74.30}, -0.27},
    {"MTAdam", {52.67, 74.86, 0.3873, 0.1583, 23.26, 16.55, 36.00, 61.92, 72.74}, -1.97},
    {"Nash-MTL", {53.41, 74.95, 0.3867, 0.1612, 22.57, 15.94, 37.30, 63.40, 74.09}, -1.01},
    {"MetaBalance", {53.92, 75.57, 0.3901, 0.1594, 22.85, 16.16, 36.72, 62.91, 73.62}, -1.06},
    {"MoCo", {52.25, 74.56, 0.3920, 0.1622, 22.82, 16.24, 36.58, 62.72, 73.49}, -2.25},
    {"Aligned-MTL", {52.94, 75.00, 0.3884, 0.1570, 22.65, 16.07, 36.88, 63.18, 73.94}, -0.98},
    {"IMTL", {53.63, 75.44, 0.3868, 0.1592, 22.58, 15.85, 37.44, 63.52, 74.09}, -0.57},
    {"DB-MTL", {53.92, 75.60, 0.3768, 0.1557, 21.97, 15.37, 38.43, 64.81, 75.24}, +1.15},
};
#define DBMTL_T1_ROWS (sizeof dbmtl_t1 / sizeof dbmtl_t1[0])

/* Cityscapes, 4 metrics: segmentation mIoU, pixel accuracy (up); depth absolute error,
 * relative error (down). Tasks {2, 2}. */
#define CITY_N 4
static const int city_hb[CITY_N] = {1, 1, 0, 0};
static const int city_task[CITY_N] = {0, 0, 1, 1};

typedef struct city_row {
    const char *name;
    double m[CITY_N];
    double dp;         /* printed Delta-p_STL, % */
    double known_gap;  /* 0, or the recomputed-minus-printed gap of a row that does not match */
} city_row;

/* Recomputed minus printed Delta-p for DB-MTL's MTAdam row on Cityscapes: -2.6359 vs -2.74.
 * Rounding of the printed metrics moves Delta-p by at most ~0.035 (the 5-digit depth
 * AbsErr dominates: 0.5e-5 / 0.0128 / 4 per row, twice with STL), so the gap is not
 * rounding; a depth AbsErr of ~0.01345 instead of the printed 0.01340 would close it. Not
 * tuned away: asserted at its size, so a change in either the data or the code shows up. */
#define MTADAM_CITY_GAP 0.1041

/* DB-MTL, Table 2, Cityscapes with 2 tasks (rlw.md sec. 2 files it under "DB-MTL Table 1";
 * in the paper it is Table 2). Reference row: STL. */
static const city_row dbmtl_t2[] = {
    {"STL", {69.06, 91.54, 0.01282, 43.53}, 0.00, 0},
    {"EW", {68.93, 91.58, 0.01315, 45.90}, -2.05, 0},
    {"GLS", {68.69, 91.45, 0.01280, 44.13}, -0.39, 0},
    {"RLW", {69.03, 91.57, 0.01343, 44.77}, -1.91, 0},
    {"UW", {69.03, 91.61, 0.01338, 45.89}, -2.45, 0},
    {"DWA", {68.97, 91.58, 0.01350, 45.10}, -2.24, 0},
    {"IMTL-L", {68.98, 91.59, 0.01340, 45.32}, -2.15, 0},
    {"IGBv2", {68.44, 91.31, 0.01290, 45.03}, -1.31, 0},
    {"MGDA", {69.05, 91.53, 0.01280, 44.07}, -0.19, 0},
    {"GradNorm", {68.97, 91.60, 0.01320, 44.88}, -1.55, 0},
    {"PCGrad", {68.95, 91.58, 0.01342, 45.54}, -2.36, 0},
    {"GradDrop", {68.85, 91.54, 0.01354, 44.49}, -2.02, 0},
    {"GradVac", {68.98, 91.58, 0.01322, 46.43}, -2.45, 0},
    {"IMTL-G", {69.04, 91.54, 0.01280, 44.30}, -0.46, 0},
    {"CAGrad", {68.95, 91.60, 0.01281, 45.04}, -0.87, 0},
    {"MTAdam", {68.43, 91.26, 0.01340, 45.62}, -2.74, MTADAM_CITY_GAP}, /* does not match */
    {"Nash-MTL", {68.88, 91.52, 0.01265, 45.92}, -1.11, 0},
    {"MetaBalance", {69.02, 91.56, 0.01270, 45.91}, -1.18, 0},
    {"MoCo", {69.62, 91.76, 0.01360, 45.50}, -2.40, 0},
    {"Aligned-MTL", {69.00, 91.59, 0.01270, 44.54}, -0.43, 0},
    {"IMTL", {69.07, 91.55, 0.01280, 44.06}, -0.32, 0},
    {"DB-MTL", {69.17, 91.56, 0.01280, 43.46}, +0.20, 0},
};
#define DBMTL_T2_ROWS (sizeof dbmtl_t2 / sizeof dbmtl_t2[0])

/* ICLR Table 1 prints Delta-p to 2 decimals (+-0.005) from metrics printed to 4-6 digits;
 * every row was measured within 0.0049 of its printed value (rlw.md sec. 2: +-0.006). */
#define ICLR_TOL 0.006
/* DB-MTL prints the mean of per-seed Delta-p over 3 seeds, and rounds: NYUv2 rows are
 * within 0.0125 (Nash-MTL), Cityscapes rows within 0.088 (MGDA) except MTAdam (rlw.md). */
#define DBMTL_NYU_TOL 0.02
#define DBMTL_CITY_TOL 0.10
/* Slack on the known MTAdam gap: the value is recorded to 4 decimals. */
#define GAP_TOL 0.0005

Test(deltap_tables, iclr_table1_nyuv2_against_ew)
{
    const double *ref = iclr_t1[0].m; /* EW */
    double worst = 0.0;
    for (size_t r = 0; r < ICLR_T1_ROWS; r++) {
        double per[3];
        double d = mtb_delta_p(NYU_N, iclr_t1[r].m, ref, nyu_hb, nyu_task, 3, per);
        double gap = fabs(d - iclr_t1[r].dp);
        cr_expect(gap <= ICLR_TOL, "ICLR Table 1 %s: recomputed %+.4f, printed %+.2f", iclr_t1[r].name,
                  d, iclr_t1[r].dp);
        cr_expect(fabs(d - (per[0] + per[1] + per[2]) / 3.0) < TIGHT);
        if (gap > worst)
            worst = gap;
    }
    cr_assert(worst <= ICLR_TOL, "worst row off by %.4f", worst);
}

/* Erratum E1: the ICLR text sets the exponent to 1 for higher-is-better metrics, i.e. it
 * swaps s_i. Under that reading every row changes sign, and none of the 14 non-reference
 * rows (|Delta-p| >= 0.06, so the gap is >= 0.12) matches the table. */
Test(deltap_tables, iclr_printed_exponent_does_not_match)
{
    int hb_inv[NYU_N];
    for (int i = 0; i < NYU_N; i++)
        hb_inv[i] = !nyu_hb[i];
    const double *ref = iclr_t1[0].m;
    int matches = 0;
    for (size_t r = 1; r < ICLR_T1_ROWS; r++) {
        double d = mtb_delta_p(NYU_N, iclr_t1[r].m, ref, nyu_hb, nyu_task, 3, NULL);
        double d_inv = mtb_delta_p(NYU_N, iclr_t1[r].m, ref, hb_inv, nyu_task, 3, NULL);
        cr_expect(fabs(d_inv + d) < TIGHT, "%s: inverted sign should negate", iclr_t1[r].name);
        matches += fabs(d_inv - iclr_t1[r].dp) <= ICLR_TOL;
    }
    cr_assert(matches == 0, "%d rows match the inverted convention", matches);
}

/* The N_t grouping matters: the flat mean over the 9 metrics (every metric its own task)
 * misses every non-reference row of ICLR Table 1 (the closest, constrained Bernoulli, by
 * 0.057). */
Test(deltap_tables, iclr_flat_metric_mean_does_not_match)
{
    const double *ref = iclr_t1[0].m;
    int matches = 0;
    for (size_t r = 1; r < ICLR_T1_ROWS; r++) {
        double d = mtb_delta_p(NYU_N, iclr_t1[r].m, ref, nyu_hb, NULL, NYU_N, NULL);
        matches += fabs(d - iclr_t1[r].dp) <= ICLR_TOL;
    }
    cr_assert(matches == 0, "%d rows match the flat metric mean", matches);
}

Test(deltap_tables, dbmtl_table1_nyuv2_against_stl)
{
    const double *ref = dbmtl_t1[0].m; /* STL */
    double worst = 0.0;
    for (size_t r = 0; r < DBMTL_T1_ROWS; r++) {
        double d = mtb_delta_p(NYU_N, dbmtl_t1[r].m, ref, nyu_hb, nyu_task, 3, NULL);
        double gap = fabs(d - dbmtl_t1[r].dp);
        cr_expect(gap <= DBMTL_NYU_TOL, "DB-MTL Table 1 %s: recomputed %+.4f, printed %+.2f",
                  dbmtl_t1[r].name, d, dbmtl_t1[r].dp);
        if (gap > worst)
            worst = gap;
    }
    cr_assert(worst <= DBMTL_NYU_TOL, "worst row off by %.4f", worst);

    /* The reference row matters: against EW (ICLR's choice) the EW row would read 0, not
     * the printed -1.78. */
    const double d_ew = mtb_delta_p(NYU_N, dbmtl_t1[1].m, dbmtl_t1[1].m, nyu_hb, nyu_task, 3, NULL);
    cr_assert(fabs(d_ew - dbmtl_t1[1].dp) > 1.0);
}

Test(deltap_tables, dbmtl_table2_cityscapes_against_stl)
{
    const double *ref = dbmtl_t2[0].m; /* STL */
    double worst = 0.0;
    int known = 0;
    for (size_t r = 0; r < DBMTL_T2_ROWS; r++) {
        double d = mtb_delta_p(CITY_N, dbmtl_t2[r].m, ref, city_hb, city_task, 2, NULL);
        double signed_gap = d - dbmtl_t2[r].dp;
        if (dbmtl_t2[r].known_gap != 0.0) {
            /* The one row that does not reproduce: pin its gap, so the test still fails if
             * it moves (and shows when it would pass). */
            known++;
            cr_expect(fabs(signed_gap - dbmtl_t2[r].known_gap) <= GAP_TOL,
                      "DB-MTL Table 2 %s: gap %+.4f, recorded %+.4f", dbmtl_t2[r].name, signed_gap,
                      dbmtl_t2[r].known_gap);
            cr_expect(fabs(signed_gap) > DBMTL_CITY_TOL, "%s now matches: drop its known gap",
                      dbmtl_t2[r].name);
            continue;
        }
        cr_expect(fabs(signed_gap) <= DBMTL_CITY_TOL, "DB-MTL Table 2 %s: recomputed %+.4f, printed %+.2f",
                  dbmtl_t2[r].name, d, dbmtl_t2[r].dp);
        if (fabs(signed_gap) > worst)
            worst = fabs(signed_gap);
    }
    cr_assert(known == 1);
    cr_assert(worst <= DBMTL_CITY_TOL, "worst row off by %.4f", worst);
}

/* ---- paired seed statistics ------------------------------------------------------------ */

/* Published t-table value t_{0.975, 4} = 2.776, rounded to 3 decimals (true 2.77645). */
#define T975_4 2.776
#define T_TABLE_TOL 5e-4

Test(deltap_paired, hand_values_n5)
{
    /* b carries a large seed effect shared with a; the differences are
     * d = (0.5, 1.5, -0.5, 1.0, 2.5): mean 1, squared deviations 0.25 + 0.25 + 2.25 + 0 +
     * 2.25 = 5, sample variance 5/4, std sqrt(1.25), std / sqrt(5) = 0.5 exactly, so
     * ci95 = t_{0.975, 4} * 0.5. */
    const double b[] = {10.0, -20.0, 35.0, 0.0, 7.0};
    const double a[] = {10.5, -18.5, 34.5, 1.0, 9.5};
    mtb_stats_summary s = mtb_stats_paired_diff(a, b, 5);
    cr_assert(s.n == 5);
    cr_assert(fabs(s.mean - 1.0) < TIGHT, "mean %.15g", s.mean);
    cr_assert(fabs(s.std - sqrt(1.25)) < TIGHT, "std %.15g", s.std);
    cr_assert(fabs(s.ci95 - T975_4 * 0.5) < T_TABLE_TOL * 0.5 + 1e-9, "ci95 %.6f", s.ci95);
    cr_assert(s.min == -0.5 && s.max == 2.5, "min %g max %g", s.min, s.max);

    /* Pairing is the point: the interval of a alone is dominated by the shared seed effect. */
    mtb_stats_summary sa = mtb_stats_summarise(a, 5);
    cr_assert(sa.ci95 > 10.0 * s.ci95, "%g vs %g", sa.ci95, s.ci95); /* 23.7 vs 1.39 */

    /* Order: a - b, not b - a. */
    mtb_stats_summary r = mtb_stats_paired_diff(b, a, 5);
    cr_assert(fabs(r.mean + 1.0) < TIGHT && fabs(r.std - s.std) < TIGHT);
    cr_assert(r.min == -2.5 && r.max == 0.5);
}

Test(deltap_paired, degenerate_inputs)
{
    const double a[] = {3.0, 4.0}, b[] = {1.0, 1.0};
    /* identical runs: zero difference, zero spread */
    mtb_stats_summary z = mtb_stats_paired_diff(a, a, 2);
    cr_assert(z.mean == 0.0 && z.std == 0.0 && z.ci95 == 0.0);
    /* one pair: a mean, no spread */
    mtb_stats_summary one = mtb_stats_paired_diff(a, b, 1);
    cr_assert(one.n == 1 && one.mean == 2.0 && isnan(one.std) && isnan(one.ci95));
    cr_assert(one.min == 2.0 && one.max == 2.0);
    /* no pairs */
    mtb_stats_summary none = mtb_stats_paired_diff(a, b, 0);
    cr_assert(none.n == 0 && isnan(none.mean) && isnan(none.std) && isnan(none.ci95));
}

Test(deltap_paired, many_pairs_match_summarise_of_differences)
{
    /* More pairs than the function's stack buffer: the heap path gives the same summary as
     * summarising the differences directly. */
    enum { N = 300 };
    double a[N], b[N], d[N];
    for (int i = 0; i < N; i++) {
        b[i] = (double)((i * 37) % 101) - 50.0;
        a[i] = b[i] + 0.25 * (double)((i * 13) % 17) - 2.0;
        d[i] = a[i] - b[i];
    }
    mtb_stats_summary s = mtb_stats_paired_diff(a, b, N), want = mtb_stats_summarise(d, N);
    cr_assert(s.n == want.n && s.mean == want.mean && s.std == want.std && s.ci95 == want.ci95 &&
              s.min == want.min && s.max == want.max);
}
