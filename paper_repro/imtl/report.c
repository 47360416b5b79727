/* report.c: repro-imtl's report. Reads back the experiments' summaries (summary_*.tsv) and
 * tables (imtl_*.tsv) from --out, states every claim of spec imtl.md with the paper's number,
 * ours, a band and the reason for the band (common/claim.h computes the verdict), writes
 * report.md and claims.tsv, with --readme also the "latest-run" section of
 * paper_repro/imtl/README.md, and exits 1 when a claim asserted at this scale is not
 * confirmed. The provenance comes from OUT/provenance.h5 (written by `provenance` at the
 * start of the pipeline). Nothing here is a measured number typed by hand: only the paper's
 * and the spec's values and the bands. */
#include "imtl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../common/claim.h"
#include "../common/report.h"
#include "mtb/h5.h"
#include "mtb/provenance.h"

#define MAXC 160
#define TRAINING "a training experiment, not run in this partial reproduction (README, \"What is left\")"

static double S(const char *key) { return repro_summary_get(key, NULL, NULL); }

/* claims grouped by experiment: first[e] .. first[e + 1] */
static repro_claim C[MAXC];
static int nc, first[13];
static repro_scale g_scale;

static void add(const char *id, const char *text, double paper, double v, double lo, double hi,
                double blo, double bhi, const char *reason, unsigned asserts)
{
    if (nc == MAXC)
        die("too many claims");
    C[nc++] = (repro_claim){id, text, paper, v, isnan(lo) ? v : lo, isnan(hi) ? v : hi, blo, bhi,
                            reason, asserts, "the experiment did not run at this scale"};
}

/* a value with the interval from its summary */
static void addS(const char *id, const char *text, double paper, const char *key, double blo,
                 double bhi, const char *reason, unsigned asserts)
{
    double lo, hi, v = repro_summary_get(key, &lo, &hi);
    add(id, text, paper, v, lo, hi, blo, bhi, reason, asserts);
}

static void untestable(const char *id, const char *text, double paper, const char *why)
{
    if (nc == MAXC)
        die("too many claims");
    C[nc++] = (repro_claim){id, text, paper, NAN, NAN, NAN, -INFINITY, INFINITY, "", 0, why};
}

static const unsigned ALL = REPRO_ASSERT_ALL;
static const double INF = INFINITY;

static void make_claims(void)
{
    char key[128];
    /* ---- I1 ---- */
    first[1] = nc;
    addS("I1-projections", "IMTL-G (Eq. 2) gives equal projections g·u_t: worst max_t |p_t − p̄|/|p̄| "
         "over the GE cells", NAN, "closed.worst_proj", 0, 1e-10,
         "spec I1: ≤ 1e-10 in double", ALL);
    addS("I1-sum", "Σα = 1: worst |Σα − 1|", NAN, "closed.worst_sum", 0, 1e-10, "spec I1", ALL);
    addS("I1-second-formula", "α equals the derived second formula (y = (UUᵀ)⁻¹1, α ∝ y/‖g‖): worst "
         "‖α − α_alt‖/‖α‖", NAN, "closed.worst_alt", 0, 1e-10, "spec I1", ALL);
    add("I1-degenerate", "each degenerate input (T = 1, identical tasks, T > d, a zero gradient, "
        "all zero, norms over 1e±8) gives its documented outcome: number that do",
        NAN, S("closed.degenerate_ok"), NAN, NAN, S("closed.degenerate_cases"),
        S("closed.degenerate_cases"), "all of them (table below)", ALL);
    /* ---- I2 ---- */
    first[2] = nc;
    addS("I2-counterexample", "erratum I-E1: on G = [(1,0,0); (0,1,0); (0.1,0.1,0.02)] IMTL-G's common "
         "projection is negative (spec: −0.0089), so −ηg raises every loss", -0.0089, "sign.cx_proj",
         -0.00895, -0.00885, "the spec's value to its printed digits", ALL);
    addS("I2-rescaled", "the same G with the losses scaled by (0.1, 0.1, 10): smallest projection "
         "> 0 (λ changed sign)", NAN, "sign.cxk_proj_min", 0, INF, "positive", ALL);
    addS("I2-sign-fix", "sign_fix=true on the counterexample: smallest projection > 0", NAN,
         "sign.cxfix_proj_min", 0, INF, "positive", ALL);
    addS("I2-mgda-ub", "MGDA-UB on the same G: g·g_t = ‖g‖² = +0.00062 for every t", 0.00062,
         "sign.cx_mgdaub_ip", 0.000615, 0.000625, "the spec's value to its digits", ALL);
    static const struct { int T, d; double a, p; } GE[5] = {
        {3, 5, 0.36, 0.063}, {3, 50, 5e-5, 0}, {5, 7, 0.88, 0.15}, {10, 12, 0.9998, 0.26},
        {10, 50, 0.80, 0.009}};
    for (int i = 0; i < 5; i++) {
        static char ida[5][64], ta[5][160], idp[5][64], tp[5][160];
        snprintf(ida[i], 64, "I2-neg-alpha-T%d-d%d", GE[i].T, GE[i].d);
        snprintf(ta[i], 160, "GE(%d, %d): fraction of draws with some α_t < 0 (indicative)", GE[i].T,
                 GE[i].d);
        snprintf(key, sizeof key, "sign.neg_alpha_T%d_d%d", GE[i].T, GE[i].d);
        addS(ida[i], ta[i], GE[i].a, key, GE[i].a - 0.03, GE[i].a + 0.03,
             "indicative (numpy prototype, 20 000 draws): ± 0.03", 0);
        snprintf(idp[i], 64, "I2-neg-proj-T%d-d%d", GE[i].T, GE[i].d);
        snprintf(tp[i], 160, "GE(%d, %d): fraction with a negative common projection (indicative)",
                 GE[i].T, GE[i].d);
        snprintf(key, sizeof key, "sign.neg_proj_T%d_d%d", GE[i].T, GE[i].d);
        addS(idp[i], tp[i], GE[i].p, key, fmax(0, GE[i].p - 0.02), GE[i].p + 0.02,
             "indicative: ± 0.02", 0);
    }
    {
        static const char *K[4] = {"logs.neg_lsd3c_imtl-g_feat-flat", "logs.neg_lsd3c_imtl-g_exact",
                                   "logs.neg_lsd6_imtl-g_feat-flat", "logs.neg_lsd6_imtl-g_exact"};
        double mx = NAN;
        for (int i = 0; i < 4; i++) {
            double v = S(K[i]);
            if (isfinite(v))
                mx = isfinite(mx) ? fmax(mx, v) : v;
        }
        add("I2-training", "Fig. 4: IMTL-G's α stays positive in training (T = 3): largest fraction of "
            "steps with some α_t < 0, exact and feat-flat, LSD-3C and LSD-6 (d ≫ T)", 0, mx, NAN, NAN,
            0, 0.01, "spec I2: essentially never", 0);
        addS("I2-training-T40", "spec I2: negative α possible for feat-sum when T is comparable to the "
             "feature width (mtr-hom-40: T = 40, dz = 100): fraction of steps", NAN,
             "logs.neg_mtr-hom-40_imtl-g_feat-sum", 1e-12, 1, "some steps (> 0)", 0);
        addS("I2-sign-fix-dp", "sign_fix on mtr-hom-40 (ours, not a paper claim): Δp of feat-sum with "
             "sign_fix against without, seed-paired", NAN, "logs.signfix_dp", -INF, INF,
             "reported, no band", 0);
        addS("I2-training-feat-sum", "… feat-sum on LSD-3C (spec: possible when T is comparable to the "
             "feature width; here T = 3, dz = 100)", 0, "logs.neg_lsd3c_imtl-g_feat-sum", 0, 0.01,
             "essentially never at T = 3", 0);
    }
    /* ---- I3 ---- */
    first[3] = nc;
    addS("I3-direction", "Theorem 2: loss scaling keeps the line of g: 1 − min |cos(g', g)|", NAN,
         "thm2.one_minus_cos", 0, 1e-12, "spec I3: |cos| ≥ 1 − 1e-12", ALL);
    addS("I3-lambda", "g' = λg with λ = 1/Σ(α_τ/k_τ): worst relative error", NAN, "thm2.lambda_err",
         0, 1e-10, "spec I3: 1e-10", ALL);
    addS("I3-reversal-only-mixed", "λ < 0 only where α has mixed signs: draws violating it", NAN,
         "thm2.reversal_same_sign", 0, 0, "none", ALL);
    addS("I3-as-stated", "Theorem 2 as stated (\"positive scaling does not change the direction\", sign "
         "included): largest fraction of draws per cell where it reverses (erratum I-E1)", 0,
         "thm2.max_reversal", 0, 0, "the statement allows no reversal", 0);
    addS("I3-hybrid", "hybrid IMTL's shared direction equals IMTL-G's for random s ∈ [−5, 5]^T: "
         "1 − min |cos|", NAN, "thm2.hybrid_one_minus_cos", 0, 1e-12, "spec I3", ALL);
    /* ---- I4 ---- */
    first[4] = nc;
    addS("I4-cor4", "Corollary 4: equal angles give α_t = ‖g_t‖⁻¹/Σ‖g‖⁻¹: worst relative error", NAN,
         "thm1.cor4_err", 0, 1e-10, "spec I4", ALL);
    addS("I4-lemma3", "Lemma 3: α_t > 0 under equal angles: smallest α", NAN, "thm1.min_alpha", 0, INF,
         "positive", ALL);
    addS("I4-thm1", "Theorem 1: α_t‖g_t‖ constant (GradNorm-γ0's condition): worst relative spread", NAN,
         "thm1.norm_spread", 0, 1e-10, "spec I4", ALL);
    addS("I4-c2", "common projection C2 = [(T−1)C1 + 1]/Σ‖g‖⁻¹: worst relative error", NAN,
         "thm1.c2_err", 0, 1e-10, "spec I4", ALL);
    addS("I4-gradnorm", "GradNorm's own update (γ = 0) iterated on a fixed EA set reaches IMTL-G's α: "
         "max |w − α|", NAN, "thm1.gradnorm_err", 0, 5e-3, "spec I4: 5e-3", ALL);
    addS("I4-gradnorm-library", "… and so does the registered gradnorm (alpha=0, its private Adam at "
         "lr 1e-3, renormalised): max |w/Σw − α|", NAN, "thm1.gradnorm_library_err", 0, 5e-3,
         "spec I4: 5e-3", 0);
    addS("I4-control", "negative control: ‖α_IMTL − α_GN0‖ grows with the angle perturbation δ = 1°, 5°, "
         "20° (1 = increasing)", NAN, "thm1.control_increasing", 1, 1, "increasing", ALL);
    /* ---- I5 ---- */
    first[5] = nc;
    addS("I5-kkt", "Eq. 30 equals the KKT point of min ‖αG‖² s.t. Σα = 1: worst ‖α − α_KKT‖/‖α‖", NAN,
         "mgda.kkt_err", 0, 1e-10, "spec I5: 1e-10 (both are solves of the same, sometimes "
         "ill-conditioned system; table per cell)", 0);
    addS("I5-inner-products", "g·g_t = ‖g‖² for every t: worst |g·g_t − ‖g‖²|/(‖g‖‖g_t‖)", NAN,
         "mgda.ip_err", 0, 1e-9, "rounding of the products, 1e-9", 0);
    addS("I5-constrained", "equals constrained MGDA where the closed form is inside the simplex: max "
         "|α_cf − α_MGDA|", NAN, "mgda.constrained_err", 0, 1e-10, "spec I5", ALL);
    addS("I5-slope-ub", "MGDA-UB projections ∝ 1/‖g_t‖: log-log slope within a draw (GE(5, 50))", -1,
         "mgda.slope_ub", -1 - 1e-9, -1 + 1e-9, "exactly −1", ALL);
    addS("I5-slope-mgda", "constrained MGDA also favours small gradients: slope < 0", NAN,
         "mgda.slope_mgda", -INF, 0, "negative", ALL);
    addS("I5-clamp", "two tasks with g_1·g_2 > ‖g_1‖²: MGDA returns g = g_1 (α_1)", 1,
         "mgda.clamp_alpha1", 1 - 1e-12, 1 + 1e-12, "exact", ALL);
    addS("I5-clamp-proj", "… and projects more on task 1 than on task 2: p_1 − p_2 > 0", NAN,
         "mgda.clamp_p1_minus_p2", 0, INF, "positive", ALL);
    {
        double a = S("logs.neg_lsd3c_mgda-ub_(closed_form)"), b = S("logs.neg_lsd6_mgda-ub_(closed_form)");
        double v = isfinite(a) && isfinite(b) ? fmax(a, b) : isfinite(a) ? a : b;
        add("I5-training", "Sec. 5: MGDA-UB's closed-form α is almost always positive in training: "
            "fraction of steps with some α_t < 0 (worst of LSD-3C, LSD-6)", NAN, v, NAN, NAN, 0, 0.05,
            "almost always: ≤ 5 % of the steps", 0);
    }
    untestable("I5-table1", "Table 1: MGDA with and without α ≥ 0 similar (76.95/53.19/6.296 vs "
               "76.56/53.14/6.644); closed-form α almost always positive in training", 76.95, TRAINING);
    /* ---- I6 ---- */
    first[6] = nc;
    addS("I6-exact", "App. C.3 (erratum I-E2): PCGrad's g equals αG with α = 1(I + CN): worst relative "
         "difference", NAN, "pcgrad.coef_err", 0, 1e-12, "spec I6: 1e-12", ALL);
    addS("I6-two-task", "two tasks: projections (‖g_1‖sin²φ, ‖g_2‖sin²φ) on conflict, (‖g_1‖ + "
         "‖g_2‖cos φ, ‖g_2‖ + ‖g_1‖cos φ) otherwise: worst relative error over the r grid", NAN,
         "pcgrad.two_task_err", 0, 1e-12, "exact", ALL);
    addS("I6-phi100-r5", "φ = 100°, r = 5: p_1 = 4.849", 4.849, "pcgrad.p1_phi100_r5", 4.8485, 4.8495,
         "the spec's digits", ALL);
    addS("I6-phi100-r5-p2", "φ = 100°, r = 5: p_2 = 0.970", 0.970, "pcgrad.p2_phi100_r5", 0.9695,
         0.9705, "the spec's digits", ALL);
    /* ---- I7 ---- */
    first[7] = nc;
    addS("I7-fixed-points", "fixed points: IMTL-L weighted loss 1; uw ½; uw-kendall L1 1, L2 ½, CE ½, "
         "for l ∈ {1e-3, 1, 1e3, 5.76e5}: worst |w·l − expected|", NAN, "loss.fixed_point_err", 0,
         1e-12, "Newton to 1e-14", ALL);
    static const struct { const char *k; double v; } SP[9] = {
        {"Adam_0.0007_l0.001", 10.9e3}, {"Adam_0.0007_l1000", 19.2e3}, {"Adam_0.0007_l576000", 36.6e3},
        {"Adam_0.007_l0.001", 1.2e3},   {"Adam_0.007_l1000", 8.1e3},   {"Adam_0.007_l576000", 20.9e3},
        {"SGD_0.01_l0.001", 0.9e3},     {"SGD_0.01_l1000", 0.5e3},     {"SGD_0.01_l576000", 575e3}};
    for (int i = 0; i < 9; i++) {
        static char id[9][64], tx[9][128], k2[9][96];
        snprintf(id[i], 64, "I7-speed-%s", SP[i].k);
        snprintf(tx[i], 128, "IMTL-L from s = 0: steps until |e^s l − 1| < 0.1, %s (indicative)",
                 SP[i].k);
        snprintf(k2[i], 96, "loss.steps_%s", SP[i].k);
        double tol = SP[i].v < 1e3 ? 60 : 0.06 * SP[i].v;
        addS(id[i], tx[i], SP[i].v, k2[i], SP[i].v - tol, SP[i].v + tol,
             "indicative (rounded to 0.1k): ± 6 % (± 60 steps below 1k)", 0);
    }
    addS("I7-adam-bound", "derived bound: after LSD-6's 6 000 Adam steps at 7e-4, s (task 3, l = 5.76e5) "
         "has moved ≲ 4.2, far from −13.3", -4.2, "loss.s_after_6000_adam", -4.2, 0,
         "|s| ≤ 6 000 · 7e-4", ALL);
    addS("I7-gls-weights", "GLS weights are L̄/(T l_t) (App. C.5): worst relative error", NAN,
         "loss.gls_weight_err", 0, 1e-12, "exact", ALL);
    addS("I7-gls-scale", "erratum I-E3: l_1 × 10 multiplies every effective weight by 10^(1/T): worst "
         "relative error", NAN, "loss.gls_scale_err", 0, 1e-12, "exact", ALL);
    static const struct { int T; double z, band; } GZ[4] = {{10, 0, 0}, {20, 0, 0}, {40, 0.079, 0.04},
                                                            {80, 1.0, 0}};
    for (int i = 0; i < 4; i++) {
        static char id[4][64], tx[4][160], k2[4][64];
        snprintf(id[i], 64, "I7-gls-underflow-T%d", GZ[i].T);
        snprintf(tx[i], 160, "float32 product of %d losses log-uniform on [1e-2, 1]: fraction exactly 0 "
                 "(indicative)", GZ[i].T);
        snprintf(k2[i], 64, "loss.gls_zero_T%d", GZ[i].T);
        addS(id[i], tx[i], GZ[i].z, k2[i], GZ[i].z - GZ[i].band, GZ[i].z + GZ[i].band,
             GZ[i].band > 0 ? "indicative: ± 0.04 (sampling)" : "exact at this T", 0);
    }
    addS("I7-gls-naive-fails", "gls-naive (float32 product) fails at T = 80 (NaN derivative, reported as "
         "an error): fraction of steps", 1, "loss.gls_naive_fail_T80", 1, 1, "every step", ALL);
    addS("I7-gls-log-never", "the log-domain GLS never fails at T = 80", 0, "loss.gls_fail_T80", 0, 0,
         "no step", ALL);
    addS("I7-train-net-lr", "erratum I-E5: IMTL-L at the network's lr (7e-4) never balances LSD-6 in "
         "6 000 steps: fraction of steps with every |e^s l − 1| < 0.1", 0, "logs.imtll_balanced_net", 0,
         0.05, "≈ never", 0);
    {
        double a = S("logs.imtll_balanced_100x"), b = S("logs.imtll_balanced_10x"),
               c = S("logs.imtll_balanced_net");
        if (g_scale == REPRO_SMOKE)
            untestable("I7-train-100x", "only the 100× setting approaches balance", NAN,
                       "smoke scale trains 600 of the 6 000 steps");
        else
            add("I7-train-100x", "only the 100× setting approaches balance: balanced fraction at 100× "
                "minus the larger of 10× and 1×", NAN, a - fmax(b, c), NAN, NAN, 1e-12, 1,
                "positive", 0);
    }
    addS("I7-uw-ce-bias", "Table 1 / Sec. 4: uncertainty sacrifices the classification task (74.91 vs "
         "IMTL-L 76.89 mIoU): LSD-3C t1 accuracy, uw-kendall − uw (single form), seed-paired",
         74.91 - 76.89, "compare.uwbias_kendall_minus_uw_t1_lsd3c", -INF, 0,
         "negative; a confirmation needs the interval below 0", 0);
    addS("I7-gls-sgd-lr", "erratum I-E3 (iii): under SGD, GLS on LSD-3C ×10@t1 with lr η equals GLS on "
         "LSD-3C with lr η·10^(1/3): relative parameter distance after 500 steps (smoke: 100)", NAN,
         "glslr.sgd_equivalent", 0, 1e-6, "spec I7: 1e-6 (exact arithmetic; the runs are float32)",
         0);
    add("I7-gls-sgd-lr-vs-control", "… the same distance relative to the control (×10 and ×1 at the "
        "same lr): the equivalence holds to float32 rounding", NAN,
        S("glslr.sgd_equivalent") / S("glslr.sgd_control"), NAN, NAN, 0, 1e-2,
        "at least 100 times below the control", ALL);
    addS("I7-gls-adam", "… under Adam (lr 7e-4 on both) the ×10 run equals the ×1 run up to Adam's ε: "
         "relative distance", NAN, "glslr.adam", 0, 1e-2, "small (ε effects)", 0);
    addS("I7-gls-table1", "Table 1: GLS not scale-invariant under SGD (changes 9.43 / 3.91 / 0.405): "
         "LSD-3C-SGD, the CE task ×10 at GLS's chosen lr, mean over tasks of |ΔM| / ×1 seed std",
         9.43, "sgd_gls.score_same", 1, INF, "above 1: beyond the seed spread", 0);
    /* ---- I8 ---- */
    first[8] = nc;
    static const char *M8[9] = {"EW", "GradNorm-γ0", "MGDA", "MGDA-UB", "PCGrad", "IMTL-G", "CAGrad",
                                "Nash-MTL", "Aligned-MTL"};
    for (int m = 0; m < 9; m++) {
        static char id[9][64], tx[9][128];
        snprintf(id[m], 64, "I8-%s", M8[m]);
        snprintf(tx[m], 128, "Fig. 1 configs A and B, %s: normalised projections, max |ours − spec|",
                 M8[m]);
        snprintf(key, sizeof key, "fig1.err_%d", m);
        addS(id[m], tx[m], NAN, key, 0, 1e-3, "spec I8: derived, tolerance 1e-3", ALL);
    }
    addS("I8-gradnorm-central", "caption: GradNorm favours the task nearest the mean direction "
         "(config B: task 2)", 2, "fig1.argmaxB_1", 2, 2, "argmax", ALL);
    addS("I8-mgda-smallest", "caption: MGDA favours the smallest gradient (config B: task 1)", 1,
         "fig1.argmaxB_2", 1, 1, "argmax", ALL);
    addS("I8-pcgrad-largest", "caption: PCGrad favours the largest gradient (config B: task 3)", 3,
         "fig1.argmaxB_4", 3, 3, "argmax", ALL);
    addS("I8-train-ew", "in training (LSD-6): EW favours large-gradient tasks: slope of per-task "
         "Δp_STL against log10 median ‖g_t‖", NAN, "levels.bias_slope_ew", 0, INF, "spec I8: > 0", 0);
    addS("I8-train-mgda", "… MGDA favours small-gradient tasks: slope < 0", NAN, "levels.bias_slope_mgda",
         -INF, 0, "spec I8: < 0", 0);
    addS("I8-train-pcgrad", "… PCGrad: slope > 0", NAN, "levels.bias_slope_pcgrad", 0, INF,
         "spec I8: > 0", 0);
    add("I8-train-imtlg", "… IMTL-G ≈ 0: |slope(imtl_g)| / |slope(ew)|", NAN,
        fabs(S("levels.bias_slope_imtl_g")) / fabs(S("levels.bias_slope_ew")), NAN, NAN, 0, 1,
        "smaller than EW's", 0);
    addS("I8-rho-mgdaub", "GE(5, 50): Spearman(p_t, ‖g_t‖) ≈ −1 for MGDA-UB", -1, "fig1.rho_norm_T5_3",
         -1, -0.99, "spec I8", 0);
    addS("I8-rho-mgda", "GE(5, 50): Spearman(p_t, ‖g_t‖) < 0 for MGDA", NAN, "fig1.rho_norm_T5_2", -1, 0,
         "negative", 0);
    addS("I8-rho-ew", "GE(5, 50): Spearman(p_t, ‖g_t‖) > 0 for EW", NAN, "fig1.rho_norm_T5_0", 0, 1,
         "positive", 0);
    addS("I8-rho-pcgrad", "GE(5, 50): Spearman(p_t, ‖g_t‖) > 0 for PCGrad", NAN, "fig1.rho_norm_T5_4", 0,
         1, "positive", 0);
    /* ---- I9 ---- */
    first[9] = nc;
    static const struct { const char *id, *text, *key; } I9[4] = {
        {"I9-exact-vs-flat-lsd3c", "Table 1: IMTL-G exact and feature-level similar (76.13 / 17.46 / "
         "2.979 vs 76.52 / 16.61 / 2.997): LSD-3C, Δp_STL(exact) − Δp_STL(feat-flat), seed-paired",
         "compare.i9_exact_minus_flat_lsd3c"},
        {"I9-exact-vs-sum-lsd3c", "… exact − feat-sum (LibMTL's representation gradients), LSD-3C",
         "compare.i9_exact_minus_sum_lsd3c"},
        {"I9-exact-vs-flat-lsd6", "… exact − feat-flat, LSD-6", "compare.i9_exact_minus_flat_lsd6"},
        {"I9-exact-vs-sum-lsd6", "… exact − feat-sum, LSD-6", "compare.i9_exact_minus_sum_lsd6"}};
    for (int i = 0; i < 4; i++)
        addS(I9[i].id, I9[i].text, NAN, I9[i].key, -2, 2,
             "\"similar\": within ± 2 points of Δp (ours; the spec asks for overlapping CIs)", 0);
    addS("I9-exact-spread", "exact IMTL-G's parameter-level update has equal projections on network "
         "states (LSD-3C, LSD-6, EW run): worst relative spread", NAN, "levels.exact_spread", 0, 1e-9,
         "spec I9: ≤ 1e-9", ALL);
    {
        double a = S("compare.msratio_lsd3c_imtl-g_exact"), b = S("compare.msratio_lsd3c_imtl_g");
        add("I9-cost-order", "Table 1's cost ordering: exact IMTL-G is slower than the feature level "
            "(paper: 2.769 / 1.776 s/iter = 1.56): ms/step(exact) / ms/step(feat-flat), LSD-3C", 1.56,
            a / b, NAN, NAN, 1.0, INF, "the ordering, not the ratio, is the reproducible claim", 0);
    }
    /* ---- I10 ---- */
    first[10] = nc;
    add("I10-exact-classes", "single step, ×10 on task 1: every method predicted E0, E or Q (spec) is "
        "observed so (number of such methods that are)", NAN, S("audit.exact_agree"), NAN, NAN,
        S("audit.exact_predicted"), S("audit.exact_predicted"), "all of them (identities)", ALL);
    {
        double pn = S("audit.predicted") - S("audit.exact_predicted");
        double an = S("audit.agree") - S("audit.exact_agree");
        add("I10-N-classes", "methods predicted N (not invariant) have cos < 1 − 1e-6 on ≥ 95 % of the "
            "states (number that do)", NAN, an, NAN, NAN, pn, pn, "spec I10 agreement rule, all", 0);
    }
    add("I10-train-E-floor", "training, LSD-6 with the CE task ×10 (Adam): E0/E methods change the "
        "scaled task's metric no more than the ulp control does (paired |Δ| − |Δ_ulp| not above 0; "
        "number of such methods)", NAN, S("audit_train.e_within_floor"), NAN, NAN,
        S("audit_train.e_n"), S("audit_train.e_n"), "spec I10 (derived for Adam): all", 0);
    add("I10-train-N-spread", "… N methods change it by more than the ×1 seed std (number that do)",
        NAN, S("audit_train.n_beyond_spread"), NAN, NAN, S("audit_train.n_n"), S("audit_train.n_n"),
        "spec I10: all", 0);
    {
        double n = S("audit_train.methods");
        static const struct { const char *id, *text, *key; double lo, hi; } RK[3] = {
            {"I10-train-rank-imtl-g", "Table 1: IMTL-G among the least affected: its rank / number of "
             "methods (by mean |ΔM|/seed std)", "audit_train.rank_imtl_g", 0, 0.5},
            {"I10-train-rank-imtl", "Table 1: IMTL (the hybrid) among the least affected (IMTL 0.44 / "
             "0.11 / 0.033, the smallest changes): rank / methods", "audit_train.rank_imtl", 0, 0.5},
            {"I10-train-rank-mgda", "Table 1: MGDA among the most affected (4.21 / 23.76 / 3.308): "
             "rank / methods", "audit_train.rank_mgda", 0.5, 1}};
        for (int i = 0; i < 3; i++)
            add(RK[i].id, RK[i].text, NAN, S(RK[i].key) / n, NAN, NAN, RK[i].lo, RK[i].hi,
                i < 2 ? "the lower half" : "the upper half", 0);
    }
    {
        double n3 = S("audit_train_lsd3c.methods");
        add("I10-train-lsd3c-imtl", "LSD-3C, the CE task ×10 (Adam): IMTL among the least affected "
            "(rank / methods)", NAN, S("audit_train_lsd3c.rank_imtl") / n3, NAN, NAN, 0, 0.5,
            "the lower half", 0);
        add("I10-train-lsd3c-mgda", "LSD-3C: MGDA among the most affected (rank / methods)", NAN,
            S("audit_train_lsd3c.rank_mgda") / n3, NAN, NAN, 0.5, 1, "the upper half", 0);
    }
    {
        /* the SGD profile (sgd.c): few methods at paper scale, so the rank quantile
         * (rank − ½)/n, which puts the middle rank of an odd n on neither side */
        double n = S("audit_sgd.methods");
        static const struct { const char *id, *text, *key; double lo, hi; } RS[4] = {
            {"I10-sgd-rank-imtl-g", "SGD profile (Table 1's optimiser; LSD-3C, the CE task ×10, each "
             "method at its lr chosen on validation): IMTL-G among the least affected (0.46 / 0.91 / "
             "0.023): rank quantile (rank − ½)/methods by mean |ΔM|/seed std", "audit_sgd.rank_imtl_g",
             0, 0.5},
            {"I10-sgd-rank-imtl", "… IMTL among the least affected (0.44 / 0.11 / 0.033)",
             "audit_sgd.rank_imtl", 0, 0.5},
            {"I10-sgd-rank-gls", "… GLS among the most affected under SGD (9.43 / 3.91 / 0.405; "
             "erratum I-E3: for GLS a loss scale is a learning-rate change)", "audit_sgd.rank_gls",
             0.5, 1},
            {"I10-sgd-rank-mgda", "… MGDA among the most affected (4.21 / 23.76 / 3.308; full scale)",
             "audit_sgd.rank_mgda", 0.5, 1}};
        for (int i = 0; i < 4; i++)
            add(RS[i].id, RS[i].text, NAN, (S(RS[i].key) - 0.5) / n, NAN, NAN, RS[i].lo, RS[i].hi,
                i < 2 ? "the lower half" : "the upper half", 0);
    }
    addS("I10-sgd-gls-rescaled", "erratum I-E3 under SGD: GLS with the CE task ×10 at lr 10^(−1/3) "
         "times its own changes the metrics less than at its own lr (ratio of the mean |ΔM|/seed "
         "std, both against ×1)", NAN, "sgd_gls.rescaled_over_same", 0, 1,
         "below 1 (weight decay is not rescaled, so not 0)", 0);
    /* ---- I11 ---- */
    first[11] = nc;
    addS("I11-a-imtl-vs-imtl-g", "(a) Table 1: IMTL ≥ IMTL-G (77.00 vs 76.52 mIoU): LSD-3C, "
         "Δp_STL(imtl) − Δp_STL(imtl_g), seed-paired", 0.48, "compare.a_imtl_minus_imtlg_lsd3c", 0, INF,
         "not below 0", 0);
    addS("I11-a-imtl-vs-imtl-l", "(a) IMTL ≥ IMTL-L (77.00 vs 76.89): LSD-3C, Δp_STL(imtl) − "
         "Δp_STL(imtl_l)", 0.11, "compare.a_imtl_minus_imtll_lsd3c", 0, INF, "not below 0", 0);
    addS("I11-a-imtl-vs-imtl-g-lsd6", "(a) the same on LSD-6: Δp_STL(imtl) − Δp_STL(imtl_g)", NAN,
         "compare.a_imtl_minus_imtlg_lsd6", 0, INF, "not below 0", 0);
    {
        double d1 = S("compare.b_ew_dp_task1"), d2 = S("compare.b_ew_dp_task2"),
               d3 = S("compare.b_ew_dp_task3");
        add("I11-b-ew-large-loss", "(b) uniform scaling favours large-loss tasks: LSD-6, EW's per-task "
            "Δp_STL of t3 (σ = 1000) minus the worse of t1, t2 (σ = 1, 30)", NAN, d3 - fmin(d1, d2),
            NAN, NAN, 0, INF, "positive", 0);
    }
    addS("I11-c-gradnorm", "(c) GradNorm γ = 1.5 worse than γ = 0 on the Cityscapes-like problem (52.17 "
         "vs 76.27 mIoU): LSD-3C t1 accuracy, α=1.5 − α=0, seed-paired", 52.17 - 76.27,
         "compare.c_gn15_minus_gn0_t1_lsd3c", -INF, 0, "negative", 0);
    addS("I11-d-pcgrad", "(d) PCGrad only slightly better than uniform (60.50 vs 58.99): LSD-3C Δp_EW "
         "of pcgrad", NAN, "compare.dpew_lsd3c_pcgrad", -1, 5, "slightly: −1 to +5 %", 0);
    addS("I11-e-mgda", "(e) MGDA starves the large-gradient task (ins L1 53.14 vs uniform 18.13): "
         "LSD-3C t2 MAE/σ, mgda − ew, seed-paired", 53.14 - 18.13, "compare.e_mgda_minus_ew_t2_lsd3c", 0,
         INF, "positive (worse)", 0);
    addS("I11-a-sgd", "(a) under the SGD profile (Table 1's optimiser): IMTL ≥ IMTL-G (77.00 vs 76.52 "
         "mIoU): LSD-3C, Δp_EW(imtl) − Δp_EW(imtl_g), seed-paired, each at its lr chosen on "
         "validation", 0.48, "compare_sgd.a_imtl_minus_imtlg", 0, INF, "not below 0", 0);
    addS("I11-e-sgd", "(e) under SGD: MGDA starves the large-gradient task: LSD-3C t2 MAE/σ, mgda − "
         "ew, seed-paired (full scale)", 53.14 - 18.13, "compare_sgd.e_mgda_minus_ew_t2", 0, INF,
         "positive (worse)", 0);
    /* ---- I12 ---- */
    first[12] = nc;
    const int smoke = g_scale == REPRO_SMOKE;
    const char *short_run = "smoke scale runs 5 000 of the 35 000 steps: the end points are not the "
                            "spec's";
#define TOY(id, text, paper, key, lo, hi, reason)                                                   \
    do {                                                                                           \
        if (smoke)                                                                                 \
            untestable(id, text, paper, short_run);                                                \
        else                                                                                       \
            addS(id, text, paper, key, lo, hi, reason, 0);                                         \
    } while (0)
    TOY("I12-ew-front", "EW reaches the front from 3 of 5 starts (k = 1)", 3, "toy.on_front_k1_ew", 3, 3,
        "spec I12, indicative");
    TOY("I12-mgda-front", "MGDA reaches the front from 5 of 5 starts", 5, "toy.on_front_k1_mgda", 5, 5,
        "spec I12");
    TOY("I12-mgda-x1-k1", "MGDA from start 1: x1 = −3.32 at k = 1", -3.32, "toy.x1_start1_k1_mgda",
        -3.37, -3.27, "indicative ± 0.05");
    TOY("I12-mgda-x1-k0.1", "… x1 = −1.98 at k = 0.1 (end points follow the smaller-gradient task)",
        -1.98, "toy.x1_start1_k0.1_mgda", -2.03, -1.93, "indicative ± 0.05");
    TOY("I12-mgda-x1-k10", "… x1 = −6.98 at k = 10", -6.98, "toy.x1_start1_k10_mgda", -7.03, -6.93,
        "indicative ± 0.05");
    TOY("I12-imtlg-front", "IMTL-G reaches the front from 5 of 5 starts", 5, "toy.on_front_k1_imtl-g", 5,
        5, "spec I12");
    TOY("I12-imtlg-move", "IMTL-G's end points move ≤ 0.25 in x1 across k", 0.25, "toy.max_move_imtl-g", 0,
        0.25, "spec I12");
    TOY("I12-invariant", "agreement rule: every E/E0 method (imtl-g, nash-mtl, db-mtl, log-ew, gls) "
        "moves ≤ 0.5 in x1 across k from every start reaching the front (1 = yes)", 1,
        "toy.invariant_all_within", 1, 1, "spec I12");
    TOY("I12-invariant-nosym", "the same without the symmetric start (0, 0), where rounding decides the "
        "side (1 = yes)", 1, "toy.invariant_all_within_nosym", 1, 1, "spec I12 rule minus the knife edge");
    if (smoke)
        untestable("I12-variant", "every N method moves more than 0.5 for at least one start", NAN,
                   short_run);
    else
        add("I12-variant", "every N method (ew, mgda, pcgrad, cagrad, aligned-mtl, rlw) moves more than "
            "0.5 for at least one start (number that do)", NAN, S("toy.variant_moving"), NAN, NAN,
            S("toy.n_variant"), S("toy.n_variant"), "spec I12: all", 0);
#undef TOY
    first[0] = 0;
}

static void section_claims(FILE *o, int e)
{
    int a = first[e], b = e < 12 ? first[e + 1] : nc;
    if (b > a)
        repro_claims_markdown(o, C + a, b - a);
}

static void body(FILE *o, const char *out, const char *figdir)
{
    int counts[4] = {0};
    for (int i = 0; i < nc; i++)
        counts[repro_claim_verdict(&C[i])]++;
    fprintf(o, "**Verdicts:** %d confirmed, %d partly, %d refuted, %d not testable here (of %d claims; "
               "`claims.tsv`).\n\n", counts[0], counts[1], counts[2], counts[3], nc);
    fprintf(o, "### I1. IMTL-G's closed form and its degenerate inputs\n\n");
    section_claims(o, 1);
    repro_tsv_markdown(o, out, "imtl_closed_form.tsv");
    repro_tsv_markdown(o, out, "imtl_degenerate.tsv");
    fprintf(o, "### I2. The sign of the common projection (erratum I-E1)\n\n");
    section_claims(o, 2);
    repro_tsv_markdown(o, out, "imtl_sign.tsv");
    repro_tsv_markdown(o, out, "imtl_train_sign.tsv");
    fprintf(o, "### I3. Theorem 2: invariance to loss scaling, up to sign\n\n");
    section_claims(o, 3);
    repro_tsv_markdown(o, out, "imtl_thm2.tsv");
    fprintf(o, "### I4. Theorem 1, Corollary 4, Lemma 3\n\n");
    section_claims(o, 4);
    repro_tsv_markdown(o, out, "imtl_thm1.tsv");
    repro_tsv_markdown(o, out, "imtl_thm1_control.tsv");
    fprintf(o, "### I5. MGDA's closed form and its small-gradient bias\n\n");
    section_claims(o, 5);
    repro_tsv_markdown(o, out, "imtl_mgda.tsv");
    repro_figure(o, figdir, "imtl_mgda_bias", "GE(5, 50): projection p_t against ‖g_t‖ (log-log), "
                 "MGDA-UB (slope −1 within a draw) and constrained MGDA");
    fprintf(o, "### I6. PCGrad as loss weighting\n\n");
    section_claims(o, 6);
    repro_tsv_markdown(o, out, "imtl_pcgrad.tsv");
    repro_figure(o, figdir, "imtl_pcgrad_bias", "two tasks: p_1/p_2 against r = ‖g_1‖/‖g_2‖ for φ = "
                 "60°, 100°, 150° (conflict: the line y = r)");
    fprintf(o, "### I7. UW, IMTL-L and GLS\n\n");
    section_claims(o, 7);
    repro_tsv_markdown(o, out, "imtl_fixed_points.tsv");
    repro_tsv_markdown(o, out, "imtl_imtl_l_speed.tsv");
    repro_tsv_markdown(o, out, "imtl_gls.tsv");
    repro_tsv_markdown(o, out, "imtl_imtll_train.tsv");
    repro_tsv_markdown(o, out, "imtl_gls_lr.tsv");
    fprintf(o, "### I8. The partial-training picture (Fig. 1)\n\n");
    section_claims(o, 8);
    repro_tsv_markdown(o, out, "imtl_fig1.tsv");
    repro_figure(o, figdir, "imtl_fig1", "normalised projections p_t/max p per method, configurations "
                 "A (norms 2, 3, 1) and B (0.5, 1, 3)");
    repro_tsv_markdown(o, out, "imtl_fig1_ge.tsv");
    fprintf(o, "In training (LSD-6; x: each task's median gradient norm over the batches of the EW "
               "run's checkpoints, beside the slope against the initial state's norms):\n\n");
    repro_tsv_markdown(o, out, "imtl_bias_train.tsv");
    if (S("levels.bias_blocks") > 0)
        repro_figure(o, figdir, "imtl_bias_train", "per-task Δp vs STL against log10 median ‖g_t‖, "
                     "one line per method");
    fprintf(o, "### I9. Exact versus feature-level IMTL-G\n\n");
    section_claims(o, 9);
    repro_tsv_markdown(o, out, "imtl_levels.tsv");
    fprintf(o, "(Δp and ms/step of the three levels: the I11 table below.)\n\n");
    fprintf(o, "### I10. Loss-scale audit of every method (single step)\n\n");
    section_claims(o, 10);
    repro_tsv_markdown(o, out, "imtl_scale_audit_step.tsv");
    fprintf(o, "Training (LSD-6, task 5 ×10, Adam; paired seeds; in parentheses the ulp floor, the "
               "mean |change| when the factor is the next float32 above 1):\n\n");
    repro_tsv_markdown(o, out, "imtl_scale_audit.tsv");
    char dat[1100];
    snprintf(dat, sizeof dat, "%s/audit_train.dat", out);
    FILE *probe = fopen(dat, "r");
    if (probe) {
        fclose(probe);
        repro_figure(o, figdir, "imtl_scale_audit", "|ΔM_t| / seed std per method and task, sorted "
                     "by the mean change; dashed: the ulp floor of task 5");
    }
    fprintf(o, "LSD-3C, task 1 (CE) ×10 (paper scale only):\n\n");
    repro_tsv_markdown(o, out, "imtl_scale_audit_lsd3c.tsv");
    fprintf(o, "**Under the SGD profile** (imtl.md §1, IMTL App. D: momentum 0.9, weight decay 1e-4, "
               "lr_k = lr (1 − k/K)^0.9; LSD-3C, task 1 ×10). Each method's base lr is chosen on the "
               "validation split (`@val`: the last 20 %% of the training set, held out; seed 0, ×1) by "
               "Δp against the per-task median of all selection runs, and reused unchanged for ×10 "
               "(`sgd.c`):\n\n");
    repro_tsv_markdown(o, out, "imtl_lr_select.tsv");
    repro_tsv_markdown(o, out, "imtl_scale_audit_sgd.tsv");
    fprintf(o, "### I11. Method comparison and the hybrid's complementarity\n\n");
    section_claims(o, 11);
    repro_tsv_markdown(o, out, "imtl_methods.tsv");
    fprintf(o, "Under the SGD profile (LSD-3C, test split, each method at its lr chosen on "
               "validation; Δp against SGD-EW, seed-paired):\n\n");
    repro_tsv_markdown(o, out, "imtl_methods_sgd.tsv");
    fprintf(o, "### I12. The 2-D toy across loss scales\n\n");
    section_claims(o, 12);
    repro_tsv_markdown(o, out, "imtl_toy2d.tsv");
    for (int k = 0; k < 3; k++) {
        static const char *ks[3] = {"0.1", "1", "10"};
        char stem[64], cap[128];
        snprintf(stem, sizeof stem, "imtl_toy2d_k%s", ks[k]);
        snprintf(cap, sizeof cap, "Toy2D, l_1 scaled by k = %s: trajectories from the five starts "
                 "(Pareto set in black)", ks[k]);
        repro_figure(o, figdir, stem, cap);
    }
}

/* body() as repro_write_report calls it (ctx: the output directory) */
static void body_cb(FILE *o, const char *figdir, void *ctx) { body(o, ctx, figdir); }

int cmd_report(const char *out, const iscale *r, double wall, const char *readme,
               const char *figdir)
{
    g_scale = r->s;
    static const char *EXP[] = {"closed", "sign", "thm2", "thm1",  "mgda",       "pcgrad",
                                "loss",   "fig1", "audit", "toy", "audit_train",
                                "audit_train_lsd3c", "compare", "logs", "levels", "glslr",
                                "lrsel", "audit_sgd", "sgd_gls", "compare_sgd"};
    for (size_t i = 0; i < sizeof EXP / sizeof EXP[0]; i++)
        if (repro_summary_load(out, EXP[i]) < 0)
            die("out of memory");
    make_claims();
    char path[1024];
    snprintf(path, sizeof path, "%s/claims.tsv", out);
    if (repro_claims_tsv(path, C, nc))
        die("cannot write %s", path);
    char prov_path[1024];
    snprintf(prov_path, sizeof prov_path, "%s/provenance.h5", out);
    const char *files[1] = {prov_path};
    /* and every run file of every sweep (reproduce: sweep_*; sweep_sgd/<i> one per method of
     * the SGD profile); a sweep that did not run at this scale is skipped */
    enum { NFIX = 6, NSGD = 32 };
    static const char *SW[NFIX] = {"sweep_stl", "sweep_scale", "sweep_compare", "sweep_imtll",
                                   "sweep_sign", "sweep_sgd_select"};
    static char dirs[NFIX + NSGD][1024];
    const char *dp[NFIX + NSGD];
    for (int i = 0; i < NFIX + NSGD; i++) {
        if (i < NFIX)
            snprintf(dirs[i], sizeof dirs[i], "%s/%s", out, SW[i]);
        else
            snprintf(dirs[i], sizeof dirs[i], "%s/sweep_sgd/%d", out, i - NFIX);
        dp[i] = dirs[i];
    }
    repro_provenance_scan prov;
    repro_provenance_scan_sweeps(&prov, files, 1, dp, NFIX + NSGD);
    if (repro_write_report(out, "IMTL reproduction", PROG " report", r->s, &prov, wall, readme,
                           figdir, body_cb, (void *)out))
        exit(1);
    int failed = repro_claims_finish(PROG, "imtl", C, nc, r->s);
    repro_summary_clear();
    return failed ? 1 : 0;
}

/* OUT/provenance.h5: the machine, BLAS and code version of this pipeline, for the header. */
int cmd_provenance(const char *out, const iscale *r)
{
    (void)r;
    mtb_provenance p;
    mtb_provenance_collect(&p, 1);
    char path[1024];
    snprintf(path, sizeof path, "%s/provenance.h5", out);
    mtb_error err = {0};
    mtb_h5 *h = mtb_h5_create(path, &err);
    if (!h || mtb_h5_group(h, "/provenance", &err) ||
        mtb_provenance_write(h, "/provenance", &p, &err) || mtb_h5_commit(h, &err))
        die("cannot write %s: %s", path, err.msg);
    return 0;
}
