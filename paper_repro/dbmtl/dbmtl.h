/* dbmtl.h: repro-dbmtl, the DB-MTL reproduction (spec dbmtl.md): Lin et al., "Dual-Balancing
 * for Multi-Task Learning". Pipeline (paper_repro/dbmtl/reproduce): the single-step
 * experiments and the cost measurement are subcommands of this program; the training
 * experiments are sweeps (`mtb sweep`) of registered problems and of db_mtl's options and
 * the `pre=log` stage (docs/methods.md); `report` reads every summary and sweep back, states
 * the claims with their bands (report.c), writes report.md, the tables and claims.tsv, and
 * fails when a claim asserted at this scale is not confirmed.
 *   single  D2 D5 D8 D9  one-step identities on LSD-6 network states (single.c, states.c)
 *   cost    D11          step time against T through the trainer (cost.c, common/step_cost.h)
 *   traces  D3 D4 D6 D7  alpha_k and the EMA's lag along LSD-6 and LSD-CE3 runs (traces.c),
 *                        IMTL-L's s_t (traces_imtll.c), weighted-norm spreads (traces_spread.c)
 *   gradnorms D1 D10     per-task gradient scales along LSD-6 and LSD-CE3 runs (gradnorms.c)
 *   propa1  D5 D6        the trajectories of log-ew, imtl-l-exact and imtl-l (propa1.c)
 *   sgdsel, lrsel  D1 under SGD: the lr grid and each row's lr on validation (sgd.c)
 *   train   D1 D3 D4 D6 D7 D8 D10 D12  tables from the sweeps (train.c, stability.c)
 *   report               report.md, claims.tsv, README section (report.c) */
#ifndef DBMTL_REPRO_H
#define DBMTL_REPRO_H

#include <stdio.h>

#include "../common/repro.h"
#include "../common/summary.h"
#include "mtb/balancer.h"
#include "mtb/dataset.h"
#include "mtb/rng.h"
#include "mtb/train.h"

#define PROG "repro-dbmtl"
#define die(...) repro_die(PROG, __VA_ARGS__)

/* scale-dependent sizes */
typedef struct dscale {
    repro_scale s;
    int n_states;        /* one-step checks: LSD-6 states (spec: 100) */
    long state_every;    /* EW steps between two states */
    int cost_nT, cost_T[7], cost_warm, cost_rep, cost_steps;
    long trace_steps;    /* D3/D4 traces: LSD-6 steps per run (0: the protocol's 6 000) */
} dscale;
void dscale_get(repro_scale s, dscale *d);

/* A registered problem trained step by step (states.c): its data, network and protocol
 * (the paper scale's), a balancer (NULL: equal weights; the trainer computes parameter-level task
 * gradients either way) and the batch order of `seed`. */
enum { PNET_MAXT = 16 };
typedef struct pnet {
    mtb_dataset ds;
    mtb_model *model;
    mtb_trainer *tr;
    mtb_trainer *gtr;   /* the same model without a balancer: parameter-level task gradients */
    mtb_trainer *ltr;   /* the same, of the last shared layer only (GradNorm's scope) */
    mtb_rng order;
    size_t *idx, pos;
    float *x, *y;       /* the current batch */
    int B, head_out[PNET_MAXT];
    long step, steps;   /* steps taken; the protocol's count */
    double lr;          /* the protocol's (base) learning rate */
} pnet;
void pnet_open(pnet *n, const char *problem, mtb_balancer *bal, uint64_t seed);
void pnet_batch(pnet *n);                      /* the next batch into x, y */
/* its task count and trunk parameters (remembered for the last problem asked) */
void pnet_sizes(const char *problem, int *T, size_t *P);
/* pnet_open with the registered method:opts (dies with a message on a bad name or option);
 * returns the balancer, to free after pnet_close */
mtb_balancer *pnet_open_method(pnet *n, const char *problem, const char *method,
                               const char *opts, uint64_t seed);
void pnet_train(pnet *n, mtb_step_result *res); /* one step on the next batch */
void pnet_close(pnet *n);

/* LSD-6 network states for the one-step checks (states.c): an EW run of the registered
 * lsd6 problem (seed 0, its protocol), and at every state_every-th step the batch's T losses
 * and parameter-level task gradients G (T, P). */
typedef struct lsd6_states {
    int T, n;
    size_t P;
    double *losses; /* (n, T) */
    double *G;      /* (n, T, P) */
} lsd6_states;
void lsd6_states_make(lsd6_states *s, int n, long every);
void lsd6_states_free(lsd6_states *s);

/* An atomic text file OUT/name and a summary file, each dying with a message on failure
 * (summary.h). */
static inline FILE *out_open(const char *out, const char *name, char *path, size_t n)
{
    return repro_out_open(PROG, out, name, path, n);
}
static inline void out_close(FILE *f, const char *path) { repro_out_close(PROG, f, path); }
static inline void sum_open(repro_summary *s, const char *out, const char *exp)
{
    repro_summary_open_or_die(PROG, s, out, exp);
}
static inline void sum_close(repro_summary *s) { repro_summary_close_or_die(PROG, s); }

/* The training grid (grid.c): one row per (experiment, configuration), on a set of problems
 * and scales. */
/* P_LSD6SGD, P_LSD6EQSGD (P_SGDSEL): LSD-6 and LSD-6-eq under SGD, each row at the lr chosen
 * for it on validation (sgd.c); their runs are not one sweep of one problem but one sweep per
 * row, read back as one table */
enum { P_LSD6 = 1u, P_LSD6EQ = 2u, P_CE3 = 4u, P_CE3SEP = 8u, P_CE3SGD = 16u, P_CE3SEPSGD = 32u,
       P_LSD6SGD = 64u, P_LSD6EQSGD = 128u, P_CE3_ALL = 4u | 8u | 16u | 32u,
       P_SGDSEL = 64u | 128u };
enum { S_ALL = 7u, S_PAPER = 6u, S_FULL = 4u }; /* bit repro_scale: from that scale up */
/* reduced: at paper scale the row runs in the sweep of fewer seeds (REDUCED_SEEDS, the
 * problem's second sweep, "<problem>-s2"), to keep the paper run within the hour (README.md's
 * scale table); at smoke and full scale every row has the scale's seeds. */
/* sgd_row4_lr: on lsd6-sgd the row gets no lr selection of its own but runs at the lr chosen
 * for row 4 (dbmtl.md D3: "same lr for all A, lr chosen for max"; D2's variants of row 4
 * likewise), so that it differs from row 4 in its own switch only (sgd.c). */
typedef struct grid_row {
    const char *exp, *label, *method, *opts;
    unsigned problems, scales;
    int reduced;
    int sgd_row4_lr;
} grid_row;
/* D12's catalogue (every registered method) is in the reduced sweep at paper scale */
enum { CATALOGUE_REDUCED = 1 };
typedef struct dproblem { unsigned bit; const char *name; } dproblem;
extern const grid_row GRID[];
extern const int N_GRID;
extern const dproblem PROBLEMS[];
extern const int N_PROBLEMS;
extern const unsigned D12_PROBLEMS;
int grid_in_scale(unsigned scales, repro_scale s);
unsigned grid_d12_problems(repro_scale s); /* the problems of D12's table at this scale */
unsigned grid_scale_problems(repro_scale s); /* the problems a scale trains (PROBLEMS' bits) */
/* `problems`: the names of the scale's problems, space-separated, without (sgd = 0) or only
 * (sgd = 1) the SGD-selection ones, for the reproduce script */
int cmd_problems(repro_scale s, int sgd);
unsigned grid_problem_bit(const char *name); /* 0 when not one of PROBLEMS */
/* 1 when, at scale s, the configuration runs with the reduced seeds on the problem `bit`: paper
 * scale, and every grid row of it there is marked reduced (the SGD rows' per-row sweeps use it,
 * sgd.c; the other problems' sweeps get the same split from cmd_methods' lanes) */
int grid_reduced_on(unsigned bit, const char *method, const char *opts, repro_scale s);

/* the sweep's method arguments: lane 0 the main sweep, lane 1 the reduced-seed one (paper
 * scale only; empty elsewhere) */
int cmd_methods(const char *problem, repro_scale s, int lane);
/* the loaded sweep of problem PROBLEMS[ip] (train.c), NULL when it did not run */
struct repro_runs;
const struct repro_runs *train_runs(int ip);
/* D1 under SGD on LSD-6 (sgd.c): the selection sweep's problems, the lr choice, the rows' runs
 * at their lrs as one table of the problem "lsd6-sgd" (0, or -1 when the stage did not run),
 * and the sweep directories for the provenance scan */
int cmd_sgdsel(const char *problem, repro_scale s);
int cmd_lrsel(const char *out, const char *problem, repro_scale s);
int sgd_load(const char *out, const char *problem, struct repro_runs *r);
/* the lr a configuration ran at on lsd6-sgd (dbmtl_sgd_jobs.tsv); -1 when it did not run */
int sgd_lr_of(const char *out, const char *problem, const char *method, const char *opts,
              char *lr, size_t n);
int sgd_sweep_dirs(const char *out, char dirs[][1024], int max);
/* D10's stability measures and D9's drift from the per-step losses (stability.c) */
void stability(const char *out);
int cmd_single(const char *out, const dscale *d);
int cmd_traces(const char *out, const dscale *d);
/* D3's Toy2D panel: the alpha_k strategies on imtl.md I12's toy (toy2d.c) */
int cmd_toy(const char *out, const dscale *d);
/* the traces subcommand's D6 and D7 parts (traces_imtll.c, traces_spread.c) */
void trace_imtll(const char *out, const dscale *d, repro_summary *sum);
void trace_spread(const char *out, const dscale *d, repro_summary *sum);
/* the q-quantile of the finite values of x[a..b): the median for q = 0.5, else the lower
 * order statistic; and the median and 5th percentile at once (traces.c) */
double trace_quantile(const double *x, long a, long b, double q);
void trace_quantiles(const double *x, long a, long b, double *med, double *p05);
int cmd_gradnorms(const char *out, const dscale *d);
/* D1's gradient scales under SGD on `problem` at the rows' chosen lrs (after lrsel) */
int cmd_gradnorms_sgd(const char *out, const char *problem, const dscale *d);
int cmd_propa1(const char *out, const dscale *d);
int cmd_cost(const char *out, const dscale *d);
int cmd_train(const char *out, const dscale *d);
int cmd_report(const char *out, const dscale *d, double wall, const char *readme,
               const char *figdir);

#endif
