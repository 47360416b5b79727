/* grid.c: the training grid of every experiment, in one table, so that the reproduce script
 * (which runs the sweeps: `repro-dbmtl methods --problem P --scale S` prints the sweep's
 * method arguments) and the report (which reads the run files back) can never disagree.
 * One sweep per problem holds the union of the experiments' rows on it, so a configuration
 * two experiments share (Table 6 row 4 = alpha=max of D3 = beta 0.1/sqrt(k) of D4 = DB-MTL of
 * D12) is trained once. The catalogue rows of D12 come from the method registry. */
#include "dbmtl.h"

#include <string.h>

#include "mtb/balancer.h"

/* DB-MTL as D1 runs it: beta_k = 0.1 / sqrt(k) (dbmtl.md D1; Table 8's best family) */
#define DB "beta=0.1,beta_sigma=0.5"

const grid_row GRID[] = {
    /* D1: Table 6's four rows, Adam on LSD-6 and LSD-6-eq, SGD on LSD-6 (each row at its own
     * lr, sgd.c) */
    {"D1", "row 1: neither (EW)", "ew", "", P_LSD6 | P_LSD6EQ | P_LSD6SGD, S_ALL, 0, 0},
    {"D1", "row 2: log only (log-ew)", "db_mtl", "gradnorm=false", P_LSD6 | P_LSD6EQ | P_LSD6SGD, S_ALL, 0, 0},
    {"D1", "row 3: grad-magnitude only", "db_mtl", DB ",log=false", P_LSD6 | P_LSD6EQ | P_LSD6SGD, S_ALL, 0, 0},
    {"D1", "row 4: both (DB-MTL)", "db_mtl", DB, P_LSD6 | P_LSD6EQ | P_LSD6SGD, S_ALL, 0, 0},
    /* D1 under SGD on LSD-6-eq: full scale only (the reproduce script runs lsd6-eq-sgd there;
     * its selection and seeds are about 12 minutes of a 2-core paper run) */
    {"D1", "row 1: neither (EW)", "ew", "", P_LSD6EQSGD, S_FULL, 0, 0},
    {"D1", "row 2: log only (log-ew)", "db_mtl", "gradnorm=false", P_LSD6EQSGD, S_FULL, 0, 0},
    {"D1", "row 3: grad-magnitude only", "db_mtl", DB ",log=false", P_LSD6EQSGD, S_FULL, 0, 0},
    {"D1", "row 4: both (DB-MTL)", "db_mtl", DB, P_LSD6EQSGD, S_FULL, 0, 0},
    /* D2: row 4 with the heads / alpha_k paths of the log transform switched off (under SGD
     * at row 4's lr) */
    {"D2", "row 4, heads raw", "db_mtl", DB ",heads=raw", P_LSD6 | P_LSD6SGD, S_PAPER, 1, 1},
    {"D2", "row 4, alpha from raw", "db_mtl", DB ",alpha_from=raw", P_LSD6 | P_LSD6SGD, S_PAPER, 1, 1},
    {"D2", "row 4, heads raw, alpha from raw", "db_mtl", DB ",heads=raw,alpha_from=raw", P_LSD6 | P_LSD6SGD, S_PAPER, 1, 1},
    /* D3: alpha_k strategies (max is row 4; under SGD on LSD-6 all at row 4's lr) */
    {"D3", "alpha = max", "db_mtl", DB, P_LSD6 | P_CE3 | P_CE3SGD | P_LSD6SGD, S_ALL, 0, 0},
    {"D3", "alpha = min", "db_mtl", DB ",alpha=min", P_LSD6 | P_LSD6SGD, S_PAPER, 1, 1},
    {"D3", "alpha = min", "db_mtl", DB ",alpha=min", P_CE3 | P_CE3SGD, S_PAPER, 1, 0},
    {"D3", "alpha = mean", "db_mtl", DB ",alpha=mean", P_LSD6 | P_LSD6SGD, S_PAPER, 1, 1},
    {"D3", "alpha = mean", "db_mtl", DB ",alpha=mean", P_CE3 | P_CE3SGD, S_PAPER, 1, 0},
    {"D3", "alpha = median", "db_mtl", DB ",alpha=median", P_LSD6 | P_LSD6SGD, S_PAPER, 1, 1},
    {"D3", "alpha = median", "db_mtl", DB ",alpha=median", P_CE3 | P_CE3SGD, S_PAPER, 1, 0},
    {"D3", "alpha = 1", "db_mtl", DB ",alpha=one", P_LSD6 | P_LSD6SGD, S_PAPER, 1, 1},
    {"D3", "alpha = 1", "db_mtl", DB ",alpha=one", P_CE3 | P_CE3SGD, S_PAPER, 1, 0},
    /* D4: the beta grid of App. B / Table 8, in Table 8's order (on LSD-6 at paper scale
     * only beta = 0, 0.9 and the default 0.1/sqrt(k), the claims' rows; the whole grid on
     * LSD-CE3, whose runs cost a third) */
    {"D4", "beta = 0", "db_mtl", "beta=0", P_LSD6, S_PAPER, 1, 0},
    {"D4", "beta = 0", "db_mtl", "beta=0", P_CE3, S_PAPER, 1, 0},
    {"D4", "beta = 0.1/sqrt(k)", "db_mtl", DB, P_LSD6 | P_CE3, S_ALL, 0, 0},
    {"D4", "beta = 0.5/sqrt(k)", "db_mtl", "beta=0.5,beta_sigma=0.5", P_LSD6, S_FULL, 0, 0},
    {"D4", "beta = 0.5/sqrt(k)", "db_mtl", "beta=0.5,beta_sigma=0.5", P_CE3, S_PAPER, 1, 0},
    {"D4", "beta = 0.9/sqrt(k)", "db_mtl", "beta=0.9,beta_sigma=0.5", P_LSD6, S_FULL, 0, 0},
    {"D4", "beta = 0.9/sqrt(k)", "db_mtl", "beta=0.9,beta_sigma=0.5", P_CE3, S_PAPER, 1, 0},
    {"D4", "beta = 0.1", "db_mtl", "beta=0.1", P_LSD6, S_FULL, 0, 0},
    {"D4", "beta = 0.1", "db_mtl", "beta=0.1", P_CE3, S_PAPER, 1, 0},
    {"D4", "beta = 0.5", "db_mtl", "beta=0.5", P_LSD6, S_FULL, 0, 0},
    {"D4", "beta = 0.5", "db_mtl", "beta=0.5", P_CE3, S_PAPER, 1, 0},
    {"D4", "beta = 0.9", "db_mtl", "", P_LSD6, S_PAPER, 1, 0},
    {"D4", "beta = 0.9", "db_mtl", "", P_CE3, S_PAPER, 1, 0},
    /* D6: log transform vs IMTL-L (s learnt at the net lr, 10x, 100x) */
    {"D6", "log-ew", "db_mtl", "gradnorm=false", P_LSD6, S_ALL, 0, 0},
    {"D6", "imtl_l, s lr = net lr", "imtl_l", "", P_LSD6, S_PAPER, 1, 0},
    {"D6", "imtl_l, s lr = 10x", "imtl_l", "lr=0.007", P_LSD6, S_PAPER, 1, 0},
    {"D6", "imtl_l, s lr = 100x", "imtl_l", "lr=0.07", P_LSD6, S_PAPER, 1, 0},
    {"D6", "imtl-l-exact (s = -log(l + eps) every step)", "imtl_l", "exact=true", P_LSD6, S_PAPER, 1, 0},
    {"D6", "ew", "ew", "", P_LSD6, S_ALL, 0, 0},
    /* D7: grad-magnitude balancing (row 3) vs GradNorm */
    {"D7", "row 3 (max-norm normalisation)", "db_mtl", DB ",log=false", P_LSD6 | P_LSD6SGD, S_ALL, 0, 0},
    {"D7", "gradnorm, asymmetry 0", "gradnorm", "alpha=0", P_LSD6 | P_LSD6SGD, S_PAPER, 1, 0},
    {"D7", "gradnorm, asymmetry 0.12", "gradnorm", "", P_LSD6 | P_LSD6SGD, S_PAPER, 1, 0},
    {"D7", "gradnorm, asymmetry 1.5", "gradnorm", "alpha=1.5", P_LSD6 | P_LSD6SGD, S_PAPER, 1, 0},
    {"D7", "gradnorm, all shared parameters", "gradnorm", "layer=all", P_LSD6 | P_LSD6SGD, S_PAPER, 1, 0},
    /* D8: Fig. 1's methods with and without the log transform in front (pre=log); at paper
     * scale the two the spec predicts invariant (IMTL-G, exact Nash-MTL) and two that are not
     * (PCGrad, CAGrad), GradVac and Aligned-MTL from full scale */
    {"D8", "pcgrad", "pcgrad", "", P_LSD6, S_PAPER, 1, 0},
    {"D8", "pcgrad +log", "pcgrad", "pre=log", P_LSD6, S_PAPER, 1, 0},
    {"D8", "gradvac", "gradvac", "", P_LSD6, S_FULL, 1, 0},
    {"D8", "gradvac +log", "gradvac", "pre=log", P_LSD6, S_FULL, 1, 0},
    {"D8", "imtl_g", "imtl_g", "level=param", P_LSD6, S_PAPER, 1, 0},
    {"D8", "imtl_g +log", "imtl_g", "level=param,pre=log", P_LSD6, S_PAPER, 1, 0},
    {"D8", "cagrad", "cagrad", "", P_LSD6, S_PAPER, 1, 0},
    {"D8", "cagrad +log", "cagrad", "pre=log", P_LSD6, S_PAPER, 1, 0},
    {"D8", "nash_mtl", "nash_mtl", "", P_LSD6, S_PAPER, 1, 0},
    {"D8", "nash_mtl +log", "nash_mtl", "pre=log", P_LSD6, S_PAPER, 1, 0},
    {"D8", "nash_mtl (LibMTL-like)", "nash_mtl", "max_iter=20,max_norm=1", P_LSD6, S_FULL, 1, 0},
    {"D8", "nash_mtl (LibMTL-like) +log", "nash_mtl", "max_iter=20,max_norm=1,pre=log", P_LSD6, S_FULL, 1, 0},
    {"D8", "aligned_mtl", "aligned_mtl", "", P_LSD6, S_FULL, 1, 0},
    {"D8", "aligned_mtl +log", "aligned_mtl", "pre=log", P_LSD6, S_FULL, 1, 0},
    {"D8", "mgda (extra)", "mgda", "", P_LSD6, S_FULL, 1, 0},
    {"D8", "mgda +log (extra)", "mgda", "pre=log", P_LSD6, S_FULL, 1, 0},
    /* D8 under SGD on LSD-6, every row at its own lr (sgd.c): full scale only (its selection
     * alone is 60 parameter-level runs) */
    {"D8", "pcgrad", "pcgrad", "", P_LSD6SGD, S_FULL, 0, 0},
    {"D8", "pcgrad +log", "pcgrad", "pre=log", P_LSD6SGD, S_FULL, 0, 0},
    {"D8", "gradvac", "gradvac", "", P_LSD6SGD, S_FULL, 0, 0},
    {"D8", "gradvac +log", "gradvac", "pre=log", P_LSD6SGD, S_FULL, 0, 0},
    {"D8", "imtl_g", "imtl_g", "level=param", P_LSD6SGD, S_FULL, 0, 0},
    {"D8", "imtl_g +log", "imtl_g", "level=param,pre=log", P_LSD6SGD, S_FULL, 0, 0},
    {"D8", "cagrad", "cagrad", "", P_LSD6SGD, S_FULL, 0, 0},
    {"D8", "cagrad +log", "cagrad", "pre=log", P_LSD6SGD, S_FULL, 0, 0},
    {"D8", "nash_mtl", "nash_mtl", "", P_LSD6SGD, S_FULL, 0, 0},
    {"D8", "nash_mtl +log", "nash_mtl", "pre=log", P_LSD6SGD, S_FULL, 0, 0},
    {"D8", "aligned_mtl", "aligned_mtl", "", P_LSD6SGD, S_FULL, 0, 0},
    {"D8", "aligned_mtl +log", "aligned_mtl", "pre=log", P_LSD6SGD, S_FULL, 0, 0},
    /* D9: GLS vs log only */
    {"D9", "gls", "gls", "", P_LSD6, S_PAPER, 1, 0},
    {"D9", "gls", "gls", "", P_CE3, S_ALL, 0, 0},
    {"D9", "log-ew", "db_mtl", "gradnorm=false", P_LSD6 | P_CE3, S_ALL, 0, 0},
    /* D10: stability, Adam and SGD, LSD-CE3 and the separable stress problem */
    {"D10", "ew", "ew", "", P_CE3_ALL, S_ALL, 0, 0},
    {"D10", "db-mtl", "db_mtl", DB, P_CE3_ALL, S_ALL, 0, 0},
    {"D10", "log-ew", "db_mtl", "gradnorm=false", P_CE3_ALL, S_ALL, 0, 0},
    /* D12: DB-MTL as D1 runs it; the catalogue's rows come from the registry (cmd_methods) */
    {"D12", "DB-MTL", "db_mtl", DB, P_LSD6 | P_LSD6EQ | P_CE3, S_ALL, 0, 0},
};
const int N_GRID = sizeof GRID / sizeof GRID[0];

const dproblem PROBLEMS[] = {
    {P_LSD6, "lsd6"},
    {P_LSD6EQ, "lsd6-eq"},
    {P_CE3, "lsd-ce3"},
    {P_CE3SEP, "lsd-ce3-sep"},
    {P_CE3SGD, "lsd-ce3-sgd"},
    {P_CE3SEPSGD, "lsd-ce3-sep-sgd"},
    {P_LSD6SGD, "lsd6-sgd"}, /* the rows' methods: `methods --problem lsd6-sgd` (sgd.c) */
    {P_LSD6EQSGD, "lsd6-eq-sgd"},
};
const int N_PROBLEMS = sizeof PROBLEMS / sizeof PROBLEMS[0];

/* D12 runs on these (dbmtl.md D12: LSD-6, LSD-6-eq, LSD-CE3, Adam) */
const unsigned D12_PROBLEMS = P_LSD6 | P_LSD6EQ | P_CE3;

int grid_in_scale(unsigned scales, repro_scale s) { return (scales >> s) & 1u; }

unsigned grid_problem_bit(const char *name)
{
    for (int i = 0; i < N_PROBLEMS; i++)
        if (!strcmp(PROBLEMS[i].name, name))
            return PROBLEMS[i].bit;
    return 0;
}

/* The sweep's method arguments for one problem: stl (where a Delta-p uses it) and ew (the
 * references, in the main sweep, whose seeds include the reduced sweep's), the grid rows on
 * this problem at this scale (each configuration once, in the main sweep when any row of it is
 * there), and on the problems of D12's catalogue at this scale oc and every registered method
 * with its default options. Lane 0: the main sweep; lane 1: the reduced-seed sweep (rows marked
 * reduced, and the catalogue, at paper scale). One argument per line, for the script's word
 * splitting; nothing for an empty lane. */
/* The problems each scale trains. Paper scale (the committed report, within the hour on a
 * 2-core machine) leaves LSD-6-eq and everything under SGD on LSD-6 (the per-row lr selection)
 * to full scale: on a 2-core AMD EPYC Zen 4 the whole grid took about 90 minutes, and those
 * two, with D12's catalogue on LSD-6, were a third of it. Smoke keeps LSD-6 under SGD for its
 * plumbing. */
unsigned grid_scale_problems(repro_scale s)
{
    switch (s) {
    case REPRO_SMOKE: return P_LSD6 | P_CE3 | P_CE3SEPSGD | P_LSD6SGD;
    case REPRO_PAPER: return P_LSD6 | P_CE3 | P_CE3SEP | P_CE3SGD | P_CE3SEPSGD;
    default: return P_LSD6 | P_LSD6EQ | P_CE3 | P_CE3SEP | P_CE3SGD | P_CE3SEPSGD | P_SGDSEL;
    }
}

int cmd_problems(repro_scale s, int sgd)
{
    const unsigned on = grid_scale_problems(s);
    int first = 1;
    for (int i = 0; i < N_PROBLEMS; i++)
        if ((PROBLEMS[i].bit & on) && !(PROBLEMS[i].bit & P_SGDSEL) == !sgd) {
            printf("%s%s", first ? "" : " ", PROBLEMS[i].name);
            first = 0;
        }
    printf("\n");
    return 0;
}

/* the problems of D12's table at this scale: the spec's three at full scale; at paper scale
 * LSD-CE3, whose runs cost about a third of LSD-6's (the catalogue on LSD-6 alone was a
 * sixth of the hour). The catalogue itself runs from paper scale up; at smoke the table holds
 * what ran. */
unsigned grid_d12_problems(repro_scale s)
{
    return s == REPRO_FULL ? D12_PROBLEMS : P_CE3;
}

/* the SGD problems have one lane: their rows are selected and run one sweep each (sgd.c),
 * with the seeds grid_reduced_on gives them */
static int row_lane(const grid_row *r, repro_scale s, unsigned bit)
{
    return s == REPRO_PAPER && r->reduced && !(bit & P_SGDSEL);
}

int grid_reduced_on(unsigned bit, const char *method, const char *opts, repro_scale s)
{
    int any = 0;
    for (int i = 0; i < N_GRID; i++) {
        const grid_row *r = &GRID[i];
        if (!(r->problems & bit) || !grid_in_scale(r->scales, s) || strcmp(r->method, method) ||
            strcmp(r->opts, opts))
            continue;
        if (!r->reduced)
            return 0; /* a row of full seeds shares the configuration */
        any = 1;
    }
    return s == REPRO_PAPER && any;
}

int cmd_methods(const char *problem, repro_scale s, int lane)
{
    unsigned bit = 0;
    for (int i = 0; i < N_PROBLEMS; i++)
        if (!strcmp(PROBLEMS[i].name, problem))
            bit = PROBLEMS[i].bit;
    if (!bit)
        die("methods: '%s' is not one of this reproduction's problems", problem);
    const int cat_lane = s == REPRO_PAPER && CATALOGUE_REDUCED;
    /* stl only where a Delta-p or D10's threshold uses it: not for a problem that only D10's
     * instability counts run on at this scale */
    const unsigned d12 = s == REPRO_SMOKE ? 0u : grid_d12_problems(s);
    int need_stl = (bit & d12) != 0;
    for (int i = 0; i < N_GRID; i++)
        if ((GRID[i].problems & bit) && grid_in_scale(GRID[i].scales, s) &&
            (strcmp(GRID[i].exp, "D10") || (bit & P_CE3)))
            need_stl = 1;
    /* the main lane's configurations first (a configuration in both lanes is trained there) */
    char seen[160][600];
    int ns = 0, lane_of[160];
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; i < N_GRID; i++) {
            const grid_row *r = &GRID[i];
            if (!(r->problems & bit) || !grid_in_scale(r->scales, s) || row_lane(r, s, bit) != pass)
                continue;
            if ((bit & P_SGDSEL) && r->sgd_row4_lr)
                continue; /* no selection of its own: it runs at row 4's lr (sgd.c) */
            char arg[600];
            snprintf(arg, sizeof arg, "%s%s%s", r->method, r->opts[0] ? ":" : "", r->opts);
            int dup = !strcmp(arg, "ew");
            for (int k = 0; k < ns && !dup; k++)
                dup = !strcmp(seen[k], arg);
            if (dup || ns == 160)
                continue;
            lane_of[ns] = pass;
            snprintf(seen[ns++], sizeof seen[0], "%s", arg);
        }
    if (lane == 0) /* the references: every seed */
        printf("--methods\n%sew%s\n", need_stl ? "stl," : "", (bit & d12) ? ",oc" : "");
    for (int k = 0; k < ns; k++)
        if (lane_of[k] == lane)
            printf("--method\n%s\n", seen[k]);
    if ((bit & d12) && lane == cat_lane)
        for (int i = 0; mtb_balancer_types[i]; i++) {
            const char *n = mtb_balancer_types[i]->name;
            int dup = !strcmp(n, "ew") || !strcmp(n, "constant"); /* constant = oc */
            for (int k = 0; k < ns && !dup; k++)
                dup = !strcmp(seen[k], n);
            if (!dup)
                printf("--method\n%s\n", n);
        }
    return 0;
}
