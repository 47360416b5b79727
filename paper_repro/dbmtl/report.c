/* report.c: the report (dbmtl.md sec. 4): sections D1-D12 in order, each with the paper's
 * claim and numbers, our table and figure, the claims with computed verdicts and the errata
 * that touch it. Every number comes from the summaries the subcommands wrote (summary.h) and
 * the tables beside them; the header's provenance from the run files and cost.h5; the wall
 * time from the pipeline. The bands are written next to each claim with their reason. */
#include "dbmtl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../common/claim.h"
#include "../common/report.h"

enum { MAXC = 96 };
static repro_claim C[MAXC];
static const char *SECTION[MAXC]; /* the experiment a claim belongs to */
static int NC;
static repro_scale SC;

static const char *NOT_RUN = "the experiment did not run at this scale";

/* A claim from summary key `key` ("exp.name"); flip: report 1 - value (for cosines). */
static void claim(const char *sec, const char *id, const char *text, double paper, const char *key,
                  double band_lo, double band_hi, const char *reason, unsigned asserts)
{
    if (NC == MAXC)
        die("too many claims");
    double lo, hi, v = repro_summary_get(key, &lo, &hi);
    C[NC] = (repro_claim){id, text, paper, v, lo, hi, band_lo, band_hi, reason, asserts,
                          isfinite(v) ? NULL : NOT_RUN};
    SECTION[NC++] = sec;
}

/* 1 - x of a summary value (cosines: the distance from 1) */
static void claim_one_minus(const char *sec, const char *id, const char *text, const char *key,
                            double band_lo, double band_hi, const char *reason, unsigned asserts)
{
    double v = 1.0 - repro_summary_get(key, NULL, NULL);
    C[NC] = (repro_claim){id, text, NAN, v, v, v, band_lo, band_hi, reason, asserts,
                          isfinite(v) ? NULL : NOT_RUN};
    SECTION[NC++] = sec;
}

/* a ratio of two summary values, as a point */
static void claim_ratio(const char *sec, const char *id, const char *text, const char *ka,
                        const char *kb, double band_lo, double band_hi, const char *reason)
{
    double v = repro_summary_get(ka, NULL, NULL) / repro_summary_get(kb, NULL, NULL);
    C[NC] = (repro_claim){id, text, NAN, v, v, v, band_lo, band_hi, reason, 0,
                          isfinite(v) ? NULL : NOT_RUN};
    SECTION[NC++] = sec;
}

static void make_claims(void)
{
    const double INF = INFINITY;
    const unsigned ALL = REPRO_ASSERT_ALL;
    /* D1 */
    claim("D1", "D1-row4-best-lsd6", "Table 6: both components together are best (NYUv2: +1.15 vs next +0.76; gap shown)",
          1.15 - 0.76, "train.d1_row4_minus_best_lsd6", 0, INF,
          "paired-seed Delta-p_STL difference of row 4 and the best other row must be > 0 (spec D1: row 4's mean highest)", 0);
    claim("D1", "D1-row4-best-lsd6eq", "the same on LSD-6-eq (derived: all rows close, nothing to balance)",
          NAN, "train.d1_row4_minus_best_lsd6-eq", 0, INF, "as D1-row4-best-lsd6", 0);
    claim("D1", "D1-row4-over-ew-lsd6", "derived: on LSD-6, EW (row 1) is dominated by task 3 and below row 4",
          1.15 + 1.78, "train.d1_row4_minus_row1_lsd6", 0, INF,
          "paired difference row 4 - row 1 > 0 (paper NYUv2: +2.93)", 0);
    claim("D1", "D1-row4-best-lsd6-sgd", "the same under SGD, each row and STL at the lr chosen for them on validation",
          NAN, "train.d1_row4_minus_best_lsd6-sgd", 0, INF, "as D1-row4-best-lsd6 (not testable when STL has no stable lr: Delta-p_STL is then undefined)", 0);
    claim("D1", "D1-row4-best-lsd6eq-sgd", "the same on LSD-6-eq under SGD (full scale; derived: all rows close, nothing to balance)",
          NAN, "train.d1_row4_minus_best_lsd6-eq-sgd", 0, INF, "as D1-row4-best-lsd6-sgd", 0);
    claim("D1", "D1-row4-over-row2-lsd6eq-sgd", "row 4 against row 2 on LSD-6-eq under SGD (each at its lr)",
          NAN, "train.d1_sgd_row4_vs_row2_lsd6-eq-sgd", 0, INF, "Delta-p of row 4 against row 2 > 0", 0);
    claim("D1", "D1-sgd-log-rows-train", "derived (spec D1: under SGD the rows differ strongly): the log rows (2 and 4) train under SGD: how many have a stable lr in the grid",
          NAN, "lrsel_lsd6-sgd.log_with_lr", 2, 2, "both log rows have a chosen lr", 0);
    claim("D1", "D1-sgd-raw-rows-diverge", "derived (D-E6: LSD-6's losses span six orders of magnitude): STL, EW and row 3 (raw losses) diverge under SGD at every lr of the grid: how many have a stable lr",
          NAN, "lrsel_lsd6-sgd.raw_with_lr", 0, 0, "none of the three", 0);
    claim("D1", "D1-row4-over-row2-lsd6-sgd", "Table 6 (row 4 above row 2 on every data set, NYUv2 +1.15 vs +0.06) under SGD: Delta-p of row 4 against row 2 (seed-paired, each at its lr)",
          1.15 - 0.06, "train.d1_sgd_row4_vs_row2_lsd6-sgd", 0, INF, "Delta-p of row 4 against row 2 > 0", 0);
    claim("D1", "D1-log-equalises-lsd6", "D-E6 (derived): on LSD-6 the log transform equalises the gradient scales: max_t / min_t of the median ||grad log l_t|| (EW run, first phase; that of ||grad l_t|| is in the table)",
          NAN, "gradnorms.d1_spread_log_row1_phase1", 1, 10,
          "within a factor 10 across tasks, against six orders of magnitude for the raw gradients", 0);
    /* D2 */
    claim_one_minus("D2", "D2-beta0-direction", "derived (spec sec. 0 a): with beta = 0 rows 3 and 4 share the shared direction; 1 - min cos over the LSD-6 states",
                    "single.d2_cos_min_beta0", 0, 1e-9, "spec D2: cos >= 1 - 1e-9", ALL);
    claim("D2", "D2-beta0-length", "derived: g~_row4 = (alpha^log / alpha^raw) g~_row3; max relative deviation",
          NAN, "single.d2_ratio_dev_beta0", 0, 1e-6,
          "the normalisers' eps = 1e-8 against gradient norms >= 1e-2 on LSD-6: <= 1e-6", ALL);
    claim_one_minus("D2", "D2-ema-direction", "derived: with beta = 0.9 the EMA makes the directions differ; 1 - median cos",
                    "single.d2_cos_median_beta09", 1e-9, INF, "any deviation beyond rounding (1e-9)", ALL);
    claim_ratio("D2", "D2-heads-explain", "derived: under Adam the heads switch explains most of row 4 - row 3 (share of the gap)",
                "train.d2_row4_minus_headsraw_lsd6", "train.d1_row4_minus_row3_lsd6", 0.5, INF,
                "'most': at least half of the paired row 4 - row 3 gap (point value, no interval)");
    /* D3 */
    claim("D3", "D3-max-best-lsd6", "Fig. 4/6: alpha_k = max is best (LSD-6, Adam)", NAN,
          "train.d3_max_minus_best_lsd6", 0, INF, "paired difference max - best other strategy > 0", 0);
    claim("D3", "D3-max-best-lsdce3", "the same on LSD-CE3 (Adam)", NAN, "train.d3_max_minus_best_lsd-ce3", 0,
          INF, "as D3-max-best-lsd6", 0);
    claim("D3", "D3-max-best-lsdce3-sgd", "the same on LSD-CE3 (SGD: alpha_k acts as a learning rate)", NAN,
          "train.d3_max_minus_best_lsd-ce3-sgd", 0, INF, "as D3-max-best-lsd6", 0);
    claim("D3", "D3-max-best-lsd6-sgd", "the same on LSD-6 under SGD, every strategy at the lr chosen for max (row 4; spec D3)", NAN,
          "train.d3_sgd_max_minus_best", 0, INF,
          "Delta-p of max against the best other strategy that trained > 0 (dbmtl_sgd.tsv; not testable when every other strategy diverged or did not run)", 0);
    claim("D3", "D3-toy2d-counterpoint", "spec D3's extra panel (Toy2D, k = 1, beta = 0, with the log transform): the spiky max-norm length slows Adam, so min and one reach the Pareto front from more of the five starts than max (the spec's numpy prototype: max 3/5, min 5/5, one 5/5): the worse of min and one minus max",
          NAN, "toy.counterpoint", 1, INF, "at least one start more (the counterpoint holds); 0 or less: max is not worse here (not testable at smoke: 5 000 of the 35 000 steps)", 0);
    claim_ratio("D3", "D3-min-dips", "derived (Sec. 3.2's argument): alpha = min collapses when one task converges; its 5th-percentile alpha_k / RMS over max's",
                "traces.d3_ratio_p05_min", "traces.d3_ratio_p05_max", 0, 1,
                "deeper dips below its recent RMS than max's (point value, LSD-6 seed 0)");
    claim_ratio("D3", "D3-min-dips-lsdce3", "the same along an LSD-CE3 run (paper scale up)",
                "traces.d3_ratio_p05_min_lsd-ce3", "traces.d3_ratio_p05_max_lsd-ce3", 0, 1,
                "as D3-min-dips (LSD-CE3 seed 0)");
    /* D4 */
    claim("D4", "D4-decay-like-zero-lsdce3", "Table 8: beta = 0.1/sqrt(k) is close to beta = 0 (Office-31: +1.05 vs +0.84)",
          1.05 - 0.84, "train.d4_decay01_minus_zero_lsd-ce3", -0.5, 0.5,
          "within +-0.5 points: Table 8's printed stds are 0.08-0.60, its decaying-vs-zero gaps 0.10-0.34", 0);
    claim("D4", "D4-const09-worse-lsdce3", "Table 8: constant beta = 0.9 is worse than beta = 0 (Office-31: -2.74 vs +0.84)",
          -2.74 - 0.84, "train.d4_const09_minus_zero_lsd-ce3", -INF, 0, "paired difference < 0", 0);
    claim("D4", "D4-decay-like-zero-lsd6", "the same on LSD-6", NAN, "train.d4_decay01_minus_zero_lsd6", -0.5, 0.5,
          "as D4-decay-like-zero-lsdce3", 0);
    claim("D4", "D4-const09-lags", "derived: constant beta = 0.9 lags behind the mini-batch gradient: median cos(g^, g) in the last phase (LSD-6)",
          NAN, "traces.d4_lag_cos_const09_phase3", 0, 0.9, "spec D4: < 0.9", 0);
    claim("D4", "D4-decay-is-no-ema", "derived: beta = 0.1/sqrt(k) is 'no EMA' for most of training: median cos(g^, g) in the last phase",
          NAN, "traces.d4_lag_cos_decay01_phase3", 0.99, 1, "beta_k < 0.01 after 100 steps: cos >= 0.99", 0);
    claim("D4", "D4-const09-lags-lsdce3", "the same along an LSD-CE3 run (paper scale up)", NAN,
          "traces.d4_lag_cos_const09_phase3_lsd-ce3", 0, 0.9, "spec D4: < 0.9", 0);
    claim("D4", "D4-decay-is-no-ema-lsdce3", "the same along an LSD-CE3 run (paper scale up)", NAN,
          "traces.d4_lag_cos_decay01_phase3_lsd-ce3", 0.99, 1, "as D4-decay-is-no-ema", 0);
    /* D5 */
    claim("D5", "D5-newton-argmin", "Prop. A.1: argmin_s e^s x - s - 1 = -log x (x = 1e-8 .. 1e8, relative to max(1, |log x|))",
          NAN, "single.d5_newton_s", 0, 1e-12, "spec D5: 1e-12", ALL);
    claim("D5", "D5-newton-min", "Prop. A.1: the minimum equals log x", NAN, "single.d5_newton_value", 0, 1e-12,
          "spec D5: 1e-12", ALL);
    claim("D5", "D5-envelope-weight", "envelope theorem: IMTL-L's weight at s* = -log(l + eps) is the log transform's 1/(l + eps) (LSD-6 states, every task)",
          NAN, "single.d5_envelope_weight", 0, 1e-12, "spec D5: 1e-12 (double)", ALL);
    claim("D5", "D5-envelope-grad", "s* is IMTL-L's stationary point: |d/ds| at s*", NAN, "single.d5_envelope_grad", 0,
          1e-12, "spec D5: 1e-12", ALL);
    claim("D5", "D5-trajectory", "Prop. A.1 along training: imtl-l-exact (s set to -log(l + eps) every step) and log-ew from one seed; the largest relative parameter distance (LSD-6)",
          NAN, "propa1.exact_max_dist", 0, 1e-6,
          "float32 network: only the last bits of the two weights differ; 1e-6 is about 10 float ulps", REPRO_ASSERT_SMOKE);
    /* D6 */
    claim("D6", "D6-learnt-s-departs", "D-E4: IMTL-L with s learnt by Adam is not the log transform: its relative parameter distance to log-ew at the end of the D5 run",
          NAN, "propa1.learnt_final_dist", 1e-3, INF, "a departure far beyond rounding (>= 1e-3)", 0);
    claim("D6", "D6-log-beats-imtll", "Fig. 2: the log transform beats IMTL-L (NYUv2: +0.06 vs -1.92)", 0.06 + 1.92,
          "train.d6_logew_minus_imtll_lsd6", 0, INF, "paired difference log-ew - imtl_l (s lr = net lr) > 0", 0);
    claim_ratio("D6", "D6-gap-shrinks", "derived (spec D6): log-ew's advantage over imtl_l shrinks as s_lr grows: (log-ew - imtl_l 100x) / (log-ew - imtl_l net lr)",
                "train.d6_logew_minus_imtll100_lsd6", "train.d6_logew_minus_imtll_lsd6", -1, 1,
                "smaller in magnitude at 100x than at the net lr (point value of seed-paired means)");
    claim("D6", "D6-exact-is-logew", "Prop. A.1 (spec D6): imtl-l-exact is log-ew: paired Delta-p difference over the sweep's seeds",
          NAN, "train.d6_exact_minus_logew_lsd6", -0.5, 0.5,
          "identical up to float rounding amplified along 6 000 steps (D5); +-0.5 points as D8's 'unchanged'", 0);
    claim("D6", "D6-exact-weights", "imtl-l-exact's applied weights are the log transform's: max over steps and tasks of |e^s (l + eps) - 1| (LSD-6 seed 0, the step's own batch losses)",
          NAN, "traces.d6_dev_max_exact", 0, 1e-12, "double rounding of exp(-log(x)) x", ALL);
    claim("D6", "D6-s-far-at-net-lr", "D-E4 (derived): at the net lr IMTL-L's s_3 stays far from -log l_3: median |s_3 + log(l_3 + eps)| over the last sixth of the run",
          NAN, "traces.d6_gap3_last_net", 1, INF,
          "at least 1: task 3's weight still off by a factor e or more from the log transform's", 0);
    claim("D6", "D6-s-moves-lr", "D-E4 (derived): under Adam s moves about lr per step whatever its gradient: mean |s_k+1 - s_k| / lr (net lr)",
          NAN, "traces.d6_move_mean_over_lr_net", 0, 1.05,
          "Adam's step is lr m^/sqrt(v^) with |m^|/sqrt(v^) <= 1 when the sign is steady; 5 % for transients", 0);
    claim_ratio("D6", "D6-s-closer-at-100x", "derived: s_3 gets closer to -log l_3 at 100x the net lr: last-sixth median gap, 100x over net lr",
                "traces.d6_gap3_last_x100", "traces.d6_gap3_last_net", 0, 1, "a smaller gap (point values, seed 0)");
    /* D7 */
    claim("D7", "D7-maxnorm-beats-gradnorm", "Fig. 3: max-norm normalisation beats GradNorm (NYUv2: +0.76 vs -1.24)",
          0.76 + 1.24, "train.d7_row3_minus_gradnorm_lsd6", 0, INF,
          "paired difference row 3 - gradnorm (asymmetry 0.12) > 0", 0);
    claim("D7", "D7-maxnorm-beats-gradnorm-lsd6-sgd", "the same under SGD on LSD-6, each at the lr chosen for it on validation",
          0.76 + 1.24, "train.d7_sgd_row3_vs_gradnorm", 0, INF,
          "Delta-p of row 3 against gradnorm (asymmetry 0.12), seed by seed, > 0 (not testable when either has no stable lr: dbmtl_lr_select_lsd6-sgd.tsv says which)", 0);
    claim("D7", "D7-row3-beta0-equal", "spec D7: with beta = 0 row 3's weighted norms w_t ||g_t|| are equal: the largest spread max_t / min_t over the sampled steps, minus 1 (all shared parameters)",
          NAN, "traces.d7_spread_max_excess_row3b0", 0, 1e-5, "eps / ||g_t|| with ||g_t|| >= 1e-3: <= 1e-5",
          REPRO_ASSERT_SMOKE);
    claim("D7", "D7-row3-near-equal", "derived: with beta_k = 0.1/sqrt(k) row 3's spread tends to 1: median over the last sixth",
          NAN, "traces.d7_spread_last_median_row3", 1, 1.01, "beta_k < 2e-3 there: within 1 %", 0);
    claim("D7", "D7-gradnorm-unequal", "Sec. 3.2: GradNorm's alternating updates never make the norms equal within a step: median spread of w_t ||g_t|| on its own layer (asymmetry 0.12)",
          NAN, "traces.d7_spread_last_layer_median_gn012", 1.1, INF,
          "at least 10 % apart at the median sampled step (row 3: 1 + O(beta_k))", 0);
    /* D8 */
    claim_one_minus("D8", "D8-invariant-onestep", "derived: IMTL-G's direction and exact Nash-MTL's update ignore the log transform; 1 - min cos",
                    "single.d8_cos_min_invariant", 0, 1e-10, "spec D8: cos = 1 - 1e-10", ALL);
    claim_one_minus("D8", "D8-others-change-onestep", "derived: PCGrad, GradVac, CAGrad, Aligned-MTL, MGDA, GradNorm change direction; 1 - the largest median cos",
                    "single.d8_cos_max_median_others", 1e-6, INF, "a change well beyond rounding", ALL);
    static const char *D8V[] = {"pcgrad", "gradvac", "cagrad", "aligned_mtl"};
    static char ids[8][64], keys[8][96], txt[8][160];
    for (int m = 0; m < 4; m++) {
        snprintf(ids[m], sizeof ids[m], "D8-gain-%s", D8V[m]);
        snprintf(keys[m], sizeof keys[m], "train.d8_gain_%s_lsd6", D8V[m]);
        snprintf(txt[m], sizeof txt[m], "Fig. 1: +log improves %s (no number printed)", D8V[m]);
        claim("D8", ids[m], txt[m], NAN, keys[m], 0, INF, "paired difference (+log) - vanilla > 0", 0);
    }
    claim("D8", "D8-imtlg-unchanged", "derived: IMTL-G +log changes only step length and heads: |gain| small (paper: large gain)",
          NAN, "train.d8_gain_imtl_g_lsd6", -0.5, 0.5,
          "+-0.5 points: the smallest gaps the paper calls improvements (Table 8)", 0);
    claim("D8", "D8-nash-unchanged", "derived: exact Nash-MTL +log changes nothing but the solver's inexactness",
          NAN, "train.d8_gain_nash_mtl_lsd6", -0.5, 0.5, "as D8-imtlg-unchanged", 0);
    claim("D8", "D8-sgd-gains-lsd6", "Fig. 1 under SGD on LSD-6 (full scale; each row at its own lr): of the six methods, how many gain from +log",
          6, "train.d8_sgd_gains", 6, 6, "all six, as the paper's 'by a large margin' for each (not testable below full scale, or when a row has no stable lr)", 0);
    /* D9 */
    claim("D9", "D9-common-factor", "derived (IMTL spec I7): GLS's weights are log-ew's times one scalar; max relative spread over tasks",
          NAN, "single.d9_common_factor_dev", 0, 1e-9, "rounding only", ALL);
    claim("D9", "D9-trajectory", "derived: gls and log-ew scaled by Lbar/T (detached) train identically; the largest relative parameter distance over the D5 run (LSD-6)",
          NAN, "propa1.gls_scaled_logew_max_dist", 0, 1e-6, "as D5-trajectory: float32 rounding", REPRO_ASSERT_SMOKE);
    claim("D9", "D9-gls-worse-classification", "Tables 3-4 vs 6: GLS is below log-only on the classification sets (Office-31: -1.63 vs +0.93)",
          -1.63 - 0.93, "train.d9_gls_minus_logew_lsd-ce3", -INF, 0, "paired difference gls - log-ew < 0 (LSD-CE3)", 0);
    /* D10 */
    claim("D10", "D10-smooth-adam", "Fig. 8: DB-MTL's losses decrease smoothly (LSD-CE3, Adam): roughness over EW's",
          NAN, "stability.d10_rough_ratio_lsd-ce3", 0, 1.5, "spec D10: <= 1.5 x EW's", 0);
    claim("D10", "D10-no-divergence-adam", "Fig. 8: DB-MTL converges (LSD-CE3, Adam): diverged runs", NAN,
          "stability.d10_div_lsd-ce3_db-mtl", 0, 0, "none may diverge", ALL);
    claim("D10", "D10-grad-decreases", "Fig. 8b: DB-MTL's gradient norms decrease: the largest per-task ||grad l_t||^2, last tenth over first tenth of the run (LSD-CE3, seed 0)",
          NAN, "gradnorms.d10_grad2_last_over_first_db-mtl", 0, 1, "a decrease: <= 1", 0);
    claim_ratio("D10", "D10-faster-than-ew", "Fig. 8: faster than EW: steps to 1.1 x STL's final loss, DB-MTL over EW",
                "stability.d10_t2thr_lsd-ce3_db-mtl", "stability.d10_t2thr_lsd-ce3_ew", 0, 1,
                "spec D10: DB-MTL's steps <= EW's");
    {
        double a = repro_summary_get("stability.d10_unstable_lsd-ce3-sep-sgd_db-mtl", NULL, NULL),
               b = repro_summary_get("stability.d10_unstable_lsd-ce3-sep-sgd_ew", NULL, NULL);
        double v = a - b;
        C[NC] = (repro_claim){"D10-sep-sgd-stress", "derived: under SGD the separable task's grad l/l makes DB-MTL spike or diverge where EW does not (divergences + spikes per run, DB-MTL minus EW)",
                              NAN, v, v, v, 1e-12, INF, "more instability than EW", 0,
                              isfinite(v) ? NULL : NOT_RUN};
        SECTION[NC++] = "D10";
    }
    /* D11 */
    claim("D11", "D11-like-imtlg", "Fig. 7: DB-MTL costs about as much as IMTL-G (exact): worst |ratio_db / ratio_imtlg - 1| over T",
          NAN, "cost.db_vs_imtlg_worst_rel", 0, 0.2, "spec D11: within +-20 %", 0);
    claim("D11", "D11-loss-level-cheap", "Fig. 7: loss-balancing methods cost about as much as EW: the largest step-time ratio",
          NAN, "cost.loss_level_max_ratio", 0, 1.05, "spec D11: <= 1.05 x EW", 0);
    /* D12 */
    claim("D12", "D12-best-lsd6", "Tables 1-5: DB-MTL is best (NYUv2: +1.15 vs next GLS +0.30)", 1.15 - 0.30,
          "train.d12_db_minus_best_lsd6", 0, INF,
          "paired difference DB-MTL - best other method > 0 (spec D12: 'tied' = partly)", 0);
    claim("D12", "D12-best-lsd6eq", "the same on LSD-6-eq", NAN, "train.d12_db_minus_best_lsd6-eq", 0, INF,
          "as D12-best-lsd6", 0);
    claim("D12", "D12-best-lsdce3", "the same on LSD-CE3 (Office-31: +1.05 vs next IGBv2 +0.56)", 1.05 - 0.56,
          "train.d12_db_minus_best_lsd-ce3", 0, INF, "as D12-best-lsd6", 0);
}

typedef struct section { const char *id, *title, *claim, *errata, *tables[6], *figs[2]; } section;
static const section SECTIONS[] = {
    {"D1", "Ablation: loss-scale x gradient-magnitude balancing (Sec. 4.4, Table 6)",
     "Table 6 (Delta-p_STL, rows neither / log only / grad-magnitude only / both): NYUv2 -1.78 / +0.06 / +0.76 / +1.15; Cityscapes -2.05 / -0.38 / +0.12 / +0.20; Office-31 -0.61 / +0.93 / +0.01 / +1.05; Office-Home -0.92 / -0.73 / -0.78 / +0.17; QM9 -146.3 / -74.40 / -65.73 / -58.10. Rows 3 and 4 use beta_k = 0.1/sqrt(k).",
     "D-E1 (eps in the log and the normaliser, as Algorithm 1), D-E6 (LSD-6 is the log transform's best case: ||grad l_t|| is proportional to l_t by construction). Under SGD (problems lsd6-sgd and lsd6-eq-sgd: momentum 0.9, weight decay 1e-4, poly lr) each row and STL run at the base lr chosen for them from {1e-5, 1e-4, 1e-3, 1e-2, 1e-1} on a validation split (the last 20 % of train, seed 0; dbmtl_lr_select_<problem>.tsv), then with the scale's seeds; rlw.md asks for a 1 000-sample split and plain SGD with momentum. Under SGD LSD-6 runs at smoke and full scale, LSD-6-eq at full scale (paper scale leaves both out to fit the hour).",
     {"dbmtl_ablation.tsv", "dbmtl_lr_select_lsd6-sgd.tsv", "dbmtl_lr_select_lsd6-eq-sgd.tsv", "dbmtl_gradscale.tsv", "dbmtl_gradscale_lsd6-sgd.tsv", "dbmtl_gradscale_lsd6-eq-sgd.tsv"}, {"dbmtl_ablation", NULL}},
    {"D2", "Where does the log transform act? (derived)",
     "No paper counterpart. With beta = 0 the shared direction sum_t u_t ignores the factor 1/l_t; the transform reaches the trunk through alpha_k, the EMA and the heads.",
     "D-E7 (with beta = 0 the direction equals GradNorm-gamma0's equilibrium). Under SGD on LSD-6 (full scale) the variants run at row 4's lr and are compared with row 4 seed by seed (dbmtl_sgd.tsv, shown under D3): STL has no stable lr there, so Delta-p_STL is undefined.",
     {"dbmtl_single.tsv", "dbmtl_decomp.tsv"}, {NULL}},
    {"D3", "Choice of alpha_k (Sec. 3.2 Fig. 4, App. C.2 Fig. 6)",
     "alpha_k = max_t ||g^_t|| is best on all five data sets (figures only, no numbers).",
     "Under Adam a constant factor in alpha_k cancels (spec D3), so the traces show alpha_k over its trailing RMS (LSD-6, and from paper scale up LSD-CE3, seed 0; the figure is LSD-6's). Under SGD on LSD-6 (full scale) every strategy runs at the lr chosen for max, as the spec asks, and is compared with max seed by seed (dbmtl_sgd.tsv). The Toy2D panel (dbmtl_toy2d.tsv) runs DB-MTL with beta = 0, alpha_k as labelled, with (log) and without (raw) the log transform, on imtl.md I12's toy at k = 1 from its five starts (Adam lr 1e-3, 35 000 steps; 'on front' = |x2 + 8.38| < 0.1 at the end).",
     {"dbmtl_alpha.tsv", "dbmtl_alpha_trace.tsv", "dbmtl_sgd.tsv", "dbmtl_toy2d.tsv"}, {"dbmtl_alpha", "dbmtl_alpha_trace"}},
    {"D4", "EMA coefficient beta (Sec. 3.2, App. B, App. C.3 Table 8)",
     "Table 8 (Office-31, Delta-p): beta = 0: +0.84; beta/sqrt(k), beta = 0.1 ... 0.9: +1.05 +0.97 +1.12 +1.18 +0.97 +1.01 +0.96 +0.94 +1.07; constant beta = 0.1 ... 0.9: +0.73 +0.06 -0.23 -0.01 -0.68 -0.76 -0.69 -0.94 -2.74.",
     "D-E2 (k counted from 1: beta_1 = beta), D-E3 (no bias correction: alpha_1 shrinks by 1 - beta_1). The lag is traced for seed 0, on LSD-6 and (from paper scale up) LSD-CE3.",
     {"dbmtl_beta.tsv", "dbmtl_ema_lag.tsv"}, {"dbmtl_beta", NULL}},
    {"D5", "Proposition A.1: log x = min_s (e^s x - s - 1) (App. A)",
     "The log transform is IMTL-L with s solved exactly at every step.",
     "D-E4 (IMTL-L's s moves <= lr per Adam step). The trajectory check runs a float32 network (mtb's), so its tolerance is float rounding, not the spec's 1e-9 of a double network; imtl-l-exact is the registered imtl_l with its learnable s overwritten before every step.",
     {"dbmtl_propA1.tsv"}, {"dbmtl_propA1", NULL}},
    {"D6", "Log transform versus IMTL-L (Sec. 3.1, Fig. 2)",
     "Log only (Table 6) vs IMTL-L (Tables 1-4): +0.06 vs -1.92; -0.38 vs -2.15; +0.93 vs -0.63; -0.73 vs -1.10.",
     "D-E4. imtl-l-exact is imtl_l:exact=true (s = -log(l + eps) before every step), in the sweep and in D5's trajectory check; the s_t traces are seed 0's, s read back from the weights e^s the trainer applied.",
     {"dbmtl_vs_imtll.tsv", "dbmtl_s_trace.tsv"}, {"dbmtl_s_trace", NULL}},
    {"D7", "Gradient-magnitude balancing versus GradNorm (Sec. 3.2, Fig. 3)",
     "Grad-magnitude only (Table 6) vs GradNorm: +0.76 vs -1.24; +0.12 vs -1.55; +0.01 vs -0.59; -0.78 vs -0.90.",
     "The spreads are seed 0's, sampled every 10 steps (smoke 5) on the step's own batch, with |w_t| (GradNorm's SLAW-code weights are not clamped to positive; the table counts negative ones). GradNorm equalises its last shared layer's norms; row 3 all shared parameters'. Under SGD on LSD-6 (full scale) every D7 row gets its own lr on validation like D1's rows (dbmtl_lr_select_lsd6-sgd.tsv) and is compared seed by seed in dbmtl_sgd.tsv (shown under D3; its rows against row 4, the claim row 3 against GradNorm).",
     {"dbmtl_vs_gradnorm.tsv", "dbmtl_spread.tsv"}, {NULL}},
    {"D8", "The log transform added to gradient-balancing methods (Sec. 3.1, Fig. 1)",
     "+log improves PCGrad (vanilla -1.57), GradVac (-1.75), IMTL-G (-1.89), CAGrad (-0.27), Nash-MTL (-1.01), Aligned-MTL (-0.98) 'by a large margin' on NYUv2; the +log values exist only in the figure.",
     "mtb's `pre=log` stage (docs/methods.md) gives every method log(l + eps) as its losses. Under SGD on LSD-6 the twelve rows, each at its own lr, run at full scale only (their selection is 60 parameter-level runs); their rows are then in dbmtl_sgd.tsv (shown under D3 and D7).",
     {"dbmtl_plus_log_onestep.tsv", "dbmtl_plus_log.tsv"}, {NULL}},
    {"D9", "GLS versus log only (consistency of two rows of the paper)",
     "GLS (Tables 1-5) vs log only (Table 6): +0.30 vs +0.06; -0.39 vs -0.38; -1.63 vs +0.93; -1.58 vs -0.73; -81.16 vs -74.40, for two methods with the same direction.",
     "The trajectory identity runs the scaled log-ew as the registered constant method (normalise=none) given (Lbar/T)/l_t before every step, for one seed (dbmtl_propA1.tsv).",
     {"dbmtl_gls.tsv"}, {"dbmtl_gls_drift", NULL}},
    {"D10", "Training stability (App. C.5, Fig. 8)",
     "DB-MTL's training losses and gradient norms decrease smoothly and converge, faster than EW (Office-31, Adam).",
     "D-E5 (Fig. 8b plots a squared norm of the raw-loss gradient: so does ours). Fig. 8b's norms come from one seed's runs trained step by step here, not from the sweep.",
     {"dbmtl_stability.tsv"}, {"dbmtl_fig8_loss", "dbmtl_fig8_grad"}},
    {"D11", "Cost per step (App. C.4, Fig. 7)",
     "DB-MTL costs about as much as the gradient-balancing methods and IMTL, more than the loss-balancing methods (no numbers printed).",
     "Timings are never asserted: a loaded machine moves them.",
     {"dbmtl_cost.tsv"}, {"dbmtl_cost", NULL}},
    {"D12", "Overall comparison (Tables 1-5: 'DB-MTL is best')",
     "DB-MTL has the best Delta-p_STL on every data set: NYUv2 +1.15 (next GLS +0.30), Cityscapes +0.20 (next MGDA -0.19), Office-31 +1.05 (next IGBv2 +0.56), Office-Home +0.17 (next Nash-MTL -0.08), QM9 -58.10 (next Nash-MTL -73.92).",
     "Every registered method with its default options (mtb's defaults follow each method's paper, docs/methods.md), DB-MTL as D1 runs it (beta 0.1/sqrt(k)), oc the oracle constant weights (not an MTL competitor). The catalogue runs at paper scale on LSD-CE3 and at full scale on LSD-6, LSD-6-eq and LSD-CE3; at smoke scale the table holds only what ran. At paper scale the catalogue has 2 seeds and DB-MTL, oc 3: the ranking is by each row's own seed mean, the claim's difference is paired on the common seeds 0 and 1.",
     {"dbmtl_all.tsv"}, {"dbmtl_all", NULL}},
};
enum { NSEC = sizeof SECTIONS / sizeof SECTIONS[0] };

/* The paper scale's reductions of the spec's grid, read from grid.c's table: which rows run
 * with 2 seeds instead of 3, which only at full scale. */
static void paper_reductions(FILE *o)
{
    fprintf(o, "**Paper scale**: the spec's protocols, 3 seeds (the paper's count; the spec "
               "asks 5) for the references and the other rows; to fit the hour, ");
    for (int pass = 0; pass < 2; pass++) {
        fprintf(o, pass ? "; full scale only: " : "2 seeds (0, 1) for ");
        int first = 1;
        for (int i = 0; i < N_GRID; i++) {
            const grid_row *g = &GRID[i];
            int hit = pass ? g->scales == S_FULL : (grid_in_scale(g->scales, REPRO_PAPER) && g->reduced);
            if (!hit)
                continue;
            /* the reduced rows on the problems the paper scale trains; the full-scale rows on
             * every problem of theirs */
            const unsigned shown = g->problems & (pass ? ~0u : grid_scale_problems(REPRO_PAPER));
            if (!shown)
                continue;
            char probs[128] = "";
            size_t u = 0;
            for (int ip = 0; ip < N_PROBLEMS; ip++)
                if (shown & PROBLEMS[ip].bit)
                    u += (size_t)snprintf(probs + u, sizeof probs - u, "%s%s", u ? "/" : "",
                                          PROBLEMS[ip].name);
            fprintf(o, "%s%s %s (%s)", first ? "" : ", ", g->exp, g->label, probs);
            first = 0;
        }
        if (!pass && CATALOGUE_REDUCED)
            fprintf(o, ", and D12's catalogue (every registered method with default options)");
    }
    /* the problems the paper scale leaves out, and D12's, from grid.c */
    const unsigned on = grid_scale_problems(REPRO_PAPER), d12 = grid_d12_problems(REPRO_PAPER);
    fprintf(o, "; problems at full scale only: ");
    for (int ip = 0, first = 1; ip < N_PROBLEMS; ip++)
        if (!(PROBLEMS[ip].bit & on)) {
            fprintf(o, "%s%s", first ? "" : ", ", PROBLEMS[ip].name);
            first = 0;
        }
    fprintf(o, "; D12's catalogue runs on ");
    for (int ip = 0, first = 1; ip < N_PROBLEMS; ip++)
        if (PROBLEMS[ip].bit & d12) {
            fprintf(o, "%s%s", first ? "" : " and ", PROBLEMS[ip].name);
            first = 0;
        }
    fprintf(o, " (the spec's are lsd6, lsd6-eq and lsd-ce3). The tables' seeds column shows "
               "each row's count.\n\n");
}

static void body(FILE *o, const char *figdir, void *ctx)
{
    const char *out = ctx;
    if (SC == REPRO_SMOKE)
        fprintf(o, "**Smoke scale**: short protocols and a reduced grid; the numbers are not the "
                   "paper scale's. The single-step identities are asserted at every scale.\n\n");
    if (SC == REPRO_PAPER)
        paper_reductions(o);
    int counts[4] = {0};
    for (int i = 0; i < NC; i++)
        counts[repro_claim_verdict(&C[i])]++;
    fprintf(o, "%d claims: %d confirmed, %d partly, %d refuted, %d not testable here.\n\n", NC,
            counts[0], counts[1], counts[2], counts[3]);
    for (int s = 0; s < NSEC; s++) {
        const section *x = &SECTIONS[s];
        fprintf(o, "## %s. %s\n\n**Paper.** %s\n\n", x->id, x->title, x->claim);
        repro_claim sc[MAXC];
        int n = 0;
        for (int i = 0; i < NC; i++)
            if (!strcmp(SECTION[i], x->id))
                sc[n++] = C[i];
        if (n)
            repro_claims_markdown(o, sc, n);
        fprintf(o, "\n");
        for (int t = 0; t < 6 && x->tables[t]; t++) {
            fprintf(o, "`%s`:\n\n", x->tables[t]);
            repro_tsv_markdown(o, out, x->tables[t]);
            fprintf(o, "\n");
        }
        for (int f = 0; f < 2 && x->figs[f]; f++)
            repro_figure(o, figdir, x->figs[f], x->title);
        fprintf(o, "**Errata and caveats.** %s\n\n", x->errata);
    }
}

int cmd_report(const char *out, const dscale *d, double wall, const char *readme,
               const char *figdir)
{
    SC = d->s;
    static const char *EXPS[] = {"single", "cost", "train", "stability", "traces", "gradnorms",
                                 "propa1", "lrsel_lsd6-sgd", "lrsel_lsd6-eq-sgd", "toy", "gradnorms_lsd6-sgd", "gradnorms_lsd6-eq-sgd"};
    for (size_t i = 0; i < sizeof EXPS / sizeof EXPS[0]; i++)
        if (repro_summary_load(out, EXPS[i]) < 0)
            die("out of memory reading the summaries");
    make_claims();
    char path[1024];
    snprintf(path, sizeof path, "%s/claims.tsv", out);
    if (repro_claims_tsv(path, C, NC))
        die("cannot write %s", path);
    /* provenance: cost.h5 and every run file of every sweep (SGD's: sgd.c) */
    enum { MAXD = 40 };
    char cost[1024], dirs[MAXD][1024];
    const char *files[1] = {cost}, *dp[MAXD];
    snprintf(cost, sizeof cost, "%s/cost.h5", out);
    int nd = 0;
    for (int ip = 0; ip < N_PROBLEMS && nd + 2 <= MAXD; ip++) /* each sweep and its -s2 */
        for (int r = 0; r < 2; r++) {
            snprintf(dirs[nd], sizeof dirs[nd], "%s/sweep_%s%s", out, PROBLEMS[ip].name,
                     r ? "-s2" : "");
            dp[nd] = dirs[nd];
            nd++;
        }
    const int n0 = nd;
    nd += sgd_sweep_dirs(out, dirs + nd, MAXD - nd);
    for (int i = n0; i < nd; i++)
        dp[i] = dirs[i];
    repro_provenance_scan prov;
    repro_provenance_scan_sweeps(&prov, files, 1, dp, nd);
    if (repro_write_report(out, "DB-MTL reproduction", PROG " report", d->s, &prov, wall, readme,
                           figdir, body, (void *)out))
        exit(1);
    int failed = repro_claims_finish(PROG, "dbmtl", C, NC, d->s);
    return failed ? 1 : 0;
}
