/* rlw.h: repro-rlw, the random-weighting papers' reproduction (spec rlw.md).
 *   ICLR: Lin et al., "A Closer Look at Loss Weighting in Multi-Task Learning" (ICLR 2022
 *         submission): the distributions, Theorems 1-3, Appendix B.
 *   TMLR: Lin et al., "Reasonable Effectiveness of Random Weighting: A Litmus Test for
 *         Multi-Task Learning": RLW and RGW, Appendix A.
 * Pipeline (paper_repro/rlw/reproduce): one subcommand per experiment, each writing its
 * table (rlw_*.tsv), its plot data (*.dat) and a summary (summary_*.tsv: key, value, lo, hi)
 * into --out; then `report` reads the summaries and tables back, states the claims with
 * their bands (report.c), writes report.md and claims.tsv, and fails when a claim asserted
 * at this scale is not confirmed.
 *   moments  R1  moments of the normalised weights (moments.c)
 *   thm1     R2  Theorem 1 on quadratics, bounds, exact P-infinity (quad.c, thm1.c)
 *   thm3     R3  Theorem 3, decreasing steps (thm3.c)
 *   noise    R4  Appendix B.3 noise decomposition on quadratics, part (i) (noise.c)
 *   netnoise R4  part (ii): the same on LSD-6 and MTR-10 networks (netnoise.c)
 *   escape   R5  the "escapes sharp minima" heuristic vs matched isotropic noise (escape.c)
 *   rgw      R7  RGW's shared gradient = RLW's, through the trainer (rgw.c)
 *   cost     R8  cost per step RLW/EW through the trainer (cost.c)
 *   lsd6     R9  the LSD-6 table from the sweeps the script ran (lsd6.c, runs.c)
 *   rgwtrain R7  RLW vs RGW in training, from the same sweeps and MTR-hom-40's (rgw_train.c)
 *   speed    R6  convergence speed vs T from the speed sweep (speed.c)
 *   combo    R10 one-step check: RLW before IMTL-G / Nash-MTL leaves the direction (combo.c)
 *   combotrain R10 training: each gradient method plain and with RLW in front (combo_train.c) */
#ifndef RLW_REPRO_H
#define RLW_REPRO_H

#include <stdio.h>

#include "../common/repro.h"
#include "../common/runs.h"
#include "../common/summary.h"
#include "mtb/balancer.h"
#include "mtb/rng.h"

#define PROG "repro-rlw"
#define die(...) repro_die(PROG, __VA_ARGS__)

/* A weight distribution of rlw.md sec. 1, as the rlw method's options. fw: the point mass
 * 1/T (FW with mu = 1/T, `ew-mean`). */
typedef struct variant {
    const char *name;  /* rlw.md's name */
    const char *opts;  /* rlw's --options */
    int fw;
} variant;
enum { V_FW = 0, V_UNIFORM, V_NORMAL, V_DIRSM, V_DIRID, V_BERN, V_BERNZ, V_CBERN, V_RNONCE,
       V_RNSTEP, N_VARIANTS };
extern const variant VARIANTS[N_VARIANTS];

/* A sampler of one variant: the registered rlw method, stepped for its trunk weights. */
typedef struct wsampler {
    mtb_balancer *b;
    int T;
    double *l, *hw;
} wsampler;
void ws_init(wsampler *w, int v, int T, unsigned long long seed);
void ws_draw(wsampler *w, long step, double *lam); /* lam (T): lambda~ */
void ws_free(wsampler *w);

/* mu = E[lambda~] (T) and C = E[lambda~ lambda~^T] (T, T) by Monte Carlo over n draws
 * (exact for fw). */
void ws_moments(int v, int T, long n, unsigned long long seed, double *mu, double *C);

/* scale-dependent sizes */
typedef struct rscale {
    repro_scale s;
    long r1_draws;
    int r2_R, r2_nT, r2_T[3], r2_neta, r2_ncell; double r2_eta[3];
    long r2_moment_draws;
    int r3_R; long r3_K;
    int r4_N;
    int r5_R; long r5_K; int r5_na; double r5_a[5];
    int r8_nT, r8_T[4], r8_warm, r8_rep, r8_steps;
} rscale;
void rscale_get(repro_scale s, rscale *r);

/* summary_<exp>.tsv and the tables: the toolkit's repro_summary_* and repro_out_* (summary.h) */
/* R4's summary, the same for the quadratics (noise.c) and the networks (netnoise.c): the
 * largest |z| of the decomposition and of the tau prediction, the cells where sup RLW <
 * sup FW, the largest share of cosines above 0.99, and N; then closes s. */
void noise_summary(repro_summary *s, double worst_z, double worst_pred, int sup_fail, int cells,
                   double worst_frac, int N);
/* R6's head Adam step ratio (head_step.c): the method's head steps over EW's on the same
 * problem and seed, median over steps 100..500, mean over tasks and seeds (*seeds pairs;
 * NAN without one), and the ratio rho_Adam that R1 predicts for it (1 for EW and RGW). */
struct repro_plan;
double head_step_ratio(const struct repro_plan *p, const char *problem, const char *method,
                       const char *options, int *seeds);
double head_step_rho(const char *method, const char *options, int T);

/* the quadratic problem Q(d, T, rho, s) of rlw.md R2 (quad.c) */
typedef struct quad {
    int d, T;
    double rho, s;
    double *A;      /* (T, d, d) */
    double *a;      /* (T, d) */
    double *theta_star, *mu; /* (d), (T) */
    double c_mu, L;  /* lambda_min and lambda_max of sum mu_t A_t */
} quad;
void quad_make(quad *q, int d, int T, double rho, double s, double emin, double emax,
               unsigned long long seed, const double *mu);
void quad_free(quad *q);
/* g_t = A_t (theta - a_t) for every t into g (T, d) */
void quad_task_grads(const quad *q, const double *theta, double *g);
/* exact stationary E||theta_k - theta*||^2 of constant-step SGD with weights of mean mu and
 * second moment C (rlw.md R2): tr P from the d^2 x d^2 linear system (LAPACKE_dgesv). */
double quad_p_inf(const quad *q, double eta, const double *mu, const double *C);

int cmd_moments(const char *out, const rscale *r);
int cmd_thm1(const char *out, const rscale *r);
int cmd_thm3(const char *out, const rscale *r);
int cmd_noise(const char *out, const rscale *r);
int cmd_escape(const char *out, const rscale *r);
int cmd_rgw(const char *out, const rscale *r);
int cmd_cost(const char *out, const rscale *r);
int cmd_lsd6(const char *out, const rscale *r);
int cmd_rgwtrain(const char *out, const rscale *r);
int cmd_combo(const char *out, const rscale *r);
int cmd_combotrain(const char *out, const rscale *r);
int cmd_speed(const char *out, const rscale *r);
int cmd_netnoise(const char *out, const rscale *r);
int cmd_report(const char *out, const rscale *r, double wall, const char *readme,
               const char *figdir);

#endif
